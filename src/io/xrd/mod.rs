//! Measured powder patterns (issue #6): column text (`.xy`, `.xye`, `.dat`
//! with pyFAI/Dioptas headers), Fit2D `.chi`, Bruker RAW v1–v4 and `.brml`,
//! PANalytical `.xrdml`, GSAS `.fxye`/`.gsas`, and JCPDS phase cards.
//!
//! [`read_pattern`] picks the reader from the content (magic bytes, XML root,
//! GSAS `BANK` line, Fit2D header); the extension is only a hint. Every
//! reader returns an [`XrdPattern`] on a 2θ axis in degrees, or a
//! [`ParseError`] naming the file, line (or binary field) and field.

use std::f64::consts::PI;
use std::path::Path;

use serde::Serialize;

use super::{ParseError, display_name};

pub mod brml;
pub mod bruker_raw;
pub mod fxye;
pub mod jcpds;
pub mod route;
pub mod text;
pub(crate) mod xml;
pub mod xrdml;
pub(crate) mod zip;

pub use jcpds::{JcpdsCard, JcpdsReflection, read_jcpds, read_jcpds_bytes};
pub use route::{has_xrd_extension, is_xrd_bytes, is_xrd_file};

/// One measured powder pattern on a 2θ axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XrdPattern {
    /// The file's stem (`pattern_001` for `pattern_001.xy`).
    pub name: String,
    pub two_theta_deg: Vec<f64>,
    pub intensity: Vec<f64>,
    /// Standard uncertainty of each intensity, when the file gives one.
    pub sigma: Option<Vec<f64>>,
    /// The wavelength the 2θ axis refers to (Kα1 for a lab doublet), when
    /// the file states it.
    pub wavelength_ang: Option<f64>,
    /// Which reader produced it: `xy`, `fit2d_chi`, `bruker_raw_v3`, `brml`,
    /// `xrdml`, `gsas`…
    pub source_format: &'static str,
    /// Header key/value pairs as found (instrument, sample, anode, Kα2…).
    pub metadata: Vec<(String, String)>,
    /// What the reader changed and why (a descending scan sorted).
    pub warnings: Vec<String>,
}

impl XrdPattern {
    /// A reader's pattern after the checks every reader makes
    /// ([`check_pattern`]); a scan recorded from high to low 2θ is
    /// reversed, with a warning. The caller names it after the file.
    pub(crate) fn checked(
        file: &str,
        source_format: &'static str,
        two_theta_deg: Vec<f64>,
        intensity: Vec<f64>,
        sigma: Option<Vec<f64>>,
        wavelength_ang: Option<f64>,
        metadata: Vec<(String, String)>,
    ) -> Result<Self, ParseError> {
        let mut p = XrdPattern {
            name: String::new(),
            two_theta_deg,
            intensity,
            sigma,
            wavelength_ang,
            source_format,
            metadata,
            warnings: Vec::new(),
        };
        let x = &p.two_theta_deg;
        if x.len() > 1 && x.windows(2).all(|w| w[1] < w[0]) {
            p.two_theta_deg.reverse();
            p.intensity.reverse();
            if let Some(s) = p.sigma.as_mut() {
                s.reverse();
            }
            p.warnings.push(format!(
                "{file}: 2θ decreases through the file; the points were sorted to increasing 2θ"
            ));
        }
        check_pattern(&p, file)?;
        Ok(p)
    }

    /// Whether peak search, identification and quantification can use the
    /// pattern: at least [`MIN_ANALYSIS_POINTS`]. The CLI and the XRD view
    /// ask the same question.
    pub fn analysable(&self, file: &str) -> Result<(), ParseError> {
        if self.npts() < MIN_ANALYSIS_POINTS {
            return Err(ParseError::new(
                file,
                format!(
                    "only {} points; peak analysis needs at least {MIN_ANALYSIS_POINTS}",
                    self.npts()
                ),
            )
            .field("data"));
        }
        Ok(())
    }

    pub fn npts(&self) -> usize {
        self.two_theta_deg.len()
    }

    /// First metadata value stored under `key` (exact match).
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn wavelength_or_err(&self, what: &str) -> Result<f64, ParseError> {
        self.wavelength_ang.ok_or_else(|| {
            ParseError::new(
                &self.name,
                format!("{what} needs the wavelength, which this pattern does not state"),
            )
            .field("wavelength")
        })
    }

    /// Q (Å⁻¹) of every point: Q = 4π sin θ / λ (Bragg's law in Q form).
    pub fn q_inv_ang(&self) -> Result<Vec<f64>, ParseError> {
        let lambda = self.wavelength_or_err("Q")?;
        Ok(self
            .two_theta_deg
            .iter()
            .map(|&tt| q_from_two_theta(tt, lambda))
            .collect())
    }

    /// d-spacing (Å) of every point: d = λ / (2 sin θ) (Bragg's law); ∞ at 2θ = 0.
    pub fn d_ang(&self) -> Result<Vec<f64>, ParseError> {
        let lambda = self.wavelength_or_err("d")?;
        Ok(self
            .two_theta_deg
            .iter()
            .map(|&tt| d_from_two_theta(tt, lambda))
            .collect())
    }
}

/// Q (Å⁻¹) at 2θ (degrees): Q = 4π sin θ / λ (Bragg's law, Q = 2π/d).
pub fn q_from_two_theta(two_theta_deg: f64, wavelength_ang: f64) -> f64 {
    4.0 * PI * (two_theta_deg.to_radians() / 2.0).sin() / wavelength_ang
}

/// d (Å) at 2θ (degrees): d = λ / (2 sin θ) (Bragg's law, n = 1).
pub fn d_from_two_theta(two_theta_deg: f64, wavelength_ang: f64) -> f64 {
    wavelength_ang / (2.0 * (two_theta_deg.to_radians() / 2.0).sin())
}

/// 2θ (degrees) for Q (Å⁻¹): sin θ = Qλ/4π (Bragg's law); `None` beyond 180°.
pub fn two_theta_from_q(q_inv_ang: f64, wavelength_ang: f64) -> Option<f64> {
    let s = q_inv_ang * wavelength_ang / (4.0 * PI);
    (s.is_finite() && (-1.0..=1.0).contains(&s)).then(|| 2.0 * s.asin().to_degrees())
}

/// 2θ (degrees) for d (Å): sin θ = λ/2d (Bragg's law, n = 1); `None` when λ > 2d.
pub fn two_theta_from_d(d_ang: f64, wavelength_ang: f64) -> Option<f64> {
    let s = wavelength_ang / (2.0 * d_ang);
    (s.is_finite() && (0.0..=1.0).contains(&s)).then(|| 2.0 * s.asin().to_degrees())
}

/// Wavelengths outside this range (Å) are refused, from a file or typed:
/// hard γ rays to soft X-rays bound what a diffraction pattern can use.
pub const WAVELENGTH_RANGE_ANG: (f64, f64) = (0.01, 20.0);

/// Fewer points cannot be analysed for peaks (see [`XrdPattern::analysable`]).
pub const MIN_ANALYSIS_POINTS: usize = 10;

/// Read a measured pattern, detecting the format from the content.
pub fn read_pattern(path: &Path) -> Result<XrdPattern, ParseError> {
    let file = display_name(path);
    let bytes = crate::io::read_input(path)
        .map_err(|e| ParseError::new(&file, format!("cannot read file: {e}")))?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let mut p = read_pattern_bytes(&bytes, &file, ext.as_deref())?;
    if let Some(stem) = path.file_stem() {
        p.name = stem.to_string_lossy().into_owned();
    }
    Ok(p)
}

/// [`read_pattern`] for bytes in memory: `file` names them in errors,
/// `ext_hint` (lower case, no dot) breaks ties the content leaves open.
pub fn read_pattern_bytes(
    bytes: &[u8],
    file: &str,
    ext_hint: Option<&str>,
) -> Result<XrdPattern, ParseError> {
    let bytes = &*super::detect::utf16_as_utf8(bytes, file)?;
    let format = detect(bytes, ext_hint);
    let binary = matches!(format, PatternFormat::BrukerRaw | PatternFormat::Brml);
    if !binary && let Some(e) = super::detect::not_text(bytes, file, "powder pattern") {
        return Err(e);
    }
    let mut p = match format {
        PatternFormat::BrukerRaw => bruker_raw::read(bytes, file)?,
        PatternFormat::Brml => brml::read(bytes, file)?,
        PatternFormat::Xrdml => xrdml::read(&decode(bytes), file)?,
        PatternFormat::Gsas => fxye::read(&decode(bytes), file)?,
        PatternFormat::Fit2dChi => text::read_chi(&decode(bytes), file)?,
        PatternFormat::Columns => {
            let text = decode(bytes);
            if super::detect::looks_like_json(text.trim_start_matches('\u{feff}').trim_start()) {
                return Err(
                    ParseError::new(file, "a JSON document, not a powder pattern")
                        .at_line(1)
                        .field("json"),
                );
            }
            if let Some(e) = super::columns::foreign_numbers(&text, file) {
                return Err(e);
            }
            text::read_columns(&text, file)?
        }
    };
    if p.name.is_empty() {
        p.name = stem_of(file);
    }
    Ok(p)
}

/// The pattern formats [`read_pattern`] tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternFormat {
    BrukerRaw,
    Brml,
    Xrdml,
    Gsas,
    Fit2dChi,
    Columns,
}

/// Which reader a file needs: binary magic first, then XML and the GSAS
/// `BANK` line, then the Fit2D header shape; anything else is columns.
pub fn detect(bytes: &[u8], ext_hint: Option<&str>) -> PatternFormat {
    if bruker_raw::version_of(bytes).is_some() {
        return PatternFormat::BrukerRaw;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return PatternFormat::Brml;
    }
    let head = decode(bytes.get(..bytes.len().min(4096)).unwrap_or(bytes));
    let trimmed = head.trim_start();
    if trimmed.starts_with('<') && (head.contains("xrdMeasurement") || ext_hint == Some("xrdml")) {
        return PatternFormat::Xrdml;
    }
    if fxye::looks_like_gsas(&head) {
        return PatternFormat::Gsas;
    }
    if text::looks_like_chi(&head) {
        return PatternFormat::Fit2dChi;
    }
    PatternFormat::Columns
}

/// Text from bytes: UTF-8 (BOM dropped), else Latin-1 (every byte a char),
/// which is what instrument software writes when it is not UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// `dir/pattern_001.xy` → `pattern_001`.
pub(crate) fn stem_of(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map_or_else(|| file.to_owned(), |s| s.to_string_lossy().into_owned())
}

/// A located error in a text format.
pub(crate) fn err_at(file: &str, line: usize, field: &str, msg: impl Into<String>) -> ParseError {
    ParseError::new(file, msg).at_line(line).field(field)
}

/// The rule every reader applies before handing a pattern out (so every
/// command and the app see the same): at least 2 points; arrays equally
/// long; every value finite; 2θ in (0°, 180°] and strictly increasing (a
/// wholly descending scan was already reversed by [`XrdPattern::checked`];
/// a constant axis or one that turns back is refused at the point); a
/// stated wavelength within [`WAVELENGTH_RANGE_ANG`].
pub(crate) fn check_pattern(p: &XrdPattern, file: &str) -> Result<(), ParseError> {
    if p.two_theta_deg.is_empty() {
        return Err(ParseError::new(file, "no data points").field("data"));
    }
    if p.two_theta_deg.len() < 2 {
        return Err(
            ParseError::new(file, "only one data point: a pattern needs at least 2").field("data"),
        );
    }
    if p.intensity.len() != p.two_theta_deg.len()
        || p.sigma
            .as_ref()
            .is_some_and(|s| s.len() != p.two_theta_deg.len())
    {
        return Err(ParseError::new(file, "2θ, intensity and σ differ in length").field("data"));
    }
    let arrays = [("2theta", &p.two_theta_deg), ("intensity", &p.intensity)];
    for (name, a) in arrays
        .into_iter()
        .chain(p.sigma.as_ref().map(|s| ("sigma", s)))
    {
        if let Some(i) = a.iter().position(|v| !v.is_finite()) {
            return Err(
                ParseError::new(file, format!("point {} is not a finite number", i + 1))
                    .field(name),
            );
        }
    }
    let x = &p.two_theta_deg;
    if let Some(i) = x.iter().position(|&t| !(t > 0.0 && t <= 180.0)) {
        return Err(ParseError::new(
            file,
            format!("point {}: 2θ = {}° is outside (0°, 180°]", i + 1, x[i]),
        )
        .field("2theta"));
    }
    if x.windows(2).all(|w| w[1] == w[0]) {
        return Err(ParseError::new(
            file,
            format!("2θ is constant ({}°): the axis has step 0", x[0]),
        )
        .field("2theta"));
    }
    if let Some(i) = x.windows(2).position(|w| w[1] <= w[0]) {
        return Err(ParseError::new(
            file,
            format!(
                "2θ does not increase at point {} ({}° after {}°)",
                i + 2,
                x[i + 1],
                x[i]
            ),
        )
        .field("2theta"));
    }
    if let Some(l) = p.wavelength_ang {
        let (lo, hi) = WAVELENGTH_RANGE_ANG;
        if !(l.is_finite() && l >= lo && l <= hi) {
            return Err(
                ParseError::new(file, format!("wavelength {l} Å is outside {lo}–{hi} Å"))
                    .field("wavelength"),
            );
        }
    }
    Ok(())
}
