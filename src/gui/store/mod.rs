//! The store: everything the app has loaded, in one id space. Spectra,
//! χ(k) files and FEFF paths are its items, besides measured powder
//! patterns and CIF phases; patterns and the fit model take their ids from
//! [`new_id`] too, so the one selection can hold any mix of kinds and an
//! id never names two things.

mod fit;
pub mod sources;

pub use self::fit::FitDoc;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use egui::Color32;

use super::log::Log;
use super::selection::Selection;
use super::workspace::{
    Input, Item, ItemData, Modality, Spectrum, dataset_entries, edited_input, fallback_recipe,
    mode_of, parse_bytes_with, read_file, with_recipe,
};
use super::xrd::{CifPhase, Library, LoadedPattern, Quant, XrdEntry};
use crate::io::{self, Dataset, LoadOptions, MuMode, MuRecipe, XasSpectrum};
use crate::session::sha256_hex;
use crate::xas::FtParams;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh id, never handed out before in this process.
pub fn new_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A structure's closed-form χ(k) for the plots.
#[derive(Debug, Clone)]
pub struct TheoryOverlay {
    /// The structure (CIF stem) and absorber.
    pub name: String,
    pub k_inv_ang: Vec<f64>,
    pub chi: Vec<f64>,
    /// |χ(R)| for the last transform asked for: drawing borrows the store
    /// immutably and must not transform on every frame.
    chir: Arc<Mutex<Option<(FtParams, OverlayPoints)>>>,
}

/// Plot points shared between the cache and a frame's series.
type OverlayPoints = Arc<Vec<[f64; 2]>>;

impl TheoryOverlay {
    pub fn new(name: String, k_inv_ang: Vec<f64>, chi: Vec<f64>) -> Self {
        TheoryOverlay {
            name,
            k_inv_ang,
            chi,
            chir: Arc::default(),
        }
    }

    /// (R, |χ(R)|) with the transform `ft`, computed once per `ft`.
    pub fn chir(&self, ft: &FtParams) -> Option<OverlayPoints> {
        let mut c = self.chir.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((p, pts)) = c.as_ref()
            && p == ft
        {
            return Some(pts.clone());
        }
        let r = crate::xas::fourier::xftf(&self.k_inv_ang, &self.chi, ft).ok()?;
        let pts: Arc<Vec<[f64; 2]>> = Arc::new(
            r.r_ang
                .iter()
                .zip(&r.chir_mag)
                .map(|(&x, &y)| [x, y])
                .collect(),
        );
        *c = Some((ft.clone(), pts.clone()));
        Some(pts)
    }
}

/// A map and which store item each of its points is (Map view).
#[derive(Debug, Clone)]
pub struct MapDoc {
    pub run: crate::latent::map::MapRun,
    /// The stage that ranked it, and the joint model of stage 1 (with
    /// where it came from).
    pub stage: crate::latent::joint::Stage,
    pub model: Option<(Arc<crate::latent::JointModel>, String)>,
    /// Per point: the store id (measured: its spectrum or pattern;
    /// candidate: its CIF phase when one is loaded).
    pub ids: Vec<Option<u64>>,
    /// What could not be placed, with the reason.
    pub skipped: Vec<String>,
}

/// The clusters of the map's measurements (Map view): k-means on the map
/// into `k` groups, with the names the user gave them. They become the
/// feature table's `map_cluster` and `map_cluster_name`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapClusters {
    pub k: usize,
    /// Per point of the map on show (candidates: None); empty when k is 0.
    pub labels: Vec<Option<usize>>,
    /// `names[c]` names cluster c (empty: "cluster c+1"); kept when k
    /// changes, so names survive a re-clustering.
    pub names: Vec<String>,
    /// (map address, k) the labels were computed for.
    pub computed_for: Option<(usize, usize)>,
}

/// What [`Store::load_file`] read: the new items, the reader's located
/// warnings, and notes for the log (why μ is built the way it is).
#[derive(Debug, Default)]
pub struct Loaded {
    pub ids: Vec<u64>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Store {
    pub items: Vec<Item>,
    /// χ(q) of the spectra, once per result and R window.
    pub chiq: super::derived::ChiQCache,
    /// Measured powder patterns with their own analysis (wavelength,
    /// background, peaks, fits), in list order.
    pub patterns: Vec<XrdEntry>,
    /// The CIF phases compared with the patterns.
    pub phases: Vec<CifPhase>,
    /// The fit model and its result.
    pub fit: FitDoc,
    /// The candidate library (CIFs) and its ranking against a pattern.
    pub library: Library,
    /// The quantification's settings and result.
    pub quant: Quant,
    /// XANES results (LCF, PCA, pre-edge peaks) by item id.
    pub xanes: super::xanes::XanesResults,
    /// A structure's closed-form χ(k) drawn over the spectra (χ(k), χ(R)
    /// tabs), from the Map view; not saved with the session.
    pub theory_overlay: Option<TheoryOverlay>,
    /// The latest map (Map view), derived: not saved with the session.
    pub map: Option<Arc<MapDoc>>,
    /// Clusters of that map's measurements and their names.
    pub map_clusters: MapClusters,
    /// How the next map is built (saved with the session).
    pub map_settings: MapSettings,
    /// The learned projection (Projection view) and the loaded items'
    /// coordinates in it; the model is saved with the session.
    pub projection: Option<Arc<ProjectionDoc>>,
}

/// A learned projection held (trained here or opened) and where the
/// loaded items land in it.
#[derive(Debug, Clone)]
pub struct ProjectionDoc {
    pub model: Arc<crate::latent::project::ProjectionModel>,
    /// Where the model came from ("trained on 5 xanes spectra", a file).
    pub source: String,
    /// Store id, name and coordinates of each item projected.
    pub points: Vec<(u64, String, Vec<f64>)>,
    /// Items of the model's modality left out, with the reason.
    pub skipped: Vec<String>,
    /// Whether the loaded items have been projected (a model just opened
    /// has not).
    pub applied: bool,
}

/// How the Map view builds its map: layout, ranking stage, and the
/// stage-1 joint model held (trained by a build, or opened from a file).
#[derive(Debug, Clone, Default)]
pub struct MapSettings {
    pub layout: crate::latent::Layout,
    pub ranking: crate::session::MapRanking,
    pub model: Option<Arc<crate::latent::JointModel>>,
    /// Where the model came from, for the log and the feature table.
    pub model_source: String,
    /// Place every μ(E) by its XANES instead of its EXAFS.
    pub xanes: bool,
    /// Give candidates their simulated XANES (refeff, cached on disk).
    pub xanes_theory: bool,
    /// Measured standards as candidates' XANES (a TOML file:
    /// [`crate::latent::standards`]).
    pub xanes_standards: Option<std::path::PathBuf>,
}

impl Store {
    /// Add a pattern read by [`super::xrd::load_pattern`]; returns its id.
    pub fn add_pattern(&mut self, p: LoadedPattern) -> u64 {
        let id = new_id();
        let color = super::widgets::palette(self.patterns.len());
        self.patterns.push(XrdEntry::new(id, p, color));
        id
    }
    /// Add CIF files as phases (a file already shown is kept as it is);
    /// what cannot be read is an error in the log.
    pub fn add_cifs(&mut self, paths: &[std::path::PathBuf], log: &mut Log) {
        for p in paths {
            if self.phases.iter().any(|ph| ph.path == *p) {
                continue;
            }
            let color = super::widgets::palette(self.phases.len() + 3);
            match CifPhase::read(p, color) {
                Ok(ph) => {
                    log.info(format!("added phase {} ({})", ph.name, ph.formula));
                    self.phases.push(ph);
                }
                Err(e) => log.error(e),
            }
        }
    }

    pub fn pattern(&self, id: u64) -> Option<&XrdEntry> {
        self.patterns.iter().find(|p| p.id == id)
    }
    pub fn pattern_mut(&mut self, id: u64) -> Option<&mut XrdEntry> {
        self.patterns.iter_mut().find(|p| p.id == id)
    }
    /// A pattern by name.
    pub fn find_pattern(&self, name: &str) -> Option<u64> {
        self.patterns.iter().find(|p| p.name == name).map(|p| p.id)
    }
    pub fn item(&self, id: u64) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
    pub fn item_mut(&mut self, id: u64) -> Option<&mut Item> {
        self.items.iter_mut().find(|i| i.id == id)
    }
    pub fn find(&self, name: &str) -> Option<u64> {
        self.items.iter().find(|i| i.name == name).map(|i| i.id)
    }

    /// Read one file into items (an Athena project gives one per group).
    /// Returns the new ids, or the readable reason the file can't be read.
    /// The items of the file at `path`, and the reader's located warnings.
    /// The notes are the μ recipe's choice ([`Dataset::recipe_note`]).
    pub fn load_file(&mut self, path: &Path) -> Result<Loaded, String> {
        let file = path.display().to_string();
        let (ds, sha) = read_file(path)?;
        let warnings = ds.warnings().to_vec();
        let notes = ds.recipe_note().into_iter().collect();
        Ok(Loaded {
            ids: self.add_dataset(ds, &file, &sha)?,
            warnings,
            notes,
        })
    }

    pub fn load_bytes(&mut self, bytes: &[u8], file: &str) -> Result<Vec<u64>, String> {
        self.load_bytes_with(bytes, file, None)
    }

    /// [`Self::load_bytes`] with a μ recipe override.
    pub fn load_bytes_with(
        &mut self,
        bytes: &[u8],
        file: &str,
        mu: Option<MuMode>,
    ) -> Result<Vec<u64>, String> {
        let ds = parse_bytes_with(bytes, file, mu)?;
        let ids = self.add_dataset(ds, file, &sha256_hex(bytes))?;
        for &id in &ids {
            if let Some(item) = self.item_mut(id) {
                item.mu = mu;
            }
        }
        Ok(ids)
    }

    /// Add what one file held (read by [`read_file`], possibly on another
    /// thread) as items.
    pub fn add_dataset(
        &mut self,
        ds: Dataset,
        file: &str,
        sha256: &str,
    ) -> Result<Vec<u64>, String> {
        let mut new = Vec::new();
        for e in dataset_entries(ds, file)? {
            let id = self.push(&e.name, &e.source, e.data);
            if let Some(item) = self.item_mut(id) {
                item.group = e.group;
                item.file = file.to_string();
                item.sha256 = sha256.to_string();
            }
            new.push(id);
        }
        Ok(new)
    }

    /// Put back an item built elsewhere (an undo snapshot, a session) under
    /// its own id; later ids count on from it.
    pub fn adopt(&mut self, item: Item) {
        self.items.push(item);
    }

    /// A fresh id for an item built outside [`Self::push`].
    pub fn fresh_id(&mut self) -> u64 {
        new_id()
    }

    /// The colour the next new item gets.
    pub fn next_color(&self) -> Color32 {
        super::widgets::palette(self.items.len())
    }

    fn push(&mut self, name: &str, source: &str, data: ItemData) -> u64 {
        let id = new_id();
        let color = super::widgets::palette(self.items.len());
        self.items.push(Item {
            id,
            name: name.to_string(),
            source: source.to_string(),
            file: String::new(),
            sha256: String::new(),
            group: None,
            mu: None,
            color,
            data,
        });
        id
    }

    /// Items in the order the tree shows them (grouped by modality).
    pub fn display_order(&self) -> Vec<u64> {
        let mut v: Vec<(Modality, usize, u64)> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.modality(), i, it.id))
            .collect();
        v.sort();
        v.into_iter().map(|(_, _, id)| id).collect()
    }

    /// Every id in the order the tree shows them: the items (grouped by
    /// modality), the patterns, the phases, the candidate library, the fit
    /// model and its result (Shift-click selects a range of it).
    pub fn tree_order(&self) -> Vec<u64> {
        let mut v = self.display_order();
        v.extend(self.patterns.iter().map(|p| p.id));
        v.extend(self.phases.iter().map(|p| p.id));
        if self.library.is_loaded() {
            v.push(self.library.id);
        }
        if self.fit.model.is_some() {
            v.push(self.fit.id);
            if self.fit.result.is_some() {
                v.push(self.fit.result_id);
            }
        }
        v
    }

    /// What the tree calls `id`, whatever its kind (log lines about items
    /// dragged from it): a spectrum's or pattern's name, a structure's,
    /// the candidate library, the fit model or its result.
    pub fn name_of(&self, id: u64) -> String {
        if let Some(i) = self.item(id) {
            return i.name.clone();
        }
        if let Some(p) = self.pattern(id) {
            return format!("XRD pattern {}", p.name);
        }
        if let Some(ph) = self.phases.iter().find(|p| p.id == id) {
            return format!("structure {}", ph.name);
        }
        if self.library.is_loaded() && id == self.library.id {
            return "the candidate library".into();
        }
        if self.fit.model.is_some() && id == self.fit.id {
            return "the fit model".into();
        }
        if self.fit.result.is_some() && id == self.fit.result_id {
            return "the fit result".into();
        }
        format!("item {id} (no longer loaded)")
    }

    /// Remove what `ids` name besides items (which [`Self::remove`]
    /// takes) where removing is an undo step: CIF phases, the candidate
    /// library, the fit model (closed) or its result. Patterns stay (they
    /// are removed in the XRD view). Returns the ids removed.
    pub fn remove_others(&mut self, ids: &BTreeSet<u64>) -> BTreeSet<u64> {
        let mut gone: BTreeSet<u64> = (self.phases.iter())
            .map(|p| p.id)
            .filter(|id| ids.contains(id))
            .collect();
        self.phases.retain(|p| !gone.contains(&p.id));
        if self.library.is_loaded() && ids.contains(&self.library.id) {
            gone.insert(self.library.id);
            self.library.forget();
        }
        if self.fit.model.is_some() && ids.contains(&self.fit.id) {
            gone.insert(self.fit.id);
            if self.fit.result.is_some() {
                gone.insert(self.fit.result_id);
            }
            self.fit.close();
        } else if self.fit.result.is_some() && ids.contains(&self.fit.result_id) {
            gone.insert(self.fit.result_id);
            self.fit.set_result(None, false);
        }
        gone
    }

    /// Select exactly `ids` among this store's items, leaving the
    /// selection of other kinds (powder patterns) as it is: what opening
    /// files or undoing does.
    pub fn select_items_only(&self, sel: &mut Selection, ids: &[u64]) {
        sel.select_only_of(ids, |id| self.item(id).is_some());
    }

    pub fn remove(&mut self, ids: &BTreeSet<u64>) -> usize {
        let before = self.items.len();
        self.items.retain(|i| !ids.contains(&i.id));
        self.chiq.retain(|id| !ids.contains(&id));
        before - self.items.len()
    }

    /// Selected spectra in tree order.
    pub fn selected_spectra(&self, sel: &Selection) -> Vec<&Item> {
        self.display_order()
            .into_iter()
            .filter(|id| sel.selected.contains(id))
            .filter_map(|id| self.item(id))
            .filter(|i| i.spectrum().is_some())
            .collect()
    }

    /// Rename an item; the name is trimmed and must not be empty.
    pub fn rename(&mut self, id: u64, name: &str) -> Result<(), String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("a name cannot be empty".into());
        }
        let item = self.item_mut(id).ok_or("the item is gone")?;
        item.name = name.to_string();
        Ok(())
    }

    /// The μ(E) spectrum of an item whose μ is derived from the columns of
    /// a file (not an Athena group, whose μ is stored as such).
    pub fn column_spectrum(&self, id: u64) -> Option<&XasSpectrum> {
        let item = self.item(id).filter(|i| i.group.is_none())?;
        // The data as read: an edited input keeps no columns.
        match &*item.spectrum()?.raw {
            Input::Mu(x) => Some(x),
            Input::Chi(_) => None,
        }
    }

    /// The recipe the reader would choose for `mode` from the item's stored
    /// table (the counters found by name, as `carto xas --mu MODE`); when
    /// it finds none, the first pair of other columns that gives a finite
    /// μ, so the columns can then be picked by hand.
    pub fn recipe_for_mode(&self, id: u64, mode: MuMode) -> Result<MuRecipe, String> {
        let item = self.item(id).ok_or("the item is gone")?;
        let x = self
            .column_spectrum(id)
            .ok_or_else(|| format!("{}: μ(E) is not built from columns", item.name))?;
        let opts = LoadOptions {
            mu_mode: Some(mode),
            columns: None,
        };
        let by_name = io::beamline::to_xas(x.table.clone(), &item.file, &opts);
        let e = match by_name {
            Ok(s) => return Ok(s.recipe),
            Err(e) => e.to_string(),
        };
        fallback_recipe(x, mode).ok_or(e)
    }

    /// Derive μ(E) again from the item's stored table with `recipe` (the
    /// core's [`MuRecipe::build`], no disk read), record the choice in
    /// `item.mu` and mark the spectrum for processing. The energy grid and
    /// the parameters stay. Err: why μ can't be built that way (nothing
    /// changes then).
    pub fn set_mu_recipe(&mut self, id: u64, recipe: MuRecipe) -> Result<(), String> {
        let item = self.item(id).ok_or("the item is gone")?;
        let x = self
            .column_spectrum(id)
            .ok_or_else(|| format!("{}: μ(E) is not built from columns", item.name))?;
        if x.recipe == recipe {
            return Ok(());
        }
        let raw = match item.spectrum() {
            Some(s) => with_recipe(&s.raw, &recipe, &item.file)?,
            None => return Err(format!("{}: not a spectrum", item.name)),
        };
        let item = self.item_mut(id).ok_or("the item is gone")?;
        item.mu = Some(mode_of(&recipe));
        if let Some(s) = item.spectrum_mut() {
            // The edits (deglitch, shift, rebin) apply to the new μ(E).
            let input = edited_input(&raw, &s.edits)?;
            s.raw = raw;
            let edits = s.edits.clone();
            s.set_input(input, edits);
        }
        Ok(())
    }

    /// The spectrum the parameter panel edits.
    pub fn active_spectrum_mut(&mut self, sel: &Selection) -> Option<(&str, &mut Spectrum)> {
        let id = sel.active?;
        let item = self.items.iter_mut().find(|i| i.id == id)?;
        let name = item.name.as_str();
        match &mut item.data {
            ItemData::Spectrum(s) => Some((name, s.as_mut())),
            ItemData::Feff(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The overlay's |χ(R)| is transformed once per transform: frames
    /// that change nothing share it; a new k-weight transforms again.
    #[test]
    fn overlay_chir_is_computed_once_per_transform() {
        let k: Vec<f64> = (0..=400).map(|i| i as f64 * 0.05).collect();
        let chi: Vec<f64> = k
            .iter()
            .map(|k| (2.0 * k * 2.5).sin() * (-0.01 * k * k).exp())
            .collect();
        let t = TheoryOverlay::new("cu".into(), k, chi);
        let ft = FtParams::default();
        let a = t.chir(&ft).expect("χ(R)");
        let b = t.chir(&ft).expect("χ(R)");
        assert!(Arc::ptr_eq(&a, &b));
        // A pure sin(2kR) with R = 2.5 Å peaks at 2.5 Å (no phase shift).
        let peak = a.iter().max_by(|x, y| x[1].total_cmp(&y[1])).map(|p| p[0]);
        assert!(peak.is_some_and(|r| (r - 2.5).abs() < 0.1), "{peak:?}");
        let ft3 = FtParams {
            kweight: 3.0,
            ..FtParams::default()
        };
        let c = t.chir(&ft3).expect("χ(R)");
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
