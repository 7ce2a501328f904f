//! The XANES view's PCA tab: a training set and targets (each a list that
//! takes the selection or μ(E) rows dragged from the tree), Larch's
//! `pca_train` and `pca_fit`, the scree plot, the components and the target
//! transforms with SPOIL.

use egui::Ui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::{accept_drop, drop_hint, drop_zone, groups, line, list_buttons};
use crate::gui::views::ViewCtx;
use crate::gui::widgets::palette;
use crate::gui::xanes::PcaEntry;
use crate::xanes::{XanesArray, XanesGroup, pca_fit, pca_train};

pub struct PcaTab {
    /// Store ids of the training set, in the order they joined it.
    pub(super) train: Vec<u64>,
    /// Store ids of the spectra target-transformed with the model.
    pub(super) targets: Vec<u64>,
    ncomps: usize,
    emin_rel_ev: f64,
    emax_rel_ev: f64,
}

impl Default for PcaTab {
    fn default() -> Self {
        Self {
            train: Vec::new(),
            targets: Vec::new(),
            ncomps: 2,
            emin_rel_ev: -20.0,
            emax_rel_ev: 30.0,
        }
    }
}

/// Add `id` to `list` unless it is there.
fn push_new(list: &mut Vec<u64>, id: u64) -> bool {
    let new = !list.contains(&id);
    if new {
        list.push(id);
    }
    new
}

impl PcaTab {
    /// The training set (store ids).
    pub fn train(&self) -> &[u64] {
        &self.train
    }
    /// The targets (store ids).
    pub fn targets(&self) -> &[u64] {
        &self.targets
    }

    /// One list (training set or targets): its names with a remove button,
    /// "Add selection" and "Clear", and a drop zone for tree rows.
    fn list_ui(ui: &mut Ui, ctx: &mut ViewCtx<'_>, list: &mut Vec<u64>, what: &'static str) {
        ui.label(format!("{} ({})", capitalized(what), list.len()));
        let ((), drop) = drop_zone(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt(("xanes_pca_list", what))
                .max_height(150.0)
                .show(ui, |ui| {
                    let mut gone = None;
                    for &id in list.iter() {
                        ui.horizontal(|ui| {
                            if ui
                                .small_button("×")
                                .on_hover_text(format!("Take it out of the {what}"))
                                .clicked()
                            {
                                gone = Some(id);
                            }
                            ui.label(ctx.store.name_of(id));
                        });
                    }
                    if let Some(id) = gone {
                        list.retain(|x| *x != id);
                    }
                });
            drop_hint(ui, "Drop μ(E) spectra here from the workspace");
        });
        if let Some(d) = drop {
            accept_drop(ctx, &d, what, |id| push_new(list, id));
        }
        let b = list_buttons(ui, ctx, what, list.len());
        for id in b.add {
            push_new(list, id);
        }
        if b.clear {
            list.clear();
        }
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        ui.horizontal_top(|ui| {
            ui.vertical(|ui| {
                ui.set_width(240.0);
                Self::list_ui(ui, ctx, &mut self.train, "training set");
                ui.separator();
                Self::list_ui(ui, ctx, &mut self.targets, "targets");
                ui.separator();
                ui.horizontal(|ui| {
                    let l = ui.label("E − e0 from");
                    ui.add(egui::DragValue::new(&mut self.emin_rel_ev).speed(0.5))
                        .labelled_by(l.id);
                    let l = ui.label("to");
                    ui.add(egui::DragValue::new(&mut self.emax_rel_ev).speed(0.5))
                        .labelled_by(l.id);
                });
                ui.horizontal(|ui| {
                    let l = ui.label("components");
                    ui.add(egui::DragValue::new(&mut self.ncomps).range(1..=20))
                        .labelled_by(l.id);
                });
                let resp = ui
                    .add_enabled(
                        self.train.len() >= 2,
                        egui::Button::new(format!("Train ({} spectra)", self.train.len())),
                    )
                    .on_disabled_hover_text("The training set needs at least 2 spectra");
                if resp.clicked() {
                    self.run(ctx);
                }
            });
            ui.separator();
            ui.vertical(|ui| result_ui(ui, ctx));
        });
    }

    fn run(&mut self, ctx: &mut ViewCtx<'_>) {
        let r = (|| {
            let tg = groups(ctx, &self.train)?;
            let refs: Vec<&XanesGroup> = tg.iter().collect();
            let e0 = tg.first().map(|g| g.e0_ev).ok_or("no training spectra")?;
            let model = pca_train(
                &refs,
                XanesArray::Norm,
                e0 + self.emin_rel_ev,
                e0 + self.emax_rel_ev,
            )
            .map_err(|e| e.to_string())?;
            let n = self.ncomps.clamp(1, model.components.len().max(1));
            let mut targets = Vec::new();
            for (id, g) in self.targets.iter().zip(groups(ctx, &self.targets)?) {
                let f =
                    pca_fit(&g, &model, Some(n), true).map_err(|e| format!("{}: {e}", g.label))?;
                targets.push((*id, f));
            }
            Ok::<_, String>(PcaEntry {
                train: self.train.clone(),
                model,
                targets,
            })
        })();
        match r {
            Ok(p) => ctx.store.xanes.pca = Some(p),
            Err(e) => ctx.log.error(format!("XANES PCA: {e}")),
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn result_ui(ui: &mut Ui, ctx: &ViewCtx<'_>) {
    let Some(p) = &ctx.store.xanes.pca else {
        ui.label("Put ≥ 2 spectra in the training set and train.");
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
                ui.label(ctx.store.name_of(*id));
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
                let name = ctx.store.name_of(*id);
                pl.line(line(name.clone(), &f.energy_ev, &f.data, palette(k)));
                pl.line(line(format!("{name} fit"), &f.energy_ev, &f.fit, palette(k)).width(2.5));
            }
        });
}
