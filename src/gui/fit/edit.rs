//! Editing the model in the Fit view: the parameter table (add, remove),
//! the paths of the dataset on show (add from FEFF files, remove, the eight
//! path parameters as numbers or expressions) and its transform. Every
//! change is checked at once: a field that does not parse or a model that
//! does not compile shows a red message naming it, and Run fit is off.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

use super::FitPanel;
use crate::exafs::feffit::{
    FitModel, FitSpace, PATH_PARS, ParamDef, PathDef, PathValue, check_param_name,
};
use crate::exafs::model::{load_feff, normalize};
use crate::gui::jobs::{Log, list_folder};
use crate::gui::store::FitDoc;
use crate::xas::fourier::Window;

const NEW_PARAM_HELP: &str =
    "A new varied parameter, value 0 (set value, bounds, vary or expr in the table)";
const SLOT_HELP: &str = "A number, an expression of the parameters, or empty for Larch's default";

/// Whether a file is named like a FEFF path ([`crate::io::is_feff_path_name`]).
pub fn is_feff_path_file(path: &Path) -> bool {
    crate::io::is_feff_path_name(path)
}

/// The FEFF path files among `paths`: files as given, folders by the
/// `feff*.dat` files directly inside them.
pub fn feff_files(paths: &[PathBuf], log: &mut Log) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            match list_folder(p) {
                Ok(files) => out.extend(files.into_iter().filter(|f| is_feff_path_file(f))),
                Err(e) => log.error(e),
            }
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// The text of the fields that are not plain numbers, kept while typing
/// ("0." must stay "0." until it is done).
#[derive(Default)]
pub(super) struct EditState {
    /// Per dataset, per path: the eight path parameters.
    slots: Vec<Vec<[String; 8]>>,
    /// Per dataset: the k-weights ("2" or "[1, 2, 3]") and why they do not
    /// parse.
    kweights: Vec<(String, Option<String>)>,
    /// The name typed for a new parameter.
    pub new_param: String,
}

fn slot_text(v: &Option<PathValue>) -> String {
    match v {
        None => String::new(),
        Some(PathValue::Value(x)) => format!("{x}"),
        Some(PathValue::Expr(e)) => e.clone(),
    }
}

/// A path parameter field: empty is Larch's default, a number is a value,
/// anything else an expression (checked by the compiler).
fn parse_slot(text: &str) -> Option<PathValue> {
    let t = text.trim();
    if t.is_empty() {
        None
    } else if let Ok(x) = t.parse::<f64>() {
        Some(PathValue::Value(x))
    } else {
        Some(PathValue::Expr(t.to_string()))
    }
}

fn kweight_text(w: &[f64], list: bool) -> String {
    let items: Vec<String> = w.iter().map(|x| format!("{x}")).collect();
    if list || items.len() != 1 {
        format!("[{}]", items.join(", "))
    } else {
        items.join("")
    }
}

/// "2", "2, 3" or "[1, 2, 3]" → (weights, given as a list).
pub fn parse_kweights(text: &str) -> Result<(Vec<f64>, bool), String> {
    let t = text.trim();
    let bracket = t.starts_with('[') || t.ends_with(']');
    let inner = t.trim_start_matches('[').trim_end_matches(']');
    let mut w = Vec::new();
    for item in inner
        .split([',', ' ', ';'])
        .filter(|s| !s.trim().is_empty())
    {
        let x: f64 = item
            .trim()
            .parse()
            .map_err(|_| format!("kweight: '{}' is not a number", item.trim()))?;
        w.push(x);
    }
    if w.is_empty() {
        return Err("kweight: give at least one k-weight (e.g. 2 or 1, 2, 3)".into());
    }
    let list = bracket || w.len() > 1;
    Ok((w, list))
}

impl EditState {
    /// Rebuild the texts from the model (after it was read or its paths
    /// changed).
    pub fn sync(&mut self, model: Option<&FitModel>) {
        let Some(m) = model else {
            self.slots.clear();
            self.kweights.clear();
            return;
        };
        self.slots = m
            .datasets
            .iter()
            .map(|d| {
                d.paths
                    .iter()
                    .map(|p| std::array::from_fn(|j| slot_text(&p.values[j])))
                    .collect()
            })
            .collect();
        self.kweights = m
            .datasets
            .iter()
            .map(|d| {
                (
                    kweight_text(&d.transform.kweight, d.transform.kweight_list),
                    None,
                )
            })
            .collect();
    }

    /// The first field that does not parse, named.
    pub fn field_error(&self) -> Option<String> {
        self.kweights.iter().enumerate().find_map(|(i, (_, e))| {
            e.as_ref().map(|e| {
                if self.kweights.len() > 1 {
                    format!("dataset {} transform: {e}", i + 1)
                } else {
                    format!("transform: {e}")
                }
            })
        })
    }
}

impl FitPanel {
    pub(super) fn params_ui(&mut self, ui: &mut Ui, doc: &mut FitDoc) {
        let Some(model) = &mut doc.model else {
            return;
        };
        let fitted: HashMap<&str, (f64, Option<f64>)> = doc
            .result
            .iter()
            .flat_map(|r| r.params.iter())
            // A fixed number's stderr is 0 (as Larch); show no "± 0".
            .map(|p| {
                let se = p.stderr.filter(|_| p.vary || p.expr.is_some());
                (p.name.as_str(), (p.value, se))
            })
            .collect();
        let mut changed = false;
        let mut remove = None;
        egui::Grid::new("fit_params")
            .striped(true)
            .num_columns(8)
            .show(ui, |ui| {
                for h in [
                    "",
                    "parameter",
                    "value",
                    "vary",
                    "min",
                    "max",
                    "expr",
                    "fit",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for (i, p) in model.params.iter_mut().enumerate() {
                    if ui
                        .small_button("×")
                        .accessible_name(format!("remove parameter {}", p.name))
                        .on_hover_text(format!("Remove {}", p.name))
                        .clicked()
                    {
                        remove = Some(i);
                    }
                    ui.label(RichText::new(&p.name).monospace());
                    let free = p.expr.is_none();
                    let speed = (p.value.abs() * 0.01).max(1e-4);
                    changed |= ui
                        .add_enabled(
                            free,
                            egui::DragValue::new(&mut p.value)
                                .speed(speed)
                                .max_decimals(6),
                        )
                        .accessible_name(format!("{} value", p.name))
                        .changed();
                    changed |= ui
                        .add_enabled(free, egui::Checkbox::without_text(&mut p.vary))
                        .accessible_name(format!("{} vary", p.name))
                        .changed();
                    changed |= ui
                        .add_enabled(free, bound(&mut p.min, f64::NEG_INFINITY))
                        .accessible_name(format!("{} min", p.name))
                        .changed();
                    changed |= ui
                        .add_enabled(free, bound(&mut p.max, f64::INFINITY))
                        .accessible_name(format!("{} max", p.name))
                        .changed();
                    let mut expr = p.expr.clone().unwrap_or_default();
                    if ui
                        .add(
                            egui::TextEdit::singleline(&mut expr)
                                .desired_width(140.0)
                                .min_size(egui::vec2(140.0, 0.0)),
                        )
                        .accessible_name(format!("{} expr", p.name))
                        .on_hover_text("An expression of other parameters (empty: none)")
                        .changed()
                    {
                        p.expr = (!expr.trim().is_empty()).then_some(expr);
                        changed = true;
                    }
                    match fitted.get(p.name.as_str()) {
                        Some(&(v, se)) => {
                            let text = match se {
                                Some(se) => format!("{v:.6} ± {se:.6}"),
                                None => format!("{v:.6}"),
                            };
                            let mut t = RichText::new(text).monospace();
                            if doc.stale {
                                t = t.weak();
                            }
                            ui.label(t);
                        }
                        None => {
                            ui.label("");
                        }
                    }
                    ui.end_row();
                }
            });
        if let Some(i) = remove {
            model.params.remove(i);
            changed = true;
        }
        let added = self.add_param_ui(ui, doc);
        if changed || added {
            self.edited(doc);
        }
        if doc.result.is_some()
            && ui
                .button("Use fitted values")
                .on_hover_text("Start the next fit from the fitted values")
                .clicked()
        {
            self.use_fitted_values(doc);
        }
    }

    /// The "new parameter" row; true when one was added.
    fn add_param_ui(&mut self, ui: &mut Ui, doc: &mut FitDoc) -> bool {
        let Some(model) = &mut doc.model else {
            return false;
        };
        let name = self.edit.new_param.trim().to_string();
        let problem = if name.is_empty() {
            None
        } else if model.params.iter().any(|p| p.name == name) {
            Some(format!("new parameter: '{name}' is already defined"))
        } else {
            check_param_name(&name)
                .err()
                .map(|e| format!("new parameter: {e}"))
        };
        let mut added = false;
        ui.horizontal(|ui| {
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.edit.new_param)
                        .hint_text("new parameter name")
                        .desired_width(140.0)
                        .min_size(egui::vec2(140.0, 0.0)),
                )
                .accessible_name("new parameter name");
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let ok = !name.is_empty() && problem.is_none();
            if ui
                .add_enabled(ok, egui::Button::new("Add parameter"))
                .on_hover_text(NEW_PARAM_HELP)
                .clicked()
                || (enter && ok)
            {
                model.params.push(ParamDef::new(&name, 0.0, true));
                self.edit.new_param.clear();
                added = true;
            }
        });
        if let Some(p) = problem {
            ui.label(RichText::new(p).color(ui.visuals().error_fg_color));
        }
        added
    }

    /// Add FEFF path files (picked or dropped; folders give their
    /// `feff*.dat` files) to the dataset on show, with Larch's default path
    /// parameters and the file stem as label. Files that are not FEFF paths
    /// are reported in the log.
    pub fn add_paths(&mut self, doc: &mut FitDoc, paths: &[PathBuf], log: &mut Log) -> usize {
        let ds = self.dataset;
        let Some(dataset) = doc.model.as_mut().and_then(|m| m.datasets.get_mut(ds)) else {
            log.warn("open a fit model before adding paths");
            return 0;
        };
        let files = feff_files(paths, log);
        if files.is_empty() {
            log.warn("no FEFF path files (feffNNNN.dat) to add");
            return 0;
        }
        let mut n = 0;
        for f in files {
            match load_feff(&f) {
                Ok(feff) => {
                    let abs = normalize(&f);
                    let label = abs
                        .file_stem()
                        .map_or_else(|| "path".into(), |s| s.to_string_lossy().into_owned());
                    dataset.paths.push(PathDef {
                        label,
                        file: abs.display().to_string(),
                        feff,
                        values: Default::default(),
                    });
                    n += 1;
                }
                Err(e) => log.error(format!("not added as a path: {e}")),
            }
        }
        if n > 0 {
            log.info(format!(
                "added {n} path(s) to dataset {}; their parameters are Larch's defaults until you set them",
                ds + 1
            ));
            self.edit.sync(doc.model.as_ref());
            self.edited(doc);
        }
        n
    }

    /// The paths of the dataset on show; true when "Add paths…" was clicked.
    pub(super) fn paths_ui(&mut self, ui: &mut Ui, doc: &mut FitDoc) -> bool {
        let ds = self.dataset;
        let mut add = false;
        ui.horizontal(|ui| {
            add = ui
                .button("Add paths…")
                .on_hover_text(
                    "Choose feffNNNN.dat files, or drop files or a FEFF folder onto the window",
                )
                .clicked();
        });
        let Some(dataset) = doc.model.as_mut().and_then(|m| m.datasets.get_mut(ds)) else {
            return add;
        };
        let Some(texts) = self.edit.slots.get_mut(ds) else {
            return add;
        };
        let mut changed = false;
        let mut remove = None;
        for (pi, (p, text)) in dataset.paths.iter_mut().zip(texts.iter_mut()).enumerate() {
            let n = pi + 1;
            ui.separator();
            ui.horizontal(|ui| {
                if ui
                    .small_button("×")
                    .accessible_name(format!("remove path {n}"))
                    .on_hover_text(format!("Remove path {n} ({})", p.label))
                    .clicked()
                {
                    remove = Some(pi);
                }
                ui.label(format!("{n}"));
                changed |= ui
                    .add(
                        egui::TextEdit::singleline(&mut p.label)
                            .desired_width(110.0)
                            .min_size(egui::vec2(110.0, 0.0)),
                    )
                    .accessible_name(format!("path {n} label"))
                    .changed();
                ui.label(
                    RichText::new(format!(
                        "reff {:.4} Å, N {}, {} legs",
                        p.feff.reff_ang, p.feff.degen, p.feff.nleg
                    ))
                    .weak(),
                )
                .on_hover_text(&p.file);
            });
            egui::Grid::new(("fit_path", ds, pi))
                .num_columns(8)
                .show(ui, |ui| {
                    for (j, name) in PATH_PARS.iter().enumerate() {
                        ui.label(RichText::new(*name).monospace());
                        let default = match *name {
                            "degen" => format!("{}", p.feff.degen),
                            "s02" => "1".into(),
                            _ => "0".into(),
                        };
                        if ui
                            .add(
                                egui::TextEdit::singleline(&mut text[j])
                                    .hint_text(default)
                                    .desired_width(90.0)
                                    .min_size(egui::vec2(90.0, 0.0)),
                            )
                            .accessible_name(format!("path {n} {name}"))
                            .on_hover_text(SLOT_HELP)
                            .changed()
                        {
                            p.values[j] = parse_slot(&text[j]);
                            changed = true;
                        }
                        if j % 4 == 3 {
                            ui.end_row();
                        }
                    }
                });
        }
        if dataset.paths.is_empty() {
            ui.label(RichText::new("No paths: a fit needs at least one.").weak());
        }
        if let Some(i) = remove {
            dataset.paths.remove(i);
            texts.remove(i);
            changed = true;
        }
        if changed {
            self.edited(doc);
        }
        add
    }

    /// The transform of the dataset on show.
    pub(super) fn transform_ui(&mut self, ui: &mut Ui, doc: &mut FitDoc) {
        let ds = self.dataset;
        let Some(dataset) = doc.model.as_mut().and_then(|m| m.datasets.get_mut(ds)) else {
            return;
        };
        let Some((kw_text, kw_err)) = self.edit.kweights.get_mut(ds) else {
            return;
        };
        let t = &mut dataset.transform;
        let mut changed = false;
        let num = |ui: &mut Ui, name: &str, v: &mut f64, speed: f64| -> bool {
            ui.label(name);
            ui.add(egui::DragValue::new(v).speed(speed).max_decimals(4))
                .accessible_name(format!("transform {name}"))
                .changed()
        };
        egui::Grid::new(("fit_transform", ds))
            .num_columns(6)
            .show(ui, |ui| {
                changed |= num(ui, "kmin", &mut t.kmin, 0.05);
                changed |= num(ui, "kmax", &mut t.kmax, 0.05);
                changed |= num(ui, "dk", &mut t.dk, 0.05);
                ui.end_row();
                changed |= num(ui, "rmin", &mut t.rmin, 0.01);
                changed |= num(ui, "rmax", &mut t.rmax, 0.01);
                changed |= num(ui, "dr", &mut t.dr, 0.01);
                ui.end_row();
                ui.label("kweight");
                if ui
                    .add(
                        egui::TextEdit::singleline(kw_text)
                            .desired_width(80.0)
                            .min_size(egui::vec2(80.0, 0.0)),
                    )
                    .accessible_name("transform kweight")
                    .on_hover_text("One k-weight (2) or several (1, 2, 3)")
                    .changed()
                {
                    match parse_kweights(kw_text) {
                        Ok((w, list)) => {
                            t.kweight = w;
                            t.kweight_list = list;
                            *kw_err = None;
                        }
                        Err(e) => *kw_err = Some(e),
                    }
                    changed = true;
                }
                ui.label("window");
                egui::ComboBox::from_id_salt(("fit_window", ds))
                    .selected_text(format!("{:?}", t.window).to_lowercase())
                    .show_ui(ui, |ui| {
                        for w in [
                            Window::Hanning,
                            Window::Kaiser,
                            Window::Gaussian,
                            Window::Sine,
                            Window::Welch,
                            Window::Parzen,
                        ] {
                            let name = format!("{w:?}").to_lowercase();
                            changed |= ui.selectable_value(&mut t.window, w, name).changed();
                        }
                    })
                    .response
                    .accessible_name("transform window");
                ui.label("fit space");
                egui::ComboBox::from_id_salt(("fit_space", ds))
                    .selected_text(t.fitspace.name())
                    .show_ui(ui, |ui| {
                        for s in [FitSpace::R, FitSpace::K, FitSpace::Q] {
                            changed |= ui.selectable_value(&mut t.fitspace, s, s.name()).changed();
                        }
                    })
                    .response
                    .accessible_name("transform fit space");
                ui.end_row();
            });
        if changed {
            self.edited(doc);
        }
    }
}

/// A min/max bound: a DragValue that shows and accepts ±inf (empty or
/// "none" means no bound).
fn bound(v: &mut f64, none: f64) -> egui::DragValue<'_> {
    egui::DragValue::new(v)
        .speed(0.01)
        .custom_formatter(|x, _| {
            if x.is_infinite() {
                if x > 0.0 { "inf".into() } else { "-inf".into() }
            } else {
                format!("{x}")
            }
        })
        .custom_parser(move |s| {
            let t = s.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("none") {
                Some(none)
            } else {
                t.parse::<f64>().ok()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kweights_parse_as_number_or_list() {
        assert_eq!(parse_kweights("2"), Ok((vec![2.0], false)));
        assert_eq!(parse_kweights("[2]"), Ok((vec![2.0], true)));
        assert_eq!(parse_kweights(" 1, 2 3 "), Ok((vec![1.0, 2.0, 3.0], true)));
        assert!(parse_kweights("2, x").unwrap_err().contains("'x'"));
        assert!(parse_kweights(" ").is_err());
        assert_eq!(kweight_text(&[2.0], false), "2");
        assert_eq!(kweight_text(&[1.0, 2.0], true), "[1, 2]");
    }

    #[test]
    fn path_fields_are_values_expressions_or_default() {
        assert_eq!(parse_slot(""), None);
        assert_eq!(parse_slot(" 0.5 "), Some(PathValue::Value(0.5)));
        assert_eq!(parse_slot("amp*2"), Some(PathValue::Expr("amp*2".into())));
        assert!(is_feff_path_file(Path::new("/x/feff0001.dat")));
        assert!(is_feff_path_file(Path::new("FEFF_FeO_215.DAT")));
        assert!(!is_feff_path_file(Path::new("/x/feff.inp")));
        assert!(!is_feff_path_file(Path::new("/x/paths.dat")));
    }
}
