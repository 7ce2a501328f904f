//! Non-negative least squares (Lawson & Hanson), used by XRD quantification
//! and, later, XANES linear-combination fitting.

use super::kernels::dot_sequential;

/// Non-negative least squares min ‖Σ xᵢ·colᵢ − b‖, xᵢ ≥ 0 (Lawson & Hanson,
/// *Solving Least Squares Problems* (1974) ch. 23) on the Gram matrix.
pub fn nnls(cols: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let p = cols.len();
    let norms: Vec<f64> = cols
        .iter()
        .map(|c| dot_sequential(c, c).sqrt().max(1e-300))
        .collect();
    let g: Vec<Vec<f64>> = (0..p)
        .map(|i| {
            (0..p)
                .map(|j| dot_sequential(&cols[i], &cols[j]) / (norms[i] * norms[j]))
                .collect()
        })
        .collect();
    let h: Vec<f64> = (0..p)
        .map(|i| dot_sequential(&cols[i], b) / norms[i])
        .collect();
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
