//! The Projection view: a learned projection of the loaded spectra or
//! patterns of one modality ([`crate::latent::project`]: PCA, NMF, the
//! autoencoder, or PLS against a numeric column of the feature table —
//! e0, an LCF fraction, a fit's R, a typed-in value's column…), trained on
//! the selection (or everything loaded of that
//! modality) on the task registry with progress, Cancel and the live loss
//! (autoencoder) or the explained variance; every loaded item of the
//! model's modality and edge is then projected (fit once, transform many
//! times). Scatter of two coordinates, linked through the one selection;
//! the model is saved with the session and as a file, and its coordinates
//! join the feature table (`latent_<method>_<n>`, and a PLS model's
//! `pls_predicted_<target>`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use egui::{Color32, Ui};
use egui_plot::{Line, Plot, PlotPoint, PlotPoints, Points};

use super::{Action, View, ViewCtx, workspace_panel};
use crate::gui::dialogs::DialogKind;
use crate::gui::store::ProjectionDoc;
use crate::gui::store::sources::{Source, sources_of};
use crate::gui::tasks::{Task, take_answer};
use crate::latent::AutoencoderOptions;
use crate::latent::grid::Modality;
use crate::latent::project::{
    Method, ProjectOptions, ProjectionModel, fit_pls_projection, fit_projection,
};

/// The stable id of the Projection view.
pub const PROJECTION: &str = "projection";

type Answer = Result<Option<ProjectionDoc>, String>;

pub struct ProjectionView {
    pub modality: Modality,
    pub method: Method,
    pub components: usize,
    /// Autoencoder epochs.
    pub epochs: usize,
    /// PLS: the feature-table column it is trained against.
    pub target: String,
    /// PLS: the numeric columns offered, read when the list is opened.
    columns: Option<Vec<String>>,
    /// Coordinates on the plot's x and y (0-based).
    pub axes: (usize, usize),
    running: Option<Task<Answer>>,
    /// The running training's loss per epoch (the live readout).
    live: Arc<Mutex<Vec<f64>>>,
    /// The disc image the scatter is drawn with (loaded once).
    disc: Option<egui::TextureHandle>,
    /// A PLS model's target values by store id, for the model on show
    /// (by its address).
    pls_targets: Option<(usize, HashMap<u64, f64>)>,
}

impl Default for ProjectionView {
    fn default() -> Self {
        ProjectionView {
            modality: Modality::Xanes,
            method: Method::Pca,
            components: 2,
            epochs: 300,
            target: String::new(),
            columns: None,
            axes: (0, 1),
            running: None,
            live: Arc::default(),
            disc: None,
            pls_targets: None,
        }
    }
}

/// What the worker does.
enum Work {
    /// Train on the items `train` (store ids; empty: all of the modality).
    Train(ProjectOptions, Vec<u64>),
    /// PLS on the items `train` (as Train) that have a value of the
    /// target column (name, value by store id).
    TrainPls(usize, Vec<u64>, String, HashMap<u64, f64>),
    /// Project with a model held.
    Apply(Arc<ProjectionModel>, String),
}

/// The worker: every item's view of the modality, the training (or the
/// model held), then every item projected.
fn compute(
    sources: Vec<Source>,
    modality: Modality,
    work: Work,
    live: Arc<Mutex<Vec<f64>>>,
    st: &crate::gui::tasks::TaskStatus,
) -> Answer {
    let mut views = Vec::new();
    let mut skipped = Vec::new();
    for s in sources {
        let (id, name, r) = s.view(modality == Modality::Xanes);
        match r {
            Ok(v) if v.key.modality() == modality => views.push((id, name, v)),
            Ok(v) => skipped.push(format!(
                "{name}: a {} view, not {}",
                v.key.modality().name(),
                modality.name()
            )),
            Err(e) => skipped.push(format!("{name}: {e}")),
        }
    }
    let (model, source) = match work {
        Work::Apply(m, source) => (m, source),
        Work::Train(o, ids) => {
            let train: Vec<&(u64, String, crate::latent::MeasuredView)> = if ids.len() >= 2 {
                views.iter().filter(|v| ids.contains(&v.0)).collect()
            } else {
                views.iter().collect()
            };
            let absorber =
                crate::latent::measured::one_absorber(train.iter().map(|v| v.2.key), "projection")?;
            let items: Vec<(String, &crate::latent::Profile)> =
                train.iter().map(|v| (v.1.clone(), &v.2.profile)).collect();
            let n = items.len();
            let fitted = fit_projection(&items, &absorber, &o, &mut |done, total, loss| {
                st.set_progress(done, total);
                live.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(loss);
                !st.is_cancelling()
            })?;
            let Some(m) = fitted else { return Ok(None) };
            let source = format!("trained on {n} {} spectra", modality.name());
            (Arc::new(m), source)
        }
        Work::TrainPls(components, ids, target, values) => {
            let chosen = |id: u64| ids.len() < 2 || ids.contains(&id);
            let train: Vec<&(u64, String, crate::latent::MeasuredView)> =
                views.iter().filter(|v| chosen(v.0)).collect();
            let absorber =
                crate::latent::measured::one_absorber(train.iter().map(|v| v.2.key), "PLS")?;
            let items: Vec<(String, f64, &crate::latent::Profile)> = (train.iter())
                .filter_map(|v| values.get(&v.0).map(|y| (v.1.clone(), *y, &v.2.profile)))
                .collect();
            let missing = train.len() - items.len();
            if missing > 0 {
                skipped.push(format!(
                    "{missing} of the training spectra have no {target} value: not trained on"
                ));
            }
            st.set_progress(0, 1);
            let m = fit_pls_projection(&items, &absorber, &target, components)?;
            if st.is_cancelling() {
                return Ok(None);
            }
            let source = format!(
                "trained on {} {} spectra against {target}",
                items.len(),
                modality.name()
            );
            (Arc::new(m), source)
        }
    };
    let mut points = Vec::new();
    for (id, name, v) in views {
        let abs = crate::latent::measured::absorber_name(v.key);
        if abs != model.absorber {
            skipped.push(format!("{name}: {abs}, the model is of {}", model.absorber));
            continue;
        }
        match model.transform(&v.profile) {
            Ok(c) => points.push((id, name, c)),
            Err(e) => skipped.push(format!("{name}: {e}")),
        }
    }
    Ok(Some(ProjectionDoc {
        model,
        source,
        points,
        skipped,
        applied: true,
    }))
}

impl ProjectionView {
    fn start(&mut self, ctx: &mut ViewCtx<'_>, egui: Option<egui::Context>, work: Work) {
        let sources = sources_of(ctx.store);
        if sources.is_empty() {
            ctx.log.warn("Projection: open spectra or patterns first");
            return;
        }
        let modality = match &work {
            Work::Apply(m, _) => Modality::parse(&m.modality).unwrap_or(self.modality),
            Work::Train(..) | Work::TrainPls(..) => self.modality,
        };
        let title = match &work {
            Work::Train(o, _) => format!("Training {} ({})", o.method.name(), modality.name()),
            Work::TrainPls(_, _, t, _) => format!("Training PLS against {t} ({})", modality.name()),
            Work::Apply(..) => "Projecting the loaded items".to_string(),
        };
        let live = Arc::new(Mutex::new(Vec::new()));
        self.live = live.clone();
        self.running = Some(Task::spawn(ctx.tasks, title, egui, move |st| {
            compute(sources, modality, work, live, st)
        }));
    }

    /// Train on the selection (or everything of the modality).
    pub fn train(&mut self, ctx: &mut ViewCtx<'_>, egui: Option<egui::Context>) {
        let ids: Vec<u64> = ctx.selection.selected.iter().copied().collect();
        if self.method == Method::Pls {
            let column =
                crate::gui::features::store_numeric_columns(ctx.store, &|n| n != self.target)
                    .into_iter()
                    .next();
            let Some((target, values)) = column else {
                ctx.log.warn(format!(
                    "Projection: PLS needs a target: no item has a value of `{}` in the feature table",
                    self.target
                ));
                return;
            };
            self.start(
                ctx,
                egui,
                Work::TrainPls(self.components, ids, target, values),
            );
            return;
        }
        let o = ProjectOptions {
            method: self.method,
            components: self.components,
            autoencoder: AutoencoderOptions {
                epochs: self.epochs,
                ..Default::default()
            },
        };
        self.start(ctx, egui, Work::Train(o, ids));
    }

    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// The loss so far (live while training, else the model's).
    fn loss(&self, doc: Option<&ProjectionDoc>) -> Vec<f64> {
        if self.running.is_some() {
            return self
                .live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
        }
        doc.map(|d| d.model.explained.loss_history.clone())
            .unwrap_or_default()
    }
}

impl View for ProjectionView {
    fn id(&self) -> &'static str {
        PROJECTION
    }
    fn title(&self) -> &'static str {
        "Projection"
    }
    fn hover(&self) -> &'static str {
        "PCA, NMF or an autoencoder of the loaded spectra or patterns: train, save, apply"
    }
    fn poll(&mut self, ctx: &mut ViewCtx<'_>, egui: &egui::Context) {
        if let Some(ans) = take_answer(&mut self.running, "the projection", ctx.log) {
            match ans {
                Ok(Some(doc)) => {
                    let e = &doc.model.explained;
                    ctx.log.info(format!(
                        "Projection: {} ({}), {} items placed; explained {:.1} %",
                        doc.model.model.method().name(),
                        doc.source,
                        doc.points.len(),
                        100.0 * e.fraction
                    ));
                    for s in doc.skipped.iter().take(20) {
                        ctx.log.warn(format!("Projection: {s}"));
                    }
                    ctx.store.projection = Some(Arc::new(doc));
                }
                Ok(None) => {}
                Err(e) => ctx.log.error(format!("Projection: {e}")),
            }
        }
        // A model opened (or from a session) projects what is loaded once
        // the items are processed.
        let loading = ctx.tasks.busy()
            || (ctx.store.items.iter())
                .filter_map(|i| i.spectrum())
                .any(|s| s.needs_processing());
        if let Some(doc) = ctx.store.projection.clone()
            && !doc.applied
            && self.running.is_none()
            && !loading
        {
            ctx.store.projection = Some(Arc::new(ProjectionDoc {
                applied: true,
                ..(*doc).clone()
            }));
            if !(ctx.store.items.is_empty() && ctx.store.patterns.is_empty()) {
                let work = Work::Apply(doc.model.clone(), doc.source.clone());
                self.start(ctx, Some(egui.clone()), work);
            }
        }
    }
    fn waiting(&self) -> bool {
        self.running.is_some()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        workspace_panel(ui, ctx);
        let idle = self.running.is_none();
        ui.horizontal(|ui| {
            egui::ComboBox::new("projection_modality", "modality")
                .selected_text(self.modality.name())
                .show_ui(ui, |ui| {
                    for m in [Modality::Xanes, Modality::Exafs, Modality::Xrd] {
                        ui.selectable_value(&mut self.modality, m, m.name());
                    }
                });
            egui::ComboBox::new("projection_method", "method")
                .selected_text(self.method.name())
                .show_ui(ui, |ui| {
                    for m in [Method::Pca, Method::Nmf, Method::Autoencoder, Method::Pls] {
                        ui.selectable_value(&mut self.method, m, m.name());
                    }
                })
                .response
                .on_hover_text(
                    "PCA: orthogonal components by variance. NMF: non-negative parts and \
                     memberships (XANES, XRD; not k²χ). Autoencoder: a small non-linear network \
                     (tanh layers), trained with Adam on the reconstruction error. PLS: the \
                     components that best predict a feature-table column (the target).",
                );
            if self.method == Method::Pls {
                self.target_ui(ui, ctx);
            }
            ui.label("components");
            ui.add(egui::DragValue::new(&mut self.components).range(1..=32));
            if self.method == Method::Autoencoder {
                ui.label("epochs");
                ui.add(egui::DragValue::new(&mut self.epochs).range(1..=100_000));
            }
            let ready = self.method != Method::Pls || !self.target.is_empty();
            if ui
                .add_enabled(idle && ready, egui::Button::new("Train"))
                .on_hover_text(
                    "Train on the selected items of this modality (all of them when fewer than 2 are selected), then project every loaded item",
                )
                .clicked()
            {
                self.train(ctx, Some(ui.ctx().clone()));
            }
            let held = ctx.store.projection.clone();
            if ui
                .add_enabled(idle && held.is_some(), egui::Button::new("Apply to all"))
                .on_hover_text("Project every loaded item with the model held (no training)")
                .clicked()
                && let Some(d) = held.as_ref()
            {
                let work = Work::Apply(d.model.clone(), d.source.clone());
                self.start(ctx, Some(ui.ctx().clone()), work);
            }
            if ui
                .add_enabled(idle, egui::Button::new("Model…"))
                .on_hover_text("Open a projection model file (carto project --save's)")
                .clicked()
            {
                ctx.actions.push(Action::Dialog(DialogKind::OpenProjection));
            }
            if ui
                .add_enabled(held.is_some(), egui::Button::new("Save model…"))
                .on_hover_text("Save the model held (carto project --model reads it)")
                .clicked()
            {
                ctx.actions.push(Action::Dialog(DialogKind::SaveProjection));
            }
        });
        let doc = ctx.store.projection.clone();
        let loss = self.loss(doc.as_deref());
        match doc.as_deref() {
            Some(d) => {
                let e = &d.model.explained;
                let per = if e.per_component.is_empty() {
                    String::new()
                } else {
                    let v: Vec<String> = (e.per_component.iter())
                        .map(|v| format!("{:.1} %", 100.0 * v))
                        .collect();
                    format!(" ({})", v.join(", "))
                };
                let edge = if d.model.absorber.is_empty() {
                    String::new()
                } else {
                    format!(" {}", d.model.absorber)
                };
                let of = match (e.rmsecv, e.q2) {
                    (Some(r), Some(q)) => format!(
                        "of the variance of {} (RMSECV {r:.4}, Q² {q:.3})",
                        d.model.target
                    ),
                    _ => "of the training set".to_string(),
                };
                ui.label(format!(
                    "{} of {}{edge}, {} grid points ({}): explains {:.1} % {of}{per}; {} items placed, {} left out",
                    d.model.model.method().name(),
                    d.model.modality,
                    d.model.points.len(),
                    d.source,
                    100.0 * e.fraction,
                    d.points.len(),
                    d.skipped.len()
                ));
            }
            None if idle => {
                ui.label("No projection yet: choose the modality and method and press Train.");
            }
            None => {}
        }
        if let Some(l) = loss.last() {
            ui.label(format!("loss {l:.5} after {} epochs", loss.len()));
        }
        let Some(doc) = doc else { return };
        let k = doc.points.first().map_or(0, |p| p.2.len());
        ui.horizontal(|ui| {
            ui.label("x: coordinate");
            let mut x = self.axes.0 + 1;
            ui.add(egui::DragValue::new(&mut x).range(1..=k.max(1)));
            ui.label("y: coordinate");
            let mut y = self.axes.1 + 1;
            ui.add(egui::DragValue::new(&mut y).range(1..=k.max(1)));
            self.axes = (x - 1, y - 1);
        });
        if matches!(doc.model.model, crate::latent::project::Fitted::Pls(_)) {
            self.pls_panel(ui, ctx, &doc);
        }
        if loss.len() > 1 {
            egui::Panel::right("projection_loss")
                .resizable(true)
                .default_size(260.0)
                .show(ui, |ui| {
                    ui.label("loss (standardised MSE) per epoch");
                    let curve = |v: &[f64]| -> Vec<[f64; 2]> {
                        (v.iter().enumerate())
                            .map(|(i, v)| [(i + 1) as f64, *v])
                            .collect()
                    };
                    // A finished autoencoder's held-out loss, and the epoch
                    // whose weights it kept.
                    let held = match &doc.model.model {
                        crate::latent::project::Fitted::Autoencoder(a)
                            if self.running.is_none() =>
                        {
                            Some((a.validation_history.clone(), a.best_epoch))
                        }
                        _ => None,
                    };
                    Plot::new("projection_loss_plot")
                        .x_axis_label("epoch")
                        .y_axis_label("loss")
                        .legend(egui_plot::Legend::default())
                        .show(ui, |pu| {
                            pu.line(Line::new("training", PlotPoints::new(curve(&loss))));
                            if let Some((v, best)) = held
                                && !v.is_empty()
                            {
                                pu.line(Line::new("held out", PlotPoints::new(curve(&v))));
                                if let Some(e) = best {
                                    pu.vline(egui_plot::VLine::new("epoch kept", e as f64));
                                }
                            }
                        });
                });
        }
        self.scatter_ui(ui, ctx, &doc);
    }
}

impl ProjectionView {
    /// A PLS model's predicted target against the feature table's value,
    /// per placed item (the values read once per model).
    fn pls_panel(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>, doc: &Arc<ProjectionDoc>) {
        let key = Arc::as_ptr(doc) as usize;
        if self.pls_targets.as_ref().is_none_or(|c| c.0 != key) {
            let target = doc.model.target.clone();
            let values = crate::gui::features::store_numeric_columns(ctx.store, &|n| n != target)
                .into_iter()
                .next()
                .map(|c| c.1)
                .unwrap_or_default();
            self.pls_targets = Some((key, values));
        }
        let values = self.pls_targets.as_ref().map(|c| &c.1);
        let pts: Vec<[f64; 2]> = (doc.points.iter())
            .filter_map(|(id, _, c)| {
                let y = *values?.get(id)?;
                Some([y, doc.model.predicted(c)?])
            })
            .collect();
        let (lo, hi) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
                (l.min(p[0]).min(p[1]), h.max(p[0]).max(p[1]))
            });
        egui::Panel::right("projection_pls")
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| {
                ui.label(format!(
                    "{} predicted against the feature table ({} items)",
                    doc.model.target,
                    pts.len()
                ));
                Plot::new("projection_pls_plot")
                    .x_axis_label(format!("{} (table)", doc.model.target))
                    .y_axis_label("predicted")
                    .data_aspect(1.0)
                    .show(ui, |pu| {
                        if lo < hi {
                            pu.line(
                                Line::new("y = x", PlotPoints::new(vec![[lo, lo], [hi, hi]]))
                                    .color(Color32::GRAY),
                            );
                        }
                        pu.points(Points::new("items", PlotPoints::new(pts)).radius(4.0));
                    });
            });
    }

    /// PLS's target: a numeric column of the feature table (the list is
    /// read from the store when it is opened).
    fn target_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        let shown = if self.target.is_empty() {
            "choose…"
        } else {
            self.target.as_str()
        };
        let r = egui::ComboBox::new("projection_target", "target")
            .selected_text(shown)
            .height(320.0)
            .show_ui(ui, |ui| {
                // Read once per opening of the list; not this model's own
                // output (it would predict itself).
                let columns = self.columns.get_or_insert_with(|| {
                    crate::gui::features::store_numeric_columns(ctx.store, &|n| {
                        n.starts_with("latent_pls_") || n.starts_with("pls_predicted_")
                    })
                    .into_iter()
                    .map(|c| c.0)
                    .collect()
                });
                if columns.is_empty() {
                    ui.label("No numeric feature yet: process spectra, fit, or run LCF first");
                }
                for c in columns.iter() {
                    ui.selectable_value(&mut self.target, c.clone(), c);
                }
            });
        if r.inner.is_none() {
            // Read afresh next time: the store changes.
            self.columns = None;
        }
        r.response.on_hover_text(
            "The feature-table column PLS predicts (File ▸ Export features… shows them all); \
             items without a value are not trained on",
        );
    }

    fn scatter_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>, doc: &ProjectionDoc) {
        let (ax, ay) = self.axes;
        let at = |c: &Vec<f64>| {
            [
                c.get(ax).copied().unwrap_or(0.0),
                c.get(ay).copied().unwrap_or(0.0),
            ]
        };
        let colour: HashMap<u64, Color32> = (ctx.store.items.iter())
            .map(|i| (i.id, i.color))
            .chain(ctx.store.patterns.iter().map(|p| (p.id, p.color)))
            .collect();
        let selected = &ctx.selection.selected;
        let rings: Vec<[f64; 2]> = (doc.points.iter())
            .filter(|p| selected.contains(&p.0))
            .map(|p| at(&p.2))
            .collect();
        let disc = self
            .disc
            .get_or_insert_with(|| crate::gui::widgets::disc_texture(ui.ctx()))
            .id();
        let resp = Plot::new("projection_scatter")
            .x_axis_label(format!("{} {}", doc.model.model.method().name(), ax + 1))
            .y_axis_label(format!("{} {}", doc.model.model.method().name(), ay + 1))
            .show(ui, |pu| {
                // One series per colour (items keep their tree colour):
                // thousands of points stay a handful of draw calls.
                let mut groups: Vec<(Color32, Vec<[f64; 2]>)> = Vec::new();
                for (id, _, c) in &doc.points {
                    let col = colour.get(id).copied().unwrap_or(Color32::GRAY);
                    match groups.iter_mut().find(|g| g.0 == col) {
                        Some(g) => g.1.push(at(c)),
                        None => groups.push((col, vec![at(c)])),
                    }
                }
                for (col, pts) in groups {
                    pu.add(crate::gui::widgets::Discs::new(
                        "items",
                        Arc::new(pts),
                        col,
                        5.0,
                        disc,
                    ));
                }
                if !rings.is_empty() {
                    pu.points(
                        Points::new("selected", PlotPoints::new(rings))
                            .color(Color32::from_rgb(230, 200, 0))
                            .radius(8.0)
                            .filled(false),
                    );
                }
            });
        // A click selects the point's item (Ctrl adds), as in the tree.
        if resp.response.clicked()
            && let Some(pos) = resp.response.interact_pointer_pos()
        {
            let t = &resp.transform;
            let hit = (doc.points.iter())
                .map(|p| {
                    let [x, y] = at(&p.2);
                    (
                        p.0,
                        t.position_from_point(&PlotPoint::new(x, y)).distance(pos),
                    )
                })
                .filter(|(_, d)| *d < 10.0)
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((id, _)) = hit {
                if ui.input(|i| i.modifiers.command) {
                    ctx.selection.selected.insert(id);
                } else {
                    ctx.selection.select_only(&[id]);
                }
            }
        }
    }
}
