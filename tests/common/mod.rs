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
