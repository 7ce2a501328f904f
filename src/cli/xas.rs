//! `carto xas FILE`: corrections, then the XAS pipeline
//! ([`carto::xas::process`]) and its results.

use std::path::PathBuf;

use anyhow::{Result, bail};
use carto::io::{self, LoadOptions};
use carto::xas::correct::{Corrected, CorrectionError, Corrections};
use carto::xas::process::{ProcessError, Step, XasInput};
use carto::xas::{self, ChainOptions, ChainParams, FtParams, Window};
use clap::Args;
use serde::Serialize;

use super::args::{InputArgs, check_group_option, spectrum_of};
use super::info::RecipeOut;
use super::{emit, print_json};

/// The pre_edge parameters as used (`params` of `carto xas --json`).
#[derive(Serialize)]
pub struct PreEdgeOut {
    pub e0: f64,
    pub step: f64,
    pub pre1: f64,
    pub pre2: f64,
    pub norm1: f64,
    pub norm2: f64,
    pub nnorm: usize,
    pub nvict: i32,
}

impl PreEdgeOut {
    fn new(pre: &xas::PreEdge) -> Self {
        PreEdgeOut {
            e0: pre.e0,
            step: pre.edge_step,
            pre1: pre.pre1,
            pre2: pre.pre2,
            norm1: pre.norm1,
            norm2: pre.norm2,
            nnorm: pre.nnorm,
            nvict: pre.nvict,
        }
    }
}

/// The AUTOBK parameters as used.
#[derive(Serialize)]
pub struct AutobkOut {
    pub rbkg: f64,
    pub bkg_kweight: f64,
    pub bkg_kmin: f64,
    pub bkg_kmax: f64,
    pub bkg_dk: f64,
    pub nknots: usize,
    pub clamp_lo: f64,
    pub clamp_hi: f64,
}

/// The forward (xftf) and back (xftr) transform parameters as used.
#[derive(Serialize)]
pub struct FtOut {
    pub kmin: f64,
    pub kmax: f64,
    pub dk: f64,
    pub window: Window,
    pub kweight: f64,
    pub nfft: usize,
    pub kstep: f64,
    pub rmax_out: f64,
    pub rmin: f64,
    pub rmax: f64,
    pub dr: f64,
    pub rwindow: Window,
}

impl FtOut {
    fn new(ft: &FtParams, rp: &xas::fourier::RParams) -> Self {
        FtOut {
            kmin: ft.kmin,
            kmax: ft.kmax,
            dk: ft.dk,
            window: ft.window,
            kweight: ft.kweight,
            nfft: ft.nfft,
            kstep: ft.kstep,
            rmax_out: ft.rmax_out,
            rmin: rp.rmin,
            rmax: rp.rmax,
            dr: rp.dr,
            rwindow: rp.window,
        }
    }
}

/// Every parameter of the chain as used.
#[derive(Serialize)]
pub struct ChainOut {
    #[serde(flatten)]
    pub pre_edge: PreEdgeOut,
    #[serde(flatten)]
    pub autobk: AutobkOut,
    #[serde(flatten)]
    pub ft: FtOut,
}

/// The normalization results of μ(E).
#[derive(Serialize)]
pub struct NormOut<'a> {
    pub mu_recipe: RecipeOut<'a>,
    pub e0: f64,
    pub edge_step: f64,
    pub pre_slope: f64,
    pub pre_intercept: f64,
    pub norm_coefs: &'a [f64],
    pub energy: &'a [f64],
    pub mu: &'a [f64],
    pub norm: &'a [f64],
    pub flat: &'a [f64],
    pub pre_edge: &'a [f64],
    pub post_edge: &'a [f64],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub warnings: &'a [String],
}

impl<'a> NormOut<'a> {
    fn new(s: &'a io::XasSpectrum, pre: &'a xas::PreEdge) -> Self {
        NormOut {
            mu_recipe: RecipeOut::new(s),
            e0: pre.e0,
            edge_step: pre.edge_step,
            pre_slope: pre.pre_slope,
            pre_intercept: pre.pre_intercept,
            norm_coefs: &pre.norm_coefs,
            energy: &pre.energy_ev,
            mu: &pre.mu,
            norm: &pre.norm,
            flat: &pre.flat,
            pre_edge: &pre.pre_edge,
            post_edge: &pre.post_edge,
            warnings: &pre.warnings,
        }
    }
}

/// χ(k), χ(R) and χ(q).
#[derive(Serialize)]
pub struct TransformsOut<'a> {
    pub k: &'a [f64],
    pub chi: &'a [f64],
    pub r: &'a [f64],
    pub chir_mag: &'a [f64],
    pub chir_re: &'a [f64],
    pub chir_im: &'a [f64],
    pub q: &'a [f64],
    pub chiq_re: &'a [f64],
    pub chiq_im: &'a [f64],
    pub chiq_mag: &'a [f64],
}

impl<'a> TransformsOut<'a> {
    fn new(k: &'a [f64], chi: &'a [f64], r: &'a xas::ChiR, q: &'a xas::ChiQ) -> Self {
        TransformsOut {
            k,
            chi,
            r: &r.r_ang,
            chir_mag: &r.chir_mag,
            chir_re: &r.chir_re,
            chir_im: &r.chir_im,
            q: &q.q_inv_ang,
            chiq_re: &q.chiq_re,
            chiq_im: &q.chiq_im,
            chiq_mag: &q.chiq_mag,
        }
    }
}

/// `carto xas --json` of μ(E).
#[derive(Serialize)]
pub struct XasOut<'a> {
    pub file: &'a str,
    pub group: Option<&'a str>,
    #[serde(flatten)]
    pub norm: NormOut<'a>,
    pub bkg: &'a [f64],
    #[serde(flatten)]
    pub transforms: TransformsOut<'a>,
    pub params: ChainOut,
    pub corrections: Corrected,
}

/// `carto xas --json` of χ(k): the μ(E) results are empty.
#[derive(Serialize)]
pub struct ChiOut<'a> {
    pub file: &'a str,
    pub group: Option<&'a str>,
    pub e0: Option<f64>,
    pub edge_step: Option<f64>,
    pub pre_slope: Option<f64>,
    pub pre_intercept: Option<f64>,
    pub energy: [f64; 0],
    pub norm: [f64; 0],
    #[serde(flatten)]
    pub transforms: TransformsOut<'a>,
    pub params: FtOut,
}

/// `carto xas --xanes --json`: normalization only, empty χ arrays.
#[derive(Serialize)]
pub struct XanesOut<'a> {
    pub file: &'a str,
    pub group: Option<&'a str>,
    #[serde(flatten)]
    pub norm: NormOut<'a>,
    pub k: [f64; 0],
    pub chi: [f64; 0],
    pub r: [f64; 0],
    pub chir_mag: [f64; 0],
    pub params: PreEdgeOut,
    pub corrections: Corrected,
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
    // pre_edge → autobk → xftf (the same options are `carto batch`'s config keys)
    #[command(flatten)]
    pub chain: ChainOptions,
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
        self.chain.chain_params()
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
        e @ ProcessError::KRangeNotCovered { .. } => anyhow::anyhow!(
            "{file}: {e} (change --kmin/--kmax, or transform the μ(E) it came from)"
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
        if let Err(e) = self.chain.check() {
            bail!("{file}: invalid {} {}: {}", e.flag(), e.value, e.rule);
        }
        if let Some(e0) = self.chain.e0 {
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
        Ok(())
    }
}

pub fn run(a: &XasArgs) -> Result<()> {
    let path = &a.input.file;
    let file = path.display().to_string();
    // The one routing rule: a powder pattern is said to be one, not read
    // as μ(E) (--mu or --columns still force a spectrum).
    if io::route_path(path, &a.input.load_options()) == io::FileKind::Pattern {
        bail!(
            "{file}: a powder pattern (2θ, intensity), not a μ(E) spectrum or χ(k): \
             use carto xrd peaks, or --columns to read its columns as μ(E)"
        );
    }
    // With --group only that group's arrays are kept (same group, same errors).
    let ds = io::load_group(path, &a.input.load_options(), a.input.group.as_deref())?;
    check_group_option(&ds, &a.input, &file)?;
    let (input, group) = spectrum_of(ds, &a.input, &file)?;
    let p = a.chain_params();
    let rp = a.r_params();
    if let XasInput::Chi(c) = &input {
        a.check_options(&[], &file)?;
        // An explicit --kmax past the data is refused (even `--kmax 12`);
        // the default (12 Å⁻¹) is cut to the data's end as documented.
        let kmax_explicit = a.chain.kmax.is_some();
        xas::process::check_chi_covers(&c.k_inv_ang, a.chain.kmin, p.ft.kmax, kmax_explicit)
            .map_err(|e| step_error(&file, e))?;
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
        return if a.json {
            print_json(&ChiOut {
                file: &file,
                group: group.as_deref(),
                e0: None,
                edge_step: None,
                pre_slope: None,
                pre_intercept: None,
                energy: [],
                norm: [],
                transforms: TransformsOut::new(&c.k_inv_ang, &c.chi, r, q),
                params: FtOut::new(ft, &rp),
            })
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
    // The reader's located warnings (a close or forced μ recipe choice…).
    for w in &s.table.warnings {
        eprintln!("warning: {w}");
    }
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
    for w in &pre.warnings {
        eprintln!("warning: {file}: {w}");
    }
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
    if a.json {
        return print_json(&XasOut {
            file: &file,
            group: group.as_deref(),
            norm: NormOut::new(s, &res.pre),
            bkg: &res.bkg.bkg,
            transforms: TransformsOut::new(&res.bkg.k_inv_ang, &res.bkg.chi, &res.chir, &q),
            params: ChainOut {
                pre_edge: PreEdgeOut::new(&res.pre),
                autobk: AutobkOut {
                    rbkg: res.bkg.rbkg,
                    bkg_kweight: p.autobk.kweight,
                    bkg_kmin: res.bkg.kmin,
                    bkg_kmax: res.bkg.kmax,
                    bkg_dk: p.autobk.dk,
                    nknots: res.bkg.nknots,
                    clamp_lo: p.autobk.clamp_lo,
                    clamp_hi: p.autobk.clamp_hi,
                },
                ft: FtOut::new(&ft, &rp),
            },
            corrections,
        });
    }
    let lines = [
        format!(
            "{file}{}",
            group.map(|g| format!(" [{g}]")).unwrap_or_default()
        ),
        format!(
            "  μ(E):       {} ({} points)",
            s.recipe.describe(&s.table.labels),
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

/// Deglitch → energy shift / alignment → rebin, each only when asked for
/// ([`xas::correct`]); errors name the option.
fn apply_corrections(
    a: &XasArgs,
    s: io::XasSpectrum,
    p: &ChainParams,
    file: &str,
) -> Result<(io::XasSpectrum, Corrected)> {
    let reference = match &a.align_to {
        Some(ref_path) => {
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
            Some((ref_file, r))
        }
        None => None,
    };
    let c = Corrections {
        deglitch_ev: &a.deglitch,
        eshift_ev: a.eshift,
        align_to: reference.as_ref().map(|(name, r)| (name.as_str(), r)),
        rebin: a.rebin,
    };
    let ref_file = reference.as_ref().map_or("", |(name, _)| name.as_str());
    xas::correct::correct(s, &c, &p.pre_edge).map_err(|e| match e {
        CorrectionError::Deglitch(r) => anyhow::anyhow!("{file}: --deglitch: {r}"),
        CorrectionError::Eshift(e) => {
            anyhow::anyhow!("{file}: --eshift {e}: must be a finite shift below 1000 eV")
        }
        CorrectionError::Shift(r) => anyhow::anyhow!("{file}: --eshift: {r}"),
        CorrectionError::ReferencePreEdge(e) => {
            anyhow::anyhow!("{ref_file}: reference pre_edge: {e}")
        }
        CorrectionError::PreEdge(e) => step_error(file, ProcessError::PreEdge(e)),
        CorrectionError::Align(e) => anyhow::anyhow!("{file}: --align-to {ref_file}: {e}"),
        CorrectionError::Rebin(e) => anyhow::anyhow!("{file}: --rebin: {e}"),
    })
}

/// `carto xas --xanes`: the pre_edge results only (empty χ arrays).
fn xanes_output(
    a: &XasArgs,
    s: &io::XasSpectrum,
    pre: &xas::PreEdge,
    file: &str,
    group: Option<&str>,
    corrections: Corrected,
) -> Result<()> {
    for w in &pre.warnings {
        eprintln!("warning: {file}: {w}");
    }
    if a.json {
        return print_json(&XanesOut {
            file,
            group,
            norm: NormOut::new(s, pre),
            k: [],
            chi: [],
            r: [],
            chir_mag: [],
            params: PreEdgeOut::new(pre),
            corrections,
        });
    }
    emit(&format!(
        "{file}{}\n  μ(E):       {} ({} points)\n  e0:         {:.3} eV\n  edge step:  {:.6}\n  pre-edge:   [{:.1}, {:.1}] eV\n  post-edge:  [{:.1}, {:.1}] eV, nnorm {}",
        group.map(|g| format!(" [{g}]")).unwrap_or_default(),
        s.recipe.describe(&s.table.labels),
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
