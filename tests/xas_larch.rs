//! The XAS chain (pre_edge → autobk → xftf) against xraylarch 2026.3 on real
//! measured spectra. Reference numbers: tests/fixtures/larch/xas_chain.json,
//! made by tools/make_larch_fixtures.py.

mod common;

use carto::io::{Dataset, LoadOptions, load};
use carto::xas::{AutobkParams, FtParams, PreEdgeParams, Window, autobk, pre_edge, xftf};
use serde_json::Value;

fn fixture() -> Value {
    let path = common::fixture("larch/xas_chain.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn arr(v: &Value) -> Vec<f64> {
    common::numbers(v)
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("fixture key {key} missing"))
}

/// Build the (energy, μ) pair the fixture case describes from Carto's readers.
fn input(case: &Value) -> (Vec<f64>, Vec<f64>) {
    let rel = case["file"].as_str().expect("file");
    let path = common::data(rel);
    let ds = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mu_spec = &case["mu"];
    if mu_spec["kind"] == "athena" {
        let Dataset::Athena(prj) = ds else {
            panic!("{rel} is not an Athena project")
        };
        let label = case["group"].as_str().expect("group label");
        let g = prj
            .group(label)
            .unwrap_or_else(|| panic!("{rel}: no group {label}"));
        let s = g.to_spectrum(rel).unwrap_or_else(|e| panic!("{e}"));
        return (s.energy_ev, s.mu);
    }
    let table = match ds {
        Dataset::Xas(s) => s.table,
        Dataset::Chi(c) => c.table,
        other => panic!("{rel}: unexpected dataset {}", other.modality()),
    };
    let col = |i: &Value| -> &Vec<f64> {
        let i = i.as_u64().expect("column index") as usize;
        table
            .columns
            .get(i)
            .unwrap_or_else(|| panic!("{rel}: no column {i} (have {})", table.columns.len()))
    };
    let scale = num(case, "energy_scale");
    let energy: Vec<f64> = col(&case["energy_col"]).iter().map(|e| e * scale).collect();
    let mu: Vec<f64> = match mu_spec["kind"].as_str().expect("kind") {
        "column" => col(&mu_spec["mu"]).clone(),
        "transmission" => col(&mu_spec["i0"])
            .iter()
            .zip(col(&mu_spec["it"]))
            .map(|(a, b)| (a / b).ln())
            .collect(),
        "reference" => col(&mu_spec["it"])
            .iter()
            .zip(col(&mu_spec["iref"]))
            .map(|(a, b)| (a / b).ln())
            .collect(),
        "fluorescence" => {
            let i0 = col(&mu_spec["i0"]);
            let mut sum = vec![0.0; i0.len()];
            for c in mu_spec["i_f"].as_array().expect("i_f") {
                for (s, v) in sum.iter_mut().zip(col(c)) {
                    *s += v;
                }
            }
            sum.iter().zip(i0).map(|(s, z)| s / z).collect()
        }
        k => panic!("unknown recipe {k}"),
    };
    (energy, mu)
}

fn rms(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    (s / n.max(1) as f64).sqrt()
}

#[test]
fn chain_matches_larch_on_real_spectra() {
    let fx = fixture();
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 15, "fixture has only {} cases", cases.len());
    let mut exafs_cases = 0;
    let mut report = Vec::new();
    for case in cases {
        let id = case["id"].as_str().expect("id");
        let (energy, mu) = input(case);
        let inp = &case["input"];
        assert_eq!(energy.len(), num(inp, "npts") as usize, "{id}: npts");
        assert!(
            (energy[0] - num(inp, "energy_first")).abs() < 1e-9 * energy[0].abs(),
            "{id}: first energy"
        );
        assert!(
            (energy[energy.len() - 1] - num(inp, "energy_last")).abs() < 1e-9 * energy[0].abs(),
            "{id}: last energy"
        );
        let mu_sum: f64 = mu.iter().sum();
        assert!(
            (mu_sum - num(inp, "mu_sum")).abs() <= 1e-8 * mu_sum.abs().max(1.0),
            "{id}: μ sum {mu_sum} vs {}",
            num(inp, "mu_sum")
        );

        let res = &case["results"];
        let pre = pre_edge(&energy, &mu, &PreEdgeParams::default())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let de0 = (pre.e0 - num(res, "e0")).abs();
        let dstep = (pre.edge_step / num(res, "edge_step") - 1.0).abs();
        // The issue asks for |Δe0| ≤ 0.1 eV and 0.5 % on the step; Carto
        // reproduces Larch's algorithm, so hold it to far tighter bounds.
        assert!(
            de0 <= 1e-3,
            "{id}: e0 {} vs Larch {}",
            pre.e0,
            num(res, "e0")
        );
        assert!(
            dstep <= 1e-6,
            "{id}: edge step {} vs Larch {}",
            pre.edge_step,
            num(res, "edge_step")
        );
        // Normalized μ on the same grid, point by point.
        let norm_ref = arr(&res["norm"]);
        assert_eq!(norm_ref.len(), pre.norm.len(), "{id}: norm length");
        let dnorm = pre
            .norm
            .iter()
            .zip(&norm_ref)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(dnorm < 1e-6, "{id}: max |Δnorm| = {dnorm}");

        if case["exafs"] != Value::Bool(true) {
            report.push(format!("{id:28} Δe0={de0:.1e} Δstep={dstep:.1e}"));
            continue;
        }
        exafs_cases += 1;
        let ap = &case["autobk_params"];
        let params = AutobkParams {
            rbkg: num(ap, "rbkg"),
            kweight: num(ap, "kweight"),
            kmin: num(ap, "kmin"),
            kmax: ap["kmax"].as_f64(),
            dk: num(ap, "dk"),
            win: Window::from_name(ap["win"].as_str().expect("win")).expect("window"),
            nclamp: num(ap, "nclamp") as usize,
            clamp_lo: num(ap, "clamp_lo"),
            clamp_hi: num(ap, "clamp_hi"),
            nfft: num(ap, "nfft") as usize,
            kstep: num(ap, "kstep"),
            ..AutobkParams::default()
        };
        let bkg = autobk(&energy, &mu, &params, Some(&pre)).unwrap_or_else(|e| panic!("{id}: {e}"));
        let k_ref = arr(&res["k"]);
        let chi_ref = arr(&res["chi"]);
        let n = k_ref.len().min(bkg.k_inv_ang.len());
        let sel: Vec<usize> = (0..n)
            .filter(|&i| (2.0..=12.0).contains(&k_ref[i]))
            .collect();
        let ref_rms = rms(sel.iter().map(|&i| chi_ref[i] * k_ref[i] * k_ref[i]));
        let diff_rms = rms(sel
            .iter()
            .map(|&i| (bkg.chi[i] - chi_ref[i]) * k_ref[i] * k_ref[i]));
        let rel = diff_rms / ref_rms;
        // Issue bound: 2 %. Larch stops its LM at ftol 1e-6 while Carto solves
        // to convergence, so noisy spectra differ by up to ~0.05 %.
        assert!(
            rel <= 1e-3,
            "{id}: k²χ RMS difference {:.4} % of its RMS",
            100.0 * rel
        );

        let xp = &case["xftf_params"];
        // The fixture rounds to 10 digits; Larch used the data's last k
        // when that was below 12, and the window edge index depends on it.
        let kend = bkg.k_inv_ang[bkg.k_inv_ang.len() - 1];
        let kmax = if (num(xp, "kmax") - kend).abs() < 1e-6 {
            kend
        } else {
            num(xp, "kmax")
        };
        let ft = FtParams {
            kmin: num(xp, "kmin"),
            kmax,
            dk: num(xp, "dk"),
            window: Window::from_name(xp["window"].as_str().expect("window")).expect("window"),
            kweight: num(xp, "kweight"),
            ..FtParams::default()
        };
        let chir = xftf(&bkg.k_inv_ang, &bkg.chi, &ft).unwrap_or_else(|e| panic!("{id}: {e}"));
        let peak = chir
            .r_ang
            .iter()
            .zip(&chir.chir_mag)
            .filter(|(r, _)| **r > 1.0)
            .fold(
                (0.0, f64::NEG_INFINITY),
                |a, (&r, &m)| if m > a.1 { (r, m) } else { a },
            );
        let dpeak = (peak.0 - num(res, "chir_mag_peak_r")).abs();
        assert!(
            dpeak <= 1e-6,
            "{id}: |χ(R)| peak at {} vs Larch {}",
            peak.0,
            num(res, "chir_mag_peak_r")
        );
        let mag_ref = arr(&res["chir_mag"]);
        let nr = mag_ref.len().min(chir.chir_mag.len());
        let dmag =
            rms((0..nr).map(|i| chir.chir_mag[i] - mag_ref[i])) / rms(mag_ref.iter().copied());
        assert!(
            dmag <= 1e-3,
            "{id}: |χ(R)| RMS difference {:.4} %",
            100.0 * dmag
        );
        report.push(format!(
            "{id:28} Δe0={de0:.1e} Δstep={dstep:.1e} k²χ rms={rel:.2e} |χ(R)| rms={dmag:.2e}"
        ));
    }
    assert!(exafs_cases >= 15, "only {exafs_cases} EXAFS cases");
    println!("{}", report.join("\n"));
}
