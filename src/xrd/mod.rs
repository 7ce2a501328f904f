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

/// Why an XRD computation or a library/candidate read failed. The texts are
/// what the CLI and the GUI show.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XrdError {
    /// `purpose` completes the sentence: "for phase identification", "to quantify".
    #[error("{n} points are too few {purpose}")]
    TooFewPoints { n: usize, purpose: &'static str },
    #[error("the pattern needs a wavelength (give --wavelength)")]
    NoWavelength,
    #[error("wavelength {0} Å is not positive")]
    WavelengthNotPositive(f64),
    #[error("wavelength {0} Å is outside 0.01–20 Å")]
    WavelengthOutOfRange(f64),
    #[error("unknown wavelength '{name}' (a number in Å or one of {known})")]
    UnknownWavelength { name: String, known: String },
    #[error("2θ must increase")]
    TwoThetaNotIncreasing,
    #[error("the 2θ range must be increasing")]
    RangeNotIncreasing,
    #[error("2θ range {min_deg}–{max_deg}° must be increasing within 0–180°")]
    BadRange { min_deg: f64, max_deg: f64 },
    #[error("the pattern has no peaks above its background")]
    NoPeaks,
    #[error("profile step {0}° must be in (0.0001, 1]")]
    BadStep(f64),
    #[error("pseudo-Voigt eta {0} must be in [0, 1]")]
    BadEta(f64),
    #[error("Caglioti U, V, W must be finite with W > 0")]
    BadCaglioti,
    #[error("{0} grid points: use a larger step")]
    TooManyGridPoints(usize),
    #[error("only {n} points within ±{half_window_deg}° of {center_deg}°")]
    TooFewPeakPoints {
        n: usize,
        half_window_deg: f64,
        center_deg: f64,
    },
    #[error("peak fit at {center_deg}° failed: {error:?}")]
    PeakFit {
        center_deg: f64,
        error: crate::numeric::lm::LmError,
    },
    #[error("the library has no reference patterns")]
    EmptyLibrary,
    #[error(
        "the pattern ({pattern_lo_deg:.2}–{pattern_hi_deg:.2}°) and the library ({library_lo_deg:.2}–{library_hi_deg:.2}°) barely overlap"
    )]
    NoOverlap {
        pattern_lo_deg: f64,
        pattern_hi_deg: f64,
        library_lo_deg: f64,
        library_hi_deg: f64,
    },
    #[error("internal standard index out of range")]
    StandardIndex,
    #[error("the internal standard {0} was not found in the pattern")]
    StandardNotFound(String),
    #[error("no reference fits the pattern")]
    NoFit,
    #[error("no X-ray scattering coefficients for {0}")]
    NoScatteringFactors(String),
    #[error(
        "about {expected:.0} reflections up to d = {d_min_ang:.3} Å in a {volume_ang3:.0} Å³ cell: too many"
    )]
    TooManyReflections {
        expected: f64,
        d_min_ang: f64,
        volume_ang3: f64,
    },
    /// A file or folder problem: "PATH: what".
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    /// A problem on one line of a library table: "PATH:LINE: what".
    #[error("{path}:{line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
    #[error(transparent)]
    Pattern(#[from] crate::io::ParseError),
    #[error(transparent)]
    Structure(#[from] crate::structure::StructureError),
}

impl XrdError {
    fn file(path: &std::path::Path, reason: impl std::fmt::Display) -> Self {
        XrdError::File {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
