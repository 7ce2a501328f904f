//! SVG documents of plots without a window: axes with "nice" ticks and
//! units, clipped curves ([`crate::gui`]'s Spectra export) and scatters
//! (the map, from the Map view and `carto map --svg`). Plain text, no
//! rendering library.

use std::fmt::Write as _;

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// Tableau 10: the colours items take in turn in every view (tells
/// neighbours apart on a white plot).
pub const TABLEAU10: [Rgb; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// Candidate structures on the map.
pub const CANDIDATE_RGB: Rgb = [140, 140, 140];

/// The map's colour of a measurement's modality (`xrd`, `exafs`,
/// `xanes`); candidates and anything else grey.
pub fn modality_rgb(modality: &str) -> Rgb {
    match modality {
        "xrd" => TABLEAU10[0],
        "exafs" => TABLEAU10[1],
        "xanes" => TABLEAU10[2],
        _ => CANDIDATE_RGB,
    }
}

/// A colour on a sequential scale for `t` in 0…1 (viridis, linear
/// between 5 of its stops: dark for low values, yellow for high).
pub fn sequential_rgb(t: f64) -> Rgb {
    const STOPS: [Rgb; 5] = [
        [68, 1, 84],
        [59, 82, 139],
        [33, 145, 140],
        [94, 201, 98],
        [253, 231, 37],
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |u: u8, v: u8| (f64::from(u) + f * (f64::from(v) - f64::from(u))).round() as u8;
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

pub const W: f64 = 900.0;
pub const H: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// "Nice" tick positions covering [lo, hi] (1, 2, 5 × 10ⁿ steps).
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
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

/// Text escaped for SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `#rrggbb`.
pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// A tick label: short, no trailing zeros, exponent outside 1e-3…1e5.
pub fn fmt_tick(t: f64) -> String {
    let a = t.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{t:.1e}")
    } else {
        let s = format!("{t:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" { "0".into() } else { s.to_string() }
    }
}

/// The range of the finite values of `v`, widened when empty or flat.
pub fn range_of(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v.filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi <= lo {
        return (lo - 0.5, hi + 0.5);
    }
    (lo, hi)
}

/// A document with its title, axes box, ticks and labels for data in
/// `x` × `y`: map data to the page with [`Frame::sx`], [`Frame::sy`];
/// draw inside [`Frame::open_clip`] … `</g>`; close with [`Frame::finish`].
pub struct Frame {
    pub doc: String,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    pub fn new(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Frame {
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
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
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        let f = Frame { doc: s, x, y };
        let mut s = String::new();
        for t in ticks(x.0, x.1) {
            let px = f.sx(t);
            let _ = writeln!(
                s,
                r##"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="#333"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
                TOP + ph,
                TOP + ph + 5.0,
                TOP + ph + 20.0,
                fmt_tick(t)
            );
        }
        for t in ticks(y.0, y.1) {
            let py = f.sy(t);
            let _ = writeln!(
                s,
                r##"<line x1="{}" y1="{py:.1}" x2="{LEFT}" y2="{py:.1}" stroke="#333"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT - 5.0,
                LEFT - 8.0,
                py + 4.0,
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
        let mut f = f;
        f.doc += &s;
        f
    }

    pub fn sx(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (W - LEFT - RIGHT)
    }

    pub fn sy(&self, y: f64) -> f64 {
        TOP + (self.y.1 - y) / (self.y.1 - self.y.0) * (H - TOP - BOTTOM)
    }

    /// Start a group clipped to the axes box (close it with `</g>`).
    pub fn open_clip(&mut self, attrs: &str) {
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let _ = writeln!(
            self.doc,
            r#"<clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}"/></clipPath><g clip-path="url(#plot)"{attrs}>"#
        );
    }

    /// A legend in the top right corner: a swatch (`line` or a dot) and a
    /// name per entry.
    pub fn legend(&mut self, entries: &[(String, Rgb)], line: bool) {
        let mut y = TOP + 16.0;
        let x = W - RIGHT - 190.0;
        for (name, c) in entries {
            let swatch = if line {
                format!(
                    r#"<line x1="{x}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"/>"#,
                    y - 4.0,
                    x + 22.0,
                    y - 4.0,
                    hex(*c)
                )
            } else {
                format!(
                    r#"<circle cx="{}" cy="{}" r="5" fill="{}"/>"#,
                    x + 11.0,
                    y - 4.0,
                    hex(*c)
                )
            };
            let _ = writeln!(
                self.doc,
                r#"{swatch}<text x="{}" y="{y}">{}</text>"#,
                x + 28.0,
                esc(name)
            );
            y += 18.0;
        }
    }

    pub fn finish(mut self) -> String {
        self.doc.push_str("</svg>\n");
        self.doc
    }
}

/// How a scatter series marks its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Diamond,
}

/// Points of one colour and marker, one legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterSeries {
    pub name: String,
    pub rgb: Rgb,
    pub marker: Marker,
    pub points: Vec<[f64; 2]>,
}

/// The SVG document of a scatter plot (5 % margin around the points).
pub fn scatter_svg(series: &[ScatterSeries], title: &str, x_label: &str, y_label: &str) -> String {
    let all = || series.iter().flat_map(|s| s.points.iter());
    let pad = |(lo, hi): (f64, f64)| {
        let m = 0.05 * (hi - lo);
        (lo - m, hi + m)
    };
    let x = pad(range_of(all().map(|p| p[0])));
    let y = pad(range_of(all().map(|p| p[1])));
    let mut f = Frame::new(title, x_label, y_label, x, y);
    f.open_clip("");
    for s in series {
        let _ = writeln!(
            f.doc,
            r#"<g data-name="{}" fill="{}" fill-opacity="0.85">"#,
            esc(&s.name),
            hex(s.rgb)
        );
        for p in s
            .points
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
        {
            let (px, py) = (f.sx(p[0]), f.sy(p[1]));
            let _ = match s.marker {
                Marker::Circle => writeln!(f.doc, r#"<circle cx="{px:.1}" cy="{py:.1}" r="4"/>"#),
                Marker::Diamond => writeln!(
                    f.doc,
                    r#"<polygon points="{px:.1},{:.1} {:.1},{py:.1} {px:.1},{:.1} {:.1},{py:.1}"/>"#,
                    py - 4.0,
                    px + 4.0,
                    py + 4.0,
                    px - 4.0
                ),
            };
        }
        f.doc.push_str("</g>\n");
    }
    f.doc.push_str("</g>\n");
    let entries: Vec<(String, Rgb)> = series.iter().map(|s| (s.name.clone(), s.rgb)).collect();
    f.legend(&entries, false);
    f.finish()
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

    #[test]
    fn scatter_has_every_finite_point_and_a_legend() {
        let s = [
            ScatterSeries {
                name: "XRD <lab>".into(),
                rgb: TABLEAU10[0],
                marker: Marker::Circle,
                points: vec![[0.0, 0.0], [1.0, 2.0], [f64::NAN, 1.0]],
            },
            ScatterSeries {
                name: "structures".into(),
                rgb: CANDIDATE_RGB,
                marker: Marker::Diamond,
                points: vec![[0.5, 1.0]],
            },
        ];
        let doc = scatter_svg(&s, "map", "map x", "map y");
        assert_eq!(
            doc.matches("<circle cx").count(),
            2 + 2,
            "2 points + 2 legend dots"
        );
        assert_eq!(doc.matches("<polygon points").count(), 1);
        assert!(doc.contains("XRD &lt;lab&gt;") && doc.contains("#1f77b4"));
        assert!(doc.starts_with("<svg") && doc.trim_end().ends_with("</svg>"));
        // Nothing to plot still gives a valid document.
        assert!(scatter_svg(&[], "empty", "x", "y").contains("</svg>"));
    }

    #[test]
    fn sequential_scale_runs_dark_to_yellow() {
        assert_eq!(sequential_rgb(0.0), [68, 1, 84]);
        assert_eq!(sequential_rgb(1.0), [253, 231, 37]);
        assert_eq!(sequential_rgb(0.5), [33, 145, 140]);
        assert_eq!(sequential_rgb(f64::NAN), [68, 1, 84]);
        assert_eq!(sequential_rgb(7.0), [253, 231, 37]);
    }
}
