//! Principal component analysis of profiles (rows: spectra, columns: grid
//! points), as scikit-learn's `PCA` (full SVD of the centred matrix;
//! signs fixed so each component's largest |loading| is positive, as
//! `svd_flip` with `u_based_decision=False` does). `fit` once, `transform`
//! many times; a profile with masked points is projected by least squares
//! on the points it covers.

use nalgebra::DMatrix;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// Why a model cannot be trained or applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatentError {
    #[error("{what}: {reason}")]
    Shape { what: &'static str, reason: String },
    #[error("{0} contains a value that is not a finite number")]
    NotFinite(&'static str),
    #[error("the SVD did not converge")]
    Svd,
    #[error("{0}")]
    Negative(String),
}

/// The full eigendecomposition of CᵀC for a centred
/// `c` (n × f, row-major): CᵀC by faer's parallel gemm, then faer's
/// self-adjoint eigensolver; singular values (√ of the eigenvalues, ≥ 0)
/// and the eigenvectors as rows (Vᵀ).
fn gram_eigen(
    c: ArrayView2<'_, f64>,
) -> Result<(nalgebra::DVector<f64>, DMatrix<f64>), LatentError> {
    let (n, f) = c.dim();
    let owned;
    let slice = match c.as_slice() {
        Some(s) => s,
        None => {
            owned = c.as_standard_layout().to_owned();
            owned.as_slice().ok_or(LatentError::Svd)?
        }
    };
    let cm = faer::MatRef::from_row_major_slice(slice, n, f);
    let mut g = faer::Mat::<f64>::zeros(f, f);
    faer::linalg::matmul::matmul(
        g.as_mut(),
        faer::Accum::Replace,
        cm.transpose(),
        cm,
        1.0,
        faer::Par::rayon(0),
    );
    let eig = g
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|_| LatentError::Svd)?;
    let (vals, vecs) = (eig.S(), eig.U());
    let s = nalgebra::DVector::from_fn(f, |i, _| vals[i].max(0.0).sqrt());
    let vt = DMatrix::from_fn(f, f, |i, j| vecs[(j, i)]);
    Ok((s, vt))
}

/// A trained PCA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Mean profile (length: grid points).
    pub mean: Vec<f64>,
    /// Components, one row each (unit vectors), strongest first.
    pub components: Vec<Vec<f64>>,
    /// Variance along each component (s² / (n − 1)).
    pub explained_variance: Vec<f64>,
    /// Its fraction of the total variance.
    pub explained_variance_ratio: Vec<f64>,
    pub singular_values: Vec<f64>,
}

fn check_finite(x: ArrayView2<'_, f64>, what: &'static str) -> Result<(), LatentError> {
    if x.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(LatentError::NotFinite(what))
    }
}

impl Pca {
    /// Fit `n_components` (at most min(samples, features)) to `x`
    /// (samples × features).
    pub fn fit(x: ArrayView2<'_, f64>, n_components: usize) -> Result<Pca, LatentError> {
        let (n, f) = x.dim();
        if n < 2 || f == 0 {
            return Err(LatentError::Shape {
                what: "PCA training set",
                reason: format!("{n} spectra × {f} points: at least 2 spectra are needed"),
            });
        }
        let k = n_components.min(n).min(f);
        if k == 0 {
            return Err(LatentError::Shape {
                what: "PCA",
                reason: "0 components asked for".into(),
            });
        }
        check_finite(x, "the PCA training set")?;
        let mean = x
            .mean_axis(ndarray::Axis(0))
            .unwrap_or_else(|| Array1::zeros(f));
        let centred = &x - &mean;
        // Many more spectra than points (a library): the eigenvectors of
        // CᵀC (f × f, one matrix product) are the right singular vectors,
        // at a fraction of the SVD's cost; otherwise the SVD of C itself.
        let (s, vt) = if n >= 2 * f {
            gram_eigen(centred.view())?
        } else {
            let c = DMatrix::from_fn(n, f, |i, j| centred[[i, j]]);
            let svd = nalgebra::linalg::SVD::try_new(c, false, true, 1e-14, 10_000)
                .ok_or(LatentError::Svd)?;
            (svd.singular_values, svd.v_t.ok_or(LatentError::Svd)?)
        };
        let mut order: Vec<usize> = (0..s.len()).collect();
        order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
        let total: f64 = s.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;
        let mut pca = Pca {
            mean: mean.to_vec(),
            components: Vec::with_capacity(k),
            explained_variance: Vec::with_capacity(k),
            explained_variance_ratio: Vec::with_capacity(k),
            singular_values: Vec::with_capacity(k),
        };
        for &i in order.iter().take(k) {
            let mut row: Vec<f64> = vt.row(i).iter().copied().collect();
            let big = row
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            if big < 0.0 {
                row.iter_mut().for_each(|v| *v = -*v);
            }
            let var = s[i] * s[i] / (n - 1) as f64;
            pca.components.push(row);
            pca.explained_variance.push(var);
            pca.explained_variance_ratio
                .push(if total > 0.0 { var / total } else { 0.0 });
            pca.singular_values.push(s[i]);
        }
        Ok(pca)
    }

    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Scores of every row of `x` (samples × features).
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, LatentError> {
        let (n, f) = x.dim();
        if f != self.n_features() {
            return Err(LatentError::Shape {
                what: "PCA transform",
                reason: format!(
                    "{f} points per spectrum; the model has {}",
                    self.n_features()
                ),
            });
        }
        check_finite(x, "the spectra to project")?;
        // x·Cᵀ − mean·Cᵀ: one matrix product (matrixmultiply), no centred copy.
        let k = self.components.len();
        let comps = Array2::from_shape_fn((k, f), |(j, p)| self.components[j][p]);
        let shift = ArrayView1::from(&self.mean[..]).dot(&comps.t());
        let mut out = x.dot(&comps.t());
        out -= &shift;
        debug_assert_eq!(out.dim(), (n, k));
        Ok(out)
    }

    /// Scores of one profile that covers only the points where `mask`:
    /// least squares min Σ_covered (x − mean − Σ z_j c_j)² (equal to
    /// [`Self::transform`] when everything is covered, the components
    /// being orthonormal there).
    pub fn transform_masked(
        &self,
        x: ArrayView1<'_, f64>,
        mask: &[bool],
    ) -> Result<Vec<f64>, LatentError> {
        let f = self.n_features();
        if x.len() != f || mask.len() != f {
            return Err(LatentError::Shape {
                what: "PCA transform",
                reason: format!("{} points per spectrum; the model has {f}", x.len()),
            });
        }
        let k = self.components.len();
        let idx: Vec<usize> = (0..f).filter(|&p| mask[p]).collect();
        if idx.len() < k {
            return Err(LatentError::Shape {
                what: "PCA transform",
                reason: format!("{} covered points for {k} components", idx.len()),
            });
        }
        if idx.iter().any(|&p| !x[p].is_finite()) {
            return Err(LatentError::NotFinite("the spectrum to project"));
        }
        let a = DMatrix::from_fn(idx.len(), k, |r, j| self.components[j][idx[r]]);
        let b =
            nalgebra::DVector::from_iterator(idx.len(), idx.iter().map(|&p| x[p] - self.mean[p]));
        let svd = a.svd(true, true);
        let z = svd.solve(&b, 1e-12).map_err(|_| LatentError::Svd)?;
        Ok(z.iter().copied().collect())
    }

    /// Profiles back from scores (samples × components).
    pub fn inverse_transform(&self, z: ArrayView2<'_, f64>) -> Array2<f64> {
        let (n, k) = z.dim();
        let f = self.n_features();
        Array2::from_shape_fn((n, f), |(i, p)| {
            self.mean[p]
                + (0..k.min(self.components.len()))
                    .map(|j| z[[i, j]] * self.components[j][p])
                    .sum::<f64>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tall set (n ≥ 2f) goes through the eigenvectors of CᵀC: the same
    /// components, variances and scores as the SVD of C.
    #[test]
    fn tall_sets_equal_the_svd() {
        let (n, f) = (64, 6);
        let x = Array2::from_shape_fn((n, f), |(i, j)| {
            ((i * 7 + j * 13) % 17) as f64 * 0.1 + (i as f64 * 0.3 + j as f64).sin()
        });
        let pca = Pca::fit(x.view(), 3).expect("fit");
        let mean = x.mean_axis(ndarray::Axis(0)).expect("mean");
        let c = DMatrix::from_fn(n, f, |i, j| x[[i, j]] - mean[j]);
        let svd = c.svd(false, true);
        let vt = svd.v_t.expect("vt");
        let mut order: Vec<usize> = (0..f).collect();
        order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
        for (j, &o) in order.iter().take(3).enumerate() {
            let s = svd.singular_values[o];
            assert!((pca.singular_values[j] - s).abs() < 1e-9 * s.max(1.0));
            let dot: f64 = (0..f).map(|p| pca.components[j][p] * vt[(o, p)]).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-9, "component {j}: {dot}");
        }
        let z = pca.transform(x.view()).expect("scores");
        for i in [0, 17, 63] {
            for j in 0..3 {
                let want: f64 = (0..f)
                    .map(|p| (x[[i, p]] - mean[p]) * pca.components[j][p])
                    .sum();
                assert!((z[[i, j]] - want).abs() < 1e-9);
            }
        }
    }
}
