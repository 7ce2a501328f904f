//! Which counters make μ(E): I0, It, Iref and fluorescence channels found
//! by label, the fluorescence group with the clearest edge, and the choice
//! between transmission and fluorescence when the file allows both.

use std::convert::identity;

use super::{
    ColumnTable, MuMode, MuRecipe, OrEmpty, ParseError, is_fluor, is_i0, is_iref, is_it, median_of,
    median_step, mu_column, norm,
};
use crate::io::{EDGE_MIN_SCORE, RecipeCandidate, RecipeChoice};

struct Counters {
    i0: Option<usize>,
    it: Option<usize>,
    iref: Option<usize>,
    fluor: Vec<usize>,
    /// Every fluorescence channel group: stem, channel count, ΣIf/I0 edge
    /// score (when there were several to choose from), best first.
    groups: Vec<(String, usize, f64)>,
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
    let mut listed: Vec<(String, usize, f64)> = Vec::new();
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
            let chosen = best_sum.or_else(|| scored.iter().find(|(s, _)| *s == best));
            if let Some((s, g)) = chosen {
                listed.push((g.0.clone(), g.1.len(), *s));
            }
            let mut rest: Vec<(String, usize, f64)> = scored
                .iter()
                .filter(|(_, g)| chosen.is_none_or(|c| c.1.0 != g.0))
                .map(|(s, g)| (g.0.clone(), g.1.len(), *s))
                .collect();
            rest.sort_by(|a, b| b.2.total_cmp(&a.2));
            listed.extend(rest);
            chosen.map(|(_, g)| g.1.clone()).or_empty()
        }
    };
    Counters {
        i0,
        it,
        iref,
        fluor,
        groups: listed,
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

/// A choice is close when the losing side's score is within this factor of
/// the threshold that decided it (fluorescence between 2× and 4.5×
/// transmission's score): on the shared beamline files the decisive ratio
/// is never inside it (fexanes_c: fluorescence at 4.8× transmission).
const CLOSE_FACTOR: f64 = 1.5;

/// An ion chamber below this fraction of its median on a row is dead there
/// (a real It never falls 100× within one scan: that is Δμ = 4.6).
const DEAD_FRACTION: f64 = 0.01;

/// μ as chosen: the recipe, μ, why, and warnings for the spectrum's table.
pub(super) struct Chosen {
    pub recipe: MuRecipe,
    pub mu: Vec<f64>,
    pub choice: RecipeChoice,
    pub warnings: Vec<String>,
}

/// Edge jump (largest rise between two adjacent windows of ~2% of the
/// scan) and noise (median point-to-point change) of `y`.
fn jump_and_noise(y: &[f64]) -> (f64, f64) {
    let n = y.len();
    let w = (n / 50).max(3);
    if n < 2 * w + 1 {
        return (0.0, median_step(y));
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
    (step, median_step(y))
}

/// How clearly a signal shows an absorption edge: its edge jump over its
/// noise ([`jump_and_noise`]). Foils in transmission score in the
/// hundreds, a fluorescence sample's transmission ~5, a noise-only ROI
/// below 1.
fn edge_score(y: &[f64]) -> f64 {
    let (step, noise) = jump_and_noise(y);
    step / noise.max(f64::MIN_POSITIVE)
}

/// The first row where an ion chamber is dead: below [`DEAD_FRACTION`] of
/// its median (a detector left unconnected or switched off mid-scan reads
/// its amplifier's dark current, not zero).
fn dead_row(col: &[f64]) -> Option<usize> {
    let mut a: Vec<f64> = col.iter().map(|v| v.abs()).collect();
    let med = median_of(&mut a)?;
    if med.is_nan() || med <= 0.0 {
        return None;
    }
    col.iter().position(|v| *v < DEAD_FRACTION * med)
}

/// One candidate recipe, built and scored; the error when it is unusable.
fn evaluate(
    table: &ColumnTable,
    file: &str,
    r: MuRecipe,
) -> (RecipeCandidate, Result<Vec<f64>, ParseError>) {
    let text = r.describe(&table.labels);
    let unusable = |r: MuRecipe, e: ParseError| {
        let why = match e.line {
            Some(l) => format!("line {l}: {}", e.message),
            None => e.message.clone(),
        };
        (
            RecipeCandidate {
                recipe: r,
                text: text.clone(),
                edge_jump: None,
                noise: None,
                score: None,
                unusable: Some(why),
            },
            Err(e),
        )
    };
    let mu = match build_mu(table, file, &r) {
        Ok(mu) => mu,
        Err(e) => return unusable(r, e),
    };
    // The chamber after the sample: a dead It or Iref gives a μ with a
    // step where it died, which scores as a fine edge.
    let chamber = match &r {
        MuRecipe::Transmission { it, .. } => Some(*it),
        MuRecipe::Reference { iref, .. } => Some(*iref),
        _ => None,
    };
    if let Some(c) = chamber
        && let Some(row) = table.columns.get(c).and_then(|v| dead_row(v))
    {
        let label = table.labels.get(c).cloned().or_empty();
        let e = ParseError::new(
            file,
            format!(
                "'{label}' is dead on this row (below {}% of its median: dark current)",
                DEAD_FRACTION * 100.0
            ),
        )
        .at_line(table.line_of_row(row))
        .field(label);
        return unusable(r, e);
    }
    let (jump, noise) = jump_and_noise(&mu);
    let score = jump / noise.max(f64::MIN_POSITIVE);
    (
        RecipeCandidate {
            recipe: r,
            text,
            edge_jump: Some(jump),
            noise: Some(noise),
            score: Some(score),
            unusable: None,
        },
        Ok(mu),
    )
}

fn score_text(c: &RecipeCandidate) -> String {
    match (c.score, &c.unusable) {
        (_, Some(why)) => format!("{} is unusable ({why})", c.text),
        (Some(s), None) => format!("{} scores {}", c.text, fmt_score(s)),
        (None, None) => format!("{} was not built", c.text),
    }
}

fn fmt_score(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// Choose and build μ: an existing μ column; else the automatic rule of
/// [`auto_mu`]. `mode` forces one kind.
pub(super) fn choose_mu(
    table: &ColumnTable,
    file: &str,
    ie: usize,
    mode: Option<MuMode>,
) -> Result<Chosen, ParseError> {
    let mu_col = mu_column(&table.labels).filter(|&m| m != ie);
    let unlabelled = table.labels.iter().all(|l| {
        l.strip_prefix("col")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    });
    let simple = |r: MuRecipe, how: &'static str, reason: String| {
        build_mu(table, file, &r).map(|mu| Chosen {
            recipe: r,
            mu,
            choice: RecipeChoice {
                how,
                reason,
                candidates: Vec::new(),
                close: false,
            },
            warnings: Vec::new(),
        })
    };
    let label = |i: usize| table.labels.get(i).cloned().or_empty();
    if unlabelled && mode.is_none() {
        return match log_ratio_column(table, ie) {
            Some((i0, it)) => simple(
                MuRecipe::Transmission { i0, it },
                "unlabelled",
                format!(
                    "unlabelled columns: another column equals ln({}/{}), so these are I0 and It",
                    label(i0),
                    label(it)
                ),
            ),
            None => {
                let mu = if ie == 0 { 1 } else { 0 };
                simple(
                    MuRecipe::Column { mu },
                    "unlabelled",
                    format!(
                        "unlabelled columns: the first column after the energy ({}) is μ",
                        label(mu)
                    ),
                )
            }
        };
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
    let labels = &table.labels;
    let asked = |r: MuRecipe, kind: &str| simple(r, "asked", format!("{kind} was asked for"));
    match mode {
        Some(MuMode::Column) => asked(
            mu_col
                .map(|mu| MuRecipe::Column { mu })
                .ok_or_else(|| missing(file, "column", "mu", labels))?,
            "a μ column",
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
            asked(r, "transmission")
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
            asked(r, "fluorescence")
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
            asked(r, "reference")
        }
        None => {
            if let Some(mu) = mu_col {
                return simple(
                    MuRecipe::Column { mu },
                    "column",
                    format!("the file's own μ column '{}'", label(mu)),
                );
            }
            if trans.is_none() && fluor.is_none() && refer.is_none() {
                return Err(missing(
                    file,
                    "any",
                    if c.i0.is_none() { "i0" } else { "it" },
                    labels,
                ));
            }
            auto_mu(table, file, trans, fluor, refer, &c.groups)
        }
    }
}

/// The automatic rule ([`RecipeChoice::RULE`]) over the candidates the
/// columns allow: transmission, fluorescence, reference.
fn auto_mu(
    table: &ColumnTable,
    file: &str,
    trans: Option<MuRecipe>,
    fluor: Option<MuRecipe>,
    refer: Option<MuRecipe>,
    groups: &[(String, usize, f64)],
) -> Result<Chosen, ParseError> {
    let ev = |r: Option<MuRecipe>| r.map(|r| evaluate(table, file, r));
    let (t, f, r) = (ev(trans), ev(fluor), ev(refer));
    let score = |c: &Option<(RecipeCandidate, Result<Vec<f64>, ParseError>)>| {
        c.as_ref().filter(|c| c.1.is_ok()).and_then(|c| c.0.score)
    };
    let (st, sf, sr) = (score(&t), score(&f), score(&r));
    let groups_note = if groups.len() > 1 {
        let list: Vec<String> = groups
            .iter()
            .map(|(stem, n, s)| format!("'{stem}' ×{n}: {}", fmt_score(*s)))
            .collect();
        format!(
            " (fluorescence channel groups by ΣIf/I0 edge score: {})",
            list.join(", ")
        )
    } else {
        String::new()
    };
    let mut warnings = Vec::new();
    let mut close = false;
    // Index into [t, f, r] of the winner, and the reason.
    let (pick, reason) = match (st, sf) {
        (Some(st), sf) if sf.is_none_or(|sf| st * FLUOR_PREFERENCE >= sf) => {
            let reason = match (&f, sf) {
                (Some(fc), Some(sf)) => {
                    let q = sf / (FLUOR_PREFERENCE * st.max(f64::MIN_POSITIVE));
                    close = q > 1.0 / CLOSE_FACTOR;
                    format!(
                        "transmission scores {} and {} is not {FLUOR_PREFERENCE}× higher ({})",
                        fmt_score(st),
                        fc.0.text,
                        fmt_score(sf)
                    )
                }
                (Some(fc), None) => format!(
                    "transmission scores {}; {}",
                    fmt_score(st),
                    score_text(&fc.0)
                ),
                _ => format!(
                    "transmission (score {}) is the only recipe the columns allow",
                    fmt_score(st)
                ),
            };
            (0, reason)
        }
        (Some(st), Some(sf)) => {
            let q = sf / (FLUOR_PREFERENCE * st.max(f64::MIN_POSITIVE));
            close = q < CLOSE_FACTOR;
            (
                1,
                format!(
                    "fluorescence scores {}, over {FLUOR_PREFERENCE}× transmission's {}: the \
                     sample was measured in fluorescence",
                    fmt_score(sf),
                    fmt_score(st)
                ),
            )
        }
        // Transmission is unusable or absent: the first fallback that
        // shows an edge, else the first usable one (refused below when
        // transmission was unusable).
        (None, _) if sf.is_some() || sr.is_some() => {
            let edged = |s: Option<f64>| s.is_some_and(|s| s >= EDGE_MIN_SCORE);
            let pick = if sf.is_some() && (edged(sf) || !edged(sr)) {
                1
            } else {
                2
            };
            let won = if pick == 1 { sf } else { sr };
            let kind = if pick == 1 {
                "fluorescence"
            } else {
                "reference"
            };
            let why: Vec<String> = [&t, &f]
                .into_iter()
                .take(pick)
                .flatten()
                .map(|c| score_text(&c.0))
                .collect();
            let score = fmt_score(won.unwrap_or(0.0));
            (
                pick,
                if why.is_empty() {
                    format!("{kind} (score {score}): the columns allow no transmission")
                } else {
                    format!("{}; {kind} scores {score}", why.join("; "))
                },
            )
        }
        _ => {
            // Nothing usable: the first candidate's located error.
            let err = [t, f, r]
                .into_iter()
                .flatten()
                .find_map(|c| c.1.err())
                .unwrap_or_else(|| ParseError::new(file, "no μ recipe could be built"));
            return Err(err);
        }
    };
    let mut all = [t, f, r];
    let (won, mu) = match all.get_mut(pick).and_then(Option::take) {
        Some((c, Ok(mu))) => (c, mu),
        _ => return Err(ParseError::new(file, "no μ recipe could be built")),
    };
    let won_score = won.score.unwrap_or(0.0);
    // A fallback from an unusable transmission is only taken when it
    // shows an edge: otherwise it is dark current, refused with the dead
    // counter's location.
    if pick > 0
        && let Some((tc, Err(te))) = all.first().and_then(Option::as_ref)
    {
        if won_score < EDGE_MIN_SCORE {
            let mut e = te.clone();
            e.message = format!(
                "no μ recipe is usable: {}, and {} shows no absorption edge (edge jump / noise \
                 {} < {EDGE_MIN_SCORE}: dark current or an unconnected detector); choose one \
                 with --mu",
                score_text(tc),
                won.text,
                fmt_score(won_score)
            );
            return Err(e);
        }
        warnings.push(format!(
            "{file}: μ from {} (edge jump / noise {}) because {}",
            won.text,
            fmt_score(won_score),
            score_text(tc)
        ));
    }
    let usable: Vec<f64> = [st, sf, sr].into_iter().flatten().collect();
    if usable.len() > 1 && usable.iter().all(|s| *s < EDGE_MIN_SCORE) {
        close = true;
        warnings.push(format!(
            "{file}: no μ recipe shows an absorption edge (edge jump / noise below \
             {EDGE_MIN_SCORE} for all); took {} by the rule — check the counters or choose with \
             --mu",
            won.text
        ));
    } else if close {
        warnings.push(format!(
            "{file}: the μ recipe was a close call: {reason}; took {} (choose with --mu)",
            won.text
        ));
    }
    let mut candidates = vec![won];
    candidates.extend(all.into_iter().flatten().map(|c| c.0));
    Ok(Chosen {
        recipe: candidates
            .first()
            .map_or(MuRecipe::Column { mu: 0 }, |c| c.recipe.clone()),
        mu,
        choice: RecipeChoice {
            how: "auto",
            reason: format!("{reason}{groups_note}"),
            candidates,
            close,
        },
        warnings,
    })
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
