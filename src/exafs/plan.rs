//! A fit model file run as `carto fit` runs it: read and checked once,
//! then fitted to its own `[data]` (`carto fit`) or, with the same code,
//! to another spectrum's χ(k) made with the model's `[data]` options
//! (`carto batch` with `[fit]`).

use std::path::Path;

use super::feffit::{Feffit, FitData, FitError, FitModel, FitResult};
use super::model::{DataError, DataSpec, fit_data_from_mu, load_model};
use crate::io::feff::element_symbol;
use crate::xas::edges::{EdgeName, MAX_EDGE_OFFSET_EV, edge_energy_ev};

/// The absorbing atom and edge of a model's FEFF paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Absorber {
    pub z: u32,
    /// None when the FEFF header names no edge Carto knows.
    pub edge: Option<EdgeName>,
}

impl std::fmt::Display for Absorber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(element_symbol(self.z))?;
        match self.edge {
            Some(e) => write!(f, " {}", e.as_str()),
            None => Ok(()),
        }
    }
}

/// A model ready to fit: the model file's name (for errors) and the model.
#[derive(Debug, Clone)]
pub struct FitPlan {
    pub file: String,
    pub model: FitModel,
}

impl FitPlan {
    /// Read and check a model file ([`load_model`]: its data and FEFF
    /// files are read, expressions checked).
    pub fn load(path: &Path) -> Result<FitPlan, FitError> {
        Ok(FitPlan {
            file: path.display().to_string(),
            model: load_model(path)?,
        })
    }

    /// Larch's feffit of the model: on its own data (`data` None, as
    /// `carto fit`), or on `data` in place of its one dataset's (the
    /// model's transform, paths, parameters and ε_k). A fit that ends
    /// but does not succeed is `Ok` with `stats.success` false.
    pub fn fit(&self, data: Option<FitData>) -> Result<FitResult, FitError> {
        let mut model = self.model.clone();
        if let Some(mut data) = data {
            let n = model.datasets.len();
            let [d] = model.datasets.as_mut_slice() else {
                return Err(FitError::Model(format!(
                    "the model has {n} datasets; only a model with one can be fitted to other data"
                )));
            };
            data.epsilon_k = d.data.epsilon_k;
            d.data = data;
            // The data no longer comes from the model's [data] file.
            d.spec = None;
        }
        Feffit::new(model)?.fit(None)
    }

    /// Whether the model compiles: expressions, parameter bounds and
    /// paths, as a fit would find them (nothing is fitted).
    pub fn fit_check(&self) -> Result<(), FitError> {
        Feffit::new(self.model.clone()).map(|_| ())
    }

    /// The `[data]` options of the model's one dataset (its pre_edge and
    /// AUTOBK overrides).
    fn data_spec(&self) -> DataSpec {
        self.model
            .datasets
            .first()
            .and_then(|d| d.spec.clone())
            .unwrap_or_default()
    }

    /// χ(k) of a μ(E) made as `carto fit` makes it from the model's
    /// `[data]` file: pre_edge and AUTOBK with the model's overrides.
    pub fn data_from_mu(
        &self,
        name: &str,
        energy_ev: &[f64],
        mu: &[f64],
    ) -> Result<FitData, DataError> {
        fit_data_from_mu(name.to_string(), energy_ev, mu, &self.data_spec())
    }

    /// χ(k) as read (no AUTOBK uncertainty, as `carto fit` on a χ(k) file).
    pub fn data_from_chi(&self, name: &str, k_inv_ang: &[f64], chi: &[f64]) -> FitData {
        FitData {
            name: name.to_string(),
            k_inv_ang: k_inv_ang.to_vec(),
            chi: chi.to_vec(),
            delta_chi: None,
            epsilon_k: None,
        }
    }

    /// The absorber of every FEFF path (potential 0) and its edge, when
    /// all paths agree.
    pub fn absorber(&self) -> Option<Absorber> {
        let mut found: Option<Absorber> = None;
        for p in self.model.datasets.iter().flat_map(|d| &d.paths) {
            let z = p.feff.potentials.iter().find(|q| q.ipot == 0)?.z;
            let a = Absorber {
                z,
                edge: p.feff.shell.parse().ok(),
            };
            match found {
                None => found = Some(a),
                Some(f) if f == a => {}
                Some(_) => return None,
            }
        }
        found
    }

    /// Why this model cannot describe a spectrum whose file names
    /// `element` and `edge` and whose e0 is `e0_ev` (each when known):
    /// another element or edge than the model's FEFF paths, or an e0 more
    /// than [`MAX_EDGE_OFFSET_EV`] from the model's tabulated edge.
    pub fn check_absorber(
        &self,
        element: Option<&str>,
        edge: Option<&str>,
        e0_ev: Option<f64>,
    ) -> Result<(), String> {
        let Some(a) = self.absorber() else {
            return Ok(());
        };
        let model = format!("the model's FEFF paths are for {a}");
        let z = element.and_then(|s| {
            let s = s.trim();
            s.parse::<u32>()
                .ok()
                .or_else(|| crate::structure::element_from_symbol(s))
        });
        let spectrum_edge: Option<EdgeName> = edge.and_then(|e| e.parse().ok());
        if let Some(z) = z
            && z != a.z
        {
            let what = match spectrum_edge {
                Some(e) => format!("{} {}", element_symbol(z), e.as_str()),
                None => element_symbol(z).to_string(),
            };
            return Err(format!("{model}, the spectrum is {what}"));
        }
        if let (Some(want), Some(got)) = (a.edge, spectrum_edge)
            && want != got
        {
            return Err(format!("{model}, the spectrum is a {} edge", got.as_str()));
        }
        if let (Some(e0), Some(edge)) = (e0_ev, a.edge)
            && let Some(e) = edge_energy_ev(a.z, edge)
            && (e0 - e).abs() > MAX_EDGE_OFFSET_EV
        {
            return Err(format!("{model} ({e} eV), the spectrum's e0 is {e0:.1} eV"));
        }
        Ok(())
    }
}
