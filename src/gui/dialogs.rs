//! File dialogs (rfd) on their own threads: what to ask for
//! ([`DialogKind`]) and what came back ([`Picked`]).

use std::path::{Path, PathBuf};

use super::log::Log;
use super::tasks::{Task, Tasks};

/// The answer of a file dialog.
pub enum Picked {
    OpenModel(Option<PathBuf>),
    SaveModel(Option<PathBuf>),
    AddPaths(Vec<PathBuf>),
    SaveReport(Option<PathBuf>),
    Open(Vec<PathBuf>),
    AddCifs(Vec<PathBuf>),
    CandidateDir(Option<PathBuf>),
    QuantDir(Option<PathBuf>),
    OpenSession(Option<PathBuf>),
    SaveSession(Option<PathBuf>),
    ExportCsv(Option<PathBuf>),
    ExportWide(Option<PathBuf>),
    ExportSvg(Option<PathBuf>),
    ExportPng(Option<PathBuf>),
    ExportFeatures(Option<PathBuf>),
    ExportMapSvg(Option<PathBuf>),
    ExportMapPng(Option<PathBuf>),
    OpenMapModel(Option<PathBuf>),
    SaveMapModel(Option<PathBuf>),
    OpenMapStandards(Option<PathBuf>),
    OpenProjection(Option<PathBuf>),
    SaveProjection(Option<PathBuf>),
}

/// Which file dialog to open.
#[derive(Debug, Clone, Copy)]
pub enum DialogKind {
    Open,
    OpenModel,
    SaveModel,
    AddPaths,
    SaveReport,
    AddCifs,
    CandidateDir,
    QuantDir,
    OpenSession,
    SaveSession,
    ExportCsv,
    ExportWide,
    ExportSvg,
    ExportPng,
    ExportFeatures,
    ExportMapSvg,
    ExportMapPng,
    OpenMapModel,
    SaveMapModel,
    OpenMapStandards,
    OpenProjection,
    SaveProjection,
}

/// Ask for a file or folder on a thread of its own, so frames go on; the
/// answer arrives as the task's result. `model_path` names the Fit view's
/// model (its folder and name are the Fit dialogs' defaults).
pub fn spawn(
    kind: DialogKind,
    tasks: &Tasks,
    model_path: Option<&Path>,
    model_dir: PathBuf,
    log: &mut Log,
) -> Task<Picked> {
    // rfd asks the desktop portal over D-Bus, else runs zenity; with
    // neither it returns nothing, exactly as if the user cancelled.
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() && !on_path("zenity") {
        log.warn(
            "no file dialog here (no D-Bus session for the desktop portal, no zenity): \
                 drop files onto the window or pass them on the command line",
        );
    }
    let model_name = model_path
        .and_then(|p| p.file_name())
        .map_or_else(|| "model.toml".into(), |n| n.to_string_lossy().into_owned());
    // The repaint every busy frame asks for notices the answer.
    Task::spawn_uncancellable(tasks, "file dialog", None, move |_| {
        let d = rfd::FileDialog::new();
        // The model's folder, for the Fit view's dialogs.
        let in_model_dir = |d: rfd::FileDialog| {
            if model_dir.as_os_str().is_empty() {
                d
            } else {
                d.set_directory(&model_dir)
            }
        };
        match kind {
            DialogKind::Open => Picked::Open(
                d.set_title("Open spectra or XRD patterns")
                    .pick_files()
                    .unwrap_or_default(),
            ),
            DialogKind::AddCifs => Picked::AddCifs(
                d.set_title("Add crystal structures (CIF) or JCPDS cards")
                    .add_filter("CIF or JCPDS card", &["cif", "jcpds"])
                    .pick_files()
                    .unwrap_or_default(),
            ),
            DialogKind::CandidateDir => Picked::CandidateDir(
                d.set_title("Candidate library: a folder of CIFs")
                    .pick_folder(),
            ),
            DialogKind::QuantDir => Picked::QuantDir(
                d.set_title("Quantification library: a folder with phases.csv")
                    .pick_folder(),
            ),
            DialogKind::OpenSession => Picked::OpenSession(
                d.set_title("Open session")
                    .add_filter("Carto session", &["carto", "json"])
                    .pick_file(),
            ),
            DialogKind::SaveSession => Picked::SaveSession(
                d.set_title("Save session")
                    .add_filter("Carto session", &["carto"])
                    .set_file_name("analysis.carto")
                    .save_file(),
            ),
            DialogKind::OpenModel => Picked::OpenModel(
                d.set_title("Open fit model")
                    .add_filter("Fit model", &["toml"])
                    .pick_file(),
            ),
            DialogKind::SaveModel => Picked::SaveModel(
                in_model_dir(d)
                    .set_title("Save fit model")
                    .add_filter("Fit model", &["toml"])
                    .set_file_name(&model_name)
                    .save_file(),
            ),
            DialogKind::AddPaths => Picked::AddPaths(
                in_model_dir(d)
                    .set_title("Add FEFF paths (feffNNNN.dat)")
                    .add_filter("FEFF path", &["dat"])
                    .pick_files()
                    .unwrap_or_default(),
            ),
            DialogKind::SaveReport => Picked::SaveReport(
                d.set_title("Save fit report")
                    .set_file_name("feffit_report.txt")
                    .save_file(),
            ),
            DialogKind::ExportSvg => Picked::ExportSvg(
                d.set_title("Export the plot as SVG")
                    .add_filter("SVG", &["svg"])
                    .set_file_name("plot.svg")
                    .save_file(),
            ),
            DialogKind::ExportWide => Picked::ExportWide(
                d.set_title("Export CSV, one column per spectrum (NAME_norm/chi/chir.csv)")
                    .set_file_name("spectra.csv")
                    .save_file(),
            ),
            DialogKind::ExportPng => Picked::ExportPng(
                d.set_title("Export the plot as PNG")
                    .add_filter("PNG", &["png"])
                    .set_file_name("plot.png")
                    .save_file(),
            ),
            DialogKind::ExportFeatures => Picked::ExportFeatures(
                d.set_title("Export the feature table (.csv or .parquet)")
                    .add_filter("CSV", &["csv"])
                    .add_filter("Parquet", &["parquet"])
                    .set_file_name("features.csv")
                    .save_file(),
            ),
            DialogKind::ExportMapSvg => Picked::ExportMapSvg(
                d.set_title("Export the map as SVG")
                    .add_filter("SVG", &["svg"])
                    .set_file_name("map.svg")
                    .save_file(),
            ),
            DialogKind::OpenMapStandards => Picked::OpenMapStandards(
                d.set_title("Measured XANES standards for the map's candidates")
                    .add_filter("Standards", &["toml"])
                    .pick_file(),
            ),
            DialogKind::OpenMapModel => Picked::OpenMapModel(
                d.set_title("Open a joint model (map)")
                    .add_filter("Joint model", &["json"])
                    .pick_file(),
            ),
            DialogKind::SaveMapModel => Picked::SaveMapModel(
                d.set_title("Save the map's joint model")
                    .add_filter("Joint model", &["json"])
                    .set_file_name("joint-model.json")
                    .save_file(),
            ),
            DialogKind::OpenProjection => Picked::OpenProjection(
                d.set_title("Open a projection model")
                    .add_filter("Projection model", &["json"])
                    .pick_file(),
            ),
            DialogKind::SaveProjection => Picked::SaveProjection(
                d.set_title("Save the projection model")
                    .add_filter("Projection model", &["json"])
                    .set_file_name("projection.json")
                    .save_file(),
            ),
            DialogKind::ExportMapPng => Picked::ExportMapPng(
                d.set_title("Export the map as PNG")
                    .add_filter("PNG", &["png"])
                    .set_file_name("map.png")
                    .save_file(),
            ),
            DialogKind::ExportCsv => Picked::ExportCsv(
                d.set_title("Export CSV (one file per spectrum: NAME_SPECTRUM.csv)")
                    .set_file_name("export.csv")
                    .save_file(),
            ),
        }
    })
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}
