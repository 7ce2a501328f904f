//! The Fit view: a feffit model file (TOML), edited in place (parameters,
//! paths, transform), the fit as a background task, data and fit in k and
//! R, the report and the correlation map, and a live mode that refits
//! while a parameter's slider is dragged. Every number comes from
//! carto::exafs. The model and its result live in the store
//! ([`FitDoc`]); the panel keeps how it shows them and its tasks.
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
use super::store::FitDoc;
use super::tasks::{Task, Tasks, take_answer};
use crate::exafs::feffit::{Feffit, FitError, FitModel, FitResult};
use crate::exafs::model::{load_model, parse_model};

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

/// The Fit view's state: how it shows the store's [`FitDoc`], and its
/// tasks.
#[derive(Default)]
pub struct FitPanel {
    /// Why the edited model cannot be fitted (a field that does not parse,
    /// else the compiler's message).
    pub invalid: Option<String>,
    /// The dataset the plots and editors show.
    pub dataset: usize,
    pub loading: Option<Task<LoadAnswer>>,
    pub fitting: Option<Task<Result<FitResult, FitError>>>,
    /// The model's edit count when the running fit started.
    fit_edits: u64,
    /// The model's edit count, result and save counts this panel last saw
    /// (a change made elsewhere, e.g. undo, is followed in [`Self::follow`]).
    seen_edits: u64,
    seen_result: u64,
    seen_saves: u64,
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
    /// A panel whose background work shows in `tasks` (the app's registry).
    pub fn with_tasks(tasks: &Tasks) -> Self {
        FitPanel {
            tasks: tasks.clone(),
            ..FitPanel::default()
        }
    }

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

    /// Drop every task and the view state (a session replaces the model).
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
    pub fn can_fit(&self, doc: &FitDoc) -> bool {
        doc.model.is_some() && self.invalid.is_none() && !self.busy()
    }

    /// Take what the tasks answered since the last frame, and follow
    /// changes of the model made elsewhere.
    pub fn poll(&mut self, doc: &mut FitDoc, log: &mut Log, ctx: Option<&egui::Context>) {
        if let Some((path, r, differs)) =
            take_answer(&mut self.loading, "opening the fit model", log)
        {
            match r {
                Ok(model) => {
                    log.info(format!(
                        "opened fit model {} ({} parameters, {} dataset(s))",
                        path.display(),
                        model.params.len(),
                        model.datasets.len()
                    ));
                    doc.set_model(path, model, differs);
                    self.follow(doc);
                    if let Some(e) = &self.invalid {
                        log.warn(format!("fit model: {e}"));
                    }
                    if std::mem::take(&mut self.fit_when_open) {
                        self.start_fit(doc, ctx.cloned());
                    }
                }
                Err(e) => log.error(format!("fit model: {e}")),
            }
        }
        self.follow(doc);
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
                    let stale = doc.model_rev() != self.fit_edits;
                    self.show_result(doc, res, stale, true);
                    self.live.held = None;
                }
                Err(FitError::Cancelled) => log.warn("fit cancelled"),
                Err(e) => log.error(format!("fit: {e}")),
            }
        }
        self.poll_live(doc, ctx);
    }

    /// Follow what changed in `doc` since this panel last saw it (a model
    /// opened, undo, a save): a fit of another model no longer belongs
    /// here, the text fields show the model again.
    pub fn follow(&mut self, doc: &FitDoc) {
        if self.seen_edits != doc.model_rev() {
            self.seen_edits = doc.model_rev();
            if let Some(t) = self.fitting.take() {
                t.cancel();
            }
            self.live.stop();
            if doc.just_opened() {
                self.dataset = 0;
            }
            self.edit = edit::EditState::default();
            self.edit.sync(doc.model.as_ref());
            self.validate(doc);
        } else if self.seen_saves != doc.saves() {
            self.edit.sync(doc.model.as_ref());
        }
        self.seen_saves = doc.saves();
        if self.seen_result != doc.result_rev() {
            self.seen_result = doc.result_rev();
            self.live.held = None;
            self.reset_plots = true;
        }
    }

    /// Show a fit's result. `reset_plots` re-fits the plots' bounds (not
    /// while live fits come in, so a zoom stays put).
    fn show_result(&mut self, doc: &mut FitDoc, res: FitResult, stale: bool, reset_plots: bool) {
        doc.set_result(Some(res), stale);
        self.seen_result = doc.result_rev();
        self.reset_plots |= reset_plots;
    }

    /// Check the edited model: fields that do not parse, then a compile of
    /// the whole model (cheap), to find out whether it can be fitted.
    pub fn validate(&mut self, doc: &FitDoc) {
        self.invalid = self.edit.field_error().or_else(|| {
            doc.model
                .as_ref()
                .and_then(|m| Feffit::new(m.clone()).err())
                .map(|e| e.to_string())
        });
    }

    /// After this panel changed the model: count it, check it again.
    fn edited(&mut self, doc: &mut FitDoc) {
        doc.edited();
        self.seen_edits = doc.model_rev();
        self.validate(doc);
    }

    /// Start the fit in the background (no-op when it cannot start).
    pub fn start_fit(&mut self, doc: &FitDoc, ctx: Option<egui::Context>) {
        if !self.can_fit(doc) {
            return;
        }
        let Some(model) = doc.model.clone() else {
            return;
        };
        self.fit_edits = doc.model_rev();
        self.fitting = Some(Task::spawn(&self.tasks, "fitting…", ctx, move |task| {
            Feffit::new(model)?.fit(Some(task.cancel_flag()))
        }));
    }

    /// Copy the fitted values into the model as the next starting point.
    pub fn use_fitted_values(&mut self, doc: &mut FitDoc) {
        doc.use_fitted_values();
        self.seen_edits = doc.model_rev();
        self.validate(doc);
    }

    pub fn ui(&mut self, ui: &mut Ui, doc: &mut FitDoc) -> FitAction {
        self.follow(doc);
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
                .add_enabled(doc.model.is_some(), egui::Button::new("Save model…"))
                .on_hover_text("Write the edited model as a TOML file (File ▸ Save fit model…)")
                .clicked()
            {
                action = FitAction::SaveModel;
            }
            if let Some(p) = &doc.path {
                let mut name = file_name(p);
                let mut hover = p.display().to_string();
                if doc.modified() {
                    name.push_str(" *");
                    hover.push_str("\n(edited: differs from the file; Save model… writes it)");
                }
                ui.label(RichText::new(name).strong()).on_hover_text(hover);
            }
            ui.separator();
            if ui
                .add_enabled(self.can_fit(doc), egui::Button::new("Run fit"))
                .on_hover_text("Fit the model in the background")
                .on_disabled_hover_text(
                    "Open a valid model first (a red message says what is wrong)",
                )
                .clicked()
            {
                self.start_fit(doc, Some(ctx.clone()));
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
            if doc.model.is_some() {
                self.live_toggle_ui(ui, doc);
            }
            if let Some(t) = &self.loading {
                ui.spinner();
                ui.label(t.title());
            }
            let n = doc.model.as_ref().map_or(0, |m| m.datasets.len());
            if n > 1 {
                ui.separator();
                let names: Vec<String> = doc
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
        if doc.model.is_none() {
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
                        self.live_ui(ui, doc);
                        self.params_ui(ui, doc);
                        ui.add_space(6.0);
                        self.stats_ui(ui, doc);
                        ui.add_space(6.0);
                        egui::CollapsingHeader::new("Paths")
                            .default_open(true)
                            .show(ui, |ui| {
                                if self.paths_ui(ui, doc) {
                                    action = FitAction::AddPaths;
                                }
                            });
                        egui::CollapsingHeader::new("Transform")
                            .default_open(true)
                            .show(ui, |ui| self.transform_ui(ui, doc));
                        if let Some(res) = &doc.result {
                            ui.add_space(6.0);
                            egui::CollapsingHeader::new("Correlations")
                                .default_open(true)
                                .show(ui, |ui| plots::correlation_map(ui, res));
                        }
                        if !doc.report.is_empty() {
                            egui::CollapsingHeader::new("Report")
                                .default_open(true)
                                .show(ui, |ui| {
                                    ui.horizontal(|ui| {
                                        if ui.button("Copy").clicked() {
                                            ui.ctx().copy_text(doc.report.clone());
                                        }
                                        if ui.button("Save…").clicked() {
                                            action = FitAction::SaveReport;
                                        }
                                    });
                                    let mut text = doc.report.as_str();
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
        self.plots_ui(ui, doc);
        action
    }

    fn stats_ui(&self, ui: &mut Ui, doc: &FitDoc) {
        let Some(res) = &doc.result else {
            return;
        };
        let s = &res.stats;
        let mut line = RichText::new(format!(
            "χ²_red = {:.5}   R-factor = {:.6}\nn_idp = {:.3}   nvarys = {}   nfev = {}",
            s.chi2_reduced, s.r_factor, s.n_idp, s.n_varys, s.nfev
        ))
        .monospace();
        if doc.stale {
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
        if doc.stale {
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
