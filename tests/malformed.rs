//! The project's own malformed-input corpus (tests/malformed/): every file
//! either fails with a ParseError naming the file, the line and the field,
//! or — when it is legitimately readable — loads with the right values.
//! Processing spectra without an edge, and absurd processing parameters,
//! must be XasErrors, never NaN output.

use std::path::PathBuf;

mod common;

use carto::ParseError;
use carto::io::{Dataset, LoadOptions, MuRecipe, XasSpectrum, load, load_bytes};
use carto::xas::{
    self, AutobkParams, ChainParams, FtParams, PreEdgeParams, XasError, autobk, pre_edge, xftf,
};

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/malformed")
        .join(name)
}

/// Load a corpus file that must fail; the error must name that file.
fn fails(name: &str) -> ParseError {
    let p = path(name);
    match load(&p, &LoadOptions::default()) {
        Ok(d) => panic!("{name} loaded as {} but must fail", d.modality()),
        Err(e) => {
            assert_eq!(e.file, p.display().to_string(), "{e}");
            e
        }
    }
}

/// Assert the error's line and field.
fn located(e: &ParseError, line: usize, field: Option<&str>) {
    assert_eq!(e.line, Some(line), "{e}");
    assert_eq!(e.field.as_deref(), field, "{e}");
}

fn xas_of(name: &str) -> XasSpectrum {
    match load(&path(name), &LoadOptions::default()) {
        Ok(Dataset::Xas(s)) => s,
        Ok(d) => panic!("{name} loaded as {}", d.modality()),
        Err(e) => panic!("{name}: {e}"),
    }
}

fn ln_ratio(i0: &[f64], it: &[f64]) -> Vec<f64> {
    i0.iter().zip(it).map(|(a, b)| (a / b).ln()).collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{got:?} vs {want:?}"
        );
    }
}

// ---- files that must fail, with their location -------------------------

#[test]
fn truncated_xdi_names_the_cut_row() {
    let e = fails("truncated.xdi");
    located(&e, 14, Some("itrans"));
    assert!(e.message.contains("2 fields"), "{e}");
}

#[test]
fn xdi_nan_value() {
    let e = fails("nan.xdi");
    located(&e, 8, Some("mutrans"));
    assert!(e.message.contains("NaN"), "{e}");
}

#[test]
fn xdi_inf_value() {
    let e = fails("inf.xdi");
    located(&e, 10, Some("itrans"));
    assert!(e.message.contains("inf"), "{e}");
}

#[test]
fn column_of_empty_fields() {
    // `7000,,40000`: the empty i0 must not shift `it` into its place.
    let e = fails("empty_field.csv");
    located(&e, 2, Some("i0"));
    assert!(e.message.contains("empty field"), "{e}");
}

#[test]
fn declared_column_without_data() {
    // As the XDI library does: read, the extra label ignored with a
    // warning at its line (a cut export still shows).
    let s = xas_of("label_without_data.xdi");
    assert_eq!(s.table.labels, ["energy", "i0", "itrans"]);
    let want = format!(
        "{}:5: Column.4 ('irefer') is declared but the data rows have only 3 columns",
        path("label_without_data.xdi").display()
    );
    assert!(
        s.table.warnings.iter().any(|w| w.starts_with(&want)),
        "{:?}",
        s.table.warnings
    );
}

#[test]
fn non_monotonic_energy() {
    let e = fails("non_monotonic.dat");
    located(&e, 6, Some("energy"));
    assert!(e.message.contains("backwards"), "{e}");
}

#[test]
fn binary_junk() {
    let e = fails("binary.dat");
    located(&e, 4, None);
    assert!(e.message.contains("offset 36"), "{e}");
}

#[test]
fn header_only_columns() {
    let e = fails("header_only.dat");
    located(&e, 3, None);
    assert!(e.message.contains("no numeric data"), "{e}");
}

#[test]
fn header_only_xdi() {
    let e = fails("header_only.xdi");
    located(&e, 6, None);
    assert!(e.message.contains("no data"), "{e}");
}

#[test]
fn truncated_gzip_athena_project() {
    let e = fails("truncated.prj");
    located(&e, 6, Some("gzip"));
    assert!(e.message.contains("truncated gzip"), "{e}");
}

#[test]
fn athena_garbage_in_array() {
    let e = fails("garbage_array.prj");
    located(&e, 7, Some("@y[2]"));
    assert!(e.message.contains("'bad' is not a number"), "{e}");
}

#[test]
fn truncated_feff_table() {
    let e = fails("truncated_feff.dat");
    located(&e, 16, Some("red factor"));
    assert!(e.message.contains("4 of 7"), "{e}");
}

#[test]
fn empty_file() {
    let e = load_bytes(b"", "empty.dat", &LoadOptions::default()).err();
    assert!(e.is_some_and(|e| e.file == "empty.dat"));
}

#[test]
fn utf16_cut_mid_character() {
    // BOM, "1\n", then one stray byte.
    let bytes = [0xff, 0xfe, b'1', 0, b'\n', 0, b'2'];
    let e = load_bytes(&bytes, "cut16.dat", &LoadOptions::default()).err();
    let Some(e) = e else {
        panic!("odd-length UTF-16 must fail")
    };
    assert_eq!(e.file, "cut16.dat");
    located(&e, 2, None);
}

// ---- files that are legitimately readable -------------------------------

#[test]
fn duplicated_points_are_nudged() {
    let s = xas_of("duplicated.dat");
    assert_eq!(s.recipe, MuRecipe::Column { mu: 1 });
    assert_close(&s.energy_ev, &[7000.0, 7001.0, 7001.000001, 7002.0]);
    assert_close(&s.mu, &[0.10, 0.11, 0.11, 0.12]);
}

#[test]
fn mixed_delimiters() {
    let s = xas_of("mixed_delimiters.dat");
    assert_eq!(s.table.labels, ["energy", "i0", "it"]);
    assert_close(&s.energy_ev, &[7000.0, 7001.0, 7002.0]);
    assert_eq!(s.recipe, MuRecipe::Transmission { i0: 1, it: 2 });
    let want = ln_ratio(
        &[100000.0, 100010.0, 100020.0],
        &[40000.0, 40010.0, 40020.0],
    );
    assert_close(&s.mu, &want);
}

/// The three-row transmission scan both crlf.xdi and utf16.dat hold.
fn assert_small_scan(s: &XasSpectrum, it_label: &str) {
    assert_eq!(s.table.labels, ["energy", "i0", it_label]);
    assert_close(&s.energy_ev, &[7000.0, 7001.0, 7002.0]);
    assert_eq!(s.recipe, MuRecipe::Transmission { i0: 1, it: 2 });
    let want = ln_ratio(
        &[100000.0, 100010.0, 100020.0],
        &[40000.0, 39000.0, 38000.0],
    );
    assert_close(&s.mu, &want);
}

#[test]
fn windows_line_endings() {
    let s = xas_of("crlf.xdi");
    assert_small_scan(&s, "itrans");
    assert_eq!(s.table.row_lines, [7, 8, 9]);
    assert!(s.table.labels.iter().all(|l| !l.contains('\r')));
}

#[test]
fn utf16_text() {
    let s = xas_of("utf16.dat");
    assert_small_scan(&s, "it");
    assert_eq!(s.table.row_lines, [2, 3, 4]);
}

#[test]
fn huge_header_generated() {
    // 200 000 header lines (~5 MB), made here rather than committed.
    let mut text = String::with_capacity(6 << 20);
    for i in 0..200_000 {
        text.push_str(&format!("# header line {i} KEY{i}= value\n"));
    }
    text.push_str("# energy mu\n7000.0 0.1\n7001.0 0.2\n7002.0 0.3\n");
    let d = load_bytes(text.as_bytes(), "huge.dat", &LoadOptions::default());
    let Ok(Dataset::Xas(s)) = d else {
        panic!("huge header: {d:?}")
    };
    assert_eq!(s.table.labels, ["energy", "mu"]);
    assert_close(&s.mu, &[0.1, 0.2, 0.3]);
    assert_eq!(s.table.row_lines, [200_002, 200_003, 200_004]);
    // One enormous header line too, then a damaged row after it.
    let long = format!(
        "# {}\n# energy mu\n7000.0 0.1\n7001.0 x\n",
        "a".repeat(4 << 20)
    );
    let e = load_bytes(long.as_bytes(), "long.dat", &LoadOptions::default()).err();
    let Some(e) = e else {
        panic!("damaged row must fail")
    };
    located(&e, 4, Some("mu"));
}

// ---- processing: no edge, absurd parameters -----------------------------

fn no_edge(name: &str) {
    let s = xas_of(name);
    assert_eq!(s.energy_ev.len(), 316);
    match xas::process(&s.energy_ev, &s.mu, &ChainParams::default()) {
        Err(XasError::NoEdge(_)) => {}
        other => panic!("{name}: want NoEdge, got {other:?}"),
    }
}

#[test]
fn all_zero_mu_is_an_error() {
    no_edge("zero_mu.dat");
}

#[test]
fn constant_mu_is_an_error() {
    no_edge("constant_mu.dat");
}

/// A smooth synthetic K edge at 7112 eV with EXAFS wiggles.
fn spectrum() -> (Vec<f64>, Vec<f64>) {
    let e: Vec<f64> = (0..600).map(|i| 6900.0 + 1.5 * i as f64).collect();
    let mu = e
        .iter()
        .map(|&x| {
            let d = x - 7112.0;
            let k = (0.2625 * d.max(0.0)).sqrt();
            0.5 + 0.5 * (d / 3.0).tanh() + 0.05 * (2.0 * 2.5 * k).sin() * (-0.01 * k * k).exp()
        })
        .collect();
    (e, mu)
}

fn bad_param<T: std::fmt::Debug>(r: Result<T, XasError>, want: &str) {
    match r {
        Err(XasError::BadParam { name, .. }) if name == want => {}
        other => panic!("want BadParam {want}, got {other:?}"),
    }
}

#[test]
fn pre_edge_rejects_absurd_parameters() {
    let (e, mu) = spectrum();
    assert!(pre_edge(&e, &mu, &PreEdgeParams::default()).is_ok());
    let with = |f: &dyn Fn(&mut PreEdgeParams)| {
        let mut p = PreEdgeParams::default();
        f(&mut p);
        pre_edge(&e, &mu, &p)
    };
    bad_param(with(&|p| p.e0 = Some(f64::NAN)), "e0");
    bad_param(with(&|p| p.pre1 = Some(f64::NAN)), "pre1");
    bad_param(with(&|p| p.norm2 = Some(f64::INFINITY)), "norm2");
    bad_param(with(&|p| p.step = Some(0.0)), "step");
    bad_param(with(&|p| p.nvict = 400), "nvict");
}

#[test]
fn autobk_rejects_absurd_parameters() {
    let (e, mu) = spectrum();
    assert!(autobk(&e, &mu, &AutobkParams::default(), None).is_ok());
    let with = |f: &dyn Fn(&mut AutobkParams)| {
        let mut p = AutobkParams::default();
        f(&mut p);
        autobk(&e, &mu, &p, None)
    };
    bad_param(with(&|p| p.rbkg = -1.0), "rbkg");
    bad_param(with(&|p| p.rbkg = f64::NAN), "rbkg");
    bad_param(
        with(&|p| {
            p.kmin = 8.0;
            p.kmax = Some(4.0);
        }),
        "kmax",
    );
    bad_param(with(&|p| p.nfft = 1000), "nfft");
    bad_param(with(&|p| p.kweight = f64::NAN), "kweight");
    bad_param(with(&|p| p.e0 = Some(f64::NAN)), "e0");
}

#[test]
fn xftf_rejects_absurd_parameters() {
    let k: Vec<f64> = (0..300).map(|i| 0.05 * i as f64).collect();
    let chi: Vec<f64> = k.iter().map(|&x| (5.0 * x).sin()).collect();
    assert!(xftf(&k, &chi, &FtParams::default()).is_ok());
    let with = |f: &dyn Fn(&mut FtParams)| {
        let mut p = FtParams::default();
        f(&mut p);
        xftf(&k, &chi, &p)
    };
    bad_param(
        with(&|p| {
            p.kmin = 10.0;
            p.kmax = 3.0;
        }),
        "kmax",
    );
    bad_param(with(&|p| p.nfft = 1000), "nfft");
    bad_param(with(&|p| p.kmin = f64::NAN), "kmin");
    bad_param(with(&|p| p.dk = f64::NAN), "dk");
    bad_param(with(&|p| p.dk2 = Some(f64::NAN)), "dk2");
    bad_param(with(&|p| p.kweight = f64::INFINITY), "kweight");
}

// ---- bounded memory and time: every reader path ------------------------

/// Every way a path is read refuses it with the same reason.
fn refused_everywhere(p: &std::path::Path, want: &str) {
    let o = LoadOptions::default();
    let e = carto::io::open(p, &o).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains(want)),
        "open: {e:?}"
    );
    let e = load(p, &o).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains(want)),
        "load: {e:?}"
    );
    let e = carto::io::xrd::read_pattern(p).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains(want)),
        "pattern: {e:?}"
    );
    let e = carto::structure::read_cif(p).err().map(|e| e.to_string());
    assert!(e.as_deref().is_some_and(|e| e.contains(want)), "cif: {e:?}");
    let e = carto::io::xrd::read_jcpds(p).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains(want)),
        "jcpds: {e:?}"
    );
}

#[cfg(unix)]
#[test]
fn endless_and_device_files_are_refused_before_reading() {
    refused_everywhere(std::path::Path::new("/dev/zero"), "a character device");
    let dir = std::env::temp_dir().join(format!("carto-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pipe.xy");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        // Opening a FIFO with no writer would block forever: refused by kind.
        refused_everywhere(&fifo, "a FIFO");
    }
    refused_everywhere(&dir, "a folder");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_over_the_size_limit_are_refused_by_their_metadata() {
    let dir = std::env::temp_dir().join(format!("carto-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.xy");
    // Sparse: the size is set, nothing is written or read.
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(carto::io::MAX_INPUT_BYTES + 1).unwrap();
    drop(f);
    refused_everywhere(&big, "more than the 536870912 bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gzip_bomb_project_is_refused_at_the_inflate_cap() {
    // 300 concatenated gzip members of 1 MiB of spaces each: a ~300 KB file
    // that inflates to 300 MiB; the cap is 64× + 16 MiB ≈ 35 MiB.
    let mut one = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut one, b"# Athena project file\n").unwrap();
    std::io::Write::write_all(&mut one, &vec![b' '; 1 << 20]).unwrap();
    let one = one.finish().unwrap();
    let bytes: Vec<u8> = one.iter().copied().cycle().take(one.len() * 300).collect();
    let t = std::time::Instant::now();
    let e = load_bytes(&bytes, "bomb.prj", &LoadOptions::default()).err();
    let Some(e) = e else {
        panic!("a gzip bomb must fail")
    };
    assert_eq!(
        (e.file.as_str(), e.field.as_deref()),
        ("bomb.prj", Some("gzip"))
    );
    assert!(e.message.contains("inflates past"), "{e}");
    assert!(t.elapsed().as_secs() < 10, "{:?}", t.elapsed());
}

#[test]
fn xml_element_bomb_is_refused_by_count() {
    // 1,000,001 empty elements: 4 MB of text, ~150 MB of tree if it were built.
    let mut text = String::from("<?xml version=\"1.0\"?>\n<xrdMeasurements>\n");
    text.push_str(&"<a/>".repeat(1_000_001));
    text.push_str("\n</xrdMeasurements>\n");
    let e = carto::io::xrd::read_pattern_bytes(text.as_bytes(), "bomb.xrdml", Some("xrdml")).err();
    let Some(e) = e else {
        panic!("an element bomb must fail")
    };
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("xml")), "{e}");
    assert!(e.message.contains("more than 1000000 elements"), "{e}");
}

#[test]
fn xml_nested_past_the_depth_bound_is_refused() {
    // 257 levels of <a>: past the 256 the XML reader allows (a recursion
    // or stack bomb in a few KB).
    let text = format!(
        "<?xml version=\"1.0\"?>\n<xrdMeasurements>\n{}{}\n</xrdMeasurements>\n",
        "<a>".repeat(257),
        "</a>".repeat(257)
    );
    let e = carto::io::xrd::read_pattern_bytes(text.as_bytes(), "deep.xrdml", Some("xrdml")).err();
    let Some(e) = e else {
        panic!("deep nesting must fail")
    };
    assert_eq!(e.field.as_deref(), Some("xml"), "{e}");
    assert!(e.message.contains("nested deeper than 256"), "{e}");
}

// ---- 2θ axes and wavelengths: one rule in every reader ------------------

fn pattern_err(name: &str) -> ParseError {
    let p = path(name);
    match carto::io::xrd::read_pattern(&p) {
        Ok(x) => panic!(
            "{name} read as a pattern of {} points but must fail",
            x.npts()
        ),
        Err(e) => {
            assert_eq!(e.file, p.display().to_string(), "{e}");
            e
        }
    }
}

#[test]
fn bad_two_theta_axes_are_refused() {
    for (name, field, want) in [
        ("constant_axis.xy", "2theta", "step 0"),
        (
            "zero_two_theta.xy",
            "2theta",
            "point 1: 2θ = 0° is outside (0°, 180°]",
        ),
        ("over_180.xy", "2theta", "point 22: 2θ = 180.5°"),
        ("one_point.xy", "data", "only one data point"),
        (
            "backwards_step.xy",
            "2theta",
            "does not increase at point 21 (10.36° after 10.38°)",
        ),
        ("bad_wavelength.xy", "wavelength", "outside 0.01–20 Å"),
    ] {
        let e = pattern_err(name);
        assert_eq!(e.field.as_deref(), Some(field), "{name}: {e}");
        assert!(e.message.contains(want), "{name}: {e}");
    }
}

#[test]
fn descending_scan_is_sorted_with_a_warning() {
    let p = carto::io::xrd::read_pattern(&path("descending.xy")).expect("descending");
    assert_eq!(p.npts(), 40);
    assert_eq!((p.two_theta_deg[0], p.intensity[0]), (10.0, 100.0));
    assert_eq!((p.two_theta_deg[39], p.intensity[39]), (10.78, 104.0));
    assert!(
        p.warnings.iter().any(|w| w.contains("sorted")),
        "{:?}",
        p.warnings
    );
}

// ---- line endings: CR, LF and CRLF, mixed or not ------------------------

#[test]
fn cr_only_pattern_is_recognised_as_xrd() {
    match carto::io::open(&path("cr_only.xy"), &LoadOptions::default()) {
        Ok(carto::io::Opened::Pattern(p)) => {
            assert_eq!(p.npts(), 40);
            assert_eq!((p.two_theta_deg[1], p.intensity[1]), (10.1, 101.0));
        }
        other => panic!("cr_only.xy: {:?}", other.map(|o| o.kind())),
    }
}

// ---- routing: energy beside a 2θ motor; a pattern given to carto xas ----

#[test]
fn energy_beside_a_two_theta_motor_is_a_spectrum() {
    let f = path("spec_energy_twotheta.dat");
    match carto::io::open(&f, &LoadOptions::default()) {
        Ok(carto::io::Opened::Spectra(ds)) => assert_eq!(ds.modality(), "xas"),
        other => panic!("spec_energy_twotheta.dat: {:?}", other.map(|o| o.kind())),
    }
    let out = carto_cli(&["info".as_ref(), f.as_os_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("xas"), "{text}");
}

#[test]
fn carto_xas_on_a_powder_pattern_says_it_is_one() {
    for name in ["cr_only.xy", "utf16.xy"] {
        let out = carto_cli(&["xas".as_ref(), path(name).as_os_str()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(
            err.contains(name) && err.contains("a powder pattern"),
            "{name}: {err}"
        );
    }
}

#[test]
fn mixed_cr_and_crlf_keep_every_row() {
    // crlf.xdi with every other line end a bare CR: the same three rows.
    let s = xas_of("mixed_cr_crlf.xdi");
    assert_small_scan(&s, "itrans");
    assert_eq!(s.table.row_lines, [7, 8, 9]);
    let s = xas_of("cr_only.dat");
    assert_close(&s.mu, &[0.1, 0.2, 0.3]);
    assert_eq!(s.table.row_lines, [2, 3, 4]);
    let lines: Vec<&str> = carto::io::split_lines("a\rb\r\nc\nd\r\re").collect();
    assert_eq!(lines, ["a", "b", "c", "d", "", "e"]);
}

// ---- the XDI library's own reader suite ----------------------------------

/// Carto's verdict on one file of ../shared/data/xas/xdi_suite: the error's
/// line and words, or the located warnings (line, words) of a read.
enum Verdict {
    Error(usize, &'static str),
    Read(&'static [(usize, &'static str)]),
}

const XDI_SUITE: &[(&str, Verdict)] = {
    use Verdict::{Error, Read};
    &[
        ("bad_00.xdi", Read(&[])),
        ("bad_01.xdi", Error(1, "missing '# XDI/1.0' version line")),
        ("bad_02.xdi", Read(&[(1, "no Element.edge")])),
        ("bad_03.xdi", Read(&[(1, "no Element.symbol")])),
        (
            "bad_04.xdi",
            Read(&[(6, "Element.edge 'Foo' is not an X-ray edge")]),
        ),
        (
            "bad_05.xdi",
            Read(&[(7, "Element.symbol 'Foo' is not an element")]),
        ),
        ("bad_06.xdi", Read(&[(29, "no '# ----' line")])),
        ("bad_07.xdi", Read(&[(1, "no Column.N fields")])),
        (
            "bad_08.xdi",
            Read(&[(4, "4 data columns but only 3 Column.N labels")]),
        ),
        (
            "bad_09.xdi",
            Read(&[(
                6,
                "Column.5 ('misc_fluor') is declared but the data rows have only 4 columns; label ignored",
            )]),
        ),
        (
            "bad_10.xdi",
            Read(&[(
                5,
                "Column.7 ('mutrans') skips Column.4: column numbers are not contiguous",
            )]),
        ),
        (
            "bad_11.xdi",
            Read(&[(12, "starts with '!'"), (13, "starts with '!'")]),
        ),
        (
            "bad_12.xdi",
            Read(&[(2, "angle but there is no Mono.d_spacing")]),
        ),
        (
            "bad_13.xdi",
            Error(31, "row has 3 fields but the data block has 4 columns"),
        ),
        (
            "bad_14.xdi",
            Error(36, "row has 6 fields but the data block has 4 columns"),
        ),
        ("bad_15.xdi", Error(29, "non-finite value 'nan'")),
        ("bad_16.xdi", Error(30, "'STRING' is not a number")),
        ("bad_17.xdi", Error(29, "'1.4.9' is not a number")),
        (
            "bad_18.xdi",
            Error(8, "is not 'Family.Key: Value': no value"),
        ),
        ("bad_19.xdi", Error(8, "is not 'Family.Key: Value': no ':'")),
        ("bad_20.xdi", Error(8, "no '.' between Family and Key")),
        ("bad_21.xdi", Error(8, "no '.' between Family and Key")),
        ("bad_22.xdi", Error(8, "more than one '.'")),
        ("bad_23.xdi", Read(&[])),
        ("bad_24.xdi", Error(8, "the Family starts with a digit")),
        ("bad_25.xdi", Read(&[])),
        ("bad_26.xdi", Read(&[])),
        ("bad_27.xdi", Read(&[])),
        (
            "bad_28.xdi",
            Read(&[(
                18,
                "Scan.start_time '2001-Jun-26 22:27:31' is not an ISO 8601",
            )]),
        ),
        (
            "bad_29.xdi",
            Read(&[(
                18,
                "Scan.start_time '2001-26-6T22:27:31' is not an ISO 8601",
            )]),
        ),
        (
            "bad_30.xdi",
            Read(&[(6, "Element.edge 'Bar'"), (7, "Element.symbol 'Foo'")]),
        ),
        (
            "bad_31.xdi",
            Read(&[(10, "Mono.d_spacing 'three point one three five five three'")]),
        ),
        (
            "bad_32.xdi",
            Read(&[(
                1,
                "missing recommended XDI metadata: Facility.name, Beamline.name, Column.1",
            )]),
        ),
        (
            "bad_33.xdi",
            Read(&[(23, "Sample.temperature '300.0a K' is not a number")]),
        ),
        (
            "bad_34.xdi",
            Read(&[(16, "Facility.energy '7.00 missing units' is not a number")]),
        ),
        (
            "bad_35.xdi",
            Read(&[(17, "Facility.current '101x ma' is not a number")]),
        ),
    ]
};

#[test]
fn xdi_reference_suite_verdicts() {
    let dir = common::data("xas/xdi_suite");
    let listing = std::fs::read_to_string(dir.join("BadFiles.txt")).expect("BadFiles.txt");
    let opts = LoadOptions::default();
    let mut checked = 0;
    for line in listing.lines() {
        let Some((name, rest)) = line.split_once(".xdi") else {
            continue;
        };
        let name = format!("{}.xdi", name.trim());
        if !name.starts_with("bad_") {
            continue;
        }
        let rest = rest.trim_start();
        // The reference: `error msg`, or `file read` with a note: (1), (2),
        // (3) and (7) are warnings, (4)–(6) plain reads.
        let reference_errors = rest.starts_with("error msg");
        let warns = ["(1)", "(2)", "(3)", "(7)"]
            .iter()
            .any(|n| rest.starts_with(&format!("file read{n}")));
        let Some((_, want)) = XDI_SUITE.iter().find(|(n, _)| *n == name) else {
            panic!("{name} is in BadFiles.txt but not in this test");
        };
        let p = dir.join(&name);
        let file = p.display().to_string();
        let text = std::fs::read_to_string(&p).expect("suite file");
        let parsed = carto::io::xdi::parse(&text, &file, &opts);
        match want {
            Verdict::Error(at, words) => {
                assert!(reference_errors, "{name}: the reference reads it");
                let e = parsed.err().unwrap_or_else(|| panic!("{name} must fail"));
                assert_eq!((e.file.as_str(), e.line), (file.as_str(), Some(*at)), "{e}");
                assert!(e.message.contains(words), "{name}: {e}");
                match load(&p, &opts) {
                    // Without its version line it reads as plain columns, saying so.
                    Ok(Dataset::Xas(s)) if name == "bad_01.xdi" => {
                        let w = format!("{file}:1: XDI fields but no '# XDI/1.0' version line");
                        assert!(
                            s.table.warnings.iter().any(|x| x.starts_with(&w)),
                            "{:?}",
                            s.table.warnings
                        );
                        assert!(
                            s.table
                                .warnings
                                .iter()
                                .any(|x| x.contains("read as a plain column file"))
                        );
                    }
                    Ok(d) => panic!("{name} loaded as {}", d.modality()),
                    Err(l) => assert_eq!(l, e, "{name}: load and parse disagree"),
                }
            }
            Verdict::Read(expected) => {
                assert!(!reference_errors, "{name}: the reference refuses it");
                let x = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
                let w = &x.table.warnings;
                assert_eq!(warns, !expected.is_empty(), "{name}: {w:?}");
                if !warns {
                    assert!(w.is_empty(), "{name} must read without warnings: {w:?}");
                }
                for (at, words) in *expected {
                    let head = format!("{file}:{at}: ");
                    assert!(
                        w.iter().any(|x| x.starts_with(&head) && x.contains(words)),
                        "{name}: no warning '{head}…{words}…' in {w:?}"
                    );
                }
                match load(&p, &opts) {
                    Ok(Dataset::Xas(s)) => {
                        assert_eq!(s.energy_ev.len(), x.table.npts(), "{name}");
                        assert_eq!(&s.table.warnings, w, "{name}");
                    }
                    other => panic!("{name}: {:?}", other.map(|d| d.modality())),
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 36, "BadFiles.txt lists bad_00 … bad_35");
}

#[test]
fn non_xafs_xdi_files_show_their_columns() {
    let dir = common::data("xas/xdi_suite");
    for (name, cols) in [
        ("nonxafs_1d.xdi", &["x", "i0", "itrans", "mutrans"][..]),
        ("nonxafs_negvalues.xdi", &["X", "Y", "Z"][..]),
    ] {
        let p = dir.join(name);
        // Not μ on a position axis …
        let e = load(&p, &LoadOptions::default()).err();
        assert!(
            e.as_ref()
                .is_some_and(|e| e.message.contains("no energy, angle or k column")),
            "{name}: {e:?}"
        );
        // … but `carto info` reads it and lists its columns.
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_carto"))
            .args(["info", "--json"])
            .arg(&p)
            .output()
            .expect("run carto");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(j["modality"], "table", "{j}");
        assert_eq!(j["columns"], serde_json::json!(cols), "{j}");
    }
    // The 2-D map holds energy scans: a spectrum.
    let d = load(&dir.join("nonxafs_2d.xdi"), &LoadOptions::default());
    assert!(
        matches!(d, Ok(Dataset::Xas(_))),
        "{:?}",
        d.map(|d| d.modality())
    );
}

// ---- CIF: symmetry, displacements, coordinates ---------------------------

fn cif_err(name: &str) -> carto::structure::StructureError {
    let p = path(name);
    match carto::structure::read_cif(&p) {
        Ok(s) => panic!("{name} read as {} structure(s) but must fail", s.len()),
        Err(e) => {
            assert_eq!(e.file, p.display().to_string(), "{e}");
            e
        }
    }
}

fn cif_ok(name: &str) -> carto::structure::Structure {
    match carto::structure::read_cif(&path(name)) {
        Ok(mut s) if s.len() == 1 => s.remove(0),
        Ok(s) => panic!("{name}: {} blocks", s.len()),
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn cif_symmetry_that_cannot_be_read_is_located_not_p1() {
    for (name, line, want) in [
        ("cif_bad_hall.cif", 8, "'Q 9 z' is not a Hall symbol"),
        (
            "cif_sg_number_231.cif",
            8,
            "'231' is not a space-group number (1–230)",
        ),
        (
            "cif_sg_number_fraction.cif",
            8,
            "'2.5' is not a space-group number (1–230)",
        ),
        ("cif_shear_ops.cif", 10, "generate more than 192 operations"),
    ] {
        let e = cif_err(name);
        assert_eq!(e.line, Some(line), "{name}: {e}");
        assert!(e.message.contains(want), "{name}: {e}");
    }
}

#[test]
fn cif_operations_that_are_no_group_are_closed_with_a_warning() {
    // x,y,z and a 4-fold -y,x,z: the 2-fold and the other 4-fold are added.
    let s = cif_ok("cif_open_ops.cif");
    assert_eq!(s.sites.len(), 4, "{:?}", s.sites);
    assert!(
        s.warnings.iter().any(|w| w.starts_with("line 10:")
            && w.contains("closed to 4 by adding 2 products (first: -x,-y,z)")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn cif_displacements_and_coordinates() {
    // Absurd: located errors naming site and tag.
    for (name, line, want) in [
        (
            "cif_absurd_u.cif",
            16,
            "site O1: _atom_site_U_iso_or_equiv = 1000 Å² is absurd",
        ),
        (
            "cif_absurd_b.cif",
            15,
            "site Fe1: _atom_site_B_iso_or_equiv = 9000 Å² is absurd",
        ),
        (
            "cif_far_coordinate.cif",
            15,
            "site O1: fract_x = 12.5 is more than 10 cells away",
        ),
    ] {
        let e = cif_err(name);
        assert_eq!(e.line, Some(line), "{name}: {e}");
        assert!(e.message.contains(want), "{name}: {e}");
    }
    // Outside the physical 0–1 Å² but seen in real libraries (a B in the U
    // column, a slightly negative refined U): read, the value not used.
    let s = cif_ok("cif_negative_u.cif");
    let b_of = |s: &carto::structure::Structure, l: &str| {
        s.sites.iter().find(|x| x.label == l).map(|x| x.b_iso_ang2)
    };
    assert_eq!(b_of(&s, "O1"), Some(None));
    let b_fe = b_of(&s, "Fe1").flatten().unwrap_or(f64::NAN);
    assert!((b_fe - 8.0 * std::f64::consts::PI.powi(2) * 0.012).abs() < 1e-9);
    assert!(
        s.warnings.iter().any(|w| w.starts_with("line 16: site O1:")
            && w.contains("-0.02 Å² is outside the physical 0–1 Å²; not used")),
        "{:?}",
        s.warnings
    );
    let s = cif_ok("cif_u_as_b.cif");
    assert_eq!(b_of(&s, "Fe1"), Some(None));
    assert!(
        s.warnings.iter().any(|w| w.contains("= 2 Å²")),
        "{:?}",
        s.warnings
    );
}

// ---- χ(k) that does not cover the transform range ------------------------

fn chi_of(name: &str) -> carto::io::ChiData {
    match load(&path(name), &LoadOptions::default()) {
        Ok(Dataset::Chi(c)) => c,
        Ok(d) => panic!("{name} loaded as {}", d.modality()),
        Err(e) => panic!("{name}: {e}"),
    }
}

fn carto_cli(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_carto"))
        .args(args)
        .output()
        .expect("run carto")
}

#[test]
fn chi_k_grid_must_cover_the_ft_range() {
    use carto::xas::process::{self, ProcessError, XasInput};
    // Measured from k = 4 only: the default kmin = 2 would transform a
    // plateau the interpolation invents below 4.
    let c = chi_of("chi_starts_at_4.chi");
    let r = process::run(&XasInput::Chi(c), &[], &ChainParams::default(), None);
    match r {
        Err(e @ ProcessError::KRangeNotCovered { .. }) => assert_eq!(
            e.to_string(),
            "Fourier transform: the k range 2–12 Å⁻¹ is not covered by the χ(k) data, \
             which span 4–14 Å⁻¹"
        ),
        other => panic!("want KRangeNotCovered, got {:?}", other.map(|p| p.ft)),
    }
    let p = path("chi_starts_at_4.chi");
    let o = carto_cli(&["xas".as_ref(), p.as_os_str()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("k range 2–12 Å⁻¹") && err.contains("span 4–14 Å⁻¹"),
        "{err}"
    );
    let o = carto_cli(&[
        "xas".as_ref(),
        p.as_os_str(),
        "--kmin".as_ref(),
        "4.5".as_ref(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Cut at k = 6: the default kmax (12) is shortened to the data's end as
    // documented; an explicit --kmax past it is refused.
    let p = path("chi_ends_at_6.chi");
    let o = carto_cli(&["xas".as_ref(), p.as_os_str(), "--json".as_ref()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["params"]["kmax"], 6.0, "{}", j["params"]);
    let o = carto_cli(&[
        "xas".as_ref(),
        p.as_os_str(),
        "--kmax".as_ref(),
        "10".as_ref(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("k range 2–10 Å⁻¹") && err.contains("span 0–6 Å⁻¹"),
        "{err}"
    );
    // `--kmax 12` is explicit too, though it equals the default: refused,
    // not cut silently as the default is.
    let o = carto_cli(&[
        "xas".as_ref(),
        p.as_os_str(),
        "--kmax".as_ref(),
        "12".as_ref(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("k range 2–12 Å⁻¹") && err.contains("span 0–6 Å⁻¹"),
        "{err}"
    );
}

// ---- μ(E): inverted edges, negated energies, pre-edge ranges -------------

#[test]
fn inverted_edge_is_flagged_and_normalised_upwards() {
    // −μ: Larch would normalise with |step| into a post-edge of −1.
    let s = xas_of("inverted_mu.dat");
    let pre = pre_edge(&s.energy_ev, &s.mu, &PreEdgeParams::default()).expect("pre_edge");
    assert!((pre.e0 - 7112.0).abs() < 1.0, "e0 {}", pre.e0);
    assert!(pre.edge_step < -0.9, "signed step {}", pre.edge_step);
    let last = pre.norm.last().copied().unwrap_or(f64::NAN);
    assert!((last - 1.0).abs() < 0.05, "post-edge {last}");
    assert_eq!(pre.warnings.len(), 1, "{:?}", pre.warnings);
    assert!(
        pre.warnings[0].starts_with("μ(E) falls across the edge at e0 = 7112.00 eV")
            && pre.warnings[0].contains("an inverted edge"),
        "{:?}",
        pre.warnings
    );
    // The CLI says so on stderr and in the JSON.
    let p = path("inverted_mu.dat");
    let o = carto_cli(&["xas".as_ref(), p.as_os_str(), "--json".as_ref()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning:"));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        j["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("inverted edge")),
        "{}",
        j["warnings"]
    );
    // A normal edge has no warning and a positive step.
    let (e, mu) = spectrum();
    let pre = pre_edge(&e, &mu, &PreEdgeParams::default()).expect("pre_edge");
    assert!(
        pre.edge_step > 0.9 && pre.warnings.is_empty(),
        "{:?}",
        pre.warnings
    );
}

#[test]
fn negated_energies_are_refused_at_their_line() {
    let e = fails("negated_energy.dat");
    located(&e, 3, Some("energy"));
    assert!(e.message.contains("energy -6900 eV is not positive"), "{e}");
}

#[test]
fn pre_edge_range_above_e0_or_backwards_is_refused() {
    let (e, mu) = spectrum();
    let with = |pre1: Option<f64>, pre2: Option<f64>| {
        pre_edge(
            &e,
            &mu,
            &PreEdgeParams {
                pre1,
                pre2,
                ..Default::default()
            },
        )
    };
    assert!(with(Some(-150.0), Some(-30.0)).is_ok());
    // Backwards: refused, not swapped.
    match with(Some(-30.0), Some(-150.0)) {
        Err(XasError::BadParam { name, reason, .. }) => {
            assert_eq!(name, "pre2");
            assert!(reason.contains("must run upwards"), "{reason}");
        }
        other => panic!("{:?}", other.map(|p| (p.pre1, p.pre2))),
    }
    // Above e0 (the range is relative to e0).
    match with(Some(-50.0), Some(20.0)) {
        Err(XasError::BadParam { name, reason, .. }) => {
            assert_eq!(name, "pre2");
            assert!(reason.contains("below e0"), "{reason}");
        }
        other => panic!("{:?}", other.map(|p| (p.pre1, p.pre2))),
    }
    bad_param(with(Some(10.0), None), "pre1");
    let p = path("inverted_mu.dat");
    let o = carto_cli(&[
        "xas".as_ref(),
        p.as_os_str(),
        "--pre1".as_ref(),
        "-30".as_ref(),
        "--pre2".as_ref(),
        "-150".as_ref(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("invalid --pre2 -150: the pre-edge range must run upwards"),
        "{err}"
    );
}

// ---- EXAFS fits that run away --------------------------------------------

fn fit_of(name: &str) -> Result<carto::exafs::feffit::FitResult, String> {
    let model = carto::exafs::model::load_model(&path(name)).map_err(|e| e.to_string())?;
    let fit = carto::exafs::feffit::Feffit::new(model).map_err(|e| e.to_string())?;
    fit.fit(None).map_err(|e| e.to_string())
}

#[test]
fn runaway_fits_are_not_a_success_and_name_the_path() {
    for (name, want) in [
        (
            "fit_negative_path.toml",
            "path 'Cu1' (dataset 'cu_metal_rt.xdi') deltar = -3 Å (expression 'del_r'): \
             the path length reff + deltar = -0.4522 Å is not positive",
        ),
        (
            "fit_absurd_sigma2.toml",
            "path 'Cu1' (dataset 'cu_metal_rt.xdi') sigma2 = 100000 Å² (expression 'sig2'): \
             |σ²| above 1 Å² is absurd",
        ),
    ] {
        let r = fit_of(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!r.stats.success, "{name} must not be a success");
        assert_eq!(r.stats.message, want, "{name}");
        let report = carto::exafs::feffit::report(&r, 0.1);
        assert!(report.contains(want), "{name}: the report shows why");
    }
    // NaN from the start: an error naming the parameter and its expression.
    let e = fit_of("fit_nan_expression.toml").err().unwrap_or_default();
    assert!(
        e.contains("non-finite values")
            && e.contains("parameter 'sig2' = NaN (expression 'sqrt(neg)')"),
        "{e}"
    );
    // The CLI says so too (the JSON keeps success: false).
    let p = path("fit_negative_path.toml");
    let o = carto_cli(&["fit".as_ref(), p.as_os_str(), "--json".as_ref()]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(j["stats"]["success"], false, "{}", j["stats"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("the fit did not succeed: path 'Cu1'"));
}

// ---- encodings and formats that are not what they seem -------------------

#[test]
fn foreign_encodings_get_their_own_message() {
    let o = LoadOptions::default();
    // Spectra readers (through the one routing rule).
    for (name, line, field, want) in [
        ("decimal_comma.dat", 2, "data", "decimal commas ('7000,0')"),
        ("quoted.csv", 2, "data", "quoted CSV fields (\"7000.0\")"),
        (
            "utf16_no_bom.dat",
            1,
            "encoding",
            "UTF-16 text without a byte-order mark",
        ),
        (
            "not_athena.json",
            1,
            "json",
            "a JSON document, not an Athena project",
        ),
        (
            "gzipped.xmu",
            1,
            "gzip",
            "gzip-compressed data that is not an Athena project",
        ),
    ] {
        let e = fails(name);
        located(&e, line, Some(field));
        assert!(e.message.contains(want), "{name}: {e}");
        assert!(!e.message.contains("no numeric data"), "{name}: {e}");
        let opened = carto::io::open(&path(name), &o)
            .err()
            .map(|e| e.to_string());
        assert!(
            opened.as_deref().is_some_and(|e| e.contains(want)),
            "{name}: {opened:?}"
        );
    }
    // Powder-pattern reader.
    for (name, line, field, want) in [
        ("decimal_comma.xy", 2, "data", "decimal commas ('10,00')"),
        (
            "gzipped.xy",
            1,
            "gzip",
            "gzip-compressed data, not a powder pattern",
        ),
        (
            "not_athena.json",
            1,
            "json",
            "a JSON document, not a powder pattern",
        ),
        ("quoted.csv", 2, "data", "quoted CSV fields"),
        (
            "utf16_no_bom.dat",
            1,
            "encoding",
            "UTF-16 text without a byte-order mark",
        ),
    ] {
        let e = pattern_err(name);
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(line), Some(field)),
            "{e}"
        );
        assert!(e.message.contains(want), "{name}: {e}");
    }
    // CIF reader.
    let e = cif_err("gzipped.cif");
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("gzip-compressed data, not a CIF"), "{e}");
}

#[test]
fn utf16_patterns_and_cifs_are_read_as_text() {
    let p = carto::io::xrd::read_pattern(&path("utf16.xy")).expect("UTF-16 pattern");
    assert_eq!(p.npts(), 40);
    assert_eq!((p.two_theta_deg[1], p.intensity[1]), (10.02, 101.0));
    match carto::io::open(&path("utf16.xy"), &LoadOptions::default()) {
        Ok(carto::io::Opened::Pattern(q)) => assert_eq!(q.npts(), 40),
        other => panic!("utf16.xy: {:?}", other.map(|o| o.kind())),
    }
    let s = cif_ok("utf16.cif");
    assert_eq!(s.sites.len(), 1);
    assert_eq!(s.sites[0].label, "Fe1");
}

// ---- every other format: a clear error or a correct read -----------------

#[test]
fn xrd_binary_and_xml_formats() {
    for (name, line, field, want) in [
        (
            "xrdml_no_intensities.xrdml",
            Some(6),
            "intensities",
            "<dataPoints> has no <intensities>",
        ),
        (
            "brml_broken_zip.brml",
            None,
            "zip",
            "no end-of-central-directory record",
        ),
        (
            "raw_truncated.raw",
            None,
            "K-alpha1",
            "file truncated: 8 bytes needed at byte 624, the file has 32",
        ),
    ] {
        let e = pattern_err(name);
        assert_eq!((e.line, e.field.as_deref()), (line, Some(field)), "{e}");
        assert!(e.message.contains(want), "{name}: {e}");
    }
    // A Fit2D file whose point count is garbled reads as plain columns,
    // every row kept.
    let p = carto::io::xrd::read_pattern(&path("fit2d_bad_count.chi")).expect("read");
    assert_eq!(p.npts(), 40);
    assert_eq!((p.two_theta_deg[0], p.intensity[0]), (10.0, 100.0));
    assert_eq!((p.two_theta_deg[39], p.intensity[39]), (10.78, 139.0));
}

#[test]
fn jcpds_fit_model_and_session_files() {
    let p = path("jcpds_bad_cell.jcpds");
    let e = carto::io::xrd::read_jcpds(&p).err();
    let Some(e) = e else {
        panic!("a garbled cell edge must fail")
    };
    assert_eq!((e.line, e.field.as_deref()), (Some(6), Some("A")), "{e}");
    assert!(e.message.contains("'4.9l3' is not a number"), "{e}");

    let e = carto::exafs::model::load_model(&path("fit_unknown_key.toml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("unknown key `paths[1].sigma_2`") && e.contains("sigma2"),
        "{e}"
    );

    use carto::session::{Session, SessionError};
    match Session::load(&path("session_truncated.carto")) {
        Err(SessionError::Format { reason, .. }) => {
            assert!(reason.contains("EOF while parsing"), "{reason}")
        }
        other => panic!("{:?}", other.map(|s| s.items.len())),
    }
    match Session::load(&path("session_future.carto")) {
        Err(SessionError::Version { found, .. }) => assert_eq!(found, 99),
        other => panic!("{:?}", other.map(|s| s.items.len())),
    }
    match Session::load(&path("session_bad_selection.carto")) {
        Err(SessionError::Format { reason, .. }) => {
            assert_eq!(reason, "selection refers to an item beyond the 0 listed")
        }
        other => panic!("{:?}", other.map(|s| s.items.len())),
    }
    // Fed to the data readers, a session says what it is.
    let e = fails("session_future.carto");
    assert!(e.message.contains("a Carto session file, not data"), "{e}");
}

/// Every file in tests/malformed goes through every reader without a
/// panic, in bounded time: an error or a read, never a crash or a hang.
#[test]
fn every_malformed_file_through_every_reader() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/malformed")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(files.len() >= 60, "{} files", files.len());
    let o = LoadOptions::default();
    let t = std::time::Instant::now();
    for f in &files {
        let _ = carto::io::open(f, &o);
        let _ = load(f, &o);
        let _ = carto::io::xrd::read_pattern(f);
        let _ = carto::structure::read_cif(f);
        let _ = carto::io::xrd::read_jcpds(f);
        let _ = carto::session::Session::load(f);
        let _ = carto::exafs::model::load_model(f);
        if let Ok(ds) = load(f, &o) {
            chain_all(&ds);
        }
    }
    assert!(t.elapsed().as_secs() < 60, "{:?}", t.elapsed());
}

/// Every spectrum of a dataset through the whole chain (pre_edge → autobk
/// → xftf) as the app runs it: an error or a result, never a panic.
fn chain_all(ds: &Dataset) {
    use carto::xas::process::{XasInput, run};
    let p = ChainParams::default();
    let inputs: Vec<XasInput> = match ds {
        Dataset::Xas(s) => vec![XasInput::Mu(s.clone())],
        Dataset::Chi(c) => vec![XasInput::Chi(c.clone())],
        Dataset::Athena(proj) => proj
            .groups
            .iter()
            .filter_map(|g| {
                if g.is_chi() {
                    g.to_chi("p").ok().map(XasInput::Chi)
                } else {
                    g.to_spectrum("p").ok().map(XasInput::Mu)
                }
            })
            .collect(),
        Dataset::Feff(_) => Vec::new(),
    };
    for input in &inputs {
        let _ = run(input, &[], &p, None);
    }
}

/// The core cannot panic on input: every file of the shared data (real
/// spectra, projects, FEFF files, CIFs, patterns — 989 files) through every
/// reader the app and the CLI call, and each spectrum through the chain,
/// with no `catch_unwind` anywhere (a panic fails this test). With the fuzz
/// targets (fuzz/README.md) and the malformed corpus above, this is why the
/// GUI keeps its panic guard only at the top of each frame and of each
/// worker thread (`gui::tasks::guard`), not around core calls.
#[test]
fn the_core_does_not_panic_on_any_shared_data_file() {
    let o = LoadOptions::default();
    let mut n = 0;
    for dir in ["xas", "athena", "feff", "cif", "xrd"] {
        let mut stack = vec![common::data(dir)];
        while let Some(d) = stack.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for f in entries {
                if f.is_dir() {
                    stack.push(f);
                    continue;
                }
                n += 1;
                let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let name = f.display().to_string();
                let ext = f
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase());
                let _ = carto::io::open(&f, &o);
                let _ = carto::io::xrd::read_pattern_bytes(&bytes, &name, ext.as_deref());
                let _ = carto::structure::read_cif(&f);
                if let Ok(ds) = load_bytes(&bytes, &name, &o) {
                    chain_all(&ds);
                }
            }
        }
    }
    assert!(n > 900, "{n} files");
}

// ---- the automatic μ recipe on dead and dark counters -------------------

/// The real scorodite scan (APS 13-ID, `I0 I1` and a 13-element detector's
/// As Kα ROIs, among others), its data rows edited by `edit(row, fields)`:
/// hostile variants of a good multi-element fluorescence file.
fn scorodite_with(edit: impl Fn(usize, &mut Vec<String>)) -> Vec<u8> {
    let text = std::fs::read_to_string(common::data("xas/columns/scorodite_as_xafs.001"))
        .expect("scorodite");
    let mut out = String::new();
    let mut row = 0;
    for line in text.lines() {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            out.push_str(line);
        } else {
            let mut f: Vec<String> = t.split_whitespace().map(str::to_string).collect();
            edit(row, &mut f);
            row += 1;
            out.push_str(&f.join(" "));
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// Columns of scorodite_as_xafs.001 (0-based): I0, I1 and the As Kα ROIs.
const SCOR_I0: usize = 3;
const SCOR_I1: usize = 4;
const SCOR_AS_KA: std::ops::Range<usize> = 44..57;

/// Dark counts (2–4) in the fields `cols`, varying with `seed`.
fn dark_counts(f: &mut [String], cols: std::ops::Range<usize>, seed: usize) {
    for (c, v) in f.iter_mut().enumerate().take(cols.end).skip(cols.start) {
        *v = format!("{}", 2 + (seed + c) % 3);
    }
}

fn scorodite_load(bytes: &[u8]) -> Result<XasSpectrum, ParseError> {
    match load_bytes(bytes, "scorodite_hostile.001", &LoadOptions::default())? {
        Dataset::Xas(s) => Ok(s),
        d => panic!("loaded as {}", d.modality()),
    }
}

fn as_ka_fluorescence(s: &XasSpectrum) {
    match &s.recipe {
        MuRecipe::Fluorescence { i_f, i0 } => {
            assert_eq!(*i0, SCOR_I0);
            assert_eq!(*i_f, SCOR_AS_KA.collect::<Vec<_>>());
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn good_transmission_wins_and_says_why() {
    let s = scorodite_load(&scorodite_with(|_, _| {})).expect("scorodite");
    assert_eq!(
        s.recipe,
        MuRecipe::Transmission {
            i0: SCOR_I0,
            it: SCOR_I1
        }
    );
    let c = s.choice.as_ref().expect("choice");
    assert_eq!(c.how, "auto");
    assert!(!c.close);
    assert_eq!(c.candidates.len(), 2, "{c:?}");
    let (t, f) = (&c.candidates[0], &c.candidates[1]);
    assert!(t.score.unwrap() > 100.0 && f.score.unwrap() > 10.0, "{c:?}");
    assert!(t.edge_jump.unwrap() > 0.0 && t.noise.unwrap() > 0.0);
    assert!(c.reason.contains("not 3× higher"), "{}", c.reason);
    assert!(s.table.warnings.is_empty(), "{:?}", s.table.warnings);
}

#[test]
fn transmission_dead_on_some_rows_falls_back_to_good_fluorescence_with_a_warning() {
    // I1 reads 0 on rows 150–159 (a detector that tripped mid-scan).
    let bytes = scorodite_with(|r, f| {
        if (150..160).contains(&r) {
            f[SCOR_I1] = "0".into();
        }
    });
    let s = scorodite_load(&bytes).expect("read with fluorescence");
    as_ka_fluorescence(&s);
    let c = s.choice.as_ref().expect("choice");
    assert!(c.reason.contains("unusable"), "{}", c.reason);
    assert!(c.candidates[1].unusable.is_some(), "{c:?}");
    let w = s.table.warnings.join("\n");
    assert!(w.contains("μ from fluorescence"), "{w}");
    assert!(w.contains("'I1' is zero or negative"), "{w}");
}

#[test]
fn transmission_dead_on_every_row_falls_back_to_good_fluorescence() {
    let s = scorodite_load(&scorodite_with(|_, f| f[SCOR_I1] = "0".into())).expect("read");
    as_ka_fluorescence(&s);
    assert!(
        s.table.warnings.iter().any(|w| w.contains("unusable")),
        "{:?}",
        s.table.warnings
    );
}

#[test]
fn transmission_reading_dark_current_on_some_rows_is_dead_not_an_edge() {
    // I1 drops to its amplifier's dark current (positive, ~10⁻⁵ of the
    // signal) from row 200: ln(I0/I1) jumps by ~11 there, a "perfect edge"
    // that scored far above the real one. It is a dead chamber.
    let bytes = scorodite_with(|r, f| {
        if r >= 200 {
            f[SCOR_I1] = format!("{}", 3.0 + (r % 3) as f64);
        }
    });
    let s = scorodite_load(&bytes).expect("read with fluorescence");
    as_ka_fluorescence(&s);
    let c = s.choice.as_ref().expect("choice");
    let t = c
        .candidates
        .iter()
        .find(|k| matches!(k.recipe, MuRecipe::Transmission { .. }))
        .expect("transmission candidate");
    let why = t.unusable.as_deref().expect("unusable");
    assert!(
        why.contains("dead") && why.contains("dark current"),
        "{why}"
    );
    assert!(
        s.table.warnings.iter().any(|w| w.contains("'I1' is dead")),
        "{:?}",
        s.table.warnings
    );
}

#[test]
fn dead_transmission_with_dark_current_fluorescence_is_refused() {
    // I1 dead from row 100 and every ROI of the detector (Cr, Fe, Cu, As
    // Kα) reading dark counts (2–4): switching to ΣIf/I0 would give noise
    // that looks like μ.
    let bytes = scorodite_with(|r, f| {
        if r >= 100 {
            f[SCOR_I1] = "0".into();
        }
        dark_counts(f, 5..57, r * 7);
    });
    let e = scorodite_load(&bytes).expect_err("refused");
    assert_eq!(e.field.as_deref(), Some("I1"), "{e}");
    assert!(e.line.is_some(), "{e}");
    assert!(e.message.contains("shows no absorption edge"), "{e}");
    assert!(e.message.contains("dark current"), "{e}");
    // Asked for explicitly, it is read (the user's call).
    let forced = load_bytes(
        &bytes,
        "scorodite_hostile.001",
        &LoadOptions {
            mu_mode: Some(carto::io::MuMode::Fluorescence),
            ..Default::default()
        },
    );
    assert!(matches!(forced, Ok(Dataset::Xas(_))), "{forced:?}");
}

#[test]
fn dark_current_group_is_not_chosen_over_the_absorbers_channels() {
    // Dead transmission; the Cr/Fe/Cu Kα ROIs are dark, the As Kα ROIs good.
    let bytes = scorodite_with(|r, f| {
        f[SCOR_I1] = "0".into();
        dark_counts(f, 5..44, r);
    });
    let s = scorodite_load(&bytes).expect("read");
    as_ka_fluorescence(&s);
}

/// A synthetic scan with the same edge in transmission and fluorescence;
/// `fl_noise` scales the fluorescence noise against transmission's, so its
/// score moves across the 3× rule's threshold.
fn synthetic_scan(fl_noise: f64) -> Vec<u8> {
    let mut s = String::from("# energy i0 it if\n");
    let mut seed: u64 = 12345;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    for i in 0..400 {
        let e = 7000.0 + i as f64;
        let step = 0.5 + 0.5 * ((e - 7200.0) / 3.0).tanh();
        let mu_t = 1.0 + 0.5 * step + 0.01 * rnd();
        let i0 = 1.0e5;
        let it = i0 * (-mu_t).exp();
        let i_f = 1000.0 * (0.1 + 0.5 * step + 0.01 * fl_noise * rnd());
        s.push_str(&format!("{e} {i0} {it:.6} {i_f:.6}\n"));
    }
    s.into_bytes()
}

#[test]
fn close_recipe_choice_is_a_warning() {
    let read =
        |noise: f64| match load_bytes(&synthetic_scan(noise), "close.dat", &LoadOptions::default())
        {
            Ok(Dataset::Xas(s)) => s,
            r => panic!("{r:?}"),
        };
    let score = |s: &XasSpectrum, i: usize| s.choice.as_ref().unwrap().candidates[i].score.unwrap();
    // Fluorescence as noisy as transmission: its edge is no clearer,
    // transmission wins clearly; far quieter: fluorescence wins clearly.
    for (noise, trans) in [(1.0, true), (0.05, false)] {
        let s = read(noise);
        assert_eq!(
            matches!(s.recipe, MuRecipe::Transmission { .. }),
            trans,
            "noise {noise}: {:?}",
            s.choice
        );
        assert!(!s.choice.as_ref().unwrap().close, "{:?}", s.choice);
        assert!(s.table.warnings.is_empty(), "{:?}", s.table.warnings);
    }
    // In between, find a noise level where the ratio sits by the 3×
    // threshold: the choice is flagged.
    let mut flagged = 0;
    for k in 0..40 {
        let noise = 0.05 + 0.025 * f64::from(k);
        let s = read(noise);
        let (a, b) = (score(&s, 0), score(&s, 1));
        let (t, f) = if matches!(s.recipe, MuRecipe::Transmission { .. }) {
            (a, b)
        } else {
            (b, a)
        };
        let q = f / (3.0 * t);
        let close = s.choice.as_ref().unwrap().close;
        assert_eq!(close, q > 1.0 / 1.5 && q < 1.5, "q = {q}");
        if close {
            flagged += 1;
            assert!(
                s.table
                    .warnings
                    .iter()
                    .any(|w| w.contains("close call") && w.contains("--mu")),
                "{:?}",
                s.table.warnings
            );
        }
    }
    assert!(flagged > 0, "no noise level gave a close choice");
}

#[test]
fn info_states_the_recipe_its_reason_and_the_rule() {
    let dir = std::env::temp_dir().join(format!("carto-recipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let f = dir.join("dead_it.001");
    std::fs::write(
        &f,
        scorodite_with(|r, f| {
            if r >= 150 {
                f[SCOR_I1] = "0".into();
            }
        }),
    )
    .expect("write");
    let o = carto_cli(&["info".as_ref(), f.as_os_str()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("μ(E): fluorescence"), "{text}");
    assert!(
        text.contains("why: transmission ln(I0/I1) is unusable"),
        "{text}"
    );
    assert!(text.contains("edge jump / noise = score"), "{text}");
    assert!(text.contains("rule: "), "{text}");
    assert!(
        text.contains("warning: ") && text.contains("μ from fluorescence"),
        "{text}"
    );
    let o = carto_cli(&["info".as_ref(), f.as_os_str(), "--json".as_ref()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let r = &v["mu_recipe"];
    assert_eq!(r["kind"], "fluorescence");
    assert_eq!(r["choice"]["how"], "auto");
    assert!(r["rule"].as_str().unwrap().contains("3×"));
    let cands = r["choice"]["candidates"].as_array().expect("candidates");
    assert_eq!(cands[0]["kind"], "fluorescence");
    assert!(cands[0]["score"].as_f64().unwrap() > 3.0);
    assert!(cands[1]["unusable"].as_str().unwrap().contains("I1"));
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("μ from fluorescence"))
    );
    // Refused: the error names the line and why, exit code 1.
    let g = dir.join("dark.001");
    std::fs::write(
        &g,
        scorodite_with(|r, f| {
            f[SCOR_I1] = "0".into();
            dark_counts(f, 5..57, r);
        }),
    )
    .expect("write");
    let o = carto_cli(&["info".as_ref(), g.as_os_str()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dark current") && err.contains("I1"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
