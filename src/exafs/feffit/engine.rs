//! The residual the least-squares solver sees: path χ(k) sums with a
//! two-slot cache per path, the transforms of each fit space, and the fit
//! loop itself.

use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, Ordering};

use num_complex::Complex64;

use super::model::{FitError, FitSpace, ParamDef};
use super::prepare::{PathPar, Prepared, PreparedPath};
use super::result::{EpsilonK, FitResult};
use crate::exafs::expr::{Expr, PathContext};
use crate::exafs::path::{PathParams, PathTables};
use crate::numeric::fft::fft_plan;
use crate::numeric::lm::{self, LmError, LmOptions, LmParams};
use crate::xas::fourier::xftf_fast;

/// The last two evaluations of one path, reused while its parameters stay
/// put. Two slots because a finite-difference Jacobian alternates between
/// the base point and one perturbed parameter: with one slot every column
/// would recompute every path (and rebuild the e0 tables twice).
#[derive(Debug, Clone, Default)]
struct PathCache {
    chi: [ChiSlot; 2],
    tables: [Option<PathTables>; 2],
    /// Which chi slot / tables slot was used last.
    chi_last: usize,
    tables_last: usize,
}

#[derive(Debug, Clone, Default)]
struct ChiSlot {
    params: [f64; 8],
    chi: Vec<f64>,
}

impl PathCache {
    /// χ of `path` for path parameters `v` on grid `k`, from the cache when
    /// these parameters were evaluated in one of the last two calls.
    pub(super) fn chi(&mut self, path: &PreparedPath, k: &[f64], v: [f64; 8]) -> &[f64] {
        let nk = k.len();
        if let Some(s) = (0..2).find(|&s| self.chi[s].chi.len() == nk && self.chi[s].params == v) {
            self.chi_last = s;
            return &self.chi[s].chi;
        }
        let s = 1 - self.chi_last;
        self.chi_last = s;
        let slot = &mut self.chi[s];
        slot.params = v;
        slot.chi.clear();
        if v.iter().any(|x| !x.is_finite()) {
            slot.chi.resize(nk, f64::NAN);
            return &slot.chi;
        }
        let pp = PathParams {
            degen: Some(v[0]),
            s02: v[1],
            e0: v[2],
            ei: v[3],
            deltar: v[4],
            sigma2: v[5],
            third: v[6],
            fourth: v[7],
        };
        let hit = (0..2).find(|&t| {
            self.tables[t]
                .as_ref()
                .is_some_and(|t| t.e0 == pp.e0 && t.ei == pp.ei && t.len() == nk)
        });
        let t = match hit {
            Some(t) => t,
            None => {
                let t = 1 - self.tables_last;
                self.tables[t] = Some(path.model.tables(k, pp.e0, pp.ei));
                t
            }
        };
        self.tables_last = t;
        slot.chi.resize(nk, 0.0);
        if let Some(tab) = &self.tables[t] {
            path.model.chi_into(tab, &pp, &mut slot.chi);
        }
        &slot.chi
    }
}

/// Scratch space of one fit.
struct Work {
    caches: Vec<Vec<PathCache>>,
    vals: Vec<f64>,
    diff: Vec<f64>,
    model: Vec<f64>,
}

/// A compiled feffit problem.
#[derive(Debug, Clone)]
pub struct Feffit {
    pub(super) params: Vec<ParamDef>,
    pub(super) exprs: Vec<Option<Expr>>,
    /// Expression parameters in evaluation order.
    pub(super) order: Vec<usize>,
    /// `vary` after Larch's `fix_unused_variables`.
    pub(super) vary: Vec<bool>,
    pub(super) datasets: Vec<Prepared>,
}

impl Feffit {
    /// Total residual length.
    pub fn nresid(&self) -> usize {
        self.datasets.iter().map(|d| d.nresid).sum()
    }

    /// Names of the fit parameters, in model order.
    pub fn param_names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// Initial values of all parameters, with expressions evaluated.
    pub fn initial_values(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.params.iter().map(|p| p.value).collect();
        self.eval_exprs(&mut v);
        v
    }

    pub(super) fn eval_exprs(&self, vals: &mut [f64]) {
        let ctx = PathContext::default();
        for &i in &self.order {
            if let Some(e) = &self.exprs[i] {
                let p = &self.params[i];
                // lmfit clips expression values into [min, max].
                vals[i] = e.eval(vals, &ctx).clamp(p.min, p.max);
            }
        }
    }

    pub(super) fn path_params(path: &PreparedPath, vals: &[f64]) -> [f64; 8] {
        let mut out = [0.0; 8];
        for (o, p) in out.iter_mut().zip(&path.pars) {
            *o = match p {
                PathPar::Const(c) => *c,
                PathPar::Expr(e) => e.eval(vals, &path.ctx),
            };
        }
        out
    }

    /// Model χ(k) of dataset `d` on its model grid.
    pub(super) fn model_chi(&self, d: &Prepared, vals: &[f64]) -> Vec<f64> {
        let mut cache = vec![PathCache::default(); d.paths.len()];
        let mut sum = Vec::new();
        Self::model_chi_cached(d, vals, &mut cache, &mut sum);
        sum
    }

    /// As [`Self::model_chi`], recomputing a path only when its parameters
    /// changed and its spline tables only when its e0 or ei changed (a
    /// finite-difference Jacobian varies one parameter at a time).
    fn model_chi_cached(d: &Prepared, vals: &[f64], cache: &mut [PathCache], sum: &mut Vec<f64>) {
        let nk = d.k.len();
        sum.clear();
        sum.resize(nk, 0.0);
        for (path, c) in d.paths.iter().zip(cache.iter_mut()) {
            let v = Self::path_params(path, vals);
            for (s, x) in sum.iter_mut().zip(c.chi(path, &d.k, v)) {
                *s += x;
            }
        }
    }

    /// Larch `_feffit_resid` for all parameter values `vals` (expression
    /// parameters are recomputed). `data_only` gives the transformed data.
    pub fn residual(&self, vals: &[f64], data_only: bool, out: &mut Vec<f64>) {
        let mut work = self.work();
        self.residual_with(&mut work, vals, data_only, out);
    }

    fn work(&self) -> Work {
        Work {
            caches: self
                .datasets
                .iter()
                .map(|d| vec![PathCache::default(); d.paths.len()])
                .collect(),
            vals: Vec::with_capacity(self.params.len()),
            diff: Vec::new(),
            model: Vec::new(),
        }
    }

    fn residual_with(&self, w: &mut Work, vals: &[f64], data_only: bool, out: &mut Vec<f64>) {
        w.vals.clear();
        w.vals.extend_from_slice(vals);
        self.eval_exprs(&mut w.vals);
        out.clear();
        for (d, cache) in self.datasets.iter().zip(w.caches.iter_mut()) {
            w.diff.clear();
            w.diff.extend_from_slice(&d.chi);
            if !data_only {
                Self::model_chi_cached(d, &w.vals, cache, &mut w.model);
                for (a, b) in w.diff.iter_mut().zip(&w.model) {
                    *a -= b;
                }
            }
            dataset_residual(d, &w.diff, out);
        }
    }

    /// Run the fit (lmfit `leastsq` with feffit's options). `cancel` stops it.
    pub fn fit(&self, cancel: Option<&AtomicBool>) -> Result<FitResult, FitError> {
        let lmp: Vec<LmParams> = self
            .params
            .iter()
            .zip(&self.vary)
            .map(|(p, &vary)| LmParams {
                value: if p.expr.is_some() { 0.0 } else { p.value },
                min: if p.expr.is_some() {
                    f64::NEG_INFINITY
                } else {
                    p.min
                },
                max: if p.expr.is_some() {
                    f64::INFINITY
                } else {
                    p.max
                },
                vary,
            })
            .collect();
        if !self.vary.iter().any(|&v| v) {
            return Err(FitError::NothingVaries);
        }
        let m = self.nresid();
        let mut buf = Vec::with_capacity(m);
        let mut work = self.work();
        let resid = |vals: &[f64], out: &mut [f64]| {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                out.iter_mut().for_each(|o| *o = f64::NAN);
                return;
            }
            self.residual_with(&mut work, vals, false, &mut buf);
            out.copy_from_slice(&buf);
        };
        let res = lm::minimize(resid, &lmp, m, &LmOptions::feffit()).map_err(|e| {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                FitError::Cancelled
            } else {
                match e {
                    LmError::NonFiniteResidual { nfev, .. } => FitError::Lm(format!(
                        "the model gave non-finite values at evaluation {nfev}: {}",
                        self.non_finite_at_start()
                            .unwrap_or_else(|| "check parameter values and bounds".into())
                    )),
                    other => FitError::Lm(format!("{other:?}")),
                }
            }
        })?;
        let mut out = self.finish(res);
        if let Some(why) = unphysical(&out) {
            out.stats.success = false;
            out.stats.message = why;
        }
        Ok(out)
    }

    /// Which parameter or path value is not finite at the starting values
    /// (named with its expression), if any.
    fn non_finite_at_start(&self) -> Option<String> {
        let vals = self.initial_values();
        for (i, v) in vals.iter().enumerate() {
            if !v.is_finite() {
                let p = self.params.get(i)?;
                return Some(format!(
                    "parameter '{}' = {v}{}",
                    p.name,
                    expr_suffix(p.expr.as_deref())
                ));
            }
        }
        for (di, d) in self.datasets.iter().enumerate() {
            for path in &d.paths {
                let v = Self::path_params(path, &vals);
                if let Some(j) = v.iter().position(|x| !x.is_finite()) {
                    return Some(path_value_text(
                        &d.name,
                        di,
                        &path.label,
                        j,
                        v[j],
                        path.exprs.get(j).and_then(Option::as_deref),
                    ));
                }
            }
        }
        None
    }
}

/// Largest |σ²| a fit may end at: 1 Å² (1 Å rms relative displacement);
/// already at σ² = 0.1 Å² the path is damped by e^−5 at k = 5 Å⁻¹, so a
/// larger value is a parameter run away, not a disorder.
pub const MAX_ABS_SIGMA2_ANG2: f64 = 1.0;

/// `path 'label' (dataset 1) deltar = NaN (expression 'del_r')`.
fn path_value_text(
    dataset: &str,
    index: usize,
    label: &str,
    j: usize,
    v: f64,
    expr: Option<&str>,
) -> String {
    let name = super::PATH_PARS.get(j).copied().unwrap_or("?");
    let unit = ["", "", " eV", " eV", " Å", " Å²", " Å³", " Å⁴"]
        .get(j)
        .copied()
        .unwrap_or("");
    let ds = if dataset.is_empty() {
        format!("dataset {}", index + 1)
    } else {
        format!("dataset '{dataset}'")
    };
    format!(
        "path '{label}' ({ds}) {name} = {v}{unit}{}",
        expr_suffix(expr)
    )
}

/// ` (expression 'E')` after a value that came from expression E.
fn expr_suffix(expr: Option<&str>) -> String {
    expr.map(|e| format!(" (expression '{e}')"))
        .unwrap_or_default()
}

/// Why a finished fit cannot be called a success: a non-finite value
/// (parameter, path value, statistic, model χ), a path length reff + ΔR
/// ≤ 0, or |σ²| > [`MAX_ABS_SIGMA2_ANG2`]. Named by parameter, path and
/// expression.
fn unphysical(r: &FitResult) -> Option<String> {
    for p in &r.params {
        if !p.value.is_finite() {
            return Some(format!(
                "parameter '{}' ended at {}{}",
                p.name,
                p.value,
                expr_suffix(p.expr.as_deref())
            ));
        }
    }
    for (di, d) in r.datasets.iter().enumerate() {
        for path in &d.paths {
            let expr = |j: usize| path.exprs.get(j).and_then(Option::as_deref);
            if let Some(j) = path.values.iter().position(|v| !v.is_finite()) {
                return Some(format!(
                    "{} is not finite",
                    path_value_text(&d.name, di, &path.label, j, path.values[j], expr(j))
                ));
            }
            let deltar = path.values[4];
            let r_ang = path.reff + deltar;
            if r_ang <= 0.0 {
                return Some(format!(
                    "{}: the path length reff + deltar = {:.4} Å is not positive",
                    path_value_text(&d.name, di, &path.label, 4, deltar, expr(4)),
                    r_ang
                ));
            }
            let sigma2 = path.values[5];
            if sigma2.abs() > MAX_ABS_SIGMA2_ANG2 {
                return Some(format!(
                    "{}: |σ²| above {MAX_ABS_SIGMA2_ANG2} Å² is absurd",
                    path_value_text(&d.name, di, &path.label, 5, sigma2, expr(5))
                ));
            }
        }
        if d.chi_fit.iter().any(|v| !v.is_finite()) {
            return Some(format!("dataset {}: the model χ(k) is not finite", di + 1));
        }
    }
    let st = &r.stats;
    for (name, v) in [("chi_square", st.chi_square), ("r_factor", st.r_factor)] {
        if !v.is_finite() {
            return Some(format!("{name} = {v} is not finite"));
        }
    }
    None
}

/// Larch `xftf_fast` of `chi·wk` (first nfft/2 bins).
pub(super) fn fftf(chi: &[f64], wk: &[f64], nfft: usize, kstep: f64) -> Vec<Complex64> {
    let cw: Vec<f64> = chi.iter().zip(wk).map(|(c, w)| c * w).collect();
    xftf_fast(&cw, nfft, kstep)
}

/// Larch `xftr_fast` of `chir·rwin` (first nfft/2 points).
fn fftr(chir: &[Complex64], rwin: &[f64], nfft: usize, kstep: f64) -> Vec<Complex64> {
    let mut buf = vec![Complex64::new(0.0, 0.0); nfft];
    for ((b, c), &w) in buf.iter_mut().zip(chir).zip(rwin) {
        *b = c * w;
    }
    fft_plan(nfft, true).process(&mut buf);
    // numpy ifft includes 1/n.
    let scale = 4.0 * PI.sqrt() / kstep / nfft as f64;
    buf.truncate(nfft / 2);
    buf.iter_mut().for_each(|b| *b *= scale);
    buf
}

fn dataset_residual(d: &Prepared, diff: &[f64], out: &mut Vec<f64>) {
    let tr = &d.tr;
    match tr.fitspace {
        FitSpace::K => {
            let hi = d.iqmax.min(diff.len());
            for (i, kp) in d.kpow.iter().enumerate() {
                for j in d.iqmin..hi {
                    let eps = match &d.eps_k {
                        EpsilonK::Scalar(v) => v[i.min(v.len() - 1)],
                        EpsilonK::Array(a) => a[j].max(1e-12),
                    };
                    out.push(diff[j] / eps * kp[j]);
                }
            }
        }
        FitSpace::R => {
            // Two real transforms per complex FFT: z = x₀ + i·x₁ gives
            // X₀[m] = (Z[m] + Z*[N−m])/2 and X₁[m] = (Z[m] − Z*[N−m])/2i.
            let n = tr.nfft;
            let scale = tr.kstep / PI.sqrt();
            let plan = fft_plan(n, false);
            let mut buf = vec![Complex64::new(0.0, 0.0); n];
            let mut i = 0;
            while i < d.wk.len() {
                buf.iter_mut().for_each(|b| *b = Complex64::new(0.0, 0.0));
                let pair = i + 1 < d.wk.len();
                for (j, (b, &x)) in buf.iter_mut().zip(diff).enumerate() {
                    b.re = x * d.wk[i][j];
                    if pair {
                        b.im = x * d.wk[i + 1][j];
                    }
                }
                plan.process(&mut buf);
                let (e0, e1) = (d.eps_r[i], d.eps_r[(i + 1).min(d.eps_r.len() - 1)]);
                if pair {
                    let mut second = Vec::with_capacity(2 * (d.irmax - d.irmin));
                    for m in d.irmin..d.irmax {
                        let z = buf[m];
                        let zc = buf[(n - m) % n].conj();
                        let x0 = (z + zc) * 0.5 * scale;
                        let x1 = (z - zc) * Complex64::new(0.0, -0.5) * scale;
                        out.push(x0.re / e0);
                        out.push(x0.im / e0);
                        second.push(x1.re / e1);
                        second.push(x1.im / e1);
                    }
                    out.extend_from_slice(&second);
                    i += 2;
                } else {
                    for z in &buf[d.irmin..d.irmax] {
                        out.push(z.re * scale / e0);
                        out.push(z.im * scale / e0);
                    }
                    i += 1;
                }
            }
        }
        FitSpace::Q => {
            for (i, wk) in d.wk.iter().enumerate() {
                let c = fftf(diff, wk, tr.nfft, tr.kstep);
                let q = fftr(&c, &d.rwin, tr.nfft, tr.kstep);
                let e = d.eps_r[i];
                for z in &q[d.iqmin..d.iqmax] {
                    out.push(z.re / e);
                }
            }
        }
    }
}
