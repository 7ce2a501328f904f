//! AUTOBK background removal (Newville, Līviņš, Yacoby, Rehr & Stern,
//! Phys. Rev. B 47, 14126 (1993)) with Larch's parametrisation
//! (`larch/xafs/autobk.py`): a cubic B-spline μ₀(k) whose coefficients
//! minimise the low-R part of the Fourier transform of χ(k) = μ − μ₀, plus
//! Larch's end-point "clamps".
//!
//! Larch minimises with finite-difference Levenberg–Marquardt. The residual
//! is linear in the spline coefficients except for the clamp scale, so here
//! the exact Jacobian is assembled once and a few Gauss–Newton steps reach
//! the same minimum.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::fourier::{Window, ftwindow};
use super::pre_edge::{PreEdge, check_input, sorted_dedup};
use super::{XasError, pre_edge};
use crate::numeric::bspline::{Evaluator, Interpolator};
use crate::numeric::grid::{index_nearest, index_of, uniform};
use crate::numeric::kernels::{GemmTn, gemm_tn_acc, kpow};
use crate::numeric::linalg::solve_dense;
use crate::numeric::special::student_t_ppf;
use crate::units::ETOK;

/// Largest k (Å⁻¹) AUTOBK works to, whatever the data reach.
const MAX_K: f64 = 100.0;

/// `autobk` parameters with Larch's names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutobkParams {
    /// R below which the background is defined, Å.
    pub rbkg: f64,
    /// Number of spline knots; `None` uses Larch's rule 1 + 2·rbkg·Δk/π.
    pub nknots: Option<usize>,
    /// Edge energy for k = 0 (Larch `ek0`); `None` takes pre_edge's e0.
    pub e0: Option<f64>,
    pub edge_step: Option<f64>,
    pub kmin: f64,
    /// `None`: the end of the data.
    pub kmax: Option<f64>,
    pub kweight: f64,
    pub dk: f64,
    pub win: Window,
    pub nfft: usize,
    pub kstep: f64,
    pub nclamp: usize,
    pub clamp_lo: f64,
    pub clamp_hi: f64,
    /// Compute `delta_chi` (Larch `calc_uncertainties`, default off; feffit
    /// turns it on because Larch's feffit always folds δχ into ε_k).
    pub calc_uncertainties: bool,
}

impl Default for AutobkParams {
    fn default() -> Self {
        AutobkParams {
            rbkg: 1.0,
            nknots: None,
            e0: None,
            edge_step: None,
            kmin: 0.0,
            kmax: None,
            kweight: 1.0,
            dk: 0.1,
            win: Window::Hanning,
            nfft: 2048,
            kstep: 0.05,
            nclamp: 3,
            clamp_lo: 0.0,
            clamp_hi: 1.0,
            calc_uncertainties: false,
        }
    }
}

impl AutobkParams {
    fn validate(&self) -> Result<(), XasError> {
        let bad = |name: &'static str, value: String, reason: &str| XasError::BadParam {
            name,
            value,
            reason: reason.into(),
        };
        if !(self.rbkg.is_finite() && self.rbkg > 0.0 && self.rbkg < 10.0) {
            return Err(bad(
                "rbkg",
                self.rbkg.to_string(),
                "must be between 0 and 10 Å",
            ));
        }
        if !(self.kmin.is_finite() && self.kmin >= 0.0) {
            return Err(bad("kmin", self.kmin.to_string(), "must be ≥ 0"));
        }
        if let Some(kmax) = self.kmax
            && !(kmax.is_finite() && kmax > self.kmin)
        {
            return Err(bad("kmax", kmax.to_string(), "must be greater than kmin"));
        }
        if !(self.kweight.is_finite() && (0.0..=10.0).contains(&self.kweight)) {
            return Err(bad(
                "kweight",
                self.kweight.to_string(),
                "must be between 0 and 10",
            ));
        }
        if !(self.dk.is_finite() && self.dk >= 0.0) {
            return Err(bad("dk", self.dk.to_string(), "must be ≥ 0"));
        }
        if !(self.nfft.is_power_of_two() && (256..=1 << 16).contains(&self.nfft)) {
            return Err(bad(
                "nfft",
                self.nfft.to_string(),
                "must be a power of two between 256 and 65536",
            ));
        }
        if !(self.kstep.is_finite() && self.kstep > 0.0 && self.kstep <= 0.5) {
            return Err(bad("kstep", self.kstep.to_string(), "must be in (0, 0.5]"));
        }
        if let Some(n) = self.nknots
            && !(5..=128).contains(&n)
        {
            return Err(bad("nknots", n.to_string(), "must be between 5 and 128"));
        }
        for (name, v) in [("clamp_lo", self.clamp_lo), ("clamp_hi", self.clamp_hi)] {
            if !(v.is_finite() && v.abs() <= 1e6) {
                return Err(bad(
                    if name == "clamp_lo" {
                        "clamp_lo"
                    } else {
                        "clamp_hi"
                    },
                    v.to_string(),
                    "must be finite",
                ));
            }
        }
        if let Some(e0) = self.e0
            && !e0.is_finite()
        {
            return Err(bad("e0", e0.to_string(), "must be finite"));
        }
        if let Some(s) = self.edge_step
            && !(s.is_finite() && s != 0.0)
        {
            return Err(bad(
                "edge_step",
                s.to_string(),
                "must be finite and non-zero",
            ));
        }
        Ok(())
    }
}

/// AUTOBK results on the sorted, de-duplicated energy grid and on the
/// uniform k grid.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Autobk {
    pub ek0: f64,
    pub edge_step: f64,
    pub rbkg: f64,
    pub kmin: f64,
    pub kmax: f64,
    pub nknots: usize,
    pub irbkg: usize,
    pub iterations: usize,
    pub energy_ev: Vec<f64>,
    /// μ₀(E): the background (equal to μ outside the fitted range).
    pub bkg: Vec<f64>,
    /// (μ − μ₀)/edge_step on the energy grid.
    pub chie: Vec<f64>,
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    pub knots_k: Vec<f64>,
    pub knots_y: Vec<f64>,
    /// One-sigma uncertainty of χ(k) on `k_inv_ang` from the spline
    /// covariance, in μ units as Larch's `delta_chi` (empty when the
    /// covariance is singular).
    pub delta_chi: Vec<f64>,
}

/// Larch `autobk`. `pre` supplies e0 and edge_step (as Larch takes them from
/// the group after `pre_edge`); when `None`, `pre_edge` runs with defaults.
///
/// The stages follow Larch's: the grids and initial knots (`grid`), the
/// linear maps from spline coefficients to χ(k) and its low-R transform
/// (`design`), the minimisation (`solve`), the uncertainty δχ
/// (`delta_chi`) and the background and χ(k) at the solution (`finish`).
pub fn autobk(
    energy_ev: &[f64],
    mu: &[f64],
    p: &AutobkParams,
    pre: Option<&PreEdge>,
) -> Result<Autobk, XasError> {
    p.validate()?;
    check_input(energy_ev, mu, 16)?;
    let owned_pre;
    let pre = match pre {
        Some(pr) => pr,
        None => {
            owned_pre = pre_edge::pre_edge(energy_ev, mu, &Default::default())?;
            &owned_pre
        }
    };
    let g = grid(energy_ev, mu, p, pre)?;
    let d = design(&g, p)?;
    let s = solve(&d, &g.coefs[..g.nspl]);
    let delta_chi = delta_chi(&d, &s, p);
    finish(g, &d, s, delta_chi)
}

/// The grids of one AUTOBK run: the sorted data with k from e0, the uniform
/// output k grid with its FT window, and the initial spline.
struct Grid {
    energy: Vec<f64>,
    mu: Vec<f64>,
    edge_step: f64,
    ek0: f64,
    /// Data from `iek0` to `iemax` (inclusive) enter the fit.
    iek0: usize,
    iemax: usize,
    rbkg: f64,
    kmin: f64,
    kmax: f64,
    /// k of every data point from `iek0` on.
    kraw: Vec<f64>,
    kout: Vec<f64>,
    /// kʷ·window on `kout`.
    ftwin: Vec<f64>,
    nspl: usize,
    irbkg: usize,
    spl_k: Vec<f64>,
    /// Initial spline coefficients and knots.
    coefs: Vec<f64>,
    knots: Vec<f64>,
}

impl Grid {
    fn too_dense(&self) -> XasError {
        let (nspl, kmin, kmax) = (self.nspl, self.kmin, self.kmax);
        XasError::TooFewPoints(format!(
            "{nspl} spline knots but the data have too few distinct points between k = {kmin} and {kmax:.2} Å⁻¹"
        ))
    }
}

/// Larch's set-up: e0, the k range, the number of knots (from rbkg) and
/// the initial knots at smoothed μ.
fn grid(energy_ev: &[f64], mu: &[f64], p: &AutobkParams, pre: &PreEdge) -> Result<Grid, XasError> {
    let (energy, mu) = sorted_dedup(energy_ev, mu);
    let n = energy.len();
    let edge_step = p.edge_step.unwrap_or(pre.edge_step);
    let ek0 = match p.e0 {
        Some(e) if e >= energy[0] && e <= energy[n - 1] => e,
        _ => pre.e0,
    };
    let iek0 = index_of(&energy, ek0);
    let rgrid = PI / (p.kstep * p.nfft as f64);
    let rbkg = p.rbkg.max(2.0 * rgrid);
    let kraw: Vec<f64> = energy[iek0..]
        .iter()
        .map(|&e| {
            let d = e - ek0;
            d.signum() * (ETOK * d.abs()).sqrt()
        })
        .collect();
    let kraw_max = kraw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // k beyond MAX_K (38 keV above the edge) is not EXAFS but a broken
    // energy axis; without the cap a point at 1e150 eV sized the k grid
    // past the address space (found by fuzzing: capacity overflow).
    let kmax = match p.kmax {
        Some(k) if k >= 0.0 => k.min(kraw_max).max(0.0),
        _ => kraw_max,
    }
    .min(MAX_K);
    let kmin = p.kmin;
    if kmax - kmin <= 1.0 || kmax.is_nan() {
        let why = match p.kmax {
            Some(k) if k < kraw_max => format!("kmax = {k} is within 1 Å⁻¹ of kmin = {kmin}"),
            _ => format!(
                "data reach only k = {kraw_max:.2} Å⁻¹ above e0 = {ek0:.2} eV (kmin = {kmin})"
            ),
        };
        return Err(XasError::TooFewPoints(format!(
            "EXAFS range too short for AUTOBK: {why}"
        )));
    }
    let nk = (1.01 + kmax / p.kstep) as usize;
    let kout: Vec<f64> = uniform(p.kstep, nk);
    let iemax = (n.min(2 + index_of(&energy, ek0 + kmax * kmax / ETOK))) - 1;
    let win = ftwindow(&kout, kmin, kmax, p.dk, Some(p.dk), p.win);
    let ftwin: Vec<f64> = kout
        .iter()
        .zip(&win)
        .map(|(&k, w)| kpow(k, p.kweight) * w)
        .collect();

    let mut nspl = 1 + (2.0 * rbkg * (kmax - kmin) / PI) as usize;
    let irbkg = (1.0 + (nspl as f64 - 1.0) * PI / (2.0 * rgrid * (kmax - kmin))) as usize;
    if let Some(nk) = p.nknots {
        nspl = nk;
    }
    nspl = nspl.clamp(5, 128);

    // Initial knots: smoothed μ at evenly spaced k.
    let mut spl_k = vec![0.0; nspl];
    let mut spl_y = vec![0.0; nspl];
    for i in 0..nspl {
        let q = kmin + i as f64 * (kmax - kmin) / (nspl - 1) as f64;
        let ik = index_nearest(&kraw, q);
        let i1 = (kraw.len() - 1).min(ik + 5);
        let i2 = ik.saturating_sub(5);
        spl_k[i] = kraw[ik];
        spl_y[i] = (2.0 * mu[ik + iek0] + mu[i1 + iek0] + mu[i2 + iek0]) / 4.0;
    }
    let mut g = Grid {
        energy,
        mu,
        edge_step,
        ek0,
        iek0,
        iemax,
        rbkg,
        kmin,
        kmax,
        kraw,
        kout,
        ftwin,
        nspl,
        irbkg,
        spl_k,
        coefs: Vec::new(),
        knots: Vec::new(),
    };
    if g.spl_k.windows(2).any(|w| w[1] <= w[0]) {
        return Err(g.too_dense());
    }
    let knot_spline = Interpolator::new(&g.spl_k).ok_or_else(|| g.too_dense())?;
    let mut coefs = spl_y.clone();
    knot_spline.solve(&mut coefs);
    g.coefs = coefs;
    g.knots = knot_spline.knots;
    Ok(g)
}

/// The linear maps of the problem: χ(k) on `kout` and its truncated,
/// windowed FT for every spline basis column and for μ, the clamp rows, and
/// MᵀM of the constant FT block of the Jacobian.
struct Design {
    nspl: usize,
    nk: usize,
    /// 2·irbkg: (re, im) of the low-R FT bins.
    nft: usize,
    /// Number of clamped k points (both ends).
    nt: usize,
    /// Number of data points used (iemax + 1 − iek0).
    m: usize,
    basis_at_data: Evaluator,
    /// χ on kout for every column (nk × ncolp, rows padded).
    qk: Vec<f64>,
    ncolp: usize,
    /// ncol × nft: row j < nspl is the FT of basis column j, the last row the FT of μ.
    ftm: Vec<f64>,
    ccols: Vec<f64>,
    tail0: Vec<f64>,
    clamp_w: Vec<f64>,
    mtm: Vec<f64>,
}

fn design(g: &Grid, p: &AutobkParams) -> Result<Design, XasError> {
    let nspl = g.nspl;
    let nk = g.kout.len();
    let irbkg = g.irbkg;
    // Data actually used: kraw[..=iemax−iek0], μ[iek0..=iemax].
    let m = g.iemax + 1 - g.iek0;
    let kraw_ = &g.kraw[..m];
    let mu_ = &g.mu[g.iek0..=g.iemax];
    let chi_spline = Interpolator::new(kraw_).ok_or_else(|| g.too_dense())?;
    let basis_at_data = Evaluator::new(&g.knots, nspl, kraw_);
    let chi_at_kout = Evaluator::new(&chi_spline.knots, m, &g.kout);

    // Truncated DFT (Larch `xftf_fast`, fixed kstep 0.05 scale): 2·irbkg
    // (re, im) values per column.
    let nft = 2 * irbkg;
    let scale = 0.05 / PI.sqrt();

    // The FT part and χ(k) are linear in μ and in the coefficients: push every
    // basis column and μ through spline → kout → windowed DFT at once.
    let ncol = nspl + 1;
    // Rows padded to a multiple of 4 so the banded solve vectorises cleanly.
    let ncolp = ncol.div_ceil(4) * 4;
    let mut y = vec![0.0; m * ncolp];
    for (i, row) in y.chunks_exact_mut(ncolp).enumerate() {
        let f = basis_at_data.first[i];
        let w = basis_at_data.weights[i];
        for q in 0..4 {
            if f + q < nspl {
                row[f + q] = w[q];
            }
        }
        row[nspl] = mu_[i];
    }
    chi_spline.solve_many(&mut y, ncolp);
    // χ on kout for every column (nk × ncolp), and the same times the FT
    // window and kʷ (Larch's order: the window multiplies χ before the
    // transform).
    let mut qk = vec![0.0; nk * ncolp];
    let mut qw = vec![0.0; nk * ncolp];
    for (r, (qrow, wrow)) in qk
        .chunks_exact_mut(ncolp)
        .zip(qw.chunks_exact_mut(ncolp))
        .enumerate()
    {
        let f = chi_at_kout.first[r];
        let w = chi_at_kout.weights[r];
        let (r0, rest) = y[f * ncolp..(f + 4) * ncolp].split_at(ncolp);
        let (r1, rest) = rest.split_at(ncolp);
        let (r2, r3) = rest.split_at(ncolp);
        let sw = scale * g.ftwin[r];
        // Over the padded width (its columns are zero) so the loop vectorises.
        for c in 0..ncolp {
            let q = w[0] * r0[c] + w[1] * r1[c] + w[2] * r2[c] + w[3] * r3[c];
            qrow[c] = q;
            wrow[c] = q * sw;
        }
    }
    // The truncated DFT as one GEMM against a per-thread table of cos/−sin,
    // over whole tiles of 8 frequencies (the extra ones are dropped).
    let nftp = nft.div_ceil(8) * 8;
    let mut ftp = vec![0.0; ncolp * nftp];
    dft_table_blocks(p.nfft, nk, nftp / 2, DFT_TABLE_MAX, |table, ldb, k| {
        gemm_tn_acc(
            &mut ftp,
            GemmTn {
                at: &qw[k.start * ncolp..k.end * ncolp],
                rows: ncolp,
                b: table,
                ldb,
                inner: k.len(),
                ncol: nftp,
            },
        )
    });
    let ftm: Vec<f64> = ftp
        .chunks_exact(nftp)
        .take(ncol)
        .flat_map(|row| &row[..nft])
        .copied()
        .collect();
    let mcols = &ftm[..nspl * nft];
    let nclamp = p.nclamp.min(nk / 2);
    let tail_rows: Vec<usize> = (0..nclamp).chain(nk - nclamp..nk).collect();
    let nt = tail_rows.len();
    let ccols: Vec<f64> = (0..nspl)
        .flat_map(|j| tail_rows.iter().map(move |&r| (j, r)))
        .map(|(j, r)| qk[r * ncolp + j])
        .collect();
    let tail0: Vec<f64> = tail_rows.iter().map(|&r| qk[r * ncolp + nspl]).collect();
    let clamp_w: Vec<f64> = (0..nt)
        .map(|q| {
            if q < nclamp {
                p.clamp_lo.abs()
            } else {
                p.clamp_hi.abs()
            }
        })
        .collect();
    // MᵀM of the constant FT block of the Jacobian, once.
    let mut mtm = vec![0.0; nspl * nspl];
    for a in 0..nspl {
        for b in a..nspl {
            let v: f64 = mcols[a * nft..(a + 1) * nft]
                .iter()
                .zip(&mcols[b * nft..(b + 1) * nft])
                .map(|(x, y)| x * y)
                .sum();
            mtm[a * nspl + b] = v;
            mtm[b * nspl + a] = v;
        }
    }
    Ok(Design {
        nspl,
        nk,
        nft,
        nt,
        m,
        basis_at_data,
        qk,
        ncolp,
        ftm,
        ccols,
        tail0,
        clamp_w,
        mtm,
    })
}

impl Design {
    /// Residual r(c) = [u0 − M c ; w·s(c)·(t0 − C c)] with s = 0.1 + 10·mean(FT²)
    /// (Larch `_resid`); returns the cost and fills the normal equations.
    /// `rft` (nft) and `t` (nt) are scratch.
    fn cost(
        &self,
        c: &[f64],
        rft: &mut [f64],
        t: &mut [f64],
        normal: Option<(&mut [f64], &mut [f64])>,
    ) -> f64 {
        let (nspl, nft, nt) = (self.nspl, self.nft, self.nt);
        let u0 = &self.ftm[nspl * nft..];
        let mcols = &self.ftm[..nspl * nft];
        let (ccols, tail0, clamp_w) = (&self.ccols, &self.tail0, &self.clamp_w);
        rft.copy_from_slice(u0);
        for (j, &cj) in c.iter().enumerate() {
            for (r, &mv) in rft.iter_mut().zip(&mcols[j * nft..(j + 1) * nft]) {
                *r -= mv * cj;
            }
        }
        let ss: f64 = rft.iter().map(|v| v * v).sum();
        let s = 0.1 + 10.0 * ss / nft as f64;
        let mut cost = ss;
        for q in 0..nt {
            t[q] = tail0[q] - (0..nspl).map(|j| ccols[j * nt + q] * c[j]).sum::<f64>();
            let rc = clamp_w[q] * s * t[q];
            cost += rc * rc;
        }
        if let Some((jtj, jtr)) = normal {
            // ∂s/∂c_j = (20/nft) Σ_i r_i ∂r_i/∂c_j with ∂r_ft/∂c = −M.
            let mut ds = vec![0.0; nspl];
            for j in 0..nspl {
                let mr: f64 = mcols[j * nft..(j + 1) * nft]
                    .iter()
                    .zip(rft.iter())
                    .map(|(a, b)| a * b)
                    .sum();
                ds[j] = -20.0 * mr / nft as f64;
                jtr[j] = mr; // −Jᵀr for the FT block: Mᵀ r
            }
            jtj.copy_from_slice(&self.mtm);
            let mut jrow = vec![0.0; nspl];
            for q in 0..nt {
                let rc = clamp_w[q] * s * t[q];
                for j in 0..nspl {
                    jrow[j] = clamp_w[q] * (-s * ccols[j * nt + q] + t[q] * ds[j]);
                }
                for a in 0..nspl {
                    jtr[a] -= jrow[a] * rc;
                    for b in 0..nspl {
                        jtj[a * nspl + b] += jrow[a] * jrow[b];
                    }
                }
            }
        }
        cost
    }
}

/// The best spline coefficients, the cost and normal matrix JᵀJ there.
struct Solution {
    c: Vec<f64>,
    cost: f64,
    jtj: Vec<f64>,
    iterations: usize,
}

/// Gauss–Newton from `c0`, with Levenberg damping only when a step fails.
fn solve(d: &Design, c0: &[f64]) -> Solution {
    let nspl = d.nspl;
    let mut rft = vec![0.0; d.nft];
    let mut t = vec![0.0; d.nt];
    let mut c = c0.to_vec();
    let mut jtj = vec![0.0; nspl * nspl];
    let mut jtr = vec![0.0; nspl];
    let mut f = d.cost(&c, &mut rft, &mut t, Some((&mut jtj, &mut jtr)));
    let mut lambda = 0.0;
    let mut iterations = 0;
    let mut trial = vec![0.0; nspl];
    let mut a = vec![0.0; nspl * nspl];
    while iterations < 100 {
        iterations += 1;
        a.copy_from_slice(&jtj);
        for i in 0..nspl {
            a[i * nspl + i] *= 1.0 + lambda;
        }
        let mut rhs = jtr.clone();
        let Some(step) = solve_dense(&mut a, &mut rhs, nspl) else {
            break;
        };
        let step_norm = step.iter().map(|v| v * v).sum::<f64>().sqrt();
        let c_norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        for j in 0..nspl {
            trial[j] = c[j] + step[j];
        }
        let ft = d.cost(&trial, &mut rft, &mut t, None);
        if ft <= f {
            c.copy_from_slice(&trial);
            let rel = (f - ft) / f.max(1e-300);
            f = d.cost(&c, &mut rft, &mut t, Some((&mut jtj, &mut jtr)));
            lambda *= 0.1;
            if rel < 1e-12 || step_norm <= 1e-12 * (c_norm + 1e-12) {
                break;
            }
        } else {
            if step_norm <= 1e-10 * (c_norm + 1e-12) {
                break;
            }
            lambda = if lambda == 0.0 { 1e-3 } else { lambda * 10.0 };
            if lambda > 1e8 {
                break;
            }
        }
    }
    Solution {
        c,
        cost: f,
        jtj,
        iterations,
    }
}

/// Uncertainty of χ(k) from the spline covariance (Larch
/// `autobk_delta_chi`, err_sigma = 1): covar = (JᵀJ)⁻¹ at the best
/// coefficients, propagated through ∂χ/∂c (the columns of `qk`, in μ units
/// as Larch leaves them, not divided by the edge step). Empty when not
/// asked for or the covariance is singular.
fn delta_chi(d: &Design, s: &Solution, p: &AutobkParams) -> Vec<f64> {
    let (nspl, nk) = (d.nspl, d.nk);
    let redchi = s.cost / (d.nft as f64 + 2.0 * p.nclamp as f64 - nspl as f64);
    // Cholesky JᵀJ = L Lᵀ, so qᵀ(JᵀJ)⁻¹q = |L⁻¹q|².
    let mut l = s.jtj.clone();
    let mut ok = p.calc_uncertainties && redchi.is_finite() && redchi > 0.0;
    for j in 0..nspl {
        if !ok {
            break;
        }
        let mut pivot = l[j * nspl + j];
        for q in 0..j {
            pivot -= l[j * nspl + q] * l[j * nspl + q];
        }
        if pivot.is_nan() || pivot <= 0.0 {
            ok = false;
            break;
        }
        let pivot = pivot.sqrt();
        l[j * nspl + j] = pivot;
        for i in j + 1..nspl {
            let mut v = l[i * nspl + j];
            for q in 0..j {
                v -= l[i * nspl + q] * l[j * nspl + q];
            }
            l[i * nspl + j] = v / pivot;
        }
    }
    if !ok {
        return Vec::new();
    }
    // Φ(1): the one-sigma probability Larch passes to t.ppf.
    let tq = student_t_ppf(0.841_344_746_068_542_9, nk as f64 - nspl as f64);
    let mut z = vec![0.0; nspl];
    let dchi: Vec<f64> = (0..nk)
        .map(|r| {
            let mut var = 0.0;
            for i in 0..nspl {
                let mut v = d.qk[r * d.ncolp + i];
                for q in 0..i {
                    v -= l[i * nspl + q] * z[q];
                }
                z[i] = v / l[i * nspl + i];
                var += z[i] * z[i];
            }
            tq * (var * redchi).sqrt()
        })
        .collect();
    if dchi.iter().all(|v| v.is_finite()) {
        dchi
    } else {
        Vec::new()
    }
}

/// The background μ₀ and χ(k) at the solution.
fn finish(g: Grid, d: &Design, s: Solution, delta_chi: Vec<f64>) -> Result<Autobk, XasError> {
    let (m, nk, iek0, edge_step) = (d.m, d.nk, g.iek0, g.edge_step);
    let mut bkg_k = vec![0.0; m];
    d.basis_at_data.eval_into(&s.c, &mut bkg_k);
    // χ(kout) is the interpolating spline through μ − μ₀ at the data (Larch
    // `spline_eval`), a linear map already applied to μ and to every basis
    // column: χ = S·μ − Σ_j c_j S·B_j.
    let ncolp = d.ncolp;
    let chi: Vec<f64> =
        d.qk.chunks_exact(ncolp)
            .take(nk)
            .map(|row| {
                let bkg: f64 = row[..d.nspl].iter().zip(&s.c).map(|(q, c)| q * c).sum();
                (row[d.nspl] - bkg) / edge_step
            })
            .collect();
    let mut bkg = g.mu.clone();
    bkg[iek0..iek0 + m].copy_from_slice(&bkg_k);
    let chie =
        g.mu.iter()
            .zip(&bkg)
            .map(|(a, b)| (a - b) / edge_step)
            .collect();
    if chi.iter().any(|v| !v.is_finite()) {
        return Err(XasError::NoEdge("AUTOBK produced non-finite χ(k)".into()));
    }
    Ok(Autobk {
        ek0: g.ek0,
        edge_step,
        rbkg: g.rbkg,
        kmin: g.kmin,
        kmax: g.kmax,
        nknots: g.nspl,
        irbkg: g.irbkg,
        iterations: s.iterations,
        energy_ev: g.energy,
        bkg,
        chie,
        k_inv_ang: g.kout,
        chi,
        knots_k: g.spl_k,
        knots_y: s.c,
        delta_chi,
    })
}

/// Entries of the cached DFT table above which the table is made a block
/// of rows at a time instead (8 MiB; Larch's defaults need about 20,000,
/// rbkg near 10 Å with nfft 65536 about 10⁸).
const DFT_TABLE_MAX: usize = 1 << 20;

/// Call `f(table, stride, rows)` over `0..rows` with the table
/// T[i][2f..2f+2] = (cos, −sin)(2π·i·f/nfft), f < `freqs`, whose first row
/// is row `rows.start`. Tables of at most `max` entries are kept per thread
/// and size and grown when a call needs more (their entries do not depend
/// on the size, so a larger table serves smaller calls) and `f` runs once;
/// larger ones are made `max` entries at a time, `f` running on each block
/// in order.
fn dft_table_blocks(
    nfft: usize,
    rows: usize,
    freqs: usize,
    max: usize,
    mut f: impl FnMut(&[f64], usize, std::ops::Range<usize>),
) {
    use std::cell::RefCell;
    struct Table {
        nfft: usize,
        rows: usize,
        freqs: usize,
        v: Vec<f64>,
    }
    // cos and sin of 2πi/nfft, made only when a table is built.
    let twiddles = std::cell::OnceCell::new();
    let build = |rows: std::ops::Range<usize>, freqs: usize| {
        let (cos_t, sin_t): &(Vec<f64>, Vec<f64>) = twiddles.get_or_init(|| {
            (0..nfft)
                .map(|i| (2.0 * PI * i as f64 / nfft as f64).sin_cos())
                .map(|(s, c)| (c, s))
                .unzip()
        });
        let mut v = vec![0.0; rows.len() * 2 * freqs];
        for (i, row) in rows.zip(v.chunks_exact_mut(2 * freqs)) {
            let step = i % nfft;
            let mut idx = 0usize;
            for pair in row.chunks_exact_mut(2) {
                pair[0] = cos_t[idx];
                pair[1] = -sin_t[idx];
                idx += step;
                if idx >= nfft {
                    idx -= nfft;
                }
            }
        }
        v
    };
    if rows * 2 * freqs > max {
        let block = (max / (2 * freqs).max(1)).max(1);
        for r0 in (0..rows).step_by(block) {
            let r1 = (r0 + block).min(rows);
            f(&build(r0..r1, freqs), 2 * freqs, r0..r1);
        }
        return;
    }
    thread_local! {
        static CACHE: RefCell<Vec<Table>> = const { RefCell::new(Vec::new()) };
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let pos = match c.iter().position(|t| t.nfft == nfft) {
            Some(pos) => pos,
            None => {
                c.push(Table {
                    nfft,
                    rows: 0,
                    freqs: 0,
                    v: Vec::new(),
                });
                c.len() - 1
            }
        };
        let t = &mut c[pos];
        if t.rows < rows || t.freqs < freqs {
            // Grow with room to spare so a batch of similar spectra builds it once.
            let (r, q) = (rows.max(t.rows).max(512), freqs.max(t.freqs).max(40));
            let (r, q) = if r * 2 * q > max {
                (rows, freqs)
            } else {
                (r, q)
            };
            t.v = build(0..r, q);
            t.rows = r;
            t.freqs = q;
        }
        f(&t.v, 2 * t.freqs, 0..rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table too large to keep is made in blocks: the GEMM over the blocks
    /// equals the GEMM over the whole (cached) table, and no block exceeds
    /// the bound.
    #[test]
    fn dft_table_blocks_equal_the_whole_table() {
        let (nfft, rows, freqs, ncol) = (2048, 37, 24, 3);
        let at: Vec<f64> = (0..rows * ncol)
            .map(|i| ((i * 29 % 53) as f64 - 26.0) / 9.0)
            .collect();
        let run = |max: usize| {
            let mut out = vec![0.0; ncol * 2 * freqs];
            let mut largest = 0;
            dft_table_blocks(nfft, rows, freqs, max, |table, ldb, k| {
                largest = largest.max(table.len());
                gemm_tn_acc(
                    &mut out,
                    GemmTn {
                        at: &at[k.start * ncol..k.end * ncol],
                        rows: ncol,
                        b: table,
                        ldb,
                        inner: k.len(),
                        ncol: 2 * freqs,
                    },
                )
            });
            (out, largest)
        };
        let (whole, _) = run(DFT_TABLE_MAX);
        let (blocked, largest) = run(500);
        assert!(largest <= 500, "a block of {largest} entries");
        assert_eq!(whole, blocked);
        // Output row 0, frequency 3: Σ_i A[i][0]·(cos, −sin)(2π·3i/nfft).
        let angle = |i: usize| 2.0 * PI * (3 * i) as f64 / nfft as f64;
        let re: f64 = (0..rows).map(|i| at[i * ncol] * angle(i).cos()).sum();
        let im: f64 = (0..rows).map(|i| -at[i * ncol] * angle(i).sin()).sum();
        assert!((whole[6] - re).abs() < 1e-12, "{} vs {re}", whole[6]);
        assert!((whole[7] - im).abs() < 1e-12, "{} vs {im}", whole[7]);
    }
}
