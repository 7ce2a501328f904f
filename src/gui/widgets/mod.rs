//! Small pieces every view draws the same way: the task row (spinner or
//! progress bar, and Cancel), the colours new items get, and markers
//! dragged along a plot's x axis ([`MarkerDrag`]).

use egui::{Color32, Ui};

use super::tasks::{TaskStatus, Tasks};

mod discs;
mod marker;
pub use discs::{DiscCache, Discs, disc_texture};
pub use marker::{MARKER_GRAB_DISTANCE, MarkerDrag, MarkerEvent, grabs_marker};

/// The colours new items take in turn, in every view
/// ([`crate::svg::TABLEAU10`]).
pub const PALETTE: [Color32; 10] = {
    let mut out = [Color32::BLACK; 10];
    let mut i = 0;
    while i < 10 {
        let [r, g, b] = crate::svg::TABLEAU10[i];
        out[i] = Color32::from_rgb(r, g, b);
        i += 1;
    }
    out
};

/// The `n`th colour of [`PALETTE`], round and round.
pub fn palette(n: usize) -> Color32 {
    PALETTE[n % PALETTE.len()]
}

/// One running task: a progress bar when its amount of work is known, a
/// spinner with the seconds so far when not, and Cancel when it can stop.
pub fn task_row(ui: &mut Ui, task: &TaskStatus) {
    match task.progress() {
        Some(fraction) => {
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(240.0)
                    .text(format!(
                        "{}: {} / {}",
                        task.title,
                        task.done(),
                        task.total()
                    )),
            );
        }
        None => {
            ui.spinner();
            ui.label(format!(
                "{} {:.1} s",
                task.title,
                task.started.elapsed().as_secs_f32()
            ));
        }
    }
    if task.cancellable
        && ui
            .add_enabled(!task.is_cancelling(), egui::Button::new("Cancel"))
            .clicked()
    {
        task.cancel();
    }
}

/// Every running task of the registry, each after a separator.
pub fn tasks_ui(ui: &mut Ui, tasks: &Tasks) {
    for t in tasks.running() {
        ui.separator();
        task_row(ui, &t);
    }
}

/// A small square of colour (the tree's and legends' swatch).
pub fn swatch(ui: &mut Ui, color: Color32) {
    let (r, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
    ui.painter().rect_filled(r, 2.0, color);
}

/// A right-click on a plot curve or on its legend entry: the store item it
/// draws, with the modifiers, for the one selection (plain: only this item;
/// Ctrl: add or remove it; Shift: the range from the last click). A plain
/// left click on a legend entry keeps egui_plot's meaning (hide/show), and
/// a right-drag keeps box zoom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotPick {
    pub item: u64,
    pub ctrl: bool,
    pub shift: bool,
}

/// The item picked this frame in a plot whose response hovered
/// `hovered` (egui_plot's `hovered_plot_item`: a curve near the pointer or
/// a legend entry under it). `items` maps each drawn plot item to the store
/// item it shows; curves of no store item (markers, fits) are not in it.
pub fn plot_pick(
    ui: &Ui,
    hovered: Option<egui_plot::ItemId>,
    items: &[(egui_plot::ItemId, u64)],
) -> Option<PlotPick> {
    let hovered = hovered?;
    let (clicked, m) = ui.input(|i| {
        (
            i.pointer.button_clicked(egui::PointerButton::Secondary),
            i.modifiers,
        )
    });
    if !clicked {
        return None;
    }
    let item = items.iter().find(|(id, _)| *id == hovered)?.1;
    Some(PlotPick {
        item,
        ctrl: m.command,
        shift: m.shift,
    })
}
