//! Page-table allocation on riscv.
//!
//! riscv keeps one table per page at every level (`arch/riscv/include/asm/
//! pgalloc.h`: `pmd_alloc_one`/`pte_alloc_one` are the generic ones from
//! `asm-generic/pgalloc.h`), so the [`crate::Riscv`] `Arch` impl uses
//! mm-core's generic allocation and the generic `pte_free_defer()` of
//! `mm/pgtable-generic.c` unchanged.  Not modelled: `pgd_alloc()` copying
//! the kernel half of `init_mm`'s pgd into the new pgd (kernel-half state
//! the model does not walk).
