//! `carto project INPUT... --method pca|nmf|autoencoder`: a learned
//! projection of measured spectra or patterns of one modality (on its
//! common grid, as the map puts them) — PCA, NMF (non-negative
//! memberships) or a small autoencoder ([`carto::latent::project`]) —
//! trained on the inputs and saved with `--save`, or applied to new inputs
//! with `--model` (fit once, transform many times). PLS against a target
//! is trained by `carto pls` (it reads the target table); a PLS projection
//! saved from the app's Projection view is applied here, with the target
//! predicted for each input.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use carto::latent::AutoencoderOptions;
use carto::latent::grid::Modality;
use carto::latent::project::{Explained, Method, ProjectOptions, ProjectionModel, fit_projection};
use carto::xas::ChainOptions;

use super::batch::expand_inputs;
use super::map::measured_of;
use super::pls::parse_modality;
use super::{emit, print_json};
use carto::latent::measured::{absorber_name, commonest_modality, one_absorber};

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Measured files, folders and globs (patterns, μ(E), χ(k), Athena projects).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// pca, nmf (non-negative: XANES and XRD, not k²χ) or autoencoder.
    #[arg(long, default_value = "pca")]
    pub method: String,
    /// Latent coordinates (1–32).
    #[arg(long, default_value_t = 2)]
    pub components: usize,
    /// Which view of the inputs: xanes, exafs or xrd (default: the one most inputs have).
    #[arg(long)]
    pub modality: Option<String>,
    /// Autoencoder: training epochs (1–100000).
    #[arg(long, default_value_t = 300)]
    pub epochs: usize,
    /// Autoencoder: units per hidden layer (2–512).
    #[arg(long, default_value_t = 64)]
    pub hidden: usize,
    /// Save the trained projection here (.json), to project new spectra with --model.
    #[arg(long, value_name = "FILE.json", conflicts_with = "model")]
    pub save: Option<PathBuf>,
    /// Project the inputs with a model saved by --save (no training).
    #[arg(long, value_name = "FILE.json")]
    pub model: Option<PathBuf>,
    /// Wavelength for patterns whose file gives none (Å, or a name: CuKa, MoKa1…).
    #[arg(long)]
    pub wavelength: Option<String>,
    /// The XAS chain (`carto xas`'s options).
    #[command(flatten)]
    pub chain: ChainOptions,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// One input's latent coordinates.
#[derive(Serialize)]
struct Coords {
    id: String,
    coords: Vec<f64>,
    /// A PLS model: its target predicted from the coordinates.
    #[serde(skip_serializing_if = "Option::is_none")]
    predicted: Option<f64>,
}

#[derive(Serialize)]
struct ProjectOut {
    method: &'static str,
    modality: &'static str,
    /// Absorber and edge ("Fe K"; empty for XRD).
    absorber: String,
    components: usize,
    /// Grid points trained on.
    grid_points: usize,
    /// Trained here: what the projection explains of the inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    explained: Option<Explained>,
    /// `--model`: the file applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    points: Vec<Coords>,
    /// Inputs left out, with the reason.
    skipped: Vec<String>,
    /// The model file written (--save).
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<String>,
}

fn components_of(m: &ProjectionModel) -> usize {
    use carto::latent::project::Fitted;
    match &m.model {
        Fitted::Pca(p) => p.components.len(),
        Fitted::Nmf(n) => n.components.len(),
        Fitted::Autoencoder(a) => a.components(),
        Fitted::Pls(p) => p.x_rotations.len(),
    }
}

/// A progress bar on stderr for the autoencoder's epochs (none when
/// stderr is not a terminal), with the loss.
fn epoch_bar(n: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(n as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} epoch {pos}/{len}, eta {eta} {msg}")
    {
        pb.set_style(style);
    }
    pb
}

pub fn run(a: &ProjectArgs) -> Result<()> {
    let method = Method::parse(&a.method)
        .with_context(|| format!("--method {}: pca, nmf or autoencoder", a.method))?;
    if method == Method::Pls {
        bail!(
            "--method pls: PLS needs a target for each input; train it with `carto pls INPUT... --target TABLE:COLUMN`"
        );
    }
    if !(1..=32).contains(&a.components) {
        bail!("invalid --components {}: must be 1–32", a.components);
    }
    a.chain.check()?;
    if let Some(p) = &a.save
        && !p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        bail!("--save {}: the file name must end in .json", p.display());
    }
    // A model file is read (and refused) before the work.
    let loaded = a
        .model
        .as_deref()
        .map(ProjectionModel::load)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let want = match (&loaded, a.modality.as_deref()) {
        (Some((_, m)), _) => Some(*m),
        (None, Some(s)) => Some(parse_modality(s)?),
        (None, None) => None,
    };
    let inputs = expand_inputs(&a.inputs)?;
    let (views, mut skipped) = measured_of(
        &inputs,
        a.wavelength.as_deref(),
        &a.chain,
        want == Some(Modality::Xanes),
    )?;
    let modality = match want {
        Some(m) => m,
        None => commonest_modality(views.iter().map(|v| v.key))
            .context("no input has a view on a common grid")?,
    };
    let mut items = Vec::new();
    for v in &views {
        if v.key.modality() == modality {
            items.push(v);
        } else {
            skipped.push(format!(
                "{}: a {} view, not {}",
                v.id,
                v.key.modality().name(),
                modality.name()
            ));
        }
    }
    if let Some((m, _)) = &loaded {
        let path = a.model.as_deref().unwrap_or(Path::new(""));
        let mut points = Vec::new();
        for v in items {
            let abs = absorber_name(v.key);
            if abs != m.absorber {
                skipped.push(format!(
                    "{}: a {abs} spectrum, the model was trained on {}",
                    v.id, m.absorber
                ));
                continue;
            }
            match m.transform(&v.profile) {
                Ok(coords) => points.push(Coords {
                    id: v.id.clone(),
                    predicted: m.predicted(&coords),
                    coords,
                }),
                Err(e) => skipped.push(format!("{}: {e}", v.id)),
            }
        }
        return report(
            ProjectOut {
                method: m.model.method().name(),
                modality: modality.name(),
                absorber: m.absorber.clone(),
                components: components_of(m),
                grid_points: m.points.len(),
                explained: None,
                model: Some(path.display().to_string()),
                points,
                skipped,
                saved: None,
            },
            a.json,
        );
    }
    let absorber =
        one_absorber(items.iter().map(|v| v.key), "projection").map_err(anyhow::Error::msg)?;
    let pairs: Vec<(String, &carto::latent::Profile)> =
        items.iter().map(|v| (v.id.clone(), &v.profile)).collect();
    let o = ProjectOptions {
        method,
        components: a.components,
        autoencoder: AutoencoderOptions {
            epochs: a.epochs,
            hidden: a.hidden,
            ..Default::default()
        },
    };
    let bar = epoch_bar(if method == Method::Autoencoder {
        a.epochs
    } else {
        1
    });
    let model = fit_projection(&pairs, &absorber, &o, &mut |done, _, loss| {
        bar.set_position(done as u64);
        bar.set_message(format!("loss {loss:.4}"));
        true
    })
    .map_err(anyhow::Error::msg)?
    .context("cancelled")?;
    bar.finish_and_clear();
    let mut points = Vec::new();
    for v in &items {
        match model.transform(&v.profile) {
            Ok(coords) => points.push(Coords {
                id: v.id.clone(),
                predicted: None,
                coords,
            }),
            Err(e) => skipped.push(format!("{}: {e}", v.id)),
        }
    }
    let saved = match &a.save {
        Some(p) => {
            model
                .save(p)
                .map_err(anyhow::Error::msg)
                .with_context(|| "--save")?;
            Some(p.display().to_string())
        }
        None => None,
    };
    report(
        ProjectOut {
            method: method.name(),
            modality: modality.name(),
            absorber,
            components: components_of(&model),
            grid_points: model.points.len(),
            explained: Some(model.explained.clone()),
            model: None,
            points,
            skipped,
            saved,
        },
        a.json,
    )
}

fn report(out: ProjectOut, json: bool) -> Result<()> {
    if json {
        return print_json(&out);
    }
    let mut s = match &out.model {
        Some(f) => format!(
            "{} {} spectra projected by {f} ({}, {} components)\n",
            out.points.len(),
            out.modality,
            out.method,
            out.components
        ),
        None => format!(
            "{} of {} {} spectra, {} components on {} grid points\n",
            out.method,
            out.points.len(),
            out.modality,
            out.components,
            out.grid_points
        ),
    };
    if let Some(e) = &out.explained {
        s += &format!("explained: {:.2} % of the variance", 100.0 * e.fraction);
        if !e.per_component.is_empty() {
            let per: Vec<String> = e
                .per_component
                .iter()
                .map(|v| format!("{:.2} %", 100.0 * v))
                .collect();
            s += &format!(" ({})", per.join(", "));
        }
        if let Some(l) = e.loss_history.last() {
            s += &format!("; final loss {l:.5} after {} epochs", e.loss_history.len());
        }
        s.push('\n');
    }
    for p in &out.points {
        let c: Vec<String> = p.coords.iter().map(|v| format!("{v:.6}")).collect();
        s += &format!("{}  {}\n", p.id, c.join("  "));
    }
    for k in &out.skipped {
        s += &format!("skipped: {k}\n");
    }
    if let Some(f) = &out.saved {
        s += &format!("model saved to {f} (apply with carto project INPUT... --model {f})\n");
    }
    emit(s.trim_end())
}
