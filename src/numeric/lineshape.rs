//! Peak shapes with unit area: Lorentzian (Larch's `lorentzian`) and the
//! pseudo-Voigt of powder diffraction.

/// Larch `lorentzian` line shape with unit amplitude.
pub fn lorentzian(x: f64, center: f64, sigma: f64) -> f64 {
    let u = (x - center) / sigma;
    1.0 / (1.0 + u * u) / (std::f64::consts::PI * sigma)
}

/// Unit-area pseudo-Voigt of FWHM `h` at offset `x` (Thompson, Cox &
/// Hastings, J. Appl. Cryst. 20 (1987) 79, with a shared width).
#[inline]
pub fn pseudo_voigt(x: f64, h: f64, eta: f64) -> f64 {
    let ln2 = std::f64::consts::LN_2;
    let z = x / h;
    let g = 2.0 / h * (ln2 / std::f64::consts::PI).sqrt() * (-4.0 * ln2 * z * z).exp();
    let l = 2.0 / (std::f64::consts::PI * h) / (1.0 + 4.0 * z * z);
    eta * l + (1.0 - eta) * g
}
