//! Candidate structures as landmarks of the latent space: every CIF of a
//! folder with its view in each modality it can have — the simulated powder
//! pattern on [`super::grid::XRD_Q`] (always) and, for each absorber asked
//! for that the structure contains, the closed-form single-scattering χ(k)
//! ([`crate::theory::closed`]) as k²χ on [`super::grid::EXAFS_K`],
//! averaged over the structure's inequivalent absorber sites by their
//! multiplicity; and for each absorber asked for XANES, the structure's
//! simulated XANES ([`crate::theory::xanes_lib`]: refeff's full multiple
//! scattering per inequivalent site, averaged by multiplicity, cached on
//! disk) as normalized μ on [`super::grid::XANES_E`] around its own e0, or
//! a measured standard's XANES assigned to the structure
//! ([`super::standards`]), which wins over the simulation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::grid::{self, Profile};
use crate::structure::{Structure, element_from_symbol, read_cif};
use crate::theory::closed::{ClosedOptions, PairKey, PairLibrary, closed_chi, shell_keys};
use crate::theory::xanes::{CancellationToken, run_xanes_inp};
use crate::theory::xanes_lib::{SiteXanesOptions, averaged_xanes};
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

/// Options of [`candidates_of`].
#[derive(Debug, Clone, Default)]
pub struct CandidateOptions {
    /// Absorbers (Z, edge) whose closed-form χ(k) each structure holding
    /// them gets; none: XRD views only.
    pub absorbers: Vec<(u32, Edge)>,
    /// Shells, σ² and S0² of the closed-form χ(k).
    pub closed: ClosedOptions,
    /// Simulated XANES views, when asked for.
    pub xanes: Option<XanesLandmarks>,
    /// Measured standards' XANES views, each given to the candidate it
    /// names.
    pub standards: Vec<super::standards::StandardView>,
}

/// Which candidates get a simulated XANES view, and how.
#[derive(Debug, Clone, Default)]
pub struct XanesLandmarks {
    /// Absorbers (Z, edge): every structure holding one gets its XANES.
    pub absorbers: Vec<(u32, Edge)>,
    pub options: SiteXanesOptions,
    /// Where runs are cached ([`crate::theory::xanes_lib::default_cache_dir`];
    /// `None`: not cached).
    pub cache_dir: Option<PathBuf>,
    /// Set by the caller to stop a running refeff calculation (the
    /// progress callback's `false` stops between runs).
    pub cancel: CancellationToken,
}

/// The candidates of a folder and the files that could not be used.
#[derive(Debug, Clone, Default)]
pub struct CandidateSet {
    pub items: Vec<CandidateViews>,
    /// `file: reason` of every CIF left out (unreadable, or no XRD view).
    pub skipped: Vec<String>,
    /// Closed-form χ(k) or XANES that failed (`file: absorber: reason`);
    /// the structure keeps its other views.
    pub view_errors: Vec<String>,
    /// What was done other than asked (XANES of some sites only, a larger
    /// SCF sphere, a standard replacing a simulation).
    pub notes: Vec<String>,
    /// refeff XANES runs made (not found in the cache).
    pub xanes_computed: usize,
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
pub fn absorber_sites(s: &Structure, z: u32) -> Vec<(usize, usize)> {
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

/// A simulated XANES held at its first value below its range and at its
/// last above, out to the XANES grid's ends: FEFF's spectrum starts ~9 eV
/// below the edge on the flat pre-edge and ends ~58 eV above it (kmax
/// 4 Å⁻¹), so the held values stand for what it does not compute, and the
/// view covers the whole grid (stage 1 trains only on such views).
fn held_to_grid(energy_ev: &[f64], mu: &[f64], e0_ev: f64) -> (Vec<f64>, Vec<f64>) {
    let (lo, hi) = (e0_ev + grid::XANES_E.start, e0_ev + grid::XANES_E.end());
    let (mut e, mut m) = (Vec::with_capacity(energy_ev.len() + 2), Vec::new());
    if let (Some(&e_first), Some(&m_first)) = (energy_ev.first(), mu.first())
        && e_first > lo
    {
        e.push(lo - 1.0);
        m.push(m_first);
    }
    e.extend_from_slice(energy_ev);
    m.extend_from_slice(mu);
    if let (Some(&e_last), Some(&m_last)) = (energy_ev.last(), mu.last())
        && e_last < hi
    {
        e.push(hi + 1.0);
        m.push(m_last);
    }
    (e, m)
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
    // Progress counts structures, and each simulated XANES as 20 (a run
    // is 20–60 s against milliseconds for the rest).
    const XANES_WEIGHT: usize = 20;
    let wants_xanes = |s: &Structure| -> usize {
        o.xanes.as_ref().map_or(0, |x| {
            let el = elements_of(s);
            x.absorbers.iter().filter(|(z, _)| el.contains(z)).count()
        })
    };
    let total = n + XANES_WEIGHT * ok.iter().map(|(_, s)| wants_xanes(s)).sum::<usize>();
    let mut done = 0;
    for (f, s) in ok.into_iter() {
        if !progress(done, total) {
            return Ok(None);
        }
        done += 1;
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
        if let Some(x) = &o.xanes {
            for &(z, edge) in &x.absorbers {
                let key = ViewKey::Xanes {
                    z,
                    edge: edge.into(),
                };
                // A measured standard would replace the simulation.
                let standard = (o.standards.iter()).any(|st| st.cif == id && st.view.key == key);
                if !elements.contains(&z) {
                    continue;
                }
                if standard {
                    done += XANES_WEIGHT;
                    continue;
                }
                if !progress(done, total) || x.cancel.is_cancelled() {
                    return Ok(None);
                }
                let so = SiteXanesOptions {
                    xanes: crate::theory::XanesOptions {
                        edge,
                        ..x.options.xanes.clone()
                    },
                    ..x.options.clone()
                };
                let r = averaged_xanes(
                    &s,
                    &absorber_sites(&s, z),
                    &so,
                    &file,
                    x.cache_dir.as_deref(),
                    Some(&x.cancel),
                    &mut |inp: &str, c: Option<&CancellationToken>| run_xanes_inp(inp, c),
                );
                done += XANES_WEIGHT;
                let what = format!(
                    "{file}: {} {} XANES",
                    crate::io::feff::element_symbol(z),
                    edge.as_str()
                );
                match r.map_err(|e| e.to_string()).and_then(|a| {
                    set.xanes_computed += a.computed;
                    for note in &a.notes {
                        set.notes.push(format!("{what}: {note}"));
                    }
                    if a.sites_used < a.sites_total {
                        set.notes.push(format!(
                            "{what}: {} of {} inequivalent sites ({:.0} % of the absorbers)",
                            a.sites_used,
                            a.sites_total,
                            100.0 * a.share
                        ));
                    }
                    let (e, m) = held_to_grid(&a.energy_ev, &a.mu_norm, a.e0_ev);
                    grid::xanes(&e, &m, a.e0_ev).map_err(|e| e.to_string())
                }) {
                    Ok(p) => views.push((key, p)),
                    Err(_) if x.cancel.is_cancelled() => return Ok(None),
                    Err(e) => set.view_errors.push(format!("{what}: {e}")),
                }
            }
        }
        super::standards::assign(&id, &mut views, &o.standards, &mut set.notes);
        set.items.push(CandidateViews {
            id,
            file: f,
            name: cand.name,
            formula: cand.formula,
            elements,
            views,
        });
    }
    super::standards::unmatched(&o.standards, &set.items, &mut set.view_errors);
    progress(total, total);
    Ok(Some(set))
}
