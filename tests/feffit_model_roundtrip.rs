//! Fit model files written back by `model::to_toml` read as the same model
//! and give the same fit, for every committed model (tests/fixtures/feffit).

mod common;

use std::path::Path;

use carto::exafs::feffit::{Feffit, FitModel};
use carto::exafs::model::{normalize, parse_model, to_toml};

const MODELS: [&str; 7] = [
    "cu_1shell",
    "cu_1shell_chi",
    "cu_1shell_k",
    "cu_3shell",
    "cu_temps",
    "feo_2path",
    "znse_1shell",
];

/// Field by field (file names compared as the files they name).
fn assert_same(name: &str, a: &FitModel, a_base: &Path, b: &FitModel, b_base: &Path) {
    assert_eq!(a.params, b.params, "{name}: params");
    assert_eq!(a.datasets.len(), b.datasets.len(), "{name}: datasets");
    for (i, (x, y)) in a.datasets.iter().zip(&b.datasets).enumerate() {
        let at = format!("{name} dataset {i}");
        let (Some(sx), Some(sy)) = (&x.spec, &y.spec) else {
            panic!("{at}: no data spec");
        };
        assert_eq!(normalize(&sx.file), normalize(&sy.file), "{at}: data file");
        let strip = |s: &carto::exafs::model::DataSpec| carto::exafs::model::DataSpec {
            file: Default::default(),
            ..s.clone()
        };
        assert_eq!(strip(sx), strip(sy), "{at}: data spec");
        assert_eq!(x.transform, y.transform, "{at}: transform");
        assert_eq!(x.data.epsilon_k, y.data.epsilon_k, "{at}: epsilon_k");
        assert_eq!(x.data.k_inv_ang, y.data.k_inv_ang, "{at}: k");
        assert_eq!(x.data.chi, y.data.chi, "{at}: chi");
        assert_eq!(x.paths.len(), y.paths.len(), "{at}: paths");
        for (p, q) in x.paths.iter().zip(&y.paths) {
            assert_eq!(p.label, q.label, "{at}: path label");
            assert_eq!(
                normalize(&a_base.join(&p.file)),
                normalize(&b_base.join(&q.file)),
                "{at}: path file"
            );
            assert_eq!(p.feff, q.feff, "{at} {}: FEFF data", p.label);
            assert_eq!(p.values, q.values, "{at} {}: path values", p.label);
        }
    }
}

#[test]
fn written_models_read_back_the_same_and_fit_the_same() {
    let dir = common::fixture("feffit");
    let elsewhere = std::env::temp_dir().join(format!("carto-model-rt-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).expect("temp dir");
    for name in MODELS {
        let file = format!("{name}.toml");
        let text = common::feffit_model_text(name);
        let model = parse_model(&text, &dir, &file).unwrap_or_else(|e| panic!("{name}: {e}"));

        // Beside the original: same folder.
        let same = to_toml(&model, &dir, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = parse_model(&same, &dir, &file)
            .unwrap_or_else(|e| panic!("{name}: written model does not parse: {e}\n{same}"));
        assert_same(name, &model, &dir, &back, &dir);
        // Written again, the text is stable.
        let again = to_toml(&back, &dir, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(same, again, "{name}: second write differs");

        // Saved elsewhere: relative names follow the new folder.
        let moved = to_toml(&model, &dir, &elsewhere).unwrap_or_else(|e| panic!("{name}: {e}"));
        let back2 = parse_model(&moved, &elsewhere, &file)
            .unwrap_or_else(|e| panic!("{name}: moved model does not parse: {e}\n{moved}"));
        assert_same(name, &model, &dir, &back2, &elsewhere);

        let fit = |m: FitModel| {
            Feffit::new(m)
                .and_then(|f| f.fit(None))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
        };
        let (mut r1, mut r2) = (fit(model), fit(back2));
        // The path file names are as written (relative to another folder).
        for r in [&mut r1, &mut r2] {
            for ds in &mut r.datasets {
                for p in &mut ds.paths {
                    p.file.clear();
                }
            }
        }
        assert_eq!(r1.params, r2.params, "{name}: fitted parameters differ");
        assert_eq!(r1.stats, r2.stats, "{name}: fit statistics differ");
        assert!(r1 == r2, "{name}: fit results differ");
        eprintln!(
            "{name}: round trip ok, χ²_red = {:.6} both ways",
            r1.stats.chi2_reduced
        );
    }
    let _ = std::fs::remove_dir_all(&elsewhere);
}
