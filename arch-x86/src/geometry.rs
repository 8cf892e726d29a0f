//! Geometry of the three x86 configurations (Linux v6.6).
//!
//! Sources: `arch/x86/include/asm/pgtable_64_types.h` (4-level x86_64:
//! `PGDIR_SHIFT` 39 with LA57 off, `PUD_SHIFT` 30, `PMD_SHIFT` 21, 512
//! entries per level, `ptrs_per_p4d` 1), `pgtable-3level_types.h` (PAE:
//! `PGDIR_SHIFT` 30, `PTRS_PER_PGD` 4, `PMD_SHIFT` 21, 512 entries),
//! `pgtable-2level_types.h` (`PGDIR_SHIFT` 22, 1024 entries; the pmd folded
//! by `pgtable-nopmd.h` so `PMD_SHIFT` = `PGDIR_SHIFT` = 22),
//! `page_types.h` (`PAGE_SHIFT` 12), `page_64_types.h`/`page_32_types.h`
//! (`__PHYSICAL_MASK_SHIFT`, `__VIRTUAL_MASK_SHIFT`).

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};

use crate::X86Mode;

/// Bytes of a 4K table.
const PAGE_BYTES: u64 = 4096;

/// One unfolded level.
const fn level(shift: u32, ptrs: u32, entry_bytes: u64) -> LevelGeometry {
    LevelGeometry {
        shift,
        ptrs,
        table_bytes: ptrs as u64 * entry_bytes,
        entry_bytes: entry_bytes as u32,
    }
}

/// The geometry of `mode`.
///
/// * `task_size`: `TASK_SIZE_MAX` = `(1 << 47) - PAGE_SIZE` on x86_64
///   (`page_64_types.h`: the top user page is left unmapped); on both 32-bit
///   configurations `PAGE_OFFSET` = `0xC000_0000` with the default
///   `CONFIG_VMSPLIT_3G` (`page_32_types.h`).
/// * `phys_bits`: `__PHYSICAL_MASK_SHIFT`: 52 on x86_64 (with 4-level paging
///   the CPU limits real memory to `MAX_PHYSMEM_BITS` 46, but entries hold
///   52); on PAE `__PHYSICAL_MASK_SHIFT` is 52 too (`page_32_types.h`),
///   but the model uses `MAX_POSSIBLE_PHYSMEM_BITS` 36
///   (`pgtable-3level_types.h`): pfns are `unsigned long`, 32 bits, and
///   wider ones would be truncated by the helpers; 32 on 2-level (no PSE-36
///   in the mm helpers).
/// * The PAE PDPT is 4 entries = 32 bytes (`arch/x86/mm/pgtable.c` allocates
///   it from the 32-byte `pgd_cache` slab when the kernel pmd is shared);
///   the x86_64 pgd is one 4K table (with `CONFIG_PAGE_TABLE_ISOLATION` the
///   kernel allocates an order-1 pgd whose second half is only used when
///   PTI is on at run time; the model assumes it is off).
/// * Split pmd locks: `ARCH_ENABLE_SPLIT_PMD_PTLOCK if (PGTABLE_LEVELS > 2)
///   && (X86_64 || X86_PAE)` (`arch/x86/Kconfig`); split pte locks with
///   `NR_CPUS >= SPLIT_PTLOCK_CPUS`.
/// * THP: `HAVE_ARCH_TRANSPARENT_HUGEPAGE` is selected unconditionally.
pub fn geometry(mode: X86Mode) -> Geometry {
    match mode {
        X86Mode::X86_64 => Geometry {
            name: "x86_64",
            page_shift: 12,
            entry_bytes: 8,
            byte_order: ByteOrder::Little,
            split_halves: false,
            levels: [
                LevelGeometry {
                    table_bytes: PAGE_BYTES,
                    ..level(39, 512, 8)
                },
                // p4d folded at run time (LA57 off): ptrs_per_p4d = 1.
                LevelGeometry::folded(39),
                level(30, 512, 8),
                level(21, 512, 8),
                level(12, 512, 8),
            ],
            task_size: (1 << 47) - 4096,
            phys_bits: 52,
            has_thp: true,
            split_pmd_ptlocks: true,
            split_pte_ptlocks: true,
        },
        X86Mode::Pae => Geometry {
            name: "x86-pae",
            page_shift: 12,
            entry_bytes: 8,
            byte_order: ByteOrder::Little,
            split_halves: true,
            levels: [
                level(30, 4, 8),
                LevelGeometry::folded(30),
                LevelGeometry::folded(30),
                level(21, 512, 8),
                level(12, 512, 8),
            ],
            task_size: 0xC000_0000,
            phys_bits: 36,
            has_thp: true,
            split_pmd_ptlocks: true,
            split_pte_ptlocks: true,
        },
        X86Mode::X86_32 => Geometry {
            name: "x86-32",
            page_shift: 12,
            entry_bytes: 4,
            byte_order: ByteOrder::Little,
            split_halves: false,
            levels: [
                level(22, 1024, 4),
                LevelGeometry::folded(22),
                LevelGeometry::folded(22),
                // Folded into the pgd; PMD_SHIFT 22 makes pmd_size() 4M.
                LevelGeometry::folded(22),
                level(12, 1024, 4),
            ],
            task_size: 0xC000_0000,
            phys_bits: 32,
            has_thp: true,
            split_pmd_ptlocks: false,
            split_pte_ptlocks: true,
        },
    }
}
