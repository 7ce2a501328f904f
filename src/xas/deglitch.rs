//! Deglitching: removing chosen points as Larch's deglitch window does
//! (`larch/wxxas/datatasks.py`, `DeglitchFrame.on_remove`), and the automatic
//! median-filter spike removal of `larch.math.deglitch`.

use serde::{Deserialize, Serialize};

use super::XasError;
use super::ops_util::check_xy;
use crate::numeric::grid::index_nearest;
use crate::numeric::interp::{InterpKind, interp};

/// One selection of points to remove. Energies pick the nearest point of the
/// original array, as Larch's `index_nearest`; all selections refer to the
/// original indices, as the masks of Larch's deglitch window do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PointSelection {
    /// The point at this index.
    Index { index: usize },
    /// The point nearest this energy ("Remove point").
    Energy { energy_ev: f64 },
    /// The point nearest this energy and all points after it.
    Above { energy_ev: f64 },
    /// All points before the one nearest this energy (that one is kept, as in Larch).
    Below { energy_ev: f64 },
    /// From the point nearest the lower energy up to, not including, the point
    /// nearest the higher one (Larch's `mask[x1:x2]`).
    Between { energy1_ev: f64, energy2_ev: f64 },
}

/// What to remove, and whether to drop the points or re-fill them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DeglitchParams {
    pub remove: Vec<PointSelection>,
    /// Keep the energies and replace μ at removed points by linear
    /// interpolation between the kept neighbours (linear extrapolation from
    /// the two nearest kept points at the ends) instead of dropping them.
    pub replace: bool,
}

/// The deglitched spectrum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deglitched {
    pub energy_ev: Vec<f64>,
    pub mu: Vec<f64>,
    /// Indices (into the input) of the removed or replaced points, increasing.
    pub removed: Vec<usize>,
    /// Their energies (Larch journals these as `deglitch_removed_energies`).
    pub removed_energies_ev: Vec<f64>,
}

/// Remove (or re-fill) the selected points of `(energy_ev, mu)`.
pub fn deglitch(
    energy_ev: &[f64],
    mu: &[f64],
    params: &DeglitchParams,
) -> Result<Deglitched, XasError> {
    check_xy("energy", energy_ev, "mu", mu, 2)?;
    let n = energy_ev.len();
    let mut keep = vec![true; n];
    let check_e = |name: &'static str, v: f64| {
        if v.is_finite() {
            Ok(index_nearest(energy_ev, v))
        } else {
            Err(XasError::BadParam {
                name,
                value: v.to_string(),
                reason: "must be finite".into(),
            })
        }
    };
    for sel in &params.remove {
        let range = match *sel {
            PointSelection::Index { index } => {
                if index >= n {
                    return Err(XasError::BadParam {
                        name: "index",
                        value: index.to_string(),
                        reason: format!("spectrum has {n} points"),
                    });
                }
                index..index + 1
            }
            PointSelection::Energy { energy_ev } => {
                let i = check_e("energy_ev", energy_ev)?;
                i..i + 1
            }
            PointSelection::Above { energy_ev } => check_e("energy_ev", energy_ev)?..n,
            PointSelection::Below { energy_ev } => 0..check_e("energy_ev", energy_ev)?,
            PointSelection::Between {
                energy1_ev,
                energy2_ev,
            } => {
                let a = check_e("energy1_ev", energy1_ev)?;
                let b = check_e("energy2_ev", energy2_ev)?;
                a.min(b)..a.max(b)
            }
        };
        keep[range].iter_mut().for_each(|k| *k = false);
    }
    let removed: Vec<usize> = (0..n).filter(|&i| !keep[i]).collect();
    let kept_e: Vec<f64> = (0..n).filter(|&i| keep[i]).map(|i| energy_ev[i]).collect();
    let kept_mu: Vec<f64> = (0..n).filter(|&i| keep[i]).map(|i| mu[i]).collect();
    if kept_e.len() < 2 {
        return Err(XasError::TooFewPoints(format!(
            "deglitching would leave {} of {n} points",
            kept_e.len()
        )));
    }
    let removed_energies_ev = removed.iter().map(|&i| energy_ev[i]).collect();
    if params.replace {
        let mut out = mu.to_vec();
        if !removed.is_empty() {
            super::ops_util::check_increasing(&kept_e)?;
            let xr: Vec<f64> = removed.iter().map(|&i| energy_ev[i]).collect();
            let yr = interp(&kept_e, &kept_mu, &xr, InterpKind::Linear);
            for (&i, v) in removed.iter().zip(yr) {
                out[i] = v;
            }
        }
        Ok(Deglitched {
            energy_ev: energy_ev.to_vec(),
            mu: out,
            removed,
            removed_energies_ev,
        })
    } else {
        Ok(Deglitched {
            energy_ev: kept_e,
            mu: kept_mu,
            removed,
            removed_energies_ev,
        })
    }
}

/// Which of Larch's median-filter spike removers to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SpikeBackend {
    /// `remove_spikes_silx` (Larch's default): conditional median filter, a
    /// point is replaced when it is the window's min or max and differs from
    /// the median by more than `threshold` relative.
    #[default]
    Silx,
    /// `remove_spikes_scipy`: replaced when |median − y| > threshold·σ.
    Scipy,
    /// `remove_spikes_numpy`: the same computation as `Scipy`.
    Numpy,
}

/// Parameters of `remove_spikes_medfilt1d` / `remove_spikes_scipy` (Larch names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpikeParams {
    pub backend: SpikeBackend,
    /// Median window; an even size is increased by one, as Larch does [3].
    pub kernel_size: usize,
    /// [0.1 relative for silx, 3 σ for scipy/numpy] when `None`.
    pub threshold: Option<f64>,
}

impl Default for SpikeParams {
    fn default() -> Self {
        SpikeParams {
            backend: SpikeBackend::Silx,
            kernel_size: 3,
            threshold: None,
        }
    }
}

/// μ with spikes replaced by the running median.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Despiked {
    pub mu: Vec<f64>,
    /// Indices whose value was replaced.
    pub replaced: Vec<usize>,
}

/// Automatic glitch removal by median filter (`larch.math.deglitch`); the
/// energies are unchanged.
pub fn remove_spikes(mu: &[f64], params: &SpikeParams) -> Result<Despiked, XasError> {
    super::check_finite("mu", mu)?;
    let n = mu.len();
    if n < 3 {
        return Err(XasError::TooFewPoints(format!(
            "{n} points, need at least 3"
        )));
    }
    let mut k = params.kernel_size;
    if k.is_multiple_of(2) {
        k += 1;
    }
    if k > n {
        return Err(XasError::BadParam {
            name: "kernel_size",
            value: params.kernel_size.to_string(),
            reason: format!("larger than the {n} points"),
        });
    }
    let threshold = params.threshold.unwrap_or(match params.backend {
        SpikeBackend::Silx => 0.1,
        SpikeBackend::Scipy | SpikeBackend::Numpy => 3.0,
    });
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(XasError::BadParam {
            name: "threshold",
            value: threshold.to_string(),
            reason: "must be finite and not negative".into(),
        });
    }
    let conditional = params.backend == SpikeBackend::Silx;
    let filtered = median_filter(mu, k, conditional);
    let out: Vec<f64> = match params.backend {
        SpikeBackend::Silx => mu
            .iter()
            .zip(&filtered)
            .map(|(&y, &yf)| {
                if ((yf - y) / yf).abs() > threshold {
                    yf
                } else {
                    y
                }
            })
            .collect(),
        SpikeBackend::Scipy | SpikeBackend::Numpy => {
            let mean_diff = mu.iter().zip(&filtered).map(|(y, f)| f - y).sum::<f64>() / n as f64;
            // Larch's σ is taken of y − mean(diff), not of diff; kept to give its answers
            let sigma = (mu.iter().map(|y| (y - mean_diff).powi(2)).sum::<f64>() / n as f64).sqrt();
            mu.iter()
                .zip(&filtered)
                .map(|(&y, &yf)| {
                    if (yf - y).abs() > threshold * sigma {
                        yf
                    } else {
                        y
                    }
                })
                .collect()
        }
    };
    let replaced = (0..n).filter(|&i| out[i] != mu[i]).collect();
    Ok(Despiked { mu: out, replaced })
}

/// Running median over an odd window with edge values repeated
/// (`mode='nearest'`); `conditional` keeps a point unless it is the window's
/// min or max (silx `medfilt1d(conditional=True)`).
fn median_filter(y: &[f64], k: usize, conditional: bool) -> Vec<f64> {
    let n = y.len();
    let h = k / 2;
    let mut w = vec![0.0; k];
    (0..n)
        .map(|i| {
            for (j, v) in w.iter_mut().enumerate() {
                let idx = (i + j).saturating_sub(h).min(n - 1);
                *v = y[idx];
            }
            w.sort_by(f64::total_cmp);
            if conditional && y[i] != w[0] && y[i] != w[k - 1] {
                y[i]
            } else {
                w[h]
            }
        })
        .collect()
}
