//! The bundled demo session: three spectra, a powder pattern and two CIF
//! phases from sample_data/ (sources in its README), compiled into the
//! binary so the demo works wherever the program is installed.

use std::path::PathBuf;

use super::builtin::{DEMO_CIFS, DEMO_FILES, DEMO_PATTERN};
use super::log::Log;
use super::selection::Selection;
use super::store::Store;
use super::xrd::{XrdPanel, parse_pattern};

/// Add the demo's spectra (returns their ids) and its XRD pattern with
/// the two phases.
pub fn load(ws: &mut Store, sel: &mut Selection, xrd: &mut XrdPanel, log: &mut Log) -> Vec<u64> {
    let mut ids = Vec::new();
    let builtin = |name: &str| format!("{}{name}", crate::session::BUILTIN_PREFIX);
    for (name, bytes) in DEMO_FILES {
        if name == DEMO_PATTERN {
            match parse_pattern(bytes, std::path::Path::new(&builtin(name))) {
                Ok(p) => {
                    let id = xrd.add(ws, p);
                    if let Some(e) = ws.pattern_mut(id) {
                        // A Kα name gives the broadened phases their doublet.
                        e.wavelength_text = "CuKa".into();
                        e.name = name.trim_end_matches(".xy").to_string();
                        e.analyse();
                    }
                    xrd.select_only(&ws.patterns, &mut sel.selected, &[id]);
                }
                Err(e) => log.error(e),
            }
            continue;
        }
        if DEMO_CIFS.contains(&name) {
            let path = PathBuf::from(builtin(name));
            ws.add_cifs(&[path], log);
            continue;
        }
        match ws.load_bytes(bytes, name) {
            Ok(new) => {
                for &id in &new {
                    if let Some(item) = ws.item_mut(id) {
                        item.file = format!("{}{name}", crate::session::BUILTIN_PREFIX);
                    }
                }
                ids.extend(new);
            }
            Err(e) => log.error(e),
        }
    }
    xrd.update_phases(ws);
    ids
}
