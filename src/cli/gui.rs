//! `carto`, `carto FILE...`, `carto open FILE...`: the desktop app.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

/// How the desktop app starts (`carto`, `carto FILE...`, `carto open FILE...`).
#[derive(Debug, Args, Default)]
pub struct GuiArgs {
    /// Files or folders to open in the desktop app (none: the demo session);
    /// a fit model (MODEL.toml) opens in the Fit view.
    pub files: Vec<PathBuf>,
    /// Run the fit as soon as the fit model among the files is open.
    #[arg(long)]
    pub fit: bool,
    /// Show the Map view and build the map of the files (CIFs among them are the candidates).
    #[arg(long)]
    pub map: bool,
    /// Open the bundled demo session (sample_data/).
    #[arg(long)]
    pub demo: bool,
    /// Render a few frames, save a PNG screenshot here and exit.
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// Open a saved session (a `FILE.carto` among the files does the same).
    #[arg(long, value_name = "FILE.carto")]
    pub session: Option<PathBuf>,
    /// The plot tab to show first.
    #[cfg(feature = "gui")]
    #[arg(long, value_enum)]
    pub plot: Option<carto::gui::PlotTab>,
    /// Print `first-frame` when the first frame is painted, then exit (for `carto bench startup`).
    #[arg(long, hide = true)]
    pub first_frame_exit: bool,
}

#[cfg(feature = "gui")]
pub fn run(a: GuiArgs) -> Result<()> {
    let (sessions, files): (Vec<PathBuf>, Vec<PathBuf>) = a
        .files
        .into_iter()
        .partition(|f| f.extension().is_some_and(|e| e == "carto"));
    let mut session = a.session;
    for s in sessions {
        if session.is_some() {
            bail!("only one session can be opened at a time ({})", s.display());
        }
        session = Some(s);
    }
    carto::gui::run(carto::gui::GuiOptions {
        files,
        demo: a.demo,
        screenshot: a.screenshot,
        plot: a.plot,
        session,
        fit: a.fit,
        map: a.map,
        first_frame_exit: a.first_frame_exit,
    })
    .map_err(anyhow::Error::msg)
}

/// Built without the `gui` feature: the help, as before the GUI existed.
#[cfg(not(feature = "gui"))]
pub fn run(a: GuiArgs) -> Result<()> {
    use clap::CommandFactory;
    if a.files.is_empty() && !a.demo && a.screenshot.is_none() && a.session.is_none() {
        return super::emit(&super::Cli::command().render_help().to_string());
    }
    bail!("this carto was built without the `gui` feature")
}
