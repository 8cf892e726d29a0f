//! A bounded stress run with real threads: several mms sharing a shmem
//! file; threads faulting and writing, reading through another mm, walking
//! with `pte_offset_map()` (locklessly under v6.6, under `mmap_read_lock`
//! as the pre-series kernel required under v6.4), `MADV_COLLAPSE`-ing, running
//! khugepaged, and mapping, unmapping and exiting a third mm — while freed
//! pages are poisoned and every read through a stale table pointer is
//! reported.  At the end: no stale reads, no lost bytes, no leaked tables,
//! no bad-page reports.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::arch::Arch;
use crate::family::Rng;
use crate::fault::{read_user, write_user};
use crate::file::{folio_put, AddressSpace};
use crate::khugepaged::{madvise_collapse, Khugepaged, Version};
use crate::machine::{Machine, Mode};
use crate::mm::Mm;
use crate::mmap::{mmap, munmap};
use crate::vma::vm;
use crate::MmError;

/// Counts of what the run did, and what it found.
#[derive(Clone, Debug, Default)]
pub struct StressReport {
    /// Pages written.
    pub writes: u64,
    /// Pages read back and checked.
    pub reads: u64,
    /// Lockless `pte_offset_map()` walks.
    pub walks: u64,
    /// `MADV_COLLAPSE` calls.
    pub collapses: u64,
    /// khugepaged passes.
    pub scans: u64,
    /// mm create/map/unmap/exit cycles.
    pub cycles: u64,
    /// Reads that did not return what was written (must be 0).
    pub lost: u64,
    /// Reports the model made (must be empty).
    pub reports: Vec<String>,
    /// `pgtables_bytes` left after teardown, summed over the mms.
    pub leaked_table_bytes: i64,
    /// Frames not returned to the allocator at the end.
    pub leaked_frames: u64,
}

impl StressReport {
    /// The signatures of a page table freed under a reader: a lost write,
    /// or a read through a stale page-table pointer.  What the negative
    /// control ([`WalkerLocking::RcuOnly`] under v6.4) must produce; a
    /// leak or a failing thread is not one.
    pub fn caught_stale_table(&self) -> bool {
        self.lost > 0 || self.reports.iter().any(|r| r.contains("stale page-table"))
    }

    /// True when nothing went wrong.
    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.reports.is_empty()
            && self.leaked_table_bytes == 0
            && self.leaked_frames == 0
    }
}

fn pattern(index: u64) -> [u8; 8] {
    (index.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).to_le_bytes()
}

/// How the lockless walker protects itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkerLocking {
    /// As the kernel of `version` requires: `mmap_read_lock` under v6.4,
    /// RCU alone under v6.6.
    AsRequired,
    /// RCU alone whatever the version: under v6.4, whose retract frees the
    /// table at once, this is the series without `pte_free_defer()` — the
    /// negative control that shows the run's checks can fail.
    RcuOnly,
}

/// Run for `duration` on configuration `a` with khugepaged `version`.
///
/// # Errors
/// [`MmError`] from setup, or the first error a thread hit.
pub fn run<A: Arch + Clone>(
    a: &A,
    version: Version,
    duration: Duration,
    seed: u64,
) -> Result<StressReport, MmError> {
    run_with(a, version, WalkerLocking::AsRequired, duration, seed)
}

/// [`run`], with the lockless walker's protection chosen by `locking`.
///
/// # Errors
/// As [`run`].
pub fn run_with<A: Arch + Clone>(
    a: &A,
    version: Version,
    locking: WalkerLocking,
    duration: Duration,
    seed: u64,
) -> Result<StressReport, MmError> {
    let g = a.geometry().clone();
    let hsize = g.pmd_size();
    let nr = hsize >> g.page_shift;
    let ranges = 3u64;
    let m = Machine::new(
        &g,
        (2 * ranges + 2) * hsize + 4096 * g.page_size(),
        Mode::Threaded,
    )?;
    let file = AddressSpace::new(m.clone(), "stress", true, ranges * nr);
    let base = (g.task_size() / 4) / hsize * hsize;
    let len = ranges * hsize;
    // Without THP (arm's classic 2-level tables, powerpc hash 4K) there is
    // nothing to collapse: the run keeps every other thread.
    let thp = g.has_thp;
    let flags = vm::READ | vm::WRITE | vm::SHARED | if thp { vm::HUGEPAGE } else { 0 };
    let mk = || -> Result<Arc<Mm<A>>, MmError> {
        let mm = Mm::new(Arc::new(a.clone()), m.clone())?;
        mmap(&mm, base, len, Some(file.clone()), 0, flags)?;
        Ok(mm)
    };
    let (m1, m2) = (mk()?, mk()?);
    let written: Arc<Vec<AtomicBool>> =
        Arc::new((0..ranges * nr).map(|_| AtomicBool::new(false)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 7]> = Arc::new(Default::default());
    let deadline = Instant::now() + duration;
    let page = g.page_size();
    let khuge = Arc::new(Khugepaged::new(a, version));
    if thp {
        khuge.enter(&m1);
        khuge.enter(&m2);
    }

    type Worker = Box<dyn FnOnce() -> Result<(), MmError> + Send>;
    let mut workers: Vec<Worker> = Vec::new();
    // Writer on m1.
    {
        let (mm, written, stop, counts) =
            (m1.clone(), written.clone(), stop.clone(), counts.clone());
        workers.push(Box::new(move || {
            let mut rng = Rng::new(seed);
            while !stop.load(Ordering::Relaxed) {
                let i = rng.below(ranges * nr);
                write_user(&mm, base + i * page, &pattern(i))?;
                written[i as usize].store(true, Ordering::Release);
                counts[0].fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    // Reader on m2: what was written must be read.
    {
        let (mm, written, stop, counts) =
            (m2.clone(), written.clone(), stop.clone(), counts.clone());
        workers.push(Box::new(move || {
            let mut rng = Rng::new(seed ^ 1);
            while !stop.load(Ordering::Relaxed) {
                let i = rng.below(ranges * nr);
                let was = written[i as usize].load(Ordering::Acquire);
                let got = read_user(&mm, base + i * page, 8)?;
                if was && got != pattern(i) {
                    counts[6].fetch_add(1, Ordering::Relaxed);
                }
                counts[1].fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    // Lockless walker over both mms.
    {
        let (mms, stop, counts) = ([m1.clone(), m2.clone()], stop.clone(), counts.clone());
        let ptrs = g.level(crate::arch::Level::Pte).ptrs as u64;
        workers.push(Box::new(move || {
            let mut rng = Rng::new(seed ^ 2);
            while !stop.load(Ordering::Relaxed) {
                let mm = &mms[rng.below(2) as usize];
                let va = base + rng.below(len / page) * page;
                // Before the series a pte-table walker held mmap_lock (v6.4
                // frees retracted tables at once, under mmap_write_lock);
                // walking with RCU alone is what v6.6 made safe.
                let _r = match (version, locking) {
                    (Version::V6_4, WalkerLocking::AsRequired) => Some(mm.mmap_lock.read()?),
                    _ => None,
                };
                if let Some(pmdp) = mm.find_pmd(va)? {
                    if let Some(map) = mm.pte_offset_map(pmdp, va)? {
                        // Stay inside the table across a reschedule, as a
                        // preempted RCU reader would: the window in which a
                        // table freed too early is caught.
                        std::thread::yield_now();
                        for k in 0..4 {
                            map.get_at((map.index() + k) % ptrs)?;
                        }
                    }
                }
                counts[2].fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    // MADV_COLLAPSE on m1, and khugepaged passes.
    if thp {
        let (mm, stop, counts, k) = (m1.clone(), stop.clone(), counts.clone(), khuge.clone());
        workers.push(Box::new(move || {
            let mut rng = Rng::new(seed ^ 3);
            while !stop.load(Ordering::Relaxed) {
                if rng.below(2) == 0 {
                    let r = rng.below(ranges);
                    madvise_collapse(&mm, base + r * hsize, base + (r + 1) * hsize, version)?;
                    counts[3].fetch_add(1, Ordering::Relaxed);
                } else {
                    k.scan()?;
                    counts[4].fetch_add(1, Ordering::Relaxed);
                }
                std::thread::yield_now();
            }
            Ok(())
        }));
    }
    // A third mm that maps, reads, unmaps, maps again and exits.
    {
        let (file, m, stop, counts, a) = (
            file.clone(),
            m.clone(),
            stop.clone(),
            counts.clone(),
            a.clone(),
        );
        workers.push(Box::new(move || {
            let mut rng = Rng::new(seed ^ 4);
            while !stop.load(Ordering::Relaxed) {
                let mm = Mm::new(Arc::new(a.clone()), m.clone())?;
                mmap(&mm, base, len, Some(file.clone()), 0, vm::READ | vm::SHARED)?;
                for _ in 0..8 {
                    let i = rng.below(ranges * nr);
                    read_user(&mm, base + i * page, 8)?;
                }
                if rng.below(2) == 0 {
                    munmap(&mm, base, len)?;
                }
                mm.mmput()?;
                counts[5].fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    let handles: Vec<_> = workers.into_iter().map(std::thread::spawn).collect();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let mut first = Ok(());
    for h in handles {
        let r = h
            .join()
            .unwrap_or_else(|_| Err(MmError::Config("a stress thread panicked".into())));
        if first.is_ok() {
            first = r;
        }
    }
    first?;
    // A last check of every written page through m1, then teardown.
    let mut lost = counts[6].load(Ordering::Relaxed);
    for i in 0..ranges * nr {
        if written[i as usize].load(Ordering::Acquire)
            && read_user(&m1, base + i * page, 8)? != pattern(i)
        {
            lost += 1;
        }
    }
    let mms = [m1, m2];
    for mm in &mms {
        mm.mmput()?;
    }
    m.rcu.rcu_barrier()?;
    m.wq.flush_work();
    let leaked_table_bytes = mms.iter().map(|mm| mm.pgtables_bytes()).sum();
    for f in file.drain() {
        folio_put(&m, &f)?;
    }
    let leaked_frames = m.phys.nr_frames() - 1 - m.phys.nr_free() as u64;
    let c = |i: usize| counts[i].load(Ordering::Relaxed);
    Ok(StressReport {
        writes: c(0),
        reads: c(1),
        walks: c(2),
        collapses: c(3),
        scans: c(4),
        cycles: c(5),
        lost,
        reports: m.reports().all().iter().map(|r| r.to_string()).collect(),
        leaked_table_bytes,
        leaked_frames,
    })
}
