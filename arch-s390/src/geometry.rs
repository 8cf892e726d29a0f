//! Geometry of the s390x configurations (Linux v6.6).
//!
//! Sources: `arch/s390/include/asm/pgtable.h` (`_CRST_ENTRIES` 2048,
//! `_PAGE_ENTRIES` 256, `PMD_SHIFT` 20, `PUD_SHIFT` 31, `P4D_SHIFT` 42,
//! `PGDIR_SHIFT` 53), `asm/pgalloc.h` (`CRST_ALLOC_ORDER` 2: region and
//! segment tables are 16K), `asm/page.h` (`PAGE_SHIFT` 12),
//! `asm/mmu_context.h` (`init_new_context()`: the ASCE type, and so the
//! number of levels, is chosen per mm from `mm->context.asce_limit`).
//!
//! # Levels per mm: shapes
//!
//! On s390 the number of levels is a run-time property of each mm: a new mm
//! starts with a region-third ASCE (3 levels, `asce_limit` 4 TiB =
//! `_REGION2_SIZE`) and `crst_table_upgrade()` (`arch/s390/mm/pgalloc.c`)
//! puts a region-second (8 PiB, `_REGION1_SIZE`) and then a region-first
//! table (`TASK_SIZE_MAX`) on top when something is mapped above the
//! limit.  mm-core expresses this with [`mm_core::Arch::shapes`]: [`shapes`] lists
//! the 3-, 4- and 5-level geometries an mm of a configuration can have,
//! the mm keeps its top table and shape in one word, and
//! [`mm_core::Mm::upgrade`] (called by the mmap path) grows it.
//!
//! * `s390x`: a new mm — region-third ASCE, 3 levels, 4 TiB — growing to
//!   4 and 5 levels on demand.
//! * `s390x-4level`: an mm *created* with a region-second ASCE (8 PiB),
//!   growing to 5 levels.  Linux creates such mms: `dup_mm()` copies
//!   `mm->context.asce_limit`, so the child of an upgraded parent gets the
//!   parent's ASCE type from `init_new_context()` and a region-second top
//!   table from `pgd_alloc()`.  Kept as its own configuration so that the
//!   whole conform suite (helper identities, walks against Unicorn's DAT,
//!   lifecycles, collapse) runs on 4-level tables from the start, with
//!   random mappings over the whole 8 PiB range.
//! * `s390x-5level`: an mm created with a region-first ASCE (the child of
//!   an mm upgraded twice), for the same reason; one shape.
//! * `s390x-pgste`: the default shape for an mm with `mm_alloc_pgste()`
//!   (a KVM host process, or `vm.allocate_pgste=1`): every page table takes
//!   a whole 4K page, 256 ptes followed by their 256 PGSTEs; it grows like
//!   `s390x`.
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

/// The shapes an mm of a configuration whose new mms have `levels` levels
/// can take: `levels` up to 5, smallest first (shape 0 is
/// [`geometry`]`(name, levels, pgste)`; the upgraded shapes are named
/// after their top table).
pub fn shapes(name: &'static str, levels: u32, pgste: bool) -> Vec<Geometry> {
    (levels.clamp(3, 5)..=5)
        .map(|l| {
            let n = if l == levels {
                name
            } else if l == 4 {
                "s390x (upgraded: region-second top, 4 levels)"
            } else {
                "s390x (upgraded: region-first top, 5 levels)"
            };
            geometry(n, l, pgste)
        })
        .collect()
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
