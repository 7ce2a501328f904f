//! σ² models for a scattering path: Einstein and correlated Debye, as Larch's
//! `sigma2_eins` / `sigma2_debye` (larch/xafs/sigma2_models.py) compute them.

use std::sync::Mutex;

/// 10²⁰·ħ²/(2 k_B amu) in Å²·K, so σ² = EINS_FACTOR/(θ·μ·tanh(θ/2T)) (Larch `EINS_FACTOR`, scipy CODATA).
pub const EINS_FACTOR: f64 = 24.254_367_056_580_552;

/// Einstein model mean-square displacement, Å² (Sevillano, Meuth & Rehr,
/// Phys. Rev. B 20, 4908 (1979); Larch `sigma2_eins`).
pub fn sigma2_eins(t_kelvin: f64, theta_kelvin: f64, rmass_amu: f64) -> f64 {
    let t = t_kelvin.max(1e-5);
    let theta = theta_kelvin.max(1e-5);
    EINS_FACTOR / (theta * rmass_amu * (theta / (2.0 * t)).tanh())
}

/// The atoms of a path as the correlated Debye model needs them, plus a
/// one-entry cache of the last σ² (see [`DebyeGeometry::sigma2`]).
#[derive(Debug)]
pub struct DebyeGeometry {
    positions_ang: Vec<[f64; 3]>,
    masses_amu: Vec<f64>,
    rnorman_bohr: f64,
    /// Last (T bits, θ bits, σ²) computed by [`DebyeGeometry::sigma2`].
    last: Mutex<Option<(u64, u64, f64)>>,
}

impl DebyeGeometry {
    /// `positions_ang`: atom positions (x, y, z), Å, in path order, absorber
    /// first; `masses_amu`: one mass per atom (xraydb's, as Larch's
    /// `feffdat.geom`); `rnorman_bohr`: FEFF's average Norman radius `rnrmav`
    /// in **bohr**, exactly as the feffNNNN.dat header gives it — Larch hands
    /// `feffdat.rnorman` to `sigma2_correldebye` unconverted (its docstring says
    /// Å, but the FEFF6 routine divides by the Bohr radius in `conr`, i.e.
    /// expects bohr).
    pub fn new(positions_ang: Vec<[f64; 3]>, masses_amu: Vec<f64>, rnorman_bohr: f64) -> Self {
        DebyeGeometry {
            positions_ang,
            masses_amu,
            rnorman_bohr,
            last: Mutex::new(None),
        }
    }

    pub fn positions_ang(&self) -> &[[f64; 3]] {
        &self.positions_ang
    }

    pub fn masses_amu(&self) -> &[f64] {
        &self.masses_amu
    }

    pub fn rnorman_bohr(&self) -> f64 {
        self.rnorman_bohr
    }

    /// [`sigma2_debye`] for this path, remembering the last (T, θ): a fit
    /// evaluates expressions far more often than T and θ change, and one
    /// evaluation costs tens of µs (Romberg integrations). Never blocks: if
    /// another thread holds the cache the value is just computed.
    pub fn sigma2(&self, t_kelvin: f64, theta_kelvin: f64) -> f64 {
        let key = (t_kelvin.to_bits(), theta_kelvin.to_bits());
        if let Ok(last) = self.last.try_lock()
            && let Some((t, th, v)) = *last
            && (t, th) == key
        {
            return v;
        }
        let v = sigma2_debye(t_kelvin, theta_kelvin, self);
        if let Ok(mut last) = self.last.try_lock() {
            *last = Some((key.0, key.1, v));
        }
        v
    }
}

impl Clone for DebyeGeometry {
    fn clone(&self) -> Self {
        DebyeGeometry::new(
            self.positions_ang.clone(),
            self.masses_amu.clone(),
            self.rnorman_bohr,
        )
    }
}

/// Equal when the atoms and Norman radius are (the cache does not count).
impl PartialEq for DebyeGeometry {
    fn eq(&self, other: &Self) -> bool {
        self.positions_ang == other.positions_ang
            && self.masses_amu == other.masses_amu
            && self.rnorman_bohr == other.rnorman_bohr
    }
}

/// (3/2)·ħ²/(k_B·amu)·10²⁰, Å²·K (FEFF6 `sigms.f` `conh`, kept for compatibility).
const CONH: f64 = 72.763_080_473_255_3;
/// (9π/2)^(1/3)/a₀, Å⁻¹ (FEFF6 `sigms.f` `conr`).
const CONR: f64 = 4.569_334_970_084_4;

/// Correlated Debye model σ², Å²: Sevillano, Meuth & Rehr, PRB 20, 4908 (1979), ported from FEFF6 `sigms.f` (Rehr, Zabinsky, Newville) as Larch calls it.
///
/// T and θ are clamped to ≥ 1e-5 K as in Larch. A path with fewer than two
/// atoms (or mismatched position and mass lists) gives 0.
pub fn sigma2_debye(t_kelvin: f64, theta_kelvin: f64, geom: &DebyeGeometry) -> f64 {
    let theta = theta_kelvin.max(1e-5);
    let tk = t_kelvin.max(1e-5);
    let (pos, mass) = (&geom.positions_ang, &geom.masses_amu);
    let n = pos.len();
    if n < 2 || mass.len() != n {
        return 0.0;
    }
    let tx = theta / tk;
    // The Debye integral depends only on the distance (for given T, θ), and a
    // path repeats distances a lot (every i = j pair has two zeros): integrate
    // once per distinct distance. Same bits in, same bits out: results are
    // identical to integrating every time.
    let mut integrals: Vec<(u64, f64)> = Vec::with_capacity(2 * n);
    let mut corr = |r: f64, m1: f64, m2: f64| -> f64 {
        let key = r.to_bits();
        let int = match integrals.iter().find(|(k, _)| *k == key) {
            Some(&(_, v)) => v,
            None => {
                let v = debint(CONR * r / geom.rnorman_bohr, tx);
                integrals.push((key, v));
                v
            }
        };
        CONH * int / (theta * (m1 * m2).sqrt())
    };
    let mut sig2 = 0.0;
    for i0 in 0..n {
        let i1 = (i0 + 1) % n;
        for j0 in i0..n {
            let j1 = (j0 + 1) % n;
            let ri0j0 = dist(pos[i0], pos[j0]);
            let ri1j1 = dist(pos[i1], pos[j1]);
            let ri0j1 = dist(pos[i0], pos[j1]);
            let ri1j0 = dist(pos[i1], pos[j0]);
            let ri0i1 = dist(pos[i0], pos[i1]);
            let rj0j1 = dist(pos[j0], pos[j1]);
            let ridotj = (pos[i0][0] - pos[i1][0]) * (pos[j0][0] - pos[j1][0])
                + (pos[i0][1] - pos[i1][1]) * (pos[j0][1] - pos[j1][1])
                + (pos[i0][2] - pos[i1][2]) * (pos[j0][2] - pos[j1][2]);
            let ci0j0 = corr(ri0j0, mass[i0], mass[j0]);
            let ci1j1 = corr(ri1j1, mass[i1], mass[j1]);
            let ci0j1 = corr(ri0j1, mass[i0], mass[j1]);
            let ci1j0 = corr(ri1j0, mass[i1], mass[j0]);
            let mut sig2ij = ridotj * (ci0j0 + ci1j1 - ci0j1 - ci1j0) / (ri0i1 * rj0j1);
            if j0 == i0 {
                sig2ij /= 2.0;
            }
            sig2 += sig2ij;
        }
    }
    sig2 / 2.0
}

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// (sin(w·rx)/rx)·coth(w·tx/2), with its w → 0 limit 2/tx.
fn debfun(w: f64, rx: f64, tx: f64) -> f64 {
    if w > 1e-20 {
        let s = if rx > 0.0 { (w * rx).sin() / rx } else { w };
        let emwt = (-(w * tx).min(50.0)).exp();
        s * (1.0 + emwt) / (1.0 - emwt)
    } else {
        2.0 / tx
    }
}

/// ∫₀¹ debfun(w) dw: trapezoid rule with binary refinement and one Richardson
/// step (Simpson), relative tolerance 1e-9, at most 12 refinements (FEFF6 `debint`).
fn debint(rx: f64, tx: f64) -> f64 {
    let mut itn = 1usize;
    let mut del = 1.0;
    let mut result = 0.0;
    let mut bn = (debfun(0.0, rx, tx) + debfun(1.0, rx, tx)) / 2.0;
    let mut bo = bn;
    for _ in 0..12 {
        del /= 2.0;
        let mut sum = 0.0;
        for i in 1..=itn {
            sum += debfun((2.0 * i as f64 - 1.0) * del, rx, tx);
        }
        let bnp1 = del * sum + bn / 2.0;
        result = (4.0 * bnp1 - bn) / 3.0;
        if ((result - bo) / result).abs() < 1e-9 {
            break;
        }
        bn = bnp1;
        bo = result;
        itn *= 2;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cu_pair() -> DebyeGeometry {
        DebyeGeometry::new(
            vec![[0.0; 3], [-1.8016, 0.0, 1.8016]],
            vec![63.546, 63.546],
            2.63,
        )
    }

    #[test]
    fn debye_cu_first_shell_matches_larch() {
        // Larch sigma2_debye(300, 315, feffpath('feff/cu/feff0001.dat')).
        let s = sigma2_debye(300.0, 315.0, &cu_pair());
        assert!((s / 0.009038150232917746 - 1.0).abs() < 1e-9, "{s}");
    }

    #[test]
    fn debye_degenerate_geometry_is_zero() {
        let g = DebyeGeometry::new(vec![[0.0; 3]], vec![63.546], 2.63);
        assert_eq!(sigma2_debye(300.0, 315.0, &g), 0.0);
    }

    #[test]
    fn debye_high_temperature_is_linear_in_t() {
        let g = cu_pair();
        let (a, b) = (
            sigma2_debye(2000.0, 315.0, &g),
            sigma2_debye(4000.0, 315.0, &g),
        );
        assert!((b / a - 2.0).abs() < 0.01, "{a} {b}");
    }

    #[test]
    fn cached_value_follows_t_and_theta() {
        let g = cu_pair();
        for (t, th) in [
            (300.0, 315.0),
            (300.0, 315.0),
            (10.0, 315.0),
            (10.0, 200.0),
            (300.0, 315.0),
        ] {
            assert_eq!(g.sigma2(t, th), sigma2_debye(t, th, &g), "{t} {th}");
        }
        assert_eq!(g.clone(), g);
    }
}
