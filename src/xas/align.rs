//! Energy alignment of a spectrum to a reference, as Larch's
//! `larch.xafs.energy_align`: least-squares fit of an energy shift and a
//! scale so that the (derivative of the) spectrum matches the reference.

use serde::{Deserialize, Serialize};

use super::XasError;
use super::ops_util::{check_increasing, check_xy};
use crate::numeric::diff::gradient;
use crate::numeric::grid::index_of;
use crate::numeric::interp::CubicSpline;

/// Which array is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlignArray {
    /// dμ/dE, built from the array passed in (`gradient(y)/gradient(E)`).
    /// Larch builds it from `norm` when the group has one, else from `mu`.
    #[default]
    Dmude,
    /// The array passed in, as given (Larch `array='mu'`).
    Mu,
    /// The array passed in, as given (Larch `array='norm'`; pass normalized μ).
    Norm,
}

/// Options of `energy_align` (Larch names and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlignParams {
    pub array: AlignArray,
    /// Start of the compared range relative to the reference e0 [-15 eV].
    /// Larch 2026.3 indexes this as `e0 - emin`, so the default range really
    /// starts at e0 + 15 eV; Carto does the same to give Larch's shifts.
    pub emin: f64,
    /// End of the compared range relative to the reference e0 [+35 eV].
    pub emax: f64,
}

impl Default for AlignParams {
    fn default() -> Self {
        AlignParams {
            array: AlignArray::Dmude,
            emin: -15.0,
            emax: 35.0,
        }
    }
}

/// The fitted alignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alignment {
    /// Energy shift to add to the spectrum's energies to match the reference.
    pub eshift_ev: f64,
    /// Fitted scale of the spectrum's array against the reference's.
    pub scale: f64,
    /// Number of reference points in the fitted range.
    pub npts: usize,
    /// Function evaluations used by the fit.
    pub nfev: usize,
}

/// lmfit's bounds for `eshift` and `scale` in `energy_align`.
const BOUNDS: [(f64, f64); 2] = [(-50.0, 50.0), (0.0, 50.0)];

/// Shift (eV) that aligns `(energy_ev, mu)` to `(ref_energy_ev, ref_mu)`,
/// whose edge is at `ref_e0_ev`. Residual and bounds of Larch's `align_resid`
/// (`larch/xafs/pre_edge.py`), minimized by Levenberg–Marquardt.
pub fn energy_align(
    energy_ev: &[f64],
    mu: &[f64],
    ref_energy_ev: &[f64],
    ref_mu: &[f64],
    ref_e0_ev: f64,
    params: &AlignParams,
) -> Result<Alignment, XasError> {
    check_xy("energy", energy_ev, "mu", mu, 4)?;
    check_xy("reference energy", ref_energy_ev, "reference mu", ref_mu, 4)?;
    check_increasing(energy_ev)?;
    check_increasing(ref_energy_ev)?;
    for (name, v) in [
        ("ref_e0", ref_e0_ev),
        ("emin", params.emin),
        ("emax", params.emax),
    ] {
        if !v.is_finite() {
            return Err(XasError::BadParam {
                name,
                value: v.to_string(),
                reason: "must be finite".into(),
            });
        }
    }
    let (ydat, yref) = match params.array {
        AlignArray::Dmude => (dmude(energy_ev, mu), dmude(ref_energy_ev, ref_mu)),
        AlignArray::Mu | AlignArray::Norm => (mu.to_vec(), ref_mu.to_vec()),
    };
    let i1 = index_of(ref_energy_ev, ref_e0_ev - params.emin);
    let i2 = index_of(ref_energy_ev, ref_e0_ev + params.emax);
    if i2 <= i1 + 1 {
        return Err(XasError::BadParam {
            name: "emax",
            value: params.emax.to_string(),
            reason: format!(
                "the fit range e0-emin..e0+emax holds {} reference points",
                i2.saturating_sub(i1)
            ),
        });
    }
    let xref = &ref_energy_ev[i1..i2];
    let yref = &yref[i1..i2];
    let spline = Interp::new(energy_ev, &ydat);
    let resid = |p: [f64; 2], out: &mut [f64]| {
        for ((o, &x), &y) in out.iter_mut().zip(xref).zip(yref) {
            *o = spline.eval(x - p[0]) * p[1] - y;
        }
    };
    let (p, nfev) = levmar(resid, [0.0, 1.0], xref.len())?;
    Ok(Alignment {
        eshift_ev: p[0],
        scale: p[1],
        npts: xref.len(),
        nfev,
    })
}

/// dμ/dE as Larch builds it: `gradient(mu) / gradient(energy)`.
fn dmude(energy: &[f64], mu: &[f64]) -> Vec<f64> {
    gradient(mu)
        .iter()
        .zip(gradient(energy))
        .map(|(a, b)| a / b)
        .collect()
}

/// `larch.math.interp(kind='cubic')` of one fixed (x, y), evaluated anywhere.
struct Interp {
    x0: f64,
    x1: f64,
    main: CubicSpline,
    below: CubicSpline,
    above: CubicSpline,
}

impl Interp {
    fn new(x: &[f64], y: &[f64]) -> Interp {
        let n = x.len();
        let m = n.min(5);
        Interp {
            x0: x[0],
            x1: x[n - 1],
            main: CubicSpline::new(x, y),
            below: CubicSpline::new(&x[..m], &y[..m]),
            above: CubicSpline::new(&x[n - m..], &y[n - m..]),
        }
    }
    fn eval(&self, x: f64) -> f64 {
        if x < self.x0 {
            self.below.eval(x)
        } else if x > self.x1 {
            self.above.eval(x)
        } else {
            self.main.eval(x)
        }
    }
}

/// lmfit's bounded parameter: external value from the internal one (MINUIT sine transform).
fn to_external(u: [f64; 2]) -> [f64; 2] {
    let mut p = [0.0; 2];
    for j in 0..2 {
        let (lo, hi) = BOUNDS[j];
        p[j] = lo + (u[j].sin() + 1.0) * (hi - lo) / 2.0;
    }
    p
}

fn to_internal(p: [f64; 2]) -> [f64; 2] {
    let mut u = [0.0; 2];
    for j in 0..2 {
        let (lo, hi) = BOUNDS[j];
        u[j] = (2.0 * (p[j] - lo) / (hi - lo) - 1.0).asin();
    }
    u
}

/// Levenberg–Marquardt on the 2 internal parameters with forward-difference
/// Jacobian (MINPACK `lmdif` step sizes), converged tighter than lmfit. Returns the
/// external parameters and the number of residual evaluations.
fn levmar(
    resid: impl Fn([f64; 2], &mut [f64]),
    start: [f64; 2],
    m: usize,
) -> Result<([f64; 2], usize), XasError> {
    const TOL: f64 = 1e-7;
    let max_nfev = 2000 * 3;
    let eps = f64::EPSILON.sqrt();
    let mut u = to_internal(start);
    let mut r = vec![0.0; m];
    let mut rt = vec![0.0; m];
    let mut jac = vec![[0.0; 2]; m];
    let cost = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
    resid(to_external(u), &mut r);
    let mut nfev = 1;
    let mut f = cost(&r);
    if !f.is_finite() {
        return Err(XasError::NoEdge("alignment residual is not finite".into()));
    }
    let mut lambda = 1e-3;
    while nfev < max_nfev {
        for j in 0..2 {
            let h = if u[j] == 0.0 { eps } else { eps * u[j].abs() };
            let mut ut = u;
            ut[j] += h;
            resid(to_external(ut), &mut rt);
            nfev += 1;
            for i in 0..m {
                jac[i][j] = (rt[i] - r[i]) / h;
            }
        }
        let (mut a, mut g) = ([[0.0; 2]; 2], [0.0; 2]);
        for i in 0..m {
            for j in 0..2 {
                g[j] += jac[i][j] * r[i];
                for k in 0..2 {
                    a[j][k] += jac[i][j] * jac[i][k];
                }
            }
        }
        if g[0] == 0.0 && g[1] == 0.0 {
            break;
        }
        let mut improved = false;
        let mut converged = false;
        while nfev < max_nfev {
            let d0 = a[0][0] * (1.0 + lambda) + 1e-300;
            let d1 = a[1][1] * (1.0 + lambda) + 1e-300;
            let det = d0 * d1 - a[0][1] * a[1][0];
            if det == 0.0 || !det.is_finite() {
                lambda *= 10.0;
                if lambda > 1e16 {
                    break;
                }
                continue;
            }
            let du = [
                -(d1 * g[0] - a[0][1] * g[1]) / det,
                -(d0 * g[1] - a[1][0] * g[0]) / det,
            ];
            let ut = [u[0] + du[0], u[1] + du[1]];
            resid(to_external(ut), &mut rt);
            nfev += 1;
            let ft = cost(&rt);
            if ft.is_finite() && ft <= f {
                let rel = (f - ft) / f.max(f64::MIN_POSITIVE);
                let step = (du[0].abs() / (u[0].abs() + TOL)).max(du[1].abs() / (u[1].abs() + TOL));
                u = ut;
                std::mem::swap(&mut r, &mut rt);
                f = ft;
                lambda = (lambda / 10.0).max(1e-12);
                improved = true;
                // tighter than lmfit's 1e-7 so the answer does not depend on the path
                converged = rel <= TOL * 1e-5 || step <= TOL * 1e-3;
                break;
            }
            lambda *= 10.0;
            if lambda > 1e16 {
                break;
            }
        }
        if !improved || converged {
            break;
        }
    }
    let p = to_external(u);
    if !p.iter().all(|v| v.is_finite()) {
        return Err(XasError::NoEdge("alignment fit diverged".into()));
    }
    Ok((p, nfev))
}
