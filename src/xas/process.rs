//! The one XAS pipeline the GUI, the CLI and batch work call: μ(E) or χ(k)
//! as read, plus the edit journal, through pre_edge → autobk → xftf
//! (→ xftr for χ(q)), with every error tagged by the step that failed.

use std::borrow::Cow;

use super::edit::{Edit, apply_edits};
use super::fourier::{ChiQ, RParams};
use super::{
    Autobk, ChainParams, ChiR, FtParams, PreEdge, PreEdgeParams, XasError, autobk, pre_edge, xftf,
};
use crate::io::{ChiData, ColumnTable, XasSpectrum};

/// What the pipeline starts from.
#[derive(Debug, Clone)]
pub enum XasInput {
    /// μ(E): the whole chain pre_edge → autobk → xftf runs.
    Mu(XasSpectrum),
    /// χ(k) read from a file: only xftf runs.
    Chi(ChiData),
}

/// A pipeline step, for error messages and for callers that name their
/// own options (the CLI tells `--bkg-dk` from `--dk` by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Replaying the edit journal.
    Edit,
    PreEdge,
    Autobk,
    /// xftf: χ(k) → χ(R).
    Ft,
    /// xftr: χ(R) → χ(q).
    ChiQ,
}

impl Step {
    /// The name the GUI and the CLI show before the message.
    pub fn name(self) -> &'static str {
        match self {
            Step::Edit => "edit",
            Step::PreEdge => "pre-edge",
            Step::Autobk => "AUTOBK",
            Step::Ft => "Fourier transform",
            Step::ChiQ => "back-transform to χ(q)",
        }
    }
}

/// Why the pipeline stopped, tagged by step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProcessError {
    /// The journal step that failed is named inside (1-based).
    #[error("{0}")]
    Edit(XasError),
    #[error("only μ(E) spectra can be deglitched, aligned or rebinned")]
    EditOfChi,
    #[error("pre-edge: {0}")]
    PreEdge(XasError),
    #[error("AUTOBK: {0}")]
    Autobk(XasError),
    /// The FT's kmax is cut to the end of χ(k); a kmin beyond it is the
    /// user's to change.
    #[error(
        "Fourier transform: kmin {kmin_inv_ang} Å⁻¹ is beyond the end of χ(k) ({kend_inv_ang:.2} Å⁻¹)"
    )]
    KminBeyondData {
        kmin_inv_ang: f64,
        kend_inv_ang: f64,
    },
    /// χ(k) read from a file that does not reach down to the FT's kmin,
    /// or (asked for explicitly) up to its kmax: the transform would run
    /// over values the interpolation invents.
    #[error(
        "Fourier transform: the k range {kmin_inv_ang}–{kmax_inv_ang} Å⁻¹ is not covered by the χ(k) data, which span {kfirst_inv_ang}–{klast_inv_ang} Å⁻¹"
    )]
    KRangeNotCovered {
        kmin_inv_ang: f64,
        kmax_inv_ang: f64,
        kfirst_inv_ang: f64,
        klast_inv_ang: f64,
    },
    #[error("Fourier transform: {0}")]
    Ft(XasError),
    #[error("back-transform to χ(q): {0}")]
    ChiQ(XasError),
}

impl ProcessError {
    pub fn step(&self) -> Step {
        match self {
            ProcessError::Edit(_) | ProcessError::EditOfChi => Step::Edit,
            ProcessError::PreEdge(_) => Step::PreEdge,
            ProcessError::Autobk(_) => Step::Autobk,
            ProcessError::KminBeyondData { .. }
            | ProcessError::KRangeNotCovered { .. }
            | ProcessError::Ft(_) => Step::Ft,
            ProcessError::ChiQ(_) => Step::ChiQ,
        }
    }

    /// The core error underneath, when there is one.
    pub fn xas_error(&self) -> Option<&XasError> {
        match self {
            ProcessError::Edit(e)
            | ProcessError::PreEdge(e)
            | ProcessError::Autobk(e)
            | ProcessError::Ft(e)
            | ProcessError::ChiQ(e) => Some(e),
            ProcessError::EditOfChi
            | ProcessError::KminBeyondData { .. }
            | ProcessError::KRangeNotCovered { .. } => None,
        }
    }

    /// The core error underneath; the two pipeline-only errors become the
    /// parameter error they amount to.
    pub fn into_xas_error(self) -> XasError {
        match self {
            ProcessError::Edit(e)
            | ProcessError::PreEdge(e)
            | ProcessError::Autobk(e)
            | ProcessError::Ft(e)
            | ProcessError::ChiQ(e) => e,
            ProcessError::EditOfChi => XasError::BadParam {
                name: "edit",
                value: "χ(k)".into(),
                reason: "only μ(E) can be edited".into(),
            },
            ProcessError::KminBeyondData {
                kmin_inv_ang,
                kend_inv_ang,
            } => XasError::BadParam {
                name: "kmin",
                value: kmin_inv_ang.to_string(),
                reason: format!("beyond the end of χ(k) ({kend_inv_ang:.2} Å⁻¹)"),
            },
            ProcessError::KRangeNotCovered {
                kmin_inv_ang,
                kmax_inv_ang,
                kfirst_inv_ang,
                klast_inv_ang,
            } => XasError::BadParam {
                name: "kmin",
                value: kmin_inv_ang.to_string(),
                reason: format!(
                    "the k range {kmin_inv_ang}–{kmax_inv_ang} Å⁻¹ is not covered by χ(k) \
                     ({kfirst_inv_ang}–{klast_inv_ang} Å⁻¹)"
                ),
            },
        }
    }
}

/// Everything one run of the pipeline produces.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    /// None for χ(k) inputs.
    pub pre: Option<PreEdge>,
    pub bkg: Option<Autobk>,
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    pub chir: ChiR,
    /// The FT parameters actually used (kmax limited to the data's end).
    pub ft: FtParams,
    /// χ(q), when an R window was given.
    pub chiq: Option<ChiQ>,
}

/// `input` with the journal `edits` replayed (borrowed as is when there are
/// none). Only μ(E) can be edited.
pub fn edit<'a>(input: &'a XasInput, edits: &[Edit]) -> Result<Cow<'a, XasInput>, ProcessError> {
    if edits.is_empty() {
        return Ok(Cow::Borrowed(input));
    }
    let XasInput::Mu(s) = input else {
        return Err(ProcessError::EditOfChi);
    };
    let (energy_ev, mu) = apply_edits(&s.energy_ev, &s.mu, edits).map_err(ProcessError::Edit)?;
    // The column table no longer matches the edited points: keep its
    // labels and header, not its columns.
    let table = ColumnTable {
        labels: s.table.labels.clone(),
        header: s.table.header.clone(),
        metadata: s.table.metadata.clone(),
        ..Default::default()
    };
    Ok(Cow::Owned(XasInput::Mu(XasSpectrum {
        name: s.name.clone(),
        energy_ev,
        mu,
        energy_column: s.energy_column,
        energy_unit: s.energy_unit,
        recipe: s.recipe.clone(),
        choice: s.choice.clone(),
        table,
    })))
}

/// Replay `edits` on `input`, then pre_edge → autobk → xftf (χ(k) input:
/// xftf only), then χ(q) when `r_window` is given. The FT's kmax is limited
/// to the end of χ(k) (the default "12 Å⁻¹ or the data's end").
pub fn run(
    input: &XasInput,
    edits: &[Edit],
    params: &ChainParams,
    r_window: Option<&RParams>,
) -> Result<Processed, ProcessError> {
    let input = edit(input, edits)?;
    let mut out = match input.as_ref() {
        XasInput::Mu(s) => {
            let (pre, bkg) = mu_to_chi(&s.energy_ev, &s.mu, params)?;
            let (chir, ft) = chi_to_r(&bkg.k_inv_ang, &bkg.chi, &params.ft)?;
            Processed {
                k_inv_ang: bkg.k_inv_ang.clone(),
                chi: bkg.chi.clone(),
                pre: Some(pre),
                bkg: Some(bkg),
                chir,
                ft,
                chiq: None,
            }
        }
        XasInput::Chi(c) => {
            check_chi_covers(&c.k_inv_ang, params.ft.kmin, params.ft.kmax, false)?;
            let (chir, ft) = chi_to_r(&c.k_inv_ang, &c.chi, &params.ft)?;
            Processed {
                pre: None,
                bkg: None,
                k_inv_ang: c.k_inv_ang.clone(),
                chi: c.chi.clone(),
                chir,
                ft,
                chiq: None,
            }
        }
    };
    if let Some(r) = r_window {
        out.chiq = Some(chi_q(&out, r)?);
    }
    Ok(out)
}

/// Replay `edits` and normalize only (XANES: no AUTOBK, no transform).
/// Returns the edited spectrum with its pre_edge result.
pub fn normalize<'a>(
    input: &'a XasInput,
    edits: &[Edit],
    params: &PreEdgeParams,
) -> Result<(Cow<'a, XasInput>, PreEdge), ProcessError> {
    let input = edit(input, edits)?;
    let XasInput::Mu(s) = input.as_ref() else {
        return Err(ProcessError::PreEdge(XasError::NoEdge(
            "χ(k) data has no μ(E) to normalize".into(),
        )));
    };
    let pre = pre_edge(&s.energy_ev, &s.mu, params).map_err(ProcessError::PreEdge)?;
    Ok((input, pre))
}

/// χ(q) of a processed spectrum: its χ(R) back-transformed with `r`
/// (Larch `xftr`), kept to q ≤ the end of its χ(k) as Larch's `plot_chiq`
/// shows it. The GUI calls this alone when only the R window changes.
pub fn chi_q(processed: &Processed, r: &RParams) -> Result<ChiQ, ProcessError> {
    let kend_inv_ang = processed.k_inv_ang.last().copied().unwrap_or(0.0);
    super::fourier::chi_q(&processed.chir, kend_inv_ang, r).map_err(ProcessError::ChiQ)
}

/// pre_edge → autobk on one μ(E).
pub(crate) fn mu_to_chi(
    energy_ev: &[f64],
    mu: &[f64],
    params: &ChainParams,
) -> Result<(PreEdge, Autobk), ProcessError> {
    let pre = pre_edge(energy_ev, mu, &params.pre_edge).map_err(ProcessError::PreEdge)?;
    let bkg = autobk(energy_ev, mu, &params.autobk, Some(&pre)).map_err(ProcessError::Autobk)?;
    Ok((pre, bkg))
}

/// χ(k) read from a file must cover the FT range: from below kmin (its
/// values are held constant below the first point, which would transform
/// an invented plateau), and up to kmax when `kmax_explicit` (otherwise
/// kmax is cut to the data's end, the documented "12 Å⁻¹ or the end").
/// A tolerance of 10⁻⁶ Å⁻¹ absorbs rounding in written grids.
pub fn check_chi_covers(
    k_inv_ang: &[f64],
    kmin_inv_ang: f64,
    kmax_inv_ang: f64,
    kmax_explicit: bool,
) -> Result<(), ProcessError> {
    let (Some(&kfirst_inv_ang), Some(&klast_inv_ang)) = (k_inv_ang.first(), k_inv_ang.last())
    else {
        return Ok(());
    };
    const TOL: f64 = 1e-6;
    let low = kmin_inv_ang < kfirst_inv_ang - TOL;
    let high = kmax_explicit && kmax_inv_ang > klast_inv_ang + TOL;
    if low || high {
        return Err(ProcessError::KRangeNotCovered {
            kmin_inv_ang,
            kmax_inv_ang,
            kfirst_inv_ang,
            klast_inv_ang,
        });
    }
    Ok(())
}

/// xftf with kmax cut to the end of χ(k); returns the parameters used.
pub(crate) fn chi_to_r(
    k_inv_ang: &[f64],
    chi: &[f64],
    ft: &FtParams,
) -> Result<(ChiR, FtParams), ProcessError> {
    let mut ft = ft.clone();
    let kend_inv_ang = k_inv_ang.last().copied().unwrap_or(0.0);
    if ft.kmin >= kend_inv_ang {
        return Err(ProcessError::KminBeyondData {
            kmin_inv_ang: ft.kmin,
            kend_inv_ang,
        });
    }
    ft.kmax = ft.kmax.min(kend_inv_ang);
    let chir = xftf(k_inv_ang, chi, &ft).map_err(ProcessError::Ft)?;
    Ok((chir, ft))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Dataset, LoadOptions, load_bytes};
    use crate::xas::deglitch::{DeglitchParams, PointSelection};

    fn cu() -> XasInput {
        let bytes = include_bytes!("../../sample_data/cu_metal_rt.xdi");
        match load_bytes(bytes, "cu.xdi", &LoadOptions::default()) {
            Ok(Dataset::Xas(s)) => XasInput::Mu(s),
            other => panic!("not μ(E): {other:?}"),
        }
    }

    #[test]
    fn mu_runs_the_chain_and_chi_q_alone_gives_the_same() {
        let input = cu();
        let p = ChainParams::default();
        let r = RParams::first_shell();
        let full = run(&input, &[], &p, Some(&r)).expect("processed");
        let pre = full.pre.as_ref().expect("pre_edge");
        let bkg = full.bkg.as_ref().expect("autobk");
        assert_eq!(full.k_inv_ang, bkg.k_inv_ang);
        assert!(pre.e0 > 8900.0 && pre.e0 < 9100.0, "{}", pre.e0);
        assert!(full.ft.kmax <= *full.k_inv_ang.last().expect("k"));
        let again = chi_q(&full, &r).expect("χ(q)");
        let once = full.chiq.as_ref().expect("χ(q) asked for");
        assert_eq!(again.chiq_re, once.chiq_re);
        assert_eq!(again.q_inv_ang, once.q_inv_ang);
        // The array entry point gives the very same numbers.
        let XasInput::Mu(s) = &input else {
            unreachable!()
        };
        let chain = crate::xas::process(&s.energy_ev, &s.mu, &p).expect("chain");
        assert_eq!(chain.chir.chir_re, full.chir.chir_re);
        assert_eq!(chain.chir.chir_im, full.chir.chir_im);
    }

    #[test]
    fn edits_replay_before_the_chain() {
        let input = cu();
        let XasInput::Mu(s) = &input else {
            unreachable!()
        };
        let at = s.energy_ev[200];
        let edits = [Edit::Deglitch(DeglitchParams {
            remove: vec![PointSelection::Energy { energy_ev: at }],
            replace: false,
        })];
        let edited = edit(&input, &edits).expect("edited");
        let XasInput::Mu(e) = edited.as_ref() else {
            unreachable!()
        };
        assert_eq!(e.energy_ev.len(), s.energy_ev.len() - 1);
        let a = run(&input, &edits, &ChainParams::default(), None).expect("with edits");
        let b = run(edited.as_ref(), &[], &ChainParams::default(), None).expect("edited");
        assert_eq!(a.chir.chir_mag, b.chir.chir_mag);
        assert!(matches!(edit(&input, &[]), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn errors_name_their_step() {
        let input = cu();
        let mut p = ChainParams::default();
        p.autobk.rbkg = -1.0;
        let e = run(&input, &[], &p, None).expect_err("negative rbkg");
        assert_eq!(e.step(), Step::Autobk);
        assert!(e.to_string().starts_with("AUTOBK: "), "{e}");
        let mut p = ChainParams::default();
        p.ft.kmin = 50.0;
        let e = run(&input, &[], &p, None).expect_err("kmin beyond the data");
        assert!(matches!(e, ProcessError::KminBeyondData { .. }), "{e}");
        assert!(
            e.to_string().starts_with("Fourier transform: kmin 50"),
            "{e}"
        );
        let mut p = ChainParams::default();
        p.pre_edge.nnorm = Some(9);
        let r = run(&input, &[], &p, None);
        if let Err(e) = r {
            assert_eq!(e.step(), Step::PreEdge, "{e}");
        }
        let chi = XasInput::Chi(crate::io::ChiData {
            name: "chi".into(),
            k_inv_ang: (0..200).map(|i| 0.05 * i as f64).collect(),
            chi: (0..200).map(|i| (0.1 * i as f64).sin()).collect(),
            table: ColumnTable::default(),
        });
        let shift = [Edit::Shift {
            eshift_ev: 1.0,
            reference: None,
        }];
        assert_eq!(
            run(&chi, &shift, &ChainParams::default(), None).expect_err("χ(k) edit"),
            ProcessError::EditOfChi
        );
        let bad_r = RParams {
            rmin: 3.0,
            rmax: 1.0,
            ..RParams::first_shell()
        };
        let e = run(&chi, &[], &ChainParams::default(), Some(&bad_r)).expect_err("rmax < rmin");
        assert_eq!(e.step(), Step::ChiQ, "{e}");
    }
}
