//! What a fit returns: parameters with uncertainties, per-path values,
//! per-dataset arrays and the statistics Larch reports.

use num_complex::Complex64;
use serde::Serialize;

use super::engine::{Feffit, fftf};
use super::model::Transform;
use super::prepare::{PathPar, Prepared};
use crate::numeric::grid::uniform;
use crate::numeric::lm;

/// Uncertainty in χ(k): one number per k-weight, or one array for all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EpsilonK {
    Scalar(Vec<f64>),
    Array(Vec<f64>),
}

/// A fit parameter after the fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamResult {
    pub name: String,
    pub value: f64,
    pub stderr: Option<f64>,
    pub vary: bool,
    pub expr: Option<String>,
    pub init: f64,
}

/// A path's parameter values after the fit, in [`PATH_PARS`] order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathResult {
    pub label: String,
    pub file: String,
    pub reff: f64,
    pub values: [f64; 8],
    pub stderr: [Option<f64>; 8],
    /// The expressions behind the values (None for plain numbers).
    pub exprs: [Option<String>; 8],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetResult {
    pub name: String,
    pub n_idp: f64,
    pub epsilon_k: EpsilonK,
    pub epsilon_r: Vec<f64>,
    /// Larch's high-R noise estimate alone (before AUTOBK's δχ is added).
    pub noise_epsilon_k: f64,
    pub noise_epsilon_r: f64,
    pub transform: Transform,
    pub k: Vec<f64>,
    pub chi_data: Vec<f64>,
    pub chi_fit: Vec<f64>,
    pub kwin: Vec<f64>,
    pub r: Vec<f64>,
    pub chir_mag_data: Vec<f64>,
    pub chir_mag_fit: Vec<f64>,
    pub chir_re_fit: Vec<f64>,
    pub chir_im_fit: Vec<f64>,
    pub rwin: Vec<f64>,
    pub paths: Vec<PathResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitStats {
    pub chi_square: f64,
    pub chi2_reduced: f64,
    pub r_factor: f64,
    pub n_idp: f64,
    pub n_varys: usize,
    pub nfree: usize,
    pub ndata: usize,
    pub nfev: usize,
    pub aic: f64,
    pub bic: f64,
    pub success: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitResult {
    pub params: Vec<ParamResult>,
    pub stats: FitStats,
    /// Correlations between every pair of varied parameters.
    pub correlations: Vec<(String, String, f64)>,
    pub datasets: Vec<DatasetResult>,
}

impl Feffit {
    pub(super) fn finish(&self, res: lm::LmResult) -> FitResult {
        let mut vals = res.values.clone();
        self.eval_exprs(&mut vals);
        let mut dat = Vec::new();
        self.residual(&vals, true, &mut dat);
        let n_idp: f64 = self.datasets.iter().map(|d| d.n_idp).sum();
        let npts = res.residual.len() as f64;
        let chisqr: f64 = res.residual.iter().map(|r| r * r).sum();
        let nvarys = res.nvarys;
        let chi_square = chisqr * n_idp / npts;
        let chi2_reduced = chi_square / (n_idp - nvarys as f64);
        let r_factor = chisqr / dat.iter().map(|r| r * r).sum::<f64>();
        let neg2 = n_idp * (chi_square / n_idp).ln();
        let aic = neg2 + 2.0 * nvarys as f64;
        let bic = neg2 + n_idp.ln() * nvarys as f64;

        // Larch propagate_uncertainties: scale_covar=False, then
        // err_scale = redchi·nfree/(n_idp − nvarys) = chisqr/(n_idp − nvarys).
        let err_scale = chisqr / (n_idp - nvarys as f64);
        let nv = res.var_index.len();
        let covar: Option<Vec<f64>> = res
            .covar
            .as_ref()
            .map(|c| c.iter().map(|v| v * err_scale).collect());
        let mut stderr: Vec<Option<f64>> = vec![None; self.params.len()];
        let mut correlations = Vec::new();
        if let Some(c) = &covar {
            for (a, &i) in res.var_index.iter().enumerate() {
                stderr[i] = Some(c[a * nv + a].max(0.0).sqrt());
                for (b, &j) in res.var_index.iter().enumerate().skip(a + 1) {
                    if let Some(r) = res.correlation(a, b) {
                        correlations.push((
                            self.params[i].name.clone(),
                            self.params[j].name.clone(),
                            r,
                        ));
                    }
                }
            }
        }
        // Uncertainty of anything computed from the variables: g·C·g with g
        // by central differences (as the `uncertainties` package Larch uses).
        let propagate = |f: &dyn Fn(&[f64]) -> f64| -> Option<f64> {
            let c = covar.as_ref()?;
            let mut g = vec![0.0; nv];
            let mut x = res.values.clone();
            for (a, &i) in res.var_index.iter().enumerate() {
                let x0 = x[i];
                let h = if x0 != 0.0 {
                    1.490_116_119_384_765_6e-8 * x0.abs()
                } else {
                    1.490_116_119_384_765_6e-8
                };
                x[i] = x0 + h;
                let fp = f(&x);
                x[i] = x0 - h;
                let fm = f(&x);
                x[i] = x0;
                g[a] = (fp - fm) / (2.0 * h);
            }
            let mut s = 0.0;
            for a in 0..nv {
                for b in 0..nv {
                    s += g[a] * c[a * nv + b] * g[b];
                }
            }
            Some(s.max(0.0).sqrt())
        };
        // A fixed number is exact: Larch reports its stderr as 0.
        if covar.is_some() {
            for (i, p) in self.params.iter().enumerate() {
                if !self.vary[i] && p.expr.is_none() {
                    stderr[i] = Some(0.0);
                }
            }
        }
        for &i in &self.order {
            stderr[i] = propagate(&|x: &[f64]| {
                let mut v = x.to_vec();
                self.eval_exprs(&mut v);
                v[i]
            });
        }
        let params = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| ParamResult {
                name: p.name.clone(),
                value: vals[i],
                stderr: stderr[i],
                vary: self.vary[i],
                expr: p.expr.clone(),
                init: p.value,
            })
            .collect();

        let datasets = self
            .datasets
            .iter()
            .map(|d| {
                let chi_fit = self.model_chi(d, &vals);
                let paths = d
                    .paths
                    .iter()
                    .map(|p| {
                        let values = Self::path_params(p, &vals);
                        let mut se = [None; 8];
                        for (j, s) in se.iter_mut().enumerate() {
                            if let PathPar::Expr(e) = &p.pars[j]
                                && !e.deps.is_empty()
                            {
                                *s = propagate(&|x: &[f64]| {
                                    let mut v = x.to_vec();
                                    self.eval_exprs(&mut v);
                                    e.eval(&v, &p.ctx)
                                });
                            }
                        }
                        PathResult {
                            label: p.label.clone(),
                            file: p.file.clone(),
                            reff: p.model.reff_ang,
                            values,
                            stderr: se,
                            exprs: p.exprs.clone(),
                        }
                    })
                    .collect();
                let (r, data_r) = output_ft(d, &d.chi);
                let (_, fit_r) = output_ft(d, &chi_fit);
                DatasetResult {
                    name: d.name.clone(),
                    n_idp: d.n_idp,
                    epsilon_k: d.eps_k.clone(),
                    epsilon_r: d.eps_r.clone(),
                    noise_epsilon_k: d.noise_eps_k,
                    noise_epsilon_r: d.noise_eps_r,
                    transform: d.tr.clone(),
                    k: d.k.clone(),
                    chi_data: d.chi.clone(),
                    chi_fit,
                    kwin: d.kwin.clone(),
                    rwin: d.rwin[..r.len()].to_vec(),
                    r,
                    chir_mag_data: data_r.iter().map(|c| c.norm()).collect(),
                    chir_mag_fit: fit_r.iter().map(|c| c.norm()).collect(),
                    chir_re_fit: fit_r.iter().map(|c| c.re).collect(),
                    chir_im_fit: fit_r.iter().map(|c| c.im).collect(),
                    paths,
                }
            })
            .collect();
        FitResult {
            params,
            stats: FitStats {
                chi_square,
                chi2_reduced,
                r_factor,
                n_idp,
                n_varys: nvarys,
                nfree: res.nfree,
                ndata: res.ndata,
                nfev: res.nfev,
                aic,
                bic,
                success: res.success,
                message: res.message.clone(),
            },
            correlations,
            datasets,
        }
    }
}

/// χ(R) out to 10 Å with the first k-weight (Larch `save_outputs`, rmax_out = 10).
fn output_ft(d: &Prepared, chi: &[f64]) -> (Vec<f64>, Vec<Complex64>) {
    let tr = &d.tr;
    let rstep = tr.rstep();
    let irmax = ((tr.nfft / 2) as f64).min(1.01 + 10.0 / rstep) as usize;
    let c = fftf(chi, &d.wk[0], tr.nfft, tr.kstep);
    let r = uniform(rstep, irmax);
    (r, c[..irmax].to_vec())
}
