//! Measured standards as XANES landmarks: a TOML file assigns measured
//! spectra (a file, or a group of an Athena project) to candidate
//! structures, and each standard's normalized μ on
//! [`super::grid::XANES_E`] becomes that candidate's XANES view for the
//! standard's absorber and edge (the edge nearest its e0, as for any
//! measurement). A measured standard wins over a simulated XANES of the
//! same candidate: it has the beamline's resolution and no muffin-tin.
//!
//! ```toml
//! [[standard]]
//! spectrum = "athena/CuHERFD_standards.prj"   # relative to this file
//! group = "Cu2O"                              # an Athena group (its label)
//! cif = "Cuprite_amcsd0063"                   # the candidate: its CIF file stem
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::candidates::{CandidateViews, ViewKey};
use super::grid::Profile;
use super::map::MeasuredView;
use super::measured::{MeasuredOptions, measured_views};
use crate::xas::ChainParams;

/// Most standards a file may list (each is a spectrum read and processed).
pub const MAX_STANDARDS: usize = 10_000;

/// A measured standard's XANES, for the candidate it names.
#[derive(Debug, Clone)]
pub struct StandardView {
    /// The candidate's id (CIF file stem).
    pub cif: String,
    /// Where the standard came from (`file` or `file:group`).
    pub source: String,
    pub view: MeasuredView,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardsFile {
    #[serde(default)]
    standard: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    spectrum: PathBuf,
    group: Option<String>,
    cif: String,
}

/// The standards of a TOML file and, for those that could not be used,
/// why (`file: standard[i] (source): reason`). An unreadable or malformed
/// file is an error naming it (and the line, from the TOML parser).
pub fn read_standards(
    path: &Path,
    chain: &ChainParams,
) -> Result<(Vec<StandardView>, Vec<String>), String> {
    let name = path.display().to_string();
    let bytes = crate::io::read_input(path).map_err(|e| format!("{name}: {e}"))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("{name}: not UTF-8 text: {e}"))?;
    let file: StandardsFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    if file.standard.is_empty() {
        return Err(format!(
            "{name}: no [[standard]] entry (each has spectrum, group and cif)"
        ));
    }
    if file.standard.len() > MAX_STANDARDS {
        return Err(format!(
            "{name}: {} standards, more than the {MAX_STANDARDS} a map takes",
            file.standard.len()
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mo = MeasuredOptions {
        chain: chain.clone(),
        wavelength_ang: None,
        xanes: true,
    };
    // Each spectrum file is read once, however many of its groups are used.
    let mut read: BTreeMap<PathBuf, (Vec<MeasuredView>, Vec<String>)> = BTreeMap::new();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in file.standard.into_iter().enumerate() {
        let spectrum = if e.spectrum.is_absolute() {
            e.spectrum.clone()
        } else {
            base.join(&e.spectrum)
        };
        let cif = e.cif.trim().to_string();
        let source = match &e.group {
            Some(g) => format!("{}:{g}", spectrum.display()),
            None => spectrum.display().to_string(),
        };
        let at = format!("{name}: standard[{i}] ({source})");
        if cif.is_empty() {
            errors.push(format!("{at}: cif is empty"));
            continue;
        }
        let (views, errs) = read
            .entry(spectrum.clone())
            .or_insert_with(|| measured_views(&spectrum, &mo));
        let file_id = spectrum.display().to_string();
        let found = match &e.group {
            Some(g) => {
                let id = format!("{file_id}:{g}");
                views.iter().find(|v| v.id == id).ok_or_else(|| {
                    // The group's own failure, else the groups there are.
                    errs.iter()
                        .find(|x| x.starts_with(&format!("{id}: ")))
                        .cloned()
                        .unwrap_or_else(|| {
                            let groups: Vec<&str> = (views.iter())
                                .filter_map(|v| v.id.strip_prefix(&format!("{file_id}:")))
                                .take(12)
                                .collect();
                            format!("no group '{g}' (groups: {})", groups.join(", "))
                        })
                })
            }
            None => match views.as_slice() {
                [v] => Ok(v),
                [] => Err(errs
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "no spectrum".into())),
                _ => Err(format!(
                    "{} spectra in the file: name one with group = \"…\"",
                    views.len()
                )),
            },
        };
        match found {
            Ok(v) => out.push(StandardView {
                cif,
                source,
                view: v.clone(),
            }),
            Err(reason) => errors.push(format!("{at}: {reason}")),
        }
    }
    Ok((out, errors))
}

/// Give candidate `id` the XANES views of its standards (a standard
/// replaces a simulated view of the same absorber and edge; of two
/// standards for one view, the first is kept). Notes say what was replaced
/// or left out.
pub fn assign(
    id: &str,
    views: &mut Vec<(ViewKey, Profile)>,
    standards: &[StandardView],
    notes: &mut Vec<String>,
) {
    let mut given: Vec<(ViewKey, &str)> = Vec::new();
    for st in standards.iter().filter(|s| s.cif == id) {
        let key = st.view.key;
        if let Some((_, first)) = given.iter().find(|(k, _)| *k == key) {
            notes.push(format!(
                "{id}: standard {} left out: {first} is its {} view already",
                st.source,
                key.modality().name()
            ));
            continue;
        }
        match views.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => {
                slot.1 = st.view.profile.clone();
                notes.push(format!(
                    "{id}: the measured standard {} replaces the simulated XANES",
                    st.source
                ));
            }
            None => views.push((key, st.view.profile.clone())),
        }
        given.push((key, &st.source));
    }
}

/// Standards that name no candidate of the set (a misspelt stem, a CIF
/// not in the folder), as errors.
pub fn unmatched(standards: &[StandardView], items: &[CandidateViews], errors: &mut Vec<String>) {
    for st in standards {
        if !items.iter().any(|c| c.id == st.cif) {
            errors.push(format!(
                "standard {}: no candidate '{}' (the CIF file stem) among the candidates",
                st.source, st.cif
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("carto-standards-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn malformed_files_are_errors_naming_the_file_and_line() {
        let chain = ChainParams::default();
        let p = tmp("bad.toml", "[[standard]]\nspectrum = \"a.xmu\"\ncif = 3\n");
        let e = read_standards(&p, &chain).expect_err("cif is a number");
        assert!(e.contains("bad.toml") && e.contains("line 3"), "{e}");
        let p = tmp(
            "unknown.toml",
            "[[standard]]\nspectrum = \"a\"\ncif = \"b\"\ncolour = 1\n",
        );
        let e = read_standards(&p, &chain).expect_err("unknown key");
        assert!(e.contains("colour"), "{e}");
        // More entries than a map takes: refused before any spectrum is read.
        let many = "[[standard]]\nspectrum = \"a.xmu\"\ncif = \"x\"\n".repeat(MAX_STANDARDS + 1);
        let p = tmp("many.toml", &many);
        let e = read_standards(&p, &chain).expect_err("too many");
        assert!(e.contains("10001 standards"), "{e}");
        let p = tmp("empty.toml", "# nothing\n");
        assert!(read_standards(&p, &chain).is_err());
        assert!(read_standards(Path::new("/no/such/standards.toml"), &chain).is_err());
        // A missing spectrum is that entry's error, not the file's.
        let p = tmp(
            "missing.toml",
            "[[standard]]\nspectrum = \"nowhere.xmu\"\ncif = \"x\"\n",
        );
        let (ok, errs) = read_standards(&p, &chain).expect("read");
        assert!(ok.is_empty());
        assert!(
            errs[0].contains("standard[0]") && errs[0].contains("nowhere.xmu"),
            "{errs:?}"
        );
    }
}
