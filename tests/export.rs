//! CSV export reads back with carto::io::load and gives the same numbers.

mod common;

use std::process::Command;

use carto::io::{Dataset, LoadOptions};

fn table_of(path: &std::path::Path) -> carto::io::ColumnTable {
    // The wide files (one column per spectrum) hold no μ to build.
    if path
        .file_name()
        .is_some_and(|f| f.to_string_lossy().starts_with("both_"))
    {
        return plain_csv(path);
    }
    match carto::io::load(path, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        Dataset::Xas(s) => s.table,
        Dataset::Chi(c) => c.table,
        other => panic!("{}: read as {}", path.display(), other.modality()),
    }
}

/// `#` header lines (the last names the columns), then comma-separated numbers.
fn plain_csv(path: &std::path::Path) -> carto::io::ColumnTable {
    let text = std::fs::read_to_string(path).expect("read");
    let mut t = carto::io::ColumnTable::default();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("# ") {
            t.labels = h.split(", ").map(String::from).collect();
            continue;
        }
        let row: Vec<f64> = line
            .split(", ")
            .map(|v| v.parse().expect("number"))
            .collect();
        t.columns.resize(row.len(), Vec::new());
        for (c, v) in t.columns.iter_mut().zip(row) {
            c.push(v);
        }
    }
    t
}

fn col<'a>(t: &'a carto::io::ColumnTable, label: &str) -> &'a [f64] {
    let i = t
        .labels
        .iter()
        .position(|l| l == label)
        .unwrap_or_else(|| panic!("no column {label} in {:?}", t.labels));
    &t.columns[i]
}

/// Equal to the last bit or, because serde_json's default float parsing
/// (the reference side) is not correctly rounded, within 2 ulp.
fn same(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let tol = 4.5e-16 * x.abs().max(y.abs());
        assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn cli_csv_export_reads_back_with_the_same_numbers() {
    let dir = std::env::temp_dir().join(format!("carto-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let data = common::data("xas/xdi/cu_metal_rt.xdi");
    let base = dir.join("cu.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_carto"))
        .arg("xas")
        .arg(&data)
        .arg("--json")
        .arg("--csv")
        .arg(&base)
        .output()
        .expect("run carto");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let arr = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .expect(k)
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    };

    let mu = table_of(&dir.join("cu_mu.csv"));
    assert_eq!(
        mu.labels,
        [
            "energy_eV",
            "mu",
            "norm",
            "flat",
            "pre_edge",
            "post_edge",
            "bkg"
        ]
    );
    for (label, key) in [
        ("energy_eV", "energy"),
        ("mu", "mu"),
        ("norm", "norm"),
        ("flat", "flat"),
        ("bkg", "bkg"),
    ] {
        same(col(&mu, label), &arr(key), label);
    }
    let chi = table_of(&dir.join("cu_chi.csv"));
    same(col(&chi, "k_inv_ang"), &arr("k"), "k_inv_ang");
    same(col(&chi, "chi"), &arr("chi"), "chi");
    let chir = table_of(&dir.join("cu_chir.csv"));
    same(col(&chir, "r_ang"), &arr("r"), "r_ang");
    same(col(&chir, "chir_mag"), &arr("chir_mag"), "chir_mag");
    same(col(&chir, "chir_re"), &arr("chir_re"), "chir_re");
    same(col(&chir, "chir_im"), &arr("chir_im"), "chir_im");
}

/// File ▸ Export CSV: one set of files per selected spectrum, and the
/// numbers read back bit for bit equal to the app's results.
#[cfg(feature = "gui")]
#[test]
fn app_export_writes_each_selected_spectrum_exactly() {
    let dir = std::env::temp_dir().join(format!("carto-export-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut app = carto::gui::CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/xdi/feo_rt1.xdi"),
    ]);
    for item in &mut app.store.items {
        if let Some(s) = item.spectrum_mut() {
            s.recompute();
        }
    }
    app.export_csv(&dir.join("run.csv"));
    assert!(app.log.errors().next().is_none(), "{:?}", app.log.lines);
    for (name, file) in [
        ("cu_metal_rt.xdi", "run_cu_metal_rt.xdi"),
        ("feo_rt1.xdi", "run_feo_rt1.xdi"),
    ] {
        let id = app.store.find(name).expect("item");
        let r = app
            .store
            .item(id)
            .and_then(|i| i.spectrum())
            .and_then(|s| s.result.as_ref())
            .expect("processed");
        let pre = r.pre.as_ref().expect("pre_edge");
        let mu = table_of(&dir.join(format!("{file}_mu.csv")));
        assert_eq!(col(&mu, "norm"), pre.norm.as_slice());
        assert_eq!(col(&mu, "flat"), pre.flat.as_slice());
        let chi = table_of(&dir.join(format!("{file}_chi.csv")));
        assert_eq!(col(&chi, "chi"), r.chi.as_slice());
        let chir = table_of(&dir.join(format!("{file}_chir.csv")));
        assert_eq!(col(&chir, "chir_mag"), r.chir.chir_mag.as_slice());
        // χ(q) with the plots' R window, as the χ(q) tab shows it.
        let q = carto::gui::plots::chi_q(r, &app.plots.options.xftr).expect("chi(q)");
        let chiq = plain_csv(&dir.join(format!("{file}_chiq.csv")));
        assert_eq!(col(&chiq, "chiq_re"), q.chiq_re.as_slice());
    }
}

/// File ▸ Export CSV, one column per spectrum: the first spectrum's grid
/// within the range all cover; its own column is its values exactly, the
/// other's is its curve interpolated there.
#[cfg(feature = "gui")]
#[test]
fn app_wide_export_puts_spectra_side_by_side() {
    let dir = std::env::temp_dir().join(format!("carto-export-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut app = carto::gui::CartoApp::new();
    app.open_paths(&[
        common::data("xas/xdi/cu_metal_rt.xdi"),
        common::data("xas/columns/cu_rt01.xmu"),
    ]);
    for item in &mut app.store.items {
        if let Some(s) = item.spectrum_mut() {
            s.recompute();
        }
    }
    let files = app.export_wide_csv(&dir.join("both.csv"));
    assert_eq!(files.len(), 3, "{:?}", app.log.lines);
    let result = |name: &str| {
        let id = app.store.find(name).expect("item");
        app.store
            .item(id)
            .and_then(|i| i.spectrum())
            .and_then(|s| s.result.clone())
            .expect("processed")
    };
    let (a, b) = (result("cu_metal_rt.xdi"), result("cu_rt01.xmu"));
    let (pa, pb) = (a.pre.as_ref().expect("pre"), b.pre.as_ref().expect("pre"));

    let norm = table_of(&dir.join("both_norm.csv"));
    assert_eq!(norm.labels, ["energy_eV", "cu_metal_rt.xdi", "cu_rt01.xmu"]);
    let e = col(&norm, "energy_eV");
    let lo = pa.energy_ev[0].max(pb.energy_ev[0]);
    let hi = pa
        .energy_ev
        .last()
        .expect("e")
        .min(*pb.energy_ev.last().expect("e"));
    let expect_e: Vec<f64> = pa
        .energy_ev
        .iter()
        .copied()
        .filter(|x| *x >= lo && *x <= hi)
        .collect();
    assert_eq!(e, expect_e.as_slice());
    let first = pa
        .energy_ev
        .iter()
        .position(|x| *x == e[0])
        .expect("on the grid");
    assert_eq!(
        col(&norm, "cu_metal_rt.xdi"),
        &pa.norm[first..first + e.len()]
    );
    // The other spectrum, interpolated: check one point by hand.
    let i = e.len() / 2;
    let j = pb.energy_ev.iter().position(|x| *x > e[i]).expect("inside");
    let t = (e[i] - pb.energy_ev[j - 1]) / (pb.energy_ev[j] - pb.energy_ev[j - 1]);
    let want = pb.norm[j - 1] + t * (pb.norm[j] - pb.norm[j - 1]);
    assert!((col(&norm, "cu_rt01.xmu")[i] - want).abs() < 1e-12);

    // χ(k) and |χ(R)| share AUTOBK's and the FT's grids: values exactly.
    let chi = table_of(&dir.join("both_chi.csv"));
    let n = col(&chi, "k_inv_ang").len();
    assert!(n > 100);
    assert_eq!(col(&chi, "cu_rt01.xmu"), &b.chi[..n]);
    let chir = table_of(&dir.join("both_chir.csv"));
    assert_eq!(col(&chir, "cu_metal_rt.xdi"), a.chir.chir_mag.as_slice());
    assert_eq!(col(&chir, "cu_rt01.xmu"), b.chir.chir_mag.as_slice());
}
