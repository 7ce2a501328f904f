//! XDI 1.0 (XAS Data Interchange): `# XDI/1.0 …` version line, namespaced
//! `# Family.key: value` fields, `# Column.N: label [units]`, free comments
//! between `# ///` and `# ----`, the label line, then the data.
//!
//! GSE "Epics StepScan" files (`#XDI/1.1`) write `Column.N: label units ||
//! PV`; the `|| PV` part is an address, not part of the label or units.

use super::columns::{self, LineKind, OrEmpty};
use super::{ColumnTable, Dataset, LoadOptions, ParseError, XasSpectrum, beamline};

/// Largest `Column.N` trusted to size the table before any data is seen.
const MAX_DECLARED_COLUMNS: usize = 4096;

/// One XDI file as written, before μ is built.
#[derive(Debug, Clone, PartialEq)]
pub struct XdiFile {
    /// `1.0` from `# XDI/1.0 GSE/1.0`.
    pub version: String,
    /// Application strings after the version (`GSE/1.0`, `BlueSky/1.5.0`).
    pub applications: String,
    /// `Family.key` → value, in file order (`|| PV` addresses kept).
    pub fields: Vec<(String, String)>,
    /// Per column (0-based): label and units (empty when not given).
    pub column_units: Vec<String>,
    /// Free-form user comments between `# ///` and `# ----`.
    pub comments: Vec<String>,
    /// Labels, data, the header lines and `Family.key` metadata.
    pub table: ColumnTable,
}

/// `label units` from a `Column.N` value, dropping `# comment` and `|| PV`.
fn column_label_units(value: &str) -> (String, String) {
    let v = value.split("||").next().map_or("", str::trim);
    let v = v.split('#').next().map_or("", str::trim);
    let mut words = v.split_whitespace();
    let label = words.next().map_or_else(String::new, str::to_owned);
    let units = words.next().map_or_else(String::new, str::to_owned);
    (label, units)
}

/// One header line before the user comments, checked as the XDI library
/// checks it: `Family.Key: Value` with one `.`, a Family that starts with
/// a letter or `_`, a Key of letters, digits and `_` (it may start with a
/// digit), and a value. Anything else is an error at its line.
fn check_field(h: &str, file: &str, lineno: usize) -> Result<(String, String), ParseError> {
    let bad = |why: &str, field: &str| {
        ParseError::new(
            file,
            format!("header line '{h}' is not 'Family.Key: Value': {why}"),
        )
        .at_line(lineno)
        .field(field)
    };
    let Some((key, value)) = h.split_once(':') else {
        return Err(bad("no ':'", "header"));
    };
    let (key, value) = (key.trim(), value.trim());
    let Some((family, name)) = key.split_once('.') else {
        return Err(bad("no '.' between Family and Key", key));
    };
    if name.contains('.') {
        return Err(bad("more than one '.' in the name", key));
    }
    let word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !word(family) || !word(name) {
        return Err(bad("Family and Key are letters, digits and '_'", key));
    }
    if family.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad("the Family starts with a digit", key));
    }
    if value.is_empty() {
        return Err(bad("no value", key));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// `Column.N` labels against the data (the XDI library reads such files
/// and warns): none at all, a gap in the numbering, labels for columns the
/// rows do not have (ignored), or fewer labels than columns.
fn check_columns(
    col_labels: &[(usize, String, String, usize)],
    ncols: usize,
    version_line: usize,
    warn: &mut impl FnMut(usize, String),
) {
    if col_labels.is_empty() {
        warn(
            version_line,
            "no Column.N fields; columns are named from the label line".to_owned(),
        );
        return;
    }
    let mut seen: Vec<usize> = col_labels.iter().map(|c| c.0).collect();
    seen.sort_unstable();
    seen.dedup();
    let mut expect = 0;
    for &i in &seen {
        if i > expect
            && let Some((_, label, _, line)) = col_labels.iter().find(|c| c.0 == i)
        {
            warn(
                *line,
                format!(
                    "Column.{} ('{label}') skips Column.{}: column numbers are not contiguous",
                    i + 1,
                    expect + 1
                ),
            );
        }
        expect = i + 1;
    }
    for (i, label, _, line) in col_labels.iter().filter(|c| c.0 >= ncols) {
        warn(
            *line,
            format!(
                "Column.{} ('{label}') is declared but the data rows have only {ncols} columns; label ignored",
                i + 1
            ),
        );
    }
    let labelled = seen.iter().filter(|&&i| i < ncols).count();
    if labelled < ncols
        && let Some((_, _, _, line)) = col_labels.last()
    {
        warn(
            *line,
            format!(
                "{ncols} data columns but only {labelled} Column.N labels; the others are named from the label line or colN"
            ),
        );
    }
}

/// XDI edges (`Element.edge`).
const EDGES: &[&str] = &[
    "K", "L", "L1", "L2", "L3", "M", "M1", "M2", "M3", "M4", "M5", "N", "N1", "N2", "N3", "N4",
    "N5", "N6", "N7", "O", "O1", "O2", "O3", "O4", "O5", "O6", "O7", "P", "P1", "P2", "P3",
];

/// Fields the XDI library lists as recommended.
const RECOMMENDED: &[&str] = &[
    "Facility.name",
    "Facility.xray_source",
    "Beamline.name",
    "Scan.start_time",
];

/// `2001-06-26T22:27:31` (a space for the `T` too), fields in range; a
/// fraction of a second or a time zone may follow.
fn is_iso_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = v.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let punct = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    let seps =
        punct(4, b"-") && punct(7, b"-") && punct(10, b"T ") && punct(13, b":") && punct(16, b":");
    let (Some(_), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    let tail = v.get(19..).unwrap_or("");
    seps && (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && h < 24
        && mi < 60
        && s <= 60
        && (tail.is_empty() || tail.starts_with(['.', 'Z', '+', '-']))
}

/// `7.00 GeV`, `300 K`: a number, then at most one unit word.
fn is_quantity(v: &str) -> bool {
    let mut w = v.split_whitespace();
    let number = w
        .next()
        .is_some_and(|t| t.parse::<f64>().is_ok_and(f64::is_finite));
    number && w.nth(1).is_none()
}

/// Required and recommended metadata and the values the XDI library
/// checks; each problem is a located warning (it reads such files).
fn check_metadata(
    fields: &[(String, String)],
    field_lines: &[usize],
    col_labels: &[(usize, String, String, usize)],
    version_line: usize,
    warn: &mut impl FnMut(usize, String),
) {
    let get = |name: &str| {
        fields
            .iter()
            .zip(field_lines)
            .find(|((k, _), _)| k.eq_ignore_ascii_case(name))
            .map(|((_, v), &l)| (v.as_str(), l))
    };
    let symbol_ok =
        |s: &str| (1..=118).any(|z| super::feff::element_symbol(z).eq_ignore_ascii_case(s));
    match get("Element.symbol") {
        None => warn(
            version_line,
            "no Element.symbol (required by XDI)".to_owned(),
        ),
        Some((v, l)) if !symbol_ok(v) => {
            warn(l, format!("Element.symbol '{v}' is not an element symbol"));
        }
        Some(_) => {}
    }
    match get("Element.edge") {
        None => warn(version_line, "no Element.edge (required by XDI)".to_owned()),
        Some((v, l)) if !EDGES.iter().any(|e| e.eq_ignore_ascii_case(v)) => {
            warn(
                l,
                format!("Element.edge '{v}' is not an X-ray edge (K, L1, L2, L3, M1…)"),
            );
        }
        Some(_) => {}
    }
    let first_col = col_labels.iter().find(|c| c.0 == 0);
    let angle = first_col.is_some_and(|c| {
        c.1.eq_ignore_ascii_case("angle") || c.2.to_ascii_lowercase().starts_with("deg")
    });
    match get("Mono.d_spacing") {
        Some((v, l))
            if !(is_quantity(v)
                && v.split_whitespace()
                    .next()
                    .and_then(|t| t.parse::<f64>().ok())
                    .is_some_and(|d| d > 0.0)) =>
        {
            warn(
                l,
                format!("Mono.d_spacing '{v}' is not a positive number of Å"),
            );
        }
        None if angle => {
            let l = first_col.map_or(version_line, |c| c.3);
            warn(
                l,
                format!(
                    "the energy is given as an angle but there is no Mono.d_spacing; \
                     Si(111) d = {} Å is assumed",
                    crate::units::SI111_D_ANG
                ),
            );
        }
        _ => {}
    }
    let mut missing: Vec<String> = RECOMMENDED
        .iter()
        .filter(|k| get(k).is_none())
        .map(|k| (*k).to_owned())
        .collect();
    match first_col {
        Some(c) if c.1.eq_ignore_ascii_case("energy") || c.1.eq_ignore_ascii_case("angle") => {}
        Some(c) => missing.push(format!("Column.1 energy or angle (it is '{}')", c.1)),
        None => missing.push("Column.1".to_owned()),
    }
    if !missing.is_empty() {
        warn(
            version_line,
            format!("missing recommended XDI metadata: {}", missing.join(", ")),
        );
    }
    for key in ["Scan.start_time", "Scan.end_time"] {
        if let Some((v, l)) = get(key)
            && !is_iso_datetime(v)
        {
            warn(
                l,
                format!("{key} '{v}' is not an ISO 8601 date and time (2001-06-26T22:27:31)"),
            );
        }
    }
    for key in ["Sample.temperature", "Facility.energy", "Facility.current"] {
        if let Some((v, l)) = get(key)
            && !is_quantity(v)
        {
            warn(l, format!("{key} '{v}' is not a number with units"));
        }
    }
}

/// Parse the XDI structure. Errors name the file and line; what the XDI
/// library reads with a warning is read, and the warning (`file:line: …`)
/// kept in `table.warnings`.
pub fn parse(text: &str, file: &str, opts: &LoadOptions) -> Result<XdiFile, ParseError> {
    let sc = columns::scan(text);
    let first = sc
        .kinds
        .iter()
        .position(|k| *k != LineKind::Blank)
        .ok_or_else(|| ParseError::new(file, "file is empty"))?;
    let line0 = sc.lines.get(first).map_or("", |l| l.trim());
    let after = line0
        .strip_prefix('#')
        .map(str::trim_start)
        .and_then(|s| s.strip_prefix("XDI/"))
        .ok_or_else(|| {
            ParseError::new(file, "missing '# XDI/1.0' version line")
                .at_line(first + 1)
                .field("version")
        })?;
    let mut words = after.split_whitespace();
    let version = words.next().map_or_else(String::new, str::to_owned);
    let applications = words.collect::<Vec<_>>().join(" ");

    // The header is every comment line up to the first non-comment line.
    let data_start = sc
        .kinds
        .iter()
        .enumerate()
        .skip(first)
        .find(|(_, k)| !matches!(k, LineKind::Comment | LineKind::Blank))
        .map_or(sc.kinds.len(), |(i, _)| i);
    let header: Vec<&str> = sc
        .lines
        .get(first + 1..data_start)
        .map_or_else(Vec::new, <[&str]>::to_vec);

    let mut fields = Vec::new();
    // 1-based line of each field, for warnings about its value.
    let mut field_lines = Vec::new();
    let mut comments = Vec::new();
    let mut warnings = Vec::new();
    let mut warn = |line: usize, msg: String| warnings.push(format!("{file}:{line}: {msg}"));
    // (0-based column, label, units, file line of its `Column.N`)
    let mut col_labels: Vec<(usize, String, String, usize)> = Vec::new();
    let mut in_comments = false;
    let mut label_line: Option<&str> = None;
    let mut after_rule = false;
    let last_text = header.iter().rposition(|l| {
        let t = l.trim().trim_start_matches('#').trim();
        !t.is_empty()
    });
    for (k, raw) in header.iter().enumerate() {
        let t = raw.trim();
        let lineno = first + 2 + k;
        if let Some(c) = t.chars().next()
            && c != '#'
        {
            // `! Beamline.name: …`: the XDI library skips such lines.
            warn(
                lineno,
                format!("line starts with '{c}', not '#' (XDI comment character); ignored"),
            );
            continue;
        }
        let h = t.trim_start_matches('#').trim();
        if h.starts_with("---") {
            in_comments = false;
            after_rule = true;
            continue;
        }
        if after_rule {
            if !h.is_empty() {
                label_line = Some(h);
            }
            continue;
        }
        if h.starts_with("///") {
            in_comments = true;
            continue;
        }
        if in_comments {
            comments.push(h.to_owned());
            continue;
        }
        if h.is_empty() {
            continue;
        }
        if !h.contains(':') && last_text == Some(k) {
            // Labels right above the data with no `# ----` before them.
            warn(
                lineno,
                format!("no '# ----' line before the column labels '{h}'"),
            );
            label_line = Some(h);
            continue;
        }
        let (key, value) = check_field(h, file, lineno)?;
        if let Some(n) = key
            .strip_prefix("Column.")
            .or_else(|| key.strip_prefix("column."))
        {
            let idx: usize = n.trim().parse().map_err(|_| {
                ParseError::new(file, format!("bad column number in '{key}'"))
                    .at_line(lineno)
                    .field(key.as_str())
            })?;
            if idx == 0 {
                return Err(ParseError::new(file, "column numbers start at 1")
                    .at_line(lineno)
                    .field(key.as_str()));
            }
            let (label, units) = column_label_units(&value);
            col_labels.push((idx - 1, label, units, lineno));
        }
        fields.push((key, value));
        field_lines.push(lineno);
    }
    if !after_rule && label_line.is_none() {
        warn(
            data_start + 1,
            "no '# ----' line ends the XDI header before the data".to_owned(),
        );
    }

    // Column count from the first data row; when that row is damaged, from
    // the header, so the error can still name the column.
    // (Bounded: a corrupt `Column.99999999` must not size an allocation.)
    let declared = col_labels
        .iter()
        .map(|c| c.0 + 1)
        .filter(|&n| n <= MAX_DECLARED_COLUMNS)
        .max()
        .or_empty();
    let (ncols, first_ok) = match sc.kinds.get(data_start) {
        Some(LineKind::Numeric { ncols, .. }) => (*ncols, true),
        Some(_) => (
            declared.max(label_line.map_or(0, |l| l.split_whitespace().count())),
            false,
        ),
        None => {
            return Err(ParseError::new(file, "no data after the XDI header")
                .at_line(sc.lines.len().max(1)));
        }
    };
    let mut labels: Vec<String> = label_line
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .or_empty();
    labels.resize(ncols.max(labels.len()), String::new());
    let mut column_units = vec![String::new(); ncols];
    for (i, label, units, _) in &col_labels {
        if let Some(slot) = labels.get_mut(*i)
            && !label.is_empty()
        {
            *slot = label.clone();
        }
        if let Some(slot) = column_units.get_mut(*i) {
            *slot = units.clone();
        }
    }
    if let Some(spec) = &opts.columns {
        labels = columns::user_labels(spec, ncols);
    }
    columns::pad_labels(&mut labels, ncols);
    if !first_ok {
        return Err(columns::bad_row(&sc, file, data_start, ncols, &labels));
    }
    check_columns(&col_labels, ncols, first + 1, &mut warn);
    check_metadata(&fields, &field_lines, &col_labels, first + 1, &mut warn);
    let block = columns::Block {
        first: data_start,
        ncols,
    };
    let (data, row_lines) = columns::collect(&sc, file, block, &labels)?;
    let mut table = ColumnTable {
        labels,
        columns: data,
        header: header
            .iter()
            .map(|l| l.trim().trim_start_matches('#').trim().to_owned())
            .collect(),
        row_lines,
        warnings,
        ..Default::default()
    };
    table
        .metadata
        .insert("XDI.version".to_owned(), version.clone());
    for (k, v) in &fields {
        table.metadata.insert(k.clone(), v.clone());
    }
    if !comments.is_empty() {
        table
            .metadata
            .insert("XDI.comments".to_owned(), comments.join("\n"));
    }
    Ok(XdiFile {
        version,
        applications,
        fields,
        column_units,
        comments,
        table,
    })
}

/// Read an XDI file into μ(E): an existing μ column (`mutrans`, `mufluor`…)
/// when present, else μ from the `i0`/`itrans`/`ifluor`/`irefer` counters.
pub fn read(text: &str, file: &str, opts: &LoadOptions) -> Result<XasSpectrum, ParseError> {
    let xdi = parse(text, file, opts)?;
    beamline::to_xas(xdi.table, file, opts)
}

/// Read an XDI file into whatever it holds: μ(E), or χ(k) when its first
/// column is `k` (XDI allows `k`/`chi` columns).
///
/// An XDI file of other data (a motor or position scan: no energy, angle
/// or k column) is an error here, not μ built on a position axis; `carto
/// info` lists such a file's columns from [`parse`].
pub fn read_dataset(text: &str, file: &str, opts: &LoadOptions) -> Result<Dataset, ParseError> {
    let xdi = parse(text, file, opts)?;
    let t = &xdi.table;
    if opts.mu_mode.is_none()
        && opts.columns.is_none()
        && !beamline::is_chi(t)
        && !beamline::has_energy_axis(t)
    {
        return Err(ParseError::new(
            file,
            format!(
                "no energy, angle or k column (columns: {}): XDI data that are not a spectrum",
                t.labels.join(", ")
            ),
        )
        .field("Column.1"));
    }
    beamline::to_dataset(xdi.table, file, opts)
}
