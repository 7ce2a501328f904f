//! One task registry. Every piece of background work — processing spectra,
//! opening files or a session, align/rebin, fits, libraries, file dialogs —
//! is a [`Task`]: a title, progress (done of total), a cancel flag and a
//! typed answer arriving over a channel. Whoever started it keeps the
//! `Task` and polls its answer; the app's [`Tasks`] registry sees every
//! task's [`TaskStatus`], so `busy()`, the repaint logic and the log bar's
//! progress/Cancel widget iterate one list instead of naming each job.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::log::Log;

/// What the registry and the worker share about one task.
#[derive(Debug)]
pub struct TaskStatus {
    pub title: String,
    pub started: Instant,
    /// The log bar offers Cancel (some work cannot stop half-way).
    pub cancellable: bool,
    cancel: AtomicBool,
    done: AtomicUsize,
    total: AtomicUsize,
    /// The owner dropped the task (answer taken or abandoned).
    ended: AtomicBool,
    /// What the worker's panic said, when it panicked ([`guard`]).
    panic: Mutex<Option<String>>,
    /// The worker runs under [`start_worker`] and has not returned: a
    /// closed channel then means a panic still unwinding, not yet recorded.
    in_worker: AtomicBool,
}

impl TaskStatus {
    fn new(title: String, total: usize, cancellable: bool) -> Self {
        TaskStatus {
            title,
            started: Instant::now(),
            cancellable,
            cancel: AtomicBool::new(false),
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(total),
            ended: AtomicBool::new(false),
            panic: Mutex::new(None),
            in_worker: AtomicBool::new(false),
        }
    }
    /// The worker's panic message, if it panicked.
    pub fn panic_message(&self) -> Option<String> {
        self.panic
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    /// What the log says of a task whose worker ended without an answer:
    /// `what` stopped, and the panic's message when there was one.
    pub fn lost_text(&self, what: &str) -> String {
        match self.panic_message() {
            Some(m) => format!("{what} stopped: internal error: {m} (please report)"),
            None => format!("{what} stopped unexpectedly (please report)"),
        }
    }
    /// The fraction done, or None when the amount of work is not known
    /// (total 0): then a spinner stands for it, never a full or empty bar.
    pub fn progress(&self) -> Option<f32> {
        let (done, total) = (self.done(), self.total());
        (total > 0).then(|| (done.min(total) as f32) / total as f32)
    }
    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }
    pub fn set_total(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
    }
    /// `done` of `total` (work that comes in phases, each counting from 0).
    pub fn set_progress(&self, done: usize, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }
    /// One more unit of work done.
    pub fn step(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    /// The flag core functions that can stop early watch.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }
    fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }
}

/// Every task the app has running, for the widgets and checks that must
/// see all of them. Cloning gives another handle on the same registry.
#[derive(Debug, Clone, Default)]
pub struct Tasks(Arc<Mutex<Vec<Arc<TaskStatus>>>>);

impl Tasks {
    fn register(&self, status: Arc<TaskStatus>) {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|s| !s.has_ended());
        list.push(status);
    }
    /// The tasks whose owner still holds them, oldest first.
    pub fn running(&self) -> Vec<Arc<TaskStatus>> {
        let mut list = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|s| !s.has_ended());
        list.clone()
    }
    pub fn busy(&self) -> bool {
        !self.running().is_empty()
    }
}

/// One task, owned by whoever started it: its status (shared with the
/// registry and the worker) and the channel its messages arrive on (one
/// answer, or a stream of partial results).
#[derive(Debug)]
pub struct Task<M> {
    status: Arc<TaskStatus>,
    rx: Receiver<M>,
}

/// What [`Task::poll`] found.
pub enum TaskPoll<M> {
    Running,
    Done(M),
    /// The worker ended without a (further) message: it finished sending,
    /// or it panicked.
    Lost,
}

impl<M> Task<M> {
    /// A task whose worker the caller starts with the returned sender and
    /// status (for work that reports several messages).
    pub fn new(
        tasks: &Tasks,
        title: impl Into<String>,
        total: usize,
        cancellable: bool,
    ) -> (Self, Sender<M>, Arc<TaskStatus>) {
        let (tx, rx) = channel();
        let status = Arc::new(TaskStatus::new(title.into(), total, cancellable));
        tasks.register(status.clone());
        let worker = status.clone();
        (Task { status, rx }, tx, worker)
    }
    pub fn status(&self) -> &TaskStatus {
        &self.status
    }
    pub fn title(&self) -> &str {
        &self.status.title
    }
    pub fn started(&self) -> Instant {
        self.status.started
    }
    pub fn cancel(&self) {
        self.status.cancel();
    }
    pub fn is_cancelling(&self) -> bool {
        self.status.is_cancelling()
    }
    pub fn done(&self) -> usize {
        self.status.done()
    }
    pub fn total(&self) -> usize {
        self.status.total()
    }
    pub fn progress(&self) -> Option<f32> {
        self.status.progress()
    }
    /// The next message, if one has come.
    pub fn poll(&self) -> TaskPoll<M> {
        match self.rx.try_recv() {
            Ok(m) => TaskPoll::Done(m),
            Err(TryRecvError::Empty) => TaskPoll::Running,
            // The sender is dropped while a panic unwinds, before [`guard`]
            // records it: wait for the worker to return so Lost carries it.
            Err(TryRecvError::Disconnected) if self.status.in_worker.load(Ordering::Acquire) => {
                TaskPoll::Running
            }
            Err(TryRecvError::Disconnected) => TaskPoll::Lost,
        }
    }
}

impl<T: Send + 'static> Task<T> {
    /// Run `work` on its own thread; its one answer is the task's result.
    /// The work gets the status to watch for Cancel and count progress.
    pub fn spawn(
        tasks: &Tasks,
        title: impl Into<String>,
        ctx: Option<egui::Context>,
        work: impl FnOnce(&TaskStatus) -> T + Send + 'static,
    ) -> Self {
        Self::spawn_with(tasks, title, true, ctx, work)
    }

    /// [`Self::spawn`] for work that cannot be cancelled half-way.
    pub fn spawn_uncancellable(
        tasks: &Tasks,
        title: impl Into<String>,
        ctx: Option<egui::Context>,
        work: impl FnOnce(&TaskStatus) -> T + Send + 'static,
    ) -> Self {
        Self::spawn_with(tasks, title, false, ctx, work)
    }

    fn spawn_with(
        tasks: &Tasks,
        title: impl Into<String>,
        cancellable: bool,
        ctx: Option<egui::Context>,
        work: impl FnOnce(&TaskStatus) -> T + Send + 'static,
    ) -> Self {
        let (task, tx, status) = Task::new(tasks, title, 0, cancellable);
        start_worker(status, move |status| {
            let out = work(status);
            // A closed channel means nobody waits for the answer any more.
            let _ = tx.send(out);
            if let Some(ctx) = &ctx {
                ctx.request_repaint();
            }
        });
        task
    }
}

/// The text of a panic's payload (`panic!` with a literal or a format).
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Run `work` under the app's one guard against panics in background work.
/// The core does not panic on any input (the fuzz targets in `fuzz/` and
/// `tests/malformed.rs` hold it to that), so individual core calls are not
/// wrapped; a panic that still happens is a bug, and ends only this task:
/// its message is kept in `status` for the log and None is returned.
pub fn guard<T>(status: &TaskStatus, work: impl FnOnce() -> T) -> Option<T> {
    match std::panic::catch_unwind(AssertUnwindSafe(work)) {
        Ok(v) => Some(v),
        Err(payload) => {
            *status.panic.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(panic_text(payload.as_ref()));
            None
        }
    }
}

/// Start a task's worker thread under [`guard`]: every background thread of
/// the app starts here.
pub fn start_worker(status: Arc<TaskStatus>, work: impl FnOnce(&TaskStatus) + Send + 'static) {
    status.in_worker.store(true, Ordering::Release);
    std::thread::spawn(move || {
        guard(&status, || work(&status));
        status.in_worker.store(false, Ordering::Release);
    });
}

impl<M> Drop for Task<M> {
    fn drop(&mut self) {
        // Whatever the worker still does, nobody will apply it: stop it
        // where it can stop, and leave the registry.
        self.status.cancel();
        self.status.ended.store(true, Ordering::Relaxed);
    }
}

/// The answer of the task in `slot` once it has ended (the slot is then
/// emptied); None while it runs. A cancelled task's answer is dropped and
/// the log says "`what` cancelled"; a task whose thread died says "`what`
/// stopped unexpectedly".
pub fn take_answer<T>(slot: &mut Option<Task<T>>, what: &str, log: &mut Log) -> Option<T> {
    let task = slot.as_ref()?;
    let answer = match task.poll() {
        TaskPoll::Running => return None,
        TaskPoll::Done(_) if task.is_cancelling() => {
            log.warn(format!("{what} cancelled"));
            None
        }
        TaskPoll::Done(v) => Some(v),
        TaskPoll::Lost => {
            log.error(task.status().lost_text(what));
            None
        }
    };
    *slot = None;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_unknown_at_total_zero() {
        let s = TaskStatus::new("t".into(), 0, true);
        assert_eq!(s.progress(), None);
        s.set_total(4);
        s.step();
        assert_eq!(s.progress(), Some(0.25));
    }

    #[test]
    fn registry_forgets_dropped_tasks() {
        let tasks = Tasks::default();
        let (t, _tx, _s) = Task::<()>::new(&tasks, "a", 1, true);
        assert!(tasks.busy());
        drop(t);
        assert!(!tasks.busy());
    }

    /// A worker that panics ends its task only; the log names the panic.
    #[test]
    fn a_panicking_worker_is_lost_with_its_message() {
        let tasks = Tasks::default();
        let mut slot = Some(Task::spawn(&tasks, "sum", None, |_| -> u32 {
            let v: Vec<u32> = Vec::new();
            v.iter().sum::<u32>() + panic_on_empty(&v)
        }));
        let mut log = Log::default();
        let t0 = Instant::now();
        while slot.is_some() {
            if take_answer(&mut slot, "the sum", &mut log).is_some() {
                panic!("a panicked worker gave an answer");
            }
            assert!(t0.elapsed().as_secs() < 10, "the task never ended");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let text = log.errors().last().unwrap_or_default().to_string();
        assert_eq!(
            text,
            "the sum stopped: internal error: no values (please report)"
        );
        // A worker that returns is not a panic.
        let s = TaskStatus::new("t".into(), 0, true);
        assert_eq!(guard(&s, || 3), Some(3));
        assert_eq!(s.panic_message(), None);
        assert_eq!(s.lost_text("x"), "x stopped unexpectedly (please report)");
    }

    fn panic_on_empty(v: &[u32]) -> u32 {
        if v.is_empty() {
            panic!("no values");
        }
        0
    }
}
