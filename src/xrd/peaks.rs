//! Measured-pattern analysis on (2θ, I) arrays: SNIP background, peak
//! search, and pseudo-Voigt peak fitting with uncertainties.

use serde::Serialize;

use super::XrdError;

use crate::numeric::lineshape::pseudo_voigt;
use crate::numeric::lm::{LmOptions, LmParams, minimize};

/// SNIP background (Ryan et al., Nucl. Instrum. Methods B 34 (1988) 396;
/// Morháč et al., NIM A 401 (1997) 113): on v = ln(ln(√(y+1)+1)+1), each
/// point is clipped to the mean of its neighbours `p` points away for
/// p = 1..=`half_width_points` (decreasing window as Morháč recommends),
/// then transformed back. Wider windows follow broader backgrounds.
pub fn snip_background(y: &[f64], half_width_points: usize) -> Vec<f64> {
    let n = y.len();
    let lls = |v: f64| ((v.max(0.0) + 1.0).sqrt() + 1.0).ln().ln_1p();
    let inv = |v: f64| {
        let a = v.exp_m1().exp() - 1.0;
        a * a - 1.0
    };
    let mut v: Vec<f64> = y.iter().map(|&x| lls(x)).collect();
    let mut w = v.clone();
    let m = half_width_points.min(n / 2);
    for p in (1..=m).rev() {
        for i in p..n.saturating_sub(p) {
            let a = 0.5 * (v[i - p] + v[i + p]);
            w[i] = v[i].min(a);
        }
        v[p..n.saturating_sub(p)].copy_from_slice(&w[p..n.saturating_sub(p)]);
    }
    // Floating-point round trip can leave the background a hair above y.
    v.iter()
        .zip(y)
        .map(|(&b, &yy)| inv(b).min(yy.max(0.0)))
        .collect()
}

/// Sonneveld–Visser background (J. Appl. Cryst. 8 (1975) 1): the pattern
/// is sampled every `granularity` points; in each of `iterations` passes,
/// a sample above the mean of its two neighbours is lowered to that mean,
/// so peaks are cut and the smooth background stays; the samples are then
/// interpolated back linearly (and kept ≤ the data).
pub fn sonneveld_visser(y: &[f64], granularity: usize, iterations: usize) -> Vec<f64> {
    let n = y.len();
    let g = granularity.max(1);
    if n < 3 {
        return y.to_vec();
    }
    // Sample positions (the last point always included).
    let mut pos: Vec<usize> = (0..n).step_by(g).collect();
    if pos.last() != Some(&(n - 1)) {
        pos.push(n - 1);
    }
    let mut v: Vec<f64> = pos.iter().map(|&i| y[i]).collect();
    let m = v.len();
    for _ in 0..iterations {
        let mut changed = false;
        for i in 1..m.saturating_sub(1) {
            let mean = 0.5 * (v[i - 1] + v[i + 1]);
            if v[i] > mean {
                v[i] = mean;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = vec![0.0; n];
    for w in 0..m.saturating_sub(1) {
        let (a, b) = (pos[w], pos[w + 1]);
        for (i, o) in out.iter_mut().enumerate().take(b + 1).skip(a) {
            let t = (i - a) as f64 / (b - a).max(1) as f64;
            *o = v[w] + t * (v[w + 1] - v[w]);
        }
    }
    out.iter().zip(y).map(|(&b, &yy)| b.min(yy)).collect()
}

/// How the background under the peaks is estimated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum BackgroundMethod {
    /// SNIP ([`snip_background`]) with the window as its half-width.
    #[default]
    Snip,
    /// Sonneveld–Visser ([`sonneveld_visser`]) sampled every half window,
    /// 1000 passes at most.
    #[serde(alias = "sv")]
    #[value(alias = "sv")]
    SonneveldVisser,
}

/// The background of (2θ, y) by `method` with `window_deg` (°2θ).
pub fn background(
    two_theta: &[f64],
    y: &[f64],
    method: BackgroundMethod,
    window_deg: f64,
) -> Vec<f64> {
    let n = two_theta.len().min(y.len());
    if n < 2 {
        return y.to_vec();
    }
    let step = (two_theta[n - 1] - two_theta[0]) / (n - 1) as f64;
    let points = |w: f64| {
        if step > 0.0 {
            (w / step).ceil().max(1.0) as usize
        } else {
            1
        }
    };
    match method {
        BackgroundMethod::Snip => {
            let p = points(window_deg);
            if p <= MAX_SNIP_POINTS {
                snip_background(&y[..n], p)
            } else {
                coarse_snip(&y[..n], p)
            }
        }
        BackgroundMethod::SonneveldVisser => {
            sonneveld_visser(&y[..n], points(0.5 * window_deg), 1000)
        }
    }
}

/// SNIP windows wider than this many points run on block means instead
/// ([`coarse_snip`]): SNIP costs points × window, so an oversampled
/// pattern (10⁶ points, 10⁴ per window) would take minutes.
pub const MAX_SNIP_POINTS: usize = 256;

/// SNIP on means of blocks of `k` points (k chosen so the window is
/// ≤ [`MAX_SNIP_POINTS`] blocks), interpolated back linearly and kept ≤
/// the data: a background smooth over the window loses nothing to blocks
/// far narrower than it. O(n) for any window.
fn coarse_snip(y: &[f64], half_width_points: usize) -> Vec<f64> {
    let n = y.len();
    let k = half_width_points.div_ceil(MAX_SNIP_POINTS).max(1);
    let means: Vec<f64> = y
        .chunks(k)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let coarse = snip_background(&means, half_width_points.div_ceil(k));
    // Block b is centred on point b·k + (len−1)/2.
    let centre = |b: usize| (b * k) as f64 + (y.len().min((b + 1) * k) - b * k - 1) as f64 / 2.0;
    let m = coarse.len();
    (0..n)
        .map(|i| {
            let t = i as f64;
            let b = ((t - (k as f64 - 1.0) / 2.0) / k as f64).floor();
            let v = if b < 0.0 || m < 2 {
                coarse[0]
            } else {
                let b = (b as usize).min(m - 2);
                let (c0, c1) = (centre(b), centre(b + 1));
                let f = ((t - c0) / (c1 - c0)).clamp(0.0, 1.0);
                coarse[b] + f * (coarse[b + 1] - coarse[b])
            };
            v.min(y[i].max(0.0))
        })
        .collect()
}

/// A peak found in a pattern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundPeak {
    #[serde(rename = "two_theta")]
    pub two_theta_deg: f64,
    /// Height above the background.
    pub height: f64,
    pub index: usize,
}

/// Robust noise level of `y`: 1.4826·MAD of first differences / √2.
pub fn noise_sigma(y: &[f64]) -> f64 {
    let mut d: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    d.select_nth_unstable_by(mid, f64::total_cmp);
    1.4826 * d[mid] / std::f64::consts::SQRT_2
}

/// Noise level along `y`: [`noise_sigma`] in blocks of ~100 points, so a
/// peak on a high background (where counting noise is larger) must rise
/// above the noise there, not above the pattern's quietest part. Never
/// below half the whole pattern's level.
pub fn local_noise(y: &[f64]) -> Vec<f64> {
    const BLOCK: usize = 101;
    let n = y.len();
    let floor = 0.5 * noise_sigma(y);
    if n < 2 * BLOCK {
        return vec![noise_sigma(y); n];
    }
    let nb = n / BLOCK;
    let sig: Vec<f64> = (0..nb)
        .map(|b| {
            let hi = if b + 1 == nb { n } else { (b + 1) * BLOCK };
            noise_sigma(&y[b * BLOCK..hi]).max(floor)
        })
        .collect();
    (0..n).map(|i| sig[(i / BLOCK).min(nb - 1)]).collect()
}

/// Local maxima of the background-subtracted pattern `net` (smoothed over
/// ±`smooth` points) higher than `min_snr` local noise levels
/// ([`local_noise`]) and `min_rel` of the strongest, at least `min_sep_deg`
/// apart (the higher one kept), and no wider at half height than
/// `max_fwhm_deg`: anything broader is background the SNIP window could
/// not follow (an amorphous hump), not a Bragg peak.
pub fn find_peaks(
    two_theta: &[f64],
    net: &[f64],
    smooth: usize,
    min_snr: f64,
    min_rel: f64,
    min_sep_deg: f64,
    max_fwhm_deg: f64,
) -> Vec<FoundPeak> {
    find_peaks_within(
        two_theta,
        net,
        smooth,
        [min_snr, min_rel, min_sep_deg, max_fwhm_deg],
        false,
    )
}

/// Total order on f64 as an integer key (for a sorted map of positions).
fn order_key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    b ^ (((b >> 63) as u64) >> 1) as i64
}

/// [`find_peaks`]; with `by_width`, two maxima also count as one peak when
/// they are closer than half the FWHM of either (measured at half its
/// height): what the pattern's resolution cannot separate, such as noise
/// wiggles on the flanks of a peak sampled far finer than its width.
/// O(n log n): each width scan stops at `max_fwhm_deg`, and the spacing
/// check looks only at kept peaks within reach in a sorted map.
fn find_peaks_within(
    two_theta: &[f64],
    net: &[f64],
    smooth: usize,
    [min_snr, min_rel, min_sep_deg, max_fwhm_deg]: [f64; 4],
    by_width: bool,
) -> Vec<FoundPeak> {
    let n = net.len().min(two_theta.len());
    if n < 3 {
        return Vec::new();
    }
    let s: Vec<f64> = (0..n)
        .map(|i| {
            let (lo, hi) = (i.saturating_sub(smooth), (i + smooth + 1).min(n));
            net[lo..hi].iter().sum::<f64>() / (hi - lo) as f64
        })
        .collect();
    let sigma = local_noise(&net[..n]);
    let top = s.iter().cloned().fold(0.0, f64::max);
    // Width at half height; a scan that passes `max_fwhm_deg` on one side
    // already decides (too wide), so it stops there.
    let half_width = |i: usize| {
        let h = 0.5 * s[i];
        let t = two_theta[i];
        let beyond = |j: usize| (two_theta[j] - t).abs() > max_fwhm_deg;
        let l = (0..i).rev().find(|&j| s[j] < h || beyond(j)).unwrap_or(0);
        let r = (i + 1..n).find(|&j| s[j] < h || beyond(j)).unwrap_or(n - 1);
        two_theta[r] - two_theta[l]
    };
    let mut cand: Vec<(FoundPeak, f64)> = (1..n - 1)
        .filter(|&i| {
            s[i] > (min_snr * sigma[i]).max(min_rel * top) && s[i] >= s[i - 1] && s[i] > s[i + 1]
        })
        .filter_map(|i| {
            let w = half_width(i);
            (w <= max_fwhm_deg).then_some((
                FoundPeak {
                    two_theta_deg: two_theta[i],
                    height: s[i],
                    index: i,
                },
                w,
            ))
        })
        .collect();
    cand.sort_by(|a, b| b.0.height.total_cmp(&a.0.height));
    let reach = if by_width {
        min_sep_deg.max(0.5 * max_fwhm_deg)
    } else {
        min_sep_deg
    };
    let mut kept: std::collections::BTreeMap<i64, (FoundPeak, f64)> = Default::default();
    for (c, w) in cand {
        let t = c.two_theta_deg;
        let clash = kept
            .range(order_key(t - reach)..=order_key(t + reach))
            .any(|(_, (k, wk))| {
                let d = (k.two_theta_deg - t).abs();
                d < min_sep_deg || (by_width && d < 0.5 * w.max(*wk))
            });
        if !clash {
            kept.insert(order_key(t), (c, w));
        }
    }
    kept.into_values().map(|(p, _)| p).collect()
}

/// The background and the peaks of a measured pattern, as `carto xrd
/// peaks` and the XRD view find them: the background by `method` with
/// `bkg_window_deg`, then [`find_peaks`] on the rest (smoothed over ±1
/// point, ≥ `min_snr` local noise levels and 0.5 % of the strongest, ≥ 3
/// steps and half a FWHM apart ([`find_peaks_within`]), no wider than the
/// background window). So the number of peaks is bounded by the pattern's
/// resolution: at most one per half peak width, however fine the sampling.
pub fn search(
    two_theta: &[f64],
    y: &[f64],
    method: BackgroundMethod,
    bkg_window_deg: f64,
    min_snr: f64,
) -> (Vec<f64>, Vec<FoundPeak>) {
    let n = two_theta.len().min(y.len());
    if n < 2 {
        return (y.to_vec(), Vec::new());
    }
    let step = (two_theta[n - 1] - two_theta[0]) / (n - 1) as f64;
    let bkg = background(two_theta, y, method, bkg_window_deg);
    let net: Vec<f64> = y.iter().zip(&bkg).map(|(a, b)| a - b).collect();
    let found = find_peaks_within(
        two_theta,
        &net,
        1,
        [min_snr, 0.005, 3.0 * step, bkg_window_deg],
        true,
    );
    (bkg, found)
}

/// A fitted pseudo-Voigt peak (value and standard error).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakFit {
    #[serde(rename = "center")]
    pub center_deg: f64,
    #[serde(rename = "center_err")]
    pub center_err_deg: f64,
    #[serde(rename = "fwhm")]
    pub fwhm_deg: f64,
    #[serde(rename = "fwhm_err")]
    pub fwhm_err_deg: f64,
    pub eta: f64,
    pub eta_err: f64,
    pub area: f64,
    pub area_err: f64,
    /// Linear background under the peak: a + b·(2θ − center₀).
    pub bkg: [f64; 2],
    pub chi2_reduced: f64,
}

/// Fit one pseudo-Voigt + linear background to the points within
/// `half_window_deg` of `center_guess` (Levenberg–Marquardt; errors from
/// the covariance scaled by the reduced χ², as lmfit). `sigma` weights the
/// residuals when given (counting statistics: √I).
pub fn fit_peak(
    two_theta: &[f64],
    y: &[f64],
    sigma: Option<&[f64]>,
    center_guess: f64,
    half_window_deg: f64,
) -> Result<PeakFit, XrdError> {
    let idx: Vec<usize> = (0..two_theta.len().min(y.len()))
        .filter(|&i| (two_theta[i] - center_guess).abs() <= half_window_deg)
        .collect();
    if idx.len() < 8 {
        return Err(XrdError::TooFewPeakPoints {
            n: idx.len(),
            half_window_deg,
            center_deg: center_guess,
        });
    }
    let x: Vec<f64> = idx.iter().map(|&i| two_theta[i] - center_guess).collect();
    let yy: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let w: Vec<f64> = idx
        .iter()
        .map(|&i| match sigma {
            Some(s) => 1.0 / s[i].max(1e-12),
            None => 1.0,
        })
        .collect();
    let (ymin, ymax) = yy
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let step = (x[x.len() - 1] - x[0]) / (x.len() - 1) as f64;
    let above: Vec<f64> = x
        .iter()
        .zip(&yy)
        .filter(|(_, v)| **v - ymin > 0.5 * (ymax - ymin))
        .map(|(x, _)| *x)
        .collect();
    let fwhm0 = above
        .last()
        .zip(above.first())
        .map_or(4.0 * step, |(b, a)| (b - a).max(2.0 * step));
    let area0 = (ymax - ymin) * fwhm0 * 1.2;
    let params = [
        LmParams {
            value: 0.0,
            min: -half_window_deg,
            max: half_window_deg,
            vary: true,
        },
        LmParams {
            value: fwhm0,
            min: step * 0.5,
            max: 2.0 * half_window_deg,
            vary: true,
        },
        LmParams {
            value: 0.5,
            min: 0.0,
            max: 1.0,
            vary: true,
        },
        // A peak has a positive area.
        LmParams {
            value: area0.max(f64::MIN_POSITIVE),
            min: 0.0,
            max: f64::INFINITY,
            vary: true,
        },
        LmParams::new(ymin),
        LmParams::new(0.0),
    ];
    let res = minimize(
        |p: &[f64], out: &mut [f64]| {
            for (i, o) in out.iter_mut().enumerate() {
                let model = p[3] * pseudo_voigt(x[i] - p[0], p[1], p[2]) + p[4] + p[5] * x[i];
                *o = (yy[i] - model) * w[i];
            }
        },
        &params,
        x.len(),
        &LmOptions::default(),
    )
    .map_err(|error| XrdError::PeakFit {
        center_deg: center_guess,
        error,
    })?;
    let v = &res.values;
    let e = res.stderr.clone().unwrap_or_else(|| vec![f64::NAN; 6]);
    let chi2: f64 = res.residual.iter().map(|r| r * r).sum();
    Ok(PeakFit {
        center_deg: center_guess + v[0],
        center_err_deg: e[0],
        fwhm_deg: v[1],
        fwhm_err_deg: e[1],
        eta: v[2],
        eta_err: e[2],
        area: v[3],
        area_err: e[3],
        bkg: [v[4], v[5]],
        chi2_reduced: chi2 / (x.len() as f64 - 6.0).max(1.0),
    })
}

/// Why a converged fit is not a peak, or None when it is one: no finite
/// uncertainty (a singular covariance: a parameter stuck at a bound), an
/// uncertainty larger than the fit window, an area not above zero within
/// its error, or a width or centre run to the window's limits (background,
/// not a peak).
pub fn degenerate_fit(f: &PeakFit, center_guess_deg: f64, half_window_deg: f64) -> Option<String> {
    let errs = [
        ("2θ", f.center_err_deg),
        ("FWHM", f.fwhm_err_deg),
        ("area", f.area_err),
    ];
    if let Some((name, _)) = errs.iter().find(|(_, e)| !e.is_finite()) {
        return Some(format!(
            "no uncertainty for the {name}: the fit's covariance is singular \
             (a parameter sits at its bound)"
        ));
    }
    if f.center_err_deg > half_window_deg || f.fwhm_err_deg > 2.0 * half_window_deg {
        return Some(format!(
            "absurd uncertainty (2θ ± {:.3e}°, FWHM ± {:.3e}°) for a ±{half_window_deg}° window",
            f.center_err_deg, f.fwhm_err_deg
        ));
    }
    if !(f.area > 0.0 && f.area > f.area_err) {
        return Some(format!(
            "collapsed to zero area ({:.3e} ± {:.3e})",
            f.area, f.area_err
        ));
    }
    if f.fwhm_deg >= 0.99 * 2.0 * half_window_deg {
        return Some(format!(
            "FWHM {:.4}° as wide as the fit window: background, not a peak",
            f.fwhm_deg
        ));
    }
    if (f.center_deg - center_guess_deg).abs() >= 0.99 * half_window_deg {
        return Some(format!(
            "the centre ran to the edge of the ±{half_window_deg}° window"
        ));
    }
    None
}

/// Fit every found peak ([`fit_peak`], `half_window_deg` around each) and
/// keep one good fit per real peak; one entry per found peak, in order.
/// Degenerate fits ([`degenerate_fit`]) are dropped with their reason, and
/// a fit whose centre lands within half a FWHM of a better-founded one
/// (a higher found peak) is the same peak twice: dropped, naming it.
/// `cancelled` is polled between fits.
pub fn fit_peaks(
    two_theta: &[f64],
    y: &[f64],
    sigma: Option<&[f64]>,
    found: &[FoundPeak],
    half_window_deg: f64,
    cancelled: impl Fn() -> bool,
) -> Vec<Result<PeakFit, String>> {
    let mut out: Vec<Result<PeakFit, String>> = found
        .iter()
        .map(|p| {
            if cancelled() {
                return Err("cancelled".to_string());
            }
            let f = fit_peak(two_theta, y, sigma, p.two_theta_deg, half_window_deg)
                .map_err(|e| e.to_string())?;
            match degenerate_fit(&f, p.two_theta_deg, half_window_deg) {
                Some(why) => Err(format!("dropped: {why}")),
                None => Ok(f),
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| found[b].height.total_cmp(&found[a].height));
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        let Some(Ok(f)) = out.get(i) else { continue };
        let same = kept.iter().copied().find(|&k| {
            matches!(out.get(k), Some(Ok(g))
                if (g.center_deg - f.center_deg).abs() < 0.5 * g.fwhm_deg.max(f.fwhm_deg))
        });
        match same {
            Some(k) => {
                let (c, ck) = (
                    f.center_deg,
                    out[k].as_ref().map_or(f64::NAN, |g| g.center_deg),
                );
                out[i] = Err(format!(
                    "dropped: same peak as the fit at {ck:.4}° (centres {:.4}° apart, \
                     within half a FWHM)",
                    (c - ck).abs()
                ));
            }
            None => kept.push(i),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sonneveld_visser_cuts_peaks_and_keeps_a_smooth_background() {
        let x: Vec<f64> = (0..2000).map(|i| 10.0 + 0.02 * i as f64).collect();
        let base: Vec<f64> = x
            .iter()
            .map(|t| 100.0 + 2.0 * (t - 30.0).powi(2) / 10.0)
            .collect();
        let y: Vec<f64> = x
            .iter()
            .zip(&base)
            .map(|(t, b)| b + 500.0 * (-((t - 25.0) / 0.1).powi(2)).exp())
            .collect();
        let bkg = background(&x, &y, BackgroundMethod::SonneveldVisser, 1.0);
        // Under the peak the background stays near the base, not the peak.
        let i = 750; // 2θ = 25°
        assert!((bkg[i] - base[i]).abs() < 5.0, "{} vs {}", bkg[i], base[i]);
        // Away from it, within a fraction of a count of the smooth base.
        for i in [100, 1500, 1900] {
            assert!(
                (bkg[i] - base[i]).abs() < 1.0,
                "{i}: {} vs {}",
                bkg[i],
                base[i]
            );
        }
    }

    /// A synthetic pattern: two peaks on a curved background with Poisson-like noise.
    fn pattern() -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..3000).map(|i| 10.0 + 0.02 * i as f64).collect();
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let y = x
            .iter()
            .map(|&t| {
                let bkg = 200.0 + 3000.0 / t;
                let peaks = 5000.0 * pseudo_voigt(t - 30.0, 0.15, 0.4)
                    + 1500.0 * pseudo_voigt(t - 45.3, 0.2, 0.6);
                let clean = bkg + peaks;
                clean + 2.0 * clean.sqrt() * rnd()
            })
            .collect();
        (x, y)
    }

    #[test]
    fn background_peaks_and_fit() {
        let (x, y) = pattern();
        let bkg = snip_background(&y, 60);
        // Away from peaks the background follows the true one within noise.
        for &t in &[15.0, 38.0, 60.0] {
            let i = ((t - 10.0) / 0.02) as usize;
            let truth = 200.0 + 3000.0 / t;
            assert!(
                (bkg[i] - truth).abs() < 0.08 * truth,
                "{t}: {} vs {truth}",
                bkg[i]
            );
        }
        let net: Vec<f64> = y.iter().zip(&bkg).map(|(a, b)| a - b).collect();
        let found = find_peaks(&x, &net, 2, 6.0, 0.02, 0.3, 1.0);
        let pos: Vec<f64> = found.iter().map(|p| p.two_theta_deg).collect();
        assert_eq!(found.len(), 2, "{pos:?}");
        assert!(
            (pos[0] - 30.0).abs() < 0.05 && (pos[1] - 45.3).abs() < 0.05,
            "{pos:?}"
        );
        let sig: Vec<f64> = y.iter().map(|v| v.max(1.0).sqrt()).collect();
        let f = fit_peak(&x, &y, Some(&sig), pos[0], 1.5).expect("fit");
        assert!(
            (f.center_deg - 30.0).abs() < 3.0 * f.center_err_deg + 1e-3,
            "{f:?}"
        );
        assert!(
            (f.fwhm_deg - 0.15).abs() < 3.0 * f.fwhm_err_deg + 2e-3,
            "{f:?}"
        );
        assert!((f.area - 5000.0).abs() < 0.05 * 5000.0, "{f:?}");
        assert!(f.center_err_deg > 0.0 && f.center_err_deg < 0.01, "{f:?}");
        assert!(f.chi2_reduced < 3.0, "{f:?}");
        assert!(fit_peak(&x, &y, None, 5.0, 0.1).is_err());
    }
}
