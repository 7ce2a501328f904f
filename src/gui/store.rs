//! One id space for everything the app holds: spectra, χ(k) files, FEFF
//! paths and powder patterns take their ids from here, so the one
//! selection (the workspace's `selected`/`active`) can hold any mix of
//! kinds and an id never names two things.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id, never handed out before in this process.
pub fn new_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}
