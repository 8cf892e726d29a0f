//! riscv64 entry bits (Linux v6.6) and the helper bodies on raw values.
//!
//! Sources: `arch/riscv/include/asm/pgtable-bits.h`, `pgtable.h`,
//! `pgtable-64.h`, `arch/riscv/mm/init.c` (`protection_map`).
//! Assumptions: no Svpbmt and no XTheadMemType (`_PAGE_MTMASK` is 0, and
//! `ALT_THEAD_PMA()` is a no-op), no Svnapot entries (`pte_pfn()` is the
//! plain field).

/// Bit 0, `_PAGE_PRESENT` (pgtable-bits.h): the hardware V bit.
pub const _PAGE_PRESENT: u64 = 1 << 0;
/// Bit 1, `_PAGE_READ` (pgtable-bits.h): R.
pub const _PAGE_READ: u64 = 1 << 1;
/// Bit 2, `_PAGE_WRITE` (pgtable-bits.h): W.
pub const _PAGE_WRITE: u64 = 1 << 2;
/// Bit 3, `_PAGE_EXEC` (pgtable-bits.h): X.
pub const _PAGE_EXEC: u64 = 1 << 3;
/// Bit 4, `_PAGE_USER` (pgtable-bits.h): U.
pub const _PAGE_USER: u64 = 1 << 4;
/// Bit 5, `_PAGE_GLOBAL` (pgtable-bits.h): G.
pub const _PAGE_GLOBAL: u64 = 1 << 5;
/// Bit 6, `_PAGE_ACCESSED` (pgtable-bits.h): A.
pub const _PAGE_ACCESSED: u64 = 1 << 6;
/// Bit 7, `_PAGE_DIRTY` (pgtable-bits.h): D.
pub const _PAGE_DIRTY: u64 = 1 << 7;
/// Bit 8, `_PAGE_SOFT` (pgtable-bits.h): the first RSW bit.
pub const _PAGE_SOFT: u64 = 1 << 8;
/// `_PAGE_SPECIAL` = `_PAGE_SOFT` (pgtable-bits.h).
pub const _PAGE_SPECIAL: u64 = _PAGE_SOFT;
/// `_PAGE_TABLE` = `_PAGE_PRESENT` (pgtable-bits.h): a non-leaf entry has
/// only V.
pub const _PAGE_TABLE: u64 = _PAGE_PRESENT;
/// `_PAGE_PROT_NONE` = `_PAGE_GLOBAL` (pgtable-bits.h): set on PROT_NONE
/// entries, which have V clear.
pub const _PAGE_PROT_NONE: u64 = _PAGE_GLOBAL;
/// `_PAGE_SWP_EXCLUSIVE` = `_PAGE_ACCESSED` (pgtable-bits.h, v6.3+): the
/// exclusive marker of a swap pte.
pub const _PAGE_SWP_EXCLUSIVE: u64 = _PAGE_ACCESSED;
/// `_PAGE_PFN_SHIFT` (pgtable-bits.h).
pub const _PAGE_PFN_SHIFT: u32 = 10;
/// `_PAGE_PFN_MASK` = `GENMASK(53, 10)` (pgtable-64.h).
pub const _PAGE_PFN_MASK: u64 = ((1u64 << 54) - 1) & !((1u64 << 10) - 1);
/// `_PAGE_LEAF` = R | W | X (pgtable-bits.h): any of them makes a leaf.
pub const _PAGE_LEAF: u64 = _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC;
/// `_PAGE_CHG_MASK` (pgtable-bits.h): everything but V, R, W, X, U, G.
pub const _PAGE_CHG_MASK: u64 =
    !(_PAGE_PRESENT | _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC | _PAGE_USER | _PAGE_GLOBAL);

/// `PAGE_SHIFT`.
pub const PAGE_SHIFT: u32 = 12;
/// `PMD_SHIFT` (pgtable-64.h).
pub const PMD_SHIFT: u32 = 21;

/// `__SWP_TYPE_SHIFT` (pgtable.h, v6.3+): type in bits 7-11.
pub const __SWP_TYPE_SHIFT: u32 = 7;
/// `__SWP_TYPE_BITS` (pgtable.h).
pub const __SWP_TYPE_BITS: u32 = 5;
/// `__SWP_TYPE_MASK` (pgtable.h).
pub const __SWP_TYPE_MASK: u64 = (1 << __SWP_TYPE_BITS) - 1;
/// `__SWP_OFFSET_SHIFT` = type bits + type shift = 12 (pgtable.h).
pub const __SWP_OFFSET_SHIFT: u32 = __SWP_TYPE_BITS + __SWP_TYPE_SHIFT;

/// `_PAGE_BASE` (pgtable.h): present, accessed, user.
pub const _PAGE_BASE: u64 = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_USER;
/// `PAGE_NONE` (pgtable.h): `_PAGE_PROT_NONE | _PAGE_READ`.
pub const PAGE_NONE: u64 = _PAGE_PROT_NONE | _PAGE_READ;
/// `PAGE_READ` (pgtable.h); also `PAGE_COPY`.
pub const PAGE_READ: u64 = _PAGE_BASE | _PAGE_READ;
/// `PAGE_WRITE` (pgtable.h); also `PAGE_SHARED`.
pub const PAGE_WRITE: u64 = _PAGE_BASE | _PAGE_READ | _PAGE_WRITE;
/// `PAGE_EXEC` (pgtable.h).
pub const PAGE_EXEC: u64 = _PAGE_BASE | _PAGE_EXEC;
/// `PAGE_READ_EXEC` (pgtable.h); also `PAGE_COPY_EXEC`.
pub const PAGE_READ_EXEC: u64 = _PAGE_BASE | _PAGE_READ | _PAGE_EXEC;
/// `PAGE_WRITE_EXEC` (pgtable.h); also `PAGE_SHARED_EXEC`.
pub const PAGE_WRITE_EXEC: u64 = _PAGE_BASE | _PAGE_READ | _PAGE_EXEC | _PAGE_WRITE;

/// `protection_map[]` (arch/riscv/mm/init.c, `DECLARE_VM_GET_PAGE_PROT`),
/// indexed by `VM_READ | VM_WRITE | VM_EXEC | VM_SHARED`.  Private
/// writable mappings get `PAGE_COPY` = `PAGE_READ` (copy-on-write).
pub const PROTECTION_MAP: [u64; 16] = [
    PAGE_NONE,       // VM_NONE
    PAGE_READ,       // VM_READ
    PAGE_READ,       // VM_WRITE: PAGE_COPY
    PAGE_READ,       // VM_WRITE|VM_READ: PAGE_COPY
    PAGE_EXEC,       // VM_EXEC
    PAGE_READ_EXEC,  // VM_EXEC|VM_READ
    PAGE_READ_EXEC,  // VM_EXEC|VM_WRITE: PAGE_COPY_EXEC
    PAGE_READ_EXEC,  // VM_EXEC|VM_WRITE|VM_READ: PAGE_COPY_EXEC
    PAGE_NONE,       // VM_SHARED
    PAGE_READ,       // VM_SHARED|VM_READ
    PAGE_WRITE,      // VM_SHARED|VM_WRITE: PAGE_SHARED
    PAGE_WRITE,      // VM_SHARED|VM_WRITE|VM_READ: PAGE_SHARED
    PAGE_EXEC,       // VM_SHARED|VM_EXEC
    PAGE_READ_EXEC,  // VM_SHARED|VM_EXEC|VM_READ
    PAGE_WRITE_EXEC, // VM_SHARED|VM_EXEC|VM_WRITE: PAGE_SHARED_EXEC
    PAGE_WRITE_EXEC, // VM_SHARED|VM_EXEC|VM_WRITE|VM_READ
];

/// `__page_val_to_pfn()` (pgtable.h): the pfn field.
pub fn page_val_to_pfn(v: u64) -> u64 {
    (v & _PAGE_PFN_MASK) >> _PAGE_PFN_SHIFT
}

/// `pfn_pte()` / `pfn_pmd()` (pgtable.h): `(pfn << _PAGE_PFN_SHIFT) | prot`.
pub fn pfn_entry(pfn: u64, prot: u64) -> u64 {
    (pfn << _PAGE_PFN_SHIFT) | prot
}

/// `pte_present()` (pgtable.h): `_PAGE_PRESENT | _PAGE_PROT_NONE`.
pub fn pte_present(v: u64) -> bool {
    v & (_PAGE_PRESENT | _PAGE_PROT_NONE) != 0
}

/// `pte_protnone()` (pgtable.h, `CONFIG_NUMA_BALANCING`): PROT_NONE set and
/// PRESENT clear.
pub fn pte_protnone(v: u64) -> bool {
    v & (_PAGE_PRESENT | _PAGE_PROT_NONE) == _PAGE_PROT_NONE
}

/// `pmd_present()` (pgtable.h, `CONFIG_TRANSPARENT_HUGEPAGE`): PRESENT,
/// PROT_NONE or any leaf bit, so that a THP whose present bit
/// `pmdp_invalidate()` cleared stays present.
pub fn pmd_present(v: u64) -> bool {
    v & (_PAGE_PRESENT | _PAGE_PROT_NONE | _PAGE_LEAF) != 0
}

/// `pmd_leaf()` (pgtable.h): present and any of R/W/X.
pub fn pmd_leaf(v: u64) -> bool {
    pmd_present(v) && v & _PAGE_LEAF != 0
}

/// `pmd_bad()` (pgtable.h): not present, or a leaf.
pub fn pmd_bad(v: u64) -> bool {
    !pmd_present(v) || v & _PAGE_LEAF != 0
}

/// `pmd_pfn()` (pgtable.h): `(__pmd_to_phys(pmd) & PMD_MASK) >> PAGE_SHIFT`.
pub fn pmd_pfn(v: u64) -> u64 {
    let pa = page_val_to_pfn(v) << PAGE_SHIFT;
    (pa & !((1u64 << PMD_SHIFT) - 1)) >> PAGE_SHIFT
}

/// `pte_modify()` (pgtable.h): keep `_PAGE_CHG_MASK`, take the rest from
/// the new protection.
pub fn pte_modify(v: u64, prot: u64) -> u64 {
    (v & _PAGE_CHG_MASK) | prot
}

/// `pmd_mkinvalid()` (pgtable.h): clear PRESENT and PROT_NONE.
pub fn pmd_mkinvalid(v: u64) -> u64 {
    v & !(_PAGE_PRESENT | _PAGE_PROT_NONE)
}

/// What `pmd_populate()` / `pud_populate()` (pgalloc.h) store for a table at
/// `table_pa`: `(pfn << _PAGE_PFN_SHIFT) | _PAGE_TABLE`.
pub fn table_entry(table_pa: u64) -> u64 {
    ((table_pa >> PAGE_SHIFT) << _PAGE_PFN_SHIFT) | _PAGE_TABLE
}

/// Physical address of the table a non-leaf entry points at
/// (`pmd_page_vaddr()`, `pud_pgtable()` as physical addresses).
pub fn table_pa(v: u64) -> u64 {
    page_val_to_pfn(v) << PAGE_SHIFT
}

/// `__swp_entry()` (pgtable.h).
pub fn swp_entry(ty: u64, offset: u64) -> u64 {
    ((ty & __SWP_TYPE_MASK) << __SWP_TYPE_SHIFT) | (offset << __SWP_OFFSET_SHIFT)
}

/// `__swp_type()` (pgtable.h).
pub fn swp_type(e: u64) -> u64 {
    (e >> __SWP_TYPE_SHIFT) & __SWP_TYPE_MASK
}

/// `__swp_offset()` (pgtable.h).
pub fn swp_offset(e: u64) -> u64 {
    e >> __SWP_OFFSET_SHIFT
}

/// Whether the Sv39 MMU accepts `v` as a leaf: V set, a leaf (R, W or X),
/// and not a reserved R/W/X combination (W without R: "W" and "W+X" are
/// reserved encodings, privileged spec 4.3.1).
pub fn hw_leaf_ok(v: u64) -> bool {
    v & _PAGE_PRESENT != 0 && v & _PAGE_LEAF != 0 && !(v & _PAGE_WRITE != 0 && v & _PAGE_READ == 0)
}
