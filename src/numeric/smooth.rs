//! Larch's `smooth` (Lorentzian kernel) and the 'valid' convolution it is
//! built on, direct or by FFT for long grids.

use std::rc::Rc;

use num_complex::Complex64;

use super::fft::real_fft_plans;
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
    let kernel = Kernel::cached(npts, sig);
    // y1 = y0[npts-1..=1] reversed, y0, y0 reversed  (length 3npts-1)
    let mut y1 = Vec::with_capacity(3 * npts);
    y1.extend((1..npts).rev().map(|i| y0[i]));
    y1.extend_from_slice(&y0);
    y1.extend(y0.iter().rev());
    // 'valid' convolution: y2[n] = Σ_m win[m] · y1[n + 2npts − 1 − m]. The
    // final step is a linear interpolation back onto x, so on ordinary grids
    // only the points bracketing the data are computed (direct dot products);
    // huge grids go through the FFT for all points.
    let y2 = if npts < FFT_SMOOTH_MIN {
        let wlen = 2 * npts;
        let mut wrev = kernel.win.clone();
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
        kernel.convolve_valid(&y1)
    };
    interp_clamped(&x0, &y2, x)
}

/// From this many grid points on, smoothing convolves by FFT: the direct
/// sum costs about 4·npts² multiply-adds (every point with a 2·npts kernel),
/// the FFT a few·npts·log₂(npts) (measured faster from about 150 points;
/// a 5000-point scan whose edge sits in its first 5% is smoothed on up to
/// 250 000 points, which took minutes directly: found by fuzzing).
const FFT_SMOOTH_MIN: usize = 150;

/// Larch's smoothing kernel for one grid: win[m] for m in 0..2npts, a
/// Lorentzian centred at npts, normalised to unit sum; and, for the FFT
/// path, its real spectrum at the transform length.
struct Kernel {
    npts: usize,
    win: Vec<f64>,
    spectrum: std::cell::OnceCell<(usize, Vec<Complex64>)>,
}

/// Grids up to this size keep their kernel per thread (a batch of scans
/// on one energy grid builds it once): at most 32 entries of about 50·npts
/// bytes, 6.5 MiB per thread in the worst case, 30 KiB for a typical
/// 600-point grid.
const KERNEL_CACHE_MAX_NPTS: usize = 4096;
const KERNEL_CACHE_ENTRIES: usize = 32;

impl Kernel {
    fn new(npts: usize, sig: f64) -> Kernel {
        let mut win: Vec<f64> = (0..2 * npts)
            .map(|m| lorentzian(m as f64, npts as f64, sig))
            .collect();
        let wsum: f64 = win.iter().sum();
        for w in &mut win {
            *w /= wsum;
        }
        Kernel {
            npts,
            win,
            spectrum: std::cell::OnceCell::new(),
        }
    }

    fn cached(npts: usize, sig: f64) -> Rc<Kernel> {
        use std::cell::RefCell;
        type Cache = Vec<(usize, u64, Rc<Kernel>)>;
        thread_local! {
            static CACHE: RefCell<Cache> = const { RefCell::new(Vec::new()) };
        }
        if npts > KERNEL_CACHE_MAX_NPTS {
            return Rc::new(Kernel::new(npts, sig));
        }
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if let Some((_, _, k)) = c.iter().find(|(n, s, _)| *n == npts && *s == sig.to_bits()) {
                return k.clone();
            }
            if c.len() >= KERNEL_CACHE_ENTRIES {
                c.remove(0);
            }
            let k = Rc::new(Kernel::new(npts, sig));
            c.push((npts, sig.to_bits(), k.clone()));
            k
        })
    }

    /// The 'valid' convolution y2[n] = Σ_m win[m] · y1[n + 2npts − 1 − m]
    /// for n in 0..npts (NumPy `convolve(win, y1, mode='valid')`) by real
    /// FFTs: the circular length (≥ len(y1) = 3npts − 1) leaves every valid
    /// output free of wrap-around.
    fn convolve_valid(&self, y1: &[f64]) -> Vec<f64> {
        let npts = self.npts;
        let wlen = self.win.len();
        let len = y1.len().max(npts + wlen - 1).next_power_of_two().max(2);
        let (r2c, c2r) = real_fft_plans(len);
        let (_, wspec) = self.spectrum.get_or_init(|| {
            let mut buf = vec![0.0; len];
            buf[..wlen].copy_from_slice(&self.win);
            let mut spec = r2c.make_output_vec();
            // Lengths are the plan's own: the transform cannot refuse them.
            let _ = r2c.process(&mut buf, &mut spec);
            (len, spec)
        });
        let mut buf = vec![0.0; len];
        buf[..y1.len().min(len)].copy_from_slice(&y1[..y1.len().min(len)]);
        let mut spec = r2c.make_output_vec();
        let _ = r2c.process(&mut buf, &mut spec);
        for (s, w) in spec.iter_mut().zip(wspec) {
            *s *= w;
        }
        // A real signal's spectrum is real at 0 and at the Nyquist bin.
        let last = spec.len() - 1;
        spec[0].im = 0.0;
        spec[last].im = 0.0;
        let _ = c2r.process(&mut spec, &mut buf);
        let scale = 1.0 / len as f64;
        (0..npts).map(|n| buf[n + wlen - 1] * scale).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_convolution_matches_direct() {
        for nout in [FFT_SMOOTH_MIN, 777, 4103] {
            fft_matches_direct(nout, 1.0);
            fft_matches_direct(nout, 3e-7);
        }
    }

    /// y1 of magnitude `ymag` (a derivative in other units than the kernel).
    fn fft_matches_direct(nout: usize, ymag: f64) {
        let y1: Vec<f64> = (0..3 * nout - 1)
            .map(|i| ymag * ((i as f64 * 0.013).sin() + 1e-3 * i as f64))
            .collect();
        let win: Vec<f64> = (0..2 * nout)
            .map(|m| 1.0 / (1.0 + ((m as f64 - nout as f64) / 9.0).powi(2)))
            .collect();
        let kernel = Kernel {
            npts: nout,
            win: win.clone(),
            spectrum: std::cell::OnceCell::new(),
        };
        let fast = kernel.convolve_valid(&y1);
        let mut direct = vec![0.0; nout];
        for (n, d) in direct.iter_mut().enumerate() {
            for (m, w) in win.iter().enumerate() {
                *d += w * y1[n + win.len() - 1 - m];
            }
        }
        let scale = direct.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (f, d) in fast.iter().zip(&direct) {
            assert!((f - d).abs() <= 1e-12 * scale, "{f} vs {d}");
        }
    }
}
