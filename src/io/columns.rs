//! Plain column text: Larch/ifeffit `.xmu`/`.chi`, SPEC-like `#L` files,
//! GSE EpicsScan `.001`, and raw beamline files whose header is not
//! commented at all (MRCAT, XDAC, SSRL, KEK-PF, CLS…).
//!
//! The numeric block is found from the data itself rather than from comment
//! markers, because half the beamline dialects write free text before the
//! numbers. Labels then come from the header: a few dialects spell them out
//! in a legend (handled explicitly), the rest put them on the line just above
//! the numbers (Larch `read_ascii` convention).

use std::convert::identity;

use super::{ColumnTable, LoadOptions, ParseError, parse_f64};

/// The value, or the type's empty default. Used for look-ups whose absence
/// only means "nothing there" (a missing label, an empty header slice).
pub(crate) trait OrEmpty<T> {
    fn or_empty(self) -> T;
}

impl<T: Default> OrEmpty<T> for Option<T> {
    fn or_empty(self) -> T {
        self.map_or_else(T::default, identity)
    }
}

/// Characters that start a comment line (Larch's `COMMENTCHARS`).
const COMMENT_CHARS: &[char] = &['#', ';', '%', '*', '!', '$'];

/// What one line of a column file holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LineKind {
    Blank,
    Comment,
    /// Every token parses as a number; `start` indexes the shared value
    /// buffer, `ncols` tokens long.
    Numeric {
        start: usize,
        ncols: usize,
    },
    Text,
}

/// A text split into classified lines, numbers parsed once.
pub(crate) struct Scanned<'a> {
    pub lines: Vec<&'a str>,
    pub kinds: Vec<LineKind>,
    pub values: Vec<f64>,
}

/// Token separators: whitespace and commas (CLS writes `1, 2.0, 3`).
pub(crate) fn tokens(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
}

/// A number as written by beamline software, Fortran `D` exponents included.
/// NaN/Inf parse here (so the row is recognised as data) and are rejected
/// with a location later.
fn number(tok: &str) -> Option<f64> {
    if let Ok(v) = tok.parse::<f64>() {
        return Some(v);
    }
    if tok.contains(['D', 'd']) {
        return tok.replace(['D', 'd'], "E").parse::<f64>().ok();
    }
    None
}

/// Parse every token of a line into `values`; false at the first token that
/// is not a number. A hand-written byte loop: this is the one hot path
/// (every number of the file goes through it once).
fn parse_row(line: &str, values: &mut Vec<f64>) -> bool {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
        {
            i += 1;
        }
        let start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !(b.is_ascii_whitespace() || *b == b','))
        {
            i += 1;
        }
        if i == start {
            break;
        }
        // Token boundaries are ASCII bytes, so the slice is on char edges.
        match line.get(start..i).and_then(number) {
            Some(v) => values.push(v),
            None => return false,
        }
    }
    true
}

/// Classify every line. A UTF-8 byte-order mark is ignored, and files with
/// bare `\r` line ends (classic Mac OS acquisition PCs) are split on `\r`.
pub(crate) fn scan(text: &str) -> Scanned<'_> {
    let text = text.strip_prefix('\u{feff}').map_or(text, identity);
    let lines: Vec<&str> = if text.contains('\r') && !text.contains('\n') {
        text.split('\r').collect()
    } else {
        text.lines().collect()
    };
    let mut kinds = Vec::with_capacity(lines.len());
    let mut values = Vec::with_capacity(text.len() / 8);
    for line in &lines {
        // Control characters count as blank: DOS files end with ^Z (KEK-PF).
        let t = line.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
        if t.trim_end_matches(|c: char| c.is_whitespace() || c.is_control())
            .is_empty()
        {
            kinds.push(LineKind::Blank);
            continue;
        }
        if t.starts_with(COMMENT_CHARS) {
            kinds.push(LineKind::Comment);
            continue;
        }
        let start = values.len();
        if parse_row(t, &mut values) {
            kinds.push(LineKind::Numeric {
                start,
                ncols: values.len() - start,
            });
        } else {
            values.truncate(start);
            kinds.push(LineKind::Text);
        }
    }
    Scanned {
        lines,
        kinds,
        values,
    }
}

/// Where the numeric block sits: first data line index (0-based) and its
/// column count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub first: usize,
    pub ncols: usize,
}

/// The longest run of numeric lines with one column count is the data (ties
/// go to the later run, as Larch reads the last block). Comment and blank
/// lines do not break a run. If rows with that column count also come
/// earlier (a run of two or more, or one row just above a single damaged
/// line), the data really started there and the first damaged row between
/// is reported instead of silently becoming header.
pub(crate) fn find_block(sc: &Scanned<'_>, file: &str, from: usize) -> Result<Block, ParseError> {
    // (first line, number of rows, ncols) of every run.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut cur: Option<(usize, usize, usize)> = None;
    for (i, kind) in sc.kinds.iter().enumerate().skip(from) {
        match *kind {
            LineKind::Blank | LineKind::Comment => {}
            LineKind::Text => {
                runs.extend(cur.take());
            }
            LineKind::Numeric { ncols, .. } => {
                cur = match cur {
                    Some((f, n, c)) if c == ncols => Some((f, n + 1, c)),
                    other => {
                        runs.extend(other);
                        Some((i, 1, ncols))
                    }
                };
            }
        }
    }
    runs.extend(cur);
    let best = runs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.1.cmp(&b.1.1).then(a.0.cmp(&b.0)))
        .map(|(k, r)| (k, *r));
    let Some((k, (first, _, ncols))) = best else {
        return Err(ParseError::new(file, "no numeric data found"));
    };
    let is_gap = |j: usize| matches!(sc.kinds.get(j), Some(LineKind::Blank | LineKind::Comment));
    // The earliest earlier run that belongs to the same table.
    let earlier = runs
        .get(..k)
        .or_empty()
        .iter()
        .position(|&(_, n, c)| c == ncols && n >= 2)
        .or_else(|| {
            // A single row separated from the data by exactly one bad line.
            let p = k.checked_sub(1)?;
            let &(f, _, c) = runs.get(p)?;
            let bad = (f + 1..first).filter(|&j| !is_gap(j)).take(2).count();
            (c == ncols && bad == 1).then_some(p)
        });
    // `collect` then stops at the first damaged row with its column label.
    Ok(Block {
        first: earlier.and_then(|e| runs.get(e)).map_or(first, |r| r.0),
        ncols,
    })
}

/// The error for a row inside the data block that is not `ncols` numbers.
pub(crate) fn bad_row(
    sc: &Scanned<'_>,
    file: &str,
    i: usize,
    ncols: usize,
    labels: &[String],
) -> ParseError {
    let line = sc.lines.get(i).copied().or_empty();
    let label = |j: usize| {
        labels
            .get(j)
            .cloned()
            .map_or_else(|| format!("col{}", j + 1), identity)
    };
    let toks: Vec<&str> = tokens(line.trim_start()).collect();
    for (j, tok) in toks.iter().enumerate() {
        if number(tok).is_none() {
            return ParseError::new(file, format!("'{tok}' is not a number"))
                .at_line(i + 1)
                .field(label(j));
        }
    }
    let n = toks.len();
    let field = label(n.min(ncols));
    ParseError::new(
        file,
        format!("row has {n} fields but the data block has {ncols} columns"),
    )
    .at_line(i + 1)
    .field(field)
}

/// Collect the data block into column-major vectors, rejecting damaged rows,
/// NaN and Inf with their line and column label.
pub(crate) fn collect(
    sc: &Scanned<'_>,
    file: &str,
    block: Block,
    labels: &[String],
) -> Result<(Vec<Vec<f64>>, Vec<usize>), ParseError> {
    // Bounded by the numbers actually parsed, so a pathological line count
    // cannot size the allocation.
    let nrows_guess = sc
        .kinds
        .len()
        .saturating_sub(block.first)
        .min(sc.values.len() / block.ncols.max(1) + 1);
    let mut columns: Vec<Vec<f64>> = (0..block.ncols)
        .map(|_| Vec::with_capacity(nrows_guess))
        .collect();
    let mut row_lines = Vec::with_capacity(nrows_guess);
    for (i, kind) in sc.kinds.iter().enumerate().skip(block.first) {
        match *kind {
            LineKind::Blank | LineKind::Comment => {}
            LineKind::Numeric { start, ncols } if ncols == block.ncols => {
                let vals = sc.values.get(start..start + ncols).or_empty();
                for (j, (col, &v)) in columns.iter_mut().zip(vals).enumerate() {
                    if !v.is_finite() {
                        return Err(non_finite(sc, file, i, j, labels));
                    }
                    col.push(v);
                }
                row_lines.push(i + 1);
            }
            _ => return Err(bad_row(sc, file, i, block.ncols, labels)),
        }
    }
    Ok((columns, row_lines))
}

fn non_finite(sc: &Scanned<'_>, file: &str, i: usize, j: usize, labels: &[String]) -> ParseError {
    let line = sc.lines.get(i).copied().or_empty();
    let tok = tokens(line.trim_start()).nth(j).map_or("?", identity);
    let label = labels
        .get(j)
        .cloned()
        .map_or_else(|| format!("col{}", j + 1), identity);
    match parse_f64(tok, file, i + 1, &label) {
        Err(e) => e,
        Ok(_) => ParseError::new(file, format!("non-finite value '{tok}'"))
            .at_line(i + 1)
            .field(label),
    }
}

/// Labels given by the user (`--columns "energy i0 it"`), padded with
/// `colN` and cut to the column count like Larch's `labels=`.
pub(crate) fn user_labels(spec: &str, ncols: usize) -> Vec<String> {
    let mut v: Vec<String> = spec
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    pad_labels(&mut v, ncols);
    v
}

/// Make `labels` exactly `ncols` long, single tokens, unique (a repeated
/// label gets `_colN`, as Larch does).
pub(crate) fn pad_labels(labels: &mut Vec<String>, ncols: usize) {
    labels.truncate(ncols);
    for i in labels.len()..ncols {
        labels.push(format!("col{}", i + 1));
    }
    let mut seen = std::collections::HashSet::with_capacity(labels.len());
    for (i, slot) in labels.iter_mut().enumerate() {
        let clean = slot.split_whitespace().collect::<Vec<_>>().join("_");
        let clean = if clean.is_empty() {
            format!("col{}", i + 1)
        } else {
            clean
        };
        *slot = if seen.insert(clean.to_ascii_lowercase()) {
            clean
        } else {
            format!("{clean}_col{}", i + 1)
        };
    }
}

/// Strip comment markers (`#`, `#L`, `#C`, `;`…) from a header line.
fn strip_comment(line: &str) -> &str {
    let t = line.trim();
    let t = t
        .strip_prefix("#L")
        .or_else(|| t.strip_prefix("#C "))
        .map_or(t, identity);
    t.trim_start_matches(COMMENT_CHARS).trim()
}

/// A line made only of separator characters (`#-----`, `;=====`).
fn is_separator(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| "-=/*_~+#;".contains(c) || c.is_whitespace())
}

/// Split on runs of two or more spaces (SPEC `#L` labels may contain one
/// space, e.g. `Counter 27`).
fn split_wide(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut spaces = 0;
    for c in s.chars() {
        if c == '\t' || (c == ' ' && spaces >= 1) {
            spaces = 2;
        } else if c == ' ' {
            spaces = 1;
        } else {
            if spaces >= 2 && !cur.trim().is_empty() {
                out.push(cur.trim().to_owned());
                cur.clear();
            }
            if spaces == 1 {
                cur.push(' ');
            }
            spaces = 0;
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// GSE EpicsScan legend: `; P1 = {Energy} --> PV` lines after
/// `; column labels:`.
fn gse_legend(header: &[&str]) -> Vec<String> {
    let mut found = false;
    let mut labels = Vec::new();
    for line in header {
        let t = strip_comment(line);
        if !found {
            found = t.contains("column labels:");
            continue;
        }
        if !t.contains("-->") {
            break;
        }
        if let (Some(a), Some(b)) = (t.find('{'), t.find('}'))
            && let Some(name) = t.get(a + 1..b)
        {
            labels.push(name.trim().to_owned());
        }
    }
    labels
}

/// APS XSD (20BM/20ID/9BM LabVIEW): `#  1) Mono Energy *  11) XMAP4:TiKa_Sum`
/// legend, possibly two entries per line.
fn xsd_legend(header: &[&str]) -> Vec<String> {
    let mut entries: Vec<(usize, String)> = Vec::new();
    let mut found = false;
    for line in header {
        let t = strip_comment(line);
        if !found {
            found = t.contains("readable list of column");
            continue;
        }
        if t.len() < 2 || !t.contains(')') {
            break;
        }
        // Positions of "N)" markers: digits followed by ')' at a word start.
        let bytes = t.as_bytes();
        let mut marks: Vec<(usize, usize, usize)> = Vec::new(); // (start, after, number)
        let mut k = 0;
        while k < bytes.len() {
            let at_word = k == 0 || bytes.get(k - 1).is_some_and(|b| *b == b' ');
            if at_word && bytes.get(k).is_some_and(u8::is_ascii_digit) {
                let mut e = k;
                while bytes.get(e).is_some_and(u8::is_ascii_digit) {
                    e += 1;
                }
                if bytes.get(e) == Some(&b')')
                    && let Some(n) = t.get(k..e).and_then(|s| s.parse::<usize>().ok())
                {
                    marks.push((k, e + 1, n));
                    k = e + 1;
                    continue;
                }
            }
            k += 1;
        }
        for (m, &(_, after, n)) in marks.iter().enumerate() {
            let end = marks.get(m + 1).map_or(t.len(), |x| x.0);
            let name = t.get(after..end).or_empty().trim();
            let name = name.trim_end_matches('*').trim();
            entries.push((n, name.to_owned()));
        }
    }
    entries.sort_by_key(|e| e.0);
    entries.into_iter().map(|e| e.1).collect()
}

/// SSRL EXAFS Data Collector: one label per line after `Data:`.
fn ssrl_legend(header: &[&str]) -> Vec<String> {
    let mut found = false;
    let mut labels = Vec::new();
    for line in header {
        let t = line.trim();
        if !found {
            found = t == "Data:";
            continue;
        }
        if t.is_empty() {
            break;
        }
        labels.push(t.to_owned());
    }
    labels
}

/// CLS HXMA: the `#(1)` line holding `$(Name)` templates names the columns;
/// the four detectors are I0, It (I1), Iref (I2) and fluorescence in the
/// HXMA convention, so they are named that way for the μ recipes.
fn cls_legend(header: &[&str]) -> Vec<String> {
    let mut labels = Vec::new();
    for line in header {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("#(1)")
            && rest.contains("$(")
        {
            labels = rest
                .split(|c: char| "\"#$()\t".contains(c) || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(|w| match w {
                    "Detector1" => "I0".to_owned(),
                    "Detector2" => "It".to_owned(),
                    "Detector3" => "Iref".to_owned(),
                    "Detector4" => "If".to_owned(),
                    other => other.to_owned(),
                })
                .collect();
        }
    }
    labels
}

/// KEK-PF (9809 format): angle (drive, read), time, then detector channels
/// whose role is given by the `Mode` row: 1 = I0, 2 = transmitted, 3 =
/// fluorescence (as in the "Transmission( 2)" / "Fluorescence( 3)" header).
/// The `Offset` row (dark counts) is kept in the header, not subtracted,
/// as Larch does.
fn kekpf_legend(header: &[&str], ncols: usize) -> Vec<String> {
    let mut labels = vec![
        "angle_drive".to_owned(),
        "angle_read".to_owned(),
        "time".to_owned(),
    ];
    let modes: Vec<&str> = header
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with("Mode"))
        .map(|l| l.split_whitespace().skip(1).collect())
        .or_empty();
    for j in 3..ncols {
        // `Mode` and `Offset` rows have no entry for the first column.
        let name = match modes.get(j - 1).copied() {
            Some("1") => "i0".to_owned(),
            Some("2") => "it".to_owned(),
            Some("3") => "if".to_owned(),
            _ => format!("ch{}", j - 2),
        };
        labels.push(name);
    }
    labels
}

/// APS 12BM: `#C 1_Energy (keV) 2_sec 3_mononrg …`: numbered `N_name` words.
fn numbered_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .filter_map(|w| {
            let (n, name) = w.split_once('_')?;
            n.parse::<usize>().ok()?;
            Some(name.to_owned())
        })
        .collect()
}

/// Labels from the line just above the data, Larch style, trying the
/// whitespace, double-space and `*` splits used by the various writers.
fn generic_labels(last: &str, ncols: usize) -> Vec<String> {
    let s = strip_comment(last);
    if is_separator(s) {
        return Vec::new();
    }
    let numbered = numbered_words(s);
    if numbered.len() == ncols {
        return numbered;
    }
    let cleaned: String = s
        .chars()
        .map(|c| if "\t,#@%&\"'".contains(c) { ' ' } else { c })
        .collect();
    let words: Vec<String> = cleaned.split_whitespace().map(str::to_owned).collect();
    if words.len() <= ncols {
        return words;
    }
    let wide = split_wide(s);
    if wide.len() == ncols {
        return wide;
    }
    if s.contains('*') {
        let mut parts: Vec<String> = s.split('*').map(|p| p.trim().to_owned()).collect();
        if let Some(last) = parts.pop() {
            parts.extend(last.split_whitespace().map(str::to_owned));
        }
        parts.retain(|p| !p.is_empty());
        if parts.len() == ncols {
            return parts;
        }
    }
    Vec::new()
}

/// Column labels for a table whose header is `header` (lines before the
/// data, raw).
fn header_labels(header: &[&str], ncols: usize) -> Vec<String> {
    let first = header
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .or_empty();
    let first_lc = first.to_ascii_lowercase();
    let dialect = if first_lc.starts_with("; epics scan") {
        gse_legend(header)
    } else if first_lc.contains("labview control panel") {
        xsd_legend(header)
    } else if first_lc.contains("ssrl") && first_lc.contains("exafs data collector") {
        ssrl_legend(header)
    } else if first_lc.contains("cls data acquisition") {
        cls_legend(header)
    } else if first_lc.contains("kek-pf") {
        kekpf_legend(header, ncols)
    } else {
        Vec::new()
    };
    if dialect.len() >= 2 {
        return dialect;
    }
    let last = header
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .copied()
        .or_empty();
    generic_labels(last, ncols)
}

/// `KEY= value`, `KEY: value` header pairs (single-word keys, as Larch), plus
/// FDMNES's `v1 v2 … = name1, name2, …` line.
fn header_metadata(header: &[&str], table: &mut ColumnTable) {
    for line in header {
        let h = strip_comment(line);
        if h.is_empty() {
            continue;
        }
        let split = h.split_once(':').or_else(|| h.split_once('='));
        let Some((key, val)) = split else { continue };
        let key = key.trim();
        if !key.is_empty() && !key.contains(char::is_whitespace) {
            table
                .metadata
                .entry(key.to_owned())
                .or_insert_with(|| val.trim().to_owned());
        } else if let Some((vals, names)) = h.split_once(" = ") {
            let vals: Vec<&str> = vals.split_whitespace().collect();
            let names: Vec<&str> = names.split(',').map(str::trim).collect();
            if vals.len() == names.len() && vals.iter().all(|v| number(v).is_some()) {
                for (n, v) in names.iter().zip(&vals) {
                    table.metadata.insert((*n).to_owned(), (*v).to_owned());
                }
            }
        }
    }
}

/// Read a plain column file into a table. See the module doc for dialects.
pub fn read_table(text: &str, file: &str, opts: &LoadOptions) -> Result<ColumnTable, ParseError> {
    let sc = scan(text);
    let block = find_block(&sc, file, 0)?;
    let header: &[&str] = sc.lines.get(..block.first).or_empty();
    let mut labels = match &opts.columns {
        Some(spec) => user_labels(spec, block.ncols),
        None => header_labels(header, block.ncols),
    };
    pad_labels(&mut labels, block.ncols);
    let (columns, row_lines) = collect(&sc, file, block, &labels)?;
    let mut table = ColumnTable {
        labels,
        columns,
        header: header
            .iter()
            .map(|l| strip_comment(l).to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
        row_lines,
        ..Default::default()
    };
    header_metadata(header, &mut table);
    Ok(table)
}
