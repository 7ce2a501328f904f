//! Format detection and every reader behind it: any bytes must give a
//! dataset or a located error, never a panic.
#![no_main]

use carto::io::{LoadOptions, load_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = load_bytes(data, "fuzz.dat", &LoadOptions::default()) {
        assert_eq!(e.file, "fuzz.dat");
    }
});
