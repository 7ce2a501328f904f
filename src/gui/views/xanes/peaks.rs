//! The XANES view's pre-edge peak tab: Larch's `pre_edge_baseline` of the
//! active spectrum and, with peak starts, its peak fit, run on the task
//! registry. Each start is a dashed marker on the plot: drag it and the fit
//! runs again when it is let go; double-click the plot to add one (at most
//! 4), right-click one to remove it.

use egui::{Color32, Ui};
use egui_plot::{Legend, LineStyle, Plot, PlotTransform, VLine};

use super::{groups, is_mu, line, pm};
use crate::gui::tasks::{Task, take_answer};
use crate::gui::views::ViewCtx;
use crate::gui::widgets::{MarkerDrag, MarkerEvent, palette};
use crate::gui::xanes::PeakEntry;
use crate::xanes::{
    BaselineForm, PeakShape, PrePeakRange, XanesGroup, fit_prepeaks, pre_edge_baseline,
};

/// `fit_prepeaks` fits 1 to 4 peaks.
pub const MAX_PEAKS: usize = 4;

type PeakAnswer = Result<PeakEntry, String>;

pub struct PeaksTab {
    /// Pre-edge ranges relative to e0 (Larch's defaults).
    range: [f64; 4],
    form: String,
    shape: PeakShape,
    /// Peak start energies (absolute eV), as the markers show them.
    starts: Vec<f64>,
    markers: MarkerDrag,
    /// The running fit and the spectrum it is of.
    running: Option<(Task<PeakAnswer>, u64)>,
}

impl Default for PeaksTab {
    fn default() -> Self {
        Self {
            range: [-30.0, -15.0, -5.0, -1.0],
            form: "linear+lorentzian".into(),
            shape: PeakShape::Gaussian,
            starts: Vec::new(),
            markers: MarkerDrag::editable(),
            running: None,
        }
    }
}

impl PeaksTab {
    /// The peak starts (absolute eV) in the order they were added.
    pub fn starts(&self) -> &[f64] {
        &self.starts
    }
    /// The peak plot's screen ↔ plot mapping in the last frame.
    pub fn transform(&self) -> Option<PlotTransform> {
        self.markers.transform()
    }
    /// The peak start being dragged.
    pub fn dragging(&self) -> Option<usize> {
        self.markers.held()
    }
    /// A fit is running.
    pub fn fitting(&self) -> bool {
        self.running.is_some()
    }

    /// Takes the running fit's answer into the store.
    pub(super) fn poll(&mut self, ctx: &mut ViewCtx<'_>) {
        let Some((_, id)) = &self.running else {
            return;
        };
        let id = *id;
        let mut slot = self.running.take().map(|(t, _)| t);
        match take_answer(&mut slot, "XANES pre-edge peak fit", ctx.log) {
            Some(Ok(p)) => {
                ctx.store.xanes.peaks.insert(id, p);
            }
            Some(Err(e)) => ctx.log.error(format!("XANES pre-edge peaks: {e}")),
            None => self.running = slot.map(|t| (t, id)),
        }
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let active = ctx.selection.active.filter(|id| is_mu(ctx.store, *id));
        let mut refit = false;
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(260.0);
                refit |= self.settings_ui(ui);
                if ui
                    .add_enabled(
                        active.is_some() && self.running.is_none(),
                        egui::Button::new("Fit pre-edge peaks"),
                    )
                    .on_hover_text("Baseline and centroid; with starts, 1–4 peaks fitted with it")
                    .clicked()
                {
                    refit = true;
                }
                if self.running.is_some() {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("fitting…");
                    });
                }
            });
            ui.separator();
            ui.vertical(|ui| refit |= self.result_ui(ui, ctx, active));
        });
        if refit && let Some(id) = active {
            self.start(ui, ctx, id);
        }
    }

    /// Ranges, baseline form, peak shape and the starts. True when a start
    /// was edited (the fit runs again).
    fn settings_ui(&mut self, ui: &mut Ui) -> bool {
        let mut refit = false;
        ui.label("Ranges, E − e0 (eV): fit from emin to emax, peaks between elo and ehi");
        let names = ["emin", "elo", "ehi", "emax"];
        for pair in [0, 2] {
            ui.horizontal(|ui| {
                for k in [pair, pair + 1] {
                    let l = ui.label(names[k]);
                    ui.add(egui::DragValue::new(&mut self.range[k]).speed(0.2))
                        .labelled_by(l.id);
                }
            });
        }
        ui.horizontal(|ui| {
            ui.label("baseline");
            egui::ComboBox::from_id_salt("xanes_pk_form")
                .selected_text(self.form.clone())
                .show_ui(ui, |ui| {
                    for f in [
                        "linear+lorentzian",
                        "linear+gaussian",
                        "linear+voigt",
                        "linear+atan_step",
                        "linear+erf_step",
                        "constant+lorentzian",
                        "quadratic",
                    ] {
                        ui.selectable_value(&mut self.form, f.to_string(), f);
                    }
                });
        });
        ui.horizontal(|ui| {
            ui.label("peaks");
            for (s, n) in [
                (PeakShape::Gaussian, "Gaussian"),
                (PeakShape::Lorentzian, "Lorentzian"),
                (PeakShape::Voigt, "Voigt"),
            ] {
                ui.selectable_value(&mut self.shape, s, n);
            }
        });
        ui.label(format!(
            "Peak starts ({} of at most {MAX_PEAKS})",
            self.starts.len()
        ))
        .on_hover_text(
            "The dashed markers on the plot: drag one to move it, double-click the \
                 plot to add one, right-click one to remove it",
        );
        let mut gone = None;
        for (k, e) in self.starts.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                let l = ui.label(format!("peak {}", k + 1));
                let r = ui
                    .add(egui::DragValue::new(e).speed(0.05).suffix(" eV"))
                    .labelled_by(l.id);
                if r.drag_stopped() || (r.changed() && !r.dragged()) {
                    refit = true;
                }
                if ui
                    .small_button("×")
                    .on_hover_text("Remove this start")
                    .clicked()
                {
                    gone = Some(k);
                }
            });
        }
        if let Some(k) = gone {
            self.starts.remove(k);
            refit = true;
        }
        if self.starts.is_empty() {
            ui.label(
                egui::RichText::new("Double-click the plot to add a peak start")
                    .weak()
                    .small(),
            );
        }
        refit
    }

    /// Runs the baseline and the peak fit of spectrum `id` in the
    /// background (a fit already running is dropped: its answer would be
    /// for starts that moved since).
    fn start(&mut self, ui: &Ui, ctx: &mut ViewCtx<'_>, id: u64) {
        let g = match groups(ctx, &[id]) {
            Ok(mut g) if !g.is_empty() => g.remove(0),
            Ok(_) => return,
            Err(e) => {
                ctx.log.error(format!("XANES pre-edge peaks: {e}"));
                return;
            }
        };
        let (range, form, shape) = (self.range, self.form.clone(), self.shape);
        let starts = self.starts.clone();
        let task = Task::spawn_uncancellable(
            ctx.tasks,
            format!("Pre-edge peaks of {}", g.label),
            Some(ui.ctx().clone()),
            move |_| fit(&g, range, &form, shape, &starts),
        );
        self.running = Some((task, id));
    }

    /// The result's numbers and the plot with the draggable starts. True
    /// when the starts changed for good (the fit runs again).
    fn result_ui(&mut self, ui: &mut Ui, ctx: &ViewCtx<'_>, active: Option<u64>) -> bool {
        let Some(p) = active.and_then(|id| ctx.store.xanes.peaks.get(&id)) else {
            self.markers.reset();
            ui.label("Select a spectrum and fit its pre-edge peaks.");
            return false;
        };
        let b = &p.base;
        ui.label(format!(
            "baseline centroid {:.3} ± {:.3} eV",
            b.centroid_ev, b.delta_centroid_ev
        ));
        if let Some(f) = &p.fit {
            ui.label(format!(
                "fitted centroid {} eV, integrated intensity {}, reduced χ² {:.3e}",
                pm(f.centroid_ev.value, f.centroid_ev.stderr),
                pm(f.integrated_intensity.value, f.integrated_intensity.stderr),
                f.redchi
            ));
            for (k, pk) in f.peaks.iter().enumerate() {
                ui.label(format!(
                    "peak {}: center {} eV, area {}, fwhm {} eV",
                    k + 1,
                    pm(pk.center_ev.value, pk.center_ev.stderr),
                    pm(pk.amplitude.value, pk.amplitude.stderr),
                    pm(pk.fwhm_ev.value, pk.fwhm_ev.stderr)
                ));
            }
        }
        let plot = Plot::new("xanes_peaks_plot")
            .legend(Legend::default())
            .x_axis_label("E (eV)")
            .y_axis_label("normalized μ(E)");
        let plot = self.markers.plot(ui, plot, &self.starts);
        let held = self.markers.held();
        // The data in the text colour: black on light, white on dark.
        let ink = ui.visuals().strong_text_color();
        let resp = plot.show(ui, |pl| {
            let x = &b.energy_ev;
            pl.line(line("data", x, &b.norm, ink).width(2.0));
            pl.line(line("baseline", x, &b.baseline, Color32::GRAY));
            pl.line(line("data − baseline", x, &b.peaks, palette(0)));
            if let Some(f) = &p.fit {
                pl.line(line("fit", &f.energy_ev, &f.fit, Color32::RED));
            }
            for (k, &e) in self.starts.iter().enumerate() {
                // Empty name: markers stay out of the legend.
                pl.vline(
                    VLine::new("", e)
                        .id(("xanes-peak-start", k))
                        .color(palette(k + 4))
                        .width(if held == Some(k) { 2.5 } else { 1.5 })
                        .style(LineStyle::dashed_loose()),
                );
            }
        });
        match self.markers.response(ui, &resp, &self.starts) {
            MarkerEvent::None => false,
            MarkerEvent::Moving(k, e) => {
                self.starts[k] = e;
                false
            }
            MarkerEvent::Dropped(k, e) => {
                self.starts[k] = e;
                true
            }
            MarkerEvent::Add(e) if self.starts.len() < MAX_PEAKS => {
                self.starts.push(e);
                true
            }
            MarkerEvent::Add(_) => false,
            MarkerEvent::Remove(k) => {
                self.starts.remove(k);
                true
            }
        }
    }
}

/// The baseline of `g` over its ranges (relative to its e0) and, with
/// starts, the peaks fitted with it.
fn fit(
    g: &XanesGroup,
    range: [f64; 4],
    form: &str,
    shape: PeakShape,
    starts: &[f64],
) -> PeakAnswer {
    let [a, b, c, d] = range.map(|v| v + g.e0_ev);
    let range = PrePeakRange {
        emin_ev: a,
        elo_ev: b,
        ehi_ev: c,
        emax_ev: d,
    };
    let form = BaselineForm::parse(form).map_err(|e| e.to_string())?;
    let base = pre_edge_baseline(g, form, range).map_err(|e| format!("{}: {e}", g.label))?;
    let fit = if starts.is_empty() {
        None
    } else {
        Some(fit_prepeaks(&base, shape, starts).map_err(|e| format!("{}: {e}", g.label))?)
    };
    Ok(PeakEntry { base, fit })
}
