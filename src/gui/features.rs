//! File ▸ Export features…: the feature table (`crate::features`, the
//! rows `carto batch` writes) of what the store holds, from the results the
//! app already has — each spectrum's chain output and edge descriptors,
//! its best LCF, the EXAFS fit of its data, each pattern's peak search and
//! the library ranking of it — for the selection or the whole store, with
//! a preview before it is written as CSV or Parquet.

use std::collections::BTreeSet;
use std::path::Path;

use egui::{RichText, Ui};
use polars::prelude::{AnyValue, DataFrame};

use super::log::Log;
use super::store::Store;
use super::workspace::{Input, ItemData};
use crate::features::batch::{add_descriptors, element_edge_of_table};
use crate::features::{FeatureRow, FeaturesError, table, write_table};
use crate::xanes::XanesArray;

/// Rows the preview shows (the file gets them all).
pub const PREVIEW_ROWS: usize = 200;

/// The rows of the store's spectra (μ(E) and χ(k); FEFF paths are not
/// measurements) and patterns, in store order, of the items in `only`
/// (None: all). `file_index` numbers the files in order of first
/// appearance and `group_index` the spectra within a file, as in a batch.
pub fn store_rows(store: &Store, only: Option<&BTreeSet<u64>>) -> Vec<FeatureRow> {
    store_rows_ids(store, only)
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

/// [`store_rows`] with the store id of each row's item. Items on the map
/// (Map view) get its columns: coordinates, cluster and its name, nearest
/// candidate and what made the map.
pub fn store_rows_ids(store: &Store, only: Option<&BTreeSet<u64>>) -> Vec<(u64, FeatureRow)> {
    let wanted = |id: u64| only.is_none_or(|s| s.contains(&id));
    // file → (its index in order of first appearance, spectra seen so far)
    let mut files: std::collections::HashMap<String, (usize, usize)> = Default::default();
    let mut index_of = |file: &str| -> (usize, usize) {
        let n = files.len();
        let e = files.entry(file.to_string()).or_insert((n, 0));
        e.1 += 1;
        (e.0, e.1 - 1)
    };
    let mut rows = Vec::new();
    for item in store.items.iter().filter(|i| wanted(i.id)) {
        let ItemData::Spectrum(s) = &item.data else {
            continue;
        };
        let (fi, gi) = index_of(&item.file);
        let modality = if s.is_mu() { "xas" } else { "chi" };
        let mut row = FeatureRow::new(fi, &item.file, item.group.as_deref(), gi, modality);
        match s.input.as_ref() {
            Input::Mu(x) => element_edge_of_table(&mut row, &x.table.metadata),
            Input::Chi(c) => element_edge_of_table(&mut row, &c.table.metadata),
        }
        let result = s.result.as_ref().filter(|_| s.computed_rev == Some(s.rev));
        let Some(out) = result else {
            rows.push((
                item.id,
                row.failed(s.error.as_deref().unwrap_or("not processed yet")),
            ));
            continue;
        };
        row.add_xas(&s.params, out);
        if let Some(pre) = out.pre.clone() {
            add_descriptors(&mut row, pre);
        }
        // The XANES view fits normalized μ(E) (LcfParams' default array).
        if let Some(best) = store.xanes.lcf.get(&item.id).and_then(|e| e.fits.first()) {
            row.add_lcf(best, XanesArray::Norm);
        }
        if let Some(r) = exafs_fit_of(store, &item.file) {
            row.add_exafs_fit(r);
        }
        rows.push((item.id, row));
    }
    for e in store.patterns.iter().filter(|p| wanted(p.id)) {
        let (fi, gi) = index_of(&e.file);
        let mut row = FeatureRow::new(fi, &e.file, None, gi, "xrd");
        let wl = e.wavelength().ok().flatten();
        row.add_xrd_peaks(&e.pattern, wl, &e.background, &e.peaks);
        if let Some(r) = store
            .library
            .ranked
            .as_ref()
            .filter(|r| r.pattern == e.name)
        {
            row.add_xrd_phases(&r.rows);
        }
        rows.push((e.id, row));
    }
    if let Some(doc) = &store.map {
        add_map_columns(&mut rows, doc, &store.map_clusters);
    }
    if let Some(doc) = &store.projection {
        add_projection_columns(&mut rows, doc);
    }
    rows
}

/// The feature table's numeric columns of the store's items, as values by
/// store id (items without a value are absent), without the columns whose
/// names `skip` accepts: what the Map view colours by and the Projection
/// view's PLS takes as its target (`file_index` and `group_index` are the
/// order of a series: time, in an in-situ run).
pub fn store_numeric_columns(
    store: &Store,
    skip: &dyn Fn(&str) -> bool,
) -> Vec<(String, std::collections::HashMap<u64, f64>)> {
    let rows = store_rows_ids(store, None);
    let ids: Vec<u64> = rows.iter().map(|r| r.0).collect();
    let only: Vec<FeatureRow> = rows.into_iter().map(|r| r.1).collect();
    let Ok(df) = table(&only) else {
        return Vec::new();
    };
    crate::features::numeric_columns(&df)
        .into_iter()
        .filter(|(n, _)| !skip(n))
        .map(|(n, v)| {
            let by_id = (ids.iter().zip(v))
                .filter_map(|(id, v)| v.filter(|x| x.is_finite()).map(|x| (*id, x)))
                .collect();
            (n, by_id)
        })
        .filter(|(_, m): &(String, std::collections::HashMap<u64, f64>)| !m.is_empty())
        .collect()
}

/// The learned projection's coordinates of the rows whose items it placed:
/// `latent_<method>_<n>` (n from 1), in the model's order, and a PLS
/// model's prediction of its target `pls_predicted_<target>`.
fn add_projection_columns(rows: &mut [(u64, FeatureRow)], doc: &super::store::ProjectionDoc) {
    let method = doc.model.model.method().name();
    let at: std::collections::HashMap<u64, &Vec<f64>> =
        doc.points.iter().map(|(id, _, c)| (*id, c)).collect();
    for (id, row) in rows.iter_mut() {
        if let Some(c) = at.get(id) {
            for (j, v) in c.iter().enumerate() {
                row.extra
                    .push((format!("latent_{method}_{}", j + 1), Some(*v)));
            }
            if let Some(y) = doc.model.predicted(c) {
                row.extra
                    .push((format!("pls_predicted_{}", doc.model.target), Some(y)));
            }
        }
    }
}

/// The map's columns of the rows whose items are on it.
fn add_map_columns(
    rows: &mut [(u64, FeatureRow)],
    doc: &super::store::MapDoc,
    clusters: &super::store::MapClusters,
) {
    let m = &doc.run.map;
    let k = if clusters.labels.len() == m.points.len() {
        clusters.k
    } else {
        0
    };
    let method = crate::features::map_method(
        m,
        doc.run.candidates.items.len(),
        crate::latent::map::MAP_SIGMA2_ANG2,
        k,
        doc.model.as_ref().map(|(_, from)| from.as_str()),
    );
    let point_of: std::collections::HashMap<u64, usize> = (doc.ids.iter().enumerate())
        .filter(|(i, _)| {
            (m.points.get(*i)).is_some_and(|p| p.kind == crate::latent::map::PointKind::Measured)
        })
        .filter_map(|(i, id)| id.map(|id| (id, i)))
        .collect();
    for (id, row) in rows.iter_mut() {
        let Some(p) = point_of.get(id).and_then(|&i| Some((i, m.points.get(i)?))) else {
            continue;
        };
        let (i, mut p) = (p.0, p.1.clone());
        p.cluster = if k > 0 {
            clusters.labels.get(i).copied().flatten()
        } else {
            None
        };
        let name = p
            .cluster
            .and_then(|c| clusters.names.get(c))
            .map(String::as_str);
        row.add_map(&p, name, &method);
    }
}

/// The fit result on show when one of its model's datasets was read from
/// `file` (the same file as opened in the store).
fn exafs_fit_of<'a>(store: &'a Store, file: &str) -> Option<&'a crate::exafs::FitResult> {
    let fit = &store.fit;
    let result = fit.result.as_ref().filter(|_| !fit.stale)?;
    let model = fit.model.as_ref()?;
    let same = |p: &Path| {
        p == Path::new(file) || p.canonicalize().ok() == Path::new(file).canonicalize().ok()
    };
    model
        .datasets
        .iter()
        .filter_map(|d| d.spec.as_ref())
        .any(|spec| same(&spec.file))
        .then_some(result)
}

/// The table of `rows`, its columns that hold a value in some row when
/// `hide_empty` (the file keeps every column of the schema).
pub fn preview_frame(rows: &[FeatureRow], hide_empty: bool) -> Result<DataFrame, FeaturesError> {
    let df = table(rows)?;
    if !hide_empty {
        return Ok(df);
    }
    let keep: Vec<String> = df
        .columns()
        .iter()
        .filter(|c| c.null_count() < c.len())
        .map(|c| c.name().to_string())
        .collect();
    df.select(keep)
        .map_err(|e| FeaturesError::Table(e.to_string()))
}

/// Write the feature table of `rows` to `path` (.csv or .parquet, by its
/// extension); the number of rows written.
pub fn write_rows(rows: &[FeatureRow], path: &Path) -> Result<usize, FeaturesError> {
    let mut df = table(rows)?;
    write_table(path, &mut df)?;
    Ok(df.height())
}

/// One cell as the preview shows it (empty: null).
fn cell_text(v: AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) => format!("{x:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// The Export features window: which items, the preview, and Save.
#[derive(Debug)]
pub struct FeaturesWindow {
    pub open: bool,
    /// The whole store instead of the selection.
    pub whole_store: bool,
    /// Hide the columns no row has a value in (preview only).
    pub hide_empty: bool,
    /// The preview, rebuilt when asked or when the scope changes.
    preview: Option<Result<DataFrame, String>>,
    /// Rows in the preview's table.
    n_rows: usize,
}

impl Default for FeaturesWindow {
    fn default() -> Self {
        FeaturesWindow {
            open: false,
            whole_store: false,
            hide_empty: true,
            preview: None,
            n_rows: 0,
        }
    }
}

/// What the window asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeaturesAction {
    None,
    /// Ask for a file name and write the table there.
    Save,
}

impl FeaturesWindow {
    /// Open the window on the selection (the whole store when nothing is
    /// selected), with a fresh preview.
    pub fn show(&mut self, store: &Store, selection: &BTreeSet<u64>) {
        self.open = true;
        self.whole_store = selection.is_empty();
        self.refresh(store, selection);
    }

    /// The rows the window would write now.
    pub fn rows(&self, store: &Store, selection: &BTreeSet<u64>) -> Vec<FeatureRow> {
        store_rows(store, (!self.whole_store).then_some(selection))
    }

    pub fn refresh(&mut self, store: &Store, selection: &BTreeSet<u64>) {
        let rows = self.rows(store, selection);
        self.n_rows = rows.len();
        self.preview = Some(preview_frame(&rows, self.hide_empty).map_err(|e| e.to_string()));
    }

    /// The preview's table (None before the window was opened).
    pub fn preview(&self) -> Option<&Result<DataFrame, String>> {
        self.preview.as_ref()
    }

    /// Write the rows of the window's scope to `path`, saying so in the log.
    pub fn save(&self, store: &Store, selection: &BTreeSet<u64>, path: &Path, log: &mut Log) {
        let rows = self.rows(store, selection);
        match write_rows(&rows, path) {
            Ok(n) => log.info(format!(
                "wrote the feature table ({n} rows) to {}",
                path.display()
            )),
            Err(e) => log.error(format!("{}: {e}", path.display())),
        }
    }

    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        store: &Store,
        selection: &BTreeSet<u64>,
    ) -> FeaturesAction {
        if !self.open {
            return FeaturesAction::None;
        }
        let mut open = true;
        let mut action = FeaturesAction::None;
        egui::Window::new("Export features")
            .open(&mut open)
            .default_size([900.0, 420.0])
            .resizable(true)
            .show(ctx, |ui| {
                let mut changed = false;
                ui.horizontal(|ui| {
                    changed |= ui
                        .radio_value(&mut self.whole_store, false, "selection")
                        .changed();
                    changed |= ui
                        .radio_value(&mut self.whole_store, true, "whole store")
                        .changed();
                    ui.separator();
                    changed |= ui
                        .checkbox(&mut self.hide_empty, "hide empty columns")
                        .on_hover_text("In the preview; the file has every column of the schema")
                        .changed();
                    changed |= ui.button("Refresh").clicked();
                    ui.separator();
                    if ui
                        .add_enabled(self.n_rows > 0, egui::Button::new("Save CSV or Parquet…"))
                        .on_hover_text("The extension (.csv or .parquet) chooses the format")
                        .clicked()
                    {
                        action = FeaturesAction::Save;
                    }
                });
                if changed {
                    self.refresh(store, selection);
                }
                ui.label(
                    RichText::new(
                        "One row per spectrum or pattern: processing parameters, e0, edge step, \
                         edge descriptors, EXAFS fit and LCF results, XRD peaks and phases \
                         (schema in the README).",
                    )
                    .weak(),
                );
                match &self.preview {
                    None => {}
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    Some(Ok(df)) => {
                        ui.label(format!(
                            "{} rows × {} columns{}",
                            df.height(),
                            df.width(),
                            if df.height() > PREVIEW_ROWS {
                                format!(" (first {PREVIEW_ROWS} shown)")
                            } else {
                                String::new()
                            }
                        ));
                        preview_table(ui, df);
                    }
                }
            });
        self.open = open;
        action
    }
}

/// The table itself (egui_extras), scrolled both ways.
fn preview_table(ui: &mut Ui, df: &DataFrame) {
    use egui_extras::{Column, TableBuilder};
    let cols = df.columns();
    let n = df.height().min(PREVIEW_ROWS);
    egui::ScrollArea::horizontal().show(ui, |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            .columns(Column::auto().at_least(60.0).clip(true), cols.len())
            .header(20.0, |mut h| {
                for c in cols {
                    h.col(|ui| {
                        ui.strong(c.name().as_str());
                    });
                }
            })
            .body(|body| {
                body.rows(18.0, n, |mut row| {
                    let i = row.index();
                    for c in cols {
                        let text = c.get(i).map(cell_text).unwrap_or_default();
                        row.col(|ui| {
                            ui.label(text);
                        });
                    }
                });
            });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_numbers_short_and_nulls_empty() {
        assert_eq!(cell_text(AnyValue::Float64(7112.5)), "7112.5");
        assert_eq!(cell_text(AnyValue::Float64(2.0)), "2");
        assert_eq!(cell_text(AnyValue::Float64(0.1234567)), "0.123457");
        assert_eq!(cell_text(AnyValue::Null), "");
        assert_eq!(cell_text(AnyValue::Int64(3)), "3");
    }
}
