//! `carto bench xas|fit|xrd|xanes|startup`: throughput figures (the core's
//! [`carto::bench`]) and the start-up time of the app.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::{emit, print_json};

/// `carto bench startup --json`.
#[derive(Serialize)]
pub struct StartupOut {
    pub runs: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub build: &'static str,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to benchmark.
    #[arg(value_enum)]
    pub what: BenchWhat,
    /// Shared data folder (default: ../shared/data beside the checkout, or $CARTO_TEST_DATA).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Repetitions of the whole file set.
    #[arg(long, default_value_t = 20)]
    pub repeat: usize,
    /// Python interpreter with xraylarch for the side-by-side timing ("none" to skip).
    #[arg(long)]
    pub python: Option<String>,
    /// Also time the rexafs Python package (needs it installed beside xraylarch).
    #[arg(long)]
    pub rexafs: bool,
    /// `bench xrd`: how many library CIFs to time one by one.
    #[arg(long, default_value_t = 50)]
    pub cifs: usize,
    /// `bench batch`: worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// `bench theory`: the absorbing element of the closed-form library run.
    #[arg(long, default_value = "Fe")]
    pub absorber: String,
    /// `frame`: measurements on the map (1 to 10⁶).
    #[arg(long, default_value_t = 100_000)]
    pub points: usize,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BenchWhat {
    /// read → pre_edge → autobk → xftf on real spectra.
    Xas,
    /// The FeO 2-path R-space feffit (tests/fixtures/feffit/feo_2path.toml).
    Fit,
    /// Simulated powder patterns of amcsd_library CIFs (pymatgen side by side:
    /// --python with pymatgen, or $CARTO_PYMATGEN_PYTHON).
    Xrd,
    /// `carto batch` on whole files (read, process, write a Parquet table), --threads (2).
    Batch,
    /// lincombo_fitall of one spectrum against 6 standards, all combinations
    /// of ≤ 3 (xraylarch side by side: --python, or $CARTO_PYTHON).
    Xanes,
    /// Cu paths to 5 Å in-process (refeff), and the closed-form χ(k) of
    /// every library CIF holding --absorber (a FEFF executable in
    /// $CARTO_FEFF is timed on the same feff.inp).
    Theory,
    /// The latent space: PCA on 10⁴ profiles, projecting 10⁵, ranking 10⁴
    /// candidates (scikit-learn side by side: --python, or $CARTO_SKLEARN_PYTHON).
    Map,
    /// Time from process start to the first painted frame of the demo
    /// session (needs a display: run under xvfb-run on a headless machine).
    Startup,
    /// One frame of the Map view holding --points measurements (10⁵) and
    /// 644 candidates, headless: the UI pass and its tessellation.
    Frame,
}

pub fn run(a: &BenchArgs) -> Result<()> {
    // Every bench's options: the data folder, --repeat within `max_repeat`,
    // and --python when the bench has a reference tool.
    let opts = |max_repeat: usize, reference: bool| carto::bench::BenchOptions {
        data: a.data.clone(),
        repeat: a.repeat.clamp(1, max_repeat),
        python: if reference { a.python.clone() } else { None },
        rexafs: false,
    };
    match a.what {
        BenchWhat::Fit => {
            let report =
                carto::bench::bench_fit(&opts(usize::MAX, true)).map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
        BenchWhat::Batch => {
            let report = carto::features::bench::bench_batch(
                &opts(usize::MAX, false),
                a.threads.clamp(1, 1024),
            )
            .map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
        BenchWhat::Xanes => {
            let report =
                carto::bench::bench_xanes(&opts(10_000, true)).map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
        BenchWhat::Theory => {
            let report = carto::bench::bench_theory(&opts(usize::MAX, false), &a.absorber)
                .map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
        BenchWhat::Map => {
            let report =
                carto::bench::bench_map(&opts(usize::MAX, true)).map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
        BenchWhat::Startup => bench_startup(a.repeat.clamp(1, 100), a.json),
        #[cfg(feature = "gui")]
        BenchWhat::Frame => {
            // A synthetic map point with its ids and nearest candidates is
            // a few hundred bytes: 10⁶ of them are a few hundred MB.
            if !(1..=1_000_000).contains(&a.points) {
                bail!("--points {}: 1 to 1000000", a.points);
            }
            let report = carto::gui::frame_bench::bench_frame(a.points, a.repeat.clamp(1, 10_000));
            show(a.json, &report, || report.text())
        }
        #[cfg(not(feature = "gui"))]
        BenchWhat::Frame => bail!("carto bench frame needs the gui feature"),
        BenchWhat::Xrd => {
            let report = carto::bench::bench_xrd(&opts(1000, true), a.cifs.clamp(1, 600))
                .map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
        BenchWhat::Xas => {
            let report = carto::bench::bench_xas(&carto::bench::BenchOptions {
                rexafs: a.rexafs,
                ..opts(usize::MAX, true)
            })
            .map_err(anyhow::Error::msg)?;
            show(a.json, &report, || report.text())
        }
    }
}

/// `carto bench startup`: spawn `carto --demo` and time until it reports
/// its first painted frame (process creation, loading, the demo session's
/// files, window and GL set-up, one frame).
fn bench_startup(repeat: usize, as_json: bool) -> Result<()> {
    use std::io::BufRead;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!("carto bench startup needs a display: run it under xvfb-run on a headless machine");
    }
    let exe = std::env::current_exe().context("cannot find the carto executable")?;
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = std::time::Instant::now();
        let mut child = std::process::Command::new(&exe)
            .args(["--demo", "--first-frame-exit"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let seen = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.trim() == "first-frame");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let status = child.wait()?;
        if !seen {
            bail!("carto --demo exited ({status}) without painting a frame");
        }
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    if as_json {
        return print_json(&StartupOut {
            runs: repeat,
            median_ms: median,
            min_ms: times[0],
            max_ms: times[times.len() - 1],
            build: profile,
        });
    }
    emit(&format!(
        "carto bench startup ({profile} build): process start to first painted frame of the demo session, {repeat} runs: median {median:.0} ms (min {:.0}, max {:.0})",
        times[0],
        times[times.len() - 1]
    ))
}

/// A report as JSON (`--json`) or as its text.
fn show<R: serde::Serialize>(json: bool, report: &R, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        print_json(report)
    } else {
        emit(&text())
    }
}
