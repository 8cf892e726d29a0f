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
        pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
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
