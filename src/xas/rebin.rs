//! Rebin μ(E) onto a standard three-region XAFS grid, as Larch's
//! `larch.xafs.rebin_xafs`, and sort/deduplicate energies as `sort_xafs`.

use serde::{Deserialize, Serialize};

use super::XasError;
use super::ops_util::{check_increasing, check_xy, mean, std};
use crate::numeric::grid::{index_of, remove_dups};
use crate::numeric::interp::{CubicSpline, interp_linear_nan};
use crate::units::{etok, ktoe};

/// How a bin's value is made from the input points assigned to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RebinMethod {
    /// Mean of μ in the bin (Larch's default).
    #[default]
    Boxcar,
    /// mean(μ·E) / mean(E) over the bin.
    Centroid,
    /// Not-a-knot cubic spline through the bin, evaluated at the new energy.
    Spline,
}

/// Parameters of `rebin_xafs` (Larch names and defaults; energies in eV
/// relative to `e0`, `exafs_kstep` in Å⁻¹).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RebinParams {
    /// Edge energy (eV). Required, as in Larch (which takes it from the group).
    pub e0: Option<f64>,
    /// Start of the pre-edge region [first energy point, rounded to `pre_step`].
    pub pre1: Option<f64>,
    /// End of the pre-edge region, start of XANES [-30].
    pub pre2: f64,
    /// Energy step in the pre-edge region [2].
    pub pre_step: f64,
    /// Energy step in the XANES region [0.05·max(1, int(e0/1250))].
    pub xanes_step: Option<f64>,
    /// End of XANES, start of the EXAFS region [15].
    pub exafs1: f64,
    /// End of the EXAFS region [last energy point].
    pub exafs2: Option<f64>,
    /// k step in the EXAFS region [0.05].
    pub exafs_kstep: f64,
    pub method: RebinMethod,
}

impl Default for RebinParams {
    fn default() -> Self {
        RebinParams {
            e0: None,
            pre1: None,
            pre2: -30.0,
            pre_step: 2.0,
            xanes_step: None,
            exafs1: 15.0,
            exafs2: None,
            exafs_kstep: 0.05,
            method: RebinMethod::Boxcar,
        }
    }
}

/// The rebinned spectrum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rebinned {
    pub energy_ev: Vec<f64>,
    pub mu: Vec<f64>,
    /// Standard deviation of μ in each bin; NaN for a bin holding no input point.
    pub delta_mu: Vec<f64>,
    pub e0: f64,
}

/// More output points than this means the steps are absurdly small.
const MAX_GRID: usize = 10_000_000;

fn bad(name: &'static str, value: f64, reason: &str) -> XasError {
    XasError::BadParam {
        name,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// The rebinned energy grid of `rebin_xafs` for data spanning
/// `emin..emax` (eV, absolute): pre-edge and XANES in constant E steps,
/// EXAFS in constant k steps, each region's end point left out.
pub fn rebin_grid(
    energy_min_ev: f64,
    energy_max_ev: f64,
    params: &RebinParams,
) -> Result<Vec<f64>, XasError> {
    let e0 = params
        .e0
        .ok_or_else(|| bad("e0", f64::NAN, "rebin_xafs needs e0"))?;
    for (name, v) in [
        ("e0", e0),
        ("pre2", params.pre2),
        ("exafs1", params.exafs1),
        ("pre1", params.pre1.unwrap_or(0.0)),
        ("exafs2", params.exafs2.unwrap_or(0.0)),
    ] {
        if !v.is_finite() {
            return Err(bad(name, v, "must be finite"));
        }
    }
    let xanes_step = params
        .xanes_step
        .unwrap_or(0.05 * f64::max(1.0, (e0 / 1250.0).trunc()));
    for (name, v) in [
        ("pre_step", params.pre_step),
        ("xanes_step", xanes_step),
        ("exafs_kstep", params.exafs_kstep),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(bad(name, v, "step must be positive"));
        }
    }
    let (pre_step, kstep) = (params.pre_step, params.exafs_kstep);
    let emin = energy_min_ev - e0;
    let emax = energy_max_ev - e0;
    let pre1 = params.pre1.unwrap_or(pre_step * (emin / pre_step).trunc());
    let exafs2 = params.exafs2.unwrap_or(emax);

    // clip into the data range, then force the regions to increase (Larch's order)
    let pre1 = pre1.max(emin);
    let mut pre2 = params.pre2.max(pre1 + pre_step).min(emax);
    let mut exafs1 = params.exafs1.max(pre2 + xanes_step).min(emax);
    let mut exafs2 = exafs2.max(exafs1 + kstep * 20.0).min(emax);
    if pre2 <= pre1 {
        pre2 = (pre1 + pre_step).min(emax);
    }
    if exafs1 <= pre2 {
        exafs1 = (pre2 + xanes_step).min(emax);
    }
    if exafs2 <= exafs1 {
        exafs2 = (exafs1 + kstep * 20.0).min(emax);
    }

    let mut en = Vec::new();
    for (start, stop, step, isk) in [
        (pre1, pre2, pre_step, false),
        (pre2, exafs1, xanes_step, false),
        (exafs1, exafs2, kstep, true),
    ] {
        if start == stop {
            continue;
        }
        let (start, stop) = if isk {
            (etok(start), etok(stop))
        } else {
            (start, stop)
        };
        let count = 0.1 + (stop - start).abs() / step;
        if count >= MAX_GRID as f64 || en.len() + count as usize > MAX_GRID {
            return Err(bad("step", step, "gives more than 10 million grid points"));
        }
        let npts = 1 + count as usize;
        // numpy.linspace: start + i·(stop − start)/(npts − 1); the last point is dropped
        let delta = (stop - start) / (npts - 1).max(1) as f64;
        for i in 0..npts - 1 {
            let v = i as f64 * delta + start;
            en.push(e0 + if isk { ktoe(v) } else { v });
        }
    }
    // Larch would go on with a folded grid and mis-bin (or index out of range)
    if let Some(i) = en.windows(2).position(|w| w[1] <= w[0]) {
        return Err(bad(
            "pre1",
            pre1,
            &format!(
                "region limits out of order or outside the data: grid point {} ({} eV) \
                 does not follow {} eV",
                i + 1,
                en[i + 1],
                en[i]
            ),
        ));
    }
    Ok(en)
}

/// Rebin `(energy_ev, mu)` onto [`rebin_grid`]: each input point goes to one
/// bin, whose value is its boxcar mean, centroid or spline value, with linear
/// interpolation where a bin holds fewer than 3 points (`rebin_xafs`).
pub fn rebin_xafs(
    energy_ev: &[f64],
    mu: &[f64],
    params: &RebinParams,
) -> Result<Rebinned, XasError> {
    check_xy("energy", energy_ev, "mu", mu, 2)?;
    // Larch would silently mis-bin unsorted data; `sort_xafs` fixes it
    check_increasing(energy_ev)?;
    let npts = energy_ev.len();
    let en = rebin_grid(energy_ev[0], energy_ev[npts - 1], params)?;
    if en.len() < 2 {
        return Err(XasError::TooFewPoints(format!(
            "the rebinned grid has {} points",
            en.len()
        )));
    }
    let e0 = params.e0.unwrap_or(f64::NAN);
    let bounds: Vec<usize> = en.iter().map(|&e| index_of(energy_ev, e)).collect();
    let mut mu_out = Vec::with_capacity(en.len());
    let mut err_out = Vec::with_capacity(en.len());
    let mut j0 = 0usize;
    for i in 0..en.len() {
        let j1 = if i == en.len() - 1 {
            npts - 1
        } else {
            // int((bounds[i] + bounds[i+1] + 1)/2.0)
            (bounds[i] + bounds[i + 1]).div_ceil(2)
        };
        if i == 0 && j0 == 0 {
            j0 = index_of(energy_ev, en[0] - 5.0);
        }
        let val = if j1 < j0 + 3 {
            let mut jx = j1 + 1;
            if jx < j0 + 3 {
                jx += 1;
            }
            let lin = |a: usize, b: usize| {
                let b = b.min(npts);
                interp_linear_nan(&energy_ev[a..b], &mu[a..b], en[i])
            };
            let mut val = lin(j0, jx);
            if val.is_nan() {
                j0 = j0.saturating_sub(1);
                jx = (jx + 1).min(npts);
                val = lin(j0, jx);
            }
            val
        } else {
            let (e, m) = (&energy_ev[j0..j1], &mu[j0..j1]);
            match params.method {
                RebinMethod::Boxcar => mean(m),
                RebinMethod::Spline => CubicSpline::new(e, m).eval(en[i]),
                RebinMethod::Centroid => {
                    let me: Vec<f64> = m.iter().zip(e).map(|(a, b)| a * b).collect();
                    mean(&me) / mean(e)
                }
            }
        };
        mu_out.push(val);
        err_out.push(if j0 >= j1 { f64::NAN } else { std(&mu[j0..j1]) });
        j0 = j1;
    }
    Ok(Rebinned {
        energy_ev: en,
        mu: mu_out,
        delta_mu: err_out,
        e0,
    })
}

/// Options of `sort_xafs` (Larch names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SortParams {
    /// Nudge repeated energies up by 0.5 meV (Larch's `TINY_ENERGY`) [true].
    pub fix_repeats: bool,
    /// Drop points whose energy or μ is NaN/Inf [true].
    pub remove_nans: bool,
}

impl Default for SortParams {
    fn default() -> Self {
        SortParams {
            fix_repeats: true,
            remove_nans: true,
        }
    }
}

/// Larch's smallest tolerated energy step (eV), `xafsutils.TINY_ENERGY`.
const TINY_ENERGY: f64 = 0.0005;

/// Sort `(energy, mu)` by energy, fix repeated energies and drop non-finite
/// points (`larch.xafs.sort_xafs`; the sort is stable, numpy's is not).
pub fn sort_xafs(
    energy_ev: &[f64],
    mu: &[f64],
    params: &SortParams,
) -> Result<(Vec<f64>, Vec<f64>), XasError> {
    if energy_ev.len() != mu.len() {
        return Err(XasError::Length(format!(
            "energy has {} points, mu has {}",
            energy_ev.len(),
            mu.len()
        )));
    }
    let mut idx: Vec<usize> = (0..energy_ev.len()).collect();
    // numpy sorts NaN last
    idx.sort_by(
        |&a, &b| match (energy_ev[a].is_nan(), energy_ev[b].is_nan()) {
            (false, false) => energy_ev[a].total_cmp(&energy_ev[b]),
            (x, y) => x.cmp(&y),
        },
    );
    let mut e: Vec<f64> = idx.iter().map(|&i| energy_ev[i]).collect();
    let mut m: Vec<f64> = idx.iter().map(|&i| mu[i]).collect();
    if params.fix_repeats {
        e = remove_dups(&e, TINY_ENERGY);
    }
    if params.remove_nans {
        let keep: Vec<bool> = e
            .iter()
            .zip(&m)
            .map(|(a, b)| a.is_finite() && b.is_finite())
            .collect();
        let mut k = keep.iter();
        e.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        m.retain(|_| *k.next().unwrap_or(&false));
    }
    Ok((e, m))
}
