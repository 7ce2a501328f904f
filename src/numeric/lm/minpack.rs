//! MINPACK-1 `lmdif`/`lmder` and their helpers (`enorm`, `fdjac2`, `qrfac`,
//! `qrsolv`, `lmpar`), transcribed from Moré's Fortran.

// The MINPACK routines keep Moré's index loops so they can be checked line
// by line against the Fortran; iterator rewrites would obscure that.
#![allow(clippy::needless_range_loop)]

use super::{LmError, LmOptions, Problem};

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
pub(super) struct Work {
    pub(super) fvec: Vec<f64>,
    /// m × n column-major; after `qrfac` its upper triangle holds R.
    pub(super) fjac: Vec<f64>,
    pub(super) ipvt: Vec<usize>,
    pub(super) diag: Vec<f64>,
    pub(super) qtf: Vec<f64>,
    pub(super) wa1: Vec<f64>,
    pub(super) wa2: Vec<f64>,
    pub(super) wa3: Vec<f64>,
    pub(super) wa4: Vec<f64>,
    /// Trial residuals (m) and the scratch of `qrsolv`/`lmpar`.
    pub(super) fnew: Vec<f64>,
    pub(super) sdiag: Vec<f64>,
    pub(super) lwa: Vec<f64>,
    pub(super) xnew: Vec<f64>,
}

impl Work {
    pub(super) fn new(m: usize, n: usize) -> Self {
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
pub(super) fn lmdif<R, J>(
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
