//! Undo and redo for every view: the store (spectra, χ(k), FEFF paths),
//! the XRD view's phases (add, remove, lattice, shift, intensity
//! handles), candidate library, ranking and quantification, and the fit
//! model. The app never records edits
//! one by one: once per frame [`History::observe`] compares the workspace
//! with the last committed state and, when it differs and no drag or text
//! entry is under way, commits it as one step whose label says what
//! changed. Every change (parameters, renames, colours, deglitch, align,
//! rebin, merge, remove, open) is therefore undoable, and a drag is one step.
//!
//! A state is cheap: inputs and FEFF paths are shared `Arc`s, so a step
//! costs the parameters and names of the items, not their data.

mod labels;

pub use labels::describe;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use egui::Color32;

use super::selection::Selection;
use super::store::{FitDoc, Store};
use super::workspace::{Input, Item, ItemData, Spectrum};
use super::xrd::{CifPhase, Library, LibraryState, PhaseState, Quant, QuantState};
use crate::exafs::feffit::{FitModel, FitResult};
use crate::io::MuMode;
use crate::io::feff::FeffPath;
use crate::xas::ChainParams;
use crate::xas::edit::Edit;

/// How many steps are kept (older ones are dropped).
pub const HISTORY_LIMIT: usize = 200;

/// One item as it was.
#[derive(Debug, Clone)]
pub struct ItemState {
    pub id: u64,
    pub name: String,
    pub source: String,
    pub file: String,
    pub sha256: String,
    pub group: Option<String>,
    pub mu: Option<MuMode>,
    pub color: Color32,
    pub data: StateData,
}

// FEFF paths are few; boxing the spectrum variant would cost an allocation
// per item per step for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum StateData {
    Spectrum {
        raw: Arc<Input>,
        input: Arc<Input>,
        edits: Vec<Edit>,
        params: ChainParams,
    },
    Feff(Arc<FeffPath>),
}

/// The workspace as it was: items in order, selection, active item. Item
/// states are shared between steps while the item does not change, so a
/// step costs the items it changed, not the whole workspace.
#[derive(Debug, Clone, Default)]
pub struct DocState {
    pub items: Vec<Arc<ItemState>>,
    pub selected: Vec<u64>,
    pub active: Option<u64>,
    /// The XRD view's phases (None: not recorded, as in sessions of
    /// format 4 and earlier: undoing to this state leaves them as they are).
    pub phases: Option<Vec<Arc<PhaseState>>>,
    /// The fit model (None: not recorded, as for `phases`).
    pub fit: Option<Arc<FitState>>,
    /// The XRD view's candidate library and ranking (None: not recorded;
    /// sessions keep no library steps).
    pub library: Option<Arc<LibraryState>>,
    /// The XRD view's quantification result (None: not recorded).
    pub quant: Option<Arc<QuantState>>,
}

/// The fit model as it was, with the Fit view's revision it had, and the
/// fit result on show.
#[derive(Debug, Clone, Default)]
pub struct FitState {
    pub rev: u64,
    pub model: Option<Arc<FitModel>>,
    /// None: not recorded (sessions keep no fit results): undoing to this
    /// state leaves the result on show as it is.
    pub result: Option<ResultState>,
}

/// A fit result on show, with the Fit view's revision of results.
#[derive(Debug, Clone)]
pub struct ResultState {
    pub rev: u64,
    pub result: Option<Arc<FitResult>>,
    /// The result belonged to an earlier model.
    pub stale: bool,
}

impl ResultState {
    fn capture(fit: &FitDoc) -> Self {
        ResultState {
            rev: fit.result_rev(),
            result: fit.result.clone().map(Arc::new),
            stale: fit.stale,
        }
    }
}

fn capture_phases(
    phases: &[CifPhase],
    prev: Option<&Vec<Arc<PhaseState>>>,
) -> Vec<Arc<PhaseState>> {
    phases
        .iter()
        .enumerate()
        .map(|(i, ph)| match prev.and_then(|p| p.get(i)) {
            Some(s) if ph.matches(s) => Arc::clone(s),
            _ => Arc::new(ph.undo_state()),
        })
        .collect()
}

fn phases_match(phases: &[CifPhase], states: &[Arc<PhaseState>]) -> bool {
    phases.len() == states.len() && phases.iter().zip(states).all(|(p, s)| p.matches(s))
}

fn capture_fit(fit: &FitDoc, prev: Option<&Arc<FitState>>) -> Arc<FitState> {
    let same_result = |p: &FitState| p.result.as_ref().map(|r| r.rev) == Some(fit.result_rev());
    match prev {
        Some(s) if s.rev == fit.model_rev() && same_result(s) => Arc::clone(s),
        _ => Arc::new(FitState {
            rev: fit.model_rev(),
            model: match prev {
                Some(s) if s.rev == fit.model_rev() => s.model.clone(),
                _ => fit.model.clone().map(Arc::new),
            },
            result: Some(match prev.and_then(|s| s.result.as_ref()) {
                Some(r) if r.rev == fit.result_rev() => r.clone(),
                _ => ResultState::capture(fit),
            }),
        }),
    }
}

fn capture_library(lib: &Library, prev: Option<&Arc<LibraryState>>) -> Arc<LibraryState> {
    match prev {
        Some(s) if s.rev == lib.rev => Arc::clone(s),
        _ => Arc::new(lib.undo_state()),
    }
}

fn capture_quant(q: &Quant, prev: Option<&Arc<QuantState>>) -> Arc<QuantState> {
    match prev {
        Some(s) if s.rev == q.rev => Arc::clone(s),
        _ => Arc::new(q.undo_state()),
    }
}

fn fit_matches(s: &FitState, fit: &FitDoc) -> bool {
    s.rev == fit.model_rev() && s.result.as_ref().is_none_or(|r| r.rev == fit.result_rev())
}

impl ItemState {
    pub fn capture(it: &Item) -> Self {
        ItemState {
            id: it.id,
            name: it.name.clone(),
            source: it.source.clone(),
            file: it.file.clone(),
            sha256: it.sha256.clone(),
            group: it.group.clone(),
            mu: it.mu,
            color: it.color,
            data: match &it.data {
                ItemData::Spectrum(s) => StateData::Spectrum {
                    raw: s.raw.clone(),
                    input: s.input.clone(),
                    edits: s.edits.clone(),
                    params: s.params.clone(),
                },
                ItemData::Feff(f) => StateData::Feff(f.clone()),
            },
        }
    }

    /// Does `it` hold exactly this state?
    fn matches(&self, it: &Item) -> bool {
        self.id == it.id
            && self.name == it.name
            && self.color == it.color
            && self.mu == it.mu
            && self.file == it.file
            && self.group == it.group
            && match (&self.data, &it.data) {
                (
                    StateData::Spectrum {
                        raw,
                        input,
                        edits,
                        params,
                    },
                    ItemData::Spectrum(s),
                ) => {
                    Arc::ptr_eq(raw, &s.raw)
                        && Arc::ptr_eq(input, &s.input)
                        && *edits == s.edits
                        && *params == s.params
                }
                (StateData::Feff(a), ItemData::Feff(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }

    /// A new item holding this state.
    pub fn to_item(&self) -> Item {
        let data = match &self.data {
            StateData::Spectrum {
                raw,
                input,
                edits,
                params,
            } => {
                let mut s = Spectrum::new_shared(raw.clone());
                s.set_input(input.clone(), edits.clone());
                s.set_params(params.clone());
                ItemData::Spectrum(Box::new(s))
            }
            StateData::Feff(f) => ItemData::Feff(f.clone()),
        };
        Item {
            id: self.id,
            name: self.name.clone(),
            source: self.source.clone(),
            file: self.file.clone(),
            sha256: self.sha256.clone(),
            group: self.group.clone(),
            mu: self.mu,
            color: self.color,
            data,
        }
    }

    /// Put this state into `it` (same id), keeping its last result when
    /// the data and parameters did not change.
    fn apply_to(&self, it: &mut Item) {
        it.name = self.name.clone();
        it.source = self.source.clone();
        it.file = self.file.clone();
        it.sha256 = self.sha256.clone();
        it.group = self.group.clone();
        it.mu = self.mu;
        it.color = self.color;
        match (&self.data, &mut it.data) {
            (
                StateData::Spectrum {
                    raw,
                    input,
                    edits,
                    params,
                },
                ItemData::Spectrum(s),
            ) => {
                s.raw = raw.clone();
                s.set_input(input.clone(), edits.clone());
                s.set_params(params.clone());
            }
            _ => *it = self.to_item(),
        }
    }
}

impl DocState {
    pub fn capture(ws: &Store, sel: &Selection) -> Self {
        DocState {
            items: ws
                .items
                .iter()
                .map(|i| Arc::new(ItemState::capture(i)))
                .collect(),
            selected: sel.selected.iter().copied().collect(),
            active: sel.active,
            phases: Some(capture_phases(&ws.phases, None)),
            fit: Some(capture_fit(&ws.fit, None)),
            library: Some(capture_library(&ws.library, None)),
            quant: Some(capture_quant(&ws.quant, None)),
        }
    }

    /// [`Self::capture`], reusing `prev`'s state of every item that did
    /// not change.
    pub fn capture_sharing(ws: &Store, sel: &Selection, prev: &DocState) -> Self {
        let by_id: std::collections::HashMap<u64, &Arc<ItemState>> =
            prev.items.iter().map(|s| (s.id, s)).collect();
        DocState {
            items: ws
                .items
                .iter()
                .map(|i| match by_id.get(&i.id) {
                    Some(s) if s.matches(i) => Arc::clone(s),
                    _ => Arc::new(ItemState::capture(i)),
                })
                .collect(),
            selected: sel.selected.iter().copied().collect(),
            active: sel.active,
            phases: Some(capture_phases(&ws.phases, prev.phases.as_ref())),
            fit: Some(capture_fit(&ws.fit, prev.fit.as_ref())),
            library: Some(capture_library(&ws.library, prev.library.as_ref())),
            quant: Some(capture_quant(&ws.quant, prev.quant.as_ref())),
        }
    }

    /// Is the document (items, in order, phases and fit model; not the
    /// selection) this state?
    pub fn matches(&self, ws: &Store) -> bool {
        self.items.len() == ws.items.len()
            && self
                .items
                .iter()
                .zip(&ws.items)
                .all(|(s, it)| s.matches(it))
            && self
                .phases
                .as_ref()
                .is_none_or(|p| phases_match(&ws.phases, p))
            && self.fit.as_ref().is_none_or(|f| fit_matches(f, &ws.fit))
            && (self.library.as_ref()).is_none_or(|l| l.rev == ws.library.rev)
            && (self.quant.as_ref()).is_none_or(|q| q.rev == ws.quant.rev)
    }

    /// Fill the parts this state did not record from the document as it is.
    fn complete(&mut self, ws: &Store) {
        let fit = &ws.fit;
        if self.library.is_none() {
            self.library = Some(capture_library(&ws.library, None));
        }
        if self.quant.is_none() {
            self.quant = Some(capture_quant(&ws.quant, None));
        }
        if self.phases.is_none() {
            self.phases = Some(capture_phases(&ws.phases, None));
        }
        match &self.fit {
            None => self.fit = Some(capture_fit(fit, None)),
            Some(f) if f.result.is_none() => {
                self.fit = Some(Arc::new(FitState {
                    result: Some(ResultState::capture(fit)),
                    ..FitState::clone(f)
                }));
            }
            Some(_) => {}
        }
    }

    /// Make the document this state. Items that are still there keep their
    /// results unless their data or parameters change.
    pub fn restore(&mut self, ws: &mut Store, sel: &mut Selection) {
        if let Some(states) = &self.phases
            && !phases_match(&ws.phases, states)
        {
            ws.phases = states.iter().map(|s| CifPhase::from_state(s)).collect();
        }
        if let Some(f) = self.fit.clone()
            && !fit_matches(&f, &ws.fit)
        {
            if f.rev != ws.fit.model_rev() {
                ws.fit.restore_model(f.model.as_deref().cloned());
            }
            if let Some(r) = &f.result {
                ws.fit.set_result(r.result.as_deref().cloned(), r.stale);
            }
            // The restored state, under the store's new revisions.
            self.fit = Some(Arc::new(FitState {
                rev: ws.fit.model_rev(),
                model: f.model.clone(),
                result: f.result.as_ref().map(|r| ResultState {
                    rev: ws.fit.result_rev(),
                    ..r.clone()
                }),
            }));
        }
        if let Some(l) = &self.library
            && l.rev != ws.library.rev
        {
            let rev = ws.library.restore(l);
            self.library = Some(Arc::new(LibraryState {
                rev,
                ..LibraryState::clone(l)
            }));
        }
        if let Some(q) = &self.quant
            && q.rev != ws.quant.rev
        {
            let rev = ws.quant.restore(q);
            self.quant = Some(Arc::new(QuantState {
                rev,
                ..QuantState::clone(q)
            }));
        }
        self.complete(ws);
        self.restore_items(ws, sel);
    }

    fn restore_items(&self, ws: &mut Store, sel: &mut Selection) {
        let mut old: BTreeMap<u64, Item> = ws.items.drain(..).map(|i| (i.id, i)).collect();
        for st in &self.items {
            let item = match old.remove(&st.id) {
                Some(mut it) => {
                    st.apply_to(&mut it);
                    it
                }
                None => st.to_item(),
            };
            ws.adopt(item);
        }
        let ids: BTreeSet<u64> = self.items.iter().map(|s| s.id).collect();
        let selected: Vec<u64> = self
            .selected
            .iter()
            .copied()
            .filter(|id| ids.contains(id))
            .collect();
        ws.select_items_only(sel, &selected);
        sel.active = self.active.filter(|id| ids.contains(id)).or(sel.active);
    }
}

/// A change, for the Edit menu and the log.
#[derive(Debug, Clone)]
pub struct Step {
    pub label: String,
    pub state: DocState,
}

#[derive(Debug, Default)]
pub struct History {
    /// Each holds the state before the change its label names; newest last.
    pub undo: Vec<Step>,
    /// Each holds the state after its change; the next redo last.
    pub redo: Vec<Step>,
    /// The last committed state (what the workspace is, or was before the
    /// edit now under way).
    pub current: DocState,
    /// A label for the next commit, set by operations that know better
    /// than a diff (merge, align).
    pending_label: Option<String>,
}

impl History {
    /// Start over from the document as it is (no steps).
    pub fn reset(&mut self, ws: &Store, sel: &Selection) {
        *self = History {
            current: DocState::capture(ws, sel),
            ..History::default()
        };
    }

    /// The XRD phases and the fit model as they are now are the present,
    /// not a step (a session has just put them there).
    pub fn adopt_others(&mut self, ws: &Store) {
        self.current.phases = None;
        self.current.fit = None;
        self.current.library = None;
        self.current.quant = None;
        self.current.complete(ws);
    }

    /// Name the next commit (an operation sets it right after changing the
    /// workspace).
    pub fn label_next(&mut self, label: impl Into<String>) {
        self.pending_label = Some(label.into());
    }

    /// Commit the workspace as a step if it changed and `settled` (no
    /// pointer button held, no text field focused). Returns the label.
    pub fn observe(&mut self, ws: &Store, sel: &Selection, settled: bool) -> Option<String> {
        // What the present state did not record (a new history, an old
        // session's) is taken as it is, not as a change.
        self.current.complete(ws);
        let fit = &ws.fit;
        if fit.just_opened()
            && self
                .current
                .fit
                .as_ref()
                .is_some_and(|f| f.rev != fit.model_rev())
        {
            // A model (re)opened is where its undo starts, not a step.
            self.current.fit = Some(capture_fit(fit, None));
        }
        // A session's library and quantification coming back in the
        // background are the present, not steps.
        if ws.library.quiet_rev == ws.library.rev
            && (self.current.library.as_ref()).is_some_and(|l| l.rev != ws.library.rev)
        {
            self.current.library = Some(capture_library(&ws.library, None));
        }
        if ws.quant.quiet_rev == ws.quant.rev
            && (self.current.quant.as_ref()).is_some_and(|q| q.rev != ws.quant.rev)
        {
            self.current.quant = Some(capture_quant(&ws.quant, None));
        }
        if self.current.matches(ws) {
            // Selection changes are not steps, but the next undo should
            // come back to the current selection.
            if settled {
                self.current.selected = sel.selected.iter().copied().collect();
                self.current.active = sel.active;
            }
            return None;
        }
        if !settled {
            return None;
        }
        let now = DocState::capture_sharing(ws, sel, &self.current);
        let label = self
            .pending_label
            .take()
            .unwrap_or_else(|| describe(&self.current, &now));
        let before = std::mem::replace(&mut self.current, now);
        self.undo.push(Step {
            label: label.clone(),
            state: before,
        });
        if self.undo.len() > HISTORY_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        Some(label)
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    /// Undo the last step (committing any change under way first).
    /// Returns its label.
    pub fn undo(&mut self, ws: &mut Store, sel: &mut Selection) -> Option<String> {
        self.travel(ws, sel, true)
    }

    /// Redo the last undone step. Returns its label.
    pub fn redo(&mut self, ws: &mut Store, sel: &mut Selection) -> Option<String> {
        self.travel(ws, sel, false)
    }

    /// Move one step back (undo) or forward (redo): the step's state
    /// becomes the present, the present goes on the other stack.
    fn travel(&mut self, ws: &mut Store, sel: &mut Selection, back: bool) -> Option<String> {
        self.observe(ws, sel, true);
        let (from, to) = if back {
            (&mut self.undo, &mut self.redo)
        } else {
            (&mut self.redo, &mut self.undo)
        };
        let step = from.pop()?;
        let other = std::mem::replace(&mut self.current, step.state);
        self.current.restore(ws, sel);
        to.push(Step {
            label: step.label.clone(),
            state: other,
        });
        Some(step.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws_with(n: usize) -> Store {
        let mut ws = Store::default();
        for i in 0..n {
            let e: Vec<f64> = (0..400).map(|j| 7000.0 + j as f64).collect();
            let mu: Vec<f64> = e.iter().map(|x| (x - 7112.0).atan()).collect();
            let text: String = e
                .iter()
                .zip(&mu)
                .map(|(x, y)| format!("{x} {y}\n"))
                .collect();
            let text = format!("# energy mu\n{text}");
            ws.load_bytes(text.as_bytes(), &format!("s{i}.xmu"))
                .unwrap();
        }
        ws
    }

    #[test]
    fn a_parameter_change_is_one_labelled_step_and_undoes() {
        let mut ws = ws_with(2);
        let mut h = History::default();
        let mut sel = Selection::default();
        h.reset(&ws, &sel);
        let id = ws.items[0].id;
        let s = ws.item_mut(id).unwrap().spectrum_mut().unwrap();
        let mut p = s.params.clone();
        p.autobk.rbkg = 1.2;
        s.set_params(p.clone());
        // Mid-drag: nothing is committed.
        assert_eq!(h.observe(&ws, &sel, false), None);
        p.autobk.rbkg = 1.4;
        ws.item_mut(id)
            .unwrap()
            .spectrum_mut()
            .unwrap()
            .set_params(p);
        let label = h.observe(&ws, &sel, true).unwrap();
        assert_eq!(label, "rbkg 1 → 1.4 (s0.xmu)");
        assert_eq!(h.undo.len(), 1);
        // The unchanged item's state is shared by the step and the present.
        assert!(Arc::ptr_eq(&h.undo[0].state.items[1], &h.current.items[1]));
        assert!(!Arc::ptr_eq(&h.undo[0].state.items[0], &h.current.items[0]));
        assert_eq!(h.undo(&mut ws, &mut sel).as_deref(), Some(label.as_str()));
        let rbkg = |ws: &Store| ws.items[0].spectrum().unwrap().params.autobk.rbkg;
        assert_eq!(rbkg(&ws), 1.0);
        assert_eq!(h.redo(&mut ws, &mut sel).as_deref(), Some(label.as_str()));
        assert_eq!(rbkg(&ws), 1.4);
        assert_eq!(
            h.observe(&ws, &sel, true),
            None,
            "undo/redo are not new steps"
        );
    }

    #[test]
    fn remove_and_undo_brings_the_same_item_back() {
        let mut ws = ws_with(3);
        let mut h = History::default();
        let mut sel = Selection::default();
        h.reset(&ws, &sel);
        let id = ws.items[1].id;
        let input = ws.items[1].spectrum().unwrap().input.clone();
        ws.remove(&[id].into());
        assert_eq!(h.observe(&ws, &sel, true).as_deref(), Some("remove s1.xmu"));
        h.undo(&mut ws, &mut sel);
        assert_eq!(ws.items.len(), 3);
        assert_eq!(ws.items[1].id, id, "same place, same id");
        assert!(Arc::ptr_eq(&ws.items[1].spectrum().unwrap().input, &input));
        // A new edit after an undo drops the redo branch.
        ws.items[0].name = "renamed".into();
        assert_eq!(
            h.observe(&ws, &sel, true).as_deref(),
            Some("rename s0.xmu → renamed (renamed)")
        );
        assert!(h.redo.is_empty());
    }

    #[test]
    fn edits_are_steps_and_a_new_item_never_reuses_an_id() {
        use crate::xas::deglitch::{DeglitchParams, PointSelection};
        let mut ws = ws_with(1);
        let mut h = History::default();
        let mut sel = Selection::default();
        h.reset(&ws, &sel);
        let s = ws.items[0].spectrum_mut().unwrap();
        let n0 = match s.input.as_ref() {
            Input::Mu(x) => x.energy_ev.len(),
            Input::Chi(_) => 0,
        };
        s.set_edits(vec![Edit::Deglitch(DeglitchParams {
            remove: vec![PointSelection::Energy { energy_ev: 7200.0 }],
            replace: false,
        })])
        .unwrap();
        assert_eq!(
            h.observe(&ws, &sel, true).as_deref(),
            Some("deglitch 1 point selection (s0.xmu)")
        );
        h.undo(&mut ws, &mut sel);
        let n = match ws.items[0].spectrum().unwrap().input.as_ref() {
            Input::Mu(x) => x.energy_ev.len(),
            Input::Chi(_) => 0,
        };
        assert_eq!(n, n0);
        let before: Vec<u64> = ws.items.iter().map(|i| i.id).collect();
        let all = before.iter().copied().collect();
        ws.remove(&all);
        h.observe(&ws, &sel, true);
        h.undo(&mut ws, &mut sel);
        assert!(ws.fresh_id() > *before.iter().max().unwrap());
    }
}
