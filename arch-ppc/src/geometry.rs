//! Geometry of the four book3s64 configurations (Linux v6.6).
//!
//! | config | index sizes pte/pmd/pud/pgd | shifts pmd/pud/pgdir | pte frag | pmd frag | source |
//! |---|---|---|---|---|---|
//! | `ppc64-radix-64k` | 5 / 9 / 9 / 13 | 21 / 30 / 39 | 256 B × 256 | 4 KiB × 16 | `radix-64k.h` |
//! | `ppc64-hash-64k` | 8 / 10 / 10 / 8 | 24 / 34 / 44 | 4 KiB × 16 (2K ptes + 2K hidx) | 16 KiB × 4 | `hash-64k.h` |
//! | `ppc64-radix-4k` | 9 / 9 / 9 / 13 | 21 / 30 / 39 | 4 KiB × 1 | 4 KiB × 1 | `radix-4k.h` |
//! | `ppc64-hash-4k` | 9 / 7 / 9 / 9 | 21 / 28 / 37 | 4 KiB × 1 | 1 KiB × 4 | `hash-4k.h` |
//!
//! `PTE_FRAG_SIZE_SHIFT` is `PTE_INDEX_SIZE + 3` (`+ 1` on hash-64k for the
//! hidx half, `H_PTE_FRAG_SIZE_SHIFT`); `PMD_FRAG_SIZE_SHIFT` is
//! `PMD_INDEX_SIZE + 3` (`+ 1` on hash-64k with THP or hugetlb for the
//! deposited-table slots).  The p4d is folded (`pgtable-nop4d.h`), so the
//! pgd table's entries are p4d entries.
//!
//! Table sizes (`RADIX_*_TABLE_SIZE` = `8 << index`; `H_*_TABLE_SIZE` in
//! hash-64k.h/hash-4k.h).  Where the tables come from
//! (`book3s/64/pgalloc.h`): pte and pmd tables are fragments of whole pages
//! (`pte_fragment_alloc`, `pmd_fragment_alloc`); the radix pgd is a whole
//! 64K page, or an order-4 allocation with 4K pages; the hash pgd and every
//! pud come from kmem caches (`PGT_CACHE`), which the model replaces with
//! whole pages (so several of them never share a page here, unlike in the
//! kernel: a documented simplification).
//!
//! `task_size` is `DEFAULT_MAP_WINDOW_USER64` (`task_size_64.h`): 128 TB
//! with 64K pages, 64 TB with 4K pages (mappings above 128 TB need an
//! explicit hint, which the model does not take).  `phys_bits` is
//! `_PAGE_PA_MAX` = 53.  Split pmd locks: `ARCH_ENABLE_SPLIT_PMD_PTLOCK` is
//! selected for PPC_BOOK3S_64 (`platforms/Kconfig.cputype`); as in the
//! kernel, fragments of one page share that page's lock.

use mm_core::arch::{ByteOrder, Geometry, LevelGeometry};

use crate::entry::{
    Layout, _RPAGE_PKEY_BIT0, _RPAGE_PKEY_BIT4, _RPAGE_RPN1, _RPAGE_RPN41, _RPAGE_RPN42,
    _RPAGE_RPN43, _RPAGE_RSV1,
};

/// `hash-64k.h`: `_PAGE_HPTEFLAGS = H_PAGE_BUSY | H_PAGE_HASHPTE |
/// H_PAGE_COMBO` = `_RPAGE_RSV1 | _RPAGE_RPN43 | _RPAGE_RPN0`.
pub const HASH64K_HPTEFLAGS: u64 = _RPAGE_RSV1 | _RPAGE_RPN43 | crate::entry::_RPAGE_RPN0;
/// `hash-4k.h`: `_PAGE_HPTEFLAGS = H_PAGE_BUSY | H_PAGE_HASHPTE |
/// H_PAGE_F_SECOND | H_PAGE_F_GIX` = `_RPAGE_RSV1 | _RPAGE_PKEY_BIT4 |
/// _RPAGE_PKEY_BIT0 | _RPAGE_RPN43 | _RPAGE_RPN42 | _RPAGE_RPN41`.
pub const HASH4K_HPTEFLAGS: u64 =
    _RPAGE_RSV1 | _RPAGE_PKEY_BIT4 | _RPAGE_PKEY_BIT0 | _RPAGE_RPN43 | _RPAGE_RPN42 | _RPAGE_RPN41;

/// `ppc64-radix-64k` (radix-64k.h, radix.h).
pub const RADIX_64K: Layout = Layout {
    name: "ppc64-radix-64k",
    radix: true,
    page_shift: 16,
    index: [5, 9, 9, 13],
    pte_frag_size_shift: 5 + 3,
    pmd_frag_size_shift: 9 + 3,
    pte_table_size: 8 << 5,
    pmd_table_size: 8 << 9,
    pud_table_size: 8 << 9,
    pgd_table_size: 8 << 13,
    hpteflags: 0,
    thp_huge: 0,
    hashpte: 0,
    has_thp: true,
};

/// `ppc64-hash-64k` (hash-64k.h, hash.h), with THP and hugetlb.
pub const HASH_64K: Layout = Layout {
    name: "ppc64-hash-64k",
    radix: false,
    page_shift: 16,
    index: [8, 10, 10, 8],
    pte_frag_size_shift: 8 + 3 + 1,
    pmd_frag_size_shift: 10 + 3 + 1,
    // H_PTE_TABLE_SIZE = PTE_FRAG_SIZE.
    pte_table_size: 1 << 12,
    // (sizeof(pmd_t) << 10) + (sizeof(unsigned long) << 10).
    pmd_table_size: (8 << 10) + (8 << 10),
    // With CONFIG_HUGETLB_PAGE: (8 << 10) + (8 << 10).
    pud_table_size: (8 << 10) + (8 << 10),
    pgd_table_size: 8 << 8,
    hpteflags: HASH64K_HPTEFLAGS,
    thp_huge: _RPAGE_RPN1,
    hashpte: _RPAGE_RPN43,
    has_thp: true,
};

/// `ppc64-radix-4k` (radix-4k.h, radix.h).
pub const RADIX_4K: Layout = Layout {
    name: "ppc64-radix-4k",
    radix: true,
    page_shift: 12,
    index: [9, 9, 9, 13],
    pte_frag_size_shift: 9 + 3,
    pmd_frag_size_shift: 9 + 3,
    pte_table_size: 8 << 9,
    pmd_table_size: 8 << 9,
    pud_table_size: 8 << 9,
    pgd_table_size: 8 << 13,
    hpteflags: 0,
    thp_huge: 0,
    hashpte: 0,
    has_thp: true,
};

/// `ppc64-hash-4k` (hash-4k.h, hash.h).  `has_transparent_hugepage()` is
/// false: `hash__has_transparent_hugepage()` (mm/book3s64/hash_pgtable.c)
/// wants `PMD_SHIFT` equal to the 16M page shift, and hash-4k's
/// `hash__pmd_trans_huge()` is 0.
pub const HASH_4K: Layout = Layout {
    name: "ppc64-hash-4k",
    radix: false,
    page_shift: 12,
    index: [9, 7, 9, 9],
    pte_frag_size_shift: 9 + 3,
    pmd_frag_size_shift: 7 + 3,
    pte_table_size: 8 << 9,
    pmd_table_size: 8 << 7,
    pud_table_size: 8 << 9,
    pgd_table_size: 8 << 9,
    hpteflags: HASH4K_HPTEFLAGS,
    thp_huge: 0,
    hashpte: _RPAGE_PKEY_BIT4,
    has_thp: false,
};

/// The geometry of `l`.
pub fn geometry(l: &Layout) -> Geometry {
    let lvl = |shift: u32, index: u32, table_bytes: u64| LevelGeometry {
        shift,
        ptrs: 1 << index,
        table_bytes,
        entry_bytes: 8,
    };
    Geometry {
        name: l.name,
        page_shift: l.page_shift,
        entry_bytes: 8,
        byte_order: ByteOrder::Big,
        split_halves: false,
        levels: [
            lvl(l.pgdir_shift(), l.index[3], l.pgd_table_size),
            LevelGeometry::folded(l.pgdir_shift()),
            lvl(l.pud_shift(), l.index[2], l.pud_table_size),
            lvl(l.pmd_shift(), l.index[1], l.pmd_table_size),
            lvl(l.page_shift, l.index[0], l.pte_table_size),
        ],
        task_size: if l.page_shift == 16 { 1 << 47 } else { 1 << 46 },
        phys_bits: crate::entry::_PAGE_PA_MAX,
        has_thp: l.has_thp,
        split_pmd_ptlocks: true,
        split_pte_ptlocks: true,
    }
}
