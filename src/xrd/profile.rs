//! Profile-broadened powder patterns from stick patterns: pseudo-Voigt
//! peaks whose width follows the Caglioti law, with the Kα1/Kα2 doublet of
//! a laboratory tube.

use serde::Serialize;

use super::XrdError;
use super::simulate::{Peak, WAVELENGTHS};
use crate::numeric::lineshape::pseudo_voigt;

/// Peak-shape parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProfileParams {
    /// Caglioti U, V, W: FWHM² = U·tan²θ + V·tanθ + W.
    #[serde(rename = "u")]
    pub u_deg2: f64,
    #[serde(rename = "v")]
    pub v_deg2: f64,
    #[serde(rename = "w")]
    pub w_deg2: f64,
    /// Lorentzian fraction of the pseudo-Voigt (0 = Gaussian, 1 = Lorentzian).
    pub eta: f64,
    /// Grid step (°2θ).
    pub step_deg: f64,
}

impl Default for ProfileParams {
    /// A typical laboratory Bragg–Brentano instrument (FWHM ≈ 0.07° at 30°).
    fn default() -> Self {
        ProfileParams {
            u_deg2: 0.01,
            v_deg2: -0.005,
            w_deg2: 0.005,
            eta: 0.5,
            step_deg: 0.02,
        }
    }
}

/// The Kα1/Kα2 lines behind a mean-Kα wavelength (`CuKa` → CuKa1, CuKa2)
/// with I(Kα2)/I(Kα1) = 0.5.
pub fn k_alpha_doublet(name: &str) -> Option<(f64, f64, f64)> {
    let base = name.trim();
    if !(base.len() > 2 && base[base.len() - 2..].eq_ignore_ascii_case("ka")) {
        return None;
    }
    let find = |suffix: &str| {
        WAVELENGTHS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&format!("{base}{suffix}")))
            .map(|(_, v)| *v)
    };
    Some((find("1")?, find("2")?, 0.5))
}

/// Caglioti, Paoletti & Ricci, Nucl. Instrum. 3 (1958) 223: FWHM (°) at 2θ.
pub fn caglioti_fwhm_deg(p: &ProfileParams, two_theta_deg: f64) -> f64 {
    let t = (two_theta_deg.to_radians() / 2.0).tan();
    (p.u_deg2 * t * t + p.v_deg2 * t + p.w_deg2)
        .max(1e-8)
        .sqrt()
}

/// A broadened pattern on a regular 2θ grid; each stick's area is its
/// intensity (split 2:1 between Kα1 and Kα2 when `doublet` is given as
/// (λ1, λ2, I2/I1), positions from each stick's d by Bragg's law).
pub fn broaden(
    peaks: &[Peak],
    two_theta_min_deg: f64,
    two_theta_max_deg: f64,
    p: &ProfileParams,
    doublet: Option<(f64, f64, f64)>,
) -> Result<(Vec<f64>, Vec<f64>), XrdError> {
    if !(p.step_deg > 1e-4 && p.step_deg <= 1.0) {
        return Err(XrdError::BadStep(p.step_deg));
    }
    if !(0.0..=1.0).contains(&p.eta) {
        return Err(XrdError::BadEta(p.eta));
    }
    if ![p.u_deg2, p.v_deg2, p.w_deg2].iter().all(|x| x.is_finite()) || p.w_deg2 <= 0.0 {
        return Err(XrdError::BadCaglioti);
    }
    if two_theta_max_deg.is_nan() || two_theta_max_deg <= two_theta_min_deg {
        return Err(XrdError::RangeNotIncreasing);
    }
    let n = ((two_theta_max_deg - two_theta_min_deg) / p.step_deg).floor() as usize + 1;
    if n > 2_000_000 {
        return Err(XrdError::TooManyGridPoints(n));
    }
    let x: Vec<f64> = (0..n)
        .map(|i| two_theta_min_deg + i as f64 * p.step_deg)
        .collect();
    let mut y = vec![0.0; n];
    let mut lines: Vec<(f64, f64)> = Vec::new();
    for pk in peaks {
        match doublet {
            Some((l1, l2, r)) => {
                for (lam, w) in [(l1, 1.0 / (1.0 + r)), (l2, r / (1.0 + r))] {
                    let s = lam / (2.0 * pk.d_ang);
                    if s < 1.0 {
                        lines.push((2.0 * s.asin().to_degrees(), pk.intensity * w));
                    }
                }
            }
            None => lines.push((pk.two_theta_deg, pk.intensity)),
        }
    }
    for (c, area) in lines {
        let h = caglioti_fwhm_deg(p, c);
        // Far tails below 1e-6 of the peak height are left out.
        let reach = if p.eta > 0.0 { 1000.0 * h } else { 5.0 * h };
        let lo = ((c - reach - two_theta_min_deg) / p.step_deg)
            .floor()
            .max(0.0) as usize;
        let hi = (((c + reach - two_theta_min_deg) / p.step_deg)
            .ceil()
            .max(0.0) as usize)
            .min(n);
        for i in lo..hi {
            y[i] += area * pseudo_voigt(x[i] - c, h, p.eta);
        }
    }
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stick(two_theta: f64, d: f64) -> Peak {
        Peak {
            two_theta_deg: two_theta,
            intensity: 100.0,
            d_ang: d,
            hkls: vec![vec![1, 1, 1]],
            multiplicity: vec![8],
        }
    }

    #[test]
    fn area_width_and_doublet() {
        let lam: f64 = 1.54184;
        let d = 2.0872;
        let tt = 2.0 * (lam / (2.0 * d)).asin().to_degrees();
        let p = ProfileParams {
            eta: 0.0,
            step_deg: 0.001,
            ..ProfileParams::default()
        };
        let (x, y) = broaden(&[stick(tt, d)], tt - 3.0, tt + 3.0, &p, None).unwrap();
        let area: f64 = y.iter().sum::<f64>() * p.step_deg;
        assert!((area - 100.0).abs() < 1e-3, "{area}");
        let ymax = y.iter().cloned().fold(0.0, f64::max);
        let above: Vec<f64> = x
            .iter()
            .zip(&y)
            .filter(|(_, v)| **v >= ymax / 2.0)
            .map(|(x, _)| *x)
            .collect();
        let fwhm = above[above.len() - 1] - above[0];
        let want = caglioti_fwhm_deg(&p, tt);
        assert!((fwhm - want).abs() < 2.0 * p.step_deg, "{fwhm} vs {want}");
        // Lorentzian tails: most of the area within ±10°.
        let pl = ProfileParams { eta: 1.0, ..p };
        let (_, yl) = broaden(&[stick(tt, d)], tt - 10.0, tt + 10.0, &pl, None).unwrap();
        let al: f64 = yl.iter().sum::<f64>() * p.step_deg;
        assert!((al - 100.0).abs() < 0.5, "{al}");
        // Kα doublet: the Kα2 maximum where Bragg's law puts it, half as high.
        let (l1, l2, r) = k_alpha_doublet("CuKa").unwrap();
        assert_eq!((l1, l2, r), (1.54056, 1.54439, 0.5));
        let (x, y) = broaden(&[stick(tt, d)], 40.0, 46.0, &p, Some((l1, l2, r))).unwrap();
        let t2 = 2.0 * (l2 / (2.0 * d)).asin().to_degrees();
        let t1 = 2.0 * (l1 / (2.0 * d)).asin().to_degrees();
        let at = |t: f64| y[((t - 40.0) / p.step_deg).round() as usize];
        assert!(
            (at(t2) / at(t1) - 0.5).abs() < 0.05,
            "{} {}",
            at(t1),
            at(t2)
        );
        let imax = y
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!((x[imax] - t1).abs() < 2.0 * p.step_deg);
        assert!(k_alpha_doublet("MoKa1").is_none());
        assert!(broaden(&[], 10.0, 5.0, &p, None).is_err());
    }
}
