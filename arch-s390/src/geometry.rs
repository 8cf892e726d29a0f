//! Geometry of the s390x configurations (Linux v6.6).
//!
//! Sources: `arch/s390/include/asm/pgtable.h` (`_CRST_ENTRIES` 2048,
//! `_PAGE_ENTRIES` 256, `PMD_SHIFT` 20, `PUD_SHIFT` 31, `P4D_SHIFT` 42,
//! `PGDIR_SHIFT` 53), `asm/pgalloc.h` (`CRST_ALLOC_ORDER` 2: region and
//! segment tables are 16K), `asm/page.h` (`PAGE_SHIFT` 12),
//! `asm/mmu_context.h` (`init_new_context()`: the ASCE type, and so the
//! number of levels, is chosen per mm from `mm->context.asce_limit`).
//!
//! # Why several configurations
//!
//! On s390 the number of levels is a run-time property of each mm: a new mm
//! starts with a region-third ASCE (3 levels, 4 TiB) and
//! `crst_table_upgrade()` adds a region-second (8 PiB) and then a
//! region-first table (the whole 64-bit space) when something is mapped
//! above the limit.  The model's [`Geometry`] is fixed per configuration
//! (mm-core derives each mm's walk plan from it once), so a per-mm upgrade
//! cannot be expressed through the trait without changing mm-core.  The
//! honest option taken here: one configuration per shape, each with the
//! exact ASCE type, table types and address limit of an mm of that shape.
//!
//! * `s390x`: the v6.6 default for a new mm — region-third ASCE, 3 levels,
//!   `TASK_SIZE` of the shape `_REGION2_SIZE` (4 TiB).
//! * `s390x-4level`: region-second ASCE (an mm upgraded once), 8 PiB.
//! * `s390x-5level`: region-first ASCE (upgraded twice), up to
//!   `TASK_SIZE_MAX`.
//! * `s390x-pgste`: the default shape for an mm with `mm_alloc_pgste()`
//!   (a KVM host process, or `vm.allocate_pgste=1`): every page table takes
//!   a whole 4K page, 256 ptes followed by their 256 PGSTEs.
//!
//! The upgrade itself (`crst_table_upgrade()`: a new top table whose first
//! entry points at the old one) is not modelled.
//!
//! Folding follows mm-core's rule: the top table's entries are interpreted
//! by the helpers of the lowest level folded into it (`pud_*` for a
//! region-third top, `p4d_*` for region-second, `pgd_*` for region-first),
//! which is what s390's type-checking helpers do at run time
//! (`pud_folded()` and friends look at the entry's TT bits).

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};

use crate::entry::{_REGION1_SIZE, _REGION2_SIZE, TASK_SIZE_MAX};

/// A 16K region or segment table (`_CRST_ENTRIES` x 8 bytes).
const fn crst(shift: u32) -> LevelGeometry {
    LevelGeometry {
        shift,
        ptrs: 2048,
        table_bytes: 2048 * 8,
        entry_bytes: 8,
    }
}

/// The 2K page table (`PTRS_PER_PTE` 256 x 8 bytes), or with PGSTEs the
/// whole page it occupies.
const fn pte(pgste: bool) -> LevelGeometry {
    LevelGeometry {
        shift: 12,
        ptrs: 256,
        table_bytes: if pgste { 4096 } else { 2048 },
        entry_bytes: 8,
    }
}

/// The geometry of an mm with `levels` (3, 4 or 5) levels, `pgste` page
/// tables, called `name`.
///
/// * `phys_bits` 46: `MAX_PHYSMEM_BITS` = `CONFIG_MAX_PHYSMEM_BITS`, default
///   46 (`asm/sparsemem.h`, `arch/s390/Kconfig`).  Entries themselves hold
///   any 64-bit real address.
/// * Split pmd locks: s390 selects `ARCH_ENABLE_SPLIT_PMD_PTLOCK`; split pte
///   locks with `NR_CPUS >= SPLIT_PTLOCK_CPUS`.  Both 2K page tables of one
///   page share the page's lock (`pte_lockptr()` takes the page of the
///   table).
/// * THP: `HAVE_ARCH_TRANSPARENT_HUGEPAGE`; `has_transparent_hugepage()` is
///   `MACHINE_HAS_EDAT1`, assumed.
pub fn geometry(name: &'static str, levels: u32, pgste: bool) -> Geometry {
    let (levels, task_size) = match levels {
        5 => (
            [crst(53), crst(42), crst(31), crst(20), pte(pgste)],
            TASK_SIZE_MAX,
        ),
        4 => (
            [
                crst(42),
                LevelGeometry::folded(42),
                crst(31),
                crst(20),
                pte(pgste),
            ],
            _REGION1_SIZE,
        ),
        _ => (
            [
                crst(31),
                LevelGeometry::folded(31),
                LevelGeometry::folded(31),
                crst(20),
                pte(pgste),
            ],
            _REGION2_SIZE,
        ),
    };
    Geometry {
        name,
        page_shift: 12,
        entry_bytes: 8,
        byte_order: ByteOrder::Big,
        split_halves: false,
        levels,
        task_size,
        phys_bits: 46,
        has_thp: true,
        split_pmd_ptlocks: true,
        split_pte_ptlocks: true,
    }
}
