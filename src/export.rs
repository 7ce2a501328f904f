//! CSV export of processed XAS arrays: plain comma-separated columns with a
//! `#` header whose last line names the columns, so Larch
//! (`read_ascii`), Excel and Carto itself read them back. One spectrum
//! gives up to three files, one per grid: `BASE_mu.csv` (energy),
//! `BASE_chi.csv` (k) and `BASE_chir.csv` (R).
//!
//! Numbers are written with Rust's shortest round-trip formatting, so a
//! file read back gives exactly the values computed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::xas::{Autobk, ChiR, PreEdge};

/// What one processed spectrum holds (μ(E) steps are None for χ(k) inputs).
#[derive(Debug, Clone, Copy)]
pub struct ExportSpectrum<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub pre: Option<&'a PreEdge>,
    pub bkg: Option<&'a Autobk>,
    pub k_inv_ang: &'a [f64],
    pub chi: &'a [f64],
    pub chir: &'a ChiR,
}

/// `dir/export.csv` + suffix "mu" → `dir/export_mu.csv`.
pub fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
    let stem = base
        .file_stem()
        .map_or_else(|| "carto".into(), |s| s.to_string_lossy().into_owned());
    base.with_file_name(format!("{stem}_{suffix}.csv"))
}

/// A spectrum name as a file-name fragment (letters, digits, `-`, `_`, `.`).
pub fn file_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.trim_matches('_').to_string()
}

fn table(title: &[String], labels: &[&str], cols: &[&[f64]]) -> String {
    let n = cols.iter().map(|c| c.len()).min().unwrap_or(0);
    let mut out = String::new();
    for line in title {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "# {}", labels.join(", "));
    for i in 0..n {
        let row: Vec<String> = cols.iter().map(|c| format!("{}", c[i])).collect();
        let _ = writeln!(out, "{}", row.join(", "));
    }
    out
}

/// The files' contents: (suffix, text) for each grid the spectrum has.
pub fn csv_tables(s: &ExportSpectrum<'_>) -> Vec<(&'static str, String)> {
    let head = |what: &str, units: &str| {
        vec![
            format!("Carto export of {}: {what}", s.name),
            format!("source: {}", s.source),
            format!("units: {units}"),
        ]
    };
    let mut out = Vec::new();
    if let Some(pre) = s.pre {
        let mut labels = vec!["energy_eV", "mu", "norm", "flat", "pre_edge", "post_edge"];
        let mut cols: Vec<&[f64]> = vec![
            &pre.energy_ev,
            &pre.mu,
            &pre.norm,
            &pre.flat,
            &pre.pre_edge,
            &pre.post_edge,
        ];
        if let Some(b) = s.bkg.filter(|b| b.bkg.len() == pre.energy_ev.len()) {
            labels.push("bkg");
            cols.push(&b.bkg);
        }
        let mut title = head(
            "normalized mu(E)",
            "energy in eV; mu, pre_edge, post_edge, bkg as measured; norm and flat unitless",
        );
        title.push(format!("e0 = {} eV, edge_step = {}", pre.e0, pre.edge_step));
        out.push(("mu", table(&title, &labels, &cols)));
    }
    out.push((
        "chi",
        table(
            &head("chi(k)", "k in 1/Angstrom; chi unweighted"),
            &["k_inv_ang", "chi"],
            &[s.k_inv_ang, s.chi],
        ),
    ));
    let r = s.chir;
    out.push((
        "chir",
        table(
            &head(
                "chi(R), Fourier transform of k^n chi(k)",
                "R in Angstrom; chi(R) in 1/Angstrom^(n+1)",
            ),
            &["r_ang", "chir_mag", "chir_re", "chir_im"],
            &[&r.r_ang, &r.chir_mag, &r.chir_re, &r.chir_im],
        ),
    ));
    out
}

/// Write `BASE_mu.csv`, `BASE_chi.csv`, `BASE_chir.csv` beside `base`;
/// returns the files written.
pub fn write_csv(base: &Path, s: &ExportSpectrum<'_>) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for (suffix, text) in csv_tables(s) {
        let path = with_suffix(base, suffix);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
