//! `carto bench theory`: FEFF paths of Cu metal to 5 Å computed in-process
//! (refeff), and the closed-form χ(k) of every library CIF that holds the
//! absorber once the pair tables exist.

use super::*;
use crate::structure::read_cif;
use crate::theory::closed::{ClosedOptions, PairLibrary, closed_chi};
use crate::theory::{Absorber, TheoryOptions, compute_paths};

/// `carto bench theory`.
#[derive(Debug, Clone, Serialize)]
pub struct TheoryBenchReport {
    pub build: &'static str,
    /// Cu metal paths to 5 Å, nleg 4 (copper_amcsd13088.cif).
    pub cu_paths: usize,
    pub cu_runs: usize,
    /// Median wall time of one refeff run, s.
    pub cu_seconds_median: f64,
    pub cu_seconds_min: f64,
    /// The same feff.inp with the FEFF executable in $CARTO_FEFF, s.
    pub reference_feff_seconds: Option<f64>,
    pub absorber: String,
    /// CIFs under cif/ read (and those that failed to read).
    pub cifs_read: usize,
    pub cifs_unreadable: usize,
    /// CIFs with a site of the absorber.
    pub cifs_with_absorber: usize,
    /// Closed-form χ(k) (shells to `closed_rmax` Å) of all of them, pair
    /// tables already in memory: median over repeats, ms.
    pub closed_rmax: f64,
    pub closed_ms_all_median: f64,
    pub closed_us_per_cif: f64,
    /// The one-off pair-table set-up (cache read or refeff runs), s.
    pub pair_tables: usize,
    pub pair_tables_computed: usize,
    pub pair_setup_seconds: f64,
    pub cache: Option<String>,
    pub notes: Vec<String>,
}

impl TheoryBenchReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "carto bench theory ({} build)\n\
             Cu metal paths to 5 Å (nleg 4, refeff in-process): {} paths in {:.3} s (median of {}; min {:.3})\n",
            self.build, self.cu_paths, self.cu_seconds_median, self.cu_runs, self.cu_seconds_min
        );
        if let Some(r) = self.reference_feff_seconds {
            s += &format!("reference FEFF ($CARTO_FEFF) on the same feff.inp: {r:.3} s\n");
        }
        s += &format!(
            "closed-form χ(k), {} absorber, shells to {} Å: {} of {} library CIFs hold it; all of them in {:.1} ms ({:.1} µs per CIF, median), \
             after {} pair tables set up in {:.2} s ({} computed by refeff, cache {})\n",
            self.absorber,
            self.closed_rmax,
            self.cifs_with_absorber,
            self.cifs_read,
            self.closed_ms_all_median,
            self.closed_us_per_cif,
            self.pair_tables,
            self.pair_setup_seconds,
            self.pair_tables_computed,
            self.cache.as_deref().unwrap_or("none")
        );
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// Every `.cif` under `dir`, recursively, sorted.
fn cif_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            cif_files(&p, out);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("cif")) {
            out.push(p);
        }
    }
}

pub fn bench_theory(opts: &BenchOptions, absorber: &str) -> Result<TheoryBenchReport, String> {
    let root = data_root(opts.data.as_deref())?;
    let mut notes = Vec::new();
    let cu_file = root.join("cif/amcsd/copper_amcsd13088.cif");
    let cu = read_cif(&cu_file)
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no structure", cu_file.display()))?;
    let name = cu_file.display().to_string();
    let runs = opts.repeat.clamp(1, 5);
    let mut times = Vec::with_capacity(runs);
    let mut cu_paths = 0;
    let mut inp = String::new();
    for _ in 0..runs {
        let set = compute_paths(
            &cu,
            &Absorber::Element("Cu".into()),
            &TheoryOptions::default(),
            &name,
        )
        .map_err(|e| e.to_string())?;
        times.push(set.seconds);
        cu_paths = set.paths.len();
        inp = set.feff_inp;
    }
    times.sort_by(f64::total_cmp);
    let reference_feff_seconds = match std::env::var_os("CARTO_FEFF") {
        Some(exe) => match time_reference(&exe, &inp) {
            Ok(s) => Some(s),
            Err(e) => {
                notes.push(format!("reference FEFF not timed: {e}"));
                None
            }
        },
        None => {
            notes.push("no reference FEFF timed (set CARTO_FEFF to a FEFF executable)".into());
            None
        }
    };

    let mut files = Vec::new();
    cif_files(&root.join("cif"), &mut files);
    files.sort();
    let mut structures = Vec::new();
    let mut unreadable = 0;
    for f in &files {
        match read_cif(f) {
            Ok(mut v) if !v.is_empty() => structures.push((f.display().to_string(), v.remove(0))),
            _ => unreadable += 1,
        }
    }
    let cifs_read = structures.len();
    let el = Absorber::Element(absorber.to_string());
    structures.retain(|(_, s)| crate::structure::first_site_of(s, absorber).is_some());
    let o = ClosedOptions {
        rmax_ang: 5.0,
        ..ClosedOptions::default()
    };
    let mut lib = PairLibrary::user();
    let t = Instant::now();
    let mut usable = Vec::new();
    let mut failed = 0;
    for (f, s) in &structures {
        match closed_chi(s, &el, &mut lib, &o, f) {
            Ok(_) => usable.push(s),
            Err(e) => {
                failed += 1;
                if failed <= 5 {
                    notes.push(format!("{f}: {e}"));
                }
            }
        }
    }
    if failed > 5 {
        notes.push(format!("{failed} CIFs with {absorber} failed in all"));
    }
    let pair_setup_seconds = t.elapsed().as_secs_f64();
    if usable.is_empty() {
        return Err(format!("no CIF under {} holds {absorber}", root.display()));
    }
    let mut all_ms = Vec::new();
    for _ in 0..opts.repeat.clamp(1, 100) {
        let t = Instant::now();
        for s in &usable {
            let r = closed_chi(s, &el, &mut lib, &o, "");
            std::hint::black_box(r.ok());
        }
        all_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    all_ms.sort_by(f64::total_cmp);
    let closed_ms_all_median = all_ms[all_ms.len() / 2];
    Ok(TheoryBenchReport {
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        cu_paths,
        cu_runs: runs,
        cu_seconds_median: times[times.len() / 2],
        cu_seconds_min: times[0],
        reference_feff_seconds,
        absorber: absorber.to_string(),
        cifs_read,
        cifs_unreadable: unreadable,
        cifs_with_absorber: usable.len(),
        closed_rmax: o.rmax_ang,
        closed_ms_all_median,
        closed_us_per_cif: closed_ms_all_median * 1e3 / usable.len() as f64,
        pair_tables: lib.len(),
        pair_tables_computed: lib.computed,
        pair_setup_seconds,
        cache: lib.cache_dir().map(|d| d.display().to_string()),
        notes,
    })
}

/// Run the FEFF executable `exe` on `inp` in a scratch folder, wall time (s).
fn time_reference(exe: &std::ffi::OsStr, inp: &str) -> Result<f64, String> {
    let dir = std::env::temp_dir().join(format!("carto-bench-feff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("feff.inp"), inp).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let status = Command::new(exe)
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", exe.to_string_lossy()))?;
    let s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    if !status.success() {
        return Err(format!("{} exited with {status}", exe.to_string_lossy()));
    }
    Ok(s)
}
