//! The Fit view: a feffit model file (TOML), its parameter table, the fit
//! as a background task, data and fit in k and R, the report and the
//! correlation map. Every number comes from carto::exafs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use egui::{Color32, RichText, Ui};
use egui_plot::{
    AxisHints, GridInput, Legend, Line, LineStyle, Plot, PlotPoints, uniform_grid_spacer,
};

use super::jobs::{BgTask, Log, TaskPoll};
use super::plots::superscript;
use crate::exafs::feffit::{DatasetResult, Feffit, FitError, FitModel, FitResult, report};
use crate::exafs::model::load_model;

/// Correlations below this are left out of the report (Larch's default).
const REPORT_MIN_CORREL: f64 = 0.1;

/// Whether a path names a fit model file (opened in the Fit view, not as
/// a spectrum).
pub fn is_fit_model(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

/// What the panel asks the app to do (file dialogs live in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitAction {
    None,
    OpenModel,
    SaveReport,
}

/// The curves of one dataset's fit, as plain data (what the tests check).
#[derive(Debug, Clone, Default)]
pub struct FitCurves {
    /// The k-weight of the k plots (the transform's first).
    pub kweight: f64,
    pub k_data: Vec<[f64; 2]>,
    pub k_fit: Vec<[f64; 2]>,
    /// The k window, scaled to the data.
    pub k_window: Vec<[f64; 2]>,
    /// k^w·(χ_data − χ_fit).
    pub k_residual: Vec<[f64; 2]>,
    pub r_data: Vec<[f64; 2]>,
    pub r_fit: Vec<[f64; 2]>,
    /// The R window, scaled to the data.
    pub r_window: Vec<[f64; 2]>,
}

/// The plotted curves of a dataset result.
pub fn fit_curves(ds: &DatasetResult) -> FitCurves {
    let kweight = ds.transform.kweight.first().copied().unwrap_or(2.0);
    let kw = |k: f64, y: f64| k.powf(kweight) * y;
    let k_data: Vec<[f64; 2]> =
        ds.k.iter()
            .zip(&ds.chi_data)
            .map(|(&k, &c)| [k, kw(k, c)])
            .collect();
    let k_fit: Vec<[f64; 2]> =
        ds.k.iter()
            .zip(&ds.chi_fit)
            .map(|(&k, &c)| [k, kw(k, c)])
            .collect();
    let k_residual =
        ds.k.iter()
            .zip(ds.chi_data.iter().zip(&ds.chi_fit))
            .map(|(&k, (&d, &f))| [k, kw(k, d - f)])
            .collect();
    let kmax = max_abs(k_data.iter().map(|p| p[1]));
    let k_window =
        ds.k.iter()
            .zip(&ds.kwin)
            .map(|(&k, &w)| [k, w * kmax])
            .collect();
    // Beyond a few Å there is nothing to see but noise.
    let r_end = (ds.transform.rmax + 2.0).max(6.0);
    let r_pts = |y: &[f64]| -> Vec<[f64; 2]> {
        ds.r.iter()
            .zip(y)
            .take_while(|(r, _)| **r <= r_end)
            .map(|(&r, &y)| [r, y])
            .collect()
    };
    let r_data = r_pts(&ds.chir_mag_data);
    let r_fit = r_pts(&ds.chir_mag_fit);
    let rmax = max_abs(r_data.iter().map(|p| p[1]));
    let r_window = r_pts(&ds.rwin)
        .into_iter()
        .map(|[r, w]| [r, w * rmax])
        .collect();
    FitCurves {
        kweight,
        k_data,
        k_fit,
        k_window,
        k_residual,
        r_data,
        r_fit,
        r_window,
    }
}

fn max_abs(v: impl Iterator<Item = f64>) -> f64 {
    v.filter(|x| x.is_finite()).fold(0.0, |m, x| m.max(x.abs()))
}

type LoadAnswer = (PathBuf, Result<FitModel, FitError>);

/// The Fit view's state.
#[derive(Default)]
pub struct FitPanel {
    /// The model file shown.
    pub path: Option<PathBuf>,
    /// The model as edited in the table.
    pub model: Option<FitModel>,
    /// Why the edited model cannot be fitted (the compiler's message).
    pub invalid: Option<String>,
    pub result: Option<FitResult>,
    /// The parameters were edited since `result`.
    pub stale: bool,
    /// `report(result)`, kept for the text area, Copy and Save.
    pub report: String,
    /// The dataset the plots show.
    pub dataset: usize,
    pub loading: Option<BgTask<LoadAnswer>>,
    pub fitting: Option<BgTask<Result<FitResult, FitError>>>,
    /// Counts parameter edits, so a fit knows whether the table changed
    /// while it ran.
    edits: u64,
    /// `edits` when the running fit started.
    fit_edits: u64,
    /// Start the fit as soon as the next model is open (`carto M.toml --fit`).
    pub fit_when_open: bool,
    reset_plots: bool,
}

impl FitPanel {
    /// Read a model file on a worker thread (the data go through AUTOBK).
    pub fn open_model(&mut self, path: PathBuf, ctx: Option<egui::Context>) {
        let name = file_name(&path);
        self.loading = Some(BgTask::spawn(format!("opening {name}"), ctx, move |_| {
            let r = load_model(&path);
            (path, r)
        }));
    }

    pub fn busy(&self) -> bool {
        self.loading.is_some() || self.fitting.is_some()
    }

    /// Whether Fit can start now.
    pub fn can_fit(&self) -> bool {
        self.model.is_some() && self.invalid.is_none() && !self.busy()
    }

    /// Take what the tasks answered since the last frame.
    pub fn poll(&mut self, log: &mut Log, ctx: Option<&egui::Context>) {
        if let Some(task) = &self.loading {
            match task.poll() {
                TaskPoll::Running => {}
                TaskPoll::Done((path, r)) => {
                    self.loading = None;
                    match r {
                        Ok(model) => {
                            self.set_model(path, model, log);
                            if std::mem::take(&mut self.fit_when_open) {
                                self.start_fit(ctx.cloned());
                            }
                        }
                        Err(e) => log.error(format!("fit model: {e}")),
                    }
                }
                TaskPoll::Lost => {
                    self.loading = None;
                    log.error("opening the fit model stopped unexpectedly");
                }
            }
        }
        if let Some(task) = &self.fitting {
            match task.poll() {
                TaskPoll::Running => {}
                TaskPoll::Done(r) => {
                    self.fitting = None;
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
                            self.report = report(&res, REPORT_MIN_CORREL);
                            self.result = Some(res);
                            self.stale = self.edits != self.fit_edits;
                            self.reset_plots = true;
                        }
                        Err(FitError::Cancelled) => log.warn("fit cancelled"),
                        Err(e) => log.error(format!("fit: {e}")),
                    }
                }
                TaskPoll::Lost => {
                    self.fitting = None;
                    log.error("the fit stopped unexpectedly");
                }
            }
        }
    }

    fn set_model(&mut self, path: PathBuf, model: FitModel, log: &mut Log) {
        // A fit of the previous model no longer belongs here.
        if let Some(t) = self.fitting.take() {
            t.cancel();
        }
        log.info(format!(
            "opened fit model {} ({} parameters, {} dataset(s))",
            path.display(),
            model.params.len(),
            model.datasets.len()
        ));
        self.path = Some(path);
        self.model = Some(model);
        self.result = None;
        self.report.clear();
        self.stale = false;
        self.dataset = 0;
        self.validate();
        if let Some(e) = &self.invalid {
            log.warn(format!("fit model: {e}"));
        }
    }

    /// Compile the edited model (cheap) to find out whether it can be fitted.
    pub fn validate(&mut self) {
        self.invalid = self
            .model
            .as_ref()
            .and_then(|m| Feffit::new(m.clone()).err())
            .map(|e| e.to_string());
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
        self.fitting = Some(BgTask::spawn("fitting…", ctx, move |cancel| {
            Feffit::new(model)?.fit(Some(cancel))
        }));
    }

    /// The curves of the dataset on show, once there is a fit.
    pub fn curves(&self) -> Option<FitCurves> {
        let res = self.result.as_ref()?;
        let ds = res.datasets.get(self.dataset).or(res.datasets.first())?;
        Some(fit_curves(ds))
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
        self.edits += 1;
        self.stale = true;
        self.validate();
    }

    /// Write the report (File ▸ Save report, the Save… button).
    pub fn save_report(&self, path: &Path, log: &mut Log) {
        match std::fs::write(path, &self.report) {
            Ok(()) => log.info(format!("saved the fit report to {}", path.display())),
            Err(e) => log.error(format!("cannot write {}: {e}", path.display())),
        }
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
            if let Some(p) = &self.path {
                ui.label(RichText::new(file_name(p)).strong())
                    .on_hover_text(p.display().to_string());
            }
            ui.separator();
            if ui
                .add_enabled(self.can_fit(), egui::Button::new("Run fit"))
                .on_hover_text("Fit the model in the background")
                .on_disabled_hover_text("Open a valid model first (errors show under the table)")
                .clicked()
            {
                self.start_fit(Some(ctx.clone()));
            }
            if let Some(t) = &self.fitting {
                ui.spinner();
                ui.label(format!(
                    "fitting… {:.1} s",
                    t.started.elapsed().as_secs_f32()
                ));
                if ui
                    .add_enabled(!t.is_cancelling(), egui::Button::new("Cancel fit"))
                    .clicked()
                {
                    t.cancel();
                }
            }
            if let Some(t) = &self.loading {
                ui.spinner();
                ui.label(&t.title);
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
                    });
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
        egui::Panel::left("fit_side")
            .resizable(true)
            .default_size(560.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        self.params_ui(ui);
                        ui.add_space(6.0);
                        self.stats_ui(ui);
                        if let Some(res) = &self.result {
                            ui.add_space(6.0);
                            egui::CollapsingHeader::new("Correlations")
                                .default_open(true)
                                .show(ui, |ui| correlation_map(ui, res));
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

    fn params_ui(&mut self, ui: &mut Ui) {
        let Some(model) = &mut self.model else {
            return;
        };
        let fitted: HashMap<&str, (f64, Option<f64>)> = self
            .result
            .iter()
            .flat_map(|r| r.params.iter())
            .map(|p| (p.name.as_str(), (p.value, p.stderr)))
            .collect();
        let mut changed = false;
        egui::Grid::new("fit_params")
            .striped(true)
            .num_columns(7)
            .show(ui, |ui| {
                for h in ["parameter", "value", "vary", "min", "max", "expr", "fit"] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for p in &mut model.params {
                    ui.label(RichText::new(&p.name).monospace());
                    let free = p.expr.is_none();
                    let speed = (p.value.abs() * 0.01).max(1e-4);
                    changed |= ui
                        .add_enabled(
                            free,
                            egui::DragValue::new(&mut p.value)
                                .speed(speed)
                                .max_decimals(6),
                        )
                        .accessible_name(format!("{} value", p.name))
                        .changed();
                    changed |= ui
                        .add_enabled(free, egui::Checkbox::without_text(&mut p.vary))
                        .accessible_name(format!("{} vary", p.name))
                        .changed();
                    changed |= ui
                        .add_enabled(free, bound(&mut p.min, f64::NEG_INFINITY))
                        .accessible_name(format!("{} min", p.name))
                        .changed();
                    changed |= ui
                        .add_enabled(free, bound(&mut p.max, f64::INFINITY))
                        .accessible_name(format!("{} max", p.name))
                        .changed();
                    let mut expr = p.expr.clone().unwrap_or_default();
                    if ui
                        .add(
                            egui::TextEdit::singleline(&mut expr)
                                .desired_width(140.0)
                                .min_size(egui::vec2(140.0, 0.0)),
                        )
                        .accessible_name(format!("{} expr", p.name))
                        .on_hover_text("An expression of other parameters (empty: none)")
                        .changed()
                    {
                        p.expr = (!expr.trim().is_empty()).then_some(expr);
                        changed = true;
                    }
                    match fitted.get(p.name.as_str()) {
                        Some(&(v, se)) => {
                            let text = match se {
                                Some(se) => format!("{v:.6} ± {se:.6}"),
                                None => format!("{v:.6}"),
                            };
                            let mut t = RichText::new(text).monospace();
                            if self.stale {
                                t = t.weak();
                            }
                            ui.label(t);
                        }
                        None => {
                            ui.label("");
                        }
                    }
                    ui.end_row();
                }
            });
        if changed {
            self.edits += 1;
            self.stale = self.result.is_some();
            self.validate();
        }
        if let Some(e) = &self.invalid {
            ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
        }
        if self.result.is_some()
            && ui
                .button("Use fitted values")
                .on_hover_text("Start the next fit from the fitted values")
                .clicked()
        {
            self.use_fitted_values();
        }
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
        if self.stale {
            ui.label(RichText::new("parameters edited since this fit").weak());
        }
    }

    fn plots_ui(&mut self, ui: &mut Ui) {
        let Some(c) = self.curves() else {
            ui.centered_and_justified(|ui| {
                ui.label("Run the fit to see data and model.");
            });
            return;
        };
        let reset = std::mem::take(&mut self.reset_plots);
        let n = superscript(c.kweight);
        let h = ((ui.available_height() - 3.0 * ui.spacing().item_spacing.y) / 3.0).max(80.0);
        let data_color = Color32::from_rgb(30, 110, 220);
        let fit_color = Color32::from_rgb(220, 60, 40);
        let win_color = Color32::GRAY;
        let link = egui::Id::unique("fit_k_axis");
        let k_label = "k (Å⁻¹)";
        let make = |id: &str, y: String, x: &str| {
            let p = Plot::new(("fit_plot", id, self.dataset))
                .height(h)
                .legend(Legend::default())
                .x_axis_label(x.to_string())
                .allow_boxed_zoom(true)
                .allow_double_click_reset(true)
                // The plots are short: egui_plot's powers of ten often
                // leave only "0" labelled; 1-2-5 steps give a few labels.
                .y_grid_spacer(uniform_grid_spacer(nice_steps))
                .custom_y_axes(vec![
                    AxisHints::new_y()
                        .label(y)
                        .label_spacing(12.0..=20.0)
                        .min_thickness(40.0),
                ]);
            if reset { p.reset() } else { p }
        };
        make("k", format!("k{n}·χ(k)"), k_label)
            .link_axis(link, [true, false])
            .show(ui, |pui| {
                pui.line(
                    Line::new("data", PlotPoints::new(c.k_data.clone()))
                        .color(data_color)
                        .width(1.5),
                );
                pui.line(
                    Line::new("fit", PlotPoints::new(c.k_fit.clone()))
                        .color(fit_color)
                        .width(1.5),
                );
                pui.line(
                    Line::new("window", PlotPoints::new(c.k_window.clone()))
                        .color(win_color)
                        .style(LineStyle::dashed_dense()),
                );
            });
        make("r", "|χ(R)|".to_string(), "R (Å)").show(ui, |pui| {
            pui.line(
                Line::new("data", PlotPoints::new(c.r_data.clone()))
                    .color(data_color)
                    .width(1.5),
            );
            pui.line(
                Line::new("fit", PlotPoints::new(c.r_fit.clone()))
                    .color(fit_color)
                    .width(1.5),
            );
            pui.line(
                Line::new("window", PlotPoints::new(c.r_window.clone()))
                    .color(win_color)
                    .style(LineStyle::dashed_dense()),
            );
        });
        make("resid", format!("k{n}·(data − fit)"), k_label)
            .link_axis(link, [true, false])
            .show(ui, |pui| {
                pui.line(
                    Line::new("residual", PlotPoints::new(c.k_residual.clone()))
                        .color(Color32::from_rgb(40, 150, 60)),
                );
            });
    }
}

/// Grid steps of 1, 2 or 5 × 10ⁿ, about four major steps across the axis.
fn nice_steps(input: GridInput) -> [f64; 3] {
    let span = (input.bounds.1 - input.bounds.0).abs();
    if !span.is_finite() || span <= 0.0 {
        return [0.1, 1.0, 10.0];
    }
    let raw = span / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let major = mag
        * if f < 1.5 {
            1.0
        } else if f < 3.5 {
            2.0
        } else if f < 7.5 {
            5.0
        } else {
            10.0
        };
    [major / 5.0, major, major * 5.0]
}

/// A min/max bound: a DragValue that shows and accepts ±inf (empty or
/// "none" means no bound).
fn bound(v: &mut f64, none: f64) -> egui::DragValue<'_> {
    egui::DragValue::new(v)
        .speed(0.01)
        .custom_formatter(|x, _| {
            if x.is_infinite() {
                if x > 0.0 { "inf".into() } else { "-inf".into() }
            } else {
                format!("{x}")
            }
        })
        .custom_parser(move |s| {
            let t = s.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("none") {
                Some(none)
            } else {
                t.parse::<f64>().ok()
            }
        })
}

/// The correlation matrix of the varied parameters: |c| as colour, c as
/// text.
fn correlation_map(ui: &mut Ui, res: &FitResult) {
    let names: Vec<&str> = res
        .params
        .iter()
        .filter(|p| p.vary)
        .map(|p| p.name.as_str())
        .collect();
    if names.len() < 2 {
        ui.label("(fewer than two varied parameters)");
        return;
    }
    let corr: HashMap<(&str, &str), f64> = res
        .correlations
        .iter()
        .flat_map(|(a, b, c)| {
            [
                ((a.as_str(), b.as_str()), *c),
                ((b.as_str(), a.as_str()), *c),
            ]
        })
        .collect();
    let font = egui::FontId::monospace(11.0);
    let text_color = ui.visuals().text_color();
    let widest = names
        .iter()
        .map(|n| {
            ui.painter()
                .layout_no_wrap(n.to_string(), font.clone(), text_color)
                .size()
                .x
        })
        .fold(0.0, f32::max);
    let cell = (widest + 8.0).max(44.0);
    let label_w = widest + 8.0;
    let label_h = 16.0;
    let n = names.len() as f32;
    let (resp, painter) = ui.allocate_painter(
        egui::vec2(label_w + n * cell, label_h + n * cell),
        egui::Sense::hover(),
    );
    let origin = resp.rect.min + egui::vec2(label_w, label_h);
    let low = ui.visuals().extreme_bg_color;
    let high = Color32::from_rgb(215, 48, 39);
    let mut hovered = None;
    for (i, a) in names.iter().enumerate() {
        painter.text(
            origin + egui::vec2(-4.0, (i as f32 + 0.5) * cell),
            egui::Align2::RIGHT_CENTER,
            *a,
            font.clone(),
            text_color,
        );
        painter.text(
            origin + egui::vec2((i as f32 + 0.5) * cell, -2.0),
            egui::Align2::CENTER_BOTTOM,
            *a,
            font.clone(),
            text_color,
        );
        for (j, b) in names.iter().enumerate() {
            let c = if i == j {
                Some(1.0)
            } else {
                corr.get(&(*a, *b)).copied()
            };
            let rect = egui::Rect::from_min_size(
                origin + egui::vec2(j as f32 * cell, i as f32 * cell),
                egui::vec2(cell, cell),
            )
            .shrink(1.0);
            let t = c.map_or(0.0, |c| c.abs().min(1.0) as f32);
            let fill = low.lerp_to_gamma(high, t);
            painter.rect_filled(rect, 2.0, fill);
            if let Some(c) = c {
                let fg = if t > 0.5 { Color32::WHITE } else { text_color };
                painter.text(
                    rect.center(),
                    egui::Align2::CENTER_CENTER,
                    format!("{c:+.2}"),
                    font.clone(),
                    fg,
                );
            }
            if resp.hover_pos().is_some_and(|p| rect.contains(p)) {
                hovered = Some(format!(
                    "{a} – {b}: {}",
                    c.map_or("n/a".into(), |c| format!("{c:+.4}"))
                ));
            }
        }
    }
    if let Some(h) = hovered {
        resp.on_hover_text(h);
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
    fn nice_steps_give_a_few_round_labels() {
        let steps = |lo, hi| {
            nice_steps(GridInput {
                bounds: (lo, hi),
                base_step_size: 1e-3,
            })
        };
        assert_eq!(steps(-12.0, 12.0)[1], 5.0);
        assert_eq!(steps(0.0, 7.0)[1], 2.0);
        assert_eq!(steps(-0.4, 0.4)[1], 0.2);
        assert_eq!(steps(0.0, 0.0), [0.1, 1.0, 10.0]);
        assert_eq!(steps(0.0, f64::NAN), [0.1, 1.0, 10.0]);
    }

    #[test]
    fn toml_files_are_fit_models() {
        assert!(is_fit_model(Path::new("/a/b/model.toml")));
        assert!(is_fit_model(Path::new("MODEL.TOML")));
        assert!(!is_fit_model(Path::new("cu.xdi")));
        assert!(!is_fit_model(Path::new("toml")));
    }
}
