//! E0 determination, pre-edge subtraction and normalization with Larch's
//! `find_e0` / `pre_edge` rules (xraylarch 2026.3, `larch/xafs/pre_edge.py`).

use serde::{Deserialize, Serialize};

use super::XasError;
use crate::numeric::diff::deriv;
use crate::numeric::grid::{index_nearest, index_of, remove_dups, round_to};
use crate::numeric::linalg::polyfit;
use crate::numeric::smooth::smooth_lorentzian;

/// Smallest tolerated energy step, eV (Larch `TINY_ENERGY`).
pub const TINY_ENERGY: f64 = 0.0005;
const MAX_NNORM: usize = 5;
const MAX_NVICT: i32 = 5;

/// `pre_edge` parameters; `None` means "Larch's default rule".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PreEdgeParams {
    pub e0: Option<f64>,
    pub step: Option<f64>,
    pub pre1: Option<f64>,
    pub pre2: Option<f64>,
    pub norm1: Option<f64>,
    pub norm2: Option<f64>,
    pub nnorm: Option<usize>,
    pub nvict: i32,
    pub make_flat: bool,
}

impl Default for PreEdgeParams {
    fn default() -> Self {
        PreEdgeParams {
            e0: None,
            step: None,
            pre1: None,
            pre2: None,
            norm1: None,
            norm2: None,
            nnorm: None,
            nvict: 0,
            make_flat: true,
        }
    }
}

impl PreEdgeParams {
    /// Reject NaN/Inf and values no spectrum can use, naming the parameter.
    pub fn validate(&self) -> Result<(), XasError> {
        let bad = |name: &'static str, value: String, reason: &str| XasError::BadParam {
            name,
            value,
            reason: reason.into(),
        };
        for (name, v) in [
            ("e0", self.e0),
            ("step", self.step),
            ("pre1", self.pre1),
            ("pre2", self.pre2),
            ("norm1", self.norm1),
            ("norm2", self.norm2),
        ] {
            if let Some(v) = v
                && !v.is_finite()
            {
                return Err(bad(name, v.to_string(), "must be finite"));
            }
        }
        if self.step == Some(0.0) {
            return Err(bad("step", "0".into(), "must be non-zero"));
        }
        // The pre-edge range lies below e0 and runs upwards: a range above
        // e0 or given backwards is refused, not swapped (Larch swaps).
        if let (Some(a), Some(b)) = (self.pre1, self.pre2)
            && a >= b
        {
            return Err(bad(
                "pre2",
                b.to_string(),
                &format!("the pre-edge range must run upwards (pre1 = {a} eV ≥ pre2 = {b} eV)"),
            ));
        }
        for (name, v) in [("pre1", self.pre1), ("pre2", self.pre2)] {
            if let Some(v) = v
                && v > 0.0
            {
                return Err(bad(
                    name,
                    v.to_string(),
                    "the pre-edge range must lie below e0 (≤ 0 eV relative to e0)",
                ));
            }
        }
        // μ·E^nvict must stay representable at tens of keV.
        if !(-MAX_NVICT..=MAX_NVICT).contains(&self.nvict) {
            return Err(bad(
                "nvict",
                self.nvict.to_string(),
                "must be between -5 and 5",
            ));
        }
        Ok(())
    }
}

/// Results of `pre_edge`, with the resolved ranges actually used.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PreEdge {
    pub e0: f64,
    /// μ(post-edge) − μ(pre-edge) at e0; negative only for an inverted edge
    /// (see `warnings`), so that `norm` still rises to +1.
    pub edge_step: f64,
    pub pre_slope: f64,
    pub pre_intercept: f64,
    pub pre1: f64,
    pub pre2: f64,
    pub norm1: f64,
    pub norm2: f64,
    pub nnorm: usize,
    pub nvict: i32,
    /// Post-edge polynomial coefficients (ascending powers of E), Larch `norm_c*`.
    pub norm_coefs: Vec<f64>,
    /// The (sorted, de-duplicated) energy grid all arrays refer to.
    pub energy_ev: Vec<f64>,
    /// μ(E) on that grid.
    pub mu: Vec<f64>,
    pub pre_edge: Vec<f64>,
    pub post_edge: Vec<f64>,
    pub norm: Vec<f64>,
    pub flat: Vec<f64>,
    /// What the caller should show (an inverted edge).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Validate a μ(E) pair: equal lengths, finite, at least `min` points.
pub(crate) fn check_input(energy_ev: &[f64], mu: &[f64], min: usize) -> Result<(), XasError> {
    if energy_ev.len() != mu.len() {
        return Err(XasError::Length(format!(
            "energy has {} points, mu {}",
            energy_ev.len(),
            mu.len()
        )));
    }
    if energy_ev.len() < min {
        return Err(XasError::TooFewPoints(format!(
            "{} points; at least {min} needed",
            energy_ev.len()
        )));
    }
    super::check_finite("energy", energy_ev)?;
    super::check_finite("mu", mu)?;
    Ok(())
}

/// Sort by energy when out of order and nudge repeated energies (Larch's
/// `pre_edge` preamble: argsort + `remove_dups(TINY_ENERGY)`).
pub(crate) fn sorted_dedup(energy_ev: &[f64], mu: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let sorted = energy_ev.windows(2).all(|w| w[0] <= w[1]);
    let (e, m) = if sorted {
        (energy_ev.to_vec(), mu.to_vec())
    } else {
        let mut idx: Vec<usize> = (0..energy_ev.len()).collect();
        idx.sort_by(|&a, &b| energy_ev[a].total_cmp(&energy_ev[b]));
        (
            idx.iter().map(|&i| energy_ev[i]).collect(),
            idx.iter().map(|&i| mu[i]).collect(),
        )
    };
    (remove_dups(&e, TINY_ENERGY), m)
}

/// Larch `find_energy_step`: a robust typical energy step. NaN when the
/// array is too short for Larch's trimming (it then falls back to 1 eV).
fn find_energy_step(en: &[f64]) -> f64 {
    let nskip = (0.01 * en.len() as f64) as usize;
    let nave = 10;
    if nskip == 0 || en.len() < 2 * nskip + 2 {
        return f64::NAN;
    }
    // en[e_ordered] is en[..n-1] for sorted input; then [nskip:-nskip]
    let seg = &en[nskip..en.len() - 1 - nskip];
    let mut ediff: Vec<f64> = seg.windows(2).map(|w| w[1] - w[0]).collect();
    // Only the order statistics nskip..nskip+nave are needed.
    let hi = (nskip + nave).min(ediff.len());
    if hi < ediff.len() {
        ediff.select_nth_unstable_by(hi, f64::total_cmp);
    }
    ediff[..hi].sort_by(f64::total_cmp);
    let sel = &ediff[nskip.min(hi)..hi];
    if sel.is_empty() {
        return f64::NAN;
    }
    sel.iter().sum::<f64>() / sel.len() as f64
}

/// Larch `_finde0`: index of the largest (optionally smoothed) derivative
/// that is flanked by other high-derivative points.
fn finde0_inner(
    energy: &[f64],
    mu_input: &[f64],
    estep: Option<f64>,
    use_smooth: bool,
) -> (f64, usize, f64) {
    let en_all = remove_dups(energy, TINY_ENERGY);
    // Larch keeps indices where argsort steps by one: all but the last point.
    let n = en_all.len().saturating_sub(1);
    let en = &en_all[..n];
    let mu = &mu_input[..n];
    let estep = estep.unwrap_or_else(|| find_energy_step(en));
    if n < 3 {
        return (en.first().copied().unwrap_or(f64::NAN), 0, estep);
    }
    let nmin = 3usize.max((n as f64 * 0.02) as usize);
    let mut dmu = deriv(en, mu);
    if use_smooth {
        dmu = smooth_lorentzian(en, &dmu, estep, estep);
    }
    for v in dmu.iter_mut() {
        if !v.is_finite() {
            *v = -1.0;
        }
    }
    let inner = if n > 2 * nmin {
        &dmu[nmin..n - nmin]
    } else {
        &dmu[..]
    };
    let dm_min = inner.iter().copied().fold(f64::INFINITY, f64::min);
    let dm_max = inner.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let dm_ptp = (dm_max - dm_min).max(1e-10);
    for v in dmu.iter_mut() {
        *v = (*v - dm_min) / dm_ptp;
    }
    let mut dhigh = if n > 20 { 0.60 } else { 0.30 };
    let mut high: Vec<bool> = dmu.iter().map(|&v| v > dhigh).collect();
    let count = |h: &[bool]| h.iter().filter(|&&b| b).count();
    if count(&high) < 3 {
        for _ in 0..2 {
            if count(&high) > 3 {
                break;
            }
            dhigh *= 0.5;
            high = dmu.iter().map(|&v| v > dhigh).collect();
        }
    }
    if count(&high) < 3 {
        high = dmu.iter().map(|v| v.is_finite()).collect();
    }
    let (mut imax, mut dmax) = (0usize, 0.0);
    for i in 0..n {
        if !high[i] || i < nmin || i > n - nmin {
            continue;
        }
        let up = i + 1 < n && high[i + 1];
        let down = i >= 1 && high[i - 1];
        if dmu[i] > dmax && up && down {
            imax = i;
            dmax = dmu[i];
        }
    }
    (en[imax], imax, estep)
}

/// Larch `find_e0`: edge energy from the maximum of the derivative, first
/// unsmoothed, then refined with a smoothed derivative near that point.
pub fn find_e0(energy_ev: &[f64], mu: &[f64]) -> Result<f64, XasError> {
    check_input(energy_ev, mu, 8)?;
    let (e1, ie0, estep1) = finde0_inner(energy_ev, mu, None, false);
    let n = energy_ev.len();
    let (mut e1, mut istart, mut istop) =
        (e1, 3.max(ie0 as isize - 75) as usize, (ie0 + 75).min(n - 3));
    if (ie0 as f64) < 0.05 * n as f64 {
        e1 = energy_ev.iter().sum::<f64>() / n as f64;
        istart = 3.max(ie0 as isize - 20) as usize;
        istop = n - 3;
    }
    // Python's min(1.0, nan) is 1.0: keep that quirk for short scans.
    let est1 = if estep1.is_nan() {
        1.0
    } else {
        estep1.min(1.0)
    };
    let estep = 0.5 * (0.01f64.max(est1) + 0.01f64.max((e1 / 25000.0).min(1.0)));
    if istop <= istart + 4 {
        return Err(XasError::NoEdge(format!("no edge found near {e1:.2} eV")));
    }
    let (e0, ix, _) = finde0_inner(
        &energy_ev[istart..istop],
        &mu[istart..istop],
        Some(estep),
        true,
    );
    if ix < 1 {
        return Ok(energy_ev[istart + 2]);
    }
    Ok(e0)
}

/// A falling step larger than this many noise σ is an inverted edge.
const INVERTED_STEP_SIGMAS: f64 = 10.0;

/// Point-to-point noise σ of μ: 1.4826·MAD of the second differences / √6
/// (a smooth edge and its slope cancel in second differences; the MAD
/// ignores the few points at the edge itself).
fn noise_sigma(mu: &[f64]) -> f64 {
    let mut d2: Vec<f64> = mu.windows(3).map(|w| w[2] - 2.0 * w[1] + w[0]).collect();
    if d2.is_empty() {
        return 0.0;
    }
    // Only the middle order statistics are needed: selection, not sorting.
    let mid = d2.len() / 2;
    let med = *d2.select_nth_unstable_by(mid, f64::total_cmp).1;
    let mut dev: Vec<f64> = d2.iter().map(|v| (v - med).abs()).collect();
    let mad = *dev.select_nth_unstable_by(mid, f64::total_cmp).1;
    1.4826 * mad / 6f64.sqrt()
}

/// Larch `pre_edge`: e0, pre-edge line, post-edge polynomial, edge step,
/// normalized and flattened μ(E).
///
/// An inverted edge (μ falling across e0 by more than the noise) is
/// flagged in `warnings` and normalised with its negative step, so the
/// post-edge is +1; e0, when not given, is then taken where μ falls
/// fastest (the steepest rise of −μ), not at a wiggle of the falling μ.
pub fn pre_edge(energy_ev: &[f64], mu: &[f64], p: &PreEdgeParams) -> Result<PreEdge, XasError> {
    let first = pre_edge_at(energy_ev, mu, p)?;
    if first.edge_step >= 0.0 || p.e0.is_some() {
        return Ok(first);
    }
    let neg: Vec<f64> = first.mu.iter().map(|m| -m).collect();
    let Ok(e0) = find_e0(&first.energy_ev, &neg) else {
        return Ok(first);
    };
    let at_fall = PreEdgeParams {
        e0: Some(e0),
        ..p.clone()
    };
    match pre_edge_at(energy_ev, mu, &at_fall) {
        Ok(again) if again.edge_step < 0.0 => Ok(again),
        _ => Ok(first),
    }
}

/// [`pre_edge`] at the e0 the parameters give (or the steepest rise).
fn pre_edge_at(energy_ev: &[f64], mu: &[f64], p: &PreEdgeParams) -> Result<PreEdge, XasError> {
    p.validate()?;
    check_input(energy_ev, mu, 8)?;
    let (mu_min, mu_max) = mu.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, &v| {
        (a.0.min(v), a.1.max(v))
    });
    if mu_max - mu_min <= 1e-12 * mu_max.abs().max(mu_min.abs()) || mu_max == mu_min {
        return Err(XasError::NoEdge(format!(
            "μ(E) is constant ({mu_min}); nothing to normalize"
        )));
    }
    let (energy, mu) = sorted_dedup(energy_ev, mu);
    let n = energy.len();
    let emin = energy[0];
    let emax = energy[n - 1];
    let e0 = match p.e0 {
        Some(e) if e.is_finite() && e >= energy[1] && e <= energy[n - 2] => e,
        _ => find_e0(&energy, &mu)?,
    };
    let ie0 = index_nearest(&energy, e0);
    let rel: Vec<f64> = energy.iter().map(|e| e - e0).collect();

    let mut pre1 = p.pre1.unwrap_or_else(|| {
        if ie0 > 20 {
            round_to(energy[1] - e0, 5.0)
        } else {
            round_to(energy[1] - e0, 2.0)
        }
    });
    pre1 = pre1.max(emin - e0);
    let mut pre2 = p.pre2.unwrap_or(0.5 * pre1);
    if pre1 > pre2 {
        std::mem::swap(&mut pre1, &mut pre2);
    }
    let mut nvict = p.nvict;
    let mut npre = 1;
    let ipre1 = index_of(&rel, pre1);
    let ipre2 = index_of(&rel, pre2);
    if (ipre2 as isize - ipre1 as isize) < 3 {
        nvict = 0;
        npre = 0;
    }
    let mut norm2 = p.norm2.unwrap_or_else(|| round_to(emax - e0, 5.0));
    if norm2 < 0.0 {
        norm2 = emax - e0 - norm2;
    }
    norm2 = norm2.min(emax - e0);
    let mut norm1 = p
        .norm1
        .unwrap_or_else(|| 25f64.min(5.0 * (norm2 / 15.0).round_ties_even()));
    if norm1 > norm2 {
        std::mem::swap(&mut norm1, &mut norm2);
    }
    norm1 = norm1.min(norm2 - 2.0);
    let nnorm_default = match norm2 - norm1 {
        w if w < 30.0 => 0,
        w if w < 300.0 => 1,
        _ => 2,
    };
    let mut nnorm = p.nnorm.unwrap_or(nnorm_default);
    nnorm = nnorm.min(MAX_NNORM);

    // Pre-edge line (or constant).
    let p1 = index_of(&energy, pre1 + e0);
    let mut p2 = index_nearest(&energy, pre2 + e0);
    let (pre_edge, precoefs) = if npre == 0 {
        if p2 == p1 {
            p2 += 1;
        }
        let (a, b) = (p1.min(n - 1), p2.min(n).max(p1 + 1));
        let mean = mu[a..b].iter().sum::<f64>() / (b - a) as f64;
        (vec![mean; n], [mean, 0.0])
    } else {
        if p2 < p1 + 2 {
            p2 = n.min(p1 + 2);
        }
        let nv = nvict as f64;
        // E^0 is exactly 1: no powers for the default nvict = 0.
        let epow = |e: f64, p: f64| if nvict == 0 { 1.0 } else { e.powf(p) };
        let omu: Vec<f64> = mu[p1..p2]
            .iter()
            .zip(&energy[p1..p2])
            .map(|(m, &e)| m * epow(e, nv))
            .collect();
        let c = polyfit(&energy[p1..p2], &omu, 1);
        let pe = energy
            .iter()
            .map(|&e| (c[0] + e * c[1]) * epow(e, -nv))
            .collect();
        (pe, [c[0], c[1]])
    };

    // Post-edge polynomial fitted to μ − pre-edge.
    let mut q1 = index_of(&energy, norm1 + e0);
    let q2 = index_nearest(&energy, norm2 + e0);
    if q1 + 3 > n {
        q1 = n - 3;
    }
    if (q2 as isize - q1 as isize) < 2 {
        q1 = q1.saturating_sub(2);
        nnorm = 0;
    } else if q2 - q1 < 5 {
        nnorm = nnorm.min(1);
    }
    let q2 = q2.max(q1 + 1);
    let presub: Vec<f64> = (q1..q2).map(|i| mu[i] - pre_edge[i]).collect();
    let norm_coefs = polyfit(&energy[q1..q2], &presub, nnorm);
    let post_edge: Vec<f64> = energy
        .iter()
        .zip(&pre_edge)
        .map(|(&e, &pe)| pe + norm_coefs.iter().rev().fold(0.0, |acc, &c| acc * e + c))
        .collect();
    let raw_step = match p.step {
        Some(s) => s,
        None => post_edge[ie0] - pre_edge[ie0],
    };
    let scale = mu_max.abs().max(mu_min.abs());
    if !raw_step.is_finite() || raw_step.abs() <= 1e-10 * scale {
        return Err(XasError::NoEdge(format!(
            "edge step {raw_step:.3e} is zero at e0 = {e0:.2} eV"
        )));
    }
    // μ that falls across the edge (μ or the energy axis negated, I0 and It
    // swapped) would normalise into a negative post-edge: refused unless
    // the user gives the step.
    // μ that falls across the edge by more than the noise (μ or the energy
    // axis negated, I0 and It swapped) is flagged and normalised with its
    // signed step, so the post-edge is +1, not −1 (Larch takes |step|).
    // A falling step within the noise is no edge at all (a dark channel):
    // |step| as before.
    let mut warnings = Vec::new();
    let noise = noise_sigma(&mu);
    let edge_step =
        if p.step.is_none() && raw_step < 0.0 && -raw_step > INVERTED_STEP_SIGMAS * noise {
            warnings.push(format!(
                "μ(E) falls across the edge at e0 = {e0:.2} eV (edge step {raw_step:.4e}, \
             {:.0}× the noise): an inverted edge (μ or the energy negated, I0 and It swapped) \
             or no edge in this channel; normalised with the negative step",
                -raw_step / noise.max(f64::MIN_POSITIVE)
            ));
            raw_step
        } else {
            raw_step.abs().max(1e-12)
        };
    let norm: Vec<f64> = mu
        .iter()
        .zip(&pre_edge)
        .map(|(m, pe)| (m - pe) / edge_step)
        .collect();
    let flat = if p.make_flat {
        let resid: Vec<f64> = post_edge
            .iter()
            .zip(&pre_edge)
            .map(|(po, pe)| (po - pe) / edge_step)
            .collect();
        let r0 = resid[ie0];
        (0..n)
            .map(|i| {
                if i < ie0 {
                    norm[i]
                } else {
                    norm[i] - resid[i] + r0
                }
            })
            .collect()
    } else {
        norm.clone()
    };
    // Extreme inputs (μ spanning 1e300, energies near overflow) can still
    // overflow the fits: an error, never NaN handed on to autobk.
    for (array, v) in [("norm", &norm), ("flat", &flat)] {
        super::check_finite(array, v)?;
    }
    Ok(PreEdge {
        e0,
        edge_step,
        pre_slope: precoefs[1],
        pre_intercept: precoefs[0],
        pre1,
        pre2,
        norm1,
        norm2,
        nnorm,
        nvict,
        norm_coefs,
        energy_ev: energy,
        mu,
        pre_edge,
        post_edge,
        norm,
        flat,
        warnings,
    })
}
