//! XANES analysis against Larch (tests/fixtures/xanes/larch_xanes.json, made
//! by tools/make_xanes_fixtures.py with xraylarch on the shared Athena
//! projects). Tolerances are the issue's: LCF weights within 0.005 absolute
//! and their uncertainties within 5 %, PCA explained variance within 0.1 %,
//! pre-edge centroid within 0.02 eV. Every group is normalized with Carto's
//! pre_edge at Larch's defaults; its e0 and edge step are checked against
//! Larch's first so a failure is located.

mod common;

use std::collections::HashMap;

use carto::io::athena;
use carto::xanes::{LcfFit, LcfParams, XanesArray, XanesGroup, lincombo_fit, lincombo_fitall};
use carto::xas::PreEdgeParams;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/xanes/larch_xanes.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every group of a shared Athena project, normalized, by label; e0 and the
/// edge step checked against Larch's where the fixture records them.
fn project(name: &str, fx: &Value) -> HashMap<String, XanesGroup> {
    let path = common::data(&format!("athena/{name}"));
    let prj = athena::read(&std::fs::read(&path).unwrap(), name).unwrap();
    let mut out = HashMap::new();
    for g in &prj.groups {
        if g.is_chi() {
            continue;
        }
        let Ok(s) = g.to_spectrum(name) else { continue };
        let Ok(x) = XanesGroup::from_mu(&g.label, &s.energy_ev, &s.mu, &PreEdgeParams::default())
        else {
            continue;
        };
        if let Some(n) = fx["normalization"].get(&g.label) {
            let e0 = n["e0"].as_f64().unwrap();
            let step = n["edge_step"].as_f64().unwrap();
            assert!(
                (x.e0_ev - e0).abs() < 1e-6,
                "{name} [{}]: e0 {} vs Larch {e0}",
                g.label,
                x.e0_ev
            );
            assert!(
                (x.edge_step - step).abs() < 1e-6 * step.abs(),
                "{name} [{}]: edge step {} vs Larch {step}",
                g.label,
                x.edge_step
            );
            assert_eq!(
                x.energy_ev.len() as u64,
                n["npts"].as_u64().unwrap(),
                "{}",
                g.label
            );
        }
        out.insert(g.label.clone(), x);
    }
    out
}

/// Weights within 0.005; stderr within 5 % for weights not pinned at a bound
/// (at a bound lmfit's stderr comes from the arcsin/sqrt transform's vanishing
/// gradient and is meaningless, e.g. 6e-13), and the fit statistics.
fn check_fit(case: &str, fit: &LcfFit, want: &Value, lo: f64, hi: f64) {
    for (name, w) in fit.standards.iter().zip(&fit.weights) {
        let r = &want["weights"][name];
        let value = r["value"].as_f64().unwrap();
        assert!(
            (w.value - value).abs() < 0.005,
            "{case}: weight of {name} {} vs Larch {value}",
            w.value
        );
        let pinned = value - lo < 1e-3 || hi - value < 1e-3;
        if let (Some(want_se), false) = (r["stderr"].as_f64(), pinned) {
            let Some(se) = w.stderr else {
                panic!("{case}: no stderr for {name}; Larch gives {want_se}")
            };
            assert!(
                (se - want_se).abs() <= 0.05 * want_se,
                "{case}: stderr of {name} {se} vs Larch {want_se}"
            );
        }
    }
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    for (what, got) in [
        ("chisqr", fit.chisqr),
        ("redchi", fit.redchi),
        ("rfactor", fit.rfactor),
    ] {
        let w = want[what].as_f64().unwrap();
        assert!(rel(got, w) < 0.02, "{case}: {what} {got} vs Larch {w}");
    }
    assert_eq!(
        fit.npts() as u64,
        want["npts"].as_u64().unwrap(),
        "{case}: npts"
    );
    let total = want["total"]["value"].as_f64().unwrap();
    assert!(
        (fit.total.value - total).abs() < 0.01,
        "{case}: total {} vs {total}",
        fit.total.value
    );
}

#[test]
fn lincombo_fit_matches_larch() {
    let fx = fixture();
    let groups = project("cyanobacteria.prj", &fx);
    for case in fx["lcf"].as_array().unwrap() {
        let sample = case["sample"].as_str().unwrap();
        let stds: Vec<&XanesGroup> = case["standards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &groups[s.as_str().unwrap()])
            .collect();
        let sum_to_one = case["sum_to_one"].as_bool().unwrap();
        let p = LcfParams {
            array: match case["arrayname"].as_str().unwrap() {
                "dmude" => XanesArray::Dmude,
                _ => XanesArray::Norm,
            },
            xmin_ev: case["xmin"].as_f64().unwrap(),
            xmax_ev: case["xmax"].as_f64().unwrap(),
            sum_to_one,
            vary_e0: case["vary_e0"].as_bool().unwrap(),
            ..LcfParams::default()
        };
        let fit = lincombo_fit(&groups[sample], &stds, None, &p).unwrap();
        let label = format!(
            "{sample} {} sum_to_one={sum_to_one} vary_e0={}",
            p.array.name(),
            p.vary_e0
        );
        let hi = if sum_to_one { 1.0 } else { f64::INFINITY };
        check_fit(&label, &fit, &case["result"], 0.0, hi);
        let e0 = &case["result"]["e0_shift"];
        assert!(
            (fit.e0_shift_ev.value - e0["value"].as_f64().unwrap()).abs() < 0.01,
            "{label}: e0 shift {} vs Larch {}",
            fit.e0_shift_ev.value,
            e0["value"]
        );
    }
}

#[test]
fn lincombo_fitall_matches_larch() {
    let fx = fixture();
    for case in fx["lcf_all"].as_array().unwrap() {
        let std_groups = project(case["standards_project"].as_str().unwrap(), &fx);
        let samples = project(case["project"].as_str().unwrap(), &fx);
        let stds: Vec<&XanesGroup> = case["standards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &std_groups[s.as_str().unwrap()])
            .collect();
        let p = LcfParams {
            xmin_ev: case["xmin"].as_f64().unwrap(),
            xmax_ev: case["xmax"].as_f64().unwrap(),
            max_ncomps: Some(case["max_ncomps"].as_u64().unwrap() as usize),
            min_weight: case["min_weight"].as_f64().unwrap(),
            max_output: 100,
            ..LcfParams::default()
        };
        let sample = case["sample"].as_str().unwrap();
        let ranked = lincombo_fitall(&samples[sample], &stds, &p).unwrap();
        let want = case["ranked"].as_array().unwrap();
        assert_eq!(
            ranked.len(),
            want.len(),
            "{sample}: number of kept combinations"
        );
        for (i, (fit, w)) in ranked.iter().zip(want).enumerate() {
            let mut names: Vec<&String> = fit.standards.iter().collect();
            let mut want_names: Vec<&String> = w["weights"].as_object().unwrap().keys().collect();
            names.sort();
            want_names.sort();
            assert_eq!(names, want_names, "{sample}: rank {i}");
            check_fit(&format!("{sample} rank {i}"), fit, w, 0.0, 1.0);
        }
    }
}

/// The app's LCF task counts fits through `lincombo_fitall_with`: it is
/// called once per fit (as many as `fitall_count` says), gives the same
/// ranking, and stops when told.
#[test]
fn lincombo_fitall_with_counts_every_fit_and_stops_when_told() {
    use carto::xanes::{fitall_count, lincombo_fitall_with};
    let fx = fixture();
    let case = &fx["lcf_all"][0];
    let std_groups = project(case["standards_project"].as_str().unwrap(), &fx);
    let samples = project(case["project"].as_str().unwrap(), &fx);
    let stds: Vec<&XanesGroup> = (case["standards"].as_array().unwrap().iter())
        .map(|s| &std_groups[s.as_str().unwrap()])
        .collect();
    let p = LcfParams {
        xmin_ev: case["xmin"].as_f64().unwrap(),
        xmax_ev: case["xmax"].as_f64().unwrap(),
        max_ncomps: Some(case["max_ncomps"].as_u64().unwrap() as usize),
        ..LcfParams::default()
    };
    let sample = &samples[case["sample"].as_str().unwrap()];
    let mut calls = 0u128;
    let counted = lincombo_fitall_with(sample, &stds, &p, &mut || {
        calls += 1;
        true
    })
    .unwrap();
    assert_eq!(calls, fitall_count(stds.len(), &p));
    assert_eq!(counted, lincombo_fitall(sample, &stds, &p).unwrap());
    let mut left = 3;
    let stopped = lincombo_fitall_with(sample, &stds, &p, &mut || {
        left -= 1;
        left > 0
    })
    .unwrap();
    assert!(left == 0 && stopped.len() <= 3, "{} fits", stopped.len());
}

fn carto(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_carto"))
        .args(args)
        .output()
        .expect("cannot start the carto binary")
}

/// `FILE:GROUP` arguments for the labels of a fixture list.
fn group_specs(prj: &str, labels: &Value) -> Vec<String> {
    labels
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{prj}:{}", s.as_str().unwrap()))
        .collect()
}

/// Run carto, assert success, parse its one JSON document.
fn carto_json(args: &[&str]) -> Value {
    let out = carto(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cli_lcf_json_matches_larch() {
    let fx = fixture();
    let case = &fx["lcf"][0];
    assert_eq!(case["sample"], "0.12");
    let prj = common::data("athena/cyanobacteria.prj")
        .display()
        .to_string();
    let stds = group_specs(&prj, &case["standards"]);
    let mut args = vec![
        "xanes", "lcf", &prj, "--group", "0.12", "--emax", "60", "--json",
    ];
    for s in &stds {
        args.extend(["--std", s]);
    }
    let v = carto_json(&args);
    assert_eq!(v["group"], "0.12");
    assert_eq!(v["fits"].as_array().unwrap().len(), 1);
    let fit = &v["fits"][0];
    assert_eq!(fit["npts"], case["result"]["npts"]);
    for w in fit["weights"].as_array().unwrap() {
        let name = w["standard"].as_str().unwrap();
        let want = case["result"]["weights"][name]["value"].as_f64().unwrap();
        assert!(
            (w["weight"].as_f64().unwrap() - want).abs() < 0.005,
            "{name}"
        );
    }

    // --all: ranked combinations, best first, as lincombo_fitall
    let mut all = args.clone();
    all.extend(["--all", "3", "--max-output", "5"]);
    let v = carto_json(&all);
    let fits = v["fits"].as_array().unwrap();
    assert!(!fits.is_empty() && fits.len() <= 5);
    let redchi: Vec<f64> = fits.iter().map(|f| f["redchi"].as_f64().unwrap()).collect();
    assert!(redchi.windows(2).all(|w| w[0] <= w[1]), "{redchi:?}");
}

#[test]
fn cli_lcf_errors_name_the_culprit() {
    let prj = common::data("athena/cyanobacteria.prj")
        .display()
        .to_string();
    let foil = format!("{prj}:Au foil");
    let missing = format!("{prj}:No such");
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec!["--group", "0.12", "--std", "/nonexistent.prj:Au foil"],
            "/nonexistent.prj",
        ),
        (vec!["--group", "0.12", "--std", &foil], "one standard"),
        (vec!["--group", "0.12", "--std", &missing], "No such"),
        (vec!["--group", "nope", "--std", &foil], "nope"),
        (
            vec![
                "--group", "0.12", "--std", &foil, "--emin", "10", "--emax", "5",
            ],
            "--emin",
        ),
    ];
    for (extra, culprit) in cases {
        let mut args = vec!["xanes", "lcf", &prj];
        args.extend(extra);
        let out = carto(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(culprit), "{args:?}: {err}");
    }
}

#[test]
fn prepeaks_match_larch() {
    use carto::xanes::{BaselineForm, PeakShape, PrePeakRange, fit_prepeaks, pre_edge_baseline};
    let fx = fixture();
    let mut projects: HashMap<String, HashMap<String, XanesGroup>> = HashMap::new();
    for case in fx["prepeaks"].as_array().unwrap() {
        let prj = case["project"].as_str().unwrap();
        let label = case["label"].as_str().unwrap();
        let groups = projects
            .entry(prj.to_owned())
            .or_insert_with(|| project(prj, &fx));
        let g = &groups[label];
        let f = |k: &str| case[k].as_f64().unwrap();
        let range = PrePeakRange {
            emin_ev: f("emin"),
            elo_ev: f("elo"),
            ehi_ev: f("ehi"),
            emax_ev: f("emax"),
        };
        let form = BaselineForm::parse(case["form"].as_str().unwrap()).unwrap();
        let base = pre_edge_baseline(g, form, range).unwrap();
        assert!(
            (base.centroid_ev - f("centroid")).abs() < 0.02,
            "{prj} [{label}]: pre-edge centroid {} vs Larch {}",
            base.centroid_ev,
            f("centroid")
        );
        // δ comes from lmfit's eval_uncertainty on an ill-conditioned baseline
        // (tail widths pinned at 0.05 eV): agreement in absolute eV only.
        assert!(
            (base.delta_centroid_ev - f("delta_centroid")).abs() < 0.005,
            "{prj} [{label}]: centroid uncertainty {} vs Larch {}",
            base.delta_centroid_ev,
            f("delta_centroid")
        );

        let pf = &case["peak_fit"];
        let starts: Vec<f64> = pf["peak_starts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let fit = fit_prepeaks(&base, PeakShape::Gaussian, &starts).unwrap();
        for (k, p) in fit.peaks.iter().enumerate() {
            let want = |name: &str| &pf["params"][format!("p{}_{name}", k + 1)];
            let want = |name: &str| want(name)["value"].as_f64().unwrap();
            let case = format!("{prj} [{label}] peak {}", k + 1);
            assert!(
                (p.center_ev.value - want("center")).abs() < 0.02,
                "{case}: center {:?}",
                p.center_ev
            );
            let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
            assert!(
                rel(p.amplitude.value, want("amplitude")) < 0.01,
                "{case}: area {:?}",
                p.amplitude
            );
            assert!(
                rel(p.sigma_ev.value, want("sigma")) < 0.01,
                "{case}: sigma {:?}",
                p.sigma_ev
            );
            let want_se = pf["params"][format!("p{}_amplitude", k + 1)]["stderr"]
                .as_f64()
                .unwrap();
            assert!(
                rel(p.amplitude.stderr.unwrap(), want_se) < 0.05,
                "{case}: area stderr {:?}",
                p.amplitude
            );
        }
        let redchi = pf["redchi"].as_f64().unwrap();
        assert!(
            (fit.redchi - redchi).abs() < 0.01 * redchi,
            "{prj} [{label}]: redchi {}",
            fit.redchi
        );
    }
}

/// Voigt peaks and step baselines (lmfit VoigtModel, StepModel arctan/erf)
/// against lmfit driven as Larch's pre-edge peak tool drives it: the baseline
/// alone (centroid within the 0.02 eV), then baseline + peaks with
/// the tool's fit_centroid (Σ A·c / Σ A) and total area, each with its
/// uncertainty propagated through the covariance.
#[test]
fn prepeak_voigt_and_step_baselines_match_lmfit() {
    use carto::xanes::{BaselineForm, PeakShape, PrePeakRange, fit_prepeaks, pre_edge_baseline};
    let fx = fixture();
    let mut projects: HashMap<String, HashMap<String, XanesGroup>> = HashMap::new();
    let cases = fx["prepeaks_forms"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    for case in cases {
        let prj = case["project"].as_str().unwrap();
        let label = case["label"].as_str().unwrap();
        let form_name = case["form"].as_str().unwrap();
        let groups = projects
            .entry(prj.to_owned())
            .or_insert_with(|| project(prj, &fx));
        let f = |k: &str| case[k].as_f64().unwrap();
        let range = PrePeakRange {
            emin_ev: f("emin"),
            elo_ev: f("elo"),
            ehi_ev: f("ehi"),
            emax_ev: f("emax"),
        };
        let form = BaselineForm::parse(form_name).unwrap();
        let base = pre_edge_baseline(&groups[label], form, range).unwrap();
        let pf = &case["peak_fit"];
        let shape_name = pf["shape"].as_str().unwrap();
        let id = format!("{prj} [{label}] {form_name} + {shape_name}");
        assert!(
            (base.centroid_ev - f("centroid")).abs() < 0.02,
            "{id}: baseline centroid {} vs Larch {}",
            base.centroid_ev,
            f("centroid")
        );
        assert!(
            rel(base.redchi, f("baseline_redchi")) < 1e-3,
            "{id}: baseline redchi {} vs {}",
            base.redchi,
            f("baseline_redchi")
        );
        for (name, p) in form.names().iter().zip(&base.params) {
            let want = case["baseline_params"][name]["value"].as_f64().unwrap();
            assert!(
                (p.value - want).abs() < 1e-3 * want.abs().max(1e-3),
                "{id}: baseline {name} {} vs {want}",
                p.value
            );
        }

        let shape = match shape_name {
            "gaussian" => PeakShape::Gaussian,
            "lorentzian" => PeakShape::Lorentzian,
            "voigt" => PeakShape::Voigt,
            other => panic!("{other}"),
        };
        let starts: Vec<f64> = pf["peak_starts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let fit = fit_prepeaks(&base, shape, &starts).unwrap();
        let want = |name: &str| -> (f64, f64) {
            let p = &pf["params"][name];
            (p["value"].as_f64().unwrap(), p["stderr"].as_f64().unwrap())
        };
        for (k, p) in fit.peaks.iter().enumerate() {
            let pk = |n: &str| want(&format!("p{}_{n}", k + 1));
            let id = format!("{id} peak {}", k + 1);
            assert!(
                (p.center_ev.value - pk("center").0).abs() < 0.02,
                "{id}: center {:?} vs {:?}",
                p.center_ev,
                pk("center")
            );
            for (name, got) in [
                ("amplitude", &p.amplitude),
                ("sigma", &p.sigma_ev),
                ("fwhm", &p.fwhm_ev),
                ("height", &p.height),
            ] {
                let (v, se) = pk(name);
                assert!(rel(got.value, v) < 0.01, "{id}: {name} {got:?} vs {v}");
                assert!(
                    rel(got.stderr.unwrap(), se) < 0.05,
                    "{id}: {name} stderr {got:?} vs {se}"
                );
            }
        }
        let (cen, dcen) = want("fit_centroid");
        assert!(
            (fit.centroid_ev.value - cen).abs() < 0.02,
            "{id}: fit centroid {:?} vs {cen}",
            fit.centroid_ev
        );
        assert!(
            rel(fit.centroid_ev.stderr.unwrap(), dcen) < 0.05,
            "{id}: fit centroid stderr {:?} vs {dcen}",
            fit.centroid_ev
        );
        let (area, darea) = want("fit_area");
        assert!(
            rel(fit.integrated_intensity.value, area) < 0.01,
            "{id}: area {:?} vs {area}",
            fit.integrated_intensity
        );
        assert!(
            rel(fit.integrated_intensity.stderr.unwrap(), darea) < 0.05,
            "{id}: area stderr {:?} vs {darea}",
            fit.integrated_intensity
        );
        let redchi = pf["redchi"].as_f64().unwrap();
        assert!(
            rel(fit.redchi, redchi) < 0.01,
            "{id}: redchi {} vs {redchi}",
            fit.redchi
        );
    }
}

#[test]
fn baseline_forms_parse_as_larch_orders_them() {
    use carto::xanes::BaselineForm;
    let f = BaselineForm::parse("linear+atan_step").unwrap();
    assert_eq!(
        f.names(),
        ["amplitude", "center", "sigma", "slope", "intercept"]
    );
    let f = BaselineForm::parse("erf_step+constant").unwrap();
    assert_eq!(f.names(), ["c", "amplitude", "center", "sigma"]);
    for bad in [
        "lorentzian+voigt",
        "linear+quadratic",
        "linear+spline",
        "a+b+c",
    ] {
        let err = BaselineForm::parse(bad).unwrap_err().to_string();
        assert!(err.contains(bad), "{bad}: {err}");
    }
}

#[test]
fn cli_peaks_json_matches_larch() {
    let fx = fixture();
    let case = fx["prepeaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "Hematite")
        .unwrap();
    let prj = common::data("athena/Fe.prj").display().to_string();
    let num = |k: &str| case[k].as_f64().unwrap().to_string();
    let (emin, elo, ehi, emax) = (num("emin"), num("elo"), num("ehi"), num("emax"));
    let mut args = vec![
        "xanes",
        "peaks",
        &prj,
        "--group",
        "Hematite",
        "--absolute",
        "--emin",
        &emin,
        "--elo",
        &elo,
        "--ehi",
        &ehi,
        "--emax",
        &emax,
        "--json",
    ];
    let starts: Vec<String> = case["peak_fit"]["peak_starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    for s in &starts {
        args.extend(["--peak", s]);
    }
    let v = carto_json(&args);
    let cen = v["centroid_ev"].as_f64().unwrap();
    assert!(
        (cen - case["centroid"].as_f64().unwrap()).abs() < 0.02,
        "{cen}"
    );
    let peaks = v["fit"]["peaks"].as_array().unwrap();
    assert_eq!(peaks.len(), 2);
    let c1 = peaks[0]["center_ev"]["value"].as_f64().unwrap();
    let want = case["peak_fit"]["params"]["p1_center"]["value"]
        .as_f64()
        .unwrap();
    assert!((c1 - want).abs() < 0.02, "{c1} vs {want}");

    // ranges that do not increase name the options
    let out = carto(&["xanes", "peaks", &prj, "--group", "Hematite", "--elo", "-1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--elo"));
}

#[test]
fn pca_matches_larch() {
    use carto::xanes::{pca_fit, pca_train};
    let fx = fixture();
    let case = &fx["pca"];
    let groups = project(case["project"].as_str().unwrap(), &fx);
    let train: Vec<&XanesGroup> = case["train"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &groups[s.as_str().unwrap()])
        .collect();
    let f = |k: &str| case[k].as_f64().unwrap();
    let model = pca_train(&train, XanesArray::Norm, f("xmin"), f("xmax")).unwrap();
    let arr = |k: &str| -> Vec<f64> {
        case[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    assert_eq!(model.energy_ev.len() as u64, case["npts"].as_u64().unwrap());
    // explained variance within 0.1 % (the last, zero by construction, absolutely)
    for (i, (got, want)) in model.variances.iter().zip(arr("variances")).enumerate() {
        let tol = if want.abs() > 1e-6 {
            1e-3 * want.abs()
        } else {
            1e-9
        };
        assert!(
            (got - want).abs() <= tol,
            "variance {i}: {got} vs Larch {want}"
        );
    }
    for (i, (got, want)) in model.eigenvalues.iter().zip(arr("eigenvalues")).enumerate() {
        assert!(
            (got - want).abs() <= 1e-6 * want.abs().max(1.0),
            "eigenvalue {i}: {got} vs {want}"
        );
    }
    for (i, (got, want)) in model.ind.iter().zip(arr("ind")).enumerate() {
        assert!(
            (got - want).abs() <= 1e-6 * want,
            "IND {i}: {got} vs {want}"
        );
    }
    assert_eq!(model.nsig as u64, case["nsig"].as_u64().unwrap());
    let m = arr("mean_first_mid_last");
    let n = model.mean.len();
    for (got, want) in [model.mean[0], model.mean[n / 2], model.mean[n - 1]]
        .iter()
        .zip(m)
    {
        assert!((got - want).abs() < 1e-9, "mean {got} vs {want}");
    }
    for t in case["targets"].as_array().unwrap() {
        let name = t["target"].as_str().unwrap();
        let ncomps = t["ncomps"].as_u64().unwrap() as usize;
        let r = pca_fit(&groups[name], &model, Some(ncomps), true).unwrap();
        let label = format!("{name} with {ncomps} components");
        let scale = t["data_scale"].as_f64().unwrap();
        assert!(
            (r.data_scale - scale).abs() < 1e-4 * scale,
            "{label}: scale {} vs {scale}",
            r.data_scale
        );
        let chi = t["chi_square"].as_f64().unwrap();
        assert!(
            (r.chi_square - chi).abs() < 1e-3 * chi,
            "{label}: χ² {} vs {chi}",
            r.chi_square
        );
        // Malinowski's target test against numpy's SVD in the tools script
        let tt = r.target_test.unwrap();
        let m = &t["malinowski"];
        for (name, got) in [
            ("re", tt.re),
            ("aet", tt.aet),
            ("rep", tt.rep),
            ("ret", tt.ret),
            ("spoil", tt.spoil),
        ] {
            let want = m[name].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-6 * want,
                "{label}: {name} {got} vs numpy {want}"
            );
        }
        // a component's sign is the eigen-solver's choice: compare magnitudes
        for (got, want) in r.weights.iter().zip(t["weights"].as_array().unwrap()) {
            let want = want.as_f64().unwrap();
            assert!(
                (got.abs() - want.abs()).abs() < 1e-4,
                "{label}: weight {got} vs {want}"
            );
        }
    }
}

/// With as many factors as spectra nothing is left to estimate the data's
/// error from: no SPOIL rather than a made-up one.
#[test]
fn target_test_needs_error_factors() {
    use carto::xanes::{pca_fit, pca_train};
    let fx = fixture();
    let case = &fx["pca"];
    let groups = project(case["project"].as_str().unwrap(), &fx);
    let train: Vec<&XanesGroup> = ["0.12", "9.33", "720"]
        .iter()
        .map(|s| &groups[*s])
        .collect();
    let f = |k: &str| case[k].as_f64().unwrap();
    let model = pca_train(&train, XanesArray::Norm, f("xmin"), f("xmax")).unwrap();
    let r = pca_fit(&groups["Au foil"], &model, Some(3), false).unwrap();
    assert!(r.target_test.is_none());
    // a training spectrum is reproduced by 2 of 3 factors far better than a
    // foreign standard
    let own = pca_fit(&groups["9.33"], &model, Some(2), false).unwrap();
    let foreign = pca_fit(&groups["Au hydroxide"], &model, Some(2), false).unwrap();
    let (own, foreign) = (own.target_test.unwrap(), foreign.target_test.unwrap());
    assert!(own.spoil < foreign.spoil, "{own:?} vs {foreign:?}");
}

#[test]
fn cli_pca_json_matches_larch() {
    let fx = fixture();
    let case = &fx["pca"];
    let prj = common::data("athena/cyanobacteria.prj")
        .display()
        .to_string();
    let specs = group_specs(&prj, &case["train"]);
    let (xmin, xmax) = (case["xmin"].to_string(), case["xmax"].to_string());
    let target = format!("{prj}:Au foil");
    let mut args = vec![
        "xanes",
        "pca",
        "--absolute",
        "--emin",
        &xmin,
        "--emax",
        &xmax,
        "--ncomps",
        "2",
        "--target",
        &target,
        "--json",
    ];
    for s in &specs {
        args.extend(["--train", s]);
    }
    let v = carto_json(&args);
    assert_eq!(v["nsig"], case["nsig"]);
    let got = v["variances"][0].as_f64().unwrap();
    let want = case["variances"][0].as_f64().unwrap();
    assert!((got - want).abs() < 1e-3 * want, "{got} vs {want}");
    let t = &case["targets"][0];
    assert_eq!(t["target"], "Au foil");
    let chi = v["targets"][0]["chi_square"].as_f64().unwrap();
    let want = t["chi_square"].as_f64().unwrap();
    assert!((chi - want).abs() < 1e-3 * want, "{chi} vs {want}");
    assert_eq!(t["ncomps"], v["targets"][0]["ncomps"]);
    let spoil = v["targets"][0]["target_test"]["spoil"].as_f64().unwrap();
    let want = t["malinowski"]["spoil"].as_f64().unwrap();
    assert!(
        (spoil - want).abs() < 1e-6 * want,
        "SPOIL {spoil} vs {want}"
    );

    let out = carto(&["xanes", "pca", "--train", &specs[0], "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--train"));
}

#[test]
fn edge_descriptors_follow_their_definitions() {
    use carto::numeric::interp::interp_clamped;
    use carto::xanes::{PrePeakRange, edge_descriptors};
    let fx = fixture();
    let case = fx["prepeaks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "Hematite")
        .unwrap();
    let groups = project("Fe.prj", &fx);
    let g = &groups["Hematite"];
    let f = |k: &str| case[k].as_f64().unwrap();
    let range = PrePeakRange {
        emin_ev: f("emin"),
        elo_ev: f("elo"),
        ehi_ev: f("ehi"),
        emax_ev: f("emax"),
    };
    let d = edge_descriptors(g, Some(range)).unwrap();
    assert_eq!((d.e0_ev, d.edge_step), (g.e0_ev, g.edge_step));
    let c = d.pre_edge_centroid_ev.unwrap();
    assert!((c - f("centroid")).abs() < 0.02, "{c}");
    // the white line is the largest norm in [e0, e0 + 30 eV]
    let window = g
        .energy_ev
        .iter()
        .zip(&g.norm)
        .filter(|(e, _)| **e >= g.e0_ev && **e <= g.e0_ev + 30.0);
    assert!(window.clone().all(|(_, n)| *n <= d.white_line_height));
    assert!(window.clone().any(|(e, _)| *e == d.white_line_energy_ev));
    let half = d.half_height_energy_ev.unwrap();
    let at = interp_clamped(&g.energy_ev, &g.norm, &[half])[0];
    assert!(
        (at - 0.5).abs() < 1e-9,
        "norm {at} at the half-height energy {half}"
    );
    assert!(half < d.white_line_energy_ev && half > g.e0_ev - 30.0);
}

/// Carto's extension beyond Larch: one energy shift per standard. A mixture
/// of two synthetic edges, one of them shifted by +1.5 eV, is recovered.
#[test]
fn per_standard_e0_shifts_recover_a_shifted_standard() {
    let energy: Vec<f64> = (0..400).map(|i| 8950.0 + 0.25 * i as f64).collect();
    let edge = |e0: f64, width: f64| -> Vec<f64> {
        energy
            .iter()
            .map(|e| 0.5 + ((e - e0) / width).atan() / std::f64::consts::PI)
            .collect()
    };
    let group = |label: &str, norm: Vec<f64>| XanesGroup {
        label: label.into(),
        dmude: carto::numeric::diff::deriv(&energy, &norm),
        energy_ev: energy.clone(),
        norm,
        e0_ev: 8990.0,
        edge_step: 1.0,
    };
    let a = group("a", edge(8985.0, 1.0));
    let b = group("b", edge(8995.0, 3.0));
    let a_shifted = edge(8986.5, 1.0);
    let mix: Vec<f64> = a_shifted
        .iter()
        .zip(&b.norm)
        .map(|(x, y)| 0.6 * x + 0.4 * y)
        .collect();
    let data = group("mix", mix);
    let p = LcfParams {
        xmin_ev: 8970.0,
        xmax_ev: 9020.0,
        vary_std_e0: true,
        ..LcfParams::default()
    };
    let fit = lincombo_fit(&data, &[&a, &b], None, &p).unwrap();
    let shifts = fit.std_e0_shifts_ev.as_ref().unwrap();
    assert!((shifts[0].value - 1.5).abs() < 1e-3, "{shifts:?}");
    assert!(shifts[1].value.abs() < 1e-3, "{shifts:?}");
    assert!(
        (fit.weights[0].value - 0.6).abs() < 1e-4,
        "{:?}",
        fit.weights
    );
    assert!(
        (fit.weights[1].value - 0.4).abs() < 1e-4,
        "{:?}",
        fit.weights
    );
    // without the shifts the same data fits worse
    let plain = lincombo_fit(
        &data,
        &[&a, &b],
        None,
        &LcfParams {
            vary_std_e0: false,
            ..p
        },
    )
    .unwrap();
    assert!(plain.redchi > 100.0 * fit.redchi);
}

/// `lincombo_fitall` is bounded by what it would run: 40 standards taken up
/// to 20 at a time (~10¹¹ fits) are refused at once, naming the count.
#[test]
fn fitall_refuses_a_combinatorial_explosion() {
    let energy: Vec<f64> = (0..50).map(|i| 8980.0 + i as f64).collect();
    let stds: Vec<XanesGroup> = (0..40)
        .map(|i| XanesGroup {
            label: format!("s{i}"),
            dmude: vec![0.0; energy.len()],
            energy_ev: energy.clone(),
            norm: energy
                .iter()
                .map(|e| ((e - 9000.0) / (1.0 + i as f64)).tanh())
                .collect(),
            e0_ev: 9000.0,
            edge_step: 1.0,
        })
        .collect();
    let refs: Vec<&XanesGroup> = stds.iter().collect();
    let p = LcfParams {
        xmin_ev: 8985.0,
        xmax_ev: 9025.0,
        max_ncomps: Some(20),
        ..LcfParams::default()
    };
    let t = std::time::Instant::now();
    let err = lincombo_fitall(&stds[0], &refs, &p).expect_err("refused");
    assert!(t.elapsed().as_secs() < 5, "refused at once");
    let msg = err.to_string();
    assert!(
        msg.contains("40 standards") && msg.contains("at most 100000"),
        "{msg}"
    );
}

/// A baseline with no more points than parameters is refused (no made-up
/// uncertainties): goethite has 4 points in 7100–7103 eV outside 7100.5–7102.5.
#[test]
fn cli_peaks_refuse_a_baseline_with_too_few_points() {
    let prj = common::data("athena/Fe.prj").display().to_string();
    let args = [
        "xanes",
        "peaks",
        &prj,
        "--group",
        "Goerthite",
        "--absolute",
        "--emin",
        "7100",
        "--elo",
        "7100.5",
        "--ehi",
        "7102.5",
        "--emax",
        "7103",
    ];
    let out = carto(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded");
    assert!(
        err.contains("4 points") && err.contains("5 baseline parameters"),
        "{err}"
    );
}
