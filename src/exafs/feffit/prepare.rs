//! Compiling a [`FitModel`] into a [`Feffit`]: expressions compiled and
//! ordered once, each dataset prepared on the model k grid (Larch's
//! `FeffitDataSet.prepare_fit`, `estimate_noise`, `set_epsilon_k`).

use std::collections::HashMap;
use std::f64::consts::PI;

use super::engine::{Feffit, fftf};
use super::model::{
    FitData, FitError, FitModel, FitSpace, PATH_PARS, ParamDef, PathValue, Transform,
    check_param_name, names_table, uses_name,
};
use super::result::EpsilonK;
use crate::exafs::expr::{Expr, PathContext};
use crate::exafs::path::PathModel;
use crate::numeric::grid::uniform;
use crate::numeric::interp::interp_clamped;
use crate::xas::fourier::ftwindow;

#[derive(Debug, Clone)]
pub(super) enum PathPar {
    Const(f64),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub(super) struct PreparedPath {
    pub(super) label: String,
    pub(super) file: String,
    pub(super) exprs: [Option<String>; 8],
    pub(super) model: PathModel,
    pub(super) ctx: PathContext,
    pub(super) pars: [PathPar; 8],
}

#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) name: String,
    pub(super) tr: Transform,
    pub(super) k: Vec<f64>,
    pub(super) chi: Vec<f64>,
    pub(super) kwin: Vec<f64>,
    /// kwin·k^w on the model grid, per k-weight.
    pub(super) wk: Vec<Vec<f64>>,
    /// k^w on the model grid, per k-weight (k-space residual).
    pub(super) kpow: Vec<Vec<f64>>,
    pub(super) eps_k: EpsilonK,
    pub(super) eps_r: Vec<f64>,
    pub(super) noise_eps_k: f64,
    pub(super) noise_eps_r: f64,
    pub(super) n_idp: f64,
    pub(super) irmin: usize,
    pub(super) irmax: usize,
    pub(super) iqmin: usize,
    pub(super) iqmax: usize,
    pub(super) rwin: Vec<f64>,
    pub(super) paths: Vec<PreparedPath>,
    pub(super) nresid: usize,
}

impl Feffit {
    /// Compile expressions, order derived parameters, prepare every dataset.
    pub fn new(model: FitModel) -> Result<Feffit, FitError> {
        if model.datasets.is_empty() {
            return Err(FitError::NoDataset);
        }
        let mut seen = HashMap::new();
        for (i, p) in model.params.iter().enumerate() {
            check_param_name(&p.name)?;
            if seen.insert(p.name.clone(), i).is_some() {
                return Err(FitError::DefinedTwice(p.name.clone()));
            }
            if p.expr.is_none() && !p.value.is_finite() {
                return Err(FitError::ParamNotFinite {
                    name: p.name.clone(),
                    value: p.value,
                });
            }
            if p.min.is_nan() || p.max.is_nan() || p.min >= p.max {
                return Err(FitError::ParamBounds {
                    name: p.name.clone(),
                    min: p.min,
                    max: p.max,
                });
            }
        }
        let names = names_table(&model.params);
        let mut exprs = Vec::with_capacity(model.params.len());
        for p in &model.params {
            exprs.push(match &p.expr {
                Some(text) => {
                    let e = Expr::compile(text, &names).map_err(|e| FitError::ParamExpr {
                        name: p.name.clone(),
                        error: e,
                    })?;
                    for f in ["sigma2_eins", "sigma2_debye", "reff", "degen"] {
                        if uses_name(text, f) {
                            return Err(FitError::ParamNeedsPath {
                                name: p.name.clone(),
                                function: f,
                            });
                        }
                    }
                    Some(e)
                }
                None => None,
            });
        }
        // Topological order of expression parameters (cycles rejected).
        let mut order = Vec::new();
        let mut state = vec![0u8; exprs.len()]; // 0 new, 1 visiting, 2 done
        fn visit(
            i: usize,
            exprs: &[Option<Expr>],
            state: &mut [u8],
            order: &mut Vec<usize>,
            params: &[ParamDef],
        ) -> Result<(), FitError> {
            match state[i] {
                2 => return Ok(()),
                1 => return Err(FitError::ParamCycle(params[i].name.clone())),
                _ => {}
            }
            state[i] = 1;
            if let Some(e) = &exprs[i] {
                for &d in &e.deps {
                    visit(d, exprs, state, order, params)?;
                }
                order.push(i);
            }
            state[i] = 2;
            Ok(())
        }
        for i in 0..exprs.len() {
            visit(i, &exprs, &mut state, &mut order, &model.params)?;
        }

        // Datasets.
        let nds = model.datasets.len();
        let mut datasets = Vec::with_capacity(nds);
        let mut used = vec![false; model.params.len()];
        for e in exprs.iter().flatten() {
            for &d in &e.deps {
                used[d] = true;
            }
        }
        for (di, ds) in model.datasets.into_iter().enumerate() {
            let dataset = (nds > 1).then_some(di + 1);
            ds.transform
                .validate()
                .map_err(|error| FitError::Transform { dataset, error })?;
            if ds.paths.is_empty() {
                return Err(FitError::NoPaths { dataset });
            }
            let mut paths = Vec::with_capacity(ds.paths.len());
            for (pi, p) in ds.paths.into_iter().enumerate() {
                let path = pi + 1;
                let model = PathModel::new(&p.feff).map_err(|e| FitError::Feff {
                    dataset,
                    path,
                    label: p.label.clone(),
                    error: e,
                })?;
                let ctx = PathContext::from_feff(&p.feff);
                let mut pars: [PathPar; 8] = std::array::from_fn(|_| PathPar::Const(0.0));
                for (j, v) in p.values.iter().enumerate() {
                    pars[j] = match v {
                        None => PathPar::Const(match PATH_PARS[j] {
                            "degen" => p.feff.degen,
                            "s02" => 1.0,
                            _ => 0.0,
                        }),
                        Some(PathValue::Value(x)) => {
                            if !x.is_finite() {
                                return Err(FitError::PathNotFinite {
                                    dataset,
                                    path,
                                    label: p.label.clone(),
                                    field: PATH_PARS[j],
                                    value: *x,
                                });
                            }
                            PathPar::Const(*x)
                        }
                        Some(PathValue::Expr(text)) => {
                            let e =
                                Expr::compile(text, &names).map_err(|e| FitError::PathExpr {
                                    dataset,
                                    path,
                                    label: p.label.clone(),
                                    field: PATH_PARS[j],
                                    error: e,
                                })?;
                            for &d in &e.deps {
                                used[d] = true;
                            }
                            PathPar::Expr(e)
                        }
                    };
                }
                let exprs = std::array::from_fn(|j| match &p.values[j] {
                    Some(PathValue::Expr(t)) => Some(t.clone()),
                    _ => None,
                });
                paths.push(PreparedPath {
                    label: p.label,
                    file: p.file,
                    exprs,
                    model,
                    ctx,
                    pars,
                });
            }
            datasets.push(
                prepare(ds.data, ds.transform, paths)
                    .map_err(|reason| FitError::Data { dataset, reason })?,
            );
        }
        // Larch fix_unused_variables: a varied parameter no expression uses
        // is fixed.
        let vary = model
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| p.vary && p.expr.is_none() && used[i])
            .collect();
        Ok(Feffit {
            params: model.params,
            exprs,
            order,
            vary,
            datasets,
        })
    }
}

/// Larch `FeffitDataSet.prepare_fit` (+ `estimate_noise`, `set_epsilon_k`).
pub(super) fn prepare(
    data: FitData,
    tr: Transform,
    paths: Vec<PreparedPath>,
) -> Result<Prepared, String> {
    let n = data.k_inv_ang.len();
    if n < 2 || data.chi.len() != n {
        return Err(format!(
            "χ(k) needs matching k and χ arrays with at least 2 points (k {}, χ {})",
            n,
            data.chi.len()
        ));
    }
    if let Some(i) = data
        .k_inv_ang
        .iter()
        .zip(&data.chi)
        .position(|(k, c)| !k.is_finite() || !c.is_finite())
    {
        return Err(format!("χ(k) point {} is not a finite number", i + 1));
    }
    if data.k_inv_ang.windows(2).any(|w| w[1] <= w[0]) {
        return Err("k is not strictly increasing".into());
    }
    let nfft = tr.nfft;
    let kstep = tr.kstep;
    let kmax_data = data.k_inv_ang[n - 1];
    let ikmax = ((1.01 + kmax_data / kstep) as usize).min(nfft);
    let k: Vec<f64> = uniform(kstep, ikmax);
    let chi = interp_clamped(&data.k_inv_ang, &data.chi, &k);
    let k_full: Vec<f64> = uniform(kstep, nfft);
    let kwin_full = ftwindow(&k_full, tr.kmin, tr.kmax, tr.dk, tr.dk2, tr.window);
    let kwin = kwin_full[..ikmax].to_vec();
    let kpow: Vec<Vec<f64>> = tr
        .kweight
        .iter()
        .map(|&w| k.iter().map(|&x| x.powf(w)).collect())
        .collect();
    let wk: Vec<Vec<f64>> = kpow
        .iter()
        .map(|kp| kp.iter().zip(&kwin).map(|(a, b)| a * b).collect())
        .collect();
    let n_idp = 1.0 + 2.0 * (tr.rmax - tr.rmin) * (tr.kmax - tr.kmin) / PI;
    let rstep = tr.rstep();
    let scale_k = |w: f64| {
        let w = 2.0 * w + 1.0;
        (2.0 * PI * w / (kstep * (tr.kmax.powf(w) - tr.kmin.powf(w)))).sqrt()
    };
    // set_epsilon_k's scale is 2·sqrt(πw/…), √2 times estimate_noise's (as Larch).
    let scale_set = |w: f64| {
        let w = 2.0 * w + 1.0;
        2.0 * (PI * w / (kstep * (tr.kmax.powf(w) - tr.kmin.powf(w)))).sqrt()
    };

    // estimate_noise(chi, rmin=15, rmax=30) over every k-weight.
    let irmin_n = (0.01 + 15.0 / rstep) as usize;
    let irmax_n = ((nfft / 2) as f64).min(1.01 + 30.0 / rstep) as usize;
    let kwin_ave = kwin_full.iter().sum::<f64>() * kstep / (tr.kmax - tr.kmin);
    let mut noise_r = Vec::new();
    let mut noise_k = Vec::new();
    let weights: Vec<f64> = if tr.kweight_list {
        tr.kweight.clone()
    } else {
        vec![tr.kweight[0]]
    };
    for (i, &w) in weights.iter().enumerate() {
        let c = fftf(&chi, &wk[i], nfft, kstep);
        let hi = &c[irmin_n.min(c.len())..irmax_n.min(c.len())];
        let ss: f64 = hi.iter().map(|z| z.re * z.re + z.im * z.im).sum();
        let eps_r = (ss / (2 * hi.len()).max(1) as f64).sqrt() / kwin_ave;
        noise_r.push(eps_r);
        noise_k.push(scale_k(w) * eps_r);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let nan_to = |v: f64, d: f64| if v.is_nan() { d } else { v };

    let (eps_k, eps_r) = if let Some(e) = data.epsilon_k {
        let e = nan_to(e, 0.001);
        let eps_r = tr.kweight.iter().map(|&w| e / scale_set(w)).collect();
        (EpsilonK::Scalar(vec![e; tr.kweight.len()]), eps_r)
    } else if let Some(dchi) = data.delta_chi.as_ref().filter(|d| !d.is_empty()) {
        let cur = mean(&noise_k);
        let mut dc = dchi.clone();
        dc.resize(n, 0.0);
        let dci = interp_clamped(&data.k_inv_ang, &dc, &k);
        let arr: Vec<f64> = dci
            .iter()
            .map(|d| nan_to((d * d + cur * cur).sqrt(), 0.001))
            .collect();
        let eps_r = tr
            .kweight
            .iter()
            .map(|&w| {
                let s = scale_set(w);
                mean(&arr) / s
            })
            .collect();
        (EpsilonK::Array(arr), eps_r)
    } else {
        (EpsilonK::Scalar(noise_k.clone()), noise_r.clone())
    };
    let irmin = (0.01 + tr.rmin / rstep).max(0.0) as usize;
    let irmax = ((nfft / 2) as f64).min(0.01 + tr.rmax / rstep) as usize;
    let iqmin = (0.01 + tr.kmin / kstep).max(0.0) as usize;
    let iqmax = ((nfft / 2) as f64).min(0.01 + tr.kmax / kstep) as usize;
    let r_full: Vec<f64> = uniform(rstep, nfft / 2);
    let rwin = ftwindow(
        &r_full,
        tr.rbkg.max(tr.rmin),
        tr.rmax,
        tr.dr,
        tr.dr2,
        tr.rwindow,
    );
    let nw = tr.kweight.len();
    let nresid = match tr.fitspace {
        FitSpace::K => nw * (iqmax.min(ikmax).saturating_sub(iqmin)),
        FitSpace::R => nw * 2 * irmax.saturating_sub(irmin),
        FitSpace::Q => nw * iqmax.saturating_sub(iqmin),
    };
    if nresid == 0 {
        return Err("the fit range is empty (check kmin/kmax/rmin/rmax against the data)".into());
    }
    Ok(Prepared {
        name: data.name,
        k,
        chi,
        kwin,
        wk,
        kpow,
        eps_k,
        eps_r,
        noise_eps_k: mean(&noise_k),
        noise_eps_r: mean(&noise_r),
        n_idp,
        irmin,
        irmax,
        iqmin,
        iqmax,
        rwin,
        paths,
        nresid,
        tr,
    })
}
