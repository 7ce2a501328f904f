//! The workspace tree (left of the Spectra view): everything loaded,
//! grouped by kind; click, ctrl- and shift-click select, rename, remove.

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
    /// The workspace tree's other modalities: the XRD view's powder
    /// patterns and crystal structures (CIF phases). Patterns are in the one
    /// selection like spectra (Ctrl- and Shift-click add them to it); a
    /// plain click also opens the XRD view on the pattern, a click on a
    /// structure on the phases. Returns the view to open: `Some(Some(id))`
    /// on a pattern, `Some(None)` on the phases.
    pub fn xrd_ui(&mut self, ui: &mut Ui, ws: &Store, sel: &mut Selection) -> Option<Option<u64>> {
        if ws.patterns.is_empty() && ws.phases.is_empty() {
            return None;
        }
        ui.separator();
        let mut open: Option<Option<u64>> = None;
        let modifiers = ui.input(|i| i.modifiers);
        let mut clicked = None;
        if !ws.patterns.is_empty() {
            egui::CollapsingHeader::new(format!("XRD patterns ({})", ws.patterns.len()))
                .id_salt("tree-xrd-patterns")
                .default_open(true)
                .show(ui, |ui| {
                    for e in &ws.patterns {
                        ui.horizontal(|ui| {
                            swatch(ui, e.color);
                            if ui
                                .selectable_label(sel.selected.contains(&e.id), &e.name)
                                .on_hover_text(format!(
                                    "{} (click: opens in the XRD view; Ctrl-click: adds it \
                                     to the selection)",
                                    e.file
                                ))
                                .clicked()
                            {
                                clicked = Some(e.id);
                            }
                        });
                    }
                });
        }
        if !ws.phases.is_empty() {
            egui::CollapsingHeader::new(format!("Structures ({})", ws.phases.len()))
                .id_salt("tree-structures")
                .default_open(true)
                .show(ui, |ui| {
                    for ph in &ws.phases {
                        ui.horizontal(|ui| {
                            swatch(ui, ph.color);
                            if ui
                                .selectable_label(false, format!("{} ({})", ph.name, ph.formula))
                                .on_hover_text(format!(
                                    "{} (a phase of the XRD view)",
                                    ph.path.display()
                                ))
                                .clicked()
                            {
                                open = Some(None);
                            }
                        });
                    }
                });
        }
        if let Some(id) = clicked {
            sel.click(&ws.display_order(), id, modifiers.command, modifiers.shift);
            if !modifiers.command && !modifiers.shift {
                open = Some(Some(id));
            }
        }
        open
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
            sel.click(&ws.display_order(), id, modifiers.command, modifiers.shift);
        }
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
            let mut r = ui
                .selectable_label(selected, text)
                .on_hover_text(&item.source);
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
