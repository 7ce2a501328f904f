//! XAS processing with Larch's names, defaults and algorithms:
//! μ(E) → [`pre_edge`] → [`autobk`] → χ(k) → [`xftf`] → χ(R) → [`xftr`] → χ(q).

pub mod align;
pub mod autobk;
pub mod deglitch;
pub mod fourier;
pub mod math;
pub mod merge;
mod ops_util;
pub mod pre_edge;
pub mod rebin;

pub use autobk::{Autobk, AutobkParams, autobk};
pub use fourier::{ChiQ, ChiR, FtParams, Window, xftf, xftr};
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
