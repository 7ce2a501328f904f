//! Session files (`.carto`, JSON) on arbitrary text: a located error, or a
//! session that writes back to the same session, whose indexes are in
//! range, and whose items' edits, μ recipes and chain parameters replay on
//! a spectrum through the core (as opening the session in the app does)
//! without a panic.
#![no_main]

use carto::io::{ColumnTable, EnergyUnit, XasSpectrum};
use carto::session::Session;
use carto::xas::process::{self, XasInput};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// A small μ(E) edge with its columns (energy, i0, it, if), 120 points.
fn spectrum() -> XasSpectrum {
    let energy: Vec<f64> = (0..120).map(|i| 8900.0 + 2.5 * f64::from(i)).collect();
    let mu: Vec<f64> = energy
        .iter()
        .map(|e| 0.2 + 0.8 / (1.0 + (-(e - 8980.0) / 2.0).exp()) + 1e-4 * (e * 0.37).sin())
        .collect();
    let i0 = vec![1.0e5; energy.len()];
    let it: Vec<f64> = mu.iter().map(|m| 1.0e5 * (-m).exp()).collect();
    let i_f: Vec<f64> = mu.iter().map(|m| 1.0e3 * m).collect();
    let table = ColumnTable {
        labels: ["energy", "i0", "it", "if"].map(String::from).to_vec(),
        columns: vec![energy.clone(), i0, it, i_f],
        ..Default::default()
    };
    XasSpectrum {
        name: "fuzz".into(),
        energy_ev: energy,
        mu,
        energy_column: 0,
        energy_unit: EnergyUnit::Ev,
        recipe: carto::io::MuRecipe::Transmission { i0: 1, it: 2 },
        choice: None,
        table,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.carto");
    let Ok(s) = Session::from_json(text, path) else {
        return;
    };
    let n = s.items.len();
    assert!(s.selected.iter().chain(s.active.iter()).all(|&i| i < n));
    let again = Session::from_json(&s.to_json(), path).expect("a session reads back");
    assert_eq!(again, s);
    let base = spectrum();
    for item in s.items.iter().take(8) {
        let mut x = base.clone();
        if let Some(r) = &item.mu_recipe {
            match r.build(&x.table, "fuzz") {
                Ok(mu) => x.mu = mu,
                Err(_) => continue,
            }
        }
        let input = XasInput::Mu(x);
        let Ok(edited) = process::edit(&input, &item.edits) else {
            continue;
        };
        if let Some(p) = &item.params {
            let _ = process::run(&edited, &[], p, None);
        }
    }
});
