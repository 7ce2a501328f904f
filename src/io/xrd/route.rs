//! Which files are measured powder patterns, by content. The extension
//! says what a file may be and the content decides: instrument formats
//! (Bruker RAW and BRML, PANalytical XRDML, GSAS, Fit2D `.chi`) by their
//! magic or header, and plain columns (`.xy`, `.xye`, `.dat`) by a
//! 2θ/pyFAI header, else by their numbers (a 2θ range inside 0–180°
//! spanning degrees, non-negative counts). Larch `.chi` χ(k) files, XAS
//! column files in eV (or keV) and χ(k) columns stay spectra. The rule for
//! every kind of file is [`crate::io::route`]; this is its pattern part.

use std::path::Path;

use super::{PatternFormat, detect};
use crate::io::{FileKind, LoadOptions, route, route_path};

/// Whether the file at `path` is a measured pattern ([`route_path`]; an
/// unreadable file is not, and the spectra reader reports it).
pub fn is_xrd_file(path: &Path) -> bool {
    route_path(path, &LoadOptions::default()) == FileKind::Pattern
}

fn ext_of(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The extensions measured patterns come with.
pub fn has_xrd_extension(path: &Path) -> bool {
    matches!(
        ext_of(path).as_deref(),
        Some(
            "xy" | "xye"
                | "dat"
                | "chi"
                | "raw"
                | "brml"
                | "xrdml"
                | "fxye"
                | "fxy"
                | "gsa"
                | "gsas"
        )
    )
}

/// [`is_xrd_file`] for bytes already read (`path` gives the extension).
pub fn is_xrd_bytes(bytes: &[u8], path: &Path) -> bool {
    route(bytes, path, &LoadOptions::default()) == FileKind::Pattern
}

/// Whether the content of a file with a pattern extension is a pattern.
pub(crate) fn pattern_content(bytes: &[u8], path: &Path) -> bool {
    // XDI, Athena and FEFF files are spectra whatever their columns.
    if crate::io::detect_format(bytes) != crate::io::FileFormat::Columns
        && detect(bytes, None) == PatternFormat::Columns
    {
        return false;
    }
    let ext = ext_of(path);
    let fmt = detect(bytes, ext.as_deref());
    match ext.as_deref() {
        Some("raw") => fmt == PatternFormat::BrukerRaw,
        Some("brml") => fmt == PatternFormat::Brml,
        Some("xrdml") => fmt == PatternFormat::Xrdml,
        Some("fxye" | "fxy" | "gsa" | "gsas") => fmt == PatternFormat::Gsas,
        Some("chi") => fmt == PatternFormat::Fit2dChi,
        Some("xy" | "xye" | "dat") => match fmt {
            PatternFormat::Columns => columns_look_like_xrd(bytes),
            PatternFormat::BrukerRaw | PatternFormat::Brml => false,
            _ => true,
        },
        _ => false,
    }
}

/// Header words that name a diffraction pattern.
const XRD_WORDS: [&str; 12] = [
    "2th",
    "2theta",
    "2-theta",
    "two_theta",
    "twotheta",
    "2θ",
    "wavelength",
    "pyfai",
    "dioptas",
    "q_nm",
    "q_a",
    "fit2d",
];

/// Header words of absorption data (labels of Larch, Athena, XDI files).
const XAS_WORDS: [&str; 16] = [
    "energy", "chi", "e0", "mu", "xmu", "i0", "it", "if", "iref", "xafs", "exafs", "xanes",
    "larch", "athena", "ifeffit", "k",
];

fn columns_look_like_xrd(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let text = String::from_utf8_lossy(head);
    let mut header = String::new();
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for line in crate::io::split_lines(&text) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let nums: Option<Vec<f64>> = t
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<f64>().ok())
            .collect();
        match nums {
            Some(v) if !v.is_empty() => rows.push(v),
            _ => {
                if rows.is_empty() {
                    header.push_str(&t.to_lowercase());
                    header.push('\n');
                }
            }
        }
    }
    let words: Vec<&str> = header
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == 'θ'))
        .filter(|w| !w.is_empty())
        .collect();
    let xrd_words = XRD_WORDS
        .iter()
        .any(|w| words.iter().any(|h| h.starts_with(w)));
    let energy_label = words.iter().any(|h| h.starts_with("energy"));
    if xrd_words && energy_label {
        // A 2θ motor beside an energy column (a SPEC XAS scan logs both): a
        // pattern only if the rows are 2θ, I [, σ] with 2θ rising in (0, 180].
        return rows.first().is_some_and(|r| (2..=3).contains(&r.len()))
            && rows.iter().all(|r| r.len() == rows[0].len())
            && rows.windows(2).all(|w| w[1][0] > w[0][0])
            && rows.iter().all(|r| r[0] > 0.0 && r[0] <= 180.0);
    }
    if xrd_words {
        return true;
    }
    if XAS_WORDS.iter().any(|w| words.contains(w)) {
        return false;
    }
    // The numbers: 2 or 3 columns, 2θ rising inside (0, 180] over degrees,
    // intensities (nearly all) non-negative.
    if rows.len() < 20 {
        return false;
    }
    let ncol = rows[0].len();
    if !(2..=3).contains(&ncol) || rows.iter().any(|r| r.len() != ncol) {
        return false;
    }
    let x: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    // A wholly descending scan is a pattern too (the reader sorts it).
    let rising = x.windows(2).all(|w| w[1] > w[0]) || x.windows(2).all(|w| w[1] < w[0]);
    let (lo, hi) = (x[0].min(x[x.len() - 1]), x[0].max(x[x.len() - 1]));
    let negative = rows.iter().filter(|r| r[1] < 0.0).count();
    // Intensities that change sign are χ(k) (it oscillates through zero);
    // a pattern's are counts, non-negative but for noise around a
    // subtracted background, or of one sign throughout (RockJock's
    // negative-background standard is -1000 at every 2θ).
    let counts = negative * 20 <= rows.len() || negative == rows.len();
    rising && lo >= 0.0 && hi <= 180.0 && hi - lo >= 3.0 && counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_told_apart() {
        let xrd: String = (0..200)
            .map(|i| format!("{} {}\n", 10.0 + 0.02 * i as f64, 100 + i % 7))
            .collect();
        assert!(is_xrd_bytes(xrd.as_bytes(), Path::new("a.xy")));
        assert!(!is_xrd_bytes(xrd.as_bytes(), Path::new("a.xdi")));
        // A descending scan (read sorted, with a warning).
        let desc: String = xrd.lines().rev().map(|l| format!("{l}\n")).collect();
        assert!(is_xrd_bytes(desc.as_bytes(), Path::new("a.xy")));
        // A SPEC XAS scan logging a 2θ motor beside the energy.
        let spec: String = (0..200)
            .map(|i| {
                format!(
                    "{} {} 1e5 5e4\n",
                    8900.0 + i as f64,
                    25.0 - 0.001 * i as f64
                )
            })
            .collect();
        let spec = format!("#L Energy TwoTheta I0 I1\n{spec}");
        assert!(!is_xrd_bytes(spec.as_bytes(), Path::new("a.dat")));
        // eV energies: XAS.
        let xas: String = (0..200)
            .map(|i| format!("{} {}\n", 8900.0 + i as f64, 1.0 + 0.001 * i as f64))
            .collect();
        assert!(!is_xrd_bytes(xas.as_bytes(), Path::new("a.dat")));
        // χ(k) with a label line: XAS.
        let chi = format!("# k chi\n{xrd}");
        assert!(!is_xrd_bytes(chi.as_bytes(), Path::new("a.dat")));
        // χ(k) without labels: oscillates through zero.
        let chi: String = (0..200)
            .map(|i| {
                let k = 0.05 * i as f64;
                format!("{k} {}\n", (2.0 * k).sin() * 0.1)
            })
            .collect();
        assert!(!is_xrd_bytes(chi.as_bytes(), Path::new("a.dat")));
        // A negative-background standard: one sign throughout, a pattern.
        let neg: String = (0..200)
            .map(|i| format!("{} -1000\n", 5.0 + 0.02 * i as f64))
            .collect();
        assert!(is_xrd_bytes(neg.as_bytes(), Path::new("a.xy")));
        // pyFAI header.
        let py = format!("# 2th_deg I\n{xrd}");
        assert!(is_xrd_bytes(py.as_bytes(), Path::new("a.dat")));
    }
}
