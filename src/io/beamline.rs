//! What a column table means: χ(k) or μ(E), which column is the energy (eV,
//! keV or monochromator angle), which are the counters, and how μ is built.
//!
//! Column roles are recognised from labels as the beamlines write them
//! (`I0`, `Io`, `I0-32`, `PreKB-I0`, `It`, `I1`, `itrans`, `Iref`, `I2`, `If`,
//! `Ifch1`, `Fe_Ka_mca3`…), after normalising to lower-case alphanumerics.
//!
//! Compared with Larch (`read_ascii` + `guess_beamline`, xraylarch 2026.3):
//! energy columns and units agree on all 18 beamline files (keV at APS 12BM,
//! angle + `D=` at KEK-PF, achieved energy at SSRL/CLS, FDMNES shifted by
//! `E_edge` as `read_fdmnes` does). Larch does not choose μ; where its GUI
//! pre-selects `i0` and `itrans`/`i1` we find the same counters (though
//! `choose_mu` may still prefer fluorescence). Larch drops
//! `TiKa_Sum` from the APS 20ID two-column legend (its later labels shift by
//! one); Larch leaves KEK-PF channels and CLS detectors unnamed.

use std::convert::identity;
use std::path::Path;

use super::columns::OrEmpty;
use super::{
    ChiData, ColumnTable, Dataset, EnergyUnit, LoadOptions, MuMode, MuRecipe, ParseError,
    XasSpectrum,
};
use crate::units;

mod mu;
pub(crate) use mu::build_mu;
use mu::choose_mu;

/// Lower-case alphanumerics of a label, without a trailing `_cN` column tag
/// (SLS PHOENIX writes `I0_KEITHLEY1_c4`).
fn norm(label: &str) -> String {
    let base = match label.rfind("_c") {
        Some(p)
            if label
                .get(p + 2..)
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) =>
        {
            label.get(..p).map_or(label, identity)
        }
        _ => label,
    };
    base.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Words in a label that mark a bookkeeping column, never a counter (count
/// rates and live times used for dead-time correction, offsets, gains).
const NOT_COUNTER: &[&str] = &[
    "off", "norm", "gain", "time", "clock", "dtfactor", "icr", "ocr", "output", "ertm", "eltm",
    "sec", "current", "tscaler", "dxp", "raw", "fast", "slow",
];

fn bookkeeping(n: &str) -> bool {
    NOT_COUNTER.iter().any(|w| n.contains(w))
}

fn is_i0(n: &str) -> bool {
    matches!(n, "i0" | "io" | "izero" | "mon" | "monitor")
        || ((n.starts_with("i0") || n.ends_with("i0")) && !bookkeeping(n) && !n.contains("corr"))
}

fn is_it(n: &str) -> bool {
    matches!(
        n,
        "it" | "i1" | "itrans" | "itr" | "trans" | "itransmission"
    ) || ((n.starts_with("it") || n.starts_with("i1")) && !bookkeeping(n))
}

fn is_iref(n: &str) -> bool {
    matches!(n, "iref" | "ir" | "i2" | "irefer" | "ref")
        || ((n.starts_with("iref") || n.starts_with("ir") || n.starts_with("i2"))
            && !bookkeeping(n))
}

fn is_fluor(n: &str) -> bool {
    if bookkeeping(n) {
        return false;
    }
    matches!(
        n,
        "if" | "ifluor" | "fluor" | "fluo" | "fl" | "lytle" | "pfy" | "tfy"
    ) || n.starts_with("if")
        || n.starts_with("roi")
        || n.starts_with("dtc")
        || n.starts_with("fla")
        || n.starts_with("mca")
        || n.contains("ka")
        || n.contains("kb")
}

/// An existing μ column: `mu`, `xmu`, `mutrans`, `mufluor`, `log(i0/it)`,
/// FDMNES `<xanes>`… Reference μ (`murefer`, `mu_ref`) only if nothing else.
/// The first one in file order wins (`mufluor` before `mutrans` in the Roman
/// glass XDI, whose comments say it is fluorescence data).
fn mu_column(labels: &[String]) -> Option<usize> {
    let ns: Vec<String> = labels.iter().map(|l| norm(l)).collect();
    let is_mu = |n: &str| {
        n == "mu"
            || n.starts_with("xmu")
            || (n.starts_with("mu") && !n.starts_with("mul"))
            || matches!(n, "logi0it" | "logi0i1" | "lni0it" | "absorption")
            || n.contains("xanes")
    };
    let is_ref = |n: &str| n.contains("ref");
    // APS 12BM's `mu01`/`mu12`/`mu23` are chamber-pair ratios logged on the
    // fly and clipped to 0 where a chamber reads ≤ 0; the raw counters are
    // used instead so a dead chamber is noticed.
    let is_mu = |n: &str| {
        is_mu(n)
            && !n
                .strip_prefix("mu")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    ns.iter()
        .position(|n| is_mu(n) && !is_ref(n))
        .or_else(|| ns.iter().position(|n| is_mu(n)))
}

fn is_energy(n: &str) -> bool {
    n == "e" || n == "ev" || n.contains("energy") || n.starts_with("ener")
}

fn is_angle(n: &str) -> bool {
    (n.contains("angle") || n.contains("theta") || n == "th") && !n.contains("2th")
}

/// The energy column: an *achieved* energy (SSRL, CLS; Larch picks the
/// same), else the first energy-labelled one that is not a *requested*
/// set-point, else an angle column, else the first column.
fn energy_column(ns: &[String]) -> (usize, bool) {
    let e = ns
        .iter()
        .position(|n| is_energy(n) && n.contains("achieved"))
        .or_else(|| {
            ns.iter()
                .position(|n| is_energy(n) && !n.contains("request") && !n.ends_with("sp"))
        })
        .or_else(|| ns.iter().position(|n| is_energy(n)));
    if let Some(i) = e {
        return (i, false);
    }
    let a = ns
        .iter()
        .position(|n| is_angle(n) && (n.contains("read") || n.contains("rbv")))
        .or_else(|| ns.iter().position(|n| is_angle(n)));
    match a {
        Some(i) => (i, true),
        None => (0, false),
    }
}

/// Units recorded for column `i` (XDI `Column.N: label units`).
fn column_units(table: &ColumnTable, i: usize) -> Option<String> {
    let v = table.metadata.get(&format!("Column.{}", i + 1))?;
    let v = v.split("||").next()?.split('#').next()?;
    v.split_whitespace().nth(1).map(str::to_ascii_lowercase)
}

/// Monochromator d-spacing (Å) from the header: XDI `Mono.d_spacing`,
/// KEK-PF `D=  3.13551 A`; Si(111) otherwise.
fn d_spacing_ang(table: &ColumnTable) -> f64 {
    for (k, v) in &table.metadata {
        let kl = k.to_ascii_lowercase();
        if (kl.contains("d_spacing") || kl.contains("dspacing"))
            && let Some(d) = v
                .split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok())
            && d > 0.5
        {
            return d;
        }
    }
    for line in &table.header {
        if !line.to_ascii_lowercase().contains("mono") {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if (*w == "D=" || *w == "d=")
                && let Some(d) = words.get(i + 1).and_then(|t| t.parse::<f64>().ok())
                && d > 0.5
            {
                return d;
            }
        }
    }
    units::SI111_D_ANG
}

fn median_step(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    if d.is_empty() {
        return 0.0;
    }
    median_of(&mut d).map_or(0.0, |v| v)
}

/// The element at index `len / 2` of `v` sorted by `total_cmp`, found by
/// selection instead of a full sort (same value: `total_cmp` ties are
/// bit-identical). `v` is reordered.
fn median_of(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

/// χ(k) files: a first column labelled `k`, or a first column that looks
/// like a k grid (starts within 0–3 Å⁻¹, ends below 30 Å⁻¹, rises in fine
/// steps) when a `chi` label or no labels at all go with it. A `chi` label
/// alone is not enough: goniometer motors are called `Chi` too.
fn chi_columns(table: &ColumnTable) -> Option<(usize, usize)> {
    let ns: Vec<String> = table.labels.iter().map(|l| norm(l)).collect();
    let chi = ns
        .iter()
        .skip(1)
        .position(|n| n.starts_with("chi"))
        .map(|i| i + 1);
    if table.columns.len() < 2 {
        return None;
    }
    if ns.first().is_some_and(|n| n == "k" || n == "kinvang") {
        return Some((0, chi.map_or(1, identity)));
    }
    let unlabelled = table.labels.iter().all(|l| {
        l.strip_prefix("col")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    });
    let k = table.columns.first()?;
    let (first, last) = (*k.first()?, *k.last()?);
    let k_like =
        (0.0..3.0).contains(&first) && last <= 30.0 && last > first && median_step(k) <= 0.1;
    if k_like && (chi.is_some() || unlabelled) {
        return Some((0, chi.map_or(1, identity)));
    }
    None
}

/// Whether the table reads as χ(k) (see [`chi_columns`]).
pub(crate) fn is_chi(table: &ColumnTable) -> bool {
    chi_columns(table).is_some()
}

/// Whether some column can be the energy axis of μ(E): an energy or
/// monochromator-angle label, or eV, keV or degree units recorded for it.
/// XDI files also carry other scans (sample position, maps), which have none.
pub(crate) fn has_energy_axis(table: &ColumnTable) -> bool {
    table.labels.iter().any(|l| {
        let n = norm(l);
        is_energy(&n) || is_angle(&n)
    }) || (0..table.labels.len()).any(|i| {
        column_units(table, i).is_some_and(|u| u == "ev" || u == "kev" || u.starts_with("deg"))
    })
}

/// Turn a column table into χ(k) or μ(E).
pub fn to_dataset(
    table: ColumnTable,
    file: &str,
    opts: &LoadOptions,
) -> Result<Dataset, ParseError> {
    if opts.mu_mode.is_none()
        && let Some((ik, ichi)) = chi_columns(&table)
    {
        return to_chi(table, file, ik, ichi).map(Dataset::Chi);
    }
    to_xas(table, file, opts).map(Dataset::Xas)
}

fn file_name(file: &str) -> String {
    Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned())
}

fn to_chi(table: ColumnTable, file: &str, ik: usize, ichi: usize) -> Result<ChiData, ParseError> {
    let k = table.columns.get(ik).cloned().or_empty();
    let chi = table
        .columns
        .get(ichi)
        .cloned()
        .ok_or_else(|| ParseError::new(file, "χ(k) file needs a second column for χ"))?;
    let label = table.labels.get(ik).cloned().or_empty();
    for (r, w) in k.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(ParseError::new(
                file,
                format!("k is not increasing ({} then {})", w[0], w[1]),
            )
            .at_line(table.line_of_row(r + 1))
            .field(label));
        }
    }
    Ok(ChiData {
        name: file_name(file),
        k_inv_ang: k,
        chi,
        table,
    })
}

/// Energy in eV from the chosen column, with the unit it was found in.
fn energy_ev(table: &ColumnTable, ie: usize, angle: bool) -> (Vec<f64>, EnergyUnit) {
    let raw = table.columns.get(ie).cloned().or_empty();
    let units = column_units(table, ie);
    let is_deg = angle || units.as_deref().is_some_and(|u| u.starts_with("deg"));
    if is_deg {
        let d = d_spacing_ang(table);
        let e = raw
            .iter()
            .map(|&t| units::mono_angle_to_energy_ev(t, d))
            .collect();
        return (e, EnergyUnit::MonoDeg);
    }
    let kev = match units.as_deref() {
        Some("kev") => true,
        Some("ev") => false,
        _ => {
            let mut s = raw.clone();
            median_of(&mut s).is_some_and(|m| (1.0..=100.0).contains(&m))
        }
    };
    if kev {
        (raw.iter().map(|v| v * 1000.0).collect(), EnergyUnit::Kev)
    } else {
        (raw, EnergyUnit::Ev)
    }
}

/// FDMNES writes energies relative to the edge; the absolute edge energy is
/// `E_edge` in the header (Larch's `read_fdmnes` shifts the same way).
fn fdmnes_shift(table: &ColumnTable) -> f64 {
    let is_fdmnes = table
        .header
        .first()
        .is_some_and(|h| h.to_ascii_lowercase().contains("fdmnes"));
    if !is_fdmnes {
        return 0.0;
    }
    table
        .metadata
        .get("E_edge")
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |v| v)
}

/// Reverse every column (and the line map) of a table.
fn reverse_rows(table: &mut ColumnTable) {
    for c in &mut table.columns {
        c.reverse();
    }
    table.row_lines.reverse();
}

/// Energy must increase. A scan recorded high-to-low is reversed; a step
/// back inside a rising scan is an error at that row; exact repeats are
/// nudged up by 1e-6 eV as Larch's `remove_dups` does.
fn order_energy(
    table: &mut ColumnTable,
    energy: &mut Vec<f64>,
    mu: &mut Vec<f64>,
    file: &str,
    label: &str,
) -> Result<(), ParseError> {
    if let (Some(a), Some(b)) = (energy.first(), energy.last())
        && b < a
    {
        reverse_rows(table);
        energy.reverse();
        mu.reverse();
    }
    sort_jitter(table, energy, mu, file, label)?;
    const TINY: f64 = 1e-6;
    let mut add = vec![0.0; energy.len()];
    for i in 1..energy.len() {
        let (prev, cur) = (energy[i - 1], energy[i]);
        if (cur - prev).abs() < TINY {
            add[i] = add[i - 1] + TINY;
        }
    }
    for (e, a) in energy.iter_mut().zip(add) {
        *e += a;
    }
    Ok(())
}

/// Readback jitter (a step back smaller than half the median step, as at
/// SLS PHOENIX region boundaries) is sorted away like Larch's `sort_xafs`;
/// a larger step back means overlapping scans or a corrupt file and is an
/// error at that row.
fn sort_jitter(
    table: &mut ColumnTable,
    energy: &mut Vec<f64>,
    mu: &mut Vec<f64>,
    file: &str,
    label: &str,
) -> Result<(), ParseError> {
    let tolerance = 0.5 * median_step(energy);
    let mut jitter = false;
    for (i, w) in energy.windows(2).enumerate() {
        let (prev, cur) = (w[0], w[1]);
        if cur < prev {
            if prev - cur > tolerance {
                return Err(ParseError::new(
                    file,
                    format!("energy goes backwards ({prev} then {cur}) inside an increasing scan"),
                )
                .at_line(table.line_of_row(i + 1))
                .field(label));
            }
            jitter = true;
        }
    }
    if jitter {
        let mut order: Vec<usize> = (0..energy.len()).collect();
        order.sort_by(|&a, &b| {
            let ea = energy.get(a).map_or(0.0, |v| *v);
            let eb = energy.get(b).map_or(0.0, |v| *v);
            ea.total_cmp(&eb)
        });
        let permute = |v: &Vec<f64>| -> Vec<f64> {
            order.iter().filter_map(|&i| v.get(i).copied()).collect()
        };
        *energy = permute(energy);
        *mu = permute(mu);
        for c in &mut table.columns {
            *c = permute(c);
        }
        table.row_lines = order
            .iter()
            .filter_map(|&i| table.row_lines.get(i).copied())
            .collect();
    }
    Ok(())
}

/// Build μ(E) from a table whose energy and counters are found by label.
pub fn to_xas(
    mut table: ColumnTable,
    file: &str,
    opts: &LoadOptions,
) -> Result<XasSpectrum, ParseError> {
    if table.npts() < 2 {
        return Err(ParseError::new(
            file,
            "need at least two data rows for a spectrum",
        ));
    }
    let ns: Vec<String> = table.labels.iter().map(|l| norm(l)).collect();
    let (ie, angle) = energy_column(&ns);
    let shift = fdmnes_shift(&table);
    let (mut energy, unit) = if shift != 0.0 {
        let e = table
            .columns
            .get(ie)
            .map_or_else(Vec::new, |c| c.iter().map(|v| v + shift).collect());
        (e, EnergyUnit::Ev)
    } else {
        energy_ev(&table, ie, angle)
    };
    let label = table.labels.get(ie).cloned().or_empty();
    // X-ray energies are positive: a column of negated (or edge-relative)
    // energies would put e0 at −7112 eV and pass every later check.
    if let Some(row) = energy.iter().position(|&e| e <= 0.0) {
        return Err(ParseError::new(
            file,
            format!(
                "energy {} eV is not positive: negated or edge-relative energies are not μ(E) \
                 Carto can process",
                energy.get(row).copied().unwrap_or(0.0)
            ),
        )
        .at_line(table.line_of_row(row))
        .field(label));
    }
    let chosen = choose_mu(&table, file, ie, opts.mu_mode)?;
    let (recipe, mut mu) = (chosen.recipe, chosen.mu);
    table.warnings.extend(chosen.warnings);
    order_energy(&mut table, &mut energy, &mut mu, file, &label)?;
    Ok(XasSpectrum {
        name: file_name(file),
        energy_ev: energy,
        mu,
        energy_column: ie,
        energy_unit: unit,
        recipe,
        choice: Some(chosen.choice),
        table,
    })
}
