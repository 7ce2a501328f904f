//! End-to-end tests of the `carto` binary against the CLI contract in
//! ARCHITECTURE.md: `--json` prints exactly one JSON document on stdout,
//! errors go to stderr with a non-zero exit code. Numbers are checked
//! against the Larch fixture (tests/fixtures/larch/xas_chain.json).
//!
//! Long on purpose: every file in tests/ is its own test binary that links
//! the whole crate (~300 MB with debug info), so one binary per area keeps
//! the build and CI's link time down; the tests inside are independent.

mod common;

use common::carto;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn describe(args: &[&OsStr], out: &Output) -> String {
    format!(
        "carto {}\nexit: {:?}\nstdout: {}\nstderr: {}",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(500)
            .collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run, assert success, return stdout.
fn stdout_ok(args: &[&OsStr]) -> String {
    let out = carto(args);
    assert!(out.status.success(), "{}", describe(args, &out));
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Run with `--json`, assert success and exactly one JSON document on stdout.
fn json_ok(args: &[&OsStr]) -> Value {
    let text = stdout_ok(args);
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"));
    assert_eq!(
        docs.len(),
        1,
        "expected one JSON document, got {}",
        docs.len()
    );
    docs.into_iter().next().expect("one document")
}

/// Run, assert failure with nothing on stdout; return stderr.
fn stderr_err(args: &[&OsStr]) -> String {
    let out = carto(args);
    assert!(!out.status.success(), "{}", describe(args, &out));
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty on error\n{}",
        describe(args, &out)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.trim().is_empty(), "{}", describe(args, &out));
    err
}

/// Argument list: a subcommand, a data file and options.
fn args<'a>(sub: &'a str, file: &'a Path, rest: &[&'a str]) -> Vec<&'a OsStr> {
    let mut v: Vec<&OsStr> = vec![OsStr::new(sub), file.as_os_str()];
    v.extend(rest.iter().map(|s| OsStr::new(*s)));
    v
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("key {key} is not a number in {v}"))
}

fn arr(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("key {key} is not an array"))
        .iter()
        .map(|x| {
            x.as_f64()
                .unwrap_or_else(|| panic!("{key}: {x} is not a number"))
        })
        .collect()
}

fn rms(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    (s / n.max(1) as f64).sqrt()
}

/// RMS of k²·(a − b) over 2–12 Å⁻¹ relative to the RMS of k²·b.
fn k2chi_rel_diff(k: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let sel: Vec<usize> = (0..k.len().min(a.len()).min(b.len()))
        .filter(|&i| (2.0..=12.0).contains(&k[i]))
        .collect();
    assert!(sel.len() > 100, "too few k points in 2–12 Å⁻¹");
    let k2 = |i: usize| k[i] * k[i];
    rms(sel.iter().map(|&i| (a[i] - b[i]) * k2(i))) / rms(sel.iter().map(|&i| b[i] * k2(i)))
}

fn larch_case(file: &str, group: Option<&str>) -> Value {
    let path = common::fixture("larch/xas_chain.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fx: Value = serde_json::from_str(&text).expect("fixture is JSON");
    fx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["file"] == file && c["group"].as_str() == group)
        .unwrap_or_else(|| panic!("no fixture case for {file} {group:?}"))
        .clone()
}

/// A scratch directory for files written at test time.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

// ---------------------------------------------------------------- no args

// Without arguments `carto` opens the desktop app (tests/gui.rs drives it
// headless); the usage is one `--help` away.
#[test]
fn help_prints_usage() {
    let out = carto(["--help"]);
    assert!(out.status.success(), "exit {:?}", out.status.code());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage"), "{text}");
    for sub in ["open", "info", "xas", "bench", "--demo", "--screenshot"] {
        assert!(text.contains(sub), "usage lacks '{sub}':\n{text}");
    }
}

/// `carto FILE` and `carto open FILE` start the desktop app; with no display
/// at all that is a readable error and exit 1 (never a panic or a hang).
#[test]
fn gui_without_a_display_is_a_readable_error() {
    let f = common::data("xas/xdi/cu_metal_rt.xdi");
    let cases: [Vec<&OsStr>; 3] = [
        vec![f.as_os_str()],
        vec![OsStr::new("open"), f.as_os_str()],
        vec![
            OsStr::new("--demo"),
            OsStr::new("--plot"),
            OsStr::new("chi-r"),
        ],
    ];
    for args in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_carto"))
            .args(&args)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("WAYLAND_SOCKET")
            .stdin(Stdio::null())
            .output()
            .expect("cannot start the carto binary");
        let text = describe(&args, &out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot start the GUI"), "{text}");
        assert!(err.contains("DISPLAY"), "{text}");
        assert!(!err.contains("panicked"), "{text}");
    }
}

#[test]
fn open_rejects_unknown_plot_tab() {
    let out = carto(["--demo", "--plot", "xrd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chi-k"));
}

// ---------------------------------------------------------------- info

#[test]
fn info_xdi() {
    let f = common::data("xas/xdi/cu_metal_rt.xdi");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["format"], "xdi");
    assert_eq!(v["modality"], "xas");
    assert_eq!(v["npts"], 408);
    assert_eq!(
        v["columns"],
        serde_json::json!(["energy", "i0", "itrans", "mutrans"])
    );
    assert_eq!(v["energy_column"], "energy");
    assert_eq!(v["energy_unit"], "ev");
    // XDI names μ directly: the mutrans column (index 3).
    assert_eq!(v["mu_recipe"]["kind"], "column");
    assert_eq!(v["mu_recipe"]["mu"], 3);
    assert_eq!(v["energy_range_ev"][0], 8779.0);
    assert_eq!(v["energy_range_ev"][1], 10145.86);
    assert_eq!(v["metadata"]["Scan.element"], "Cu");
    assert_eq!(v["metadata"]["Mono.d_spacing"], "3.13553");
}

#[test]
fn info_plain_columns() {
    let f = common::data("xas/columns/cu_10k.xmu");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["format"], "columns");
    assert_eq!(v["modality"], "xas");
    assert_eq!(v["npts"], 612);
    assert_eq!(v["columns"], serde_json::json!(["energy", "mu"]));
    assert_eq!(v["mu_recipe"]["kind"], "column");
    assert_eq!(v["mu_recipe"]["mu"], 1);
    assert_eq!(v["energy_range_ev"][0], 8786.204);
    assert_eq!(v["energy_range_ev"][1], 11362.47);
}

#[test]
fn info_beamline_raw_counters() {
    let f = common::data("xas/beamlines/APS10BM_2019.dat");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["modality"], "xas");
    assert_eq!(v["npts"], 3464);
    assert_eq!(
        v["columns"],
        serde_json::json!(["energy", "Io", "It", "Iref", "If"])
    );
    // Transmission from the raw counters, as Larch's guess (fixture recipe).
    let fx = larch_case("xas/beamlines/APS10BM_2019.dat", None);
    assert_eq!(v["mu_recipe"]["kind"], "transmission");
    assert_eq!(v["mu_recipe"]["i0"], fx["mu"]["i0"]);
    assert_eq!(v["mu_recipe"]["it"], fx["mu"]["it"]);
    assert_eq!(v["mu_recipe"]["i0"], 1);
    assert_eq!(v["mu_recipe"]["it"], 2);
    assert_eq!(v["npts"], fx["input"]["npts"]);
    assert_eq!(v["energy_range_ev"][0], fx["input"]["energy_first"]);
    assert_eq!(v["energy_range_ev"][1], fx["input"]["energy_last"]);

    // Several fluorescence channels summed over I0.
    let f = common::data("xas/beamlines/NSLS_XDAC_2011.dat");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["mu_recipe"]["kind"], "fluorescence");
    assert_eq!(v["mu_recipe"]["i_f"], serde_json::json!([3, 4, 5, 6]));
    assert_eq!(v["mu_recipe"]["i0"], 1);
}

#[test]
fn info_athena_project_lists_groups() {
    let f = common::data("athena/Se_Standards.prj");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["format"], "athena_project");
    assert_eq!(v["modality"], "athena");
    let groups = v["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 9);
    let labels: Vec<&str> = groups
        .iter()
        .map(|g| g["label"].as_str().expect("label"))
        .collect();
    assert_eq!(labels[0], "Se CoSe (merge6)");
    assert!(labels.contains(&"Se ZnSe (merge6)"), "{labels:?}");
    assert!(labels.contains(&"Se Na2SeO4 (merge6)"), "{labels:?}");
    for g in groups {
        assert_eq!(g["datatype"], "xmu");
        assert_eq!(g["npts"], 469);
        assert!(g["id"].as_str().is_some_and(|s| !s.is_empty()));
    }
}

#[test]
fn info_feff_path() {
    let f = common::data("feff/cu/feff0001.dat");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["format"], "feff_dat");
    assert_eq!(v["modality"], "feff");
    let p = &v["feff"];
    assert_eq!(num(p, "reff"), 2.5478);
    assert_eq!(num(p, "degen"), 12.0);
    assert_eq!(p["nleg"], 2);
    assert_eq!(p["npts"], 59);
    assert_eq!(p["geometry"].as_array().map(Vec::len), Some(2));
    assert_eq!(p["geometry"][1]["element"], "Cu");
}

#[test]
fn info_chi_file() {
    let f = common::data("xas/chi/cu.chi");
    let v = json_ok(&args("info", &f, &["--json"]));
    assert_eq!(v["modality"], "chi");
    assert_eq!(v["npts"], 350);
    assert_eq!(v["columns"], serde_json::json!(["k", "chi"]));
}

#[test]
fn info_mu_override_changes_recipe() {
    let f = common::data("xas/beamlines/APS10BM_2019.dat");
    let v = json_ok(&args("info", &f, &["--json", "--mu", "fluorescence"]));
    assert_eq!(v["mu_recipe"]["kind"], "fluorescence");
    assert_eq!(v["mu_recipe"]["i_f"], serde_json::json!([4]));
    assert_eq!(v["mu_recipe"]["i0"], 1);
}

#[cfg(unix)]
#[test]
fn device_files_are_refused_by_every_command() {
    let dev = Path::new("/dev/zero");
    for sub in [&["info"][..], &["xas"], &["xrd", "peaks"], &["structure"]] {
        let mut a: Vec<&OsStr> = sub.iter().map(OsStr::new).collect();
        a.push(dev.as_os_str());
        let err = stderr_err(&a);
        assert!(
            err.contains("/dev/zero") && err.contains("a character device"),
            "{err}"
        );
    }
}

#[test]
fn info_human_output() {
    let f = common::data("xas/beamlines/APS10BM_2019.dat");
    let text = stdout_ok(&args("info", &f, &[]));
    for want in ["3464 points", "Io, It, Iref, If", "ln(Io/It)", "6390.00"] {
        assert!(text.contains(want), "info output lacks '{want}':\n{text}");
    }
    let f = common::data("feff/cu/feff0001.dat");
    let text = stdout_ok(&args("info", &f, &[]));
    for want in ["2.5478", "degen 12", "nleg 2"] {
        assert!(text.contains(want), "info output lacks '{want}':\n{text}");
    }
    let f = common::data("athena/Se_Standards.prj");
    let text = stdout_ok(&args("info", &f, &[]));
    for want in ["9 groups", "Se ZnSe (merge6)"] {
        assert!(text.contains(want), "info output lacks '{want}':\n{text}");
    }
}

// ---------------------------------------------------------------- xas vs Larch

const XAS_KEYS: [&str; 11] = [
    "e0",
    "edge_step",
    "pre_slope",
    "pre_intercept",
    "energy",
    "norm",
    "k",
    "chi",
    "r",
    "chir_mag",
    "params",
];

/// `carto xas` with the fixture's AUTOBK k-weight (2) against Larch.
fn check_against_larch(rel: &str, group: Option<&str>, extra: &[&str]) -> Value {
    let case = larch_case(rel, group);
    let f = common::data(rel);
    let mut rest = vec!["--json", "--bkg-kweight", "2"];
    if let Some(g) = group {
        rest.extend(["--group", g]);
    }
    rest.extend_from_slice(extra);
    let v = json_ok(&args("xas", &f, &rest));
    for key in XAS_KEYS {
        assert!(v.get(key).is_some(), "{rel}: JSON lacks '{key}'");
    }
    let res = &case["results"];
    let e0 = num(&v, "e0");
    assert!(
        (e0 - num(res, "e0")).abs() <= 1e-3,
        "{rel}: e0 {e0} vs Larch {}",
        num(res, "e0")
    );
    let step = num(&v, "edge_step");
    assert!(
        (step / num(res, "edge_step") - 1.0).abs() <= 1e-6,
        "{rel}: edge step {step} vs Larch {}",
        num(res, "edge_step")
    );
    assert_eq!(
        arr(&v, "energy").len(),
        case["input"]["npts"].as_u64().unwrap() as usize
    );
    assert_eq!(arr(&v, "norm").len(), arr(&v, "energy").len());

    let (k_ref, chi_ref) = (arr(res, "k"), arr(res, "chi"));
    let (k, chi) = (arr(&v, "k"), arr(&v, "chi"));
    assert_eq!(k.len(), k_ref.len(), "{rel}: k grid length");
    assert!(
        k.iter().zip(&k_ref).all(|(a, b)| (a - b).abs() < 1e-9),
        "{rel}: k grid differs from Larch's"
    );
    let rel_diff = k2chi_rel_diff(&k_ref, &chi, &chi_ref);
    assert!(
        rel_diff < 1e-3,
        "{rel}: k²χ RMS difference {:.4} % of its RMS",
        100.0 * rel_diff
    );

    // The defaults are the fixture's xftf settings.
    let xp = &case["xftf_params"];
    let p = &v["params"];
    // (kmax is the end of the data when that is below 12 Å⁻¹; the fixture
    // rounds it to 10 digits.)
    for key in ["kmin", "kmax", "dk", "kweight"] {
        assert!(
            (num(p, key) - num(xp, key)).abs() < 1e-6,
            "{rel}: params.{key} {} vs Larch {}",
            num(p, key),
            num(xp, key)
        );
    }
    assert_eq!(p["window"], xp["window"]);
    assert_eq!(num(p, "bkg_kweight"), 2.0);
    let (r, mag) = (arr(&v, "r"), arr(&v, "chir_mag"));
    assert_eq!(r.len(), mag.len());
    assert!(r.last().is_some_and(|&r| r <= 10.0 + 1e-9 && r > 9.0));
    assert!(mag.iter().all(|m| m.is_finite() && *m >= 0.0));
    v
}

#[test]
fn xas_plain_column_file_matches_larch() {
    let v = check_against_larch("xas/columns/cu_10k.xmu", None, &[]);
    // First shell of Cu metal: |χ(R)| peaks near 2.2 Å (no phase correction).
    let (r, mag) = (arr(&v, "r"), arr(&v, "chir_mag"));
    let peak = r
        .iter()
        .zip(&mag)
        .filter(|(r, _)| **r > 1.0)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(r, _)| *r)
        .unwrap();
    assert!((2.0..2.5).contains(&peak), "first-shell peak at {peak} Å");
}

#[test]
fn xas_xdi_file_matches_larch() {
    let v = check_against_larch("xas/xdi/v_foil.xdi", None, &[]);
    let fx = larch_case("xas/xdi/v_foil.xdi", None);
    assert_eq!(v["mu_recipe"]["kind"], fx["mu"]["kind"]);
    assert_eq!(v["mu_recipe"]["i0"], fx["mu"]["i0"]);
    assert_eq!(v["mu_recipe"]["it"], fx["mu"]["it"]);
}

#[test]
fn xas_xdi_with_mu_override_matches_larch() {
    // The file carries mutrans; the fixture built ln(i0/itrans) instead.
    let v = check_against_larch("xas/xdi/cu_metal_rt.xdi", None, &["--mu", "transmission"]);
    assert_eq!(v["mu_recipe"]["kind"], "transmission");
}

#[test]
fn xas_athena_group_matches_larch() {
    let v = check_against_larch("athena/Se_Standards.prj", Some("Se ZnSe (merge6)"), &[]);
    assert_eq!(v["group"], "Se ZnSe (merge6)");
}

#[test]
fn xas_beamline_fluorescence_matches_larch() {
    check_against_larch("xas/beamlines/APS20ID_2018.dat", None, &[]);
}

// ---------------------------------------------------------------- parameters

fn cu10k() -> PathBuf {
    common::data("xas/columns/cu_10k.xmu")
}

#[test]
fn rbkg_changes_chi() {
    let f = cu10k();
    let a = json_ok(&args("xas", &f, &["--json"]));
    let b = json_ok(&args("xas", &f, &["--json", "--rbkg", "1.3"]));
    assert_eq!(num(&b["params"], "rbkg"), 1.3);
    assert_eq!(num(&a["params"], "rbkg"), 1.0);
    assert!(
        b["params"]["nknots"].as_u64() > a["params"]["nknots"].as_u64(),
        "more knots with a larger rbkg"
    );
    let k = arr(&a, "k");
    let d = k2chi_rel_diff(&k, &arr(&b, "chi"), &arr(&a, "chi"));
    assert!(d > 1e-3, "rbkg 1.3 left χ(k) unchanged (rel diff {d})");
    // Pre-edge results do not depend on rbkg.
    assert_eq!(a["e0"], b["e0"]);
    assert_eq!(a["edge_step"], b["edge_step"]);
}

#[test]
fn e0_is_honoured() {
    let f = cu10k();
    let v = json_ok(&args("xas", &f, &["--json", "--e0", "8990"]));
    assert_eq!(num(&v, "e0"), 8990.0);
    assert_eq!(num(&v["params"], "e0"), 8990.0);
    // k = 0 sits at the given e0, so the χ(k) changes.
    let auto = json_ok(&args("xas", &f, &["--json"]));
    assert_eq!(num(&auto, "e0"), 8977.58);
    let d = k2chi_rel_diff(&arr(&auto, "k"), &arr(&v, "chi"), &arr(&auto, "chi"));
    assert!(d > 1e-2, "χ(k) barely changed with e0 moved 12 eV ({d})");
}

#[test]
fn pre_edge_range_reported_in_params() {
    let f = cu10k();
    let v = json_ok(&args(
        "xas",
        &f,
        &["--json", "--pre1", "-150", "--pre2", "-50"],
    ));
    assert_eq!(num(&v["params"], "pre1"), -150.0);
    assert_eq!(num(&v["params"], "pre2"), -50.0);
    let auto = json_ok(&args("xas", &f, &["--json"]));
    assert_eq!(num(&auto["params"], "pre1"), -180.0);
    assert_eq!(num(&auto["params"], "pre2"), -90.0);
    assert_ne!(v["pre_slope"], auto["pre_slope"]);
    assert_ne!(v["edge_step"], auto["edge_step"]);
}

#[test]
fn window_kaiser_changes_chir() {
    let f = cu10k();
    let v = json_ok(&args("xas", &f, &["--json", "--window", "kaiser"]));
    assert_eq!(v["params"]["window"], "kaiser");
    let auto = json_ok(&args("xas", &f, &["--json"]));
    assert_eq!(auto["params"]["window"], "hanning");
    // Same χ(k), different transform.
    assert_eq!(v["chi"], auto["chi"]);
    let (a, b) = (arr(&v, "chir_mag"), arr(&auto, "chir_mag"));
    assert_eq!(a.len(), b.len());
    let dmax = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(dmax > 1e-3, "kaiser window left |χ(R)| unchanged ({dmax})");
}

#[test]
fn mu_fluorescence_override_on_beamline_file() {
    let f = common::data("xas/beamlines/APS10BM_2019.dat");
    let t = json_ok(&args("xas", &f, &["--json"]));
    let fl = json_ok(&args("xas", &f, &["--json", "--mu", "fluorescence"]));
    assert_eq!(t["mu_recipe"]["kind"], "transmission");
    assert_eq!(fl["mu_recipe"]["kind"], "fluorescence");
    assert_eq!(fl["mu_recipe"]["i_f"], serde_json::json!([4]));
    assert_eq!(fl["mu_recipe"]["i0"], 1);
    assert_ne!(t["edge_step"], fl["edge_step"]);
    let (mt, mf) = (arr(&t, "mu"), arr(&fl, "mu"));
    assert_eq!(mt.len(), mf.len());
    assert_ne!(mt, mf);
}

// ---------------------------------------------------------------- Athena groups

#[test]
fn athena_without_group_lists_labels() {
    let f = common::data("athena/Se_Standards.prj");
    let err = stderr_err(&args("xas", &f, &["--json"]));
    assert!(err.contains("--group"), "{err}");
    for label in [
        "Se CoSe (merge6)",
        "Se ZnSe (merge6)",
        "Se Na2SeO4 (merge6)",
    ] {
        assert!(err.contains(label), "stderr lacks group '{label}':\n{err}");
    }
}

#[test]
fn athena_unknown_group_is_named() {
    let f = common::data("athena/Se_Standards.prj");
    let err = stderr_err(&args("xas", &f, &["--json", "--group", "no such group"]));
    assert!(err.contains("no such group"), "{err}");
    assert!(err.contains("Se ZnSe (merge6)"), "{err}");
}

#[test]
fn athena_repeated_labels_list_ids() {
    // NiO.prj has two groups labelled 'NiO.000': the list gives their ids,
    // and an id selects the group.
    let f = common::data("athena/NiO.prj");
    let err = stderr_err(&args("xas", &f, &["--json"]));
    assert!(err.contains("'NiO.000' (id naqow)"), "{err}");
    assert!(err.contains("'NiO.000' (id cymnj)"), "{err}");
    assert!(err.contains("'NiO.001',"), "{err}");
    let v = json_ok(&args("xas", &f, &["--json", "--group", "naqow"]));
    assert_eq!(v["group"], "NiO.000");
    let fx = larch_case("athena/NiO.prj", Some("NiO.000"));
    let w = json_ok(&args("xas", &f, &["--json", "--group", "cymnj"]));
    // Larch keeps the later of two same-named groups, and so does --group LABEL.
    let by_label = json_ok(&args("xas", &f, &["--json", "--group", "NiO.000"]));
    assert_eq!(by_label["e0"], w["e0"]);
    assert!((num(&w, "e0") - num(&fx["results"], "e0")).abs() <= 1e-3);
}

#[test]
fn group_option_is_not_ignored() {
    // On a file that is not an Athena project, --group is a mistake.
    let f = cu10k();
    for sub in ["xas", "info"] {
        let err = stderr_err(&args(sub, &f, &["--json", "--group", "cu"]));
        assert!(
            err.contains("--group") && err.contains("cu_10k.xmu"),
            "{sub}: {err}"
        );
    }
    // `info` checks the group name too.
    let f = common::data("athena/Fe.prj");
    let err = stderr_err(&args("info", &f, &["--json", "--group", "Fe fiol"]));
    assert!(
        err.contains("Fe fiol") && err.contains("'Fe foil'"),
        "{err}"
    );
    let v = json_ok(&args("info", &f, &["--json", "--group", "Fe foil"]));
    assert_eq!(v["groups"].as_array().map(Vec::len), Some(5));
}

#[test]
fn athena_single_group_needs_no_flag() {
    let f = common::data("athena/Copper.prj");
    let v = json_ok(&args("xas", &f, &["--json"]));
    assert_eq!(v["group"], "cu.012");
    let fx = larch_case("athena/Copper.prj", Some("cu.012"));
    assert!((num(&v, "e0") - num(&fx["results"], "e0")).abs() <= 1e-3);
}

// ---------------------------------------------------------------- errors

#[test]
fn nonexistent_file() {
    let f = scratch("missing").join("no_such_file.xmu");
    for sub in ["xas", "info"] {
        let err = stderr_err(&args(sub, &f, &["--json"]));
        assert!(err.contains("no_such_file.xmu"), "{sub}: {err}");
    }
}

#[test]
fn malformed_file_names_file_and_line() {
    let f = scratch("malformed").join("bad_token.xmu");
    let text = "# energy mu\n8900 0.10\n8910 0.11\n8920 0.12\n8930 0.13\n8940 0.14\n8950 abc\n8960 0.20\n8970 0.30\n";
    std::fs::write(&f, text).expect("write bad file");
    for sub in ["xas", "info"] {
        let err = stderr_err(&args(sub, &f, &["--json"]));
        assert!(err.contains("bad_token.xmu"), "{sub}: {err}");
        assert!(
            err.contains(":7") || err.contains("line 7"),
            "{sub}: stderr does not name line 7:\n{err}"
        );
        assert!(err.contains("abc"), "{sub}: {err}");
    }
}

#[test]
fn absurd_parameters_are_named() {
    let f = cu10k();
    let err = stderr_err(&args("xas", &f, &["--json", "--rbkg", "-1"]));
    assert!(err.contains("--rbkg -1"), "{err}");
    let err = stderr_err(&args("xas", &f, &["--json", "--kmax", "1", "--kmin", "5"]));
    assert!(err.contains("--kmax 1"), "{err}");
    let err = stderr_err(&args("xas", &f, &["--json", "--dk", "-1"]));
    assert!(err.contains("--dk -1"), "{err}");
    let err = stderr_err(&args("xas", &f, &["--json", "--window", "triangle"]));
    assert!(err.contains("window"), "{err}");
}

#[test]
fn bkg_options_are_told_apart_from_ft_options() {
    // AUTOBK and xftf both have kweight/dk/kmin/kmax inside; the message
    // must name the option the user typed.
    let f = cu10k();
    let err = stderr_err(&args("xas", &f, &["--json", "--bkg-kweight", "20"]));
    assert!(err.contains("--bkg-kweight 20"), "{err}");
    let err = stderr_err(&args("xas", &f, &["--json", "--kweight", "20"]));
    assert!(
        err.contains("--kweight 20") && !err.contains("--bkg"),
        "{err}"
    );
    let err = stderr_err(&args("xas", &f, &["--json", "--bkg-dk", "-2"]));
    assert!(err.contains("--bkg-dk -2"), "{err}");
}

#[test]
fn options_that_would_be_ignored_are_errors() {
    let f = cu10k();
    // Larch would fall back to its own e0 without a word.
    let err = stderr_err(&args("xas", &f, &["--json", "--e0", "20000"]));
    assert!(
        err.contains("--e0 20000") && err.contains("cu_10k.xmu"),
        "{err}"
    );
    for (opt, val) in [("--e0", "nan"), ("--pre1", "nan"), ("--kmax", "inf")] {
        let err = stderr_err(&args("xas", &f, &["--json", opt, val]));
        assert!(err.contains(opt), "{opt} {val}: {err}");
    }
    let err = stderr_err(&args("xas", &f, &["--json", "--nnorm", "9"]));
    assert!(err.contains("--nnorm 9"), "{err}");
    let err = stderr_err(&args("xas", &f, &["--json", "--step", "-1"]));
    assert!(err.contains("--step -1"), "{err}");
}

#[test]
fn kmin_beyond_the_data_is_named() {
    // APS20ID's χ(k) ends near 9.95 Å⁻¹: kmax is cut there, so a kmin of 11
    // is what the user has to change.
    let f = common::data("xas/beamlines/APS20ID_2018.dat");
    let err = stderr_err(&args("xas", &f, &["--json", "--kmin", "11"]));
    assert!(err.contains("--kmin 11") && err.contains("9.95"), "{err}");
    let f = common::data("xas/chi/cu.chi");
    let err = stderr_err(&args("xas", &f, &["--json", "--kmin", "18"]));
    assert!(err.contains("--kmin 18"), "{err}");
}

#[test]
fn all_zero_mu_is_an_error_not_nan() {
    let f = scratch("zero").join("zero_mu.xmu");
    let mut text = String::from("# energy mu\n");
    for i in 0..400 {
        text.push_str(&format!("{} 0.0\n", 8800 + 3 * i));
    }
    std::fs::write(&f, text).expect("write zero file");
    let err = stderr_err(&args("xas", &f, &["--json"]));
    assert!(err.contains("zero_mu.xmu"), "{err}");
    assert!(!err.to_lowercase().contains("nan"), "{err}");
}

#[test]
fn feff_path_has_no_mu() {
    let f = common::data("feff/cu/feff0001.dat");
    let err = stderr_err(&args("xas", &f, &["--json"]));
    assert!(err.contains("feff0001.dat"), "{err}");
}

// ---------------------------------------------------------------- human output

#[test]
fn xas_human_output_has_key_numbers() {
    let text = stdout_ok(&args("xas", &cu10k(), &[]));
    for want in [
        "cu_10k.xmu",
        "612 points",
        "8977.580",
        "2.298",
        "-180.0",
        "-90.0",
        "kweight 2",
        "Hanning",
    ] {
        assert!(text.contains(want), "xas output lacks '{want}':\n{text}");
    }
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "human output is JSON"
    );
}

#[test]
fn xas_chi_file() {
    let f = common::data("xas/chi/cu.chi");
    let v = json_ok(&args("xas", &f, &["--json"]));
    assert!(v["e0"].is_null());
    assert_eq!(arr(&v, "k").len(), 350);
    // Same flat params as for μ(E) input.
    assert_eq!(num(&v["params"], "kmin"), 2.0);
    assert_eq!(num(&v["params"], "kmax"), 12.0);
    assert_eq!(v["params"]["window"], "hanning");
    assert!(!arr(&v, "chir_mag").is_empty());
    let text = stdout_ok(&args("xas", &f, &[]));
    assert!(text.contains("350 points"), "{text}");
}

#[test]
fn closed_pipe_ends_quietly() {
    // `carto xas F --json | head -c 10`: the JSON (~110 kB) outgrows the
    // pipe buffer, so the write meets a closed pipe.
    let f = cu10k();
    let mut child = Command::new(env!("CARGO_BIN_EXE_carto"))
        .args([OsStr::new("xas"), f.as_os_str(), OsStr::new("--json")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start carto");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for carto");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "exit {:?}: {err}", out.status.code());
}

// ---------------------------------------------------------------- bench

#[test]
fn bench_xas_reports_throughput() {
    let data = common::data_root();
    let v = json_ok(&[
        OsStr::new("bench"),
        OsStr::new("xas"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--python"),
        OsStr::new("none"),
        OsStr::new("--repeat"),
        OsStr::new("1"),
        OsStr::new("--json"),
    ]);
    assert!(v["n_spectra"].as_u64().is_some_and(|n| n > 10), "{v}");
    for key in ["spectra_per_s_single", "spectra_per_s_parallel"] {
        let x = num(&v, key);
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
}

// ------------------------------------------------- corrections and merge

fn ops_fixture() -> Value {
    let path = common::fixture("ops/larch_ops.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("ops fixture")).expect("JSON")
}

#[test]
fn align_to_reference_matches_larch_and_recovers_a_shift() {
    let cu50 = common::data("xas/columns/cu_50k.xmu");
    let cu10 = common::data("xas/columns/cu_10k.xmu");
    let larch = num(&ops_fixture()["align"]["cu_50k_to_cu_10k"], "eshift");
    let refp = cu10.to_str().expect("utf-8 path");
    let v = json_ok(&args("xas", &cu50, &["--align-to", refp, "--json"]));
    let shift = num(&v["corrections"], "eshift");
    assert!(
        (shift - larch).abs() < 1e-3,
        "align shift {shift} vs Larch {larch}"
    );
    // A deliberate +1.7 eV offset is found and undone.
    let v = json_ok(&args(
        "xas",
        &cu50,
        &["--eshift", "1.7", "--align-to", refp, "--json"],
    ));
    let fitted = num(&v["corrections"], "align_shift");
    assert!((fitted - (-1.7 + larch)).abs() < 5e-3, "fitted {fitted}");
    assert!(num(&v["corrections"], "eshift").abs() < 5e-3);
}

#[test]
fn rebin_gives_larchs_default_grid() {
    let cu10 = common::data("xas/columns/cu_10k.xmu");
    let fx = &ops_fixture()["rebin"]["cu_10k"];
    let grid: Vec<f64> = arr(fx, "energy")
        .into_iter()
        .zip(arr(fx, "mu_boxcar"))
        .filter(|(_, m)| m.is_finite())
        .map(|(e, _)| e)
        .collect();
    let v = json_ok(&args("xas", &cu10, &["--rebin", "--json"]));
    let energy = arr(&v, "energy");
    assert_eq!(energy.len(), grid.len(), "rebinned grid length");
    let worst = energy
        .iter()
        .zip(&grid)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-6, "grid differs from Larch's by {worst} eV");
    assert_eq!(num(&v["corrections"], "rebinned_npts") as usize, grid.len());
}

#[test]
fn deglitch_removes_the_named_points() {
    let cu10 = common::data("xas/columns/cu_10k.xmu");
    let plain = json_ok(&args("xas", &cu10, &["--json"]));
    let v = json_ok(&args(
        "xas",
        &cu10,
        &["--deglitch", "9100.3,9300", "--json"],
    ));
    assert_eq!(arr(&v, "energy").len(), arr(&plain, "energy").len() - 2);
    let removed = arr(&v["corrections"], "deglitched_energies");
    assert_eq!(removed.len(), 2);
    assert!(
        (removed[0] - 9099.705).abs() < 1e-3 && (removed[1] - 9299.404).abs() < 1e-3,
        "{removed:?}"
    );
    for e in arr(&v, "energy") {
        assert!(!removed.contains(&e));
    }
}

#[test]
fn merge_matches_larch_and_writes_a_readable_file() {
    let cu10 = common::data("xas/columns/cu_10k.xmu");
    let cu50 = common::data("xas/columns/cu_50k.xmu");
    let fx = &ops_fixture()["merge"]["cu_10k_50k"];
    let out = scratch("merge").join("merged.xmu");
    let a: Vec<&OsStr> = vec![
        OsStr::new("merge"),
        cu10.as_os_str(),
        cu50.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--json"),
    ];
    let v = json_ok(&a);
    assert_eq!(num(&v, "n_spectra") as usize, 2);
    let (mu, mu_ref) = (arr(&v, "mu"), arr(fx, "mu"));
    assert_eq!(mu.len(), mu_ref.len());
    let worst = mu
        .iter()
        .zip(&mu_ref)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1e-12))
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-9,
        "merged μ differs from Larch by {worst:e} (relative)"
    );
    let info = json_ok(&[OsStr::new("info"), out.as_os_str(), OsStr::new("--json")]);
    assert_eq!(num(&info, "npts") as usize, mu.len());
    let err = stderr_err(&[OsStr::new("merge"), cu10.as_os_str()]);
    assert!(
        err.contains("FILES") || err.contains("required") || err.contains("2"),
        "{err}"
    );
}

#[test]
fn xanes_only_data_normalize_with_the_xanes_flag() {
    let f = common::data("xas/xdi/fe_xanes_8ch.xdi");
    let err = stderr_err(&args("xas", &f, &[]));
    assert!(err.contains("--xanes"), "{err}");
    let v = json_ok(&args("xas", &f, &["--xanes", "--json"]));
    assert!(
        num(&v, "e0") > 7100.0 && num(&v, "e0") < 7130.0,
        "{}",
        v["e0"]
    );
    assert_eq!(arr(&v, "norm").len(), arr(&v, "energy").len());
    assert!(arr(&v, "k").is_empty() && arr(&v, "chir_mag").is_empty());
    let series = common::data("xas/series/fexanes_a.001");
    let v = json_ok(&args("xas", &series, &["--xanes", "--json"]));
    let fx = larch_case("xas/series/fexanes_a.001", None);
    assert!((num(&v, "e0") - num(&fx["results"], "e0")).abs() < 1e-3);
    assert!((num(&v, "edge_step") / num(&fx["results"], "edge_step") - 1.0).abs() < 1e-6);
}

// ---------------------------------------------------------------------------
// carto fit

/// The demo model (sample_data/cu_1shell.toml) is tests/fixtures/feffit's
/// cu_1shell with the files beside it: the same numbers as Larch's fit.
#[test]
fn fit_demo_model_json_matches_larch() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/cu_1shell.toml");
    let v = json_ok(&args("fit", &model, &["--json"]));
    let larch = common::json_fixture("feffit/cu_1shell.larch.json");
    for name in ["amp", "del_e0", "sig2", "del_r"] {
        let p = &v["params"][name];
        let l = &larch["params"][name];
        let (val, lv) = (num(p, "value"), num(l, "value"));
        let (err, le) = (num(p, "stderr"), num(l, "stderr"));
        assert!((val - lv).abs() < 1e-3 * le, "{name}: {val} vs Larch {lv}");
        assert!(
            (err - le).abs() < 1e-4 * le,
            "{name} stderr: {err} vs Larch {le}"
        );
        assert_eq!(p["vary"], Value::Bool(true));
    }
    let st = &v["stats"];
    for (ours, theirs) in [
        ("chi_square", "chi_square"),
        ("chi2_reduced", "chi2_reduced"),
        ("r_factor", "rfactor"),
        ("n_idp", "n_idp"),
        ("aic", "aic"),
        ("bic", "bic"),
    ] {
        let (a, b) = (num(st, ours), num(&larch["stats"], theirs));
        assert!(
            (a - b).abs() <= 1e-5 * b.abs().max(1.0),
            "{ours}: {a} vs {b}"
        );
    }
    assert_eq!(st["n_varys"], json!(4));
    assert_eq!(st["nfree"], json!(100));
    let c = num(&v["correlations"], "amp,sig2");
    assert!(
        (c - 0.928_415_502_462_148_9).abs() < 1e-5,
        "amp,sig2 correlation {c}"
    );
    // Best-fit arrays, top level and per dataset.
    let k = arr(&v, "k");
    let chi = arr(&v, "chi_fit");
    assert_eq!(k.len(), chi.len());
    let lfit = common::numbers(&larch["datasets"][0]["chi_fit"]);
    assert_eq!(chi.len(), lfit.len());
    let d = rms(chi.iter().zip(&lfit).map(|(a, b)| a - b)) / rms(lfit.iter().copied());
    assert!(d < 1e-5, "chi_fit differs from Larch by {d}");
    let r = arr(&v, "r");
    let mag = arr(&v, "chir_mag_fit");
    assert_eq!(r.len(), mag.len());
    let ipk = mag
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    assert!(
        (2.0..2.5).contains(&r[ipk]),
        "|χ(R)| peak of the fit at {} Å",
        r[ipk]
    );
    assert_eq!(v["datasets"][0]["paths"][0]["degen"], json!(12.0));
}

#[test]
fn fit_text_report_and_report_file() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/cu_1shell.toml");
    let dir = tempdir("fit_report");
    let out = dir.join("report.txt");
    let text = stdout_ok(&args(
        "fit",
        &model,
        &["--report", out.to_str().unwrap_or_default()],
    ));
    assert!(text.contains("[[Statistics]]") && text.contains("[[Correlations]]"));
    assert!(text.contains("amp, sig2"), "{text}");
    let saved = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(saved, text.trim_end_matches('\n').to_string() + "\n");
}

/// Write a model file next to copies of nothing: paths are absolute.
fn bad_model(name: &str, body: &str) -> std::path::PathBuf {
    let dir = tempdir(name);
    let p = dir.join("model.toml");
    let text = body
        .replace(
            "@XDI@",
            &common::data("xas/xdi/cu_metal_rt.xdi")
                .display()
                .to_string(),
        )
        .replace(
            "@FEFF@",
            &common::data("feff/cu/feff0001.dat").display().to_string(),
        );
    std::fs::write(&p, text).expect("write temp model");
    p
}

const GOOD_MODEL: &str = r#"
[data]
file = "@XDI@"
mu = "mutrans"
[transform]
kmin = 3
kmax = 14
kweight = 2
rmin = 1.4
rmax = 3.0
[params]
amp = { value = 1, vary = true }
sig2 = { value = 0.003, vary = true }
[[paths]]
file = "@FEFF@"
s02 = "amp"
sigma2 = "sig2"
"#;

#[test]
fn fit_bad_models_name_the_key() {
    for (what, body, expect) in [
        (
            "unknown parameter",
            GOOD_MODEL.replace("sigma2 = \"sig2\"", "sigma2 = \"sig2_3\""),
            "sig2_3",
        ),
        (
            "where",
            GOOD_MODEL.replace("sigma2 = \"sig2\"", "sigma2 = \"sig2_3\""),
            "path 1",
        ),
        (
            "unknown key",
            GOOD_MODEL.replace("rmax = 3.0", "rmax = 3.0\nrmaxx = 4"),
            "transform.rmaxx",
        ),
        (
            "bad window",
            GOOD_MODEL.replace("kweight = 2", "kweight = 2\nwindow = \"box\""),
            "transform.window",
        ),
        (
            "kmax < kmin",
            GOOD_MODEL.replace("kmax = 14", "kmax = 1"),
            "kmax",
        ),
        (
            "syntax",
            GOOD_MODEL.replace("kmin = 3", "kmin = = 3"),
            "line 6",
        ),
        (
            "missing feff",
            GOOD_MODEL.replace("@FEFF@", "/nonexistent/feff0001.dat"),
            "paths[1]",
        ),
        (
            "bad mu column",
            GOOD_MODEL.replace("mutrans", "nope"),
            "mu = 'nope'",
        ),
        (
            "cycle",
            GOOD_MODEL.replace(
                "amp = { value = 1, vary = true }",
                "amp = { expr = \"2*bmp\" }\nbmp = { expr = \"amp\" }",
            ),
            "itself",
        ),
        (
            "no data",
            GOOD_MODEL.replace("[data]\nfile = \"@XDI@\"\nmu = \"mutrans\"", ""),
            "[data]",
        ),
        (
            "string value",
            GOOD_MODEL.replace("kmin = 3", "kmin = \"three\""),
            "transform.kmin",
        ),
        (
            "autobk key",
            GOOD_MODEL.replace(
                "mu = \"mutrans\"",
                "mu = \"mutrans\"\n[data.autobk]\nrbk = 1",
            ),
            "data.autobk.rbk",
        ),
    ] {
        let p = bad_model("fit_bad", &body);
        let err = stderr_err(&args("fit", &p, &["--json"]));
        assert!(
            err.contains(expect),
            "{what}: error does not mention {expect:?}:\n{err}"
        );
        assert!(
            err.contains("model.toml"),
            "{what}: error does not name the model file:\n{err}"
        );
    }
}

/// A fresh, empty scratch folder for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "carto-cli-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

#[test]
fn structure_json_matches_pymatgen_for_magnetite() {
    let cif = common::data("cif/amcsd/magnetite_amcsd9994.cif");
    let v = json_ok(&args(
        "structure",
        &cif,
        &["--json", "--absorber", "Fe", "--rmax", "4"],
    ));
    assert_eq!(v["formula"], "Fe3O4");
    assert_eq!(v["spacegroup_number"], 227);
    assert_eq!(v["spacegroup_symbol"], "Fd-3m");
    assert_eq!(v["nsites"], 56);
    assert!((num(&v["lattice"], "a") - 8.3969).abs() < 1e-9);
    assert!((num(&v["lattice"], "volume") - 592.0486).abs() < 1e-3);
    let shells = v["shells"].as_array().expect("shells");
    assert_eq!(shells.len(), 1);
    assert_eq!(shells[0]["element"], "Fe");
    // The first Fe of the file is tetrahedral: 4 O at 1.88 Å (pymatgen 1.8884).
    let first = &shells[0]["shells"][0];
    assert_eq!(first["element"], "O");
    assert_eq!(first["n"], 4);
    assert!((num(first, "r") - 1.886_047).abs() < 1e-5, "{first}");
}

#[test]
fn structure_errors_name_file_line_and_option() {
    let bad = common::data("cif/amcsd_library/Pb2(AsO2OH)Cl2_amcsd19001.cif");
    let e = stderr_err(&args("structure", &bad, &["--json"]));
    assert!(
        e.contains("Pb2(AsO2OH)Cl2_amcsd19001.cif:25") && e.contains("_cell_length_a"),
        "{e}"
    );
    let cu = common::data("cif/amcsd/copper_amcsd13088.cif");
    let e = stderr_err(&args("structure", &cu, &["--absorber", "Zn"]));
    assert!(e.contains("Zn"), "{e}");
    let e = stderr_err(&args("structure", &cu, &["--rmax", "-1"]));
    assert!(e.contains("--rmax"), "{e}");
}

#[test]
fn xrd_simulate_json_and_profile() {
    let cu = common::data("cif/amcsd/copper_amcsd13088.cif");
    let run = |rest: &[&str]| {
        let mut a: Vec<&OsStr> = vec![OsStr::new("xrd"), OsStr::new("simulate"), cu.as_os_str()];
        a.extend(rest.iter().map(|s| OsStr::new(*s)));
        json_ok(&a)
    };
    // pymatgen XRDCalculator("CuKa"): 111 at 43.165387°, 200 at 46.687483 %.
    let v = run(&["--no-dw", "--json"]);
    let peaks = v["peaks"].as_array().expect("peaks");
    assert_eq!(peaks.len(), 4);
    assert!((num(&peaks[0], "two_theta") - 43.165_387).abs() < 1e-6);
    assert_eq!(num(&peaks[0], "intensity"), 100.0);
    assert!((num(&peaks[1], "intensity") - 46.687_483).abs() < 1e-5);
    assert_eq!(peaks[3]["hkls"][0], json!([3, 1, 1]));
    assert_eq!(peaks[3]["multiplicity"][0], 24);
    // A Debye–Waller B damps high angles (this CIF has no B of its own).
    let dw = run(&["--json"]);
    assert_eq!(
        num(&dw["peaks"][3], "intensity"),
        num(&peaks[3], "intensity")
    );
    let dw = run(&["--b-iso", "0.5", "--json"]);
    assert!(num(&dw["peaks"][3], "intensity") < num(&peaks[3], "intensity") - 1.0);
    // MoKa by name, a 2θ window, and a broadened profile with the doublet.
    let mo = run(&[
        "--wavelength",
        "MoKa",
        "--two-theta",
        "15",
        "30",
        "--json",
        "--profile",
        "--step",
        "0.01",
    ]);
    assert!((num(&mo, "wavelength_ang") - 0.71073).abs() < 1e-12);
    let prof = &mo["profile"];
    let x = arr(prof, "two_theta");
    let y = arr(prof, "intensity");
    assert_eq!(x.len(), 1501);
    let imax = (0..y.len())
        .max_by(|&a, &b| y[a].total_cmp(&y[b]))
        .expect("max");
    // Kα1 (0.70930 Å) puts 111 at 19.4855°.
    assert!((x[imax] - 19.49).abs() < 0.02, "{}", x[imax]);
    assert_eq!(prof["kalpha_doublet"][0], 0.7093);
    let e = stderr_err(&[
        OsStr::new("xrd"),
        OsStr::new("simulate"),
        cu.as_os_str(),
        OsStr::new("--wavelength"),
        OsStr::new("CuKz"),
    ]);
    assert!(e.contains("CuKz") && e.contains("CuKa"), "{e}");
}

#[test]
fn xrd_identify_quantify_and_peaks() {
    let run = |sub: &str, file: &Path, rest: &[&OsStr]| {
        let mut a: Vec<&OsStr> = vec![OsStr::new("xrd"), OsStr::new(sub), file.as_os_str()];
        a.extend_from_slice(rest);
        json_ok(&a)
    };
    let quartz = common::data("xrd/quartz.xy");
    let cifs = common::data("cif/amcsd");
    let v = run(
        "identify",
        &quartz,
        &[
            OsStr::new("--candidates"),
            cifs.as_os_str(),
            OsStr::new("--wavelength"),
            OsStr::new("CuKa"),
            OsStr::new("--max-scale"),
            OsStr::new("0.035"),
            OsStr::new("--json"),
        ],
    );
    // This AMCSD quartz was measured under pressure: its cell is 2.8 % small.
    assert_eq!(v["ranking"][0]["id"], "quartz_amcsd11008");
    assert!((num(&v["ranking"][0], "scale") - 1.027).abs() < 0.003);
    assert!(num(&v["ranking"][0], "score") > 0.9);
    assert_eq!(v["candidates"], 35);
    // No wavelength in a plain .xy: a readable error.
    let e = stderr_err(&[
        OsStr::new("xrd"),
        OsStr::new("identify"),
        quartz.as_os_str(),
        OsStr::new("--candidates"),
        cifs.as_os_str(),
    ]);
    assert!(e.contains("--wavelength"), "{e}");
    let mix = common::data("xrd/rockjock/mixtures/Mix2.xy");
    let lib = common::data("xrd/rockjock/library");
    let q = run(
        "quantify",
        &mix,
        &[
            OsStr::new("--library"),
            lib.as_os_str(),
            OsStr::new("--std"),
            OsStr::new("CORUNDUM=20"),
            OsStr::new("--json"),
        ],
    );
    let phases = q["phases"].as_array().expect("phases");
    let w = |id: &str| {
        phases
            .iter()
            .filter(|p| p["id"] == id)
            .map(|p| num(p, "weight_percent"))
            .sum::<f64>()
    };
    assert!((w("CORUNDUM") - 20.0).abs() < 1e-9);
    // Mix2 holds 4 % quartz (measured 4.4).
    assert!(
        (w("QUARTZ") + w("QUARTZ_2") - 4.0).abs() < 1.5,
        "{phases:?}"
    );
    let e = stderr_err(&[
        OsStr::new("xrd"),
        OsStr::new("quantify"),
        mix.as_os_str(),
        OsStr::new("--library"),
        lib.as_os_str(),
        OsStr::new("--std"),
        OsStr::new("RUBY=20"),
    ]);
    assert!(e.contains("RUBY"), "{e}");
    // Peaks: quartz 101 at 26.64° with Cu Kα.
    let p = run("peaks", &quartz, &[OsStr::new("--json")]);
    let best = p["peaks"]
        .as_array()
        .expect("peaks")
        .iter()
        .filter(|x| x["area"].is_number())
        .max_by(|a, b| num(a, "area").total_cmp(&num(b, "area")))
        .expect("a peak")
        .clone();
    assert!((num(&best, "two_theta") - 26.64).abs() < 0.05, "{best}");
    assert!(num(&best, "two_theta_err") < 0.01, "{best}");
}

#[test]
fn info_tells_powder_patterns_from_spectra() {
    let raw = common::data("xrd/bruker_raw/D5000_1.RAW");
    let v = json_ok(&args("info", &raw, &["--json"]));
    assert_eq!(v["modality"], "xrd");
    assert_eq!(v["format"], "bruker_raw_v3");
    assert_eq!(v["npts"], 3651);
    assert_eq!(num(&v, "wavelength_ang"), 1.78897);
    let quartz = common::data("xrd/quartz.xy");
    let v = json_ok(&args("info", &quartz, &["--json"]));
    assert_eq!(v["modality"], "xrd");
    assert!(v["wavelength_ang"].is_null());
    // A Larch χ(k) file with the same shape stays a χ(k) file.
    let chi = common::data("xas/chi/cu.chi");
    let v = json_ok(&args("info", &chi, &["--json"]));
    assert_eq!(v["modality"], "chi");
}

#[test]
fn bench_startup_without_a_display_says_how_to_run_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_carto"))
        .args(["bench", "startup"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("cannot start the carto binary");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("xvfb-run"), "{err}");
}

/// `carto xas` back-transforms χ(R) to χ(q) over the R window (Athena's
/// first-shell default, 1–3 Å): the JSON arrays are xftr of the printed
/// χ(R), kept to the end of χ(k); the CSV gains BASE_chiq.csv; a window
/// that cannot be is an error naming the option.
#[test]
fn xas_gives_chi_q_over_the_r_window() {
    let file = common::data("xas/xdi/cu_metal_rt.xdi");
    let v = json_ok(&args(
        "xas",
        &file,
        &["--json", "--rmin", "1.2", "--rmax", "2.8", "--dr", "0.5"],
    ));
    let (r, re, im) = (arr(&v, "r"), arr(&v, "chir_re"), arr(&v, "chir_im"));
    let q = arr(&v, "q");
    let k = arr(&v, "k");
    assert!(q.len() > 100, "{} q points", q.len());
    assert!(q.last().copied().unwrap_or(0.0) <= k.last().copied().unwrap_or(0.0) + 1e-12);
    assert_eq!(v["params"]["rmin"], 1.2);
    assert_eq!(v["params"]["rwindow"], "hanning");
    // Recompute from the printed χ(R) with the core.
    let z: Vec<num_complex::Complex64> = re
        .iter()
        .zip(&im)
        .map(|(&a, &b)| num_complex::Complex64::new(a, b))
        .collect();
    let p = carto::xas::fourier::RParams {
        rmin: 1.2,
        rmax: 2.8,
        dr: 0.5,
        ..carto::xas::fourier::RParams::first_shell()
    };
    let want = carto::xas::xftr(&r, &z, &p).expect("xftr");
    let got = arr(&v, "chiq_re");
    for (i, (a, b)) in got.iter().zip(&want.chiq_re).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1e-3),
            "chiq_re[{i}]: {a} vs {b}"
        );
    }
    // The first shell dominates: |χ(q)| peaks between 4 and 10 Å⁻¹ (k²-weighted Cu).
    let mag = arr(&v, "chiq_mag");
    let imax = (0..mag.len())
        .max_by(|&a, &b| mag[a].total_cmp(&mag[b]))
        .unwrap_or(0);
    assert!((4.0..10.5).contains(&q[imax]), "max at q = {}", q[imax]);

    let dir = scratch("chiq");
    let base = dir.join("cu.csv");
    let base_s = base.display().to_string();
    stdout_ok(&args("xas", &file, &["--csv", &base_s]));
    let text = std::fs::read_to_string(dir.join("cu_chiq.csv")).expect("chiq csv");
    assert!(
        text.contains("# q_inv_ang, chiq_re, chiq_im, chiq_mag"),
        "{text:.300}"
    );

    let e = stderr_err(&args("xas", &file, &["--rmin", "3", "--rmax", "2"]));
    assert!(e.contains("--rmax") && e.contains("cu_metal_rt.xdi"), "{e}");
}

#[test]
fn info_describes_structures_and_fit_models_by_the_routing_rule() {
    let cif = common::data("cif/misc/fcc.cif");
    let v = json_ok(&args("info", &cif, &["--json"]));
    assert_eq!(v["modality"], "structure");
    assert_eq!(v["blocks"][0]["formula"], "HoN");
    let pattern = common::data("xrd/quartz.xy");
    let v = json_ok(&args("info", &pattern, &["--json"]));
    assert_eq!(v["modality"], "xrd");
    let model = scratch("info-model").join("cu_3shell.toml");
    std::fs::write(&model, common::feffit_model_text("cu_3shell")).expect("write model");
    let v = json_ok(&args("info", &model, &["--json"]));
    assert_eq!(v["modality"], "fit_model");
    assert_eq!(v["paths"], 3);
}

#[test]
fn xrd_identify_on_a_pattern_without_peaks_says_so() {
    // Flat counts with ±3 % noise (a deterministic sawtooth-like jitter):
    // nothing stands out, and a ranking of the noise would look like one.
    let text: String = (0..3000)
        .map(|i| {
            let jitter = ((i * 7919) % 13) as f64 - 6.0;
            format!("{:.2} {:.3}\n", 5.0 + 0.02 * i as f64, 100.0 + 0.5 * jitter)
        })
        .collect();
    let f = scratch("identify-flat").join("flat.xy");
    std::fs::write(&f, text).expect("write");
    let cifs = common::data("cif/amcsd");
    let e = stderr_err(&[
        OsStr::new("xrd"),
        OsStr::new("identify"),
        f.as_os_str(),
        OsStr::new("--candidates"),
        cifs.as_os_str(),
        OsStr::new("--wavelength"),
        OsStr::new("CuKa"),
    ]);
    assert!(e.contains("flat.xy") && e.contains("no peaks"), "{e}");
}

#[test]
fn jcpds_info_negative_two_theta_and_merge_of_a_pattern() {
    // A JCPDS card is described, not misread as a column file.
    let card = common::data("xrd/jcpds/ag.jcpds");
    let v = json_ok(&[OsStr::new("info"), card.as_os_str(), OsStr::new("--json")]);
    assert_eq!(v["name"], "ag");
    assert!((num(&v, "a_ang") - 4.0862).abs() < 1e-9, "{v}");
    assert_eq!(v["reflections"].as_array().map(Vec::len), Some(9));
    // Negative numbers reach the range check (not clap's "unexpected argument").
    let cif = common::data("cif/amcsd/quartz_amcsd11008.cif");
    let e = stderr_err(&[
        OsStr::new("xrd"),
        OsStr::new("simulate"),
        cif.as_os_str(),
        OsStr::new("--two-theta"),
        OsStr::new("-90"),
        OsStr::new("-10"),
    ]);
    assert!(e.contains("2θ range -90–-10°"), "{e}");
    // A powder pattern is not averaged into μ(E) scans.
    let e = stderr_err(&[
        OsStr::new("merge"),
        common::data("xas/xdi/feo_rt1.xdi").as_os_str(),
        common::data("xrd/quartz.xy").as_os_str(),
    ]);
    assert!(
        e.contains("quartz.xy") && e.contains("not a powder pattern"),
        "{e}"
    );
    // A scan off the first one's energies is named by its file, not "scan 1".
    let e = stderr_err(&[
        OsStr::new("merge"),
        common::data("xas/xdi/cu_metal_rt.xdi").as_os_str(),
        common::data("xas/xdi/feo_rt1.xdi").as_os_str(),
    ]);
    assert!(
        e.contains("feo_rt1.xdi") && e.contains("do not overlap") && !e.contains("scan 1"),
        "{e}"
    );
}
