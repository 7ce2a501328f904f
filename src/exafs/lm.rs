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

// The MINPACK routines keep Moré's index loops so they can be checked line
// by line against the Fortran; iterator rewrites would obscure that.
#![allow(clippy::needless_range_loop)]

use std::fmt;

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

// ---------------------------------------------------------------------------
// MINPACK-1.

const P1: f64 = 0.1;
const P5: f64 = 0.5;
const P25: f64 = 0.25;
const P75: f64 = 0.75;
const P0001: f64 = 1.0e-4;
const P001: f64 = 1.0e-3;
const P05: f64 = 0.05;
const EPSMCH: f64 = f64::EPSILON;
const DWARF: f64 = f64::MIN_POSITIVE;

/// All work arrays, allocated once before the iteration (lmdif's `wa1..wa4`).
struct Work {
    fvec: Vec<f64>,
    /// m × n column-major; after `qrfac` its upper triangle holds R.
    fjac: Vec<f64>,
    ipvt: Vec<usize>,
    diag: Vec<f64>,
    qtf: Vec<f64>,
    wa1: Vec<f64>,
    wa2: Vec<f64>,
    wa3: Vec<f64>,
    wa4: Vec<f64>,
    /// Trial residuals (m) and the scratch of `qrsolv`/`lmpar`.
    fnew: Vec<f64>,
    sdiag: Vec<f64>,
    lwa: Vec<f64>,
    xnew: Vec<f64>,
}

impl Work {
    fn new(m: usize, n: usize) -> Self {
        Self {
            fvec: vec![0.0; m],
            fjac: vec![0.0; m * n],
            ipvt: vec![0; n],
            diag: vec![0.0; n],
            qtf: vec![0.0; n],
            wa1: vec![0.0; n],
            wa2: vec![0.0; n],
            wa3: vec![0.0; n],
            wa4: vec![0.0; m],
            fnew: vec![0.0; m],
            sdiag: vec![0.0; n],
            lwa: vec![0.0; n.max(m)],
            xnew: vec![0.0; n],
        }
    }
}

/// MINPACK `enorm`: Euclidean norm without destructive over/underflow.
pub fn enorm(x: &[f64]) -> f64 {
    const RDWARF: f64 = 3.834e-20;
    const RGIANT: f64 = 1.304e19;
    let (mut s1, mut s2, mut s3) = (0.0_f64, 0.0_f64, 0.0_f64);
    let (mut x1max, mut x3max) = (0.0_f64, 0.0_f64);
    let agiant = RGIANT / x.len().max(1) as f64;
    for &xi in x {
        let xabs = xi.abs();
        if xabs > RDWARF && xabs < agiant {
            s2 += xabs * xabs;
        } else if xabs <= RDWARF {
            if xabs > x3max {
                s3 = 1.0 + s3 * (x3max / xabs).powi(2);
                x3max = xabs;
            } else if xabs != 0.0 {
                s3 += (xabs / x3max).powi(2);
            }
        } else if xabs > x1max {
            s1 = 1.0 + s1 * (x1max / xabs).powi(2);
            x1max = xabs;
        } else {
            s1 += (xabs / x1max).powi(2);
        }
    }
    if s1 != 0.0 {
        x1max * (s1 + (s2 / x1max) / x1max).sqrt()
    } else if s2 != 0.0 {
        if s2 >= x3max {
            (s2 * (1.0 + (x3max / s2) * (x3max * s3))).sqrt()
        } else {
            (x3max * ((s2 / x3max) + (x3max * s3))).sqrt()
        }
    } else {
        x3max * s3.sqrt()
    }
}

/// MINPACK `lmdif`/`lmder` main loop on internal variables `x`.
/// Returns MINPACK's `info` (1–8).
fn lmdif<R, J>(
    prob: &mut Problem<'_, R>,
    mut jac: Option<&mut J>,
    x: &mut [f64],
    w: &mut Work,
    opts: &LmOptions,
    maxfev: usize,
) -> Result<i32, LmError>
where
    R: FnMut(&[f64], &mut [f64]),
    J: FnMut(&[f64], &mut [f64]),
{
    let m = w.fvec.len();
    let n = x.len();
    let (ftol, xtol, gtol) = (opts.ftol, opts.xtol, opts.gtol);
    let mut info = 0;

    prob.eval(x, &mut w.fvec)?;
    let mut fnorm = enorm(&w.fvec);
    let mut par = 0.0;
    let mut iter = 1;
    let mut delta = 0.0;
    let mut xnorm = 0.0;

    'outer: loop {
        // Jacobian at x.
        match jac.as_mut() {
            None => fdjac2(prob, x, &w.fvec, &mut w.fjac, &mut w.fnew, opts.epsfcn)?,
            Some(j) => user_jacobian(prob, j, x, &mut w.fjac)?,
        }

        // QR with column pivoting: wa1 = rdiag, wa2 = column norms.
        qrfac(
            m,
            n,
            &mut w.fjac,
            &mut w.ipvt,
            &mut w.wa1,
            &mut w.wa2,
            &mut w.wa3,
        );

        if iter == 1 {
            // mode = 1: scale by the column norms of the initial Jacobian.
            for j in 0..n {
                w.diag[j] = if w.wa2[j] == 0.0 { 1.0 } else { w.wa2[j] };
                w.wa3[j] = w.diag[j] * x[j];
            }
            xnorm = enorm(&w.wa3);
            delta = opts.factor * xnorm;
            if delta == 0.0 {
                delta = opts.factor;
            }
        }

        // qtf = first n components of Qᵀ fvec; restore R's diagonal.
        w.wa4.copy_from_slice(&w.fvec);
        for j in 0..n {
            let ajj = w.fjac[j * m + j];
            if ajj != 0.0 {
                let col = &w.fjac[j * m..(j + 1) * m];
                let sum: f64 = (j..m).map(|i| col[i] * w.wa4[i]).sum();
                let temp = -sum / ajj;
                for i in j..m {
                    w.wa4[i] += col[i] * temp;
                }
            }
            w.fjac[j * m + j] = w.wa1[j];
            w.qtf[j] = w.wa4[j];
        }

        // Scaled gradient norm.
        let mut gnorm: f64 = 0.0;
        if fnorm != 0.0 {
            for j in 0..n {
                let l = w.ipvt[j];
                if w.wa2[l] != 0.0 {
                    let sum: f64 = (0..=j)
                        .map(|i| w.fjac[j * m + i] * (w.qtf[i] / fnorm))
                        .sum();
                    gnorm = gnorm.max((sum / w.wa2[l]).abs());
                }
            }
        }
        if gnorm <= gtol {
            info = 4;
        }
        if info != 0 {
            break 'outer;
        }

        for j in 0..n {
            w.diag[j] = w.diag[j].max(w.wa2[j]);
        }

        loop {
            // Levenberg–Marquardt parameter and step p = -wa1.
            lmpar(
                n,
                &mut w.fjac,
                m,
                &w.ipvt,
                &w.diag,
                &w.qtf,
                delta,
                &mut par,
                &mut w.wa1,
                &mut w.wa2,
                &mut w.sdiag,
                &mut w.wa3,
                &mut w.lwa,
            );
            for j in 0..n {
                w.wa1[j] = -w.wa1[j];
                w.xnew[j] = x[j] + w.wa1[j];
                w.wa3[j] = w.diag[j] * w.wa1[j];
            }
            let pnorm = enorm(&w.wa3);
            if iter == 1 {
                delta = delta.min(pnorm);
            }

            prob.eval(&w.xnew, &mut w.fnew)?;
            let fnorm1 = enorm(&w.fnew);

            let actred = if P1 * fnorm1 < fnorm {
                1.0 - (fnorm1 / fnorm).powi(2)
            } else {
                -1.0
            };

            // Predicted reduction and directional derivative.
            for j in 0..n {
                w.wa3[j] = 0.0;
                let temp = w.wa1[w.ipvt[j]];
                for i in 0..=j {
                    w.wa3[i] += w.fjac[j * m + i] * temp;
                }
            }
            let temp1 = enorm(&w.wa3) / fnorm;
            let temp2 = par.sqrt() * pnorm / fnorm;
            let prered = temp1 * temp1 + temp2 * temp2 / P5;
            let dirder = -(temp1 * temp1 + temp2 * temp2);
            let ratio = if prered != 0.0 { actred / prered } else { 0.0 };

            // Update the trust-region bound.
            if ratio <= P25 {
                let mut temp = if actred >= 0.0 {
                    P5
                } else {
                    P5 * dirder / (dirder + P5 * actred)
                };
                if P1 * fnorm1 >= fnorm || temp < P1 {
                    temp = P1;
                }
                delta = temp * delta.min(pnorm / P1);
                par /= temp;
            } else if par == 0.0 || ratio >= P75 {
                delta = pnorm / P5;
                par *= P5;
            }

            // Successful iteration: accept the step.
            if ratio >= P0001 {
                for j in 0..n {
                    x[j] = w.xnew[j];
                    w.wa2[j] = w.diag[j] * x[j];
                }
                w.fvec.copy_from_slice(&w.fnew);
                xnorm = enorm(&w.wa2);
                fnorm = fnorm1;
                iter += 1;
            }

            // Convergence tests.
            let fconv = actred.abs() <= ftol && prered <= ftol && P5 * ratio <= 1.0;
            if fconv {
                info = 1;
            }
            if delta <= xtol * xnorm {
                info = if fconv { 3 } else { 2 };
            }
            if info != 0 {
                break 'outer;
            }

            // Tests for termination and stringent tolerances.
            if prob.nfev >= maxfev {
                info = 5;
            }
            if actred.abs() <= EPSMCH && prered <= EPSMCH && P5 * ratio <= 1.0 {
                info = 6;
            }
            if delta <= EPSMCH * xnorm {
                info = 7;
            }
            if gnorm <= EPSMCH {
                info = 8;
            }
            if info != 0 {
                break 'outer;
            }
            if ratio >= P0001 {
                break;
            }
        }
    }
    Ok(info)
}

/// MINPACK `fdjac2`: forward differences, step `sqrt(max(epsfcn, ε))·|x_j|`.
fn fdjac2<R: FnMut(&[f64], &mut [f64])>(
    prob: &mut Problem<'_, R>,
    x: &mut [f64],
    fvec: &[f64],
    fjac: &mut [f64],
    wa: &mut [f64],
    epsfcn: f64,
) -> Result<(), LmError> {
    let m = fvec.len();
    let eps = epsfcn.max(EPSMCH).sqrt();
    for j in 0..x.len() {
        let temp = x[j];
        let mut h = eps * temp.abs();
        if h == 0.0 {
            h = eps;
        }
        x[j] = temp + h;
        let r = prob.eval(x, wa);
        x[j] = temp;
        r?;
        for i in 0..m {
            fjac[j * m + i] = (wa[i] - fvec[i]) / h;
        }
    }
    Ok(())
}

/// User Jacobian in external variables → internal via the chain rule.
fn user_jacobian<R, J>(
    prob: &mut Problem<'_, R>,
    jac: &mut J,
    x: &[f64],
    fjac: &mut [f64],
) -> Result<(), LmError>
where
    R: FnMut(&[f64], &mut [f64]),
    J: FnMut(&[f64], &mut [f64]),
{
    let n = x.len();
    let m = fjac.len() / n;
    prob.set_external(x);
    jac(&prob.ext, fjac);
    for j in 0..n {
        let g = prob.bounds[j].scale_gradient(x[j]);
        for i in 0..m {
            let v = fjac[j * m + i];
            if !v.is_finite() {
                return Err(LmError::NonFiniteJacobian { row: i, column: j });
            }
            fjac[j * m + i] = v * g;
        }
    }
    Ok(())
}

/// MINPACK `qrfac` with column pivoting (Householder). On return the strict
/// upper triangle of `a` holds R (its diagonal in `rdiag`), the lower
/// trapezoid the Householder vectors; `acnorm` the original column norms.
fn qrfac(
    m: usize,
    n: usize,
    a: &mut [f64],
    ipvt: &mut [usize],
    rdiag: &mut [f64],
    acnorm: &mut [f64],
    wa: &mut [f64],
) {
    for j in 0..n {
        acnorm[j] = enorm(&a[j * m..(j + 1) * m]);
        rdiag[j] = acnorm[j];
        wa[j] = rdiag[j];
        ipvt[j] = j;
    }
    for j in 0..m.min(n) {
        // Bring the column of largest remaining norm into the pivot position.
        let mut kmax = j;
        for k in j..n {
            if rdiag[k] > rdiag[kmax] {
                kmax = k;
            }
        }
        if kmax != j {
            for i in 0..m {
                a.swap(j * m + i, kmax * m + i);
            }
            rdiag[kmax] = rdiag[j];
            wa[kmax] = wa[j];
            ipvt.swap(j, kmax);
        }
        // Householder transformation reducing column j to a multiple of e_j.
        let mut ajnorm = enorm(&a[j * m + j..(j + 1) * m]);
        if ajnorm != 0.0 {
            if a[j * m + j] < 0.0 {
                ajnorm = -ajnorm;
            }
            for i in j..m {
                a[j * m + i] /= ajnorm;
            }
            a[j * m + j] += 1.0;
            let ajj = a[j * m + j];
            for k in j + 1..n {
                let (left, right) = a.split_at_mut(k * m);
                let colj = &left[j * m..(j + 1) * m];
                let colk = &mut right[..m];
                let sum: f64 = (j..m).map(|i| colj[i] * colk[i]).sum();
                let temp = sum / ajj;
                for i in j..m {
                    colk[i] -= temp * colj[i];
                }
                if rdiag[k] != 0.0 {
                    let temp = colk[j] / rdiag[k];
                    rdiag[k] *= (1.0 - temp * temp).max(0.0).sqrt();
                    if P05 * (rdiag[k] / wa[k]).powi(2) <= EPSMCH {
                        rdiag[k] = enorm(&colk[j + 1..m]);
                        wa[k] = rdiag[k];
                    }
                }
            }
        }
        rdiag[j] = -ajnorm;
    }
}

/// MINPACK `qrsolv`: solve `min |(A; D) x - (b; 0)|` given the QR factors
/// of A, using Givens rotations to eliminate D. `r` is n×n (leading dim ldr).
#[allow(clippy::too_many_arguments)]
fn qrsolv(
    n: usize,
    r: &mut [f64],
    ldr: usize,
    ipvt: &[usize],
    diag: &[f64],
    qtb: &[f64],
    x: &mut [f64],
    sdiag: &mut [f64],
    wa: &mut [f64],
) {
    // Copy R and Qᵀb; save the diagonal of R in x.
    for j in 0..n {
        for i in j..n {
            r[j * ldr + i] = r[i * ldr + j];
        }
        x[j] = r[j * ldr + j];
        wa[j] = qtb[j];
    }
    // Eliminate the diagonal matrix D with Givens rotations.
    for j in 0..n {
        let l = ipvt[j];
        if diag[l] != 0.0 {
            sdiag[j..n].iter_mut().for_each(|v| *v = 0.0);
            sdiag[j] = diag[l];
            let mut qtbpj = 0.0;
            for k in j..n {
                if sdiag[k] == 0.0 {
                    continue;
                }
                let rkk = r[k * ldr + k];
                let (sin, cos) = if rkk.abs() < sdiag[k].abs() {
                    let cotan = rkk / sdiag[k];
                    let sin = P5 / (P25 + P25 * cotan * cotan).sqrt();
                    (sin, sin * cotan)
                } else {
                    let tan = sdiag[k] / rkk;
                    let cos = P5 / (P25 + P25 * tan * tan).sqrt();
                    (cos * tan, cos)
                };
                r[k * ldr + k] = cos * rkk + sin * sdiag[k];
                let temp = cos * wa[k] + sin * qtbpj;
                qtbpj = -sin * wa[k] + cos * qtbpj;
                wa[k] = temp;
                for i in k + 1..n {
                    let rik = r[k * ldr + i];
                    let temp = cos * rik + sin * sdiag[i];
                    sdiag[i] = -sin * rik + cos * sdiag[i];
                    r[k * ldr + i] = temp;
                }
            }
        }
        sdiag[j] = r[j * ldr + j];
        r[j * ldr + j] = x[j];
    }
    // Solve the triangular system; singular → least-squares solution.
    let mut nsing = n;
    for j in 0..n {
        if sdiag[j] == 0.0 && nsing == n {
            nsing = j;
        }
        if nsing < n {
            wa[j] = 0.0;
        }
    }
    for j in (0..nsing).rev() {
        let sum: f64 = (j + 1..nsing).map(|i| r[j * ldr + i] * wa[i]).sum();
        wa[j] = (wa[j] - sum) / sdiag[j];
    }
    for j in 0..n {
        x[ipvt[j]] = wa[j];
    }
}

/// MINPACK `lmpar`: the Levenberg–Marquardt parameter `par` such that the
/// step `x` solving `(A; sqrt(par) D) x ≈ (b; 0)` has `|D x|` within 10% of
/// `delta` (or `par = 0` when the Gauss–Newton step is inside).
#[allow(clippy::too_many_arguments)]
fn lmpar(
    n: usize,
    r: &mut [f64],
    ldr: usize,
    ipvt: &[usize],
    diag: &[f64],
    qtb: &[f64],
    delta: f64,
    par: &mut f64,
    x: &mut [f64],
    wa1: &mut [f64],
    sdiag: &mut [f64],
    wa2: &mut [f64],
    scratch: &mut [f64],
) {
    // Gauss–Newton direction (least-squares if R is singular).
    let mut nsing = n;
    for j in 0..n {
        wa1[j] = qtb[j];
        if r[j * ldr + j] == 0.0 && nsing == n {
            nsing = j;
        }
        if nsing < n {
            wa1[j] = 0.0;
        }
    }
    for j in (0..nsing).rev() {
        wa1[j] /= r[j * ldr + j];
        let temp = wa1[j];
        for i in 0..j {
            wa1[i] -= r[j * ldr + i] * temp;
        }
    }
    for j in 0..n {
        x[ipvt[j]] = wa1[j];
    }

    let mut iter = 0;
    for j in 0..n {
        wa2[j] = diag[j] * x[j];
    }
    let mut dxnorm = enorm(&wa2[..n]);
    let mut fp = dxnorm - delta;
    if fp <= P1 * delta {
        *par = 0.0;
        return;
    }

    // Lower bound parl (zero if the Jacobian is rank-deficient).
    let mut parl = 0.0;
    if nsing >= n {
        for j in 0..n {
            let l = ipvt[j];
            wa1[j] = diag[l] * (wa2[l] / dxnorm);
        }
        for j in 0..n {
            let sum: f64 = (0..j).map(|i| r[j * ldr + i] * wa1[i]).sum();
            wa1[j] = (wa1[j] - sum) / r[j * ldr + j];
        }
        let temp = enorm(&wa1[..n]);
        parl = ((fp / delta) / temp) / temp;
    }

    // Upper bound paru.
    for j in 0..n {
        let sum: f64 = (0..=j).map(|i| r[j * ldr + i] * qtb[i]).sum();
        wa1[j] = sum / diag[ipvt[j]];
    }
    let gnorm = enorm(&wa1[..n]);
    let mut paru = gnorm / delta;
    if paru == 0.0 {
        paru = DWARF / delta.min(P1);
    }

    *par = par.max(parl).min(paru);
    if *par == 0.0 {
        *par = gnorm / dxnorm;
    }

    loop {
        iter += 1;
        if *par == 0.0 {
            *par = DWARF.max(P001 * paru);
        }
        let temp = par.sqrt();
        for j in 0..n {
            wa1[j] = temp * diag[j];
        }
        qrsolv(n, r, ldr, ipvt, wa1, qtb, x, sdiag, scratch);
        for j in 0..n {
            wa2[j] = diag[j] * x[j];
        }
        dxnorm = enorm(&wa2[..n]);
        let temp = fp;
        fp = dxnorm - delta;

        if fp.abs() <= P1 * delta || (parl == 0.0 && fp <= temp && temp < 0.0) || iter == 10 {
            break;
        }

        // Newton correction.
        for j in 0..n {
            let l = ipvt[j];
            wa1[j] = diag[l] * (wa2[l] / dxnorm);
        }
        for j in 0..n {
            wa1[j] /= sdiag[j];
            let temp = wa1[j];
            for i in j + 1..n {
                wa1[i] -= r[j * ldr + i] * temp;
            }
        }
        let temp = enorm(&wa1[..n]);
        let parc = ((fp / delta) / temp) / temp;
        if fp > 0.0 {
            parl = parl.max(*par);
        }
        if fp < 0.0 {
            paru = paru.min(*par);
        }
        *par = parl.max(*par + parc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decay(p: &[f64], t: f64) -> f64 {
        p[0] * (-t / p[1]).exp() + p[2]
    }

    fn data() -> (Vec<f64>, Vec<f64>) {
        let t: Vec<f64> = (0..40).map(|i| i as f64 * 0.25).collect();
        let y = t
            .iter()
            .enumerate()
            .map(|(i, &t)| decay(&[3.0, 2.5, 0.4], t) + 0.01 * ((i * 7 % 11) as f64 - 5.0))
            .collect();
        (t, y)
    }

    #[test]
    fn enorm_matches_plain_norm_and_survives_extremes() {
        let v = [3.0, 4.0];
        assert_eq!(enorm(&v), 5.0);
        assert!((enorm(&[1e-30, 1e-30]) - 2f64.sqrt() * 1e-30).abs() < 1e-44);
        assert!((enorm(&[1e200, 1e200]) / (2f64.sqrt() * 1e200) - 1.0).abs() < 1e-15);
        assert_eq!(enorm(&[]), 0.0);
    }

    #[test]
    fn bound_transform_round_trips() {
        for (b, v) in [
            (Bound::Lower(1.0), 3.5),
            (Bound::Upper(-2.0), -7.0),
            (Bound::Both(-1.0, 4.0), 0.3),
            (Bound::None, 12.0),
        ] {
            let x = b.to_internal(v);
            assert!((b.to_external(x) - v).abs() < 1e-12);
            let h = 1e-7;
            let fd = (b.to_external(x + h) - b.to_external(x - h)) / (2.0 * h);
            assert!((fd - b.scale_gradient(x)).abs() < 1e-6);
        }
    }

    #[test]
    fn user_jacobian_agrees_with_finite_differences() {
        let (t, y) = data();
        let m = t.len();
        let params = [
            LmParams::new(1.0),
            LmParams::bounded(1.0, 0.1, 10.0),
            LmParams::bounded(0.0, -1.0, f64::INFINITY),
        ];
        let resid = |p: &[f64], out: &mut [f64]| {
            for i in 0..m {
                out[i] = decay(p, t[i]) - y[i];
            }
        };
        let jac = |p: &[f64], out: &mut [f64]| {
            for i in 0..m {
                let e = (-t[i] / p[1]).exp();
                out[i] = e;
                out[m + i] = p[0] * e * t[i] / (p[1] * p[1]);
                out[2 * m + i] = 1.0;
            }
        };
        let o = LmOptions::default();
        let a = minimize(resid, &params, m, &o).expect("fd fit");
        let b = minimize_with_jacobian(resid, jac, &params, m, &o).expect("jac fit");
        assert!(a.success && b.success, "{} / {}", a.message, b.message);
        for k in 0..3 {
            assert!(
                (a.values[k] - b.values[k]).abs() < 1e-6 * a.values[k].abs().max(1.0),
                "{k}: {} vs {}",
                a.values[k],
                b.values[k]
            );
            let (sa, sb) = (a.stderr.as_ref().unwrap()[k], b.stderr.as_ref().unwrap()[k]);
            assert!((sa - sb).abs() < 1e-4 * sa, "{k}: {sa} vs {sb}");
        }
        assert!(b.nfev < a.nfev);
    }

    #[test]
    fn errors_not_panics() {
        let o = LmOptions::default();
        let r = minimize(|_, out| out[0] = f64::NAN, &[LmParams::new(1.0)], 1, &o);
        assert!(matches!(r, Err(LmError::NonFiniteResidual { .. })));
        let r = minimize(|_, _| {}, &[LmParams::new(1.0), LmParams::new(2.0)], 1, &o);
        assert!(matches!(r, Err(LmError::TooFewResiduals { .. })));
        let r = minimize(|_, _| {}, &[LmParams::fixed(1.0)], 3, &o);
        assert_eq!(r, Err(LmError::NoVariables));
        let r = minimize(|_, _| {}, &[LmParams::bounded(1.0, 2.0, 2.0)], 3, &o);
        assert!(matches!(r, Err(LmError::InvalidParameter { .. })));
    }
}
