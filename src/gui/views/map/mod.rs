//! The Map view: every loaded spectrum and pattern with the candidate
//! structures (the XRD view's library and the CIF phases) on one map
//! ([`crate::latent::map`] stage 0, or a stage-1 joint model trained at
//! Build or held; PCA or UMAP layout), computed on the task registry with
//! progress and Cancel. Linked through the one selection: clicking a
//! point selects its item (Ctrl adds, as in the tree), a right-drag box
//! or a Shift+right-drag lasso selects the measurements inside it, and
//! selected items are ringed.
//! Beside the map: the focused point's nearest candidates (or, for a
//! candidate, the measurements it explains) and its profile over the
//! nearest candidate's on the common grid.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use egui::{Color32, Ui};
use egui_plot::{Legend, Line, MarkerShape, Plot, PlotPoint, PlotPoints, Points, Polygon};

use super::{Action, MAP, View, ViewCtx};

mod side;
use crate::gui::dialogs::DialogKind;
use crate::gui::store::sources::{Source, sources_of};
use crate::gui::tasks::{Task, take_answer};
use crate::latent::grid::Profile;
use crate::latent::joint::{JointOptions, Ranking, run_staged_map};
use crate::latent::layout::Layout;
use crate::latent::map::{MapRunOptions, MeasuredView, PointKind};
use crate::session::MapRanking;
use crate::structure::Structure;
use crate::theory::closed::PairLibrary;

use crate::gui::log::Log;
use crate::gui::store::{MapDoc, Store};
use crate::latent::map::{MapColour, map_series};
use crate::svg::{Marker, ScatterSeries};

type MapAnswer = Result<Option<MapDoc>, String>;

/// A feature column's value at each point of the map.
type FeatureColumn = (String, Vec<Option<f64>>);

/// A series' points, shared by the cache and the frame's plot items.
type SharedPoints = Arc<Vec<[f64; 2]>>;

/// What colours the map's measurements.
#[derive(Debug, Clone, Default, PartialEq, Hash)]
pub enum ColourBy {
    #[default]
    Modality,
    /// k-means clusters of the measurements (the store's map_clusters).
    Cluster,
    /// A numeric column of the feature table (File ▸ Export features).
    Column(String),
}

#[derive(Default)]
pub struct MapView {
    running: Option<Task<MapAnswer>>,
    /// The point shown beside the map.
    focus: Option<usize>,
    /// Show candidate structures.
    hide_candidates: bool,
    /// What colours the measurements.
    pub colour: ColourBy,
    /// The feature table's numeric columns on the map's points, for the
    /// map on show (by its address): name → value per point.
    feature_cache: Option<(usize, Vec<FeatureColumn>)>,
    /// The plot area on screen in the last frame (PNG export).
    pub plot_rect: Option<egui::Rect>,
    /// Where a right-drag box started (plot coordinates).
    box_start: Option<PlotPoint>,
    /// The path of a Shift+right-drag lasso so far (plot coordinates).
    lasso: Vec<[f64; 2]>,
    /// Build the map once what is being opened is in, and show it
    /// (`carto --map`; opening CIFs shows the XRD view meanwhile).
    pub build_when_ready: bool,
    show_when_built: bool,
    /// The disc image the measurements are drawn with (loaded once).
    disc: Option<egui::TextureHandle>,
    /// The series of the last frame and what they were made from (a map
    /// of 10⁵ points is split by colour once, not every frame), and their
    /// meshes.
    series_cache: Option<(u64, Vec<SharedPoints>, Vec<ScatterSeries>)>,
    discs: crate::gui::widgets::DiscCache,
}

impl MapView {
    /// Start computing the map of the store's spectra and patterns.
    pub fn start(&mut self, ctx: &mut ViewCtx<'_>, egui: Option<egui::Context>) {
        let sources = sources_of(ctx.store);
        let mut files: Vec<PathBuf> = ctx.store.library.files.values().cloned().collect();
        files.sort();
        // A JCPDS card has a cell and reflections but no atoms: it has no
        // simulated χ(k) or structure descriptors, so it is no candidate.
        let (cards, structures): (Vec<_>, Vec<_>) =
            ctx.store.phases.iter().partition(|p| p.is_card());
        for c in &cards {
            ctx.log.info(format!(
                "map: {} is a JCPDS card (no atoms), not a candidate",
                c.name
            ));
        }
        let phases: Vec<(u64, PathBuf, Arc<Structure>)> = structures
            .iter()
            .map(|p| (p.id, p.path.clone(), p.structure()))
            .collect();
        if sources.is_empty() || (files.is_empty() && phases.is_empty()) {
            ctx.log.warn(
                "The map needs spectra or patterns and candidates: CIF phases, or a library (XRD view ▸ Library…)",
            );
            return;
        }
        let settings = ctx.store.map_settings.clone();
        let ranking = match settings.ranking {
            MapRanking::Stage0 => Ranking::Stage0,
            MapRanking::Train => Ranking::Train(JointOptions::default()),
            MapRanking::Model => match &settings.model {
                Some(m) => Ranking::Model(Box::new((**m).clone())),
                None => {
                    ctx.log.warn(
                        "The map's ranking is a joint model but none is held: open one (Model…) or train one",
                    );
                    return;
                }
            },
        };
        let title = match (&ranking, settings.layout) {
            (Ranking::Train(_), _) => "Training a joint model and building the map",
            (_, Layout::Umap(_)) => "Building the map (UMAP layout)",
            (_, Layout::Tsne(_)) => "Building the map (t-SNE layout)",
            _ => "Building the map",
        };
        let plan = Plan {
            ranking,
            layout: settings.layout,
            model_source: settings.model_source,
            xanes: settings.xanes,
            xanes_theory: settings.xanes_theory,
            standards: settings.xanes_standards,
        };
        self.running = Some(Task::spawn(ctx.tasks, title, egui, move |st| {
            compute(sources, files, phases, plan, st)
        }));
    }

    pub fn busy(&self) -> bool {
        self.running.is_some()
    }
}

/// How the worker ranks and lays out the map.
struct Plan {
    ranking: Ranking,
    layout: Layout,
    /// Where a held model came from.
    model_source: String,
    /// Measurements by their XANES; candidates' simulated XANES; measured
    /// standards' file.
    xanes: bool,
    xanes_theory: bool,
    standards: Option<PathBuf>,
}

/// The worker: measured views, candidate structures (phases first, then
/// library files not among them), the map.
fn compute(
    sources: Vec<Source>,
    files: Vec<PathBuf>,
    phases: Vec<(u64, PathBuf, Arc<Structure>)>,
    plan: Plan,
    st: &crate::gui::tasks::TaskStatus,
) -> MapAnswer {
    let mut measured = Vec::new();
    let mut ids = Vec::new();
    let mut skipped = Vec::new();
    for s in sources {
        let (id, name, r) = s.view(plan.xanes);
        match r {
            Ok(v) => {
                measured.push(v);
                ids.push(Some(id));
            }
            Err(e) => skipped.push(format!("{name}: {e}")),
        }
    }
    let phase_files: BTreeSet<PathBuf> = phases.iter().map(|p| p.1.clone()).collect();
    let mut phase_of: HashMap<PathBuf, u64> = HashMap::new();
    let mut structures: Vec<(PathBuf, Result<Structure, String>)> = Vec::new();
    for (id, path, s) in phases {
        phase_of.insert(path.clone(), id);
        structures.push((path, Ok((*s).clone())));
    }
    let rest: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| !phase_files.contains(f))
        .collect();
    structures.extend(crate::latent::candidates::read_structures(&rest));
    let mut lib = PairLibrary::user();
    let mut o = MapRunOptions::default();
    o.map.layout = plan.layout;
    if let Some(path) = &plan.standards {
        let (standards, errors) =
            crate::latent::standards::read_standards(path, &Default::default())?;
        o.standards = standards;
        skipped.extend(errors);
    }
    let cancel = crate::theory::xanes::CancellationToken::default();
    if plan.xanes_theory {
        o.xanes = Some(crate::latent::XanesLandmarks {
            cache_dir: crate::theory::xanes_lib::default_cache_dir(),
            cancel: cancel.clone(),
            ..Default::default()
        });
    }
    let training = matches!(plan.ranking, Ranking::Train(_));
    // Progress restarts for each phase (candidates, then a UMAP layout's
    // epochs): the bar follows whichever runs.
    // Names in input order, to find each placed measurement's store id.
    let names: Vec<String> = measured.iter().map(|m| m.id.clone()).collect();
    // refeff watches its token (a XANES run is 20–60 s); the task's
    // Cancel sets it.
    let finished = std::sync::atomic::AtomicBool::new(false);
    let staged = std::thread::scope(|sc| {
        sc.spawn(|| {
            while !finished.load(std::sync::atomic::Ordering::Relaxed) {
                if st.is_cancelling() {
                    cancel.cancel();
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        let r = run_staged_map(
            measured,
            structures,
            &o,
            plan.ranking,
            &[],
            &mut lib,
            &mut |done, total| {
                st.set_progress(done, total);
                !st.is_cancelling()
            },
        );
        finished.store(true, std::sync::atomic::Ordering::Relaxed);
        r
    })?;
    let Some(staged) = staged else {
        return Ok(None);
    };
    // The measurements the map placed (a model may skip some), in their
    // order: each placed one is the next measurement with its id (names
    // may repeat, the order does not change).
    let run = staged.run;
    let mut next = names.iter().zip(&ids);
    let mut placed_ids: Vec<Option<u64>> = Vec::with_capacity(run.map.points.len());
    for m in &run.measured {
        let id = next
            .by_ref()
            .find(|(v, _)| **v == m.id)
            .and_then(|(_, id)| *id);
        placed_ids.push(id);
    }
    let mut ids = placed_ids;
    for c in &run.candidates.items {
        ids.push(phase_of.get(&c.file).copied());
    }
    skipped.extend(staged.skipped);
    skipped.extend(run.candidates.skipped.iter().cloned());
    skipped.extend(run.candidates.view_errors.iter().cloned());
    skipped.extend(run.candidates.notes.iter().map(|n| format!("note: {n}")));
    let model = staged.model.map(|m| {
        let source = if training {
            format!("trained on {} candidates", run.candidates.items.len())
        } else {
            plan.model_source
        };
        (Arc::new(m), source)
    });
    Ok(Some(MapDoc {
        run,
        stage: staged.stage,
        model,
        ids,
        skipped,
    }))
}

/// Select the map's measurements at which `inside(x, y)` holds (with
/// what was selected when `add`).
fn select_measured(
    ctx: &mut ViewCtx<'_>,
    doc: &MapDoc,
    add: bool,
    inside: impl Fn(f64, f64) -> bool,
) {
    let ids: Vec<u64> = (doc.run.map.points.iter().zip(&doc.ids))
        .filter(|(p, _)| p.kind == PointKind::Measured && inside(p.x, p.y))
        .filter_map(|(_, id)| *id)
        .collect();
    if add {
        ctx.selection.selected.extend(ids.iter().copied());
    } else {
        ctx.selection.select_only(&ids);
    }
}

fn rgb(c: crate::svg::Rgb) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

fn color_of(modality: &str) -> Color32 {
    rgb(crate::svg::modality_rgb(modality))
}

/// Recompute the clusters' labels when k or the map changed.
fn sync_clusters(store: &mut Store) {
    let Some(doc) = &store.map else { return };
    let c = &mut store.map_clusters;
    let key = (Arc::as_ptr(doc) as usize, c.k);
    if c.k == 0 {
        c.labels.clear();
        c.computed_for = None;
    } else if c.computed_for != Some(key) {
        c.labels = crate::latent::map::measurement_clusters(&doc.run.map, c.k);
        c.computed_for = Some(key);
    }
    if c.names.len() < c.k {
        c.names.resize(c.k, String::new());
    }
}

/// The feature table's numeric columns on the map's points: per column,
/// the value of each point's item (None for candidates and items without).
fn map_feature_columns(store: &Store, doc: &MapDoc) -> Vec<(String, Vec<Option<f64>>)> {
    let skip = |n: &str| n.starts_with("map_") || n == "file_index" || n == "group_index";
    crate::gui::features::store_numeric_columns(store, &skip)
        .into_iter()
        .map(|(n, by_id)| {
            let per_point = (doc.ids.iter())
                .map(|id| id.and_then(|id| by_id.get(&id).copied()))
                .collect();
            (n, per_point)
        })
        .filter(|(_, v): &(String, Vec<Option<f64>>)| v.iter().any(Option::is_some))
        .collect()
}

/// The map's layout and ranking (what the next Build uses), and the joint
/// model held: open, save.
fn settings_ui(ui: &mut Ui, ctx: &mut ViewCtx<'_>, idle: bool) {
    let st = &mut ctx.store.map_settings;
    let name = |l: &Layout| match l {
        Layout::Pca => "PCA",
        Layout::Umap(_) => "UMAP",
        Layout::Tsne(_) => "t-SNE",
    };
    egui::ComboBox::new("map_layout", "layout")
        .selected_text(name(&st.layout))
        .show_ui(ui, |ui| {
            let choices = [
                Layout::Pca,
                Layout::Umap(Default::default()),
                Layout::Tsne(Default::default()),
            ];
            for c in choices {
                let on = std::mem::discriminant(&c) == std::mem::discriminant(&st.layout);
                // Choosing the one in use keeps its parameters.
                if ui.selectable_label(on, name(&c)).clicked() && !on {
                    st.layout = c;
                }
            }
        })
        .response
        .on_hover_text(
            "PCA: the first two principal axes (deterministic, distances mean something). \
             UMAP: keeps who is near whom (up to 20,000 points). \
             t-SNE: keeps local neighbourhoods; sizes and gaps of clusters mean little \
             (up to 20,000 points). Ranking never uses the layout.",
        );
    match &mut st.layout {
        Layout::Umap(u) => {
            ui.label("neighbours");
            ui.add(egui::DragValue::new(&mut u.neighbours).range(2..=200))
                .on_hover_text("UMAP's n_neighbors: larger keeps more of the global structure");
            ui.label("min dist");
            ui.add(
                egui::DragValue::new(&mut u.min_dist)
                    .range(0.0..=1.0)
                    .speed(0.01),
            )
            .on_hover_text("UMAP's min_dist: smaller packs clusters tighter");
        }
        Layout::Tsne(t) => {
            ui.label("perplexity");
            ui.add(
                egui::DragValue::new(&mut t.perplexity)
                    .range(2.0..=100.0)
                    .speed(0.5),
            )
            .on_hover_text(
                "t-SNE's perplexity: the effective number of neighbours each point sees",
            );
        }
        Layout::Pca => {}
    }
    ui.separator();
    ui.checkbox(&mut st.xanes, "μ(E) by XANES").on_hover_text(
        "Place every μ(E) by its XANES (normalized μ, −20 to +60 eV around e0) \
         instead of its EXAFS χ(k)",
    );
    ui.checkbox(&mut st.xanes_theory, "simulate candidates' XANES")
        .on_hover_text(
            "Give each candidate holding a XANES measurement's absorber its simulated XANES \
             (refeff full multiple scattering, as 'Simulate XANES', averaged over up to 3 \
             inequivalent sites): 20–60 s a site the first time, then read from the cache",
        );
    if ui
        .add_enabled(idle, egui::Button::new("Standards…"))
        .on_hover_text(
            "Measured standards as candidates' XANES: a TOML file of [[standard]] entries \
             (spectrum, group, cif), see the README",
        )
        .clicked()
    {
        ctx.actions
            .push(Action::Dialog(DialogKind::OpenMapStandards));
    }
    if let Some(p) = &st.xanes_standards {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        ui.label(name.unwrap_or_default())
            .on_hover_text(p.display().to_string());
        if ui.small_button("×").on_hover_text("No standards").clicked() {
            st.xanes_standards = None;
        }
    }
    ui.separator();
    let text = |r: MapRanking| match r {
        MapRanking::Stage0 => "stage 0: cosine on the grids",
        MapRanking::Train => "stage 1: train a joint model",
        MapRanking::Model => "stage 1: the model held",
    };
    let has_model = st.model.is_some();
    egui::ComboBox::new("map_ranking", "ranking")
        .selected_text(text(st.ranking))
        .show_ui(ui, |ui| {
            for r in [MapRanking::Stage0, MapRanking::Train] {
                ui.selectable_value(&mut st.ranking, r, text(r));
            }
            ui.add_enabled_ui(has_model, |ui| {
                ui.selectable_value(&mut st.ranking, MapRanking::Model, text(MapRanking::Model));
            });
        })
        .response
        .on_hover_text(
            "Stage 0 ranks by cosine on the common grids (no training). Stage 1 trains \
             whitened PCA per view and ridge CCA across views on the candidates, then \
             ranks and lays out in that joint space; the model is held and saved with the session.",
        );
    if ui
        .add_enabled(idle, egui::Button::new("Model…"))
        .on_hover_text("Open a joint model file (carto map --train's)")
        .clicked()
    {
        ctx.actions.push(Action::Dialog(DialogKind::OpenMapModel));
    }
    if ui
        .add_enabled(has_model, egui::Button::new("Save model…"))
        .on_hover_text("Save the joint model held as a file (carto map --model reads it)")
        .clicked()
    {
        ctx.actions.push(Action::Dialog(DialogKind::SaveMapModel));
    }
    if let Some(m) = &st.model {
        ui.label(format!("model: {}", st.model_source))
            .on_hover_text(format!(
                "{} dimensions, {} anchors, views {:?}",
                m.dims(),
                m.anchors,
                m.keys()
            ));
    }
}

impl View for MapView {
    fn id(&self) -> &'static str {
        MAP
    }
    fn title(&self) -> &'static str {
        "Map"
    }
    fn hover(&self) -> &'static str {
        "Spectra, patterns and candidate structures on one map, each measurement with its nearest candidates"
    }
    fn poll(&mut self, ctx: &mut ViewCtx<'_>, egui: &egui::Context) {
        let loading = ctx.tasks.busy()
            || (ctx.store.items.iter())
                .filter_map(|i| i.spectrum())
                .any(|s| s.needs_processing());
        if self.build_when_ready && self.running.is_none() && !loading {
            self.build_when_ready = false;
            self.show_when_built = true;
            self.start(ctx, Some(egui.clone()));
        }
        if let Some(ans) = take_answer(&mut self.running, "the map", ctx.log) {
            match ans {
                Ok(Some(doc)) => {
                    ctx.log.info(format!(
                        "Map: {} measurements, {} candidates ({} pair tables computed); {}, layout {}",
                        doc.run.measured.len(),
                        doc.run.candidates.items.len(),
                        doc.run.pair_tables_computed,
                        match &doc.model {
                            Some((_, from)) => format!("ranked by the joint model ({from})"),
                            None => "ranked by cosine on the grids (stage 0)".into(),
                        },
                        doc.run.map.layout
                    ));
                    // A model trained by this build is held: saved with
                    // the session, and reused with "model held".
                    if let Some((m, from)) = &doc.model {
                        let held = &mut ctx.store.map_settings;
                        if !held.model.as_ref().is_some_and(|h| Arc::ptr_eq(h, m)) {
                            held.model = Some(m.clone());
                            held.model_source = from.clone();
                        }
                    }
                    for s in doc.skipped.iter().take(20) {
                        ctx.log.warn(format!("Map: {s}"));
                    }
                    self.focus = None;
                    ctx.store.map = Some(Arc::new(doc));
                    if std::mem::take(&mut self.show_when_built) {
                        ctx.actions.push(Action::Show(MAP));
                    }
                }
                Ok(None) => {}
                Err(e) => ctx.log.error(format!("Map: {e}")),
            }
        }
    }
    fn waiting(&self) -> bool {
        self.running.is_some() || self.build_when_ready
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>) {
        ui.horizontal(|ui| {
            let can = self.running.is_none();
            if ui
                .add_enabled(can, egui::Button::new("Build map"))
                .on_hover_text(
                    "Every spectrum and pattern with the library's and the phases' structures",
                )
                .clicked()
            {
                self.start(ctx, Some(ui.ctx().clone()));
            }
            if ui
                .button("Library…")
                .on_hover_text("Choose the candidate CIF folder")
                .clicked()
            {
                ctx.actions.push(Action::Dialog(DialogKind::CandidateDir));
            }
            let lib = ctx.store.library.candidates.len();
            ui.label(format!(
                "candidates: {lib} library CIFs, {} phases",
                ctx.store.phases.len()
            ));
            ui.checkbox(&mut self.hide_candidates, "hide candidates");
            ui.label("clusters");
            let k_before = ctx.store.map_clusters.k;
            ui.add(egui::DragValue::new(&mut ctx.store.map_clusters.k).range(0..=20))
                .on_hover_text("k-means clusters of the measurements on the map (0: none)");
            if ctx.store.map_clusters.k != k_before {
                self.colour = if ctx.store.map_clusters.k > 0 {
                    ColourBy::Cluster
                } else {
                    ColourBy::Modality
                };
            }
        });
        ui.horizontal(|ui| settings_ui(ui, ctx, self.running.is_none()));
        let Some(doc) = ctx.store.map.clone() else {
            ui.label("No map yet: open spectra or patterns, load a candidate library or CIF phases, and press Build map.");
            return;
        };
        sync_clusters(ctx.store);
        ui.horizontal(|ui| {
            ui.label("colour by");
            let columns: Vec<String> = self
                .features_of(ctx.store, &doc)
                .iter()
                .map(|c| c.0.clone())
                .collect();
            let text = match &self.colour {
                ColourBy::Modality => "modality".to_string(),
                ColourBy::Cluster => "cluster".to_string(),
                ColourBy::Column(c) => c.clone(),
            };
            egui::ComboBox::from_id_salt("map_colour")
                .selected_text(text)
                .height(400.0)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.colour, ColourBy::Modality, "modality");
                    ui.selectable_value(&mut self.colour, ColourBy::Cluster, "cluster");
                    for c in columns {
                        let v = ColourBy::Column(c.clone());
                        ui.selectable_value(&mut self.colour, v, c);
                    }
                })
                .response
                .on_hover_text(
                    "Modality, k-means cluster, or any numeric column of the feature table",
                );
            if ui
                .small_button("↻")
                .on_hover_text("Recompute the feature columns (after new fits or processing)")
                .clicked()
            {
                self.feature_cache = None;
            }
            ui.separator();
            if ui
                .button("SVG…")
                .on_hover_text("Save the map as drawn (colours, legend) as an SVG file")
                .clicked()
            {
                ctx.actions.push(Action::Dialog(DialogKind::ExportMapSvg));
            }
            if ui
                .button("PNG…")
                .on_hover_text("Save the map's plot area as it is on screen")
                .clicked()
            {
                ctx.actions.push(Action::Dialog(DialogKind::ExportMapPng));
            }
        });
        let Some(doc) = ctx.store.map.clone() else {
            ui.label("No map yet: open spectra or patterns, load a candidate library or CIF phases, and press Build map.");
            return;
        };
        let m = &doc.run.map;
        let axes = if m.layout == "pca" {
            format!(
                "x and y explain {:.1} % and {:.1} % of the variance of the space",
                100.0 * m.explained_variance_ratio[0],
                100.0 * m.explained_variance_ratio[1]
            )
        } else {
            format!(
                "layout {} (neighbourhoods kept, distances between groups are not)",
                m.layout
            )
        };
        ui.label(format!(
            "{} points, {} landmarks, {}; {axes}. \
             Click a point to select it (Ctrl adds); right-drag a box, or Shift+right-drag a lasso, to select the measurements inside.",
            m.points.len(),
            m.landmarks,
            match &doc.model {
                Some((_, from)) => format!("stage 1 (joint model {from})"),
                None => "stage 0".to_string(),
            },
        ));
        let side = 330.0;
        egui::Panel::right("map_side")
            .resizable(true)
            .default_size(side)
            .show(ui, |ui| self.side_ui(ui, ctx, &doc));
        self.plot_ui(ui, ctx, &doc);
    }
}

impl MapView {
    /// The feature table's numeric columns on the map's points (cached
    /// per map; ↻ recomputes).
    fn features_of(&mut self, store: &Store, doc: &Arc<MapDoc>) -> &[(String, Vec<Option<f64>>)] {
        let key = Arc::as_ptr(doc) as usize;
        if self.feature_cache.as_ref().is_none_or(|c| c.0 != key) {
            self.feature_cache = Some((key, map_feature_columns(store, doc)));
        }
        self.feature_cache.as_ref().map_or(&[], |c| c.1.as_slice())
    }

    /// The map's points as scatter series, coloured as chosen.
    pub fn series(&mut self, store: &Store, doc: &Arc<MapDoc>) -> Vec<ScatterSeries> {
        let m = &doc.run.map;
        let c = &store.map_clusters;
        let colour = self.colour.clone();
        match colour {
            ColourBy::Cluster if c.k > 0 && c.labels.len() == m.points.len() => map_series(
                m,
                MapColour::Cluster {
                    labels: &c.labels,
                    names: &c.names,
                },
                self.hide_candidates,
            ),
            ColourBy::Column(name) => {
                let hide = self.hide_candidates;
                match self.features_of(store, doc).iter().find(|c| c.0 == name) {
                    Some((name, values)) => map_series(m, MapColour::Values { name, values }, hide),
                    None => map_series(m, MapColour::Modality, hide),
                }
            }
            _ => map_series(m, MapColour::Modality, self.hide_candidates),
        }
    }

    /// The map as an SVG file, as drawn; whether it was written.
    pub fn export_svg(&mut self, store: &Store, log: &mut Log, path: &std::path::Path) -> bool {
        let Some(doc) = store.map.clone() else {
            log.warn("export: no map yet (Map view ▸ Build map)");
            return false;
        };
        let title = format!(
            "Carto map: {} measurements, {} candidates",
            doc.run.measured.len(),
            doc.run.candidates.items.len()
        );
        let svg = crate::svg::scatter_svg(&self.series(store, &doc), &title, "map x", "map y");
        match crate::session::write_file_atomic(path, svg.as_bytes()) {
            Ok(()) => {
                log.info(format!("exported the map to {}", path.display()));
                true
            }
            Err(e) => {
                log.error(format!("cannot write {}: {e}", path.display()));
                false
            }
        }
    }

    /// What the series depend on: the map, the colouring, the clusters and
    /// their names, and the feature columns.
    fn series_key(&self, store: &Store, doc: &Arc<MapDoc>) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (Arc::as_ptr(doc) as usize).hash(&mut h);
        self.colour.hash(&mut h);
        self.hide_candidates.hash(&mut h);
        let c = &store.map_clusters;
        (c.k, c.computed_for, &c.names).hash(&mut h);
        self.feature_cache.as_ref().map(|f| f.0).hash(&mut h);
        h.finish()
    }

    /// [`Self::series`], made again only when its key changes; the points
    /// shared with the plot's items.
    fn cached_series(
        &mut self,
        store: &Store,
        doc: &Arc<MapDoc>,
    ) -> (u64, Vec<(ScatterSeries, SharedPoints)>) {
        let key = self.series_key(store, doc);
        if self.series_cache.as_ref().is_none_or(|c| c.0 != key) {
            let mut series = self.series(store, doc);
            let points = series
                .iter_mut()
                .map(|s| Arc::new(std::mem::take(&mut s.points)))
                .collect();
            // The key again: colouring by a column fills the feature cache.
            let key = self.series_key(store, doc);
            self.series_cache = Some((key, points, series));
        }
        match &self.series_cache {
            Some((k, points, series)) => (
                *k,
                series.iter().cloned().zip(points.iter().cloned()).collect(),
            ),
            None => (key, Vec::new()),
        }
    }

    fn plot_ui(&mut self, ui: &mut Ui, ctx: &mut ViewCtx<'_>, doc: &Arc<MapDoc>) {
        let (version, series) = self.cached_series(ctx.store, doc);
        let m = &doc.run.map;
        let selected = &ctx.selection.selected;
        let mut rings = Vec::new();
        for (i, p) in m.points.iter().enumerate() {
            if self.hide_candidates && p.kind == PointKind::Candidate {
                continue;
            }
            if doc.ids[i].is_some_and(|id| selected.contains(&id)) || self.focus == Some(i) {
                rings.push([p.x, p.y]);
            }
        }
        let groups: Vec<(String, Color32, MarkerShape, SharedPoints)> = series
            .into_iter()
            .map(|(s, points)| {
                let shape = match s.marker {
                    Marker::Circle => MarkerShape::Circle,
                    Marker::Diamond => MarkerShape::Diamond,
                };
                (s.name, rgb(s.rgb), shape, points)
            })
            .collect();
        let discs = self.discs.clone();
        let box_start = self.box_start;
        let lasso = self.lasso.clone();
        let disc = self
            .disc
            .get_or_insert_with(|| crate::gui::widgets::disc_texture(ui.ctx()))
            .id();
        let resp =
            Plot::new("latent_map")
                .legend(Legend::default())
                .allow_drag(true)
                .allow_boxed_zoom(false)
                .x_axis_label("map x")
                .y_axis_label("map y")
                .show(ui, |pu| {
                    for (slot, (name, color, shape, pts)) in groups.into_iter().enumerate() {
                        if shape == MarkerShape::Circle {
                            // Measurements: one mesh per series (10⁵ points),
                            // kept while nothing it shows changes.
                            pu.add(
                                crate::gui::widgets::Discs::new(name, pts, color, 5.0, disc)
                                    .cached(discs.clone(), slot, version),
                            );
                            continue;
                        }
                        pu.points(
                            Points::new(name, PlotPoints::new(pts.to_vec()))
                                .color(color)
                                .shape(shape)
                                .radius(3.0)
                                .filled(true),
                        );
                    }
                    if !rings.is_empty() {
                        pu.points(
                            Points::new("selected", PlotPoints::new(rings))
                                .color(Color32::from_rgb(230, 200, 0))
                                .shape(MarkerShape::Circle)
                                .radius(8.0)
                                .filled(false),
                        );
                    }
                    if lasso.len() > 1 {
                        pu.line(
                            Line::new("lasso", PlotPoints::new(lasso))
                                .color(Color32::from_rgb(230, 200, 0)),
                        );
                    }
                    if let (Some(a), Some(b)) = (box_start, pu.pointer_coordinate()) {
                        let corners = vec![[a.x, a.y], [b.x, a.y], [b.x, b.y], [a.x, b.y]];
                        pu.polygon(
                            Polygon::new("box", PlotPoints::new(corners))
                                .fill_color(Color32::from_rgba_unmultiplied(230, 200, 0, 30)),
                        );
                    }
                });
        let r = &resp.response;
        let t = &resp.transform;
        self.plot_rect = Some(*t.frame());
        // The point under the pointer (within 10 px).
        let near = |pos: egui::Pos2| -> Option<usize> {
            m.points
                .iter()
                .enumerate()
                .filter(|(_, p)| !(self.hide_candidates && p.kind == PointKind::Candidate))
                .map(|(i, p)| {
                    (
                        i,
                        t.position_from_point(&PlotPoint::new(p.x, p.y))
                            .distance_sq(pos),
                    )
                })
                .filter(|&(_, d)| d < 100.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _)| i)
        };
        if let Some(pos) = r.hover_pos()
            && let Some(i) = near(pos)
        {
            let p = &m.points[i];
            let best = p
                .nearest
                .first()
                .map(|n| format!("\nnearest: {} ({:.3})", n.cif, n.score))
                .unwrap_or_default();
            r.clone()
                .on_hover_text_at_pointer(format!("{} ({}){best}", p.id, p.modality));
        }
        let mods = ui.input(|i| i.modifiers);
        if r.clicked()
            && let Some(pos) = r.interact_pointer_pos()
            && let Some(i) = near(pos)
        {
            self.click_point(ctx, doc, i, mods.command, mods.shift);
        }
        // Shift+right-drag: a lasso; right-drag: a selection box.
        if r.drag_started_by(egui::PointerButton::Secondary) {
            let at = r.interact_pointer_pos().map(|p| t.value_from_position(p));
            if mods.shift {
                self.lasso = at.map(|p| vec![[p.x, p.y]]).unwrap_or_default();
            } else {
                self.box_start = at;
            }
        }
        if !self.lasso.is_empty()
            && r.dragged_by(egui::PointerButton::Secondary)
            && let Some(pos) = r.interact_pointer_pos()
        {
            let p = t.value_from_position(pos);
            self.lasso.push([p.x, p.y]);
        }
        if r.drag_stopped_by(egui::PointerButton::Secondary) && !self.lasso.is_empty() {
            let poly = std::mem::take(&mut self.lasso);
            self.select_lasso(ctx, doc, &poly, mods.command);
        }
        if r.drag_stopped_by(egui::PointerButton::Secondary)
            && let (Some(a), Some(pos)) = (self.box_start.take(), r.interact_pointer_pos())
        {
            let b = t.value_from_position(pos);
            self.select_box(
                ctx,
                doc,
                [a.x.min(b.x), a.y.min(b.y)],
                [a.x.max(b.x), a.y.max(b.y)],
                mods.command,
            );
        }
    }

    /// A click on point `i`: its store item joins the one selection as a
    /// tree click would; the point is shown beside the map either way.
    pub fn click_point(
        &mut self,
        ctx: &mut ViewCtx<'_>,
        doc: &MapDoc,
        i: usize,
        ctrl: bool,
        shift: bool,
    ) {
        self.focus = Some(i);
        let order = ctx.store.tree_order();
        // An item removed since the map was built is not selected.
        if let Some(Some(id)) = doc.ids.get(i)
            && order.contains(id)
        {
            ctx.selection.click(&order, *id, ctrl, shift);
        }
    }

    /// Select the measurements inside a lasso (plot coordinates); `add`
    /// keeps what was selected.
    pub fn select_lasso(
        &mut self,
        ctx: &mut ViewCtx<'_>,
        doc: &MapDoc,
        poly: &[[f64; 2]],
        add: bool,
    ) {
        select_measured(ctx, doc, add, |x, y| {
            crate::latent::map::inside_polygon([x, y], poly)
        });
    }

    /// Select the measurements inside a box (plot coordinates); `add`
    /// keeps what was selected.
    pub fn select_box(
        &mut self,
        ctx: &mut ViewCtx<'_>,
        doc: &MapDoc,
        lo: [f64; 2],
        hi: [f64; 2],
        add: bool,
    ) {
        select_measured(ctx, doc, add, |x, y| {
            x >= lo[0] && x <= hi[0] && y >= lo[1] && y <= hi[1]
        });
    }
}
