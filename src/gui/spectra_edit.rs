//! What the Spectra view's parameter panel and e0 marker ask for, done to
//! the workspace: new parameters for the active spectrum (recomputed at
//! once, it is the one being dragged), the same for many, μ(E) built
//! another way.

use super::log::Log;
use super::params::{MuChoice, ParamAction};
use super::selection::Selection;
use super::store::Store;
use crate::xas::ChainParams;

/// The parameter panel's request for the active spectrum (`p`: its
/// parameters as edited).
pub fn param_action(
    ws: &mut Store,
    sel: &Selection,
    log: &mut Log,
    action: ParamAction,
    p: ChainParams,
) {
    let active = sel.active;
    let Some((name, s)) = ws.active_spectrum_mut(sel) else {
        return;
    };
    let (name, source_is_mu) = (name.to_string(), s.is_mu());
    match action {
        // Removing an edit is an undo step with a label: the app does it.
        ParamAction::None | ParamAction::RemoveEdit(_) => {}
        ParamAction::Changed => edit_active(ws, sel, log, p),
        ParamAction::ResetToDefaults => {
            edit_active(ws, sel, log, ChainParams::default());
            log.info(format!("{name}: parameters reset to defaults"));
        }
        ParamAction::ApplyToSelected => {
            let ids: Vec<u64> = sel.selected.iter().copied().collect();
            let n = apply_params(ws, &p, &ids, !source_is_mu);
            log.info(format!(
                "applied the parameters of {name} to {n} selected spectra"
            ));
        }
        ParamAction::MuFrom(choice) => {
            if let Some(id) = active {
                set_mu_from(ws, log, id, choice);
            }
        }
        ParamAction::ApplyToAll => {
            let ids: Vec<u64> = ws.items.iter().map(|i| i.id).collect();
            let n = apply_params(ws, &p, &ids, !source_is_mu);
            log.info(format!(
                "applied the parameters of {name} to all {n} spectra"
            ));
        }
    }
}

/// The active spectrum's e0 marker was dragged to `e0_ev`: fix e0 there,
/// as typing it in the parameter panel does, and recompute.
pub fn drag_e0(ws: &mut Store, sel: &Selection, log: &mut Log, e0_ev: f64) {
    let Some((_, s)) = ws.active_spectrum_mut(sel) else {
        return;
    };
    let mut p = s.params.clone();
    p.pre_edge.e0 = Some(e0_ev);
    edit_active(ws, sel, log, p);
}

/// Build μ(E) of item `id` another way from its stored columns (the
/// "μ(E) from" section) and recompute it; a recipe that can't be built
/// is an error in the log and changes nothing.
pub fn set_mu_from(ws: &mut Store, log: &mut Log, id: u64, choice: MuChoice) {
    let name = ws.item(id).map_or_else(String::new, |i| i.name.clone());
    let recipe = match choice {
        MuChoice::Recipe(r) => Ok(r),
        MuChoice::Mode(m) => ws.recipe_for_mode(id, m),
    };
    match recipe.and_then(|r| ws.set_mu_recipe(id, r)) {
        Ok(()) => {
            if let Some(s) = ws.item_mut(id).and_then(|i| i.spectrum_mut()) {
                s.recompute();
            }
            let how = ws
                .column_spectrum(id)
                .map_or_else(String::new, describe_recipe);
            log.info(format!("{name}: μ(E) now {how}"));
        }
        Err(e) => log.error(format!("{name}: cannot build μ(E) so: {e}")),
    }
}

/// New parameters for the active spectrum: recompute it right away (it
/// is the one being dragged). An error is logged when it appears, not on
/// every frame of a drag; the panel shows the current one.
pub fn edit_active(ws: &mut Store, sel: &Selection, log: &mut Log, p: ChainParams) {
    let Some((name, s)) = ws.active_spectrum_mut(sel) else {
        return;
    };
    let before = s.error.clone();
    s.set_params(p);
    if s.needs_processing() {
        s.recompute();
    }
    if before.is_none()
        && let Some(e) = &s.error
    {
        let msg = format!("{name}: {e}");
        log.error(msg);
    }
}

/// Copy `p` to the spectra `ids` (each keeps its own e0, which belongs
/// to its edge; from a χ(k) spectrum only the FT parameters, the only
/// ones it has). They are processed by the background job.
pub fn apply_params(ws: &mut Store, p: &ChainParams, ids: &[u64], ft_only: bool) -> usize {
    let mut n = 0;
    for &id in ids {
        if let Some(s) = ws.item_mut(id).and_then(|i| i.spectrum_mut()) {
            let mut q = p.clone();
            if ft_only {
                q.pre_edge = s.params.pre_edge.clone();
                q.autobk = s.params.autobk.clone();
            }
            q.pre_edge.e0 = s.params.pre_edge.e0;
            q.autobk.e0 = s.params.autobk.e0;
            s.set_params(q);
            n += 1;
        }
    }
    n
}

/// "ln(I0/It) from columns i0 / it": a recipe with the file's labels.
fn describe_recipe(x: &crate::io::XasSpectrum) -> String {
    x.recipe.formula(&x.table.labels)
}
