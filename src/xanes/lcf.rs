//! Linear combination fitting as Larch's `lincombo_fit` / `lincombo_fitall`
//! (`larch/math/lincombo_fitting.py`): the data's array over [xmin, xmax] on
//! its own grid, the standards interpolated onto it with Larch's cubic
//! `interp`, an unconstrained least-squares start, then lmfit's bounded
//! `leastsq` (through [`crate::numeric::lm`]) with the last weight set to
//! `1 − others` when the weights sum to one.

use serde::Serialize;

use super::{XanesArray, XanesError, XanesGroup};
use crate::numeric::grid::index_of;
use crate::numeric::interp::{CubicInterp, InterpKind, interp};
use crate::numeric::lm::{LmOptions, LmParams, LmResult, minimize};

/// Options of one fit (and of [`lincombo_fitall`]); energies are absolute, in eV.
#[derive(Debug, Clone, PartialEq)]
pub struct LcfParams {
    pub array: XanesArray,
    pub xmin_ev: f64,
    pub xmax_ev: f64,
    /// Last weight = 1 − the others (Larch's `sum_to_one`, its default).
    pub sum_to_one: bool,
    /// Fit an energy shift of the data (Larch's `vary_e0`).
    pub vary_e0: bool,
    /// Beyond Larch: fit one energy shift per standard (off by default, as
    /// Larch has none); a standard shifted by δ is read at E − δ.
    pub vary_std_e0: bool,
    /// Lower bound of every weight (Larch's `minvals`; Carto defaults to 0
    /// where Larch's function defaults to −∞, as Larch's GUI does).
    pub weight_min: f64,
    /// Upper bound of every weight; `None` gives 1 with sum-to-one and +∞ without.
    pub weight_max: Option<f64>,
    /// [`lincombo_fitall`]: weights above this make a combination's signature.
    pub min_weight: f64,
    /// [`lincombo_fitall`]: most standards in one combination (`None`: all).
    pub max_ncomps: Option<usize>,
    /// [`lincombo_fitall`]: results kept, best reduced χ² first.
    pub max_output: usize,
}

impl Default for LcfParams {
    fn default() -> Self {
        Self {
            array: XanesArray::Norm,
            xmin_ev: f64::NEG_INFINITY,
            xmax_ev: f64::INFINITY,
            sum_to_one: true,
            vary_e0: false,
            vary_std_e0: false,
            weight_min: 0.0,
            weight_max: None,
            min_weight: 0.0005,
            max_ncomps: None,
            max_output: 16,
        }
    }
}

impl LcfParams {
    fn weight_bounds(&self) -> (f64, f64) {
        let max = self
            .weight_max
            .unwrap_or(if self.sum_to_one { 1.0 } else { f64::INFINITY });
        (self.weight_min, max)
    }
}

/// A fitted value and its standard error (`None` when lmfit has none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamValue {
    pub value: f64,
    pub stderr: Option<f64>,
}

/// One linear combination fit, as the Group Larch's `lincombo_fit` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LcfFit {
    /// Labels of the standards, in the order of `weights`.
    pub standards: Vec<String>,
    pub weights: Vec<ParamValue>,
    /// The unconstrained least-squares weights (Larch `weights_lstsq`).
    pub weights_lstsq: Vec<f64>,
    pub e0_shift_ev: ParamValue,
    /// Per-standard energy shifts when [`LcfParams::vary_std_e0`] is set.
    pub std_e0_shifts_ev: Option<Vec<ParamValue>>,
    /// Sum of the weights (Larch's `total` parameter).
    pub total: ParamValue,
    pub chisqr: f64,
    pub redchi: f64,
    /// Σ(data − fit)² / Σ data².
    pub rfactor: f64,
    pub nfev: usize,
    pub energy_ev: Vec<f64>,
    pub data: Vec<f64>,
    pub fit: Vec<f64>,
    /// Each standard times its weight, on `energy_ev`.
    pub components: Vec<Vec<f64>>,
}

impl LcfFit {
    /// Number of points in the fit range.
    pub fn npts(&self) -> usize {
        self.energy_ev.len()
    }
}

/// Fit energies, data and standards on them.
type FitArrays = (Vec<f64>, Vec<f64>, Vec<Vec<f64>>);

/// Larch's `groups2matrix`: the data's slice `index_of(xmin)..=index_of(xmax)`
/// and every standard interpolated onto it (cubic, extrapolating as `interp`).
pub(super) fn fit_arrays(
    data: &XanesGroup,
    standards: &[&XanesGroup],
    p: &LcfParams,
) -> Result<FitArrays, XanesError> {
    let x = &data.energy_ev;
    let y = data.array(p.array);
    let imin = index_of(x, p.xmin_ev);
    let imax = (index_of(x, p.xmax_ev) + 1).min(x.len());
    if imax <= imin + 1 {
        return Err(XanesError::Input(format!(
            "{}: fit range {} – {} eV holds fewer than 2 points",
            data.label, p.xmin_ev, p.xmax_ev
        )));
    }
    let xdat = x[imin..imax].to_vec();
    let ydat = y[imin..imax].to_vec();
    let comps = standards
        .iter()
        .map(|s| {
            if s.energy_ev.len() < 2 {
                return Err(XanesError::Input(format!(
                    "{}: fewer than 2 points",
                    s.label
                )));
            }
            Ok(interp(
                &s.energy_ev,
                s.array(p.array),
                &xdat,
                InterpKind::Cubic,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((xdat, ydat, comps))
}

/// `numpy.linalg.lstsq(ycomps, ydat)`: minimum-norm least squares by SVD.
pub(super) fn lstsq(comps: &[Vec<f64>], ydat: &[f64]) -> Vec<f64> {
    let n = comps.len();
    let a = nalgebra::DMatrix::from_fn(ydat.len(), n, |i, j| comps[j][i]);
    let b = nalgebra::DVector::from_column_slice(ydat);
    let svd = a.svd(true, true);
    let eps = f64::EPSILON * svd.singular_values.max() * ydat.len().max(n) as f64;
    match svd.solve(&b, eps) {
        Ok(w) => w.iter().copied().collect(),
        Err(_) => vec![1.0 / n as f64; n],
    }
}

/// Fit `data` with a weighted sum of `standards`, as Larch's `lincombo_fit`.
/// `start` gives the starting weights (`None`: the unconstrained
/// least-squares solution, as Larch).
pub fn lincombo_fit(
    data: &XanesGroup,
    standards: &[&XanesGroup],
    start: Option<&[f64]>,
    p: &LcfParams,
) -> Result<LcfFit, XanesError> {
    check_fit(standards.len(), start, p)?;
    let arrays = fit_arrays(data, standards, p)?;
    fit_on_arrays(standards, arrays, start, p)
}

/// What [`lincombo_fit`] refuses before fitting `n` standards.
fn check_fit(n: usize, start: Option<&[f64]>, p: &LcfParams) -> Result<(), XanesError> {
    if n == 0 {
        return Err(XanesError::Input("no standards given".into()));
    }
    if n == 1 && p.sum_to_one && !p.vary_e0 && !p.vary_std_e0 {
        return Err(XanesError::Input(
            "one standard with sum-to-one leaves nothing to fit (its weight is 1): \
             give more standards or drop sum-to-one"
                .into(),
        ));
    }
    if let Some(w) = start
        && w.len() != n
    {
        return Err(XanesError::Input(format!(
            "{} starting weights for {n} standards",
            w.len()
        )));
    }
    let (lo, hi) = p.weight_bounds();
    if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
        return Err(XanesError::Input(format!(
            "weight bounds {lo} … {hi}: the minimum must be below the maximum"
        )));
    }
    Ok(())
}

/// [`lincombo_fit`] after its checks, on the data and standards already on
/// the fit grid ([`fit_arrays`]): `lincombo_fitall` interpolates each
/// standard once, not once per combination.
fn fit_on_arrays(
    standards: &[&XanesGroup],
    (xdat, ydat, comps): FitArrays,
    start: Option<&[f64]>,
    p: &LcfParams,
) -> Result<LcfFit, XanesError> {
    let n = standards.len();
    let (lo, hi) = p.weight_bounds();
    let weights_lstsq = lstsq(&comps, &ydat);
    let start = start.map_or_else(|| weights_lstsq.clone(), <[f64]>::to_vec);

    // Parameters in lmfit's order: e0_shift, the free weights c0…, then the
    // per-standard shifts (Carto's extension).
    let nw = if p.sum_to_one { n - 1 } else { n };
    let mut params = vec![if p.vary_e0 {
        LmParams::new(0.01)
    } else {
        LmParams::fixed(0.0)
    }];
    params.extend(start[..nw].iter().map(|&w| LmParams::bounded(w, lo, hi)));
    if p.vary_std_e0 {
        params.extend((0..n).map(|_| LmParams::new(0.01)));
    }
    let std_shift_at = 1 + nw;

    // The expression weight, clipped to its bounds as lmfit's Parameter does.
    let last_weight = |v: &[f64]| {
        let w = v[1..=nw].iter().fold(1.0, |acc, c| acc - c);
        w.clamp(lo, hi)
    };
    let weights_of = |v: &[f64]| -> Vec<f64> {
        let mut w = v[1..=nw].to_vec();
        if p.sum_to_one {
            w.push(last_weight(v));
        }
        w
    };
    // The curves read at shifted energies, built once (not per evaluation).
    let std_splines: Vec<CubicInterp> = if p.vary_std_e0 {
        (standards.iter())
            .map(|s| CubicInterp::new(&s.energy_ev, s.array(p.array)))
            .collect()
    } else {
        Vec::new()
    };
    let data_spline = p.vary_e0.then(|| CubicInterp::new(&xdat, &ydat));
    let shifted_comps = |v: &[f64]| -> Vec<Vec<f64>> {
        std_splines
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let shift = v[std_shift_at + i];
                xdat.iter().map(|e| s.eval(e - shift)).collect()
            })
            .collect()
    };

    let resid = |v: &[f64], out: &mut [f64]| {
        if let Some(spl) = &data_spline {
            let y: Vec<f64> = xdat.iter().map(|e| spl.eval(e + v[0])).collect();
            for (o, yi) in out.iter_mut().zip(&y) {
                *o = -yi;
            }
        } else {
            for (o, yi) in out.iter_mut().zip(&ydat) {
                *o = -yi;
            }
        }
        let w = weights_of(v);
        let shifted;
        let cs = if p.vary_std_e0 {
            shifted = shifted_comps(v);
            &shifted
        } else {
            &comps
        };
        for (c, wi) in cs.iter().zip(&w) {
            for (o, ci) in out.iter_mut().zip(c) {
                *o += ci * wi;
            }
        }
    };
    let res = minimize(resid, &params, xdat.len(), &LmOptions::default())?;

    let v = &res.values;
    let w = weights_of(v);
    let final_comps = if p.vary_std_e0 {
        shifted_comps(v)
    } else {
        comps
    };
    let mut fit = vec![0.0; xdat.len()];
    for (c, wi) in final_comps.iter().zip(&w) {
        for (f, ci) in fit.iter_mut().zip(c) {
            *f += ci * wi;
        }
    }
    if p.vary_e0 {
        let at: Vec<f64> = xdat.iter().map(|e| e + v[0]).collect();
        fit = interp(&at, &fit, &xdat, InterpKind::Cubic);
    }
    let num: f64 = ydat.iter().zip(&fit).map(|(y, f)| (y - f) * (y - f)).sum();
    let den: f64 = ydat.iter().map(|y| y * y).sum();

    let (weights, total) = weight_uncertainties(&res, &w, nw, p.sum_to_one, lo, hi);
    let std_e0_shifts_ev = p.vary_std_e0.then(|| {
        (0..n)
            .map(|i| param_value(&res, std_shift_at + i))
            .collect()
    });
    Ok(LcfFit {
        standards: standards.iter().map(|s| s.label.clone()).collect(),
        weights,
        weights_lstsq,
        e0_shift_ev: param_value(&res, 0),
        std_e0_shifts_ev,
        total,
        chisqr: res.chisqr,
        redchi: res.redchi,
        rfactor: num / den,
        nfev: res.nfev,
        components: final_comps
            .iter()
            .zip(&w)
            .map(|(c, wi)| c.iter().map(|ci| ci * wi).collect())
            .collect(),
        energy_ev: xdat,
        data: ydat,
        fit,
    })
}

fn param_value(res: &LmResult, i: usize) -> ParamValue {
    ParamValue {
        value: res.values[i],
        stderr: res.stderr.as_ref().map(|s| s[i]),
    }
}

/// Weights and their total with lmfit's uncertainties: the expression weight
/// `1 − Σ others` and `total` get √(gᵀ C g) from the covariance C of the
/// varying parameters, g their gradient (as `uncertainties` propagates them;
/// `total` sees the clipped expression weight, so its gradient is 0 unless
/// that weight sits on a bound). Without error bars (lmfit: a zero stderr)
/// the expressions get stderr 0.
fn weight_uncertainties(
    res: &LmResult,
    w: &[f64],
    nw: usize,
    sum_to_one: bool,
    lo: f64,
    hi: f64,
) -> (Vec<ParamValue>, ParamValue) {
    let mut weights: Vec<ParamValue> = (1..=nw).map(|i| param_value(res, i)).collect();
    let total_value = w.iter().sum();
    let nv = res.nvarys;
    // gradient over varying parameters of Σ_{free} c_i, in var_index order
    let free_gradient = |scale: f64| -> Vec<f64> {
        res.var_index
            .iter()
            .map(|&i| if (1..=nw).contains(&i) { scale } else { 0.0 })
            .collect()
    };
    let propagate = |g: &[f64]| -> Option<f64> {
        let c = res.covar.as_ref()?;
        let errorbars = res
            .stderr
            .as_ref()
            .is_some_and(|s| res.var_index.iter().all(|&i| s[i] > 0.0));
        if !errorbars {
            return Some(0.0);
        }
        let mut q = 0.0;
        for a in 0..nv {
            for b in 0..nv {
                q += g[a] * c[a * nv + b] * g[b];
            }
        }
        Some(q.max(0.0).sqrt())
    };
    let total_stderr = if sum_to_one {
        let expr = (1..=nw).fold(1.0, |acc, i| acc - res.values[i]);
        weights.push(ParamValue {
            value: w[nw],
            stderr: propagate(&free_gradient(-1.0)),
        });
        let clipped = expr < lo || expr > hi;
        propagate(&free_gradient(if clipped { 1.0 } else { 0.0 }))
    } else {
        propagate(&free_gradient(1.0))
    };
    (
        weights,
        ParamValue {
            value: total_value,
            stderr: total_stderr,
        },
    )
}

/// Larch's `lincombo_fitall`: every combination of 2 ..= `max_ncomps`
/// standards (in `itertools.combinations` order), each started at weights
/// 1/n; a fit whose set of weights above `min_weight` was already seen is
/// dropped; the rest ranked by reduced χ² (stable), at most `max_output`.
pub fn lincombo_fitall(
    data: &XanesGroup,
    standards: &[&XanesGroup],
    p: &LcfParams,
) -> Result<Vec<LcfFit>, XanesError> {
    lincombo_fitall_with(data, standards, p, &mut || true)
}

/// How many fits [`lincombo_fitall`] runs for `n_standards` and `p`
/// (saturating; above [`MAX_FITALL_FITS`] it refuses to run).
pub fn fitall_count(n_standards: usize, p: &LcfParams) -> u128 {
    let n = n_standards;
    let max_ncomps = p.max_ncomps.unwrap_or(n).min(n);
    (2..=max_ncomps).fold(0u128, |acc, k| acc.saturating_add(n_choose_k(n, k)))
}

/// [`lincombo_fitall`] that calls `go_on` after each fit (progress) and
/// stops when it returns false (cancel), ranking the fits made so far.
pub fn lincombo_fitall_with(
    data: &XanesGroup,
    standards: &[&XanesGroup],
    p: &LcfParams,
    go_on: &mut dyn FnMut() -> bool,
) -> Result<Vec<LcfFit>, XanesError> {
    let n = standards.len();
    let max_ncomps = p.max_ncomps.unwrap_or(n).min(n);
    let n_fits = fitall_count(n, p);
    if n_fits > MAX_FITALL_FITS {
        return Err(XanesError::Input(format!(
            "{n} standards taken up to {max_ncomps} at a time make {n_fits} fits \
             (at most {MAX_FITALL_FITS}): give fewer standards or a smaller maximum"
        )));
    }
    let mut out: Vec<LcfFit> = Vec::new();
    let mut kept: Vec<Vec<String>> = Vec::new();
    // Every standard on the fit grid once; a combination takes its columns.
    let mut arrays: Option<FitArrays> = None;
    'all: for k in 2..=max_ncomps {
        for combo in combinations(n, k) {
            let stds: Vec<&XanesGroup> = combo.iter().map(|&i| standards[i]).collect();
            let start = vec![1.0 / k as f64; k];
            let (xdat, ydat, comps) = match &arrays {
                Some(a) => a,
                None => arrays.insert(fit_arrays(data, standards, p)?),
            };
            let mine = (
                xdat.clone(),
                ydat.clone(),
                (combo.iter()).map(|&i| comps[i].clone()).collect(),
            );
            check_fit(k, Some(&start), p)?;
            let fit = fit_on_arrays(&stds, mine, Some(&start), p)?;
            let mut sig: Vec<String> = fit
                .standards
                .iter()
                .zip(&fit.weights)
                .filter(|(_, w)| w.value > p.min_weight)
                .map(|(s, _)| s.clone())
                .collect();
            sig.sort();
            if !kept.contains(&sig) {
                kept.push(sig);
                out.push(fit);
            }
            if !go_on() {
                break 'all;
            }
        }
    }
    out.sort_by(|a, b| a.redchi.total_cmp(&b.redchi));
    out.truncate(p.max_output);
    Ok(out)
}

/// The most fits [`lincombo_fitall`] runs: 10 standards up to 5 at a time
/// are 627 fits (~0.1 s); 10⁵ is minutes, beyond that the combinations
/// alone would not fit in memory.
pub const MAX_FITALL_FITS: u128 = 100_000;

/// Binomial coefficient, saturating (only compared with a bound).
fn n_choose_k(n: usize, k: usize) -> u128 {
    let (n, k) = (n as u128, k.min(n - k) as u128);
    (0..k).fold(1u128, |c, i| c.saturating_mul(n - i) / (i + 1))
}

/// `itertools.combinations(range(n), k)` in its (lexicographic) order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut all = Vec::new();
    if k > n {
        return all;
    }
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        all.push(idx.clone());
        let Some(i) = (0..k).rev().find(|&i| idx[i] != i + n - k) else {
            return all;
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_follow_itertools() {
        assert_eq!(
            combinations(4, 2),
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        assert_eq!(combinations(3, 3), vec![vec![0, 1, 2]]);
        assert_eq!(combinations(6, 3).len(), 20);
        assert_eq!(n_choose_k(6, 3), 20);
        assert_eq!(n_choose_k(40, 20), 137_846_528_820);
    }
}
