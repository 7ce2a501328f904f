//! Fast closed-form single-scattering χ(k) of a structure, for scoring
//! whole candidate libraries: per absorber–scatterer pair and edge, the
//! FEFF quantities (|F_eff|, phase, mean free path λ, reduction factor) are
//! tabulated once from a refeff run and cached on disk; χ(k) of any
//! structure is then the EXAFS equation summed over its neighbour shells,
//! microseconds per structure.
//!
//! Approximations, measured in tests/theory_feff.rs against full refeff
//! paths of the structures themselves:
//! - transferability: a pair's table comes from a small reference crystal,
//!   not from the structure's own potentials. The pair of the absorber's
//!   first coordination shell uses the prototype of that coordination
//!   (2: cuprite, 3–4: zincblende/diamond, 5–7: rock salt, 8–9: CsCl/bcc,
//!   10+: L1₂/fcc) at the shell's mean distance in 0.05 Å steps
//!   ([`Reference::Coordination`]); every other pair a rock-salt crystal
//!   with the pair at the sum of covalent radii ([`Reference::Covalent`]).
//!   Most of what is left is a shift of E0 (FEFF's Fermi level depends on
//!   the whole structure: a carbonate's or silicate's O is not a rock
//!   salt's), which an EXAFS fit floats anyway;
//! - no multiple scattering (only shells, each one single-scattering path);
//! - one σ² for every shell, no e0 shift, S0² = 1 unless set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use num_complex::Complex64;
use serde::Serialize;

use super::TheoryError;
use super::cluster::{Absorber, absorber_site};
use super::feffinp::Edge;
use super::paths::{TheoryOptions, compute_paths};
use crate::exafs::path::PathModel;
use crate::io::feff::{self, FeffPath, element_symbol};
use crate::structure::{Lattice, Shell, Site, Species, Structure, shells};

/// The cache's version key: a new key whenever the reference crystal, the
/// refeff version or the table layout changes, so old tables are not used.
pub const CACHE_VERSION: &str = "pairs-v1";

/// k step of the closed-form grid (Å⁻¹), Larch's.
pub const KSTEP_INV_ANG: f64 = 0.05;
/// Last k of the grid (Å⁻¹): FEFF's tables end at 20.
pub const KMAX_INV_ANG: f64 = 20.0;
/// Shells beyond this are refused (Å): single scattering alone says little there.
pub const MAX_CLOSED_RMAX_ANG: f64 = 10.0;

/// Covalent radii (Å) for Z = 1..=96, Cordero et al., Dalton Trans. (2008)
/// 2832, table 2 (sp3 C, low-spin Mn/Fe/Co): the reference pair distance.
const COVALENT_RADII_ANG: [f64; 96] = [
    0.31, 0.28, 1.28, 0.96, 0.84, 0.76, 0.71, 0.66, 0.57, 0.58, // H–Ne
    1.66, 1.41, 1.21, 1.11, 1.07, 1.05, 1.02, 1.06, // Na–Ar
    2.03, 1.76, 1.70, 1.60, 1.53, 1.39, 1.39, 1.32, 1.26, 1.24, 1.32, 1.22, // K–Zn
    1.22, 1.20, 1.19, 1.20, 1.20, 1.16, // Ga–Kr
    2.20, 1.95, 1.90, 1.75, 1.64, 1.54, 1.47, 1.46, 1.42, 1.39, 1.45, 1.44, // Rb–Cd
    1.42, 1.39, 1.39, 1.38, 1.39, 1.40, // In–Xe
    2.44, 2.15, 2.07, 2.04, 2.03, 2.01, 1.99, 1.98, 1.98, 1.96, 1.94, 1.92, 1.92, 1.89, 1.90, 1.87,
    1.87, // Cs–Lu
    1.75, 1.70, 1.62, 1.51, 1.44, 1.41, 1.36, 1.36, 1.32, // Hf–Hg
    1.45, 1.46, 1.48, 1.40, 1.50, 1.50, // Tl–Rn
    2.60, 2.21, 2.15, 2.06, 2.00, 1.96, 1.90, 1.87, 1.80, 1.69, // Fr–Cm
];

/// The reference distance (Å) of a pair: the sum of covalent radii.
pub fn reference_distance_ang(absorber_z: u32, scatterer_z: u32) -> Option<f64> {
    let r = |z: u32| {
        usize::try_from(z)
            .ok()
            .and_then(|z| z.checked_sub(1))
            .and_then(|i| COVALENT_RADII_ANG.get(i))
            .copied()
    };
    Some(r(absorber_z)? + r(scatterer_z)?)
}

/// The reference crystal a pair's table comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Reference {
    /// Rock salt with the pair at the sum of covalent radii.
    Covalent,
    /// The prototype of a coordination number class ([`coordination_class`])
    /// with the pair at `d_centi_ang` hundredths of an Å.
    Coordination { cn: u8, d_centi_ang: u32 },
}

/// Distances of [`Reference::Coordination`] tables are rounded to this (Å).
pub const COORDINATION_STEP_ANG: f64 = 0.05;

/// A first coordination shell reaches this far past its nearest atom
/// (a factor): distorted octahedra (3 + 3) count as six.
pub const COORDINATION_REACH: f64 = 1.15;

/// The prototype class of `n` neighbours: 2, 4, 6, 8 or 12.
pub fn coordination_class(n: usize) -> u8 {
    match n {
        0..=2 => 2,
        3..=4 => 4,
        5..=7 => 6,
        8..=9 => 8,
        _ => 12,
    }
}

/// One pair table: absorber, scatterer, edge and reference crystal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PairKey {
    pub absorber_z: u32,
    pub scatterer_z: u32,
    pub edge: Edge,
    pub reference: Reference,
}

impl PairKey {
    /// The covalent rock-salt table of a pair.
    pub fn covalent(absorber_z: u32, scatterer_z: u32, edge: Edge) -> PairKey {
        PairKey {
            absorber_z,
            scatterer_z,
            edge,
            reference: Reference::Covalent,
        }
    }

    /// The reference distance (Å).
    pub fn distance_ang(&self) -> Option<f64> {
        match self.reference {
            Reference::Covalent => reference_distance_ang(self.absorber_z, self.scatterer_z),
            Reference::Coordination { d_centi_ang, .. } => Some(f64::from(d_centi_ang) / 100.0),
        }
    }

    /// The reference crystal, its absorber at site 0.
    pub fn structure(&self) -> Option<Structure> {
        let d = self.distance_ang()?;
        let (a, b) = (self.absorber_z, self.scatterer_z);
        Some(match self.reference {
            Reference::Covalent => reference_structure(a, b, d),
            Reference::Coordination { cn, .. } => prototype_structure(cn, a, b, d),
        })
    }

    fn file_name(&self) -> String {
        let (a, b) = (
            element_symbol(self.absorber_z),
            element_symbol(self.scatterer_z),
        );
        match self.reference {
            Reference::Covalent => format!("{a}-{b}-{}.dat", self.edge.as_str()),
            Reference::Coordination { cn, d_centi_ang } => {
                format!("{a}-{b}-{}-cn{cn}-{d_centi_ang}.dat", self.edge.as_str())
            }
        }
    }
}

fn pair_site(z: u32, frac: [f64; 3]) -> Site {
    Site {
        label: element_symbol(z).to_string(),
        species: vec![Species {
            z,
            element: element_symbol(z),
            occupancy: 1.0,
        }],
        frac,
        b_iso_ang2: None,
    }
}

fn cubic_structure(name: String, a_ang: f64, sites: Vec<Site>) -> Structure {
    Structure {
        name,
        lattice: Lattice {
            a_ang,
            b_ang: a_ang,
            c_ang: a_ang,
            alpha_deg: 90.0,
            beta_deg: 90.0,
            gamma_deg: 90.0,
        },
        sites,
        spacegroup_in_file: None,
        warnings: Vec::new(),
    }
}

const FCC: [[f64; 3]; 4] = [
    [0.0, 0.0, 0.0],
    [0.0, 0.5, 0.5],
    [0.5, 0.0, 0.5],
    [0.5, 0.5, 0.0],
];

/// The cubic prototype of coordination class `cn` with A–B at `d_ang`, A
/// at site 0 and B its nearest neighbours: cuprite (2; diamond when
/// A = B), zincblende (4), rock salt (6), CsCl (8), L1₂ (12; fcc when
/// A = B).
pub fn prototype_structure(cn: u8, a: u32, b: u32, d_ang: f64) -> Structure {
    let name = |p: &str| format!("{}-{} {p} (CN {cn})", element_symbol(a), element_symbol(b));
    match cn {
        2 if a != b => cubic_structure(
            name("cuprite"),
            4.0 * d_ang / 3f64.sqrt(),
            vec![
                pair_site(a, [0.25, 0.25, 0.25]),
                pair_site(a, [0.75, 0.75, 0.25]),
                pair_site(a, [0.75, 0.25, 0.75]),
                pair_site(a, [0.25, 0.75, 0.75]),
                pair_site(b, [0.0, 0.0, 0.0]),
                pair_site(b, [0.5, 0.5, 0.5]),
            ],
        ),
        2 | 4 => {
            let mut sites: Vec<Site> = FCC.iter().map(|f| pair_site(a, *f)).collect();
            sites.extend(
                FCC.iter()
                    .map(|f| pair_site(b, [f[0] + 0.25, f[1] + 0.25, f[2] + 0.25])),
            );
            cubic_structure(name("zincblende"), 4.0 * d_ang / 3f64.sqrt(), sites)
        }
        8 => cubic_structure(
            name("CsCl"),
            2.0 * d_ang / 3f64.sqrt(),
            vec![pair_site(a, [0.0; 3]), pair_site(b, [0.5; 3])],
        ),
        12 if a == b => cubic_structure(
            name("fcc"),
            d_ang * 2f64.sqrt(),
            FCC.iter().map(|f| pair_site(a, *f)).collect(),
        ),
        12 => {
            let mut sites = vec![pair_site(a, FCC[0])];
            sites.extend(FCC[1..].iter().map(|f| pair_site(b, *f)));
            cubic_structure(name("L1₂"), d_ang * 2f64.sqrt(), sites)
        }
        _ => reference_structure(a, b, d_ang),
    }
}

/// The reference crystal of a pair: rock salt with A on one sublattice and
/// B on the other, A–B at `d_ang` (6 B around each A).
pub fn reference_structure(absorber_z: u32, scatterer_z: u32, d_ang: f64) -> Structure {
    let mut sites: Vec<Site> = FCC.iter().map(|f| pair_site(absorber_z, *f)).collect();
    sites.extend(
        [
            [0.5, 0.0, 0.0],
            [0.0, 0.5, 0.0],
            [0.0, 0.0, 0.5],
            [0.5, 0.5, 0.5],
        ]
        .iter()
        .map(|f| pair_site(scatterer_z, *f)),
    );
    let mut s = cubic_structure(
        format!(
            "{}-{} reference rock salt",
            element_symbol(absorber_z),
            element_symbol(scatterer_z)
        ),
        2.0 * d_ang,
        sites,
    );
    s.spacegroup_in_file = Some("F m -3 m".into());
    s
}

/// The shells around site `center` out to `rmax_ang` and the table each
/// uses: the first coordination shell's element (every shell of it within
/// [`COORDINATION_REACH`] of the nearest) gets the prototype of that
/// coordination at its mean distance; other elements the covalent table.
pub fn shell_keys(
    s: &Structure,
    center: usize,
    rmax_ang: f64,
    edge: Edge,
) -> Vec<(Shell, Option<PairKey>)> {
    let az = s.sites[center].main_species().z;
    let sh = shells(s, center, rmax_ang);
    // The first coordination shell from the shells already found when they
    // reach that far (the usual case), else searched to its reach.
    let reach = sh.first().map_or(0.0, |x| x.r_ang) * COORDINATION_REACH;
    let more;
    let first: &[Shell] = if reach <= rmax_ang {
        &sh
    } else {
        more = shells(s, center, reach);
        &more
    };
    let coordination = first.first().and_then(|f| {
        let bz = crate::structure::element_from_symbol(f.element)?;
        let reach = f.r_ang * COORDINATION_REACH;
        let same: Vec<&Shell> = first
            .iter()
            .filter(|x| x.element == f.element && x.r_ang <= reach)
            .collect();
        let n: usize = same.iter().map(|x| x.n).sum();
        let mean = same.iter().map(|x| x.r_ang * x.n as f64).sum::<f64>() / n.max(1) as f64;
        let d = (mean / COORDINATION_STEP_ANG).round() * COORDINATION_STEP_ANG;
        Some((
            bz,
            Reference::Coordination {
                cn: coordination_class(n),
                d_centi_ang: (d * 100.0).round() as u32,
            },
        ))
    });
    sh.into_iter()
        .map(|x| {
            let key = crate::structure::element_from_symbol(x.element).map(|bz| PairKey {
                absorber_z: az,
                scatterer_z: bz,
                edge,
                reference: match coordination {
                    Some((cz, r)) if cz == bz => r,
                    _ => Reference::Covalent,
                },
            });
            (x, key)
        })
        .collect()
}

/// One pair's FEFF table on the closed-form k grid.
#[derive(Debug, Clone)]
pub struct PairTable {
    pub key: PairKey,
    /// The reference single-scattering path the table came from.
    pub path: FeffPath,
    q: Vec<f64>,
    pha: Vec<f64>,
    amp: Vec<f64>,
    pp: Vec<Complex64>,
    pc: Vec<Complex64>,
}

impl PairTable {
    /// The table of `path` on the closed-form grid (Larch's splines); its
    /// absorber and scatterer must be the key's.
    pub fn from_path(path: FeffPath, key: PairKey) -> Result<PairTable, TheoryError> {
        let (Some(a), Some(b)) = (path.geometry.first(), path.geometry.get(1)) else {
            return Err(TheoryError::Output("pair path has no scatterer".into()));
        };
        if (a.iz, b.iz) != (key.absorber_z, key.scatterer_z) {
            return Err(TheoryError::Output(format!(
                "pair path is {}–{}, not {}–{}",
                element_symbol(a.iz),
                element_symbol(b.iz),
                element_symbol(key.absorber_z),
                element_symbol(key.scatterer_z)
            )));
        }
        let model = PathModel::new(&path).map_err(|e| TheoryError::Output(e.to_string()))?;
        let t = model.tables(&k_grid(), 0.0, 0.0);
        Ok(PairTable {
            key,
            q: t.q().to_vec(),
            pha: t.pha().to_vec(),
            amp: t.amp().to_vec(),
            pp: t.pp().to_vec(),
            pc: t.pc().to_vec(),
            path,
        })
    }

    /// Add the complex χ of `n` scatterers at `r_ang` with Debye-Waller
    /// factor `sigma2_ang2`: the EXAFS equation with FEFF's complex
    /// momentum, Larch's `_calc_chi` (Newville, *Fundamentals of XAFS*
    /// (2014) eq. 10) with this pair's table, the shell at
    /// ΔR = `r_ang` − the reference path's reff.
    fn add_shell(&self, n: f64, r_ang: f64, s02: f64, sigma2_ang2: f64, chi: &mut [Complex64]) {
        let i = Complex64::new(0.0, 1.0);
        let reff = self.path.reff_ang;
        let scale = n * s02 / (r_ang * r_ang);
        let dr = r_ang - reff - 2.0 * sigma2_ang2 / reff;
        for (j, c) in chi.iter_mut().enumerate() {
            let (q, pp, pc) = (self.q[j], self.pp[j], self.pc[j]);
            let expo = -2.0 * reff * pc.im - 2.0 * pp * sigma2_ang2
                + i * (2.0 * q * reff + self.pha[j] + 2.0 * pc * dr);
            *c += scale * self.amp[j] * expo.exp() / q;
        }
    }
}

/// The closed-form grid: 0 to [`KMAX_INV_ANG`] by [`KSTEP_INV_ANG`].
pub fn k_grid() -> Vec<f64> {
    crate::numeric::grid::uniform(
        KSTEP_INV_ANG,
        (1.01 + KMAX_INV_ANG / KSTEP_INV_ANG) as usize,
    )
}

/// Pair tables by [`PairKey`], computed on first use and kept in a disk
/// cache when it has one.
#[derive(Debug, Default)]
pub struct PairLibrary {
    cache_dir: Option<PathBuf>,
    tables: HashMap<PairKey, PairTable>,
    /// refeff runs made (tables not found in memory or on disk).
    pub computed: usize,
}

impl PairLibrary {
    /// A library caching under `cache_dir` (already including the version
    /// key), or in memory only with `None`.
    pub fn new(cache_dir: Option<PathBuf>) -> PairLibrary {
        PairLibrary {
            cache_dir,
            ..PairLibrary::default()
        }
    }

    /// A library in the user's cache: `$XDG_CACHE_HOME/carto/pairs-v1`,
    /// else `~/.cache/carto/pairs-v1`, else memory only.
    pub fn user() -> PairLibrary {
        PairLibrary::new(default_cache_dir())
    }

    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache_dir.as_deref()
    }

    /// Number of tables held in memory.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The table of `key`: from memory, the disk cache, or a refeff run on
    /// its reference crystal (then stored in both).
    pub fn table(&mut self, key: PairKey) -> Result<&PairTable, TheoryError> {
        if !self.tables.contains_key(&key) {
            let (t, computed) = load_or_compute(self.cache_dir.as_deref(), key)?;
            self.computed += usize::from(computed);
            self.tables.insert(key, t);
        }
        self.tables
            .get(&key)
            .ok_or_else(|| TheoryError::Output("pair table vanished".into()))
    }

    /// Compute (or read from the disk cache) every table of `keys` not
    /// yet in memory; the first error is returned after the others
    /// finished. One after another: refeff runs one calculation at a time
    /// (a process-wide lock around its own thread pool), and calling it
    /// from several rayon workers deadlocks.
    pub fn prefetch(&mut self, keys: &[PairKey]) -> Result<(), TheoryError> {
        let mut missing: Vec<PairKey> = keys
            .iter()
            .copied()
            .filter(|k| !self.tables.contains_key(k))
            .collect();
        missing.sort();
        missing.dedup();
        let mut first_err = None;
        for key in missing {
            match load_or_compute(self.cache_dir.as_deref(), key) {
                Ok((t, computed)) => {
                    self.computed += usize::from(computed);
                    self.tables.insert(key, t);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// A pair's table from the disk cache under `cache_dir`, or computed (then
/// stored there); `true` when refeff ran.
fn load_or_compute(
    cache_dir: Option<&Path>,
    key: PairKey,
) -> Result<(PairTable, bool), TheoryError> {
    let file = cache_dir.map(|d| d.join(key.file_name()));
    // A cached table that does not read back, or is for another pair,
    // is computed again (and overwritten).
    if let Some(f) = &file
        && let Ok(text) = std::fs::read_to_string(f)
        && let Ok(path) = feff::read(&text, &f.display().to_string())
        && let Ok(t) = PairTable::from_path(path, key)
    {
        return Ok((t, false));
    }
    let (path, text) = compute_pair_path(key)?;
    if let Some(f) = &file {
        store(f, &text)?;
    }
    Ok((PairTable::from_path(path, key)?, true))
}

/// `$XDG_CACHE_HOME/carto/pairs-v1`, else `$HOME/.cache/carto/pairs-v1`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("carto").join(CACHE_VERSION))
}

/// Write `text` to `f` through a temporary file and a rename, so a reader
/// never sees half a table.
fn store(f: &Path, text: &str) -> Result<(), TheoryError> {
    let err = |e: std::io::Error| TheoryError::Cache {
        path: f.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = f.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = f.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, f).map_err(err)
}

/// The first-shell path of the pair's reference crystal and its file text.
pub fn compute_pair_path(key: PairKey) -> Result<(FeffPath, String), TheoryError> {
    let (a, b) = (key.absorber_z, key.scatterer_z);
    let (Some(d), Some(s)) = (key.distance_ang(), key.structure()) else {
        return Err(TheoryError::BadOption(format!(
            "no pair table for Z = {a}–{b} (elements 1–96 only)"
        )));
    };
    let o = TheoryOptions {
        edge: key.edge,
        rmax_ang: d + 0.01,
        nleg: 2,
        ..TheoryOptions::default()
    };
    let set = compute_paths(&s, &Absorber::Site(0), &o, &s.name)?;
    set.paths
        .into_iter()
        .zip(set.files)
        .find(|(p, _)| p.nleg == 2 && p.geometry.get(1).map(|x| x.iz) == Some(b))
        .map(|(p, (_, text))| (p, text))
        .ok_or_else(|| {
            TheoryError::Output(format!(
                "the {} reference gave no {}–{} path",
                s.name,
                element_symbol(a),
                element_symbol(b)
            ))
        })
}

/// Options of the closed-form χ(k).
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedOptions {
    pub edge: Edge,
    /// Shells out to this distance (Å).
    pub rmax_ang: f64,
    /// σ² of every shell (Å²).
    pub sigma2_ang2: f64,
    pub s02: f64,
}

impl Default for ClosedOptions {
    fn default() -> Self {
        ClosedOptions {
            edge: Edge::K,
            rmax_ang: 5.0,
            sigma2_ang2: 0.003,
            s02: 1.0,
        }
    }
}

/// A closed-form χ(k): Larch's `chi` (Im of the complex χ) and `chi_imag`
/// (minus its real part) on [`k_grid`], and the shells summed.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedChi {
    #[serde(rename = "k")]
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    pub chi_imag: Vec<f64>,
    pub shells: Vec<Shell>,
}

/// The single-scattering χ(k) of `s` around `absorber`: Σ over the
/// neighbour shells to `o.rmax_ang` of the EXAFS equation with the pair
/// tables of `lib` (computed on first use).
pub fn closed_chi(
    s: &Structure,
    absorber: &Absorber,
    lib: &mut PairLibrary,
    o: &ClosedOptions,
    file: &str,
) -> Result<ClosedChi, TheoryError> {
    if !(o.rmax_ang.is_finite() && o.rmax_ang > 0.0 && o.rmax_ang <= MAX_CLOSED_RMAX_ANG) {
        return Err(TheoryError::BadRadius {
            name: "rmax",
            value: o.rmax_ang,
            min: 0.0,
            max: MAX_CLOSED_RMAX_ANG,
        });
    }
    if !(o.sigma2_ang2.is_finite() && (0.0..0.1).contains(&o.sigma2_ang2)) {
        return Err(TheoryError::BadOption(format!(
            "sigma2 {} Å² must be in [0, 0.1)",
            o.sigma2_ang2
        )));
    }
    let center = absorber_site(s, absorber, file)?;
    let keyed = shell_keys(s, center, o.rmax_ang, o.edge);
    let k = k_grid();
    let mut chi = vec![Complex64::new(0.0, 0.0); k.len()];
    let mut sh = Vec::with_capacity(keyed.len());
    for (shell, key) in keyed {
        let key = key.ok_or_else(|| {
            TheoryError::BadOption(format!(
                "{file}: no pair table for element {}",
                shell.element
            ))
        })?;
        let t = lib.table(key)?;
        t.add_shell(shell.n as f64, shell.r_ang, o.s02, o.sigma2_ang2, &mut chi);
        sh.push(shell);
    }
    let mut re: Vec<f64> = chi.iter().map(|c| c.im).collect();
    let mut im: Vec<f64> = chi.iter().map(|c| -c.re).collect();
    // Larch extrapolates the k = 0 point from the next two.
    for v in [&mut re, &mut im] {
        if v.len() > 2 {
            v[0] = 2.0 * v[1] - v[2];
        }
    }
    Ok(ClosedChi {
        k_inv_ang: k,
        chi: re,
        chi_imag: im,
        shells: sh,
    })
}
