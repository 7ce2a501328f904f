use super::*;

fn decay(p: &[f64], t: f64) -> f64 {
    p[0] * (-t / p[1]).exp() + p[2]
}

fn data() -> (Vec<f64>, Vec<f64>) {
    let t: Vec<f64> = (0..40).map(|i| i as f64 * 0.25).collect();
    let y = t
        .iter()
        .enumerate()
        .map(|(i, &t)| decay(&[3.0, 2.5, 0.4], t) + 0.01 * ((i * 7 % 11) as f64 - 5.0))
        .collect();
    (t, y)
}

#[test]
fn enorm_matches_plain_norm_and_survives_extremes() {
    let v = [3.0, 4.0];
    assert_eq!(enorm(&v), 5.0);
    assert!((enorm(&[1e-30, 1e-30]) - 2f64.sqrt() * 1e-30).abs() < 1e-44);
    assert!((enorm(&[1e200, 1e200]) / (2f64.sqrt() * 1e200) - 1.0).abs() < 1e-15);
    assert_eq!(enorm(&[]), 0.0);
}

#[test]
fn bound_transform_round_trips() {
    for (b, v) in [
        (Bound::Lower(1.0), 3.5),
        (Bound::Upper(-2.0), -7.0),
        (Bound::Both(-1.0, 4.0), 0.3),
        (Bound::None, 12.0),
    ] {
        let x = b.to_internal(v);
        assert!((b.to_external(x) - v).abs() < 1e-12);
        let h = 1e-7;
        let fd = (b.to_external(x + h) - b.to_external(x - h)) / (2.0 * h);
        assert!((fd - b.scale_gradient(x)).abs() < 1e-6);
    }
}

#[test]
fn user_jacobian_agrees_with_finite_differences() {
    let (t, y) = data();
    let m = t.len();
    let params = [
        LmParams::new(1.0),
        LmParams::bounded(1.0, 0.1, 10.0),
        LmParams::bounded(0.0, -1.0, f64::INFINITY),
    ];
    let resid = |p: &[f64], out: &mut [f64]| {
        for i in 0..m {
            out[i] = decay(p, t[i]) - y[i];
        }
    };
    let jac = |p: &[f64], out: &mut [f64]| {
        for i in 0..m {
            let e = (-t[i] / p[1]).exp();
            out[i] = e;
            out[m + i] = p[0] * e * t[i] / (p[1] * p[1]);
            out[2 * m + i] = 1.0;
        }
    };
    let o = LmOptions::default();
    let a = minimize(resid, &params, m, &o).expect("fd fit");
    let b = minimize_with_jacobian(resid, jac, &params, m, &o).expect("jac fit");
    assert!(a.success && b.success, "{} / {}", a.message, b.message);
    for k in 0..3 {
        assert!(
            (a.values[k] - b.values[k]).abs() < 1e-6 * a.values[k].abs().max(1.0),
            "{k}: {} vs {}",
            a.values[k],
            b.values[k]
        );
        let (sa, sb) = (a.stderr.as_ref().unwrap()[k], b.stderr.as_ref().unwrap()[k]);
        assert!((sa - sb).abs() < 1e-4 * sa, "{k}: {sa} vs {sb}");
    }
    assert!(b.nfev < a.nfev);
}

#[test]
fn errors_not_panics() {
    let o = LmOptions::default();
    let r = minimize(|_, out| out[0] = f64::NAN, &[LmParams::new(1.0)], 1, &o);
    assert!(matches!(r, Err(LmError::NonFiniteResidual { .. })));
    let r = minimize(|_, _| {}, &[LmParams::new(1.0), LmParams::new(2.0)], 1, &o);
    assert!(matches!(r, Err(LmError::TooFewResiduals { .. })));
    let r = minimize(|_, _| {}, &[LmParams::fixed(1.0)], 3, &o);
    assert_eq!(r, Err(LmError::NoVariables));
    let r = minimize(|_, _| {}, &[LmParams::bounded(1.0, 2.0, 2.0)], 3, &o);
    assert!(matches!(r, Err(LmError::InvalidParameter { .. })));
}
