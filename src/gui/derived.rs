//! Results derived from the store only to draw or export them (χ(q) of a
//! spectrum today), computed once per change of what they depend on and
//! kept, so an idle frame computes nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::xas::ChiQ;
use crate::xas::fourier::RParams;

/// One spectrum's χ(q): for which result revision and R window.
#[derive(Debug)]
struct ChiQEntry {
    rev: u64,
    window: RParams,
    chiq: Arc<Result<ChiQ, String>>,
}

/// χ(q) per item, recomputed only when the spectrum's result or the R
/// window changes. Drawing borrows the store immutably, hence the lock.
#[derive(Debug, Default)]
pub struct ChiQCache {
    entries: Mutex<HashMap<u64, ChiQEntry>>,
    /// Back-transforms run so far (tests check that idle frames add none).
    computed: AtomicUsize,
}

impl ChiQCache {
    /// χ(q) of item `id` whose result has revision `rev`, from the cache
    /// or from `compute` (run at most once per (rev, window)).
    pub fn get(
        &self,
        id: u64,
        rev: u64,
        window: &RParams,
        compute: impl FnOnce() -> Result<ChiQ, String>,
    ) -> Arc<Result<ChiQ, String>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = entries.get(&id)
            && e.rev == rev
            && e.window == *window
        {
            return e.chiq.clone();
        }
        let chiq = Arc::new(compute());
        self.computed.fetch_add(1, Ordering::Relaxed);
        entries.insert(
            id,
            ChiQEntry {
                rev,
                window: window.clone(),
                chiq: chiq.clone(),
            },
        );
        chiq
    }

    /// How many back-transforms this cache has run.
    pub fn computed(&self) -> usize {
        self.computed.load(Ordering::Relaxed)
    }

    /// Forget items no longer in the store.
    pub fn retain(&self, keep: impl Fn(u64) -> bool) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|&id, _| keep(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_revision_and_window() {
        let cache = ChiQCache::default();
        let w = RParams::default();
        let fail = || Err("x".to_string());
        cache.get(1, 7, &w, fail);
        cache.get(1, 7, &w, fail);
        assert_eq!(cache.computed(), 1);
        cache.get(1, 8, &w, fail);
        let w2 = RParams {
            rmax: w.rmax + 1.0,
            ..w.clone()
        };
        cache.get(1, 8, &w2, fail);
        assert_eq!(cache.computed(), 3);
    }
}
