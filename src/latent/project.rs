//! Learned projections of measured profiles of one modality (`carto
//! project`, the Projection view): PCA, NMF (non-negative, soft
//! mixed-phase memberships), the autoencoder, or PLS against a target (a
//! feature-table column: the scores are the coordinates, and the target is
//! predicted from them), trained on the grid points every training
//! profile covers, `fit` once and `transform` many times through a model
//! file. NMF clips noise-level negatives (down to
//! [`NMF_NEGATIVE_TOLERANCE`] of the largest value) to 0 and refuses
//! signed profiles such as k²χ(k). PLS needs every model point covered.

use ndarray::{Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use super::autoencoder::{Autoencoder, AutoencoderOptions};
use super::grid::{Modality, Profile};
use super::nmf::{Nmf, NmfOptions};
use super::pca::Pca;
use super::pls::Pls;

/// Which projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Pca,
    Nmf,
    Autoencoder,
    /// Partial least squares against a target column.
    Pls,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        match s.to_ascii_lowercase().as_str() {
            "pca" => Some(Method::Pca),
            "nmf" => Some(Method::Nmf),
            "autoencoder" | "ae" => Some(Method::Autoencoder),
            "pls" => Some(Method::Pls),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Method::Pca => "pca",
            Method::Nmf => "nmf",
            Method::Autoencoder => "autoencoder",
            Method::Pls => "pls",
        }
    }
}

/// A trained projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Fitted {
    Pca(Pca),
    Nmf(Nmf),
    Autoencoder(Autoencoder),
    Pls(Pls),
}

impl Fitted {
    pub fn method(&self) -> Method {
        match self {
            Fitted::Pca(_) => Method::Pca,
            Fitted::Nmf(_) => Method::Nmf,
            Fitted::Autoencoder(_) => Method::Autoencoder,
            Fitted::Pls(_) => Method::Pls,
        }
    }
    fn n_features(&self) -> usize {
        match self {
            Fitted::Pca(p) => p.n_features(),
            Fitted::Nmf(n) => n.n_features(),
            Fitted::Autoencoder(a) => a.n_features(),
            Fitted::Pls(p) => p.n_features(),
        }
    }
    /// Coordinates of one row (on the model's points) covering `mask`.
    fn transform_one(&self, x: ArrayView1<'_, f64>, mask: &[bool]) -> Result<Vec<f64>, String> {
        let r = match self {
            Fitted::Pca(p) => p.transform_masked(x, mask),
            Fitted::Nmf(n) => n.transform_one(x.mapv(|v| v.max(0.0)).view(), Some(mask)),
            Fitted::Autoencoder(a) => {
                let x2 = x.to_owned().insert_axis(ndarray::Axis(0));
                let m2 = ndarray::Array2::from_shape_fn((1, mask.len()), |(_, j)| mask[j]);
                a.transform(x2.view(), Some(m2.view()))
                    .map(|z| z.row(0).to_vec())
            }
            // ProjectionModel::transform has checked every point is covered.
            Fitted::Pls(p) => p
                .transform(x.insert_axis(ndarray::Axis(0)))
                .map(|z| z.row(0).to_vec()),
        };
        r.map_err(|e| e.to_string())
    }
}

/// How much of the training set a projection explains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    /// PCA: each component's fraction of the variance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_component: Vec<f64>,
    /// Fraction of the centred (PCA, autoencoder) or raw (NMF) sum of
    /// squares the reconstruction keeps.
    pub fraction: f64,
    /// The autoencoder's loss per epoch (standardised MSE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loss_history: Vec<f64>,
    /// PLS: the cross-validated RMS error of the target and Q² (leave one
    /// out up to 50 spectra, else 10 folds). `per_component` and
    /// `fraction` are then of the target's variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmsecv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q2: Option<f64>,
}

/// A trained projection saved as a file (`carto project --save`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectionModel {
    /// Format version (1).
    pub carto_projection_model: u32,
    /// xanes, exafs or xrd.
    pub modality: String,
    /// Absorber and edge of the training spectra ("Fe K"; empty for XRD):
    /// only spectra of that edge are projected.
    #[serde(default)]
    pub absorber: String,
    /// PLS: the target (a feature-table column name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Indices of the features on the modality's grid.
    pub points: Vec<usize>,
    pub explained: Explained,
    pub model: Fitted,
}

/// Options of [`fit_projection`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectOptions {
    pub method: Method,
    pub components: usize,
    /// Autoencoder training (its `components` is `components`).
    pub autoencoder: AutoencoderOptions,
}

impl Default for ProjectOptions {
    fn default() -> Self {
        ProjectOptions {
            method: Method::Pca,
            components: 2,
            autoencoder: AutoencoderOptions::default(),
        }
    }
}

/// Largest negative value NMF accepts (and clips to 0), as a fraction of
/// the largest value: normalized μ dips below 0 by noise in the pre-edge,
/// k²χ(k) swings to −100 %.
pub const NMF_NEGATIVE_TOLERANCE: f64 = 0.05;

/// `x` with noise-level negatives clipped to 0 for NMF, or why NMF does
/// not apply.
fn nmf_input(x: Array2<f64>) -> Result<Array2<f64>, String> {
    let top = x.iter().copied().fold(0.0f64, f64::max);
    let low = x.iter().copied().fold(0.0f64, f64::min);
    if low < -NMF_NEGATIVE_TOLERANCE * top {
        return Err(format!(
            "NMF needs non-negative profiles: the lowest value is {:.0} % of the highest (at most −{:.0} % is clipped as noise); use PCA or the autoencoder",
            100.0 * low / top.max(f64::MIN_POSITIVE),
            100.0 * NMF_NEGATIVE_TOLERANCE
        ));
    }
    Ok(x.mapv(|v| v.max(0.0)))
}

/// Most profiles a projection trains on (they are held in memory: 20,000
/// XRD profiles of 801 points are 128 MB).
pub const MAX_PROJECTION_SAMPLES: usize = 20_000;

/// Train a projection on `items` (id, profile; one grid, one absorber
/// `absorber`) on the grid points every profile covers (at least half the
/// grid, else an error naming the spectrum that covers least).
/// `progress(step, steps, loss)` (the autoencoder's epochs; PCA and NMF
/// report once) returning false cancels (then `None`).
pub fn fit_projection(
    items: &[(String, &Profile)],
    absorber: &str,
    o: &ProjectOptions,
    progress: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> Result<Option<ProjectionModel>, String> {
    let n = items.len();
    if n < 2 {
        return Err(format!("{n} spectra: a projection needs at least 2"));
    }
    if n > MAX_PROJECTION_SAMPLES {
        return Err(format!(
            "{n} spectra: at most {MAX_PROJECTION_SAMPLES} (the profiles are held in memory)"
        ));
    }
    if !(1..=32).contains(&o.components) {
        return Err(format!("{} components: 1–32", o.components));
    }
    let named: Vec<(&str, &Profile)> = items.iter().map(|(id, p)| (id.as_str(), *p)).collect();
    let used = super::grid::shared_points(&named)?;
    let grid = &items[0].1.grid;
    let x = Array2::from_shape_fn((n, used.len()), |(i, j)| items[i].1.values[used[j]]);
    let (model, explained) = match o.method {
        Method::Pca => {
            let p = Pca::fit(x.view(), o.components).map_err(|e| e.to_string())?;
            let explained = Explained {
                per_component: p.explained_variance_ratio.clone(),
                fraction: p.explained_variance_ratio.iter().sum(),
                loss_history: Vec::new(),
                rmsecv: None,
                q2: None,
            };
            if !progress(1, 1, 1.0 - explained.fraction) {
                return Ok(None);
            }
            (Fitted::Pca(p), explained)
        }
        Method::Nmf => {
            let x = nmf_input(x)?;
            let f = Nmf::fit(
                x.view(),
                &NmfOptions {
                    n_components: o.components,
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
            let total: f64 = x.iter().map(|v| v * v).sum();
            let err2 = f.model.reconstruction_err.powi(2);
            let explained = Explained {
                per_component: Vec::new(),
                fraction: if total > 0.0 { 1.0 - err2 / total } else { 0.0 },
                loss_history: Vec::new(),
                rmsecv: None,
                q2: None,
            };
            if !progress(1, 1, 1.0 - explained.fraction) {
                return Ok(None);
            }
            (Fitted::Nmf(f.model), explained)
        }
        Method::Autoencoder => {
            let mask = Array2::from_elem(x.dim(), true);
            let ao = AutoencoderOptions {
                components: o.components,
                ..o.autoencoder
            };
            let Some(a) = Autoencoder::fit(x.view(), mask.view(), &ao, progress)
                .map_err(|e| e.to_string())?
            else {
                return Ok(None);
            };
            let explained = Explained {
                per_component: Vec::new(),
                fraction: a.explained_fraction,
                loss_history: a.loss_history.clone(),
                rmsecv: None,
                q2: None,
            };
            (Fitted::Autoencoder(a), explained)
        }
        Method::Pls => {
            return Err("PLS needs a target value for each spectrum (fit_pls_projection)".into());
        }
    };
    Ok(Some(ProjectionModel {
        carto_projection_model: 1,
        modality: grid.modality.name().to_string(),
        absorber: absorber.to_string(),
        target: String::new(),
        points: used,
        explained,
        model,
    }))
}

/// Train a PLS projection of `items` (id, target value, profile; one
/// grid, one absorber) against the target `target` with `components`
/// ([`super::pls::pls_of_profiles`]: the points every profile covers, its
/// cross-validation): the scores are the coordinates.
pub fn fit_pls_projection(
    items: &[(String, f64, &Profile)],
    absorber: &str,
    target: &str,
    components: usize,
) -> Result<ProjectionModel, String> {
    if !(1..=32).contains(&components) {
        return Err(format!("{components} components: 1–32"));
    }
    let r = super::pls::pls_of_profiles(items, components)?;
    let modality = items
        .first()
        .map(|i| i.2.grid.modality.name().to_string())
        .unwrap_or_default();
    Ok(ProjectionModel {
        carto_projection_model: 1,
        modality,
        absorber: absorber.to_string(),
        target: target.to_string(),
        points: r.points,
        explained: Explained {
            per_component: r.model.y_explained.clone(),
            fraction: r.r2,
            loss_history: Vec::new(),
            rmsecv: Some(r.rmsecv),
            q2: Some(r.q2),
        },
        model: Fitted::Pls(r.model),
    })
}

impl ProjectionModel {
    /// Check a file read back: version, modality and sizes agree.
    pub fn check(&self) -> Result<Modality, String> {
        if self.carto_projection_model != 1 {
            return Err(format!(
                "carto_projection_model {}: this Carto reads version 1",
                self.carto_projection_model
            ));
        }
        let m = Modality::parse(&self.modality)
            .ok_or_else(|| format!("modality '{}': xanes, exafs or xrd", self.modality))?;
        let f = self.points.len();
        if f == 0 || self.points.iter().any(|&j| j >= m.grid().n) || self.model.n_features() != f {
            return Err(format!(
                "the model's {f} grid points do not match its arrays or the {} grid",
                m.name()
            ));
        }
        match &self.model {
            Fitted::Pca(p) => {
                if p.mean.len() != f
                    || p.components.iter().any(|c| c.len() != f)
                    || !p
                        .mean
                        .iter()
                        .chain(p.components.iter().flatten())
                        .all(|v| v.is_finite())
                {
                    return Err("model.components: not finite or of the wrong length".into());
                }
            }
            Fitted::Nmf(n) => {
                if n.components.iter().any(|c| c.len() != f)
                    || !n
                        .components
                        .iter()
                        .flatten()
                        .all(|v| v.is_finite() && *v >= 0.0)
                {
                    return Err(
                        "model.components: negative, not finite or of the wrong length".into(),
                    );
                }
            }
            Fitted::Autoencoder(a) => a.validate().map_err(|e| format!("model: {e}"))?,
            Fitted::Pls(p) => {
                if !p.sizes_agree(f) {
                    return Err("model: PLS arrays not finite or of the wrong length".into());
                }
                if self.target.is_empty() {
                    return Err("target: a PLS model names its target".into());
                }
            }
        }
        Ok(m)
    }

    /// Latent coordinates of `profile` (on the model's grid), or why not.
    pub fn transform(&self, profile: &Profile) -> Result<Vec<f64>, String> {
        if profile.grid.n != profile.values.len() || profile.mask.len() != profile.grid.n {
            return Err("malformed profile".into());
        }
        let covered = self
            .points
            .iter()
            .filter(|&&j| profile.mask.get(j).copied().unwrap_or(false))
            .count();
        if let Fitted::Pls(_) = self.model
            && covered < self.points.len()
        {
            return Err(format!(
                "covers {covered} of the PLS model's {} grid points (PLS needs all)",
                self.points.len()
            ));
        }
        if covered * 2 < self.points.len() {
            return Err(format!(
                "covers {covered} of the model's {} grid points (at least half are needed)",
                self.points.len()
            ));
        }
        let x =
            ndarray::Array1::from_shape_fn(self.points.len(), |j| profile.values[self.points[j]]);
        let mask: Vec<bool> = self.points.iter().map(|&j| profile.mask[j]).collect();
        self.model.transform_one(x.view(), &mask)
    }

    /// PLS: the target predicted from a point's coordinates (its scores).
    pub fn predicted(&self, coords: &[f64]) -> Option<f64> {
        match &self.model {
            Fitted::Pls(p) => Some(p.predict_from_scores(coords)),
            _ => None,
        }
    }

    /// Write as pretty JSON.
    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Read a model file, checked (errors name the file, and the line and
    /// column of a syntax error).
    pub fn load(path: &std::path::Path) -> Result<(ProjectionModel, Modality), String> {
        let bytes = crate::io::read_input(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{}: not a text file", path.display()))?;
        let m: ProjectionModel = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: line {}, column {}: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        let modality = m.check().map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((m, modality))
    }
}
