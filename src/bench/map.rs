//! `carto bench map`: the latent space's speed targets on XRD profiles of
//! the real candidate library (../shared/data/cif, on the common Q grid):
//! train PCA on 10⁴ profiles, project 10⁵, rank 10⁴ candidates for one
//! pattern by cosine, lay out 10⁴ with UMAP and t-SNE — beside
//! scikit-learn / numpy / umap-learn doing the same on arrays of the same shape
//! (tools/bench_sklearn_latent.py) when Python has them.

use std::time::Instant;

use ndarray::Array2;
use serde::Serialize;

use super::{BenchOptions, data_root, median, reference_json};
use crate::latent::Pca;
use crate::latent::grid::{self, Profile, rank_by_cosine};

/// `carto bench map`.
#[derive(Debug, Clone, Serialize)]
pub struct MapBenchReport {
    pub build: &'static str,
    pub threads: usize,
    pub library_cifs: usize,
    pub grid_points: usize,
    /// PCA (20 components) of 10⁴ profiles, median s.
    pub pca_train_n: usize,
    pub pca_train_s: f64,
    /// Scores of 10⁵ profiles in a trained PCA, median s.
    pub project_n: usize,
    pub project_s: f64,
    /// Cosine ranking of 10⁴ candidates for one measured pattern, median ms.
    pub rank_candidates: usize,
    pub rank_ms: f64,
    /// Coordinates of 10⁵ profiles in a stage-1 joint model (fitted on
    /// the library's XRD views: whitened PCA, no second view), median s.
    pub joint_project_s: f64,
    pub joint_dims: usize,
    /// UMAP layout (exact 15 neighbours on 20 PCA scores, 500 epochs, the
    /// map's) of `umap_n` profiles: neighbour search, graph and layout, s.
    pub umap_n: usize,
    pub umap_s: f64,
    /// t-SNE layout (Barnes-Hut, perplexity 30, 1000 epochs, PCA start,
    /// the map's) of the same `umap_n` profiles, s.
    pub tsne_s: f64,
    pub sklearn: Option<serde_json::Value>,
    pub notes: Vec<String>,
}

impl MapBenchReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "carto bench map ({} build, {} threads; XRD profiles of {} library CIFs on {} Q points)\n\
             PCA train, {} profiles, 20 components: {:.3} s (target < 1 s)\n\
             project {} profiles: {:.3} s (target < 1 s)\n\
             rank {} candidates for one pattern: {:.2} ms (target < 10 ms)\n\
             project {} profiles into a joint model ({} dimensions): {:.3} s (target < 1 s)\n\
             UMAP layout of {} profiles (20 PCA scores, 15 neighbours, 500 epochs): {:.2} s\n\
             t-SNE layout of the same (perplexity 30, 1000 epochs, Barnes-Hut θ 0.5): {:.2} s\n",
            self.build,
            self.threads,
            self.library_cifs,
            self.grid_points,
            self.pca_train_n,
            self.pca_train_s,
            self.project_n,
            self.project_s,
            self.rank_candidates,
            self.rank_ms,
            self.project_n,
            self.joint_dims,
            self.joint_project_s,
            self.umap_n,
            self.umap_s,
            self.tsne_s
        );
        if let Some(v) = &self.sklearn {
            let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            s += &format!(
                "scikit-learn {} / numpy: PCA train {:.3} s ({:.1}× Carto's time), project {:.3} s ({:.1}×), rank {:.2} ms ({:.1}×)\n",
                v["version"].as_str().unwrap_or("?"),
                f("pca_train_s"),
                f("pca_train_s") / self.pca_train_s,
                f("project_s"),
                f("project_s") / self.project_s,
                f("rank_ms"),
                f("rank_ms") / self.rank_ms
            );
            if let Some(u) = v["umap_s"].as_f64() {
                s += &format!(
                    "umap-learn {}: UMAP layout {u:.2} s ({:.1}× Carto's time; its neighbours by NN-descent)\n",
                    v["umap_version"].as_str().unwrap_or("?"),
                    u / self.umap_s
                );
            }
            if let Some(t) = v["tsne_s"].as_f64() {
                s += &format!(
                    "scikit-learn TSNE: t-SNE layout {t:.2} s ({:.1}× Carto's time)\n",
                    t / self.tsne_s
                );
            }
        }
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// Row `i` of a set of `n` profiles made from the library's: a mixture of
/// two candidates (deterministic) — realistic spectra, any number of them.
fn mixture(lib: &[Profile], i: usize) -> impl Iterator<Item = f64> + '_ {
    let a = &lib[i % lib.len()];
    let b = &lib[(i * 7 + 3) % lib.len()];
    let w = (i % 10) as f64 / 10.0;
    (0..a.grid.n).map(move |p| (1.0 - w) * a.values[p] + w * b.values[p])
}

fn matrix(lib: &[Profile], n: usize, offset: usize) -> Array2<f64> {
    let f = lib[0].grid.n;
    let mut x = Array2::zeros((n, f));
    for (i, mut row) in x.rows_mut().into_iter().enumerate() {
        for (v, m) in row.iter_mut().zip(mixture(lib, i + offset)) {
            *v = m;
        }
    }
    x
}

pub fn bench_map(opts: &BenchOptions) -> Result<MapBenchReport, String> {
    let root = data_root(opts.data.as_deref())?;
    let (cands, _) =
        crate::xrd::identify::load_candidates(&root.join("cif")).map_err(|e| e.to_string())?;
    if cands.len() < 2 {
        return Err("fewer than 2 library CIFs".into());
    }
    let lib: Vec<Profile> = cands.iter().map(grid::xrd_candidate).collect();
    let f = lib[0].grid.n;
    let repeat = opts.repeat.clamp(1, 20);
    let mut notes = Vec::new();

    let (n_train, n_project, n_rank) = (10_000, 100_000, 10_000);
    let train = matrix(&lib, n_train, 0);
    let mut times = Vec::new();
    let mut pca = None;
    for _ in 0..repeat {
        let t = Instant::now();
        pca = Some(Pca::fit(train.view(), 20).map_err(|e| e.to_string())?);
        times.push(t.elapsed().as_secs_f64());
    }
    let pca_train_s = median(&mut times);
    let pca = pca.ok_or("no PCA")?;

    // UMAP of the training set's 20 PCA scores, from its first two (once:
    // it is seconds, and seeded).
    let umap_n = n_train;
    let scores = pca.transform(train.view()).map_err(|e| e.to_string())?;
    drop(train);
    let init: Vec<(f64, f64)> = (0..umap_n)
        .map(|i| (scores[(i, 0)], scores[(i, 1)]))
        .collect();
    let t = Instant::now();
    crate::latent::layout::umap_layout(
        scores.view(),
        &init,
        &crate::latent::UmapOptions::default(),
        &mut |_, _| true,
    )
    .map_err(|e| e.to_string())?;
    let umap_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    crate::latent::layout::tsne_layout(
        scores.view(),
        &init,
        &crate::latent::TsneOptions::default(),
        &mut |_, _| true,
    )
    .map_err(|e| e.to_string())?;
    let tsne_s = t.elapsed().as_secs_f64();
    drop(scores);

    // 10⁵ profiles in chunks of 10⁴ (800 MB at once would be the bench's,
    // not the method's, cost); the chunks are built outside the timing.
    let chunks: Vec<Array2<f64>> = (0..n_project / 10_000)
        .map(|c| matrix(&lib, 10_000, c * 10_000 + 1))
        .collect();
    let mut times = Vec::new();
    for _ in 0..repeat {
        use rayon::prelude::*;
        let t = Instant::now();
        let r: Result<Vec<_>, _> = chunks.par_iter().map(|x| pca.transform(x.view())).collect();
        r.map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64());
    }
    let project_s = median(&mut times);

    // The same chunks through a joint model trained on the library.
    let items: Vec<crate::latent::CandidateViews> = (cands.iter().zip(&lib))
        .map(|(c, p)| crate::latent::CandidateViews {
            id: c.id.clone(),
            file: c.id.clone().into(),
            name: c.name.clone(),
            formula: c.formula.clone(),
            elements: Vec::new(),
            views: vec![(crate::latent::ViewKey::Xrd, p.clone())],
        })
        .collect();
    let joint =
        crate::latent::JointModel::fit(&items, &Default::default()).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..repeat {
        use rayon::prelude::*;
        let t = Instant::now();
        let r: Result<Vec<_>, _> = chunks
            .par_iter()
            .map(|x| joint.transform_rows(crate::latent::ViewKey::Xrd, x.view()))
            .collect();
        r.map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64());
    }
    let joint_project_s = median(&mut times);
    drop(chunks);

    let many: Vec<Profile> = (0..n_rank)
        .map(|i| {
            let mut p = lib[i % lib.len()].clone();
            p.values = ndarray::Array1::from_iter(mixture(&lib, i));
            p
        })
        .collect();
    let quartz =
        crate::io::xrd::read_pattern(&root.join("xrd/quartz.xy")).map_err(|e| e.to_string())?;
    let measured = grid::xrd_measured(&quartz.two_theta_deg, &quartz.intensity, 1.54184)
        .map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for _ in 0..repeat.max(5) {
        let t = Instant::now();
        std::hint::black_box(rank_by_cosine(&measured, &many));
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let rank_ms = median(&mut times);

    let sklearn = match opts.python_or_env("CARTO_SKLEARN_PYTHON") {
        Some(py) => match reference_json(
            &py,
            "bench_sklearn_latent.py",
            &root,
            &[
                "--features",
                &f.to_string(),
                "--repeat",
                &repeat.to_string(),
            ],
        ) {
            Ok(v) => Some(v),
            Err(e) => {
                notes.push(format!("{e} (scikit-learn: see tools/README.md)"));
                None
            }
        },
        None => None,
    };
    Ok(MapBenchReport {
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        threads: rayon::current_num_threads(),
        library_cifs: lib.len(),
        grid_points: f,
        pca_train_n: n_train,
        pca_train_s,
        project_n: n_project,
        project_s,
        rank_candidates: n_rank,
        rank_ms,
        joint_project_s,
        joint_dims: joint.dims(),
        umap_n,
        umap_s,
        tsne_s,
        sklearn,
        notes,
    })
}
