//! `carto theory CIF --absorber EL`: FEFF scattering paths of a structure
//! computed in-process (refeff), written as `feffNNNN.dat`; with
//! `--closed`, the fast closed-form single-scattering χ(k); with
//! `--xanes`, the XANES μ(E) by full multiple scattering (optionally
//! compared with a measured spectrum).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use carto::structure::{Shell, Structure};
use carto::theory::closed::{ClosedOptions, PairLibrary, closed_chi};
use carto::theory::xanes::{NormSpectrum, StageTime};
use carto::theory::{
    Absorber, CoreHole, Edge, TheoryOptions, XanesAgreement, XanesOptions, compare_xanes,
    compute_paths, simulate_xanes,
};

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

/// `carto theory --xanes --json`.
#[derive(Serialize)]
pub struct XanesOut {
    pub file: String,
    pub block: String,
    pub absorber: String,
    pub site: usize,
    pub edge: &'static str,
    pub fms_radius: f64,
    pub scf_radius: Option<f64>,
    pub core_hole: &'static str,
    pub kmax: f64,
    pub broadening: f64,
    pub cluster_atoms: usize,
    pub fms_atoms: usize,
    pub scf_atoms: usize,
    /// Wall time of the refeff run (s) and of its stages.
    pub seconds: f64,
    pub stages: Vec<StageTime>,
    /// Edge (max dμ/dE) on FEFF's absolute energy scale (eV).
    pub e0: f64,
    pub energy_min: f64,
    pub energy_max: f64,
    pub npts: usize,
    pub energy: Vec<f64>,
    pub mu_norm: Vec<f64>,
    pub out: Option<String>,
    pub written: Vec<String>,
    pub compare: Option<CompareOut>,
}

/// The comparison with a measured spectrum (`--compare`).
#[derive(Serialize)]
pub struct CompareOut {
    pub file: String,
    pub measured_e0: f64,
    #[serde(flatten)]
    pub agreement: XanesAgreement,
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
    /// The XANES μ(E) by full multiple scattering (FEFF10's FMS) instead of paths.
    #[arg(long, conflicts_with = "closed")]
    pub xanes: bool,
    /// --xanes: atoms within this radius scatter to all orders (Å).
    #[arg(long, default_value_t = 5.0, value_name = "Å", requires = "xanes")]
    pub fms_radius: f64,
    /// --xanes: self-consistent potentials from the atoms within this radius (Å); 0 = none.
    #[arg(long, default_value_t = XanesOptions::default().scf_radius_ang.unwrap_or(0.0), value_name = "Å", requires = "xanes")]
    pub scf_radius: f64,
    /// --xanes: core hole, RPA (screened), FSR (final-state rule) or NONE.
    #[arg(long, default_value = "RPA", requires = "xanes")]
    pub core_hole: String,
    /// --xanes: the spectrum reaches ħ²k²/2m above the Fermi level (Å⁻¹; 4 ≈ 61 eV).
    #[arg(long, default_value_t = 4.0, value_name = "Å⁻¹", requires = "xanes")]
    pub xanes_kmax: f64,
    /// --xanes: extra Lorentzian broadening for the beamline resolution (eV).
    #[arg(long, default_value_t = 0.0, value_name = "eV", requires = "xanes")]
    pub broadening: f64,
    /// --xanes: compare with a measured μ(E) (FILE or PROJECT:GROUP), normalized as `carto xas`.
    #[arg(long, value_name = "FILE[:GROUP]", requires = "xanes")]
    pub compare: Option<String>,
    /// --compare: window relative to the measured e0 (eV).
    #[arg(long, num_args = 2, value_names = ["EMIN", "EMAX"], default_values_t = [-20.0, 60.0], allow_negative_numbers = true, requires = "compare")]
    pub window: Vec<f64>,
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
    if a.xanes {
        return run_xanes(a, s, &absorber, edge, &file);
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

fn run_xanes(
    a: &TheoryArgs,
    s: &Structure,
    absorber: &Absorber,
    edge: Edge,
    file: &str,
) -> Result<()> {
    if !a.scf_radius.is_finite() || a.scf_radius < 0.0 {
        bail!(
            "--scf-radius {} Å must be 0 (no SCF) or positive",
            a.scf_radius
        );
    }
    let o = XanesOptions {
        edge,
        fms_radius_ang: a.fms_radius,
        scf_radius_ang: (a.scf_radius > 0.0).then_some(a.scf_radius),
        core_hole: CoreHole::parse(&a.core_hole)?,
        kmax_inv_ang: a.xanes_kmax,
        vi_ev: a.broadening,
        ..XanesOptions::default()
    };
    // Read the measurement first: a bad --compare fails before the long run.
    let measured = match &a.compare {
        Some(spec) => Some(
            carto::xanes::standards::load_standard(spec, None)
                .map_err(|e| anyhow::anyhow!("--compare {e}"))?,
        ),
        None => None,
    };
    let sim = simulate_xanes(s, absorber, &o, file, None)?;
    let absorber_el = sim.cluster.absorber_element.to_string();
    let site = sim.cluster.absorber_site;
    let title = format!(
        "{file}: {absorber_el} {} edge, site {site}, FMS {} A, SCF {}, core hole {} (carto theory --xanes)",
        edge.as_str(),
        a.fms_radius,
        o.scf_radius_ang
            .map_or_else(|| "none".to_string(), |r| format!("{r} A")),
        o.core_hole.as_str()
    );
    let written = match &a.out {
        Some(dir) => sim
            .write(dir, &title, a.feff_inp)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", dir.display()))?
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        None => Vec::new(),
    };
    let compare = match (&measured, &a.compare) {
        (Some(m), Some(spec)) => {
            let (lo, hi) = (a.window[0], a.window[1]);
            let measured = NormSpectrum {
                energy_ev: &m.energy_ev,
                norm: &m.norm,
                e0_ev: m.e0_ev,
            };
            let agreement = compare_xanes(sim.as_norm(), measured, lo, hi)?;
            Some(CompareOut {
                file: spec.clone(),
                measured_e0: m.e0_ev,
                agreement,
            })
        }
        _ => None,
    };
    let first = sim.energy_ev.first().copied().unwrap_or(f64::NAN);
    let last = sim.energy_ev.last().copied().unwrap_or(f64::NAN);
    if a.json {
        return print_json(&XanesOut {
            file: file.to_string(),
            block: s.name.clone(),
            absorber: absorber_el,
            site,
            edge: edge.as_str(),
            fms_radius: a.fms_radius,
            scf_radius: o.scf_radius_ang,
            core_hole: o.core_hole.as_str(),
            kmax: a.xanes_kmax,
            broadening: a.broadening,
            cluster_atoms: sim.cluster.atoms.len(),
            fms_atoms: sim.fms_atoms,
            scf_atoms: sim.scf_atoms,
            seconds: sim.seconds,
            stages: sim.stages.clone(),
            e0: sim.e0_ev,
            energy_min: first,
            energy_max: last,
            npts: sim.energy_ev.len(),
            energy: sim.energy_ev.clone(),
            mu_norm: sim.mu_norm.clone(),
            out: a.out.as_ref().map(|d| d.display().to_string()),
            written,
            compare,
        });
    }
    let stages: Vec<String> = sim
        .stages
        .iter()
        .filter(|st| st.seconds >= 0.05)
        .map(|st| format!("{} {:.1}", st.name, st.seconds))
        .collect();
    let mut t = format!(
        "{title}\n  {} atoms in the FMS sphere, {} in the SCF sphere, cluster of {}\n  {} points {first:.1}..{last:.1} eV, e0 (max dmu/dE) {:.2} eV\n  {:.1} s (stages, s: {})\n",
        sim.fms_atoms,
        sim.scf_atoms,
        sim.cluster.atoms.len(),
        sim.energy_ev.len(),
        sim.e0_ev,
        sim.seconds,
        stages.join(", ")
    );
    if let Some(c) = &compare {
        let g = &c.agreement;
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        t.push_str(&format!(
            "compared with {} (e0 {:.2} eV) over {}..{} eV ({} points):\n  e0 shift {:+.2} eV: RMS {:.4}\n  best shift {:+.2} eV: RMS {:.4}\n  peaks (eV from e0), measured: {}\n                   simulated: {}\n",
            c.file,
            c.measured_e0,
            g.emin_rel_ev,
            g.emax_rel_ev,
            g.npts,
            g.e0_shift_ev,
            g.rms_e0_aligned,
            g.best_shift_ev,
            g.rms,
            list(&g.measured_peaks_rel_ev),
            list(&g.simulated_peaks_rel_ev)
        ));
    }
    for w in &written {
        t.push_str(&format!("wrote {w}\n"));
    }
    emit(t.trim_end())
}
