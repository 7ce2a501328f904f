//! Measured files onto the common grids, as the map needs them: a powder
//! pattern → XRD on Q (its own wavelength, else the one given); a μ(E) →
//! the XAS chain with the given parameters, then k²χ(k) on the EXAFS grid,
//! or — a XANES scan (the batch's rule: too little χ(k)) — normalized μ on
//! E − e0; a χ(k) file → k²χ(k). The absorber of an XAS spectrum is the
//! edge nearest its e0 ([`crate::xas::edges::guess_edge`]), or the file's
//! `Element.symbol`/`Element.edge` when it has no e0 (χ(k) files).

use std::path::Path;

use super::candidates::{EdgeKey, ViewKey};
use super::grid;
use super::map::MeasuredView;
use crate::io::athena::AthenaGroup;
use crate::io::xrd::read_pattern_bytes;
use crate::io::{Dataset, FileKind, LoadOptions, load_bytes, route};
use crate::xas::ChainParams;
use crate::xas::edges::guess_edge;
use crate::xas::process::{self, XasInput};

/// Options of [`measured_views`].
#[derive(Debug, Clone, Default)]
pub struct MeasuredOptions {
    /// The XAS chain (Larch's defaults unless set).
    pub chain: ChainParams,
    /// Wavelength (Å) for patterns whose file gives none.
    pub wavelength_ang: Option<f64>,
    /// Every μ(E) gives its XANES view (normalized μ on E − e0), also a
    /// scan long enough for EXAFS (`carto pls --modality xanes`).
    pub xanes: bool,
}

/// The views of one file (one per spectrum of an Athena project) and the
/// reasons for the spectra that have none (`id: reason`).
pub fn measured_views(path: &Path, o: &MeasuredOptions) -> (Vec<MeasuredView>, Vec<String>) {
    let file = path.display().to_string();
    let bytes = match crate::io::read_input(path) {
        Ok(b) => b,
        Err(e) => return (Vec::new(), vec![format!("{file}: {e}")]),
    };
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    let mut push = |id: String, r: Result<MeasuredView, String>| match r {
        Ok(v) => ok.push(v),
        Err(e) => errors.push(format!("{id}: {e}")),
    };
    let opts = LoadOptions::default();
    match route(&bytes, path, &opts) {
        FileKind::Pattern => {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            let r = read_pattern_bytes(&bytes, &file, ext.as_deref())
                .map_err(|e| e.to_string())
                .and_then(|pat| {
                    let wl = pat.wavelength_ang.or(o.wavelength_ang).ok_or(
                        "the pattern gives no wavelength: set one (--wavelength) to place it on Q",
                    )?;
                    grid::xrd_measured(&pat.two_theta_deg, &pat.intensity, wl)
                        .map_err(|e| e.to_string())
                })
                .map(|profile| MeasuredView {
                    id: file.clone(),
                    key: ViewKey::Xrd,
                    profile,
                });
            push(file.clone(), r);
        }
        FileKind::Structure | FileKind::FitModel => {
            push(
                file.clone(),
                Err("a structure or fit model, not a measurement".into()),
            );
        }
        FileKind::Spectra => match load_bytes(&bytes, &file, &opts) {
            Ok(Dataset::Athena(proj)) => {
                for g in proj.groups.iter().filter(|g| g.is_xmu() || g.is_chi()) {
                    let id = format!("{file}:{}", g.label);
                    let r = athena_input(g, &file).and_then(|input| {
                        xas_view_as(&id, &input, athena_absorber(g), &o.chain, o.xanes)
                    });
                    push(id, r);
                }
            }
            Ok(Dataset::Xas(s)) => {
                let meta = table_absorber(&s.table.metadata);
                push(
                    file.clone(),
                    xas_view_as(&file, &XasInput::Mu(s), meta, &o.chain, o.xanes),
                );
            }
            Ok(Dataset::Chi(c)) => {
                let meta = table_absorber(&c.table.metadata);
                push(
                    file.clone(),
                    xas_view(&file, &XasInput::Chi(c), meta, &o.chain),
                );
            }
            Ok(Dataset::Feff(_)) => push(
                file.clone(),
                Err("a FEFF path file, not a measurement".into()),
            ),
            Err(e) => push(file.clone(), Err(e.to_string())),
        },
    }
    (ok, errors)
}

fn athena_input(g: &AthenaGroup, file: &str) -> Result<XasInput, String> {
    if g.is_chi() {
        g.to_chi(file).map(XasInput::Chi).map_err(|e| e.to_string())
    } else {
        g.to_spectrum(file)
            .map(XasInput::Mu)
            .map_err(|e| e.to_string())
    }
}

/// (Z, edge) from symbol and edge names.
pub fn absorber_of(symbol: Option<&str>, edge: Option<&str>) -> Option<(u32, EdgeKey)> {
    let z = crate::structure::element_from_symbol(symbol?.trim())?;
    let edge = match edge.map(|e| e.trim().to_ascii_uppercase()).as_deref() {
        None | Some("") | Some("K") => EdgeKey::K,
        Some("L1") => EdgeKey::L1,
        Some("L2") => EdgeKey::L2,
        Some("L3") => EdgeKey::L3,
        Some(_) => return None,
    };
    Some((z, edge))
}

fn athena_absorber(g: &AthenaGroup) -> Option<(u32, EdgeKey)> {
    absorber_of(
        g.param_str("bkg_z").as_deref(),
        g.param_str("fft_edge").as_deref(),
    )
}

fn table_absorber(m: &std::collections::BTreeMap<String, String>) -> Option<(u32, EdgeKey)> {
    let get = |keys: &[&str]| keys.iter().find_map(|k| m.get(*k).map(String::as_str));
    absorber_of(
        get(&["Element.symbol", "Scan.element"]),
        get(&["Element.edge", "Scan.edge"]),
    )
}

/// The view of one μ(E) or χ(k) processed with `p`; `meta` is the
/// absorber the file names (used when e0 names none).
pub fn xas_view(
    id: &str,
    input: &XasInput,
    meta: Option<(u32, EdgeKey)>,
    p: &ChainParams,
) -> Result<MeasuredView, String> {
    xas_view_as(id, input, meta, p, false)
}

/// [`xas_view`], or with `xanes` the XANES view of any μ(E).
pub fn xas_view_as(
    id: &str,
    input: &XasInput,
    meta: Option<(u32, EdgeKey)>,
    p: &ChainParams,
    xanes: bool,
) -> Result<MeasuredView, String> {
    let absorber = |e0: Option<f64>| -> Result<(u32, EdgeKey), String> {
        e0.and_then(guess_edge)
            .map(|g| (g.z, g.edge.into()))
            .or(meta)
            .ok_or_else(|| match e0 {
                Some(e0) => format!("no absorption edge within 40 eV of e0 = {e0:.1} eV"),
                None => "no e0 and no Element.symbol: the absorber is unknown".into(),
            })
    };
    let view = |key: ViewKey, profile| MeasuredView {
        id: id.to_string(),
        key,
        profile,
    };
    if xanes && let XasInput::Mu(_) = input {
        let (_, pre) = process::normalize(input, &[], &p.pre_edge).map_err(|e| e.to_string())?;
        let (z, edge) = absorber(Some(pre.e0))?;
        let prof = grid::xanes(&pre.energy_ev, &pre.norm, pre.e0).map_err(|e| e.to_string())?;
        return Ok(view(ViewKey::Xanes { z, edge }, prof));
    }
    match process::run(input, &[], p, None) {
        Ok(out) => {
            if let Some(pre) = out
                .pre
                .as_ref()
                .filter(|pre| crate::features::batch::is_xanes_scan(input, pre, p))
            {
                let (z, edge) = absorber(Some(pre.e0))?;
                let prof =
                    grid::xanes(&pre.energy_ev, &pre.norm, pre.e0).map_err(|e| e.to_string())?;
                return Ok(view(ViewKey::Xanes { z, edge }, prof));
            }
            let (z, edge) = absorber(out.pre.as_ref().map(|pre| pre.e0))?;
            let prof = grid::exafs(&out.k_inv_ang, &out.chi).map_err(|e| e.to_string())?;
            Ok(view(ViewKey::Exafs { z, edge }, prof))
        }
        Err(e) => match process::normalize(input, &[], &p.pre_edge) {
            Ok((_, pre)) if crate::features::batch::is_xanes_scan(input, &pre, p) => {
                let (z, edge) = absorber(Some(pre.e0))?;
                let prof =
                    grid::xanes(&pre.energy_ev, &pre.norm, pre.e0).map_err(|e| e.to_string())?;
                Ok(view(ViewKey::Xanes { z, edge }, prof))
            }
            _ => Err(e.to_string()),
        },
    }
}

/// The absorber and edge of a view ("Fe K"), empty for XRD.
pub fn absorber_name(key: ViewKey) -> String {
    match key {
        ViewKey::Xrd => String::new(),
        ViewKey::Exafs { z, edge } | ViewKey::Xanes { z, edge } => format!(
            "{} {}",
            crate::io::feff::element_symbol(z),
            crate::theory::Edge::from(edge).as_str()
        ),
    }
}

/// The modality most of `keys` have (ties: the first by name); None for
/// none.
pub fn commonest_modality(keys: impl Iterator<Item = ViewKey>) -> Option<super::grid::Modality> {
    let mut counts: Vec<(usize, super::grid::Modality)> = Vec::new();
    for k in keys {
        let m = k.modality();
        match counts.iter_mut().find(|c| c.1 == m) {
            Some(c) => c.0 += 1,
            None => counts.push((1, m)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(n, m)| (*n, std::cmp::Reverse(m.name())))
        .map(|(_, m)| m)
}

/// The one absorber and edge of `keys` ("Fe K"; empty for XRD), or an
/// error listing them when there are several: a model (PLS, a projection)
/// is of one edge, a Cu K spectrum says nothing on Fe.
pub fn one_absorber(keys: impl Iterator<Item = ViewKey>, what: &str) -> Result<String, String> {
    let names: std::collections::BTreeSet<String> = keys.map(absorber_name).collect();
    if names.len() > 1 {
        return Err(format!(
            "the spectra are of several edges ({}): one absorber per {what}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(names.into_iter().next().unwrap_or_default())
}
