//! Bruker DIFFRAC.SUITE `.brml`: a zip whose `Experiment0/RawData0.xml`
//! holds the scan. Each step is a `<Datum>` of comma-separated values:
//! time per step, an enable flag, one position per scan axis (in the order
//! of `ScanInformation/ScanAxes/ScanAxisInfo`), then the counts. The tube's
//! `WaveLengthAlpha1` (attribute `Value`, Å) gives the wavelength.
//!
//! Bounds: the archive is a regular file of at most 512 MiB
//! ([`crate::io::MAX_INPUT_BYTES`]); its member inflates to at most
//! [`crate::io::inflate_cap`] (64× the archive + 16 MiB, and 256 MiB); its
//! XML holds at most 10⁶ elements nested at most 256 deep (`xml` module).

use super::xml::{self, Element};
use super::zip::Zip;
use super::{XrdPattern, err_at};
use crate::io::{ParseError, parse_f64};

/// The scan member: `Experiment0/RawData0.xml`, else the first `RawData*.xml`.
fn raw_data_member(z: &Zip) -> Option<String> {
    let names = || z.entries.iter().map(|e| e.name.as_str());
    names()
        .find(|n| *n == "Experiment0/RawData0.xml")
        .or_else(|| {
            names().find(|n| {
                let base = n.rsplit('/').next().unwrap_or(n);
                base.starts_with("RawData") && base.to_ascii_lowercase().ends_with(".xml")
            })
        })
        .map(str::to_owned)
}

pub fn read(bytes: &[u8], file: &str) -> Result<XrdPattern, ParseError> {
    let z = Zip::open(bytes, file)?;
    let member = raw_data_member(&z).ok_or_else(|| {
        ParseError::new(
            file,
            "no Experiment0/RawData0.xml (or RawData*.xml) in the archive",
        )
        .field("zip")
    })?;
    let xml_bytes = z.read(&member)?;
    let text = super::decode(&xml_bytes);
    // Errors inside the member name it: "run.brml[Experiment0/RawData0.xml]".
    let inner = format!("{file}[{member}]");
    let root = xml::parse(&text, &inner)?;
    let mut routes = Vec::new();
    root.find_all("DataRoute", &mut routes);
    let route = routes
        .iter()
        .find(|r| r.child("Datum").is_some())
        .ok_or_else(|| {
            ParseError::new(&inner, "no <DataRoute> with <Datum> rows")
                .at_line(root.line)
                .field("Datum")
        })?;
    let mut metadata = vec![("member".to_owned(), member.clone())];
    let mut push = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            metadata.push((k.to_owned(), v.trim().to_owned()));
        }
    };
    for key in ["TimeStampStarted", "TimeStampFinished"] {
        if let Some(e) = root.child(key) {
            push(key, &e.text);
        }
    }
    let scan = route.child("ScanInformation");
    let mut axes: Vec<&Element> = Vec::new();
    if let Some(s) = scan {
        push("scan", s.attr("ScanName").unwrap_or(""));
        for key in ["ScanMode", "TimePerStep", "MeasurementPoints"] {
            if let Some(e) = s.child(key) {
                push(key, &e.text);
            }
        }
        if let Some(a) = s.child("ScanAxes") {
            axes = a.children_named("ScanAxisInfo").collect();
        }
    }
    let is_two_theta =
        |a: &&Element| a.attr("AxisId") == Some("TwoTheta") || a.attr("AxisName") == Some("2Theta");
    let (tt_col, i_col) = if axes.is_empty() {
        (2, 4)
    } else {
        let k = axes.iter().position(is_two_theta).ok_or_else(|| {
            let line = scan.map_or(route.line, |s| s.line);
            err_at(
                &inner,
                line,
                "ScanAxes",
                "no TwoTheta scan axis: not a 2θ scan",
            )
        })?;
        (2 + k, 2 + axes.len())
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    for d in route.children_named("Datum") {
        let vals: Vec<&str> = d.text.split(',').collect();
        let get = |col: usize, field: &str| {
            let tok = vals.get(col).ok_or_else(|| {
                err_at(
                    &inner,
                    d.line,
                    field,
                    format!(
                        "<Datum> has {} values, column {} expected",
                        vals.len(),
                        col + 1
                    ),
                )
            })?;
            parse_f64(tok, &inner, d.line, field)
        };
        x.push(get(tt_col, "Datum 2theta")?);
        y.push(get(i_col, "Datum intensity")?);
    }
    let mut lambda = None;
    if let Some(w) = root.find("WaveLengthAlpha1") {
        let v = w.attr("Value").unwrap_or("");
        lambda = Some(parse_f64(v, &inner, w.line, "WaveLengthAlpha1")?);
        push("K-alpha1", v);
    }
    for key in ["WaveLengthAlpha2", "WaveLengthRatio", "TubeMaterial"] {
        if let Some(v) = root.find(key).and_then(|e| e.attr("Value")) {
            push(key, v);
        }
    }
    XrdPattern::checked(&inner, "brml", x, y, None, lambda, metadata)
}
