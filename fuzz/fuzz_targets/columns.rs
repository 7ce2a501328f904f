//! Plain/beamline column text: read_table, then the meaning given to the
//! columns (χ(k) or μ(E), energy units, μ recipe).
#![no_main]

use carto::io::{Dataset, LoadOptions, beamline, columns};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions::default();
    let Ok(table) = columns::read_table(&text, "fuzz.dat", &opts) else {
        return;
    };
    let n = table.npts();
    assert!(table.columns.iter().all(|c| c.len() == n));
    assert_eq!(table.labels.len(), table.columns.len());
    match beamline::to_dataset(table, "fuzz.dat", &opts) {
        Ok(Dataset::Xas(s)) => {
            assert_eq!(s.energy_ev.len(), s.mu.len());
            assert!(s.mu.iter().all(|v| v.is_finite()));
        }
        Ok(Dataset::Chi(c)) => assert_eq!(c.k_inv_ang.len(), c.chi.len()),
        Ok(_) => {}
        Err(e) => assert_eq!(e.file, "fuzz.dat"),
    }
});
