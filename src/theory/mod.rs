//! Simulated spectra for a structure. From a crystal structure and an
//! absorber: the cluster around it ([`cluster`]), a FEFF input
//! ([`feffinp`]), FEFF10-quality scattering paths computed in-process by
//! refeff, the pure-Rust FEFF10 port ([`paths`]), and a fast closed-form
//! single-scattering χ(k) from cached absorber–scatterer pair tables
//! ([`closed`]) for scoring whole candidate libraries, and simulated XANES
//! μ(E) by FEFF10's full multiple scattering ([`xanes`]).

pub mod closed;
pub mod cluster;
pub mod feffinp;
pub mod paths;
pub mod xanes;
pub mod xanes_lib;

pub use cluster::{Absorber, Cluster, build_cluster};
pub use feffinp::{CoreHole, Edge, FeffInpOptions, XanesCards, feff_inp};
pub use paths::{PathSet, TheoryOptions, compute_paths, run_feff_inp};
pub use xanes::{
    NormSpectrum, SimXanes, XanesAgreement, XanesOptions, compare_xanes, simulate_xanes,
};

/// Why a theory calculation was refused or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TheoryError {
    /// The structure has no site of the absorbing element.
    #[error("{file}: no site of element '{element}' (the structure has {present})")]
    NoAbsorber {
        file: String,
        element: String,
        present: String,
    },
    /// The absorber site index is out of range.
    #[error("{file}: no site {index} (the structure has {nsites} sites)")]
    NoSite {
        file: String,
        index: usize,
        nsites: usize,
    },
    /// A distance parameter out of its range (rmax, cluster radius).
    #[error("{name} = {value} Å must be in ({min}, {max}] Å")]
    BadRadius {
        name: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
    /// The cluster would hold more atoms than FEFF handles in reasonable time.
    #[error(
        "{file}: the cluster of radius {radius_ang:.2} Å holds {} atoms, more than \
         the {max} a FEFF calculation takes; lower --rmax",
        atom_count(.atoms, .estimated)
    )]
    ClusterTooLarge {
        file: String,
        radius_ang: f64,
        atoms: usize,
        estimated: bool,
        max: usize,
    },
    /// An option out of range (nleg, s02, σ², edge).
    #[error("{0}")]
    BadOption(String),
    /// refeff failed (its own message).
    #[error("FEFF calculation failed: {0}")]
    Engine(String),
    /// refeff ran but wrote no usable path file.
    #[error("FEFF calculation gave no usable paths: {0}")]
    Output(String),
    /// The caller cancelled the calculation.
    #[error("calculation cancelled")]
    Cancelled,
    /// The pair-table cache could not be read or written.
    #[error("pair-table cache {path}: {message}")]
    Cache { path: String, message: String },
}

/// "1234" or "about 1234" for an estimate.
fn atom_count(atoms: &usize, estimated: &bool) -> String {
    if *estimated {
        format!("about {atoms}")
    } else {
        format!("at least {atoms}")
    }
}
