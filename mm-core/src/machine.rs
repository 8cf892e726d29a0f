//! The simulated machine: physical memory, RCU, the system workqueue and the
//! report sink that every mm of one configuration shares.
//!
//! Two RCU domains are kept.  [`Machine::rcu`] is ordinary RCU
//! (`rcu_read_lock`, `call_rcu`).  [`Machine::irq`] models the
//! interrupts-disabled sections of `pmdp_get_lockless_start()` /
//! `_end()`: `pmdp_get_lockless_sync()` (`tlb_remove_table_sync_one()`, an
//! IPI to every CPU) waits for every such section in progress to end, which
//! is exactly a grace period of that second domain.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use crate::arch::Geometry;
use crate::event::Events;
use crate::phys::PhysMem;
use crate::rcu::{Rcu, RcuMode};
use crate::report::Reports;
use crate::sync::{AtomicU64, Ordering};
use crate::MmError;

type Work = Box<dyn FnOnce() + Send + 'static>;

/// A workqueue (`schedule_work()`): deferred work run in process context,
/// where an RCU callback may hand off what it must not do itself (s390 v1's
/// `mmdrop_async()`).  In deterministic mode work runs when a test calls
/// [`WorkQueue::flush_work`]; in threaded mode a worker thread runs it.
pub struct WorkQueue {
    inner: Arc<WqInner>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct WqInner {
    queue: Mutex<(VecDeque<Work>, bool, usize)>,
    cv: Condvar,
}

impl WorkQueue {
    fn new(threaded: bool) -> Self {
        let inner = Arc::new(WqInner {
            queue: Mutex::new((VecDeque::new(), false, 0)),
            cv: Condvar::new(),
        });
        let worker = threaded.then(|| {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("kworker".into())
                .spawn(move || loop {
                    let work = {
                        let mut q = inner.queue.lock().unwrap_or_else(|e| e.into_inner());
                        loop {
                            if let Some(w) = q.0.pop_front() {
                                q.2 += 1;
                                break Some(w);
                            }
                            if q.1 {
                                break None;
                            }
                            q = inner.cv.wait(q).unwrap_or_else(|e| e.into_inner());
                        }
                    };
                    match work {
                        Some(w) => {
                            w();
                            let mut q = inner.queue.lock().unwrap_or_else(|e| e.into_inner());
                            q.2 -= 1;
                            inner.cv.notify_all();
                        }
                        None => return,
                    }
                })
                .ok()
        });
        WorkQueue {
            inner,
            worker: Mutex::new(worker.flatten()),
        }
    }

    /// `schedule_work()`.
    pub fn schedule_work(&self, w: Work) {
        let mut q = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.0.push_back(w);
        self.inner.cv.notify_all();
    }

    /// Number of work items not yet started.
    pub fn pending(&self) -> usize {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .len()
    }

    /// `flush_scheduled_work()`: run (deterministic) or wait for (threaded)
    /// everything queued so far.
    pub fn flush_work(&self) {
        let threaded = self
            .worker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if threaded {
            let mut q = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
            while !q.0.is_empty() || q.2 > 0 {
                q = self.inner.cv.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            return;
        }
        loop {
            let w = self
                .inner
                .queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .0
                .pop_front();
            match w {
                Some(w) => w(),
                None => return,
            }
        }
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        {
            let mut q = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.1 = true;
            self.inner.cv.notify_all();
        }
        if let Some(h) = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = h.join();
        }
    }
}

/// How a machine runs its deferred work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Grace periods and work run only when a test says so.
    Deterministic,
    /// Background threads end grace periods and run work by themselves.
    Threaded,
}

/// One simulated machine for one configuration.
pub struct Machine {
    /// Physical memory.
    pub phys: PhysMem,
    /// RCU.
    pub rcu: Rcu,
    /// IRQs-off sections (see the module documentation).
    pub irq: Rcu,
    /// The system workqueue.
    pub wq: WorkQueue,
    reports: Arc<Reports>,
    events: Arc<Events>,
    mode: Mode,
    next_mm: AtomicU64,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("phys", &self.phys)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Machine {
    /// A machine with `mem_bytes` of physical memory laid out for `g`.
    ///
    /// # Errors
    /// [`MmError::Config`] when the memory size is too small.
    pub fn new(g: &Geometry, mem_bytes: u64, mode: Mode) -> Result<Arc<Self>, MmError> {
        let reports = Arc::new(Reports::new());
        let events = Arc::new(Events::new());
        let rmode = match mode {
            Mode::Deterministic => RcuMode::Deterministic,
            Mode::Threaded => RcuMode::Threaded,
        };
        Ok(Arc::new(Machine {
            phys: PhysMem::with_events(mem_bytes, g, reports.clone(), events.clone())?,
            rcu: Rcu::new(rmode),
            irq: Rcu::new(rmode),
            wq: WorkQueue::new(mode == Mode::Threaded),
            reports,
            events,
            mode,
            next_mm: AtomicU64::new(1),
        }))
    }

    /// The report sink.
    pub fn reports(&self) -> &Reports {
        &self.reports
    }

    /// The lifecycle event log (off until enabled).
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Deterministic or threaded.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn next_mm_id(&self) -> u64 {
        self.next_mm.fetch_add(1, Ordering::Relaxed)
    }
}
