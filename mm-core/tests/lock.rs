//! Behaviour of the holder-aware locks (mm_core::lock).
#![cfg(not(loom))]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use mm_core::lock::{LockError, RwSem, SpinLock};

#[test]
fn spin_self_deadlock_is_an_error_not_a_hang() {
    let ptl = SpinLock::new("ptl");
    let g = ptl.lock().expect("first lock");
    assert_eq!(
        ptl.lock().unwrap_err(),
        LockError::SelfDeadlock { lock: "ptl" }
    );
    // spin_lock_nested does not excuse taking the *same* lock again.
    assert_eq!(
        ptl.lock_nested().unwrap_err(),
        LockError::SelfDeadlock { lock: "ptl" }
    );
    assert!(ptl.try_lock().is_none(), "trylock of a held lock fails");
    let msg = ptl.lock().unwrap_err().to_string();
    assert!(
        msg.contains("ptl") && msg.contains("self-deadlock"),
        "{msg}"
    );
    drop(g);
    assert!(!ptl.is_locked());
    let g2 = ptl.lock().expect("relock after unlock");
    g2.unlock();
    assert!(!ptl.is_locked());
}

#[test]
fn spin_holder_tracking_and_assert_held() {
    let ptl = Arc::new(SpinLock::new("page_table_lock"));
    assert_eq!(
        ptl.assert_held(),
        Err(LockError::NotHeld {
            lock: "page_table_lock"
        })
    );
    let g = ptl.lock().unwrap();
    assert!(ptl.is_locked() && ptl.held_by_current());
    assert_eq!(ptl.assert_held(), Ok(()));
    let other = Arc::clone(&ptl);
    let (locked, held, trylock, assert) = thread::spawn(move || {
        (
            other.is_locked(),
            other.held_by_current(),
            other.try_lock().is_some(),
            other.assert_held(),
        )
    })
    .join()
    .unwrap();
    assert!(locked, "another thread sees it locked");
    assert!(!held, "but not held by itself");
    assert!(!trylock, "and cannot trylock it");
    assert!(assert.is_err());
    drop(g);
    assert!(!ptl.held_by_current());
}

#[test]
fn spin_lock_nested_takes_a_different_lock() {
    let pml = SpinLock::new("pml");
    let ptl = SpinLock::new("ptl");
    let gm = pml.lock().unwrap();
    let gt = ptl.lock_nested().expect("ptl != pml: nesting is fine");
    assert!(pml.held_by_current() && ptl.held_by_current());
    drop(gt);
    drop(gm);
    assert!(!pml.is_locked() && !ptl.is_locked());
}

#[test]
fn spin_guard_identity() {
    let a = SpinLock::new("a");
    let b = SpinLock::new("b");
    let g = a.lock().unwrap();
    assert!(g.ptr_eq(&a));
    assert!(!g.ptr_eq(&b));
    assert!(std::ptr::eq(g.lock(), &a));
    assert_eq!(g.lock().name(), "a");
}

#[test]
fn spin_waiter_blocks_until_release() {
    let ptl = Arc::new(SpinLock::new("ptl"));
    let g = ptl.lock().unwrap();
    let got = Arc::new(AtomicBool::new(false));
    let t = {
        let (ptl, got) = (Arc::clone(&ptl), Arc::clone(&got));
        thread::spawn(move || {
            let _g = ptl.lock().unwrap();
            got.store(true, Ordering::SeqCst);
        })
    };
    thread::sleep(Duration::from_millis(30));
    assert!(!got.load(Ordering::SeqCst), "waiter got a held spinlock");
    drop(g);
    t.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
}

#[test]
fn spin_mutual_exclusion_four_threads() {
    const THREADS: u64 = 4;
    const ITERS: u64 = 20_000;
    let ptl = Arc::new(SpinLock::new("ptl"));
    // Deliberately racy increment (separate relaxed load and store): only
    // the lock makes the final count exact.
    let counter = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(THREADS as usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (ptl, counter, start) =
                (Arc::clone(&ptl), Arc::clone(&counter), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for _ in 0..ITERS {
                    let g = ptl.lock().unwrap();
                    let v = counter.load(Ordering::Relaxed);
                    std::hint::spin_loop();
                    counter.store(v + 1, Ordering::Relaxed);
                    drop(g);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * ITERS);
    assert!(!ptl.is_locked());
}

#[test]
fn rwsem_self_deadlocks_detected() {
    let mmap_lock = RwSem::new("mmap_lock");
    // read -> write: an upgrade deadlocks in Linux.
    let r = mmap_lock.read().unwrap();
    assert_eq!(
        mmap_lock.write().unwrap_err(),
        LockError::SelfDeadlock { lock: "mmap_lock" }
    );
    assert!(mmap_lock.try_write().is_none());
    drop(r);
    // write -> write and write -> read.
    let w = mmap_lock.write().unwrap();
    assert_eq!(
        mmap_lock.write().unwrap_err(),
        LockError::SelfDeadlock { lock: "mmap_lock" }
    );
    assert_eq!(
        mmap_lock.read().unwrap_err(),
        LockError::SelfDeadlock { lock: "mmap_lock" }
    );
    assert!(mmap_lock.try_read().is_none());
    assert!(mmap_lock.try_write().is_none());
    drop(w);
    assert!(!mmap_lock.is_locked());
    assert!(mmap_lock.write().is_ok(), "usable again after the errors");
}

#[test]
fn rwsem_recursive_read_and_holder_queries() {
    let sem = RwSem::new("mmap_lock");
    assert!(!sem.held_for_read_by_current() && !sem.held_for_write_by_current());
    assert_eq!(
        sem.assert_locked(),
        Err(LockError::NotHeld { lock: "mmap_lock" })
    );
    let r1 = sem.read().unwrap();
    let r2 = sem.read().expect("recursive read");
    assert_eq!(sem.readers(), 2);
    assert!(sem.held_for_read_by_current());
    assert_eq!(sem.assert_locked(), Ok(()));
    assert_eq!(
        sem.assert_write_locked(),
        Err(LockError::NotWriteHeld { lock: "mmap_lock" })
    );
    drop(r1);
    assert!(sem.held_for_read_by_current(), "one hold left");
    drop(r2);
    assert!(!sem.held_for_read_by_current());
    assert_eq!(sem.readers(), 0);
    let w = sem.write().unwrap();
    assert!(sem.is_write_locked() && sem.held_for_write_by_current());
    assert_eq!(sem.assert_write_locked(), Ok(()));
    let d = w.downgrade();
    assert!(!sem.is_write_locked() && sem.held_for_read_by_current());
    assert_eq!(sem.readers(), 1);
    drop(d);
    assert!(!sem.is_locked());
}

#[test]
fn rwsem_try_write_fails_while_read_held_elsewhere() {
    let sem = Arc::new(RwSem::new("mmap_lock"));
    let (tx_held, rx_held) = mpsc::channel();
    let (tx_go, rx_go) = mpsc::channel::<()>();
    let t = {
        let sem = Arc::clone(&sem);
        thread::spawn(move || {
            let _r = sem.read().unwrap();
            tx_held.send(()).unwrap();
            rx_go.recv().unwrap();
        })
    };
    rx_held.recv().unwrap();
    assert!(sem.try_write().is_none(), "mmap_write_trylock must fail");
    assert!(
        !sem.held_for_read_by_current(),
        "reader is the other thread"
    );
    let r = sem.try_read().expect("readers share");
    assert_eq!(sem.readers(), 2);
    drop(r);
    tx_go.send(()).unwrap();
    t.join().unwrap();
    assert!(sem.try_write().is_some(), "free once the reader left");
}

#[test]
fn rwsem_try_read_fails_while_write_held_elsewhere() {
    let sem = Arc::new(RwSem::new("i_mmap_rwsem"));
    let w = sem.write().unwrap();
    let other = Arc::clone(&sem);
    let (r, wr, held) = thread::spawn(move || {
        (
            other.try_read().is_some(),
            other.try_write().is_some(),
            other.held_for_write_by_current(),
        )
    })
    .join()
    .unwrap();
    assert!(!r && !wr && !held);
    drop(w);
}

#[test]
fn rwsem_read_write_exclusion_stress() {
    let sem = Arc::new(RwSem::new("mmap_lock"));
    let writing = Arc::new(AtomicBool::new(false));
    let readers_in = Arc::new(AtomicUsize::new(0));
    let violations = Arc::new(AtomicUsize::new(0));
    let writes = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_millis(200);
    let mut hs = Vec::new();
    for i in 0..4 {
        let (sem, writing, readers_in, violations, writes, reads) = (
            Arc::clone(&sem),
            Arc::clone(&writing),
            Arc::clone(&readers_in),
            Arc::clone(&violations),
            Arc::clone(&writes),
            Arc::clone(&reads),
        );
        hs.push(thread::spawn(move || {
            while Instant::now() < deadline {
                if i == 0 {
                    let w = sem.write().unwrap();
                    writing.store(true, Ordering::SeqCst);
                    if readers_in.load(Ordering::SeqCst) != 0 {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                    std::hint::spin_loop();
                    writing.store(false, Ordering::SeqCst);
                    writes.fetch_add(1, Ordering::Relaxed);
                    drop(w);
                    // Writers are rare on a real mmap_lock; give readers a
                    // window so the test does not depend on scheduler luck.
                    thread::yield_now();
                } else {
                    let _r = sem.read().unwrap();
                    readers_in.fetch_add(1, Ordering::SeqCst);
                    if writing.load(Ordering::SeqCst) {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                    readers_in.fetch_sub(1, Ordering::SeqCst);
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(violations.load(Ordering::SeqCst), 0);
    assert!(writes.load(Ordering::Relaxed) > 0, "writer starved");
    assert!(reads.load(Ordering::Relaxed) > 0, "readers starved");
    assert!(!sem.is_locked());
}

#[test]
fn rwsem_recursive_read_passes_waiting_writer() {
    // A waiting writer holds off new readers, but not a thread that already
    // holds the semaphore for read (else this would deadlock).
    let sem = Arc::new(RwSem::new("mmap_lock"));
    let r1 = sem.read().unwrap();
    let wrote = Arc::new(AtomicBool::new(false));
    let w = {
        let (sem, wrote) = (Arc::clone(&sem), Arc::clone(&wrote));
        thread::spawn(move || {
            let _w = sem.write().unwrap();
            wrote.store(true, Ordering::SeqCst);
        })
    };
    thread::sleep(Duration::from_millis(20));
    assert!(!wrote.load(Ordering::SeqCst), "writer got in past a reader");
    let r2 = sem.read().expect("recursive read while a writer waits");
    drop(r2);
    drop(r1);
    w.join().unwrap();
    assert!(wrote.load(Ordering::SeqCst));
}

#[test]
fn lock_error_messages_name_the_lock() {
    let e = LockError::NotHeld { lock: "ptl" };
    assert!(e.to_string().contains("ptl"));
    let e = LockError::NotWriteHeld { lock: "mmap_lock" };
    assert!(e.to_string().contains("mmap_lock"));
}
