//! PANalytical `.xrdml` (schema `http://www.xrdml.com/XRDMeasurement/1.x`):
//! `xrdMeasurement/usedWavelength/kAlpha1` and, in the first `scan`,
//! `dataPoints/positions[@axis="2Theta"]` (`startPosition`/`endPosition`,
//! points evenly spaced, or `listPositions`) with `intensities` (schema 1.1
//! and later) or `counts` (1.0), optionally scaled by
//! `beamAttenuationFactors`.
//!
//! Bounds: a regular file of at most 512 MiB ([`crate::io::MAX_INPUT_BYTES`])
//! whose XML holds at most 10⁶ elements nested at most 256 deep (`xml`
//! module): a document of empty elements is refused, not grown into GB.

use super::XrdPattern;
use super::xml::{self, Element};
use crate::io::{ParseError, parse_f64};

fn missing(file: &str, el: &Element, what: &str) -> ParseError {
    ParseError::new(file, format!("<{}> has no <{what}>", el.name))
        .at_line(el.line)
        .field(what)
}

/// Space-separated numbers of an element, each error on its own line.
fn numbers(el: &Element, file: &str) -> Result<Vec<f64>, ParseError> {
    let mut out = Vec::new();
    let mut line = el.line;
    for (i, chunk) in el.text.split('\n').enumerate() {
        if i > 0 {
            line += 1;
        }
        for tok in chunk.split_whitespace() {
            out.push(parse_f64(tok, file, line, &el.name)?);
        }
    }
    Ok(out)
}

fn number(el: &Element, file: &str) -> Result<f64, ParseError> {
    let v = numbers(el, file)?;
    match v.as_slice() {
        [x] => Ok(*x),
        _ => Err(
            ParseError::new(file, format!("expected one number, found {}", v.len()))
                .at_line(el.line)
                .field(&el.name),
        ),
    }
}

/// A wavelength element in Å (the schema's unit is "Angstrom"; nm accepted).
fn wavelength(el: &Element, file: &str) -> Result<f64, ParseError> {
    let v = number(el, file)?;
    Ok(if el.attr("unit") == Some("nm") {
        v * 10.0
    } else {
        v
    })
}

pub fn read(text: &str, file: &str) -> Result<XrdPattern, ParseError> {
    let root = xml::parse(text, file)?;
    let meas = if root.name == "xrdMeasurement" {
        &root
    } else {
        root.find("xrdMeasurement")
            .ok_or_else(|| missing(file, &root, "xrdMeasurement"))?
    };
    let mut metadata = Vec::new();
    let mut push = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            metadata.push((k.to_owned(), v.trim().to_owned()));
        }
    };
    if let Some(sample) = root.child("sample") {
        for key in ["id", "name"] {
            if let Some(e) = sample.child(key) {
                push(&format!("sample {key}"), &e.text);
            }
        }
    }
    let mut lambda = None;
    if let Some(w) = meas.child("usedWavelength") {
        push("wavelength intended", w.attr("intended").unwrap_or(""));
        for (key, label) in [
            ("kAlpha1", "K-alpha1"),
            ("kAlpha2", "K-alpha2"),
            ("kBeta", "K-beta"),
            ("ratioKAlpha2KAlpha1", "K-alpha2/K-alpha1"),
        ] {
            if let Some(e) = w.child(key) {
                let v = if key.starts_with('k') {
                    wavelength(e, file)?
                } else {
                    number(e, file)?
                };
                if key == "kAlpha1" {
                    lambda = Some(v);
                }
                push(label, &v.to_string());
            }
        }
    }
    if let Some(tube) = meas.find("xRayTube") {
        push("anode", tube.attr("anodeMaterial").unwrap_or(""));
        for key in ["tension", "current"] {
            if let Some(e) = tube.child(key) {
                push(key, &e.text);
            }
        }
    }
    let scans: Vec<&Element> = meas.children_named("scan").collect();
    let scan = scans.first().ok_or_else(|| missing(file, meas, "scan"))?;
    push("scans in file", &scans.len().to_string());
    push("scan axis", scan.attr("scanAxis").unwrap_or(""));
    let dp = scan
        .child("dataPoints")
        .ok_or_else(|| missing(file, scan, "dataPoints"))?;
    let y_el = dp
        .child("intensities")
        .or_else(|| dp.child("counts"))
        .ok_or_else(|| missing(file, dp, "intensities"))?;
    let mut y = numbers(y_el, file)?;
    if y.is_empty() {
        return Err(ParseError::new(file, "no intensities")
            .at_line(y_el.line)
            .field(&y_el.name));
    }
    if let Some(t) = dp.child("commonCountingTime") {
        push("counting time (s)", &t.text);
    }
    let pos = dp
        .children_named("positions")
        .find(|p| p.attr("axis") == Some("2Theta"))
        .ok_or_else(|| {
            ParseError::new(file, "no <positions axis=\"2Theta\">: not a 2θ scan")
                .at_line(dp.line)
                .field("positions")
        })?;
    if let Some(u) = pos.attr("unit")
        && u != "deg"
    {
        return Err(
            ParseError::new(file, format!("2Theta positions in '{u}', not deg"))
                .at_line(pos.line)
                .field("positions"),
        );
    }
    let n = y.len();
    let x: Vec<f64> = if let Some(list) = pos.child("listPositions") {
        let x = numbers(list, file)?;
        if x.len() != n {
            return Err(ParseError::new(
                file,
                format!(
                    "{} 2Theta list positions (line {}) but {n} {}",
                    x.len(),
                    list.line,
                    y_el.name
                ),
            )
            .at_line(y_el.line)
            .field(&y_el.name));
        }
        x
    } else {
        let start = pos
            .child("startPosition")
            .ok_or_else(|| missing(file, pos, "startPosition"))?;
        let end = pos
            .child("endPosition")
            .ok_or_else(|| missing(file, pos, "endPosition"))?;
        let (a, b) = (number(start, file)?, number(end, file)?);
        let step = if n > 1 { (b - a) / (n - 1) as f64 } else { 0.0 };
        (0..n).map(|i| a + i as f64 * step).collect()
    };
    if let Some(att) = dp.child("beamAttenuationFactors") {
        let f = numbers(att, file)?;
        if f.len() != n {
            return Err(ParseError::new(
                file,
                format!("{} attenuation factors for {n} {}", f.len(), y_el.name),
            )
            .at_line(att.line)
            .field("beamAttenuationFactors"));
        }
        y.iter_mut().zip(&f).for_each(|(y, f)| *y *= f);
    }
    XrdPattern::checked(file, "xrdml", x, y, None, lambda, metadata)
}
