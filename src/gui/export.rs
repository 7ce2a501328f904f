//! File ▸ Export: the selected spectra as CSV (one file each, or side by
//! side), the Spectra view's plot as SVG or PNG.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::log::{Level, Log};
use super::plots::PlotPanel;
use super::selection::Selection;
use super::store::Store;
use super::workspace::{Item, Processed};

/// An export of the plot as PNG: the window's screenshot is asked for on
/// the next frame and arrives a frame or two later (never, without a
/// renderer that reads pixels back: then it gives up after
/// [`PNG_EXPORT_TIMEOUT`]).
#[derive(Debug)]
pub struct PngExport {
    pub path: PathBuf,
    /// The Map view's plot, else the Spectra view's.
    pub map: bool,
    /// When the export was asked for (the timeout counts from here).
    pub started: std::time::Instant,
    /// The screenshot was asked for.
    pub requested: bool,
    /// Where the screenshot lands (filled by egui's callback).
    pub image: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
}

/// How long File ▸ Export plot as PNG waits for the screenshot.
pub const PNG_EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Write the Spectra view's current plot as SVG; whether it was written.
pub fn svg(ws: &Store, sel: &Selection, plots: &PlotPanel, log: &mut Log, path: &Path) -> bool {
    let all = crate::gui::plots::series(ws, sel, plots.tab, &plots.options);
    if all.is_empty() {
        log.warn("export: nothing is plotted (select processed spectra first)");
        return false;
    }
    let [xn, xu, yn, yu] = plots.tab.axes(crate::gui::plots::axes_kweight(ws, sel));
    let label = |n: &str, u: &str| {
        if u.is_empty() {
            n.to_string()
        } else {
            format!("{n} ({u})")
        }
    };
    let svg =
        crate::gui::svg::plot_svg(&all, plots.tab.title(), &label(&xn, &xu), &label(&yn, &yu));
    match crate::session::write_file_atomic(path, svg.as_bytes()) {
        Ok(()) => {
            log.info(format!("exported the plot to {}", path.display()));
            true
        }
        Err(e) => {
            log.error(format!("cannot write {}: {e}", path.display()));
            false
        }
    }
}

/// The selected spectra in wide files (one column each); returns the
/// files written.
pub fn wide_csv(ws: &Store, sel: &Selection, log: &mut Log, base: &Path) -> Vec<PathBuf> {
    use crate::export::{ExportSpectrum, write_wide_csv};
    let items = ws.selected_spectra(sel);
    let mut skipped = Vec::new();
    let spectra: Vec<ExportSpectrum<'_>> = items
        .iter()
        .filter_map(|item| {
            let r = item.spectrum().and_then(|s| s.result.as_ref());
            if r.is_none() {
                skipped.push(item.name.clone());
            }
            r.map(|r| export_spectrum(item, r, None))
        })
        .collect();
    if spectra.is_empty() {
        log.warn("export: select processed spectra to export first");
        return Vec::new();
    }
    let result = write_wide_csv(base, &spectra);
    let n = spectra.len();
    for name in skipped {
        log.warn(format!("export: {name} is not processed, skipped"));
    }
    match result {
        Ok(files) => {
            log.info(format!(
                "exported {n} spectra side by side: {}",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            files
        }
        Err(e) => {
            log.error(format!("export: {e}"));
            Vec::new()
        }
    }
}

/// File ▸ Export plot as PNG: ask for a screenshot of the window on
/// the next frame; [`poll_png`] crops it to the plot and
/// writes `path`.
pub fn start_png(
    plot_on_show: bool,
    rect: Option<egui::Rect>,
    map: bool,
    log: &mut Log,
    path: PathBuf,
) -> Option<PngExport> {
    if !plot_on_show || rect.is_none() {
        log.warn(if map {
            "export: the map is not on show (Map view ▸ Build map)"
        } else {
            "export: nothing is plotted (select processed spectra first)"
        });
        return None;
    }
    Some(PngExport {
        path,
        map,
        started: std::time::Instant::now(),
        requested: false,
        image: Arc::new(Mutex::new(None)),
    })
}

/// Drive a PNG export: request the screenshot, then crop it to `rect`
/// (the plot's area on screen now), encode and write it when it
/// arrives, or give up after the timeout.
pub fn poll_png(
    slot: &mut Option<PngExport>,
    rect: Option<egui::Rect>,
    log: &mut Log,
    ctx: &egui::Context,
) {
    let Some(job) = slot else {
        return;
    };
    if !job.requested {
        job.requested = true;
        let slot = job.image.clone();
        let repaint = ctx.clone();
        ctx.request_screenshot(move |image| {
            if let Ok(mut s) = slot.lock() {
                *s = Some(image);
            }
            repaint.request_repaint();
        });
        return;
    }
    let image = job.image.lock().ok().and_then(|mut i| i.take());
    let path = job.path.clone();
    let Some(image) = image else {
        if job.started.elapsed() > PNG_EXPORT_TIMEOUT {
            *slot = None;
            log.error(format!(
                "export: no screenshot of the window came within {} s (a display without                      pixel read-back, or no display at all); {} was not written",
                PNG_EXPORT_TIMEOUT.as_secs(),
                path.display()
            ));
        }
        return;
    };
    *slot = None;
    let Some(rect) = rect else {
        log.warn("export: the plot closed before its screenshot came; nothing written");
        return;
    };
    let written = crate::gui::capture::plot_png(&image, rect, ctx.pixels_per_point())
        .and_then(|png| crate::session::write_file_atomic(&path, &png).map_err(|e| e.to_string()));
    match written {
        Ok(()) => log.info(format!("exported the plot to {}", path.display())),
        Err(e) => log.error(format!("cannot export the plot to {}: {e}", path.display())),
    }
}

/// File ▸ Export CSV: each selected spectrum's processed arrays as
/// `BASE_NAME_mu.csv`, `_chi.csv`, `_chir.csv` beside `base`.
pub fn csv(ws: &Store, sel: &Selection, plots: &PlotPanel, log: &mut Log, base: &Path) {
    use crate::export::{file_safe, write_csv};
    let items = ws.selected_spectra(sel);
    if items.is_empty() {
        log.warn("export: select the spectra to export first");
        return;
    }
    let stem = base
        .file_stem()
        .map_or_else(|| "carto".into(), |s| s.to_string_lossy().into_owned());
    let mut lines = Vec::new();
    for item in items {
        let Some(r) = item.spectrum().and_then(|s| s.result.as_ref()) else {
            lines.push((
                Level::Warn,
                format!("export: {} is not processed, skipped", item.name),
            ));
            continue;
        };
        let one = base.with_file_name(format!("{stem}_{}.csv", file_safe(&item.name)));
        // χ(q) with the plots' R window (what the χ(q) tab shows).
        let chiq = crate::gui::plots::cached_chi_q(ws, item, &plots.options.xftr);
        let chiq = chiq.as_ref().and_then(|q| q.as_ref().as_ref().ok());
        let s = export_spectrum(item, r, chiq);
        match write_csv(&one, &s) {
            Ok(files) => lines.push((
                Level::Info,
                format!(
                    "exported {}: {}",
                    item.name,
                    files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Err(e) => lines.push((Level::Error, format!("export: {e}"))),
        }
    }
    for (level, text) in lines {
        match level {
            Level::Info => log.info(text),
            Level::Warn => log.warn(text),
            Level::Error => log.error(text),
        }
    }
}

/// What the CSV writers take of one processed spectrum.
fn export_spectrum<'a>(
    item: &'a Item,
    r: &'a Processed,
    chiq: Option<&'a crate::xas::ChiQ>,
) -> crate::export::ExportSpectrum<'a> {
    crate::export::ExportSpectrum {
        name: &item.name,
        source: &item.source,
        pre: r.pre.as_ref(),
        bkg: r.bkg.as_ref(),
        k_inv_ang: &r.k_inv_ang,
        chi: &r.chi,
        chir: &r.chir,
        chiq,
    }
}
