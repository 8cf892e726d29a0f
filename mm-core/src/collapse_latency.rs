//! The latency the series buys: fault latency in an mm while
//! `MADV_COLLAPSE` collapses shmem ranges of the same mm, with v6.4's and
//! v6.6's khugepaged side by side.
//!
//! One thread collapses PMD ranges of a shmem mapping; the other threads
//! fault pages of another shmem mapping of the same mm (write faults under
//! `mmap_read_lock`), zapping their range with `MADV_DONTNEED` (also under
//! `mmap_read_lock`) and faulting it again, timing every fault.  v6.4's
//! `collapse_pte_mapped_thp()` takes `mmap_write_lock` (and its retract
//! `mmap_write_trylock`), so faults queue behind it; v6.6 takes only
//! `mmap_read_lock`.  The model's operations are much cheaper than the
//! kernel's (no real TLB flushes, no LRU, no memcg), so absolute times say
//! little; the ratio between the versions, measured in one run on the same
//! machine, is the point.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::arch::Arch;
use crate::fault::handle_fault;
use crate::file::AddressSpace;
use crate::khugepaged::{madvise_collapse, ScanResult, Version};
use crate::machine::{Machine, Mode};
use crate::mm::Mm;
use crate::mmap::{madvise_dontneed, mmap};
use crate::vma::vm;
use crate::MmError;

/// Parameters of one run.
#[derive(Clone, Copy, Debug)]
pub struct LatencyParams {
    /// PMD ranges the collapsing thread works through.
    pub ranges: u64,
    /// Faulting threads.
    pub faulters: usize,
    /// Pages each faulting thread faults before zapping and starting over.
    pub pages_per_faulter: u64,
}

impl Default for LatencyParams {
    fn default() -> Self {
        LatencyParams {
            ranges: 24,
            faulters: 2,
            pages_per_faulter: 64,
        }
    }
}

/// Fault-latency percentiles and collapse outcomes of one version.
#[derive(Clone, Debug)]
pub struct LatencyReport {
    /// v6.4 or v6.6.
    pub version: Version,
    /// Faults timed.
    pub faults: u64,
    /// Median fault latency, ns.
    pub p50_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// 99.9th percentile, ns.
    pub p999_ns: u64,
    /// Worst fault, ns.
    pub max_ns: u64,
    /// Faults per second over the run.
    pub faults_per_sec: f64,
    /// Ranges `MADV_COLLAPSE` was asked to collapse.
    pub collapses: u64,
    /// Of those, how many ended PMD-mapped.
    pub pmd_mapped: u64,
    /// Wall time of the run, s.
    pub seconds: f64,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Run the scenario for `version`.
///
/// # Errors
/// [`MmError`] when the setup fails (memory) or a thread reports an error.
pub fn run<A: Arch + Clone>(
    a: &A,
    version: Version,
    p: LatencyParams,
) -> Result<LatencyReport, MmError> {
    let g = a.geometry().clone();
    if !g.has_thp {
        return Err(MmError::Unsupported(format!(
            "{} has no transparent huge pages",
            g.name
        )));
    }
    let hsize = g.pmd_size();
    let nr = hsize >> g.page_shift;
    let page = g.page_size();
    let frames = p.ranges * (nr + 16) + p.faulters as u64 * p.pages_per_faulter * 2 + 4096;
    let m = Machine::new(&g, frames * page, Mode::Threaded)?;
    let mm = Mm::new(Arc::new(a.clone()), m.clone())?;
    let base = (g.task_size() / 8) / hsize * hsize;
    let hot = AddressSpace::new(m.clone(), "collapse-me", true, p.ranges * nr);
    mmap(
        &mm,
        base,
        p.ranges * hsize,
        Some(hot.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED | vm::HUGEPAGE,
    )?;
    let fbase = base + (p.ranges + 1) * hsize;
    let fpages = p.faulters as u64 * p.pages_per_faulter;
    let work = AddressSpace::new(m.clone(), "fault-me", true, fpages);
    mmap(
        &mm,
        fbase,
        fpages * page,
        Some(work.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED,
    )?;
    // Give each collapse range a few pages mapped by ptes.
    for r in 0..p.ranges {
        for i in (0..nr).step_by((nr / 8).max(1) as usize) {
            handle_fault(&mm, base + r * hsize + i * page, true)?;
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let faulters: Vec<_> = (0..p.faulters)
        .map(|t| {
            let (mm, stop) = (mm.clone(), stop.clone());
            let lo = fbase + t as u64 * p.pages_per_faulter * page;
            let n = p.pages_per_faulter;
            std::thread::spawn(move || -> Result<Vec<u64>, MmError> {
                let mut lat = Vec::new();
                // At least one round, however soon the collapses end.
                loop {
                    for i in 0..n {
                        let t0 = Instant::now();
                        handle_fault(&mm, lo + i * page, true)?;
                        lat.push(t0.elapsed().as_nanos() as u64);
                    }
                    madvise_dontneed(&mm, lo, n * page)?;
                    if stop.load(Ordering::Relaxed) {
                        return Ok(lat);
                    }
                }
            })
        })
        .collect();
    let mut collapses = 0;
    let mut pmd_mapped = 0;
    let mut err = None;
    for r in 0..p.ranges {
        let addr = base + r * hsize;
        match madvise_collapse(&mm, addr, addr + hsize, version) {
            Ok(res) => {
                collapses += 1;
                if matches!(
                    res.first(),
                    Some((_, ScanResult::Succeed | ScanResult::PmdMapped))
                ) {
                    pmd_mapped += 1;
                }
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let seconds = start.elapsed().as_secs_f64();
    let mut lat = Vec::new();
    for f in faulters {
        match f.join() {
            Ok(Ok(v)) => lat.extend(v),
            Ok(Err(e)) => err = err.or(Some(e)),
            Err(_) => err = err.or(Some(MmError::Config("a faulting thread panicked".into()))),
        }
    }
    if let Some(e) = err {
        return Err(e);
    }
    mm.mmput()?;
    m.rcu.rcu_barrier()?;
    for f in hot.drain().into_iter().chain(work.drain()) {
        crate::file::folio_put(&m, &f)?;
    }
    lat.sort_unstable();
    Ok(LatencyReport {
        version,
        faults: lat.len() as u64,
        p50_ns: percentile(&lat, 0.50),
        p99_ns: percentile(&lat, 0.99),
        p999_ns: percentile(&lat, 0.999),
        max_ns: lat.last().copied().unwrap_or(0),
        faults_per_sec: lat.len() as f64 / seconds.max(1e-9),
        collapses,
        pmd_mapped,
        seconds,
    })
}
