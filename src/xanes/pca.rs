//! Principal component analysis as Larch's `pca_train` / `pca_fit`
//! (`larch/math/pca.py`): spectra on the first one's grid, standardized,
//! eigen-decomposition of their correlation matrix, IND for the number of
//! components, and the target transform of a candidate with a fitted scale;
//! beyond Larch, Malinowski's target test (SPOIL) from an abstract factor
//! analysis of the raw data matrix.

use serde::Serialize;

use super::lcf::{fit_arrays, lstsq};
use super::{LcfParams, XanesArray, XanesError, XanesGroup};
use crate::numeric::interp::{InterpKind, interp};
use crate::numeric::lm::{LmOptions, LmParams, minimize};

/// A trained model (Larch's `pca_train` group).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcaModel {
    pub labels: Vec<String>,
    pub array: XanesArray,
    /// Energies of the first spectrum within [xmin, xmax].
    pub energy_ev: Vec<f64>,
    /// Mean spectrum over the training set.
    pub mean: Vec<f64>,
    /// Components, largest eigenvalue first, each on `energy_ev`.
    pub components: Vec<Vec<f64>>,
    pub eigenvalues: Vec<f64>,
    /// Explained variance: eigenvalue / Σ eigenvalues.
    pub variances: Vec<f64>,
    /// Malinowski's indicator function as Larch computes it (its first
    /// value repeated, so `ind[r]` has Larch's indexing).
    pub ind: Vec<f64>,
    /// Index of the IND minimum (Larch's `nsig`).
    pub nsig: usize,
    /// Eigenvalue criterion (Kaiser–Guttman): components whose eigenvalue
    /// exceeds the mean eigenvalue, i.e. explained variance above 1/n.
    pub n_kaiser: usize,
    pub xmin_ev: f64,
    pub xmax_ev: f64,
    /// Malinowski's abstract factor analysis of the raw (uncentered) data
    /// matrix: its eigenvalues (squared singular values), largest first.
    pub afa_eigenvalues: Vec<f64>,
    /// The matching unit row factors (left singular vectors) on `energy_ev`.
    pub afa_factors: Vec<Vec<f64>>,
}

/// Larch's `pca_train` on `groups` over [xmin, xmax] of `array`.
pub fn pca_train(
    groups: &[&XanesGroup],
    array: XanesArray,
    xmin_ev: f64,
    xmax_ev: f64,
) -> Result<PcaModel, XanesError> {
    let narr = groups.len();
    if narr < 2 {
        return Err(XanesError::Input(format!(
            "PCA needs at least 2 spectra, got {narr}"
        )));
    }
    let p = LcfParams {
        array,
        xmin_ev,
        xmax_ev,
        ..LcfParams::default()
    };
    let (xdat, first, rest) = fit_arrays(groups[0], &groups[1..], &p)?;
    let mut ydat = vec![first];
    ydat.extend(rest);
    let nfreq = xdat.len();
    let (afa_eigenvalues, afa_factors) = abstract_factors(&ydat);
    let mean: Vec<f64> = (0..nfreq)
        .map(|j| ydat.iter().map(|y| y[j]).sum::<f64>() / narr as f64)
        .collect();
    // each spectrum minus the mean, then standardized over energy
    let z: Vec<Vec<f64>> = ydat
        .iter()
        .map(|y| {
            let d: Vec<f64> = y.iter().zip(&mean).map(|(a, m)| a - m).collect();
            let mu = d.iter().sum::<f64>() / nfreq as f64;
            let sd = (d.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / nfreq as f64).sqrt();
            d.iter().map(|v| (v - mu) / sd).collect()
        })
        .collect();
    if z.iter().flatten().any(|v| !v.is_finite()) {
        return Err(XanesError::Input(
            "PCA: a spectrum equals the mean of the set (zero spread)".into(),
        ));
    }
    let cor = nalgebra::DMatrix::from_fn(narr, narr, |a, b| {
        z[a].iter().zip(&z[b]).map(|(x, y)| x * y).sum::<f64>() / narr as f64
    });
    let eig = nalgebra::SymmetricEigen::new(cor);
    let mut order: Vec<usize> = (0..narr).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let eigenvalues: Vec<f64> = order.iter().map(|&i| eig.eigenvalues[i]).collect();
    // component = −Z v / narr (Larch's sign, up to the solver's own sign of v)
    let components: Vec<Vec<f64>> = order
        .iter()
        .map(|&i| {
            let v = eig.eigenvectors.column(i);
            (0..nfreq)
                .map(|j| (0..narr).map(|a| z[a][j] * -v[a]).sum::<f64>() / narr as f64)
                .collect()
        })
        .collect();
    let total: f64 = eigenvalues.iter().sum();
    let variances = eigenvalues.iter().map(|e| e / total).collect();
    let mut ind = Vec::with_capacity(narr);
    for r in 0..narr - 1 {
        let nr = (narr - r - 1) as f64;
        let val = (nfreq as f64 * eigenvalues[r..].iter().sum::<f64>() / nr).sqrt() / (nr * nr);
        if ind.is_empty() {
            ind.push(val);
        }
        ind.push(val);
    }
    let nsig = ind
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    Ok(PcaModel {
        labels: groups.iter().map(|g| g.label.clone()).collect(),
        array,
        n_kaiser: {
            let mean = eigenvalues.iter().sum::<f64>() / narr as f64;
            eigenvalues.iter().filter(|&&e| e > mean).count()
        },
        energy_ev: xdat,
        mean,
        components,
        eigenvalues,
        variances,
        ind,
        nsig,
        xmin_ev,
        xmax_ev,
        afa_eigenvalues,
        afa_factors,
    })
}

/// SVD of the data matrix D (energies × spectra): eigenvalues s² and unit
/// row factors, largest first.
fn abstract_factors(ydat: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let nfreq = ydat[0].len();
    let d = nalgebra::DMatrix::from_fn(nfreq, ydat.len(), |j, a| ydat[a][j]);
    let svd = nalgebra::SVD::new(d, true, false);
    let Some(u) = svd.u else {
        return (Vec::new(), Vec::new());
    };
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let eig = order
        .iter()
        .map(|&i| svd.singular_values[i].powi(2))
        .collect();
    let fac = order
        .iter()
        .map(|&i| u.column(i).iter().copied().collect())
        .collect();
    (eig, fac)
}

/// Malinowski's target test of one candidate with n factors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetTest {
    /// Real error of the data, √(Σ error eigenvalues / (r (c − n))).
    pub re: f64,
    /// Apparent error in the target: rms of target − prediction.
    pub aet: f64,
    /// Real error in the prediction, RE·|t|.
    pub rep: f64,
    /// Real error in the target, √(AET² − REP²) (0 when AET < REP).
    pub ret: f64,
    /// RET / REP: < 3 a likely component, > 6 unacceptable (Malinowski).
    pub spoil: f64,
}

/// Target test, Malinowski, Anal. Chim. Acta 103, 339 (1978) (Factor Analysis
/// in Chemistry, 3rd ed., 2002, ch. 5): the target's least-squares prediction
/// from the first n row factors U·S with transformation vector t; None when
/// n leaves no error factors (n ≥ the number of spectra).
pub fn target_test(model: &PcaModel, target: &[f64], n: usize) -> Option<TargetTest> {
    let c = model.afa_eigenvalues.len();
    let r = target.len();
    if n == 0 || n >= c || r != model.energy_ev.len() {
        return None;
    }
    let re = (model.afa_eigenvalues[n..].iter().sum::<f64>() / (r * (c - n)) as f64).sqrt();
    let proj: Vec<f64> = model.afa_factors[..n]
        .iter()
        .map(|u| u.iter().zip(target).map(|(a, b)| a * b).sum())
        .collect();
    let t_norm = proj
        .iter()
        .zip(&model.afa_eigenvalues)
        .map(|(p, l)| p * p / l)
        .sum::<f64>()
        .sqrt();
    let sq: f64 = (0..r)
        .map(|j| {
            let pred: f64 = model.afa_factors[..n]
                .iter()
                .zip(&proj)
                .map(|(u, p)| u[j] * p)
                .sum();
            (pred - target[j]).powi(2)
        })
        .sum();
    let aet = (sq / r as f64).sqrt();
    let rep = re * t_norm;
    let ret = (aet * aet - rep * rep).max(0.0).sqrt();
    Some(TargetTest {
        re,
        aet,
        rep,
        ret,
        spoil: ret / rep,
    })
}

/// Target transform of one spectrum (Larch's `group.pca_result`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PcaFit {
    pub label: String,
    pub ncomps: usize,
    /// Weights of the components (their signs follow the components').
    pub weights: Vec<f64>,
    /// Σ (scaled data − fit)².
    pub chi_square: f64,
    /// Scale applied to the data (1 without rescale).
    pub data_scale: f64,
    pub energy_ev: Vec<f64>,
    /// The data on the model's grid, scaled.
    pub data: Vec<f64>,
    pub fit: Vec<f64>,
    /// Malinowski's target test (SPOIL) with the same number of factors.
    pub target_test: Option<TargetTest>,
}

/// Least-squares weights of `comps` for `y − mean` and the fit.
fn project(comps: &[Vec<f64>], mean: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let d: Vec<f64> = y.iter().zip(mean).map(|(a, m)| a - m).collect();
    let w = lstsq(comps, &d);
    let fit = (0..y.len())
        .map(|j| comps.iter().zip(&w).map(|(c, wi)| wi * c[j]).sum::<f64>() + mean[j])
        .collect();
    (w, fit)
}

/// Larch's `pca_fit(group, model, ncomps, rescale)`: the data over the model's
/// range on its own grid, interpolated (cubic) onto the model's energies; with
/// `rescale` a scale ≥ 0 of the data is fitted (lmfit leastsq, tolerances and
/// epsfcn 1e-5 as Larch), then the components are fitted by least squares.
pub fn pca_fit(
    group: &XanesGroup,
    model: &PcaModel,
    ncomps: Option<usize>,
    rescale: bool,
) -> Result<PcaFit, XanesError> {
    let ncomps = ncomps.unwrap_or(model.components.len());
    if ncomps == 0 || ncomps > model.components.len() {
        return Err(XanesError::Input(format!(
            "ncomps {ncomps}: the model has {} components",
            model.components.len()
        )));
    }
    let p = LcfParams {
        array: model.array,
        xmin_ev: model.xmin_ev,
        xmax_ev: model.xmax_ev,
        ..LcfParams::default()
    };
    let (xdat, ydat, _) = fit_arrays(group, &[], &p)?;
    let mut y = interp(&xdat, &ydat, &model.energy_ev, InterpKind::Cubic);
    let target_test = target_test(model, &y, ncomps);
    let comps = &model.components[..ncomps];
    let mut scale = 1.0;
    if rescale {
        let resid = |v: &[f64], out: &mut [f64]| {
            let scaled: Vec<f64> = y.iter().map(|a| a * v[0]).collect();
            let (_, fit) = project(comps, &model.mean, &scaled);
            for ((o, s), f) in out.iter_mut().zip(&scaled).zip(&fit) {
                *o = s - f;
            }
        };
        let opts = LmOptions {
            ftol: 1e-5,
            xtol: 1e-5,
            gtol: 1e-5,
            epsfcn: 1e-5,
            ..LmOptions::default()
        };
        let res = minimize(
            resid,
            &[LmParams::bounded(1.0, 0.0, f64::INFINITY)],
            y.len(),
            &opts,
        )?;
        scale = res.values[0];
        for v in &mut y {
            *v *= scale;
        }
    }
    let (weights, fit) = project(comps, &model.mean, &y);
    let chi_square = y.iter().zip(&fit).map(|(a, f)| (a - f) * (a - f)).sum();
    Ok(PcaFit {
        label: group.label.clone(),
        ncomps,
        weights,
        chi_square,
        data_scale: scale,
        energy_ev: model.energy_ev.clone(),
        data: y,
        fit,
        target_test,
    })
}
