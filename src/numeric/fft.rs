//! FFT plans cached per size and direction (rustfft plans once, reuses many
//! times), shared by the XAS transforms, the feffit engine and smoothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use rustfft::{Fft, FftPlanner};

type PlanCache = (FftPlanner<f64>, HashMap<(usize, bool), Arc<dyn Fft<f64>>>);

thread_local! {
    static PLANS: RefCell<PlanCache> =
        RefCell::new((FftPlanner::new(), HashMap::new()));
}

/// A cached FFT plan: planned once per size and direction, per thread.
pub fn fft_plan(n: usize, inverse: bool) -> Arc<dyn Fft<f64>> {
    PLANS.with(|p| {
        let mut p = p.borrow_mut();
        let (planner, cache) = &mut *p;
        cache
            .entry((n, inverse))
            .or_insert_with(|| {
                if inverse {
                    planner.plan_fft_inverse(n)
                } else {
                    planner.plan_fft_forward(n)
                }
            })
            .clone()
    })
}

type RealPlans = (realfft::RealFftPlanner<f64>, HashMap<usize, RealPair>);
type RealPair = (
    Arc<dyn realfft::RealToComplex<f64>>,
    Arc<dyn realfft::ComplexToReal<f64>>,
);

thread_local! {
    static REAL_PLANS: RefCell<RealPlans> =
        RefCell::new((realfft::RealFftPlanner::new(), HashMap::new()));
}

/// Cached real-to-complex and complex-to-real plans of length `n` (even),
/// per thread.
pub fn real_fft_plans(n: usize) -> RealPair {
    REAL_PLANS.with(|p| {
        let mut p = p.borrow_mut();
        let (planner, cache) = &mut *p;
        cache
            .entry(n)
            .or_insert_with(|| (planner.plan_fft_forward(n), planner.plan_fft_inverse(n)))
            .clone()
    })
}
