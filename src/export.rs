//! CSV export of processed XAS arrays: plain comma-separated columns with a
//! `#` header whose last line names the columns, so Larch
//! (`read_ascii`), Excel and Carto itself read them back. One spectrum
//! gives up to four files, one per grid: `BASE_mu.csv` (energy),
//! `BASE_chi.csv` (k), `BASE_chir.csv` (R) and `BASE_chiq.csv` (q).
//!
//! Several spectra can also go to "wide" files, one column per spectrum on
//! a shared grid ([`wide_tables`]), as Athena saves marked groups.
//!
//! Numbers are written with Rust's shortest round-trip formatting, so a
//! file read back gives exactly the values computed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::xas::{Autobk, ChiQ, ChiR, PreEdge};

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
    /// χ(q), when a back-transform was made (`BASE_chiq.csv`).
    pub chiq: Option<&'a ChiQ>,
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
    if let Some(q) = s.chiq {
        out.push((
            "chiq",
            table(
                &head(
                    "chi(q), back-transform of chi(R) over the R window",
                    "q in 1/Angstrom; chi(q) as k^n chi(k)",
                ),
                &["q_inv_ang", "chiq_re", "chiq_im", "chiq_mag"],
                &[&q.q_inv_ang, &q.chiq_re, &q.chiq_im, &q.chiq_mag],
            ),
        ));
    }
    out
}

/// Write `BASE_mu.csv`, `BASE_chi.csv`, `BASE_chir.csv` (and `BASE_chiq.csv`) beside `base`;
/// returns the files written.
pub fn write_csv(
    base: &Path,
    s: &ExportSpectrum<'_>,
) -> Result<Vec<PathBuf>, crate::io::FileError> {
    let mut written = Vec::new();
    for (suffix, text) in csv_tables(s) {
        let path = with_suffix(base, suffix);
        std::fs::write(&path, text).map_err(|e| crate::io::FileError::new("write", &path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// The part of `x` inside every range in `ranges` (the grid of a wide file:
/// no spectrum is extrapolated).
fn common_grid(x: &[f64], ranges: &[(f64, f64)]) -> Vec<f64> {
    let lo = ranges.iter().map(|r| r.0).fold(f64::NEG_INFINITY, f64::max);
    let hi = ranges.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    x.iter().copied().filter(|v| *v >= lo && *v <= hi).collect()
}

/// One family of a wide file: each spectrum's (x, y), put on the first
/// one's x within the range they all cover (linear interpolation; a
/// spectrum on the same grid keeps its values exactly).
fn wide_table(title: &[String], x_label: &str, curves: &[(&str, &[f64], &[f64])]) -> String {
    let Some(&(_, x0, _)) = curves.first() else {
        return String::new();
    };
    let ranges: Vec<(f64, f64)> = curves
        .iter()
        .map(|(_, x, _)| {
            (
                x.first().copied().unwrap_or(0.0),
                x.last().copied().unwrap_or(0.0),
            )
        })
        .collect();
    let grid = common_grid(x0, &ranges);
    let ys: Vec<Vec<f64>> = curves
        .iter()
        .map(|(_, x, y)| crate::numeric::interp::interp_clamped(x, y, &grid))
        .collect();
    // Column names are unique: a repeated spectrum name gets _2, _3…
    let mut names: Vec<String> = Vec::new();
    for (name, _, _) in curves {
        let base = file_safe(name);
        let mut n = base.clone();
        let mut k = 2;
        while names.contains(&n) {
            n = format!("{base}_{k}");
            k += 1;
        }
        names.push(n);
    }
    let mut labels = vec![x_label];
    labels.extend(names.iter().map(String::as_str));
    let mut cols: Vec<&[f64]> = vec![&grid];
    cols.extend(ys.iter().map(Vec::as_slice));
    table(title, &labels, &cols)
}

/// Wide files of several spectra, one column each: `norm` (normalized μ(E)
/// on the first μ(E) spectrum's energies), `chi` (χ(k), unweighted) and
/// `chir` (|χ(R)|), each on the range all of them cover. Families no
/// spectrum has are left out.
pub fn wide_tables(spectra: &[ExportSpectrum<'_>]) -> Vec<(&'static str, String)> {
    let names: Vec<&str> = spectra.iter().map(|s| s.name).collect();
    let head = |what: &str, units: &str| {
        vec![
            format!("Carto export: {what} of {}", names.join(", ")),
            format!("units: {units}"),
            "one column per spectrum, on the first one's grid where all of them have data".into(),
        ]
    };
    let mut out = Vec::new();
    let norm: Vec<(&str, &[f64], &[f64])> = spectra
        .iter()
        .filter_map(|s| {
            s.pre
                .map(|p| (s.name, p.energy_ev.as_slice(), p.norm.as_slice()))
        })
        .collect();
    if !norm.is_empty() {
        out.push((
            "norm",
            wide_table(
                &head("normalized mu(E)", "energy in eV; norm unitless"),
                "energy_eV",
                &norm,
            ),
        ));
    }
    let chi: Vec<(&str, &[f64], &[f64])> = spectra
        .iter()
        .map(|s| (s.name, s.k_inv_ang, s.chi))
        .collect();
    if !chi.is_empty() {
        out.push((
            "chi",
            wide_table(
                &head("chi(k)", "k in 1/Angstrom; chi unweighted"),
                "k_inv_ang",
                &chi,
            ),
        ));
        let chir: Vec<(&str, &[f64], &[f64])> = spectra
            .iter()
            .map(|s| (s.name, s.chir.r_ang.as_slice(), s.chir.chir_mag.as_slice()))
            .collect();
        out.push((
            "chir",
            wide_table(
                &head("|chi(R)|", "R in Angstrom; |chi(R)| in 1/Angstrom^(n+1)"),
                "r_ang",
                &chir,
            ),
        ));
    }
    out
}

/// Write the [`wide_tables`] as `BASE_norm.csv`, `BASE_chi.csv`,
/// `BASE_chir.csv` (atomically); returns the files written.
pub fn write_wide_csv(
    base: &Path,
    spectra: &[ExportSpectrum<'_>],
) -> Result<Vec<PathBuf>, crate::io::FileError> {
    let mut written = Vec::new();
    for (suffix, text) in wide_tables(spectra) {
        let path = with_suffix(base, suffix);
        crate::session::write_file_atomic(&path, text.as_bytes())
            .map_err(|e| crate::io::FileError::new("write", &path, e))?;
        written.push(path);
    }
    Ok(written)
}
