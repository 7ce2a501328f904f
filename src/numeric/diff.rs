//! Finite differences as NumPy computes them (`gradient`, and dy/dx as a
//! ratio of gradients).

/// NumPy `gradient` with unit spacing: central differences inside,
/// first-order one-sided differences at the ends.
pub fn gradient(y: &[f64]) -> Vec<f64> {
    let n = y.len();
    let mut g = vec![0.0; n];
    if n < 2 {
        return g;
    }
    g[0] = y[1] - y[0];
    g[n - 1] = y[n - 1] - y[n - 2];
    for i in 1..n - 1 {
        g[i] = 0.5 * (y[i + 1] - y[i - 1]);
    }
    g
}

/// dy/dx as NumPy's `gradient(y)/gradient(x)`.
pub fn deriv(x: &[f64], y: &[f64]) -> Vec<f64> {
    let gx = gradient(x);
    let mut gy = gradient(y);
    for (a, b) in gy.iter_mut().zip(&gx) {
        *a /= b;
    }
    gy
}
