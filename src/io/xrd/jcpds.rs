//! JCPDS phase cards as Dioptas and PeakPo read them (Dioptas
//! `model/util/jcpds.py`, M. Rivers; PeakPo `ds_jcpds`, S.-H. Shim):
//!
//! - version 4: `KEYWORD: value` lines after `VERSION: 4` (`COMMENT`, `K0`,
//!   `K0P`, `DK0DT`, `DK0PDT`, `SYMMETRY`, `A` `B` `C` `ALPHA` `BETA`
//!   `GAMMA`, `VOLUME`, `ALPHAT`, `DALPHADT`, one `DIHKL: d I h k l` per
//!   reflection); lattice values the symmetry implies may be left out.
//! - version 1: a comment line; `symmetry a0 K0 K0' c0/a0` (symmetry 1
//!   cubic, 2 hexagonal; commas allowed); a column-label line; `d I h k l`
//!   rows.
//! - versions 2 and 3 (Dan Shim's fixed layout): the version number; a
//!   comment; `symmetry K0 K0'` (1 cubic, 2 hexagonal, 3 tetragonal, 4
//!   orthorhombic, 5 monoclinic, 6 triclinic, 7 manual); the cell
//!   parameters that symmetry needs; the thermal expansion (version 2;
//!   the line is present but unused in version 3); a column-label line;
//!   `d I h k l` rows.

use std::path::Path;

use serde::Serialize;

use super::{decode, err_at, stem_of};
use crate::io::{ParseError, display_name, parse_f64};

/// One reflection of a card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JcpdsReflection {
    pub d_ang: f64,
    /// Relative intensity (0–100).
    pub intensity: f64,
    pub h: i32,
    pub k: i32,
    pub l: i32,
}

/// A JCPDS card: the ambient cell, the equation of state and the reflections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JcpdsCard {
    /// The file's stem.
    pub name: String,
    /// 1–4, as the file's layout says.
    pub version: u32,
    pub comments: Vec<String>,
    /// Upper case: CUBIC, HEXAGONAL, TETRAGONAL, ORTHORHOMBIC, MONOCLINIC,
    /// TRICLINIC, RHOMBOHEDRAL, TRIGONAL or MANUAL.
    pub symmetry: String,
    pub a_ang: f64,
    pub b_ang: f64,
    pub c_ang: f64,
    pub alpha_deg: f64,
    pub beta_deg: f64,
    pub gamma_deg: f64,
    /// Bulk modulus K0 (GPa) and its pressure derivative K0'.
    pub k0_gpa: f64,
    pub k0p: f64,
    pub dk0dt_gpa_per_k: f64,
    pub dk0pdt_per_k: f64,
    /// Volume thermal expansion α_T (1/K) and its temperature derivative.
    pub alpha_t_per_k: f64,
    pub dalpha_dt_per_k2: f64,
    /// The file's `VOLUME`, when stated (Å³).
    pub volume_ang3: Option<f64>,
    pub reflections: Vec<JcpdsReflection>,
}

impl JcpdsCard {
    fn empty(name: String, version: u32) -> Self {
        JcpdsCard {
            name,
            version,
            comments: Vec::new(),
            symmetry: String::new(),
            a_ang: 0.0,
            b_ang: 0.0,
            c_ang: 0.0,
            alpha_deg: 0.0,
            beta_deg: 0.0,
            gamma_deg: 0.0,
            k0_gpa: 0.0,
            k0p: 0.0,
            dk0dt_gpa_per_k: 0.0,
            dk0pdt_per_k: 0.0,
            alpha_t_per_k: 0.0,
            dalpha_dt_per_k2: 0.0,
            volume_ang3: None,
            reflections: Vec::new(),
        }
    }

    /// Fill in what the symmetry implies (b = a for cubic, γ = 120° for
    /// hexagonal…), as Dioptas does before computing d-spacings.
    fn complete_cell(&mut self) {
        let a = self.a_ang;
        let right = |v: &mut f64| {
            if *v == 0.0 {
                *v = 90.0;
            }
        };
        match self.symmetry.as_str() {
            "CUBIC" | "MANUAL" => {
                (self.b_ang, self.c_ang) = (a, a);
                (self.alpha_deg, self.beta_deg, self.gamma_deg) = (90.0, 90.0, 90.0);
            }
            "HEXAGONAL" | "TRIGONAL" => {
                self.b_ang = a;
                (self.alpha_deg, self.beta_deg, self.gamma_deg) = (90.0, 90.0, 120.0);
            }
            "TETRAGONAL" => {
                self.b_ang = a;
                (self.alpha_deg, self.beta_deg, self.gamma_deg) = (90.0, 90.0, 90.0);
            }
            "ORTHORHOMBIC" => {
                (self.alpha_deg, self.beta_deg, self.gamma_deg) = (90.0, 90.0, 90.0);
            }
            "MONOCLINIC" => {
                (self.alpha_deg, self.gamma_deg) = (90.0, 90.0);
            }
            "RHOMBOHEDRAL" => {
                (self.b_ang, self.c_ang) = (a, a);
                (self.beta_deg, self.gamma_deg) = (self.alpha_deg, self.alpha_deg);
            }
            _ => {
                right(&mut self.alpha_deg);
                right(&mut self.beta_deg);
                right(&mut self.gamma_deg);
            }
        }
    }
}

/// Read a JCPDS card.
pub fn read_jcpds(path: &Path) -> Result<JcpdsCard, ParseError> {
    let file = display_name(path);
    let bytes = crate::io::read_input(path)
        .map_err(|e| ParseError::new(&file, format!("cannot read file: {e}")))?;
    read_jcpds_bytes(&bytes, &file)
}

/// [`read_jcpds`] for bytes in memory; `file` names them in errors.
pub fn read_jcpds_bytes(bytes: &[u8], file: &str) -> Result<JcpdsCard, ParseError> {
    let text = decode(bytes);
    let lines: Vec<&str> = crate::io::split_lines(&text).collect();
    let first = lines.iter().map(|l| l.trim()).find(|l| !l.is_empty());
    let name = stem_of(file);
    let mut card = match first {
        None => return Err(err_at(file, 1, "VERSION", "empty file")),
        Some(f) if f.to_ascii_uppercase().starts_with("VERSION") => v4(&lines, file, name)?,
        Some("2") => v2_v3(&lines, file, name, 2)?,
        Some("3") => v2_v3(&lines, file, name, 3)?,
        Some(_) => v1(&lines, file, name)?,
    };
    card.complete_cell();
    let cell = [("A", card.a_ang), ("B", card.b_ang), ("C", card.c_ang)];
    for (field, v) in cell {
        if v.is_nan() || v <= 0.0 {
            return Err(ParseError::new(
                file,
                format!("lattice parameter {field} = {v} is not positive"),
            )
            .field(field));
        }
    }
    Ok(card)
}

/// `d I h k l` (whitespace separated; h, k, l integral).
fn reflection(
    t: &str,
    file: &str,
    line: usize,
    prefix: &str,
) -> Result<JcpdsReflection, ParseError> {
    let tok: Vec<&str> = t.split_whitespace().collect();
    let names = ["d", "intensity", "h", "k", "l"];
    let mut v = [0.0; 5];
    for (i, (slot, name)) in v.iter_mut().zip(names).enumerate() {
        let f = format!("{prefix}{name}");
        let Some(tok) = tok.get(i) else {
            return Err(err_at(
                file,
                line,
                &f,
                format!(
                    "a reflection needs d, I, h, k, l; found {} values",
                    tok.len()
                ),
            ));
        };
        *slot = parse_f64(tok, file, line, &f)?;
    }
    let idx = |i: usize| {
        let x = v[i];
        if x.fract() == 0.0 && x.abs() < 1000.0 {
            Ok(x as i32)
        } else {
            Err(err_at(
                file,
                line,
                &format!("{prefix}{}", names[i]),
                format!("Miller index {x} is not an integer"),
            ))
        }
    };
    if v[0].is_nan() || v[0] <= 0.0 {
        return Err(err_at(
            file,
            line,
            &format!("{prefix}d"),
            format!("d = {} Å is not positive", v[0]),
        ));
    }
    Ok(JcpdsReflection {
        d_ang: v[0],
        intensity: v[1],
        h: idx(2)?,
        k: idx(3)?,
        l: idx(4)?,
    })
}

fn v4(lines: &[&str], file: &str, name: String) -> Result<JcpdsCard, ParseError> {
    let mut card = JcpdsCard::empty(name, 4);
    for (i, l) in lines.iter().enumerate() {
        let ln = i + 1;
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        let Some((tag, value)) = t.split_once(':') else {
            return Err(err_at(
                file,
                ln,
                "keyword",
                format!("'{t}' is not 'KEYWORD: value'"),
            ));
        };
        let tag = tag.trim().to_ascii_uppercase();
        let value = value.trim();
        let num = || parse_f64(value, file, ln, &tag);
        match tag.as_str() {
            "VERSION" => {
                card.version = value.parse().map_err(|_| {
                    err_at(
                        file,
                        ln,
                        "VERSION",
                        format!("'{value}' is not a version number"),
                    )
                })?;
            }
            "COMMENT" => card.comments.push(value.to_owned()),
            "K0" => card.k0_gpa = num()?,
            "K0P" => card.k0p = num()?,
            "DK0DT" => card.dk0dt_gpa_per_k = num()?,
            "DK0PDT" => card.dk0pdt_per_k = num()?,
            "SYMMETRY" => card.symmetry = value.to_ascii_uppercase(),
            "A" => card.a_ang = num()?,
            "B" => card.b_ang = num()?,
            "C" => card.c_ang = num()?,
            "ALPHA" => card.alpha_deg = num()?,
            "BETA" => card.beta_deg = num()?,
            "GAMMA" => card.gamma_deg = num()?,
            "VOLUME" => card.volume_ang3 = Some(num()?),
            "ALPHAT" => card.alpha_t_per_k = num()?,
            "DALPHADT" => card.dalpha_dt_per_k2 = num()?,
            "DIHKL" => card
                .reflections
                .push(reflection(value, file, ln, "DIHKL ")?),
            _ => {} // unknown keywords are ignored, as Dioptas does
        }
    }
    if card.symmetry.is_empty() {
        return Err(ParseError::new(file, "no SYMMETRY line").field("SYMMETRY"));
    }
    Ok(card)
}

/// Numbers of a fixed-layout line (commas count as blanks).
fn numbers(lines: &[&str], idx: usize, file: &str, names: &[&str]) -> Result<Vec<f64>, ParseError> {
    let ln = idx + 1;
    let Some(l) = lines.get(idx) else {
        return Err(err_at(
            file,
            ln,
            names.first().copied().unwrap_or("header"),
            "file ends before this header line",
        ));
    };
    let toks: Vec<&str> = l
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let tok = toks.get(i).ok_or_else(|| {
                err_at(
                    file,
                    ln,
                    name,
                    format!(
                        "expected {} values ({}), found {}",
                        names.len(),
                        names.join(", "),
                        toks.len()
                    ),
                )
            })?;
            parse_f64(tok, file, ln, name)
        })
        .collect()
}

fn reflections_from(
    lines: &[&str],
    from: usize,
    file: &str,
    card: &mut JcpdsCard,
) -> Result<(), ParseError> {
    for (i, l) in lines.iter().enumerate().skip(from) {
        if !l.trim().is_empty() {
            card.reflections.push(reflection(l, file, i + 1, "")?);
        }
    }
    Ok(())
}

fn v1(lines: &[&str], file: &str, name: String) -> Result<JcpdsCard, ParseError> {
    let mut card = JcpdsCard::empty(name, 1);
    card.comments
        .push(lines.first().map_or("", |l| l.trim()).to_owned());
    let v = numbers(lines, 1, file, &["symmetry", "a0", "K0", "K0'", "c0/a0"])?;
    card.symmetry = match v[0] as i64 {
        1 => "CUBIC",
        2 => "HEXAGONAL",
        _ => {
            return Err(err_at(
                file,
                2,
                "symmetry",
                format!(
                    "symmetry code {} (version 1 knows 1 cubic, 2 hexagonal)",
                    v[0]
                ),
            ));
        }
    }
    .to_owned();
    (card.a_ang, card.k0_gpa, card.k0p) = (v[1], v[2], v[3]);
    card.c_ang = v[1] * v[4];
    reflections_from(lines, 3, file, &mut card)?;
    Ok(card)
}

fn v2_v3(lines: &[&str], file: &str, name: String, version: u32) -> Result<JcpdsCard, ParseError> {
    let mut card = JcpdsCard::empty(name, version);
    card.comments
        .push(lines.get(1).map_or("", |l| l.trim()).to_owned());
    let v = numbers(lines, 2, file, &["symmetry", "K0", "K0'"])?;
    (card.k0_gpa, card.k0p) = (v[1], v[2]);
    let (sym, cell): (&str, &[&str]) = match v[0] as i64 {
        1 => ("CUBIC", &["a"]),
        2 => ("HEXAGONAL", &["a", "c"]),
        3 => ("TETRAGONAL", &["a", "c"]),
        4 => ("ORTHORHOMBIC", &["a", "b", "c"]),
        5 => ("MONOCLINIC", &["a", "b", "c", "beta"]),
        6 => ("TRICLINIC", &["a", "b", "c", "alpha", "beta", "gamma"]),
        7 => ("MANUAL", &["a"]),
        _ => {
            return Err(err_at(
                file,
                3,
                "symmetry",
                format!("symmetry code {} is not 1–7", v[0]),
            ));
        }
    };
    card.symmetry = sym.to_owned();
    let c = numbers(lines, 3, file, cell)?;
    for (name, val) in cell.iter().zip(c) {
        match *name {
            "a" => card.a_ang = val,
            "b" => card.b_ang = val,
            "c" => card.c_ang = val,
            "alpha" => card.alpha_deg = val,
            "beta" => card.beta_deg = val,
            _ => card.gamma_deg = val,
        }
    }
    if version == 2 {
        card.alpha_t_per_k = numbers(lines, 4, file, &["alpha_t"])?[0];
    }
    reflections_from(lines, 6, file, &mut card)?;
    Ok(card)
}
