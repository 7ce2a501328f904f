//! Cubic B-spline machinery matching FITPACK (`splrep`/`splev` with k=3,
//! `UnivariateSpline(s=0)`): knot vectors for interpolation at data sites,
//! basis evaluation with polynomial extrapolation outside the knot span.

use super::kernels::axpy;

/// FITPACK's knots for an interpolating cubic (s=0) through sites `x`:
/// x0 four times, the interior sites x[2..n−2], x[n−1] four times.
pub fn interp_knots(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut t = Vec::with_capacity(n + 4);
    t.extend_from_slice(&[x[0]; 4]);
    if n > 4 {
        t.extend_from_slice(&x[2..n - 2]);
    }
    t.extend_from_slice(&[x[n - 1]; 4]);
    t
}

/// Knot interval l (3 ≤ l ≤ ncoef−1) used to evaluate at `xv`; outside
/// the span the end intervals are used, which extrapolates (FITPACK ext=0).
#[inline]
pub fn interval(t: &[f64], ncoef: usize, xv: f64) -> usize {
    // largest l in [3, ncoef-1] with t[l] <= xv
    let lo = 3;
    let hi = ncoef - 1;
    let slice = &t[lo..=hi];
    let p = slice.partition_point(|&k| k <= xv);
    (lo + p.saturating_sub(1)).clamp(lo, hi)
}

/// The four non-zero cubic basis values B_{l−3..=l}(xv) (de Boor–Cox).
#[inline]
pub fn basis(t: &[f64], l: usize, xv: f64) -> [f64; 4] {
    let mut b = [0.0f64; 4];
    b[0] = 1.0;
    let mut left = [0.0f64; 4];
    let mut right = [0.0f64; 4];
    for j in 1..=3 {
        left[j] = xv - t[l + 1 - j];
        right[j] = t[l + j] - xv;
        let mut saved = 0.0;
        for r in 0..j {
            let den = right[r + 1] + left[j - r];
            let temp = if den != 0.0 { b[r] / den } else { 0.0 };
            b[r] = saved + right[r + 1] * temp;
            saved = left[j - r] * temp;
        }
        b[j] = saved;
    }
    b
}

/// [`basis`] for many points at once: `ls[i]` is the knot interval of
/// `xs[i]`. Four points run side by side (the same operations in each lane,
/// so the results equal [`basis`]'s), which lets the divisions pipeline.
pub fn basis_many(t: &[f64], ls: &[usize], xs: &[f64], out: &mut Vec<[f64; 4]>) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports every feature basis_many_avx2 is compiled for.
            unsafe { basis_many_avx2(t, ls, xs, out) };
            return;
        }
    }
    basis_many_body(t, ls, xs, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn basis_many_avx2(t: &[f64], ls: &[usize], xs: &[f64], out: &mut Vec<[f64; 4]>) {
    basis_many_body(t, ls, xs, out);
}

#[inline(always)]
fn basis_many_body(t: &[f64], ls: &[usize], xs: &[f64], out: &mut Vec<[f64; 4]>) {
    type Lanes = [f64; 4];
    let n = ls.len().min(xs.len());
    out.reserve(n);
    let full = n - n % 4;
    for (lc, xc) in ls[..full].chunks_exact(4).zip(xs[..full].chunks_exact(4)) {
        let x: Lanes = [xc[0], xc[1], xc[2], xc[3]];
        // left[j] = x − t[l+1−j], right[j] = t[l+j] − x, for j = 1..=3.
        let mut left = [[0.0f64; 4]; 4];
        let mut right = [[0.0f64; 4]; 4];
        for j in 1..=3 {
            for q in 0..4 {
                left[j][q] = t[lc[q] + 1 - j];
                right[j][q] = t[lc[q] + j];
            }
            for q in 0..4 {
                left[j][q] = x[q] - left[j][q];
                right[j][q] -= x[q];
            }
        }
        let mut b: [Lanes; 4] = [[1.0; 4], [0.0; 4], [0.0; 4], [0.0; 4]];
        for j in 1..=3 {
            let mut saved: Lanes = [0.0; 4];
            for r in 0..j {
                let mut next: Lanes = [0.0; 4];
                for q in 0..4 {
                    let den = right[r + 1][q] + left[j - r][q];
                    let quot = b[r][q] / den;
                    let temp = if den != 0.0 { quot } else { 0.0 };
                    next[q] = saved[q] + right[r + 1][q] * temp;
                    saved[q] = left[j - r][q] * temp;
                }
                b[r] = next;
            }
            b[j] = saved;
        }
        out.extend((0..4).map(|q| [b[0][q], b[1][q], b[2][q], b[3][q]]));
    }
    for i in full..n {
        out.push(basis(t, ls[i], xs[i]));
    }
}

/// Precomputed evaluation of a spline with knots `t` at fixed points:
/// for each point the first coefficient index and its four weights.
#[derive(Debug, Clone)]
pub struct Evaluator {
    pub first: Vec<usize>,
    pub weights: Vec<[f64; 4]>,
}

impl Evaluator {
    pub fn new(t: &[f64], ncoef: usize, xs: &[f64]) -> Self {
        let mut ls = Vec::with_capacity(xs.len());
        let hi = ncoef - 1;
        let mut l = 3;
        for &xv in xs {
            // Points are usually ascending: walk the interval forward.
            if xv < t[l] && l > 3 {
                l = interval(t, ncoef, xv);
            } else {
                while l < hi && t[l + 1] <= xv {
                    l += 1;
                }
            }
            ls.push(l);
        }
        let mut weights = Vec::new();
        basis_many(t, &ls, xs, &mut weights);
        let first = ls.into_iter().map(|l| l - 3).collect();
        Evaluator { first, weights }
    }
    /// Σ_j c_j B_j(x_i) for every point.
    pub fn eval_into(&self, c: &[f64], out: &mut [f64]) {
        for ((o, &f), w) in out.iter_mut().zip(&self.first).zip(&self.weights) {
            *o = w[0] * c[f] + w[1] * c[f + 1] + w[2] * c[f + 2] + w[3] * c[f + 3];
        }
    }
}

/// Interpolating cubic spline through (x, y) with FITPACK's s=0 knots,
/// factorised once so many right-hand sides can be solved in O(n).
#[derive(Debug, Clone)]
pub struct Interpolator {
    pub knots: Vec<f64>,
    n: usize,
    /// Banded LU of the collocation matrix: rows with columns i−2..=i+2.
    band: Vec<[f64; 5]>,
}

impl Interpolator {
    /// Needs at least 4 strictly increasing sites.
    pub fn new(x: &[f64]) -> Option<Self> {
        let n = x.len();
        if n < 4 || x.windows(2).any(|w| w[1] <= w[0]) {
            return None;
        }
        let knots = interp_knots(x);
        let mut band = vec![[0.0f64; 5]; n];
        let mut ls = Vec::with_capacity(n);
        let mut l = 3;
        for &xv in x {
            // Sites are ascending, so the knot interval only moves forward.
            while l < n - 1 && knots[l + 1] <= xv {
                l += 1;
            }
            ls.push(l);
        }
        let mut bs = Vec::new();
        basis_many(&knots, &ls, x, &mut bs);
        for (i, (&l, b)) in ls.iter().zip(&bs).enumerate() {
            for (m, &bv) in b.iter().enumerate() {
                let j = l - 3 + m;
                let off = j as isize - i as isize + 2;
                if (0..5).contains(&off) {
                    band[i][off as usize] = bv;
                } else if bv.abs() > 1e-14 {
                    return None;
                }
            }
        }
        // In-place banded LU without pivoting (collocation matrices are
        // totally positive, de Boor ch. XIII).
        for k in 0..n {
            let piv = band[k][2];
            if piv == 0.0 || !piv.is_finite() {
                return None;
            }
            for i in k + 1..(k + 3).min(n) {
                let off_ik = k as isize - i as isize + 2;
                if off_ik < 0 {
                    continue;
                }
                let f = band[i][off_ik as usize] / piv;
                if f == 0.0 {
                    continue;
                }
                band[i][off_ik as usize] = f;
                for j in k + 1..(k + 3).min(n) {
                    let off_kj = j as isize - k as isize + 2;
                    let off_ij = j as isize - i as isize + 2;
                    if (0..5).contains(&off_kj) && (0..5).contains(&off_ij) {
                        band[i][off_ij as usize] -= f * band[k][off_kj as usize];
                    }
                }
            }
        }
        Some(Interpolator { knots, n, band })
    }

    /// B-spline coefficients of the interpolant through `y` (in place).
    pub fn solve(&self, y: &mut [f64]) {
        let n = self.n;
        for i in 0..n {
            let lo = i.saturating_sub(2);
            let s: f64 = (lo..i).map(|k| self.band[i][k + 2 - i] * y[k]).sum();
            y[i] -= s;
        }
        for i in (0..n).rev() {
            let hi = (i + 3).min(n);
            let s: f64 = (i + 1..hi).map(|j| self.band[i][j + 2 - i] * y[j]).sum();
            y[i] = (y[i] - s) / self.band[i][2];
        }
    }

    /// Like [`solve`](Self::solve) for `ncol` right-hand sides stored
    /// row-major in `y` (n × ncol); vectorises across the columns.
    pub fn solve_many(&self, y: &mut [f64], ncol: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports every feature solve_many_avx is compiled for.
                unsafe { self.solve_many_avx(y, ncol) };
                return;
            }
        }
        self.solve_many_body(y, ncol);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn solve_many_avx(&self, y: &mut [f64], ncol: usize) {
        self.solve_many_body(y, ncol);
    }

    #[inline(always)]
    fn solve_many_body(&self, y: &mut [f64], ncol: usize) {
        let n = self.n;
        for i in 0..n {
            let (done, rest) = y.split_at_mut(i * ncol);
            let row = &mut rest[..ncol];
            for k in i.saturating_sub(2)..i {
                axpy(
                    row,
                    -self.band[i][k + 2 - i],
                    &done[k * ncol..(k + 1) * ncol],
                );
            }
        }
        for i in (0..n).rev() {
            let (head, tail) = y.split_at_mut((i + 1) * ncol);
            let row = &mut head[i * ncol..];
            for j in i + 1..(i + 3).min(n) {
                axpy(
                    row,
                    -self.band[i][j + 2 - i],
                    &tail[(j - i - 1) * ncol..(j - i) * ncol],
                );
            }
            let d = 1.0 / self.band[i][2];
            for a in row.iter_mut() {
                *a *= d;
            }
        }
    }

    pub fn ncoef(&self) -> usize {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four lanes at a time give exactly the one-point basis.
    #[test]
    fn basis_many_equals_basis() {
        let t: Vec<f64> = interp_knots(
            &(0..40)
                .map(|i| (i as f64 * 0.21).powf(1.4))
                .collect::<Vec<_>>(),
        );
        let xs: Vec<f64> = (0..23).map(|i| -0.3 + i as f64 * 0.61).collect();
        let ls: Vec<usize> = xs.iter().map(|&x| interval(&t, 40, x)).collect();
        let mut many = Vec::new();
        basis_many(&t, &ls, &xs, &mut many);
        assert_eq!(many.len(), xs.len());
        for ((b, &l), &x) in many.iter().zip(&ls).zip(&xs) {
            assert_eq!(*b, basis(&t, l, x));
        }
    }

    #[test]
    fn interpolating_spline_reproduces_cubic() {
        let x: Vec<f64> = (0..30).map(|i| (i as f64 * 0.37).powf(1.3)).collect();
        let f = |v: f64| 1.0 - 0.5 * v + 0.2 * v * v - 0.01 * v * v * v;
        let mut c: Vec<f64> = x.iter().map(|&v| f(v)).collect();
        let sp = Interpolator::new(&x).expect("spline");
        sp.solve(&mut c);
        let xs = [0.05, 1.234, 5.5, 12.0, x[29] + 0.3];
        let ev = Evaluator::new(&sp.knots, sp.ncoef(), &xs);
        let mut out = [0.0; 5];
        ev.eval_into(&c, &mut out);
        for (o, &xv) in out.iter().zip(&xs) {
            assert!((o - f(xv)).abs() < 1e-9, "{o} vs {}", f(xv));
        }
    }
}
