//! Edge descriptors of a normalized spectrum, each defined where it is computed.

use serde::Serialize;

use super::peaks::{BaselineForm, PrePeakRange, pre_edge_baseline};
use super::{XanesError, XanesGroup};

/// Width of the white-line search above e0, eV.
const WHITE_LINE_WINDOW_EV: f64 = 30.0;
/// Start of the half-height search below e0, eV (Larch's default pre-edge
/// peak window start, so far pre-edge noise is never taken for the edge).
const HALF_HEIGHT_START_EV: f64 = 30.0;

/// Edge descriptors of one spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EdgeDescriptors {
    /// e0 from `pre_edge` (Larch `find_e0`: the maximum of dμ/dE, refined).
    pub e0_ev: f64,
    /// Edge step from `pre_edge` (post-edge minus pre-edge line at e0).
    pub edge_step: f64,
    /// Energy of the maximum of norm within [e0, e0 + 30 eV] (grid point; Carto's choice).
    pub white_line_energy_ev: f64,
    /// That maximum of norm (1 is the edge step).
    pub white_line_height: f64,
    /// First crossing of norm = 0.5 upward from e0 − 30 eV, linearly interpolated (Carto's choice).
    pub half_height_energy_ev: Option<f64>,
    /// Larch's `pre_edge_baseline` centroid (linear+lorentzian, Larch's default ranges);
    /// `None` when that fit fails.
    pub pre_edge_centroid_ev: Option<f64>,
}

/// Descriptors of `g`; `prepeak` overrides Larch's default pre-edge ranges.
pub fn edge_descriptors(
    g: &XanesGroup,
    prepeak: Option<PrePeakRange>,
) -> Result<EdgeDescriptors, XanesError> {
    let e = &g.energy_ev;
    let n = &g.norm;
    let (mut wl_e, mut wl_h) = (f64::NAN, f64::NEG_INFINITY);
    for (&x, &y) in e.iter().zip(n) {
        if x >= g.e0_ev && x <= g.e0_ev + WHITE_LINE_WINDOW_EV && y > wl_h {
            wl_e = x;
            wl_h = y;
        }
    }
    if !wl_e.is_finite() {
        return Err(XanesError::Input(format!(
            "{}: no data within {WHITE_LINE_WINDOW_EV} eV above e0 = {} eV",
            g.label, g.e0_ev
        )));
    }
    let start = g.e0_ev - HALF_HEIGHT_START_EV;
    let half = e
        .windows(2)
        .zip(n.windows(2))
        .find(|(x, y)| x[0] >= start && y[0] < 0.5 && y[1] >= 0.5)
        .map(|(x, y)| x[0] + (0.5 - y[0]) * (x[1] - x[0]) / (y[1] - y[0]));
    let range = prepeak.unwrap_or_else(|| PrePeakRange::larch_default(g.e0_ev));
    let form = BaselineForm::parse("linear+lorentzian")?;
    let centroid = pre_edge_baseline(g, form, range)
        .ok()
        .map(|b| b.centroid_ev)
        .filter(|c| c.is_finite());
    Ok(EdgeDescriptors {
        e0_ev: g.e0_ev,
        edge_step: g.edge_step,
        white_line_energy_ev: wl_e,
        white_line_height: wl_h,
        half_height_energy_ev: half,
        pre_edge_centroid_ev: centroid,
    })
}
