//! Quantitative phase analysis by full-pattern summation, as powdR's `fps`
//! (Butler & Hillier, Comput. Geosci. 147 (2021) 104662; Chipera & Bish,
//! J. Appl. Cryst. 35 (2002) 744 for FULLPAT): the measured pattern is fitted
//! as a non-negative sum of measured reference patterns (each allowed a small
//! 2θ shift), and the scale factors become weight fractions through the
//! references' reference intensity ratios (RIR):
//! wᵢ ∝ cᵢ/RIRᵢ, with an internal standard wᵢ = w_std·(cᵢ/RIRᵢ)/(c_std/RIR_std).

use serde::Serialize;

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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Non-negative least squares min ‖Σ xᵢ·colᵢ − b‖, xᵢ ≥ 0 (Lawson & Hanson,
/// *Solving Least Squares Problems* (1974) ch. 23) on the Gram matrix.
pub fn nnls(cols: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let p = cols.len();
    let norms: Vec<f64> = cols.iter().map(|c| dot(c, c).sqrt().max(1e-300)).collect();
    let g: Vec<Vec<f64>> = (0..p)
        .map(|i| {
            (0..p)
                .map(|j| dot(&cols[i], &cols[j]) / (norms[i] * norms[j]))
                .collect()
        })
        .collect();
    let h: Vec<f64> = (0..p).map(|i| dot(&cols[i], b) / norms[i]).collect();
    let mut x = vec![0.0; p];
    let mut passive = vec![false; p];
    let grad = |x: &[f64]| -> Vec<f64> {
        (0..p)
            .map(|i| h[i] - (0..p).map(|j| g[i][j] * x[j]).sum::<f64>())
            .collect()
    };
    let solve = |set: &[usize]| -> Option<Vec<f64>> {
        // Cholesky of G restricted to `set`.
        let k = set.len();
        let mut l = vec![0.0; k * k];
        for a in 0..k {
            for c in 0..=a {
                let mut s = g[set[a]][set[c]];
                for m in 0..c {
                    s -= l[a * k + m] * l[c * k + m];
                }
                if a == c {
                    if s <= 1e-13 {
                        return None;
                    }
                    l[a * k + a] = s.sqrt();
                } else {
                    l[a * k + c] = s / l[c * k + c];
                }
            }
        }
        let mut z: Vec<f64> = set.iter().map(|&i| h[i]).collect();
        for a in 0..k {
            for m in 0..a {
                z[a] -= l[a * k + m] * z[m];
            }
            z[a] /= l[a * k + a];
        }
        for a in (0..k).rev() {
            for m in a + 1..k {
                z[a] -= l[m * k + a] * z[m];
            }
            z[a] /= l[a * k + a];
        }
        Some(z)
    };
    let tol = 1e-10 * h.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-300);
    for _outer in 0..3 * p + 10 {
        let w = grad(&x);
        let cand = (0..p)
            .filter(|&i| !passive[i] && w[i] > tol)
            .max_by(|&a, &b| w[a].total_cmp(&w[b]));
        let Some(t) = cand else { break };
        passive[t] = true;
        loop {
            let set: Vec<usize> = (0..p).filter(|&i| passive[i]).collect();
            let Some(z) = solve(&set) else {
                // Linearly dependent column: leave it out.
                passive[t] = false;
                break;
            };
            if z.iter().all(|&v| v > 0.0) {
                for (&i, &v) in set.iter().zip(&z) {
                    x[i] = v;
                }
                break;
            }
            // Step back to the boundary and drop the columns that hit zero.
            let mut alpha = f64::INFINITY;
            for (&i, &v) in set.iter().zip(&z) {
                if v <= 0.0 {
                    alpha = alpha.min(x[i] / (x[i] - v));
                }
            }
            for (&i, &v) in set.iter().zip(&z) {
                x[i] += alpha * (v - x[i]);
                if x[i] <= 1e-15 {
                    x[i] = 0.0;
                    passive[i] = false;
                }
            }
        }
    }
    x.iter().zip(&norms).map(|(v, n)| v / n).collect()
}

/// Fit `y(two_theta)` with the references (full-pattern summation).
pub fn quantify(
    two_theta: &[f64],
    y: &[f64],
    refs: &[Reference],
    o: &QuantOptions,
) -> Result<QuantResult, String> {
    let n = two_theta.len().min(y.len());
    if n < 10 {
        return Err(format!("{n} points are too few to quantify"));
    }
    if refs.is_empty() {
        return Err("the library has no reference patterns".into());
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
        return Err(format!(
            "the pattern ({:.2}–{:.2}°) and the library ({lo:.2}–{hi:.2}°) barely overlap",
            two_theta[0],
            two_theta[n - 1]
        ));
    }
    let x: Vec<f64> = keep.iter().map(|&i| two_theta[i]).collect();
    let mut yy: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
    // Align the sample to the internal standard.
    let mut sample_shift = 0.0;
    if let Some((si, _)) = o.standard
        && o.align_deg > 0.0
    {
        let s = refs.get(si).ok_or("internal standard index out of range")?;
        let std_y = resample(&s.two_theta_deg, &s.intensity, &x, 0.0);
        let steps = 60;
        let mut best = (f64::NEG_INFINITY, 0.0);
        for k in -steps..=steps {
            let d = o.align_deg * k as f64 / steps as f64;
            let shifted = resample(two_theta, y, &x, d);
            let c = dot(&shifted, &std_y) / dot(&shifted, &shifted).sqrt().max(1e-300);
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
                return Err(format!(
                    "the internal standard {} was not found in the pattern",
                    refs[si].id
                ));
            }
            conc.iter().map(|v| wstd * v / conc[si]).collect()
        }
        None => {
            let total: f64 = conc.iter().sum();
            if total <= 0.0 {
                return Err("no reference fits the pattern".into());
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
pub fn load_library(dir: &std::path::Path) -> Result<Vec<Reference>, String> {
    let csv_path = dir.join("phases.csv");
    let text = std::fs::read_to_string(&csv_path)
        .map_err(|e| format!("{}: cannot read: {e}", csv_path.display()))?;
    let mut lines = text.lines().enumerate();
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
            return Err(format!(
                "{}:1: the header must name phase_id, phase_name and rir",
                csv_path.display()
            ));
        }
    };
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
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
        let rir: f64 = at(cr).parse().map_err(|_| {
            format!(
                "{}:{}: rir '{}' of {id} is not a number",
                csv_path.display(),
                i + 1,
                at(cr)
            )
        })?;
        if !(rir.is_finite() && rir > 0.0) {
            return Err(format!(
                "{}:{}: rir of {id} must be > 0",
                csv_path.display(),
                i + 1
            ));
        }
        let Some(path) = files
            .iter()
            .find(|p| p.file_stem().is_some_and(|s| s.to_string_lossy() == id) && p.is_file())
        else {
            return Err(format!(
                "{}:{}: no pattern file for phase {id} in {}",
                csv_path.display(),
                i + 1,
                dir.display()
            ));
        };
        let p = crate::io::xrd::read_pattern(path).map_err(|e| e.to_string())?;
        out.push(Reference {
            id: id.to_string(),
            name: at(cn).to_string(),
            rir,
            two_theta_deg: p.two_theta_deg,
            intensity: p.intensity,
        });
    }
    if out.is_empty() {
        return Err(format!("{}: no phases", csv_path.display()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nnls_recovers_nonnegative_mixture() {
        let x: Vec<f64> = (0..200).map(|i| i as f64 * 0.1).collect();
        let peak = |c: f64| {
            x.iter()
                .map(|t| (-(t - c).powi(2) / 0.1).exp())
                .collect::<Vec<f64>>()
        };
        let cols = vec![peak(3.0), peak(7.0), peak(12.0), peak(7.05)];
        let b: Vec<f64> = (0..200)
            .map(|i| 2.0 * cols[0][i] + 0.5 * cols[2][i])
            .collect();
        let c = nnls(&cols, &b);
        assert!(
            (c[0] - 2.0).abs() < 1e-8 && (c[2] - 0.5).abs() < 1e-8,
            "{c:?}"
        );
        assert!(c[1].abs() < 1e-8 && c[3].abs() < 1e-8, "{c:?}");
        // A negative solution is clipped: b = col0 − col1 → col1 unused.
        let b: Vec<f64> = (0..200).map(|i| cols[0][i] - cols[1][i]).collect();
        let c = nnls(&cols, &b);
        assert!(
            c.iter().all(|v| *v >= 0.0) && (c[0] - 1.0).abs() < 1e-6,
            "{c:?}"
        );
    }
}
