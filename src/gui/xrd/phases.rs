//! Candidate phases: CIFs shown as stick patterns (and optionally
//! broadened) over the active pattern, with an intensity scale, a lattice
//! scale and a 2θ shift that move them live; the right panel that lists
//! them, the candidate library (library.rs) and the quantification.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{Color32, RichText, Ui};

use super::pattern::XrdEntry;
use super::{XrdAction, XrdPanel};
use crate::gui::log::Log;
use crate::gui::store::Store;
use crate::io::xrd::{JcpdsCard, read_jcpds_bytes, two_theta_from_d};
use crate::structure::{Lattice, Structure, read_cif, reduced_formula};
use crate::xrd::{
    DebyeWaller, Peak, ProfileParams, XrdOptions, broaden, rescale_lattice, simulate,
};

/// Lattice scales the handle allows (fraction of the CIF's cell).
const LATTICE_RANGE: std::ops::RangeInclusive<f64> = 0.9..=1.1;
/// Simulated beyond the pattern's ends so lines can move into view.
const SIM_MARGIN_DEG: f64 = 15.0;

/// The key of a simulation: wavelength and 2θ range.
type SimKey = (u64, u64, u64);

/// A CIF shown over the patterns.
#[derive(Debug, Clone)]
pub struct CifPhase {
    /// The phase's id in the one id space.
    pub id: u64,
    pub path: PathBuf,
    /// The file stem.
    pub name: String,
    pub formula: String,
    /// Shared with the undo history's states of this phase.
    structure: Arc<Structure>,
    pub visible: bool,
    /// Also draw the broadened pattern (Caglioti defaults; Kα doublet
    /// for a Kα wavelength name).
    pub broadened: bool,
    /// The strongest stick's height as a fraction of the active pattern's
    /// strongest peak above background.
    pub intensity: f64,
    /// d-spacing scale (1 = the CIF's cell).
    pub lattice: f64,
    /// 2θ offset (°).
    pub shift_deg: f64,
    pub color: Color32,
    /// A JCPDS card's reflections, when the phase is a card: its sticks
    /// come from the card's d-spacings and intensities (the structure is
    /// then the card's cell without atoms).
    card: Option<Arc<JcpdsCard>>,
    sim: Option<(SimKey, Result<Vec<Peak>, String>)>,
}

/// A phase as the undo history keeps it: its settings, the structure
/// shared with the phase (so a step costs the settings only).
#[derive(Debug, Clone)]
pub struct PhaseState {
    pub id: u64,
    pub path: PathBuf,
    pub name: String,
    pub formula: String,
    structure: Arc<Structure>,
    card: Option<Arc<JcpdsCard>>,
    pub visible: bool,
    pub broadened: bool,
    pub intensity: f64,
    pub lattice: f64,
    pub shift_deg: f64,
    pub color: Color32,
}

impl CifPhase {
    /// The structure read from the CIF (shared, not copied).
    pub fn structure(&self) -> Arc<Structure> {
        self.structure.clone()
    }

    /// This phase's state for the undo history.
    pub fn undo_state(&self) -> PhaseState {
        PhaseState {
            id: self.id,
            path: self.path.clone(),
            name: self.name.clone(),
            formula: self.formula.clone(),
            structure: self.structure.clone(),
            card: self.card.clone(),
            visible: self.visible,
            broadened: self.broadened,
            intensity: self.intensity,
            lattice: self.lattice,
            shift_deg: self.shift_deg,
            color: self.color,
        }
    }

    /// Does the phase hold exactly `s`?
    pub fn matches(&self, s: &PhaseState) -> bool {
        Arc::ptr_eq(&self.structure, &s.structure)
            && self.id == s.id
            && self.path == s.path
            && self.visible == s.visible
            && self.broadened == s.broadened
            && self.intensity == s.intensity
            && self.lattice == s.lattice
            && self.shift_deg == s.shift_deg
            && self.color == s.color
    }

    /// The phase of an undo state (simulated again when drawn).
    pub fn from_state(s: &PhaseState) -> CifPhase {
        CifPhase {
            id: s.id,
            path: s.path.clone(),
            name: s.name.clone(),
            formula: s.formula.clone(),
            structure: s.structure.clone(),
            card: s.card.clone(),
            visible: s.visible,
            broadened: s.broadened,
            intensity: s.intensity,
            lattice: s.lattice,
            shift_deg: s.shift_deg,
            color: s.color,
            sim: None,
        }
    }

    /// Read a CIF file, a JCPDS card (`.jcpds`), or a demo CIF named
    /// `builtin:NAME`.
    pub fn read(path: &Path, color: Color32) -> Result<CifPhase, String> {
        if is_jcpds(path) {
            let bytes = crate::io::read_input(path).map_err(|e| e.to_string())?;
            return Self::from_bytes(path, &bytes, color);
        }
        let name = path.to_string_lossy();
        if let Some(b) = name.strip_prefix(crate::session::BUILTIN_PREFIX) {
            let bytes = crate::gui::builtin::builtin_bytes(b)
                .ok_or_else(|| format!("no built-in file {b}"))?;
            let text = String::from_utf8_lossy(bytes);
            let v =
                crate::structure::parse_cif_structures(&text, &name).map_err(|e| e.to_string())?;
            return Self::from_structures(path, v, color);
        }
        let v = read_cif(path).map_err(|e| e.to_string())?;
        Self::from_structures(path, v, color)
    }

    /// A CIF or JCPDS card whose bytes were read elsewhere (a worker thread).
    pub fn from_bytes(path: &Path, bytes: &[u8], color: Color32) -> Result<CifPhase, String> {
        let name = path.display().to_string();
        if is_jcpds(path) {
            let card = read_jcpds_bytes(bytes, &name).map_err(|e| e.to_string())?;
            return Ok(Self::from_card(path, card, color));
        }
        let v = crate::structure::parse_cif_structures(&String::from_utf8_lossy(bytes), &name)
            .map_err(|e| e.to_string())?;
        Self::from_structures(path, v, color)
    }

    /// A JCPDS card as a phase: its cell (no atoms) and its reflections.
    fn from_card(path: &Path, card: JcpdsCard, color: Color32) -> CifPhase {
        let structure = Structure {
            name: card.name.clone(),
            lattice: Lattice {
                a_ang: card.a_ang,
                b_ang: card.b_ang,
                c_ang: card.c_ang,
                alpha_deg: card.alpha_deg,
                beta_deg: card.beta_deg,
                gamma_deg: card.gamma_deg,
            },
            sites: Vec::new(),
            spacegroup_in_file: None,
            warnings: Vec::new(),
        };
        CifPhase {
            id: crate::gui::store::new_id(),
            path: path.to_path_buf(),
            name: card.name.clone(),
            formula: format!("JCPDS, {} lines", card.reflections.len()),
            structure: Arc::new(structure),
            card: Some(Arc::new(card)),
            visible: true,
            broadened: false,
            intensity: 1.0,
            lattice: 1.0,
            shift_deg: 0.0,
            color,
            sim: None,
        }
    }

    /// Whether the phase is a JCPDS card (sticks from its reflections).
    pub fn is_card(&self) -> bool {
        self.card.is_some()
    }

    fn from_structures(
        path: &Path,
        mut v: Vec<crate::structure::Structure>,
        color: Color32,
    ) -> Result<CifPhase, String> {
        if v.is_empty() {
            return Err(format!("{}: no structure in the file", path.display()));
        }
        let s = v.remove(0);
        Ok(CifPhase {
            id: crate::gui::store::new_id(),
            path: path.to_path_buf(),
            name: path.file_stem().map_or_else(
                || path.display().to_string(),
                |s| {
                    let s = s.to_string_lossy();
                    let s = s.strip_prefix(crate::session::BUILTIN_PREFIX).unwrap_or(&s);
                    s.to_string()
                },
            ),
            formula: reduced_formula(&s),
            structure: Arc::new(s),
            card: None,
            visible: true,
            broadened: false,
            intensity: 1.0,
            lattice: 1.0,
            shift_deg: 0.0,
            color,
            sim: None,
        })
    }

    /// The simulation range for a pattern.
    fn sim_range(e: &XrdEntry) -> (f64, f64) {
        let (lo, hi) = e.range();
        (
            (lo - SIM_MARGIN_DEG).max(0.5),
            (hi + SIM_MARGIN_DEG).min(179.0),
        )
    }

    /// Simulate for `e`'s wavelength and range unless done already.
    pub fn update(&mut self, e: &XrdEntry) {
        let Ok(Some(wl)) = e.wavelength() else {
            return;
        };
        let (lo, hi) = Self::sim_range(e);
        let key = (wl.to_bits(), lo.to_bits(), hi.to_bits());
        if self.sim.as_ref().is_some_and(|(k, _)| *k == key) {
            return;
        }
        let opts = XrdOptions {
            wavelength_ang: wl,
            two_theta_min_deg: lo,
            two_theta_max_deg: hi,
            debye_waller: DebyeWaller::FromCif,
        };
        let peaks = match &self.card {
            Some(card) => Ok(card_peaks(card, wl, lo, hi)),
            None => simulate(&self.structure, &opts).map_err(|e| e.to_string()),
        };
        self.sim = Some((key, peaks));
    }

    /// Why the phase cannot be drawn, if so.
    pub fn error(&self) -> Option<&str> {
        match &self.sim {
            Some((_, Err(e))) => Some(e),
            _ => None,
        }
    }

    /// The peaks moved by the lattice scale; the shift is not applied.
    fn moved_peaks(&self, wl: f64) -> Vec<Peak> {
        match &self.sim {
            Some((_, Ok(peaks))) => rescale_lattice(peaks, self.lattice, wl),
            _ => Vec::new(),
        }
    }

    /// (2θ, intensity 0–100) of each stick inside the pattern's range,
    /// moved by the lattice scale and shift; None before a simulation at
    /// the pattern's wavelength.
    pub fn sticks(&self, e: &XrdEntry) -> Option<Vec<(f64, f64)>> {
        let wl = e.wavelength().ok().flatten()?;
        let (lo, hi) = e.range();
        match &self.sim {
            Some((k, Ok(_))) if k.0 == wl.to_bits() => {}
            _ => return None,
        }
        Some(
            self.moved_peaks(wl)
                .iter()
                .map(|p| (p.two_theta_deg + self.shift_deg, p.intensity))
                .filter(|(t, _)| (lo..=hi).contains(t))
                .collect(),
        )
    }

    /// The broadened pattern over the pattern's range (area per stick = its
    /// intensity), on the pattern's step.
    pub fn broadened_curve(&self, e: &XrdEntry) -> Option<(Vec<f64>, Vec<f64>)> {
        let wl = e.wavelength().ok().flatten()?;
        let (lo, hi) = e.range();
        let peaks = self.moved_peaks(wl);
        if peaks.is_empty() {
            return None;
        }
        let p = ProfileParams {
            step_deg: e.step().clamp(0.002, 0.1),
            ..ProfileParams::default()
        };
        let (x, y) = broaden(
            &peaks,
            lo - self.shift_deg,
            hi - self.shift_deg,
            &p,
            e.doublet(),
        )
        .ok()?;
        Some((x.into_iter().map(|t| t + self.shift_deg).collect(), y))
    }
}

/// Whether `path` names a JCPDS card (by its extension, as `carto info`).
pub fn is_jcpds(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jcpds"))
}

/// A card's reflections as sticks at `wl` within `lo`–`hi` (2θ °):
/// Bragg's law on each d, the card's intensities scaled so the strongest
/// line in the card is 100; reflections at the same 2θ stay separate
/// lines (the card lists them so).
fn card_peaks(card: &JcpdsCard, wl: f64, lo: f64, hi: f64) -> Vec<Peak> {
    let top = card
        .reflections
        .iter()
        .map(|r| r.intensity)
        .fold(0.0_f64, f64::max);
    let scale = if top > 0.0 { 100.0 / top } else { 1.0 };
    card.reflections
        .iter()
        .filter_map(|r| {
            let t = two_theta_from_d(r.d_ang, wl)?;
            (lo..=hi).contains(&t).then(|| Peak {
                two_theta_deg: t,
                intensity: r.intensity * scale,
                d_ang: r.d_ang,
                hkls: vec![vec![r.h, r.k, r.l]],
                multiplicity: vec![1],
            })
        })
        .collect()
}

impl XrdPanel {
    /// Simulate the store's phases for the active pattern where needed.
    pub fn update_phases(&mut self, store: &mut Store) {
        let Some(e) = self.active_entry(&store.patterns) else {
            return;
        };
        for ph in &mut store.phases {
            ph.update(e);
        }
    }

    /// Show a ranked candidate at its best lattice scale (added as a phase
    /// when it is not one yet).
    pub fn show_candidate(&mut self, store: &mut Store, id: &str, scale: f64, log: &mut Log) {
        let Some(path) = store.library.files.get(id).cloned() else {
            log.error(format!("{id}: not in the candidate library"));
            return;
        };
        if !store.phases.iter().any(|p| p.path == path) {
            store.add_cifs(std::slice::from_ref(&path), log);
        }
        if let Some(ph) = store.phases.iter_mut().find(|p| p.path == path) {
            ph.lattice = scale;
            ph.visible = true;
        }
        self.update_phases(store);
    }

    /// The right panel: phases, library and ranking, quantification.
    /// `sel` is the one selection: a phase's name shows whether it is in
    /// it, and a click selects it (Ctrl: toggles) among the phases.
    pub(super) fn phases_ui(
        &mut self,
        ui: &mut Ui,
        log: &mut Log,
        store: &mut Store,
        sel: &mut BTreeSet<u64>,
    ) -> XrdAction {
        let mut action = XrdAction::None;
        let ctrl = ui.input(|i| i.modifiers.command);
        let mut clicked = None;
        self.update_phases(store);
        ui.horizontal(|ui| {
            ui.heading("Phases");
            if ui
                .button("Add CIFs…")
                .on_hover_text("Crystal structures to compare with the active pattern")
                .clicked()
            {
                action = XrdAction::AddCifs;
            }
        });
        let active = self.active_entry(&store.patterns);
        let no_wl = !store.phases.is_empty()
            && active.is_some_and(|e| !matches!(e.wavelength(), Ok(Some(_))));
        if no_wl {
            ui.label(
                RichText::new("The active pattern needs a wavelength to simulate phases.")
                    .color(ui.visuals().warn_fg_color),
            );
        }
        let mut remove = None;
        for (i, ph) in store.phases.iter_mut().enumerate() {
            ui.push_id(("phase", i), |ui| {
                ui.horizontal(|ui| {
                    ui.spacing_mut().interact_size.x = 18.0;
                    ui.color_edit_button_srgba(&mut ph.color);
                    ui.checkbox(&mut ph.visible, "")
                        .on_hover_text("Show the sticks");
                    if ui
                        .selectable_label(sel.contains(&ph.id), RichText::new(&ph.name).strong())
                        .on_hover_text(ph.path.display().to_string())
                        .clicked()
                    {
                        clicked = Some(ph.id);
                    }
                    ui.label(RichText::new(&ph.formula).weak());
                    if ui.small_button("×").on_hover_text("Remove").clicked() {
                        remove = Some(i);
                    }
                });
                ui.horizontal(|ui| {
                    let l = ui.label("intensity");
                    ui.add(
                        egui::DragValue::new(&mut ph.intensity)
                            .speed(0.01)
                            .range(0.0..=10.0),
                    )
                    .labelled_by(l.id)
                    .on_hover_text(
                        "Intensity: the strongest stick's height / the strongest peak's",
                    );
                    let l = ui.label("lattice");
                    ui.add(egui::Slider::new(&mut ph.lattice, LATTICE_RANGE))
                        .labelled_by(l.id)
                        .on_hover_text("Scale of the cell (d × scale): the sticks follow");
                });
                ui.horizontal(|ui| {
                    let l = ui.label("shift");
                    ui.add(
                        egui::DragValue::new(&mut ph.shift_deg)
                            .speed(0.002)
                            .range(-2.0..=2.0)
                            .suffix(" °"),
                    )
                    .labelled_by(l.id)
                    .on_hover_text("2θ offset (zero shift, sample displacement)");
                    ui.checkbox(&mut ph.broadened, "broadened").on_hover_text(
                        "Pseudo-Voigt peaks (Caglioti defaults; Kα doublet for a Kα name)",
                    );
                });
                if let Some(e) = ph.error() {
                    ui.label(RichText::new(e).color(ui.visuals().error_fg_color));
                }
            });
            ui.add_space(4.0);
        }
        if let Some(i) = remove {
            let gone = store.phases.remove(i);
            sel.remove(&gone.id);
        }
        if let Some(id) = clicked {
            if !ctrl {
                sel.retain(|s| *s == id || store.phases.iter().all(|p| p.id != *s));
            }
            if ctrl && sel.contains(&id) {
                sel.remove(&id);
            } else {
                sel.insert(id);
            }
        }
        ui.separator();
        self.library_ui(ui, log, store, &mut action);
        ui.separator();
        if self.quant_ui(ui, &store.quant) {
            action = XrdAction::QuantLibrary;
        }
        action
    }

    fn library_ui(
        &mut self,
        ui: &mut Ui,
        log: &mut Log,
        store: &mut Store,
        action: &mut XrdAction,
    ) {
        ui.horizontal(|ui| {
            ui.heading("Library");
            if ui
                .button("Load candidate library…")
                .on_hover_text("A folder of CIFs (sub-folders one level down included)")
                .clicked()
            {
                *action = XrdAction::LoadLibrary;
            }
        });
        if let Some(l) = &self.library.loading {
            ui.horizontal(|ui| crate::gui::widgets::task_row(ui, l.task.status()));
        }
        let (lib, view) = (&mut store.library, &mut self.library);
        if let Some(d) = &lib.dir {
            ui.label(
                RichText::new(format!(
                    "{}: {} structures ({} unreadable)",
                    d.display(),
                    lib.candidates.len(),
                    lib.unreadable.len()
                ))
                .weak(),
            );
        }
        ui.horizontal(|ui| {
            let l = ui.label("search");
            ui.add(
                egui::TextEdit::singleline(&mut view.search)
                    .desired_width(140.0)
                    .hint_text("formula or file name"),
            )
            .labelled_by(l.id);
            let l = ui.label("max scale");
            ui.add(
                egui::DragValue::new(&mut lib.max_scale)
                    .speed(0.001)
                    .range(0.0..=0.2),
            )
            .labelled_by(l.id)
            .on_hover_text("Lattice scale allowed when ranking, ± fraction (0.02 = ±2 %)");
        });
        let can_rank = !lib.candidates.is_empty() && view.ranking.is_none();
        let mut rank = false;
        ui.horizontal(|ui| {
            rank = ui
                .add_enabled(can_rank, egui::Button::new("Rank for selected pattern"))
                .on_hover_text("Score every candidate against the active pattern")
                .on_disabled_hover_text("Load a candidate library first")
                .clicked();
            if let Some(t) = &view.ranking {
                crate::gui::widgets::task_row(ui, t.status());
            }
        });
        if rank {
            let ctx = ui.ctx().clone();
            match self.active_entry(&store.patterns).cloned() {
                Some(e) => {
                    let r = (self.library).rank(&store.library, &e, &self.tasks, Some(ctx));
                    if let Err(err) = r {
                        log.error(format!("ranking: {err}"));
                    }
                }
                None => log.warn("ranking: click a pattern first"),
            }
        }
        let mut show = None;
        if let Some(rk) = &store.library.ranked {
            ui.label(RichText::new(format!("ranking for {}", rk.pattern)).weak());
            egui::ScrollArea::vertical()
                .id_salt("xrd_ranking")
                .max_height(260.0)
                .show(ui, |ui| {
                    egui::Grid::new("xrd_rank_grid")
                        .striped(true)
                        .num_columns(5)
                        .show(ui, |ui| {
                            for h in ["#", "candidate", "score", "scale", "matched"] {
                                ui.label(RichText::new(h).strong());
                            }
                            ui.end_row();
                            for (i, r) in rk.rows.iter().enumerate() {
                                if !self.library.matches(&r.id, &r.formula) {
                                    continue;
                                }
                                ui.label(format!("{}", i + 1));
                                if ui
                                    .selectable_label(false, &r.id)
                                    .on_hover_text(format!(
                                        "{} ({})\nclick: overlay at its best scale",
                                        r.formula, r.name
                                    ))
                                    .clicked()
                                {
                                    show = Some((r.id.clone(), r.scale));
                                }
                                ui.monospace(format!("{:.3}", r.score));
                                ui.monospace(format!("{:.4}", r.scale));
                                ui.monospace(format!("{}/{}", r.matched_peaks, r.measured_peaks));
                                ui.end_row();
                            }
                        });
                });
        } else if !store.library.candidates.is_empty() {
            let (lib, view) = (&store.library, &self.library);
            egui::ScrollArea::vertical()
                .id_salt("xrd_library")
                .max_height(200.0)
                .show(ui, |ui| {
                    for c in lib
                        .candidates
                        .iter()
                        .filter(|c| view.matches(&c.id, &c.formula))
                    {
                        if ui
                            .selectable_label(false, format!("{}  {}", c.id, c.formula))
                            .on_hover_text("click: overlay this structure")
                            .clicked()
                        {
                            show = Some((c.id.clone(), 1.0));
                        }
                    }
                });
        }
        if let Some((id, scale)) = show {
            self.show_candidate(store, &id, scale, log);
        }
    }
}
