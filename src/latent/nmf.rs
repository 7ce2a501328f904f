//! Non-negative matrix factorization X ≈ W·H (rows of X: spectra; rows of
//! H: non-negative components, "end members"; W: each spectrum's
//! memberships), the soft mixed-phase decomposition XRD and XANES map
//! users ask for. As scikit-learn's `NMF(init="nndsvda", solver="mu",
//! beta_loss="frobenius")`: NNDSVD initialization with zeros filled by the
//! mean of X (Boutsidis & Gallopoulos, Pattern Recognition 41 (2008) 1350),
//! then Lee & Seung's multiplicative updates (NIPS 13 (2001) 556), W then
//! H each iteration, stopping when the Frobenius error, checked every 10
//! iterations, fell by less than `tol` of the initial error. `transform`
//! of new spectra is exact non-negative least squares on H.

use nalgebra::DMatrix;
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::pca::LatentError;
use crate::numeric::nnls::nnls;

/// scikit-learn's guard against division by zero (float32 machine epsilon).
const EPSILON: f64 = f32::EPSILON as f64;

/// How long NMF runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NmfOptions {
    pub n_components: usize,
    pub max_iter: usize,
    /// Relative decrease of the error (per 10 iterations) below which it
    /// stops; 0 runs `max_iter` iterations.
    pub tol: f64,
}

impl Default for NmfOptions {
    fn default() -> Self {
        NmfOptions {
            n_components: 3,
            max_iter: 500,
            tol: 1e-4,
        }
    }
}

/// A trained NMF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nmf {
    /// H: components × features, non-negative.
    pub components: Vec<Vec<f64>>,
    /// ‖X − W·H‖_F at the end of training.
    pub reconstruction_err: f64,
    pub n_iter: usize,
}

/// The result of [`Nmf::fit`]: the model and the training spectra's W.
#[derive(Debug, Clone)]
pub struct NmfFit {
    pub model: Nmf,
    /// samples × components.
    pub w: Array2<f64>,
}

fn frobenius(x: &DMatrix<f64>, w: &DMatrix<f64>, h: &DMatrix<f64>) -> f64 {
    (x - w * h).norm()
}

/// NNDSVD with zeros replaced by the mean of X ("nndsvda").
fn nndsvda(x: &DMatrix<f64>, k: usize) -> Result<(DMatrix<f64>, DMatrix<f64>), LatentError> {
    let (n, f) = x.shape();
    let svd = nalgebra::linalg::SVD::try_new(x.clone(), true, true, 1e-14, 10_000)
        .ok_or(LatentError::Svd)?;
    let (Some(u), Some(vt)) = (svd.u, svd.v_t) else {
        return Err(LatentError::Svd);
    };
    let s = svd.singular_values;
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let mut w = DMatrix::zeros(n, k);
    let mut h = DMatrix::zeros(k, f);
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    for (j, &c) in order.iter().take(k).enumerate() {
        let x_: Vec<f64> = u.column(c).iter().copied().collect();
        let y_: Vec<f64> = vt.row(c).iter().copied().collect();
        if j == 0 {
            let r = s[c].sqrt();
            for i in 0..n {
                w[(i, 0)] = r * x_[i].abs();
            }
            for p in 0..f {
                h[(0, p)] = r * y_[p].abs();
            }
            continue;
        }
        let pos = |v: &[f64]| v.iter().map(|a| a.max(0.0)).collect::<Vec<_>>();
        let neg = |v: &[f64]| v.iter().map(|a| (-a).max(0.0)).collect::<Vec<_>>();
        let (xp, yp, xn, yn) = (pos(&x_), pos(&y_), neg(&x_), neg(&y_));
        let (xpn, ypn, xnn, ynn) = (norm(&xp), norm(&yp), norm(&xn), norm(&yn));
        let (mp, mn) = (xpn * ypn, xnn * ynn);
        let (uu, vv, sigma) = if mp > mn {
            (
                xp.iter().map(|a| a / xpn).collect::<Vec<_>>(),
                yp.iter().map(|a| a / ypn).collect::<Vec<_>>(),
                mp,
            )
        } else {
            (
                xn.iter().map(|a| a / xnn).collect(),
                yn.iter().map(|a| a / ynn).collect(),
                mn,
            )
        };
        let lbd = (s[c] * sigma).sqrt();
        for i in 0..n {
            w[(i, j)] = lbd * uu[i];
        }
        for p in 0..f {
            h[(j, p)] = lbd * vv[p];
        }
    }
    let avg = x.mean();
    for v in w.iter_mut().chain(h.iter_mut()) {
        if *v < 1e-6 || !v.is_finite() {
            *v = avg;
        }
    }
    Ok((w, h))
}

fn check(x: ArrayView2<'_, f64>, what: &'static str) -> Result<(), LatentError> {
    if let Some(v) = x.iter().find(|v| !v.is_finite()) {
        let _ = v;
        return Err(LatentError::NotFinite(what));
    }
    if let Some(v) = x.iter().find(|v| **v < 0.0) {
        return Err(LatentError::Negative(format!(
            "{what} has a negative value ({v}): NMF needs non-negative spectra"
        )));
    }
    Ok(())
}

impl Nmf {
    /// Factor `x` (samples × features, non-negative).
    pub fn fit(x: ArrayView2<'_, f64>, o: &NmfOptions) -> Result<NmfFit, LatentError> {
        let (n, f) = x.dim();
        let k = o.n_components;
        if k == 0 || k > n.min(f) {
            return Err(LatentError::Shape {
                what: "NMF",
                reason: format!("{k} components for {n} spectra × {f} points"),
            });
        }
        check(x, "the NMF training set")?;
        let xm = DMatrix::from_fn(n, f, |i, j| x[[i, j]]);
        let (mut w, mut h) = nndsvda(&xm, k)?;
        let err0 = frobenius(&xm, &w, &h);
        let mut previous = err0;
        let mut n_iter = 0;
        for it in 1..=o.max_iter {
            n_iter = it;
            // W ← W ⊙ (X Hᵀ) ⊘ (W H Hᵀ)
            let num = &xm * h.transpose();
            let den = &w * (&h * h.transpose());
            for ((wv, a), b) in w.iter_mut().zip(num.iter()).zip(den.iter()) {
                *wv *= a / if *b == 0.0 { EPSILON } else { *b };
            }
            // H ← H ⊙ (Wᵀ X) ⊘ (Wᵀ W H)
            let num = w.transpose() * &xm;
            let den = (w.transpose() * &w) * &h;
            for ((hv, a), b) in h.iter_mut().zip(num.iter()).zip(den.iter()) {
                *hv *= a / if *b == 0.0 { EPSILON } else { *b };
            }
            if o.tol > 0.0 && it % 10 == 0 {
                let e = frobenius(&xm, &w, &h);
                if err0 > 0.0 && (previous - e) / err0 < o.tol {
                    break;
                }
                previous = e;
            }
        }
        let model = Nmf {
            components: (0..k).map(|j| h.row(j).iter().copied().collect()).collect(),
            reconstruction_err: frobenius(&xm, &w, &h),
            n_iter,
        };
        Ok(NmfFit {
            model,
            w: Array2::from_shape_fn((n, k), |(i, j)| w[(i, j)]),
        })
    }

    pub fn n_features(&self) -> usize {
        self.components.first().map_or(0, Vec::len)
    }

    /// Memberships of one spectrum: non-negative least squares on the
    /// components over the points `mask` covers (None: all).
    pub fn transform_one(
        &self,
        x: ArrayView1<'_, f64>,
        mask: Option<&[bool]>,
    ) -> Result<Vec<f64>, LatentError> {
        let f = self.n_features();
        if x.len() != f || mask.is_some_and(|m| m.len() != f) {
            return Err(LatentError::Shape {
                what: "NMF transform",
                reason: format!("{} points per spectrum; the model has {f}", x.len()),
            });
        }
        let idx: Vec<usize> = (0..f).filter(|&p| mask.is_none_or(|m| m[p])).collect();
        if idx.iter().any(|&p| !x[p].is_finite()) {
            return Err(LatentError::NotFinite("the spectrum to project"));
        }
        let cols: Vec<Vec<f64>> = (self.components.iter())
            .map(|c| idx.iter().map(|&p| c[p]).collect())
            .collect();
        let b: Vec<f64> = idx.iter().map(|&p| x[p]).collect();
        Ok(nnls(&cols, &b))
    }
}
