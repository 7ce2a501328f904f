//! Live mode: a slider per varied parameter. Moving one holds that
//! parameter at the slider's value and refits the other varied parameters
//! in the background; the plots, statistics and table show each result.
//! One fit runs at a time: a new one starts when the previous one is over,
//! always with the latest slider value, so the last result is the fit at
//! where the slider was let go.

use egui::{RichText, Ui};

use super::FitPanel;
use crate::exafs::feffit::{Feffit, FitError, FitModel, FitResult};
use crate::gui::store::FitDoc;
use crate::gui::tasks::{Task, TaskPoll};

type LiveAnswer = Result<FitResult, FitError>;

/// The live mode's state.
#[derive(Default)]
pub struct LiveState {
    pub on: bool,
    /// The varied parameters' slider positions and ranges, in model order:
    /// (name, value, (lo, hi)).
    pub sliders: Vec<(String, f64, (f64, f64))>,
    /// The held parameter and value that wait for a fit.
    pending: Option<(String, f64)>,
    task: Option<Task<LiveAnswer>>,
    /// What the running fit holds.
    running: Option<(String, f64)>,
    /// What the result on show held (None: a normal fit).
    pub held: Option<(String, f64)>,
    /// Live fits finished since live mode was turned on.
    pub fits: usize,
    /// Why the last live fit failed.
    pub error: Option<String>,
    /// The model edit count the sliders were built for.
    built_for: Option<u64>,
}

impl LiveState {
    pub fn busy(&self) -> bool {
        self.task.is_some() || self.pending.is_some()
    }

    /// A slider moved and its fit has not started yet (the registry does
    /// not see it until it starts).
    pub fn waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Turn off: cancel a running fit, drop what waits.
    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.cancel();
        }
        self.pending = None;
        self.running = None;
        self.on = false;
        self.built_for = None;
    }
}

/// The slider range of a parameter: its bounds where finite, else ±50 %
/// of its value, widened to 5 σ of the last fit (±1 when both are zero).
pub fn slider_range(value: f64, min: f64, max: f64, stderr: Option<f64>) -> (f64, f64) {
    let mut half = 0.5 * value.abs();
    if let Some(s) = stderr.filter(|s| s.is_finite()) {
        half = half.max(5.0 * s);
    }
    if half <= 0.0 || !half.is_finite() {
        half = 1.0;
    }
    let lo = if min.is_finite() { min } else { value - half };
    let hi = if max.is_finite() { max } else { value + half };
    (lo.min(value), hi.max(value))
}

impl FitPanel {
    /// The Live checkbox (top bar).
    pub(super) fn live_toggle_ui(&mut self, ui: &mut Ui, doc: &FitDoc) {
        let mut on = self.live.on;
        if ui
            .checkbox(&mut on, "Live")
            .on_hover_text(
                "A slider per varied parameter: dragging one holds it at the slider value \
                 and refits the others in the background",
            )
            .changed()
        {
            self.set_live(doc, on);
        }
    }

    /// Turn live mode on or off.
    pub fn set_live(&mut self, doc: &FitDoc, on: bool) {
        if on == self.live.on {
            return;
        }
        if on {
            self.live.on = true;
            self.live.fits = 0;
            self.live.error = None;
            self.build_sliders(doc);
        } else {
            self.live.stop();
        }
    }

    /// One slider per varied parameter, starting from the last fit when it
    /// is of this model, else from the starting values. Sliders of
    /// parameters still varied keep their position and range.
    fn build_sliders(&mut self, doc: &FitDoc) {
        let Some(model) = &doc.model else {
            self.live.sliders.clear();
            return;
        };
        let fitted = |name: &str| {
            doc.result
                .as_ref()
                .filter(|_| !doc.stale)
                .and_then(|r| r.params.iter().find(|p| p.name == name))
                .map(|p| (p.value, p.stderr))
        };
        let old = std::mem::take(&mut self.live.sliders);
        self.live.sliders = model
            .params
            .iter()
            .filter(|p| p.vary && p.expr.is_none())
            .map(|p| {
                if let Some(s) = old.iter().find(|s| s.0 == p.name) {
                    return s.clone();
                }
                let (v, se) = fitted(&p.name).unwrap_or((p.value, None));
                let v = if v.is_finite() { v } else { p.value };
                (p.name.clone(), v, slider_range(v, p.min, p.max, se))
            })
            .collect();
        self.live.built_for = Some(doc.model_rev());
    }

    /// Move a slider (what dragging does): hold `name` at `value` and ask
    /// for a refit of the others.
    pub fn live_set(&mut self, name: &str, value: f64) {
        if let Some(s) = self.live.sliders.iter_mut().find(|s| s.0 == name) {
            s.1 = value;
            self.live.pending = Some((name.to_string(), value));
        }
    }

    /// The sliders (side panel, while live mode is on).
    pub(super) fn live_ui(&mut self, ui: &mut Ui, doc: &FitDoc) {
        if !self.live.on {
            return;
        }
        if self.live.built_for != Some(doc.model_rev()) {
            self.build_sliders(doc);
        }
        let mut moved = None;
        egui::CollapsingHeader::new("Live")
            .default_open(true)
            .show(ui, |ui| {
                if self.live.sliders.is_empty() {
                    ui.label("No varied parameter: tick vary in the table.");
                }
                ui.spacing_mut().slider_width = (ui.available_width() - 220.0).clamp(120.0, 420.0);
                egui::Grid::new("fit_live").num_columns(2).show(ui, |ui| {
                    for (name, v, (lo, hi)) in &mut self.live.sliders {
                        ui.label(RichText::new(name.as_str()).monospace());
                        if ui
                            // No rounding and no clamping of the value as it
                            // is (both would move it without a drag).
                            .add(
                                egui::Slider::new(v, *lo..=*hi)
                                    .clamping(egui::SliderClamping::Edits),
                            )
                            .accessible_name(format!("live {name}"))
                            .changed()
                        {
                            moved = Some((name.clone(), *v));
                        }
                        ui.end_row();
                    }
                });
                ui.horizontal(|ui| {
                    if self.live.busy() {
                        ui.spinner();
                        ui.label("refitting…");
                    } else {
                        ui.label(RichText::new(format!("{} live fit(s)", self.live.fits)).weak());
                    }
                });
                if let Some(e) = &self.live.error {
                    ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
                }
            });
        if let Some((name, v)) = moved {
            self.live.pending = Some((name, v));
            ui.ctx().request_repaint();
        }
    }

    /// Take a finished live fit; start the next one when a slider moved.
    pub(super) fn poll_live(&mut self, doc: &mut FitDoc, ctx: Option<&egui::Context>) {
        if let Some(task) = &self.live.task {
            match task.poll() {
                TaskPoll::Running => {}
                TaskPoll::Done(r) => {
                    self.live.task = None;
                    let held = self.live.running.take();
                    match r {
                        Ok(res) => {
                            for s in &mut self.live.sliders {
                                if held.as_ref().is_some_and(|h| h.0 == s.0) {
                                    continue;
                                }
                                if let Some(p) = res.params.iter().find(|p| p.name == s.0)
                                    && p.value.is_finite()
                                {
                                    s.1 = p.value;
                                }
                            }
                            self.live.fits += 1;
                            self.live.error = None;
                            self.live.held = held;
                            self.show_result(doc, res, false, self.live.fits == 1);
                        }
                        Err(FitError::Cancelled) => {}
                        Err(e) => self.live.error = Some(format!("live fit: {e}")),
                    }
                }
                TaskPoll::Lost => {
                    let text = task.status().lost_text("the live fit");
                    self.live.task = None;
                    self.live.running = None;
                    self.live.error = Some(text);
                }
            }
        }
        if !self.live.on || self.live.task.is_some() || self.fitting.is_some() {
            return;
        }
        let Some((name, value)) = self.live.pending.take() else {
            return;
        };
        if self.invalid.is_some() {
            self.live.error =
                Some("live fit: the model is not valid (see the message above)".into());
            return;
        }
        let Some(model) = self.live_model(doc, &name, value) else {
            return;
        };
        self.live.running = Some((name, value));
        self.live.task = Some(Task::spawn(
            &self.tasks,
            "live fit",
            ctx.cloned(),
            move |task| Feffit::new(model)?.fit(Some(task.cancel_flag())),
        ));
    }

    /// The model with `name` fixed at `value` and the other varied
    /// parameters starting from their sliders.
    fn live_model(&self, doc: &FitDoc, name: &str, value: f64) -> Option<FitModel> {
        let mut model = doc.model.clone()?;
        for p in &mut model.params {
            if p.name == name {
                p.value = value;
                p.vary = false;
            } else if let Some(s) = self.live.sliders.iter().find(|s| s.0 == p.name) {
                p.value = s.1.clamp(p.min, p.max);
            }
        }
        Some(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slider_ranges_use_bounds_or_a_span_around_the_value() {
        assert_eq!(slider_range(1.0, 0.0, 2.0, None), (0.0, 2.0));
        assert_eq!(
            slider_range(2.0, f64::NEG_INFINITY, f64::INFINITY, None),
            (1.0, 3.0)
        );
        assert_eq!(
            slider_range(0.0, f64::NEG_INFINITY, f64::INFINITY, None),
            (-1.0, 1.0)
        );
        let (lo, hi) = slider_range(0.0, f64::NEG_INFINITY, f64::INFINITY, Some(0.01));
        assert!((lo + 0.05).abs() < 1e-12 && (hi - 0.05).abs() < 1e-12);
        assert_eq!(slider_range(0.004, 0.0, f64::INFINITY, None), (0.0, 0.006));
        // A value outside its bounds stays reachable.
        assert_eq!(slider_range(5.0, 0.0, 2.0, None), (0.0, 5.0));
    }
}
