//! Powder X-ray diffraction: simulated patterns of structures (sticks and
//! profile-broadened), and next measured patterns, background, peaks and
//! phase matching.

pub mod identify;
pub mod peaks;
pub mod profile;
pub mod quantify;
pub mod simulate;

pub use profile::{ProfileParams, broaden, k_alpha_doublet};
pub use simulate::{DebyeWaller, Peak, XrdOptions, parse_wavelength, rescale_lattice, simulate};
