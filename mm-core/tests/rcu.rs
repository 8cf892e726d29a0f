//! Behaviour of the RCU model (mm_core::rcu): Linux's grace-period and
//! callback guarantees, in both modes.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mm_core::rcu::{in_rcu_callback, Rcu, RcuError, RcuMode};

fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

fn set_on_run(f: &Arc<AtomicBool>) -> Box<dyn FnOnce() + Send> {
    let f = Arc::clone(f);
    Box::new(move || f.store(true, Ordering::SeqCst))
}

/// A reader on another thread, inside a section until told to leave.
struct RemoteReader {
    leave: mpsc::Sender<()>,
    handle: thread::JoinHandle<()>,
}

impl RemoteReader {
    fn start(rcu: &Rcu) -> Self {
        let rcu = rcu.clone();
        let (in_tx, in_rx) = mpsc::channel();
        let (leave, leave_rx) = mpsc::channel::<()>();
        let handle = thread::spawn(move || {
            rcu.rcu_read_lock();
            in_tx.send(()).unwrap();
            leave_rx.recv().unwrap();
            rcu.rcu_read_unlock().unwrap();
        });
        in_rx.recv().unwrap();
        RemoteReader { leave, handle }
    }

    fn leave(self) {
        self.leave.send(()).unwrap();
        self.handle.join().unwrap();
    }
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    cond()
}

#[test]
fn nesting_depth_is_per_thread_and_per_domain() {
    let a = Rcu::new(RcuMode::Deterministic);
    let b = Rcu::new(RcuMode::Deterministic);
    assert_eq!(a.read_depth(), 0);
    a.rcu_read_lock();
    a.rcu_read_lock();
    {
        let _g = a.read_lock();
        assert_eq!(a.read_depth(), 3);
        assert_eq!(b.read_depth(), 0, "domains are independent");
    }
    assert_eq!(a.read_depth(), 2);
    let other = a.clone();
    assert_eq!(thread::spawn(move || other.read_depth()).join().unwrap(), 0);
    a.rcu_read_unlock().unwrap();
    assert_eq!(
        a.active_readers(),
        1,
        "inner unlock does not end the section"
    );
    a.rcu_read_unlock().unwrap();
    assert_eq!(a.read_depth(), 0);
    assert_eq!(a.active_readers(), 0);
}

#[test]
fn unbalanced_unlock_is_an_error() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    assert_eq!(rcu.rcu_read_unlock(), Err(RcuError::Unbalanced));
    rcu.rcu_read_lock();
    rcu.rcu_read_unlock().unwrap();
    assert_eq!(rcu.rcu_read_unlock(), Err(RcuError::Unbalanced));
    assert_eq!(rcu.read_depth(), 0);
    // A section in another domain does not balance this one.
    let other = Rcu::new(RcuMode::Deterministic);
    other.rcu_read_lock();
    assert_eq!(rcu.rcu_read_unlock(), Err(RcuError::Unbalanced));
    other.rcu_read_unlock().unwrap();
}

#[test]
fn det_callback_waits_for_same_thread_reader() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let freed_a = flag();
    let freed_b = flag();
    rcu.rcu_read_lock();
    rcu.call_rcu(set_on_run(&freed_a));
    assert_eq!(
        rcu.end_grace_period(),
        Err(RcuError::ReadersActive { readers: 1 })
    );
    assert!(rcu.grace_period_in_progress());
    // Queued while a GP is already running: that GP is not enough for it.
    rcu.call_rcu(set_on_run(&freed_b));
    assert!(!freed_a.load(Ordering::SeqCst));
    assert_eq!(rcu.pending_callbacks(), 2);
    rcu.rcu_read_unlock().unwrap();
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert!(freed_a.load(Ordering::SeqCst));
    assert!(
        !freed_b.load(Ordering::SeqCst),
        "ran after a GP that began before it was queued"
    );
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert!(freed_b.load(Ordering::SeqCst));
    assert_eq!(rcu.pending_callbacks(), 0);
    assert_eq!(rcu.completed_grace_periods(), 2);
}

#[test]
fn det_callback_queued_when_idle_needs_one_grace_period() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let freed = flag();
    rcu.call_rcu(set_on_run(&freed));
    assert!(!freed.load(Ordering::SeqCst), "call_rcu never runs inline");
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert!(freed.load(Ordering::SeqCst));
    assert_eq!(rcu.completed_grace_periods(), 1);
}

#[test]
fn det_callback_waits_for_other_thread_reader() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let freed = flag();
    let reader = RemoteReader::start(&rcu);
    rcu.call_rcu(set_on_run(&freed));
    for _ in 0..3 {
        assert_eq!(
            rcu.end_grace_period(),
            Err(RcuError::ReadersActive { readers: 1 })
        );
    }
    assert_eq!(
        rcu.rcu_barrier(),
        Err(RcuError::ReadersActive { readers: 1 })
    );
    assert!(!freed.load(Ordering::SeqCst));
    reader.leave();
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert!(freed.load(Ordering::SeqCst));
}

#[test]
fn det_reader_starting_after_gp_began_does_not_block_it() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let freed = flag();
    rcu.call_rcu(set_on_run(&freed));
    let old = RemoteReader::start(&rcu);
    assert_eq!(
        rcu.end_grace_period(),
        Err(RcuError::ReadersActive { readers: 1 })
    );
    // New readers, on another thread and on this one, after the GP began.
    let new = RemoteReader::start(&rcu);
    rcu.rcu_read_lock();
    assert_eq!(rcu.active_readers(), 3);
    assert_eq!(
        rcu.end_grace_period(),
        Err(RcuError::ReadersActive { readers: 1 }),
        "only the pre-existing reader counts"
    );
    old.leave();
    assert_eq!(rcu.end_grace_period(), Ok(1), "new readers do not block");
    assert!(freed.load(Ordering::SeqCst));
    // But they do block the *next* grace period.
    assert_eq!(
        rcu.end_grace_period(),
        Err(RcuError::ReadersActive { readers: 2 })
    );
    rcu.rcu_read_unlock().unwrap();
    new.leave();
    assert_eq!(rcu.end_grace_period(), Ok(0));
}

#[test]
fn synchronize_or_barrier_in_read_section_is_an_error() {
    for mode in [RcuMode::Deterministic, RcuMode::Threaded] {
        let rcu = Rcu::new(mode);
        rcu.rcu_read_lock();
        assert_eq!(rcu.synchronize_rcu(), Err(RcuError::SyncInReadSection));
        assert_eq!(rcu.rcu_barrier(), Err(RcuError::SyncInReadSection));
        rcu.rcu_read_unlock().unwrap();
        assert_eq!(rcu.synchronize_rcu(), Ok(()));
        // A section in another domain is no obstacle.
        let other = Rcu::new(mode);
        let _g = other.read_lock();
        assert_eq!(rcu.synchronize_rcu(), Ok(()));
    }
}

#[test]
fn det_synchronize_waits_for_other_thread_reader_and_runs_due_callbacks() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let left = flag();
    let freed = flag();
    let (in_tx, in_rx) = mpsc::channel();
    let t = {
        let (rcu, left) = (rcu.clone(), Arc::clone(&left));
        thread::spawn(move || {
            rcu.rcu_read_lock();
            in_tx.send(()).unwrap();
            thread::sleep(Duration::from_millis(50));
            left.store(true, Ordering::SeqCst);
            rcu.rcu_read_unlock().unwrap();
        })
    };
    in_rx.recv().unwrap();
    rcu.call_rcu(set_on_run(&freed));
    rcu.synchronize_rcu().unwrap();
    assert!(
        left.load(Ordering::SeqCst),
        "returned before the reader left"
    );
    assert!(freed.load(Ordering::SeqCst), "due callback not run");
    t.join().unwrap();
}

#[test]
fn callbacks_run_in_callback_context_in_both_modes() {
    for mode in [RcuMode::Deterministic, RcuMode::Threaded] {
        let rcu = Rcu::new(mode);
        assert!(!in_rcu_callback());
        let seen = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..3 {
            let (seen, rcu2) = (Arc::clone(&seen), rcu.clone());
            rcu.call_rcu(Box::new(move || {
                seen.lock().unwrap().push((
                    in_rcu_callback(),
                    rcu2.synchronize_rcu(),
                    rcu2.rcu_barrier(),
                ));
            }));
        }
        rcu.rcu_barrier().unwrap();
        assert!(!in_rcu_callback(), "{mode:?}: flag leaked out");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3, "{mode:?}");
        for s in seen.iter() {
            assert_eq!(
                *s,
                (
                    true,
                    Err(RcuError::SyncInCallback),
                    Err(RcuError::SyncInCallback)
                ),
                "{mode:?}"
            );
        }
    }
}

#[test]
fn det_callback_may_requeue_itself() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let runs = Arc::new(AtomicUsize::new(0));
    fn hop(rcu: Rcu, runs: Arc<AtomicUsize>, left: usize) {
        runs.fetch_add(1, Ordering::SeqCst);
        if left > 0 {
            let r2 = rcu.clone();
            rcu.call_rcu(Box::new(move || hop(r2, runs, left - 1)));
        }
    }
    {
        let (r2, runs) = (rcu.clone(), Arc::clone(&runs));
        rcu.call_rcu(Box::new(move || hop(r2, runs, 2)));
    }
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert_eq!(
        rcu.pending_callbacks(),
        1,
        "re-queued, not run in the same GP"
    );
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert_eq!(rcu.end_grace_period(), Ok(1));
    assert_eq!(rcu.end_grace_period(), Ok(0));
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[test]
fn det_rcu_barrier_runs_every_earlier_callback() {
    let rcu = Rcu::new(RcuMode::Deterministic);
    let order = Arc::new(Mutex::new(Vec::new()));
    let push = |i: u32| {
        let order = Arc::clone(&order);
        Box::new(move || order.lock().unwrap().push(i)) as Box<dyn FnOnce() + Send>
    };
    rcu.call_rcu(push(0));
    // Leave a GP in progress so the next callbacks need a later one.
    rcu.rcu_read_lock();
    assert!(rcu.end_grace_period().is_err());
    rcu.rcu_read_unlock().unwrap();
    rcu.call_rcu(push(1));
    rcu.call_rcu(push(2));
    assert_eq!(rcu.rcu_barrier(), Ok(()));
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2], "all, in queue order");
    assert_eq!(rcu.pending_callbacks(), 0);
}

/// Writer publishes objects by index into a slab; each swap frees the old
/// object with call_rcu().  Readers must never find the object they are
/// using freed (or recycled) while still inside their read-side section.
#[test]
fn threaded_readers_never_see_freed_object() {
    const SLAB: usize = 64;
    struct Obj {
        gen: AtomicU64,
        freed: AtomicBool,
    }
    let slab: Arc<Vec<Obj>> = Arc::new(
        (0..SLAB)
            .map(|i| Obj {
                gen: AtomicU64::new(0),
                freed: AtomicBool::new(i != 0),
            })
            .collect(),
    );
    let cur = Arc::new(AtomicUsize::new(0));
    let rcu = Rcu::new(RcuMode::Threaded);
    assert_eq!(rcu.mode(), RcuMode::Threaded);
    let stop = flag();
    let bad = Arc::new(AtomicUsize::new(0));
    let sections = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (slab, cur, rcu, stop, bad, sections) = (
            Arc::clone(&slab),
            Arc::clone(&cur),
            rcu.clone(),
            Arc::clone(&stop),
            Arc::clone(&bad),
            Arc::clone(&sections),
        );
        readers.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let g = rcu.read_lock();
                let i = cur.load(Ordering::Acquire);
                let o = &slab[i];
                let gen = o.gen.load(Ordering::Acquire);
                for _ in 0..50 {
                    if o.freed.load(Ordering::Acquire) || o.gen.load(Ordering::Acquire) != gen {
                        bad.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    std::hint::spin_loop();
                }
                drop(g);
                sections.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let frees = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_millis(200);
    let mut swaps = 0usize;
    let mut next = 1usize;
    while Instant::now() < deadline {
        // Allocate: find a freed slot (recycling is what makes a premature
        // free observable as a generation change).
        let mut tries = 0;
        while !slab[next].freed.load(Ordering::Acquire) {
            next = (next + 1) % SLAB;
            tries += 1;
            if tries % SLAB == 0 {
                thread::yield_now();
            }
        }
        let n = next;
        slab[n].gen.fetch_add(1, Ordering::AcqRel);
        slab[n].freed.store(false, Ordering::Release);
        let old = cur.swap(n, Ordering::AcqRel);
        let (slab2, frees2) = (Arc::clone(&slab), Arc::clone(&frees));
        rcu.call_rcu(Box::new(move || {
            assert!(in_rcu_callback());
            slab2[old].freed.store(true, Ordering::Release);
            frees2.fetch_add(1, Ordering::Relaxed);
        }));
        swaps += 1;
        next = (n + 1) % SLAB;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    rcu.rcu_barrier().unwrap();
    assert_eq!(bad.load(Ordering::SeqCst), 0, "reader saw a freed object");
    assert!(sections.load(Ordering::Relaxed) > 100, "readers barely ran");
    assert!(swaps > 100, "writer barely ran: {swaps}");
    assert_eq!(
        frees.load(Ordering::Relaxed),
        swaps,
        "barrier left callbacks"
    );
}

#[test]
fn threaded_callback_not_run_while_reader_inside() {
    let rcu = Rcu::new(RcuMode::Threaded);
    let freed = flag();
    let reader = RemoteReader::start(&rcu);
    rcu.call_rcu(set_on_run(&freed));
    thread::sleep(Duration::from_millis(50));
    assert!(!freed.load(Ordering::SeqCst), "freed under a reader");
    assert_eq!(rcu.pending_callbacks(), 1);
    reader.leave();
    assert!(
        wait_until(Duration::from_secs(5), || freed.load(Ordering::SeqCst)),
        "rcu_gp thread never ran the callback"
    );
    assert!(rcu.completed_grace_periods() >= 1);
}

#[test]
fn threaded_synchronize_waits_for_reader() {
    let rcu = Rcu::new(RcuMode::Threaded);
    let left = flag();
    let (in_tx, in_rx) = mpsc::channel();
    let t = {
        let (rcu, left) = (rcu.clone(), Arc::clone(&left));
        thread::spawn(move || {
            let g = rcu.read_lock();
            in_tx.send(()).unwrap();
            thread::sleep(Duration::from_millis(50));
            left.store(true, Ordering::SeqCst);
            drop(g);
        })
    };
    in_rx.recv().unwrap();
    rcu.synchronize_rcu().unwrap();
    assert!(
        left.load(Ordering::SeqCst),
        "returned before the reader left"
    );
    t.join().unwrap();
}

#[test]
fn threaded_rcu_barrier_waits_for_all() {
    let rcu = Rcu::new(RcuMode::Threaded);
    let done = Arc::new(AtomicUsize::new(0));
    let reader = RemoteReader::start(&rcu);
    for i in 0..100 {
        let done = Arc::clone(&done);
        rcu.call_rcu(Box::new(move || {
            if i % 25 == 0 {
                thread::sleep(Duration::from_millis(5));
            }
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let r = thread::spawn(move || {
        thread::sleep(Duration::from_millis(30));
        reader.leave();
    });
    rcu.rcu_barrier().unwrap();
    assert_eq!(done.load(Ordering::SeqCst), 100);
    r.join().unwrap();
}

#[test]
fn threaded_barrier_reports_callback_panic() {
    let rcu = Rcu::new(RcuMode::Threaded);
    rcu.call_rcu(Box::new(|| panic!("boom in softirq")));
    let ok = flag();
    rcu.call_rcu(set_on_run(&ok));
    match rcu.rcu_barrier() {
        Err(RcuError::CallbackPanicked { panics, message }) => {
            assert_eq!(panics, 1);
            assert!(message.contains("boom"), "{message}");
        }
        other => panic!("expected CallbackPanicked, got {other:?}"),
    }
    assert!(ok.load(Ordering::SeqCst), "later callbacks still run");
    assert_eq!(rcu.rcu_barrier(), Ok(()), "reported once");
}

/// Back-to-back grace periods complete and are counted (how fast they are
/// is a benchmark question, not a test's).
#[test]
fn threaded_grace_periods_complete_back_to_back() {
    let rcu = Rcu::new(RcuMode::Threaded);
    for _ in 0..2000 {
        rcu.synchronize_rcu().unwrap();
    }
    assert!(rcu.completed_grace_periods() >= 2000);
}

#[test]
fn threaded_drop_runs_queued_callbacks() {
    let freed = flag();
    {
        let rcu = Rcu::new(RcuMode::Threaded);
        rcu.call_rcu(set_on_run(&freed));
    }
    assert!(freed.load(Ordering::SeqCst), "drop must act as rcu_barrier");
}

#[test]
fn det_drop_runs_queued_callbacks() {
    let freed = flag();
    {
        let rcu = Rcu::new(RcuMode::Deterministic);
        rcu.call_rcu(set_on_run(&freed));
    }
    assert!(freed.load(Ordering::SeqCst));
}

#[test]
fn drop_with_leaked_reader_drops_callbacks_unrun() {
    for mode in [RcuMode::Deterministic, RcuMode::Threaded] {
        let freed = flag();
        let dropped = flag();
        {
            let rcu = Rcu::new(mode);
            rcu.rcu_read_lock(); // never unlocked: leaked section
            struct OnDrop(Arc<AtomicBool>);
            impl Drop for OnDrop {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let guard = OnDrop(Arc::clone(&dropped));
            let f = Arc::clone(&freed);
            rcu.call_rcu(Box::new(move || {
                let _g = guard;
                f.store(true, Ordering::SeqCst);
            }));
        }
        assert!(
            !freed.load(Ordering::SeqCst),
            "{mode:?}: ran under a reader"
        );
        assert!(dropped.load(Ordering::SeqCst), "{mode:?}: callback leaked");
    }
}

#[test]
fn threaded_last_handle_dropped_inside_callback() {
    let freed = flag();
    let rcu = Rcu::new(RcuMode::Threaded);
    {
        let (r2, f) = (rcu.clone(), Arc::clone(&freed));
        rcu.call_rcu(Box::new(move || {
            let _last = r2;
            f.store(true, Ordering::SeqCst);
        }));
    }
    drop(rcu); // the callback's clone is now the last handle
    assert!(
        wait_until(Duration::from_secs(5), || freed.load(Ordering::SeqCst)),
        "callback holding the last handle never ran"
    );
}

mod proptests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Lock,
        Unlock,
        CallRcu,
        EndGp,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::Lock),
            Just(Op::Unlock),
            Just(Op::CallRcu),
            Just(Op::EndGp)
        ]
    }

    proptest! {
        /// Single-thread reference check: a callback never runs while the
        /// outermost section that was open when it was queued is still open;
        /// end_grace_period() fails only if a section is open; draining
        /// always runs everything.
        #[test]
        fn callback_never_outruns_its_section(ops in proptest::collection::vec(op(), 0..60)) {
            let rcu = Rcu::new(RcuMode::Deterministic);
            let mut depth = 0u32;
            let mut section = 0u64; // id of the current outermost section
            let open = Arc::new(AtomicU64::new(0)); // current open section id, 0 = none
            let violations = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            let mut queued = 0usize;
            for op in ops {
                match op {
                    Op::Lock => {
                        if depth == 0 {
                            section += 1;
                            open.store(section, Ordering::SeqCst);
                        }
                        depth += 1;
                        rcu.rcu_read_lock();
                    }
                    Op::Unlock => {
                        let r = rcu.rcu_read_unlock();
                        if depth == 0 {
                            prop_assert_eq!(r, Err(RcuError::Unbalanced));
                        } else {
                            prop_assert_eq!(r, Ok(()));
                            depth -= 1;
                            if depth == 0 {
                                open.store(0, Ordering::SeqCst);
                            }
                        }
                    }
                    Op::CallRcu => {
                        let at = if depth > 0 { section } else { 0 };
                        let (open, v, ran) = (Arc::clone(&open), Arc::clone(&violations), Arc::clone(&ran));
                        rcu.call_rcu(Box::new(move || {
                            if at != 0 && open.load(Ordering::SeqCst) == at {
                                v.fetch_add(1, Ordering::SeqCst);
                            }
                            ran.fetch_add(1, Ordering::SeqCst);
                        }));
                        queued += 1;
                    }
                    Op::EndGp => {
                        let r = rcu.end_grace_period();
                        if depth == 0 {
                            prop_assert!(r.is_ok(), "no reader, yet {:?}", r);
                        }
                    }
                }
                prop_assert_eq!(rcu.read_depth(), depth);
            }
            prop_assert_eq!(violations.load(Ordering::SeqCst), 0);
            while depth > 0 {
                rcu.rcu_read_unlock().unwrap();
                depth -= 1;
            }
            prop_assert_eq!(rcu.rcu_barrier(), Ok(()));
            prop_assert_eq!(ran.load(Ordering::SeqCst), queued);
        }
    }
}
