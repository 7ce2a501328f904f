//! `carto xanes lcf …`: XANES analysis of one spectrum against standards, as
//! Larch's `lincombo_fit` / `lincombo_fitall` (src/xanes).

use std::path::Path;

use anyhow::{Context, Result, bail};
use carto::io;
use carto::xanes::standards::load_standard;
use carto::xanes::{
    BaselineForm, EdgeDescriptors, LcfFit, LcfParams, ParamValue, PeakShape, PrePeakFit,
    PrePeakRange, TargetTest, XanesArray, XanesGroup, edge_descriptors, fit_prepeaks, lincombo_fit,
    lincombo_fitall, pca_fit, pca_train, pre_edge_baseline,
};
use carto::xas::PreEdgeParams;
use carto::xas::process::XasInput;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::args::{InputArgs, check_group_option, spectrum_of};
use super::{emit, print_json};

#[derive(Debug, Args)]
pub struct XanesArgs {
    #[command(subcommand)]
    pub command: XanesCommand,
}

#[derive(Debug, Subcommand)]
pub enum XanesCommand {
    /// Linear combination fit of normalized μ(E) (or dμ/dE) with standards.
    #[command(allow_negative_numbers = true)]
    Lcf(LcfArgs),
    /// Pre-edge peaks: baseline, centroid, and a fit of 1–4 peaks (Larch's pre-edge peak tool).
    #[command(allow_negative_numbers = true)]
    Peaks(PeaksArgs),
    /// Principal component analysis of a set of spectra, and target transforms (Larch's pca_train/pca_fit).
    #[command(allow_negative_numbers = true)]
    Pca(PcaArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArrayArg {
    Norm,
    Dmude,
}

/// The array analysed and its energy range (LCF and PCA; Athena's −20 … +30 eV).
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Array analysed: normalized μ(E) or its derivative.
    #[arg(long, value_enum, default_value = "norm")]
    pub array: ArrayArg,
    /// Start of the range, eV relative to e0 (absolute with --absolute).
    #[arg(long, default_value_t = -20.0)]
    pub emin: f64,
    /// End of the range, eV relative to e0 (absolute with --absolute).
    #[arg(long, default_value_t = 30.0)]
    pub emax: f64,
    /// --emin/--emax are absolute energies.
    #[arg(long)]
    pub absolute: bool,
}

impl RangeArgs {
    /// The array and the absolute range for a spectrum with this e0.
    fn resolve(&self, e0_ev: f64) -> Result<(XanesArray, f64, f64)> {
        let off = if self.absolute { 0.0 } else { e0_ev };
        let (emin_ev, emax_ev) = (self.emin + off, self.emax + off);
        if emin_ev >= emax_ev {
            bail!("--emin {} must be below --emax {}", self.emin, self.emax);
        }
        let array = match self.array {
            ArrayArg::Norm => XanesArray::Norm,
            ArrayArg::Dmude => XanesArray::Dmude,
        };
        Ok((array, emin_ev, emax_ev))
    }
}

#[derive(Debug, Args)]
pub struct LcfArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// A standard: a file, or FILE:GROUP for a group of an Athena project (repeat).
    #[arg(long = "std", required = true, value_name = "FILE[:GROUP]")]
    pub standards: Vec<String>,
    /// Array and energy range (relative to the data's e0).
    #[command(flatten)]
    pub range: RangeArgs,
    /// Let the weights float freely instead of summing to one.
    #[arg(long)]
    pub no_sum_to_one: bool,
    /// Lower bound of every weight.
    #[arg(long, default_value_t = 0.0)]
    pub weight_min: f64,
    /// Upper bound of every weight (default 1 with sum-to-one, none without).
    #[arg(long)]
    pub weight_max: Option<f64>,
    /// Fit an energy shift of the data.
    #[arg(long)]
    pub vary_e0: bool,
    /// Fit an energy shift of every standard (beyond Larch).
    #[arg(long)]
    pub vary_std_e0: bool,
    /// Fit every combination of 2..=N standards (Larch's lincombo_fitall), ranked by reduced χ².
    #[arg(long, value_name = "N")]
    pub all: Option<usize>,
    /// With --all: number of ranked combinations reported.
    #[arg(long, default_value_t = 16)]
    pub max_output: usize,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// One standard's weight in `carto xanes lcf --json`.
#[derive(Debug, Serialize)]
pub struct WeightOut {
    pub standard: String,
    pub weight: f64,
    pub stderr: Option<f64>,
    /// With --vary-std-e0.
    pub e0_shift_ev: Option<ParamValue>,
}

/// One fit in `carto xanes lcf --json` (arrays left out).
#[derive(Debug, Serialize)]
pub struct LcfFitOut {
    pub weights: Vec<WeightOut>,
    pub total: ParamValue,
    pub e0_shift_ev: ParamValue,
    pub chisqr: f64,
    pub redchi: f64,
    pub rfactor: f64,
    pub npts: usize,
    pub nfev: usize,
}

/// `carto xanes lcf --json`.
#[derive(Debug, Serialize)]
pub struct LcfOut {
    pub file: String,
    pub group: Option<String>,
    pub array: &'static str,
    pub e0_ev: f64,
    pub edge_step: f64,
    pub emin_ev: f64,
    pub emax_ev: f64,
    pub sum_to_one: bool,
    pub standards: Vec<String>,
    /// One fit, or the ranked combinations with --all (best first).
    pub fits: Vec<LcfFitOut>,
}

pub fn run(a: &XanesArgs) -> Result<()> {
    match &a.command {
        XanesCommand::Lcf(l) => lcf(l),
        XanesCommand::Peaks(p) => peaks(p),
        XanesCommand::Pca(p) => pca(p),
    }
}

/// Read one spectrum (file, or group of a project) and normalize it.
fn load_group(input: &InputArgs) -> Result<(XanesGroup, String, Option<String>)> {
    let file = input.file.display().to_string();
    let ds = io::load_group(&input.file, &input.load_options(), input.group.as_deref())?;
    check_group_option(&ds, input, &file)?;
    let (spectrum, group) = spectrum_of(ds, input, &file)?;
    let XasInput::Mu(s) = spectrum else {
        bail!("{file}: XANES analysis needs μ(E), not χ(k)");
    };
    let label = group.clone().unwrap_or_else(|| stem(&input.file));
    let g = XanesGroup::from_mu(label, &s.energy_ev, &s.mu, &PreEdgeParams::default())
        .with_context(|| format!("{file}: cannot normalize"))?;
    Ok((g, file, group))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn lcf(a: &LcfArgs) -> Result<()> {
    let (data, file, group) = load_group(&a.input)?;
    let mut standards = Vec::new();
    for spec in &a.standards {
        standards.push(load_spec(spec, "--std")?);
    }
    if let Some(n) = a.all
        && n < 2
    {
        bail!("--all {n}: combinations need at least 2 standards");
    }
    let (array, emin_ev, emax_ev) = a.range.resolve(data.e0_ev)?;
    let p = LcfParams {
        array,
        xmin_ev: emin_ev,
        xmax_ev: emax_ev,
        sum_to_one: !a.no_sum_to_one,
        vary_e0: a.vary_e0,
        vary_std_e0: a.vary_std_e0,
        weight_min: a.weight_min,
        weight_max: a.weight_max,
        max_ncomps: a.all,
        max_output: a.max_output,
        ..LcfParams::default()
    };
    let refs: Vec<&XanesGroup> = standards.iter().collect();
    let fits = if a.all.is_some() {
        lincombo_fitall(&data, &refs, &p)
    } else {
        lincombo_fit(&data, &refs, None, &p).map(|f| vec![f])
    }
    .with_context(|| format!("{file}: linear combination fit"))?;
    let out = LcfOut {
        file,
        group,
        array: array.name(),
        e0_ev: data.e0_ev,
        edge_step: data.edge_step,
        emin_ev,
        emax_ev,
        sum_to_one: p.sum_to_one,
        standards: standards.iter().map(|s| s.label.clone()).collect(),
        fits: fits.iter().map(fit_out).collect(),
    };
    if a.json {
        return print_json(&out);
    }
    emit(&lcf_text(&out))
}

fn fit_out(f: &LcfFit) -> LcfFitOut {
    LcfFitOut {
        weights: f
            .standards
            .iter()
            .enumerate()
            .map(|(i, s)| WeightOut {
                standard: s.clone(),
                weight: f.weights[i].value,
                stderr: f.weights[i].stderr,
                e0_shift_ev: f.std_e0_shifts_ev.as_ref().map(|v| v[i]),
            })
            .collect(),
        total: f.total,
        e0_shift_ev: f.e0_shift_ev,
        chisqr: f.chisqr,
        redchi: f.redchi,
        rfactor: f.rfactor,
        npts: f.npts(),
        nfev: f.nfev,
    }
}

fn lcf_text(o: &LcfOut) -> String {
    let mut t = format!(
        "{}{}: LCF of {} over {:.2} – {:.2} eV (e0 {:.2} eV), {} standards\n",
        o.file,
        o.group
            .as_deref()
            .map(|g| format!(" [{g}]"))
            .unwrap_or_default(),
        o.array,
        o.emin_ev,
        o.emax_ev,
        o.e0_ev,
        o.standards.len()
    );
    for (rank, f) in o.fits.iter().enumerate() {
        if o.fits.len() > 1 {
            t += &format!("#{}\n", rank + 1);
        }
        for w in &f.weights {
            let se = w.stderr.map(|s| format!(" ± {s:.4}")).unwrap_or_default();
            t += &format!("  {:<32} {:.4}{se}\n", w.standard, w.weight);
        }
        t += &format!(
            "  total {:.4}  e0 shift {:.3} eV  R-factor {:.3e}  reduced chi-square {:.3e}  ({} points)\n",
            f.total.value, f.e0_shift_ev.value, f.rfactor, f.redchi, f.npts
        );
    }
    t.trim_end().to_owned()
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShapeArg {
    Gaussian,
    Lorentzian,
    /// lmfit's Voigt with gamma = sigma.
    Voigt,
}

#[derive(Debug, Args)]
pub struct PeaksArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Start of the baseline fit, eV relative to e0 (absolute with --absolute).
    #[arg(long, default_value_t = -30.0)]
    pub emin: f64,
    /// Start of the peak region left out of the baseline fit.
    #[arg(long, default_value_t = -15.0)]
    pub elo: f64,
    /// End of the peak region left out of the baseline fit.
    #[arg(long, default_value_t = -5.0)]
    pub ehi: f64,
    /// End of the baseline fit.
    #[arg(long, default_value_t = -1.0)]
    pub emax: f64,
    /// --emin/--elo/--ehi/--emax are absolute energies.
    #[arg(long)]
    pub absolute: bool,
    /// Baseline form, as Larch's: a lorentzian, gaussian or voigt tail or an atan_step,
    /// erf_step or lin_step step, plus constant, linear or quadratic ("linear+atan_step").
    #[arg(long, default_value = "linear+lorentzian")]
    pub form: String,
    /// Starting energy of a peak to fit, absolute eV (repeat, 1–4); none: baseline and centroid only.
    #[arg(long = "peak", value_name = "EV")]
    pub peaks: Vec<f64>,
    /// Peak shape of the fitted peaks.
    #[arg(long, value_enum, default_value = "gaussian")]
    pub shape: ShapeArg,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// `carto xanes peaks --json`.
#[derive(Debug, Serialize)]
pub struct PeaksOut {
    pub file: String,
    pub group: Option<String>,
    pub e0_ev: f64,
    pub edge_step: f64,
    pub emin_ev: f64,
    pub elo_ev: f64,
    pub ehi_ev: f64,
    pub emax_ev: f64,
    pub form: String,
    /// Baseline parameters by lmfit name.
    pub baseline_params: Vec<(String, ParamValue)>,
    /// Centroid of the baseline-subtracted spectrum (Larch `prepeaks.centroid`).
    pub centroid_ev: f64,
    pub delta_centroid_ev: f64,
    /// With --peak: baseline and peaks fitted together.
    pub fit: Option<PrePeakFit>,
    /// e0, edge step, white line, half-height energy, pre-edge centroid (this range).
    pub edge: EdgeDescriptors,
}

fn peaks(a: &PeaksArgs) -> Result<()> {
    let (data, file, group) = load_group(&a.input)?;
    let off = if a.absolute { 0.0 } else { data.e0_ev };
    let range = PrePeakRange {
        emin_ev: a.emin + off,
        elo_ev: a.elo + off,
        ehi_ev: a.ehi + off,
        emax_ev: a.emax + off,
    };
    if !(range.emin_ev < range.elo_ev
        && range.elo_ev < range.ehi_ev
        && range.ehi_ev < range.emax_ev)
    {
        bail!(
            "--emin {} --elo {} --ehi {} --emax {}: must increase",
            a.emin,
            a.elo,
            a.ehi,
            a.emax
        );
    }
    if a.peaks.len() > 4 {
        bail!(
            "--peak given {} times: 1 to 4 peaks are fitted",
            a.peaks.len()
        );
    }
    let form = BaselineForm::parse(&a.form).with_context(|| format!("--form {}", a.form))?;
    let base = pre_edge_baseline(&data, form, range)
        .with_context(|| format!("{file}: pre-edge baseline"))?;
    let shape = match a.shape {
        ShapeArg::Gaussian => PeakShape::Gaussian,
        ShapeArg::Lorentzian => PeakShape::Lorentzian,
        ShapeArg::Voigt => PeakShape::Voigt,
    };
    let fit = if a.peaks.is_empty() {
        None
    } else {
        Some(
            fit_prepeaks(&base, shape, &a.peaks)
                .with_context(|| format!("{file}: pre-edge peak fit"))?,
        )
    };
    let edge = edge_descriptors(&data, Some(range))
        .with_context(|| format!("{file}: edge descriptors"))?;
    let out = PeaksOut {
        edge,
        file,
        group,
        e0_ev: data.e0_ev,
        edge_step: data.edge_step,
        emin_ev: base.range.emin_ev,
        elo_ev: base.range.elo_ev,
        ehi_ev: base.range.ehi_ev,
        emax_ev: base.range.emax_ev,
        form: a.form.clone(),
        baseline_params: form
            .names()
            .iter()
            .zip(&base.params)
            .map(|(n, p)| ((*n).to_owned(), *p))
            .collect(),
        centroid_ev: base.centroid_ev,
        delta_centroid_ev: base.delta_centroid_ev,
        fit,
    };
    if a.json {
        return print_json(&out);
    }
    let mut t = format!(
        "{}{}: pre-edge baseline ({}) over {:.2} – {:.2} eV without {:.2} – {:.2} eV\n  centroid {:.3} ± {:.3} eV\n",
        out.file,
        out.group
            .as_deref()
            .map(|g| format!(" [{g}]"))
            .unwrap_or_default(),
        out.form,
        out.emin_ev,
        out.emax_ev,
        out.elo_ev,
        out.ehi_ev,
        out.centroid_ev,
        out.delta_centroid_ev
    );
    let d = &out.edge;
    t += &format!(
        "  e0 {:.2} eV  edge step {:.4}  white line {:.2} eV (height {:.3})  half height {}\n",
        d.e0_ev,
        d.edge_step,
        d.white_line_energy_ev,
        d.white_line_height,
        d.half_height_energy_ev
            .map_or("-".to_owned(), |e| format!("{e:.2} eV"))
    );
    if let Some(f) = &out.fit {
        let pm = |p: &ParamValue, d: usize| match p.stderr {
            Some(s) => format!("{:.d$} ± {s:.d$}", p.value),
            None => format!("{:.d$}", p.value),
        };
        for (k, p) in f.peaks.iter().enumerate() {
            t += &format!(
                "  peak {}: center {} eV  area {}  fwhm {} eV  height {}\n",
                k + 1,
                pm(&p.center_ev, 3),
                pm(&p.amplitude, 4),
                pm(&p.fwhm_ev, 3),
                pm(&p.height, 4)
            );
        }
        t += &format!(
            "  peak centroid {} eV  integrated intensity {}  reduced chi-square {:.3e}\n",
            pm(&f.centroid_ev, 3),
            pm(&f.integrated_intensity, 4),
            f.redchi
        );
    }
    emit(t.trim_end())
}

#[derive(Debug, Args)]
pub struct PcaArgs {
    /// A training spectrum: a file, or FILE:GROUP for a group of an Athena project (repeat, ≥ 2).
    #[arg(long = "train", required = true, value_name = "FILE[:GROUP]")]
    pub train: Vec<String>,
    /// A candidate standard to target-transform with the model (repeat).
    #[arg(long = "target", value_name = "FILE[:GROUP]")]
    pub targets: Vec<String>,
    /// Components used for the target transforms (default: Larch's nsig, at least 1).
    #[arg(long)]
    pub ncomps: Option<usize>,
    /// Array and energy range (relative to the first training spectrum's e0).
    #[command(flatten)]
    pub range: RangeArgs,
    /// Do not fit a scale of each target (Larch's rescale=False).
    #[arg(long)]
    pub no_rescale: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// One target transform in `carto xanes pca --json`.
#[derive(Debug, Serialize)]
pub struct PcaTargetOut {
    pub target: String,
    pub ncomps: usize,
    pub weights: Vec<f64>,
    pub chi_square: f64,
    pub data_scale: f64,
    /// Malinowski's target test: `re, aet, rep, ret, spoil` (null when
    /// --ncomps leaves no error factors).
    pub target_test: Option<TargetTest>,
}

/// `carto xanes pca --json`.
#[derive(Debug, Serialize)]
pub struct PcaOut {
    pub train: Vec<String>,
    pub array: &'static str,
    pub emin_ev: f64,
    pub emax_ev: f64,
    pub npts: usize,
    pub eigenvalues: Vec<f64>,
    /// Explained variance of each component.
    pub variances: Vec<f64>,
    pub ind: Vec<f64>,
    /// Number of significant components by IND (Larch's nsig).
    pub nsig: usize,
    /// Components with eigenvalue above the mean eigenvalue (Kaiser–Guttman).
    pub n_kaiser: usize,
    pub targets: Vec<PcaTargetOut>,
}

fn load_spec(spec: &str, option: &str) -> Result<XanesGroup> {
    load_standard(spec, None).map_err(|e| anyhow::anyhow!("{option} {e}"))
}

fn pca(a: &PcaArgs) -> Result<()> {
    if a.train.len() < 2 {
        bail!(
            "--train given {} time(s): PCA needs at least 2 spectra",
            a.train.len()
        );
    }
    let train = a
        .train
        .iter()
        .map(|s| load_spec(s, "--train"))
        .collect::<Result<Vec<_>>>()?;
    let targets = a
        .targets
        .iter()
        .map(|s| load_spec(s, "--target"))
        .collect::<Result<Vec<_>>>()?;
    let (array, emin_ev, emax_ev) = a.range.resolve(train[0].e0_ev)?;
    let refs: Vec<&XanesGroup> = train.iter().collect();
    let model = pca_train(&refs, array, emin_ev, emax_ev).context("PCA training")?;
    let ncomps = a.ncomps.unwrap_or(model.nsig.max(1));
    if ncomps == 0 || ncomps > model.components.len() {
        bail!(
            "--ncomps {ncomps}: the model has {} components",
            model.components.len()
        );
    }
    let mut outs = Vec::new();
    for (t, spec) in targets.iter().zip(&a.targets) {
        let r = pca_fit(t, &model, Some(ncomps), !a.no_rescale)
            .with_context(|| format!("--target {spec}: target transform"))?;
        outs.push(PcaTargetOut {
            target: r.label,
            ncomps: r.ncomps,
            weights: r.weights,
            chi_square: r.chi_square,
            data_scale: r.data_scale,
            target_test: r.target_test,
        });
    }
    let out = PcaOut {
        train: model.labels.clone(),
        array: array.name(),
        emin_ev,
        emax_ev,
        npts: model.energy_ev.len(),
        eigenvalues: model.eigenvalues.clone(),
        variances: model.variances.clone(),
        ind: model.ind.clone(),
        nsig: model.nsig,
        n_kaiser: model.n_kaiser,
        targets: outs,
    };
    if a.json {
        return print_json(&out);
    }
    let mut t = format!(
        "PCA of {} spectra ({}) over {:.2} – {:.2} eV, {} points\n  component  eigenvalue  variance  IND\n",
        out.train.len(),
        out.array,
        out.emin_ev,
        out.emax_ev,
        out.npts
    );
    for i in 0..out.eigenvalues.len() {
        t += &format!(
            "  {:>9}  {:>10.4}  {:>8.5}  {:.4}\n",
            i + 1,
            out.eigenvalues[i],
            out.variances[i],
            out.ind[i]
        );
    }
    t += &format!(
        "  significant components: {} by IND, {} by eigenvalue above the mean\n",
        out.nsig, out.n_kaiser
    );
    for r in &out.targets {
        let spoil = r
            .target_test
            .map_or("n/a".to_owned(), |tt| format!("{:.2}", tt.spoil));
        t += &format!(
            "  target {}: chi-square {:.4e} with {} components, scale {:.4}, SPOIL {spoil}\n",
            r.target, r.chi_square, r.ncomps, r.data_scale
        );
    }
    emit(t.trim_end())
}
