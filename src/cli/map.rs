//! `carto map INPUT... --candidates DIR`: measured patterns and spectra of
//! every modality with the candidate structures of a folder on one map
//! (the latent space's stage 0: [`carto::latent::map`]), each measurement
//! with its nearest candidates. `--train FILE` fits stage 1 (a joint
//! model, [`carto::latent::joint`]) on the candidates and saves it;
//! `--model FILE` ranks and lays out in a saved one. Without either, stage
//! 0 ranks (it wins on the measured data: tests/latent.rs).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use carto::latent::candidates::read_structures;
use carto::latent::joint::{JointModel, JointOptions, Ranking, Stage, run_staged_map};
use carto::latent::map::MapRunOptions;
use carto::latent::{
    LatentMap, Layout, MapOptions, MeasuredOptions, TsneOptions, UmapOptions, measured_views,
};
use carto::theory::closed::{ClosedOptions, PairLibrary};
use carto::xas::ChainOptions;
use carto::xrd::identify::candidate_files;

use super::batch::expand_inputs;
use super::{emit, print_json};

#[derive(Debug, Args)]
pub struct MapArgs {
    /// Measured files, folders and globs (patterns, μ(E), χ(k), Athena projects).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Folder of candidate CIFs (and its sub-folders one level down).
    #[arg(long, value_name = "DIR")]
    pub candidates: PathBuf,
    /// Nearest candidates listed per measurement.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Wavelength for patterns whose file gives none (Å, or a name: CuKa, MoKa1…).
    #[arg(long)]
    pub wavelength: Option<String>,
    /// Shells of the candidates' closed-form χ(k) out to this distance (Å).
    #[arg(long, default_value_t = 5.0)]
    pub rmax: f64,
    /// σ² of every shell of the candidates' χ(k) (Å²).
    #[arg(long, default_value_t = carto::latent::map::MAP_SIGMA2_ANG2)]
    pub sigma2: f64,
    /// The XAS chain (`carto xas`'s options).
    #[command(flatten)]
    pub chain: ChainOptions,
    /// Group the measurements into this many clusters (k-means on the map; 0: none).
    #[arg(long, default_value_t = 0)]
    pub clusters: usize,
    /// Also write the map as a table (.csv or .parquet): id, kind, modality, absorber,
    /// map_x, map_y and the 3 nearest candidates with scores, one row per point.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the feature table of the measurements (.csv or .parquet: `carto batch`'s
    /// columns with this chain and wavelength) with their map columns (map_x, map_y,
    /// map_cluster, map_nearest_cif…).
    #[arg(long, value_name = "FILE")]
    pub features: Option<PathBuf>,
    /// Also draw the map as an SVG file (coloured by cluster with --clusters, else by modality).
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Rank and lay out in a saved stage-1 joint model (`--train`'s file)
    /// instead of stage 0's cosine on the grid.
    #[arg(long, value_name = "FILE", conflicts_with = "train")]
    pub model: Option<PathBuf>,
    /// Fit a stage-1 joint model on the candidates (whitened PCA per view,
    /// ridge CCA across views), save it here, and rank and lay out with it.
    #[arg(long, value_name = "FILE")]
    pub train: Option<PathBuf>,
    /// With --train: absorbers whose closed-form χ(k) the model learns
    /// besides the EXAFS measurements' own (Fe, Cu, Sn:L3 …).
    #[arg(long, value_delimiter = ',', requires = "train")]
    pub absorbers: Vec<String>,
    /// With --train: the CCA's ridge (× the mean variance of a view's
    /// scores); default: chosen by cross-validation on the candidates.
    #[arg(long, requires = "train")]
    pub ridge: Option<f64>,
    /// The 2-D layout: `pca` (the first two principal axes; deterministic),
    /// `umap` (keeps neighbourhoods; at most 20,000 points; deterministic)
    /// or `tsne` (Barnes-Hut t-SNE from the PCA start; at most 20,000
    /// points). Ranking never uses the layout.
    #[arg(long, default_value = "pca", value_parser = ["pca", "umap", "tsne"])]
    pub layout: String,
    /// With --layout umap: neighbours per point (umap-learn's n_neighbors, 2–200).
    #[arg(long, default_value_t = 15)]
    pub neighbours: usize,
    /// With --layout umap: closest spacing on the map (umap-learn's min_dist, 0–1).
    #[arg(long, default_value_t = 0.1)]
    pub min_dist: f64,
    /// With --layout tsne: effective neighbours (scikit-learn's perplexity, 2–100).
    #[arg(long, default_value_t = 30.0)]
    pub perplexity: f64,
    /// With --layout umap or tsne: optimisation epochs (UMAP 1–10000,
    /// default 500; t-SNE 250–10000, default 1000).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Place every μ(E) by its XANES (normalized μ on E − e0, −20 to +60 eV)
    /// instead of its EXAFS, also scans long enough for EXAFS.
    #[arg(long)]
    pub xanes: bool,
    /// Give candidates their simulated XANES (refeff, `carto theory --xanes`'s
    /// defaults, averaged over inequivalent sites; 20–60 s a site the first
    /// time, then read from the cache) for these absorbers (Cu, Fe:K …) and
    /// those of the XANES measurements; alone: the measurements' only.
    #[arg(long, value_name = "EL[:EDGE],…", num_args = 0.., value_delimiter = ',')]
    pub xanes_theory: Option<Vec<String>>,
    /// With --xanes-theory: inequivalent absorber sites simulated per
    /// structure, the most populous first (1–24).
    #[arg(long, default_value_t = 3, requires = "xanes_theory")]
    pub xanes_sites: usize,
    /// Measured standards as candidates' XANES: a TOML file of
    /// [[standard]] entries (spectrum, group, cif: README).
    #[arg(long, value_name = "FILE")]
    pub xanes_standards: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Absorbers given as `EL` or `EL:EDGE` (`flag` names them in errors).
fn parse_absorbers(list: &[String], flag: &str) -> Result<Vec<(u32, carto::theory::Edge)>> {
    list.iter()
        .map(|s| {
            let (sym, edge) = match s.split_once(':') {
                Some((a, b)) => (a, Some(b)),
                None => (s.as_str(), None),
            };
            let (z, e) = carto::latent::measured::absorber_of(Some(sym), edge)
                .with_context(|| format!("{flag} {s}: not an element (and edge K, L1, L2, L3)"))?;
            Ok((z, e.into()))
        })
        .collect()
}

/// A progress line on stderr when it is a terminal (the candidates'
/// simulated XANES take minutes the first time).
fn progress_line() -> impl FnMut(usize, usize) -> bool {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut last = Instant::now();
    move |done, total| {
        if tty && (last.elapsed().as_millis() > 500 || done == total) {
            last = Instant::now();
            eprint!("\rcandidates {done}/{total}   ");
            if done == total {
                eprintln!();
            }
        }
        true
    }
}

impl MapArgs {
    /// The layout the flags ask for, checked before any work.
    fn layout(&self) -> Result<Layout> {
        Ok(match self.layout.as_str() {
            "umap" => {
                let u = UmapOptions {
                    neighbours: self.neighbours,
                    min_dist: self.min_dist,
                    epochs: self.epochs.unwrap_or(UmapOptions::default().epochs),
                };
                u.check().context("--neighbours/--min-dist/--epochs")?;
                Layout::Umap(u)
            }
            "tsne" => {
                let t = TsneOptions {
                    perplexity: self.perplexity,
                    epochs: self.epochs.unwrap_or(TsneOptions::default().epochs),
                };
                t.check().context("--perplexity/--epochs")?;
                Layout::Tsne(t)
            }
            _ => Layout::Pca,
        })
    }
}

/// The joint model of a stage-1 map, as the JSON reports it.
#[derive(Serialize)]
struct ModelOut {
    /// The file read (--model) or written (--train).
    file: String,
    trained: bool,
    views: Vec<String>,
    dims: usize,
    rho: Vec<f64>,
    ridge: f64,
    anchors: usize,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct MapOut {
    /// Which stage ranked and laid out the map (`stage0`: cosine on the
    /// grid; `stage1`: the joint model).
    stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<ModelOut>,
    #[serde(flatten)]
    map: LatentMap,
    candidates: usize,
    /// Measurements or candidates left out, with the reason.
    skipped: Vec<String>,
    pair_tables_computed: usize,
    /// refeff XANES runs made for candidates (not found in the cache).
    xanes_computed: usize,
    /// Candidates' XANES views: simulated ones kept, and from standards.
    xanes_views: usize,
    /// What was done other than asked (XANES of some sites only …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    seconds: f64,
    /// The files written (--out, --features, --svg).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    written: Vec<String>,
    /// What made the map (the feature table's map_method).
    method: String,
}

/// The measured views of `inputs` (files, as `expand_inputs` lists them;
/// read in parallel) with the chain and `--wavelength`, XANES views of every μ(E)
/// with `xanes`, and the reasons for the spectra that have none (`carto
/// map`, `carto pls`).
pub(super) fn measured_of(
    inputs: &[PathBuf],
    wavelength: Option<&str>,
    chain: &ChainOptions,
    xanes: bool,
) -> Result<(Vec<carto::latent::MeasuredView>, Vec<String>)> {
    use rayon::prelude::*;
    let wavelength_ang = match wavelength {
        Some(w) => {
            Some(carto::xrd::parse_wavelength(w).with_context(|| format!("--wavelength {w}"))?)
        }
        None => None,
    };
    let mo = MeasuredOptions {
        chain: chain.chain_params(),
        wavelength_ang,
        xanes,
    };
    let mut measured = Vec::new();
    let mut skipped = Vec::new();
    let per_file: Vec<_> = inputs.par_iter().map(|f| measured_views(f, &mo)).collect();
    for (views, errs) in per_file {
        measured.extend(views);
        skipped.extend(errs);
    }
    Ok((measured, skipped))
}

pub fn run(a: &MapArgs) -> Result<()> {
    if a.top == 0 || a.top > 1000 {
        bail!("invalid --top {}: must be 1–1000", a.top);
    }
    a.chain.check()?;
    for path in [&a.out, &a.features].into_iter().flatten() {
        // Refused before the work, not after it.
        carto::features::Format::of(path)?;
    }
    if let Some(path) = &a.svg
        && !path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        bail!("--svg {}: the file name must end in .svg", path.display());
    }
    let layout = a.layout()?;
    if let Some(r) = a.ridge
        && !(r.is_finite() && r >= 0.0)
    {
        bail!("invalid --ridge {r}: must be a non-negative number");
    }
    let train_absorbers = parse_absorbers(&a.absorbers, "--absorbers")?;
    let xanes = match &a.xanes_theory {
        Some(list) => {
            if !(1..=24).contains(&a.xanes_sites) {
                bail!("invalid --xanes-sites {}: must be 1–24", a.xanes_sites);
            }
            Some(carto::latent::XanesLandmarks {
                absorbers: parse_absorbers(list, "--xanes-theory")?,
                options: carto::theory::xanes_lib::SiteXanesOptions {
                    max_sites: a.xanes_sites,
                    ..Default::default()
                },
                cache_dir: carto::theory::xanes_lib::default_cache_dir(),
                cancel: Default::default(),
            })
        }
        None => None,
    };
    let (standards, standard_errors) = match &a.xanes_standards {
        Some(path) => carto::latent::standards::read_standards(path, &a.chain.chain_params())
            .map_err(anyhow::Error::msg)?,
        None => (Vec::new(), Vec::new()),
    };
    // A model file is read (and refused) before the work, not after it.
    let ranking = match (&a.model, &a.train) {
        (Some(path), _) => Ranking::Model(Box::new(JointModel::load(path)?)),
        (None, Some(_)) => Ranking::Train(JointOptions {
            ridge: a.ridge,
            ..JointOptions::default()
        }),
        (None, None) => Ranking::Stage0,
    };
    let t0 = Instant::now();
    let inputs = expand_inputs(&a.inputs)?;
    let (measured, mut skipped) = measured_of(&inputs, a.wavelength.as_deref(), &a.chain, a.xanes)?;
    skipped.extend(standard_errors);
    let files = candidate_files(&a.candidates)?;
    let o = MapRunOptions {
        map: MapOptions {
            top: a.top,
            layout,
            ..MapOptions::default()
        },
        closed: ClosedOptions {
            rmax_ang: a.rmax,
            sigma2_ang2: a.sigma2,
            ..ClosedOptions::default()
        },
        xanes,
        standards,
    };
    let mut lib = PairLibrary::user();
    let staged = run_staged_map(
        measured,
        read_structures(&files),
        &o,
        ranking,
        &train_absorbers,
        &mut lib,
        &mut progress_line(),
    )
    .map_err(anyhow::Error::msg)?
    .context("cancelled")?;
    skipped.extend(staged.skipped);
    let model = match (&staged.model, &a.model, &a.train) {
        (Some(m), Some(file), _) | (Some(m), None, Some(file)) => {
            if a.train.is_some() {
                m.save(file)?;
            }
            Some(ModelOut {
                file: file.display().to_string(),
                trained: a.train.is_some(),
                views: m.keys().iter().map(|k| format!("{k:?}")).collect(),
                dims: m.dims(),
                rho: m.rho.clone(),
                ridge: m.ridge,
                anchors: m.anchors,
                notes: m.notes.clone(),
            })
        }
        _ => None,
    };
    let stage = staged.stage;
    let mut run = staged.run;
    if a.clusters > 0 {
        carto::latent::map::cluster_measurements(&mut run.map, a.clusters);
    }
    let set = &run.candidates;
    if set.items.is_empty() {
        bail!("{}: no usable candidate structure", a.candidates.display());
    }
    skipped.extend(set.skipped.iter().cloned());
    skipped.extend(set.view_errors.iter().cloned());
    let n_measured = run.measured.len();
    let method = carto::features::map_method(
        &run.map,
        set.items.len(),
        a.sigma2,
        a.clusters,
        model.as_ref().map(|m| m.file.as_str()),
    );
    let mut written = Vec::new();
    if let Some(path) = &a.out {
        let mut df = carto::features::map_table(&run.map)?;
        carto::features::write_table(path, &mut df)?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &a.features {
        use rayon::prelude::*;
        let config = carto::features::batch::BatchConfig {
            chain: a.chain.clone(),
            xrd: carto::features::batch::XrdConfig {
                wavelength: a.wavelength.clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        let params = config.chain_params();
        let mut rows: Vec<_> = (inputs.par_iter().enumerate())
            .flat_map_iter(|(i, f)| carto::features::batch::rows_of_file(i, f, &config, &params))
            .collect();
        carto::features::join_map(&mut rows, &run.map, &[], &method);
        let mut df = carto::features::table(&rows)?;
        carto::features::write_table(path, &mut df)?;
        written.push(path.display().to_string());
    }
    if let Some(path) = &a.svg {
        use carto::latent::map::{MapColour, map_series};
        let labels: Vec<Option<usize>> = run.map.points.iter().map(|p| p.cluster).collect();
        let colour = if a.clusters > 0 {
            MapColour::Cluster {
                labels: &labels,
                names: &[],
            }
        } else {
            MapColour::Modality
        };
        let doc = carto::svg::scatter_svg(
            &map_series(&run.map, colour, false),
            &format!(
                "Carto map: {n_measured} measurements, {} candidates",
                set.items.len()
            ),
            "map x",
            "map y",
        );
        carto::session::write_file_atomic(path, doc.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
    }
    let out = MapOut {
        stage,
        model,
        candidates: set.items.len(),
        map: run.map,
        skipped,
        pair_tables_computed: run.pair_tables_computed,
        xanes_computed: set.xanes_computed,
        xanes_views: (set.items.iter())
            .flat_map(|c| &c.views)
            .filter(|(k, _)| k.modality() == carto::latent::Modality::Xanes)
            .count(),
        notes: set.notes.clone(),
        seconds: t0.elapsed().as_secs_f64(),
        written,
        method,
    };
    if a.json {
        return print_json(&out);
    }
    let mut s = format!(
        "{}: {} measurements, {} candidates, {} landmarks; layout explains {:.1} % + {:.1} % ({:.1} s)\n",
        match out.stage {
            Stage::Stage0 => "stage 0 (cosine on the grid)".to_string(),
            Stage::Stage1 => format!(
                "stage 1 (joint model {}{})",
                out.model.as_ref().map_or("", |m| m.file.as_str()),
                if a.train.is_some() {
                    ", trained and saved"
                } else {
                    ""
                }
            ),
        },
        n_measured,
        out.candidates,
        out.map.landmarks,
        100.0 * out.map.explained_variance_ratio[0],
        100.0 * out.map.explained_variance_ratio[1],
        out.seconds
    );
    for p in out
        .map
        .points
        .iter()
        .filter(|p| p.kind == carto::latent::map::PointKind::Measured)
    {
        let near: Vec<String> = p
            .nearest
            .iter()
            .map(|n| format!("{} {:.3}", n.cif, n.score))
            .collect();
        s += &format!(
            "{}  {}{}  ({:.3}, {:.3})  {}\n",
            p.id,
            p.modality,
            p.absorber.map(|a| format!(" {a}")).unwrap_or_default(),
            p.x,
            p.y,
            near.join(", ")
        );
    }
    for r in &out.skipped {
        s += &format!("skipped: {r}\n");
    }
    for r in &out.notes {
        s += &format!("note: {r}\n");
    }
    for w in &out.written {
        s += &format!("wrote {w}\n");
    }
    emit(s.trim_end())
}
