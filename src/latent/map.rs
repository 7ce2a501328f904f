//! The map: measured spectra and patterns of every modality together with
//! candidate structures, in one space (stage 0: no training).
//!
//! Objective, stated: an item is described by how much it resembles each
//! landmark — the candidate structures (and, when measured items have
//! views no candidate has, such as XANES without simulated spectra, up to
//! [`MapOptions::max_landmarks`] measured items too). The resemblance of
//! two items is the mean cosine similarity over the views they share on
//! the common grids ([`super::grid`]), 0 when they share none; an XAS view
//! is shared only by items with the same absorber and edge, so a Cu K
//! spectrum is compared only with structures containing Cu. An XRD pattern
//! and an EXAFS spectrum thus land together when they resemble the same
//! structures, whatever their modality. The 2-D layout
//! ([`MapOptions::layout`]) is the first two principal components of the
//! landmarks' resemblance vectors, every item projected onto them
//! (landmark MDS; memory grows with landmarks², not items × landmarks), or
//! UMAP ([`super::layout`]) on the leading 16 of those components, started
//! from the PCA layout; ranking (`nearest`) uses the full cosine on the
//! grid, never the layout.

use serde::Serialize;

use super::candidates::{CandidateViews, ViewKey};
use super::grid::Profile;
use super::layout::{Layout, tsne_layout, umap_layout};
use super::pca::LatentError;

/// A measured spectrum or pattern on its grid.
#[derive(Debug, Clone)]
pub struct MeasuredView {
    /// What the user knows it by (file, or file:group).
    pub id: String,
    pub key: ViewKey,
    pub profile: Profile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PointKind {
    Measured,
    Candidate,
}

/// A candidate near a measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Near {
    /// Index into the candidates.
    #[serde(skip)]
    pub candidate: usize,
    /// The candidate's id (CIF file stem).
    pub cif: String,
    /// Cosine similarity on the measurement's grid (1: identical shape).
    pub score: f64,
}

/// A measurement a candidate explains best.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explains {
    #[serde(skip)]
    pub measured: usize,
    pub id: String,
    pub score: f64,
}

/// One point of the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapPoint {
    pub id: String,
    pub kind: PointKind,
    /// `xrd`, `exafs`, `xanes`; `structure` for a candidate.
    pub modality: String,
    /// The absorber of an XAS measurement (element symbol).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absorber: Option<&'static str>,
    pub x: f64,
    pub y: f64,
    /// For a measurement: its nearest candidates, best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nearest: Vec<Near>,
    /// For a candidate: the measurements whose best candidate it is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explains: Vec<Explains>,
    /// For a measurement: its cluster ([`cluster_measurements`]), when
    /// asked for; 0-based here, written from 1 (as the Map view shows it).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "one_based")]
    pub cluster: Option<usize>,
}

impl MapPoint {
    /// Measurement `m` at `xy` with its nearest candidates.
    pub fn measured(m: &MeasuredView, xy: (f64, f64), nearest: Vec<Near>) -> MapPoint {
        MapPoint {
            id: m.id.clone(),
            kind: PointKind::Measured,
            modality: m.key.modality().name().to_string(),
            absorber: m.key.absorber_z().map(crate::io::feff::element_symbol),
            x: xy.0,
            y: xy.1,
            nearest,
            explains: Vec::new(),
            cluster: None,
        }
    }

    /// Candidate `c` at `xy` with the measurements it explains.
    pub fn candidate(c: &CandidateViews, xy: (f64, f64), explains: Vec<Explains>) -> MapPoint {
        MapPoint {
            id: c.id.clone(),
            kind: PointKind::Candidate,
            modality: "structure".into(),
            absorber: None,
            x: xy.0,
            y: xy.1,
            nearest: Vec::new(),
            explains,
            cluster: None,
        }
    }
}

fn one_based<S: serde::Serializer>(c: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
    c.map(|c| c + 1).serialize(s)
}

/// Options of [`build_map`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapOptions {
    /// Nearest candidates kept per measurement.
    pub top: usize,
    /// Landmarks at most (candidates first, then measured items): the
    /// layout costs (points × landmarks) cosines.
    pub max_landmarks: usize,
    /// The 2-D layout drawn (ranking never uses it).
    pub layout: Layout,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            top: 5,
            max_landmarks: 2000,
            layout: Layout::Pca,
        }
    }
}

/// The map: measured points first (in input order), then candidates.
#[derive(Debug, Clone, Serialize)]
pub struct LatentMap {
    pub points: Vec<MapPoint>,
    /// Fraction of the landmarks' resemblance vectors' variance along the
    /// first two principal axes (the axes are fitted on the landmarks):
    /// x and y of a PCA layout, the start of a UMAP one.
    pub explained_variance_ratio: [f64; 2],
    pub landmarks: usize,
    /// What drew x and y ([`Layout::describe`]).
    pub layout: String,
}

/// Views of one item, by key.
type Views<'a> = Vec<(ViewKey, &'a Profile)>;

/// Mean cosine over shared views (0 when none is shared).
fn resemblance(a: &Views<'_>, b: &Views<'_>) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (ka, pa) in a {
        if let Some((_, pb)) = b.iter().find(|(kb, _)| kb == ka) {
            sum += pa.similarity(pb);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Candidates ranked by cosine on `m`'s view (only those having it), best
/// first, `top` of them.
pub fn nearest_candidates(m: &MeasuredView, cands: &[CandidateViews], top: usize) -> Vec<Near> {
    let mut r: Vec<Near> = cands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.view(m.key).map(|p| Near {
                candidate: i,
                cif: c.id.clone(),
                score: m.profile.similarity(p),
            })
        })
        .collect();
    r.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.candidate.cmp(&b.candidate))
    });
    r.truncate(top);
    r
}

/// The top `k` principal axes of the rows of `x` (n × d, centred), by
/// subspace iteration on XᵀX with a fixed start (deterministic); each axis
/// with the fraction of the total variance along it; at most `iterations`
/// steps.
fn top_axes(x: &[Vec<f64>], d: usize, k: usize, iterations: usize) -> (Vec<Vec<f64>>, Vec<f64>) {
    let total: f64 = x.iter().flatten().map(|v| v * v).sum();
    // XᵀX v, without forming XᵀX.
    let apply = |v: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; d];
        for row in x {
            let s: f64 = row.iter().zip(v).map(|(a, b)| a * b).sum();
            for (o, a) in out.iter_mut().zip(row) {
                *o += s * a;
            }
        }
        out
    };
    let mut q: Vec<Vec<f64>> = (0..k)
        .map(|j| {
            (0..d)
                .map(|i| (((i * (j + 3) * 2_654_435_761) % 1000) as f64 / 1000.0) - 0.5)
                .collect()
        })
        .collect();
    let orthonormalize = |q: &mut Vec<Vec<f64>>| {
        for j in 0..q.len() {
            for i in 0..j {
                let dot: f64 = q[j].iter().zip(&q[i]).map(|(a, b)| a * b).sum();
                let qi = q[i].clone();
                for (a, b) in q[j].iter_mut().zip(&qi) {
                    *a -= dot * b;
                }
            }
            let n = q[j].iter().map(|v| v * v).sum::<f64>().sqrt();
            if n > 0.0 {
                q[j].iter_mut().for_each(|v| *v /= n);
            }
        }
    };
    orthonormalize(&mut q);
    for _ in 0..iterations {
        let mut next: Vec<Vec<f64>> = q.iter().map(|v| apply(v)).collect();
        orthonormalize(&mut next);
        let change: f64 = next
            .iter()
            .zip(&q)
            .map(|(a, b)| 1.0 - a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>().abs())
            .sum();
        q = next;
        if change < 1e-12 {
            break;
        }
    }
    let ratios = q
        .iter()
        .map(|v| {
            let var: f64 = x
                .iter()
                .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum::<f64>().powi(2))
                .sum();
            if total > 0.0 { var / total } else { 0.0 }
        })
        .collect();
    // Signs fixed: the largest |loading| positive.
    for v in &mut q {
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |m, a| if a.abs() > m.abs() { a } else { m });
        if big < 0.0 {
            v.iter_mut().for_each(|a| *a = -*a);
        }
    }
    (q, ratios)
}

/// Principal axes a UMAP or t-SNE layout starts from: its full space (the
/// resemblance vectors' leading components, enough for neighbourhoods).
const UMAP_AXES: usize = 16;

/// The 2-D layout of points whose full-space coordinates are `features`
/// and PCA positions `xy` ([`MapOptions::layout`]); `None` when cancelled.
pub(crate) fn lay_out(
    layout: &Layout,
    features: &[Vec<f64>],
    xy: Vec<(f64, f64)>,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<Vec<(f64, f64)>>, LatentError> {
    match layout {
        Layout::Pca => Ok(Some(xy)),
        Layout::Umap(_) | Layout::Tsne(_) => {
            let d = features.first().map_or(0, Vec::len);
            if features.iter().any(|f| f.len() != d) {
                return Err(LatentError::Shape {
                    what: "map layout",
                    reason: "points of different dimensions".into(),
                });
            }
            let x = ndarray::Array2::from_shape_fn((features.len(), d), |(i, j)| features[i][j]);
            match layout {
                Layout::Tsne(t) => tsne_layout(x.view(), &xy, t, progress),
                Layout::Umap(u) => umap_layout(x.view(), &xy, u, progress),
                Layout::Pca => Ok(Some(xy)),
            }
        }
    }
}

/// The map of `measured` and `cands` (module doc). Errors when there is
/// nothing to place; `None` when `progress` (of a UMAP layout) cancels.
pub fn build_map(
    measured: &[MeasuredView],
    cands: &[CandidateViews],
    o: &MapOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<LatentMap>, LatentError> {
    use rayon::prelude::*;
    let n = measured.len() + cands.len();
    if n < 2 {
        return Err(LatentError::Shape {
            what: "map",
            reason: format!("{n} items: at least 2 are needed"),
        });
    }
    let views: Vec<Views<'_>> = measured
        .iter()
        .map(|m| vec![(m.key, &m.profile)])
        .chain(
            cands
                .iter()
                .map(|c| c.views.iter().map(|(k, p)| (*k, p)).collect()),
        )
        .collect();
    // Landmarks: candidates, then measured items whose view no candidate
    // has, evenly strided, up to the cap.
    let cap = o.max_landmarks.max(2);
    let mut landmarks: Vec<usize> = (measured.len()..n).take(cap).collect();
    let orphan: Vec<usize> = (0..measured.len())
        .filter(|&i| !cands.iter().any(|c| c.view(measured[i].key).is_some()))
        .collect();
    let room = cap.saturating_sub(landmarks.len());
    if room > 0 && !orphan.is_empty() {
        let stride = orphan.len().div_ceil(room).max(1);
        landmarks.extend(orphan.iter().step_by(stride).copied());
    }
    if landmarks.len() < 2 {
        // One candidate and no orphan: every item is its own landmark.
        landmarks = (0..n.min(cap)).collect();
    }
    let d = landmarks.len();
    // The axes are fitted on the landmarks' own rows (d × d, bounded by
    // the cap); every item is then projected from its row, one at a time,
    // so memory does not grow with items × landmarks.
    let row_of = |v: &Views<'_>| -> Vec<f64> {
        landmarks
            .iter()
            .map(|&l| resemblance(v, &views[l]))
            .collect()
    };
    let rows: Vec<Vec<f64>> = landmarks.par_iter().map(|&l| row_of(&views[l])).collect();
    let mut mean = vec![0.0; d];
    for r in &rows {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v / d as f64;
        }
    }
    let centre = |r: Vec<f64>| -> Vec<f64> { r.iter().zip(&mean).map(|(v, m)| v - m).collect() };
    let centred: Vec<Vec<f64>> = rows.into_iter().map(centre).collect();
    if centred.iter().flatten().any(|v| !v.is_finite()) {
        return Err(LatentError::NotFinite("the resemblance matrix"));
    }
    // A UMAP layout needs more axes (its full space); 60 steps of the
    // block iteration settle the leading ones well enough for neighbours.
    let (k, iterations) = match o.layout {
        Layout::Pca => (2, 200),
        Layout::Umap(_) | Layout::Tsne(_) => (UMAP_AXES, 60),
    };
    let (axes, ratios) = top_axes(&centred, d, k.min(d), iterations);
    drop(centred);
    let coord = |r: &[f64], j: usize| -> f64 {
        axes.get(j)
            .map_or(0.0, |a| r.iter().zip(a).map(|(x, y)| x * y).sum())
    };
    let features: Vec<Vec<f64>> = views
        .par_iter()
        .map(|v| {
            let r = centre(row_of(v));
            (0..k.min(d).max(2)).map(|j| coord(&r, j)).collect()
        })
        .collect();
    let pca_xy = features.iter().map(|f| (f[0], f[1])).collect();
    let Some(xy) = lay_out(&o.layout, &features, pca_xy, progress)? else {
        return Ok(None);
    };
    drop(features);
    let nearest: Vec<Vec<Near>> = measured
        .par_iter()
        .map(|m| nearest_candidates(m, cands, o.top))
        .collect();
    let mut explains: Vec<Vec<Explains>> = vec![Vec::new(); cands.len()];
    for (i, near) in nearest.iter().enumerate() {
        if let Some(best) = near.first() {
            explains[best.candidate].push(Explains {
                measured: i,
                id: measured[i].id.clone(),
                score: best.score,
            });
        }
    }
    let mut points = Vec::with_capacity(n);
    for (i, (m, near)) in measured.iter().zip(nearest).enumerate() {
        points.push(MapPoint::measured(m, xy[i], near));
    }
    for (j, (c, ex)) in cands.iter().zip(explains).enumerate() {
        points.push(MapPoint::candidate(c, xy[measured.len() + j], ex));
    }
    Ok(Some(LatentMap {
        points,
        explained_variance_ratio: [
            ratios.first().copied().unwrap_or(0.0),
            ratios.get(1).copied().unwrap_or(0.0),
        ],
        landmarks: d,
        layout: o.layout.describe(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latent::grid::EXAFS_K;
    use ndarray::Array1;

    fn profile(f: impl Fn(f64) -> f64) -> Profile {
        let g = EXAFS_K;
        Profile {
            grid: g,
            values: Array1::from_shape_fn(g.n, |i| f(g.x(i))),
            mask: vec![true; g.n],
        }
        .unit_norm()
    }

    fn cand(id: &str, z: u32, r: f64) -> CandidateViews {
        let key = ViewKey::Exafs {
            z,
            edge: super::super::candidates::EdgeKey::K,
        };
        CandidateViews {
            id: id.into(),
            file: id.into(),
            name: id.into(),
            formula: String::new(),
            elements: vec![z],
            views: vec![(key, profile(|k| (2.0 * k * r).sin()))],
        }
    }

    #[test]
    fn measurements_sit_by_the_structures_they_resemble() {
        let key = ViewKey::Exafs {
            z: 29,
            edge: super::super::candidates::EdgeKey::K,
        };
        let cands = vec![
            cand("a", 29, 2.0),
            cand("b", 29, 2.05),
            cand("c", 29, 3.0),
            cand("d", 29, 3.05),
            cand("fe", 26, 2.0),
        ];
        let measured = vec![
            MeasuredView {
                id: "m1".into(),
                key,
                profile: profile(|k| (2.0 * k * 2.01).sin() + 0.05 * (7.0 * k).cos()),
            },
            MeasuredView {
                id: "m2".into(),
                key,
                profile: profile(|k| (2.0 * k * 3.04).sin()),
            },
        ];
        let map = build_map(&measured, &cands, &MapOptions::default(), &mut |_, _| true)
            .expect("map")
            .expect("not cancelled");
        assert_eq!(map.points.len(), 7);
        // Nearest: only Cu candidates, the right one first.
        let n1: Vec<&str> = map.points[0]
            .nearest
            .iter()
            .map(|n| n.cif.as_str())
            .collect();
        assert_eq!(n1[..2], ["a", "b"]);
        assert!(!n1.contains(&"fe"));
        assert_eq!(map.points[1].nearest[0].cif, "d");
        assert_eq!(map.points[2].explains[0].id, "m1");
        // In the layout m1 is closer to a than to c, m2 closer to d than to a.
        let p = |i: usize| (map.points[i].x, map.points[i].y);
        let dist =
            |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        assert!(dist(p(0), p(2)) < dist(p(0), p(4)));
        assert!(dist(p(1), p(5)) < dist(p(1), p(2)));
        assert!(map.explained_variance_ratio[0] > 0.3);
        // Nothing to place: an error, not a panic.
        assert!(build_map(&[], &cands[..1], &MapOptions::default(), &mut |_, _| true).is_err());
    }

    /// Many measurements no candidate has a view for (orphans) become
    /// landmarks only up to the cap; every item is still placed.
    #[test]
    fn landmarks_stay_under_the_cap() {
        let key = ViewKey::Exafs {
            z: 26,
            edge: super::super::candidates::EdgeKey::K,
        };
        let measured: Vec<MeasuredView> = (0..3000)
            .map(|i| MeasuredView {
                id: format!("m{i}"),
                key,
                profile: profile(|k| (2.0 * k * (1.5 + i as f64 * 1e-3)).sin()),
            })
            .collect();
        let cands = vec![cand("cu", 29, 2.0)];
        let o = MapOptions {
            top: 1,
            max_landmarks: 50,
            layout: Layout::Pca,
        };
        let map = build_map(&measured, &cands, &o, &mut |_, _| true)
            .expect("map")
            .expect("not cancelled");
        assert_eq!(map.landmarks, 50);
        assert_eq!(map.points.len(), 3001);
        assert!(
            map.points
                .iter()
                .all(|p| p.x.is_finite() && p.y.is_finite())
        );
        // Neighbours in the series stay neighbours on the map.
        let p = |i: usize| (map.points[i].x, map.points[i].y);
        let dist =
            |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        assert!(dist(p(0), p(1)) < 0.1 * dist(p(0), p(1500)));
    }
}

/// Everything one map needs besides its inputs.
#[derive(Debug, Clone)]
pub struct MapRunOptions {
    pub map: MapOptions,
    /// Shells, σ² and S0² of the candidates' closed-form χ(k) (the edge is
    /// each measurement's).
    pub closed: crate::theory::closed::ClosedOptions,
    /// Simulated XANES views of the candidates, for the absorbers listed
    /// there and those of the XANES measurements; `None`: none (XANES
    /// measurements then meet measured landmarks only).
    pub xanes: Option<super::candidates::XanesLandmarks>,
    /// Measured standards' XANES, each for the candidate it names.
    pub standards: Vec<super::standards::StandardView>,
}

impl MapRunOptions {
    /// The candidates' views the measurements need: closed-form χ(k) for
    /// the EXAFS measurements' absorbers and `more_exafs`, XANES (when
    /// asked) for the XANES measurements' absorbers and those listed.
    pub fn candidate_options(
        &self,
        measured: &[MeasuredView],
        more_exafs: &[(u32, crate::theory::Edge)],
    ) -> super::candidates::CandidateOptions {
        let of = |want: fn(ViewKey) -> Option<(u32, super::candidates::EdgeKey)>,
                  more: &[(u32, crate::theory::Edge)]| {
            let mut v: Vec<(u32, crate::theory::Edge)> = (measured.iter())
                .filter_map(|m| want(m.key))
                .map(|(z, e)| (z, e.into()))
                .chain(more.iter().copied())
                .collect();
            v.sort_by_key(|&(z, e)| (z, e.as_str()));
            v.dedup();
            v
        };
        let exafs = |k: ViewKey| match k {
            ViewKey::Exafs { z, edge } => Some((z, edge)),
            _ => None,
        };
        let xanes = |k: ViewKey| match k {
            ViewKey::Xanes { z, edge } => Some((z, edge)),
            _ => None,
        };
        super::candidates::CandidateOptions {
            absorbers: of(exafs, more_exafs),
            closed: self.closed.clone(),
            xanes: self
                .xanes
                .as_ref()
                .map(|x| super::candidates::XanesLandmarks {
                    absorbers: of(xanes, &x.absorbers),
                    ..x.clone()
                }),
            standards: self.standards.clone(),
        }
    }
}

/// σ² (Å²) of every shell of the candidates' closed-form χ(k) on the map:
/// a room-temperature first shell's order of magnitude.
pub const MAP_SIGMA2_ANG2: f64 = 0.005;

impl Default for MapRunOptions {
    fn default() -> Self {
        MapRunOptions {
            map: MapOptions::default(),
            closed: crate::theory::closed::ClosedOptions {
                sigma2_ang2: MAP_SIGMA2_ANG2,
                ..Default::default()
            },
            xanes: None,
            standards: Vec::new(),
        }
    }
}

/// A map and the candidates it was made with.
#[derive(Debug, Clone)]
pub struct MapRun {
    pub map: LatentMap,
    pub candidates: super::candidates::CandidateSet,
    pub measured: Vec<MeasuredView>,
    /// refeff runs made for pair tables not yet cached.
    pub pair_tables_computed: usize,
}

/// The one map operation (CLI and GUI): the candidates' views the
/// measurements need ([`MapRunOptions::candidate_options`]), then
/// [`build_map`].
/// `progress(done, total)` returning false cancels (then `None`).
pub fn run_map(
    measured: Vec<MeasuredView>,
    structures: Vec<(
        std::path::PathBuf,
        Result<crate::structure::Structure, String>,
    )>,
    o: &MapRunOptions,
    lib: &mut crate::theory::closed::PairLibrary,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<MapRun>, String> {
    let co = o.candidate_options(&measured, &[]);
    let computed_before = lib.computed;
    let Some(candidates) = super::candidates::candidates_of(structures, &co, lib, progress)? else {
        return Ok(None);
    };
    let Some(map) =
        build_map(&measured, &candidates.items, &o.map, progress).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    Ok(Some(MapRun {
        map,
        candidates,
        measured,
        pair_tables_computed: lib.computed - computed_before,
    }))
}

/// k-means of 2-D points (Lloyd's algorithm from a farthest-point start:
/// deterministic, the first point then each next the farthest from those
/// chosen); the cluster of each point. `k` is capped at the number of
/// points; 0 points give none.
pub fn kmeans(points: &[[f64; 2]], k: usize) -> Vec<usize> {
    let n = points.len();
    let k = k.min(n);
    if k == 0 {
        return vec![0; n];
    }
    let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut centres = vec![points[0]];
    while centres.len() < k {
        let far = (0..n)
            .max_by(|&a, &b| {
                let da = centres
                    .iter()
                    .map(|&c| d2(points[a], c))
                    .fold(f64::INFINITY, f64::min);
                let db = centres
                    .iter()
                    .map(|&c| d2(points[b], c))
                    .fold(f64::INFINITY, f64::min);
                da.total_cmp(&db)
            })
            .unwrap_or(0);
        centres.push(points[far]);
    }
    let mut label = vec![0usize; n];
    for _ in 0..100 {
        let mut changed = false;
        for (i, p) in points.iter().enumerate() {
            let best = (0..k)
                .min_by(|&a, &b| d2(*p, centres[a]).total_cmp(&d2(*p, centres[b])))
                .unwrap_or(0);
            if best != label[i] {
                label[i] = best;
                changed = true;
            }
        }
        for (c, centre) in centres.iter_mut().enumerate() {
            let members: Vec<&[f64; 2]> = (points.iter().zip(&label))
                .filter(|(_, l)| **l == c)
                .map(|(p, _)| p)
                .collect();
            if !members.is_empty() {
                let m = members.len() as f64;
                *centre = [
                    members.iter().map(|p| p[0]).sum::<f64>() / m,
                    members.iter().map(|p| p[1]).sum::<f64>() / m,
                ];
            }
        }
        if !changed {
            break;
        }
    }
    label
}

/// The cluster of every point of `map`: k-means of the measurements on
/// their map coordinates into `k` groups (candidates: None).
pub fn measurement_clusters(map: &LatentMap, k: usize) -> Vec<Option<usize>> {
    let measured = |p: &MapPoint| p.kind == PointKind::Measured;
    let pts: Vec<[f64; 2]> = (map.points.iter())
        .filter(|p| measured(p))
        .map(|p| [p.x, p.y])
        .collect();
    let mut labels = kmeans(&pts, k).into_iter();
    (map.points.iter())
        .map(|p| if measured(p) { labels.next() } else { None })
        .collect()
}

/// [`measurement_clusters`] written into each point's `cluster`.
pub fn cluster_measurements(map: &mut LatentMap, k: usize) {
    let labels = measurement_clusters(map, k);
    for (p, l) in map.points.iter_mut().zip(labels) {
        p.cluster = l;
    }
}

/// What colours the map's measurements (candidates are always grey
/// diamonds, "structures").
#[derive(Debug, Clone, Copy)]
pub enum MapColour<'a> {
    /// XRD, EXAFS, XANES ([`crate::svg::modality_rgb`]).
    Modality,
    /// `labels[i]` is point i's cluster, named `names[c]` (else "cluster c+1").
    Cluster {
        labels: &'a [Option<usize>],
        names: &'a [String],
    },
    /// A value per point (a feature column), in [`VALUE_BINS`] equal bins
    /// on a sequential scale; points without one are "no NAME".
    Values {
        name: &'a str,
        values: &'a [Option<f64>],
    },
}

/// Bins of [`MapColour::Values`] (each a legend entry).
pub const VALUE_BINS: usize = 6;

/// The map's points as scatter series (one per legend entry, in order of
/// first appearance, structures last), for the Map view and the SVG export.
pub fn map_series(
    map: &LatentMap,
    colour: MapColour<'_>,
    hide_candidates: bool,
) -> Vec<crate::svg::ScatterSeries> {
    use crate::svg::{
        CANDIDATE_RGB, Marker, ScatterSeries, TABLEAU10, modality_rgb, sequential_rgb,
    };
    let range = match colour {
        MapColour::Values { values, .. } => {
            let v = values.iter().flatten().copied().filter(|v| v.is_finite());
            let r = crate::svg::range_of(v);
            Some(r)
        }
        _ => None,
    };
    let mut out: Vec<ScatterSeries> = Vec::new();
    let mut structures = ScatterSeries {
        name: "structures".into(),
        rgb: CANDIDATE_RGB,
        marker: Marker::Diamond,
        points: Vec::new(),
    };
    // Each point's series by a cheap key (modality index, cluster or value
    // bin); a series' name and colour are made once, when it starts (a map
    // can hold 10⁵ points, redrawn every frame).
    let mut bins: Vec<(usize, usize, ScatterSeries)> = Vec::new();
    let mut modalities: Vec<&str> = Vec::new();
    for (i, p) in map.points.iter().enumerate() {
        if p.kind == PointKind::Candidate {
            if !hide_candidates {
                structures.points.push([p.x, p.y]);
            }
            continue;
        }
        let key = match colour {
            MapColour::Modality => match (p.modality.as_str(), modalities.as_slice()) {
                // The last modality seen, else a search of the few there are.
                (m, [.., last]) if m == *last => modalities.len() - 1,
                (m, _) => match modalities.iter().position(|x| *x == m) {
                    Some(k) => k,
                    None => {
                        modalities.push(m);
                        modalities.len() - 1
                    }
                },
            },
            MapColour::Cluster { labels, .. } => {
                labels.get(i).copied().flatten().unwrap_or(usize::MAX)
            }
            MapColour::Values { values, .. } => {
                let (lo, hi) = range.unwrap_or((0.0, 1.0));
                match values.get(i).copied().flatten().filter(|v| v.is_finite()) {
                    Some(v) => {
                        let w = (hi - lo) / VALUE_BINS as f64;
                        (((v - lo) / w) as usize).min(VALUE_BINS - 1)
                    }
                    None => usize::MAX,
                }
            }
        };
        if let Some(b) = bins.iter_mut().find(|b| b.0 == key) {
            b.2.points.push([p.x, p.y]);
            continue;
        }
        let (order, name, rgb) = match colour {
            MapColour::Modality => (0, p.modality.to_uppercase(), modality_rgb(&p.modality)),
            MapColour::Cluster { names, .. } => match key {
                usize::MAX => (usize::MAX, "no cluster".into(), [200, 200, 200]),
                c => (
                    c,
                    names
                        .get(c)
                        .filter(|n| !n.trim().is_empty())
                        .cloned()
                        .unwrap_or_else(|| format!("cluster {}", c + 1)),
                    TABLEAU10[c % TABLEAU10.len()],
                ),
            },
            MapColour::Values { name, .. } => match key {
                usize::MAX => (usize::MAX, format!("no {name}"), [200, 200, 200]),
                b => {
                    let (lo, hi) = range.unwrap_or((0.0, 1.0));
                    let w = (hi - lo) / VALUE_BINS as f64;
                    let (a, z) = (lo + b as f64 * w, lo + (b + 1) as f64 * w);
                    (
                        b,
                        format!(
                            "{name} {} – {}",
                            crate::svg::fmt_tick(a),
                            crate::svg::fmt_tick(z)
                        ),
                        sequential_rgb((b as f64 + 0.5) / VALUE_BINS as f64),
                    )
                }
            },
        };
        bins.push((
            key,
            order,
            ScatterSeries {
                name,
                rgb,
                marker: Marker::Circle,
                points: vec![[p.x, p.y]],
            },
        ));
    }
    // Clusters and value bins in their order; modalities as they come.
    bins.sort_by_key(|b| b.1);
    out.extend(bins.into_iter().map(|b| b.2));
    if !structures.points.is_empty() {
        out.push(structures);
    }
    out
}

/// The centroid of one cluster for one kind of view: the mean profile of
/// the cluster's measurements that have that view, point by point over
/// the members covering it (masked where none does).
#[derive(Debug, Clone, PartialEq)]
pub struct Centroid {
    pub cluster: usize,
    pub key: ViewKey,
    /// Members averaged.
    pub members: usize,
    pub profile: Profile,
}

/// The centroids of `labels`' clusters (one per cluster and view key,
/// ordered by cluster then by first appearance of the key). `labels[i]`
/// is the cluster of `measured[i]` (None: in no cluster).
pub fn cluster_centroids(measured: &[MeasuredView], labels: &[Option<usize>]) -> Vec<Centroid> {
    // (cluster, key, members, sums, counts per point, grid)
    type Acc = (
        usize,
        ViewKey,
        usize,
        Vec<f64>,
        Vec<usize>,
        super::grid::GridSpec,
    );
    let mut acc: Vec<Acc> = Vec::new();
    for (m, l) in measured.iter().zip(labels) {
        let Some(c) = *l else { continue };
        let g = m.profile.grid;
        let slot = match acc.iter().position(|a| a.0 == c && a.1 == m.key) {
            Some(i) => i,
            None => {
                acc.push((c, m.key, 0, vec![0.0; g.n], vec![0; g.n], g));
                acc.len() - 1
            }
        };
        let a = &mut acc[slot];
        a.2 += 1;
        for j in 0..g.n.min(a.3.len()) {
            if m.profile.mask[j] {
                a.3[j] += m.profile.values[j];
                a.4[j] += 1;
            }
        }
    }
    acc.sort_by_key(|a| a.0);
    acc.into_iter()
        .map(|(cluster, key, members, sum, count, grid)| Centroid {
            cluster,
            key,
            members,
            profile: Profile {
                grid,
                values: sum
                    .iter()
                    .zip(&count)
                    .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
                    .collect(),
                mask: count.iter().map(|&c| c > 0).collect(),
            },
        })
        .collect()
}

#[cfg(test)]
mod kmeans_tests {
    use super::kmeans;

    #[test]
    fn series_colour_by_modality_cluster_or_value() {
        use super::{LatentMap, MapColour, MapPoint, PointKind, map_series};
        let pt = |id: &str, kind, modality: &str, x: f64| MapPoint {
            id: id.into(),
            kind,
            modality: modality.into(),
            absorber: None,
            x,
            y: 0.0,
            nearest: Vec::new(),
            explains: Vec::new(),
            cluster: None,
        };
        let map = LatentMap {
            points: vec![
                pt("a", PointKind::Measured, "xrd", 0.0),
                pt("b", PointKind::Measured, "exafs", 1.0),
                pt("c", PointKind::Measured, "xrd", 2.0),
                pt("s", PointKind::Candidate, "structure", 3.0),
            ],
            explained_variance_ratio: [0.5, 0.5],
            landmarks: 1,
            layout: "pca".into(),
        };
        let names = |s: &[crate::svg::ScatterSeries]| -> Vec<String> {
            s.iter()
                .map(|x| format!("{}:{}", x.name, x.points.len()))
                .collect()
        };
        let s = map_series(&map, MapColour::Modality, false);
        assert_eq!(names(&s), ["XRD:2", "EXAFS:1", "structures:1"]);
        assert_eq!(map_series(&map, MapColour::Modality, true).len(), 2);
        let labels = [Some(1), Some(0), Some(1), None];
        let n = ["".to_string(), "hematite-like".to_string()];
        let s = map_series(
            &map,
            MapColour::Cluster {
                labels: &labels,
                names: &n,
            },
            true,
        );
        assert_eq!(names(&s), ["cluster 1:1", "hematite-like:2"]);
        let v = [Some(8979.0), None, Some(8991.0), None];
        let s = map_series(
            &map,
            MapColour::Values {
                name: "e0_ev",
                values: &v,
            },
            true,
        );
        assert_eq!(
            names(&s),
            ["e0_ev 8979 – 8981:1", "e0_ev 8989 – 8991:1", "no e0_ev:1"]
        );
        assert_ne!(s[0].rgb, s[1].rgb);
    }

    #[test]
    fn centroids_average_members_where_they_cover_the_grid() {
        use super::{MeasuredView, Profile, ViewKey, cluster_centroids};
        use crate::latent::grid::EXAFS_K;
        let g = EXAFS_K;
        let view = |v: f64, covered: usize| MeasuredView {
            id: format!("{v}"),
            key: ViewKey::Xrd,
            profile: Profile {
                grid: g,
                values: (0..g.n)
                    .map(|j| if j < covered { v } else { 0.0 })
                    .collect(),
                mask: (0..g.n).map(|j| j < covered).collect(),
            },
        };
        let ms = [view(1.0, g.n), view(3.0, 10), view(7.0, g.n)];
        let c = cluster_centroids(&ms, &[Some(1), Some(1), Some(0)]);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].cluster, c[0].members), (0, 1));
        assert_eq!((c[1].cluster, c[1].members), (1, 2));
        // Where both members cover the grid: their mean; beyond the
        // second's range: the first alone (not halved by a zero).
        assert!((c[1].profile.values[0] - 2.0).abs() < 1e-12);
        assert!((c[1].profile.values[g.n - 1] - 1.0).abs() < 1e-12);
        assert!(c[1].profile.mask.iter().all(|m| *m));
        assert!((c[0].profile.values[5] - 7.0).abs() < 1e-12);
        // No labels, no centroids.
        assert!(cluster_centroids(&ms, &[None, None, None]).is_empty());
    }

    #[test]
    fn two_blobs_are_two_clusters() {
        let pts = [
            [0.0, 0.0],
            [0.1, 0.0],
            [0.0, 0.1],
            [5.0, 5.0],
            [5.1, 5.0],
            [5.0, 5.2],
        ];
        let l = kmeans(&pts, 2);
        assert_eq!(l[0], l[1]);
        assert_eq!(l[1], l[2]);
        assert_eq!(l[3], l[4]);
        assert_ne!(l[0], l[3]);
        assert_eq!(kmeans(&pts, 10).len(), 6);
        assert!(kmeans(&[], 3).is_empty());
    }
}

/// Whether `p` lies inside the closed polygon `poly` (even–odd rule; the
/// last vertex joins the first).
pub fn inside_polygon(p: [f64; 2], poly: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let n = poly.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (poly[i], poly[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod lasso_tests {
    use super::inside_polygon;

    #[test]
    fn an_l_shaped_lasso_holds_its_corner_not_its_notch() {
        let l = [
            [0.0, 0.0],
            [2.0, 0.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [1.0, 2.0],
            [0.0, 2.0],
        ];
        assert!(inside_polygon([0.5, 0.5], &l));
        assert!(inside_polygon([0.5, 1.5], &l));
        assert!(inside_polygon([1.5, 0.5], &l));
        assert!(!inside_polygon([1.5, 1.5], &l));
        assert!(!inside_polygon([3.0, 0.5], &l));
        assert!(!inside_polygon([0.5, 0.5], &l[..2]));
    }
}
