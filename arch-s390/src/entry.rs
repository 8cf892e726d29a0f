//! s390 entry encodings of Linux v6.6, and the helper bodies on raw values.
//!
//! Every constant is from `arch/s390/include/asm/pgtable.h` unless another
//! header is named.  Masks use LSB-0 numbering (bit 0 is the value 1); the
//! z/Architecture Principles of Operation numbers bits MSB-0 ("IBM bit n" =
//! LSB bit `63 - n`), which the comments give where the hardware meaning
//! matters.
//!
//! Kconfig and machine assumptions (stated once, used everywhere here):
//! * `CONFIG_MEM_SOFT_DIRTY=y` (s390 selects `HAVE_ARCH_SOFT_DIRTY`), so the
//!   soft-dirty bits below are not 0.
//! * `MACHINE_HAS_NX` (the instruction-execution-protection facility, z14
//!   and later): `mk_pte_phys()` and `massage_pgprot_pmd()` keep
//!   `_PAGE_NOEXEC` / `_SEGMENT_ENTRY_NOEXEC`; without it they clear them.
//! * `MACHINE_HAS_EDAT1`, so `has_transparent_hugepage()` is true and large
//!   (1M) segment entries exist.
//!
//! Ordinary s390 page-table entries have no hardware referenced or changed
//! bits (those live in the storage key), so Linux emulates young and dirty:
//! the hardware invalid bit I is kept set unless the pte is young *and*
//! readable, and the protect bit P set unless it is dirty *and* writable.
//! Hence an empty pte is `_PAGE_INVALID`, not 0.

// ---- pte (pgtable.h, "Page table entry" block) ----------------------------

/// IBM bit 52: must be 0 in a valid pte (else a translation-specification
/// exception); Linux uses it in software as `_PAGE_LARGE` (pgtable.h).
pub const _PAGE_LARGE: u64 = 0x800;
/// IBM bit 53, I: the page is invalid (hardware; pgtable.h).
pub const _PAGE_INVALID: u64 = 0x400;
/// IBM bit 54, P: page protection, write faults (hardware; pgtable.h).
pub const _PAGE_PROTECT: u64 = 0x200;
/// IBM bit 55, IEP: instruction-execution protection (hardware with the IEP
/// facility; pgtable.h).
pub const _PAGE_NOEXEC: u64 = 0x100;
/// IBM bit 56: software, pgste usage state ("_PAGE_UNUSED", pgtable.h).
pub const _PAGE_UNUSED: u64 = 0x080;
/// IBM bit 57: software, `pte_special()` (pgtable.h).
pub const _PAGE_SPECIAL: u64 = 0x040;
/// IBM bit 58: software write permission (pgtable.h).
pub const _PAGE_WRITE: u64 = 0x020;
/// IBM bit 59: software read permission (pgtable.h).
pub const _PAGE_READ: u64 = 0x010;
/// IBM bit 60: software dirty bit (pgtable.h).
pub const _PAGE_DIRTY: u64 = 0x008;
/// IBM bit 61: software young (referenced) bit (pgtable.h).
pub const _PAGE_YOUNG: u64 = 0x004;
/// IBM bit 62: software soft-dirty bit, `CONFIG_MEM_SOFT_DIRTY` (pgtable.h).
pub const _PAGE_SOFT_DIRTY: u64 = 0x002;
/// IBM bit 63: software present bit (pgtable.h).
pub const _PAGE_PRESENT: u64 = 0x001;
/// `_PAGE_SW_BITS`: the software bits 0x01..0x80 (pgtable.h).
pub const _PAGE_SW_BITS: u64 = 0xff;
/// `_PAGE_SWP_EXCLUSIVE` = `_PAGE_LARGE`: PG_anon_exclusive of a swap pte
/// (pgtable.h, v6.2+).
pub const _PAGE_SWP_EXCLUSIVE: u64 = _PAGE_LARGE;
/// `PAGE_MASK` for 4K pages (`asm/page.h`: `PAGE_SHIFT` 12).
pub const PAGE_MASK: u64 = !0xfff;
/// `PAGE_SHIFT` (`asm/page.h`).
pub const PAGE_SHIFT: u32 = 12;
/// `_PAGE_CHG_MASK`: what `pte_modify()` keeps (pgtable.h).
pub const _PAGE_CHG_MASK: u64 =
    PAGE_MASK | _PAGE_SPECIAL | _PAGE_DIRTY | _PAGE_YOUNG | _PAGE_SOFT_DIRTY;

// ---- protections (pgtable.h, "Page protection definitions") --------------

/// `PAGE_NONE`.
pub const PAGE_NONE: u64 = _PAGE_PRESENT | _PAGE_INVALID | _PAGE_PROTECT;
/// `PAGE_RO`.
pub const PAGE_RO: u64 = _PAGE_PRESENT | _PAGE_READ | _PAGE_NOEXEC | _PAGE_INVALID | _PAGE_PROTECT;
/// `PAGE_RX`.
pub const PAGE_RX: u64 = _PAGE_PRESENT | _PAGE_READ | _PAGE_INVALID | _PAGE_PROTECT;
/// `PAGE_RW`.
pub const PAGE_RW: u64 =
    _PAGE_PRESENT | _PAGE_READ | _PAGE_WRITE | _PAGE_NOEXEC | _PAGE_INVALID | _PAGE_PROTECT;
/// `PAGE_RWX`.
pub const PAGE_RWX: u64 = _PAGE_PRESENT | _PAGE_READ | _PAGE_WRITE | _PAGE_INVALID | _PAGE_PROTECT;

/// `protection_map[]` of `arch/s390/mm/mmap.c` (v6.6,
/// `DECLARE_VM_GET_PAGE_PROT`), indexed by `VM_READ|VM_WRITE|VM_EXEC|VM_SHARED`:
/// private writable mappings are read-only (copy on write), only shared
/// ones get `PAGE_RW`/`PAGE_RWX`.
pub const PROTECTION_MAP: [u64; 16] = [
    PAGE_NONE, PAGE_RO, PAGE_RO, PAGE_RO, PAGE_RX, PAGE_RX, PAGE_RX, PAGE_RX, // private
    PAGE_NONE, PAGE_RO, PAGE_RW, PAGE_RW, PAGE_RX, PAGE_RX, PAGE_RWX, PAGE_RWX, // shared
];

// ---- segment table entries (pmd) -------------------------------------------

/// `_SEGMENT_ENTRY_BITS`: bits a table segment entry may have (pgtable.h).
pub const _SEGMENT_ENTRY_BITS: u64 = 0xffff_ffff_ffff_fe33;
/// `_SEGMENT_ENTRY_HARDWARE_BITS` (pgtable.h).
pub const _SEGMENT_ENTRY_HARDWARE_BITS: u64 = 0xffff_ffff_ffff_fe30;
/// `_SEGMENT_ENTRY_HARDWARE_BITS_LARGE` (pgtable.h).
pub const _SEGMENT_ENTRY_HARDWARE_BITS_LARGE: u64 = 0xffff_ffff_fff0_0730;
/// `_SEGMENT_ENTRY_ORIGIN_LARGE`: the 1M frame of a large segment (pgtable.h).
pub const _SEGMENT_ENTRY_ORIGIN_LARGE: u64 = !0xfffff;
/// `_SEGMENT_ENTRY_ORIGIN`: the 2K-aligned page-table origin (pgtable.h).
pub const _SEGMENT_ENTRY_ORIGIN: u64 = !0x7ff;
/// IBM bit 54, P: segment protection (pgtable.h).
pub const _SEGMENT_ENTRY_PROTECT: u64 = 0x200;
/// IBM bit 55, IEP: segment no-execute (pgtable.h).
pub const _SEGMENT_ENTRY_NOEXEC: u64 = 0x100;
/// IBM bit 58, I: invalid segment entry (pgtable.h).
pub const _SEGMENT_ENTRY_INVALID: u64 = 0x20;
/// IBM bits 60-61, TT: table type, 00 for a segment entry (pgtable.h).
pub const _SEGMENT_ENTRY_TYPE_MASK: u64 = 0x0c;
/// `_SEGMENT_ENTRY`: what `pmd_populate()` ORs into the table address (0).
pub const _SEGMENT_ENTRY: u64 = 0;
/// `_SEGMENT_ENTRY_EMPTY` = `_SEGMENT_ENTRY_INVALID`: `pmd_none()`'s value.
pub const _SEGMENT_ENTRY_EMPTY: u64 = _SEGMENT_ENTRY_INVALID;
/// Software dirty of a large segment, in the ACC field (pgtable.h).
pub const _SEGMENT_ENTRY_DIRTY: u64 = 0x2000;
/// Software young of a large segment, in the ACC field (pgtable.h).
pub const _SEGMENT_ENTRY_YOUNG: u64 = 0x1000;
/// IBM bit 53, FC: format control, a 1M large segment (EDAT-1; pgtable.h).
pub const _SEGMENT_ENTRY_LARGE: u64 = 0x400;
/// Software write permission of a large segment (pgtable.h).
pub const _SEGMENT_ENTRY_WRITE: u64 = 0x002;
/// Software read permission of a large segment (pgtable.h).
pub const _SEGMENT_ENTRY_READ: u64 = 0x001;
/// Software soft-dirty of a large segment, `CONFIG_MEM_SOFT_DIRTY` (pgtable.h).
pub const _SEGMENT_ENTRY_SOFT_DIRTY: u64 = 0x4000;
/// The mask `pmd_modify()` keeps (pgtable.h builds it in the function
/// body; there is no `_SEGMENT_CHG_MASK` macro): the *large* frame origin
/// `_SEGMENT_ENTRY_ORIGIN_LARGE` (bits 20-63), not the page-table origin,
/// so bits 11-19 of the entry are dropped.  The kernel oracle caught the
/// model keeping `_SEGMENT_ENTRY_ORIGIN` (bits 11-63).
pub const _SEGMENT_CHG_MASK: u64 = _SEGMENT_ENTRY_ORIGIN_LARGE
    | _SEGMENT_ENTRY_LARGE
    | _SEGMENT_ENTRY_DIRTY
    | _SEGMENT_ENTRY_YOUNG
    | _SEGMENT_ENTRY_SOFT_DIRTY;

/// `SEGMENT_NONE` (pgtable.h, "Segment entry (large page) protection
/// definitions").
pub const SEGMENT_NONE: u64 = _SEGMENT_ENTRY_INVALID | _SEGMENT_ENTRY_PROTECT;
/// `SEGMENT_RO`.
pub const SEGMENT_RO: u64 = _SEGMENT_ENTRY_PROTECT | _SEGMENT_ENTRY_READ | _SEGMENT_ENTRY_NOEXEC;
/// `SEGMENT_RX`.
pub const SEGMENT_RX: u64 = _SEGMENT_ENTRY_PROTECT | _SEGMENT_ENTRY_READ;
/// `SEGMENT_RW`.
pub const SEGMENT_RW: u64 = _SEGMENT_ENTRY_READ | _SEGMENT_ENTRY_WRITE | _SEGMENT_ENTRY_NOEXEC;
/// `SEGMENT_RWX`.
pub const SEGMENT_RWX: u64 = _SEGMENT_ENTRY_READ | _SEGMENT_ENTRY_WRITE;

// ---- region table entries (pud, p4d, pgd) ---------------------------------

/// `_REGION_ENTRY_ORIGIN`: next-table origin, 4K aligned (pgtable.h).
pub const _REGION_ENTRY_ORIGIN: u64 = !0xfff;
/// IBM bit 54, P (pgtable.h).
pub const _REGION_ENTRY_PROTECT: u64 = 0x200;
/// IBM bit 55, IEP (pgtable.h).
pub const _REGION_ENTRY_NOEXEC: u64 = 0x100;
/// IBM bits 56-57, TF: table offset (pgtable.h).
pub const _REGION_ENTRY_OFFSET: u64 = 0xc0;
/// IBM bit 58, I: invalid region entry (pgtable.h).
pub const _REGION_ENTRY_INVALID: u64 = 0x20;
/// IBM bits 60-61, TT: region table type (pgtable.h).
pub const _REGION_ENTRY_TYPE_MASK: u64 = 0x0c;
/// TT of a region-first entry (pgtable.h).
pub const _REGION_ENTRY_TYPE_R1: u64 = 0x0c;
/// TT of a region-second entry (pgtable.h).
pub const _REGION_ENTRY_TYPE_R2: u64 = 0x08;
/// TT of a region-third entry (pgtable.h).
pub const _REGION_ENTRY_TYPE_R3: u64 = 0x04;
/// IBM bits 62-63, TL: table length, 3 = all 2048 entries (pgtable.h).
pub const _REGION_ENTRY_LENGTH: u64 = 0x03;
/// `_REGION1_ENTRY`: what `pgd_populate()` ORs in (pgtable.h).
pub const _REGION1_ENTRY: u64 = _REGION_ENTRY_TYPE_R1 | _REGION_ENTRY_LENGTH;
/// `_REGION1_ENTRY_EMPTY`: `pgd_none()`'s value (pgtable.h).
pub const _REGION1_ENTRY_EMPTY: u64 = _REGION_ENTRY_TYPE_R1 | _REGION_ENTRY_INVALID;
/// `_REGION2_ENTRY`: what `p4d_populate()` ORs in (pgtable.h).
pub const _REGION2_ENTRY: u64 = _REGION_ENTRY_TYPE_R2 | _REGION_ENTRY_LENGTH;
/// `_REGION2_ENTRY_EMPTY`: `p4d_none()`'s value (pgtable.h).
pub const _REGION2_ENTRY_EMPTY: u64 = _REGION_ENTRY_TYPE_R2 | _REGION_ENTRY_INVALID;
/// `_REGION3_ENTRY`: what `pud_populate()` ORs in (pgtable.h).
pub const _REGION3_ENTRY: u64 = _REGION_ENTRY_TYPE_R3 | _REGION_ENTRY_LENGTH;
/// `_REGION3_ENTRY_EMPTY`: `pud_none()`'s value (pgtable.h).
pub const _REGION3_ENTRY_EMPTY: u64 = _REGION_ENTRY_TYPE_R3 | _REGION_ENTRY_INVALID;
/// `_REGION3_ENTRY_ORIGIN_LARGE`: the 2G frame of a large region-third entry.
pub const _REGION3_ENTRY_ORIGIN_LARGE: u64 = !0x7fff_ffff;
/// Software dirty of a large region-third entry (pgtable.h).
pub const _REGION3_ENTRY_DIRTY: u64 = 0x2000;
/// Software young of a large region-third entry (pgtable.h).
pub const _REGION3_ENTRY_YOUNG: u64 = 0x1000;
/// IBM bit 53, FC: a 2G large region-third entry (EDAT-2; pgtable.h).
pub const _REGION3_ENTRY_LARGE: u64 = 0x400;
/// Software read of a large region-third entry: note the *opposite*
/// position from `_SEGMENT_ENTRY_READ` (pgtable.h).
pub const _REGION3_ENTRY_READ: u64 = 0x0002;
/// Software write of a large region-third entry (pgtable.h).
pub const _REGION3_ENTRY_WRITE: u64 = 0x0001;
/// Software soft-dirty of a large region-third entry (pgtable.h).
pub const _REGION3_ENTRY_SOFT_DIRTY: u64 = 0x4000;
/// `_REGION_ENTRY_BITS`: bits a table region entry may have (pgtable.h).
pub const _REGION_ENTRY_BITS: u64 = 0xffff_ffff_ffff_f22f;

/// `_REGION1_SIZE`: the address space of a region-second (4-level) ASCE.
pub const _REGION1_SIZE: u64 = 1 << 53;
/// `_REGION2_SIZE`: the address space of a region-third (3-level) ASCE.
pub const _REGION2_SIZE: u64 = 1 << 42;
/// `_REGION3_SIZE`: what one region-third entry maps (2G).
pub const _REGION3_SIZE: u64 = 1 << 31;
/// `_SEGMENT_SIZE`: what one segment entry maps (1M).
pub const _SEGMENT_SIZE: u64 = 1 << 20;
/// `_CRST_ENTRIES`: entries of a region or segment table (pgtable.h).
pub const _CRST_ENTRIES: u64 = 2048;
/// `_PAGE_ENTRIES` = `PTRS_PER_PTE`: entries of a page table (pgtable.h).
pub const _PAGE_ENTRIES: u64 = 256;
/// `CRST_ALLOC_ORDER`: region and segment tables are 16K, order 2
/// (`asm/pgalloc.h`).
pub const CRST_ALLOC_ORDER: u32 = 2;
/// `TASK_SIZE_MAX` = `-PAGE_SIZE` (`asm/processor.h`): the limit of a
/// 5-level (region-first) mm.
pub const TASK_SIZE_MAX: u64 = 0u64.wrapping_sub(4096);

// ---- the ASCE (address-space-control element, control register 1) -------

/// `_ASCE_ORIGIN`: table origin (pgtable.h).
pub const _ASCE_ORIGIN: u64 = !0xfff;
/// IBM bit 55, P: private space (pgtable.h).
pub const _ASCE_PRIVATE_SPACE: u64 = 0x100;
/// IBM bit 56, S: storage-alteration event (pgtable.h).
pub const _ASCE_ALT_EVENT: u64 = 0x80;
/// IBM bit 57, X: space-switch event (pgtable.h).
pub const _ASCE_SPACE_SWITCH: u64 = 0x40;
/// IBM bit 58, R: real space (pgtable.h).
pub const _ASCE_REAL_SPACE: u64 = 0x20;
/// IBM bits 60-61, DT: designation type (pgtable.h).
pub const _ASCE_TYPE_MASK: u64 = 0x0c;
/// DT: region-first table (pgtable.h).
pub const _ASCE_TYPE_REGION1: u64 = 0x0c;
/// DT: region-second table (pgtable.h).
pub const _ASCE_TYPE_REGION2: u64 = 0x08;
/// DT: region-third table (pgtable.h).
pub const _ASCE_TYPE_REGION3: u64 = 0x04;
/// DT: segment table (pgtable.h).
pub const _ASCE_TYPE_SEGMENT: u64 = 0x00;
/// IBM bits 62-63, TL: table length (pgtable.h).
pub const _ASCE_TABLE_LENGTH: u64 = 0x03;
/// `_ASCE_USER_BITS`: space-switch, private space and alteration event
/// (`asm/mmu_context.h` uses them for every user ASCE; pgtable.h).
pub const _ASCE_USER_BITS: u64 = _ASCE_SPACE_SWITCH | _ASCE_PRIVATE_SPACE | _ASCE_ALT_EVENT;

// ---- swap ptes (pgtable.h, the swap-pte comment and mk_swap_pte) ----------

/// `__SWP_OFFSET_MASK`: 52 offset bits.
pub const __SWP_OFFSET_MASK: u64 = (1 << 52) - 1;
/// `__SWP_OFFSET_SHIFT`.
pub const __SWP_OFFSET_SHIFT: u32 = 12;
/// `__SWP_TYPE_MASK`: 5 type bits.
pub const __SWP_TYPE_MASK: u64 = (1 << 5) - 1;
/// `__SWP_TYPE_SHIFT`.
pub const __SWP_TYPE_SHIFT: u32 = 2;

// ---- PGSTE (pgtable.h, "Page status table bits for virtualization") ------

/// `PGSTE_ACC_BITS`.
pub const PGSTE_ACC_BITS: u64 = 0xf000_0000_0000_0000;
/// `PGSTE_FP_BIT`.
pub const PGSTE_FP_BIT: u64 = 0x0800_0000_0000_0000;
/// `PGSTE_PCL_BIT`: the pgste lock.
pub const PGSTE_PCL_BIT: u64 = 0x0080_0000_0000_0000;
/// `PGSTE_HR_BIT`: host reference.
pub const PGSTE_HR_BIT: u64 = 0x0040_0000_0000_0000;
/// `PGSTE_HC_BIT`: host change.
pub const PGSTE_HC_BIT: u64 = 0x0020_0000_0000_0000;
/// `PGSTE_GR_BIT`: guest reference.
pub const PGSTE_GR_BIT: u64 = 0x0004_0000_0000_0000;
/// `PGSTE_GC_BIT`: guest change.
pub const PGSTE_GC_BIT: u64 = 0x0002_0000_0000_0000;
/// `PGSTE_UC_BIT`: user dirty (migration).
pub const PGSTE_UC_BIT: u64 = 0x0000_8000_0000_0000;
/// `PGSTE_IN_BIT`: IPTE notify.
pub const PGSTE_IN_BIT: u64 = 0x0000_4000_0000_0000;
/// `PGSTE_VSIE_BIT`: referenced by a shadow table.
pub const PGSTE_VSIE_BIT: u64 = 0x0000_2000_0000_0000;

// ---- helper bodies on raw values (pgtable.h, v6.6) -------------------------

/// `pte_present()`.
#[inline]
pub const fn pte_present(pte: u64) -> bool {
    pte & _PAGE_PRESENT != 0
}

/// `pte_none()`: exactly `_PAGE_INVALID`.
#[inline]
pub const fn pte_none(pte: u64) -> bool {
    pte == _PAGE_INVALID
}

/// `pte_swap()`: protect set, present clear.
#[inline]
pub const fn pte_swap(pte: u64) -> bool {
    pte & (_PAGE_PROTECT | _PAGE_PRESENT) == _PAGE_PROTECT
}

/// `pte_protnone()`: present and not readable (NUMA hinting / PROT_NONE).
#[inline]
pub const fn pte_protnone(pte: u64) -> bool {
    pte_present(pte) && pte & _PAGE_READ == 0
}

/// `mk_pte_phys(physpage, pgprot)` = `pfn_pte()`: the address ORed with the
/// protection (`_PAGE_NOEXEC` kept: `MACHINE_HAS_NX`), then `pte_mkyoung()`.
#[inline]
pub const fn mk_pte_phys(physpage: u64, prot: u64) -> u64 {
    pte_mkyoung(physpage | prot)
}

/// `pte_modify()`: keep `_PAGE_CHG_MASK`, OR in the protection, then undo
/// the protection's I bit for a young readable pte and its P bit for a
/// dirty writable one.
#[inline]
pub const fn pte_modify(pte: u64, prot: u64) -> u64 {
    let mut v = (pte & _PAGE_CHG_MASK) | prot;
    if v & _PAGE_YOUNG != 0 && v & _PAGE_READ != 0 {
        v &= !_PAGE_INVALID;
    }
    if v & _PAGE_DIRTY != 0 && v & _PAGE_WRITE != 0 {
        v &= !_PAGE_PROTECT;
    }
    v
}

/// `pte_wrprotect()`: clear WRITE, set P.
#[inline]
pub const fn pte_wrprotect(pte: u64) -> u64 {
    (pte & !_PAGE_WRITE) | _PAGE_PROTECT
}

/// `pte_mkwrite_novma()`: set WRITE; clear P if dirty.
#[inline]
pub const fn pte_mkwrite_novma(pte: u64) -> u64 {
    let v = pte | _PAGE_WRITE;
    if v & _PAGE_DIRTY != 0 {
        v & !_PAGE_PROTECT
    } else {
        v
    }
}

/// `pte_mkclean()`: clear DIRTY, set P.
#[inline]
pub const fn pte_mkclean(pte: u64) -> u64 {
    (pte & !_PAGE_DIRTY) | _PAGE_PROTECT
}

/// `pte_mkdirty()`: set DIRTY and SOFT_DIRTY; clear P if writable.
#[inline]
pub const fn pte_mkdirty(pte: u64) -> u64 {
    let v = pte | _PAGE_DIRTY | _PAGE_SOFT_DIRTY;
    if v & _PAGE_WRITE != 0 {
        v & !_PAGE_PROTECT
    } else {
        v
    }
}

/// `pte_mkold()`: clear YOUNG, set I.
#[inline]
pub const fn pte_mkold(pte: u64) -> u64 {
    (pte & !_PAGE_YOUNG) | _PAGE_INVALID
}

/// `pte_mkyoung()`: set YOUNG; clear I if readable.
#[inline]
pub const fn pte_mkyoung(pte: u64) -> u64 {
    let v = pte | _PAGE_YOUNG;
    if v & _PAGE_READ != 0 {
        v & !_PAGE_INVALID
    } else {
        v
    }
}

/// Whether the MMU translates through `pte` at all: I clear, and bit 0x800
/// clear (set in a valid pte it is a translation-specification exception).
#[inline]
pub const fn pte_hw_valid(pte: u64) -> bool {
    pte & (_PAGE_INVALID | _PAGE_LARGE) == 0
}

/// `mk_swap_pte(type, offset)`: I and P set, offset and type in place.
#[inline]
pub const fn mk_swap_pte(ty: u64, offset: u64) -> u64 {
    _PAGE_INVALID
        | _PAGE_PROTECT
        | (offset & __SWP_OFFSET_MASK) << __SWP_OFFSET_SHIFT
        | (ty & __SWP_TYPE_MASK) << __SWP_TYPE_SHIFT
}

/// `__swp_type()`.
#[inline]
pub const fn swp_type(e: u64) -> u64 {
    (e >> __SWP_TYPE_SHIFT) & __SWP_TYPE_MASK
}

/// `__swp_offset()`.
#[inline]
pub const fn swp_offset(e: u64) -> u64 {
    (e >> __SWP_OFFSET_SHIFT) & __SWP_OFFSET_MASK
}

/// `massage_pgprot_pmd()`: a pte protection (one of `PAGE_NONE`, `_RO`,
/// `_RX`, `_RW`, `_RWX`) in segment-entry format.
#[inline]
pub const fn massage_pgprot_pmd(prot: u64) -> u64 {
    if prot == PAGE_NONE {
        SEGMENT_NONE
    } else if prot == PAGE_RO {
        SEGMENT_RO
    } else if prot == PAGE_RX {
        SEGMENT_RX
    } else if prot == PAGE_RW {
        SEGMENT_RW
    } else {
        SEGMENT_RWX
    }
}

/// `pmd_large()` = `pmd_leaf()` in v6.6: FC set.
#[inline]
pub const fn pmd_large(pmd: u64) -> bool {
    pmd & _SEGMENT_ENTRY_LARGE != 0
}

/// `pmd_bad()`: a type other than segment, or large, or a bit outside
/// `_SEGMENT_ENTRY_BITS`.
#[inline]
pub const fn pmd_bad(pmd: u64) -> bool {
    if pmd & _SEGMENT_ENTRY_TYPE_MASK != 0 || pmd_large(pmd) {
        return true;
    }
    pmd & !_SEGMENT_ENTRY_BITS != 0
}

/// `pmd_pfn()`: the origin mask depends on FC.
#[inline]
pub const fn pmd_pfn(pmd: u64) -> u64 {
    let mask = if pmd_large(pmd) {
        _SEGMENT_ENTRY_ORIGIN_LARGE
    } else {
        _SEGMENT_ENTRY_ORIGIN
    };
    (pmd & mask) >> PAGE_SHIFT
}

/// `pmd_modify()`.
#[inline]
pub const fn pmd_modify(pmd: u64, prot: u64) -> u64 {
    let mut v = (pmd & _SEGMENT_CHG_MASK) | massage_pgprot_pmd(prot);
    if v & _SEGMENT_ENTRY_DIRTY == 0 {
        v |= _SEGMENT_ENTRY_PROTECT;
    }
    if v & _SEGMENT_ENTRY_YOUNG == 0 {
        v |= _SEGMENT_ENTRY_INVALID;
    }
    v
}

/// `pmd_mkyoung()`: set YOUNG; clear I if readable.
#[inline]
pub const fn pmd_mkyoung(pmd: u64) -> u64 {
    let v = pmd | _SEGMENT_ENTRY_YOUNG;
    if v & _SEGMENT_ENTRY_READ != 0 {
        v & !_SEGMENT_ENTRY_INVALID
    } else {
        v
    }
}

/// `pmd_mkold()`: clear YOUNG, set I.
#[inline]
pub const fn pmd_mkold(pmd: u64) -> u64 {
    (pmd & !_SEGMENT_ENTRY_YOUNG) | _SEGMENT_ENTRY_INVALID
}

/// `pmd_mkdirty()`: set DIRTY and SOFT_DIRTY; clear P if writable.
#[inline]
pub const fn pmd_mkdirty(pmd: u64) -> u64 {
    let v = pmd | _SEGMENT_ENTRY_DIRTY | _SEGMENT_ENTRY_SOFT_DIRTY;
    if v & _SEGMENT_ENTRY_WRITE != 0 {
        v & !_SEGMENT_ENTRY_PROTECT
    } else {
        v
    }
}

/// `pmd_mkclean()`: clear DIRTY, set P.
#[inline]
pub const fn pmd_mkclean(pmd: u64) -> u64 {
    (pmd & !_SEGMENT_ENTRY_DIRTY) | _SEGMENT_ENTRY_PROTECT
}

/// `pmd_mkwrite_novma()`: set WRITE; clear P if dirty.
#[inline]
pub const fn pmd_mkwrite_novma(pmd: u64) -> u64 {
    let v = pmd | _SEGMENT_ENTRY_WRITE;
    if v & _SEGMENT_ENTRY_DIRTY != 0 {
        v & !_SEGMENT_ENTRY_PROTECT
    } else {
        v
    }
}

/// `pmd_wrprotect()`: clear WRITE, set P.
#[inline]
pub const fn pmd_wrprotect(pmd: u64) -> u64 {
    (pmd & !_SEGMENT_ENTRY_WRITE) | _SEGMENT_ENTRY_PROTECT
}

/// `pmd_mkhuge()`: set LARGE, YOUNG and PROTECT.
#[inline]
pub const fn pmd_mkhuge(pmd: u64) -> u64 {
    pmd | _SEGMENT_ENTRY_LARGE | _SEGMENT_ENTRY_YOUNG | _SEGMENT_ENTRY_PROTECT
}

/// Region-table type of an upper-level entry.
#[inline]
pub const fn region_type(v: u64) -> u64 {
    v & _REGION_ENTRY_TYPE_MASK
}

/// `pud_large()` = `pud_leaf()` in v6.6: an R3 entry with FC set.
#[inline]
pub const fn pud_large(pud: u64) -> bool {
    region_type(pud) == _REGION_ENTRY_TYPE_R3 && pud & _REGION3_ENTRY_LARGE != 0
}

/// `pud_bad()`: a higher type or large is bad, a lower type (folded) is
/// not, an R3 entry is checked against `_REGION_ENTRY_BITS`.
#[inline]
pub const fn pud_bad(pud: u64) -> bool {
    let t = region_type(pud);
    if t > _REGION_ENTRY_TYPE_R3 || pud_large(pud) {
        return true;
    }
    if t < _REGION_ENTRY_TYPE_R3 {
        return false;
    }
    pud & !_REGION_ENTRY_BITS != 0
}

/// `p4d_bad()`.
#[inline]
pub const fn p4d_bad(p4d: u64) -> bool {
    let t = region_type(p4d);
    if t > _REGION_ENTRY_TYPE_R2 {
        return true;
    }
    if t < _REGION_ENTRY_TYPE_R2 {
        return false;
    }
    p4d & !_REGION_ENTRY_BITS != 0
}

/// `pgd_bad()`.
#[inline]
pub const fn pgd_bad(pgd: u64) -> bool {
    if region_type(pgd) < _REGION_ENTRY_TYPE_R1 {
        return false;
    }
    pgd & !_REGION_ENTRY_BITS != 0
}

/// `pud_pfn()`: the origin mask depends on FC.
#[inline]
pub const fn pud_pfn(pud: u64) -> u64 {
    let mask = if pud_large(pud) {
        _REGION3_ENTRY_ORIGIN_LARGE
    } else {
        _REGION_ENTRY_ORIGIN
    };
    (pud & mask) >> PAGE_SHIFT
}

/// The swap types this architecture's kernel configures
/// (`include/linux/swap.h`): `CONFIG_MIGRATION` (3) and PTE markers (1);
/// no `SWP_DEVICE_*` (`ZONE_DEVICE` depends on `ARCH_HAS_PTE_DEVMAP`, which
/// this architecture does not select, mm/Kconfig) and no `SWP_HWPOISON`
/// (`MEMORY_FAILURE` depends on `ARCH_SUPPORTS_MEMORY_FAILURE`, not
/// selected either).  So `MAX_SWAPFILES` is 32 - 3 - 1 = 28, as the kernel
/// oracle reports (`ptlab oracle test`, constant `MAX_SWAPFILES`).
pub const SWAP_TYPES: mm_core::swapops::SwapTypes =
    mm_core::swapops::SwapTypes::MIGRATION_AND_MARKERS;

#[cfg(test)]
mod oracle_pins {
    //! Values the kernel oracle (`ptlab oracle test --arch s390x`, Linux
    //! 6.12 built with `defconfig`) computed, pinned.
    use super::*;

    #[test]
    fn swap_types_are_the_kernels() {
        // Kernel oracle (Linux 6.12): MAX_SWAPFILES 0x1c,
        // SWP_MIGRATION_READ 0x1c, SWP_MIGRATION_WRITE 0x1e.
        assert_eq!(SWAP_TYPES.max_swapfiles(), 28);
        assert_eq!(SWAP_TYPES.migration_read(), 28);
        assert_eq!(SWAP_TYPES.migration_write(), 30);
        assert_eq!(SWAP_TYPES.pte_marker_type(), 31);
    }

    #[test]
    fn pmd_modify_keeps_the_large_origin_only() {
        // Kernel: bits 11-19 of a segment entry do not survive pmd_modify().
        assert_eq!(pmd_modify(0x1234_0001, 0x1efc), 0x1230_0223);
        assert_eq!(
            pmd_modify(0x3fff_ffff_8002, 0x3fff_ffff_bdeb),
            0x3fff_fff0_0223
        );
    }
}
