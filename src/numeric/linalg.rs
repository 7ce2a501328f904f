//! Small dense linear algebra: Gaussian elimination and NumPy-style
//! polynomial least squares.

/// Least-squares polynomial of degree `deg` (NumPy `Polynomial.fit(...).convert()`),
/// coefficients in ascending powers. Solved on a scaled abscissa for stability.
pub fn polyfit(x: &[f64], y: &[f64], deg: usize) -> Vec<f64> {
    let n = x.len();
    let ncoef = deg + 1;
    if n == 0 {
        return vec![0.0; ncoef];
    }
    let xmin = x.iter().copied().fold(f64::INFINITY, f64::min);
    let xmax = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let off = 0.5 * (xmax + xmin);
    let half = 0.5 * (xmax - xmin);
    let scl = if half > 0.0 { 1.0 / half } else { 1.0 };
    // Normal equations in the scaled variable u = (x − off)·scl.
    let mut ata = vec![0.0; ncoef * ncoef];
    let mut aty = vec![0.0; ncoef];
    // Fixed sizes for the usual degrees, so the loops unroll.
    match ncoef {
        1 => normal_equations(1, x, y, off, scl, &mut ata, &mut aty),
        2 => normal_equations(2, x, y, off, scl, &mut ata, &mut aty),
        3 => normal_equations(3, x, y, off, scl, &mut ata, &mut aty),
        4 => normal_equations(4, x, y, off, scl, &mut ata, &mut aty),
        _ => normal_equations(ncoef, x, y, off, scl, &mut ata, &mut aty),
    }
    let cu = solve_dense(&mut ata, &mut aty, ncoef).unwrap_or_else(|| {
        // Fewer distinct points than coefficients: fall back to the mean.
        let mut c = vec![0.0; ncoef];
        c[0] = y.iter().sum::<f64>() / n as f64;
        c
    });
    // Convert Σ cu_j (scl (x − off))^j to ascending powers of x.
    let mut out = vec![0.0; ncoef];
    let mut binom = vec![0.0; ncoef];
    for (j, &c) in cu.iter().enumerate() {
        // (scl x − scl off)^j = Σ_i C(j,i) (scl x)^i (−scl off)^(j−i)
        binom.fill(0.0);
        binom[0] = 1.0;
        for jj in 1..=j {
            for i in (1..=jj).rev() {
                binom[i] += binom[i - 1];
            }
        }
        for i in 0..=j {
            out[i] += c * binom[i] * scl.powi(i as i32) * (-scl * off).powi((j - i) as i32);
        }
    }
    out
}

/// AᵀA (`ncoef`², row-major) and Aᵀy of a polynomial fit in the scaled
/// variable u = (x − off)·scl, summed point by point; inlined so a constant
/// `ncoef` unrolls.
#[inline(always)]
fn normal_equations(
    ncoef: usize,
    x: &[f64],
    y: &[f64],
    off: f64,
    scl: f64,
    ata: &mut [f64],
    aty: &mut [f64],
) {
    let mut pw = vec![0.0; ncoef];
    for (&xi, &yi) in x.iter().zip(y) {
        let u = (xi - off) * scl;
        let mut p = 1.0;
        for v in pw.iter_mut() {
            *v = p;
            p *= u;
        }
        for r in 0..ncoef {
            aty[r] += pw[r] * yi;
            for c in 0..ncoef {
                ata[r * ncoef + c] += pw[r] * pw[c];
            }
        }
    }
}

/// Gaussian elimination with partial pivoting on a small dense system
/// (row-major `a`, n×n). Returns None when singular.
pub fn solve_dense(a: &mut [f64], b: &mut [f64], n: usize) -> Option<Vec<f64>> {
    for col in 0..n {
        let mut piv = col;
        let mut best = a[col * n + col].abs();
        for r in col + 1..n {
            let v = a[r * n + col].abs();
            if v > best {
                best = v;
                piv = r;
            }
        }
        if best == 0.0 || !best.is_finite() {
            return None;
        }
        if piv != col {
            for c in 0..n {
                a.swap(col * n + c, piv * n + c);
            }
            b.swap(col, piv);
        }
        let d = a[col * n + col];
        for r in col + 1..n {
            let f = a[r * n + col] / d;
            if f != 0.0 {
                for c in col..n {
                    a[r * n + c] -= f * a[col * n + c];
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let mut s = b[r];
        for c in r + 1..n {
            s -= a[r * n + c] * x[c];
        }
        x[r] = s / a[r * n + r];
    }
    if x.iter().all(|v| v.is_finite()) {
        Some(x)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyfit_recovers_quadratic() {
        let x: Vec<f64> = (0..50).map(|i| 9000.0 + 10.0 * i as f64).collect();
        let y: Vec<f64> = x.iter().map(|&v| 3.0 - 2e-4 * v + 1e-8 * v * v).collect();
        let c = polyfit(&x, &y, 2);
        assert!((c[0] - 3.0).abs() < 1e-6, "{c:?}");
        assert!((c[1] + 2e-4).abs() < 1e-10);
        assert!((c[2] - 1e-8).abs() < 1e-14);
    }
}
