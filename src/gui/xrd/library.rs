//! The candidate library: a folder of CIFs read in the background (in the
//! store: `Store::library`), its ranking against a pattern, and the XRD
//! view's side of it (tasks, search box).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::pattern::XrdEntry;
use crate::gui::log::Log;
use crate::gui::tasks::{Task, TaskPoll, TaskStatus, Tasks, take_answer};
use crate::xrd::identify::{Candidate, RankedCandidate, candidate_files, load_candidate};

/// A candidate library read from a folder of CIFs, and its ranking
/// against a pattern (in the store; the XRD view reads it in the
/// background and keeps the search box).
pub struct Library {
    /// The library's id in the one id space (fresh for each library read).
    pub id: u64,
    pub dir: Option<PathBuf>,
    pub candidates: Arc<Vec<Candidate>>,
    /// Candidate id → its CIF file.
    pub files: HashMap<String, PathBuf>,
    pub unreadable: Vec<String>,
    /// Lattice scale allowed when ranking (± fraction).
    pub max_scale: f64,
    pub ranked: Option<Ranking>,
    /// A ranking from a session, kept when its library finishes loading.
    pub restored: Option<Ranking>,
    /// Bumped whenever what undo keeps (the candidates read, the ranking)
    /// changes.
    pub(crate) rev: u64,
    /// The revision of a change undo takes as it is rather than as a step
    /// (a session's library and ranking coming back).
    pub(crate) quiet_rev: u64,
    /// The library being read is a session's.
    pub(crate) quiet_load: bool,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("id", &self.id)
            .field("dir", &self.dir)
            .field("candidates", &self.candidates.len())
            .finish_non_exhaustive()
    }
}

impl Default for Library {
    fn default() -> Self {
        Library {
            id: 0,
            dir: None,
            candidates: Arc::default(),
            files: HashMap::new(),
            unreadable: Vec::new(),
            max_scale: 0.02,
            ranked: None,
            restored: None,
            rev: 0,
            quiet_rev: 0,
            quiet_load: false,
        }
    }
}

/// The candidate library as the undo history keeps it: the candidates
/// shared with the library, the ranking.
#[derive(Clone)]
pub struct LibraryState {
    pub rev: u64,
    pub id: u64,
    pub dir: Option<PathBuf>,
    pub candidates: Arc<Vec<Candidate>>,
    pub files: Arc<HashMap<String, PathBuf>>,
    pub unreadable: Vec<String>,
    pub ranked: Option<Ranking>,
}

impl std::fmt::Debug for LibraryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibraryState")
            .field("rev", &self.rev)
            .field("dir", &self.dir)
            .field("candidates", &self.candidates.len())
            .finish_non_exhaustive()
    }
}

/// Reading a library (its progress counts CIFs).
pub struct LibraryLoad {
    pub task: Task<Result<LoadedLibrary, String>>,
}

pub struct LoadedLibrary {
    dir: PathBuf,
    candidates: Vec<Candidate>,
    files: HashMap<String, PathBuf>,
    unreadable: Vec<String>,
}

/// The ranking of the library against one pattern.
#[derive(Debug, Clone)]
pub struct Ranking {
    pub pattern: String,
    pub rows: Vec<RankedCandidate>,
}

impl Library {
    /// What undo keeps of the library now.
    pub fn undo_state(&self) -> LibraryState {
        LibraryState {
            rev: self.rev,
            id: self.id,
            dir: self.dir.clone(),
            candidates: self.candidates.clone(),
            files: Arc::new(self.files.clone()),
            unreadable: self.unreadable.clone(),
            ranked: self.ranked.clone(),
        }
    }

    /// Make the library `s` (an undo step's); returns its new revision.
    pub fn restore(&mut self, s: &LibraryState) -> u64 {
        self.id = s.id;
        self.dir = s.dir.clone();
        self.candidates = s.candidates.clone();
        self.files = HashMap::clone(&s.files);
        self.unreadable = s.unreadable.clone();
        self.ranked = s.ranked.clone();
        self.rev = crate::gui::workspace::next_rev();
        self.rev
    }

    /// A change undo is to take as it is, not as a step.
    pub(crate) fn changed_quietly(&mut self) {
        self.rev = crate::gui::workspace::next_rev();
        self.quiet_rev = self.rev;
    }

    /// Drop the library and its ranking (an undo step); the ranking's
    /// settings stay.
    pub fn forget(&mut self) {
        *self = Library {
            max_scale: self.max_scale,
            ..Library::default()
        };
        self.rev = crate::gui::workspace::next_rev();
    }

    /// Whether a library is there (read, or a session's ranking).
    pub fn is_loaded(&self) -> bool {
        self.dir.is_some() || self.ranked.is_some()
    }
}

/// The XRD view's side of the candidate library: its tasks and the
/// search box.
#[derive(Default)]
pub struct LibraryView {
    pub search: String,
    pub loading: Option<LibraryLoad>,
    pub ranking: Option<Task<Result<Ranking, String>>>,
}

impl LibraryView {
    pub fn busy(&self) -> bool {
        self.loading.is_some() || self.ranking.is_some()
    }

    pub fn cancel_all(&mut self) {
        if let Some(l) = self.loading.take() {
            l.task.cancel();
        }
        if let Some(r) = self.ranking.take() {
            r.cancel();
        }
    }

    /// Read every CIF of `dir` (and its sub-folders) in the background
    /// into `lib`; `quiet`: a session's library (not an undo step).
    pub fn load(
        &mut self,
        lib: &mut Library,
        dir: PathBuf,
        quiet: bool,
        tasks: &Tasks,
        ctx: Option<egui::Context>,
    ) {
        self.cancel_all();
        lib.quiet_load = quiet;
        let task = Task::spawn(tasks, "reading CIFs", ctx, move |task| {
            read_library(dir, task)
        });
        self.loading = Some(LibraryLoad { task });
    }

    /// Rank the library against a pattern in the background.
    pub fn rank(
        &mut self,
        lib: &Library,
        e: &XrdEntry,
        tasks: &Tasks,
        ctx: Option<egui::Context>,
    ) -> Result<(), String> {
        if lib.candidates.is_empty() {
            return Err("load a candidate library first".into());
        }
        let wl = e
            .wavelength()?
            .ok_or_else(|| format!("{}: give the wavelength first", e.name))?;
        let (x, y) = (e.pattern.two_theta_deg.clone(), e.pattern.intensity.clone());
        let cands = lib.candidates.clone();
        let max_scale = lib.max_scale;
        let name = e.name.clone();
        self.ranking = Some(Task::spawn(
            tasks,
            format!("ranking {} candidates", cands.len()),
            ctx,
            move |_| {
                let prep = crate::xrd::identify::prepare(&x, &y, wl)
                    .map_err(|err| format!("{name}: {err}"))?;
                Ok(Ranking {
                    pattern: name,
                    rows: crate::xrd::identify::rank(&prep, &cands, max_scale),
                })
            },
        ));
        Ok(())
    }

    /// Take what the tasks answered into the store's `lib`.
    pub fn poll(&mut self, lib: &mut Library, log: &mut Log) {
        if let Some(l) = &self.loading {
            match l.task.poll() {
                TaskPoll::Running => {}
                TaskPoll::Done(r) => {
                    let cancelled = l.task.is_cancelling();
                    self.loading = None;
                    let quiet = std::mem::take(&mut lib.quiet_load);
                    match r {
                        _ if cancelled => log.warn("reading the candidate library cancelled"),
                        Ok(read) => {
                            log.info(format!(
                                "candidate library {}: {} structures ({} unreadable)",
                                read.dir.display(),
                                read.candidates.len(),
                                read.unreadable.len()
                            ));
                            for e in read.unreadable.iter().take(5) {
                                log.warn(format!("candidate library: {e}"));
                            }
                            lib.id = crate::gui::store::new_id();
                            lib.dir = Some(read.dir);
                            lib.candidates = Arc::new(read.candidates);
                            lib.files = read.files;
                            lib.unreadable = read.unreadable;
                            lib.ranked = lib.restored.take();
                            lib.rev = crate::gui::workspace::next_rev();
                            if quiet {
                                lib.quiet_rev = lib.rev;
                            }
                        }
                        Err(e) => log.error(format!("candidate library: {e}")),
                    }
                }
                TaskPoll::Lost => {
                    log.error(l.task.status().lost_text("reading the candidate library"));
                    self.loading = None;
                    lib.quiet_load = false;
                }
            }
        }
        match take_answer(&mut self.ranking, "ranking", log) {
            Some(Ok(rk)) => {
                if let Some(best) = rk.rows.first() {
                    log.info(format!(
                        "ranked {} candidates for {}: best {} (score {:.3}, scale {:.4})",
                        rk.rows.len(),
                        rk.pattern,
                        best.id,
                        best.score,
                        best.scale
                    ));
                }
                lib.ranked = Some(rk);
                lib.rev = crate::gui::workspace::next_rev();
            }
            Some(Err(e)) => log.error(format!("ranking: {e}")),
            None => {}
        }
    }

    /// Whether a candidate matches the search box (id or formula).
    pub fn matches(&self, id: &str, formula: &str) -> bool {
        let q = self.search.trim().to_lowercase();
        q.is_empty() || id.to_lowercase().contains(&q) || formula.to_lowercase().contains(&q)
    }
}

fn read_library(dir: PathBuf, task: &TaskStatus) -> Result<LoadedLibrary, String> {
    use rayon::prelude::*;
    let files = candidate_files(&dir).map_err(|e| e.to_string())?;
    task.set_total(files.len());
    let res: Vec<(PathBuf, Option<Result<Candidate, String>>)> = files
        .into_par_iter()
        .map(|f| {
            if task.is_cancelling() {
                return (f, None);
            }
            let c = load_candidate(&f).map_err(|e| e.to_string());
            task.step();
            (f, Some(c))
        })
        .collect();
    let mut out = LoadedLibrary {
        dir,
        candidates: Vec::new(),
        files: HashMap::new(),
        unreadable: Vec::new(),
    };
    for (f, r) in res {
        match r {
            Some(Ok(c)) => {
                out.files.insert(c.id.clone(), f);
                out.candidates.push(c);
            }
            Some(Err(e)) => out.unreadable.push(e),
            None => {}
        }
    }
    Ok(out)
}
