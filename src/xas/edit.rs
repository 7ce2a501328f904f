//! Edits of a measured μ(E) spectrum, kept as a journal: the data as read
//! stays untouched and the edited spectrum is the journal replayed in order
//! (as Larch journals `deglitch_removed_energies`, an energy shift and a
//! rebin on a group). Sessions store the journal, not the edited arrays, so
//! a session still refers to its files only by path and content hash.

use serde::{Deserialize, Serialize};

use super::XasError;
use super::deglitch::{DeglitchParams, deglitch};
use super::rebin::{RebinParams, rebin_xafs};

/// One step of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Edit {
    /// Remove (or re-fill) points ([`deglitch`]); energies pick the nearest
    /// point of the spectrum as it is at this step.
    Deglitch(DeglitchParams),
    /// Add `eshift_ev` to every energy (an alignment's result, or typed).
    Shift {
        eshift_ev: f64,
        /// What it was aligned to, for the record (None: typed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    /// Rebin onto Larch's `rebin_xafs` grid; `e0` is fixed when the edit is
    /// made, so replaying it gives the same grid.
    Rebin(RebinParams),
}

impl Edit {
    /// A short description for the undo history and the log.
    pub fn describe(&self) -> String {
        match self {
            Edit::Deglitch(p) => {
                let n = p.remove.len();
                format!(
                    "{} {n} point selection{}",
                    if p.replace { "re-fill" } else { "deglitch" },
                    if n == 1 { "" } else { "s" }
                )
            }
            Edit::Shift {
                eshift_ev,
                reference: Some(r),
            } => format!("align to {r} ({eshift_ev:+.3} eV)"),
            Edit::Shift { eshift_ev, .. } => format!("shift energy {eshift_ev:+.3} eV"),
            Edit::Rebin(p) => format!("rebin (k step {} Å⁻¹)", p.exafs_kstep),
        }
    }
}

/// Replay `edits` on `(energy_ev, mu)`. An error names the step (1-based)
/// that fails.
pub fn apply_edits(
    energy_ev: &[f64],
    mu: &[f64],
    edits: &[Edit],
) -> Result<(Vec<f64>, Vec<f64>), XasError> {
    let mut e = energy_ev.to_vec();
    let mut m = mu.to_vec();
    for (i, edit) in edits.iter().enumerate() {
        let step = |err: XasError| XasError::BadParam {
            name: "edit",
            value: format!("step {} ({})", i + 1, edit.describe()),
            reason: err.to_string(),
        };
        match edit {
            Edit::Deglitch(p) => {
                let d = deglitch(&e, &m, p).map_err(step)?;
                (e, m) = (d.energy_ev, d.mu);
            }
            Edit::Shift { eshift_ev, .. } => {
                if !eshift_ev.is_finite() || eshift_ev.abs() > 1000.0 {
                    return Err(step(XasError::BadParam {
                        name: "eshift_ev",
                        value: eshift_ev.to_string(),
                        reason: "must be finite and within ±1000 eV".into(),
                    }));
                }
                e.iter_mut().for_each(|x| *x += eshift_ev);
            }
            Edit::Rebin(p) => {
                let r = rebin_xafs(&e, &m, p).map_err(step)?;
                (e, m) = (r.energy_ev, r.mu);
            }
        }
    }
    Ok((e, m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xas::deglitch::PointSelection;

    fn ramp() -> (Vec<f64>, Vec<f64>) {
        let e: Vec<f64> = (0..200).map(|i| 7000.0 + i as f64).collect();
        let m: Vec<f64> = e.iter().map(|x| (x - 7100.0).atan()).collect();
        (e, m)
    }

    #[test]
    fn edits_replay_in_order() {
        let (e, m) = ramp();
        let edits = vec![
            Edit::Deglitch(DeglitchParams {
                remove: vec![PointSelection::Energy { energy_ev: 7050.2 }],
                replace: false,
            }),
            Edit::Shift {
                eshift_ev: 1.5,
                reference: None,
            },
            // Energies refer to the spectrum as it is at this step (shifted).
            Edit::Deglitch(DeglitchParams {
                remove: vec![PointSelection::Energy { energy_ev: 7061.5 }],
                replace: false,
            }),
        ];
        let (e2, m2) = apply_edits(&e, &m, &edits).unwrap();
        assert_eq!(e2.len(), 198);
        assert!(!e2.contains(&7051.5), "first deglitch then shift");
        assert!(!e2.contains(&7061.5), "second deglitch on the shifted axis");
        assert_eq!(e2[0], 7001.5);
        assert_eq!(m2[0], m[0]);
    }

    #[test]
    fn a_failing_step_is_named() {
        let (e, m) = ramp();
        let edits = vec![
            Edit::Shift {
                eshift_ev: 0.0,
                reference: None,
            },
            Edit::Shift {
                eshift_ev: f64::NAN,
                reference: None,
            },
        ];
        let err = apply_edits(&e, &m, &edits).unwrap_err().to_string();
        assert!(err.contains("step 2"), "{err}");
    }

    #[test]
    fn journal_round_trips_as_json() {
        let edits = vec![
            Edit::Deglitch(DeglitchParams {
                remove: vec![PointSelection::Between {
                    energy1_ev: 7010.0,
                    energy2_ev: 7012.0,
                }],
                replace: true,
            }),
            Edit::Shift {
                eshift_ev: -0.25,
                reference: Some("Fe foil".into()),
            },
            Edit::Rebin(RebinParams {
                e0: Some(7112.0),
                ..RebinParams::default()
            }),
        ];
        let text = serde_json::to_string(&edits).unwrap();
        assert!(text.contains("\"op\":\"deglitch\""), "{text}");
        let back: Vec<Edit> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, edits);
    }
}
