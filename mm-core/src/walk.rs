//! The page-table walk API, with Linux v6.6 semantics
//! (`include/linux/pgtable.h`, `mm/pgtable-generic.c`).
//!
//! Pointers to entries are physical addresses ([`EntryPtr`]).  Upper levels
//! are walked with `pgd_offset()` .. `pmd_offset()`; folded levels return the
//! pointer they were given, as in `asm-generic/pgtable-nop4d.h` and friends.
//! The entry of a physical table is interpreted with the helpers of the
//! lowest level folded into it (on x86-64 4-level the top table's entries
//! are p4d entries, on x86 2-level the page directory's are pmds), and the
//! helpers of the levels folded above it are the trivial ones (`pgd_none()`
//! is 0, `pgd_bad()` is 0, `pgd_present()` is 1).
//!
//! The pte level is where the v6.6 series lives:
//!
//! * [`Mm::__pte_offset_map`] takes `rcu_read_lock()`, reads the pmd once
//!   (`pmdp_get_lockless()`, with "interrupts off" around it on x86 PAE),
//!   and **fails** — returning `None` with nothing held — when that snapshot
//!   is none, a migration entry, trans-huge or devmap; a bad pmd is cleared
//!   (`pmd_clear_bad()`) and fails too.  On success RCU stays held until the
//!   returned [`PteMap`] is unmapped (dropped: `pte_unmap()`), so the table
//!   cannot be freed under the reader even if `retract_page_tables()`
//!   detaches it meanwhile: it stays a valid, empty, disconnected table.
//! * [`Mm::pte_offset_map_nolock`] also returns the lock of the table it
//!   mapped (computed from the same snapshot), without taking it.
//! * [`Mm::pte_offset_map_lock`] takes that lock and re-checks that the pmd
//!   still holds the snapshot (`pmd_same()`), retrying from the start if not:
//!   a table can then only be removed by someone holding its lock.
//!
//! Reads through a [`PteMap`] check that the table page is still the one that
//! was mapped; a read after it was freed is reported as a use-after-free.

use crate::arch::{Arch, Geometry, Level, P4d, Pgd, Pmd, Pte, Pud};
use crate::lock::{SpinGuard, SpinLock};
use crate::mm::{Mm, Top};
use crate::rcu::Rcu;
use crate::report::Report;
use crate::swapops;
use crate::MmError;

/// Pointer to one entry: its physical address, the level it is at, and the
/// walk shape it was found under.
///
/// The shape matters above the pmd only: on s390 the number of levels is
/// per mm and can grow ([`Mm::upgrade`]), and a walk must fold levels the
/// way the top table it started from says (`pgd_offset_raw()` takes the
/// shift from the first top entry's type, `p4d_offset()`/`pud_offset()`
/// fold by the entry type).  [`Mm::pgd_offset`] reads the mm's top table and
/// shape together, once, and every `*_offset()` below carries that shape
/// on, so a lockless walk racing an upgrade stays in one shape.  Pmd and
/// pte pointers always carry shape 0: every shape agrees on those levels
/// (checked by [`Mm::new`]), so equal pmd pointers compare equal whichever
/// walk found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryPtr {
    /// Physical address of the entry.
    pub pa: u64,
    /// The level the pointer is typed as (`pud_t *`, `pmd_t *`, ...).
    pub level: Level,
    /// Index into [`Arch::shapes`] of the walk that produced the pointer
    /// (0 at the pmd and pte levels, and on every arch with one shape).
    pub shape: u8,
}

impl EntryPtr {
    /// A pointer to the entry at `pa`, typed as `level`, in shape 0 (what
    /// pmd and pte pointers always use).
    pub const fn new(pa: u64, level: Level) -> Self {
        EntryPtr {
            pa,
            level,
            shape: 0,
        }
    }
}

/// Which levels own a physical table and which helpers interpret its
/// entries; derived once from the [`Geometry`].
#[derive(Clone, Debug)]
pub struct WalkPlan {
    /// The level has its own table (the pgd always does).
    pub real: [bool; 5],
    /// The level's helpers are the real ones for the entries of its table
    /// (the lowest level folded into a physical table).
    pub interp: [bool; 5],
    /// For each level, the level whose helpers interpret its entries.
    pub interp_of: [Level; 5],
    /// Width in bytes of a pte.
    pub width: u32,
    /// Per level, the width of the entries of the physical table that
    /// level's entries live in.
    pub widths: [u32; 5],
    /// x86 PAE style split halves.
    pub split: bool,
    /// Per level, the shift and mask that select an entry of the physical
    /// table this level's entries live in (the table of the highest level
    /// sharing it), so a walk needs no folding logic in its loop.
    pub index: [(u32, u64); 5],
}

impl WalkPlan {
    /// Derive the plan from `g`.
    pub fn new(g: &Geometry) -> Self {
        let mut real = [false; 5];
        for l in Level::ALL {
            real[l.index()] = l == Level::Pgd || l == Level::Pte || !g.level(l).is_folded();
        }
        let mut interp = [false; 5];
        let mut interp_of = [Level::Pte; 5];
        // A level interprets its table's entries when the next level down
        // has its own table (or it is the pte level).
        for (i, l) in Level::ALL.iter().enumerate() {
            interp[i] = *l == Level::Pte || real[i + 1];
        }
        for (i, slot) in interp_of.iter_mut().enumerate() {
            let mut j = i;
            while !interp[j] {
                j += 1;
            }
            *slot = Level::ALL[j];
        }
        let top = |i: usize| {
            let mut top = i;
            while !real[top] {
                top -= 1;
            }
            g.level(Level::ALL[top])
        };
        let index = std::array::from_fn(|i| {
            let lg = top(i);
            (lg.shift, (lg.ptrs.max(1) as u64) - 1)
        });
        let widths = std::array::from_fn(|i| match top(i).entry_bytes {
            0 => g.entry_bytes,
            w => w,
        });
        WalkPlan {
            real,
            interp,
            interp_of,
            widths,
            width: widths[Level::Pte.index()],
            split: g.split_halves,
            index,
        }
    }
}

/// The pte table of one address, mapped by a `pte_offset_map*()` call.
///
/// Holds `rcu_read_lock()` until dropped (`pte_unmap()`).
pub struct PteMap<'a, A: Arch> {
    mm: &'a Mm<A>,
    table_pa: u64,
    gen: u64,
    index: u64,
    rcu: &'a Rcu,
}

impl<A: Arch> std::fmt::Debug for PteMap<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PteMap")
            .field("table_pa", &format_args!("{:#x}", self.table_pa))
            .field("index", &self.index)
            .finish()
    }
}

impl<'a, A: Arch> PteMap<'a, A> {
    /// Physical address of the mapped pte table.
    pub fn table_pa(&self) -> u64 {
        self.table_pa
    }

    /// Index of the address's pte in the table.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Pointer to the address's pte (what `pte_offset_map()` returns).
    pub fn ptep(&self) -> EntryPtr {
        self.ptep_at(self.index)
    }

    /// Pointer to pte `index` of the mapped table.
    pub fn ptep_at(&self, index: u64) -> EntryPtr {
        EntryPtr::new(
            self.table_pa + index * self.mm.plan.width as u64,
            Level::Pte,
        )
    }

    /// `ptep_get(pte)` for the address's pte.
    ///
    /// # Errors
    /// [`MmError::StaleRead`] when the table was freed since it was mapped
    /// (also reported).
    pub fn get(&self) -> Result<Pte, MmError> {
        self.get_at(self.index)
    }

    /// `ptep_get(pte + (index - pte_index(addr)))`: any pte of the mapped
    /// table (`index` below `PTRS_PER_PTE`).
    ///
    /// # Errors
    /// As [`PteMap::get`].
    pub fn get_at(&self, index: u64) -> Result<Pte, MmError> {
        let pa = self.ptep_at(index).pa;
        let phys = self.mm.phys();
        let v = if self.mm.plan.split {
            // ptep_get() on PAE: two halves, low first.
            let lo = phys.load_half(pa, false)? as u64;
            let hi = phys.load_half(pa, true)? as u64;
            lo | hi << 32
        } else {
            phys.load(pa, self.mm.plan.width)?
        };
        phys.check_table(pa, self.gen)?;
        Ok(Pte(v))
    }

    /// `set_pte_at()` / `pte_clear()` on pte `index` of the mapped table.
    /// The caller is expected to hold the table's lock.
    ///
    /// # Errors
    /// [`MmError::StaleRead`] when the table was freed since it was mapped.
    pub fn set_at(&self, index: u64, pte: Pte) -> Result<(), MmError> {
        let pa = self.ptep_at(index).pa;
        self.mm.phys().check_table(pa, self.gen)?;
        self.mm.set_pte_raw(pa, pte)
    }

    /// `pte_unmap()`: drop the mapping and the RCU read lock.
    pub fn pte_unmap(self) {}
}

impl<A: Arch> Drop for PteMap<'_, A> {
    fn drop(&mut self) {
        // Balanced by construction: every PteMap took the lock once.
        let _ = self.rcu.rcu_read_unlock();
    }
}

/// A pte table mapped and locked by [`Mm::pte_offset_map_lock`].
///
/// Dropping it is `pte_unmap_unlock()`: the lock is released first, then
/// the RCU read lock (field order).
pub struct PteMapLocked<'a, A: Arch> {
    ptl: SpinGuard<'a>,
    map: PteMap<'a, A>,
}

impl<A: Arch> std::fmt::Debug for PteMapLocked<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PteMapLocked")
            .field("map", &self.map)
            .finish()
    }
}

impl<'a, A: Arch> PteMapLocked<'a, A> {
    /// The mapping.
    pub fn map(&self) -> &PteMap<'a, A> {
        &self.map
    }

    /// The lock held (`*ptlp`).
    pub fn ptl(&self) -> &SpinLock {
        self.ptl.lock()
    }

    /// `ptep_get()` of the address's pte (see [`PteMap::get`]).
    ///
    /// # Errors
    /// As [`PteMap::get`].
    pub fn get(&self) -> Result<Pte, MmError> {
        self.map.get()
    }

    /// `pte_unmap_unlock()`.
    pub fn pte_unmap_unlock(self) {}
}

/// Interrupts-off section around a lockless pmd read on x86 PAE
/// (`pmdp_get_lockless_start()`/`_end()`); dropping it ends the section.
pub struct IrqOff<'a> {
    rcu: Option<&'a Rcu>,
}

impl Drop for IrqOff<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.rcu {
            let _ = r.rcu_read_unlock();
        }
    }
}

impl<A: Arch> Mm<A> {
    // ---- raw entry access -------------------------------------------

    /// Load the entry at `pa` (an atomic load at the entry width; on PAE a
    /// single 64-bit load, as code holding the relevant lock may do).
    ///
    /// # Errors
    /// [`MmError::BadAddress`] / [`MmError::Misaligned`].
    #[inline]
    pub fn load_entry(&self, p: EntryPtr) -> Result<u64, MmError> {
        self.phys().load(p.pa, self.plan.widths[p.level.index()])
    }

    /// Width in bytes of the entries `level` lives in (the same in every
    /// shape: [`Mm::new`] checks it).
    pub fn entry_width(&self, level: Level) -> u32 {
        self.plan.widths[level.index()]
    }

    /// `set_pte()`: store a pte.  On x86 PAE a present pte is stored high
    /// half first, then the low half (which holds _PAGE_PRESENT), so a
    /// lockless reader never sees a present low half with a stale high half
    /// (`native_set_pte()` in pgtable-3level.h); a not-present value is
    /// stored low first (`native_pte_clear()`).  The value stored is
    /// [`Arch::set_pte_at_val`] of `pte`; a hardware twin, if the arch keeps
    /// one ([`Arch::pte_hw_twin`]), is stored after it.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn set_pte_raw(&self, pa: u64, pte: Pte) -> Result<(), MmError> {
        let phys = self.phys();
        let linux = pte;
        let pte = self.arch().set_pte_at_val(pte);
        if self.plan.split {
            let (lo, hi) = (pte.0 as u32, (pte.0 >> 32) as u32);
            if self.arch().pte_present(pte) {
                phys.store_half(pa, true, hi)?;
                phys.store_half(pa, false, lo)?;
            } else {
                phys.store_half(pa, false, lo)?;
                phys.store_half(pa, true, hi)?;
            }
        } else {
            phys.store(pa, self.plan.width, pte.0)?;
        }
        if let Some((twin, v)) = self.arch().pte_hw_twin(pa, linux) {
            phys.store(twin, self.plan.width, v)?;
        }
        Ok(())
    }

    /// `set_pmd()` (and `set_pud()`, `set_pgd()`): store an upper-level entry.
    /// On x86 PAE this is `pxx_xchg64()`, one 64-bit atomic update (v6.2+).
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn set_entry(&self, p: EntryPtr, val: u64) -> Result<(), MmError> {
        match self.plan.widths[p.level.index()] {
            8 => self.phys().xchg64(p.pa, val).map(|_| ()),
            w => self.phys().store(p.pa, w, val),
        }
    }

    /// `pmdp_get()`: read a pmd (lock held or value not relied on).
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pmdp_get(&self, pmdp: EntryPtr) -> Result<Pmd, MmError> {
        Ok(Pmd(self.load_entry(pmdp)?))
    }

    /// `pudp_get()`.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pudp_get(&self, pudp: EntryPtr) -> Result<Pud, MmError> {
        Ok(Pud(self.load_entry(pudp)?))
    }

    /// `p4dp_get()`.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn p4dp_get(&self, p4dp: EntryPtr) -> Result<P4d, MmError> {
        Ok(P4d(self.load_entry(p4dp)?))
    }

    /// `pgdp_get()`.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pgdp_get(&self, pgdp: EntryPtr) -> Result<Pgd, MmError> {
        Ok(Pgd(self.load_entry(pgdp)?))
    }

    /// `pmdp_get_lockless()`.  Where 64-bit entries are two 32-bit halves
    /// (`CONFIG_GUP_GET_PXX_LOW_HIGH`, x86 PAE) it reads `pmd_low`, then
    /// `pmd_high`, and retries while `pmd_low` changed meanwhile; elsewhere a
    /// single atomic load.  The low re-read cannot prove the halves belong
    /// together (only that the low half did not change); callers rely on
    /// interrupts being off ([`Mm::pmdp_get_lockless_start`]) to hold off
    /// the writer's TLB-flush IPI.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pmdp_get_lockless(&self, pmdp: EntryPtr) -> Result<Pmd, MmError> {
        Ok(self.pmdp_get_lockless_counted(pmdp, |_| {})?.0)
    }

    /// [`Mm::pmdp_get_lockless`], calling `between(attempt)` after the two
    /// halves are read and before the low half is re-read, and returning the
    /// number of retries: lets a test place a writer exactly in the window.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pmdp_get_lockless_counted(
        &self,
        pmdp: EntryPtr,
        mut between: impl FnMut(u32),
    ) -> Result<(Pmd, u32), MmError> {
        if !self.plan.split {
            return Ok((self.pmdp_get(pmdp)?, 0));
        }
        let phys = self.phys();
        let mut retries = 0;
        loop {
            let lo = phys.load_half(pmdp.pa, false)?;
            let hi = phys.load_half(pmdp.pa, true)?;
            between(retries);
            if phys.load_half(pmdp.pa, false)? == lo {
                return Ok((Pmd(lo as u64 | (hi as u64) << 32), retries));
            }
            retries += 1;
        }
    }

    /// The naive two-halves read that `pmdp_get_lockless()` improves on:
    /// low, then high, no re-check.  Kept so tests can show the torn values
    /// it returns under a concurrent writer.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pmdp_get_halves_unchecked(&self, pmdp: EntryPtr) -> Result<Pmd, MmError> {
        let phys = self.phys();
        let lo = phys.load_half(pmdp.pa, false)? as u64;
        let hi = phys.load_half(pmdp.pa, true)? as u64;
        Ok(Pmd(lo | hi << 32))
    }

    /// `pmdp_get_lockless_start()`: interrupts off around the lockless pmd
    /// read, on configurations with split halves; a no-op elsewhere.
    pub fn pmdp_get_lockless_start(&self) -> IrqOff<'_> {
        if self.plan.split {
            self.machine().irq.rcu_read_lock();
            IrqOff {
                rcu: Some(&self.machine().irq),
            }
        } else {
            IrqOff { rcu: None }
        }
    }

    /// `pmdp_get_lockless_sync()` (`tlb_remove_table_sync_one()` on PAE):
    /// wait until every interrupts-off pmd read in progress has finished, so
    /// none can pick up halves of an entry the caller just cleared.
    ///
    /// # Errors
    /// [`MmError::Rcu`] if the caller is itself inside such a section.
    pub fn pmdp_get_lockless_sync(&self) -> Result<(), MmError> {
        if self.plan.split {
            self.machine().irq.synchronize_rcu()?;
        }
        Ok(())
    }

    // ---- offsets ----------------------------------------------------

    fn is_trivial(&self, p: EntryPtr) -> bool {
        !self.plan_of(p.shape as usize).interp[p.level.index()]
    }

    /// Index of `addr` in a table of the real level `level` in `plan`.
    #[inline]
    fn index_in(plan: &WalkPlan, level: Level, addr: u64) -> u64 {
        let (shift, mask) = plan.index[level.index()];
        (addr >> shift) & mask
    }

    /// Physical address of the table that the entry `parent` (at a level
    /// with `interp`) points at.
    fn child_table(&self, parent: EntryPtr) -> Result<u64, MmError> {
        let v = self.load_entry(parent)?;
        let a = self.arch();
        let interp = self.plan_of(parent.shape as usize).interp_of[parent.level.index()];
        Ok(match interp {
            Level::Pgd => a.pgd_table_pa(Pgd(v)),
            Level::P4d => a.p4d_table_pa(P4d(v)),
            Level::Pud => a.pud_table_pa(Pud(v)),
            Level::Pmd => a.pmd_table_pa(Pmd(v)),
            Level::Pte => v,
        })
    }

    fn offset(&self, parent: EntryPtr, level: Level, addr: u64) -> Result<EntryPtr, MmError> {
        let plan = self.plan_of(parent.shape as usize);
        // Pmd and pte pointers are shape-independent (see EntryPtr).
        let shape = if level.index() >= Level::Pmd.index() {
            0
        } else {
            parent.shape
        };
        if !plan.real[level.index()] {
            return Ok(EntryPtr {
                pa: parent.pa,
                level,
                shape,
            });
        }
        let table = self.child_table(parent)?;
        // A garbage entry can point anywhere, even where the entry's
        // address would wrap: that is an address outside memory.
        let off = Self::index_in(plan, level, addr) * self.entry_width(level) as u64;
        Ok(EntryPtr {
            pa: table
                .checked_add(off)
                .ok_or(MmError::BadAddress { pa: table })?,
            level,
            shape,
        })
    }

    /// `pgd_offset(mm, addr)`: reads the mm's top table and shape once
    /// ([`Mm::top`]; s390's `pgd_offset_raw()` reads `mm->pgd` once and
    /// takes the shift from the type of its first entry).
    pub fn pgd_offset(&self, addr: u64) -> EntryPtr {
        self.pgd_offset_in(self.top(), addr)
    }

    /// `pgd_offset()` in the top table and shape `top`, read before.
    pub fn pgd_offset_in(&self, top: Top, addr: u64) -> EntryPtr {
        let plan = self.plan_of(top.shape);
        EntryPtr {
            pa: top.pa
                + Self::index_in(plan, Level::Pgd, addr) * self.entry_width(Level::Pgd) as u64,
            level: Level::Pgd,
            shape: top.shape as u8,
        }
    }

    /// `p4d_offset(pgd, addr)`: reads `*pgd` unless the p4d is folded.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn p4d_offset(&self, pgdp: EntryPtr, addr: u64) -> Result<EntryPtr, MmError> {
        self.offset(pgdp, Level::P4d, addr)
    }

    /// `pud_offset(p4d, addr)`.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pud_offset(&self, p4dp: EntryPtr, addr: u64) -> Result<EntryPtr, MmError> {
        self.offset(p4dp, Level::Pud, addr)
    }

    /// `pmd_offset(pud, addr)`.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pmd_offset(&self, pudp: EntryPtr, addr: u64) -> Result<EntryPtr, MmError> {
        self.offset(pudp, Level::Pmd, addr)
    }

    /// `pXd_none()` of the entry at `p`, with folded levels trivial.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn entry_none(&self, p: EntryPtr) -> Result<bool, MmError> {
        if self.is_trivial(p) {
            return Ok(false);
        }
        let v = self.load_entry(p)?;
        Ok(self.level_none(p.level, v))
    }

    /// `pXd_none(v)` for a value at an interpreting level.
    pub fn level_none(&self, level: Level, v: u64) -> bool {
        let a = self.arch();
        match level {
            Level::Pgd => a.pgd_none(Pgd(v)),
            Level::P4d => a.p4d_none(P4d(v)),
            Level::Pud => a.pud_none(Pud(v)),
            Level::Pmd => a.pmd_none(Pmd(v)),
            Level::Pte => a.pte_none(Pte(v)),
        }
    }

    /// `pXd_bad(v)` for a value at an interpreting level (false for ptes).
    pub fn level_bad(&self, level: Level, v: u64) -> bool {
        let a = self.arch();
        match level {
            Level::Pgd => a.pgd_bad(Pgd(v)),
            Level::P4d => a.p4d_bad(P4d(v)),
            Level::Pud => a.pud_bad(Pud(v)),
            Level::Pmd => a.pmd_bad(Pmd(v)),
            Level::Pte => false,
        }
    }

    /// `pXd_leaf(v)` for a value at an interpreting level.
    pub fn level_leaf(&self, level: Level, v: u64) -> bool {
        let a = self.arch();
        match level {
            Level::Pud => a.pud_leaf(Pud(v)),
            Level::Pmd => a.pmd_leaf(Pmd(v)),
            Level::Pte => true,
            Level::Pgd | Level::P4d => false,
        }
    }

    /// The level whose helpers interpret entries at `level`, in the mm's
    /// current shape (a walk should use [`Mm::interp_level_in`] with its
    /// pointer's shape).
    pub fn interp_level(&self, level: Level) -> Level {
        self.interp_level_in(self.top().shape, level)
    }

    /// The level whose helpers interpret entries at `level` in `shape`.
    pub fn interp_level_in(&self, shape: usize, level: Level) -> Level {
        self.plan_of(shape).interp_of[level.index()]
    }

    /// Whether `level` has a table of its own in the mm's current shape.
    pub fn level_is_real(&self, level: Level) -> bool {
        self.level_is_real_in(self.top().shape, level)
    }

    /// Whether `level` has a table of its own in `shape`.
    pub fn level_is_real_in(&self, shape: usize, level: Level) -> bool {
        self.plan_of(shape).real[level.index()]
    }

    /// Descend from the pgd to the pmd entry for `addr` without allocating
    /// (`mm_find_pmd()`'s upper half): `None` when an upper level is none or
    /// bad, or is a leaf above the pmd.
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn find_pmd(&self, addr: u64) -> Result<Option<EntryPtr>, MmError> {
        let mut p = self.pgd_offset(addr);
        let plan = self.plan_of(p.shape as usize);
        for level in [Level::P4d, Level::Pud, Level::Pmd] {
            if plan.interp[p.level.index()] {
                let v = self.load_entry(p)?;
                if self.level_none(p.level, v)
                    || self.level_bad(p.level, v)
                    || self.level_leaf(p.level, v)
                {
                    return Ok(None);
                }
            }
            p = self.offset(p, level, addr)?;
        }
        Ok(Some(p))
    }

    // ---- the pte_offset_map family ------------------------------------

    /// `pmd_clear_bad()`: report the bad pmd and clear it (a write with no
    /// lock held, as in Linux).
    ///
    /// # Errors
    /// As [`Mm::load_entry`].
    pub fn pmd_clear_bad(&self, pmdp: EntryPtr, val: Pmd) -> Result<(), MmError> {
        self.machine().reports().push(Report::BadPmd {
            pa: pmdp.pa,
            value: val.0,
        });
        self.set_entry(pmdp, self.arch().pmd_clear_val().0)
    }

    /// `__pte_offset_map(pmd, addr, pmdvalp)`: see the module
    /// documentation.  `pmdvalp`, when given, receives the snapshot even on
    /// failure.  `Ok(None)` is the kernel's NULL: nothing is held.
    ///
    /// # Errors
    /// Memory errors only ([`MmError::BadAddress`], ...).
    pub fn __pte_offset_map(
        &self,
        pmdp: EntryPtr,
        addr: u64,
        pmdvalp: Option<&mut Pmd>,
    ) -> Result<Option<PteMap<'_, A>>, MmError> {
        let rcu = self.rcu();
        rcu.rcu_read_lock();
        let r = self.__pte_offset_map_locked_rcu(pmdp, addr, pmdvalp);
        match r {
            Ok(Some((table_pa, gen))) => Ok(Some(PteMap {
                mm: self,
                table_pa,
                gen,
                index: Self::index_in(&self.plan, Level::Pte, addr),
                rcu,
            })),
            Ok(None) => {
                rcu.rcu_read_unlock()?;
                Ok(None)
            }
            Err(e) => {
                rcu.rcu_read_unlock()?;
                Err(e)
            }
        }
    }

    fn __pte_offset_map_locked_rcu(
        &self,
        pmdp: EntryPtr,
        _addr: u64,
        pmdvalp: Option<&mut Pmd>,
    ) -> Result<Option<(u64, u64)>, MmError> {
        let pmdval = {
            let _irq = self.pmdp_get_lockless_start();
            self.pmdp_get_lockless(pmdp)?
        };
        if let Some(p) = pmdvalp {
            *p = pmdval;
        }
        let a = self.arch();
        if a.pmd_none(pmdval) || swapops::is_pmd_migration_entry(a, pmdval) {
            return Ok(None);
        }
        if a.pmd_trans_huge(pmdval) || a.pmd_devmap(pmdval) {
            return Ok(None);
        }
        if a.pmd_bad(pmdval) {
            self.pmd_clear_bad(pmdp, pmdval)?;
            return Ok(None);
        }
        let table_pa = a.pmd_table_pa(pmdval);
        // The snapshot is mapped, not a re-read of *pmd: if the pmd changed
        // since, this is still the table it pointed at, kept alive by RCU.
        let gen = self.phys().table_gen(table_pa)?;
        Ok(Some((table_pa, gen)))
    }

    /// `pte_offset_map(pmd, addr)`.
    ///
    /// # Errors
    /// As [`Mm::__pte_offset_map`].
    pub fn pte_offset_map(
        &self,
        pmdp: EntryPtr,
        addr: u64,
    ) -> Result<Option<PteMap<'_, A>>, MmError> {
        self.__pte_offset_map(pmdp, addr, None)
    }

    /// `pte_lockptr(mm, pmd)` (v6.6 form, from a pmd value): the split lock
    /// of the table page the pmd points at, or `mm->page_table_lock`.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] when the pmd points outside memory.
    pub fn pte_lockptr(&self, pmdval: Pmd) -> Result<&SpinLock, MmError> {
        if self.arch().geometry().split_pte_ptlocks {
            Ok(&self.phys().page_of(self.arch().pmd_table_pa(pmdval))?.ptl)
        } else {
            Ok(&self.page_table_lock)
        }
    }

    /// `pmd_lockptr(mm, pmd)`: with split pmd locks the lock of
    /// `pmd_ptdesc(pmd)`, else `mm->page_table_lock`.
    ///
    /// `pmd_ptdesc()` (`pmd_pgtable_page()`, `include/linux/mm.h`) aligns
    /// the entry pointer down to `PTRS_PER_PMD * sizeof(pmd_t)`, the start
    /// of the pmd *table*, and takes that page: for a table larger than a
    /// page (s390's 16K segment tables, four frames) it is the table's
    /// first page, not the frame holding the entry, so every pmd of one
    /// table shares one lock.  Where a pmd table fits in a page this is
    /// the page of the entry, as before.
    ///
    /// # Errors
    /// [`MmError::BadAddress`] for a pointer outside memory.
    pub fn pmd_lockptr(&self, pmdp: EntryPtr) -> Result<&SpinLock, MmError> {
        if self.arch().geometry().split_pmd_ptlocks && self.plan.real[Level::Pmd.index()] {
            Ok(&self.phys().page_of(self.pmd_table_base(pmdp.pa))?.ptl)
        } else {
            Ok(&self.page_table_lock)
        }
    }

    /// The pmd table holding the pmd at `pmd_pa`: `pmd_pa` aligned down to
    /// `PTRS_PER_PMD * sizeof(pmd_t)` (the address `pmd_pgtable_page()`
    /// takes the page of).
    pub fn pmd_table_base(&self, pmd_pa: u64) -> u64 {
        let bytes = self.arch().geometry().level(Level::Pmd).ptrs as u64
            * self.entry_width(Level::Pmd) as u64;
        if bytes.is_power_of_two() {
            pmd_pa & !(bytes - 1)
        } else {
            pmd_pa
        }
    }

    /// `pmd_lock(mm, pmd)`.
    ///
    /// # Errors
    /// [`MmError::Lock`] on a self-deadlock, or as [`Mm::pmd_lockptr`].
    pub fn pmd_lock(&self, pmdp: EntryPtr) -> Result<SpinGuard<'_>, MmError> {
        Ok(self.pmd_lockptr(pmdp)?.lock()?)
    }

    /// `pte_offset_map_nolock(mm, pmd, addr, ptlp)`: map the table and
    /// return the lock that protects it, computed from the same snapshot, not
    /// taken.  The caller must re-validate after locking if it relies on the
    /// table still being attached (in v6.6 either `mmap_lock` for write or a
    /// `pte_same()` check on contents was deemed enough).
    ///
    /// # Errors
    /// As [`Mm::__pte_offset_map`].
    pub fn pte_offset_map_nolock(
        &self,
        pmdp: EntryPtr,
        addr: u64,
    ) -> Result<Option<(PteMap<'_, A>, &SpinLock)>, MmError> {
        let mut pmdval = Pmd(0);
        match self.__pte_offset_map(pmdp, addr, Some(&mut pmdval))? {
            None => Ok(None),
            Some(map) => {
                let ptl = self.pte_lockptr(pmdval)?;
                Ok(Some((map, ptl)))
            }
        }
    }

    /// `pte_offset_map_lock(mm, pmd, addr, ptlp)` (`__pte_offset_map_lock`):
    /// map, lock the snapshot's table lock, and re-check `pmd_same()` against
    /// a fresh lockless read of the pmd; if it changed, unlock, unmap and
    /// start again.  Returns the number of retries alongside, so tests can
    /// see the retry happen.
    ///
    /// # Errors
    /// [`MmError::Lock`] when the caller already holds the table's lock
    /// (a self-deadlock in Linux); memory errors.
    pub fn pte_offset_map_lock_counted(
        &self,
        pmdp: EntryPtr,
        addr: u64,
        mut between: impl FnMut(u32),
    ) -> Result<(Option<PteMapLocked<'_, A>>, u32), MmError> {
        let mut retries = 0;
        loop {
            let mut pmdval = Pmd(0);
            let Some(map) = self.__pte_offset_map(pmdp, addr, Some(&mut pmdval))? else {
                return Ok((None, retries));
            };
            between(retries);
            let ptl = self.pte_lockptr(pmdval)?.lock()?;
            if self.pmdp_get_lockless(pmdp)? == pmdval {
                return Ok((Some(PteMapLocked { ptl, map }), retries));
            }
            drop(ptl);
            drop(map);
            retries += 1;
        }
    }

    /// `pte_offset_map_lock(mm, pmd, addr, ptlp)`; see
    /// [`Mm::pte_offset_map_lock_counted`].
    ///
    /// # Errors
    /// As [`Mm::pte_offset_map_lock_counted`].
    pub fn pte_offset_map_lock(
        &self,
        pmdp: EntryPtr,
        addr: u64,
    ) -> Result<Option<PteMapLocked<'_, A>>, MmError> {
        Ok(self.pte_offset_map_lock_counted(pmdp, addr, |_| {})?.0)
    }

    /// The flawed form that v6.5's re-check exists to prevent: lock the
    /// snapshot's table lock but do not re-check the pmd.  Kept for the
    /// stale-table-write tests and loom models.
    ///
    /// # Errors
    /// As [`Mm::pte_offset_map_lock`].
    pub fn pte_offset_map_lock_unchecked(
        &self,
        pmdp: EntryPtr,
        addr: u64,
    ) -> Result<Option<PteMapLocked<'_, A>>, MmError> {
        let mut pmdval = Pmd(0);
        let Some(map) = self.__pte_offset_map(pmdp, addr, Some(&mut pmdval))? else {
            return Ok(None);
        };
        let ptl = self.pte_lockptr(pmdval)?.lock()?;
        Ok(Some(PteMapLocked { ptl, map }))
    }

    // ---- the fast path ------------------------------------------------

    /// Translate `va` for a read, lockless, the way a hardware walker or
    /// GUP-fast does: no steps recorded, nothing allocated.  Returns the
    /// physical address and whether the leaf is writable, or `None` where
    /// the MMU would fault (per [`Arch::pte_hw_valid`] and
    /// [`Arch::pmd_hw_valid`]).  [`crate::vtop::vtop`] is the explaining
    /// twin of this function; both use only the arch's Linux helpers.
    ///
    /// # Errors
    /// Memory errors (a table pointer outside memory).
    pub fn translate(&self, va: u64) -> Result<Option<(u64, bool)>, MmError> {
        let a = self.arch();
        let g = a.geometry();
        let phys = self.phys();
        // One read of the top table and its shape, as s390 reads mm->pgd
        // (and the ASCE) once: a walk racing an upgrade sees one shape.
        let top = self.top();
        let plan = self.plan_of(top.shape);
        #[inline(always)]
        fn entry(
            phys: &crate::phys::PhysMem,
            plan: &WalkPlan,
            table: u64,
            level: Level,
            va: u64,
        ) -> Result<u64, MmError> {
            let (shift, mask) = plan.index[level.index()];
            let off = ((va >> shift) & mask) * plan.widths[level.index()] as u64;
            let pa = table
                .checked_add(off)
                .ok_or(MmError::BadAddress { pa: table })?;
            phys.load_once(pa, plan.widths[level.index()])
        }
        let mut table = top.pa;
        if plan.interp[Level::Pgd.index()] {
            let e = Pgd(entry(phys, plan, table, Level::Pgd, va)?);
            if a.pgd_none(e) || a.pgd_bad(e) {
                return Ok(None);
            }
            table = a.pgd_table_pa(e);
        }
        if plan.interp[Level::P4d.index()] {
            let e = P4d(entry(phys, plan, table, Level::P4d, va)?);
            if a.p4d_none(e) || a.p4d_bad(e) {
                return Ok(None);
            }
            table = a.p4d_table_pa(e);
        }
        if plan.interp[Level::Pud.index()] {
            let e = Pud(entry(phys, plan, table, Level::Pud, va)?);
            if a.pud_none(e) {
                return Ok(None);
            }
            if a.pud_leaf(e) {
                let size = 1u64 << g.level(Level::Pud).shift;
                return Ok(a.pud_present(e).then(|| {
                    (
                        (a.pud_pfn(e) << g.page_shift).wrapping_add(va & (size - 1)),
                        a.pud_write(e),
                    )
                }));
            }
            if a.pud_bad(e) {
                return Ok(None);
            }
            table = a.pud_table_pa(e);
        }
        let e = Pmd(entry(phys, plan, table, Level::Pmd, va)?);
        if a.pmd_none(e) {
            return Ok(None);
        }
        if a.pmd_leaf(e) || !a.pmd_present(e) {
            let size = g.pmd_size();
            return Ok((a.pmd_leaf(e) && a.pmd_hw_valid(e)).then(|| {
                (
                    (a.pmd_pfn(e) << g.page_shift).wrapping_add(va & (size - 1)),
                    a.pmd_hw_writable(e),
                )
            }));
        }
        if a.pmd_bad(e) {
            return Ok(None);
        }
        let pte = Pte(entry(phys, plan, a.pmd_table_pa(e), Level::Pte, va)?);
        Ok(a.pte_hw_valid(pte).then(|| {
            (
                (a.pte_pfn(pte) << g.page_shift) + (va & (g.page_size() - 1)),
                a.pte_hw_writable(pte),
            )
        }))
    }
}
