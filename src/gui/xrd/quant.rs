//! Quantification: "Quantify…" asks for a reference library folder
//! (`phases.csv` and one pattern per phase) and an optional internal
//! standard, runs `carto::xrd::quantify` in the background, and shows the
//! weight fractions and the fit (measured, fitted, stacked contributions).

use std::sync::Arc;

use egui::{RichText, Ui};

use super::plot::XrdTab;
use super::{XrdEntry, XrdPanel};
use crate::gui::log::Log;
use crate::gui::tasks::{Task, Tasks, take_answer};
use crate::session::{XrdQuantResultSession, XrdQuantSession};
use crate::xrd::quantify::{QuantOptions, QuantResult, load_library, quantify};

/// A finished quantification.
#[derive(Debug, Clone)]
pub struct QuantDone {
    pub pattern: String,
    pub library: String,
    pub result: QuantResult,
}

/// One row of the results table.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantRow {
    pub id: String,
    pub name: String,
    pub weight_percent: f64,
    pub shift_deg: f64,
}

/// The quantification in the store: the settings it runs with and its
/// result.
#[derive(Debug)]
pub struct Quant {
    /// The result's id in the one id space (fresh for each result).
    pub id: u64,
    pub library_dir: String,
    pub use_standard: bool,
    pub standard_id: String,
    pub standard_wt: f64,
    /// Largest 2θ shift of each reference (°).
    pub max_shift_deg: f64,
    pub result: Option<QuantDone>,
    /// Bumped whenever the result changes (what undo keeps).
    pub(crate) rev: u64,
    /// The revision of a change undo takes as it is rather than as a step
    /// (a session's result, and its curves computed again).
    pub(crate) quiet_rev: u64,
}

/// The quantification result as the undo history keeps it.
#[derive(Debug, Clone)]
pub struct QuantState {
    pub rev: u64,
    pub id: u64,
    pub result: Option<Arc<QuantDone>>,
}

impl Default for Quant {
    fn default() -> Self {
        Quant {
            id: 0,
            library_dir: String::new(),
            use_standard: false,
            standard_id: String::new(),
            standard_wt: 20.0,
            max_shift_deg: 0.05,
            result: None,
            rev: 0,
            quiet_rev: 0,
        }
    }
}

impl Quant {
    /// Settings and the last result's table, for a session.
    pub fn to_session(&self) -> Option<XrdQuantSession> {
        if self.library_dir.trim().is_empty() && self.result.is_none() {
            return None;
        }
        Some(XrdQuantSession {
            library_dir: self.library_dir.clone(),
            use_standard: self.use_standard,
            standard_id: self.standard_id.clone(),
            standard_wt: self.standard_wt,
            max_shift_deg: self.max_shift_deg,
            result: self.result.as_ref().map(|d| XrdQuantResultSession {
                pattern: d.pattern.clone(),
                library: d.library.clone(),
                rwp_percent: d.result.rwp_percent,
                sample_shift_deg: d.result.sample_shift_deg,
                phases: d.result.phases.clone(),
            }),
        })
    }

    /// Restore settings and the result's table (its curves are not saved:
    /// see [`QuantView::apply_session`]).
    fn apply_session(&mut self, q: &XrdQuantSession) {
        self.library_dir = q.library_dir.clone();
        self.use_standard = q.use_standard;
        self.standard_id = q.standard_id.clone();
        self.standard_wt = q.standard_wt;
        self.max_shift_deg = q.max_shift_deg;
        let Some(r) = &q.result else {
            return;
        };
        self.id = crate::gui::store::new_id();
        self.result = Some(QuantDone {
            pattern: r.pattern.clone(),
            library: r.library.clone(),
            result: QuantResult {
                phases: r.phases.clone(),
                sample_shift_deg: r.sample_shift_deg,
                rwp_percent: r.rwp_percent,
                two_theta_deg: Vec::new(),
                measured: Vec::new(),
                fitted: Vec::new(),
                contributions: Vec::new(),
            },
        });
        self.rev = crate::gui::workspace::next_rev();
        self.quiet_rev = self.rev;
    }

    /// The results table, strongest phase first.
    pub fn rows(&self) -> Vec<QuantRow> {
        let Some(d) = &self.result else {
            return Vec::new();
        };
        let mut v: Vec<QuantRow> = d
            .result
            .phases
            .iter()
            .map(|p| QuantRow {
                id: p.id.clone(),
                name: p.name.clone(),
                weight_percent: p.weight_percent,
                shift_deg: p.shift_deg,
            })
            .collect();
        v.sort_by(|a, b| b.weight_percent.total_cmp(&a.weight_percent));
        v
    }

    /// What undo keeps of the result now.
    pub fn undo_state(&self) -> QuantState {
        QuantState {
            rev: self.rev,
            id: self.id,
            result: self.result.clone().map(Arc::new),
        }
    }

    /// Make the result `s`'s (an undo step's); returns its new revision.
    pub fn restore(&mut self, s: &QuantState) -> u64 {
        self.id = s.id;
        self.result = s.result.as_deref().cloned();
        self.rev = crate::gui::workspace::next_rev();
        self.rev
    }
}

/// The XRD view's side of the quantification: the dialog, the task and
/// why the last run failed.
#[derive(Default)]
pub struct QuantView {
    /// The dialog is open.
    pub dialog: bool,
    pub task: Option<Task<Result<QuantDone, String>>>,
    /// Why the last run could not start or failed (shown in the dialog).
    pub error: Option<String>,
    /// The run under way is a session's.
    quiet_run: bool,
}

impl QuantView {
    /// Restore the store's settings and result table from a session; when
    /// the library and the pattern are there, quantify again in the
    /// background to bring back the fitted curves (the fit is
    /// deterministic: same numbers).
    pub fn apply_session(
        &mut self,
        quant: &mut Quant,
        q: &XrdQuantSession,
        pattern: Option<&XrdEntry>,
        tasks: &Tasks,
    ) -> Result<(), String> {
        quant.apply_session(q);
        let Some(r) = &q.result else {
            return Ok(());
        };
        match pattern {
            Some(e) if std::path::Path::new(&r.library).is_dir() => {
                quant.library_dir = r.library.clone();
                let started = self.start(quant, e, tasks, None);
                self.quiet_run = started.is_ok();
                started
            }
            _ => Err(format!(
                "the quantification of {} is shown as saved; its curves need the pattern and \
                 the library {} (quantify again)",
                r.pattern, r.library
            )),
        }
    }

    pub fn cancel(&mut self) {
        if let Some(t) = self.task.take() {
            t.cancel();
        }
    }

    /// Start quantifying `e` with the store's settings `q`.
    pub fn start(
        &mut self,
        q: &Quant,
        e: &XrdEntry,
        tasks: &Tasks,
        ctx: Option<egui::Context>,
    ) -> Result<(), String> {
        self.quiet_run = false;
        let dir = q.library_dir.trim();
        if dir.is_empty() {
            return Err("choose the library folder (phases.csv and one pattern per phase)".into());
        }
        let dir = std::path::PathBuf::from(dir);
        let standard = if q.use_standard {
            let id = q.standard_id.trim().to_string();
            if id.is_empty() {
                return Err("give the internal standard's phase ID (e.g. CORUNDUM)".into());
            }
            let w = q.standard_wt;
            if !(w > 0.0 && w < 100.0) {
                return Err(format!("the standard's weight {w} % must be in (0, 100)"));
            }
            Some((id, w))
        } else {
            None
        };
        let (x, y) = (e.pattern.two_theta_deg.clone(), e.pattern.intensity.clone());
        let name = e.name.clone();
        let max_shift = q.max_shift_deg;
        self.task = Some(Task::spawn(
            tasks,
            format!("quantifying {name}"),
            ctx,
            move |_| {
                let refs = load_library(&dir).map_err(|e| e.to_string())?;
                let standard = match standard {
                    None => None,
                    Some((id, w)) => {
                        let i = refs
                            .iter()
                            .position(|r| r.id.eq_ignore_ascii_case(&id))
                            .ok_or_else(|| {
                                format!("no phase '{id}' in {} (phases.csv)", dir.display())
                            })?;
                        Some((i, w))
                    }
                };
                let o = QuantOptions {
                    max_shift_deg: max_shift,
                    standard,
                    align_deg: if standard.is_some() {
                        QuantOptions::default().align_deg
                    } else {
                        0.0
                    },
                    min_weight_percent: 0.0,
                };
                let result = quantify(&x, &y, &refs, &o).map_err(|e| format!("{name}: {e}"))?;
                Ok(QuantDone {
                    pattern: name,
                    library: dir.display().to_string(),
                    result,
                })
            },
        ));
        Ok(())
    }

    /// Take the answer into the store's `quant`.
    pub fn poll(&mut self, quant: &mut Quant, log: &mut Log, tab: &mut XrdTab) {
        let quiet = self.quiet_run;
        match take_answer(&mut self.task, "quantification", log) {
            Some(Ok(d)) => {
                log.info(format!(
                    "quantified {} with {}: {} phases, Rwp {:.2} %",
                    d.pattern,
                    d.library,
                    d.result.phases.len(),
                    d.result.rwp_percent
                ));
                quant.id = crate::gui::store::new_id();
                quant.result = Some(d);
                quant.rev = crate::gui::workspace::next_rev();
                if quiet {
                    quant.quiet_rev = quant.rev;
                }
                self.quiet_run = false;
                self.error = None;
                self.dialog = false;
                *tab = XrdTab::Quantification;
            }
            Some(Err(e)) => {
                log.error(format!("quantification: {e}"));
                self.quiet_run = false;
                self.error = Some(e);
            }
            None => {}
        }
    }
}

impl XrdPanel {
    /// The quantification part of the right panel; true: choose a folder.
    pub(super) fn quant_ui(&mut self, ui: &mut Ui, quant: &Quant) -> bool {
        ui.horizontal(|ui| {
            ui.heading("Quantification");
            if ui
                .add_enabled(self.active.is_some(), egui::Button::new("Quantify…"))
                .on_hover_text("Full-pattern fit of the active pattern with a reference library")
                .on_disabled_hover_text("Open a pattern first")
                .clicked()
            {
                self.quant.dialog = true;
            }
            if let Some(t) = &self.quant.task {
                crate::gui::widgets::task_row(ui, t.status());
            }
        });
        let Some(d) = &quant.result else {
            return false;
        };
        ui.label(
            RichText::new(format!(
                "{} with {}: Rwp {:.2} %, sample shift {:+.3}°",
                d.pattern, d.library, d.result.rwp_percent, d.result.sample_shift_deg
            ))
            .weak(),
        );
        egui::Grid::new("xrd_quant_grid")
            .striped(true)
            .num_columns(3)
            .show(ui, |ui| {
                for h in ["phase", "weight %", "shift (°)"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for r in quant.rows() {
                    ui.label(&r.id).on_hover_text(&r.name);
                    ui.monospace(format!("{:8.2}", r.weight_percent));
                    ui.monospace(format!("{:+.3}", r.shift_deg));
                    ui.end_row();
                }
                let total = d.result.total_weight_percent();
                ui.label(RichText::new("total").strong()).on_hover_text(
                    "With an internal standard, 100 − total is what no reference accounts \
                     for (amorphous or missing phases; negative: an over-estimate)",
                );
                ui.monospace(format!("{total:8.2}"));
                ui.end_row();
            });
        false
    }

    /// The "Quantify…" dialog; true: choose the library folder.
    pub(super) fn quant_dialog_ui(
        &mut self,
        ui: &mut Ui,
        pats: &[XrdEntry],
        quant: &mut Quant,
    ) -> bool {
        if !self.quant.dialog {
            return false;
        }
        let mut browse = false;
        let mut run = false;
        let mut open = true;
        let name = self
            .active_entry(pats)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        egui::Window::new("Quantify")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .show(ui.ctx(), |ui| {
                ui.label(format!("Pattern: {name}"));
                let (q, view) = (&mut *quant, &mut self.quant);
                egui::Grid::new("quant_dialog")
                    .num_columns(2)
                    .show(ui, |ui| {
                        let l = ui.label("library folder");
                        ui.horizontal(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut q.library_dir)
                                    .desired_width(320.0)
                                    .hint_text("folder with phases.csv"),
                            )
                            .labelled_by(l.id);
                            browse = ui.button("Browse…").clicked();
                        });
                        ui.end_row();
                        ui.label("");
                        ui.checkbox(&mut q.use_standard, "internal standard");
                        ui.end_row();
                        let l = ui.label("standard ID");
                        ui.add_enabled(
                            q.use_standard,
                            egui::TextEdit::singleline(&mut q.standard_id)
                                .desired_width(160.0)
                                .hint_text("e.g. CORUNDUM"),
                        )
                        .labelled_by(l.id);
                        ui.end_row();
                        let l = ui.label("standard wt %");
                        ui.add_enabled(
                            q.use_standard,
                            egui::DragValue::new(&mut q.standard_wt)
                                .speed(0.1)
                                .range(0.01..=99.99),
                        )
                        .labelled_by(l.id);
                        ui.end_row();
                        let l = ui.label("max shift");
                        ui.add(
                            egui::DragValue::new(&mut q.max_shift_deg)
                                .speed(0.005)
                                .range(0.0..=1.0)
                                .suffix(" °"),
                        )
                        .labelled_by(l.id)
                        .on_hover_text("Largest 2θ shift of each reference pattern");
                        ui.end_row();
                    });
                ui.horizontal(|ui| {
                    run = ui
                        .add_enabled(view.task.is_none(), egui::Button::new("Run quantification"))
                        .clicked();
                    if view.task.is_some() {
                        ui.spinner();
                    }
                });
                if let Some(e) = &view.error {
                    ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
                }
            });
        if !open {
            self.quant.dialog = false;
        }
        if run {
            let ctx = ui.ctx().clone();
            let r = match self.active_entry(pats).cloned() {
                Some(e) => self.quant.start(quant, &e, &self.tasks, Some(ctx)),
                None => Err("click a pattern first".into()),
            };
            self.quant.error = r.err();
        }
        browse
    }
}
