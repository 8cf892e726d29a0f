//! The mm: `struct mm_struct`, reduced to what page-table management needs.
//!
//! Two reference counts, as in Linux (`include/linux/sched/mm.h`):
//! `mm_users` counts users of the address space (when it drops to zero the
//! page tables are torn down: `mmput()` -> `exit_mmap()`), and `mm_count`
//! counts references to the `mm_struct` itself (when it drops to zero the
//! structure and its pgd are freed: `mmdrop()` -> `__mmdrop()`).  All users
//! together hold one `mm_count`.
//!
//! `__mmdrop()` may sleep, so it must not run from an RCU callback (softirq
//! context); `mmdrop_async()` hands it to the workqueue instead.  The model
//! reports a `__mmdrop()` reached from an RCU callback as
//! [`Report::MmdropInRcuCallback`], which is what s390's v1
//! `pte_free_defer()` had to avoid.
//!
//! `pgtables_bytes` is the page-table accounting (`mm_inc_nr_ptes()` and
//! friends); `check_mm()` reports it non-zero when the mm is freed.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::arch::{Arch, Level};
use crate::lock::{RwSem, SpinLock};
use crate::machine::Machine;
use crate::phys::PhysMem;
use crate::rcu::{in_rcu_callback, Rcu};
use crate::report::Report;
use crate::sync::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use crate::vma::Vma;
use crate::walk::WalkPlan;
use crate::MmError;

/// One address space.
pub struct Mm<A: Arch> {
    id: u64,
    arch: Arc<A>,
    machine: Arc<Machine>,
    pgd: AtomicU64,
    pub(crate) plan: WalkPlan,
    /// `mm->mmap_lock`.
    pub mmap_lock: RwSem,
    /// `mm->page_table_lock`: the pte lock when pte locks are not split, the
    /// pmd lock when pmd locks are not split, and the lock for populating
    /// upper levels.
    pub page_table_lock: SpinLock,
    mm_users: AtomicI64,
    mm_count: AtomicI64,
    pgtables_bytes: AtomicI64,
    freed: AtomicBool,
    torn_down: AtomicBool,
    vmas: std::sync::Mutex<BTreeMap<u64, Arc<Vma<A>>>>,
    rss: [AtomicI64; 3],
    /// The architecture's per-mm state (`mm->context`).
    pub context: A::MmContext,
    /// The `Arc` this mm lives in (see [`Mm::to_arc`]).
    this: std::sync::Weak<Mm<A>>,
}

/// The rss counters (`MM_FILEPAGES`, `MM_ANONPAGES`, `MM_SHMEMPAGES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rss {
    /// `MM_FILEPAGES`.
    File = 0,
    /// `MM_ANONPAGES`.
    Anon = 1,
    /// `MM_SHMEMPAGES`.
    Shmem = 2,
}

impl<A: Arch> std::fmt::Debug for Mm<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mm")
            .field("id", &self.id)
            .field("arch", &self.arch.geometry().name)
            .field("pgd", &format_args!("{:#x}", self.pgd_pa()))
            .field("mm_users", &self.mm_users())
            .field("mm_count", &self.mm_count())
            .field("pgtables_bytes", &self.pgtables_bytes())
            .finish()
    }
}

impl<A: Arch> Mm<A> {
    /// `mm_alloc()` + `pgd_alloc()`: a new, empty address space with
    /// `mm_users == mm_count == 1`.
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`] when the pgd cannot be allocated.
    pub fn new(arch: Arc<A>, machine: Arc<Machine>) -> Result<Arc<Self>, MmError> {
        let plan = WalkPlan::new(arch.geometry());
        let mm = Arc::new_cyclic(|this| Mm {
            this: this.clone(),
            id: machine.next_mm_id(),
            arch,
            machine,
            pgd: AtomicU64::new(0),
            plan,
            mmap_lock: RwSem::new("mmap_lock"),
            page_table_lock: SpinLock::new("page_table_lock"),
            mm_users: AtomicI64::new(1),
            mm_count: AtomicI64::new(1),
            pgtables_bytes: AtomicI64::new(0),
            freed: AtomicBool::new(false),
            torn_down: AtomicBool::new(false),
            vmas: std::sync::Mutex::new(BTreeMap::new()),
            rss: [AtomicI64::new(0), AtomicI64::new(0), AtomicI64::new(0)],
            context: A::MmContext::default(),
        });
        let pgd = mm.arch.table_alloc(&mm, Level::Pgd)?;
        mm.pgd.store(pgd, Ordering::Release);
        Ok(mm)
    }

    /// The `Arc` holding this mm, for code that is handed `&Mm` but must keep
    /// the structure alive past the call (s390's v1 `pte_free_defer()`
    /// stores the mm for its RCU callback, after `mmgrab()`).  `None` only
    /// while the last `Arc` is being dropped.
    pub fn to_arc(&self) -> Option<Arc<Self>> {
        self.this.upgrade()
    }

    /// A small id, unique on its machine.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The architecture configuration.
    #[inline]
    pub fn arch(&self) -> &A {
        &self.arch
    }

    /// The architecture configuration, shared.
    pub fn arch_arc(&self) -> &Arc<A> {
        &self.arch
    }

    /// The machine the mm lives on.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.machine
    }

    /// Physical memory.
    #[inline]
    pub fn phys(&self) -> &PhysMem {
        &self.machine.phys
    }

    /// RCU.
    pub fn rcu(&self) -> &Rcu {
        &self.machine.rcu
    }

    /// Physical address of the pgd (what CR3, TTBR0 or the ASCE points at).
    #[inline]
    pub fn pgd_pa(&self) -> u64 {
        self.pgd.load(Ordering::Acquire)
    }

    /// `mm->mm_users`.
    pub fn mm_users(&self) -> i64 {
        self.mm_users.load(Ordering::Acquire)
    }

    /// `mm->mm_count`.
    pub fn mm_count(&self) -> i64 {
        self.mm_count.load(Ordering::Acquire)
    }

    /// `mm->pgtables_bytes`.
    pub fn pgtables_bytes(&self) -> i64 {
        self.pgtables_bytes.load(Ordering::Acquire)
    }

    /// True once the last `mmdrop()` freed the mm.
    pub fn is_freed(&self) -> bool {
        self.freed.load(Ordering::Acquire)
    }

    /// Report (and refuse) a use of an mm that has been freed.
    ///
    /// # Errors
    /// [`MmError::MmFreed`] when the mm is freed.
    pub fn check_alive(&self, what: &str) -> Result<(), MmError> {
        if self.is_freed() {
            self.machine.reports().push(Report::MmUseAfterFree {
                mm: self.id,
                what: what.to_string(),
            });
            return Err(MmError::MmFreed { mm: self.id });
        }
        Ok(())
    }

    /// Bytes Linux accounts for one table at `level`
    /// (`PTRS_PER_PTE * sizeof(pte_t)` in `mm_inc_nr_ptes()`, likewise for
    /// pmds and puds; p4d and pgd tables are not accounted).
    pub fn table_account_bytes(&self, level: Level) -> i64 {
        let g = self.arch.geometry();
        match level {
            Level::Pte | Level::Pmd | Level::Pud => {
                g.level(level).ptrs as i64 * g.level(level).entry_bytes as i64
            }
            Level::P4d | Level::Pgd => 0,
        }
    }

    /// `mm_inc_nr_ptes()` / `mm_inc_nr_pmds()` / `mm_inc_nr_puds()`.
    pub fn inc_nr_tables(&self, level: Level) {
        self.pgtables_bytes
            .fetch_add(self.table_account_bytes(level), Ordering::AcqRel);
    }

    /// `mm_dec_nr_ptes()` / `mm_dec_nr_pmds()` / `mm_dec_nr_puds()`.
    pub fn dec_nr_tables(&self, level: Level) {
        self.pgtables_bytes
            .fetch_sub(self.table_account_bytes(level), Ordering::AcqRel);
    }

    /// `add_mm_counter()`.
    pub fn add_rss(&self, kind: Rss, delta: i64) {
        self.rss[kind as usize].fetch_add(delta, Ordering::AcqRel);
    }

    /// `get_mm_counter()`.
    pub fn rss(&self, kind: Rss) -> i64 {
        self.rss[kind as usize].load(Ordering::Acquire)
    }

    fn vma_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Vma<A>>>> {
        self.vmas.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `vma_lookup(mm, addr)`: the vma containing `addr`.  Linux needs
    /// `mmap_lock` (or the vma lock) for the result to stay valid; the model
    /// returns a counted reference, so a vma unmapped meanwhile is detached,
    /// not freed.
    pub fn vma_lookup(&self, addr: u64) -> Option<Arc<Vma<A>>> {
        self.vma_map()
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v.clone())
            .filter(|v| v.contains(addr))
    }

    /// Every vma, in address order.
    pub fn vmas(&self) -> Vec<Arc<Vma<A>>> {
        self.vma_map().values().cloned().collect()
    }

    pub(crate) fn vma_insert(&self, vma: Arc<Vma<A>>) -> Result<(), MmError> {
        let mut map = self.vma_map();
        let clash = map
            .range(..vma.end)
            .next_back()
            .is_some_and(|(_, v)| v.end > vma.start);
        if clash {
            return Err(MmError::AlreadyMapped {
                va: vma.start,
                what: "an existing vma".into(),
            });
        }
        map.insert(vma.start, vma);
        Ok(())
    }

    pub(crate) fn vma_remove(&self, start: u64) -> Option<Arc<Vma<A>>> {
        self.vma_map().remove(&start)
    }

    /// `flush_tlb_mm()` / `flush_tlb_range()` after clearing entries: wait
    /// until no CPU is in the middle of an access through a translation it
    /// looked up before the clear (the shootdown IPI waits for each CPU).
    /// Pages unmapped before the flush may be freed or copied after it.
    ///
    /// # Errors
    /// [`MmError::Rcu`] when called from inside a user access.
    pub fn flush_tlb(&self) -> Result<(), MmError> {
        Ok(self.machine.irq.synchronize_rcu()?)
    }

    /// `mmget()`.
    pub fn mmget(&self) {
        self.mm_users.fetch_add(1, Ordering::AcqRel);
    }

    /// `mmget_not_zero()`.
    pub fn mmget_not_zero(&self) -> bool {
        let mut cur = self.mm_users.load(Ordering::Acquire);
        while cur > 0 {
            match self.mm_users.compare_exchange_weak(
                cur,
                cur + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(v) => cur = v,
            }
        }
        false
    }

    /// `mmgrab()`.
    pub fn mmgrab(&self) {
        self.mm_count.fetch_add(1, Ordering::AcqRel);
    }

    /// `mmput()`: drop a user; the last one tears the page tables down
    /// (`exit_mmap()`: `free_pgtables()` over the whole range, then
    /// `arch_exit_mmap()`) and drops the users' `mm_count`.
    ///
    /// # Errors
    /// Errors of freeing the tables (a page that fails its free checks);
    /// teardown continues past them and the first is returned.
    pub fn mmput(&self) -> Result<(), MmError> {
        self.check_alive("mmput")?;
        if self.mm_users.fetch_sub(1, Ordering::AcqRel) != 1 {
            return Ok(());
        }
        let r = self.exit_mmap();
        self.mmdrop()?;
        r
    }

    /// `mmdrop()`: drop a reference to the structure; the last one frees it
    /// (`__mmdrop()`).  From an RCU callback that is a bug, reported as
    /// [`Report::MmdropInRcuCallback`] (the drop still happens, as Linux
    /// would attempt it).
    ///
    /// # Errors
    /// [`MmError::MmFreed`] when the mm was already freed.
    pub fn mmdrop(&self) -> Result<(), MmError> {
        self.check_alive("mmdrop")?;
        if self.mm_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            if in_rcu_callback() {
                self.machine
                    .reports()
                    .push(Report::MmdropInRcuCallback { mm: self.id });
            }
            self.__mmdrop("mmdrop");
        }
        Ok(())
    }

    /// `mmdrop_async()`: like [`Mm::mmdrop`], but the final `__mmdrop()` runs
    /// later on the workqueue, so it is safe from an RCU callback.
    ///
    /// # Errors
    /// [`MmError::MmFreed`] when the mm was already freed.
    pub fn mmdrop_async(self: &Arc<Self>) -> Result<(), MmError> {
        self.check_alive("mmdrop_async")?;
        if self.mm_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            let mm = self.clone();
            self.machine.wq.schedule_work(Box::new(move || {
                mm.__mmdrop("mmdrop_async, on the workqueue")
            }));
        }
        Ok(())
    }

    /// `__mmdrop()`: free the pgd and check the accounting (`check_mm()`).
    fn __mmdrop(&self, how: &str) {
        self.machine
            .events()
            .push(|| crate::event::Event::MmDropped {
                mm: self.id,
                how: how.to_string(),
            });
        let bytes = self.pgtables_bytes();
        if bytes != 0 {
            self.machine
                .reports()
                .push(Report::PgtablesBytesLeak { mm: self.id, bytes });
        }
        let pgd = self.pgd.swap(0, Ordering::AcqRel);
        if pgd != 0 {
            // A pgd that fails its free checks is reported by free_page().
            let _ = self.arch.table_free(self, Level::Pgd, pgd);
        }
        self.freed.store(true, Ordering::Release);
    }

    /// `exit_mmap()`: free every page table below the pgd and run the arch
    /// hook.  Idempotent.
    fn exit_mmap(&self) -> Result<(), MmError> {
        if self.torn_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // unmap_vmas(), then free_pgtables() unlinking each file vma from
        // its i_mmap first, so that rmap walkers (retract_page_tables) no
        // longer find the tables being freed.  The tables are then freed at
        // once, not through an RCU-deferred mmu_gather batch as munmap
        // does: retract skips mms with mm_users == 0 and no thread of the
        // exiting mm walks it any more (remote GUP-fast is not modelled).
        let mut first = Ok(());
        for vma in self.vmas() {
            let r =
                crate::mmap::zap_vma(self, &vma).and_then(|_| crate::mmap::unlink_vma(self, &vma));
            if first.is_ok() {
                first = r;
            }
        }
        let r = crate::map::free_pgtables(self).and(first);
        let r2 = self.arch.exit_mmap(self);
        r.and(r2)
    }
}
