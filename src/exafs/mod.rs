//! EXAFS modelling: scattering paths from FEFF and the EXAFS equation.
//! (Fitting, parameters with expressions and statistics come next.)

pub mod expr;
pub mod lm;
pub mod path;
pub mod sigma2;

pub use path::{PathChi, PathModel, PathParams};
