//! The feature table: one row per spectrum or pattern with the parameters
//! used and every number the core computed for it, as a polars DataFrame
//! with a fixed, documented schema ([`SCHEMA`], README "Feature table"),
//! written as CSV or Parquet. Rows are filled from the core's own typed
//! results ([`crate::xas::process::Processed`], [`crate::xanes::EdgeDescriptors`],
//! [`crate::exafs::feffit::FitResult`], [`crate::xanes::LcfFit`], the XRD peak
//! search and ranking); nothing here processes data.

pub mod batch;
pub mod bench;
mod table;

pub use table::{
    FeaturesError, Format, MAP_COLUMNS, TableWriter, map_table, numeric_columns, read_table,
    schema_of, table, table_with, write_table,
};

use crate::exafs::feffit::FitResult;
use crate::io::xrd::{XrdPattern, d_from_two_theta};
use crate::xanes::{EdgeDescriptors, LcfFit, XanesArray};
use crate::xas::process::Processed;
use crate::xas::{ChainParams, ChiR, PreEdge};
use crate::xrd::identify::RankedCandidate;
use crate::xrd::peaks::FoundPeak;

/// Standards of an LCF kept in the table (Larch fits combinations of up to 4 in practice).
pub const LCF_SLOTS: usize = 4;
/// Strongest XRD peaks kept.
pub const XRD_PEAK_SLOTS: usize = 3;
/// Best-ranked phases kept.
pub const XRD_PHASE_SLOTS: usize = 3;

/// One column of the table: its name (units in the name), polars type,
/// unit and meaning. README's schema table lists the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    /// "f64" (Float64), "i64" (Int64) or "str" (String).
    pub dtype: &'static str,
    pub unit: &'static str,
    pub meaning: &'static str,
}

macro_rules! feature_row {
    ($( $field:ident : $ty:tt , $unit:literal , $meaning:literal ; )*) => {
        /// One row of the table; `None` is a null. Numbers that are not
        /// finite become nulls when the table is built (never NaN).
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct FeatureRow {
            $( pub $field: Option<feature_row!(@ty $ty)>, )*
            /// EXAFS fit parameters (`fit_<name>`, `fit_<name>_stderr`),
            /// appended after the fixed columns in the model's order.
            pub extra: Vec<(String, Option<f64>)>,
        }

        /// The fixed columns, in table order.
        pub const SCHEMA: &[ColumnSpec] = &[
            $( ColumnSpec {
                name: stringify!($field),
                dtype: feature_row!(@name $ty),
                unit: $unit,
                meaning: $meaning,
            }, )*
        ];

        fn fixed_columns(rows: &[FeatureRow]) -> Vec<polars::prelude::Column> {
            vec![ $( table::column(stringify!($field), rows.iter().map(|r| r.$field.clone())), )* ]
        }
    };
    (@ty f64) => { f64 };
    (@ty i64) => { i64 };
    (@ty str) => { String };
    (@name f64) => { "f64" };
    (@name i64) => { "i64" };
    (@name str) => { "str" };
}

feature_row! {
    file_index: i64, "", "position of the source file in the sorted input list (restores the order after sharding)";
    source_file: str, "", "path of the file as given or found";
    group: str, "", "group label inside an Athena project";
    group_index: i64, "", "position of the spectrum in its file (0 for single-spectrum files)";
    modality: str, "", "xas (μ(E) through the whole chain), xanes (μ(E) normalized only: xanes = true, or a XANES scan ending < 1 Å⁻¹ past the FT kmin), chi (χ(k) as read) or xrd (powder pattern)";
    element: str, "", "absorbing element when the file says (XDI Element.symbol, Athena bkg_z)";
    edge: str, "", "absorption edge when the file says (XDI Element.edge, Athena fft_edge)";
    error: str, "", "why this row has no results (then every numeric column is null)";
    warnings: str, "", "what the reader and pre_edge accepted but flagged ('; '-joined): an inverted edge, a close or fallback μ recipe, XDI header problems, a reversed 2θ axis";
    n_points: i64, "", "points of μ(E), χ(k) or the pattern";
    energy_min_ev: f64, "eV", "first energy of μ(E)";
    energy_max_ev: f64, "eV", "last energy of μ(E)";
    pre1_ev: f64, "eV", "pre-edge fit range start, relative to e0 (as used)";
    pre2_ev: f64, "eV", "pre-edge fit range end, relative to e0";
    norm1_ev: f64, "eV", "post-edge fit range start, relative to e0";
    norm2_ev: f64, "eV", "post-edge fit range end, relative to e0";
    nnorm: i64, "", "post-edge polynomial degree";
    nvict: i64, "", "energy exponent of the pre-edge line (Victoreen)";
    rbkg_ang: f64, "Å", "AUTOBK rbkg";
    bkg_kweight: f64, "", "AUTOBK k-weight";
    bkg_kmin_inv_ang: f64, "Å⁻¹", "AUTOBK k range start (as used)";
    bkg_kmax_inv_ang: f64, "Å⁻¹", "AUTOBK k range end (as used)";
    bkg_dk_inv_ang: f64, "Å⁻¹", "AUTOBK window sill";
    nknots: i64, "", "AUTOBK spline knots (as used)";
    kmin_inv_ang: f64, "Å⁻¹", "Fourier transform k range start";
    kmax_inv_ang: f64, "Å⁻¹", "Fourier transform k range end (limited to the data)";
    dk_inv_ang: f64, "Å⁻¹", "Fourier transform window sill";
    kweight: f64, "", "Fourier transform k-weight";
    window: str, "", "Fourier transform window shape (Larch name)";
    e0_ev: f64, "eV", "edge energy from pre_edge";
    edge_step: f64, "μ", "edge step from pre_edge";
    pre_slope: f64, "μ/eV", "slope of the pre-edge line";
    pre_intercept: f64, "μ", "intercept of the pre-edge line";
    white_line_energy_ev: f64, "eV", "energy of the largest normalized μ within e0…e0+30 eV";
    white_line_height: f64, "", "that largest normalized μ (1 = edge step)";
    half_height_energy_ev: f64, "eV", "first crossing of normalized μ = 0.5 from e0−30 eV";
    pre_edge_centroid_ev: f64, "eV", "Larch pre_edge_baseline centroid (null when that fit fails)";
    chir_max_r_ang: f64, "Å", "R of the largest |χ(R)| above 1 Å";
    chir_max_mag: f64, "Å^-(kweight+1)", "that largest |χ(R)|";
    fit_chi_square: f64, "", "EXAFS fit χ²";
    fit_chi2_reduced: f64, "", "EXAFS fit reduced χ²";
    fit_r_factor: f64, "", "EXAFS fit R-factor";
    fit_n_idp: f64, "", "EXAFS fit independent points";
    fit_n_varys: i64, "", "EXAFS fit varied parameters";
    fit_nfree: i64, "", "EXAFS fit degrees of freedom";
    fit_nfev: i64, "", "EXAFS fit function evaluations";
    fit_aic: f64, "", "EXAFS fit Akaike information criterion";
    fit_bic: f64, "", "EXAFS fit Bayesian information criterion";
    lcf_array: str, "", "array the LCF fitted: norm or dmude";
    lcf_rfactor: f64, "", "LCF R-factor Σ(data−fit)²/Σdata²";
    lcf_chisqr: f64, "", "LCF χ²";
    lcf_redchi: f64, "", "LCF reduced χ²";
    lcf_total: f64, "", "sum of the LCF weights";
    lcf_e0_shift_ev: f64, "eV", "LCF energy shift of the data";
    lcf_1_standard: str, "", "first standard of the LCF";
    lcf_1_weight: f64, "", "its weight (fraction)";
    lcf_1_weight_stderr: f64, "", "standard error of that weight";
    lcf_2_standard: str, "", "second standard";
    lcf_2_weight: f64, "", "its weight";
    lcf_2_weight_stderr: f64, "", "its standard error";
    lcf_3_standard: str, "", "third standard";
    lcf_3_weight: f64, "", "its weight";
    lcf_3_weight_stderr: f64, "", "its standard error";
    lcf_4_standard: str, "", "fourth standard";
    lcf_4_weight: f64, "", "its weight";
    lcf_4_weight_stderr: f64, "", "its standard error";
    two_theta_min_deg: f64, "°", "first 2θ of the pattern";
    two_theta_max_deg: f64, "°", "last 2θ of the pattern";
    wavelength_ang: f64, "Å", "X-ray wavelength (from the file or the configuration)";
    xrd_n_peaks: i64, "", "peaks found above the background";
    xrd_background_mean: f64, "counts", "mean of the fitted background";
    xrd_peak_1_two_theta_deg: f64, "°", "strongest peak's 2θ";
    xrd_peak_1_d_ang: f64, "Å", "its d-spacing (null without a wavelength)";
    xrd_peak_1_height: f64, "counts", "its height above the background";
    xrd_peak_2_two_theta_deg: f64, "°", "second strongest peak's 2θ";
    xrd_peak_2_d_ang: f64, "Å", "its d-spacing";
    xrd_peak_2_height: f64, "counts", "its height above the background";
    xrd_peak_3_two_theta_deg: f64, "°", "third strongest peak's 2θ";
    xrd_peak_3_d_ang: f64, "Å", "its d-spacing";
    xrd_peak_3_height: f64, "counts", "its height above the background";
    xrd_phase_1_id: str, "", "best-ranked candidate phase (CIF id)";
    xrd_phase_1_score: f64, "", "its cosine similarity 0–1";
    xrd_phase_2_id: str, "", "second candidate";
    xrd_phase_2_score: f64, "", "its score";
    xrd_phase_3_id: str, "", "third candidate";
    xrd_phase_3_score: f64, "", "its score";
    map_x: f64, "", "x on the map (carto map --features, the Map view's export)";
    map_y: f64, "", "y on the map";
    map_cluster: i64, "", "k-means cluster of the measurements on the map, numbered from 1 as the Map view shows it";
    map_cluster_name: str, "", "that cluster's name (the Map view's, else cluster N)";
    map_nearest_cif: str, "", "nearest candidate structure (CIF id) by cosine on the common grid";
    map_nearest_score: f64, "", "its cosine similarity (1: identical shape)";
    map_method: str, "", "what made the map: stage, candidates, landmarks, σ² of the candidates' χ(k), 2-D layout, clusters";
}

fn count(n: usize) -> Option<i64> {
    i64::try_from(n).ok()
}

/// R and magnitude of the largest |χ(R)| above 1 Å (below that is background).
fn chir_max(r: &ChiR) -> Option<(f64, f64)> {
    r.r_ang
        .iter()
        .zip(&r.chir_mag)
        .filter(|(r, m)| **r > 1.0 && m.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(&r, &m)| (r, m))
}

impl FeatureRow {
    /// A row for spectrum `group_index` of file number `file_index`.
    pub fn new(
        file_index: usize,
        source_file: &str,
        group: Option<&str>,
        group_index: usize,
        modality: &str,
    ) -> Self {
        FeatureRow {
            file_index: count(file_index),
            source_file: Some(source_file.to_string()),
            group: group.map(str::to_string),
            group_index: count(group_index),
            modality: Some(modality.to_string()),
            ..FeatureRow::default()
        }
    }

    /// This row's identity (file, group, modality, element, edge) with
    /// `error` and every number left null.
    pub fn failed(&self, error: impl std::fmt::Display) -> Self {
        // One line, so a CSV row stays one line for line-based tools.
        let text = error.to_string().replace(['\n', '\r'], " ");
        FeatureRow {
            file_index: self.file_index,
            source_file: self.source_file.clone(),
            group: self.group.clone(),
            group_index: self.group_index,
            modality: self.modality.clone(),
            element: self.element.clone(),
            edge: self.edge.clone(),
            error: Some(text),
            warnings: self.warnings.clone(),
            ..FeatureRow::default()
        }
    }

    /// Append warnings to the `warnings` cell (`; `-joined, one line,
    /// each once).
    pub fn add_warnings<'a>(&mut self, warnings: impl IntoIterator<Item = &'a String>) {
        let mut all: Vec<String> = self
            .warnings
            .as_deref()
            .map(|w| w.split("; ").map(str::to_string).collect())
            .unwrap_or_default();
        for w in warnings {
            let w = w.replace(['\n', '\r'], " ").replace("; ", ", ");
            if !all.contains(&w) {
                all.push(w);
            }
        }
        self.warnings = (!all.is_empty()).then(|| all.join("; "));
    }

    /// Absorber and edge as the file states them.
    pub fn set_element_edge(&mut self, element: Option<&str>, edge: Option<&str>) {
        let clean = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        self.element = clean(element);
        self.edge = clean(edge);
    }

    /// pre_edge's results and the ranges it used.
    pub fn add_normalization(&mut self, pre: &PreEdge) {
        self.n_points = count(pre.energy_ev.len());
        self.energy_min_ev = pre.energy_ev.first().copied();
        self.energy_max_ev = pre.energy_ev.last().copied();
        self.pre1_ev = Some(pre.pre1);
        self.pre2_ev = Some(pre.pre2);
        self.norm1_ev = Some(pre.norm1);
        self.norm2_ev = Some(pre.norm2);
        self.nnorm = count(pre.nnorm);
        self.nvict = Some(i64::from(pre.nvict));
        self.e0_ev = Some(pre.e0);
        self.edge_step = Some(pre.edge_step);
        self.pre_slope = Some(pre.pre_slope);
        self.pre_intercept = Some(pre.pre_intercept);
    }

    /// The whole chain's output ([`crate::xas::process::run`]) with the
    /// parameters it was given (the values actually used where the chain
    /// reports them).
    pub fn add_xas(&mut self, params: &ChainParams, p: &Processed) {
        if let Some(pre) = &p.pre {
            self.add_normalization(pre);
        } else {
            self.n_points = count(p.k_inv_ang.len());
        }
        if let Some(bkg) = &p.bkg {
            self.rbkg_ang = Some(bkg.rbkg);
            self.bkg_kweight = Some(params.autobk.kweight);
            self.bkg_kmin_inv_ang = Some(bkg.kmin);
            self.bkg_kmax_inv_ang = Some(bkg.kmax);
            self.bkg_dk_inv_ang = Some(params.autobk.dk);
            self.nknots = count(bkg.nknots);
        }
        self.kmin_inv_ang = Some(p.ft.kmin);
        self.kmax_inv_ang = Some(p.ft.kmax);
        self.dk_inv_ang = Some(p.ft.dk);
        self.kweight = Some(p.ft.kweight);
        self.window = serde_json::to_value(p.ft.window)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        if let Some((r, m)) = chir_max(&p.chir) {
            self.chir_max_r_ang = Some(r);
            self.chir_max_mag = Some(m);
        }
    }

    /// Edge descriptors ([`crate::xanes::edge_descriptors`]).
    pub fn add_edge(&mut self, d: &EdgeDescriptors) {
        self.e0_ev = Some(d.e0_ev);
        self.edge_step = Some(d.edge_step);
        self.white_line_energy_ev = Some(d.white_line_energy_ev);
        self.white_line_height = Some(d.white_line_height);
        self.half_height_energy_ev = d.half_height_energy_ev;
        self.pre_edge_centroid_ev = d.pre_edge_centroid_ev;
    }

    /// An EXAFS fit: statistics and every parameter ± stderr.
    pub fn add_exafs_fit(&mut self, r: &FitResult) {
        let s = &r.stats;
        self.fit_chi_square = Some(s.chi_square);
        self.fit_chi2_reduced = Some(s.chi2_reduced);
        self.fit_r_factor = Some(s.r_factor);
        self.fit_n_idp = Some(s.n_idp);
        self.fit_n_varys = count(s.n_varys);
        self.fit_nfree = count(s.nfree);
        self.fit_nfev = count(s.nfev);
        self.fit_aic = Some(s.aic);
        self.fit_bic = Some(s.bic);
        for p in &r.params {
            let [value, stderr] = fit_param_columns(&p.name);
            self.extra.push((value, Some(p.value)));
            self.extra.push((stderr, p.stderr));
        }
    }

    /// A linear combination fit: statistics and the first [`LCF_SLOTS`]
    /// standards with their weights ± stderr.
    pub fn add_lcf(&mut self, fit: &LcfFit, array: XanesArray) {
        self.lcf_array = Some(array.name().to_string());
        self.lcf_rfactor = Some(fit.rfactor);
        self.lcf_chisqr = Some(fit.chisqr);
        self.lcf_redchi = Some(fit.redchi);
        self.lcf_total = Some(fit.total.value);
        self.lcf_e0_shift_ev = Some(fit.e0_shift_ev.value);
        let slots = [
            (
                &mut self.lcf_1_standard,
                &mut self.lcf_1_weight,
                &mut self.lcf_1_weight_stderr,
            ),
            (
                &mut self.lcf_2_standard,
                &mut self.lcf_2_weight,
                &mut self.lcf_2_weight_stderr,
            ),
            (
                &mut self.lcf_3_standard,
                &mut self.lcf_3_weight,
                &mut self.lcf_3_weight_stderr,
            ),
            (
                &mut self.lcf_4_standard,
                &mut self.lcf_4_weight,
                &mut self.lcf_4_weight_stderr,
            ),
        ];
        for ((name, w), (s, v, e)) in fit.standards.iter().zip(&fit.weights).zip(slots) {
            *s = Some(name.clone());
            *v = Some(w.value);
            *e = w.stderr;
        }
    }

    /// The peak search of a pattern: its range, the mean background and the
    /// strongest [`XRD_PEAK_SLOTS`] peaks (d from `wavelength_ang`).
    pub fn add_xrd_peaks(
        &mut self,
        pattern: &XrdPattern,
        wavelength_ang: Option<f64>,
        background: &[f64],
        peaks: &[FoundPeak],
    ) {
        self.n_points = count(pattern.npts());
        self.two_theta_min_deg = pattern.two_theta_deg.first().copied();
        self.two_theta_max_deg = pattern.two_theta_deg.last().copied();
        self.wavelength_ang = wavelength_ang;
        self.xrd_n_peaks = count(peaks.len());
        if !background.is_empty() {
            self.xrd_background_mean =
                Some(background.iter().sum::<f64>() / background.len() as f64);
        }
        let mut strongest: Vec<&FoundPeak> = peaks.iter().collect();
        strongest.sort_by(|a, b| b.height.total_cmp(&a.height));
        let slots = [
            (
                &mut self.xrd_peak_1_two_theta_deg,
                &mut self.xrd_peak_1_d_ang,
                &mut self.xrd_peak_1_height,
            ),
            (
                &mut self.xrd_peak_2_two_theta_deg,
                &mut self.xrd_peak_2_d_ang,
                &mut self.xrd_peak_2_height,
            ),
            (
                &mut self.xrd_peak_3_two_theta_deg,
                &mut self.xrd_peak_3_d_ang,
                &mut self.xrd_peak_3_height,
            ),
        ];
        for (p, (t, d, h)) in strongest.into_iter().zip(slots) {
            *t = Some(p.two_theta_deg);
            *d = wavelength_ang.map(|l| d_from_two_theta(p.two_theta_deg, l));
            *h = Some(p.height);
        }
    }

    /// The best [`XRD_PHASE_SLOTS`] candidates of a ranking (best first).
    pub fn add_xrd_phases(&mut self, ranking: &[RankedCandidate]) {
        let slots = [
            (&mut self.xrd_phase_1_id, &mut self.xrd_phase_1_score),
            (&mut self.xrd_phase_2_id, &mut self.xrd_phase_2_score),
            (&mut self.xrd_phase_3_id, &mut self.xrd_phase_3_score),
        ];
        for (c, (id, score)) in ranking.iter().zip(slots) {
            *id = Some(c.id.clone());
            *score = Some(c.score);
        }
    }
}

impl FeatureRow {
    /// A measurement's place on the map: coordinates, cluster (`cluster`
    /// 0-based, written from 1) and its name, nearest candidate, and the
    /// `method` line ([`map_method`]).
    pub fn add_map(
        &mut self,
        p: &crate::latent::MapPoint,
        cluster_name: Option<&str>,
        method: &str,
    ) {
        self.map_x = Some(p.x);
        self.map_y = Some(p.y);
        self.map_cluster = p.cluster.and_then(|c| count(c + 1));
        self.map_cluster_name = p.cluster.map(|c| match cluster_name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => format!("cluster {}", c + 1),
        });
        if let Some(n) = p.nearest.first() {
            self.map_nearest_cif = Some(n.cif.clone());
            self.map_nearest_score = Some(n.score);
        }
        self.map_method = Some(method.to_string());
    }

    /// The key a map point of this row has: the file, or `file:group` for
    /// a spectrum of an Athena project (as [`crate::latent::measured_views`]
    /// names them).
    pub fn map_id(&self) -> Option<String> {
        let file = self.source_file.as_deref()?;
        Some(match &self.group {
            Some(g) => format!("{file}:{g}"),
            None => file.to_string(),
        })
    }
}

/// Each row's place on `map` (its point found by [`FeatureRow::map_id`];
/// rows not on the map keep null map columns). `names[c]` names cluster
/// `c`. Returns the rows placed.
pub fn join_map(
    rows: &mut [FeatureRow],
    map: &crate::latent::LatentMap,
    names: &[String],
    method: &str,
) -> usize {
    let by_id: std::collections::HashMap<&str, &crate::latent::MapPoint> = (map.points.iter())
        .filter(|p| p.kind == crate::latent::map::PointKind::Measured)
        .map(|p| (p.id.as_str(), p))
        .collect();
    let mut placed = 0;
    for r in rows.iter_mut() {
        let Some(p) = r.map_id().and_then(|id| by_id.get(id.as_str()).copied()) else {
            continue;
        };
        let name = p.cluster.and_then(|c| names.get(c)).map(String::as_str);
        r.add_map(p, name, method);
        placed += 1;
    }
    placed
}

/// The `map_method` line of a map: what a reader needs to remake it.
/// `stage1_model`: the joint model file that ranked it (None: stage 0).
pub fn map_method(
    map: &crate::latent::LatentMap,
    candidates: usize,
    sigma2_ang2: f64,
    clusters: usize,
    stage1_model: Option<&str>,
) -> String {
    let stage = match stage1_model {
        Some(f) => format!("stage 1 (joint model {f})"),
        None => "stage 0 (cosine on the common grids)".to_string(),
    };
    let mut s = format!(
        "{stage}; {candidates} candidates; {} landmarks; candidates' chi(k) sigma2 {sigma2_ang2} A^2; layout {}",
        map.landmarks, map.layout
    );
    if clusters > 0 {
        s += &format!("; k-means k={clusters}");
    }
    s
}

/// The columns of an EXAFS fit parameter: `fit_<name>` and
/// `fit_<name>_stderr`, the name in lower_snake_case.
pub fn fit_param_columns(name: &str) -> [String; 2] {
    let name = snake(name);
    [format!("fit_{name}"), format!("fit_{name}_stderr")]
}

/// The columns of a model's parameters ([`fit_param_columns`], in the
/// model's order), or why they cannot be columns: two parameters with
/// the same column (`Amp` and `amp`, `a_stderr` beside `a`) or one that
/// is a fixed column (`chi_square` → `fit_chi_square`).
pub fn fit_columns<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut owner: Vec<&str> = Vec::new();
    for name in names {
        for col in fit_param_columns(name) {
            if SCHEMA.iter().any(|c| c.name == col) {
                return Err(format!(
                    "parameter '{name}': its column {col} is one of the fixed columns; rename it"
                ));
            }
            if let Some(i) = out.iter().position(|c| *c == col) {
                return Err(format!(
                    "parameters '{}' and '{name}' would both write column {col}; rename one",
                    owner[i]
                ));
            }
            out.push(col);
            owner.push(name);
        }
    }
    Ok(out)
}

/// A parameter name as a lower_snake_case column name part.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}
