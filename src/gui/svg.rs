//! The Spectra view's current plot as an SVG file: the same curves the
//! screen shows (plain data from [`super::plots::series`]), axes with
//! ticks and units, and a legend of the spectra.

use std::fmt::Write as _;

use super::plots::{Role, Series};

const W: f64 = 900.0;
const H: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// "Nice" tick positions covering [lo, hi] (1, 2, 5 × 10ⁿ steps).
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-300);
    let raw = span / 6.0;
    let p = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn color(c: egui::Color32) -> String {
    format!("#{:02x}{:02x}{:02x}", c.r(), c.g(), c.b())
}

/// The SVG document of `series` with axis labels `x_label`, `y_label`
/// (names with units) and a title.
pub fn plot_svg(series: &[Series], title: &str, x_label: &str, y_label: &str) -> String {
    let pts = series
        .iter()
        .filter(|s| s.role != Role::E0)
        .flat_map(|s| s.points.iter())
        .filter(|p| p[0].is_finite() && p[1].is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in pts {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    if !(x0.is_finite() && x1 > x0) {
        (x0, x1) = (0.0, 1.0);
    }
    if !(y0.is_finite() && y1 > y0) {
        (y0, y1) = (0.0, 1.0);
    }
    let pad = 0.05 * (y1 - y0);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| TOP + (y1 - y) / (y1 - y0) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    // Axes box, ticks and labels.
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    for t in ticks(x0, x1) {
        let x = sx(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            TOP + ph,
            TOP + ph + 5.0,
            TOP + ph + 20.0,
            fmt_tick(t)
        );
    }
    for t in ticks(y0, y1) {
        let y = sy(t);
        let _ = writeln!(
            s,
            r##"<line x1="{}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#333"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 5.0,
            LEFT - 8.0,
            y + 4.0,
            fmt_tick(t)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        H - 15.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{}" text-anchor="middle" transform="rotate(-90 18 {})">{}</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        esc(y_label)
    );
    // Curves, clipped to the axes box.
    let _ = writeln!(
        s,
        r#"<clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}"/></clipPath><g clip-path="url(#plot)" fill="none">"#
    );
    for c in series {
        let dash = match c.role {
            Role::Data => "",
            Role::E0 | Role::FtWindow | Role::RWindow => r#" stroke-dasharray="6 4""#,
            _ => r#" stroke-dasharray="2 3""#,
        };
        if c.role == Role::E0 {
            if let Some(p) = c.points.first() {
                let x = sx(p[0]);
                let _ = writeln!(
                    s,
                    r#"<line x1="{x:.2}" y1="{TOP}" x2="{x:.2}" y2="{}" stroke="{}"{dash}/>"#,
                    TOP + ph,
                    color(c.color)
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
            let _ = write!(d, "{:.2},{:.2} ", sx(p[0]), sy(p[1]));
        }
        let _ = writeln!(
            s,
            r#"<polyline data-name="{}" points="{}" stroke="{}" stroke-width="{}"{dash}/>"#,
            esc(&c.name),
            d.trim_end(),
            color(c.color),
            if c.role == Role::Data { 1.6 } else { 1.0 }
        );
    }
    let _ = writeln!(s, "</g>");
    // Legend: one entry per spectrum.
    let mut y = TOP + 16.0;
    for c in series.iter().filter(|c| c.role == Role::Data) {
        let x = LEFT + pw - 190.0;
        let _ = writeln!(
            s,
            r#"<line x1="{x}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"/><text x="{}" y="{y}">{}</text>"#,
            y - 4.0,
            x + 22.0,
            y - 4.0,
            color(c.color),
            x + 28.0,
            esc(&c.name)
        );
        y += 18.0;
    }
    s.push_str("</svg>\n");
    s
}

fn fmt_tick(t: f64) -> String {
    let a = t.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{t:.1e}")
    } else {
        let s = format!("{t:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(8950.0, 9400.0);
        assert!(
            t.iter().all(|v| (v / 50.0).fract() == 0.0) && t.len() >= 4,
            "{t:?}"
        );
        assert_eq!(fmt_tick(-0.0), "0");
        assert_eq!(fmt_tick(2.5), "2.5");
    }
}
