//! The plot tabs. [`series`] turns the selection into plain data (what the
//! tests check); [`PlotPanel::ui`] draws it with egui_plot.

use egui::{Color32, Ui};
use egui_plot::{ItemId, Legend, Line, LineStyle, Plot, PlotPoints, PlotTransform, Points, VLine};

use std::sync::Arc;

use crate::units::ETOK;

use super::selection::Selection;
use super::store::Store;
use super::widgets::{MarkerDrag, MarkerEvent, PlotPick, plot_pick};
use super::workspace::{Item, Processed};
use crate::xas::ChiQ;
use crate::xas::fourier::RParams;

/// The plot tabs (also `carto --plot NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotTab {
    /// μ(E) with the pre-edge line, post-edge curve and e0.
    Mu,
    /// Normalized (or flattened) μ(E).
    Norm,
    /// k-weighted χ(k) with the FT window.
    ChiK,
    /// |χ(R)| (optionally Re and Im).
    ChiR,
    /// Re χ(q): χ(R) back-transformed over the R window (Larch `xftr`).
    ChiQ,
}

impl PlotTab {
    pub const ALL: [PlotTab; 5] = [
        PlotTab::Mu,
        PlotTab::Norm,
        PlotTab::ChiK,
        PlotTab::ChiR,
        PlotTab::ChiQ,
    ];
    pub fn title(self) -> &'static str {
        match self {
            PlotTab::Mu => "μ(E)",
            PlotTab::Norm => "normalized μ(E)",
            PlotTab::ChiK => "χ(k)",
            PlotTab::ChiR => "|χ(R)|",
            PlotTab::ChiQ => "χ(q)",
        }
    }
    /// Axis names and units (x name, x unit, y name, y unit) for the axes
    /// and the cursor readout; `kweight` is the FT k-weight n.
    pub fn axes(self, kweight: f64) -> [String; 4] {
        let n = superscript(kweight);
        let n1 = superscript(kweight + 1.0);
        let v = match self {
            PlotTab::Mu => ["E", "eV", "μ(E)", ""].map(String::from),
            PlotTab::Norm => ["E", "eV", "normalized μ(E)", ""].map(String::from),
            PlotTab::ChiK => [
                "k".into(),
                "Å⁻¹".into(),
                format!("k{n}·χ(k)"),
                format!("Å⁻{n}"),
            ],
            PlotTab::ChiR => ["R".into(), "Å".into(), "|χ(R)|".into(), format!("Å⁻{n1}")],
            // Larch labels χ(q) with the k-weight's units: it is the
            // back-transform of kⁿ·χ(k)·W(k).
            PlotTab::ChiQ => ["q".into(), "Å⁻¹".into(), "Re χ(q)".into(), format!("Å⁻{n}")],
        };
        if kweight == 0.0 && self == PlotTab::ChiK {
            return ["k".into(), "Å⁻¹".into(), "χ(k)".into(), String::new()];
        }
        if kweight == 0.0 && self == PlotTab::ChiQ {
            return ["q".into(), "Å⁻¹".into(), "Re χ(q)".into(), String::new()];
        }
        v
    }
}

/// "²" for 2, "^2.5" for 2.5: the default fonts have superscript digits
/// but no superscript n or decimal point.
pub fn superscript(x: f64) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    if x.fract() == 0.0 && (0.0..100.0).contains(&x) {
        let s = format!("{}", x as u32);
        s.chars()
            .map(|c| c.to_digit(10).map_or(c, |d| DIGITS[d as usize]))
            .collect()
    } else {
        format!("^{x}")
    }
}

/// What a curve shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The spectrum itself (one legend entry per spectrum).
    Data,
    PreEdgeLine,
    PostEdgeCurve,
    /// A vertical marker at points[0][0].
    E0,
    FtWindow,
    /// The back-transform's R window on the χ(R) tab.
    RWindow,
    Real,
    Imag,
    /// kⁿ·χ(k) drawn under χ(q) for comparison (Athena's "plot in q").
    ChiK,
    /// A structure's closed-form χ(k) / |χ(R)| over the spectra
    /// (`Store::theory_overlay`), transformed as the active spectrum.
    Theory,
}

/// One curve of a plot, as plain data.
#[derive(Debug, Clone)]
pub struct Series {
    pub item: u64,
    pub name: String,
    pub role: Role,
    pub color: Color32,
    pub points: Vec<[f64; 2]>,
}

#[derive(Debug, Clone)]
pub struct PlotOptions {
    /// Normalized tab: flattened instead of plain normalized μ(E).
    pub flat: bool,
    /// χ(R) tab: also Re and Im.
    pub re_im: bool,
    pub show_window: bool,
    pub show_pre_post: bool,
    /// The back-transform to χ(q) (R window: rmin, rmax, dr, window).
    pub xftr: RParams,
    /// χ(R) tab: the R window, dashed.
    pub show_rwindow: bool,
    /// χ(q) tab: also kⁿ·χ(k), dashed.
    pub chik_in_q: bool,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            flat: false,
            re_im: false,
            show_window: true,
            show_pre_post: true,
            xftr: RParams::first_shell(),
            show_rwindow: true,
            chik_in_q: false,
        }
    }
}

/// χ(q) of one processed spectrum ([`crate::xas::process::chi_q`]).
pub fn chi_q(r: &Processed, p: &RParams) -> Result<ChiQ, String> {
    crate::xas::process::chi_q(r, p).map_err(|e| match e.xas_error() {
        Some(e) => format!("back-transform: {e}"),
        None => e.to_string(),
    })
}

/// A click on a plot, in plot units, with the visible span (to measure
/// nearness the way the eye does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotClick {
    pub x: f64,
    pub y: f64,
    pub x_span: f64,
    pub y_span: f64,
}

/// The measured points of a processed spectrum as `tab` draws them, each
/// with its energy (eV): μ(E), normalized μ(E), or χ(E) above e0 as
/// k·ⁿχ(k) against k (Athena deglitches χ in the same way). None for tabs
/// whose points are not measured points (χ(R)).
pub fn data_points(r: &Processed, tab: PlotTab, flat: bool) -> Option<(Vec<f64>, Vec<[f64; 2]>)> {
    let pre = r.pre.as_ref()?;
    let e = &pre.energy_ev;
    let pts = |y: &[f64]| e.iter().zip(y).map(|(&x, &y)| [x, y]).collect();
    match tab {
        PlotTab::Mu => Some((e.clone(), pts(&pre.mu))),
        PlotTab::Norm => Some((e.clone(), pts(if flat { &pre.flat } else { &pre.norm }))),
        PlotTab::ChiK => {
            let bkg = r.bkg.as_ref()?;
            let n = r.ft.kweight;
            let (energies, points) = bkg
                .energy_ev
                .iter()
                .zip(&bkg.chie)
                .filter(|(e, _)| **e > bkg.ek0)
                .map(|(&e, &c)| {
                    let k = (ETOK * (e - bkg.ek0)).sqrt();
                    (e, [k, c * k.powf(n)])
                })
                .unzip();
            Some((energies, points))
        }
        _ => None,
    }
}

/// The points drawn for deglitching: the active spectrum's, if it is
/// selected and processed.
pub fn deglitch_overlay(
    ws: &Store,
    sel: &Selection,
    tab: PlotTab,
    flat: bool,
) -> Option<Vec<[f64; 2]>> {
    let id = sel.active.filter(|id| sel.selected.contains(id))?;
    let r = ws.item(id)?.spectrum()?.result.as_ref()?;
    data_points(r, tab, flat).map(|(_, p)| p)
}

/// χ(q) of `item` with the R window `p`, through the workspace's cache:
/// the one place the GUI back-transforms, so nothing is recomputed while
/// neither the spectrum's result nor the window changes. None without a
/// result.
pub fn cached_chi_q(ws: &Store, item: &Item, p: &RParams) -> Option<Arc<Result<ChiQ, String>>> {
    let s = item.spectrum()?;
    let r = s.result.as_ref()?;
    let rev = s.computed_rev?;
    Some(ws.chiq.get(item.id, rev, p, || chi_q(r, p)))
}

/// The k-weight that names the axes: the first selected spectrum's (each
/// curve uses its own spectrum's FT k-weight).
pub fn axes_kweight(ws: &Store, sel: &Selection) -> f64 {
    ws.selected_spectra(sel)
        .first()
        .and_then(|i| i.spectrum())
        .and_then(|s| s.result.as_ref())
        .map_or(2.0, |r| r.ft.kweight)
}

/// kⁿ·χ(k) with the spectrum's FT k-weight.
fn k_weighted(r: &Processed) -> Vec<f64> {
    let n = r.ft.kweight;
    r.k_inv_ang
        .iter()
        .zip(&r.chi)
        .map(|(k, chi)| chi * k.powf(n))
        .collect()
}

fn zip(x: &[f64], y: &[f64]) -> Vec<[f64; 2]> {
    x.iter().zip(y).map(|(&x, &y)| [x, y]).collect()
}

/// The curves of one tab for every selected spectrum that has a result.
pub fn series(ws: &Store, sel: &Selection, tab: PlotTab, opt: &PlotOptions) -> Vec<Series> {
    let mut out = Vec::new();
    for item in ws.selected_spectra(sel) {
        let Some(r) = item.spectrum().and_then(|s| s.result.as_ref()) else {
            continue;
        };
        let mut add = |role: Role, name: String, color: Color32, points: Vec<[f64; 2]>| {
            out.push(Series {
                item: item.id,
                name,
                role,
                color,
                points,
            })
        };
        let c = item.color;
        let faint = c.gamma_multiply(0.6);
        match tab {
            PlotTab::Mu | PlotTab::Norm => {
                let Some(pre) = &r.pre else { continue };
                if tab == PlotTab::Mu {
                    add(
                        Role::Data,
                        item.name.clone(),
                        c,
                        zip(&pre.energy_ev, &pre.mu),
                    );
                    if opt.show_pre_post {
                        add(
                            Role::PreEdgeLine,
                            format!("{} pre-edge", item.name),
                            faint,
                            zip(&pre.energy_ev, &pre.pre_edge),
                        );
                        add(
                            Role::PostEdgeCurve,
                            format!("{} post-edge", item.name),
                            faint,
                            zip(&pre.energy_ev, &pre.post_edge),
                        );
                    }
                } else {
                    let y = if opt.flat { &pre.flat } else { &pre.norm };
                    add(Role::Data, item.name.clone(), c, zip(&pre.energy_ev, y));
                }
                add(
                    Role::E0,
                    format!("{} e0", item.name),
                    faint,
                    vec![[pre.e0, 0.0]],
                );
            }
            PlotTab::ChiK => {
                let y = k_weighted(r);
                let ymax = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                add(Role::Data, item.name.clone(), c, zip(&r.k_inv_ang, &y));
                if opt.show_window && !r.chir.kwin.is_empty() {
                    // The window lives on the FT's uniform k grid (kstep).
                    let w: Vec<[f64; 2]> = r
                        .chir
                        .kwin
                        .iter()
                        .enumerate()
                        .map(|(i, w)| [i as f64 * r.ft.kstep, w * ymax])
                        .filter(|p| p[0] <= r.k_inv_ang.last().copied().unwrap_or(0.0))
                        .collect();
                    add(Role::FtWindow, format!("{} window", item.name), faint, w);
                }
            }
            PlotTab::ChiR => {
                add(
                    Role::Data,
                    item.name.clone(),
                    c,
                    zip(&r.chir.r_ang, &r.chir.chir_mag),
                );
                if opt.re_im {
                    add(
                        Role::Real,
                        format!("{} Re", item.name),
                        faint,
                        zip(&r.chir.r_ang, &r.chir.chir_re),
                    );
                    add(
                        Role::Imag,
                        format!("{} Im", item.name),
                        faint,
                        zip(&r.chir.r_ang, &r.chir.chir_im),
                    );
                }
                if opt.show_rwindow
                    && let Some(q) = cached_chi_q(ws, item, &opt.xftr)
                    && let Ok(q) = q.as_ref()
                {
                    let ymax = r.chir.chir_mag.iter().fold(0.0f64, |m, v| m.max(*v));
                    let w: Vec<[f64; 2]> = r
                        .chir
                        .r_ang
                        .iter()
                        .zip(&q.rwin)
                        .map(|(&x, w)| [x, w * ymax])
                        .collect();
                    add(Role::RWindow, format!("{} R window", item.name), faint, w);
                }
            }
            PlotTab::ChiQ => {
                // A failing back-transform (an impossible window) leaves
                // the spectrum out; the tab's option bar says why.
                let Some(q) = cached_chi_q(ws, item, &opt.xftr) else {
                    continue;
                };
                let Ok(q) = q.as_ref() else { continue };
                add(
                    Role::Data,
                    item.name.clone(),
                    c,
                    zip(&q.q_inv_ang, &q.chiq_re),
                );
                if opt.chik_in_q {
                    add(
                        Role::ChiK,
                        format!("{} k-weighted χ(k)", item.name),
                        faint,
                        zip(&r.k_inv_ang, &k_weighted(r)),
                    );
                }
            }
        }
    }
    theory_series(ws, sel, tab, &mut out);
    out
}

/// The theory overlay on the χ(k) and χ(R) tabs, with the k-weight and
/// transform of the active (else first selected) processed spectrum.
fn theory_series(ws: &Store, sel: &Selection, tab: PlotTab, out: &mut Vec<Series>) {
    let Some(t) = &ws.theory_overlay else { return };
    let spectra = ws.selected_spectra(sel);
    let active = (spectra.iter())
        .find(|i| Some(i.id) == sel.active)
        .or(spectra.first());
    let Some(r) = active
        .and_then(|i| i.spectrum())
        .and_then(|s| s.result.as_ref())
    else {
        return;
    };
    let name = format!("{} (closed-form)", t.name);
    let color = Color32::from_rgb(150, 150, 150);
    let points = match tab {
        PlotTab::ChiK => t
            .k_inv_ang
            .iter()
            .zip(&t.chi)
            .filter(|(k, _)| **k <= r.ft.kmax + 1.0)
            .map(|(k, c)| [*k, c * k.powf(r.ft.kweight)])
            .collect(),
        PlotTab::ChiR => match t.chir(&r.ft) {
            Some(pts) => pts.as_ref().clone(),
            None => return,
        },
        _ => return,
    };
    out.push(Series {
        item: 0,
        name,
        role: Role::Theory,
        color,
        points,
    });
}

/// What the plot asks the app to do after drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlotAction {
    None,
    /// The active spectrum's e0 marker was dragged here (eV).
    SetE0(f64),
    /// A curve or its legend entry was right-clicked: select its item.
    Select(PlotPick),
}

// The e0 marker is grabbed as every dragged marker is (within
// `widgets::MARKER_GRAB_DISTANCE` points).
pub use super::widgets::grabs_marker;

#[derive(Debug)]
pub struct PlotPanel {
    pub tab: PlotTab,
    pub options: PlotOptions,
    /// Cursor position in plot units, for the readout.
    pub cursor: Option<[f64; 2]>,
    /// Deglitch mode: the active spectrum's points are drawn and a click
    /// on one is reported in `clicked`.
    pub deglitch: bool,
    /// A click on the plot in deglitch mode (taken by the app).
    pub clicked: Option<PlotClick>,
    reset_view: bool,
    /// The plot's screen ↔ plot mapping of the last frame (where the e0
    /// marker is on screen before this frame's plot is built).
    transform: Option<PlotTransform>,
    /// The active spectrum's e0 marker, dragged by the mouse.
    e0_marker: MarkerDrag,
}

impl Default for PlotPanel {
    fn default() -> Self {
        PlotPanel {
            tab: PlotTab::Mu,
            options: PlotOptions::default(),
            cursor: None,
            deglitch: false,
            clicked: None,
            reset_view: false,
            transform: None,
            e0_marker: MarkerDrag::default(),
        }
    }
}

impl PlotPanel {
    /// The plot's mapping between screen and plot coordinates, as drawn in
    /// the last frame (None before the first plot).
    pub fn transform(&self) -> Option<PlotTransform> {
        self.transform
    }

    /// The plot area on screen in the last frame (points).
    pub fn plot_rect(&self) -> Option<egui::Rect> {
        self.transform.map(|t| *t.frame())
    }

    /// True while the e0 marker is being dragged.
    pub fn dragging_e0(&self) -> bool {
        self.e0_marker.held().is_some()
    }

    pub fn ui(&mut self, ui: &mut Ui, ws: &Store, sel: &Selection) -> PlotAction {
        ui.horizontal_wrapped(|ui| {
            for t in PlotTab::ALL {
                if ui.selectable_label(self.tab == t, t.title()).clicked() && self.tab != t {
                    self.tab = t;
                    self.reset_view = true;
                }
            }
            ui.separator();
            match self.tab {
                PlotTab::Mu => {
                    ui.checkbox(&mut self.options.show_pre_post, "pre/post-edge lines");
                }
                PlotTab::Norm => {
                    ui.checkbox(&mut self.options.flat, "flattened");
                }
                PlotTab::ChiK => {
                    ui.checkbox(&mut self.options.show_window, "FT window");
                }
                PlotTab::ChiR => {
                    ui.checkbox(&mut self.options.re_im, "Re / Im");
                    ui.checkbox(&mut self.options.show_rwindow, "R window");
                    r_window_ui(ui, &mut self.options.xftr);
                }
                PlotTab::ChiQ => {
                    ui.checkbox(&mut self.options.chik_in_q, "k-weighted χ(k)")
                        .on_hover_text("Also the k-weighted χ(k), dashed (Athena's plot in q)");
                    r_window_ui(ui, &mut self.options.xftr);
                }
            }
            if matches!(self.tab, PlotTab::Mu | PlotTab::Norm | PlotTab::ChiK) {
                ui.toggle_value(&mut self.deglitch, "deglitch")
                    .on_hover_text(
                        "Click a point of the active spectrum to remove it (Ctrl+Z undoes)",
                    );
            }
            if ui
                .button("Reset view")
                .on_hover_text(
                    "Or double-click the plot. Drag: pan · wheel: zoom · right-drag: box zoom",
                )
                .clicked()
            {
                self.reset_view = true;
            }
        });
        let all = series(ws, sel, self.tab, &self.options);
        let [xn, xu, yn, yu] = self.tab.axes(axes_kweight(ws, sel));
        let unit = |u: &str| {
            if u.is_empty() {
                String::new()
            } else {
                format!(" ({u})")
            }
        };
        let readout = match self.cursor {
            Some([x, y]) => format!("{xn} = {x:.3} {xu}   {yn} = {y:.4}{}", unit_suffix(&yu)),
            None => "(move the cursor over the plot for a readout)".to_string(),
        };
        ui.label(readout);
        if self.tab == PlotTab::ChiQ
            && let Some(e) = ws
                .selected_spectra(sel)
                .iter()
                .filter_map(|i| cached_chi_q(ws, i, &self.options.xftr))
                .find_map(|q| q.as_ref().as_ref().err().cloned())
        {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }

        if all.is_empty() {
            ui.centered_and_justified(|ui| {
                ui.label(
                    "Select one or more spectra in the workspace (ctrl/shift-click for several).",
                );
            });
            self.cursor = None;
            self.transform = None;
            self.e0_marker.reset();
            return PlotAction::None;
        }
        // The active spectrum's e0 marker can be dragged (μ(E), normalized).
        let active_e0 = sel.active.and_then(|id| {
            all.iter()
                .find(|s| s.item == id && s.role == Role::E0)
                .and_then(|s| s.points.first())
                .map(|p| p[0])
        });
        let e0s: Vec<f64> = active_e0.into_iter().collect();
        let mut plot = Plot::new(("plot", self.tab as u8))
            .legend(Legend::default())
            .x_axis_label(format!("{xn}{}", unit(&xu)))
            .y_axis_label(format!("{yn}{}", unit(&yu)))
            .allow_boxed_zoom(true)
            .allow_double_click_reset(true);
        if std::mem::take(&mut self.reset_view) {
            plot = plot.reset();
        }
        let overlay = if self.deglitch {
            deglitch_overlay(ws, sel, self.tab, self.options.flat)
        } else {
            None
        };
        if self.deglitch {
            ui.label(
                egui::RichText::new(if overlay.is_some() {
                    "Deglitch: click a point of the active spectrum to remove it (Ctrl+Z undoes)"
                } else {
                    "Deglitch: show μ(E), normalized or χ(k) with the active spectrum selected"
                })
                .color(ui.visuals().warn_fg_color),
            );
        }
        let warn = ui.visuals().warn_fg_color;
        // While the marker is held the drag moves it, not the view.
        let plot = self.e0_marker.plot(ui, plot, &e0s);
        // Every curve but the e0 markers picks its spectrum (right-click).
        let pickable: Vec<(ItemId, u64)> = (all.iter())
            .filter(|s| s.role != Role::E0 && s.role != Role::Theory)
            .map(|s| (ItemId::new((s.item, s.role as u8)), s.item))
            .collect();
        let resp = plot.show(ui, |pui| {
            if let Some(points) = overlay {
                pui.points(
                    Points::new("", points)
                        .id("deglitch-points")
                        .radius(2.5)
                        .color(warn),
                );
            }
            let bounds = pui.plot_bounds();
            let click = (pui.response().clicked())
                .then(|| pui.pointer_coordinate())
                .flatten()
                .map(|p| PlotClick {
                    x: p.x,
                    y: p.y,
                    x_span: bounds.width(),
                    y_span: bounds.height(),
                });
            for s in all {
                match s.role {
                    Role::E0 => {
                        if let Some(p) = s.points.first() {
                            // Empty name: markers stay out of the legend.
                            pui.vline(
                                VLine::new("", p[0])
                                    .id((s.item, s.role as u8))
                                    .color(s.color)
                                    .style(LineStyle::dashed_loose()),
                            );
                        }
                    }
                    role => {
                        let mut line = Line::new(
                            if matches!(role, Role::Data | Role::Theory) {
                                s.name
                            } else {
                                String::new()
                            },
                            PlotPoints::new(s.points),
                        )
                        .id((s.item, role as u8))
                        .color(s.color);
                        line = match role {
                            Role::Data => line.width(1.5),
                            Role::Imag | Role::FtWindow | Role::RWindow | Role::ChiK => {
                                line.style(LineStyle::dashed_dense())
                            }
                            Role::Theory => line.width(1.5).style(LineStyle::dashed_loose()),
                            _ => line.width(1.0),
                        };
                        pui.line(line);
                    }
                }
            }
            (pui.pointer_coordinate(), click)
        });
        self.transform = Some(resp.transform);
        let dragging = self.e0_marker.held().is_some();
        let marker = self.e0_marker.response(ui, &resp, &e0s);
        let (cursor, click) = resp.inner;
        self.cursor = cursor.map(|p| [p.x, p.y]);
        if self.deglitch && click.is_some() && !dragging {
            self.clicked = click;
        }
        match marker {
            MarkerEvent::Moving(_, x) | MarkerEvent::Dropped(_, x) if Some(x) != active_e0 => {
                PlotAction::SetE0(x)
            }
            _ if dragging => PlotAction::None,
            _ => match plot_pick(ui, resp.hovered_plot_item, &pickable) {
                Some(pick) => PlotAction::Select(pick),
                None => PlotAction::None,
            },
        }
    }
}

/// The back-transform's R window (Larch `xftr` rmin, rmax, dr, window),
/// shared by the χ(R) tab (where it is drawn) and the χ(q) tab.
fn r_window_ui(ui: &mut Ui, p: &mut RParams) {
    ui.separator();
    ui.label("R window:");
    for (name, v) in [("rmin", &mut p.rmin), ("rmax", &mut p.rmax)] {
        let l = ui.label(name);
        ui.add(
            egui::DragValue::new(v)
                .speed(0.01)
                .range(0.0..=30.0)
                .suffix(" Å"),
        )
        .labelled_by(l.id);
    }
    let l = ui.label("dr");
    ui.add(
        egui::DragValue::new(&mut p.dr)
            .speed(0.01)
            .range(0.0..=10.0)
            .suffix(" Å"),
    )
    .labelled_by(l.id);
    let l = ui.label("window");
    egui::ComboBox::from_id_salt("r_window")
        .selected_text(p.window.name())
        .show_ui(ui, |ui| {
            for (w, n) in super::params::WINDOWS {
                ui.selectable_value(&mut p.window, w, n);
            }
        })
        .response
        .labelled_by(l.id);
}

fn unit_suffix(u: &str) -> String {
    if u.is_empty() {
        String::new()
    } else {
        format!(" {u}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_e0_marker_is_grabbed_within_six_points() {
        assert!(grabs_marker(100.0, 100.0));
        assert!(grabs_marker(94.0, 100.0) && grabs_marker(106.0, 100.0));
        assert!(!grabs_marker(93.5, 100.0) && !grabs_marker(106.5, 100.0));
    }

    #[test]
    fn superscripts_for_axis_units() {
        assert_eq!(superscript(2.0), "²");
        assert_eq!(superscript(3.0), "³");
        assert_eq!(superscript(10.0), "¹⁰");
        assert_eq!(superscript(2.5), "^2.5");
        assert_eq!(PlotTab::ChiK.axes(2.0)[2], "k²·χ(k)");
        assert_eq!(PlotTab::ChiR.axes(2.0)[3], "Å⁻³");
        assert_eq!(PlotTab::ChiK.axes(0.0)[2], "χ(k)");
    }
}
