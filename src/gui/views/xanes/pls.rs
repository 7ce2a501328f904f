//! The XANES view's PLS tab: μ(E) spectra (the selection, or rows dragged
//! from the tree), a target value for each — typed, or filled from their
//! order, e0 or edge step — and PLS of their normalized μ on the XANES grid
//! (E − e0 from −20 to +60 eV) against it ([`crate::latent::pls`], as
//! `carto pls --modality xanes`): what each component explains, RMSECV and
//! Q², predicted against target, and the coefficients on E − e0. At most
//! [`MAX_APP_PLS`] spectra (milliseconds; `carto pls` takes more).

use egui::Ui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::{accept_drop, drop_hint, drop_zone, groups, list_buttons};
use crate::gui::views::ViewCtx;
use crate::gui::widgets::palette;
use crate::gui::xanes::PlsEntry;
use crate::latent::grid;
use crate::latent::pls::pls_of_profiles;

/// Most spectra the tab fits on the UI thread (a fit and its 10 folds of
/// 500 × 161 points take milliseconds).
pub const MAX_APP_PLS: usize = 500;

#[derive(Default)]
pub struct PlsTab {
    /// Store ids with their target values, in the order they joined.
    pub(super) items: Vec<(u64, f64)>,
    ncomps: usize,
}

/// How the targets are filled in.
#[derive(Clone, Copy)]
enum Fill {
    Order,
    E0,
    EdgeStep,
}

impl PlsTab {
    /// The spectra and their targets.
    pub fn items(&self) -> &[(u64, f64)] {
        &self.items
    }

    /// Set the target of `id` (a spectrum of the list).
    pub fn set_target(&mut self, id: u64, y: f64) {
        if let Some(it) = self.items.iter_mut().find(|x| x.0 == id) {
            it.1 = y;
        }
    }

    fn add(&mut self, id: u64) -> bool {
        let new = !self.items.iter().any(|x| x.0 == id);
        if new {
            self.items.push((id, self.items.len() as f64));
        }
        new
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        if self.ncomps == 0 {
            self.ncomps = 2;
        }
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(280.0);
                self.list_ui(ui, ctx);
                ui.separator();
                ui.horizontal(|ui| {
                    ui.label("Fill targets with");
                    for (label, f) in [
                        ("order", Fill::Order),
                        ("e0", Fill::E0),
                        ("edge step", Fill::EdgeStep),
                    ] {
                        if ui
                            .small_button(label)
                            .on_hover_text("Replace every target value")
                            .clicked()
                        {
                            self.fill(ctx, f);
                        }
                    }
                });
                ui.horizontal(|ui| {
                    let l = ui.label("components");
                    ui.add(egui::DragValue::new(&mut self.ncomps).range(1..=20))
                        .labelled_by(l.id);
                });
                let n = self.items.len();
                let resp = ui
                    .add_enabled(
                        (3..=MAX_APP_PLS).contains(&n),
                        egui::Button::new(format!("Fit PLS ({n} spectra)")),
                    )
                    .on_disabled_hover_text(format!(
                        "3 to {MAX_APP_PLS} spectra with a target each (`carto pls` takes more)"
                    ));
                if resp.clicked() {
                    self.run(ctx);
                }
            });
            ui.separator();
            ui.vertical(|ui| result_ui(ui, ctx));
        });
    }

    fn list_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        ui.label(format!("Spectra and targets ({})", self.items.len()));
        let ((), drop) = drop_zone(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("xanes_pls_list")
                .max_height(220.0)
                .show(ui, |ui| {
                    let mut gone = None;
                    for (id, y) in self.items.iter_mut() {
                        ui.horizontal(|ui| {
                            if ui
                                .small_button("×")
                                .on_hover_text("Take it out of the PLS set")
                                .clicked()
                            {
                                gone = Some(*id);
                            }
                            let name = ctx.store.name_of(*id);
                            ui.add(egui::DragValue::new(y).speed(0.01))
                                .on_hover_text(format!("target of {name}"));
                            ui.label(name);
                        });
                    }
                    if let Some(id) = gone {
                        self.items.retain(|x| x.0 != id);
                    }
                });
            drop_hint(ui, "Drop μ(E) spectra here from the workspace");
        });
        if let Some(d) = drop {
            accept_drop(ctx, &d, "PLS set", |id| self.add(id));
        }
        let b = list_buttons(ui, ctx, "PLS set", self.items.len());
        for id in b.add {
            self.add(id);
        }
        if b.clear {
            self.items.clear();
        }
    }

    fn fill(&mut self, ctx: &mut ViewCtx<'_>, how: Fill) {
        let ids: Vec<u64> = self.items.iter().map(|x| x.0).collect();
        match (how, groups(ctx, &ids)) {
            (Fill::Order, _) => {
                for (i, it) in self.items.iter_mut().enumerate() {
                    it.1 = i as f64;
                }
            }
            (_, Err(e)) => ctx.log.error(format!("XANES PLS: {e}")),
            (f, Ok(gs)) => {
                for (it, g) in self.items.iter_mut().zip(gs) {
                    it.1 = if matches!(f, Fill::E0) {
                        g.e0_ev
                    } else {
                        g.edge_step
                    };
                }
            }
        }
    }

    fn run(&mut self, ctx: &mut ViewCtx<'_>) {
        let r = (|| {
            let ids: Vec<u64> = self.items.iter().map(|x| x.0).collect();
            let gs = groups(ctx, &ids)?;
            let profiles = gs
                .iter()
                .map(|g| {
                    grid::xanes(&g.energy_ev, &g.norm, g.e0_ev)
                        .map_err(|e| format!("{}: {e}", g.label))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let items: Vec<(String, f64, &grid::Profile)> = (gs.iter().zip(&self.items))
                .zip(&profiles)
                .map(|((g, it), p)| (g.label.clone(), it.1, p))
                .collect();
            let report = pls_of_profiles(&items, self.ncomps)?;
            Ok::<_, String>(PlsEntry { ids, report })
        })();
        match r {
            Ok(p) => {
                ctx.log.info(format!(
                    "XANES PLS: {} spectra, R² {:.3}, RMSECV {:.4}, Q² {:.3}",
                    p.ids.len(),
                    p.report.r2,
                    p.report.rmsecv,
                    p.report.q2
                ));
                ctx.store.xanes.pls = Some(p);
            }
            Err(e) => ctx.log.error(format!("XANES PLS: {e}")),
        }
    }
}

fn result_ui(ui: &mut Ui, ctx: &ViewCtx<'_>) {
    let Some(p) = &ctx.store.xanes.pls else {
        ui.label("Add ≥ 3 μ(E) spectra, give each a target value and fit.");
        return;
    };
    let r = &p.report;
    ui.label(format!(
        "{} spectra, {} points ({}); {}",
        r.samples.len(),
        r.x.len(),
        r.axis,
        r.summary()
    ));
    let h = ui.available_height().max(160.0) - 8.0;
    ui.horizontal(|ui| {
        let w = ui.available_width() / 2.0 - 8.0;
        Plot::new("xanes_pls_pred")
            .width(w)
            .height(h)
            .legend(Legend::default())
            .data_aspect(1.0)
            .x_axis_label("target")
            .y_axis_label("predicted")
            .show(ui, |pl| {
                let fit: Vec<[f64; 2]> =
                    r.samples.iter().map(|s| [s.target, s.predicted]).collect();
                let cv: Vec<[f64; 2]> = (r.samples.iter())
                    .filter(|s| s.predicted_cv.is_finite())
                    .map(|s| [s.target, s.predicted_cv])
                    .collect();
                let (lo, hi) = r.samples.iter().fold((f64::MAX, f64::MIN), |(a, b), s| {
                    (a.min(s.target), b.max(s.target))
                });
                pl.line(Line::new(
                    "y = x",
                    PlotPoints::new(vec![[lo, lo], [hi, hi]]),
                ));
                pl.points(
                    Points::new("fit", PlotPoints::new(fit))
                        .radius(4.0)
                        .color(palette(0)),
                );
                pl.points(
                    Points::new("cross-validated", PlotPoints::new(cv))
                        .radius(4.0)
                        .color(palette(1)),
                );
            });
        Plot::new("xanes_pls_coef")
            .width(w)
            .height(h)
            .x_axis_label("E − e0 (eV)")
            .y_axis_label("coefficient")
            .show(ui, |pl| {
                pl.line(super::line("coefficients", &r.x, &r.model.coef, palette(2)));
            });
    });
}
