//! FEFF paths of a structure from the tree (right-click a structure): a
//! task computes them in-process with [`crate::theory`] (refeff, FEFF10),
//! writes the `feffNNNN.dat` files and `feff.inp` under the user's cache
//! folder (`$XDG_CACHE_HOME/carto/paths/NAME-EL-K-5A`, so a saved session
//! finds them again), and the app adds them to the Fit view's model.
//! The same menu overlays a structure's closed-form χ(k)
//! ([`crate::theory::closed`]) on the Spectra view's χ(k) and |χ(R)| tabs
//! ([`start_overlay`]): a task too, since a missing pair table is a refeff
//! run. And it simulates the structure's XANES ([`start_xanes`], refeff's
//! full multiple scattering, 20–60 s): the μ(E) is written under
//! `$XDG_CACHE_HOME/carto/xanes/` as `NAME-EL-EDGE-xanes.dat` and opened
//! as a spectrum.

use std::path::PathBuf;

use super::tasks::{Task, Tasks};
use super::xrd::CifPhase;
use crate::theory::{Absorber, Edge, TheoryOptions, compute_paths};

/// What the task answers: the path files written, or why not.
pub type PathsAnswer = Result<Vec<PathBuf>, String>;

/// Where the paths of `name` around `element` go.
fn out_dir(name: &str, element: &str, o: &TheoryOptions) -> PathBuf {
    let base = crate::theory::closed::default_cache_dir()
        .and_then(|d| d.parent().map(|p| p.join("paths")))
        .unwrap_or_else(|| std::env::temp_dir().join("carto-paths"));
    base.join(format!("{name}-{element}-{:?}-{}A", o.edge, o.rmax_ang))
}

/// Start computing the paths of `phase` around the first site of `element`.
pub fn start(
    tasks: &Tasks,
    ctx: Option<egui::Context>,
    phase: &CifPhase,
    element: &str,
) -> Task<PathsAnswer> {
    let s = phase.structure();
    let file = phase.path.display().to_string();
    let element = element.to_string();
    let o = TheoryOptions::default();
    let dir = out_dir(&phase.name, &element, &o);
    let title = format!(
        "FEFF paths of {} around {element} (K, {} Å)",
        phase.name, o.rmax_ang
    );
    Task::spawn(tasks, title, ctx, move |status| {
        let set =
            compute_paths(&s, &Absorber::Element(element), &o, &file).map_err(|e| e.to_string())?;
        // refeff cannot stop half-way: a cancelled run is dropped here.
        if status.is_cancelling() {
            return Err("cancelled".to_string());
        }
        let written = set
            .write(&dir, true)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(written
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n != "feff.inp"))
            .collect())
    })
}

/// What the overlay task answers.
pub type OverlayAnswer = Result<crate::gui::store::TheoryOverlay, String>;

/// The edge a closed-form overlay of element `z` is computed for: the
/// active spectrum's, when its e0 is an edge of `z`
/// ([`crate::xas::edges::guess_edge`]); else K below Cs (Z 55) and L3
/// from Cs on, the edges EXAFS is measured at.
pub fn overlay_edge(z: u32, active_e0_ev: Option<f64>) -> Edge {
    use crate::xas::edges::EdgeName;
    match active_e0_ev.and_then(crate::xas::edges::guess_edge) {
        Some(g) if g.z == z => match g.edge {
            EdgeName::K => Edge::K,
            EdgeName::L1 => Edge::L1,
            EdgeName::L2 => Edge::L2,
            EdgeName::L3 => Edge::L3,
        },
        _ if z < 55 => Edge::K,
        _ => Edge::L3,
    }
}

/// What an overlay is computed of: a structure in memory (a CIF phase),
/// or a CIF file read by the task (a map candidate).
pub enum OverlaySource {
    Structure(std::sync::Arc<crate::structure::Structure>),
    Cif(PathBuf),
}

/// Start computing the closed-form χ(k) of `source` around every site of
/// `element` (weighted by multiplicity, shells to 5 Å, σ² of the map),
/// for the Spectra view's overlay; `file` names it in errors, `label` in
/// the overlay's name (`LABEL EL EDGE`).
pub fn start_overlay(
    tasks: &Tasks,
    ctx: Option<egui::Context>,
    source: OverlaySource,
    file: &str,
    label: &str,
    element: &str,
    edge: Edge,
) -> Task<OverlayAnswer> {
    let file = file.to_string();
    let name = format!("{label} {element} {}", edge.as_str());
    let z = crate::structure::element_from_symbol(element);
    let title = format!("closed-form χ(k) of {name}");
    Task::spawn(tasks, title, ctx, move |status| {
        let z = z.ok_or_else(|| format!("{file}: unknown element"))?;
        let s = match source {
            OverlaySource::Structure(s) => s,
            OverlaySource::Cif(p) => std::sync::Arc::new(
                crate::structure::read_cif(&p)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("{file}: no structure"))?,
            ),
        };
        let o = crate::theory::closed::ClosedOptions {
            edge,
            sigma2_ang2: crate::latent::map::MAP_SIGMA2_ANG2,
            ..Default::default()
        };
        let mut lib = crate::theory::closed::PairLibrary::user();
        let (k, chi) =
            crate::latent::candidates::closed_chi_of_element(&s, z, &mut lib, &o, &file)?;
        if status.is_cancelling() {
            return Err("cancelled".to_string());
        }
        Ok(crate::gui::store::TheoryOverlay::new(name, k, chi))
    })
}

/// What the XANES task answers: the `NAME-EL-EDGE-xanes.dat` written, or why not.
pub type XanesAnswer = Result<PathBuf, String>;

/// Where the simulated XANES of `name` around `element` goes.
fn xanes_dir(name: &str, element: &str, edge: Edge) -> PathBuf {
    let base = crate::theory::closed::default_cache_dir()
        .and_then(|d| d.parent().map(|p| p.join("xanes")))
        .unwrap_or_else(|| std::env::temp_dir().join("carto-xanes"));
    base.join(format!("{name}-{element}-{}", edge.as_str()))
}

/// Start simulating the XANES of `phase` around the first site of
/// `element` at `edge` (FEFF10's defaults as `carto theory --xanes`: FMS
/// 5 Å, SCF, RPA core hole). Cancel stops refeff at its next checkpoint.
pub fn start_xanes(
    tasks: &Tasks,
    ctx: Option<egui::Context>,
    phase: &CifPhase,
    element: &str,
    edge: Edge,
) -> Task<XanesAnswer> {
    use crate::theory::xanes::{CancellationToken, XanesOptions, simulate_xanes};
    let s = phase.structure();
    let file = phase.path.display().to_string();
    let dir = xanes_dir(&phase.name, element, edge);
    let stem = format!("{}-{element}-{}", phase.name, edge.as_str());
    let title = format!(
        "simulated XANES of {} around {element} ({})",
        phase.name,
        edge.as_str()
    );
    let absorber = Absorber::Element(element.to_string());
    Task::spawn(tasks, title, ctx, move |status| {
        let o = XanesOptions {
            edge,
            ..XanesOptions::default()
        };
        let token = CancellationToken::default();
        // refeff watches its token; the task's Cancel sets it.
        let sim = std::thread::scope(|sc| {
            let run = sc.spawn(|| simulate_xanes(&s, &absorber, &o, &file, Some(&token)));
            while !run.is_finished() {
                if status.is_cancelling() {
                    token.cancel();
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            run.join()
                .map_err(|_| "the refeff run panicked".to_string())
        })?
        .map_err(|e| e.to_string())?;
        if status.is_cancelling() {
            return Err("cancelled".to_string());
        }
        let title = format!(
            "{file}: {} {} edge (Carto)",
            absorber_name(&absorber),
            edge.as_str()
        );
        // Named after the structure, so several simulations tell apart in
        // the workspace; feff.inp beside it, for a check with FEFF itself.
        let out = dir.join(format!("{stem}-xanes.dat"));
        let err = |e: std::io::Error| format!("{}: {e}", dir.display());
        std::fs::create_dir_all(&dir).map_err(err)?;
        std::fs::write(&out, sim.xmu_text(&title)).map_err(err)?;
        std::fs::write(dir.join("feff.inp"), &sim.feff_inp).map_err(err)?;
        Ok(out)
    })
}

fn absorber_name(a: &Absorber) -> String {
    match a {
        Absorber::Element(e) => e.clone(),
        Absorber::Site(i) => format!("site {i}"),
    }
}
