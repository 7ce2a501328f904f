//! Stage 1 of the shared latent space (issue 15): per-view whitened PCA,
//! multi-set regularized CCA with the structure as the anchor, and an
//! optional orthogonal Procrustes map from measured to simulated
//! coordinates. Stage 0 ([`super::map`], cosine on the grid) is the
//! baseline it must beat; `tests/latent.rs` reports both.
//!
//! Objective, stated. Every view `v` of a candidate (XRD on Q, k²χ(k) of
//! one absorber …, [`ViewKey`]) is scaled to unit norm on its grid (as the
//! stage-0 cosine is blind to amplitude), then
//!
//! 1. **PCA** per view on every training candidate that has it, keeping
//!    components up to [`JointOptions::variance_fraction`] of the variance
//!    (at most [`JointOptions::max_components`]): scores `s_v`.
//! 2. **Ridge-regularized whitening** on the *anchor rows* (structures that
//!    have two or more views): `y_v = (C_vv + r_v I)^(-1/2) (s_v − μ_v)`,
//!    `C_vv` the covariance of the scores over those rows, `r_v = ridge ·
//!    tr(C_vv)/p_v` (scale-free). Ridge CCA, Vinod (1976) J. Econometrics
//!    4:147; in PCA coordinates as Leurgans, Moyeed & Silverman (1993).
//! 3. **Multi-set CCA** (MAXVAR form; Kettenring (1971) Biometrika 58:433,
//!    Carroll (1968)): the eigenvectors of `M`, the block matrix with
//!    identity diagonal blocks and off-diagonal blocks `C̃_vw` = the
//!    cross-covariance of `y_v` and `y_w` over the structures that have
//!    both (the structure is the anchor: paired rows are the same CIF; a
//!    structure lacking a view adds nothing to that view's blocks). With two
//!    views the eigenvalues are `1 ± ρ_i` and the eigenvectors the canonical
//!    directions, so this *is* regularized CCA (Hotelling (1936)
//!    Biometrika 28:321); with `m` views a direction all views share has
//!    eigenvalue `1 + (m − 1)ρ`, and `ρ_i = (λ_i − 1)/(m − 1)` is kept as
//!    its canonical correlation. Why multi-set rather than pairwise CCA: one
//!    space for XRD and every absorber's χ(k) at once, so a Cu K spectrum,
//!    an Fe K spectrum and a pattern of the same structure meet, not three
//!    XRD-hub spaces.
//! 4. The shared space: `d` dimensions ([`JointOptions::max_dims`], those
//!    with ρ > 0). A view's coordinates are its canonical variates weighted
//!    by √ρ_i: `g_v = √ρ ⊙ (a_vᵀ y_v)`, `a_v` the view's unit block of each
//!    eigenvector — the posterior mean of the shared latent of probabilistic
//!    CCA with `M = P^½` (Bach & Jordan (2005) TR 688), so a dimension the
//!    views barely share counts little in the cosine. A candidate's point
//!    (its anchor) is the mean of its views' unit coordinates; a measurement
//!    is ranked by cosine with the anchors of the candidates that have its
//!    view (an XAS view only on structures holding the absorber, as stage 0).
//! 5. The ridge and the PCA components per view, when not given, are
//!    chosen from [`RIDGE_GRID`] × [`COMPONENT_GRID`] by K-fold
//!    cross-validation *inside the training set* (folds by formula, so
//!    polymorph entries of one compound stay together; the PCA bases,
//!    unsupervised, stay fitted on the whole training set): the mean
//!    reciprocal rank of each held-out structure's own view in another
//!    modality among every anchor's (the library a query meets).
//! 6. **Orthogonal Procrustes** (Schönemann (1966) Psychometrika 31:1), per
//!    view: `min ‖(G_meas − μ_m) R − (G_sim − μ_s)‖_F`, `RᵀR = I`, solved by
//!    the SVD `(G_meas−μ_m)ᵀ(G_sim−μ_s) = U Σ Vᵀ`, `R = U Vᵀ`, fitted on
//!    measured spectra whose structure is known (their simulated view's
//!    coordinates as targets) and applied to the measured view's
//!    coordinates before ranking. Where those pairs come from, and how
//!    few they are, is said in the tests ([`JointModel::fit_procrustes`]).
//!
//! `fit` once on candidates, `transform` many times; the model is a JSON
//! file ([`JointModel::save`], [`JointModel::load`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::candidates::{CandidateViews, ViewKey};
use super::grid::Profile;
use super::layout::Layout;
use super::map::{Explains, LatentMap, MapOptions, MapPoint, MeasuredView, Near};
use super::pca::{LatentError, Pca};

/// The `format` field of a model file.
pub const MODEL_FORMAT: &str = "carto-joint-model";
/// The model file's version (a file of another version is refused).
pub const MODEL_VERSION: u32 = 1;
/// Ridges (× mean variance of a view's PCA scores) tried by the
/// cross-validation of [`JointModel::fit`] when none is given.
pub const RIDGE_GRID: [f64; 6] = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0];
/// PCA components per view tried by that cross-validation.
pub const COMPONENT_GRID: [usize; 4] = [8, 16, 32, 48];

/// How a joint model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JointOptions {
    /// PCA components kept per view: up to this fraction of the variance.
    pub variance_fraction: f64,
    /// … and at most this many.
    pub max_components: usize,
    /// Ridge × the mean variance of a view's scores; `None`: chosen by
    /// cross-validation from [`RIDGE_GRID`].
    pub ridge: Option<f64>,
    /// PCA components per view used by the CCA; `None`: chosen by
    /// cross-validation from [`COMPONENT_GRID`] (at most `max_components`).
    pub components: Option<usize>,
    /// Dimensions of the shared space at most.
    pub max_dims: usize,
    /// Structures with two or more views needed for the CCA (fewer: the
    /// model is each view's whitened PCA alone, said in `notes`).
    pub min_anchors: usize,
    /// Folds of the ridge's cross-validation.
    pub cv_folds: usize,
}

impl Default for JointOptions {
    fn default() -> Self {
        JointOptions {
            variance_fraction: 0.99,
            max_components: 48,
            ridge: None,
            components: None,
            max_dims: 16,
            min_anchors: 8,
            cv_folds: 4,
        }
    }
}

/// One view's PCA and ridge whitening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewModel {
    pub key: ViewKey,
    /// PCA of the unit-norm profiles (kept components only).
    pub pca: Pca,
    /// Candidates the PCA was fitted on.
    pub n_train: usize,
    /// Mean of the scores over the anchor rows (p).
    pub score_mean: Vec<f64>,
    /// `(C + rI)^(-1/2)`, p × p, row-major.
    pub whitening: Vec<Vec<f64>>,
    /// The absolute ridge r.
    pub ridge: f64,
    /// Shared-space weights, p × d, row-major (`g = yᵀ W`).
    pub weights: Vec<Vec<f64>>,
    /// Measured → simulated rotation in the shared space, when fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procrustes: Option<Procrustes>,
}

/// An orthogonal Procrustes map with translation (module doc, 6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procrustes {
    pub mean_from: Vec<f64>,
    pub mean_to: Vec<f64>,
    /// d × d orthogonal, row-major: `to = (from − mean_from) R + mean_to`.
    pub rotation: Vec<Vec<f64>>,
    /// Pairs it was fitted on.
    pub pairs: usize,
}

/// A trained stage-1 model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JointModel {
    pub format: String,
    pub version: u32,
    pub options: JointOptions,
    /// The ridge used (given, or chosen by cross-validation).
    pub ridge: f64,
    /// Cross-validated mean reciprocal rank per (ridge, components) tried
    /// (empty when both were given or there was no CCA).
    #[serde(default)]
    pub ridge_cv: Vec<CvPoint>,
    pub views: Vec<ViewModel>,
    /// Canonical correlation of each shared dimension (module doc, 3).
    pub rho: Vec<f64>,
    /// Structures with two or more views (the CCA's rows).
    pub anchors: usize,
    /// Candidates trained on.
    pub candidates: usize,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Why a model file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("{file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}: line {line} column {column}{field}: {reason}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        /// ` (field \`name\`)` of the key nearest before the error.
        field: String,
        reason: String,
    },
    #[error("{file}: {field}: {reason}")]
    Invalid {
        file: String,
        field: String,
        reason: String,
    },
}

fn shape(what: &'static str, reason: impl Into<String>) -> LatentError {
    LatentError::Shape {
        what,
        reason: reason.into(),
    }
}

/// A profile's values scaled to unit norm over the covered points (the
/// masked ones 0), and whether every point is covered.
fn unit_values(p: &Profile) -> (Array1<f64>, bool) {
    let u = p.clone().unit_norm();
    let full = u.mask.iter().all(|m| *m);
    (u.values, full)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Cosine of two vectors (0 when either is zero).
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let (ab, aa, bb) = (dot(a, b), dot(a, a), dot(b, b));
    if aa > 0.0 && bb > 0.0 {
        ab / (aa * bb).sqrt()
    } else {
        0.0
    }
}

fn unit(mut v: Vec<f64>) -> Vec<f64> {
    let n = dot(&v, &v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// `v M` for a row-major matrix (rows = v.len()).
fn vec_mat(v: &[f64], m: &[Vec<f64>]) -> Vec<f64> {
    let cols = m.first().map_or(0, Vec::len);
    let mut out = vec![0.0; cols];
    for (x, row) in v.iter().zip(m) {
        for (o, r) in out.iter_mut().zip(row) {
            *o += x * r;
        }
    }
    out
}

/// A view's PCA (step 1), before whitening.
#[derive(Debug, Clone)]
struct ViewPca {
    key: ViewKey,
    pca: Pca,
    n_train: usize,
}

impl ViewPca {
    fn fit(key: ViewKey, rows: &[Array1<f64>], o: &JointOptions) -> Result<ViewPca, LatentError> {
        let n = rows.len();
        let f = rows.first().map_or(0, |r| r.len());
        let x = Array2::from_shape_fn((n, f), |(i, j)| rows[i][j]);
        let cap = o.max_components.max(1).min(n.saturating_sub(1).max(1));
        let mut pca = Pca::fit(x.view(), cap)?;
        let frac = o.variance_fraction.clamp(0.0, 1.0);
        let mut cum = 0.0;
        let mut keep = 0;
        for r in &pca.explained_variance_ratio {
            keep += 1;
            cum += r;
            if cum >= frac {
                break;
            }
        }
        // Components with no variance carry nothing to whiten.
        while keep > 1 && pca.explained_variance[keep - 1] <= 1e-12 * pca.explained_variance[0] {
            keep -= 1;
        }
        pca.components.truncate(keep);
        pca.explained_variance.truncate(keep);
        pca.explained_variance_ratio.truncate(keep);
        pca.singular_values.truncate(keep);
        Ok(ViewPca {
            key,
            pca,
            n_train: n,
        })
    }

    fn scores_full(&self, x: &Array1<f64>) -> Vec<f64> {
        let p = &self.pca;
        p.components
            .iter()
            .map(|c| {
                c.iter()
                    .zip(x.iter().zip(&p.mean))
                    .map(|(c, (x, m))| c * (x - m))
                    .sum()
            })
            .collect()
    }
}

/// Scores of a profile in a PCA: full when every point is covered, else
/// least squares on the covered ones.
fn pca_scores(pca: &Pca, prof: &Profile) -> Result<Vec<f64>, LatentError> {
    if prof.values.len() != pca.n_features() {
        return Err(shape(
            "joint model",
            format!(
                "{} points on the grid; the model's view has {}",
                prof.values.len(),
                pca.n_features()
            ),
        ));
    }
    let (x, full) = unit_values(prof);
    if x.iter().any(|v| !v.is_finite()) {
        return Err(LatentError::NotFinite("the spectrum to project"));
    }
    if full {
        Ok(pca
            .components
            .iter()
            .map(|c| {
                c.iter()
                    .zip(x.iter().zip(&pca.mean))
                    .map(|(c, (x, m))| c * (x - m))
                    .sum()
            })
            .collect())
    } else {
        pca.transform_masked(x.view(), &prof.mask)
    }
}

/// `(C + r I)^(-1/2)` of the covariance of `rows` (centred by `mean`).
fn ridge_whitening(rows: &[&Vec<f64>], mean: &[f64], ridge_rel: f64) -> (Vec<Vec<f64>>, f64) {
    let p = mean.len();
    let n = rows.len();
    let mut c = DMatrix::<f64>::zeros(p, p);
    for r in rows {
        for i in 0..p {
            let a = r[i] - mean[i];
            for j in 0..p {
                c[(i, j)] += a * (r[j] - mean[j]);
            }
        }
    }
    c /= (n.max(2) - 1) as f64;
    let tr = c.trace() / p.max(1) as f64;
    let ridge = ridge_rel * tr.max(1e-300);
    for i in 0..p {
        c[(i, i)] += ridge;
    }
    let eig = SymmetricEigen::new(c);
    let mut w = vec![vec![0.0; p]; p];
    for k in 0..p {
        let l = eig.eigenvalues[k].max(ridge).max(1e-300);
        let s = 1.0 / l.sqrt();
        for (i, row) in w.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x += s * eig.eigenvectors[(i, k)] * eig.eigenvectors[(j, k)];
            }
        }
    }
    (w, ridge)
}

/// Rows of the training set: for each candidate, its unit-norm profile
/// per view (fully covered views only).
struct Training {
    keys: Vec<ViewKey>,
    /// rows[c][v]: Some(values) when candidate c has view keys[v].
    rows: Vec<Vec<Option<Array1<f64>>>>,
    groups: Vec<String>,
}

fn training_rows(cands: &[CandidateViews]) -> (Training, Vec<String>) {
    let mut keys: BTreeSet<ViewKey> = BTreeSet::new();
    for c in cands {
        keys.extend(c.views.iter().map(|(k, _)| *k));
    }
    let keys: Vec<ViewKey> = keys.into_iter().collect();
    let mut notes = Vec::new();
    let mut partial = 0usize;
    let rows = cands
        .iter()
        .map(|c| {
            keys.iter()
                .map(|k| {
                    let p = c.view(*k)?;
                    let (x, full) = unit_values(p);
                    if !full || x.iter().any(|v| !v.is_finite()) {
                        partial += 1;
                        return None;
                    }
                    Some(x)
                })
                .collect()
        })
        .collect();
    if partial > 0 {
        notes.push(format!(
            "{partial} candidate views not covering their whole grid were left out of training"
        ));
    }
    let groups = cands
        .iter()
        .map(|c| {
            if c.formula.trim().is_empty() {
                c.id.clone()
            } else {
                c.formula.replace(' ', "")
            }
        })
        .collect();
    (Training { keys, rows, groups }, notes)
}

fn truncate_pca(mut pca: Pca, p: usize) -> Pca {
    let p = p.max(1);
    pca.components.truncate(p);
    pca.explained_variance.truncate(p);
    pca.explained_variance_ratio.truncate(p);
    pca.singular_values.truncate(p);
    pca
}

/// One point of the cross-validation of [`JointModel::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    pub ridge: f64,
    pub components: usize,
    /// Mean reciprocal rank of the held-out anchors' own other view.
    pub mrr: f64,
}

/// PCA scores per candidate and view (`None`: the candidate lacks it).
type Scores = Vec<Vec<Option<Vec<f64>>>>;

/// The CCA part (steps 2–4) on PCA scores: whitening per view on the
/// anchor rows, the multi-set eigenproblem, the weights.
struct Cca {
    score_mean: Vec<Vec<f64>>,
    whitening: Vec<Vec<Vec<f64>>>,
    ridge_abs: Vec<f64>,
    weights: Vec<Vec<Vec<f64>>>,
    rho: Vec<f64>,
}

/// `scores[c][v]`: PCA scores of candidate c's view v. `rows`: the
/// candidates to fit on.
fn fit_cca(
    scores: &[Vec<Option<Vec<f64>>>],
    dims_of: &[usize],
    rows: &[usize],
    ridge_rel: f64,
    max_dims: usize,
) -> Option<Cca> {
    let nv = dims_of.len();
    let anchors: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&c| scores[c].iter().filter(|s| s.is_some()).count() >= 2)
        .collect();
    if anchors.len() < 3 {
        return None;
    }
    let mut score_mean = Vec::with_capacity(nv);
    let mut whitening = Vec::with_capacity(nv);
    let mut ridge_abs = Vec::with_capacity(nv);
    // y[c][v]: whitened scores of anchor c.
    let mut y: BTreeMap<usize, Vec<Option<Vec<f64>>>> = BTreeMap::new();
    let mut active = vec![false; nv];
    for v in 0..nv {
        let have: Vec<&Vec<f64>> = anchors
            .iter()
            .filter_map(|&c| scores[c][v].as_ref())
            .collect();
        let p = dims_of[v];
        let mut mean = vec![0.0; p];
        for r in &have {
            for (m, x) in mean.iter_mut().zip(r.iter()) {
                *m += x / have.len().max(1) as f64;
            }
        }
        let (w, r) = if have.len() >= 2 {
            active[v] = true;
            ridge_whitening(&have, &mean, ridge_rel)
        } else {
            (vec![vec![0.0; p]; p], 0.0)
        };
        score_mean.push(mean);
        whitening.push(w);
        ridge_abs.push(r);
    }
    for &c in &anchors {
        let row = (0..nv)
            .map(|v| {
                let s = scores[c][v].as_ref().filter(|_| active[v])?;
                let centred: Vec<f64> = s.iter().zip(&score_mean[v]).map(|(a, m)| a - m).collect();
                Some(vec_mat(&centred, &whitening[v]))
            })
            .collect();
        y.insert(c, row);
    }
    let m_views = active.iter().filter(|a| **a).count();
    if m_views < 2 {
        return None;
    }
    let offset: Vec<usize> = dims_of
        .iter()
        .scan(0, |acc, &p| {
            let o = *acc;
            *acc += p;
            Some(o)
        })
        .collect();
    let total: usize = dims_of.iter().sum();
    let mut m = DMatrix::<f64>::identity(total, total);
    for v in 0..nv {
        for w in (v + 1)..nv {
            if !(active[v] && active[w]) {
                continue;
            }
            let both: Vec<(&Vec<f64>, &Vec<f64>)> = y
                .values()
                .filter_map(|r| Some((r[v].as_ref()?, r[w].as_ref()?)))
                .collect();
            if both.len() < 2 {
                continue;
            }
            let k = (both.len() - 1) as f64;
            for (a, b) in &both {
                for i in 0..dims_of[v] {
                    for j in 0..dims_of[w] {
                        let x = a[i] * b[j] / k;
                        m[(offset[v] + i, offset[w] + j)] += x;
                        m[(offset[w] + j, offset[v] + i)] += x;
                    }
                }
            }
        }
    }
    let eig = SymmetricEigen::new(m);
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let mut rho = Vec::new();
    let mut dirs = Vec::new();
    for &k in &order {
        let r = (eig.eigenvalues[k] - 1.0) / (m_views - 1) as f64;
        if r <= 1e-9 || rho.len() >= max_dims.max(1) {
            break;
        }
        rho.push(r.min(1.0));
        dirs.push(k);
    }
    if rho.is_empty() {
        return None;
    }
    let weights = (0..nv)
        .map(|v| {
            let mut w = vec![vec![0.0; rho.len()]; dims_of[v]];
            for (j, &k) in dirs.iter().enumerate() {
                let block: Vec<f64> = (0..dims_of[v])
                    .map(|i| eig.eigenvectors[(offset[v] + i, k)])
                    .collect();
                let n = dot(&block, &block).sqrt();
                if n < 1e-9 {
                    continue;
                }
                // Sign: the XRD-most block positive on its largest entry
                // would be nicer, but the sign is shared by all views of
                // a direction, so cosines do not depend on it.
                for i in 0..dims_of[v] {
                    w[i][j] = rho[j].sqrt() * block[i] / n;
                }
            }
            w
        })
        .collect();
    Some(Cca {
        score_mean,
        whitening,
        ridge_abs,
        weights,
        rho,
    })
}

impl Cca {
    fn project(&self, v: usize, s: &[f64]) -> Vec<f64> {
        let centred: Vec<f64> = s
            .iter()
            .zip(&self.score_mean[v])
            .map(|(a, m)| a - m)
            .collect();
        vec_mat(&vec_mat(&centred, &self.whitening[v]), &self.weights[v])
    }
}

/// Fold of each group (formula), groups in sorted order dealt round-robin.
pub fn folds_by_group(groups: &[String], k: usize) -> Vec<usize> {
    let names: BTreeSet<&String> = groups.iter().collect();
    let index: BTreeMap<&String, usize> =
        names.into_iter().enumerate().map(|(i, g)| (g, i)).collect();
    groups.iter().map(|g| index[g] % k.max(1)).collect()
}

/// Mean reciprocal rank of each `held` structure's own view `w` from its
/// view `v`, among the `pool` structures having `w`, both ways and over
/// every pair of views.
fn cross_mrr(
    cca: &Cca,
    scores: &[Vec<Option<Vec<f64>>>],
    held: &[usize],
    pool: &[usize],
    nv: usize,
) -> Option<f64> {
    let mut sum = 0.0;
    let mut n = 0usize;
    for v in 0..nv {
        for w in 0..nv {
            if v == w {
                continue;
            }
            let keys: Vec<(usize, Vec<f64>)> = pool
                .iter()
                .filter_map(|&c| Some((c, cca.project(w, scores[c][w].as_ref()?))))
                .collect();
            for &c in held {
                let (Some(q), Some((_, own_key))) =
                    (scores[c][v].as_ref(), keys.iter().find(|(k, _)| *k == c))
                else {
                    continue;
                };
                let g = cca.project(v, q);
                let own = cosine(&g, own_key);
                let rank = 1 + keys
                    .iter()
                    .filter(|(k, e)| *k != c && cosine(&g, e) >= own)
                    .count();
                sum += 1.0 / rank as f64;
                n += 1;
            }
        }
    }
    (n > 0).then(|| sum / n as f64)
}

impl JointModel {
    /// Fit on candidates (module doc). Views with fewer than 3 fully
    /// covered candidates are left out (said in `notes`).
    pub fn fit(cands: &[CandidateViews], o: &JointOptions) -> Result<JointModel, LatentError> {
        if !(o.variance_fraction > 0.0 && o.variance_fraction <= 1.0) {
            return Err(shape(
                "joint model",
                format!("variance_fraction {} is not in (0, 1]", o.variance_fraction),
            ));
        }
        if let Some(r) = o.ridge
            && !(r.is_finite() && r >= 0.0)
        {
            return Err(shape(
                "joint model",
                format!("ridge {r} is not a non-negative number"),
            ));
        }
        let (train, mut notes) = training_rows(cands);
        let mut pcas: Vec<ViewPca> = Vec::new();
        let mut kept_keys = Vec::new();
        for (v, key) in train.keys.iter().enumerate() {
            let rows: Vec<Array1<f64>> = train.rows.iter().filter_map(|r| r[v].clone()).collect();
            if rows.len() < 3 {
                notes.push(format!(
                    "{key:?}: {} candidates, too few for a PCA: left out",
                    rows.len()
                ));
                continue;
            }
            pcas.push(ViewPca::fit(*key, &rows, o)?);
            kept_keys.push(v);
        }
        if pcas.is_empty() {
            return Err(shape(
                "joint model",
                format!("{} candidates: no view has 3 or more", cands.len()),
            ));
        }
        let nv = pcas.len();
        let scores: Vec<Vec<Option<Vec<f64>>>> = train
            .rows
            .iter()
            .map(|r| {
                kept_keys
                    .iter()
                    .zip(&pcas)
                    .map(|(&v, p)| r[v].as_ref().map(|x| p.scores_full(x)))
                    .collect()
            })
            .collect();
        let dims_of: Vec<usize> = pcas.iter().map(|p| p.pca.components.len()).collect();
        let all: Vec<usize> = (0..cands.len()).collect();
        let anchors = scores
            .iter()
            .filter(|s| s.iter().filter(|x| x.is_some()).count() >= 2)
            .count();
        let mut ridge_cv = Vec::new();
        let truncated = |p: usize| -> (Scores, Vec<usize>) {
            let sc = scores
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|x| x.as_ref().map(|x| x[..p.min(x.len())].to_vec()))
                        .collect()
                })
                .collect();
            (sc, dims_of.iter().map(|&d| d.min(p)).collect())
        };
        let cca = if anchors >= o.min_anchors.max(3) && nv >= 2 {
            let max_p = dims_of.iter().copied().max().unwrap_or(1);
            let (ridge, comps) = match (o.ridge, o.components) {
                (Some(r), Some(p)) => (r, p.max(1)),
                _ => {
                    // Inner cross-validation on the anchors (PCA bases fixed:
                    // they are unsupervised and fitted on this training set):
                    // each held-out anchor's view retrieves its other view
                    // among every anchor's (the library a query meets).
                    let anchor_rows: Vec<usize> = all
                        .iter()
                        .copied()
                        .filter(|&c| scores[c].iter().filter(|x| x.is_some()).count() >= 2)
                        .collect();
                    let groups: Vec<String> = anchor_rows
                        .iter()
                        .map(|&c| train.groups[c].clone())
                        .collect();
                    let k = o.cv_folds.clamp(2, 10);
                    let fold = folds_by_group(&groups, k);
                    let ridges: Vec<f64> = o.ridge.map_or(RIDGE_GRID.to_vec(), |r| vec![r]);
                    let mut comps: Vec<usize> = match o.components {
                        Some(p) => vec![p.max(1)],
                        None => COMPONENT_GRID.iter().map(|&p| p.min(max_p)).collect(),
                    };
                    comps.dedup();
                    let mut best = (ridges[0], comps[0], f64::NEG_INFINITY);
                    for &p in &comps {
                        let (sc, dims) = truncated(p);
                        for &r in &ridges {
                            let mut sum = 0.0;
                            let mut n = 0;
                            for f in 0..k {
                                let fit_rows: Vec<usize> = anchor_rows
                                    .iter()
                                    .zip(&fold)
                                    .filter(|(_, g)| **g != f)
                                    .map(|(c, _)| *c)
                                    .collect();
                                let held: Vec<usize> = anchor_rows
                                    .iter()
                                    .zip(&fold)
                                    .filter(|(_, g)| **g == f)
                                    .map(|(c, _)| *c)
                                    .collect();
                                if held.is_empty() {
                                    continue;
                                }
                                if let Some(c) = fit_cca(&sc, &dims, &fit_rows, r, o.max_dims)
                                    && let Some(m) = cross_mrr(&c, &sc, &held, &anchor_rows, nv)
                                {
                                    sum += m;
                                    n += 1;
                                }
                            }
                            let mrr = if n > 0 {
                                sum / n as f64
                            } else {
                                f64::NEG_INFINITY
                            };
                            ridge_cv.push(CvPoint {
                                ridge: r,
                                components: p,
                                mrr,
                            });
                            if mrr > best.2 {
                                best = (r, p, mrr);
                            }
                        }
                    }
                    (best.0, best.1)
                }
            };
            let (sc, dims) = truncated(comps);
            fit_cca(&sc, &dims, &all, ridge, o.max_dims).map(|c| (c, ridge, comps))
        } else {
            None
        };
        let (views, rho, ridge) = match cca {
            Some((c, ridge, comps)) => {
                let views = pcas
                    .into_iter()
                    .enumerate()
                    .map(|(v, p)| ViewModel {
                        key: p.key,
                        pca: truncate_pca(p.pca, comps),
                        n_train: p.n_train,
                        score_mean: c.score_mean[v].clone(),
                        whitening: c.whitening[v].clone(),
                        ridge: c.ridge_abs[v],
                        weights: c.weights[v].clone(),
                        procrustes: None,
                    })
                    .collect();
                (views, c.rho, ridge)
            }
            None => {
                // No CCA: each view's ridge-whitened PCA, its first
                // `max_dims` components, is its own space.
                notes.push(format!(
                    "{anchors} structures with two or more views (at least {} needed): no CCA; each view is ranked in its own whitened PCA",
                    o.min_anchors.max(3)
                ));
                let ridge = o.ridge.unwrap_or(RIDGE_GRID[2]);
                // One width for every view (the model's dims; a view with
                // fewer components fills the rest with zeros), so the
                // file's shapes agree and anchors add like with like.
                let width = (pcas.iter())
                    .map(|p| p.pca.components.len().min(o.max_dims.max(1)))
                    .max()
                    .unwrap_or(1);
                let mut views = Vec::new();
                for (v, p) in pcas.into_iter().enumerate() {
                    let have: Vec<&Vec<f64>> =
                        scores.iter().filter_map(|s| s[v].as_ref()).collect();
                    let dims = p.pca.components.len();
                    let mut mean = vec![0.0; dims];
                    for r in &have {
                        for (m, x) in mean.iter_mut().zip(r.iter()) {
                            *m += x / have.len() as f64;
                        }
                    }
                    let (w, r) = ridge_whitening(&have, &mean, ridge);
                    let weights = (0..dims)
                        .map(|i| (0..width).map(|j| f64::from(u8::from(i == j))).collect())
                        .collect();
                    views.push(ViewModel {
                        key: p.key,
                        pca: p.pca,
                        n_train: p.n_train,
                        score_mean: mean,
                        whitening: w,
                        ridge: r,
                        weights,
                        procrustes: None,
                    });
                }
                (views, Vec::new(), ridge)
            }
        };
        Ok(JointModel {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            options: o.clone(),
            ridge,
            ridge_cv,
            views,
            rho,
            anchors,
            candidates: cands.len(),
            notes,
        })
    }

    /// Whether the views share one space (a CCA was fitted).
    pub fn is_joint(&self) -> bool {
        !self.rho.is_empty()
    }

    pub fn view(&self, key: ViewKey) -> Option<&ViewModel> {
        self.views.iter().find(|v| v.key == key)
    }

    /// Coordinates of a simulated view (no Procrustes).
    pub fn transform_view(&self, key: ViewKey, p: &Profile) -> Result<Vec<f64>, LatentError> {
        let v = self
            .view(key)
            .ok_or_else(|| shape("joint model", format!("the model has no {key:?} view")))?;
        let s = pca_scores(&v.pca, p)?;
        let centred: Vec<f64> = s.iter().zip(&v.score_mean).map(|(a, m)| a - m).collect();
        Ok(vec_mat(&vec_mat(&centred, &v.whitening), &v.weights))
    }

    /// Coordinates of many fully covered profiles of view `key` (rows of
    /// `x`, samples × grid points; each scaled to unit norm as
    /// [`Self::transform_view`] does): one matrix product with the
    /// composed map (PCA → whitening → shared weights). No Procrustes.
    pub fn transform_rows(
        &self,
        key: ViewKey,
        x: ndarray::ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>, LatentError> {
        let v = self
            .view(key)
            .ok_or_else(|| shape("joint model", format!("the model has no {key:?} view")))?;
        let (f, p, d) = (v.pca.n_features(), v.pca.components.len(), self.dims());
        if x.ncols() != f {
            return Err(shape(
                "joint model",
                format!(
                    "{} points per spectrum; the model's view has {f}",
                    x.ncols()
                ),
            ));
        }
        // A = Cᵀ T W (f × d); b = (mean·Cᵀ + μ) T W.
        let c = Array2::from_shape_fn((p, f), |(j, q)| v.pca.components[j][q]);
        let t = Array2::from_shape_fn((p, p), |(i, j)| v.whitening[i][j]);
        let w = Array2::from_shape_fn((p, d), |(i, j)| v.weights[i][j]);
        let tw = t.dot(&w);
        let a = c.t().dot(&tw);
        let shift = ndarray::ArrayView1::from(&v.pca.mean[..]).dot(&c.t())
            + ndarray::ArrayView1::from(&v.score_mean[..]);
        let b = shift.dot(&tw);
        let norms = x.map_axis(ndarray::Axis(1), |r| r.dot(&r).sqrt());
        if norms.iter().any(|n| !n.is_finite()) {
            return Err(LatentError::NotFinite("the spectra to project"));
        }
        let mut out = x.dot(&a);
        for (mut row, n) in out.rows_mut().into_iter().zip(norms) {
            let s = if n > 0.0 { 1.0 / n } else { 1.0 };
            row.zip_mut_with(&b, |o, bj| *o = *o * s - bj);
        }
        Ok(out)
    }

    /// Coordinates of a measured view: [`Self::transform_view`], then the
    /// view's Procrustes map when it has one.
    pub fn transform_measured(&self, m: &MeasuredView) -> Result<Vec<f64>, LatentError> {
        let g = self.transform_view(m.key, &m.profile)?;
        Ok(match self.view(m.key).and_then(|v| v.procrustes.as_ref()) {
            Some(p) => p.apply(&g),
            None => g,
        })
    }

    /// A candidate's point: the mean of its views' unit coordinates (over
    /// the views the model has); None when it has none of them.
    pub fn anchor(&self, c: &CandidateViews) -> Option<Vec<f64>> {
        let mut sum: Option<Vec<f64>> = None;
        for (k, p) in &c.views {
            if self.view(*k).is_none() {
                continue;
            }
            let Ok(g) = self.transform_view(*k, p) else {
                continue;
            };
            let g = unit(g);
            match &mut sum {
                Some(s) => s.iter_mut().zip(&g).for_each(|(a, b)| *a += b),
                None => sum = Some(g),
            }
        }
        sum.map(unit)
    }

    /// Anchors of many candidates (in parallel).
    pub fn anchors_of(&self, cands: &[CandidateViews]) -> Vec<Option<Vec<f64>>> {
        use rayon::prelude::*;
        cands.par_iter().map(|c| self.anchor(c)).collect()
    }

    /// Candidates having `m`'s view ranked by cosine of their anchors with
    /// `m`'s coordinates, best first, `top` of them.
    pub fn nearest(
        &self,
        m: &MeasuredView,
        cands: &[CandidateViews],
        anchors: &[Option<Vec<f64>>],
        top: usize,
    ) -> Result<Vec<Near>, LatentError> {
        let g = self.transform_measured(m)?;
        let mut r: Vec<Near> = cands
            .iter()
            .zip(anchors)
            .enumerate()
            .filter(|(_, (c, _))| c.view(m.key).is_some())
            .filter_map(|(i, (c, a))| {
                Some(Near {
                    candidate: i,
                    cif: c.id.clone(),
                    score: cosine(&g, a.as_ref()?),
                })
            })
            .collect();
        r.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.candidate.cmp(&b.candidate))
        });
        r.truncate(top);
        Ok(r)
    }

    /// Fit the measured → simulated Procrustes map of view `key` from
    /// pairs (a measured view, the simulated view of the structure it was
    /// measured on). At least 3 pairs; the rotation is d × d, so with fewer
    /// pairs than dimensions it is underdetermined — evaluate it on
    /// spectra left out of the pairs.
    pub fn fit_procrustes(
        &mut self,
        key: ViewKey,
        pairs: &[(&Profile, &Profile)],
    ) -> Result<(), LatentError> {
        if pairs.len() < 3 {
            return Err(shape(
                "Procrustes",
                format!("{} pairs: at least 3 are needed", pairs.len()),
            ));
        }
        let mut from = Vec::with_capacity(pairs.len());
        let mut to = Vec::with_capacity(pairs.len());
        for (m, s) in pairs {
            from.push(self.transform_view(key, m)?);
            to.push(self.transform_view(key, s)?);
        }
        let p = Procrustes::fit(&from, &to)?;
        if let Some(v) = self.views.iter_mut().find(|v| v.key == key) {
            v.procrustes = Some(p);
        }
        Ok(())
    }

    /// Write as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        let io = |e: String| ModelFileError::Io {
            file: path.display().to_string(),
            reason: e,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| io(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| io(e.to_string()))
    }

    /// Read a model file, its shapes checked (errors name the file and
    /// the field).
    pub fn load(path: &Path) -> Result<JointModel, ModelFileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ModelFileError::Io {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text, &file)
    }

    /// [`Self::load`] of text already read (`file` names it in errors).
    pub fn from_json(text: &str, file: &str) -> Result<JointModel, ModelFileError> {
        let m: JointModel = serde_json::from_str(text).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            ModelFileError::Parse {
                file: file.to_string(),
                line,
                column,
                field: key_before(text, line, column)
                    .map(|k| format!(" (field `{k}`)"))
                    .unwrap_or_default(),
                reason: e.to_string(),
            }
        })?;
        m.validate()
            .map_err(|(field, reason)| ModelFileError::Invalid {
                file: file.to_string(),
                field,
                reason,
            })?;
        Ok(m)
    }

    /// Shapes and numbers consistent: (field path, reason) of the first
    /// that is not (a model read any other way than [`Self::load`], such
    /// as inline in a session, is checked with this).
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.format != MODEL_FORMAT {
            return Err((
                "format".into(),
                format!("\"{}\", expected \"{MODEL_FORMAT}\"", self.format),
            ));
        }
        if self.version != MODEL_VERSION {
            return Err((
                "version".into(),
                format!("{}, this Carto reads {MODEL_VERSION}", self.version),
            ));
        }
        if self.views.is_empty() {
            return Err(("views".into(), "empty".into()));
        }
        let d = self.views[0].weights.first().map_or(0, Vec::len);
        if d == 0 {
            return Err(("views[0].weights".into(), "no dimensions".into()));
        }
        if !self.rho.is_empty() && self.rho.len() != d {
            return Err((
                "rho".into(),
                format!("{} values for {d} dimensions", self.rho.len()),
            ));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        for (i, v) in self.views.iter().enumerate() {
            let at = |f: &str| format!("views[{i}].{f}");
            let f = v.pca.mean.len();
            let p = v.pca.components.len();
            if f == 0 || p == 0 {
                return Err((at("pca"), "no grid points or no components".into()));
            }
            if v.key.modality().grid().n != f {
                return Err((
                    at("pca.mean"),
                    format!(
                        "{f} points; the {} grid has {}",
                        v.key.modality().name(),
                        v.key.modality().grid().n
                    ),
                ));
            }
            if !finite(&v.pca.mean) {
                return Err((at("pca.mean"), "a value that is not a finite number".into()));
            }
            for (j, c) in v.pca.components.iter().enumerate() {
                if c.len() != f || !finite(c) {
                    return Err((
                        at(&format!("pca.components[{j}]")),
                        format!("{} finite values expected", f),
                    ));
                }
            }
            if v.score_mean.len() != p || !finite(&v.score_mean) {
                return Err((
                    at("score_mean"),
                    format!("{p} finite values expected (one per component)"),
                ));
            }
            if v.whitening.len() != p || v.whitening.iter().any(|r| r.len() != p || !finite(r)) {
                return Err((
                    at("whitening"),
                    format!("a {p} × {p} matrix of finite values expected"),
                ));
            }
            if v.weights.len() != p || v.weights.iter().any(|r| r.len() != d || !finite(r)) {
                return Err((
                    at("weights"),
                    format!("a {p} × {d} matrix of finite values expected"),
                ));
            }
            if let Some(pr) = &v.procrustes
                && (pr.mean_from.len() != d
                    || pr.mean_to.len() != d
                    || pr.rotation.len() != d
                    || pr.rotation.iter().any(|r| r.len() != d || !finite(r)))
            {
                return Err((
                    at("procrustes"),
                    format!("{d}-dimensional means and a {d} × {d} rotation expected"),
                ));
            }
        }
        let keys: BTreeSet<ViewKey> = self.views.iter().map(|v| v.key).collect();
        if keys.len() != self.views.len() {
            return Err(("views".into(), "a view appears twice".into()));
        }
        Ok(())
    }

    /// The shared space's dimensions.
    pub fn dims(&self) -> usize {
        self.views
            .first()
            .and_then(|v| v.weights.first())
            .map_or(0, Vec::len)
    }

    /// The view keys of the model.
    pub fn keys(&self) -> Vec<ViewKey> {
        self.views.iter().map(|v| v.key).collect()
    }
}

/// The JSON key nearest before (line, column) (1-based), for errors.
fn key_before(text: &str, line: usize, column: usize) -> Option<String> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len();
    }
    let head = text.get(..offset.min(text.len()))?;
    let colon = head.rfind("\":")?;
    let start = head[..colon].rfind('"')?;
    Some(head[start + 1..colon].to_string())
}

impl Procrustes {
    /// Fit `to ≈ (from − μ_from) R + μ_to` (module doc, 6).
    pub fn fit(from: &[Vec<f64>], to: &[Vec<f64>]) -> Result<Procrustes, LatentError> {
        let n = from.len();
        if n < 2 || to.len() != n {
            return Err(shape("Procrustes", format!("{n} and {} points", to.len())));
        }
        let d = from[0].len();
        if d == 0 || from.iter().chain(to).any(|r| r.len() != d) {
            return Err(shape("Procrustes", "points of different dimensions"));
        }
        if from.iter().chain(to).flatten().any(|v| !v.is_finite()) {
            return Err(LatentError::NotFinite("the Procrustes pairs"));
        }
        let mean = |rows: &[Vec<f64>]| -> Vec<f64> {
            (0..d)
                .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n as f64)
                .collect()
        };
        let (mf, mt) = (mean(from), mean(to));
        let mut m = DMatrix::<f64>::zeros(d, d);
        for (a, b) in from.iter().zip(to) {
            for i in 0..d {
                for j in 0..d {
                    m[(i, j)] += (a[i] - mf[i]) * (b[j] - mt[j]);
                }
            }
        }
        let svd =
            nalgebra::linalg::SVD::try_new(m, true, true, 1e-14, 10_000).ok_or(LatentError::Svd)?;
        let (u, vt) = (
            svd.u.ok_or(LatentError::Svd)?,
            svd.v_t.ok_or(LatentError::Svd)?,
        );
        let r = u * vt;
        Ok(Procrustes {
            mean_from: mf,
            mean_to: mt,
            rotation: (0..d)
                .map(|i| (0..d).map(|j| r[(i, j)]).collect())
                .collect(),
            pairs: n,
        })
    }

    pub fn apply(&self, g: &[f64]) -> Vec<f64> {
        let c: Vec<f64> = g.iter().zip(&self.mean_from).map(|(a, m)| a - m).collect();
        vec_mat(&c, &self.rotation)
            .iter()
            .zip(&self.mean_to)
            .map(|(a, m)| a + m)
            .collect()
    }
}

/// The map in a joint model's space: candidates at their anchors,
/// measurements at their coordinates (their views the model lacks are
/// returned as skipped, with the reason); the 2-D layout is the first two
/// principal components of the candidates' anchors, every point projected
/// onto them, or UMAP of the unit coordinates started there
/// ([`MapOptions::layout`]; a candidate the model has no anchor for sits
/// at the layout's centre); `nearest` by cosine in the full space
/// ([`JointModel::nearest`]). Returns the map and the indices of the
/// measurements placed; `None` when `progress` (of a UMAP layout)
/// cancels.
pub fn build_joint_map(
    model: &JointModel,
    measured: &[MeasuredView],
    cands: &[CandidateViews],
    o: &MapOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<JointMap>, LatentError> {
    use rayon::prelude::*;
    let anchors = model.anchors_of(cands);
    type Placed = Result<(Vec<f64>, Vec<Near>), LatentError>;
    let placed: Vec<Placed> = measured
        .par_iter()
        .map(|m| {
            let g = unit(model.transform_measured(m)?);
            let near = model.nearest(m, cands, &anchors, o.top)?;
            Ok((g, near))
        })
        .collect();
    let mut skipped = Vec::new();
    let mut kept = Vec::new();
    let mut coords: Vec<Vec<f64>> = Vec::new();
    let mut nearest = Vec::new();
    for (i, r) in placed.into_iter().enumerate() {
        match r {
            Ok((g, near)) => {
                kept.push(i);
                coords.push(g);
                nearest.push(near);
            }
            Err(e) => skipped.push(format!("{}: {e}", measured[i].id)),
        }
    }
    let d = model.dims();
    let cand_rows: Vec<&Vec<f64>> = anchors.iter().flatten().collect();
    if kept.len() + cand_rows.len() < 2 {
        return Err(shape(
            "map",
            format!(
                "{} items placed in the model's space: at least 2 are needed",
                kept.len() + cand_rows.len()
            ),
        ));
    }
    // Layout axes fitted on the candidates' anchors (or, with fewer than
    // 2, on everything placed).
    let fit_rows: Vec<&Vec<f64>> = if cand_rows.len() >= 2 {
        cand_rows.clone()
    } else {
        coords.iter().chain(cand_rows.iter().copied()).collect()
    };
    let x = Array2::from_shape_fn((fit_rows.len(), d), |(i, j)| fit_rows[i][j]);
    let layout = Pca::fit(x.view(), 2)?;
    let xy = |g: &[f64]| -> (f64, f64) {
        let c = |j: usize| {
            layout.components.get(j).map_or(0.0, |a| {
                a.iter()
                    .zip(g.iter().zip(&layout.mean))
                    .map(|(a, (x, m))| a * (x - m))
                    .sum()
            })
        };
        (c(0), c(1))
    };
    let mut explains: Vec<Vec<Explains>> = vec![Vec::new(); cands.len()];
    for (slot, near) in nearest.iter().enumerate() {
        if let Some(best) = near.first() {
            explains[best.candidate].push(Explains {
                measured: kept[slot],
                id: measured[kept[slot]].id.clone(),
                score: best.score,
            });
        }
    }
    // Every placed point's full-space coordinates (unit length, as the
    // cosine ranking sees them) and PCA position; then the layout.
    let anchored: Vec<Vec<f64>> = anchors.iter().flatten().map(|a| unit(a.clone())).collect();
    let features: Vec<Vec<f64>> = coords.iter().cloned().chain(anchored).collect();
    let pca_xy: Vec<(f64, f64)> = coords
        .iter()
        .map(|g| xy(g))
        .chain(anchors.iter().flatten().map(|a| xy(a)))
        .collect();
    let Some(laid) = super::map::lay_out(&o.layout, &features, pca_xy, progress)? else {
        return Ok(None);
    };
    drop(features);
    let centre = match o.layout {
        Layout::Pca => (0.0, 0.0),
        Layout::Umap(_) | Layout::Tsne(_) => {
            let n = laid.len().max(1) as f64;
            (
                laid.iter().map(|p| p.0).sum::<f64>() / n,
                laid.iter().map(|p| p.1).sum::<f64>() / n,
            )
        }
    };
    let mut laid = laid.into_iter();
    let mut points = Vec::new();
    for (&i, near) in kept.iter().zip(nearest) {
        let m = &measured[i];
        points.push(MapPoint::measured(m, laid.next().unwrap_or(centre), near));
    }
    for ((c, a), ex) in cands.iter().zip(&anchors).zip(explains) {
        let at = match a {
            Some(_) => laid.next().unwrap_or(centre),
            None => centre,
        };
        points.push(MapPoint::candidate(c, at, ex));
    }
    let ratio = |j: usize| {
        layout
            .explained_variance_ratio
            .get(j)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(Some(JointMap {
        map: LatentMap {
            points,
            explained_variance_ratio: [ratio(0), ratio(1)],
            landmarks: cand_rows.len(),
            layout: o.layout.describe(),
        },
        kept,
        skipped,
    }))
}

/// What [`build_joint_map`] gives.
#[derive(Debug, Clone)]
pub struct JointMap {
    pub map: LatentMap,
    /// Indices of the measurements placed, in map order.
    pub kept: Vec<usize>,
    /// Measurements the model could not place (`id: reason`).
    pub skipped: Vec<String>,
}

/// Which stage ranks and lays out a map.
#[derive(Debug, Clone)]
pub enum Ranking {
    /// No training: cosine on the grid ([`super::map::build_map`]).
    Stage0,
    /// Fit a joint model on the candidates, then use it.
    Train(JointOptions),
    /// A joint model already trained (a file).
    Model(Box<JointModel>),
}

/// The stage that ranked a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Stage {
    #[serde(rename = "stage0")]
    Stage0,
    #[serde(rename = "stage1")]
    Stage1,
}

/// A map and what made it.
#[derive(Debug, Clone)]
pub struct StagedRun {
    /// `run.measured` holds the measurements placed, in map order.
    pub run: super::map::MapRun,
    pub stage: Stage,
    /// The joint model used (trained here or loaded).
    pub model: Option<JointModel>,
    /// Measurements the model could not place (`id: reason`).
    pub skipped: Vec<String>,
}

/// The one map operation with a choice of stage (CLI and GUI): the
/// candidates' views for the absorbers the EXAFS measurements need (and,
/// with a model, the absorbers it was trained on; training, also
/// `train_absorbers`), then stage 0's map or the joint model's.
/// `progress(done, total)` returning false cancels (then `None`).
pub fn run_staged_map(
    measured: Vec<MeasuredView>,
    structures: Vec<(
        std::path::PathBuf,
        Result<crate::structure::Structure, String>,
    )>,
    o: &super::map::MapRunOptions,
    ranking: Ranking,
    train_absorbers: &[(u32, crate::theory::Edge)],
    lib: &mut crate::theory::closed::PairLibrary,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<StagedRun>, String> {
    if matches!(ranking, Ranking::Stage0) {
        return Ok(
            super::map::run_map(measured, structures, o, lib, progress)?.map(|run| StagedRun {
                run,
                stage: Stage::Stage0,
                model: None,
                skipped: Vec::new(),
            }),
        );
    }
    let exafs = |k: ViewKey| match k {
        ViewKey::Exafs { z, edge } => Some((z, crate::theory::Edge::from(edge))),
        _ => None,
    };
    let more: Vec<(u32, crate::theory::Edge)> = match &ranking {
        Ranking::Model(m) => m.keys().into_iter().filter_map(exafs).collect(),
        Ranking::Train(_) => train_absorbers.to_vec(),
        Ranking::Stage0 => Vec::new(),
    };
    let co = o.candidate_options(&measured, &more);
    let computed_before = lib.computed;
    let Some(candidates) = super::candidates::candidates_of(structures, &co, lib, progress)? else {
        return Ok(None);
    };
    let model = match ranking {
        Ranking::Model(m) => *m,
        Ranking::Train(jo) => JointModel::fit(&candidates.items, &jo).map_err(|e| e.to_string())?,
        Ranking::Stage0 => return Err("stage 0 has no model".into()),
    };
    let Some(JointMap { map, kept, skipped }) =
        build_joint_map(&model, &measured, &candidates.items, &o.map, progress)
            .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let mut measured: Vec<Option<MeasuredView>> = measured.into_iter().map(Some).collect();
    let placed = kept.iter().filter_map(|&i| measured[i].take()).collect();
    Ok(Some(StagedRun {
        run: super::map::MapRun {
            map,
            candidates,
            measured: placed,
            pair_tables_computed: lib.computed - computed_before,
        },
        stage: Stage::Stage1,
        model: Some(model),
        skipped,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latent::candidates::EdgeKey;
    use crate::latent::grid::{EXAFS_K, XRD_Q};

    /// Deterministic standard normals (xorshift + Box–Muller).
    struct Normal(u64);
    impl Normal {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn next(&mut self) -> f64 {
            let (a, b) = (self.uniform(), self.uniform());
            (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
        }
    }

    fn random_orthogonal(d: usize, rng: &mut Normal) -> DMatrix<f64> {
        let a = DMatrix::from_fn(d, d, |_, _| rng.next());
        a.qr().q()
    }

    fn corr(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let c: Vec<f64> = a.iter().map(|x| x - ma).collect();
        let d: Vec<f64> = b.iter().map(|x| x - mb).collect();
        cosine(&c, &d)
    }

    #[test]
    fn ridge_whitening_gives_identity_covariance() {
        let mut rng = Normal(7);
        let mix = DMatrix::from_fn(4, 4, |i, j| {
            if i == j {
                3.0 - i as f64 * 0.5
            } else {
                0.3 * (i + j) as f64
            }
        });
        let rows: Vec<Vec<f64>> = (0..500)
            .map(|_| {
                let z = nalgebra::DVector::from_fn(4, |_, _| rng.next());
                (&mix * z).iter().copied().collect()
            })
            .collect();
        let mean: Vec<f64> = (0..4)
            .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / 500.0)
            .collect();
        let refs: Vec<&Vec<f64>> = rows.iter().collect();
        let (w, r) = ridge_whitening(&refs, &mean, 0.0);
        assert_eq!(r, 0.0);
        let y: Vec<Vec<f64>> = rows
            .iter()
            .map(|x| {
                vec_mat(
                    &x.iter().zip(&mean).map(|(a, m)| a - m).collect::<Vec<_>>(),
                    &w,
                )
            })
            .collect();
        for i in 0..4 {
            for j in 0..4 {
                let c: f64 = y.iter().map(|v| v[i] * v[j]).sum::<f64>() / 499.0;
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((c - want).abs() < 1e-9, "cov[{i}][{j}] = {c}");
            }
        }
        // A ridge shrinks every direction's variance below 1 (λ/(λ+r)).
        let (w, _) = ridge_whitening(&refs, &mean, 0.5);
        let y0: Vec<f64> = rows
            .iter()
            .map(|x| {
                vec_mat(
                    &x.iter().zip(&mean).map(|(a, m)| a - m).collect::<Vec<_>>(),
                    &w,
                )[0]
            })
            .collect();
        let var = y0.iter().map(|v| v * v).sum::<f64>() / 499.0;
        assert!(var < 0.99 && var > 0.3, "{var}");
    }

    /// Two views of a planted latent t, each mixed by a rotation with
    /// independent noise dimensions: corr(t + ½e, t + ½f) = 1/1.25 = 0.8.
    /// The CCA finds ρ₁ ≈ 0.8, the rest ≈ 0, and its variates follow t.
    #[test]
    fn cca_recovers_a_planted_correlated_direction() {
        let mut rng = Normal(11);
        let n = 2000;
        let (r0, r1) = (
            random_orthogonal(5, &mut rng),
            random_orthogonal(4, &mut rng),
        );
        let mut t = Vec::new();
        let mut scores: Vec<Vec<Option<Vec<f64>>>> = Vec::new();
        for _ in 0..n {
            let ti = rng.next();
            t.push(ti);
            let a = nalgebra::DVector::from_fn(5, |i, _| {
                if i == 0 {
                    ti + 0.5 * rng.next()
                } else {
                    (1.0 + i as f64) * rng.next()
                }
            });
            let b = nalgebra::DVector::from_fn(4, |i, _| {
                if i == 0 {
                    ti + 0.5 * rng.next()
                } else {
                    0.5 * rng.next()
                }
            });
            let x0: Vec<f64> = (&r0 * a).iter().copied().collect();
            let x1: Vec<f64> = (&r1 * b).iter().copied().collect();
            scores.push(vec![Some(x0), Some(x1)]);
        }
        let rows: Vec<usize> = (0..n).collect();
        let cca = fit_cca(&scores, &[5, 4], &rows, 1e-9, 4).expect("cca");
        assert!((cca.rho[0] - 0.8).abs() < 0.03, "ρ = {:?}", cca.rho);
        assert!(
            cca.rho.iter().skip(1).all(|r| *r < 0.1),
            "ρ = {:?}",
            cca.rho
        );
        let v0: Vec<f64> = (0..n)
            .map(|i| cca.project(0, scores[i][0].as_ref().expect("x"))[0])
            .collect();
        let v1: Vec<f64> = (0..n)
            .map(|i| cca.project(1, scores[i][1].as_ref().expect("y"))[0])
            .collect();
        assert!((corr(&v0, &v1) - 0.8).abs() < 0.03);
        // Each view's variate is the best linear predictor of t: corr
        // √(1/1.25) = 0.894.
        assert!(
            (corr(&v0, &t).abs() - 0.894).abs() < 0.03,
            "{}",
            corr(&v0, &t)
        );
        assert!(corr(&v0, &t) * corr(&v1, &t) > 0.0, "signs shared");
    }

    #[test]
    fn procrustes_recovers_a_planted_rotation() {
        let mut rng = Normal(3);
        let d = 6;
        let q = random_orthogonal(d, &mut rng);
        let shift: Vec<f64> = (0..d).map(|i| i as f64 - 2.0).collect();
        let from: Vec<Vec<f64>> = (0..20)
            .map(|_| (0..d).map(|_| rng.next()).collect())
            .collect();
        let to: Vec<Vec<f64>> = from
            .iter()
            .map(|a| {
                let r = nalgebra::RowDVector::from_row_slice(a) * &q;
                r.iter().zip(&shift).map(|(x, s)| x + s).collect()
            })
            .collect();
        let p = Procrustes::fit(&from, &to).expect("fit");
        for i in 0..d {
            for j in 0..d {
                assert!((p.rotation[i][j] - q[(i, j)]).abs() < 1e-9);
            }
        }
        let x = vec![0.3, -1.0, 2.0, 0.0, 0.5, 1.5];
        let want: Vec<f64> = (nalgebra::RowDVector::from_row_slice(&x) * &q)
            .iter()
            .zip(&shift)
            .map(|(a, s)| a + s)
            .collect();
        for (a, b) in p.apply(&x).iter().zip(&want) {
            assert!((a - b).abs() < 1e-9);
        }
        // With noise it is still the closest rotation (RᵀR = I).
        let noisy: Vec<Vec<f64>> = to
            .iter()
            .map(|r| r.iter().map(|v| v + 0.05 * rng.next()).collect())
            .collect();
        let p = Procrustes::fit(&from, &noisy).expect("fit");
        let r = DMatrix::from_fn(d, d, |i, j| p.rotation[i][j]);
        assert!((r.transpose() * &r - DMatrix::identity(d, d)).norm() < 1e-9);
        assert!((r - &q).norm() < 0.1);
        assert!(Procrustes::fit(&from[..1], &to[..1]).is_err());
    }

    /// Synthetic structures: a "lattice" a (XRD lines at Q ∝ 1/a) and a
    /// first-shell distance r = 0.7a (χ ∝ sin 2kr): the two views share a.
    fn synthetic(n: usize) -> Vec<CandidateViews> {
        let key = ViewKey::Exafs {
            z: 26,
            edge: EdgeKey::K,
        };
        (0..n)
            .map(|i| {
                let a = 3.0 + 2.0 * ((i * 37) % n) as f64 / n as f64;
                let xrd = Profile {
                    grid: XRD_Q,
                    values: Array1::from_shape_fn(XRD_Q.n, |j| {
                        let q = XRD_Q.x(j);
                        [1.0, 1.414, 1.732, 2.0]
                            .iter()
                            .map(|h| {
                                (-((q - 2.0 * std::f64::consts::PI * h / a) / 0.03).powi(2)).exp()
                            })
                            .sum()
                    }),
                    mask: vec![true; XRD_Q.n],
                };
                let r = 0.7 * a;
                let chi = Profile {
                    grid: EXAFS_K,
                    values: Array1::from_shape_fn(EXAFS_K.n, |j| {
                        let k = EXAFS_K.x(j);
                        (2.0 * k * r).sin() * (-0.01 * k * k).exp()
                            + 0.3 * (2.0 * k * 1.5 * r).sin()
                    }),
                    mask: vec![true; EXAFS_K.n],
                };
                CandidateViews {
                    id: format!("s{i}"),
                    file: format!("s{i}.cif").into(),
                    name: format!("s{i}"),
                    formula: format!("F{i}"),
                    elements: vec![26],
                    views: vec![(ViewKey::Xrd, xrd.unit_norm()), (key, chi)],
                }
            })
            .collect()
    }

    #[test]
    fn a_model_on_synthetic_structures_pairs_their_views_and_round_trips() {
        let cands = synthetic(60);
        let o = JointOptions {
            ridge: Some(0.1),
            ..Default::default()
        };
        let m = JointModel::fit(&cands, &o).expect("fit");
        assert!(m.is_joint());
        assert_eq!(m.views.len(), 2);
        assert_eq!(m.anchors, 60);
        assert!(m.rho[0] > 0.9, "{:?}", m.rho);
        // New structures (a between the training ones): XRD finds its own χ.
        let fresh: Vec<CandidateViews> = synthetic(61).into_iter().skip(1).step_by(6).collect();
        let key = fresh[0].views[1].0;
        let mut hits = 0;
        for (i, c) in fresh.iter().enumerate() {
            let q = m
                .transform_view(ViewKey::Xrd, c.view(ViewKey::Xrd).expect("xrd"))
                .expect("q");
            let best = (0..fresh.len())
                .max_by(|&a, &b| {
                    let s = |k: usize| {
                        cosine(
                            &q,
                            &m.transform_view(key, fresh[k].view(key).expect("chi"))
                                .expect("k"),
                        )
                    };
                    s(a).total_cmp(&s(b))
                })
                .expect("some");
            hits += usize::from(best == i);
        }
        assert!(hits * 10 >= fresh.len() * 7, "{hits}/{}", fresh.len());
        // The batch transform equals the one-at-a-time one.
        let x = Array2::from_shape_fn((3, XRD_Q.n), |(i, j)| {
            cands[i * 5].views[0].1.values[j] * (1.0 + i as f64)
        });
        let rows = m.transform_rows(ViewKey::Xrd, x.view()).expect("rows");
        for i in 0..3 {
            let one = m
                .transform_view(ViewKey::Xrd, &cands[i * 5].views[0].1)
                .expect("one");
            for (a, b) in rows.row(i).iter().zip(&one) {
                assert!((a - b).abs() < 1e-9, "{a} vs {b}");
            }
        }
        // The ridge chosen by cross-validation is one of the grid's.
        let cv = JointModel::fit(&cands, &JointOptions::default()).expect("cv");
        assert!(RIDGE_GRID.contains(&cv.ridge));
        assert!(cv.ridge_cv.len() >= RIDGE_GRID.len());
        // Round trip through a file.
        let dir = std::env::temp_dir().join(format!("carto-joint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("model.json");
        m.save(&path).expect("save");
        let back = JointModel::load(&path).expect("load");
        // (serde_json reads floats to within an ulp, not bit-exactly.)
        assert_eq!(back.keys(), m.keys());
        let c = &cands[7];
        for (k, p) in &c.views {
            let (a, b) = (
                m.transform_view(*k, p).expect("a"),
                back.transform_view(*k, p).expect("b"),
            );
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9), "{k:?}");
        }
        // Broken files: the file and the field are named.
        let text = std::fs::read_to_string(&path).expect("read");
        let bad = text.replacen("\"ridge\": ", "\"ridge\": \"x\", \"was\": ", 1);
        let e = JointModel::from_json(&bad, "m.json")
            .expect_err("bad ridge")
            .to_string();
        assert!(
            e.starts_with("m.json: line") && e.contains("`ridge`"),
            "{e}"
        );
        let mut short = m.clone();
        short.views[1].whitening.pop();
        let e = JointModel::from_json(&serde_json::to_string(&short).expect("json"), "m.json")
            .expect_err("short")
            .to_string();
        assert!(e.contains("views[1].whitening"), "{e}");
        let e = JointModel::load(&dir.join("missing.json"))
            .expect_err("missing")
            .to_string();
        assert!(e.contains("missing.json"), "{e}");
        assert!(JointModel::from_json("{}", "e.json").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A measured view the model lacks is refused, not panicked on; a
    /// single-view set gives a model without CCA that still ranks.
    /// Two views but too few anchors for a CCA: each view keeps its own
    /// whitened PCA, all at the model's one width, and the model file
    /// reads back (it did not while the widths differed).
    #[test]
    fn a_model_without_cca_has_one_width_and_reads_back() {
        let cands = synthetic(20);
        let o = JointOptions {
            min_anchors: 1000,
            ..JointOptions::default()
        };
        let m = JointModel::fit(&cands, &o).expect("fit");
        assert!(!m.is_joint());
        assert_eq!(m.views.len(), 2);
        let pcs: Vec<usize> = m.views.iter().map(|v| v.pca.components.len()).collect();
        assert!(
            m.views
                .iter()
                .all(|v| v.weights.iter().all(|r| r.len() == m.dims())),
            "{pcs:?}"
        );
        let text = serde_json::to_string(&m).expect("json");
        let back = JointModel::from_json(&text, "m.json").expect("reads back");
        assert_eq!(back, m);
        let anchors = m.anchors_of(&cands);
        assert!(anchors.iter().flatten().all(|a| a.len() == m.dims()));
    }

    #[test]
    fn single_view_sets_and_foreign_views() {
        let cands: Vec<CandidateViews> = synthetic(20)
            .into_iter()
            .map(|mut c| {
                c.views.truncate(1);
                c
            })
            .collect();
        let m = JointModel::fit(&cands, &JointOptions::default()).expect("fit");
        assert!(!m.is_joint());
        assert!(!m.notes.is_empty());
        let anchors = m.anchors_of(&cands);
        let q = MeasuredView {
            id: "q".into(),
            key: ViewKey::Xrd,
            profile: cands[4].views[0].1.clone(),
        };
        let near = m.nearest(&q, &cands, &anchors, 3).expect("near");
        assert_eq!(near[0].cif, "s4");
        let foreign = MeasuredView {
            id: "x".into(),
            key: ViewKey::Xanes {
                z: 26,
                edge: EdgeKey::K,
            },
            profile: cands[0].views[0].1.clone(),
        };
        assert!(m.transform_measured(&foreign).is_err());
        let measured = [q, foreign];
        let JointMap { map, kept, skipped } = build_joint_map(
            &m,
            &measured,
            &cands,
            &MapOptions::default(),
            &mut |_, _| true,
        )
        .expect("map")
        .expect("not cancelled");
        assert_eq!(kept, vec![0]);
        assert_eq!(skipped.len(), 1);
        assert_eq!(map.points.len(), 21);
        assert_eq!(map.layout, "pca");
        // The same in a UMAP layout: every point placed, finite.
        let o = MapOptions {
            layout: Layout::Umap(Default::default()),
            ..Default::default()
        };
        let um = build_joint_map(&m, &measured, &cands, &o, &mut |_, _| true)
            .expect("map")
            .expect("not cancelled");
        assert_eq!(um.map.points.len(), 21);
        assert!(um.map.layout.starts_with("umap("));
        assert!(
            um.map
                .points
                .iter()
                .all(|p| p.x.is_finite() && p.y.is_finite())
        );
        assert!(JointModel::fit(&cands[..2], &JointOptions::default()).is_err());
    }
}
