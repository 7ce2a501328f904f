//! Numerical methods that are not physics, shared by every modality: least
//! squares (Levenberg–Marquardt, NNLS, dense solves), B-splines,
//! interpolation and grids, smoothing, special functions, peak shapes, FFT
//! plans and the vectorised kernels of the hot loops. Each routine
//! reproduces the NumPy / SciPy / MINPACK / Larch routine its doc comment
//! names, so results match the reference tools bit for bit where they did.

pub mod bspline;
pub mod diff;
pub mod fft;
pub mod grid;
pub mod interp;
pub mod kernels;
pub mod linalg;
pub mod lineshape;
pub mod lm;
pub mod nnls;
pub mod smooth;
pub mod special;
