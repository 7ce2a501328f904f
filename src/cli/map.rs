//! `carto map INPUT... --candidates DIR`: measured patterns and spectra of
//! every modality with the candidate structures of a folder on one map
//! (the latent space's stage 0: [`carto::latent::map`]), each measurement
//! with its nearest candidates.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use carto::latent::candidates::read_structures;
use carto::latent::map::{MapRunOptions, run_map};
use carto::latent::{LatentMap, MapOptions, MeasuredOptions, measured_views};
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
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct MapOut {
    #[serde(flatten)]
    map: LatentMap,
    candidates: usize,
    /// Measurements or candidates left out, with the reason.
    skipped: Vec<String>,
    pair_tables_computed: usize,
    seconds: f64,
    /// The table written (--out).
    #[serde(skip_serializing_if = "Option::is_none")]
    written: Option<String>,
}

pub fn run(a: &MapArgs) -> Result<()> {
    if a.top == 0 || a.top > 1000 {
        bail!("invalid --top {}: must be 1–1000", a.top);
    }
    a.chain.check()?;
    if let Some(path) = &a.out {
        // Refused before the work, not after it.
        carto::features::Format::of(path)?;
    }
    let t0 = Instant::now();
    let files = expand_inputs(&a.inputs)?;
    let wavelength_ang = match &a.wavelength {
        Some(w) => {
            Some(carto::xrd::parse_wavelength(w).with_context(|| format!("--wavelength {w}"))?)
        }
        None => None,
    };
    let mo = MeasuredOptions {
        chain: a.chain.chain_params(),
        wavelength_ang,
    };
    let mut measured = Vec::new();
    let mut skipped = Vec::new();
    {
        use rayon::prelude::*;
        let per_file: Vec<_> = files.par_iter().map(|f| measured_views(f, &mo)).collect();
        for (views, errs) in per_file {
            measured.extend(views);
            skipped.extend(errs);
        }
    }
    let files = candidate_files(&a.candidates)?;
    let o = MapRunOptions {
        map: MapOptions {
            top: a.top,
            ..MapOptions::default()
        },
        closed: ClosedOptions {
            rmax_ang: a.rmax,
            sigma2_ang2: a.sigma2,
            ..ClosedOptions::default()
        },
    };
    let mut lib = PairLibrary::user();
    let run = run_map(
        measured,
        read_structures(&files),
        &o,
        &mut lib,
        &mut |_, _| true,
    )
    .map_err(anyhow::Error::msg)?
    .context("cancelled")?;
    let mut run = run;
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
    let out = MapOut {
        candidates: set.items.len(),
        map: run.map,
        skipped,
        pair_tables_computed: run.pair_tables_computed,
        seconds: t0.elapsed().as_secs_f64(),
        written: None,
    };
    let mut out = out;
    if let Some(path) = &a.out {
        let mut df = carto::features::map_table(&out.map)?;
        carto::features::write_table(path, &mut df)?;
        out.written = Some(path.display().to_string());
    }
    if a.json {
        return print_json(&out);
    }
    let mut s = format!(
        "{} measurements, {} candidates, {} landmarks; layout explains {:.1} % + {:.1} % ({:.1} s)\n",
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
    if let Some(w) = &out.written {
        s += &format!("wrote {w}\n");
    }
    emit(s.trim_end())
}
