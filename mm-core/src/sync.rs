//! Synchronisation shim: one name for each primitive, two implementations.
//!
//! Everything in mm-core that can race takes its atomics, mutexes and threads
//! from here rather than from `std` directly.  Under `--cfg loom` the names
//! resolve to loom's instrumented versions, so the very same RCU and lock code
//! that runs in the threaded stress tests is what loom explores exhaustively;
//! otherwise they are the plain `std` types and cost nothing extra.
//!
//! Two loom restrictions shape the rest of the crate:
//! * loom atomics have no `const fn new`, so nothing in mm-core may rely on
//!   constructing a primitive in a `static` or `const` context;
//! * loom treats SeqCst loads and stores as AcqRel, so code that needs
//!   sequential consistency uses explicit [`fence`]`(SeqCst)` instead.
//!
//! `cell` is re-exported as-is: `loom::cell::UnsafeCell` has the closure-based
//! `with`/`with_mut` API while `std::cell::UnsafeCell` has `get`, so code that
//! wants to be loom-checked must stick to the types whose APIs agree (`Cell`
//! via std is not modelled at all; prefer atomics).

cfg_if::cfg_if! {
    if #[cfg(loom)] {
        pub use loom::sync::{Arc, Condvar, MutexGuard};
        pub use loom_mutex::Mutex;
        pub use loom::sync::atomic::{
            fence, AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
        pub use loom::{cell, thread};
        // Thread-local storage must be per *loom* thread: loom runs all of its
        // threads as coroutines on one OS thread, so std's would be shared.
        pub(crate) use loom::thread_local as model_thread_local;
    } else {
        pub use std::sync::{Arc, Condvar, Mutex, MutexGuard};
        pub use std::sync::atomic::{
            fence, AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
        pub use std::{cell, thread};
        pub(crate) use std::thread_local as model_thread_local;
    }
}

/// One step of a spin-wait loop: the model of `cpu_relax()`.
///
/// Every busy-wait in mm-core (spinlock acquisition, rw_semaphore waits,
/// synchronize_rcu waiting for readers) must call this on each iteration.
/// Under loom it is `yield_now()`, which tells the model checker that this
/// thread cannot make progress until another one runs: without it loom would
/// explore the spin loop forever.  Natively it is the CPU's spin hint plus an
/// OS yield, so that a waiter on an oversubscribed test machine hands its core
/// to the lock holder instead of burning its whole time slice.
///
/// Never fails.
pub fn cpu_relax() {
    cfg_if::cfg_if! {
        if #[cfg(loom)] {
            loom::thread::yield_now();
        } else {
            std::hint::spin_loop();
            std::thread::yield_now();
        }
    }
}

/// `thread_local!` with a const initialiser where that is possible: std
/// wants `const { .. }` for destructor-free values (no lazy-init check, and
/// clippy insists), while loom's macro only accepts a plain expression.
macro_rules! model_thread_local_const {
    ($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;) => {
        #[cfg(loom)]
        loom::thread_local! { $(#[$attr])* static $name: $t = $init; }
        #[cfg(not(loom))]
        std::thread_local! { $(#[$attr])* static $name: $t = const { $init }; }
    };
}
pub(crate) use model_thread_local_const;

/// Source of thread tokens.  Deliberately a plain std atomic even under loom:
/// it only hands out distinct numbers, never orders memory, so modelling it
/// would only add interleavings.  Starts at 1 so that 0 can mean "nobody".
static NEXT_THREAD_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

model_thread_local_const! {
    /// This thread's token, 0 until first asked for.  A `Cell<u64>` has no
    /// destructor, so (with std) it stays readable even while other
    /// thread-locals are being torn down.
    static THREAD_TOKEN: std::cell::Cell<u64> = std::cell::Cell::new(0);
}

/// A unique, non-zero identifier for the calling thread.
///
/// Locks record their holder as this token (0 meaning "free") so that a
/// thread re-taking a lock it already holds — the arm `adjust_pte()` bug of
/// taking the same ptl twice — is reported as an error instead of hanging;
/// RCU uses it to find the calling thread's reader slot.  Tokens are never
/// reused within a process (a 64-bit counter does not wrap in practice), so a
/// stale token left in a lock word can never be mistaken for a live thread.
///
/// Never fails and never returns 0.  Should the thread-local be unavailable
/// (only possible under loom, during thread teardown) a fresh token is
/// returned, which behaves like "some other thread".
pub fn current_thread_token() -> u64 {
    THREAD_TOKEN
        .try_with(|t| {
            let v = t.get();
            if v != 0 {
                v
            } else {
                let v = NEXT_THREAD_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                t.set(v);
                v
            }
        })
        .unwrap_or_else(|_| NEXT_THREAD_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Lock a [`Mutex`], ignoring poisoning.
///
/// mm-core's internal mutexes protect bookkeeping that is always left
/// consistent before any user code (an RCU callback, say) can run, so a
/// panic elsewhere while the mutex was held cannot leave it half-updated;
/// propagating the poison would only turn one test failure into many.
///
/// Never fails.
pub fn lock_unpoisoned<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(loom)]
mod loom_mutex {
    /// `loom::sync::Mutex` with the `Debug` that `std::sync::Mutex` has (and
    /// loom's lacks), so that types holding a [`Mutex`](super::Mutex) can
    /// keep `#[derive(Debug)]` under `--cfg loom`.  The `Debug` output does
    /// not look inside: locking would be a loom operation.
    #[derive(Default)]
    pub struct Mutex<T: ?Sized>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        /// `Mutex::new`.
        pub fn new(t: T) -> Self {
            Mutex(loom::sync::Mutex::new(t))
        }

        /// `Mutex::into_inner`.
        ///
        /// # Errors
        /// Never (loom mutexes are not poisoned); the `LockResult` keeps
        /// std's signature.
        pub fn into_inner(self) -> std::sync::LockResult<T> {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> Mutex<T> {
        /// `Mutex::lock`.
        ///
        /// # Errors
        /// Never (see [`Mutex::into_inner`]).
        pub fn lock(&self) -> std::sync::LockResult<loom::sync::MutexGuard<'_, T>> {
            self.0.lock()
        }

        /// `Mutex::try_lock`.
        ///
        /// # Errors
        /// `WouldBlock` when another thread holds the lock.
        pub fn try_lock(&self) -> std::sync::TryLockResult<loom::sync::MutexGuard<'_, T>> {
            self.0.try_lock()
        }
    }

    impl<T: ?Sized> std::fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Mutex { .. }")
        }
    }
}

/// Running loom models of mm-core code: one harness for every crate's
/// `tests/loom_*.rs`, so that all models share the preemption bound, the
/// branch budget, the failure report and the replay procedure.
///
/// # Bounds
///
/// * `LOOM_MAX_PREEMPTIONS` (default [`model::DEFAULT_PREEMPTIONS`] = 2):
///   how many times a thread may be preempted while it could have gone on.
///   CI runs the default; a deeper search is `LOOM_MAX_PREEMPTIONS=3` (see
///   the README's loom section for the measured times).
/// * `LOOM_MAX_BRANCHES` (default [`model::DEFAULT_MAX_BRANCHES`]): the
///   number of scheduling and load decisions one execution may record.  The
///   models run real allocation code that zeroes and poisons whole frames
///   word by word, every word a loom atomic, so loom's own default (1000)
///   is far too small.
/// * `LOOM_MAX_DURATION` / `LOOM_MAX_PERMUTATIONS` stop a search early
///   (loom's own variables; a model stopped early passes unchecked).
///
/// # Keeping models small
///
/// loom counts each model thread's operations in a 16-bit clock: a thread
/// doing more than 65535 loom operations in one execution overflows it
/// (the workspace builds loom with `overflow-checks` so that this panics
/// instead of silently corrupting happens-before).  Every word of
/// simulated memory is a loom atomic, so models use a few frames, and
/// [`crate::phys::PhysMem`] does not zero never-used frames under loom.
/// Spin-waits go through [`cpu_relax`] (a loom yield).  At most 4 threads
/// besides the model's closure (loom's `MAX_THREADS` is 5).
///
/// # A failing model
///
/// A search runs without checkpoints (they cost a file write per
/// execution).  When an execution fails, the search is run again up to that
/// execution with a loom checkpoint (`loom`'s `checkpoint` feature) written
/// before every execution, so the file (`<CARGO_TARGET_TMPDIR>/loom/
/// <model>.json`) holds exactly the failing schedule; loom's search order
/// is deterministic, and the harness checks that the same execution fails
/// the same way.  The failure report ([`model::Failure`]) prints the panic
/// message, the schedule as runs of operations per thread, the checkpoint
/// file and the command that replays it: the same test with
/// `LOOM_CHECKPOINT_FILE` pointing at the file, which makes loom start from
/// that schedule, so the first execution is the failing one (with
/// `LOOM_LOG=trace LOOM_LOCATION=1 ... -- --nocapture`, loom's
/// step-by-step trace with source locations).  `LOOM_CHECKPOINT_FILE` is
/// only used by the model whose name is the file's stem.  A model that is
/// expected to fail ([`model::Model::check_fails`]) also replays its
/// checkpoint once itself and checks that it fails again the same way.
#[cfg(loom)]
pub mod model {
    use std::cell::RefCell;
    use std::fmt;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering as StdOrdering};
    use std::time::{Duration, Instant};

    /// Preemption bound when `LOOM_MAX_PREEMPTIONS` is not set.
    pub const DEFAULT_PREEMPTIONS: usize = 2;

    /// Branch budget per execution when `LOOM_MAX_BRANCHES` is not set.
    pub const DEFAULT_MAX_BRANCHES: usize = 300_000;

    std::thread_local! {
        /// The message of the last panic on this OS thread (loom runs all
        /// of a model's threads on the test's OS thread).
        static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
        /// The machine whose event log a failing execution reports
        /// ([`trace_machine`]).
        static TRACED: RefCell<Option<std::sync::Weak<crate::Machine>>> =
            const { RefCell::new(None) };
    }

    /// Run RCU until no callback is pending, yielding while a reader holds
    /// the grace period up: the deterministic RCU's grace-period kthread,
    /// as a model thread runs it.
    ///
    /// # Panics
    /// On an RCU error other than readers being active (a model failure).
    pub fn rcu_drain(m: &crate::Machine) {
        loop {
            match m.rcu.rcu_barrier() {
                Ok(()) => return,
                Err(crate::rcu::RcuError::ReadersActive { .. }) => super::thread::yield_now(),
                Err(e) => panic!("rcu_barrier: {e}"),
            }
        }
    }

    /// Record `m`'s lifecycle events ([`crate::event`]) in this execution,
    /// and append them, in order, to the failure message if the execution
    /// fails: the schedule in the model's own terms (which table was
    /// mapped, retracted, deferred, freed, by which path, in which order).
    /// Call at the start of each execution, from the model's closure.
    pub fn trace_machine(m: &std::sync::Arc<crate::Machine>) {
        m.events().enable(true);
        let _ = TRACED.try_with(|t| *t.borrow_mut() = Some(std::sync::Arc::downgrade(m)));
    }

    /// The traced machine's events, if it is still alive (the failing
    /// execution is still on its stack when the panic hook runs).
    fn traced_events() -> Option<String> {
        let m = TRACED.try_with(|t| t.borrow().as_ref()?.upgrade()).ok()??;
        let events = m.events().all();
        let mut out = String::from("\nevents of the failing execution, in order:");
        for (i, e) in events.iter().enumerate() {
            out.push_str(&format!("\n  {:>3}. {e}", i + 1));
        }
        Some(out)
    }

    /// Install (once per process) a panic hook that remembers each panic's
    /// message for [`Model`], then defers to the previous hook.
    fn install_panic_hook() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let prev = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let msg = payload_message(info.payload()).unwrap_or_else(|| info.to_string());
                let at = info
                    .location()
                    .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                    .unwrap_or_default();
                let events = traced_events().unwrap_or_default();
                let _ =
                    LAST_PANIC.try_with(|p| *p.borrow_mut() = Some(format!("{msg}{at}{events}")));
                prev(info);
            }));
        });
    }

    fn payload_message(p: &(dyn std::any::Any + Send)) -> Option<String> {
        p.downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
    }

    /// What a completed search explored.
    #[derive(Debug, Clone, Copy)]
    pub struct Stats {
        /// Executions (interleavings) run.
        pub executions: usize,
        /// Wall time of the search.
        pub elapsed: Duration,
        /// The preemption bound used.
        pub preemption_bound: Option<usize>,
    }

    /// A failing execution found by loom.
    #[derive(Debug, Clone)]
    pub struct Failure {
        /// The model's name.
        pub model: String,
        /// The panic message (with its source location).
        pub message: String,
        /// Which execution failed (1-based).
        pub execution: usize,
        /// The checkpoint file holding the failing schedule.
        pub checkpoint: PathBuf,
        /// The schedule as runs of loom operations per thread (thread 0 is
        /// the model's main closure, then threads in spawn order).
        pub schedule: String,
        /// The command line that replays the failure.
        pub replay: String,
    }

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(
                f,
                "loom model `{}` failed in execution {}:",
                self.model, self.execution
            )?;
            writeln!(f, "  {}", self.message.replace('\n', "\n  "))?;
            writeln!(
                f,
                "  schedule (t0 = the model's closure, t1.. = its threads in spawn order; \
                 x = loom operations): {}",
                self.schedule
            )?;
            writeln!(f, "  checkpoint: {}", self.checkpoint.display())?;
            write!(f, "  replay: {}", self.replay)
        }
    }

    /// One loom model: a name (the checkpoint file's stem), where its
    /// checkpoint goes, and how to re-run it.
    #[derive(Debug, Clone)]
    pub struct Model {
        name: String,
        dir: PathBuf,
        package: String,
        test_target: String,
    }

    impl Model {
        /// A model called `name` (unique within the workspace), keeping its
        /// checkpoint in `<dir>/loom/` (tests pass
        /// `env!("CARGO_TARGET_TMPDIR")`), run as test target `test_target`
        /// of package `package` (for the replay command).
        pub fn new(name: &str, dir: &str, package: &str, test_target: &str) -> Model {
            Model {
                name: name.to_string(),
                dir: PathBuf::from(dir).join("loom"),
                package: package.to_string(),
                test_target: test_target.to_string(),
            }
        }

        /// `LOOM_CHECKPOINT_FILE`, when it names this model's file: a replay.
        fn replay_file(&self) -> Option<PathBuf> {
            let f = std::env::var_os("LOOM_CHECKPOINT_FILE").map(PathBuf::from)?;
            (f.file_stem().and_then(|s| s.to_str()) == Some(self.name.as_str())).then_some(f)
        }

        /// A builder with the module's defaults; with a checkpoint file, a
        /// checkpoint is written before every execution (and the file, if
        /// it exists, is where the search starts).
        fn builder(&self, checkpoint: Option<&Path>) -> loom::model::Builder {
            let mut b = loom::model::Builder::new();
            if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
                b.preemption_bound = Some(DEFAULT_PREEMPTIONS);
            }
            if std::env::var_os("LOOM_MAX_BRANCHES").is_none() {
                b.max_branches = DEFAULT_MAX_BRANCHES;
            }
            b.checkpoint_file = checkpoint.map(Path::to_path_buf);
            // Every execution: the checkpoint then holds the schedule of the
            // one that fails, and loom's early stops (max_permutations,
            // max_duration), which it tests at checkpoint intervals only,
            // are exact.  Without a file nothing is written.
            b.checkpoint_interval = 1;
            b
        }

        fn replay_command(&self, checkpoint: &Path) -> String {
            let test = std::thread::current()
                .name()
                .map(str::to_string)
                .unwrap_or_else(|| "<test name>".into());
            format!(
                "LOOM_CHECKPOINT_FILE={} LOOM_LOG=trace LOOM_LOCATION=1 RUSTFLAGS=\"--cfg loom\" \
                 CARGO_TARGET_DIR=target/loom cargo test -p {} --release --no-default-features \
                 --test {} -- --exact {} --nocapture",
                checkpoint.display(),
                self.package,
                self.test_target,
                test
            )
        }

        /// Run `b.check(f)`, counting executions; `Err` with the panic
        /// message and the failing execution's number if one panicked.
        fn search<F>(&self, b: &loom::model::Builder, f: F) -> Result<Stats, (String, usize)>
        where
            F: Fn() + Sync + Send + 'static,
        {
            install_panic_hook();
            let count = std::sync::Arc::new(AtomicUsize::new(0));
            let c = count.clone();
            let start = Instant::now();
            let _ = LAST_PANIC.try_with(|p| p.borrow_mut().take());
            let _ = TRACED.try_with(|t| t.borrow_mut().take());
            let run = || {
                b.check(move || {
                    c.fetch_add(1, StdOrdering::Relaxed);
                    f()
                })
            };
            let r = if std::env::var_os("LOOM_LOG").is_some() {
                let subscriber = tracing_subscriber::fmt::Subscriber::builder()
                    .with_env_filter(tracing_subscriber::EnvFilter::from_env("LOOM_LOG"))
                    .with_test_writer()
                    .without_time()
                    .finish();
                tracing::subscriber::with_default(subscriber, || {
                    catch_unwind(AssertUnwindSafe(run))
                })
            } else {
                catch_unwind(AssertUnwindSafe(run))
            };
            let executions = count.load(StdOrdering::Relaxed);
            match r {
                Ok(()) => Ok(Stats {
                    executions,
                    elapsed: start.elapsed(),
                    preemption_bound: b.preemption_bound,
                }),
                Err(payload) => {
                    let msg = LAST_PANIC
                        .try_with(|p| p.borrow_mut().take())
                        .ok()
                        .flatten()
                        .or_else(|| payload_message(payload.as_ref()))
                        .unwrap_or_else(|| "<non-string panic payload>".into());
                    Err((msg, executions))
                }
            }
        }

        /// Search `f`: from `LOOM_CHECKPOINT_FILE` when it names this model
        /// (a replay), else from the start without checkpoints (they cost a
        /// file write per execution).  A failure found without checkpoints
        /// is searched for again up to the same execution with a checkpoint
        /// before every execution, so that the file holds its schedule
        /// (loom's search order is deterministic).
        fn search_and_capture<F>(&self, f: F) -> Result<Stats, Box<Failure>>
        where
            F: Fn() + Sync + Send + Clone + 'static,
        {
            if let Some(file) = self.replay_file() {
                let b = self.builder(Some(&file));
                return self
                    .search(&b, f)
                    .map_err(|(msg, n)| Box::new(self.failure(msg, n, &file)));
            }
            let (msg, n) = match self.search(&self.builder(None), f.clone()) {
                Ok(stats) => return Ok(stats),
                Err(e) => e,
            };
            let file = self.dir.join(format!("{}.json", self.name));
            let _ = std::fs::create_dir_all(&self.dir);
            let _ = std::fs::remove_file(&file);
            let mut b = self.builder(Some(&file));
            // Checked before each execution: n + 1 allows exactly n.
            b.max_permutations = Some(n + 1);
            match self.search(&b, f) {
                Err((again, m)) if again == msg && m == n => {
                    Err(Box::new(self.failure(msg, n, &file)))
                }
                Err((again, m)) => panic!(
                    "loom model `{}`: execution {n} failed with\n  {msg}\nbut the search with \
                     checkpoints failed in execution {m} with\n  {again}\n(is the model \
                     deterministic?)",
                    self.name
                ),
                Ok(_) => panic!(
                    "loom model `{}`: execution {n} failed with\n  {msg}\nbut the search with \
                     checkpoints did not fail (is the model deterministic?)",
                    self.name
                ),
            }
        }

        fn failure(&self, message: String, execution: usize, checkpoint: &Path) -> Failure {
            Failure {
                model: self.name.clone(),
                message,
                execution,
                checkpoint: checkpoint.to_path_buf(),
                schedule: schedule_summary(checkpoint),
                replay: self.replay_command(checkpoint),
            }
        }

        /// Explore every interleaving (within the bounds) of `f` and expect
        /// none to fail.  Prints the executions explored and the time.
        ///
        /// # Panics
        /// When an execution fails: the message is the [`Failure`] report,
        /// with the schedule and the replay command.
        pub fn check<F>(&self, f: F) -> Stats
        where
            F: Fn() + Sync + Send + Clone + 'static,
        {
            match self.search_and_capture(f) {
                Ok(stats) => {
                    eprintln!(
                        "loom model `{}` passed: {} executions in {:.2?} (preemption bound {:?})",
                        self.name, stats.executions, stats.elapsed, stats.preemption_bound
                    );
                    stats
                }
                Err(failure) => panic!("{failure}"),
            }
        }

        /// Explore the interleavings of `f`, a model of a flawed form, and
        /// expect loom to find a failing one.  Prints the [`Failure`]
        /// report, then replays the checkpoint once and checks that the
        /// replay fails with the same message (the schedule really is
        /// replayable).
        ///
        /// # Panics
        /// When no execution fails (the flaw was not found), or the replay
        /// does not reproduce the failure.
        pub fn check_fails<F>(&self, f: F) -> Failure
        where
            F: Fn() + Sync + Send + Clone + 'static,
        {
            let start = Instant::now();
            let failure = match self.search_and_capture(f.clone()) {
                Ok(stats) => panic!(
                    "loom model `{}` must fail, but {} executions (preemption bound {:?}) all \
                     passed",
                    self.name, stats.executions, stats.preemption_bound
                ),
                Err(failure) => *failure,
            };
            eprintln!("{failure}");
            if self.replay_file().is_some() {
                // The user's replay: that run was the replay.
                return failure;
            }
            // Replay from a copy, so the reported file stays as it was.
            let copy = failure.checkpoint.with_extension("replay.json");
            std::fs::copy(&failure.checkpoint, &copy).unwrap_or_else(|e| {
                panic!(
                    "copy the checkpoint {} for replay: {e}",
                    failure.checkpoint.display()
                )
            });
            let mut rb = self.builder(Some(&copy));
            // Checked before each execution: 2 allows exactly the first.
            rb.max_permutations = Some(2);
            match self.search(&rb, f) {
                Ok(_) => panic!(
                    "replaying {} did not reproduce the failure of `{}`",
                    failure.checkpoint.display(),
                    self.name
                ),
                Err((again, _)) => assert_eq!(
                    again,
                    failure.message,
                    "replaying {} failed differently",
                    failure.checkpoint.display()
                ),
            }
            let _ = std::fs::remove_file(&copy);
            eprintln!(
                "loom model `{}` failed as expected (execution {}, {:.2?} with capture and \
                 replay); the replay of {} fails the same way",
                self.name,
                failure.execution,
                start.elapsed(),
                failure.checkpoint.display()
            );
            failure
        }
    }

    /// The schedule recorded in a loom checkpoint, as runs of scheduling
    /// decisions per thread (`t0x120 t1x4 t0x7 ...`: thread 0 ran 120
    /// operations, then thread 1 ran 4, ...).  The checkpoint holds the
    /// schedule up to its last decision that differs from loom's default;
    /// after that loom's first choice is taken at every branch.
    pub fn schedule_summary(checkpoint: &Path) -> String {
        let text = match std::fs::read_to_string(checkpoint) {
            Ok(t) => t,
            Err(e) => return format!("<cannot read {}: {e}>", checkpoint.display()),
        };
        let v: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return format!("<cannot parse {}: {e}>", checkpoint.display()),
        };
        let Some(entries) = v
            .get("branches")
            .and_then(|b| b.get("entries"))
            .and_then(|e| e.as_array())
        else {
            return "<no branches in the checkpoint>".into();
        };
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for e in entries {
            let Some(threads) = e
                .get("Schedule")
                .and_then(|s| s.get("threads"))
                .and_then(|t| t.as_array())
            else {
                continue;
            };
            let Some(active) = threads.iter().position(|t| t == "Active") else {
                continue;
            };
            match runs.last_mut() {
                Some((t, n)) if *t == active => *n += 1,
                _ => runs.push((active, 1)),
            }
        }
        let mut s: Vec<String> = runs.iter().map(|(t, n)| format!("t{t}x{n}")).collect();
        s.push("(then loom's default choices)".into());
        s.join(" ")
    }
}
