//! Corrections of a measured μ(E) before processing, in Athena's order:
//! deglitch → energy shift and alignment to a reference → rebin, each only
//! when asked for (`carto xas`, and `carto batch` later). Deglitch and the
//! shift are steps of the edit journal ([`super::edit`]); the rebin here
//! works on the sorted spectrum pre_edge sees and drops empty bins, which
//! the journal's `Rebin` (replayed on the data as read) does not.

use serde::Serialize;

use super::deglitch::{DeglitchParams, PointSelection};
use super::edit::Edit;
use super::process::{ProcessError, XasInput, edit};
use super::rebin::{RebinParams, rebin_xafs};
use super::{PreEdgeParams, XasError, align, pre_edge};
use crate::io::XasSpectrum;

/// What to correct.
#[derive(Debug, Clone, Copy, Default)]
pub struct Corrections<'a> {
    /// Remove the points nearest these energies (eV).
    pub deglitch_ev: &'a [f64],
    /// Add this to the energies (eV), before any alignment.
    pub eshift_ev: Option<f64>,
    /// Align to this reference (its name, for the record, and its μ(E)):
    /// the shift that matches the normalized spectra (Larch `energy_align`).
    pub align_to: Option<(&'a str, &'a XasSpectrum)>,
    /// Rebin onto Larch's default XAFS grid (`rebin_xafs`) at the e0 of the
    /// spectrum as corrected so far.
    pub rebin: bool,
}

/// What the corrections did (`corrections` of `carto xas --json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Corrected {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deglitched_energies: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub align_shift: Option<f64>,
    /// The whole shift applied: the given one plus the alignment's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eshift: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebinned_npts: Option<usize>,
}

/// Which correction failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CorrectionError {
    #[error("deglitch: {0}")]
    Deglitch(String),
    #[error("energy shift {0}: must be a finite shift below 1000 eV")]
    Eshift(f64),
    /// The total shift (given + aligned) could not be applied.
    #[error("energy shift: {0}")]
    Shift(String),
    #[error("reference pre_edge: {0}")]
    ReferencePreEdge(XasError),
    /// pre_edge of the spectrum itself (for the alignment or the rebin's e0).
    #[error("pre-edge: {0}")]
    PreEdge(XasError),
    #[error("alignment: {0}")]
    Align(XasError),
    #[error("rebin: {0}")]
    Rebin(XasError),
}

/// One journal step on `s`; the reason of a failure without the journal's
/// step number (there is one step).
fn edit_step(s: XasSpectrum, step: Edit) -> Result<XasSpectrum, String> {
    match edit(&XasInput::Mu(s), std::slice::from_ref(&step)) {
        Ok(edited) => match edited.into_owned() {
            XasInput::Mu(x) => Ok(x),
            XasInput::Chi(_) => Err("an edit of μ(E) gave χ(k)".into()),
        },
        Err(ProcessError::Edit(XasError::BadParam { reason, .. })) => Err(reason),
        Err(e) => Err(e.to_string()),
    }
}

/// The points of `before` missing from `after` (`after` keeps the rest in
/// order, as deglitching does).
fn removed_points(before: &[f64], after: &[f64]) -> Vec<f64> {
    let mut rest = after.iter().peekable();
    before
        .iter()
        .filter(|&&e| {
            if rest.peek() == Some(&&e) {
                rest.next();
                false
            } else {
                true
            }
        })
        .copied()
        .collect()
}

/// Apply `c` to `s` (one step at a time: alignment and rebinning read the
/// spectrum as the steps before them left it); `pre_edge_params` are those
/// of the processing that follows.
pub fn correct(
    s: XasSpectrum,
    c: &Corrections,
    pre_edge_params: &PreEdgeParams,
) -> Result<(XasSpectrum, Corrected), CorrectionError> {
    let mut done = Corrected::default();
    let mut s = s;
    if !c.deglitch_ev.is_empty() {
        let params = DeglitchParams {
            remove: c
                .deglitch_ev
                .iter()
                .map(|&e| PointSelection::Energy { energy_ev: e })
                .collect(),
            replace: false,
        };
        let before = s.energy_ev.clone();
        s = edit_step(s, Edit::Deglitch(params)).map_err(CorrectionError::Deglitch)?;
        done.deglitched_energies = Some(removed_points(&before, &s.energy_ev));
    }
    let mut shift = 0.0;
    if let Some(e) = c.eshift_ev {
        if !e.is_finite() || e.abs() > 1000.0 {
            return Err(CorrectionError::Eshift(e));
        }
        shift += e;
    }
    let mut reference = None;
    if let Some((name, r)) = c.align_to {
        let cur = &s;
        let rpre = pre_edge(&r.energy_ev, &r.mu, &PreEdgeParams::default())
            .map_err(CorrectionError::ReferencePreEdge)?;
        let shifted: Vec<f64> = cur.energy_ev.iter().map(|e| e + shift).collect();
        let spre =
            pre_edge(&shifted, &cur.mu, pre_edge_params).map_err(CorrectionError::PreEdge)?;
        let al = align::energy_align(
            &spre.energy_ev,
            &spre.norm,
            &rpre.energy_ev,
            &rpre.norm,
            rpre.e0,
            &Default::default(),
        )
        .map_err(CorrectionError::Align)?;
        shift += al.eshift_ev;
        done.aligned_to = Some(name.to_string());
        done.align_shift = Some(al.eshift_ev);
        reference = Some(name.to_string());
    }
    if shift != 0.0 {
        let step = Edit::Shift {
            eshift_ev: shift,
            reference,
        };
        s = edit_step(s, step).map_err(CorrectionError::Shift)?;
        done.eshift = Some(shift);
    }
    if c.rebin {
        let pre =
            pre_edge(&s.energy_ev, &s.mu, pre_edge_params).map_err(CorrectionError::PreEdge)?;
        let params = RebinParams {
            e0: Some(pre.e0),
            ..Default::default()
        };
        let r = rebin_xafs(&pre.energy_ev, &pre.mu, &params).map_err(CorrectionError::Rebin)?;
        // Bins holding no input point are NaN in Larch too: drop them.
        let keep: Vec<usize> = (0..r.mu.len()).filter(|&i| r.mu[i].is_finite()).collect();
        s.energy_ev = keep.iter().map(|&i| r.energy_ev[i]).collect();
        s.mu = keep.iter().map(|&i| r.mu[i]).collect();
        done.rebinned_npts = Some(s.energy_ev.len());
    }
    Ok((s, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_points_follow_the_order_of_the_data() {
        let before = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(removed_points(&before, &[1.0, 3.0, 5.0]), vec![2.0, 4.0]);
        assert_eq!(removed_points(&before, &before), Vec::<f64>::new());
    }
}
