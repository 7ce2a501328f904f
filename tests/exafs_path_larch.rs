//! χ(k) of single FEFF paths against Larch's path2chi for several parameter
//! sets (tests/fixtures/larch/paths.json, tools/make_path_fixtures.py).

mod common;

use carto::exafs::{PathModel, PathParams};
use carto::io::{Dataset, LoadOptions, load};
use serde_json::Value;

fn arr(v: &Value) -> Vec<f64> {
    common::numbers(v)
}

#[test]
fn reduced_masses_match_larch() {
    for (rel, rmass) in [
        ("feff/cu/feff0001.dat", 31.773000000000003),
        ("feff/feo_pb/feff_FeO_215.dat", 12.436169408718891),
    ] {
        let Dataset::Feff(feff) = load(&common::data(rel), &LoadOptions::default()).expect("load")
        else {
            panic!("{rel}")
        };
        let m = PathModel::new(&feff).expect("model").rmass_amu;
        assert!((m - rmass).abs() < 1e-9, "{rel}: {m} vs Larch {rmass}");
    }
}

#[test]
fn path_chi_matches_larch() {
    let path = common::fixture("larch/paths.json");
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 12);
    for case in cases {
        let rel = case["file"].as_str().expect("file");
        let Dataset::Feff(feff) = load(&common::data(rel), &LoadOptions::default()).expect("load")
        else {
            panic!("{rel} is not a FEFF path")
        };
        let model = PathModel::new(&feff).expect("path model");
        assert!((model.reff_ang - case["reff"].as_f64().expect("reff")).abs() < 1e-9);
        let pj = &case["params"];
        let get = |k: &str, d: f64| pj[k].as_f64().unwrap_or(d);
        let p = PathParams {
            s02: get("s02", 1.0),
            e0: get("e0", 0.0),
            ei: get("ei", 0.0),
            deltar: get("deltar", 0.0),
            sigma2: get("sigma2", 0.0),
            third: get("third", 0.0),
            fourth: get("fourth", 0.0),
            degen: pj["degen"].as_f64(),
        };
        let k = arr(&case["k"]);
        assert_eq!(model.default_k(20.0, 0.05).len(), k.len(), "{rel}: k grid");
        let out = model.chi(&k, &p).expect("chi");
        for (name, ours, theirs) in [
            ("chi", &out.chi, arr(&case["chi"])),
            ("chi_imag", &out.chi_imag, arr(&case["chi_imag"])),
        ] {
            let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let worst = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= 1e-8 * scale,
                "{rel} {pj}: {name} differs by {worst:e} (max |χ| {scale:e})"
            );
        }
    }
}
