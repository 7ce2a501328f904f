//! Simulated XANES μ(E) of a structure: FEFF10's self-consistent
//! potentials, full multiple scattering (FMS) and XANES assembly, run
//! in-process by refeff on the cluster around an absorber, and the
//! comparison of such a spectrum with a measured one (best energy shift,
//! RMS difference, peak positions).
//!
//! FEFF's energies are its own estimate of the absolute edge (its Fermi
//! level plus the core level); they differ from a measured calibration by
//! a few eV, so a comparison always aligns in energy first.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::TheoryError;
use super::cluster::{Absorber, Cluster, build_cluster};
use super::feffinp::{CoreHole, Edge, FeffInpOptions, XanesCards, feff_inp, inp_title};
use crate::structure::Structure;

/// Cancels a running calculation at refeff's next checkpoint (refeff's own
/// token: cloning shares it).
pub use refeff::CancellationToken;

/// Largest FMS radius (Å) accepted.
pub const MAX_FMS_RADIUS_ANG: f64 = 8.0;
/// FMS inverts a matrix of (atoms × (lmax+1)²) per energy, so its time
/// grows with the cube of the atoms within the FMS radius: 55 atoms take
/// 6 s, 79 atoms 26 s (Cu, measured here); refused above this many.
pub const MAX_FMS_ATOMS: usize = 120;
/// The SCF loop runs FMS over the atoms within the SCF radius for every
/// iteration: 20–30 atoms take 10–45 s; refused above this many.
pub const MAX_SCF_ATOMS: usize = 60;
/// Largest `XANES` kmax (Å⁻¹): 8 Å⁻¹ is 244 eV above the edge, past which
/// the path expansion (`carto theory` without `--xanes`) is the tool.
pub const MAX_KMAX_INV_ANG: f64 = 8.0;

/// How the spectrum is computed. Defaults are FEFF10's XANES examples'
/// (FMS 5 Å, Hedin-Lundqvist exchange, RPA-screened core hole) with SCF
/// over 3 Å (first shell): 4 Å gave FeO a spurious 3d peak (README).
#[derive(Debug, Clone, PartialEq)]
pub struct XanesOptions {
    pub edge: Edge,
    /// Atoms within this radius (Å) scatter to all orders.
    pub fms_radius_ang: f64,
    /// Self-consistent potentials from the atoms within this radius (Å);
    /// `None`: overlapped atomic potentials (faster; the edge lands
    /// several eV off and its shape suffers).
    pub scf_radius_ang: Option<f64>,
    pub core_hole: CoreHole,
    /// The spectrum reaches ħ²k²/2m above the Fermi level (4 Å⁻¹ ≈ 61 eV).
    pub kmax_inv_ang: f64,
    /// Extra Lorentzian broadening (eV, FWHM) for the beamline resolution.
    pub vi_ev: f64,
    /// The cluster reaches this far (Å) past the larger of the FMS and SCF
    /// radii, so the atoms near the edge of the FMS sphere have their
    /// neighbours in the overlapped potentials.
    pub margin_ang: f64,
}

impl Default for XanesOptions {
    fn default() -> Self {
        XanesOptions {
            edge: Edge::K,
            fms_radius_ang: 5.0,
            scf_radius_ang: Some(3.0),
            core_hole: CoreHole::Rpa,
            kmax_inv_ang: 4.0,
            vi_ev: 0.0,
            margin_ang: 2.0,
        }
    }
}

impl XanesOptions {
    fn check(&self) -> Result<(), TheoryError> {
        let radius = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= MAX_FMS_RADIUS_ANG {
                Ok(())
            } else {
                Err(TheoryError::BadRadius {
                    name,
                    value: v,
                    min: 0.0,
                    max: MAX_FMS_RADIUS_ANG,
                })
            }
        };
        radius("FMS radius", self.fms_radius_ang)?;
        if let Some(r) = self.scf_radius_ang {
            radius("SCF radius", r)?;
        }
        if self.scf_radius_ang.is_none() && self.core_hole == CoreHole::Rpa {
            // refeff's XSPH needs the SCF stage's screening handoff for RPA.
            return Err(TheoryError::BadOption(
                "the RPA core hole needs SCF potentials: give an SCF radius or core hole FSR/NONE"
                    .into(),
            ));
        }
        if !(self.kmax_inv_ang.is_finite()
            && self.kmax_inv_ang >= 1.0
            && self.kmax_inv_ang <= MAX_KMAX_INV_ANG)
        {
            return Err(TheoryError::BadOption(format!(
                "XANES kmax {} Å⁻¹ must be in [1, {MAX_KMAX_INV_ANG}] Å⁻¹",
                self.kmax_inv_ang
            )));
        }
        if !(self.vi_ev.is_finite() && (0.0..=10.0).contains(&self.vi_ev)) {
            return Err(TheoryError::BadOption(format!(
                "broadening {} eV must be in [0, 10] eV",
                self.vi_ev
            )));
        }
        if !(self.margin_ang.is_finite() && (0.0..=4.0).contains(&self.margin_ang)) {
            return Err(TheoryError::BadOption(format!(
                "cluster margin {} Å must be in [0, 4] Å",
                self.margin_ang
            )));
        }
        Ok(())
    }
}

/// Wall time of one refeff stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTime {
    pub name: String,
    pub seconds: f64,
}

/// A simulated XANES spectrum.
#[derive(Debug, Clone)]
pub struct SimXanes {
    /// FEFF's absolute photon energy (eV), increasing.
    pub energy_ev: Vec<f64>,
    /// μ(E) normalized by FEFF to the atomic background 50 eV above the edge.
    pub mu_norm: Vec<f64>,
    /// The embedded-atom background μ0(E), same normalization.
    pub mu0_norm: Vec<f64>,
    /// Edge energy (eV): the maximum of dμ/dE.
    pub e0_ev: f64,
    pub feff_inp: String,
    pub cluster: Cluster,
    /// Atoms within the FMS radius (the absorber included).
    pub fms_atoms: usize,
    /// Atoms within the SCF radius (0 without SCF).
    pub scf_atoms: usize,
    /// Wall time of the refeff run (s) and of its stages.
    pub seconds: f64,
    pub stages: Vec<StageTime>,
}

impl SimXanes {
    /// Two columns, energy (eV) and normalized μ, with a `#` header: what
    /// Carto's column reader (and Athena, Larch) opens as μ(E).
    pub fn xmu_text(&self, title: &str) -> String {
        let mut t = format!(
            "# {}\n# simulated XANES (refeff, FEFF10 full multiple scattering); e0 = {:.3} eV (max dmu/dE)\n# FEFF energies are its own absolute estimate: align to a measurement before comparing\n# energy mu\n",
            title.replace(['\n', '\r'], " "),
            self.e0_ev
        );
        for (e, m) in self.energy_ev.iter().zip(&self.mu_norm) {
            t.push_str(&format!("{e:12.4} {m:14.7e}\n"));
        }
        t
    }

    /// Write [`SimXanes::xmu_text`] as `dir/xmu_sim.dat` (and `feff.inp` when
    /// asked), creating `dir`; returns the files written.
    pub fn write(
        &self,
        dir: &Path,
        title: &str,
        with_inp: bool,
    ) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::new();
        let p = dir.join("xmu_sim.dat");
        std::fs::write(&p, self.xmu_text(title))?;
        out.push(p);
        if with_inp {
            let p = dir.join("feff.inp");
            std::fs::write(&p, &self.feff_inp)?;
            out.push(p);
        }
        Ok(out)
    }
}

/// The XANES of `s` around `absorber` (`file` names the structure in errors
/// and the title). Blocks for seconds to a minute; must not be called from
/// a rayon worker (refeff runs one calculation at a time behind a
/// process-wide lock around its own pool). `cancel` stops it at refeff's
/// next checkpoint with [`TheoryError::Cancelled`].
pub fn simulate_xanes(
    s: &Structure,
    absorber: &Absorber,
    o: &XanesOptions,
    file: &str,
    cancel: Option<&CancellationToken>,
) -> Result<SimXanes, TheoryError> {
    let p = prepare_xanes(s, absorber, o, file)?;
    let run = run_xanes_inp(&p.feff_inp, cancel).map_err(|e| scf_hint(e, o, p.scf_atoms))?;
    Ok(SimXanes {
        energy_ev: run.energy_ev,
        mu_norm: run.mu_norm,
        mu0_norm: run.mu0_norm,
        e0_ev: run.e0_ev,
        feff_inp: p.feff_inp,
        cluster: p.cluster,
        fms_atoms: p.fms_atoms,
        scf_atoms: p.scf_atoms,
        seconds: run.seconds,
        stages: run.stages,
    })
}

/// A XANES run's input, checked against the bounds, before refeff runs.
#[derive(Debug, Clone)]
pub struct PreparedXanes {
    pub feff_inp: String,
    pub cluster: Cluster,
    pub fms_atoms: usize,
    pub scf_atoms: usize,
    /// Elements left out of the cluster: none of their atoms is inside
    /// the FMS sphere, which refeff needs of every potential.
    pub dropped: Vec<&'static str>,
}

/// The cluster and `feff.inp` of [`simulate_xanes`] (< 1 ms): the bounds
/// on the FMS and SCF spheres are checked here.
pub fn prepare_xanes(
    s: &Structure,
    absorber: &Absorber,
    o: &XanesOptions,
    file: &str,
) -> Result<PreparedXanes, TheoryError> {
    o.check()?;
    let scf = o.scf_radius_ang.unwrap_or(0.0);
    let radius = o.fms_radius_ang.max(scf) + o.margin_ang;
    let mut cluster = build_cluster(s, absorber, radius, file)?;
    // refeff's FMS needs an atom of every potential inside the FMS sphere
    // ("missing representative state offset for potential N": YBa2Cu3O7's
    // Y is 6.4 Å from the chain Cu). Potentials are numbered outwards by
    // first appearance, so those first seen beyond the sphere are the
    // last ones: their atoms, all beyond it, are left out of the cluster
    // (they would only add to the overlapped density at its rim).
    let represented = (cluster.atoms.iter())
        .filter(|a| a.r_ang <= o.fms_radius_ang)
        .map(|a| a.ipot + 1)
        .max()
        .unwrap_or(1);
    let dropped: Vec<&'static str> = (cluster.potentials.iter())
        .skip(represented)
        .map(|p| p.element)
        .collect();
    cluster.atoms.retain(|a| a.ipot < represented);
    cluster.potentials.truncate(represented);
    let within = |r: f64| cluster.atoms.iter().filter(|a| a.r_ang <= r).count();
    let fms_atoms = within(o.fms_radius_ang);
    let scf_atoms = o.scf_radius_ang.map_or(0, within);
    if fms_atoms < 2 {
        return Err(TheoryError::Output(format!(
            "{file}: no atom within the FMS radius {:.2} Å of the absorber",
            o.fms_radius_ang
        )));
    }
    if fms_atoms > MAX_FMS_ATOMS {
        return Err(TheoryError::BadOption(format!(
            "{file}: {fms_atoms} atoms within the FMS radius {:.2} Å, more than the {MAX_FMS_ATOMS} \
             a run finishes in minutes; lower --fms-radius",
            o.fms_radius_ang
        )));
    }
    if scf_atoms > MAX_SCF_ATOMS {
        return Err(TheoryError::BadOption(format!(
            "{file}: {scf_atoms} atoms within the SCF radius {scf:.2} Å, more than the \
             {MAX_SCF_ATOMS} a run finishes in minutes; lower --scf-radius"
        )));
    }
    let feff_inp = feff_inp(
        &cluster,
        &FeffInpOptions {
            title: inp_title(file, s),
            edge: o.edge,
            s02: 1.0,
            rpath_ang: 0.1,
            nleg: 2,
            print_paths: false,
            xanes: Some(XanesCards {
                fms_radius_ang: o.fms_radius_ang,
                scf_radius_ang: o.scf_radius_ang,
                core_hole: o.core_hole,
                kmax_inv_ang: o.kmax_inv_ang,
                dk_inv_ang: 0.07,
                vi_ev: o.vi_ev,
            }),
        },
    );
    Ok(PreparedXanes {
        feff_inp,
        cluster,
        fms_atoms,
        scf_atoms,
        dropped,
    })
}

/// refeff's SCF fails on some small spheres (magnetite's tetrahedral Fe
/// with its 4 O at 3 Å); a larger sphere runs (README): say so.
fn scf_hint(e: TheoryError, o: &XanesOptions, scf_atoms: usize) -> TheoryError {
    match (e, o.scf_radius_ang) {
        (TheoryError::Engine(m), Some(scf)) if m.contains("pot stage") => {
            TheoryError::Engine(format!(
                "{m} (the SCF sphere of {scf:.2} Å holds {scf_atoms} atoms: try a larger \
                 --scf-radius, e.g. 4 Å)"
            ))
        }
        (e, _) => e,
    }
}

/// What [`run_xanes_inp`] returns: the spectrum and the run's times.
#[derive(Debug, Clone)]
pub struct XanesRun {
    pub energy_ev: Vec<f64>,
    pub mu_norm: Vec<f64>,
    pub mu0_norm: Vec<f64>,
    pub e0_ev: f64,
    pub seconds: f64,
    pub stages: Vec<StageTime>,
}

/// Run refeff on XANES `feff.inp` text and read its `xmu.dat`.
pub fn run_xanes_inp(
    inp: &str,
    cancel: Option<&CancellationToken>,
) -> Result<XanesRun, TheoryError> {
    let t = Instant::now();
    let request = refeff::MemoryRunRequest::new(inp.as_bytes().to_vec());
    let mut runner = refeff::Runner::new().with_artifacts(refeff::ArtifactSelection::Spectra);
    if let Some(c) = cancel {
        runner = runner.with_cancellation(c.clone());
    }
    let result = runner.run_in_memory(request).map_err(|e| {
        if cancel.is_some_and(|c| c.is_cancelled()) {
            TheoryError::Cancelled
        } else {
            TheoryError::Engine(error_chain(&e))
        }
    })?;
    let seconds = t.elapsed().as_secs_f64();
    let xmu = result
        .spectra
        .xmu
        .ok_or_else(|| TheoryError::Output("refeff wrote no xmu.dat".into()))?;
    let mut rows: Vec<(f64, f64, f64)> = xmu
        .photon_energy_ev
        .iter()
        .zip(xmu.mu.iter())
        .zip(xmu.mu0.iter())
        .map(|((&e, &m), &m0)| (e, m, m0))
        .collect();
    if let Some(bad) = rows.iter().find(|r| !(r.0.is_finite() && r.1.is_finite())) {
        return Err(TheoryError::Output(format!(
            "xmu.dat has a non-finite value ({} eV, mu {})",
            bad.0, bad.1
        )));
    }
    // FEFF repeats the point where its grid changes from k to energy steps.
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    rows.dedup_by(|b, a| (b.0 - a.0).abs() < 1e-6);
    if rows.len() < 8 {
        return Err(TheoryError::Output(format!(
            "xmu.dat has {} points, too few for a spectrum",
            rows.len()
        )));
    }
    let energy_ev: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let mu_norm: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let mu0_norm: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let e0_ev = max_derivative_energy(&energy_ev, &mu_norm);
    let stages = result
        .report
        .stages
        .iter()
        .map(|s| StageTime {
            name: s.name.clone(),
            seconds: s.duration_ms as f64 / 1000.0,
        })
        .collect();
    Ok(XanesRun {
        energy_ev,
        mu_norm,
        mu0_norm,
        e0_ev,
        seconds,
        stages,
    })
}

/// An error and its causes, one line (refeff's top message alone names
/// the stages run but not what failed).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let m = c.to_string();
        if !msg.contains(&m) {
            msg.push_str(": ");
            msg.push_str(&m);
        }
        src = c.source();
    }
    msg
}

/// The energy of the steepest rise of `mu` (central differences on the
/// possibly non-uniform grid; the midpoint of the steepest interval).
pub fn max_derivative_energy(energy_ev: &[f64], mu: &[f64]) -> f64 {
    let mut best = (
        f64::NEG_INFINITY,
        energy_ev.first().copied().unwrap_or(f64::NAN),
    );
    for (e, m) in energy_ev.windows(2).zip(mu.windows(2)) {
        let de = e[1] - e[0];
        if de > 0.0 {
            let d = (m[1] - m[0]) / de;
            if d > best.0 {
                best = (d, 0.5 * (e[0] + e[1]));
            }
        }
    }
    best.1
}

/// Local maxima of `y(x)` with `lo ≤ x ≤ hi`, each refined to the vertex
/// of the parabola through it and its two neighbours.
pub fn local_maxima(x: &[f64], y: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let n = x.len().min(y.len());
    let mut out = Vec::new();
    for i in 1..n.saturating_sub(1) {
        if !(y[i] > y[i - 1] && y[i] >= y[i + 1]) {
            continue;
        }
        let (x0, x1, x2, y0, y1, y2) = (x[i - 1], x[i], x[i + 1], y[i - 1], y[i], y[i + 1]);
        // Vertex of the interpolating parabola (divided differences).
        let d01 = (y1 - y0) / (x1 - x0);
        let d12 = (y2 - y1) / (x2 - x1);
        let a = (d12 - d01) / (x2 - x0);
        let v = if a < 0.0 {
            0.5 * (x0 + x1) - d01 / (2.0 * a)
        } else {
            x1
        };
        let v = if v.is_finite() { v.clamp(x0, x2) } else { x1 };
        if (lo..=hi).contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Linear interpolation of (x, y) at `at`, the end values outside.
fn interp(x: &[f64], y: &[f64], at: f64) -> f64 {
    let n = x.len();
    if at <= x[0] {
        return y[0];
    }
    if at >= x[n - 1] {
        return y[n - 1];
    }
    let i = x.partition_point(|&v| v < at).clamp(1, n - 1);
    let (x0, x1) = (x[i - 1], x[i]);
    if x1 > x0 {
        y[i - 1] + (y[i] - y[i - 1]) * (at - x0) / (x1 - x0)
    } else {
        y[i]
    }
}

/// A normalized μ(E) and its edge, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct NormSpectrum<'a> {
    pub energy_ev: &'a [f64],
    pub norm: &'a [f64],
    pub e0_ev: f64,
}

impl SimXanes {
    /// This spectrum as a [`NormSpectrum`].
    pub fn as_norm(&self) -> NormSpectrum<'_> {
        NormSpectrum {
            energy_ev: &self.energy_ev,
            norm: &self.mu_norm,
            e0_ev: self.e0_ev,
        }
    }
}

/// How a simulated spectrum agrees with a measured one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XanesAgreement {
    /// Measured e0 − simulated e0 (eV): the shift that aligns the edges.
    pub e0_shift_ev: f64,
    /// RMS of (simulated − measured) normalized μ over the window with
    /// the e0 shift.
    pub rms_e0_aligned: f64,
    /// The single energy shift (eV, added to the simulation's energies)
    /// that minimizes the RMS, searched within ±15 eV of `e0_shift_ev`.
    pub best_shift_ev: f64,
    /// The RMS with that shift.
    pub rms: f64,
    /// The window, relative to the measured e0 (eV), and the measured
    /// points in it.
    pub emin_rel_ev: f64,
    pub emax_rel_ev: f64,
    pub npts: usize,
    /// Local maxima in the window, relative to the measured e0 (eV): of
    /// the measurement and of the simulation after the best shift.
    pub measured_peaks_rel_ev: Vec<f64>,
    pub simulated_peaks_rel_ev: Vec<f64>,
}

/// Compare `sim` with a measured normalized μ(E) (`energy_ev`, `norm`,
/// edge `e0_ev`) over `emin_rel..=emax_rel` eV around the measured e0: the
/// simulation is interpolated onto the measured energies (taken as its
/// first value below its grid, the flat pre-edge), shifted in energy by
/// the single shift that minimizes the RMS difference (a 0.05 eV search).
pub fn compare_xanes(
    sim: NormSpectrum<'_>,
    measured: NormSpectrum<'_>,
    emin_rel: f64,
    emax_rel: f64,
) -> Result<XanesAgreement, TheoryError> {
    let (sim_energy_ev, sim_mu, sim_e0_ev) = (sim.energy_ev, sim.norm, sim.e0_ev);
    let (energy_ev, norm, e0_ev) = (measured.energy_ev, measured.norm, measured.e0_ev);
    let ok = |v: f64| v.is_finite();
    if !(ok(e0_ev) && ok(sim_e0_ev) && ok(emin_rel) && ok(emax_rel) && emin_rel < emax_rel) {
        return Err(TheoryError::BadOption(format!(
            "comparison window {emin_rel}..{emax_rel} eV around e0 {e0_ev} eV is not a range"
        )));
    }
    if sim_energy_ev.len() < 2 || sim_energy_ev.len() != sim_mu.len() {
        return Err(TheoryError::BadOption(
            "the simulated spectrum has fewer than 2 points".into(),
        ));
    }
    let pts: Vec<(f64, f64)> = energy_ev
        .iter()
        .zip(norm)
        .filter(|(e, m)| ok(**e) && ok(**m) && (emin_rel..=emax_rel).contains(&(**e - e0_ev)))
        .map(|(e, m)| (*e, *m))
        .collect();
    if pts.len() < 10 {
        return Err(TheoryError::BadOption(format!(
            "only {} measured points within {emin_rel}..{emax_rel} eV of e0 {e0_ev:.2} eV",
            pts.len()
        )));
    }
    let rms_at = |shift: f64| {
        let ss: f64 = pts
            .iter()
            .map(|&(e, m)| (interp(sim_energy_ev, sim_mu, e - shift) - m).powi(2))
            .sum();
        (ss / pts.len() as f64).sqrt()
    };
    let e0_shift = e0_ev - sim_e0_ev;
    let mut best = (rms_at(e0_shift), e0_shift);
    for i in -300..=300 {
        let s = e0_shift + 0.05 * f64::from(i);
        let r = rms_at(s);
        if r < best.0 {
            best = (r, s);
        }
    }
    let rel = |v: Vec<f64>, by: f64| v.into_iter().map(|e| e - by).collect::<Vec<f64>>();
    let measured_peaks = rel(
        local_maxima(energy_ev, norm, e0_ev + emin_rel, e0_ev + emax_rel),
        e0_ev,
    );
    let simulated_peaks = rel(
        local_maxima(
            sim_energy_ev,
            sim_mu,
            e0_ev + emin_rel - best.1,
            e0_ev + emax_rel - best.1,
        ),
        e0_ev - best.1,
    );
    Ok(XanesAgreement {
        e0_shift_ev: e0_shift,
        rms_e0_aligned: rms_at(e0_shift),
        best_shift_ev: best.1,
        rms: best.0,
        emin_rel_ev: emin_rel,
        emax_rel_ev: emax_rel,
        npts: pts.len(),
        measured_peaks_rel_ev: measured_peaks,
        simulated_peaks_rel_ev: simulated_peaks,
    })
}
