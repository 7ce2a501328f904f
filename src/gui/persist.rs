//! The app's state to and from a [`carto::session::Session`] (the file
//! format, atomic saving and the recovery paths live in the core).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use egui::Color32;

use super::app::View;
use super::app::{CartoApp, builtin_bytes};
use super::plots::PlotTab;
use super::recent::RecentKind;
use crate::session::{
    self, BUILTIN_PREFIX, FileCheck, FitSession, Session, SessionItem, ViewState,
};

/// How often the recovery file is written.
pub const AUTOSAVE_EVERY: Duration = Duration::from_secs(60);

impl CartoApp {
    /// The whole analysis as a session (what Save writes).
    pub fn to_session(&self) -> Session {
        let ws = &self.workspace;
        let items: Vec<_> = ws.items.iter().collect();
        let index = |id: u64| items.iter().position(|i| i.id == id);
        Session {
            carto_session: session::FORMAT_VERSION,
            items: items
                .iter()
                .map(|i| SessionItem {
                    name: i.name.clone(),
                    path: i.file.clone(),
                    sha256: i.sha256.clone(),
                    group: i.group.clone(),
                    mu: i.mu,
                    // The columns, whenever the recipe was overridden (the
                    // reader's choice for `mu` may not be what was picked).
                    mu_recipe: i
                        .mu
                        .and_then(|_| ws.column_spectrum(i.id))
                        .map(|x| x.recipe.clone()),
                    params: i.spectrum().map(|s| s.params.clone()),
                    color: i.color.to_srgba_unmultiplied(),
                })
                .collect(),
            selected: ws.selected.iter().filter_map(|&id| index(id)).collect(),
            active: ws.active.and_then(index),
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
                fit_view: self.view == View::Fit,
                xrd_view: self.view == View::Xrd,
                xftr: self.plots.options.xftr.clone(),
                show_rwindow: self.plots.options.show_rwindow,
                chik_in_q: self.plots.options.chik_in_q,
            },
            // A model the writer cannot express (never one from a file) is
            // left out rather than saved wrong.
            fit: match (&self.fit.path, self.fit.model_text()) {
                (Some(path), Some(Ok(model))) => Some(FitSession {
                    path: path.display().to_string(),
                    model,
                }),
                _ => None,
            },
            xrd: self.xrd.to_session(),
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
                self.apply_session(&s);
                self.session_path = Some(path.to_path_buf());
                self.note_recent(path, RecentKind::Session);
                let n_xrd = self.xrd.patterns.len();
                let xrd = if n_xrd > 0 {
                    format!(", {n_xrd} XRD pattern(s)")
                } else {
                    String::new()
                };
                self.log.info(format!(
                    "session {} opened ({} item(s){xrd})",
                    path.display(),
                    self.workspace.items.len()
                ));
                true
            }
            Err(e) => {
                self.log.error(format!("cannot open the session: {e}"));
                false
            }
        }
    }

    /// Rebuild the workspace from a session.
    pub fn apply_session(&mut self, s: &Session) {
        // Remove rather than replace the workspace: ids keep counting up, so
        // a late result of a running job can't land on a new item.
        let all = self.workspace.items.iter().map(|i| i.id).collect();
        self.workspace.remove(&all);
        if let Some(job) = &self.job {
            job.cancel();
        }
        // Each file is read once, however many of its groups are listed.
        type Key = (String, Option<crate::io::MuMode>);
        let mut by_file: Vec<(Key, Vec<usize>)> = Vec::new();
        for (i, it) in s.items.iter().enumerate() {
            let key = (it.path.clone(), it.mu);
            match by_file.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(i),
                None => by_file.push((key, vec![i])),
            }
        }
        let mut ids: Vec<Option<u64>> = vec![None; s.items.len()];
        for ((file, mu), wanted) in by_file {
            let sha = s.items[wanted[0]].sha256.as_str();
            let bytes = if let Some(name) = file.strip_prefix(BUILTIN_PREFIX) {
                match builtin_bytes(name) {
                    Some(b) => b.to_vec(),
                    None => {
                        self.log
                            .error(format!("session: no built-in file {name}, skipped"));
                        continue;
                    }
                }
            } else {
                match session::read_checked(Path::new(&file), sha) {
                    Ok(FileCheck::Same(b)) => b,
                    Ok(FileCheck::Changed(b)) => {
                        self.log.warn(format!(
                            "session: {file} changed since the session was saved \
                             (content hash differs); loaded as it is now"
                        ));
                        b
                    }
                    Err(e) => {
                        self.log
                            .error(format!("session: {e}; its items are skipped"));
                        continue;
                    }
                }
            };
            let new = match self.workspace.load_bytes_with(&bytes, &file, mu) {
                Ok(new) => new,
                Err(e) => {
                    self.log.error(format!("session: {e}"));
                    continue;
                }
            };
            let mut used = Vec::new();
            for &i in &wanted {
                let it = &s.items[i];
                let found = new.iter().copied().find(|&id| {
                    !used.contains(&id)
                        && self.workspace.item(id).is_some_and(|x| x.group == it.group)
                });
                let Some(id) = found else {
                    self.log.error(format!(
                        "session: {file} no longer has group '{}'",
                        it.group.as_deref().unwrap_or("")
                    ));
                    continue;
                };
                used.push(id);
                ids[i] = Some(id);
                if let Some(item) = self.workspace.item_mut(id) {
                    item.name = it.name.clone();
                    let [r, g, b, a] = it.color;
                    item.color = Color32::from_rgba_unmultiplied(r, g, b, a);
                    if let (Some(p), Some(sp)) = (&it.params, item.spectrum_mut()) {
                        sp.set_params(p.clone());
                    }
                }
                if let Some(r) = &it.mu_recipe
                    && let Err(e) = self.workspace.set_mu_recipe(id, r.clone())
                {
                    self.log
                        .error(format!("session: {}: μ(E) recipe: {e}", it.name));
                }
            }
            // Groups of a project the session did not list stay out.
            let extra = new.into_iter().filter(|id| !used.contains(id)).collect();
            self.workspace.remove(&extra);
        }
        // Keep the session's item order.
        let pos = |id: u64| ids.iter().position(|&x| x == Some(id));
        self.workspace.items.sort_by_key(|i| pos(i.id));
        let selected: Vec<u64> = s.selected.iter().filter_map(|&i| ids[i]).collect();
        self.workspace.select_only(&selected);
        self.workspace.active = s.active.and_then(|i| ids[i]).or(self.workspace.active);
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
        self.fit.clear();
        if let Some(f) = &s.fit {
            self.fit
                .open_model_text(PathBuf::from(&f.path), f.model.clone(), None);
        }
        self.xrd.apply_session(s.xrd.as_ref(), &mut self.log);
        self.view = if v.fit_view {
            View::Fit
        } else if v.xrd_view {
            View::Xrd
        } else {
            View::Spectra
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
