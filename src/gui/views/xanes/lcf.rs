//! The XANES view's linear combination tab: standards checked in a list
//! (or dragged onto it from the tree), the selection fitted with every
//! combination of at most N standards on the task registry (progress over
//! spectra × combinations, Cancel between two fits), the ranked table and
//! the plot of the chosen row.

use std::collections::BTreeSet;

use egui::{Color32, Ui};
use egui_plot::{Legend, Plot};

use super::{accept_drop, drop_hint, drop_zone, groups, line, mu_items, pm, shown};
use crate::gui::tasks::{Task, take_answer};
use crate::gui::views::ViewCtx;
use crate::gui::widgets::palette;
use crate::gui::xanes::{LcfEntry, fit_lcf, lcf_fits_per_spectrum};
use crate::xanes::LcfFit;

type LcfAnswer = Vec<(u64, Result<Vec<LcfFit>, String>)>;

pub struct LcfTab {
    /// Store ids checked as standards.
    pub(super) standards: BTreeSet<u64>,
    emin_rel_ev: f64,
    emax_rel_ev: f64,
    max_ncomps: usize,
    sum_to_one: bool,
    /// Standards each running fit uses (recorded with its results).
    running: Option<(Task<LcfAnswer>, Vec<u64>)>,
    /// The combination on show for the active spectrum (rank).
    row: usize,
}

impl Default for LcfTab {
    fn default() -> Self {
        Self {
            standards: BTreeSet::new(),
            emin_rel_ev: -20.0,
            emax_rel_ev: 30.0,
            max_ncomps: 3,
            sum_to_one: true,
            running: None,
            row: 0,
        }
    }
}

impl LcfTab {
    /// The store ids checked as standards.
    pub fn standards(&self) -> &BTreeSet<u64> {
        &self.standards
    }

    /// Takes the running linear-combination fit's answer into the store.
    pub(super) fn poll(&mut self, ctx: &mut ViewCtx<'_>) {
        let Some((_, stds)) = &self.running else {
            return;
        };
        let stds = stds.clone();
        let mut slot = self.running.take().map(|(t, _)| t);
        match take_answer(&mut slot, "XANES linear combination fit", ctx.log) {
            Some(answer) => {
                let n = answer.len();
                let mut failed = 0;
                for (id, r) in answer {
                    match r {
                        Ok(fits) => {
                            ctx.store.xanes.lcf.insert(
                                id,
                                LcfEntry {
                                    standards: stds.clone(),
                                    fits,
                                },
                            );
                        }
                        Err(e) => {
                            failed += 1;
                            ctx.log.error(e);
                        }
                    }
                }
                ctx.log
                    .info(format!("XANES LCF: {} of {n} spectra fitted", n - failed));
                self.row = 0;
            }
            None => {
                if let Some(t) = slot {
                    self.running = Some((t, stds));
                }
            }
        }
    }

    /// The standards list: every μ(E) spectrum with a check box, and a drop
    /// zone for rows dragged from the tree (μ(E) spectra are checked).
    fn standards_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        ui.label(format!("Standards ({} checked)", self.standards.len()));
        let ((), drop) = drop_zone(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("xanes_standards")
                .max_height(220.0)
                .show(ui, |ui| {
                    for (id, name) in mu_items(ctx) {
                        let mut on = self.standards.contains(&id);
                        if ui.checkbox(&mut on, name).changed() {
                            if on {
                                self.standards.insert(id);
                            } else {
                                self.standards.remove(&id);
                            }
                        }
                    }
                });
            drop_hint(ui, "Drop μ(E) spectra here from the workspace");
        });
        if let Some(d) = drop {
            accept_drop(ctx, &d, "standards", |id| self.standards.insert(id));
        }
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let samples: Vec<u64> = ctx
            .store
            .selected_spectra(ctx.selection)
            .iter()
            .map(|i| i.id)
            .filter(|id| !self.standards.contains(id))
            .collect();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(240.0);
                self.standards_ui(ui, ctx);
                ui.separator();
                ui.horizontal(|ui| {
                    let l = ui.label("E − e0 from");
                    ui.add(
                        egui::DragValue::new(&mut self.emin_rel_ev)
                            .speed(0.5)
                            .suffix(" eV"),
                    )
                    .labelled_by(l.id);
                    let l = ui.label("to");
                    ui.add(
                        egui::DragValue::new(&mut self.emax_rel_ev)
                            .speed(0.5)
                            .suffix(" eV"),
                    )
                    .labelled_by(l.id);
                });
                ui.horizontal(|ui| {
                    let l = ui.label("at most");
                    ui.add(egui::DragValue::new(&mut self.max_ncomps).range(1..=8))
                        .labelled_by(l.id);
                    ui.label("standards per fit");
                });
                ui.checkbox(&mut self.sum_to_one, "weights sum to one");
                // Tree order (the checked set may hold ids of removed items
                // until the next frame prunes it).
                let stds: Vec<u64> = mu_items(ctx)
                    .into_iter()
                    .map(|(id, _)| id)
                    .filter(|id| self.standards.contains(id))
                    .collect();
                let ok = stds.len() >= 2 && !samples.is_empty() && self.running.is_none();
                let resp = ui
                    .add_enabled(
                        ok,
                        egui::Button::new(format!("Fit selection ({} spectra)", samples.len())),
                    )
                    .on_hover_text(
                        "Every combination of at most N standards, for each selected \
                         spectrum, in the background (progress and Cancel below)",
                    )
                    .on_disabled_hover_text(
                        "Check at least 2 standards and select the spectra to fit in the tree",
                    );
                if resp.clicked() {
                    self.start(ui, ctx, &samples, &stds);
                }
            });
            ui.separator();
            ui.vertical(|ui| self.result_ui(ui, ctx));
        });
    }

    fn start(&mut self, ui: &Ui, ctx: &mut ViewCtx<'_>, samples: &[u64], stds: &[u64]) {
        let (std_groups, sample_groups) = match (groups(ctx, stds), groups(ctx, samples)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                ctx.log.error(format!("XANES LCF: {e}"));
                return;
            }
        };
        let ids = samples.to_vec();
        let (emin, emax, n, s1) = (
            self.emin_rel_ev,
            self.emax_rel_ev,
            self.max_ncomps.min(std_groups.len()),
            self.sum_to_one,
        );
        // Progress counts fits (spectra × combinations), and Cancel stops
        // between two fits, not only between two spectra.
        let per = lcf_fits_per_spectrum(std_groups.len(), n);
        let task = Task::spawn(
            ctx.tasks,
            format!("LCF of {} spectra ({per} fits each)", ids.len()),
            Some(ui.ctx().clone()),
            move |status| {
                status.set_total(ids.len().saturating_mul(per));
                let mut go_on = || {
                    status.step();
                    !status.is_cancelling()
                };
                let mut out = Vec::with_capacity(ids.len());
                for (id, g) in ids.iter().zip(&sample_groups) {
                    if status.is_cancelling() {
                        break;
                    }
                    out.push((*id, fit_lcf(g, &std_groups, emin, emax, n, s1, &mut go_on)));
                }
                out
            },
        );
        self.running = Some((task, stds.to_vec()));
    }

    fn result_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let Some(id) = shown(ctx, &ctx.store.xanes.lcf) else {
            ui.label("No LCF result for the selection: check standards, select spectra, Fit.");
            return;
        };
        let name = ctx.store.item(id).map_or("?".into(), |i| i.name.clone());
        let entry = &ctx.store.xanes.lcf[&id];
        ui.strong(format!("{name}: {} combinations", entry.fits.len()));
        egui::ScrollArea::vertical()
            .id_salt("xanes_lcf_table")
            .max_height(200.0)
            .show(ui, |ui| {
                egui::Grid::new("xanes_lcf_grid")
                    .striped(true)
                    .show(ui, |ui| {
                        ui.strong("#");
                        ui.strong("weights ± σ");
                        ui.strong("R-factor");
                        ui.strong("reduced χ²");
                        ui.end_row();
                        for (k, f) in entry.fits.iter().enumerate() {
                            if ui
                                .selectable_label(self.row == k, format!("{}", k + 1))
                                .clicked()
                            {
                                self.row = k;
                            }
                            let w: Vec<String> = f
                                .standards
                                .iter()
                                .zip(&f.weights)
                                .map(|(s, w)| format!("{s} {}", pm(w.value, w.stderr)))
                                .collect();
                            ui.label(w.join(", "));
                            ui.label(format!("{:.5}", f.rfactor));
                            ui.label(format!("{:.3e}", f.redchi));
                            ui.end_row();
                        }
                    });
            });
        let Some(f) = entry.fits.get(self.row).or(entry.fits.first()) else {
            return;
        };
        let resid: Vec<f64> = f.data.iter().zip(&f.fit).map(|(d, m)| d - m).collect();
        // The data in the text colour: black on light, white on dark.
        let ink = ui.visuals().strong_text_color();
        Plot::new("xanes_lcf_plot")
            .legend(Legend::default())
            .x_axis_label("E (eV)")
            .y_axis_label("normalized μ(E)")
            .show(ui, |p| {
                let x = &f.energy_ev;
                p.line(line("data", x, &f.data, ink).width(2.0));
                p.line(line("fit", x, &f.fit, Color32::RED));
                for (k, (c, s)) in f.components.iter().zip(&f.standards).enumerate() {
                    p.line(line(format!("{s} × w"), x, c, palette(k + 2)));
                }
                p.line(line("residual", x, &resid, Color32::GRAY));
            });
    }
}
