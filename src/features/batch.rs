//! The feature rows of one file, as `carto batch` makes them: every
//! spectrum of the file (each μ(E) or χ(k) group of an Athena project)
//! through [`crate::xas::process`] with one configuration, or a powder
//! pattern through the XRD peak search. A file or spectrum that cannot be
//! processed gives a row with its error; nothing here stops a batch.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use serde::Deserialize;

use super::{FeatureRow, FeaturesError, TableWriter, fit_columns, schema_of, table_with};
use crate::exafs::plan::FitPlan;
use crate::io::athena::AthenaProject;
use crate::io::xrd::{XrdPattern, read_pattern_bytes};
use crate::io::{Dataset, FileKind, LoadOptions, load_bytes, route};
use crate::xanes::standards::load_standard;
use crate::xanes::{
    LcfFit, LcfParams, XanesArray, XanesGroup, edge_descriptors, lincombo_fit, lincombo_fitall,
};
use crate::xas::process::{self, XasInput};
use crate::xas::{ChainOptions, ChainParams, PreEdge};
use crate::xrd::identify::{Candidate, load_candidates, prepare, rank};
use crate::xrd::peaks::{BackgroundMethod, search};

/// Processing parameters of a batch (`--config FILE.toml`): the names and
/// defaults of `carto xas`'s options (`bkg_kmin` is `--bkg-kmin`…), plus
/// `xanes` (normalize only), `edge_descriptors` and an `[xrd]` table with
/// `carto xrd peaks`'s options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchConfig {
    /// pre_edge → autobk → xftf: `carto xas`'s options, as top-level keys.
    #[serde(flatten)]
    pub chain: ChainOptions,
    /// Normalize only (XANES): no AUTOBK or Fourier transform.
    pub xanes: bool,
    /// White line, half-height energy and pre-edge centroid of every μ(E).
    pub edge_descriptors: bool,
    pub xrd: XrdConfig,
    /// `[lcf]`: a linear combination fit of every μ(E) (absent: none).
    pub lcf: Option<LcfConfig>,
    /// `[fit]`: an EXAFS fit of every μ(E) and χ(k) (absent: none).
    pub fit: Option<FitConfig>,
}

/// `[fit]`: `carto fit`'s model fitted to every EXAFS spectrum of the batch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitConfig {
    /// The model file (`carto fit`'s TOML), relative to the configuration
    /// file's folder.
    pub model: PathBuf,
    /// The model, read and checked when the configuration is loaded.
    #[serde(skip)]
    pub plan: Option<Arc<FitPlan>>,
    /// `fit_<param>`, `fit_<param>_stderr` of the model's parameters.
    #[serde(skip)]
    pub columns: Vec<String>,
}

impl PartialEq for FitConfig {
    /// The same model file (what is read from it follows).
    fn eq(&self, other: &Self) -> bool {
        self.model == other.model
    }
}

impl FitConfig {
    /// Read, check and prepare the model at `base`/`model`.
    fn load(&mut self, base: &Path) -> Result<(), String> {
        let path = base.join(&self.model);
        let plan = FitPlan::load(&path).map_err(|e| e.to_string())?;
        let n = plan.model.datasets.len();
        if n != 1 {
            return Err(format!(
                "{}: {n} datasets; a batch fits each spectrum on its own: give a model with one [data]",
                path.display()
            ));
        }
        // Expressions and paths compile now, not once per spectrum.
        plan.fit_check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.columns = fit_columns(plan.model.params.iter().map(|p| p.name.as_str()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.plan = Some(Arc::new(plan));
        Ok(())
    }

    /// Fit `input` (row's element, edge and e0 checked against the
    /// model's absorber) and add the fit's columns to `row`.
    fn fit_row(&self, row: &mut FeatureRow, input: &XasInput) -> Result<(), String> {
        let plan = (self.plan.as_deref()).ok_or("EXAFS fit: the [fit] model was not loaded")?;
        plan.check_absorber(row.element.as_deref(), row.edge.as_deref(), row.e0_ev)
            .map_err(|e| format!("EXAFS fit refused: {e}"))?;
        let label = (row.group.clone())
            .or_else(|| row.source_file.clone())
            .unwrap_or_default();
        let data = match input {
            XasInput::Mu(s) => plan
                .data_from_mu(&label, &s.energy_ev, &s.mu)
                .map_err(|e| format!("EXAFS fit: data: {e}"))?,
            XasInput::Chi(c) => plan.data_from_chi(&label, &c.k_inv_ang, &c.chi),
        };
        let res = plan
            .fit(Some(data))
            .map_err(|e| format!("EXAFS fit: {e}"))?;
        if !res.stats.success {
            return Err(format!("EXAFS fit did not succeed: {}", res.stats.message));
        }
        row.add_exafs_fit(&res);
        Ok(())
    }
}

/// `[lcf]`: `carto xanes lcf`'s options for every μ(E) of the batch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LcfConfig {
    /// `FILE[:GROUP]`, relative to the configuration file's folder.
    pub standards: Vec<String>,
    /// Range relative to each spectrum's e0 (eV; Athena's −20 … +30).
    #[serde(default = "default_emin")]
    pub emin: f64,
    #[serde(default = "default_emax")]
    pub emax: f64,
    /// "norm" or "dmude".
    #[serde(default)]
    pub array: XanesArray,
    #[serde(default = "default_true")]
    pub sum_to_one: bool,
    /// Best of every combination of up to N standards (Larch's
    /// `lincombo_fitall`); absent: all standards in one fit.
    pub all: Option<usize>,
    /// The standards, read and normalized when the configuration is loaded.
    #[serde(skip)]
    pub groups: Vec<XanesGroup>,
}

fn default_emin() -> f64 {
    -20.0
}
fn default_emax() -> f64 {
    30.0
}
fn default_true() -> bool {
    true
}

impl LcfConfig {
    /// The best fit of `g` (its array and range as configured).
    pub fn fit(&self, g: &XanesGroup) -> Result<LcfFit, String> {
        let p = LcfParams {
            array: self.array,
            xmin_ev: g.e0_ev + self.emin,
            xmax_ev: g.e0_ev + self.emax,
            sum_to_one: self.sum_to_one,
            max_ncomps: self.all,
            max_output: 1,
            ..LcfParams::default()
        };
        let refs: Vec<&XanesGroup> = self.groups.iter().collect();
        let fits = match self.all {
            Some(_) => lincombo_fitall(g, &refs, &p),
            None => lincombo_fit(g, &refs, None, &p).map(|f| vec![f]),
        };
        fits.map_err(|e| format!("LCF: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| "LCF: no combination could be fitted".to_string())
    }
}

/// `[xrd]`: the peak search of `carto xrd peaks`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XrdConfig {
    pub background: BackgroundMethod,
    /// °2θ.
    pub bkg_window: f64,
    pub min_snr: f64,
    /// Name (CuKa, MoKa…) or Å, for patterns whose file gives none.
    pub wavelength: Option<String>,
    /// A folder of candidate CIFs (relative to the configuration file's
    /// folder): every pattern is ranked against them as by `carto xrd
    /// identify`, filling the `xrd_phase_*` columns (absent: no ranking).
    pub candidates: Option<PathBuf>,
    /// `carto xrd identify --max-scale`: the largest common lattice
    /// scaling tried per candidate (fraction, 0–0.2).
    pub max_scale: f64,
    /// The candidates, read once when the configuration is loaded.
    #[serde(skip)]
    pub library: CandidateLibrary,
}

/// The candidates of `[xrd] candidates`, shared by every worker.
#[derive(Debug, Clone, Default)]
pub struct CandidateLibrary(pub Option<Arc<Vec<Candidate>>>);

impl PartialEq for CandidateLibrary {
    /// Read from the same folder (compared by `XrdConfig::candidates`).
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Default for XrdConfig {
    fn default() -> Self {
        XrdConfig {
            background: BackgroundMethod::Snip,
            bkg_window: 1.0,
            min_snr: 6.0,
            wavelength: None,
            candidates: None,
            max_scale: 0.02,
            library: CandidateLibrary::default(),
        }
    }
}

impl XrdConfig {
    /// Read every CIF of `base`/`candidates` once; a folder without one
    /// readable structure is an error (a ranking against nothing).
    fn load_candidates(&mut self, base: &Path) -> Result<(), String> {
        let Some(dir) = &self.candidates else {
            return Ok(());
        };
        let dir = base.join(dir);
        let (cands, errors) = load_candidates(&dir).map_err(|e| e.to_string())?;
        if cands.is_empty() {
            let why = errors
                .first()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default();
            return Err(format!(
                "{}: no readable CIF among {} files{why}",
                dir.display(),
                errors.len()
            ));
        }
        self.library = CandidateLibrary(Some(Arc::new(cands)));
        Ok(())
    }

    /// Rank the pattern (background already found) against the candidates
    /// and fill the `xrd_phase_*` columns.
    fn rank_row(
        &self,
        row: &mut FeatureRow,
        pat: &XrdPattern,
        wl: Option<f64>,
    ) -> Result<(), String> {
        let Some(cands) = self.library.0.as_deref() else {
            return Ok(());
        };
        let wl = wl.ok_or(
            "phase ranking: the file gives no wavelength: set xrd.wavelength in the batch config",
        )?;
        let prep = prepare(&pat.two_theta_deg, &pat.intensity, wl)
            .map_err(|e| format!("phase ranking: {e}"))?;
        let ranked = rank(&prep, cands, self.max_scale);
        row.add_xrd_phases(&ranked);
        Ok(())
    }
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            chain: ChainOptions::default(),
            xanes: false,
            edge_descriptors: true,
            xrd: XrdConfig::default(),
            lcf: None,
            fit: None,
        }
    }
}

/// A configuration that cannot mean anything, naming the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl BatchConfig {
    /// Read and check a configuration file.
    pub fn load(path: &Path) -> Result<BatchConfig, ConfigError> {
        let file = path.display().to_string();
        let err = |message: String| ConfigError {
            file: file.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut c: BatchConfig = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        c.check().map_err(err)?;
        if let Some(l) = &mut c.lcf {
            let base = path.parent();
            for spec in &l.standards {
                let g =
                    load_standard(spec, base).map_err(|e| err(format!("lcf.standards: {e}")))?;
                l.groups.push(g);
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(f) = &mut c.fit {
            f.load(base).map_err(|e| err(format!("fit.model: {e}")))?;
        }
        c.xrd
            .load_candidates(base)
            .map_err(|e| err(format!("xrd.candidates: {e}")))?;
        Ok(c)
    }

    /// Values the processing would replace silently or cannot use.
    pub fn check(&self) -> Result<(), String> {
        self.chain.check().map_err(|e| e.to_string())?;
        for (key, v) in [
            ("xrd.bkg_window", self.xrd.bkg_window),
            ("xrd.min_snr", self.xrd.min_snr),
        ] {
            if !v.is_finite() {
                return Err(format!("invalid {key} = {v}: must be a finite number"));
            }
        }
        if !(self.xrd.bkg_window > 0.0 && self.xrd.min_snr > 0.0) {
            return Err("xrd.bkg_window and xrd.min_snr must be > 0".into());
        }
        if !(0.0..=0.2).contains(&self.xrd.max_scale) {
            return Err(format!(
                "invalid xrd.max_scale = {}: must be in [0, 0.2]",
                self.xrd.max_scale
            ));
        }
        if let Some(l) = &self.lcf {
            if l.standards.len() < 2 {
                return Err(format!(
                    "lcf.standards: {} given; a linear combination needs at least 2",
                    l.standards.len()
                ));
            }
            if !(l.emin.is_finite() && l.emax.is_finite() && l.emin < l.emax) {
                return Err(format!(
                    "lcf.emin = {} must be below lcf.emax = {}",
                    l.emin, l.emax
                ));
            }
            if l.all.is_some_and(|n| n < 2) {
                return Err("lcf.all: combinations need at least 2 standards".into());
            }
        }
        if let Some(w) = &self.xrd.wavelength {
            crate::xrd::parse_wavelength(w).map_err(|e| format!("xrd.wavelength: {e}"))?;
        }
        Ok(())
    }

    /// The chain's parameters (as `carto xas` builds them from its options).
    pub fn chain_params(&self) -> ChainParams {
        self.chain.chain_params()
    }
}

/// First metadata value under any of `keys` (case-insensitive), as XDI
/// (`Element.symbol`) and other headers spell them.
fn meta<'a>(m: &'a std::collections::BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    m.iter()
        .find(|(k, _)| keys.iter().any(|want| k.eq_ignore_ascii_case(want)))
        .map(|(_, v)| v.as_str())
}

pub(crate) fn element_edge_of_table(
    row: &mut FeatureRow,
    m: &std::collections::BTreeMap<String, String>,
) {
    row.set_element_edge(
        meta(m, &["Element.symbol", "Scan.element"]),
        meta(m, &["Element.edge", "Scan.edge"]),
    );
}

/// The rows of one μ(E) or χ(k) spectrum.
fn spectrum_row(
    mut row: FeatureRow,
    input: &XasInput,
    c: &BatchConfig,
    p: &ChainParams,
) -> FeatureRow {
    match input {
        XasInput::Mu(s) => row.add_warnings(&s.table.warnings),
        XasInput::Chi(c) => row.add_warnings(&c.table.warnings),
    }
    if let XasInput::Mu(s) = input {
        if s.energy_ev.is_empty() {
            return row.failed("no data points");
        }
        if let Some(e0) = c.chain.e0 {
            // As `carto xas --e0`: Larch would replace an e0 off the data silently.
            let (lo, hi) = s
                .energy_ev
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &e| {
                    (a.min(e), b.max(e))
                });
            if !(lo..=hi).contains(&e0) {
                return row.failed(format!(
                    "invalid e0 {e0}: outside the data's energy range {lo:.2}–{hi:.2} eV"
                ));
            }
        }
    }
    let pre = if c.xanes {
        match process::normalize(input, &[], &p.pre_edge) {
            Ok((_, pre)) => {
                row.modality = Some("xanes".into());
                row.add_normalization(&pre);
                Some(pre)
            }
            Err(e) => return row.failed(e),
        }
    } else {
        let xanes_row = |mut row: FeatureRow, pre: PreEdge| {
            row.modality = Some("xanes".into());
            row.add_normalization(&pre);
            (row, Some(pre))
        };
        let (r, pre) = match process::run(input, &[], p, None) {
            Ok(out) => match out.pre.clone().filter(|pre| is_xanes_scan(input, pre, p)) {
                Some(pre) => xanes_row(row, pre),
                None => {
                    row.add_xas(p, &out);
                    (row, out.pre)
                }
            },
            Err(e) => match process::normalize(input, &[], &p.pre_edge) {
                Ok((_, pre)) if is_xanes_scan(input, &pre, p) => xanes_row(row, pre),
                _ => return row.failed(e),
            },
        };
        row = r;
        pre
    };
    if let Some(pre) = &pre {
        row.add_warnings(&pre.warnings);
    }
    if let Some(l) = &c.lcf
        && let Some(pre) = &pre
    {
        let label = row
            .group
            .clone()
            .or_else(|| row.source_file.clone())
            .unwrap_or_default();
        match l.fit(&XanesGroup::from_pre_edge(label, pre.clone())) {
            Ok(fit) => row.add_lcf(&fit, l.array),
            Err(e) => return row.failed(e),
        }
    }
    if let Some(f) = &c.fit {
        if row.modality.as_deref() == Some("xanes") {
            row.add_warnings(&["no EXAFS fit: a XANES row".to_string()]);
        } else if let Err(e) = f.fit_row(&mut row, input) {
            return row.failed(e);
        }
    }
    if c.edge_descriptors
        && let Some(pre) = pre
    {
        add_descriptors(&mut row, pre);
    }
    row
}

/// Energy above e0 a μ(E) must reach to be normalized on its own
/// (Larch's default post-edge range starts 150 eV up, but XANES scans are
/// normalized on what there is; below 15 eV there is no post-edge line).
pub const XANES_MIN_POST_EDGE_EV: f64 = 15.0;

/// A μ(E) that is a XANES scan: its data end less than 1 Å⁻¹ past the
/// Fourier transform's kmin (too little χ(k) to mean anything, whether
/// AUTOBK ran or not), yet reach [`XANES_MIN_POST_EDGE_EV`] above e0. The
/// batch gives it a normalized (`xanes`) row instead of an error or a
/// meaningless χ(R); a scan that stops at the edge is not one.
pub(crate) fn is_xanes_scan(input: &XasInput, pre: &PreEdge, p: &ChainParams) -> bool {
    let XasInput::Mu(s) = input else {
        return false;
    };
    let emax = s
        .energy_ev
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let above_ev = emax - pre.e0;
    let k_end = (crate::units::ETOK * above_ev.max(0.0)).sqrt();
    above_ev >= XANES_MIN_POST_EDGE_EV && k_end < p.ft.kmin + 1.0
}

/// Edge descriptors from pre_edge's output; a spectrum too short for them
/// keeps its other results (the descriptors stay null).
pub(crate) fn add_descriptors(row: &mut FeatureRow, pre: PreEdge) {
    let label = row
        .group
        .clone()
        .or_else(|| row.source_file.clone())
        .unwrap_or_default();
    let g = XanesGroup::from_pre_edge(label, pre);
    if let Ok(d) = edge_descriptors(&g, None) {
        row.add_edge(&d);
    }
}

/// One row per μ(E) or χ(k) group of a project; the project reader's
/// located warnings (skipped statements, odd arguments) go on every row,
/// since a warning about the file may concern any of its groups.
fn athena_rows(
    file_index: usize,
    file: &str,
    proj: &AthenaProject,
    c: &BatchConfig,
    p: &ChainParams,
) -> Vec<FeatureRow> {
    proj.groups
        .iter()
        // Derived groups (differences, background, pixel data) are not spectra.
        .filter(|g| g.is_xmu() || g.is_chi())
        .enumerate()
        .map(|(i, g)| {
            let (modality, input) = if g.is_chi() {
                ("chi", g.to_chi(file).map(XasInput::Chi))
            } else {
                ("xas", g.to_spectrum(file).map(XasInput::Mu))
            };
            let mut row = FeatureRow::new(file_index, file, Some(&g.label), i, modality);
            row.add_warnings(&proj.warnings);
            row.set_element_edge(
                g.param_str("bkg_z").as_deref(),
                g.param_str("fft_edge").as_deref(),
            );
            match input {
                Ok(input) => spectrum_row(row, &input, c, p),
                Err(e) => row.failed(e),
            }
        })
        .collect()
}

fn pattern_row(mut row: FeatureRow, pat: &XrdPattern, c: &BatchConfig) -> FeatureRow {
    row.add_warnings(&pat.warnings);
    let wl = match &c.xrd.wavelength {
        Some(w) => crate::xrd::parse_wavelength(w).ok(),
        None => pat.wavelength_ang,
    };
    let (bkg, found) = search(
        &pat.two_theta_deg,
        &pat.intensity,
        c.xrd.background,
        c.xrd.bkg_window,
        c.xrd.min_snr,
    );
    row.add_xrd_peaks(pat, wl, &bkg, &found);
    match c.xrd.rank_row(&mut row, pat, wl) {
        Ok(()) => row,
        Err(e) => row.failed(e),
    }
}

/// Every feature row of the file `path` read as `bytes`, numbered
/// `file_index` in the batch.
pub fn rows_of_bytes(
    file_index: usize,
    path: &Path,
    bytes: &[u8],
    c: &BatchConfig,
    p: &ChainParams,
) -> Vec<FeatureRow> {
    let file = path.display().to_string();
    let opts = LoadOptions::default();
    match route(bytes, path, &opts) {
        FileKind::Pattern => {
            let row = FeatureRow::new(file_index, &file, None, 0, "xrd");
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            match read_pattern_bytes(bytes, &file, ext.as_deref()) {
                Ok(pat) => vec![pattern_row(row, &pat, c)],
                Err(e) => vec![row.failed(e)],
            }
        }
        FileKind::Structure | FileKind::FitModel => vec![
            FeatureRow::new(file_index, &file, None, 0, "xas").failed(format!(
                "{file}: not a spectrum or pattern (a structure or fit model)"
            )),
        ],
        FileKind::Spectra => match load_bytes(bytes, &file, &opts) {
            Ok(Dataset::Athena(proj)) => athena_rows(file_index, &file, &proj, c, p),
            Ok(Dataset::Xas(s)) => {
                let mut row = FeatureRow::new(file_index, &file, None, 0, "xas");
                element_edge_of_table(&mut row, &s.table.metadata);
                vec![spectrum_row(row, &XasInput::Mu(s), c, p)]
            }
            Ok(Dataset::Chi(ch)) => {
                let mut row = FeatureRow::new(file_index, &file, None, 0, "chi");
                element_edge_of_table(&mut row, &ch.table.metadata);
                vec![spectrum_row(row, &XasInput::Chi(ch), c, p)]
            }
            Ok(Dataset::Feff(_)) => vec![
                FeatureRow::new(file_index, &file, None, 0, "xas")
                    .failed(format!("{file}: a FEFF path file has no μ(E)")),
            ],
            Err(e) => vec![FeatureRow::new(file_index, &file, None, 0, "xas").failed(e)],
        },
    }
}

/// [`rows_of_bytes`] for a file on disk (an unreadable file is one error row).
pub fn rows_of_file(
    file_index: usize,
    path: &Path,
    c: &BatchConfig,
    p: &ChainParams,
) -> Vec<FeatureRow> {
    match std::fs::read(path) {
        Ok(bytes) => rows_of_bytes(file_index, path, &bytes, c, p),
        Err(e) => vec![
            FeatureRow::new(file_index, &path.display().to_string(), None, 0, "xas")
                .failed(format!("cannot read {}: {e}", path.display())),
        ],
    }
}

/// Files processed per chunk: each chunk's rows are written and dropped
/// before the next is read, so memory does not grow with the input.
pub const CHUNK_FILES: usize = 512;

/// Rows written and rows with an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub rows: usize,
    pub failed: usize,
}

/// The rows of `files[range]` (numbered by their position in `files`),
/// over the current rayon pool, written chunk by chunk to `out` (.csv or
/// .parquet); `progress` is called once per file.
pub fn write_batch(
    files: &[PathBuf],
    range: std::ops::Range<usize>,
    c: &BatchConfig,
    out: &Path,
    progress: &(dyn Fn() + Sync),
) -> Result<BatchCounts, FeaturesError> {
    let params = c.chain_params();
    let extra = c.fit.as_ref().map_or(&[][..], |f| &f.columns[..]);
    let mut writer = TableWriter::create(out, &schema_of(&table_with(&[], extra)?))?;
    let mut failed = 0;
    let indices: Vec<usize> = range.filter(|&i| i < files.len()).collect();
    for chunk in indices.chunks(CHUNK_FILES) {
        let rows: Vec<FeatureRow> = chunk
            .par_iter()
            .map(|&i| {
                let r = rows_of_file(i, &files[i], c, &params);
                progress();
                r
            })
            .flatten_iter()
            .collect();
        failed += rows.iter().filter(|r| r.error.is_some()).count();
        writer.write(&mut table_with(&rows, extra)?)?;
    }
    let rows = writer.rows();
    writer.finish()?;
    Ok(BatchCounts { rows, failed })
}
