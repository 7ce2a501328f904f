//! The fit model in the store: the model as edited, the file it belongs
//! to, the fit result on show with its report, and the counters the undo
//! history and the Fit view follow. The Fit view keeps only how it shows
//! them (dataset on show, text being typed, live mode) and its tasks.

use std::path::{Path, PathBuf};

use super::new_id;
use crate::exafs::feffit::{FitError, FitModel, FitResult, report};
use crate::exafs::model::{parse_model, rebase_paths, to_toml};

/// Correlations below this are left out of the report (Larch's default).
const REPORT_MIN_CORREL: f64 = 0.1;

/// The fit model and its result.
#[derive(Debug, Default)]
pub struct FitDoc {
    /// The model's id in the one id space (fresh for each model opened).
    pub id: u64,
    /// The result's id in the one id space (fresh for each result).
    pub result_id: u64,
    /// The model file shown.
    pub path: Option<PathBuf>,
    /// The model as edited.
    pub model: Option<FitModel>,
    pub result: Option<FitResult>,
    /// The model was edited since `result`.
    pub stale: bool,
    /// `report(result)`, kept for the text area, Copy and Save.
    pub report: String,
    /// Counts model edits, so a fit knows whether the model changed while
    /// it ran, and undo what changed.
    edits: u64,
    /// `edits` when a model was last opened (opening is not an undo step).
    opened_edits: u64,
    /// Counts every change of the result on show (the undo history's
    /// revision of results).
    result_rev: u64,
    /// `edits` when the model was last read or saved (None: it differs
    /// from the file on disk).
    saved_edits: Option<u64>,
    /// Counts saves (a save rebases the model's file names).
    saves: u64,
}

impl FitDoc {
    /// A model just read from `path` (or a session's copy of it): the
    /// result goes, undo of the model starts here.
    pub fn set_model(&mut self, path: PathBuf, model: FitModel, differs_from_file: bool) {
        self.id = new_id();
        self.path = Some(path);
        self.model = Some(model);
        self.set_result(None, false);
        self.edits += 1;
        self.saved_edits = (!differs_from_file).then_some(self.edits);
        self.opened_edits = self.edits;
    }

    /// Drop the model and its result (a session replaces them).
    pub fn clear(&mut self) {
        *self = FitDoc {
            edits: self.edits + 1,
            result_rev: self.result_rev + 1,
            saves: self.saves,
            ..FitDoc::default()
        };
        self.opened_edits = self.edits;
    }

    /// Close the model (an undo step, unlike [`Self::clear`]).
    pub fn close(&mut self) {
        self.model = None;
        self.path = None;
        self.set_result(None, false);
        self.edited();
    }

    /// Counts every change of the model (the undo history's revision).
    pub fn model_rev(&self) -> u64 {
        self.edits
    }

    /// Counts every change of the result on show.
    pub fn result_rev(&self) -> u64 {
        self.result_rev
    }

    /// Counts saves of the model to a file.
    pub fn saves(&self) -> u64 {
        self.saves
    }

    /// The last change of the model was opening it (not an undo step).
    pub fn just_opened(&self) -> bool {
        self.edits == self.opened_edits
    }

    /// Whether the model differs from its file.
    pub fn modified(&self) -> bool {
        self.model.is_some() && self.saved_edits != Some(self.edits)
    }

    /// After any change of the model: count it, mark the result stale.
    pub fn edited(&mut self) {
        self.edits += 1;
        self.stale = self.result.is_some();
    }

    /// Show a fit's result (table, statistics, plots, report).
    pub fn set_result(&mut self, result: Option<FitResult>, stale: bool) {
        self.report = result
            .as_ref()
            .map_or_else(String::new, |r| report(r, REPORT_MIN_CORREL));
        self.result_id = if result.is_some() { new_id() } else { 0 };
        self.result = result;
        self.result_rev += 1;
        self.stale = stale && self.result.is_some();
    }

    /// Put back a model of the undo history: the result on show, if any,
    /// is then stale.
    pub fn restore_model(&mut self, model: Option<FitModel>) {
        self.model = model;
        self.edited();
    }

    /// The folder relative file names of the model are relative to.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(PathBuf::new, Path::to_path_buf)
    }

    /// The model as TOML, file names relative to its own folder (what a
    /// session keeps). None without a model.
    pub fn model_text(&self) -> Option<Result<String, FitError>> {
        Some(self.text_of(self.model.as_ref()?))
    }

    /// `model` as TOML relative to this model's folder (an undo state's
    /// model, for a session).
    pub fn text_of(&self, model: &FitModel) -> Result<String, FitError> {
        let base = self.base_dir();
        to_toml(model, &base, &base)
    }

    /// A model from its TOML text, file names relative to `base` (an undo
    /// state's model read back from a session).
    pub fn model_from_text(text: &str, base: &Path) -> Result<FitModel, FitError> {
        parse_model(text, base, "the session's undo history")
    }

    /// Copy the fitted values into the model as the next starting point.
    pub fn use_fitted_values(&mut self) {
        let (Some(model), Some(res)) = (&mut self.model, &self.result) else {
            return;
        };
        for p in &mut model.params {
            if p.expr.is_none()
                && let Some(r) = res.params.iter().find(|r| r.name == p.name)
                && r.value.is_finite()
            {
                p.value = r.value;
            }
        }
        self.edited();
    }

    /// Write the report (File ▸ Save report, the Save… button).
    pub fn save_report(&self, path: &Path) -> Result<(), String> {
        std::fs::write(path, &self.report)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Write the edited model as TOML to `path` (atomically: a temp file
    /// renamed over it, the previous file kept as `.bak`); file names are
    /// made relative to its folder. The model then belongs to `path`.
    pub fn save_model(&mut self, path: &Path) -> Result<(), String> {
        let from = self.base_dir();
        let Some(model) = &mut self.model else {
            return Err("no fit model to save".into());
        };
        let to = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let text =
            to_toml(model, &from, &to).map_err(|e| format!("cannot save the fit model: {e}"))?;
        crate::session::write_file_atomic(path, text.as_bytes())
            .map_err(|e| format!("cannot save the fit model: {e}"))?;
        rebase_paths(model, &from, &to);
        self.path = Some(path.to_path_buf());
        self.saved_edits = Some(self.edits);
        self.saves += 1;
        Ok(())
    }
}
