//! Geometry of the two sparc64 configurations (Linux v6.6).
//!
//! Sources: `arch/sparc/include/asm/page_64.h` (`PAGE_SHIFT` 13,
//! `MAX_PHYS_ADDRESS_BITS` 53), `pgtable_64.h` (`PMD_SHIFT` 23, `PUD_SHIFT` 33,
//! `PGDIR_SHIFT` 43, `PTRS_PER_*` = 1 << (PAGE_SHIFT - 3) = 1024, p4d folded by
//! `pgtable-nop4d.h`), `arch/sparc/Kconfig` (`PGTABLE_LEVELS` 4), and
//! `setup_page_offset()` in `arch/sparc/mm/init_64.c` (the VA hole and
//! `max_phys_bits` per CPU type).

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};

use crate::entry::TteLayout;
use crate::entry::{PAGE_SHIFT, PAGE_SIZE, PGDIR_SHIFT, PMD_SHIFT, PTRS_PER_TABLE, PUD_SHIFT};

/// One unfolded level: a full 8K page of 1024 8-byte entries.
const fn level(shift: u32) -> LevelGeometry {
    LevelGeometry {
        shift,
        ptrs: PTRS_PER_TABLE,
        table_bytes: PAGE_SIZE,
        entry_bytes: 8,
    }
}

/// The geometry of a configuration.
///
/// * Every table, pgd to pte, is one 8K page: pte tables come from
///   `pte_alloc_one()` (a zeroed page, `pgtable_t` is `pte_t *`), pmd, pud
///   and pgd tables from the 8K `pgtable_cache` slab (`arch/sparc/mm/tsb.c`).
/// * `task_size`: the user range the model draws addresses from is the low
///   side of the VA hole: `sparc64_va_hole_bottom` = `0x0010000000000000`
///   on Cheetah+/Panther (sun4u) and `0x0008000000000000` on T4 and later
///   (sun4v).  (`TASK_SIZE` itself is `-VPTE_SIZE`, and user space also has
///   the high side of the hole, above `sparc64_va_hole_top`; the model does
///   not draw addresses there.)
/// * `phys_bits`: sun4u 43, the width of `_PAGE_PADDR_4U` (PA\[42:13\]:
///   `pte_pfn()` drops anything wider; the CPU itself has `max_phys_bits`
///   42); sun4v 53, `MAX_PHYS_ADDRESS_BITS` (`_PAGE_PADDR_4V` holds 56).
/// * Split pmd locks: sparc64 does not select `ARCH_ENABLE_SPLIT_PMD_PTLOCK`,
///   so pmds are locked by `mm->page_table_lock`; split pte locks with
///   `NR_CPUS` 4096.
/// * THP: `HAVE_ARCH_TRANSPARENT_HUGEPAGE` (arch/sparc/Kconfig).
pub fn geometry(layout: TteLayout) -> Geometry {
    let (name, task_size, phys_bits) = match layout {
        TteLayout::Sun4v => ("sparc64", 0x0008_0000_0000_0000, 53),
        TteLayout::Sun4u => ("sparc64-sun4u", 0x0010_0000_0000_0000, 43),
    };
    Geometry {
        name,
        page_shift: PAGE_SHIFT,
        entry_bytes: 8,
        byte_order: ByteOrder::Big,
        split_halves: false,
        levels: [
            level(PGDIR_SHIFT),
            // pgtable-nop4d.h: P4D_SHIFT = PGDIR_SHIFT.
            LevelGeometry::folded(PGDIR_SHIFT),
            level(PUD_SHIFT),
            level(PMD_SHIFT),
            level(PAGE_SHIFT),
        ],
        task_size,
        phys_bits,
        has_thp: true,
        split_pmd_ptlocks: false,
        split_pte_ptlocks: true,
    }
}
