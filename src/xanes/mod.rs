//! XANES analysis as Larch does it: linear combination fitting
//! (`larch.math.lincombo_fitting`) on normalized μ(E) or its derivative, and
//! PCA (`larch.math.pca`), the pre-edge peak baseline, centroid and peak fit (`larch.xafs.prepeaks`),
//! and edge descriptors.
//! Every group is normalized with Carto's `pre_edge` (equal to Larch's) first.

pub mod edge;
pub mod lcf;
pub mod pca;
pub mod peaks;
pub mod standards;

pub use edge::{EdgeDescriptors, edge_descriptors};
pub use lcf::{
    LcfFit, LcfParams, ParamValue, fitall_count, lincombo_fit, lincombo_fitall,
    lincombo_fitall_with,
};
pub use pca::{PcaFit, PcaModel, TargetTest, pca_fit, pca_train, target_test};
pub use peaks::{
    BaselineForm, BaselinePart, PeakShape, PrePeakBaseline, PrePeakFit, PrePeakRange, StepForm,
    fit_prepeaks, pre_edge_baseline,
};

use crate::numeric::diff::deriv;
use crate::numeric::lm::LmError;
use crate::xas::{PreEdge, PreEdgeParams, XasError, pre_edge};

/// Why a XANES analysis could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XanesError {
    // The inner errors are printed in the message, not also chained as a
    // `source` (anyhow's `{:#}` would print them twice).
    #[error("{label}: {error}")]
    Normalize { label: String, error: XasError },
    #[error("{0}")]
    Input(String),
    #[error("least-squares fit failed: {0}")]
    Fit(LmError),
}

impl From<LmError> for XanesError {
    fn from(e: LmError) -> Self {
        XanesError::Fit(e)
    }
}

/// Which array of a normalized group an analysis uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XanesArray {
    /// Normalized μ(E) (Larch `norm`).
    #[default]
    Norm,
    /// d(norm)/dE (Larch `dmude`: `gradient(norm)/gradient(energy)`).
    Dmude,
}

impl XanesArray {
    /// Larch's array name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Norm => "norm",
            Self::Dmude => "dmude",
        }
    }
}

/// A spectrum normalized for XANES analysis, labelled as Larch labels groups.
#[derive(Debug, Clone, PartialEq)]
pub struct XanesGroup {
    pub label: String,
    pub energy_ev: Vec<f64>,
    pub norm: Vec<f64>,
    pub dmude: Vec<f64>,
    pub e0_ev: f64,
    pub edge_step: f64,
}

impl XanesGroup {
    /// Normalize μ(E) with `pre_edge` and derive dμ/dE as Larch's `pre_edge` does.
    pub fn from_mu(
        label: impl Into<String>,
        energy_ev: &[f64],
        mu: &[f64],
        params: &PreEdgeParams,
    ) -> Result<Self, XanesError> {
        let label = label.into();
        let pre = pre_edge(energy_ev, mu, params).map_err(|error| XanesError::Normalize {
            label: label.clone(),
            error,
        })?;
        Ok(Self::from_pre_edge(label, pre))
    }

    /// A group from `pre_edge`'s output (no second normalization).
    pub fn from_pre_edge(label: impl Into<String>, pre: PreEdge) -> Self {
        let dmude = deriv(&pre.energy_ev, &pre.norm);
        Self {
            label: label.into(),
            dmude,
            e0_ev: pre.e0,
            edge_step: pre.edge_step,
            energy_ev: pre.energy_ev,
            norm: pre.norm,
        }
    }

    /// The array an analysis asked for.
    pub fn array(&self, which: XanesArray) -> &[f64] {
        match which {
            XanesArray::Norm => &self.norm,
            XanesArray::Dmude => &self.dmude,
        }
    }
}
