//! XANES results held by the store (one field, `Store::xanes`): LCF
//! combinations per spectrum, the PCA model with its target transforms, and
//! pre-edge peak fits per spectrum, and a PLS fit against target values. The XANES view draws them; the core
//! (`crate::xanes`) computes them from the store's spectra.

use std::collections::BTreeMap;

use super::workspace::{Input, Item};
use crate::xanes::{LcfFit, LcfParams, PcaFit, PcaModel, PrePeakBaseline, PrePeakFit, XanesGroup};

/// Everything the XANES analyses produced, by store id.
#[derive(Debug, Default)]
pub struct XanesResults {
    /// Ranked combinations (best reduced χ² first) per fitted spectrum.
    pub lcf: BTreeMap<u64, LcfEntry>,
    pub pca: Option<PcaEntry>,
    pub peaks: BTreeMap<u64, PeakEntry>,
    /// PLS of a set of spectra against target values.
    pub pls: Option<PlsEntry>,
}

/// A PLS fit: the spectra (store ids, in the report's order) and the report.
#[derive(Debug, Clone)]
pub struct PlsEntry {
    pub ids: Vec<u64>,
    pub report: crate::latent::pls::PlsReport,
}

/// LCF of one spectrum against the standards it was fitted with.
#[derive(Debug, Clone)]
pub struct LcfEntry {
    pub standards: Vec<u64>,
    pub fits: Vec<LcfFit>,
}

/// A trained PCA model and the target transforms of the standards.
#[derive(Debug, Clone)]
pub struct PcaEntry {
    pub train: Vec<u64>,
    pub model: PcaModel,
    pub targets: Vec<(u64, PcaFit)>,
}

/// The pre-edge baseline of one spectrum and, with peak starts, its fit.
#[derive(Debug, Clone)]
pub struct PeakEntry {
    pub base: PrePeakBaseline,
    pub fit: Option<PrePeakFit>,
}

impl XanesResults {
    /// Forget results of items no longer in the store.
    pub fn retain(&mut self, alive: impl Fn(u64) -> bool) {
        self.lcf.retain(|id, _| alive(*id));
        self.peaks.retain(|id, _| alive(*id));
        if let Some(p) = &self.pca
            && !p.train.iter().all(|id| alive(*id))
        {
            self.pca = None;
        }
        if let Some(p) = &self.pls
            && !p.ids.iter().all(|id| alive(*id))
        {
            self.pls = None;
        }
    }
}

/// An item's μ(E) normalized with its own pre-edge parameters.
pub fn xanes_group(item: &Item) -> Result<XanesGroup, String> {
    let s = item
        .spectrum()
        .ok_or_else(|| format!("{}: not a spectrum", item.name))?;
    let Input::Mu(x) = s.input.as_ref() else {
        return Err(format!("{}: a χ(k) file has no μ(E) for XANES", item.name));
    };
    XanesGroup::from_mu(&item.name, &x.energy_ev, &x.mu, &s.params.pre_edge)
        .map_err(|e| e.to_string())
}

/// How many fits [`fit_lcf`] runs per spectrum (its task's progress).
pub fn lcf_fits_per_spectrum(n_standards: usize, max_ncomps: usize) -> usize {
    let p = LcfParams {
        max_ncomps: Some(max_ncomps),
        ..LcfParams::default()
    };
    usize::try_from(crate::xanes::fitall_count(n_standards, &p)).unwrap_or(usize::MAX)
}

/// `lincombo_fitall` of one sample against the standards, with the range
/// relative to the sample's e0; `go_on` is called after each fit and stops
/// the run when it returns false.
pub fn fit_lcf(
    sample: &XanesGroup,
    standards: &[XanesGroup],
    emin_rel_ev: f64,
    emax_rel_ev: f64,
    max_ncomps: usize,
    sum_to_one: bool,
    go_on: &mut dyn FnMut() -> bool,
) -> Result<Vec<LcfFit>, String> {
    let p = LcfParams {
        xmin_ev: sample.e0_ev + emin_rel_ev,
        xmax_ev: sample.e0_ev + emax_rel_ev,
        sum_to_one,
        max_ncomps: Some(max_ncomps),
        max_output: 50,
        ..LcfParams::default()
    };
    let refs: Vec<&XanesGroup> = standards.iter().collect();
    crate::xanes::lincombo_fitall_with(sample, &refs, &p, go_on)
        .map_err(|e| format!("{}: LCF: {e}", sample.label))
}
