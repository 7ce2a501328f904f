//! Path σ² models against Larch: `sigma2_debye` (correlated Debye, FEFF6
//! sigms.f) and `sigma2_eins` evaluated through compiled expressions with
//! `PathContext::from_feff`, for single- and multiple-scattering FEFF paths
//! (tests/fixtures/sigma2/sigma2.json, tools/make_sigma2_fixtures.py).

mod common;

use std::collections::HashMap;

use carto::exafs::expr::{Expr, PathContext};
use carto::io::{Dataset, LoadOptions, load};

const RTOL: f64 = 1e-6;

#[test]
fn sigma2_models_match_larch() {
    let fx = common::json_fixture("sigma2/sigma2.json");
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 17, "{} cases", cases.len());
    let vars: HashMap<String, usize> = [("temp".to_string(), 0), ("theta".to_string(), 1)].into();
    let debye = Expr::compile("sigma2_debye(temp, theta)", &vars).expect("compiles");
    let eins = Expr::compile("sigma2_eins(temp, theta)", &vars).expect("compiles");
    let mut worst = (0.0f64, String::new());
    let mut n_ms = 0;
    for case in cases {
        let rel = case["file"].as_str().expect("file");
        let Dataset::Feff(feff) = load(&common::data(rel), &LoadOptions::default()).expect("load")
        else {
            panic!("{rel} is not a FEFF path")
        };
        assert_eq!(
            feff.nleg as u64,
            case["nleg"].as_u64().expect("nleg"),
            "{rel}"
        );
        n_ms += usize::from(feff.nleg > 2);
        let ctx = PathContext::from_feff(&feff);
        let geom = ctx.debye.as_deref().expect("geometry");
        assert_eq!(
            geom.rnorman_bohr(),
            case["rnorman"].as_f64().expect("rnorman")
        );
        assert_eq!(geom.masses_amu(), common::numbers(&case["masses"]), "{rel}");
        for v in case["values"].as_array().expect("values") {
            let (t, theta) = (
                v["T"].as_f64().expect("T"),
                v["theta"].as_f64().expect("theta"),
            );
            for (name, expr, larch) in [("debye", &debye, &v["debye"]), ("eins", &eins, &v["eins"])]
            {
                let larch = larch.as_f64().expect("value");
                let ours = expr.eval(&[t, theta], &ctx);
                let rel_diff = (ours / larch - 1.0).abs();
                assert!(
                    rel_diff < RTOL,
                    "{rel} T={t} theta={theta} {name}: {ours} vs Larch {larch} ({rel_diff:.2e})"
                );
                if rel_diff > worst.0 {
                    worst = (rel_diff, format!("{rel} T={t} theta={theta} {name}"));
                }
            }
        }
    }
    assert!(n_ms >= 5, "only {n_ms} multiple-scattering paths");
    eprintln!(
        "worst relative difference vs Larch: {:.3e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn default_context_gives_zero() {
    let vars: HashMap<String, usize> = [("temp".to_string(), 0), ("theta".to_string(), 1)].into();
    for text in ["sigma2_debye(temp, theta)", "sigma2_eins(temp, theta)"] {
        let e = Expr::compile(text, &vars).expect("compiles");
        assert_eq!(
            e.eval(&[300.0, 315.0], &PathContext::default()),
            0.0,
            "{text}"
        );
    }
}
