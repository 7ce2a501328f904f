//! The Fit view: a feffit model, its parameters, the fit and its report
//! (the panel itself is gui/fit/; the model and its result are the
//! store's `fit`).

use std::any::Any;

use egui::Ui;

use super::{Action, FIT, View, ViewCtx};
use crate::gui::dialogs::DialogKind;
use crate::gui::fit::{FitAction, FitPanel};
use crate::gui::tasks::Tasks;

pub struct FitView {
    /// How the view shows the store's fit model, and its tasks.
    pub panel: FitPanel,
}

impl FitView {
    pub fn new(tasks: &Tasks) -> Self {
        FitView {
            panel: FitPanel::with_tasks(tasks),
        }
    }
}

impl View for FitView {
    fn id(&self) -> &'static str {
        FIT
    }
    fn title(&self) -> &'static str {
        "Fit"
    }
    fn hover(&self) -> &'static str {
        "EXAFS path fitting (feffit) of a model file"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let panel = &mut self.panel;
        let dialog = egui::CentralPanel::default()
            .show(ui, |ui| match panel.ui(ui, &mut ctx.store.fit) {
                FitAction::None => None,
                FitAction::OpenModel => Some(DialogKind::OpenModel),
                FitAction::SaveModel => Some(DialogKind::SaveModel),
                FitAction::AddPaths => Some(DialogKind::AddPaths),
                FitAction::SaveReport => Some(DialogKind::SaveReport),
            })
            .inner;
        ctx.actions.extend(dialog.map(Action::Dialog));
    }

    fn poll(&mut self, ctx: &mut ViewCtx<'_>, egui: &egui::Context) {
        (self.panel).poll(&mut ctx.store.fit, ctx.log, Some(egui));
    }

    fn waiting(&self) -> bool {
        self.panel.live.waiting()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
