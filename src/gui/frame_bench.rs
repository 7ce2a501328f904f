//! `carto bench frame`: what one frame of the Map view costs on the UI
//! thread with a large map — the app's own `ui` run headless in an egui
//! context (1600 × 1000 points, the pointer moving over the plot so the
//! hover search runs), then tessellated into the triangles a GPU would
//! draw. GPU time is not included (it is not on the UI thread and depends
//! on the card); the triangle count says how much it gets.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::app::CartoApp;
use super::store::MapDoc;
use crate::latent::map::{LatentMap, MapPoint, MapRun, Near, PointKind};

/// `carto bench frame`.
#[derive(Debug, Clone, Serialize)]
pub struct FrameBenchReport {
    pub build: &'static str,
    /// Measurements and candidates on the map.
    pub points: usize,
    pub candidates: usize,
    pub frames: usize,
    /// Median and worst frame, ms: the UI pass (layout, plot, hover
    /// search) and the tessellation.
    pub median_ms: f64,
    pub max_ms: f64,
    pub median_ui_ms: f64,
    pub median_tessellate_ms: f64,
    /// Triangles in one frame's meshes.
    pub triangles: usize,
    /// Median frame while the map is dragged (the view moves every frame,
    /// so the discs' mesh is built again each time), ms.
    pub panning_median_ms: f64,
}

impl FrameBenchReport {
    pub fn text(&self) -> String {
        format!(
            "carto bench frame ({} build): the Map view with {} measurements and {} candidates, {} frames at 1600 × 1000 with the pointer over the plot\n\
             frame: median {:.2} ms, worst {:.2} ms (target < 16 ms): UI pass {:.2} ms, tessellation {:.2} ms; {} triangles\n\
             while panning (the view moves every frame): median {:.2} ms\n",
            self.build,
            self.points,
            self.candidates,
            self.frames,
            self.median_ms,
            self.max_ms,
            self.median_ui_ms,
            self.median_tessellate_ms,
            self.triangles,
            self.panning_median_ms
        )
    }
}

/// A map of `n` measured points in 12 clusters (XRD, EXAFS and XANES in
/// turn) and `cands` candidates, each measurement with 3 nearest: the
/// shape of a real map, without holding 10⁵ spectra.
pub fn synthetic_map(n: usize, cands: usize) -> MapDoc {
    let mut rng = crate::latent::autoencoder::Rng(0x5EED_1234_ABCD_0001);
    let mut points = Vec::with_capacity(n + cands);
    let modality = ["xrd", "exafs", "xanes"];
    for i in 0..n {
        let c = (i % 12) as f64;
        let (cx, cy) = (5.0 * (c * 0.9).cos(), 5.0 * (c * 0.9).sin());
        // Box–Muller for a Gaussian cloud around the cluster's centre.
        let (u, v) = (rng.uniform().max(1e-12), rng.uniform());
        let r = (-2.0 * u.ln()).sqrt();
        let t = std::f64::consts::TAU * v;
        points.push(MapPoint {
            id: format!("scan_{i:06}"),
            kind: PointKind::Measured,
            modality: modality[i % 3].to_string(),
            absorber: None,
            x: cx + 0.8 * r * t.cos(),
            y: cy + 0.8 * r * t.sin(),
            nearest: (0..3)
                .map(|k| Near {
                    candidate: (i + k) % cands.max(1),
                    cif: format!("cand_{}", (i + k) % cands.max(1)),
                    score: 0.9 - 0.1 * k as f64,
                })
                .collect(),
            explains: Vec::new(),
            cluster: None,
        });
    }
    for j in 0..cands {
        let a = j as f64 * 0.37;
        points.push(MapPoint {
            id: format!("cand_{j}"),
            kind: PointKind::Candidate,
            modality: "structure".into(),
            absorber: None,
            x: 7.0 * a.cos() * (1.0 + (j % 5) as f64 * 0.05),
            y: 7.0 * a.sin(),
            nearest: Vec::new(),
            explains: Vec::new(),
            cluster: None,
        });
    }
    let ids = vec![None; points.len()];
    MapDoc {
        run: MapRun {
            map: LatentMap {
                points,
                explained_variance_ratio: [0.3, 0.2],
                landmarks: cands,
                layout: "pca".into(),
            },
            candidates: Default::default(),
            measured: Vec::new(),
            pair_tables_computed: 0,
        },
        stage: crate::latent::joint::Stage::Stage0,
        model: None,
        ids,
        skipped: Vec::new(),
    }
}

/// Draw `frames` frames of the Map view holding [`synthetic_map`] of `n`
/// points (after 5 unmeasured frames that settle the layout).
pub fn bench_frame(n: usize, frames: usize) -> FrameBenchReport {
    let cands = 644;
    let ctx = egui::Context::default();
    super::setup_fonts(&ctx);
    let mut app = CartoApp::new();
    app.state.view = super::views::MAP;
    app.state.store.map = Some(Arc::new(synthetic_map(n, cands)));
    let size = egui::vec2(1600.0, 1000.0);
    let mut ui_ms = Vec::new();
    let mut tess_ms = Vec::new();
    let mut total = Vec::new();
    let mut triangles = 0;
    let warm = 5;
    for f in 0..frames + warm {
        // The pointer sweeps across the plot area (hover search, tooltip).
        let x = 500.0 + (f % 40) as f32 * 20.0;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
            time: Some(f as f64 / 60.0),
            events: vec![egui::Event::PointerMoved(egui::pos2(x, 550.0))],
            ..Default::default()
        };
        let t0 = Instant::now();
        let mut out = ctx.run_ui(input, |ui| app.ui(ui));
        let t1 = Instant::now();
        let prims = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
        // No renderer takes the textures (fonts, the disc image).
        out.drop_without_applying_deltas();
        let t2 = Instant::now();
        if f >= warm {
            ui_ms.push((t1 - t0).as_secs_f64() * 1e3);
            tess_ms.push((t2 - t1).as_secs_f64() * 1e3);
            total.push((t2 - t0).as_secs_f64() * 1e3);
            triangles = prims
                .iter()
                .map(|p| match &p.primitive {
                    egui::epaint::Primitive::Mesh(m) => m.indices.len() / 3,
                    egui::epaint::Primitive::Callback(_) => 0,
                })
                .sum();
        }
    }
    // Dragging the plot: press, then move a little every frame.
    let mut pan = Vec::new();
    for f in 0..frames + 1 {
        let at = egui::pos2(700.0 + 3.0 * f as f32, 500.0 + (f % 7) as f32);
        let mut events = vec![egui::Event::PointerMoved(at)];
        if f == 0 {
            events.push(egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed: true,
                modifiers: Default::default(),
            });
        }
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
            time: Some((frames + warm + f) as f64 / 60.0),
            events,
            ..Default::default()
        };
        let t0 = Instant::now();
        let mut out = ctx.run_ui(input, |ui| app.ui(ui));
        let _prims = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
        out.drop_without_applying_deltas();
        if f > 0 {
            pan.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let max_ms = total.iter().copied().fold(0.0, f64::max);
    FrameBenchReport {
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        points: n,
        candidates: cands,
        frames,
        median_ms: median(&mut total),
        max_ms,
        median_ui_ms: median(&mut ui_ms),
        median_tessellate_ms: median(&mut tess_ms),
        triangles,
        panning_median_ms: median(&mut pan),
    }
}
