//! `feff.inp` text for a cluster: what refeff runs, and what a user can
//! give to FEFF itself to check Carto's paths or simulated XANES.

use std::fmt::Write;

use serde::Serialize;

use super::TheoryError;
use super::cluster::Cluster;

/// The absorption edge (FEFF's `EDGE` card).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub enum Edge {
    #[default]
    K,
    L1,
    L2,
    L3,
}

impl Edge {
    /// FEFF's name for the edge.
    pub fn as_str(self) -> &'static str {
        match self {
            Edge::K => "K",
            Edge::L1 => "L1",
            Edge::L2 => "L2",
            Edge::L3 => "L3",
        }
    }

    /// The edge from its name (`K`, `l3`, …).
    pub fn parse(name: &str) -> Result<Edge, TheoryError> {
        match name.trim().to_ascii_uppercase().as_str() {
            "K" => Ok(Edge::K),
            "L1" => Ok(Edge::L1),
            "L2" => Ok(Edge::L2),
            "L3" => Ok(Edge::L3),
            _ => Err(TheoryError::BadOption(format!(
                "edge '{name}' is not one of K, L1, L2, L3"
            ))),
        }
    }
}

/// FEFF's `COREHOLE` card: the core hole in the final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum CoreHole {
    /// Screened by the random-phase approximation (FEFF10's `RPA`).
    #[default]
    Rpa,
    /// Final-state rule: a fully relaxed, unscreened hole (`FSR`).
    Fsr,
    /// No core hole (`NONE`; ground-state potentials).
    None,
}

impl CoreHole {
    /// FEFF's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            CoreHole::Rpa => "RPA",
            CoreHole::Fsr => "FSR",
            CoreHole::None => "NONE",
        }
    }

    /// From its name (`rpa`, `FSR`, `none`).
    pub fn parse(name: &str) -> Result<CoreHole, TheoryError> {
        match name.trim().to_ascii_uppercase().as_str() {
            "RPA" => Ok(CoreHole::Rpa),
            "FSR" => Ok(CoreHole::Fsr),
            "NONE" => Ok(CoreHole::None),
            _ => Err(TheoryError::BadOption(format!(
                "core hole '{name}' is not one of RPA, FSR, NONE"
            ))),
        }
    }
}

/// The cards of a XANES run: FEFF10's full multiple scattering within
/// `fms_radius_ang` instead of the path expansion (`RPATH` 0.1 turns the
/// paths off), as FEFF10's `examples/XANES` inputs do.
#[derive(Debug, Clone, PartialEq)]
pub struct XanesCards {
    /// `FMS` radius (Å): every atom within it scatters to all orders.
    pub fms_radius_ang: f64,
    /// `SCF` radius (Å): self-consistent potentials from the atoms within
    /// it; `None` keeps overlapped atomic potentials (no `SCF` card).
    pub scf_radius_ang: Option<f64>,
    pub core_hole: CoreHole,
    /// `XANES` kmax (Å⁻¹): the spectrum ends ħ²k²/2m above the Fermi level.
    pub kmax_inv_ang: f64,
    /// `XANES` grid step (Å⁻¹) above the edge.
    pub dk_inv_ang: f64,
    /// Extra Lorentzian broadening (eV), `EXCHANGE`'s imaginary part:
    /// the experimental resolution, on top of the core-hole lifetime.
    pub vi_ev: f64,
}

/// The cards Carto sets; everything else is FEFF's default (overlapped
/// atomic potentials without self-consistency, as FEFF6 computed them,
/// unless `xanes` asks for SCF).
#[derive(Debug, Clone, PartialEq)]
pub struct FeffInpOptions {
    pub title: String,
    pub edge: Edge,
    pub s02: f64,
    /// Longest half path length (Å), FEFF's `RPATH`.
    pub rpath_ang: f64,
    /// Most legs per path (FEFF's `NLEG`).
    pub nleg: usize,
    /// Write `feffNNNN.dat` for every path (`PRINT … 3`).
    pub print_paths: bool,
    /// A XANES (full multiple scattering) run instead of EXAFS paths.
    pub xanes: Option<XanesCards>,
}

impl Default for FeffInpOptions {
    fn default() -> Self {
        FeffInpOptions {
            title: String::new(),
            edge: Edge::K,
            s02: 1.0,
            rpath_ang: 5.0,
            nleg: 4,
            print_paths: true,
            xanes: None,
        }
    }
}

/// The `feff.inp` of `cluster`. FEFF reads titles up to 75 characters.
pub fn feff_inp(cluster: &Cluster, o: &FeffInpOptions) -> String {
    let mut t = String::new();
    // Writing to a String cannot fail.
    let _ = write_inp(&mut t, cluster, o);
    t
}

fn write_inp(t: &mut String, c: &Cluster, o: &FeffInpOptions) -> std::fmt::Result {
    let title: String = o
        .title
        .chars()
        .filter(|ch| !ch.is_control())
        .take(75)
        .collect();
    if !title.trim().is_empty() {
        writeln!(t, "TITLE {}", title.trim())?;
    }
    writeln!(
        t,
        "TITLE {} {} edge, cluster of {} atoms within {:.3} A (written by Carto)",
        c.absorber_element,
        o.edge.as_str(),
        c.atoms.len(),
        c.radius_ang
    )?;
    writeln!(t)?;
    writeln!(t, "EDGE {}", o.edge.as_str())?;
    writeln!(t, "S02 {:.4}", o.s02)?;
    writeln!(t, "CONTROL 1 1 1 1 1 1")?;
    writeln!(t, "PRINT 0 0 0 0 0 {}", if o.print_paths { 3 } else { 0 })?;
    match &o.xanes {
        None => {
            // Hedin-Lundqvist self-energy, no shifts: FEFF's default, as in FEFF6.
            writeln!(t, "EXCHANGE 0 0.0 0.0")?;
            writeln!(t, "EXAFS 20")?;
            writeln!(t, "RPATH {:.4}", o.rpath_ang)?;
            writeln!(t, "NLEG {}", o.nleg)?;
        }
        Some(x) => {
            writeln!(t, "EXCHANGE 0 0.0 {:.3}", x.vi_ev)?;
            if let Some(r) = x.scf_radius_ang {
                // FEFF's defaults for a solid: l_scf 0, 30 iterations, mixing 0.2, 1 step.
                writeln!(t, "SCF {r:.3} 0 30 0.2 1")?;
            }
            writeln!(t, "COREHOLE {}", x.core_hole.as_str())?;
            writeln!(t, "XANES {:.3} {:.3} 0.0", x.kmax_inv_ang, x.dk_inv_ang)?;
            writeln!(t, "FMS {:.3} 0", x.fms_radius_ang)?;
            // No path expansion on top of FMS.
            writeln!(t, "RPATH 0.1")?;
        }
    }
    writeln!(t)?;
    writeln!(t, "POTENTIALS")?;
    writeln!(t, "*  ipot   Z  tag")?;
    for p in &c.potentials {
        writeln!(t, "   {:4} {:4}  {}", p.ipot, p.z, p.element)?;
    }
    writeln!(t)?;
    writeln!(t, "ATOMS")?;
    writeln!(
        t,
        "*        x           y           z   ipot  tag    distance"
    )?;
    for a in &c.atoms {
        writeln!(
            t,
            "  {:11.5} {:11.5} {:11.5}  {:4}  {:<5} {:9.5}",
            a.pos_ang[0], a.pos_ang[1], a.pos_ang[2], a.ipot, a.element, a.r_ang
        )?;
    }
    writeln!(t, "END")
}

/// The `TITLE` of a run for structure `s` read from `file`: the file's
/// name and the structure's.
pub(crate) fn inp_title(file: &str, s: &crate::structure::Structure) -> String {
    let name = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    format!("{name} {}", s.name)
}
