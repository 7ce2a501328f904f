//! The demo session's files, compiled into the binary (sessions refer to
//! them as `builtin:NAME`).

/// The bundled demo session (sample_data/, sources in its README). Compiled
/// into the binary so the demo works wherever the program is installed.
pub const DEMO_FILES: [(&str, &[u8]); 6] = [
    (
        "feo_rt1.xdi",
        include_bytes!("../../sample_data/feo_rt1.xdi"),
    ),
    (
        "fe2o3_rt1.xmu",
        include_bytes!("../../sample_data/fe2o3_rt1.xmu"),
    ),
    (
        "cu_metal_rt.xdi",
        include_bytes!("../../sample_data/cu_metal_rt.xdi"),
    ),
    // The XRD view's demo: a pattern Carto computed from the two CIFs.
    (
        DEMO_PATTERN,
        include_bytes!("../../sample_data/feo_fe2o3_cuka_simulated.xy"),
    ),
    (
        "wustite_amcsd18048.cif",
        include_bytes!("../../sample_data/wustite_amcsd18048.cif"),
    ),
    (
        "hematite_amcsd17731.cif",
        include_bytes!("../../sample_data/hematite_amcsd17731.cif"),
    ),
];

/// The demo's powder pattern (simulated; see sample_data/README.md).
pub const DEMO_PATTERN: &str = "feo_fe2o3_cuka_simulated.xy";
/// Demo files that are CIF phases of the XRD view, not spectra.
pub const DEMO_CIFS: [&str; 2] = ["wustite_amcsd18048.cif", "hematite_amcsd17731.cif"];

/// The bytes of a demo file by name (sessions refer to them as `builtin:NAME`).
pub fn builtin_bytes(name: &str) -> Option<&'static [u8]> {
    DEMO_FILES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}
