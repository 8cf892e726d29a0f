//! Loom model of the LKMM "RCU + synchronize + free" litmus test, run
//! against mm-core's own RCU (deterministic mode, loom primitives via
//! mm_core::sync).
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!  cargo test -p mm-core --release --test loom_rcu`
//!
//! The reader may see the old index or the new one, but never an index
//! whose slot has been freed while it is inside its read-side section.
//! Each object also has a `loom::cell::UnsafeCell` that the reader "reads"
//! and the freer "writes" (access tracking only, no dereference, so no
//! `unsafe`): loom then also demands that the free *happens after* the
//! reader's access, which catches missing Release/Acquire pairs that the
//! flag alone cannot (loom does not explore load-buffering executions).
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use mm_core::rcu::{Rcu, RcuMode};

/// Two "objects" and a pointer-like index to the published one.
struct World {
    cur: AtomicUsize,
    freed: [AtomicBool; 2],
    body: [UnsafeCell<u64>; 2],
}

// SAFETY: the `UnsafeCell`s are never dereferenced: `with`/`with_mut` are
// called only to record accesses for loom's causality checker, which then
// reports any pair of accesses not ordered by happens-before.  No data is
// ever shared through them, so sharing `World` between threads is sound.
unsafe impl Sync for World {}

impl World {
    fn new() -> Arc<World> {
        Arc::new(World {
            cur: AtomicUsize::new(0),
            freed: [AtomicBool::new(false), AtomicBool::new(false)],
            body: [UnsafeCell::new(0), UnsafeCell::new(0)],
        })
    }

    /// Dereference object `i` (as a reader).
    fn read(&self, i: usize) {
        assert!(
            !self.freed[i].load(Ordering::Relaxed),
            "reader dereferenced freed object {i}"
        );
        self.body[i].with(|_| ());
    }

    /// Free object 0 (poison its body, then mark it freed).
    fn free_old(&self) {
        self.body[0].with_mut(|_| ());
        self.freed[0].store(true, Ordering::Relaxed);
    }
}

fn reader(rcu: Rcu, w: Arc<World>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        rcu.rcu_read_lock();
        let i = w.cur.load(Ordering::Acquire);
        w.read(i);
        rcu.rcu_read_unlock().unwrap();
    })
}

#[derive(Clone, Copy)]
enum Free {
    /// Updater: publish new, synchronize_rcu(), free old.
    AfterSynchronize,
    /// Updater: publish new, call_rcu(free old), drive grace periods.
    CallRcu,
    /// Broken: publish new, free old at once.
    Immediately,
}

fn litmus(free: Free) {
    loom::model(move || {
        let rcu = Rcu::new(RcuMode::Deterministic);
        let w = World::new();
        let r = reader(rcu.clone(), Arc::clone(&w));
        w.cur.store(1, Ordering::Release);
        match free {
            Free::AfterSynchronize => {
                rcu.synchronize_rcu().unwrap();
                w.free_old();
            }
            Free::CallRcu => {
                let w2 = Arc::clone(&w);
                rcu.call_rcu(Box::new(move || w2.free_old()));
                // Deterministic mode does not wait for readers by itself:
                // retry until the reader has left (a spin loop, so yield).
                while rcu.pending_callbacks() > 0 {
                    if rcu.end_grace_period().is_err() {
                        thread::yield_now();
                    }
                }
            }
            Free::Immediately => w.free_old(),
        }
        r.join().unwrap();
    });
}

#[test]
fn rcu_sync_free_is_safe() {
    litmus(Free::AfterSynchronize);
}

#[test]
fn rcu_call_rcu_free_is_safe() {
    litmus(Free::CallRcu);
}

/// Negative control: without a grace period loom must find the execution
/// in which the reader loads index 0 and then sees slot 0 freed.
#[test]
fn free_without_synchronize_is_caught() {
    let res = std::panic::catch_unwind(|| litmus(Free::Immediately));
    assert!(res.is_err(), "loom failed to find the use-after-free");
}

/// Nested read-side sections: only the outermost unlock ends the section.
#[test]
fn nested_reader_is_waited_for_until_outermost_unlock() {
    loom::model(|| {
        let rcu = Rcu::new(RcuMode::Deterministic);
        let w = World::new();
        let r = {
            let (rcu, w) = (rcu.clone(), Arc::clone(&w));
            thread::spawn(move || {
                rcu.rcu_read_lock();
                let i = w.cur.load(Ordering::Acquire);
                rcu.rcu_read_lock();
                rcu.rcu_read_unlock().unwrap();
                // Still inside the outer section.
                w.read(i);
                rcu.rcu_read_unlock().unwrap();
            })
        };
        w.cur.store(1, Ordering::Release);
        rcu.synchronize_rcu().unwrap();
        w.free_old();
        r.join().unwrap();
    });
}

/// A reader running back-to-back sections: a grace period that sees only
/// the *second* section (begun after the grace period started) must still
/// be ordered after the first one.
#[test]
fn back_to_back_sections_are_all_waited_for() {
    loom::model(|| {
        let rcu = Rcu::new(RcuMode::Deterministic);
        let w = World::new();
        let r = {
            let (rcu, w) = (rcu.clone(), Arc::clone(&w));
            thread::spawn(move || {
                for _ in 0..2 {
                    rcu.rcu_read_lock();
                    let i = w.cur.load(Ordering::Acquire);
                    w.read(i);
                    rcu.rcu_read_unlock().unwrap();
                }
            })
        };
        w.cur.store(1, Ordering::Release);
        rcu.synchronize_rcu().unwrap();
        w.free_old();
        r.join().unwrap();
    });
}
