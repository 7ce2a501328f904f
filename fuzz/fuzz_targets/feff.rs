//! FEFF `feffNNNN.dat` paths.
#![no_main]

use carto::io::feff;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = feff::read(&text, "feff0001.dat") {
        assert_eq!(p.geometry.len(), p.nleg);
        assert!(!p.k_inv_ang.is_empty());
        let _ = (p.amp(), p.pha());
    }
});
