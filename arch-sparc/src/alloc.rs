//! Page-table allocation on sparc64, and `pte_free_defer()` as the v6.6
//! series' patch 06 ("sparc: add pte_free_defer() for pte_t *pgtable_t")
//! defines it in `arch/sparc/mm/init_64.c`.
//!
//! sparc64 keeps one table per 8K page at every level and `pgtable_t` is a
//! `pte_t *` (the table's virtual address), not a `struct page *`:
//!
//! * `pte_alloc_one()`: a zeroed page, the page-table constructor, its
//!   `page_address()`; `pte_free()` = `__pte_free()`: `virt_to_page()`,
//!   destructor, `__free_page()` — mm-core's generic one-page-per-table
//!   allocation does the same.
//! * `pte_free_defer(mm, pgtable)`: `page = virt_to_page(pgtable)`, then
//!   `call_rcu(&page->rcu_head, pte_free_now)`; the callback recovers the
//!   page and frees it by address, `__pte_free(page_address(page))` (v1 of
//!   the patch used `page_to_virt()`, the same address).  No table shares the
//!   page, so the single rcu_head is never needed twice.
//! * pmd, pud and pgd tables come from the 8K `pgtable_cache` slab
//!   (`arch/sparc/mm/tsb.c`); the model gives each a page of its own, which
//!   has the same size and alignment (the slab itself is not modelled).

use mm_core::event::Event;
use mm_core::pgalloc::{call_rcu_on_page, free_table_page};
use mm_core::{Machine, Mm, MmError};

use crate::Sparc64;

/// sparc64's `pte_free_defer()`: `call_rcu()` on the rcu_head of
/// `virt_to_page(pgtable)`; `pte_free_now()` frees by address after the
/// grace period.
///
/// # Errors
/// [`MmError::RcuHeadInUse`] when the page's rcu_head is already queued
/// (reported by mm-core).
pub fn pte_free_defer(mm: &Mm<Sparc64>, table_pa: u64) -> Result<(), MmError> {
    call_rcu_on_page(
        mm.machine(),
        table_pa,
        "sparc64 pte_free_defer",
        Box::new(move |m: &Machine| {
            m.events().push(|| Event::CallbackRan {
                what: format!(
                    "pte_free_now: page = container_of(head); __pte_free(page_address(page) = {table_pa:#x})"
                ),
            });
            m.events().push(|| Event::TableFree {
                pa: table_pa,
                how: "__pte_free(pgtable) from the RCU callback: virt_to_page, dtor, __free_page"
                    .into(),
            });
            // free_table_page reports a failure itself; a callback has no
            // caller to return it to.
            let _ = free_table_page(m, table_pa);
        }),
    )?;
    mm.machine().events().push(|| Event::Deferred {
        pa: table_pa,
        how:
            "sparc64 pgtable_t is pte_t *: call_rcu(&virt_to_page(pgtable)->rcu_head, pte_free_now)"
                .into(),
    });
    Ok(())
}
