//! The workspace: everything loaded, grouped by modality, with the selection.
//! Items hold their input data, their parameters and the last result; the
//! physics is carto::xas, called through [`process`].
//!
//! Just over 800 lines while [`process`] still runs the XAS chain step by
//! step here; the core pipeline (`xas::process`) replaces that body.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use egui::Color32;

use crate::io::{self, Dataset, LoadOptions, MuMode, MuRecipe, XasSpectrum, feff::FeffPath};
use crate::session::sha256_hex;
use crate::xas::edit::Edit;
use crate::xas::{self, ChainParams};

pub use crate::xas::process::{Processed, XasInput as Input};

/// Run the core pipeline for one (edited) input; errors are readable text
/// naming the step. The core does not panic on any input or parameter (the
/// fuzz targets hold it to that); the one guard is at the top of each
/// worker ([`super::tasks::guard`]) and of each frame.
pub fn process(input: &Input, p: &ChainParams) -> Result<Processed, String> {
    xas::process::run(input, &[], p, None).map_err(|e| e.to_string())
}

/// Revisions are unique across the whole run (not per spectrum), so a
/// result computed before an undo re-creates an item can never pass for
/// the restored item's result.
static NEXT_REV: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub fn next_rev() -> u64 {
    NEXT_REV.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// `raw` with the journal `edits` applied (`raw` itself, shared, when there
/// are none). Only μ(E) can be edited.
pub fn edited_input(raw: &Arc<Input>, edits: &[Edit]) -> Result<Arc<Input>, String> {
    match xas::process::edit(raw, edits).map_err(|e| e.to_string())? {
        Cow::Borrowed(_) => Ok(raw.clone()),
        Cow::Owned(input) => Ok(Arc::new(input)),
    }
}

/// `raw` with μ(E) derived again from its columns by `recipe` (the
/// μ(E)-from picker; sessions replay it).
pub fn with_recipe(raw: &Arc<Input>, recipe: &MuRecipe, file: &str) -> Result<Arc<Input>, String> {
    let Input::Mu(x) = raw.as_ref() else {
        return Err("χ(k) has no μ(E) recipe".into());
    };
    if x.recipe == *recipe {
        return Ok(raw.clone());
    }
    let mu = recipe.build(&x.table, file).map_err(|e| e.to_string())?;
    Ok(Arc::new(Input::Mu(XasSpectrum {
        mu,
        recipe: recipe.clone(),
        choice: None,
        ..x.clone()
    })))
}

/// One processable spectrum (μ(E) or χ(k)).
#[derive(Debug)]
pub struct Spectrum {
    /// The data as read (the journal's starting point).
    pub raw: Arc<Input>,
    /// Edits of μ(E) (deglitch, shift, rebin), replayed on `raw` in order.
    pub edits: Vec<Edit>,
    /// What is processed: `raw` with `edits` applied (`raw` itself when
    /// there are none).
    pub input: Arc<Input>,
    pub params: ChainParams,
    pub result: Option<Processed>,
    pub error: Option<String>,
    /// Bumped on every parameter change; a result belongs to the revision
    /// it was computed for, so a late background result never overwrites a
    /// newer edit.
    pub rev: u64,
    pub computed_rev: Option<u64>,
}

impl Spectrum {
    pub fn new(input: Input) -> Self {
        Self::new_shared(Arc::new(input))
    }
    /// A spectrum of data already shared (an undo snapshot's).
    pub fn new_shared(raw: Arc<Input>) -> Self {
        Spectrum {
            input: raw.clone(),
            raw,
            edits: Vec::new(),
            params: ChainParams::default(),
            result: None,
            error: None,
            rev: next_rev(),
            computed_rev: None,
        }
    }
    /// Replace the journal; the input is rebuilt from `raw`. On error
    /// nothing changes and the message names the failing step.
    pub fn set_edits(&mut self, edits: Vec<Edit>) -> Result<(), String> {
        let input = edited_input(&self.raw, &edits)?;
        self.set_input(input, edits);
        Ok(())
    }
    /// Install an input already built from `raw` and `edits` (by
    /// [`edited_input`], or shared from an undo snapshot).
    pub fn set_input(&mut self, input: Arc<Input>, edits: Vec<Edit>) {
        if !Arc::ptr_eq(&input, &self.input) {
            self.input = input;
            self.rev = next_rev();
        }
        self.edits = edits;
    }
    pub fn is_mu(&self) -> bool {
        matches!(*self.input, Input::Mu(_))
    }
    pub fn needs_processing(&self) -> bool {
        self.computed_rev != Some(self.rev)
    }
    pub fn set_params(&mut self, p: ChainParams) {
        if p != self.params {
            self.params = p;
            self.rev = next_rev();
        }
    }
    /// Store a result computed for revision `rev`; false when it is stale.
    pub fn store(&mut self, rev: u64, r: Result<Processed, String>) -> bool {
        if rev != self.rev {
            return false;
        }
        match r {
            Ok(p) => {
                self.result = Some(p);
                self.error = None;
            }
            // Keep the last good curves on screen while the message says
            // why the new parameters fail.
            Err(e) => self.error = Some(e),
        }
        self.computed_rev = Some(rev);
        true
    }
    /// Recompute now, on this thread (one spectrum takes well under 1 ms).
    pub fn recompute(&mut self) {
        let r = process(&self.input, &self.params);
        self.store(self.rev, r);
    }
}

#[derive(Debug)]
pub enum ItemData {
    Spectrum(Box<Spectrum>),
    /// Shared with undo snapshots (a path is never edited).
    Feff(Arc<FeffPath>),
}

/// The modality groups of the tree, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Modality {
    Xas,
    Chi,
    Feff,
}

impl Modality {
    pub const ALL: [Modality; 3] = [Modality::Xas, Modality::Chi, Modality::Feff];
    pub fn title(self) -> &'static str {
        match self {
            Modality::Xas => "XAS μ(E)",
            Modality::Chi => "χ(k)",
            Modality::Feff => "FEFF paths",
        }
    }
}

#[derive(Debug)]
pub struct Item {
    pub id: u64,
    pub name: String,
    /// The file it came from (and the Athena group), for tooltips and logs.
    pub source: String,
    /// The file as opened (`builtin:NAME` for the demo's), for sessions.
    pub file: String,
    /// SHA-256 of the file's bytes when it was read.
    pub sha256: String,
    /// The Athena group label, for items from a project.
    pub group: Option<String>,
    /// The μ recipe override it was read with (None: automatic).
    pub mu: Option<MuMode>,
    pub color: Color32,
    pub data: ItemData,
}

impl Item {
    pub fn modality(&self) -> Modality {
        match &self.data {
            ItemData::Spectrum(s) if s.is_mu() => Modality::Xas,
            ItemData::Spectrum(_) => Modality::Chi,
            ItemData::Feff(_) => Modality::Feff,
        }
    }
    pub fn spectrum(&self) -> Option<&Spectrum> {
        match &self.data {
            ItemData::Spectrum(s) => Some(s),
            ItemData::Feff(_) => None,
        }
    }
    pub fn spectrum_mut(&mut self) -> Option<&mut Spectrum> {
        match &mut self.data {
            ItemData::Spectrum(s) => Some(s),
            ItemData::Feff(_) => None,
        }
    }
}

/// One item's worth of what a file held, before it joins a workspace.
pub struct Entry {
    pub name: String,
    pub source: String,
    /// The Athena group label, for items from a project.
    pub group: Option<String>,
    pub data: ItemData,
}

/// What one file held, as items to be (one per Athena group). An Athena
/// project with no usable group is an error naming the groups' problems.
pub fn dataset_entries(ds: Dataset, file: &str) -> Result<Vec<Entry>, String> {
    let stem = Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |s| s.to_string_lossy().into_owned());
    let entry = |name: String, data| Entry {
        name,
        source: file.to_string(),
        group: None,
        data,
    };
    Ok(match ds {
        Dataset::Xas(s) => vec![entry(stem, spectrum(Input::Mu(s)))],
        Dataset::Chi(c) => vec![entry(stem, spectrum(Input::Chi(c)))],
        Dataset::Feff(f) => {
            let name = format!("{stem}  (reff {:.3} Å)", f.reff_ang);
            vec![entry(name, ItemData::Feff(Arc::new(f)))]
        }
        Dataset::Athena(p) => {
            let mut errors = Vec::new();
            let mut out = Vec::new();
            for g in &p.groups {
                let input = if g.is_chi() {
                    g.to_chi(file).map(Input::Chi)
                } else {
                    g.to_spectrum(file).map(Input::Mu)
                };
                match input {
                    Ok(input) => out.push(Entry {
                        name: format!("{stem} ▸ {}", g.label.trim()),
                        source: format!("{file} [{}]", g.label),
                        group: Some(g.label.clone()),
                        data: spectrum(input),
                    }),
                    Err(e) => errors.push(format!("group '{}': {e}", g.label)),
                }
            }
            if out.is_empty() {
                return Err(format!(
                    "{file}: no usable group in the Athena project{}{}",
                    if errors.is_empty() { "" } else { ": " },
                    errors.join("; ")
                ));
            }
            out
        }
    })
}

/// Read and parse one file (any thread). A panic inside a reader is caught
/// and reported like any other unreadable file.
/// Also returns the SHA-256 of the bytes (sessions record it).
pub fn read_file(path: &Path) -> Result<(Dataset, String), String> {
    let bytes =
        crate::io::read_input(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let ds = parse_bytes(&bytes, &path.display().to_string())?;
    Ok((ds, sha256_hex(&bytes)))
}

pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Dataset, String> {
    parse_bytes_with(bytes, file, None)
}

/// [`parse_bytes`] with a μ recipe override.
pub fn parse_bytes_with(bytes: &[u8], file: &str, mu: Option<MuMode>) -> Result<Dataset, String> {
    let opts = LoadOptions {
        mu_mode: mu,
        columns: None,
    };
    io::load_bytes(bytes, file, &opts).map_err(|e| e.to_string())
}

/// The kind of μ a recipe builds.
pub fn mode_of(r: &MuRecipe) -> MuMode {
    match r {
        MuRecipe::Transmission { .. } => MuMode::Transmission,
        MuRecipe::Fluorescence { .. } => MuMode::Fluorescence,
        MuRecipe::Reference { .. } => MuMode::Reference,
        MuRecipe::Column { .. } => MuMode::Column,
    }
}

/// A recipe of kind `mode` from columns other than the energy, trying the
/// columns the current recipe uses first; the first that builds a finite μ.
pub(super) fn fallback_recipe(x: &XasSpectrum, mode: MuMode) -> Option<MuRecipe> {
    let used: Vec<usize> = match &x.recipe {
        MuRecipe::Transmission { i0, it } => vec![*i0, *it],
        MuRecipe::Fluorescence { i_f, i0 } => i_f.iter().copied().chain([*i0]).collect(),
        MuRecipe::Reference { it, iref } => vec![*it, *iref],
        MuRecipe::Column { mu } => vec![*mu],
    };
    let mut cols: Vec<usize> = used;
    cols.extend(0..x.table.columns.len());
    let mut seen = Vec::new();
    cols.retain(|&c| {
        c != x.energy_column && c < x.table.columns.len() && {
            let new = !seen.contains(&c);
            seen.push(c);
            new
        }
    });
    let recipe = |a: usize, b: usize| match mode {
        MuMode::Transmission => MuRecipe::Transmission { i0: a, it: b },
        MuMode::Fluorescence => MuRecipe::Fluorescence {
            i_f: vec![a],
            i0: b,
        },
        MuMode::Reference => MuRecipe::Reference { it: a, iref: b },
        MuMode::Column => MuRecipe::Column { mu: a },
    };
    let builds = |r: &MuRecipe| r.build(&x.table, "").is_ok();
    if mode == MuMode::Column {
        return cols.iter().map(|&a| recipe(a, a)).find(builds);
    }
    cols.iter()
        .flat_map(|&a| cols.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
        .map(|(a, b)| recipe(a, b))
        .find(builds)
}

fn spectrum(input: Input) -> ItemData {
    ItemData::Spectrum(Box::new(Spectrum::new(input)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::selection::Selection;
    use crate::gui::store::Store;
    use std::collections::BTreeSet;

    /// A workspace of `n` FEFF-free spectra from the demo's Cu file.
    fn ws(n: usize) -> (Store, Vec<u64>) {
        let bytes = include_bytes!("../../sample_data/cu_metal_rt.xdi");
        let mut ws = Store::default();
        let ids = (0..n)
            .flat_map(|i| {
                ws.load_bytes(bytes, &format!("cu{i}.xdi"))
                    .unwrap_or_default()
            })
            .collect();
        (ws, ids)
    }

    #[test]
    fn click_ctrl_and_shift_select_like_a_file_manager() {
        let (mut w, ids) = ws(5);
        assert_eq!(ids.len(), 5);
        let mut sel = Selection::default();
        let order = w.display_order();
        sel.click(&order, ids[1], false, false);
        assert_eq!(sel.selected.iter().copied().collect::<Vec<_>>(), [ids[1]]);
        sel.click(&order, ids[3], true, false);
        assert_eq!(sel.selected.len(), 2);
        assert_eq!(sel.active, Some(ids[3]));
        sel.click(&order, ids[1], true, false);
        assert_eq!(sel.selected.iter().copied().collect::<Vec<_>>(), [ids[3]]);
        // Shift: the range from the last plain/ctrl click.
        sel.click(&order, ids[0], false, false);
        sel.click(&order, ids[2], false, true);
        assert_eq!(sel.selected.iter().copied().collect::<Vec<_>>(), ids[0..=2]);
        assert_eq!(sel.active, Some(ids[2]));
        // Removing the active item hands the panel to another selected one.
        let gone: BTreeSet<u64> = [ids[2]].into();
        assert_eq!(w.remove(&gone), 1);
        sel.forget(&gone);
        assert_eq!(sel.active, Some(ids[1]));
        assert_eq!(w.items.len(), 4);
    }

    #[test]
    fn a_stale_result_never_overwrites_a_newer_edit() {
        let (mut w, ids) = ws(1);
        let s = w
            .item_mut(ids[0])
            .and_then(|i| i.spectrum_mut())
            .expect("spectrum");
        let old_rev = s.rev;
        let old = process(&s.input, &s.params);
        let mut p = s.params.clone();
        p.autobk.rbkg = 1.2;
        s.set_params(p);
        assert!(!s.store(old_rev, old), "stale result rejected");
        assert!(s.needs_processing());
        s.recompute();
        assert!(!s.needs_processing());
        assert_eq!(s.result.as_ref().map(|r| r.ft.kweight), Some(2.0));
    }

    #[test]
    fn mu_is_derived_again_from_the_stored_table() {
        let (mut w, ids) = ws(1);
        let id = ids[0];
        let x = w.column_spectrum(id).expect("column file").clone();
        assert_eq!(mode_of(&x.recipe), MuMode::Column, "cu_metal_rt: mutrans");
        let (i0, it) = (
            x.table.find("i0").expect("i0"),
            x.table.find("itrans").expect("itrans"),
        );
        let r = w
            .recipe_for_mode(id, MuMode::Transmission)
            .expect("transmission by name");
        assert_eq!(r, MuRecipe::Transmission { i0, it });
        let rev = w.item(id).and_then(|i| i.spectrum()).map(|s| s.rev);
        w.set_mu_recipe(id, r.clone()).expect("transmission");
        let item = w.item(id).expect("item");
        assert_eq!(item.mu, Some(MuMode::Transmission));
        let s = item.spectrum().expect("spectrum");
        // Revisions come from one counter shared by every thread (and so by
        // tests running in parallel): the new one is later, not necessarily next.
        assert!(rev.is_some_and(|r| s.rev > r), "a new revision");
        let Input::Mu(y) = &*s.input else {
            panic!("μ(E) input")
        };
        assert_eq!(y.recipe, r);
        assert_eq!(y.energy_ev, x.energy_ev);
        for (j, m) in y.mu.iter().enumerate() {
            let want = (x.table.columns[i0][j] / x.table.columns[it][j]).ln();
            assert!((m - want).abs() < 1e-12, "row {j}");
        }
        // A column that does not exist: an error, nothing changes.
        let e = w
            .set_mu_recipe(id, MuRecipe::Column { mu: 99 })
            .expect_err("no column 99");
        assert!(e.contains("column 100 does not exist"), "{e}");
        let item = w.item(id).expect("item");
        assert_eq!(item.mu, Some(MuMode::Transmission));
        // No fluorescence counter by name: a pair of columns that builds.
        let f = w
            .recipe_for_mode(id, MuMode::Fluorescence)
            .expect("a fallback");
        assert_eq!(mode_of(&f), MuMode::Fluorescence);
        w.set_mu_recipe(id, f).expect("fluorescence");
        assert_eq!(w.item(id).and_then(|i| i.mu), Some(MuMode::Fluorescence));
    }

    #[test]
    fn rename_trims_and_refuses_empty_names() {
        let (mut w, ids) = ws(1);
        w.rename(ids[0], "  Cu foil ").expect("rename");
        assert_eq!(w.item(ids[0]).map(|i| i.name.as_str()), Some("Cu foil"));
        assert!(w.rename(ids[0], "   ").is_err());
        assert_eq!(w.item(ids[0]).map(|i| i.name.as_str()), Some("Cu foil"));
        assert!(w.rename(999, "x").is_err());
    }

    #[test]
    fn process_reports_errors_with_the_step() {
        let (w, ids) = ws(1);
        let s = w.item(ids[0]).and_then(|i| i.spectrum()).expect("spectrum");
        let mut p = s.params.clone();
        p.autobk.rbkg = -1.0;
        let e = process(&s.input, &p).expect_err("negative rbkg");
        assert!(e.starts_with("AUTOBK"), "{e}");
        let mut p = s.params.clone();
        p.ft.kmin = 50.0;
        let e = process(&s.input, &p).expect_err("kmin beyond data");
        assert!(
            e.starts_with("Fourier transform") && e.contains("kmin"),
            "{e}"
        );
    }
}
