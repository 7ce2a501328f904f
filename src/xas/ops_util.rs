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
    use crate::numeric::interp::CubicSpline;

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
