//! Vectorised kernels of the hot loops (AUTOBK's linear maps, the EXAFS
//! path sums): sin, axpy, dot, a small GEMM, and kʷ. Each picks AVX2/FMA at
//! run time when the CPU has them.

/// sin(x) in place for every element, vectorised (AVX2 when present).
/// Cody–Waite reduction by π/2 and fdlibm's `__kernel_sin`/`__kernel_cos`
/// minimax polynomials (Sun fdlibm, k_sin.c/k_cos.c): within 1 ulp of libm
/// for |x| < 1e5; larger or non-finite inputs go through libm.
pub fn sin_in_place(xs: &mut [f64]) {
    if !xs.iter().all(|x| x.abs() < 1e5) {
        xs.iter_mut().for_each(|x| *x = x.sin());
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports every feature sin_avx2 is compiled for.
            unsafe { sin_avx2(xs) };
            return;
        }
    }
    sin_body(xs);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sin_avx2(xs: &mut [f64]) {
    sin_body(xs);
}

#[inline(always)]
fn sin_body(xs: &mut [f64]) {
    const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
    // π/2 split as in fdlibm e_rem_pio2.c: 33 bits + the rest.
    const PIO2_1: f64 = 1.570_796_326_734_125_6;
    const PIO2_1T: f64 = 6.077_100_506_506_192e-11;
    // Adding 1.5·2⁵² rounds to an integer held in the low mantissa bits.
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    const S: [f64; 6] = [
        -1.666_666_666_666_663_2e-1,
        8.333_333_333_322_49e-3,
        -1.984_126_982_985_795e-4,
        2.755_731_370_707_007e-6,
        -2.505_076_025_340_686_3e-8,
        1.589_690_995_211_55e-10,
    ];
    const C: [f64; 6] = [
        4.166_666_666_666_66e-2,
        -1.388_888_888_887_411e-3,
        2.480_158_728_947_673e-5,
        -2.755_731_435_139_066_3e-7,
        2.087_572_321_298_175e-9,
        -1.135_964_755_778_819_5e-11,
    ];
    for x in xs.iter_mut() {
        let v = *x;
        let t = v * INV_PIO2 + MAGIC;
        let q = t.to_bits();
        let n = t - MAGIC;
        let r = (v - n * PIO2_1) - n * PIO2_1T;
        let z = r * r;
        let ps = S[0] + z * (S[1] + z * (S[2] + z * (S[3] + z * (S[4] + z * S[5]))));
        let sin_r = r + r * z * ps;
        let pc = C[0] + z * (C[1] + z * (C[2] + z * (C[3] + z * (C[4] + z * C[5]))));
        let cos_r = 1.0 - 0.5 * z + z * z * pc;
        // Quadrant n mod 4: bit 0 picks cos, bit 1 flips the sign.
        let pick_cos = 0u64.wrapping_sub(q & 1);
        let bits = (sin_r.to_bits() & !pick_cos) | (cos_r.to_bits() & pick_cos);
        *x = f64::from_bits(bits ^ ((q & 2) << 62));
    }
}

/// y += a·x (equal lengths).
#[inline]
pub fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    let n = y.len().min(x.len());
    let (y, x) = (&mut y[..n], &x[..n]);
    for i in 0..n {
        y[i] += a * x[i];
    }
}

/// Σ aᵢbᵢ with independent partial sums so it vectorises (AVX2/FMA when present).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports every feature dot_fma is compiled for.
            return unsafe { dot_fma(a, b) };
        }
    }
    dot_body::<false>(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_fma(a: &[f64], b: &[f64]) -> f64 {
    dot_body::<true>(a, b)
}

#[inline(always)]
fn dot_body<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] = if FMA {
                x[l].mul_add(y[l], acc[l])
            } else {
                acc[l] + x[l] * y[l]
            };
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Σ aᵢbᵢ summed left to right in one accumulator: slower than [`dot`], but
/// the summation order NNLS and XRD quantification were validated with.
pub fn dot_sequential(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The operands of [`gemm_tn_acc`]: A given transposed, `at` (inner × rows,
/// row-major), and B (inner × ncol, rows `ldb` apart).
#[derive(Clone, Copy)]
pub struct GemmTn<'a> {
    pub at: &'a [f64],
    pub rows: usize,
    pub b: &'a [f64],
    pub ldb: usize,
    pub inner: usize,
    pub ncol: usize,
}

/// `out += Aᵀ·B` (`out` is rows × ncol); the hot kernel of AUTOBK's linear
/// maps. Register-tiled: up to 4 rows × 8 columns of `out` stay in
/// registers while the inner index runs, and each element is still summed
/// in order of the inner index. Uses AVX2/FMA when the CPU has them.
pub fn gemm_tn_acc(out: &mut [f64], g: GemmTn<'_>) {
    // Shapes the slices cannot hold are cut to what they hold.
    let ncol = g.ncol;
    let rows = g.rows.min(out.len() / ncol.max(1));
    let inner = g.inner.min(g.at.len() / rows.max(1));
    let inner = if g.b.len() < ncol {
        0
    } else {
        inner.min((g.b.len() - ncol) / g.ldb.max(1) + 1)
    };
    if ncol == 0 || inner == 0 || rows == 0 {
        return;
    }
    let g = GemmTn { rows, inner, ..g };
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports every feature gemm_tn_fma is compiled for.
            unsafe { gemm_tn_fma(out, g) };
            return;
        }
    }
    gemm_tn_body::<false>(out, g);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_tn_fma(out: &mut [f64], g: GemmTn<'_>) {
    gemm_tn_body::<true>(out, g);
}

#[inline(always)]
fn gemm_tn_body<const FMA: bool>(out: &mut [f64], g: GemmTn<'_>) {
    let (rows, ncol) = (g.rows, g.ncol);
    let mut c = 0;
    while c < ncol {
        let width = (ncol - c).min(8);
        let mut r = 0;
        while r < rows {
            let o = &mut *out;
            match (rows - r, width) {
                (1, 8) => tile::<FMA, 1, 8>(o, g, r, c),
                (2, 8) => tile::<FMA, 2, 8>(o, g, r, c),
                (3, 8) => tile::<FMA, 3, 8>(o, g, r, c),
                (_, 8) => tile::<FMA, 4, 8>(o, g, r, c),
                (1, 4..) => tile::<FMA, 1, 4>(o, g, r, c),
                (2, 4..) => tile::<FMA, 2, 4>(o, g, r, c),
                (3, 4..) => tile::<FMA, 3, 4>(o, g, r, c),
                (_, 4..) => tile::<FMA, 4, 4>(o, g, r, c),
                (1, _) => tile::<FMA, 1, 1>(o, g, r, c),
                (2, _) => tile::<FMA, 2, 1>(o, g, r, c),
                (3, _) => tile::<FMA, 3, 1>(o, g, r, c),
                (_, _) => tile::<FMA, 4, 1>(o, g, r, c),
            }
            r += 4;
        }
        c += if width == 8 {
            8
        } else if width >= 4 {
            4
        } else {
            1
        };
    }
}

/// `R` rows × `W` columns of `out` from row `r`, column `c`, accumulated in
/// registers over the whole inner index.
#[inline(always)]
fn tile<const FMA: bool, const R: usize, const W: usize>(
    out: &mut [f64],
    g: GemmTn<'_>,
    r: usize,
    c: usize,
) {
    let (ncol, rows, ldb) = (g.ncol, g.rows, g.ldb);
    let mut acc = [[0.0f64; W]; R];
    for (q, accq) in acc.iter_mut().enumerate() {
        accq.copy_from_slice(&out[(r + q) * ncol + c..(r + q) * ncol + c + W]);
    }
    for p in 0..g.inner {
        let av = &g.at[p * rows + r..p * rows + r + R];
        let bv = &g.b[p * ldb + c..p * ldb + c + W];
        for q in 0..R {
            for l in 0..W {
                acc[q][l] = if FMA {
                    bv[l].mul_add(av[q], acc[q][l])
                } else {
                    acc[q][l] + av[q] * bv[l]
                };
            }
        }
    }
    for (q, accq) in acc.iter().enumerate() {
        out[(r + q) * ncol + c..(r + q) * ncol + c + W].copy_from_slice(accq);
    }
}

/// kʷ, with an integer fast path (k-weights are almost always 0–3).
#[inline]
pub fn kpow(k: f64, w: f64) -> f64 {
    if w.fract() == 0.0 && w.abs() < 16.0 {
        k.powi(w as i32)
    } else {
        k.powf(w)
    }
}

#[cfg(test)]
mod tests {

    /// The tiled GEMM equals the plain triple loop (same summation order)
    /// for every shape of remainder rows and columns and a strided B.
    #[test]
    fn gemm_tn_acc_matches_the_plain_loop() {
        for (rows, inner, ncol, ldb_extra) in [
            (1, 1, 1, 0),
            (11, 300, 62, 6),
            (12, 301, 64, 16),
            (4, 17, 8, 0),
            (7, 5, 19, 3),
            (3, 40, 7, 1),
        ] {
            let ldb = ncol + ldb_extra;
            let at: Vec<f64> = (0..inner * rows)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
                .collect();
            let b: Vec<f64> = (0..inner * ldb)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 11.0)
                .collect();
            let init: Vec<f64> = (0..rows * ncol).map(|i| i as f64 * 0.25).collect();
            let mut fast = init.clone();
            super::gemm_tn_acc(
                &mut fast,
                super::GemmTn {
                    at: &at,
                    rows,
                    b: &b,
                    ldb,
                    inner,
                    ncol,
                },
            );
            for r in 0..rows {
                for c in 0..ncol {
                    let mut v = init[r * ncol + c];
                    for p in 0..inner {
                        v += at[p * rows + r] * b[p * ldb + c];
                    }
                    let got = fast[r * ncol + c];
                    assert!(
                        (got - v).abs() <= 1e-12 * v.abs().max(1.0),
                        "({r},{c}): {got} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn sin_in_place_matches_libm() {
        let mut worst: f64 = 0.0;
        let xs: Vec<f64> = (0..200_001)
            .map(|i| -300.0 + 3e-3 * i as f64 + 1e-7 * (i % 7) as f64)
            .chain([0.0, -0.0, 1e-300, 1e-8, std::f64::consts::PI, 9.9e4])
            .collect();
        let mut ys = xs.clone();
        super::sin_in_place(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            let e = (y - x.sin()).abs();
            assert!(
                e <= 2.3e-16 * x.sin().abs().max(1e-3),
                "sin({x}) = {y}, libm {}",
                x.sin()
            );
            worst = worst.max(e);
        }
        assert!(worst > 0.0 || xs.is_empty());
        let mut odd = vec![0.5, f64::NAN, 1e6, f64::INFINITY];
        super::sin_in_place(&mut odd);
        assert_eq!(odd[0], 0.5f64.sin());
        assert!(odd[1].is_nan() && odd[3].is_nan());
        assert_eq!(odd[2], 1e6f64.sin());
    }
}
