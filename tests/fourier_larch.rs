//! xftf / xftr against Larch for every window, with phase and χ(q).
//! Reference: tests/fixtures/larch/ft.json (tools/make_ft_fixtures.py).

mod common;

use carto::xas::fourier::RParams;
use carto::xas::{FtParams, Window, xftf, xftr};
use num_complex::Complex64;
use serde_json::Value;

fn arr(v: &Value) -> Vec<f64> {
    common::numbers(v)
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
        / scale
}

#[test]
fn forward_and_back_transforms_match_larch() {
    let path = common::fixture("larch/ft.json");
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    let k = arr(&fx["k"]);
    let chi = arr(&fx["chi"]);
    for case in fx["cases"].as_array().expect("cases") {
        let fp = &case["xftf"];
        let name = fp["window"].as_str().expect("window");
        let p = FtParams {
            kmin: fp["kmin"].as_f64().expect("kmin"),
            kmax: fp["kmax"].as_f64().expect("kmax"),
            dk: fp["dk"].as_f64().expect("dk"),
            dk2: fp["dk2"].as_f64(),
            window: Window::from_name(name).expect("window name"),
            kweight: fp["kweight"].as_f64().expect("kweight"),
            with_phase: true,
            ..FtParams::default()
        };
        let r = xftf(&k, &chi, &p).expect("xftf");
        assert_eq!(r.r_ang.len(), arr(&case["r"]).len(), "{name}: r grid");
        for (key, ours) in [
            ("chir_mag", &r.chir_mag),
            ("chir_re", &r.chir_re),
            ("chir_im", &r.chir_im),
        ] {
            let d = max_rel_diff(ours, &arr(&case[key]));
            assert!(d < 1e-9, "{name}: {key} differs by {d:e} of its max");
        }
        // Phase only where |χ(R)| is not negligible (atan2 of noise is arbitrary).
        let pha = arr(&case["chir_pha"]);
        let mag = arr(&case["chir_mag"]);
        let big = mag.iter().fold(0.0f64, |m, v| m.max(*v));
        for i in 0..pha.len() {
            if mag[i] > 1e-3 * big {
                assert!(
                    (r.chir_pha[i] - pha[i]).abs() < 1e-6,
                    "{name}: phase at r={} {} vs {}",
                    r.r_ang[i],
                    r.chir_pha[i],
                    pha[i]
                );
            }
        }
        let bp = &case["xftr"];
        let rp = RParams {
            rmin: bp["rmin"].as_f64().expect("rmin"),
            rmax: bp["rmax"].as_f64().expect("rmax"),
            dr: bp["dr"].as_f64().expect("dr"),
            window: Window::from_name(bp["window"].as_str().expect("window")).expect("window"),
            ..RParams::default()
        };
        let chir: Vec<Complex64> = r
            .chir_re
            .iter()
            .zip(&r.chir_im)
            .map(|(&a, &b)| Complex64::new(a, b))
            .collect();
        let q = xftr(&r.r_ang, &chir, &rp).expect("xftr");
        let q_ref = arr(&case["q"]);
        assert_eq!(q.q_inv_ang.len(), q_ref.len(), "{name}: q grid");
        assert!(max_rel_diff(&q.q_inv_ang, &q_ref) < 1e-12);
        for (key, ours) in [
            ("chiq_mag", &q.chiq_mag),
            ("chiq_re", &q.chiq_re),
            ("chiq_im", &q.chiq_im),
        ] {
            let d = max_rel_diff(ours, &arr(&case[key]));
            assert!(d < 1e-9, "{name}: {key} differs by {d:e} of its max");
        }
    }
}
