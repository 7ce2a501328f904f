//! Fast closed-form single-scattering χ(k) of a structure, for scoring
//! whole candidate libraries: per absorber–scatterer pair and edge, the
//! FEFF quantities (|F_eff|, phase, mean free path λ, reduction factor) are
//! tabulated once from a refeff run and cached on disk; χ(k) of any
//! structure is then the EXAFS equation summed over its neighbour shells,
//! microseconds per structure.
//!
//! Approximations, measured in tests/theory_feff.rs against full refeff
//! paths of the structures themselves:
//! - transferability: a pair's table comes from a reference rock-salt
//!   crystal with the pair at the sum of covalent radii, not from the
//!   structure's own potentials, and the curved-wave F_eff is that of the
//!   reference distance;
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

/// The reference crystal of a pair: rock salt with A on one sublattice and
/// B on the other, A–B at `d_ang` (6 B around each A).
pub fn reference_structure(absorber_z: u32, scatterer_z: u32, d_ang: f64) -> Structure {
    let site = |z: u32, frac: [f64; 3]| Site {
        label: element_symbol(z).to_string(),
        species: vec![Species {
            z,
            element: element_symbol(z),
            occupancy: 1.0,
        }],
        frac,
        b_iso_ang2: None,
    };
    let a = 2.0 * d_ang;
    let mut sites = Vec::new();
    for f in [
        [0.0, 0.0, 0.0],
        [0.0, 0.5, 0.5],
        [0.5, 0.0, 0.5],
        [0.5, 0.5, 0.0],
    ] {
        sites.push(site(absorber_z, f));
    }
    for f in [
        [0.5, 0.0, 0.0],
        [0.0, 0.5, 0.0],
        [0.0, 0.0, 0.5],
        [0.5, 0.5, 0.5],
    ] {
        sites.push(site(scatterer_z, f));
    }
    Structure {
        name: format!(
            "{}-{} reference rock salt",
            element_symbol(absorber_z),
            element_symbol(scatterer_z)
        ),
        lattice: Lattice {
            a_ang: a,
            b_ang: a,
            c_ang: a,
            alpha_deg: 90.0,
            beta_deg: 90.0,
            gamma_deg: 90.0,
        },
        sites,
        spacegroup_in_file: Some("F m -3 m".into()),
        warnings: Vec::new(),
    }
}

/// One pair's FEFF table on the closed-form k grid.
#[derive(Debug, Clone)]
pub struct PairTable {
    pub absorber_z: u32,
    pub scatterer_z: u32,
    pub edge: Edge,
    /// The reference single-scattering path the table came from.
    pub path: FeffPath,
    q: Vec<f64>,
    pha: Vec<f64>,
    amp: Vec<f64>,
    pp: Vec<Complex64>,
    pc: Vec<Complex64>,
}

impl PairTable {
    /// The table of `path` on the closed-form grid (Larch's splines).
    pub fn from_path(path: FeffPath, edge: Edge) -> Result<PairTable, TheoryError> {
        let (Some(a), Some(b)) = (path.geometry.first(), path.geometry.get(1)) else {
            return Err(TheoryError::Output("pair path has no scatterer".into()));
        };
        let (absorber_z, scatterer_z) = (a.iz, b.iz);
        let model = PathModel::new(&path).map_err(|e| TheoryError::Output(e.to_string()))?;
        let t = model.tables(&k_grid(), 0.0, 0.0);
        Ok(PairTable {
            absorber_z,
            scatterer_z,
            edge,
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
    /// (2014) eq. 10) with this pair's table.
    fn add_shell(&self, n: f64, r_ang: f64, s02: f64, sigma2_ang2: f64, chi: &mut [Complex64]) {
        let i = Complex64::new(0.0, 1.0);
        let scale = n * s02 / (r_ang * r_ang);
        let dr = -2.0 * sigma2_ang2 / r_ang;
        for (j, c) in chi.iter_mut().enumerate() {
            let (q, pp, pc) = (self.q[j], self.pp[j], self.pc[j]);
            let expo = -2.0 * r_ang * pc.im - 2.0 * pp * sigma2_ang2
                + i * (2.0 * q * r_ang + self.pha[j] + 2.0 * pc * dr);
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

/// Pair tables by (absorber Z, scatterer Z, edge), computed on first use
/// and kept in a disk cache when it has one.
#[derive(Debug, Default)]
pub struct PairLibrary {
    cache_dir: Option<PathBuf>,
    tables: HashMap<(u32, u32, Edge), PairTable>,
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

    /// The table of a pair: from memory, the disk cache, or a refeff run on
    /// the reference crystal (then stored in both).
    pub fn table(
        &mut self,
        absorber_z: u32,
        scatterer_z: u32,
        edge: Edge,
    ) -> Result<&PairTable, TheoryError> {
        let key = (absorber_z, scatterer_z, edge);
        if !self.tables.contains_key(&key) {
            let t = self.load_or_compute(absorber_z, scatterer_z, edge)?;
            self.tables.insert(key, t);
        }
        self.tables
            .get(&key)
            .ok_or_else(|| TheoryError::Output("pair table vanished".into()))
    }

    fn file_name(absorber_z: u32, scatterer_z: u32, edge: Edge) -> String {
        format!(
            "{}-{}-{}.dat",
            element_symbol(absorber_z),
            element_symbol(scatterer_z),
            edge.as_str()
        )
    }

    /// Compute (or read from the disk cache) every table of `pairs` not
    /// yet in memory; the first error is returned after the others
    /// finished. One after another: refeff runs one calculation at a time
    /// (a process-wide lock around its own thread pool), and calling it
    /// from several rayon workers deadlocks.
    pub fn prefetch(&mut self, pairs: &[(u32, u32, Edge)]) -> Result<(), TheoryError> {
        let mut missing: Vec<(u32, u32, Edge)> = pairs
            .iter()
            .copied()
            .filter(|k| !self.tables.contains_key(k))
            .collect();
        missing.sort_by_key(|&(a, b, e)| (a, b, e.as_str()));
        missing.dedup();
        let dir = self.cache_dir.clone();
        let done: Vec<Result<(PairTable, bool), TheoryError>> = missing
            .iter()
            .map(|&(a, b, e)| load_or_compute(dir.as_deref(), a, b, e))
            .collect();
        let mut first_err = None;
        for (key, r) in missing.into_iter().zip(done) {
            match r {
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

    fn load_or_compute(
        &mut self,
        absorber_z: u32,
        scatterer_z: u32,
        edge: Edge,
    ) -> Result<PairTable, TheoryError> {
        let (t, computed) =
            load_or_compute(self.cache_dir.as_deref(), absorber_z, scatterer_z, edge)?;
        self.computed += usize::from(computed);
        Ok(t)
    }
}

/// A pair's table from the disk cache under `cache_dir`, or computed (then
/// stored there); `true` when refeff ran.
fn load_or_compute(
    cache_dir: Option<&Path>,
    absorber_z: u32,
    scatterer_z: u32,
    edge: Edge,
) -> Result<(PairTable, bool), TheoryError> {
    let file = cache_dir.map(|d| d.join(PairLibrary::file_name(absorber_z, scatterer_z, edge)));
    // A cached table that does not read back, or is for another pair,
    // is computed again (and overwritten).
    if let Some(f) = &file
        && let Ok(text) = std::fs::read_to_string(f)
        && let Ok(path) = feff::read(&text, &f.display().to_string())
        && path.geometry.first().map(|a| a.iz) == Some(absorber_z)
        && path.geometry.get(1).map(|a| a.iz) == Some(scatterer_z)
        && let Ok(t) = PairTable::from_path(path, edge)
    {
        return Ok((t, false));
    }
    let (path, text) = compute_pair_path(absorber_z, scatterer_z, edge)?;
    if let Some(f) = &file {
        store(f, &text)?;
    }
    Ok((PairTable::from_path(path, edge)?, true))
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
pub fn compute_pair_path(
    absorber_z: u32,
    scatterer_z: u32,
    edge: Edge,
) -> Result<(FeffPath, String), TheoryError> {
    let d = reference_distance_ang(absorber_z, scatterer_z).ok_or_else(|| {
        TheoryError::BadOption(format!(
            "no pair table for Z = {absorber_z}–{scatterer_z} (elements 1–96 only)"
        ))
    })?;
    let s = reference_structure(absorber_z, scatterer_z, d);
    let o = TheoryOptions {
        edge,
        rmax_ang: d + 0.01,
        nleg: 2,
        ..TheoryOptions::default()
    };
    let set = compute_paths(&s, &Absorber::Site(0), &o, &s.name)?;
    set.paths
        .into_iter()
        .zip(set.files)
        .find(|(p, _)| p.nleg == 2 && p.geometry.get(1).map(|a| a.iz) == Some(scatterer_z))
        .map(|(p, (_, text))| (p, text))
        .ok_or_else(|| {
            TheoryError::Output(format!(
                "the {} reference gave no {}–{} path",
                s.name,
                element_symbol(absorber_z),
                element_symbol(scatterer_z)
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
    let az = s.sites[center].main_species().z;
    let sh = shells(s, center, o.rmax_ang);
    let k = k_grid();
    let mut chi = vec![Complex64::new(0.0, 0.0); k.len()];
    for shell in &sh {
        let bz = crate::structure::element_from_symbol(shell.element).unwrap_or(0);
        let t = lib.table(az, bz, o.edge)?;
        t.add_shell(shell.n as f64, shell.r_ang, o.s02, o.sigma2_ang2, &mut chi);
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
