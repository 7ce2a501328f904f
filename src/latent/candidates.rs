//! Candidate structures as landmarks of the latent space: every CIF of a
//! folder with its view in each modality it can have — the simulated powder
//! pattern on [`super::grid::XRD_Q`] (always) and, for each absorber asked
//! for that the structure contains, the closed-form single-scattering χ(k)
//! ([`crate::theory::closed`]) as k²χ on [`super::grid::EXAFS_K`],
//! averaged over the structure's inequivalent absorber sites by their
//! multiplicity.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::grid::{self, Profile};
use crate::structure::{Structure, element_from_symbol, read_cif};
use crate::theory::closed::{ClosedOptions, PairKey, PairLibrary, closed_chi, shell_keys};
use crate::theory::{Absorber, Edge};
use crate::xrd::identify::Candidate;

/// A view of a structure or a measurement: which grid, and for XAS which
/// absorber (atomic number) and edge. Two items are compared only on the
/// views they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ViewKey {
    Xrd,
    Exafs { z: u32, edge: EdgeKey },
    Xanes { z: u32, edge: EdgeKey },
}

/// [`Edge`] with an order, for view keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EdgeKey {
    K,
    L1,
    L2,
    L3,
}

impl From<Edge> for EdgeKey {
    fn from(e: Edge) -> Self {
        match e {
            Edge::K => EdgeKey::K,
            Edge::L1 => EdgeKey::L1,
            Edge::L2 => EdgeKey::L2,
            Edge::L3 => EdgeKey::L3,
        }
    }
}

impl From<EdgeKey> for Edge {
    fn from(e: EdgeKey) -> Self {
        match e {
            EdgeKey::K => Edge::K,
            EdgeKey::L1 => Edge::L1,
            EdgeKey::L2 => Edge::L2,
            EdgeKey::L3 => Edge::L3,
        }
    }
}

impl From<crate::xas::edges::EdgeName> for EdgeKey {
    fn from(e: crate::xas::edges::EdgeName) -> Self {
        use crate::xas::edges::EdgeName as N;
        match e {
            N::K => EdgeKey::K,
            N::L1 => EdgeKey::L1,
            N::L2 => EdgeKey::L2,
            N::L3 => EdgeKey::L3,
        }
    }
}

impl ViewKey {
    pub fn modality(self) -> grid::Modality {
        match self {
            ViewKey::Xrd => grid::Modality::Xrd,
            ViewKey::Exafs { .. } => grid::Modality::Exafs,
            ViewKey::Xanes { .. } => grid::Modality::Xanes,
        }
    }

    /// The absorber's atomic number of an XAS view.
    pub fn absorber_z(self) -> Option<u32> {
        match self {
            ViewKey::Xrd => None,
            ViewKey::Exafs { z, .. } | ViewKey::Xanes { z, .. } => Some(z),
        }
    }
}

/// One candidate structure and its views.
#[derive(Debug, Clone)]
pub struct CandidateViews {
    /// The file stem (as `xrd identify` names candidates).
    pub id: String,
    pub file: PathBuf,
    pub name: String,
    pub formula: String,
    /// Atomic numbers of the elements it contains, ascending.
    pub elements: Vec<u32>,
    /// Its views, by key (XRD first).
    pub views: Vec<(ViewKey, Profile)>,
}

impl CandidateViews {
    pub fn view(&self, key: ViewKey) -> Option<&Profile> {
        self.views.iter().find(|(k, _)| *k == key).map(|(_, p)| p)
    }
}

/// Options of [`load_candidates`].
#[derive(Debug, Clone, Default)]
pub struct CandidateOptions {
    /// Absorbers (Z, edge) whose closed-form χ(k) each structure holding
    /// them gets; none: XRD views only.
    pub absorbers: Vec<(u32, Edge)>,
    /// Shells, σ² and S0² of the closed-form χ(k).
    pub closed: ClosedOptions,
}

/// The candidates of a folder and the files that could not be used.
#[derive(Debug, Clone, Default)]
pub struct CandidateSet {
    pub items: Vec<CandidateViews>,
    /// `file: reason` of every CIF left out (unreadable, or no XRD view).
    pub skipped: Vec<String>,
    /// Closed-form χ(k) that failed (`file: absorber: reason`); the
    /// structure keeps its other views.
    pub view_errors: Vec<String>,
}

/// Structures read from CIF files in parallel: (file, first block).
pub fn read_structures(files: &[PathBuf]) -> Vec<(PathBuf, Result<Structure, String>)> {
    use rayon::prelude::*;
    files
        .par_iter()
        .map(|f| {
            let r = read_cif(f)
                .map_err(|e| e.to_string())
                .and_then(|v| v.into_iter().next().ok_or_else(|| "no structure".into()));
            (f.clone(), r)
        })
        .collect()
}

/// The elements (Z) of a structure's main species, ascending.
fn elements_of(s: &Structure) -> Vec<u32> {
    let mut z: Vec<u32> = s
        .sites
        .iter()
        .filter_map(|site| element_from_symbol(site.main_species().element))
        .collect();
    z.sort_unstable();
    z.dedup();
    z
}

/// One expanded-cell site per inequivalent absorber site (by CIF label)
/// with its multiplicity.
fn absorber_sites(s: &Structure, z: u32) -> Vec<(usize, usize)> {
    let mut by_label: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, site) in s.sites.iter().enumerate() {
        if element_from_symbol(site.main_species().element) == Some(z) {
            by_label.entry(site.label.as_str()).or_insert((i, 0)).1 += 1;
        }
    }
    by_label.into_values().collect()
}

/// The closed-form χ(k) of `s` around absorber `z` on
/// [`crate::theory::closed::k_grid`]: each inequivalent site's, weighted
/// by its multiplicity. (k, χ).
pub fn closed_chi_of_element(
    s: &Structure,
    z: u32,
    lib: &mut PairLibrary,
    o: &ClosedOptions,
    file: &str,
) -> Result<(Vec<f64>, Vec<f64>), String> {
    let sites = absorber_sites(s, z);
    let total: usize = sites.iter().map(|&(_, m)| m).sum();
    if total == 0 {
        return Err("no such absorber".into());
    }
    let mut k = Vec::new();
    let mut chi: Vec<f64> = Vec::new();
    for (site, mult) in sites {
        let c = closed_chi(s, &Absorber::Site(site), lib, o, file).map_err(|e| e.to_string())?;
        if chi.is_empty() {
            chi = vec![0.0; c.chi.len()];
            k = c.k_inv_ang;
        }
        let w = mult as f64 / total as f64;
        for (a, b) in chi.iter_mut().zip(&c.chi) {
            *a += w * b;
        }
    }
    Ok((k, chi))
}

/// k²χ(k) of `s` around absorber `z` on the EXAFS grid
/// ([`closed_chi_of_element`]).
pub fn closed_exafs_view(
    s: &Structure,
    z: u32,
    lib: &mut PairLibrary,
    o: &ClosedOptions,
    file: &str,
) -> Result<Profile, String> {
    let (k, chi) = closed_chi_of_element(s, z, lib, o, file)?;
    grid::exafs(&k, &chi).map_err(|e| e.to_string())
}

/// The pair tables the closed-form views of `s` need.
fn pairs_needed(s: &Structure, absorbers: &[(u32, Edge)], rmax_ang: f64) -> Vec<PairKey> {
    let mut out = Vec::new();
    for &(z, edge) in absorbers {
        for (site, _) in absorber_sites(s, z) {
            out.extend(
                shell_keys(s, site, rmax_ang, edge)
                    .into_iter()
                    .filter_map(|(_, k)| k),
            );
        }
    }
    out
}

/// The candidates of structures already read ([`read_structures`] of
/// `xrd::identify::candidate_files`), with their views. Pair tables
/// missing from `lib` are computed first; `progress(done, total)` is
/// called while the views are built and returning false cancels (then
/// `None`).
pub fn candidates_of(
    structures: Vec<(PathBuf, Result<Structure, String>)>,
    o: &CandidateOptions,
    lib: &mut PairLibrary,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<CandidateSet>, String> {
    let mut set = CandidateSet::default();
    let mut pairs = Vec::new();
    let mut ok = Vec::new();
    for (f, r) in structures {
        match r {
            Ok(s) => {
                pairs.extend(pairs_needed(&s, &o.absorbers, o.closed.rmax_ang));
                ok.push((f, s));
            }
            Err(e) => set.skipped.push(format!("{}: {e}", f.display())),
        }
    }
    if !pairs.is_empty() {
        // A pair refeff cannot do leaves only the structures that need it
        // without their χ(k) (reported per structure below).
        let _ = lib.prefetch(&pairs);
    }
    let n = ok.len();
    for (i, (f, s)) in ok.into_iter().enumerate() {
        if !progress(i, n) {
            return Ok(None);
        }
        let file = f.display().to_string();
        let id = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cand = match Candidate::new(&id, &s) {
            Ok(c) => c,
            Err(e) => {
                set.skipped.push(format!("{file}: {e}"));
                continue;
            }
        };
        let elements = elements_of(&s);
        let mut views = vec![(ViewKey::Xrd, grid::xrd_candidate(&cand))];
        for &(z, edge) in &o.absorbers {
            if !elements.contains(&z) {
                continue;
            }
            let closed = ClosedOptions {
                edge,
                ..o.closed.clone()
            };
            match closed_exafs_view(&s, z, lib, &closed, &file) {
                Ok(p) => views.push((
                    ViewKey::Exafs {
                        z,
                        edge: edge.into(),
                    },
                    p,
                )),
                Err(e) => set.view_errors.push(format!(
                    "{file}: {} {}: {e}",
                    crate::io::feff::element_symbol(z),
                    edge.as_str()
                )),
            }
        }
        set.items.push(CandidateViews {
            id,
            file: f,
            name: cand.name,
            formula: cand.formula,
            elements,
            views,
        });
    }
    progress(n, n);
    Ok(Some(set))
}
