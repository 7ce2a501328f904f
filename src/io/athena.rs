//! Athena project files (`.prj`): gzipped or plain Perl `Data::Dumper`
//! dumps, or the later JSON variant (also possibly gzipped).
//!
//! The Perl form is *parsed*, never evaluated: a project file is code in
//! principle (`@journal = system(...)` is valid Perl), so only the literal
//! data subset Athena writes is accepted — quoted strings, numbers, `undef`,
//! `[...]`, `{...}`, `(...)`, `=>` and `bless(...)`. The statements that carry
//! data (`$old_group`, `@args`, `@x`, `@y`, `@i0`, `@signal`, `@stddev`,
//! `[record]`) must parse or the read fails with a located error; the
//! decorative ones (`@journal`, `%plot_features`, `$xdi`, …) that are not
//! plain data are skipped with a warning, as Larch does.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;

use super::{ChiData, ColumnTable, EnergyUnit, MuRecipe, ParseError, XasSpectrum};
use crate::numeric::grid::remove_dups_nan_breaks;

mod perl;

/// Smallest energy step Larch tolerates when de-duplicating (`TINY_ENERGY`).
const TINY_ENERGY: f64 = 5.0e-4;

/// Arrays Athena stores per group, in the order they are reported.
const ARRAY_NAMES: [&str; 5] = ["x", "y", "i0", "signal", "stddev"];

/// One whole project: its header comments and its groups in file order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AthenaProject {
    /// Header comment lines (`# Athena project file -- …`), marker removed.
    pub header: Vec<String>,
    /// Every `[record]` in file order. Duplicated ids or labels are kept
    /// (Larch keeps only the last of each; see [`AthenaProject::group`]).
    pub groups: Vec<AthenaGroup>,
    /// The project journal, when it is plain data.
    pub journal: Vec<String>,
    /// `"perl"` or `"json"`.
    pub format: String,
    pub gzipped: bool,
    /// Located notes about statements that were skipped (never evaluated).
    pub warnings: Vec<String>,
}

/// One Athena group (one `[record]`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AthenaGroup {
    /// Athena's internal group name (`$old_group`, a short hash key).
    pub id: String,
    /// The label shown in Athena (`label` in `@args`; the id when absent).
    pub label: String,
    /// `x`, `y` and, when present, `i0`, `signal`, `stddev`, in file order.
    pub arrays: BTreeMap<String, Vec<f64>>,
    /// `@args` key/value pairs as written (`undef` values are left out).
    pub params: BTreeMap<String, AthenaValue>,
    /// Line (1-based, in the decompressed text) where the group starts.
    pub line: Option<usize>,
}

/// A value from `@args`: Athena writes numbers both bare and quoted, so
/// quoted text stays [`AthenaValue::Str`] and [`AthenaGroup::param_f64`]
/// converts either, as Larch's `asfloat` does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AthenaValue {
    Str(String),
    Num(f64),
    List(Vec<AthenaValue>),
}

impl AthenaValue {
    /// The value as a number, if it is one or is text that reads as one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AthenaValue::Num(v) => Some(*v),
            AthenaValue::Str(s) => parse_number(s),
            AthenaValue::List(_) => None,
        }
    }
    /// The value as text (numbers formatted), `None` for lists.
    pub fn as_string(&self) -> Option<String> {
        match self {
            AthenaValue::Str(s) => Some(s.clone()),
            AthenaValue::Num(v) => Some(v.to_string()),
            AthenaValue::List(_) => None,
        }
    }
}

/// Finite float from text, also accepting Fortran `D` exponents.
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Some(v) = super::fastnum::parse_simple(t.as_bytes()) {
        return Some(v);
    }
    let v = t
        .parse::<f64>()
        .ok()
        .or_else(|| t.replace(['D', 'd'], "E").parse::<f64>().ok())?;
    v.is_finite().then_some(v)
}

impl AthenaProject {
    /// Find a group by label (exact, then case-insensitive), then by id,
    /// then by the name Larch gives it (`cu010k_dat` for `cu010k.dat`), so
    /// names from Larch scripts work too. With duplicates the *last* one
    /// wins, which is what Larch's `read_athena` hands back for that name.
    pub fn group(&self, name: &str) -> Option<&AthenaGroup> {
        let rev = || self.groups.iter().rev();
        let perl = self.format == "perl";
        rev()
            .find(|g| g.label == name)
            .or_else(|| rev().find(|g| g.label.eq_ignore_ascii_case(name)))
            .or_else(|| rev().find(|g| g.id == name))
            .or_else(|| rev().find(|g| g.larch_name(perl) == name))
    }
    /// The groups as Larch's `read_athena` returns them: keyed by
    /// [`AthenaGroup::larch_name`], in order of first appearance, a later
    /// record with the same name replacing the earlier one. Projects with
    /// repeated labels therefore have fewer of these than [`Self::groups`].
    pub fn larch_groups(&self) -> Vec<(String, &AthenaGroup)> {
        let mut out: Vec<(String, &AthenaGroup)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for g in &self.groups {
            let name = g.larch_name(self.format == "perl");
            match index.get(&name) {
                Some(&i) => {
                    if let Some(slot) = out.get_mut(i) {
                        slot.1 = g;
                    }
                }
                None => {
                    index.insert(name.clone(), out.len());
                    out.push((name, g));
                }
            }
        }
        out
    }
    /// Labels of all groups, in file order.
    pub fn labels(&self) -> Vec<&str> {
        self.groups.iter().map(|g| g.label.as_str()).collect()
    }
}

impl AthenaGroup {
    pub fn param(&self, key: &str) -> Option<&AthenaValue> {
        self.params.get(key)
    }
    /// A parameter as a number (`bkg_e0`, `bkg_rbkg`, `fft_kmin`, …).
    pub fn param_f64(&self, key: &str) -> Option<f64> {
        self.params.get(key).and_then(AthenaValue::as_f64)
    }
    /// A parameter as text.
    pub fn param_str(&self, key: &str) -> Option<String> {
        self.params.get(key).and_then(AthenaValue::as_string)
    }
    /// An Athena `is_*` flag; empty or non-numeric text counts as unset.
    fn flag(&self, key: &str, default: bool) -> bool {
        self.param_f64(key).map_or(default, |v| v != 0.0)
    }
    /// χ(k) data: `x` is k and `y` is χ.
    pub fn is_chi(&self) -> bool {
        self.flag("is_chi", false)
    }
    /// μ(E) data, decided exactly as Larch's `read_athena` does: `is_xmu`
    /// (default on) and none of `is_chi`, `is_xmudat`, `is_bkg`, `is_diff`,
    /// `is_pixel`, `is_rsp`.
    pub fn is_xmu(&self) -> bool {
        self.flag("is_xmu", true)
            && ![
                "is_chi",
                "is_xmudat",
                "is_bkg",
                "is_diff",
                "is_pixel",
                "is_rsp",
            ]
            .iter()
            .any(|k| self.flag(k, false))
    }
    /// What the group holds: `"xmu"`, `"chi"`, `"nor"`, `"xanes"`, `"diff"`,
    /// `"bkg"`, `"xmudat"`, `"pixel"`, `"rsp"`, `"qsp"` or `"unknown"`.
    pub fn datatype(&self) -> &'static str {
        for (key, name) in [
            ("is_chi", "chi"),
            ("is_diff", "diff"),
            ("is_bkg", "bkg"),
            ("is_xmudat", "xmudat"),
            ("is_pixel", "pixel"),
            ("is_rsp", "rsp"),
            ("is_qsp", "qsp"),
            ("is_nor", "nor"),
            ("is_xanes", "xanes"),
        ] {
            if self.flag(key, false) {
                return name;
            }
        }
        if self.is_xmu() { "xmu" } else { "unknown" }
    }
    /// Athena's energy shift, `bkg_eshift` (eV). Like Larch, the readers do
    /// not add it to the energies; it is a processing parameter.
    pub fn energy_shift_ev(&self) -> f64 {
        self.param_f64("bkg_eshift").map_or(0.0, |v| v)
    }
    pub fn array(&self, name: &str) -> Option<&[f64]> {
        self.arrays.get(name).map(Vec::as_slice)
    }
    /// The Python-safe group name Larch derives from the label
    /// (`fix_varname`, plus `read_athena`'s `d_` rules), so scripts written
    /// against Larch find the same group. `perl` selects the Perl-format rule
    /// that a label starting with a space becomes `d_<label>`.
    pub fn larch_name(&self, perl: bool) -> String {
        let label = if perl && self.label.starts_with(' ') {
            format!("d_{}", self.label.trim())
        } else {
            self.label.clone()
        };
        let name = fix_varname(&label);
        if name.starts_with('_') {
            format!("d{name}")
        } else {
            name
        }
    }
    /// Number of points of `x`.
    pub fn npts(&self) -> usize {
        self.arrays.get("x").map_or(0, Vec::len)
    }

    fn error(&self, file: &str, msg: String) -> ParseError {
        let e = ParseError::new(file, format!("group '{}' ({}): {msg}", self.label, self.id));
        match self.line {
            Some(l) => e.at_line(l),
            None => e,
        }
    }

    /// `x` and `y` plus the other same-length arrays, sorted by `x` and
    /// de-duplicated the way Larch's `read_athena` does (`remove_dups`,
    /// stable sort, `remove_dups` again), so values compare index by index.
    fn sorted_table(
        &self,
        file: &str,
        xname: &str,
        yname: &str,
    ) -> Result<ColumnTable, ParseError> {
        let x = self
            .arrays
            .get("x")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.error(file, "no x array".into()).field("x"))?;
        let y = self
            .arrays
            .get("y")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.error(file, "no y array".into()).field("y"))?;
        if x.len() != y.len() {
            return Err(self
                .error(
                    file,
                    format!("{} x values but {} y values", x.len(), y.len()),
                )
                .field("y"));
        }
        let xd = remove_dups_nan_breaks(x, TINY_ENERGY);
        let mut keyed: Vec<(usize, f64)> = xd.iter().copied().enumerate().collect();
        keyed.sort_by(|a, b| a.1.total_cmp(&b.1));
        let order: Vec<usize> = keyed.into_iter().map(|(i, _)| i).collect();
        let permute = |v: &[f64]| {
            order
                .iter()
                .filter_map(|&i| v.get(i).copied())
                .collect::<Vec<_>>()
        };
        let mut labels = vec![xname.to_string(), yname.to_string()];
        let mut columns = vec![
            remove_dups_nan_breaks(&permute(&xd), TINY_ENERGY),
            permute(y),
        ];
        for name in ARRAY_NAMES.iter().skip(2) {
            if let Some(v) = self.arrays.get(*name).filter(|v| v.len() == x.len()) {
                labels.push((*name).to_string());
                columns.push(permute(v));
            }
        }
        let metadata = self
            .params
            .iter()
            .filter_map(|(k, v)| v.as_string().map(|s| (k.clone(), s)))
            .collect();
        // Athena keeps the source file's header lines in `titles`.
        let header = match self.params.get("titles") {
            Some(AthenaValue::List(t)) => t.iter().filter_map(AthenaValue::as_string).collect(),
            _ => Vec::new(),
        };
        Ok(ColumnTable {
            labels,
            columns,
            header,
            metadata,
            ..ColumnTable::default()
        })
    }

    /// μ(E) of this group: energy from `x`, μ from `y`, sorted like Larch.
    /// Energies are as stored (`bkg_eshift` is not applied; see
    /// [`Self::energy_shift_ev`]).
    pub fn to_spectrum(&self, file: &str) -> Result<XasSpectrum, ParseError> {
        if self.is_chi() {
            return Err(self.error(file, "holds χ(k), not μ(E); use to_chi".into()));
        }
        let table = self.sorted_table(file, "energy", "mu")?;
        Ok(XasSpectrum {
            name: self.label.clone(),
            energy_ev: table.columns.first().map_or_else(Vec::new, Clone::clone),
            mu: table.columns.get(1).map_or_else(Vec::new, Clone::clone),
            energy_column: 0,
            energy_unit: EnergyUnit::Ev,
            recipe: MuRecipe::Column { mu: 1 },
            choice: None,
            table,
        })
    }

    /// χ(k) of a chi group (`is_chi`): k from `x`, χ from `y`.
    pub fn to_chi(&self, file: &str) -> Result<ChiData, ParseError> {
        if !self.is_chi() {
            return Err(self.error(file, format!("holds {} data, not χ(k)", self.datatype())));
        }
        let table = self.sorted_table(file, "k", "chi")?;
        Ok(ChiData {
            name: self.label.clone(),
            k_inv_ang: table.columns.first().map_or_else(Vec::new, Clone::clone),
            chi: table.columns.get(1).map_or_else(Vec::new, Clone::clone),
            table,
        })
    }
}

/// pyshortcuts' `fix_varname` (used by Larch for group names): bad
/// filename characters and spaces become `_`, all dots but the last are
/// folded, a leading non-letter gets `_`, `=+-.` become `_`, runs of `_`
/// collapse and one trailing `_` is dropped.
fn fix_varname(s: &str) -> String {
    const BAD: &str = ";~,`!%$@$&^?*#:\"/|'\\\t\r\n(){}[]<> ";
    let mut f: String = s
        .chars()
        .map(|c| if BAD.contains(c) { '_' } else { c })
        .collect();
    if f.matches('.').count() > 1
        && let Some(dot) = f.rfind('.')
    {
        let (stem, ext) = f.split_at(dot);
        f = format!("{}{ext}", stem.replace('.', "_"));
    }
    let collapse = |mut v: String| {
        while v.contains("__") {
            v = v.replace("__", "_");
        }
        v
    };
    let mut v = collapse(f);
    if !v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        v.insert(0, '_');
    }
    let mut v = collapse(v.replace(['=', '+', '-', '.'], "_"));
    if v.ends_with('_') {
        v.pop();
    }
    v
}

/// Read a project from the file's bytes: gzip is undone first, then the
/// text is read as JSON (starts with `{`) or as a Perl dump.
pub fn read(bytes: &[u8], file: &str) -> Result<AthenaProject, ParseError> {
    read_impl(bytes, file, None)
}

/// Like [`read`], but the arrays (`x`, `y`, …) are kept only for the group
/// that `name` selects ([`AthenaProject::group`]); every other group has
/// its id, label, parameters and line but no arrays. All arrays are still
/// parsed, so a damaged project fails with the same error as [`read`], and
/// the selected group is identical to the one a full read gives. For
/// reading one spectrum out of a large project.
pub fn read_selected(bytes: &[u8], file: &str, name: &str) -> Result<AthenaProject, ParseError> {
    read_impl(bytes, file, Some(name))
}

/// The group `name` selects, as [`read`] then [`AthenaProject::group`]
/// would give it (`None` when no group has that name), without keeping the
/// arrays of the other groups.
pub fn read_group(bytes: &[u8], file: &str, name: &str) -> Result<Option<AthenaGroup>, ParseError> {
    let mut project = read_selected(bytes, file, name)?;
    let index = selected_index(&project, name);
    Ok(index.map(|i| project.groups.swap_remove(i)))
}

/// Index of the group [`AthenaProject::group`] returns for `name`.
fn selected_index(project: &AthenaProject, name: &str) -> Option<usize> {
    let g = project.group(name)?;
    project.groups.iter().position(|o| std::ptr::eq(o, g))
}

fn read_impl(bytes: &[u8], file: &str, select: Option<&str>) -> Result<AthenaProject, ParseError> {
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let raw = if gzipped {
        gunzip(bytes, file)?
    } else {
        bytes.to_vec()
    };
    let text = match String::from_utf8(raw) {
        Ok(s) => s,
        // Old Windows projects carry Latin-1 labels.
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    };
    let trimmed = text.trim_start();
    let mut project = if trimmed.starts_with('{') {
        let mut project = read_json(&text, file)?;
        if let Some(name) = select {
            let keep = selected_index(&project, name);
            for (i, g) in project.groups.iter_mut().enumerate() {
                if Some(i) != keep {
                    g.arrays.clear();
                }
            }
        }
        project
    } else {
        let head: String = trimmed.chars().take(500).collect();
        if !head.contains("Athena project file") {
            return Err(ParseError::new(
                file,
                "not an Athena project file (no '# Athena project file' header)",
            )
            .at_line(1));
        }
        match select {
            None => perl::read_perl(&text, file)?,
            Some(name) => {
                let (mut project, positions) = perl::read_perl_with(&text, file, false)?;
                if let Some(i) = selected_index(&project, name)
                    && let (Some(g), Some(pos)) = (project.groups.get_mut(i), positions.get(i))
                {
                    g.arrays = perl::read_arrays(&text, file, pos)?;
                }
                project
            }
        }
    };
    project.gzipped = gzipped;
    Ok(project)
}

/// Decompress, reporting where the stream broke as a line of the text
/// recovered so far, so a truncated download says how far it got. The
/// output is bounded by [`super::inflate_cap`] of the file's size: a
/// gzip bomb is refused at that size instead of filling memory.
fn gunzip(bytes: &[u8], file: &str) -> Result<Vec<u8>, ParseError> {
    let cap = super::inflate_cap(bytes.len());
    let mut dec = flate2::read::MultiGzDecoder::new(bytes);
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    let mut buf = [0u8; 64 * 1024];
    loop {
        match dec.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                out.extend_from_slice(buf.get(..n).map_or(&[][..], |b| b));
                if out.len() as u64 > cap {
                    return Err(ParseError::new(
                        file,
                        format!(
                            "gzip stream inflates past {cap} bytes (64× the file + 16 MiB); \
                             no Athena project is that repetitive: a gzip bomb or not a project"
                        ),
                    )
                    .field("gzip"));
                }
            }
            Err(e) => {
                let line = out.iter().filter(|&&b| b == b'\n').count() + 1;
                return Err(ParseError::new(
                    file,
                    format!(
                        "corrupt or truncated gzip stream after {} decompressed bytes: {e}",
                        out.len()
                    ),
                )
                .at_line(line)
                .field("gzip"));
            }
        }
    }
}

/// 1-based line of byte offset `pos` in `text`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()
        .get(..pos)
        .map_or(1, |b| b.iter().filter(|&&c| c == b'\n').count() + 1)
}

/// The JSON variant Demeter writes: `_____headerN`, `_____journal`,
/// `_____order` (group ids in order) and one object per group with `args`
/// (an object) and the arrays (numbers or numeric strings).
fn read_json(text: &str, file: &str) -> Result<AthenaProject, ParseError> {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        ParseError::new(file, format!("invalid JSON: {e}")).at_line(e.line().max(1))
    })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| ParseError::new(file, "JSON project is not an object").at_line(1))?;
    let mut project = AthenaProject {
        format: "json".into(),
        ..Default::default()
    };
    let mut header: Vec<(u64, String)> = obj
        .iter()
        .filter_map(|(k, v)| {
            let n = k
                .strip_prefix("_____header")?
                .parse::<u64>()
                .map_or(0, |v| v);
            Some((n, v.as_str()?.to_string()))
        })
        .collect();
    header.sort_by_key(|(n, _)| *n);
    project.header = header
        .into_iter()
        .map(|(_, h)| h.trim_start_matches('#').trim().to_string())
        .collect();
    if let Some(Value::Array(j)) = obj.get("_____journal") {
        project.journal = j
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
    }
    let order: Vec<String> = match obj.get("_____order") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => {
            project
                .warnings
                .push("no _____order list; groups taken in key order".into());
            obj.keys()
                .filter(|k| !k.starts_with("_____"))
                .cloned()
                .collect()
        }
    };
    for id in order {
        let line = text.find(&format!("\"{id}\":")).map(|p| line_of(text, p));
        let locate = |e: ParseError| match line {
            Some(l) => e.at_line(l),
            None => e,
        };
        let entry = obj.get(&id).and_then(Value::as_object).ok_or_else(|| {
            locate(
                ParseError::new(
                    file,
                    format!("group '{id}' listed in _____order is missing"),
                )
                .field(id.clone()),
            )
        })?;
        let mut group = AthenaGroup {
            id: id.clone(),
            label: id.clone(),
            line,
            ..Default::default()
        };
        if let Some(Value::Object(args)) = entry.get("args") {
            for (k, v) in args {
                if let Some(val) = json_value(v) {
                    group.params.insert(k.clone(), val);
                }
            }
        }
        if let Some(label) = group.param_str("label") {
            group.label = label;
        }
        for name in ARRAY_NAMES {
            let Some(v) = entry.get(name) else { continue };
            let field = format!("{id}.{name}");
            let arr = v.as_array().ok_or_else(|| {
                locate(ParseError::new(file, "must be an array").field(field.clone()))
            })?;
            let mut out = Vec::with_capacity(arr.len());
            for (i, item) in arr.iter().enumerate() {
                let num = match item {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => parse_number(s),
                    _ => None,
                };
                out.push(num.ok_or_else(|| {
                    locate(
                        ParseError::new(file, format!("{item} is not a number"))
                            .field(format!("{field}[{i}]")),
                    )
                })?);
            }
            group.arrays.insert(name.to_string(), out);
        }
        project.groups.push(group);
    }
    Ok(project)
}

fn json_value(v: &serde_json::Value) -> Option<AthenaValue> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(AthenaValue::Num(if *b { 1.0 } else { 0.0 })),
        Value::Number(n) => n.as_f64().map(AthenaValue::Num),
        Value::String(s) => Some(AthenaValue::Str(s.clone())),
        Value::Array(a) => Some(AthenaValue::List(a.iter().filter_map(json_value).collect())),
        // A hash flattens to key, value, … as Perl does in list context.
        Value::Object(o) => Some(AthenaValue::List(
            o.iter()
                .flat_map(|(k, v)| [Some(AthenaValue::Str(k.clone())), json_value(v)])
                .flatten()
                .collect(),
        )),
    }
}
