//! The XANES view: the workspace tree (left) and three tabs. Linear
//! combination fitting of the selected spectra against standards checked or
//! dragged from the tree (all combinations, on the task registry with
//! progress and Cancel: lcf.rs); PCA of a training set with its scree plot,
//! components and target transforms (SPOIL: pca.rs); the pre-edge peak fit
//! of the active spectrum, its peak starts dragged on the plot (peaks.rs);
//! PLS of spectra against target values (pls.rs).
//! Results live in the store (`Store::xanes`), not here.

mod lcf;
mod pca;
mod peaks;
mod pls;

use std::collections::BTreeSet;
use std::sync::Arc;

use egui::{Color32, Ui};
use egui_plot::{Line, PlotPoints};

pub use lcf::LcfTab;
pub use pca::PcaTab;
pub use peaks::PeaksTab;
pub use pls::PlsTab;

use super::{View, ViewCtx, XANES};
use crate::gui::store::Store;
use crate::gui::tree::TreeDrag;
use crate::gui::workspace::Modality;
use crate::gui::xanes::xanes_group;
use crate::xanes::XanesGroup;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Lcf,
    Pca,
    Peaks,
    Pls,
}

pub struct XanesView {
    tab: Tab,
    pub lcf: LcfTab,
    pub pca: PcaTab,
    pub peaks: PeaksTab,
    pub pls: PlsTab,
}

impl Default for XanesView {
    fn default() -> Self {
        Self {
            tab: Tab::Lcf,
            lcf: LcfTab::default(),
            pca: PcaTab::default(),
            peaks: PeaksTab::default(),
            pls: PlsTab::default(),
        }
    }
}

impl View for XanesView {
    fn id(&self) -> &'static str {
        XANES
    }
    fn title(&self) -> &'static str {
        "XANES"
    }
    fn hover(&self) -> &'static str {
        "Linear combination fitting, PCA with target transforms, pre-edge peaks, PLS"
    }

    fn poll(&mut self, ctx: &mut ViewCtx<'_>, _egui: &egui::Context) {
        self.lcf.poll(ctx);
        self.peaks.poll(ctx);
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let alive: BTreeSet<u64> = ctx.store.items.iter().map(|i| i.id).collect();
        let x = &ctx.store.xanes;
        if !(x.lcf.is_empty() && x.peaks.is_empty() && x.pca.is_none() && x.pls.is_none()) {
            ctx.store.xanes.retain(|id| alive.contains(&id));
        }
        self.lcf.standards.retain(|id| alive.contains(id));
        self.pca.train.retain(|id| alive.contains(id));
        self.pca.targets.retain(|id| alive.contains(id));
        self.pls.items.retain(|(id, _)| alive.contains(id));
        super::workspace_panel(ui, ctx);
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Lcf, "Linear combination");
                ui.selectable_value(&mut self.tab, Tab::Pca, "PCA");
                ui.selectable_value(&mut self.tab, Tab::Peaks, "Pre-edge peaks");
                ui.selectable_value(&mut self.tab, Tab::Pls, "PLS");
            });
            ui.separator();
            match self.tab {
                Tab::Lcf => self.lcf.ui(ui, ctx),
                Tab::Pca => self.pca.ui(ui, ctx),
                Tab::Peaks => self.peaks.ui(ui, ctx),
                Tab::Pls => self.pls.ui(ui, ctx),
            }
        });
    }
}

/// Whether `id` is a μ(E) spectrum of the store (what XANES analyses take).
fn is_mu(store: &Store, id: u64) -> bool {
    store
        .item(id)
        .is_some_and(|i| i.modality() == Modality::Xas)
}

/// μ(E) spectra of the store in tree order.
fn mu_items(ctx: &ViewCtx<'_>) -> Vec<(u64, String)> {
    ctx.store
        .display_order()
        .into_iter()
        .filter_map(|id| ctx.store.item(id))
        .filter(|i| i.modality() == Modality::Xas)
        .map(|i| (i.id, i.name.clone()))
        .collect()
}

/// Normalized groups of `ids`, or the first reason one cannot be used.
fn groups(ctx: &ViewCtx<'_>, ids: &[u64]) -> Result<Vec<XanesGroup>, String> {
    ids.iter()
        .map(|&id| {
            let item = ctx.store.item(id).ok_or("an item is gone")?;
            xanes_group(item)
        })
        .collect()
}

/// A frame that takes tree rows dropped on it (highlighted while they are
/// carried over it). Returns what `add_contents` returned and the drop.
fn drop_zone<R>(
    ui: &mut Ui,
    add_contents: impl FnOnce(&mut Ui) -> R,
) -> (R, Option<Arc<TreeDrag>>) {
    // A frame of its own (a stroke), so that egui keeps it when nothing is
    // carried (its default would fill the zone and hide the check boxes).
    let frame = egui::Frame::default()
        .stroke(ui.visuals().widgets.noninteractive.bg_stroke)
        .inner_margin(4.0)
        .corner_radius(4.0);
    let (r, drop) = ui.dnd_drop_zone::<TreeDrag, R>(frame, |ui| {
        // The whole column is the target, not only the names.
        ui.set_min_width(ui.available_width());
        add_contents(ui)
    });
    (r.inner, drop)
}

/// Tree rows dropped on the list called `what`: the μ(E) spectra among
/// them go to `add` (which says whether it took them); anything else is
/// refused with a log line naming it.
fn accept_drop(
    ctx: &mut ViewCtx<'_>,
    drop: &TreeDrag,
    what: &str,
    mut add: impl FnMut(u64) -> bool,
) {
    let mut added = Vec::new();
    for &id in &drop.0 {
        if is_mu(ctx.store, id) {
            if add(id) {
                added.push(ctx.store.name_of(id));
            }
        } else {
            ctx.log.warn(format!(
                "XANES: {} is not a μ(E) spectrum: not added to the {what}",
                ctx.store.name_of(id)
            ));
        }
    }
    if !added.is_empty() {
        ctx.log
            .info(format!("XANES: {} added to the {what}", added.join(", ")));
    }
}

/// What the buttons under a list asked for.
struct ListButtons {
    /// The selected μ(E) spectra, when "Add selection" was clicked.
    add: Vec<u64>,
    clear: bool,
}

/// "Add selection" (the selected μ(E) spectra join the list called `what`)
/// and "Clear" under a list of `len` entries.
fn list_buttons(ui: &mut Ui, ctx: &ViewCtx<'_>, what: &str, len: usize) -> ListButtons {
    ui.horizontal(|ui| {
        let sel: Vec<u64> = (ctx.store.selected_spectra(ctx.selection).iter())
            .filter(|i| is_mu(ctx.store, i.id))
            .map(|i| i.id)
            .collect();
        let add = ui
            .add_enabled(!sel.is_empty(), egui::Button::new("Add selection"))
            .on_hover_text(format!("The selected μ(E) spectra join the {what}"))
            .clicked();
        let clear = ui
            .add_enabled(len > 0, egui::Button::new("Clear"))
            .clicked();
        ListButtons {
            add: if add { sel } else { Vec::new() },
            clear,
        }
    })
    .inner
}

/// The hint a drop zone shows under its list.
fn drop_hint(ui: &mut Ui, text: &str) {
    ui.label(egui::RichText::new(text).weak().small());
}

fn line(name: impl Into<String>, x: &[f64], y: &[f64], color: Color32) -> Line<'static> {
    let pts: Vec<[f64; 2]> = x.iter().zip(y).map(|(a, b)| [*a, *b]).collect();
    Line::new(name.into(), PlotPoints::new(pts)).color(color)
}

fn pm(v: f64, s: Option<f64>) -> String {
    match s {
        Some(s) => format!("{v:.3} ± {s:.3}"),
        None => format!("{v:.3}"),
    }
}

/// The spectrum whose results are on show: the active one if it has some,
/// else the first selected one that has.
fn shown<T>(ctx: &ViewCtx<'_>, map: &std::collections::BTreeMap<u64, T>) -> Option<u64> {
    let sel = &*ctx.selection;
    sel.active
        .filter(|id| map.contains_key(id))
        .or_else(|| sel.selected.iter().copied().find(|id| map.contains_key(id)))
}
