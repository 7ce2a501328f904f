//! χ(k) of one scattering path from its FEFF table, evaluated the way Larch's
//! `FeffPathGroup._calc_chi` does (larch/xafs/feffdat.py).

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use super::sigma2::DebyeGeometry;
use crate::io::feff::FeffPath;
use crate::numeric::bspline::{Interpolator, basis};
use crate::units::ETOK;

/// Larch's path parameters. `degen` overrides the FEFF degeneracy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PathParams {
    pub s02: f64,
    /// Energy shift of the k origin, eV.
    pub e0: f64,
    /// Imaginary energy (extra broadening), eV.
    pub ei: f64,
    /// Change of half path length, Å.
    pub deltar: f64,
    /// Mean-square relative displacement σ², Å².
    pub sigma2: f64,
    /// Third cumulant, Å³.
    pub third: f64,
    /// Fourth cumulant, Å⁴.
    pub fourth: f64,
    pub degen: Option<f64>,
}

impl Default for PathParams {
    fn default() -> Self {
        PathParams {
            s02: 1.0,
            e0: 0.0,
            ei: 0.0,
            deltar: 0.0,
            sigma2: 0.0,
            third: 0.0,
            fourth: 0.0,
            degen: None,
        }
    }
}

/// χ(k) of a path: Larch's `chi` (imaginary part of the complex χ) and
/// `chi_imag` (minus its real part).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathChi {
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    pub chi_imag: Vec<f64>,
}

/// A FEFF path prepared for fast repeated evaluation: the amplitude, phase,
/// mean free path and real momentum tables as interpolating cubic splines
/// (SciPy `UnivariateSpline(s=0)`, as Larch), built once.
#[derive(Debug, Clone)]
pub struct PathModel {
    pub reff_ang: f64,
    pub degen: f64,
    pub rmass_amu: f64,
    /// Left ends of the spline pieces (the knot intervals in use).
    breaks: Vec<f64>,
    /// Power-form coefficients of pha, amp, rep, lam on each piece, in
    /// powers of (k − break): evaluation needs no basis functions.
    pieces: Vec<[[f64; 4]; 4]>,
    kmax_table: f64,
}

/// Standard atomic masses (amu) for Z = 1..=98, as xraydb (used by Larch) lists them.
pub const ATOMIC_MASS_AMU: [f64; 98] = [
    1.0078, 4.0026, 6.94, 9.0122, 10.81, 12.011, 14.007, 15.999, 18.9984, 20.1797, 22.9898, 24.305,
    26.9815, 28.085, 30.9738, 32.06, 35.453, 39.948, 39.0983, 40.078, 44.9559, 47.867, 50.9415,
    51.996, 54.938, 55.845, 58.9332, 58.6934, 63.546, 65.38, 69.72, 72.63, 74.9216, 78.971, 79.904,
    83.798, 85.4678, 87.62, 88.9058, 91.224, 92.9064, 95.95, 97.907, 101.07, 102.906, 106.42,
    107.868, 112.414, 114.818, 118.71, 121.76, 127.6, 126.905, 131.293, 132.905, 137.327, 138.905,
    140.116, 140.908, 144.242, 145.0, 150.36, 151.96, 157.25, 158.925, 162.5, 164.93, 167.259,
    168.934, 173.045, 174.967, 178.49, 180.948, 183.84, 186.207, 190.23, 192.217, 195.084, 196.967,
    200.592, 204.383, 207.2, 208.98, 209.0, 210.0, 222.0, 223.0, 226.0, 227.0, 232.038, 231.036,
    238.029, 237.048, 239.052, 243.0, 247.0, 247.0, 251.0,
];

/// Reduced mass of a path's atoms, amu: 1/Σ 1/max(1, mᵢ) (Larch `FeffDatFile.rmass`).
pub fn reduced_mass_amu(path: &FeffPath) -> f64 {
    let inv: f64 = path
        .geometry
        .iter()
        .map(|a| 1.0 / atomic_mass_amu(a.iz).max(1.0))
        .sum();
    if inv > 0.0 { 1.0 / inv } else { f64::NAN }
}

/// [`ATOMIC_MASS_AMU`] for atomic number `iz`; 1 outside the table.
pub fn atomic_mass_amu(iz: u32) -> f64 {
    (iz as usize)
        .checked_sub(1)
        .and_then(|i| ATOMIC_MASS_AMU.get(i))
        .copied()
        .unwrap_or(1.0)
}

impl DebyeGeometry {
    /// The path's atoms with xraydb masses and FEFF's `rnrmav` (bohr, as
    /// Larch passes it to the correlated Debye model).
    pub fn from_feff(path: &FeffPath) -> DebyeGeometry {
        DebyeGeometry::new(
            path.geometry
                .iter()
                .map(|a| [a.x_ang, a.y_ang, a.z_ang])
                .collect(),
            path.geometry
                .iter()
                .map(|a| atomic_mass_amu(a.iz))
                .collect(),
            path.rnorman_bohr,
        )
    }
}

/// Energies closer to the edge than this are moved off it (Larch `SMALL_ENERGY`).
const SMALL_ENERGY: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    #[error("path reff = {0} Å is too small to calculate χ(k)")]
    TinyReff(f64),
    #[error("FEFF table is unusable: {0}")]
    Table(String),
    #[error("invalid path parameter {name} = {value}")]
    BadParam { name: &'static str, value: f64 },
}

impl PathModel {
    pub fn new(path: &FeffPath) -> Result<Self, PathError> {
        if path.reff_ang < 0.05 {
            return Err(PathError::TinyReff(path.reff_ang));
        }
        let k = &path.k_inv_ang;
        let spline = Interpolator::new(k).ok_or_else(|| {
            PathError::Table(format!(
                "{} k points, not strictly increasing or too few",
                k.len()
            ))
        })?;
        let fit = |y: Vec<f64>| {
            let mut c = y;
            spline.solve(&mut c);
            c
        };
        let coefs = [
            fit(path.pha()),
            fit(path.amp()),
            fit(path.rep_inv_ang.clone()),
            fit(path.lam_ang.clone()),
        ];
        if coefs
            .iter()
            .any(|c| c.len() != k.len() || c.iter().any(|v| !v.is_finite()))
        {
            return Err(PathError::Table("non-finite values".into()));
        }
        let (breaks, pieces) = power_form(&spline.knots, spline.ncoef(), &coefs);
        Ok(PathModel {
            reff_ang: path.reff_ang,
            degen: path.degen,
            rmass_amu: reduced_mass_amu(path),
            breaks,
            pieces,
            kmax_table: k.last().copied().unwrap_or(0.0),
        })
    }

    /// Larch's default k grid for a path: 0.05 steps up to min(kmax, table end).
    pub fn default_k(&self, kmax: f64, kstep: f64) -> Vec<f64> {
        let kmax = kmax.min(self.kmax_table);
        crate::numeric::grid::uniform(kstep, (1.01 + kmax / kstep) as usize)
    }

    /// The EXAFS equation for this path (Larch `_calc_chi`; Newville,
    /// *Fundamentals of XAFS* (2014) eq. 10, complex form with cumulants).
    pub fn chi(&self, k_inv_ang: &[f64], p: &PathParams) -> Result<PathChi, PathError> {
        for (name, v) in [
            ("s02", p.s02),
            ("e0", p.e0),
            ("ei", p.ei),
            ("deltar", p.deltar),
            ("sigma2", p.sigma2),
            ("third", p.third),
            ("fourth", p.fourth),
            ("degen", p.degen.unwrap_or(self.degen)),
        ] {
            if !v.is_finite() {
                return Err(PathError::BadParam { name, value: v });
            }
        }
        let t = self.tables(k_inv_ang, p.e0, p.ei);
        let n = k_inv_ang.len();
        let mut cchi: Vec<Complex64> = (0..n).map(|j| self.cchi_at(&t, j, p)).collect();
        if n > 2 {
            cchi[0] = 2.0 * cchi[1] - cchi[2];
        }
        Ok(PathChi {
            k_inv_ang: k_inv_ang.to_vec(),
            chi: cchi.iter().map(|c| c.im).collect(),
            chi_imag: cchi.iter().map(|c| -c.re).collect(),
        })
    }

    /// The tables on a k grid that depend only on e0 and ei (splines of
    /// the FEFF data at the shifted k, complex momentum): computed once and
    /// reused while a fit varies the other path parameters.
    pub fn tables(&self, k_inv_ang: &[f64], e0: f64, ei: f64) -> PathTables {
        let n = k_inv_ang.len();
        let q: Vec<f64> = k_inv_ang
            .iter()
            .map(|&k| {
                let mut en = k * k - e0 * ETOK;
                if en.abs() < 1.5 * SMALL_ENERGY {
                    en = SMALL_ENERGY;
                }
                en.signum() * en.abs().sqrt()
            })
            .collect();
        let mut tab = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
        // q rises with k: walk the pieces forward (outside the table the end
        // pieces extrapolate, as FITPACK's ext=0).
        let last = self.breaks.len() - 1;
        let mut l = 0;
        for (j, &x) in q.iter().enumerate() {
            if x < self.breaks[l] {
                l = self.breaks.partition_point(|&b| b <= x).saturating_sub(1);
            }
            while l < last && self.breaks[l + 1] <= x {
                l += 1;
            }
            let d = x - self.breaks[l];
            for (t, c) in tab.iter_mut().zip(&self.pieces[l]) {
                t[j] = c[0] + d * (c[1] + d * (c[2] + d * c[3]));
            }
        }
        let [pha, amp, rep, lam] = tab;
        let i = Complex64::new(0.0, 1.0);
        let pp: Vec<Complex64> = rep
            .iter()
            .zip(&lam)
            .map(|(&r, &l)| (r + i / l).powi(2) + i * (ei * ETOK))
            .collect();
        let pc = pp.iter().map(|&p| csqrt(p)).collect();
        PathTables {
            e0,
            ei,
            q,
            pha,
            amp,
            pp,
            pc,
        }
    }

    /// Complex χ at point `j` of tables `t` (Larch `_calc_chi`, before its
    /// first-point extrapolation).
    #[inline]
    fn cchi_at(&self, t: &PathTables, j: usize, p: &PathParams) -> Complex64 {
        let i = Complex64::new(0.0, 1.0);
        let reff = self.reff_ang;
        let degen = p.degen.unwrap_or(self.degen);
        let (q, pp, pc) = (t.q[j], t.pp[j], t.pc[j]);
        let expo = -2.0 * reff * pc.im - 2.0 * pp * (p.sigma2 - pp * p.fourth / 3.0)
            + i * (2.0 * q * reff
                + t.pha[j]
                + 2.0 * pc * (p.deltar - 2.0 * p.sigma2 / reff - 2.0 * pp * p.third / 3.0));
        degen * p.s02 * t.amp[j] * expo.exp() / (q * (reff + p.deltar).powi(2))
    }

    /// Larch's `chi` (the imaginary part) from tables made for `p.e0`,
    /// `p.ei`, written to `out` (same length as the tables' k grid).
    pub fn chi_into(&self, t: &PathTables, p: &PathParams, out: &mut [f64]) {
        // Only Im χ is needed: exp(Re)·sin(Im) instead of the complex exp.
        // The phases go to `out` first so the sines run vectorised.
        let i = Complex64::new(0.0, 1.0);
        let reff = self.reff_ang;
        let scale = p.degen.unwrap_or(self.degen) * p.s02 / (reff + p.deltar).powi(2);
        let dr = p.deltar - 2.0 * p.sigma2 / reff;
        let n = out.len().min(t.len());
        let mut mag = vec![0.0; n];
        for (j, (o, m)) in out.iter_mut().zip(mag.iter_mut()).enumerate() {
            let (q, pp, pc) = (t.q[j], t.pp[j], t.pc[j]);
            let expo = -2.0 * reff * pc.im - 2.0 * pp * (p.sigma2 - pp * p.fourth / 3.0)
                + i * (2.0 * q * reff + t.pha[j] + 2.0 * pc * (dr - 2.0 * pp * p.third / 3.0));
            *m = scale * t.amp[j] * expo.re.exp() / q;
            *o = expo.im;
        }
        crate::numeric::kernels::sin_in_place(&mut out[..n]);
        for (o, m) in out.iter_mut().zip(&mag) {
            *o *= m;
        }
        if out.len() > 2 {
            out[0] = 2.0 * out[1] - out[2];
        }
    }
}

/// The cubic pieces of B-splines (knots `t`, `ncoef` coefficients each) in
/// power form about each piece's left end: the spline is sampled at four
/// equispaced points per piece and the cubic through them expanded.
fn power_form(t: &[f64], ncoef: usize, coefs: &[Vec<f64>; 4]) -> (Vec<f64>, Vec<[[f64; 4]; 4]>) {
    let mut breaks = Vec::with_capacity(ncoef - 3);
    let mut pieces = Vec::with_capacity(ncoef - 3);
    for l in 3..ncoef {
        let (a, h) = (t[l], t[l + 1] - t[l]);
        let u = h / 3.0;
        let mut piece = [[0.0; 4]; 4];
        let b: [[f64; 4]; 4] = std::array::from_fn(|m| basis(t, l, a + u * m as f64));
        for (p, c) in piece.iter_mut().zip(coefs) {
            let y: [f64; 4] = std::array::from_fn(|m| (0..4).map(|i| b[m][i] * c[l - 3 + i]).sum());
            // Forward differences on the nodes u = 0, 1, 2, 3 (Newton form).
            let d1 = y[1] - y[0];
            let d2 = y[2] - 2.0 * y[1] + y[0];
            let d3 = y[3] - 3.0 * y[2] + 3.0 * y[1] - y[0];
            *p = [
                y[0],
                (d1 - d2 / 2.0 + d3 / 3.0) / u,
                (d2 / 2.0 - d3 / 2.0) / (u * u),
                d3 / 6.0 / (u * u * u),
            ];
        }
        breaks.push(a);
        pieces.push(piece);
    }
    (breaks, pieces)
}

/// The principal square root of `z` in closed form (Kahan's branch-stable
/// formulas): no atan2/sincos, unlike the polar form of `Complex::sqrt`.
#[inline]
fn csqrt(z: Complex64) -> Complex64 {
    let (x, y) = (z.re, z.im);
    let r = x.hypot(y);
    if r == 0.0 {
        return Complex64::new(0.0, y);
    }
    if x >= 0.0 {
        let t = (0.5 * (r + x)).sqrt();
        Complex64::new(t, y / (2.0 * t))
    } else {
        let t = (0.5 * (r - x)).sqrt();
        Complex64::new(y.abs() / (2.0 * t), t.copysign(y))
    }
}

/// e0/ei-dependent tables of a path on a k grid ([`PathModel::tables`]).
#[derive(Debug, Clone, Default)]
pub struct PathTables {
    pub e0: f64,
    pub ei: f64,
    q: Vec<f64>,
    pha: Vec<f64>,
    amp: Vec<f64>,
    pp: Vec<Complex64>,
    pc: Vec<Complex64>,
}

impl PathTables {
    /// Number of k points the tables were made for.
    pub fn len(&self) -> usize {
        self.q.len()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// The wavenumber each point was evaluated at (k shifted by e0), Å⁻¹.
    pub fn q(&self) -> &[f64] {
        &self.q
    }

    /// Total phase (2δc + phase of F_eff) at each point (rad).
    pub fn pha(&self) -> &[f64] {
        &self.pha
    }

    /// Amplitude |F_eff|·reduction at each point.
    pub fn amp(&self) -> &[f64] {
        &self.amp
    }

    /// Complex momentum squared, (Re p + i/λ)² + i·ei (Å⁻²).
    pub fn pp(&self) -> &[Complex64] {
        &self.pp
    }

    /// Complex momentum, the principal root of [`Self::pp`] (Å⁻¹).
    pub fn pc(&self) -> &[Complex64] {
        &self.pc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csqrt_is_the_principal_root() {
        for &(x, y) in &[
            (4.0, 0.0),
            (-4.0, 0.0),
            (-4.0, -0.0),
            (3.0, 4.0),
            (-3.0, 4.0),
            (-3.0, -4.0),
            (1e-9, 25.0),
            (-250.0, 1e-3),
            (0.0, 0.0),
        ] {
            let z = Complex64::new(x, y);
            let (a, b) = (csqrt(z), z.sqrt());
            assert!(
                (a - b).norm() <= 1e-15 * b.norm().max(1e-300),
                "{z}: {a} vs {b}"
            );
            assert!(((a * a) - z).norm() <= 1e-14 * z.norm().max(1e-300), "{z}");
        }
    }
}
