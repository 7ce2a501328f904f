//! The fit model as plain values: parameters, paths, datasets and their
//! Fourier-transform settings, and the rules for parameter names.

use std::collections::HashMap;
use std::f64::consts::PI;

use serde::Serialize;

use crate::exafs::expr::CONTEXT;
use crate::exafs::model::DataSpec;
use crate::io::feff::FeffPath;
use crate::xas::fourier::Window;

/// Larch's path parameters in the order Carto stores them.
pub const PATH_PARS: [&str; 8] = [
    "degen", "s02", "e0", "ei", "deltar", "sigma2", "third", "fourth",
];

/// Where the residual is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FitSpace {
    R,
    K,
    Q,
}

impl FitSpace {
    pub fn from_name(s: &str) -> Option<FitSpace> {
        match s.trim().to_ascii_lowercase().as_str() {
            "r" => Some(FitSpace::R),
            "k" => Some(FitSpace::K),
            "q" => Some(FitSpace::Q),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            FitSpace::R => "r",
            FitSpace::K => "k",
            FitSpace::Q => "q",
        }
    }
}

/// Larch `feffit_transform` parameters (same names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transform {
    pub kmin: f64,
    pub kmax: f64,
    /// One or more k-weights.
    pub kweight: Vec<f64>,
    /// The k-weight was given as a list (Larch then keeps one ε per weight).
    pub kweight_list: bool,
    pub dk: f64,
    pub dk2: Option<f64>,
    pub window: Window,
    pub rmin: f64,
    pub rmax: f64,
    pub dr: f64,
    pub dr2: Option<f64>,
    pub rwindow: Window,
    pub fitspace: FitSpace,
    pub nfft: usize,
    pub kstep: f64,
    pub rbkg: f64,
}

impl Default for Transform {
    fn default() -> Self {
        Transform {
            kmin: 0.0,
            kmax: 20.0,
            kweight: vec![2.0],
            kweight_list: false,
            dk: 4.0,
            dk2: None,
            window: Window::Kaiser,
            rmin: 0.0,
            rmax: 10.0,
            dr: 0.0,
            dr2: None,
            rwindow: Window::Hanning,
            fitspace: FitSpace::R,
            nfft: 2048,
            kstep: 0.05,
            rbkg: 0.0,
        }
    }
}

impl Transform {
    /// R grid spacing, Å.
    pub fn rstep(&self) -> f64 {
        PI / (self.kstep * self.nfft as f64)
    }

    /// Check ranges; errors name the key.
    pub fn validate(&self) -> Result<(), TransformError> {
        let bad = |key: &'static str, message: String| Err(TransformError { key, message });
        let fin = |name: &'static str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                bad(name, format!("{name} = {v} is not a finite number"))
            }
        };
        for (n, v) in [
            ("kmin", self.kmin),
            ("kmax", self.kmax),
            ("dk", self.dk),
            ("rmin", self.rmin),
            ("rmax", self.rmax),
            ("dr", self.dr),
            ("kstep", self.kstep),
            ("rbkg", self.rbkg),
        ] {
            fin(n, v)?;
        }
        if self.kmin < 0.0 {
            return bad("kmin", format!("kmin = {} must be ≥ 0", self.kmin));
        }
        if self.kmax <= self.kmin {
            return bad(
                "kmax",
                format!(
                    "kmax = {} must be greater than kmin = {}",
                    self.kmax, self.kmin
                ),
            );
        }
        if self.rmin < 0.0 || self.rmax <= self.rmin {
            return bad(
                "rmin",
                format!(
                    "rmin = {} and rmax = {} must satisfy 0 ≤ rmin < rmax",
                    self.rmin, self.rmax
                ),
            );
        }
        if !(self.kstep > 0.0 && self.kstep <= 0.5) {
            return bad(
                "kstep",
                format!("kstep = {} must be in (0, 0.5]", self.kstep),
            );
        }
        if !(self.nfft.is_power_of_two() && (256..=1 << 16).contains(&self.nfft)) {
            return bad(
                "nfft",
                format!(
                    "nfft = {} must be a power of two between 256 and 65536",
                    self.nfft
                ),
            );
        }
        if self.kmax / self.kstep >= self.nfft as f64 / 2.0 {
            return bad(
                "kmax",
                format!(
                    "kmax = {} is beyond the FFT grid (nfft·kstep/2 = {})",
                    self.kmax,
                    self.nfft as f64 * self.kstep / 2.0
                ),
            );
        }
        if self.kweight.is_empty() {
            return bad("kweight", "kweight needs at least one value".into());
        }
        for &w in &self.kweight {
            if !(w.is_finite() && (0.0..=10.0).contains(&w)) {
                return bad("kweight", format!("kweight = {w} must be between 0 and 10"));
            }
        }
        if self.dk < 0.0 || self.dk2.is_some_and(|v| v.is_nan() || v < 0.0) {
            return bad("dk", "dk and dk2 must be ≥ 0".into());
        }
        Ok(())
    }
}

/// A transform setting out of range: the key, and the message shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TransformError {
    pub key: &'static str,
    pub message: String,
}

/// χ(k) to fit, with what Larch knows about its uncertainty.
#[derive(Debug, Clone, Default)]
pub struct FitData {
    pub name: String,
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    /// AUTOBK's χ(k) uncertainty on `k_inv_ang` (Larch `delta_chi`), when
    /// the data came from AUTOBK.
    pub delta_chi: Option<Vec<f64>>,
    /// A user-given uncertainty in χ(k) (Larch `epsilon_k`).
    pub epsilon_k: Option<f64>,
}

/// A path parameter: a number or an expression in the fit parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum PathValue {
    Value(f64),
    Expr(String),
}

/// One FEFF path in a dataset; `values` follow [`PATH_PARS`] (None: Larch default).
#[derive(Debug, Clone)]
pub struct PathDef {
    pub label: String,
    /// The file it came from, as given (for reports).
    pub file: String,
    pub feff: FeffPath,
    pub values: [Option<PathValue>; 8],
}

/// A fit parameter (lmfit `Parameter`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    pub name: String,
    pub value: f64,
    pub vary: bool,
    pub min: f64,
    pub max: f64,
    pub expr: Option<String>,
}

impl ParamDef {
    pub fn new(name: &str, value: f64, vary: bool) -> Self {
        ParamDef {
            name: name.into(),
            value,
            vary,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            expr: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatasetDef {
    pub data: FitData,
    pub transform: Transform,
    pub paths: Vec<PathDef>,
    /// Where `data` came from (a model file's `[data]` table), so the model
    /// can be written back; None for data built in code.
    pub spec: Option<DataSpec>,
}

/// Everything a fit needs.
#[derive(Debug, Clone, Default)]
pub struct FitModel {
    pub params: Vec<ParamDef>,
    pub datasets: Vec<DatasetDef>,
}

/// Why a model could not be built or fitted. Each variant names what it is
/// about (file, parameter, dataset, path and path parameter); the texts are
/// what the CLI and the GUI show.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A problem with the model as a whole.
    #[error("{0}")]
    Model(String),
    /// A problem in a model file: "FILE: what".
    #[error("{file}: {error}")]
    File {
        file: String,
        error: Box<crate::exafs::model::ModelFileError>,
    },
    #[error("the model has no dataset")]
    NoDataset,
    #[error("no parameter varies (set vary = true on at least one, used by a path)")]
    NothingVaries,
    #[error("parameter name '{0}' is not a valid identifier")]
    InvalidName(String),
    #[error("parameter name '{0}' is reserved (a function or path value)")]
    ReservedName(String),
    #[error("parameter '{0}' is defined twice")]
    DefinedTwice(String),
    #[error("parameter '{name}': value {value} is not a finite number")]
    ParamNotFinite { name: String, value: f64 },
    #[error("parameter '{name}': min = {min} must be below max = {max}")]
    ParamBounds { name: String, min: f64, max: f64 },
    #[error("parameter '{name}' expression: {error}")]
    ParamExpr {
        name: String,
        error: crate::exafs::expr::ExprError,
    },
    #[error(
        "parameter '{name}' expression uses {function}, which needs a path: use it in a path parameter"
    )]
    ParamNeedsPath {
        name: String,
        function: &'static str,
    },
    #[error("parameter '{0}' is defined in terms of itself")]
    ParamCycle(String),
    /// `dataset` is 1-based and `None` when the model has only one.
    #[error("{}transform: {error}", dataset_prefix(*.dataset))]
    Transform {
        dataset: Option<usize>,
        error: TransformError,
    },
    #[error("{}has no paths", dataset_prefix(*.dataset))]
    NoPaths { dataset: Option<usize> },
    #[error("{}data: {reason}", dataset_prefix(*.dataset))]
    Data {
        dataset: Option<usize>,
        reason: String,
    },
    /// The FEFF file of a path could not be used; `path` is 1-based.
    #[error("{}path {path} ({label}): {error}", dataset_prefix(*.dataset))]
    Feff {
        dataset: Option<usize>,
        path: usize,
        label: String,
        error: crate::exafs::path::PathError,
    },
    #[error("{}path {path} ({label}) {field}: {value} is not a finite number", dataset_prefix(*.dataset))]
    PathNotFinite {
        dataset: Option<usize>,
        path: usize,
        label: String,
        field: &'static str,
        value: f64,
    },
    #[error("{}path {path} ({label}) {field} expression: {error}", dataset_prefix(*.dataset))]
    PathExpr {
        dataset: Option<usize>,
        path: usize,
        label: String,
        field: &'static str,
        error: crate::exafs::expr::ExprError,
    },
    #[error("fit failed: {0}")]
    Lm(String),
    #[error("fit cancelled")]
    Cancelled,
}

/// "dataset N " in front of a message when the model has several datasets.
fn dataset_prefix(dataset: Option<usize>) -> String {
    dataset.map_or_else(String::new, |i| format!("dataset {i} "))
}

pub(super) fn names_table(params: &[ParamDef]) -> HashMap<String, usize> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), i))
        .collect()
}

fn is_identifier(s: &str) -> bool {
    let mut ch = s.chars();
    ch.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && ch.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` appears in `text` as a whole identifier.
pub(super) fn uses_name(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// Names an expression may not take as parameter names.
const RESERVED: &[&str] = &[
    "reff",
    "degen",
    "sqrt",
    "exp",
    "log",
    "ln",
    "log10",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "abs",
    "min",
    "max",
    "atan2",
    "sigma2_eins",
    "sigma2_debye",
    "pi",
    "e",
];

/// Whether `name` can name a fit parameter: an identifier that is not a
/// function or a path value (`reff`, `degen`, …).
pub fn check_param_name(name: &str) -> Result<(), FitError> {
    if !is_identifier(name) {
        return Err(FitError::InvalidName(name.to_string()));
    }
    if RESERVED.contains(&name) || CONTEXT.contains(&name) {
        return Err(FitError::ReservedName(name.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts the CLI, the GUI and users' scripts saw when these were
    /// plain strings ("{where_}path {n} ({label}) …").
    #[test]
    fn error_texts_name_dataset_path_and_field() {
        let e = FitError::PathNotFinite {
            dataset: Some(2),
            path: 3,
            label: "feff0003.dat".into(),
            field: "sigma2",
            value: f64::NAN,
        };
        assert_eq!(
            e.to_string(),
            "dataset 2 path 3 (feff0003.dat) sigma2: NaN is not a finite number"
        );
        let e = FitError::NoPaths { dataset: Some(1) };
        assert_eq!(e.to_string(), "dataset 1 has no paths");
        let tr = Transform {
            kmin: -1.0,
            ..Transform::default()
        };
        let e = FitError::Transform {
            dataset: None,
            error: tr.validate().expect_err("kmin < 0"),
        };
        assert_eq!(e.to_string(), "transform: kmin = -1 must be ≥ 0");
        assert_eq!(
            check_param_name("sin").map_err(|e| e.to_string()),
            Err("parameter name 'sin' is reserved (a function or path value)".into())
        );
    }
}
