//! Numeric helpers private to merge/align/deglitch/rebin, each a transcription
//! of the numpy/scipy/Larch routine those steps call, so results match Larch.

use super::XasError;

/// `numpy.percentile` with the default linear method, on unsorted data.
pub(crate) fn percentile(data: &[f64], q: f64) -> f64 {
    let mut v = data.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q / 100.0 * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    // numpy's _lerp: a + (b - a) * t, switched to b - (b - a)(1 - t) for t >= 0.5
    let (a, b) = (v[lo], v[hi]);
    let d = b - a;
    if frac >= 0.5 {
        b - d * (1.0 - frac)
    } else {
        a + d * frac
    }
}

/// Arithmetic mean (`numpy.mean`).
pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Population standard deviation (`numpy.std`, ddof = 0); NaN for no data.
pub(crate) fn std(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
}

/// `scipy.interpolate.interp1d(kind='linear', bounds_error=False)`: NaN outside [x₀, xₙ].
pub(crate) fn interp_linear_nan(x: &[f64], y: &[f64], xnew: f64) -> f64 {
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
pub(crate) fn interp(x: &[f64], y: &[f64], xnew: &[f64], kind: InterpKind) -> Vec<f64> {
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
        InterpKind::Cubic => {
            let main = CubicSpline::new(x, y);
            let m = n.min(5);
            let below = CubicSpline::new(&x[..m], &y[..m]);
            let above = CubicSpline::new(&x[n - m..], &y[n - m..]);
            xnew.iter()
                .map(|&v| {
                    if v < x[0] {
                        below.eval(v)
                    } else if v > x[n - 1] {
                        above.eval(v)
                    } else {
                        main.eval(v)
                    }
                })
                .collect()
        }
    }
}

/// Cubic spline with not-a-knot ends, as `scipy.interpolate.CubicSpline`
/// (and `interp1d(kind='cubic')`, `InterpolatedUnivariateSpline` with s=0,
/// which build the same piecewise cubic); extrapolates with the end pieces.
/// Fewer than 4 points give the interpolating parabola or line, as scipy does.
pub(crate) struct CubicSpline {
    x: Vec<f64>,
    /// Per interval: [c3, c2, c1, c0] of c3 t³ + c2 t² + c1 t + c0, t = x − xᵢ.
    coefs: Vec<[f64; 4]>,
}

impl CubicSpline {
    /// `x` strictly increasing, `x.len() == y.len() >= 2`.
    pub(crate) fn new(x: &[f64], y: &[f64]) -> CubicSpline {
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

    pub(crate) fn eval(&self, xv: f64) -> f64 {
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

/// Shared input checks: equal lengths, enough points, finite values.
pub(crate) fn check_xy(
    x_name: &'static str,
    x: &[f64],
    y_name: &'static str,
    y: &[f64],
    min_points: usize,
) -> Result<(), XasError> {
    if x.len() != y.len() {
        return Err(XasError::Length(format!(
            "{x_name} has {} points, {y_name} has {}",
            x.len(),
            y.len()
        )));
    }
    if x.len() < min_points {
        return Err(XasError::TooFewPoints(format!(
            "{} points, need at least {min_points}",
            x.len()
        )));
    }
    super::check_finite(x_name, x)?;
    super::check_finite(y_name, y)
}

/// Reject an energy array that is not strictly increasing.
pub(crate) fn check_increasing(x: &[f64]) -> Result<(), XasError> {
    match x.windows(2).position(|w| w[1] <= w[0]) {
        Some(i) => Err(XasError::NotMonotonic {
            index: i + 1,
            value: x[i + 1],
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::grid::{index_nearest, index_of, remove_dups};

    #[test]
    fn spline_reproduces_cubic_and_parabola() {
        let x = [0.0, 0.7, 1.5, 2.0, 3.1, 4.0, 5.5];
        let f = |t: f64| 0.3 * t * t * t - t * t + 2.0 * t - 1.0;
        let y: Vec<f64> = x.iter().map(|&t| f(t)).collect();
        let s = CubicSpline::new(&x, &y);
        for t in [-1.0, 0.2, 1.9, 3.3, 5.5, 7.0] {
            assert!((s.eval(t) - f(t)).abs() < 1e-9, "{t}");
        }
        // 4 points: not-a-knot at both ends is the one cubic through them
        let s4 = CubicSpline::new(&x[1..5], &y[1..5]);
        for t in [0.0, 1.0, 3.5, 6.0] {
            assert!((s4.eval(t) - f(t)).abs() < 1e-9, "{t}");
        }
        let g = |t: f64| 2.0 * t * t - 3.0 * t + 0.5;
        let x3 = [1.0, 2.5, 4.0];
        let y3: Vec<f64> = x3.iter().map(|&t| g(t)).collect();
        let s3 = CubicSpline::new(&x3, &y3);
        for t in [0.0, 1.7, 3.9, 6.0] {
            assert!((s3.eval(t) - g(t)).abs() < 1e-9);
        }
    }

    #[test]
    fn index_helpers_follow_larch() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(index_of(&a, 0.5), 0);
        assert_eq!(index_of(&a, 2.0), 1);
        assert_eq!(index_of(&a, 3.9), 2);
        assert_eq!(index_of(&a, 9.0), 3);
        assert_eq!(index_nearest(&a, 2.6), 2);
        let d = remove_dups(&[1.0, 2.0, 3.0, 3.0, 3.0, 4.0], 1e-6);
        assert_eq!(d[3], 3.0 + 1e-6);
        assert_eq!(d[4], 3.0 + 2e-6);
        assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 25.0), 1.75);
    }
}
