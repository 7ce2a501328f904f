//! The feature table (src/features) and `carto batch`: CSV/Parquet round
//! trips, agreement with `carto xas`, bad input as error rows, and shards
//! merged back into the single-process table.

mod common;

use common::carto;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use carto::features::batch::{BatchConfig, rows_of_file};
use carto::features::{SCHEMA, read_table, table, write_table};
use polars::prelude::*;

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carto-features-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Rows of a few real files of every kind: XDI, columns, χ(k), an Athena
/// project, a powder pattern, and a file that is not data.
fn mixed_rows() -> Vec<carto::features::FeatureRow> {
    let files = [
        "xas/xdi/cu_metal_rt.xdi",
        "xas/columns/cu.xmu",
        "xas/chi/cu.chi",
        "athena/Fe.prj",
        "xrd/quartz.xy",
        "SOURCES.md",
    ];
    let c = BatchConfig::default();
    let p = c.chain_params();
    files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| rows_of_file(i, &common::data(f), &c, &p))
        .collect()
}

#[test]
fn csv_and_parquet_round_trip_to_the_same_frame() {
    let rows = mixed_rows();
    let mut df = table(&rows).expect("table");
    assert!(df.height() >= 6, "{} rows", df.height());
    // The fixed schema, in order, with its types.
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let want: Vec<&str> = SCHEMA.iter().map(|c| c.name).collect();
    assert_eq!(names, want);
    for c in SCHEMA {
        let dt = df.column(c.name).expect("column").dtype().clone();
        let expected = match c.dtype {
            "f64" => DataType::Float64,
            "i64" => DataType::Int64,
            _ => DataType::String,
        };
        assert_eq!(dt, expected, "{}", c.name);
    }
    // Every kind of row is there, with values where they belong.
    let modality = df.column("modality").unwrap().str().unwrap().clone();
    let kinds: Vec<&str> = modality.iter().flatten().collect();
    for k in ["xas", "chi", "xrd"] {
        assert!(kinds.contains(&k), "no {k} row: {kinds:?}");
    }
    let err = df.column("error").unwrap().str().unwrap().clone();
    assert_eq!(
        err.len() - err.null_count(),
        1,
        "only SOURCES.md fails: {err:?}"
    );
    // Never NaN in a float column.
    for c in SCHEMA.iter().filter(|c| c.dtype == "f64") {
        let s = df.column(c.name).unwrap().f64().unwrap().clone();
        assert!(s.iter().flatten().all(f64::is_finite), "{} has NaN", c.name);
    }
    let dir = tempdir("roundtrip");
    for name in ["t.csv", "t.parquet"] {
        let path = dir.join(name);
        write_table(&path, &mut df).expect("write");
        let back = read_table(&path).expect("read");
        assert_eq!(back.schema(), df.schema(), "{name}: dtypes differ");
        assert!(
            back.equals_missing(&df),
            "{name}: values differ\n{back}\n{df}"
        );
    }
}

/// e0 and edge step of each row as `carto xas --json` prints them.
fn xas_json(file: &Path, group: Option<&str>) -> (f64, f64) {
    let mut args = vec!["xas".as_ref(), file.as_os_str(), "--json".as_ref()];
    if let Some(g) = group {
        args.push("--group".as_ref());
        args.push(g.as_ref());
    }
    let o = carto(&args);
    assert!(
        o.status.success(),
        "carto xas {}: {}",
        file.display(),
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    (
        v["e0"].as_f64().expect("e0"),
        v["edge_step"].as_f64().expect("edge_step"),
    )
}

#[test]
fn e0_and_edge_step_columns_equal_carto_xas() {
    let files = [
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/xdi/feo_rt1.xdi"),
        common::data("xas/columns/fe2o3_rt1.xmu"),
        common::data("athena/Fe.prj"),
    ];
    let dir = tempdir("vs_xas");
    let out = dir.join("t.parquet");
    let mut args: Vec<&OsStr> = vec!["batch".as_ref()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    args.extend(["--out".as_ref(), out.as_os_str()]);
    let o = carto(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read_table(&out).expect("read");
    let src = df.column("source_file").unwrap().str().unwrap().clone();
    let group = df.column("group").unwrap().str().unwrap().clone();
    let e0 = df.column("e0_ev").unwrap().f64().unwrap().clone();
    let step = df.column("edge_step").unwrap().f64().unwrap().clone();
    let mut checked = 0;
    for i in 0..df.height() {
        let file = PathBuf::from(src.get(i).unwrap());
        let (e0_x, step_x) = xas_json(&file, group.get(i));
        // The same code; `--group` reads only that group's arrays, which
        // can move the last bit of a sum.
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs());
        assert!(
            close(e0.get(i), e0_x),
            "{} {:?}: e0 {:?} vs {e0_x}",
            file.display(),
            group.get(i),
            e0.get(i)
        );
        assert!(
            close(step.get(i), step_x),
            "{} {:?}: step {:?} vs {step_x}",
            file.display(),
            group.get(i),
            step.get(i)
        );
        checked += 1;
    }
    // The three single files and every μ(E) group of Fe.prj.
    assert!(checked >= 5, "{checked} rows");
    // Cu K edge of the copper foil: a wrong e0 would be off by eV.
    let cu = (0..df.height())
        .find(|&i| src.get(i).is_some_and(|s| s.ends_with("cu_metal_rt.xdi")))
        .expect("cu row");
    assert!(
        (e0.get(cu).unwrap() - 8980.0).abs() < 5.0,
        "{:?}",
        e0.get(cu)
    );
}

#[test]
fn bad_input_gives_error_rows_and_exit_status_2() {
    let dir = tempdir("bad");
    let zero = dir.join("zero.dat");
    let text: String = (0..200)
        .map(|i| format!("{} 0.0\n", 8900.0 + f64::from(i)))
        .collect();
    std::fs::write(&zero, format!("# energy mu\n{text}")).unwrap();
    let garbage = dir.join("garbage.xdi");
    std::fs::write(&garbage, b"\x00\x01 not data at all").unwrap();
    let missing = dir.join("missing.xdi");
    let good = common::data("xas/xdi/cu_metal_rt.xdi");
    let out = dir.join("t.csv");
    let o = carto([
        "batch".as_ref(),
        zero.as_os_str(),
        garbage.as_os_str(),
        missing.as_os_str(),
        good.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 of 4 rows failed"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json summary");
    assert_eq!(v["files"], 4);
    assert_eq!(v["rows"], 4);
    assert_eq!(v["failed"], 3);
    assert!(v["seconds"].as_f64().unwrap() > 0.0 && v["rows_per_s"].as_f64().unwrap() > 0.0);
    let df = read_table(&out).expect("read");
    let err = df.column("error").unwrap().str().unwrap().clone();
    let e0 = df.column("e0_ev").unwrap().f64().unwrap().clone();
    // Sorted input order: garbage, missing, zero (temp dir), then the shared file.
    let src = df.column("source_file").unwrap().str().unwrap().clone();
    for i in 0..4 {
        let s = src.get(i).unwrap();
        if s.ends_with("cu_metal_rt.xdi") {
            assert!(err.get(i).is_none(), "{:?}", err.get(i));
            assert!(e0.get(i).is_some());
        } else {
            assert!(err.get(i).is_some_and(|e| !e.is_empty()), "{s}: no error");
            assert!(e0.get(i).is_none(), "{s}: numbers on an error row");
        }
    }
    assert!(
        (0..4).any(|i| src.get(i).unwrap().ends_with("missing.xdi")
            && err.get(i).unwrap().contains("cannot read")),
        "{err:?}"
    );
}

#[test]
fn config_file_sets_parameters_and_rejects_unknown_keys() {
    let dir = tempdir("config");
    let cfg = dir.join("c.toml");
    std::fs::write(
        &cfg,
        "kmin = 3.0\nkweight = 3\nrbkg = 1.1\n[xrd]\nmin_snr = 8\n",
    )
    .unwrap();
    let out = dir.join("t.parquet");
    let f = common::data("xas/xdi/cu_metal_rt.xdi");
    let o = carto([
        "batch".as_ref(),
        f.as_os_str(),
        "--config".as_ref(),
        cfg.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read_table(&out).unwrap();
    let get = |c: &str| df.column(c).unwrap().f64().unwrap().get(0);
    assert_eq!(get("kmin_inv_ang"), Some(3.0));
    assert_eq!(get("kweight"), Some(3.0));
    assert_eq!(get("rbkg_ang"), Some(1.1));
    std::fs::write(&cfg, "kmin = 3.0\nkmni = 2\n").unwrap();
    let o = carto([
        "batch".as_ref(),
        f.as_os_str(),
        "--config".as_ref(),
        cfg.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("c.toml") && e.contains("kmni"), "{e}");
}

#[test]
fn four_shards_merged_equal_the_single_process_table() {
    let data = common::data("xas");
    let dir = tempdir("shards");
    let single = dir.join("single.parquet");
    let run = |extra: &[&OsStr]| {
        let mut args: Vec<&OsStr> = vec!["batch".as_ref(), data.as_os_str()];
        args.extend_from_slice(extra);
        let o = carto(&args);
        // The xdi_suite's bad files fail: status 2, and the table is written.
        assert!(matches!(o.status.code(), Some(0 | 2)), "{}", stderr(&o));
    };
    run(&["--out".as_ref(), single.as_os_str()]);
    let mut parts = Vec::new();
    // Written in reverse order: merge orders the parts itself.
    for i in (1..=4).rev() {
        let part = dir.join(format!("part{i}.parquet"));
        let shard = format!("{i}/4");
        run(&[
            "--shard".as_ref(),
            shard.as_ref(),
            "--out".as_ref(),
            part.as_os_str(),
        ]);
        parts.push(part);
    }
    for out in ["merged.parquet", "merged.csv"] {
        let merged = dir.join(out);
        let mut args: Vec<&OsStr> = vec!["batch".as_ref(), "merge".as_ref()];
        args.extend(parts.iter().map(|p| p.as_os_str()));
        args.extend(["--out".as_ref(), merged.as_os_str()]);
        let o = carto(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        let a = read_table(&single).unwrap();
        let b = read_table(&merged).unwrap();
        assert!(a.height() > 40, "{} rows", a.height());
        assert_eq!(a.schema(), b.schema());
        assert!(
            a.equals_missing(&b),
            "{out}: merged differs from the single-process table"
        );
    }
    // The same part twice is refused, naming both.
    let o = carto([
        "batch".as_ref(),
        "merge".as_ref(),
        parts[0].as_os_str(),
        parts[0].as_os_str(),
        "--out".as_ref(),
        dir.join("x.parquet").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("overlap"), "{}", stderr(&o));
}

#[test]
fn readme_documents_every_column() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for c in SCHEMA {
        let want = format!("| `{}` |", c.name);
        assert!(readme.contains(&want), "README's schema lacks {}", c.name);
    }
}

#[test]
fn fit_lcf_and_phase_columns_fill_and_round_trip() {
    use carto::exafs::feffit::{FitResult, FitStats, ParamResult};
    use carto::xanes::{LcfFit, ParamValue, XanesArray};
    use carto::xrd::identify::RankedCandidate;
    let pv = |value, stderr| ParamValue { value, stderr };
    let param = |name: &str, value, stderr| ParamResult {
        name: name.into(),
        value,
        stderr,
        vary: true,
        expr: None,
        init: 0.0,
    };
    let fit = FitResult {
        params: vec![param("amp", 0.93, Some(0.05)), param("del E0", 1.2, None)],
        stats: FitStats {
            chi_square: 12.5,
            chi2_reduced: 1.4,
            r_factor: 0.011,
            n_idp: 14.2,
            n_varys: 5,
            nfree: 9,
            ndata: 400,
            nfev: 60,
            aic: 7.0,
            bic: 9.0,
            success: true,
            message: String::new(),
        },
        correlations: Vec::new(),
        datasets: Vec::new(),
    };
    let lcf = LcfFit {
        standards: vec!["Fe foil".into(), "hematite".into()],
        weights: vec![pv(0.7, Some(0.01)), pv(0.3, Some(0.01))],
        weights_lstsq: vec![0.7, 0.3],
        e0_shift_ev: pv(0.0, None),
        std_e0_shifts_ev: None,
        total: pv(1.0, None),
        chisqr: 0.02,
        redchi: 1e-4,
        rfactor: 2e-4,
        nfev: 10,
        energy_ev: Vec::new(),
        data: Vec::new(),
        fit: Vec::new(),
        components: Vec::new(),
    };
    let cand = |id: &str, score| RankedCandidate {
        id: id.into(),
        name: id.into(),
        formula: String::new(),
        score,
        scale: 1.0,
        matched_peaks: 5,
        measured_peaks: 6,
    };
    let mut a = carto::features::FeatureRow::new(0, "a.xdi", None, 0, "xas");
    a.add_exafs_fit(&fit);
    a.add_lcf(&lcf, XanesArray::Norm);
    a.add_xrd_phases(&[cand("quartz", 0.91), cand("calcite", f64::NAN)]);
    let b = a.failed("boom\nsecond line");
    let mut df = table(&[a, b]).unwrap();
    let f = |c: &str, i: usize| df.column(c).unwrap().f64().unwrap().get(i);
    let s = |c: &str, i: usize| {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .map(str::to_string)
    };
    assert_eq!(f("fit_amp", 0), Some(0.93));
    assert_eq!(f("fit_amp_stderr", 0), Some(0.05));
    assert_eq!(f("fit_del_e0", 0), Some(1.2));
    assert_eq!(f("fit_del_e0_stderr", 0), None);
    assert_eq!(f("fit_r_factor", 0), Some(0.011));
    assert_eq!(s("lcf_2_standard", 0).as_deref(), Some("hematite"));
    assert_eq!(f("lcf_1_weight", 0), Some(0.7));
    assert_eq!(s("lcf_3_standard", 0), None);
    assert_eq!(s("xrd_phase_1_id", 0).as_deref(), Some("quartz"));
    // NaN is a null, never written.
    assert_eq!(f("xrd_phase_2_score", 0), None);
    // The failed row: one-line error, every number null.
    assert_eq!(s("error", 1).as_deref(), Some("boom second line"));
    assert_eq!(f("fit_amp", 1), None);
    assert_eq!(f("lcf_1_weight", 1), None);
    // Fit-parameter columns come after the fixed ones and survive CSV.
    let names = df.get_column_names();
    assert_eq!(names.len(), SCHEMA.len() + 4);
    let dir = tempdir("extras");
    for name in ["t.csv", "t.parquet"] {
        let path = dir.join(name);
        write_table(&path, &mut df).unwrap();
        let back = read_table(&path).unwrap();
        assert_eq!(back.schema(), df.schema(), "{name}");
        assert!(back.equals_missing(&df), "{name}");
    }
}

#[test]
fn merge_refuses_a_device_or_fifo_part_instead_of_reading_forever() {
    // A device or a FIFO (no writer) would be read, or waited on, forever.
    let e = read_table(Path::new("/dev/zero")).expect_err("a device is not a table");
    assert!(
        e.to_string()
            .contains("not a regular file (a character device)"),
        "{e}"
    );
    let dir = tempdir("fifo");
    let fifo = dir.join("part.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let e = read_table(&fifo).expect_err("a FIFO is not a table");
    assert!(e.to_string().contains("not a regular file (a FIFO)"), "{e}");
    let o = carto([
        OsStr::new("batch"),
        OsStr::new("merge"),
        fifo.as_os_str(),
        OsStr::new("--out"),
        dir.join("m.csv").as_os_str(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("a FIFO"), "{}", stderr(&o));
}

#[test]
fn xanes_scans_give_normalized_rows_and_a_scan_stopping_at_the_edge_an_error() {
    let c = BatchConfig::default();
    let p = c.chain_params();
    // Cu foil cut 30 eV above its edge (8979 eV), as a XANES scan is: no
    // χ(k) past k = 2.8 Å⁻¹, so a normalized (`xanes`) row, with the numbers
    // of `carto xas --xanes` on the same file and its edge descriptors.
    let text = std::fs::read_to_string(common::data("xas/xdi/cu_metal_rt.xdi")).expect("read");
    let cut: String = text
        .lines()
        .filter(|l| {
            let e = l
                .split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok());
            e.is_none_or(|e| e <= 9009.0)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let f = tempdir("xanes_cut").join("cu_xanes.xdi");
    std::fs::write(&f, cut).expect("write");
    let rows = rows_of_file(0, &f, &c, &p);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.error, None);
    assert_eq!(r.modality.as_deref(), Some("xanes"));
    let o = carto([
        "xas".as_ref(),
        f.as_os_str(),
        "--xanes".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(r.e0_ev, v["e0"].as_f64());
    assert_eq!(r.edge_step, v["edge_step"].as_f64());
    assert!(r.e0_ev.is_some_and(|e0| (e0 - 8979.0).abs() < 3.0), "{r:?}");
    assert!(r.half_height_energy_ev.is_some(), "{r:?}");
    assert_eq!(r.chir_max_r_ang, None);
    assert_eq!(r.rbkg_ang, None, "no AUTOBK parameters on a XANES row");

    // Scans that stop at the edge stay errors, whatever pre_edge calls e0:
    // Fe Kα fluorescence 7012–7108.6 eV (the Fe K edge is at 7112 eV) and
    // Mn fluorescence 6389–6537 eV (the Mn K edge is at 6539 eV).
    for file in ["xas/xdi/fe_xanes_8ch.xdi", "xas/beamlines/APS13ID_2019.dat"] {
        let rows = rows_of_file(0, &common::data(file), &c, &p);
        assert!(rows[0].error.is_some(), "{file}: {:?}", rows[0]);
        assert_eq!(rows[0].modality.as_deref(), Some("xas"), "{file}");
    }
}

#[test]
fn batch_lcf_config_gives_larch_lincombo_fitall_weights() {
    let fx = common::json_fixture("xanes/larch_xanes.json");
    let case = &fx["lcf_all"][0];
    let stds_prj = common::data("athena/CuHERFD_standards.prj");
    let stds: Vec<String> = (case["standards"].as_array().expect("standards").iter())
        .map(|g| format!("\"{}:{}\"", stds_prj.display(), g.as_str().expect("name")))
        .collect();
    let dir = tempdir("lcf_config");
    let config = dir.join("batch.toml");
    std::fs::write(
        &config,
        format!(
            "xanes = true\n[lcf]\nstandards = [{}]\nemin = -20.0\nemax = 60.0\nall = 3\n",
            stds.join(", ")
        ),
    )
    .expect("config");
    let c = BatchConfig::load(&config).expect("config loads");
    let p = c.chain_params();
    let rows = rows_of_file(0, &common::data("athena/CuHERFD_samples.prj"), &c, &p);
    let sample = case["sample"].as_str().expect("sample");
    let row = (rows.iter())
        .find(|r| r.group.as_deref() == Some(sample))
        .expect("the sample's row");
    let want = case["ranked"][0]["weights"].as_object().expect("weights");
    let got = [
        (&row.lcf_1_standard, row.lcf_1_weight),
        (&row.lcf_2_standard, row.lcf_2_weight),
        (&row.lcf_3_standard, row.lcf_3_weight),
    ];
    assert_eq!(row.lcf_4_standard, None);
    for (name, w) in got {
        let name = name.as_deref().expect("a standard");
        let v = want[name]["value"].as_f64().expect("Larch weight");
        let w = w.expect("weight");
        assert!((w - v).abs() < 0.005, "{name}: {w} vs Larch {v}");
    }
    assert_eq!(row.lcf_array.as_deref(), Some("norm"));

    // A standard that is not there is a config error naming the key.
    std::fs::write(
        &config,
        "[lcf]\nstandards = [\"nope.prj:a\", \"nope.xdi\"]\n",
    )
    .expect("config");
    let e = BatchConfig::load(&config).expect_err("missing standards");
    assert!(e.to_string().contains("lcf.standards: nope.prj:a"), "{e}");
    std::fs::write(&config, format!("[lcf]\nstandards = [{}]\n", stds[0])).expect("config");
    let e = BatchConfig::load(&config).expect_err("one standard");
    assert!(e.to_string().contains("at least 2"), "{e}");
}

/// The `warnings` column: pre_edge's (an inverted edge) and the reader's
/// (a μ recipe that fell back from a dead transmission chamber), `; `-joined,
/// null when there is nothing to say; written and read back by `carto batch`.
#[test]
fn batch_rows_carry_reader_and_pre_edge_warnings() {
    let inverted =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed/inverted_mu.dat");
    let fallback = common::data("xas/beamlines/APS9BM_2006.dat");
    let clean = common::data("xas/columns/cu.xmu");
    let c = BatchConfig::default();
    let p = c.chain_params();
    let row = |f: &Path| rows_of_file(0, f, &c, &p).remove(0);
    let w = row(&inverted).warnings.expect("inverted edge warning");
    assert!(w.contains("inverted edge"), "{w}");
    let w = row(&fallback).warnings.expect("recipe warning");
    assert!(
        w.contains("μ from fluorescence") && w.contains("'i1'"),
        "{w}"
    );
    assert!(!w.contains('\n'));
    assert_eq!(row(&clean).warnings, None);

    let dir = tempdir("warnings");
    let out = dir.join("t.csv");
    let o = carto([
        "batch".as_ref(),
        inverted.as_os_str(),
        clean.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let df = read_table(&out).expect("read");
    let src = df.column("source_file").unwrap().str().unwrap().clone();
    let warn = df.column("warnings").unwrap().str().unwrap().clone();
    for i in 0..df.height() {
        let s = src.get(i).unwrap();
        if s.ends_with("inverted_mu.dat") {
            assert!(warn.get(i).is_some_and(|w| w.contains("inverted edge")));
        } else {
            assert_eq!(warn.get(i), None, "{s}");
        }
    }
}

/// An Athena project's own reader warnings (here: no closing `1;`, a cut
/// file) reach every row of the project, as a single file's do.
#[test]
fn batch_rows_of_a_project_carry_its_reader_warnings() {
    let text = std::fs::read_to_string(common::data("athena/FeS2.prj")).expect("FeS2.prj");
    let cut = text.replace("\n1;\n", "\n");
    assert_ne!(cut, text, "FeS2.prj has its closing 1;");
    let dir = tempdir("prj_warnings");
    let f = dir.join("FeS2_cut.prj");
    std::fs::write(&f, cut).expect("write");
    let c = BatchConfig::default();
    let p = c.chain_params();
    let rows = rows_of_file(0, &f, &c, &p);
    assert!(!rows.is_empty());
    for r in &rows {
        let w = r.warnings.as_deref().unwrap_or("");
        assert!(
            w.contains("no closing '1;'") && w.contains("FeS2_cut.prj"),
            "{w}"
        );
    }
    // The whole project read: the same groups and results, no warnings.
    let whole = rows_of_file(0, &common::data("athena/FeS2.prj"), &c, &p);
    assert_eq!(whole.len(), rows.len());
    for (w, r) in whole.iter().zip(&rows) {
        assert_eq!(w.warnings, None, "{:?}", w.group);
        assert_eq!((&w.group, &w.error, w.e0_ev), (&r.group, &r.error, r.e0_ev));
    }
}

/// Relative difference, 0 for two equal numbers.
fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// The Cu first-shell model of tests/fixtures/feffit (Larch's
/// doc_feffit1) written beside a batch config that names it relatively;
/// its AUTOBK rbkg is not the batch's (1 Å), so a batch that made the
/// fit's χ(k) with its own chain keys would not agree with `carto fit`.
fn cu_fit_config(name: &str) -> (PathBuf, PathBuf) {
    let dir = tempdir(name);
    std::fs::create_dir_all(dir.join("models")).expect("models dir");
    let model = dir.join("models/cu_1shell.toml");
    let text = common::feffit_model_text("cu_1shell");
    assert!(text.contains("rbkg = 1.0\n"), "the fixture changed");
    std::fs::write(&model, text.replace("rbkg = 1.0\n", "rbkg = 1.1\n")).expect("model");
    let config = dir.join("batch.toml");
    std::fs::write(&config, "[fit]\nmodel = \"models/cu_1shell.toml\"\n").expect("config");
    (model, config)
}

/// `[fit]`: the Cu foil's row holds exactly what `carto fit`'s core path
/// (`FitPlan::fit` on the model's own data) gives; an Fe foil in the same
/// batch is refused by the model's absorber and a non-spectrum fails, each
/// an error row with empty fit columns, and the batch goes on (exit 2).
#[test]
fn batch_fit_gives_carto_fit_values_and_error_rows() {
    use carto::exafs::plan::FitPlan;
    let (model, config) = cu_fit_config("batch_fit");
    let core = FitPlan::load(&model)
        .expect("model loads")
        .fit(None)
        .expect("carto fit's fit");
    assert!(core.stats.success, "{}", core.stats.message);

    let cu = common::data("xas/xdi/cu_metal_rt.xdi");
    let fe = common::data("athena/Fe.prj");
    let junk = common::data("SOURCES.md");
    let out = config.with_file_name("t.parquet");
    let o = carto([
        "batch".as_ref(),
        cu.as_os_str(),
        fe.as_os_str(),
        junk.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let df = read_table(&out).expect("table");
    let files: Vec<Option<&str>> = df
        .column("source_file")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    let errors: Vec<Option<&str>> = df.column("error").unwrap().str().unwrap().iter().collect();
    let f64s = |c: &str| -> Vec<Option<f64>> {
        let col = df.column(c).unwrap_or_else(|e| panic!("{c}: {e}"));
        col.cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect()
    };
    let cu_row = (files.iter())
        .position(|f| f.is_some_and(|f| f.ends_with("cu_metal_rt.xdi")))
        .expect("the Cu row");
    assert_eq!(errors[cu_row], None);
    for p in &core.params {
        let v = f64s(&format!("fit_{}", p.name))[cu_row].expect("value");
        assert!(
            rel(v, p.value) < 1e-9,
            "{}: batch {v} vs carto fit {}",
            p.name,
            p.value
        );
        let se = f64s(&format!("fit_{}_stderr", p.name))[cu_row].expect("stderr");
        let want = p.stderr.expect("carto fit's stderr");
        assert!(
            rel(se, want) < 1e-9,
            "{} stderr: batch {se} vs {want}",
            p.name
        );
    }
    let s = &core.stats;
    for (c, want) in [
        ("fit_chi_square", s.chi_square),
        ("fit_chi2_reduced", s.chi2_reduced),
        ("fit_r_factor", s.r_factor),
        ("fit_n_idp", s.n_idp),
        ("fit_n_varys", s.n_varys as f64),
        ("fit_nfev", s.nfev as f64),
    ] {
        let got = f64s(c)[cu_row].unwrap_or_else(|| panic!("{c} empty"));
        assert!(
            rel(got, want) < 1e-9,
            "{c}: batch {got} vs carto fit {want}"
        );
    }

    // Every Fe foil group: refused by the model's absorber, no numbers.
    let fe_rows: Vec<usize> = (0..df.height())
        .filter(|&i| files[i].is_some_and(|f| f.ends_with("Fe.prj")))
        .collect();
    assert!(!fe_rows.is_empty());
    let amp = f64s("fit_amp");
    let chi2 = f64s("fit_chi_square");
    let e0 = f64s("e0_ev");
    for &i in &fe_rows {
        let e = errors[i].unwrap_or_else(|| panic!("Fe row {i} has no error"));
        assert!(e.contains("EXAFS fit refused") && e.contains("Cu K"), "{e}");
        assert_eq!((amp[i], chi2[i], e0[i]), (None, None, None), "row {i}");
    }
    let junk_row = (files.iter())
        .position(|f| f.is_some_and(|f| f.ends_with("SOURCES.md")))
        .expect("the junk row");
    assert!(errors[junk_row].is_some());
    assert_eq!(amp[junk_row], None);
}

/// `[fit]` errors name the configuration file and the key, and so do
/// errors inside the model file.
#[test]
fn batch_fit_config_errors_name_the_file_and_key() {
    let (model, config) = cu_fit_config("batch_fit_config");
    let c = BatchConfig::load(&config).expect("a good [fit] loads");
    let cols = &c.fit.as_ref().expect("[fit]").columns;
    // A chunk of the batch without one successful fit still has the
    // model's columns, so every chunk is written with one schema.
    let empty = carto::features::table_with(&[], cols).expect("empty table");
    let names: Vec<String> = (empty.get_column_names().iter())
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names[SCHEMA.len()..],
        [
            "fit_amp",
            "fit_amp_stderr",
            "fit_del_e0",
            "fit_del_e0_stderr",
            "fit_sig2"
        ]
        .iter()
        .chain(&["fit_sig2_stderr", "fit_del_r", "fit_del_r_stderr"])
        .map(|s| s.to_string())
        .collect::<Vec<_>>()[..]
    );

    let check = |toml: &str, want: &[&str]| {
        std::fs::write(&config, toml).expect("config");
        let e = BatchConfig::load(&config).expect_err(toml).to_string();
        assert!(e.contains("batch.toml"), "{toml}: {e}");
        for w in want {
            assert!(e.contains(w), "{toml}: {e} lacks {w}");
        }
    };
    check(
        "[fit]\nmodel = \"nope.toml\"\n",
        &["fit.model", "nope.toml"],
    );
    check(
        "[fit]\nmodel = \"models/cu_1shell.toml\"\nmodle = 1\n",
        &["modle"],
    );
    check("[fit]\n", &["model"]);
    // A model parameter whose column would be a fixed one.
    let text = std::fs::read_to_string(&model).expect("model");
    std::fs::write(
        &model,
        text.replace("amp = {", "chi_square = {")
            .replace("s02 = \"amp\"", "s02 = \"chi_square\""),
    )
    .expect("model");
    check(
        "[fit]\nmodel = \"models/cu_1shell.toml\"\n",
        &["fit.model", "chi_square"],
    );
    // An error inside the model names the model file and its key.
    std::fs::write(
        &model,
        text.replace("sigma2 = \"sig2\"", "sigma2 = \"sig3\""),
    )
    .expect("model");
    check(
        "[fit]\nmodel = \"models/cu_1shell.toml\"\n",
        &["fit.model", "sig3"],
    );

    // And the command line: exit 1, the file and key on stderr.
    std::fs::write(&config, "[fit]\nmodel = \"missing.toml\"\n").expect("config");
    let f = common::data("xas/xdi/cu_metal_rt.xdi");
    let out = config.with_file_name("t.csv");
    let o = carto([
        "batch".as_ref(),
        f.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("batch.toml") && e.contains("fit.model") && e.contains("missing.toml"),
        "{e}"
    );
}

/// `[xrd] candidates`: every pattern ranked against a CIF folder fills the
/// `xrd_phase_*` columns with `carto xrd identify`'s ranking (the same ids
/// and scores); a pattern without a wavelength is an error row saying what
/// to set, and a folder without a structure is a config error naming the key.
#[test]
fn batch_xrd_candidates_give_xrd_identify_ranking() {
    let cifs = common::data("cif/amcsd");
    // RockJock's corundum (CuKα, no wavelength in the file); the shared
    // quartz CIF is at 4 GPa, 3 % off in a, beyond --max-scale.
    let pattern = common::data("xrd/rockjock/library/CORUNDUM.xy");
    let dir = tempdir("xrd_candidates");
    let config = dir.join("batch.toml");
    let write = |extra: &str| {
        std::fs::write(
            &config,
            format!("[xrd]\ncandidates = \"{}\"\n{extra}", cifs.display()),
        )
        .expect("config")
    };
    write("wavelength = \"CuKa\"\n");
    let c = BatchConfig::load(&config).expect("config loads");
    let p = c.chain_params();
    let rows = rows_of_file(0, &pattern, &c, &p);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.error, None);
    assert!(row.xrd_n_peaks.is_some_and(|n| n >= 8), "{row:?}");

    let o = carto([
        "xrd".as_ref(),
        "identify".as_ref(),
        pattern.as_os_str(),
        "--candidates".as_ref(),
        cifs.as_os_str(),
        "--wavelength".as_ref(),
        "CuKa".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let ranking = v["ranking"].as_array().expect("ranking");
    let got = [
        (&row.xrd_phase_1_id, row.xrd_phase_1_score),
        (&row.xrd_phase_2_id, row.xrd_phase_2_score),
        (&row.xrd_phase_3_id, row.xrd_phase_3_score),
    ];
    for (i, (id, score)) in got.into_iter().enumerate() {
        let want = &ranking[i];
        assert_eq!(id.as_deref(), want["id"].as_str(), "rank {}", i + 1);
        let s = score.expect("score");
        let ws = want["score"].as_f64().expect("score");
        assert!((s - ws).abs() < 1e-9, "rank {}: {s} vs {ws}", i + 1);
    }
    let first = row.xrd_phase_1_id.as_deref().unwrap_or("");
    assert!(first.starts_with("corundum"), "{first}");

    // No wavelength from the file or the config: an error row that says so.
    write("");
    let c = BatchConfig::load(&config).expect("config loads");
    let rows = rows_of_file(0, &pattern, &c, &p);
    let e = rows[0].error.as_deref().unwrap_or("");
    assert!(e.contains("xrd.wavelength"), "{e}");
    assert_eq!(rows[0].xrd_phase_1_id, None);

    // A folder with no CIF, and an absurd max_scale, are config errors.
    std::fs::write(
        &config,
        format!("[xrd]\ncandidates = \"{}\"\n", dir.display()),
    )
    .expect("config");
    let e = BatchConfig::load(&config).expect_err("no CIF").to_string();
    assert!(
        e.contains("xrd.candidates") && e.contains("batch.toml"),
        "{e}"
    );
    write("max_scale = 0.5\n");
    let e = BatchConfig::load(&config)
        .expect_err("max_scale")
        .to_string();
    assert!(e.contains("xrd.max_scale"), "{e}");
}
