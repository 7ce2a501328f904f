//! The Fit view: a feffit model file (TOML), edited in place (parameters,
//! paths, transform), the fit as a background task, data and fit in k and
//! R, the report and the correlation map, and a live mode that refits
//! while a parameter's slider is dragged. Every number comes from
//! carto::exafs.
//!
//! - [`edit`]: the parameter table, the paths and the transform.
//! - [`live`]: live mode (sliders, refits in the background).
//! - [`plots`]: curves, plots and the correlation map.

mod edit;
mod live;
mod plots;

use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

pub use self::edit::is_feff_path_file;
pub use self::live::LiveState;
pub use self::plots::{FitCurves, fit_curves};
use super::log::Log;
use super::tasks::{Task, Tasks, take_answer};
use crate::exafs::feffit::{Feffit, FitError, FitModel, FitResult, report};
use crate::exafs::model::{load_model, parse_model, rebase_paths, to_toml};

/// Correlations below this are left out of the report (Larch's default).
const REPORT_MIN_CORREL: f64 = 0.1;

/// Whether a path names a fit model file (opened in the Fit view, not as
/// a spectrum).
pub fn is_fit_model(path: &Path) -> bool {
    crate::io::route_path(path, &Default::default()) == crate::io::FileKind::FitModel
}

/// What the panel asks the app to do (file dialogs live in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitAction {
    None,
    OpenModel,
    SaveModel,
    SaveReport,
    AddPaths,
}

/// A model read on a worker thread: where it belongs, the model, and
/// whether it differs from the file on disk (restored from a session).
type LoadAnswer = (PathBuf, Result<FitModel, FitError>, bool);

/// The Fit view's state.
#[derive(Default)]
pub struct FitPanel {
    /// The model file shown.
    pub path: Option<PathBuf>,
    /// The model as edited.
    pub model: Option<FitModel>,
    /// Why the edited model cannot be fitted (a field that does not parse,
    /// else the compiler's message).
    pub invalid: Option<String>,
    pub result: Option<FitResult>,
    /// The model was edited since `result`.
    pub stale: bool,
    /// `report(result)`, kept for the text area, Copy and Save.
    pub report: String,
    /// The dataset the plots and editors show.
    pub dataset: usize,
    pub loading: Option<Task<LoadAnswer>>,
    pub fitting: Option<Task<Result<FitResult, FitError>>>,
    /// Counts model edits, so a fit knows whether the model changed while
    /// it ran.
    edits: u64,
    /// `edits` when the running fit started.
    fit_edits: u64,
    /// `edits` when a model was last opened (opening is not an undo step).
    opened_edits: u64,
    /// Counts every change of the result on show (the undo history's
    /// revision of results).
    result_rev: u64,
    /// `edits` when the model was last read or saved (None: it differs
    /// from the file on disk).
    saved_edits: Option<u64>,
    /// Start the fit as soon as the next model is open (`carto M.toml --fit`).
    pub fit_when_open: bool,
    reset_plots: bool,
    /// Text of the fields that are not plain numbers.
    edit: edit::EditState,
    /// Live mode.
    pub live: LiveState,
    /// The app's task registry (this view's background work shows there).
    pub tasks: Tasks,
}

impl FitPanel {
    /// Read a model file on a worker thread (the data go through AUTOBK).
    pub fn open_model(&mut self, path: PathBuf, ctx: Option<egui::Context>) {
        let name = file_name(&path);
        self.loading = Some(Task::spawn(
            &self.tasks,
            format!("opening {name}"),
            ctx,
            move |_| {
                let r = load_model(&path);
                (path, r, false)
            },
        ));
    }

    /// Build a model from its TOML text (a session's copy) on a worker
    /// thread; relative file names are relative to `path`'s folder.
    pub fn open_model_text(&mut self, path: PathBuf, text: String, ctx: Option<egui::Context>) {
        let name = file_name(&path);
        self.loading = Some(Task::spawn(
            &self.tasks,
            format!("opening {name}"),
            ctx,
            move |_| {
                let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
                let r = parse_model(&text, &base, &path.display().to_string());
                let differs = std::fs::read_to_string(&path).map_or(true, |t| t != text);
                (path, r, differs)
            },
        ));
    }

    /// Drop the model, its result and every task (a session replaces it).
    pub fn clear(&mut self) {
        if let Some(t) = self.fitting.take() {
            t.cancel();
        }
        if let Some(t) = self.loading.take() {
            t.cancel();
        }
        self.live.stop();
        *self = FitPanel {
            tasks: self.tasks.clone(),
            ..FitPanel::default()
        };
    }

    pub fn busy(&self) -> bool {
        self.loading.is_some() || self.fitting.is_some() || self.live.busy()
    }

    /// Whether Fit can start now.
    pub fn can_fit(&self) -> bool {
        self.model.is_some() && self.invalid.is_none() && !self.busy()
    }

    /// Whether the model differs from its file.
    pub fn modified(&self) -> bool {
        self.model.is_some() && self.saved_edits != Some(self.edits)
    }

    /// The folder relative file names of the model are relative to.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(PathBuf::new, Path::to_path_buf)
    }

    /// The model as TOML, file names relative to its own folder (what a
    /// session keeps). None without a model.
    pub fn model_text(&self) -> Option<Result<String, FitError>> {
        Some(self.text_of(self.model.as_ref()?))
    }

    /// `model` as TOML relative to this model's folder (an undo state's
    /// model, for a session).
    pub fn text_of(&self, model: &FitModel) -> Result<String, FitError> {
        let base = self.base_dir();
        to_toml(model, &base, &base)
    }

    /// Take what the tasks answered since the last frame.
    pub fn poll(&mut self, log: &mut Log, ctx: Option<&egui::Context>) {
        if let Some((path, r, differs)) =
            take_answer(&mut self.loading, "opening the fit model", log)
        {
            match r {
                Ok(model) => {
                    self.set_model(path, model, log);
                    if differs {
                        self.saved_edits = None;
                    }
                    if std::mem::take(&mut self.fit_when_open) {
                        self.start_fit(ctx.cloned());
                    }
                }
                Err(e) => log.error(format!("fit model: {e}")),
            }
        }
        if let Some(r) = take_answer(&mut self.fitting, "fit", log) {
            match r {
                Ok(res) => {
                    let s = &res.stats;
                    let note = if s.success {
                        String::new()
                    } else {
                        format!(" ({})", s.message)
                    };
                    log.info(format!(
                        "fit done: χ²_red = {:.5}, R-factor = {:.6}, \
                         {} variables, {} evaluations{note}",
                        s.chi2_reduced, s.r_factor, s.n_varys, s.nfev
                    ));
                    let stale = self.edits != self.fit_edits;
                    self.show_result(res, stale, true);
                    self.live.held = None;
                }
                Err(FitError::Cancelled) => log.warn("fit cancelled"),
                Err(e) => log.error(format!("fit: {e}")),
            }
        }
        self.poll_live(log, ctx);
    }

    /// Show a fit's result (table, statistics, plots, report).
    /// `reset_plots` re-fits the plots' bounds (not while live fits come
    /// in, so a zoom stays put).
    fn show_result(&mut self, res: FitResult, stale: bool, reset_plots: bool) {
        self.report = report(&res, REPORT_MIN_CORREL);
        self.result = Some(res);
        self.result_rev += 1;
        self.stale = stale;
        self.reset_plots |= reset_plots;
    }

    fn set_model(&mut self, path: PathBuf, model: FitModel, log: &mut Log) {
        // A fit of the previous model no longer belongs here.
        if let Some(t) = self.fitting.take() {
            t.cancel();
        }
        self.live.stop();
        log.info(format!(
            "opened fit model {} ({} parameters, {} dataset(s))",
            path.display(),
            model.params.len(),
            model.datasets.len()
        ));
        self.path = Some(path);
        self.model = Some(model);
        self.result = None;
        self.result_rev += 1;
        self.report.clear();
        self.stale = false;
        self.dataset = 0;
        self.edits += 1;
        self.saved_edits = Some(self.edits);
        self.opened_edits = self.edits;
        self.edit = edit::EditState::default();
        self.edit.sync(self.model.as_ref());
        self.validate();
        if let Some(e) = &self.invalid {
            log.warn(format!("fit model: {e}"));
        }
    }

    /// Check the edited model: fields that do not parse, then a compile of
    /// the whole model (cheap), to find out whether it can be fitted.
    pub fn validate(&mut self) {
        self.invalid = self.edit.field_error().or_else(|| {
            self.model
                .as_ref()
                .and_then(|m| Feffit::new(m.clone()).err())
                .map(|e| e.to_string())
        });
    }

    /// A model from its TOML text, file names relative to `base` (an undo
    /// state's model read back from a session).
    pub fn model_from_text(text: &str, base: &Path) -> Result<FitModel, FitError> {
        parse_model(text, base, "the session's undo history")
    }

    /// Counts every change of the model (the undo history's revision).
    pub fn model_rev(&self) -> u64 {
        self.edits
    }

    /// Counts every change of the result on show.
    pub fn result_rev(&self) -> u64 {
        self.result_rev
    }

    /// Put back a result of the undo history (None: no result on show).
    pub fn restore_result(&mut self, result: Option<FitResult>, stale: bool) {
        self.report = result
            .as_ref()
            .map_or_else(String::new, |r| report(r, REPORT_MIN_CORREL));
        self.result = result;
        self.result_rev += 1;
        self.stale = stale && self.result.is_some();
        self.live.held = None;
        self.reset_plots = true;
    }

    /// The last change of the model was opening it (not an undo step).
    pub fn just_opened(&self) -> bool {
        self.edits == self.opened_edits
    }

    /// Put back a model of the undo history: the result on show, if any,
    /// is then stale.
    pub fn restore_model(&mut self, model: Option<FitModel>) {
        if let Some(t) = self.fitting.take() {
            t.cancel();
        }
        self.live.stop();
        self.model = model;
        self.edit = edit::EditState::default();
        self.edit.sync(self.model.as_ref());
        self.edited();
    }

    /// After any change of the model: count it, mark the result stale,
    /// check the model again.
    fn edited(&mut self) {
        self.edits += 1;
        self.stale = self.result.is_some();
        self.validate();
    }

    /// Start the fit in the background (no-op when it cannot start).
    pub fn start_fit(&mut self, ctx: Option<egui::Context>) {
        if !self.can_fit() {
            return;
        }
        let Some(model) = self.model.clone() else {
            return;
        };
        self.fit_edits = self.edits;
        self.fitting = Some(Task::spawn(&self.tasks, "fitting…", ctx, move |task| {
            Feffit::new(model)?.fit(Some(task.cancel_flag()))
        }));
    }

    /// Copy the fitted values into the model as the next starting point.
    pub fn use_fitted_values(&mut self) {
        let (Some(model), Some(res)) = (&mut self.model, &self.result) else {
            return;
        };
        for p in &mut model.params {
            if p.expr.is_none()
                && let Some(r) = res.params.iter().find(|r| r.name == p.name)
                && r.value.is_finite()
            {
                p.value = r.value;
            }
        }
        self.edited();
    }

    /// Write the report (File ▸ Save report, the Save… button).
    pub fn save_report(&self, path: &Path, log: &mut Log) {
        match std::fs::write(path, &self.report) {
            Ok(()) => log.info(format!("saved the fit report to {}", path.display())),
            Err(e) => log.error(format!("cannot write {}: {e}", path.display())),
        }
    }

    /// Write the edited model as TOML to `path` (atomically: a temp file
    /// renamed over it, the previous file kept as `.bak`); file names are
    /// made relative to its folder. The model then belongs to `path`.
    pub fn save_model(&mut self, path: &Path, log: &mut Log) -> bool {
        let Some(model) = &mut self.model else {
            log.warn("no fit model to save");
            return false;
        };
        let from = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(PathBuf::new, Path::to_path_buf);
        let to = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let text = match to_toml(model, &from, &to) {
            Ok(t) => t,
            Err(e) => {
                log.error(format!("cannot save the fit model: {e}"));
                return false;
            }
        };
        if let Err(e) = crate::session::write_file_atomic(path, text.as_bytes()) {
            log.error(format!("cannot save the fit model: {e}"));
            return false;
        }
        rebase_paths(model, &from, &to);
        self.edit.sync(self.model.as_ref());
        self.path = Some(path.to_path_buf());
        self.saved_edits = Some(self.edits);
        log.info(format!("saved the fit model to {}", path.display()));
        true
    }

    pub fn ui(&mut self, ui: &mut Ui) -> FitAction {
        let mut action = FitAction::None;
        let ctx = ui.ctx().clone();
        ui.horizontal(|ui| {
            ui.heading("Fit");
            if ui
                .button("Open model…")
                .on_hover_text("A feffit model file (TOML): data, transform, parameters, paths")
                .clicked()
            {
                action = FitAction::OpenModel;
            }
            if ui
                .add_enabled(self.model.is_some(), egui::Button::new("Save model…"))
                .on_hover_text("Write the edited model as a TOML file (File ▸ Save fit model…)")
                .clicked()
            {
                action = FitAction::SaveModel;
            }
            if let Some(p) = &self.path {
                let mut name = file_name(p);
                let mut hover = p.display().to_string();
                if self.modified() {
                    name.push_str(" *");
                    hover.push_str("\n(edited: differs from the file; Save model… writes it)");
                }
                ui.label(RichText::new(name).strong()).on_hover_text(hover);
            }
            ui.separator();
            if ui
                .add_enabled(self.can_fit(), egui::Button::new("Run fit"))
                .on_hover_text("Fit the model in the background")
                .on_disabled_hover_text(
                    "Open a valid model first (a red message says what is wrong)",
                )
                .clicked()
            {
                self.start_fit(Some(ctx.clone()));
            }
            if let Some(t) = &self.fitting {
                ui.spinner();
                ui.label(format!(
                    "fitting… {:.1} s",
                    t.started().elapsed().as_secs_f32()
                ));
                if ui
                    .add_enabled(!t.is_cancelling(), egui::Button::new("Cancel fit"))
                    .clicked()
                {
                    t.cancel();
                }
            }
            if self.model.is_some() {
                self.live_toggle_ui(ui);
            }
            if let Some(t) = &self.loading {
                ui.spinner();
                ui.label(t.title());
            }
            let n = self.model.as_ref().map_or(0, |m| m.datasets.len());
            if n > 1 {
                ui.separator();
                let names: Vec<String> = self
                    .model
                    .iter()
                    .flat_map(|m| m.datasets.iter())
                    .enumerate()
                    .map(|(i, d)| format!("{}: {}", i + 1, d.data.name))
                    .collect();
                let current = names.get(self.dataset).cloned().unwrap_or_default();
                egui::ComboBox::from_id_salt("fit_dataset")
                    .selected_text(current)
                    .show_ui(ui, |ui| {
                        for (i, name) in names.iter().enumerate() {
                            if ui.selectable_value(&mut self.dataset, i, name).changed() {
                                self.reset_plots = true;
                            }
                        }
                    })
                    .response
                    .accessible_name("dataset");
            }
        });
        ui.separator();
        if self.model.is_none() {
            ui.centered_and_justified(|ui| {
                ui.label(
                    "No fit model: File ▸ Open fit model…, drop a .toml file here, \
                     or start with `carto MODEL.toml`.",
                );
            });
            return action;
        }
        if let Some(e) = &self.invalid {
            ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
        }
        egui::Panel::left("fit_side")
            .resizable(true)
            .default_size(560.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        self.live_ui(ui);
                        self.params_ui(ui);
                        ui.add_space(6.0);
                        self.stats_ui(ui);
                        ui.add_space(6.0);
                        egui::CollapsingHeader::new("Paths")
                            .default_open(true)
                            .show(ui, |ui| {
                                if self.paths_ui(ui) {
                                    action = FitAction::AddPaths;
                                }
                            });
                        egui::CollapsingHeader::new("Transform")
                            .default_open(true)
                            .show(ui, |ui| self.transform_ui(ui));
                        if let Some(res) = &self.result {
                            ui.add_space(6.0);
                            egui::CollapsingHeader::new("Correlations")
                                .default_open(true)
                                .show(ui, |ui| plots::correlation_map(ui, res));
                        }
                        if !self.report.is_empty() {
                            egui::CollapsingHeader::new("Report")
                                .default_open(true)
                                .show(ui, |ui| {
                                    ui.horizontal(|ui| {
                                        if ui.button("Copy").clicked() {
                                            ui.ctx().copy_text(self.report.clone());
                                        }
                                        if ui.button("Save…").clicked() {
                                            action = FitAction::SaveReport;
                                        }
                                    });
                                    let mut text = self.report.as_str();
                                    ui.add(
                                        egui::TextEdit::multiline(&mut text)
                                            .code_editor()
                                            .desired_width(f32::INFINITY)
                                            .desired_rows(20),
                                    );
                                });
                        }
                    });
            });
        self.plots_ui(ui);
        action
    }

    fn stats_ui(&self, ui: &mut Ui) {
        let Some(res) = &self.result else {
            return;
        };
        let s = &res.stats;
        let mut line = RichText::new(format!(
            "χ²_red = {:.5}   R-factor = {:.6}\nn_idp = {:.3}   nvarys = {}   nfev = {}",
            s.chi2_reduced, s.r_factor, s.n_idp, s.n_varys, s.nfev
        ))
        .monospace();
        if self.stale {
            line = line.weak();
        }
        ui.label(line).on_hover_text(format!(
            "χ² = {:.6}, AIC = {:.3}, BIC = {:.3}",
            s.chi_square, s.aic, s.bic
        ));
        if !s.success {
            ui.label(RichText::new(&s.message).color(ui.visuals().warn_fg_color));
        }
        if let Some((name, v)) = &self.live.held {
            ui.label(
                RichText::new(format!("live fit: {name} held at {v:.6}"))
                    .color(ui.visuals().warn_fg_color),
            );
        }
        if self.stale {
            ui.label(RichText::new("model edited since this fit").weak());
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_files_are_fit_models() {
        assert!(is_fit_model(Path::new("/a/b/model.toml")));
        assert!(is_fit_model(Path::new("MODEL.TOML")));
        assert!(!is_fit_model(Path::new("cu.xdi")));
        assert!(!is_fit_model(Path::new("toml")));
    }
}
