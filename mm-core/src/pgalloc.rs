//! Generic page-table allocation and `pte_free_defer()`: one table per page
//! (`include/asm-generic/pgalloc.h`, `mm/pgtable-generic.c`), as x86 and arm
//! use.  Architectures with several tables per page (powerpc fragments, s390
//! 2K halves) override the [`Arch`] methods that call these.
//!
//! The page-table constructor (`pagetable_pte_ctor()`) marks the page as a
//! table (PG_table) and readies its split lock; the destructor clears it.  A
//! page freed while still marked, still queued on RCU, or with a reference
//! left fails the free-page checks in [`PhysMem::free_page`] and is reported.
//!
//! [`PhysMem::free_page`]: crate::phys::PhysMem::free_page

use std::sync::Arc;

use crate::arch::{Arch, Level};
use crate::event::Event;
use crate::machine::Machine;
use crate::mm::Mm;
use crate::page::pg;
use crate::report::Report;
use crate::sync::Ordering;
use crate::MmError;

/// Allocate a zeroed page and run the page-table constructor on it.
///
/// # Errors
/// [`MmError::OutOfMemory`].
pub fn alloc_table_page<A: Arch>(mm: &Mm<A>) -> Result<u64, MmError> {
    let phys = mm.phys();
    let pfn = phys.alloc_page()?;
    let page = phys.page(pfn)?;
    page.set(pg::TABLE);
    page.pt_owner.store(mm.id() as i64, Ordering::Release);
    Ok(pfn << phys.page_shift())
}

/// Run the page-table destructor on the page holding `table_pa`, drop the
/// allocation's reference and free the page (`pagetable_pte_dtor()` +
/// `pagetable_free()`).  Needs only the machine, not the mm: the RCU
/// callback of `pte_free_defer()` runs after the mm may be gone.
///
/// # Errors
/// [`MmError::BadPage`] when the page fails the free checks (reported);
/// [`MmError::BadAddress`] for an address outside memory.
pub fn free_table_page(machine: &Machine, table_pa: u64) -> Result<(), MmError> {
    let phys = &machine.phys;
    let pfn = table_pa >> phys.page_shift();
    let page = phys.page(pfn)?;
    if !page.clear(pg::TABLE) {
        let reason = "freeing a page table that is not marked as one".to_string();
        machine.reports().push(Report::BadPage {
            pfn,
            reason: reason.clone(),
            flags: pg::names(page.flags()),
        });
        return Err(MmError::BadPage { pfn, reason });
    }
    match page.put_testzero() {
        Some(true) => phys.free_page(pfn),
        Some(false) => Ok(()),
        None => {
            let reason = "page table freed with _refcount already 0".to_string();
            machine.reports().push(Report::BadPage {
                pfn,
                reason: reason.clone(),
                flags: pg::names(page.flags()),
            });
            Err(MmError::BadPage { pfn, reason })
        }
    }
}

/// Generic `pte_alloc_one()`.
///
/// # Errors
/// [`MmError::OutOfMemory`].
pub fn generic_pte_alloc_one<A: Arch>(mm: &Mm<A>) -> Result<u64, MmError> {
    let pa = alloc_table_page(mm)?;
    mm.machine().events().push(|| Event::TableAlloc {
        level: "pte",
        pa,
        fragment: None,
    });
    Ok(pa)
}

/// Generic `pte_free()`.
///
/// # Errors
/// As [`free_table_page`].
pub fn generic_pte_free<A: Arch>(mm: &Mm<A>, table_pa: u64) -> Result<(), MmError> {
    mm.machine().events().push(|| Event::TableFree {
        pa: table_pa,
        how: "pte_free: now".into(),
    });
    free_table_page(mm.machine(), table_pa)
}

/// Generic `pmd_alloc_one()`, `pud_alloc_one()`, `p4d_alloc_one()`,
/// `pgd_alloc()`.
///
/// # Errors
/// [`MmError::OutOfMemory`].
pub fn generic_table_alloc<A: Arch>(mm: &Mm<A>, level: Level) -> Result<u64, MmError> {
    let pa = alloc_table_page(mm)?;
    mm.machine().events().push(|| Event::TableAlloc {
        level: level.name(),
        pa,
        fragment: None,
    });
    Ok(pa)
}

/// Generic free of an upper-level table.
///
/// # Errors
/// As [`free_table_page`].
pub fn generic_table_free<A: Arch>(
    mm: &Mm<A>,
    _level: Level,
    table_pa: u64,
) -> Result<(), MmError> {
    free_table_page(mm.machine(), table_pa)
}

/// Queue `f` on RCU through the rcu_head of the page holding `pa`.
///
/// Linux has one `rcu_head` per `struct page`, overlaying `lru` (and so any
/// list the page is on).  Queuing it while it is already queued corrupts the
/// RCU callback list, and queuing it while the page is on a list corrupts
/// that list: both are reported here, and the second `call_rcu()` is not
/// made (the model cannot corrupt a list, so it refuses).  The rcu_head is
/// released just before `f` runs, as `container_of()` hands the page back.
///
/// # Errors
/// [`MmError::RcuHeadInUse`] when the head is already queued.
pub fn call_rcu_on_page(
    machine: &Arc<Machine>,
    pa: u64,
    context: &str,
    f: Box<dyn FnOnce(&Machine) + Send + 'static>,
) -> Result<(), MmError> {
    let pfn = pa >> machine.phys.page_shift();
    let page = machine.phys.page(pfn)?;
    if page.rcu_queued.swap(true, Ordering::AcqRel) {
        machine.reports().push(Report::RcuHeadReuse {
            pfn,
            context: context.to_string(),
        });
        return Err(MmError::RcuHeadInUse { pfn });
    }
    if page.on_list.load(Ordering::Acquire) {
        machine.reports().push(Report::RcuHeadOverlaysList {
            pfn,
            context: context.to_string(),
        });
    }
    let m = machine.clone();
    machine.rcu.call_rcu(Box::new(move || {
        if let Ok(page) = m.phys.page(pfn) {
            page.rcu_queued.store(false, Ordering::Release);
        }
        f(&m);
    }));
    Ok(())
}

/// Generic `pte_free_defer()` (the series' patch 08): `call_rcu()` on the
/// table page's rcu_head, whose callback (`pte_free_now()`) frees the table
/// after a grace period, so that a `pte_offset_map()` reader that found the
/// table before `retract_page_tables()` cleared the pmd can still read it
/// (empty, detached) until it unmaps.  It is called inside the retract loop,
/// "where allocating extra memory cannot be relied upon", hence the embedded
/// rcu_head rather than an allocated one.
///
/// # Errors
/// [`MmError::RcuHeadInUse`] when the head is already queued.
pub fn generic_pte_free_defer<A: Arch>(mm: &Mm<A>, table_pa: u64) -> Result<(), MmError> {
    call_rcu_on_page(
        mm.machine(),
        table_pa,
        "pte_free_defer",
        Box::new(move |m: &Machine| {
            m.events().push(|| Event::CallbackRan {
                what: format!("pte_free_now({table_pa:#x})"),
            });
            m.events().push(|| Event::TableFree {
                pa: table_pa,
                how: "pte_free_now from the RCU callback".into(),
            });
            // A failure is reported by free_table_page; a callback has no
            // one to return it to.
            let _ = free_table_page(m, table_pa);
        }),
    )?;
    mm.machine().events().push(|| Event::Deferred {
        pa: table_pa,
        how: "call_rcu on the table page's rcu_head".into(),
    });
    Ok(())
}
