//! The app's state to and from a [`carto::session::Session`] (the file
//! format, atomic saving and the recovery paths live in the core).

use std::collections::{BTreeMap, HashMap};

use egui::Color32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use super::history::{FitState, History, ItemState, StateData, Step};
use super::plots::PlotTab;
use super::recent::RecentKind;
use super::session_files::{Loader, SessionFiles, SessionLoad};
use super::state::AppState;
use super::store::FitDoc;
use super::tasks::{Task, TaskPoll};
use super::views;
use super::workspace::Input;
use super::xrd::{CifPhase, PhaseState, phase_from_session, phase_to_session};
use crate::exafs::feffit::FitModel;
use crate::session::{
    self, BLOB_PREFIX, FitSession, HistorySession, HistoryStep, InlineSpectrum, Session,
    SessionItem, ViewState,
};

/// How often the recovery file is written.
pub const AUTOSAVE_EVERY: Duration = Duration::from_secs(60);

impl AppState {
    /// The whole analysis as a session (what Save writes).
    pub fn to_session(&self) -> Session {
        let ws = &self.store;
        let items: Vec<_> = ws.items.iter().collect();
        let index = |id: u64| items.iter().position(|i| i.id == id);
        let mut blobs = BTreeMap::new();
        // Ids in the file count from 0 in order of appearance, so saving
        // the same analysis twice writes the same file.
        let mut ids = BTreeMap::new();
        let session_items = items
            .iter()
            .map(|i| state_to_session(&ItemState::capture(i), &mut blobs, &mut ids))
            .collect();
        let history = history_to_session(&self.history, &self.store.fit, &mut blobs, &mut ids);
        Session {
            carto_session: session::FORMAT_VERSION,
            items: session_items,
            selected: (self.selection.selected.iter())
                .filter_map(|&id| index(id))
                .collect(),
            active: self.selection.active.and_then(index),
            view: ViewState {
                tab: self
                    .plots
                    .tab
                    .to_possible_value()
                    .map_or_else(|| "mu".into(), |v| v.get_name().to_string()),
                flat: self.plots.options.flat,
                re_im: self.plots.options.re_im,
                show_window: self.plots.options.show_window,
                show_pre_post: self.plots.options.show_pre_post,
                fit_view: self.view == views::FIT,
                xrd_view: self.view == views::XRD,
                xftr: self.plots.options.xftr.clone(),
                show_rwindow: self.plots.options.show_rwindow,
                chik_in_q: self.plots.options.chik_in_q,
            },
            // A model the writer cannot express (never one from a file) is
            // left out rather than saved wrong.
            fit: match (&self.store.fit.path, self.store.fit.model_text()) {
                (Some(path), Some(Ok(model))) => Some(FitSession {
                    path: path.display().to_string(),
                    model,
                }),
                _ => None,
            },
            xrd: self.xrd_panel().to_session(&self.store),
            blobs,
            history,
            map: map_to_session(&self.store),
            projection: self
                .store
                .projection
                .as_ref()
                .map(|d| session::ProjectionSession {
                    model: (*d.model).clone(),
                    source: d.source.clone(),
                }),
        }
    }

    /// Save the session to `path` (atomically) and remember it for Save.
    pub fn save_session(&mut self, path: &Path) -> bool {
        match self.to_session().save(path) {
            Ok(()) => {
                self.log
                    .info(format!("session saved to {}", path.display()));
                self.session_path = Some(path.to_path_buf());
                self.note_recent(path, RecentKind::Session);
                true
            }
            Err(e) => {
                self.log.error(format!("cannot save the session: {e}"));
                false
            }
        }
    }

    /// Replace the workspace with the session in `path`. Files are re-read;
    /// a missing one is an error in the log, a changed one a warning, and
    /// the rest loads.
    pub fn open_session(&mut self, path: &Path) -> bool {
        match Session::load(path) {
            Ok(s) => {
                self.finish_open_session(path, &s, SessionFiles::default(), true);
                true
            }
            Err(e) => {
                self.log.error(format!("cannot open the session: {e}"));
                false
            }
        }
    }

    /// Open a session with its files read on a worker thread (File ▸ Open
    /// session, the recovery offer): the window goes on meanwhile and the
    /// log shows a spinner with Cancel. With `remember` false, Save does
    /// not write back to `path` (a recovery file).
    pub fn open_session_in_background(
        &mut self,
        path: PathBuf,
        remember: bool,
        ctx: Option<egui::Context>,
    ) {
        if let Some(t) = &self.session_load {
            t.task.cancel();
        }
        let p = path.clone();
        let task = Task::spawn(
            &self.tasks,
            format!("opening session {}", path.display()),
            ctx,
            move |task| {
                let s = Session::load(&p).map_err(|e| format!("cannot open the session: {e}"))?;
                let files = SessionFiles::prefetch(&s, task.cancel_flag());
                Ok((s, files))
            },
        );
        self.session_load = Some(SessionLoad {
            path,
            remember,
            task,
        });
    }

    /// Apply a session whose files a worker has read (called per frame).
    pub fn poll_session_load(&mut self) {
        let Some(load) = &self.session_load else {
            return;
        };
        let outcome = match load.task.poll() {
            TaskPoll::Running => return,
            TaskPoll::Done(r) => Some(r),
            TaskPoll::Lost => None,
        };
        let Some(load) = self.session_load.take() else {
            return;
        };
        match outcome {
            _ if load.task.is_cancelling() => self.log.info("opening the session was cancelled"),
            Some(Ok((s, files))) => {
                self.finish_open_session(&load.path, &s, files, load.remember);
            }
            Some(Err(e)) => self.log.error(e),
            None => self
                .log
                .error(load.task.status().lost_text("opening the session")),
        }
    }

    fn finish_open_session(
        &mut self,
        path: &Path,
        s: &Session,
        files: SessionFiles,
        remember: bool,
    ) {
        self.apply_session_with(s, files);
        self.session_path = remember.then(|| path.to_path_buf());
        let n_xrd = self.store.patterns.len();
        let xrd = if n_xrd > 0 {
            format!(", {n_xrd} XRD pattern(s)")
        } else {
            String::new()
        };
        self.log.info(format!(
            "session {} opened ({} item(s){xrd}, {} undo step(s))",
            path.display(),
            self.store.items.len(),
            self.history.undo.len()
        ));
    }

    /// Rebuild the workspace, with its undo history, from a session
    /// (reading its files here).
    pub fn apply_session(&mut self, s: &Session) {
        self.apply_session_with(s, SessionFiles::default());
    }

    /// [`Self::apply_session`] with the files already read (by a worker).
    pub fn apply_session_with(&mut self, s: &Session, files: SessionFiles) {
        // Remove rather than replace the workspace: ids keep counting up, so
        // a late result of a running job can't land on a new item.
        let all = self.store.items.iter().map(|i| i.id).collect();
        self.store.remove(&all);
        self.selection.forget(&all);
        if let Some(job) = &self.job {
            job.cancel();
        }
        let mut loader = Loader::new(s, files);
        let mut current = loader.doc_state(
            &mut self.store,
            s.items.iter().collect(),
            &s.selected,
            s.active,
        );
        current.restore(&mut self.store, &mut self.selection);
        let mut history = History::default();
        history.reset(&self.store, &self.selection);
        if let Some(h) = &s.history {
            let mut steps = |list: &[HistoryStep]| -> Vec<Step> {
                list.iter()
                    .map(|step| Step {
                        label: step.label.clone(),
                        state: loader.doc_state(
                            &mut self.store,
                            step.items.iter().filter_map(|&i| h.states.get(i)).collect(),
                            &step.selected,
                            step.active,
                        ),
                    })
                    .collect()
            };
            history.undo = steps(&h.undo);
            history.redo = steps(&h.redo);
        }
        self.history = history;
        for e in loader.files.errors {
            self.log.error(e);
        }
        for n in loader.files.notes {
            self.log.info(n);
        }
        for w in loader.files.warnings {
            self.log.warn(w);
        }
        let v = &s.view;
        if let Ok(tab) = PlotTab::from_str(&v.tab, true) {
            self.plots.tab = tab;
        }
        self.plots.options.flat = v.flat;
        self.plots.options.re_im = v.re_im;
        self.plots.options.show_window = v.show_window;
        self.plots.options.show_pre_post = v.show_pre_post;
        self.plots.options.xftr = v.xftr.clone();
        self.plots.options.show_rwindow = v.show_rwindow;
        self.plots.options.chik_in_q = v.chik_in_q;
        // The session is the whole analysis: its fit model, or none.
        self.fit_panel_mut().clear();
        self.store.fit.clear();
        if let Some(f) = &s.fit {
            (self.fit_panel_mut()).open_model_text(PathBuf::from(&f.path), f.model.clone(), None);
        }
        let extra = std::mem::take(&mut loader.files.extra);
        let (xrd, store, _, log) = self.xrd_parts();
        xrd.apply_session_with(store, s.xrd.as_ref(), log, &|p| extra.get(p).cloned());
        self.history.adopt_others(&self.store);
        if let Some(h) = &s.history {
            let base = (s.fit.as_ref())
                .and_then(|f| Path::new(&f.path).parent().map(Path::to_path_buf))
                .unwrap_or_default();
            self.history_others_from_session(h, &base);
        }
        map_from_session(&mut self.store, s.map.as_ref());
        // The projection's model is held; the view projects the items again.
        self.store.projection = s.projection.as_ref().map(|p| {
            Arc::new(super::store::ProjectionDoc {
                model: Arc::new(p.model.clone()),
                source: p.source.clone(),
                points: Vec::new(),
                skipped: Vec::new(),
                applied: false,
            })
        });
        // The XRD view's selected patterns join the one selection.
        let patterns: Vec<u64> = self.xrd_panel().selected.iter().copied().collect();
        self.selection.selected.extend(patterns);
        self.mirror_selection();
        self.view = if v.fit_view {
            views::FIT
        } else if v.xrd_view {
            views::XRD
        } else {
            views::SPECTRA
        };
    }

    /// Write the recovery file when a minute has passed (called per frame).
    pub fn autosave(&mut self) {
        let Some(dir) = &self.state_dir else { return };
        if self.last_autosave.elapsed() < AUTOSAVE_EVERY {
            return;
        }
        self.last_autosave = Instant::now();
        let path = session::recovery_path(dir);
        if let Err(e) = self.to_session().save(&path) {
            self.log.warn(format!("autosave failed: {e}"));
        }
    }
}

impl AppState {
    /// Put the XRD phases and fit models a session's history steps hold
    /// (format 5) into the loaded steps. Each CIF is read and each model
    /// parsed once; the phases on show share their structures.
    fn history_others_from_session(&mut self, h: &HistorySession, base: &Path) {
        let mut cifs: HashMap<String, Option<PhaseState>> = (self.store.phases.iter())
            .map(|p| (p.path.display().to_string(), Some(p.undo_state())))
            .collect();
        let mut models: HashMap<&str, Option<FitModel>> = HashMap::new();
        // Revisions the Fit view never gives, so undoing to one restores it.
        let mut rev = u64::MAX;
        let log = &mut self.log;
        let pairs = (self.history.undo.iter_mut().zip(&h.undo))
            .chain(self.history.redo.iter_mut().zip(&h.redo));
        for (step, saved) in pairs {
            if let Some(phases) = &saved.phases {
                let mut states = Vec::new();
                for p in phases {
                    let base_state = cifs.entry(p.path.clone()).or_insert_with(|| {
                        match CifPhase::read(Path::new(&p.path), Color32::GRAY) {
                            Ok(ph) => Some(ph.undo_state()),
                            Err(e) => {
                                log.warn(format!("undo history: {e}"));
                                None
                            }
                        }
                    });
                    if let Some(b) = base_state {
                        states.push(Arc::new(phase_from_session(p, b)));
                    }
                }
                step.state.phases = Some(states);
            }
            if let Some(text) = &saved.fit_model {
                let model = models.entry(text.as_str()).or_insert_with(|| {
                    if text.is_empty() {
                        return None;
                    }
                    match FitDoc::model_from_text(text, base) {
                        Ok(m) => Some(m),
                        Err(e) => {
                            log.warn(format!("undo history: a fit model: {e}"));
                            None
                        }
                    }
                });
                step.state.fit = Some(Arc::new(FitState {
                    rev,
                    model: model.clone().map(Arc::new),
                    result: None,
                }));
                rev -= 1;
            }
        }
    }
}

/// One item state as a session item (a computed spectrum's data goes to
/// `blobs`).
fn state_to_session(
    st: &ItemState,
    blobs: &mut BTreeMap<String, InlineSpectrum>,
    ids: &mut BTreeMap<u64, u64>,
) -> SessionItem {
    let n = ids.len() as u64;
    let id = *ids.entry(st.id).or_insert(n);
    let (params, edits) = match &st.data {
        StateData::Spectrum {
            raw, edits, params, ..
        } => {
            if let Some(sha) = st.file.strip_prefix(BLOB_PREFIX)
                && let Input::Mu(x) = raw.as_ref()
            {
                blobs
                    .entry(sha.to_string())
                    .or_insert_with(|| InlineSpectrum {
                        name: x.name.clone(),
                        energy_ev: x.energy_ev.clone(),
                        mu: x.mu.clone(),
                        note: st.source.clone(),
                    });
            }
            (Some(params.clone()), edits.clone())
        }
        StateData::Feff(_) => (None, Vec::new()),
    };
    // The columns, whenever the recipe was overridden (the reader's choice
    // for `mu` may not be what was picked).
    let mu_recipe = match (&st.data, st.mu, &st.group) {
        (StateData::Spectrum { raw, .. }, Some(_), None) => match raw.as_ref() {
            Input::Mu(x) => Some(x.recipe.clone()),
            Input::Chi(_) => None,
        },
        _ => None,
    };
    SessionItem {
        name: st.name.clone(),
        path: st.file.clone(),
        sha256: st.sha256.clone(),
        group: st.group.clone(),
        mu: st.mu,
        mu_recipe,
        params,
        color: st.color.to_srgba_unmultiplied(),
        edits,
        id: Some(id),
    }
}

/// The undo history with item states stored once each.
fn history_to_session(
    h: &History,
    fit: &FitDoc,
    blobs: &mut BTreeMap<String, InlineSpectrum>,
    ids: &mut BTreeMap<u64, u64>,
) -> Option<HistorySession> {
    if h.undo.is_empty() && h.redo.is_empty() {
        return None;
    }
    let mut out = HistorySession::default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    // Steps share unchanged item states (one Arc): those are written once
    // without serializing them again.
    let mut by_ptr: std::collections::HashMap<*const ItemState, usize> =
        std::collections::HashMap::new();
    let mut step = |st: &Step| {
        let items: Vec<usize> = st
            .state
            .items
            .iter()
            .map(|it| {
                if let Some(&i) = by_ptr.get(&Arc::as_ptr(it)) {
                    return i;
                }
                let si = state_to_session(it, blobs, ids);
                let key = serde_json::to_string(&si).unwrap_or_default();
                let i = *seen.entry(key).or_insert_with(|| {
                    out.states.push(si);
                    out.states.len() - 1
                });
                by_ptr.insert(Arc::as_ptr(it), i);
                i
            })
            .collect();
        let pos = |id: u64| st.state.items.iter().position(|i| i.id == id);
        HistoryStep {
            label: st.label.clone(),
            items,
            selected: st.state.selected.iter().filter_map(|&id| pos(id)).collect(),
            active: st.state.active.and_then(pos),
            phases: (st.state.phases.as_ref())
                .map(|v| v.iter().map(|p| phase_to_session(p)).collect()),
            // A model the writer cannot express is left unrecorded.
            fit_model: st.state.fit.as_ref().and_then(|f| match &f.model {
                Some(m) => fit.text_of(m).ok(),
                None => Some(String::new()),
            }),
        }
    };
    let undo = h.undo.iter().map(&mut step).collect();
    let redo = h.redo.iter().map(&mut step).collect();
    out.undo = undo;
    out.redo = redo;
    Some(out)
}

/// The Map view's settings as a session part (None while they are the
/// defaults and no model or cluster is held).
fn map_to_session(store: &super::store::Store) -> Option<session::MapSession> {
    let m = &store.map_settings;
    let c = &store.map_clusters;
    let part = session::MapSession {
        layout: m.layout,
        ranking: m.ranking,
        model: m.model.as_ref().map(|m| (**m).clone()),
        model_source: m.model_source.clone(),
        clusters: c.k,
        cluster_names: c.names.iter().take(c.k).cloned().collect(),
        xanes: m.xanes,
        xanes_theory: m.xanes_theory,
        xanes_standards: m.xanes_standards.clone(),
    };
    (part != session::MapSession::default()).then_some(part)
}

/// The Map view's settings from a session (defaults when it has none);
/// the map itself is derived and is built again.
fn map_from_session(store: &mut super::store::Store, part: Option<&session::MapSession>) {
    let part = part.cloned().unwrap_or_default();
    store.map = None;
    store.map_settings = super::store::MapSettings {
        layout: part.layout,
        ranking: part.ranking,
        model: part.model.map(Arc::new),
        model_source: part.model_source,
        xanes: part.xanes,
        xanes_theory: part.xanes_theory,
        xanes_standards: part.xanes_standards,
    };
    store.map_clusters = super::store::MapClusters {
        k: part.clusters,
        names: part.cluster_names,
        ..Default::default()
    };
}
