//! Carto's computation core: readers, XAS processing and (later) EXAFS fitting,
//! XRD and structures. No GUI code lives here; the CLI, the GUI and the tests
//! all call these functions.

pub mod bench;
pub mod exafs;
pub mod io;
pub mod units;
pub mod xas;

pub use io::{Dataset, ParseError};
