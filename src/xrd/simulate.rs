//! Kinematic powder pattern of a structure, as pymatgen's `XRDCalculator`
//! computes it (recipe written down in data/xrd/README.md): every
//! reflection in the 2θ range, Mott–Bethe form factors with pymatgen's
//! coefficients, occupancies, optional Debye–Waller damping, the
//! Lorentz–polarization factor, and reflections merged into peaks with their
//! hkl families and multiplicities.

use std::collections::HashMap;
use std::sync::OnceLock;

use num_complex::Complex64;
use serde::Serialize;

use super::XrdError;
use crate::structure::Structure;

/// Named X-ray tube lines (Å), pymatgen's `WAVELENGTHS` table (Kα is the
/// weighted Kα1/Kα2 mean).
pub const WAVELENGTHS: [(&str, f64); 24] = [
    ("CuKa", 1.54184),
    ("CuKa2", 1.54439),
    ("CuKa1", 1.54056),
    ("CuKb1", 1.39222),
    ("MoKa", 0.71073),
    ("MoKa2", 0.71359),
    ("MoKa1", 0.70930),
    ("MoKb1", 0.63229),
    ("CrKa", 2.29100),
    ("CrKa2", 2.29361),
    ("CrKa1", 2.28970),
    ("CrKb1", 2.08487),
    ("FeKa", 1.93735),
    ("FeKa2", 1.93998),
    ("FeKa1", 1.93604),
    ("FeKb1", 1.75661),
    ("CoKa", 1.79026),
    ("CoKa2", 1.79285),
    ("CoKa1", 1.78896),
    ("CoKb1", 1.63079),
    ("AgKa", 0.560885),
    ("AgKa2", 0.563813),
    ("AgKa1", 0.559421),
    ("AgKb1", 0.497082),
];

/// A wavelength by name (`CuKa`, `mokα1`… case-insensitive) or in Å.
pub fn parse_wavelength(s: &str) -> Result<f64, XrdError> {
    let t = s.trim().replace('α', "a").replace('β', "b");
    if let Some((_, v)) = WAVELENGTHS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&t)) {
        return Ok(*v);
    }
    match t.trim_end_matches('Å').trim().parse::<f64>() {
        Ok(v)
            if v > crate::io::xrd::WAVELENGTH_RANGE_ANG.0
                && v < crate::io::xrd::WAVELENGTH_RANGE_ANG.1 =>
        {
            Ok(v)
        }
        Ok(v) => Err(XrdError::WavelengthOutOfRange(v)),
        Err(_) => Err(XrdError::UnknownWavelength {
            name: s.to_string(),
            known: WAVELENGTHS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// How thermal motion damps the form factors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DebyeWaller {
    /// None (pymatgen's default).
    Off,
    /// Each site's B (or 8π²U) from the CIF; sites without one are undamped.
    FromCif,
    /// One B (Å²) for every site.
    Uniform(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XrdOptions {
    pub wavelength_ang: f64,
    pub two_theta_min_deg: f64,
    pub two_theta_max_deg: f64,
    pub debye_waller: DebyeWaller,
}

impl Default for XrdOptions {
    fn default() -> Self {
        XrdOptions {
            wavelength_ang: 1.54184,
            two_theta_min_deg: 0.0,
            two_theta_max_deg: 90.0,
            debye_waller: DebyeWaller::FromCif,
        }
    }
}

/// One powder peak (reflections at the same 2θ merged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peak {
    #[serde(rename = "two_theta")]
    pub two_theta_deg: f64,
    /// Scaled so the strongest peak is 100.
    pub intensity: f64,
    /// d-spacing.
    #[serde(rename = "d")]
    pub d_ang: f64,
    /// One representative per family (4 indices on hexagonal cells).
    pub hkls: Vec<Vec<i32>>,
    /// Reflections in each family, Friedel mates included.
    pub multiplicity: Vec<usize>,
}

/// The peaks of a cell scaled by `lattice_scale` (every d × scale: thermal
/// expansion, solid solution, strain), their 2θ from Bragg's law at
/// `wavelength_ang`; peaks beyond 2θ = 180° are dropped.
pub fn rescale_lattice(peaks: &[Peak], lattice_scale: f64, wavelength_ang: f64) -> Vec<Peak> {
    peaks
        .iter()
        .filter_map(|p| {
            let d = p.d_ang * lattice_scale;
            crate::io::xrd::two_theta_from_d(d, wavelength_ang).map(|t| Peak {
                two_theta_deg: t,
                d_ang: d,
                ..p.clone()
            })
        })
        .collect()
}

/// pymatgen's Mott–Bethe coefficients: four (a, b) pairs per element.
fn coefficients() -> &'static HashMap<String, [[f64; 2]; 4]> {
    static C: OnceLock<HashMap<String, [[f64; 2]; 4]>> = OnceLock::new();
    C.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/xrd/atomic_scattering_params.json"))
            .unwrap_or_default()
    })
}

/// X-ray form factor at s = sinθ/λ (Å⁻¹): f = Z − 41.78214·s²·Σ aᵢ·exp(−bᵢs²)
/// (Mott–Bethe with electron-scattering Gaussians; pymatgen `XRDCalculator`).
pub fn form_factor(z: u32, coef: &[[f64; 2]; 4], s2: f64) -> f64 {
    z as f64 - 41.78214 * s2 * coef.iter().map(|[a, b]| a * (-b * s2).exp()).sum::<f64>()
}

/// pymatgen's `Lattice.is_hexagonal` (5° and 0.01 Å tolerances).
fn is_hexagonal(s: &Structure) -> bool {
    let l = &s.lattice;
    let angles = [l.alpha_deg, l.beta_deg, l.gamma_deg];
    let lengths = [l.a_ang, l.b_ang, l.c_ang];
    let right: Vec<usize> = (0..3).filter(|&i| (angles[i] - 90.0).abs() < 5.0).collect();
    let hex = (0..3)
        .filter(|&i| (angles[i] - 60.0).abs() < 5.0 || (angles[i] - 120.0).abs() < 5.0)
        .count();
    right.len() == 2 && hex == 1 && (lengths[right[0]] - lengths[right[1]]).abs() < 0.01
}

struct Reflection {
    hkl: [i32; 3],
    g_inv_ang: f64,
    two_theta_deg: f64,
    intensity: f64,
}

/// The stick pattern of `s` (pymatgen `get_pattern(scaled=True)`).
pub fn simulate(s: &Structure, o: &XrdOptions) -> Result<Vec<Peak>, XrdError> {
    let lambda = o.wavelength_ang;
    if !(lambda > 0.0 && lambda.is_finite()) {
        return Err(XrdError::WavelengthNotPositive(lambda));
    }
    if !(o.two_theta_min_deg >= 0.0
        && o.two_theta_max_deg <= 180.0
        && o.two_theta_min_deg < o.two_theta_max_deg)
    {
        return Err(XrdError::BadRange {
            min_deg: o.two_theta_min_deg,
            max_deg: o.two_theta_max_deg,
        });
    }
    let half = |deg: f64| (deg.to_radians() / 2.0).sin() * 2.0 / lambda;
    let (min_r, max_r) = (half(o.two_theta_min_deg), half(o.two_theta_max_deg));
    // θ and the Lorentz–polarization factor once per distinct g (the
    // reflections come sorted by g).
    let (mut last_g, mut tt, mut lp) = (f64::NAN, 0.0, 0.0);
    let refl: Vec<Reflection> = structure_factors(s, min_r, max_r, o.debye_waller)?
        .into_iter()
        .map(|(hkl, g, f2)| {
            if g != last_g {
                let theta = (lambda * g / 2.0).clamp(-1.0, 1.0).asin();
                lp = (1.0 + (2.0 * theta).cos().powi(2)) / (theta.sin().powi(2) * theta.cos());
                tt = (2.0 * theta).to_degrees();
                last_g = g;
            }
            Reflection {
                hkl,
                g_inv_ang: g,
                two_theta_deg: tt,
                intensity: 2.0 * f2 * lp,
            }
        })
        .collect();
    let hex = is_hexagonal(s);
    // Merge reflections whose 2θ rounds (half to even) to the same 1e-5°:
    // the key rises with g, so a bin is a run of the sorted reflections.
    struct Acc {
        two_theta_deg: f64,
        d_ang: f64,
        intensity: f64,
        /// Range of `refl` merged here.
        from: usize,
        to: usize,
    }
    let mut peaks: Vec<Acc> = Vec::new();
    let mut last_key = None;
    for (i, r) in refl.iter().enumerate() {
        let key = (r.two_theta_deg / 1e-5).round_ties_even() as i64;
        match peaks.last_mut() {
            Some(p) if last_key == Some(key) => {
                p.intensity += r.intensity;
                p.to = i + 1;
            }
            _ => peaks.push(Acc {
                two_theta_deg: r.two_theta_deg,
                d_ang: 1.0 / r.g_inv_ang,
                intensity: r.intensity,
                from: i,
                to: i + 1,
            }),
        }
        last_key = Some(key);
    }
    let imax = peaks.iter().map(|p| p.intensity).fold(0.0, f64::max);
    if imax <= 0.0 {
        return Ok(Vec::new());
    }
    Ok(peaks
        .into_iter()
        .filter(|p| p.intensity / imax * 100.0 > 1e-3)
        .map(|p| {
            let (hkls, multiplicity) = families(&refl[p.from..p.to], hex);
            Peak {
                two_theta_deg: p.two_theta_deg,
                intensity: p.intensity / imax * 100.0,
                d_ang: p.d_ang,
                hkls,
                multiplicity,
            }
        })
        .collect())
}

/// Insertion sort for the 3 or 4 Miller indices of a family key (the
/// general sort's setup dominates at this size).
#[inline]
fn sort_small(v: &mut [i32]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v[j - 1] > v[j] {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Sites of one element and B: (Z, B, form-factor coefficients, [(occupancy, frac)]).
type SiteGroup<'a> = (u32, f64, &'a [[f64; 2]; 4], Vec<(f64, [f64; 3])>);

/// Every reflection (h, k, l in the Friedel half-space) with
/// `g_min ≤ g ≤ g_max` (g = 1/d, Å⁻¹; `g_min = 0` means no lower limit, as
/// pymatgen) as (hkl, g, |F|²), sorted by g, then h, k, l descending.
pub fn structure_factors(
    s: &Structure,
    min_r: f64,
    max_r: f64,
    dw: DebyeWaller,
) -> Result<Vec<([i32; 3], f64, f64)>, XrdError> {
    let coefs = coefficients();
    // Sites grouped by (element, B): F = Σ_groups f(s)·e^{−Bs²}·Σ occ·e^{2πi h·x}.
    let mut groups: Vec<SiteGroup> = Vec::new();
    for site in &s.sites {
        let b = match dw {
            DebyeWaller::Off => 0.0,
            DebyeWaller::FromCif => site.b_iso_ang2.unwrap_or(0.0),
            DebyeWaller::Uniform(b) => b,
        };
        for sp in &site.species {
            let coef = coefs
                .get(sp.element)
                .ok_or_else(|| XrdError::NoScatteringFactors(sp.element.to_string()))?;
            match groups.iter_mut().find(|g| g.0 == sp.z && g.1 == b) {
                Some(g) => g.3.push((sp.occupancy, site.frac)),
                None => groups.push((sp.z, b, coef, vec![(sp.occupancy, site.frac)])),
            }
        }
    }
    // About (4π/3)·g_max³·V/2 reflections: refuse absurd requests.
    let volume = s.lattice.volume_ang3();
    let expected = 4.0 / 3.0 * std::f64::consts::PI * max_r.powi(3) * volume / 2.0;
    if expected.is_nan() || expected >= 2e7 {
        return Err(XrdError::TooManyReflections {
            expected,
            d_min_ang: 1.0 / max_r,
            volume_ang3: volume,
        });
    }
    let rec = s.lattice.reciprocal();
    let lim = |len: f64| (max_r * len).ceil() as i32 + 1;
    let (hm, km, lm) = (
        lim(s.lattice.a_ang),
        lim(s.lattice.b_ang),
        lim(s.lattice.c_ang),
    );
    // Flat site list (group by group) and phase tables e^{2πi n x} for
    // n = −max..=max, built by recurrence from e^{2πi x}.
    let mut occ: Vec<f64> = Vec::new();
    let mut group_end: Vec<usize> = Vec::new();
    let mut tabs: [Vec<Complex64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let widths = [
        (2 * hm + 1) as usize,
        (2 * km + 1) as usize,
        (2 * lm + 1) as usize,
    ];
    for g in &groups {
        for (o, x) in &g.3 {
            occ.push(*o);
            for (axis, m) in [hm, km, lm].into_iter().enumerate() {
                let step = Complex64::from_polar(1.0, 2.0 * std::f64::consts::PI * x[axis]);
                let mut z =
                    Complex64::from_polar(1.0, -2.0 * std::f64::consts::PI * m as f64 * x[axis]);
                for _ in 0..widths[axis] {
                    tabs[axis].push(z);
                    z *= step;
                }
            }
        }
        group_end.push(occ.len());
    }
    let nsites = occ.len();
    // e^{2πi l z} laid out l-major (all sites of one l contiguous), real
    // and imaginary parts apart, for the innermost sum.
    let (mut l_re, mut l_im) = (vec![0.0; widths[2] * nsites], vec![0.0; widths[2] * nsites]);
    for j in 0..nsites {
        for li in 0..widths[2] {
            let z = tabs[2][j * widths[2] + li];
            l_re[li * nsites + j] = z.re;
            l_im[li * nsites + j] = z.im;
        }
    }
    let (mut hk_re, mut hk_im) = (vec![0.0; nsites], vec![0.0; nsites]);
    let max_r2 = max_r * max_r;
    let c_star = rec[2];
    let cc = c_star[0] * c_star[0] + c_star[1] * c_star[1] + c_star[2] * c_star[2];
    let mut parts: Vec<Complex64> = Vec::with_capacity(expected as usize * groups.len() + 16);
    let mut found: Vec<([i32; 3], f64)> = Vec::with_capacity(expected as usize + 16);
    for h in 0..=hm {
        for k in -km..=km {
            if h == 0 && k < 0 {
                continue;
            }
            let p: [f64; 3] = std::array::from_fn(|i| h as f64 * rec[0][i] + k as f64 * rec[1][i]);
            // |p + l c*|² ≤ max_r²: a quadratic in l.
            let b = 2.0 * (p[0] * c_star[0] + p[1] * c_star[1] + p[2] * c_star[2]);
            let c = p[0] * p[0] + p[1] * p[1] + p[2] * p[2] - max_r2;
            let disc = b * b - 4.0 * cc * c;
            if disc < 0.0 {
                continue;
            }
            let root = disc.sqrt();
            let l_lo = (((-b - root) / (2.0 * cc)).floor() as i32 - 1).max(-lm);
            let l_hi = (((-b + root) / (2.0 * cc)).ceil() as i32 + 1).min(lm);
            let (hi, ki) = ((h + hm) as usize, (k + km) as usize);
            for j in 0..nsites {
                let z = occ[j] * tabs[0][j * widths[0] + hi] * tabs[1][j * widths[1] + ki];
                hk_re[j] = z.re;
                hk_im[j] = z.im;
            }
            for l in l_lo..=l_hi {
                // Friedel half-space: h > 0, or h = 0 and k > 0, or h = k = 0 and l > 0.
                if h == 0 && k == 0 && l <= 0 {
                    continue;
                }
                let gv: [f64; 3] = std::array::from_fn(|i| p[i] + l as f64 * c_star[i]);
                let g2 = gv[0] * gv[0] + gv[1] * gv[1] + gv[2] * gv[2];
                if g2 > max_r2 * (1.0 + 1e-12) {
                    continue;
                }
                let g = g2.sqrt();
                if g > max_r || (min_r > 0.0 && g < min_r) {
                    continue;
                }
                let li = (l + lm) as usize;
                let mut j0 = 0;
                for &end in &group_end {
                    let row = li * nsites;
                    parts.push(cdot(
                        &hk_re[j0..end],
                        &hk_im[j0..end],
                        &l_re[row + j0..row + end],
                        &l_im[row + j0..row + end],
                    ));
                    j0 = end;
                }
                found.push(([h, k, l], g));
            }
        }
    }
    // pymatgen's order: g ascending, then h, k, l descending. Symmetry-
    // equivalent reflections share g, so the form factors are evaluated
    // once per distinct g.
    // g > 0, so its bits order like the numbers; −h, −k, −l ascending is
    // h, k, l descending.
    // One u128 key per reflection: g's bits, then −h, −k, −l offset to be
    // non-negative in 21 bits each (|h|, |k|, |l| < 2²⁰ for any cell and
    // range the reflection-count guard lets through).
    const OFF: i64 = 1 << 20;
    let mut order: Vec<(u128, u32)> = found
        .iter()
        .enumerate()
        .map(|(i, (hkl, g))| {
            let packed = hkl
                .iter()
                .fold(0u128, |acc, &x| (acc << 21) | (OFF - i64::from(x)) as u128);
            ((u128::from(g.to_bits()) << 64) | packed, i as u32)
        })
        .collect();
    order.sort_unstable();
    let ng = groups.len();
    let mut ff = vec![0.0; ng];
    let mut ff_g = f64::NAN;
    let mut out = Vec::with_capacity(found.len());
    for &(.., i) in &order {
        let (hkl, g) = found[i as usize];
        if ff_g.is_nan() || (g - ff_g).abs() > 1e-13 * g {
            let s2 = (g / 2.0) * (g / 2.0);
            for (f, grp) in ff.iter_mut().zip(&groups) {
                *f = form_factor(grp.0, grp.2, s2);
                if grp.1 != 0.0 {
                    *f *= (-grp.1 * s2).exp();
                }
            }
            ff_g = g;
        }
        let part = &parts[i as usize * ng..(i as usize + 1) * ng];
        let f: Complex64 = part.iter().zip(&ff).map(|(s_, f)| *f * s_).sum();
        out.push((hkl, g, f.norm_sqr()));
    }
    Ok(out)
}

/// Σ aⱼ·bⱼ over complex numbers given as separate real and imaginary parts,
/// with four independent accumulators (the loop is bound by add latency).
#[inline]
fn cdot(ar: &[f64], ai: &[f64], br: &[f64], bi: &[f64]) -> Complex64 {
    let n = ar.len().min(ai.len()).min(br.len()).min(bi.len());
    let (mut re, mut im) = ([0.0f64; 4], [0.0f64; 4]);
    let full = n / 4 * 4;
    for c in (0..full).step_by(4) {
        for u in 0..4 {
            let j = c + u;
            re[u] += ar[j] * br[j] - ai[j] * bi[j];
            im[u] += ar[j] * bi[j] + ai[j] * br[j];
        }
    }
    for j in full..n {
        re[0] += ar[j] * br[j] - ai[j] * bi[j];
        im[0] += ar[j] * bi[j] + ai[j] * br[j];
    }
    Complex64::new(
        (re[0] + re[1]) + (re[2] + re[3]),
        (im[0] + im[1]) + (im[2] + im[3]),
    )
}

/// (g, |F|²) of every half-space reflection up to `g_max` (Å⁻¹), ascending g.
pub fn reflections(
    s: &Structure,
    g_max: f64,
    dw: DebyeWaller,
) -> Result<Vec<(f64, f64)>, XrdError> {
    Ok(structure_factors(s, 0.0, g_max, dw)?
        .into_iter()
        .map(|(_, g, f2)| (g, f2))
        .collect())
}

/// pymatgen `get_unique_families` over the reflections of one peak (each
/// with its Friedel mate, in order): group by sorted absolute indices; each
/// group is its largest member with the group's size.
fn families(refl: &[Reflection], hex: bool) -> (Vec<Vec<i32>>, Vec<usize>) {
    let index = |v: [i32; 3]| -> ([i32; 4], usize) {
        if hex {
            ([v[0], v[1], -v[0] - v[1], v[2]], 4)
        } else {
            ([v[0], v[1], v[2], 0], 3)
        }
    };
    // (sorted |indices|, largest member, count)
    let mut groups: Vec<([i32; 4], [i32; 4], usize)> = Vec::new();
    for r in refl {
        let neg = [-r.hkl[0], -r.hkl[1], -r.hkl[2]];
        for v in [r.hkl, neg] {
            let (h, n) = index(v);
            let mut key = [0i32; 4];
            for (k, x) in key.iter_mut().zip(&h[..n]) {
                *k = x.abs();
            }
            sort_small(&mut key[..n]);
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => {
                    if h[..n] > g.1[..n] {
                        g.1 = h;
                    }
                    g.2 += 1;
                }
                None => groups.push((key, h, 1)),
            }
        }
    }
    let n = if hex { 4 } else { 3 };
    groups
        .into_iter()
        .map(|(_, rep, c)| (rep[..n].to_vec(), c))
        .unzip()
}
