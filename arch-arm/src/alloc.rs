//! Page-table allocation on arm.
//!
//! Below the pgd arm keeps one table per page (`arch/arm/include/asm/
//! pgalloc.h`): a classic pte page holds the Linux and hardware halves of
//! one 2M range, an LPAE pmd or pte table is one page.  So `pte_alloc_one`,
//! `pte_free`, the generic `pte_free_defer()` of `mm/pgtable-generic.c` and
//! LPAE's `pmd_alloc_one` are mm-core's generic ones.
//!
//! The classic pgd is different: `pgd_alloc()` (arch/arm/mm/pgd.c) takes
//! `__get_free_pages(GFP_KERNEL, 2)`, 16K that the MMU requires 16K-aligned
//! (TTBR0 holds bits 31:14).  [`pgd_alloc_classic`] takes an order-2 aligned
//! block with [`PhysMem::alloc_pages`] and marks its frames as
//! [`pgalloc::alloc_table_page`] marks a table page (PG_table, owner), so
//! that teardown's checks treat it like any other table; [`pgd_free_classic`]
//! undoes that and frees the four frames.  Not modelled: the copy of the
//! kernel entries into the new pgd, and (LPAE) the pmd table `pgd_alloc()`
//! preallocates for the modules area (both kernel-half state the model does
//! not walk), and the LPAE pgd being a 32-byte slab object rather than a
//! page.
//!
//! [`PhysMem::alloc_pages`]: mm_core::phys::PhysMem::alloc_pages
//! [`pgalloc::alloc_table_page`]: mm_core::pgalloc::alloc_table_page

use mm_core::event::Event;
use mm_core::page::pg;
use mm_core::report::Report;
use mm_core::{Arch, Mm, MmError};

/// Order of the classic pgd: 16K = 4 pages.
pub const PGD_ORDER: u32 = 2;

/// `pgd_alloc()` of the classic configuration: a zeroed, 16K-aligned 16K
/// block; returns its physical address.
///
/// # Errors
/// [`MmError::OutOfMemory`] when no aligned run of four free frames exists.
pub fn pgd_alloc_classic<A: Arch>(mm: &Mm<A>) -> Result<u64, MmError> {
    let phys = mm.phys();
    let pfn = phys.alloc_pages(PGD_ORDER)?;
    for p in pfn..pfn + (1 << PGD_ORDER) {
        let page = phys.page(p)?;
        page.set(pg::TABLE);
        page.pt_owner
            .store(mm.id() as i64, mm_core::sync::Ordering::Release);
    }
    let pa = pfn << phys.page_shift();
    mm.machine().events().push(|| Event::TableAlloc {
        level: "pgd",
        pa,
        fragment: None,
    });
    Ok(pa)
}

/// `pgd_free()` of the classic configuration: undo [`pgd_alloc_classic`]'s
/// marking, drop each frame's reference and free the block.
///
/// # Errors
/// [`MmError::BadPage`] (also reported) when a frame is not marked as a
/// table or fails the free-page checks.
pub fn pgd_free_classic<A: Arch>(mm: &Mm<A>, pgd_pa: u64) -> Result<(), MmError> {
    let machine = mm.machine();
    let phys = &machine.phys;
    let pfn = pgd_pa >> phys.page_shift();
    let mut first = Ok(());
    for p in pfn..pfn + (1 << PGD_ORDER) {
        let page = phys.page(p)?;
        let bad = if !page.clear(pg::TABLE) {
            Some("freeing a pgd frame that is not marked as a page table")
        } else if page.put_testzero() != Some(true) {
            Some("pgd frame refcount is not 1 at free")
        } else {
            None
        };
        if let Some(reason) = bad {
            machine.reports().push(Report::BadPage {
                pfn: p,
                reason: reason.to_string(),
                flags: pg::names(page.flags()),
            });
            if first.is_ok() {
                first = Err(MmError::BadPage {
                    pfn: p,
                    reason: reason.to_string(),
                });
            }
        }
    }
    first?;
    machine.events().push(|| Event::TableFree {
        pa: pgd_pa,
        how: "pgd_free: free_pages(order 2)".into(),
    });
    phys.free_pages(pfn, PGD_ORDER)
}
