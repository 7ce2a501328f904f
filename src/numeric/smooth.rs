//! Larch's `smooth` (Lorentzian kernel) and the 'valid' convolution it is
//! built on, direct or by FFT for long grids.

use super::fft::fft_plan;
use super::interp::interp_clamped;
use super::kernels::dot;
use super::lineshape::lorentzian;

/// Larch `smooth(x, y, sigma, xstep)` with its default Lorentzian kernel:
/// resample on a uniform grid, mirror-pad, convolve, interpolate back.
pub fn smooth_lorentzian(x: &[f64], y: &[f64], sigma: f64, xstep: f64) -> Vec<f64> {
    let npad = 5.0;
    let (xlo, xhi) = (x[0], x[x.len() - 1]);
    let xmin = xstep * ((xlo - npad * xstep) / xstep).trunc();
    let xmax = xstep * ((xhi + npad * xstep) / xstep).trunc();
    // `as usize` saturates on absurd ranges (energies near 1e300): the +1
    // must not overflow (found by fuzzing).
    let npts1 = (((xmax - xmin + xstep * 0.1).abs() / xstep) as usize).saturating_add(1);
    let npts = npts1.min(50 * x.len()).max(2);
    let x0: Vec<f64> = (0..npts)
        .map(|i| xmin + (xmax - xmin) * i as f64 / (npts - 1) as f64)
        .collect();
    let y0 = interp_clamped(x, y, &x0);
    let sig = sigma / xstep;
    // win[m] for m in 0..2npts, centred at npts, normalised to unit sum.
    let mut win: Vec<f64> = (0..2 * npts)
        .map(|m| lorentzian(m as f64, npts as f64, sig))
        .collect();
    let wsum: f64 = win.iter().sum();
    for w in &mut win {
        *w /= wsum;
    }
    // y1 = y0[npts-1..=1] reversed, y0, y0 reversed  (length 3npts-1)
    let mut y1 = Vec::with_capacity(3 * npts);
    y1.extend((1..npts).rev().map(|i| y0[i]));
    y1.extend_from_slice(&y0);
    y1.extend(y0.iter().rev());
    // 'valid' convolution: y2[n] = Σ_m win[m] · y1[n + 2npts − 1 − m]. The
    // final step is a linear interpolation back onto x, so on ordinary grids
    // only the points bracketing the data are computed (direct dot products);
    // huge grids go through the FFT for all points.
    let y2 = if npts <= DIRECT_CONVOLVE_MAX {
        let wlen = 2 * npts;
        let mut wrev = win;
        wrev.reverse();
        let mut y2 = vec![0.0; npts];
        let mut done = vec![false; npts];
        for &xv in x {
            let j = x0
                .partition_point(|&g| g <= xv)
                .saturating_sub(1)
                .min(npts - 2);
            for n in [j, j + 1] {
                if !done[n] {
                    done[n] = true;
                    y2[n] = dot(&wrev, &y1[n..n + wlen]);
                }
            }
        }
        y2
    } else {
        convolve_valid(&y1, &win, npts)
    };
    interp_clamped(&x0, &y2, x)
}

/// Above this many output points the direct O(n²) convolution is replaced
/// by an FFT: a 5000-point scan whose edge sits in its first 5% is smoothed
/// on up to 250 000 points, which took minutes directly (found by fuzzing).
const DIRECT_CONVOLVE_MAX: usize = 4096;

/// 'valid' convolution: y2[n] = Σ_m win[m] · y1[n + len(win) − 1 − m] for n
/// in 0..nout (NumPy `convolve(win, y1, mode='valid')`).
pub(crate) fn convolve_valid(y1: &[f64], win: &[f64], nout: usize) -> Vec<f64> {
    let wlen = win.len();
    if nout <= DIRECT_CONVOLVE_MAX {
        // Accumulate as axpy over the reversed kernel so the loop vectorises.
        let mut y2 = vec![0.0; nout];
        for (m, &w) in win.iter().rev().enumerate() {
            for (a, b) in y2.iter_mut().zip(y1.get(m..m + nout).unwrap_or(&[])) {
                *a += w * b;
            }
        }
        return y2;
    }
    use num_complex::Complex64;
    let len = (y1.len() + wlen).next_power_of_two();
    let to_complex = |v: &[f64]| {
        let mut buf = vec![Complex64::new(0.0, 0.0); len];
        for (b, &x) in buf.iter_mut().zip(v) {
            b.re = x;
        }
        fft_plan(len, false).process(&mut buf);
        buf
    };
    let mut a = to_complex(y1);
    let b = to_complex(win);
    for (x, y) in a.iter_mut().zip(&b) {
        *x *= y;
    }
    fft_plan(len, true).process(&mut a);
    let scale = 1.0 / len as f64;
    // Full convolution index n + wlen − 1 is output n.
    a.iter()
        .skip(wlen.saturating_sub(1))
        .take(nout)
        .map(|c| c.re * scale)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_convolution_matches_direct() {
        let nout = DIRECT_CONVOLVE_MAX + 7;
        let y1: Vec<f64> = (0..3 * nout - 1)
            .map(|i| (i as f64 * 0.013).sin() + 1e-3 * i as f64)
            .collect();
        let win: Vec<f64> = (0..2 * nout)
            .map(|m| 1.0 / (1.0 + ((m as f64 - nout as f64) / 9.0).powi(2)))
            .collect();
        let fast = convolve_valid(&y1, &win, nout);
        let mut direct = vec![0.0; nout];
        for (n, d) in direct.iter_mut().enumerate() {
            for (m, w) in win.iter().enumerate() {
                *d += w * y1[n + win.len() - 1 - m];
            }
        }
        let scale = direct.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (f, d) in fast.iter().zip(&direct) {
            assert!((f - d).abs() <= 1e-10 * scale, "{f} vs {d}");
        }
    }
}
