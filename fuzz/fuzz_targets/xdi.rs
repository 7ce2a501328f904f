//! The XDI reader on arbitrary text (the version line is not required, so
//! the fuzzer also reaches the "missing version" path).
#![no_main]

use carto::io::{LoadOptions, xdi};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions::default();
    if let Ok(x) = xdi::parse(&text, "fuzz.xdi", &opts) {
        let n = x.table.npts();
        assert!(x.table.columns.iter().all(|c| c.len() == n));
        assert!(x.table.columns.iter().flatten().all(|v| v.is_finite()));
    }
    let _ = xdi::read_dataset(&text, "fuzz.xdi", &opts);
});
