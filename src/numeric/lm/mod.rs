//! Levenberg–Marquardt least squares, reproducing lmfit's `leastsq`.
//!
//! The solver is MINPACK's `lmdif` (forward-difference Jacobian) and `lmder`
//! (user Jacobian), after J. J. Moré, "The Levenberg–Marquardt algorithm:
//! implementation and theory", Lecture Notes in Mathematics 630 (1978), and
//! the MINPACK-1 routines `enorm`, `fdjac2`, `qrfac`, `qrsolv`, `lmpar`.
//! This is what `scipy.optimize.leastsq` wraps and what Larch's `feffit`
//! calls through lmfit's `Minimizer.leastsq`.
//!
//! Bounds follow lmfit's `Parameter.setup_bounds` (Minuit-style internal
//! variables: `arcsin`/`sin` for two-sided bounds, `sqrt` for one-sided
//! ones). The covariance is scipy's `cov_x = (RᵀR)⁻¹` from the final QR
//! factors, mapped to external variables with lmfit's `scale_gradient`
//! (`Minimizer._int2ext_cov_x`) and, with `scale_covar`, multiplied by the
//! reduced chi-square (`_calculate_uncertainties_correlations`).
//!
//! Residuals that are not finite stop the fit with an error, like lmfit's
//! default `nan_policy='raise'`.

use std::fmt;

pub use minpack::enorm;
use minpack::{Work, lmdif};

/// One fit parameter as lmfit sees it: value, bounds (±∞ for none), vary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmParams {
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub vary: bool,
}

impl LmParams {
    /// A varying, unbounded parameter.
    pub fn new(value: f64) -> Self {
        Self {
            value,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            vary: true,
        }
    }
    /// A varying parameter with bounds (use ±∞ for a one-sided bound).
    pub fn bounded(value: f64, min: f64, max: f64) -> Self {
        Self {
            value,
            min,
            max,
            vary: true,
        }
    }
    /// A fixed parameter.
    pub fn fixed(value: f64) -> Self {
        Self {
            vary: false,
            ..Self::new(value)
        }
    }
}

/// Options of lmfit's `leastsq` (defaults are lmfit's, not scipy's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LmOptions {
    /// Relative tolerance on the sum of squares (MINPACK `ftol`).
    pub ftol: f64,
    /// Relative tolerance on the step (MINPACK `xtol`).
    pub xtol: f64,
    /// Orthogonality tolerance between residual and Jacobian (`gtol`).
    pub gtol: f64,
    /// Maximum residual evaluations; `None` gives lmfit's `2000*(nvarys+1)`.
    pub maxfev: Option<usize>,
    /// Relative forward-difference step is `sqrt(max(epsfcn, ε))`.
    pub epsfcn: f64,
    /// Initial trust-region bound: `factor * |diag·x|` (or `factor`).
    pub factor: f64,
    /// Multiply the covariance by the reduced chi-square (lmfit default).
    pub scale_covar: bool,
}

impl LmOptions {
    /// The options Larch's `feffit` passes to lmfit (`xafs/feffit.py`,
    /// `fit_kws`): `gtol = ftol = xtol = 1e-6`, `epsfcn = 1e-10`; feffit
    /// also uses `scale_covar=False` and rescales uncertainties itself.
    pub fn feffit() -> Self {
        Self {
            ftol: 1e-6,
            xtol: 1e-6,
            gtol: 1e-6,
            epsfcn: 1e-10,
            scale_covar: false,
            ..Self::default()
        }
    }
}

impl Default for LmOptions {
    fn default() -> Self {
        Self {
            ftol: 1.5e-8,
            xtol: 1.5e-8,
            gtol: 0.0,
            maxfev: None,
            epsfcn: 1e-10,
            factor: 100.0,
            scale_covar: true,
        }
    }
}

/// Why a fit could not be run or was stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum LmError {
    /// No parameter has `vary = true`.
    NoVariables,
    /// Fewer residuals than varying parameters (MINPACK needs m ≥ n).
    TooFewResiduals { nresid: usize, nvarys: usize },
    /// A parameter's value or bounds are NaN, or `min >= max` while varying.
    InvalidParameter { index: usize, reason: &'static str },
    /// A tolerance, `factor` or `maxfev` is out of range.
    InvalidOption(&'static str),
    /// The residual function returned NaN or ±∞.
    NonFiniteResidual { index: usize, nfev: usize },
    /// The user Jacobian returned NaN or ±∞.
    NonFiniteJacobian { row: usize, column: usize },
}

impl fmt::Display for LmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoVariables => write!(f, "no varying parameters"),
            Self::TooFewResiduals { nresid, nvarys } => {
                write!(f, "{nvarys} varying parameters but only {nresid} residuals")
            }
            Self::InvalidParameter { index, reason } => {
                write!(f, "parameter {index}: {reason}")
            }
            Self::InvalidOption(s) => write!(f, "invalid option: {s}"),
            Self::NonFiniteResidual { index, nfev } => write!(
                f,
                "residual {index} is not finite (evaluation {nfev}); \
                 check the model and parameter bounds"
            ),
            Self::NonFiniteJacobian { row, column } => {
                write!(f, "Jacobian element ({row}, {column}) is not finite")
            }
        }
    }
}

impl std::error::Error for LmError {}

/// Result of [`minimize`]: external values and lmfit's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct LmResult {
    /// Best values of all parameters (fixed ones unchanged).
    pub values: Vec<f64>,
    /// Indices into the parameter list of the varying parameters; the
    /// rows/columns of `covar` and `correl` follow this order.
    pub var_index: Vec<usize>,
    /// Standard errors of all parameters (0 for fixed ones); `None` when
    /// the covariance could not be estimated (lmfit: `errorbars = False`).
    pub stderr: Option<Vec<f64>>,
    /// Covariance in external variables, `nvarys × nvarys`, row-major.
    pub covar: Option<Vec<f64>>,
    /// Correlation matrix, `nvarys × nvarys`, row-major (1 on the diagonal).
    pub correl: Option<Vec<f64>>,
    /// Residual evaluations by the solver (Jacobian columns included).
    pub nfev: usize,
    pub chisqr: f64,
    /// `chisqr / max(1, nfree)`.
    pub redchi: f64,
    pub nvarys: usize,
    pub ndata: usize,
    pub nfree: usize,
    /// Final residual vector.
    pub residual: Vec<f64>,
    /// MINPACK `info` (1–8).
    pub ier: i32,
    /// `ier` in 1..=4, as lmfit.
    pub success: bool,
    /// lmfit's short message.
    pub message: String,
    /// MINPACK's / scipy's explanation of `ier`.
    pub lmdif_message: String,
}

impl LmResult {
    /// Correlation between varying parameters `i` and `j` (varying order).
    pub fn correlation(&self, i: usize, j: usize) -> Option<f64> {
        let n = self.nvarys;
        self.correl
            .as_ref()
            .and_then(|c| (i < n && j < n).then(|| c[i * n + j]))
    }
}

// ---------------------------------------------------------------------------
// lmfit's bound transformation (Parameter.setup_bounds / scale_gradient).

#[derive(Debug, Clone, Copy)]
enum Bound {
    None,
    Lower(f64),
    Upper(f64),
    Both(f64, f64),
}

impl Bound {
    fn of(p: &LmParams) -> Self {
        match (p.min == f64::NEG_INFINITY, p.max == f64::INFINITY) {
            (true, true) => Self::None,
            (false, true) => Self::Lower(p.min),
            (true, false) => Self::Upper(p.max),
            (false, false) => Self::Both(p.min, p.max),
        }
    }
    /// External → internal, `Parameter.setup_bounds` (value already clipped).
    fn to_internal(self, v: f64) -> f64 {
        let x = match self {
            Self::None => v,
            Self::Lower(lo) => ((v - lo + 1.0).powi(2) - 1.0).sqrt(),
            Self::Upper(hi) => ((hi - v + 1.0).powi(2) - 1.0).sqrt(),
            Self::Both(lo, hi) => (2.0 * (v - lo) / (hi - lo) - 1.0).asin(),
        };
        // lmfit: `if abs(_val) < tiny: _val = 0.0` with tiny = 1e-15.
        if x.abs() < 1e-15 { 0.0 } else { x }
    }
    /// Internal → external, `Parameter.from_internal`.
    fn to_external(self, x: f64) -> f64 {
        match self {
            Self::None => x,
            Self::Lower(lo) => lo - 1.0 + (x * x + 1.0).sqrt(),
            Self::Upper(hi) => hi + 1.0 - (x * x + 1.0).sqrt(),
            Self::Both(lo, hi) => lo + (x.sin() + 1.0) * (hi - lo) / 2.0,
        }
    }
    /// d(external)/d(internal), `Parameter.scale_gradient`.
    fn scale_gradient(self, x: f64) -> f64 {
        match self {
            Self::None => 1.0,
            Self::Lower(_) => x / (x * x + 1.0).sqrt(),
            Self::Upper(_) => -x / (x * x + 1.0).sqrt(),
            Self::Both(lo, hi) => x.cos() * (hi - lo) / 2.0,
        }
    }
}

// ---------------------------------------------------------------------------
// Public entry points.

/// Least-squares fit of `resid(values, out)` (all parameter values in, the
/// `nresid` residuals out) with a forward-difference Jacobian, as lmfit's
/// `Minimizer.leastsq` → scipy `leastsq` → MINPACK `lmdif`.
pub fn minimize(
    resid: impl FnMut(&[f64], &mut [f64]),
    params: &[LmParams],
    nresid: usize,
    opts: &LmOptions,
) -> Result<LmResult, LmError> {
    run(resid, None::<NoJac>, params, nresid, opts)
}

/// As [`minimize`] with an analytic Jacobian (MINPACK `lmder`):
/// `jac(values, out)` fills `out` column-major, `nresid × nvarys`, with
/// ∂resid_i/∂value_j for the varying parameters in their order.
pub fn minimize_with_jacobian(
    resid: impl FnMut(&[f64], &mut [f64]),
    jac: impl FnMut(&[f64], &mut [f64]),
    params: &[LmParams],
    nresid: usize,
    opts: &LmOptions,
) -> Result<LmResult, LmError> {
    run(resid, Some(jac), params, nresid, opts)
}

type NoJac = fn(&[f64], &mut [f64]);

/// Residuals in internal variables: maps x → external values, calls the user.
struct Problem<'a, R> {
    resid: R,
    bounds: Vec<Bound>,
    var_index: Vec<usize>,
    ext: Vec<f64>,
    nfev: usize,
    _p: std::marker::PhantomData<&'a ()>,
}

impl<R: FnMut(&[f64], &mut [f64])> Problem<'_, R> {
    fn set_external(&mut self, x: &[f64]) {
        for (k, (&i, &b)) in self.var_index.iter().zip(&self.bounds).enumerate() {
            self.ext[i] = b.to_external(x[k]);
        }
    }
    fn eval(&mut self, x: &[f64], out: &mut [f64]) -> Result<(), LmError> {
        self.set_external(x);
        self.nfev += 1;
        (self.resid)(&self.ext, out);
        match out.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(LmError::NonFiniteResidual {
                index,
                nfev: self.nfev,
            }),
            None => Ok(()),
        }
    }
}

fn run<R, J>(
    resid: R,
    mut jac: Option<J>,
    params: &[LmParams],
    m: usize,
    opts: &LmOptions,
) -> Result<LmResult, LmError>
where
    R: FnMut(&[f64], &mut [f64]),
    J: FnMut(&[f64], &mut [f64]),
{
    // Input checks (MINPACK info = 0 cases become errors).
    for (index, p) in params.iter().enumerate() {
        let bad = |reason| Err(LmError::InvalidParameter { index, reason });
        if p.value.is_nan() || p.min.is_nan() || p.max.is_nan() {
            return bad("value or bound is NaN");
        }
        if p.vary && !p.value.is_finite() {
            return bad("initial value is infinite");
        }
        if p.vary && p.min >= p.max {
            return bad("min must be below max");
        }
    }
    let ok = |v: f64| v.is_finite() && v >= 0.0;
    if !ok(opts.ftol) || !ok(opts.xtol) || !ok(opts.gtol) {
        return Err(LmError::InvalidOption("tolerances must be finite and >= 0"));
    }
    if !(opts.factor.is_finite() && opts.factor > 0.0) {
        return Err(LmError::InvalidOption("factor must be > 0"));
    }
    if !opts.epsfcn.is_finite() {
        return Err(LmError::InvalidOption("epsfcn must be finite"));
    }
    let var_index: Vec<usize> = (0..params.len()).filter(|&i| params[i].vary).collect();
    let n = var_index.len();
    if n == 0 {
        return Err(LmError::NoVariables);
    }
    if m < n {
        return Err(LmError::TooFewResiduals {
            nresid: m,
            nvarys: n,
        });
    }
    let maxfev = opts.maxfev.unwrap_or(2000 * (n + 1));
    if maxfev == 0 {
        return Err(LmError::InvalidOption("maxfev must be > 0"));
    }

    // lmfit clips the starting value into [min, max], then transforms.
    let bounds: Vec<Bound> = var_index.iter().map(|&i| Bound::of(&params[i])).collect();
    let mut x: Vec<f64> = var_index
        .iter()
        .zip(&bounds)
        .map(|(&i, b)| {
            let p = &params[i];
            b.to_internal(p.value.clamp(p.min, p.max))
        })
        .collect();
    let mut prob = Problem {
        resid,
        bounds,
        var_index: var_index.clone(),
        ext: params.iter().map(|p| p.value).collect(),
        nfev: 0,
        _p: std::marker::PhantomData,
    };

    let mut ws = Work::new(m, n);
    let ier = {
        let jac_fn = jac.as_mut();
        lmdif(&mut prob, jac_fn, &mut x, &mut ws, opts, maxfev)?
    };

    // Final residual at the best point (lmfit re-evaluates; the solver's
    // fvec already holds it).
    prob.set_external(&x);
    let values = prob.ext.clone();
    let residual = ws.fvec.clone();
    let chisqr_raw: f64 = residual.iter().map(|r| r * r).sum();
    let nfree = m - n;
    let redchi = chisqr_raw / nfree.max(1) as f64;
    let chisqr = chisqr_raw.max(1e-250 * m as f64);
    let success = (1..=4).contains(&ier);

    // scipy: cov_x = P R⁻¹ R⁻ᵀ Pᵀ only when info ∈ 1..=4.
    let mut covar = if success {
        covariance_from_r(&ws.fjac, m, n, &ws.ipvt)
    } else {
        None
    };
    if let Some(c) = covar.as_mut() {
        // _int2ext_cov_x: cov_ext = cov_int * outer(g, g).
        let g: Vec<f64> = prob
            .bounds
            .iter()
            .zip(&x)
            .map(|(b, &xi)| b.scale_gradient(xi))
            .collect();
        for i in 0..n {
            for j in 0..n {
                c[i * n + j] *= g[i] * g[j];
            }
        }
        if opts.scale_covar {
            c.iter_mut().for_each(|v| *v *= redchi);
        }
    }
    let (stderr, correl) = match &covar {
        Some(c) => {
            let sd: Vec<f64> = (0..n).map(|i| c[i * n + i].sqrt()).collect();
            let mut all = vec![0.0; params.len()];
            for (k, &i) in var_index.iter().enumerate() {
                all[i] = sd[k];
            }
            let mut cor = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    cor[i * n + j] = if i == j {
                        1.0
                    } else {
                        c[i * n + j] / (sd[i] * sd[j])
                    };
                }
            }
            (Some(all), Some(cor))
        }
        None => (None, None),
    };

    let mut message = match ier {
        1..=3 => "Fit succeeded.".to_string(),
        4 => "One or more variable did not affect the fit.".to_string(),
        5 => format!("Fit aborted: number of function evaluations > {maxfev}"),
        _ => "Tolerance seems to be too small.".to_string(),
    };
    if covar.is_none() {
        message.push_str(" Could not estimate error-bars.");
    }
    Ok(LmResult {
        values,
        var_index,
        stderr,
        covar,
        correl,
        nfev: prob.nfev,
        chisqr,
        redchi,
        nvarys: n,
        ndata: m,
        nfree,
        residual,
        ier,
        success,
        message,
        lmdif_message: lmdif_message(ier, opts, maxfev),
    })
}

/// scipy `leastsq`'s explanation of MINPACK's `info`.
fn lmdif_message(ier: i32, o: &LmOptions, maxfev: usize) -> String {
    match ier {
        1 => format!(
            "Both actual and predicted relative reductions in the sum of squares are at most {:.6}",
            o.ftol
        ),
        2 => format!(
            "The relative error between two consecutive iterates is at most {:.6}",
            o.xtol
        ),
        3 => format!(
            "Both actual and predicted relative reductions in the sum of squares are at most {:.6} \
             and the relative error between two consecutive iterates is at most {:.6}",
            o.ftol, o.xtol
        ),
        4 => format!(
            "The cosine of the angle between func(x) and any column of the Jacobian is at most {:.6} in absolute value",
            o.gtol
        ),
        5 => format!("Number of calls to function has reached maxfev = {maxfev}."),
        6 => format!(
            "ftol={:.6} is too small, no further reduction in the sum of squares is possible.",
            o.ftol
        ),
        7 => format!(
            "xtol={:.6} is too small, no further improvement in the approximate solution is possible.",
            o.xtol
        ),
        _ => format!(
            "gtol={:.6} is too small, func(x) is orthogonal to the columns of the Jacobian to machine precision.",
            o.gtol
        ),
    }
}

/// `(RᵀR)⁻¹` permuted back (scipy's `trtri` route); `None` when R is singular.
fn covariance_from_r(fjac: &[f64], m: usize, n: usize, ipvt: &[usize]) -> Option<Vec<f64>> {
    // Invert the upper-triangular R (column-major in fjac, leading dim m).
    let r = |i: usize, j: usize| fjac[j * m + i];
    let mut inv = vec![0.0; n * n]; // row-major upper triangular
    for j in 0..n {
        if r(j, j) == 0.0 || !r(j, j).is_finite() {
            return None;
        }
    }
    for j in 0..n {
        inv[j * n + j] = 1.0 / r(j, j);
        for i in (0..j).rev() {
            let mut s = 0.0;
            for k in i + 1..=j {
                s += r(i, k) * inv[k * n + j];
            }
            inv[i * n + j] = -s / r(i, i);
        }
    }
    // cov[perm[i], perm[k]] = Σ_j inv[i, j] inv[k, j]
    let mut cov = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let s: f64 = (i.max(k)..n).map(|j| inv[i * n + j] * inv[k * n + j]).sum();
            cov[ipvt[i] * n + ipvt[k]] = s;
        }
    }
    cov.iter().all(|v| v.is_finite()).then_some(cov)
}

mod minpack;
#[cfg(test)]
mod tests;
