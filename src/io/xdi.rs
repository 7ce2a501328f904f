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

/// Parse the XDI structure. Errors name the file and line.
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
    let mut comments = Vec::new();
    // (0-based column, label, units, file line of its `Column.N`)
    let mut col_labels: Vec<(usize, String, String, usize)> = Vec::new();
    let mut in_comments = false;
    let mut label_line: Option<&str> = None;
    let mut after_rule = false;
    for (k, raw) in header.iter().enumerate() {
        let h = raw.trim().trim_start_matches('#').trim();
        let lineno = first + 2 + k;
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
        let Some((key, value)) = h.split_once(':') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        if let Some(n) = key
            .strip_prefix("Column.")
            .or_else(|| key.strip_prefix("column."))
        {
            let idx: usize = n.trim().parse().map_err(|_| {
                ParseError::new(file, format!("bad column number in '{key}'"))
                    .at_line(lineno)
                    .field(key)
            })?;
            if idx == 0 {
                return Err(ParseError::new(file, "column numbers start at 1")
                    .at_line(lineno)
                    .field(key));
            }
            let (label, units) = column_label_units(value);
            col_labels.push((idx - 1, label, units, lineno));
        }
        if key.contains('.') && !key.contains(char::is_whitespace) {
            fields.push((key.to_owned(), value.to_owned()));
        }
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
    // A declared column the data do not have: its values are missing, and
    // quietly dropping it would hide a cut export.
    if let Some((i, label, _, line)) = col_labels.iter().find(|c| c.0 >= ncols) {
        return Err(ParseError::new(
            file,
            format!(
                "Column.{} ('{label}') is declared but the data rows have only {ncols} columns",
                i + 1
            ),
        )
        .at_line(*line)
        .field(format!("Column.{}", i + 1)));
    }
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
pub fn read_dataset(text: &str, file: &str, opts: &LoadOptions) -> Result<Dataset, ParseError> {
    let xdi = parse(text, file, opts)?;
    beamline::to_dataset(xdi.table, file, opts)
}
