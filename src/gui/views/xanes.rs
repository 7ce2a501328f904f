//! The XANES view: linear combination fitting of the selected spectra
//! against standards checked from the store (all combinations, on the task
//! registry with progress and Cancel), PCA with its scree plot, components
//! and target transforms (SPOIL), and the pre-edge peak fit of the active
//! spectrum. Results live in the store (`Store::xanes`), not here.

use std::collections::BTreeSet;

use egui::{Color32, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::{View, ViewCtx, XANES};
use crate::gui::tasks::{Task, take_answer};
use crate::gui::widgets::palette;
use crate::gui::xanes::{LcfEntry, PcaEntry, PeakEntry, fit_lcf, xanes_group};
use crate::xanes::{
    BaselineForm, LcfFit, PeakShape, PrePeakRange, XanesArray, XanesGroup, fit_prepeaks, pca_fit,
    pca_train, pre_edge_baseline,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Lcf,
    Pca,
    Peaks,
}

type LcfAnswer = Vec<(u64, Result<Vec<LcfFit>, String>)>;

pub struct XanesView {
    tab: Tab,
    /// Store ids checked as standards.
    standards: BTreeSet<u64>,
    emin_rel_ev: f64,
    emax_rel_ev: f64,
    max_ncomps: usize,
    sum_to_one: bool,
    /// Standards each running fit uses (recorded with its results).
    running: Option<(Task<LcfAnswer>, Vec<u64>)>,
    /// The combination on show for the active spectrum (rank).
    row: usize,
    pca_ncomps: usize,
    /// Pre-edge ranges relative to e0 (Larch's defaults).
    pk_range: [f64; 4],
    pk_form: String,
    pk_shape: PeakShape,
    /// Peak start energies, absolute eV, comma-separated.
    pk_starts: String,
}

impl Default for XanesView {
    fn default() -> Self {
        Self {
            tab: Tab::Lcf,
            standards: BTreeSet::new(),
            emin_rel_ev: -20.0,
            emax_rel_ev: 30.0,
            max_ncomps: 3,
            sum_to_one: true,
            running: None,
            row: 0,
            pca_ncomps: 2,
            pk_range: [-30.0, -15.0, -5.0, -1.0],
            pk_form: "linear+lorentzian".into(),
            pk_shape: PeakShape::Gaussian,
            pk_starts: String::new(),
        }
    }
}

impl View for XanesView {
    fn id(&self) -> &'static str {
        XANES
    }
    fn title(&self) -> &'static str {
        "XANES"
    }
    fn hover(&self) -> &'static str {
        "Linear combination fitting, PCA with target transforms, pre-edge peaks"
    }

    fn poll(&mut self, ctx: &mut ViewCtx<'_>, _egui: &egui::Context) {
        self.poll_fit(ctx);
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let x = &ctx.store.xanes;
        if !(x.lcf.is_empty() && x.peaks.is_empty() && x.pca.is_none()) {
            let alive: BTreeSet<u64> = ctx.store.items.iter().map(|i| i.id).collect();
            ctx.store.xanes.retain(|id| alive.contains(&id));
        }
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Lcf, "Linear combination");
            ui.selectable_value(&mut self.tab, Tab::Pca, "PCA");
            ui.selectable_value(&mut self.tab, Tab::Peaks, "Pre-edge peaks");
        });
        ui.separator();
        match self.tab {
            Tab::Lcf => self.lcf_ui(ui, ctx),
            Tab::Pca => self.pca_ui(ui, ctx),
            Tab::Peaks => self.peaks_ui(ui, ctx),
        }
    }
}

/// μ(E) spectra of the store in tree order.
fn mu_items(ctx: &ViewCtx<'_>) -> Vec<(u64, String)> {
    ctx.store
        .display_order()
        .into_iter()
        .filter_map(|id| ctx.store.item(id))
        .filter(|i| i.modality() == crate::gui::workspace::Modality::Xas)
        .map(|i| (i.id, i.name.clone()))
        .collect()
}

/// Normalized groups of `ids`, or the first reason one cannot be used.
fn groups(ctx: &ViewCtx<'_>, ids: &[u64]) -> Result<Vec<XanesGroup>, String> {
    ids.iter()
        .map(|&id| {
            let item = ctx.store.item(id).ok_or("an item is gone")?;
            xanes_group(item)
        })
        .collect()
}

fn line(name: impl Into<String>, x: &[f64], y: &[f64], color: Color32) -> Line<'static> {
    let pts: Vec<[f64; 2]> = x.iter().zip(y).map(|(a, b)| [*a, *b]).collect();
    Line::new(name.into(), PlotPoints::new(pts)).color(color)
}

fn pm(v: f64, s: Option<f64>) -> String {
    match s {
        Some(s) => format!("{v:.3} ± {s:.3}"),
        None => format!("{v:.3}"),
    }
}

impl XanesView {
    /// Takes the running linear-combination fit's answer into the store.
    fn poll_fit(&mut self, ctx: &mut ViewCtx<'_>) {
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

    fn standards_ui(&mut self, ui: &mut Ui, ctx: &ViewCtx<'_>) {
        ui.label("Standards");
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
    }

    fn lcf_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let stds: Vec<u64> = mu_items(ctx)
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| self.standards.contains(id))
            .collect();
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
                let ok = stds.len() >= 2 && !samples.is_empty() && self.running.is_none();
                let resp = ui
                    .add_enabled(
                        ok,
                        egui::Button::new(format!("Fit selection ({} spectra)", samples.len())),
                    )
                    .on_disabled_hover_text(
                        "Check at least 2 standards and select the spectra to fit in the tree",
                    );
                if resp.clicked() {
                    self.start_lcf(ui, ctx, &samples, &stds);
                }
            });
            ui.separator();
            ui.vertical(|ui| self.lcf_result_ui(ui, ctx));
        });
    }

    fn start_lcf(&mut self, ui: &Ui, ctx: &mut ViewCtx<'_>, samples: &[u64], stds: &[u64]) {
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
        let task = Task::spawn(
            ctx.tasks,
            format!("LCF of {} spectra", ids.len()),
            Some(ui.ctx().clone()),
            move |status| {
                status.set_total(ids.len());
                let mut out = Vec::with_capacity(ids.len());
                for (id, g) in ids.iter().zip(&sample_groups) {
                    if status.is_cancelling() {
                        break;
                    }
                    out.push((*id, fit_lcf(g, &std_groups, emin, emax, n, s1)));
                    status.step();
                }
                out
            },
        );
        self.running = Some((task, stds.to_vec()));
    }

    /// The spectrum whose results are on show: the active one if it has
    /// some, else the first selected one that has.
    fn shown<T>(ctx: &ViewCtx<'_>, map: &std::collections::BTreeMap<u64, T>) -> Option<u64> {
        let sel = &*ctx.selection;
        sel.active
            .filter(|id| map.contains_key(id))
            .or_else(|| sel.selected.iter().copied().find(|id| map.contains_key(id)))
    }

    fn lcf_result_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let Some(id) = Self::shown(ctx, &ctx.store.xanes.lcf) else {
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
        Plot::new("xanes_lcf_plot")
            .legend(Legend::default())
            .x_axis_label("E (eV)")
            .y_axis_label("normalized μ(E)")
            .show(ui, |p| {
                let x = &f.energy_ev;
                p.line(line("data", x, &f.data, Color32::BLACK).width(2.0));
                p.line(line("fit", x, &f.fit, Color32::RED));
                for (k, (c, s)) in f.components.iter().zip(&f.standards).enumerate() {
                    p.line(line(format!("{s} × w"), x, c, palette(k + 2)));
                }
                p.line(line("residual", x, &resid, Color32::GRAY));
            });
    }

    fn pca_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let train: Vec<u64> = ctx
            .store
            .selected_spectra(ctx.selection)
            .iter()
            .map(|i| i.id)
            .collect();
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(240.0);
                ui.label("Targets: the checked standards");
                self.standards_ui(ui, ctx);
                ui.horizontal(|ui| {
                    let l = ui.label("components");
                    ui.add(egui::DragValue::new(&mut self.pca_ncomps).range(1..=20))
                        .labelled_by(l.id);
                });
                let resp = ui.add_enabled(
                    train.len() >= 2,
                    egui::Button::new(format!("Train on selection ({})", train.len())),
                );
                if resp.clicked() {
                    self.run_pca(ctx, &train);
                }
            });
            ui.separator();
            ui.vertical(|ui| Self::pca_result_ui(ui, ctx));
        });
    }

    fn run_pca(&mut self, ctx: &mut ViewCtx<'_>, train: &[u64]) {
        let stds: Vec<u64> = self.standards.iter().copied().collect();
        let r = (|| {
            let tg = groups(ctx, train)?;
            let refs: Vec<&XanesGroup> = tg.iter().collect();
            let e0 = tg[0].e0_ev;
            let model = pca_train(
                &refs,
                XanesArray::Norm,
                e0 + self.emin_rel_ev,
                e0 + self.emax_rel_ev,
            )
            .map_err(|e| e.to_string())?;
            let n = self.pca_ncomps.clamp(1, model.components.len());
            let mut targets = Vec::new();
            for (id, g) in stds.iter().zip(groups(ctx, &stds)?) {
                let f =
                    pca_fit(&g, &model, Some(n), true).map_err(|e| format!("{}: {e}", g.label))?;
                targets.push((*id, f));
            }
            Ok::<_, String>(PcaEntry {
                train: train.to_vec(),
                model,
                targets,
            })
        })();
        match r {
            Ok(p) => ctx.store.xanes.pca = Some(p),
            Err(e) => ctx.log.error(format!("XANES PCA: {e}")),
        }
    }

    fn pca_result_ui(ui: &mut Ui, ctx: &ViewCtx<'_>) {
        let Some(p) = &ctx.store.xanes.pca else {
            ui.label("Select ≥ 2 spectra and train.");
            return;
        };
        let m = &p.model;
        ui.label(format!(
            "{} spectra, {} points; significant components: {} by IND, {} by eigenvalue",
            m.labels.len(),
            m.energy_ev.len(),
            m.nsig,
            m.n_kaiser
        ));
        egui::Grid::new("xanes_pca_targets")
            .striped(true)
            .show(ui, |ui| {
                ui.strong("target");
                ui.strong("χ²");
                ui.strong("scale");
                ui.strong("SPOIL");
                ui.end_row();
                for (id, f) in &p.targets {
                    let name = ctx.store.item(*id).map_or("?".into(), |i| i.name.clone());
                    ui.label(name);
                    ui.label(format!("{:.3e}", f.chi_square));
                    ui.label(format!("{:.3}", f.data_scale));
                    ui.label(
                        f.target_test
                            .map_or("n/a".into(), |t| format!("{:.2}", t.spoil)),
                    );
                    ui.end_row();
                }
            });
        let h = (ui.available_height() / 2.0).max(120.0);
        ui.horizontal(|ui| {
            let w = ui.available_width() / 2.0 - 8.0;
            Plot::new("xanes_scree")
                .width(w)
                .height(h)
                .x_axis_label("component")
                .y_axis_label("explained variance")
                .show(ui, |pl| {
                    let pts: Vec<[f64; 2]> = m
                        .variances
                        .iter()
                        .enumerate()
                        .map(|(i, v)| [(i + 1) as f64, *v])
                        .collect();
                    pl.line(Line::new("variance", PlotPoints::new(pts.clone())));
                    pl.points(Points::new("", PlotPoints::new(pts)).radius(4.0));
                });
            Plot::new("xanes_components")
                .width(w)
                .height(h)
                .legend(Legend::default())
                .x_axis_label("E (eV)")
                .show(ui, |pl| {
                    for (k, c) in m.components.iter().take(m.nsig.max(2)).enumerate() {
                        pl.line(line(
                            format!("component {}", k + 1),
                            &m.energy_ev,
                            c,
                            palette(k),
                        ));
                    }
                });
        });
        Plot::new("xanes_targets")
            .legend(Legend::default())
            .x_axis_label("E (eV)")
            .y_axis_label("target transform")
            .show(ui, |pl| {
                for (k, (id, f)) in p.targets.iter().enumerate() {
                    let name = ctx.store.item(*id).map_or("?".into(), |i| i.name.clone());
                    pl.line(line(name.clone(), &f.energy_ev, &f.data, palette(k)));
                    pl.line(
                        line(format!("{name} fit"), &f.energy_ev, &f.fit, palette(k)).width(2.5),
                    );
                }
            });
    }

    fn peaks_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let active = ctx.selection.active.filter(|id| {
            ctx.store
                .item(*id)
                .is_some_and(|i| i.modality() == crate::gui::workspace::Modality::Xas)
        });
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(260.0);
                ui.label("E − e0 (eV): emin, elo, ehi, emax");
                ui.horizontal(|ui| {
                    for v in &mut self.pk_range {
                        ui.add(egui::DragValue::new(v).speed(0.2));
                    }
                });
                ui.horizontal(|ui| {
                    ui.label("baseline");
                    egui::ComboBox::from_id_salt("xanes_pk_form")
                        .selected_text(self.pk_form.clone())
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
                                ui.selectable_value(&mut self.pk_form, f.to_string(), f);
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
                        ui.selectable_value(&mut self.pk_shape, s, n);
                    }
                });
                ui.horizontal(|ui| {
                    ui.label("starts (eV)");
                    ui.add(
                        egui::TextEdit::singleline(&mut self.pk_starts)
                            .hint_text("7114.2, 7115.8")
                            .desired_width(130.0),
                    );
                });
                if ui
                    .add_enabled(active.is_some(), egui::Button::new("Fit pre-edge peaks"))
                    .on_hover_text("Baseline and centroid; with starts, 1–4 peaks fitted with it")
                    .clicked()
                    && let Some(id) = active
                {
                    self.run_peaks(ctx, id);
                }
            });
            ui.separator();
            ui.vertical(|ui| Self::peaks_result_ui(ui, ctx, active));
        });
    }

    fn run_peaks(&self, ctx: &mut ViewCtx<'_>, id: u64) {
        let r = (|| {
            let g = groups(ctx, &[id])?.remove(0);
            let starts: Vec<f64> = self
                .pk_starts
                .split([',', ' ', ';'])
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .map_err(|_| format!("peak start '{s}' is not a number"))
                })
                .collect::<Result<_, _>>()?;
            let [a, b, c, d] = self.pk_range.map(|v| v + g.e0_ev);
            let range = PrePeakRange {
                emin_ev: a,
                elo_ev: b,
                ehi_ev: c,
                emax_ev: d,
            };
            let form = BaselineForm::parse(&self.pk_form).map_err(|e| e.to_string())?;
            let base = pre_edge_baseline(&g, form, range).map_err(|e| e.to_string())?;
            let fit = if starts.is_empty() {
                None
            } else {
                Some(fit_prepeaks(&base, self.pk_shape, &starts).map_err(|e| e.to_string())?)
            };
            Ok::<_, String>(PeakEntry { base, fit })
        })();
        match r {
            Ok(p) => {
                ctx.store.xanes.peaks.insert(id, p);
            }
            Err(e) => ctx.log.error(format!("XANES pre-edge peaks: {e}")),
        }
    }

    fn peaks_result_ui(ui: &mut Ui, ctx: &ViewCtx<'_>, active: Option<u64>) {
        let Some(p) = active.and_then(|id| ctx.store.xanes.peaks.get(&id)) else {
            ui.label("Select a spectrum and fit its pre-edge peaks.");
            return;
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
        Plot::new("xanes_peaks_plot")
            .legend(Legend::default())
            .x_axis_label("E (eV)")
            .y_axis_label("normalized μ(E)")
            .show(ui, |pl| {
                let x = &b.energy_ev;
                pl.line(line("data", x, &b.norm, Color32::BLACK).width(2.0));
                pl.line(line("baseline", x, &b.baseline, Color32::GRAY));
                pl.line(line("data − baseline", x, &b.peaks, palette(3)));
                if let Some(f) = &p.fit {
                    pl.line(line("fit", &f.energy_ev, &f.fit, Color32::RED));
                }
            });
    }
}
