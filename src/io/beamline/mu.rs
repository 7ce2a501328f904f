//! Which counters make μ(E): I0, It, Iref and fluorescence channels found
//! by label, the fluorescence group with the clearest edge, and the choice
//! between transmission and fluorescence when the file allows both.

use std::convert::identity;

use super::{
    ColumnTable, MuMode, MuRecipe, OrEmpty, ParseError, is_fluor, is_i0, is_iref, is_it,
    median_step, mu_column, norm,
};

struct Counters {
    i0: Option<usize>,
    it: Option<usize>,
    iref: Option<usize>,
    fluor: Vec<usize>,
}

/// Find the counters. Several fluorescence candidates are grouped by label
/// stem (digits removed: `Ifch1..4`, `Fe_Ka_mca1..7`) and the group whose
/// ΣIf/I0 shows the clearest edge (the absorber's line) is used.
fn counters(table: &ColumnTable, skip: &[usize]) -> Counters {
    let ns: Vec<String> = table.labels.iter().map(|l| norm(l)).collect();
    let free = |i: &usize| !skip.contains(i);
    let first = |f: &dyn Fn(&str) -> bool| {
        (0..ns.len())
            .filter(free)
            .find(|&i| ns.get(i).is_some_and(|n| f(n)))
    };
    let exact_i0 = first(&|n| matches!(n, "i0" | "io" | "izero"));
    let i0 = exact_i0.or_else(|| first(&is_i0));
    let taken: Vec<usize> = i0.into_iter().collect();
    let it = (0..ns.len())
        .filter(|i| free(i) && !taken.contains(i))
        .find(|&i| ns.get(i).is_some_and(|n| is_it(n)));
    let iref = (0..ns.len())
        .filter(|i| free(i) && Some(*i) != i0 && Some(*i) != it)
        .find(|&i| ns.get(i).is_some_and(|n| is_iref(n)));
    let cands: Vec<usize> = (0..ns.len())
        .filter(|i| free(i) && Some(*i) != i0 && Some(*i) != it && Some(*i) != iref)
        .filter(|&i| ns.get(i).is_some_and(|n| is_fluor(n)))
        .collect();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for i in cands {
        let stem = table.labels.get(i).map(|l| stem(l)).or_empty();
        match groups.iter_mut().find(|g| g.0 == stem) {
            Some(g) => g.1.push(i),
            None => groups.push((stem, vec![i])),
        }
    }
    let fluor = match groups.len() {
        0 => Vec::new(),
        1 => groups.into_iter().next().map(|g| g.1).or_empty(),
        _ => {
            let score = |g: &[usize]| {
                let sum = fluor_sum(table, g);
                let norm: Vec<f64> = match i0.and_then(|c| table.columns.get(c)) {
                    Some(i0c) => sum.iter().zip(i0c).map(|(s, d)| s / d).collect(),
                    None => sum,
                };
                edge_score(&norm)
            };
            let scored: Vec<(f64, &(String, Vec<usize>))> = groups
                .iter()
                .map(|g| (score(&g.1), g))
                .filter(|(s, _)| s.is_finite())
                .collect();
            let best = scored.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
            // A beamline's own summed ROI (`Sum_Fe_Ka`, `AlKa_sum_cps`) is
            // preferred over its channels when it is nearly as clear, so
            // every scan of a series gets the same recipe.
            let best_sum = scored
                .iter()
                .filter(|(s, g)| g.0.contains("sum") && *s >= 0.5 * best)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            best_sum
                .or_else(|| scored.iter().find(|(s, _)| *s == best))
                .map(|(_, g)| g.1.clone())
                .or_empty()
        }
    };
    Counters {
        i0,
        it,
        iref,
        fluor,
    }
}

/// Channel-group key: the label without digits and without the `_colN`
/// suffix that makes repeated labels unique (`As_Ka`, `As_Ka_col46`).
fn stem(label: &str) -> String {
    let base = match label.rfind("_col") {
        Some(p)
            if label
                .get(p + 4..)
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) =>
        {
            label.get(..p).map_or(label, identity)
        }
        _ => label,
    };
    norm(base).chars().filter(|c| !c.is_ascii_digit()).collect()
}

fn fluor_sum(table: &ColumnTable, cols: &[usize]) -> Vec<f64> {
    let mut sum = vec![0.0; table.npts()];
    for c in cols {
        if let Some(col) = table.columns.get(*c) {
            for (s, v) in sum.iter_mut().zip(col) {
                *s += v;
            }
        }
    }
    sum
}

/// How clearly a signal shows an absorption edge: the largest rise between
/// two adjacent windows (w ≈ 2% of the scan) over the median point-to-point
/// change. Foils in transmission score in the hundreds, a fluorescence
/// sample's transmission ~5, a noise-only ROI below 1.
fn edge_score(y: &[f64]) -> f64 {
    let n = y.len();
    let w = (n / 50).max(3);
    if n < 2 * w + 1 {
        return 0.0;
    }
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for v in y {
        acc += v;
        prefix.push(acc);
    }
    let mean = |a: usize, b: usize| {
        let (pa, pb) = (prefix.get(a).copied(), prefix.get(b).copied());
        pa.zip(pb)
            .map_or(0.0, |(pa, pb)| (pb - pa) / (b - a) as f64)
    };
    let step = (w..=n - w)
        .map(|i| mean(i, i + w) - mean(i - w, i))
        .fold(f64::NEG_INFINITY, f64::max);
    let noise = median_step(y);
    step / noise.max(f64::MIN_POSITIVE)
}

/// Build μ for a recipe, reporting the first row where it is not finite
/// (a zero or negative counter under the logarithm, a zero I0).
pub(crate) fn build_mu(
    table: &ColumnTable,
    file: &str,
    recipe: &MuRecipe,
) -> Result<Vec<f64>, ParseError> {
    let col = |i: usize| -> Result<&Vec<f64>, ParseError> {
        table
            .columns
            .get(i)
            .ok_or_else(|| ParseError::new(file, format!("column {} does not exist", i + 1)))
    };
    let label = |i: usize| table.labels.get(i).cloned().or_empty();
    let (mu, blame): (Vec<f64>, Vec<usize>) = match recipe {
        MuRecipe::Column { mu } => (col(*mu)?.clone(), vec![*mu]),
        MuRecipe::Transmission { i0, it } => {
            let (a, b) = (col(*i0)?, col(*it)?);
            (
                a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect(),
                vec![*i0, *it],
            )
        }
        MuRecipe::Reference { it, iref } => {
            let (a, b) = (col(*it)?, col(*iref)?);
            (
                a.iter().zip(b).map(|(x, y)| (x / y).ln()).collect(),
                vec![*it, *iref],
            )
        }
        MuRecipe::Fluorescence { i_f, i0 } => {
            let d = col(*i0)?;
            let s = fluor_sum(table, i_f);
            let mut blame = vec![*i0];
            blame.extend(i_f);
            (s.iter().zip(d).map(|(x, y)| x / y).collect(), blame)
        }
    };
    if let Some(r) = mu.iter().position(|v| !v.is_finite()) {
        // Name the counter that is zero or negative on that row.
        let culprit = blame
            .iter()
            .copied()
            .find(|&c| {
                table
                    .columns
                    .get(c)
                    .and_then(|v| v.get(r))
                    .is_some_and(|v| *v <= 0.0)
            })
            .or_else(|| blame.first().copied())
            .map_or_else(String::new, label);
        let names: Vec<String> = blame.iter().map(|&c| label(c)).collect();
        return Err(ParseError::new(
            file,
            format!(
                "μ is not finite on this row ({} from {}): '{culprit}' is zero or negative",
                recipe_name(recipe),
                names.join(", ")
            ),
        )
        .at_line(table.line_of_row(r))
        .field(culprit));
    }
    Ok(mu)
}

fn recipe_name(r: &MuRecipe) -> &'static str {
    match r {
        MuRecipe::Transmission { .. } => "ln(I0/It)",
        MuRecipe::Fluorescence { .. } => "ΣIf/I0",
        MuRecipe::Reference { .. } => "ln(It/Iref)",
        MuRecipe::Column { .. } => "μ column",
    }
}

fn missing(file: &str, mode: &str, what: &str, labels: &[String]) -> ParseError {
    ParseError::new(
        file,
        format!(
            "cannot build {mode} μ: no {what} column found among [{}] (name columns with --columns)",
            labels.join(", ")
        ),
    )
    .field(what)
}

/// Fluorescence replaces transmission automatically only when its edge is
/// this many times clearer (see [`edge_score`]).
const FLUOR_PREFERENCE: f64 = 3.0;

/// Choose and build μ: an existing μ column; else transmission when I0 and
/// It exist, ln(I0/It) is finite everywhere and rises across the scan (or
/// fluorescence does not); else fluorescence; else reference. `mode` forces
/// one kind.
pub(super) fn choose_mu(
    table: &ColumnTable,
    file: &str,
    ie: usize,
    mode: Option<MuMode>,
) -> Result<(MuRecipe, Vec<f64>), ParseError> {
    let mu_col = mu_column(&table.labels).filter(|&m| m != ie);
    let unlabelled = table.labels.iter().all(|l| {
        l.strip_prefix("col")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    });
    if unlabelled && mode.is_none() {
        let r = match log_ratio_column(table, ie) {
            Some((i0, it)) => MuRecipe::Transmission { i0, it },
            None => MuRecipe::Column {
                mu: if ie == 0 { 1 } else { 0 },
            },
        };
        return build_mu(table, file, &r).map(|m| (r, m));
    }
    let c = counters(table, &[ie]);
    let trans =
        c.i0.zip(c.it)
            .map(|(i0, it)| MuRecipe::Transmission { i0, it });
    let fluor =
        c.i0.filter(|_| !c.fluor.is_empty())
            .map(|i0| MuRecipe::Fluorescence {
                i_f: c.fluor.clone(),
                i0,
            });
    let refer =
        c.it.zip(c.iref)
            .map(|(it, iref)| MuRecipe::Reference { it, iref });
    let build = |r: MuRecipe| build_mu(table, file, &r).map(|m| (r, m));
    let labels = &table.labels;
    match mode {
        Some(MuMode::Column) => build(
            mu_col
                .map(|mu| MuRecipe::Column { mu })
                .ok_or_else(|| missing(file, "column", "mu", labels))?,
        ),
        Some(MuMode::Transmission) => {
            let r = trans.ok_or_else(|| {
                missing(
                    file,
                    "transmission",
                    if c.i0.is_none() { "i0" } else { "it" },
                    labels,
                )
            })?;
            build(r)
        }
        Some(MuMode::Fluorescence) => {
            let r = fluor.ok_or_else(|| {
                missing(
                    file,
                    "fluorescence",
                    if c.i0.is_none() { "i0" } else { "if" },
                    labels,
                )
            })?;
            build(r)
        }
        Some(MuMode::Reference) => {
            let r = refer.ok_or_else(|| {
                missing(
                    file,
                    "reference",
                    if c.it.is_none() { "it" } else { "iref" },
                    labels,
                )
            })?;
            build(r)
        }
        None => {
            if let Some(mu) = mu_col {
                return build(MuRecipe::Column { mu });
            }
            // Transmission first, unless fluorescence shows a far clearer
            // edge: then the sample was measured in fluorescence and
            // ln(I0/It) is flat (GSE Fe/Mn XANES series, XDAC Vortex data).
            let fl = fluor.map(build);
            let fl_score = match &fl {
                Some(Ok((_, m))) => edge_score(m),
                _ => 0.0,
            };
            let mut first_err = None;
            if let Some(r) = trans {
                match build(r) {
                    Ok(v) if edge_score(&v.1) * FLUOR_PREFERENCE >= fl_score => return Ok(v),
                    Ok(_) => {}
                    Err(e) => first_err = Some(e),
                }
            }
            for r in [fl, refer.map(build)].into_iter().flatten() {
                match r {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            Err(first_err.map_or_else(
                || {
                    missing(
                        file,
                        "any",
                        if c.i0.is_none() { "i0" } else { "it" },
                        labels,
                    )
                },
                identity,
            ))
        }
    }
}

/// In an unlabelled file, a column equal to ln(a/b) of two others reveals
/// which columns are I0 and It (ESRF BM08 writes `E I0 It mu It Iref mu_ref`
/// with or without the label line).
fn log_ratio_column(table: &ColumnTable, ie: usize) -> Option<(usize, usize)> {
    let n = table.columns.len();
    // Cubic in the column count: only worth trying on ordinary tables.
    if n > 24 {
        return None;
    }
    let rows = table.npts();
    let sample = [0, rows / 2, rows.saturating_sub(1)];
    let val = |c: usize, r: usize| table.columns.get(c).and_then(|v| v.get(r)).copied();
    let matches_at = |c: usize, a: usize, b: usize, r: usize| -> bool {
        match (val(c, r), val(a, r), val(b, r)) {
            (Some(m), Some(x), Some(y)) => {
                let l = (x / y).ln();
                l.is_finite() && (m - l).abs() <= 1e-6 * (1.0 + m.abs())
            }
            _ => false,
        }
    };
    for c in (0..n).filter(|&c| c != ie) {
        for a in (0..n).filter(|&a| a != ie && a != c) {
            for b in (0..n).filter(|&b| b != ie && b != c && b != a) {
                if sample.iter().all(|&r| matches_at(c, a, b, r))
                    && (0..rows).all(|r| matches_at(c, a, b, r))
                {
                    return Some((a, b));
                }
            }
        }
    }
    None
}
