//! The XRD plot. [`XrdPanel::series`] turns the view's state into plain
//! curves (what the tests check); [`XrdPanel::plot_ui`] draws them.

use egui::{Color32, RichText, Ui};
use egui_plot::{
    FilledArea, ItemId, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points,
};

use crate::gui::widgets::plot_pick;

use super::{Quant, XrdEntry, XrdPanel};
use crate::gui::store::Store;
use crate::io::xrd::{d_from_two_theta, q_from_two_theta};

/// Phases drawn in their own band in the quantification plot.
const QUANT_BANDS: usize = 8;

/// The x axis of the pattern plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    TwoTheta,
    Q,
    D,
}

impl XAxis {
    pub const ALL: [XAxis; 3] = [XAxis::TwoTheta, XAxis::Q, XAxis::D];

    /// The button text and axis label.
    pub fn label(self) -> &'static str {
        match self {
            XAxis::TwoTheta => "2θ (°)",
            XAxis::Q => "Q (Å⁻¹)",
            XAxis::D => "d (Å)",
        }
    }

    /// The name a session stores.
    pub fn key(self) -> &'static str {
        match self {
            XAxis::TwoTheta => "2theta",
            XAxis::Q => "q",
            XAxis::D => "d",
        }
    }

    pub fn from_key(s: &str) -> Option<XAxis> {
        XAxis::ALL.into_iter().find(|a| a.key() == s)
    }

    /// 2θ (°) on this axis; None without the wavelength it needs.
    pub fn convert(self, two_theta: f64, wavelength: Option<f64>) -> Option<f64> {
        match (self, wavelength) {
            (XAxis::TwoTheta, _) => Some(two_theta),
            (XAxis::Q, Some(l)) => Some(q_from_two_theta(two_theta, l)),
            (XAxis::D, Some(l)) => Some(d_from_two_theta(two_theta, l)),
            _ => None,
        }
    }
}

/// What the centre shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrdTab {
    Pattern,
    Quantification,
}

/// What a curve shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrdRole {
    /// A measured pattern (one legend entry each).
    Pattern,
    Background,
    /// Found peaks of the active pattern (markers).
    Peaks,
    /// A phase's stick pattern (x, height).
    Sticks,
    /// A phase's broadened pattern over the background.
    Broadened,
    /// Quantification: the measured pattern, the fit, and each phase's
    /// contribution stacked on the previous ones (`lower` is the stack
    /// below it).
    Measured,
    Fitted,
    Contribution,
}

/// One curve, as plain data.
#[derive(Debug, Clone)]
pub struct XrdSeries {
    pub name: String,
    pub role: XrdRole,
    pub color: Color32,
    pub points: Vec<[f64; 2]>,
    /// The lower edge of a filled band (Contribution), else empty.
    pub lower: Vec<f64>,
    /// The store item the curve draws (a pattern or a phase), which a
    /// right-click on the curve or its legend entry selects.
    pub item: Option<u64>,
}

impl XrdPanel {
    /// The y value drawn for an intensity (log10 when log y is on).
    fn y_of(&self, y: f64) -> f64 {
        if self.log_y { y.max(1.0).log10() } else { y }
    }

    /// The curves the centre plot shows now.
    pub fn series(&self, store: &Store) -> Vec<XrdSeries> {
        match self.tab {
            XrdTab::Pattern => self.pattern_series(store),
            XrdTab::Quantification => self.quant_series(&store.quant),
        }
    }

    /// Selected patterns that cannot be drawn on the axis (no wavelength).
    pub fn missing_wavelength(&self, pats: &[XrdEntry]) -> Vec<String> {
        if self.axis == XAxis::TwoTheta {
            return Vec::new();
        }
        self.selected_entries(pats)
            .into_iter()
            .filter(|e| !matches!(e.wavelength(), Ok(Some(_))))
            .map(|e| e.name.clone())
            .collect()
    }

    fn pattern_series(&self, store: &Store) -> Vec<XrdSeries> {
        let pats = &store.patterns;
        let mut out = Vec::new();
        let series = |item: u64, name: String, role, color, points| XrdSeries {
            name,
            role,
            color,
            points,
            lower: Vec::new(),
            item: Some(item),
        };
        for e in self.selected_entries(pats) {
            let wl = e.wavelength().ok().flatten();
            let conv = |t: f64| self.axis.convert(t, wl);
            if conv(e.range().0).is_none() {
                continue;
            }
            let pts = |y: &[f64]| -> Vec<[f64; 2]> {
                e.pattern
                    .two_theta_deg
                    .iter()
                    .zip(y)
                    .filter_map(|(&t, &v)| conv(t).map(|x| [x, self.y_of(v)]))
                    .collect()
            };
            out.push(series(
                e.id,
                e.name.clone(),
                XrdRole::Pattern,
                e.color,
                pts(&e.pattern.intensity),
            ));
            if self.show_background && !e.background.is_empty() {
                out.push(series(
                    e.id,
                    format!("{} background", e.name),
                    XrdRole::Background,
                    e.color.gamma_multiply(0.5),
                    pts(&e.background),
                ));
            }
            if self.show_peaks && Some(e.id) == self.active && !e.peaks.is_empty() {
                let p = e
                    .peaks
                    .iter()
                    .filter_map(|p| {
                        let b = e.background.get(p.index).copied().unwrap_or(0.0);
                        conv(p.two_theta_deg).map(|x| [x, self.y_of(b + p.height)])
                    })
                    .collect();
                out.push(series(
                    e.id,
                    format!("{} peaks", e.name),
                    XrdRole::Peaks,
                    Color32::from_rgb(255, 80, 80),
                    p,
                ));
            }
        }
        // Phases are drawn against the active pattern (its wavelength and
        // range), when it is on show.
        let Some(e) = self
            .active_entry(pats)
            .filter(|e| self.selected.contains(&e.id))
        else {
            return out;
        };
        let Ok(Some(wl)) = e.wavelength() else {
            return out;
        };
        let conv = |t: f64| self.axis.convert(t, Some(wl));
        let top = e.max_net();
        for ph in store.phases.iter().filter(|p| p.visible) {
            let Some(sticks) = ph.sticks(e) else {
                continue;
            };
            let pts = sticks
                .iter()
                .filter_map(|&(t, i)| {
                    conv(t).map(|x| [x, self.y_of(i / 100.0 * ph.intensity * top)])
                })
                .collect();
            out.push(series(
                ph.id,
                ph.name.clone(),
                XrdRole::Sticks,
                ph.color,
                pts,
            ));
            if ph.broadened
                && let Some((x, y)) = ph.broadened_curve(e)
            {
                let m = y.iter().copied().fold(0.0, f64::max);
                let f = if m > 0.0 { ph.intensity * top / m } else { 0.0 };
                let pts = x
                    .iter()
                    .zip(&y)
                    .filter_map(|(&t, &v)| {
                        conv(t).map(|xx| [xx, self.y_of(v * f + e.background_at(t))])
                    })
                    .collect();
                out.push(series(
                    ph.id,
                    format!("{} (broadened)", ph.name),
                    XrdRole::Broadened,
                    ph.color.gamma_multiply(0.8),
                    pts,
                ));
            }
        }
        out
    }

    fn quant_series(&self, quant: &Quant) -> Vec<XrdSeries> {
        let Some(done) = &quant.result else {
            return Vec::new();
        };
        let r = &done.result;
        let zip = |y: &[f64]| -> Vec<[f64; 2]> {
            r.two_theta_deg
                .iter()
                .zip(y)
                .map(|(&x, &v)| [x, v])
                .collect()
        };
        // The strongest phases each in a band (largest at the bottom), the
        // rest summed into one, so the legend stays readable.
        let mut order: Vec<usize> = (0..r.phases.len().min(r.contributions.len())).collect();
        order.sort_by(|&i, &j| {
            r.phases[j]
                .weight_percent
                .total_cmp(&r.phases[i].weight_percent)
        });
        let mut bands: Vec<(String, Vec<f64>, Color32)> = Vec::new();
        let mut rest = vec![0.0; r.two_theta_deg.len()];
        let mut n_rest = 0;
        for (k, &i) in order.iter().enumerate() {
            let ph = &r.phases[i];
            if k < QUANT_BANDS && ph.weight_percent > 0.0 {
                bands.push((
                    format!("{} {:.1} %", ph.id, ph.weight_percent),
                    r.contributions[i].clone(),
                    crate::gui::widgets::palette(k),
                ));
            } else {
                n_rest += 1;
                for (a, b) in rest.iter_mut().zip(&r.contributions[i]) {
                    *a += b;
                }
            }
        }
        if n_rest > 0 {
            bands.push((
                format!("{n_rest} other phases"),
                rest,
                Color32::from_gray(110),
            ));
        }
        let mut out = Vec::new();
        let mut below = vec![0.0; r.two_theta_deg.len()];
        for (name, c, color) in bands {
            let upper: Vec<f64> = below.iter().zip(&c).map(|(a, b)| a + b).collect();
            out.push(XrdSeries {
                name,
                role: XrdRole::Contribution,
                color,
                points: zip(&upper),
                lower: below.clone(),
                item: None,
            });
            below = upper;
        }
        out.push(XrdSeries {
            name: format!("fit (Rwp {:.2} %)", r.rwp_percent),
            role: XrdRole::Fitted,
            color: Color32::from_rgb(255, 80, 80),
            points: zip(&r.fitted),
            lower: Vec::new(),
            item: None,
        });
        out.push(XrdSeries {
            name: "measured".into(),
            role: XrdRole::Measured,
            color: Color32::from_gray(230),
            points: zip(&r.measured),
            lower: Vec::new(),
            item: None,
        });
        out
    }

    /// The toolbar, the readout and the plot.
    pub(super) fn plot_ui(&mut self, ui: &mut Ui, store: &Store) {
        let pats = &store.patterns;
        ui.horizontal(|ui| {
            let had_quant = store.quant.result.is_some();
            for (t, name) in [
                (XrdTab::Pattern, "Patterns"),
                (XrdTab::Quantification, "Quantification"),
            ] {
                let enabled = t == XrdTab::Pattern || had_quant;
                if ui
                    .add_enabled(enabled, egui::Button::selectable(self.tab == t, name))
                    .clicked()
                    && self.tab != t
                {
                    self.tab = t;
                    self.reset_plot = true;
                }
            }
            ui.separator();
            if self.tab == XrdTab::Pattern {
                for a in XAxis::ALL {
                    if ui.selectable_label(self.axis == a, a.label()).clicked() && self.axis != a {
                        self.axis = a;
                        self.reset_plot = true;
                    }
                }
                ui.separator();
                if ui.checkbox(&mut self.log_y, "log y").changed() {
                    self.reset_plot = true;
                }
                ui.checkbox(&mut self.show_background, "background");
                ui.checkbox(&mut self.show_peaks, "peaks");
            }
            if ui
                .button("Reset view")
                .on_hover_text(
                    "Or double-click the plot. Drag: pan · wheel: zoom · right-drag: box zoom",
                )
                .clicked()
            {
                self.reset_plot = true;
            }
        });
        let (xlabel, ylabel) = match self.tab {
            XrdTab::Pattern => (
                self.axis.label(),
                if self.log_y {
                    "log₁₀ intensity"
                } else {
                    "intensity"
                },
            ),
            XrdTab::Quantification => ("2θ (°)", "intensity"),
        };
        let readout = match self.cursor {
            Some([x, y]) => format!("{xlabel}: {x:.4}   {ylabel}: {y:.4}"),
            None => "(move the cursor over the plot for a readout)".to_string(),
        };
        ui.label(readout);
        let missing = if self.tab == XrdTab::Pattern {
            self.missing_wavelength(pats)
        } else {
            Vec::new()
        };
        if !missing.is_empty() {
            ui.label(
                RichText::new(format!(
                    "{} needs a wavelength for the {} axis: {} (type one in the wavelength field, e.g. CuKa)",
                    if missing.len() == 1 { "this pattern" } else { "these patterns" },
                    self.axis.label(),
                    missing.join(", ")
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
        let all = self.series(store);
        if all.is_empty() {
            ui.centered_and_justified(|ui| {
                ui.label(if pats.is_empty() {
                    "Open measured patterns: File ▸ Open, drop files here, or `carto FILE.xy`."
                } else {
                    "Select one or more patterns in the list (ctrl/shift-click for several)."
                });
            });
            self.cursor = None;
            return;
        }
        let mut plot = Plot::new(("xrd_plot", self.tab as u8))
            .legend(Legend::default().follow_insertion_order(true))
            .x_axis_label(xlabel)
            .y_axis_label(ylabel)
            .allow_boxed_zoom(true)
            .allow_double_click_reset(true);
        if std::mem::take(&mut self.reset_plot) {
            plot = plot.reset();
        }
        // A right-click on a curve (or its legend entry) selects its
        // pattern or phase; each stick is an item of its own.
        let mut pickable: Vec<(ItemId, u64)> = Vec::new();
        for s in &all {
            let Some(item) = s.item else { continue };
            let id = (s.role as u8, s.name.clone());
            if s.role == XrdRole::Sticks {
                for k in 0..s.points.len() {
                    pickable.push((ItemId::new((id.0, id.1.clone(), k)), item));
                }
            } else {
                pickable.push((ItemId::new(id), item));
            }
        }
        let resp = plot.show(ui, |pui| {
            for s in all {
                // Stable across frames and edits, so a legend entry
                // hidden by a click stays hidden.
                let id = (s.role as u8, s.name.clone());
                match s.role {
                    XrdRole::Peaks => pui.points(
                        Points::new(s.name, PlotPoints::new(s.points))
                            .id(id)
                            .shape(MarkerShape::Down)
                            .radius(5.0)
                            .filled(true)
                            .color(s.color),
                    ),
                    XrdRole::Sticks => {
                        // One segment per stick; the shared name makes one
                        // legend entry (click it to hide them all).
                        // From zero (log y: from 1 count).
                        let base = 0.0;
                        for (k, p) in s.points.iter().enumerate() {
                            pui.line(
                                Line::new(s.name.clone(), PlotPoints::new(vec![[p[0], base], *p]))
                                    .id((id.0, id.1.clone(), k))
                                    .color(s.color)
                                    .width(1.5),
                            );
                        }
                    }
                    XrdRole::Contribution => {
                        let xs: Vec<f64> = s.points.iter().map(|p| p[0]).collect();
                        let hi: Vec<f64> = s.points.iter().map(|p| p[1]).collect();
                        pui.add(
                            FilledArea::new(s.name, &xs, &s.lower, &hi)
                                .id(id)
                                .fill_color(s.color.gamma_multiply(0.5)),
                        );
                    }
                    role => {
                        let mut line = Line::new(s.name, PlotPoints::new(s.points))
                            .id(id)
                            .color(s.color);
                        line = match role {
                            XrdRole::Pattern => line.width(1.5),
                            XrdRole::Measured => line.width(1.2),
                            XrdRole::Background | XrdRole::Broadened => {
                                line.style(LineStyle::dashed_dense())
                            }
                            _ => line.width(1.0),
                        };
                        pui.line(line);
                    }
                }
            }
            pui.pointer_coordinate()
        });
        self.cursor = resp.inner.map(|p| [p.x, p.y]);
        self.picked = plot_pick(ui, resp.hovered_plot_item, &pickable);
    }
}
