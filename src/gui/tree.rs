//! The workspace tree (left of the Spectra and XANES views): everything
//! loaded, grouped by kind; click, ctrl- and shift-click select, rename,
//! remove; rows drag (egui's drag-and-drop) as [`TreeDrag`].

use std::collections::BTreeSet;

use egui::{Color32, RichText, Ui};

use super::selection::Selection;
use super::store::Store;
use super::widgets::swatch;
use super::workspace::Modality;

/// What the tree asks the app to do after drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeAction {
    None,
    /// Remove these items.
    Remove(BTreeSet<u64>),
    /// Rename an item (Enter in its name field).
    Rename(u64, String),
}

/// What a row dragged out of the tree carries (egui's drag-and-drop
/// payload): the store ids of the row, or of the whole selection when the
/// row is selected, in tree order. Ids of any kind: whoever takes the drop
/// decides what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeDrag(pub Vec<u64>);

impl TreeDrag {
    /// The payload of a drag started on `id`.
    fn of(ws: &Store, sel: &BTreeSet<u64>, id: u64) -> Self {
        if sel.contains(&id) {
            TreeDrag(
                ws.tree_order()
                    .into_iter()
                    .filter(|i| sel.contains(i))
                    .collect(),
            )
        } else {
            TreeDrag(vec![id])
        }
    }

    /// Start carrying the row `id` (or the selection it is part of).
    fn start(ui: &Ui, ws: &Store, sel: &BTreeSet<u64>, id: u64) {
        egui::DragAndDrop::set_payload(ui.ctx(), Self::of(ws, sel, id));
    }
}

/// A tree row's name: selectable, and draggable as well as clickable (a
/// press that moves starts a drag; one that does not is a click).
fn row_label(ui: &mut Ui, selected: bool, text: RichText) -> egui::Response {
    ui.add(egui::Button::selectable(selected, text).sense(egui::Sense::click_and_drag()))
}

/// The view a plain click in the tree opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeOpen {
    /// The XRD view on this pattern.
    Pattern(u64),
    /// The XRD view (a phase, the candidate library).
    Xrd,
    /// The Fit view (the model, its result).
    Fit,
    /// Compute the FEFF paths of this structure around the first site of
    /// this element (the structure's context menu).
    Paths(u64, &'static str),
    /// Overlay this structure's closed-form χ(k) around this element on
    /// the Spectra view's χ(k) and |χ(R)| tabs.
    Overlay(u64, &'static str),
    /// Remove that overlay.
    ClearOverlay,
    /// Simulate the XANES of this structure around this element.
    Xanes(u64, &'static str),
}

/// The workspace tree: items grouped by modality, multi-select, colour,
/// rename, remove.
#[derive(Debug, Default)]
pub struct TreePanel {
    /// The item whose name is being edited, and the text so far.
    pub renaming: Option<(u64, String)>,
    /// Give the name field the keyboard focus on its next frame.
    focus_rename: bool,
}

impl TreePanel {
    /// The workspace tree's other kinds: the XRD view's powder patterns,
    /// crystal structures (CIF phases) and candidate library, and the Fit
    /// view's model and its result. Each is in the one selection like the
    /// spectra (Ctrl- and Shift-click add to it); a plain click also opens
    /// its view on it. Returns the view to open.
    pub fn others_ui(&mut self, ui: &mut Ui, ws: &Store, sel: &mut Selection) -> Option<TreeOpen> {
        let lib = &ws.library;
        let fit = &ws.fit;
        if ws.patterns.is_empty() && ws.phases.is_empty() && !lib.is_loaded() && fit.model.is_none()
        {
            return None;
        }
        ui.separator();
        let modifiers = ui.input(|i| i.modifiers);
        let mut clicked: Option<(u64, TreeOpen)> = None;
        // A structure's context menu asked for its FEFF paths.
        let mut paths: Option<TreeOpen> = None;
        let mut dragged: Option<u64> = None;
        let mut structure_dragged: Option<u64> = None;
        let mut row =
            |ui: &mut Ui, id: u64, color: Option<Color32>, text: RichText, hover: String| {
                ui.horizontal(|ui| {
                    if let Some(c) = color {
                        swatch(ui, c);
                    }
                    let r = row_label(ui, sel.selected.contains(&id), text).on_hover_text(hover);
                    if r.drag_started() {
                        dragged = Some(id);
                    }
                    r.clicked()
                })
                .inner
            };
        if !ws.patterns.is_empty() {
            egui::CollapsingHeader::new(format!("XRD patterns ({})", ws.patterns.len()))
                .id_salt("tree-xrd-patterns")
                .default_open(true)
                .show(ui, |ui| {
                    for e in &ws.patterns {
                        let hover = format!(
                            "{} (click: opens in the XRD view; Ctrl-click: adds it to the \
                             selection)",
                            e.file
                        );
                        if row(ui, e.id, Some(e.color), RichText::new(&e.name), hover) {
                            clicked = Some((e.id, TreeOpen::Pattern(e.id)));
                        }
                    }
                });
        }
        if !ws.phases.is_empty() {
            egui::CollapsingHeader::new(format!("Structures ({})", ws.phases.len()))
                .id_salt("tree-structures")
                .default_open(true)
                .show(ui, |ui| {
                    for ph in &ws.phases {
                        let text = RichText::new(format!("{} ({})", ph.name, ph.formula));
                        let hover = format!(
                            "{} (a phase of the XRD view; right-click: FEFF paths)",
                            ph.path.display()
                        );
                        let r = ui.horizontal(|ui| {
                            swatch(ui, ph.color);
                            row_label(ui, sel.selected.contains(&ph.id), text).on_hover_text(hover)
                        });
                        if r.inner.clicked() {
                            clicked = Some((ph.id, TreeOpen::Xrd));
                        }
                        if r.inner.drag_started() {
                            structure_dragged = Some(ph.id);
                        }
                        r.inner.context_menu(|ui| {
                            if ph.is_card() {
                                ui.label(
                                    "A JCPDS card lists reflections, not atoms: \
                                     no FEFF paths or simulated spectra from it",
                                );
                                return;
                            }
                            let s = ph.structure();
                            for (el, _) in crate::structure::composition(&s) {
                                if ui
                                    .button(format!("FEFF paths around {el} (K edge, to 5 Å)"))
                                    .on_hover_text(
                                        "Computed in-process (refeff, FEFF10); the paths go \
                                         to the Fit view's model",
                                    )
                                    .clicked()
                                {
                                    paths = Some(TreeOpen::Paths(ph.id, el));
                                    ui.close();
                                }
                                if ui
                                    .button(format!("Overlay closed-form χ(k) around {el}"))
                                    .on_hover_text(
                                        "Single-scattering χ(k) from cached pair tables \
                                         (shells to 5 Å, σ² 0.005 Å²), drawn on the \
                                         χ(k) and |χ(R)| tabs with the active spectrum's \
                                         k-weight and transform",
                                    )
                                    .clicked()
                                {
                                    paths = Some(TreeOpen::Overlay(ph.id, el));
                                    ui.close();
                                }
                                if ui
                                    .button(format!("Simulate XANES around {el}"))
                                    .on_hover_text(
                                        "FEFF10 full multiple scattering in-process (refeff: \
                                         FMS 5 Å, SCF, RPA core hole; 20–60 s); the μ(E) opens \
                                         as a spectrum. FEFF's energies are its own: align \
                                         before comparing",
                                    )
                                    .clicked()
                                {
                                    paths = Some(TreeOpen::Xanes(ph.id, el));
                                    ui.close();
                                }
                            }
                            if let Some(t) = &ws.theory_overlay
                                && ui
                                    .button(format!("Clear the overlay ({})", t.name))
                                    .clicked()
                            {
                                paths = Some(TreeOpen::ClearOverlay);
                                ui.close();
                            }
                        });
                    }
                });
        }
        if lib.is_loaded() {
            let name = lib.dir.as_deref().map_or_else(
                || "(not read)".to_string(),
                |d| {
                    d.file_name().map_or_else(
                        || d.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                },
            );
            let text = RichText::new(format!(
                "Candidate library {name} ({})",
                lib.candidates.len()
            ));
            let hover = lib
                .dir
                .as_deref()
                .map_or_else(String::new, |d| d.display().to_string())
                + "\n(CIFs ranked against a pattern in the XRD view)";
            if row(ui, lib.id, None, text, hover) {
                clicked = Some((lib.id, TreeOpen::Xrd));
            }
        }
        if fit.model.is_some() {
            egui::CollapsingHeader::new("Fit model")
                .id_salt("tree-fit")
                .default_open(true)
                .show(ui, |ui| {
                    let name = fit
                        .path
                        .as_deref()
                        .and_then(|p| p.file_name())
                        .map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned());
                    let mark = if fit.modified() { " *" } else { "" };
                    let hover = fit
                        .path
                        .as_deref()
                        .map_or_else(String::new, |p| p.display().to_string())
                        + "\n(click: opens the Fit view)";
                    if row(
                        ui,
                        fit.id,
                        None,
                        RichText::new(format!("{name}{mark}")),
                        hover,
                    ) {
                        clicked = Some((fit.id, TreeOpen::Fit));
                    }
                    if let Some(r) = &fit.result {
                        let mut text = RichText::new(format!(
                            "fit result (χ²_red = {:.4})",
                            r.stats.chi2_reduced
                        ));
                        if fit.stale {
                            text = text.weak();
                        }
                        let hover = "The fit of this model (weak: the model was edited since)";
                        if row(ui, fit.result_id, None, text, hover.to_string()) {
                            clicked = Some((fit.result_id, TreeOpen::Fit));
                        }
                    }
                });
        }
        if let Some(id) = dragged.or(structure_dragged) {
            TreeDrag::start(ui, ws, &sel.selected, id);
        }
        if paths.is_some() {
            return paths;
        }
        let (id, open) = clicked?;
        sel.click(&ws.tree_order(), id, modifiers.command, modifiers.shift);
        (!modifiers.command && !modifiers.shift).then_some(open)
    }

    /// Turn an item's name into a text field holding `text`.
    pub fn start_rename(&mut self, id: u64, text: String) {
        self.renaming = Some((id, text));
        self.focus_rename = true;
    }

    pub fn ui(&mut self, ui: &mut Ui, ws: &mut Store, sel: &mut Selection) -> TreeAction {
        let mut action = TreeAction::None;
        ui.horizontal(|ui| {
            ui.heading("Workspace");
            if ui
                .add_enabled(!sel.selected.is_empty(), egui::Button::new("Remove"))
                .on_hover_text("Remove the selected items (Delete)")
                .clicked()
            {
                action = TreeAction::Remove(sel.selected.clone());
            }
        });
        if !sel.selected.is_empty()
            && ui.ctx().memory(|m| m.focused().is_none())
            && ui.input(|i| i.key_pressed(egui::Key::Delete))
        {
            action = TreeAction::Remove(sel.selected.clone());
        }
        if ws.items.is_empty() {
            ui.label("Nothing loaded: File ▸ Open, or drop files here.");
        }
        if self
            .renaming
            .as_ref()
            .is_some_and(|(id, _)| ws.item(*id).is_none())
        {
            self.renaming = None;
        }
        let modifiers = ui.input(|i| i.modifiers);
        let mut clicked = None;
        let mut dragged = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for m in Modality::ALL {
                let ids: Vec<u64> = ws
                    .display_order()
                    .into_iter()
                    .filter(|&id| ws.item(id).is_some_and(|i| i.modality() == m))
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let n_selected = sel.selected.len();
                let selection = sel.selected.clone();
                // Athena projects: their groups under one header each.
                let mut runs: Vec<(Option<String>, Vec<u64>)> = Vec::new();
                for id in ids.iter().copied() {
                    let project = ws
                        .item(id)
                        .filter(|i| i.group.is_some())
                        .map(|i| i.file.clone());
                    match runs.last_mut() {
                        Some((p, v)) if project.is_some() && *p == project => v.push(id),
                        _ => runs.push((project, vec![id])),
                    }
                }
                egui::CollapsingHeader::new(format!("{} ({})", m.title(), ids.len()))
                    .id_salt(m.title())
                    .default_open(true)
                    .show(ui, |ui| {
                        for (project, run) in runs {
                            let mut rows = |ui: &mut Ui| {
                                for &id in &run {
                                    self.tree_row(
                                        ui,
                                        ws,
                                        id,
                                        &selection,
                                        n_selected,
                                        &mut action,
                                        &mut clicked,
                                        &mut dragged,
                                    );
                                }
                            };
                            match &project {
                                Some(file) => {
                                    let stem = std::path::Path::new(file).file_name().map_or_else(
                                        || file.clone(),
                                        |s| s.to_string_lossy().into_owned(),
                                    );
                                    egui::CollapsingHeader::new(format!(
                                        "{stem} ({} groups)",
                                        run.len()
                                    ))
                                    .id_salt(("project", file.as_str()))
                                    .default_open(true)
                                    .show(ui, |ui| rows(ui));
                                }
                                None => rows(ui),
                            }
                        }
                    });
            }
        });
        if let Some(id) = clicked {
            sel.click(&ws.tree_order(), id, modifiers.command, modifiers.shift);
        }
        if let Some(id) = dragged {
            TreeDrag::start(ui, ws, &sel.selected, id);
        }
        drag_indicator(ui, ws);
        action
    }
    /// One item of the tree: colour, name (or the rename field), menu.
    #[allow(clippy::too_many_arguments)]
    fn tree_row(
        &mut self,
        ui: &mut Ui,
        ws: &mut Store,
        id: u64,
        selection: &BTreeSet<u64>,
        n_selected: usize,
        action: &mut TreeAction,
        clicked: &mut Option<u64>,
        dragged: &mut Option<u64>,
    ) {
        let selected = selection.contains(&id);
        let Some(item) = ws.item_mut(id) else {
            return;
        };
        ui.horizontal(|ui| {
            ui.spacing_mut().interact_size.x = 18.0;
            ui.color_edit_button_srgba(&mut item.color)
                .on_hover_text("Colour of this spectrum in every plot");
            if let Some((rid, text)) = &mut self.renaming
                && *rid == id
            {
                let r = ui.add(
                    egui::TextEdit::singleline(text)
                        .id_salt(("rename", id))
                        .desired_width(ui.available_width()),
                );
                let r = r.on_hover_text("Enter: rename · Escape: cancel");
                if std::mem::take(&mut self.focus_rename) {
                    r.request_focus();
                }
                let (enter, escape) = ui.input(|i| {
                    (
                        i.key_pressed(egui::Key::Enter),
                        i.key_pressed(egui::Key::Escape),
                    )
                });
                if escape {
                    self.renaming = None;
                } else if r.lost_focus() {
                    // Enter commits; clicking elsewhere cancels.
                    if enter {
                        *action = TreeAction::Rename(id, text.clone());
                    }
                    self.renaming = None;
                }
                return;
            }
            let mut text = RichText::new(&item.name);
            let err = item.spectrum().and_then(|s| s.error.clone());
            if err.is_some() {
                text = text.color(ui.visuals().error_fg_color);
            }
            let mut r = row_label(ui, selected, text).on_hover_text(&item.source);
            if r.drag_started() {
                *dragged = Some(id);
            }
            if let Some(e) = err {
                r = r.on_hover_text(RichText::new(e).color(Color32::RED));
            }
            if r.clicked() {
                *clicked = Some(id);
            }
            if r.double_clicked() {
                self.start_rename(id, item.name.clone());
            }
            r.context_menu(|ui| {
                if ui.button("Rename").clicked() {
                    self.start_rename(id, item.name.clone());
                    ui.close();
                }
                // On a selected item the menu acts on the
                // whole selection, else on this item.
                let (label, ids) = if selected && n_selected > 1 {
                    (format!("Remove {n_selected} selected"), selection.clone())
                } else {
                    ("Remove".to_string(), BTreeSet::from([id]))
                };
                if ui.button(label).clicked() {
                    *action = TreeAction::Remove(ids);
                    ui.close();
                }
            });
        });
    }
}

/// While tree rows are carried, what is carried, beside the pointer.
fn drag_indicator(ui: &Ui, ws: &Store) {
    let Some(drag) = egui::DragAndDrop::payload::<TreeDrag>(ui.ctx()) else {
        return;
    };
    let Some(pos) = ui.ctx().pointer_latest_pos() else {
        return;
    };
    let first = drag
        .0
        .first()
        .map_or_else(String::new, |&id| ws.name_of(id));
    let text = match drag.0.len() {
        0 | 1 => first,
        n => format!("{first} and {} more", n - 1),
    };
    egui::Area::new(egui::Id::unique("tree-drag-indicator"))
        .order(egui::Order::Tooltip)
        .interactable(false)
        .fixed_pos(pos + egui::vec2(14.0, 10.0))
        .show(ui.ctx(), |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| ui.label(format!("⇢ {text}")));
        });
}
