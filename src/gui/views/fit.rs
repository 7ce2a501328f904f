//! The Fit view: a feffit model, its parameters, the fit and its report
//! (the panel itself is gui/fit/).

use egui::Ui;

use super::{Action, FIT, View, ViewCtx};
use crate::gui::dialogs::DialogKind;
use crate::gui::fit::FitAction;

pub struct FitView;

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
        let dialog = egui::CentralPanel::default()
            .show(ui, |ui| match ctx.fit.ui(ui, &mut ctx.store.fit) {
                FitAction::None => None,
                FitAction::OpenModel => Some(DialogKind::OpenModel),
                FitAction::SaveModel => Some(DialogKind::SaveModel),
                FitAction::AddPaths => Some(DialogKind::AddPaths),
                FitAction::SaveReport => Some(DialogKind::SaveReport),
            })
            .inner;
        ctx.actions.extend(dialog.map(Action::Dialog));
    }
}
