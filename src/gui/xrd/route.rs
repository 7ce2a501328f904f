//! Which files open in the XRD view: the core's rule
//! ([`crate::io::xrd::route`]), shared with `carto info`.

pub use crate::io::xrd::route::{has_xrd_extension, is_xrd_bytes, is_xrd_file};
