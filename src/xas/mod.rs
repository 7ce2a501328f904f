//! XAS processing with Larch's names, defaults and algorithms:
//! μ(E) → [`pre_edge`] → [`autobk`] → χ(k) → [`xftf`] → χ(R) → [`xftr`] → χ(q).

pub mod align;
pub mod autobk;
pub mod correct;
pub mod deglitch;
pub mod edges;
pub mod edit;
pub mod fourier;
pub mod merge;
mod ops_util;
pub mod options;
pub mod pre_edge;
pub mod process;
pub mod rebin;

pub use autobk::{Autobk, AutobkParams, autobk};
pub use fourier::{ChiQ, ChiR, FtParams, Window, xftf, xftr};
pub use options::{ChainOptions, OptionError};
pub use pre_edge::{PreEdge, PreEdgeParams, find_e0, pre_edge};

/// Why a processing step could not produce a meaningful result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XasError {
    #[error("not enough data: {0}")]
    TooFewPoints(String),
    #[error("energy array is not increasing at index {index} ({value} eV)")]
    NotMonotonic { index: usize, value: f64 },
    #[error("μ(E) has no edge: {0}")]
    NoEdge(String),
    #[error("non-finite value in {array} at index {index}")]
    NonFinite { array: &'static str, index: usize },
    #[error("invalid parameter {name} = {value}: {reason}")]
    BadParam {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("arrays differ in length: {0}")]
    Length(String),
}

/// Reject NaN/Inf before any processing step sees them.
pub fn check_finite(array: &'static str, values: &[f64]) -> Result<(), XasError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(XasError::NonFinite { array, index }),
        None => Ok(()),
    }
}

/// Parameters of the whole chain pre_edge → autobk → xftf.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ChainParams {
    pub pre_edge: PreEdgeParams,
    pub autobk: AutobkParams,
    pub ft: FtParams,
}

/// Everything the chain produces for one spectrum.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChainResult {
    pub pre: PreEdge,
    pub bkg: Autobk,
    pub chir: ChiR,
}

/// Run pre_edge → autobk → xftf on one μ(E) spectrum given as arrays (the
/// benchmarks and fuzz targets; [`process::run`] is the pipeline with edits,
/// χ(k) input and errors tagged by step). The FT's kmax is limited to the
/// end of χ(k).
pub fn process(energy_ev: &[f64], mu: &[f64], p: &ChainParams) -> Result<ChainResult, XasError> {
    let (pre, bkg) =
        process::mu_to_chi(energy_ev, mu, p).map_err(process::ProcessError::into_xas_error)?;
    let mut ft = p.ft.clone();
    let kend = bkg.k_inv_ang.last().copied().unwrap_or(0.0);
    if ft.kmax > kend {
        ft.kmax = kend;
    }
    let chir = xftf(&bkg.k_inv_ang, &bkg.chi, &ft)?;
    Ok(ChainResult { pre, bkg, chir })
}
