//! File readers. Each format module turns bytes into typed data or a
//! [`ParseError`] that names the file, line and field. [`load`] detects the
//! format from content (extension is only a hint).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

pub mod athena;
pub mod beamline;
pub mod columns;
pub mod detect;
pub(crate) mod fastnum;
pub mod feff;
pub mod open;
pub mod xdi;
pub mod xrd;

pub use detect::{FileFormat, detect_format, load, load_bytes, load_bytes_group, load_group};
pub use open::{
    FileKind, InputError, MAX_INPUT_BYTES, OpenError, Opened, check_input, is_feff_path_name, open,
    open_bytes, read_input, route, route_path,
};

/// A located parse error: which file, which line (1-based) and which field
/// went wrong, and why. Every reader returns this instead of panicking.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ParseError {
    pub file: String,
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl ParseError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        ParseError {
            file: file.into(),
            line: None,
            field: None,
            message: message.into(),
        }
    }
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field '{field}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The lines of `text` with CR, LF and CRLF all ending a line, mixed or
/// not (Python's universal newlines, as Larch reads): a file saved partly
/// on classic Mac OS and partly on Windows keeps every row. Like
/// `str::lines`, a final line end adds no empty line. Every text reader
/// splits with this.
pub fn split_lines(text: &str) -> SplitLines<'_> {
    SplitLines { rest: text }
}

/// The iterator [`split_lines`] returns.
#[derive(Debug, Clone)]
pub struct SplitLines<'a> {
    rest: &'a str,
}

impl<'a> Iterator for SplitLines<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest.as_bytes();
        let Some(i) = memchr::memchr2(b'\n', b'\r', b) else {
            return Some(std::mem::take(&mut self.rest));
        };
        let skip = if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        // `i` and `i + skip` sit on ASCII bytes: char boundaries.
        let line = self.rest.get(..i).unwrap_or("");
        self.rest = self.rest.get(i + skip..).unwrap_or("");
        Some(line)
    }
}

/// The most a compressed input of `compressed_bytes` may inflate to: 64×
/// its size plus 16 MiB. Real Athena projects and Bruker archives inflate
/// 2–10×; a deflate bomb (up to 1032×) is stopped at this size, so a
/// 300 KB file never takes more than ~35 MB.
pub(crate) fn inflate_cap(compressed_bytes: usize) -> u64 {
    (compressed_bytes as u64)
        .saturating_mul(64)
        .saturating_add(16 << 20)
}

/// Parse one numeric token, Fortran `D` exponents included, rejecting NaN/Inf.
pub fn parse_f64(tok: &str, file: &str, line: usize, field: &str) -> Result<f64, ParseError> {
    let t = tok.trim();
    if let Some(v) = fastnum::parse_simple(t.as_bytes()) {
        return Ok(v);
    }
    let v = match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) => t.replace(['D', 'd'], "E").parse::<f64>().map_err(|_| {
            ParseError::new(file, format!("'{t}' is not a number"))
                .at_line(line)
                .field(field)
        })?,
    };
    if !v.is_finite() {
        return Err(ParseError::new(file, format!("non-finite value '{t}'"))
            .at_line(line)
            .field(field));
    }
    Ok(v)
}

/// Numeric columns read from any text format, before a physical meaning is
/// assigned to them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ColumnTable {
    /// One label per column (from the file, or `col1`, `col2`… when absent).
    pub labels: Vec<String>,
    /// Column-major data; all columns have the same length.
    pub columns: Vec<Vec<f64>>,
    /// Header/comment lines as found in the file (without the comment marker).
    pub header: Vec<String>,
    /// Key/value metadata (XDI `Family.key`, `KEY= value` header pairs…).
    pub metadata: BTreeMap<String, String>,
    /// 1-based file line of each data row, so errors found after parsing
    /// (non-monotonic energy, ln of a non-positive ratio) can still point at
    /// the line a person has to look at.
    #[serde(skip)]
    pub row_lines: Vec<usize>,
    /// What the reader accepted but a person should know, each located
    /// (`file:line: …`): XDI header problems the XDI library warns about,
    /// a file read as plain columns for want of its XDI version line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl ColumnTable {
    pub fn npts(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
    /// Index of the column whose label equals `name` (case-insensitive).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.labels
            .iter()
            .position(|l| l.eq_ignore_ascii_case(name))
    }
    /// 1-based file line of data row `row` (0 when unknown, e.g. for tables
    /// not read from text).
    pub fn line_of_row(&self, row: usize) -> usize {
        self.row_lines.get(row).map_or(0, |&l| l)
    }
}

/// How μ(E) was built from the measured columns (column indices into the
/// file's [`ColumnTable`], 0-based).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MuRecipe {
    /// μ = ln(I0 / It)
    Transmission { i0: usize, it: usize },
    /// μ = Σ If / I0
    Fluorescence { i_f: Vec<usize>, i0: usize },
    /// μ = ln(It / Iref) (the reference foil behind the sample)
    Reference { it: usize, iref: usize },
    /// μ given directly as one column (xmu files, XDI `mutrans`…)
    Column { mu: usize },
}

impl MuRecipe {
    /// μ(E) from the table's columns; a located error on the first row where
    /// μ is not finite (zero or negative counter).
    pub fn build(&self, table: &ColumnTable, file: &str) -> Result<Vec<f64>, ParseError> {
        beamline::build_mu(table, file, self)
    }

    /// The formula on the table's column labels: `ln(I0/It)`,
    /// `(If1+If2)/I0`, `column mu` (a column without a label is `colN`).
    pub fn formula(&self, labels: &[String]) -> String {
        let l = |i: &usize| {
            labels
                .get(*i)
                .cloned()
                .unwrap_or_else(|| format!("col{}", i + 1))
        };
        match self {
            MuRecipe::Transmission { i0, it } => format!("ln({}/{})", l(i0), l(it)),
            MuRecipe::Fluorescence { i_f, i0 } => format!(
                "({})/{}",
                i_f.iter().map(l).collect::<Vec<_>>().join("+"),
                l(i0)
            ),
            MuRecipe::Reference { it, iref } => format!("ln({}/{})", l(it), l(iref)),
            MuRecipe::Column { mu } => format!("column {}", l(mu)),
        }
    }

    /// The kind and the formula: `transmission ln(I0/It)`.
    pub fn describe(&self, labels: &[String]) -> String {
        match self {
            MuRecipe::Column { .. } => self.formula(labels),
            MuRecipe::Transmission { .. } => format!("transmission {}", self.formula(labels)),
            MuRecipe::Fluorescence { .. } => format!("fluorescence {}", self.formula(labels)),
            MuRecipe::Reference { .. } => format!("reference {}", self.formula(labels)),
        }
    }
}

/// One recipe the automatic μ choice considered ([`RecipeChoice`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipeCandidate {
    #[serde(flatten)]
    pub recipe: MuRecipe,
    /// The kind and formula on the file's labels (`transmission ln(I0/It)`).
    pub text: String,
    /// The largest rise of μ between two adjacent windows (μ's units), or
    /// None when this μ could not be built.
    pub edge_jump: Option<f64>,
    /// The median point-to-point change of μ.
    pub noise: Option<f64>,
    /// `edge_jump / noise`: above [`EDGE_MIN_SCORE`] the recipe shows an
    /// absorption edge.
    pub score: Option<f64>,
    /// Why this μ is unusable (a counter zero, negative or dead on a row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unusable: Option<String>,
}

/// A recipe whose edge jump is below this many times its noise shows no
/// absorption edge (dark current, a dead or unconnected counter): noise-only
/// channels score below 1, a fluorescence sample's own transmission ~5, foils
/// in the hundreds.
pub const EDGE_MIN_SCORE: f64 = 3.0;

/// Why the μ recipe of a spectrum read from columns is the one it is: the
/// stated rule ([`RecipeChoice::RULE`]), every candidate with its edge jump
/// and noise, and the reason in words (`carto info`, the GUI's log).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecipeChoice {
    /// "auto", "column" (the file's own μ), "unlabelled" or "asked" (a
    /// recipe kind forced by the user).
    pub how: &'static str,
    /// The reason in words.
    pub reason: String,
    /// The candidates the rule weighed, chosen first (empty unless `how`
    /// is "auto").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<RecipeCandidate>,
    /// The choice was close (within a factor 1.5 of the 3× threshold) or
    /// no candidate showed an edge; then it is also a warning in the
    /// spectrum's table.
    pub close: bool,
}

impl RecipeChoice {
    /// The automatic rule, as `carto info` states it.
    pub const RULE: &'static str = "the file's own μ column if it has one; otherwise \
        transmission ln(I0/It), fluorescence ΣIf/I0 (the channel group with the clearest \
        edge) and reference ln(It/Iref) are each scored by edge jump / noise (largest rise \
        between adjacent 2%-of-scan windows over the median point-to-point change); a \
        recipe with a counter zero, negative or dead (below 1% of its median) on some row \
        is unusable; transmission is taken unless fluorescence scores 3× higher; when \
        transmission is unusable, a fallback is taken only if it shows an edge (score ≥ 3), \
        else the file is refused (dark current is not μ); a choice within a factor 1.5 of \
        the 3× threshold, or among recipes none of which shows an edge, is a warning";
}

/// Which kind of μ a user asks for when overriding the automatic choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MuMode {
    Transmission,
    Fluorescence,
    Reference,
    Column,
}

/// Units the energy column was found in (converted to eV on load).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnergyUnit {
    Ev,
    Kev,
    /// Monochromator angle in degrees, converted with the recorded d-spacing.
    MonoDeg,
}

/// A μ(E) spectrum ready for `xas::pre_edge`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct XasSpectrum {
    pub name: String,
    pub energy_ev: Vec<f64>,
    pub mu: Vec<f64>,
    pub energy_column: usize,
    pub energy_unit: EnergyUnit,
    pub recipe: MuRecipe,
    /// Why this recipe (None where μ was not read from columns: Athena
    /// groups, sessions, recipes set by hand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice: Option<RecipeChoice>,
    /// All columns of the source file, for `info` and for re-deriving μ.
    pub table: ColumnTable,
}

/// χ(k) read from a file (`.chi`, Athena chi groups).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChiData {
    pub name: String,
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    pub table: ColumnTable,
}

/// Anything Carto can load from one file.
#[derive(Debug, Clone)]
pub enum Dataset {
    Xas(XasSpectrum),
    Chi(ChiData),
    Athena(athena::AthenaProject),
    Feff(feff::FeffPath),
}

impl Dataset {
    /// What the reader accepted but a person should know (located).
    pub fn warnings(&self) -> &[String] {
        match self {
            Dataset::Xas(s) => &s.table.warnings,
            Dataset::Chi(c) => &c.table.warnings,
            Dataset::Athena(p) => &p.warnings,
            Dataset::Feff(_) => &[],
        }
    }

    /// Which μ recipe was chosen and why, in one line for a log
    /// (`μ(E): fluorescence (If1+If2)/I0 — why: …`); None unless μ was
    /// built from the file's columns.
    pub fn recipe_note(&self) -> Option<String> {
        match self {
            Dataset::Xas(s) => s.choice.as_ref().map(|c| {
                format!(
                    "{}: μ(E) {} — {}",
                    s.name,
                    s.recipe.describe(&s.table.labels),
                    c.reason
                )
            }),
            _ => None,
        }
    }

    /// "xas", "chi", "athena" or "feff".
    pub fn modality(&self) -> &'static str {
        match self {
            Dataset::Xas(_) => "xas",
            Dataset::Chi(_) => "chi",
            Dataset::Athena(_) => "athena",
            Dataset::Feff(_) => "feff",
        }
    }
}

/// Options that change how a file becomes a dataset.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Force a μ recipe kind instead of the automatic choice.
    pub mu_mode: Option<MuMode>,
    /// Explicit column labels like Larch's `labels=`: "energy i0 it".
    pub columns: Option<String>,
}

/// The file name used in error messages: the path as given.
pub(crate) fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// A file that could not be read, written or created: what was tried, on
/// which path, and the system's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} {}: {reason}", path.display())]
pub struct FileError {
    /// "read", "write", "create", …
    pub action: &'static str,
    pub path: std::path::PathBuf,
    pub reason: String,
}

impl FileError {
    pub fn new(action: &'static str, path: &std::path::Path, reason: impl ToString) -> Self {
        FileError {
            action,
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}
