//! Larch's `feffit` (larch/xafs/feffit.py): sums of FEFF paths fitted to
//! χ(k) in R, k or q space, with several k-weights and several datasets
//! sharing parameters, and the statistics Larch reports.
//!
//! The model is built from plain values ([`FitModel`]); [`Feffit::new`]
//! compiles every expression once and prepares each dataset (model k grid,
//! data on it, windows, noise estimates), after which a residual evaluation
//! touches no text.

use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, Ordering};

use num_complex::Complex64;
use serde::Serialize;

use super::expr::{CONTEXT, Expr, PathContext};
use super::lm::{self, LmError, LmOptions, LmParams};
use super::model::DataSpec;
use super::path::{PathModel, PathParams, PathTables};
use crate::io::feff::FeffPath;
use crate::xas::fourier::{Window, fft_plan, ftwindow, xftf_fast};
use crate::xas::math::interp_clamped;

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
    pub fn validate(&self) -> Result<(), String> {
        let fin = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{name} = {v} is not a finite number"))
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
            return Err(format!("kmin = {} must be ≥ 0", self.kmin));
        }
        if self.kmax <= self.kmin {
            return Err(format!(
                "kmax = {} must be greater than kmin = {}",
                self.kmax, self.kmin
            ));
        }
        if self.rmin < 0.0 || self.rmax <= self.rmin {
            return Err(format!(
                "rmin = {} and rmax = {} must satisfy 0 ≤ rmin < rmax",
                self.rmin, self.rmax
            ));
        }
        if !(self.kstep > 0.0 && self.kstep <= 0.5) {
            return Err(format!("kstep = {} must be in (0, 0.5]", self.kstep));
        }
        if !(self.nfft.is_power_of_two() && (256..=1 << 16).contains(&self.nfft)) {
            return Err(format!(
                "nfft = {} must be a power of two between 256 and 65536",
                self.nfft
            ));
        }
        if self.kmax / self.kstep >= self.nfft as f64 / 2.0 {
            return Err(format!(
                "kmax = {} is beyond the FFT grid (nfft·kstep/2 = {})",
                self.kmax,
                self.nfft as f64 * self.kstep / 2.0
            ));
        }
        if self.kweight.is_empty() {
            return Err("kweight needs at least one value".into());
        }
        for &w in &self.kweight {
            if !(w.is_finite() && (0.0..=10.0).contains(&w)) {
                return Err(format!("kweight = {w} must be between 0 and 10"));
            }
        }
        if self.dk < 0.0 || self.dk2.is_some_and(|v| v.is_nan() || v < 0.0) {
            return Err("dk and dk2 must be ≥ 0".into());
        }
        Ok(())
    }
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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// A problem in the model, with where it is ("path 2 (feff0002.dat) sigma2: …").
    #[error("{0}")]
    Model(String),
    #[error("fit failed: {0}")]
    Lm(String),
    #[error("fit cancelled")]
    Cancelled,
}

// ---------------------------------------------------------------------------
// Compiled model.

#[derive(Debug, Clone)]
enum PathPar {
    Const(f64),
    Expr(Expr),
}

#[derive(Debug, Clone)]
struct PreparedPath {
    label: String,
    file: String,
    exprs: [Option<String>; 8],
    model: PathModel,
    ctx: PathContext,
    pars: [PathPar; 8],
}

/// Uncertainty in χ(k): one number per k-weight, or one array for all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EpsilonK {
    Scalar(Vec<f64>),
    Array(Vec<f64>),
}

/// The last two evaluations of one path, reused while its parameters stay
/// put. Two slots because a finite-difference Jacobian alternates between
/// the base point and one perturbed parameter: with one slot every column
/// would recompute every path (and rebuild the e0 tables twice).
#[derive(Debug, Clone, Default)]
struct PathCache {
    chi: [ChiSlot; 2],
    tables: [Option<PathTables>; 2],
    /// Which chi slot / tables slot was used last.
    chi_last: usize,
    tables_last: usize,
}

#[derive(Debug, Clone, Default)]
struct ChiSlot {
    params: [f64; 8],
    chi: Vec<f64>,
}

impl PathCache {
    /// χ of `path` for path parameters `v` on grid `k`, from the cache when
    /// these parameters were evaluated in one of the last two calls.
    fn chi(&mut self, path: &PreparedPath, k: &[f64], v: [f64; 8]) -> &[f64] {
        let nk = k.len();
        if let Some(s) = (0..2).find(|&s| self.chi[s].chi.len() == nk && self.chi[s].params == v) {
            self.chi_last = s;
            return &self.chi[s].chi;
        }
        let s = 1 - self.chi_last;
        self.chi_last = s;
        let slot = &mut self.chi[s];
        slot.params = v;
        slot.chi.clear();
        if v.iter().any(|x| !x.is_finite()) {
            slot.chi.resize(nk, f64::NAN);
            return &slot.chi;
        }
        let pp = PathParams {
            degen: Some(v[0]),
            s02: v[1],
            e0: v[2],
            ei: v[3],
            deltar: v[4],
            sigma2: v[5],
            third: v[6],
            fourth: v[7],
        };
        let hit = (0..2).find(|&t| {
            self.tables[t]
                .as_ref()
                .is_some_and(|t| t.e0 == pp.e0 && t.ei == pp.ei && t.len() == nk)
        });
        let t = match hit {
            Some(t) => t,
            None => {
                let t = 1 - self.tables_last;
                self.tables[t] = Some(path.model.tables(k, pp.e0, pp.ei));
                t
            }
        };
        self.tables_last = t;
        slot.chi.resize(nk, 0.0);
        if let Some(tab) = &self.tables[t] {
            path.model.chi_into(tab, &pp, &mut slot.chi);
        }
        &slot.chi
    }
}

/// Scratch space of one fit.
struct Work {
    caches: Vec<Vec<PathCache>>,
    vals: Vec<f64>,
    diff: Vec<f64>,
    model: Vec<f64>,
}

#[derive(Debug, Clone)]
struct Prepared {
    name: String,
    tr: Transform,
    k: Vec<f64>,
    chi: Vec<f64>,
    kwin: Vec<f64>,
    /// kwin·k^w on the model grid, per k-weight.
    wk: Vec<Vec<f64>>,
    /// k^w on the model grid, per k-weight (k-space residual).
    kpow: Vec<Vec<f64>>,
    eps_k: EpsilonK,
    eps_r: Vec<f64>,
    noise_eps_k: f64,
    noise_eps_r: f64,
    n_idp: f64,
    irmin: usize,
    irmax: usize,
    iqmin: usize,
    iqmax: usize,
    rwin: Vec<f64>,
    paths: Vec<PreparedPath>,
    nresid: usize,
}

/// A compiled feffit problem.
#[derive(Debug, Clone)]
pub struct Feffit {
    params: Vec<ParamDef>,
    exprs: Vec<Option<Expr>>,
    /// Expression parameters in evaluation order.
    order: Vec<usize>,
    /// `vary` after Larch's `fix_unused_variables`.
    vary: Vec<bool>,
    datasets: Vec<Prepared>,
}

/// A fit parameter after the fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamResult {
    pub name: String,
    pub value: f64,
    pub stderr: Option<f64>,
    pub vary: bool,
    pub expr: Option<String>,
    pub init: f64,
}

/// A path's parameter values after the fit, in [`PATH_PARS`] order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathResult {
    pub label: String,
    pub file: String,
    pub reff: f64,
    pub values: [f64; 8],
    pub stderr: [Option<f64>; 8],
    /// The expressions behind the values (None for plain numbers).
    pub exprs: [Option<String>; 8],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetResult {
    pub name: String,
    pub n_idp: f64,
    pub epsilon_k: EpsilonK,
    pub epsilon_r: Vec<f64>,
    /// Larch's high-R noise estimate alone (before AUTOBK's δχ is added).
    pub noise_epsilon_k: f64,
    pub noise_epsilon_r: f64,
    pub transform: Transform,
    pub k: Vec<f64>,
    pub chi_data: Vec<f64>,
    pub chi_fit: Vec<f64>,
    pub kwin: Vec<f64>,
    pub r: Vec<f64>,
    pub chir_mag_data: Vec<f64>,
    pub chir_mag_fit: Vec<f64>,
    pub chir_re_fit: Vec<f64>,
    pub chir_im_fit: Vec<f64>,
    pub rwin: Vec<f64>,
    pub paths: Vec<PathResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitStats {
    pub chi_square: f64,
    pub chi2_reduced: f64,
    pub r_factor: f64,
    pub n_idp: f64,
    pub n_varys: usize,
    pub nfree: usize,
    pub ndata: usize,
    pub nfev: usize,
    pub aic: f64,
    pub bic: f64,
    pub success: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitResult {
    pub params: Vec<ParamResult>,
    pub stats: FitStats,
    /// Correlations between every pair of varied parameters.
    pub correlations: Vec<(String, String, f64)>,
    pub datasets: Vec<DatasetResult>,
}

fn names_table(params: &[ParamDef]) -> HashMap<String, usize> {
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
fn uses_name(text: &str, name: &str) -> bool {
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
pub fn check_param_name(name: &str) -> Result<(), String> {
    if !is_identifier(name) {
        return Err(format!("parameter name '{name}' is not a valid identifier"));
    }
    if RESERVED.contains(&name) || CONTEXT.contains(&name) {
        return Err(format!(
            "parameter name '{name}' is reserved (a function or path value)"
        ));
    }
    Ok(())
}

impl Feffit {
    /// Compile expressions, order derived parameters, prepare every dataset.
    pub fn new(model: FitModel) -> Result<Feffit, FitError> {
        let err = |s: String| FitError::Model(s);
        if model.datasets.is_empty() {
            return Err(err("the model has no dataset".into()));
        }
        let mut seen = HashMap::new();
        for (i, p) in model.params.iter().enumerate() {
            check_param_name(&p.name).map_err(err)?;
            if seen.insert(p.name.clone(), i).is_some() {
                return Err(err(format!("parameter '{}' is defined twice", p.name)));
            }
            if p.expr.is_none() && !p.value.is_finite() {
                return Err(err(format!(
                    "parameter '{}': value {} is not a finite number",
                    p.name, p.value
                )));
            }
            if p.min.is_nan() || p.max.is_nan() || p.min >= p.max {
                return Err(err(format!(
                    "parameter '{}': min = {} must be below max = {}",
                    p.name, p.min, p.max
                )));
            }
        }
        let names = names_table(&model.params);
        let mut exprs = Vec::with_capacity(model.params.len());
        for p in &model.params {
            exprs.push(match &p.expr {
                Some(text) => {
                    let e = Expr::compile(text, &names).map_err(|e| {
                        err(format!("parameter '{}' expression: {e}", p.name))
                    })?;
                    for f in ["sigma2_eins", "sigma2_debye", "reff", "degen"] {
                        if uses_name(text, f) {
                            return Err(err(format!(
                                "parameter '{}' expression uses {f}, which needs a path: use it in a path parameter",
                                p.name
                            )));
                        }
                    }
                    Some(e)
                }
                None => None,
            });
        }
        // Topological order of expression parameters (cycles rejected).
        let mut order = Vec::new();
        let mut state = vec![0u8; exprs.len()]; // 0 new, 1 visiting, 2 done
        fn visit(
            i: usize,
            exprs: &[Option<Expr>],
            state: &mut [u8],
            order: &mut Vec<usize>,
            params: &[ParamDef],
        ) -> Result<(), String> {
            match state[i] {
                2 => return Ok(()),
                1 => {
                    return Err(format!(
                        "parameter '{}' is defined in terms of itself",
                        params[i].name
                    ));
                }
                _ => {}
            }
            state[i] = 1;
            if let Some(e) = &exprs[i] {
                for &d in &e.deps {
                    visit(d, exprs, state, order, params)?;
                }
                order.push(i);
            }
            state[i] = 2;
            Ok(())
        }
        for i in 0..exprs.len() {
            visit(i, &exprs, &mut state, &mut order, &model.params).map_err(err)?;
        }

        // Datasets.
        let nds = model.datasets.len();
        let mut datasets = Vec::with_capacity(nds);
        let mut used = vec![false; model.params.len()];
        for e in exprs.iter().flatten() {
            for &d in &e.deps {
                used[d] = true;
            }
        }
        for (di, ds) in model.datasets.into_iter().enumerate() {
            let where_ = if nds > 1 {
                format!("dataset {} ", di + 1)
            } else {
                String::new()
            };
            ds.transform
                .validate()
                .map_err(|m| err(format!("{where_}transform: {m}")))?;
            if ds.paths.is_empty() {
                return Err(err(format!("{where_}has no paths")));
            }
            let mut paths = Vec::with_capacity(ds.paths.len());
            for (pi, p) in ds.paths.into_iter().enumerate() {
                let at = format!("{where_}path {} ({})", pi + 1, p.label);
                let model = PathModel::new(&p.feff).map_err(|e| err(format!("{at}: {e}")))?;
                let ctx = PathContext::from_feff(&p.feff);
                let mut pars: [PathPar; 8] = std::array::from_fn(|_| PathPar::Const(0.0));
                for (j, v) in p.values.iter().enumerate() {
                    pars[j] = match v {
                        None => PathPar::Const(match PATH_PARS[j] {
                            "degen" => p.feff.degen,
                            "s02" => 1.0,
                            _ => 0.0,
                        }),
                        Some(PathValue::Value(x)) => {
                            if !x.is_finite() {
                                return Err(err(format!(
                                    "{at} {}: {x} is not a finite number",
                                    PATH_PARS[j]
                                )));
                            }
                            PathPar::Const(*x)
                        }
                        Some(PathValue::Expr(text)) => {
                            let e = Expr::compile(text, &names).map_err(|e| {
                                err(format!("{at} {} expression: {e}", PATH_PARS[j]))
                            })?;
                            for &d in &e.deps {
                                used[d] = true;
                            }
                            PathPar::Expr(e)
                        }
                    };
                }
                let exprs = std::array::from_fn(|j| match &p.values[j] {
                    Some(PathValue::Expr(t)) => Some(t.clone()),
                    _ => None,
                });
                paths.push(PreparedPath {
                    label: p.label,
                    file: p.file,
                    exprs,
                    model,
                    ctx,
                    pars,
                });
            }
            datasets.push(
                prepare(ds.data, ds.transform, paths)
                    .map_err(|m| err(format!("{where_}data: {m}")))?,
            );
        }
        // Larch fix_unused_variables: a varied parameter no expression uses
        // is fixed.
        let vary = model
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| p.vary && p.expr.is_none() && used[i])
            .collect();
        Ok(Feffit {
            params: model.params,
            exprs,
            order,
            vary,
            datasets,
        })
    }

    /// Total residual length.
    pub fn nresid(&self) -> usize {
        self.datasets.iter().map(|d| d.nresid).sum()
    }

    /// Names of the fit parameters, in model order.
    pub fn param_names(&self) -> Vec<&str> {
        self.params.iter().map(|p| p.name.as_str()).collect()
    }

    /// Initial values of all parameters, with expressions evaluated.
    pub fn initial_values(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.params.iter().map(|p| p.value).collect();
        self.eval_exprs(&mut v);
        v
    }

    fn eval_exprs(&self, vals: &mut [f64]) {
        let ctx = PathContext::default();
        for &i in &self.order {
            if let Some(e) = &self.exprs[i] {
                let p = &self.params[i];
                // lmfit clips expression values into [min, max].
                vals[i] = e.eval(vals, &ctx).clamp(p.min, p.max);
            }
        }
    }

    fn path_params(path: &PreparedPath, vals: &[f64]) -> [f64; 8] {
        let mut out = [0.0; 8];
        for (o, p) in out.iter_mut().zip(&path.pars) {
            *o = match p {
                PathPar::Const(c) => *c,
                PathPar::Expr(e) => e.eval(vals, &path.ctx),
            };
        }
        out
    }

    /// Model χ(k) of dataset `d` on its model grid.
    fn model_chi(&self, d: &Prepared, vals: &[f64]) -> Vec<f64> {
        let mut cache = vec![PathCache::default(); d.paths.len()];
        let mut sum = Vec::new();
        Self::model_chi_cached(d, vals, &mut cache, &mut sum);
        sum
    }

    /// As [`Self::model_chi`], recomputing a path only when its parameters
    /// changed and its spline tables only when its e0 or ei changed (a
    /// finite-difference Jacobian varies one parameter at a time).
    fn model_chi_cached(d: &Prepared, vals: &[f64], cache: &mut [PathCache], sum: &mut Vec<f64>) {
        let nk = d.k.len();
        sum.clear();
        sum.resize(nk, 0.0);
        for (path, c) in d.paths.iter().zip(cache.iter_mut()) {
            let v = Self::path_params(path, vals);
            for (s, x) in sum.iter_mut().zip(c.chi(path, &d.k, v)) {
                *s += x;
            }
        }
    }

    /// Larch `_feffit_resid` for all parameter values `vals` (expression
    /// parameters are recomputed). `data_only` gives the transformed data.
    pub fn residual(&self, vals: &[f64], data_only: bool, out: &mut Vec<f64>) {
        let mut work = self.work();
        self.residual_with(&mut work, vals, data_only, out);
    }

    fn work(&self) -> Work {
        Work {
            caches: self
                .datasets
                .iter()
                .map(|d| vec![PathCache::default(); d.paths.len()])
                .collect(),
            vals: Vec::with_capacity(self.params.len()),
            diff: Vec::new(),
            model: Vec::new(),
        }
    }

    fn residual_with(&self, w: &mut Work, vals: &[f64], data_only: bool, out: &mut Vec<f64>) {
        w.vals.clear();
        w.vals.extend_from_slice(vals);
        self.eval_exprs(&mut w.vals);
        out.clear();
        for (d, cache) in self.datasets.iter().zip(w.caches.iter_mut()) {
            w.diff.clear();
            w.diff.extend_from_slice(&d.chi);
            if !data_only {
                Self::model_chi_cached(d, &w.vals, cache, &mut w.model);
                for (a, b) in w.diff.iter_mut().zip(&w.model) {
                    *a -= b;
                }
            }
            dataset_residual(d, &w.diff, out);
        }
    }

    /// Run the fit (lmfit `leastsq` with feffit's options). `cancel` stops it.
    pub fn fit(&self, cancel: Option<&AtomicBool>) -> Result<FitResult, FitError> {
        let lmp: Vec<LmParams> = self
            .params
            .iter()
            .zip(&self.vary)
            .map(|(p, &vary)| LmParams {
                value: if p.expr.is_some() { 0.0 } else { p.value },
                min: if p.expr.is_some() {
                    f64::NEG_INFINITY
                } else {
                    p.min
                },
                max: if p.expr.is_some() {
                    f64::INFINITY
                } else {
                    p.max
                },
                vary,
            })
            .collect();
        if !self.vary.iter().any(|&v| v) {
            return Err(FitError::Model(
                "no parameter varies (set vary = true on at least one, used by a path)".into(),
            ));
        }
        let m = self.nresid();
        let mut buf = Vec::with_capacity(m);
        let mut work = self.work();
        let resid = |vals: &[f64], out: &mut [f64]| {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                out.iter_mut().for_each(|o| *o = f64::NAN);
                return;
            }
            self.residual_with(&mut work, vals, false, &mut buf);
            out.copy_from_slice(&buf);
        };
        let res = lm::minimize(resid, &lmp, m, &LmOptions::feffit()).map_err(|e| {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                FitError::Cancelled
            } else {
                match e {
                    LmError::NonFiniteResidual { .. } => FitError::Lm(
                        "the model gave non-finite values (check parameter values and bounds)"
                            .into(),
                    ),
                    other => FitError::Lm(format!("{other:?}")),
                }
            }
        })?;
        Ok(self.finish(res))
    }

    fn finish(&self, res: lm::LmResult) -> FitResult {
        let mut vals = res.values.clone();
        self.eval_exprs(&mut vals);
        let mut dat = Vec::new();
        self.residual(&vals, true, &mut dat);
        let n_idp: f64 = self.datasets.iter().map(|d| d.n_idp).sum();
        let npts = res.residual.len() as f64;
        let chisqr: f64 = res.residual.iter().map(|r| r * r).sum();
        let nvarys = res.nvarys;
        let chi_square = chisqr * n_idp / npts;
        let chi2_reduced = chi_square / (n_idp - nvarys as f64);
        let r_factor = chisqr / dat.iter().map(|r| r * r).sum::<f64>();
        let neg2 = n_idp * (chi_square / n_idp).ln();
        let aic = neg2 + 2.0 * nvarys as f64;
        let bic = neg2 + n_idp.ln() * nvarys as f64;

        // Larch propagate_uncertainties: scale_covar=False, then
        // err_scale = redchi·nfree/(n_idp − nvarys) = chisqr/(n_idp − nvarys).
        let err_scale = chisqr / (n_idp - nvarys as f64);
        let nv = res.var_index.len();
        let covar: Option<Vec<f64>> = res
            .covar
            .as_ref()
            .map(|c| c.iter().map(|v| v * err_scale).collect());
        let mut stderr: Vec<Option<f64>> = vec![None; self.params.len()];
        let mut correlations = Vec::new();
        if let Some(c) = &covar {
            for (a, &i) in res.var_index.iter().enumerate() {
                stderr[i] = Some(c[a * nv + a].max(0.0).sqrt());
                for (b, &j) in res.var_index.iter().enumerate().skip(a + 1) {
                    if let Some(r) = res.correlation(a, b) {
                        correlations.push((
                            self.params[i].name.clone(),
                            self.params[j].name.clone(),
                            r,
                        ));
                    }
                }
            }
        }
        // Uncertainty of anything computed from the variables: g·C·g with g
        // by central differences (as the `uncertainties` package Larch uses).
        let propagate = |f: &dyn Fn(&[f64]) -> f64| -> Option<f64> {
            let c = covar.as_ref()?;
            let mut g = vec![0.0; nv];
            let mut x = res.values.clone();
            for (a, &i) in res.var_index.iter().enumerate() {
                let x0 = x[i];
                let h = if x0 != 0.0 {
                    1.490_116_119_384_765_6e-8 * x0.abs()
                } else {
                    1.490_116_119_384_765_6e-8
                };
                x[i] = x0 + h;
                let fp = f(&x);
                x[i] = x0 - h;
                let fm = f(&x);
                x[i] = x0;
                g[a] = (fp - fm) / (2.0 * h);
            }
            let mut s = 0.0;
            for a in 0..nv {
                for b in 0..nv {
                    s += g[a] * c[a * nv + b] * g[b];
                }
            }
            Some(s.max(0.0).sqrt())
        };
        // A fixed number is exact: Larch reports its stderr as 0.
        if covar.is_some() {
            for (i, p) in self.params.iter().enumerate() {
                if !self.vary[i] && p.expr.is_none() {
                    stderr[i] = Some(0.0);
                }
            }
        }
        for &i in &self.order {
            stderr[i] = propagate(&|x: &[f64]| {
                let mut v = x.to_vec();
                self.eval_exprs(&mut v);
                v[i]
            });
        }
        let params = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| ParamResult {
                name: p.name.clone(),
                value: vals[i],
                stderr: stderr[i],
                vary: self.vary[i],
                expr: p.expr.clone(),
                init: p.value,
            })
            .collect();

        let datasets = self
            .datasets
            .iter()
            .map(|d| {
                let chi_fit = self.model_chi(d, &vals);
                let paths = d
                    .paths
                    .iter()
                    .map(|p| {
                        let values = Self::path_params(p, &vals);
                        let mut se = [None; 8];
                        for (j, s) in se.iter_mut().enumerate() {
                            if let PathPar::Expr(e) = &p.pars[j]
                                && !e.deps.is_empty()
                            {
                                *s = propagate(&|x: &[f64]| {
                                    let mut v = x.to_vec();
                                    self.eval_exprs(&mut v);
                                    e.eval(&v, &p.ctx)
                                });
                            }
                        }
                        PathResult {
                            label: p.label.clone(),
                            file: p.file.clone(),
                            reff: p.model.reff_ang,
                            values,
                            stderr: se,
                            exprs: p.exprs.clone(),
                        }
                    })
                    .collect();
                let (r, data_r) = output_ft(d, &d.chi);
                let (_, fit_r) = output_ft(d, &chi_fit);
                DatasetResult {
                    name: d.name.clone(),
                    n_idp: d.n_idp,
                    epsilon_k: d.eps_k.clone(),
                    epsilon_r: d.eps_r.clone(),
                    noise_epsilon_k: d.noise_eps_k,
                    noise_epsilon_r: d.noise_eps_r,
                    transform: d.tr.clone(),
                    k: d.k.clone(),
                    chi_data: d.chi.clone(),
                    chi_fit,
                    kwin: d.kwin.clone(),
                    rwin: d.rwin[..r.len()].to_vec(),
                    r,
                    chir_mag_data: data_r.iter().map(|c| c.norm()).collect(),
                    chir_mag_fit: fit_r.iter().map(|c| c.norm()).collect(),
                    chir_re_fit: fit_r.iter().map(|c| c.re).collect(),
                    chir_im_fit: fit_r.iter().map(|c| c.im).collect(),
                    paths,
                }
            })
            .collect();
        FitResult {
            params,
            stats: FitStats {
                chi_square,
                chi2_reduced,
                r_factor,
                n_idp,
                n_varys: nvarys,
                nfree: res.nfree,
                ndata: res.ndata,
                nfev: res.nfev,
                aic,
                bic,
                success: res.success,
                message: res.message.clone(),
            },
            correlations,
            datasets,
        }
    }
}

/// Larch `xftf_fast` of `chi·wk` (first nfft/2 bins).
fn fftf(chi: &[f64], wk: &[f64], nfft: usize, kstep: f64) -> Vec<Complex64> {
    let cw: Vec<f64> = chi.iter().zip(wk).map(|(c, w)| c * w).collect();
    xftf_fast(&cw, nfft, kstep)
}

/// Larch `xftr_fast` of `chir·rwin` (first nfft/2 points).
fn fftr(chir: &[Complex64], rwin: &[f64], nfft: usize, kstep: f64) -> Vec<Complex64> {
    let mut buf = vec![Complex64::new(0.0, 0.0); nfft];
    for ((b, c), &w) in buf.iter_mut().zip(chir).zip(rwin) {
        *b = c * w;
    }
    fft_plan(nfft, true).process(&mut buf);
    // numpy ifft includes 1/n.
    let scale = 4.0 * PI.sqrt() / kstep / nfft as f64;
    buf.truncate(nfft / 2);
    buf.iter_mut().for_each(|b| *b *= scale);
    buf
}

/// χ(R) out to 10 Å with the first k-weight (Larch `save_outputs`, rmax_out = 10).
fn output_ft(d: &Prepared, chi: &[f64]) -> (Vec<f64>, Vec<Complex64>) {
    let tr = &d.tr;
    let rstep = tr.rstep();
    let irmax = ((tr.nfft / 2) as f64).min(1.01 + 10.0 / rstep) as usize;
    let c = fftf(chi, &d.wk[0], tr.nfft, tr.kstep);
    let r = (0..irmax).map(|i| rstep * i as f64).collect();
    (r, c[..irmax].to_vec())
}

fn dataset_residual(d: &Prepared, diff: &[f64], out: &mut Vec<f64>) {
    let tr = &d.tr;
    match tr.fitspace {
        FitSpace::K => {
            let hi = d.iqmax.min(diff.len());
            for (i, kp) in d.kpow.iter().enumerate() {
                for j in d.iqmin..hi {
                    let eps = match &d.eps_k {
                        EpsilonK::Scalar(v) => v[i.min(v.len() - 1)],
                        EpsilonK::Array(a) => a[j].max(1e-12),
                    };
                    out.push(diff[j] / eps * kp[j]);
                }
            }
        }
        FitSpace::R => {
            // Two real transforms per complex FFT: z = x₀ + i·x₁ gives
            // X₀[m] = (Z[m] + Z*[N−m])/2 and X₁[m] = (Z[m] − Z*[N−m])/2i.
            let n = tr.nfft;
            let scale = tr.kstep / PI.sqrt();
            let plan = fft_plan(n, false);
            let mut buf = vec![Complex64::new(0.0, 0.0); n];
            let mut i = 0;
            while i < d.wk.len() {
                buf.iter_mut().for_each(|b| *b = Complex64::new(0.0, 0.0));
                let pair = i + 1 < d.wk.len();
                for (j, (b, &x)) in buf.iter_mut().zip(diff).enumerate() {
                    b.re = x * d.wk[i][j];
                    if pair {
                        b.im = x * d.wk[i + 1][j];
                    }
                }
                plan.process(&mut buf);
                let (e0, e1) = (d.eps_r[i], d.eps_r[(i + 1).min(d.eps_r.len() - 1)]);
                if pair {
                    let mut second = Vec::with_capacity(2 * (d.irmax - d.irmin));
                    for m in d.irmin..d.irmax {
                        let z = buf[m];
                        let zc = buf[(n - m) % n].conj();
                        let x0 = (z + zc) * 0.5 * scale;
                        let x1 = (z - zc) * Complex64::new(0.0, -0.5) * scale;
                        out.push(x0.re / e0);
                        out.push(x0.im / e0);
                        second.push(x1.re / e1);
                        second.push(x1.im / e1);
                    }
                    out.extend_from_slice(&second);
                    i += 2;
                } else {
                    for z in &buf[d.irmin..d.irmax] {
                        out.push(z.re * scale / e0);
                        out.push(z.im * scale / e0);
                    }
                    i += 1;
                }
            }
        }
        FitSpace::Q => {
            for (i, wk) in d.wk.iter().enumerate() {
                let c = fftf(diff, wk, tr.nfft, tr.kstep);
                let q = fftr(&c, &d.rwin, tr.nfft, tr.kstep);
                let e = d.eps_r[i];
                for z in &q[d.iqmin..d.iqmax] {
                    out.push(z.re / e);
                }
            }
        }
    }
}

/// Larch `FeffitDataSet.prepare_fit` (+ `estimate_noise`, `set_epsilon_k`).
fn prepare(data: FitData, tr: Transform, paths: Vec<PreparedPath>) -> Result<Prepared, String> {
    let n = data.k_inv_ang.len();
    if n < 2 || data.chi.len() != n {
        return Err(format!(
            "χ(k) needs matching k and χ arrays with at least 2 points (k {}, χ {})",
            n,
            data.chi.len()
        ));
    }
    if let Some(i) = data
        .k_inv_ang
        .iter()
        .zip(&data.chi)
        .position(|(k, c)| !k.is_finite() || !c.is_finite())
    {
        return Err(format!("χ(k) point {} is not a finite number", i + 1));
    }
    if data.k_inv_ang.windows(2).any(|w| w[1] <= w[0]) {
        return Err("k is not strictly increasing".into());
    }
    let nfft = tr.nfft;
    let kstep = tr.kstep;
    let kmax_data = data.k_inv_ang[n - 1];
    let ikmax = ((1.01 + kmax_data / kstep) as usize).min(nfft);
    let k: Vec<f64> = (0..ikmax).map(|i| kstep * i as f64).collect();
    let chi = interp_clamped(&data.k_inv_ang, &data.chi, &k);
    let k_full: Vec<f64> = (0..nfft).map(|i| kstep * i as f64).collect();
    let kwin_full = ftwindow(&k_full, tr.kmin, tr.kmax, tr.dk, tr.dk2, tr.window);
    let kwin = kwin_full[..ikmax].to_vec();
    let kpow: Vec<Vec<f64>> = tr
        .kweight
        .iter()
        .map(|&w| k.iter().map(|&x| x.powf(w)).collect())
        .collect();
    let wk: Vec<Vec<f64>> = kpow
        .iter()
        .map(|kp| kp.iter().zip(&kwin).map(|(a, b)| a * b).collect())
        .collect();
    let n_idp = 1.0 + 2.0 * (tr.rmax - tr.rmin) * (tr.kmax - tr.kmin) / PI;
    let rstep = tr.rstep();
    let scale_k = |w: f64| {
        let w = 2.0 * w + 1.0;
        (2.0 * PI * w / (kstep * (tr.kmax.powf(w) - tr.kmin.powf(w)))).sqrt()
    };
    // set_epsilon_k's scale is 2·sqrt(πw/…), √2 times estimate_noise's (as Larch).
    let scale_set = |w: f64| {
        let w = 2.0 * w + 1.0;
        2.0 * (PI * w / (kstep * (tr.kmax.powf(w) - tr.kmin.powf(w)))).sqrt()
    };

    // estimate_noise(chi, rmin=15, rmax=30) over every k-weight.
    let irmin_n = (0.01 + 15.0 / rstep) as usize;
    let irmax_n = ((nfft / 2) as f64).min(1.01 + 30.0 / rstep) as usize;
    let kwin_ave = kwin_full.iter().sum::<f64>() * kstep / (tr.kmax - tr.kmin);
    let mut noise_r = Vec::new();
    let mut noise_k = Vec::new();
    let weights: Vec<f64> = if tr.kweight_list {
        tr.kweight.clone()
    } else {
        vec![tr.kweight[0]]
    };
    for (i, &w) in weights.iter().enumerate() {
        let c = fftf(&chi, &wk[i], nfft, kstep);
        let hi = &c[irmin_n.min(c.len())..irmax_n.min(c.len())];
        let ss: f64 = hi.iter().map(|z| z.re * z.re + z.im * z.im).sum();
        let eps_r = (ss / (2 * hi.len()).max(1) as f64).sqrt() / kwin_ave;
        noise_r.push(eps_r);
        noise_k.push(scale_k(w) * eps_r);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let nan_to = |v: f64, d: f64| if v.is_nan() { d } else { v };

    let (eps_k, eps_r) = if let Some(e) = data.epsilon_k {
        let e = nan_to(e, 0.001);
        let eps_r = tr.kweight.iter().map(|&w| e / scale_set(w)).collect();
        (EpsilonK::Scalar(vec![e; tr.kweight.len()]), eps_r)
    } else if let Some(dchi) = data.delta_chi.as_ref().filter(|d| !d.is_empty()) {
        let cur = mean(&noise_k);
        let mut dc = dchi.clone();
        dc.resize(n, 0.0);
        let dci = interp_clamped(&data.k_inv_ang, &dc, &k);
        let arr: Vec<f64> = dci
            .iter()
            .map(|d| nan_to((d * d + cur * cur).sqrt(), 0.001))
            .collect();
        let eps_r = tr
            .kweight
            .iter()
            .map(|&w| {
                let s = scale_set(w);
                mean(&arr) / s
            })
            .collect();
        (EpsilonK::Array(arr), eps_r)
    } else {
        (EpsilonK::Scalar(noise_k.clone()), noise_r.clone())
    };
    let irmin = (0.01 + tr.rmin / rstep).max(0.0) as usize;
    let irmax = ((nfft / 2) as f64).min(0.01 + tr.rmax / rstep) as usize;
    let iqmin = (0.01 + tr.kmin / kstep).max(0.0) as usize;
    let iqmax = ((nfft / 2) as f64).min(0.01 + tr.kmax / kstep) as usize;
    let r_full: Vec<f64> = (0..nfft / 2).map(|i| rstep * i as f64).collect();
    let rwin = ftwindow(
        &r_full,
        tr.rbkg.max(tr.rmin),
        tr.rmax,
        tr.dr,
        tr.dr2,
        tr.rwindow,
    );
    let nw = tr.kweight.len();
    let nresid = match tr.fitspace {
        FitSpace::K => nw * (iqmax.min(ikmax).saturating_sub(iqmin)),
        FitSpace::R => nw * 2 * irmax.saturating_sub(irmin),
        FitSpace::Q => nw * iqmax.saturating_sub(iqmin),
    };
    if nresid == 0 {
        return Err("the fit range is empty (check kmin/kmax/rmin/rmax against the data)".into());
    }
    Ok(Prepared {
        name: data.name,
        k,
        chi,
        kwin,
        wk,
        kpow,
        eps_k,
        eps_r,
        noise_eps_k: mean(&noise_k),
        noise_eps_r: mean(&noise_r),
        n_idp,
        irmin,
        irmax,
        iqmin,
        iqmax,
        rwin,
        paths,
        nresid,
        tr,
    })
}

/// A number the way Larch's report prints it (`gformat`, 10 characters).
fn gfmt(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        return format!("{:>10.7}", 0.0);
    }
    if !(1e-4..1e7).contains(&a) {
        return format!("{x:>10.4e}");
    }
    let int_digits = if a >= 1.0 {
        a.log10().floor() as i32 + 1
    } else {
        1
    };
    let dec = (8 - int_digits).max(0) as usize;
    format!("{x:>10.dec$}")
}

/// A fit report in the layout of Larch's `feffit_report` (correlations
/// above `min_correl`).
pub fn report(res: &FitResult, min_correl: f64) -> String {
    use std::fmt::Write;
    let top = "=================== FEFFIT RESULTS ====================";
    let mut o = String::new();
    let line = |o: &mut String, label: &str, value: &str| {
        let _ = writeln!(o, "  {label:<20} = {value}");
    };
    let _ = writeln!(o, "{top}\n[[Statistics]]");
    let st = &res.stats;
    line(&mut o, "n_function_calls", &st.nfev.to_string());
    line(&mut o, "n_variables", &st.n_varys.to_string());
    line(&mut o, "n_data_points", &st.ndata.to_string());
    line(&mut o, "n_independent", gfmt(st.n_idp).trim());
    line(&mut o, "chi_square", gfmt(st.chi_square).trim());
    line(&mut o, "reduced chi_square", gfmt(st.chi2_reduced).trim());
    line(&mut o, "r-factor", gfmt(st.r_factor).trim());
    line(&mut o, "Akaike info crit", gfmt(st.aic).trim());
    line(&mut o, "Bayesian info crit", gfmt(st.bic).trim());
    if !st.success {
        line(&mut o, "warning", &st.message);
    }
    let _ = writeln!(o, " \n[[Parameters]]");
    for p in &res.params {
        let err = p
            .stderr
            .map_or_else(|| "unknown".to_string(), |e| gfmt(e).trim().to_string());
        let v = if p.vary {
            format!(
                "{} +/- {err}  (init= {})",
                gfmt(p.value),
                gfmt(p.init).trim()
            )
        } else if let Some(e) = &p.expr {
            format!("{} +/- {err}  = '{e}'", gfmt(p.value))
        } else {
            format!("{} (fixed)", gfmt(p.value))
        };
        line(&mut o, &p.name, &v);
    }
    if !res.correlations.is_empty() {
        let _ = writeln!(
            o,
            " \n[[Correlations]] (unreported correlations are < {min_correl:6.3})"
        );
        let mut c: Vec<_> = res.correlations.iter().collect();
        c.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()));
        for (a, b, v) in c.into_iter().filter(|c| c.2.abs() > min_correl) {
            line(&mut o, &format!("{a}, {b}"), &format!("{v:6.3}"));
        }
    }
    let nds = res.datasets.len();
    for (i, d) in res.datasets.iter().enumerate() {
        let tr = &d.transform;
        let extra = if nds > 1 {
            format!(" {} of {nds}", i + 1)
        } else {
            String::new()
        };
        let _ = writeln!(o, " \n[[Dataset{extra}]]");
        line(&mut o, "data", &format!("'{}'", d.name));
        line(&mut o, "fit space", &format!("'{}'", tr.fitspace.name()));
        line(
            &mut o,
            "r-range",
            &format!("{:.3}, {:.3}", tr.rmin, tr.rmax),
        );
        line(
            &mut o,
            "k-range",
            &format!("{:.3}, {:.3}", tr.kmin, tr.kmax),
        );
        let mut kwin = format!("'{}', {:.3}", window_name(tr.window), tr.dk);
        if let Some(d2) = tr.dk2 {
            let _ = write!(kwin, ", {d2:.3}");
        }
        line(&mut o, "k window, dk", &kwin);
        let kw: Vec<String> = tr.kweight.iter().map(|w| format!("{w}")).collect();
        line(&mut o, "k-weight", &kw.join(", "));
        let eps_k = match &d.epsilon_k {
            EpsilonK::Scalar(v) => v
                .iter()
                .map(|e| gfmt(*e).trim().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            EpsilonK::Array(a) => {
                let n = a.len() as f64;
                let m = a.iter().sum::<f64>() / n;
                let sd = (a.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt();
                let one = format!("Array(mean={}, std={})", gfmt(m).trim(), gfmt(sd).trim());
                vec![one; tr.kweight.len()].join(", ")
            }
        };
        line(&mut o, "epsilon_k", &eps_k);
        let eps_r: Vec<String> = d
            .epsilon_r
            .iter()
            .map(|e| gfmt(*e).trim().to_string())
            .collect();
        line(&mut o, "epsilon_r", &eps_r.join(", "));
        line(&mut o, "n_independent", &format!("{:.3}", d.n_idp));
        for (j, p) in d.paths.iter().enumerate() {
            line(
                &mut o,
                if j == 0 { "paths used in fit" } else { " " },
                &format!("'{}'", p.file),
            );
        }
        let _ = writeln!(o, " \n[[Paths]]");
        for p in &d.paths {
            let _ = writeln!(o, " = Path '{}'\n    feffdat file = {}", p.label, p.file);
            let _ = writeln!(o, "     reff   = {}", gfmt(p.reff));
            let row = |o: &mut String, name: &str, j: usize, v: f64| {
                let err = p.stderr[j].map_or(String::new(), |e| format!(" +/- {}", gfmt(e).trim()));
                let ex = p.exprs[j]
                    .as_ref()
                    .map_or(String::new(), |e| format!("  := '{e}'"));
                let _ = writeln!(o, "     {name:<6} = {}{err}{ex}", gfmt(v));
            };
            row(&mut o, "degen", 0, p.values[0]);
            row(&mut o, "n*s02", 1, p.values[1]);
            row(&mut o, "e0", 2, p.values[2]);
            let r = p.reff + p.values[4];
            let _ = writeln!(
                o,
                "     r      = {}{}",
                gfmt(r),
                p.stderr[4].map_or(String::new(), |e| format!(" +/- {}", gfmt(e).trim()))
            );
            row(&mut o, "deltar", 4, p.values[4]);
            row(&mut o, "sigma2", 5, p.values[5]);
            for (name, j) in [("third", 6), ("fourth", 7), ("ei", 3)] {
                if p.values[j] != 0.0 || p.exprs[j].is_some() {
                    row(&mut o, name, j, p.values[j]);
                }
            }
            o.push('\n');
        }
    }
    o.push_str(&"=".repeat(top.len()));
    o.push('\n');
    o
}

fn window_name(w: Window) -> &'static str {
    match w {
        Window::Hanning => "hanning",
        Window::Kaiser => "kaiser",
        Window::Gaussian => "gaussian",
        Window::Sine => "sine",
        Window::Welch => "welch",
        Window::Parzen => "parzen",
    }
}
