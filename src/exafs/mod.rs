//! EXAFS modelling: scattering paths from FEFF, the EXAFS equation,
//! parameter expressions, Levenberg–Marquardt and Larch's `feffit`.

pub mod expr;
pub mod feffit;
pub mod model;
pub mod path;
pub mod plan;
pub mod sigma2;

pub use feffit::{Feffit, FitModel, FitResult};
pub use path::{PathChi, PathModel, PathParams};
