//! Measured powder-pattern readers (issue #6) on the real files in
//! `xrd/` (Dioptas, powdR, RockJock) and on fixtures written from the
//! public format descriptions for the formats the data lacks.
//!
//! Long on purpose: every file in tests/ is its own test binary that links
//! the whole crate (~300 MB with debug info), so one binary per area keeps
//! the build and CI's link time down; the tests inside are independent.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use carto::ParseError;
use carto::io::xrd::{
    self, JcpdsCard, PatternFormat, XrdPattern, bruker_raw, d_from_two_theta, q_from_two_theta,
    read_jcpds, read_jcpds_bytes, read_pattern, read_pattern_bytes, two_theta_from_d,
    two_theta_from_q,
};
use common::{data, data_files, fixture};

fn pattern(path: &Path) -> XrdPattern {
    read_pattern(path).unwrap_or_else(|e| panic!("{e}"))
}

fn bytes_pattern(bytes: &[u8], name: &str) -> XrdPattern {
    read_pattern_bytes(bytes, name, None).unwrap_or_else(|e| panic!("{e}"))
}

fn bytes_error(bytes: &[u8], name: &str) -> ParseError {
    match read_pattern_bytes(bytes, name, None) {
        Ok(p) => panic!(
            "{name} read as {} with {} points but must fail",
            p.source_format,
            p.npts()
        ),
        Err(e) => e,
    }
}

fn card(name: &str) -> JcpdsCard {
    read_jcpds(&data(&format!("xrd/jcpds/{name}"))).unwrap_or_else(|e| panic!("{e}"))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

/// Position and value of the largest intensity.
fn peak(p: &XrdPattern) -> (f64, f64) {
    let i = p.intensity.iter().enumerate().fold(
        0,
        |best, (i, &v)| if v > p.intensity[best] { i } else { best },
    );
    (p.two_theta_deg[i], p.intensity[i])
}

/// The 2θ, I tokens of a two-column text file, as printed.
fn xy_tokens(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut t = l.split_whitespace();
            (t.next().unwrap().to_owned(), t.next().unwrap().to_owned())
        })
        .collect()
}

/// A value as R's `write.table` prints it: 15 significant digits, shortest form.
fn print15(x: f64) -> String {
    let r: f64 = format!("{x:.14e}").parse().unwrap();
    format!("{r}")
}

// ---- column text: pyFAI/Dioptas .xy, powdR and RockJock .xy -------------

#[test]
fn dioptas_pattern_001_xy() {
    let p = pattern(&data("xrd/pattern_001.xy"));
    assert_eq!(p.name, "pattern_001");
    assert_eq!(p.source_format, "xy");
    assert_eq!(p.npts(), 1400);
    assert_eq!(p.two_theta_deg[0], 0.01589844);
    assert_eq!(p.intensity[0], 27.83654);
    assert_eq!(p.two_theta_deg[1399], 44.49973);
    assert_eq!(p.intensity[1399], 0.0);
    assert_eq!(peak(&p), (5.008008, 2170.222));
    assert!(p.sigma.is_none());
    // "# Wavelength: 3.20179398976e-11" is pyFAI's metres
    let l = p.wavelength_ang.unwrap();
    assert!(close(l, 0.320179398976, 1e-12), "{l}");
    assert_eq!(
        p.meta("Distance Sample to Detector"),
        Some("0.303704713223 m")
    );
}

#[test]
fn dioptas_pattern_002_xy() {
    let p = pattern(&data("xrd/pattern_002.xy"));
    assert_eq!(p.npts(), 1400);
    assert_eq!(peak(&p), (23.79996, 9998.188));
    assert!(close(p.wavelength_ang.unwrap(), 0.320179398976, 1e-12));
}

#[test]
fn fe3o4_map_series_reads() {
    let files = data_files("xrd/fe3o4_map");
    assert_eq!(files.len(), 6);
    for f in &files {
        let p = pattern(f);
        assert_eq!(p.npts(), 1508, "{}", f.display());
        assert_eq!(p.two_theta_deg[0], 0.007882808091);
        assert_eq!(p.two_theta_deg[1507], 23.76666356);
        assert!(close(p.wavelength_ang.unwrap(), 0.3344, 1e-12));
        assert_eq!(p.meta("Polarization factor"), Some("0.99"));
    }
    let p = pattern(&data("xrd/fe3o4_map/Fe3O4C_M1_map_1_P1_E1_001.xy"));
    assert_eq!(p.intensity[0], 112.1889954);
    assert_eq!(peak(&p), (15.12710692, 17644.99609));
}

#[test]
fn powdr_quartz_and_soils() {
    let q = pattern(&data("xrd/quartz.xy"));
    assert_eq!(q.npts(), 1693);
    assert_eq!((q.two_theta_deg[0], q.intensity[0]), (4.00973, 69.0));
    assert_eq!((q.two_theta_deg[1692], q.intensity[1692]), (69.85199, 13.0));
    assert_eq!(peak(&q), (26.58311, 10000.0));
    assert_eq!(q.wavelength_ang, None);
    let files = data_files("xrd/soils");
    assert_eq!(files.len(), 3);
    for f in &files {
        let p = pattern(f);
        assert_eq!(p.npts(), 1693);
        assert_eq!(p.two_theta_deg[0], 4.009729999999999);
        assert_eq!(p.two_theta_deg[1692], 69.85199);
    }
    let s = pattern(&data("xrd/soils/sandstone.xy"));
    assert_eq!(peak(&s), (26.54419, 47350.0));
    let g = pattern(&data("xrd/soils/granite.xy"));
    assert_eq!(g.intensity[0], 458.0);
}

#[test]
fn rockjock_library_and_mixtures_read() {
    let mut n = 0;
    for dir in ["xrd/rockjock/library", "xrd/rockjock/mixtures"] {
        for f in data_files(dir) {
            if f.extension().is_some_and(|e| e == "csv") {
                continue;
            }
            let p = pattern(&f);
            assert_eq!(p.npts(), 3001, "{}", f.display());
            assert_eq!(p.two_theta_deg[0], 5.0);
            assert_eq!(p.two_theta_deg[3000], 65.0);
            n += 1;
        }
    }
    assert_eq!(n, 168 + 4);
    // RockJock's negative-background standard is -1000 everywhere
    let neg = pattern(&data("xrd/rockjock/library/BACK_NEG.xy"));
    assert!(neg.intensity.iter().all(|&v| v == -1000.0));
    // ... and is routed as the pattern it is (`info`, folders, the app).
    assert!(carto::io::xrd::is_xrd_file(&data(
        "xrd/rockjock/library/BACK_NEG.xy"
    )));
    let q = pattern(&data("xrd/rockjock/library/QUARTZ.xy"));
    assert_eq!(q.intensity[0], 118.0);
    assert_eq!(peak(&q), (26.68, 10000.0));
}

// ---- pyFAI radial units ---------------------------------------------------

/// pattern_001.xy rewritten with a pyFAI Q header, as pyFAI would write it.
fn as_q_file(p: &XrdPattern, unit: &str, scale: f64, wavelength_line: &str) -> String {
    let mut s = format!("# == pyFAI calibration ==\n{wavelength_line}\n#  {unit}  I\n");
    for (q, i) in p.q_inv_ang().unwrap().iter().zip(&p.intensity) {
        s.push_str(&format!("{:.17e} {:.17e}\n", q * scale, i));
    }
    s
}

#[test]
fn q_columns_become_two_theta_with_the_file_wavelength() {
    let p = pattern(&data("xrd/pattern_001.xy"));
    for (unit, scale) in [("q_A^-1", 1.0), ("q_nm^-1", 10.0)] {
        for wl in [
            "# Wavelength: 3.20179398976e-11",
            "# Wavelength: 3.20179398976e-11 m",
        ] {
            let text = as_q_file(&p, unit, scale, wl);
            let back = bytes_pattern(text.as_bytes(), "q.xy");
            assert_eq!(back.npts(), p.npts());
            assert_eq!(back.meta("x unit in file"), Some(unit));
            for (a, b) in back.two_theta_deg.iter().zip(&p.two_theta_deg) {
                assert!((a - b).abs() < 1e-9, "{unit}: {a} vs {b}");
            }
            assert_eq!(back.intensity, p.intensity);
        }
    }
    // radians
    let text = "# 2th_rad I\n0.5 10\n1.0 20\n";
    let r = bytes_pattern(text.as_bytes(), "rad.xy");
    assert!(close(r.two_theta_deg[1], 57.29577951308232, 1e-14));
}

#[test]
fn q_without_wavelength_is_a_located_error() {
    let text = "# pyFAI\n#  q_nm^-1  I\n1.0 5\n2.0 6\n";
    let e = bytes_error(text.as_bytes(), "q.xy");
    assert_eq!(e.file, "q.xy");
    assert_eq!(e.line, Some(2));
    assert_eq!(e.field.as_deref(), Some("wavelength"));
    assert!(e.message.contains("q_nm^-1"), "{e}");
    let e = bytes_error(b"# Wavelength: 1e-10\n# r_mm I\n1 2\n", "r.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("x unit")));
    // Q beyond 2θ = 180° at this wavelength
    let e = bytes_error(b"# Wavelength: 1e-10\n# q_A^-1 I\n1 2\n13 3\n", "big.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("q")));
}

// ---- Fit2D .chi -----------------------------------------------------------

#[test]
fn fit2d_chi() {
    let p = pattern(&data("xrd/pattern_001.chi"));
    assert_eq!(p.source_format, "fit2d_chi");
    assert_eq!(p.npts(), 75);
    assert_eq!(
        (p.two_theta_deg[0], p.intensity[0]),
        (1.0486433e-2, 2.7862846e1)
    );
    assert_eq!(
        (p.two_theta_deg[5], p.intensity[5]),
        (1.9095797e1, 3.9640204e2)
    );
    assert_eq!((p.two_theta_deg[74], p.intensity[74]), (2.8344830e1, 0.0));
    assert_eq!(p.meta("x axis"), Some("2-Theta Angle (Degrees)"));
    // The header says 1455 points; Dioptas's test file keeps 75 of them.
    assert_eq!(p.meta("declared points"), Some("1455"));
}

/// The brief expected pattern_001.chi to be pattern_001.xy in Fit2D form.
/// It is not: the .chi is an excerpt of a LaB6 image (`LaB6_p49_001.tif`,
/// 2θ step 0.020973°), the .xy a FoG_D3 pattern (step 0.031797°), so they
/// cannot agree point for point. This pins the difference down.
#[test]
fn fit2d_chi_and_xy_of_pattern_001_are_different_scans() {
    let chi = pattern(&data("xrd/pattern_001.chi"));
    let xy = pattern(&data("xrd/pattern_001.xy"));
    let step = |p: &XrdPattern| p.two_theta_deg[1] - p.two_theta_deg[0];
    assert!((step(&chi) - 0.020973).abs() < 1e-6, "{}", step(&chi));
    assert!((step(&xy) - 0.031797).abs() < 1e-6, "{}", step(&xy));
    let text = std::fs::read_to_string(data("xrd/pattern_001.chi")).unwrap();
    assert!(
        text.starts_with(
            r"\\psf\Home\Programming\Dioptas\Dioptas_main\ExampleData\LaB6_p49_001.tif"
        )
    );
    // every value is the printed number (8 significant digits) exactly
    let printed: Vec<f64> = text
        .lines()
        .skip(4)
        .flat_map(|l| l.split_whitespace().map(|t| t.parse::<f64>().unwrap()))
        .collect();
    let read: Vec<f64> = chi
        .two_theta_deg
        .iter()
        .zip(&chi.intensity)
        .flat_map(|(&x, &y)| [x, y])
        .collect();
    assert_eq!(read, printed);
}

// ---- Bruker RAW -----------------------------------------------------------

#[test]
fn bruker_raw_v3_equals_its_xy_export_exactly() {
    for n in 1..=3 {
        let raw = pattern(&data(&format!("xrd/bruker_raw/D5000_{n}.RAW")));
        let xy_path = data(&format!("xrd/bruker_raw/D5000_{n}.xy"));
        let tokens = xy_tokens(&xy_path);
        assert_eq!(raw.source_format, "bruker_raw_v3");
        assert_eq!(raw.npts(), 3651);
        assert_eq!(tokens.len(), 3651);
        for (i, (x, y)) in tokens.iter().enumerate() {
            assert_eq!(&print15(raw.two_theta_deg[i]), x, "D5000_{n} point {i}: 2θ");
            assert_eq!(
                &format!("{}", raw.intensity[i]),
                y,
                "D5000_{n} point {i}: counts"
            );
        }
        // and through the .xy reader: counts identical, angles to the print
        let xy = pattern(&xy_path);
        assert_eq!(xy.intensity, raw.intensity);
        for (a, b) in raw.two_theta_deg.iter().zip(&xy.two_theta_deg) {
            assert_eq!(print15(*a).parse::<f64>().unwrap(), *b);
        }
        assert_eq!(raw.two_theta_deg[0], 2.0);
        assert_eq!(raw.two_theta_deg[3650], 75.0);
        assert_eq!(raw.wavelength_ang, Some(1.78897)); // Co Kα1
        assert_eq!(raw.meta("anode"), Some("Co"));
        assert_eq!(raw.meta("K-alpha2"), Some("1.79285"));
        assert_eq!(raw.meta("sample"), Some("NIPS PROJECT neat spray dreid"));
        assert_eq!(raw.meta("ranges in file"), Some("1"));
    }
    let p = pattern(&data("xrd/bruker_raw/D5000_1.RAW"));
    assert_eq!(p.intensity[0], 2230.0);
    assert_eq!(p.meta("date"), Some("10/13/03"));
}

/// A zeroed buffer with little-endian writers, for building RAW headers
/// from the documented layouts.
struct Buf(Vec<u8>);

impl Buf {
    fn new(len: usize) -> Self {
        Buf(vec![0; len])
    }
    fn put(&mut self, at: usize, b: &[u8]) -> &mut Self {
        if self.0.len() < at + b.len() {
            self.0.resize(at + b.len(), 0);
        }
        self.0[at..at + b.len()].copy_from_slice(b);
        self
    }
    /// Zero-fill up to `len` bytes.
    fn pad(&mut self, len: usize) -> &mut Self {
        if self.0.len() < len {
            self.0.resize(len, 0);
        }
        self
    }
    fn u16(&mut self, at: usize, v: u16) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn f32(&mut self, at: usize, v: f32) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn f64(&mut self, at: usize, v: f64) -> &mut Self {
        self.put(at, &v.to_le_bytes())
    }
    fn counts(&mut self, c: &[f32]) -> &mut Self {
        for v in c {
            self.0.extend_from_slice(&v.to_le_bytes());
        }
        self
    }
}

const C1: [f32; 5] = [10.0, 20.0, 35.5, 20.0, 10.0];
const C2: [f32; 3] = [7.0, 8.0, 9.0];

/// RAW v1 ("RAW "): per range a 152-byte header (steps +0, time/step +4,
/// step +8, start 2θ +20, sample +36, Kα1 +68, Kα2 +72, following range
/// +148); the second range repeats the magic, as early DIFFRAC-AT files may.
fn raw_v1() -> Vec<u8> {
    let mut b = Buf::new(4);
    b.put(0, b"RAW ");
    for (k, (start, step, c)) in [(10.0f32, 0.05f32, &C1[..]), (40.0, 0.5, &C2[..])]
        .iter()
        .enumerate()
    {
        let mut r = b.0.len();
        if k == 1 {
            b.put(r, b"RAW ");
            r += 4;
        }
        b.u32(r, c.len() as u32)
            .f32(r + 4, 1.0)
            .f32(r + 8, *step)
            .f32(r + 20, *start)
            .f32(r + 24, -1e6)
            .put(r + 36, b"v1 sample")
            .f32(r + 68, 1.540_56)
            .f32(r + 72, 1.544_39)
            .u32(r + 148, u32::from(k == 0))
            .counts(c);
    }
    b.0
}

/// RAW v2 ("RAW2"): range count u16 at 4, anode at 188, Kα1/Kα2/ratio f32
/// at 190/194/198; ranges from byte 256: header length u16, steps u16,
/// time/step f32 +8, step +12, start +16, temperature u16 +46.
fn raw_v2() -> Vec<u8> {
    let mut b = Buf::new(256);
    b.put(0, b"RAW2")
        .u16(4, 2)
        .put(168, b"01-Feb-99 12:00")
        .put(188, b"Cu")
        .f32(190, 1.540_56)
        .f32(194, 1.544_39)
        .f32(198, 0.5);
    for (start, step, c) in [(10.0f32, 0.05f32, &C1[..]), (40.0, 0.5, &C2[..])] {
        let r = b.0.len();
        b.u16(r, 64)
            .u16(r + 2, c.len() as u16)
            .f32(r + 8, 2.0)
            .f32(r + 12, step)
            .f32(r + 16, start)
            .u16(r + 46, 298)
            .put(r + 63, &[0])
            .counts(c);
    }
    b.0
}

/// RAW v3 ("RAW1.01"): the 712-byte file header and 304-byte range headers
/// of the DIFFRAC^plus manual; the second range carries a 40-byte
/// supplementary header.
fn raw_v3_two_ranges() -> Vec<u8> {
    let mut b = Buf::new(712);
    b.put(0, b"RAW1.01\0")
        .u32(8, 1)
        .u32(12, 2)
        .put(16, b"01/02/24")
        .put(326, b"two ranges")
        .put(608, b"Cu")
        .f64(616, 1.541_87)
        .f64(624, 1.540_6)
        .f64(632, 1.544_43)
        .f64(648, 0.5);
    for (k, (start, step, c)) in [(10.0, 0.05, &C1[..]), (40.0, 0.5, &C2[..])]
        .iter()
        .enumerate()
    {
        let r = b.0.len();
        let supp = if k == 1 { 40 } else { 0 };
        b.u32(r, 304)
            .u32(r + 4, c.len() as u32)
            .f64(r + 8, start / 2.0)
            .f64(r + 16, *start)
            .f64(r + 176, *step)
            .f32(r + 192, 1.0)
            .f64(r + 240, 1.540_6)
            .u32(r + 256, supp)
            .put(r + 304 + supp as usize - 1, &[0])
            .counts(c);
    }
    b.0
}

/// RAW v4 ("RAW4.00"): a 61-byte header, records (10 VarInfo, 30 the tube,
/// 60 a drive alignment) up to the first range (type 0, then 160 for the
/// next): 160-byte range header (scan type +32, start +72, step +80,
/// steps +88, used λ +112, datum size +136, extra header size +140), one
/// type-50 axis record naming 2Theta, then float32 counts.
fn raw_v4() -> Vec<u8> {
    let mut b = Buf::new(61);
    b.put(0, b"RAW4.00\0")
        .put(12, b"2024-01-02")
        .put(24, b"12:00:00");
    let r = b.0.len();
    b.u32(r, 10)
        .u32(r + 4, 52)
        .put(r + 12, b"SampleID")
        .put(r + 36, b"v4 sample")
        .pad(r + 52);
    let r = b.0.len();
    b.u32(r, 30)
        .u32(r + 4, 120)
        .f64(r + 72, 1.541_87)
        .f64(r + 80, 1.540_6)
        .f64(r + 88, 1.544_43)
        .f64(r + 96, 1.392_2)
        .f64(r + 104, 0.5)
        .put(r + 116, b"Cu\0\0");
    let r = b.0.len();
    b.u32(r, 60)
        .u32(r + 4, 76)
        .put(r + 12, b"Theta")
        .pad(r + 76);
    let ranges = [
        (0u32, "Locked Coupled", 10.0, 0.05, &C1[..]),
        (160, "Unlocked Coupled", 40.0, 0.5, &C2[..]),
    ];
    for (ty, scan, start, step, c) in ranges {
        let r = b.0.len();
        b.u32(r, ty)
            .put(r + 32, scan.as_bytes())
            .f64(r + 72, start)
            .f64(r + 80, step)
            .u32(r + 88, c.len() as u32)
            .f32(r + 92, 1.0)
            .f32(r + 100, 40.0)
            .f32(r + 104, 40.0)
            .f64(r + 112, 1.540_6)
            .u32(r + 136, 4)
            .u32(r + 140, 64)
            .pad(r + 160);
        let s = r + 160;
        b.u32(s, 50)
            .u32(s + 4, 64)
            .put(s + 12, b"2Theta")
            .f64(s + 56, start);
        b.counts(c);
    }
    b.0
}

fn check_two_ranges(all: &[XrdPattern], format: &str, wavelength: f64) {
    assert_eq!(all.len(), 2);
    let (a, b) = (&all[0], &all[1]);
    assert_eq!(a.source_format, format);
    assert_eq!(a.npts(), 5);
    assert_eq!(a.intensity, [10.0, 20.0, 35.5, 20.0, 10.0]);
    assert!(close(a.two_theta_deg[0], 10.0, 1e-12));
    assert!(
        close(a.two_theta_deg[4], 10.2, 1e-6),
        "{}",
        a.two_theta_deg[4]
    );
    assert_eq!(b.intensity, [7.0, 8.0, 9.0]);
    assert!(close(b.two_theta_deg[2], 41.0, 1e-12));
    for p in all {
        assert!(
            close(p.wavelength_ang.unwrap(), wavelength, 1e-6),
            "{format}"
        );
    }
}

#[test]
fn bruker_raw_v1_synthetic() {
    let bytes = raw_v1();
    let p = bytes_pattern(&bytes, "v1.raw");
    assert_eq!(p.meta("sample"), Some("v1 sample"));
    assert_eq!(p.meta("ranges in file"), Some("2"));
    check_two_ranges(
        &bruker_raw::read_all(&bytes, "v1.raw").unwrap(),
        "bruker_raw_v1",
        1.54056,
    );
}

#[test]
fn bruker_raw_v2_synthetic() {
    let bytes = raw_v2();
    let p = bytes_pattern(&bytes, "v2.raw");
    assert_eq!(p.meta("anode"), Some("Cu"));
    assert_eq!(p.meta("temperature (K)"), Some("298"));
    check_two_ranges(
        &bruker_raw::read_all(&bytes, "v2.raw").unwrap(),
        "bruker_raw_v2",
        1.54056,
    );
}

#[test]
fn bruker_raw_v3_synthetic_two_ranges_with_supplementary_header() {
    let bytes = raw_v3_two_ranges();
    let p = bytes_pattern(&bytes, "v3.raw");
    assert_eq!(p.meta("sample"), Some("two ranges"));
    check_two_ranges(
        &bruker_raw::read_all(&bytes, "v3.raw").unwrap(),
        "bruker_raw_v3",
        1.5406,
    );
}

#[test]
fn bruker_raw_v4_synthetic() {
    let bytes = raw_v4();
    let p = bytes_pattern(&bytes, "v4.raw");
    assert_eq!(p.meta("SampleID"), Some("v4 sample"));
    assert_eq!(p.meta("anode"), Some("Cu"));
    assert_eq!(p.meta("scan type"), Some("Locked Coupled"));
    assert_eq!(p.meta("start 2Theta"), Some("10"));
    check_two_ranges(
        &bruker_raw::read_all(&bytes, "v4.raw").unwrap(),
        "bruker_raw_v4",
        1.5406,
    );
}

#[test]
fn truncated_raw_names_the_field() {
    let full = std::fs::read(data("xrd/bruker_raw/D5000_1.RAW")).unwrap();
    // inside the range header: the step size (range offset 176) is cut off
    let e = bytes_error(&full[..712 + 100], "cut.RAW");
    assert_eq!(e.file, "cut.RAW");
    assert_eq!(e.field.as_deref(), Some("range 1: step size"), "{e}");
    assert!(e.message.contains("8 bytes needed at byte 888"), "{e}");
    // before the range header
    let e = bytes_error(&full[..700], "cut.RAW");
    assert_eq!(e.field.as_deref(), Some("range 1: header length"), "{e}");
    assert!(e.message.contains("truncated"), "{e}");
    // inside the counts
    let e = bytes_error(&full[..5000], "cut.RAW");
    assert_eq!(e.field.as_deref(), Some("range 1: counts"), "{e}");
    assert!(e.message.contains("3651 counts"), "{e}");
    // inside the file header
    let e = bytes_error(&full[..300], "cut.RAW");
    assert!(e.message.contains("truncated"), "{e}");
    assert_eq!(e.field.as_deref(), Some("K-alpha1"), "{e}");
    // v4 cut inside the second range's counts
    let v4 = raw_v4();
    let e = bytes_error(&v4[..v4.len() - 2], "cut4.raw");
    assert_eq!(e.field.as_deref(), Some("range 2: counts"), "{e}");
    // a step count no file of this size can hold, and none at all
    let mut bad = full.clone();
    bad[716..720].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = bytes_error(&bad, "steps.RAW");
    assert_eq!(e.field.as_deref(), Some("range 1: counts"), "{e}");
    assert!(e.message.contains("4294967295 counts"), "{e}");
    bad[716..720].copy_from_slice(&0u32.to_le_bytes());
    let e = bytes_error(&bad, "steps.RAW");
    assert_eq!(e.field.as_deref(), Some("range 1: steps"), "{e}");
}

// ---- Bruker .brml -----------------------------------------------------------

/// A zip written the way PKWARE's APPNOTE describes it: local headers,
/// central directory, end record. `deflate` picks method 8 over 0.
fn zip(members: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, deflate) in members {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let stored = if *deflate {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        } else {
            data.to_vec()
        };
        let offset = out.len() as u32;
        let method: u16 = if *deflate { 8 } else { 0 };
        let mut common = Vec::new();
        common.extend_from_slice(&0u16.to_le_bytes()); // flags
        common.extend_from_slice(&method.to_le_bytes());
        common.extend_from_slice(&[0; 4]); // time, date
        common.extend_from_slice(&crc.sum().to_le_bytes());
        common.extend_from_slice(&(stored.len() as u32).to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // extra length
        out.extend_from_slice(b"PK\x03\x04\x14\x00");
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&stored);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00");
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&[0; 4]); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    let n = (members.len() as u16).to_le_bytes();
    out.extend_from_slice(&n);
    out.extend_from_slice(&n);
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// RawData0.xml with three axes (2θ second) and `rows` Datum values.
fn raw_data_xml(rows: &[&str]) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?>
<RawData xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <DataRoutes>
    <DataRoute>
      <ScanInformation ScanName="Coupled TwoTheta/Theta">
        <TimePerStep>1</TimePerStep>
        <ScanAxes>
          <ScanAxisInfo AxisId="Theta" AxisName="Theta"><Start>15</Start></ScanAxisInfo>
          <ScanAxisInfo AxisId="TwoTheta" AxisName="2Theta"><Start>30</Start></ScanAxisInfo>
          <ScanAxisInfo AxisId="Chi" AxisName="Chi"><Start>0</Start></ScanAxisInfo>
        </ScanAxes>
      </ScanInformation>
"#,
    );
    for r in rows {
        s.push_str(&format!("      <Datum>{r}</Datum>\n"));
    }
    s.push_str(
        r#"    </DataRoute>
  </DataRoutes>
  <FixedInformation><Instrument><Tube>
    <WaveLengthAlpha1 Unit="&#197;" Value="1.78897" />
  </Tube></Instrument></FixedInformation>
</RawData>
"#,
    );
    s
}

#[test]
fn brml_fixture_written_by_python_zipfile() {
    let p = pattern(&fixture("xrd/synthetic.brml"));
    assert_eq!(p.name, "synthetic");
    assert_eq!(p.source_format, "brml");
    assert_eq!(p.npts(), 11);
    assert_eq!((p.two_theta_deg[0], p.intensity[0]), (20.0, 500.0));
    assert_eq!((p.two_theta_deg[5], p.intensity[5]), (20.1, 800.0));
    assert_eq!((p.two_theta_deg[10], p.intensity[10]), (20.2, 500.0));
    assert_eq!(p.wavelength_ang, Some(1.5406));
    assert_eq!(p.meta("WaveLengthAlpha2"), Some("1.54439"));
    assert_eq!(p.meta("TubeMaterial"), Some("Cu"));
    assert_eq!(p.meta("MeasurementPoints"), Some("11"));
}

#[test]
fn brml_in_memory_stored_and_deflated() {
    let xml = raw_data_xml(&[
        "1,1,15.00,30.00,0,100",
        "1,1,15.01,30.02,0,250.5",
        "1,1,15.02,30.04,0,90",
    ]);
    for deflate in [false, true] {
        let bytes = zip(&[
            ("[Content_Types].xml", b"<Types/>", deflate),
            ("Experiment0/RawData0.xml", xml.as_bytes(), deflate),
        ]);
        let p = bytes_pattern(&bytes, "mem.brml");
        assert_eq!(p.two_theta_deg, [30.0, 30.02, 30.04]);
        assert_eq!(p.intensity, [100.0, 250.5, 90.0]);
        assert_eq!(p.wavelength_ang, Some(1.78897));
    }
}

#[test]
fn brml_deflate_bomb_is_refused_by_the_archive_size() {
    // 40 MiB of spaces deflate to ~40 KB: over 64× the archive + 16 MiB.
    let xml = vec![b' '; 40 << 20];
    let bytes = zip(&[("Experiment0/RawData0.xml", &xml, true)]);
    assert!(bytes.len() < 100_000, "{}", bytes.len());
    let e = bytes_error(&bytes, "bomb.brml");
    assert_eq!(e.field.as_deref(), Some("Experiment0/RawData0.xml"), "{e}");
    assert!(e.message.contains("too large for a"), "{e}");
}

#[test]
fn brml_errors_are_located() {
    // a non-numeric count: the member, its line and the column are named
    let xml = raw_data_xml(&["1,1,15.00,30.00,0,100", "1,1,15.01,30.02,0,lots"]);
    let e = bytes_error(
        &zip(&[("Experiment0/RawData0.xml", xml.as_bytes(), true)]),
        "bad.brml",
    );
    assert_eq!(e.file, "bad.brml[Experiment0/RawData0.xml]");
    assert_eq!(e.line, Some(14), "{e}");
    assert_eq!(e.field.as_deref(), Some("Datum intensity"));
    // too few columns
    let xml = raw_data_xml(&["1,1,15.00,30.00"]);
    let e = bytes_error(
        &zip(&[("Experiment0/RawData0.xml", xml.as_bytes(), false)]),
        "short.brml",
    );
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(13), Some("Datum intensity")),
        "{e}"
    );
    // a corrupted member fails its CRC
    let xml = raw_data_xml(&["1,1,15.00,30.00,0,100"]);
    let mut bytes = zip(&[("Experiment0/RawData0.xml", xml.as_bytes(), false)]);
    let at = bytes.windows(5).position(|w| w == b",100<").unwrap();
    bytes[at + 1] = b'7';
    let e = bytes_error(&bytes, "crc.brml");
    assert!(e.message.contains("CRC"), "{e}");
    assert_eq!(e.field.as_deref(), Some("Experiment0/RawData0.xml"));
    // no scan member
    let e = bytes_error(&zip(&[("other.xml", b"<a/>", false)]), "empty.brml");
    assert!(e.message.contains("RawData0.xml"), "{e}");
    // cut in half: the end record is gone
    let good = std::fs::read(fixture("xrd/synthetic.brml")).unwrap();
    let e = bytes_error(&good[..good.len() / 2], "half.brml");
    assert_eq!(e.field.as_deref(), Some("zip"), "{e}");
}

// ---- PANalytical .xrdml -------------------------------------------------------

#[test]
fn xrdml_fixture() {
    let p = pattern(&fixture("xrd/quartz_101.xrdml"));
    assert_eq!(p.source_format, "xrdml");
    assert_eq!(p.npts(), 21);
    assert_eq!((p.two_theta_deg[0], p.intensity[0]), (26.0, 120.0));
    assert!(close(p.two_theta_deg[12], 26.6, 1e-12));
    assert_eq!(p.intensity[12], 3323.0);
    assert_eq!((p.two_theta_deg[20], p.intensity[20]), (27.0, 120.0));
    assert_eq!(peak(&p).1, 4065.0);
    assert_eq!(p.wavelength_ang, Some(1.540598));
    assert_eq!(p.meta("K-alpha2"), Some("1.544426"));
    assert_eq!(p.meta("anode"), Some("Cu"));
    assert_eq!(p.meta("sample name"), Some("Quartz & silica test"));
    assert_eq!(p.meta("counting time (s)"), Some("1.000"));
}

fn xrdml_text() -> String {
    std::fs::read_to_string(fixture("xrd/quartz_101.xrdml")).unwrap()
}

#[test]
fn xrdml_counts_list_positions_and_attenuation() {
    // schema 1.0 names the data <counts>
    let text = xrdml_text()
        .replace("<intensities", "<counts")
        .replace("</intensities>", "</counts>");
    let p = bytes_pattern(text.as_bytes(), "old.xrdml");
    assert_eq!(p.intensity[12], 3323.0);
    // explicit positions and attenuation factors
    let list: Vec<String> = (0..21)
        .map(|i| format!("{}", 26.0 + 0.05 * f64::from(i)))
        .collect();
    let text = xrdml_text()
        .replace(
            "<startPosition>26.000000</startPosition>\n          <endPosition>27.000000</endPosition>",
            &format!("<listPositions>{}</listPositions>", list.join(" ")),
        )
        .replace(
            "<commonCountingTime",
            &format!("<beamAttenuationFactors>{}</beamAttenuationFactors>\n        <commonCountingTime", ["2"; 21].join(" ")),
        );
    let p = bytes_pattern(text.as_bytes(), "list.xrdml");
    assert_eq!(p.two_theta_deg[20], 27.0);
    assert_eq!(p.intensity[12], 6646.0);
}

#[test]
fn xrdml_mismatched_counts_is_located() {
    let list: Vec<String> = (0..20)
        .map(|i| format!("{}", 26.0 + 0.05 * f64::from(i)))
        .collect();
    let text = xrdml_text().replace(
        "<startPosition>26.000000</startPosition>\n          <endPosition>27.000000</endPosition>",
        &format!("<listPositions>{}</listPositions>", list.join(" ")),
    );
    let e = bytes_error(text.as_bytes(), "mismatch.xrdml");
    assert_eq!(e.file, "mismatch.xrdml");
    assert_eq!(e.field.as_deref(), Some("intensities"));
    let want = 1 + xrdml_text()
        .lines()
        .position(|l| l.contains("<intensities"))
        .unwrap();
    assert_eq!(e.line, Some(want - 1), "{e}"); // the two position lines became one
    assert!(
        e.message.contains("20 2Theta list positions") && e.message.contains("21"),
        "{e}"
    );
    // attenuation factors of the wrong length
    let text = xrdml_text().replace(
        "<commonCountingTime",
        "<beamAttenuationFactors>1 1 1</beamAttenuationFactors><commonCountingTime",
    );
    let e = bytes_error(text.as_bytes(), "att.xrdml");
    assert_eq!(e.field.as_deref(), Some("beamAttenuationFactors"), "{e}");
}

#[test]
fn xrdml_malformed_is_located() {
    let good = xrdml_text();
    let line_of = |needle: &str| 1 + good.lines().position(|l| l.contains(needle)).unwrap();
    // a non-number among the intensities
    let e = bytes_error(good.replace(" 3323 ", " 33x23 ").as_bytes(), "nan.xrdml");
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(line_of("<intensities")), Some("intensities")),
        "{e}"
    );
    // an element left open
    let e = bytes_error(good.replace("</dataPoints>", "").as_bytes(), "open.xrdml");
    assert_eq!(e.field.as_deref(), Some("xml"));
    assert!(e.message.contains("<dataPoints> opened at line"), "{e}");
    // no 2Theta axis
    let e = bytes_error(
        good.replace("axis=\"2Theta\"", "axis=\"Phi\"").as_bytes(),
        "phi.xrdml",
    );
    assert_eq!(e.field.as_deref(), Some("positions"));
    // an unknown entity
    let e = bytes_error(good.replace("&amp;", "&nbsp;").as_bytes(), "ent.xrdml");
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(line_of("<name>Quartz")), Some("xml")),
        "{e}"
    );
}

// ---- GSAS -----------------------------------------------------------------

#[test]
fn gsas_fxye_fixture() {
    let p = pattern(&fixture("xrd/si_cw.fxye"));
    assert_eq!(p.source_format, "gsas");
    assert_eq!(p.npts(), 11);
    assert_eq!((p.two_theta_deg[0], p.intensity[0]), (28.0, 200.19));
    assert_eq!((p.two_theta_deg[5], p.intensity[5]), (28.05, 250.0));
    assert_eq!(p.two_theta_deg[10], 28.1);
    let s = p.sigma.as_ref().unwrap();
    assert_eq!((s[0], s[5]), (14.149, 15.811));
    assert_eq!(
        p.meta("instrument parameter file"),
        Some("synthetic_cw.prm")
    );
    assert_eq!(p.meta("GSAS record type"), Some("FXYE"));
}

#[test]
fn gsas_esd_and_std() {
    // ESD: (I, σ) pairs in 8-column fields, 2θ from the BANK start/step
    let esd = "title\nBANK 1 6 2 CONS 1000.0 5.0 0 0 ESD\n   100.0    10.0   121.0    11.0   144.0    12.0   169.0    13.0   196.0    14.0\n   225.0    15.0\n";
    let p = bytes_pattern(esd.as_bytes(), "esd.gsas");
    assert_eq!(p.two_theta_deg, [10.0, 10.05, 10.1, 10.15, 10.2, 10.25]);
    assert_eq!(p.intensity, [100.0, 121.0, 144.0, 169.0, 196.0, 225.0]);
    assert_eq!(p.sigma.unwrap(), [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]);
    // STD: (I2 counters, F6 counts) in 8-column fields; no BANK type means STD
    let std = "title\nBANK 1 4 1 CONS 2000.0 2.0 0 0\n   100.0 2 200.0   300.0   400.0\n";
    let p = bytes_pattern(std.as_bytes(), "std.gsas");
    assert_eq!(p.two_theta_deg, [20.0, 20.02, 20.04, 20.06]);
    assert_eq!(p.intensity, [100.0, 200.0, 300.0, 400.0]);
    assert_eq!(p.sigma.unwrap(), [10.0, 10.0, 300f64.sqrt(), 20.0]);
}

#[test]
fn gsas_errors_are_located() {
    let e = bytes_error(
        b"title\nBANK 1 10 10 TIME_MAP 1 0 0 0 FXYE\n1 2 3\n",
        "tof.gsas",
    );
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(2), Some("bintyp")),
        "{e}"
    );
    let text = std::fs::read_to_string(fixture("xrd/si_cw.fxye")).unwrap();
    let e = bytes_error(text.replace("250.00", "25O.00").as_bytes(), "o.fxye");
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(10), Some("intensity")),
        "{e}"
    );
    let e = bytes_error(text.replace("15.811", "").as_bytes(), "nosigma.fxye");
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(10), Some("sigma")),
        "{e}"
    );
}

// ---- JCPDS ----------------------------------------------------------------

#[test]
fn jcpds_all_dioptas_cards_read() {
    let want = [
        ("FeGeO3_cpx.jcpds", "MONOCLINIC", 9.7993, 27),
        ("ag.jcpds", "CUBIC", 4.0862, 9),
        ("ar.jcpds", "CUBIC", 5.5128, 5),
        ("au_Anderson.jcpds", "CUBIC", 4.0786, 13),
        ("au_mal_anders.jcpds", "CUBIC", 4.0786, 0),
        ("au_mal_anders_vers2.jcpds", "CUBIC", 4.0786, 3),
        ("mo.jcpds", "CUBIC", 3.1472, 7),
        ("nanana.jcpds", "CUBIC", 5.5128, 5),
        ("pt.jcpds", "CUBIC", 3.9231, 13),
        ("re.jcpds", "HEXAGONAL", 2.76, 20),
        ("re_K0.jcpds", "HEXAGONAL", 2.76, 20),
    ];
    let files = data_files("xrd/jcpds");
    assert_eq!(files.len(), want.len());
    for (name, sym, a, nrefl) in want {
        let c = card(name);
        assert_eq!(c.version, 4, "{name}");
        assert_eq!(c.symmetry, sym, "{name}");
        assert_eq!(c.a_ang, a, "{name}");
        assert_eq!(c.reflections.len(), nrefl, "{name}");
        assert!(!c.comments.is_empty(), "{name}");
    }
}

#[test]
fn jcpds_values() {
    let au = card("au_Anderson.jcpds");
    assert_eq!(au.name, "au_Anderson");
    assert_eq!((au.a_ang, au.b_ang, au.c_ang), (4.0786, 4.0786, 4.0786));
    assert_eq!(
        (au.alpha_deg, au.beta_deg, au.gamma_deg),
        (90.0, 90.0, 90.0)
    );
    assert_eq!((au.k0_gpa, au.k0p), (166.65, 5.4823));
    assert_eq!(au.alpha_t_per_k, 4.26e-5);
    let r = &au.reflections[0];
    assert_eq!(
        (r.d_ang, r.intensity, r.h, r.k, r.l),
        (2.355, 100.0, 1, 1, 1)
    );
    let r = &au.reflections[12];
    assert_eq!((r.d_ang, r.h, r.k, r.l), (0.6449, 6, 2, 0));
    let re = card("re.jcpds");
    assert_eq!((re.b_ang, re.c_ang, re.gamma_deg), (2.76, 4.4574, 120.0));
    assert_eq!(card("re_K0.jcpds").k0_gpa, 0.0);
    let cpx = card("FeGeO3_cpx.jcpds");
    assert_eq!(
        (cpx.b_ang, cpx.c_ang, cpx.beta_deg, cpx.alpha_deg),
        (9.1491, 5.1991, 101.89, 90.0)
    );
    let r = &cpx.reflections[3];
    assert_eq!(
        (r.d_ang, r.intensity, r.h, r.k, r.l),
        (2.97444, 94.1, -2, 2, 1)
    );
    let v2 = card("au_mal_anders_vers2.jcpds");
    assert_eq!(v2.volume_ang3, Some(67.8474211077));
    assert_eq!(v2.reflections[1].k, 1);
    // nanana.jcpds is syntactically sound: it reads. What is odd about it is
    // that its d-spacings do not belong to its cell (Ar, a = 5.5128 Å, has
    // d(111) = 3.183 Å; the card lists 2.52378 Å), which Dioptas ignores by
    // recomputing d from the cell.
    let odd = card("nanana.jcpds");
    let d111 = odd.a_ang / 3f64.sqrt();
    assert!((odd.reflections[0].d_ang - 2.52378).abs() < 1e-12);
    assert!((d111 - odd.reflections[0].d_ang).abs() > 0.5);
}

#[test]
fn jcpds_versions_1_to_3_synthetic() {
    // version 1 (Rivers): comment, "sym a0 K0 K0' c0/a0", labels, rows
    let v1 = "Gold, old format\n1, 4.0786, 166.65, 5.48, 1.0\nd I h k l\n2.355 100 1 1 1\n2.039 52 2 0 0\n";
    let c = read_jcpds_bytes(v1.as_bytes(), "au_v1.jcpds").unwrap();
    assert_eq!(
        (c.version, c.symmetry.as_str(), c.a_ang, c.c_ang),
        (1, "CUBIC", 4.0786, 4.0786)
    );
    assert_eq!((c.k0_gpa, c.k0p, c.reflections.len()), (166.65, 5.48, 2));
    let v1h = "Rhenium\n2 2.76 433.8 3.46 1.615\nd I h k l\n2.388 32 1 0 0\n";
    let c = read_jcpds_bytes(v1h.as_bytes(), "re_v1.jcpds").unwrap();
    assert_eq!(c.symmetry, "HEXAGONAL");
    assert!(close(c.c_ang, 2.76 * 1.615, 1e-15));
    assert_eq!(c.gamma_deg, 120.0);
    // version 2 (Shim): version, comment, "sym K0 K0'", cell, α_T, labels, rows
    let v2 = "2\nMgSiO3 perovskite\n4 253.0 3.9\n4.7754 4.9292 6.8969\n2.0e-5\nd I h k l\n3.449 20 0 0 2\n2.394 40 1 1 1\n";
    let c = read_jcpds_bytes(v2.as_bytes(), "pv.jcpds").unwrap();
    assert_eq!((c.version, c.symmetry.as_str()), (2, "ORTHORHOMBIC"));
    assert_eq!((c.a_ang, c.b_ang, c.c_ang), (4.7754, 4.9292, 6.8969));
    assert_eq!((c.alpha_t_per_k, c.reflections.len()), (2.0e-5, 2));
    // version 3: the same without a thermal expansion
    let v3 = "3\nClinopyroxene\n5 110.0 4.0\n9.7993 9.1491 5.1991 101.89\n0\nd I h k l\n3.40164 33.4 0 2 1\n";
    let c = read_jcpds_bytes(v3.as_bytes(), "cpx.jcpds").unwrap();
    assert_eq!(
        (c.version, c.symmetry.as_str(), c.beta_deg, c.gamma_deg),
        (3, "MONOCLINIC", 101.89, 90.0)
    );
    assert_eq!(c.reflections[0].l, 1);
}

#[test]
fn jcpds_errors_are_located() {
    let good = std::fs::read_to_string(data("xrd/jcpds/au_Anderson.jcpds")).unwrap();
    let cases = [
        (good.replace("A:      4.07860", "A:      4.O7860"), 6, "A"),
        (
            good.replace(
                "DIHKL:   2.0390     52.    2.00    0.00    0.00",
                "DIHKL:   2.0390     52.    2.00    0.00",
            ),
            9,
            "DIHKL l",
        ),
        (
            good.replace("1.2300     36.    3.00", "1.2300     36.    3.50"),
            11,
            "DIHKL h",
        ),
        (
            good.replace("K0P:       5.4823", "K0P       5.4823"),
            4,
            "keyword",
        ),
        (good.replace("A:      4.07860", "A:      -4"), 0, "A"),
    ];
    for (text, line, field) in cases {
        let e = read_jcpds_bytes(text.as_bytes(), "au.jcpds").unwrap_err();
        assert_eq!(e.file, "au.jcpds");
        assert_eq!(e.line, (line > 0).then_some(line), "{e}");
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
    }
    let e = read_jcpds_bytes(b"", "empty.jcpds").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("VERSION")));
    let e = read_jcpds_bytes(b"2\nx\n9 1 2\n", "v2.jcpds").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("symmetry")));
    let e = read_jcpds_bytes(b"3\nx\n4 1 2\n4.7 4.9\n", "v3.jcpds").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("c")), "{e}");
}

// ---- malformed column text ---------------------------------------------------

#[test]
fn malformed_columns_are_located() {
    let e = bytes_error(b"# 2th_deg I\n10.0 5\n10.1 abc\n10.2 7\n", "nonnum.xy");
    assert_eq!(
        (e.file.as_str(), e.line, e.field.as_deref()),
        ("nonnum.xy", Some(3), Some("intensity"))
    );
    assert!(e.message.contains("abc"), "{e}");
    let e = bytes_error(b"", "empty.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("data")));
    assert!(e.message.contains("empty"), "{e}");
    let e = bytes_error(b"# only a header\n# 2th_deg I\n", "header.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("data")));
    let e = bytes_error(b"10 1 0.1\n11 2\n", "ragged.xye");
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("sigma")));
    let e = bytes_error(b"10 1 0.1 5\n", "wide.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("data")));
    let e = bytes_error(b"10 1\n11 nan\n", "nan.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("intensity")));
    let e = bytes_error(b"10 1\n11\n", "one.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("intensity")));
    let e = bytes_error(b"# Wavelength: fast\n10 1\n", "wl.xy");
    assert_eq!((e.line, e.field.as_deref()), (Some(1), Some("wavelength")));
    // a Fit2D header with a count that is not a number is not Fit2D: the
    // header lines are text and the rows read as columns
    let p = bytes_pattern(
        b"title\n2-Theta Angle (Degrees)\n\nmany\n1 2\n3 4\n",
        "c.chi",
    );
    assert_eq!(p.source_format, "xy");
    let e = bytes_error(b"title\nRadial distance (mm)\n\n2\n1 2\n3 4\n", "r.chi");
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(2), Some("x axis label"))
    );
}

#[test]
fn xye_sigma_and_apostrophe_comments() {
    let p = bytes_pattern(
        b"' written by a Rietveld program\n' 2theta I esd\n10.0, 100, 10\n10.5, 400, 20\n",
        "a.xye",
    );
    assert_eq!(p.source_format, "xye");
    assert_eq!(p.two_theta_deg, [10.0, 10.5]);
    assert_eq!(p.sigma.unwrap(), [10.0, 20.0]);
}

// ---- conversions ------------------------------------------------------------

#[test]
fn bragg_conversions() {
    let p = pattern(&fixture("xrd/quartz_101.xrdml"));
    let q = p.q_inv_ang().unwrap();
    let d = p.d_ang().unwrap();
    for ((&tt, &q), &d) in p.two_theta_deg.iter().zip(&q).zip(&d) {
        assert!(close(q * d, 2.0 * std::f64::consts::PI, 1e-14));
        assert!(close(two_theta_from_q(q, 1.540598).unwrap(), tt, 1e-12));
        assert!(close(two_theta_from_d(d, 1.540598).unwrap(), tt, 1e-12));
    }
    // quartz (101), d = 3.3435 Å, at Cu Kα1: 2θ = 26.6397°
    assert!(close(
        two_theta_from_d(3.3435, 1.540598).unwrap(),
        26.639716542885814,
        1e-14
    ));
    assert!(close(d_from_two_theta(90.0, 1.0), 1.0 / 2f64.sqrt(), 1e-15));
    assert!(close(
        q_from_two_theta(180.0, 1.0),
        4.0 * std::f64::consts::PI,
        1e-15
    ));
    assert_eq!(two_theta_from_q(13.0, 1.0), None);
    assert_eq!(two_theta_from_d(0.4, 1.0), None);
    // without a wavelength: an error naming the field
    let xy = pattern(&data("xrd/quartz.xy"));
    for e in [xy.q_inv_ang().unwrap_err(), xy.d_ang().unwrap_err()] {
        assert_eq!(e.field.as_deref(), Some("wavelength"));
        assert_eq!(e.file, "quartz");
    }
}

// ---- detection ----------------------------------------------------------------

#[test]
fn format_detection_by_content() {
    let cases: [(PathBuf, PatternFormat); 7] = [
        (data("xrd/bruker_raw/D5000_1.RAW"), PatternFormat::BrukerRaw),
        (data("xrd/bruker_raw/D5000_1.xy"), PatternFormat::Columns),
        (data("xrd/pattern_001.chi"), PatternFormat::Fit2dChi),
        (data("xrd/pattern_001.xy"), PatternFormat::Columns),
        (fixture("xrd/synthetic.brml"), PatternFormat::Brml),
        (fixture("xrd/quartz_101.xrdml"), PatternFormat::Xrdml),
        (fixture("xrd/si_cw.fxye"), PatternFormat::Gsas),
    ];
    for (path, want) in cases {
        let bytes = std::fs::read(&path).unwrap();
        // the extension does not decide
        assert_eq!(xrd::detect(&bytes, Some("dat")), want, "{}", path.display());
    }
}

// ---- robustness: cut and corrupted inputs never panic -------------------------

/// Every prefix length class and a few hundred byte flips of each sample:
/// a reader returns a pattern or an error naming the file, never panics.
/// (The same inputs the `xrd` fuzz target starts from.)
#[test]
fn cut_and_corrupted_inputs_fail_cleanly() {
    let samples = [
        data("xrd/bruker_raw/D5000_2.RAW"),
        data("xrd/pattern_001.chi"),
        data("xrd/fe3o4_map/Fe3O4C_M1_map_1_P1_E1_001.xy"),
        fixture("xrd/synthetic.brml"),
        fixture("xrd/quartz_101.xrdml"),
        fixture("xrd/si_cw.fxye"),
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut inputs: Vec<Vec<u8>> = vec![raw_v1(), raw_v2(), raw_v3_two_ranges(), raw_v4()];
    for s in &samples {
        inputs.push(std::fs::read(s).unwrap());
    }
    let mut tried = 0;
    for full in &inputs {
        let n = full.len();
        for cut in (0..n).step_by((n / 97).max(1)) {
            check_clean(&full[..cut]);
            tried += 1;
        }
        for _ in 0..150 {
            let mut b = full.clone();
            for _ in 0..1 + rand() % 4 {
                let at = (rand() % n as u64) as usize;
                b[at] = (rand() & 0xff) as u8;
            }
            check_clean(&b);
            tried += 1;
        }
    }
    let jc = std::fs::read(data("xrd/jcpds/FeGeO3_cpx.jcpds")).unwrap();
    for cut in 0..jc.len() {
        if let Err(e) = read_jcpds_bytes(&jc[..cut], "cut.jcpds") {
            assert_eq!(e.file, "cut.jcpds");
        }
    }
    assert!(tried > 1500, "{tried}");
}

fn check_clean(bytes: &[u8]) {
    match read_pattern_bytes(bytes, "fuzz.bin", None) {
        Ok(p) => {
            assert_eq!(p.two_theta_deg.len(), p.intensity.len());
            assert!(
                p.two_theta_deg
                    .iter()
                    .chain(&p.intensity)
                    .all(|v| v.is_finite())
            );
        }
        Err(e) => assert!(e.file.starts_with("fuzz.bin"), "{e}"),
    }
}
