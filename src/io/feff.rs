//! FEFF scattering-path files (`feffNNNN.dat`, FEFF6 and FEFF8 layouts).
//!
//! Layout, as Larch's `FeffDatFile` reads it: title lines (the first one
//! carries the FEFF version from column 65), potential lines `Abs Z= Rmt=
//! Rnm= K shell` / `Pot N Z= …`, `Gam_ch= … exch`, `Mu= kf= Vint= Rs_int=`,
//! a dashed line, the path line `nleg, deg, reff, rnrmav(bohr), edge`, the
//! atoms of the path, then the 7-column table headed `k real[2*phc] …`.
//! Unlike Larch, a table row without exactly 7 numbers is an error (Larch
//! drops it silently), so a cut file is reported, not half-read.

use serde::Serialize;

use super::{ParseError, parse_f64};

/// One potential of the FEFF run (from the header).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeffPotential {
    /// Potential index (0 is the absorber).
    pub ipot: usize,
    /// Atomic number.
    pub z: u32,
    /// Element symbol for `z`.
    pub element: String,
    /// Muffin-tin radius (Å).
    pub r_mt_ang: f64,
    /// Norman radius (Å).
    pub r_norm_ang: f64,
}

/// One atom of the scattering path, absorber first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeffAtom {
    pub x_ang: f64,
    pub y_ang: f64,
    pub z_ang: f64,
    pub ipot: usize,
    /// Atomic number.
    pub iz: u32,
    /// The label written after `iz` (FEFF writes the element, possibly a
    /// tag), or the element symbol when absent, as Larch does.
    pub label: String,
    /// Element symbol for `iz`.
    pub element: String,
}

/// One `feffNNNN.dat`: header values, path geometry and the k table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeffPath {
    /// Title lines; the first without the version text.
    pub title: Vec<String>,
    /// FEFF version text from the first line (`Feff 6L.02 …`).
    pub version: String,
    /// Edge/shell of the absorber (`K`, `L3`, …).
    pub shell: String,
    pub potentials: Vec<FeffPotential>,
    /// Core-hole lifetime broadening (eV).
    pub gam_ch_ev: f64,
    /// Exchange model (`H-L exch`).
    pub exch: String,
    /// Fermi level (eV).
    pub mu_ev: f64,
    /// Fermi momentum (Å⁻¹).
    pub kf_inv_ang: f64,
    /// Interstitial potential (eV).
    pub vint_ev: f64,
    /// Interstitial density parameter rs (bohr).
    pub rs_int: f64,
    /// Path number from the `Path N icalc M` line, when present.
    pub path_index: Option<usize>,
    /// Number of legs.
    pub nleg: usize,
    /// Degeneracy.
    pub degen: f64,
    /// Half path length (Å).
    pub reff_ang: f64,
    /// Average Norman radius (bohr).
    pub rnorman_bohr: f64,
    /// Edge energy from the path line (eV).
    pub edge_ev: f64,
    /// The path's atoms, absorber first (`nleg` of them).
    pub geometry: Vec<FeffAtom>,
    pub k_inv_ang: Vec<f64>,
    /// `real[2*phc]`: central-atom phase shift 2δc.
    pub real_phc: Vec<f64>,
    /// `mag[feff]`: |F_eff|.
    pub mag_feff: Vec<f64>,
    /// `phase[feff]`: phase of F_eff.
    pub pha_feff: Vec<f64>,
    /// `red factor`: reduction factor.
    pub red_fact: Vec<f64>,
    /// `lambda`: mean free path (Å).
    pub lam_ang: Vec<f64>,
    /// `real[p]`: real part of the complex momentum (Å⁻¹).
    pub rep_inv_ang: Vec<f64>,
}

impl FeffPath {
    /// Total phase, `real_phc + pha_feff` (Larch's `pha`).
    pub fn pha(&self) -> Vec<f64> {
        self.real_phc
            .iter()
            .zip(&self.pha_feff)
            .map(|(a, b)| a + b)
            .collect()
    }
    /// Amplitude, `mag_feff * red_fact` (Larch's `amp`).
    pub fn amp(&self) -> Vec<f64> {
        self.mag_feff
            .iter()
            .zip(&self.red_fact)
            .map(|(a, b)| a * b)
            .collect()
    }
    /// Label of the absorbing atom (first atom of the path).
    pub fn absorber(&self) -> Option<&str> {
        self.geometry.first().map(|a| a.label.as_str())
    }
    pub fn npts(&self) -> usize {
        self.k_inv_ang.len()
    }
}

/// Column names of the table, for error messages.
const COLUMNS: [&str; 7] = [
    "k",
    "real[2*phc]",
    "mag[feff]",
    "phase[feff]",
    "red factor",
    "lambda",
    "real[p]",
];

/// Whether the start of a file is a `feffNNNN.dat`, whatever it is named:
/// the path line's legend or the table header are in every FEFF6/8/9 one.
pub fn looks_like_feff(head: &str) -> bool {
    head.contains("nleg, deg, reff") || (head.contains("real[2*phc]") && head.contains("mag[feff]"))
}

/// Whether the text is a FEFF *input* file (`feff.inp`): it has the
/// `POTENTIALS` and `ATOMS` cards. Used to give a clear error instead of
/// reading it as columns.
pub fn looks_like_feff_inp(head: &str) -> bool {
    // A card word is somewhere in the text: a quick exact pre-check that
    // spares the line-by-line look at every ordinary data file.
    let b = head.as_bytes();
    if !contains_ascii_ci(b, b"potentials") || !contains_ascii_ci(b, b"atoms") {
        return false;
    }
    let card = |name: &str| {
        super::split_lines(head).any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    };
    !looks_like_feff(head) && card("POTENTIALS") && card("ATOMS")
}

/// Whether `hay` contains `needle` (lower-case ASCII) ignoring ASCII case.
fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), hay).any(|i| {
        hay.get(i + 1..i + needle.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(rest))
    })
}

#[derive(PartialEq)]
enum Mode {
    Header,
    Path,
    Table,
}

/// Value following `key` in the `key value key value` tokens of a header
/// line (`=` already turned into spaces).
fn after<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    let i = words.iter().position(|w| w.eq_ignore_ascii_case(key))?;
    words.get(i + 1).copied()
}

/// Read one `feffNNNN.dat`.
pub fn read(text: &str, file: &str) -> Result<FeffPath, ParseError> {
    let err = |line: usize, field: &str, msg: String| {
        ParseError::new(file, msg).at_line(line).field(field)
    };
    let num = |tok: Option<&str>, line: usize, field: &str| -> Result<f64, ParseError> {
        let tok = tok.ok_or_else(|| err(line, field, format!("missing value for {field}")))?;
        parse_f64(tok, file, line, field)
    };
    let int = |tok: Option<&str>, line: usize, field: &str| -> Result<i64, ParseError> {
        let tok = tok.ok_or_else(|| err(line, field, format!("missing value for {field}")))?;
        tok.parse::<i64>()
            .map_err(|_| err(line, field, format!("'{tok}' is not an integer")))
    };

    let mut mode = Mode::Header;
    let mut title = Vec::new();
    let mut version = String::new();
    let mut shell = String::new();
    let mut potentials = Vec::new();
    let mut gam_ch = None;
    let mut exch = String::new();
    let mut mu_line = None;
    let mut path_index = None;
    let mut path_line = None;
    let mut path_count = 0usize;
    let mut geometry = Vec::new();
    let mut table: [Vec<f64>; 7] = Default::default();
    let mut table_line = None;
    let mut last_line = 0;

    for (idx, raw) in super::split_lines(text).enumerate() {
        let ln = idx + 1;
        last_line = ln;
        let mut line = raw.trim();
        if let Some(rest) = line.strip_prefix('#') {
            line = rest.trim();
        }
        if ln == 1 {
            // Title, then the FEFF version ("Feff 6L.02 …", "Feff8L (EXAFS)
            // 0.1"). Larch cuts at column 64 of the trimmed line, which
            // splits "Feff 6L.02" in FEFF6L and FEFF8L files; cutting at the
            // last "Feff" keeps both parts whole, column 64 is the fallback.
            let split = match line.rfind("Feff").filter(|&i| i > 0) {
                Some(i) => i,
                None => line.char_indices().nth(64).map_or(line.len(), |(i, _)| i),
            };
            let (t, v) = line.split_at(split);
            title.push(t.trim().to_string());
            version = v.trim().to_string();
            continue;
        }
        if line.starts_with('k') && (line.contains("real[2*phc]") || line.ends_with("real[p]@#")) {
            mode = Mode::Table;
            table_line = Some(ln);
            continue;
        }
        if mode == Mode::Header && line.len() >= 10 && line.bytes().all(|c| c == b'-') {
            mode = Mode::Path;
            continue;
        }
        match mode {
            Mode::Header => {
                let spaced = line.replace('=', " ");
                let words: Vec<&str> = spaced.split_whitespace().collect();
                let first = words.first().copied().map_or("", |v| v);
                let is_pot = first == "Abs"
                    || (first == "Pot" && words.get(1).is_some_and(|w| w.parse::<usize>().is_ok()));
                if is_pot && line.contains("Z=") {
                    let ipot = if first == "Abs" {
                        0
                    } else {
                        int(words.get(1).copied(), ln, "ipot")?
                    };
                    let z = int(after(&words, "Z"), ln, "Z")?;
                    let rnm_tok = after(&words, "Rnm");
                    if first == "Abs" {
                        // `Rnm= 1.424 K shell`: the word after the radius.
                        shell = words
                            .iter()
                            .position(|w| *w == "Rnm")
                            .and_then(|i| words.get(i + 2))
                            .map_or(String::new(), |s| s.to_string());
                    }
                    let z = u32::try_from(z)
                        .map_err(|_| err(ln, "Z", format!("bad atomic number {z}")))?;
                    potentials.push(FeffPotential {
                        ipot: usize::try_from(ipot)
                            .map_err(|_| err(ln, "ipot", format!("bad potential index {ipot}")))?,
                        z,
                        element: element_symbol(z).to_string(),
                        r_mt_ang: num(after(&words, "Rmt"), ln, "Rmt")?,
                        r_norm_ang: num(rnm_tok, ln, "Rnm")?,
                    });
                } else if first.eq_ignore_ascii_case("Gam_ch") {
                    gam_ch = Some(num(words.get(1).copied(), ln, "Gam_ch")?);
                    exch = words.get(2..).map_or(String::new(), |w| w.join(" "));
                } else if first == "Mu" {
                    let spaced = spaced.replace("eV", " ");
                    let words: Vec<&str> = spaced.split_whitespace().collect();
                    mu_line = Some((
                        num(after(&words, "Mu"), ln, "Mu")?,
                        num(after(&words, "kf"), ln, "kf")?,
                        num(after(&words, "Vint"), ln, "Vint")?,
                        num(after(&words, "Rs_int"), ln, "Rs_int")?,
                    ));
                } else if first == "Path" {
                    path_index = words.get(1).and_then(|w| w.parse::<usize>().ok());
                } else if potentials.is_empty() && !line.is_empty() {
                    title.push(line.to_string());
                }
            }
            Mode::Path => {
                path_count += 1;
                let words: Vec<&str> = line.split_whitespace().collect();
                if path_count == 1 {
                    let nleg = int(words.first().copied(), ln, "nleg")?;
                    let nleg = usize::try_from(nleg)
                        .ok()
                        .filter(|n| (2..=64).contains(n))
                        .ok_or_else(|| err(ln, "nleg", format!("nleg {nleg} out of range")))?;
                    path_line = Some((
                        ln,
                        nleg,
                        num(words.get(1).copied(), ln, "degen")?,
                        num(words.get(2).copied(), ln, "reff")?,
                        num(words.get(3).copied(), ln, "rnrmav")?,
                        num(words.get(4).copied(), ln, "edge")?,
                    ));
                } else if path_count > 2 && !line.is_empty() {
                    let iz = int(words.get(4).copied(), ln, "iz")?;
                    let iz = u32::try_from(iz)
                        .map_err(|_| err(ln, "iz", format!("bad atomic number {iz}")))?;
                    let ipot = int(words.get(3).copied(), ln, "ipot")?;
                    let element = element_symbol(iz).to_string();
                    geometry.push(FeffAtom {
                        x_ang: num(words.first().copied(), ln, "x")?,
                        y_ang: num(words.get(1).copied(), ln, "y")?,
                        z_ang: num(words.get(2).copied(), ln, "z")?,
                        ipot: usize::try_from(ipot)
                            .map_err(|_| err(ln, "ipot", format!("bad potential index {ipot}")))?,
                        iz,
                        label: words
                            .get(5)
                            .map_or_else(|| element.clone(), |s| s.to_string()),
                        element,
                    });
                }
            }
            Mode::Table => {
                if line.is_empty() {
                    continue;
                }
                let mut n = 0;
                for (i, tok) in line.split_whitespace().enumerate() {
                    let col = table.get_mut(i).ok_or_else(|| {
                        err(
                            ln,
                            "table",
                            format!("more than 7 columns in table row: '{line}'"),
                        )
                    })?;
                    col.push(parse_f64(
                        tok,
                        file,
                        ln,
                        COLUMNS.get(i).copied().map_or("table", |v| v),
                    )?);
                    n += 1;
                }
                if n != 7 {
                    let missing = COLUMNS.get(n).copied().map_or("table", |v| v);
                    return Err(err(
                        ln,
                        missing,
                        format!("table row has {n} of 7 columns (file cut short?)"),
                    ));
                }
            }
        }
    }

    let missing = |what: &str| {
        ParseError::new(
            file,
            format!("no {what} found: not a complete feffNNNN.dat"),
        )
        .at_line(last_line.max(1))
    };
    let (pline, nleg, degen, reff, rnorman, edge) =
        path_line.ok_or_else(|| missing("path line (nleg, deg, reff, …)"))?;
    let table_line = table_line.ok_or_else(|| missing("data table (k real[2*phc] …)"))?;
    if geometry.len() != nleg {
        return Err(ParseError::new(
            file,
            format!(
                "path has nleg = {nleg} but {} atoms are listed",
                geometry.len()
            ),
        )
        .at_line(pline)
        .field("nleg"));
    }
    let (mu, kf, vint, rs_int) = mu_line.ok_or_else(|| missing("'Mu= kf= Vint= Rs_int=' line"))?;
    let [k, real_phc, mag_feff, pha_feff, red_fact, lam, rep] = table;
    if k.is_empty() {
        return Err(
            ParseError::new(file, "data table has no rows (file cut short?)")
                .at_line(table_line)
                .field("k"),
        );
    }
    if let Some(i) = k.windows(2).position(|w| matches!(w, [a, b] if b <= a)) {
        return Err(ParseError::new(file, "k values are not increasing")
            .at_line(table_line + i + 2)
            .field("k"));
    }
    Ok(FeffPath {
        title,
        version,
        shell,
        potentials,
        gam_ch_ev: gam_ch.ok_or_else(|| missing("'Gam_ch=' line"))?,
        exch,
        mu_ev: mu,
        kf_inv_ang: kf,
        vint_ev: vint,
        rs_int,
        path_index,
        nleg,
        degen,
        reff_ang: reff,
        rnorman_bohr: rnorman,
        edge_ev: edge,
        geometry,
        k_inv_ang: k,
        real_phc,
        mag_feff,
        pha_feff,
        red_fact,
        lam_ang: lam,
        rep_inv_ang: rep,
    })
}

/// Element symbols by atomic number (index 0 is a placeholder).
const SYMBOLS: [&str; 119] = [
    "?", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S",
    "Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge",
    "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
    "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd",
    "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
    "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm",
    "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn",
    "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
];

/// Symbol for atomic number `z`; `"?"` outside 1–118.
pub fn element_symbol(z: u32) -> &'static str {
    usize::try_from(z)
        .ok()
        .and_then(|i| SYMBOLS.get(i))
        .copied()
        .map_or("?", |v| v)
}
