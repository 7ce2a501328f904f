//! Stage 2 of the shared space: a two-tower contrastive refinement of the
//! stage-1 joint coordinates (the objective CLIP aligns images and text
//! with: Radford et al. 2021, arXiv:2103.00020). Each tower is a linear
//! map of one view's stage-1 coordinates (d → d), started at the identity
//! (so training starts from stage 1); both outputs are unit-normalised and
//! the symmetric InfoNCE loss over a batch of N structures,
//!
//! L = ½ [ −(1/N) Σᵢ log softmax_j(aᵢ·bⱼ/τ)ᵢ − (1/N) Σⱼ log softmax_i(aᵢ·bⱼ/τ)ⱼ ],
//!
//! pulls a structure's two views together and pushes the other
//! structures' apart. Its gradient is closed-form: ∂L/∂(aᵢ·bⱼ/τ) =
//! ½ (Pᵢⱼ + Qᵢⱼ − 2δᵢⱼ)/N with P and Q the row and column softmaxes, then
//! through the normalisation (I − aaᵀ)/|f| and the linear maps. A ridge
//! λ‖A − I‖² keeps the towers near stage 1. Full-batch Adam; each epoch
//! may see freshly augmented views (the caller's `pairs` closure).

use serde::{Deserialize, Serialize};

use super::autoencoder::Adam;
use super::pca::LatentError;

/// Training options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContrastiveOptions {
    /// τ of the logits.
    pub temperature: f64,
    pub epochs: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// λ of the pull towards the identity (stage 1).
    pub ridge: f64,
}

impl Default for ContrastiveOptions {
    fn default() -> Self {
        ContrastiveOptions {
            temperature: 0.1,
            epochs: 200,
            learning_rate: 1e-2,
            ridge: 1e-2,
        }
    }
}

/// Most pairs in one batch: the logits and their two softmaxes are three
/// N × N matrices (96 MB at the cap), and an epoch costs N² · d.
pub const MAX_CONTRASTIVE_PAIRS: usize = 2_000;

/// The two towers: `a` maps the first view's coordinates, `b` the
/// second's (d × d, row-major).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoTower {
    pub dims: usize,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub temperature: f64,
    /// The loss after each epoch.
    pub loss_history: Vec<f64>,
}

fn apply(m: &[f64], d: usize, x: &[f64]) -> Vec<f64> {
    (0..d)
        .map(|r| (0..d).map(|c| m[r * d + c] * x[c]).sum())
        .collect()
}

fn unit(x: Vec<f64>) -> (Vec<f64>, f64) {
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    (x.iter().map(|v| v / n).collect(), n)
}

/// The symmetric InfoNCE loss of unit rows `a`, `b` at temperature `t`
/// and its gradient with respect to each row.
fn info_nce(a: &[Vec<f64>], b: &[Vec<f64>], t: f64) -> (f64, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let n = a.len();
    let d = a.first().map_or(0, Vec::len);
    let logits: Vec<Vec<f64>> = a
        .iter()
        .map(|ai| {
            b.iter()
                .map(|bj| ai.iter().zip(bj).map(|(x, y)| x * y).sum::<f64>() / t)
                .collect()
        })
        .collect();
    let softmax = |v: &mut Vec<f64>| {
        let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = v.iter().map(|x| (x - m).exp()).sum();
        let lse = m + s.ln();
        for x in v.iter_mut() {
            *x = (*x - lse).exp();
        }
        lse
    };
    let mut p = logits.clone();
    let mut loss = 0.0;
    for (i, row) in p.iter_mut().enumerate() {
        let lse = softmax(row);
        loss += lse - logits[i][i];
    }
    let mut q: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..n).map(|i| logits[i][j]).collect())
        .collect();
    for (j, col) in q.iter_mut().enumerate() {
        let lse = softmax(col);
        loss += lse - logits[j][j];
    }
    loss /= 2.0 * n as f64;
    // G[i][j] = ∂L/∂logit[i][j].
    let g = |i: usize, j: usize| {
        let delta = if i == j { 1.0 } else { 0.0 };
        (p[i][j] + q[j][i] - 2.0 * delta) / (2.0 * n as f64)
    };
    let mut ga = vec![vec![0.0; d]; n];
    let mut gb = vec![vec![0.0; d]; n];
    for i in 0..n {
        for j in 0..n {
            let w = g(i, j) / t;
            for k in 0..d {
                ga[i][k] += w * b[j][k];
                gb[j][k] += w * a[i][k];
            }
        }
    }
    (loss, ga, gb)
}

impl TwoTower {
    /// Train on `pairs(epoch)`: the (first view, second view) stage-1
    /// coordinates of the same N structures, row i of each from structure
    /// i (fresh augmentations each epoch, or the same every time).
    /// `progress(epoch, epochs, loss)` returning false cancels (`None`).
    pub fn fit(
        dims: usize,
        o: &ContrastiveOptions,
        pairs: &mut dyn FnMut(usize) -> (Vec<Vec<f64>>, Vec<Vec<f64>>),
        progress: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Result<Option<TwoTower>, LatentError> {
        let shape = |reason: String| LatentError::Shape {
            what: "contrastive towers",
            reason,
        };
        let ok = (1..=128).contains(&dims)
            && (1..=100_000).contains(&o.epochs)
            && o.temperature.is_finite()
            && o.temperature > 0.0
            && o.learning_rate.is_finite()
            && o.learning_rate > 0.0
            && o.ridge.is_finite()
            && o.ridge >= 0.0;
        if !ok {
            return Err(shape(format!("options or {dims} dimensions out of range")));
        }
        let eye: Vec<f64> = (0..dims * dims)
            .map(|i| if i / dims == i % dims { 1.0 } else { 0.0 })
            .collect();
        let (mut a, mut b) = (eye.clone(), eye.clone());
        let (mut ma, mut mb) = (Adam::new(dims * dims), Adam::new(dims * dims));
        let mut history = Vec::with_capacity(o.epochs);
        for epoch in 0..o.epochs {
            let (u, v) = pairs(epoch);
            let n = u.len();
            if n < 2 || v.len() != n || n > MAX_CONTRASTIVE_PAIRS {
                return Err(shape(format!(
                    "{n} and {} pairs: 2 to {MAX_CONTRASTIVE_PAIRS}, as many of each",
                    v.len()
                )));
            }
            if u.iter()
                .chain(&v)
                .any(|r| r.len() != dims || r.iter().any(|x| !x.is_finite()))
            {
                return Err(shape(format!("coordinates not of {dims} finite values")));
            }
            let (fa, na): (Vec<Vec<f64>>, Vec<f64>) =
                u.iter().map(|x| unit(apply(&a, dims, x))).unzip();
            let (fb, nb): (Vec<Vec<f64>>, Vec<f64>) =
                v.iter().map(|x| unit(apply(&b, dims, x))).unzip();
            let (loss, ga, gb) = info_nce(&fa, &fb, o.temperature);
            // Through the normalisation and the linear map.
            let grad =
                |g: &[Vec<f64>], f: &[Vec<f64>], norms: &[f64], x: &[Vec<f64>], m: &[f64]| {
                    let mut out: Vec<f64> = m
                        .iter()
                        .zip(&eye)
                        .map(|(w, e)| 2.0 * o.ridge * (w - e))
                        .collect();
                    for i in 0..g.len() {
                        let dot: f64 = g[i].iter().zip(&f[i]).map(|(p, q)| p * q).sum();
                        for r in 0..dims {
                            let gf = (g[i][r] - dot * f[i][r]) / norms[i];
                            for c in 0..dims {
                                out[r * dims + c] += gf * x[i][c];
                            }
                        }
                    }
                    out
                };
            let gra = grad(&ga, &fa, &na, &u, &a);
            let grb = grad(&gb, &fb, &nb, &v, &b);
            let t = i32::try_from(epoch + 1).unwrap_or(i32::MAX);
            ma.step(&mut a, &gra, o.learning_rate, t);
            mb.step(&mut b, &grb, o.learning_rate, t);
            if !loss.is_finite() {
                return Err(LatentError::NotFinite("the contrastive loss"));
            }
            history.push(loss);
            if !progress(epoch + 1, o.epochs, loss) {
                return Ok(None);
            }
        }
        Ok(Some(TwoTower {
            dims,
            a,
            b,
            temperature: o.temperature,
            loss_history: history,
        }))
    }

    /// The first view's embedding (unit length) of stage-1 coordinates.
    pub fn embed_first(&self, x: &[f64]) -> Vec<f64> {
        unit(apply(&self.a, self.dims, x)).0
    }

    /// The second view's embedding (unit length).
    pub fn embed_second(&self, x: &[f64]) -> Vec<f64> {
        unit(apply(&self.b, self.dims, x)).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The closed-form gradient equals finite differences of the loss.
    #[test]
    fn info_nce_gradient_is_the_loss_derivative() {
        let a: Vec<Vec<f64>> = (0..4)
            .map(|i| unit((0..3).map(|k| ((i * 3 + k) as f64 * 0.7).sin()).collect()).0)
            .collect();
        let b: Vec<Vec<f64>> = (0..4)
            .map(|i| unit((0..3).map(|k| ((i * 5 + k) as f64 * 0.3).cos()).collect()).0)
            .collect();
        let (_, ga, gb) = info_nce(&a, &b, 0.2);
        let h = 1e-6;
        for i in 0..4 {
            for k in 0..3 {
                let mut ap = a.clone();
                ap[i][k] += h;
                let mut am = a.clone();
                am[i][k] -= h;
                let num = (info_nce(&ap, &b, 0.2).0 - info_nce(&am, &b, 0.2).0) / (2.0 * h);
                assert!(
                    (num - ga[i][k]).abs() < 1e-6,
                    "a[{i}][{k}] {num} vs {}",
                    ga[i][k]
                );
                let mut bp = b.clone();
                bp[i][k] += h;
                let mut bm = b.clone();
                bm[i][k] -= h;
                let num = (info_nce(&a, &bp, 0.2).0 - info_nce(&a, &bm, 0.2).0) / (2.0 * h);
                assert!(
                    (num - gb[i][k]).abs() < 1e-6,
                    "b[{i}][{k}] {num} vs {}",
                    gb[i][k]
                );
            }
        }
    }

    /// Two views related by a rotation and noise: training aligns them
    /// (the loss falls, the own partner ranks first more often than at
    /// the identity start).
    #[test]
    fn towers_learn_a_rotation_between_views() {
        let d = 4;
        let n = 40;
        let u: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..d)
                    .map(|k| ((i * 7 + k * 3) as f64 * 0.61).sin())
                    .collect()
            })
            .collect();
        // v = R u with R a rotation in the first two axes by 90°.
        let v: Vec<Vec<f64>> = u.iter().map(|x| vec![-x[1], x[0], x[2], x[3]]).collect();
        let hits = |t: &TwoTower| {
            (0..n)
                .filter(|&i| {
                    let q = t.embed_first(&u[i]);
                    let best = (0..n)
                        .map(|j| {
                            let k = t.embed_second(&v[j]);
                            (j, q.iter().zip(&k).map(|(a, b)| a * b).sum::<f64>())
                        })
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|x| x.0);
                    best == Some(i)
                })
                .count()
        };
        let o = ContrastiveOptions {
            epochs: 300,
            ridge: 0.0,
            ..Default::default()
        };
        let t = TwoTower::fit(d, &o, &mut |_| (u.clone(), v.clone()), &mut |_, _, _| true)
            .expect("fit")
            .expect("done");
        let start = TwoTower::fit(
            d,
            &ContrastiveOptions {
                epochs: 1,
                learning_rate: 1e-12,
                ..o
            },
            &mut |_| (u.clone(), v.clone()),
            &mut |_, _, _| true,
        )
        .expect("fit")
        .expect("done");
        let (h0, h1) = (hits(&start), hits(&t));
        assert!(t.loss_history[299] < t.loss_history[0]);
        assert!(h1 > h0 + 10 && h1 >= 35, "{h0} → {h1} of {n}");
        // Bad input: errors, not panics; more pairs than the cap are
        // refused before any N × N matrix is made.
        let many = vec![vec![0.5; d]; MAX_CONTRASTIVE_PAIRS + 1];
        let e = TwoTower::fit(
            d,
            &o,
            &mut |_| (many.clone(), many.clone()),
            &mut |_, _, _| true,
        )
        .expect_err("too many pairs");
        assert!(e.to_string().contains("2000"), "{e}");
        assert!(
            TwoTower::fit(
                d,
                &o,
                &mut |_| (u[..1].to_vec(), v[..1].to_vec()),
                &mut |_, _, _| true
            )
            .is_err()
        );
        assert!(
            TwoTower::fit(0, &o, &mut |_| (u.clone(), v.clone()), &mut |_, _, _| true).is_err()
        );
        let mut nan = u.clone();
        nan[3][1] = f64::NAN;
        assert!(
            TwoTower::fit(d, &o, &mut |_| (nan.clone(), v.clone()), &mut |_, _, _| {
                true
            })
            .is_err()
        );
    }
}
