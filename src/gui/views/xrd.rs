//! The XRD view: powder patterns, peaks, phases, candidate libraries and
//! quantification (the panel itself is gui/xrd/; the patterns, phases,
//! library and quantification are the store's).

use std::any::Any;

use egui::Ui;

use super::{Action, View, ViewCtx, XRD};
use crate::gui::dialogs::DialogKind;
use crate::gui::tasks::Tasks;
use crate::gui::widgets::PlotPick;
use crate::gui::xrd::{XrdAction, XrdPanel};

pub struct XrdView {
    /// How the view shows the store's XRD data, and its tasks.
    pub panel: XrdPanel,
}

impl XrdView {
    pub fn new(tasks: &Tasks) -> Self {
        XrdView {
            panel: XrdPanel::with_tasks(tasks),
        }
    }

    /// A pattern or phase right-clicked in the plot (or its legend entry)
    /// goes into the one selection. A pattern as a click in the pattern
    /// list; a phase as a click in the tree, except that a plain click
    /// keeps the patterns selected (the phase's sticks are drawn on them).
    fn pick(&mut self, ctx: &mut ViewCtx<'_>, p: PlotPick) {
        let store = &*ctx.store;
        let sel = &mut *ctx.selection;
        if store.patterns.iter().any(|e| e.id == p.item) {
            (self.panel).click(&store.patterns, &mut sel.selected, p.item, p.ctrl, p.shift);
            sel.active = Some(p.item);
        } else if p.ctrl || p.shift {
            sel.click(&store.tree_order(), p.item, p.ctrl, p.shift);
        } else {
            let is_phase = |id: u64| store.phases.iter().any(|ph| ph.id == id);
            sel.select_only_of(&[p.item], is_phase);
        }
    }
}

impl View for XrdView {
    fn id(&self) -> &'static str {
        XRD
    }
    fn title(&self) -> &'static str {
        "XRD"
    }
    fn hover(&self) -> &'static str {
        "Powder diffraction: patterns, peaks, phases, quantification"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let dialog = match (self.panel).ui(ui, ctx.log, ctx.store, &mut ctx.selection.selected) {
            XrdAction::None => None,
            XrdAction::OpenPatterns => Some(DialogKind::Open),
            XrdAction::AddCifs => Some(DialogKind::AddCifs),
            XrdAction::LoadLibrary => Some(DialogKind::CandidateDir),
            XrdAction::QuantLibrary => Some(DialogKind::QuantDir),
        };
        ctx.actions.extend(dialog.map(Action::Dialog));
        if let Some(p) = self.panel.picked.take() {
            self.pick(ctx, p);
        }
    }

    fn poll(&mut self, ctx: &mut ViewCtx<'_>, _egui: &egui::Context) {
        self.panel.poll(ctx.store, ctx.log);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
