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

use super::{ColumnTable, LoadOptions, ParseError, fastnum, parse_f64};

mod labels;
use labels::{header_labels, header_metadata, strip_comment};

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

/// The fields of a data row as `parse_row` counts them (separators are
/// whitespace and commas; CLS writes `1, 2.0, 3`): empty strings for
/// the empty fields of `1,,3` (leading and trailing separators give none).
fn fields(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut commas = 0;
    let mut rest = line;
    while !rest.is_empty() {
        let sep = rest
            .find(|c: char| !(c.is_ascii_whitespace() || c == ','))
            .map_or(rest.len(), identity);
        commas += rest.get(..sep).map_or(0, |s| s.matches(',').count());
        rest = rest.get(sep..).or_empty();
        if rest.is_empty() {
            break;
        }
        if !out.is_empty() && commas >= 2 {
            out.extend(std::iter::repeat_n("", commas - 1));
        }
        commas = 0;
        let end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == ',')
            .map_or(rest.len(), identity);
        out.extend(rest.get(..end));
        rest = rest.get(end..).or_empty();
    }
    out
}

/// A number as written by beamline software, Fortran `D` exponents included.
/// NaN/Inf parse here (so the row is recognised as data) and are rejected
/// with a location later.
fn number(tok: &str) -> Option<f64> {
    match fastnum::parse_simple(tok.as_bytes()) {
        Some(v) => Some(v),
        None => number_general(tok),
    }
}

/// [`number`] without the fast path, for tokens it already declined.
fn number_general(tok: &str) -> Option<f64> {
    if let Ok(v) = tok.parse::<f64>() {
        return Some(v);
    }
    if tok.contains(['D', 'd']) {
        return tok.replace(['D', 'd'], "E").parse::<f64>().ok();
    }
    None
}

/// A token separator: ASCII whitespace or a comma.
#[inline]
fn is_sep(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b','
}

/// Parse every token of a line into `values`; false at the first token that
/// is not a number. A hand-written byte loop: this is the one hot path
/// (every number of the file goes through it once). Plain decimals are
/// parsed as the token is scanned ([`fastnum::parse_prefix`]); any other
/// token goes through [`number`].
fn parse_row(line: &str, values: &mut Vec<f64>) -> bool {
    let bytes = line.as_bytes();
    let first = values.len();
    let mut i = 0;
    loop {
        let rest = bytes.get(i..).or_empty();
        let skip = rest
            .iter()
            .position(|&b| !is_sep(b))
            .map_or(rest.len(), |k| k);
        let commas = rest
            .get(..skip)
            .or_empty()
            .iter()
            .filter(|&&b| b == b',')
            .count();
        i += skip;
        let rest = bytes.get(i..).or_empty();
        if rest.is_empty() {
            return true;
        }
        // `1,,3`: an empty field between two values is a missing value, not
        // no column at all (which would shift every later column's label).
        // It becomes NaN, rejected with its location by `collect`.
        if values.len() > first && commas >= 2 {
            values.extend(std::iter::repeat_n(f64::NAN, commas - 1));
        }
        if let Some((v, n)) = fastnum::parse_prefix(rest)
            && rest.get(n).is_none_or(|&b| is_sep(b))
        {
            values.push(v);
            i += n;
            continue;
        }
        let start = i;
        i += rest
            .iter()
            .position(|&b| is_sep(b))
            .map_or(rest.len(), |k| k);
        // Token boundaries are ASCII bytes, so the slice is on char edges.
        // The fast path has declined this token (it reads the token alone
        // exactly as it read it followed by a separator).
        match line.get(start..i).and_then(number_general) {
            Some(v) => values.push(v),
            None => return false,
        }
    }
}

/// Classify every line. A UTF-8 byte-order mark is ignored; CR, LF and
/// CRLF all end a line, mixed or not ([`super::split_lines`]), so a file
/// with bare `\r` ends (classic Mac OS acquisition PCs), or one that mixes
/// them with CRLF, keeps every row.
pub(crate) fn scan(text: &str) -> Scanned<'_> {
    let text = text.strip_prefix('\u{feff}').map_or(text, identity);
    let b = text.as_bytes();
    let mut sc = Scanned {
        lines: Vec::with_capacity(b.len() / 24 + 1),
        kinds: Vec::with_capacity(b.len() / 24 + 1),
        values: Vec::with_capacity(b.len() / 8),
    };
    for line in super::split_lines(text) {
        sc.push(line);
    }
    sc
}

impl<'a> Scanned<'a> {
    /// Classify one line and record it.
    fn push(&mut self, line: &'a str) {
        let kind = classify(line, &mut self.values);
        self.lines.push(line);
        self.kinds.push(kind);
    }
}

/// What one line holds; its numbers are appended to `values`. Lines whose
/// first significant character is ASCII (all data lines) are classified on
/// bytes; the rest go through [`classify_chars`], the general rule.
fn classify(line: &str, values: &mut Vec<f64>) -> LineKind {
    let b = line.as_bytes();
    // ASCII whitespace and control characters (≤ 0x20, DEL) are skipped,
    // as `char::is_whitespace || char::is_control` would.
    let lead = b.iter().take_while(|&&c| c <= b' ' || c == 0x7f).count();
    match b.get(lead) {
        None => LineKind::Blank,
        Some(&c) if c >= 0x80 => classify_chars(line, values),
        Some(&c) if COMMENT_CHARS.contains(&char::from(c)) => LineKind::Comment,
        Some(_) => numeric_or_text(line.get(lead..).or_empty(), values),
    }
}

/// The general rule: control characters count as blank (DOS files end with
/// ^Z, KEK-PF), comment characters start a comment, and a line of numbers
/// is numeric.
fn classify_chars(line: &str, values: &mut Vec<f64>) -> LineKind {
    let t = line.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
    if t.trim_end_matches(|c: char| c.is_whitespace() || c.is_control())
        .is_empty()
    {
        return LineKind::Blank;
    }
    if t.starts_with(COMMENT_CHARS) {
        return LineKind::Comment;
    }
    numeric_or_text(t, values)
}

fn numeric_or_text(t: &str, values: &mut Vec<f64>) -> LineKind {
    let start = values.len();
    if parse_row(t, values) {
        LineKind::Numeric {
            start,
            ncols: values.len() - start,
        }
    } else {
        values.truncate(start);
        LineKind::Text
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
        // Point at the end: a header with nothing after it (aborted scan).
        return Err(ParseError::new(file, "no numeric data found").at_line(sc.lines.len().max(1)));
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
    let toks = fields(line.trim_start());
    for (j, tok) in toks.iter().enumerate() {
        if tok.is_empty() {
            return ParseError::new(file, "empty field (no value between two commas)")
                .at_line(i + 1)
                .field(label(j));
        }
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
    let tok = fields(line.trim_start())
        .get(j)
        .copied()
        .map_or("?", identity);
    let label = labels
        .get(j)
        .cloned()
        .map_or_else(|| format!("col{}", j + 1), identity);
    if tok.is_empty() {
        return ParseError::new(file, "empty field (no value between two commas)")
            .at_line(i + 1)
            .field(label);
    }
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

/// `7000,5`, `-0,123`, `1,5e-3`: a number written with a decimal comma.
fn is_decimal_comma(tok: &str) -> bool {
    let Some((int, frac)) = tok.split_once(',') else {
        return false;
    };
    let int = int.strip_prefix('-').unwrap_or(int);
    let frac = frac.split_once(['e', 'E']).map_or(frac, |(m, e)| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) {
            m
        } else {
            ""
        }
    });
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Number formats a column reader would misread, found in the first 50
/// data lines, each with its own located error: decimal commas (`7000,5
/// 0,123`, which the comma-separator rule would split into four columns)
/// and quoted CSV fields (`"7000.0","0.1"`). Two such lines (or every data
/// line, when fewer) decide.
pub(crate) fn foreign_numbers(text: &str, file: &str) -> Option<ParseError> {
    let (mut seen, mut commas, mut quoted) = (0usize, Vec::new(), Vec::new());
    for (i, line) in super::split_lines(text).enumerate().take(20_000) {
        let t = line.trim();
        if t.is_empty() || t.starts_with(COMMENT_CHARS) {
            continue;
        }
        seen += 1;
        if seen > 50 {
            break;
        }
        let toks: Vec<&str> = t
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|x| !x.is_empty())
            .collect();
        if toks.len() >= 2 && !t.contains('.') && toks.iter().all(|k| is_decimal_comma(k)) {
            commas.push((i + 1, toks.first().copied().unwrap_or("")));
        }
        let fields: Vec<&str> = t
            .split([',', ';', '\t'])
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        fn inner(f: &str) -> Option<&str> {
            f.strip_prefix('"').and_then(|f| f.strip_suffix('"'))
        }
        if fields.len() >= 2
            && fields.iter().all(|f| inner(f).is_some())
            && fields.iter().any(|f| inner(f).and_then(number).is_some())
        {
            quoted.push((i + 1, fields.first().copied().unwrap_or("")));
        }
    }
    let enough = |n: usize| n >= 2.min(seen.max(1));
    if enough(commas.len())
        && let Some(&(line, tok)) = commas.first()
    {
        return Some(
            ParseError::new(
                file,
                format!(
                    "decimal commas ('{tok}'): Carto reads '.' as the decimal point; \
                     export the file with '.' decimals"
                ),
            )
            .at_line(line)
            .field("data"),
        );
    }
    if enough(quoted.len())
        && let Some(&(line, tok)) = quoted.first()
    {
        return Some(
            ParseError::new(
                file,
                format!(
                    "quoted CSV fields ({tok}): Carto reads plain numbers; export without quotes"
                ),
            )
            .at_line(line)
            .field("data"),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    /// The tokenizer before the fast scanner (separators: whitespace, commas).
    fn tokens(line: &str) -> impl Iterator<Item = &str> {
        line.split(|c: char| c.is_ascii_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
    }

    use super::*;

    type Lines<'a> = (Vec<&'a str>, Vec<LineKind>, Vec<f64>);

    /// The general rule the fast scanner must reproduce: `str::lines`,
    /// Unicode trimming, `tokens` and `str::parse` (Fortran `D` retried).
    fn reference(text: &str) -> Lines<'_> {
        let text = text.strip_prefix('\u{feff}').map_or(text, identity);
        // Universal newlines, as Python splits them, byte by byte.
        let (b, mut lines, mut start, mut i) = (text.as_bytes(), Vec::new(), 0, 0);
        while i < b.len() {
            if b[i] == b'\n' || b[i] == b'\r' {
                lines.push(&text[start..i]);
                if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start < b.len() {
            lines.push(&text[start..]);
        }
        let (mut kinds, mut values) = (Vec::new(), Vec::new());
        for line in &lines {
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
            let mut ok = true;
            for tok in tokens(t) {
                let v = tok.parse::<f64>().ok().or_else(|| {
                    tok.contains(['D', 'd'])
                        .then(|| tok.replace(['D', 'd'], "E").parse::<f64>().ok())
                        .flatten()
                });
                match v {
                    Some(v) => values.push(v),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                kinds.push(LineKind::Numeric {
                    start,
                    ncols: values.len() - start,
                });
            } else {
                values.truncate(start);
                kinds.push(LineKind::Text);
            }
        }
        (lines, kinds, values)
    }

    fn check(text: &str, what: &str) {
        let sc = scan(text);
        let (lines, kinds, values) = reference(text);
        assert_eq!(sc.lines, lines, "{what}: lines");
        assert_eq!(sc.kinds, kinds, "{what}: kinds");
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&sc.values), bits(&values), "{what}: values");
    }

    #[test]
    fn fast_scan_matches_the_general_rule() -> Result<(), String> {
        for text in [
            "1 2 3\r\n4 5 6\r\n",
            "a\rb\rc",
            "1 2\r3 4\r",
            "\u{feff}# x\n1 2\n",
            "  \t\x1a\n1 2 3\x1a\n",
            "\u{a0}1 2\n\u{3000}# c\n\u{85}\n",
            "1e 2\n1e+ 2\n1e5x 3\n1e00001 1\n",
            "1,2,3\n1, 2 ,3,\n,,\n",
            "1D3 2d-2\n1.5D+03,2\n",
            "nan inf\n-inf 1\n",
            "-0 +0 -0.0 .5 5. -.5e+3\n",
            "\x0b1 2\n1\x0b2\n\x7f1 2\n",
            "12345678901234567890 1\n9007199254740993 0.1\n1e-400 1e400\n",
            "x\n\n\n",
            "1 2\r",
            "",
            "\n",
            "é 1\n1 é\n",
        ] {
            check(text, &format!("{text:?}"));
        }
        // Every text file of the shared data.
        let root = crate::bench::data_root(None)?.join("xas");
        let mut dirs = vec![root];
        let mut n = 0;
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if let Ok(b) = std::fs::read(&p)
                    && !b.contains(&0)
                {
                    let text = match std::str::from_utf8(&b) {
                        Ok(s) => s.to_owned(),
                        Err(_) => b.iter().map(|&c| c as char).collect(),
                    };
                    check(&text, &p.display().to_string());
                    n += 1;
                }
            }
        }
        assert!(n > 20, "only {n} data files found");
        Ok(())
    }
}
