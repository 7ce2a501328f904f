//! The File menu. It only says what was chosen ([`MenuAction`]); the app
//! does it.

use egui::Ui;

use super::dialogs::DialogKind;
use super::recent::{RecentEntry, RecentFiles, RecentKind};

/// What the File menu needs to know to enable its entries.
pub struct MenuState<'a> {
    pub has_model: bool,
    pub has_report: bool,
    /// The Spectra view's plot is on show (plot exports).
    pub plot_on_show: bool,
    /// A PNG export waits for its screenshot.
    pub png_pending: bool,
    pub recent: &'a RecentFiles,
}

/// What was chosen in the File menu.
#[derive(Debug, Clone)]
pub enum MenuAction {
    Dialog(DialogKind),
    OpenRecent(RecentEntry),
    ClearRecent,
    LoadDemo,
    SaveSession,
    /// File ▸ Export features…: the window with the preview.
    ExportFeatures,
}

/// The File menu's entries (inside its menu button).
pub fn file_menu(ui: &mut Ui, state: &MenuState<'_>) -> Option<MenuAction> {
    let mut out = None;
    if ui
        .add(egui::Button::new("Open…").shortcut_text("Ctrl+O"))
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::Open));
    }
    if ui
        .button("Open fit model…")
        .on_hover_text("A feffit model file (TOML) for the Fit view")
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::OpenModel));
    }
    if ui
        .add_enabled(state.has_model, egui::Button::new("Save fit model…"))
        .on_hover_text("Write the Fit view's model, as edited, to a TOML file")
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::SaveModel));
    }
    if ui
        .add_enabled(state.has_report, egui::Button::new("Save fit report…"))
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::SaveReport));
    }
    ui.menu_button("Open recent", |ui| {
        if let Some(a) = recent_menu_ui(ui, state.recent) {
            out = Some(a);
        }
    });
    if ui.button("Load demo session").clicked() {
        out = Some(MenuAction::LoadDemo);
    }
    ui.separator();
    if ui.button("Open session…").clicked() {
        out = Some(MenuAction::Dialog(DialogKind::OpenSession));
    }
    if ui
        .add(egui::Button::new("Save session").shortcut_text("Ctrl+S"))
        .clicked()
    {
        out = Some(MenuAction::SaveSession);
    }
    if ui.button("Save session as…").clicked() {
        out = Some(MenuAction::Dialog(DialogKind::SaveSession));
    }
    ui.separator();
    if ui
        .button("Export CSV…")
        .on_hover_text("The processed arrays of the selected spectra, one file each")
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::ExportCsv));
    }
    if ui
        .button("Export features…")
        .on_hover_text(
            "The feature table (one row per spectrum or pattern: parameters, e0, edge step, \
             descriptors, fit and LCF results, XRD peaks and phases) as CSV or Parquet, \
             with a preview",
        )
        .clicked()
    {
        out = Some(MenuAction::ExportFeatures);
    }
    if ui
        .button("Export CSV, one column per spectrum…")
        .on_hover_text(
            "The selected spectra side by side: normalized μ(E), χ(k) and |χ(R)|, \
             each on the range they all cover",
        )
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::ExportWide));
    }
    if ui
        .add_enabled(state.plot_on_show, egui::Button::new("Export plot as SVG…"))
        .on_hover_text("The Spectra view's current plot: every curve shown, axes and legend")
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::ExportSvg));
    }
    if ui
        .add_enabled(
            state.plot_on_show && !state.png_pending,
            egui::Button::new("Export plot as PNG…"),
        )
        .on_hover_text("The Spectra view's plot area as it is on screen")
        .clicked()
    {
        out = Some(MenuAction::Dialog(DialogKind::ExportPng));
    }
    ui.separator();
    if ui.button("Quit").clicked() {
        ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
    }
    out
}

/// The File ▸ Open recent submenu: newest first; a file that is gone
/// is listed but disabled.
fn recent_menu_ui(ui: &mut Ui, recent: &RecentFiles) -> Option<MenuAction> {
    if recent.entries.is_empty() {
        ui.add_enabled(false, egui::Button::new("(nothing opened yet)"));
        return None;
    }
    let mut chosen = None;
    for e in &recent.entries {
        let name = e.path.file_name().map_or_else(
            || e.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let kind = match e.kind {
            RecentKind::Data => "",
            RecentKind::Session => "  (session)",
        };
        let exists = e.path.exists();
        let text = if exists {
            format!("{name}{kind}")
        } else {
            format!("{name}{kind}  (missing)")
        };
        if ui
            .add_enabled(exists, egui::Button::new(text))
            .on_hover_text(e.path.display().to_string())
            .on_disabled_hover_text(format!("{} no longer exists", e.path.display()))
            .clicked()
        {
            chosen = Some(e.clone());
            ui.close();
        }
    }
    ui.separator();
    if ui.button("Clear list").clicked() {
        ui.close();
        return Some(MenuAction::ClearRecent);
    }
    chosen.map(MenuAction::OpenRecent)
}
