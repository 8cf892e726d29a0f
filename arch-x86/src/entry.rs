//! x86 entry encodings as of Linux v6.6: bit constants and the helper bodies.
//!
//! Every helper here works on raw entry values (`pteval_t` and friends, as
//! `u64`) and is a transcription of the *behaviour* of the v6.6 definition
//! named in its doc comment; [`crate::X86`]'s `Arch` impl wraps them in the
//! mm-core newtypes.  Headers are under `arch/x86/include/asm/` unless a path
//! says otherwise.
//!
//! # Boot-time and Kconfig assumptions
//!
//! * `__supported_pte_mask` keeps every bit (a CPU with NX and PGE), so
//!   `massage_pgprot()`/`check_pgprot()` (`pgtable.h`) are the identity.
//! * `X86_FEATURE_SHSTK`/`X86_FEATURE_USER_SHSTK` are off, so
//!   `pte_shstk()`/`pmd_shstk()` are false and `pte_write()` is just
//!   `_PAGE_RW`; the SavedDirty shifting (`mksaveddirty_shift()`) is
//!   unconditional in v6.6 and *is* modelled.
//! * No SME/TDX: `_PAGE_ENC` (`sme_me_mask`) and `_PAGE_CC` (`cc_mask`) are 0.
//! * Protection keys: every VMA has pkey 0, so the `_PAGE_PKEY_BIT*` bits are
//!   never set by `vm_get_page_prot()` (`arch/x86/mm/pgprot.c`).
//! * x86_64 only (Kconfig `select ... if X86_64` in `arch/x86/Kconfig`):
//!   `HAVE_ARCH_SOFT_DIRTY` with `CONFIG_MEM_SOFT_DIRTY=y`,
//!   `HAVE_ARCH_USERFAULTFD_WP` (with `CONFIG_USERFAULTFD=y`),
//!   `ARCH_HAS_PTE_DEVMAP`, `ARCH_SUPPORTS_NUMA_BALANCING` with
//!   `CONFIG_NUMA_BALANCING=y`, `ARCH_ENABLE_THP_MIGRATION`,
//!   `HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`.  On the two 32-bit
//!   configurations the generic fallbacks of `include/linux/pgtable.h` and
//!   `include/asm-generic/pgtable_uffd.h` apply instead (`pte_protnone()`
//!   is 0, `pte_mksoft_dirty()` is the identity, ...).
//! * x86_64: `CONFIG_X86_5LEVEL=y` with LA57 off at boot, so the p4d level
//!   is folded at run time (`pgtable_l5_enabled()` false), and
//!   `CONFIG_PAGE_TABLE_ISOLATION=y` (x86_64_defconfig), which makes
//!   `p4d_bad()` ignore `_PAGE_NX`.

use crate::X86Mode;

// ---- bit numbers (pgtable_types.h) ------------------------------------

/// `_PAGE_BIT_PRESENT` (pgtable_types.h): the P bit.
pub const _PAGE_BIT_PRESENT: u32 = 0;
/// `_PAGE_BIT_RW` (pgtable_types.h): writeable.
pub const _PAGE_BIT_RW: u32 = 1;
/// `_PAGE_BIT_USER` (pgtable_types.h): userspace addressable.
pub const _PAGE_BIT_USER: u32 = 2;
/// `_PAGE_BIT_PWT` (pgtable_types.h): page write-through.
pub const _PAGE_BIT_PWT: u32 = 3;
/// `_PAGE_BIT_PCD` (pgtable_types.h): page cache disabled.
pub const _PAGE_BIT_PCD: u32 = 4;
/// `_PAGE_BIT_ACCESSED` (pgtable_types.h): set by the CPU on access.
pub const _PAGE_BIT_ACCESSED: u32 = 5;
/// `_PAGE_BIT_DIRTY` (pgtable_types.h): set by the CPU on write.
pub const _PAGE_BIT_DIRTY: u32 = 6;
/// `_PAGE_BIT_PSE` (pgtable_types.h): 4M/2M/1G page in a pmd/pud.
pub const _PAGE_BIT_PSE: u32 = 7;
/// `_PAGE_BIT_PAT` (pgtable_types.h): PAT bit of a 4K pte (same as PSE).
pub const _PAGE_BIT_PAT: u32 = 7;
/// `_PAGE_BIT_GLOBAL` (pgtable_types.h): global TLB entry.
pub const _PAGE_BIT_GLOBAL: u32 = 8;
/// `_PAGE_BIT_SOFTW1` (pgtable_types.h): available for software.
pub const _PAGE_BIT_SOFTW1: u32 = 9;
/// `_PAGE_BIT_SOFTW2` (pgtable_types.h): available for software.
pub const _PAGE_BIT_SOFTW2: u32 = 10;
/// `_PAGE_BIT_SOFTW3` (pgtable_types.h): available for software.
pub const _PAGE_BIT_SOFTW3: u32 = 11;
/// `_PAGE_BIT_PAT_LARGE` (pgtable_types.h): PAT bit of a 2M/1G leaf.
pub const _PAGE_BIT_PAT_LARGE: u32 = 12;
/// `_PAGE_BIT_SOFTW4` (pgtable_types.h): 57 since v6.6 (58 before).
pub const _PAGE_BIT_SOFTW4: u32 = 57;
/// `_PAGE_BIT_SOFTW5` (pgtable_types.h): new in v6.6.
pub const _PAGE_BIT_SOFTW5: u32 = 58;
/// `_PAGE_BIT_PKEY_BIT0` (pgtable_types.h): protection key bit 0.
pub const _PAGE_BIT_PKEY_BIT0: u32 = 59;
/// `_PAGE_BIT_NX` (pgtable_types.h): no execute.
pub const _PAGE_BIT_NX: u32 = 63;
/// `_PAGE_BIT_SPECIAL` = `_PAGE_BIT_SOFTW1` (pgtable_types.h).
pub const _PAGE_BIT_SPECIAL: u32 = _PAGE_BIT_SOFTW1;
/// `_PAGE_BIT_UFFD_WP` = `_PAGE_BIT_SOFTW2` (pgtable_types.h).
pub const _PAGE_BIT_UFFD_WP: u32 = _PAGE_BIT_SOFTW2;
/// `_PAGE_BIT_SOFT_DIRTY` = `_PAGE_BIT_SOFTW3` (pgtable_types.h).
pub const _PAGE_BIT_SOFT_DIRTY: u32 = _PAGE_BIT_SOFTW3;
/// `_PAGE_BIT_DEVMAP` = `_PAGE_BIT_SOFTW4` = 57 in v6.6 (pgtable_types.h).
pub const _PAGE_BIT_DEVMAP: u32 = _PAGE_BIT_SOFTW4;
/// `_PAGE_BIT_PROTNONE` = `_PAGE_BIT_GLOBAL` (pgtable_types.h): used when
/// `_PAGE_PRESENT` is clear.
pub const _PAGE_BIT_PROTNONE: u32 = _PAGE_BIT_GLOBAL;
/// `_PAGE_BIT_SAVED_DIRTY` on `CONFIG_X86_64` = `_PAGE_BIT_SOFTW5` = 58
/// (pgtable_types.h, v6.6).
pub const _PAGE_BIT_SAVED_DIRTY_64: u32 = _PAGE_BIT_SOFTW5;
/// `_PAGE_BIT_SAVED_DIRTY` on 32-bit = `_PAGE_BIT_SOFTW2` = 10, shared with
/// `_PAGE_BIT_UFFD_WP` which 32-bit does not support (pgtable_types.h, v6.6).
pub const _PAGE_BIT_SAVED_DIRTY_32: u32 = _PAGE_BIT_SOFTW2;

// ---- masks that are the same in every configuration -------------------

/// `_PAGE_PRESENT` (pgtable_types.h).
pub const _PAGE_PRESENT: u64 = 1 << _PAGE_BIT_PRESENT;
/// `_PAGE_RW` (pgtable_types.h).
pub const _PAGE_RW: u64 = 1 << _PAGE_BIT_RW;
/// `_PAGE_USER` (pgtable_types.h).
pub const _PAGE_USER: u64 = 1 << _PAGE_BIT_USER;
/// `_PAGE_PWT` (pgtable_types.h).
pub const _PAGE_PWT: u64 = 1 << _PAGE_BIT_PWT;
/// `_PAGE_PCD` (pgtable_types.h).
pub const _PAGE_PCD: u64 = 1 << _PAGE_BIT_PCD;
/// `_PAGE_ACCESSED` (pgtable_types.h).
pub const _PAGE_ACCESSED: u64 = 1 << _PAGE_BIT_ACCESSED;
/// `_PAGE_DIRTY` (pgtable_types.h).
pub const _PAGE_DIRTY: u64 = 1 << _PAGE_BIT_DIRTY;
/// `_PAGE_PSE` (pgtable_types.h).
pub const _PAGE_PSE: u64 = 1 << _PAGE_BIT_PSE;
/// `_PAGE_PAT` (pgtable_types.h): same bit as `_PAGE_PSE`.
pub const _PAGE_PAT: u64 = 1 << _PAGE_BIT_PAT;
/// `_PAGE_GLOBAL` (pgtable_types.h).
pub const _PAGE_GLOBAL: u64 = 1 << _PAGE_BIT_GLOBAL;
/// `_PAGE_SOFTW1` (pgtable_types.h).
pub const _PAGE_SOFTW1: u64 = 1 << _PAGE_BIT_SOFTW1;
/// `_PAGE_SOFTW2` (pgtable_types.h).
pub const _PAGE_SOFTW2: u64 = 1 << _PAGE_BIT_SOFTW2;
/// `_PAGE_SOFTW3` (pgtable_types.h).
pub const _PAGE_SOFTW3: u64 = 1 << _PAGE_BIT_SOFTW3;
/// `_PAGE_PAT_LARGE` (pgtable_types.h).
pub const _PAGE_PAT_LARGE: u64 = 1 << _PAGE_BIT_PAT_LARGE;
/// `_PAGE_SPECIAL` (pgtable_types.h); `_PAGE_CPA_TEST` aliases it.
pub const _PAGE_SPECIAL: u64 = 1 << _PAGE_BIT_SPECIAL;
/// `_PAGE_PROTNONE` (pgtable_types.h).
pub const _PAGE_PROTNONE: u64 = 1 << _PAGE_BIT_PROTNONE;
/// `_PAGE_TABLE` = P|RW|USER|A|D (+ `_ENC` = 0) (pgtable_types.h): what
/// `pmd_populate()`/`pud_populate()`/`p4d_populate()` store with the table's
/// physical address (`asm/pgalloc.h`).
pub const _PAGE_TABLE: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
/// `_KERNPG_TABLE` = P|RW|A|D (+ `_ENC` = 0) (pgtable_types.h).
pub const _KERNPG_TABLE: u64 = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
/// `PAGE_SHIFT` (page_types.h).
pub const PAGE_SHIFT: u32 = 12;
/// `SWP_TYPE_BITS` (pgtable_64.h, pgtable-3level.h, pgtable-2level.h).
pub const SWP_TYPE_BITS: u32 = 5;
/// `SWP_OFFSET_FIRST_BIT` = `_PAGE_BIT_PROTNONE + 1` (pgtable_64.h,
/// pgtable-3level.h); the 2-level `SWP_OFFSET_SHIFT` has the same value.
pub const SWP_OFFSET_FIRST_BIT: u32 = _PAGE_BIT_PROTNONE + 1;
/// `SWP_OFFSET_SHIFT` = `SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS` = 14
/// (pgtable_64.h, pgtable-3level.h).
pub const SWP_OFFSET_SHIFT: u32 = SWP_OFFSET_FIRST_BIT + SWP_TYPE_BITS;
/// `_SWP_TYPE_MASK` (pgtable-3level.h, pgtable-2level.h).
pub const _SWP_TYPE_MASK: u64 = (1 << SWP_TYPE_BITS) - 1;
/// `_SWP_TYPE_SHIFT` = `_PAGE_BIT_PRESENT + 1` (pgtable-2level.h).
pub const _SWP_TYPE_SHIFT_2LEVEL: u32 = _PAGE_BIT_PRESENT + 1;

/// The mode-dependent constants of one configuration, with the helper
/// bodies as methods on raw values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The configuration.
    pub mode: X86Mode,
    /// Width of `pteval_t`: all ones for 64-bit entries, `0xffff_ffff` on
    /// 2-level (`pgtable-2level_types.h`: `typedef unsigned long pteval_t`).
    pub val_mask: u64,
    /// Width of `unsigned long` (`pte_pfn()`'s result, `swp_entry_t.val`,
    /// `pmd_none()`'s "low word" check): 64 or 32 bits.
    pub ulong_mask: u64,
    /// Width of `phys_addr_t`: 64 bits on x86_64 and PAE
    /// (`CONFIG_PHYS_ADDR_T_64BIT`), 32 bits on 2-level.
    pub phys_addr_mask: u64,
    /// `PTE_PFN_MASK` = `PHYSICAL_PAGE_MASK` (pgtable_types.h,
    /// page_types.h): bits 12..51 with `__PHYSICAL_MASK_SHIFT` 52
    /// (page_64_types.h, page_32_types.h for PAE), bits 12..31 on 2-level.
    pub pte_pfn_mask: u64,
    /// `PHYSICAL_PMD_PAGE_MASK` (page_types.h): `PMD_MASK` (2M, or 4M on
    /// 2-level where `PMD_SHIFT` = `PGDIR_SHIFT` = 22) within
    /// `__PHYSICAL_MASK`.
    pub pmd_page_mask: u64,
    /// `PHYSICAL_PUD_PAGE_MASK` (page_types.h): `PUD_MASK` within
    /// `__PHYSICAL_MASK` (`PUD_SHIFT` 30; 22 on 2-level where the pud is
    /// folded into the pgd).
    pub pud_page_mask: u64,
    /// `_PAGE_NX` (pgtable_types.h): `1 << 63` with `CONFIG_X86_64 ||
    /// CONFIG_X86_PAE`, else 0.
    pub nx: u64,
    /// `_PAGE_DEVMAP` (pgtable_types.h): `1 << 57` with `CONFIG_X86_64 ||
    /// CONFIG_X86_PAE`, else 0.  Defined on PAE, but only x86_64 selects
    /// `ARCH_HAS_PTE_DEVMAP`, so only there do `pte_devmap()`/`pmd_devmap()`
    /// test it.
    pub devmap: u64,
    /// `_PAGE_BIT_SAVED_DIRTY` (pgtable_types.h): 58 on x86_64, 10 on 32-bit.
    pub saved_dirty_bit: u32,
    /// `_PAGE_SOFT_DIRTY` (pgtable_types.h): bit 11 with
    /// `CONFIG_MEM_SOFT_DIRTY` (x86_64 only), else 0.
    pub soft_dirty: u64,
    /// `_PAGE_UFFD_WP` (pgtable_types.h): bit 10 with
    /// `CONFIG_HAVE_ARCH_USERFAULTFD_WP` (x86_64 only), else 0.
    pub uffd_wp: u64,
    /// `_PAGE_SWP_SOFT_DIRTY` = `_PAGE_RW` with `CONFIG_MEM_SOFT_DIRTY`
    /// (pgtable_types.h), else 0.
    pub swp_soft_dirty: u64,
    /// `_PAGE_SWP_UFFD_WP` = `_PAGE_USER` with
    /// `CONFIG_HAVE_ARCH_USERFAULTFD_WP` (pgtable_types.h), else 0.
    pub swp_uffd_wp: u64,
    /// `_PAGE_SWP_EXCLUSIVE`: `_PAGE_PWT` on x86_64 (pgtable_64.h),
    /// `_PAGE_PSE` on PAE and 2-level (pgtable-3level.h, pgtable-2level.h;
    /// since v6.3).
    pub swp_exclusive: u64,
    /// `_PAGE_KNL_ERRATUM_MASK` (pgtable_types.h): `_PAGE_DIRTY |
    /// _PAGE_ACCESSED` with `CONFIG_X86_64 || CONFIG_X86_PAE`, else 0.
    pub knl_erratum_mask: u64,
    /// `PGD_ALLOWED_BITS` (pgtable_types.h): on PAE the frame, P, PWT, PCD
    /// and SOFTW1..3 (`native_make_pgd()`/`native_pgd_val()` mask with it);
    /// all ones otherwise.
    pub pgd_allowed_bits: u64,
    /// Whether not-present entries store their pfn inverted
    /// (`arch/x86/include/asm/pgtable-invert.h`, L1TF); 2-level does not
    /// (`pgtable-2level.h`: `protnone_mask()` returns 0).
    pub invert: bool,
    /// `CONFIG_HAVE_ARCH_SOFT_DIRTY` && `CONFIG_MEM_SOFT_DIRTY`.
    pub has_soft_dirty: bool,
    /// `CONFIG_ARCH_HAS_PTE_DEVMAP`.
    pub has_devmap: bool,
    /// `CONFIG_NUMA_BALANCING`: the x86 `pte_protnone()`/`pmd_protnone()`
    /// exist only with it; otherwise they are the generic `return 0`.
    pub numa_balancing: bool,
    /// `CONFIG_HAVE_ARCH_USERFAULTFD_WP`.
    pub has_uffd_wp: bool,
}

/// The x86_64 layout.
pub const LAYOUT_X86_64: Layout = Layout {
    mode: X86Mode::X86_64,
    val_mask: u64::MAX,
    ulong_mask: u64::MAX,
    phys_addr_mask: u64::MAX,
    pte_pfn_mask: 0x000f_ffff_ffff_f000,
    pmd_page_mask: 0x000f_ffff_ffe0_0000,
    pud_page_mask: 0x000f_ffff_c000_0000,
    nx: 1 << _PAGE_BIT_NX,
    devmap: 1 << _PAGE_BIT_DEVMAP,
    saved_dirty_bit: _PAGE_BIT_SAVED_DIRTY_64,
    soft_dirty: 1 << _PAGE_BIT_SOFT_DIRTY,
    uffd_wp: 1 << _PAGE_BIT_UFFD_WP,
    swp_soft_dirty: _PAGE_RW,
    swp_uffd_wp: _PAGE_USER,
    swp_exclusive: _PAGE_PWT,
    knl_erratum_mask: _PAGE_DIRTY | _PAGE_ACCESSED,
    pgd_allowed_bits: u64::MAX,
    invert: true,
    has_soft_dirty: true,
    has_devmap: true,
    numa_balancing: true,
    has_uffd_wp: true,
};

/// The x86-32 PAE layout.
pub const LAYOUT_PAE: Layout = Layout {
    mode: X86Mode::Pae,
    val_mask: u64::MAX,
    ulong_mask: 0xffff_ffff,
    phys_addr_mask: u64::MAX,
    pte_pfn_mask: 0x000f_ffff_ffff_f000,
    pmd_page_mask: 0x000f_ffff_ffe0_0000,
    pud_page_mask: 0x000f_ffff_c000_0000,
    nx: 1 << _PAGE_BIT_NX,
    devmap: 1 << _PAGE_BIT_DEVMAP,
    saved_dirty_bit: _PAGE_BIT_SAVED_DIRTY_32,
    soft_dirty: 0,
    uffd_wp: 0,
    swp_soft_dirty: 0,
    swp_uffd_wp: 0,
    swp_exclusive: _PAGE_PSE,
    knl_erratum_mask: _PAGE_DIRTY | _PAGE_ACCESSED,
    // PGD_PAE_PHYS_MASK | P | PWT | PCD | SOFTW1 | SOFTW2 | SOFTW3.
    pgd_allowed_bits: 0x000f_ffff_ffff_f000
        | _PAGE_PRESENT
        | _PAGE_PWT
        | _PAGE_PCD
        | _PAGE_SOFTW1
        | _PAGE_SOFTW2
        | _PAGE_SOFTW3,
    invert: true,
    has_soft_dirty: false,
    has_devmap: false,
    numa_balancing: false,
    has_uffd_wp: false,
};

/// The x86-32 2-level layout.
pub const LAYOUT_X86_32: Layout = Layout {
    mode: X86Mode::X86_32,
    val_mask: 0xffff_ffff,
    ulong_mask: 0xffff_ffff,
    phys_addr_mask: 0xffff_ffff,
    pte_pfn_mask: 0xffff_f000,
    pmd_page_mask: 0xffc0_0000,
    pud_page_mask: 0xffc0_0000,
    nx: 0,
    devmap: 0,
    saved_dirty_bit: _PAGE_BIT_SAVED_DIRTY_32,
    soft_dirty: 0,
    uffd_wp: 0,
    swp_soft_dirty: 0,
    swp_uffd_wp: 0,
    swp_exclusive: _PAGE_PSE,
    knl_erratum_mask: 0,
    pgd_allowed_bits: u64::MAX,
    invert: false,
    has_soft_dirty: false,
    has_devmap: false,
    numa_balancing: false,
    has_uffd_wp: false,
};

impl Layout {
    /// The layout of `mode`.
    #[inline]
    pub const fn of(mode: X86Mode) -> &'static Layout {
        match mode {
            X86Mode::X86_64 => &LAYOUT_X86_64,
            X86Mode::Pae => &LAYOUT_PAE,
            X86Mode::X86_32 => &LAYOUT_X86_32,
        }
    }

    /// A value truncated to `pteval_t`.
    #[inline(always)]
    pub fn v(&self, x: u64) -> u64 {
        x & self.val_mask
    }

    /// `_PAGE_SAVED_DIRTY` (pgtable_types.h, v6.6).
    #[inline]
    pub fn saved_dirty(&self) -> u64 {
        1 << self.saved_dirty_bit
    }

    /// `_PAGE_DIRTY_BITS` = `_PAGE_DIRTY | _PAGE_SAVED_DIRTY`
    /// (pgtable_types.h, v6.6).
    #[inline]
    pub fn dirty_bits(&self) -> u64 {
        _PAGE_DIRTY | self.saved_dirty()
    }

    /// `_COMMON_PAGE_CHG_MASK` (pgtable_types.h, v6.6): the pfn, PCD, PWT,
    /// SPECIAL, ACCESSED, `_PAGE_DIRTY_BITS`, SOFT_DIRTY, DEVMAP, `_PAGE_ENC`
    /// (0 here) and UFFD_WP.
    #[inline]
    pub fn common_page_chg_mask(&self) -> u64 {
        self.v(self.pte_pfn_mask
            | _PAGE_PCD
            | _PAGE_PWT
            | _PAGE_SPECIAL
            | _PAGE_ACCESSED
            | self.dirty_bits()
            | self.soft_dirty
            | self.devmap
            | self.uffd_wp)
    }

    /// `_PAGE_CHG_MASK` = `_COMMON_PAGE_CHG_MASK | _PAGE_PAT`
    /// (pgtable_types.h; `_PAGE_PAT` added for v6.5).
    #[inline]
    pub fn page_chg_mask(&self) -> u64 {
        self.common_page_chg_mask() | _PAGE_PAT
    }

    /// `_HPAGE_CHG_MASK` = `_COMMON_PAGE_CHG_MASK | _PAGE_PSE |
    /// _PAGE_PAT_LARGE` (pgtable_types.h).
    #[inline]
    pub fn hpage_chg_mask(&self) -> u64 {
        self.common_page_chg_mask() | _PAGE_PSE | _PAGE_PAT_LARGE
    }

    // ---- flags and pfn masks (pgtable_types.h) ----------------------

    /// `pte_flags()` (pgtable_types.h): the value outside `PTE_PFN_MASK`.
    #[inline(always)]
    pub fn pte_flags(&self, pte: u64) -> u64 {
        self.v(pte) & !self.pte_pfn_mask
    }

    /// `pmd_pfn_mask()` (pgtable_types.h): `PHYSICAL_PMD_PAGE_MASK` when
    /// `_PAGE_PSE` is set, else `PTE_PFN_MASK`.
    #[inline(always)]
    pub fn pmd_pfn_mask(&self, pmd: u64) -> u64 {
        if self.v(pmd) & _PAGE_PSE != 0 {
            self.pmd_page_mask
        } else {
            self.pte_pfn_mask
        }
    }

    /// `pmd_flags()` (pgtable_types.h).
    #[inline(always)]
    pub fn pmd_flags(&self, pmd: u64) -> u64 {
        self.v(pmd) & !self.pmd_pfn_mask(pmd)
    }

    /// `native_pud_val()` (pgtable_types.h): on PAE and 2-level the pud is
    /// the pgd entry (`pgtable-nopud.h`), read through `native_pgd_val()`,
    /// which masks with `PGD_ALLOWED_BITS`.
    #[inline(always)]
    pub fn native_pud_val(&self, pud: u64) -> u64 {
        self.v(pud) & self.pgd_allowed_bits
    }

    /// `pud_pfn_mask()` (pgtable_types.h).
    #[inline(always)]
    pub fn pud_pfn_mask(&self, pud: u64) -> u64 {
        if self.native_pud_val(pud) & _PAGE_PSE != 0 {
            self.pud_page_mask
        } else {
            self.pte_pfn_mask
        }
    }

    /// `pud_flags()` (pgtable_types.h).
    #[inline(always)]
    pub fn pud_flags(&self, pud: u64) -> u64 {
        self.native_pud_val(pud) & !self.pud_pfn_mask(pud)
    }

    /// `p4d_flags()` (pgtable_types.h; `p4d_pfn_mask()` is always
    /// `PTE_PFN_MASK`: "No 512 GiB huge pages yet").
    #[inline(always)]
    pub fn p4d_flags(&self, p4d: u64) -> u64 {
        self.native_pud_val(p4d) & !self.pte_pfn_mask
    }

    // ---- L1TF inversion (pgtable-invert.h, pgtable-2level.h) ---------

    /// `__pte_needs_invert()` (pgtable-invert.h): nonzero and not present.
    #[inline(always)]
    pub fn pte_needs_invert(&self, val: u64) -> bool {
        self.invert && val != 0 && val & _PAGE_PRESENT == 0
    }

    /// `protnone_mask()` (pgtable-invert.h; 0 on 2-level).
    #[inline(always)]
    pub fn protnone_mask(&self, val: u64) -> u64 {
        if self.pte_needs_invert(val) {
            u64::MAX
        } else {
            0
        }
    }

    /// `flip_protnone_guard()` (pgtable-invert.h; identity on 2-level):
    /// re-invert the pfn field when an entry moves between present and
    /// inverted.
    #[inline]
    pub fn flip_protnone_guard(&self, oldval: u64, val: u64, mask: u64) -> u64 {
        if self.pte_needs_invert(oldval) != self.pte_needs_invert(val) {
            (val & !mask) | (!val & mask)
        } else {
            val
        }
    }

    // ---- SavedDirty (pgtable.h, v6.6) ------------------------------

    /// `mksaveddirty_shift()` (pgtable.h, v6.6): with RW clear, move
    /// `_PAGE_DIRTY` to `_PAGE_SAVED_DIRTY`.
    #[inline]
    pub fn mksaveddirty_shift(&self, v: u64) -> u64 {
        let cond = (!v >> _PAGE_BIT_RW) & 1;
        let mut v = v | (((v >> _PAGE_BIT_DIRTY) & cond) << self.saved_dirty_bit);
        v &= !(cond << _PAGE_BIT_DIRTY);
        self.v(v)
    }

    /// `clear_saveddirty_shift()` (pgtable.h, v6.6): with RW set, move
    /// `_PAGE_SAVED_DIRTY` back to `_PAGE_DIRTY`.
    #[inline]
    pub fn clear_saveddirty_shift(&self, v: u64) -> u64 {
        let cond = (v >> _PAGE_BIT_RW) & 1;
        let mut v = v | (((v >> self.saved_dirty_bit) & cond) << _PAGE_BIT_DIRTY);
        v &= !(cond << self.saved_dirty_bit);
        self.v(v)
    }

    // ---- pte (pgtable.h) ---------------------------------------------

    /// `check_pgprot()` (pgtable.h): `massage_pgprot()` masks a present
    /// pgprot with `__supported_pte_mask`, all ones here.
    #[inline]
    pub fn check_pgprot(&self, prot: u64) -> u64 {
        self.v(prot)
    }

    /// `(phys_addr_t)page_nr << PAGE_SHIFT` with `page_nr` an `unsigned
    /// long`.
    #[inline]
    fn pfn_to_phys(&self, pfn: u64) -> u64 {
        ((pfn & self.ulong_mask) << PAGE_SHIFT) & self.phys_addr_mask
    }

    /// `pfn_pte()` (pgtable.h): inverts the pfn for a not-present prot.
    #[inline]
    pub fn pfn_pte(&self, pfn: u64, prot: u64) -> u64 {
        let mut pa = self.pfn_to_phys(pfn);
        pa ^= self.protnone_mask(self.v(prot));
        pa &= self.pte_pfn_mask;
        self.v(pa | self.check_pgprot(prot))
    }

    /// `pte_pfn()` (pgtable.h), an `unsigned long`.
    #[inline(always)]
    pub fn pte_pfn(&self, pte: u64) -> u64 {
        let v = self.v(pte);
        (((v ^ self.protnone_mask(v)) & self.pte_pfn_mask) >> PAGE_SHIFT) & self.ulong_mask
    }

    /// `pte_modify()` (pgtable.h, v6.6): keep `_PAGE_CHG_MASK`, take the
    /// rest from `newprot`, re-invert across present/not-present, then the
    /// SavedDirty exercise keyed on the *old* RW bit.
    #[inline]
    pub fn pte_modify(&self, pte: u64, prot: u64) -> u64 {
        let oldval = self.v(pte);
        let mut val = oldval & self.page_chg_mask();
        val |= self.check_pgprot(prot) & !self.page_chg_mask();
        val = self.flip_protnone_guard(oldval, val, self.pte_pfn_mask);
        if oldval & _PAGE_RW != 0 {
            self.mksaveddirty_shift(val)
        } else {
            self.clear_saveddirty_shift(val)
        }
    }

    /// `pte_none()` (pgtable.h): ignores the KNL stray A/D bits.
    #[inline]
    pub fn pte_none(&self, pte: u64) -> bool {
        self.v(pte) & !self.knl_erratum_mask == 0
    }

    /// `pte_present()` (pgtable.h): P or PROTNONE.
    #[inline]
    pub fn pte_present(&self, pte: u64) -> bool {
        self.pte_flags(pte) & (_PAGE_PRESENT | _PAGE_PROTNONE) != 0
    }

    /// `pte_protnone()` (pgtable.h under `CONFIG_NUMA_BALANCING`; the
    /// generic `include/linux/pgtable.h` stub returns 0 without it).
    #[inline]
    pub fn pte_protnone(&self, pte: u64) -> bool {
        self.numa_balancing
            && self.pte_flags(pte) & (_PAGE_PROTNONE | _PAGE_PRESENT) == _PAGE_PROTNONE
    }

    /// `pte_young()` (pgtable.h).
    #[inline]
    pub fn pte_young(&self, pte: u64) -> bool {
        self.pte_flags(pte) & _PAGE_ACCESSED != 0
    }

    /// `pte_dirty()` (pgtable.h, v6.6): `_PAGE_DIRTY_BITS`.
    #[inline]
    pub fn pte_dirty(&self, pte: u64) -> bool {
        self.pte_flags(pte) & self.dirty_bits() != 0
    }

    /// `pte_write()` (pgtable.h, v6.6): `_PAGE_RW || pte_shstk()`, and
    /// `pte_shstk()` is false without `X86_FEATURE_SHSTK`.
    #[inline(always)]
    pub fn pte_write(&self, pte: u64) -> bool {
        self.pte_flags(pte) & _PAGE_RW != 0
    }

    /// `pte_exec()` (pgtable.h): `!(flags & _PAGE_NX)`, always true on
    /// 2-level where `_PAGE_NX` is 0.
    #[inline]
    pub fn pte_exec(&self, pte: u64) -> bool {
        self.pte_flags(pte) & self.nx == 0
    }

    /// `pte_special()` (pgtable.h).
    #[inline]
    pub fn pte_special(&self, pte: u64) -> bool {
        self.pte_flags(pte) & _PAGE_SPECIAL != 0
    }

    /// `pte_devmap()` (pgtable.h under `CONFIG_ARCH_HAS_PTE_DEVMAP`, else
    /// the generic stub returning 0 in `include/linux/mm.h`).
    #[inline]
    pub fn pte_devmap(&self, pte: u64) -> bool {
        self.has_devmap && self.pte_flags(pte) & self.devmap == self.devmap
    }

    /// `pte_soft_dirty()` (pgtable.h under `CONFIG_HAVE_ARCH_SOFT_DIRTY`,
    /// else the generic stub returning 0).
    #[inline]
    pub fn pte_soft_dirty(&self, pte: u64) -> bool {
        self.has_soft_dirty && self.pte_flags(pte) & self.soft_dirty != 0
    }

    /// `pte_uffd_wp()` (pgtable.h under `CONFIG_HAVE_ARCH_USERFAULTFD_WP`,
    /// else `include/asm-generic/pgtable_uffd.h` returns 0).
    #[inline]
    pub fn pte_uffd_wp(&self, pte: u64) -> bool {
        self.has_uffd_wp && self.pte_flags(pte) & self.uffd_wp != 0
    }

    /// `pte_set_flags()` (pgtable.h).
    #[inline]
    pub fn set_flags(&self, v: u64, set: u64) -> u64 {
        self.v(v | set)
    }

    /// `pte_clear_flags()` (pgtable.h).
    #[inline]
    pub fn clear_flags(&self, v: u64, clear: u64) -> u64 {
        self.v(v & !clear)
    }

    /// `pte_mkdirty()` (pgtable.h, v6.6): set DIRTY and SOFT_DIRTY, then
    /// `mksaveddirty_shift()` (so a read-only pte gets SAVED_DIRTY).
    #[inline]
    pub fn pte_mkdirty(&self, pte: u64) -> u64 {
        self.mksaveddirty_shift(self.set_flags(pte, _PAGE_DIRTY | self.soft_dirty))
    }

    /// `pte_mkclean()` (pgtable.h, v6.6): clears `_PAGE_DIRTY_BITS`.
    #[inline]
    pub fn pte_mkclean(&self, pte: u64) -> u64 {
        self.clear_flags(pte, self.dirty_bits())
    }

    /// `pte_wrprotect()` (pgtable.h, v6.6): clear RW, then
    /// `mksaveddirty_shift()`.
    #[inline]
    pub fn pte_wrprotect(&self, pte: u64) -> u64 {
        self.mksaveddirty_shift(self.clear_flags(pte, _PAGE_RW))
    }

    /// `pte_mkwrite()` (`arch/x86/mm/pgtable.c`, v6.6) for a VMA without
    /// `VM_SHADOW_STACK`: `pte_mkwrite_novma()` then
    /// `pte_clear_saveddirty()`.
    #[inline]
    pub fn pte_mkwrite(&self, pte: u64) -> u64 {
        self.clear_saveddirty_shift(self.set_flags(pte, _PAGE_RW))
    }

    /// `pte_mkuffd_wp()` (pgtable.h): `pte_wrprotect(pte | _PAGE_UFFD_WP)`;
    /// the identity without `CONFIG_HAVE_ARCH_USERFAULTFD_WP`
    /// (`include/asm-generic/pgtable_uffd.h`).
    #[inline]
    pub fn pte_mkuffd_wp(&self, pte: u64) -> u64 {
        if self.has_uffd_wp {
            self.pte_wrprotect(self.set_flags(pte, self.uffd_wp))
        } else {
            self.v(pte)
        }
    }

    // ---- swap (pgtable_64.h, pgtable-3level.h, pgtable-2level.h) ------

    /// `__swp_entry(type, offset)`.
    #[inline]
    pub fn swp_entry(&self, ty: u64, offset: u64) -> u64 {
        match self.mode {
            // (~offset << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) | type << 59
            X86Mode::X86_64 => Self::swp_pteval_entry(ty, offset),
            // ((type) & _SWP_TYPE_MASK) | (offset) << SWP_TYPE_BITS, in an
            // unsigned long.
            X86Mode::Pae => {
                ((ty & _SWP_TYPE_MASK) | ((offset & self.ulong_mask) << SWP_TYPE_BITS))
                    & self.ulong_mask
            }
            // ((type & _SWP_TYPE_MASK) << _SWP_TYPE_SHIFT) |
            // (offset << SWP_OFFSET_SHIFT), in an unsigned long.
            X86Mode::X86_32 => {
                (((ty & _SWP_TYPE_MASK) << _SWP_TYPE_SHIFT_2LEVEL)
                    | ((offset & self.ulong_mask) << SWP_OFFSET_FIRST_BIT))
                    & self.ulong_mask
            }
        }
    }

    /// The 64-bit form shared by x86_64 `__swp_entry()` (pgtable_64.h) and
    /// PAE `__swp_pteval_entry()` (pgtable-3level.h).
    #[inline]
    pub fn swp_pteval_entry(ty: u64, offset: u64) -> u64 {
        ((!offset) << SWP_OFFSET_SHIFT >> SWP_TYPE_BITS) | (ty << (64 - SWP_TYPE_BITS))
    }

    /// `__swp_type(entry)`.
    #[inline]
    pub fn swp_type(&self, e: u64) -> u64 {
        match self.mode {
            X86Mode::X86_64 => e >> (64 - SWP_TYPE_BITS),
            X86Mode::Pae => e & self.ulong_mask & _SWP_TYPE_MASK,
            X86Mode::X86_32 => ((e & self.ulong_mask) >> _SWP_TYPE_SHIFT_2LEVEL) & _SWP_TYPE_MASK,
        }
    }

    /// `__swp_offset(entry)`.
    #[inline]
    pub fn swp_offset(&self, e: u64) -> u64 {
        match self.mode {
            X86Mode::X86_64 => (!e) << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT,
            X86Mode::Pae => (e & self.ulong_mask) >> SWP_TYPE_BITS,
            X86Mode::X86_32 => (e & self.ulong_mask) >> SWP_OFFSET_FIRST_BIT,
        }
    }

    /// `__swp_entry_to_pte(entry)`: the raw value on x86_64 and 2-level;
    /// on PAE `__swp_pteval_entry(__swp_type(x), __swp_offset(x))`.
    #[inline]
    pub fn swp_entry_to_pte(&self, e: u64) -> u64 {
        match self.mode {
            X86Mode::X86_64 => e,
            X86Mode::Pae => Self::swp_pteval_entry(self.swp_type(e), self.swp_offset(e)),
            X86Mode::X86_32 => e & self.ulong_mask,
        }
    }

    /// `__pte_to_swp_entry(pte)`: the raw value on x86_64 and 2-level
    /// (`pte_low`); on PAE `__swp_entry(__pteval_swp_type(pte),
    /// __pteval_swp_offset(pte))`, both `unsigned long`.
    #[inline]
    pub fn pte_to_swp_entry(&self, pte: u64) -> u64 {
        match self.mode {
            X86Mode::X86_64 => pte,
            X86Mode::Pae => {
                let ty = (pte >> (64 - SWP_TYPE_BITS)) & self.ulong_mask;
                let off = ((!pte) << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT) & self.ulong_mask;
                self.swp_entry(ty, off)
            }
            X86Mode::X86_32 => pte & self.ulong_mask,
        }
    }

    // ---- pmd (pgtable.h) ---------------------------------------------

    /// `pfn_pmd()` (pgtable.h): `PHYSICAL_PMD_PAGE_MASK`, inverted when
    /// not present.
    #[inline]
    pub fn pfn_pmd(&self, pfn: u64, prot: u64) -> u64 {
        let mut pa = self.pfn_to_phys(pfn);
        pa ^= self.protnone_mask(self.v(prot));
        pa &= self.pmd_page_mask;
        self.v(pa | self.check_pgprot(prot))
    }

    /// `pmd_pfn()` (pgtable.h).
    #[inline]
    pub fn pmd_pfn(&self, pmd: u64) -> u64 {
        let v = self.v(pmd);
        (((v ^ self.protnone_mask(v)) & self.pmd_pfn_mask(v)) >> PAGE_SHIFT) & self.ulong_mask
    }

    /// `pmd_modify()` (pgtable.h, v6.6): keeps `_HPAGE_CHG_MASK &
    /// ~_PAGE_DIRTY`, then the SavedDirty exercise keyed on the old RW.
    #[inline]
    pub fn pmd_modify(&self, pmd: u64, prot: u64) -> u64 {
        let oldval = self.v(pmd);
        let mut val = oldval & (self.hpage_chg_mask() & !_PAGE_DIRTY);
        val |= self.check_pgprot(prot) & !self.hpage_chg_mask();
        val = self.flip_protnone_guard(oldval, val, self.pmd_page_mask);
        if oldval & _PAGE_RW != 0 {
            self.mksaveddirty_shift(val)
        } else {
            self.clear_saveddirty_shift(val)
        }
    }

    /// `pmd_none()` (pgtable.h): "Only check low word on 32-bit platforms"
    /// (`unsigned long val = native_pmd_val(pmd)`).
    #[inline(always)]
    pub fn pmd_none(&self, pmd: u64) -> bool {
        (self.v(pmd) & self.ulong_mask) & !self.knl_erratum_mask == 0
    }

    /// `pmd_present()` (pgtable.h): P, PROTNONE or PSE.
    #[inline(always)]
    pub fn pmd_present(&self, pmd: u64) -> bool {
        self.pmd_flags(pmd) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE) != 0
    }

    /// `pmd_bad()` (pgtable.h): flags without USER and ACCESSED must be
    /// exactly `_KERNPG_TABLE & ~_PAGE_ACCESSED` (P|RW|D).
    #[inline(always)]
    pub fn pmd_bad(&self, pmd: u64) -> bool {
        self.pmd_flags(pmd) & !(_PAGE_USER | _PAGE_ACCESSED) != (_KERNPG_TABLE & !_PAGE_ACCESSED)
    }

    /// `pmd_leaf()` = `pmd_large()` (pgtable.h, v6.6): `_PAGE_PSE`.
    #[inline(always)]
    pub fn pmd_leaf(&self, pmd: u64) -> bool {
        self.pmd_flags(pmd) & _PAGE_PSE != 0
    }

    /// `pmd_trans_huge()` (pgtable.h): PSE without DEVMAP.
    #[inline]
    pub fn pmd_trans_huge(&self, pmd: u64) -> bool {
        self.v(pmd) & (_PAGE_PSE | self.devmap) == _PAGE_PSE
    }

    /// `pmd_devmap()` (pgtable.h with `CONFIG_ARCH_HAS_PTE_DEVMAP`, else the
    /// generic stub returning 0).
    #[inline]
    pub fn pmd_devmap(&self, pmd: u64) -> bool {
        self.has_devmap && self.v(pmd) & self.devmap != 0
    }

    /// `pmd_protnone()` (pgtable.h under `CONFIG_NUMA_BALANCING`).
    #[inline]
    pub fn pmd_protnone(&self, pmd: u64) -> bool {
        self.numa_balancing
            && self.pmd_flags(pmd) & (_PAGE_PROTNONE | _PAGE_PRESENT) == _PAGE_PROTNONE
    }

    /// `pmd_mkinvalid()` (pgtable.h): rebuilt from its pfn with P and
    /// PROTNONE cleared (PSE stays, and the pfn gets inverted).
    #[inline]
    pub fn pmd_mkinvalid(&self, pmd: u64) -> u64 {
        self.pfn_pmd(
            self.pmd_pfn(pmd),
            self.pmd_flags(pmd) & !(_PAGE_PRESENT | _PAGE_PROTNONE),
        )
    }

    /// `pmd_populate()` (`asm/pgalloc.h`): `(pfn << PAGE_SHIFT) |
    /// _PAGE_TABLE`, `pfn` an `unsigned long`.
    #[inline]
    pub fn pmd_populate(&self, table_pa: u64) -> u64 {
        self.v(self.pfn_to_phys(table_pa >> PAGE_SHIFT) | _PAGE_TABLE)
    }

    /// `pmd_page_vaddr()` as a physical address (pgtable.h):
    /// `pmd_val & pmd_pfn_mask(pmd)`.
    #[inline(always)]
    pub fn pmd_table_pa(&self, pmd: u64) -> u64 {
        self.v(pmd) & self.pmd_pfn_mask(pmd)
    }

    // ---- pud (pgtable.h) ---------------------------------------------

    /// `pfn_pud()` (pgtable.h).
    #[inline]
    pub fn pfn_pud(&self, pfn: u64, prot: u64) -> u64 {
        let mut pa = self.pfn_to_phys(pfn);
        pa ^= self.protnone_mask(self.v(prot));
        pa &= self.pud_page_mask;
        self.native_pud_val(pa | self.check_pgprot(prot))
    }

    /// `pud_pfn()` (pgtable.h).
    #[inline]
    pub fn pud_pfn(&self, pud: u64) -> u64 {
        let v = self.native_pud_val(pud);
        (((v ^ self.protnone_mask(v)) & self.pud_pfn_mask(v)) >> PAGE_SHIFT) & self.ulong_mask
    }

    /// `pud_none()` (pgtable.h, `CONFIG_PGTABLE_LEVELS > 2`).
    #[inline(always)]
    pub fn pud_none(&self, pud: u64) -> bool {
        self.native_pud_val(pud) & !self.knl_erratum_mask == 0
    }

    /// `pud_present()` (pgtable.h, `CONFIG_PGTABLE_LEVELS > 2`).
    #[inline]
    pub fn pud_present(&self, pud: u64) -> bool {
        self.pud_flags(pud) & _PAGE_PRESENT != 0
    }

    /// `pud_bad()` (pgtable.h, `CONFIG_PGTABLE_LEVELS > 2`): any flag
    /// outside `_KERNPG_TABLE | _PAGE_USER`.
    #[inline(always)]
    pub fn pud_bad(&self, pud: u64) -> bool {
        self.pud_flags(pud) & !(_KERNPG_TABLE | _PAGE_USER) != 0
    }

    /// `pud_leaf()` = `pud_large()` (pgtable.h, `CONFIG_PGTABLE_LEVELS >
    /// 2`): PSE and PRESENT.
    #[inline(always)]
    pub fn pud_leaf(&self, pud: u64) -> bool {
        self.native_pud_val(pud) & (_PAGE_PSE | _PAGE_PRESENT) == (_PAGE_PSE | _PAGE_PRESENT)
    }

    /// `pud_trans_huge()` (pgtable.h): PSE without DEVMAP.
    #[inline]
    pub fn pud_trans_huge(&self, pud: u64) -> bool {
        self.native_pud_val(pud) & (_PAGE_PSE | self.devmap) == _PAGE_PSE
    }

    /// `pud_set_flags()` (pgtable.h).
    #[inline]
    pub fn pud_set_flags(&self, pud: u64, set: u64) -> u64 {
        self.native_pud_val(pud | set)
    }

    /// `pud_clear_flags()` (pgtable.h).
    #[inline]
    pub fn pud_clear_flags(&self, pud: u64, clear: u64) -> u64 {
        self.native_pud_val(pud & !clear)
    }

    // ---- p4d (pgtable.h, `CONFIG_PGTABLE_LEVELS > 3`) -----------------

    /// `p4d_none()` (pgtable.h).
    #[inline(always)]
    pub fn p4d_none(&self, p4d: u64) -> bool {
        self.native_pud_val(p4d) & !self.knl_erratum_mask == 0
    }

    /// `p4d_present()` (pgtable.h).
    #[inline]
    pub fn p4d_present(&self, p4d: u64) -> bool {
        self.p4d_flags(p4d) & _PAGE_PRESENT != 0
    }

    /// `p4d_bad()` (pgtable.h): flags outside `_KERNPG_TABLE | _PAGE_USER`,
    /// and also `_PAGE_NX` being ignored with
    /// `CONFIG_PAGE_TABLE_ISOLATION=y`.
    #[inline(always)]
    pub fn p4d_bad(&self, p4d: u64) -> bool {
        let ignore = _KERNPG_TABLE | _PAGE_USER | self.nx;
        self.p4d_flags(p4d) & !ignore != 0
    }

    // ---- protections (pgtable_types.h, arch/x86/mm/pgprot.c) ---------

    /// `PAGE_NONE` = PROTNONE|ACCESSED (pgtable_types.h).
    #[inline]
    pub fn page_none(&self) -> u64 {
        _PAGE_PROTNONE | _PAGE_ACCESSED
    }

    /// `PAGE_SHARED` = P|RW|USER|A|NX (pgtable_types.h).
    #[inline]
    pub fn page_shared(&self) -> u64 {
        _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | self.nx
    }

    /// `PAGE_SHARED_EXEC` = P|RW|USER|A (pgtable_types.h).
    #[inline]
    pub fn page_shared_exec(&self) -> u64 {
        _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED
    }

    /// `PAGE_COPY` = `PAGE_COPY_NOEXEC` = `PAGE_READONLY` = P|USER|A|NX
    /// (pgtable_types.h).
    #[inline]
    pub fn page_readonly(&self) -> u64 {
        _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | self.nx
    }

    /// `PAGE_COPY_EXEC` = `PAGE_READONLY_EXEC` = P|USER|A (pgtable_types.h).
    #[inline]
    pub fn page_readonly_exec(&self) -> u64 {
        _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED
    }

    /// `vm_get_page_prot()` (`arch/x86/mm/pgprot.c`): `protection_map[]`
    /// indexed by READ|WRITE|EXEC|SHARED, pkey 0, `__sme_set()` a no-op,
    /// and a present value masked with `__supported_pte_mask` (all ones).
    #[inline]
    pub fn vm_get_page_prot(&self, flags: u8) -> u64 {
        let val = match flags & 0xf {
            0x0 | 0x8 => self.page_none(),
            // VM_READ, VM_WRITE, VM_WRITE|VM_READ (private: PAGE_COPY), and
            // VM_SHARED|VM_READ.
            0x1..=0x3 | 0x9 => self.page_readonly(),
            // VM_EXEC with or without READ/WRITE (private: PAGE_COPY_EXEC),
            // VM_SHARED|VM_EXEC, VM_SHARED|VM_EXEC|VM_READ.
            0x4..=0x7 | 0xc | 0xd => self.page_readonly_exec(),
            0xa | 0xb => self.page_shared(),
            _ => self.page_shared_exec(),
        };
        // arch/x86/mm/pgprot.c holds the value in an `unsigned long val`:
        // 32 bits on PAE, so the NX bit (63) of protection_map[] is dropped
        // there (found by the kernel oracle; still so in 6.12).
        self.check_pgprot(val & self.ulong_mask)
    }
}
