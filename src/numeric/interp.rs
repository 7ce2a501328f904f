//! Interpolation: NumPy's linear `interp` (clamped to the end values),
//! scipy's `interp1d` / `CubicSpline`, and `larch.math.interp`.

/// NumPy `interp`: linear interpolation, clamped to the end values outside.
/// `x` must be ascending. Writes into `out` (same length as `xnew`).
pub fn interp_clamped_into(x: &[f64], y: &[f64], xnew: &[f64], out: &mut [f64]) {
    let n = x.len();
    if n == 0 {
        out.fill(f64::NAN);
        return;
    }
    let mut j = 0usize;
    for (o, &xv) in out.iter_mut().zip(xnew) {
        if xv <= x[0] {
            *o = y[0];
            continue;
        }
        if xv >= x[n - 1] {
            *o = y[n - 1];
            continue;
        }
        // xnew is usually ascending: walk forward, restart when it is not.
        if j >= n - 1 || x[j] > xv {
            j = 0;
        }
        while j + 1 < n - 1 && x[j + 1] <= xv {
            j += 1;
        }
        let (x0, x1) = (x[j], x[j + 1]);
        let t = (xv - x0) / (x1 - x0);
        *o = y[j] + t * (y[j + 1] - y[j]);
    }
}

/// NumPy `interp` returning a new vector.
pub fn interp_clamped(x: &[f64], y: &[f64], xnew: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; xnew.len()];
    interp_clamped_into(x, y, xnew, &mut out);
    out
}

/// `scipy.interpolate.interp1d(kind='linear', bounds_error=False)`: NaN outside [x₀, xₙ].
pub fn interp_linear_nan(x: &[f64], y: &[f64], xnew: f64) -> f64 {
    let n = x.len();
    if n < 2 || xnew.is_nan() || xnew < x[0] || xnew > x[n - 1] {
        return f64::NAN;
    }
    // searchsorted(side='left'), clipped to 1..n-1, as scipy does
    let idx = x.partition_point(|&v| v < xnew).clamp(1, n - 1);
    let (lo, hi) = (idx - 1, idx);
    let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
    slope * (xnew - x[lo]) + y[lo]
}

/// Line through the two end points, used by `larch.math.interp(kind='linear')`
/// outside the data range (`polyfit(x[sel], y[sel], 1)` on two points).
fn line_through(x0: f64, y0: f64, x1: f64, y1: f64, xnew: f64) -> f64 {
    let slope = (y1 - y0) / (x1 - x0);
    y0 + slope * (xnew - x0)
}

/// Interpolation kinds used by `larch.math.interp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InterpKind {
    Linear,
    #[default]
    Cubic,
}

/// `larch.math.interp`: interp1d inside the range, polynomial extrapolation
/// from the 2 (linear) or 5 (cubic, `InterpolatedUnivariateSpline`) end points.
/// `x` must be strictly increasing and `xnew` sorted.
pub fn interp(x: &[f64], y: &[f64], xnew: &[f64], kind: InterpKind) -> Vec<f64> {
    let n = x.len();
    match kind {
        InterpKind::Linear => xnew
            .iter()
            .map(|&v| {
                if v < x[0] {
                    line_through(x[0], y[0], x[1], y[1], v)
                } else if v > x[n - 1] {
                    line_through(x[n - 2], y[n - 2], x[n - 1], y[n - 1], v)
                } else {
                    interp_linear_nan(x, y, v)
                }
            })
            .collect(),
        InterpKind::Cubic => CubicInterp::new(x, y).eval_many(xnew),
    }
}

/// The cubic case of [`interp`] built once and evaluated many times (a fit
/// that reads one curve at shifted energies on every evaluation).
pub struct CubicInterp {
    lo: f64,
    hi: f64,
    main: CubicSpline,
    below: CubicSpline,
    above: CubicSpline,
}

impl CubicInterp {
    /// `x` strictly increasing, `x.len() == y.len() >= 2`.
    pub fn new(x: &[f64], y: &[f64]) -> CubicInterp {
        let n = x.len();
        let m = n.min(5);
        CubicInterp {
            lo: x[0],
            hi: x[n - 1],
            main: CubicSpline::new(x, y),
            below: CubicSpline::new(&x[..m], &y[..m]),
            above: CubicSpline::new(&x[n - m..], &y[n - m..]),
        }
    }

    pub fn eval(&self, v: f64) -> f64 {
        if v < self.lo {
            self.below.eval(v)
        } else if v > self.hi {
            self.above.eval(v)
        } else {
            self.main.eval(v)
        }
    }

    /// Values at `xnew` (sorted).
    pub fn eval_many(&self, xnew: &[f64]) -> Vec<f64> {
        xnew.iter().map(|&v| self.eval(v)).collect()
    }
}

/// Cubic spline with not-a-knot ends, as `scipy.interpolate.CubicSpline`
/// (and `interp1d(kind='cubic')`, `InterpolatedUnivariateSpline` with s=0,
/// which build the same piecewise cubic); extrapolates with the end pieces.
/// Fewer than 4 points give the interpolating parabola or line, as scipy does.
pub struct CubicSpline {
    x: Vec<f64>,
    /// Per interval: [c3, c2, c1, c0] of c3 t³ + c2 t² + c1 t + c0, t = x − xᵢ.
    coefs: Vec<[f64; 4]>,
}

impl CubicSpline {
    /// `x` strictly increasing, `x.len() == y.len() >= 2`.
    pub fn new(x: &[f64], y: &[f64]) -> CubicSpline {
        let n = x.len();
        debug_assert!(n >= 2 && y.len() == n);
        let dx: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let slope: Vec<f64> = (0..n - 1).map(|i| (y[i + 1] - y[i]) / dx[i]).collect();
        let s: Vec<f64> = if n == 2 {
            vec![slope[0], slope[0]]
        } else if n == 3 {
            // scipy: not-a-knot on 3 points is the parabola through them
            let c = (slope[1] - slope[0]) / (x[2] - x[0]);
            let s0 = slope[0] - c * dx[0];
            let s1 = s0 + 2.0 * c * dx[0];
            let s2 = s0 + 2.0 * c * (x[2] - x[0]);
            vec![s0, s1, s2]
        } else {
            // slopes from the tridiagonal system of scipy's CubicSpline
            let mut lower = vec![0.0; n];
            let mut diag = vec![0.0; n];
            let mut upper = vec![0.0; n];
            let mut b = vec![0.0; n];
            for i in 1..n - 1 {
                lower[i] = dx[i];
                diag[i] = 2.0 * (dx[i - 1] + dx[i]);
                upper[i] = dx[i - 1];
                b[i] = 3.0 * (dx[i] * slope[i - 1] + dx[i - 1] * slope[i]);
            }
            let d = x[2] - x[0];
            diag[0] = dx[1];
            upper[0] = d;
            b[0] = ((dx[0] + 2.0 * d) * dx[1] * slope[0] + dx[0] * dx[0] * slope[1]) / d;
            let d = x[n - 1] - x[n - 3];
            diag[n - 1] = dx[n - 3];
            lower[n - 1] = d;
            b[n - 1] = (dx[n - 2] * dx[n - 2] * slope[n - 3]
                + (2.0 * d + dx[n - 2]) * dx[n - 3] * slope[n - 2])
                / d;
            solve_tridiagonal(&lower, &diag, &upper, &b)
        };
        let coefs = (0..n - 1)
            .map(|i| {
                let t = (s[i] + s[i + 1] - 2.0 * slope[i]) / dx[i];
                [t / dx[i], (slope[i] - s[i]) / dx[i] - t, s[i], y[i]]
            })
            .collect();
        CubicSpline {
            x: x.to_vec(),
            coefs,
        }
    }

    pub fn eval(&self, xv: f64) -> f64 {
        let n = self.x.len();
        // PPoly: searchsorted(side='right') − 1, clipped to the end pieces
        let i = self
            .x
            .partition_point(|&v| v <= xv)
            .saturating_sub(1)
            .min(n - 2);
        let t = xv - self.x[i];
        let c = &self.coefs[i];
        ((c[0] * t + c[1]) * t + c[2]) * t + c[3]
    }
}

/// Tridiagonal solve with partial pivoting (LAPACK `gtsv`); `lower[i]` is
/// A[i][i−1], `upper[i]` is A[i][i+1].
fn solve_tridiagonal(lower: &[f64], diag: &[f64], upper: &[f64], b: &[f64]) -> Vec<f64> {
    let n = diag.len();
    // rows stored as (a_ii, a_i,i+1, a_i,i+2, rhs) after elimination
    let mut d = diag.to_vec();
    let mut du = upper.to_vec();
    let mut du2 = vec![0.0; n];
    let mut dl: Vec<f64> = (0..n)
        .map(|i| if i + 1 < n { lower[i + 1] } else { 0.0 })
        .collect();
    let mut x = b.to_vec();
    for i in 0..n - 1 {
        if d[i].abs() >= dl[i].abs() {
            // no row interchange
            if d[i] != 0.0 {
                let fact = dl[i] / d[i];
                d[i + 1] -= fact * du[i];
                x[i + 1] -= fact * x[i];
                dl[i] = 0.0;
            }
        } else {
            // interchange rows i and i+1
            let fact = d[i] / dl[i];
            d[i] = dl[i];
            let temp = d[i + 1];
            d[i + 1] = du[i] - fact * temp;
            if i + 1 < n - 1 {
                du2[i] = du[i + 1];
                du[i + 1] = -fact * du2[i];
            }
            du[i] = temp;
            let tx = x[i];
            x[i] = x[i + 1];
            x[i + 1] = tx - fact * x[i + 1];
        }
    }
    // back substitution
    x[n - 1] /= d[n - 1];
    if n > 1 {
        x[n - 2] = (x[n - 2] - du[n - 2] * x[n - 1]) / d[n - 2];
    }
    for i in (0..n.saturating_sub(2)).rev() {
        x[i] = (x[i] - du[i] * x[i + 1] - du2[i] * x[i + 2]) / d[i];
    }
    x
}
