//! The background jobs of the Spectra side (processing, opening files) and
//! the log. A job is a [`Task`] whose worker (rayon inside) streams results
//! the UI thread applies as they come.

use std::sync::Arc;
use std::sync::mpsc::Sender;

use rayon::prelude::*;

use std::path::{Path, PathBuf};

pub use super::log::{Level, Log, LogLine};
use super::store::Store;
use super::tasks::{Task, TaskPoll, TaskStatus, Tasks, start_worker};
use super::workspace::{Input, Processed, parse_bytes, process};
use super::xrd::{LoadedPattern, is_xrd_bytes, parse_pattern};
use crate::io::Dataset;
use crate::session::sha256_hex;
use crate::xas::ChainParams;
use crate::xas::edit::Edit;

/// One spectrum to process.
struct Work {
    id: u64,
    rev: u64,
    input: Arc<Input>,
    params: ChainParams,
}

pub enum Msg {
    Done {
        id: u64,
        rev: u64,
        result: Box<Result<Processed, String>>,
    },
    Finished,
}

/// A running "process N spectra" job (a [`Task`] of per-spectrum results).
pub struct Job {
    task: Task<Msg>,
    /// (id, rev) not yet reported back.
    pending: Vec<(u64, u64)>,
}

impl Job {
    pub fn task(&self) -> &Task<Msg> {
        &self.task
    }
    pub fn cancel(&self) {
        self.task.cancel();
    }
    pub fn is_cancelling(&self) -> bool {
        self.task.is_cancelling()
    }
}

/// Start processing every spectrum that needs it, except `skip` (the one
/// recomputed synchronously). None when nothing needs processing.
pub fn start_processing(
    tasks: &Tasks,
    ws: &Store,
    skip: Option<u64>,
    ctx: Option<egui::Context>,
) -> Option<Job> {
    let work: Vec<Work> = ws
        .items
        .iter()
        .filter(|i| Some(i.id) != skip)
        .filter_map(|i| {
            let s = i.spectrum()?;
            s.needs_processing().then(|| Work {
                id: i.id,
                rev: s.rev,
                input: s.input.clone(),
                params: s.params.clone(),
            })
        })
        .collect();
    if work.is_empty() {
        return None;
    }
    let pending = work.iter().map(|t| (t.id, t.rev)).collect();
    let total = work.len();
    let (task, tx, status) = Task::new(tasks, format!("processing {total} spectra"), total, true);
    start_worker(status, move |status| run(work, status, tx, ctx));
    Some(Job { task, pending })
}

fn run(work: Vec<Work>, status: &TaskStatus, tx: Sender<Msg>, ctx: Option<egui::Context>) {
    work.par_iter().for_each_with(tx.clone(), |tx, t| {
        if status.is_cancelling() {
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
pub fn poll(job: &mut Job, ws: &mut Store, log: &mut Log) -> bool {
    loop {
        match job.task.poll() {
            TaskPoll::Done(Msg::Done { id, rev, result }) => {
                job.task.status().step();
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
            TaskPoll::Done(Msg::Finished) | TaskPoll::Lost => {
                finish(job, ws, log);
                return true;
            }
            TaskPoll::Running => return false,
        }
    }
}

fn finish(job: &Job, ws: &mut Store, log: &mut Log) {
    if let Some(panic) = job.task.status().panic_message() {
        // A bug, not the input (see tasks::guard): the spectra left keep
        // the error and are not started again on the next frame.
        log.error(job.task.status().lost_text(job.task.title()));
        for &(id, rev) in &job.pending {
            if let Some(s) = ws.item_mut(id).and_then(|i| i.spectrum_mut())
                && s.rev == rev
            {
                s.computed_rev = Some(rev);
                s.error = Some(format!("not processed: internal error: {panic}"));
            }
        }
        return;
    }
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
        let t = &job.task;
        log.warn(format!(
            "{}: cancelled, {} of {} done",
            t.title(),
            t.done(),
            t.total()
        ));
    } else {
        log.info(format!("{}: done", job.task.title()));
    }
}

/// A running "open N files" job: files are read and parsed on a worker
/// thread, the items are added on the UI thread as they arrive.
pub struct LoadJob {
    task: Task<LoadMsg>,
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

pub enum LoadMsg {
    /// How many files the folders expanded to.
    Total(usize),
    File(String, Box<Result<(Dataset, String), String>>),
    /// A measured powder pattern (for the XRD view).
    Pattern(String, Box<Result<LoadedPattern, String>>),
    Error(String),
}

impl LoadJob {
    pub fn task(&self) -> &Task<LoadMsg> {
        &self.task
    }
    pub fn cancel(&self) {
        self.task.cancel();
    }
    pub fn is_cancelling(&self) -> bool {
        self.task.is_cancelling()
    }
}

/// Open files and folders (the files directly inside) in the background.
pub fn start_loading(tasks: &Tasks, paths: Vec<PathBuf>, ctx: Option<egui::Context>) -> LoadJob {
    let requested = paths.clone();
    let (task, tx, status) = Task::new(tasks, "opening files", paths.len(), true);
    start_worker(status, move |status| {
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
            if status.is_cancelling() {
                break;
            }
            let name = f.display().to_string();
            let msg = match crate::io::read_input(&f) {
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
        task,
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
pub fn poll_load(job: &mut LoadJob, ws: &mut Store, log: &mut Log) -> bool {
    loop {
        match job.task.poll() {
            TaskPoll::Done(LoadMsg::Total(n)) => job.task.status().set_total(n),
            TaskPoll::Done(LoadMsg::Error(e)) => log.error(e),
            TaskPoll::Done(LoadMsg::File(file, ds)) => {
                job.task.status().step();
                if let Ok((ds, _)) = ds.as_ref() {
                    if let Some(n) = ds.recipe_note() {
                        log.info(n);
                    }
                    for w in ds.warnings() {
                        log.warn(w.clone());
                    }
                }
                match (*ds).and_then(|(ds, sha)| ws.add_dataset(ds, &file, &sha)) {
                    Ok(ids) => {
                        log.info(format!("opened {file} ({} item(s))", ids.len()));
                        job.new_ids.extend(ids);
                        job.opened.push(PathBuf::from(file));
                    }
                    Err(e) => log.error(e),
                }
            }
            TaskPoll::Done(LoadMsg::Pattern(file, p)) => {
                job.task.status().step();
                match *p {
                    Ok(p) => {
                        log.info(format!(
                            "opened {file} (XRD pattern, {} points)",
                            p.pattern.npts()
                        ));
                        for w in &p.pattern.warnings {
                            log.warn(w.clone());
                        }
                        job.n_patterns += 1;
                        job.patterns.push(p);
                        job.opened.push(PathBuf::from(file));
                    }
                    Err(e) => log.error(e),
                }
            }
            TaskPoll::Running => return false,
            TaskPoll::Lost => {
                let t = &job.task;
                if t.status().panic_message().is_some() {
                    log.error(t.status().lost_text("opening files"));
                } else if t.is_cancelling() && t.done() < t.total() {
                    log.warn(format!(
                        "opening cancelled: {} of {} files read",
                        t.done(),
                        t.total()
                    ));
                }
                return true;
            }
        }
    }
}

/// One spectrum's part of an align or rebin batch.
pub(crate) struct EditWork {
    pub id: u64,
    pub name: String,
    pub raw: Arc<Input>,
    pub input: Arc<Input>,
    pub edits: Vec<Edit>,
    pub e0: Option<f64>,
}

pub(crate) type EditAnswer = Vec<(EditWork, Result<(Arc<Input>, Vec<Edit>, String), String>)>;

/// An align or rebin running on a worker thread (its progress counts
/// spectra).
pub struct EditJob {
    pub(crate) task: Option<Task<EditAnswer>>,
}

impl EditJob {
    pub(crate) fn task_slot(&mut self) -> Option<Task<EditAnswer>> {
        self.task.take()
    }
    pub fn cancel(&self) {
        if let Some(t) = &self.task {
            t.cancel();
        }
    }
    pub fn is_cancelling(&self) -> bool {
        self.task.as_ref().is_some_and(|t| t.is_cancelling())
    }
}
