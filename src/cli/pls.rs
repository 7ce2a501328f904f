//! `carto pls INPUT... --target TABLE:COLUMN`: partial least squares of
//! measured spectra or patterns (on their modality's common grid, as the
//! map puts them) against one numeric column of a feature table (`carto
//! batch`'s, with a column added or fitted there: temperature, time, an LCF
//! fraction, a coordination number). Rows join the measurements by
//! `source_file` (and `group` for an Athena project's spectra), as the map
//! joins the table. Reports what the components explain, the
//! cross-validated error and each spectrum's prediction
//! ([`carto::latent::pls`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use polars::prelude::DataType;
use serde::Serialize;

use carto::latent::grid::Modality;
use carto::latent::measured::{absorber_name, commonest_modality, one_absorber};
use carto::latent::pls::{PlsModelFile, PlsReport, pls_of_profiles};
use carto::xas::ChainOptions;

use super::batch::expand_inputs;
use super::map::measured_of;
use super::{emit, print_json};

#[derive(Debug, Args)]
pub struct PlsArgs {
    /// Measured files, folders and globs (patterns, μ(E), χ(k), Athena projects).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The target: a feature table (.csv or .parquet with `source_file`
    /// and optionally `group` columns, as `carto batch` writes) and the
    /// numeric column to explain, as TABLE:COLUMN.
    #[arg(long, value_name = "TABLE:COLUMN", required_unless_present = "model")]
    pub target: Option<String>,
    /// Also save the trained model here (.json), to predict new spectra with --model.
    #[arg(long, value_name = "FILE.json", conflicts_with = "model")]
    pub save: Option<PathBuf>,
    /// Predict the target of the inputs with a model saved by --save (no table needed).
    #[arg(long, value_name = "FILE.json", conflicts_with = "target")]
    pub model: Option<PathBuf>,
    /// PLS components (1–20).
    #[arg(long, default_value_t = 2)]
    pub components: usize,
    /// Which view of the inputs: xanes, exafs or xrd (default: the one most
    /// inputs with a target value have).
    #[arg(long)]
    pub modality: Option<String>,
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

#[derive(Serialize)]
struct PlsOut {
    target: String,
    modality: &'static str,
    #[serde(flatten)]
    report: PlsReport,
    /// Inputs left out, with the reason.
    skipped: Vec<String>,
    /// The model file written (--save).
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<String>,
}

/// `carto pls --model`: one prediction per input spectrum.
#[derive(Serialize)]
struct PredictOut {
    model: String,
    target: String,
    modality: &'static str,
    predictions: Vec<Prediction>,
    /// Inputs left out, with the reason.
    skipped: Vec<String>,
}

#[derive(Serialize)]
struct Prediction {
    id: String,
    predicted: f64,
}

/// `TABLE:COLUMN` split at the last colon.
fn split_target(s: &str) -> Result<(PathBuf, String)> {
    match s.rsplit_once(':') {
        Some((t, c)) if !t.is_empty() && !c.trim().is_empty() => {
            Ok((PathBuf::from(t), c.trim().to_string()))
        }
        _ => bail!("--target {s}: expected TABLE:COLUMN (a .csv or .parquet table and a column)"),
    }
}

/// The key a table row or a measurement joins by: `file` or `file:group`,
/// the file canonicalized when it exists (so `./a.xmu` and `a.xmu` meet).
fn join_key(file: &str, group: Option<&str>) -> String {
    let f = std::fs::canonicalize(file)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| file.to_string());
    match group {
        Some(g) if !g.is_empty() => format!("{f}:{g}"),
        _ => f,
    }
}

/// Target values by join key, from `column` of the table at `path`.
fn read_targets(path: &Path, column: &str) -> Result<HashMap<String, f64>> {
    let df = carto::features::read_table(path)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if !has("source_file") {
        bail!(
            "{}: no `source_file` column (a `carto batch` table names each row's file there)",
            path.display()
        );
    }
    if !has(column) {
        bail!(
            "{}: no column `{column}`; it has {}",
            path.display(),
            names.join(", ")
        );
    }
    let files = df.column("source_file")?.cast(&DataType::String)?;
    let files = files.str()?;
    let groups = if has("group") {
        Some(df.column("group")?.cast(&DataType::String)?)
    } else {
        None
    };
    let groups = groups.as_ref().map(|g| g.str()).transpose()?;
    let values = df.column(column)?.cast(&DataType::Float64).map_err(|e| {
        anyhow::anyhow!("{}: column `{column}` is not numeric: {e}", path.display())
    })?;
    let values = values.f64()?;
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let (Some(f), Some(v)) = (files.get(i), values.get(i)) else {
            continue;
        };
        if !v.is_finite() {
            continue;
        }
        let g = groups.and_then(|g| g.get(i));
        out.insert(join_key(f, g), v);
    }
    if out.is_empty() {
        bail!(
            "{}: column `{column}` has no finite value with a source_file",
            path.display()
        );
    }
    Ok(out)
}

pub(super) fn parse_modality(s: &str) -> Result<Modality> {
    Modality::parse(s).with_context(|| format!("--modality {s}: xanes, exafs or xrd"))
}

/// The measured views of the inputs (XANES views of every μ(E) with
/// `xanes`) and the reasons for those that have none.
fn views_of(a: &PlsArgs, xanes: bool) -> Result<(Vec<carto::latent::MeasuredView>, Vec<String>)> {
    let inputs = expand_inputs(&a.inputs)?;
    measured_of(&inputs, a.wavelength.as_deref(), &a.chain, xanes)
}

/// `--model FILE`: predict the inputs' target.
fn predict(a: &PlsArgs, path: &Path) -> Result<()> {
    let bytes = carto::io::read_input(path).with_context(|| format!("{}", path.display()))?;
    let m: PlsModelFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not a carto pls model", path.display()))?;
    let modality = m
        .check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (views, mut skipped) = views_of(a, modality == Modality::Xanes)?;
    let mut predictions = Vec::new();
    for v in views {
        if v.key.modality() != modality {
            skipped.push(format!(
                "{}: a {} view, the model is {}",
                v.id,
                v.key.modality().name(),
                modality.name()
            ));
            continue;
        }
        let abs = absorber_name(v.key);
        if abs != m.absorber {
            skipped.push(format!(
                "{}: a {abs} spectrum, the model was trained on {}",
                v.id, m.absorber
            ));
            continue;
        }
        match m.predict(&v.profile) {
            Ok(p) => predictions.push(Prediction {
                id: v.id,
                predicted: p,
            }),
            Err(e) => skipped.push(format!("{}: {e}", v.id)),
        }
    }
    let out = PredictOut {
        model: path.display().to_string(),
        target: m.target.clone(),
        modality: modality.name(),
        predictions,
        skipped,
    };
    if a.json {
        return print_json(&out);
    }
    let mut s = format!(
        "{} predicted by {} ({} PLS, {} components)\n",
        out.target,
        out.model,
        out.modality,
        m.model.x_weights.len()
    );
    for p in &out.predictions {
        s += &format!("{}  {:.6}\n", p.id, p.predicted);
    }
    for k in &out.skipped {
        s += &format!("skipped: {k}\n");
    }
    emit(s.trim_end())
}

pub fn run(a: &PlsArgs) -> Result<()> {
    if !(1..=20).contains(&a.components) {
        bail!("invalid --components {}: must be 1–20", a.components);
    }
    a.chain.check()?;
    if let Some(path) = &a.model {
        return predict(a, path);
    }
    if let Some(p) = &a.save
        && !p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        bail!("--save {}: the file name must end in .json", p.display());
    }
    let want = a.modality.as_deref().map(parse_modality).transpose()?;
    let target = a
        .target
        .as_deref()
        .context("--target TABLE:COLUMN is needed to train")?;
    let (table, column) = split_target(target)?;
    let targets = read_targets(&table, &column)?;
    let (views, mut skipped) = views_of(a, want == Some(Modality::Xanes))?;
    // Each view's target, by its id (file, or file:group).
    let mut with_target = Vec::new();
    for v in views {
        // `file:group` for an Athena project's spectrum: the file is the
        // longest prefix before a colon that is a file (a label may hold
        // colons too).
        let key = (v.id.rmatch_indices(':').map(|(i, _)| i))
            .find(|&i| Path::new(&v.id[..i]).is_file())
            .map_or_else(
                || join_key(&v.id, None),
                |i| join_key(&v.id[..i], Some(&v.id[i + 1..])),
            );
        match targets.get(&key) {
            Some(&y) => with_target.push((v, y)),
            None => skipped.push(format!(
                "{}: no `{column}` value in {}",
                v.id,
                table.display()
            )),
        }
    }
    let modality = match want {
        Some(m) => m,
        None => commonest_modality(with_target.iter().map(|(v, _)| v.key))
            .context("no input has both a view and a target value")?,
    };
    let mut items = Vec::new();
    for (v, y) in &with_target {
        if v.key.modality() == modality {
            items.push((v.id.clone(), *y, &v.profile));
        } else {
            skipped.push(format!(
                "{}: a {} view, not {}",
                v.id,
                v.key.modality().name(),
                modality.name()
            ));
        }
    }
    let report = pls_of_profiles(&items, a.components).map_err(anyhow::Error::msg)?;
    let absorber = one_absorber(
        (with_target.iter())
            .filter(|(v, _)| v.key.modality() == modality)
            .map(|(v, _)| v.key),
        "PLS",
    )
    .map_err(anyhow::Error::msg)?;
    let target = format!("{}:{column}", table.display());
    let saved = match &a.save {
        Some(p) => {
            let file = PlsModelFile {
                carto_pls_model: 1,
                modality: modality.name().to_string(),
                target: target.clone(),
                absorber,
                points: report.points.clone(),
                model: report.model.clone(),
            };
            std::fs::write(p, serde_json::to_string(&file)?)
                .with_context(|| format!("--save {}", p.display()))?;
            Some(p.display().to_string())
        }
        None => None,
    };
    let out = PlsOut {
        target,
        modality: modality.name(),
        report,
        skipped,
        saved,
    };
    if a.json {
        return print_json(&out);
    }
    let r = &out.report;
    let mut s = format!(
        "PLS of {} {} spectra against {} ({} components on {} grid points of {})\n",
        r.samples.len(),
        out.modality,
        out.target,
        r.model.x_weights.len(),
        r.x.len(),
        r.axis
    );
    s += &r.summary();
    s.push('\n');
    s += "spectrum  target  predicted  cross-validated\n";
    for p in &r.samples {
        s += &format!(
            "{}  {:.6}  {:.6}  {:.6}\n",
            p.id, p.target, p.predicted, p.predicted_cv
        );
    }
    for k in &out.skipped {
        s += &format!("skipped: {k}\n");
    }
    if let Some(f) = &out.saved {
        s += &format!("model saved to {f} (predict with carto pls INPUT... --model {f})\n");
    }
    emit(s.trim_end())
}
