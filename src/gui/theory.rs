//! FEFF paths of a structure from the tree (right-click a structure): a
//! task computes them in-process with [`crate::theory`] (refeff, FEFF10),
//! writes the `feffNNNN.dat` files and `feff.inp` under the user's cache
//! folder (`$XDG_CACHE_HOME/carto/paths/NAME-EL-K-5A`, so a saved session
//! finds them again), and the app adds them to the Fit view's model.

use std::path::PathBuf;

use super::tasks::{Task, Tasks};
use super::xrd::CifPhase;
use crate::theory::{Absorber, TheoryOptions, compute_paths};

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
