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

use crate::arch::{Arch, Geometry, Level};
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
    /// The top table's physical address with the shape index in the low
    /// bits ([`Mm::top`]): `mm->pgd` and, on s390, the ASCE, published
    /// together.
    top: AtomicU64,
    /// The walk plan of shape 0, for the levels every shape agrees on (the
    /// pmd and pte levels, entry widths, split halves).
    pub(crate) plan: WalkPlan,
    /// One walk plan per shape ([`Arch::shapes`]), padded to 8 with copies
    /// of shape 0 so that indexing by the 3 shape bits needs no bounds
    /// check on the walk's fast path.
    pub(crate) plans: [WalkPlan; 8],
    /// How many of `plans` are real shapes.
    nr_shapes: usize,
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

/// Low bits of the top-table word that hold the shape index.
pub const SHAPE_MASK: u64 = 7;

/// The mm's top table and walk shape, read together ([`Mm::top`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Top {
    /// Physical address of the top table (`__pa(mm->pgd)`).
    pub pa: u64,
    /// Index into [`Arch::shapes`].
    pub shape: usize,
}

impl Top {
    /// The word the mm publishes: `pa | shape`.
    pub fn word(self) -> u64 {
        self.pa | self.shape as u64
    }

    /// Split a published word.
    pub fn from_word(w: u64) -> Self {
        Top {
            pa: w & !SHAPE_MASK,
            shape: (w & SHAPE_MASK) as usize,
        }
    }
}

/// The walk plans of `arch`'s shapes, checked: shape 0 is the arch's
/// geometry, at most 8 shapes, growing task sizes, and the pmd and pte
/// levels, entry widths and split halves the same in every shape (so that
/// pmd and pte pointers need no shape).
fn shape_plans<A: Arch>(arch: &A) -> Result<[WalkPlan; 8], MmError> {
    let shapes = arch.shapes();
    let bad = |why: String| {
        Err(MmError::Unsupported(format!(
            "{}: shapes: {why}",
            arch.geometry().name
        )))
    };
    if shapes.is_empty() || shapes.len() > SHAPE_MASK as usize + 1 {
        return bad(format!("{} shapes (1 to 8 allowed)", shapes.len()));
    }
    if shapes[0] != *arch.geometry() {
        return bad("shape 0 is not the configuration's geometry".into());
    }
    let plans: Vec<WalkPlan> = shapes.iter().map(WalkPlan::new).collect();
    for (i, (g, p)) in shapes.iter().zip(&plans).enumerate().skip(1) {
        let (g0, p0) = (&shapes[i - 1], &plans[i - 1]);
        if g.task_size() <= g0.task_size() {
            return bad(format!("shape {i} does not grow the task size"));
        }
        let pmd = Level::Pmd.index();
        let same = |l: usize| {
            p.real[l] == p0.real[l]
                && p.interp[l] == p0.interp[l]
                && p.interp_of[l] == p0.interp_of[l]
                && p.index[l] == p0.index[l]
        };
        if !(same(pmd) && same(pmd + 1))
            || p.widths != p0.widths
            || p.split != p0.split
            || g.level(Level::Pmd) != g0.level(Level::Pmd)
            || g.level(Level::Pte) != g0.level(Level::Pte)
        {
            return bad(format!(
                "shape {i} differs from shape {} at the pmd or pte level",
                i - 1
            ));
        }
        let (shift, _) = p.index[Level::Pgd.index()];
        if shift < 64 && g0.task_size() > 1u64 << shift {
            return bad(format!(
                "shape {i}'s first top entry does not cover shape {}",
                i - 1
            ));
        }
    }
    Ok(std::array::from_fn(|i| {
        plans.get(i).unwrap_or(&plans[0]).clone()
    }))
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
            .field("shape", &self.top().shape)
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
    /// The mm starts in shape 0 of [`Arch::shapes`] (on s390 a
    /// region-third top table: 3 levels, 4 TiB).
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`] when the pgd cannot be allocated;
    /// [`MmError::Unsupported`] when the arch's shapes are inconsistent
    /// (see [`Arch::shapes`]).
    pub fn new(arch: Arc<A>, machine: Arc<Machine>) -> Result<Arc<Self>, MmError> {
        let plans = shape_plans(&*arch)?;
        let plan = plans[0].clone();
        let nr_shapes = arch.shapes().len();
        let mm = Arc::new_cyclic(|this| Mm {
            this: this.clone(),
            id: machine.next_mm_id(),
            arch,
            machine,
            top: AtomicU64::new(0),
            plan,
            plans,
            nr_shapes,
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
        if mm.nr_shapes > 1 && pgd & SHAPE_MASK != 0 {
            return Err(MmError::Unsupported(format!(
                "{}: top table at {pgd:#x} leaves no room for the shape bits",
                mm.arch.geometry().name
            )));
        }
        mm.top.store(pgd, Ordering::Release);
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
    /// A walk must not combine it with a separate read of the shape: use
    /// [`Mm::top`].
    #[inline]
    pub fn pgd_pa(&self) -> u64 {
        self.top().pa
    }

    /// The top table and the walk shape, from one atomic load (as s390
    /// reads `mm->pgd`, or loads the ASCE, once per walk).  An upgrade
    /// ([`Mm::upgrade`]) publishes both with one store.
    #[inline]
    pub fn top(&self) -> Top {
        Top::from_word(self.top.load(Ordering::Acquire))
    }

    /// What a hardware walker is given as its root ([`crate::emulate::HwWalker::translate`]):
    /// the top table's address with the shape index in the low bits
    /// ([`Top::word`]).  On every arch with one shape it is
    /// [`Mm::pgd_pa`]; the s390 walker loads CR1 with the ASCE of that
    /// shape.
    #[inline]
    pub fn hw_root(&self) -> u64 {
        self.top.load(Ordering::Acquire)
    }

    /// The walk plan of `shape`.
    #[inline]
    pub(crate) fn plan_of(&self, shape: usize) -> &WalkPlan {
        &self.plans[shape & SHAPE_MASK as usize]
    }

    /// The geometry of the mm's current shape.
    pub fn shape_geometry(&self) -> &Geometry {
        &self.arch.shapes()[self.top().shape]
    }

    /// The end of the mm's user address range in its current shape (on
    /// s390 `mm->context.asce_limit`, clipped to `TASK_SIZE`).
    pub fn task_size(&self) -> u64 {
        self.shape_geometry().task_size()
    }

    /// The largest address range any shape of the arch reaches
    /// (`TASK_SIZE_MAX`): the limit of [`Mm::upgrade`].
    pub fn task_size_max(&self) -> u64 {
        self.arch.shapes().last().map_or(0, |g| g.task_size())
    }

    /// `crst_table_upgrade(mm, end)` (`arch/s390/mm/pgalloc.c`, v6.6),
    /// generic over [`Arch::shapes`]: grow the mm to the first shape whose
    /// task size covers `end`.  Returns whether it upgraded.
    ///
    /// The new top tables are allocated with no lock held
    /// ([`Arch::upgrade_table_alloc`]); then, under `page_table_lock`, each
    /// one's first entry is pointed at the old top (`p4d_populate()` /
    /// `pgd_populate()`: the entry value of the level that interprets the
    /// new top, so the right table type and length on s390), and the new
    /// top and its shape are published with one store (`mm->pgd` and
    /// `mm->context.asce` together).  The old top becomes the table one
    /// level down and is accounted as one if that level is (s390:
    /// `mm_inc_nr_puds()` on 3 -> 4 levels, nothing on 4 -> 5), after the
    /// publish, as Linux raises `asce_limit` first.  A lockless walker that
    /// read the old word keeps walking the old top, which stays valid:
    /// every mapping below the old limit is reachable both ways.
    ///
    /// # Errors
    /// [`MmError::Lock`] unless the caller holds `mmap_lock` for write (as
    /// every caller in Linux does); [`MmError::BadVa`] when `end` is beyond
    /// every shape; [`MmError::OutOfMemory`] (nothing changed then);
    /// [`MmError::Retry`] (and a [`Report::Invariant`]) if the top changed
    /// under the lock.
    pub fn upgrade(&self, end: u64) -> Result<bool, MmError> {
        self.upgrade_ordered(end, true)
    }

    /// The flawed order of [`Mm::upgrade`]: publish the new top *before*
    /// pointing its first entry at the old top.  A lockless walker that
    /// reads the new word in between finds an empty first entry and loses
    /// every mapping below the old limit.  Not what Linux does
    /// (`crst_table_upgrade()` populates, then assigns `mm->pgd`); kept so
    /// tests and loom models can show that the order matters.
    ///
    /// # Errors
    /// As [`Mm::upgrade`].
    pub fn upgrade_publish_before_link(&self, end: u64) -> Result<bool, MmError> {
        self.upgrade_ordered(end, false)
    }

    fn upgrade_ordered(&self, end: u64, link_first: bool) -> Result<bool, MmError> {
        self.mmap_lock.assert_write_locked()?;
        let shapes = self.arch.shapes();
        let cur = self.top();
        if end <= shapes[cur.shape].task_size() {
            return Ok(false);
        }
        let target = (cur.shape + 1..shapes.len())
            .find(|&s| end <= shapes[s].task_size())
            .ok_or(MmError::BadVa {
                va: end - 1,
                limit: self.task_size_max(),
            })?;
        let mut tops: Vec<Top> = Vec::new();
        for shape in cur.shape + 1..=target {
            let r = self.arch.upgrade_table_alloc(self, shape).and_then(|pa| {
                if pa & SHAPE_MASK != 0 {
                    let _ = self.arch.table_free(self, Level::Pgd, pa);
                    Err(MmError::Unsupported(format!(
                        "top table at {pa:#x} leaves no room for the shape bits"
                    )))
                } else {
                    Ok(pa)
                }
            });
            match r {
                Ok(pa) => tops.push(Top { pa, shape }),
                Err(e) => {
                    for t in tops {
                        let _ = self.arch.table_free(self, Level::Pgd, t.pa);
                    }
                    return Err(e);
                }
            }
        }
        let _ptl = self.page_table_lock.lock()?;
        if self.top() != cur {
            // VM_BUG_ON(asce_limit != mm->context.asce_limit)
            self.machine.reports().push(Report::Invariant(format!(
                "mm {}: top changed during an upgrade under mmap_lock",
                self.id
            )));
            for t in tops {
                let _ = self.arch.table_free(self, Level::Pgd, t.pa);
            }
            return Err(MmError::Retry);
        }
        let mut old = cur;
        for new in tops {
            let interp = self.plans[new.shape].interp_of[Level::Pgd.index()];
            let first = crate::walk::EntryPtr {
                pa: new.pa,
                level: Level::Pgd,
                shape: new.shape as u8,
            };
            let a = &*self.arch;
            let v = match interp {
                Level::Pgd => a.pgd_populate(old.pa).0,
                Level::P4d => a.p4d_populate(old.pa).0,
                Level::Pud => a.pud_populate(old.pa).0,
                _ => a.pmd_populate(old.pa).0,
            };
            if link_first {
                self.set_entry(first, v)?;
                self.top.store(new.word(), Ordering::Release);
            } else {
                self.top.store(new.word(), Ordering::Release);
                self.set_entry(first, v)?;
            }
            self.inc_nr_tables(Level::ALL[interp.index() + 1]);
            self.machine
                .events()
                .push(|| crate::event::Event::TableAlloc {
                    level: "pgd (upgrade)",
                    pa: new.pa,
                    fragment: None,
                });
            old = new;
        }
        Ok(true)
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
    ///
    /// Per the mm's current shape, as Linux's `mm_inc_nr_puds()` skips
    /// `mm_pud_folded(mm)` (on s390, an mm still at 3 levels).
    pub fn table_account_bytes(&self, level: Level) -> i64 {
        let g = self.shape_geometry();
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
        let pgd = Top::from_word(self.top.swap(0, Ordering::AcqRel)).pa;
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
