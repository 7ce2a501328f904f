//! Command-line interface (contract in ARCHITECTURE.md): every subcommand
//! accepts `--json` and then prints exactly one JSON document on stdout;
//! errors go to stderr with a non-zero exit code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use carto::io::{self, Dataset, LoadOptions, MuMode};
use carto::xas::process::{ProcessError, Step, XasInput};
use carto::xas::{self, AutobkParams, ChainParams, FtParams, PreEdgeParams, Window};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

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

/// How the desktop app starts (`carto`, `carto FILE...`, `carto open FILE...`).
#[derive(Debug, Args, Default)]
pub struct GuiArgs {
    /// Files or folders to open in the desktop app (none: the demo session);
    /// a fit model (MODEL.toml) opens in the Fit view.
    pub files: Vec<PathBuf>,
    /// Run the fit as soon as the fit model among the files is open.
    #[arg(long)]
    pub fit: bool,
    /// Open the bundled demo session (sample_data/).
    #[arg(long)]
    pub demo: bool,
    /// Render a few frames, save a PNG screenshot here and exit.
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// Open a saved session (a `FILE.carto` among the files does the same).
    #[arg(long, value_name = "FILE.carto")]
    pub session: Option<PathBuf>,
    /// The plot tab to show first.
    #[cfg(feature = "gui")]
    #[arg(long, value_enum)]
    pub plot: Option<carto::gui::PlotTab>,
    /// Print `first-frame` when the first frame is painted, then exit (for `carto bench startup`).
    #[arg(long, hide = true)]
    pub first_frame_exit: bool,
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
    /// Powder X-ray diffraction (simulated patterns of structures).
    Xrd(XrdArgs),
    /// Throughput benchmarks (with the Python reference tools' timing when installed).
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct XrdArgs {
    #[command(subcommand)]
    pub cmd: XrdCmd,
}

#[derive(Debug, Subcommand)]
pub enum XrdCmd {
    /// Stick pattern of a CIF (pymatgen XRDCalculator's model), optionally broadened.
    Simulate(XrdSimArgs),
    /// Background (SNIP), peak search and pseudo-Voigt fits of a measured pattern.
    Peaks(XrdPeaksArgs),
    /// Rank every CIF of a folder against a measured pattern.
    Identify(XrdIdentifyArgs),
    /// Weight % of phases by full-pattern summation of a reference library (powdR fps).
    Quantify(XrdQuantArgs),
}

#[derive(Debug, Args)]
pub struct XrdPeaksArgs {
    /// Measured pattern (.xy/.xye/.dat, Fit2D .chi, Bruker .raw/.brml, .xrdml, GSAS .fxye).
    pub pattern: PathBuf,
    /// Background method: snip, or sonneveld-visser (sv).
    #[arg(long, value_enum, default_value_t = carto::xrd::peaks::BackgroundMethod::Snip)]
    pub background: carto::xrd::peaks::BackgroundMethod,
    /// Background window (°2θ): SNIP's half-width; Sonneveld–Visser samples every half window.
    #[arg(long, default_value_t = 1.0)]
    pub bkg_window: f64,
    /// Peaks must rise this many noise levels above the background.
    #[arg(long, default_value_t = 6.0)]
    pub min_snr: f64,
    /// Fit each peak with a pseudo-Voigt over ± this window (°2θ).
    #[arg(long, default_value_t = 0.5)]
    pub fit_window: f64,
    /// Wavelength (name or Å) for d-spacings when the file gives none.
    #[arg(long)]
    pub wavelength: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct XrdIdentifyArgs {
    /// Measured pattern.
    pub pattern: PathBuf,
    /// Folder of candidate CIFs (sub-folders one level down are included).
    #[arg(long, value_name = "DIR")]
    pub candidates: PathBuf,
    /// Wavelength (name or Å); default: the file's.
    #[arg(long)]
    pub wavelength: Option<String>,
    /// Lattice scale allowed, ± fraction.
    #[arg(long, default_value_t = 0.02)]
    pub max_scale: f64,
    /// How many candidates to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct XrdQuantArgs {
    /// Measured pattern.
    pub pattern: PathBuf,
    /// Library folder: phases.csv (phase_id, phase_name, rir) and one pattern per phase.
    #[arg(long, value_name = "DIR")]
    pub library: PathBuf,
    /// Internal standard and its weight %, e.g. CORUNDUM=20.
    #[arg(long, value_name = "ID=WT%")]
    pub std: Option<String>,
    /// Largest 2θ shift of each reference (°).
    #[arg(long, default_value_t = 0.05)]
    pub shift: f64,
    /// Align the sample to the standard within ± this (°).
    #[arg(long, default_value_t = 0.3)]
    pub align: f64,
    /// Remove phases below this weight % and refit.
    #[arg(long, default_value_t = 0.0)]
    pub min_weight: f64,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct XrdSimArgs {
    /// The CIF file.
    pub cif: PathBuf,
    /// Wavelength: a tube line (CuKa, CuKa1, MoKa, CoKa, AgKa, CrKa, FeKa, …) or Å.
    #[arg(long, default_value = "CuKa")]
    pub wavelength: String,
    /// 2θ range (degrees).
    #[arg(long, num_args = 2, value_names = ["MIN", "MAX"], default_values_t = [0.0, 90.0])]
    pub two_theta: Vec<f64>,
    /// Ignore the CIF's displacement parameters (pymatgen's default).
    #[arg(long, conflicts_with = "b_iso")]
    pub no_dw: bool,
    /// One Debye–Waller B (Å²) for every site instead of the CIF's.
    #[arg(long, value_name = "Å²")]
    pub b_iso: Option<f64>,
    /// Also compute a pseudo-Voigt profile (Caglioti width, Kα1/Kα2 doublet for a Kα tube).
    #[arg(long)]
    pub profile: bool,
    /// Caglioti U V W (deg²) of the profile.
    #[arg(long, num_args = 3, value_names = ["U", "V", "W"], allow_negative_numbers = true)]
    pub caglioti: Option<Vec<f64>>,
    /// Lorentzian fraction of the pseudo-Voigt.
    #[arg(long, default_value_t = 0.5)]
    pub eta: f64,
    /// Profile grid step (°2θ).
    #[arg(long, default_value_t = 0.02)]
    pub step: f64,
    /// No Kα2 line in the profile.
    #[arg(long)]
    pub no_doublet: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
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

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The model file (TOML: [data], [transform], [params], [[paths]] or [[datasets]]).
    pub model: PathBuf,
    /// Print one JSON document (params, stats, correlations, best-fit arrays).
    #[arg(long)]
    pub json: bool,
    /// Also write the text report (Larch's feffit_report layout) here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Correlations reported above this magnitude.
    #[arg(long, default_value_t = 0.1)]
    pub min_correl: f64,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// μ(E) files to merge (the first one gives the energy grid).
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Group label for the files that are Athena projects.
    #[arg(long)]
    pub group: Option<String>,
    /// Override the automatic μ(E) recipe of every file.
    #[arg(long, value_enum)]
    pub mu: Option<MuMode>,
    /// Write the merged spectrum as a column file (energy, mu, mu_std) Carto and Larch read.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Which file to read and how to turn its columns into μ(E).
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Data file (XDI, column text, beamline file, Athena project, FEFF path).
    pub file: PathBuf,
    /// Group label (or Athena id) inside an Athena project.
    #[arg(long)]
    pub group: Option<String>,
    /// Override the automatic μ(E) recipe.
    #[arg(long, value_enum)]
    pub mu: Option<MuMode>,
    /// Column labels to use instead of the file's, like Larch's `labels=`: "energy i0 it".
    #[arg(long)]
    pub columns: Option<String>,
}

impl InputArgs {
    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            mu_mode: self.mu,
            columns: self.columns.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct XasArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print one JSON document with all arrays.
    #[arg(long)]
    pub json: bool,
    /// Also write the processed arrays as CSV: OUT_mu.csv (energy grid),
    /// OUT_chi.csv (k) and OUT_chir.csv (R).
    #[arg(long, value_name = "OUT.csv")]
    pub csv: Option<PathBuf>,
    // corrections, applied in this order before pre_edge (as in Athena)
    /// Deglitch: remove the points nearest these energies, eV (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub deglitch: Vec<f64>,
    /// Add this shift to the energies, eV.
    #[arg(long)]
    pub eshift: Option<f64>,
    /// Align to a reference spectrum: fit the energy shift on dμ/dE (Larch energy_align).
    #[arg(long)]
    pub align_to: Option<PathBuf>,
    /// Group of the reference when it is an Athena project.
    #[arg(long)]
    pub align_group: Option<String>,
    /// Rebin onto Larch's default XAFS grid (rebin_xafs) before processing.
    #[arg(long)]
    pub rebin: bool,
    /// XANES only: normalize (pre_edge) and stop; no AUTOBK or Fourier transform.
    #[arg(long)]
    pub xanes: bool,
    // pre_edge
    /// Edge energy, eV (default: maximum of the smoothed derivative).
    #[arg(long)]
    pub e0: Option<f64>,
    /// Pre-edge range start, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub pre1: Option<f64>,
    /// Pre-edge range end, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub pre2: Option<f64>,
    /// Post-edge range start, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub norm1: Option<f64>,
    /// Post-edge range end, eV relative to e0.
    #[arg(long, allow_hyphen_values = true)]
    pub norm2: Option<f64>,
    /// Post-edge polynomial degree (0–5).
    #[arg(long)]
    pub nnorm: Option<usize>,
    /// Energy exponent of the pre-edge fit (Victoreen).
    #[arg(long, default_value_t = 0)]
    pub nvict: i32,
    /// Edge step to use instead of the fitted one.
    #[arg(long)]
    pub step: Option<f64>,
    // autobk
    /// AUTOBK: R below which χ(R) is minimised, Å.
    #[arg(long, default_value_t = 1.0)]
    pub rbkg: f64,
    /// AUTOBK: k-weight of the background fit.
    #[arg(long, default_value_t = 1.0)]
    pub bkg_kweight: f64,
    /// AUTOBK: k range start, Å⁻¹.
    #[arg(long, default_value_t = 0.0)]
    pub bkg_kmin: f64,
    /// AUTOBK: k range end, Å⁻¹ (default: end of data).
    #[arg(long)]
    pub bkg_kmax: Option<f64>,
    /// AUTOBK: window sill width, Å⁻¹.
    #[arg(long, default_value_t = 0.1)]
    pub bkg_dk: f64,
    /// AUTOBK: number of spline knots (default 1 + 2·rbkg·Δk/π).
    #[arg(long)]
    pub nknots: Option<usize>,
    /// AUTOBK: weight of the low-k clamp.
    #[arg(long, default_value_t = 0.0)]
    pub clamp_lo: f64,
    /// AUTOBK: weight of the high-k clamp.
    #[arg(long, default_value_t = 1.0)]
    pub clamp_hi: f64,
    // xftf
    /// FT k range start, Å⁻¹.
    #[arg(long, default_value_t = 2.0)]
    pub kmin: f64,
    /// FT k range end, Å⁻¹ (limited to the end of the data).
    #[arg(long, default_value_t = 12.0)]
    pub kmax: f64,
    /// FT window sill width, Å⁻¹.
    #[arg(long, default_value_t = 1.0)]
    pub dk: f64,
    /// FT window shape.
    #[arg(long, value_enum, default_value_t = Window::Hanning)]
    pub window: Window,
    /// FT k-weight.
    #[arg(long, default_value_t = 2.0)]
    pub kweight: f64,
    /// Largest R in the output, Å.
    #[arg(long, default_value_t = 10.0)]
    pub rmax_out: f64,
    // xftr (χ(q)); defaults: Athena's first-shell window
    /// Back-transform (χ(q)) R range start, Å.
    #[arg(long, default_value_t = 1.0)]
    pub rmin: f64,
    /// Back-transform R range end, Å.
    #[arg(long, default_value_t = 3.0)]
    pub rmax: f64,
    /// Back-transform window sill width, Å.
    #[arg(long, default_value_t = 0.0)]
    pub dr: f64,
    /// Back-transform window shape.
    #[arg(long, value_enum, default_value_t = Window::Hanning)]
    pub rwindow: Window,
}

impl XasArgs {
    /// The back-transform to χ(q) (Larch `xftr` names).
    fn r_params(&self) -> xas::fourier::RParams {
        xas::fourier::RParams {
            rmin: self.rmin,
            rmax: self.rmax,
            dr: self.dr,
            window: self.rwindow,
            ..xas::fourier::RParams::first_shell()
        }
    }

    fn chain_params(&self) -> ChainParams {
        ChainParams {
            pre_edge: PreEdgeParams {
                e0: self.e0,
                step: self.step,
                pre1: self.pre1,
                pre2: self.pre2,
                norm1: self.norm1,
                norm2: self.norm2,
                nnorm: self.nnorm,
                nvict: self.nvict,
                make_flat: true,
            },
            autobk: AutobkParams {
                rbkg: self.rbkg,
                nknots: self.nknots,
                kmin: self.bkg_kmin,
                kmax: self.bkg_kmax,
                kweight: self.bkg_kweight,
                dk: self.bkg_dk,
                clamp_lo: self.clamp_lo,
                clamp_hi: self.clamp_hi,
                ..AutobkParams::default()
            },
            ft: FtParams {
                kmin: self.kmin,
                kmax: self.kmax,
                dk: self.dk,
                window: self.window,
                kweight: self.kweight,
                rmax_out: self.rmax_out,
                ..FtParams::default()
            },
        }
    }
}

/// A processing error with the command-line option named, so `--bkg-dk`
/// and `--dk` are told apart (AUTOBK and xftf share names, not options).
fn step_error(file: &str, e: ProcessError) -> anyhow::Error {
    let step = e.step();
    match e {
        ProcessError::KminBeyondData {
            kmin_inv_ang,
            kend_inv_ang,
        } => anyhow::anyhow!(
            "{file}: invalid --kmin {kmin_inv_ang}: χ(k) ends at k = {kend_inv_ang:.2} Å⁻¹ (for XANES-only data use --xanes: normalization only)"
        ),
        ProcessError::PreEdge(x)
        | ProcessError::Autobk(x)
        | ProcessError::Ft(x)
        | ProcessError::ChiQ(x) => {
            let short = step == Step::Autobk && matches!(x, xas::XasError::TooFewPoints(_));
            let err = match x {
                xas::XasError::BadParam {
                    name,
                    value,
                    reason,
                } => {
                    let flag = match (step, name) {
                        (Step::Autobk, "kmin" | "kmax" | "kweight" | "dk") => {
                            format!("--bkg-{name}")
                        }
                        (Step::ChiQ, "window") => "--rwindow".to_string(),
                        _ => format!("--{}", name.replace('_', "-")),
                    };
                    anyhow::anyhow!("{file}: {}: invalid {flag} {value}: {reason}", step.name())
                }
                other => anyhow::anyhow!("{file}: {}: {other}", step.name()),
            };
            if short {
                anyhow::anyhow!("{err} (for XANES-only data use --xanes: normalization only)")
            } else {
                err
            }
        }
        other => anyhow::anyhow!("{file}: {other}"),
    }
}

impl XasArgs {
    /// Reject options the processing would otherwise replace silently
    /// (Larch falls back to its own e0 when the given one is off the data,
    /// clamps nnorm, takes |step|) or that cannot mean anything (NaN, ∞).
    fn check_options(&self, energy_ev: &[f64], file: &str) -> Result<()> {
        let values = [
            ("--e0", self.e0),
            ("--pre1", self.pre1),
            ("--pre2", self.pre2),
            ("--norm1", self.norm1),
            ("--norm2", self.norm2),
            ("--step", self.step),
            ("--rbkg", Some(self.rbkg)),
            ("--bkg-kweight", Some(self.bkg_kweight)),
            ("--bkg-kmin", Some(self.bkg_kmin)),
            ("--bkg-kmax", self.bkg_kmax),
            ("--bkg-dk", Some(self.bkg_dk)),
            ("--clamp-lo", Some(self.clamp_lo)),
            ("--clamp-hi", Some(self.clamp_hi)),
            ("--kmin", Some(self.kmin)),
            ("--kmax", Some(self.kmax)),
            ("--dk", Some(self.dk)),
            ("--kweight", Some(self.kweight)),
            ("--rmax-out", Some(self.rmax_out)),
        ];
        for (flag, v) in values {
            if let Some(v) = v
                && !v.is_finite()
            {
                bail!("{file}: invalid {flag} {v}: must be a finite number");
            }
        }
        if let Some(e0) = self.e0 {
            let mut e = energy_ev.to_vec();
            e.sort_by(f64::total_cmp);
            e.dedup();
            if e.len() >= 4 && !(e[1]..=e[e.len() - 2]).contains(&e0) {
                bail!(
                    "{file}: invalid --e0 {e0}: outside the data's energy range {:.2}–{:.2} eV",
                    e[0],
                    e[e.len() - 1]
                );
            }
        }
        if let Some(n) = self.nnorm
            && n > 5
        {
            bail!("{file}: invalid --nnorm {n}: must be between 0 and 5");
        }
        if let Some(s) = self.step
            && s <= 0.0
        {
            bail!("{file}: invalid --step {s}: must be > 0");
        }
        Ok(())
    }
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
    /// Time from process start to the first painted frame of the demo
    /// session (needs a display: run under xvfb-run on a headless machine).
    Startup,
}

pub fn run(cli: Cli) -> Result<()> {
    // Test hook (tests/session.rs): write a large session, slowly with
    // CARTO_TEST_SLOW_SAVE_MS, so the test can kill -9 this process mid-save.
    if let Some(out) = std::env::var_os("CARTO_TEST_WRITE_SESSION") {
        return write_test_session(std::path::Path::new(&out));
    }
    match cli.command {
        None => gui(cli.gui),
        Some(Command::Open(a)) => gui(a),
        Some(Command::Info(a)) => info(&a),
        Some(Command::Xas(a)) => xas_cmd(&a),
        Some(Command::Merge(a)) => merge_cmd(&a),
        Some(Command::Fit(a)) => fit_cmd(&a),
        Some(Command::Structure(a)) => structure_cmd(&a),
        Some(Command::Xrd(a)) => match a.cmd {
            XrdCmd::Simulate(s) => xrd_simulate_cmd(&s),
            XrdCmd::Peaks(p) => xrd_peaks_cmd(&p),
            XrdCmd::Identify(i) => xrd_identify_cmd(&i),
            XrdCmd::Quantify(q) => xrd_quantify_cmd(&q),
        },
        Some(Command::Bench(a)) => bench(&a),
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

#[cfg(feature = "gui")]
fn gui(a: GuiArgs) -> Result<()> {
    let (sessions, files): (Vec<PathBuf>, Vec<PathBuf>) = a
        .files
        .into_iter()
        .partition(|f| f.extension().is_some_and(|e| e == "carto"));
    let mut session = a.session;
    for s in sessions {
        if session.is_some() {
            bail!("only one session can be opened at a time ({})", s.display());
        }
        session = Some(s);
    }
    carto::gui::run(carto::gui::GuiOptions {
        files,
        demo: a.demo,
        screenshot: a.screenshot,
        plot: a.plot,
        session,
        fit: a.fit,
        first_frame_exit: a.first_frame_exit,
    })
    .map_err(anyhow::Error::msg)
}

/// Built without the `gui` feature: the help, as before the GUI existed.
#[cfg(not(feature = "gui"))]
fn gui(a: GuiArgs) -> Result<()> {
    use clap::CommandFactory;
    if a.files.is_empty() && !a.demo && a.screenshot.is_none() && a.session.is_none() {
        return emit(&Cli::command().render_help().to_string());
    }
    bail!("this carto was built without the `gui` feature")
}

fn print_json(v: &Value) -> Result<()> {
    emit(&serde_json::to_string(v)?)
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

/// `carto info` for a powder pattern.
fn info_pattern(path: &Path, p: &carto::io::xrd::XrdPattern, as_json: bool) -> Result<()> {
    let (x, n) = (&p.two_theta_deg, p.npts());
    let first = x.first().copied().unwrap_or(f64::NAN);
    let last = x.last().copied().unwrap_or(f64::NAN);
    let step = if n > 1 {
        (last - first) / (n - 1) as f64
    } else {
        f64::NAN
    };
    if as_json {
        return emit(&serde_json::to_string_pretty(&json!({
            "file": path.display().to_string(), "format": p.source_format, "modality": "xrd",
            "npts": n, "two_theta_range": [first, last], "step_deg": step,
            "wavelength_ang": p.wavelength_ang, "has_sigma": p.sigma.is_some(),
            "metadata": p.metadata,
        }))?);
    }
    let mut out = format!(
        "{}: {} (xrd)\n  {n} points, 2θ {first:.4} – {last:.4}° (step {step:.5}°)\n  wavelength: {}\n",
        path.display(),
        p.source_format,
        p.wavelength_ang
            .map_or("not in the file".to_string(), |w| format!("{w} Å"))
    );
    for (k, v) in p.metadata.iter().take(12) {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    emit(&out)
}

/// `carto info` for a CIF: its blocks (`carto structure` gives the rest).
fn info_structures(file: &str, all: &[carto::structure::Structure], as_json: bool) -> Result<()> {
    use carto::structure as st;
    if as_json {
        let blocks: Vec<Value> = all
            .iter()
            .map(|s| json!({"block": s.name, "formula": st::reduced_formula(s), "nsites": s.sites.len()}))
            .collect();
        return print_json(&json!({
            "file": file, "format": "cif", "modality": "structure", "blocks": blocks,
        }));
    }
    let mut lines = vec![format!("{file}: CIF (structure)")];
    for s in all {
        lines.push(format!(
            "  block {}: {}, {} sites in the cell",
            s.name,
            st::reduced_formula(s),
            s.sites.len()
        ));
    }
    lines.push(format!(
        "  (carto structure {file} for the space group and shells)"
    ));
    emit(&lines.join("\n"))
}

/// `carto info` for an EXAFS fit model (`carto fit` runs it).
fn info_model(file: &str, m: &carto::exafs::FitModel, as_json: bool) -> Result<()> {
    let npaths: usize = m.datasets.iter().map(|d| d.paths.len()).sum();
    if as_json {
        return print_json(&json!({
            "file": file, "format": "toml", "modality": "fit_model",
            "params": m.params.len(), "datasets": m.datasets.len(), "paths": npaths,
        }));
    }
    emit(&format!(
        "{file}: fit model (TOML)\n  {} parameters, {} dataset(s), {npaths} paths\n  (carto fit {file} runs it)",
        m.params.len(),
        m.datasets.len()
    ))
}

fn info(a: &InfoArgs) -> Result<()> {
    let path = &a.input.file;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = io::detect_format(&bytes);
    let file = path.display().to_string();
    let ds = match io::open_bytes(&bytes, path, &a.input.load_options())? {
        io::Opened::Spectra(ds) => ds,
        io::Opened::Pattern(p) => return info_pattern(path, &p, a.json),
        io::Opened::Structures(s) => return info_structures(&file, &s, a.json),
        io::Opened::FitModel(m) => return info_model(&file, &m, a.json),
    };
    check_group_option(&ds, &a.input, &file)?;
    let mut v = json!({ "file": file, "format": format, "modality": ds.modality() });
    let mut lines = vec![format!("{file}: {format:?} ({})", ds.modality())];
    match &ds {
        Dataset::Xas(s) => {
            let label = |i: usize| s.table.labels.get(i).cloned().unwrap_or_default();
            v["npts"] = json!(s.energy_ev.len());
            v["columns"] = json!(s.table.labels);
            v["energy_column"] = json!(label(s.energy_column));
            v["energy_unit"] = json!(s.energy_unit);
            v["mu_recipe"] = recipe_json(&s.recipe, &s.table.labels);
            v["energy_range_ev"] = json!([s.energy_ev.first(), s.energy_ev.last()]);
            v["metadata"] = json!(s.table.metadata);
            lines.push(format!(
                "  {} points, columns: {}",
                s.energy_ev.len(),
                s.table.labels.join(", ")
            ));
            lines.push(format!(
                "  energy: column '{}' ({:?})",
                label(s.energy_column),
                s.energy_unit
            ));
            lines.push(format!(
                "  μ(E): {}",
                recipe_text(&s.recipe, &s.table.labels)
            ));
            if let (Some(a), Some(b)) = (s.energy_ev.first(), s.energy_ev.last()) {
                lines.push(format!("  energy range: {a:.2} – {b:.2} eV"));
            }
        }
        Dataset::Chi(c) => {
            v["npts"] = json!(c.k_inv_ang.len());
            v["columns"] = json!(c.table.labels);
            v["metadata"] = json!(c.table.metadata);
            lines.push(format!(
                "  χ(k): {} points, k up to {:.2} Å⁻¹",
                c.k_inv_ang.len(),
                c.k_inv_ang.last().copied().unwrap_or(0.0)
            ));
        }
        Dataset::Athena(p) => {
            let groups: Vec<Value> = p
                .groups
                .iter()
                .map(|g| json!({ "label": g.label, "id": g.id, "datatype": g.datatype(), "npts": g.npts() }))
                .collect();
            lines.push(format!("  {} groups", groups.len()));
            for g in &p.groups {
                lines.push(format!(
                    "  - {} [{}] {} points",
                    g.label,
                    g.datatype(),
                    g.npts()
                ));
            }
            v["groups"] = Value::Array(groups);
            v["header"] = json!(p.header);
        }
        Dataset::Feff(f) => {
            v["feff"] = json!({
                "reff": f.reff_ang, "degen": f.degen, "nleg": f.nleg, "npts": f.k_inv_ang.len(),
                "geometry": f.geometry, "potentials": f.potentials, "title": f.title,
            });
            lines.push(format!(
                "  path: reff {:.4} Å, degen {}, nleg {}, {} k points",
                f.reff_ang,
                f.degen,
                f.nleg,
                f.k_inv_ang.len()
            ));
        }
    }
    if a.json {
        print_json(&v)
    } else {
        emit(&lines.join("\n"))
    }
}

fn recipe_json(r: &io::MuRecipe, labels: &[String]) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    v["text"] = json!(recipe_text(r, labels));
    v
}

fn recipe_text(r: &io::MuRecipe, labels: &[String]) -> String {
    let l = |i: &usize| {
        labels
            .get(*i)
            .cloned()
            .unwrap_or_else(|| format!("col{}", i + 1))
    };
    match r {
        io::MuRecipe::Transmission { i0, it } => format!("transmission ln({}/{})", l(i0), l(it)),
        io::MuRecipe::Fluorescence { i_f, i0 } => {
            format!(
                "fluorescence ({})/{}",
                i_f.iter().map(l).collect::<Vec<_>>().join("+"),
                l(i0)
            )
        }
        io::MuRecipe::Reference { it, iref } => format!("reference ln({}/{})", l(it), l(iref)),
        io::MuRecipe::Column { mu } => format!("column {}", l(mu)),
    }
}

/// The groups of a project for an error message: quoted labels (some have
/// leading spaces or commas), with the id that `--group` also accepts when
/// a label is not unique.
fn group_list(p: &io::athena::AthenaProject) -> String {
    p.groups
        .iter()
        .map(|g| {
            if p.groups.iter().filter(|o| o.label == g.label).count() > 1 {
                format!("'{}' (id {})", g.label, g.id)
            } else {
                format!("'{}'", g.label)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--group` names a group of an Athena project; anywhere else it would be
/// ignored without a word, and a misspelt group must not pass unnoticed.
fn check_group_option(ds: &Dataset, input: &InputArgs, file: &str) -> Result<()> {
    match (ds, &input.group) {
        (_, None) => Ok(()),
        (Dataset::Athena(p), Some(name)) => match p.group(name) {
            Some(_) => Ok(()),
            None => bail!("{file}: no group '{name}'; groups are: {}", group_list(p)),
        },
        (other, Some(_)) => bail!(
            "{file}: --group applies to Athena projects, and this file holds {} data",
            other.modality()
        ),
    }
}

/// Pick the spectrum to process from whatever the file holds, with its
/// Athena group label.
fn spectrum_of(ds: Dataset, input: &InputArgs, file: &str) -> Result<(XasInput, Option<String>)> {
    match ds {
        Dataset::Xas(s) => Ok((XasInput::Mu(s), None)),
        Dataset::Chi(c) => Ok((XasInput::Chi(c), None)),
        Dataset::Athena(p) => {
            let g = match &input.group {
                Some(name) => p.group(name).with_context(|| {
                    format!("{file}: no group '{name}'; groups are: {}", group_list(&p))
                })?,
                None if p.groups.len() == 1 => &p.groups[0],
                None => bail!(
                    "{file}: Athena project with {} groups; choose one with --group (one of: {})",
                    p.groups.len(),
                    group_list(&p)
                ),
            };
            let label = g.label.clone();
            if g.is_chi() {
                Ok((XasInput::Chi(g.to_chi(file)?), Some(label)))
            } else {
                Ok((XasInput::Mu(g.to_spectrum(file)?), Some(label)))
            }
        }
        Dataset::Feff(_) => bail!("{file}: a FEFF path file has no μ(E); use `carto info`"),
    }
}

fn xas_cmd(a: &XasArgs) -> Result<()> {
    let path = &a.input.file;
    let file = path.display().to_string();
    // With --group only that group's arrays are kept (same group, same errors).
    let ds = io::load_group(path, &a.input.load_options(), a.input.group.as_deref())?;
    check_group_option(&ds, &a.input, &file)?;
    let (input, group) = spectrum_of(ds, &a.input, &file)?;
    let p = a.chain_params();
    let rp = a.r_params();
    if let XasInput::Chi(c) = &input {
        a.check_options(&[], &file)?;
        let res =
            xas::process::run(&input, &[], &p, Some(&rp)).map_err(|e| step_error(&file, e))?;
        let (r, ft) = (&res.chir, &res.ft);
        let Some(q) = &res.chiq else {
            bail!("{file}: no χ(q)")
        };
        if let Some(out) = &a.csv {
            let name = c.name.clone();
            carto::export::write_csv(
                out,
                &carto::export::ExportSpectrum {
                    name: &name,
                    source: &file,
                    pre: None,
                    bkg: None,
                    k_inv_ang: &c.k_inv_ang,
                    chi: &c.chi,
                    chir: r,
                    chiq: Some(q),
                },
            )
            .map_err(anyhow::Error::msg)?;
        }
        let v = json!({
            "file": file, "group": group, "e0": Value::Null, "edge_step": Value::Null,
            "pre_slope": Value::Null, "pre_intercept": Value::Null, "energy": [], "norm": [],
            "k": c.k_inv_ang, "chi": c.chi, "r": r.r_ang, "chir_mag": r.chir_mag,
            "chir_re": r.chir_re, "chir_im": r.chir_im,
            "q": q.q_inv_ang, "chiq_re": q.chiq_re, "chiq_im": q.chiq_im, "chiq_mag": q.chiq_mag,
            "params": {
                "kmin": ft.kmin, "kmax": ft.kmax, "dk": ft.dk, "window": ft.window, "kweight": ft.kweight,
                "nfft": ft.nfft, "kstep": ft.kstep, "rmax_out": ft.rmax_out,
                "rmin": rp.rmin, "rmax": rp.rmax, "dr": rp.dr, "rwindow": rp.window,
            },
        });
        return if a.json {
            print_json(&v)
        } else {
            emit(&format!(
                "{file}: χ(k) with {} points; |χ(R)| max at {:.3} Å",
                c.k_inv_ang.len(),
                peak_r(r)
            ))
        };
    }
    let XasInput::Mu(s) = input else {
        bail!("{file}: nothing to process")
    };
    let (s, corrections) = apply_corrections(a, s, &p, &file)?;
    a.check_options(&s.energy_ev, &file)?;
    let input = XasInput::Mu(s);
    if a.xanes {
        let (_, pre) =
            xas::process::normalize(&input, &[], &p.pre_edge).map_err(|e| step_error(&file, e))?;
        let XasInput::Mu(s) = &input else {
            bail!("{file}: nothing to process")
        };
        return xanes_output(a, s, &pre, &file, group.as_deref(), corrections);
    }
    let processed =
        xas::process::run(&input, &[], &p, Some(&rp)).map_err(|e| step_error(&file, e))?;
    let XasInput::Mu(s) = &input else {
        bail!("{file}: nothing to process")
    };
    let (Some(pre), Some(bkg), Some(q)) = (processed.pre, processed.bkg, processed.chiq) else {
        bail!("{file}: μ(E) processing gave no χ(k)")
    };
    let ft = processed.ft;
    let res = xas::ChainResult {
        pre,
        bkg,
        chir: processed.chir,
    };
    if let Some(out) = &a.csv {
        carto::export::write_csv(
            out,
            &carto::export::ExportSpectrum {
                name: &s.name,
                source: &file,
                pre: Some(&res.pre),
                bkg: Some(&res.bkg),
                k_inv_ang: &res.bkg.k_inv_ang,
                chi: &res.bkg.chi,
                chir: &res.chir,
                chiq: Some(&q),
            },
        )
        .map_err(anyhow::Error::msg)?;
    }
    let params = json!({
        "e0": res.pre.e0, "step": res.pre.edge_step, "pre1": res.pre.pre1, "pre2": res.pre.pre2,
        "norm1": res.pre.norm1, "norm2": res.pre.norm2, "nnorm": res.pre.nnorm, "nvict": res.pre.nvict,
        "rbkg": res.bkg.rbkg, "bkg_kweight": p.autobk.kweight, "bkg_kmin": res.bkg.kmin, "bkg_kmax": res.bkg.kmax,
        "bkg_dk": p.autobk.dk, "nknots": res.bkg.nknots, "clamp_lo": p.autobk.clamp_lo, "clamp_hi": p.autobk.clamp_hi,
        "kmin": ft.kmin, "kmax": ft.kmax, "dk": ft.dk, "window": ft.window, "kweight": ft.kweight,
        "nfft": ft.nfft, "kstep": ft.kstep, "rmax_out": ft.rmax_out,
        "rmin": rp.rmin, "rmax": rp.rmax, "dr": rp.dr, "rwindow": rp.window,
    });
    if a.json {
        let v = json!({
            "file": file, "group": group, "mu_recipe": recipe_json(&s.recipe, &s.table.labels),
            "e0": res.pre.e0, "edge_step": res.pre.edge_step,
            "pre_slope": res.pre.pre_slope, "pre_intercept": res.pre.pre_intercept,
            "norm_coefs": res.pre.norm_coefs,
            "energy": res.pre.energy_ev, "mu": res.pre.mu, "norm": res.pre.norm, "flat": res.pre.flat,
            "pre_edge": res.pre.pre_edge, "post_edge": res.pre.post_edge, "bkg": res.bkg.bkg,
            "k": res.bkg.k_inv_ang, "chi": res.bkg.chi,
            "r": res.chir.r_ang, "chir_mag": res.chir.chir_mag, "chir_re": res.chir.chir_re, "chir_im": res.chir.chir_im,
            "q": q.q_inv_ang, "chiq_re": q.chiq_re, "chiq_im": q.chiq_im, "chiq_mag": q.chiq_mag,
            "params": params, "corrections": corrections,
        });
        return print_json(&v);
    }
    let lines = [
        format!(
            "{file}{}",
            group.map(|g| format!(" [{g}]")).unwrap_or_default()
        ),
        format!(
            "  μ(E):       {} ({} points)",
            recipe_text(&s.recipe, &s.table.labels),
            s.energy_ev.len()
        ),
        format!("  e0:         {:.3} eV", res.pre.e0),
        format!("  edge step:  {:.6}", res.pre.edge_step),
        format!(
            "  pre-edge:   [{:.1}, {:.1}] eV, slope {:.4e}, intercept {:.6}",
            res.pre.pre1, res.pre.pre2, res.pre.pre_slope, res.pre.pre_intercept
        ),
        format!(
            "  post-edge:  [{:.1}, {:.1}] eV, nnorm {}",
            res.pre.norm1, res.pre.norm2, res.pre.nnorm
        ),
        format!(
            "  autobk:     rbkg {:.2} Å, {} knots, k {:.2}–{:.2} Å⁻¹",
            res.bkg.rbkg, res.bkg.nknots, res.bkg.kmin, res.bkg.kmax
        ),
        format!(
            "  xftf:       k {:.2}–{:.2} Å⁻¹, dk {}, {:?}, kweight {}",
            ft.kmin, ft.kmax, ft.dk, ft.window, ft.kweight
        ),
        format!("  |χ(R)| max: {:.3} Å", peak_r(&res.chir)),
    ];
    emit(&lines.join("\n"))
}

/// R of the largest |χ(R)| above 1 Å (below that is background).
fn peak_r(r: &xas::ChiR) -> f64 {
    r.r_ang
        .iter()
        .zip(&r.chir_mag)
        .filter(|(r, _)| **r > 1.0)
        .fold(
            (0.0, f64::NEG_INFINITY),
            |a, (&r, &m)| if m > a.1 { (r, m) } else { a },
        )
        .0
}

fn read_xrd(path: &Path) -> Result<carto::io::xrd::XrdPattern> {
    let p = carto::io::xrd::read_pattern(path).map_err(anyhow::Error::msg)?;
    if p.npts() < 10 {
        bail!("{}: only {} points", path.display(), p.npts());
    }
    Ok(p)
}

fn wavelength_of(p: &carto::io::xrd::XrdPattern, given: Option<&str>) -> Result<Option<f64>> {
    match given {
        Some(w) => Ok(Some(
            carto::xrd::parse_wavelength(w).map_err(anyhow::Error::msg)?,
        )),
        None => Ok(p.wavelength_ang),
    }
}

fn xrd_peaks_cmd(a: &XrdPeaksArgs) -> Result<()> {
    use carto::xrd::peaks;
    let p = read_xrd(&a.pattern)?;
    let wl = wavelength_of(&p, a.wavelength.as_deref())?;
    let (x, y) = (&p.two_theta_deg, &p.intensity);
    if !(a.bkg_window > 0.0 && a.fit_window > 0.0 && a.min_snr > 0.0) {
        bail!("--bkg-window, --fit-window and --min-snr must be > 0");
    }
    let (bkg, found) = peaks::search(x, y, a.background, a.bkg_window, a.min_snr);
    let sigma = p
        .sigma
        .clone()
        .unwrap_or_else(|| y.iter().map(|v| v.abs().max(1.0).sqrt()).collect());
    let fits: Vec<Value> = found
        .iter()
        .map(
            |pk| match peaks::fit_peak(x, y, Some(&sigma), pk.two_theta, a.fit_window) {
                Ok(f) => {
                    let d = wl.map(|l| carto::io::xrd::d_from_two_theta(f.center, l));
                    json!({"two_theta": f.center, "two_theta_err": f.center_err, "fwhm": f.fwhm,
                       "fwhm_err": f.fwhm_err, "eta": f.eta, "eta_err": f.eta_err, "area": f.area,
                       "area_err": f.area_err, "height": pk.height, "d": d,
                       "chi2_reduced": f.chi2_reduced})
                }
                Err(e) => json!({"two_theta": pk.two_theta, "height": pk.height, "error": e}),
            },
        )
        .collect();
    if a.json {
        return emit(&serde_json::to_string(&json!({
            "file": a.pattern.display().to_string(), "format": p.source_format,
            "wavelength_ang": wl, "two_theta": x, "intensity": y, "background": bkg,
            "peaks": fits,
        }))?);
    }
    let mut out = format!(
        "{}  ({}, {} points, λ = {})\n{:>10} {:>9} {:>8} {:>6} {:>11} {:>9}\n",
        a.pattern.display(),
        p.source_format,
        p.npts(),
        wl.map_or("unknown".to_string(), |l| format!("{l:.5} Å")),
        "2θ (°)",
        "± (°)",
        "FWHM",
        "eta",
        "area",
        "d (Å)"
    );
    for f in &fits {
        let g = |k: &str| f[k].as_f64().unwrap_or(f64::NAN);
        out.push_str(&format!(
            "{:10.4} {:9.5} {:8.4} {:6.2} {:11.1} {:9.5}\n",
            g("two_theta"),
            g("two_theta_err"),
            g("fwhm"),
            g("eta"),
            g("area"),
            g("d")
        ));
    }
    emit(&out)
}

fn xrd_identify_cmd(a: &XrdIdentifyArgs) -> Result<()> {
    use carto::xrd::identify;
    let p = read_xrd(&a.pattern)?;
    let wl = wavelength_of(&p, a.wavelength.as_deref())?.ok_or_else(|| {
        anyhow::anyhow!(
            "{}: the file gives no wavelength: pass --wavelength",
            a.pattern.display()
        )
    })?;
    if !(a.max_scale >= 0.0 && a.max_scale <= 0.2) {
        bail!("--max-scale = {} must be in [0, 0.2]", a.max_scale);
    }
    let t = std::time::Instant::now();
    let (cands, errors) = identify::load_candidates(&a.candidates).map_err(anyhow::Error::msg)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = std::time::Instant::now();
    let prep = identify::prepare(&p.two_theta_deg, &p.intensity, wl)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.pattern.display()))?;
    let ranked = identify::rank(&prep, &cands, a.max_scale);
    let rank_ms = t.elapsed().as_secs_f64() * 1e3;
    let top: Vec<&identify::RankedCandidate> = ranked.iter().take(a.top.max(1)).collect();
    if a.json {
        return emit(&serde_json::to_string(&json!({
            "file": a.pattern.display().to_string(), "wavelength_ang": wl,
            "fwhm_deg": prep.fwhm_deg, "measured_peaks": prep.peaks.len(),
            "candidates": cands.len(), "unreadable": errors, "load_ms": load_ms,
            "rank_ms": rank_ms, "ranking": top,
        }))?);
    }
    let mut out = format!(
        "{}: λ = {wl:.5} Å, peak FWHM {:.3}°, {} peaks; {} candidates ({} unreadable) ranked in {rank_ms:.0} ms\n{:>4} {:>6} {:>7} {:>8}  {}\n",
        a.pattern.display(),
        prep.fwhm_deg,
        prep.peaks.len(),
        cands.len(),
        errors.len(),
        "rank",
        "score",
        "scale",
        "matched",
        "candidate (formula)"
    );
    for (i, c) in top.iter().enumerate() {
        out.push_str(&format!(
            "{:4} {:6.3} {:7.4} {:>4}/{:<3}  {} ({})\n",
            i + 1,
            c.score,
            c.scale,
            c.matched_peaks,
            c.measured_peaks,
            c.id,
            c.formula
        ));
    }
    emit(&out)
}

fn xrd_quantify_cmd(a: &XrdQuantArgs) -> Result<()> {
    use carto::xrd::quantify;
    let p = read_xrd(&a.pattern)?;
    let refs = quantify::load_library(&a.library).map_err(anyhow::Error::msg)?;
    let standard = match &a.std {
        None => None,
        Some(s) => {
            let (id, w) = s.split_once('=').ok_or_else(|| {
                anyhow::anyhow!("--std '{s}' must look like ID=WT%, e.g. CORUNDUM=20")
            })?;
            let w: f64 = w
                .trim()
                .trim_end_matches('%')
                .parse()
                .map_err(|_| anyhow::anyhow!("--std '{s}': '{w}' is not a weight %"))?;
            if !(w > 0.0 && w < 100.0) {
                bail!("--std '{s}': the weight % must be in (0, 100)");
            }
            let i = refs
                .iter()
                .position(|r| r.id.eq_ignore_ascii_case(id.trim()))
                .ok_or_else(|| {
                    anyhow::anyhow!("--std: no phase '{id}' in {}", a.library.display())
                })?;
            Some((i, w))
        }
    };
    for (name, v, hi) in [
        ("--shift", a.shift, 1.0),
        ("--align", a.align, 2.0),
        ("--min-weight", a.min_weight, 50.0),
    ] {
        if !(v >= 0.0 && v <= hi) {
            bail!("{name} = {v} must be in [0, {hi}]");
        }
    }
    let r = quantify::quantify(
        &p.two_theta_deg,
        &p.intensity,
        &refs,
        &quantify::QuantOptions {
            max_shift_deg: a.shift,
            standard,
            align_deg: if standard.is_some() { a.align } else { 0.0 },
            min_weight_percent: a.min_weight,
        },
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", a.pattern.display()))?;
    if a.json {
        return emit(&serde_json::to_string(&json!({
            "file": a.pattern.display().to_string(), "library": a.library.display().to_string(),
            "phases": r.phases, "total_weight_percent": r.total_weight_percent(),
            "rwp_percent": r.rwp_percent, "sample_shift_deg": r.sample_shift_deg,
            "two_theta": r.two_theta, "measured": r.measured, "fitted": r.fitted,
        }))?);
    }
    let mut out = format!(
        "{}: {} library phases, Rwp {:.2} %, sample shift {:+.3}°\n{:>12}  {:>8}  {}\n",
        a.pattern.display(),
        refs.len(),
        r.rwp_percent,
        r.sample_shift_deg,
        "weight %",
        "shift",
        "phase"
    );
    let mut ph: Vec<&quantify::QuantPhase> = r.phases.iter().collect();
    ph.sort_by(|x, y| y.weight_percent.total_cmp(&x.weight_percent));
    for q in ph {
        out.push_str(&format!(
            "{:12.2}  {:+8.3}  {} ({})\n",
            q.weight_percent, q.shift_deg, q.id, q.name
        ));
    }
    let total = r.total_weight_percent();
    out.push_str(&format!("{total:12.2}            total\n"));
    if standard.is_some() {
        out.push_str(&format!(
            "{:12.2}            not accounted for (amorphous or missing phases; < 0: over-estimate)\n",
            100.0 - total
        ));
    }
    emit(&out)
}

fn xrd_simulate_cmd(a: &XrdSimArgs) -> Result<()> {
    use carto::xrd::{self, DebyeWaller};
    let wavelength_ang = xrd::parse_wavelength(&a.wavelength).map_err(anyhow::Error::msg)?;
    let dw = match (a.no_dw, a.b_iso) {
        (true, _) => DebyeWaller::Off,
        (false, Some(b)) if b.is_finite() && (0.0..=50.0).contains(&b) => DebyeWaller::Uniform(b),
        (false, Some(b)) => bail!("--b-iso = {b} Å² must be in [0, 50]"),
        (false, None) => DebyeWaller::FromCif,
    };
    let (lo, hi) = (a.two_theta[0], a.two_theta[1]);
    let s = carto::structure::read_cif(&a.cif)
        .map_err(anyhow::Error::msg)?
        .remove(0);
    let opts = xrd::XrdOptions {
        wavelength_ang,
        two_theta_min_deg: lo,
        two_theta_max_deg: hi,
        debye_waller: dw,
    };
    let peaks =
        xrd::simulate(&s, &opts).map_err(|e| anyhow::anyhow!("{}: {e}", a.cif.display()))?;
    let profile = if a.profile {
        let mut p = xrd::ProfileParams {
            eta: a.eta,
            step_deg: a.step,
            ..Default::default()
        };
        if let Some(c) = &a.caglioti {
            (p.u, p.v, p.w) = (c[0], c[1], c[2]);
        }
        let doublet = if a.no_doublet {
            None
        } else {
            xrd::k_alpha_doublet(&a.wavelength)
        };
        let (x, y) = xrd::broaden(&peaks, lo, hi, &p, doublet).map_err(anyhow::Error::msg)?;
        Some(
            json!({"two_theta": x, "intensity": y, "u": p.u, "v": p.v, "w": p.w,
                    "eta": p.eta, "kalpha_doublet": doublet.map(|d| [d.0, d.1, d.2])}),
        )
    } else {
        None
    };
    let dw_text = match dw {
        DebyeWaller::Off => "off".to_string(),
        DebyeWaller::FromCif => "from CIF B/U".to_string(),
        DebyeWaller::Uniform(b) => format!("B = {b} Å²"),
    };
    if a.json {
        let mut doc = json!({
            "file": a.cif.display().to_string(),
            "formula": carto::structure::reduced_formula(&s),
            "wavelength": a.wavelength,
            "wavelength_ang": wavelength_ang,
            "two_theta_range": [lo, hi],
            "debye_waller": dw_text,
            "peaks": peaks,
        });
        if let Some(p) = profile {
            doc["profile"] = p;
        }
        return emit(&serde_json::to_string(&doc)?);
    }
    let mut out = format!(
        "{}  {}  λ = {wavelength_ang} Å  2θ {lo}–{hi}°  Debye–Waller {dw_text}\n{:>10} {:>9} {:>9}  hkl (multiplicity)\n",
        a.cif.display(),
        carto::structure::reduced_formula(&s),
        "2θ (°)",
        "d (Å)",
        "I"
    );
    for p in &peaks {
        let fam: Vec<String> = p
            .hkls
            .iter()
            .zip(&p.multiplicity)
            .map(|(h, m)| {
                let idx: Vec<String> = h.iter().map(|x| x.to_string()).collect();
                format!("({}) ×{m}", idx.join(" "))
            })
            .collect();
        out.push_str(&format!(
            "{:10.4} {:9.5} {:9.3}  {}\n",
            p.two_theta,
            p.d,
            p.intensity,
            fam.join(", ")
        ));
    }
    emit(&out)
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
        return print_json(
            &json!({"runs": repeat, "median_ms": median, "min_ms": times[0],
                                  "max_ms": times[times.len() - 1], "build": profile}),
        );
    }
    emit(&format!(
        "carto bench startup ({profile} build): process start to first painted frame of the demo session, {repeat} runs: median {median:.0} ms (min {:.0}, max {:.0})",
        times[0],
        times[times.len() - 1]
    ))
}

fn structure_cmd(a: &StructureArgs) -> Result<()> {
    use carto::structure as st;
    if !(a.rmax.is_finite() && a.rmax > 0.0 && a.rmax <= 20.0) {
        bail!("--rmax = {} Å must be in (0, 20]", a.rmax);
    }
    if !(a.symprec.is_finite() && a.symprec > 0.0 && a.symprec < 1.0) {
        bail!("--symprec = {} Å must be in (0, 1)", a.symprec);
    }
    let all = st::read_cif(&a.cif).map_err(anyhow::Error::msg)?;
    let s = match &a.block {
        Some(name) => all
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                anyhow::anyhow!(
                    "{}: no data block '{name}' with atoms (blocks: {})",
                    a.cif.display(),
                    names.join(", ")
                )
            })?,
        None => &all[0],
    };
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
    let sg = st::spacegroup(s, a.symprec);
    let comp: serde_json::Map<String, Value> = st::composition(s)
        .into_iter()
        .map(|(e, n)| (e.to_string(), json!(n)))
        .collect();
    let shells: Vec<Value> = centers
        .iter()
        .map(|&i| {
            let site = &s.sites[i];
            let sh: Vec<Value> = st::shells(s, i, a.rmax)
                .iter()
                .map(|x| json!({"r": x.r, "n": x.n, "element": x.element}))
                .collect();
            json!({"site": site.label, "index": i, "element": site.main_species().element, "shells": sh})
        })
        .collect();
    let l = s.lattice;
    let doc = json!({
        "file": a.cif.display().to_string(),
        "block": s.name,
        "formula": st::reduced_formula(s),
        "composition": comp,
        "spacegroup_number": sg.as_ref().ok().map(|g| g.number),
        "spacegroup_symbol": sg.as_ref().ok().map(|g| g.symbol.clone()),
        "spacegroup_in_file": s.spacegroup_in_file,
        "spacegroup_error": sg.as_ref().err(),
        "lattice": {"a": l.a, "b": l.b, "c": l.c, "alpha": l.alpha, "beta": l.beta,
                    "gamma": l.gamma, "volume": l.volume_ang3()},
        "nsites": s.sites.len(),
        "sites": s.sites,
        "shells": shells,
        "warnings": s.warnings,
    });
    if a.json {
        return emit(&serde_json::to_string_pretty(&doc)?);
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
        l.a,
        l.b,
        l.c,
        l.alpha,
        l.beta,
        l.gamma,
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
            out.push_str(&format!("  {:8.4} Å  {:3} × {}\n", x.r, x.n, x.element));
        }
    }
    for w in &s.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    emit(&out)
}

fn fit_cmd(a: &FitArgs) -> Result<()> {
    use carto::exafs::feffit::{Feffit, PATH_PARS, report};
    if !(a.min_correl.is_finite() && (0.0..1.0).contains(&a.min_correl)) {
        bail!("--min-correl = {} must be in [0, 1)", a.min_correl);
    }
    let model = carto::exafs::model::load_model(&a.model).map_err(anyhow::Error::msg)?;
    let fit = Feffit::new(model).map_err(|e| anyhow::anyhow!("{}: {e}", a.model.display()))?;
    let res = fit
        .fit(None)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.model.display()))?;
    let text = report(&res, a.min_correl);
    if let Some(path) = &a.report {
        std::fs::write(path, &text)
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    if !a.json {
        return emit(&text);
    }
    let params: serde_json::Map<String, Value> = res
        .params
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                json!({"value": p.value, "stderr": p.stderr, "vary": p.vary, "expr": p.expr, "init": p.init}),
            )
        })
        .collect();
    let correlations: serde_json::Map<String, Value> = res
        .correlations
        .iter()
        .map(|(x, y, c)| (format!("{x},{y}"), json!(c)))
        .collect();
    let datasets: Vec<Value> = res
        .datasets
        .iter()
        .map(|d| {
            let paths: Vec<Value> = d
                .paths
                .iter()
                .map(|p| {
                    let mut m = serde_json::Map::new();
                    m.insert("label".into(), json!(p.label));
                    m.insert("file".into(), json!(p.file));
                    m.insert("reff".into(), json!(p.reff));
                    for (j, name) in PATH_PARS.iter().enumerate() {
                        m.insert((*name).into(), json!(p.values[j]));
                        m.insert(format!("{name}_stderr"), json!(p.stderr[j]));
                    }
                    Value::Object(m)
                })
                .collect();
            json!({
                "name": d.name,
                "n_idp": d.n_idp,
                "epsilon_k": d.epsilon_k,
                "epsilon_r": d.epsilon_r,
                "fitspace": d.transform.fitspace,
                "kweight": d.transform.kweight,
                "k": d.k,
                "chi_data": d.chi_data,
                "chi_fit": d.chi_fit,
                "kwin": d.kwin,
                "r": d.r,
                "chir_mag_data": d.chir_mag_data,
                "chir_mag_fit": d.chir_mag_fit,
                "paths": paths,
            })
        })
        .collect();
    let st = &res.stats;
    let mut out = json!({
        "model": a.model.display().to_string(),
        "params": params,
        "stats": {
            "chi_square": st.chi_square,
            "chi2_reduced": st.chi2_reduced,
            "r_factor": st.r_factor,
            "n_idp": st.n_idp,
            "n_varys": st.n_varys,
            "nfree": st.nfree,
            "ndata": st.ndata,
            "nfev": st.nfev,
            "aic": st.aic,
            "bic": st.bic,
            "success": st.success,
            "message": st.message,
        },
        "correlations": correlations,
        "datasets": datasets,
    });
    // The first dataset's best fit also at the top level (single-dataset models).
    if let Some(d) = res.datasets.first() {
        out["k"] = json!(d.k);
        out["chi_fit"] = json!(d.chi_fit);
        out["r"] = json!(d.r);
        out["chir_mag_fit"] = json!(d.chir_mag_fit);
    }
    print_json(&out)
}

fn bench(a: &BenchArgs) -> Result<()> {
    match a.what {
        BenchWhat::Fit => {
            let report = carto::bench::bench_fit(&carto::bench::BenchOptions {
                data: a.data.clone(),
                repeat: a.repeat.max(1),
                python: a.python.clone(),
                rexafs: false,
            })
            .map_err(anyhow::Error::msg)?;
            if a.json {
                print_json(&serde_json::to_value(&report)?)
            } else {
                emit(&report.text())
            }
        }
        BenchWhat::Startup => bench_startup(a.repeat.clamp(1, 100), a.json),
        BenchWhat::Xrd => {
            let report = carto::bench::bench_xrd(
                &carto::bench::BenchOptions {
                    data: a.data.clone(),
                    repeat: a.repeat.clamp(1, 1000),
                    python: a.python.clone(),
                    rexafs: false,
                },
                a.cifs.clamp(1, 600),
            )
            .map_err(anyhow::Error::msg)?;
            if a.json {
                print_json(&serde_json::to_value(&report)?)
            } else {
                emit(&report.text())
            }
        }
        BenchWhat::Xas => {
            let report = carto::bench::bench_xas(&carto::bench::BenchOptions {
                data: a.data.clone(),
                repeat: a.repeat.max(1),
                python: a.python.clone(),
                rexafs: a.rexafs,
            })
            .map_err(anyhow::Error::msg)?;
            if a.json {
                print_json(&serde_json::to_value(&report)?)
            } else {
                emit(&report.text())
            }
        }
    }
}

/// Deglitch → energy shift / alignment → rebin, each only when asked for
/// (deglitch and shift as steps of the edit journal); returns the edited
/// spectrum and what was done, for the JSON output.
fn apply_corrections(
    a: &XasArgs,
    s: io::XasSpectrum,
    p: &ChainParams,
    file: &str,
) -> Result<(io::XasSpectrum, Value)> {
    use xas::edit::Edit;
    let mut done = serde_json::Map::new();
    let mut s = XasInput::Mu(s);
    // One journal step at a time: alignment and rebinning read the
    // spectrum as the steps before them left it.
    let edit = |s: XasInput, step: Edit, flag: &str| -> Result<XasInput> {
        match xas::process::edit(&s, std::slice::from_ref(&step)) {
            Ok(edited) => Ok(edited.into_owned()),
            Err(xas::process::ProcessError::Edit(xas::XasError::BadParam { reason, .. })) => {
                bail!("{file}: {flag}: {reason}")
            }
            Err(e) => bail!("{file}: {flag}: {e}"),
        }
    };
    if !a.deglitch.is_empty() {
        let params = xas::deglitch::DeglitchParams {
            remove: a
                .deglitch
                .iter()
                .map(|&e| xas::deglitch::PointSelection::Energy { energy_ev: e })
                .collect(),
            replace: false,
        };
        let before = energies(&s).to_vec();
        s = edit(s, Edit::Deglitch(params), "--deglitch")?;
        done.insert(
            "deglitched_energies".into(),
            json!(removed_points(&before, energies(&s))),
        );
    }
    let mut shift = 0.0;
    if let Some(e) = a.eshift {
        if !e.is_finite() || e.abs() > 1000.0 {
            bail!("{file}: --eshift {e}: must be a finite shift below 1000 eV");
        }
        shift += e;
    }
    let mut reference = None;
    if let Some(ref_path) = &a.align_to {
        let ref_file = ref_path.display().to_string();
        let ref_input = InputArgs {
            file: ref_path.clone(),
            group: a.align_group.clone(),
            mu: None,
            columns: None,
        };
        let ds = io::load(ref_path, &LoadOptions::default())?;
        let (XasInput::Mu(r), _) = spectrum_of(ds, &ref_input, &ref_file)? else {
            bail!("{ref_file}: --align-to needs a μ(E) spectrum");
        };
        let rpre = xas::pre_edge(&r.energy_ev, &r.mu, &PreEdgeParams::default())
            .map_err(|e| anyhow::anyhow!("{ref_file}: reference pre_edge: {e}"))?;
        let XasInput::Mu(cur) = &s else {
            bail!("{file}: --align-to needs a μ(E) spectrum");
        };
        let shifted: Vec<f64> = cur.energy_ev.iter().map(|e| e + shift).collect();
        let spre = xas::pre_edge(&shifted, &cur.mu, &p.pre_edge)
            .map_err(|e| step_error(file, xas::process::ProcessError::PreEdge(e)))?;
        let al = xas::align::energy_align(
            &spre.energy_ev,
            &spre.norm,
            &rpre.energy_ev,
            &rpre.norm,
            rpre.e0,
            &Default::default(),
        )
        .map_err(|e| anyhow::anyhow!("{file}: --align-to {ref_file}: {e}"))?;
        shift += al.eshift_ev;
        done.insert("aligned_to".into(), json!(ref_file));
        done.insert("align_shift".into(), json!(al.eshift_ev));
        reference = Some(ref_file);
    }
    if shift != 0.0 {
        let step = Edit::Shift {
            eshift_ev: shift,
            reference,
        };
        s = edit(s, step, "--eshift")?;
        done.insert("eshift".into(), json!(shift));
    }
    let XasInput::Mu(mut s) = s else {
        bail!("{file}: corrections need a μ(E) spectrum");
    };
    if a.rebin {
        // Not the journal's Rebin: the CLI rebins the sorted spectrum
        // pre_edge saw and drops empty bins.
        let pre = xas::pre_edge(&s.energy_ev, &s.mu, &p.pre_edge)
            .map_err(|e| step_error(file, xas::process::ProcessError::PreEdge(e)))?;
        let params = xas::rebin::RebinParams {
            e0: Some(pre.e0),
            ..Default::default()
        };
        let r = xas::rebin::rebin_xafs(&pre.energy_ev, &pre.mu, &params)
            .map_err(|e| anyhow::anyhow!("{file}: --rebin: {e}"))?;
        // Bins holding no input point are NaN in Larch too: drop them.
        let keep: Vec<usize> = (0..r.mu.len()).filter(|&i| r.mu[i].is_finite()).collect();
        s.energy_ev = keep.iter().map(|&i| r.energy_ev[i]).collect();
        s.mu = keep.iter().map(|&i| r.mu[i]).collect();
        done.insert("rebinned_npts".into(), json!(s.energy_ev.len()));
    }
    Ok((s, Value::Object(done)))
}

fn energies(s: &XasInput) -> &[f64] {
    match s {
        XasInput::Mu(x) => &x.energy_ev,
        XasInput::Chi(_) => &[],
    }
}

/// The points of `before` missing from `after` (`after` keeps the rest in
/// order, as deglitching does).
fn removed_points(before: &[f64], after: &[f64]) -> Vec<f64> {
    let mut rest = after.iter().peekable();
    before
        .iter()
        .filter(|&&e| {
            if rest.peek() == Some(&&e) {
                rest.next();
                false
            } else {
                true
            }
        })
        .copied()
        .collect()
}

fn merge_cmd(a: &MergeArgs) -> Result<()> {
    let mut spectra = Vec::new();
    let mut names = Vec::new();
    for path in &a.files {
        let file = path.display().to_string();
        let input = InputArgs {
            file: path.clone(),
            group: a.group.clone(),
            mu: a.mu,
            columns: None,
        };
        let ds = io::load(path, &input.load_options())?;
        let input = InputArgs {
            group: if matches!(ds, Dataset::Athena(_)) {
                a.group.clone()
            } else {
                None
            },
            ..input
        };
        let (XasInput::Mu(s), _) = spectrum_of(ds, &input, &file)? else {
            bail!("{file}: merge needs μ(E) spectra, not χ(k)");
        };
        spectra.push((s.energy_ev, s.mu));
        names.push(file);
    }
    let refs: Vec<(&[f64], &[f64])> = spectra
        .iter()
        .map(|(e, m)| (e.as_slice(), m.as_slice()))
        .collect();
    let m = xas::merge::merge(&refs, 0, &Default::default())
        .map_err(|e| anyhow::anyhow!("merge: {e}"))?;
    if let Some(out) = &a.out {
        let mut text = format!("# merged by carto from {} scans\n", names.len());
        for n in &names {
            text += &format!("#   {n}\n");
        }
        text += "# energy mu mu_std\n";
        for i in 0..m.energy_ev.len() {
            text += &format!(
                "{:.6} {:.10e} {:.6e}\n",
                m.energy_ev[i], m.mu[i], m.mu_std[i]
            );
        }
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    if a.json {
        return print_json(&json!({
            "files": names, "n_spectra": m.n_spectra, "energy": m.energy_ev, "mu": m.mu,
            "mu_std": m.mu_std, "mu_stderr": m.mu_stderr,
        }));
    }
    emit(&format!(
        "merged {} scans onto {} points ({:.2} – {:.2} eV){}",
        m.n_spectra,
        m.energy_ev.len(),
        m.energy_ev.first().copied().unwrap_or(0.0),
        m.energy_ev.last().copied().unwrap_or(0.0),
        a.out
            .as_ref()
            .map(|o| format!(", written to {}", o.display()))
            .unwrap_or_default()
    ))
}

/// `carto xas --xanes`: the pre_edge results only (empty χ arrays).
fn xanes_output(
    a: &XasArgs,
    s: &io::XasSpectrum,
    pre: &xas::PreEdge,
    file: &str,
    group: Option<&str>,
    corrections: Value,
) -> Result<()> {
    let params = json!({
        "e0": pre.e0, "step": pre.edge_step, "pre1": pre.pre1, "pre2": pre.pre2,
        "norm1": pre.norm1, "norm2": pre.norm2, "nnorm": pre.nnorm, "nvict": pre.nvict,
    });
    if a.json {
        return print_json(&json!({
            "file": file, "group": group, "mu_recipe": recipe_json(&s.recipe, &s.table.labels),
            "e0": pre.e0, "edge_step": pre.edge_step, "pre_slope": pre.pre_slope, "pre_intercept": pre.pre_intercept,
            "norm_coefs": pre.norm_coefs, "energy": pre.energy_ev, "mu": pre.mu, "norm": pre.norm, "flat": pre.flat,
            "pre_edge": pre.pre_edge, "post_edge": pre.post_edge,
            "k": [], "chi": [], "r": [], "chir_mag": [], "params": params, "corrections": corrections,
        }));
    }
    emit(&format!(
        "{file}{}\n  μ(E):       {} ({} points)\n  e0:         {:.3} eV\n  edge step:  {:.6}\n  pre-edge:   [{:.1}, {:.1}] eV\n  post-edge:  [{:.1}, {:.1}] eV, nnorm {}",
        group.map(|g| format!(" [{g}]")).unwrap_or_default(),
        recipe_text(&s.recipe, &s.table.labels),
        s.energy_ev.len(),
        pre.e0,
        pre.edge_step,
        pre.pre1,
        pre.pre2,
        pre.norm1,
        pre.norm2,
        pre.nnorm
    ))
}
