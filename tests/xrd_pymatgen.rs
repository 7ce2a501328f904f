//! Simulated powder patterns against pymatgen 2026.10 `XRDCalculator`
//! (fixture by tools/make_xrd_fixtures.py: 135 CIFs with CuKa, five with
//! MoKa / 0.7 Å, five with B = 0.5 Å² on every element).

mod common;

use carto::structure::read_cif;
use carto::xrd::{DebyeWaller, XrdOptions, parse_wavelength, simulate};
use common::{data, json_fixture};
use serde_json::Value;

/// Compare one pattern; returns a description of the first disagreement.
fn check(case: &Value, dw: DebyeWaller, strict: bool) -> Result<usize, String> {
    let file = case["file"].as_str().ok_or("file")?;
    let s = read_cif(&data(file)).map_err(|e| e.to_string())?.remove(0);
    let wl = match &case["wavelength"] {
        Value::String(n) => parse_wavelength(n).map_err(|e| e.to_string())?,
        v => v.as_f64().ok_or("wavelength")?,
    };
    let ours = simulate(
        &s,
        &XrdOptions {
            wavelength_ang: wl,
            two_theta_min_deg: 0.0,
            two_theta_max_deg: 90.0,
            debye_waller: dw,
        },
    )
    .map_err(|e| e.to_string())?;
    if strict {
        let n_all = case["n_peaks_all"].as_u64().ok_or("n_peaks_all")? as usize;
        if ours.len() != n_all {
            return Err(format!("{file}: {} peaks, pymatgen {n_all}", ours.len()));
        }
    }
    let mut n = 0;
    for p in case["peaks"].as_array().ok_or("peaks")? {
        let (tt, inten) = (
            p["two_theta"].as_f64().unwrap_or(f64::NAN),
            p["intensity"].as_f64().unwrap_or(f64::NAN),
        );
        if inten < 1.0 {
            continue;
        }
        let m = ours
            .iter()
            .filter(|q| (q.two_theta_deg - tt).abs() <= 0.01)
            .min_by(|a, b| {
                (a.intensity - inten)
                    .abs()
                    .total_cmp(&(b.intensity - inten).abs())
            })
            .ok_or_else(|| format!("{file}: no peak at {tt}° (I = {inten})"))?;
        if (m.intensity - inten).abs() > 2.0 {
            return Err(format!(
                "{file}: {tt}° I = {} vs pymatgen {inten}",
                m.intensity
            ));
        }
        if strict {
            // Same position, d, intensity and hkl families (as sets).
            if (m.two_theta_deg - tt).abs() > 1e-5
                || (m.d_ang - p["d"].as_f64().unwrap_or(f64::NAN)).abs() > 1e-5
                || (m.intensity - inten).abs() > 1e-4
            {
                return Err(format!("{file}: {tt}° differs: {m:?} vs {p}"));
            }
            let mut theirs: Vec<(Vec<i64>, u64)> = p["hkls"]
                .as_array()
                .ok_or("hkls")?
                .iter()
                .zip(p["multiplicity"].as_array().ok_or("multiplicity")?)
                .map(|(h, m)| {
                    (
                        h.as_array()
                            .map(|v| v.iter().filter_map(Value::as_i64).collect())
                            .unwrap_or_default(),
                        m.as_u64().unwrap_or(0),
                    )
                })
                .collect();
            let mut mine: Vec<(Vec<i64>, u64)> = m
                .hkls
                .iter()
                .zip(&m.multiplicity)
                .map(|(h, &k)| (h.iter().map(|&x| x as i64).collect(), k as u64))
                .collect();
            theirs.sort();
            mine.sort();
            if mine != theirs {
                return Err(format!("{file}: {tt}° families {mine:?} vs {theirs:?}"));
            }
        }
        n += 1;
    }
    Ok(n)
}

#[test]
fn stick_patterns_match_pymatgen() {
    let fx = json_fixture("xrd/pymatgen_xrd.json");
    let cases = fx["patterns"].as_array().expect("patterns");
    assert!(cases.len() >= 135);
    let (mut ok, mut peaks) = (0, 0);
    let mut bad = Vec::new();
    for c in cases {
        match check(c, DebyeWaller::Off, false) {
            Ok(n) => {
                ok += 1;
                peaks += n;
            }
            Err(e) => bad.push(e),
        }
    }
    eprintln!(
        "{ok}/{} patterns, {peaks} peaks ≥ 1 matched; failures: {bad:#?}",
        cases.len()
    );
    assert!(ok as f64 >= 0.95 * cases.len() as f64, "{bad:#?}");
    assert!(peaks > 3000);
}

#[test]
fn patterns_match_pymatgen_exactly() {
    // Beyond the tolerances: peak count, 2θ, d and intensity to
    // 1e-5 and the hkl families. The one exception is a CIF pymatgen itself
    // expands wrongly (P16 for AlMoP2O9, see structure_pymatgen.rs).
    let fx = json_fixture("xrd/pymatgen_xrd.json");
    let mut bad = Vec::new();
    let mut n = 0;
    for c in fx["patterns"].as_array().expect("patterns") {
        if c["file"]
            .as_str()
            .is_some_and(|f| f.contains("Al_Mo_O9_P2"))
        {
            continue;
        }
        n += 1;
        if let Err(e) = check(c, DebyeWaller::Off, true) {
            bad.push(e);
        }
    }
    assert_eq!(n, 134);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn other_wavelengths_and_debye_waller() {
    let fx = json_fixture("xrd/pymatgen_xrd.json");
    for c in fx["other_wavelengths"].as_array().expect("other") {
        check(c, DebyeWaller::Off, true).unwrap_or_else(|e| panic!("{e}"));
    }
    for c in fx["debye_waller"].as_array().expect("dw") {
        check(c, DebyeWaller::Uniform(0.5), true).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(parse_wavelength("0.7").is_ok_and(|v| v == 0.7));
    assert_eq!(parse_wavelength("cuka1"), Ok(1.54056));
    assert!(
        parse_wavelength("CuKz")
            .unwrap_err()
            .to_string()
            .contains("CuKa")
    );
    assert!(parse_wavelength("-1").is_err());
}

#[test]
fn absurd_requests_are_errors_not_hangs() {
    let cif = "data_big\n_cell_length_a 900\n_cell_length_b 900\n_cell_length_c 900\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 0 0\n";
    let s = carto::structure::parse_cif_structures(cif, "big.cif").expect("parses")[0].clone();
    let e = simulate(&s, &XrdOptions::default()).expect_err("too many reflections");
    assert!(e.to_string().contains("too many"), "{e}");
    // A cell edge of 0.5 Å is no crystal.
    let tiny = cif.replace("_cell_length_a 900", "_cell_length_a 0.5");
    let e = carto::structure::parse_cif_structures(&tiny, "tiny.cif").expect_err("tiny");
    assert!(e.to_string().contains("_cell_length_a"), "{e}");
    // Wavelength and range checks.
    let cu = read_cif(&data("cif/amcsd/copper_amcsd13088.cif"))
        .expect("cu")
        .remove(0);
    for o in [
        XrdOptions {
            wavelength_ang: -1.0,
            ..XrdOptions::default()
        },
        XrdOptions {
            two_theta_min_deg: 50.0,
            two_theta_max_deg: 40.0,
            ..XrdOptions::default()
        },
        XrdOptions {
            two_theta_max_deg: f64::NAN,
            ..XrdOptions::default()
        },
    ] {
        assert!(simulate(&cu, &o).is_err(), "{o:?}");
    }
}
