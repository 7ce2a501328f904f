//! The application state and the frame: menu, workspace tree (left), plots
//! (centre), parameters (right), log and jobs (bottom).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use egui::{Color32, RichText, Ui};

use super::fit::{FitAction, FitPanel, is_feff_path_file, is_fit_model};
use super::history::History;
use super::jobs::{self, Job, Level, LoadJob, Log};
use super::params::{MuChoice, ParamAction, ParamPanel};
use super::plots::{PlotAction, PlotPanel, PlotTab, Series, series};
use super::recent::{RecentFiles, RecentKind};
use super::tasks::{Task, Tasks, take_answer};
use super::workspace::{ItemData, Modality, Workspace};
use super::xrd::{XrdAction, XrdPanel, is_xrd_file, load_pattern};
use crate::xas::ChainParams;

/// The bundled demo session (sample_data/, sources in its README). Compiled
/// into the binary so the demo works wherever the program is installed.
const DEMO_FILES: [(&str, &[u8]); 6] = [
    (
        "feo_rt1.xdi",
        include_bytes!("../../sample_data/feo_rt1.xdi"),
    ),
    (
        "fe2o3_rt1.xmu",
        include_bytes!("../../sample_data/fe2o3_rt1.xmu"),
    ),
    (
        "cu_metal_rt.xdi",
        include_bytes!("../../sample_data/cu_metal_rt.xdi"),
    ),
    // The XRD view's demo: a pattern Carto computed from the two CIFs.
    (
        DEMO_PATTERN,
        include_bytes!("../../sample_data/feo_fe2o3_cuka_simulated.xy"),
    ),
    (
        "wustite_amcsd18048.cif",
        include_bytes!("../../sample_data/wustite_amcsd18048.cif"),
    ),
    (
        "hematite_amcsd17731.cif",
        include_bytes!("../../sample_data/hematite_amcsd17731.cif"),
    ),
];

/// The demo's powder pattern (simulated; see sample_data/README.md).
const DEMO_PATTERN: &str = "feo_fe2o3_cuka_simulated.xy";
/// Demo files that are CIF phases of the XRD view, not spectra.
const DEMO_CIFS: [&str; 2] = ["wustite_amcsd18048.cif", "hematite_amcsd17731.cif"];

/// Everything the app holds. Panels draw it; carto::io / carto::xas compute.
pub struct CartoApp {
    pub workspace: Workspace,
    pub plots: PlotPanel,
    pub params: ParamPanel,
    pub tree: TreePanel,
    /// The Fit view (feffit models).
    pub fit: FitPanel,
    /// The XRD view (measured powder patterns, phases, quantification).
    pub xrd: XrdPanel,
    /// What the centre of the window shows.
    pub view: View,
    pub log: Log,
    /// Every background task; `busy()`, repaints and the log bar read it.
    pub tasks: Tasks,
    pub job: Option<Job>,
    /// Files being read in the background (dropped or picked in File ▸ Open).
    pub loads: Vec<LoadJob>,
    /// A file dialog (on its own thread) and what it picked.
    dialog: Option<Task<Picked>>,
    /// The session file Save writes to (set by Open session / Save as).
    pub session_path: Option<PathBuf>,
    /// Where the recovery file and the crash marker live (None: no autosave).
    pub state_dir: Option<PathBuf>,
    pub last_autosave: std::time::Instant,
    /// A recovery file from a run that did not exit cleanly, offered once.
    pub recovery_offer: Option<PathBuf>,
    /// Undo and redo of the Spectra workspace.
    pub history: History,
    /// A session being opened in the background.
    pub session_load: Option<super::persist::SessionLoad>,
    /// Align or rebin of many spectra on a worker thread.
    pub edit_job: Option<super::ops::EditJob>,
    /// The undo label of the running align or rebin.
    pub(crate) edit_job_label: String,
    /// File ▸ Open recent (saved in `state_dir` when there is one).
    pub recent: RecentFiles,
    /// File ▸ Export plot as PNG, waiting for its screenshot.
    pub png_export: Option<PngExport>,
}

/// An export of the plot as PNG: the window's screenshot is asked for on
/// the next frame and arrives a frame or two later (never, without a
/// renderer that reads pixels back: then it gives up after
/// [`PNG_EXPORT_TIMEOUT`]).
#[derive(Debug)]
pub struct PngExport {
    pub path: PathBuf,
    /// When the export was asked for (the timeout counts from here).
    pub started: std::time::Instant,
    /// The screenshot was asked for.
    pub requested: bool,
    /// Where the screenshot lands (filled by egui's callback).
    pub image: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
}

/// How long File ▸ Export plot as PNG waits for the screenshot.
pub const PNG_EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What the window shows: spectra (tree, plots, parameters), a fit, or
/// powder diffraction patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Spectra,
    Fit,
    Xrd,
}

/// The answer of a file dialog.
enum Picked {
    OpenModel(Option<PathBuf>),
    SaveModel(Option<PathBuf>),
    AddPaths(Vec<PathBuf>),
    SaveReport(Option<PathBuf>),
    Open(Vec<PathBuf>),
    AddCifs(Vec<PathBuf>),
    CandidateDir(Option<PathBuf>),
    QuantDir(Option<PathBuf>),
    OpenSession(Option<PathBuf>),
    SaveSession(Option<PathBuf>),
    ExportCsv(Option<PathBuf>),
    ExportWide(Option<PathBuf>),
    ExportSvg(Option<PathBuf>),
    ExportPng(Option<PathBuf>),
}

/// The bytes of a demo file by name (sessions refer to them as `builtin:NAME`).
pub fn builtin_bytes(name: &str) -> Option<&'static [u8]> {
    DEMO_FILES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

impl Default for CartoApp {
    fn default() -> Self {
        Self::new()
    }
}

impl CartoApp {
    pub fn new() -> Self {
        let tasks = Tasks::default();
        let mut fit = FitPanel::default();
        fit.tasks = tasks.clone();
        let mut xrd = XrdPanel::default();
        xrd.tasks = tasks.clone();
        CartoApp {
            workspace: Workspace::default(),
            plots: PlotPanel::default(),
            params: ParamPanel,
            tree: TreePanel::default(),
            fit,
            xrd,
            view: View::default(),
            log: Log::default(),
            tasks,
            job: None,
            loads: Vec::new(),
            dialog: None,
            session_path: None,
            state_dir: None,
            last_autosave: std::time::Instant::now(),
            recovery_offer: None,
            history: History::default(),
            session_load: None,
            edit_job: None,
            edit_job_label: String::new(),
            recent: RecentFiles::default(),
            png_export: None,
        }
    }

    /// The demo session: two iron oxides selected for overlay, Cu foil beside.
    pub fn demo() -> Self {
        let mut app = Self::new();
        let ids = app.load_builtin();
        app.workspace.select_only(&ids[..ids.len().min(2)]);
        app.history.reset(&app.workspace);
        app.log.info(format!(
            "demo session: {} spectra from sample_data/ (File ▸ Open or drop files to add yours)",
            ids.len()
        ));
        app
    }

    /// Add the demo's spectra (returns their ids) and its XRD pattern with
    /// the two phases.
    fn load_builtin(&mut self) -> Vec<u64> {
        let mut ids = Vec::new();
        let builtin = |name: &str| format!("{}{name}", crate::session::BUILTIN_PREFIX);
        for (name, bytes) in DEMO_FILES {
            if name == DEMO_PATTERN {
                match super::xrd::parse_pattern(bytes, std::path::Path::new(&builtin(name))) {
                    Ok(p) => {
                        let id = self.xrd.add(p);
                        if let Some(e) = self.xrd.entry_mut(id) {
                            // A Kα name gives the broadened phases their doublet.
                            e.wavelength_text = "CuKa".into();
                            e.name = name.trim_end_matches(".xy").to_string();
                            e.analyse();
                        }
                        self.xrd.select_only(&[id]);
                    }
                    Err(e) => self.log.error(e),
                }
                continue;
            }
            if DEMO_CIFS.contains(&name) {
                let path = PathBuf::from(builtin(name));
                self.xrd.add_cifs(&[path], &mut self.log);
                continue;
            }
            match self.workspace.load_bytes(bytes, name) {
                Ok(new) => {
                    for &id in &new {
                        if let Some(item) = self.workspace.item_mut(id) {
                            item.file = format!("{}{name}", crate::session::BUILTIN_PREFIX);
                        }
                    }
                    ids.extend(new);
                }
                Err(e) => self.log.error(e),
            }
        }
        ids
    }

    /// Open files now, on this thread (start-up and tests; the window uses
    /// [`Self::open_in_background`]). An unreadable file is reported in the
    /// log, never fatal. Folders open the files directly inside them. Newly
    /// opened spectra are selected.
    pub fn open_paths(&mut self, paths: &[PathBuf]) {
        let paths = self.take_fit_models(paths.to_vec(), None);
        let paths = self.take_cifs(paths);
        let mut new = Vec::new();
        let mut patterns = Vec::new();
        for top in &paths {
            let mut opened = false;
            for path in expand_folders(std::slice::from_ref(top), &mut self.log) {
                if is_xrd_file(&path) {
                    match load_pattern(&path) {
                        Ok(p) => {
                            self.log.info(format!(
                                "opened {} (XRD pattern, {} points)",
                                path.display(),
                                p.pattern.npts()
                            ));
                            patterns.push(self.xrd.add(p));
                            opened = true;
                        }
                        Err(e) => self.log.error(e),
                    }
                    continue;
                }
                match self.workspace.load_file(&path) {
                    Ok(ids) => {
                        self.log
                            .info(format!("opened {} ({} item(s))", path.display(), ids.len()));
                        new.extend(ids);
                        opened = true;
                    }
                    Err(e) => self.log.error(e),
                }
            }
            if opened {
                self.note_recent(top, RecentKind::Data);
            }
        }
        if !new.is_empty() {
            self.workspace.select_only(&new);
        }
        if !patterns.is_empty() {
            self.xrd.select_only(&patterns);
            if new.is_empty() {
                self.view = View::Xrd;
            }
        }
    }

    /// Open files and folders on a worker thread; items appear as they are
    /// read and are selected when all are in.
    pub fn open_in_background(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        let paths = self.take_fit_models(paths, Some(ctx.clone()));
        let paths = self.take_cifs(paths);
        if paths.is_empty() {
            return;
        }
        // The view follows what the files hold (see `logic`); leave the
        // Fit view at once, as before.
        if self.view == View::Fit {
            self.view = View::Spectra;
        }
        self.loads
            .push(jobs::start_loading(&self.tasks, paths, Some(ctx.clone())));
    }

    /// CIF files among `paths` become phases of the XRD view (shown over
    /// its active pattern); the rest is returned.
    fn take_cifs(&mut self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        let (cifs, rest): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| {
            p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cif"))
        });
        if !cifs.is_empty() {
            self.xrd.add_cifs(&cifs, &mut self.log);
            self.view = View::Xrd;
        }
        rest
    }

    /// Open the fit model files among `paths` in the Fit view (in the
    /// background; the last one wins) and return the rest.
    fn take_fit_models(&mut self, paths: Vec<PathBuf>, ctx: Option<egui::Context>) -> Vec<PathBuf> {
        let (models, rest): (Vec<PathBuf>, Vec<PathBuf>) =
            paths.into_iter().partition(|p| is_fit_model(p));
        if let Some(m) = models.last() {
            if models.len() > 1 {
                self.log
                    .warn(format!("one fit model at a time: opening {}", m.display()));
            }
            self.open_fit_model(m.clone(), ctx);
        }
        rest
    }

    /// While the Fit view shows a model, dropped FEFF path files
    /// (`feff*.dat`) and folders holding them become paths of the dataset
    /// on show; the rest is returned (opened as usual).
    pub fn take_feff_paths(&mut self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        if self.view != View::Fit || self.fit.model.is_none() || paths.is_empty() {
            return paths;
        }
        let (feff, rest): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|p| {
            if p.is_dir() {
                jobs::list_folder(p).is_ok_and(|f| f.iter().any(|x| is_feff_path_file(x)))
            } else {
                is_feff_path_file(p)
            }
        });
        if !feff.is_empty() {
            self.fit.add_paths(&feff, &mut self.log);
        }
        rest
    }

    /// Open a fit model file (TOML) in the Fit view, on a worker thread.
    pub fn open_fit_model(&mut self, path: PathBuf, ctx: Option<egui::Context>) {
        self.fit.open_model(path, ctx);
        self.view = View::Fit;
    }

    /// True while a background task runs or a spectrum or a live fit
    /// waits for one.
    pub fn busy(&self) -> bool {
        self.tasks.busy()
            || self.fit.live.waiting()
            || self
                .workspace
                .items
                .iter()
                .filter_map(|i| i.spectrum())
                .any(|s| s.needs_processing())
    }

    /// The curves a plot tab shows now (the selection's results).
    pub fn plot_series(&self, tab: PlotTab) -> Vec<Series> {
        series(&self.workspace, tab, &self.plots.options)
    }

    /// Poll jobs and dialogs, start processing what needs it. Called once
    /// per frame before drawing; never waits.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if let Some(picked) = take_answer(&mut self.dialog, "the file dialog", &mut self.log) {
            match picked {
                Picked::Open(paths) if !paths.is_empty() => self.open_in_background(paths, ctx),
                Picked::OpenSession(Some(p)) => {
                    self.open_session_in_background(p, true, Some(ctx.clone()));
                }
                Picked::SaveSession(Some(p)) => {
                    self.save_session(&p);
                }
                Picked::ExportCsv(Some(p)) => self.export_csv(&p),
                Picked::ExportWide(Some(p)) => {
                    self.export_wide_csv(&p);
                }
                Picked::ExportSvg(Some(p)) => {
                    self.export_svg(&p);
                }
                Picked::ExportPng(Some(p)) => self.export_png(p),
                Picked::OpenModel(Some(p)) => self.open_fit_model(p, Some(ctx.clone())),
                Picked::SaveReport(Some(p)) => self.fit.save_report(&p, &mut self.log),
                Picked::SaveModel(Some(p)) => {
                    self.fit.save_model(&p, &mut self.log);
                }
                Picked::AddPaths(paths) if !paths.is_empty() => {
                    self.fit.add_paths(&paths, &mut self.log);
                }
                Picked::AddCifs(paths) if !paths.is_empty() => {
                    self.xrd.add_cifs(&paths, &mut self.log);
                }
                Picked::CandidateDir(Some(d)) => {
                    self.xrd.library.load(d, &self.tasks, Some(ctx.clone()));
                }
                Picked::QuantDir(Some(d)) => {
                    self.xrd.quant.library_dir = d.display().to_string();
                }
                _ => {}
            }
        }
        let save = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S);
        if ctx.input_mut(|i| i.consume_shortcut(&save)) {
            self.save_session_now();
        }
        self.autosave();
        self.undo_logic(ctx);
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        let dropped = self.take_feff_paths(dropped);
        if !dropped.is_empty() {
            self.open_in_background(dropped, ctx);
        }
        let open = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::O);
        if ctx.input_mut(|i| i.consume_shortcut(&open)) {
            self.open_dialog();
        }
        let (workspace, log, xrd, view) = (
            &mut self.workspace,
            &mut self.log,
            &mut self.xrd,
            &mut self.view,
        );
        let mut opened = Vec::new();
        self.loads.retain_mut(|load| {
            let ended = jobs::poll_load(load, workspace, log);
            if !load.patterns.is_empty() {
                let ids: Vec<u64> = load.patterns.drain(..).map(|p| xrd.add(p)).collect();
                load.pattern_ids.extend(ids);
                xrd.select_only(&load.pattern_ids);
            }
            if !ended {
                return true;
            }
            // What was asked for, when something in it could be read.
            opened.extend(
                load.requested
                    .iter()
                    .filter(|r| load.opened.iter().any(|o| o.starts_with(r)))
                    .cloned(),
            );
            if !load.new_ids.is_empty() {
                workspace.select_only(&load.new_ids);
                *view = View::Spectra;
            } else if load.n_patterns > 0 {
                *view = View::Xrd;
            }
            false
        });
        for p in opened {
            self.note_recent(&p, RecentKind::Data);
        }
        if let Some(job) = &mut self.job
            && jobs::poll(job, &mut self.workspace, &mut self.log)
        {
            self.job = None;
        }
        if self.job.is_none() {
            self.job =
                jobs::start_processing(&self.tasks, &self.workspace, None, Some(ctx.clone()));
        }
        self.poll_session_load();
        self.poll_edit_job();
        self.poll_png_export(ctx);
        self.fit.poll(&mut self.log, Some(ctx));
        self.xrd.poll(&mut self.log);
        if self.png_export.is_some() || self.tasks.busy() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    /// One frame: logic, then every panel.
    pub fn ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.logic(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        self.recovery_ui(&ctx);
        egui::Panel::bottom("log")
            .resizable(true)
            .default_size(130.0)
            .show(ui, |ui| self.log_ui(ui));
        if self.view == View::Fit {
            egui::CentralPanel::default().show(ui, |ui| match self.fit.ui(ui) {
                FitAction::None => {}
                FitAction::OpenModel => self.file_dialog(DialogKind::OpenModel),
                FitAction::SaveModel => self.file_dialog(DialogKind::SaveModel),
                FitAction::AddPaths => self.file_dialog(DialogKind::AddPaths),
                FitAction::SaveReport => self.file_dialog(DialogKind::SaveReport),
            });
            return;
        }
        if self.view == View::Xrd {
            match self.xrd.ui(ui, &mut self.log) {
                XrdAction::None => {}
                XrdAction::OpenPatterns => self.open_dialog(),
                XrdAction::AddCifs => self.file_dialog(DialogKind::AddCifs),
                XrdAction::LoadLibrary => self.file_dialog(DialogKind::CandidateDir),
                XrdAction::QuantLibrary => self.file_dialog(DialogKind::QuantDir),
            }
            return;
        }
        egui::Panel::left("workspace")
            .resizable(true)
            .default_size(250.0)
            .show(ui, |ui| {
                match self.tree.ui(ui, &mut self.workspace) {
                    TreeAction::None => {}
                    TreeAction::Remove(ids) => {
                        let n = self.workspace.remove(&ids);
                        self.log.info(format!("removed {n} item(s)"));
                    }
                    TreeAction::Rename(id, name) => {
                        let old = self
                            .workspace
                            .item(id)
                            .map_or_else(String::new, |i| i.name.clone());
                        match self.workspace.rename(id, &name) {
                            Ok(()) => self.log.info(format!("renamed {old} to {}", name.trim())),
                            Err(e) => {
                                self.log.warn(format!("{old} not renamed: {e}"));
                                // Still editing: the field stays open.
                                self.tree.start_rename(id, String::new());
                            }
                        }
                    }
                }
                self.xrd_tree_ui(ui);
            });
        egui::Panel::right("parameters")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| self.params_ui(ui));
        let action = egui::CentralPanel::default()
            .show(ui, |ui| self.plots.ui(ui, &self.workspace))
            .inner;
        if let PlotAction::SetE0(e0) = action {
            self.drag_e0(e0);
        }
        if let Some(click) = self.plots.clicked.take() {
            self.deglitch_click(self.plots.tab, click);
        }
    }

    /// The workspace tree's other modalities: the XRD view's powder
    /// patterns and crystal structures (CIF phases). A click opens the XRD
    /// view on the pattern (or on the phases).
    fn xrd_tree_ui(&mut self, ui: &mut Ui) {
        if self.xrd.patterns.is_empty() && self.xrd.phases.is_empty() {
            return;
        }
        ui.separator();
        let mut open: Option<Option<u64>> = None;
        let swatch = |ui: &mut Ui, c: Color32| {
            let (r, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            ui.painter().rect_filled(r, 2.0, c);
        };
        if !self.xrd.patterns.is_empty() {
            egui::CollapsingHeader::new(format!("XRD patterns ({})", self.xrd.patterns.len()))
                .id_salt("tree-xrd-patterns")
                .default_open(true)
                .show(ui, |ui| {
                    for e in &self.xrd.patterns {
                        ui.horizontal(|ui| {
                            swatch(ui, e.color);
                            if ui
                                .selectable_label(self.xrd.selected.contains(&e.id), &e.name)
                                .on_hover_text(format!("{} (opens in the XRD view)", e.file))
                                .clicked()
                            {
                                open = Some(Some(e.id));
                            }
                        });
                    }
                });
        }
        if !self.xrd.phases.is_empty() {
            egui::CollapsingHeader::new(format!("Structures ({})", self.xrd.phases.len()))
                .id_salt("tree-structures")
                .default_open(true)
                .show(ui, |ui| {
                    for ph in &self.xrd.phases {
                        ui.horizontal(|ui| {
                            swatch(ui, ph.color);
                            if ui
                                .selectable_label(false, format!("{} ({})", ph.name, ph.formula))
                                .on_hover_text(format!(
                                    "{} (a phase of the XRD view)",
                                    ph.path.display()
                                ))
                                .clicked()
                            {
                                open = Some(None);
                            }
                        });
                    }
                });
        }
        if let Some(target) = open {
            self.view = View::Xrd;
            if let Some(id) = target {
                self.xrd.select_only(&[id]);
            }
        }
    }

    /// The active spectrum's e0 marker was dragged to `e0_ev`: fix e0 there,
    /// as typing it in the parameter panel does, and recompute.
    pub fn drag_e0(&mut self, e0_ev: f64) {
        let Some((_, s)) = self.workspace.active_spectrum_mut() else {
            return;
        };
        let mut p = s.params.clone();
        p.pre_edge.e0 = Some(e0_ev);
        self.edit_active(p);
    }

    fn menu_ui(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .add(egui::Button::new("Open…").shortcut_text("Ctrl+O"))
                    .clicked()
                {
                    self.open_dialog();
                }
                if ui
                    .button("Open fit model…")
                    .on_hover_text("A feffit model file (TOML) for the Fit view")
                    .clicked()
                {
                    self.file_dialog(DialogKind::OpenModel);
                }
                if ui
                    .add_enabled(
                        self.fit.model.is_some(),
                        egui::Button::new("Save fit model…"),
                    )
                    .on_hover_text("Write the Fit view's model, as edited, to a TOML file")
                    .clicked()
                {
                    self.file_dialog(DialogKind::SaveModel);
                }
                if ui
                    .add_enabled(
                        !self.fit.report.is_empty(),
                        egui::Button::new("Save fit report…"),
                    )
                    .clicked()
                {
                    self.file_dialog(DialogKind::SaveReport);
                }
                ui.menu_button("Open recent", |ui| self.recent_menu_ui(ui));
                if ui.button("Load demo session").clicked() {
                    let ids = self.load_builtin();
                    self.workspace.select_only(&ids);
                }
                ui.separator();
                if ui.button("Open session…").clicked() {
                    self.file_dialog(DialogKind::OpenSession);
                }
                if ui
                    .add(egui::Button::new("Save session").shortcut_text("Ctrl+S"))
                    .clicked()
                {
                    self.save_session_now();
                }
                if ui.button("Save session as…").clicked() {
                    self.file_dialog(DialogKind::SaveSession);
                }
                ui.separator();
                if ui
                    .button("Export CSV…")
                    .on_hover_text("The processed arrays of the selected spectra, one file each")
                    .clicked()
                {
                    self.file_dialog(DialogKind::ExportCsv);
                }
                if ui
                    .button("Export CSV, one column per spectrum…")
                    .on_hover_text(
                        "The selected spectra side by side: normalized μ(E), χ(k) and |χ(R)|, \
                         each on the range they all cover",
                    )
                    .clicked()
                {
                    self.file_dialog(DialogKind::ExportWide);
                }
                if ui
                    .add_enabled(
                        self.view == View::Spectra,
                        egui::Button::new("Export plot as SVG…"),
                    )
                    .on_hover_text(
                        "The Spectra view's current plot: every curve shown, axes and legend",
                    )
                    .clicked()
                {
                    self.file_dialog(DialogKind::ExportSvg);
                }
                if ui
                    .add_enabled(
                        self.view == View::Spectra && self.png_export.is_none(),
                        egui::Button::new("Export plot as PNG…"),
                    )
                    .on_hover_text("The Spectra view's plot area as it is on screen")
                    .clicked()
                {
                    self.file_dialog(DialogKind::ExportPng);
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Edit", |ui| self.edit_menu(ui));
            ui.menu_button("Process", |ui| {
                self.process_menu(ui);
                ui.separator();
                if ui
                    .button("Reprocess all")
                    .on_hover_text("Run the chain again for every spectrum in the background")
                    .clicked()
                {
                    self.reprocess_all();
                }
            });
            ui.separator();
            ui.selectable_value(&mut self.view, View::Spectra, "Spectra")
                .on_hover_text("Spectra: workspace, plots and processing parameters");
            ui.selectable_value(&mut self.view, View::Fit, "Fit")
                .on_hover_text("EXAFS path fitting (feffit) of a model file");
            ui.selectable_value(&mut self.view, View::Xrd, "XRD")
                .on_hover_text("Powder diffraction: patterns, peaks, phases, quantification");
            ui.separator();
            ui.label(RichText::new("Carto").strong());
            ui.label("— drop files anywhere to open them");
        });
    }

    /// The File ▸ Open recent submenu: newest first; a file that is gone
    /// is listed but disabled.
    fn recent_menu_ui(&mut self, ui: &mut Ui) {
        if self.recent.entries.is_empty() {
            ui.add_enabled(false, egui::Button::new("(nothing opened yet)"));
            return;
        }
        let mut chosen = None;
        for e in &self.recent.entries {
            let name = e.path.file_name().map_or_else(
                || e.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let kind = match e.kind {
                RecentKind::Data => "",
                RecentKind::Session => "  (session)",
            };
            let exists = e.path.exists();
            let text = if exists {
                format!("{name}{kind}")
            } else {
                format!("{name}{kind}  (missing)")
            };
            if ui
                .add_enabled(exists, egui::Button::new(text))
                .on_hover_text(e.path.display().to_string())
                .on_disabled_hover_text(format!("{} no longer exists", e.path.display()))
                .clicked()
            {
                chosen = Some(e.clone());
                ui.close();
            }
        }
        ui.separator();
        if ui.button("Clear list").clicked() {
            self.recent = RecentFiles::default();
            self.save_recent();
            ui.close();
        }
        if let Some(e) = chosen {
            self.open_recent(&e, ui.ctx());
        }
    }

    /// Open an entry of File ▸ Open recent; a file that has gone since is
    /// an error in the log.
    pub fn open_recent(&mut self, e: &super::recent::RecentEntry, ctx: &egui::Context) {
        if !e.path.exists() {
            self.log.error(format!(
                "cannot open {}: it no longer exists",
                e.path.display()
            ));
            return;
        }
        match e.kind {
            RecentKind::Data => self.open_in_background(vec![e.path.clone()], ctx),
            RecentKind::Session => {
                self.open_session(&e.path);
            }
        }
    }

    /// `path` was opened: it heads File ▸ Open recent.
    pub fn note_recent(&mut self, path: &std::path::Path, kind: RecentKind) {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        // The autosaved session is offered at start, not listed.
        if self.state_dir.as_ref().is_some_and(|d| path.starts_with(d)) {
            return;
        }
        self.recent.push(path, kind);
        self.save_recent();
    }

    fn save_recent(&mut self) {
        if let Some(dir) = &self.state_dir
            && let Err(e) = self.recent.save(dir)
        {
            self.log.warn(e);
        }
    }

    /// Read the recent files list from `state_dir`; what was opened before
    /// (command-line files) stays on top.
    pub fn load_recent(&mut self) {
        let Some(dir) = &self.state_dir else { return };
        let (mut list, warning) = RecentFiles::load(dir);
        if let Some(w) = warning {
            self.log.warn(w);
        }
        list.merge_newer(&self.recent);
        self.recent = list;
        if !self.recent.entries.is_empty() {
            self.save_recent();
        }
    }

    /// File ▸ Open: the dialog runs on its own thread so frames go on.
    pub fn open_dialog(&mut self) {
        self.file_dialog(DialogKind::Open);
    }

    /// File ▸ Save session: to the session's file, else ask where.
    pub fn save_session_now(&mut self) {
        match self.session_path.clone() {
            Some(p) => {
                self.save_session(&p);
            }
            None => self.file_dialog(DialogKind::SaveSession),
        }
    }

    fn file_dialog(&mut self, kind: DialogKind) {
        if self.dialog.is_some() {
            return;
        }
        // rfd asks the desktop portal over D-Bus, else runs zenity; with
        // neither it returns nothing, exactly as if the user cancelled.
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && !on_path("zenity") {
            self.log.warn(
                "no file dialog here (no D-Bus session for the desktop portal, no zenity): \
                 drop files onto the window or pass them on the command line",
            );
        }
        let model_name = self
            .fit
            .path
            .as_deref()
            .and_then(|p| p.file_name())
            .map_or_else(|| "model.toml".into(), |n| n.to_string_lossy().into_owned());
        let model_dir = self.fit.base_dir();
        // The repaint every busy frame asks for notices the answer.
        let task = Task::spawn_uncancellable(&self.tasks, "file dialog", None, move |_| {
            let d = rfd::FileDialog::new();
            // The model's folder, for the Fit view's dialogs.
            let in_model_dir = |d: rfd::FileDialog| {
                if model_dir.as_os_str().is_empty() {
                    d
                } else {
                    d.set_directory(&model_dir)
                }
            };
            let picked = match kind {
                DialogKind::Open => Picked::Open(
                    d.set_title("Open spectra or XRD patterns")
                        .pick_files()
                        .unwrap_or_default(),
                ),
                DialogKind::AddCifs => Picked::AddCifs(
                    d.set_title("Add crystal structures (CIF)")
                        .add_filter("CIF", &["cif"])
                        .pick_files()
                        .unwrap_or_default(),
                ),
                DialogKind::CandidateDir => Picked::CandidateDir(
                    d.set_title("Candidate library: a folder of CIFs")
                        .pick_folder(),
                ),
                DialogKind::QuantDir => Picked::QuantDir(
                    d.set_title("Quantification library: a folder with phases.csv")
                        .pick_folder(),
                ),
                DialogKind::OpenSession => Picked::OpenSession(
                    d.set_title("Open session")
                        .add_filter("Carto session", &["carto", "json"])
                        .pick_file(),
                ),
                DialogKind::SaveSession => Picked::SaveSession(
                    d.set_title("Save session")
                        .add_filter("Carto session", &["carto"])
                        .set_file_name("analysis.carto")
                        .save_file(),
                ),
                DialogKind::OpenModel => Picked::OpenModel(
                    d.set_title("Open fit model")
                        .add_filter("Fit model", &["toml"])
                        .pick_file(),
                ),
                DialogKind::SaveModel => Picked::SaveModel(
                    in_model_dir(d)
                        .set_title("Save fit model")
                        .add_filter("Fit model", &["toml"])
                        .set_file_name(&model_name)
                        .save_file(),
                ),
                DialogKind::AddPaths => Picked::AddPaths(
                    in_model_dir(d)
                        .set_title("Add FEFF paths (feffNNNN.dat)")
                        .add_filter("FEFF path", &["dat"])
                        .pick_files()
                        .unwrap_or_default(),
                ),
                DialogKind::SaveReport => Picked::SaveReport(
                    d.set_title("Save fit report")
                        .set_file_name("feffit_report.txt")
                        .save_file(),
                ),
                DialogKind::ExportSvg => Picked::ExportSvg(
                    d.set_title("Export the plot as SVG")
                        .add_filter("SVG", &["svg"])
                        .set_file_name("plot.svg")
                        .save_file(),
                ),
                DialogKind::ExportWide => Picked::ExportWide(
                    d.set_title("Export CSV, one column per spectrum (NAME_norm/chi/chir.csv)")
                        .set_file_name("spectra.csv")
                        .save_file(),
                ),
                DialogKind::ExportPng => Picked::ExportPng(
                    d.set_title("Export the plot as PNG")
                        .add_filter("PNG", &["png"])
                        .set_file_name("plot.png")
                        .save_file(),
                ),
                DialogKind::ExportCsv => Picked::ExportCsv(
                    d.set_title("Export CSV (one file per spectrum: NAME_SPECTRUM.csv)")
                        .set_file_name("export.csv")
                        .save_file(),
                ),
            };
            picked
        });
        self.dialog = Some(task);
    }

    /// Mark every spectrum for processing; the background job picks them up.
    pub fn reprocess_all(&mut self) {
        for item in &mut self.workspace.items {
            if let Some(s) = item.spectrum_mut() {
                s.rev = super::workspace::next_rev();
            }
        }
    }

    fn params_ui(&mut self, ui: &mut Ui) {
        let n_selected = self.workspace.selected.len();
        let active = self.workspace.active;
        if let Some(item) = active.and_then(|id| self.workspace.item(id))
            && let ItemData::Feff(f) = &item.data
        {
            ui.heading("FEFF path");
            ui.label(RichText::new(&item.name).strong());
            ui.label(format!("reff = {:.4} Å", f.reff_ang));
            ui.label(format!("degeneracy = {}", f.degen));
            ui.label(format!("legs = {}", f.nleg));
            ui.label(format!("{} k points", f.k_inv_ang.len()));
            ui.label(
                RichText::new("Fit with paths in the Fit view (add them to a model there).").weak(),
            );
            return;
        }
        let column_file = active
            .and_then(|id| self.workspace.item(id))
            .is_some_and(|i| i.group.is_none());
        let Some((name, s)) = self.workspace.active_spectrum_mut() else {
            ui.heading("Parameters");
            ui.label("Click a spectrum in the workspace to edit its parameters.");
            return;
        };
        let name = name.to_string();
        let source_is_mu = s.is_mu();
        let mut p = s.params.clone();
        let action = self
            .params
            .ui(ui, &name, s, &mut p, n_selected, column_file);
        match action {
            ParamAction::None => {}
            ParamAction::Changed => self.edit_active(p),
            ParamAction::ResetToDefaults => {
                self.edit_active(ChainParams::default());
                self.log
                    .info(format!("{name}: parameters reset to defaults"));
            }
            ParamAction::ApplyToSelected => {
                let ids: Vec<u64> = self.workspace.selected.iter().copied().collect();
                let n = self.apply_params(&p, &ids, !source_is_mu);
                self.log.info(format!(
                    "applied the parameters of {name} to {n} selected spectra"
                ));
            }
            ParamAction::MuFrom(choice) => {
                if let Some(id) = active {
                    self.set_mu_from(id, choice);
                }
            }
            ParamAction::RemoveEdit(i) => {
                if let Some(id) = active {
                    self.remove_edit(id, i);
                }
            }
            ParamAction::ApplyToAll => {
                let ids: Vec<u64> = self.workspace.items.iter().map(|i| i.id).collect();
                let n = self.apply_params(&p, &ids, !source_is_mu);
                self.log.info(format!(
                    "applied the parameters of {name} to all {n} spectra"
                ));
            }
        }
    }

    /// Build μ(E) of item `id` another way from its stored columns (the
    /// "μ(E) from" section) and recompute it; a recipe that can't be built
    /// is an error in the log and changes nothing.
    pub fn set_mu_from(&mut self, id: u64, choice: MuChoice) {
        let name = self
            .workspace
            .item(id)
            .map_or_else(String::new, |i| i.name.clone());
        let recipe = match choice {
            MuChoice::Recipe(r) => Ok(r),
            MuChoice::Mode(m) => self.workspace.recipe_for_mode(id, m),
        };
        match recipe.and_then(|r| self.workspace.set_mu_recipe(id, r)) {
            Ok(()) => {
                if let Some(s) = self.workspace.item_mut(id).and_then(|i| i.spectrum_mut()) {
                    s.recompute();
                }
                let how = self
                    .workspace
                    .column_spectrum(id)
                    .map_or_else(String::new, describe_recipe);
                self.log.info(format!("{name}: μ(E) now {how}"));
            }
            Err(e) => self.log.error(format!("{name}: cannot build μ(E) so: {e}")),
        }
    }

    /// New parameters for the active spectrum: recompute it right away (it
    /// is the one being dragged). An error is logged when it appears, not on
    /// every frame of a drag; the panel shows the current one.
    pub fn edit_active(&mut self, p: ChainParams) {
        let Some((name, s)) = self.workspace.active_spectrum_mut() else {
            return;
        };
        let before = s.error.clone();
        s.set_params(p);
        if s.needs_processing() {
            s.recompute();
        }
        if before.is_none()
            && let Some(e) = &s.error
        {
            let msg = format!("{name}: {e}");
            self.log.error(msg);
        }
    }

    /// Copy `p` to the spectra `ids` (each keeps its own e0, which belongs
    /// to its edge; from a χ(k) spectrum only the FT parameters, the only
    /// ones it has). They are processed by the background job.
    pub fn apply_params(&mut self, p: &ChainParams, ids: &[u64], ft_only: bool) -> usize {
        let mut n = 0;
        for &id in ids {
            if let Some(s) = self.workspace.item_mut(id).and_then(|i| i.spectrum_mut()) {
                let mut q = p.clone();
                if ft_only {
                    q.pre_edge = s.params.pre_edge.clone();
                    q.autobk = s.params.autobk.clone();
                }
                q.pre_edge.e0 = s.params.pre_edge.e0;
                q.autobk.e0 = s.params.autobk.e0;
                s.set_params(q);
                n += 1;
            }
        }
        n
    }

    fn log_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Log").strong());
            super::widgets::tasks_ui(ui, &self.tasks);
            if ui.small_button("Clear").clicked() {
                self.log.lines.clear();
            }
        });
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for line in &self.log.lines {
                    let color = match line.level {
                        Level::Info => ui.visuals().text_color(),
                        Level::Warn => ui.visuals().warn_fg_color,
                        Level::Error => ui.visuals().error_fg_color,
                    };
                    ui.label(RichText::new(&line.text).color(color).monospace());
                }
            });
    }
}

#[derive(Debug, Clone, Copy)]
enum DialogKind {
    Open,
    OpenModel,
    SaveModel,
    AddPaths,
    SaveReport,
    AddCifs,
    CandidateDir,
    QuantDir,
    OpenSession,
    SaveSession,
    ExportCsv,
    ExportWide,
    ExportSvg,
    ExportPng,
}

impl CartoApp {
    /// The offer to restore the autosaved session after a crash.
    fn recovery_ui(&mut self, ctx: &egui::Context) {
        let Some(path) = self.recovery_offer.clone() else {
            return;
        };
        let mut answer = None;
        egui::Window::new("Recover the previous session?")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(ctx, |ui| {
                ui.label("Carto did not exit cleanly last time. Restore the autosaved session?");
                ui.label(RichText::new(path.display().to_string()).weak());
                ui.horizontal(|ui| {
                    if ui.button("Restore").clicked() {
                        answer = Some(true);
                    }
                    if ui.button("Discard").clicked() {
                        answer = Some(false);
                    }
                });
            });
        match answer {
            Some(true) => {
                self.recovery_offer = None;
                // Save goes to a file the user picks, not the recovery file.
                self.open_session_in_background(path, false, Some(ctx.clone()));
            }
            Some(false) => self.recovery_offer = None,
            None => {}
        }
    }

    /// File ▸ Export CSV: each selected spectrum's processed arrays as
    /// `BASE_NAME_mu.csv`, `_chi.csv`, `_chir.csv` beside `base`.
    /// Write the Spectra view's current plot as SVG; whether it was written.
    pub fn export_svg(&mut self, path: &std::path::Path) -> bool {
        let all = super::plots::series(&self.workspace, self.plots.tab, &self.plots.options);
        if all.is_empty() {
            self.log
                .warn("export: nothing is plotted (select processed spectra first)");
            return false;
        }
        let kweight = self
            .workspace
            .selected_spectra()
            .first()
            .and_then(|i| i.spectrum())
            .and_then(|s| s.result.as_ref())
            .map_or(2.0, |r| r.ft.kweight);
        let [xn, xu, yn, yu] = self.plots.tab.axes(kweight);
        let label = |n: &str, u: &str| {
            if u.is_empty() {
                n.to_string()
            } else {
                format!("{n} ({u})")
            }
        };
        let svg = super::svg::plot_svg(
            &all,
            self.plots.tab.title(),
            &label(&xn, &xu),
            &label(&yn, &yu),
        );
        match crate::session::write_file_atomic(path, svg.as_bytes()) {
            Ok(()) => {
                self.log
                    .info(format!("exported the plot to {}", path.display()));
                true
            }
            Err(e) => {
                self.log
                    .error(format!("cannot write {}: {e}", path.display()));
                false
            }
        }
    }

    /// The selected spectra in wide files (one column each); returns the
    /// files written.
    pub fn export_wide_csv(&mut self, base: &std::path::Path) -> Vec<PathBuf> {
        use crate::export::{ExportSpectrum, write_wide_csv};
        let items = self.workspace.selected_spectra();
        let mut skipped = Vec::new();
        let spectra: Vec<ExportSpectrum<'_>> = items
            .iter()
            .filter_map(|item| {
                let r = item.spectrum().and_then(|s| s.result.as_ref());
                if r.is_none() {
                    skipped.push(item.name.clone());
                }
                r.map(|r| ExportSpectrum {
                    name: &item.name,
                    source: &item.source,
                    pre: r.pre.as_ref(),
                    bkg: r.bkg.as_ref(),
                    k_inv_ang: &r.k_inv_ang,
                    chi: &r.chi,
                    chir: &r.chir,
                    chiq: None,
                })
            })
            .collect();
        if spectra.is_empty() {
            self.log
                .warn("export: select processed spectra to export first");
            return Vec::new();
        }
        let result = write_wide_csv(base, &spectra);
        let n = spectra.len();
        for name in skipped {
            self.log
                .warn(format!("export: {name} is not processed, skipped"));
        }
        match result {
            Ok(files) => {
                self.log.info(format!(
                    "exported {n} spectra side by side: {}",
                    files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                files
            }
            Err(e) => {
                self.log.error(format!("export: {e}"));
                Vec::new()
            }
        }
    }

    /// File ▸ Export plot as PNG: ask for a screenshot of the window on
    /// the next frame; [`Self::poll_png_export`] crops it to the plot and
    /// writes `path`.
    pub fn export_png(&mut self, path: PathBuf) {
        if self.view != View::Spectra || self.plots.plot_rect().is_none() {
            self.log
                .warn("export: nothing is plotted (select processed spectra first)");
            return;
        }
        self.png_export = Some(PngExport {
            path,
            started: std::time::Instant::now(),
            requested: false,
            image: Arc::new(Mutex::new(None)),
        });
    }

    /// Drive a PNG export: request the screenshot, then crop, encode and
    /// write it when it arrives, or give up after the timeout.
    pub fn poll_png_export(&mut self, ctx: &egui::Context) {
        let Some(job) = &mut self.png_export else {
            return;
        };
        if !job.requested {
            job.requested = true;
            let slot = job.image.clone();
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(image);
                }
                repaint.request_repaint();
            });
            return;
        }
        let image = job.image.lock().ok().and_then(|mut i| i.take());
        let path = job.path.clone();
        let Some(image) = image else {
            if job.started.elapsed() > PNG_EXPORT_TIMEOUT {
                self.png_export = None;
                self.log.error(format!(
                    "export: no screenshot of the window came within {} s (a display without                      pixel read-back, or no display at all); {} was not written",
                    PNG_EXPORT_TIMEOUT.as_secs(),
                    path.display()
                ));
            }
            return;
        };
        self.png_export = None;
        let Some(rect) = self.plots.plot_rect() else {
            self.log
                .warn("export: the plot closed before its screenshot came; nothing written");
            return;
        };
        let written =
            super::capture::plot_png(&image, rect, ctx.pixels_per_point()).and_then(|png| {
                crate::session::write_file_atomic(&path, &png).map_err(|e| e.to_string())
            });
        match written {
            Ok(()) => self
                .log
                .info(format!("exported the plot to {}", path.display())),
            Err(e) => self
                .log
                .error(format!("cannot export the plot to {}: {e}", path.display())),
        }
    }

    pub fn export_csv(&mut self, base: &std::path::Path) {
        use crate::export::{ExportSpectrum, file_safe, write_csv};
        let items = self.workspace.selected_spectra();
        if items.is_empty() {
            self.log.warn("export: select the spectra to export first");
            return;
        }
        let stem = base
            .file_stem()
            .map_or_else(|| "carto".into(), |s| s.to_string_lossy().into_owned());
        let mut lines = Vec::new();
        for item in items {
            let Some(r) = item.spectrum().and_then(|s| s.result.as_ref()) else {
                lines.push((
                    Level::Warn,
                    format!("export: {} is not processed, skipped", item.name),
                ));
                continue;
            };
            let one = base.with_file_name(format!("{stem}_{}.csv", file_safe(&item.name)));
            // χ(q) with the plots' R window (what the χ(q) tab shows).
            let chiq = super::plots::cached_chi_q(&self.workspace, item, &self.plots.options.xftr);
            let chiq = chiq.as_ref().and_then(|q| q.as_ref().as_ref().ok());
            let s = ExportSpectrum {
                name: &item.name,
                source: &item.source,
                pre: r.pre.as_ref(),
                bkg: r.bkg.as_ref(),
                k_inv_ang: &r.k_inv_ang,
                chi: &r.chi,
                chir: &r.chir,
                chiq,
            };
            match write_csv(&one, &s) {
                Ok(files) => lines.push((
                    Level::Info,
                    format!(
                        "exported {}: {}",
                        item.name,
                        files
                            .iter()
                            .map(|f| f.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                Err(e) => lines.push((Level::Error, format!("export: {e}"))),
            }
        }
        for (level, text) in lines {
            match level {
                Level::Info => self.log.info(text),
                Level::Warn => self.log.warn(text),
                Level::Error => self.log.error(text),
            }
        }
    }
}

/// "ln(I0/It) from columns i0 / it": a recipe with the file's labels.
fn describe_recipe(x: &crate::io::XasSpectrum) -> String {
    use crate::io::MuRecipe;
    let l = |i: &usize| {
        x.table
            .labels
            .get(*i)
            .cloned()
            .unwrap_or_else(|| format!("col{}", i + 1))
    };
    match &x.recipe {
        MuRecipe::Transmission { i0, it } => format!("ln({}/{})", l(i0), l(it)),
        MuRecipe::Fluorescence { i_f, i0 } => format!(
            "({})/{}",
            i_f.iter().map(l).collect::<Vec<_>>().join(" + "),
            l(i0)
        ),
        MuRecipe::Reference { it, iref } => format!("ln({}/{})", l(it), l(iref)),
        MuRecipe::Column { mu } => format!("column {}", l(mu)),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Folders open the files directly inside them (sorted); the rest as given.
fn expand_folders(paths: &[PathBuf], log: &mut Log) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            match jobs::list_folder(p) {
                Ok(files) => out.extend(files),
                Err(e) => log.error(e),
            }
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// What the tree asks the app to do after drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeAction {
    None,
    /// Remove these items.
    Remove(BTreeSet<u64>),
    /// Rename an item (Enter in its name field).
    Rename(u64, String),
}

/// The workspace tree: items grouped by modality, multi-select, colour,
/// rename, remove.
#[derive(Debug, Default)]
pub struct TreePanel {
    /// The item whose name is being edited, and the text so far.
    pub renaming: Option<(u64, String)>,
    /// Give the name field the keyboard focus on its next frame.
    focus_rename: bool,
}

impl TreePanel {
    /// Turn an item's name into a text field holding `text`.
    pub fn start_rename(&mut self, id: u64, text: String) {
        self.renaming = Some((id, text));
        self.focus_rename = true;
    }

    pub fn ui(&mut self, ui: &mut Ui, ws: &mut Workspace) -> TreeAction {
        let mut action = TreeAction::None;
        ui.horizontal(|ui| {
            ui.heading("Workspace");
            if ui
                .add_enabled(!ws.selected.is_empty(), egui::Button::new("Remove"))
                .on_hover_text("Remove the selected items (Delete)")
                .clicked()
            {
                action = TreeAction::Remove(ws.selected.clone());
            }
        });
        if !ws.selected.is_empty()
            && ui.ctx().memory(|m| m.focused().is_none())
            && ui.input(|i| i.key_pressed(egui::Key::Delete))
        {
            action = TreeAction::Remove(ws.selected.clone());
        }
        if ws.items.is_empty() {
            ui.label("Nothing loaded: File ▸ Open, or drop files here.");
        }
        if self
            .renaming
            .as_ref()
            .is_some_and(|(id, _)| ws.item(*id).is_none())
        {
            self.renaming = None;
        }
        let modifiers = ui.input(|i| i.modifiers);
        let mut clicked = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for m in Modality::ALL {
                let ids: Vec<u64> = ws
                    .display_order()
                    .into_iter()
                    .filter(|&id| ws.item(id).is_some_and(|i| i.modality() == m))
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let n_selected = ws.selected.len();
                let selection = ws.selected.clone();
                // Athena projects: their groups under one header each.
                let mut runs: Vec<(Option<String>, Vec<u64>)> = Vec::new();
                for id in ids.iter().copied() {
                    let project = ws
                        .item(id)
                        .filter(|i| i.group.is_some())
                        .map(|i| i.file.clone());
                    match runs.last_mut() {
                        Some((p, v)) if project.is_some() && *p == project => v.push(id),
                        _ => runs.push((project, vec![id])),
                    }
                }
                egui::CollapsingHeader::new(format!("{} ({})", m.title(), ids.len()))
                    .id_salt(m.title())
                    .default_open(true)
                    .show(ui, |ui| {
                        for (project, run) in runs {
                            let mut rows = |ui: &mut Ui| {
                                for &id in &run {
                                    self.tree_row(
                                        ui,
                                        ws,
                                        id,
                                        &selection,
                                        n_selected,
                                        &mut action,
                                        &mut clicked,
                                    );
                                }
                            };
                            match &project {
                                Some(file) => {
                                    let stem = std::path::Path::new(file).file_name().map_or_else(
                                        || file.clone(),
                                        |s| s.to_string_lossy().into_owned(),
                                    );
                                    egui::CollapsingHeader::new(format!(
                                        "{stem} ({} groups)",
                                        run.len()
                                    ))
                                    .id_salt(("project", file.as_str()))
                                    .default_open(true)
                                    .show(ui, |ui| rows(ui));
                                }
                                None => rows(ui),
                            }
                        }
                    });
            }
        });
        if let Some(id) = clicked {
            ws.click(id, modifiers.command, modifiers.shift);
        }
        action
    }
    /// One item of the tree: colour, name (or the rename field), menu.
    #[allow(clippy::too_many_arguments)]
    fn tree_row(
        &mut self,
        ui: &mut Ui,
        ws: &mut Workspace,
        id: u64,
        selection: &BTreeSet<u64>,
        n_selected: usize,
        action: &mut TreeAction,
        clicked: &mut Option<u64>,
    ) {
        let selected = selection.contains(&id);
        let Some(item) = ws.item_mut(id) else {
            return;
        };
        ui.horizontal(|ui| {
            ui.spacing_mut().interact_size.x = 18.0;
            ui.color_edit_button_srgba(&mut item.color)
                .on_hover_text("Colour of this spectrum in every plot");
            if let Some((rid, text)) = &mut self.renaming
                && *rid == id
            {
                let r = ui.add(
                    egui::TextEdit::singleline(text)
                        .id_salt(("rename", id))
                        .desired_width(ui.available_width()),
                );
                let r = r.on_hover_text("Enter: rename · Escape: cancel");
                if std::mem::take(&mut self.focus_rename) {
                    r.request_focus();
                }
                let (enter, escape) = ui.input(|i| {
                    (
                        i.key_pressed(egui::Key::Enter),
                        i.key_pressed(egui::Key::Escape),
                    )
                });
                if escape {
                    self.renaming = None;
                } else if r.lost_focus() {
                    // Enter commits; clicking elsewhere cancels.
                    if enter {
                        *action = TreeAction::Rename(id, text.clone());
                    }
                    self.renaming = None;
                }
                return;
            }
            let mut text = RichText::new(&item.name);
            let err = item.spectrum().and_then(|s| s.error.clone());
            if err.is_some() {
                text = text.color(ui.visuals().error_fg_color);
            }
            let mut r = ui
                .selectable_label(selected, text)
                .on_hover_text(&item.source);
            if let Some(e) = err {
                r = r.on_hover_text(RichText::new(e).color(Color32::RED));
            }
            if r.clicked() {
                *clicked = Some(id);
            }
            if r.double_clicked() {
                self.start_rename(id, item.name.clone());
            }
            r.context_menu(|ui| {
                if ui.button("Rename").clicked() {
                    self.start_rename(id, item.name.clone());
                    ui.close();
                }
                // On a selected item the menu acts on the
                // whole selection, else on this item.
                let (label, ids) = if selected && n_selected > 1 {
                    (format!("Remove {n_selected} selected"), selection.clone())
                } else {
                    ("Remove".to_string(), BTreeSet::from([id]))
                };
                if ui.button(label).clicked() {
                    *action = TreeAction::Remove(ids);
                    ui.close();
                }
            });
        });
    }
}
