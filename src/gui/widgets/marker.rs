//! Vertical markers on an egui_plot plot that the mouse moves along x (the
//! Spectra plots' e0, the XANES view's pre-edge peak starts): a press near a
//! marker holds it and the plot does not pan while it is held. Editable
//! markers also come and go: double-click adds one, right-click on one
//! removes it.
//!
//! Which marker a press grabs is decided before the plot is built, from the
//! plot's screen mapping of the last frame (once the plot has seen the
//! press it has started panning).

use egui::Ui;
use egui_plot::{Plot, PlotResponse, PlotTransform};

/// How close (in points) the pointer must be to a marker to grab it.
pub const MARKER_GRAB_DISTANCE: f32 = 6.0;

/// Whether a pointer at screen x `pointer_x` grabs a marker drawn at
/// screen x `marker_x`.
pub fn grabs_marker(pointer_x: f32, marker_x: f32) -> bool {
    (pointer_x - marker_x).abs() <= MARKER_GRAB_DISTANCE
}

/// What the mouse did to the markers this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarkerEvent {
    None,
    /// Marker `.0` is held and the pointer is at x = `.1` (plot units).
    Moving(usize, f64),
    /// Marker `.0` was let go after moving, at x = `.1` (where the last
    /// `Moving` put it): the drag is over.
    Dropped(usize, f64),
    /// A double-click away from every marker, at x = `.0`.
    Add(f64),
    /// A right-click on marker `.0`.
    Remove(usize),
}

/// The drag state of one plot's markers (kept by the view between frames).
/// `default()` markers only move (double-click and right-click keep the
/// plot's own meaning); [`MarkerDrag::editable`] ones also come and go.
#[derive(Debug, Default, Clone)]
pub struct MarkerDrag {
    /// The plot's screen ↔ plot mapping in the last frame.
    transform: Option<PlotTransform>,
    /// The marker held by the mouse, and whether it has moved.
    held: Option<(usize, bool)>,
    /// Double-click adds a marker, right-click removes one.
    editable: bool,
}

impl MarkerDrag {
    /// Markers that double-click adds and right-click removes.
    pub fn editable() -> Self {
        MarkerDrag {
            editable: true,
            ..Self::default()
        }
    }

    /// The plot's mapping in the last frame (None before it was drawn).
    pub fn transform(&self) -> Option<PlotTransform> {
        self.transform
    }

    /// The marker being dragged.
    pub fn held(&self) -> Option<usize> {
        self.held.map(|(k, _)| k)
    }

    /// Forget the plot (it is not drawn this frame).
    pub fn reset(&mut self) {
        self.transform = None;
        self.held = None;
    }

    /// The marker of `xs` (plot x) under a screen x, by the last frame's
    /// mapping.
    fn under(t: &PlotTransform, xs: &[f64], screen_x: f32) -> Option<usize> {
        xs.iter()
            .enumerate()
            .map(|(k, &x)| (k, (t.position_from_point_x(x) - screen_x).abs()))
            .filter(|&(_, d)| d <= MARKER_GRAB_DISTANCE)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    }

    /// Before the plot is shown: a press near a marker of `xs` grabs it.
    /// Returns `plot` with panning off while a marker is held and, for
    /// editable markers, the double-click reset off (a double-click adds a
    /// marker).
    pub fn plot<'a>(&mut self, ui: &Ui, plot: Plot<'a>, xs: &[f64]) -> Plot<'a> {
        let (pointer, pressed) =
            ui.input(|i| (i.pointer.interact_pos(), i.pointer.primary_pressed()));
        let near = match (self.transform, pointer) {
            (Some(t), Some(p)) if ui.rect_contains_pointer(*t.frame()) => Self::under(&t, xs, p.x),
            _ => None,
        };
        // (The release is seen by `response`, which ends the drag.)
        if pressed && let Some(k) = near {
            self.held = Some((k, false));
        }
        if self.held.is_some_and(|(k, _)| k >= xs.len()) {
            self.held = None;
        }
        if near.is_some() || self.held.is_some() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        let plot = if self.editable {
            plot.allow_double_click_reset(false)
        } else {
            plot
        };
        if self.held.is_some() {
            plot.allow_drag(false)
        } else {
            plot
        }
    }

    /// After the plot is shown: where the held marker is, or what a
    /// release, double-click or right-click did.
    pub fn response<R>(&mut self, ui: &Ui, resp: &PlotResponse<R>, xs: &[f64]) -> MarkerEvent {
        let t = resp.transform;
        self.transform = Some(t);
        // From the pointer itself: egui_plot's pointer_coordinate takes the
        // drag delta off, for a view that pans with the drag.
        let (latest, down) = ui.input(|i| (i.pointer.latest_pos(), i.pointer.primary_down()));
        let x = latest
            .map(|p| t.value_from_position(p).x)
            .filter(|x| x.is_finite());
        if let Some((k, moved)) = self.held {
            if !down {
                // Let go where the last move put it (the plot's frame may
                // have moved since, e.g. its axis labels widened).
                self.held = None;
                return match xs.get(k) {
                    Some(&x) if moved => MarkerEvent::Dropped(k, x),
                    _ => MarkerEvent::None,
                };
            }
            return match x {
                Some(x) if xs.get(k) != Some(&x) => {
                    self.held = Some((k, true));
                    MarkerEvent::Moving(k, x)
                }
                _ => MarkerEvent::None,
            };
        }
        if !self.editable {
            return MarkerEvent::None;
        }
        let near = latest.and_then(|p| Self::under(&t, xs, p.x));
        if resp.response.secondary_clicked()
            && let Some(k) = near
        {
            return MarkerEvent::Remove(k);
        }
        if resp.response.double_clicked()
            && near.is_none()
            && let Some(x) = x
        {
            return MarkerEvent::Add(x);
        }
        MarkerEvent::None
    }
}
