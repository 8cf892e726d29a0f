//! Geometry of the two arm configurations (Linux v6.6).
//!
//! Sources: `arch/arm/include/asm/pgtable-2level.h` (`PTRS_PER_PGD` 2048 of
//! 8 bytes, `PTRS_PER_PMD` 1, `PTRS_PER_PTE` 512, `PMD_SHIFT` =
//! `PGDIR_SHIFT` = 21, `__PAGETABLE_PMD_FOLDED`), `pgtable-3level.h`
//! (`PTRS_PER_PGD` 4, `PTRS_PER_PMD` 512, `PTRS_PER_PTE` 512, `PGDIR_SHIFT`
//! 30, `PMD_SHIFT` 21, 8-byte entries, the pud folded by `pgtable-nopud.h`),
//! `arch/arm/include/asm/memory.h` (`TASK_SIZE` = `PAGE_OFFSET - SZ_16M`
//! = 0xBF00_0000 with the default 3G/1G split, `PAGE_OFFSET` 0xC000_0000),
//! `mm/Kconfig` (split ptlocks).

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};

use crate::ArmMode;

/// `TASK_SIZE` (memory.h): `PAGE_OFFSET - SZ_16M` with `CONFIG_VMSPLIT_3G`.
pub const TASK_SIZE: u64 = 0xC000_0000 - 0x100_0000;

/// The geometry of `mode`.
///
/// * `arm` (classic): the pgd is 2048 pairs of first-level descriptors (16K,
///   16K-aligned); each pte page holds the two 256-entry Linux tables at +0
///   and +1024 and the two hardware tables at +2048 and +3072 (one table in
///   the model's terms: 512 four-byte ptes, a 4K page).  `phys_bits` 32
///   (`MAX_POSSIBLE_PHYSMEM_BITS`).  No THP.  Split pte locks are **off**:
///   `SPLIT_PTLOCK_CPUS` is 999999 `if ARM && !CPU_CACHE_VIPT`
///   (mm/Kconfig), which is the configuration where `adjust_pte()` (a VIVT
///   cache path) runs; the ptl is then `mm->page_table_lock`.  A
///   `multi_v7_defconfig` kernel has `CPU_CACHE_VIPT` and split pte locks,
///   but there `cache_is_vivt()` is false and `adjust_pte()` never runs:
///   see [`crate::Arm::with_split_pte_ptlocks`] for the other case.
/// * `arm-lpae`: 4 first-level entries of 1G (a 32-byte table; the model
///   gives it a page), 512-entry pmd and pte tables, 8-byte entries, 40
///   physical address bits, THP with 2M block pmds.  Split pte locks on
///   (`CPU_CACHE_VIPT`, `NR_CPUS >= 4`); no `ARCH_ENABLE_SPLIT_PMD_PTLOCK`
///   on arm.
pub fn geometry(mode: ArmMode) -> Geometry {
    match mode {
        ArmMode::Classic => Geometry {
            name: "arm",
            page_shift: 12,
            entry_bytes: 4,
            byte_order: ByteOrder::Little,
            split_halves: false,
            levels: [
                LevelGeometry {
                    shift: 21,
                    ptrs: 2048,
                    table_bytes: 16384,
                    entry_bytes: 8,
                },
                LevelGeometry::folded(21),
                LevelGeometry::folded(21),
                LevelGeometry::folded(21),
                LevelGeometry {
                    shift: 12,
                    ptrs: 512,
                    // The page: Linux pt 0/1 and h/w pt 0/1.
                    table_bytes: 4096,
                    entry_bytes: 4,
                },
            ],
            task_size: TASK_SIZE,
            phys_bits: 32,
            has_thp: false,
            split_pmd_ptlocks: false,
            split_pte_ptlocks: false,
        },
        ArmMode::Lpae => Geometry {
            name: "arm-lpae",
            page_shift: 12,
            entry_bytes: 8,
            byte_order: ByteOrder::Little,
            split_halves: false,
            levels: [
                LevelGeometry {
                    shift: 30,
                    ptrs: 4,
                    table_bytes: 32,
                    entry_bytes: 8,
                },
                LevelGeometry::folded(30),
                LevelGeometry::folded(30),
                LevelGeometry {
                    shift: 21,
                    ptrs: 512,
                    table_bytes: 4096,
                    entry_bytes: 8,
                },
                LevelGeometry {
                    shift: 12,
                    ptrs: 512,
                    table_bytes: 4096,
                    entry_bytes: 8,
                },
            ],
            task_size: TASK_SIZE,
            phys_bits: 40,
            has_thp: true,
            split_pmd_ptlocks: false,
            split_pte_ptlocks: true,
        },
    }
}
