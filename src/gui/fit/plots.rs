//! The Fit view's curves and plots: data and fit in k and R, the k
//! residual, and the correlation map of the varied parameters.

use std::collections::HashMap;

use egui::{Color32, Ui};
use egui_plot::{
    AxisHints, GridInput, Legend, Line, LineStyle, Plot, PlotPoints, uniform_grid_spacer,
};

use super::FitPanel;
use crate::exafs::feffit::{DatasetResult, FitResult};
use crate::gui::plots::superscript;
use crate::gui::store::FitDoc;

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

impl FitPanel {
    /// The curves of the dataset on show, once there is a fit.
    pub fn curves(&self, doc: &FitDoc) -> Option<FitCurves> {
        let res = doc.result.as_ref()?;
        let ds = res.datasets.get(self.dataset).or(res.datasets.first())?;
        Some(fit_curves(ds))
    }

    pub(super) fn plots_ui(&mut self, ui: &mut Ui, doc: &FitDoc) {
        let Some(c) = self.curves(doc) else {
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

/// The correlation matrix of the varied parameters: |c| as colour, c as
/// text.
pub(super) fn correlation_map(ui: &mut Ui, res: &FitResult) {
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
}
