//! s390 page-table allocation, v6.6 `arch/s390/mm/pgalloc.c`: 2K page
//! tables, two per 4K page, and 16K region/segment (CRST) tables.
//!
//! # The half-page allocator
//!
//! A 4K page holds two 2K page tables, half 0 at offset 0 and half 1 at
//! offset 2K.  Their state lives in the top byte of the page's
//! `_refcount` (`atomic_xor_bits(&page->_refcount, bits << 24)`), which is
//! why `PageMeta::refcount` is a `u32` here:
//!
//! * `0x01 << bit`: half `bit` is allocated ("AA" bits);
//! * `0x10 << bit`: half `bit` is pending free ("PP" bits): set while its
//!   free is in flight, from `page_table_free()`'s first XOR to its second,
//!   or from `page_table_free_rcu()` until `__tlb_remove_table()` after the
//!   mmu_gather grace period.
//!
//! Pages with one half usable sit on `mm->context.pgtable_list`
//! ([`S390Context`]), threaded through `page->lru`; the model sets
//! `PageMeta::on_list` while a page is on it.  `page->lru` overlays the
//! `rcu_head`, which is what v1 `pte_free_defer()` got wrong.
//!
//! * [`page_table_alloc`]: first page of the list whose mask
//!   `(AA | PP >> 4) & 3` is not 3: take half `mask & 1`, remove the page
//!   from the list.  Otherwise a fresh page, both halves filled with
//!   `_PAGE_INVALID`, half 0 returned and the page put on the list.  With
//!   pgste (`mm_alloc_pgste()`), a whole page: 256 invalid ptes and 256
//!   zero PGSTEs, both AA bits, never on the list.
//! * [`page_table_free`]: under the context lock XOR `0x11 << bit` (clear
//!   AA, set PP); if the other half is allocated (and, merged, the page is
//!   not `PageActive`) put the page at the head of the list, else take it
//!   off; unlock; XOR `0x10 << bit`; when the byte is zero release the page
//!   (merged: `call_rcu` if `TestClearPageActive`).
//! * [`page_table_free_rcu`] (`pte_free_tlb()`): the same first half, list
//!   tail instead of head, and `tlb_remove_table(table | (1 << bit))`: the
//!   low two bits of the pointer say what it is (0: a CRST table, 1/2: half
//!   0/1, 3: a pgste page).  [`tlb_remove_table`] batches it on RCU the way
//!   `MMU_GATHER_RCU_TABLE_FREE` does (its own batch, not the page's
//!   rcu_head), and [`__tlb_remove_table`] clears the PP bit afterwards and
//!   releases the page when the byte reaches zero.
//!
//! # `pte_free_defer()`
//!
//! * **merged** (v6.6): `SetPageActive(page)`, `page_table_free()`.  A page
//!   marked Active is never put back on the list, so neither half can be
//!   reused before a grace period; when both halves are free the release
//!   sees `TestClearPageActive()` and queues the page's rcu_head once.  The
//!   callback (`pte_free_now()`) does not touch the mm.
//! * **v1** (posted 2023-05-28, "with use of mmdrop_async()"): `mmgrab(mm)`,
//!   store `mm | half` in the page (`page->pt_mm`, [`PageMeta::private`]
//!   here), `call_rcu(&page->rcu_head)`; the callback decodes the page word,
//!   calls the 6.5 `page_table_free(mm, table)` and `mmdrop_async(mm)`.
//!   Flaws the model reports: both halves deferred reuse the one rcu_head
//!   (`RcuHeadReuse`, and the first callback then frees whichever half the
//!   page word names last); the rcu_head overlays the list link of a page on
//!   `pgtable_list` (`RcuHeadOverlaysList`, both when `call_rcu` finds the
//!   page listed and when a list operation finds the head queued).
//! * **v1-mmdrop**: v1 with a plain `mmdrop()` in the callback, the form
//!   v1's changelog rejects: the last reference dropped there runs
//!   `__mmdrop()` in softirq context (`MmdropInRcuCallback`).
//!
//! [`PageMeta::private`]: mm_core::page::PageMeta::private

use std::collections::VecDeque;
use std::sync::Arc;

// `context.lock` comes from mm-core's sync shim: under `--cfg loom` it is
// loom's mutex, which the models need (a std mutex held across a loom
// operation would deadlock the model's single OS thread).
use mm_core::sync::{Mutex, MutexGuard};

use mm_core::event::Event;
use mm_core::page::{pg, PageMeta};
use mm_core::pgalloc::{call_rcu_on_page, free_table_page};
use mm_core::report::Report;
use mm_core::sync::Ordering;
use mm_core::{Level, Machine, Mm, MmError};

use crate::entry::{
    _PAGE_INVALID, _REGION1_ENTRY_EMPTY, _REGION2_ENTRY_EMPTY, _REGION3_ENTRY_EMPTY,
    _SEGMENT_ENTRY_EMPTY, CRST_ALLOC_ORDER,
};
use crate::{Variant, S390};

/// Bytes of one 2K page table (`PTRS_PER_PTE * sizeof(pte_t)`).
pub const PTE_TABLE_BYTES: u64 = 2048;

/// `mm->context` of s390, the part the allocator uses: `context.lock` and
/// `context.pgtable_list`.  The list holds pfns, head first.
#[derive(Debug, Default)]
pub struct S390Context {
    list: Arc<Mutex<VecDeque<u64>>>,
}

impl S390Context {
    fn lock(&self) -> MutexGuard<'_, VecDeque<u64>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pfns on `pgtable_list`, head first.
    pub fn pgtable_list(&self) -> Vec<u64> {
        self.lock().iter().copied().collect()
    }
}

/// The allocated/pending byte (`_refcount >> 24`) of a page.
pub fn half_mask(page: &PageMeta) -> u32 {
    page.ref_count() >> 24
}

/// `atomic_xor_bits(&page->_refcount, bits << 24) >> 24`: the new byte.
fn xor_bits(page: &PageMeta, bits: u32) -> u32 {
    let shifted = bits << 24;
    (page.refcount.fetch_xor(shifted, Ordering::AcqRel) ^ shifted) >> 24
}

/// The half (0 or 1) of the table at `table_pa`.
pub fn half_of(table_pa: u64) -> u32 {
    ((table_pa & 0xfff) / PTE_TABLE_BYTES) as u32
}

fn page_pa(table_pa: u64) -> u64 {
    table_pa & !0xfff
}

/// The list operations on `page->lru`.  Each reports a use of the link
/// while the rcu_head it overlays is queued ("the other way round" of
/// `call_rcu_on_page`'s check).
struct ListOps<'a> {
    machine: &'a Machine,
    list: MutexGuard<'a, VecDeque<u64>>,
}

impl ListOps<'_> {
    fn overlay_check(&self, pfn: u64, page: &PageMeta, op: &str) {
        if page.rcu_queued.load(Ordering::Acquire) {
            self.machine.reports().push(Report::RcuHeadOverlaysList {
                pfn,
                context: format!(
                    "{op}(&page->lru, &mm->context.pgtable_list) while its rcu_head is queued"
                ),
            });
        }
    }

    fn add(&mut self, pfn: u64, page: &PageMeta, tail: bool) {
        let op = if tail { "list_add_tail" } else { "list_add" };
        self.overlay_check(pfn, page, op);
        if page.on_list.swap(true, Ordering::AcqRel) {
            // CONFIG_DEBUG_LIST would say "list_add double add".
            self.machine.reports().push(Report::Invariant(format!(
                "{op} of pfn {pfn:#x}, which is already on pgtable_list"
            )));
            self.list.retain(|p| *p != pfn);
        }
        if tail {
            self.list.push_back(pfn);
        } else {
            self.list.push_front(pfn);
        }
    }

    /// `list_del()` / `list_del_init()` (the model keeps the link
    /// initialised either way, so `list_empty(&page->lru)` is meaningful).
    fn del(&mut self, pfn: u64, page: &PageMeta) {
        if page.on_list.swap(false, Ordering::AcqRel) {
            self.overlay_check(pfn, page, "list_del");
            self.list.retain(|p| *p != pfn);
        }
    }
}

fn list<'a>(mm: &'a Mm<S390>) -> ListOps<'a> {
    ListOps {
        machine: mm.machine(),
        list: mm.context.lock(),
    }
}

/// `page_table_alloc(mm)`: a 2K page table (or a 4K one with PGSTEs),
/// filled with `_PAGE_INVALID`; returns its physical address.
///
/// # Errors
/// [`MmError::OutOfMemory`] when no frame is free.
pub fn page_table_alloc(a: &S390, mm: &Mm<S390>) -> Result<u64, MmError> {
    let phys = mm.phys();
    if !a.pgste() {
        let mut l = list(mm);
        if let Some(&pfn) = l.list.front() {
            let page = phys.page(pfn)?;
            let mask = half_mask(page);
            let mask = (mask | mask >> 4) & 0x03;
            if mask != 0x03 {
                let bit = mask & 1;
                xor_bits(page, 0x01 << bit);
                l.del(pfn, page);
                drop(l);
                let pa = (pfn << 12) + bit as u64 * PTE_TABLE_BYTES;
                mm.machine().events().push(|| Event::TableAlloc {
                    level: "pte",
                    pa,
                    fragment: Some((pfn, bit as u64)),
                });
                return Ok(pa);
            }
        }
    }
    // A fresh page: pagetable_alloc(), pagetable_pte_ctor(), arch_set_page_dat().
    let pfn = phys.alloc_page()?;
    let page = phys.page(pfn)?;
    page.set(pg::TABLE);
    page.pt_owner.store(mm.id() as i64, Ordering::Release);
    let pa = pfn << 12;
    if a.pgste() {
        // Return 4K page table with PGSTEs: both halves "allocated", never
        // on the list.
        xor_bits(page, 0x03);
        for i in 0..256 {
            phys.store(pa + i * 8, 8, _PAGE_INVALID)?;
            phys.store(pa + 2048 + i * 8, 8, 0)?;
        }
    } else {
        xor_bits(page, 0x01);
        for i in 0..512 {
            phys.store(pa + i * 8, 8, _PAGE_INVALID)?;
        }
        list(mm).add(pfn, page, false);
    }
    mm.machine().events().push(|| Event::TableAlloc {
        level: "pte",
        pa,
        fragment: Some((pfn, 0)),
    });
    Ok(pa)
}

/// `pte_free_now()`: the page-table destructor and the page free.
fn pte_free_now(machine: &Machine, page_pa: u64, how: &str) -> Result<(), MmError> {
    machine.events().push(|| Event::TableFree {
        pa: page_pa,
        how: format!("page released: {how}"),
    });
    free_table_page(machine, page_pa)
}

/// `page_table_release_check()` (v6.6, `CONFIG_DEBUG_VM`): a page released
/// with bits left in its byte, or still on a list, is dumped.
fn release_check(machine: &Machine, page: &PageMeta, pfn: u64, half: u32, mask: u32) {
    if mask == 0 && !page.on_list.load(Ordering::Acquire) {
        return;
    }
    machine.reports().push(Report::Invariant(format!(
        "Invalid pgtable pfn {pfn:#x} release half {half:#04x} mask {mask:#04x}{}",
        if page.on_list.load(Ordering::Acquire) {
            " (still on pgtable_list)"
        } else {
            ""
        }
    )));
}

/// The end of `page_table_free()` / `__tlb_remove_table()`: release the
/// page, through its rcu_head if a half had its free deferred (merged:
/// `folio_test_clear_active()`), else now.
fn release_page(
    machine: &Arc<Machine>,
    variant: Variant,
    page_pa: u64,
    half: u32,
    mask: u32,
) -> Result<(), MmError> {
    let pfn = page_pa >> 12;
    let page = machine.phys.page(pfn)?;
    release_check(machine, page, pfn, half, mask);
    if variant == Variant::Merged && page.clear(pg::ACTIVE) {
        machine.events().push(|| Event::Deferred {
            pa: page_pa,
            how: "both halves free and PageActive: call_rcu(&page->rcu_head, pte_free_now)".into(),
        });
        return call_rcu_on_page(
            machine,
            page_pa,
            "page_table_free: TestClearPageActive",
            Box::new(move |m: &Machine| {
                m.events().push(|| Event::CallbackRan {
                    what: format!("pte_free_now(page {page_pa:#x})"),
                });
                // Reported by free_table_page; a callback has no caller.
                let _ = pte_free_now(m, page_pa, "pte_free_now from the RCU callback");
            }),
        );
    }
    pte_free_now(machine, page_pa, "pte_free_now, immediately")
}

/// Report (and refuse) freeing a half that is not allocated: Linux would
/// XOR the allocated bit back *on* and corrupt the byte (a model check, not
/// a kernel one).
fn check_allocated(machine: &Machine, page: &PageMeta, pfn: u64, bit: u32) -> Result<(), MmError> {
    if half_mask(page) & (0x01 << bit) == 0 {
        let reason = format!(
            "page_table_free of half {bit} of pfn {pfn:#x}, which is not allocated (mask {:#04x}): a double free",
            half_mask(page)
        );
        machine.reports().push(Report::Invariant(reason.clone()));
        return Err(MmError::BadPage { pfn, reason });
    }
    Ok(())
}

/// `page_table_free(mm, table)` in the selected variant's form (merged: the
/// `PageActive` tests of v6.6; v1: the 6.5 code v1 was based on).
///
/// # Errors
/// [`MmError::BadPage`] for a half that is not allocated, or a page that
/// fails its free checks; [`MmError::BadAddress`].
pub fn page_table_free(a: &S390, mm: &Mm<S390>, table_pa: u64) -> Result<(), MmError> {
    let machine = mm.machine();
    let page_pa = page_pa(table_pa);
    let pfn = page_pa >> 12;
    let page = mm.phys().page(pfn)?;
    let (half, mask) = if !a.pgste() {
        let bit = half_of(table_pa);
        check_allocated(machine, page, pfn, bit)?;
        machine.events().push(|| Event::TableFree {
            pa: table_pa,
            how: format!("page_table_free: half {bit} of page {pfn:#x}"),
        });
        let reusable = {
            let mut l = list(mm);
            let mask = xor_bits(page, 0x11 << bit);
            let active = a.variant_kind() == Variant::Merged && page.test(pg::ACTIVE);
            if mask & 0x03 != 0 && !active {
                // The other half is allocated: head of the list, for reuse.
                l.add(pfn, page, false);
                true
            } else {
                l.del(pfn, page);
                false
            }
        };
        if reusable {
            // The half becomes allocatable again once its pending bit
            // clears below (page_table_alloc() skips pending halves): a
            // reader still holding a pointer into it must now be caught.
            // A PageActive page's halves are never reused; its page is
            // freed after a grace period instead.
            machine.phys.fragment_freed(table_pa, 2048)?;
        }
        let mask = xor_bits(page, 0x10 << bit);
        if mask != 0 {
            return Ok(());
        }
        (0x01 << bit, mask)
    } else {
        check_allocated(machine, page, pfn, 0)?;
        machine.events().push(|| Event::TableFree {
            pa: table_pa,
            how: format!("page_table_free: pgste page {pfn:#x}"),
        });
        (0x03, xor_bits(page, 0x03))
    };
    release_page(machine, a.variant_kind(), page_pa, half, mask)
}

/// `page_table_free_rcu(tlb, table, vmaddr)` (`pte_free_tlb()`): the
/// immediate half of the free, then [`tlb_remove_table`] of the table
/// pointer with its kind in the low bits.  (`gmap_unlink()` of pgste
/// tables is not modelled.)  Returns the encoded pointer.
///
/// # Errors
/// As [`page_table_free`].
pub fn page_table_free_rcu(a: &S390, mm: &Mm<S390>, table_pa: u64) -> Result<u64, MmError> {
    let machine = mm.machine();
    let pfn = table_pa >> 12;
    let page = mm.phys().page(pfn)?;
    let encoded = if a.pgste() {
        check_allocated(machine, page, pfn, 0)?;
        table_pa | 0x03
    } else {
        let bit = half_of(table_pa);
        check_allocated(machine, page, pfn, bit)?;
        let mut l = list(mm);
        let mask = xor_bits(page, 0x11 << bit);
        let active = a.variant_kind() == Variant::Merged && page.test(pg::ACTIVE);
        if mask & 0x03 != 0 && !active {
            l.add(pfn, page, true);
        } else {
            l.del(pfn, page);
        }
        table_pa | (0x01 << bit)
    };
    machine.events().push(|| Event::Deferred {
        pa: table_pa,
        how: format!("page_table_free_rcu: tlb_remove_table({encoded:#x})"),
    });
    tlb_remove_table(machine, a.variant_kind(), encoded);
    Ok(encoded)
}

/// `tlb_remove_table()` with `MMU_GATHER_RCU_TABLE_FREE`: the pointer goes
/// into an mmu_gather batch (memory of its own, not the page's rcu_head),
/// freed by `__tlb_remove_table()` after a grace period.
pub fn tlb_remove_table(machine: &Arc<Machine>, variant: Variant, encoded: u64) {
    let m = machine.clone();
    machine.rcu.call_rcu(Box::new(move || {
        m.events().push(|| Event::CallbackRan {
            what: format!("tlb_remove_table_rcu: __tlb_remove_table({encoded:#x})"),
        });
        // Reported where it fails; a callback has no caller.
        let _ = __tlb_remove_table(&m, variant, encoded);
    }));
}

/// `__tlb_remove_table(_table)`: the low two bits say what the pointer is.
///
/// # Errors
/// [`MmError::BadPage`] when a page fails its free checks.
pub fn __tlb_remove_table(
    machine: &Arc<Machine>,
    variant: Variant,
    encoded: u64,
) -> Result<(), MmError> {
    let kind = (encoded & 0x03) as u32;
    let table = encoded ^ kind as u64;
    let pfn = table >> 12;
    let page = machine.phys.page(pfn)?;
    let mask = match kind {
        0 => return crst_free_pages(machine, table),
        1 | 2 => {
            // As in page_table_free(): clearing the pending bit makes the
            // half allocatable again.
            machine.phys.fragment_freed(table, 2048)?;
            let mask = xor_bits(page, kind << 4);
            if mask != 0 {
                return Ok(());
            }
            mask
        }
        _ => xor_bits(page, 0x03),
    };
    release_page(machine, variant, table & !0xfff, kind, mask)
}

/// `pte_free_defer(mm, pgtable)` in the selected variant.
///
/// v1 reports a second `call_rcu()` on the page's queued rcu_head
/// (`RcuHeadReuse`) and carries on, as Linux's `void` `call_rcu()` would.
///
/// # Errors
/// As [`page_table_free`]; [`MmError::MmFreed`] (v1) for an mm that is
/// being dropped.
pub fn pte_free_defer(a: &S390, mm: &Mm<S390>, table_pa: u64) -> Result<(), MmError> {
    match a.variant_kind() {
        Variant::Merged => {
            let page = mm.phys().page_of(table_pa)?;
            page.set(pg::ACTIVE);
            mm.machine().events().push(|| Event::Deferred {
                pa: table_pa,
                how: "SetPageActive(page), page_table_free(): the page never goes back on \
                      pgtable_list; RCU once both halves are free"
                    .into(),
            });
            if a.pgste() {
                // WARN_ON_ONCE(mm_has_pgste(mm)): page_table_free() does not
                // gmap_unlink().  The model has no running guests
                // (mm_has_pgste() false), so nothing fires.
            }
            page_table_free(a, mm, table_pa)
        }
        Variant::V1 | Variant::V1Mmdrop => pte_free_defer_v1(a, mm, table_pa),
    }
}

fn pte_free_defer_v1(a: &S390, mm: &Mm<S390>, table_pa: u64) -> Result<(), MmError> {
    let Some(mm_arc) = mm.to_arc() else {
        return Err(MmError::MmFreed { mm: mm.id() });
    };
    let page_pa = page_pa(table_pa);
    let page = mm.phys().page_of(page_pa)?;
    mm.mmgrab();
    // page->pt_mm = mm | bit ("4K page has only two 2K fragments, but
    // alignment allows eight"): the model stores the mm id shifted.
    let bit = if a.pgste() {
        0
    } else {
        half_of(table_pa) as u64
    };
    page.private.store(mm.id() << 3 | bit, Ordering::Release);
    let arch = a.clone();
    let r = call_rcu_on_page(
        mm.machine(),
        page_pa,
        "pte_free_defer (v1)",
        Box::new(move |m: &Machine| {
            // pte_free_now(): decode the page word *now*, as v1 does.
            let word = m
                .phys
                .page(page_pa >> 12)
                .map(|p| p.private.load(Ordering::Acquire))
                .unwrap_or(0);
            let table = page_pa + (word & 1) * PTE_TABLE_BYTES;
            m.events().push(|| Event::CallbackRan {
                what: format!(
                    "pte_free_now: page_table_free(mm {}, {table:#x})",
                    word >> 3
                ),
            });
            // Reported where it fails; a callback has no caller.
            let _ = page_table_free(&arch, &mm_arc, table);
            let _ = match arch.variant_kind() {
                Variant::V1Mmdrop => mm_arc.mmdrop(),
                _ => mm_arc.mmdrop_async(),
            };
        }),
    );
    match r {
        Ok(()) => {
            mm.machine().events().push(|| Event::Deferred {
                pa: table_pa,
                how: format!(
                    "v1: mmgrab(mm), page->pt_mm = mm | {bit}, call_rcu(&page->rcu_head, pte_free_now)"
                ),
            });
            Ok(())
        }
        // Linux's call_rcu() returns nothing: re-queuing the head corrupts
        // the callback list silently.  mm-core reported it and refused; the
        // page's word now names this half, so the queued callback frees it
        // instead of the first one, and this mmgrab() is never dropped.
        Err(MmError::RcuHeadInUse { .. }) => {
            mm.machine().events().push(|| Event::Deferred {
                pa: table_pa,
                how: format!(
                    "v1: mmgrab(mm), page->pt_mm = mm | {bit}, call_rcu on the page's rcu_head ALREADY QUEUED (reported; the queued callback will now free half {bit})"
                ),
            });
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `crst_table_alloc()` + `crst_table_init(table, entry)`: a 16K table
/// (order 2) filled with `entry`.
///
/// # Errors
/// [`MmError::OutOfMemory`].
pub fn crst_table_alloc(mm: &Mm<S390>, entry: u64) -> Result<u64, MmError> {
    let phys = mm.phys();
    let pfn = phys.alloc_pages(CRST_ALLOC_ORDER)?;
    let pa = pfn << 12;
    for i in 0..2048 {
        phys.store(pa + i * 8, 8, entry)?;
    }
    Ok(pa)
}

/// `crst_table_free()`: drop the references of the four frames and free
/// them.
///
/// # Errors
/// [`MmError::BadPage`] when a frame fails its checks.
pub fn crst_free_pages(machine: &Machine, pa: u64) -> Result<(), MmError> {
    let pfn = pa >> 12;
    for p in pfn..pfn + (1 << CRST_ALLOC_ORDER) {
        let page = machine.phys.page(p)?;
        // pagetable_pmd_dtor() on the head page (PageTable cleared).
        page.clear(pg::TABLE);
        let _ = page.put_testzero();
    }
    machine.phys.free_pages(pfn, CRST_ALLOC_ORDER)
}

/// The empty entry a new table of `level` is filled with in an mm of
/// `levels` levels (`crst_table_init()` in `pgd_alloc()` /
/// `init_new_context()`, `p4d_alloc_one()`, `pud_alloc_one()`,
/// `pmd_alloc_one()`).
pub fn crst_init_entry(levels: u32, level: Level) -> u64 {
    match (level, levels) {
        (Level::Pgd, 5) => _REGION1_ENTRY_EMPTY,
        (Level::Pgd, 4) | (Level::P4d, _) => _REGION2_ENTRY_EMPTY,
        (Level::Pgd, _) | (Level::Pud, _) => _REGION3_ENTRY_EMPTY,
        _ => _SEGMENT_ENTRY_EMPTY,
    }
}
