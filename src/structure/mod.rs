//! Crystal structures: CIF reading, symmetry expansion with duplicate
//! merging, space-group detection (moyo, the Rust successor of spglib) and
//! neighbour shells. Idealized candidate structures are what Carto compares
//! measured spectra and patterns with.

pub mod cif;
mod sgsearch;
pub mod symop;

pub use sgsearch::DIRECT_SEARCH_SITES;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::io::feff::element_symbol;
use cif::{CifBlock, CifValue};
use symop::SymOp;

/// Sites closer than this (Å) after symmetry expansion are one site.
pub const MERGE_TOL_ANG: f64 = 0.01;

/// Unit cell parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lattice {
    #[serde(rename = "a")]
    pub a_ang: f64,
    #[serde(rename = "b")]
    pub b_ang: f64,
    #[serde(rename = "c")]
    pub c_ang: f64,
    #[serde(rename = "alpha")]
    pub alpha_deg: f64,
    #[serde(rename = "beta")]
    pub beta_deg: f64,
    #[serde(rename = "gamma")]
    pub gamma_deg: f64,
}

impl Lattice {
    /// Row basis vectors: a along x, b in the xy plane (the usual setting;
    /// every number Carto reports is independent of the orientation).
    pub fn matrix(&self) -> [[f64; 3]; 3] {
        let (ca, cb, cg) = (
            self.alpha_deg.to_radians().cos(),
            self.beta_deg.to_radians().cos(),
            self.gamma_deg.to_radians().cos(),
        );
        let sg = self.gamma_deg.to_radians().sin();
        let cx = cb;
        let cy = (ca - cb * cg) / sg;
        let cz = (1.0 - cx * cx - cy * cy).max(0.0).sqrt();
        [
            [self.a_ang, 0.0, 0.0],
            [self.b_ang * cg, self.b_ang * sg, 0.0],
            [self.c_ang * cx, self.c_ang * cy, self.c_ang * cz],
        ]
    }

    pub fn volume_ang3(&self) -> f64 {
        let m = self.matrix();
        dot(m[0], cross(m[1], m[2])).abs()
    }

    /// Cartesian position (Å) of fractional coordinates.
    pub fn to_cart(&self, f: [f64; 3]) -> [f64; 3] {
        let m = self.matrix();
        std::array::from_fn(|i| f[0] * m[0][i] + f[1] * m[1][i] + f[2] * m[2][i])
    }

    /// Reciprocal basis rows b_i with a_i·b_j = δ_ij (no 2π).
    pub fn reciprocal(&self) -> [[f64; 3]; 3] {
        let m = self.matrix();
        let v = dot(m[0], cross(m[1], m[2]));
        let r = |x: [f64; 3], y: [f64; 3]| {
            let c = cross(x, y);
            [c[0] / v, c[1] / v, c[2] / v]
        };
        [r(m[1], m[2]), r(m[2], m[0]), r(m[0], m[1])]
    }

    /// The condition number of the metric tensor with unit edges (the
    /// matrix of the angles' cosines): how close the cell is to flat,
    /// whatever its edge lengths. 1 for a cube, 4 at 60°/60°/60°, 32 for
    /// the worst of the 645 AMCSD cells; it grows without bound as the
    /// angles approach a flat cell (5·10⁵ at 119.9999°/119.9999°/119.9999°).
    pub fn metric_condition(&self) -> f64 {
        let [ca, cb, cg] =
            [self.alpha_deg, self.beta_deg, self.gamma_deg].map(|d| d.to_radians().cos());
        let g = nalgebra::Matrix3::new(1.0, cg, cb, cg, 1.0, ca, cb, ca, 1.0);
        let ev = g.symmetric_eigenvalues();
        let (lo, hi) = (ev.min(), ev.max());
        if lo > 0.0 { hi / lo } else { f64::INFINITY }
    }

    /// The cell is usable, or the CIF tag at fault and why.
    fn valid(&self) -> Result<(), (&'static str, String)> {
        for (tag, n, v) in [
            ("_cell_length_a", "a", self.a_ang),
            ("_cell_length_b", "b", self.b_ang),
            ("_cell_length_c", "c", self.c_ang),
        ] {
            // No real crystal has a cell edge below 1 Å or above 1000 Å.
            if !(v > 1.0 && v < 1000.0) {
                return Err((
                    tag,
                    format!("_cell_length_{n} = {v} Å is not a cell length"),
                ));
            }
        }
        for (n, v) in [
            ("alpha", self.alpha_deg),
            ("beta", self.beta_deg),
            ("gamma", self.gamma_deg),
        ] {
            if !(v > 0.0 && v < 180.0) {
                return Err((
                    angle_tag(n),
                    format!("_cell_angle_{n} = {v}° is not an angle"),
                ));
            }
        }
        let m = self.matrix();
        let vol = dot(m[0], cross(m[1], m[2])).abs();
        if vol.is_nan() || vol <= 1e-3 || m[2][2].is_nan() {
            return Err(("_cell_angle_alpha", "the cell angles give no volume".into()));
        }
        // A nearly flat cell has a tiny but legal volume; its fractional
        // and Cartesian neighbourhoods no longer agree, and expansion and
        // neighbour searches run away.
        let cond = self.metric_condition();
        if cond.is_nan() || cond > MAX_METRIC_CONDITION {
            return Err((
                "_cell_angle_alpha",
                format!(
                    "_cell_angle_alpha/beta/gamma = {}°/{}°/{}° make a nearly flat cell \
                     (metric tensor condition number {cond:.3e} > {MAX_METRIC_CONDITION:e})",
                    self.alpha_deg, self.beta_deg, self.gamma_deg
                ),
            ));
        }
        Ok(())
    }
}

/// Cells whose angle metric ([`Lattice::metric_condition`]) is worse are
/// refused: 300× the worst real cell seen.
pub const MAX_METRIC_CONDITION: f64 = 1e4;

fn angle_tag(n: &str) -> &'static str {
    match n {
        "alpha" => "_cell_angle_alpha",
        "beta" => "_cell_angle_beta",
        _ => "_cell_angle_gamma",
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// One element on a site with its occupancy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Species {
    pub z: u32,
    pub element: &'static str,
    pub occupancy: f64,
}

/// A site of the expanded cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    /// The CIF label of the asymmetric-unit site it came from.
    pub label: String,
    pub species: Vec<Species>,
    pub frac: [f64; 3],
    /// Isotropic displacement B = 8π²U (Å²), when the CIF gives one.
    pub b_iso_ang2: Option<f64>,
}

impl Site {
    /// The species with the largest occupancy (the site's element for shells).
    pub fn main_species(&self) -> &Species {
        self.species.iter().fold(&self.species[0], |m, s| {
            if s.occupancy > m.occupancy { s } else { m }
        })
    }
}

/// A crystal structure with every site of the unit cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Structure {
    /// The data block name.
    pub name: String,
    pub lattice: Lattice,
    pub sites: Vec<Site>,
    /// The space group named in the file (H-M symbol), if any.
    pub spacegroup_in_file: Option<String>,
    /// Non-fatal remarks (e.g. occupancies above one merged).
    pub warnings: Vec<String>,
}

/// An error reading a structure: file, line (when known) and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct StructureError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Read every structure (data block with atom sites) of a CIF file.
pub fn read_cif(path: &Path) -> Result<Vec<Structure>, StructureError> {
    let file = path.display().to_string();
    let bytes = crate::io::read_input(path).map_err(|e| StructureError {
        file: file.clone(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    let located = |e: crate::io::ParseError| StructureError {
        file: file.clone(),
        line: e.line,
        message: e.message,
    };
    let bytes = crate::io::detect::utf16_as_utf8(&bytes, &file).map_err(located)?;
    if let Some(e) = crate::io::detect::not_text(&bytes, &file, "CIF") {
        return Err(located(e));
    }
    parse_cif_structures(&String::from_utf8_lossy(&bytes), &file)
}

/// The structures of CIF text (`file` names it in errors).
pub fn parse_cif_structures(text: &str, file: &str) -> Result<Vec<Structure>, StructureError> {
    let err = |line: Option<usize>, message: String| StructureError {
        file: file.to_string(),
        line,
        message,
    };
    let blocks = cif::parse_cif(text).map_err(|e| err(Some(e.line), e.message))?;
    let mut out = Vec::new();
    let mut first_err = None;
    for b in &blocks {
        if b.find_loop("_atom_site_fract_x").is_none() && b.get("_atom_site_fract_x").is_none() {
            continue;
        }
        match structure_from_block(b) {
            Ok(s) => out.push(s),
            Err((line, m)) => {
                first_err
                    .get_or_insert(err(line.or(Some(b.line)), format!("data_{}: {m}", b.name)));
            }
        }
    }
    if out.is_empty() {
        return Err(first_err.unwrap_or_else(|| {
            err(
                None,
                "no data block has atom sites (_atom_site_fract_x)".into(),
            )
        }));
    }
    Ok(out)
}

type BlockError = (Option<usize>, String);

fn number(b: &CifBlock, tag: &str) -> Result<f64, BlockError> {
    let v = b
        .get(tag)
        .ok_or_else(|| (None, format!("{tag} is missing")))?;
    v.number().ok_or_else(|| {
        (
            Some(v.line),
            format!("{tag} = '{}' is not a number", v.text),
        )
    })
}

/// Element from a CIF type symbol or label: `Fe3+`, `O2-`, `Fe1`, `OW`, `D`.
pub fn element_from_symbol(s: &str) -> Option<u32> {
    let letters: String = s.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if letters.to_ascii_lowercase().starts_with("wat") {
        // AMCSD's water oxygen.
        return Some(8);
    }
    let mut ch = letters.chars();
    let first = ch.next()?.to_ascii_uppercase();
    let two = ch
        .next()
        .map(|c| format!("{first}{}", c.to_ascii_lowercase()));
    let lookup = |sym: &str| (1..=98).find(|&z| element_symbol(z) == sym);
    if let Some(t) = two
        && let Some(z) = lookup(&t)
    {
        return Some(z);
    }
    match first {
        'D' | 'T' => Some(1),
        _ => lookup(&first.to_string()),
    }
}

/// Symmetry operations of a block: the xyz loop, else the Hall symbol, the
/// H-M symbol or the IT number (in that order). An IT number outside
/// 1–230, or a Hall symbol that does not parse when it is the one source
/// of symmetry, is an error at its line (never a silent P1). Listed
/// operations that do not form a group are closed (products added) with a
/// warning, or refused when they generate more than any space group has.
fn block_ops(b: &CifBlock, warnings: &mut Vec<String>) -> Result<Vec<SymOp>, BlockError> {
    let text = |tag: &str| b.get(tag).filter(|v| !v.is_null());
    for tag in ["_space_group_it_number", "_symmetry_int_tables_number"] {
        if let Some(v) = text(tag)
            && !v
                .number()
                .is_some_and(|n| n.fract() == 0.0 && (1.0..=230.0).contains(&n))
        {
            return Err((
                Some(v.line),
                format!("{tag} = '{}' is not a space-group number (1–230)", v.text),
            ));
        }
    }
    for tag in [
        "_space_group_symop_operation_xyz",
        "_symmetry_equiv_pos_as_xyz",
    ] {
        let vals = b.values(tag);
        if !vals.is_empty() {
            let listed = vals
                .iter()
                .map(|v| symop::parse_xyz(&v.text).map_err(|m| (Some(v.line), m.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let line = vals.first().map(|v| v.line);
            return match symop::close_group(&listed) {
                Ok((ops, 0)) => Ok(ops),
                Ok((ops, added)) => {
                    let first_added = ops
                        .iter()
                        .find(|o| !listed.contains(o))
                        .map(symop::to_xyz)
                        .unwrap_or_default();
                    warnings.push(format!(
                        "line {}: the {} operations of {tag} do not form a group; closed to {} \
                         by adding {added} products (first: {first_added})",
                        line.unwrap_or(b.line),
                        listed.len(),
                        ops.len()
                    ));
                    Ok(ops)
                }
                Err(n) => Err((
                    line,
                    format!(
                        "the operations of {tag} generate more than {} operations ({n} so far): \
                         not a space group",
                        symop::MAX_GROUP_ORDER
                    ),
                )),
            };
        }
    }
    for tag in ["_space_group_name_hall", "_symmetry_space_group_name_hall"] {
        if let Some(v) = text(tag) {
            return symop::ops_from_hall_symbol(&v.text).ok_or_else(|| {
                (
                    Some(v.line),
                    format!("{tag} = '{}' is not a Hall symbol Carto can read", v.text),
                )
            });
        }
    }
    let hm_tags = [
        "_space_group_name_h-m_alt",
        "_symmetry_space_group_name_h-m",
    ];
    let mut hm_seen: Option<&CifValue> = None;
    for tag in hm_tags {
        if let Some(v) = text(tag) {
            hm_seen = Some(v);
            if let Some(h) = symop::hall_number_from_hm(&v.text) {
                return symop::ops_from_hall_number(h)
                    .ok_or((Some(v.line), "bad space group".into()));
            }
        }
    }
    for tag in ["_space_group_it_number", "_symmetry_int_tables_number"] {
        if let Some(v) = text(tag)
            && let Some(n) = v.number()
            && let Some(h) = symop::hall_number_from_it(n as i32)
        {
            return symop::ops_from_hall_number(h).ok_or((
                Some(v.line),
                format!("{tag} = '{}': no operations for this number", v.text),
            ));
        }
    }
    match hm_seen {
        Some(v) => Err((
            Some(v.line),
            format!(
                "unknown space group symbol '{}' and no symmetry operations",
                v.text
            ),
        )),
        None => Ok(vec![SymOp::IDENTITY]),
    }
}

/// Physical range of a mean-square displacement U = ⟨u²⟩: 0–1 Å² (1 Å
/// rms). Ordered crystals have U ≈ 0.002–0.05 Å², disordered or solvent
/// sites up to ~0.5 Å². Reference libraries still hold values outside it
/// (AMCSD: U = 2 where B = 8π²U was meant, small negative refined U's,
/// 21 of its 645 files here): such a value is not used (no Debye–Waller
/// factor for that site) and a located warning says so.
const MAX_U_ANG2: f64 = 1.0;

/// Beyond any reading of a displacement (10 Å rms, larger than most cell
/// edges; or negative past −1 Å²): a located error.
const ABSURD_U_ANG2: [f64; 2] = [-1.0, 100.0];

/// B = 8π²U (Willis & Pryor 1975): the physical B bound is ≈ 79 Å².
const B_PER_U: f64 = 8.0 * std::f64::consts::PI * std::f64::consts::PI;

/// |fract| bound: coordinates outside [0, 1) are legal (a molecule kept
/// whole across the cell edge) but not ten cells away.
const MAX_ABS_FRACT: f64 = 10.0;

/// A displacement value (`scale` is 1 for U, 8π² for B) checked against
/// [`MAX_U_ANG2`] and [`ABSURD_U_ANG2`]: `Ok(None)` inside the physical
/// range or absent, `Ok(Some(warning))` outside it (the value is then not
/// used), `Err` when absurd.
fn check_displacement(
    v: Option<&CifValue>,
    tag: &str,
    site: &str,
    scale: f64,
) -> Result<Option<String>, BlockError> {
    let Some(v) = v else { return Ok(None) };
    let Some(x) = v.number() else { return Ok(None) };
    let (lo, hi) = (scale * ABSURD_U_ANG2[0], scale * ABSURD_U_ANG2[1]);
    if !(lo..=hi).contains(&x) {
        return Err((
            Some(v.line),
            format!("site {site}: {tag} = {x} Å² is absurd (outside {lo:.0} to {hi:.0} Å²)"),
        ));
    }
    let max = scale * MAX_U_ANG2;
    Ok((!(0.0..=max).contains(&x)).then(|| {
        format!(
            "line {}: site {site}: {tag} = {x} Å² is outside the physical 0–{max:.0} Å²; not used",
            v.line
        )
    }))
}

struct AsymSite {
    label: String,
    z: u32,
    occupancy: f64,
    frac: [f64; 3],
    b_iso: Option<f64>,
}

fn asym_sites(b: &CifBlock, warnings: &mut Vec<String>) -> Result<Vec<AsymSite>, BlockError> {
    let lp = b
        .find_loop("_atom_site_fract_x")
        .ok_or((None, "no _atom_site loop".to_string()))?;
    let col = |t: &str| lp.column(&cif::normalize_tag(t));
    let (cx, cy, cz) = match (
        col("_atom_site_fract_x"),
        col("_atom_site_fract_y"),
        col("_atom_site_fract_z"),
    ) {
        (Some(x), Some(y), Some(z)) => (x, y, z),
        _ => return Err((None, "the atom-site loop lacks fract_y or fract_z".into())),
    };
    let c_label = col("_atom_site_label");
    let c_type = col("_atom_site_type_symbol");
    let c_occ = col("_atom_site_occupancy");
    let c_u = col("_atom_site_u_iso_or_equiv");
    let c_b = col("_atom_site_b_iso_or_equiv");
    // Anisotropic U's (another loop, by label) give U_eq ≈ (U11+U22+U33)/3.
    let mut u_aniso: HashMap<String, f64> = HashMap::new();
    if let Some(al) = b.find_loop("_atom_site_aniso_u_11") {
        let c = |t: &str| al.column(t);
        if let (Some(l), Some(u1), Some(u2), Some(u3)) = (
            c("_atom_site_aniso_label"),
            c("_atom_site_aniso_u_11"),
            c("_atom_site_aniso_u_22"),
            c("_atom_site_aniso_u_33"),
        ) {
            for r in &al.rows {
                let mut usable = true;
                for (c, tag) in [(u1, "U_11"), (u2, "U_22"), (u3, "U_33")] {
                    let tag = format!("_atom_site_aniso_{tag}");
                    if let Some(w) = check_displacement(Some(&r[c]), &tag, &r[l].text, 1.0)? {
                        warnings.push(w);
                        usable = false;
                    }
                }
                if usable
                    && let (Some(a), Some(bb), Some(cc)) =
                        (r[u1].number(), r[u2].number(), r[u3].number())
                {
                    u_aniso.insert(r[l].text.clone(), (a + bb + cc) / 3.0);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, r) in lp.rows.iter().enumerate() {
        let label = c_label.map_or_else(|| format!("site{}", i + 1), |c| r[c].text.clone());
        let sym_src = c_type
            .map(|c| &r[c])
            .filter(|v| !v.is_null())
            .map_or(label.as_str(), |v| v.text.as_str());
        let line = r[cx].line;
        let z = element_from_symbol(sym_src).ok_or_else(|| {
            (
                Some(line),
                format!("site {label}: no element in '{sym_src}'"),
            )
        })?;
        let coord = |c: usize, n: &str| {
            r[c].number().ok_or_else(|| {
                (
                    Some(r[c].line),
                    format!("site {label}: fract_{n} = '{}' is not a number", r[c].text),
                )
            })
        };
        let frac = [coord(cx, "x")?, coord(cy, "y")?, coord(cz, "z")?];
        for (c, n, x) in [(cx, "x", frac[0]), (cy, "y", frac[1]), (cz, "z", frac[2])] {
            if x.abs() > MAX_ABS_FRACT {
                return Err((
                    Some(r[c].line),
                    format!(
                        "site {label}: fract_{n} = {x} is more than {MAX_ABS_FRACT} cells away \
                         (Cartesian coordinates in a fractional column?)"
                    ),
                ));
            }
        }
        let occupancy = match c_occ.map(|c| &r[c]) {
            Some(v) if !v.is_null() => {
                v.number()
                    .filter(|o| (0.0..=1.5).contains(o))
                    .ok_or_else(|| {
                        (
                            Some(v.line),
                            format!("site {label}: occupancy '{}' is not in 0–1", v.text),
                        )
                    })?
            }
            _ => 1.0,
        };
        let u_warn =
            check_displacement(c_u.map(|c| &r[c]), "_atom_site_U_iso_or_equiv", &label, 1.0)?;
        let b_warn = check_displacement(
            c_b.map(|c| &r[c]),
            "_atom_site_B_iso_or_equiv",
            &label,
            B_PER_U,
        )?;
        let u = match &u_warn {
            Some(_) => None,
            None => c_u.and_then(|c| r[c].number()),
        }
        .or_else(|| u_aniso.get(&label).copied());
        let b_iso = match &b_warn {
            Some(_) => None,
            None => c_b.and_then(|c| r[c].number()),
        }
        .or_else(|| u.map(|u| B_PER_U * u));
        warnings.extend(u_warn);
        warnings.extend(b_warn);
        out.push(AsymSite {
            label,
            z,
            occupancy,
            frac,
            b_iso,
        });
    }
    if out.is_empty() {
        return Err((Some(b.line), "the atom-site loop is empty".into()));
    }
    Ok(out)
}

fn wrap(f: [f64; 3]) -> [f64; 3] {
    f.map(|x| {
        let w = x - x.floor();
        if w >= 1.0 - 1e-12 { 0.0 } else { w }
    })
}

/// Periodic Cartesian distance between two fractional positions (nearest image).
fn periodic_distance(lat: &Lattice, a: [f64; 3], b: [f64; 3]) -> f64 {
    let d: [f64; 3] = std::array::from_fn(|i| {
        let x = a[i] - b[i];
        x - x.round()
    });
    let c = lat.to_cart(d);
    dot(c, c).sqrt()
}

fn structure_from_block(b: &CifBlock) -> Result<Structure, BlockError> {
    let lattice = Lattice {
        a_ang: number(b, "_cell_length_a")?,
        b_ang: number(b, "_cell_length_b")?,
        c_ang: number(b, "_cell_length_c")?,
        alpha_deg: number(b, "_cell_angle_alpha")?,
        beta_deg: number(b, "_cell_angle_beta")?,
        gamma_deg: number(b, "_cell_angle_gamma")?,
    };
    lattice
        .valid()
        .map_err(|(tag, m)| (b.get(tag).map(|v| v.line), m))?;
    let mut warnings = Vec::new();
    let ops = block_ops(b, &mut warnings)?;
    let asym = asym_sites(b, &mut warnings)?;
    let mut sites: Vec<Site> = Vec::new();
    // Spatial bins (fractional) for fast duplicate lookup.
    let nb = |len: f64| ((len / 1.0).floor() as i64).clamp(1, 64);
    let bins = [nb(lattice.a_ang), nb(lattice.b_ang), nb(lattice.c_ang)];
    let key = |f: [f64; 3]| -> [i64; 3] {
        std::array::from_fn(|i| ((f[i] * bins[i] as f64).floor() as i64).rem_euclid(bins[i]))
    };
    let mut grid: HashMap<[i64; 3], Vec<usize>> = HashMap::new();
    for s in &asym {
        let mut orbit: Vec<[f64; 3]> = Vec::new();
        for op in &ops {
            let p = wrap(op.apply(s.frac));
            if !orbit
                .iter()
                .any(|q| periodic_distance(&lattice, p, *q) < MERGE_TOL_ANG)
            {
                orbit.push(p);
            }
        }
        for p in orbit {
            let k = key(p);
            let mut hit = None;
            'search: for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        let kk = [
                            (k[0] + dx).rem_euclid(bins[0]),
                            (k[1] + dy).rem_euclid(bins[1]),
                            (k[2] + dz).rem_euclid(bins[2]),
                        ];
                        if let Some(list) = grid.get(&kk) {
                            for &i in list {
                                if periodic_distance(&lattice, p, sites[i].frac) < MERGE_TOL_ANG {
                                    hit = Some(i);
                                    break 'search;
                                }
                            }
                        }
                    }
                }
            }
            match hit {
                Some(i) if sites[i].label == s.label => {}
                Some(i) => {
                    // Another asymmetric site on the same spot: a disordered site.
                    let site = &mut sites[i];
                    match site.species.iter_mut().find(|sp| sp.z == s.z) {
                        Some(sp) => sp.occupancy += s.occupancy,
                        None => site.species.push(Species {
                            z: s.z,
                            element: element_symbol(s.z),
                            occupancy: s.occupancy,
                        }),
                    }
                    if !site.label.split('/').any(|l| l == s.label) {
                        site.label = format!("{}/{}", site.label, s.label);
                    }
                }
                None => {
                    grid.entry(k).or_default().push(sites.len());
                    sites.push(Site {
                        label: s.label.clone(),
                        species: vec![Species {
                            z: s.z,
                            element: element_symbol(s.z),
                            occupancy: s.occupancy,
                        }],
                        frac: p,
                        b_iso_ang2: s.b_iso,
                    });
                }
            }
        }
    }
    for s in &sites {
        let total: f64 = s.species.iter().map(|sp| sp.occupancy).sum();
        if total > 1.0 + 1e-3 {
            warnings.push(format!(
                "site {} at {:?}: total occupancy {total:.3} > 1",
                s.label, s.frac
            ));
        }
    }
    let spacegroup_in_file = [
        "_space_group_name_h-m_alt",
        "_symmetry_space_group_name_h-m",
    ]
    .iter()
    .find_map(|t| b.get(t).filter(|v| !v.is_null()).map(|v| v.text.clone()));
    Ok(Structure {
        name: b.name.clone(),
        lattice,
        sites,
        spacegroup_in_file,
        warnings,
    })
}

/// Element counts in the cell (Σ occupancy per element), in Hill order.
pub fn composition(s: &Structure) -> Vec<(&'static str, f64)> {
    let mut m: BTreeMap<&'static str, f64> = BTreeMap::new();
    for site in &s.sites {
        for sp in &site.species {
            *m.entry(sp.element).or_default() += sp.occupancy;
        }
    }
    let mut v: Vec<(&'static str, f64)> = m.into_iter().collect();
    let has_c = v.iter().any(|(e, _)| *e == "C");
    v.sort_by_key(|(e, _)| match (*e, has_c) {
        ("C", true) => (0, *e),
        ("H", true) => (1, *e),
        _ => (2, *e),
    });
    v
}

/// The reduced formula in Hill order (`Fe3O4`, `CaCO3`); fractional
/// compositions keep up to three decimals.
pub fn reduced_formula(s: &Structure) -> String {
    let comp = composition(s);
    let near_int = |x: f64| (x - x.round()).abs() < 1e-3 * x.max(1.0);
    let scale = if comp.iter().all(|(_, n)| near_int(*n)) {
        let g = comp.iter().map(|(_, n)| n.round() as u64).fold(0, gcd);
        g.max(1) as f64
    } else {
        1.0
    };
    comp.iter()
        .map(|(e, n)| {
            let x = n / scale;
            if (x - 1.0).abs() < 1e-6 {
                e.to_string()
            } else if near_int(x) {
                format!("{e}{}", x.round() as u64)
            } else {
                let t = format!("{x:.3}");
                format!("{e}{}", t.trim_end_matches('0').trim_end_matches('.'))
            }
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The space group found from the expanded structure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpaceGroupInfo {
    pub number: i32,
    pub symbol: String,
    pub hall_number: i32,
}

/// moyo searches at most this many sites (an error saying so above it):
/// it tries every site of the rarest species as a pivot for every lattice
/// rotation, each try O(sites), so its time is quadratic (10⁴ sites ≈ 2 s
/// release, 2·10⁴ ≈ 7 s). Larger cells are first reduced to their primitive
/// cell, and a primitive cell with no rotation symmetry is found P1,
/// without moyo, in near-linear time (`sgsearch`).
pub const MAX_SPACEGROUP_SITES: usize = 20_000;

/// Why no space group was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpaceGroupError {
    /// A primitive cell of more than [`MAX_SPACEGROUP_SITES`] sites with
    /// some symmetry beyond P1 (or too big to tell within the search's
    /// lookup budget).
    #[error(
        "space-group search skipped: a primitive cell of {sites} sites with symmetry \
         beyond P1 is more than {MAX_SPACEGROUP_SITES} (its time grows as the square \
         of the sites)"
    )]
    TooManySites { sites: usize },
    /// moyo's own reason.
    #[error("space group search failed: {0}")]
    Search(String),
}

/// Space-group detection with moyo at `symprec` Å and 5° (pymatgen's
/// SpacegroupAnalyzer defaults are 0.01 Å and 5°). Sites with different
/// species or occupancies count as different atoms. Cells above
/// [`DIRECT_SEARCH_SITES`] sites are reduced to their primitive cell first
/// and found P1 without moyo when no rotation maps them onto themselves;
/// moyo itself sees at most [`MAX_SPACEGROUP_SITES`] sites.
pub fn spacegroup(s: &Structure, symprec: f64) -> Result<SpaceGroupInfo, SpaceGroupError> {
    let mut kinds: std::collections::HashMap<Vec<(u32, i64)>, i32> = Default::default();
    let mut numbers = Vec::with_capacity(s.sites.len());
    for site in &s.sites {
        let mut k: Vec<(u32, i64)> = site
            .species
            .iter()
            .map(|sp| (sp.z, (sp.occupancy * 1e3).round() as i64))
            .collect();
        k.sort();
        let next = kinds.len() as i32 + 1;
        numbers.push(*kinds.entry(k).or_insert(next));
    }
    let lattice = moyo::base::Lattice::from_basis(s.lattice.matrix());
    let positions = s
        .sites
        .iter()
        .map(|x| nalgebra::Vector3::new(x.frac[0], x.frac[1], x.frac[2]))
        .collect();
    sgsearch::search(&moyo::base::Cell::new(lattice, positions, numbers), symprec)
}

/// One neighbour shell: distance, count, element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shell {
    #[serde(rename = "r")]
    pub r_ang: f64,
    pub n: usize,
    pub element: &'static str,
}

/// Every periodic image of every site within `rmax_ang` of site `center`
/// (the centre itself excluded), as `visit(site index, Cartesian offset
/// from the centre in Å, distance in Å)`; stops early when `visit` returns
/// false. Each axis is searched as far as `rmax_ang` reaches across its
/// lattice planes.
pub fn for_each_image_within(
    s: &Structure,
    center: usize,
    rmax_ang: f64,
    mut visit: impl FnMut(usize, [f64; 3], f64) -> bool,
) {
    let m = s.lattice.matrix();
    let v = s.lattice.volume_ang3();
    let reach = |i: usize| {
        let (j, k) = ((i + 1) % 3, (i + 2) % 3);
        let c = cross(m[j], m[k]);
        let d = v / dot(c, c).sqrt();
        (rmax_ang / d).ceil() as i64 + 1
    };
    let (n0, n1, n2) = (reach(0), reach(1), reach(2));
    let c0 = s.sites[center].frac;
    for (index, site) in s.sites.iter().enumerate() {
        for i in -n0..=n0 {
            for j in -n1..=n1 {
                for k in -n2..=n2 {
                    let d = [
                        site.frac[0] + i as f64 - c0[0],
                        site.frac[1] + j as f64 - c0[1],
                        site.frac[2] + k as f64 - c0[2],
                    ];
                    let c = s.lattice.to_cart(d);
                    let r = dot(c, c).sqrt();
                    if r > 1e-3 && r <= rmax_ang && !visit(index, c, r) {
                        return;
                    }
                }
            }
        }
    }
}

/// Neighbour shells of site `center` out to `rmax_ang`: neighbours of the
/// same element within 0.01 Å of each other form one shell. A disordered
/// site counts as its main species.
pub fn shells(s: &Structure, center: usize, rmax_ang: f64) -> Vec<Shell> {
    let mut found: Vec<(f64, &'static str)> = Vec::new();
    for_each_image_within(s, center, rmax_ang, |site, _, r| {
        found.push((r, s.sites[site].main_species().element));
        true
    });
    found.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
    let mut out: Vec<Shell> = Vec::new();
    for (r, el) in found {
        match out
            .iter_mut()
            .rev()
            .take_while(|sh| r - sh.r_ang < 0.01)
            .find(|sh| sh.element == el)
        {
            Some(sh) => sh.n += 1,
            None => out.push(Shell {
                r_ang: r,
                n: 1,
                element: el,
            }),
        }
    }
    out.sort_by(|a, b| a.r_ang.total_cmp(&b.r_ang).then(a.element.cmp(b.element)));
    out
}

/// Index of the first site whose main species is element `el`.
pub fn first_site_of(s: &Structure, el: &str) -> Option<usize> {
    s.sites
        .iter()
        .position(|x| x.main_species().element.eq_ignore_ascii_case(el))
}
