//! Quantitative phase analysis by full-pattern summation, as powdR's `fps`
//! (Butler & Hillier, Comput. Geosci. 147 (2021) 104662; Chipera & Bish,
//! J. Appl. Cryst. 35 (2002) 744 for FULLPAT): the measured pattern is fitted
//! as a non-negative sum of measured reference patterns (each allowed a small
//! 2θ shift), and the scale factors become weight fractions through the
//! references' reference intensity ratios (RIR):
//! wᵢ ∝ cᵢ/RIRᵢ, with an internal standard wᵢ = w_std·(cᵢ/RIRᵢ)/(c_std/RIR_std).

use serde::Serialize;

use super::XrdError;

use crate::numeric::kernels::dot_sequential;
use crate::numeric::nnls::nnls;

/// One reference pattern of a library.
#[derive(Debug, Clone)]
pub struct Reference {
    pub id: String,
    pub name: String,
    pub rir: f64,
    pub two_theta_deg: Vec<f64>,
    pub intensity: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantOptions {
    /// Largest 2θ shift (°) of each reference.
    pub max_shift_deg: f64,
    /// Internal standard: (index into the references, its weight %).
    pub standard: Option<(usize, f64)>,
    /// Align the sample to the internal standard's pattern within ± this (°).
    pub align_deg: f64,
    /// Phases below this weight % in a first fit are removed and the rest refitted.
    pub min_weight_percent: f64,
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions {
            max_shift_deg: 0.05,
            standard: None,
            align_deg: 0.3,
            min_weight_percent: 0.0,
        }
    }
}

/// One phase of the result.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct QuantPhase {
    pub id: String,
    pub name: String,
    /// Scale factor of the reference pattern.
    pub scale: f64,
    pub shift_deg: f64,
    pub weight_percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuantResult {
    pub phases: Vec<QuantPhase>,
    /// Shift applied to the sample (alignment to the standard), °.
    pub sample_shift_deg: f64,
    /// Weighted-profile R factor of the fit (%).
    pub rwp_percent: f64,
    #[serde(rename = "two_theta")]
    pub two_theta_deg: Vec<f64>,
    pub measured: Vec<f64>,
    pub fitted: Vec<f64>,
    /// Each phase's contribution (same order as `phases`).
    pub contributions: Vec<Vec<f64>>,
}

impl QuantResult {
    /// Σ weight % of the phases: 100 without an internal standard; with
    /// one, 100 minus it is the part no reference accounts for (amorphous
    /// or missing phases when positive; an over-estimate when negative).
    pub fn total_weight_percent(&self) -> f64 {
        self.phases.iter().map(|p| p.weight_percent).sum()
    }
}

/// Linear interpolation of (x, y) at `xi` shifted by `shift` (0 outside).
fn resample(x: &[f64], y: &[f64], xi: &[f64], shift: f64) -> Vec<f64> {
    let n = x.len().min(y.len());
    let mut out = Vec::with_capacity(xi.len());
    let mut j = 0;
    for &t0 in xi {
        let t = t0 - shift;
        if n < 2 || t < x[0] || t > x[n - 1] {
            out.push(0.0);
            continue;
        }
        while j + 2 < n && x[j + 1] < t {
            j += 1;
        }
        while j > 0 && x[j] > t {
            j -= 1;
        }
        let (x0, x1) = (x[j], x[j + 1]);
        let f = if x1 > x0 { (t - x0) / (x1 - x0) } else { 0.0 };
        out.push(y[j] * (1.0 - f) + y[j + 1] * f);
    }
    out
}

/// Fit `y(two_theta)` with the references (full-pattern summation).
pub fn quantify(
    two_theta: &[f64],
    y: &[f64],
    refs: &[Reference],
    o: &QuantOptions,
) -> Result<QuantResult, XrdError> {
    let n = two_theta.len().min(y.len());
    if n < 10 {
        return Err(XrdError::TooFewPoints {
            n,
            purpose: "to quantify",
        });
    }
    if refs.is_empty() {
        return Err(XrdError::EmptyLibrary);
    }
    // The fitted range: where every reference has data.
    let lo = refs
        .iter()
        .filter_map(|r| r.two_theta_deg.first())
        .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let hi = refs
        .iter()
        .filter_map(|r| r.two_theta_deg.last())
        .fold(f64::INFINITY, |a, &b| a.min(b));
    let m = o.max_shift_deg.abs() + o.align_deg.abs();
    let keep: Vec<usize> = (0..n)
        .filter(|&i| two_theta[i] >= lo + m && two_theta[i] <= hi - m)
        .collect();
    if keep.len() < 10 {
        return Err(XrdError::NoOverlap {
            pattern_lo_deg: two_theta[0],
            pattern_hi_deg: two_theta[n - 1],
            library_lo_deg: lo,
            library_hi_deg: hi,
        });
    }
    let x: Vec<f64> = keep.iter().map(|&i| two_theta[i]).collect();
    let mut yy: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
    // Align the sample to the internal standard.
    let mut sample_shift = 0.0;
    if let Some((si, _)) = o.standard
        && o.align_deg > 0.0
    {
        let s = refs.get(si).ok_or(XrdError::StandardIndex)?;
        let std_y = resample(&s.two_theta_deg, &s.intensity, &x, 0.0);
        let steps = 60;
        let mut best = (f64::NEG_INFINITY, 0.0);
        for k in -steps..=steps {
            let d = o.align_deg * k as f64 / steps as f64;
            let shifted = resample(two_theta, y, &x, d);
            let c = dot_sequential(&shifted, &std_y)
                / dot_sequential(&shifted, &shifted).sqrt().max(1e-300);
            if c > best.0 {
                best = (c, d);
            }
        }
        sample_shift = best.1;
        yy = resample(two_theta, y, &x, sample_shift);
    }
    let mut shifts = vec![0.0; refs.len()];
    let mut cols: Vec<Vec<f64>> = refs
        .iter()
        .map(|r| resample(&r.two_theta_deg, &r.intensity, &x, 0.0))
        .collect();
    // Rows weighted by 1/√y (counting statistics): the fit minimises Rwp,
    // powdR's default objective.
    let sw: Vec<f64> = yy.iter().map(|v| 1.0 / v.abs().max(1.0).sqrt()).collect();
    let wfit = |cols: &[Vec<f64>]| -> Vec<f64> {
        let wc: Vec<Vec<f64>> = cols
            .iter()
            .map(|c| c.iter().zip(&sw).map(|(a, w)| a * w).collect())
            .collect();
        let wy: Vec<f64> = yy.iter().zip(&sw).map(|(a, w)| a * w).collect();
        nnls(&wc, &wy)
    };
    let mut c = wfit(&cols);
    // Refine each used reference's shift (others held), then refit.
    if o.max_shift_deg > 0.0 {
        for _pass in 0..2 {
            let fitted: Vec<f64> = (0..x.len())
                .map(|i| cols.iter().zip(&c).map(|(col, ci)| col[i] * ci).sum())
                .collect();
            for k in 0..refs.len() {
                if c[k] <= 0.0 {
                    continue;
                }
                let others: Vec<f64> = fitted
                    .iter()
                    .zip(&cols[k])
                    .map(|(f, v)| f - c[k] * v)
                    .collect();
                let mut best = (f64::INFINITY, shifts[k], cols[k].clone());
                for step in -5..=5 {
                    let d = o.max_shift_deg * step as f64 / 5.0;
                    let col = resample(&refs[k].two_theta_deg, &refs[k].intensity, &x, d);
                    let r: f64 = (0..x.len())
                        .map(|i| ((yy[i] - others[i] - c[k] * col[i]) * sw[i]).powi(2))
                        .sum();
                    if r < best.0 {
                        best = (r, d, col);
                    }
                }
                shifts[k] = best.1;
                cols[k] = best.2;
            }
            c = wfit(&cols);
        }
    }
    // Drop trace phases (below `min_weight_percent` of the scale-weighted
    // total) and refit without them: spurious minor references otherwise
    // soak up misfit and background.
    if o.min_weight_percent > 0.0 {
        let conc: Vec<f64> = refs
            .iter()
            .zip(&c)
            .map(|(r, &ci)| if r.rir > 0.0 { ci / r.rir } else { 0.0 })
            .collect();
        let total: f64 = conc.iter().sum();
        if total > 0.0 {
            for k in 0..refs.len() {
                let keep = o.standard.is_some_and(|(si, _)| si == k);
                if !keep && conc[k] / total * 100.0 < o.min_weight_percent {
                    cols[k].iter_mut().for_each(|v| *v = 0.0);
                }
            }
            c = wfit(&cols);
        }
    }
    let fitted: Vec<f64> = (0..x.len())
        .map(|i| cols.iter().zip(&c).map(|(col, ci)| col[i] * ci).sum())
        .collect();
    // Rwp with counting-statistics weights 1/y.
    let (mut num, mut den) = (0.0, 0.0);
    for (o_, f) in yy.iter().zip(&fitted) {
        let w = 1.0 / o_.abs().max(1.0);
        num += w * (o_ - f).powi(2);
        den += w * o_ * o_;
    }
    let rwp = 100.0 * (num / den.max(1e-300)).sqrt();
    let conc: Vec<f64> = refs
        .iter()
        .zip(&c)
        .map(|(r, &ci)| if r.rir > 0.0 { ci / r.rir } else { 0.0 })
        .collect();
    let weights: Vec<f64> = match o.standard {
        Some((si, wstd)) => {
            if conc[si] <= 0.0 {
                return Err(XrdError::StandardNotFound(refs[si].id.clone()));
            }
            conc.iter().map(|v| wstd * v / conc[si]).collect()
        }
        None => {
            let total: f64 = conc.iter().sum();
            if total <= 0.0 {
                return Err(XrdError::NoFit);
            }
            conc.iter().map(|v| 100.0 * v / total).collect()
        }
    };
    let mut phases = Vec::new();
    let mut contributions = Vec::new();
    for k in 0..refs.len() {
        if c[k] > 0.0 {
            phases.push(QuantPhase {
                id: refs[k].id.clone(),
                name: refs[k].name.clone(),
                scale: c[k],
                shift_deg: shifts[k],
                weight_percent: weights[k],
            });
            contributions.push(cols[k].iter().map(|v| v * c[k]).collect());
        }
    }
    Ok(QuantResult {
        phases,
        sample_shift_deg: sample_shift,
        rwp_percent: rwp,
        two_theta_deg: x,
        measured: yy,
        fitted,
        contributions,
    })
}

/// A reference library folder: `phases.csv` (`phase_id,phase_name,rir`) and
/// one pattern file per phase id (`ID.xy`, or any format Carto reads with
/// the id as its stem). Errors name the file and line.
pub fn load_library(dir: &std::path::Path) -> Result<Vec<Reference>, XrdError> {
    let csv_path = dir.join("phases.csv");
    let bytes = crate::io::read_input(&csv_path)
        .map_err(|e| XrdError::file(&csv_path, format_args!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        XrdError::file(
            &csv_path,
            format_args!("cannot read: not UTF-8 text: {}", e.utf8_error()),
        )
    })?;
    let mut lines = crate::io::split_lines(&text).enumerate();
    let header = lines
        .next()
        .map(|(_, l)| {
            l.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (ci, cn, cr) = match (col("phase_id"), col("phase_name"), col("rir")) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => {
            return Err(XrdError::Line {
                path: csv_path.display().to_string(),
                line: 1,
                reason: "the header must name phase_id, phase_name and rir".into(),
            });
        }
    };
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| XrdError::file(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = |c: usize| f.get(c).copied().unwrap_or("");
        let id = at(ci);
        let line_err = |reason: String| XrdError::Line {
            path: csv_path.display().to_string(),
            line: i + 1,
            reason,
        };
        let rir: f64 = at(cr)
            .parse()
            .map_err(|_| line_err(format!("rir '{}' of {id} is not a number", at(cr))))?;
        if !(rir.is_finite() && rir > 0.0) {
            return Err(line_err(format!("rir of {id} must be > 0")));
        }
        let Some(path) = files
            .iter()
            .find(|p| p.file_stem().is_some_and(|s| s.to_string_lossy() == id) && p.is_file())
        else {
            return Err(line_err(format!(
                "no pattern file for phase {id} in {}",
                dir.display()
            )));
        };
        let p = crate::io::xrd::read_pattern(path)?;
        out.push(Reference {
            id: id.to_string(),
            name: at(cn).to_string(),
            rir,
            two_theta_deg: p.two_theta_deg,
            intensity: p.intensity,
        });
    }
    if out.is_empty() {
        return Err(XrdError::file(&csv_path, "no phases"));
    }
    Ok(out)
}
