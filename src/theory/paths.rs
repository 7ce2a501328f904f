//! Scattering paths of a structure computed in-process by refeff (the
//! pure-Rust FEFF10 port): Carto writes the cluster as `feff.inp`, refeff
//! runs potentials, phase shifts, the path search (FEFF's degeneracy and
//! importance filters) and the path amplitudes, and its `feffNNNN.dat`
//! files are read back with [`crate::io::feff::read`], so every EXAFS path
//! and fit function takes them as it takes FEFF's own.

use std::path::{Path, PathBuf};

use super::TheoryError;
use super::cluster::{Absorber, Cluster, build_cluster};
use super::feffinp::{Edge, FeffInpOptions, feff_inp, inp_title};
use crate::io::feff::{self, FeffPath};
use crate::structure::Structure;

/// Longest half path length (Å) computed: past it the path search and the
/// cluster grow beyond what an interactive run can finish.
pub const MAX_RMAX_ANG: f64 = 10.0;

/// How the paths are computed.
#[derive(Debug, Clone, PartialEq)]
pub struct TheoryOptions {
    pub edge: Edge,
    /// Longest half path length (Å), FEFF's RPATH.
    pub rmax_ang: f64,
    /// Most legs per path (2 = single scattering only).
    pub nleg: usize,
    pub s02: f64,
    /// The cluster reaches this far (Å) past `rmax_ang`, so the atoms of
    /// the outer paths see their neighbours in the potentials.
    pub margin_ang: f64,
}

impl Default for TheoryOptions {
    fn default() -> Self {
        TheoryOptions {
            edge: Edge::K,
            rmax_ang: 5.0,
            nleg: 4,
            s02: 1.0,
            margin_ang: 2.0,
        }
    }
}

impl TheoryOptions {
    fn check(&self) -> Result<(), TheoryError> {
        if !(self.rmax_ang.is_finite() && self.rmax_ang > 0.0 && self.rmax_ang <= MAX_RMAX_ANG) {
            return Err(TheoryError::BadRadius {
                name: "rmax",
                value: self.rmax_ang,
                min: 0.0,
                max: MAX_RMAX_ANG,
            });
        }
        if !(self.margin_ang.is_finite() && (0.0..=4.0).contains(&self.margin_ang)) {
            return Err(TheoryError::BadOption(format!(
                "cluster margin {} Å must be in [0, 4] Å",
                self.margin_ang
            )));
        }
        if !(2..=8).contains(&self.nleg) {
            return Err(TheoryError::BadOption(format!(
                "nleg {} must be in 2..=8",
                self.nleg
            )));
        }
        if !(self.s02.is_finite() && self.s02 > 0.0 && self.s02 <= 2.0) {
            return Err(TheoryError::BadOption(format!(
                "s02 {} must be in (0, 2]",
                self.s02
            )));
        }
        Ok(())
    }
}

/// The result of a run: its input, the cluster, and the paths with the
/// `feffNNNN.dat` text they were read from.
#[derive(Debug, Clone)]
pub struct PathSet {
    pub feff_inp: String,
    pub cluster: Option<Cluster>,
    pub paths: Vec<FeffPath>,
    /// (`feffNNNN.dat`, its text), in path order.
    pub files: Vec<(String, String)>,
    /// Wall time of the refeff run (s).
    pub seconds: f64,
}

impl PathSet {
    /// Write the `feffNNNN.dat` files (and `feff.inp` when asked) into
    /// `dir`, creating it; returns the files written.
    pub fn write(&self, dir: &Path, with_inp: bool) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut out = Vec::new();
        if with_inp {
            let p = dir.join("feff.inp");
            std::fs::write(&p, &self.feff_inp)?;
            out.push(p);
        }
        for (name, text) in &self.files {
            let p = dir.join(name);
            std::fs::write(&p, text)?;
            out.push(p);
        }
        Ok(out)
    }
}

/// The paths of `s` around `absorber` to `o.rmax_ang` (`file` names the
/// structure in errors and the title).
pub fn compute_paths(
    s: &Structure,
    absorber: &Absorber,
    o: &TheoryOptions,
    file: &str,
) -> Result<PathSet, TheoryError> {
    o.check()?;
    let cluster = build_cluster(s, absorber, o.rmax_ang + o.margin_ang, file)?;
    if cluster.atoms.len() < 2 {
        return Err(TheoryError::Output(format!(
            "{file}: no atom within {:.2} Å of the absorber",
            cluster.radius_ang
        )));
    }
    let inp = feff_inp(
        &cluster,
        &FeffInpOptions {
            title: inp_title(file, s),
            edge: o.edge,
            s02: o.s02,
            rpath_ang: o.rmax_ang,
            nleg: o.nleg,
            print_paths: true,
            xanes: None,
        },
    );
    let mut set = run_feff_inp(&inp)?;
    set.cluster = Some(cluster);
    Ok(set)
}

/// Run refeff on `feff.inp` text (which must print the paths, `PRINT … 3`)
/// and read its `feffNNNN.dat` files.
pub fn run_feff_inp(inp: &str) -> Result<PathSet, TheoryError> {
    let t = std::time::Instant::now();
    let request = refeff::MemoryRunRequest::new(inp.as_bytes().to_vec());
    let result = refeff::Runner::new()
        .run_in_memory(request)
        .map_err(|e| TheoryError::Engine(e.to_string()))?;
    let seconds = t.elapsed().as_secs_f64();
    let mut files: Vec<(String, String)> = Vec::new();
    for a in result.artifacts.iter() {
        let Some(name) = a.path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if is_path_file_name(name) {
            files.push((
                name.to_string(),
                String::from_utf8_lossy(a.bytes).into_owned(),
            ));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if files.is_empty() {
        return Err(TheoryError::Output(
            "refeff wrote no feffNNNN.dat (is PRINT's last value 3?)".into(),
        ));
    }
    let paths = files
        .iter()
        .map(|(name, text)| feff::read(text, name).map_err(|e| TheoryError::Output(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PathSet {
        feff_inp: inp.to_string(),
        cluster: None,
        paths,
        files,
        seconds,
    })
}

/// `feffNNNN.dat`, the name FEFF gives a path file.
fn is_path_file_name(name: &str) -> bool {
    name.len() == 12
        && name.starts_with("feff")
        && name.ends_with(".dat")
        && name[4..8].bytes().all(|b| b.is_ascii_digit())
}
