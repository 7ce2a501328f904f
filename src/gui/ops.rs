//! Merge, align, deglitch and rebin from the UI, and undo/redo. Each
//! operation changes the workspace through the core (carto::xas) and the
//! history commits it as one undoable step.

use egui::Ui;

use super::plots::{PlotClick, PlotTab, data_points};
use super::state::AppState;
use std::sync::Arc;

use super::jobs::{EditJob, EditWork};
use super::tasks::{Task, take_answer};
use super::workspace::{Input, Item, ItemData, Spectrum, edited_input};
use crate::session::{BLOB_PREFIX, InlineSpectrum};
use crate::xas::align::{AlignParams, energy_align};
use crate::xas::deglitch::{DeglitchParams, PointSelection};
use crate::xas::edit::Edit;
use crate::xas::merge::{MergeParams, merge};
use crate::xas::rebin::RebinParams;

/// The energy of the point nearest the click, if one is within 2 % of the
/// visible span (about 10 pixels).
pub fn nearest_point(energies: &[f64], points: &[[f64; 2]], c: PlotClick) -> Option<f64> {
    let sx = c.x_span.abs().max(f64::MIN_POSITIVE);
    let sy = c.y_span.abs().max(f64::MIN_POSITIVE);
    let (i, d) = points
        .iter()
        .map(|p| ((p[0] - c.x) / sx).hypot((p[1] - c.y) / sy))
        .enumerate()
        .filter(|(_, d)| d.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    (d <= 0.02).then(|| energies[i])
}

/// μ(E) of a spectrum item as it is processed (after its edits).
fn mu_of(item: &Item) -> Option<(&[f64], &[f64])> {
    match item.spectrum().map(|s| s.input.as_ref()) {
        Some(Input::Mu(x)) => Some((&x.energy_ev, &x.mu)),
        _ => None,
    }
}

/// The e0 the active spectrum's last processing found.
fn e0_of(item: &Item) -> Option<f64> {
    item.spectrum()
        .and_then(|s| s.result.as_ref())
        .and_then(|r| r.pre.as_ref())
        .map(|p| p.e0)
}

impl AppState {
    /// Commit the workspace to the undo history when it changed and no
    /// drag or typing is under way; Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y).
    pub fn undo_logic(&mut self, ctx: &egui::Context) {
        // Files still arriving from a background load are one step, taken
        // when the load ends.
        let settled = !ctx.input(|i| i.pointer.any_down())
            && ctx.memory(|m| m.focused().is_none())
            && self.loads.is_empty();
        self.history.observe(&self.store, &self.selection, settled);
        let typing = ctx.memory(|m| m.focused().is_some());
        if typing {
            return;
        }
        let undo = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Z);
        let redo = egui::KeyboardShortcut::new(
            egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
            egui::Key::Z,
        );
        let redo_y = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Y);
        // The longer shortcut first: Ctrl+Shift+Z also matches Ctrl+Z.
        if ctx.input_mut(|i| i.consume_shortcut(&redo) || i.consume_shortcut(&redo_y)) {
            self.redo();
        } else if ctx.input_mut(|i| i.consume_shortcut(&undo)) {
            self.undo();
        }
    }

    pub fn undo(&mut self) {
        match self.history.undo(&mut self.store, &mut self.selection) {
            Some(label) => self.log.info(format!("undo: {label}")),
            None => self.log.info("nothing to undo"),
        }
    }

    pub fn redo(&mut self) {
        match self.history.redo(&mut self.store, &mut self.selection) {
            Some(label) => self.log.info(format!("redo: {label}")),
            None => self.log.info("nothing to redo"),
        }
    }

    /// The Edit menu.
    pub fn edit_menu(&mut self, ui: &mut Ui) {
        let undo = self.history.undo_label().map(|l| format!("Undo {l}"));
        if ui
            .add_enabled(
                undo.is_some(),
                egui::Button::new(undo.as_deref().unwrap_or("Undo")).shortcut_text("Ctrl+Z"),
            )
            .clicked()
        {
            self.undo();
        }
        let redo = self.history.redo_label().map(|l| format!("Redo {l}"));
        if ui
            .add_enabled(
                redo.is_some(),
                egui::Button::new(redo.as_deref().unwrap_or("Redo")).shortcut_text("Ctrl+Shift+Z"),
            )
            .clicked()
        {
            self.redo();
        }
        ui.separator();
        ui.label(
            egui::RichText::new(format!(
                "{} step(s) to undo, {} to redo (saved with the session)",
                self.history.undo.len(),
                self.history.redo.len()
            ))
            .weak(),
        );
    }

    /// The μ(E) operations of the Process menu.
    pub fn process_menu(&mut self, ui: &mut Ui) {
        let n_mu = self.selected_mu().len();
        let active_mu = self
            .selection
            .active
            .and_then(|id| self.store.item(id))
            .is_some_and(|i| mu_of(i).is_some());
        if ui
            .add_enabled(n_mu >= 2, egui::Button::new("Merge selected"))
            .on_hover_text(
                "Average the selected μ(E) spectra on the active one's energy grid \
                 (Larch merge_groups): a new item",
            )
            .clicked()
        {
            self.merge_selected();
        }
        if ui
            .add_enabled(
                n_mu >= 2 && active_mu,
                egui::Button::new("Align selected to active"),
            )
            .on_hover_text(
                "Shift each selected spectrum's energy so its derivative matches the \
                 active one's (Larch energy_align, −15…+35 eV around e0)",
            )
            .clicked()
        {
            self.align_selected(Some(ui.ctx().clone()));
        }
        if ui
            .add_enabled(n_mu >= 1, egui::Button::new("Rebin selected"))
            .on_hover_text(
                "Rebin onto Larch's rebin_xafs grid: 2 eV pre-edge, fine XANES steps, \
                 0.05 Å⁻¹ in k above e0+15 eV",
            )
            .clicked()
        {
            self.rebin_selected(Some(ui.ctx().clone()));
        }
        let mut deglitch = self.plots.deglitch;
        if ui
            .add_enabled(
                active_mu || deglitch,
                egui::Checkbox::new(&mut deglitch, "Deglitch by clicking points"),
            )
            .on_hover_text(
                "Click a point of the active spectrum on the μ(E), normalized or χ(k) \
                 plot to remove it",
            )
            .changed()
        {
            self.plots.deglitch = deglitch;
        }
        let has_edits = self
            .selection
            .active
            .and_then(|id| self.store.item(id))
            .and_then(Item::spectrum)
            .is_some_and(|s| !s.edits.is_empty());
        if ui
            .add_enabled(has_edits, egui::Button::new("Clear edits of active"))
            .on_hover_text("Back to the data as read (undoable)")
            .clicked()
        {
            self.clear_edits();
        }
    }

    /// Selected μ(E) items, in tree order.
    fn selected_mu(&self) -> Vec<u64> {
        self.store
            .selected_spectra(&self.selection)
            .into_iter()
            .filter(|i| mu_of(i).is_some())
            .map(|i| i.id)
            .collect()
    }

    /// Append an edit to a spectrum; the log says what happened.
    fn push_edit(&mut self, id: u64, edit: Edit) -> bool {
        let Some(item) = self.store.item_mut(id) else {
            return false;
        };
        let name = item.name.clone();
        let Some(s) = item.spectrum_mut() else {
            return false;
        };
        let mut edits = s.edits.clone();
        let what = edit.describe();
        edits.push(edit);
        match s.set_edits(edits) {
            Ok(()) => {
                s.recompute();
                self.log.info(format!("{name}: {what}"));
                true
            }
            Err(e) => {
                self.log.error(format!("{name}: cannot {what}: {e}"));
                false
            }
        }
    }

    /// A click on a plot in deglitch mode: remove the active spectrum's
    /// point under it.
    pub fn deglitch_click(&mut self, tab: PlotTab, click: PlotClick) {
        // Only a spectrum on show: the active one, when it is selected.
        let Some(id) = self
            .selection
            .active
            .filter(|id| self.selection.selected.contains(id))
        else {
            return;
        };
        let Some(r) = self
            .store
            .item(id)
            .and_then(Item::spectrum)
            .and_then(|s| s.result.as_ref())
        else {
            return;
        };
        let Some((energies, points)) = data_points(r, tab, self.plots.options.flat) else {
            self.log
                .info("deglitch: click points on the μ(E), normalized or χ(k) plot");
            return;
        };
        let Some(energy_ev) = nearest_point(&energies, &points, click) else {
            return;
        };
        self.deglitch_energy(id, energy_ev);
    }

    /// Remove the point nearest `energy_ev` from spectrum `id`.
    pub fn deglitch_energy(&mut self, id: u64, energy_ev: f64) -> bool {
        let ok = self.push_edit(
            id,
            Edit::Deglitch(DeglitchParams {
                remove: vec![PointSelection::Energy { energy_ev }],
                replace: false,
            }),
        );
        if ok {
            self.history
                .label_next(format!("deglitch the point at {energy_ev:.2} eV"));
        }
        ok
    }

    /// Drop step `index` of spectrum `id`'s edit journal; the others are
    /// replayed (an error, e.g. a later rebin that no longer fits, keeps the
    /// journal as it was).
    pub fn remove_edit(&mut self, id: u64, index: usize) {
        let Some(item) = self.store.item_mut(id) else {
            return;
        };
        let name = item.name.clone();
        let Some(s) = item.spectrum_mut() else {
            return;
        };
        if index >= s.edits.len() {
            return;
        }
        let mut edits = s.edits.clone();
        let gone = edits.remove(index);
        match s.set_edits(edits) {
            Ok(()) => {
                s.recompute();
                self.history
                    .label_next(format!("remove edit {} ({})", index + 1, gone.describe()));
                self.log.info(format!(
                    "{name}: removed edit {}: {}",
                    index + 1,
                    gone.describe()
                ));
            }
            Err(e) => self
                .log
                .error(format!("{name}: cannot remove edit {}: {e}", index + 1)),
        }
    }

    pub fn clear_edits(&mut self) {
        let Some(id) = self.selection.active else {
            return;
        };
        if let Some(s) = self.store.item_mut(id).and_then(|i| i.spectrum_mut())
            && s.set_edits(Vec::new()).is_ok()
        {
            s.recompute();
            self.history.label_next("clear edits");
        }
    }

    /// Merge the selected μ(E) spectra onto the active one's grid (or the
    /// first's) as a new item, selected.
    pub fn merge_selected(&mut self) -> Option<u64> {
        let ids = self.selected_mu();
        if ids.len() < 2 {
            self.log.error("merge: select two or more μ(E) spectra");
            return None;
        }
        let master = self
            .selection
            .active
            .and_then(|a| ids.iter().position(|&i| i == a))
            .unwrap_or(0);
        let items: Vec<&Item> = ids.iter().filter_map(|&i| self.store.item(i)).collect();
        let arrays: Vec<(&[f64], &[f64])> = items.iter().filter_map(|i| mu_of(i)).collect();
        let merged = match merge(&arrays, master, &MergeParams::default()) {
            Ok(m) => m,
            Err(e) => {
                self.log.error(format!("merge: {e}"));
                return None;
            }
        };
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        let name = format!("merge of {} ({}…)", names.len(), names[master]);
        let blob = InlineSpectrum {
            name: name.clone(),
            energy_ev: merged.energy_ev,
            mu: merged.mu,
            note: format!("merge of {}", names.join(", ")),
        };
        let params = items[master].spectrum().map(|s| s.params.clone());
        let n = names.len();
        let note = blob.note.clone();
        let sha = blob.sha256();
        let mut spectrum = Spectrum::new(super::session_files::inline_input(&blob));
        if let Some(p) = params {
            spectrum.set_params(p);
        }
        spectrum.recompute();
        let id = self.store.fresh_id();
        let item = Item {
            id,
            name: name.clone(),
            source: note.clone(),
            file: format!("{BLOB_PREFIX}{sha}"),
            sha256: sha,
            group: None,
            mu: None,
            color: self.store.next_color(),
            data: ItemData::Spectrum(Box::new(spectrum)),
        };
        self.store.adopt(item);
        self.selection.select_only(&[id]);
        self.history.label_next(format!("merge {n} spectra"));
        self.log.info(format!("{name}: {note}"));
        Some(id)
    }

    /// Align every selected μ(E) spectrum to the active one on a worker
    /// thread; each gets a Shift edit. Returns how many were queued.
    pub fn align_selected(&mut self, ctx: Option<egui::Context>) -> usize {
        let Some(rid) = self.selection.active else {
            return 0;
        };
        let Some(reference) = self.store.item(rid) else {
            return 0;
        };
        let (Some((re, rm)), Some(re0)) = (mu_of(reference), e0_of(reference)) else {
            self.log
                .error("align: the active spectrum has no processed μ(E) to align to");
            return 0;
        };
        let (re, rm, rname) = (re.to_vec(), rm.to_vec(), reference.name.clone());
        let ids: Vec<u64> = self
            .selected_mu()
            .into_iter()
            .filter(|&id| id != rid)
            .collect();
        let r2 = rname.clone();
        let n = self.start_edit_job(
            format!("aligning to {rname}"),
            &ids,
            move |input, _| {
                let Input::Mu(x) = input else {
                    return Err("not μ(E)".into());
                };
                let a = energy_align(&x.energy_ev, &x.mu, &re, &rm, re0, &AlignParams::default())
                    .map_err(|e| format!("align to {r2}: {e}"))?;
                Ok(Edit::Shift {
                    eshift_ev: a.eshift_ev,
                    reference: Some(r2.clone()),
                })
            },
            ctx,
        );
        if n > 0 {
            self.edit_job_label = format!("align {} to {rname}", spectra(n));
        }
        n
    }

    /// Rebin every selected μ(E) spectrum (Larch rebin_xafs defaults, e0
    /// from its processing) on a worker thread. Returns how many were queued.
    pub fn rebin_selected(&mut self, ctx: Option<egui::Context>) -> usize {
        let mut ids = Vec::new();
        for id in self.selected_mu() {
            let Some(item) = self.store.item(id) else {
                continue;
            };
            if e0_of(item).is_some() {
                ids.push(id);
            } else {
                self.log.error(format!(
                    "rebin {}: process it first (it has no e0)",
                    item.name
                ));
            }
        }
        let n = self.start_edit_job(
            "rebinning".into(),
            &ids,
            |_, e0| {
                Ok(Edit::Rebin(RebinParams {
                    e0,
                    ..RebinParams::default()
                }))
            },
            ctx,
        );
        if n > 0 {
            self.edit_job_label = format!("rebin {}", spectra(n));
        }
        n
    }

    /// Compute one new edit per spectrum `ids` on a worker thread (`make`
    /// gets the spectrum as processed and its e0) and the edited inputs;
    /// [`Self::poll_edit_job`] puts them in. Returns how many were queued.
    fn start_edit_job(
        &mut self,
        title: String,
        ids: &[u64],
        make: impl Fn(&Input, Option<f64>) -> Result<Edit, String> + Send + 'static,
        ctx: Option<egui::Context>,
    ) -> usize {
        if self.edit_job.is_some() {
            self.log
                .warn("another align or rebin is running: wait for it or cancel it");
            return 0;
        }
        let work: Vec<EditWork> = ids
            .iter()
            .filter_map(|&id| {
                let item = self.store.item(id)?;
                let s = item.spectrum()?;
                Some(EditWork {
                    id,
                    name: item.name.clone(),
                    raw: s.raw.clone(),
                    input: s.input.clone(),
                    edits: s.edits.clone(),
                    e0: e0_of(item),
                })
            })
            .collect();
        let total = work.len();
        if total == 0 {
            return 0;
        }
        let title = format!("{title} {}", spectra(total));
        let task = Task::spawn(&self.tasks, title, ctx, move |task| {
            task.set_total(total);
            let mut out = Vec::new();
            for w in work {
                if task.is_cancelling() {
                    break;
                }
                let result = make(&w.input, w.e0).and_then(|edit| {
                    let what = edit.describe();
                    let mut edits = w.edits.clone();
                    edits.push(edit);
                    let input = edited_input(&w.raw, &edits)?;
                    Ok((input, edits, what))
                });
                out.push((w, result));
                task.step();
            }
            out
        });
        self.edit_job = Some(EditJob { task: Some(task) });
        total
    }

    /// Put a finished align or rebin into the workspace (once per frame).
    /// A spectrum edited meanwhile is left as it is, with a warning.
    pub fn poll_edit_job(&mut self) {
        let mut slot = self.edit_job.as_mut().and_then(|j| j.task_slot());
        let answer = take_answer(&mut slot, "align/rebin", &mut self.log);
        match (slot, &mut self.edit_job) {
            (Some(task), Some(job)) => {
                job.task = Some(task);
                return;
            }
            _ => self.edit_job = None,
        }
        let Some(results) = answer else { return };
        let mut applied = 0;
        for (w, r) in results {
            let Some(s) = self.store.item_mut(w.id).and_then(|i| i.spectrum_mut()) else {
                continue;
            };
            match r {
                Ok((input, edits, what)) => {
                    if s.edits != w.edits || !Arc::ptr_eq(&s.raw, &w.raw) {
                        self.log.warn(format!(
                            "{}: changed while it was being processed; {what} not applied",
                            w.name
                        ));
                        continue;
                    }
                    s.set_input(input, edits);
                    self.log.info(format!("{}: {what}", w.name));
                    applied += 1;
                }
                Err(e) => self.log.error(format!("{}: {e}", w.name)),
            }
        }
        if applied > 0 {
            let label = std::mem::take(&mut self.edit_job_label);
            self.history.label_next(label);
        }
    }
}

/// "1 spectrum", "3 spectra".
fn spectra(n: usize) -> String {
    if n == 1 {
        "1 spectrum".into()
    } else {
        format!("{n} spectra")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn nearest_point_needs_to_be_near() {
        let e = [1.0, 2.0, 3.0];
        let p = [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]];
        let click = |x, y| PlotClick {
            x,
            y,
            x_span: 10.0,
            y_span: 10.0,
        };
        assert_eq!(nearest_point(&e, &p, click(2.05, 1.05)), Some(2.0));
        assert_eq!(nearest_point(&e, &p, click(2.5, 0.5)), None);
        assert_eq!(nearest_point(&e, &[], click(2.0, 1.0)), None);
    }

    #[test]
    fn shared_inputs_make_undo_cheap() {
        let s = Spectrum::new(Input::Chi(crate::io::ChiData {
            name: "x".into(),
            k_inv_ang: vec![0.0, 1.0],
            chi: vec![0.0, 0.1],
            table: Default::default(),
        }));
        assert!(Arc::ptr_eq(&s.raw, &s.input));
    }
}
