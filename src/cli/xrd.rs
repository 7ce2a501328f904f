//! `carto xrd simulate|peaks|identify|quantify`: powder diffraction.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use carto::xrd::Peak;
use carto::xrd::identify::RankedCandidate;
use carto::xrd::quantify::QuantPhase;

use super::{emit, print_json};

/// One peak of `carto xrd peaks --json`: its pseudo-Voigt fit, or why the
/// fit failed.
#[derive(Serialize)]
#[serde(untagged)]
pub enum PeakOut {
    Fitted {
        #[serde(rename = "two_theta")]
        two_theta_deg: f64,
        #[serde(rename = "two_theta_err")]
        two_theta_err_deg: f64,
        #[serde(rename = "fwhm")]
        fwhm_deg: f64,
        #[serde(rename = "fwhm_err")]
        fwhm_err_deg: f64,
        eta: f64,
        eta_err: f64,
        area: f64,
        area_err: f64,
        height: f64,
        #[serde(rename = "d")]
        d_ang: Option<f64>,
        chi2_reduced: f64,
    },
    Failed {
        #[serde(rename = "two_theta")]
        two_theta_deg: f64,
        height: f64,
        error: String,
    },
}

impl PeakOut {
    /// 2θ, its error, FWHM, η, area and d for the text table (NaN: none).
    fn row(&self) -> [f64; 6] {
        match self {
            PeakOut::Fitted {
                two_theta_deg,
                two_theta_err_deg,
                fwhm_deg,
                eta,
                area,
                d_ang,
                ..
            } => [
                *two_theta_deg,
                *two_theta_err_deg,
                *fwhm_deg,
                *eta,
                *area,
                d_ang.unwrap_or(f64::NAN),
            ],
            PeakOut::Failed { two_theta_deg, .. } => [
                *two_theta_deg,
                f64::NAN,
                f64::NAN,
                f64::NAN,
                f64::NAN,
                f64::NAN,
            ],
        }
    }
}

/// `carto xrd peaks --json`.
#[derive(Serialize)]
pub struct PeaksOut<'a> {
    pub file: String,
    pub format: &'static str,
    pub wavelength_ang: Option<f64>,
    #[serde(rename = "two_theta")]
    pub two_theta_deg: &'a [f64],
    pub intensity: &'a [f64],
    pub background: &'a [f64],
    pub peaks: &'a [PeakOut],
}

/// `carto xrd identify --json`.
#[derive(Serialize)]
pub struct IdentifyOut<'a> {
    pub file: String,
    pub wavelength_ang: f64,
    pub fwhm_deg: f64,
    pub measured_peaks: usize,
    pub candidates: usize,
    pub unreadable: &'a [String],
    pub load_ms: f64,
    pub rank_ms: f64,
    pub ranking: &'a [&'a RankedCandidate],
}

/// `carto xrd quantify --json`.
#[derive(Serialize)]
pub struct QuantifyOut<'a> {
    pub file: String,
    pub library: String,
    pub phases: &'a [QuantPhase],
    pub total_weight_percent: f64,
    pub rwp_percent: f64,
    pub sample_shift_deg: f64,
    #[serde(rename = "two_theta")]
    pub two_theta_deg: &'a [f64],
    pub measured: &'a [f64],
    pub fitted: &'a [f64],
}

/// The broadened profile of `carto xrd simulate --profile`.
#[derive(Serialize)]
pub struct ProfileOut {
    #[serde(rename = "two_theta")]
    pub two_theta_deg: Vec<f64>,
    pub intensity: Vec<f64>,
    #[serde(rename = "u")]
    pub u_deg2: f64,
    #[serde(rename = "v")]
    pub v_deg2: f64,
    #[serde(rename = "w")]
    pub w_deg2: f64,
    pub eta: f64,
    pub kalpha_doublet: Option<[f64; 3]>,
}

/// `carto xrd simulate --json`.
#[derive(Serialize)]
pub struct SimulateOut<'a> {
    pub file: String,
    pub formula: String,
    pub wavelength: &'a str,
    pub wavelength_ang: f64,
    #[serde(rename = "two_theta_range")]
    pub two_theta_range_deg: [f64; 2],
    pub debye_waller: String,
    pub peaks: &'a [Peak],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileOut>,
}

#[derive(Debug, Args)]
pub struct XrdArgs {
    #[command(subcommand)]
    pub cmd: XrdCmd,
}

#[derive(Debug, Subcommand)]
pub enum XrdCmd {
    /// Stick pattern of a CIF (pymatgen XRDCalculator's model), optionally broadened.
    // Negative numbers (`--two-theta -90 -10`) reach the range check.
    #[command(allow_negative_numbers = true)]
    Simulate(XrdSimArgs),
    /// Background (SNIP), peak search and pseudo-Voigt fits of a measured pattern.
    #[command(allow_negative_numbers = true)]
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

pub fn run(a: XrdArgs) -> Result<()> {
    match a.cmd {
        XrdCmd::Simulate(s) => simulate(&s),
        XrdCmd::Peaks(p) => peaks(&p),
        XrdCmd::Identify(i) => identify(&i),
        XrdCmd::Quantify(q) => quantify(&q),
    }
}

fn read_xrd(path: &Path) -> Result<carto::io::xrd::XrdPattern> {
    let p = carto::io::xrd::read_pattern(path).map_err(anyhow::Error::msg)?;
    p.analysable(&path.display().to_string())
        .map_err(anyhow::Error::msg)?;
    for w in &p.warnings {
        eprintln!("warning: {w}");
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

fn peaks(a: &XrdPeaksArgs) -> Result<()> {
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
    let fitted = peaks::fit_peaks(x, y, Some(&sigma), &found, a.fit_window, || false);
    let fits: Vec<PeakOut> = found
        .iter()
        .zip(fitted)
        .map(|(pk, fit)| match fit {
            Ok(f) => PeakOut::Fitted {
                two_theta_deg: f.center_deg,
                two_theta_err_deg: f.center_err_deg,
                fwhm_deg: f.fwhm_deg,
                fwhm_err_deg: f.fwhm_err_deg,
                eta: f.eta,
                eta_err: f.eta_err,
                area: f.area,
                area_err: f.area_err,
                height: pk.height,
                d_ang: wl.map(|l| carto::io::xrd::d_from_two_theta(f.center_deg, l)),
                chi2_reduced: f.chi2_reduced,
            },
            Err(error) => PeakOut::Failed {
                two_theta_deg: pk.two_theta_deg,
                height: pk.height,
                error,
            },
        })
        .collect();
    if a.json {
        return print_json(&PeaksOut {
            file: a.pattern.display().to_string(),
            format: p.source_format,
            wavelength_ang: wl,
            two_theta_deg: x,
            intensity: y,
            background: &bkg,
            peaks: &fits,
        });
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
        if let PeakOut::Failed { error, .. } = f {
            out.push_str(&format!("{:10.4}  no fit: {error}\n", f.row()[0]));
            continue;
        }
        let [t, t_err, fwhm, eta, area, d] = f.row();
        out.push_str(&format!(
            "{t:10.4} {t_err:9.5} {fwhm:8.4} {eta:6.2} {area:11.1} {d:9.5}\n"
        ));
    }
    emit(&out)
}

fn identify(a: &XrdIdentifyArgs) -> Result<()> {
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
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = std::time::Instant::now();
    let prep = identify::prepare(&p.two_theta_deg, &p.intensity, wl)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.pattern.display()))?;
    let ranked = identify::rank(&prep, &cands, a.max_scale);
    let rank_ms = t.elapsed().as_secs_f64() * 1e3;
    let top: Vec<&identify::RankedCandidate> = ranked.iter().take(a.top.max(1)).collect();
    if a.json {
        return print_json(&IdentifyOut {
            file: a.pattern.display().to_string(),
            wavelength_ang: wl,
            fwhm_deg: prep.fwhm_deg,
            measured_peaks: prep.peaks.len(),
            candidates: cands.len(),
            unreadable: &errors,
            load_ms,
            rank_ms,
            ranking: &top,
        });
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

fn quantify(a: &XrdQuantArgs) -> Result<()> {
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
        return print_json(&QuantifyOut {
            file: a.pattern.display().to_string(),
            library: a.library.display().to_string(),
            phases: &r.phases,
            total_weight_percent: r.total_weight_percent(),
            rwp_percent: r.rwp_percent,
            sample_shift_deg: r.sample_shift_deg,
            two_theta_deg: &r.two_theta_deg,
            measured: &r.measured,
            fitted: &r.fitted,
        });
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

fn simulate(a: &XrdSimArgs) -> Result<()> {
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
            (p.u_deg2, p.v_deg2, p.w_deg2) = (c[0], c[1], c[2]);
        }
        let doublet = if a.no_doublet {
            None
        } else {
            xrd::k_alpha_doublet(&a.wavelength)
        };
        let (x, y) = xrd::broaden(&peaks, lo, hi, &p, doublet).map_err(anyhow::Error::msg)?;
        Some(ProfileOut {
            two_theta_deg: x,
            intensity: y,
            u_deg2: p.u_deg2,
            v_deg2: p.v_deg2,
            w_deg2: p.w_deg2,
            eta: p.eta,
            kalpha_doublet: doublet.map(|d| [d.0, d.1, d.2]),
        })
    } else {
        None
    };
    let dw_text = match dw {
        DebyeWaller::Off => "off".to_string(),
        DebyeWaller::FromCif => "from CIF B/U".to_string(),
        DebyeWaller::Uniform(b) => format!("B = {b} Å²"),
    };
    if a.json {
        return print_json(&SimulateOut {
            file: a.cif.display().to_string(),
            formula: carto::structure::reduced_formula(&s),
            wavelength: &a.wavelength,
            wavelength_ang,
            two_theta_range_deg: [lo, hi],
            debye_waller: dw_text,
            peaks: &peaks,
            profile,
        });
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
            p.two_theta_deg,
            p.d_ang,
            p.intensity,
            fam.join(", ")
        ));
    }
    emit(&out)
}
