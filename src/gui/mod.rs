//! The desktop app (eframe/egui, glow backend). The GUI holds state and
//! draws; every number comes from carto::io and carto::xas.
//!
//! - [`app`]: the frame (menu bar, current view, log) and the actions;
//!   [`state`]: everything it holds
//! - [`store`]: every loaded thing (spectra, χ(k), FEFF paths, patterns,
//!   phases, library, quantification, fit model) in the one id space; [`selection`]:
//!   the one selection; [`workspace`]: what an item is; [`derived`]: χ(q), cached per change
//! - [`history`]: undo/redo over every view
//! - [`views`]: the registered views (Spectra, Fit, XRD) behind one trait
//! - [`tree`], [`plots`], [`params`]: the Spectra view's panels
//! - [`fit`]: the Fit panel (view state and tasks; the model is `store.fit`)
//! - [`xrd`]: the XRD panel (view state and tasks; its data are the store's)
//! - [`tasks`]: every background task, its progress, Cancel and answer
//! - [`jobs`]: the Spectra side's background jobs; [`log`]: the log
//! - [`menu`], [`dialogs`], [`export`], [`demo`]: the File menu and what it does;
//!   [`features`]: File ▸ Export features… (the feature table with a preview)
//!
//! docs/architecture.md says how these fit together.

pub mod app;
pub mod builtin;
pub mod capture;
pub mod demo;
pub mod derived;
pub mod dialogs;
pub mod export;
pub mod features;
pub mod fit;
pub mod frame_bench;
pub mod history;
pub mod jobs;
pub mod log;
pub mod menu;
pub mod ops;
pub mod params;
pub mod persist;
pub mod plots;
pub mod recent;
pub mod selection;
pub mod session_files;
pub mod spectra_edit;
pub mod state;
pub mod store;
pub mod svg;
pub mod tasks;
pub mod theory;
pub mod tree;
pub mod views;
pub mod widgets;
pub mod workspace;
pub mod xanes;
pub mod xrd;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use app::CartoApp;
pub use fit::{FitCurves, FitPanel};
pub use plots::{PlotTab, Role, Series};
pub use views::View;

/// Fonts: egui's defaults plus Hack as a fallback for proportional text,
/// which brings the superscript minus and arrows that units (Å⁻¹) and
/// names need (Ubuntu-Light lacks them).
pub fn setup_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional) {
        family.insert(1.min(family.len()), "Hack".to_owned());
    }
    ctx.set_fonts(fonts);
}

/// How the app starts.
#[derive(Debug, Clone, Default)]
pub struct GuiOptions {
    /// Files (or folders) to open.
    pub files: Vec<PathBuf>,
    /// Open the bundled demo session (also when no file is given).
    pub demo: bool,
    /// Render a few frames, save a PNG here and exit.
    pub screenshot: Option<PathBuf>,
    /// The plot tab shown first.
    pub plot: Option<PlotTab>,
    /// A session file to open.
    pub session: Option<PathBuf>,
    /// Run the fit once the fit model among `files` is open.
    pub fit: bool,
    /// Show the Map view and build the map once `files` are open.
    pub map: bool,
    /// Print `first-frame` once the first frame is on screen and exit
    /// (`carto bench startup` times this from outside the process).
    pub first_frame_exit: bool,
}

/// Run the app until its window closes. With `screenshot`, returns whether
/// the PNG was written.
pub fn run(opts: GuiOptions) -> Result<(), String> {
    let mut app = if opts.demo || (opts.files.is_empty() && opts.session.is_none()) {
        CartoApp::demo()
    } else {
        CartoApp::new()
    };
    if let Some(s) = &opts.session {
        app.open_session(s);
    }
    app.fit_panel_mut().fit_when_open = opts.fit;
    if opts.map {
        app.state.view = views::MAP;
        views::registered_mut::<views::map::MapView>(&mut app.state.views).build_when_ready = true;
    }
    app.open_paths(&opts.files);
    if opts.session.is_none() {
        // What the app starts with is not an undo step.
        app.reset_history();
    }
    if let Some(tab) = opts.plot {
        app.plots.tab = tab;
    }
    // Autosave and crash recovery (not for screenshots, which are scripted).
    let state = if opts.screenshot.is_none() && !opts.first_frame_exit {
        crate::session::state_dir()
    } else {
        None
    };
    if let Some(dir) = &state {
        match crate::session::start_run(dir) {
            Ok(true) => app.recovery_offer = Some(crate::session::recovery_path(dir)),
            Ok(false) => {}
            Err(e) => app.log.warn(format!("no autosave: {e}")),
        }
        app.state_dir = Some(dir.clone());
        app.load_recent();
    }

    let wants_screenshot = opts.screenshot.is_some();
    let outcome: Arc<Mutex<Option<Result<(), String>>>> = Arc::new(Mutex::new(None));
    let shell = Shell {
        app,
        frames: 0,
        first_frame_exit: opts.first_frame_exit,
        screenshot: opts.screenshot.map(|path| ScreenshotState {
            path,
            started: Instant::now(),
            idle_frames: 0,
            requested: false,
            image: Arc::new(Mutex::new(None)),
            outcome: outcome.clone(),
        }),
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Carto")
            .with_inner_size([1400.0, 860.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Carto",
        native,
        Box::new(|cc| {
            setup_fonts(&cc.egui_ctx);
            Ok(Box::new(shell))
        }),
    )
    .map_err(|e| format!("cannot start the GUI: {e}"))?;
    if let Some(dir) = &state {
        crate::session::end_run(dir);
    }
    let result = outcome.lock().map(|mut o| o.take()).unwrap_or(None);
    match result {
        Some(r) => r,
        None if wants_screenshot => Err("the window closed before the screenshot was taken".into()),
        None => Ok(()),
    }
}

/// The eframe side: the app plus the `--screenshot` driver.
struct Shell {
    app: CartoApp,
    /// Frames drawn so far.
    frames: u64,
    first_frame_exit: bool,
    screenshot: Option<ScreenshotState>,
}

struct ScreenshotState {
    path: PathBuf,
    started: Instant,
    idle_frames: u32,
    requested: bool,
    image: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    outcome: Arc<Mutex<Option<Result<(), String>>>>,
}

/// Frames to draw after the last background job before the screenshot, so
/// plots have settled their bounds.
const SETTLE_FRAMES: u32 = 5;
const SCREENSHOT_TIMEOUT: Duration = Duration::from_secs(30);

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frames += 1;
        if self.first_frame_exit {
            // The second call starts once the first frame has been painted.
            if self.frames >= 2 {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "first-frame").and_then(|()| out.flush());
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                return;
            }
            ui.ctx().request_repaint();
        }
        // The one guard on the UI thread (workers have theirs in
        // tasks::guard): the core does not panic on input, so a panic here
        // is a bug; the frame is lost, the app and its data are not.
        if let Err(payload) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.app.ui(ui)))
        {
            let text = tasks::panic_text(payload.as_ref());
            self.app.state.log.error(format!(
                "internal error drawing the window: {text} (please report)"
            ));
        }
        let busy = self.app.busy();
        let Some(shot) = &mut self.screenshot else {
            return;
        };
        let ctx = ui.ctx().clone();
        ctx.request_repaint();
        let taken = shot.image.lock().ok().and_then(|mut i| i.take());
        let done = if let Some(image) = taken {
            Some(save_png(&shot.path, &image))
        } else if shot.started.elapsed() > SCREENSHOT_TIMEOUT {
            Some(Err(format!(
                "no screenshot after {} s",
                SCREENSHOT_TIMEOUT.as_secs()
            )))
        } else {
            if busy {
                shot.idle_frames = 0;
            } else {
                shot.idle_frames += 1;
            }
            if shot.idle_frames >= SETTLE_FRAMES && !shot.requested {
                shot.requested = true;
                let slot = shot.image.clone();
                ctx.request_screenshot(move |image| {
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(image);
                    }
                });
            }
            None
        };
        if let Some(r) = done {
            if let Ok(mut o) = shot.outcome.lock() {
                *o = Some(r);
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}

fn save_png(path: &std::path::Path, image: &egui::ColorImage) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let bytes = capture::encode_png(image).map_err(|e| err(&e))?;
    std::fs::write(path, bytes).map_err(|e| err(&e))
}
