//! The XRD view to and from a session ([`crate::session::XrdSession`]).
//! Patterns are stored by path and SHA-256 and re-read on load: a missing
//! file is an error in the log, a changed one a warning.

use std::path::{Path, PathBuf};

use egui::Color32;

use super::Ranking;
use super::pattern::parse_pattern;
use super::plot::XAxis;
use super::{CifPhase, PhaseState, XrdPanel};
use crate::gui::log::Log;
use crate::gui::store::Store;
use crate::session::{
    self, FileCheck, XrdLibrarySession, XrdPatternSession, XrdPhaseSession, XrdRankingSession,
    XrdSession,
};

/// A phase's settings as a session keeps them.
pub fn phase_to_session(ph: &PhaseState) -> XrdPhaseSession {
    XrdPhaseSession {
        path: ph.path.display().to_string(),
        intensity: ph.intensity,
        lattice: ph.lattice,
        shift_deg: ph.shift_deg,
        visible: ph.visible,
        broadened: ph.broadened,
        color: ph.color.to_srgba_unmultiplied(),
    }
}

/// `base` (the same CIF) with a session's settings.
pub fn phase_from_session(p: &XrdPhaseSession, base: &PhaseState) -> PhaseState {
    let mut s = base.clone();
    s.intensity = p.intensity;
    s.lattice = p.lattice;
    s.shift_deg = p.shift_deg;
    s.visible = p.visible;
    s.broadened = p.broadened;
    s.color = rgba(p.color);
    s
}

fn rgba(c: [u8; 4]) -> Color32 {
    let [r, g, b, a] = c;
    Color32::from_rgba_unmultiplied(r, g, b, a)
}

impl XrdPanel {
    /// The view and the store's patterns and phases as a session part
    /// (None when they hold nothing).
    pub fn to_session(&self, store: &Store) -> Option<XrdSession> {
        let pats = &store.patterns;
        if pats.is_empty() && store.phases.is_empty() && store.library.dir.is_none() {
            return None;
        }
        let index = |id: u64| pats.iter().position(|p| p.id == id);
        Some(XrdSession {
            patterns: pats
                .iter()
                .map(|p| XrdPatternSession {
                    name: p.name.clone(),
                    path: p.file.clone(),
                    sha256: p.sha256.clone(),
                    wavelength: p.wavelength_text.trim().to_string(),
                    bkg_window_deg: p.bkg_window_deg,
                    bkg_method: p.bkg_method,
                    min_snr: p.min_snr,
                    fit_window_deg: p.fit_window_deg,
                    color: p.color.to_srgba_unmultiplied(),
                })
                .collect(),
            selected: self.selected.iter().filter_map(|&id| index(id)).collect(),
            active: self.active.and_then(index),
            phases: store
                .phases
                .iter()
                .map(|ph| phase_to_session(&ph.undo_state()))
                .collect(),
            axis: self.axis.key().to_string(),
            log_y: self.log_y,
            library: store.library.dir.as_ref().map(|d| XrdLibrarySession {
                dir: d.display().to_string(),
                max_scale: store.library.max_scale,
                search: self.library.search.clone(),
                ranking: store.library.ranked.as_ref().map(|r| XrdRankingSession {
                    pattern: r.pattern.clone(),
                    rows: r.rows.clone(),
                }),
            }),
            quant: store.quant.to_session(),
        })
    }

    /// Replace the view's content and the store's patterns and phases with
    /// a session's (None: empty them).
    pub fn apply_session(&mut self, store: &mut Store, s: Option<&XrdSession>, log: &mut Log) {
        self.apply_session_with(store, s, log, &|_| None);
    }

    /// [`Self::apply_session`] with the files' bytes already read where
    /// `prefetched` has them (a worker thread read them; the rest is read
    /// here).
    pub fn apply_session_with(
        &mut self,
        store: &mut Store,
        s: Option<&XrdSession>,
        log: &mut Log,
        prefetched: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) {
        self.clear();
        store.patterns.clear();
        store.phases.clear();
        store.library = Default::default();
        // The dialog's library folder stays for the next quantification.
        let quant_dir = std::mem::take(&mut store.quant.library_dir);
        store.quant = crate::gui::xrd::Quant {
            library_dir: quant_dir,
            ..Default::default()
        };
        let Some(s) = s else {
            return;
        };
        let mut ids = vec![None; s.patterns.len()];
        for (i, p) in s.patterns.iter().enumerate() {
            let builtin = p
                .path
                .strip_prefix(crate::session::BUILTIN_PREFIX)
                .and_then(crate::gui::builtin::builtin_bytes);
            let read = match (builtin, prefetched(&p.path)) {
                (Some(b), _) => Ok(FileCheck::Same(b.to_vec())),
                (None, Some(b)) if session::sha256_hex(&b).eq_ignore_ascii_case(&p.sha256) => {
                    Ok(FileCheck::Same(b))
                }
                (None, Some(b)) => Ok(FileCheck::Changed(b)),
                (None, None) => session::read_checked(Path::new(&p.path), &p.sha256),
            };
            let bytes = match read {
                Ok(FileCheck::Same(b)) => b,
                Ok(FileCheck::Changed(b)) => {
                    log.warn(format!(
                        "session: {} changed since the session was saved \
                         (content hash differs); loaded as it is now",
                        p.path
                    ));
                    b
                }
                Err(e) => {
                    log.error(format!("session: {e}; the pattern is skipped"));
                    continue;
                }
            };
            let loaded = match parse_pattern(&bytes, Path::new(&p.path)) {
                Ok(l) => l,
                Err(e) => {
                    log.error(format!("session: {e}"));
                    continue;
                }
            };
            let id = self.add(store, loaded);
            ids[i] = Some(id);
            if let Some(e) = store.pattern_mut(id) {
                e.name = p.name.clone();
                e.wavelength_text = p.wavelength.clone();
                e.bkg_window_deg = p.bkg_window_deg;
                e.bkg_method = p.bkg_method;
                e.min_snr = p.min_snr;
                e.fit_window_deg = p.fit_window_deg;
                e.color = rgba(p.color);
                e.analyse();
            }
        }
        // The app puts this into its one selection.
        self.selected = s.selected.iter().filter_map(|&i| ids[i]).collect();
        self.active = (s.selected.last().and_then(|&i| ids[i])).or(self.active);
        self.active = s.active.and_then(|i| ids[i]).or(self.active);
        for ph in &s.phases {
            let path = PathBuf::from(&ph.path);
            let read = match prefetched(&ph.path) {
                Some(b) => CifPhase::from_bytes(&path, &b, rgba(ph.color)),
                None => CifPhase::read(&path, rgba(ph.color)),
            };
            match read {
                Ok(mut c) => {
                    c.intensity = ph.intensity;
                    c.lattice = ph.lattice;
                    c.shift_deg = ph.shift_deg;
                    c.visible = ph.visible;
                    c.broadened = ph.broadened;
                    store.phases.push(c);
                }
                Err(e) => log.error(format!("session: {e}; the phase is skipped")),
            }
        }
        self.axis = XAxis::from_key(&s.axis).unwrap_or(XAxis::TwoTheta);
        self.log_y = s.log_y;
        self.update_phases(store);
        if let Some(l) = &s.library {
            let dir = PathBuf::from(&l.dir);
            store.library.max_scale = l.max_scale;
            self.library.search = l.search.clone();
            let ranked = l.ranking.as_ref().map(|r| Ranking {
                pattern: r.pattern.clone(),
                rows: r.rows.clone(),
            });
            if dir.is_dir() {
                // The ranking shows at once and stays when the library is in.
                (self.library).load(&mut store.library, dir, true, &self.tasks, None);
                store.library.restored = ranked.clone();
            } else {
                log.warn(format!(
                    "session: the candidate library {} is not there; its ranking is shown, \
                     but candidates cannot be overlaid",
                    l.dir
                ));
            }
            store.library.ranked = ranked;
            store.library.id = crate::gui::store::new_id();
            store.library.changed_quietly();
        }
        if let Some(q) = &s.quant {
            let pattern = q
                .result
                .as_ref()
                .and_then(|r| store.patterns.iter().find(|e| e.name == r.pattern));
            let r = (self.quant).apply_session(&mut store.quant, q, pattern, &self.tasks);
            if let Err(e) = r {
                log.warn(format!("session: {e}"));
            }
        }
    }
}
