//! Geometry of riscv64 Sv39 (Linux v6.6).
//!
//! Sources: `arch/riscv/include/asm/pgtable-64.h` (`PGDIR_SHIFT_L3` 30,
//! `PMD_SHIFT` 21, `PUD_SHIFT` 30, 8-byte entries), `pgtable.h`
//! (`PTRS_PER_PGD` = `PTRS_PER_PTE` = `PAGE_SIZE / 8` = 512,
//! `TASK_SIZE_64` = `PGDIR_SIZE * PTRS_PER_PGD / 2`), `page.h`
//! (`PAGE_SHIFT` 12).  With Sv39 the kernel folds the p4d and pud at run
//! time (`pgtable_l4_enabled`, `pgtable_l5_enabled` false), so the pgd
//! table's entries are puds in mm-core's folding rule.

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};

/// `TASK_SIZE` for Sv39: `PGDIR_SIZE * PTRS_PER_PGD / 2` = 2^30 * 512 / 2
/// = 2^38 (256G; pgtable.h "0x4000000000 (256GB) for RV64 using SV39").
pub const TASK_SIZE: u64 = 1 << 38;

/// The Sv39 geometry: pgd 512 x 8 B (shift 30), p4d and pud folded, pmd
/// 512 x 8 B (shift 21), pte 512 x 8 B (shift 12), little-endian.
/// `phys_bits` 56: the pfn field is bits 10-53 (`_PAGE_PFN_MASK`
/// = `GENMASK(53, 10)`, pgtable-64.h), 44 bits of pfn.  THP: riscv selects
/// `HAVE_ARCH_TRANSPARENT_HUGEPAGE` on 64-bit.  Split pte locks on
/// (`NR_CPUS >= 4`); split pmd locks off (riscv v6.6 does not select
/// `ARCH_ENABLE_SPLIT_PMD_PTLOCK`).
pub fn geometry() -> Geometry {
    let table = |shift| LevelGeometry {
        shift,
        ptrs: 512,
        table_bytes: 4096,
        entry_bytes: 8,
    };
    Geometry {
        name: "riscv64-sv39",
        page_shift: 12,
        entry_bytes: 8,
        byte_order: ByteOrder::Little,
        split_halves: false,
        levels: [
            table(30),
            LevelGeometry::folded(30),
            LevelGeometry::folded(30),
            table(21),
            table(12),
        ],
        task_size: TASK_SIZE,
        phys_bits: 56,
        has_thp: true,
        split_pmd_ptlocks: false,
        split_pte_ptlocks: true,
    }
}
