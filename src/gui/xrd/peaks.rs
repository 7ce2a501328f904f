//! The peaks table of the active pattern: found peaks, and after "Fit
//! peaks" their pseudo-Voigt fits (2θ ± error, FWHM, η, area, d).

use egui::{RichText, Ui};

use super::{XrdEntry, XrdPanel};
use crate::io::xrd::d_from_two_theta;

/// One row of the peaks table (what the tests read).
#[derive(Debug, Clone, PartialEq)]
pub struct PeakRow {
    pub two_theta: f64,
    pub two_theta_err: Option<f64>,
    pub fwhm: Option<f64>,
    pub eta: Option<f64>,
    pub area: Option<f64>,
    pub d: Option<f64>,
    pub error: Option<String>,
}

impl XrdPanel {
    /// The active pattern's peaks table.
    pub fn peak_rows(&self, pats: &[XrdEntry]) -> Vec<PeakRow> {
        let Some(e) = self.active_entry(pats) else {
            return Vec::new();
        };
        let wl = e.wavelength().ok().flatten();
        e.peaks
            .iter()
            .enumerate()
            .map(|(i, p)| match e.fits.get(i) {
                Some(Ok(f)) => PeakRow {
                    two_theta: f.center_deg,
                    two_theta_err: Some(f.center_err_deg),
                    fwhm: Some(f.fwhm_deg),
                    eta: Some(f.eta),
                    area: Some(f.area),
                    d: wl.map(|l| d_from_two_theta(f.center_deg, l)),
                    error: None,
                },
                other => PeakRow {
                    two_theta: p.two_theta_deg,
                    two_theta_err: None,
                    fwhm: None,
                    eta: None,
                    area: None,
                    d: wl.map(|l| d_from_two_theta(p.two_theta_deg, l)),
                    error: match other {
                        Some(Err(e)) => Some(e.clone()),
                        _ => None,
                    },
                },
            })
            .collect()
    }

    pub(super) fn peaks_ui(&mut self, ui: &mut Ui, pats: &[XrdEntry]) {
        let ctx = ui.ctx().clone();
        let n = self.active_entry(pats).map_or(0, |e| e.peaks.len());
        ui.horizontal(|ui| {
            ui.label(RichText::new("Peaks").strong());
            ui.label(format!("{n} found"));
            if ui
                .add_enabled(
                    n > 0 && self.fitting.is_none(),
                    egui::Button::new("Fit peaks"),
                )
                .on_hover_text("Fit a pseudo-Voigt + line to each peak (in the background)")
                .clicked()
            {
                self.start_peak_fits(pats, Some(ctx));
            }
            if let Some(t) = &self.fitting {
                crate::gui::widgets::task_row(ui, t.status());
            }
        });
        let rows = self.peak_rows(pats);
        let opt = |v: Option<f64>, prec: usize| {
            v.map_or_else(|| "–".to_string(), |x| format!("{x:.prec$}"))
        };
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("xrd_peaks_grid")
                    .striped(true)
                    .num_columns(6)
                    .min_col_width(70.0)
                    .show(ui, |ui| {
                        for h in ["2θ (°)", "± (°)", "FWHM (°)", "η", "area", "d / Å"] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for r in rows {
                            ui.monospace(format!("{:.4}", r.two_theta));
                            ui.monospace(opt(r.two_theta_err, 5));
                            ui.monospace(opt(r.fwhm, 4));
                            ui.monospace(opt(r.eta, 2));
                            ui.monospace(opt(r.area, 1));
                            let d = ui.monospace(opt(r.d, 5));
                            if let Some(e) = r.error {
                                d.on_hover_text(e);
                            }
                            ui.end_row();
                        }
                    });
            });
    }
}
