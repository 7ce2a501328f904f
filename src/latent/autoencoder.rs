//! A small autoencoder of profiles on a common grid, hand-written on
//! ndarray: the non-linear sibling of [`super::pca::Pca`] (`fit` once,
//! `transform` many times; a model file).
//!
//! Architecture: the profile minus the training mean, divided by the
//! training set's overall standard deviation, → tanh layer of `hidden`
//! units → `components` linear latent coordinates → tanh layer of `hidden`
//! → the grid again (linear). Objective: mean squared reconstruction error
//! over the points each profile covers (masked points enter the encoder as
//! the mean, 0 after centring, and are left out of the loss, so a partial
//! spectrum is never fitted as if zero there). Optimiser: Adam (Kingma &
//! Ba 2015, arXiv:1412.6980) on shuffled mini-batches; Glorot-uniform
//! start (Glorot & Bengio 2010); a fixed seed, so training is
//! deterministic. Progress reports each epoch's loss (the live readout)
//! and stops on Cancel.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::pca::LatentError;

/// Training options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoencoderOptions {
    /// Latent coordinates (1–32).
    pub components: usize,
    /// Units of each hidden layer (2–512).
    pub hidden: usize,
    /// Passes over the training set (1–100000).
    pub epochs: usize,
    /// Profiles per mini-batch.
    pub batch: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Seed of the start and of the shuffling.
    pub seed: u64,
    /// Decoupled weight decay per step, × the step size (AdamW, Loshchilov
    /// & Hutter 2019); biases are not decayed.
    pub weight_decay: f64,
    /// Fraction of the profiles held out to choose the epoch (with at
    /// least 20 profiles): the weights of the epoch with the lowest
    /// held-out loss are kept.
    pub validation: f64,
}

impl Default for AutoencoderOptions {
    fn default() -> Self {
        AutoencoderOptions {
            components: 2,
            hidden: 64,
            epochs: 300,
            batch: 32,
            learning_rate: 3e-3,
            seed: 1,
            weight_decay: 0.5,
            validation: 0.1,
        }
    }
}

/// A trained autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Autoencoder {
    /// Training mean profile (grid points).
    pub mean: Vec<f64>,
    /// Overall standard deviation of the centred training values.
    pub scale: f64,
    /// Layers, input side first: (weights rows × cols, biases).
    layers: [Layer; 4],
    /// Mean squared error (standardised units) after each epoch.
    pub loss_history: Vec<f64>,
    /// The same on the held-out profiles ([`AutoencoderOptions::validation`]),
    /// and the epoch (from 1) whose weights were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_history: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_epoch: Option<usize>,
    /// Fraction of the training set's variance the reconstruction keeps
    /// (1 − SSE/SST over covered points; PCA's cumulative explained
    /// variance ratio is the same figure for its components).
    pub explained_fraction: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Layer {
    rows: usize,
    cols: usize,
    /// Row-major rows × cols (out × in).
    w: Vec<f64>,
    b: Vec<f64>,
}

impl Layer {
    fn w(&self) -> Result<ArrayView2<'_, f64>, LatentError> {
        ArrayView2::from_shape((self.rows, self.cols), &self.w).map_err(|_| LatentError::Shape {
            what: "autoencoder layer",
            reason: format!("{} weights for {} × {}", self.w.len(), self.rows, self.cols),
        })
    }
}

/// Deterministic uniform numbers (xorshift64*, Vigna 2016): the
/// autoencoder's start and shuffling, the UMAP layout's negative samples.
pub struct Rng(pub u64);
impl Rng {
    fn bits53(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.bits53() as f64 / (1u64 << 53) as f64
    }
    /// Uniform in 0..n.
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((self.bits53() as u128 * n as u128) >> 53) as usize
    }
}

/// Adam's state of one parameter array (Kingma & Ba 2015; also the
/// contrastive towers').
pub(super) struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    pub(super) fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }
    /// One step of `lr` on `p` with gradient `g` at step `t` (from 1).
    pub(super) fn step(&mut self, p: &mut [f64], g: &[f64], lr: f64, t: i32) {
        const B1: f64 = 0.9;
        const B2: f64 = 0.999;
        let c1 = 1.0 - B1.powi(t);
        let c2 = 1.0 - B2.powi(t);
        for i in 0..p.len() {
            self.m[i] = B1 * self.m[i] + (1.0 - B1) * g[i];
            self.v[i] = B2 * self.v[i] + (1.0 - B2) * g[i] * g[i];
            p[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

/// Activations of a forward pass over a batch.
struct Pass {
    h1: Array2<f64>,
    z: Array2<f64>,
    h2: Array2<f64>,
    y: Array2<f64>,
}

fn affine(x: &Array2<f64>, l: &Layer) -> Result<Array2<f64>, LatentError> {
    let b = ArrayView2::from_shape((1, l.rows), &l.b).map_err(|_| LatentError::Shape {
        what: "autoencoder layer",
        reason: format!("{} biases for {} units", l.b.len(), l.rows),
    })?;
    Ok(x.dot(&l.w()?.t()) + b)
}

fn forward(layers: &[Layer; 4], x: &Array2<f64>) -> Result<Pass, LatentError> {
    let h1 = affine(x, &layers[0])?.mapv(f64::tanh);
    let z = affine(&h1, &layers[1])?;
    let h2 = affine(&z, &layers[2])?.mapv(f64::tanh);
    let y = affine(&h2, &layers[3])?;
    Ok(Pass { h1, z, h2, y })
}

/// Gradient of a layer: dL/dW = deltaᵀ · input, dL/db = Σ delta.
fn grads(delta: &Array2<f64>, input: &Array2<f64>) -> (Vec<f64>, Vec<f64>) {
    let gw = delta.t().dot(input);
    let gb = delta.sum_axis(Axis(0));
    (gw.iter().copied().collect(), gb.to_vec())
}

impl Autoencoder {
    /// Train on the rows of `x` (profiles × grid points) with `mask` (the
    /// points each covers; same shape). `progress(epoch, epochs, loss)`
    /// returning false cancels (then `None`).
    pub fn fit(
        x: ArrayView2<'_, f64>,
        mask: ArrayView2<'_, bool>,
        o: &AutoencoderOptions,
        progress: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Result<Option<Autoencoder>, LatentError> {
        let (n, d) = x.dim();
        let shape = |reason: String| LatentError::Shape {
            what: "autoencoder",
            reason,
        };
        if mask.dim() != (n, d) {
            return Err(shape(format!(
                "mask {:?} for {n} × {d} profiles",
                mask.dim()
            )));
        }
        if n < 2 || d == 0 {
            return Err(shape(format!(
                "{n} profiles × {d} points: at least 2 profiles are needed"
            )));
        }
        let in_range = (1..=32).contains(&o.components)
            && (2..=512).contains(&o.hidden)
            && (1..=100_000).contains(&o.epochs)
            && o.batch > 0
            && o.learning_rate.is_finite()
            && o.learning_rate > 0.0
            && o.learning_rate < 1.0
            && (0.0..1.0).contains(&o.weight_decay)
            && (0.0..=0.5).contains(&o.validation);
        if !in_range {
            return Err(shape(format!(
                "options out of range: components {} (1–32), hidden {} (2–512), epochs {} (1–100000), batch {} (≥ 1), learning rate {} (0–1), weight decay {} (0–1), validation {} (0–0.5)",
                o.components,
                o.hidden,
                o.epochs,
                o.batch,
                o.learning_rate,
                o.weight_decay,
                o.validation
            )));
        }
        // Work bounded by what the input justifies: weights × profiles × epochs.
        let work = (n as f64)
            * (o.epochs as f64)
            * (2.0 * d as f64 + 2.0 * o.components as f64)
            * o.hidden as f64;
        if work > 5e12 {
            return Err(shape(format!(
                "{n} profiles × {d} points × {} epochs × {} hidden units is too much training (≈{work:.0e} multiply-adds; at most 5e12, about a quarter of an hour here)",
                o.epochs, o.hidden
            )));
        }
        if x.iter().zip(mask.iter()).any(|(v, m)| *m && !v.is_finite()) {
            return Err(LatentError::NotFinite("the autoencoder's training set"));
        }
        // Mean per point over the profiles covering it; scale over all.
        let mut mean = vec![0.0; d];
        for j in 0..d {
            let (s, c) = (0..n)
                .filter(|&i| mask[(i, j)])
                .fold((0.0, 0usize), |(s, c), i| (s + x[(i, j)], c + 1));
            mean[j] = if c > 0 { s / c as f64 } else { 0.0 };
        }
        let m = mask.mapv(|b| if b { 1.0 } else { 0.0 });
        let centred = Array2::from_shape_fn((n, d), |(i, j)| {
            if mask[(i, j)] {
                x[(i, j)] - mean[j]
            } else {
                0.0
            }
        });
        let covered = m.sum();
        if covered == 0.0 {
            return Err(shape("no profile covers any grid point".into()));
        }
        let sst = centred.iter().map(|v| v * v).sum::<f64>();
        let scale = (sst / covered).sqrt();
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(shape(
                "the profiles are all the same: nothing to learn".into(),
            ));
        }
        let xs = centred / scale;
        let mut rng = Rng(o.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut layer = |rows: usize, cols: usize| {
            let a = (6.0 / (rows + cols) as f64).sqrt();
            Layer {
                rows,
                cols,
                w: (0..rows * cols)
                    .map(|_| (2.0 * rng.uniform() - 1.0) * a)
                    .collect(),
                b: vec![0.0; rows],
            }
        };
        let (h, k) = (o.hidden, o.components);
        let mut layers = [layer(h, d), layer(k, h), layer(h, k), layer(d, h)];
        let mut adam: Vec<(Adam, Adam)> = layers
            .iter()
            .map(|l| (Adam::new(l.w.len()), Adam::new(l.b.len())))
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        // Fisher–Yates with the seeded generator.
        let shuffle = |order: &mut Vec<usize>, rng: &mut Rng| {
            for i in (1..order.len()).rev() {
                let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
                order.swap(i, j);
            }
        };
        // The held-out profiles: a seeded draw, when there are enough.
        let n_val = if n >= 20 {
            ((n as f64 * o.validation).round() as usize).min(n - 2)
        } else {
            0
        };
        shuffle(&mut order, &mut rng);
        let held: Vec<usize> = order.split_off(n - n_val);
        let (xv, mv) = (xs.select(Axis(0), &held), m.select(Axis(0), &held));
        let covered_v = mv.sum().max(1.0);
        let mut history = Vec::with_capacity(o.epochs);
        let mut val_history = Vec::new();
        let mut best: Option<(f64, usize, [Layer; 4])> = None;
        let mut t = 0i32;
        for epoch in 0..o.epochs {
            shuffle(&mut order, &mut rng);
            for chunk in order.chunks(o.batch) {
                let xb = xs.select(Axis(0), chunk);
                let mb = m.select(Axis(0), chunk);
                let p = forward(&layers, &xb)?;
                let count = mb.sum().max(1.0);
                let dy = (&p.y - &xb) * &mb * (2.0 / count);
                let d4 = grads(&dy, &p.h2);
                let da2 = dy.dot(&layers[3].w()?) * p.h2.mapv(|v| 1.0 - v * v);
                let d3 = grads(&da2, &p.z);
                let dz = da2.dot(&layers[2].w()?);
                let d2 = grads(&dz, &p.h1);
                let da1 = dz.dot(&layers[1].w()?) * p.h1.mapv(|v| 1.0 - v * v);
                let d1 = grads(&da1, &xb);
                t = t.saturating_add(1);
                for (i, (gw, gb)) in [d1, d2, d3, d4].into_iter().enumerate() {
                    let (aw, ab) = &mut adam[i];
                    if o.weight_decay > 0.0 {
                        let keep = 1.0 - o.learning_rate * o.weight_decay;
                        layers[i].w.iter_mut().for_each(|w| *w *= keep);
                    }
                    aw.step(&mut layers[i].w, &gw, o.learning_rate, t);
                    ab.step(&mut layers[i].b, &gb, o.learning_rate, t);
                }
            }
            let fitted = xs.select(Axis(0), &order);
            let mf = m.select(Axis(0), &order);
            let p = forward(&layers, &fitted)?;
            let sse = ((&p.y - &fitted) * &mf).mapv(|v| v * v).sum();
            let loss = sse / mf.sum().max(1.0);
            if !loss.is_finite() {
                return Err(LatentError::NotFinite(
                    "the autoencoder's loss (lower the learning rate)",
                ));
            }
            history.push(loss);
            if n_val > 0 {
                let p = forward(&layers, &xv)?;
                let v = ((&p.y - &xv) * &mv).mapv(|v| v * v).sum() / covered_v;
                val_history.push(v);
                if best.as_ref().is_none_or(|b| v < b.0) {
                    best = Some((v, epoch + 1, layers.clone()));
                }
            }
            if !progress(epoch + 1, o.epochs, loss) {
                return Ok(None);
            }
        }
        let best_epoch = best.as_ref().map(|b| b.1);
        if let Some((_, _, kept)) = best {
            layers = kept;
        }
        // Standardised SST per covered point is 1, so SSE/covered = SSE/SST
        // over the whole training set, with the weights kept.
        let p = forward(&layers, &xs)?;
        let sse = ((&p.y - &xs) * &m).mapv(|v| v * v).sum();
        let explained_fraction = 1.0 - sse / covered;
        Ok(Some(Autoencoder {
            mean,
            scale,
            layers,
            loss_history: history,
            validation_history: val_history,
            best_epoch,
            explained_fraction,
        }))
    }

    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    pub fn components(&self) -> usize {
        self.layers[1].rows
    }

    /// Standardised input of profiles (masked points at the mean).
    fn standardise(
        &self,
        x: ArrayView2<'_, f64>,
        mask: Option<ArrayView2<'_, bool>>,
    ) -> Result<Array2<f64>, LatentError> {
        let (n, d) = x.dim();
        if d != self.n_features() || mask.is_some_and(|m| m.dim() != (n, d)) {
            return Err(LatentError::Shape {
                what: "autoencoder input",
                reason: format!("{d} points, the model has {}", self.n_features()),
            });
        }
        let covered = |i: usize, j: usize| mask.is_none_or(|m| m[(i, j)]);
        if (0..n).any(|i| (0..d).any(|j| covered(i, j) && !x[(i, j)].is_finite())) {
            return Err(LatentError::NotFinite("a profile to encode"));
        }
        Ok(Array2::from_shape_fn((n, d), |(i, j)| {
            if covered(i, j) {
                (x[(i, j)] - self.mean[j]) / self.scale
            } else {
                0.0
            }
        }))
    }

    /// Latent coordinates of profiles (rows), with an optional mask.
    pub fn transform(
        &self,
        x: ArrayView2<'_, f64>,
        mask: Option<ArrayView2<'_, bool>>,
    ) -> Result<Array2<f64>, LatentError> {
        let xs = self.standardise(x, mask)?;
        let h1 = affine(&xs, &self.layers[0])?.mapv(f64::tanh);
        affine(&h1, &self.layers[1])
    }

    /// Profiles reconstructed from latent coordinates (rows).
    pub fn inverse_transform(&self, z: ArrayView2<'_, f64>) -> Result<Array2<f64>, LatentError> {
        if z.ncols() != self.components() {
            return Err(LatentError::Shape {
                what: "latent coordinates",
                reason: format!("{} given, the model has {}", z.ncols(), self.components()),
            });
        }
        let h2 = affine(&z.to_owned(), &self.layers[2])?.mapv(f64::tanh);
        let y = affine(&h2, &self.layers[3])?;
        let mean = Array1::from(self.mean.clone());
        Ok(y * self.scale + &mean)
    }

    /// Shapes consistent (a model read from a file).
    pub fn validate(&self) -> Result<(), String> {
        let d = self.mean.len();
        let [a, b, c, e] = &self.layers;
        let ok = a.cols == d
            && e.rows == d
            && b.cols == a.rows
            && c.rows == a.rows
            && c.cols == b.rows
            && e.cols == c.rows
            && self
                .layers
                .iter()
                .all(|l| l.rows.checked_mul(l.cols) == Some(l.w.len()) && l.b.len() == l.rows);
        if !ok {
            return Err(format!("layers do not chain from {d} grid points and back"));
        }
        if !(self.scale > 0.0 && self.scale.is_finite())
            || self
                .layers
                .iter()
                .any(|l| l.w.iter().chain(&l.b).any(|v| !v.is_finite()))
        {
            return Err("a weight or the scale is not a finite number".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a curve (a 1-parameter family of Gaussian peaks whose
    /// position moves): one latent coordinate should reconstruct it far
    /// better than the mean does.
    fn family(n: usize, d: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            let c = 10.0 + 20.0 * i as f64 / (n - 1) as f64;
            (-((j as f64 - c) / 4.0).powi(2)).exp()
        })
    }

    #[test]
    fn learns_a_one_parameter_family_and_orders_it() {
        let x = family(40, 40);
        let mask = Array2::from_elem(x.dim(), true);
        let o = AutoencoderOptions {
            components: 1,
            hidden: 16,
            epochs: 400,
            batch: 8,
            ..Default::default()
        };
        let mut seen = Vec::new();
        let ae = Autoencoder::fit(x.view(), mask.view(), &o, &mut |e, _, l| {
            seen.push((e, l));
            true
        })
        .expect("fit")
        .expect("not cancelled");
        assert_eq!(seen.len(), 400);
        assert!(
            seen[399].1 < 0.25 * seen[0].1,
            "{:?} → {:?}",
            seen[0],
            seen[399]
        );
        assert!(ae.explained_fraction > 0.8, "{}", ae.explained_fraction);
        // The latent coordinate is monotonic in the peak position.
        let z = ae.transform(x.view(), None).expect("z");
        let s: Vec<f64> = z.column(0).to_vec();
        let up = s.windows(2).filter(|w| w[1] > w[0]).count();
        assert!(up == 0 || up == s.len() - 1, "{s:?}");
        // Deterministic: the same seed gives the same model.
        let again = Autoencoder::fit(x.view(), mask.view(), &o, &mut |_, _, _| true)
            .expect("fit")
            .expect("done");
        assert_eq!(again, ae);
        // A round trip through JSON keeps it.
        let text = serde_json::to_string(&ae).expect("json");
        let back: Autoencoder = serde_json::from_str(&text).expect("back");
        assert!(back.validate().is_ok());
        assert_eq!(back.transform(x.view(), None).expect("z"), z);
        let recon = ae.inverse_transform(z.view()).expect("recon");
        assert_eq!(recon.dim(), x.dim());
    }

    #[test]
    fn bad_input_and_cancel_are_answers() {
        let x = family(10, 20);
        let mask = Array2::from_elem(x.dim(), true);
        let o = AutoencoderOptions::default();
        assert_eq!(
            Autoencoder::fit(x.view(), mask.view(), &o, &mut |e, _, _| e < 3).expect("ok"),
            None
        );
        let mut nan = x.clone();
        nan[(2, 3)] = f64::NAN;
        assert!(Autoencoder::fit(nan.view(), mask.view(), &o, &mut |_, _, _| true).is_err());
        // A NaN where the profile is masked is not used.
        let mut m2 = mask.clone();
        m2[(2, 3)] = false;
        assert!(Autoencoder::fit(nan.view(), m2.view(), &o, &mut |_, _, _| true).is_ok());
        let same = Array2::from_elem((5, 4), 1.0);
        let m = Array2::from_elem((5, 4), true);
        assert!(Autoencoder::fit(same.view(), m.view(), &o, &mut |_, _, _| true).is_err());
        for bad in [
            AutoencoderOptions { components: 0, ..o },
            AutoencoderOptions { epochs: 0, ..o },
            AutoencoderOptions {
                learning_rate: f64::NAN,
                ..o
            },
        ] {
            assert!(Autoencoder::fit(x.view(), mask.view(), &bad, &mut |_, _, _| true).is_err());
        }
        // Training beyond the work bound is refused before it starts.
        let big = Array2::zeros((200, 801));
        let big_mask = Array2::from_elem(big.dim(), true);
        let heavy = AutoencoderOptions {
            hidden: 512,
            epochs: 100_000,
            ..o
        };
        let e = Autoencoder::fit(big.view(), big_mask.view(), &heavy, &mut |_, _, _| true)
            .expect_err("too much work");
        assert!(e.to_string().contains("too much training"), "{e}");
        // A model fed the wrong grid says so.
        let ae = Autoencoder::fit(
            x.view(),
            mask.view(),
            &AutoencoderOptions { epochs: 2, ..o },
            &mut |_, _, _| true,
        )
        .expect("fit")
        .expect("done");
        assert!(ae.transform(Array2::zeros((1, 7)).view(), None).is_err());
        let mut broken = ae.clone();
        broken.layers[2].w.pop();
        assert!(broken.validate().is_err());
        let mut huge = ae.clone();
        huge.layers[1].rows = usize::MAX;
        huge.layers[1].cols = 2;
        assert!(huge.validate().is_err());
    }
}
