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
pub fn parse_wavelength(s: &str) -> Result<f64, String> {
    let t = s.trim().replace('α', "a").replace('β', "b");
    if let Some((_, v)) = WAVELENGTHS.iter().find(|(n, _)| n.eq_ignore_ascii_case(&t)) {
        return Ok(*v);
    }
    match t.trim_end_matches('Å').trim().parse::<f64>() {
        Ok(v) if v > 0.01 && v < 20.0 => Ok(v),
        Ok(v) => Err(format!("wavelength {v} Å is outside 0.01–20 Å")),
        Err(_) => Err(format!(
            "unknown wavelength '{s}' (a number in Å or one of {})",
            WAVELENGTHS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )),
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
    pub two_theta: f64,
    /// Scaled so the strongest peak is 100.
    pub intensity: f64,
    /// d-spacing (Å).
    pub d: f64,
    /// One representative per family (4 indices on hexagonal cells).
    pub hkls: Vec<Vec<i32>>,
    /// Reflections in each family, Friedel mates included.
    pub multiplicity: Vec<usize>,
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
    let angles = [l.alpha, l.beta, l.gamma];
    let lengths = [l.a, l.b, l.c];
    let right: Vec<usize> = (0..3).filter(|&i| (angles[i] - 90.0).abs() < 5.0).collect();
    let hex = (0..3)
        .filter(|&i| (angles[i] - 60.0).abs() < 5.0 || (angles[i] - 120.0).abs() < 5.0)
        .count();
    right.len() == 2 && hex == 1 && (lengths[right[0]] - lengths[right[1]]).abs() < 0.01
}

struct Reflection {
    hkl: [i32; 3],
    g: f64,
    two_theta: f64,
    intensity: f64,
}

/// The stick pattern of `s` (pymatgen `get_pattern(scaled=True)`).
pub fn simulate(s: &Structure, o: &XrdOptions) -> Result<Vec<Peak>, String> {
    let lambda = o.wavelength_ang;
    if !(lambda > 0.0 && lambda.is_finite()) {
        return Err(format!("wavelength {lambda} Å is not positive"));
    }
    if !(o.two_theta_min_deg >= 0.0
        && o.two_theta_max_deg <= 180.0
        && o.two_theta_min_deg < o.two_theta_max_deg)
    {
        return Err(format!(
            "2θ range {}–{}° must be increasing within 0–180°",
            o.two_theta_min_deg, o.two_theta_max_deg
        ));
    }
    let half = |deg: f64| (deg.to_radians() / 2.0).sin() * 2.0 / lambda;
    let (min_r, max_r) = (half(o.two_theta_min_deg), half(o.two_theta_max_deg));
    let mut refl: Vec<Reflection> = Vec::new();
    structure_factors(s, min_r, max_r, o.debye_waller, |hkl, g, f2| {
        let theta = (lambda * g / 2.0).clamp(-1.0, 1.0).asin();
        let lp = (1.0 + (2.0 * theta).cos().powi(2)) / (theta.sin().powi(2) * theta.cos());
        refl.push(Reflection {
            hkl,
            g,
            two_theta: (2.0 * theta).to_degrees(),
            intensity: 2.0 * f2 * lp,
        });
    })?;
    // pymatgen's order: g ascending, then h, k, l descending.
    refl.sort_by(|a, b| {
        a.g.total_cmp(&b.g)
            .then(b.hkl[0].cmp(&a.hkl[0]))
            .then(b.hkl[1].cmp(&a.hkl[1]))
            .then(b.hkl[2].cmp(&a.hkl[2]))
    });
    let hex = is_hexagonal(s);
    let index = |v: [i32; 3]| -> Vec<i32> {
        if hex {
            vec![v[0], v[1], -v[0] - v[1], v[2]]
        } else {
            v.to_vec()
        }
    };
    // Merge reflections whose 2θ rounds (half to even) to the same 1e-5°.
    struct Acc {
        key: i64,
        two_theta: f64,
        d: f64,
        intensity: f64,
        hkls: Vec<Vec<i32>>,
    }
    let mut peaks: Vec<Acc> = Vec::new();
    let mut by_key: HashMap<i64, usize> = HashMap::new();
    for r in &refl {
        let key = (r.two_theta / 1e-5).round_ties_even() as i64;
        let neg = [-r.hkl[0], -r.hkl[1], -r.hkl[2]];
        match by_key.get(&key) {
            Some(&i) => {
                let p = &mut peaks[i];
                p.intensity += r.intensity;
                p.hkls.push(index(r.hkl));
                p.hkls.push(index(neg));
            }
            None => {
                by_key.insert(key, peaks.len());
                peaks.push(Acc {
                    key,
                    two_theta: r.two_theta,
                    d: 1.0 / r.g,
                    intensity: r.intensity,
                    hkls: vec![index(r.hkl), index(neg)],
                });
            }
        }
    }
    peaks.sort_by_key(|p| p.key);
    let imax = peaks.iter().map(|p| p.intensity).fold(0.0, f64::max);
    if imax <= 0.0 {
        return Ok(Vec::new());
    }
    Ok(peaks
        .into_iter()
        .filter(|p| p.intensity / imax * 100.0 > 1e-3)
        .map(|p| {
            let (hkls, multiplicity) = families(&p.hkls);
            Peak {
                two_theta: p.two_theta,
                intensity: p.intensity / imax * 100.0,
                d: p.d,
                hkls,
                multiplicity,
            }
        })
        .collect())
}

/// Sites of one element and B: (Z, B, form-factor coefficients, [(occupancy, frac)]).
type SiteGroup<'a> = (u32, f64, &'a [[f64; 2]; 4], Vec<(f64, [f64; 3])>);

/// Every reflection (h, k, l in the Friedel half-space) with
/// `g_min ≤ g ≤ g_max` (g = 1/d, Å⁻¹; `g_min = 0` means no lower limit, as
/// pymatgen), given to `visit(hkl, g, |F|²)` in generation order.
pub fn structure_factors(
    s: &Structure,
    min_r: f64,
    max_r: f64,
    dw: DebyeWaller,
    mut visit: impl FnMut([i32; 3], f64, f64),
) -> Result<(), String> {
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
                .ok_or_else(|| format!("no X-ray scattering coefficients for {}", sp.element))?;
            match groups.iter_mut().find(|g| g.0 == sp.z && g.1 == b) {
                Some(g) => g.3.push((sp.occupancy, site.frac)),
                None => groups.push((sp.z, b, coef, vec![(sp.occupancy, site.frac)])),
            }
        }
    }
    let rec = s.lattice.reciprocal();
    let lim = |len: f64| (max_r * len).ceil() as i32 + 1;
    let (hm, km, lm) = (lim(s.lattice.a), lim(s.lattice.b), lim(s.lattice.c));
    // Phase tables e^{2πi n x} per site and axis, n = −max..=max.
    let tables: Vec<Vec<[Vec<Complex64>; 3]>> = groups
        .iter()
        .map(|g| {
            g.3.iter()
                .map(|(_, x)| {
                    let t = |v: f64, m: i32| -> Vec<Complex64> {
                        (-m..=m)
                            .map(|n| {
                                Complex64::from_polar(
                                    1.0,
                                    2.0 * std::f64::consts::PI * (n as f64) * v,
                                )
                            })
                            .collect()
                    };
                    [t(x[0], hm), t(x[1], km), t(x[2], lm)]
                })
                .collect()
        })
        .collect();
    let max_r2 = max_r * max_r;
    for h in -hm..=hm {
        for k in -km..=km {
            for l in -lm..=lm {
                // Friedel half-space: h > 0, or h = 0 and k > 0, or h = k = 0 and l > 0.
                if !(h > 0 || (h == 0 && (k > 0 || (k == 0 && l > 0)))) {
                    continue;
                }
                let gv: [f64; 3] = std::array::from_fn(|i| {
                    h as f64 * rec[0][i] + k as f64 * rec[1][i] + l as f64 * rec[2][i]
                });
                let g2 = gv[0] * gv[0] + gv[1] * gv[1] + gv[2] * gv[2];
                if g2 > max_r2 * (1.0 + 1e-12) {
                    continue;
                }
                let g = g2.sqrt();
                if g > max_r || (min_r > 0.0 && g < min_r) {
                    continue;
                }
                let s2 = (g / 2.0) * (g / 2.0);
                let mut f = Complex64::new(0.0, 0.0);
                for (grp, tab) in groups.iter().zip(&tables) {
                    let mut sum = Complex64::new(0.0, 0.0);
                    for ((occ, _), t) in grp.3.iter().zip(tab) {
                        sum += *occ
                            * t[0][(h + hm) as usize]
                            * t[1][(k + km) as usize]
                            * t[2][(l + lm) as usize];
                    }
                    let mut ff = form_factor(grp.0, grp.2, s2);
                    if grp.1 != 0.0 {
                        ff *= (-grp.1 * s2).exp();
                    }
                    f += ff * sum;
                }
                visit([h, k, l], g, f.norm_sqr());
            }
        }
    }
    Ok(())
}

/// (g, |F|²) of every half-space reflection up to `g_max` (Å⁻¹), ascending g.
pub fn reflections(s: &Structure, g_max: f64, dw: DebyeWaller) -> Result<Vec<(f64, f64)>, String> {
    let mut v = Vec::new();
    structure_factors(s, 0.0, g_max, dw, |_, g, f2| v.push((g, f2)))?;
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(v)
}

/// pymatgen `get_unique_families`: group by sorted absolute indices; each
/// group is its largest member with the group's size.
fn families(hkls: &[Vec<i32>]) -> (Vec<Vec<i32>>, Vec<usize>) {
    let mut groups: Vec<(Vec<i32>, Vec<&Vec<i32>>)> = Vec::new();
    for h in hkls {
        let mut key: Vec<i32> = h.iter().map(|x| x.abs()).collect();
        key.sort();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(h),
            None => groups.push((key, vec![h])),
        }
    }
    groups
        .into_iter()
        .map(|(_, members)| {
            let rep = members
                .iter()
                .max()
                .map(|m| (*m).clone())
                .unwrap_or_default();
            (rep, members.len())
        })
        .unzip()
}
