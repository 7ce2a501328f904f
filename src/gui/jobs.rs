//! Background jobs and the log. A job runs on a worker thread (rayon inside)
//! and reports through a channel; the UI thread only polls and draws.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use rayon::prelude::*;

use std::path::{Path, PathBuf};

use super::workspace::{Input, Processed, Workspace, parse_bytes, process};
use super::xrd::{LoadedPattern, is_xrd_bytes, parse_pattern};
use crate::io::Dataset;
use crate::session::sha256_hex;
use crate::xas::ChainParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

/// The log shown in the bottom panel.
#[derive(Debug, Default)]
pub struct Log {
    pub lines: Vec<LogLine>,
}

impl Log {
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Level::Info, text.into());
    }
    pub fn warn(&mut self, text: impl Into<String>) {
        self.push(Level::Warn, text.into());
    }
    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Level::Error, text.into());
    }
    fn push(&mut self, level: Level, text: String) {
        self.lines.push(LogLine { level, text });
    }
    pub fn errors(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(|l| l.level == Level::Error)
            .map(|l| l.text.as_str())
    }
}

struct Task {
    id: u64,
    rev: u64,
    input: Arc<Input>,
    params: ChainParams,
}

enum Msg {
    Done {
        id: u64,
        rev: u64,
        result: Box<Result<Processed, String>>,
    },
    Finished,
}

/// A running "process N spectra" job.
pub struct Job {
    pub title: String,
    pub total: usize,
    pub done: usize,
    cancel: Arc<AtomicBool>,
    rx: Receiver<Msg>,
    /// (id, rev) not yet reported back.
    pending: Vec<(u64, u64)>,
}

impl Job {
    pub fn progress(&self) -> f32 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f32 / self.total as f32
        }
    }
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Start processing every spectrum that needs it, except `skip` (the one
/// recomputed synchronously). None when nothing needs processing.
pub fn start_processing(
    ws: &Workspace,
    skip: Option<u64>,
    ctx: Option<egui::Context>,
) -> Option<Job> {
    let tasks: Vec<Task> = ws
        .items
        .iter()
        .filter(|i| Some(i.id) != skip)
        .filter_map(|i| {
            let s = i.spectrum()?;
            s.needs_processing().then(|| Task {
                id: i.id,
                rev: s.rev,
                input: s.input.clone(),
                params: s.params.clone(),
            })
        })
        .collect();
    if tasks.is_empty() {
        return None;
    }
    let (tx, rx) = channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let pending = tasks.iter().map(|t| (t.id, t.rev)).collect();
    let total = tasks.len();
    let flag = cancel.clone();
    std::thread::spawn(move || run(tasks, flag, tx, ctx));
    Some(Job {
        title: format!("processing {total} spectra"),
        total,
        done: 0,
        cancel,
        rx,
        pending,
    })
}

fn run(tasks: Vec<Task>, cancel: Arc<AtomicBool>, tx: Sender<Msg>, ctx: Option<egui::Context>) {
    tasks.par_iter().for_each_with(tx.clone(), |tx, t| {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let result = Box::new(process(&t.input, &t.params));
        // A closed channel means the app is gone: nothing left to tell.
        let _ = tx.send(Msg::Done {
            id: t.id,
            rev: t.rev,
            result,
        });
        if let Some(ctx) = &ctx {
            ctx.request_repaint();
        }
    });
    let _ = tx.send(Msg::Finished);
    if let Some(ctx) = &ctx {
        ctx.request_repaint();
    }
}

/// Apply what the job reported since the last frame. Returns true when the
/// job has ended (finished or cancelled).
pub fn poll(job: &mut Job, ws: &mut Workspace, log: &mut Log) -> bool {
    loop {
        match job.rx.try_recv() {
            Ok(Msg::Done { id, rev, result }) => {
                job.done += 1;
                job.pending.retain(|&(i, _)| i != id);
                if let Some(item) = ws.item_mut(id) {
                    let name = item.name.clone();
                    if let Some(s) = item.spectrum_mut() {
                        let result = *result;
                        let err = result.as_ref().err().cloned();
                        if s.store(rev, result)
                            && let Some(e) = err
                        {
                            log.error(format!("{name}: {e}"));
                        }
                    }
                }
            }
            Ok(Msg::Finished) | Err(TryRecvError::Disconnected) => {
                finish(job, ws, log);
                return true;
            }
            Err(TryRecvError::Empty) => return false,
        }
    }
}

fn finish(job: &Job, ws: &mut Workspace, log: &mut Log) {
    if job.is_cancelling() && !job.pending.is_empty() {
        // Leave the rest as they are and don't restart them on the next
        // frame: "Process all" starts them again.
        for &(id, rev) in &job.pending {
            if let Some(s) = ws.item_mut(id).and_then(|i| i.spectrum_mut())
                && s.rev == rev
            {
                s.computed_rev = Some(rev);
                s.error = Some("not processed (job cancelled)".into());
            }
        }
        log.warn(format!(
            "{}: cancelled, {} of {} done",
            job.title, job.done, job.total
        ));
    } else {
        log.info(format!("{}: done", job.title));
    }
}

/// A running "open N files" job: files are read and parsed on a worker
/// thread, the items are added on the UI thread as they arrive.
pub struct LoadJob {
    pub total: usize,
    pub done: usize,
    cancel: Arc<AtomicBool>,
    rx: Receiver<LoadMsg>,
    /// Items added so far (selected when the job ends).
    pub new_ids: Vec<u64>,
    /// Measured XRD patterns read since the last poll (the app moves them
    /// to the XRD view).
    pub patterns: Vec<LoadedPattern>,
    /// XRD patterns read in all.
    pub n_patterns: usize,
    /// Ids the XRD view gave the patterns of this job (selected together).
    pub pattern_ids: Vec<u64>,
    /// The files and folders asked for (for File ▸ Open recent).
    pub requested: Vec<PathBuf>,
    /// The files read without error so far.
    pub opened: Vec<PathBuf>,
}

enum LoadMsg {
    /// How many files the folders expanded to.
    Total(usize),
    File(String, Box<Result<(Dataset, String), String>>),
    /// A measured powder pattern (for the XRD view).
    Pattern(String, Box<Result<LoadedPattern, String>>),
    Error(String),
}

impl LoadJob {
    pub fn progress(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            self.done as f32 / self.total as f32
        }
    }
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Open files and folders (the files directly inside) in the background.
pub fn start_loading(paths: Vec<PathBuf>, ctx: Option<egui::Context>) -> LoadJob {
    let (tx, rx) = channel();
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let total = paths.len();
    let requested = paths.clone();
    std::thread::spawn(move || {
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                match list_folder(&p) {
                    Ok(v) => files.extend(v),
                    Err(e) => {
                        let _ = tx.send(LoadMsg::Error(e));
                    }
                }
            } else {
                files.push(p);
            }
        }
        let _ = tx.send(LoadMsg::Total(files.len()));
        for f in files {
            if flag.load(Ordering::Relaxed) {
                break;
            }
            let name = f.display().to_string();
            let msg = match std::fs::read(&f) {
                Ok(bytes) if is_xrd_bytes(&bytes, &f) => {
                    LoadMsg::Pattern(name, Box::new(parse_pattern(&bytes, &f)))
                }
                Ok(bytes) => {
                    let ds = parse_bytes(&bytes, &name).map(|ds| (ds, sha256_hex(&bytes)));
                    LoadMsg::File(name, Box::new(ds))
                }
                Err(e) => {
                    let e = format!("cannot read {name}: {e}");
                    LoadMsg::File(name, Box::new(Err(e)))
                }
            };
            if tx.send(msg).is_err() {
                break;
            }
            if let Some(ctx) = &ctx {
                ctx.request_repaint();
            }
        }
        if let Some(ctx) = &ctx {
            ctx.request_repaint();
        }
    });
    LoadJob {
        total,
        done: 0,
        cancel,
        rx,
        new_ids: Vec::new(),
        patterns: Vec::new(),
        n_patterns: 0,
        pattern_ids: Vec::new(),
        requested,
        opened: Vec::new(),
    }
}

/// The files directly inside a folder, sorted, hidden ones skipped.
pub(crate) fn list_folder(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Add what arrived since the last frame. True when the job has ended.
pub fn poll_load(job: &mut LoadJob, ws: &mut Workspace, log: &mut Log) -> bool {
    loop {
        match job.rx.try_recv() {
            Ok(LoadMsg::Total(n)) => job.total = n,
            Ok(LoadMsg::Error(e)) => log.error(e),
            Ok(LoadMsg::File(file, ds)) => {
                job.done += 1;
                match (*ds).and_then(|(ds, sha)| ws.add_dataset(ds, &file, &sha)) {
                    Ok(ids) => {
                        log.info(format!("opened {file} ({} item(s))", ids.len()));
                        job.new_ids.extend(ids);
                        job.opened.push(PathBuf::from(file));
                    }
                    Err(e) => log.error(e),
                }
            }
            Ok(LoadMsg::Pattern(file, p)) => {
                job.done += 1;
                match *p {
                    Ok(p) => {
                        log.info(format!(
                            "opened {file} (XRD pattern, {} points)",
                            p.pattern.npts()
                        ));
                        job.n_patterns += 1;
                        job.patterns.push(p);
                        job.opened.push(PathBuf::from(file));
                    }
                    Err(e) => log.error(e),
                }
            }
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => {
                if job.is_cancelling() && job.done < job.total {
                    log.warn(format!(
                        "opening cancelled: {} of {} files read",
                        job.done, job.total
                    ));
                }
                return true;
            }
        }
    }
}

/// One piece of work on a worker thread that ends with one answer (open a
/// fit model, run a fit): cancellable, polled once per frame.
pub struct BgTask<T> {
    pub title: String,
    pub started: std::time::Instant,
    cancel: Arc<AtomicBool>,
    rx: Receiver<T>,
}

impl<T: Send + 'static> BgTask<T> {
    /// Run `work` on its own thread; it gets the cancel flag to watch.
    pub fn spawn(
        title: impl Into<String>,
        ctx: Option<egui::Context>,
        work: impl FnOnce(&AtomicBool) -> T + Send + 'static,
    ) -> Self {
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        std::thread::spawn(move || {
            let out = work(&flag);
            // A closed channel means nobody waits for the answer any more.
            let _ = tx.send(out);
            if let Some(ctx) = &ctx {
                ctx.request_repaint();
            }
        });
        BgTask {
            title: title.into(),
            started: std::time::Instant::now(),
            cancel,
            rx,
        }
    }
}

/// What [`BgTask::poll`] found.
pub enum TaskPoll<T> {
    Running,
    Done(T),
    /// The worker ended without an answer (it panicked).
    Lost,
}

impl<T> BgTask<T> {
    pub fn poll(&self) -> TaskPoll<T> {
        match self.rx.try_recv() {
            Ok(t) => TaskPoll::Done(t),
            Err(TryRecvError::Empty) => TaskPoll::Running,
            Err(TryRecvError::Disconnected) => TaskPoll::Lost,
        }
    }
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The answer of the task in `slot` once it has ended (the slot is then
/// emptied); None while it runs. A cancelled task's answer is dropped and
/// the log says "`what` cancelled"; a task whose thread died says "`what`
/// stopped unexpectedly".
pub fn take_answer<T>(slot: &mut Option<BgTask<T>>, what: &str, log: &mut Log) -> Option<T> {
    let task = slot.as_ref()?;
    let answer = match task.poll() {
        TaskPoll::Running => return None,
        TaskPoll::Done(_) if task.is_cancelling() => {
            log.warn(format!("{what} cancelled"));
            None
        }
        TaskPoll::Done(v) => Some(v),
        TaskPoll::Lost => {
            log.error(format!("{what} stopped unexpectedly (please report)"));
            None
        }
    };
    *slot = None;
    answer
}
