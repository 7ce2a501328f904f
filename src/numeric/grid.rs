//! Grids: the uniform k and R grids, and helpers on sorted abscissae (energy,
//! k, 2θ): Larch's `index_of`, `index_nearest`, `remove_dups`, and
//! Python-style rounding to a step.

/// Larch `index_of`: the last index with `arr[i] <= value` (0 when `value`
/// is below every element). `arr` must be sorted ascending.
pub fn index_of(arr: &[f64], value: f64) -> usize {
    let n = arr.partition_point(|&x| x <= value);
    n.saturating_sub(1)
}

/// Larch `index_nearest`: index of the element closest to `value` (first on ties).
pub fn index_nearest(arr: &[f64], value: f64) -> usize {
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for (i, &x) in arr.iter().enumerate() {
        let d = (x - value).abs();
        if d < best_d {
            best_d = d;
            best = i;
        }
    }
    best
}

/// Larch `remove_dups`: nudge repeated values by `tiny` so the array is
/// strictly increasing where it was only non-decreasing. A NaN is stepped
/// over: the next number is compared with the last number before it.
pub fn remove_dups(arr: &[f64], tiny: f64) -> Vec<f64> {
    nudge_dups(arr, tiny, true)
}

/// [`remove_dups`] where a NaN ends a run of repeats: the number after a NaN
/// is never nudged. Athena project reading has always done this; kept so its
/// arrays stay what they were.
pub fn remove_dups_nan_breaks(arr: &[f64], tiny: f64) -> Vec<f64> {
    nudge_dups(arr, tiny, false)
}

fn nudge_dups(arr: &[f64], tiny: f64, skip_nan: bool) -> Vec<f64> {
    let mut work = arr.to_vec();
    if work.len() <= 1 {
        return work;
    }
    let min_step = work
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if min_step > 10.0 * tiny {
        return work;
    }
    let mut add = vec![0.0; work.len()];
    let mut prev_val = f64::NAN;
    let mut prev_add = 0.0;
    for i in 1..work.len() {
        if !skip_nan || !work[i - 1].is_nan() {
            prev_val = work[i - 1];
            prev_add = add[i - 1];
        }
        let val = work[i];
        if val.is_nan() || prev_val.is_nan() {
            continue;
        }
        if (val - prev_val).abs() < tiny {
            add[i] = prev_add + tiny;
        }
    }
    for (w, a) in work.iter_mut().zip(&add) {
        *w += a;
    }
    work
}

/// The uniform grid 0, step, 2·step, … (n points) of Larch's k and R arrays
/// (`step * arange(n)`, each point computed as `step * i`, not by summing).
pub fn uniform(step: f64, n: usize) -> Vec<f64> {
    (0..n).map(|i| step * i as f64).collect()
}

/// Python's `round()` (ties to even) scaled: `step * round(v / step)`.
pub fn round_to(v: f64, step: f64) -> f64 {
    step * (v / step).round_ties_even()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_helpers_match_larch() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(index_of(&a, 0.5), 0);
        assert_eq!(index_of(&a, 2.0), 1);
        assert_eq!(index_of(&a, 2.9), 1);
        assert_eq!(index_of(&a, 10.0), 3);
        assert_eq!(index_nearest(&a, 2.6), 2);
    }

    /// The two NaN rules differ only after a NaN; each matches the code it
    /// replaced (Larch's loop for `remove_dups`, Athena's reader for
    /// `remove_dups_nan_breaks`) bit for bit.
    #[test]
    fn remove_dups_nan_rules() {
        let t = 1e-6;
        let a = [1.0, 1.0, f64::NAN, 1.0, 2.0, 2.0, 2.0];
        let larch = remove_dups(&a, t);
        let athena = remove_dups_nan_breaks(&a, t);
        assert_eq!(larch[1], 1.0 + t);
        assert!(larch[2].is_nan() && athena[2].is_nan());
        assert_eq!(larch[3], 1.0 + (t + t));
        assert_eq!(athena[3], 1.0);
        assert_eq!(&larch[4..], &[2.0, 2.0 + t, 2.0 + (t + t)]);
        assert_eq!(&athena[4..], &larch[4..]);

        // The Athena reader's former private copy, verbatim.
        fn athena_old(arr: &[f64], tiny: f64) -> Vec<f64> {
            let min_step = arr
                .windows(2)
                .filter_map(|w| match w {
                    [a, b] => Some(b - a),
                    _ => None,
                })
                .fold(f64::INFINITY, f64::min);
            if arr.len() <= 1 || min_step > 10.0 * tiny {
                return arr.to_vec();
            }
            let mut out = Vec::with_capacity(arr.len());
            let (mut prev, mut add) = (None::<f64>, 0.0);
            for &v in arr {
                add = match prev {
                    Some(p) if (v - p).abs() < tiny => add + tiny,
                    _ => 0.0,
                };
                out.push(v + add);
                prev = Some(v);
            }
            out
        }
        let cases: [&[f64]; 6] = [
            &a,
            &[],
            &[5.0],
            &[f64::NAN, 3.0, 3.0, f64::NAN, f64::NAN, 3.0, 3.0 + 1e-7, 4.0],
            &[0.1, 0.2, 0.2, 0.2, 0.3, 0.3, -0.0, -0.0, 0.0],
            &[10.0, 20.0, 30.0],
        ];
        for c in cases {
            let (new, old) = (remove_dups_nan_breaks(c, t), athena_old(c, t));
            assert_eq!(new.len(), old.len());
            for (x, y) in new.iter().zip(&old) {
                assert!(
                    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                    "{c:?}: {new:?} vs {old:?}"
                );
            }
        }
    }
}
