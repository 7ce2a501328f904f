//! pre_edge → autobk → xftf on fuzzer-made (energy, μ) arrays and
//! parameters: an error, or finite output — never a panic or NaN.
#![no_main]

use carto::xas::{self, ChainParams};
use libfuzzer_sys::fuzz_target;

/// Little-endian f64s from the bytes, 8 at a time.
fn floats(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            f64::from_le_bytes(a)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    // Byte 0 picks a shape: raw floats, or a plausible edge perturbed by
    // the fuzzer (reaches autobk/xftf far more often).
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (energy, mu, p) = if mode & 1 == 0 {
        let v = floats(rest);
        let half = v.len() / 2;
        (
            v[..half].to_vec(),
            v[half..2 * half].to_vec(),
            ChainParams::default(),
        )
    } else {
        // 6 parameter bytes, then per-point (ΔE, μ noise) byte pairs.
        if rest.len() < 6 {
            return;
        }
        let (pb, pts) = rest.split_at(6);
        let mut e = 7000.0 + f64::from(pb[0]) * 10.0 - 200.0;
        let e0 = 7112.0;
        let mut energy = Vec::new();
        let mut mu = Vec::new();
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
    };
    if let Ok(r) = xas::process(&energy, &mu, &p) {
        assert!(r.pre.e0.is_finite() && r.pre.edge_step.is_finite());
        assert!(r.pre.norm.iter().all(|v| v.is_finite()), "norm not finite");
        assert!(r.bkg.chi.iter().all(|v| v.is_finite()), "chi not finite");
        assert!(
            r.chir.chir_mag.iter().all(|v| v.is_finite()),
            "chir not finite"
        );
    }
});
