//! `carto info FILE`: what a file is (through the one routing rule,
//! [`carto::io::open`]) and what it holds.

use std::path::Path;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use carto::io::feff::{FeffAtom, FeffPotential};
use carto::io::{self, Dataset, EnergyUnit, FileFormat, MuRecipe, RecipeChoice};
use clap::Args;
use serde::Serialize;

use super::args::{InputArgs, check_group_option};
use super::{emit, print_json, print_json_pretty};

/// `carto info --json` for a powder pattern.
#[derive(Serialize)]
pub struct PatternInfo<'a> {
    pub file: String,
    pub format: &'static str,
    pub modality: &'static str,
    pub npts: usize,
    pub two_theta_range: [f64; 2],
    pub step_deg: f64,
    pub wavelength_ang: Option<f64>,
    pub has_sigma: bool,
    pub metadata: &'a [(String, String)],
    pub warnings: &'a [String],
}

/// One data block of a CIF.
#[derive(Serialize)]
pub struct BlockInfo<'a> {
    pub block: &'a str,
    pub formula: String,
    pub nsites: usize,
}

/// `carto info --json` for a CIF.
#[derive(Serialize)]
pub struct StructureInfo<'a> {
    pub file: &'a str,
    pub format: &'static str,
    pub modality: &'static str,
    pub blocks: Vec<BlockInfo<'a>>,
}

/// `carto info --json` for a fit model.
#[derive(Serialize)]
pub struct ModelInfo<'a> {
    pub file: &'a str,
    pub format: &'static str,
    pub modality: &'static str,
    pub params: usize,
    pub datasets: usize,
    pub paths: usize,
}

/// A μ recipe with its formula in words and why it was chosen (`carto
/// info`, `carto xas`).
#[derive(Serialize)]
pub struct RecipeOut<'a> {
    #[serde(flatten)]
    pub recipe: &'a MuRecipe,
    pub text: String,
    /// How the automatic rule weighed the candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice: Option<&'a RecipeChoice>,
    /// The automatic rule in words (with `choice` when it was applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

impl<'a> RecipeOut<'a> {
    pub fn new(s: &'a io::XasSpectrum) -> Self {
        RecipeOut {
            recipe: &s.recipe,
            text: s.recipe.describe(&s.table.labels),
            choice: s.choice.as_ref(),
            rule: s
                .choice
                .as_ref()
                .filter(|c| c.how == "auto")
                .map(|_| RecipeChoice::RULE),
        }
    }
}

/// `carto info`'s lines on why μ is built the way it is: the reason and,
/// for the automatic rule, each candidate's edge jump, noise and score.
pub fn choice_lines(s: &io::XasSpectrum) -> Vec<String> {
    let Some(c) = &s.choice else {
        return Vec::new();
    };
    let mut lines = vec![format!("    why: {}", c.reason)];
    if c.how == "auto" {
        lines.push("    candidates (edge jump / noise = score):".into());
        for k in &c.candidates {
            lines.push(match (&k.unusable, k.edge_jump, k.noise, k.score) {
                (Some(why), ..) => format!("      {}: unusable: {why}", k.text),
                (None, Some(j), Some(n), Some(sc)) => {
                    format!("      {}: {j:.4e} / {n:.4e} = {sc:.1}", k.text)
                }
                _ => format!("      {}", k.text),
            });
        }
        lines.push(format!("    rule: {}", RecipeChoice::RULE));
    }
    lines
}

/// One group of an Athena project.
#[derive(Serialize)]
pub struct GroupInfo<'a> {
    pub label: &'a str,
    pub id: &'a str,
    pub datatype: &'static str,
    pub npts: usize,
}

/// A FEFF path file's header.
#[derive(Serialize)]
pub struct FeffInfo<'a> {
    pub reff: f64,
    pub degen: f64,
    pub nleg: usize,
    pub npts: usize,
    pub geometry: &'a [FeffAtom],
    pub potentials: &'a [FeffPotential],
    pub title: &'a [String],
}

/// What a spectrum file holds, by kind.
#[derive(Serialize)]
#[serde(untagged)]
pub enum SpectraDetails<'a> {
    Xas {
        npts: usize,
        columns: &'a [String],
        energy_column: String,
        energy_unit: EnergyUnit,
        mu_recipe: RecipeOut<'a>,
        energy_range_ev: [Option<f64>; 2],
        metadata: &'a BTreeMap<String, String>,
    },
    Chi {
        npts: usize,
        columns: &'a [String],
        metadata: &'a BTreeMap<String, String>,
    },
    Athena {
        groups: Vec<GroupInfo<'a>>,
        header: &'a [String],
    },
    Feff {
        feff: FeffInfo<'a>,
    },
}

/// `carto info --json` for spectra (μ(E), χ(k), Athena, FEFF).
#[derive(Serialize)]
pub struct SpectraInfo<'a> {
    pub file: &'a str,
    pub format: FileFormat,
    pub modality: &'static str,
    #[serde(flatten)]
    pub details: SpectraDetails<'a>,
    /// Located reader warnings (`file:line: …`).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub warnings: &'a [String],
}

/// `carto info --json` for an XDI file that holds no spectrum (a motor or
/// position scan): its columns and metadata.
#[derive(Serialize)]
pub struct TableInfo<'a> {
    pub file: &'a str,
    pub format: FileFormat,
    pub modality: &'static str,
    pub npts: usize,
    pub columns: &'a [String],
    pub metadata: &'a BTreeMap<String, String>,
    /// Why it is not read as μ(E) or χ(k).
    pub note: String,
    pub warnings: &'a [String],
}

/// `carto info` for an XDI file that reads as XDI but not as a spectrum.
fn info_xdi_table(file: &str, xdi: &io::xdi::XdiFile, why: &str, as_json: bool) -> Result<()> {
    let t = &xdi.table;
    if as_json {
        return print_json(&TableInfo {
            file,
            format: FileFormat::Xdi,
            modality: "table",
            npts: t.npts(),
            columns: &t.labels,
            metadata: &t.metadata,
            note: why.to_owned(),
            warnings: &t.warnings,
        });
    }
    let mut lines = vec![
        format!("{file}: Xdi (table, not a spectrum)"),
        format!("  {} points, columns: {}", t.npts(), t.labels.join(", ")),
    ];
    for (i, c) in t.columns.iter().enumerate() {
        let (lo, hi) = c
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let units = xdi.column_units.get(i).map_or("", String::as_str);
        lines.push(format!(
            "    {}: {lo} – {hi} {units}",
            t.labels.get(i).map_or("?", String::as_str)
        ));
    }
    lines.push(format!("  not read as a spectrum: {why}"));
    for w in &t.warnings {
        lines.push(format!("  warning: {w}"));
    }
    emit(&lines.join("\n"))
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `carto info` for a powder pattern.
fn info_pattern(path: &Path, p: &carto::io::xrd::XrdPattern, as_json: bool) -> Result<()> {
    let (x, n) = (&p.two_theta_deg, p.npts());
    let first = x.first().copied().unwrap_or(f64::NAN);
    let last = x.last().copied().unwrap_or(f64::NAN);
    let step = if n > 1 {
        (last - first) / (n - 1) as f64
    } else {
        f64::NAN
    };
    if as_json {
        return print_json_pretty(&PatternInfo {
            file: path.display().to_string(),
            format: p.source_format,
            modality: "xrd",
            npts: n,
            two_theta_range: [first, last],
            step_deg: step,
            wavelength_ang: p.wavelength_ang,
            has_sigma: p.sigma.is_some(),
            metadata: &p.metadata,
            warnings: &p.warnings,
        });
    }
    let mut out = format!(
        "{}: {} (xrd)\n  {n} points, 2θ {first:.4} – {last:.4}° (step {step:.5}°)\n  wavelength: {}\n",
        path.display(),
        p.source_format,
        p.wavelength_ang
            .map_or("not in the file".to_string(), |w| format!("{w} Å"))
    );
    for w in &p.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    for (k, v) in p.metadata.iter().take(12) {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    emit(&out)
}

/// `carto info` for a CIF: its blocks (`carto structure` gives the rest).
fn info_structures(file: &str, all: &[carto::structure::Structure], as_json: bool) -> Result<()> {
    use carto::structure as st;
    if as_json {
        let blocks = all
            .iter()
            .map(|s| BlockInfo {
                block: &s.name,
                formula: st::reduced_formula(s),
                nsites: s.sites.len(),
            })
            .collect();
        return print_json(&StructureInfo {
            file,
            format: "cif",
            modality: "structure",
            blocks,
        });
    }
    let mut lines = vec![format!("{file}: CIF (structure)")];
    for s in all {
        lines.push(format!(
            "  block {}: {}, {} sites in the cell",
            s.name,
            st::reduced_formula(s),
            s.sites.len()
        ));
    }
    lines.push(format!(
        "  (carto structure {file} for the space group and shells)"
    ));
    emit(&lines.join("\n"))
}

/// `carto info` for an EXAFS fit model (`carto fit` runs it).
fn info_model(file: &str, m: &carto::exafs::FitModel, as_json: bool) -> Result<()> {
    let npaths: usize = m.datasets.iter().map(|d| d.paths.len()).sum();
    if as_json {
        return print_json(&ModelInfo {
            file,
            format: "toml",
            modality: "fit_model",
            params: m.params.len(),
            datasets: m.datasets.len(),
            paths: npaths,
        });
    }
    emit(&format!(
        "{file}: fit model (TOML)\n  {} parameters, {} dataset(s), {npaths} paths\n  (carto fit {file} runs it)",
        m.params.len(),
        m.datasets.len()
    ))
}

/// A JCPDS phase card (Dioptas): name, symmetry, cell, equation of state
/// and reflections; `--json` prints the whole card.
fn info_jcpds(file: &str, bytes: &[u8], as_json: bool) -> Result<()> {
    let c = carto::io::xrd::read_jcpds_bytes(bytes, file)?;
    if as_json {
        return print_json(&c);
    }
    let mut lines = vec![
        format!("{file}: JCPDS card (version {}): {}", c.version, c.name),
        format!(
            "  {} a = {:.5} b = {:.5} c = {:.5} Å, α = {:.3} β = {:.3} γ = {:.3}°",
            c.symmetry, c.a_ang, c.b_ang, c.c_ang, c.alpha_deg, c.beta_deg, c.gamma_deg
        ),
        format!(
            "  K0 = {} GPa, K0' = {}, α_T = {} /K",
            c.k0_gpa, c.k0p, c.alpha_t_per_k
        ),
        format!("  {} reflections (d Å, I, hkl):", c.reflections.len()),
    ];
    for r in &c.reflections {
        lines.push(format!(
            "    {:9.5} {:7.2}  {} {} {}",
            r.d_ang, r.intensity, r.h, r.k, r.l
        ));
    }
    emit(&lines.join("\n"))
}

pub fn run(a: &InfoArgs) -> Result<()> {
    let path = &a.input.file;
    let bytes = io::read_input(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = io::detect_format(&bytes);
    let file = path.display().to_string();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if ext.as_deref() == Some("jcpds") {
        return info_jcpds(&file, &bytes, a.json);
    }
    let opts = a.input.load_options();
    let opened = match io::open_bytes(&bytes, path, &opts) {
        Ok(o) => o,
        // XDI also carries scans that are not spectra: show the columns.
        Err(io::OpenError::Parse(e)) if format == FileFormat::Xdi => {
            let text = String::from_utf8_lossy(&bytes);
            return match io::xdi::parse(&text, &file, &opts) {
                Ok(xdi) => info_xdi_table(&file, &xdi, &e.message, a.json),
                Err(_) => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let ds = match opened {
        io::Opened::Spectra(ds) => *ds,
        io::Opened::Pattern(p) => return info_pattern(path, &p, a.json),
        io::Opened::Structures(s) => return info_structures(&file, &s, a.json),
        io::Opened::FitModel(m) => return info_model(&file, &m, a.json),
    };
    check_group_option(&ds, &a.input, &file)?;
    let mut lines = vec![format!("{file}: {format:?} ({})", ds.modality())];
    let warnings: &[String] = match &ds {
        Dataset::Xas(s) => &s.table.warnings,
        Dataset::Chi(c) => &c.table.warnings,
        _ => &[],
    };
    let details = match &ds {
        Dataset::Xas(s) => {
            let label = |i: usize| s.table.labels.get(i).cloned().unwrap_or_default();
            lines.push(format!(
                "  {} points, columns: {}",
                s.energy_ev.len(),
                s.table.labels.join(", ")
            ));
            lines.push(format!(
                "  energy: column '{}' ({:?})",
                label(s.energy_column),
                s.energy_unit
            ));
            lines.push(format!("  μ(E): {}", s.recipe.describe(&s.table.labels)));
            lines.extend(choice_lines(s));
            if let (Some(a), Some(b)) = (s.energy_ev.first(), s.energy_ev.last()) {
                lines.push(format!("  energy range: {a:.2} – {b:.2} eV"));
            }
            SpectraDetails::Xas {
                npts: s.energy_ev.len(),
                columns: &s.table.labels,
                energy_column: label(s.energy_column),
                energy_unit: s.energy_unit,
                mu_recipe: RecipeOut::new(s),
                energy_range_ev: [s.energy_ev.first().copied(), s.energy_ev.last().copied()],
                metadata: &s.table.metadata,
            }
        }
        Dataset::Chi(c) => {
            lines.push(format!(
                "  χ(k): {} points, k up to {:.2} Å⁻¹",
                c.k_inv_ang.len(),
                c.k_inv_ang.last().copied().unwrap_or(0.0)
            ));
            SpectraDetails::Chi {
                npts: c.k_inv_ang.len(),
                columns: &c.table.labels,
                metadata: &c.table.metadata,
            }
        }
        Dataset::Athena(p) => {
            let groups: Vec<GroupInfo> = p
                .groups
                .iter()
                .map(|g| GroupInfo {
                    label: &g.label,
                    id: &g.id,
                    datatype: g.datatype(),
                    npts: g.npts(),
                })
                .collect();
            lines.push(format!("  {} groups", groups.len()));
            for g in &p.groups {
                lines.push(format!(
                    "  - {} [{}] {} points",
                    g.label,
                    g.datatype(),
                    g.npts()
                ));
            }
            SpectraDetails::Athena {
                groups,
                header: &p.header,
            }
        }
        Dataset::Feff(f) => {
            lines.push(format!(
                "  path: reff {:.4} Å, degen {}, nleg {}, {} k points",
                f.reff_ang,
                f.degen,
                f.nleg,
                f.k_inv_ang.len()
            ));
            SpectraDetails::Feff {
                feff: FeffInfo {
                    reff: f.reff_ang,
                    degen: f.degen,
                    nleg: f.nleg,
                    npts: f.k_inv_ang.len(),
                    geometry: &f.geometry,
                    potentials: &f.potentials,
                    title: &f.title,
                },
            }
        }
    };
    if a.json {
        print_json(&SpectraInfo {
            file: &file,
            format,
            modality: ds.modality(),
            details,
            warnings,
        })
    } else {
        for w in warnings {
            lines.push(format!("  warning: {w}"));
        }
        emit(&lines.join("\n"))
    }
}
