//! The fit-model (TOML) reader on arbitrary text, then `Feffit::new`
//! (expression compilation, parameter order, dataset preparation) on what
//! it accepts. Relative file names resolve in tests/malformed/, so the
//! seeds' `../../sample_data/...` data and FEFF paths load; anything else a
//! model names is read through the bounded readers.
#![no_main]

use std::path::PathBuf;

use carto::exafs::Feffit;
use carto::exafs::model::parse_model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/malformed");
    if let Ok(model) = parse_model(text, &base, "fuzz.toml") {
        let _ = Feffit::new(model);
    }
});
