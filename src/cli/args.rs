//! Arguments shared by the subcommands that read spectra, and picking
//! the spectrum to process from what a file holds.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use carto::io::{self, Dataset, LoadOptions, MuMode};
use carto::xas::process::XasInput;
use clap::Args;

/// Which file to read and how to turn its columns into μ(E).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Data file (XDI, column text, beamline file, Athena project, FEFF path).
    pub file: PathBuf,
    /// Group label (or Athena id) inside an Athena project.
    #[arg(long)]
    pub group: Option<String>,
    /// Override the automatic μ(E) recipe.
    #[arg(long, value_enum)]
    pub mu: Option<MuMode>,
    /// Column labels to use instead of the file's, like Larch's `labels=`: "energy i0 it".
    #[arg(long)]
    pub columns: Option<String>,
}

impl InputArgs {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            mu_mode: self.mu,
            columns: self.columns.clone(),
        }
    }
}

/// The groups of a project for an error message: quoted labels (some have
/// leading spaces or commas), with the id that `--group` also accepts when
/// a label is not unique.
fn group_list(p: &io::athena::AthenaProject) -> String {
    p.groups
        .iter()
        .map(|g| {
            if p.groups.iter().filter(|o| o.label == g.label).count() > 1 {
                format!("'{}' (id {})", g.label, g.id)
            } else {
                format!("'{}'", g.label)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--group` names a group of an Athena project; anywhere else it would be
/// ignored without a word, and a misspelt group must not pass unnoticed.
pub fn check_group_option(ds: &Dataset, input: &InputArgs, file: &str) -> Result<()> {
    match (ds, &input.group) {
        (_, None) => Ok(()),
        (Dataset::Athena(p), Some(name)) => match p.group(name) {
            Some(_) => Ok(()),
            None => bail!("{file}: no group '{name}'; groups are: {}", group_list(p)),
        },
        (other, Some(_)) => bail!(
            "{file}: --group applies to Athena projects, and this file holds {} data",
            other.modality()
        ),
    }
}

/// Pick the spectrum to process from whatever the file holds, with its
/// Athena group label.
pub fn spectrum_of(
    ds: Dataset,
    input: &InputArgs,
    file: &str,
) -> Result<(XasInput, Option<String>)> {
    match ds {
        Dataset::Xas(s) => Ok((XasInput::Mu(s), None)),
        Dataset::Chi(c) => Ok((XasInput::Chi(c), None)),
        Dataset::Athena(p) => {
            let g = match &input.group {
                Some(name) => p.group(name).with_context(|| {
                    format!("{file}: no group '{name}'; groups are: {}", group_list(&p))
                })?,
                None if p.groups.len() == 1 => &p.groups[0],
                None => bail!(
                    "{file}: Athena project with {} groups; choose one with --group (one of: {})",
                    p.groups.len(),
                    group_list(&p)
                ),
            };
            let label = g.label.clone();
            if g.is_chi() {
                Ok((XasInput::Chi(g.to_chi(file)?), Some(label)))
            } else {
                Ok((XasInput::Mu(g.to_spectrum(file)?), Some(label)))
            }
        }
        Dataset::Feff(_) => bail!("{file}: a FEFF path file has no μ(E); use `carto info`"),
    }
}

/// The data block `--block NAME` chose among a CIF's structures (any case),
/// else the first; an unknown name lists the blocks.
pub fn cif_block<'a>(
    all: &'a [carto::structure::Structure],
    block: Option<&str>,
    cif: &std::path::Path,
) -> Result<&'a carto::structure::Structure> {
    match block {
        Some(name) => all
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                anyhow::anyhow!(
                    "{}: no data block '{name}' with atoms (blocks: {})",
                    cif.display(),
                    names.join(", ")
                )
            }),
        None => all
            .first()
            .ok_or_else(|| anyhow::anyhow!("{}: no structure", cif.display())),
    }
}
