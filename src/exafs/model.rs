//! Fit model files (TOML) → [`FitModel`]: data (read and, for μ(E), run
//! through pre_edge + AUTOBK with Larch overrides), transform, parameters
//! and FEFF paths. Relative file names are relative to the model file.
//!
//! ```toml
//! [data]
//! file = "feo_xafs.dat"
//! [data.autobk]
//! rbkg = 1.0
//! [transform]
//! kmin = 2.0
//! kmax = 13.5
//! kweight = [2, 3]
//! rmin = 1.0
//! rmax = 3.2
//! [params]
//! s02 = 0.7                       # fixed
//! n1 = { value = 6, vary = true }
//! [[paths]]
//! file = "feff_FeO_215.dat"
//! s02 = "s02*n1"
//! ```
//! Several datasets: `[[datasets]]` tables with `data`, `transform` and
//! `paths` each, sharing `[params]`.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::feffit::{
    DatasetDef, FitData, FitError, FitModel, FitSpace, PATH_PARS, ParamDef, PathDef, PathValue,
    Transform, TransformError,
};
use crate::io::{self, Dataset, LoadOptions, MuMode, MuRecipe};
use crate::xas::autobk::{AutobkParams, autobk};
use crate::xas::fourier::Window;
use crate::xas::pre_edge::{PreEdgeParams, pre_edge};

mod write;
pub use write::{normalize, rebase_paths, relative_path, to_toml};

/// A data source as the model file gives it (kept for the GUI and reports).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataSpec {
    pub file: PathBuf,
    pub columns: Option<String>,
    pub mu: Option<String>,
    pub group: Option<String>,
    pub pre_edge: PreEdgeParams,
    pub autobk: AutobkParams,
}

fn model_err(file: &str, error: ModelFileError) -> FitError {
    FitError::File {
        file: file.to_string(),
        error: Box::new(error),
    }
}

/// What is wrong inside a model file (`FitError::File` names the file).
/// `key` is the TOML key as the message quotes it (`` `params.s02` ``,
/// `[params]`, `datasets[2]`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelFileError {
    #[error("cannot read model file: {0}")]
    Read(String),
    /// toml's message with the line and column it points at.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    SyntaxNoSpan(String),
    #[error("unknown key `{key}` (expected one of: {expected})")]
    UnknownKey { key: String, expected: String },
    #[error("`{key}` must be {expected}, not {found}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A key of the wrong shape: "`data` must be a table".
    #[error("{key} must be {shape}")]
    Shape { key: String, shape: &'static str },
    #[error("missing [{at}data] (the χ(k) or μ(E) file to fit)")]
    MissingData { at: String },
    #[error("`{key}` is missing{hint}")]
    MissingFile { key: String, hint: &'static str },
    #[error("no [[{at}paths]]: a fit needs at least one FEFF path")]
    NoPaths { at: String },
    #[error("`{key}` needs a `value` or an `expr`")]
    NeedsValueOrExpr { key: String },
    #[error("`{key}` has an expr, so it cannot also vary")]
    ExprAndVary { key: String },
    #[error(
        "`{key}` at the top level and [[datasets]] cannot be mixed: put it inside each [[datasets]]"
    )]
    MixedDatasets { key: String },
    #[error("`{key}` = {value} must be a power of two")]
    Nfft { key: String, value: f64 },
    #[error("`{key}` = '{name}' is not a window (hanning, kaiser, gaussian, sine, welch, parzen)")]
    NotAWindow { key: String, name: String },
    #[error("`{key}` = '{name}' must be \"r\", \"k\" or \"q\"")]
    NotAFitSpace { key: String, name: String },
    #[error("`{key}` = {value} must be a positive number")]
    EpsilonK { key: String, value: f64 },
    /// A parameter table (`pre_edge`, `autobk`) that does not deserialize.
    #[error("[{at}] {message}")]
    Params { at: String, message: String },
    #[error("[{at}data] {error}")]
    Data { at: String, error: DataError },
    #[error("{key}: {error}")]
    Feff { key: String, error: DataError },
    #[error("[{at}] {error}")]
    Transform { at: String, error: TransformError },
}

/// Read and build a model file.
pub fn load_model(path: &Path) -> Result<FitModel, FitError> {
    let file = path.display().to_string();
    let bytes = crate::io::read_input(path)
        .map_err(|e| model_err(&file, ModelFileError::Read(e.to_string())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        model_err(
            &file,
            ModelFileError::Read(format!("not UTF-8 text: {}", e.utf8_error())),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_model(&text, base, &file)
}

/// Build a model from TOML text; `base` resolves relative file names and
/// `file` names the model in errors.
pub fn parse_model(text: &str, base: &Path, file: &str) -> Result<FitModel, FitError> {
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| model_err(file, toml_error(text, &e)))?;
    let err = |m: ModelFileError| model_err(file, m);
    check_keys(
        &table,
        &["data", "transform", "params", "paths", "datasets"],
        "",
    )
    .map_err(err)?;
    let params = match table.get("params") {
        Some(Value::Table(t)) => parse_params(t).map_err(err)?,
        Some(_) => {
            return Err(err(ModelFileError::Shape {
                key: "[params]".into(),
                shape: "a table",
            }));
        }
        None => Vec::new(),
    };
    let mut datasets = Vec::new();
    match table.get("datasets") {
        Some(Value::Array(list)) => {
            for key in ["data", "transform", "paths"] {
                if table.contains_key(key) {
                    return Err(err(ModelFileError::MixedDatasets { key: key.into() }));
                }
            }
            for (i, d) in list.iter().enumerate() {
                let Value::Table(t) = d else {
                    return Err(err(ModelFileError::Shape {
                        key: format!("datasets[{}]", i + 1),
                        shape: "a table",
                    }));
                };
                let at = format!("datasets[{}].", i + 1);
                check_keys(t, &["data", "transform", "paths"], &at).map_err(err)?;
                datasets.push(parse_dataset(t, base, &at).map_err(err)?);
            }
        }
        Some(_) => {
            return Err(err(ModelFileError::Shape {
                key: "`datasets`".into(),
                shape: "an array of tables: [[datasets]]",
            }));
        }
        None => datasets.push(parse_dataset(&table, base, "").map_err(err)?),
    }
    Ok(FitModel { params, datasets })
}

/// toml's message with the line and column it points at.
fn toml_error(text: &str, e: &toml::de::Error) -> ModelFileError {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let column = span.start
                - text[..span.start.min(text.len())]
                    .rfind('\n')
                    .map_or(0, |p| p + 1)
                + 1;
            ModelFileError::Syntax {
                line,
                column,
                message,
            }
        }
        None => ModelFileError::SyntaxNoSpan(message),
    }
}

fn check_keys(t: &Table, allowed: &[&str], at: &str) -> Result<(), ModelFileError> {
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ModelFileError::UnknownKey {
                key: format!("{at}{k}"),
                expected: allowed.join(", "),
            });
        }
    }
    Ok(())
}

fn num(v: &Value, key: &str) -> Result<f64, ModelFileError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Integer(i) => Ok(*i as f64),
        _ => Err(ModelFileError::WrongType {
            key: key.to_string(),
            expected: "a number",
            found: v.type_str(),
        }),
    }
}

fn string(v: &Value, key: &str) -> Result<String, ModelFileError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(ModelFileError::WrongType {
            key: key.to_string(),
            expected: "a string",
            found: v.type_str(),
        }),
    }
}

fn parse_params(t: &Table) -> Result<Vec<ParamDef>, ModelFileError> {
    let mut out = Vec::new();
    for (name, v) in t {
        let key = format!("params.{name}");
        let p = match v {
            Value::Float(_) | Value::Integer(_) => ParamDef::new(name, num(v, &key)?, false),
            Value::String(s) => ParamDef {
                expr: Some(s.clone()),
                ..ParamDef::new(name, 0.0, false)
            },
            Value::Table(pt) => {
                check_keys(
                    pt,
                    &["value", "vary", "min", "max", "expr"],
                    &format!("{key}."),
                )?;
                let mut p = ParamDef::new(name, 0.0, false);
                if let Some(v) = pt.get("value") {
                    p.value = num(v, &format!("{key}.value"))?;
                } else if !pt.contains_key("expr") {
                    return Err(ModelFileError::NeedsValueOrExpr { key });
                }
                if let Some(v) = pt.get("vary") {
                    p.vary = v.as_bool().ok_or_else(|| ModelFileError::Shape {
                        key: format!("`{key}.vary`"),
                        shape: "true or false",
                    })?;
                }
                if let Some(v) = pt.get("min") {
                    p.min = num(v, &format!("{key}.min"))?;
                }
                if let Some(v) = pt.get("max") {
                    p.max = num(v, &format!("{key}.max"))?;
                }
                if let Some(v) = pt.get("expr") {
                    p.expr = Some(string(v, &format!("{key}.expr"))?);
                    if p.vary {
                        return Err(ModelFileError::ExprAndVary { key });
                    }
                }
                p
            }
            _ => {
                return Err(ModelFileError::Shape {
                    key: format!("`{key}`"),
                    shape: "a number, an expression string or a table { value, vary, min, max, expr }",
                });
            }
        };
        out.push(p);
    }
    Ok(out)
}

fn resolve(base: &Path, f: &str) -> PathBuf {
    base.join(f)
}

fn parse_dataset(t: &Table, base: &Path, at: &str) -> Result<DatasetDef, ModelFileError> {
    let shape = |key: String, shape| ModelFileError::Shape { key, shape };
    let data_t = match t.get("data") {
        Some(Value::Table(d)) => d,
        Some(_) => return Err(shape(format!("`{at}data`"), "a table")),
        None => return Err(ModelFileError::MissingData { at: at.to_string() }),
    };
    let spec = parse_data_spec(data_t, base, &format!("{at}data."))?;
    let data = load_data(&spec).map_err(|error| ModelFileError::Data {
        at: at.to_string(),
        error,
    })?;
    let transform = match t.get("transform") {
        Some(Value::Table(tt)) => parse_transform(tt, &format!("{at}transform."))?,
        Some(_) => return Err(shape(format!("`{at}transform`"), "a table")),
        None => Transform::default(),
    };
    let mut paths = Vec::new();
    match t.get("paths") {
        Some(Value::Array(list)) => {
            for (i, p) in list.iter().enumerate() {
                let key = format!("{at}paths[{}]", i + 1);
                let Value::Table(pt) = p else {
                    return Err(shape(format!("`{key}`"), "a table ([[paths]])"));
                };
                paths.push(parse_path(pt, base, &key)?);
            }
        }
        Some(_) => {
            return Err(shape(
                format!("`{at}paths`"),
                "an array of tables: [[paths]]",
            ));
        }
        None => return Err(ModelFileError::NoPaths { at: at.to_string() }),
    }
    let mut data = data;
    data.epsilon_k = match data_t.get("epsilon_k").or_else(|| {
        t.get("transform")
            .and_then(|v| v.as_table())
            .and_then(|tt| tt.get("epsilon_k"))
    }) {
        Some(v) => {
            let e = num(v, &format!("{at}epsilon_k"))?;
            if !(e.is_finite() && e > 0.0) {
                return Err(ModelFileError::EpsilonK {
                    key: format!("{at}epsilon_k"),
                    value: e,
                });
            }
            Some(e)
        }
        None => None,
    };
    Ok(DatasetDef {
        data,
        transform,
        paths,
        spec: Some(spec),
    })
}

/// The `[data]` table.
pub fn parse_data_spec(t: &Table, base: &Path, at: &str) -> Result<DataSpec, ModelFileError> {
    check_keys(
        t,
        &[
            "file",
            "columns",
            "mu",
            "group",
            "pre_edge",
            "autobk",
            "epsilon_k",
        ],
        at,
    )?;
    let file = match t.get("file") {
        Some(v) => resolve(base, &string(v, &format!("{at}file"))?),
        None => {
            return Err(ModelFileError::MissingFile {
                key: format!("{at}file"),
                hint: "",
            });
        }
    };
    let opt = |k: &str| -> Result<Option<String>, ModelFileError> {
        t.get(k).map(|v| string(v, &format!("{at}{k}"))).transpose()
    };
    let sub = |k: &str| -> Result<Option<Value>, ModelFileError> {
        match t.get(k) {
            Some(v @ Value::Table(_)) => Ok(Some(v.clone())),
            Some(_) => Err(ModelFileError::Shape {
                key: format!("`{at}{k}`"),
                shape: "a table",
            }),
            None => Ok(None),
        }
    };
    let pre_edge = match sub("pre_edge")? {
        Some(v) => typed::<PreEdgeParams>(v, &format!("{at}pre_edge"))?,
        None => PreEdgeParams::default(),
    };
    let autobk = match sub("autobk")? {
        Some(v) => typed::<AutobkParams>(v, &format!("{at}autobk"))?,
        None => AutobkParams::default(),
    };
    Ok(DataSpec {
        file,
        columns: opt("columns")?,
        mu: opt("mu")?,
        group: opt("group")?,
        pre_edge,
        autobk,
    })
}

/// Deserialize a table into a parameter struct, rejecting unknown keys.
fn typed<T>(v: Value, at: &str) -> Result<T, ModelFileError>
where
    T: serde::de::DeserializeOwned + serde::Serialize + Default,
{
    let params_err = |message: String| ModelFileError::Params {
        at: at.to_string(),
        message,
    };
    let known = serde_json::to_value(T::default()).map_err(|e| params_err(e.to_string()))?;
    if let (Value::Table(t), serde_json::Value::Object(k)) = (&v, &known) {
        for key in t.keys() {
            if !k.contains_key(key) {
                let mut names: Vec<&String> = k.keys().collect();
                names.sort();
                let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                return Err(ModelFileError::UnknownKey {
                    key: format!("{at}.{key}"),
                    expected: names.join(", "),
                });
            }
        }
    }
    // Integers are fine where floats are expected.
    let json = toml_to_json(&v);
    serde_json::from_value(json).map_err(|e| params_err(e.to_string()))
}

fn toml_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::String(s) => serde_json::Value::String(s.to_ascii_lowercase()),
        Value::Integer(i) => serde_json::json!(*i),
        Value::Float(f) => serde_json::json!(*f),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

fn parse_transform(t: &Table, at: &str) -> Result<Transform, ModelFileError> {
    check_keys(
        t,
        &[
            "kmin",
            "kmax",
            "kweight",
            "kw",
            "dk",
            "dk2",
            "window",
            "rmin",
            "rmax",
            "dr",
            "dr2",
            "rwindow",
            "fitspace",
            "nfft",
            "kstep",
            "rbkg",
            "epsilon_k",
        ],
        at,
    )?;
    let mut tr = Transform::default();
    for (k, v) in t {
        let key = format!("{at}{k}");
        match k.as_str() {
            "kmin" => tr.kmin = num(v, &key)?,
            "kmax" => tr.kmax = num(v, &key)?,
            "dk" => tr.dk = num(v, &key)?,
            "dk2" => tr.dk2 = Some(num(v, &key)?),
            "rmin" => tr.rmin = num(v, &key)?,
            "rmax" => tr.rmax = num(v, &key)?,
            "dr" => tr.dr = num(v, &key)?,
            "dr2" => tr.dr2 = Some(num(v, &key)?),
            "kstep" => tr.kstep = num(v, &key)?,
            "rbkg" => tr.rbkg = num(v, &key)?,
            "nfft" => {
                let n = num(v, &key)?;
                if !(n >= 1.0 && n.fract() == 0.0 && n <= 1e6) {
                    return Err(ModelFileError::Nfft { key, value: n });
                }
                tr.nfft = n as usize;
            }
            "kweight" | "kw" => match v {
                Value::Array(a) => {
                    tr.kweight = a.iter().map(|x| num(x, &key)).collect::<Result<_, _>>()?;
                    tr.kweight_list = true;
                }
                _ => {
                    tr.kweight = vec![num(v, &key)?];
                    tr.kweight_list = false;
                }
            },
            "window" | "rwindow" => {
                let name = string(v, &key)?;
                let Some(w) = Window::from_name(&name) else {
                    return Err(ModelFileError::NotAWindow { key, name });
                };
                if k == "window" {
                    tr.window = w;
                } else {
                    tr.rwindow = w;
                }
            }
            "fitspace" => {
                let s = string(v, &key)?;
                let Some(space) = FitSpace::from_name(&s) else {
                    return Err(ModelFileError::NotAFitSpace { key, name: s });
                };
                tr.fitspace = space;
            }
            _ => {}
        }
    }
    tr.validate().map_err(|error| ModelFileError::Transform {
        at: at.trim_end_matches('.').to_string(),
        error,
    })?;
    Ok(tr)
}

fn parse_path(t: &Table, base: &Path, key: &str) -> Result<PathDef, ModelFileError> {
    let mut allowed = vec!["file", "label"];
    allowed.extend(PATH_PARS);
    check_keys(t, &allowed, &format!("{key}."))?;
    let fname = match t.get("file") {
        Some(v) => string(v, &format!("{key}.file"))?,
        None => {
            return Err(ModelFileError::MissingFile {
                key: format!("{key}.file"),
                hint: " (a feffNNNN.dat file)",
            });
        }
    };
    let path = resolve(base, &fname);
    let feff = load_feff(&path).map_err(|error| ModelFileError::Feff {
        key: key.to_string(),
        error,
    })?;
    let label = match t.get("label") {
        Some(v) => string(v, &format!("{key}.label"))?,
        None => Path::new(&fname)
            .file_stem()
            .map_or_else(|| fname.clone(), |s| s.to_string_lossy().into_owned()),
    };
    let mut values: [Option<PathValue>; 8] = Default::default();
    for (j, name) in PATH_PARS.iter().enumerate() {
        values[j] = match t.get(*name) {
            None => None,
            Some(Value::String(s)) => Some(PathValue::Expr(s.clone())),
            Some(v) => Some(PathValue::Value(num(v, &format!("{key}.{name}"))?)),
        };
    }
    Ok(PathDef {
        label,
        file: fname,
        feff,
        values,
    })
}

/// Why the data or a FEFF file a model names could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The file itself (located: file, line, field).
    #[error(transparent)]
    Read(#[from] crate::io::ParseError),
    #[error("mu = '{mu}': no such column in {file} (columns: {columns})")]
    NoColumn {
        mu: String,
        file: String,
        columns: String,
    },
    #[error("no group '{0}' in the project")]
    NoGroup(String),
    #[error("the project has no groups")]
    EmptyProject,
    #[error("{0} is a FEFF path file, not data")]
    FeffNotData(String),
    #[error("{file} is a {kind} file, not a FEFF path (feffNNNN.dat)")]
    NotFeff { file: String, kind: &'static str },
    #[error("pre_edge: {0}")]
    PreEdge(crate::xas::XasError),
    #[error("autobk: {0}")]
    Autobk(crate::xas::XasError),
}

/// Read a FEFF `feffNNNN.dat` file.
pub fn load_feff(path: &Path) -> Result<crate::io::feff::FeffPath, DataError> {
    match io::detect::load(path, &LoadOptions::default())? {
        Dataset::Feff(f) => Ok(f),
        other => Err(DataError::NotFeff {
            file: path.display().to_string(),
            kind: other.modality(),
        }),
    }
}

/// Load the data of a `[data]` table: χ(k) as is, μ(E) through pre_edge and
/// AUTOBK (with δχ, so Larch's ε_k follows).
pub fn load_data(spec: &DataSpec) -> Result<FitData, DataError> {
    let mu_mode = match spec.mu.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("transmission") => Some(MuMode::Transmission),
        Some("fluorescence") => Some(MuMode::Fluorescence),
        Some("reference") => Some(MuMode::Reference),
        _ => None,
    };
    let opts = LoadOptions {
        mu_mode,
        columns: spec.columns.clone(),
    };
    let ds = io::detect::load_group(&spec.file, &opts, spec.group.as_deref())?;
    let name = spec
        .file
        .file_name()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let (energy, mu) = match ds {
        Dataset::Chi(c) => {
            return Ok(FitData {
                name,
                k_inv_ang: c.k_inv_ang,
                chi: c.chi,
                delta_chi: None,
                epsilon_k: None,
            });
        }
        Dataset::Xas(x) => {
            let mu = match spec.mu.as_deref() {
                Some(m) if mu_mode.is_none() && !m.eq_ignore_ascii_case("auto") => {
                    let idx = x
                        .table
                        .labels
                        .iter()
                        .position(|l| l.eq_ignore_ascii_case(m))
                        .ok_or_else(|| DataError::NoColumn {
                            mu: m.to_string(),
                            file: spec.file.display().to_string(),
                            columns: x.table.labels.join(", "),
                        })?;
                    MuRecipe::Column { mu: idx }
                        .build(&x.table, &spec.file.display().to_string())?
                }
                _ => x.mu,
            };
            (x.energy_ev, mu)
        }
        Dataset::Athena(p) => {
            let g = match spec.group.as_deref() {
                Some(n) => p
                    .group(n)
                    .ok_or_else(|| DataError::NoGroup(n.to_string()))?,
                None => p.groups.first().ok_or(DataError::EmptyProject)?,
            };
            let x = g.arrays.get("x").cloned().unwrap_or_default();
            let y = g.arrays.get("y").cloned().unwrap_or_default();
            if g.is_chi() {
                return Ok(FitData {
                    name: g.label.clone(),
                    k_inv_ang: x,
                    chi: y,
                    delta_chi: None,
                    epsilon_k: None,
                });
            }
            (x, y)
        }
        Dataset::Feff(_) => {
            return Err(DataError::FeffNotData(spec.file.display().to_string()));
        }
    };
    fit_data_from_mu(name, &energy, &mu, spec)
}

/// χ(k) to fit from a μ(E), as a model's `[data]` makes it: pre_edge and
/// AUTOBK with the table's overrides, with AUTOBK's δχ (so Larch's ε_k
/// follows). [`load_data`] and the batch's fits (`exafs::plan`) both
/// come here.
pub fn fit_data_from_mu(
    name: String,
    energy: &[f64],
    mu: &[f64],
    spec: &DataSpec,
) -> Result<FitData, DataError> {
    let pre = pre_edge(energy, mu, &spec.pre_edge).map_err(DataError::PreEdge)?;
    // Larch's feffit recomputes AUTOBK's δχ for the data whatever autobk was told.
    let ab = AutobkParams {
        calc_uncertainties: true,
        ..spec.autobk.clone()
    };
    let bkg = autobk(energy, mu, &ab, Some(&pre)).map_err(DataError::Autobk)?;
    Ok(FitData {
        name,
        k_inv_ang: bkg.k_inv_ang,
        chi: bkg.chi,
        delta_chi: (!bkg.delta_chi.is_empty()).then_some(bkg.delta_chi),
        epsilon_k: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The located variant, and the text users saw before it was typed.
    fn file_error(text: &str) -> (ModelFileError, String) {
        match parse_model(text, Path::new("."), "m.toml") {
            Err(e @ FitError::File { .. }) => {
                let msg = e.to_string();
                let FitError::File { error, .. } = e else {
                    unreachable!()
                };
                (*error, msg)
            }
            other => panic!("expected a model file error, got {other:?}"),
        }
    }

    #[test]
    fn model_file_errors_are_typed_and_keep_their_text() {
        let (e, msg) = file_error("[params]\ns02 = { value = 1, vary = 2 }\n");
        assert_eq!(
            e,
            ModelFileError::Shape {
                key: "`params.s02.vary`".into(),
                shape: "true or false"
            }
        );
        assert_eq!(msg, "m.toml: `params.s02.vary` must be true or false");

        let (e, msg) = file_error("[params]\nx = { expr = \"a\", vary = true }\n");
        assert_eq!(
            e,
            ModelFileError::ExprAndVary {
                key: "params.x".into()
            }
        );
        assert_eq!(
            msg,
            "m.toml: `params.x` has an expr, so it cannot also vary"
        );

        let (e, msg) = file_error("bogus = 1\n");
        assert!(matches!(e, ModelFileError::UnknownKey { ref key, .. } if key == "bogus"));
        assert_eq!(
            msg,
            "m.toml: unknown key `bogus` (expected one of: data, transform, params, paths, datasets)"
        );

        let (e, msg) = file_error("[params\n");
        assert!(matches!(e, ModelFileError::Syntax { line: 1, .. }), "{e:?}");
        assert!(msg.starts_with("m.toml: line 1, column "), "{msg}");

        let (e, msg) = file_error("[transform]\n");
        assert_eq!(e, ModelFileError::MissingData { at: String::new() });
        assert_eq!(msg, "m.toml: missing [data] (the χ(k) or μ(E) file to fit)");
    }
}
