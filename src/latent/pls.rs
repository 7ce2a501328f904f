//! Partial least squares against one feature column (PLS1): the latent
//! directions of the profiles that best explain a number measured or
//! fitted for each spectrum (temperature, time, an LCF fraction, a fitted
//! coordination number). As scikit-learn's `PLSRegression(scale=True)`
//! with one target: profiles and target centred and scaled to unit
//! standard deviation (ddof 1; a constant column keeps scale 1), then per
//! component the NIPALS weight w = Xᵀy / ‖Xᵀy‖ (sign: its largest |entry|
//! positive), scores t = Xw, loadings p = Xᵀt / tᵀt, q = yᵀt / tᵀt, and
//! both X and y deflated by t (Wold et al., Chemom. Intell. Lab. Syst. 58
//! (2001) 109). `transform` gives scores with the rotations W(PᵀW)⁻¹;
//! `predict` the target.

use nalgebra::DMatrix;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::pca::LatentError;

/// A trained PLS1 model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pls {
    pub x_mean: Vec<f64>,
    /// Standard deviation of each profile point (1 where constant).
    pub x_std: Vec<f64>,
    pub y_mean: f64,
    pub y_std: f64,
    /// Weights w, one row per component (unit vectors).
    pub x_weights: Vec<Vec<f64>>,
    /// Loadings p, one row per component.
    pub x_loadings: Vec<Vec<f64>>,
    /// Rotations W(PᵀW)⁻¹, one row per component: scores = scaled X · these.
    pub x_rotations: Vec<Vec<f64>>,
    /// q of each component.
    pub y_loadings: Vec<f64>,
    /// Regression coefficients on the centred (unscaled) profile.
    pub coef: Vec<f64>,
    /// Fraction of the target's variance each component explains (the
    /// training set; they add up to R²).
    pub y_explained: Vec<f64>,
}

fn mean_std(col: ArrayView1<'_, f64>) -> (f64, f64) {
    let n = col.len() as f64;
    let m = col.sum() / n;
    let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    let s = var.sqrt();
    (m, if s == 0.0 { 1.0 } else { s })
}

impl Pls {
    /// Fit `n_components` (at most min(samples, points); fewer when the
    /// target is explained before) of `x` (samples × points) against `y`.
    pub fn fit(
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        n_components: usize,
    ) -> Result<Pls, LatentError> {
        let (n, f) = x.dim();
        if n < 2 || f == 0 || y.len() != n {
            return Err(LatentError::Shape {
                what: "PLS training set",
                reason: format!(
                    "{n} spectra × {f} points against {} target values: at least 2 spectra, \
                     one target value each",
                    y.len()
                ),
            });
        }
        let k = n_components.min(n).min(f);
        if k == 0 {
            return Err(LatentError::Shape {
                what: "PLS",
                reason: "0 components asked for".into(),
            });
        }
        if !x.iter().all(|v| v.is_finite()) {
            return Err(LatentError::NotFinite("the PLS training set"));
        }
        if !y.iter().all(|v| v.is_finite()) {
            return Err(LatentError::NotFinite("the PLS target"));
        }
        let (x_mean, x_std): (Vec<f64>, Vec<f64>) = (0..f).map(|j| mean_std(x.column(j))).unzip();
        let (y_mean, y_std) = mean_std(y);
        let mut xk = Array2::from_shape_fn((n, f), |(i, j)| (x[[i, j]] - x_mean[j]) / x_std[j]);
        let mut yk: Array1<f64> = y.mapv(|v| (v - y_mean) / y_std);
        let total_ss = yk.dot(&yk);
        let eps = f64::EPSILON;
        let (mut ws, mut ps, mut qs, mut explained) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..k {
            // scikit-learn zeroes a residual within 10 ε and stops when
            // nothing of the target is left.
            if yk.iter().all(|v| v.abs() < 10.0 * eps) {
                break;
            }
            let mut w = xk.t().dot(&yk) / yk.dot(&yk);
            let norm = w.dot(&w).sqrt() + eps;
            w /= norm;
            let big = w
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            if big < 0.0 {
                w.mapv_inplace(|v| -v);
            }
            let t = xk.dot(&w);
            let tt = t.dot(&t);
            if tt <= 0.0 || !tt.is_finite() {
                break;
            }
            let p = xk.t().dot(&t) / tt;
            let q = yk.dot(&t) / tt;
            for i in 0..n {
                for j in 0..f {
                    xk[[i, j]] -= t[i] * p[j];
                }
                yk[i] -= t[i] * q;
            }
            explained.push(if total_ss > 0.0 {
                q * q * tt / total_ss
            } else {
                0.0
            });
            ws.push(w.to_vec());
            ps.push(p.to_vec());
            qs.push(q);
        }
        let c = ws.len();
        if c == 0 {
            return Err(LatentError::Shape {
                what: "PLS target",
                reason: "it is constant: nothing to explain".into(),
            });
        }
        // Rotations W (PᵀW)⁺ (f × c).
        let wm = DMatrix::from_fn(f, c, |j, a| ws[a][j]);
        let pm = DMatrix::from_fn(f, c, |j, a| ps[a][j]);
        let ptw = pm.transpose() * &wm;
        let inv = ptw.pseudo_inverse(1e-12).map_err(|_| LatentError::Svd)?;
        let rot = wm * inv;
        let x_rotations: Vec<Vec<f64>> = (0..c)
            .map(|a| (0..f).map(|j| rot[(j, a)]).collect())
            .collect();
        let coef = (0..f)
            .map(|j| (0..c).map(|a| rot[(j, a)] * qs[a]).sum::<f64>() * y_std / x_std[j])
            .collect();
        Ok(Pls {
            x_mean,
            x_std,
            y_mean,
            y_std,
            x_weights: ws,
            x_loadings: ps,
            x_rotations,
            y_loadings: qs,
            coef,
            y_explained: explained,
        })
    }

    pub fn n_features(&self) -> usize {
        self.x_mean.len()
    }

    /// The target predicted from a row's scores ([`Pls::transform`]):
    /// ȳ + s_y Σ t_a q_a, the same as [`Pls::predict`] of the row.
    pub fn predict_from_scores(&self, scores: &[f64]) -> f64 {
        self.y_mean
            + self.y_std
                * (scores.iter().zip(&self.y_loadings))
                    .map(|(t, q)| t * q)
                    .sum::<f64>()
    }

    /// Arrays of a model read from a file agree with `f` features and one
    /// another, and are finite.
    pub fn sizes_agree(&self, f: usize) -> bool {
        let c = self.x_rotations.len();
        let rows_ok = |v: &[Vec<f64>]| v.iter().all(|r| r.len() == f);
        c > 0
            && self.x_mean.len() == f
            && self.x_std.len() == f
            && self.coef.len() == f
            && self.y_loadings.len() == c
            && rows_ok(&self.x_rotations)
            && (self.x_mean.iter().chain(&self.x_std).chain(&self.coef))
                .chain(self.x_rotations.iter().flatten())
                .chain(&self.y_loadings)
                .chain([&self.y_mean, &self.y_std])
                .all(|v| v.is_finite())
            && self.x_std.iter().all(|s| *s > 0.0)
    }

    fn check(&self, x: ArrayView2<'_, f64>) -> Result<(), LatentError> {
        if x.ncols() != self.n_features() {
            return Err(LatentError::Shape {
                what: "PLS input",
                reason: format!(
                    "{} points per spectrum, the model has {}",
                    x.ncols(),
                    self.n_features()
                ),
            });
        }
        if !x.iter().all(|v| v.is_finite()) {
            return Err(LatentError::NotFinite("the PLS input"));
        }
        Ok(())
    }

    /// Scores of `x` (samples × components).
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LatentError> {
        self.check(x)?;
        let c = self.x_rotations.len();
        Ok(Array2::from_shape_fn((x.nrows(), c), |(i, a)| {
            (0..x.ncols())
                .map(|j| (x[[i, j]] - self.x_mean[j]) / self.x_std[j] * self.x_rotations[a][j])
                .sum()
        }))
    }

    /// The target predicted for each row of `x`.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>, LatentError> {
        self.check(x)?;
        Ok(Array1::from_shape_fn(x.nrows(), |i| {
            self.y_mean
                + (0..x.ncols())
                    .map(|j| (x[[i, j]] - self.x_mean[j]) * self.coef[j])
                    .sum::<f64>()
        }))
    }
}

/// One spectrum of a PLS run on profiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlsSample {
    pub id: String,
    pub target: f64,
    /// Predicted by the model trained on every sample.
    pub predicted: f64,
    /// Predicted by the model trained without it (leave-one-out up to 50
    /// spectra, else without its tenth: spectrum i in fold i mod 10).
    pub predicted_cv: f64,
    pub scores: Vec<f64>,
}

/// PLS of profiles on one common grid against a target, with
/// cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct PlsReport {
    pub model: Pls,
    /// The grid points every profile covers (the model's features), as
    /// grid x values (Q, k or E − e0).
    pub x: Vec<f64>,
    /// Their indices on the modality's grid.
    pub points: Vec<usize>,
    pub axis: String,
    pub samples: Vec<PlsSample>,
    /// Σ of `model.y_explained`.
    pub r2: f64,
    /// RMS error of `predicted` and of `predicted_cv`.
    pub rmsec: f64,
    pub rmsecv: f64,
    /// 1 − PRESS / Σ (y − ȳ)²: the cross-validated R².
    pub q2: f64,
}

impl PlsReport {
    /// One line: the target variance each component explains, R², RMSEC,
    /// RMSECV and Q² (what the CLI and the XANES view print).
    pub fn summary(&self) -> String {
        format!(
            "target variance explained {} (R² {:.4}); RMSEC {:.4}, RMSECV {:.4}, Q² {:.4}",
            (self.model.y_explained.iter())
                .map(|v| format!("{:.1} %", 100.0 * v))
                .collect::<Vec<_>>()
                .join(" + "),
            self.r2,
            self.rmsec,
            self.rmsecv,
            self.q2
        )
    }
}

/// PLS of `items` (id, target, profile; one grid for all) with
/// `n_components`, on the grid points every profile covers (at least half
/// the grid, else an error naming the spectrum that covers least), and
/// its cross-validation ([`PlsSample::predicted_cv`]); at most
/// [`MAX_PLS_SAMPLES`] spectra.
pub fn pls_of_profiles(
    items: &[(String, f64, &super::grid::Profile)],
    n_components: usize,
) -> Result<PlsReport, String> {
    let n = items.len();
    if n < 3 {
        return Err(format!(
            "{n} spectra with a target value: PLS with cross-validation needs at least 3"
        ));
    }
    if n > MAX_PLS_SAMPLES {
        return Err(format!(
            "{n} spectra: at most {MAX_PLS_SAMPLES} (the profiles are held in memory)"
        ));
    }
    let named: Vec<(&str, &super::grid::Profile)> =
        items.iter().map(|(id, _, p)| (id.as_str(), *p)).collect();
    let used = super::grid::shared_points(&named)?;
    let grid = &items[0].2.grid;
    let x = Array2::from_shape_fn((n, used.len()), |(i, j)| items[i].2.values[used[j]]);
    let y = Array1::from_shape_fn(n, |i| items[i].1);
    let model = Pls::fit(x.view(), y.view(), n_components).map_err(|e| e.to_string())?;
    let scores = model.transform(x.view()).map_err(|e| e.to_string())?;
    let pred = model.predict(x.view()).map_err(|e| e.to_string())?;
    let mut samples = Vec::with_capacity(n);
    let (mut press, mut ss) = (0.0, 0.0);
    let ybar = y.mean().unwrap_or(0.0);
    // Leave-one-out up to 50 spectra, else 10 folds (spectrum i in fold
    // i mod 10): one refit per fold.
    let folds = if n <= 50 { n } else { 10 };
    let mut cv = vec![f64::NAN; n];
    for fold in 0..folds {
        let (keep, out): (Vec<usize>, Vec<usize>) = (0..n).partition(|&r| r % folds != fold);
        let xr = x.select(ndarray::Axis(0), &keep);
        let yr = y.select(ndarray::Axis(0), &keep);
        let xo = x.select(ndarray::Axis(0), &out);
        // Fewer samples: fewer components at most.
        if let Ok(p) = Pls::fit(xr.view(), yr.view(), n_components.min(keep.len() - 1))
            .and_then(|m| m.predict(xo.view()))
        {
            for (&i, v) in out.iter().zip(p.iter()) {
                cv[i] = *v;
            }
        }
    }
    for i in 0..n {
        press += (cv[i] - y[i]).powi(2);
        ss += (y[i] - ybar).powi(2);
        samples.push(PlsSample {
            id: items[i].0.clone(),
            target: y[i],
            predicted: pred[i],
            predicted_cv: cv[i],
            scores: scores.row(i).to_vec(),
        });
    }
    let rmsec = (samples
        .iter()
        .map(|s| (s.predicted - s.target).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    Ok(PlsReport {
        r2: model.y_explained.iter().sum(),
        x: used.iter().map(|&j| grid.x(j)).collect(),
        points: used.clone(),
        axis: format!("{} ({})", grid.axis, grid.unit),
        model,
        samples,
        rmsec,
        rmsecv: (press / n as f64).sqrt(),
        q2: if ss > 0.0 { 1.0 - press / ss } else { f64::NAN },
    })
}

/// A trained PLS saved as a file (`carto pls --save`), to predict the
/// target of new spectra (`carto pls --model`): the model, the modality
/// and the grid points it was trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlsModelFile {
    /// Format version (1).
    pub carto_pls_model: u32,
    /// xanes, exafs or xrd.
    pub modality: String,
    /// What the target was (TABLE:COLUMN).
    pub target: String,
    /// The absorber and edge of the training spectra ("Fe K"; empty for
    /// XRD): only spectra of that edge are predicted.
    #[serde(default)]
    pub absorber: String,
    /// Indices of the features on the modality's grid.
    pub points: Vec<usize>,
    pub model: Pls,
}

impl PlsModelFile {
    /// Check a file read back: version, modality and sizes agree.
    pub fn check(&self) -> Result<super::grid::Modality, String> {
        use super::grid::Modality;
        if self.carto_pls_model != 1 {
            return Err(format!(
                "carto_pls_model {}: this Carto reads version 1",
                self.carto_pls_model
            ));
        }
        let m = Modality::parse(&self.modality)
            .ok_or_else(|| format!("modality '{}': xanes, exafs or xrd", self.modality))?;
        let f = self.points.len();
        if f == 0 || self.points.iter().any(|&j| j >= m.grid().n) || !self.model.sizes_agree(f) {
            return Err(format!(
                "the model's {f} grid points do not match its arrays or the {} grid",
                m.name()
            ));
        }
        Ok(m)
    }

    /// The target predicted for `profile` (on the model's grid), or why not.
    pub fn predict(&self, profile: &super::grid::Profile) -> Result<f64, String> {
        if profile.grid.n != profile.values.len() {
            return Err("malformed profile".into());
        }
        if let Some(&j) = self
            .points
            .iter()
            .find(|&&j| !profile.mask.get(j).copied().unwrap_or(false))
        {
            return Err(format!(
                "does not cover {} = {} {} of the model's grid",
                profile.grid.axis,
                profile.grid.x(j),
                profile.grid.unit
            ));
        }
        let x = Array2::from_shape_fn((1, self.points.len()), |(_, j)| {
            profile.values[self.points[j]]
        });
        self.model
            .predict(x.view())
            .map(|p| p[0])
            .map_err(|e| e.to_string())
    }
}

/// Most spectra [`pls_of_profiles`] takes: 20,000 XRD profiles of 801
/// points are 128 MB, about three times that at the peak (the deflated
/// copy and one cross-validation fold's).
pub const MAX_PLS_SAMPLES: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_fit() {
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * j) as f64);
        let y = Array1::from(vec![1.0, 1.0, 1.0, 1.0]);
        let e = Pls::fit(x.view(), y.view(), 2).expect_err("constant target");
        assert!(e.to_string().contains("constant"), "{e}");
        let e = Pls::fit(x.view(), y.slice(ndarray::s![..3]), 2).expect_err("lengths");
        assert!(e.to_string().contains("3 target values"), "{e}");
        let mut bad = x.clone();
        bad[[0, 0]] = f64::NAN;
        let y = Array1::from(vec![0.0, 1.0, 2.0, 3.0]);
        assert!(Pls::fit(bad.view(), y.view(), 1).is_err());
        let m = Pls::fit(x.view(), y.view(), 1).expect("fit");
        assert!(m.predict(Array2::zeros((1, 2)).view()).is_err());
    }
}
