//! The parameter panel: every Larch parameter of pre_edge / autobk / xftf
//! for the active spectrum. Parameters Larch chooses itself (e0, the ranges,
//! nnorm, …) show the value actually used; dragging one fixes it, ticking
//! "auto" hands it back to Larch's rule.

use egui::{DragValue, Grid, RichText, Ui};

use super::workspace::{Input, Spectrum, mode_of};
use crate::io::{MuMode, MuRecipe, XasSpectrum};
use crate::xas::{ChainParams, Window};

/// A new way to build μ(E) from the file's columns, asked for in the
/// "μ(E) from" section.
#[derive(Debug, Clone, PartialEq)]
pub enum MuChoice {
    /// Another kind: the app finds its counters by name.
    Mode(MuMode),
    /// Other columns for the same kind.
    Recipe(MuRecipe),
}

/// What the panel asks the app to do after drawing.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamAction {
    None,
    /// The active spectrum's parameters changed: recompute it now.
    Changed,
    ApplyToSelected,
    ApplyToAll,
    ResetToDefaults,
    /// Derive μ(E) again from the stored columns.
    MuFrom(MuChoice),
    /// Drop this step of the edit journal (the rest is replayed).
    RemoveEdit(usize),
}

const MODES: [(MuMode, &str); 4] = [
    (MuMode::Transmission, "transmission ln(I0/It)"),
    (MuMode::Fluorescence, "fluorescence ΣIf/I0"),
    (MuMode::Reference, "reference ln(It/Iref)"),
    (MuMode::Column, "one column (μ as recorded)"),
];

#[derive(Debug, Default)]
pub struct ParamPanel;

pub(super) const WINDOWS: [(Window, &str); 6] = [
    (Window::Hanning, "hanning"),
    (Window::Kaiser, "kaiser"),
    (Window::Gaussian, "gaussian"),
    (Window::Sine, "sine"),
    (Window::Welch, "welch"),
    (Window::Parzen, "parzen"),
];

impl ParamPanel {
    /// `p` (a copy of `s.params`) is edited in place; `s.result` gives the
    /// values Larch's rules chose. `column_file`: μ(E) is built from the
    /// columns of a file (not stored, as in an Athena group), so the panel
    /// offers to choose how.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        name: &str,
        s: &Spectrum,
        p: &mut ChainParams,
        n_selected: usize,
        column_file: bool,
    ) -> ParamAction {
        let (is_mu, result, error) = (s.is_mu(), s.result.as_ref(), s.error.as_deref());
        let mut action = ParamAction::None;
        ui.heading("Parameters");
        ui.label(RichText::new(name).strong());
        if let Some(e) = error {
            ui.colored_label(ui.visuals().error_fg_color, format!("Error: {e}"));
        }
        // What pre_edge accepted but flags (an inverted edge).
        for w in result
            .and_then(|r| r.pre.as_ref())
            .map_or(&[][..], |p| &p.warnings)
        {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Warning: {w}"));
        }
        ui.horizontal_wrapped(|ui| {
            if ui
                .add_enabled(n_selected > 1, egui::Button::new("Apply to selected"))
                .on_hover_text("Copy these parameters (all but e0) to every selected spectrum")
                .clicked()
            {
                action = ParamAction::ApplyToSelected;
            }
            if ui
                .button("Apply to all")
                .on_hover_text("Copy these parameters (all but e0) to every spectrum")
                .clicked()
            {
                action = ParamAction::ApplyToAll;
            }
            if ui
                .button("Reset to defaults")
                .on_hover_text("Larch's defaults for this spectrum")
                .clicked()
            {
                action = ParamAction::ResetToDefaults;
            }
        });
        ui.separator();

        let mut changed = false;
        let pre = result.and_then(|r| r.pre.as_ref());
        let bkg = result.and_then(|r| r.bkg.as_ref());
        egui::ScrollArea::vertical().show(ui, |ui| {
            // The recipe applies to the data as read (edited data keep no
            // columns).
            if column_file
                && let Input::Mu(x) = &*s.raw
                && let Some(c) = mu_from_ui(ui, x)
            {
                action = ParamAction::MuFrom(c);
            }
            if !s.edits.is_empty() {
                ui.label(RichText::new("edits").strong()).on_hover_text(
                    "Replayed in order on the data as read (Process menu: deglitch, align, rebin)",
                );
                for (i, e) in s.edits.iter().enumerate() {
                    ui.horizontal(|ui| {
                        if ui
                            .small_button("×")
                            .on_hover_text(
                                "Remove this edit (the others are replayed; Ctrl+Z undoes)",
                            )
                            .clicked()
                        {
                            action = ParamAction::RemoveEdit(i);
                        }
                        ui.label(format!("{}. {}", i + 1, e.describe()));
                    });
                }
                ui.separator();
            }
            if is_mu {
                ui.label(RichText::new("pre_edge").strong());
                Grid::new("pre_edge_grid").num_columns(3).show(ui, |ui| {
                    let e = &mut p.pre_edge;
                    changed |= opt_f64(ui, "e0", "eV", &mut e.e0, pre.map(|r| r.e0), 0.1);
                    changed |= opt_f64(ui, "pre1", "eV", &mut e.pre1, pre.map(|r| r.pre1), 1.0);
                    changed |= opt_f64(ui, "pre2", "eV", &mut e.pre2, pre.map(|r| r.pre2), 1.0);
                    changed |= opt_f64(ui, "norm1", "eV", &mut e.norm1, pre.map(|r| r.norm1), 1.0);
                    changed |= opt_f64(ui, "norm2", "eV", &mut e.norm2, pre.map(|r| r.norm2), 1.0);
                    changed |= opt_usize(ui, "nnorm", &mut e.nnorm, pre.map(|r| r.nnorm), 0..=5);
                    changed |= int(ui, "nvict", "", &mut e.nvict, 0..=4);
                    changed |=
                        opt_f64(ui, "step", "", &mut e.step, pre.map(|r| r.edge_step), 0.001);
                });
                ui.add_space(6.0);
                ui.label(RichText::new("autobk").strong());
                Grid::new("autobk_grid").num_columns(3).show(ui, |ui| {
                    let a = &mut p.autobk;
                    changed |= num(ui, "rbkg", "Å", &mut a.rbkg, 0.01, 0.05..=5.0);
                    changed |= num(ui, "bkg kweight", "", &mut a.kweight, 0.1, 0.0..=5.0);
                    changed |= num(ui, "bkg kmin", "Å⁻¹", &mut a.kmin, 0.05, 0.0..=30.0);
                    changed |= opt_f64(
                        ui,
                        "bkg kmax",
                        "Å⁻¹",
                        &mut a.kmax,
                        bkg.map(|r| r.kmax),
                        0.05,
                    );
                    changed |= num(ui, "bkg dk", "Å⁻¹", &mut a.dk, 0.01, 0.0..=5.0);
                    changed |=
                        opt_usize(ui, "nknots", &mut a.nknots, bkg.map(|r| r.nknots), 4..=100);
                    changed |= num(ui, "clamp_lo", "", &mut a.clamp_lo, 0.1, 0.0..=1000.0);
                    changed |= num(ui, "clamp_hi", "", &mut a.clamp_hi, 0.1, 0.0..=1000.0);
                });
                ui.add_space(6.0);
            }
            ui.label(RichText::new("xftf").strong());
            Grid::new("xftf_grid").num_columns(3).show(ui, |ui| {
                let f = &mut p.ft;
                changed |= num(ui, "kmin", "Å⁻¹", &mut f.kmin, 0.05, 0.0..=30.0);
                changed |= num(ui, "kmax", "Å⁻¹", &mut f.kmax, 0.05, 0.1..=40.0);
                changed |= num(ui, "dk", "Å⁻¹", &mut f.dk, 0.05, 0.0..=10.0);
                let l = ui.label("window");
                egui::ComboBox::from_id_salt("ft_window")
                    .selected_text(f.window.name())
                    .show_ui(ui, |ui| {
                        for (w, n) in WINDOWS {
                            changed |= ui.selectable_value(&mut f.window, w, n).changed();
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                changed |= num(ui, "kweight", "", &mut f.kweight, 0.1, 0.0..=5.0);
                changed |= num(ui, "rmax_out", "Å", &mut f.rmax_out, 0.1, 1.0..=30.0);
            });
        });
        if changed && action == ParamAction::None {
            action = ParamAction::Changed;
        }
        action
    }
}

/// The "μ(E) from" section: the kind of μ and, for it, which columns are
/// numerator and denominator (labels from the file's table).
fn mu_from_ui(ui: &mut Ui, x: &XasSpectrum) -> Option<MuChoice> {
    let mut choice = None;
    let t = &x.table;
    let label = |i: usize| {
        t.labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("col{}", i + 1))
    };
    let cols: Vec<usize> = (0..t.columns.len())
        .filter(|&c| c != x.energy_column)
        .collect();
    ui.label(RichText::new("μ(E) from").strong())
        .on_hover_text("How μ(E) is built from the file's columns (carto xas --mu)");
    Grid::new("mu_from_grid").num_columns(2).show(ui, |ui| {
        let mode = mode_of(&x.recipe);
        let l = ui.label("mode");
        egui::ComboBox::from_id_salt("mu_mode")
            .selected_text(MODES.iter().find(|m| m.0 == mode).map_or("?", |m| m.1))
            .show_ui(ui, |ui| {
                for (m, n) in MODES {
                    if ui.selectable_label(m == mode, n).clicked() && m != mode {
                        choice = Some(MuChoice::Mode(m));
                    }
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
        // One combo per column the recipe uses; picking gives a new recipe.
        let pick = |ui: &mut Ui, name: &str, now: &str, current: Option<usize>| {
            let mut picked = None;
            let l = ui.label(name);
            egui::ComboBox::from_id_salt(("mu_col", name))
                .selected_text(now)
                .show_ui(ui, |ui| {
                    for &c in &cols {
                        if ui.selectable_label(current == Some(c), label(c)).clicked()
                            && current != Some(c)
                        {
                            picked = Some(c);
                        }
                    }
                })
                .response
                .labelled_by(l.id);
            ui.end_row();
            picked
        };
        let new = match x.recipe.clone() {
            MuRecipe::Transmission { i0, it } => {
                let a = pick(ui, "I0 (numerator)", &label(i0), Some(i0));
                let b = pick(ui, "It (denominator)", &label(it), Some(it));
                (a.is_some() || b.is_some()).then(|| MuRecipe::Transmission {
                    i0: a.unwrap_or(i0),
                    it: b.unwrap_or(it),
                })
            }
            MuRecipe::Fluorescence { i_f, i0 } => {
                let (now, current) = match i_f.as_slice() {
                    [one] => (label(*one), Some(*one)),
                    many => (format!("Σ of {} channels", many.len()), None),
                };
                let a = pick(ui, "If (numerator)", &now, current);
                let b = pick(ui, "I0 (denominator)", &label(i0), Some(i0));
                (a.is_some() || b.is_some()).then(|| MuRecipe::Fluorescence {
                    i_f: a.map_or(i_f, |a| vec![a]),
                    i0: b.unwrap_or(i0),
                })
            }
            MuRecipe::Reference { it, iref } => {
                let a = pick(ui, "It (numerator)", &label(it), Some(it));
                let b = pick(ui, "Iref (denominator)", &label(iref), Some(iref));
                (a.is_some() || b.is_some()).then(|| MuRecipe::Reference {
                    it: a.unwrap_or(it),
                    iref: b.unwrap_or(iref),
                })
            }
            MuRecipe::Column { mu } => {
                pick(ui, "μ column", &label(mu), Some(mu)).map(|mu| MuRecipe::Column { mu })
            }
        };
        if let Some(r) = new {
            choice = Some(MuChoice::Recipe(r));
        }
    });
    ui.add_space(6.0);
    choice
}

fn num(
    ui: &mut Ui,
    name: &str,
    unit: &str,
    v: &mut f64,
    speed: f64,
    range: std::ops::RangeInclusive<f64>,
) -> bool {
    let l = ui.label(name);
    let c = ui
        .add(
            DragValue::new(v)
                .speed(speed)
                .range(range)
                .suffix(suffix(unit)),
        )
        .labelled_by(l.id)
        .changed();
    ui.end_row();
    c
}

fn int(
    ui: &mut Ui,
    name: &str,
    unit: &str,
    v: &mut i32,
    range: std::ops::RangeInclusive<i32>,
) -> bool {
    let l = ui.label(name);
    let c = ui
        .add(
            DragValue::new(v)
                .speed(0.05)
                .range(range)
                .suffix(suffix(unit)),
        )
        .labelled_by(l.id)
        .changed();
    ui.end_row();
    c
}

/// A parameter Larch chooses when unset: shows the value used, an edit fixes it.
fn opt_f64(
    ui: &mut Ui,
    name: &str,
    unit: &str,
    v: &mut Option<f64>,
    used: Option<f64>,
    speed: f64,
) -> bool {
    let l = ui.label(name);
    let mut shown = v.or(used).unwrap_or(0.0);
    let mut changed = false;
    if ui
        .add(DragValue::new(&mut shown).speed(speed).suffix(suffix(unit)))
        .labelled_by(l.id)
        .changed()
        && shown.is_finite()
    {
        *v = Some(shown);
        changed = true;
    }
    let mut auto = v.is_none();
    if ui
        .checkbox(&mut auto, "auto")
        .on_hover_text("Let Larch's rule choose this value")
        .changed()
    {
        *v = if auto { None } else { Some(shown) };
        changed = true;
    }
    ui.end_row();
    changed
}

fn opt_usize(
    ui: &mut Ui,
    name: &str,
    v: &mut Option<usize>,
    used: Option<usize>,
    range: std::ops::RangeInclusive<usize>,
) -> bool {
    let l = ui.label(name);
    let mut shown = v.or(used).unwrap_or(*range.start());
    let mut changed = false;
    if ui
        .add(DragValue::new(&mut shown).speed(0.05).range(range))
        .labelled_by(l.id)
        .changed()
    {
        *v = Some(shown);
        changed = true;
    }
    let mut auto = v.is_none();
    if ui.checkbox(&mut auto, "auto").changed() {
        *v = if auto { None } else { Some(shown) };
        changed = true;
    }
    ui.end_row();
    changed
}

fn suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}
