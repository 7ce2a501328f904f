//! The Spectra view: the workspace tree (left), the parameters of the
//! active item (right) and the plot tabs of the selection (centre).

use std::any::Any;

use egui::{RichText, Ui};

use super::{Action, SPECTRA, View, ViewCtx};
use crate::gui::params::{ParamAction, ParamPanel};
use crate::gui::plots::PlotAction;
use crate::gui::workspace::ItemData;

pub struct SpectraView;

impl View for SpectraView {
    fn id(&self) -> &'static str {
        SPECTRA
    }
    fn title(&self) -> &'static str {
        "Spectra"
    }
    fn hover(&self) -> &'static str {
        "Spectra: workspace, plots and processing parameters"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        super::workspace_panel(ui, ctx);
        egui::Panel::right("parameters")
            .resizable(true)
            .default_size(300.0)
            .show(ui, |ui| params_ui(ui, ctx));
        let action = egui::CentralPanel::default()
            .show(ui, |ui| ctx.plots.ui(ui, ctx.store, ctx.selection))
            .inner;
        match action {
            PlotAction::None => {}
            PlotAction::SetE0(e0) => ctx.actions.push(Action::SetE0(e0)),
            PlotAction::Select(p) => {
                let order = ctx.store.tree_order();
                ctx.selection.click(&order, p.item, p.ctrl, p.shift);
            }
        }
        if let Some(click) = ctx.plots.clicked.take() {
            ctx.actions.push(Action::PlotClick(ctx.plots.tab, click));
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The right panel: a FEFF path's facts, or the active spectrum's
/// processing parameters.
fn params_ui(ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
    let ws = &mut *ctx.store;
    let sel = &*ctx.selection;
    let n_selected = sel.selected.len();
    let active = sel.active;
    if let Some(item) = active.and_then(|id| ws.item(id))
        && let ItemData::Feff(f) = &item.data
    {
        ui.heading("FEFF path");
        ui.label(RichText::new(&item.name).strong());
        ui.label(format!("reff = {:.4} Å", f.reff_ang));
        ui.label(format!("degeneracy = {}", f.degen));
        ui.label(format!("legs = {}", f.nleg));
        ui.label(format!("{} k points", f.k_inv_ang.len()));
        ui.label(
            RichText::new("Fit with paths in the Fit view (add them to a model there).").weak(),
        );
        return;
    }
    let column_file = active
        .and_then(|id| ws.item(id))
        .is_some_and(|i| i.group.is_none());
    let Some((name, s)) = ws.active_spectrum_mut(sel) else {
        ui.heading("Parameters");
        ui.label("Click a spectrum in the workspace to edit its parameters.");
        return;
    };
    let name = name.to_string();
    let mut p = s.params.clone();
    let action = ParamPanel.ui(ui, &name, s, &mut p, n_selected, column_file);
    if action != ParamAction::None {
        ctx.actions.push(Action::Params(action, Box::new(p)));
    }
}
