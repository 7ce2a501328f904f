//! Merge several μ(E) scans onto one energy grid, as Larch's
//! `larch.io.merge_groups`: interpolate every scan onto the master's grid,
//! average, and report the spread.

use serde::{Deserialize, Serialize};

use super::XasError;
use super::ops_util::{check_increasing, check_xy, mean, percentile};
use crate::numeric::grid::{index_of, remove_dups};
pub use crate::numeric::interp::InterpKind;
use crate::numeric::interp::interp;

/// Options of `merge_groups` (Larch names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeParams {
    /// Interpolation onto the master grid ['cubic'].
    pub kind: InterpKind,
    /// Cut the grid at the lowest maximum energy of all scans [true].
    pub trim: bool,
}

impl Default for MergeParams {
    fn default() -> Self {
        MergeParams {
            kind: InterpKind::Cubic,
            trim: true,
        }
    }
}

/// The merged spectrum on the master's (trimmed) grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    pub energy_ev: Vec<f64>,
    /// Mean of the interpolated scans.
    pub mu: Vec<f64>,
    /// Population standard deviation across scans (Larch's `mu_std`).
    pub mu_std: Vec<f64>,
    /// Standard error of the mean, `mu_std / sqrt(n)` (Carto's addition; Larch
    /// returns only `mu_std`).
    pub mu_stderr: Vec<f64>,
    /// Number of scans merged.
    pub n_spectra: usize,
    /// Interpolation actually used: Larch falls back to linear when the cubic
    /// merge is much rougher than the master scan.
    pub kind: InterpKind,
}

/// Merge `(energy_ev, mu)` scans onto the grid of `spectra[master]`; the y
/// array may be μ or normalized μ. Algorithm of `larch.io.merge_groups`.
pub fn merge(
    spectra: &[(&[f64], &[f64])],
    master: usize,
    params: &MergeParams,
) -> Result<Merged, XasError> {
    if spectra.is_empty() {
        return Err(XasError::TooFewPoints("no spectra to merge".into()));
    }
    if master >= spectra.len() {
        return Err(XasError::BadParam {
            name: "master",
            value: master.to_string(),
            reason: format!("only {} spectra", spectra.len()),
        });
    }
    let min_points = match params.kind {
        InterpKind::Cubic => 4,
        InterpKind::Linear => 2,
    };
    for (e, m) in spectra {
        check_xy("energy", e, "mu", m, min_points)?;
    }
    // Larch would extrapolate a scan that misses the master grid entirely
    let master_e = spectra[master].0;
    let (lo, hi) = (master_e[0], master_e[master_e.len() - 1]);
    for (i, (e, _)) in spectra.iter().enumerate() {
        if e[e.len() - 1] < lo || e[0] > hi {
            return Err(XasError::TooFewPoints(format!(
                "scan {i} ({}..{} eV) does not overlap the master scan ({lo}..{hi} eV)",
                e[0],
                e[e.len() - 1]
            )));
        }
    }
    let merged = merge_with(spectra, master, params.kind, params.trim)?;
    if params.kind == InterpKind::Cubic {
        // merge_groups: "if the derivative gets much worse, use linear interpolation"
        let y0 = spectra[master].1;
        if max_diff(&merged.mu) > 50.0 * max_diff(y0) {
            return merge_with(spectra, master, InterpKind::Linear, params.trim);
        }
    }
    Ok(merged)
}

fn max_diff(y: &[f64]) -> f64 {
    y.windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::NEG_INFINITY, f64::max)
}

fn merge_with(
    spectra: &[(&[f64], &[f64])],
    master: usize,
    kind: InterpKind,
    trim: bool,
) -> Result<Merged, XasError> {
    let xarr = spectra[master].0;
    let absdiff: Vec<f64> = xarr.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let dxmin = (0.01 * percentile(&absdiff, 2.0)).min(1e-4 * percentile(&absdiff, 25.0));
    let mut xout = remove_dups(xarr, dxmin);
    check_increasing(&xout)?;

    let n = spectra.len();
    let mut xmins = vec![xout[0]];
    let mut xmaxs = vec![xout[xout.len() - 1]];
    let mut yvals = Vec::with_capacity(n);
    for (e, m) in spectra {
        let x = remove_dups(e, dxmin);
        check_increasing(&x)?;
        yvals.push(interp(&x, m, &xout, kind));
        xmins.push(x[0]);
        xmaxs.push(x[x.len() - 1]);
    }
    let npts = xout.len();
    let mut mu = Vec::with_capacity(npts);
    let mut mu_std = Vec::with_capacity(npts);
    let mut column = vec![0.0; n];
    for i in 0..npts {
        for (c, y) in column.iter_mut().zip(&yvals) {
            *c = y[i];
        }
        let m = mean(&column);
        let var = column.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
        mu.push(m);
        mu_std.push(var.sqrt());
    }
    if trim {
        let xmin = xmins.iter().copied().fold(f64::INFINITY, f64::min);
        let xmax = xmaxs.iter().copied().fold(f64::INFINITY, f64::min);
        let (i0, i1) = (index_of(&xout, xmin), index_of(&xout, xmax));
        // Larch slices [ixmin:ixmax], which drops the point at xmax itself
        let i1 = i1.max(i0);
        xout = xout[i0..i1].to_vec();
        mu = mu[i0..i1].to_vec();
        mu_std = mu_std[i0..i1].to_vec();
    }
    if xout.len() < 2 {
        return Err(XasError::TooFewPoints(format!(
            "the scans overlap in {} points of the master grid",
            xout.len()
        )));
    }
    let sqrt_n = (n as f64).sqrt();
    Ok(Merged {
        mu_stderr: mu_std.iter().map(|s| s / sqrt_n).collect(),
        energy_ev: xout,
        mu,
        mu_std,
        n_spectra: n,
        kind,
    })
}
