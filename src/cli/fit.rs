//! `carto fit MODEL.toml`: an EXAFS fit (Larch feffit) and its report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use carto::exafs::feffit::{EpsilonK, FitSpace, FitStats};

use super::{emit, print_json};

/// One parameter of `carto fit --json`.
#[derive(Serialize)]
pub struct ParamOut<'a> {
    pub value: f64,
    pub stderr: Option<f64>,
    pub vary: bool,
    pub expr: Option<&'a str>,
    pub init: f64,
}

/// One path: its label, file, reff and every path parameter with its error.
#[derive(Serialize)]
pub struct PathOut<'a> {
    pub label: &'a str,
    pub file: &'a str,
    pub reff: f64,
    #[serde(flatten)]
    pub values: BTreeMap<String, Option<f64>>,
}

/// One dataset's best fit.
#[derive(Serialize)]
pub struct DatasetOut<'a> {
    pub name: &'a str,
    pub n_idp: f64,
    pub epsilon_k: &'a EpsilonK,
    pub epsilon_r: &'a [f64],
    pub fitspace: FitSpace,
    pub kweight: &'a [f64],
    pub k: &'a [f64],
    pub chi_data: &'a [f64],
    pub chi_fit: &'a [f64],
    pub kwin: &'a [f64],
    pub r: &'a [f64],
    pub chir_mag_data: &'a [f64],
    pub chir_mag_fit: &'a [f64],
    pub paths: Vec<PathOut<'a>>,
}

/// `carto fit --json`.
#[derive(Serialize)]
pub struct FitOut<'a> {
    pub model: String,
    pub params: BTreeMap<&'a str, ParamOut<'a>>,
    pub stats: &'a FitStats,
    pub correlations: BTreeMap<String, f64>,
    pub datasets: Vec<DatasetOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<&'a [f64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chi_fit: Option<&'a [f64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r: Option<&'a [f64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chir_mag_fit: Option<&'a [f64]>,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The model file (TOML: [data], [transform], [params], [[paths]] or [[datasets]]).
    pub model: PathBuf,
    /// Print one JSON document (params, stats, correlations, best-fit arrays).
    #[arg(long)]
    pub json: bool,
    /// Also write the text report (Larch's feffit_report layout) here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Correlations reported above this magnitude.
    #[arg(long, default_value_t = 0.1)]
    pub min_correl: f64,
}

pub fn run(a: &FitArgs) -> Result<()> {
    use carto::exafs::feffit::{PATH_PARS, report};
    if !(a.min_correl.is_finite() && (0.0..1.0).contains(&a.min_correl)) {
        bail!("--min-correl = {} must be in [0, 1)", a.min_correl);
    }
    // The same plan `carto batch` fits to each spectrum with `[fit]`.
    let plan = carto::exafs::plan::FitPlan::load(&a.model).map_err(anyhow::Error::msg)?;
    let res = plan
        .fit(None)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.model.display()))?;
    if !res.stats.success {
        eprintln!(
            "warning: {}: the fit did not succeed: {}",
            a.model.display(),
            res.stats.message
        );
    }
    let text = report(&res, a.min_correl);
    if let Some(path) = &a.report {
        std::fs::write(path, &text)
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    if !a.json {
        return emit(&text);
    }
    let params = res
        .params
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                ParamOut {
                    value: p.value,
                    stderr: p.stderr,
                    vary: p.vary,
                    expr: p.expr.as_deref(),
                    init: p.init,
                },
            )
        })
        .collect();
    let correlations = res
        .correlations
        .iter()
        .map(|(x, y, c)| (format!("{x},{y}"), *c))
        .collect();
    let datasets = res
        .datasets
        .iter()
        .map(|d| DatasetOut {
            name: &d.name,
            n_idp: d.n_idp,
            epsilon_k: &d.epsilon_k,
            epsilon_r: &d.epsilon_r,
            fitspace: d.transform.fitspace,
            kweight: &d.transform.kweight,
            k: &d.k,
            chi_data: &d.chi_data,
            chi_fit: &d.chi_fit,
            kwin: &d.kwin,
            r: &d.r,
            chir_mag_data: &d.chir_mag_data,
            chir_mag_fit: &d.chir_mag_fit,
            paths: d
                .paths
                .iter()
                .map(|p| {
                    let mut values = BTreeMap::new();
                    for (j, name) in PATH_PARS.iter().enumerate() {
                        values.insert((*name).to_string(), Some(p.values[j]));
                        values.insert(format!("{name}_stderr"), p.stderr[j]);
                    }
                    PathOut {
                        label: &p.label,
                        file: &p.file,
                        reff: p.reff,
                        values,
                    }
                })
                .collect(),
        })
        .collect();
    // The first dataset's best fit also at the top level (single-dataset models).
    let first = res.datasets.first();
    let out = FitOut {
        model: a.model.display().to_string(),
        params,
        stats: &res.stats,
        correlations,
        datasets,
        k: first.map(|d| d.k.as_slice()),
        chi_fit: first.map(|d| d.chi_fit.as_slice()),
        r: first.map(|d| d.r.as_slice()),
        chir_mag_fit: first.map(|d| d.chir_mag_fit.as_slice()),
    };
    print_json(&out)
}
