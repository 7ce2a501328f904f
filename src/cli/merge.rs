//! `carto merge FILE...`: μ(E) scans merged onto the first one's grid.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use carto::io::{self, Dataset, MuMode};
use carto::xas::{self, process::XasInput};
use clap::Args;
use serde::Serialize;

use super::args::{InputArgs, spectrum_of};
use super::{emit, print_json};

/// `carto merge --json`.
#[derive(Serialize)]
pub struct MergeOut<'a> {
    pub files: &'a [String],
    pub n_spectra: usize,
    pub energy: &'a [f64],
    pub mu: &'a [f64],
    pub mu_std: &'a [f64],
    pub mu_stderr: &'a [f64],
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// μ(E) files to merge (the first one gives the energy grid).
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Group label for the files that are Athena projects.
    #[arg(long)]
    pub group: Option<String>,
    /// Override the automatic μ(E) recipe of every file.
    #[arg(long, value_enum)]
    pub mu: Option<MuMode>,
    /// Write the merged spectrum as a column file (energy, mu, mu_std) Carto and Larch read.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &MergeArgs) -> Result<()> {
    let mut spectra = Vec::new();
    let mut names = Vec::new();
    for path in &a.files {
        let file = path.display().to_string();
        let input = InputArgs {
            file: path.clone(),
            group: a.group.clone(),
            mu: a.mu,
            columns: None,
        };
        // The one routing rule: a powder pattern with two numeric columns
        // is not a μ(E) scan to average.
        let ds = match io::open(path, &input.load_options())? {
            io::Opened::Spectra(ds) => *ds,
            other => bail!(
                "{file}: merge needs μ(E) spectra, not {}",
                match other.kind() {
                    io::FileKind::Pattern => "a powder pattern",
                    io::FileKind::Structure => "a structure",
                    _ => "a fit model",
                }
            ),
        };
        let input = InputArgs {
            group: if matches!(ds, Dataset::Athena(_)) {
                a.group.clone()
            } else {
                None
            },
            ..input
        };
        let (XasInput::Mu(s), _) = spectrum_of(ds, &input, &file)? else {
            bail!("{file}: merge needs μ(E) spectra, not χ(k)");
        };
        spectra.push((s.energy_ev, s.mu));
        names.push(file);
    }
    // Each scan's own problems name its file (the core counts scans from 0).
    let (lo, hi) = match spectra.first() {
        Some((e, _)) if !e.is_empty() => (e[0], e[e.len() - 1]),
        _ => bail!("merge needs at least one μ(E) scan"),
    };
    for ((e, _), file) in spectra.iter().zip(&names) {
        if e.len() < 4 {
            bail!(
                "{file}: merge needs at least 4 points per scan, the scan has {}",
                e.len()
            );
        }
        let (first, last) = (e[0], e[e.len() - 1]);
        if last < lo || first > hi {
            bail!(
                "{file}: its energies ({first}..{last} eV) do not overlap those of \
                 the first file, {} ({lo}..{hi} eV)",
                names[0]
            );
        }
    }
    let refs: Vec<(&[f64], &[f64])> = spectra
        .iter()
        .map(|(e, m)| (e.as_slice(), m.as_slice()))
        .collect();
    let m = xas::merge::merge(&refs, 0, &Default::default())
        .map_err(|e| anyhow::anyhow!("merge of {}: {e}", names.join(", ")))?;
    if let Some(out) = &a.out {
        let mut text = format!("# merged by carto from {} scans\n", names.len());
        for n in &names {
            text += &format!("#   {n}\n");
        }
        text += "# energy mu mu_std\n";
        for i in 0..m.energy_ev.len() {
            text += &format!(
                "{:.6} {:.10e} {:.6e}\n",
                m.energy_ev[i], m.mu[i], m.mu_std[i]
            );
        }
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if a.json {
        return print_json(&MergeOut {
            files: &names,
            n_spectra: m.n_spectra,
            energy: &m.energy_ev,
            mu: &m.mu,
            mu_std: &m.mu_std,
            mu_stderr: &m.mu_stderr,
        });
    }
    emit(&format!(
        "merged {} scans onto {} points ({:.2} – {:.2} eV){}",
        m.n_spectra,
        m.energy_ev.len(),
        m.energy_ev.first().copied().unwrap_or(0.0),
        m.energy_ev.last().copied().unwrap_or(0.0),
        a.out
            .as_ref()
            .map(|o| format!(", written to {}", o.display()))
            .unwrap_or_default()
    ))
}
