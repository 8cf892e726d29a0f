//! Page-table allocation on book3s64: pte and pmd *fragments*
//! (`arch/powerpc/mm/pgtable-frag.c`, `arch/powerpc/mm/book3s64/pgtable.c`,
//! `book3s/64/pgalloc.h`, Linux v6.6), and `pte_free_defer()` in the three
//! forms the model runs ([`Variant`]).
//!
//! # Fragments
//!
//! Several pte tables share one page (`PTE_FRAG_NR` of them, 256 on radix
//! 64K, 16 on hash 64K, 1 with 4K pages); likewise pmd tables
//! (`PMD_FRAG_NR`).  The mm keeps a cursor at the next unused fragment of
//! its current page (`mm->context.pte_frag`, [`PpcMmContext`]):
//!
//! * `pte_fragment_alloc()`: take the cursor's fragment and advance it
//!   (`NULL` once the page is used up) under `mm->page_table_lock`; handing
//!   a fragment out does not touch the refcount.  Without a cursor, allocate
//!   a zeroed page, run the constructor, set `pt_frag_refcount` to
//!   `PTE_FRAG_NR` (all fragments counted up front) and make the page the
//!   cursor's, returning its first fragment.  (If another thread installed a
//!   cursor meanwhile the new page serves as a single fragment with refcount
//!   1; the model has no such race.)
//! * `pte_fragment_free()`: `BUG_ON(pt_frag_refcount <= 0)`, then drop one;
//!   the last one frees the page.  A freed fragment is **never** handed out
//!   again: the page goes back only when every fragment is freed.
//! * `pte_frag_destroy()` (mm teardown): drop the references of the
//!   fragments the cursor never handed out; if that was the last reference,
//!   free the page.  Linux runs it from `destroy_context()` in `__mmdrop()`;
//!   the model runs it from the `arch_exit_mmap` hook
//!   ([`mm_core::Arch::exit_mmap`]), after `free_pgtables()`; nothing
//!   allocates a table in between.
//!
//! # `pte_free_defer()` ([`Variant`])
//!
//! * **v1** (as posted, 2023-05-28): `call_rcu(&page->rcu_head,
//!   pte_free_now)`, the callback doing `pte_fragment_free()` of the page.
//!   Two fragments of one page deferred within one grace period queue the
//!   page's single rcu_head twice: the model reports `RcuHeadReuse`
//!   ([`mm_core::pgalloc::call_rcu_on_page`]) and refuses the second queuing.
//! * **merged** (v6.6, v3 of the series, Jason Gunthorpe's suggestion):
//!   `SetPageActive(page)` then `pte_fragment_free()`; whoever frees the
//!   last fragment, by any path, sees `TestClearPageActive()` and queues one
//!   RCU callback (`pte_free_now`: destructor and free) for the page.
//! * **merged-before-fix**: the same, with `pte_frag_destroy()` as v6.6
//!   released it: freeing the page without clearing PG_active, which
//!   `free_pages_prepare()` rejects ("Bad page state ...
//!   PAGE_FLAGS_CHECK_AT_FREE"); fixed upstream by fda4d71651f7
//!   ("powerpc/mm: ... clear the Active flag in pte_frag_destroy"), which
//!   **merged** includes: the exit path clears PG_active and frees at once
//!   (no reader can reach an exited mm's tables).
//!
//! pgd and pud tables are whole pages here (the kernel allocates the hash
//! pgd and all puds from kmem caches; the radix pgd is one 64K page, or an
//! order-4 block with 4K pages).

use std::sync::Arc;

use mm_core::event::Event;
use mm_core::page::pg;
use mm_core::pgalloc::{call_rcu_on_page, free_table_page};
use mm_core::report::Report;
use mm_core::{Level, Machine, Mm, MmError};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Ppc;

/// Which `pte_free_defer()` (and exit path) the configuration runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// v6.6 `pte_free_defer()` plus the later `pte_frag_destroy()` fix
    /// (fda4d71651f7): the default.
    Merged,
    /// v6.6 exactly as released: `pte_frag_destroy()` frees a page still
    /// marked Active.
    MergedBeforeFix,
    /// The v1 posting: one `call_rcu()` per deferred fragment through the
    /// page's single rcu_head.
    V1,
}

impl Variant {
    /// The variants as `(name, description)`, the default first.
    pub const TABLE: &'static [(&'static str, &'static str)] = &[
        (
            "merged",
            "v6.6 pte_free_defer (SetPageActive + pte_fragment_free; the last fragment's free \
             queues one call_rcu for the page) with the later pte_frag_destroy fix \
             fda4d71651f7 (clear PG_active at exit)",
        ),
        (
            "merged-before-fix",
            "v6.6 as released: pte_frag_destroy at exit frees a page still marked Active by \
             pte_free_defer (Bad page state, fixed by fda4d71651f7)",
        ),
        (
            "v1",
            "v1 as posted (2023-05-28): call_rcu(&page->rcu_head, pte_free_now) per deferred \
             fragment; two fragments of one page in one grace period reuse the rcu_head",
        ),
    ];

    /// The variant's name (as [`Variant::TABLE`] spells it).
    pub fn name(self) -> &'static str {
        match self {
            Variant::Merged => Self::TABLE[0].0,
            Variant::MergedBeforeFix => Self::TABLE[1].0,
            Variant::V1 => Self::TABLE[2].0,
        }
    }

    /// The variant called `name`.
    pub fn from_name(name: &str) -> Option<Variant> {
        [Variant::Merged, Variant::MergedBeforeFix, Variant::V1]
            .into_iter()
            .find(|v| v.name() == name)
    }
}

/// The per-mm fragment cursors (`mm->context.pte_frag`,
/// `mm->context.pmd_frag`): physical address of the next unused fragment of
/// the mm's current page, 0 for `NULL`.  Updated under
/// `mm->page_table_lock`, as in Linux.
#[derive(Debug, Default)]
pub struct PpcMmContext {
    pte_frag: AtomicU64,
    pmd_frag: AtomicU64,
}

impl PpcMmContext {
    /// `pte_frag_get(&mm->context)`.
    pub fn pte_frag(&self) -> Option<u64> {
        Some(self.pte_frag.load(Ordering::Acquire)).filter(|v| *v != 0)
    }

    /// `mm->context.pmd_frag`.
    pub fn pmd_frag(&self) -> Option<u64> {
        Some(self.pmd_frag.load(Ordering::Acquire)).filter(|v| *v != 0)
    }
}

/// pte or pmd fragments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Pte,
    Pmd,
}

impl Kind {
    fn level(self) -> &'static str {
        match self {
            Kind::Pte => "pte",
            Kind::Pmd => "pmd",
        }
    }
}

/// (size shift, fragments per page) of `kind` on `p`.
fn frag_params(p: &Ppc, kind: Kind) -> (u32, u64) {
    let l = p.layout();
    match kind {
        Kind::Pte => (l.pte_frag_size_shift, l.pte_frag_nr()),
        Kind::Pmd => (l.pmd_frag_size_shift, l.pmd_frag_nr()),
    }
}

fn cursor(mm: &Mm<Ppc>, kind: Kind) -> &AtomicU64 {
    match kind {
        Kind::Pte => &mm.context.pte_frag,
        Kind::Pmd => &mm.context.pmd_frag,
    }
}

/// `(pfn, index)` of the fragment at `pa`.
pub fn fragment_of(p: &Ppc, pa: u64, pte: bool) -> (u64, u64) {
    let l = p.layout();
    let shift = if pte {
        l.pte_frag_size_shift
    } else {
        l.pmd_frag_size_shift
    };
    let page = 1u64 << l.page_shift;
    (pa >> l.page_shift, (pa & (page - 1)) >> shift)
}

/// `pte_fragment_alloc(mm, 0)` / `pmd_fragment_alloc(mm)`.
pub(crate) fn fragment_alloc(mm: &Mm<Ppc>, kind: Kind) -> Result<u64, MmError> {
    let p = mm.arch();
    let (shift, nr) = frag_params(p, kind);
    let page_size = 1u64 << p.layout().page_shift;
    let machine = mm.machine();
    let event = |pa: u64| {
        machine.events().push(|| Event::TableAlloc {
            level: kind.level(),
            pa,
            fragment: (nr > 1).then(|| fragment_of(p, pa, kind == Kind::Pte)),
        })
    };
    // get_pte_from_cache() / get_pmd_from_cache().
    if nr > 1 {
        let _g = mm.page_table_lock.lock()?;
        let cur = cursor(mm, kind);
        let ret = cur.load(Ordering::Acquire);
        if ret != 0 {
            let next = ret + (1 << shift);
            cur.store(
                if next & (page_size - 1) == 0 { 0 } else { next },
                Ordering::Release,
            );
            drop(_g);
            event(ret);
            return Ok(ret);
        }
    }
    // __alloc_for_ptecache() / __alloc_for_pmdcache().
    let pa = mm_core::pgalloc::alloc_table_page(mm)?;
    let page = mm.phys().page_of(pa)?;
    page.pt_frag_refcount.store(1, Ordering::Release);
    if nr > 1 {
        let _g = mm.page_table_lock.lock()?;
        let cur = cursor(mm, kind);
        if cur.load(Ordering::Acquire) == 0 {
            page.pt_frag_refcount.store(nr as u32, Ordering::Release);
            cur.store(pa + (1 << shift), Ordering::Release);
        }
    }
    event(pa);
    Ok(pa)
}

/// `BUG_ON(atomic_read(&pt_frag_refcount) <= 0)` then
/// `atomic_dec_and_test()`: `Ok(true)` when this was the last fragment.
fn frag_put(machine: &Machine, pa: u64, who: &str) -> Result<bool, MmError> {
    let pfn = pa >> machine.phys.page_shift();
    let page = machine.phys.page(pfn)?;
    let mut cur = page.pt_frag_refcount.load(Ordering::Acquire);
    loop {
        if cur == 0 {
            let reason = format!(
                "{who}: BUG_ON(pt_frag_refcount <= 0) for the fragment at {pa:#x} (freed twice?)"
            );
            machine.reports().push(Report::Invariant(reason.clone()));
            return Err(MmError::BadPage { pfn, reason });
        }
        match page.pt_frag_refcount.compare_exchange_weak(
            cur,
            cur - 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Ok(cur == 1),
            Err(v) => cur = v,
        }
    }
}

/// The page holding `pa`, as an address.
fn page_base(machine: &Machine, pa: u64) -> u64 {
    let shift = machine.phys.page_shift();
    (pa >> shift) << shift
}

/// `pte_free_now()`: the page-table destructor and `__free_page()` of the
/// page holding `pa` (reported by the free-page checks if it fails them).
fn pte_free_now(machine: &Machine, pa: u64) -> Result<(), MmError> {
    free_table_page(machine, page_base(machine, pa))
}

/// `pte_fragment_free(table, 0)` of `variant`.
///
/// # Errors
/// [`MmError::BadPage`] on a refcount underflow (`BUG_ON`) or a page that
/// fails the free-page checks; [`MmError::RcuHeadInUse`] when the page's
/// rcu_head is already queued.
pub(crate) fn pte_fragment_free(
    machine: &Arc<Machine>,
    variant: Variant,
    pa: u64,
    how: &str,
) -> Result<(), MmError> {
    machine.events().push(|| Event::TableFree {
        pa,
        how: format!("{how}: pte_fragment_free drops the fragment's reference"),
    });
    if !frag_put(machine, pa, "pte_fragment_free")? {
        return Ok(());
    }
    let page = machine.phys.page_of(pa)?;
    let base = page_base(machine, pa);
    if variant != Variant::V1 && page.clear(pg::ACTIVE) {
        // TestClearPageActive(): a fragment of this page was deferred.
        call_rcu_on_page(
            machine,
            base,
            "pte_fragment_free: last fragment of a PageActive page",
            Box::new(move |m: &Machine| {
                m.events().push(|| Event::CallbackRan {
                    what: format!("pte_free_now(page {base:#x})"),
                });
                // A failure is reported by the free-page checks.
                let _ = pte_free_now(m, base);
            }),
        )?;
        machine.events().push(|| Event::Deferred {
            pa: base,
            how: "last fragment freed; TestClearPageActive: call_rcu(&page->rcu_head, \
                  pte_free_now) for the whole page"
                .into(),
        });
        return Ok(());
    }
    pte_free_now(machine, base)
}

/// `pte_free_defer(mm, pgtable)` of `variant`.
///
/// # Errors
/// As [`pte_fragment_free`]; v1 returns [`MmError::RcuHeadInUse`] (and
/// reports `RcuHeadReuse`) when another fragment of the page is already
/// waiting on the page's rcu_head.
pub(crate) fn pte_free_defer(mm: &Mm<Ppc>, variant: Variant, pa: u64) -> Result<(), MmError> {
    let machine = mm.machine();
    let (pfn, idx) = fragment_of(mm.arch(), pa, true);
    match variant {
        Variant::V1 => {
            call_rcu_on_page(
                machine,
                pa,
                "pte_free_defer (v1): call_rcu(&page->rcu_head, pte_free_now)",
                Box::new(move |m: &Machine| {
                    m.events().push(|| Event::CallbackRan {
                        what: format!(
                            "pte_free_now (v1): pte_fragment_free(page_to_virt(page {pfn:#x}))"
                        ),
                    });
                    m.events().push(|| Event::TableFree {
                        pa,
                        how: "v1 RCU callback: pte_fragment_free drops one reference".into(),
                    });
                    // Errors are reported where they are detected.
                    if let Ok(true) = frag_put(m, pa, "pte_free_now (v1)") {
                        let _ = pte_free_now(m, pa);
                    }
                }),
            )?;
            machine.events().push(|| Event::Deferred {
                pa,
                how: format!("v1: call_rcu on the rcu_head of page {pfn:#x} (fragment {idx})"),
            });
            Ok(())
        }
        Variant::Merged | Variant::MergedBeforeFix => {
            let page = mm.phys().page_of(pa)?;
            page.set(pg::ACTIVE);
            machine.events().push(|| Event::Deferred {
                pa,
                how: format!(
                    "SetPageActive(page {pfn:#x}) then pte_fragment_free (fragment {idx})"
                ),
            });
            pte_fragment_free(machine, variant, pa, "pte_free_defer")
        }
    }
}

/// `pmd_fragment_free()` (mm/book3s64/pgtable.c): drop one reference; the
/// last one runs the pmd destructor and frees the page.
pub(crate) fn pmd_fragment_free(machine: &Machine, pa: u64) -> Result<(), MmError> {
    machine.events().push(|| Event::TableFree {
        pa,
        how: "pmd_fragment_free drops the fragment's reference".into(),
    });
    if frag_put(machine, pa, "pmd_fragment_free")? {
        free_table_page(machine, page_base(machine, pa))?;
    }
    Ok(())
}

/// `pte_frag_destroy()` / `pmd_frag_destroy()` of the mm's leftover
/// fragment page: drop the references of the fragments never handed out.
pub(crate) fn frag_destroy(mm: &Mm<Ppc>, kind: Kind, variant: Variant) -> Result<(), MmError> {
    let p = mm.arch();
    let (shift, nr) = frag_params(p, kind);
    let cur = {
        let _g = mm.page_table_lock.lock()?;
        cursor(mm, kind).swap(0, Ordering::AcqRel)
    };
    if cur == 0 {
        return Ok(());
    }
    let machine = mm.machine();
    let page_size = 1u64 << p.layout().page_shift;
    let count = (cur & (page_size - 1)) >> shift;
    let drop_n = (nr - count) as u32;
    let page = mm.phys().page_of(cur)?;
    let base = page_base(machine, cur);
    let before = page.pt_frag_refcount.load(Ordering::Acquire);
    if before < drop_n {
        // The kernel's atomic_sub_and_test() would go negative and leak the
        // page silently; the model says so and leaks it the same way.
        machine.reports().push(Report::Invariant(format!(
            "{}_frag_destroy: pt_frag_refcount {before} < {drop_n} unused fragments \
             (a fragment of page {:#x} was freed twice); the page is leaked",
            kind.level(),
            base >> p.layout().page_shift
        )));
        page.pt_frag_refcount.store(0, Ordering::Release);
        return Ok(());
    }
    let left = page.pt_frag_refcount.fetch_sub(drop_n, Ordering::AcqRel) - drop_n;
    machine.events().push(|| {
        Event::Note(format!(
            "{}_frag_destroy: page {:#x}: {drop_n} fragment(s) never handed out dropped, \
             pt_frag_refcount {before} -> {left}",
            kind.level(),
            base >> p.layout().page_shift
        ))
    });
    if left != 0 {
        return Ok(());
    }
    if kind == Kind::Pte && variant == Variant::Merged {
        // fda4d71651f7: folio_clear_active() before the free.
        page.clear(pg::ACTIVE);
    }
    free_table_page(machine, base)
}

/// Page order of a whole-page table of `bytes` bytes.
fn order_for(bytes: u64, page_shift: u32) -> u32 {
    let pages = bytes.div_ceil(1 << page_shift).max(1);
    pages.next_power_of_two().trailing_zeros()
}

/// pgd/pud allocation (whole pages; see the module documentation).
pub(crate) fn upper_alloc(mm: &Mm<Ppc>, level: Level) -> Result<u64, MmError> {
    let l = mm.arch().layout();
    let bytes = match level {
        Level::Pgd => l.pgd_table_size,
        _ => l.pud_table_size,
    };
    let order = order_for(bytes, l.page_shift);
    let pa = if order == 0 {
        mm_core::pgalloc::alloc_table_page(mm)?
    } else {
        let pfn = mm.phys().alloc_pages(order)?;
        for f in pfn..pfn + (1 << order) {
            mm.phys().page(f)?.set(pg::TABLE);
        }
        pfn << l.page_shift
    };
    mm.machine().events().push(|| Event::TableAlloc {
        level: level.name(),
        pa,
        fragment: None,
    });
    Ok(pa)
}

/// Free a table from [`upper_alloc`].
pub(crate) fn upper_free(mm: &Mm<Ppc>, level: Level, pa: u64) -> Result<(), MmError> {
    let l = mm.arch().layout();
    let bytes = match level {
        Level::Pgd => l.pgd_table_size,
        _ => l.pud_table_size,
    };
    let order = order_for(bytes, l.page_shift);
    mm.machine().events().push(|| Event::TableFree {
        pa,
        how: format!("{}_free", level.name()),
    });
    if order == 0 {
        return free_table_page(mm.machine(), pa);
    }
    let mut first = Ok(());
    let pfn = pa >> l.page_shift;
    for f in pfn..pfn + (1 << order) {
        let r = free_table_page(mm.machine(), f << l.page_shift);
        if first.is_ok() {
            first = r;
        }
    }
    first
}
