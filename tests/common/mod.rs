//! Shared test helpers: locate the real data in ../shared/data (or
//! $CARTO_TEST_DATA) and fail loudly when it is missing.
#![allow(dead_code)]

use std::path::PathBuf;

/// Root of the shared reference data.
pub fn data_root() -> PathBuf {
    if let Ok(dir) = std::env::var("CARTO_TEST_DATA") {
        let p = PathBuf::from(dir);
        assert!(
            p.is_dir(),
            "CARTO_TEST_DATA={} is not a directory",
            p.display()
        );
        return p;
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(
        p.is_dir(),
        "test data not found at {}: put the shared data beside the checkout or set CARTO_TEST_DATA",
        p.display()
    );
    p
}

/// Path of one file under the shared data, asserting it exists.
pub fn data(rel: &str) -> PathBuf {
    let p = data_root().join(rel);
    assert!(p.exists(), "missing test data file {}", p.display());
    p
}

/// All files in one folder of the shared data, sorted.
pub fn data_files(rel_dir: &str) -> Vec<PathBuf> {
    let dir = data(rel_dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Path of a committed fixture under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A JSON array of numbers as `Vec<f64>` (null → NaN, as fixtures write NaN).
pub fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// Read and parse a committed JSON fixture.
pub fn json_fixture(rel: &str) -> serde_json::Value {
    let path = fixture(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A committed fit model (tests/fixtures/feffit/NAME.toml) with `@DATA@`
/// replaced by the data root.
pub fn feffit_model_text(name: &str) -> String {
    let path = fixture(&format!("feffit/{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.replace("@DATA@", &data_root().display().to_string())
}

/// Run the real `carto` binary with `args`.
pub fn carto<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    std::process::Command::new(env!("CARGO_BIN_EXE_carto"))
        .args(args)
        .output()
        .expect("cannot start the carto binary")
}
