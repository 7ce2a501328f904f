//! Command-line interface (contract in ARCHITECTURE.md): every subcommand
//! accepts `--json` and then prints exactly one JSON document on stdout;
//! errors go to stderr with a non-zero exit code. One file per subcommand:
//! its arguments parse into a typed config, one core call does the work,
//! and a `Serialize` result type is printed (the types `carto batch` and
//! the feature table reuse).

mod args;
mod batch;
mod bench;
mod fit;
mod gui;
mod info;
mod map;
mod merge;
mod pls;
mod project;
mod structure;
mod theory;
mod xanes;
mod xas;
mod xrd;

use anyhow::Result;
use carto::xas::ChainParams;
use clap::{Parser, Subcommand};
use serde::Serialize;

use self::batch::BatchArgs;
use self::bench::BenchArgs;
use self::fit::FitArgs;
pub use self::gui::GuiArgs;
use self::info::InfoArgs;
use self::map::MapArgs;
use self::merge::MergeArgs;
use self::pls::PlsArgs;
use self::project::ProjectArgs;
use self::structure::StructureArgs;
use self::theory::TheoryArgs;
use self::xanes::XanesArgs;
use self::xas::XasArgs;
use self::xrd::XrdArgs;

#[derive(Debug, Parser)]
#[command(
    name = "carto",
    version,
    about = "Carto: X-ray absorption and diffraction analysis (Larch-compatible XAS processing)",
    long_about = None,
    // `carto FILE...` opens files in the GUI; a subcommand name comes first.
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub gui: GuiArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open files (or folders) in the desktop app.
    Open(GuiArgs),
    /// Show the detected format, modality, columns, μ recipe and metadata of a file.
    Info(InfoArgs),
    /// Normalize μ(E), remove the background (AUTOBK) and Fourier transform χ(k).
    // Negative values (`--rbkg -1`, `--e0 -5`) must reach the parameter
    // checks, which name the parameter, instead of clap's "unexpected argument".
    #[command(allow_negative_numbers = true)]
    Xas(Box<XasArgs>),
    /// Merge several μ(E) scans onto the first one's energy grid (mean and error arrays).
    Merge(MergeArgs),
    /// Fit FEFF paths to EXAFS data (Larch feffit) from a TOML model file.
    Fit(FitArgs),
    /// Read a CIF: formula, space group (moyo), lattice, sites and neighbour shells.
    #[command(allow_negative_numbers = true)]
    Structure(StructureArgs),
    /// FEFF scattering paths of a structure computed in-process (refeff), or --closed χ(k).
    Theory(TheoryArgs),
    /// Powder X-ray diffraction (simulated patterns of structures).
    Xrd(XrdArgs),
    /// XANES analysis: linear combination fitting against standards.
    Xanes(XanesArgs),
    /// The feature table of many files (folders, globs) as CSV or Parquet; `batch merge` joins shards.
    #[command(allow_negative_numbers = true)]
    Batch(Box<BatchArgs>),
    /// Measured patterns and spectra with candidate structures on one map, each with its nearest candidates.
    #[command(allow_negative_numbers = true)]
    Map(Box<MapArgs>),
    /// Partial least squares of spectra or patterns against a numeric column of a feature table.
    #[command(allow_negative_numbers = true)]
    Pls(Box<PlsArgs>),
    /// A learned projection (PCA, NMF or autoencoder) of spectra or patterns: train, save, apply.
    #[command(allow_negative_numbers = true)]
    Project(Box<ProjectArgs>),
    /// Throughput benchmarks (with the Python reference tools' timing when installed).
    Bench(BenchArgs),
}

pub fn run(cli: Cli) -> Result<()> {
    // Test hook (tests/session.rs): write a large session, slowly with
    // CARTO_TEST_SLOW_SAVE_MS, so the test can kill -9 this process mid-save.
    if let Some(out) = std::env::var_os("CARTO_TEST_WRITE_SESSION") {
        return write_test_session(std::path::Path::new(&out));
    }
    match cli.command {
        None => gui::run(cli.gui),
        Some(Command::Open(a)) => gui::run(a),
        Some(Command::Info(a)) => info::run(&a),
        Some(Command::Xas(a)) => xas::run(&a),
        Some(Command::Merge(a)) => merge::run(&a),
        Some(Command::Fit(a)) => fit::run(&a),
        Some(Command::Structure(a)) => structure::run(&a),
        Some(Command::Theory(a)) => theory::run(&a),
        Some(Command::Xrd(a)) => xrd::run(a),
        Some(Command::Xanes(a)) => xanes::run(&a),
        Some(Command::Batch(a)) => batch::run(&a),
        Some(Command::Map(a)) => map::run(&a),
        Some(Command::Pls(a)) => pls::run(&a),
        Some(Command::Project(a)) => project::run(&a),
        Some(Command::Bench(a)) => bench::run(&a),
    }
}

fn write_test_session(out: &std::path::Path) -> Result<()> {
    use carto::session::{Session, SessionItem};
    let item = |i: usize| SessionItem {
        name: format!("spectrum {i}"),
        path: format!("/nonexistent/scan_{i:05}.xdi"),
        sha256: carto::session::sha256_hex(&i.to_le_bytes()),
        group: None,
        mu: None,
        mu_recipe: None,
        params: Some(ChainParams::default()),
        color: [10, 20, 30, 255],
        edits: Vec::new(),
        id: None,
    };
    let s = Session {
        items: (0..2000).map(item).collect(),
        selected: vec![0, 1],
        active: Some(1),
        ..Session::default()
    };
    s.save(out)?;
    Ok(())
}

/// One JSON document on one line. Through a `Value`, so every object's
/// keys come out sorted, as the contract has always printed them.
fn print_json<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    emit(&serde_json::to_string(&serde_json::to_value(v)?)?)
}

/// [`print_json`], indented (`carto info`, `carto structure`).
fn print_json_pretty<T: Serialize + ?Sized>(v: &T) -> Result<()> {
    emit(&serde_json::to_string_pretty(&serde_json::to_value(v)?)?)
}

/// Write one block of output to stdout. A reader that stops early
/// (`carto info F | head`) ends the output quietly instead of a panic.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
