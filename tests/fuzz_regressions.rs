//! Inputs the fuzz targets (fuzz/) found, kept as regression tests. Each
//! test decodes its input exactly as the target did.

use std::path::PathBuf;
use std::time::Instant;

use carto::xas::{self, ChainParams};

fn artifact(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The `xas_chain` target's input decoding (keep in step with
/// fuzz/fuzz_targets/xas_chain.rs).
fn chain_input(data: &[u8]) -> (Vec<f64>, Vec<f64>, ChainParams) {
    let Some((&mode, rest)) = data.split_first() else {
        return (Vec::new(), Vec::new(), ChainParams::default());
    };
    if mode & 1 == 0 {
        let v: Vec<f64> = rest
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let half = v.len() / 2;
        return (
            v[..half].to_vec(),
            v[half..2 * half].to_vec(),
            ChainParams::default(),
        );
    }
    let (pb, pts) = rest.split_at(6);
    let mut e = 7000.0 + f64::from(pb[0]) * 10.0 - 200.0;
    let e0 = 7112.0;
    let (mut energy, mut mu) = (Vec::new(), Vec::new());
    for pair in pts.chunks_exact(2) {
        e += f64::from(pair[0]) * 0.25;
        let x = e - e0;
        let edge = 0.5 + 0.5 * (x / 2.0).tanh();
        let osc = if x > 0.0 {
            0.05 * (0.5 * x.sqrt()).sin()
        } else {
            0.0
        };
        energy.push(e);
        mu.push(edge + osc + (f64::from(pair[1]) - 128.0) * 1e-3);
    }
    let mut p = ChainParams::default();
    p.autobk.rbkg = f64::from(pb[1]) / 32.0;
    p.ft.kmin = f64::from(pb[2]) / 16.0;
    p.ft.kmax = f64::from(pb[3]) / 8.0;
    p.ft.kweight = f64::from(pb[4] % 4);
    if pb[5] & 1 == 1 {
        p.pre_edge.e0 = Some(e0 + f64::from(pb[5]) - 128.0);
    }
    (energy, mu, p)
}

/// 2677 points whose edge lies in the first 5%: find_e0 smoothed the whole
/// scan on a 133 850-point grid with an O(n²) convolution (minutes; the
/// fuzzer's 10 s timeout). Now an FFT convolution: well under a second.
#[test]
fn find_e0_smoothing_long_scan_is_fast() {
    let (energy, mu, p) = chain_input(&artifact("xas_chain_timeout_smooth.bin"));
    assert_eq!(energy.len(), 2677);
    let t = Instant::now();
    let r = xas::process(&energy, &mu, &p);
    let secs = t.elapsed().as_secs_f64();
    assert!(secs < 20.0, "took {secs:.1} s");
    if let Ok(r) = r {
        assert!(r.pre.e0.is_finite());
        assert!(r.chir.chir_mag.iter().all(|v| v.is_finite()));
    }
}

/// Energies ending near 1e303: the smoothing grid size `1 + span/step`
/// overflowed usize ("attempt to add with overflow" panic).
#[test]
fn find_e0_smoothing_absurd_energy_range_does_not_overflow() {
    let (energy, mu, p) = chain_input(&artifact("xas_chain_overflow_smooth.bin"));
    assert_eq!(energy.len(), 306);
    if let Ok(r) = xas::process(&energy, &mu, &p) {
        assert!(r.pre.e0.is_finite());
        assert!(r.chir.chir_mag.iter().all(|v| v.is_finite()));
    }
}

/// A μ(E) whose energies run to ~1e150 eV: AUTOBK sized its k grid from the
/// data's k range ("capacity overflow" panic). The k range is now capped.
#[test]
fn autobk_absurd_k_range_does_not_allocate_the_world() {
    let (energy, mu, p) = chain_input(&artifact("xas_chain_autobk_capacity.bin"));
    assert_eq!(energy.len(), 310);
    if let Ok(r) = xas::process(&energy, &mu, &p) {
        assert!(r.bkg.k_inv_ang.len() <= 2002);
        assert!(r.chir.chir_mag.iter().all(|v| v.is_finite()));
    }
}

/// The same through xftf directly: a k axis reaching 1e300, and absurd
/// kmax/dk, must not size the k grid.
#[test]
fn xftf_absurd_k_axis_is_bounded() {
    let mut k: Vec<f64> = (0..200).map(|i| 0.05 * i as f64).collect();
    k.push(1e300);
    let chi: Vec<f64> = k.iter().map(|&x| (x * 5.0).sin() * 0.1).collect();
    let r = xas::xftf(&k, &chi, &xas::FtParams::default());
    assert!(r.is_ok_and(|r| r.chir_mag.iter().all(|v| v.is_finite())));
    for (kmax, dk) in [(1e12, 1.0), (12.0, 1e12)] {
        let p = xas::FtParams {
            kmax,
            dk,
            ..Default::default()
        };
        assert!(matches!(
            xas::xftf(&k, &chi, &p),
            Err(xas::XasError::BadParam { .. })
        ));
    }
}
