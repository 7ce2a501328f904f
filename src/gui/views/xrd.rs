//! The XRD view: powder patterns, peaks, phases, candidate libraries and
//! quantification (the panel itself is gui/xrd/).

use egui::Ui;

use super::{Action, View, ViewCtx, XRD};
use crate::gui::dialogs::DialogKind;
use crate::gui::xrd::XrdAction;

pub struct XrdView;

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
        let dialog = match ctx
            .xrd
            .ui(ui, ctx.log, ctx.store, &mut ctx.selection.selected)
        {
            XrdAction::None => None,
            XrdAction::OpenPatterns => Some(DialogKind::Open),
            XrdAction::AddCifs => Some(DialogKind::AddCifs),
            XrdAction::LoadLibrary => Some(DialogKind::CandidateDir),
            XrdAction::QuantLibrary => Some(DialogKind::QuantDir),
        };
        ctx.actions.extend(dialog.map(Action::Dialog));
    }
}
