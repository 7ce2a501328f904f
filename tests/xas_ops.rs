//! merge / energy_align / deglitch / rebin_xafs against Larch 2026.3 on real
//! data; the reference numbers come from tools/make_ops_fixtures.py.

mod common;

use carto::xas::XasError;
use carto::xas::align::{AlignArray, AlignParams, energy_align};
use carto::xas::deglitch::{
    DeglitchParams, PointSelection, SpikeBackend, SpikeParams, deglitch, remove_spikes,
};
use carto::xas::merge::{InterpKind, MergeParams, merge};
use carto::xas::rebin::{RebinMethod, RebinParams, SortParams, rebin_xafs, sort_xafs};
use serde_json::Value;

/// Whitespace-separated numeric columns, `#` lines skipped (column-major).
fn columns(rel: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(common::data(rel)).unwrap();
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for (i, tok) in line.split_whitespace().enumerate() {
            if cols.len() <= i {
                cols.push(Vec::new());
            }
            cols[i].push(tok.parse().unwrap());
        }
    }
    cols
}

fn cu(name: &str) -> (Vec<f64>, Vec<f64>) {
    let c = columns(&format!("xas/columns/{name}.xmu"));
    (c[0].clone(), c[1].clone())
}

/// μ = Sum_Fe_Ka / I0 (columns 8 and 3), as the fixture script builds it.
fn fexanes(tag: &str) -> (Vec<f64>, Vec<f64>) {
    let c = columns(&format!("xas/series/fexanes_{tag}.001"));
    let mu = c[7].iter().zip(&c[2]).map(|(f, i0)| f / i0).collect();
    (c[0].clone(), mu)
}

/// (energy, μ) of one scan.
type Scan<'a> = (&'a [f64], &'a [f64]);
/// (fixture key, μ, backend, kernel_size, threshold).
type SpikeCase<'a> = (&'a str, &'a [f64], SpikeBackend, usize, Option<f64>);

fn fixture() -> Value {
    let path = common::fixture("ops/larch_ops.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run tools/make_ops_fixtures.py)", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Array from the fixture; JSON null stands for Larch's NaN.
fn arr(v: &Value) -> Vec<f64> {
    common::numbers(v)
}

/// Largest |a − b| / (|b| + floor), NaN positions required to agree.
fn max_rel(what: &str, a: &[f64], b: &[f64], floor: f64) -> f64 {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let mut worst = 0.0f64;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.is_nan(), y.is_nan(), "{what}[{i}]: carto {x}, larch {y}");
        if !y.is_nan() {
            worst = worst.max((x - y).abs() / (y.abs() + floor));
        }
    }
    worst
}

fn max_abs(what: &str, a: &[f64], b: &[f64]) -> f64 {
    max_rel(what, a, b, 1.0e300) * 1.0e300
}

#[test]
fn merge_matches_larch() {
    let fx = fixture();
    let f: Vec<_> = ["a", "b", "c", "d", "e"].map(fexanes).into();
    let (c10, c50) = (cu("cu_10k"), cu("cu_50k"));
    let five: Vec<Scan> = f.iter().map(|(e, m)| (&e[..], &m[..])).collect();
    let cases: [(&str, Vec<Scan>); 4] = [
        ("fexanes_abcde", five.clone()),
        ("fexanes_abcde_master_c", five),
        ("cu_10k_50k", vec![(&c10.0, &c10.1), (&c50.0, &c50.1)]),
        ("cu_50k_10k", vec![(&c50.0, &c50.1), (&c10.0, &c10.1)]),
    ];
    for (name, spectra) in cases {
        let want = &fx["merge"][name];
        let master = want["master"].as_u64().unwrap() as usize;
        let got = merge(&spectra, master, &MergeParams::default()).unwrap();
        assert_eq!(got.n_spectra, spectra.len());
        assert_eq!(got.kind, InterpKind::Cubic);
        let de = max_abs(name, &got.energy_ev, &arr(&want["energy"]));
        let wmu = arr(&want["mu"]);
        let scale = wmu.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let dmu = max_rel(name, &got.mu, &wmu, 0.0);
        let dstd = max_abs(name, &got.mu_std, &arr(&want["mu_std"])) / scale;
        eprintln!("merge {name}: |ΔE| {de:.1e} eV, rel Δμ {dmu:.1e}, Δstd/max μ {dstd:.1e}");
        assert!(de <= 1e-9, "{name}: energy grid off by {de}");
        assert!(dmu <= 1e-9, "{name}: merged mu off by {dmu} relative");
        assert!(dstd <= 1e-9, "{name}: mu_std off by {dstd} of max mu");
        for (s, e) in got.mu_std.iter().zip(&got.mu_stderr) {
            assert!((s / (spectra.len() as f64).sqrt() - e).abs() <= 1e-15);
        }
    }
}

#[test]
fn merge_falls_back_to_linear_as_larch() {
    let fx = fixture();
    let want = &fx["merge"]["cu_10k_50k_dup300"];
    let (e10, m10) = cu("cu_10k");
    let (mut e50, m50) = cu("cu_50k");
    e50[300] = e50[299];
    let got = merge(&[(&e10, &m10), (&e50, &m50)], 0, &MergeParams::default()).unwrap();
    assert_eq!(got.kind, InterpKind::Linear);
    let de = max_abs("dup", &got.energy_ev, &arr(&want["energy"]));
    let dmu = max_rel("dup", &got.mu, &arr(&want["mu"]), 0.0);
    let dstd = max_abs("dup", &got.mu_std, &arr(&want["mu_std"]));
    eprintln!("merge dup300 (linear): |ΔE| {de:.1e}, rel Δμ {dmu:.1e}, |Δstd| {dstd:.1e}");
    assert!(de <= 1e-9 && dmu <= 1e-9 && dstd <= 1e-9);
}

#[test]
fn merge_of_one_scan_is_that_scan() {
    let (e, m) = cu("cu_10k");
    let got = merge(&[(&e, &m)], 0, &MergeParams::default()).unwrap();
    // Larch's trim slice drops the last point
    assert_eq!(got.energy_ev, e[..e.len() - 1]);
    for (a, b) in got.mu.iter().zip(&m) {
        assert!((a - b).abs() <= 1e-12 * b.abs());
    }
    assert!(got.mu_std.iter().all(|&s| s == 0.0));
    let lin = MergeParams {
        kind: InterpKind::Linear,
        trim: false,
    };
    let got = merge(&[(&e, &m), (&e, &m)], 1, &lin).unwrap();
    assert_eq!(got.energy_ev, e);
    assert_eq!(got.kind, InterpKind::Linear);
}

#[test]
fn align_matches_larch() {
    let fx = fixture();
    let (e10, m10) = cu("cu_10k");
    let (e50, m50) = cu("cu_50k");
    let cases: [(&str, Vec<f64>, &[f64]); 3] = [
        ("cu_50k_to_cu_10k", e50.clone(), &m50),
        (
            "cu_10k_plus_1.7_to_cu_10k",
            e10.iter().map(|e| e + 1.7).collect(),
            &m10,
        ),
        (
            "cu_50k_minus_2.3_to_cu_10k",
            e50.iter().map(|e| e - 2.3).collect(),
            &m50,
        ),
    ];
    for (name, e, m) in cases {
        let want = &fx["align"][name];
        let e0 = want["ref_e0"].as_f64().unwrap();
        let larch = want["eshift"].as_f64().unwrap();
        let got = energy_align(&e, m, &e10, &m10, e0, &AlignParams::default()).unwrap();
        let d = (got.eshift_ev - larch).abs();
        eprintln!(
            "align {name}: carto {:.6} eV, larch {larch:.6} eV, |Δ| {d:.1e} eV ({} evals)",
            got.eshift_ev, got.nfev
        );
        // the brief asks for 0.05 eV; the fits agree far better, so guard tighter
        assert!(
            d <= 1e-3,
            "{name}: shift {} vs Larch {larch}",
            got.eshift_ev
        );
    }
}

#[test]
fn align_on_mu_recovers_a_known_shift() {
    let (e, m) = cu("cu_10k");
    let shifted: Vec<f64> = e.iter().map(|v| v - 0.8).collect();
    let p = AlignParams {
        array: AlignArray::Mu,
        ..AlignParams::default()
    };
    let got = energy_align(&shifted, &m, &e, &m, 8977.58, &p).unwrap();
    assert!((got.eshift_ev - 0.8).abs() < 1e-3, "{}", got.eshift_ev);
    assert!((got.scale - 1.0).abs() < 1e-3);
}

#[test]
fn rebin_matches_larch() {
    let fx = fixture();
    for name in ["cu_10k", "cu_50k"] {
        let want = &fx["rebin"][name];
        let (e, m) = cu(name);
        let e0 = want["e0"].as_f64().unwrap();
        for (method, key) in [
            (RebinMethod::Boxcar, "mu_boxcar"),
            (RebinMethod::Centroid, "mu_centroid"),
            (RebinMethod::Spline, "mu_spline"),
        ] {
            let p = RebinParams {
                e0: Some(e0),
                method,
                ..RebinParams::default()
            };
            let got = rebin_xafs(&e, &m, &p).unwrap();
            let de = max_abs(name, &got.energy_ev, &arr(&want["energy"]));
            let dmu = max_rel(name, &got.mu, &arr(&want[key]), 0.0);
            let dd = max_abs(name, &got.delta_mu, &arr(&want["delta_mu"]));
            eprintln!(
                "rebin {name} {key}: {} pts, |ΔE| {de:.1e} eV, rel Δμ {dmu:.1e}, |Δδμ| {dd:.1e}",
                got.energy_ev.len()
            );
            assert!(de <= 1e-9, "{name}: grid off by {de} eV");
            // boxcar and centroid differ by only ~4e-7 here, so 1e-6 would not tell them apart
            assert!(dmu <= 1e-9, "{name} {key}: mu off by {dmu} relative");
            assert!(dd <= 1e-9, "{name}: delta_mu off by {dd}");
        }
    }
    let want = &fx["rebin"]["cu_10k_custom"];
    let kw = &want["params"];
    let g = |k: &str| kw[k].as_f64().unwrap();
    let (e, m) = cu("cu_10k");
    let p = RebinParams {
        e0: Some(want["e0"].as_f64().unwrap()),
        pre1: Some(g("pre1")),
        pre2: g("pre2"),
        pre_step: g("pre_step"),
        xanes_step: Some(g("xanes_step")),
        exafs1: g("exafs1"),
        exafs2: Some(g("exafs2")),
        exafs_kstep: g("exafs_kstep"),
        method: RebinMethod::Centroid,
    };
    let got = rebin_xafs(&e, &m, &p).unwrap();
    let de = max_abs("custom", &got.energy_ev, &arr(&want["energy"]));
    let dmu = max_rel("custom", &got.mu, &arr(&want["mu_centroid"]), 0.0);
    eprintln!("rebin custom: |ΔE| {de:.1e} eV, rel Δμ {dmu:.1e}");
    assert!(de <= 1e-9 && dmu <= 1e-9);
}

#[test]
fn remove_spikes_matches_larch() {
    let fx = fixture();
    let deg = &fx["deglitch"];
    let (_, clean) = cu("cu_10k");
    let mut spiky = clean.clone();
    for (i, f) in deg["spikes"].as_object().unwrap() {
        spiky[i.parse::<usize>().unwrap()] *= f.as_f64().unwrap();
    }
    let (_, fx_a) = fexanes("a");
    let cases: [SpikeCase; 6] = [
        ("silx_cu_10k_spiky", &spiky, SpikeBackend::Silx, 3, None),
        (
            "silx_cu_10k_spiky_k5_t0.02",
            &spiky,
            SpikeBackend::Silx,
            5,
            Some(0.02),
        ),
        ("silx_fexanes_a", &fx_a, SpikeBackend::Silx, 3, None),
        ("scipy_cu_10k_spiky", &spiky, SpikeBackend::Scipy, 3, None),
        (
            "scipy_cu_10k_spiky_w5_t0.05",
            &spiky,
            SpikeBackend::Scipy,
            5,
            Some(0.05),
        ),
        (
            "numpy_cu_10k_spiky_w5_t0.05",
            &spiky,
            SpikeBackend::Numpy,
            5,
            Some(0.05),
        ),
    ];
    for (name, mu, backend, kernel_size, threshold) in cases {
        let want = &deg[name];
        let p = SpikeParams {
            backend,
            kernel_size,
            threshold,
        };
        let got = remove_spikes(mu, &p).unwrap();
        let idx: Vec<usize> = want["indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(got.replaced, idx, "{name}");
        let vals: Vec<f64> = idx.iter().map(|&i| got.mu[i]).collect();
        assert_eq!(vals, arr(&want["values"]), "{name}");
    }
    // the silx filter finds exactly the three large spikes it was given
    let got = remove_spikes(&spiky, &SpikeParams::default()).unwrap();
    assert_eq!(got.replaced, vec![100, 250, 400]);
}

#[test]
fn point_removal_matches_larch_deglitch_window() {
    let fx = fixture();
    let want = &fx["deglitch"]["remove_cu_10k"];
    let (e, m) = cu("cu_10k");
    let mut remove = Vec::new();
    for op in want["ops"].as_array().unwrap() {
        let v = |i: usize| op[i].as_f64().unwrap();
        remove.push(match op[0].as_str().unwrap() {
            "energy" => PointSelection::Energy { energy_ev: v(1) },
            "above" => PointSelection::Above { energy_ev: v(1) },
            "below" => PointSelection::Below { energy_ev: v(1) },
            "between" => PointSelection::Between {
                energy1_ev: v(1),
                energy2_ev: v(2),
            },
            other => panic!("unknown op {other}"),
        });
    }
    let kept: Vec<usize> = want["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let p = DeglitchParams {
        remove,
        replace: false,
    };
    let got = deglitch(&e, &m, &p).unwrap();
    let want_e: Vec<f64> = kept.iter().map(|&i| e[i]).collect();
    let want_mu: Vec<f64> = kept.iter().map(|&i| m[i]).collect();
    assert_eq!(got.energy_ev, want_e);
    assert_eq!(got.mu, want_mu);
    assert_eq!(got.removed.len() + kept.len(), e.len());
}

#[test]
fn deglitch_replace_interpolates_removed_points() {
    let (e, mut m) = cu("cu_10k");
    let clean = m[300];
    m[300] *= 1.4;
    let p = DeglitchParams {
        remove: vec![PointSelection::Index { index: 300 }],
        replace: true,
    };
    let got = deglitch(&e, &m, &p).unwrap();
    assert_eq!(got.energy_ev, e);
    assert_eq!(got.removed, vec![300]);
    assert_eq!(got.removed_energies_ev, vec![e[300]]);
    let t = (e[300] - e[299]) / (e[301] - e[299]);
    let lin = m[299] + t * (m[301] - m[299]);
    assert!((got.mu[300] - lin).abs() < 1e-12);
    assert!((got.mu[300] - clean).abs() < 0.01 * clean);
    // the same point by energy, nearest match
    let p = DeglitchParams {
        remove: vec![PointSelection::Energy {
            energy_ev: e[300] + 0.1,
        }],
        replace: false,
    };
    let got = deglitch(&e, &m, &p).unwrap();
    assert_eq!(got.energy_ev.len(), e.len() - 1);
    assert!(!got.energy_ev.contains(&e[300]));
}

#[test]
fn sort_xafs_sorts_and_fixes_repeats() {
    let e = [3.0, 1.0, 2.0, 2.0, f64::NAN, 4.0];
    let m = [30.0, 10.0, 20.0, 21.0, 99.0, f64::NAN];
    let (se, sm) = sort_xafs(&e, &m, &SortParams::default()).unwrap();
    assert_eq!(se, vec![1.0, 2.0, 2.0005, 3.0]);
    assert_eq!(sm, vec![10.0, 20.0, 21.0, 30.0]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let (e, m) = cu("cu_10k");
    let short = &m[..m.len() - 1];
    let rp = RebinParams {
        e0: Some(8977.58),
        ..RebinParams::default()
    };

    // unequal lengths
    assert!(matches!(
        merge(&[(&e, short)], 0, &MergeParams::default()),
        Err(XasError::Length(_))
    ));
    assert!(matches!(
        rebin_xafs(&e, short, &rp),
        Err(XasError::Length(_))
    ));
    assert!(matches!(
        energy_align(&e, short, &e, &m, 8977.58, &AlignParams::default()),
        Err(XasError::Length(_))
    ));
    assert!(matches!(
        deglitch(&e, short, &DeglitchParams::default()),
        Err(XasError::Length(_))
    ));

    // NaN
    let mut nan = m.clone();
    nan[10] = f64::NAN;
    assert!(matches!(
        rebin_xafs(&e, &nan, &rp),
        Err(XasError::NonFinite { index: 10, .. })
    ));
    assert!(matches!(
        merge(&[(&e, &m), (&e, &nan)], 0, &MergeParams::default()),
        Err(XasError::NonFinite { .. })
    ));
    assert!(matches!(
        remove_spikes(&nan, &SpikeParams::default()),
        Err(XasError::NonFinite { .. })
    ));
    assert!(matches!(
        energy_align(&e, &m, &e, &m, f64::NAN, &AlignParams::default()),
        Err(XasError::BadParam { .. })
    ));

    // too few points / nothing to merge / bad master
    assert!(matches!(
        merge(&[], 0, &MergeParams::default()),
        Err(XasError::TooFewPoints(_))
    ));
    assert!(matches!(
        merge(&[(&e, &m)], 3, &MergeParams::default()),
        Err(XasError::BadParam { name: "master", .. })
    ));
    assert!(matches!(
        merge(&[(&e[..3], &m[..3])], 0, &MergeParams::default()),
        Err(XasError::TooFewPoints(_))
    ));
    assert!(matches!(
        rebin_xafs(&e[..1], &m[..1], &rp),
        Err(XasError::TooFewPoints(_))
    ));
    assert!(matches!(
        remove_spikes(&m[..2], &SpikeParams::default()),
        Err(XasError::TooFewPoints(_))
    ));

    // scans that do not overlap
    let far: Vec<f64> = e.iter().map(|v| v + 1e5).collect();
    assert!(matches!(
        merge(&[(&e, &m), (&far, &m)], 0, &MergeParams::default()),
        Err(XasError::TooFewPoints(_))
    ));

    // decreasing energies
    let mut rev = e.clone();
    rev.swap(5, 6);
    assert!(matches!(
        rebin_xafs(&rev, &m, &rp),
        Err(XasError::NotMonotonic { index: 6, .. })
    ));
    assert!(matches!(
        merge(&[(&e, &m), (&rev, &m)], 0, &MergeParams::default()),
        Err(XasError::NotMonotonic { .. })
    ));

    // absurd rebin parameters
    for p in [
        RebinParams {
            e0: None,
            ..rp.clone()
        },
        RebinParams {
            pre_step: -2.0,
            ..rp.clone()
        },
        RebinParams {
            exafs_kstep: 0.0,
            ..rp.clone()
        },
        RebinParams {
            xanes_step: Some(f64::INFINITY),
            ..rp.clone()
        },
        RebinParams {
            e0: Some(f64::NAN),
            ..rp.clone()
        },
        RebinParams {
            xanes_step: Some(1e-12),
            ..rp.clone()
        },
        RebinParams {
            pre1: Some(5000.0),
            ..rp.clone()
        },
    ] {
        assert!(
            matches!(rebin_xafs(&e, &m, &p), Err(XasError::BadParam { .. })),
            "{p:?}"
        );
    }

    // alignment range outside the reference data
    let p = AlignParams {
        emin: -1e6,
        emax: 2e6,
        ..AlignParams::default()
    };
    assert!(matches!(
        energy_align(&e, &m, &e, &m, 8977.58, &p),
        Err(XasError::BadParam { .. })
    ));

    // deglitch selections
    let p = DeglitchParams {
        remove: vec![PointSelection::Index { index: e.len() }],
        replace: false,
    };
    assert!(matches!(
        deglitch(&e, &m, &p),
        Err(XasError::BadParam { .. })
    ));
    let p = DeglitchParams {
        remove: vec![PointSelection::Above { energy_ev: 0.0 }],
        replace: true,
    };
    assert!(matches!(
        deglitch(&e, &m, &p),
        Err(XasError::TooFewPoints(_))
    ));
    let p = DeglitchParams {
        remove: vec![PointSelection::Energy {
            energy_ev: f64::NAN,
        }],
        replace: false,
    };
    assert!(matches!(
        deglitch(&e, &m, &p),
        Err(XasError::BadParam { .. })
    ));
    for p in [
        SpikeParams {
            threshold: Some(-1.0),
            ..SpikeParams::default()
        },
        SpikeParams {
            kernel_size: 10_000,
            ..SpikeParams::default()
        },
    ] {
        assert!(matches!(
            remove_spikes(&m, &p),
            Err(XasError::BadParam { .. })
        ));
    }
}

#[test]
fn params_round_trip_with_larch_names() {
    let p: RebinParams =
        serde_json::from_str(r#"{"e0": 8979.0, "pre_step": 1.0, "method": "centroid"}"#).unwrap();
    assert_eq!(p.e0, Some(8979.0));
    assert_eq!(p.pre2, -30.0);
    assert_eq!(p.exafs_kstep, 0.05);
    assert_eq!(p.method, RebinMethod::Centroid);
    let m: MergeParams = serde_json::from_str(r#"{"kind": "linear"}"#).unwrap();
    assert!(m.trim);
    let d: DeglitchParams = serde_json::from_str(
        r#"{"remove": [{"kind": "between", "energy1_ev": 9000, "energy2_ev": 9010}]}"#,
    )
    .unwrap();
    assert!(!d.replace);
    let a: AlignParams = serde_json::from_str(r#"{"array": "norm"}"#).unwrap();
    assert_eq!((a.emin, a.emax), (-15.0, 35.0));
    let s = serde_json::to_string(&SpikeParams::default()).unwrap();
    assert!(s.contains(r#""backend":"silx""#), "{s}");
}

/// xorshift64*: deterministic noise for the no-panic sweep.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick(&mut self, n: usize) -> usize {
        (self.next() * n as f64) as usize % n.max(1)
    }
    fn rare(&mut self) -> bool {
        self.pick(6) == 0
    }
    /// Mostly sane scans; one in six has a duplicate, tiny or huge step,
    /// a swapped pair or a NaN.
    fn energies(&mut self, n: usize, start: f64) -> Vec<f64> {
        let mut e = 0.0;
        let mut v: Vec<f64> = (0..n)
            .map(|_| {
                e += 0.5 + 3.0 * self.next();
                start + e
            })
            .collect();
        if self.rare() && n > 3 {
            let i = 1 + self.pick(n - 2);
            match self.pick(5) {
                0 => v[i] = v[i - 1],
                1 => v[i] = v[i - 1] + 1e-9,
                2 => v.swap(i, i + 1),
                3 => v[i] = f64::NAN,
                _ => v.iter_mut().skip(i).for_each(|x| *x += 500.0),
            }
        }
        v
    }
    /// `sane` most of the time, otherwise something odd.
    fn param(&mut self, sane: f64) -> f64 {
        if self.rare() {
            [
                0.0,
                -1.0,
                1e300,
                -1e6,
                f64::INFINITY,
                1e-9,
                400.0,
                3.0 * sane,
            ][self.pick(8)]
        } else {
            sane
        }
    }
    fn opt(&mut self, sane: f64) -> Option<f64> {
        if self.rare() {
            Some(self.param(sane))
        } else {
            None
        }
    }
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = [0usize; 5];
    for _ in 0..3000 {
        let n = if rng.rare() {
            rng.pick(8)
        } else {
            20 + rng.pick(200)
        };
        let start = if rng.rare() {
            [0.0, -50.0, 1e12][rng.pick(3)]
        } else {
            8900.0
        };
        let e = rng.energies(n, start);
        let extra = if rng.rare() { 1 } else { 0 };
        let m: Vec<f64> = (0..n + extra)
            .map(|i| (i as f64 * 0.3).sin() + 0.05 * rng.next() + (i > n / 3) as u8 as f64)
            .collect();
        let n2 = n + rng.pick(5);
        let jitter = 3.0 * rng.next();
        let start2 = start + rng.param(jitter);
        let e2 = rng.energies(n2, start2);
        let m2: Vec<f64> = (0..n2)
            .map(|i| (i as f64 * 0.3).sin() + 0.05 * rng.next() + (i > n / 3) as u8 as f64)
            .collect();
        let e0 = e.get(n / 3).copied().unwrap_or(0.0) + rng.param(0.0);
        let kind = if rng.pick(2) == 0 {
            InterpKind::Cubic
        } else {
            InterpKind::Linear
        };
        let master = if rng.rare() { 2 } else { rng.pick(2) };
        let trim = !rng.rare();
        ok[0] +=
            merge(&[(&e, &m), (&e2, &m2)], master, &MergeParams { kind, trim }).is_ok() as usize;
        let p = AlignParams {
            array: [AlignArray::Dmude, AlignArray::Mu][rng.pick(2)],
            emin: rng.param(-15.0),
            emax: rng.param(35.0),
        };
        ok[1] += energy_align(&e2, &m2, &e, &m, e0, &p).is_ok() as usize;
        let p = RebinParams {
            e0: Some(e0),
            pre1: rng.opt(-100.0),
            pre2: rng.param(-30.0),
            pre_step: rng.param(2.0),
            xanes_step: rng.opt(0.5),
            exafs1: rng.param(15.0),
            exafs2: rng.opt(300.0),
            exafs_kstep: rng.param(0.05),
            method: [
                RebinMethod::Boxcar,
                RebinMethod::Centroid,
                RebinMethod::Spline,
            ][rng.pick(3)],
        };
        ok[2] += rebin_xafs(&e, &m, &p).is_ok() as usize;
        let _ = sort_xafs(&e, &m, &SortParams::default());
        let e1 = rng.param(e0);
        let sel = match rng.pick(5) {
            0 => PointSelection::Index {
                index: rng.pick(n + 2),
            },
            1 => PointSelection::Energy { energy_ev: e1 },
            2 => PointSelection::Above { energy_ev: e1 },
            3 => PointSelection::Below { energy_ev: e1 },
            _ => PointSelection::Between {
                energy1_ev: e1,
                energy2_ev: e1 + rng.param(10.0),
            },
        };
        let p = DeglitchParams {
            remove: vec![sel],
            replace: rng.pick(2) == 0,
        };
        ok[3] += deglitch(&e, &m, &p).is_ok() as usize;
        let p = SpikeParams {
            backend: [SpikeBackend::Silx, SpikeBackend::Scipy][rng.pick(2)],
            kernel_size: rng.pick(8),
            threshold: rng.opt(0.1),
        };
        ok[4] += remove_spikes(&m, &p).is_ok() as usize;
    }
    eprintln!("successful calls of merge/align/rebin/deglitch/remove_spikes: {ok:?}");
    assert!(ok.iter().all(|&k| k > 300), "sweep too shallow: {ok:?}");
}
