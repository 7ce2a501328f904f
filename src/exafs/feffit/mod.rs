//! Larch's `feffit` (larch/xafs/feffit.py): sums of FEFF paths fitted to
//! χ(k) in R, k or q space, with several k-weights and several datasets
//! sharing parameters, and the statistics Larch reports.
//!
//! The model is built from plain values ([`FitModel`]); [`Feffit::new`]
//! compiles every expression once and prepares each dataset (model k grid,
//! data on it, windows, noise estimates), after which a residual evaluation
//! touches no text.

mod engine;
mod model;
mod prepare;
mod report;
mod result;

pub use engine::Feffit;
pub use model::{
    DatasetDef, FitData, FitError, FitModel, FitSpace, PATH_PARS, ParamDef, PathDef, PathValue,
    Transform, TransformError, check_param_name,
};
pub use report::report;
pub use result::{DatasetResult, EpsilonK, FitResult, FitStats, ParamResult, PathResult};
