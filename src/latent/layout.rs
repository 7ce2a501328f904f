//! The map's 2-D layout, separate from the full-dimensional space the
//! ranking uses: PCA (the first two principal axes, deterministic, linear:
//! distances along them mean something), UMAP (McInnes, Healy &
//! Melville 2018, arXiv:1802.03426: a fuzzy k-nearest-neighbour graph of
//! the full space, laid out in 2-D by stochastic gradient descent; keeps
//! who is near whom, not how far the far ones are) or t-SNE (van der
//! Maaten 2014, JMLR 15:3221, Barnes-Hut: Gaussian neighbour
//! probabilities of the full space matched by Student-t ones on the map;
//! local neighbourhoods, cluster sizes and gaps between clusters mean
//! little).
//!
//! t-SNE here: the bhtsne crate's Barnes-Hut fit (θ = 0.5, early
//! exaggeration 12 for 250 epochs, learning rate max(n/48, 50), as
//! scikit-learn's defaults) on Carto's exact 3·perplexity nearest
//! neighbours, started from the PCA layout scaled to a standard deviation
//! of 10⁻⁴ (scikit-learn's `init="pca"`), so no random draw decides the
//! picture. Its force sums run in parallel, so two runs can differ in the
//! last digits.
//!
//! UMAP here: Carto finds the exact k nearest neighbours (Euclidean, brute
//! force over all pairs, in parallel, so at most [`MAX_UMAP_POINTS`]
//! points); umap-rs builds the fuzzy simplicial set (smooth kNN distances,
//! fuzzy union) and the curve parameters a, b from `min_dist`; Carto then
//! runs umap-learn's Euclidean SGD layout itself, from the PCA layout
//! scaled to [0, 10], epoch by epoch (progress, Cancel), single-threaded
//! with a fixed-seed generator, so a layout is reproducible. (umap-rs's own
//! optimiser attracts each point towards a stale copy of the others'
//! positions, refreshed only per call; umap-learn moves one array, and
//! from a poor start umap-rs's does not gather clusters: the test
//! `umap_separates_clusters` fails with it.)

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::autoencoder::Rng;
use super::pca::LatentError;

/// Points a UMAP or t-SNE layout takes at most: the exact neighbour search costs
/// points² distances (2 × 10⁸ at the cap, a few seconds on 2 cores).
pub const MAX_UMAP_POINTS: usize = 20_000;

/// How the map is drawn in 2-D.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Layout {
    /// The first two principal axes of the space.
    #[default]
    Pca,
    Umap(UmapOptions),
    Tsne(TsneOptions),
}

/// t-SNE's parameters (scikit-learn's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TsneOptions {
    /// The effective number of neighbours each point's Gaussian spans
    /// (`perplexity`); at most (points − 1)/3 is used.
    pub perplexity: f64,
    /// Gradient-descent epochs (`max_iter`), the first 250 exaggerated.
    pub epochs: usize,
}

impl Default for TsneOptions {
    fn default() -> Self {
        TsneOptions {
            perplexity: 30.0,
            epochs: 1000,
        }
    }
}

impl TsneOptions {
    /// The parameters' ranges (scikit-learn needs at least 250 epochs,
    /// the early-exaggeration phase; the upper bounds keep a layout short).
    pub fn check(&self) -> Result<(), LatentError> {
        let bad = |reason: String| {
            Err(LatentError::Shape {
                what: "t-SNE options",
                reason,
            })
        };
        if !(self.perplexity.is_finite() && (2.0..=100.0).contains(&self.perplexity)) {
            return bad(format!("perplexity {} is outside 2–100", self.perplexity));
        }
        if !(250..=10_000).contains(&self.epochs) {
            return bad(format!("epochs {} is outside 250–10000", self.epochs));
        }
        Ok(())
    }
}

/// UMAP's parameters (umap-learn's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UmapOptions {
    /// Neighbours per point in the graph (umap-learn's `n_neighbors`):
    /// larger keeps more of the global structure.
    pub neighbours: usize,
    /// Closest two points may sit on the map (`min_dist`, in units of
    /// `spread` = 1): smaller packs clusters tighter.
    pub min_dist: f64,
    /// Optimisation epochs (`n_epochs`).
    pub epochs: usize,
}

impl Default for UmapOptions {
    fn default() -> Self {
        UmapOptions {
            neighbours: 15,
            min_dist: 0.1,
            epochs: 500,
        }
    }
}

impl UmapOptions {
    /// The parameters' ranges (umap-learn's, and epochs bounded so a
    /// layout ends).
    pub fn check(&self) -> Result<(), LatentError> {
        let bad = |reason: String| {
            Err(LatentError::Shape {
                what: "UMAP options",
                reason,
            })
        };
        if !(2..=200).contains(&self.neighbours) {
            return bad(format!("neighbours {} is outside 2–200", self.neighbours));
        }
        if !(self.min_dist.is_finite() && (0.0..=1.0).contains(&self.min_dist)) {
            return bad(format!("min_dist {} is outside 0–1", self.min_dist));
        }
        if !(1..=10_000).contains(&self.epochs) {
            return bad(format!("epochs {} is outside 1–10000", self.epochs));
        }
        Ok(())
    }
}

impl Layout {
    /// What made the layout, for the feature table and the JSON report:
    /// `pca`, or `umap(n_neighbors=15,min_dist=0.1,n_epochs=500)`.
    pub fn describe(&self) -> String {
        match self {
            Layout::Pca => "pca".into(),
            Layout::Umap(u) => format!(
                "umap(n_neighbors={},min_dist={},n_epochs={})",
                u.neighbours, u.min_dist, u.epochs
            ),
            Layout::Tsne(t) => format!(
                "tsne(perplexity={},max_iter={},angle=0.5,init=pca)",
                t.perplexity, t.epochs
            ),
        }
    }
}

/// Squared Euclidean distance of two rows.
fn dist2(a: ArrayView1<'_, f32>, b: ArrayView1<'_, f32>) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The `k` nearest rows of every row of `x` (itself first, at distance 0),
/// exact, by brute force: indices and Euclidean distances, n × k. Ties
/// go to the lower index (deterministic).
pub fn nearest_neighbours(x: ArrayView2<'_, f32>, k: usize) -> (Array2<u32>, Array2<f32>) {
    use rayon::prelude::*;
    let (n, dims) = x.dim();
    let k = k.min(n);
    // Rows as plain slices: the distance loop is the whole cost.
    let data = x.as_standard_layout();
    let flat = data.as_slice().unwrap_or(&[]);
    let row = |i: usize| flat.get(i * dims..(i + 1) * dims).unwrap_or(&[]);
    let d2 =
        |a: &[f32], b: &[f32]| -> f32 { a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum() };
    let rows: Vec<Vec<(f32, u32)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let xi = row(i);
            // The k best so far, by distance then index, itself first.
            let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
            if k > 0 {
                best.push((0.0, i as u32));
            }
            for j in (0..n).filter(|&j| j != i) {
                let d = d2(xi, row(j));
                if best.len() == k && best.last().is_some_and(|w| d >= w.0) {
                    continue;
                }
                // After every entry not farther (self stays first; equal
                // distances keep the lower index first).
                let at =
                    best[1.min(best.len())..].partition_point(|b| b.0 <= d) + 1.min(best.len());
                best.insert(at, (d, j as u32));
                best.truncate(k);
            }
            best
        })
        .collect();
    let idx = Array2::from_shape_fn((n, k), |(i, j)| rows[i][j].1);
    let dist = Array2::from_shape_fn((n, k), |(i, j)| rows[i][j].0.sqrt());
    (idx, dist)
}

/// The gradient clip of umap-learn's layout optimiser.
fn clip(v: f32) -> f32 {
    v.clamp(-4.0, 4.0)
}

/// One epoch `epoch` of `epochs` of umap-learn's Euclidean layout SGD
/// (`optimize_layout_euclidean`, head and tail one array, move_other):
/// attraction along the graph's edges sampled by weight, repulsion from
/// `NEGATIVE_SAMPLE_RATE` random points per positive sample.
struct Sgd {
    head: Vec<usize>,
    tail: Vec<usize>,
    epochs_per_sample: Vec<f64>,
    next_sample: Vec<f64>,
    epochs_per_negative: Vec<f64>,
    next_negative: Vec<f64>,
    a: f32,
    b: f32,
    rng: Rng,
}

/// umap-learn's defaults.
const NEGATIVE_SAMPLE_RATE: f64 = 5.0;
const REPULSION_STRENGTH: f32 = 1.0;
const LEARNING_RATE: f32 = 1.0;

impl Sgd {
    fn new(edges: Vec<(usize, usize, f32)>, epochs: usize, a: f32, b: f32) -> Sgd {
        // umap-learn drops edges below max/epochs (never sampled).
        let max_w = edges.iter().map(|e| e.2).fold(0.0f32, f32::max);
        let keep: Vec<(usize, usize, f32)> = edges
            .into_iter()
            .filter(|e| e.2 > 0.0 && e.2 >= max_w / epochs as f32)
            .collect();
        let epochs_per_sample: Vec<f64> = keep
            .iter()
            .map(|e| f64::from(max_w) / f64::from(e.2))
            .collect();
        let epochs_per_negative: Vec<f64> = epochs_per_sample
            .iter()
            .map(|e| e / NEGATIVE_SAMPLE_RATE)
            .collect();
        Sgd {
            head: keep.iter().map(|e| e.0).collect(),
            tail: keep.iter().map(|e| e.1).collect(),
            next_sample: epochs_per_sample.clone(),
            next_negative: epochs_per_negative.clone(),
            epochs_per_sample,
            epochs_per_negative,
            a,
            b,
            rng: Rng(0x9E37_79B9_7F4A_7C15),
        }
    }

    fn epoch(&mut self, y: &mut [[f32; 2]], epoch: usize, epochs: usize) {
        let (a, b) = (self.a, self.b);
        let alpha = LEARNING_RATE * (1.0 - epoch as f32 / epochs as f32);
        let n = y.len();
        let now = epoch as f64;
        for i in 0..self.head.len() {
            if self.next_sample[i] > now {
                continue;
            }
            let (j, k) = (self.head[i], self.tail[i]);
            let d2 = (y[j][0] - y[k][0]).powi(2) + (y[j][1] - y[k][1]).powi(2);
            let gc = if d2 > 0.0 {
                let p = d2.powf(b);
                -2.0 * a * b * p / d2 / (a * p + 1.0)
            } else {
                0.0
            };
            let g = [0, 1].map(|d| clip(gc * (y[j][d] - y[k][d])) * alpha);
            for (d, g) in g.into_iter().enumerate() {
                y[j][d] += g;
                y[k][d] -= g;
            }
            self.next_sample[i] += self.epochs_per_sample[i];
            let n_neg =
                ((now - self.next_negative[i]) / self.epochs_per_negative[i]).max(0.0) as usize;
            for _ in 0..n_neg {
                let k = self.rng.below(n);
                if k == j {
                    continue;
                }
                let d2 = (y[j][0] - y[k][0]).powi(2) + (y[j][1] - y[k][1]).powi(2);
                if d2 <= 0.0 {
                    continue;
                }
                let gc = 2.0 * REPULSION_STRENGTH * b / ((0.001 + d2) * (a * d2.powf(b) + 1.0));
                let g = [0, 1].map(|d| clip(gc * (y[j][d] - y[k][d])) * alpha);
                y[j][0] += g[0];
                y[j][1] += g[1];
            }
            self.next_negative[i] += n_neg as f64 * self.epochs_per_negative[i];
        }
    }
}

/// The UMAP layout of the rows of `features` (n × d, the full space),
/// started from `init` (n points, the PCA layout). `progress(epoch,
/// epochs)` returning false cancels (then `None`). Errors (never panics)
/// on fewer than 3 or more than [`MAX_UMAP_POINTS`] points, a value that
/// is not finite, or options out of range.
pub fn umap_layout(
    features: ArrayView2<'_, f64>,
    init: &[(f64, f64)],
    o: &UmapOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<Vec<(f64, f64)>>, LatentError> {
    o.check()?;
    let n = features.nrows();
    let shape = |reason: String| LatentError::Shape {
        what: "UMAP layout",
        reason,
    };
    check_points(features, init, "UMAP layout")?;
    let x = features.mapv(|v| v as f32);
    // umap-rs needs fewer neighbours than points.
    let k = o.neighbours.min(n - 1);
    let (idx, dist) = nearest_neighbours(x.view(), k);
    // A start with no spread (all points equal along an axis) would be
    // normalised by zero: a tiny deterministic jitter keeps it finite.
    let start = Array2::from_shape_fn((n, 2), |(i, j)| {
        let v = if j == 0 { init[i].0 } else { init[i].1 };
        v as f32 + 1e-4 * (((i * (j + 7) * 2_654_435_761) % 1000) as f32 / 1000.0)
    });
    let config = umap_rs::UmapConfig {
        n_components: 2,
        manifold: umap_rs::ManifoldParams {
            min_dist: o.min_dist as f32,
            spread: 1.0,
            ..Default::default()
        },
        graph: umap_rs::GraphParams {
            n_neighbors: k,
            ..Default::default()
        },
        optimization: umap_rs::OptimizationParams {
            n_epochs: Some(o.epochs),
            ..Default::default()
        },
    };
    // Inputs are checked above; a panic inside umap-rs on anything else
    // becomes an error, not a crash of the app.
    let manifold = std::panic::catch_unwind(|| {
        umap_rs::Umap::new(config).learn_manifold(x.view(), idx.view(), dist.view())
    })
    .map_err(|_| shape("the UMAP graph failed on these points (umap-rs panicked)".into()))?;
    let (a, b) = manifold.curve_params();
    let mut edges = Vec::new();
    for (i, row) in manifold.graph().outer_iterator().enumerate() {
        for (j, w) in row.iter() {
            edges.push((i, j, *w));
        }
    }
    drop(manifold);
    // The start scaled to [0, 10] on each axis, as umap-learn does.
    let mut y: Vec<[f32; 2]> = vec![[0.0; 2]; n];
    for d in 0..2 {
        let v: Vec<f32> = (0..n).map(|i| start[(i, d)]).collect();
        let (lo, hi) = v
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), x| {
                (l.min(*x), h.max(*x))
            });
        let scale = if hi > lo { 10.0 / (hi - lo) } else { 0.0 };
        for i in 0..n {
            y[i][d] = (v[i] - lo) * scale;
        }
    }
    let epochs = o.epochs;
    let mut sgd = Sgd::new(edges, epochs, a, b);
    let chunk = (epochs / 50).max(1);
    for epoch in 0..epochs {
        if epoch % chunk == 0 && !progress(epoch, epochs) {
            return Ok(None);
        }
        sgd.epoch(&mut y, epoch, epochs);
    }
    progress(epochs, epochs);
    let emb = Array2::from_shape_fn((n, 2), |(i, d)| y[i][d]);
    let xy: Vec<(f64, f64)> = (0..n)
        .map(|i| (emb[(i, 0)] as f64, emb[(i, 1)] as f64))
        .collect();
    if xy.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return Err(LatentError::NotFinite("the UMAP layout"));
    }
    Ok(Some(xy))
}

/// The marker a cancelled t-SNE fit unwinds with (out of bhtsne's epoch
/// loop, which has no way to stop).
struct TsneCancelled;

/// The t-SNE layout of the rows of `features` (n × d, the full space),
/// started from `init` (n points, the PCA layout); progress and Cancel as
/// [`umap_layout`], and the same bounds on the points.
pub fn tsne_layout(
    features: ArrayView2<'_, f64>,
    init: &[(f64, f64)],
    o: &TsneOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<Vec<(f64, f64)>>, LatentError> {
    o.check()?;
    let (n, _) = features.dim();
    let shape = |reason: String| LatentError::Shape {
        what: "t-SNE layout",
        reason,
    };
    check_points(features, init, "t-SNE layout")?;
    let x = features.mapv(|v| v as f32);
    // Neighbours as scikit-learn takes them: 3·perplexity, fewer than n.
    let perplexity = o.perplexity.min((n - 1) as f64 / 3.0).max(1.0);
    let k = ((3.0 * perplexity).floor() as usize).clamp(1, n - 1);
    let (idx, dist) = nearest_neighbours(x.view(), k + 1);
    drop(x);
    // Distances in units of their median: the perplexity search starts at
    // a bandwidth of 1 and would underflow on spectra far apart.
    let mut all: Vec<f32> = dist.iter().copied().filter(|d| *d > 0.0).collect();
    let scale = if all.is_empty() {
        1.0
    } else {
        let mid = all.len() / 2;
        *all.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    drop(all);
    let neighbours: Vec<Vec<bhtsne::Neighbor<f32>>> = (0..n)
        .map(|i| {
            // Itself is first (distance 0): drop it, keep k others.
            (0..=k)
                .map(|j| (idx[(i, j)] as usize, dist[(i, j)]))
                .filter(|(j, _)| *j != i)
                .take(k)
                .map(|(index, d)| bhtsne::Neighbor {
                    index,
                    distance: d / scale,
                })
                .collect()
        })
        .collect();
    if neighbours.iter().any(|r| r.len() != k) {
        return Err(shape("a point without enough distinct neighbours".into()));
    }
    // scikit-learn's PCA start: the layout scaled to σ_x = 1e-4.
    let mean_x = init.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let mean_y = init.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sd = (init.iter().map(|p| (p.0 - mean_x).powi(2)).sum::<f64>() / n as f64).sqrt();
    let s = if sd > 0.0 { 1e-4 / sd } else { 1.0 };
    let start: Vec<f32> = init
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            // A start with no spread would put every point on one spot.
            let jitter = if sd > 0.0 {
                0.0
            } else {
                1e-4 * ((i * 2_654_435_761) % 1000) as f64 / 1000.0
            };
            [
                ((p.0 - mean_x) * s + jitter) as f32,
                ((p.1 - mean_y) * s) as f32,
            ]
        })
        .collect();
    let epochs = o.epochs;
    let chunk = (epochs / 50).max(1);
    let dummy: Vec<usize> = (0..n).collect();
    let fit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut t: bhtsne::tSNE<'_, f32, usize> = bhtsne::tSNE::new(&dummy);
        t.perplexity(perplexity as f32)
            .epochs(epochs)
            .initial_embedding(start)
            .epoch_callback(|epoch, _| {
                if epoch % chunk == 0 && !progress(epoch, epochs) {
                    // No panic hook runs for resume_unwind.
                    std::panic::resume_unwind(Box::new(TsneCancelled));
                }
            })
            .barnes_hut_with_neighbors(0.5, &neighbours);
        t.embedding()
    }));
    let emb = match fit {
        Ok(e) => e,
        Err(e) if e.is::<TsneCancelled>() => return Ok(None),
        Err(_) => {
            return Err(shape(
                "the t-SNE fit failed on these points (bhtsne panicked)".into(),
            ));
        }
    };
    progress(epochs, epochs);
    let xy: Vec<(f64, f64)> = emb
        .chunks_exact(2)
        .map(|p| (f64::from(p[0]), f64::from(p[1])))
        .collect();
    if xy.len() != n || xy.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return Err(LatentError::NotFinite("the t-SNE layout"));
    }
    Ok(Some(xy))
}

/// What a neighbour-graph layout needs of its points: 3 to
/// [`MAX_UMAP_POINTS`] of them, finite, one start each.
fn check_points(
    features: ArrayView2<'_, f64>,
    init: &[(f64, f64)],
    what: &'static str,
) -> Result<(), LatentError> {
    let (n, d) = features.dim();
    let shape = |reason: String| LatentError::Shape { what, reason };
    if n < 3 {
        return Err(shape(format!("{n} points: at least 3 are needed")));
    }
    if n > MAX_UMAP_POINTS {
        return Err(shape(format!(
            "{n} points: at most {MAX_UMAP_POINTS} (the neighbour search is exact); use the PCA layout"
        )));
    }
    if d == 0 || init.len() != n {
        return Err(shape(format!(
            "{n} points × {d} coordinates with {} starting positions",
            init.len()
        )));
    }
    if features.iter().any(|v| !v.is_finite())
        || init.iter().any(|p| !(p.0.is_finite() && p.1.is_finite()))
    {
        return Err(LatentError::NotFinite("the points to lay out"));
    }
    Ok(())
}

/// How faithfully a layout keeps neighbourhoods: for each point with
/// `true_nn[i]` (its k nearest in the full space, itself excluded), the
/// fraction of them among its k nearest on the map, averaged over points
/// (1: every neighbourhood kept; about k/n for a random layout).
pub fn neighbours_kept(true_nn: &[Vec<usize>], xy: &[(f64, f64)]) -> f64 {
    let n = xy.len().min(true_nn.len());
    if n == 0 {
        return 0.0;
    }
    let x = Array2::from_shape_fn((n, 2), |(i, j)| {
        (if j == 0 { xy[i].0 } else { xy[i].1 }) as f32
    });
    let mut total = 0.0;
    let mut counted = 0usize;
    for (i, want) in true_nn.iter().enumerate().take(n) {
        if want.is_empty() {
            continue;
        }
        let idx = nearest_neighbours_of(x.view(), i, want.len());
        let kept = want.iter().filter(|w| idx.contains(w)).count();
        total += kept as f64 / want.len() as f64;
        counted += 1;
    }
    if counted == 0 {
        0.0
    } else {
        total / counted as f64
    }
}

/// The `k` nearest rows of row `i` of `x`, itself excluded.
fn nearest_neighbours_of(x: ArrayView2<'_, f32>, i: usize, k: usize) -> Vec<usize> {
    let mut d: Vec<(f32, usize)> = (0..x.nrows())
        .filter(|&j| j != i)
        .map(|j| (dist2(x.row(i), x.row(j)), j))
        .collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d.truncate(k);
    d.into_iter().map(|(_, j)| j).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three tight clusters in 10-D, far apart; a start that mixes them.
    fn clusters() -> (Array2<f64>, Vec<(f64, f64)>) {
        let n = 90;
        let x = Array2::from_shape_fn((n, 10), |(i, j)| {
            let c = i / 30;
            let centre = if j == c { 10.0 } else { 0.0 };
            centre + 0.3 * (((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5)
        });
        let init = (0..n)
            .map(|i| ((i % 7) as f64, (i % 5) as f64 * 0.5))
            .collect();
        (x, init)
    }

    #[test]
    fn neighbours_are_exact_and_self_first() {
        let x = Array2::from_shape_vec((4, 1), vec![0.0f32, 1.0, 3.0, 3.5]).expect("shape");
        let (idx, dist) = nearest_neighbours(x.view(), 3);
        assert_eq!(idx.row(0).to_vec(), vec![0, 1, 2]);
        assert_eq!(idx.row(3).to_vec(), vec![3, 2, 1]);
        assert!((dist[(3, 2)] - 2.5).abs() < 1e-6);
        assert!((dist[(0, 1)] - 1.0).abs() < 1e-6);
    }

    type LayoutFn<'a> = &'a dyn Fn(
        ArrayView2<'_, f64>,
        &[(f64, f64)],
        &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Option<Vec<(f64, f64)>>, LatentError>;

    /// `lay_out` of [`clusters`] reports progress at least 50 times and
    /// puts every point's cluster-mates (k = 29: its whole cluster) nearest
    /// to it, where the start kept few; the layout.
    fn separates_clusters(lay_out: LayoutFn<'_>) -> Vec<(f64, f64)> {
        let (x, init) = clusters();
        let mut calls = 0;
        let xy = lay_out(x.view(), &init, &mut |_, _| {
            calls += 1;
            true
        })
        .expect("layout")
        .expect("not cancelled");
        assert!(calls >= 50, "progress reported {calls} times");
        let truth: Vec<Vec<usize>> = (0..90)
            .map(|i| (0..90).filter(|&j| j != i && j / 30 == i / 30).collect())
            .collect();
        let kept = neighbours_kept(&truth, &xy);
        assert!(kept > 0.99, "{kept}");
        assert!(neighbours_kept(&truth, &init) < 0.6);
        xy
    }

    /// Separated clusters come out separated, whatever the start.
    #[test]
    fn umap_separates_clusters() {
        let o = UmapOptions::default();
        let umap =
            |x: ArrayView2<'_, f64>, i: &[(f64, f64)], p: &mut dyn FnMut(usize, usize) -> bool| {
                umap_layout(x, i, &o, p)
            };
        let xy = separates_clusters(&umap);
        // Seeded: the same input gives the same layout.
        assert_eq!(separates_clusters(&umap), xy);
    }

    #[test]
    fn cancel_and_bad_input_are_answers_not_panics() {
        let (x, init) = clusters();
        let o = UmapOptions::default();
        assert_eq!(
            umap_layout(x.view(), &init, &o, &mut |done, _| done < 20).expect("ok"),
            None
        );
        // Too few points, a NaN, a start of the wrong length, bad options.
        let two = Array2::zeros((2, 3));
        assert!(umap_layout(two.view(), &init[..2], &o, &mut |_, _| true).is_err());
        // More points than the exact neighbour search takes: refused
        // before any distance is computed.
        let many = Array2::zeros((MAX_UMAP_POINTS + 1, 1));
        let start = vec![(0.0, 0.0); MAX_UMAP_POINTS + 1];
        let e = umap_layout(many.view(), &start, &o, &mut |_, _| true).expect_err("too many");
        assert!(e.to_string().contains("20000"), "{e}");
        let mut nan = x.clone();
        nan[(4, 2)] = f64::NAN;
        assert!(umap_layout(nan.view(), &init, &o, &mut |_, _| true).is_err());
        assert!(umap_layout(x.view(), &init[..10], &o, &mut |_, _| true).is_err());
        for bad in [
            UmapOptions { neighbours: 1, ..o },
            UmapOptions { min_dist: 2.0, ..o },
            UmapOptions { epochs: 0, ..o },
        ] {
            assert!(umap_layout(x.view(), &init, &bad, &mut |_, _| true).is_err());
        }
        // Identical points (no spread anywhere) still give a finite layout.
        let same = Array2::from_elem((20, 3), 1.0);
        let start = vec![(0.0, 0.0); 20];
        let xy = umap_layout(same.view(), &start, &o, &mut |_, _| true)
            .expect("layout")
            .expect("done");
        assert!(xy.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
    }

    /// t-SNE from a start that mixes the clusters: every point's
    /// cluster-mates are its nearest on the map; progress is reported;
    /// Cancel stops it; bad input and options are errors.
    #[test]
    fn tsne_separates_clusters_and_cancels() {
        let o = TsneOptions::default();
        separates_clusters(&|x, i, p| tsne_layout(x, i, &o, p));
        let (x, init) = clusters();
        // Cancel unwinds out of the fit as an answer, and a later fit runs.
        assert_eq!(
            tsne_layout(x.view(), &init, &o, &mut |done, _| done < 100).expect("ok"),
            None
        );
        let two = Array2::zeros((2, 3));
        assert!(tsne_layout(two.view(), &init[..2], &o, &mut |_, _| true).is_err());
        let mut nan = x.clone();
        nan[(4, 2)] = f64::NAN;
        assert!(tsne_layout(nan.view(), &init, &o, &mut |_, _| true).is_err());
        for bad in [
            TsneOptions {
                perplexity: 0.5,
                ..o
            },
            TsneOptions {
                perplexity: f64::NAN,
                ..o
            },
            TsneOptions { epochs: 100, ..o },
        ] {
            assert!(tsne_layout(x.view(), &init, &bad, &mut |_, _| true).is_err());
        }
        // Few or identical points: a finite layout, perplexity cut to fit.
        let same = Array2::from_elem((5, 3), 1.0);
        let start = vec![(0.0, 0.0); 5];
        let xy = tsne_layout(same.view(), &start, &o, &mut |_, _| true)
            .expect("layout")
            .expect("done");
        assert_eq!(xy.len(), 5);
        assert!(xy.iter().all(|p| p.0.is_finite() && p.1.is_finite()));
    }

    #[test]
    fn describe_names_the_parameters() {
        assert_eq!(Layout::Pca.describe(), "pca");
        assert_eq!(
            Layout::Umap(UmapOptions::default()).describe(),
            "umap(n_neighbors=15,min_dist=0.1,n_epochs=500)"
        );
        assert_eq!(
            Layout::Tsne(TsneOptions::default()).describe(),
            "tsne(perplexity=30,max_iter=1000,angle=0.5,init=pca)"
        );
    }
}
