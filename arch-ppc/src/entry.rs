//! powerpc book3s64 entry bits and helper bodies (Linux v6.6), on raw values.
//!
//! Every entry is a 64-bit value stored **big-endian** (`pgtable-be-types.h`:
//! `typedef struct { __be64 pte; } pte_t;`, also on little-endian kernels);
//! the values here are what `pte_val()` returns after the byte swap.  Bit
//! numbers are LSB-0 (bit 63 is IBM bit 0).
//!
//! Sources, all under `arch/powerpc/include/asm/`:
//! `book3s/64/pgtable.h` (the bits shared by hash and radix, the pte/pmd
//! helpers, swap entries), `book3s/64/radix.h` (`RADIX_*_VAL_BITS`,
//! `RADIX_*_BAD_BITS`, `RADIX_PTE_NONE_MASK`, the radix THP helpers),
//! `book3s/64/hash.h` (`HASH_*_VAL_BITS`, `H_PMD_BAD_BITS`, `hash__pte_none`),
//! `book3s/64/hash-64k.h` and `hash-4k.h` (the hash-only uses of the spare
//! bits, `H_PAGE_THP_HUGE`), `radix-64k.h`, `radix-4k.h` (index sizes and
//! fragment sizes), `pgtable.h` (`pte_pfn`), and
//! `arch/powerpc/mm/book3s64/pgtable.c` (`pfn_pmd`, `pmd_modify`,
//! `pmdp_invalidate`, `vm_get_page_prot`), `arch/powerpc/mm/pgtable.c`
//! (`protection_map`).
//!
//! Kconfig assumptions (`ppc64_defconfig`-like, book3s64): `CONFIG_MEM_SOFT_DIRTY=y`
//! (needs `HAVE_ARCH_SOFT_DIRTY`, selected for PPC_BOOK3S_64),
//! `CONFIG_NUMA_BALANCING=y`, `CONFIG_TRANSPARENT_HUGEPAGE=y` (hence
//! `ARCH_ENABLE_THP_MIGRATION`), `CONFIG_HUGETLB_PAGE=y` (the hash-64K pud
//! table size), `ARCH_HAS_PTE_DEVMAP`, `ARCH_HAS_PTE_SPECIAL`; no
//! `HAVE_ARCH_USERFAULTFD_WP` on powerpc, so the uffd-wp helpers are the
//! generic no-ops; memory-protection keys 0 (no pkey bits set);
//! `CONFIG_DEVICE_PRIVATE=y` and `CONFIG_MEMORY_FAILURE=y` (through
//! `PPC64_SUPPORTS_MEMORY_FAILURE`), so the swap types are the generic
//! ones with device-private and hwpoison entries (`MAX_SWAPFILES` 23);
//! `CONFIG_DEBUG_VM=y`, whose traps [`Layout::helper_trap`] states.  The
//! kernel oracle's fragments (`oracle/config/ppc64-*.config`) pin all of
//! these.

/// `_PAGE_EXEC` (pgtable.h): EAA execute.
pub const _PAGE_EXEC: u64 = 0x00001;
/// `_PAGE_WRITE` (pgtable.h): EAA read/write.
pub const _PAGE_WRITE: u64 = 0x00002;
/// `_PAGE_READ` (pgtable.h): EAA read.
pub const _PAGE_READ: u64 = 0x00004;
/// `_PAGE_RW` (pgtable.h).
pub const _PAGE_RW: u64 = _PAGE_READ | _PAGE_WRITE;
/// `_PAGE_RWX` (pgtable.h).
pub const _PAGE_RWX: u64 = _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC;
/// `_PAGE_PRIVILEGED` (pgtable.h): kernel access only (EAA privilege).
pub const _PAGE_PRIVILEGED: u64 = 0x00008;
/// `_PAGE_SAO` (pgtable.h): strong access ordering (ATT 01).
pub const _PAGE_SAO: u64 = 0x00010;
/// `_PAGE_NON_IDEMPOTENT` (pgtable.h): non-idempotent I/O (ATT 10).
pub const _PAGE_NON_IDEMPOTENT: u64 = 0x00020;
/// `_PAGE_TOLERANT` (pgtable.h): tolerant I/O (ATT 11), `_PAGE_NO_CACHE`.
pub const _PAGE_TOLERANT: u64 = 0x00030;
/// `_RPAGE_RSV1` (pgtable.h): reserved in radix; `H_PAGE_BUSY` on hash.
pub const _RPAGE_RSV1: u64 = 0x00040;
/// `_PAGE_DIRTY` (pgtable.h): C, change.
pub const _PAGE_DIRTY: u64 = 0x00080;
/// `_PAGE_ACCESSED` (pgtable.h): R, reference.
pub const _PAGE_ACCESSED: u64 = 0x00100;
/// `_RPAGE_SW3` (pgtable.h) = `_PAGE_SOFT_DIRTY` (and `_PAGE_SWP_SOFT_DIRTY`).
pub const _PAGE_SOFT_DIRTY: u64 = 0x00200;
/// `_RPAGE_SW2` (pgtable.h) = `_PAGE_SPECIAL`.
pub const _PAGE_SPECIAL: u64 = 0x00400;
/// `_RPAGE_SW1` (pgtable.h) = `_PAGE_DEVMAP`.
pub const _PAGE_DEVMAP: u64 = 0x00800;
/// `_RPAGE_RPN0` (pgtable.h): low RPN bit, spare with 64K pages (hash-64k
/// `H_PAGE_COMBO`).
pub const _RPAGE_RPN0: u64 = 0x01000;
/// `_RPAGE_RPN1` (pgtable.h): spare with 64K pages (hash-64k
/// `H_PAGE_4K_PFN` = `H_PAGE_THP_HUGE`).
pub const _RPAGE_RPN1: u64 = 0x02000;
/// `_RPAGE_RPN41` (pgtable.h): top RPN bit Linux keeps zero (hash-4k GIX).
pub const _RPAGE_RPN41: u64 = 0x0020_0000_0000_0000;
/// `_RPAGE_RPN42` (pgtable.h).
pub const _RPAGE_RPN42: u64 = 0x0040_0000_0000_0000;
/// `_RPAGE_RPN43` (pgtable.h): hash-64k `H_PAGE_HASHPTE`.
pub const _RPAGE_RPN43: u64 = 0x0080_0000_0000_0000;
/// `_RPAGE_PKEY_BIT0` (pgtable.h): hash-4k `H_PAGE_F_SECOND`.
pub const _RPAGE_PKEY_BIT0: u64 = 0x0100_0000_0000_0000;
/// `_RPAGE_PKEY_BIT1` (pgtable.h).
pub const _RPAGE_PKEY_BIT1: u64 = 0x0200_0000_0000_0000;
/// `_RPAGE_PKEY_BIT2` (pgtable.h).
pub const _RPAGE_PKEY_BIT2: u64 = 0x0400_0000_0000_0000;
/// `_RPAGE_PKEY_BIT3` (pgtable.h).
pub const _RPAGE_PKEY_BIT3: u64 = 0x0800_0000_0000_0000;
/// `_RPAGE_PKEY_BIT4` (pgtable.h): hash-4k `H_PAGE_HASHPTE`.
pub const _RPAGE_PKEY_BIT4: u64 = 0x1000_0000_0000_0000;
/// `_RPAGE_SW0` (pgtable.h) = `_PAGE_INVALID`: "present but invalidated"
/// while `_PAGE_PRESENT` is clear (`pmdp_invalidate`).
pub const _PAGE_INVALID: u64 = 0x2000_0000_0000_0000;
/// `_PAGE_PTE` (pgtable.h): "distinguishes PTEs from pointers": the radix
/// L (leaf) bit, set in every leaf and swap entry.
pub const _PAGE_PTE: u64 = 0x4000_0000_0000_0000;
/// `_PAGE_PRESENT` (pgtable.h): the radix V (valid) bit.
pub const _PAGE_PRESENT: u64 = 0x8000_0000_0000_0000;
/// `_PAGE_PA_MAX` (pgtable.h): physical address bits Linux uses.
pub const _PAGE_PA_MAX: u32 = 53;
/// `_PAGE_BASE` (pgtable.h) = `PRESENT | ACCESSED`.
pub const _PAGE_BASE: u64 = _PAGE_PRESENT | _PAGE_ACCESSED;
/// `PMD_MASKED_BITS`, `PUD_MASKED_BITS`, `P4D_MASKED_BITS` (pgtable.h):
/// stripped from a directory entry to get the next table's address.
pub const MASKED_BITS: u64 = 0xc000_0000_0000_00ff;
/// `RADIX_PMD_BAD_BITS` = `RADIX_PUD_BAD_BITS` = `RADIX_P4D_BAD_BITS`
/// (radix.h).
pub const RADIX_BAD_BITS: u64 = 0x6000_0000_0000_00e0;
/// `RADIX_PTE_NONE_MASK` (radix.h): `pte_none()` ignores R and C.
pub const RADIX_PTE_NONE_MASK: u64 = _PAGE_DIRTY | _PAGE_ACCESSED;
/// `RADIX_PMD_VAL_BITS` and friends without the size (radix.h): V.
pub const DIR_VAL_BITS: u64 = 0x8000_0000_0000_0000;
/// `_PAGE_SWP_EXCLUSIVE` = `_PAGE_NON_IDEMPOTENT` (pgtable.h).
pub const _PAGE_SWP_EXCLUSIVE: u64 = _PAGE_NON_IDEMPOTENT;
/// `_PAGE_SWP_SOFT_DIRTY` = `_PAGE_SOFT_DIRTY` with `CONFIG_MEM_SOFT_DIRTY`.
pub const _PAGE_SWP_SOFT_DIRTY: u64 = _PAGE_SOFT_DIRTY;
/// `SWP_TYPE_BITS` (pgtable.h).
pub const SWP_TYPE_BITS: u32 = 5;

/// The constants of one configuration: the run-time variables that
/// `radix__early_init_mmu()` / `hash__early_init_mmu()` set
/// (`__pte_index_size`, `__pte_frag_nr`, ...), and the hash-only bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Configuration name.
    pub name: &'static str,
    /// Radix (true) or hash (false) MMU.
    pub radix: bool,
    /// `PAGE_SHIFT`: 16 with `CONFIG_PPC_64K_PAGES`, else 12.
    pub page_shift: u32,
    /// `PTE_INDEX_SIZE`, `PMD_INDEX_SIZE`, `PUD_INDEX_SIZE`, `PGD_INDEX_SIZE`.
    pub index: [u32; 4],
    /// `PTE_FRAG_SIZE_SHIFT`.
    pub pte_frag_size_shift: u32,
    /// `PMD_FRAG_SIZE_SHIFT`.
    pub pmd_frag_size_shift: u32,
    /// `PTE_TABLE_SIZE` (hash-64k: the 4K fragment, ptes plus hidx).
    pub pte_table_size: u64,
    /// `PMD_TABLE_SIZE` (hash-64k with THP: pmds plus deposited-table slots).
    pub pmd_table_size: u64,
    /// `PUD_TABLE_SIZE` (hash-64k with hugetlb: puds plus a second half).
    pub pud_table_size: u64,
    /// `PGD_TABLE_SIZE`.
    pub pgd_table_size: u64,
    /// `_PAGE_HPTEFLAGS` (hash; 0 on radix, where `pte_none()` uses
    /// `RADIX_PTE_NONE_MASK` instead).
    pub hpteflags: u64,
    /// `H_PAGE_THP_HUGE` (hash-64k: `_RPAGE_RPN1`; 0 on hash-4k and radix).
    pub thp_huge: u64,
    /// `H_PAGE_HASHPTE` (0 on radix).
    pub hashpte: u64,
    /// `has_transparent_hugepage()`.
    pub has_thp: bool,
}

impl Layout {
    /// `PTE_RPN_MASK` (pgtable.h): `((1 << _PAGE_PA_MAX) - 1) & PAGE_MASK`.
    #[inline(always)]
    pub const fn rpn_mask(&self) -> u64 {
        ((1u64 << _PAGE_PA_MAX) - 1) & !((1u64 << self.page_shift) - 1)
    }
    /// `PTE_FRAG_NR`.
    pub const fn pte_frag_nr(&self) -> u64 {
        1 << (self.page_shift - self.pte_frag_size_shift)
    }
    /// `PMD_FRAG_NR`.
    pub const fn pmd_frag_nr(&self) -> u64 {
        1 << (self.page_shift - self.pmd_frag_size_shift)
    }
    /// `PMD_SHIFT` = `PAGE_SHIFT + PTE_INDEX_SIZE`.
    pub const fn pmd_shift(&self) -> u32 {
        self.page_shift + self.index[0]
    }
    /// `PUD_SHIFT`.
    pub const fn pud_shift(&self) -> u32 {
        self.pmd_shift() + self.index[1]
    }
    /// `PGDIR_SHIFT`.
    pub const fn pgdir_shift(&self) -> u32 {
        self.pud_shift() + self.index[2]
    }
    /// `_PAGE_HPTEFLAGS` as the compiler sees it: a constant of the page
    /// size (`hash-64k.h` or `hash-4k.h`, both always included by
    /// `book3s/64/pgtable.h`), whichever MMU runs.  [`Layout::hpteflags`] is
    /// the run-time view (0 on radix, where no hash slot exists); the masks
    /// `pte_modify()`/`pmd_modify()` keep use this one, so a radix kernel
    /// keeps these bits too.
    pub const fn compiled_hpteflags(&self) -> u64 {
        if self.page_shift == 16 {
            crate::geometry::HASH64K_HPTEFLAGS
        } else {
            crate::geometry::HASH4K_HPTEFLAGS
        }
    }
    /// `H_PAGE_THP_HUGE` as the compiler sees it: `_RPAGE_RPN1` with 64K
    /// pages (`hash-64k.h`), 0 with 4K (`hash-4k.h`), whichever MMU runs.
    pub const fn compiled_thp_huge(&self) -> u64 {
        if self.page_shift == 16 {
            _RPAGE_RPN1
        } else {
            0
        }
    }
    /// `TASK_SIZE_USER64` = `TASK_SIZE_MAX` (`task_size_64.h`): 4 PB with
    /// 64K pages, 64 TB with 4K.  The model maps only below
    /// `DEFAULT_MAP_WINDOW_USER64` (its geometry's `task_size`).
    pub const fn task_size_user64(&self) -> u64 {
        if self.page_shift == 16 {
            0x0010_0000_0000_0000
        } else {
            0x0000_4000_0000_0000
        }
    }
    /// `_PAGE_CHG_MASK` (pgtable.h): bits `pte_modify()` keeps, with the
    /// compile-time `_PAGE_HPTEFLAGS` ([`Layout::compiled_hpteflags`]).
    pub const fn chg_mask(&self) -> u64 {
        self.rpn_mask()
            | self.compiled_hpteflags()
            | _PAGE_DIRTY
            | _PAGE_ACCESSED
            | _PAGE_SPECIAL
            | _PAGE_PTE
            | _PAGE_SOFT_DIRTY
            | _PAGE_DEVMAP
    }
    /// `_HPAGE_CHG_MASK` (pgtable.h): bits `pmd_modify()` keeps, with the
    /// compile-time `_PAGE_HPTEFLAGS` and `H_PAGE_THP_HUGE`.
    pub const fn hpage_chg_mask(&self) -> u64 {
        self.rpn_mask()
            | self.compiled_hpteflags()
            | _PAGE_DIRTY
            | _PAGE_ACCESSED
            | self.compiled_thp_huge()
            | _PAGE_PTE
            | _PAGE_SOFT_DIRTY
            | _PAGE_DEVMAP
    }
    /// `PMD_VAL_BITS` (`__pmd_val_bits`): radix `RADIX_PMD_VAL_BITS` =
    /// V | `RADIX_PTE_INDEX_SIZE` (the next level's size, NLS); hash
    /// `HASH_PMD_VAL_BITS` = V.
    pub const fn pmd_val_bits(&self) -> u64 {
        if self.radix {
            DIR_VAL_BITS | self.index[0] as u64
        } else {
            DIR_VAL_BITS
        }
    }
    /// `PUD_VAL_BITS`: radix V | `RADIX_PMD_INDEX_SIZE`; hash V.
    pub const fn pud_val_bits(&self) -> u64 {
        if self.radix {
            DIR_VAL_BITS | self.index[1] as u64
        } else {
            DIR_VAL_BITS
        }
    }
    /// `PGD_VAL_BITS` (what `p4d_populate()` ORs in): radix V |
    /// `RADIX_PUD_INDEX_SIZE`; hash V.
    pub const fn pgd_val_bits(&self) -> u64 {
        if self.radix {
            DIR_VAL_BITS | self.index[2] as u64
        } else {
            DIR_VAL_BITS
        }
    }

    // ---- pte -----------------------------------------------------------

    /// `pte_none()`: radix `(pte & ~RADIX_PTE_NONE_MASK) == 0`; hash
    /// `(pte & ~_PAGE_HPTEFLAGS) == 0` (`H_PTE_NONE_MASK`).
    #[inline(always)]
    pub const fn pte_none(&self, v: u64) -> bool {
        let mask = if self.radix {
            RADIX_PTE_NONE_MASK
        } else {
            self.hpteflags
        };
        v & !mask == 0
    }
    /// `pte_hw_valid()` (pgtable.h): PRESENT and PTE both set.
    #[inline(always)]
    pub const fn pte_hw_valid(v: u64) -> bool {
        v & (_PAGE_PRESENT | _PAGE_PTE) == _PAGE_PRESENT | _PAGE_PTE
    }
    /// `pte_present()` (pgtable.h): hw-valid, or INVALID|PTE (a pte or THP
    /// temporarily invalidated).
    #[inline(always)]
    pub const fn pte_present(v: u64) -> bool {
        Self::pte_hw_valid(v) || v & (_PAGE_INVALID | _PAGE_PTE) == _PAGE_INVALID | _PAGE_PTE
    }
    /// `pte_protnone()` (pgtable.h, `CONFIG_NUMA_BALANCING`).
    #[inline(always)]
    pub const fn pte_protnone(v: u64) -> bool {
        v & (_PAGE_PRESENT | _PAGE_PTE | _PAGE_RWX) == _PAGE_PRESENT | _PAGE_PTE
    }
    /// `pte_devmap()` (pgtable.h): DEVMAP and PTE both set.
    #[inline(always)]
    pub const fn pte_devmap(v: u64) -> bool {
        v & (_PAGE_DEVMAP | _PAGE_PTE) == _PAGE_DEVMAP | _PAGE_PTE
    }
    /// `pfn_pte()` (pgtable.h): `pfn << PAGE_SHIFT | prot | _PAGE_PTE` (the
    /// kernel VM_BUG_ONs a pfn outside `PTE_RPN_MASK`; the model masks it).
    #[inline]
    pub const fn pfn_pte(&self, pfn: u64, prot: u64) -> u64 {
        ((pfn << self.page_shift) & self.rpn_mask()) | prot | _PAGE_PTE
    }
    /// `pte_pfn()` (asm/pgtable.h): `(pte & PTE_RPN_MASK) >> PTE_RPN_SHIFT`.
    #[inline(always)]
    pub const fn pte_pfn(&self, v: u64) -> u64 {
        (v & self.rpn_mask()) >> self.page_shift
    }
    /// `pte_modify()` (pgtable.h).
    #[inline]
    pub const fn pte_modify(&self, v: u64, prot: u64) -> u64 {
        (v & self.chg_mask()) | prot
    }

    // ---- pmd -----------------------------------------------------------

    /// `__pmd_mkhuge()`: radix sets `_PAGE_PTE` (radix.h); hash sets
    /// `_PAGE_PTE | H_PAGE_THP_HUGE` (hash-64k.h).
    #[inline]
    pub const fn pmd_mkhuge_raw(&self, v: u64) -> u64 {
        v | _PAGE_PTE | self.thp_huge
    }
    /// `pfn_pmd()` (mm/book3s64/pgtable.c): masked pfn, protection bits,
    /// then `__pmd_mkhuge()`.
    #[inline]
    pub const fn pfn_pmd(&self, pfn: u64, prot: u64) -> u64 {
        self.pmd_mkhuge_raw(((pfn << self.page_shift) & self.rpn_mask()) | prot)
    }
    /// `pmd_modify()` (mm/book3s64/pgtable.c).
    #[inline]
    pub const fn pmd_modify(&self, v: u64, prot: u64) -> u64 {
        (v & self.hpage_chg_mask()) | prot
    }
    /// `pmd_present()` (pgtable.h): PRESENT or INVALID.
    #[inline(always)]
    pub const fn pmd_present(v: u64) -> bool {
        v & (_PAGE_PRESENT | _PAGE_INVALID) != 0
    }
    /// `pmd_bad()`: radix `pmd & RADIX_PMD_BAD_BITS`; hash
    /// `pmd & H_PMD_BAD_BITS` = `PTE_TABLE_SIZE - 1` (hash.h).
    #[inline(always)]
    pub const fn pmd_bad(&self, v: u64) -> bool {
        if self.radix {
            v & RADIX_BAD_BITS != 0
        } else {
            v & (self.pte_table_size - 1) != 0
        }
    }
    /// `pud_bad()`: radix `RADIX_PUD_BAD_BITS`; hash `H_PUD_BAD_BITS` =
    /// `PMD_TABLE_SIZE - 1` (hash.h).
    #[inline(always)]
    pub const fn pud_bad(&self, v: u64) -> bool {
        if self.radix {
            v & RADIX_BAD_BITS != 0
        } else {
            v & (self.pmd_table_size - 1) != 0
        }
    }
    /// `p4d_bad()`: radix `RADIX_P4D_BAD_BITS`; hash `p4d_val(p4d) == 0`
    /// (`hash__p4d_bad`, hash.h).
    #[inline(always)]
    pub const fn p4d_bad(&self, v: u64) -> bool {
        if self.radix {
            v & RADIX_BAD_BITS != 0
        } else {
            v == 0
        }
    }
    /// `pmd_trans_huge()` (pgtable.h): false unless `pmd_present()`; radix
    /// `(pmd & (PTE|DEVMAP)) == PTE`; hash-64k `(pmd & (PTE|THP_HUGE|DEVMAP))
    /// == PTE|THP_HUGE`; hash-4k `hash__pmd_trans_huge()` is 0.
    #[inline(always)]
    pub const fn pmd_trans_huge(&self, v: u64) -> bool {
        if !Self::pmd_present(v) || !self.has_thp {
            return false;
        }
        let want = _PAGE_PTE | self.thp_huge;
        v & (want | _PAGE_DEVMAP) == want
    }
    /// `pmd_mkdevmap()`: radix `| PTE | DEVMAP`; hash `| PTE | THP_HUGE |
    /// DEVMAP`.
    #[inline]
    pub const fn pmd_mkdevmap(&self, v: u64) -> u64 {
        v | _PAGE_PTE | self.thp_huge | _PAGE_DEVMAP
    }
    /// What `pmdp_invalidate()` stores (mm/book3s64/pgtable.c:
    /// `pmd_hugepage_update(..., _PAGE_PRESENT, _PAGE_INVALID)`).
    #[inline]
    pub const fn pmd_mkinvalid(v: u64) -> u64 {
        (v & !_PAGE_PRESENT) | _PAGE_INVALID
    }

    // ---- swap ----------------------------------------------------------

    /// `__swp_entry(type, offset)` (pgtable.h).
    #[inline]
    pub const fn swp_entry(&self, ty: u64, offset: u64) -> u64 {
        ty | ((offset << self.page_shift) & self.rpn_mask())
    }
    /// `__swp_type()` (pgtable.h).
    #[inline]
    pub const fn swp_type(v: u64) -> u64 {
        v & ((1 << SWP_TYPE_BITS) - 1)
    }
    /// `__swp_offset()` (pgtable.h).
    #[inline]
    pub const fn swp_offset(&self, v: u64) -> u64 {
        (v & self.rpn_mask()) >> self.page_shift
    }
}

/// A trap a helper takes: a `WARN_ON()`, or a `BUG()`/`VM_BUG_ON()`.  On
/// powerpc each is a trap instruction with a `__bug_table` entry
/// (`asm/bug.h`).  `ppc64_defconfig` has `CONFIG_DEBUG_VM=y`, and so do the
/// oracle's fragments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelperTrap {
    /// `WARN_ON()`: a warning is printed and the helper returns its value.
    Warn,
    /// `BUG()`/`VM_BUG_ON()`: an oops; the helper never returns a value.
    Bug,
}

impl Layout {
    /// Which trap helper `name` (the kernel's name) takes on `args`, or
    /// `None`.  The model's helpers compute a value anyway; this says where
    /// the kernel would warn or oops instead:
    ///
    /// * `pfn_pte()` (pgtable.h): `VM_BUG_ON(pfn >> (64 - PAGE_SHIFT))` and
    ///   `VM_BUG_ON((pfn << PAGE_SHIFT) & ~PTE_RPN_MASK)`: a pfn outside
    ///   `PTE_RPN_MASK` is a BUG (the model masks it instead);
    /// * `pmd_mkhuge()` (pgtable.h, `CONFIG_DEBUG_VM`): radix
    ///   `WARN_ON(!(pmd & _PAGE_PTE))`; hash `WARN_ON((pmd & (_PAGE_PTE |
    ///   H_PAGE_THP_HUGE)) != _PAGE_PTE | H_PAGE_THP_HUGE)` (`H_PAGE_THP_HUGE`
    ///   is 0 on hash-4k); the value is the argument either way;
    /// * `pud_mkhuge()` (pgtable.h, `CONFIG_DEBUG_VM`): radix
    ///   `WARN_ON(!(pud & _PAGE_PTE))`; hash `WARN_ON(1)`;
    /// * `pud_mkdevmap()` (pgtable.h) and `pfn_pud()` (mm/book3s64/pgtable.c,
    ///   through `__pud_mkhuge()`): `BUG()` on hash, which has no pud leaves
    ///   (the model computes the radix value);
    /// * `pmd_mkdevmap()` and `pfn_pmd()` (through `__pmd_mkhuge()`) on
    ///   hash-4k: `hash__pmd_mkdevmap()` and `hash__pmd_mkhuge()` are `BUG()`
    ///   (`hash-4k.h`: no THP with 4K hash pages).
    ///
    /// Every other helper of the model takes no trap (`pfn_pmd()` masks the
    /// pfn).
    pub fn helper_trap(&self, name: &str, args: &[u64]) -> Option<HelperTrap> {
        let a0 = args.first().copied().unwrap_or(0);
        match name {
            "pfn_pte" => (a0 >> (64 - self.page_shift) != 0
                || (a0 << self.page_shift) & !self.rpn_mask() != 0)
                .then_some(HelperTrap::Bug),
            "pmd_mkhuge" => {
                let want = _PAGE_PTE | self.thp_huge;
                (a0 & want != want).then_some(HelperTrap::Warn)
            }
            "pud_mkhuge" => (!self.radix || a0 & _PAGE_PTE == 0).then_some(HelperTrap::Warn),
            "pud_mkdevmap" | "pfn_pud" => (!self.radix).then_some(HelperTrap::Bug),
            "pmd_mkdevmap" | "pfn_pmd" => {
                (!self.radix && self.page_shift == 12).then_some(HelperTrap::Bug)
            }
            _ => None,
        }
    }
}

/// `vm_get_page_prot()` (mm/book3s64/pgtable.c) over `protection_map`
/// (mm/pgtable.c).  Radix supports execute-only: `VM_EXEC` alone (shared or
/// not) gives `PAGE_EXECONLY` = BASE|EXEC; hash turns it into read+exec.
pub fn vm_get_page_prot(radix: bool, flags: u8) -> u64 {
    use mm_core::arch::vm_flags::*;
    let access = flags & (VM_READ | VM_WRITE | VM_EXEC);
    if access == VM_EXEC {
        return if radix {
            _PAGE_BASE | _PAGE_EXEC
        } else {
            _PAGE_BASE | _PAGE_READ | _PAGE_EXEC
        };
    }
    let shared = flags & VM_SHARED != 0;
    let exec = if flags & VM_EXEC != 0 { _PAGE_EXEC } else { 0 };
    let base = match (access & !VM_EXEC, shared) {
        // PAGE_NONE = BASE | PRIVILEGED.
        (0, _) => return _PAGE_BASE | _PAGE_PRIVILEGED,
        // PAGE_READONLY(_X).
        (VM_READ, _) => _PAGE_BASE | _PAGE_READ,
        // Private writable: PAGE_COPY(_X) = BASE | READ (COW).
        (_, false) => _PAGE_BASE | _PAGE_READ,
        // Shared writable: PAGE_SHARED(_X) = BASE | RW.
        (_, true) => _PAGE_BASE | _PAGE_RW,
    };
    base | exec
}

#[cfg(test)]
mod tests {
    //! Values the kernel oracle measured (`ptlab oracle test`, Linux
    //! 6.12.117 `ppc64_defconfig` + `oracle/config/ppc64-*.config`, run
    //! under qemu-ppc64-static); each pins a fact the model got wrong or
    //! had to state.
    use super::*;
    use crate::geometry::{HASH_4K, HASH_64K, RADIX_64K};

    #[test]
    fn modify_keeps_the_compiled_hpteflags_on_radix() {
        // Kernel: pte_modify(0x1fffffffff0041, 0xe11fffffffff0abc) =
        // 0xe11fffffffff0afc on radix-64k: bit 6 (H_PAGE_BUSY) survives,
        // because _PAGE_CHG_MASK holds the compile-time _PAGE_HPTEFLAGS.
        let (v, prot) = (0x001f_ffff_ffff_0041, 0xe11f_ffff_ffff_0abc);
        assert_eq!(RADIX_64K.pte_modify(v, prot), 0xe11f_ffff_ffff_0afc);
        assert_eq!(RADIX_64K.pmd_modify(v, prot), 0xe11f_ffff_ffff_0afc);
        // _HPAGE_CHG_MASK also keeps H_PAGE_THP_HUGE (bit 13) on radix-64k.
        assert_eq!(RADIX_64K.pmd_modify(_RPAGE_RPN1, 0), _RPAGE_RPN1);
        assert_eq!(RADIX_64K.pte_modify(_RPAGE_RPN1, 0), 0);
        // pte_none() still uses the run-time view: radix ignores R and C.
        assert!(RADIX_64K.pte_none(0x80));
        assert!(!HASH_64K.pte_none(0x80));
        assert_eq!(RADIX_64K.compiled_hpteflags(), HASH_64K.hpteflags);
        assert_eq!(HASH_4K.compiled_thp_huge(), 0);
    }

    #[test]
    fn helper_traps_as_the_kernel_takes_them() {
        // pmd_mkhuge(0): WARN, value 0 (radix and hash).
        assert_eq!(
            RADIX_64K.helper_trap("pmd_mkhuge", &[0]),
            Some(HelperTrap::Warn)
        );
        // pmd_mkhuge(_PAGE_PTE): quiet on radix, WARN on hash-64k (no THP_HUGE).
        assert_eq!(RADIX_64K.helper_trap("pmd_mkhuge", &[_PAGE_PTE]), None);
        assert_eq!(
            HASH_64K.helper_trap("pmd_mkhuge", &[_PAGE_PTE]),
            Some(HelperTrap::Warn)
        );
        assert_eq!(
            HASH_64K.helper_trap("pmd_mkhuge", &[_PAGE_PTE | _RPAGE_RPN1]),
            None
        );
        // pfn_pte(1 << 60, 0): VM_BUG_ON; pfn_pte(0x1234, 0x10e) =
        // 0x400000001234010e without a trap.
        assert_eq!(
            RADIX_64K.helper_trap("pfn_pte", &[1 << 60, 0]),
            Some(HelperTrap::Bug)
        );
        assert_eq!(RADIX_64K.helper_trap("pfn_pte", &[0x1234, 0x10e]), None);
        assert_eq!(RADIX_64K.pfn_pte(0x1234, 0x10e), 0x4000_0000_1234_010e);
        // hash: pud_mkdevmap() and pfn_pud() BUG(); pud_mkhuge() WARN_ON(1).
        assert_eq!(
            HASH_64K.helper_trap("pud_mkdevmap", &[0]),
            Some(HelperTrap::Bug)
        );
        assert_eq!(
            HASH_64K.helper_trap("pfn_pud", &[1, 0]),
            Some(HelperTrap::Bug)
        );
        assert_eq!(
            HASH_64K.helper_trap("pud_mkhuge", &[_PAGE_PTE]),
            Some(HelperTrap::Warn)
        );
        assert_eq!(RADIX_64K.helper_trap("pud_mkdevmap", &[0]), None);
        assert_eq!(RADIX_64K.helper_trap("pte_mkyoung", &[0]), None);
        // hash-4k: hash__pmd_mkhuge() and hash__pmd_mkdevmap() BUG().
        assert_eq!(
            HASH_4K.helper_trap("pfn_pmd", &[0, 0]),
            Some(HelperTrap::Bug)
        );
        assert_eq!(
            HASH_4K.helper_trap("pmd_mkdevmap", &[0]),
            Some(HelperTrap::Bug)
        );
        assert_eq!(HASH_64K.helper_trap("pfn_pmd", &[0, 0]), None);
    }

    #[test]
    fn oracle_values() {
        // pfn_pmd(0x1234, 0x10e): hash adds H_PAGE_THP_HUGE.
        assert_eq!(RADIX_64K.pfn_pmd(0x1234, 0x10e), 0x4000_0000_1234_010e);
        assert_eq!(HASH_64K.pfn_pmd(0x1234, 0x10e), 0x4000_0000_1234_210e);
        // vm_get_page_prot(VM_EXEC): execute-only on radix only.
        assert_eq!(vm_get_page_prot(true, 4), 0x8000_0000_0000_0101);
        assert_eq!(vm_get_page_prot(false, 4), 0x8000_0000_0000_0105);
        // TASK_SIZE_MAX (TASK_SIZE_USER64) with 64K pages: 4 PB.
        assert_eq!(RADIX_64K.task_size_user64(), 0x0010_0000_0000_0000);
        assert_eq!(HASH_4K.task_size_user64(), 0x0000_4000_0000_0000);
        // v6.6 PAGE_NONE keeps _PAGE_PRIVILEGED (6.7+ drops it: a listed
        // version delta in oracle/version-deltas.md).
        assert_eq!(vm_get_page_prot(true, 0), 0x8000_0000_0000_0108);
    }
}
