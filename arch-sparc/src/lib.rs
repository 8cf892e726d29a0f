//! ptlab's sparc64 page tables with Linux v6.6's real entry encodings.
//!
//! Two configurations, the two TTE layouts Linux chooses between at boot by
//! patching its helpers ([`TteLayout`]):
//!
//! | name | layout | levels | entry |
//! |---|---|---|---|
//! | `sparc64` | sun4v (T4-class) | 4 (p4d folded), 1024 entries each, every table one 8K page | 8 B, big-endian |
//! | `sparc64-sun4u` | sun4u (Cheetah+/Panther) | the same | the same |
//!
//! A pte is a TTE data word; pmd, pud and pgd entries hold only the physical
//! address of the next table, and a huge pmd is a full TTE with the 4M size
//! and `_PAGE_PMD_HUGE` (8M THPs made of two 4M hardware pages).  Following
//! mm-core's folding rule, the pgd table's entries go through the `p4d_*`
//! helpers (`pgtable-nop4d.h`), and the `pgd_*` helpers are the folded ones.
//!
//! sparc64 has no hardware page-table walker: the TLB is refilled by the
//! trap handler from the TSB, or by walking the tables ([`tsb`]).  That path
//! runs as guest C code under Unicorn ([`emulate::SparcWalker`]), which is
//! this crate's [`HwWalker`].
//!
//! What the MMU accepts differs from Linux's view in two ways the model
//! states through the trait: a pte is loaded only with `_PAGE_VALID` (V,
//! bit 63, which is also `_PAGE_R`: set only while the pte is young, and
//! clear in `PAGE_NONE`), and a store needs the hardware W bit, which
//! `pte_mkdirty()`/`pte_mkwrite_novma()` set only when the pte is both
//! writable and dirty (a clean writable page takes a protection trap first,
//! which is how Linux tracks dirtiness here).

pub mod alloc;
pub mod emulate;
pub mod entry;
pub mod geometry;
pub mod tsb;

use std::sync::Arc;

use mm_core::arch::{
    ArchFeatures, FlagBit, FlagKind, Geometry, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry,
};
use mm_core::emulate::{EmuError, HwWalker};
use mm_core::{Arch, Machine, Mm, MmError};

pub use entry::TteLayout;
use entry::*;

/// One sparc64 configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sparc64 {
    layout: &'static Layout,
    geometry: Geometry,
}

impl Sparc64 {
    /// The configuration with TTE layout `tte`.
    pub fn new(tte: TteLayout) -> Sparc64 {
        Sparc64 {
            layout: Layout::of(tte),
            geometry: geometry::geometry(tte),
        }
    }

    /// The configuration names, as the CLI spells them.
    pub fn configurations() -> &'static [&'static str] {
        &["sparc64", "sparc64-sun4u"]
    }

    /// The configuration called `name` (see [`Sparc64::configurations`]).
    pub fn from_name(name: &str) -> Option<Sparc64> {
        [TteLayout::Sun4v, TteLayout::Sun4u]
            .into_iter()
            .map(Sparc64::new)
            .find(|s| s.geometry.name == name)
    }

    /// The layout's masks and raw helper bodies.
    pub fn layout(&self) -> &'static Layout {
        self.layout
    }

    /// Which TTE layout.
    pub fn tte_layout(&self) -> TteLayout {
        self.layout.tte
    }

    /// `pte_mkhuge()` (pgtable_64.h): OR in the 4M size bits.
    pub fn pte_mkhuge(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_mkhuge(pte.0))
    }

    /// `pte_accessible()` (pgtable_64.h): `_PAGE_VALID`.
    pub fn pte_accessible(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_VALID != 0
    }

    /// `pte_access_permitted()` (pgtable_64.h): PRESENT and P, plus WRITE
    /// for a write, and not SPECIAL... as the header has it: `(pte &
    /// (prot | _PAGE_SPECIAL)) == prot` with `prot = PRESENT | P [| WRITE]`.
    pub fn pte_access_permitted(&self, pte: Pte, write: bool) -> bool {
        let l = self.layout;
        let mut prot = l.present | l.privileged;
        if write {
            prot |= l.write;
        }
        pte.0 & (prot | _PAGE_SPECIAL) == prot
    }

    /// `PAGE_KERNEL` as `sun4u_pgprot_init()`/`sun4v_pgprot_init()` set it.
    pub fn page_kernel(&self) -> Pgprot {
        Pgprot(self.layout.page_kernel())
    }
}

macro_rules! flag {
    ($name:expr, $mask:expr, $doc:expr, $kind:ident) => {
        FlagBit {
            name: $name,
            mask: $mask,
            doc: $doc,
            kind: FlagKind::$kind,
        }
    };
}

/// `flag_bits()` of sun4v.
static FLAGS_SUN4V: &[FlagBit] = &[
    flag!("VALID", _PAGE_VALID, "bit 63, V: valid TTE; also _PAGE_R, set only while young; the TLB-miss walk loads only V=1 entries (pgtable_64.h)", Entry),
    flag!("NFO", _PAGE_NFO_4V, "bit 62: no-fault only (pgtable_64.h)", Entry),
    flag!("MODIFIED", _PAGE_MODIFIED_4V, "bit 61, SOFT2: dirty, software (pgtable_64.h)", Entry),
    flag!("ACCESSED", _PAGE_ACCESSED_4V, "bit 60, SOFT2: referenced, software (pgtable_64.h)", Entry),
    flag!("READ", _PAGE_READ_4V, "bit 59, SOFT2: readable, software (pgtable_64.h)", Entry),
    flag!("WRITE", _PAGE_WRITE_4V, "bit 58, SOFT2: writable, software; pte_write() (pgtable_64.h)", Entry),
    flag!("SPECIAL", _PAGE_SPECIAL, "bit 57, SOFT2: pte_special() (pgtable_64.h)", Entry),
    flag!("PMD_HUGE", _PAGE_PMD_HUGE, "bit 56, SOFT2: huge pmd/pud (= _PAGE_PUD_HUGE); pmd_trans_huge() (pgtable_64.h)", Entry),
    flag!("PADDR", _PAGE_PADDR_4V, "bits 55:13: physical address (pgtable_64.h)", Entry),
    flag!("IE", _PAGE_IE_4V, "bit 12: invert endianness (pgtable_64.h)", Entry),
    flag!("E", _PAGE_E_4V, "bit 11: side effect (pgtable_64.h)", Entry),
    flag!("CP", _PAGE_CP_4V, "bit 10: cacheable in the P-cache (pgtable_64.h)", Entry),
    flag!("CV", _PAGE_CV_4V, "bit 9: cacheable in the V-cache; _PAGE_MCD_4V on M7 (pgtable_64.h)", Entry),
    flag!("P", _PAGE_P_4V, "bit 8: privileged page (pgtable_64.h)", Entry),
    flag!("EXEC", _PAGE_EXEC_4V, "bit 7: executable, hardware X (pgtable_64.h)", Entry),
    flag!("W", _PAGE_W_4V, "bit 6: writable, the hardware bit; set only when WRITE and MODIFIED (pgtable_64.h)", Entry),
    flag!("SOFT", _PAGE_SOFT_4V, "bits 5:4: software bits (pgtable_64.h)", Entry),
    flag!("PRESENT", _PAGE_PRESENT_4V, "bit 4, SOFT: present, software; pte_present() (pgtable_64.h)", Entry),
    flag!("RESV", _PAGE_RESV_4V, "bit 3: reserved (pgtable_64.h)", Entry),
    flag!("SZ4MB", _PAGE_SZ4MB_4V, "bits 2:0 = 3: 4M page, _PAGE_SZHUGE_4V: pmd_mkhuge() (pgtable_64.h)", Leaf),
    flag!("SZ16GB", _PAGE_SZALL_4V, "bits 2:0 = 7: 16G page; the size field is 8K << 3n, 0 = 8K, 1 = 64K, 2 = 512K, 3 = 4M (pgtable_64.h)", Leaf),
    flag!("SWP_EXCLUSIVE", _PAGE_SWP_EXCLUSIVE, "bit 20 of a swap pte: PG_anon_exclusive, v6.3+ (pgtable_64.h)", Swap),
    flag!("SWP_TYPE", SWP_TYPE_MASK << PAGE_SHIFT, "bits 19:13 of a swap pte: the type (pgtable_64.h)", Swap),
];

/// `flag_bits()` of sun4u.
static FLAGS_SUN4U: &[FlagBit] = &[
    flag!("VALID", _PAGE_VALID, "bit 63, V: valid TTE; also _PAGE_R, set only while young; the TLB-miss walk loads only V=1 entries (pgtable_64.h)", Entry),
    flag!("SZ4MB", _PAGE_SZ4MB_4U, "bits 62:61 = 3: 4M page, _PAGE_SZHUGE_4U: pmd_mkhuge(); 1 = 64K, 2 = 512K, with bit 48 32M/256M (pgtable_64.h)", Leaf),
    flag!("NFO", _PAGE_NFO_4U, "bit 60: no-fault only (pgtable_64.h)", Entry),
    flag!("IE", _PAGE_IE_4U, "bit 59: invert endianness (pgtable_64.h)", Entry),
    flag!("SOFT2", _PAGE_SOFT2_4U, "bits 58:50: software bits, set 2 (pgtable_64.h)", Entry),
    flag!("SPECIAL", _PAGE_SPECIAL, "bit 57, SOFT2: pte_special() (pgtable_64.h)", Entry),
    flag!("PMD_HUGE", _PAGE_PMD_HUGE, "bit 56, SOFT2: huge pmd/pud (= _PAGE_PUD_HUGE); pmd_trans_huge() (pgtable_64.h)", Entry),
    flag!("RES1", _PAGE_RES1_4U, "bit 49: reserved (pgtable_64.h)", Entry),
    flag!("SZ32MB", _PAGE_SZ32MB_4U, "bit 48: Panther 32M page (with bit 61: 256M) (pgtable_64.h)", Leaf),
    flag!("SN", _PAGE_SN_4U, "bit 47: Cheetah snoop (pgtable_64.h)", Entry),
    flag!("RES2", _PAGE_RES2_4U, "bits 46:43: reserved (pgtable_64.h)", Entry),
    flag!("PADDR", _PAGE_PADDR_4U, "bits 42:13: physical address (Cheetah) (pgtable_64.h)", Entry),
    flag!("EXEC", _PAGE_EXEC_4U, "bit 12: executable, software (pgtable_64.h)", Entry),
    flag!("MODIFIED", _PAGE_MODIFIED_4U, "bit 11: dirty, software (pgtable_64.h)", Entry),
    flag!("ACCESSED", _PAGE_ACCESSED_4U, "bit 10: referenced, software (pgtable_64.h)", Entry),
    flag!("READ", _PAGE_READ_4U, "bit 9: readable, software (pgtable_64.h)", Entry),
    flag!("WRITE", _PAGE_WRITE_4U, "bit 8: writable, software; pte_write() (pgtable_64.h)", Entry),
    flag!("PRESENT", _PAGE_PRESENT_4U, "bit 7: present, software; pte_present() (pgtable_64.h)", Entry),
    flag!("L", _PAGE_L_4U, "bit 6: locked TTE (pgtable_64.h)", Entry),
    flag!("CP", _PAGE_CP_4U, "bit 5: cacheable in the P-cache (pgtable_64.h)", Entry),
    flag!("CV", _PAGE_CV_4U, "bit 4: cacheable in the V-cache (pgtable_64.h)", Entry),
    flag!("E", _PAGE_E_4U, "bit 3: side effect (pgtable_64.h)", Entry),
    flag!("P", _PAGE_P_4U, "bit 2: privileged page (pgtable_64.h)", Entry),
    flag!("W", _PAGE_W_4U, "bit 1: writable, the hardware bit; set only when WRITE and MODIFIED (pgtable_64.h)", Entry),
    flag!("G", TTE_G_4U, "bit 0: global, in the hardware TTE; unused by Linux (UltraSPARC TTE format)", Entry),
    flag!("SWP_EXCLUSIVE", _PAGE_SWP_EXCLUSIVE, "bit 20 of a swap pte: PG_anon_exclusive, v6.3+ (pgtable_64.h)", Swap),
    flag!("SWP_TYPE", SWP_TYPE_MASK << PAGE_SHIFT, "bits 19:13 of a swap pte: the type (pgtable_64.h)", Swap),
];

impl Arch for Sparc64 {
    /// No device-private or hwpoison swap types here
    /// ([`entry::SWAP_TYPES`]): `MAX_SWAPFILES` is 28.
    fn swap_types(&self) -> mm_core::swapops::SwapTypes {
        entry::SWAP_TYPES
    }
    type MmContext = ();

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// `ARCH_HAS_PTE_SPECIAL` is selected; sparc64 overrides
    /// `pmdp_invalidate()` (`__HAVE_ARCH_PMDP_INVALIDATE`, tlb.c).  No soft
    /// dirty, devmap, NUMA balancing, uffd-wp or pud THP.
    fn features(&self) -> ArchFeatures {
        ArchFeatures {
            pte_special: true,
            arch_pmdp_invalidate: true,
            ..ArchFeatures::default()
        }
    }

    fn flag_bits(&self) -> &'static [FlagBit] {
        match self.layout.tte {
            TteLayout::Sun4v => FLAGS_SUN4V,
            TteLayout::Sun4u => FLAGS_SUN4U,
        }
    }

    /// `vm_get_page_prot()` = `__vm_get_page_prot()` of init_64.c over the
    /// boot-time `page_none`/`page_readonly`/`page_copy`/`page_shared`.
    fn vm_get_page_prot(&self, flags: u8) -> Pgprot {
        Pgprot(self.layout.vm_get_page_prot(flags))
    }

    // ---- pte -----------------------------------------------------------

    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte {
        Pte(self.layout.pfn_pte(pfn, prot.0))
    }
    fn pte_pfn(&self, pte: Pte) -> u64 {
        self.layout.pte_pfn(pte.0)
    }
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte {
        Pte(self.layout.pte_modify(pte.0, prot.0))
    }
    /// `pte_none()` (pgtable_64.h): `!pte_val`.
    fn pte_none(&self, pte: Pte) -> bool {
        pte.0 == 0
    }
    fn pte_present(&self, pte: Pte) -> bool {
        self.layout.pte_present(pte.0)
    }
    fn pte_young(&self, pte: Pte) -> bool {
        self.layout.pte_young(pte.0)
    }
    fn pte_dirty(&self, pte: Pte) -> bool {
        self.layout.pte_dirty(pte.0)
    }
    fn pte_write(&self, pte: Pte) -> bool {
        self.layout.pte_write(pte.0)
    }
    fn pte_exec(&self, pte: Pte) -> bool {
        self.layout.pte_exec(pte.0)
    }
    /// `pte_special()` (pgtable_64.h).
    fn pte_special(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SPECIAL != 0
    }
    /// Generic stub (no `CONFIG_NUMA_BALANCING` support): 0.
    fn pte_protnone(&self, _pte: Pte) -> bool {
        false
    }
    fn pte_mkyoung(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_mkyoung(pte.0))
    }
    fn pte_mkold(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_mkold(pte.0))
    }
    fn pte_mkdirty(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_mkdirty(pte.0))
    }
    fn pte_mkclean(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_mkclean(pte.0))
    }
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_mkwrite_novma(pte.0))
    }
    fn pte_wrprotect(&self, pte: Pte) -> Pte {
        Pte(self.layout.pte_wrprotect(pte.0))
    }
    /// sparc64 defines no `pte_mkexec()` in v6.6 (nothing generic calls it
    /// there); the model sets the layout's EXEC bit.
    fn pte_mkexec(&self, pte: Pte) -> Pte {
        Pte(pte.0 | self.layout.exec)
    }
    /// `pte_mkspecial()` (pgtable_64.h).
    fn pte_mkspecial(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SPECIAL)
    }
    /// The TLB-miss handler loads a pte only with `_PAGE_VALID` (`brgez` in
    /// `USER_PGTABLE_WALK_TL1`): PROT_NONE (`PAGE_NONE` has no V) and old
    /// ptes (`pte_mkold()` clears V) fault although `pte_present()`.
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_VALID != 0
    }
    /// A store needs the hardware W bit (`_PAGE_W_4U`/`_4V`).
    fn pte_hw_writable(&self, pte: Pte) -> bool {
        pte.0 & self.layout.hw_w != 0
    }
    /// A huge pmd is loaded only with `_PAGE_VALID`
    /// (`USER_PGTABLE_CHECK_PMD_HUGE`); `pmdp_invalidate()` clears it.
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_VALID != 0
    }
    /// A store through a huge pmd needs the hardware W bit.
    fn pmd_hw_writable(&self, pmd: Pmd) -> bool {
        pmd.0 & self.layout.hw_w != 0
    }
    /// `pud_pfn()` (pgtable_64.h): `pte_pfn()`.
    fn pud_pfn(&self, pud: Pud) -> u64 {
        self.layout.pte_pfn(pud.0)
    }
    /// `pud_write()` (pgtable_64.h): `pte_write()`.
    fn pud_write(&self, pud: Pud) -> bool {
        self.layout.pte_write(pud.0)
    }

    // ---- swap ----------------------------------------------------------

    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry {
        SwpEntry(self.layout.swp_entry(ty, offset))
    }
    fn __swp_type(&self, e: SwpEntry) -> u64 {
        self.layout.swp_type(e.0)
    }
    fn __swp_offset(&self, e: SwpEntry) -> u64 {
        self.layout.swp_offset(e.0)
    }
    /// `__pte_to_swp_entry()` (pgtable_64.h): the raw value.
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry {
        SwpEntry(pte.0)
    }
    /// `__swp_entry_to_pte()` (pgtable_64.h): the raw value.
    fn __swp_entry_to_pte(&self, e: SwpEntry) -> Pte {
        Pte(e.0)
    }
    /// `__swp_offset(__swp_entry(0, ~0UL))`: 43 bits (21..63).
    fn max_swapfile_offset(&self) -> u64 {
        let l = self.layout;
        l.swp_offset(l.swp_entry(0, u64::MAX))
    }
    /// `pte_swp_exclusive()` (pgtable_64.h, v6.3+).
    fn pte_swp_exclusive(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SWP_EXCLUSIVE != 0
    }
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SWP_EXCLUSIVE)
    }
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SWP_EXCLUSIVE)
    }

    // ---- pmd -----------------------------------------------------------

    /// `pfn_pmd()` (pgtable_64.h): `pfn_pte()` as a pmd.
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd {
        Pmd(self.layout.pfn_pte(pfn, prot.0))
    }
    fn pmd_pfn(&self, pmd: Pmd) -> u64 {
        self.layout.pte_pfn(pmd.0)
    }
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd {
        Pmd(self.layout.pte_modify(pmd.0, prot.0))
    }
    /// `pmd_none()` (pgtable_64.h): `!pmd_val`.
    fn pmd_none(&self, pmd: Pmd) -> bool {
        pmd.0 == 0
    }
    /// `pmd_present()` (pgtable_64.h): `pmd_val != 0`.
    fn pmd_present(&self, pmd: Pmd) -> bool {
        pmd.0 != 0
    }
    fn pmd_bad(&self, pmd: Pmd) -> bool {
        self.layout.dir_bad(pmd.0)
    }
    /// `pmd_leaf()` (`pmd_large()` in v6.6, pgtable_64.h): `_PAGE_PMD_HUGE`.
    fn pmd_leaf(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_PMD_HUGE != 0
    }
    /// `pmd_trans_huge()` (pgtable_64.h): `_PAGE_PMD_HUGE`.
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_PMD_HUGE != 0
    }
    fn pmd_protnone(&self, _pmd: Pmd) -> bool {
        false
    }
    fn pmd_young(&self, pmd: Pmd) -> bool {
        self.layout.pte_young(pmd.0)
    }
    fn pmd_dirty(&self, pmd: Pmd) -> bool {
        self.layout.pte_dirty(pmd.0)
    }
    fn pmd_write(&self, pmd: Pmd) -> bool {
        self.layout.pte_write(pmd.0)
    }
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pte_mkyoung(pmd.0))
    }
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pte_mkold(pmd.0))
    }
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pte_mkdirty(pmd.0))
    }
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pte_mkclean(pmd.0))
    }
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pte_mkwrite_novma(pmd.0))
    }
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pte_wrprotect(pmd.0))
    }
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pmd_mkhuge(pmd.0))
    }
    /// What sparc64's `pmdp_invalidate()` stores: V cleared (tlb.c).
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pmd_mkinvalid(pmd.0))
    }
    /// `pmd_populate()` = `pmd_set()` (pgtable_64.h): `__pa(ptep)`, no flags.
    fn pmd_populate(&self, table_pa: u64) -> Pmd {
        Pmd(table_pa)
    }
    /// `pmd_page_vaddr()` as a physical address (pgtable_64.h).
    fn pmd_table_pa(&self, pmd: Pmd) -> u64 {
        self.layout.dir_table_pa(pmd.0)
    }
    // No `ARCH_ENABLE_THP_MIGRATION` on sparc64: `has_pmd_swap()` and the pmd swap
    // helpers not overridden here are the trait's swapops.h stubs.

    // ---- upper levels ----------------------------------------------------

    /// `pud_none()` (pgtable_64.h): `!pud_val`.
    fn pud_none(&self, pud: Pud) -> bool {
        pud.0 == 0
    }
    /// `pud_present()` (pgtable_64.h): `pud_val != 0`.
    fn pud_present(&self, pud: Pud) -> bool {
        pud.0 != 0
    }
    fn pud_bad(&self, pud: Pud) -> bool {
        self.layout.dir_bad(pud.0)
    }
    /// `pud_leaf()` (`pud_large()` in v6.6, pgtable_64.h): `_PAGE_PMD_HUGE`
    /// (only hugetlb makes such puds).
    fn pud_leaf(&self, pud: Pud) -> bool {
        pud.0 & _PAGE_PUD_HUGE != 0
    }
    /// `pud_populate()` = `pud_set()` (pgalloc_64.h, pgtable_64.h):
    /// `__pa(pmdp)`.
    fn pud_populate(&self, table_pa: u64) -> Pud {
        Pud(table_pa)
    }
    /// `pud_pgtable()` as a physical address (pgtable_64.h).
    fn pud_table_pa(&self, pud: Pud) -> u64 {
        self.layout.dir_table_pa(pud.0)
    }
    /// `p4d_none()` (pgtable_64.h): these are the pgd table's entries.
    fn p4d_none(&self, p4d: P4d) -> bool {
        p4d.0 == 0
    }
    /// `p4d_present()` (pgtable_64.h).
    fn p4d_present(&self, p4d: P4d) -> bool {
        p4d.0 != 0
    }
    /// `p4d_bad()` (pgtable_64.h).
    fn p4d_bad(&self, p4d: P4d) -> bool {
        self.layout.dir_bad(p4d.0)
    }
    /// `p4d_populate()` = `p4d_set()` (pgtable_64.h): `__pa(pudp)`.
    fn p4d_populate(&self, table_pa: u64) -> P4d {
        P4d(table_pa)
    }
    /// `p4d_pgtable()` (pgtable_64.h): `__va(p4d_val)`, the raw value.
    fn p4d_table_pa(&self, p4d: P4d) -> u64 {
        p4d.0
    }
    /// Folded (`pgtable-nop4d.h`): 0.
    fn pgd_none(&self, _pgd: Pgd) -> bool {
        false
    }
    /// Folded: 1.
    fn pgd_present(&self, _pgd: Pgd) -> bool {
        true
    }
    /// Folded: 0.
    fn pgd_bad(&self, _pgd: Pgd) -> bool {
        false
    }
    /// Folded: `pgd_populate()` is a no-op; the slot holds what
    /// `p4d_populate()` stores.
    fn pgd_populate(&self, table_pa: u64) -> Pgd {
        Pgd(self.p4d_populate(table_pa).0)
    }
    /// Folded: read as the p4d it is.
    fn pgd_table_pa(&self, pgd: Pgd) -> u64 {
        self.p4d_table_pa(P4d(pgd.0))
    }

    // ---- allocation ----------------------------------------------------

    /// sparc64's own `pte_free_defer()` ([`alloc::pte_free_defer`]).
    fn pte_free_defer(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        alloc::pte_free_defer(mm, table_pa)
    }

    /// The TLB-miss refill path as guest code under Unicorn
    /// ([`emulate::SparcWalker`]); unsupported when the crate was built
    /// without `sparc64-linux-gnu-gcc`.
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        Ok(Box::new(emulate::SparcWalker::new(
            self.layout.tte,
            machine,
        )?))
    }
}
