//! Carto's computation core: readers, XAS processing and (later) EXAFS fitting,
//! XRD and structures; the CLI, the GUI and the tests all call these
//! functions. The desktop GUI lives in [`gui`] behind the `gui` feature (on by
//! default), so the core builds without egui.

pub mod bench;
pub mod exafs;
pub mod export;
pub mod features;
#[cfg(feature = "gui")]
pub mod gui;
pub mod io;
pub mod latent;
pub mod numeric;
pub mod session;
pub mod structure;
pub mod svg;
pub mod theory;
pub mod units;
pub mod xanes;
pub mod xas;
pub mod xrd;

pub use io::{Dataset, ParseError};
