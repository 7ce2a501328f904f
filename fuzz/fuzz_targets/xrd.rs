//! Measured powder patterns (`io::xrd::read_pattern_bytes`: RAW, brml,
//! xrdml, GSAS, Fit2D .chi, columns) and JCPDS cards: any bytes give a
//! pattern with equal-length finite arrays, or an error naming the file.
#![no_main]

use carto::io::xrd::{bruker_raw, read_jcpds_bytes, read_pattern_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_pattern_bytes(data, "fuzz.xy", None) {
        Ok(p) => {
            assert_eq!(p.two_theta_deg.len(), p.intensity.len());
            assert!(!p.two_theta_deg.is_empty());
            assert!(p.two_theta_deg.iter().chain(&p.intensity).all(|v| v.is_finite()));
            if let Some(s) = &p.sigma {
                assert_eq!(s.len(), p.intensity.len());
            }
        }
        // brml errors inside the archive name the member: fuzz.xy[member]
        Err(e) => assert!(e.file.starts_with("fuzz.xy"), "{e}"),
    }
    if bruker_raw::version_of(data).is_some() {
        if let Ok(all) = bruker_raw::read_all(data, "fuzz.raw") {
            assert!(!all.is_empty());
        }
    }
    if let Err(e) = read_jcpds_bytes(data, "fuzz.jcpds") {
        assert_eq!(e.file, "fuzz.jcpds");
    }
});
