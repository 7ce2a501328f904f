//! The XRD view: measured powder patterns (list, overlay on a 2θ, Q or d
//! axis), SNIP background, peak search and pseudo-Voigt peak fits,
//! candidate structures from CIFs (sticks and broadened overlays with live
//! lattice-scale and shift handles), ranking a CIF library against a
//! pattern, and full-pattern quantification against a reference library.
//! Every number comes from carto::io::xrd and carto::xrd.
//!
//! - [`route`]: which files open here rather than as spectra.
//! - [`pattern`]: one measured pattern, its wavelength, background, peaks.
//! - [`peaks`]: the peaks table and the peak fits.
//! - [`plot`]: the curves as plain data (what the tests check) and the plot.
//! - [`phases`]: CIF phases and the right panel.
//! - [`library`]: the candidate library and the ranking.
//! - [`quant`]: quantification (dialog, background task, results).
//! - `session`: the view to and from a session file.

mod library;
mod pattern;
mod peaks;
mod phases;
mod plot;
mod quant;
pub mod route;
mod session;
pub use self::phases::is_jcpds;
pub use self::session::{phase_from_session, phase_to_session};

use std::collections::BTreeSet;

use egui::{RichText, Ui};

pub use self::library::{Library, LibraryState, LibraryView, Ranking};
pub use self::pattern::{LoadedPattern, XrdEntry, load_pattern, parse_pattern};
pub use self::peaks::PeakRow;
pub use self::phases::{CifPhase, PhaseState};
pub use self::plot::{XAxis, XrdRole, XrdSeries, XrdTab};
pub use self::quant::{Quant, QuantRow, QuantState, QuantView};
pub use self::route::{is_xrd_bytes, is_xrd_file};
use super::log::Log;
use super::store::Store;
use super::tasks::{Task, Tasks, take_answer};
use super::widgets::PlotPick;
use crate::xrd::peaks::BackgroundMethod;
use crate::xrd::peaks::PeakFit;

/// What the panel asks the app to do (file dialogs live in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrdAction {
    None,
    OpenPatterns,
    AddCifs,
    LoadLibrary,
    QuantLibrary,
}

/// Peak fits of one pattern: (pattern id, the analysis key they belong to,
/// one result per found peak).
type FitAnswer = (u64, u64, Vec<Result<PeakFit, String>>);

/// The XRD view's state; the patterns and phases themselves live in the
/// store ([`crate::gui::store::Store`]) and are passed in.
pub struct XrdPanel {
    /// The selected patterns: a read-only mirror of the app's one
    /// selection ([`Self::mirror_selection`] refreshes it every frame). The
    /// selection changes through [`Self::select_only`], [`Self::click`] and
    /// [`Self::remove_selected`], which take the one selection.
    pub selected: BTreeSet<u64>,
    /// The pattern whose settings, peaks and phases are shown (last clicked).
    pub active: Option<u64>,
    /// The one selection's active item last seen by [`Self::mirror_selection`].
    followed: Option<u64>,
    pub axis: XAxis,
    pub log_y: bool,
    pub show_background: bool,
    pub show_peaks: bool,
    pub tab: XrdTab,
    /// The candidate library's tasks and search box (the library itself
    /// is the store's).
    pub library: LibraryView,
    /// The quantification's dialog and task (settings and result are the
    /// store's).
    pub quant: QuantView,
    pub fitting: Option<Task<FitAnswer>>,
    /// The app's task registry (this view's background work shows there).
    pub tasks: Tasks,
    /// Cursor position in plot units, for the readout.
    pub cursor: Option<[f64; 2]>,
    /// A pattern or phase right-clicked in the plot this frame (the view
    /// applies it to the one selection).
    pub picked: Option<PlotPick>,
    reset_plot: bool,
}

impl Default for XrdPanel {
    fn default() -> Self {
        XrdPanel {
            selected: BTreeSet::new(),
            active: None,
            followed: None,
            axis: XAxis::TwoTheta,
            log_y: false,
            show_background: true,
            show_peaks: true,
            tab: XrdTab::Pattern,
            library: LibraryView::default(),
            quant: QuantView::default(),
            fitting: None,
            tasks: Tasks::default(),
            cursor: None,
            picked: None,
            reset_plot: false,
        }
    }
}

impl XrdPanel {
    /// A panel whose background work shows in `tasks` (the app's registry).
    pub fn with_tasks(tasks: &Tasks) -> Self {
        XrdPanel {
            tasks: tasks.clone(),
            ..XrdPanel::default()
        }
    }

    /// Add a pattern read by [`load_pattern`] to the store; returns its id.
    pub fn add(&mut self, store: &mut Store, p: LoadedPattern) -> u64 {
        self.reset_plot = true;
        store.add_pattern(p)
    }

    /// The active pattern among `pats`.
    pub fn active_entry<'p>(&self, pats: &'p [XrdEntry]) -> Option<&'p XrdEntry> {
        self.active.and_then(|id| entry(pats, id))
    }

    /// Refresh [`Self::selected`] from the one selection `sel`; the active
    /// pattern follows a pattern made active elsewhere (the tree).
    pub fn mirror_selection(
        &mut self,
        pats: &[XrdEntry],
        sel: &BTreeSet<u64>,
        active: Option<u64>,
    ) {
        let mirrored: BTreeSet<u64> = (pats.iter().map(|p| p.id))
            .filter(|id| sel.contains(id))
            .collect();
        if mirrored != self.selected {
            self.selected = mirrored;
            self.reset_plot = true;
        }
        if active != self.followed {
            self.followed = active;
            if let Some(a) = active.filter(|&a| entry(pats, a).is_some()) {
                self.active = Some(a);
            }
        }
    }

    /// Make `ids` the selected patterns in the one selection `sel` (the
    /// rest of it stays) and the last one active.
    pub fn select_only(&mut self, pats: &[XrdEntry], sel: &mut BTreeSet<u64>, ids: &[u64]) {
        sel.retain(|&id| entry(pats, id).is_none());
        sel.extend(ids);
        if let Some(&last) = ids.last() {
            self.active = Some(last);
        }
        self.mirror_selection(pats, sel, None);
        self.reset_plot = true;
    }

    /// Click, Ctrl-click (toggle) and Shift-click (range) in the list, on
    /// the one selection `sel` (as in the workspace tree: a plain click
    /// selects this pattern only).
    pub fn click(
        &mut self,
        pats: &[XrdEntry],
        sel: &mut BTreeSet<u64>,
        id: u64,
        ctrl: bool,
        shift: bool,
    ) {
        let pos = |id: u64| pats.iter().position(|p| p.id == id);
        let range = match (shift, self.active.and_then(pos), pos(id)) {
            (true, Some(i), Some(j)) => Some((i.min(j), i.max(j))),
            _ => None,
        };
        if let Some((lo, hi)) = range {
            if !ctrl {
                sel.clear();
            }
            sel.extend(pats[lo..=hi].iter().map(|p| p.id));
        } else if ctrl {
            if !sel.remove(&id) {
                sel.insert(id);
            }
        } else {
            sel.clear();
            sel.insert(id);
        }
        self.active = Some(id);
        self.mirror_selection(pats, sel, None);
        self.reset_plot = true;
    }

    /// Remove the selected patterns (taking them out of the one selection
    /// `sel`).
    pub fn remove_selected(&mut self, pats: &mut Vec<XrdEntry>, sel: &mut BTreeSet<u64>) -> usize {
        let before = pats.len();
        let gone = std::mem::take(&mut self.selected);
        pats.retain(|p| !gone.contains(&p.id));
        sel.retain(|id| !gone.contains(id));
        if self.active.is_some_and(|a| gone.contains(&a)) {
            self.active = pats.first().map(|p| p.id);
            sel.extend(self.active);
        }
        self.mirror_selection(pats, sel, None);
        before - pats.len()
    }

    /// Remove everything (a session replaces the view's content).
    pub fn clear(&mut self) {
        if let Some(t) = self.fitting.take() {
            t.cancel();
        }
        self.library.cancel_all();
        self.quant.cancel();
        *self = XrdPanel {
            tasks: self.tasks.clone(),
            ..XrdPanel::default()
        };
    }

    /// True while a background task of this view runs.
    pub fn busy(&self) -> bool {
        self.fitting.is_some() || self.library.busy() || self.quant.task.is_some()
    }

    /// The selected patterns in list order.
    pub fn selected_entries<'p>(&self, pats: &'p [XrdEntry]) -> Vec<&'p XrdEntry> {
        pats.iter()
            .filter(|p| self.selected.contains(&p.id))
            .collect()
    }

    /// Poll the background tasks (once per frame) and keep the derived
    /// data (background, peaks) up to date.
    pub fn poll(&mut self, store: &mut Store, log: &mut Log) {
        let pats = &mut store.patterns;
        for p in pats.iter_mut() {
            p.analyse();
        }
        if let Some((id, key, fits)) = take_answer(&mut self.fitting, "the peak fits", log)
            && let Some(e) = pats.iter_mut().find(|p| p.id == id)
        {
            let ok = fits.iter().filter(|f| f.is_ok()).count();
            if e.key() == key {
                log.info(format!("{}: {ok} of {} peaks fitted", e.name, fits.len()));
                e.fits = fits;
            } else {
                log.warn(format!(
                    "{}: the settings changed during the peak fits; fit again",
                    e.name
                ));
            }
        }
        self.library.poll(&mut store.library, log);
        self.quant.poll(&mut store.quant, log, &mut self.tab);
    }

    /// Fit every found peak of the active pattern in the background.
    pub fn start_peak_fits(&mut self, pats: &[XrdEntry], ctx: Option<egui::Context>) {
        let Some(e) = self.active_entry(pats) else {
            return;
        };
        if e.peaks.is_empty() || self.fitting.is_some() {
            return;
        }
        let (id, key) = (e.id, e.key());
        let x = e.pattern.two_theta_deg.clone();
        let y = e.pattern.intensity.clone();
        let sigma = e.pattern.sigma.clone();
        let found = e.peaks.clone();
        let window = e.fit_window_deg;
        self.fitting = Some(Task::spawn(
            &self.tasks,
            format!("fitting {} peaks of {}", found.len(), e.name),
            ctx,
            move |task| {
                let sigma =
                    sigma.unwrap_or_else(|| y.iter().map(|v| v.abs().max(1.0).sqrt()).collect());
                let out =
                    crate::xrd::peaks::fit_peaks(&x, &y, Some(&sigma), &found, window, || {
                        task.is_cancelling()
                    });
                (id, key, out)
            },
        ));
    }

    /// The view; `store` holds the patterns and phases, `sel` is the app's
    /// one selection.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        log: &mut Log,
        store: &mut Store,
        sel: &mut BTreeSet<u64>,
    ) -> XrdAction {
        let mut action = XrdAction::None;
        egui::Panel::left("xrd_patterns")
            .resizable(true)
            .default_size(270.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        if self.list_ui(ui, &mut store.patterns, sel) {
                            action = XrdAction::OpenPatterns;
                        }
                        ui.separator();
                        self.settings_ui(ui, &mut store.patterns);
                    });
            });
        egui::Panel::right("xrd_phases")
            .resizable(true)
            .default_size(380.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        let a = self.phases_ui(ui, log, store, sel);
                        if a != XrdAction::None {
                            action = a;
                        }
                    });
            });
        if self.quant_dialog_ui(ui, &store.patterns, &mut store.quant) {
            action = XrdAction::QuantLibrary;
        }
        if self.tab == XrdTab::Pattern && self.active_entry(&store.patterns).is_some() {
            egui::Panel::bottom("xrd_peaks")
                .resizable(true)
                .default_size(190.0)
                .show(ui, |ui| self.peaks_ui(ui, &store.patterns));
        }
        egui::CentralPanel::default().show(ui, |ui| self.plot_ui(ui, store));
        action
    }

    /// The pattern list; true when "Open…" was clicked.
    fn list_ui(&mut self, ui: &mut Ui, pats: &mut Vec<XrdEntry>, sel: &mut BTreeSet<u64>) -> bool {
        let mut open = false;
        ui.horizontal(|ui| {
            ui.heading("Patterns");
            if ui
                .button("Open…")
                .on_hover_text("Measured patterns: .xy .xye .dat .chi .raw .brml .xrdml .fxye")
                .clicked()
            {
                open = true;
            }
            if ui
                .add_enabled(!self.selected.is_empty(), egui::Button::new("Remove"))
                .on_hover_text("Remove the selected patterns")
                .clicked()
            {
                self.remove_selected(pats, sel);
            }
        });
        if pats.is_empty() {
            ui.label("No pattern: File ▸ Open, or drop pattern files on the window.");
            return open;
        }
        let modifiers = ui.input(|i| i.modifiers);
        let mut clicked = None;
        for p in pats.iter_mut() {
            let selected = self.selected.contains(&p.id);
            ui.horizontal(|ui| {
                ui.spacing_mut().interact_size.x = 18.0;
                ui.color_edit_button_srgba(&mut p.color)
                    .on_hover_text("Colour of this pattern in the plot");
                let hover = format!(
                    "{}\n{} · {} points · 2θ {:.2}–{:.2}°",
                    p.file,
                    p.pattern.source_format,
                    p.pattern.npts(),
                    p.pattern.two_theta_deg.first().copied().unwrap_or(f64::NAN),
                    p.pattern.two_theta_deg.last().copied().unwrap_or(f64::NAN)
                );
                if ui
                    .selectable_label(selected, &p.name)
                    .on_hover_text(hover)
                    .clicked()
                {
                    clicked = Some(p.id);
                }
            });
        }
        if let Some(id) = clicked {
            self.click(pats, sel, id, modifiers.command, modifiers.shift);
        }
        open
    }

    /// Wavelength and background settings of the active pattern.
    fn settings_ui(&mut self, ui: &mut Ui, pats: &mut [XrdEntry]) {
        let Some(id) = self.active else {
            return;
        };
        let Some(e) = pats.iter_mut().find(|p| p.id == id) else {
            return;
        };
        ui.label(RichText::new(&e.name).strong());
        egui::Grid::new("xrd_settings")
            .num_columns(2)
            .spacing([8.0, 4.0])
            .show(ui, |ui| {
                let l = ui.label("wavelength");
                ui.add(
                    egui::TextEdit::singleline(&mut e.wavelength_text)
                        .desired_width(110.0)
                        .hint_text("CuKa or Å"),
                )
                .labelled_by(l.id)
                .on_hover_text(
                    "A name (CuKa, CuKa1, MoKa, CoKa, …) or a number in Å; \
                     prefilled from the file when it records one",
                );
                ui.end_row();
                let l = ui.label("background");
                egui::ComboBox::from_id_salt("xrd_bkg_method")
                    .selected_text(match e.bkg_method {
                        BackgroundMethod::Snip => "SNIP",
                        BackgroundMethod::SonneveldVisser => "Sonneveld–Visser",
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut e.bkg_method, BackgroundMethod::Snip, "SNIP");
                        ui.selectable_value(
                            &mut e.bkg_method,
                            BackgroundMethod::SonneveldVisser,
                            "Sonneveld–Visser",
                        );
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let (name, help) = match e.bkg_method {
                    BackgroundMethod::Snip => (
                        "SNIP window",
                        "Half-width of the SNIP background filter (°2θ)",
                    ),
                    BackgroundMethod::SonneveldVisser => (
                        "S–V window",
                        "Sonneveld–Visser samples the pattern every half window (°2θ)",
                    ),
                };
                let l = ui.label(name);
                ui.add(
                    egui::DragValue::new(&mut e.bkg_window_deg)
                        .speed(0.01)
                        .range(0.02..=20.0)
                        .suffix(" °"),
                )
                .labelled_by(l.id)
                .on_hover_text(help);
                ui.end_row();
                let l = ui.label("min S/N");
                ui.add(
                    egui::DragValue::new(&mut e.min_snr)
                        .speed(0.1)
                        .range(1.0..=100.0),
                )
                .labelled_by(l.id)
                .on_hover_text("Peaks must rise this many noise levels above the background");
                ui.end_row();
                let l = ui.label("fit window");
                ui.add(
                    egui::DragValue::new(&mut e.fit_window_deg)
                        .speed(0.01)
                        .range(0.05..=5.0)
                        .suffix(" °"),
                )
                .labelled_by(l.id)
                .on_hover_text("Each peak is fitted over ± this window (°2θ)");
                ui.end_row();
            });
        match e.wavelength() {
            Ok(Some(l)) => {
                ui.label(RichText::new(format!("λ = {l:.5} Å")).weak());
            }
            Ok(None) => {
                ui.label(
                    RichText::new(
                        "No wavelength: the file gives none. Type one (CuKa, 1.5406) \
                         for Q and d axes, CIF phases and ranking.",
                    )
                    .color(ui.visuals().warn_fg_color),
                );
            }
            Err(err) => {
                ui.label(RichText::new(err).color(ui.visuals().error_fg_color));
            }
        }
        ui.label(
            RichText::new(format!(
                "{} · {} points · {} peaks found",
                e.pattern.source_format,
                e.pattern.npts(),
                e.peaks.len()
            ))
            .weak(),
        );
    }
}

/// The pattern `id` among `pats`.
pub fn entry(pats: &[XrdEntry], id: u64) -> Option<&XrdEntry> {
    pats.iter().find(|p| p.id == id)
}
