//! The XRD view: powder patterns, peaks, phases, candidate libraries and
//! quantification (the panel itself is gui/xrd/; the patterns, phases,
//! library and quantification are the store's).

use std::any::Any;

use egui::Ui;

use super::{Action, View, ViewCtx, XRD};
use crate::gui::dialogs::DialogKind;
use crate::gui::tasks::Tasks;
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
