//! Sessions: the whole analysis as a versioned, human-readable JSON file
//! (`"carto_session": 3`; versions 1 and 2, without a fit model or XRD
//! patterns, still load).
//! Data files are stored by path and SHA-256, never
//! copied; loading re-reads them and reports a missing or changed file
//! instead of failing. Saving is atomic: `NAME.tmp` is written and fsynced,
//! the previous file is kept as `NAME.bak`, then the temp file is renamed
//! over `NAME`, so a crash at any point leaves a loadable file.
//!
//! The GUI converts its state to and from [`Session`]; nothing here knows egui.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::io::{MuMode, MuRecipe};
use crate::xas::ChainParams;
use crate::xas::edit::Edit;
use crate::xas::fourier::RParams;

/// The format version written into every session file.
///
/// 2: adds `fit` (the Fit view's model) and `view.fit_view`; a version 1
/// file reads as a session without a fit model.
/// 3: adds `xrd` (the XRD view's patterns, settings and CIF phases) and
/// `view.xrd_view`; older files read as sessions without XRD patterns.
/// 4: adds item `edits` (the deglitch / shift / rebin journal) and `id`,
/// `blobs` (computed spectra such as merges, stored inline under
/// `blob:SHA256`) and `history` (undo and redo); older files read as
/// sessions without edits or history.
/// 5: history steps also hold the XRD view's `phases` and the `fit_model`
/// (undo covers every view); in older files steps leave them as they are.
/// 6: adds `map` (the Map view's layout, ranking stage, joint model and
/// cluster names) and `projection` (the Projection view's model); older
/// files open with the defaults.
pub const FORMAT_VERSION: u32 = 6;

/// Path prefix for spectra stored in the session itself ([`Session::blobs`]).
pub const BLOB_PREFIX: &str = "blob:";

/// Path prefix for spectra compiled into the binary (the demo session).
pub const BUILTIN_PREFIX: &str = "builtin:";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Format version ([`FORMAT_VERSION`]).
    pub carto_session: u32,
    pub items: Vec<SessionItem>,
    /// Indexes into `items`.
    #[serde(default)]
    pub selected: Vec<usize>,
    /// The item whose parameters are edited (index into `items`).
    #[serde(default)]
    pub active: Option<usize>,
    #[serde(default)]
    pub view: ViewState,
    /// The fit model of the Fit view (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitSession>,
    /// The XRD view (version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xrd: Option<XrdSession>,
    /// Spectra Carto computed (merges), by the SHA-256 their items name as
    /// `blob:SHA256` (version 4).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blobs: BTreeMap<String, InlineSpectrum>,
    /// The undo and redo history of the workspace (version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistorySession>,
    /// How the Map view builds its map (version 6); the map itself is
    /// derived and rebuilt, not saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<MapSession>,
    /// The Projection view's model held (version 6), with where it came
    /// from; the loaded items are projected again on opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionSession>,
}

/// A learned projection in a session (version 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectionSession {
    pub model: crate::latent::project::ProjectionModel,
    #[serde(default)]
    pub source: String,
}

/// Which stage ranks the map (the Map view's choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapRanking {
    /// Stage 0: cosine on the common grids, no training.
    #[default]
    Stage0,
    /// Stage 1: train a joint model on the candidates at each build.
    Train,
    /// Stage 1 with the model held (trained before, or opened).
    Model,
}

/// The Map view's settings in a session (version 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MapSession {
    #[serde(default)]
    pub layout: crate::latent::Layout,
    #[serde(default)]
    pub ranking: MapRanking,
    /// The stage-1 joint model held (inline, as its model file holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<crate::latent::JointModel>,
    /// Where that model came from (a file, or "trained on N candidates").
    #[serde(default)]
    pub model_source: String,
    /// k-means clusters of the measurements (0: none) and their names.
    #[serde(default)]
    pub clusters: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_names: Vec<String>,
    /// Measurements placed by their XANES; candidates' simulated XANES;
    /// the measured standards' file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub xanes: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub xanes_theory: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xanes_standards: Option<std::path::PathBuf>,
}

/// μ(E) stored in the session (a merge of other spectra).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineSpectrum {
    pub name: String,
    pub energy_ev: Vec<f64>,
    pub mu: Vec<f64>,
    /// How it was made ("merge of …").
    #[serde(default)]
    pub note: String,
}

impl InlineSpectrum {
    /// The key its items refer to: SHA-256 of the energies then μ values
    /// (little-endian f64).
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for v in self.energy_ev.iter().chain(&self.mu) {
            h.update(v.to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Undo and redo, as workspace states. Item states shared by several steps
/// are stored once in `states`; a step lists the indexes of its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HistorySession {
    pub states: Vec<SessionItem>,
    /// Oldest first; each step holds the workspace as it was before the
    /// change its label names.
    pub undo: Vec<HistoryStep>,
    /// The next redo last; each step holds the workspace after its change.
    pub redo: Vec<HistoryStep>,
}

/// One workspace state of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryStep {
    pub label: String,
    /// Indexes into [`HistorySession::states`], in workspace order.
    pub items: Vec<usize>,
    /// Indexes into `items`.
    #[serde(default)]
    pub selected: Vec<usize>,
    #[serde(default)]
    pub active: Option<usize>,
    /// The XRD view's phases in this state (version 5; absent: not
    /// recorded, undoing to it leaves the phases as they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Vec<XrdPhaseSession>>,
    /// The fit model in this state as TOML, empty for none (version 5;
    /// absent: not recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_model: Option<String>,
}

/// The XRD view: measured patterns (by path and SHA-256, like the items),
/// their settings, the CIF phases shown, and the plot's axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdSession {
    pub patterns: Vec<XrdPatternSession>,
    /// Indexes into `patterns`.
    #[serde(default)]
    pub selected: Vec<usize>,
    #[serde(default)]
    pub active: Option<usize>,
    #[serde(default)]
    pub phases: Vec<XrdPhaseSession>,
    /// "2theta", "q" or "d".
    #[serde(default = "default_axis")]
    pub axis: String,
    #[serde(default)]
    pub log_y: bool,
    /// The candidate library and its last ranking (version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<XrdLibrarySession>,
    /// The quantification settings and last result (version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quant: Option<XrdQuantSession>,
}

/// A candidate library folder (re-read on load) and the last ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdLibrarySession {
    pub dir: String,
    /// Lattice scale allowed when ranking (± fraction).
    pub max_scale: f64,
    #[serde(default)]
    pub search: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<XrdRankingSession>,
}

/// A ranking of the library against one pattern (by name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdRankingSession {
    pub pattern: String,
    pub rows: Vec<crate::xrd::identify::RankedCandidate>,
}

/// The quantification dialog's settings and the last result's table (the
/// fitted curves are computed again on load when the library is there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdQuantSession {
    pub library_dir: String,
    pub use_standard: bool,
    pub standard_id: String,
    pub standard_wt: f64,
    pub max_shift_deg: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<XrdQuantResultSession>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdQuantResultSession {
    /// The pattern quantified (by name).
    pub pattern: String,
    pub library: String,
    pub rwp_percent: f64,
    pub sample_shift_deg: f64,
    pub phases: Vec<crate::xrd::quantify::QuantPhase>,
}

fn default_axis() -> String {
    "2theta".into()
}

/// One measured powder pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdPatternSession {
    pub name: String,
    pub path: String,
    pub sha256: String,
    /// As typed: a name (`CuKa`) or Å; empty for none.
    #[serde(default)]
    pub wavelength: String,
    /// Background window (°2θ): SNIP's half-width, or Sonneveld–Visser's
    /// sampling of a half window.
    pub bkg_window_deg: f64,
    /// SNIP (default) or Sonneveld–Visser.
    #[serde(default, skip_serializing_if = "is_snip")]
    pub bkg_method: crate::xrd::peaks::BackgroundMethod,
    pub min_snr: f64,
    pub fit_window_deg: f64,
    pub color: [u8; 4],
}

/// A CIF shown over the patterns, with its handles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XrdPhaseSession {
    pub path: String,
    #[serde(default = "one")]
    pub intensity: f64,
    #[serde(default = "one")]
    pub lattice: f64,
    #[serde(default)]
    pub shift_deg: f64,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub broadened: bool,
    pub color: [u8; 4],
}

fn is_snip(m: &crate::xrd::peaks::BackgroundMethod) -> bool {
    *m == crate::xrd::peaks::BackgroundMethod::Snip
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// The Fit view's model: its file and its text as edited (file names in it
/// are relative to the file's folder). Reopening builds the model from the
/// text, so unsaved edits come back; the data and FEFF files are re-read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSession {
    /// The model file (where Save model writes, and what relative file
    /// names in `model` are relative to).
    pub path: String,
    /// The model as TOML (the model file format).
    pub model: String,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            carto_session: FORMAT_VERSION,
            items: Vec::new(),
            selected: Vec::new(),
            active: None,
            view: ViewState::default(),
            fit: None,
            xrd: None,
            blobs: BTreeMap::new(),
            history: None,
            map: None,
            projection: None,
        }
    }
}

/// One workspace item: where its data comes from and how it is processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionItem {
    /// The name shown in the workspace.
    pub name: String,
    /// The data file (absolute when it was opened so), or `builtin:NAME`.
    pub path: String,
    /// SHA-256 of the file's bytes when the session was saved (hex).
    pub sha256: String,
    /// The Athena group label, for items from a project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The μ(E) recipe override (None: the automatic choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mu: Option<MuMode>,
    /// The columns μ(E) was built from when they were picked by hand in
    /// the app (0-based indices into the file's columns); None: the
    /// reader's choice for `mu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mu_recipe: Option<MuRecipe>,
    /// pre_edge / autobk / xftf parameters (None for FEFF paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<ChainParams>,
    /// sRGBA colour in the plots.
    pub color: [u8; 4],
    /// The edits of μ(E), replayed in order on the file's data (version 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    /// Identifies the item across the undo history (version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// What the plots show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewState {
    /// The plot tab: "mu", "norm", "chi-k", "chi-r" or "chi-q".
    pub tab: String,
    pub flat: bool,
    pub re_im: bool,
    pub show_window: bool,
    pub show_pre_post: bool,
    /// The Fit view was on show.
    pub fit_view: bool,
    /// The XRD view was on show.
    pub xrd_view: bool,
    /// The back-transform to χ(q) (Larch `xftr` names: rmin, rmax, dr,
    /// window, …); sessions from before it have Larch's defaults.
    pub xftr: RParams,
    /// χ(R) tab: the R window drawn.
    pub show_rwindow: bool,
    /// χ(q) tab: kⁿ·χ(k) drawn under it.
    pub chik_in_q: bool,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            tab: "mu".into(),
            flat: false,
            re_im: false,
            show_window: true,
            show_pre_post: true,
            fit_view: false,
            xrd_view: false,
            xftr: RParams::first_shell(),
            show_rwindow: true,
            chik_in_q: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a Carto session: {reason}")]
    Format { path: String, reason: String },
    #[error("{path}: session format {found} is newer than this Carto reads ({FORMAT_VERSION})")]
    Version { path: String, found: u32 },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SessionError + '_ {
    move |source| SessionError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A data file as re-read for a session item.
#[derive(Debug)]
pub enum FileCheck {
    /// The bytes, unchanged since the save.
    Same(Vec<u8>),
    /// The bytes, but the file changed since the save (loaded anyway).
    Changed(Vec<u8>),
}

/// Re-read an item's file and compare its hash. Err: the readable reason
/// it can't be read (missing file, permissions).
pub fn read_checked(path: &Path, sha256: &str) -> Result<FileCheck, crate::io::FileError> {
    let bytes =
        crate::io::read_input(path).map_err(|e| crate::io::FileError::new("read", path, e))?;
    Ok(if sha256_hex(&bytes).eq_ignore_ascii_case(sha256) {
        FileCheck::Same(bytes)
    } else {
        FileCheck::Changed(bytes)
    })
}

impl Session {
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail;
        // the fallback keeps the signature honest without an unwrap.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn from_json(text: &str, path: &Path) -> Result<Session, SessionError> {
        let fmt = |reason: String| SessionError::Format {
            path: path.display().to_string(),
            reason,
        };
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| fmt(e.to_string()))?;
        let version = v
            .get("carto_session")
            .and_then(|x| x.as_u64())
            .ok_or_else(|| fmt("no \"carto_session\" version field".into()))?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(SessionError::Version {
                path: path.display().to_string(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
            });
        }
        let s: Session = serde_json::from_value(v).map_err(|e| fmt(e.to_string()))?;
        if let Some(m) = s.map.as_ref().and_then(|m| m.model.as_ref()) {
            m.validate()
                .map_err(|(field, reason)| fmt(format!("map.model.{field}: {reason}")))?;
        }
        if let Some(p) = &s.projection {
            p.model
                .check()
                .map_err(|reason| fmt(format!("projection.model: {reason}")))?;
        }
        let n = s.items.len();
        if s.selected.iter().chain(s.active.iter()).any(|&i| i >= n) {
            return Err(fmt(format!(
                "selection refers to an item beyond the {n} listed"
            )));
        }
        if let Some(h) = &s.history {
            let m = h.states.len();
            for step in h.undo.iter().chain(&h.redo) {
                let k = step.items.len();
                if step.items.iter().any(|&i| i >= m)
                    || step
                        .selected
                        .iter()
                        .chain(step.active.iter())
                        .any(|&i| i >= k)
                {
                    return Err(fmt(format!(
                        "history step '{}' refers to an item beyond those listed",
                        step.label
                    )));
                }
            }
        }
        if let Some(x) = &s.xrd {
            let m = x.patterns.len();
            if x.selected.iter().chain(x.active.iter()).any(|&i| i >= m) {
                return Err(fmt(format!(
                    "xrd selection refers to a pattern beyond the {m} listed"
                )));
            }
        }
        Ok(s)
    }

    /// Read a session file (the items' data files are not touched).
    pub fn load(path: &Path) -> Result<Session, SessionError> {
        // The one read rule (regular files of at most 512 MiB): a FIFO or
        // device named as a session would otherwise never end.
        let bytes = crate::io::read_input(path).map_err(|e| match e {
            crate::io::InputError::Io(source) => SessionError::Io {
                path: path.display().to_string(),
                source,
            },
            other => SessionError::Format {
                path: path.display().to_string(),
                reason: other.to_string(),
            },
        })?;
        let text = String::from_utf8(bytes).map_err(|e| SessionError::Format {
            path: path.display().to_string(),
            reason: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        Self::from_json(&text, path)
    }

    /// Save atomically: `NAME.tmp` (fsynced), the old file to `NAME.bak`,
    /// then rename. A crash leaves `NAME` old or new, never partial.
    pub fn save(&self, path: &Path) -> Result<(), SessionError> {
        write_atomic(path, self.to_json().as_bytes(), slow_write_delay())
    }
}

/// Write any file atomically, as sessions are saved (temp file, fsync,
/// previous file kept as `NAME.bak`, rename).
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), SessionError> {
    write_atomic(path, bytes, None)
}

/// Test hook (used by tests/session.rs through the binary): with
/// `CARTO_TEST_SLOW_SAVE_MS=N`, saving writes in 4 KiB chunks and sleeps N ms
/// between them, so a test can kill the process in the middle of a save.
fn slow_write_delay() -> Option<std::time::Duration> {
    std::env::var("CARTO_TEST_SLOW_SAVE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(ext);
    path.with_file_name(name)
}

/// The `.bak` file a save keeps beside `path`.
pub fn backup_path(path: &Path) -> PathBuf {
    sibling(path, ".bak")
}

fn write_atomic(
    path: &Path,
    bytes: &[u8],
    slow: Option<std::time::Duration>,
) -> Result<(), SessionError> {
    let tmp = sibling(path, ".tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
        match slow {
            Some(delay) => {
                for chunk in bytes.chunks(4096) {
                    f.write_all(chunk).map_err(io_err(&tmp))?;
                    f.flush().map_err(io_err(&tmp))?;
                    std::thread::sleep(delay);
                }
            }
            None => f.write_all(bytes).map_err(io_err(&tmp))?,
        }
        f.sync_all().map_err(io_err(&tmp))?;
    }
    if path.exists() {
        // A hard link keeps NAME in place until the rename replaces it, so
        // there is no moment without a session file.
        let bak = backup_path(path);
        let _ = std::fs::remove_file(&bak);
        if std::fs::hard_link(path, &bak).is_err() {
            std::fs::copy(path, &bak).map_err(io_err(&bak))?;
        }
    }
    std::fs::rename(&tmp, path).map_err(io_err(path))?;
    // Make the rename itself durable.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Where autosave and the crash marker live: `$CARTO_STATE_DIR`, else
/// `$XDG_STATE_HOME/carto`, else `~/.local/state/carto`.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("CARTO_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("carto"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/carto"))
}

/// The autosaved session.
pub fn recovery_path(dir: &Path) -> PathBuf {
    dir.join("recovery.json")
}

/// Present while the app runs; left behind when it did not exit cleanly.
pub fn marker_path(dir: &Path) -> PathBuf {
    dir.join("running")
}

/// Called at start: true when the previous run left its marker (crashed or
/// was killed) and a recovery file exists. Then writes this run's marker.
pub fn start_run(dir: &Path) -> Result<bool, crate::io::FileError> {
    std::fs::create_dir_all(dir).map_err(|e| crate::io::FileError::new("create", dir, e))?;
    let marker = marker_path(dir);
    let crashed = marker.exists() && recovery_path(dir).exists();
    std::fs::write(&marker, std::process::id().to_string())
        .map_err(|e| crate::io::FileError::new("write", &marker, e))?;
    Ok(crashed)
}

/// Called at a clean exit: remove the marker and the recovery file.
pub fn end_run(dir: &Path) {
    let _ = std::fs::remove_file(marker_path(dir));
    let _ = std::fs::remove_file(recovery_path(dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn recovery_is_offered_only_after_an_unclean_exit() {
        let dir = std::env::temp_dir().join(format!("carto-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(start_run(&dir), Ok(false), "first run");
        Session::default()
            .save(&recovery_path(&dir))
            .expect("autosave");
        // Killed: the marker stays, so the next start offers recovery.
        assert_eq!(start_run(&dir), Ok(true));
        end_run(&dir);
        assert!(!marker_path(&dir).exists() && !recovery_path(&dir).exists());
        assert_eq!(start_run(&dir), Ok(false), "after a clean exit");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn newer_version_and_bad_selection_are_refused() {
        let p = Path::new("x.carto");
        let e = Session::from_json(r#"{"carto_session": 9, "items": []}"#, p);
        assert!(matches!(e, Err(SessionError::Version { found: 9, .. })));
        let e = Session::from_json(r#"{"carto_session": 1, "items": [], "selected": [0]}"#, p);
        assert!(matches!(e, Err(SessionError::Format { .. })));
        let e = Session::from_json(r#"{"items": []}"#, p);
        assert!(matches!(e, Err(SessionError::Format { .. })));
    }

    #[test]
    fn version_2_sessions_load_without_xrd_patterns() {
        let p = Path::new("v2.carto");
        let s = Session::from_json(
            r#"{"carto_session": 2, "items": [], "view": {"tab": "mu", "fit_view": true}}"#,
            p,
        )
        .expect("a version 2 session loads");
        assert_eq!(s.xrd, None);
        assert!(s.view.fit_view && !s.view.xrd_view);
        let s = Session {
            xrd: Some(XrdSession {
                patterns: vec![XrdPatternSession {
                    name: "quartz".into(),
                    path: "/d/quartz.xy".into(),
                    sha256: "00".repeat(32),
                    wavelength: "CuKa".into(),
                    bkg_window_deg: 1.0,
                    bkg_method: Default::default(),
                    min_snr: 6.0,
                    fit_window_deg: 0.5,
                    color: [1, 2, 3, 255],
                }],
                selected: vec![0],
                active: Some(0),
                phases: Vec::new(),
                axis: "d".into(),
                log_y: true,
                library: Some(XrdLibrarySession {
                    dir: "/d/cifs".into(),
                    max_scale: 0.02,
                    search: String::new(),
                    ranking: Some(XrdRankingSession {
                        pattern: "quartz".into(),
                        rows: vec![crate::xrd::identify::RankedCandidate {
                            id: "quartz_amcsd".into(),
                            name: "quartz_amcsd.cif".into(),
                            formula: "SiO2".into(),
                            score: 0.97,
                            scale: 1.001,
                            matched_peaks: 12,
                            measured_peaks: 14,
                        }],
                    }),
                }),
                quant: None,
            }),
            ..Session::default()
        };
        let back = Session::from_json(&s.to_json(), p).expect("round trip");
        assert_eq!(back, s);
        let bad = s.to_json().replace("\"active\": 0", "\"active\": 4");
        assert!(matches!(
            Session::from_json(&bad, p),
            Err(SessionError::Format { .. })
        ));
    }

    #[test]
    fn version_1_sessions_load_without_a_fit_model() {
        let p = Path::new("old.carto");
        let s = Session::from_json(
            r#"{"carto_session": 1, "items": [], "view": {"tab": "chi-k"}}"#,
            p,
        )
        .expect("a version 1 session loads");
        assert_eq!(s.fit, None);
        assert_eq!(s.view.tab, "chi-k");
        assert!(!s.view.fit_view);
        let s = Session {
            fit: Some(FitSession {
                path: "/m/model.toml".into(),
                model: "[params]\nx = 1.0\n".into(),
            }),
            ..Session::default()
        };
        let back = Session::from_json(&s.to_json(), p).expect("round trip");
        assert_eq!(back, s);
    }
}
