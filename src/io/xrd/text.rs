//! Column text patterns (`.xy`, `.xye`, `.dat`: 2θ, I [, σ]) and Fit2D
//! `.chi`.
//!
//! pyFAI (and Dioptas, which writes through it) puts its geometry in `#`
//! lines, the wavelength in metres (`# Wavelength: 3.344e-11`, newer
//! versions add ` m`) and the radial unit as the first column label
//! (`2th_deg`, `2th_rad`, `q_nm^-1`, `q_A^-1`). Q columns are turned into
//! 2θ with the stated wavelength, so every pattern leaves here on a 2θ axis.

use super::{XrdPattern, err_at, two_theta_from_q};
use crate::io::{ParseError, parse_f64};

/// The radial unit of the first column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum XUnit {
    TwoThetaDeg,
    TwoThetaRad,
    QInvNm,
    QInvAng,
}

impl XUnit {
    fn name(self) -> &'static str {
        match self {
            XUnit::TwoThetaDeg => "2th_deg",
            XUnit::TwoThetaRad => "2th_rad",
            XUnit::QInvNm => "q_nm^-1",
            XUnit::QInvAng => "q_A^-1",
        }
    }
    fn field(self) -> &'static str {
        match self {
            XUnit::TwoThetaDeg | XUnit::TwoThetaRad => "2theta",
            XUnit::QInvNm | XUnit::QInvAng => "q",
        }
    }
}

/// A pyFAI unit token (`2th_deg`, `q_nm^-1`…): `Some(Ok)` for the radial
/// units Carto converts, `Some(Err)` for pyFAI units that are not a
/// scattering angle (`r_mm`, `chi_deg`, `d*2_A^-2`), `None` for anything
/// that is not a pyFAI unit at all.
fn pyfai_unit(tok: &str) -> Option<Result<XUnit, String>> {
    let t = tok.trim_matches(|c: char| c == '#' || c == ',');
    match t {
        "2th_deg" => Some(Ok(XUnit::TwoThetaDeg)),
        "2th_rad" => Some(Ok(XUnit::TwoThetaRad)),
        "q_nm^-1" | "q_nm-1" => Some(Ok(XUnit::QInvNm)),
        "q_A^-1" | "q_A-1" | "q_Å^-1" => Some(Ok(XUnit::QInvAng)),
        _ if [
            "r_", "chi_", "d*2_", "d_", "q_", "2th_", "qx_", "qy_", "qz_",
        ]
        .iter()
        .any(|p| t.starts_with(p)) =>
        {
            Some(Err(t.to_owned()))
        }
        _ => None,
    }
}

/// One data row: 2 or 3 numbers separated by whitespace, commas or
/// semicolons. `names` are the field names used in errors.
fn parse_row(
    line: &str,
    file: &str,
    lineno: usize,
    names: [&str; 3],
    out: &mut [f64; 3],
) -> Result<usize, ParseError> {
    let mut n = 0;
    for tok in line
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|t| !t.is_empty())
    {
        let Some(slot) = out.get_mut(n) else {
            return Err(err_at(
                file,
                lineno,
                "data",
                format!(
                    "more than 3 columns (expected 2θ, I [, σ]): '{}'",
                    line.trim()
                ),
            ));
        };
        *slot = parse_f64(tok, file, lineno, names.get(n).copied().unwrap_or("data"))?;
        n += 1;
    }
    Ok(n)
}

/// Does the line start with a number (so it is a data row, not a header)?
fn starts_numeric(line: &str) -> bool {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|t| !t.is_empty())
        .is_some_and(|t| parse_f64(t, "", 0, "").is_ok())
}

/// Rows collected from a column block.
struct Rows {
    x: Vec<f64>,
    y: Vec<f64>,
    s: Vec<f64>,
    lines: Vec<usize>,
    ncols: usize,
}

/// Read data rows from `lines` (1-based numbers from `first_lineno`),
/// every non-blank line after the first data row must be a row of the
/// same width.
fn read_rows(
    lines: &[&str],
    first_lineno: usize,
    file: &str,
    unit: XUnit,
    is_comment: impl Fn(&str) -> bool,
) -> Result<Rows, ParseError> {
    let names = [unit.field(), "intensity", "sigma"];
    let mut r = Rows {
        x: Vec::with_capacity(lines.len()),
        y: Vec::with_capacity(lines.len()),
        s: Vec::new(),
        lines: Vec::with_capacity(lines.len()),
        ncols: 0,
    };
    for (i, line) in lines.iter().enumerate() {
        let lineno = first_lineno + i;
        let t = line.trim();
        if t.is_empty() || is_comment(t) || t == "\u{1a}" {
            continue;
        }
        if r.ncols == 0 && !starts_numeric(t) {
            // free-text header before the numbers
            continue;
        }
        let mut v = [0.0; 3];
        let n = parse_row(t, file, lineno, names, &mut v)?;
        if n < 2 {
            return Err(err_at(
                file,
                lineno,
                "intensity",
                format!("a data row needs 2θ and I, found {n} value"),
            ));
        }
        if r.ncols == 0 {
            r.ncols = n;
        } else if n != r.ncols {
            let field = if n < r.ncols { "sigma" } else { "data" };
            return Err(err_at(
                file,
                lineno,
                field,
                format!("{n} columns where the rows above have {}", r.ncols),
            ));
        }
        let [x, y, s] = v;
        r.x.push(x);
        r.y.push(y);
        if n == 3 {
            r.s.push(s);
        }
        r.lines.push(lineno);
    }
    if r.ncols == 0 {
        let last = lines.len().max(1) + first_lineno - 1;
        let msg = if lines.iter().all(|l| l.trim().is_empty()) {
            "empty file: no data rows"
        } else {
            "no data rows (expected 2θ, I [, σ])"
        };
        return Err(err_at(file, last, "data", msg));
    }
    Ok(r)
}

/// Turn the first column into 2θ (degrees).
fn to_two_theta(
    rows: &mut Rows,
    unit: XUnit,
    wavelength_ang: Option<f64>,
    unit_line: usize,
    file: &str,
) -> Result<(), ParseError> {
    match unit {
        XUnit::TwoThetaDeg => {}
        XUnit::TwoThetaRad => rows.x.iter_mut().for_each(|x| *x = x.to_degrees()),
        XUnit::QInvNm | XUnit::QInvAng => {
            let Some(lambda) = wavelength_ang else {
                return Err(err_at(
                    file,
                    unit_line,
                    "wavelength",
                    format!(
                        "the first column is Q ({}) and the file states no wavelength to turn it into 2θ",
                        unit.name()
                    ),
                ));
            };
            let scale = if unit == XUnit::QInvNm { 0.1 } else { 1.0 };
            for (x, &line) in rows.x.iter_mut().zip(&rows.lines) {
                *x = two_theta_from_q(*x * scale, lambda).ok_or_else(|| {
                    err_at(
                        file,
                        line,
                        "q",
                        format!(
                            "Q = {x} {} is beyond 2θ = 180° at λ = {lambda} Å",
                            unit.name()
                        ),
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// A pyFAI wavelength value with its optional unit, in Å. pyFAI writes
/// metres; a bare value below 1e-6 is taken as metres, above as Å.
fn wavelength_value(value: &str, file: &str, line: usize) -> Result<f64, ParseError> {
    let mut toks = value.split_whitespace();
    let v = parse_f64(toks.next().unwrap_or(""), file, line, "wavelength")?;
    let ang = match toks.next() {
        Some("m") => v * 1e10,
        Some("nm") => v * 10.0,
        Some("A" | "Å" | "Angstrom" | "angstrom" | "Ang") => v,
        Some(u) => {
            return Err(err_at(
                file,
                line,
                "wavelength",
                format!("unknown wavelength unit '{u}' (expected m, nm or A)"),
            ));
        }
        None if v < 1e-6 => v * 1e10,
        None => v,
    };
    if ang.is_nan() || ang <= 0.0 {
        return Err(err_at(
            file,
            line,
            "wavelength",
            format!("wavelength {value} is not positive"),
        ));
    }
    Ok(ang)
}

/// `.xy`, `.xye`, `.dat`: optional `#`/`'` comment header, then 2θ, I [, σ].
pub fn read_columns(text: &str, file: &str) -> Result<XrdPattern, ParseError> {
    let lines: Vec<&str> = crate::io::split_lines(text).collect();
    let is_comment = |t: &str| t.starts_with('#') || t.starts_with('\'');
    let mut metadata = Vec::new();
    let mut wavelength = None;
    // The column labels are the last header line above the numbers (pyFAI
    // `#  2th_deg  I`), or a `Unit:` line.
    let mut label: Option<(usize, &str)> = None;
    for (i, line) in lines.iter().enumerate() {
        let lineno = i + 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if !is_comment(t) && starts_numeric(t) {
            break;
        }
        let body = t.trim_start_matches(['#', '\'']).trim();
        if let Some((k, v)) = body.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("wavelength") {
                wavelength = Some(wavelength_value(v, file, lineno)?);
            }
            if k.eq_ignore_ascii_case("unit") {
                label = Some((lineno, v));
            }
            if !k.is_empty() && !v.is_empty() {
                metadata.push((k.to_owned(), v.to_owned()));
            }
        } else if !body.is_empty() {
            label = Some((lineno, body));
        }
    }
    let (mut unit, mut unit_line) = (XUnit::TwoThetaDeg, 1);
    if let Some((lineno, body)) = label {
        match body.split_whitespace().next().and_then(pyfai_unit) {
            Some(Ok(u)) => (unit, unit_line) = (u, lineno),
            Some(Err(u)) => {
                return Err(err_at(
                    file,
                    lineno,
                    "x unit",
                    format!("the first column is '{u}', not 2θ or Q"),
                ));
            }
            None => {}
        }
    }
    let mut rows = read_rows(&lines, 1, file, unit, is_comment)?;
    to_two_theta(&mut rows, unit, wavelength, unit_line, file)?;
    if unit != XUnit::TwoThetaDeg {
        metadata.push(("x unit in file".to_owned(), unit.name().to_owned()));
    }
    let ncols = rows.ncols;
    XrdPattern::checked(
        file,
        if ncols == 3 { "xye" } else { "xy" },
        rows.x,
        rows.y,
        (ncols == 3).then_some(rows.s),
        wavelength,
        metadata,
    )
}

/// Fit2D `.chi` header: title, x-axis label, y-axis label, point count,
/// then rows.
pub fn looks_like_chi(head: &str) -> bool {
    let mut lines = crate::io::split_lines(head);
    let (Some(_), Some(xlabel), Some(_), Some(count), Some(row)) = (
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
        lines.next(),
    ) else {
        return false;
    };
    xlabel.chars().any(|c| c.is_alphabetic())
        && count.trim().parse::<usize>().is_ok()
        && starts_numeric(row)
}

/// The x axis a Fit2D label names.
fn chi_unit(label: &str) -> Option<XUnit> {
    let l = label.to_ascii_lowercase();
    if l.contains("2-theta") || l.contains("2theta") || l.contains("2th") {
        Some(if l.contains("rad") {
            XUnit::TwoThetaRad
        } else {
            XUnit::TwoThetaDeg
        })
    } else if l.trim_start().starts_with('q') {
        Some(if l.contains("nm") {
            XUnit::QInvNm
        } else {
            XUnit::QInvAng
        })
    } else {
        None
    }
}

/// Fit2D `.chi`: 4 header lines (title, x label, y label, number of
/// points), then 2θ I rows. The count is recorded, not enforced: Dioptas's
/// own test file declares 1455 points and holds 74.
pub fn read_chi(text: &str, file: &str) -> Result<XrdPattern, ParseError> {
    let lines: Vec<&str> = crate::io::split_lines(text).collect();
    let header = |i: usize| lines.get(i).map_or("", |l| l.trim());
    let title = header(0);
    let xlabel = header(1);
    let unit = chi_unit(xlabel).ok_or_else(|| {
        err_at(
            file,
            2,
            "x axis label",
            format!("'{xlabel}' is neither 2-theta nor Q"),
        )
    })?;
    let declared: usize = header(3).parse().map_err(|_| {
        err_at(
            file,
            4,
            "number of points",
            format!("'{}' is not a count", header(3)),
        )
    })?;
    let body = lines.get(4..).unwrap_or(&[]);
    let mut rows = read_rows(body, 5, file, unit, |t| t.starts_with('#'))?;
    to_two_theta(&mut rows, unit, None, 2, file)?;
    let mut metadata = vec![
        ("title".to_owned(), title.to_owned()),
        ("x axis".to_owned(), xlabel.to_owned()),
        ("declared points".to_owned(), declared.to_string()),
    ];
    if !header(2).is_empty() {
        metadata.push(("y axis".to_owned(), header(2).to_owned()));
    }
    let ncols = rows.ncols;
    XrdPattern::checked(
        file,
        "fit2d_chi",
        rows.x,
        rows.y,
        (ncols == 3).then_some(rows.s),
        None,
        metadata,
    )
}
