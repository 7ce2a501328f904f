//! `carto theory CIF --absorber EL`: FEFF scattering paths of a structure
//! computed in-process (refeff), written as `feffNNNN.dat`; or, with
//! `--closed`, the fast closed-form single-scattering χ(k).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use carto::structure::{Shell, Structure};
use carto::theory::closed::{ClosedOptions, PairLibrary, closed_chi};
use carto::theory::{Absorber, Edge, TheoryOptions, compute_paths};

use super::args::cif_block;
use super::{emit, print_json};

/// One atom of a path.
#[derive(Serialize)]
pub struct PathAtomOut {
    pub element: String,
    pub ipot: usize,
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// One path in `carto theory --json`.
#[derive(Serialize)]
pub struct PathOut {
    pub index: usize,
    pub file: String,
    pub reff: f64,
    pub degen: f64,
    pub nleg: usize,
    pub geometry: Vec<PathAtomOut>,
}

/// `carto theory --json`.
#[derive(Serialize)]
pub struct TheoryOut {
    pub file: String,
    pub block: String,
    pub absorber: String,
    pub site: usize,
    pub edge: &'static str,
    pub rmax: f64,
    pub cluster_atoms: usize,
    pub seconds: f64,
    pub out: Option<String>,
    pub written: Vec<String>,
    pub paths: Vec<PathOut>,
}

/// `carto theory --closed --json`.
#[derive(Serialize)]
pub struct ClosedOut {
    pub file: String,
    pub block: String,
    pub absorber: String,
    pub edge: &'static str,
    pub rmax: f64,
    pub sigma2: f64,
    pub k: Vec<f64>,
    pub chi: Vec<f64>,
    pub shells: Vec<Shell>,
    pub pair_tables_computed: usize,
    pub cache: Option<String>,
    pub written: Vec<String>,
}

#[derive(Debug, Args)]
pub struct TheoryArgs {
    /// The CIF file.
    pub cif: PathBuf,
    /// Absorbing element (its first site).
    #[arg(long, value_name = "EL", required_unless_present = "site")]
    pub absorber: Option<String>,
    /// Absorbing site, by index in the expanded cell (`carto structure --json` lists them).
    #[arg(long, conflicts_with = "absorber")]
    pub site: Option<usize>,
    /// Edge: K, L1, L2 or L3.
    #[arg(long, default_value = "K")]
    pub edge: String,
    /// Longest half path length (Å).
    #[arg(long, default_value_t = 5.0, value_name = "Å")]
    pub rmax: f64,
    /// Most legs per path (2 = single scattering).
    #[arg(long, default_value_t = 4)]
    pub nleg: usize,
    /// Folder for feffNNNN.dat (and feff.inp); created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write feff.inp into --out (to check against FEFF itself).
    #[arg(long)]
    pub feff_inp: bool,
    /// Data block to use when the file has several (default: the first with atoms).
    #[arg(long)]
    pub block: Option<String>,
    /// The closed-form single-scattering χ(k) from cached pair tables instead of paths.
    #[arg(long)]
    pub closed: bool,
    /// σ² of every shell for --closed (Å²).
    #[arg(long, default_value_t = 0.003, value_name = "Å²")]
    pub sigma2: f64,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &TheoryArgs) -> Result<()> {
    let edge = Edge::parse(&a.edge)?;
    let absorber = match (&a.absorber, a.site) {
        (_, Some(i)) => Absorber::Site(i),
        (Some(el), None) => Absorber::Element(el.clone()),
        (None, None) => bail!("give --absorber EL or --site N"),
    };
    let file = a.cif.display().to_string();
    let all = carto::structure::read_cif(&a.cif).map_err(anyhow::Error::msg)?;
    let s = cif_block(&all, a.block.as_deref(), &a.cif)?;
    if a.closed {
        return run_closed(a, s, &absorber, edge, &file);
    }
    let set = compute_paths(
        s,
        &absorber,
        &TheoryOptions {
            edge,
            rmax_ang: a.rmax,
            nleg: a.nleg,
            ..TheoryOptions::default()
        },
        &file,
    )?;
    let written = match &a.out {
        Some(dir) => set
            .write(dir, a.feff_inp)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", dir.display()))?
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        None => Vec::new(),
    };
    let (site, absorber_el, natoms) = match &set.cluster {
        Some(c) => (
            c.absorber_site,
            c.absorber_element.to_string(),
            c.atoms.len(),
        ),
        None => (0, String::new(), 0),
    };
    let paths: Vec<PathOut> = set
        .paths
        .iter()
        .zip(&set.files)
        .enumerate()
        .map(|(i, (p, (name, _)))| PathOut {
            index: p.path_index.unwrap_or(i + 1),
            file: name.clone(),
            reff: p.reff_ang,
            degen: p.degen,
            nleg: p.nleg,
            geometry: p
                .geometry
                .iter()
                .map(|g| PathAtomOut {
                    element: g.element.clone(),
                    ipot: g.ipot,
                    x: g.x_ang,
                    y: g.y_ang,
                    z: g.z_ang,
                })
                .collect(),
        })
        .collect();
    if a.json {
        return print_json(&TheoryOut {
            file,
            block: s.name.clone(),
            absorber: absorber_el,
            site,
            edge: edge.as_str(),
            rmax: a.rmax,
            cluster_atoms: natoms,
            seconds: set.seconds,
            out: a.out.as_ref().map(|d| d.display().to_string()),
            written,
            paths,
        });
    }
    let mut t = format!(
        "{file} (block {}): {absorber_el} {} edge, site {site}, cluster of {natoms} atoms, {} paths to {} Å in {:.2} s\n  index    reff   degen nleg  geometry\n",
        s.name,
        edge.as_str(),
        paths.len(),
        a.rmax,
        set.seconds
    );
    for p in &paths {
        let geo: Vec<&str> = p.geometry.iter().map(|g| g.element.as_str()).collect();
        t.push_str(&format!(
            "  {:5} {:7.4} {:7.2} {:4}  {}\n",
            p.index,
            p.reff,
            p.degen,
            p.nleg,
            geo.join("-")
        ));
    }
    if let Some(dir) = &a.out {
        t.push_str(&format!(
            "wrote {} files to {}\n",
            written.len(),
            dir.display()
        ));
    }
    emit(t.trim_end())
}

fn run_closed(
    a: &TheoryArgs,
    s: &Structure,
    absorber: &Absorber,
    edge: Edge,
    file: &str,
) -> Result<()> {
    let mut lib = PairLibrary::user();
    let chi = closed_chi(
        s,
        absorber,
        &mut lib,
        &ClosedOptions {
            edge,
            rmax_ang: a.rmax,
            sigma2_ang2: a.sigma2,
            ..ClosedOptions::default()
        },
        file,
    )?;
    let center = carto::theory::cluster::absorber_site(s, absorber, file)?;
    let absorber_el = s.sites[center].main_species().element.to_string();
    let mut written = Vec::new();
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", dir.display()))?;
        let p = dir.join("chi_closed.dat");
        let mut text = format!(
            "# closed-form single-scattering chi(k) of {file}, {absorber_el} {} edge, shells to {} A, sigma2 {} A^2 (carto theory --closed)\n# k chi\n",
            edge.as_str(),
            a.rmax,
            a.sigma2
        );
        for (k, c) in chi.k_inv_ang.iter().zip(&chi.chi) {
            text.push_str(&format!("{k:8.4} {c:14.7e}\n"));
        }
        std::fs::write(&p, text)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", p.display()))?;
        written.push(p.display().to_string());
    }
    if a.json {
        return print_json(&ClosedOut {
            file: file.to_string(),
            block: s.name.clone(),
            absorber: absorber_el,
            edge: edge.as_str(),
            rmax: a.rmax,
            sigma2: a.sigma2,
            k: chi.k_inv_ang,
            chi: chi.chi,
            shells: chi.shells,
            pair_tables_computed: lib.computed,
            cache: lib.cache_dir().map(|d| d.display().to_string()),
            written,
        });
    }
    let mut t = format!(
        "{file}: closed-form χ(k) of {absorber_el} {} edge from {} shells to {} Å ({} pair tables computed)\n",
        edge.as_str(),
        chi.shells.len(),
        a.rmax,
        lib.computed
    );
    for sh in &chi.shells {
        t.push_str(&format!(
            "  {:8.4} Å  {:3} × {}\n",
            sh.r_ang, sh.n, sh.element
        ));
    }
    for w in &written {
        t.push_str(&format!("wrote {w}\n"));
    }
    emit(t.trim_end())
}
