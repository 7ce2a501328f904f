//! Phase identification: rank candidate structures against a measured
//! pattern by full-profile similarity, allowing each candidate's lattice to
//! scale by a few per cent (thermal expansion, solid solution, pressure).
//!
//! Score = max over the scale factor s of the cosine similarity between
//! the background-subtracted pattern n(2θ) and the candidate's pattern
//! K∗sticks broadened by a Gaussian K of the measured peak width:
//! ⟨n, K∗sticks⟩ = Σₖ Iₖ·(K∗n)(2θₖ) (K is symmetric), so a pattern is
//! smoothed once and each candidate costs one pass over its reflections.

use serde::{Deserialize, Serialize};

use super::XrdError;
use super::simulate::{DebyeWaller, reflections};
use crate::structure::Structure;

/// A candidate's reflections, precomputed once per library (independent of
/// wavelength): g = 1/d (Å⁻¹) and |F|² summed over reflections at that g.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub formula: String,
    /// (g = 1/d in Å⁻¹, Σ|F|² in electrons² of the reflections at g),
    /// ascending g; wavelength-free so one library serves every pattern.
    pub lines: Vec<(f64, f64)>,
}

/// Up to this g = 1/d (Å⁻¹) candidates are precomputed: 2θ ≤ 140° with
/// CuKα, ≤ 29° at 0.334 Å.
pub const G_MAX_INV_ANG: f64 = 1.5;

impl Candidate {
    pub fn new(id: &str, s: &Structure) -> Result<Candidate, XrdError> {
        let refl = reflections(s, G_MAX_INV_ANG, DebyeWaller::Off)?;
        let mut lines: Vec<(f64, f64)> = Vec::new();
        for (g, f2) in refl {
            match lines.last_mut() {
                Some(l) if (g - l.0).abs() <= 1e-9 * g => l.1 += f2,
                _ => lines.push((g, f2)),
            }
        }
        let top = lines.iter().map(|l| l.1).fold(0.0, f64::max);
        lines.retain(|l| l.1 > 1e-6 * top);
        Ok(Candidate {
            id: id.to_string(),
            name: s.name.clone(),
            formula: crate::structure::reduced_formula(s),
            lines,
        })
    }
}

/// A measured pattern prepared for ranking.
#[derive(Debug, Clone)]
pub struct PreparedPattern {
    pub two_theta_deg: Vec<f64>,
    /// Background-subtracted, clipped at zero.
    pub net: Vec<f64>,
    /// `net` smoothed by the Gaussian kernel.
    smoothed: Vec<f64>,
    net_norm: f64,
    /// Peaks found in `net`.
    pub peaks: Vec<super::peaks::FoundPeak>,
    pub wavelength_ang: f64,
    /// Gaussian FWHM (°2θ) used for the candidates.
    pub fwhm_deg: f64,
}

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedCandidate {
    pub id: String,
    pub name: String,
    pub formula: String,
    /// Cosine similarity 0–1 at the best lattice scale.
    pub score: f64,
    /// d-spacing scale factor of the best match (1 = the CIF's cell).
    pub scale: f64,
    /// Measured peaks within 2 FWHM of a candidate line with ≥ 2 % of its strongest.
    pub matched_peaks: usize,
    pub measured_peaks: usize,
}

pub(crate) fn gaussian_smooth(y: &[f64], step: f64, fwhm: f64) -> Vec<f64> {
    let sig = fwhm / (8.0 * std::f64::consts::LN_2).sqrt() / step;
    let half = (4.0 * sig).ceil() as isize;
    let k: Vec<f64> = (-half..=half)
        .map(|i| (-0.5 * (i as f64 / sig).powi(2)).exp())
        .collect();
    let n = y.len() as isize;
    (0..n)
        .map(|i| {
            let mut s = 0.0;
            for (j, kv) in k.iter().enumerate() {
                let t = i + j as isize - half;
                if t >= 0 && t < n {
                    s += kv * y[t as usize];
                }
            }
            s
        })
        .collect()
}

/// Prepare a pattern: SNIP background (window ≈ 1° 2θ … 1/10 of the range),
/// peak width from a pseudo-Voigt fit of the strongest peak.
pub fn prepare(
    two_theta: &[f64],
    y: &[f64],
    wavelength_ang: f64,
) -> Result<PreparedPattern, XrdError> {
    let n = two_theta.len().min(y.len());
    if n < 20 {
        return Err(XrdError::TooFewPoints {
            n,
            purpose: "for phase identification",
        });
    }
    if !(wavelength_ang > 0.0 && wavelength_ang.is_finite()) {
        return Err(XrdError::NoWavelength);
    }
    let step = (two_theta[n - 1] - two_theta[0]) / (n - 1) as f64;
    if step.is_nan() || step <= 0.0 {
        return Err(XrdError::TwoThetaNotIncreasing);
    }
    // SNIP erodes concave backgrounds (a hump from an amorphous phase or a
    // window) by ~p²·|y''|: keep its window a few peak widths. First pass
    // with 0.3°, then again with 2.5 FWHM of the strongest fitted peak.
    let snip = |half: usize| -> Vec<f64> {
        let bkg = super::peaks::snip_background(&y[..n], half.clamp(4, n / 4));
        y.iter().zip(&bkg).map(|(a, b)| (a - b).max(0.0)).collect()
    };
    let net0 = snip((0.3 / step).ceil() as usize);
    let peaks0 =
        super::peaks::find_peaks(two_theta, &net0, 1, 5.0, 0.02, 3.0 * step, f64::INFINITY);
    let strongest = peaks0.iter().max_by(|a, b| a.height.total_cmp(&b.height));
    let fwhm = strongest
        .and_then(|p| {
            super::peaks::fit_peak(two_theta, y, None, p.two_theta_deg, 8.0 * step.max(0.005)).ok()
        })
        .map(|f| f.fwhm_deg)
        .filter(|w| w.is_finite() && *w > step && *w < 2.0)
        .unwrap_or(4.0 * step);
    let net = snip((2.5 * fwhm / step).ceil() as usize);
    let peaks = super::peaks::find_peaks(two_theta, &net, 1, 5.0, 0.02, fwhm, f64::INFINITY);
    let smoothed = gaussian_smooth(&net, step, fwhm);
    let net_norm = net.iter().map(|v| v * v).sum::<f64>().sqrt();
    // Nothing stands 5 noise levels above the background: there is
    // nothing to identify, and a ranking of the noise would look like one.
    if net_norm <= 0.0 || peaks.is_empty() {
        return Err(XrdError::NoPeaks);
    }
    Ok(PreparedPattern {
        two_theta_deg: two_theta[..n].to_vec(),
        net,
        smoothed,
        net_norm,
        peaks,
        wavelength_ang,
        fwhm_deg: fwhm,
    })
}

impl PreparedPattern {
    fn at(&self, v: &[f64], x: f64) -> f64 {
        let n = self.two_theta_deg.len();
        let (x0, x1) = (self.two_theta_deg[0], self.two_theta_deg[n - 1]);
        if x < x0 || x > x1 {
            return 0.0;
        }
        let f = (x - x0) / (x1 - x0) * (n - 1) as f64;
        let i = (f as usize).min(n - 2);
        let t = f - i as f64;
        v[i] * (1.0 - t) + v[i + 1] * t
    }

    /// Candidate lines at scale `s` inside the pattern: (2θ, intensity).
    fn lines(&self, c: &Candidate, s: f64, out: &mut Vec<(f64, f64)>) {
        out.clear();
        let lam = self.wavelength_ang;
        let (lo, hi) = (
            self.two_theta_deg[0],
            self.two_theta_deg[self.two_theta_deg.len() - 1],
        );
        for &(g, f2) in &c.lines {
            let sin_t = lam * g / s / 2.0;
            if sin_t >= 1.0 {
                break;
            }
            let th = sin_t.asin();
            let tt = 2.0 * th.to_degrees();
            if tt < lo - 3.0 * self.fwhm_deg {
                continue;
            }
            if tt > hi + 3.0 * self.fwhm_deg {
                break;
            }
            // pymatgen's Lorentz–polarization factor.
            let lp = (1.0 + (2.0 * th).cos().powi(2)) / (th.sin().powi(2) * th.cos());
            out.push((tt, f2 * lp));
        }
    }

    /// Cosine similarity of the candidate at scale `s`.
    fn cosine(&self, c: &Candidate, s: f64, buf: &mut Vec<(f64, f64)>) -> f64 {
        self.lines(c, s, buf);
        if buf.is_empty() {
            return 0.0;
        }
        let step = (self.two_theta_deg[self.two_theta_deg.len() - 1] - self.two_theta_deg[0])
            / (self.two_theta_deg.len() - 1) as f64;
        let sig = self.fwhm_deg / (8.0 * std::f64::consts::LN_2).sqrt();
        // The kernel in `smoothed` has unit height; the same kernel on a
        // stick of area I has height I/(σ√(2π))·step per point.
        let dot: f64 = buf
            .iter()
            .map(|&(x, i)| i * self.at(&self.smoothed, x))
            .sum();
        // |K∗sticks|² = Σⱼₖ IⱼIₖ·(K∗K)(xⱼ−xₖ)/step, K∗K Gaussian of σ√2.
        let s2 = 2.0 * sig * sig;
        let reach = 5.0 * s2.sqrt();
        let mut norm2 = 0.0;
        for (a, &(xa, ia)) in buf.iter().enumerate() {
            norm2 += ia * ia;
            for &(xb, ib) in &buf[a + 1..] {
                let d = xb - xa;
                if d.abs() > reach {
                    if d > reach {
                        break;
                    }
                    continue;
                }
                norm2 += 2.0 * ia * ib * (-0.5 * d * d / s2).exp();
            }
        }
        // Σ K(i)² over a unit-height Gaussian of σ (in points) = σ√π.
        let norm = (norm2 * (sig / step) * std::f64::consts::PI.sqrt()).sqrt();
        if norm > 0.0 {
            dot / (norm * self.net_norm)
        } else {
            0.0
        }
    }

    /// Score one candidate: best scale in [1 − max_scale, 1 + max_scale].
    pub fn score(&self, c: &Candidate, max_scale: f64) -> RankedCandidate {
        let mut buf = Vec::new();
        let hi = self.two_theta_deg[self.two_theta_deg.len() - 1].to_radians() / 2.0;
        // A step that moves the highest-angle line by ≤ FWHM/4.
        let ds = (self.fwhm_deg.to_radians() / 4.0 / 2.0 * hi.cos() / hi.sin().max(1e-3))
            .clamp(1e-4, 0.005);
        let n = (max_scale / ds).ceil() as i64;
        let mut best = (f64::NEG_INFINITY, 1.0);
        for i in -n..=n {
            let s = 1.0 + i as f64 * max_scale / n.max(1) as f64;
            let v = self.cosine(c, s, &mut buf);
            if v > best.0 {
                best = (v, s);
            }
        }
        // Refine around the best scale.
        let mut h = max_scale / n.max(1) as f64 / 2.0;
        for _ in 0..6 {
            for s in [best.1 - h, best.1 + h] {
                if (s - 1.0).abs() <= max_scale + 1e-12 {
                    let v = self.cosine(c, s, &mut buf);
                    if v > best.0 {
                        best = (v, s);
                    }
                }
            }
            h /= 2.0;
        }
        self.lines(c, best.1, &mut buf);
        let top = buf.iter().map(|l| l.1).fold(0.0, f64::max);
        let matched = self
            .peaks
            .iter()
            .filter(|p| {
                buf.iter().any(|&(x, i)| {
                    i >= 0.02 * top && (x - p.two_theta_deg).abs() <= 2.0 * self.fwhm_deg
                })
            })
            .count();
        RankedCandidate {
            id: c.id.clone(),
            name: c.name.clone(),
            formula: c.formula.clone(),
            score: best.0.max(0.0),
            scale: best.1,
            matched_peaks: matched,
            measured_peaks: self.peaks.len(),
        }
    }
}

/// Rank every candidate (best first), in parallel.
pub fn rank(p: &PreparedPattern, candidates: &[Candidate], max_scale: f64) -> Vec<RankedCandidate> {
    use rayon::prelude::*;
    let mut v: Vec<RankedCandidate> = candidates
        .par_iter()
        .map(|c| p.score(c, max_scale))
        .collect();
    v.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    v
}

/// The CIF files [`load_candidates`] reads: every `.cif` in `dir` and in
/// its sub-folders one level down, sorted.
pub fn candidate_files(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, XrdError> {
    let mut files = Vec::new();
    let list = |d: &std::path::Path| -> Result<Vec<std::path::PathBuf>, XrdError> {
        Ok(std::fs::read_dir(d)
            .map_err(|e| XrdError::file(d, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect())
    };
    for p in list(dir)? {
        if p.is_dir() {
            files.extend(list(&p)?.into_iter().filter(|f| f.is_file()));
        } else {
            files.push(p);
        }
    }
    files.retain(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cif")));
    files.sort();
    if files.is_empty() {
        return Err(XrdError::file(dir, "no .cif files"));
    }
    Ok(files)
}

/// One CIF file as a candidate (its id is the file stem).
pub fn load_candidate(f: &std::path::Path) -> Result<Candidate, XrdError> {
    let mut v = crate::structure::read_cif(f)?;
    if v.is_empty() {
        return Err(XrdError::file(f, "no structure"));
    }
    let id = f
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Candidate::new(&id, &v.remove(0)).map_err(|e| XrdError::file(f, e))
}

/// Every CIF in `dir` (and its sub-folders one level down) as a candidate,
/// read in parallel; files that cannot be read are returned with their error.
pub fn load_candidates(dir: &std::path::Path) -> Result<(Vec<Candidate>, Vec<XrdError>), XrdError> {
    use rayon::prelude::*;
    let files = candidate_files(dir)?;
    let res: Vec<Result<Candidate, XrdError>> =
        files.par_iter().map(|f| load_candidate(f)).collect();
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for r in res {
        match r {
            Ok(c) => ok.push(c),
            Err(e) => errors.push(e),
        }
    }
    Ok((ok, errors))
}
