//! Scatter plots of many points (the Map view's 10⁵ measurements): one
//! plot item that draws every point as a textured quad of one
//! anti-aliased disc image, all in one mesh — what egui does for each
//! circle of `egui_plot::Points` (its prerasterized discs), without a shape
//! per point, so a frame's cost stays a few milliseconds at 10⁵ points.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, PoisonError};

use egui::epaint::{Mesh, TextureId};
use egui::{Color32, ColorImage, Pos2, Rect, Shape, TextureHandle, TextureOptions, Ui, Vec2};
use egui_plot::{PlotBounds, PlotGeometry, PlotItem, PlotItemBase, PlotPoint, PlotTransform};

/// Side of the disc image, texels; the disc's radius is half of it less
/// one texel of margin.
const DISC_TEXELS: usize = 64;

/// The disc image (white, alpha falling off over one texel at the edge),
/// loaded once per context.
pub fn disc_texture(ctx: &egui::Context) -> TextureHandle {
    let n = DISC_TEXELS;
    let c = n as f32 / 2.0;
    let r = c - 1.0;
    let pixels: Vec<Color32> = (0..n * n)
        .map(|i| {
            let (x, y) = ((i % n) as f32 + 0.5 - c, (i / n) as f32 + 0.5 - c);
            let a = (r - (x * x + y * y).sqrt() + 0.5).clamp(0.0, 1.0);
            Color32::from_white_alpha((a * 255.0).round() as u8)
        })
        .collect();
    let image = ColorImage::new([n, n], pixels);
    ctx.load_texture("carto_scatter_disc", image, TextureOptions::LINEAR)
}

/// The meshes of the last frame, by the series' slot (its place in the
/// plot), with the key of what they were built from (a frame that only
/// moves the pointer reuses them).
pub type DiscCache = Arc<Mutex<HashMap<usize, (u64, Arc<Mesh>)>>>;

/// Filled discs of one colour at `points`, radius in screen points.
pub struct Discs {
    base: PlotItemBase,
    color: Color32,
    points: Arc<Vec<[f64; 2]>>,
    radius: f32,
    texture: TextureId,
    bounds: PlotBounds,
    /// The cache, the series' slot in it and the version of `points` (the
    /// caller's: it changes whenever the points do).
    cache: Option<(DiscCache, usize, u64)>,
}

impl Discs {
    pub fn new(
        name: impl Into<String>,
        points: Arc<Vec<[f64; 2]>>,
        color: Color32,
        radius: f32,
        texture: TextureId,
    ) -> Discs {
        let mut bounds = PlotBounds::NOTHING;
        for p in points.iter() {
            if p[0].is_finite() && p[1].is_finite() {
                bounds.extend_with(&PlotPoint::new(p[0], p[1]));
            }
        }
        Discs {
            base: PlotItemBase::new(name.into()),
            color,
            points,
            radius,
            texture,
            bounds,
            cache: None,
        }
    }

    /// Reuse last frame's mesh from slot `slot` of `cache` while
    /// `version`, the colour, the radius and the view are the same.
    pub fn cached(mut self, cache: DiscCache, slot: usize, version: u64) -> Discs {
        self.cache = Some((cache, slot, version));
        self
    }

    fn key(&self, t: &PlotTransform) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.cache.as_ref().map(|c| c.2).hash(&mut h);
        self.color.hash(&mut h);
        self.radius.to_bits().hash(&mut h);
        self.texture.hash(&mut h);
        let f = t.frame();
        let b = t.bounds();
        for v in [f.min.x, f.min.y, f.max.x, f.max.y] {
            v.to_bits().hash(&mut h);
        }
        for v in [b.min()[0], b.min()[1], b.max()[0], b.max()[1]] {
            v.to_bits().hash(&mut h);
        }
        h.finish()
    }
}

impl PlotItem for Discs {
    fn shapes(&self, _ui: &Ui, transform: &PlotTransform, shapes: &mut Vec<Shape>) {
        // The same points, colour and view as last frame: the same mesh.
        let key = self.key(transform);
        if let Some((cache, slot, _)) = &self.cache
            && let Some((k, mesh)) = cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(slot)
            && *k == key
        {
            shapes.push(Shape::Mesh(mesh.clone()));
            return;
        }
        let n = DISC_TEXELS as f32;
        // The quad covers the disc and its margin.
        let half = self.radius * (n / 2.0) / (n / 2.0 - 1.0);
        let clip = transform.frame().expand(half);
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        let mut mesh = Mesh::with_texture(self.texture);
        mesh.reserve_triangles(2 * self.points.len());
        mesh.reserve_vertices(4 * self.points.len());
        for p in self.points.iter() {
            let c = transform.position_from_point(&PlotPoint::new(p[0], p[1]));
            if clip.contains(c) {
                let rect = Rect::from_center_size(c, Vec2::splat(2.0 * half));
                mesh.add_rect_with_uv(rect, uv, self.color);
            }
        }
        if mesh.is_empty() {
            return;
        }
        let mesh = Arc::new(mesh);
        if let Some((cache, slot, _)) = &self.cache {
            cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(*slot, (key, mesh.clone()));
        }
        shapes.push(Shape::Mesh(mesh));
    }

    fn initialize(&mut self, _x_range: RangeInclusive<f64>) {}

    fn color(&self) -> Color32 {
        self.color
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        // The view finds the point under the pointer itself.
        PlotGeometry::None
    }

    fn bounds(&self) -> PlotBounds {
        self.bounds
    }

    fn base(&self) -> &PlotItemBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        &mut self.base
    }
}
