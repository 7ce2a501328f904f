//! The app's one selection: ids of any kind (spectra, χ(k), FEFF paths,
//! powder patterns — one id space, see [`super::store::new_id`]), held
//! beside the store. Every view shows the selected items of its kind.

use std::collections::BTreeSet;

#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub selected: BTreeSet<u64>,
    /// The last clicked item, of any kind (the parameter panel edits it
    /// when it is a spectrum).
    pub active: Option<u64>,
    /// Where a shift-click range starts.
    anchor: Option<u64>,
}

impl Selection {
    /// A click on an item: plain replaces the selection, ctrl toggles,
    /// shift selects the range of `order` (the tree's order) from the last
    /// plain/ctrl click.
    pub fn click(&mut self, order: &[u64], id: u64, ctrl: bool, shift: bool) {
        if shift && let Some(anchor) = self.anchor {
            let a = order.iter().position(|&x| x == anchor);
            let b = order.iter().position(|&x| x == id);
            if let (Some(a), Some(b)) = (a, b) {
                if !ctrl {
                    self.selected.clear();
                }
                self.selected
                    .extend(order[a.min(b)..=a.max(b)].iter().copied());
                self.active = Some(id);
                return;
            }
        }
        if ctrl {
            if !self.selected.remove(&id) {
                self.selected.insert(id);
            }
        } else {
            self.selected.clear();
            self.selected.insert(id);
        }
        self.anchor = Some(id);
        self.active = Some(id);
    }

    /// Select exactly `ids` (of any kind).
    pub fn select_only(&mut self, ids: &[u64]) {
        self.selected = ids.iter().copied().collect();
        self.active = ids.last().copied();
        self.anchor = self.active;
    }

    /// Select exactly `ids` among the ids of one kind (`of_kind`), leaving
    /// the selection of other kinds as it is: what opening files or
    /// undoing does.
    pub fn select_only_of(&mut self, ids: &[u64], of_kind: impl Fn(u64) -> bool) {
        let others: Vec<u64> = (self.selected.iter().copied())
            .filter(|&id| !of_kind(id))
            .collect();
        self.select_only(ids);
        self.selected.extend(others);
    }

    /// `ids` are gone: out of the selection; the active item moves to the
    /// last selected one when it was among them.
    pub fn forget(&mut self, ids: &BTreeSet<u64>) {
        self.selected.retain(|id| !ids.contains(id));
        if self.active.is_some_and(|a| ids.contains(&a)) {
            self.active = self.selected.iter().next_back().copied();
        }
    }
}
