//! Pre-edge peaks as Larch's pre-edge peak tool (`larch/xafs/prepeaks.py`):
//! `pre_edge_baseline` fits a baseline (a Lorentzian, Gaussian or Voigt tail
//! or an arctan/erf/linear step, plus a constant/line/parabola) outside
//! [elo, ehi] within [emin, emax] and takes the centroid of what is left;
//! [`fit_prepeaks`] then fits the baseline and 1–4 Gaussian, Lorentzian or
//! Voigt peaks together with lmfit's parameterization (amplitude is the area;
//! fwhm and height derived).

use std::f64::consts::{PI, SQRT_2};

use num_complex::Complex64;
use serde::Serialize;

use super::{ParamValue, XanesError, XanesGroup};
use crate::numeric::grid::index_of;
use crate::numeric::interp::interp_clamped;
use crate::numeric::lm::{LmOptions, LmParams, LmResult, minimize};
use crate::numeric::special::{faddeeva, student_t_ppf};

/// lmfit's `tiny` (lineshapes.py): the floor of widths in denominators.
const TINY: f64 = 1.0e-15;
/// `(erf(1/√2) + 1) / 2`: the one-sigma probability lmfit's
/// `eval_uncertainty(sigma=1)` turns into a Student-t quantile.
const ONE_SIGMA_P: f64 = 0.841_344_746_068_542_9;

/// A peak shape with lmfit's parameters (amplitude = area, center, sigma).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeakShape {
    Gaussian,
    Lorentzian,
    /// lmfit's VoigtModel with its default gamma = sigma.
    Voigt,
}

impl PeakShape {
    /// lmfit `gaussian` / `lorentzian` / `voigt` (gamma = sigma).
    #[inline(always)]
    fn eval(self, x: f64, amplitude: f64, center: f64, sigma: f64) -> f64 {
        match self {
            Self::Gaussian => {
                (amplitude / (TINY.max((2.0 * PI).sqrt() * sigma)))
                    * (-(x - center).powi(2) / TINY.max(2.0 * sigma * sigma)).exp()
            }
            Self::Lorentzian => {
                (amplitude / (1.0 + ((x - center) / TINY.max(sigma)).powi(2)))
                    / TINY.max(PI * sigma)
            }
            Self::Voigt => {
                let z = Complex64::new(x - center, sigma) / TINY.max(sigma * SQRT_2);
                amplitude * faddeeva(z).re / TINY.max(sigma * (2.0 * PI).sqrt())
            }
        }
    }
    /// lmfit's `fwhm` expression factor of sigma (Voigt: its Olivero–Longbothum
    /// expression 1.0692γ + √(0.8664γ² + 5.545083σ²) at γ = σ).
    fn fwhm_factor(self) -> f64 {
        match self {
            Self::Gaussian => 2.354_820_0,
            Self::Lorentzian => 2.0,
            Self::Voigt => 1.0692 + (0.8664_f64 + 5.545_083).sqrt(),
        }
    }
    /// lmfit's `height` expression factor of amplitude / sigma: its rounded
    /// literals (0.3989423, 0.3183099), not 1/√(2π) and 1/π, to match lmfit;
    /// Voigt: Re w(i/√2) / √(2π) as its expression evaluates at γ = σ.
    #[allow(clippy::approx_constant)]
    fn height_factor(self) -> f64 {
        match self {
            Self::Gaussian => 0.398_942_3,
            Self::Lorentzian => 0.318_309_9,
            Self::Voigt => {
                faddeeva(Complex64::new(0.0, std::f64::consts::FRAC_1_SQRT_2)).re
                    / (2.0 * PI).sqrt()
            }
        }
    }
}

/// lmfit StepModel forms (`lineshapes.step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepForm {
    Arctan,
    Erf,
    Linear,
}

impl StepForm {
    /// lmfit `step(x, amplitude, center, sigma, form)`.
    #[inline(always)]
    fn eval(self, x: f64, amplitude: f64, center: f64, sigma: f64) -> f64 {
        let arg = sigma.signum() * (x - center) / (TINY * TINY).max(sigma.abs());
        let out = match self {
            Self::Arctan => 0.5 + arg.atan() / PI,
            Self::Erf => 0.5 * (1.0 + libm::erf(arg)),
            Self::Linear => (arg + 0.5).clamp(0.0, 1.0),
        };
        amplitude * out
    }
}

/// Polynomial part of the baseline (lmfit Constant/Linear/QuadraticModel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolyPart {
    Constant,
    Linear,
    Quadratic,
}

impl PolyPart {
    fn nparams(self) -> usize {
        match self {
            Self::Constant => 1,
            Self::Linear => 2,
            Self::Quadratic => 3,
        }
    }
    /// Parameter names in lmfit's order.
    fn names(self) -> &'static [&'static str] {
        match self {
            Self::Constant => &["c"],
            Self::Linear => &["slope", "intercept"],
            Self::Quadratic => &["a", "b", "c"],
        }
    }
    #[inline(always)]
    fn eval(self, x: f64, p: &[f64]) -> f64 {
        match self {
            Self::Constant => p[0],
            Self::Linear => p[0] * x + p[1],
            Self::Quadratic => p[0] * x * x + p[1] * x + p[2],
        }
    }
}

/// One part of a baseline form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselinePart {
    /// The tail of the main edge as a peak (amplitude, center, sigma).
    Peak(PeakShape),
    /// The rise of the main edge as a step (amplitude, center, sigma).
    Step(StepForm),
    Poly(PolyPart),
}

impl BaselinePart {
    /// Larch's `pre_edge_baseline` picks the first of its MODELDAT keys the
    /// part starts with ("gauss", "loren", "voigt", "line", "quad", "const",
    /// "atan_step", "erf_step", "lin_step").
    fn parse(part: &str) -> Option<Self> {
        const KEYS: [(&str, BaselinePart); 9] = [
            ("gauss", BaselinePart::Peak(PeakShape::Gaussian)),
            ("loren", BaselinePart::Peak(PeakShape::Lorentzian)),
            ("voigt", BaselinePart::Peak(PeakShape::Voigt)),
            ("line", BaselinePart::Poly(PolyPart::Linear)),
            ("quad", BaselinePart::Poly(PolyPart::Quadratic)),
            ("const", BaselinePart::Poly(PolyPart::Constant)),
            ("atan_step", BaselinePart::Step(StepForm::Arctan)),
            ("erf_step", BaselinePart::Step(StepForm::Erf)),
            ("lin_step", BaselinePart::Step(StepForm::Linear)),
        ];
        KEYS.iter()
            .find(|(k, _)| part.starts_with(k))
            .map(|&(_, p)| p)
    }
    fn nparams(self) -> usize {
        match self {
            Self::Peak(_) | Self::Step(_) => 3,
            Self::Poly(p) => p.nparams(),
        }
    }
    fn names(self) -> &'static [&'static str] {
        match self {
            Self::Peak(_) | Self::Step(_) => &["amplitude", "center", "sigma"],
            Self::Poly(p) => p.names(),
        }
    }
    fn eval(self, x: f64, p: &[f64]) -> f64 {
        match self {
            Self::Peak(s) => s.eval(x, p[0], p[1], p[2]),
            Self::Step(f) => f.eval(x, p[0], p[1], p[2]),
            Self::Poly(q) => q.eval(x, p),
        }
    }
}

/// Baseline form, as Larch's `form` string ("linear+lorentzian",
/// "linear+atan_step", "erf_step+constant", "quadratic"): Larch builds the
/// model as (last part) + (first), which fixes the parameter order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaselineForm {
    /// Parts in model order (the form string's last part first).
    parts: [Option<BaselinePart>; 2],
}

impl BaselineForm {
    /// Parse Larch's form string: at most one polynomial and at most one
    /// peak or step (two would share lmfit parameter names).
    pub fn parse(form: &str) -> Result<Self, XanesError> {
        let parts: Vec<String> = form.split('+').map(|s| s.trim().to_lowercase()).collect();
        if parts.len() > 2 {
            return Err(XanesError::Input(format!(
                "baseline form '{form}': at most two parts"
            )));
        }
        let mut out = [None, None];
        for (slot, part) in out.iter_mut().zip(parts.iter().rev()) {
            *slot = Some(BaselinePart::parse(part).ok_or_else(|| {
                XanesError::Input(format!(
                    "baseline form '{form}': unknown part '{part}' (gaussian, lorentzian, voigt, \
                     atan_step, erf_step, lin_step, constant, linear, quadratic)"
                ))
            })?);
        }
        if let [Some(a), Some(b)] = out {
            let poly = |p: BaselinePart| matches!(p, BaselinePart::Poly(_));
            if poly(a) == poly(b) {
                return Err(XanesError::Input(format!(
                    "baseline form '{form}': one polynomial and one peak or step at most"
                )));
            }
        }
        if out[0].is_none() {
            return Err(XanesError::Input(format!(
                "baseline form '{form}' is empty"
            )));
        }
        Ok(Self { parts: out })
    }

    fn parts(&self) -> impl Iterator<Item = BaselinePart> + '_ {
        self.parts.iter().flatten().copied()
    }
    fn nparams(&self) -> usize {
        self.parts().map(BaselinePart::nparams).sum()
    }
    /// The peak or step part and the offset of its parameters.
    fn tail(&self) -> Option<(BaselinePart, usize)> {
        let mut off = 0;
        for p in self.parts() {
            if !matches!(p, BaselinePart::Poly(_)) {
                return Some((p, off));
            }
            off += p.nparams();
        }
        None
    }
    /// Parameter names in model order.
    pub fn names(&self) -> Vec<&'static str> {
        self.parts()
            .flat_map(|p| p.names().iter().copied())
            .collect()
    }
    /// Evaluate with `p` in model order (lmfit adds the left part first).
    fn eval(&self, x: f64, p: &[f64]) -> f64 {
        let mut off = 0;
        let mut y = 0.0;
        for (i, part) in self.parts().enumerate() {
            let v = part.eval(x, &p[off..]);
            y = if i == 0 { v } else { y + v };
            off += part.nparams();
        }
        y
    }
    /// `out[i] = eval(xs[i], p) − ys[i]` for every point: the residual of
    /// the baseline fit. The same arithmetic as [`eval`](Self::eval), with the
    /// part and shape chosen once per call instead of per point, so the loops
    /// vectorise (the divisions of a Lorentzian pipeline four at a time).
    fn residual_into(&self, xs: &[f64], ys: &[f64], p: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports every feature residual_avx2 is compiled for.
                unsafe { self.residual_avx2(xs, ys, p, out) };
                return;
            }
        }
        self.residual_body(xs, ys, p, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn residual_avx2(&self, xs: &[f64], ys: &[f64], p: &[f64], out: &mut [f64]) {
        self.residual_body(xs, ys, p, out);
    }

    #[inline(always)]
    fn residual_body(&self, xs: &[f64], ys: &[f64], p: &[f64], out: &mut [f64]) {
        #[inline(always)]
        fn add(out: &mut [f64], xs: &[f64], first: bool, f: impl Fn(f64) -> f64) {
            if first {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o = f(x);
                }
            } else {
                for (o, &x) in out.iter_mut().zip(xs) {
                    *o += f(x);
                }
            }
        }
        let mut off = 0;
        for (i, part) in self.parts().enumerate() {
            let q = &p[off..];
            let first = i == 0;
            match part {
                BaselinePart::Peak(shape) => {
                    let (a, c, w) = (q[0], q[1], q[2]);
                    match shape {
                        PeakShape::Gaussian => {
                            add(out, xs, first, |x| PeakShape::Gaussian.eval(x, a, c, w))
                        }
                        PeakShape::Lorentzian => {
                            add(out, xs, first, |x| PeakShape::Lorentzian.eval(x, a, c, w))
                        }
                        PeakShape::Voigt => {
                            add(out, xs, first, |x| PeakShape::Voigt.eval(x, a, c, w))
                        }
                    }
                }
                BaselinePart::Step(form) => add(out, xs, first, |x| form.eval(x, q[0], q[1], q[2])),
                BaselinePart::Poly(poly) => match poly {
                    PolyPart::Constant => add(out, xs, first, |x| PolyPart::Constant.eval(x, q)),
                    PolyPart::Linear => add(out, xs, first, |x| PolyPart::Linear.eval(x, q)),
                    PolyPart::Quadratic => add(out, xs, first, |x| PolyPart::Quadratic.eval(x, q)),
                },
            }
            off += part.nparams();
        }
        for (o, &y) in out.iter_mut().zip(ys) {
            *o -= y;
        }
    }

    /// Starting values and bounds as `pre_edge_baseline` sets them (a step's
    /// center starts a tenth of the way from ehi to emax).
    fn start(&self, range: &PrePeakRange) -> Vec<LmParams> {
        let mut out = vec![LmParams::new(0.0); self.nparams()];
        if let Some((part, i)) = self.tail() {
            let center = match part {
                BaselinePart::Step(_) => range.ehi_ev + (range.emax_ev - range.ehi_ev) * 0.10,
                _ => range.emax_ev,
            };
            out[i] = LmParams::bounded(1.0, 0.0, f64::INFINITY);
            out[i + 1] = LmParams::bounded(center, range.emin_ev - 25.0, range.emax_ev + 25.0);
            out[i + 2] = LmParams::bounded(2.0, 0.05, 500.0);
        }
        out
    }
}

/// Energy ranges of the pre-edge analysis, absolute eV.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrePeakRange {
    pub emin_ev: f64,
    pub elo_ev: f64,
    pub ehi_ev: f64,
    pub emax_ev: f64,
}

impl PrePeakRange {
    /// Larch's defaults (`prepeaks_setup`): e0 − 30, e0 − 15, e0 − 5, e0 − 1 eV.
    pub fn larch_default(e0_ev: f64) -> Self {
        Self {
            emin_ev: e0_ev - 30.0,
            elo_ev: e0_ev - 15.0,
            ehi_ev: e0_ev - 5.0,
            emax_ev: e0_ev - 1.0,
        }
    }
    /// Sorted as `prepeaks_setup` sorts them.
    fn sorted(mut self) -> Self {
        if self.emin_ev > self.emax_ev {
            std::mem::swap(&mut self.emin_ev, &mut self.emax_ev);
        }
        if self.emin_ev > self.elo_ev {
            std::mem::swap(&mut self.emin_ev, &mut self.elo_ev);
        }
        if self.ehi_ev > self.emax_ev {
            std::mem::swap(&mut self.ehi_ev, &mut self.emax_ev);
        }
        self
    }
}

/// Result of [`pre_edge_baseline`] (Larch's `group.prepeaks`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrePeakBaseline {
    pub range: PrePeakRange,
    pub form: BaselineForm,
    /// Fitted baseline parameters in model order, named by `form.names()`.
    pub params: Vec<ParamValue>,
    pub energy_ev: Vec<f64>,
    pub norm: Vec<f64>,
    pub baseline: Vec<f64>,
    /// norm − baseline.
    pub peaks: Vec<f64>,
    /// One-sigma band of the baseline (lmfit `eval_uncertainty`).
    pub delta_peaks: Vec<f64>,
    /// Σ E·peaks / Σ peaks.
    pub centroid_ev: f64,
    /// Half the spread of the centroid of peaks ± delta_peaks.
    pub delta_centroid_ev: f64,
    pub chisqr: f64,
    pub redchi: f64,
}

/// Larch's `index_of(energy, e + dele)` with its `dele` (a fifth of the finest step).
fn indices(energy: &[f64], r: &PrePeakRange, tiny: f64) -> [usize; 4] {
    let step = energy
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let dele = tiny + step / 5.0;
    [r.emin_ev, r.elo_ev, r.ehi_ev, r.emax_ev].map(|e| index_of(energy, e + dele))
}

/// lmfit `ModelResult.eval_uncertainty(sigma=1)` at `x`: central differences
/// of the model over ±stderr/100 of every varying parameter (values clipped to
/// their bounds as lmfit's Parameter does), combined with the covariance and
/// scaled by the Student-t one-sigma quantile for ndata − nvarys.
fn eval_uncertainty(
    res: &LmResult,
    params: &[LmParams],
    x: &[f64],
    model: impl Fn(f64, &[f64]) -> f64,
) -> Vec<f64> {
    let (Some(stderr), Some(covar)) = (&res.stderr, &res.covar) else {
        return vec![0.0; x.len()];
    };
    let nv = res.nvarys;
    let mut fjac = vec![vec![0.0; x.len()]; nv];
    let mut pars = res.values.clone();
    for (k, &i) in res.var_index.iter().enumerate() {
        let val0 = res.values[i];
        let dval = stderr[i] * 0.01;
        let clip = |v: f64| {
            if v > params[i].max {
                params[i].max
            } else if v < params[i].min {
                params[i].min
            } else {
                v
            }
        };
        pars[i] = clip(val0 + dval);
        let r1: Vec<f64> = x.iter().map(|&e| model(e, &pars)).collect();
        pars[i] = clip(val0 - dval);
        let r2: Vec<f64> = x.iter().map(|&e| model(e, &pars)).collect();
        pars[i] = val0;
        for (j, f) in fjac[k].iter_mut().enumerate() {
            *f = (r1[j] - r2[j]) / (2.0 * dval);
        }
    }
    let mut df2 = vec![0.0; x.len()];
    for a in 0..nv {
        for b in 0..nv {
            let c = covar[a * nv + b];
            for (j, d) in df2.iter_mut().enumerate() {
                *d += fjac[a][j] * fjac[b][j] * c;
            }
        }
    }
    let scale = student_t_ppf(ONE_SIGMA_P, (res.ndata - nv) as f64);
    df2.iter().map(|d| scale * d.sqrt()).collect()
}

fn param_values(res: &LmResult) -> Vec<ParamValue> {
    (0..res.values.len())
        .map(|i| ParamValue {
            value: res.values[i],
            stderr: res.stderr.as_ref().map(|s| s[i]),
        })
        .collect()
}

/// Larch's `pre_edge_baseline(energy, norm, form=…, emin, emax, elo, ehi)`.
pub fn pre_edge_baseline(
    group: &XanesGroup,
    form: BaselineForm,
    range: PrePeakRange,
) -> Result<PrePeakBaseline, XanesError> {
    let range = range.sorted();
    let e = &group.energy_ev;
    let norm_all = &group.norm;
    if e.len() < 2 {
        return Err(XanesError::Input(format!(
            "{}: fewer than 2 points",
            group.label
        )));
    }
    let [imin, ilo, ihi, imax] = indices(e, &range, 1e-11);
    let mut xdat: Vec<f64> = e[imin..=ilo].to_vec();
    xdat.extend_from_slice(&e[ihi..=imax]);
    let mut ydat: Vec<f64> = norm_all[imin..=ilo].to_vec();
    ydat.extend_from_slice(&norm_all[ihi..=imax]);
    let edat = e[imin..=imax].to_vec();
    let norm = norm_all[imin..=imax].to_vec();
    // A fit with no more points than parameters reports made-up errors.
    if xdat.len() <= form.nparams() {
        return Err(XanesError::Input(format!(
            "{}: {} points within {} – {} eV outside the peak region ({} – {} eV) for {} baseline \
             parameters: widen emin–emax",
            group.label,
            xdat.len(),
            range.emin_ev,
            range.emax_ev,
            range.elo_ev,
            range.ehi_ev,
            form.nparams()
        )));
    }

    let params = form.start(&range);
    let resid = |v: &[f64], out: &mut [f64]| form.residual_into(&xdat, &ydat, v, out);
    let res = minimize(resid, &params, xdat.len(), &LmOptions::default()).map_err(|err| {
        XanesError::Input(format!(
            "{}: pre-edge baseline fit over {} – {} eV: {err}",
            group.label, range.emin_ev, range.emax_ev
        ))
    })?;
    let baseline: Vec<f64> = edat.iter().map(|&x| form.eval(x, &res.values)).collect();
    let peaks: Vec<f64> = norm.iter().zip(&baseline).map(|(n, b)| n - b).collect();
    let centroid = |p: &[f64]| -> f64 {
        let num: f64 = edat.iter().zip(p).map(|(x, y)| x * y).sum();
        num / p.iter().sum::<f64>()
    };
    let cen = centroid(&peaks);
    let dpeaks = eval_uncertainty(&res, &params, &edat, |x, v| form.eval(x, v));
    let plus: Vec<f64> = peaks.iter().zip(&dpeaks).map(|(p, d)| p + d).collect();
    let minus: Vec<f64> = peaks.iter().zip(&dpeaks).map(|(p, d)| p - d).collect();
    let dcen = (centroid(&minus) - centroid(&plus)).abs() / 2.0;
    Ok(PrePeakBaseline {
        range,
        form,
        params: param_values(&res),
        energy_ev: edat,
        norm,
        baseline,
        peaks,
        delta_peaks: dpeaks,
        centroid_ev: cen,
        delta_centroid_ev: dcen,
        chisqr: res.chisqr,
        redchi: res.redchi,
    })
}

/// One fitted pre-edge peak, lmfit's parameters and derived values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedPeak {
    pub shape: PeakShape,
    /// Area under the peak (lmfit `amplitude`).
    pub amplitude: ParamValue,
    pub center_ev: ParamValue,
    pub sigma_ev: ParamValue,
    pub fwhm_ev: ParamValue,
    pub height: ParamValue,
}

/// Baseline + peaks fitted together over [emin, emax].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrePeakFit {
    /// Baseline parameters in model order (`form.names()`).
    pub baseline_params: Vec<ParamValue>,
    pub peaks: Vec<FittedPeak>,
    /// Amplitude-weighted mean of the peak centers.
    pub centroid_ev: ParamValue,
    /// Sum of the peak areas.
    pub integrated_intensity: ParamValue,
    pub chisqr: f64,
    pub redchi: f64,
    pub nfev: usize,
    pub energy_ev: Vec<f64>,
    pub norm: Vec<f64>,
    pub fit: Vec<f64>,
}

/// √(gᵀ C g) over the varying parameters; `g` indexed by parameter.
fn propagate(res: &LmResult, g: &[f64]) -> Option<f64> {
    let c = res.covar.as_ref()?;
    let nv = res.nvarys;
    let mut q = 0.0;
    for (a, &ia) in res.var_index.iter().enumerate() {
        for (b, &ib) in res.var_index.iter().enumerate() {
            q += g[ia] * c[a * nv + b] * g[ib];
        }
    }
    Some(q.max(0.0).sqrt())
}

/// Larch's pre-edge peak tool: the baseline model of `base` (started at its
/// fitted values, tail amplitude ≥ 0 and width in [0.05, 500] eV) plus one
/// peak per start energy (sorted; center within ±2 eV, sigma in [0.1, 5] eV
/// from 1, area ≥ 0 from 2.5 × the baseline-subtracted height there), fitted
/// to norm over [emin, emax] as lmfit's `Model.fit`.
pub fn fit_prepeaks(
    base: &PrePeakBaseline,
    shape: PeakShape,
    starts_ev: &[f64],
) -> Result<PrePeakFit, XanesError> {
    if starts_ev.is_empty() || starts_ev.len() > 4 {
        return Err(XanesError::Input(format!(
            "{} peak starts given: 1 to 4 are fitted",
            starts_ev.len()
        )));
    }
    let form = base.form;
    let nb = form.nparams();
    let nfree = nb + 3 * starts_ev.len();
    if base.energy_ev.len() <= nfree {
        return Err(XanesError::Input(format!(
            "{} points in {} – {} eV for {nfree} parameters (baseline and {} peaks): widen emin–emax",
            base.energy_ev.len(),
            base.energy_ev.first().copied().unwrap_or(f64::NAN),
            base.energy_ev.last().copied().unwrap_or(f64::NAN),
            starts_ev.len()
        )));
    }
    let mut starts = starts_ev.to_vec();
    starts.sort_by(f64::total_cmp);
    let mut params: Vec<LmParams> = base.params.iter().map(|p| LmParams::new(p.value)).collect();
    if let Some((_, ipk)) = form.tail() {
        params[ipk].min = 0.0;
        params[ipk + 2].min = 0.05;
        params[ipk + 2].max = 500.0;
    }
    for &e in &starts {
        let height = interp_clamped(&base.energy_ev, &base.peaks, &[e])[0];
        params.push(LmParams::bounded(
            height.max(1e-3) * 2.5,
            0.0,
            f64::INFINITY,
        ));
        params.push(LmParams::bounded(e, e - 2.0, e + 2.0));
        params.push(LmParams::bounded(1.0, 0.1, 5.0));
    }
    let model = |x: f64, v: &[f64]| -> f64 {
        let mut y = form.eval(x, &v[..nb]);
        for k in 0..starts.len() {
            let q = &v[nb + 3 * k..];
            y += shape.eval(x, q[0], q[1], q[2]);
        }
        y
    };
    let x = &base.energy_ev;
    let y = &base.norm;
    let resid = |v: &[f64], out: &mut [f64]| {
        for ((o, &xi), &yi) in out.iter_mut().zip(x).zip(y) {
            *o = model(xi, v) - yi;
        }
    };
    let res = minimize(resid, &params, x.len(), &LmOptions::default())?;
    let pv = param_values(&res);
    let np = res.values.len();
    let mut peaks = Vec::new();
    for k in 0..starts.len() {
        let i = nb + 3 * k;
        let (a, s) = (res.values[i], res.values[i + 2]);
        let smax = s.max(TINY);
        let mut g = vec![0.0; np];
        g[i] = shape.height_factor() / smax;
        if s > TINY {
            g[i + 2] = -shape.height_factor() * a / (s * s);
        }
        peaks.push(FittedPeak {
            shape,
            amplitude: pv[i],
            center_ev: pv[i + 1],
            sigma_ev: pv[i + 2],
            fwhm_ev: ParamValue {
                value: shape.fwhm_factor() * s,
                stderr: pv[i + 2].stderr.map(|e| shape.fwhm_factor() * e),
            },
            height: ParamValue {
                value: shape.height_factor() * a / smax,
                stderr: propagate(&res, &g),
            },
        });
    }
    // Σ A_k and Σ A_k c_k / Σ A_k with their gradients.
    let total: f64 = peaks.iter().map(|p| p.amplitude.value).sum();
    let cen = peaks
        .iter()
        .map(|p| p.amplitude.value * p.center_ev.value)
        .sum::<f64>()
        / total;
    let mut g_total = vec![0.0; np];
    let mut g_cen = vec![0.0; np];
    for (k, p) in peaks.iter().enumerate() {
        let i = nb + 3 * k;
        g_total[i] = 1.0;
        g_cen[i] = (p.center_ev.value - cen) / total;
        g_cen[i + 1] = p.amplitude.value / total;
    }
    let fit = x.iter().map(|&xi| model(xi, &res.values)).collect();
    Ok(PrePeakFit {
        baseline_params: pv[..nb].to_vec(),
        centroid_ev: ParamValue {
            value: cen,
            stderr: propagate(&res, &g_cen),
        },
        integrated_intensity: ParamValue {
            value: total,
            stderr: propagate(&res, &g_total),
        },
        peaks,
        chisqr: res.chisqr,
        redchi: res.redchi,
        nfev: res.nfev,
        energy_ev: x.clone(),
        norm: y.clone(),
        fit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectorised residual is the per-point model to the last bit, for
    /// every part and shape the baseline allows.
    #[test]
    fn residual_into_equals_eval_pointwise() {
        let xs: Vec<f64> = (0..37).map(|i| 8970.0 + 0.73 * i as f64).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 1e-3 * (x - 8990.0).sin()).collect();
        for form in [
            "linear+lorentzian",
            "linear+gaussian",
            "constant+voigt",
            "quadratic+atan_step",
            "linear+erf_step",
            "constant+lin_step",
            "quadratic",
        ] {
            let f = BaselineForm::parse(form).expect("form");
            let p: Vec<f64> = (0..f.nparams())
                .map(|i| [0.8, 9001.5, 2.3, 1e-4, 0.02][i % 5])
                .collect();
            let mut out = vec![0.0; xs.len()];
            f.residual_into(&xs, &ys, &p, &mut out);
            for ((o, &x), &y) in out.iter().zip(&xs).zip(&ys) {
                assert_eq!(o.to_bits(), (f.eval(x, &p) - y).to_bits(), "{form} at {x}");
            }
        }
    }
}
