//! A session's files read back: each data file read and parsed once (on a
//! worker thread when the window is up), then item states built from them,
//! sharing data between the workspace and the undo history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use egui::Color32;
use std::sync::Arc;

use super::builtin::builtin_bytes;
use super::history::{DocState, ItemState, StateData};
use super::tasks::Task;
use super::workspace::{
    Entry, Input, ItemData, dataset_entries, edited_input, parse_bytes_with, with_recipe,
};
use crate::io::{ColumnTable, MuMode, MuRecipe, XasSpectrum};
use crate::session::{
    self, BLOB_PREFIX, BUILTIN_PREFIX, FileCheck, InlineSpectrum, Session, SessionItem,
};
use crate::xas::edit::Edit;

/// A session being opened on a worker thread.
pub struct SessionLoad {
    pub path: PathBuf,
    /// Save writes back to `path` afterwards (not for a recovery file).
    pub remember: bool,
    pub task: Task<Result<(Session, SessionFiles), String>>,
}

/// μ(E) computed by Carto (a merge) as an input.
pub fn inline_input(b: &InlineSpectrum) -> Input {
    let n = b.energy_ev.len();
    Input::Mu(XasSpectrum {
        name: b.name.clone(),
        energy_ev: b.energy_ev.clone(),
        mu: b.mu.clone(),
        energy_column: 0,
        energy_unit: crate::io::EnergyUnit::Ev,
        recipe: MuRecipe::Column { mu: 1 },
        choice: None,
        table: ColumnTable {
            labels: vec!["energy".into(), "mu".into()],
            columns: vec![b.energy_ev.clone(), b.mu.clone()],
            header: vec![b.note.clone()],
            row_lines: vec![0; n],
            ..Default::default()
        },
    })
}

/// A session's data files, each read and parsed once (on any thread).
#[derive(Default)]
pub struct SessionFiles {
    /// What each (file, μ recipe) held; None when it could not be read.
    files: BTreeMap<(String, String), Option<Vec<Entry>>>,
    pub(crate) errors: Vec<String>,
    pub(crate) warnings: Vec<String>,
    /// Why μ(E) of a file was built the way it was ([`crate::io::Dataset::recipe_note`]),
    /// as opening the file logs it.
    pub(crate) notes: Vec<String>,
    /// The bytes of the XRD view's pattern and CIF files, by path.
    pub(crate) extra: std::collections::HashMap<String, Vec<u8>>,
}

impl SessionFiles {
    /// Read every file the session and its history name (a worker thread
    /// calls this so the window goes on while files load). Stops early
    /// when `cancel` is set.
    pub fn prefetch(s: &Session, cancel: &std::sync::atomic::AtomicBool) -> SessionFiles {
        let mut f = SessionFiles::default();
        let history = s.history.iter().flat_map(|h| h.states.iter());
        for it in s.items.iter().chain(history) {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            f.entries(s, &it.path, &it.sha256, it.mu);
        }
        // The XRD view's files: read here, checked and parsed on apply (a
        // file that can't be read is left to the apply, which says why).
        if let Some(x) = &s.xrd {
            let paths = x.patterns.iter().map(|p| &p.path);
            for p in paths.chain(x.phases.iter().map(|ph| &ph.path)) {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if p.starts_with(BUILTIN_PREFIX) || f.extra.contains_key(p) {
                    continue;
                }
                if let Ok(b) = crate::io::read_input(Path::new(p)) {
                    f.extra.insert(p.clone(), b);
                }
            }
        }
        f
    }

    /// The entries of a file (read and parsed the first time).
    fn entries(
        &mut self,
        s: &Session,
        path: &str,
        sha: &str,
        mu: Option<MuMode>,
    ) -> Option<&Vec<Entry>> {
        let key = (path.to_string(), format!("{mu:?}"));
        if !self.files.contains_key(&key) {
            let got = self.read(s, path, sha, mu);
            self.files.insert(key.clone(), got);
        }
        self.files.get(&key).and_then(Option::as_ref)
    }

    fn read(
        &mut self,
        s: &Session,
        path: &str,
        sha: &str,
        mu: Option<MuMode>,
    ) -> Option<Vec<Entry>> {
        if let Some(hash) = path.strip_prefix(BLOB_PREFIX) {
            let Some(b) = s.blobs.get(hash) else {
                self.errors
                    .push(format!("session: no stored data for {path}, skipped"));
                return None;
            };
            if b.sha256() != hash {
                self.warnings.push(format!(
                    "session: the stored data of {} does not match its hash; loaded as it is",
                    b.name
                ));
            }
            return Some(vec![Entry {
                name: b.name.clone(),
                source: b.note.clone(),
                group: None,
                data: ItemData::Spectrum(Box::new(super::workspace::Spectrum::new(inline_input(
                    b,
                )))),
            }]);
        }
        let bytes = if let Some(name) = path.strip_prefix(BUILTIN_PREFIX) {
            match builtin_bytes(name) {
                Some(b) => b.to_vec(),
                None => {
                    self.errors
                        .push(format!("session: no built-in file {name}, skipped"));
                    return None;
                }
            }
        } else {
            match session::read_checked(Path::new(path), sha) {
                Ok(FileCheck::Same(b)) => b,
                Ok(FileCheck::Changed(b)) => {
                    self.warnings.push(format!(
                        "session: {path} changed since the session was saved \
                         (content hash differs); loaded as it is now"
                    ));
                    b
                }
                Err(e) => {
                    self.errors
                        .push(format!("session: {e}; its items are skipped"));
                    return None;
                }
            }
        };
        let parsed = parse_bytes_with(&bytes, path, mu).and_then(|ds| {
            self.notes.extend(ds.recipe_note());
            dataset_entries(ds, path)
        });
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(format!("session: {e}"));
                None
            }
        }
    }
}

/// Builds item states from a session's files, sharing data between the
/// current workspace and the history steps.
pub(crate) struct Loader<'a> {
    pub(crate) session: &'a Session,
    pub(crate) files: SessionFiles,
    /// Edited inputs by (file, μ, group, edits), shared between steps.
    pub(crate) edited: BTreeMap<String, Arc<Input>>,
    /// Session item id → workspace id.
    pub(crate) ids: BTreeMap<u64, u64>,
    /// The state built for each session item (history steps list the same
    /// stored state many times: they share one).
    pub(crate) states: std::collections::HashMap<*const SessionItem, Arc<ItemState>>,
}

impl<'a> Loader<'a> {
    pub(crate) fn new(session: &'a Session, files: SessionFiles) -> Self {
        Loader {
            session,
            files,
            edited: BTreeMap::new(),
            ids: BTreeMap::new(),
            states: std::collections::HashMap::new(),
        }
    }

    pub(crate) fn doc_state(
        &mut self,
        ws: &mut super::store::Store,
        items: Vec<&SessionItem>,
        selected: &[usize],
        active: Option<usize>,
    ) -> DocState {
        let mut ids = Vec::new();
        let mut states = Vec::new();
        for it in items {
            let id = match it.id {
                Some(sid) => *self.ids.entry(sid).or_insert_with(|| ws.fresh_id()),
                None => ws.fresh_id(),
            };
            ids.push(id);
            let key = it as *const SessionItem;
            if let Some(st) = self.states.get(&key) {
                states.push(Arc::clone(st));
            } else if let Some(st) = self.state(it, id) {
                let st = Arc::new(st);
                self.states.insert(key, Arc::clone(&st));
                states.push(st);
            }
        }
        DocState {
            items: states,
            selected: selected
                .iter()
                .filter_map(|&i| ids.get(i).copied())
                .collect(),
            active: active.and_then(|i| ids.get(i).copied()),
            phases: None,
            fit: None,
            library: None,
            quant: None,
        }
    }

    fn state(&mut self, it: &SessionItem, id: u64) -> Option<ItemState> {
        let entry = {
            let entries = self
                .files
                .entries(self.session, &it.path, &it.sha256, it.mu)?;
            let e = entries.iter().find(|e| e.group == it.group);
            e.map(|e| {
                let data = match &e.data {
                    ItemData::Spectrum(s) => Ok(s.raw.clone()),
                    ItemData::Feff(f) => Err(f.clone()),
                };
                (e.source.clone(), data)
            })
        };
        let Some((source, data)) = entry else {
            self.files.errors.push(format!(
                "session: {} no longer has group '{}'",
                it.path,
                it.group.as_deref().unwrap_or("")
            ));
            return None;
        };
        let data = match data {
            Ok(raw) => {
                let raw = match &it.mu_recipe {
                    Some(r) => match with_recipe(&raw, r, &it.path) {
                        Ok(x) => x,
                        Err(e) => {
                            self.files
                                .errors
                                .push(format!("session: {}: μ(E) recipe: {e}", it.name));
                            raw
                        }
                    },
                    None => raw,
                };
                let input = self.edited_input(it, &raw)?;
                StateData::Spectrum {
                    raw,
                    input,
                    edits: it.edits.clone(),
                    params: it.params.clone().unwrap_or_default(),
                }
            }
            Err(f) => StateData::Feff(f),
        };
        let [r, g, b, a] = it.color;
        Some(ItemState {
            id,
            name: it.name.clone(),
            source,
            file: it.path.clone(),
            sha256: it.sha256.clone(),
            group: it.group.clone(),
            mu: it.mu,
            color: Color32::from_rgba_unmultiplied(r, g, b, a),
            data,
        })
    }

    fn edited_input(&mut self, it: &SessionItem, raw: &Arc<Input>) -> Option<Arc<Input>> {
        if it.edits.is_empty() {
            return Some(raw.clone());
        }
        let key = format!(
            "{}|{:?}|{:?}|{}",
            it.path,
            it.mu,
            it.group,
            serde_json::to_string::<Vec<Edit>>(&it.edits).unwrap_or_default()
        );
        if let Some(x) = self.edited.get(&key) {
            return Some(x.clone());
        }
        match edited_input(raw, &it.edits) {
            Ok(x) => {
                self.edited.insert(key, x.clone());
                Some(x)
            }
            Err(e) => {
                self.files.errors.push(format!("session: {}: {e}", it.name));
                None
            }
        }
    }
}
