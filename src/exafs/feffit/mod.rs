//! Larch's `feffit` (larch/xafs/feffit.py): sums of FEFF paths fitted to
//! χ(k) in R, k or q space, with several k-weights and several datasets
//! sharing parameters, and the statistics Larch reports.
//!
//! The model is built from plain values ([`FitModel`]); [`Feffit::new`]
//! compiles every expression once and prepares each dataset (model k grid,
//! data on it, windows, noise estimates), after which a residual evaluation
//! touches no text.

use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, Ordering};

use num_complex::Complex64;
use serde::Serialize;

use super::expr::{CONTEXT, Expr, PathContext};
use super::model::DataSpec;
use super::path::{PathModel, PathParams, PathTables};
use crate::io::feff::FeffPath;
use crate::numeric::fft::fft_plan;
use crate::numeric::interp::interp_clamped;
use crate::numeric::lm::{self, LmError, LmOptions, LmParams};
use crate::xas::fourier::{Window, ftwindow, xftf_fast};

mod engine;
mod model;
mod prepare;
mod report;
mod result;

pub use engine::Feffit;
pub use model::{
    DatasetDef, FitData, FitError, FitModel, FitSpace, PATH_PARS, ParamDef, PathDef, PathValue,
    Transform, check_param_name,
};
pub use report::report;
pub use result::{DatasetResult, EpsilonK, FitResult, FitStats, ParamResult, PathResult};

use engine::fftf;
use model::{names_table, uses_name};
use prepare::{PathPar, Prepared, PreparedPath};
