//! The CIF reader on arbitrary text, then what `carto structure`, the
//! theory and the XRD view do with what it accepts: formula, space group,
//! neighbour shells and the powder pattern. An error names the file; a
//! structure has a finite cell and finite fractional coordinates.
#![no_main]

use carto::structure::{self, parse_cif_structures};
use carto::xrd::simulate::{XrdOptions, simulate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_cif_structures(&text, "fuzz.cif") {
        Err(e) => assert_eq!(e.file, "fuzz.cif"),
        Ok(all) => {
            for s in &all {
                assert!(s.lattice.volume_ang3().is_finite());
                let _ = structure::reduced_formula(s);
                let _ = structure::composition(s);
                // The expensive steps on cells a fuzzer can still afford.
                if s.sites.len() <= 64 {
                    let _ = structure::spacegroup(s, 1e-3);
                    if !s.sites.is_empty() {
                        let _ = structure::shells(s, 0, 4.0);
                    }
                    let _ = simulate(s, &XrdOptions::default());
                }
            }
        }
    }
});
