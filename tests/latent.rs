//! The latent space's first layer on real data: common grids, stage-0
//! retrieval (cosine on the grid, no training) beside `xrd identify`, and
//! PCA / NMF against scikit-learn (fixtures from tools/make_latent_fixtures.py).

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use carto::latent::grid::{self, rank_by_cosine, xrd_candidate, xrd_measured};
use carto::latent::{Nmf, NmfOptions, Pca, Profile};
use carto::xrd::identify::{Candidate, load_candidates, prepare, rank};
use ndarray::Array2;

/// Every CIF under ../shared/data/cif (AMCSD named minerals, the 600-CIF
/// AMCSD library, other writers), read once.
fn library() -> &'static (Vec<Candidate>, Vec<Profile>) {
    static LIB: OnceLock<(Vec<Candidate>, Vec<Profile>)> = OnceLock::new();
    LIB.get_or_init(|| {
        let (c, _unreadable) = load_candidates(&common::data("cif")).expect("library");
        assert!(c.len() >= 600, "{} candidates", c.len());
        let p = c.iter().map(xrd_candidate).collect();
        (c, p)
    })
}

/// The rank (1-based) of the first AMCSD structure of mineral `name` in
/// `ids` (the named one, `quartz_amcsd11008`, or one of the library's,
/// `Quartz_amcsd15462`).
fn rank_of(ids: &[&str], name: &str) -> Option<usize> {
    let want = format!("{}_amcsd", name.to_ascii_lowercase());
    ids.iter()
        .position(|id| id.to_ascii_lowercase().starts_with(&want))
        .map(|i| i + 1)
}

/// RockJock reference patterns whose mineral has a named AMCSD structure
/// here (HEMATITE_FINE is fine-grained hematite).
const ROCKJOCK: [(&str, &str); 17] = [
    ("ANATASE", "anatase"),
    ("CALCITE", "calcite"),
    ("CORUNDUM", "corundum"),
    ("GOETHITE", "goethite"),
    ("HALITE", "halite"),
    ("HEMATITE", "hematite"),
    ("HEMATITE_FINE", "hematite"),
    ("IRON", "iron"),
    ("LEPIDOCROCITE", "lepidocrocite"),
    ("MAGHEMITE", "maghemite"),
    ("MAGNETITE", "magnetite"),
    ("PYRITE", "pyrite"),
    ("QUARTZ", "quartz"),
    ("SIDERITE", "siderite"),
    ("SILVER", "silver"),
    ("SPHALERITE", "sphalerite"),
    ("ZINCITE", "zincite"),
];

#[test]
fn quartz_xy_on_the_q_grid_and_stage0_ranks_quartz_first() {
    let pat = carto::io::xrd::read_pattern(&common::data("xrd/quartz.xy")).expect("quartz.xy");
    let p = xrd_measured(&pat.two_theta_deg, &pat.intensity, 1.54184).expect("on the grid");
    // Unit norm, and the 101 line (d = 3.343 Å) at Q = 2π/d = 1.879 Å⁻¹.
    let n2: f64 = p.values.iter().map(|v| v * v).sum();
    assert!((n2 - 1.0).abs() < 1e-9);
    let imax = (0..p.grid.n)
        .max_by(|&a, &b| p.values[a].total_cmp(&p.values[b]))
        .expect("points");
    assert!(
        (p.grid.x(imax) - 1.879).abs() < 0.01,
        "Q = {}",
        p.grid.x(imax)
    );
    // Outside the scan (4–70° 2θ ≈ Q 0.28–4.86 Å⁻¹ … the grid ends at 4.5) nothing is masked.
    assert!(p.coverage() > 0.99, "{}", p.coverage());
    let (cands, profiles) = library();
    let ranked = rank_by_cosine(&p, profiles);
    let ids: Vec<&str> = ranked.iter().map(|&(i, _)| cands[i].id.as_str()).collect();
    assert_eq!(rank_of(&ids, "quartz"), Some(1), "{:?}", &ids[..5]);
    // Without a wavelength there is no Q: refused, not guessed.
    assert!(xrd_measured(&pat.two_theta_deg, &pat.intensity, f64::NAN).is_err());
}

#[test]
fn stage0_retrieval_of_rockjock_minerals_beside_xrd_identify() {
    let (cands, profiles) = library();
    let (mut s0_top1, mut s0_top5, mut id_top1, mut id_top5) = (0, 0, 0, 0);
    let mut lines = Vec::new();
    for (file, mineral) in ROCKJOCK {
        let path = common::data(&format!("xrd/rockjock/library/{file}.xy"));
        let pat = carto::io::xrd::read_pattern(&path).expect(file);
        let wl = pat.wavelength_ang.unwrap_or(1.54184);
        let p = xrd_measured(&pat.two_theta_deg, &pat.intensity, wl).expect(file);
        let ranked = rank_by_cosine(&p, profiles);
        let ids: Vec<&str> = ranked.iter().map(|&(i, _)| cands[i].id.as_str()).collect();
        let r0 = rank_of(&ids, mineral);
        let prepared = prepare(&pat.two_theta_deg, &pat.intensity, wl).expect(file);
        let by_identify = rank(&prepared, cands, 0.02);
        let ids: Vec<&str> = by_identify.iter().map(|r| r.id.as_str()).collect();
        let ri = rank_of(&ids, mineral);
        s0_top1 += usize::from(r0 == Some(1));
        s0_top5 += usize::from(r0.is_some_and(|r| r <= 5));
        id_top1 += usize::from(ri == Some(1));
        id_top5 += usize::from(ri.is_some_and(|r| r <= 5));
        lines.push(format!("{file}: stage 0 rank {r0:?}, identify rank {ri:?}"));
    }
    let report = lines.join("\n");
    println!(
        "{report}\nstage 0: top-1 {s0_top1}/17, top-5 {s0_top5}/17; xrd identify: top-1 {id_top1}/17, top-5 {id_top5}/17"
    );
    // Measured when written: stage 0 top-1 13/17, top-5 14/17; identify
    // (lattice scale ± 2 %) top-1 12/17, top-5 16/17. Halite is missed by
    // both (rank ~550). A change of the grid, the broadening or the scaling
    // that loses a mineral fails here.
    assert!(s0_top1 >= 13 && s0_top5 >= 14, "{report}");
    assert!(id_top1 >= 12 && id_top5 >= 16, "{report}");
}

/// Normalized μ of the Fe XANES series on the XANES grid (rows), as the
/// PCA/NMF fixtures were made from it.
fn xanes_series() -> Array2<f64> {
    let files = common::data_files("xas/series");
    let mut rows = Vec::new();
    for f in &files {
        let s = match carto::io::load(f, &Default::default()) {
            Ok(carto::io::Dataset::Xas(s)) => s,
            other => panic!("{f:?}: {other:?}"),
        };
        let pre = carto::xas::pre_edge::pre_edge(&s.energy_ev, &s.mu, &Default::default())
            .expect("pre_edge");
        let p = grid::xanes(&pre.energy_ev, &pre.norm, pre.e0).expect("on the grid");
        assert!(p.mask.iter().all(|m| *m), "{f:?} covers the grid");
        rows.push(p.values.to_vec());
    }
    let n = rows.len();
    let f = rows[0].len();
    // tools/make_latent_fixtures.py reads this matrix (the fixture keeps it,
    // and the tests check it is still what Carto computes).
    if let Some(out) = std::env::var_os("CARTO_WRITE_LATENT_INPUT") {
        let text: Vec<String> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| format!("{v:e}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        std::fs::write(out, text.join("\n")).expect("write the input");
    }
    Array2::from_shape_fn((n, f), |(i, j)| rows[i][j])
}

#[test]
fn pca_of_the_fe_xanes_series_equals_scikit_learn() {
    let x = xanes_series();
    let fx = common::json_fixture("latent/fe_series_sklearn.json");
    let input = common::numbers(&fx["x"]);
    let got: Vec<f64> = x.iter().copied().collect();
    assert_eq!(got.len(), input.len());
    for (a, b) in got.iter().zip(&input) {
        assert!((a - b).abs() < 1e-9, "the fixture's input: {a} vs {b}");
    }
    let pca = Pca::fit(x.view(), 3).expect("pca");
    let want = common::numbers(&fx["pca_explained_variance_ratio"]);
    for (a, b) in pca.explained_variance_ratio.iter().zip(&want) {
        assert!((a - b).abs() < 1e-9 * b.max(1e-3), "ratio {a} vs {b}");
    }
    let comps = &fx["pca_components"];
    for (j, c) in pca.components.iter().enumerate() {
        let w = common::numbers(&comps[j]);
        let d = c
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(d < 1e-7, "component {j} differs by {d}");
    }
    let z = pca.transform(x.view()).expect("transform");
    let wz = common::numbers(&fx["pca_scores"]);
    for (a, b) in z.iter().zip(&wz) {
        assert!((a - b).abs() < 1e-7, "score {a} vs {b}");
    }
    // Masked projection: the same scores from 70 % of the points, for a
    // spectrum the model reconstructs (its rank-3 approximation).
    let back = pca.inverse_transform(z.view());
    let mut mask = vec![true; x.ncols()];
    mask[..48].iter_mut().for_each(|m| *m = false);
    let zm = pca.transform_masked(back.row(2), &mask).expect("masked");
    for (a, b) in zm.iter().zip(z.row(2)) {
        assert!((a - b).abs() < 1e-8, "{a} vs {b}");
    }
}

/// `carto ARGS…` that must succeed, its stdout read as JSON.
fn carto_json(args: &[&str]) -> serde_json::Value {
    let out = common::carto(args);
    assert!(
        out.status.success(),
        "carto {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Largest |a − b| over two equal-length lists.
fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn pls_of_the_fe_xanes_series_equals_scikit_learn() {
    use carto::latent::Pls;
    let x = xanes_series();
    let fx = common::json_fixture("latent/fe_series_pls_sklearn.json");
    // The five scans against their order in the series, and eleven linear
    // mixtures of the first and last scan against the mixing fraction.
    let f: Vec<f64> = (0..=10).map(|i| f64::from(i) / 10.0).collect();
    let mix = ndarray::Array2::from_shape_fn((11, x.ncols()), |(i, j)| {
        f[i] * x[[0, j]] + (1.0 - f[i]) * x[[4, j]]
    });
    for (name, xm) in [("series", x.clone()), ("mixtures", mix)] {
        let c = &fx[name];
        let y = ndarray::Array1::from(common::numbers(&c["y"]));
        let k = c["n_components"].as_u64().expect("k") as usize;
        let m = Pls::fit(xm.view(), y.view(), k).expect("pls");
        assert_eq!(m.x_weights.len(), k, "{name}");
        for (field, got) in [
            ("x_weights", &m.x_weights),
            ("x_loadings", &m.x_loadings),
            ("x_rotations", &m.x_rotations),
        ] {
            for (a, row) in got.iter().enumerate() {
                let want = common::numbers(&c[field][a]);
                let top = want.iter().fold(0.0f64, |t, v| t.max(v.abs()));
                let d = max_diff(row, &want);
                assert!(d < 1e-8 * top, "{name} {field}[{a}]: {d} (max {top})");
            }
        }
        let d = max_diff(&m.y_loadings, &common::numbers(&c["y_loadings"]));
        assert!(d < 1e-8, "{name} y_loadings: {d}");
        let want = common::numbers(&c["coef"]);
        let top = want.iter().fold(0.0f64, |t, v| t.max(v.abs()));
        let d = max_diff(&m.coef, &want);
        assert!(d < 1e-7 * top, "{name} coef: {d} (max {top})");
        let scores: Vec<f64> = m
            .transform(xm.view())
            .expect("scores")
            .iter()
            .copied()
            .collect();
        assert!(
            max_diff(&scores, &common::numbers(&c["scores"])) < 1e-7,
            "{name} scores"
        );
        let pred = m.predict(xm.view()).expect("predict").to_vec();
        assert!(
            max_diff(&pred, &common::numbers(&c["predict"])) < 1e-7,
            "{name} predict"
        );
        let r2: f64 = m.y_explained.iter().sum();
        assert!((0.0..=1.0 + 1e-12).contains(&r2), "{name} R² {r2}");
        if name == "mixtures" {
            // One direction carries the mixing fraction: predicted exactly.
            assert!(max_diff(&pred, &f) < 1e-9, "{pred:?}");
            assert!((r2 - 1.0).abs() < 1e-12, "R² {r2}");
        }
    }
}

/// PLS as a learned projection (the Projection view's, a model file
/// `carto project --model` applies): on the Fe series against scan order
/// its scores and the predictions from them are scikit-learn's; the file
/// reads back and `carto project --model` prints the prediction; a spoilt
/// file names the field.
#[test]
fn pls_projection_of_the_fe_series_equals_scikit_learn() {
    use carto::latent::project::{Fitted, ProjectionModel, fit_pls_projection};
    let files = common::data_files("xas/series");
    let profiles: Vec<Profile> = files
        .iter()
        .map(|f| {
            let s = match carto::io::load(f, &Default::default()) {
                Ok(carto::io::Dataset::Xas(s)) => s,
                other => panic!("{f:?}: {other:?}"),
            };
            let pre = carto::xas::pre_edge::pre_edge(&s.energy_ev, &s.mu, &Default::default())
                .expect("pre_edge");
            grid::xanes(&pre.energy_ev, &pre.norm, pre.e0).expect("on the grid")
        })
        .collect();
    let items: Vec<(String, f64, &Profile)> = profiles
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("scan {i}"), i as f64, p))
        .collect();
    let m = fit_pls_projection(&items, "Fe K", "file_index", 2).expect("pls");
    assert_eq!(m.target, "file_index");
    assert!(matches!(m.model, Fitted::Pls(_)));
    let fx = common::json_fixture("latent/fe_series_pls_sklearn.json");
    let want_scores = common::numbers(&fx["series"]["scores"]);
    let want_pred = common::numbers(&fx["series"]["predict"]);
    for (i, p) in profiles.iter().enumerate() {
        let c = m.transform(p).expect("coords");
        assert_eq!(c.len(), 2);
        for (a, v) in c.iter().enumerate() {
            let w = want_scores[i * 2 + a];
            assert!((v - w).abs() < 1e-6, "scan {i} score {a}: {v} vs {w}");
        }
        let y = m.predicted(&c).expect("a PLS model predicts");
        assert!(
            (y - want_pred[i]).abs() < 1e-6,
            "scan {i}: {y} vs {}",
            want_pred[i]
        );
    }
    let e = &m.explained;
    assert!((e.fraction - e.per_component.iter().sum::<f64>()).abs() < 1e-12);
    assert!(e.rmsecv.is_some_and(f64::is_finite) && e.q2.is_some_and(f64::is_finite));
    // A profile that misses one of the model's points is refused (PLS
    // has no masked transform).
    let mut short = profiles[0].clone();
    let j = m.points[3];
    short.mask[j] = false;
    let err = m.transform(&short).expect_err("uncovered");
    assert!(err.contains("PLS needs all"), "{err}");
    // The file, and carto project --model with it.
    let dir = std::env::temp_dir().join(format!("carto-pls-proj-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("pls.json");
    m.save(&file).expect("save");
    let (back, modality) = ProjectionModel::load(&file).expect("load");
    assert_eq!(back, m);
    assert_eq!(modality, grid::Modality::Xanes);
    let series = common::data("xas/series").display().to_string();
    let model_file = file.display().to_string();
    let v = carto_json(&["project", &series, "--model", &model_file, "--json"]);
    assert_eq!(v["method"], "pls");
    let pts = v["points"].as_array().expect("points");
    assert_eq!(pts.len(), 5);
    for (p, w) in pts.iter().zip(&want_pred) {
        let y = p["predicted"].as_f64().expect("predicted");
        assert!((y - w).abs() < 1e-6, "{}: {y} vs {w}", p["id"]);
    }
    // Training PLS there is carto pls's job: said so.
    let out = common::carto(["project", &series, "--method", "pls"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("carto pls"));
    // A PLS model without its target, or with a short array, is refused.
    let text = std::fs::read_to_string(&file).expect("model");
    std::fs::write(&file, text.replacen("\"target\": \"file_index\",", "", 1)).expect("write");
    let err = ProjectionModel::load(&file).expect_err("no target");
    assert!(err.contains("pls.json") && err.contains("target"), "{err}");
    let mut bad = m.clone();
    if let Fitted::Pls(p) = &mut bad.model {
        p.y_loadings.pop();
    }
    assert!(bad.check().is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `carto pls` end to end: the Fe series read from its files, joined by
/// `source_file` to a table's target column, gives scikit-learn's
/// predictions; bad targets are errors naming the table and column.
#[test]
fn pls_cli_on_the_fe_series_matches_scikit_learn() {
    let dir = std::env::temp_dir().join(format!("carto-pls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let files = common::data_files("xas/series");
    let mut csv = String::from("source_file,group,scan_index\n");
    for (i, f) in files.iter().enumerate() {
        csv += &format!("{},,{i}\n", f.display());
    }
    let table = dir.join("series.csv");
    std::fs::write(&table, csv).expect("table");
    let series = common::data("xas/series").display().to_string();
    let target = format!("{}:scan_index", table.display());
    let v = carto_json(&[
        "pls",
        &series,
        "--target",
        &target,
        "--modality",
        "xanes",
        "--json",
    ]);
    assert_eq!(v["modality"], "xanes");
    let fx = common::json_fixture("latent/fe_series_pls_sklearn.json");
    let want = common::numbers(&fx["series"]["predict"]);
    let samples = v["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 5);
    for (s, w) in samples.iter().zip(&want) {
        let p = s["predicted"].as_f64().expect("predicted");
        assert!((p - w).abs() < 1e-6, "{}: {p} vs scikit-learn {w}", s["id"]);
        assert!(s["predicted_cv"].as_f64().is_some_and(f64::is_finite));
    }
    let r2 = v["r2"].as_f64().expect("r2");
    assert!((0.5..=1.0).contains(&r2), "R² {r2}");
    // No such column: the error names the table and lists its columns.
    let bad = format!("{}:temperature", table.display());
    let out = common::carto(["pls", &series, "--target", &bad]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("series.csv") && err.contains("no column `temperature`"),
        "{err}"
    );
    // No TABLE:COLUMN at all.
    let out = common::carto(["pls", &series, "--target", "series.csv"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("TABLE:COLUMN"));
    // Fit once, predict many: a saved model predicts a scan as in training,
    // and refuses a spectrum of another edge.
    let model = dir.join("model.json");
    let model_s = model.display().to_string();
    let out = common::carto([
        "pls",
        &series,
        "--target",
        &target,
        "--modality",
        "xanes",
        "--save",
        &model_s,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scan_c = files[2].display().to_string();
    let cu = common::data("xas/xdi/cu_metal_rt.xdi")
        .display()
        .to_string();
    let out = common::carto(["pls", &scan_c, &cu, "--model", &model_s, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let preds = p["predictions"].as_array().expect("predictions");
    assert_eq!(preds.len(), 1, "{p}");
    let got = preds[0]["predicted"].as_f64().expect("predicted");
    assert!((got - want[2]).abs() < 1e-6, "{got} vs {}", want[2]);
    let skipped = p["skipped"].to_string();
    assert!(
        skipped.contains("a Cu K spectrum, the model was trained on Fe K"),
        "{skipped}"
    );
    // A file that is not a model, or of another version, names itself.
    std::fs::write(dir.join("bad.json"), "{\"carto_pls_model\": 7}").expect("bad");
    let bad = dir.join("bad.json").display().to_string();
    let out = common::carto(["pls", &scan_c, "--model", &bad]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nmf_of_the_fe_xanes_series_equals_scikit_learn() {
    let x = xanes_series().mapv(|v| v.max(0.0));
    let fx = common::json_fixture("latent/fe_series_sklearn.json");
    let o = NmfOptions {
        n_components: 2,
        max_iter: 200,
        tol: 0.0,
    };
    let fit = Nmf::fit(x.view(), &o).expect("nmf");
    let want_err = fx["nmf_reconstruction_err"].as_f64().expect("err");
    assert!(
        (fit.model.reconstruction_err - want_err).abs() < 1e-6 * want_err,
        "{} vs {want_err}",
        fit.model.reconstruction_err
    );
    let h = &fx["nmf_components"];
    for (j, c) in fit.model.components.iter().enumerate() {
        let w = common::numbers(&h[j]);
        let d = c
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let top = w.iter().copied().fold(0.0, f64::max);
        assert!(d < 1e-5 * top, "component {j} differs by {d} (max {top})");
    }
    let ww = common::numbers(&fx["nmf_w"]);
    for (a, b) in fit.w.iter().zip(&ww) {
        assert!((a - b).abs() < 1e-5 * b.abs().max(1e-2), "W {a} vs {b}");
    }
    // NMF refuses negative spectra, naming why.
    let mut neg = x.clone();
    neg[[1, 7]] = -0.01;
    let e = Nmf::fit(neg.view(), &o).expect_err("a negative value");
    assert!(e.to_string().contains("non-negative"), "{e}");
}

/// The map (stage 0) through the CLI: real XAS spectra and a lab pattern
/// against the 35 named AMCSD structures. Each spectrum's absorber comes
/// from its e0; only structures holding it are ranked, by the cosine of
/// k²χ(k) with the closed-form χ(k) (pair tables from refeff, cached).
/// On all 644 library CIFs the same spectra give top-1 7/13 and top-3
/// 11/13 (note of session 8); here the named set keeps CI short.
#[test]
fn map_cli_places_xas_and_xrd_with_their_structures() {
    let files = [
        "xas/columns/cu.xmu",
        "xas/columns/feo_xafs.dat",
        "xas/columns/znse_zn_xafs.001",
        "xas/columns/sno2_l3.dat",
        "xas/columns/scorodite_as_xafs.001",
        "xas/columns/fe.060",
        // Not quartz.xy: the named quartz is at 4 GPa (a = 4.775 Å against
        // 4.913 Å), so its lines miss the ambient pattern's.
        "xrd/rockjock/library/HEMATITE.xy",
        "xrd/rockjock/library/CORUNDUM.xy",
    ];
    let mut args: Vec<String> = vec!["map".into()];
    args.extend(files.iter().map(|f| common::data(f).display().to_string()));
    args.extend(
        [
            "--candidates",
            &common::data("cif/amcsd").display().to_string(),
            "--wavelength",
            "CuKa",
            "--top",
            "40",
            "--clusters",
            "2",
            "--json",
            "--out",
        ]
        .map(String::from),
    );
    let dir = std::env::temp_dir().join(format!("carto-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let table = dir.join("map.parquet");
    args.push(table.display().to_string());
    let features = dir.join("features.csv");
    let svg = dir.join("map.svg");
    args.extend([
        "--features".into(),
        features.display().to_string(),
        "--svg".into(),
        svg.display().to_string(),
    ]);
    let out = common::carto(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let points = v["points"].as_array().expect("points");
    assert_eq!(v["candidates"], 35);
    assert_eq!(points.len(), 35 + files.len());
    let measured = |name: &str| {
        points
            .iter()
            .find(|p| {
                p["kind"] == "measured" && p["id"].as_str().is_some_and(|s| s.ends_with(name))
            })
            .unwrap_or_else(|| panic!("{name} not on the map"))
    };
    let rank = |name: &str, cif: &str| -> usize {
        let p = measured(name);
        p["nearest"]
            .as_array()
            .expect("nearest")
            .iter()
            .position(|n| n["cif"].as_str().is_some_and(|c| c.starts_with(cif)))
            .map_or(usize::MAX, |i| i + 1)
    };
    // (spectrum, absorber guessed from e0, its structure, rank at most)
    for (name, el, modality, cif, at_most) in [
        ("cu.xmu", "Cu", "exafs", "copper", 1),
        ("znse_zn_xafs.001", "Zn", "exafs", "stilleite", 1),
        ("scorodite_as_xafs.001", "As", "exafs", "scorodite", 1),
        ("feo_xafs.dat", "Fe", "exafs", "wustite", 3),
        ("sno2_l3.dat", "Sn", "exafs", "", 1),
        // The named iron is fcc γ-Fe at 1661 K (a = 3.679 Å), not the bcc
        // foil fe.060 was measured on: no rank asserted.
        ("fe.060", "Fe", "exafs", "", 1),
    ] {
        let p = measured(name);
        assert_eq!(p["absorber"], el, "{name}");
        assert_eq!(p["modality"], modality, "{name}");
        if !cif.is_empty() {
            let r = rank(name, cif);
            assert!(r <= at_most, "{name}: {cif} ranks {r}");
        }
        // Only structures holding the absorber are ranked.
        for n in p["nearest"].as_array().into_iter().flatten() {
            let c = n["cif"].as_str().expect("cif");
            let holds = points
                .iter()
                .any(|q| q["id"] == c && q["kind"] == "candidate");
            assert!(holds, "{c}");
        }
    }
    // Fe spectra rank only the 11 Fe structures of the set: fayalite,
    // goethite, hematite, iron, lepidocrocite, maghemite, magnetite, pyrite,
    // scorodite, siderite, wüstite.
    assert_eq!(
        measured("fe.060")["nearest"].as_array().map(Vec::len),
        Some(11)
    );
    // Sn: no tin structure among the named ones, so nothing is ranked and
    // the spectrum is still placed.
    assert_eq!(
        measured("sno2_l3.dat")["nearest"].as_array().map(Vec::len),
        None
    );
    // The RockJock patterns find their structures among all 35.
    assert_eq!(rank("HEMATITE.xy", "hematite"), 1);
    assert_eq!(rank("CORUNDUM.xy", "corundum"), 1);
    assert_eq!(measured("HEMATITE.xy")["modality"], "xrd");
    // Copper explains the Cu spectrum.
    let cu = points
        .iter()
        .find(|p| p["id"] == "copper_amcsd13088")
        .expect("copper");
    assert!(cu["explains"].as_array().is_some_and(|e| {
        e.iter()
            .any(|m| m["id"].as_str().is_some_and(|s| s.ends_with("cu.xmu")))
    }));
    for p in points {
        assert!(p["x"].as_f64().is_some_and(f64::is_finite));
        assert!(p["y"].as_f64().is_some_and(f64::is_finite));
    }
    // Two clusters of the measurements; candidates have none.
    let clusters: BTreeSet<u64> = (points.iter())
        .filter(|p| p["kind"] == "measured")
        .map(|p| p["cluster"].as_u64().expect("cluster"))
        .collect();
    assert_eq!(clusters.len(), 2);
    assert!(
        points
            .iter()
            .filter(|p| p["kind"] == "candidate")
            .all(|p| p["cluster"].is_null())
    );
    // The table: one row per point, the JSON's coordinates and nearest.
    let df = carto::features::read_table(&table).expect("map table");
    assert_eq!(df.height(), points.len());
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names[..6], carto::features::MAP_COLUMNS.map(String::from));
    assert!(names.contains(&"nearest_3_score".to_string()));
    let i = points
        .iter()
        .position(|p| p["id"].as_str().is_some_and(|s| s.ends_with("cu.xmu")))
        .expect("cu");
    let x = df
        .column("map_x")
        .expect("map_x")
        .f64()
        .expect("f64")
        .get(i);
    assert_eq!(x, points[i]["x"].as_f64());
    let best = df
        .column("nearest_1_cif")
        .expect("cif")
        .str()
        .expect("str")
        .get(i);
    assert_eq!(best, Some("copper_amcsd13088"));
    // The feature table: one row per measured file, batch's columns and
    // the map's, joined on the file.
    let df = carto::features::read_table(&features).expect("feature table");
    assert_eq!(df.height(), files.len());
    let col_f64 =
        |name: &str, row: usize| df.column(name).expect(name).f64().expect("f64").get(row);
    let col_str = |name: &str, row: usize| {
        (df.column(name).expect(name).str().expect("str").get(row)).map(str::to_string)
    };
    let row = (0..df.height())
        .find(|&r| col_str("source_file", r).is_some_and(|f| f.ends_with("cu.xmu")))
        .expect("cu.xmu row");
    assert_eq!(col_f64("map_x", row), points[i]["x"].as_f64());
    assert_eq!(col_f64("map_y", row), points[i]["y"].as_f64());
    assert_eq!(
        col_str("map_nearest_cif", row).as_deref(),
        Some("copper_amcsd13088")
    );
    // Cu K edge: the chain ran too (e0 within 2 eV of 8979 eV).
    let e0 = col_f64("e0_ev", row).expect("e0");
    assert!((e0 - 8979.0).abs() < 2.0, "{e0}");
    let cluster = df
        .column("map_cluster")
        .expect("map_cluster")
        .i64()
        .expect("i64")
        .get(row);
    assert_eq!(cluster.map(|c| c as u64), points[i]["cluster"].as_u64());
    assert!((1..=2).contains(&cluster.expect("cluster")));
    assert_eq!(
        col_str("map_cluster_name", row),
        cluster.map(|c| format!("cluster {c}"))
    );
    let method = col_str("map_method", row).expect("method");
    assert!(
        method.starts_with("stage 0")
            && method.contains("35 candidates")
            && method.ends_with("k-means k=2"),
        "{method}"
    );
    // Every measured row is on the map.
    let placed = df
        .column("map_x")
        .expect("map_x")
        .f64()
        .expect("f64")
        .null_count();
    assert_eq!(placed, 0);
    // The SVG: a dot per measurement (+ 2 cluster legend dots and one for
    // the structures), a diamond per candidate.
    let doc = std::fs::read_to_string(&svg).expect("svg");
    assert_eq!(doc.matches("<circle").count(), files.len() + 3);
    assert_eq!(doc.matches("<polygon").count(), 35);
    assert!(doc.contains(">cluster 1<") && doc.contains(">structures<"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A map of nothing useful is refused with a reason, not a panic.
#[test]
fn map_cli_refuses_what_it_cannot_place() {
    let out = common::carto([
        "map",
        &common::data("xrd/quartz.xy").display().to_string(),
        "--candidates",
        "/nonexistent/folder",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/folder"), "{err}");
    // UMAP options out of range are refused before any work, by name.
    let out = common::carto([
        "map",
        &common::data("xrd/quartz.xy").display().to_string(),
        "--candidates",
        &common::data("cif/amcsd").display().to_string(),
        "--layout",
        "umap",
        "--neighbours",
        "1",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--neighbours") && err.contains("neighbours 1"),
        "{err}"
    );
}

/// `carto map --layout umap`: the JSON says which layout drew the map,
/// every point is placed, and the ranking is the PCA map's (the layout
/// never ranks).
#[test]
fn map_cli_umap_layout_keeps_the_ranking() {
    let run = |layout: &str| {
        let out = common::carto([
            "map",
            &common::data("xrd/quartz.xy").display().to_string(),
            &common::data("xrd/rockjock/library/HEMATITE.xy")
                .display()
                .to_string(),
            "--wavelength",
            "CuKa",
            "--candidates",
            &common::data("cif/amcsd").display().to_string(),
            "--layout",
            layout,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let pca = run("pca");
    let umap = run("umap");
    let tsne = run("tsne");
    assert_eq!(pca["layout"], "pca");
    assert_eq!(
        umap["layout"],
        "umap(n_neighbors=15,min_dist=0.1,n_epochs=500)"
    );
    assert_eq!(
        tsne["layout"],
        "tsne(perplexity=30,max_iter=1000,angle=0.5,init=pca)"
    );
    let points = |v: &serde_json::Value| v["points"].as_array().expect("points").clone();
    let p = points(&pca);
    assert!(p.len() >= 35);
    for other in [points(&umap), points(&tsne)] {
        assert_eq!(p.len(), other.len());
        for (a, b) in p.iter().zip(&other) {
            assert_eq!(a["id"], b["id"]);
            assert_eq!(a["nearest"], b["nearest"]);
            assert!(b["x"].as_f64().is_some_and(f64::is_finite));
        }
    }
    assert!(
        umap["method"]
            .as_str()
            .is_some_and(|m| m.contains("layout umap("))
    );
}

/// Cross-modal retrieval in the stage-0 space, structures left out: for
/// each Fe structure, its simulated XRD's resemblance to the other Fe
/// structures (cosine on Q) is compared with every structure's closed-form
/// χ(k) resemblance to them (cosine of k²χ), over the landmarks that are
/// neither the query nor the answer (so a structure's similarity to itself
/// cannot leak). How often is its own χ(k) the best match (and among the
/// top 5)? Chance is 1/N and 5/N. `CARTO_CROSS_FULL=1` uses all CIFs of
/// ../shared/data/cif instead of the 35 named ones (the note's number).
#[test]
fn cross_modal_xrd_retrieves_its_own_chi_better_than_chance() {
    use carto::latent::candidates::{CandidateOptions, read_structures};
    use carto::latent::{ViewKey, candidates_of};
    use carto::theory::Edge;
    use carto::theory::closed::PairLibrary;
    let dir = if std::env::var_os("CARTO_CROSS_FULL").is_some() {
        common::data("cif")
    } else {
        common::data("cif/amcsd")
    };
    let files = carto::xrd::identify::candidate_files(&dir).expect("CIFs");
    let o = CandidateOptions {
        absorbers: vec![(26, Edge::K)],
        closed: carto::theory::closed::ClosedOptions {
            sigma2_ang2: 0.005,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut lib = PairLibrary::user();
    let set = candidates_of(read_structures(&files), &o, &mut lib, &mut |_, _| true)
        .expect("candidates")
        .expect("not cancelled");
    let key = ViewKey::Exafs {
        z: 26,
        edge: carto::latent::candidates::EdgeKey::K,
    };
    let fe: Vec<_> = set.items.iter().filter(|c| c.view(key).is_some()).collect();
    let n = fe.len();
    assert!(n >= 10, "{n} Fe structures");
    let sim = |a: &carto::latent::Profile, b: &carto::latent::Profile| a.cosine(b);
    let xrd: Vec<Vec<f64>> = (fe.iter())
        .map(|a| {
            let pa = a.view(ViewKey::Xrd).expect("xrd");
            fe.iter()
                .map(|b| sim(pa, b.view(ViewKey::Xrd).expect("xrd")))
                .collect()
        })
        .collect();
    let chi: Vec<Vec<f64>> = (fe.iter())
        .map(|a| {
            let pa = a.view(key).expect("chi");
            fe.iter()
                .map(|b| sim(pa, b.view(key).expect("chi")))
                .collect()
        })
        .collect();
    // Pearson correlation of two rows over the landmarks j ∉ {i, k}.
    let corr = |x: &[f64], y: &[f64], i: usize, k: usize| {
        let idx: Vec<usize> = (0..n).filter(|&j| j != i && j != k).collect();
        let m = idx.len() as f64;
        let (mx, my) = (
            idx.iter().map(|&j| x[j]).sum::<f64>() / m,
            idx.iter().map(|&j| y[j]).sum::<f64>() / m,
        );
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for &j in &idx {
            sxy += (x[j] - mx) * (y[j] - my);
            sxx += (x[j] - mx).powi(2);
            syy += (y[j] - my).powi(2);
        }
        if sxx > 0.0 && syy > 0.0 {
            sxy / (sxx * syy).sqrt()
        } else {
            0.0
        }
    };
    let rank_of_own = |query: &[Vec<f64>], keys: &[Vec<f64>], i: usize| {
        let mut s: Vec<(usize, f64)> = (0..n)
            .map(|k| (k, corr(&query[i], &keys[k], i, k)))
            .collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        s.iter().position(|&(k, _)| k == i).map_or(n, |p| p + 1)
    };
    let (mut x1, mut x5, mut c1, mut c5) = (0, 0, 0, 0);
    for i in 0..n {
        let r = rank_of_own(&xrd, &chi, i);
        x1 += usize::from(r == 1);
        x5 += usize::from(r <= 5);
        let r = rank_of_own(&chi, &xrd, i);
        c1 += usize::from(r == 1);
        c5 += usize::from(r <= 5);
    }
    println!(
        "cross-modal over {n} Fe structures: XRD → χ(k) top-1 {x1}/{n}, top-5 {x5}/{n}; \
         χ(k) → XRD top-1 {c1}/{n}, top-5 {c5}/{n} (chance {:.1} and {:.1})",
        1.0,
        5.0f64.min(n as f64)
    );
    // Better than chance both ways (in expectation 1 and 5 of n each way:
    // 2 and 10 for both); the named set gives 2 + 2 and 7 + 6 (3 + 3 and
    // 7 + 6 with rock-salt pair tables only, before the first shell got
    // its coordination's prototype).
    assert!(x1 + c1 >= 4, "top-1 {x1} + {c1} of {n} each");
    assert!(x5 + c5 >= 12, "top-5 {x5} + {c5} of {n} each");
}

// ---------------------------------------------------------------------------
// Stage 1 (latent::joint) beside stage 0, on the same data and folds.

/// Candidates of ../shared/data/cif (all, `full`) or cif/amcsd (the 35
/// named) with the closed-form χ(k) of `absorbers` (σ² as the map's).
fn candidate_set(
    full: bool,
    absorbers: &[(u32, carto::theory::Edge)],
) -> carto::latent::CandidateSet {
    use carto::latent::candidates::{CandidateOptions, read_structures};
    let dir = if full {
        common::data("cif")
    } else {
        common::data("cif/amcsd")
    };
    let files = carto::xrd::identify::candidate_files(&dir).expect("CIFs");
    let o = CandidateOptions {
        absorbers: absorbers.to_vec(),
        closed: carto::theory::closed::ClosedOptions {
            sigma2_ang2: carto::latent::map::MAP_SIGMA2_ANG2,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut lib = carto::theory::closed::PairLibrary::user();
    carto::latent::candidates_of(read_structures(&files), &o, &mut lib, &mut |_, _| true)
        .expect("candidates")
        .expect("not cancelled")
}

/// Top-1 and top-5 counts of ranks (1-based).
fn tops(ranks: &[usize]) -> (usize, usize) {
    (
        ranks.iter().filter(|&&r| r == 1).count(),
        ranks.iter().filter(|&&r| r <= 5).count(),
    )
}

/// Rank (1-based) of `own` among `scores` (ties count against it).
fn rank_among(scores: &[(usize, f64)], own: usize) -> usize {
    let s = scores
        .iter()
        .find(|(k, _)| *k == own)
        .map_or(f64::NEG_INFINITY, |x| x.1);
    1 + scores.iter().filter(|(k, v)| *k != own && *v >= s).count()
}

/// Cross-modal retrieval, structures left out: 5 folds over the
/// candidates grouped by formula (polymorph entries of one compound stay
/// in one fold). Stage 1 is fitted on the other folds' candidates (every
/// view; its ridge chosen by cross-validation inside them) and each
/// held-out Fe structure's simulated XRD retrieves its own closed-form
/// χ(k) (and the reverse) by cosine in the shared space. Stage 0 on the
/// same folds: the resemblance of the query's XRD and of each key's χ(k)
/// to the training folds' Fe structures (landmarks), correlated over the
/// landmarks that are neither query nor key (the stage-0 cross-modal test's
/// score). Stage 2: the contrastive towers (latent::contrastive) trained
/// from stage 1 on the training folds' Fe structures with augmented
/// profiles. Two pools: every Fe structure of the set (chance 1/N, 5/N)
/// and the held-out fold's only. `CARTO_CROSS_FULL=1`: the full library.
#[test]
fn stage1_cross_modal_leave_structures_out_beside_stage0() {
    use carto::latent::joint::{JointModel, JointOptions, cosine, folds_by_group};
    use carto::latent::{ViewKey, candidates::EdgeKey};
    let full = std::env::var_os("CARTO_CROSS_FULL").is_some();
    let set = candidate_set(full, &[(26, carto::theory::Edge::K)]);
    let cands = &set.items;
    let key = ViewKey::Exafs {
        z: 26,
        edge: EdgeKey::K,
    };
    let fe: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].view(key).is_some())
        .collect();
    let n = fe.len();
    let k_folds = 5;
    let groups: Vec<String> = cands.iter().map(|c| c.formula.replace(' ', "")).collect();
    let fold = folds_by_group(&groups, k_folds);
    let xrd = |i: usize| cands[i].view(ViewKey::Xrd).expect("xrd");
    let chi = |i: usize| cands[i].view(key).expect("chi");
    // Stage-0 resemblances among the Fe structures (a, b: positions in fe).
    let xcos: Vec<Vec<f64>> = fe
        .iter()
        .map(|&a| fe.iter().map(|&b| xrd(a).cosine(xrd(b))).collect())
        .collect();
    let ccos: Vec<Vec<f64>> = fe
        .iter()
        .map(|&a| fe.iter().map(|&b| chi(a).cosine(chi(b))).collect())
        .collect();
    let pearson = |x: &[f64], y: &[f64], idx: &[usize]| {
        let m = idx.len() as f64;
        let (mx, my) = (
            idx.iter().map(|&j| x[j]).sum::<f64>() / m,
            idx.iter().map(|&j| y[j]).sum::<f64>() / m,
        );
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for &j in idx {
            sxy += (x[j] - mx) * (y[j] - my);
            sxx += (x[j] - mx).powi(2);
            syy += (y[j] - my).powi(2);
        }
        if sxx > 0.0 && syy > 0.0 {
            sxy / (sxx * syy).sqrt()
        } else {
            0.0
        }
    };
    // ranks[stage][direction][pool]
    let mut ranks = vec![vec![vec![Vec::new(); 2]; 2]; 3];
    let mut ridges = Vec::new();
    let mut rho1 = Vec::new();
    for f in 0..k_folds {
        let train: Vec<carto::latent::CandidateViews> = (0..cands.len())
            .filter(|&i| fold[i] != f)
            .map(|i| cands[i].clone())
            .collect();
        let held: Vec<usize> = (0..n).filter(|&a| fold[fe[a]] == f).collect();
        if held.is_empty() {
            continue;
        }
        let landmarks: Vec<usize> = (0..n).filter(|&a| fold[fe[a]] != f).collect();
        let model = JointModel::fit(&train, &JointOptions::default()).expect("fit");
        ridges.push((
            model.ridge,
            model
                .views
                .iter()
                .map(|v| v.pca.components.len())
                .max()
                .unwrap_or(0),
        ));
        rho1.push(model.rho.first().copied().unwrap_or(0.0));
        let gx: Vec<Vec<f64>> = (0..n)
            .map(|a| model.transform_view(ViewKey::Xrd, xrd(fe[a])).expect("x"))
            .collect();
        let gc: Vec<Vec<f64>> = (0..n)
            .map(|a| model.transform_view(key, chi(fe[a])).expect("c"))
            .collect();
        // Stage 2: the contrastive towers on the training folds' Fe
        // structures (both views), from stage 1, each epoch on augmented
        // profiles (shift by up to ±2 grid points, 2 % noise).
        let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ f as u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut augment = |p: &Profile| -> Profile {
            let shift = (next() * 5.0) as isize - 2;
            let top = p.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let len = p.values.len() as isize;
            let mut q = p.clone();
            for j in 0..len {
                let from = (j - shift).clamp(0, len - 1) as usize;
                // Box–Muller: a normal deviate from two uniforms.
                let g =
                    (-2.0 * next().max(1e-12).ln()).sqrt() * (std::f64::consts::TAU * next()).cos();
                q.values[j as usize] = p.values[from] + 0.02 * top * g;
                q.mask[j as usize] = p.mask[from];
            }
            q
        };
        let dims = gx.first().map_or(0, Vec::len);
        let towers = carto::latent::contrastive::TwoTower::fit(
            dims,
            &carto::latent::contrastive::ContrastiveOptions::default(),
            &mut |epoch| {
                landmarks
                    .iter()
                    .map(|&a| {
                        if epoch == 0 {
                            (gx[a].clone(), gc[a].clone())
                        } else {
                            (
                                model
                                    .transform_view(ViewKey::Xrd, &augment(xrd(fe[a])))
                                    .expect("x"),
                                model.transform_view(key, &augment(chi(fe[a]))).expect("c"),
                            )
                        }
                    })
                    .unzip()
            },
            &mut |_, _, _| true,
        )
        .expect("towers")
        .expect("not cancelled");
        let ex: Vec<Vec<f64>> = gx.iter().map(|g| towers.embed_first(g)).collect();
        let ec: Vec<Vec<f64>> = gc.iter().map(|g| towers.embed_second(g)).collect();
        for &q in &held {
            for (pool_i, pool) in [(0..n).collect::<Vec<_>>(), held.clone()]
                .iter()
                .enumerate()
            {
                for (dir, (qs, ks)) in [(&ex, &ec), (&ec, &ex)].into_iter().enumerate() {
                    let s2: Vec<(usize, f64)> =
                        pool.iter().map(|&k| (k, cosine(&qs[q], &ks[k]))).collect();
                    ranks[2][dir][pool_i].push(rank_among(&s2, q));
                }
                let directions = [(&gx, &gc, &xcos, &ccos), (&gc, &gx, &ccos, &xcos)];
                for (dir, (qs, ks, q0, k0)) in directions.into_iter().enumerate() {
                    let s1: Vec<(usize, f64)> =
                        pool.iter().map(|&k| (k, cosine(&qs[q], &ks[k]))).collect();
                    let s0: Vec<(usize, f64)> = pool
                        .iter()
                        .map(|&k| {
                            let idx: Vec<usize> = landmarks
                                .iter()
                                .copied()
                                .filter(|&j| j != q && j != k)
                                .collect();
                            (k, pearson(&q0[q], &k0[k], &idx))
                        })
                        .collect();
                    ranks[0][dir][pool_i].push(rank_among(&s0, q));
                    ranks[1][dir][pool_i].push(rank_among(&s1, q));
                }
            }
        }
    }
    let mut report = format!(
        "cross-modal, {} Fe structures of {} candidates ({}), {k_folds} folds by formula; (ridge, components) per fold {ridges:?}; first ρ per fold {rho1:.3?}\n",
        n,
        cands.len(),
        if full { "full library" } else { "named set" }
    );
    let mut t = [[[(0, 0); 2]; 2]; 3];
    for (s, stage) in ["stage 0", "stage 1", "stage 2"].iter().enumerate() {
        for (d, dir) in ["XRD → χ(k)", "χ(k) → XRD"].iter().enumerate() {
            for (p, pool) in ["all Fe structures", "held-out fold"].iter().enumerate() {
                let r = &ranks[s][d][p];
                t[s][d][p] = tops(r);
                report += &format!(
                    "{stage} {dir} among {pool}: top-1 {}/{}, top-5 {}/{}\n",
                    t[s][d][p].0,
                    r.len(),
                    t[s][d][p].1,
                    r.len()
                );
            }
        }
    }
    println!("{report}");
    assert_eq!(ranks[0][0][0].len(), n, "every Fe structure held out once");
    // Sums of both directions: [stage][pool] → (top-1, top-5).
    let sum = |s: usize, p: usize| (t[s][0][p].0 + t[s][1][p].0, t[s][0][p].1 + t[s][1][p].1);
    // Measured when written (XRD→χ + χ→XRD), 2026-12-06, pair tables with
    // each first shell's coordination prototype:
    //   named set (11 Fe): stage 0 all 2+3, 7+7; fold 6+7, 11+11;
    //                      stage 1 all 1+0, 8+8; fold 9+8, 11+11;
    //                      stage 2 all 1+0, 7+7; fold 8+7, 11+11
    //   full (95 Fe of 644): stage 0 all 7+6, 17+14; fold 20+11, 43+41;
    //                        stage 1 all 5+2, 21+24; fold 20+20, 44+48;
    //                        stage 2 all 7+5, 22+26; fold 18+23, 46+40
    //   (rock-salt tables only, before: stage 0 all 8+9, 22+18; fold 15+15,
    //   43+38; stage 1 all 6+2, 25+24; fold 24+20, 44+45).
    // Stage 1 wins among the held-out structures (top-1 40 against 31 on
    // the library) and at top-5 among all (45 against 31), and loses at
    // top-1 among all (7 against 13): the training structures' own views
    // sit closer in the fitted space than a new structure's. Stage 2 (the
    // contrastive towers from stage 1) moves these by a few either way
    // (all: top-1 12, top-5 48; fold: top-1 41, top-5 86 against 92), with
    // every temperature, ridge and step tried: no clear win, so the map
    // keeps stage 1 as its trained ranking. Chance among all is 1 and 5
    // per direction.
    if full {
        assert!(sum(0, 1).0 >= 28 && sum(0, 0).1 >= 28, "{report}");
        assert!(sum(1, 1).0 >= 37 && sum(1, 0).1 >= 42, "{report}");
        assert!(
            sum(1, 1).0 > sum(0, 1).0 && sum(1, 0).1 > sum(0, 0).1,
            "{report}"
        );
        assert!(sum(2, 1).0 >= 37 && sum(2, 0).1 >= 42, "{report}");
    } else {
        assert!(sum(0, 0).1 >= 13 && sum(0, 1).0 >= 13, "{report}");
        assert!(sum(1, 0).1 >= 14 && sum(1, 1).0 >= 15, "{report}");
        assert!(sum(2, 0).1 >= 12 && sum(2, 1).0 >= 13, "{report}");
    }
}

/// XAS spectra of ../shared/data/xas/columns and the mineral each was
/// measured on (sources: SOURCES.md; Mn CpMnCO3 and EMG003 have no
/// structure here).
const XAS_MEASURED: [(&str, &str); 12] = [
    ("cu.xmu", "copper"),
    ("cu_10k.xmu", "copper"),
    ("cu_50k.xmu", "copper"),
    ("cu_rt01.xmu", "copper"),
    ("cu2s_xafs.dat", "chalcocite"),
    ("feo_xafs.dat", "wustite"),
    ("feo_exafs_pnccat2001.dat", "wustite"),
    ("fe2o3_rt1.xmu", "hematite"),
    ("fe.060", "iron"),
    ("znse_zn_xafs.001", "stilleite"),
    ("scorodite_as_xafs.001", "scorodite"),
    ("sno2_l3.dat", "cassiterite"),
];

/// Same-modality retrieval of real measurements, stage 1 beside stage 0,
/// among every CIF of ../shared/data/cif. Stage 1 is one joint model fitted
/// on all candidates (XRD and the closed-form χ(k) of Fe, Cu, Zn, As K and
/// Sn L3; no measured spectrum in training). Each measurement is ranked by
/// cosine with the candidates' anchors (the model's ranking) and, as a
/// diagnostic, with their same-view coordinates. The Procrustes map
/// measured → simulated is fitted on the RockJock pairs (pattern, its
/// mineral's named AMCSD structure) leaving the held-out mineral's patterns
/// out (both hematites go together); the XAS pairs (1–5 per absorber,
/// 3 structures at most) are too few to fit a rotation honestly, so none
/// is fitted for them.
#[test]
fn stage1_on_measured_rockjock_and_xas_beside_stage0() {
    use carto::latent::joint::{JointModel, JointOptions, cosine};
    use carto::latent::map::{MeasuredView, nearest_candidates};
    use carto::latent::{MeasuredOptions, ViewKey, measured_views};
    use carto::theory::Edge;
    let set = candidate_set(
        true,
        &[
            (26, Edge::K),
            (29, Edge::K),
            (30, Edge::K),
            (33, Edge::K),
            (50, Edge::L3),
        ],
    );
    let cands = &set.items;
    let model = JointModel::fit(cands, &JointOptions::default()).expect("fit");
    let anchors = model.anchors_of(cands);
    let mut report = format!(
        "joint model on {} candidates: views {:?}, {} anchors, ridge {}, components {}, ρ {:.3?}\n",
        cands.len(),
        model.keys(),
        model.anchors,
        model.ridge,
        model.views[0].pca.components.len(),
        model.rho
    );
    let ids_of = |near: &[carto::latent::map::Near]| -> Vec<String> {
        near.iter().map(|n| n.cif.clone()).collect()
    };
    let rank_in = |ids: &[String], mineral: &str| {
        let v: Vec<&str> = ids.iter().map(String::as_str).collect();
        rank_of(&v, mineral).unwrap_or(usize::MAX)
    };
    let same_view = |m: &MeasuredView, g: &[f64]| -> Vec<String> {
        let mut s: Vec<(usize, f64)> = cands
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                Some((
                    i,
                    cosine(g, &model.transform_view(m.key, c.view(m.key)?).ok()?),
                ))
            })
            .collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        s.iter().map(|&(i, _)| cands[i].id.clone()).collect()
    };
    // RockJock XRD.
    let mut rj = Vec::new();
    for (file, mineral) in ROCKJOCK {
        let path = common::data(&format!("xrd/rockjock/library/{file}.xy"));
        let pat = carto::io::xrd::read_pattern(&path).expect(file);
        let wl = pat.wavelength_ang.unwrap_or(1.54184);
        let profile = xrd_measured(&pat.two_theta_deg, &pat.intensity, wl).expect(file);
        rj.push((
            file,
            mineral,
            MeasuredView {
                id: file.into(),
                key: ViewKey::Xrd,
                profile,
            },
        ));
    }
    let named = |mineral: &str| {
        cands
            .iter()
            .find(|c| c.id.starts_with(&format!("{mineral}_amcsd")))
            .unwrap_or_else(|| panic!("{mineral}"))
    };
    let all = cands.len();
    let mut r = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for (file, mineral, m) in &rj {
        let s0 = rank_in(&ids_of(&nearest_candidates(m, cands, all)), mineral);
        let s1 = rank_in(
            &ids_of(&model.nearest(m, cands, &anchors, all).expect("s1")),
            mineral,
        );
        let g = model.transform_measured(m).expect("g");
        let sv = rank_in(&same_view(m, &g), mineral);
        // Procrustes, the held-out mineral's patterns left out.
        let pairs: Vec<(&carto::latent::Profile, &carto::latent::Profile)> = rj
            .iter()
            .filter(|(_, other, _)| other != mineral)
            .map(|(_, other, mv)| (&mv.profile, named(other).view(ViewKey::Xrd).expect("xrd")))
            .collect();
        let mut with_p = model.clone();
        with_p
            .fit_procrustes(ViewKey::Xrd, &pairs)
            .expect("procrustes");
        let sp = rank_in(
            &ids_of(&with_p.nearest(m, cands, &anchors, all).expect("sp")),
            mineral,
        );
        report += &format!(
            "{file}: stage 0 rank {s0}, stage 1 {s1} (same-view {sv}, with Procrustes {sp})\n"
        );
        for (v, x) in r.iter_mut().zip([s0, s1, sv, sp]) {
            v.push(x);
        }
    }
    let rj_tops: Vec<(usize, usize)> = r.iter().map(|v| tops(v)).collect();
    for (name, (t1, t5)) in [
        "stage 0",
        "stage 1",
        "stage 1 same-view",
        "stage 1 + Procrustes (leave-mineral-out)",
    ]
    .iter()
    .zip(&rj_tops)
    {
        report += &format!("RockJock XRD, {name}: top-1 {t1}/17, top-5 {t5}/17\n");
    }
    // XAS.
    let mut x = [Vec::new(), Vec::new(), Vec::new()];
    for (file, mineral) in XAS_MEASURED {
        let (views, errs) = measured_views(
            &common::data(&format!("xas/columns/{file}")),
            &MeasuredOptions::default(),
        );
        let m = views
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{file}: {errs:?}"));
        let s0 = rank_in(&ids_of(&nearest_candidates(&m, cands, all)), mineral);
        let (s1, sv) = match model.transform_measured(&m) {
            Ok(g) => (
                rank_in(
                    &ids_of(&model.nearest(&m, cands, &anchors, all).expect("s1")),
                    mineral,
                ),
                rank_in(&same_view(&m, &g), mineral),
            ),
            Err(e) => panic!("{file} ({:?}): {e}", m.key),
        };
        let pool = cands.iter().filter(|c| c.view(m.key).is_some()).count();
        report += &format!(
            "{file} ({:?}, {pool} candidates): stage 0 rank {s0}, stage 1 {s1} (same-view {sv})\n",
            m.key
        );
        for (v, r) in x.iter_mut().zip([s0, s1, sv]) {
            v.push(r);
        }
    }
    let top3 = |v: &[usize]| {
        (
            v.iter().filter(|&&r| r == 1).count(),
            v.iter().filter(|&&r| r <= 3).count(),
        )
    };
    let xas_tops: Vec<(usize, usize)> = x.iter().map(|v| top3(v)).collect();
    for (name, (t1, t3)) in ["stage 0", "stage 1", "stage 1 same-view"]
        .iter()
        .zip(&xas_tops)
    {
        report += &format!("XAS, {name}: top-1 {t1}/12, top-3 {t3}/12\n");
    }
    println!("{report}");
    // Measured: RockJock stage 0 13/17, 14/17; stage 1 6/17, 10/17
    // (same-view 8, 11; with Procrustes left-mineral-out 2, 4). XAS stage 0
    // top-1 7/12, top-3 10/12; stage 1 7/12, 8/12 (same-view 6, 10). With
    // rock-salt pair tables only (before the first shell got its
    // coordination's prototype) XAS stage 0 was 6/12, 9/12 and stage 1
    // 5/12, 9/12; RockJock stage 1 4/17, 8/17. Stage 1 does not beat
    // stage 0 on measured data, so the map's default ranking stays stage 0
    // (carto map without --model/--train). A change that makes stage 1 win
    // must change that default and these bounds.
    assert!(rj_tops[0].0 >= 13 && rj_tops[0].1 >= 14, "{report}");
    assert!(
        (3..=7).contains(&rj_tops[1].0) && (6..=11).contains(&rj_tops[1].1),
        "{report}"
    );
    assert!(
        rj_tops[1].0 < rj_tops[0].0 && rj_tops[3].0 < rj_tops[0].0,
        "{report}"
    );
    assert!(xas_tops[0].0 >= 7 && xas_tops[0].1 >= 10, "{report}");
    assert!(
        (4..=7).contains(&xas_tops[1].0) && (8..=10).contains(&xas_tops[1].1),
        "{report}"
    );
    assert!(
        xas_tops[1].0 <= xas_tops[0].0 && xas_tops[1].1 <= xas_tops[0].1,
        "{report}"
    );
    // Copper's four spectra find copper first in both stages.
    assert!(x[1][..4].iter().all(|&r| r == 1), "{report}");
}

/// `carto map --train FILE` fits stage 1 on the candidates and saves it;
/// `--model FILE` ranks with it again (the same answer); the JSON says
/// which stage ranked; a broken model file is refused naming file and
/// field, before any work.
#[test]
fn map_cli_trains_and_reuses_a_stage1_model() {
    let dir = std::env::temp_dir().join(format!("carto-map-stage1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = dir.join("joint.json");
    let inputs: Vec<String> = [
        "xrd/rockjock/library/HEMATITE.xy",
        "xrd/rockjock/library/CORUNDUM.xy",
        "xas/columns/cu.xmu",
    ]
    .iter()
    .map(|f| common::data(f).display().to_string())
    .collect();
    let cif = common::data("cif/amcsd").display().to_string();
    let run = |extra: &[&str]| {
        let mut args: Vec<String> = vec!["map".into()];
        args.extend(inputs.iter().cloned());
        args.extend(["--candidates", &cif, "--wavelength", "CuKa", "--json"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        common::carto(&args)
    };
    let json = |out: &std::process::Output| -> serde_json::Value {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let m = model.display().to_string();
    let trained = json(&run(&["--train", &m, "--absorbers", "Fe"]));
    assert_eq!(trained["stage"], "stage1");
    assert_eq!(trained["model"]["trained"], true);
    let views = trained["model"]["views"].to_string();
    assert!(
        views.contains("Xrd") && views.contains("z: 26") && views.contains("z: 29"),
        "{views}"
    );
    assert!(
        trained["model"]["rho"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(model.is_file());
    let reused = json(&run(&["--model", &m]));
    assert_eq!(reused["stage"], "stage1");
    assert_eq!(reused["model"]["trained"], false);
    let nearest = |v: &serde_json::Value| -> Vec<String> {
        v["points"]
            .as_array()
            .expect("points")
            .iter()
            .filter(|p| p["kind"] == "measured")
            .map(|p| p["nearest"][0]["cif"].to_string())
            .collect()
    };
    assert_eq!(nearest(&trained), nearest(&reused));
    assert_eq!(nearest(&trained).len(), 3);
    let stage0 = json(&run(&[]));
    assert_eq!(stage0["stage"], "stage0");
    assert!(stage0.get("model").is_none());
    // Broken files: named with the field.
    let bad = dir.join("bad.json");
    let text = std::fs::read_to_string(&model).expect("model");
    std::fs::write(
        &bad,
        text.replacen("\"ridge\": ", "\"ridge\": [], \"was\": ", 1),
    )
    .expect("write");
    let out = run(&["--model", &bad.display().to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json") && err.contains("`ridge`"), "{err}");
    std::fs::write(&bad, "not json").expect("write");
    let out = run(&["--model", &bad.display().to_string()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
    let out = run(&["--model", "/nonexistent/model.json"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/model.json"));
    // --absorbers only trains.
    assert!(!run(&["--absorbers", "Fe"]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The map's UMAP and t-SNE layouts (latent::layout) beside its PCA layout on the
/// whole candidate library's simulated XRD: how many of each structure's
/// 10 nearest by cosine on the Q grid (what the ranking uses) stay among
/// its 10 nearest on the map. A layout is for seeing neighbourhoods, so
/// UMAP and t-SNE must keep clearly more of them than the two principal
/// axes do.
#[test]
fn umap_and_tsne_layouts_keep_library_neighbourhoods_better_than_pca() {
    use carto::latent::layout::{Layout, TsneOptions, UmapOptions, neighbours_kept};
    use carto::latent::{MapOptions, build_map};
    let set = candidate_set(true, &[]);
    let cands = &set.items;
    let n = cands.len();
    assert!(n >= 600, "{n} candidates");
    let xrd = |i: usize| {
        cands[i]
            .view(carto::latent::ViewKey::Xrd)
            .expect("xrd view")
    };
    const K: usize = 10;
    let truth: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let mut s: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (xrd(i).cosine(xrd(j)), j))
                .collect();
            s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            s.into_iter().take(K).map(|x| x.1).collect()
        })
        .collect();
    let kept = |layout: Layout| {
        let o = MapOptions {
            layout,
            ..MapOptions::default()
        };
        let map = build_map(&[], cands, &o, &mut |_, _| true)
            .expect("map")
            .expect("not cancelled");
        assert_eq!(map.points.len(), n);
        assert_eq!(map.layout, layout.describe());
        let xy: Vec<(f64, f64)> = map.points.iter().map(|p| (p.x, p.y)).collect();
        neighbours_kept(&truth, &xy)
    };
    let pca = kept(Layout::Pca);
    let umap = kept(Layout::Umap(UmapOptions::default()));
    let tsne = kept(Layout::Tsne(TsneOptions::default()));
    eprintln!(
        "library layout, {n} structures: 10-NN kept on the map: PCA {pca:.3}, UMAP {umap:.3}, t-SNE {tsne:.3} (chance {:.3})",
        K as f64 / (n - 1) as f64
    );
    assert!(umap > pca + 0.1, "UMAP {umap:.3} vs PCA {pca:.3}");
    assert!(tsne > pca + 0.1, "t-SNE {tsne:.3} vs PCA {pca:.3}");
}

/// `carto project` on the Fe XANES series: PCA's explained variance and
/// NMF's reconstruction equal scikit-learn's on the same matrix (the
/// fixture); a saved model applied to the same scans gives the same
/// coordinates; the autoencoder's loss falls and one latent coordinate
/// keeps at least what the first principal component does; k²χ(k) is
/// refused by NMF with the reason.
#[test]
fn project_cli_pca_nmf_autoencoder_on_the_fe_series() {
    let fx = common::json_fixture("latent/fe_series_sklearn.json");
    let series = common::data("xas/series").display().to_string();
    let dir = std::env::temp_dir().join(format!("carto-project-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let run = |args: &[&str]| {
        let mut all = vec!["project", series.as_str(), "--modality", "xanes", "--json"];
        all.extend_from_slice(args);
        let out = common::carto(all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let model = dir.join("pca.json").display().to_string();
    let pca = run(&["--method", "pca", "--components", "3", "--save", &model]);
    assert_eq!(pca["points"].as_array().map(Vec::len), Some(5));
    assert_eq!(pca["absorber"], "Fe K");
    let want = common::numbers(&fx["pca_explained_variance_ratio"]);
    let got = common::numbers(&pca["explained"]["per_component"]);
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() < 1e-3 * w,
            "PCA ratio {g} vs scikit-learn {w}"
        );
    }
    let again = run(&["--model", &model]);
    assert_eq!(again["model"], model);
    for (a, b) in pca["points"]
        .as_array()
        .expect("p")
        .iter()
        .zip(again["points"].as_array().expect("p"))
    {
        assert_eq!(a["id"], b["id"]);
        let (ca, cb) = (common::numbers(&a["coords"]), common::numbers(&b["coords"]));
        for (x, y) in ca.iter().zip(&cb) {
            assert!((x - y).abs() < 1e-9, "{ca:?} vs {cb:?}");
        }
    }
    // NMF (2 components, scikit-learn's 200 iterations): ‖X − WH‖ as the fixture.
    let nmf = run(&["--method", "nmf", "--components", "2"]);
    let x = xanes_series().mapv(|v| v.max(0.0));
    let total: f64 = x.iter().map(|v| v * v).sum();
    let err = fx["nmf_reconstruction_err"].as_f64().expect("err");
    let frac = nmf["explained"]["fraction"].as_f64().expect("fraction");
    assert!(
        (frac - (1.0 - err * err / total)).abs() < 2e-3,
        "NMF keeps {frac}, scikit-learn {}",
        1.0 - err * err / total
    );
    // The autoencoder with one coordinate.
    let ae = run(&[
        "--method",
        "autoencoder",
        "--components",
        "1",
        "--epochs",
        "400",
    ]);
    let loss = common::numbers(&ae["explained"]["loss_history"]);
    assert_eq!(loss.len(), 400);
    assert!(
        loss[399] < 0.2 * loss[0],
        "loss {} → {}",
        loss[0],
        loss[399]
    );
    let ae_frac = ae["explained"]["fraction"].as_f64().expect("fraction");
    eprintln!(
        "Fe series: PCA-1 keeps {:.4}, autoencoder-1 {ae_frac:.4}",
        want[0]
    );
    assert!(
        ae_frac >= want[0] - 0.02,
        "autoencoder {ae_frac} vs PCA-1 {}",
        want[0]
    );
    // k²χ(k) is signed: NMF says why not.
    let out = common::carto([
        "project",
        &common::data("xas/columns/cu.xmu").display().to_string(),
        &common::data("xas/xdi/cu_metal_rt.xdi")
            .display()
            .to_string(),
        "--modality",
        "exafs",
        "--method",
        "nmf",
    ]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("non-negative"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The autoencoder beside PCA on spectra neither has seen: the 644
/// library structures' simulated XRD on the Q grid, every fifth held out,
/// both trained on the rest with the same number of coordinates; the
/// fraction of the held-out profiles' variance (about the training mean)
/// each reconstruction keeps. A model that only memorised its training set
/// would keep much less on the held-out fifth than on what it saw; the
/// autoencoder holds out a tenth of its training set to choose the epoch
/// whose weights it keeps, and decays its weights.
#[test]
fn autoencoder_beside_pca_on_held_out_library_patterns() {
    use carto::latent::{Autoencoder, AutoencoderOptions};
    let (_, profiles) = library();
    let n = profiles.len();
    let f = profiles[0].values.len();
    let x = Array2::from_shape_fn((n, f), |(i, j)| profiles[i].values[j]);
    let (train, test): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 5 != 0);
    let xt = x.select(ndarray::Axis(0), &train);
    let xh = x.select(ndarray::Axis(0), &test);
    // Variance kept: 1 − ‖X − X̂‖² / ‖X − mean_train‖².
    let mean = xt.mean_axis(ndarray::Axis(0)).expect("mean");
    let kept = |x: &Array2<f64>, r: &Array2<f64>| {
        let err: f64 = (x - r).iter().map(|v| v * v).sum();
        let tot: f64 = (x - &mean).iter().map(|v| v * v).sum();
        1.0 - err / tot
    };
    for k in [2, 8] {
        let pca = Pca::fit(xt.view(), k).expect("pca");
        let pca_of = |x: &Array2<f64>| {
            let z = pca.transform(x.view()).expect("scores");
            kept(x, &pca.inverse_transform(z.view()))
        };
        // The defaults: 64 hidden units, a tenth held out picks the
        // epoch, weight decay 0.5.
        let o = AutoencoderOptions {
            components: k,
            ..Default::default()
        };
        let mask = Array2::from_elem(xt.dim(), true);
        let ae = Autoencoder::fit(xt.view(), mask.view(), &o, &mut |_, _, _| true)
            .expect("autoencoder")
            .expect("not cancelled");
        let ae_of = |x: &Array2<f64>| {
            let z = ae.transform(x.view(), None).expect("codes");
            kept(x, &ae.inverse_transform(z.view()).expect("decoded"))
        };
        let (pt, ph, at, ah) = (pca_of(&xt), pca_of(&xh), ae_of(&xt), ae_of(&xh));
        eprintln!(
            "{k} coordinates, {} training / {} held-out XRD profiles: variance kept, training / held-out: PCA {pt:.3} / {ph:.3}, autoencoder {at:.3} / {ah:.3} (epoch {:?} of 300 kept)",
            train.len(),
            test.len(),
            ae.best_epoch
        );
        // The held-out tenth chose the epoch: on unseen patterns the
        // autoencoder keeps about what PCA does (without it, trained to
        // the end, it kept 0.026 and 0.047: memorised), not clearly more.
        assert!(
            ah > ph - 0.02,
            "autoencoder {ah:.3} vs PCA {ph:.3} held out"
        );
        assert_eq!(ae.validation_history.len(), 300);
        assert!(ae.best_epoch.is_some_and(|e| e < 300));
    }
}

/// The nearest candidates of the measurement whose id ends with `file`.
fn nearest_of<'a>(map: &'a serde_json::Value, file: &str) -> Vec<(&'a str, f64)> {
    let p = map["points"]
        .as_array()
        .expect("points")
        .iter()
        .find(|p| p["kind"] == "measured" && p["id"].as_str().is_some_and(|i| i.ends_with(file)))
        .unwrap_or_else(|| panic!("{file} not on the map"));
    assert_eq!(p["modality"], "xanes", "{p}");
    p["nearest"]
        .as_array()
        .expect("nearest")
        .iter()
        .map(|n| {
            (
                n["cif"].as_str().expect("cif"),
                n["score"].as_f64().expect("score"),
            )
        })
        .collect()
}

/// Measured Cu HERFD standards as the XANES of five Cu structures: the
/// conventional-resolution spectra of Cu foil (three beamtimes) and of
/// Cu₂S land on copper and on a Cu sulfide; a standard naming no
/// candidate or a missing group is reported, not fatal.
#[test]
fn map_cli_xanes_standards_rank_cu_spectra_by_their_structures() {
    let dir = std::env::temp_dir().join(format!("carto-xanes-std-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let prj = common::data("athena/CuHERFD_standards.prj");
    let mut toml = String::new();
    for (group, cif) in [
        ("CuHERFD_Cu Foil.001", "copper_amcsd13088"),
        ("CuHERFD_Cu(I)O.001", "cuprite_amcsd17890"),
        ("CuHERFD_nanoCuO.001", "tenorite_amcsd18816"),
        ("CuHERFD_CuS.001", "covellite_amcsd10944"),
        ("CuHERFD_Cu2S.001", "no_such_structure"),
        ("CuHERFD_NoSuchGroup", "copper_amcsd13088"),
    ] {
        toml += &format!(
            "[[standard]]\nspectrum = {:?}\ngroup = {group:?}\ncif = {cif:?}\n",
            prj.display().to_string()
        );
    }
    let file = dir.join("standards.toml");
    std::fs::write(&file, toml).expect("write");
    let mut args: Vec<String> = vec!["map".into()];
    for f in [
        "xas/xdi/cu_metal_rt.xdi",
        "xas/columns/cu.xmu",
        "xas/columns/cu_rt01.xmu",
        "xas/columns/cu2s_xafs.dat",
    ] {
        args.push(common::data(f).display().to_string());
    }
    args.extend(
        [
            "--xanes",
            "--xanes-standards",
            &file.display().to_string(),
            "--candidates",
            &common::data("cif/amcsd").display().to_string(),
            "--json",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let map = carto_json(&args);
    assert_eq!(map["xanes_views"], 4, "{}", map["skipped"]);
    for foil in ["cu_metal_rt.xdi", "cu.xmu", "cu_rt01.xmu"] {
        let near = nearest_of(&map, foil);
        eprintln!("{foil}: {near:?}");
        assert_eq!(near[0].0, "copper_amcsd13088", "{foil}: {near:?}");
        // dμ/dE tells metal from oxide by a margin (plain cosine of μ: 0.991 / 0.984).
        assert!(near[0].1 - near[1].1 > 0.08, "{foil}: {near:?}");
        // Only candidates with a Cu XANES view are ranked.
        assert_eq!(near.len(), 4, "{near:?}");
    }
    let near = nearest_of(&map, "cu2s_xafs.dat");
    eprintln!("cu2s_xafs.dat: {near:?}");
    assert_eq!(near[0].0, "covellite_amcsd10944", "{near:?}");
    let skipped = map["skipped"].to_string();
    assert!(
        skipped.contains("no candidate 'no_such_structure'"),
        "{skipped}"
    );
    assert!(
        skipped.contains("standard[5]") && skipped.contains("no group 'CuHERFD_NoSuchGroup'"),
        "{skipped}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Candidates' simulated XANES (refeff, one run each for copper and
/// cuprite): the Cu foil lands on copper; a second map reads both from the
/// cache (no refeff run) and ranks the same.
#[test]
fn map_cli_simulated_xanes_landmarks_are_cached() {
    let dir = std::env::temp_dir().join(format!("carto-xanes-lib-{}", std::process::id()));
    let cands = dir.join("cands");
    std::fs::create_dir_all(&cands).expect("dir");
    for cif in [
        "copper_amcsd13088",
        "cuprite_amcsd17890",
        "quartz_amcsd11008",
    ] {
        let from = common::data(&format!("cif/amcsd/{cif}.cif"));
        std::fs::copy(&from, cands.join(format!("{cif}.cif"))).expect("copy");
    }
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_carto"))
            .args([
                "map",
                &common::data("xas/xdi/cu_metal_rt.xdi")
                    .display()
                    .to_string(),
                "--xanes",
                "--xanes-theory",
                "--candidates",
                &cands.display().to_string(),
                "--json",
            ])
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .output()
            .expect("carto");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    let first = run();
    assert_eq!(first["xanes_computed"], 2, "{}", first["skipped"]);
    assert_eq!(first["xanes_views"], 2);
    let near = nearest_of(&first, "cu_metal_rt.xdi");
    eprintln!("simulated: {near:?}");
    assert_eq!(near.len(), 2, "quartz has no Cu: {near:?}");
    assert_eq!(near[0].0, "copper_amcsd13088", "{near:?}");
    let second = run();
    assert_eq!(second["xanes_computed"], 0);
    assert_eq!(nearest_of(&second, "cu_metal_rt.xdi"), near);
    let _ = std::fs::remove_dir_all(&dir);
}
