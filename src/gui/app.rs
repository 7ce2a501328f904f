//! The application: what it holds, the frame (menu bar, the current view,
//! log and tasks at the bottom) and the actions views ask for. The views
//! are registered in gui/views; the tree, menus, dialogs and exports have
//! files of their own.

use std::collections::BTreeSet;
use std::path::PathBuf;

use egui::{RichText, Ui};

use super::dialogs::{self, DialogKind, Picked};
use super::export::PngExport;
use super::features::{FeaturesAction, FeaturesWindow};
use super::fit::{is_feff_path_file, is_fit_model};
use super::jobs::{self, Level, Log};
use super::menu::{MenuAction, MenuState, file_menu};
use super::params::ParamAction;
use super::plots::{PlotTab, Series, series};
use super::recent::{RecentFiles, RecentKind};
use super::spectra_edit;
use super::state::AppState;
use super::tasks::{Task, take_answer};
use super::theory;
use super::tree::TreePanel;
use super::views::xrd::XrdView;
use super::views::{self, Action, ViewCtx};
use super::xrd::{is_xrd_file, load_pattern};

/// The app: its state (everything but the window's own; reached through
/// `Deref`, so `app.state.store` reads as before), the registered views and
/// what only the window has (a file dialog, the recovery offer, a PNG
/// export waiting for its screenshot).
pub struct CartoApp {
    pub state: AppState,
    pub tree: TreePanel,
    /// A file dialog (on its own thread) and what it picked.
    dialog: Option<Task<Picked>>,
    /// A recovery file from a run that did not exit cleanly, offered once.
    pub recovery_offer: Option<PathBuf>,
    /// File ▸ Export plot as PNG, waiting for its screenshot.
    pub png_export: Option<PngExport>,
    /// File ▸ Export features… (its window and preview).
    pub features: FeaturesWindow,
    /// FEFF paths being computed for a structure (tree ▸ right-click).
    pub paths_task: Option<Task<theory::PathsAnswer>>,
    /// A structure's closed-form χ(k) being computed for the overlay.
    pub overlay_task: Option<Task<theory::OverlayAnswer>>,
    /// A structure's XANES being simulated (refeff).
    pub xanes_task: Option<Task<theory::XanesAnswer>>,
    /// The egui context of the last frame (tasks repaint through it).
    egui_ctx: Option<egui::Context>,
}

impl std::ops::Deref for CartoApp {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.state
    }
}

impl std::ops::DerefMut for CartoApp {
    fn deref_mut(&mut self) -> &mut AppState {
        &mut self.state
    }
}

impl Default for CartoApp {
    fn default() -> Self {
        Self::new()
    }
}

impl CartoApp {
    pub fn new() -> Self {
        CartoApp {
            state: AppState::new(),
            tree: TreePanel::default(),
            dialog: None,
            recovery_offer: None,
            png_export: None,
            features: FeaturesWindow::default(),
            paths_task: None,
            overlay_task: None,
            xanes_task: None,
            egui_ctx: None,
        }
    }

    /// The demo session: two iron oxides selected for overlay, Cu foil beside.
    pub fn demo() -> Self {
        let mut app = Self::new();
        let (xrd, store, sel, log) = app.state.xrd_parts();
        let ids = super::demo::load(store, sel, xrd, log);
        let st = &mut app.state;
        st.store
            .select_items_only(&mut st.selection, &ids[..ids.len().min(2)]);
        app.state.reset_history();
        app.state.log.info(format!(
            "demo session: {} spectra from sample_data/ (File ▸ Open or drop files to add yours)",
            ids.len()
        ));
        app
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
            for path in expand_folders(std::slice::from_ref(top), &mut self.state.log) {
                if is_xrd_file(&path) {
                    match load_pattern(&path) {
                        Ok(p) => {
                            self.state.log.info(format!(
                                "opened {} (XRD pattern, {} points)",
                                path.display(),
                                p.pattern.npts()
                            ));
                            for w in &p.pattern.warnings {
                                self.state.log.warn(w.clone());
                            }
                            let (xrd, store, _, _) = self.state.xrd_parts();
                            patterns.push(xrd.add(store, p));
                            opened = true;
                        }
                        Err(e) => self.state.log.error(e),
                    }
                    continue;
                }
                match self.state.store.load_file(&path) {
                    Ok(loaded) => {
                        self.state.log.info(format!(
                            "opened {} ({} item(s))",
                            path.display(),
                            loaded.ids.len()
                        ));
                        for n in loaded.notes {
                            self.state.log.info(n);
                        }
                        for w in loaded.warnings {
                            self.state.log.warn(w);
                        }
                        new.extend(loaded.ids);
                        opened = true;
                    }
                    Err(e) => self.state.log.error(e),
                }
            }
            if opened {
                self.note_recent(top, RecentKind::Data);
            }
        }
        if !new.is_empty() {
            let st = &mut self.state;
            st.store.select_items_only(&mut st.selection, &new);
        }
        if !patterns.is_empty() {
            let (xrd, store, sel, _) = self.state.xrd_parts();
            xrd.select_only(&store.patterns, &mut sel.selected, &patterns);
            if new.is_empty() {
                self.state.view = views::XRD;
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
        if self.state.view == views::FIT {
            self.state.view = views::SPECTRA;
        }
        self.state.loads.push(jobs::start_loading(
            &self.state.tasks,
            paths,
            Some(ctx.clone()),
        ));
    }

    /// CIF files and JCPDS cards among `paths` become phases of the XRD
    /// view (shown over its active pattern); the rest is returned.
    /// A folder's structures are taken too (its other files stay, listed
    /// one by one, so the folder is not read twice).
    fn take_cifs(&mut self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        // JCPDS cards join the phases too (sticks from their reflections).
        let is_cif = |p: &PathBuf| {
            p.is_file()
                && (crate::gui::xrd::is_jcpds(p)
                    || crate::io::route_path(p, &Default::default())
                        == crate::io::FileKind::Structure)
        };
        let mut listed = Vec::new();
        for p in paths {
            match p.is_dir().then(|| jobs::list_folder(&p)) {
                Some(Ok(files)) if files.iter().any(is_cif) => listed.extend(files),
                _ => listed.push(p),
            }
        }
        let (cifs, rest): (Vec<PathBuf>, Vec<PathBuf>) = listed.into_iter().partition(is_cif);
        if !cifs.is_empty() {
            self.state.add_cifs(&cifs);
            self.state.view = views::XRD;
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
                self.state
                    .log
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
        if self.state.view != views::FIT || self.state.store.fit.model.is_none() || paths.is_empty()
        {
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
            self.state.add_fit_paths(&feff);
        }
        rest
    }

    /// True while a background task runs or a spectrum or a live fit
    /// waits for one.
    pub fn busy(&self) -> bool {
        self.state.tasks.busy()
            || self.state.views.iter().any(|v| v.waiting())
            || self
                .store
                .items
                .iter()
                .filter_map(|i| i.spectrum())
                .any(|s| s.needs_processing())
    }

    /// The curves a plot tab shows now (the selection's results).
    pub fn plot_series(&self, tab: PlotTab) -> Vec<Series> {
        series(
            &self.state.store,
            &self.state.selection,
            tab,
            &self.state.plots.options,
        )
    }

    /// Poll jobs and dialogs, start processing what needs it. Called once
    /// per frame before drawing; never waits.
    pub fn logic(&mut self, ctx: &egui::Context) {
        self.state.mirror_selection();
        self.egui_ctx = Some(ctx.clone());
        let what = "the FEFF path computation";
        match take_answer(&mut self.paths_task, what, &mut self.state.log) {
            None => {}
            Some(Ok(files)) => {
                let n = files.len();
                if self.state.store.fit.model.is_some() {
                    self.state.add_fit_paths(&files);
                    self.state.log.info(format!(
                        "{n} FEFF paths computed (refeff) and added to the Fit view's model"
                    ));
                    self.state.view = views::FIT;
                } else {
                    // No model to add them to: into the workspace, where
                    // they can be inspected and later added to a model.
                    self.open_paths(&files);
                    self.state.log.info(format!(
                        "{n} FEFF paths computed (refeff) into the workspace; open a fit model \
                         to fit with them (Fit view ▸ Add paths)"
                    ));
                }
            }
            Some(Err(e)) => self.state.log.error(format!("FEFF paths: {e}")),
        }
        let what = "the closed-form χ(k)";
        match take_answer(&mut self.overlay_task, what, &mut self.state.log) {
            None => {}
            Some(Ok(t)) => {
                self.state.log.info(format!(
                    "closed-form χ(k) of {} overlaid on the χ(k) and |χ(R)| tabs",
                    t.name
                ));
                self.state.store.theory_overlay = Some(t);
                self.state.view = views::SPECTRA;
                if !matches!(self.state.plots.tab, PlotTab::ChiK | PlotTab::ChiR) {
                    self.state.plots.tab = PlotTab::ChiK;
                }
            }
            Some(Err(e)) => self.state.log.error(format!("closed-form χ(k): {e}")),
        }
        let what = "the XANES simulation";
        match take_answer(&mut self.xanes_task, what, &mut self.state.log) {
            None => {}
            Some(Ok(file)) => {
                self.state.log.info(format!(
                    "simulated XANES written to {} and opened (FEFF's energies are its own: \
                     align to a measurement before comparing)",
                    file.display()
                ));
                self.open_paths(&[file]);
            }
            Some(Err(e)) => self.state.log.error(format!("simulated XANES: {e}")),
        }
        if let Some(picked) = take_answer(&mut self.dialog, "the file dialog", &mut self.state.log)
        {
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
                Picked::ExportMapPng(Some(p)) => self.export_map_png(p),
                Picked::OpenMapModel(Some(p)) => self.state.open_map_model(&p),
                Picked::OpenMapStandards(Some(p)) => {
                    (self.state.log).info(format!(
                        "map: XANES standards {}; Build map reads them",
                        p.display()
                    ));
                    self.state.store.map_settings.xanes_standards = Some(p);
                }
                Picked::OpenProjection(Some(p)) => self.state.open_projection(&p),
                Picked::SaveProjection(Some(p)) => {
                    self.state.save_projection(&p);
                }
                Picked::SaveMapModel(Some(p)) => {
                    self.state.save_map_model(&p);
                }
                Picked::ExportMapSvg(Some(p)) => {
                    self.export_map_svg(&p);
                }
                Picked::ExportFeatures(Some(p)) => {
                    let st = &mut self.state;
                    (self.features).save(&st.store, &st.selection.selected, &p, &mut st.log);
                }
                Picked::OpenModel(Some(p)) => self.open_fit_model(p, Some(ctx.clone())),
                Picked::SaveReport(Some(p)) => self.state.save_fit_report(&p),
                Picked::SaveModel(Some(p)) => {
                    self.state.save_fit_model(&p);
                }
                Picked::AddPaths(paths) if !paths.is_empty() => {
                    self.state.add_fit_paths(&paths);
                }
                Picked::AddCifs(paths) if !paths.is_empty() => {
                    self.state.add_cifs(&paths);
                }
                Picked::CandidateDir(Some(d)) => {
                    self.state.load_candidate_library(d, Some(ctx.clone()));
                }
                Picked::QuantDir(Some(d)) => {
                    self.state.store.quant.library_dir = d.display().to_string();
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
        let st = &mut self.state;
        let xrd = &mut views::registered_mut::<XrdView>(&mut st.views).panel;
        let (store, selection, log, view) =
            (&mut st.store, &mut st.selection, &mut st.log, &mut st.view);
        let mut opened = Vec::new();
        st.loads.retain_mut(|load| {
            let ended = jobs::poll_load(load, store, log);
            if !load.patterns.is_empty() {
                let ids: Vec<u64> = load.patterns.drain(..).map(|p| xrd.add(store, p)).collect();
                load.pattern_ids.extend(ids);
                xrd.select_only(&store.patterns, &mut selection.selected, &load.pattern_ids);
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
                store.select_items_only(selection, &load.new_ids);
                *view = views::SPECTRA;
            } else if load.n_patterns > 0 {
                *view = views::XRD;
            }
            false
        });
        for p in opened {
            self.note_recent(&p, RecentKind::Data);
        }
        if let Some(job) = &mut self.state.job
            && jobs::poll(job, &mut self.state.store, &mut self.state.log)
        {
            self.state.job = None;
        }
        if self.state.job.is_none() {
            self.state.job = jobs::start_processing(
                &self.state.tasks,
                &self.state.store,
                None,
                Some(ctx.clone()),
            );
        }
        self.poll_session_load();
        self.poll_edit_job();
        let rect = match &self.png_export {
            Some(job) if job.map => self.map_plot_rect(),
            _ => self.state.plots.plot_rect(),
        };
        super::export::poll_png(&mut self.png_export, rect, &mut self.state.log, ctx);
        let st = &mut self.state;
        let mut vctx = ViewCtx {
            store: &mut st.store,
            selection: &mut st.selection,
            plots: &mut st.plots,
            tree: &mut self.tree,
            tasks: &st.tasks,
            log: &mut st.log,
            actions: Vec::new(),
        };
        for v in &mut st.views {
            v.poll(&mut vctx, ctx);
        }
        let actions = std::mem::take(&mut vctx.actions);
        for a in actions {
            self.apply(a);
        }
        if self.png_export.is_some() || self.state.tasks.busy() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    /// One frame: logic, the menu bar, the log, then the current view;
    /// what the view asked for is applied last.
    pub fn ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.logic(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        self.recovery_ui(&ctx);
        let st = &self.state;
        if self.features.ui(&ctx, &st.store, &st.selection.selected) == FeaturesAction::Save {
            self.file_dialog(DialogKind::ExportFeatures);
        }
        egui::Panel::bottom("log")
            .resizable(true)
            .default_size(130.0)
            .show(ui, |ui| self.log_ui(ui));
        let st = &mut self.state;
        let mut vctx = ViewCtx {
            store: &mut st.store,
            selection: &mut st.selection,
            plots: &mut st.plots,
            tree: &mut self.tree,
            tasks: &st.tasks,
            log: &mut st.log,
            actions: Vec::new(),
        };
        if let Some(v) = st.views.iter_mut().find(|v| v.id() == st.view) {
            v.ui(ui, &mut vctx);
        }
        let actions = std::mem::take(&mut vctx.actions);
        for a in actions {
            self.apply(a);
        }
        self.state.mirror_selection();
    }

    /// Do what a view asked for.
    fn apply(&mut self, action: Action) {
        match action {
            Action::Dialog(kind) => self.file_dialog(kind),
            Action::Show(id) => self.state.view = id,
            Action::ShowPattern(target) => {
                self.state.view = views::XRD;
                // The tree has selected it already.
                if let Some(id) = target {
                    self.state.xrd_panel_mut().active = Some(id);
                }
            }
            Action::Remove(ids) => {
                // Patterns stay (they are removed in the XRD view).
                let st = &mut self.state;
                let mut gone: BTreeSet<u64> = (ids.iter().copied())
                    .filter(|&id| st.store.item(id).is_some())
                    .collect();
                st.store.remove(&gone);
                gone.extend(st.store.remove_others(&ids));
                st.selection.forget(&gone);
                st.log.info(format!("removed {} item(s)", gone.len()));
            }
            Action::Rename(id, name) => {
                let old = self
                    .store
                    .item(id)
                    .map_or_else(String::new, |i| i.name.clone());
                match self.state.store.rename(id, &name) {
                    Ok(()) => self
                        .state
                        .log
                        .info(format!("renamed {old} to {}", name.trim())),
                    Err(e) => {
                        self.state.log.warn(format!("{old} not renamed: {e}"));
                        // Still editing: the field stays open.
                        self.tree.start_rename(id, String::new());
                    }
                }
            }
            Action::Params(ParamAction::RemoveEdit(i), _) => {
                if let Some(id) = self.state.selection.active {
                    self.remove_edit(id, i);
                }
            }
            Action::Params(action, p) => {
                spectra_edit::param_action(
                    &mut self.state.store,
                    &self.state.selection,
                    &mut self.state.log,
                    action,
                    *p,
                );
            }
            Action::SetE0(e0) => spectra_edit::drag_e0(
                &mut self.state.store,
                &self.state.selection,
                &mut self.state.log,
                e0,
            ),
            Action::PlotClick(tab, click) => self.deglitch_click(tab, click),
            Action::TheoryPaths(id, element) => self.start_paths(id, element),
            Action::TheoryOverlay(id, element) => self.start_overlay(id, element),
            Action::ClearOverlay => self.state.store.theory_overlay = None,
            Action::OverlayCandidate(file, id, z, edge) => {
                self.start_overlay_of_cif(file, &id, z, edge);
            }
            Action::TheoryXanes(id, element) => self.start_xanes(id, element),
        }
    }

    fn menu_ui(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            let state = MenuState {
                has_model: self.state.store.fit.model.is_some(),
                has_report: !self.state.store.fit.report.is_empty(),
                plot_on_show: self.state.view == views::SPECTRA,
                png_pending: self.png_export.is_some(),
                recent: &self.state.recent,
            };
            let chosen = ui.menu_button("File", |ui| file_menu(ui, &state)).inner;
            match chosen.flatten() {
                None => {}
                Some(MenuAction::Dialog(kind)) => self.file_dialog(kind),
                Some(MenuAction::OpenRecent(e)) => self.open_recent(&e, ui.ctx()),
                Some(MenuAction::ClearRecent) => {
                    self.state.recent = RecentFiles::default();
                    self.save_recent();
                }
                Some(MenuAction::LoadDemo) => {
                    let (xrd, store, sel, log) = self.state.xrd_parts();
                    let ids = super::demo::load(store, sel, xrd, log);
                    let st = &mut self.state;
                    st.store.select_items_only(&mut st.selection, &ids);
                }
                Some(MenuAction::SaveSession) => self.save_session_now(),
                Some(MenuAction::ExportFeatures) => self.open_features_window(),
            }
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
            for v in &self.state.views {
                ui.selectable_value(&mut self.state.view, v.id(), v.title())
                    .on_hover_text(v.hover());
            }
            ui.separator();
            ui.label(RichText::new("Carto").strong());
            ui.label("— drop files anywhere to open them");
        });
    }

    /// Compute the FEFF paths of structure `id` around `element` (one run
    /// at a time); [`Self::logic`] adds them to the Fit view's model.
    pub fn start_paths(&mut self, id: u64, element: &str) {
        if self.paths_task.is_some() {
            self.state
                .log
                .warn("FEFF paths are being computed already; wait for them or cancel");
            return;
        }
        let st = &self.state;
        let Some(ph) = st.store.phases.iter().find(|p| p.id == id) else {
            return;
        };
        self.paths_task = Some(theory::start(&st.tasks, self.egui_ctx.clone(), ph, element));
    }

    /// Compute the closed-form χ(k) of structure `id` around `element` (at
    /// the active spectrum's edge when it is one of `element`'s);
    /// [`Self::logic`] overlays it.
    pub fn start_overlay(&mut self, id: u64, element: &str) {
        let Some(ph) = self.state.store.phases.iter().find(|p| p.id == id) else {
            return;
        };
        let (source, file, label) = (
            theory::OverlaySource::Structure(ph.structure()),
            ph.path.display().to_string(),
            ph.name.clone(),
        );
        let z = crate::structure::element_from_symbol(element).unwrap_or(0);
        let edge = theory::overlay_edge(z, self.active_e0_ev());
        self.begin_overlay(source, &file, &label, element, edge);
    }

    /// The closed-form χ(k) of the CIF `file` (a map candidate, `label` its
    /// id) around absorber `z` at `edge`, as [`Self::start_overlay`].
    pub fn start_overlay_of_cif(
        &mut self,
        file: std::path::PathBuf,
        label: &str,
        z: u32,
        edge: crate::theory::Edge,
    ) {
        let name = file.display().to_string();
        let element = crate::io::feff::element_symbol(z);
        self.begin_overlay(
            theory::OverlaySource::Cif(file),
            &name,
            label,
            element,
            edge,
        );
    }

    /// Start the overlay task (one at a time).
    fn begin_overlay(
        &mut self,
        source: theory::OverlaySource,
        file: &str,
        label: &str,
        element: &str,
        edge: crate::theory::Edge,
    ) {
        if self.overlay_task.is_some() {
            self.state
                .log
                .warn("a closed-form χ(k) is being computed already; wait for it or cancel");
            return;
        }
        self.overlay_task = Some(theory::start_overlay(
            &self.state.tasks,
            self.egui_ctx.clone(),
            source,
            file,
            label,
            element,
            edge,
        ));
    }

    /// Simulate the XANES of structure `id` around `element` (one at a
    /// time; the edge as for the overlay); [`Self::logic`] opens it.
    pub fn start_xanes(&mut self, id: u64, element: &str) {
        if self.xanes_task.is_some() {
            self.state
                .log
                .warn("a XANES simulation is running already; wait for it or cancel");
            return;
        }
        let st = &self.state;
        let Some(ph) = st.store.phases.iter().find(|p| p.id == id) else {
            return;
        };
        let z = crate::structure::element_from_symbol(element).unwrap_or(0);
        let edge = theory::overlay_edge(z, self.active_e0_ev());
        self.xanes_task = Some(theory::start_xanes(
            &st.tasks,
            self.egui_ctx.clone(),
            ph,
            element,
            edge,
        ));
    }

    /// e0 of the active spectrum's last processing, if any.
    fn active_e0_ev(&self) -> Option<f64> {
        let st = &self.state;
        st.selection
            .active
            .and_then(|a| st.store.item(a))
            .and_then(|i| i.spectrum())
            .and_then(|s| s.result.as_ref())
            .and_then(|r| r.pre.as_ref())
            .map(|p| p.e0)
    }

    /// File ▸ Export features…: the window on the selection (or the
    /// whole store when nothing is selected).
    pub fn open_features_window(&mut self) {
        let st = &self.state;
        self.features.show(&st.store, &st.selection.selected);
    }

    fn file_dialog(&mut self, kind: DialogKind) {
        if self.dialog.is_none() {
            let fit = &self.state.store.fit;
            let (path, dir) = (fit.path.as_deref(), fit.base_dir());
            self.dialog = Some(dialogs::spawn(
                kind,
                &self.state.tasks,
                path,
                dir,
                &mut self.state.log,
            ));
        }
    }

    /// Write the Spectra view's current plot as SVG; whether it was written.
    pub fn export_svg(&mut self, path: &std::path::Path) -> bool {
        super::export::svg(
            &self.state.store,
            &self.state.selection,
            &self.state.plots,
            &mut self.state.log,
            path,
        )
    }

    /// The selected spectra in wide files (one column each); returns the
    /// files written.
    pub fn export_wide_csv(&mut self, base: &std::path::Path) -> Vec<PathBuf> {
        super::export::wide_csv(
            &self.state.store,
            &self.state.selection,
            &mut self.state.log,
            base,
        )
    }

    /// Each selected spectrum's processed arrays beside `base`.
    pub fn export_csv(&mut self, base: &std::path::Path) {
        super::export::csv(
            &self.state.store,
            &self.state.selection,
            &self.state.plots,
            &mut self.state.log,
            base,
        );
    }

    /// File ▸ Export plot as PNG: the window's screenshot, cropped to the
    /// plot, once it comes (a frame or two later).
    pub fn export_png(&mut self, path: PathBuf) {
        let on_show = self.state.view == views::SPECTRA;
        let rect = self.state.plots.plot_rect();
        self.png_export = super::export::start_png(on_show, rect, false, &mut self.state.log, path);
    }

    /// The Map view's plot area in the last frame (None when not on show).
    fn map_plot_rect(&self) -> Option<egui::Rect> {
        views::find::<views::map::MapView>(&self.state.views)
            .filter(|_| self.state.view == views::MAP)
            .and_then(|v| v.plot_rect)
    }

    /// The Map view's export buttons: the map's plot area as on screen.
    pub fn export_map_png(&mut self, path: PathBuf) {
        let rect = self.map_plot_rect();
        let on_show = rect.is_some() && self.state.store.map.is_some();
        self.png_export = super::export::start_png(on_show, rect, true, &mut self.state.log, path);
    }

    /// The map as drawn (colours, legend) as SVG; whether it was written.
    pub fn export_map_svg(&mut self, path: &std::path::Path) -> bool {
        let st = &mut self.state;
        match views::find_mut::<views::map::MapView>(&mut st.views) {
            Some(v) => v.export_svg(&st.store, &mut st.log, path),
            None => false,
        }
    }

    /// Open an entry of File ▸ Open recent; a file that has gone since is
    /// an error in the log.
    pub fn open_recent(&mut self, e: &super::recent::RecentEntry, ctx: &egui::Context) {
        if !e.path.exists() {
            self.state.log.error(format!(
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

    /// File ▸ Open: the dialog runs on its own thread so frames go on.
    pub fn open_dialog(&mut self) {
        self.file_dialog(DialogKind::Open);
    }

    /// File ▸ Save session: to the session's file, else ask where.
    pub fn save_session_now(&mut self) {
        match self.state.session_path.clone() {
            Some(p) => {
                self.save_session(&p);
            }
            None => self.file_dialog(DialogKind::SaveSession),
        }
    }

    /// Mark every spectrum for processing; the background job picks them up.
    pub fn reprocess_all(&mut self) {
        for item in &mut self.state.store.items {
            if let Some(s) = item.spectrum_mut() {
                s.rev = super::workspace::next_rev();
            }
        }
    }

    fn log_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Log").strong());
            super::widgets::tasks_ui(ui, &self.state.tasks);
            if ui.small_button("Clear").clicked() {
                self.state.log.lines.clear();
            }
        });
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for line in &self.state.log.lines {
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
