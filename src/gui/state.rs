//! What the app holds besides the window's own state: the store (every
//! loaded thing) and the one selection, the registered views (each with
//! its own view state), the current view's id, the log, the task registry
//! and the running jobs, undo history, session paths and recent files.
//! Sessions, undo and the editing operations work on this, so nothing
//! below the app needs the app itself. Only sessions, the menu and tests
//! reach into a view's state, through [`AppState::fit_panel`] and
//! [`AppState::xrd_panel`].

use std::path::PathBuf;

use super::fit::FitPanel;
use super::history::History;
use super::jobs::{EditJob, Job, LoadJob};
use super::log::Log;
use super::plots::PlotPanel;
use super::recent::{RecentFiles, RecentKind};
use super::selection::Selection;
use super::session_files::SessionLoad;
use super::store::{FitDoc, Store};
use super::tasks::Tasks;
use super::views::fit::FitView;
use super::views::xrd::XrdView;
use super::views::{self, View};
use super::xrd::XrdPanel;

pub struct AppState {
    pub store: Store,
    /// The one selection (ids of any kind), beside the store.
    pub selection: Selection,
    /// The Spectra view's plot tab and options (saved with the session).
    pub plots: PlotPanel,
    /// The registered views (gui/views), in menu order, each with its
    /// own state.
    pub views: Vec<Box<dyn View>>,
    /// The id of the view the centre of the window shows.
    pub view: &'static str,
    pub log: Log,
    /// Every background task; `busy()`, repaints and the log bar read it.
    pub tasks: Tasks,
    pub job: Option<Job>,
    /// Files being read in the background (dropped or picked in File ▸ Open).
    pub loads: Vec<LoadJob>,
    /// The session file Save writes to (set by Open session / Save as).
    pub session_path: Option<PathBuf>,
    /// Where the recovery file and the crash marker live (None: no autosave).
    pub state_dir: Option<PathBuf>,
    pub last_autosave: std::time::Instant,
    /// Undo and redo of the Spectra workspace.
    pub history: History,
    /// A session being opened in the background.
    pub session_load: Option<SessionLoad>,
    /// Align or rebin of many spectra on a worker thread.
    pub edit_job: Option<EditJob>,
    /// The undo label of the running align or rebin.
    pub(crate) edit_job_label: String,
    /// File ▸ Open recent (saved in `state_dir` when there is one).
    pub recent: RecentFiles,
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

impl AppState {
    pub fn new() -> Self {
        let tasks = Tasks::default();
        AppState {
            views: views::registry(&tasks),
            store: Store::default(),
            selection: Selection::default(),
            plots: PlotPanel::default(),
            view: views::SPECTRA,
            log: Log::default(),
            tasks,
            job: None,
            loads: Vec::new(),
            session_path: None,
            state_dir: None,
            last_autosave: std::time::Instant::now(),
            history: History::default(),
            session_load: None,
            edit_job: None,
            edit_job_label: String::new(),
            recent: RecentFiles::default(),
        }
    }

    /// The Fit view's state (what it shows, its tasks); the model and its
    /// result are `store.fit`.
    pub fn fit_panel(&self) -> &FitPanel {
        &views::registered::<FitView>(&self.views).panel
    }
    pub fn fit_panel_mut(&mut self) -> &mut FitPanel {
        &mut views::registered_mut::<FitView>(&mut self.views).panel
    }
    /// The Fit view's state and the store's fit model together.
    pub fn fit_panel_and_doc(&mut self) -> (&mut FitPanel, &mut FitDoc) {
        let panel = &mut views::registered_mut::<FitView>(&mut self.views).panel;
        (panel, &mut self.store.fit)
    }

    /// The XRD view's state (how it shows the store's patterns, phases,
    /// library and quantification; its tasks).
    pub fn xrd_panel(&self) -> &XrdPanel {
        &views::registered::<XrdView>(&self.views).panel
    }
    pub fn xrd_panel_mut(&mut self) -> &mut XrdPanel {
        &mut views::registered_mut::<XrdView>(&mut self.views).panel
    }
    /// The XRD view's state with the store, the selection and the log (to
    /// add patterns and select them).
    pub fn xrd_parts(&mut self) -> (&mut XrdPanel, &mut Store, &mut Selection, &mut Log) {
        let panel = &mut views::registered_mut::<XrdView>(&mut self.views).panel;
        (panel, &mut self.store, &mut self.selection, &mut self.log)
    }

    /// Add CIF files as phases of the XRD view, simulated for its active
    /// pattern at once.
    pub fn add_cifs(&mut self, paths: &[PathBuf]) {
        let (xrd, store, _, log) = self.xrd_parts();
        store.add_cifs(paths, log);
        xrd.update_phases(store);
    }

    /// Read a folder of CIFs as the candidate library, in the background.
    pub fn load_candidate_library(&mut self, dir: PathBuf, ctx: Option<egui::Context>) {
        let tasks = self.tasks.clone();
        let (xrd, store, _, _) = self.xrd_parts();
        (xrd.library).load(&mut store.library, dir, false, &tasks, ctx);
    }

    /// Open a fit model file (TOML) in the Fit view, on a worker thread.
    pub fn open_fit_model(&mut self, path: PathBuf, ctx: Option<egui::Context>) {
        self.fit_panel_mut().open_model(path, ctx);
        self.view = views::FIT;
    }

    /// Add FEFF path files to the fit model's dataset on show.
    pub fn add_fit_paths(&mut self, paths: &[PathBuf]) {
        let panel = &mut views::registered_mut::<FitView>(&mut self.views).panel;
        panel.add_paths(&mut self.store.fit, paths, &mut self.log);
    }

    /// Refresh the views' mirrors of the one selection (the XRD view's
    /// selected patterns) after it changed.
    pub fn mirror_selection(&mut self) {
        let (xrd, store, sel, _) = self.xrd_parts();
        xrd.mirror_selection(&store.patterns, &sel.selected, sel.active);
    }

    /// What is loaded now is where undo stops (start-up, a demo).
    pub fn reset_history(&mut self) {
        self.history.reset(&self.store, &self.selection);
    }

    /// Write the fit report (File ▸ Save fit report).
    pub fn save_fit_report(&mut self, path: &std::path::Path) {
        match self.store.fit.save_report(path) {
            Ok(()) => (self.log).info(format!("saved the fit report to {}", path.display())),
            Err(e) => self.log.error(e),
        }
    }

    /// Write the edited fit model as TOML (File ▸ Save fit model); the
    /// model then belongs to `path`. Whether it was written.
    pub fn save_fit_model(&mut self, path: &std::path::Path) -> bool {
        match self.store.fit.save_model(path) {
            Ok(()) => {
                (self.log).info(format!("saved the fit model to {}", path.display()));
                true
            }
            Err(e) => {
                self.log.error(e);
                false
            }
        }
    }

    /// Hold the joint model in `path` for the map (Map view ▸ Model…): the
    /// next Build ranks with it. A bad file is an error in the log.
    pub fn open_map_model(&mut self, path: &std::path::Path) {
        match crate::latent::JointModel::load(path) {
            Ok(m) => {
                let st = &mut self.store.map_settings;
                st.model = Some(std::sync::Arc::new(m));
                st.model_source = path.display().to_string();
                st.ranking = crate::session::MapRanking::Model;
                (self.log).info(format!(
                    "map: joint model {} held; Build map ranks with it",
                    path.display()
                ));
            }
            Err(e) => self.log.error(format!("map: {e}")),
        }
    }

    /// Write the joint model held (Map view ▸ Save model…). Whether it was
    /// written.
    pub fn save_map_model(&mut self, path: &std::path::Path) -> bool {
        let Some(m) = self.store.map_settings.model.clone() else {
            self.log.warn("map: no joint model is held to save");
            return false;
        };
        match m.save(path) {
            Ok(()) => {
                (self.log).info(format!("saved the map's joint model to {}", path.display()));
                true
            }
            Err(e) => {
                self.log.error(format!("map: {e}"));
                false
            }
        }
    }

    /// Hold the projection model in `path` (Projection view ▸ Model…): the
    /// loaded items are projected with it. A bad file is an error in the log.
    pub fn open_projection(&mut self, path: &std::path::Path) {
        match crate::latent::project::ProjectionModel::load(path) {
            Ok((m, _)) => {
                self.store.projection =
                    Some(std::sync::Arc::new(crate::gui::store::ProjectionDoc {
                        model: std::sync::Arc::new(m),
                        source: path.display().to_string(),
                        points: Vec::new(),
                        skipped: Vec::new(),
                        applied: false,
                    }));
                (self.log).info(format!("projection model {} held", path.display()));
            }
            Err(e) => self.log.error(format!("projection: {e}")),
        }
    }

    /// Write the projection model held (Projection view ▸ Save model…).
    /// Whether it was written.
    pub fn save_projection(&mut self, path: &std::path::Path) -> bool {
        let Some(doc) = self.store.projection.clone() else {
            self.log.warn("projection: no model is held to save");
            return false;
        };
        match doc.model.save(path) {
            Ok(()) => {
                (self.log).info(format!("saved the projection model to {}", path.display()));
                true
            }
            Err(e) => {
                self.log.error(format!("projection: {e}"));
                false
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

    pub fn save_recent(&mut self) {
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
}
