//! The views of the window's centre, behind one trait (as egui's demo
//! registers its windows and rerun its view classes). A view draws what the
//! app holds through a [`ViewCtx`] and asks for changes with [`Action`]s,
//! which the app applies after the frame (so every change goes one way, and
//! is an undo step where it should be). Views never import each other nor
//! the app.
//!
//! A new view: a file here implementing [`View`], and one line in
//! [`registry`].

pub mod fit;
pub mod spectra;
pub mod xanes;
pub mod xrd;

use std::collections::BTreeSet;

use egui::Ui;

use super::dialogs::DialogKind;
use super::fit::FitPanel;
use super::log::Log;
use super::params::ParamAction;
use super::plots::{PlotClick, PlotPanel, PlotTab};
use super::selection::Selection;
use super::store::Store;
use super::tasks::Tasks;
use super::tree::TreePanel;
use super::xrd::XrdPanel;
use crate::xas::ChainParams;

/// The stable id of the Spectra view (sessions, tests, `--plot`).
pub const SPECTRA: &str = "spectra";
/// The stable id of the Fit view.
pub const FIT: &str = "fit";
/// The stable id of the XRD view.
pub const XRD: &str = "xrd";
/// The stable id of the XANES view.
pub const XANES: &str = "xanes";

/// Every view, in menu order: the one place a view is registered.
pub fn registry() -> Vec<Box<dyn View>> {
    vec![
        Box::new(spectra::SpectraView),
        Box::new(fit::FitView),
        Box::new(xrd::XrdView),
        Box::new(xanes::XanesView::default()),
    ]
}

/// One view of the centre of the window.
pub trait View {
    /// Stable id: sessions and tests name the current view by it.
    fn id(&self) -> &'static str;
    /// The menu bar's name for it.
    fn title(&self) -> &'static str;
    /// The menu bar's tooltip.
    fn hover(&self) -> &'static str;
    /// Draw the view into the window's remaining area.
    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>);
}

/// What a view may read and draw. The data (`store`, `selection`, `fit`, `xrd`) is
/// shared by every view; changes that are more than view state go back to
/// the app as `actions`.
pub struct ViewCtx<'a> {
    /// Spectra, χ(k) files, FEFF paths, powder patterns and CIF phases.
    pub store: &'a mut Store,
    /// The one selection (ids of any kind).
    pub selection: &'a mut Selection,
    /// The fit model and its result.
    pub fit: &'a mut FitPanel,
    /// The XRD view's state: libraries, quantification, how the store's
    /// patterns and phases are shown.
    pub xrd: &'a mut XrdPanel,
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
}
