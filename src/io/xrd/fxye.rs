//! GSAS powder data (`.fxye`, `.gsas`, `.gsa`, `.raw`), constant
//! wavelength: a title line, optionally `Instrument parameter file: …`,
//! `#` comments, then `BANK ibank nchan nrec CONS start step 0 0 TYPE`
//! with start and step in centidegrees, and the data in one of the GSAS
//! record types (GSAS manual, Larson & Von Dreele, "Powder data file"):
//! `FXYE` (2θ in centidegrees, I, σ per line), `FXY` (2θ, I), `ESD`
//! (I, σ pairs in 8-character fields) or `STD` (I2 counter count + F6
//! intensity fields; variance I/ncounters). The first bank is read.

use super::{XrdPattern, err_at};
use crate::io::{ParseError, parse_f64};

/// A line `BANK n …` after the title: a GSAS file.
pub fn looks_like_gsas(head: &str) -> bool {
    crate::io::split_lines(head)
        .skip(1)
        .filter(|l| !l.starts_with('#'))
        .take(8)
        .any(|l| {
            l.strip_prefix("BANK")
                .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        })
}

/// A fixed-width field (bytes `a..b` of the line), blank when the line is
/// shorter.
fn field(line: &str, a: usize, b: usize) -> &str {
    let bytes = line.as_bytes();
    let end = b.min(bytes.len());
    if a >= end {
        return "";
    }
    std::str::from_utf8(bytes.get(a..end).unwrap_or(&[])).unwrap_or("")
}

pub fn read(text: &str, file: &str) -> Result<XrdPattern, ParseError> {
    let lines: Vec<&str> = crate::io::split_lines(text).collect();
    let mut metadata = Vec::new();
    if let Some(title) = lines.first() {
        metadata.push(("title".to_owned(), title.trim().to_owned()));
    }
    let banks: Vec<usize> = lines
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| l.starts_with("BANK"))
        .map(|(i, _)| i)
        .collect();
    let Some(&b) = banks.first() else {
        return Err(err_at(file, lines.len().max(1), "BANK", "no BANK line"));
    };
    for l in lines.iter().take(b).skip(1) {
        if let Some((k, v)) = l.split_once(':')
            && k.trim().to_ascii_lowercase().starts_with("inst")
        {
            metadata.push(("instrument parameter file".to_owned(), v.trim().to_owned()));
        }
    }
    metadata.push(("banks in file".to_owned(), banks.len().to_string()));
    let bank_line = b + 1;
    let bank = lines.get(b).copied().unwrap_or("");
    let tok: Vec<&str> = bank.split_whitespace().collect();
    let get = |i: usize, name: &str| {
        tok.get(i)
            .ok_or_else(|| err_at(file, bank_line, name, format!("BANK line has no {name}")))
    };
    let nchan = get(2, "nchan")?;
    let nchan: usize = nchan.parse().map_err(|_| {
        err_at(
            file,
            bank_line,
            "nchan",
            format!("'{nchan}' is not a count"),
        )
    })?;
    let bintyp = *get(4, "bintyp")?;
    if bintyp != "CONS" {
        return Err(err_at(
            file,
            bank_line,
            "bintyp",
            format!("'{bintyp}' binning (time of flight?): only constant-wavelength CONS is read"),
        ));
    }
    let start = parse_f64(get(5, "start")?, file, bank_line, "start")? / 100.0;
    let step = parse_f64(get(6, "step")?, file, bank_line, "step")? / 100.0;
    let kind = tok.get(9).copied().unwrap_or("STD");
    metadata.push(("GSAS record type".to_owned(), kind.to_owned()));
    let end = banks.get(1).copied().unwrap_or(lines.len());
    let data = (b + 1..end)
        .filter_map(|i| lines.get(i).map(|l| (i + 1, *l)))
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let (mut x, mut y, mut s) = (Vec::new(), Vec::new(), Vec::new());
    match kind {
        "FXYE" | "FXY" => {
            let ncols = if kind == "FXYE" { 3 } else { 2 };
            for (ln, l) in data {
                let t: Vec<&str> = l.split_whitespace().collect();
                if t.len() < ncols {
                    return Err(err_at(
                        file,
                        ln,
                        if t.len() < 2 { "intensity" } else { "sigma" },
                        format!("{kind} row needs {ncols} values, found {}", t.len()),
                    ));
                }
                let v = |i: usize, name| parse_f64(t.get(i).copied().unwrap_or(""), file, ln, name);
                x.push(v(0, "2theta")? / 100.0);
                y.push(v(1, "intensity")?);
                if ncols == 3 {
                    s.push(v(2, "sigma")?);
                }
            }
        }
        "ESD" | "STD" => {
            let (width, per_line) = if kind == "ESD" { (16, 5) } else { (8, 10) };
            'lines: for (ln, l) in data {
                for k in 0..per_line {
                    if y.len() >= nchan {
                        break 'lines;
                    }
                    let a = k * width;
                    let (iv, sv) = if kind == "ESD" {
                        let i = field(l, a, a + 8);
                        if i.trim().is_empty() {
                            break;
                        }
                        let i = parse_f64(i, file, ln, "intensity")?;
                        (i, parse_f64(field(l, a + 8, a + 16), file, ln, "sigma")?)
                    } else {
                        let i = field(l, a + 2, a + 8);
                        if i.trim().is_empty() {
                            break;
                        }
                        let n = field(l, a, a + 2).trim();
                        let n = if n.is_empty() {
                            1.0
                        } else {
                            parse_f64(n, file, ln, "counters")?
                        };
                        let i = parse_f64(i, file, ln, "intensity")?;
                        (i, (i.max(0.0) / n.max(1.0)).sqrt())
                    };
                    x.push(start + y.len() as f64 * step);
                    y.push(iv);
                    s.push(sv);
                }
            }
        }
        other => {
            return Err(err_at(
                file,
                bank_line,
                "type",
                format!("GSAS record type '{other}' is not read (FXYE, FXY, ESD, STD are)"),
            ));
        }
    }
    if y.is_empty() {
        return Err(err_at(file, bank_line, "data", "BANK without data rows"));
    }
    let has_sigma = !s.is_empty();
    XrdPattern::checked(file, "gsas", x, y, has_sigma.then_some(s), None, metadata)
}
