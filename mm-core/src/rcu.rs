//! RCU with real grace periods.
//!
//! Hugh Dickins' series frees a retracted page table with `pte_free_defer()`
//! = `call_rcu()`, relying on every `pte_offset_map()` walker being inside
//! `rcu_read_lock()`: the table may be detached under a walker, but it stays
//! a valid (empty) table until the walker's `rcu_read_unlock()` and a grace
//! period after that.  To check that argument, this module implements RCU's
//! guarantee exactly, not approximately:
//!
//! * a grace period that starts at time T ends only after every reader that
//!   was inside a read-side critical section at T has left it; readers that
//!   start after T do not hold it up;
//! * a callback queued by `call_rcu()` at time Q runs only after a grace
//!   period that *started* after Q has ended.
//!
//! # How grace periods are detected
//!
//! Each domain ([`Rcu`]) keeps `gp_seq`, the number of grace periods started.
//! Each thread that ever enters a read-side section of a domain gets a
//! *reader slot*, registered with the domain and cached in a thread-local
//! map keyed by domain id; the slot holds the thread's nesting depth and a
//! word that is 0 when the thread is quiescent, or `(epoch << 1) | 1` while
//! it is inside a section that began when `gp_seq` was `epoch`.
//!
//! * outermost `rcu_read_lock()`: `epoch = gp_seq.load(Acquire)`;
//!   `word.store(epoch<<1|1, Release)`; `fence(SeqCst)`;
//! * outermost `rcu_read_unlock()`: `word.store(0, Release)`;
//! * grace period number `g` starts when `gp_seq` becomes `g` (under the
//!   domain mutex); it ends once, after a `fence(SeqCst)`, an Acquire scan of
//!   every registered slot finds none that is active with `epoch < g`.
//!
//! Why that is enough: if the scan reads a slot's unlock store (or any later
//! store, all of which are Release), the reader's whole section happens
//! before the grace period ends.  If the scan misses a section's lock store
//! altogether, the two SeqCst fences (reader's after its lock store,
//! scanner's before its scan) form the store-buffering pattern, so the
//! reader's loads after its fence see everything the updater stored before
//! starting the grace period (e.g. the new pointer).  If the scan reads a
//! section with `epoch >= g`, the reader's Acquire load of `gp_seq` read the
//! store that started grace period `g`, which the updater's unpublish
//! happens-before (via the domain mutex), so again the reader sees the new
//! state.  Slots registered after the scan took its snapshot are covered the
//! same way (registration takes the domain mutex after the `gp_seq` bump).
//! A slot is forgotten only after its thread dropped its cache entry while
//! quiescent, which stores `DEAD` with Release; the grace period that reads
//! `DEAD` (Acquire) is thereby ordered after all of that thread's sections.
//!
//! `tests/loom_rcu.rs` checks this under loom; weakening any one of the
//! orderings above (either fence, any of the Release stores, the scan's
//! Acquire), or not waiting for readers, makes it fail.
//!
//! Callbacks carry the number of the grace period they need (`gp_seq + 1`
//! when queued) and run, in queue order and one at a time per domain, once
//! that grace period has completed.  They never run with a lock of the
//! domain held, so they may call `call_rcu()` again.
//!
//! # Modes
//!
//! * [`RcuMode::Deterministic`]: no background thread.  A grace period ends
//!   only when the test drives it: [`Rcu::end_grace_period`],
//!   [`Rcu::synchronize_rcu`] or [`Rcu::rcu_barrier`].  Callbacks run on the
//!   driving thread.  This is the mode used under loom.
//! * [`RcuMode::Threaded`]: an `rcu_gp` thread completes grace periods by
//!   itself whenever callbacks are waiting for one, and invokes callbacks.
//!   It sleeps on a condvar while nothing is queued, and polls waiting
//!   readers with a short spin, then exponentially longer sleeps (1 µs to
//!   1 ms), so grace periods with short readers take microseconds.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
// Internal reference counting uses std's Arc even under loom: the counts
// order nothing that the model must check, and loom's Arc would report
// thread-local caches that outlive a model iteration as leaks.
use std::sync::Arc;

use crate::sync::{
    cpu_relax, current_thread_token, fence, lock_unpoisoned, model_thread_local_const, AtomicU32,
    AtomicU64, Mutex, MutexGuard, Ordering,
};

/// How an [`Rcu`] domain ends grace periods; fixed at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RcuMode {
    /// Grace periods end only when the caller drives them
    /// ([`Rcu::end_grace_period`], [`Rcu::synchronize_rcu`],
    /// [`Rcu::rcu_barrier`]); callbacks run on the driving thread.  Lets a
    /// test place "the grace period ends" at an exact point of a scenario.
    Deterministic,
    /// A background `rcu_gp` thread ends grace periods and runs callbacks by
    /// itself, as in a running kernel.  Not available under loom, where it
    /// degrades to `Deterministic`.
    Threaded,
}

/// Misuse of RCU, or a grace period that cannot end.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum RcuError {
    /// `rcu_read_unlock()` with no matching `rcu_read_lock()` on this thread
    /// for this domain.
    #[error("rcu_read_unlock() without a matching rcu_read_lock() on this thread")]
    Unbalanced,
    /// `synchronize_rcu()` or `rcu_barrier()` called inside a read-side
    /// critical section: the grace period would wait for the caller itself,
    /// a self-deadlock in Linux.
    #[error(
        "synchronize_rcu()/rcu_barrier() inside an RCU read-side critical section: self-deadlock"
    )]
    SyncInReadSection,
    /// `synchronize_rcu()` or `rcu_barrier()` called from an RCU callback:
    /// callbacks run in softirq context, which must not sleep (and, in
    /// threaded mode, the callback thread would be waiting for itself).
    #[error(
        "synchronize_rcu()/rcu_barrier() from an RCU callback (softirq context must not sleep)"
    )]
    SyncInCallback,
    /// A grace period could not end because `readers` threads that were
    /// inside read-side critical sections when it started still are.  The
    /// grace period stays in progress; a later attempt can finish it.
    #[error("grace period blocked by {readers} pre-existing RCU reader(s)")]
    ReadersActive {
        /// Number of threads whose pre-existing sections block the grace period.
        readers: usize,
    },
    /// Threaded mode: callbacks panicked on the `rcu_gp` thread (where the
    /// panic was caught so that the domain keeps working).  Reported, and
    /// then forgotten, by the next [`Rcu::rcu_barrier`].
    #[error("{panics} RCU callback(s) panicked; first: {message}")]
    CallbackPanicked {
        /// How many callbacks panicked since the last report.
        panics: usize,
        /// The first panic's message.
        message: String,
    },
}

/// An RCU callback: the body of the function passed to `call_rcu()`, with
/// whatever it frees captured inside.
pub type RcuCallback = Box<dyn FnOnce() + Send + 'static>;

/// One thread's read-side state for one domain.
struct ReaderSlot {
    /// Thread token of the owning thread (for the slow path that finds the
    /// slot without thread-local storage).
    token: u64,
    /// Nesting depth.  Written only by the owning thread; atomic only so the
    /// slot can be shared with the scanner.
    depth: AtomicU32,
    /// 0 when quiescent, `(epoch << 1) | 1` inside a section, [`DEAD`]
    /// once the owning thread can no longer use it.
    word: AtomicU64,
}

/// Slot word of a slot whose thread has dropped its thread-local cache
/// (thread exit, or the domain is gone) while quiescent.  Stored with
/// Release, so a grace period that reads it (Acquire) is ordered after all
/// of that thread's sections and may forget the slot.  Bit 0 clear: not a
/// reader.
const DEAD: u64 = 2;

/// A thread-local cache entry; marks its slot [`DEAD`] when dropped.
struct SlotRef(Arc<ReaderSlot>);

impl Drop for SlotRef {
    fn drop(&mut self) {
        // A failed loom model drops its threads' locals while unwinding,
        // after the execution is gone: touching a loom atomic then aborts.
        #[cfg(loom)]
        if std::thread::panicking() {
            return;
        }
        // A thread that exits inside a section (a leaked rcu_read_lock())
        // keeps blocking grace periods, so the bug shows up as
        // ReadersActive instead of being forgotten.
        if self.0.depth.load(Ordering::Relaxed) == 0 {
            self.0.word.store(DEAD, Ordering::Release);
        }
    }
}

impl ReaderSlot {
    fn new(token: u64) -> Self {
        ReaderSlot {
            token,
            depth: AtomicU32::new(0),
            word: AtomicU64::new(0),
        }
    }

    /// Does this slot hold up grace period `g`?
    fn blocks(&self, g: u64) -> bool {
        let w = self.word.load(Ordering::Acquire);
        w & 1 == 1 && (w >> 1) < g
    }
}

struct Pending {
    /// Grace period number that must have completed before this may run.
    need: u64,
    cb: RcuCallback,
}

struct GpState {
    /// Grace periods started (mirrored in `Inner::gp_seq` for readers).
    started: u64,
    /// Grace periods completed; `started - completed` is 0 or 1.
    completed: u64,
    /// Queued callbacks, in queue order (so `need` is non-decreasing).
    callbacks: VecDeque<Pending>,
    /// Callbacks ever queued / ever finished (run, or panicked).
    queued: u64,
    invoked: u64,
    /// Some thread is invoking callbacks (one invoker at a time keeps
    /// invocation in queue order, which `rcu_barrier` relies on).
    invoking: bool,
    /// Registered reader slots.
    readers: Vec<Arc<ReaderSlot>>,
    /// Threaded: the last handle is gone; the `rcu_gp` thread should flush
    /// and exit.
    #[cfg(not(loom))]
    stop: bool,
    /// Threaded: callback panics not yet reported.
    panics: usize,
    first_panic: Option<String>,
}

#[cfg(not(loom))]
struct Wakeups {
    /// Wakes the `rcu_gp` thread: callbacks queued, a grace period
    /// completed elsewhere, the invoker token released, or stop.
    gp_wake: crate::sync::Condvar,
    /// Wakes `rcu_barrier()` waiters when a callback finishes.
    cb_done: crate::sync::Condvar,
    /// Mirror of `GpState::stop` readable without the mutex, so the
    /// `rcu_gp` thread stops waiting for readers that can no longer leave.
    stopping: std::sync::atomic::AtomicBool,
}

struct Inner {
    id: u64,
    mode: RcuMode,
    /// Number of grace periods started.
    gp_seq: AtomicU64,
    state: Mutex<GpState>,
    #[cfg(not(loom))]
    wake: Wakeups,
}

/// Source of domain ids (keys of the thread-local slot cache); never reused.
static NEXT_DOMAIN_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

model_thread_local_const! {
    /// This thread's reader slot for each domain it has read in, by domain id.
    ///
    /// A `BTreeMap`, not a `HashMap`: dropping the map at thread exit drops
    /// each [`SlotRef`], which stores to its slot, and under loom the order
    /// of those stores must be the same in every execution (a `HashMap`'s
    /// order is randomised per map, which loom reports as a model that is
    /// not deterministic once a thread has read in two domains).
    static READER_SLOTS: RefCell<BTreeMap<u64, SlotRef>> = RefCell::new(BTreeMap::new());
}

model_thread_local_const! {
    /// Depth of RCU callback invocations on this thread (softirq context).
    static IN_CALLBACK: Cell<u32> = Cell::new(0);
}

/// Whether the calling thread is running an RCU callback: the model of
/// "in softirq context", where Linux code must not sleep, must not call
/// `synchronize_rcu()` and must not `__mmdrop()` (why s390's v1
/// `pte_free_defer()` needed `mmdrop_async()`).  Page-table free paths can
/// assert on it.
///
/// True for the whole of every callback invocation, in both modes, on
/// whichever thread runs it; false everywhere else.  Never fails.
pub fn in_rcu_callback() -> bool {
    IN_CALLBACK.try_with(|c| c.get() > 0).unwrap_or(false)
}

/// Marks the calling thread as in callback context while alive; restores the
/// previous state on drop (also when the callback panics).
struct CallbackContext;

impl CallbackContext {
    fn enter() -> Self {
        let _ = IN_CALLBACK.try_with(|c| c.set(c.get() + 1));
        CallbackContext
    }
}

impl Drop for CallbackContext {
    fn drop(&mut self) {
        let _ = IN_CALLBACK.try_with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// Bounded spin, then exponentially growing sleeps: how threads wait for
/// readers to leave.  Under loom every step is a `yield_now()`.
struct Backoff(u32);

impl Backoff {
    fn snooze(&mut self) {
        cfg_if::cfg_if! {
            if #[cfg(loom)] {
                cpu_relax();
            } else {
                const SPINS: u32 = 32;
                if self.0 < SPINS {
                    cpu_relax();
                } else {
                    let exp = (self.0 - SPINS).min(10);
                    std::thread::sleep(std::time::Duration::from_micros(1u64 << exp));
                }
            }
        }
        self.0 = self.0.saturating_add(1);
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

impl Inner {
    fn new(mode: RcuMode) -> Self {
        Inner {
            id: NEXT_DOMAIN_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            mode,
            gp_seq: AtomicU64::new(0),
            state: Mutex::new(GpState {
                started: 0,
                completed: 0,
                callbacks: VecDeque::new(),
                queued: 0,
                invoked: 0,
                invoking: false,
                readers: Vec::new(),
                #[cfg(not(loom))]
                stop: false,
                panics: 0,
                first_panic: None,
            }),
            #[cfg(not(loom))]
            wake: Wakeups {
                gp_wake: crate::sync::Condvar::new(),
                cb_done: crate::sync::Condvar::new(),
                stopping: std::sync::atomic::AtomicBool::new(false),
            },
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, GpState> {
        lock_unpoisoned(&self.state)
    }

    /// Wake the `rcu_gp` thread (no-op in deterministic mode).
    fn wake_gp(&self) {
        #[cfg(not(loom))]
        if self.mode == RcuMode::Threaded {
            self.wake.gp_wake.notify_one();
        }
    }

    fn stopping(&self) -> bool {
        cfg_if::cfg_if! {
            if #[cfg(loom)] {
                false
            } else {
                self.wake.stopping.load(std::sync::atomic::Ordering::Relaxed)
            }
        }
    }

    /// Find the calling thread's slot for this domain (creating and
    /// registering it if `create`) and apply `f` to it.  Returns `None` only
    /// if there is no slot and `create` is false.
    fn with_slot<R>(&self, create: bool, f: impl FnOnce(&ReaderSlot) -> R) -> Option<R> {
        let id = self.id;
        let mut f = Some(f);
        let fast = READER_SLOTS.try_with(|m| {
            if let Some(slot) = m.borrow().get(&id) {
                return Some(f.take().map(|f| f(&slot.0)));
            }
            if !create {
                return Some(None);
            }
            let slot = Arc::new(ReaderSlot::new(current_thread_token()));
            self.lock_state().readers.push(Arc::clone(&slot));
            let mut m = m.borrow_mut();
            // Forget slots of domains that no longer exist (only our cache
            // still refers to them).
            m.retain(|_, s| Arc::strong_count(&s.0) > 1);
            let r = f.take().map(|f| f(&slot));
            m.insert(id, SlotRef(slot));
            Some(r)
        });
        match fast {
            Ok(Some(r)) => r,
            // Thread-local storage is gone (thread teardown): find the slot
            // by token in the registry instead.
            Ok(None) | Err(_) => {
                let token = current_thread_token();
                let slot = {
                    let mut st = self.lock_state();
                    // Skip a slot this thread's cache already gave up
                    // (DEAD): it may be forgotten by the next grace period.
                    match st
                        .readers
                        .iter()
                        .find(|s| s.token == token && s.word.load(Ordering::Relaxed) != DEAD)
                    {
                        Some(s) => Arc::clone(s),
                        None if create => {
                            let s = Arc::new(ReaderSlot::new(token));
                            st.readers.push(Arc::clone(&s));
                            s
                        }
                        None => return None,
                    }
                };
                f.take().map(|f| f(&slot))
            }
        }
    }

    /// Drive grace periods until grace period number `target` has completed.
    ///
    /// If `wait`, wait for blocking readers to leave; otherwise report them
    /// as [`RcuError::ReadersActive`] and leave the grace period in progress.
    /// Several threads may drive at once: they scan independently and
    /// completion is idempotent.
    fn drive(&self, target: u64, wait: bool) -> Result<(), RcuError> {
        loop {
            let (g, slots) = {
                let mut st = self.lock_state();
                if st.completed >= target {
                    return Ok(());
                }
                if st.started == st.completed {
                    st.started += 1;
                    // Release: a reader that reads this value (Acquire) sees
                    // everything the updater did before asking for the GP.
                    self.gp_seq.store(st.started, Ordering::Release);
                    // Forget slots whose thread gave them up.  Acquire pairs
                    // with SlotRef::drop's Release: everything the thread did
                    // in its sections happens before this grace period.
                    st.readers
                        .retain(|s| s.word.load(Ordering::Acquire) != DEAD);
                }
                (st.started, st.readers.clone())
            };
            // Pairs with the fence after each reader's lock store (the
            // store-buffering argument in the module docs).
            fence(Ordering::SeqCst);
            let mut blockers: Vec<&Arc<ReaderSlot>> =
                slots.iter().filter(|s| s.blocks(g)).collect();
            let mut backoff = Backoff(0);
            while !blockers.is_empty() {
                if !wait || self.stopping() {
                    return Err(RcuError::ReadersActive {
                        readers: blockers.len(),
                    });
                }
                backoff.snooze();
                blockers.retain(|s| s.blocks(g));
            }
            {
                let mut st = self.lock_state();
                if st.completed < g {
                    st.completed = g;
                }
            }
            self.wake_gp();
        }
    }

    /// Invoke due callbacks, in queue order, unless another thread already
    /// is.  Returns how many this call invoked.  If `catch`, panics are
    /// caught and recorded; otherwise they propagate (after the domain's
    /// bookkeeping is restored).
    fn run_due_callbacks(&self, catch: bool) -> usize {
        {
            let mut st = self.lock_state();
            if st.invoking {
                return 0;
            }
            st.invoking = true;
        }
        // Releases the invoker token if a callback panics through us.
        struct Token<'a>(&'a Inner, bool);
        impl Drop for Token<'_> {
            fn drop(&mut self) {
                if self.1 {
                    self.0.lock_state().invoking = false;
                    self.0.wake_gp();
                }
            }
        }
        let mut token = Token(self, true);
        let mut n = 0;
        loop {
            let cb = {
                let mut st = self.lock_state();
                match st.callbacks.front() {
                    Some(p) if p.need <= st.completed => st.callbacks.pop_front().map(|p| p.cb),
                    _ => {
                        // Decided under the same lock hold that releases the
                        // token, so a grace period completed by another
                        // thread meanwhile cannot strand due callbacks.
                        st.invoking = false;
                        token.1 = false;
                        None
                    }
                }
            };
            let Some(cb) = cb else { break };
            self.invoke(cb, catch);
            n += 1;
        }
        self.wake_gp();
        n
    }

    fn invoke(&self, cb: RcuCallback, catch: bool) {
        // Counts the callback as finished even if it panics, so that
        // rcu_barrier() cannot wait forever for it.
        struct Finished<'a>(&'a Inner);
        impl Drop for Finished<'_> {
            fn drop(&mut self) {
                self.0.lock_state().invoked += 1;
                #[cfg(not(loom))]
                self.0.wake.cb_done.notify_all();
            }
        }
        let _finished = Finished(self);
        let _ctx = CallbackContext::enter();
        if catch {
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(cb)) {
                let msg = panic_message(p.as_ref());
                tracing::error!(target: "rcu", "RCU callback panicked: {msg}");
                let mut st = self.lock_state();
                st.panics += 1;
                st.first_panic.get_or_insert(msg);
            }
        } else {
            cb();
        }
    }

    /// Last handle gone: run every queued callback if grace periods can
    /// still end (the `rcu_barrier()`-on-drop semantics), or drop the rest
    /// unrun if a read-side section was leaked (no thread can leave it any
    /// more, so waiting would hang).  Dropping unrun is always memory-safe
    /// in the model: it is "never freed", not "freed early".
    fn flush_on_teardown(&self) {
        // Callbacks cannot queue more without a handle, but bound the loop
        // anyway.
        for _ in 0..1024 {
            let target = match self.lock_state().callbacks.back() {
                None => return,
                Some(p) => p.need,
            };
            if let Err(e) = self.drive(target, false) {
                let dropped = std::mem::take(&mut self.lock_state().callbacks);
                tracing::warn!(
                    target: "rcu",
                    "RCU domain dropped with {} callback(s) queued and a leaked read-side \
                     section ({e}); dropping them without running them",
                    dropped.len()
                );
                // Dropped outside the lock: closures' drops run user code.
                drop(dropped);
                return;
            }
            self.run_due_callbacks(true);
        }
    }

    /// Body of the `rcu_gp` thread.
    #[cfg(not(loom))]
    fn gp_thread(self: Arc<Self>) {
        loop {
            let target = {
                let mut st = self.lock_state();
                loop {
                    if st.stop {
                        break None;
                    }
                    let due = !st.invoking
                        && st.callbacks.front().is_some_and(|p| p.need <= st.completed);
                    let need_gp = st.callbacks.back().is_some_and(|p| p.need > st.completed);
                    if due || need_gp {
                        break Some(st.callbacks.back().map_or(st.completed, |p| p.need));
                    }
                    st = self
                        .wake
                        .gp_wake
                        .wait(st)
                        .unwrap_or_else(|e| e.into_inner());
                }
            };
            let Some(target) = target else { break };
            self.run_due_callbacks(true);
            // Err only when stopping with a leaked reader; the flush below
            // deals with that.
            let _ = self.drive(target, true);
            self.run_due_callbacks(true);
        }
        self.flush_on_teardown();
        let st = self.lock_state();
        if st.panics > 0 {
            tracing::error!(
                target: "rcu",
                "RCU domain stopped; {} callback panic(s) never reported by rcu_barrier()",
                st.panics
            );
        }
    }
}

/// Owner of a domain's `rcu_gp` thread; dropped with the last [`Rcu`].
struct Handle {
    inner: Arc<Inner>,
    #[cfg(not(loom))]
    gp_thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        #[cfg(not(loom))]
        if let Some(t) = self.gp_thread.take() {
            {
                let mut st = self.inner.lock_state();
                st.stop = true;
                self.inner
                    .wake
                    .stopping
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            self.inner.wake.gp_wake.notify_all();
            // The last handle may be dropped by a callback running on the
            // rcu_gp thread itself (a callback that captured it): joining
            // would wait for ourselves, so just let the thread finish.
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
            return;
        }
        self.inner.flush_on_teardown();
    }
}

/// An RCU domain: the model of the kernel's (single, global) RCU.
///
/// A domain is an object rather than a global so that tests can run in
/// parallel and each can own its grace periods.  Cloning is cheap (an
/// `Arc`); all clones are the same domain.  When the last clone is dropped,
/// every queued callback is run (`rcu_barrier()` semantics), or dropped
/// unrun if a read-side section was leaked, and the `rcu_gp` thread (if any)
/// exits.  A queued callback that captures a clone keeps the domain alive
/// until it runs; in deterministic mode, if nothing drives the domain, that
/// is a leak.
///
/// Read-side state is per thread *and* per domain: a thread inside a
/// section of one domain is not a reader of another.
#[derive(Clone)]
pub struct Rcu {
    handle: Arc<Handle>,
}

impl fmt::Debug for Rcu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner().lock_state();
        f.debug_struct("Rcu")
            .field("mode", &self.inner().mode)
            .field("started", &st.started)
            .field("completed", &st.completed)
            .field("pending_callbacks", &st.callbacks.len())
            .finish()
    }
}

impl Rcu {
    /// Create a domain.
    ///
    /// In [`RcuMode::Threaded`] this spawns the domain's `rcu_gp` thread.
    /// Under loom, and if the thread cannot be spawned (logged as an error),
    /// the domain is deterministic instead; [`Rcu::mode`] reports the mode
    /// actually in force.  Never fails.
    pub fn new(mode: RcuMode) -> Rcu {
        cfg_if::cfg_if! {
            if #[cfg(loom)] {
                let _ = mode;
                let inner = Arc::new(Inner::new(RcuMode::Deterministic));
                Rcu { handle: Arc::new(Handle { inner }) }
            } else {
                if mode == RcuMode::Threaded {
                    let inner = Arc::new(Inner::new(RcuMode::Threaded));
                    let for_thread = Arc::clone(&inner);
                    match std::thread::Builder::new()
                        .name("rcu_gp".into())
                        .spawn(move || for_thread.gp_thread())
                    {
                        Ok(t) => {
                            return Rcu {
                                handle: Arc::new(Handle { inner, gp_thread: Some(t) }),
                            }
                        }
                        Err(e) => tracing::error!(
                            target: "rcu",
                            "cannot spawn rcu_gp thread ({e}); using deterministic RCU"
                        ),
                    }
                }
                let inner = Arc::new(Inner::new(RcuMode::Deterministic));
                Rcu { handle: Arc::new(Handle { inner, gp_thread: None }) }
            }
        }
    }

    fn inner(&self) -> &Inner {
        &self.handle.inner
    }

    /// The mode in force (see [`Rcu::new`] for when it differs from the one
    /// asked for).
    pub fn mode(&self) -> RcuMode {
        self.inner().mode
    }

    /// Enter a read-side critical section: `rcu_read_lock()`.
    ///
    /// Non-lexical, as `pte_offset_map()` takes it and `pte_unmap()` drops
    /// it; pair with [`Rcu::rcu_read_unlock`], or use [`Rcu::read_lock`] for
    /// a scoped guard.  Sections nest per thread; only the outermost one is
    /// visible to grace periods.  Wait-free after the thread's first use of
    /// the domain (which registers a reader slot under the domain mutex).
    /// Never fails.
    pub fn rcu_read_lock(&self) {
        let inner = self.inner();
        inner.with_slot(true, |slot| {
            let d = slot.depth.load(Ordering::Relaxed);
            if d == 0 {
                let epoch = inner.gp_seq.load(Ordering::Acquire);
                // Release: a scanner that reads this (rather than our
                // earlier unlock store) still synchronises with our previous
                // section, since same-thread stores are not a release
                // sequence.
                slot.word.store((epoch << 1) | 1, Ordering::Release);
                // Order the lock store before the section's loads: the
                // reader half of the store-buffering pair.
                fence(Ordering::SeqCst);
            }
            slot.depth.store(d.saturating_add(1), Ordering::Relaxed);
        });
    }

    /// Leave a read-side critical section: `rcu_read_unlock()`.
    ///
    /// Leaving the outermost section releases (Release store) the thread's
    /// hold on grace periods that started while it was inside.
    ///
    /// # Errors
    /// [`RcuError::Unbalanced`] if the calling thread is not inside a
    /// section of this domain; nothing changes.
    pub fn rcu_read_unlock(&self) -> Result<(), RcuError> {
        self.inner()
            .with_slot(false, |slot| {
                let d = slot.depth.load(Ordering::Relaxed);
                if d == 0 {
                    return Err(RcuError::Unbalanced);
                }
                slot.depth.store(d - 1, Ordering::Relaxed);
                if d == 1 {
                    slot.word.store(0, Ordering::Release);
                }
                Ok(())
            })
            .unwrap_or(Err(RcuError::Unbalanced))
    }

    /// Enter a read-side critical section for the guard's lifetime (the
    /// lexical form, for callers that do not need non-lexical release).
    pub fn read_lock(&self) -> RcuReadGuard<'_> {
        self.rcu_read_lock();
        RcuReadGuard {
            rcu: self,
            _not_send: PhantomData,
        }
    }

    /// The calling thread's read-side nesting depth in this domain (0 =
    /// quiescent).  The model of `rcu_read_lock_held()`, for assertions such
    /// as "the table is only dereferenced under RCU".
    pub fn read_depth(&self) -> u32 {
        self.inner()
            .with_slot(false, |slot| slot.depth.load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    /// Number of threads currently inside a read-side section of this
    /// domain (any epoch).  A racy snapshot, for diagnostics and "no reader
    /// leaked" assertions.
    pub fn active_readers(&self) -> usize {
        self.inner()
            .lock_state()
            .readers
            .iter()
            .filter(|s| s.word.load(Ordering::Acquire) & 1 == 1)
            .count()
    }

    /// Queue `cb` to run after a grace period: `call_rcu()`, the mechanism
    /// behind `pte_free_defer()`.
    ///
    /// `cb` runs only after a grace period that starts after this call has
    /// ended, so every reader inside a section now has left it by then.  It
    /// runs with [`in_rcu_callback`] true and no lock of this domain held,
    /// so it may queue further callbacks (a re-queued rcu_head).  It must
    /// not call [`Rcu::synchronize_rcu`] or [`Rcu::rcu_barrier`] (they
    /// return [`RcuError::SyncInCallback`]).  Never fails.
    pub fn call_rcu(&self, cb: RcuCallback) {
        let inner = self.inner();
        {
            let mut st = inner.lock_state();
            let need = st.started + 1;
            st.queued += 1;
            st.callbacks.push_back(Pending { need, cb });
        }
        inner.wake_gp();
    }

    fn check_may_sleep(&self) -> Result<(), RcuError> {
        if in_rcu_callback() {
            return Err(RcuError::SyncInCallback);
        }
        if self.read_depth() > 0 {
            return Err(RcuError::SyncInReadSection);
        }
        Ok(())
    }

    /// Wait for a full grace period: `synchronize_rcu()`.
    ///
    /// On return, every reader that was inside a section when this was
    /// called has left it.  The calling thread drives the grace period
    /// itself (in both modes), waiting for readers on other threads to leave.
    /// Callbacks that this grace period made due are then run on the calling
    /// thread (deterministic) or handed to the `rcu_gp` thread (threaded, so
    /// they may still be running when this returns; use
    /// [`Rcu::rcu_barrier`] to wait for them).
    ///
    /// # Errors
    /// [`RcuError::SyncInReadSection`] if the caller is inside a read-side
    /// section of this domain (a self-deadlock in Linux);
    /// [`RcuError::SyncInCallback`] if called from an RCU callback.
    pub fn synchronize_rcu(&self) -> Result<(), RcuError> {
        self.check_may_sleep()?;
        let inner = self.inner();
        let target = inner.lock_state().started + 1;
        inner.drive(target, true)?;
        if inner.mode == RcuMode::Deterministic {
            inner.run_due_callbacks(false);
        }
        Ok(())
    }

    /// Wait until every callback queued before this call has run:
    /// `rcu_barrier()`.
    ///
    /// Threaded: blocks until the `rcu_gp` thread has invoked them.
    /// Deterministic: ends as many grace periods as needed *without waiting
    /// for readers*, then runs the callbacks on the calling thread.
    /// Callbacks queued by those callbacks are not waited for.
    ///
    /// # Errors
    /// [`RcuError::SyncInReadSection`] / [`RcuError::SyncInCallback`] as for
    /// [`Rcu::synchronize_rcu`]; deterministic only:
    /// [`RcuError::ReadersActive`] if a pre-existing reader keeps a needed
    /// grace period from ending (nothing more has run; call again after the
    /// reader leaves); threaded only: [`RcuError::CallbackPanicked`] if
    /// callbacks panicked on the `rcu_gp` thread since the last report.
    pub fn rcu_barrier(&self) -> Result<(), RcuError> {
        self.check_may_sleep()?;
        let inner = self.inner();
        let (snap, target) = {
            let st = inner.lock_state();
            (
                st.queued,
                st.callbacks.back().map_or(st.completed, |p| p.need),
            )
        };
        match inner.mode {
            RcuMode::Deterministic => {
                inner.drive(target, false)?;
                loop {
                    inner.run_due_callbacks(false);
                    if inner.lock_state().invoked >= snap {
                        return Ok(());
                    }
                    // Another thread holds the invoker token and is running
                    // them; wait for it.
                    cpu_relax();
                }
            }
            RcuMode::Threaded => {
                cfg_if::cfg_if! {
                    if #[cfg(loom)] {
                        let _ = (snap, target);
                        Ok(())
                    } else {
                        inner.wake_gp();
                        let mut st = inner.lock_state();
                        while st.invoked < snap {
                            st = inner.wake.cb_done.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                        if st.panics > 0 {
                            let e = RcuError::CallbackPanicked {
                                panics: st.panics,
                                message: st.first_panic.take().unwrap_or_default(),
                            };
                            st.panics = 0;
                            return Err(e);
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Try to complete the current grace period, starting one if none is in
    /// progress — the deterministic test's "now the grace period ends".
    ///
    /// On success, runs the callbacks now due (deterministic; in threaded
    /// mode they are left to the `rcu_gp` thread) and returns how many this
    /// call ran.  Does not wait for readers, so it may also be called from
    /// inside a read-side section: a section that began after the grace
    /// period started does not block it.
    ///
    /// # Errors
    /// [`RcuError::ReadersActive`] if readers that were inside a section when
    /// the grace period started still are (the calling thread's own
    /// section included).  The grace period stays in progress, so readers
    /// entering after this do not block a later attempt.
    pub fn end_grace_period(&self) -> Result<usize, RcuError> {
        let inner = self.inner();
        let target = {
            let st = inner.lock_state();
            if st.started > st.completed {
                st.started
            } else {
                st.completed + 1
            }
        };
        inner.drive(target, false)?;
        Ok(match inner.mode {
            RcuMode::Deterministic => inner.run_due_callbacks(false),
            RcuMode::Threaded => 0,
        })
    }

    /// Number of callbacks queued and not yet invoked.
    pub fn pending_callbacks(&self) -> usize {
        self.inner().lock_state().callbacks.len()
    }

    /// Number of grace periods completed so far in this domain.
    pub fn completed_grace_periods(&self) -> u64 {
        self.inner().lock_state().completed
    }

    /// Whether a grace period has started and not yet ended (e.g. one that
    /// [`Rcu::end_grace_period`] found blocked).
    pub fn grace_period_in_progress(&self) -> bool {
        let st = self.inner().lock_state();
        st.started > st.completed
    }
}

/// A scoped read-side critical section (see [`Rcu::read_lock`]); leaves it
/// on drop.  `!Send`: a section belongs to the thread that entered it.
#[must_use = "dropping the guard leaves the RCU read-side section immediately"]
pub struct RcuReadGuard<'a> {
    rcu: &'a Rcu,
    _not_send: PhantomData<*const ()>,
}

impl<'a> RcuReadGuard<'a> {
    /// The domain this section belongs to.
    pub fn rcu(&self) -> &'a Rcu {
        self.rcu
    }
}

impl Drop for RcuReadGuard<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.rcu.rcu_read_unlock() {
            // Only possible if the section was already left with an explicit
            // extra rcu_read_unlock(); report rather than panic in drop.
            tracing::warn!(target: "rcu", "RcuReadGuard dropped: {e}");
        }
    }
}

impl fmt::Debug for RcuReadGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuReadGuard").finish()
    }
}
