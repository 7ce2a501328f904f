//! Linear interpolation as NumPy's `interp` (clamped to the end values).

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
