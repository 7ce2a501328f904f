//! `carto bench xas`: throughput of read → pre_edge → autobk → xftf on the
//! real spectra of the Larch fixture case table, single-threaded and over all
//! cores, side by side with xraylarch (and rexafs) timed by
//! tools/bench_larch.py in the same run when Python has them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::io::{self, Dataset, LoadOptions, MuRecipe};
use crate::xas::{self, ChainParams};

/// The case table written by tools/make_larch_fixtures.py: the very spectra
/// tools/bench_larch.py times.
const CASES_JSON: &str = include_str!("../../tests/fixtures/larch/xas_cases.json");

#[derive(Debug, Clone, Deserialize)]
struct Case {
    id: String,
    file: String,
    group: Option<String>,
    energy_col: Option<usize>,
    energy_scale: f64,
    mu: Value,
    exafs: bool,
}

type Value = serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct BenchOptions {
    pub data: Option<PathBuf>,
    pub repeat: usize,
    /// Python with xraylarch; `None` tries $CARTO_PYTHON then `python3`; "none" skips.
    pub python: Option<String>,
    pub rexafs: bool,
}

impl BenchOptions {
    /// The reference tools' Python: `--python`, else `$env`, else
    /// `python3`; None when it is "none" (no reference timing).
    fn python_or_env(&self, env: &str) -> Option<String> {
        let python = self
            .python
            .clone()
            .or_else(|| std::env::var(env).ok())
            .unwrap_or_else(|| "python3".to_string());
        (python != "none").then_some(python)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolTiming {
    pub tool: String,
    pub version: Option<String>,
    pub ms_per_spectrum: f64,
    pub ms_per_spectrum_no_read: Option<f64>,
    /// How many times slower than Carto (single thread, same definition).
    pub ratio_vs_carto: f64,
    /// The same for the chain alone (no file reading on either side).
    pub ratio_vs_carto_no_read: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WholeFiles {
    pub n_files: usize,
    pub n_spectra: usize,
    /// Spectra the chain rejected (e.g. XANES-only groups too short for AUTOBK).
    pub n_rejected: usize,
    pub spectra_per_s_single: f64,
    pub spectra_per_s_parallel: f64,
}

/// Median single-thread ms per spectrum of each stage of the chain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageMs {
    pub pre_edge: f64,
    pub autobk: f64,
    pub xftf: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub n_files: usize,
    pub n_spectra: usize,
    pub threads: usize,
    /// Median single-thread time per spectrum, including parsing the file.
    pub ms_per_spectrum: f64,
    /// Median single-thread time per spectrum without parsing.
    pub ms_per_spectrum_no_read: f64,
    /// The chain's stages timed apart (single thread, no parsing), median
    /// ms per spectrum: where the time goes.
    pub stage_ms: StageMs,
    pub spectra_per_s_single: f64,
    pub spectra_per_s_parallel: f64,
    /// The chain alone on arrays already in memory, all cores.
    pub spectra_per_s_parallel_no_read: f64,
    /// Each file read once and every μ(E) spectrum in it processed (all
    /// groups of an Athena project): how a batch over real files runs.
    pub whole_files: WholeFiles,
    pub peak_rss_mib: Option<f64>,
    pub reference: Vec<ToolTiming>,
    pub notes: Vec<String>,
}

impl BenchReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "carto bench xas: {} spectra ({} files × repeats), read → pre_edge → autobk → xftf\n\
             single thread: {:.3} ms/spectrum ({:.3} ms without parsing), {:.0} spectra/s\n\
             stages:        pre_edge {:.3} ms, autobk {:.3} ms, xftf {:.3} ms\n\
             {} threads:     {:.0} spectra/s ({:.0} without parsing)\n\
             whole files ({} files, {} spectra, each file read once): {:.0} spectra/s single, {:.0} on all threads\n",
            self.n_spectra,
            self.n_files,
            self.ms_per_spectrum,
            self.ms_per_spectrum_no_read,
            self.spectra_per_s_single,
            self.stage_ms.pre_edge,
            self.stage_ms.autobk,
            self.stage_ms.xftf,
            self.threads,
            self.spectra_per_s_parallel,
            self.spectra_per_s_parallel_no_read,
            self.whole_files.n_files,
            self.whole_files.n_spectra,
            self.whole_files.spectra_per_s_single,
            self.whole_files.spectra_per_s_parallel,
        );
        if let Some(m) = self.peak_rss_mib {
            s += &format!("peak memory:   {m:.1} MiB\n");
        }
        for r in &self.reference {
            s += &format!(
                "{} {}: {:.3} ms/spectrum{} → Carto is {:.0}× faster{}\n",
                r.tool,
                r.version.clone().unwrap_or_default(),
                r.ms_per_spectrum,
                r.ms_per_spectrum_no_read
                    .map(|v| format!(" ({v:.3} ms without reading)"))
                    .unwrap_or_default(),
                r.ratio_vs_carto,
                r.ratio_vs_carto_no_read
                    .map(|v| format!(" ({v:.0}× without reading)"))
                    .unwrap_or_default(),
            );
        }
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// The shared data folder: explicit, $CARTO_TEST_DATA, or ../shared/data
/// beside the source checkout.
pub fn data_root(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => {
            let mut v = Vec::new();
            if let Ok(d) = std::env::var("CARTO_TEST_DATA") {
                v.push(PathBuf::from(d));
            }
            v.push(PathBuf::from("../shared/data"));
            v.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
            v
        }
    };
    candidates
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .ok_or_else(|| {
            format!("shared data folder not found (tried {candidates:?}); pass --data DIR")
        })
}

/// Parameters the fixture and tools/bench_larch.py use (Larch defaults with
/// rbkg 1, autobk kweight 2; FT k 2–12, dk 1, hanning, kweight 2).
pub fn reference_params() -> ChainParams {
    let mut p = ChainParams::default();
    p.autobk.kweight = 2.0;
    p
}

/// μ(E) for one case from a file's bytes, as the fixture recipe says.
fn case_input(bytes: &[u8], case: &Case) -> Result<(Vec<f64>, Vec<f64>), String> {
    // One group of a project: only its arrays are kept.
    let ds = io::load_bytes_group(
        bytes,
        &case.file,
        &LoadOptions::default(),
        case.group.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let table = match ds {
        Dataset::Athena(p) => {
            let label = case.group.as_deref().unwrap_or_default();
            let g = p
                .group(label)
                .ok_or_else(|| format!("{}: no group {label}", case.file))?;
            let s = g.to_spectrum(&case.file).map_err(|e| e.to_string())?;
            return Ok((s.energy_ev, s.mu));
        }
        Dataset::Xas(s) => s.table,
        Dataset::Chi(c) => c.table,
        Dataset::Feff(_) => return Err(format!("{}: FEFF file", case.file)),
    };
    let recipe: MuRecipe =
        serde_json::from_value(case.mu.clone()).map_err(|e| format!("{}: recipe: {e}", case.id))?;
    let mu = recipe
        .build(&table, &case.file)
        .map_err(|e| e.to_string())?;
    let ecol = case
        .energy_col
        .ok_or_else(|| format!("{}: no energy column", case.id))?;
    let energy = table
        .columns
        .get(ecol)
        .ok_or_else(|| format!("{}: no column {ecol}", case.id))?
        .iter()
        .map(|e| e * case.energy_scale)
        .collect();
    Ok((energy, mu))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

/// Peak resident memory of this process (Linux), MiB.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn bench_xas(opts: &BenchOptions) -> Result<BenchReport, String> {
    let root = data_root(opts.data.as_deref())?;
    let cases: Vec<Case> =
        serde_json::from_str(CASES_JSON).map_err(|e| format!("case table: {e}"))?;
    let cases: Vec<Case> = cases.into_iter().filter(|c| c.exafs).collect();
    let mut files = Vec::new();
    for c in &cases {
        let path = root.join(&c.file);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((c, bytes));
    }
    let params = reference_params();
    let run = |c: &Case, bytes: &[u8]| -> Result<f64, String> {
        let (e, m) = case_input(bytes, c)?;
        let r = xas::process(&e, &m, &params).map_err(|err| format!("{}: {err}", c.id))?;
        Ok(r.chir.chir_mag.first().copied().unwrap_or(0.0))
    };
    // Warm up (plans, page faults) and check every case works.
    let mut inputs = Vec::new();
    for (c, b) in &files {
        run(c, b)?;
        inputs.push(case_input(b, c)?);
    }
    let repeat = opts.repeat.max(1);
    let mut t_read = Vec::new();
    let mut t_proc = Vec::new();
    let t_all = Instant::now();
    for _ in 0..repeat {
        for (c, b) in &files {
            let t = Instant::now();
            std::hint::black_box(run(c, b)?);
            t_read.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let single_total = t_all.elapsed().as_secs_f64();
    for _ in 0..repeat {
        for (e, m) in &inputs {
            let t = Instant::now();
            std::hint::black_box(xas::process(e, m, &params).map_err(|err| err.to_string())?);
            t_proc.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let stage_ms = time_stages(&inputs, repeat, &params)?;
    let n_spectra = repeat * files.len();
    let jobs: Vec<usize> = (0..n_spectra).collect();
    let t_par = Instant::now();
    jobs.par_iter().try_for_each(|&j| {
        let (c, b) = &files[j % files.len()];
        run(c, b).map(|v| {
            std::hint::black_box(v);
        })
    })?;
    let par_total = t_par.elapsed().as_secs_f64();
    let t_par2 = Instant::now();
    jobs.par_iter()
        .try_for_each(|&j| {
            let (e, m) = &inputs[j % inputs.len()];
            xas::process(e, m, &params).map(|r| {
                std::hint::black_box(r);
            })
        })
        .map_err(|e| e.to_string())?;
    let par_no_read = t_par2.elapsed().as_secs_f64();
    let whole_files = bench_whole_files(&cases, &root, repeat, &params)?;
    let ms_read = median(&mut t_read);
    let ms_proc = median(&mut t_proc);
    let mut report = BenchReport {
        n_files: files.len(),
        n_spectra,
        threads: rayon::current_num_threads(),
        ms_per_spectrum: ms_read,
        ms_per_spectrum_no_read: ms_proc,
        stage_ms,
        spectra_per_s_single: n_spectra as f64 / single_total,
        spectra_per_s_parallel: n_spectra as f64 / par_total,
        spectra_per_s_parallel_no_read: n_spectra as f64 / par_no_read,
        whole_files,
        peak_rss_mib: peak_rss_mib(),
        reference: Vec::new(),
        notes: Vec::new(),
    };
    reference_tools(opts, &root, &mut report);
    Ok(report)
}

/// Each stage of the chain timed on its own over `inputs`, `repeat` times
/// (the stages as [`xas::process`] runs them).
fn time_stages(
    inputs: &[(Vec<f64>, Vec<f64>)],
    repeat: usize,
    params: &ChainParams,
) -> Result<StageMs, String> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let (mut pre_t, mut bkg_t, mut ft_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..repeat {
        for (e, m) in inputs {
            let t = Instant::now();
            let pre = xas::pre_edge(e, m, &params.pre_edge).map_err(|err| err.to_string())?;
            pre_t.push(ms(t));
            let t = Instant::now();
            let bkg =
                xas::autobk(e, m, &params.autobk, Some(&pre)).map_err(|err| err.to_string())?;
            bkg_t.push(ms(t));
            let mut ft = params.ft.clone();
            ft.kmax = ft.kmax.min(bkg.k_inv_ang.last().copied().unwrap_or(0.0));
            let t = Instant::now();
            std::hint::black_box(
                xas::xftf(&bkg.k_inv_ang, &bkg.chi, &ft).map_err(|err| err.to_string())?,
            );
            ft_t.push(ms(t));
        }
    }
    Ok(StageMs {
        pre_edge: median(&mut pre_t),
        autobk: median(&mut bkg_t),
        xftf: median(&mut ft_t),
    })
}

/// The distinct files of the EXAFS cases (the whole-file set of
/// [`bench_xas`]), for other benchmarks over the same spectra.
pub(crate) fn case_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let cases: Vec<Case> =
        serde_json::from_str(CASES_JSON).map_err(|e| format!("case table: {e}"))?;
    let files: std::collections::BTreeSet<&str> = cases
        .iter()
        .filter(|c| c.exafs)
        .map(|c| c.file.as_str())
        .collect();
    Ok(files.into_iter().map(|f| root.join(f)).collect())
}

/// Every distinct file of the case table read once per pass, with all its
/// μ(E) spectra processed (every μ(E) group of an Athena project).
fn bench_whole_files(
    cases: &[Case],
    root: &Path,
    repeat: usize,
    params: &ChainParams,
) -> Result<WholeFiles, String> {
    let mut seen = std::collections::BTreeMap::new();
    for c in cases {
        if !seen.contains_key(&c.file) {
            let path = root.join(&c.file);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            seen.insert(c.file.clone(), (c, bytes));
        }
    }
    let files: Vec<(&Case, Vec<u8>)> = seen.into_values().collect();
    // One pass over a file: (spectra processed, spectra rejected).
    let one = |c: &Case, bytes: &[u8]| -> (usize, usize) {
        let inputs: Vec<(Vec<f64>, Vec<f64>)> =
            match io::load_bytes(bytes, &c.file, &LoadOptions::default()) {
                Ok(Dataset::Athena(p)) => p
                    .groups
                    .iter()
                    .filter(|g| g.is_xmu())
                    .filter_map(|g| g.to_spectrum(&c.file).ok().map(|s| (s.energy_ev, s.mu)))
                    .collect(),
                Ok(_) => case_input(bytes, c).into_iter().collect(),
                Err(_) => Vec::new(),
            };
        let ok = inputs
            .iter()
            .filter(|(e, m)| xas::process(e, m, params).is_ok())
            .count();
        (ok, inputs.len() - ok)
    };
    let (mut n_ok, mut n_bad) = (0, 0);
    for (c, b) in &files {
        let (ok, bad) = one(c, b);
        n_ok += ok;
        n_bad += bad;
    }
    let t = Instant::now();
    for _ in 0..repeat {
        for (c, b) in &files {
            std::hint::black_box(one(c, b));
        }
    }
    let single = t.elapsed().as_secs_f64();
    let jobs: Vec<usize> = (0..repeat * files.len()).collect();
    let t = Instant::now();
    jobs.par_iter().for_each(|&j| {
        let (c, b) = &files[j % files.len()];
        std::hint::black_box(one(c, b));
    });
    let par = t.elapsed().as_secs_f64();
    let total = (n_ok + n_bad) * repeat;
    Ok(WholeFiles {
        n_files: files.len(),
        n_spectra: n_ok + n_bad,
        n_rejected: n_bad,
        spectra_per_s_single: total as f64 / single,
        spectra_per_s_parallel: total as f64 / par,
    })
}

/// Run tools/bench_larch.py when a Python with xraylarch is available.
fn reference_tools(opts: &BenchOptions, root: &Path, report: &mut BenchReport) {
    let Some(python) = opts.python_or_env("CARTO_PYTHON") else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/bench_larch.py");
    if !script.exists() {
        report.notes.push(format!(
            "{} not found; no reference timing",
            script.display()
        ));
        return;
    }
    let has_larch = Command::new(&python)
        .args(["-c", "import larch"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_larch {
        report.notes.push(format!(
            "{python} has no xraylarch; no reference timing (see tools/README.md, or pass --python)"
        ));
        return;
    }
    let mut cmd = Command::new(&python);
    cmd.arg(&script).arg(root).args(["--repeat", "3"]);
    if opts.rexafs {
        cmd.arg("--rexafs");
    }
    let out = match cmd.output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            report.notes.push(format!(
                "bench_larch.py failed: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
            return;
        }
        Err(e) => {
            report.notes.push(format!("cannot run {python}: {e}"));
            return;
        }
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(ms) = v["ms_per_spectrum"].as_f64() else {
            continue;
        };
        let tool = v["tool"].as_str().unwrap_or("?").to_string();
        let no_read = v["ms_per_spectrum_no_read"].as_f64();
        // rexafs is timed on arrays already in memory: compare like with like.
        let tool_is_rexafs = tool == "rexafs";
        let carto_ms = if tool_is_rexafs {
            report.ms_per_spectrum_no_read
        } else {
            report.ms_per_spectrum
        };
        report.reference.push(ToolTiming {
            tool,
            version: v["version"].as_str().map(str::to_string),
            ms_per_spectrum: ms,
            ms_per_spectrum_no_read: no_read,
            ratio_vs_carto: ms / carto_ms,
            ratio_vs_carto_no_read: if tool_is_rexafs {
                None
            } else {
                no_read.map(|v| v / report.ms_per_spectrum_no_read)
            },
        });
    }
}

/// `carto bench fit`: the FeO 2-path R-space fit, timed like
/// tools/bench_larch_fit.py times Larch's `feffit()` (data processing and
/// model building excluded, every fit from the initial values).
#[derive(Debug, Clone, Serialize)]
pub struct FitBenchReport {
    pub model: String,
    pub repeat: usize,
    pub nfev: usize,
    pub ms_per_fit_median: f64,
    pub ms_per_fit_min: f64,
    /// Fits per second on all threads (independent fits in parallel).
    pub fits_per_s_parallel: f64,
    pub threads: usize,
    pub larch_ms_per_fit: Option<f64>,
    pub larch_nfev: Option<usize>,
    /// How many times slower Larch is (median against median).
    pub ratio_vs_carto: Option<f64>,
    pub notes: Vec<String>,
}

impl FitBenchReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "carto bench fit: {} ({} fits, {} function evaluations each)\n\
             single thread: {:.3} ms per fit (median; min {:.3})\n\
             {} threads:     {:.0} fits/s\n",
            self.model,
            self.repeat,
            self.nfev,
            self.ms_per_fit_median,
            self.ms_per_fit_min,
            self.threads,
            self.fits_per_s_parallel,
        );
        if let (Some(l), Some(r)) = (self.larch_ms_per_fit, self.ratio_vs_carto) {
            s += &format!(
                "xraylarch feffit: {l:.1} ms per fit ({} evaluations) → Carto is {r:.0}× faster\n",
                self.larch_nfev.map_or("?".into(), |n| n.to_string())
            );
        }
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

const FIT_BENCH_MODEL: &str = include_str!("../../tests/fixtures/feffit/feo_2path.toml");

pub fn bench_fit(opts: &BenchOptions) -> Result<FitBenchReport, String> {
    use crate::exafs::feffit::Feffit;
    let root = data_root(opts.data.as_deref())?;
    let root = root.canonicalize().unwrap_or(root);
    let text = FIT_BENCH_MODEL.replace("@DATA@", &root.display().to_string());
    let model = crate::exafs::model::parse_model(&text, &root, "feo_2path.toml")
        .map_err(|e| e.to_string())?;
    let fit = Feffit::new(model).map_err(|e| e.to_string())?;
    let first = fit.fit(None).map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(opts.repeat);
    for _ in 0..opts.repeat {
        let t = Instant::now();
        let r = fit.fit(None).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(r);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let threads = rayon::current_num_threads();
    let n_par = (opts.repeat * threads).max(threads);
    let t = Instant::now();
    (0..n_par).into_par_iter().for_each(|_| {
        std::hint::black_box(fit.fit(None).ok());
    });
    let par = n_par as f64 / t.elapsed().as_secs_f64();
    let mut report = FitBenchReport {
        model: "feo_2path.toml (FeO + FeFe, R space, k-weights 2 and 3)".into(),
        repeat: opts.repeat,
        nfev: first.stats.nfev,
        ms_per_fit_median: median,
        ms_per_fit_min: times[0],
        fits_per_s_parallel: par,
        threads,
        larch_ms_per_fit: None,
        larch_nfev: None,
        ratio_vs_carto: None,
        notes: Vec::new(),
    };
    if let Some(python) = opts.python_or_env("CARTO_PYTHON") {
        match reference_json(&python, "bench_larch_fit.py", &root, &["--repeat", "10"]) {
            Ok(v) => {
                if let Some(ms) = v["median_ms"].as_f64() {
                    report.larch_ms_per_fit = Some(ms);
                    report.larch_nfev = v["nfev"].as_u64().map(|n| n as usize);
                    report.ratio_vs_carto = Some(ms / median);
                }
            }
            Err(e) => report
                .notes
                .push(format!("{e} (no xraylarch there? see tools/README.md)")),
        }
    }
    Ok(report)
}

/// Run `tools/SCRIPT DATA_ROOT ARGS... --json` with `python` and return the
/// last JSON line it prints (the reference tools' timing scripts end so).
fn reference_json(python: &str, script: &str, root: &Path, args: &[&str]) -> Result<Value, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools")
        .join(script);
    let o = Command::new(python)
        .arg(&path)
        .arg(root)
        .args(args)
        .arg("--json")
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{script} failed with {python}: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("{script} printed no JSON line"))
}

/// `carto bench xrd`: stick-pattern simulation per CIF against pymatgen.
#[derive(Debug, Clone, Serialize)]
pub struct XrdBenchReport {
    pub n_cifs: usize,
    /// Median over CIFs of the best of `repeat` runs of `xrd::simulate`
    /// (CuKa, 0–90°, structure already read), ms.
    pub ms_per_cif_median: f64,
    pub ms_per_cif_max: f64,
    /// Median CIF read + symmetry expansion, ms.
    pub parse_ms_median: f64,
    /// Read + simulate every CIF of the 600-file library on all threads.
    pub library_cifs: usize,
    pub library_ms_parallel: f64,
    /// Ranking the 600-CIF library (candidates precomputed) against
    /// xrd/quartz.xy: prepare + rank, median ms; and the one-off library load.
    pub rank_ms_median: f64,
    pub rank_library_load_ms: f64,
    pub rank_top: String,
    pub threads: usize,
    pub pymatgen_ms_per_cif: Option<f64>,
    pub pymatgen_parse_ms: Option<f64>,
    pub pymatgen_version: Option<String>,
    pub ratio_vs_carto: Option<f64>,
    pub notes: Vec<String>,
}

impl XrdBenchReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "carto bench xrd: stick pattern (CuKa, 2θ 0–90°) of {} amcsd_library CIFs\n\
             single thread: {:.3} ms per CIF (median of best-of-repeat; max {:.2}); reading a CIF {:.3} ms\n\
             {} threads: read + simulate all {} library CIFs in {:.0} ms\n",
            self.n_cifs,
            self.ms_per_cif_median,
            self.ms_per_cif_max,
            self.parse_ms_median,
            self.threads,
            self.library_cifs,
            self.library_ms_parallel,
        );
        s += &format!(
            "phase identification: quartz.xy against {} candidates in {:.1} ms (median; top: {}), after a one-off library load of {:.0} ms\n",
            self.library_cifs, self.rank_ms_median, self.rank_top, self.rank_library_load_ms
        );
        if let (Some(p), Some(r)) = (self.pymatgen_ms_per_cif, self.ratio_vs_carto) {
            s += &format!(
                "pymatgen {} XRDCalculator.get_pattern: {p:.2} ms per CIF (reading {:.2} ms) → Carto is {r:.0}× faster\n",
                self.pymatgen_version.as_deref().unwrap_or("?"),
                self.pymatgen_parse_ms.unwrap_or(f64::NAN)
            );
        }
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

pub fn bench_xrd(opts: &BenchOptions, n: usize) -> Result<XrdBenchReport, String> {
    use crate::structure::read_cif;
    use crate::xrd::{DebyeWaller, XrdOptions, simulate};
    let root = data_root(opts.data.as_deref())?;
    let lib = root.join("cif/amcsd_library");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&lib)
        .map_err(|e| format!("cannot list {}: {e}", lib.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("cif")))
        .collect();
    files.sort();
    let o = XrdOptions {
        debye_waller: DebyeWaller::Off,
        ..XrdOptions::default()
    };
    let mut times = Vec::new();
    let mut parse = Vec::new();
    let mut names = Vec::new();
    for f in &files {
        if names.len() >= n {
            break;
        }
        let t = Instant::now();
        let Ok(mut v) = read_cif(f) else { continue };
        parse.push(t.elapsed().as_secs_f64() * 1e3);
        let s = v.remove(0);
        let mut best = f64::INFINITY;
        for _ in 0..opts.repeat.max(1) {
            let t = Instant::now();
            let r = simulate(&s, &o);
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            if r.is_err() {
                best = f64::NAN;
                break;
            }
            std::hint::black_box(r.ok());
        }
        if best.is_finite() {
            times.push(best);
            names.push(
                f.file_name()
                    .map(|x| x.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    if times.is_empty() {
        return Err(format!("no CIF in {} could be simulated", lib.display()));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ms_per_cif_median = med(&mut times);
    let ms_per_cif_max = times.last().copied().unwrap_or(f64::NAN);
    let parse_ms_median = med(&mut parse);
    let t = Instant::now();
    let done: usize = files
        .par_iter()
        .map(|f| {
            read_cif(f)
                .ok()
                .and_then(|mut v| simulate(&v.remove(0), &o).ok())
                .map_or(0, |_| 1)
        })
        .sum();
    let library_ms_parallel = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let (cands, _) = crate::xrd::identify::load_candidates(&lib).map_err(|e| e.to_string())?;
    let rank_library_load_ms = t.elapsed().as_secs_f64() * 1e3;
    let pat =
        crate::io::xrd::read_pattern(&root.join("xrd/quartz.xy")).map_err(|e| e.to_string())?;
    let mut rank_times = Vec::new();
    let mut rank_top = String::new();
    for _ in 0..opts.repeat.clamp(3, 20) {
        let t = Instant::now();
        let prep = crate::xrd::identify::prepare(&pat.two_theta_deg, &pat.intensity, 1.54184)
            .map_err(|e| e.to_string())?;
        let r = crate::xrd::identify::rank(&prep, &cands, 0.02);
        rank_times.push(t.elapsed().as_secs_f64() * 1e3);
        rank_top = r.first().map(|c| c.id.clone()).unwrap_or_default();
    }
    let rank_ms_median = med(&mut rank_times);
    let mut report = XrdBenchReport {
        n_cifs: times.len(),
        ms_per_cif_median,
        ms_per_cif_max,
        parse_ms_median,
        library_cifs: done,
        library_ms_parallel,
        rank_ms_median,
        rank_library_load_ms,
        rank_top,
        threads: rayon::current_num_threads(),
        pymatgen_ms_per_cif: None,
        pymatgen_parse_ms: None,
        pymatgen_version: None,
        ratio_vs_carto: None,
        notes: Vec::new(),
    };
    if let Some(python) = opts.python_or_env("CARTO_PYMATGEN_PYTHON") {
        let mut args = vec!["--repeat", "3", "--files"];
        args.extend(names.iter().map(String::as_str));
        match reference_json(&python, "bench_pymatgen_xrd.py", &root, &args) {
            Ok(v) => {
                report.pymatgen_ms_per_cif = v["median_ms"].as_f64();
                report.pymatgen_parse_ms = v["parse_median_ms"].as_f64();
                report.pymatgen_version = v["pymatgen"].as_str().map(str::to_string);
                report.ratio_vs_carto = report.pymatgen_ms_per_cif.map(|p| p / ms_per_cif_median);
                if v["n"].as_u64() != Some(names.len() as u64) {
                    report.notes.push(format!(
                        "pymatgen timed {} of the {} CIFs (it cannot read the others)",
                        v["n"],
                        names.len()
                    ));
                }
            }
            Err(e) => report
                .notes
                .push(format!("{e} (no pymatgen there? see tools/README.md)")),
        }
    }
    Ok(report)
}

mod map;
mod theory;
mod xanes;
pub use map::{MapBenchReport, bench_map};
pub use theory::{TheoryBenchReport, bench_theory};
pub use xanes::{XanesBenchReport, bench_xanes};
