//! What a worker needs of the store's spectra and patterns to put them on
//! a common grid (the Map and Projection views' tasks): owned copies taken
//! on the UI thread, turned into views off it.

use std::sync::Arc;

use super::Store;
use crate::gui::workspace::Input;
use crate::latent::grid;
use crate::latent::map::MeasuredView;

/// What a worker needs of one measured item.
pub enum Source {
    Xas(u64, String, Arc<Input>, Box<crate::xas::ChainParams>),
    Xrd(u64, String, Vec<f64>, Vec<f64>, Option<f64>),
}

/// Every spectrum and pattern of the store, as worker input.
pub fn sources_of(store: &Store) -> Vec<Source> {
    let mut sources = Vec::new();
    for item in &store.items {
        if let Some(s) = item.spectrum() {
            sources.push(Source::Xas(
                item.id,
                item.name.clone(),
                s.input.clone(),
                Box::new(s.params.clone()),
            ));
        }
    }
    for p in &store.patterns {
        let wl = p.wavelength().ok().flatten().or(p.pattern.wavelength_ang);
        sources.push(Source::Xrd(
            p.id,
            p.name.clone(),
            p.pattern.two_theta_deg.clone(),
            p.pattern.intensity.clone(),
            wl,
        ));
    }
    sources
}

impl Source {
    /// The item's view on its common grid (with `xanes`, the XANES view
    /// of any μ(E)): store id, name, view or why not.
    pub fn view(self, xanes: bool) -> (u64, String, Result<MeasuredView, String>) {
        match self {
            Source::Xas(id, name, input, params) => {
                let r = crate::latent::measured::xas_view_as(&name, &input, None, &params, xanes);
                (id, name, r)
            }
            Source::Xrd(id, name, tth, y, wl) => {
                let r = match wl {
                    Some(wl) => grid::xrd_measured(&tth, &y, wl)
                        .map(|profile| MeasuredView {
                            id: name.clone(),
                            key: crate::latent::ViewKey::Xrd,
                            profile,
                        })
                        .map_err(|e| e.to_string()),
                    None => Err("no wavelength: set one in the XRD view".into()),
                };
                (id, name, r)
            }
        }
    }
}
