//! Page-table allocation on x86.
//!
//! x86 keeps one table per page at every level below the pgd
//! (`arch/x86/include/asm/pgalloc.h`, `arch/x86/mm/pgtable.c`), so it uses
//! mm-core's generic allocation (`pte_alloc_one`, `table_alloc`, ...) and the
//! generic `pte_free_defer()` of `mm/pgtable-generic.c` unchanged: the
//! [`crate::X86`] `Arch` impl does not override the trait's allocation
//! methods.  Two kernel details the generic allocator does not reproduce are
//! documented rather than modelled: the PAE pgd (PDPT) is a 32-byte slab
//! object, and PAE `pgd_alloc()` preallocates the user pmd tables
//! (`PREALLOCATED_PMDS`).
