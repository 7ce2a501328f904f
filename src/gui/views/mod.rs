//! The views of the window's centre, behind one trait (as egui's demo
//! registers its windows and rerun its view classes). A view draws what the
//! app holds through a [`ViewCtx`] and asks for changes with [`Action`]s,
//! which the app applies after the frame (so every change goes one way, and
//! is an undo step where it should be). Views never import each other nor
//! the app.
//!
//! A view keeps its own view state (the Fit and XRD views their panels);
//! what the rest of the app needs from one goes through [`find`] /
//! [`find_mut`] and the view's own type.
//!
//! A new view: a file here implementing [`View`], and one line in
//! [`registry`].

pub mod fit;
pub mod map;
pub mod projection;
pub mod spectra;
pub mod xanes;
pub mod xrd;

use std::any::Any;
use std::collections::BTreeSet;

use egui::Ui;

use super::dialogs::DialogKind;
use super::log::Log;
use super::params::ParamAction;
use super::plots::{PlotClick, PlotPanel, PlotTab};
use super::selection::Selection;
use super::store::Store;
use super::tasks::Tasks;
use super::tree::{TreeAction, TreeOpen, TreePanel};
use crate::xas::ChainParams;

/// The stable id of the Spectra view (sessions, tests, `--plot`).
pub const SPECTRA: &str = "spectra";
/// The stable id of the Fit view.
pub const FIT: &str = "fit";
/// The stable id of the XRD view.
pub const XRD: &str = "xrd";
/// The stable id of the XANES view.
pub const XANES: &str = "xanes";
/// The stable id of the Map view.
pub const MAP: &str = "map";
pub use projection::PROJECTION;

/// Every view, in menu order: the one place a view is registered.
/// `tasks` is the app's task registry (a view's background work shows
/// there).
pub fn registry(tasks: &Tasks) -> Vec<Box<dyn View>> {
    vec![
        Box::new(spectra::SpectraView),
        Box::new(fit::FitView::new(tasks)),
        Box::new(xrd::XrdView::new(tasks)),
        Box::new(xanes::XanesView::default()),
        Box::new(map::MapView::default()),
        Box::new(projection::ProjectionView::default()),
    ]
}

/// The registered view of type `V`.
pub fn find<V: View>(views: &[Box<dyn View>]) -> Option<&V> {
    views.iter().find_map(|v| v.as_any().downcast_ref::<V>())
}

/// The registered view of type `V`; [`registry`] registers the Spectra,
/// Fit and XRD views once each, so for those it is always there.
pub fn registered<V: View>(views: &[Box<dyn View>]) -> &V {
    find::<V>(views).expect("the view is registered (views::registry)")
}

/// [`registered`], to change.
pub fn registered_mut<V: View>(views: &mut [Box<dyn View>]) -> &mut V {
    find_mut::<V>(views).expect("the view is registered (views::registry)")
}

/// The registered view of type `V`, to change.
pub fn find_mut<V: View>(views: &mut [Box<dyn View>]) -> Option<&mut V> {
    views
        .iter_mut()
        .find_map(|v| v.as_any_mut().downcast_mut::<V>())
}

/// One view of the centre of the window.
pub trait View: Any {
    /// Stable id: sessions and tests name the current view by it.
    fn id(&self) -> &'static str;
    /// The menu bar's name for it.
    fn title(&self) -> &'static str;
    /// The menu bar's tooltip.
    fn hover(&self) -> &'static str;
    /// Draw the view into the window's remaining area.
    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>);
    /// Once per frame, shown or not: take what the view's tasks answered
    /// (into the store) and follow what changed there.
    fn poll(&mut self, _ctx: &mut ViewCtx<'_>, _egui: &egui::Context) {}
    /// Work waits that the task registry does not see yet.
    fn waiting(&self) -> bool {
        false
    }
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// What a view may read and draw. The data (`store`, `selection`) is
/// shared by every view; a view's own state is its own (no view sees
/// another's); changes that are more than view state go back to the app as
/// `actions`.
pub struct ViewCtx<'a> {
    /// Spectra, χ(k) files, FEFF paths, powder patterns, CIF phases, the
    /// candidate library, the quantification, the fit model and result.
    pub store: &'a mut Store,
    /// The one selection (ids of any kind).
    pub selection: &'a mut Selection,
    /// The Spectra plots' tab and options (saved with the session).
    pub plots: &'a mut PlotPanel,
    pub tree: &'a mut TreePanel,
    pub tasks: &'a Tasks,
    pub log: &'a mut Log,
    /// What the app is to do after this frame's drawing.
    pub actions: Vec<Action>,
}

/// A change a view (or the menu) asks the app to make.
#[derive(Debug, Clone)]
pub enum Action {
    /// Open a file dialog; its answer comes back to the app.
    Dialog(DialogKind),
    /// Show the view with this id.
    Show(&'static str),
    /// Show the XRD view on this pattern (None: on its phases).
    ShowPattern(Option<u64>),
    /// Remove these items.
    Remove(BTreeSet<u64>),
    /// Rename an item.
    Rename(u64, String),
    /// The parameter panel of the active spectrum: what was done, with the
    /// parameters as edited.
    Params(ParamAction, Box<ChainParams>),
    /// The active spectrum's e0 marker was dragged here (eV).
    SetE0(f64),
    /// A deglitch click on the plot of `tab`.
    PlotClick(PlotTab, PlotClick),
    /// Compute the FEFF paths of structure (phase) `.0` around element `.1`.
    TheoryPaths(u64, &'static str),
    /// Overlay the closed-form χ(k) of structure `.0` around element `.1`.
    TheoryOverlay(u64, &'static str),
    /// Overlay the closed-form χ(k) of a map candidate (its CIF, its id)
    /// around an absorber (Z, edge).
    OverlayCandidate(std::path::PathBuf, String, u32, crate::theory::Edge),
    /// Remove the closed-form overlay.
    ClearOverlay,
    /// Simulate the XANES of structure `.0` around element `.1`.
    TheoryXanes(u64, &'static str),
}

/// The workspace tree as a left panel (the Spectra and XANES views): its
/// clicks select, its removals, renames and "open in" go back as actions,
/// and its rows can be dragged onto a view's drop zones
/// ([`super::tree::TreeDrag`]).
pub fn workspace_panel(ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
    egui::Panel::left("workspace")
        .resizable(true)
        .default_size(250.0)
        .show(ui, |ui| {
            match ctx.tree.ui(ui, ctx.store, ctx.selection) {
                TreeAction::None => {}
                TreeAction::Remove(ids) => ctx.actions.push(Action::Remove(ids)),
                TreeAction::Rename(id, name) => ctx.actions.push(Action::Rename(id, name)),
            }
            match ctx.tree.others_ui(ui, ctx.store, ctx.selection) {
                None => {}
                Some(TreeOpen::Pattern(id)) => ctx.actions.push(Action::ShowPattern(Some(id))),
                Some(TreeOpen::Xrd) => ctx.actions.push(Action::Show(XRD)),
                Some(TreeOpen::Fit) => ctx.actions.push(Action::Show(FIT)),
                Some(TreeOpen::Paths(id, el)) => ctx.actions.push(Action::TheoryPaths(id, el)),
                Some(TreeOpen::Overlay(id, el)) => {
                    ctx.actions.push(Action::TheoryOverlay(id, el));
                }
                Some(TreeOpen::ClearOverlay) => ctx.actions.push(Action::ClearOverlay),
                Some(TreeOpen::Xanes(id, el)) => ctx.actions.push(Action::TheoryXanes(id, el)),
            }
        });
}
