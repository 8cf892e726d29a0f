//! sparc64 entry encodings as of Linux v6.6: bit constants and the helper
//! bodies on raw values.
//!
//! A Linux pte on sparc64 *is* a TTE data word (the value the TSB and the TLB
//! hold), with software bits in the spare fields.  Two layouts exist, sun4u
//! (UltraSPARC I-IV, the MMU loaded by `stxa` to `ASI_DTLB_DATA_IN`) and
//! sun4v (UltraSPARC T1 and later, under the hypervisor).  The kernel is
//! compiled for sun4u and, on a sun4v machine, rewrites the helpers at boot
//! from the `.sun4v_1insn_patch`/`.sun4v_2insn_patch` tables; the protection
//! values are run-time variables set by `sun4u_pgprot_init()` or
//! `sun4v_pgprot_init()` (`arch/sparc/mm/init_64.c`).  [`Layout`] holds one
//! layout's masks, and its methods are the helper bodies, written from the
//! v6.6 definitions named in each doc comment (headers under
//! `arch/sparc/include/asm/`).
//!
//! # Boot-time and Kconfig assumptions
//!
//! * `sparc64_defconfig` with `CONFIG_TRANSPARENT_HUGEPAGE=y` (and
//!   `CONFIG_HUGETLB_PAGE=y`, which only adds the pud-huge patch site of the
//!   TLB-miss walk; 16G hugetlb pages are not set up, so it stays unpatched).
//! * sun4v: a T4-class chip (`SUN4V_CHIP_NIAGARA4`/5, SPARC64-X, M6), so
//!   `page_cache4v_flag` is `_PAGE_CP_4V | _PAGE_CV_4V` (on M7/M8 it is
//!   `_PAGE_CP_4V` alone, bit 9 being `_PAGE_MCD_4V`), the VA hole starts at
//!   `0x0008000000000000` and `max_phys_bits` is 47 (`setup_page_offset()`).
//! * sun4u: a Cheetah+/Panther (UltraSPARC III+/IV, Unicorn's default CPU),
//!   VA hole from `0x0010000000000000`, `max_phys_bits` 42.
//! * Not selected by sparc64: `HAVE_ARCH_SOFT_DIRTY`, `ARCH_HAS_PTE_DEVMAP`,
//!   `ARCH_SUPPORTS_NUMA_BALANCING`, `HAVE_ARCH_USERFAULTFD_WP`,
//!   `ARCH_ENABLE_THP_MIGRATION`, `HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`; so the
//!   generic stubs of `include/linux/pgtable.h` apply to those helpers.
//!   Selected: `ARCH_HAS_PTE_SPECIAL` (arch/sparc/Kconfig).

/// `PAGE_SHIFT` (page_64.h): 8K pages.
pub const PAGE_SHIFT: u32 = 13;
/// `PAGE_SIZE` (page_64.h).
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
/// `~PAGE_MASK`: the bits `pmd_bad()`/`pud_bad()`/`p4d_bad()` reject
/// (pgtable_64.h).
pub const PAGE_OFFSET_MASK: u64 = PAGE_SIZE - 1;
/// `PMD_BITS` = `PUD_BITS` = `PGDIR_BITS` = `PAGE_SHIFT - 3` (pgtable_64.h):
/// every table is one 8K page of 1024 8-byte entries.
pub const LEVEL_BITS: u32 = PAGE_SHIFT - 3;
/// `PTRS_PER_PTE` = `PTRS_PER_PMD` = `PTRS_PER_PUD` = `PTRS_PER_PGD`
/// (pgtable_64.h).
pub const PTRS_PER_TABLE: u32 = 1 << LEVEL_BITS;
/// `PMD_SHIFT` = `PAGE_SHIFT + (PAGE_SHIFT - 3)` (pgtable_64.h): 8M.
pub const PMD_SHIFT: u32 = PAGE_SHIFT + LEVEL_BITS;
/// `PUD_SHIFT` = `PMD_SHIFT + PMD_BITS` (pgtable_64.h): 8G.
pub const PUD_SHIFT: u32 = PMD_SHIFT + LEVEL_BITS;
/// `PGDIR_SHIFT` = `PUD_SHIFT + PUD_BITS` (pgtable_64.h); `PGDIR_SHIFT +
/// PGDIR_BITS` must be 53 (a `#error` there).
pub const PGDIR_SHIFT: u32 = PUD_SHIFT + LEVEL_BITS;
/// `HPAGE_SHIFT` (page_64.h): the THP size, 8M, equal to `PMD_SHIFT`.
pub const HPAGE_SHIFT: u32 = 23;
/// `REAL_HPAGE_SHIFT` (page_64.h): an 8M huge page is two 4M TTEs.
pub const REAL_HPAGE_SHIFT: u32 = 22;
/// `MAX_PHYS_ADDRESS_BITS` (page_64.h).
pub const MAX_PHYS_ADDRESS_BITS: u32 = 53;

// ---- bits common to both layouts (pgtable_64.h) ----------------------

/// `_PAGE_VALID` (pgtable_64.h): bit 63, the TTE's V bit.  The TLB-miss
/// handler loads a pte only with it set (`brgez` in `USER_PGTABLE_WALK_TL1`).
pub const _PAGE_VALID: u64 = 0x8000_0000_0000_0000;
/// `_PAGE_R` (pgtable_64.h): "keep ref bit uptodate": the same bit as V, so
/// a pte is valid to the MMU only while it is young.
pub const _PAGE_R: u64 = 0x8000_0000_0000_0000;
/// `_PAGE_SPECIAL` (pgtable_64.h): bit 57, software.
pub const _PAGE_SPECIAL: u64 = 0x0200_0000_0000_0000;
/// `_PAGE_PMD_HUGE` (pgtable_64.h): bit 56, software: a huge pmd (or pud).
pub const _PAGE_PMD_HUGE: u64 = 0x0100_0000_0000_0000;
/// `_PAGE_PUD_HUGE` = `_PAGE_PMD_HUGE` (pgtable_64.h).
pub const _PAGE_PUD_HUGE: u64 = _PAGE_PMD_HUGE;
/// `_PAGE_SWP_EXCLUSIVE` (pgtable_64.h, v6.3+): bit 20 of a swap pte.
pub const _PAGE_SWP_EXCLUSIVE: u64 = 0x0000_0000_0010_0000;

// ---- sun4u (pgtable_64.h) --------------------------------------------

/// `_PAGE_SZ4MB_4U` (pgtable_64.h).
pub const _PAGE_SZ4MB_4U: u64 = 0x6000_0000_0000_0000;
/// `_PAGE_SZ512K_4U` (pgtable_64.h).
pub const _PAGE_SZ512K_4U: u64 = 0x4000_0000_0000_0000;
/// `_PAGE_SZ64K_4U` (pgtable_64.h).
pub const _PAGE_SZ64K_4U: u64 = 0x2000_0000_0000_0000;
/// `_PAGE_SZ8K_4U` (pgtable_64.h).
pub const _PAGE_SZ8K_4U: u64 = 0;
/// `_PAGE_NFO_4U` (pgtable_64.h): no-fault only.
pub const _PAGE_NFO_4U: u64 = 0x1000_0000_0000_0000;
/// `_PAGE_IE_4U` (pgtable_64.h): invert endianness.
pub const _PAGE_IE_4U: u64 = 0x0800_0000_0000_0000;
/// `_PAGE_SOFT2_4U` (pgtable_64.h): software bits, set 2 (holds SPECIAL and
/// PMD_HUGE).
pub const _PAGE_SOFT2_4U: u64 = 0x07FC_0000_0000_0000;
/// `_PAGE_RES1_4U` (pgtable_64.h): reserved.
pub const _PAGE_RES1_4U: u64 = 0x0002_0000_0000_0000;
/// `_PAGE_SZ32MB_4U` (pgtable_64.h): Panther 32M page.
pub const _PAGE_SZ32MB_4U: u64 = 0x0001_0000_0000_0000;
/// `_PAGE_SZ256MB_4U` (pgtable_64.h): Panther 256M page.
pub const _PAGE_SZ256MB_4U: u64 = 0x2001_0000_0000_0000;
/// `_PAGE_SZALL_4U` (pgtable_64.h): every page-size bit.
pub const _PAGE_SZALL_4U: u64 = 0x6001_0000_0000_0000;
/// `_PAGE_SN_4U` (pgtable_64.h): Cheetah snoop.
pub const _PAGE_SN_4U: u64 = 0x0000_8000_0000_0000;
/// `_PAGE_RES2_4U` (pgtable_64.h): reserved.
pub const _PAGE_RES2_4U: u64 = 0x0000_7800_0000_0000;
/// `_PAGE_PADDR_4U` (pgtable_64.h): PA\[42:13\].
pub const _PAGE_PADDR_4U: u64 = 0x0000_07FF_FFFF_E000;
/// `_PAGE_SOFT_4U` (pgtable_64.h): software bits 7-12.
pub const _PAGE_SOFT_4U: u64 = 0x1F80;
/// `_PAGE_EXEC_4U` (pgtable_64.h): executable, software.
pub const _PAGE_EXEC_4U: u64 = 0x1000;
/// `_PAGE_MODIFIED_4U` (pgtable_64.h): dirty, software.
pub const _PAGE_MODIFIED_4U: u64 = 0x0800;
/// `_PAGE_ACCESSED_4U` (pgtable_64.h): referenced, software.
pub const _PAGE_ACCESSED_4U: u64 = 0x0400;
/// `_PAGE_READ_4U` (pgtable_64.h): readable, software.
pub const _PAGE_READ_4U: u64 = 0x0200;
/// `_PAGE_WRITE_4U` (pgtable_64.h): writable, software.
pub const _PAGE_WRITE_4U: u64 = 0x0100;
/// `_PAGE_PRESENT_4U` (pgtable_64.h): present, software.
pub const _PAGE_PRESENT_4U: u64 = 0x0080;
/// `_PAGE_L_4U` (pgtable_64.h): locked TTE.
pub const _PAGE_L_4U: u64 = 0x0040;
/// `_PAGE_CP_4U` (pgtable_64.h): cacheable in the P-cache.
pub const _PAGE_CP_4U: u64 = 0x0020;
/// `_PAGE_CV_4U` (pgtable_64.h): cacheable in the V-cache.
pub const _PAGE_CV_4U: u64 = 0x0010;
/// `_PAGE_E_4U` (pgtable_64.h): side effect.
pub const _PAGE_E_4U: u64 = 0x0008;
/// `_PAGE_P_4U` (pgtable_64.h): privileged page.
pub const _PAGE_P_4U: u64 = 0x0004;
/// `_PAGE_W_4U` (pgtable_64.h): writable, the hardware bit.
pub const _PAGE_W_4U: u64 = 0x0002;
/// Bit 0 of a sun4u TTE: G (global); Linux defines no name for it.
pub const TTE_G_4U: u64 = 0x0001;

// ---- sun4v (pgtable_64.h) --------------------------------------------

/// `_PAGE_NFO_4V` (pgtable_64.h): no-fault only.
pub const _PAGE_NFO_4V: u64 = 0x4000_0000_0000_0000;
/// `_PAGE_SOFT2_4V` (pgtable_64.h): software bits, set 2.
pub const _PAGE_SOFT2_4V: u64 = 0x3F00_0000_0000_0000;
/// `_PAGE_MODIFIED_4V` (pgtable_64.h): dirty, software.
pub const _PAGE_MODIFIED_4V: u64 = 0x2000_0000_0000_0000;
/// `_PAGE_ACCESSED_4V` (pgtable_64.h): referenced, software.
pub const _PAGE_ACCESSED_4V: u64 = 0x1000_0000_0000_0000;
/// `_PAGE_READ_4V` (pgtable_64.h): readable, software.
pub const _PAGE_READ_4V: u64 = 0x0800_0000_0000_0000;
/// `_PAGE_WRITE_4V` (pgtable_64.h): writable, software.
pub const _PAGE_WRITE_4V: u64 = 0x0400_0000_0000_0000;
/// `_PAGE_PADDR_4V` (pgtable_64.h): PA\[55:13\].
pub const _PAGE_PADDR_4V: u64 = 0x00FF_FFFF_FFFF_E000;
/// `_PAGE_IE_4V` (pgtable_64.h): invert endianness.
pub const _PAGE_IE_4V: u64 = 0x1000;
/// `_PAGE_E_4V` (pgtable_64.h): side effect.
pub const _PAGE_E_4V: u64 = 0x0800;
/// `_PAGE_CP_4V` (pgtable_64.h): cacheable in the P-cache.
pub const _PAGE_CP_4V: u64 = 0x0400;
/// `_PAGE_CV_4V` (pgtable_64.h): cacheable in the V-cache; the same bit is
/// `_PAGE_MCD_4V` on M7.
pub const _PAGE_CV_4V: u64 = 0x0200;
/// `_PAGE_MCD_4V` (pgtable_64.h): memory corruption detection (M7), bit 9.
pub const _PAGE_MCD_4V: u64 = 0x0200;
/// `_PAGE_P_4V` (pgtable_64.h): privileged page.
pub const _PAGE_P_4V: u64 = 0x0100;
/// `_PAGE_EXEC_4V` (pgtable_64.h): executable, the hardware bit.
pub const _PAGE_EXEC_4V: u64 = 0x0080;
/// `_PAGE_W_4V` (pgtable_64.h): writable, the hardware bit.
pub const _PAGE_W_4V: u64 = 0x0040;
/// `_PAGE_SOFT_4V` (pgtable_64.h): software bits 4-5.
pub const _PAGE_SOFT_4V: u64 = 0x0030;
/// `_PAGE_PRESENT_4V` (pgtable_64.h): present, software.
pub const _PAGE_PRESENT_4V: u64 = 0x0010;
/// `_PAGE_RESV_4V` (pgtable_64.h): reserved.
pub const _PAGE_RESV_4V: u64 = 0x0008;
/// `_PAGE_SZ4MB_4V` (pgtable_64.h); the other sizes are 8K << 3n for n in
/// 0..8 (`_PAGE_SZ8K_4V` 0 ... `_PAGE_SZ16GB_4V` 7).
pub const _PAGE_SZ4MB_4V: u64 = 0x0003;
/// `_PAGE_SZALL_4V` (pgtable_64.h): the size field.
pub const _PAGE_SZALL_4V: u64 = 0x0007;

// ---- swap ptes (pgtable_64.h, v6.3+) ---------------------------------

/// `__swp_type()` mask (pgtable_64.h, v6.3+: 7 bits, was 8).
pub const SWP_TYPE_MASK: u64 = 0x7f;
/// `__swp_offset()` shift: `PAGE_SHIFT + 8` (pgtable_64.h).
pub const SWP_OFFSET_SHIFT: u32 = PAGE_SHIFT + 8;

/// Which TTE layout (`tlb_type == hypervisor` or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TteLayout {
    /// sun4u: UltraSPARC I-IV (`tlb_type` spitfire/cheetah/cheetah_plus).
    Sun4u,
    /// sun4v: under the hypervisor (`tlb_type == hypervisor`).
    Sun4v,
}

/// One layout's masks, resolved once; the methods are the helper bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The layout.
    pub tte: TteLayout,
    /// `_PAGE_PRESENT_4U`/`_4V`.
    pub present: u64,
    /// `_PAGE_ACCESSED_4U`/`_4V`.
    pub accessed: u64,
    /// `_PAGE_MODIFIED_4U`/`_4V`.
    pub modified: u64,
    /// `_PAGE_READ_4U`/`_4V`.
    pub read: u64,
    /// `_PAGE_WRITE_4U`/`_4V`.
    pub write: u64,
    /// `_PAGE_EXEC_4U`/`_4V`.
    pub exec: u64,
    /// `_PAGE_W_4U`/`_4V`: the hardware writable bit.
    pub hw_w: u64,
    /// `_PAGE_P_4U`/`_4V`.
    pub privileged: u64,
    /// `_PAGE_NFO_4U`/`_4V`.
    pub nfo: u64,
    /// `_PAGE_CP_4U`/`_4V`.
    pub cp: u64,
    /// `_PAGE_CV_4U`/`_4V`.
    pub cv: u64,
    /// `_PAGE_E_4U`/`_4V`.
    pub e: u64,
    /// `_PAGE_SZALL_4U`/`_4V`.
    pub szall: u64,
    /// `_PAGE_SZHUGE_4U`/`_4V` = the 4M size (`__pte_default_huge_mask()`).
    pub szhuge: u64,
    /// `_PAGE_PADDR_4U`/`_4V`.
    pub paddr: u64,
    /// `pte_pfn()`'s shifts: `sllx 21, srlx 21 + PAGE_SHIFT` (sun4u) or
    /// `sllx 8, srlx 8 + PAGE_SHIFT` (sun4v).
    pub pfn_shl: u32,
    /// `_PAGE_CACHE_4U` (`CP|CV`) or `page_cache4v_flag` (init_64.c).
    pub cache: u64,
}

/// The sun4u layout.
pub static SUN4U: Layout = Layout {
    tte: TteLayout::Sun4u,
    present: _PAGE_PRESENT_4U,
    accessed: _PAGE_ACCESSED_4U,
    modified: _PAGE_MODIFIED_4U,
    read: _PAGE_READ_4U,
    write: _PAGE_WRITE_4U,
    exec: _PAGE_EXEC_4U,
    hw_w: _PAGE_W_4U,
    privileged: _PAGE_P_4U,
    nfo: _PAGE_NFO_4U,
    cp: _PAGE_CP_4U,
    cv: _PAGE_CV_4U,
    e: _PAGE_E_4U,
    szall: _PAGE_SZALL_4U,
    szhuge: _PAGE_SZ4MB_4U,
    paddr: _PAGE_PADDR_4U,
    pfn_shl: 21,
    cache: _PAGE_CP_4U | _PAGE_CV_4U,
};

/// The sun4v layout (T4-class `page_cache4v_flag`).
pub static SUN4V: Layout = Layout {
    tte: TteLayout::Sun4v,
    present: _PAGE_PRESENT_4V,
    accessed: _PAGE_ACCESSED_4V,
    modified: _PAGE_MODIFIED_4V,
    read: _PAGE_READ_4V,
    write: _PAGE_WRITE_4V,
    exec: _PAGE_EXEC_4V,
    hw_w: _PAGE_W_4V,
    privileged: _PAGE_P_4V,
    nfo: _PAGE_NFO_4V,
    cp: _PAGE_CP_4V,
    cv: _PAGE_CV_4V,
    e: _PAGE_E_4V,
    szall: _PAGE_SZALL_4V,
    szhuge: _PAGE_SZ4MB_4V,
    paddr: _PAGE_PADDR_4V,
    pfn_shl: 8,
    cache: _PAGE_CP_4V | _PAGE_CV_4V,
};

impl Layout {
    /// The layout for `tte`.
    pub fn of(tte: TteLayout) -> &'static Layout {
        match tte {
            TteLayout::Sun4u => &SUN4U,
            TteLayout::Sun4v => &SUN4V,
        }
    }

    /// `__ACCESS_BITS_4U`/`_4V` (init_64.c): `ACCESSED | READ | _PAGE_R`.
    pub fn access_bits(&self) -> u64 {
        self.accessed | self.read | _PAGE_R
    }

    /// `__DIRTY_BITS_4U`/`_4V` (init_64.c): `MODIFIED | WRITE | W`.
    pub fn dirty_bits(&self) -> u64 {
        self.modified | self.write | self.hw_w
    }

    /// `page_none` of `sun4u_pgprot_init()`/`sun4v_pgprot_init()`:
    /// `PRESENT | ACCESSED | cache`; V is clear, so the TLB-miss handler
    /// refuses it and a PROT_NONE access reaches `do_sparc64_fault()`.
    pub fn page_none(&self) -> u64 {
        self.present | self.accessed | self.cache
    }

    /// `page_shared` (init_64.c): `V | PRESENT | cache | __ACCESS_BITS |
    /// WRITE | EXEC`.
    pub fn page_shared(&self) -> u64 {
        _PAGE_VALID | self.present | self.cache | self.access_bits() | self.write | self.exec
    }

    /// `page_copy` (init_64.c): `V | PRESENT | cache | __ACCESS_BITS | EXEC`.
    pub fn page_copy(&self) -> u64 {
        _PAGE_VALID | self.present | self.cache | self.access_bits() | self.exec
    }

    /// `page_readonly` (init_64.c): the same value as `page_copy`.
    pub fn page_readonly(&self) -> u64 {
        self.page_copy()
    }

    /// `PAGE_KERNEL` (init_64.c): `PRESENT | V | cache | P | __ACCESS_BITS |
    /// __DIRTY_BITS | EXEC`.
    pub fn page_kernel(&self) -> u64 {
        self.present
            | _PAGE_VALID
            | self.cache
            | self.privileged
            | self.access_bits()
            | self.dirty_bits()
            | self.exec
    }

    /// `__vm_get_page_prot()` (init_64.c, `ARCH_HAS_VM_GET_PAGE_PROT` since
    /// v6.0; the same table as `prot_init_common()` built before):
    /// `page_none` for no access, the read-only and private-write values
    /// without the exec bit unless `VM_EXEC`, `page_shared` only for
    /// `VM_SHARED | VM_WRITE`.
    pub fn vm_get_page_prot(&self, flags: u8) -> u64 {
        let exec_bit = self.exec;
        match flags & 0xf {
            0x0 | 0x8 => self.page_none(),
            0x1 | 0x9 => self.page_readonly() & !exec_bit,
            0x2 | 0x3 => self.page_copy() & !exec_bit,
            0x4 | 0x5 | 0xc | 0xd => self.page_readonly(),
            0x6 | 0x7 => self.page_copy(),
            0xa | 0xb => self.page_shared() & !exec_bit,
            _ => self.page_shared(),
        }
    }

    /// `pfn_pte()` (pgtable_64.h): `(pfn << PAGE_SHIFT) | prot`, no masking.
    pub fn pfn_pte(&self, pfn: u64, prot: u64) -> u64 {
        (pfn << PAGE_SHIFT) | prot
    }

    /// `pte_pfn()` (pgtable_64.h): two shifts keep the layout's PA field.
    pub fn pte_pfn(&self, v: u64) -> u64 {
        (v << self.pfn_shl) >> (self.pfn_shl + PAGE_SHIFT)
    }

    /// The mask `pte_modify()` keeps (pgtable_64.h): PADDR, MODIFIED,
    /// ACCESSED, CP, CV, E, SPECIAL, PMD_HUGE and the size bits.
    pub fn modify_keep(&self) -> u64 {
        self.paddr
            | self.modified
            | self.accessed
            | self.cp
            | self.cv
            | self.e
            | _PAGE_SPECIAL
            | _PAGE_PMD_HUGE
            | self.szall
    }

    /// `pte_modify()` (pgtable_64.h).
    pub fn pte_modify(&self, v: u64, prot: u64) -> u64 {
        let m = self.modify_keep();
        (v & m) | (prot & !m)
    }

    /// `pte_present()` (pgtable_64.h): the software PRESENT bit.
    pub fn pte_present(&self, v: u64) -> bool {
        v & self.present != 0
    }

    /// `pte_young()` (pgtable_64.h): ACCESSED.
    pub fn pte_young(&self, v: u64) -> bool {
        v & self.accessed != 0
    }

    /// `pte_dirty()` (pgtable_64.h): MODIFIED.
    pub fn pte_dirty(&self, v: u64) -> bool {
        v & self.modified != 0
    }

    /// `pte_write()` (pgtable_64.h): the software WRITE bit.
    pub fn pte_write(&self, v: u64) -> bool {
        v & self.write != 0
    }

    /// `pte_exec()` (pgtable_64.h): EXEC.
    pub fn pte_exec(&self, v: u64) -> bool {
        v & self.exec != 0
    }

    /// `__pte_mkhwwrite()` (pgtable_64.h, v6.6): set the hardware W bit.
    pub fn pte_mkhwwrite(&self, v: u64) -> u64 {
        v | self.hw_w
    }

    /// `pte_mkdirty()` (pgtable_64.h, v6.6): MODIFIED, and W only when the
    /// pte is writable.
    pub fn pte_mkdirty(&self, v: u64) -> u64 {
        let v = v | self.modified;
        if self.pte_write(v) {
            self.pte_mkhwwrite(v)
        } else {
            v
        }
    }

    /// `pte_mkclean()` (pgtable_64.h): clear MODIFIED and W.
    pub fn pte_mkclean(&self, v: u64) -> u64 {
        v & !(self.modified | self.hw_w)
    }

    /// `pte_mkwrite_novma()` (pgtable_64.h, v6.6): WRITE, and W only when
    /// the pte is dirty.
    pub fn pte_mkwrite_novma(&self, v: u64) -> u64 {
        let v = v | self.write;
        if self.pte_dirty(v) {
            self.pte_mkhwwrite(v)
        } else {
            v
        }
    }

    /// `pte_wrprotect()` (pgtable_64.h): clear WRITE and W.
    pub fn pte_wrprotect(&self, v: u64) -> u64 {
        v & !(self.write | self.hw_w)
    }

    /// `pte_mkold()` (pgtable_64.h): clear ACCESSED and `_PAGE_R` (= V).
    pub fn pte_mkold(&self, v: u64) -> u64 {
        v & !(self.accessed | _PAGE_R)
    }

    /// `pte_mkyoung()` (pgtable_64.h): set ACCESSED and `_PAGE_R` (= V).
    pub fn pte_mkyoung(&self, v: u64) -> u64 {
        v | self.accessed | _PAGE_R
    }

    /// `pte_mkhuge()` (pgtable_64.h): OR in `__pte_default_huge_mask()`, the
    /// 4M size.
    pub fn pte_mkhuge(&self, v: u64) -> u64 {
        v | self.szhuge
    }

    /// `pmd_mkhuge()` (pgtable_64.h): `pte_mkhuge()` plus `_PAGE_PMD_HUGE`.
    pub fn pmd_mkhuge(&self, v: u64) -> u64 {
        self.pte_mkhuge(v) | _PAGE_PMD_HUGE
    }

    /// What sparc64's `pmdp_invalidate()` stores (arch/sparc/mm/tlb.c,
    /// `__HAVE_ARCH_PMDP_INVALIDATE`): the pmd with `_PAGE_VALID` cleared.
    /// It stays `pmd_present()` (non-zero) and `pmd_trans_huge()`.
    pub fn pmd_mkinvalid(&self, v: u64) -> u64 {
        v & !_PAGE_VALID
    }

    /// `pmd_bad()`/`pud_bad()`/`p4d_bad()` (pgtable_64.h): `val &
    /// ~PAGE_MASK`.
    pub fn dir_bad(&self, v: u64) -> bool {
        v & PAGE_OFFSET_MASK != 0
    }

    /// `pmd_page_vaddr()`/`pud_pgtable()` as a physical address
    /// (pgtable_64.h): `pte_pfn(__pte(val)) << PAGE_SHIFT`.
    pub fn dir_table_pa(&self, v: u64) -> u64 {
        self.pte_pfn(v) << PAGE_SHIFT
    }

    /// `__swp_entry()` (pgtable_64.h, v6.3+).
    pub fn swp_entry(&self, ty: u64, offset: u64) -> u64 {
        ((ty & SWP_TYPE_MASK) << PAGE_SHIFT) | (offset << SWP_OFFSET_SHIFT)
    }

    /// `__swp_type()` (pgtable_64.h, v6.3+).
    pub fn swp_type(&self, v: u64) -> u64 {
        (v >> PAGE_SHIFT) & SWP_TYPE_MASK
    }

    /// `__swp_offset()` (pgtable_64.h).
    pub fn swp_offset(&self, v: u64) -> u64 {
        v >> SWP_OFFSET_SHIFT
    }

    /// `is_hugetlb_pte()` of init_64.c: the size field says 4M.
    pub fn is_hugetlb_pte(&self, v: u64) -> bool {
        v & self.szall == self.szhuge
    }

    /// The page shift the MMU uses for a TTE (its size field): sun4u bits
    /// 62:61 with Panther's bit 48 (8K, 64K, 512K, 4M; 32M, 256M); sun4v
    /// bits 2:0 (8K << 3n, up to 16G).
    pub fn tte_page_shift(&self, tte: u64) -> u32 {
        match self.tte {
            TteLayout::Sun4v => PAGE_SHIFT + 3 * (tte & _PAGE_SZALL_4V) as u32,
            TteLayout::Sun4u => {
                let sz = ((tte >> 61) & 3) as u32;
                if tte & _PAGE_SZ32MB_4U != 0 {
                    25 + 3 * sz
                } else {
                    PAGE_SHIFT + 3 * sz
                }
            }
        }
    }

    /// The physical address the MMU makes of `va` with `tte` in the TLB.
    pub fn tte_pa(&self, tte: u64, va: u64) -> u64 {
        let shift = self.tte_page_shift(tte);
        let mask = (1u64 << shift) - 1;
        (tte & self.paddr & !mask) | (va & mask)
    }
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
    //! Values the kernel oracle (`ptlab oracle test`) computed, pinned.
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
}
