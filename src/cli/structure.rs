//! `carto structure CIF`: formula, space group, cell, sites and shells.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use carto::structure::{Lattice, Shell, Site};

use super::args::cif_block;
use super::{emit, print_json_pretty};

/// The shells around one site.
#[derive(Serialize)]
pub struct SiteShellsOut<'a> {
    pub site: &'a str,
    pub index: usize,
    pub element: &'static str,
    pub shells: Vec<Shell>,
}

/// The cell (Å, degrees) and its volume (Å³).
#[derive(Serialize)]
pub struct LatticeOut {
    #[serde(flatten)]
    pub cell: Lattice,
    #[serde(rename = "volume")]
    pub volume_ang3: f64,
}

/// `carto structure --json`.
#[derive(Serialize)]
pub struct StructureOut<'a> {
    pub file: String,
    pub block: &'a str,
    pub formula: String,
    pub composition: BTreeMap<&'static str, f64>,
    pub spacegroup_number: Option<i32>,
    pub spacegroup_symbol: Option<&'a str>,
    pub spacegroup_in_file: Option<&'a str>,
    pub spacegroup_error: Option<&'a str>,
    pub lattice: LatticeOut,
    pub nsites: usize,
    pub sites: &'a [Site],
    pub shells: Vec<SiteShellsOut<'a>>,
    pub warnings: &'a [String],
}

#[derive(Debug, Args)]
pub struct StructureArgs {
    /// The CIF file.
    pub cif: PathBuf,
    /// Neighbour shells around the first site of this element only (default: every element).
    #[arg(long, value_name = "EL")]
    pub absorber: Option<String>,
    /// Shells out to this distance (Å).
    #[arg(long, default_value_t = 6.0, value_name = "Å")]
    pub rmax: f64,
    /// Data block to use when the file has several (default: the first with atoms).
    #[arg(long)]
    pub block: Option<String>,
    /// Space-group search tolerance (Å), as spglib's symprec.
    #[arg(long, default_value_t = 0.01)]
    pub symprec: f64,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &StructureArgs) -> Result<()> {
    use carto::structure as st;
    if !(a.rmax.is_finite() && a.rmax > 0.0 && a.rmax <= 20.0) {
        bail!("--rmax = {} Å must be in (0, 20]", a.rmax);
    }
    if !(a.symprec.is_finite() && a.symprec > 0.0 && a.symprec < 1.0) {
        bail!("--symprec = {} Å must be in (0, 1)", a.symprec);
    }
    let all = st::read_cif(&a.cif).map_err(anyhow::Error::msg)?;
    let s = cif_block(&all, a.block.as_deref(), &a.cif)?;
    let centers: Vec<usize> = match &a.absorber {
        Some(el) => vec![
            st::first_site_of(s, el)
                .ok_or_else(|| anyhow::anyhow!("{}: no site of element '{el}'", a.cif.display()))?,
        ],
        None => {
            let mut seen = Vec::new();
            let mut c = Vec::new();
            for (i, site) in s.sites.iter().enumerate() {
                let el = site.main_species().element;
                if !seen.contains(&el) {
                    seen.push(el);
                    c.push(i);
                }
            }
            c
        }
    };
    let sg = st::spacegroup(s, a.symprec).map_err(|e| e.to_string());
    let l = s.lattice;
    if a.json {
        let shells = centers
            .iter()
            .map(|&i| {
                let site = &s.sites[i];
                SiteShellsOut {
                    site: &site.label,
                    index: i,
                    element: site.main_species().element,
                    shells: st::shells(s, i, a.rmax),
                }
            })
            .collect();
        return print_json_pretty(&StructureOut {
            file: a.cif.display().to_string(),
            block: &s.name,
            formula: st::reduced_formula(s),
            composition: st::composition(s).into_iter().collect(),
            spacegroup_number: sg.as_ref().ok().map(|g| g.number),
            spacegroup_symbol: sg.as_ref().ok().map(|g| g.symbol.as_str()),
            spacegroup_in_file: s.spacegroup_in_file.as_deref(),
            spacegroup_error: sg.as_ref().err().map(String::as_str),
            lattice: LatticeOut {
                cell: l,
                volume_ang3: l.volume_ang3(),
            },
            nsites: s.sites.len(),
            sites: &s.sites,
            shells,
            warnings: &s.warnings,
        });
    }
    let mut out = format!(
        "{}  (block {})\nformula   {}\nspace grp {}\ncell      a={:.4} b={:.4} c={:.4} Å  α={:.3} β={:.3} γ={:.3}°  V={:.3} Å³\nsites     {} in the cell\n",
        a.cif.display(),
        s.name,
        st::reduced_formula(s),
        match &sg {
            Ok(g) => format!("{} (#{})", g.symbol, g.number),
            Err(e) => e.clone(),
        },
        l.a_ang,
        l.b_ang,
        l.c_ang,
        l.alpha_deg,
        l.beta_deg,
        l.gamma_deg,
        l.volume_ang3(),
        s.sites.len()
    );
    for &i in &centers {
        let site = &s.sites[i];
        out.push_str(&format!(
            "\nshells around {} ({}) to {} Å:\n",
            site.label,
            site.main_species().element,
            a.rmax
        ));
        for x in st::shells(s, i, a.rmax) {
            out.push_str(&format!("  {:8.4} Å  {:3} × {}\n", x.r_ang, x.n, x.element));
        }
    }
    for w in &s.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    emit(&out)
}
