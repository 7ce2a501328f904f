//! The Spectra view's current plot as an SVG file: the same curves the
//! screen shows (plain data from [`super::plots::series`]), axes with
//! ticks and units, and a legend of the spectra.

use std::fmt::Write as _;

use super::plots::{Role, Series};
use crate::svg::{Frame, Rgb, esc, range_of};

fn rgb(c: egui::Color32) -> Rgb {
    [c.r(), c.g(), c.b()]
}

/// The SVG document of `series` with axis labels `x_label`, `y_label`
/// (names with units) and a title.
pub fn plot_svg(series: &[Series], title: &str, x_label: &str, y_label: &str) -> String {
    let pts = || {
        series
            .iter()
            .filter(|s| s.role != Role::E0)
            .flat_map(|s| s.points.iter())
            .filter(|p| p[0].is_finite() && p[1].is_finite())
    };
    let x = range_of(pts().map(|p| p[0]));
    let (y0, y1) = range_of(pts().map(|p| p[1]));
    let pad = 0.05 * (y1 - y0);
    let mut f = Frame::new(title, x_label, y_label, x, (y0 - pad, y1 + pad));
    // Curves, clipped to the axes box.
    f.open_clip(r#" fill="none""#);
    let (top, bottom) = (f.sy(y1 + pad), f.sy(y0 - pad));
    for c in series {
        let dash = match c.role {
            Role::Data => "",
            Role::E0 | Role::FtWindow | Role::RWindow => r#" stroke-dasharray="6 4""#,
            _ => r#" stroke-dasharray="2 3""#,
        };
        let color = crate::svg::hex(rgb(c.color));
        if c.role == Role::E0 {
            if let Some(p) = c.points.first() {
                let x = f.sx(p[0]);
                let _ = writeln!(
                    f.doc,
                    r#"<line x1="{x:.2}" y1="{top}" x2="{x:.2}" y2="{bottom}" stroke="{color}"{dash}/>"#,
                );
            }
            continue;
        }
        let mut d = String::new();
        for p in c
            .points
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
        {
            let _ = write!(d, "{:.2},{:.2} ", f.sx(p[0]), f.sy(p[1]));
        }
        let _ = writeln!(
            f.doc,
            r#"<polyline data-name="{}" points="{}" stroke="{color}" stroke-width="{}"{dash}/>"#,
            esc(&c.name),
            d.trim_end(),
            if c.role == Role::Data { 1.6 } else { 1.0 }
        );
    }
    let _ = writeln!(f.doc, "</g>");
    // Legend: one entry per spectrum.
    let entries: Vec<(String, Rgb)> = (series.iter())
        .filter(|c| c.role == Role::Data)
        .map(|c| (c.name.clone(), rgb(c.color)))
        .collect();
    f.legend(&entries, true);
    f.finish()
}
