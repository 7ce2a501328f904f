//! The EXAFS fit model's expression compiler ("2*sig2_1", "sqrt(n1)*s02",
//! "sigma2_eins(t, theta)") on arbitrary text, and evaluation of what it
//! accepts: an error whose position lies inside the text, or code that
//! evaluates without a panic (any f64, NaN included: the fit names a
//! non-finite parameter itself).
#![no_main]

use std::collections::HashMap;

use carto::exafs::expr::{Expr, PathContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vars: HashMap<String, usize> = ["amp", "del_e0", "sig2", "n1", "t", "theta", "x_1"]
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), i))
        .collect();
    match Expr::compile(&text, &vars) {
        Err(e) => {
            assert!(e.pos <= text.len(), "{e}");
            let _ = e.to_string();
        }
        Ok(x) => {
            assert!(x.deps.iter().all(|&d| d < vars.len()));
            let vals = [0.9, 0.5, 0.003, 12.0, 300.0, 250.0, -1.0];
            let _ = x.eval(&vals, &PathContext::default());
            let ctx = PathContext {
                reff_ang: 2.55,
                degen: 12.0,
                rmass_amu: 31.8,
                debye: None,
            };
            let _ = x.eval(&vals, &ctx);
            // Fewer values than variables: missing ones read as NaN.
            let _ = x.eval(&vals[..2], &ctx);
        }
    }
});
