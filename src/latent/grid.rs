//! The common grid of each modality, so spectra from different instruments
//! (lab Cu Kα and synchrotron patterns, scans on different energy steps)
//! and candidates simulated from structures become vectors of one length:
//!
//! - XRD: intensity on Q = 4π sin θ / λ, 0.5–4.5 Å⁻¹ in 0.005 Å⁻¹ steps
//!   (Cu Kα 7–70° 2θ; Q from each pattern's own wavelength). The measured
//!   pattern loses its SNIP background (`xrd::identify::prepare`), is
//!   averaged into the Q bins, broadened to a common resolution
//!   ([`XRD_FWHM_Q`]), √-scaled (so weak lines count: powder intensities
//!   span decades) and scaled to unit norm over the bins it covers.
//!   Candidates: their reflections (Σ|F|² per 1/d) with the Lorentz-
//!   polarization factor at Cu Kα1, as Gaussians of the same width, √-scaled,
//!   unit norm.
//! - EXAFS: k²·χ(k) on 2–12 Å⁻¹ in 0.05 Å⁻¹ steps, as measured (no norm).
//! - XANES: normalized μ on E − e0 from −20 to +60 eV in 0.5 eV steps.
//!
//! A spectrum covers the part of the grid inside its own range; the rest is
//! masked, never zero-filled ([`Profile::mask`]), and a spectrum covering
//! less than [`MIN_COVERAGE`] of the grid is refused with its range named.

use ndarray::Array1;
use serde::Serialize;

use crate::numeric::interp::interp_linear_nan;
use crate::xrd::identify::{Candidate, gaussian_smooth, prepare};

/// Fraction of a grid a spectrum must cover to be placed on it.
pub const MIN_COVERAGE: f64 = 0.5;
/// The common XRD resolution: FWHM in Q (Å⁻¹) of every peak on the grid
/// (a lab diffractometer's 0.1–0.15° 2θ at 30° is 0.007–0.011 Å⁻¹).
pub const XRD_FWHM_Q: f64 = 0.02;
/// Wavelength of the candidates' Lorentz-polarization factor (Cu Kα1, Å).
pub const CANDIDATE_LP_WAVELENGTH_ANG: f64 = 1.540_56;

/// Which measurement a grid is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Xrd,
    Exafs,
    Xanes,
}

impl Modality {
    pub fn name(self) -> &'static str {
        match self {
            Modality::Xrd => "xrd",
            Modality::Exafs => "exafs",
            Modality::Xanes => "xanes",
        }
    }
    /// The modality [`Self::name`] names (any case).
    pub fn parse(name: &str) -> Option<Modality> {
        [Modality::Xrd, Modality::Exafs, Modality::Xanes]
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
    /// The modality's common grid.
    pub fn grid(self) -> GridSpec {
        match self {
            Modality::Xrd => XRD_Q,
            Modality::Exafs => EXAFS_K,
            Modality::Xanes => XANES_E,
        }
    }
}

/// A uniform grid: `n` points from `start` in `step`s, in `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridSpec {
    pub modality: Modality,
    /// What the axis is ("Q", "k", "E - e0").
    pub axis: &'static str,
    pub unit: &'static str,
    pub start: f64,
    pub step: f64,
    pub n: usize,
}

/// XRD on Q (Å⁻¹).
pub const XRD_Q: GridSpec = GridSpec {
    modality: Modality::Xrd,
    axis: "Q",
    unit: "Å⁻¹",
    start: 0.5,
    step: 0.005,
    n: 801,
};
/// EXAFS k²χ(k) on k (Å⁻¹).
pub const EXAFS_K: GridSpec = GridSpec {
    modality: Modality::Exafs,
    axis: "k",
    unit: "Å⁻¹",
    start: 2.0,
    step: 0.05,
    n: 201,
};
/// XANES normalized μ on E − e0 (eV).
pub const XANES_E: GridSpec = GridSpec {
    modality: Modality::Xanes,
    axis: "E - e0",
    unit: "eV",
    start: -20.0,
    step: 0.5,
    n: 161,
};

impl GridSpec {
    pub fn x(&self, i: usize) -> f64 {
        self.start + self.step * i as f64
    }
    pub fn end(&self) -> f64 {
        self.x(self.n - 1)
    }
    pub fn points(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.x(i)).collect()
    }
}

/// Why a spectrum cannot be placed on its modality's grid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error(
        "{modality} data cover {covered:.0} % of the common grid ({axis} {start}–{end} {unit}); at least {min:.0} % is needed (the data span {axis} {from:.3}–{to:.3} {unit})"
    )]
    Coverage {
        modality: &'static str,
        axis: &'static str,
        unit: &'static str,
        start: f64,
        end: f64,
        covered: f64,
        min: f64,
        from: f64,
        to: f64,
    },
    #[error("{0}")]
    Xrd(String),
    #[error("{what}: {reason}")]
    Input { what: &'static str, reason: String },
}

/// A spectrum on its modality's grid: `values[i]` is meaningful where
/// `mask[i]`; elsewhere it is 0 and must not be read as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub grid: GridSpec,
    pub values: Array1<f64>,
    pub mask: Vec<bool>,
}

/// The grid points every profile of `items` (id, profile) covers: one
/// grid for all (else an error naming the first on another), and at least
/// half of it shared (else an error naming the profile that covers least)
/// — what a model trained on many spectra (PLS, a projection) is fitted on.
pub fn shared_points(items: &[(&str, &Profile)]) -> Result<Vec<usize>, String> {
    let Some((first, p0)) = items.first() else {
        return Err("no spectra".into());
    };
    let grid = &p0.grid;
    if let Some((id, p)) = items.iter().find(|(_, p)| p.grid != *grid) {
        return Err(format!(
            "{id}: on the {} grid, the first spectrum ({first}) on the {} grid: one modality at a time",
            p.grid.modality.name(),
            grid.modality.name()
        ));
    }
    let used: Vec<usize> = (0..grid.n)
        .filter(|&j| {
            items
                .iter()
                .all(|(_, p)| p.mask.get(j).copied().unwrap_or(false))
        })
        .collect();
    if used.len() * 2 < grid.n {
        let (id, p) = items
            .iter()
            .min_by(|a, b| a.1.coverage().total_cmp(&b.1.coverage()))
            .ok_or("no spectra")?;
        return Err(format!(
            "the spectra share {} of the {} grid points ({} {}–{} {}); {id} covers {:.0} %",
            used.len(),
            grid.n,
            grid.axis,
            grid.start,
            grid.end(),
            grid.unit,
            100.0 * p.coverage()
        ));
    }
    Ok(used)
}

impl Profile {
    /// Fraction of the grid covered.
    pub fn coverage(&self) -> f64 {
        self.mask.iter().filter(|m| **m).count() as f64 / self.grid.n as f64
    }

    /// Scaled to unit Euclidean norm over the covered points (unchanged
    /// when all are zero).
    pub fn unit_norm(mut self) -> Profile {
        let n2: f64 = (self.values.iter().zip(&self.mask))
            .filter(|(_, m)| **m)
            .map(|(v, _)| v * v)
            .sum();
        if n2 > 0.0 {
            self.values /= n2.sqrt();
        }
        self
    }

    /// How alike two profiles of one grid are, as stage 0 ranks them:
    /// [`Profile::cosine`], except on the XANES grid the cosine of the
    /// first differences (dμ/dE), over the steps both cover at both ends.
    /// Normalized μ rises from 0 to 1 in every spectrum, so its plain
    /// cosine is 0.98–0.998 between Cu metal, Cu₂S and CuO (the edge step
    /// dominates); the derivative is the edge's shape, which tells them
    /// apart (the usual XANES fingerprint, and what the eye compares).
    pub fn similarity(&self, other: &Profile) -> f64 {
        if self.grid.modality != Modality::Xanes || other.grid.modality != Modality::Xanes {
            return self.cosine(other);
        }
        let d = |p: &Profile| -> (Vec<f64>, Vec<bool>) {
            let v = p
                .values
                .as_slice()
                .map_or_else(|| p.values.to_vec(), <[f64]>::to_vec);
            let dv = v.windows(2).map(|w| w[1] - w[0]).collect();
            let dm = p.mask.windows(2).map(|w| w[0] & w[1]).collect();
            (dv, dm)
        };
        let (a, ma) = d(self);
        let (b, mb) = d(other);
        masked_cosine(&a, &b, &ma, &mb)
    }

    /// Cosine similarity with `other` over the points both cover (0 when
    /// they share none or either is zero there).
    pub fn cosine(&self, other: &Profile) -> f64 {
        let (Some(a), Some(b)) = (self.values.as_slice(), other.values.as_slice()) else {
            let a: Vec<f64> = self.values.to_vec();
            let b: Vec<f64> = other.values.to_vec();
            return masked_cosine(&a, &b, &self.mask, &other.mask);
        };
        masked_cosine(a, b, &self.mask, &other.mask)
    }
}

/// Cosine of `a` and `b` over the points where both masks are set, in
/// four independent lanes so the loop vectorises (ranking 10⁴ candidates
/// is this loop 10⁴ times).
fn masked_cosine(a: &[f64], b: &[f64], ma: &[bool], mb: &[bool]) -> f64 {
    const L: usize = 4;
    let n = a.len().min(b.len()).min(ma.len()).min(mb.len());
    let (mut ab, mut aa, mut bb) = ([0.0; L], [0.0; L], [0.0; L]);
    let lane = |i: usize| {
        let keep = ma[i] & mb[i];
        (if keep { a[i] } else { 0.0 }, if keep { b[i] } else { 0.0 })
    };
    let full = n / L * L;
    for c in (0..full).step_by(L) {
        for l in 0..L {
            let (x, y) = lane(c + l);
            ab[l] += x * y;
            aa[l] += x * x;
            bb[l] += y * y;
        }
    }
    for i in full..n {
        let (x, y) = lane(i);
        ab[0] += x * y;
        aa[0] += x * x;
        bb[0] += y * y;
    }
    let (ab, aa, bb) = (
        ab.iter().sum::<f64>(),
        aa.iter().sum::<f64>(),
        bb.iter().sum::<f64>(),
    );
    if aa > 0.0 && bb > 0.0 {
        ab / (aa * bb).sqrt()
    } else {
        0.0
    }
}

/// The profile of `y(x)` (x ascending) sampled on `grid` by linear
/// interpolation inside the data's range, masked outside it; refused
/// below [`MIN_COVERAGE`].
pub fn sample(grid: GridSpec, x: &[f64], y: &[f64]) -> Result<Profile, GridError> {
    let n = x.len().min(y.len());
    if n < 2 {
        return Err(GridError::Input {
            what: "spectrum",
            reason: format!("{n} points: at least 2 are needed"),
        });
    }
    let (lo, hi) = (x[0], x[n - 1]);
    let mut values = Array1::zeros(grid.n);
    let mut mask = vec![false; grid.n];
    for i in 0..grid.n {
        let g = grid.x(i);
        if g >= lo && g <= hi {
            let v = interp_linear_nan(&x[..n], &y[..n], g);
            if v.is_finite() {
                values[i] = v;
                mask[i] = true;
            }
        }
    }
    checked(Profile { grid, values, mask }, lo, hi)
}

fn checked(p: Profile, from: f64, to: f64) -> Result<Profile, GridError> {
    let covered = p.coverage();
    if covered < MIN_COVERAGE {
        let g = p.grid;
        return Err(GridError::Coverage {
            modality: g.modality.name(),
            axis: g.axis,
            unit: g.unit,
            start: g.start,
            end: g.end(),
            covered: 100.0 * covered,
            min: 100.0 * MIN_COVERAGE,
            from,
            to,
        });
    }
    Ok(p)
}

/// EXAFS: k²·χ(k) on [`EXAFS_K`].
pub fn exafs(k_inv_ang: &[f64], chi: &[f64]) -> Result<Profile, GridError> {
    let k2chi: Vec<f64> = k_inv_ang.iter().zip(chi).map(|(k, c)| k * k * c).collect();
    sample(EXAFS_K, k_inv_ang, &k2chi)
}

/// XANES: normalized μ on [`XANES_E`] around `e0_ev`.
pub fn xanes(energy_ev: &[f64], norm: &[f64], e0_ev: f64) -> Result<Profile, GridError> {
    if !e0_ev.is_finite() {
        return Err(GridError::Input {
            what: "e0",
            reason: format!("{e0_ev} is not a number"),
        });
    }
    let rel: Vec<f64> = energy_ev.iter().map(|e| e - e0_ev).collect();
    sample(XANES_E, &rel, norm)
}

/// √ of a non-negative profile, then unit norm.
fn sqrt_unit(mut p: Profile) -> Profile {
    p.values.mapv_inplace(|v| v.max(0.0).sqrt());
    p.unit_norm()
}

/// A measured powder pattern on [`XRD_Q`] (module doc: background removed,
/// binned, broadened to [`XRD_FWHM_Q`], √, unit norm).
pub fn xrd_measured(
    two_theta_deg: &[f64],
    intensity: &[f64],
    wavelength_ang: f64,
) -> Result<Profile, GridError> {
    let prepared = prepare(two_theta_deg, intensity, wavelength_ang)
        .map_err(|e| GridError::Xrd(e.to_string()))?;
    let g = XRD_Q;
    let q_of = |t: f64| 4.0 * std::f64::consts::PI * (t.to_radians() / 2.0).sin() / wavelength_ang;
    let q: Vec<f64> = prepared.two_theta_deg.iter().map(|&t| q_of(t)).collect();
    let (lo, hi) = (q[0], q[q.len() - 1]);
    // Mean of the points in each bin; bins between points (a pattern
    // coarser than the grid) are interpolated.
    let mut sum = vec![0.0; g.n];
    let mut count = vec![0usize; g.n];
    for (&qi, &v) in q.iter().zip(&prepared.net) {
        let b = ((qi - g.start) / g.step).round();
        if b >= 0.0 && (b as usize) < g.n {
            sum[b as usize] += v;
            count[b as usize] += 1;
        }
    }
    let mut values = Array1::zeros(g.n);
    let mut mask = vec![false; g.n];
    for i in 0..g.n {
        let x = g.x(i);
        if x < lo || x > hi {
            continue;
        }
        values[i] = if count[i] > 0 {
            sum[i] / count[i] as f64
        } else {
            interp_linear_nan(&q, &prepared.net, x)
        };
        mask[i] = values[i].is_finite();
        if !mask[i] {
            values[i] = 0.0;
        }
    }
    // To the common resolution: the measured width (in Q at the pattern's
    // middle) added in quadrature.
    let mid = prepared.two_theta_deg[prepared.two_theta_deg.len() / 2];
    let dq_dtheta2 = 2.0 * std::f64::consts::PI * (mid.to_radians() / 2.0).cos() / wavelength_ang;
    let measured_fwhm_q = prepared.fwhm_deg.to_radians() * dq_dtheta2;
    let extra = (XRD_FWHM_Q.powi(2) - measured_fwhm_q.powi(2))
        .max(0.0)
        .sqrt();
    if extra > 0.5 * g.step {
        let smoothed = gaussian_smooth(values.as_slice().unwrap_or(&[]), g.step, extra);
        for (i, v) in smoothed.into_iter().enumerate() {
            if mask[i] {
                values[i] = v;
            }
        }
    }
    let p = checked(
        Profile {
            grid: g,
            values,
            mask,
        },
        lo,
        hi,
    )?;
    Ok(sqrt_unit(p))
}

/// A candidate's simulated pattern on [`XRD_Q`] (module doc).
pub fn xrd_candidate(c: &Candidate) -> Profile {
    let g = XRD_Q;
    let sigma = XRD_FWHM_Q / (8.0 * std::f64::consts::LN_2).sqrt();
    let mut values = Array1::zeros(g.n);
    let lambda = CANDIDATE_LP_WAVELENGTH_ANG;
    for &(g_inv_ang, f2) in &c.lines {
        let q = 2.0 * std::f64::consts::PI * g_inv_ang;
        let s = lambda * g_inv_ang / 2.0; // sin θ (Bragg)
        if !(q >= g.start - 5.0 * sigma && q <= g.end() + 5.0 * sigma) || s >= 1.0 {
            continue;
        }
        // Lorentz-polarization (1 + cos²2θ) / (sin²θ cos θ), unpolarized beam.
        let theta = s.asin();
        let lp = (1.0 + (2.0 * theta).cos().powi(2)) / (s * s * theta.cos());
        let amp = f2 * lp;
        let i0 = ((q - 5.0 * sigma - g.start) / g.step).floor().max(0.0) as usize;
        let i1 = (((q + 5.0 * sigma - g.start) / g.step).ceil() as usize).min(g.n - 1);
        for i in i0..=i1 {
            let d = (g.x(i) - q) / sigma;
            values[i] += amp * (-0.5 * d * d).exp();
        }
    }
    sqrt_unit(Profile {
        grid: g,
        values,
        mask: vec![true; g.n],
    })
}

/// Candidates ranked by cosine similarity with `measured` (stage 0 of
/// the latent space: no training), best first: (index, score).
pub fn rank_by_cosine(measured: &Profile, candidates: &[Profile]) -> Vec<(usize, f64)> {
    use rayon::prelude::*;
    let mut r: Vec<(usize, f64)> = candidates
        .par_iter()
        .enumerate()
        .map(|(i, c)| (i, measured.cosine(c)))
        .collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_span_what_the_module_says() {
        assert!((XRD_Q.end() - 4.5).abs() < 1e-12);
        assert!((EXAFS_K.end() - 12.0).abs() < 1e-12);
        assert!((XANES_E.end() - 60.0).abs() < 1e-12);
    }

    #[test]
    fn outside_the_data_is_masked_and_too_little_is_refused() {
        // k 0–8 Å⁻¹ covers 2–8 of 2–12: 121 of 201 points.
        let k: Vec<f64> = (0..=160).map(|i| i as f64 * 0.05).collect();
        let chi: Vec<f64> = k
            .iter()
            .map(|k| (2.0 * k * 2.5).sin() / (k * k + 1.0))
            .collect();
        let p = exafs(&k, &chi).expect("covers 60 %");
        assert_eq!(p.mask.iter().filter(|m| **m).count(), 121);
        assert!(p.mask[120] && !p.mask[121]);
        assert_eq!(p.values[150], 0.0);
        let i = 40; // k = 4
        assert!((p.values[i] - 16.0 * chi[80]).abs() < 1e-9);
        // k 0–6 Å⁻¹ covers 40 %.
        let e = exafs(&k[..121], &chi[..121]).expect_err("40 %");
        assert!(e.to_string().contains("40 %"), "{e}");
    }

    #[test]
    fn cosine_ignores_masked_points() {
        let g = EXAFS_K;
        let mut a = Profile {
            grid: g,
            values: Array1::from_elem(g.n, 1.0),
            mask: vec![true; g.n],
        };
        let mut b = a.clone();
        for i in 100..g.n {
            b.mask[i] = false;
            b.values[i] = -5.0;
        }
        assert!((a.cosine(&b) - 1.0).abs() < 1e-12);
        a.values[0] = -1.0;
        assert!(a.cosine(&b) < 1.0);
    }
}
