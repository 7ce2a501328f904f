//! Standards named as `FILE[:GROUP]` (a spectrum file, or a group of an
//! Athena project), read and normalized with Larch's `pre_edge` defaults:
//! what `carto xanes lcf --std` and `carto batch`'s `[lcf] standards` take.

use std::path::{Path, PathBuf};

use super::XanesGroup;
use crate::io::{Dataset, LoadOptions, load_group};
use crate::xas::PreEdgeParams;

/// `spec` split into a file and a group: the whole of it when it names a
/// file (relative names against `base`), else at the first ':' whose left
/// side is a file.
pub fn split_spec(spec: &str, base: Option<&Path>) -> Result<(PathBuf, Option<String>), String> {
    let path = |s: &str| match base {
        Some(b) if Path::new(s).is_relative() => b.join(s),
        _ => PathBuf::from(s),
    };
    if path(spec).is_file() {
        return Ok((path(spec), None));
    }
    for (i, _) in spec.match_indices(':') {
        let (file, group) = (&spec[..i], &spec[i + 1..]);
        if path(file).is_file() {
            return Ok((path(file), Some(group.to_string())));
        }
    }
    Err(format!("{spec}: no such file (give FILE or FILE:GROUP)"))
}

/// One standard, normalized; its label is the group's name or the file's stem.
pub fn load_standard(spec: &str, base: Option<&Path>) -> Result<XanesGroup, String> {
    let (file, group) = split_spec(spec, base)?;
    let name = file.display().to_string();
    let ds =
        load_group(&file, &LoadOptions::default(), group.as_deref()).map_err(|e| e.to_string())?;
    let (label, s) = match ds {
        Dataset::Xas(s) => {
            let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
            (stem.unwrap_or_else(|| name.clone()), s)
        }
        Dataset::Athena(p) => {
            let g = match &group {
                Some(want) => p.group(want),
                None if p.groups.len() == 1 => p.groups.first(),
                None => None,
            };
            let Some(g) = g else {
                let names: Vec<&str> = p.groups.iter().map(|g| g.label.as_str()).collect();
                return Err(format!(
                    "{name}: {} (groups: {})",
                    match &group {
                        Some(want) => format!("no group '{want}'"),
                        None => "an Athena project: name a group as FILE:GROUP".to_string(),
                    },
                    names.join(", ")
                ));
            };
            if g.is_chi() {
                return Err(format!("{name}:{}: a χ(k) group has no μ(E)", g.label));
            }
            (
                g.label.clone(),
                g.to_spectrum(&name).map_err(|e| e.to_string())?,
            )
        }
        Dataset::Chi(_) => return Err(format!("{name}: χ(k) data has no μ(E)")),
        Dataset::Feff(_) => return Err(format!("{name}: a FEFF path file has no μ(E)")),
    };
    XanesGroup::from_mu(label, &s.energy_ev, &s.mu, &PreEdgeParams::default())
        .map_err(|e| format!("{name}: cannot normalize: {e}"))
}
