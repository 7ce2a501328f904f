//! Powder X-ray diffraction: simulated patterns of structures (and, next,
//! measured patterns, background, peaks and phase matching).

pub mod simulate;

pub use simulate::{DebyeWaller, Peak, XrdOptions, parse_wavelength, simulate};
