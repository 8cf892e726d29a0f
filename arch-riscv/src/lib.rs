//! ptlab's riscv64 page tables with Linux v6.6's real entry encodings.
//!
//! One configuration, `riscv64-sv39`: 3 levels (pgd, pmd, pte of 512
//! 8-byte entries each; the p4d and pud folded at run time as on a Sv39
//! machine), 4K pages, little-endian, THP with 2M pmd leaves.
//!
//! Following mm-core's folding rule, the pgd table's entries go through the
//! `pud_*` helpers (the pud is the lowest level folded into it: riscv's
//! `pud_present()` and friends of `pgtable-64.h`); the `p4d_*` and `pgd_*`
//! helpers are the folded trivial ones.
//!
//! An entry is a leaf when any of R/W/X is set; a table entry has only V
//! (`_PAGE_TABLE`).  PROT_NONE entries have V clear and G set
//! (`_PAGE_PROT_NONE`), so they are present to Linux and invalid to the MMU.
//! The MMU (and Unicorn's) sets A and D itself; see [`emulate`] for how the
//! walker keeps that write-back out of the model's memory.
//!
//! Kconfig facts assumed (v6.6): `ARCH_HAS_PTE_SPECIAL`,
//! `ARCH_SUPPORTS_NUMA_BALANCING` (with `NUMA`), `ARCH_ENABLE_THP_MIGRATION`;
//! no `HAVE_ARCH_SOFT_DIRTY`, no `HAVE_ARCH_USERFAULTFD_WP`, no
//! `ARCH_HAS_PTE_DEVMAP` (all added to riscv after v6.6), no pud THP.

pub mod alloc;
pub mod emulate;
pub mod entry;
pub mod geometry;

use std::sync::Arc;

use mm_core::arch::{
    ArchFeatures, FlagBit, FlagKind, Geometry, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry,
};
use mm_core::emulate::{EmuError, HwWalker};
use mm_core::{Arch, Machine};

use entry as e;

/// The riscv64 Sv39 configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Riscv {
    geometry: Geometry,
}

impl Default for Riscv {
    fn default() -> Self {
        Riscv::new()
    }
}

impl Riscv {
    /// The Sv39 configuration.
    pub fn new() -> Riscv {
        Riscv {
            geometry: geometry::geometry(),
        }
    }

    /// The configuration names, as the CLI spells them.
    pub fn configurations() -> &'static [&'static str] {
        &["riscv64-sv39"]
    }

    /// The configuration called `name` (see [`Riscv::configurations`]).
    pub fn from_name(name: &str) -> Option<Riscv> {
        (name == "riscv64-sv39").then(Riscv::new)
    }
}

macro_rules! fb {
    ($name:expr, $mask:expr, $kind:ident, $doc:expr) => {
        FlagBit {
            name: $name,
            mask: $mask,
            doc: $doc,
            kind: FlagKind::$kind,
        }
    };
}

/// `flag_bits()`: the pte bits of pgtable-bits.h (the same in every level's
/// leaves and, for V, in table entries).
pub static FLAGS: &[FlagBit] = &[
    fb!("PRESENT", e::_PAGE_PRESENT, Entry, "bit 0, _PAGE_PRESENT: the V bit; alone it makes a table entry (_PAGE_TABLE) (pgtable-bits.h)"),
    fb!("READ", e::_PAGE_READ, Entry, "bit 1, _PAGE_READ: R (pgtable-bits.h)"),
    fb!("WRITE", e::_PAGE_WRITE, Entry, "bit 2, _PAGE_WRITE: W (pgtable-bits.h)"),
    fb!("EXEC", e::_PAGE_EXEC, Entry, "bit 3, _PAGE_EXEC: X (pgtable-bits.h)"),
    fb!("USER", e::_PAGE_USER, Entry, "bit 4, _PAGE_USER: U (pgtable-bits.h)"),
    fb!("GLOBAL", e::_PAGE_GLOBAL, Valid, "bit 5, _PAGE_GLOBAL: G (pgtable-bits.h)"),
    fb!("PROT_NONE", e::_PAGE_PROT_NONE, Invalid, "bit 5 with V clear: _PAGE_PROT_NONE = _PAGE_GLOBAL (pgtable-bits.h)"),
    fb!("ACCESSED", e::_PAGE_ACCESSED, Entry, "bit 6, _PAGE_ACCESSED: A, set by hardware (pgtable-bits.h)"),
    fb!("DIRTY", e::_PAGE_DIRTY, Entry, "bit 7, _PAGE_DIRTY: D, set by hardware on a write (pgtable-bits.h)"),
    fb!("SPECIAL", e::_PAGE_SPECIAL, Entry, "bit 8, _PAGE_SPECIAL = _PAGE_SOFT (RSW bit 0) (pgtable-bits.h)"),
    fb!("SWP_EXCLUSIVE", e::_PAGE_SWP_EXCLUSIVE, Swap, "bit 6 of a swap pte: _PAGE_SWP_EXCLUSIVE = _PAGE_ACCESSED, v6.3+ (pgtable-bits.h)"),
];

impl Arch for Riscv {
    type MmContext = ();

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// `ARCH_HAS_PTE_SPECIAL` and NUMA balancing (`pte_protnone()`); no
    /// soft-dirty, uffd-wp or devmap in v6.6; no pud THP; riscv does not
    /// define `__HAVE_ARCH_PMDP_INVALIDATE`.
    fn features(&self) -> ArchFeatures {
        ArchFeatures {
            pte_special: true,
            numa_balancing: true,
            ..ArchFeatures::default()
        }
    }

    fn flag_bits(&self) -> &'static [FlagBit] {
        FLAGS
    }

    fn vm_get_page_prot(&self, flags: u8) -> Pgprot {
        Pgprot(e::PROTECTION_MAP[(flags & 0xf) as usize])
    }

    // ---- pte -----------------------------------------------------------

    /// `pfn_pte()` (pgtable.h).
    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte {
        Pte(e::pfn_entry(pfn, prot.0))
    }
    /// `pte_pfn()` (pgtable.h): `__page_val_to_pfn()`.
    fn pte_pfn(&self, pte: Pte) -> u64 {
        e::page_val_to_pfn(pte.0)
    }
    /// `pte_modify()` (pgtable.h).
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte {
        Pte(e::pte_modify(pte.0, prot.0))
    }
    fn pte_none(&self, pte: Pte) -> bool {
        pte.0 == 0
    }
    /// `pte_present()` (pgtable.h): PRESENT or PROT_NONE.
    fn pte_present(&self, pte: Pte) -> bool {
        e::pte_present(pte.0)
    }
    fn pte_young(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_ACCESSED != 0
    }
    fn pte_dirty(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_DIRTY != 0
    }
    fn pte_write(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_WRITE != 0
    }
    fn pte_exec(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_EXEC != 0
    }
    fn pte_special(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_SPECIAL != 0
    }
    /// `pte_protnone()` (pgtable.h): PROT_NONE without PRESENT.
    fn pte_protnone(&self, pte: Pte) -> bool {
        e::pte_protnone(pte.0)
    }
    fn pte_mkyoung(&self, pte: Pte) -> Pte {
        Pte(pte.0 | e::_PAGE_ACCESSED)
    }
    fn pte_mkold(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !e::_PAGE_ACCESSED)
    }
    fn pte_mkdirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | e::_PAGE_DIRTY)
    }
    fn pte_mkclean(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !e::_PAGE_DIRTY)
    }
    /// `pte_mkwrite_novma()` (pgtable.h, v6.6): set `_PAGE_WRITE`.
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte {
        Pte(pte.0 | e::_PAGE_WRITE)
    }
    fn pte_wrprotect(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !e::_PAGE_WRITE)
    }
    /// riscv defines no `pte_mkexec()`; the model sets `_PAGE_EXEC`.
    fn pte_mkexec(&self, pte: Pte) -> Pte {
        Pte(pte.0 | e::_PAGE_EXEC)
    }
    fn pte_mkspecial(&self, pte: Pte) -> Pte {
        Pte(pte.0 | e::_PAGE_SPECIAL)
    }

    /// The Sv39 MMU uses a pte when V is set and R/W/X is a leaf encoding
    /// that is not reserved (W without R).  PROT_NONE has V clear.  A need
    /// not be set: the MMU (and Unicorn) sets A itself (no Svade).
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        e::hw_leaf_ok(pte.0)
    }
    /// As [`Arch::pte_hw_valid`] for a 2M leaf, which must also be aligned:
    /// a leaf pmd whose pfn has any of its low 9 bits set is a misaligned
    /// superpage and faults.
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        e::hw_leaf_ok(pmd.0) && e::page_val_to_pfn(pmd.0) & 511 == 0
    }
    /// W: the MMU sets D itself on a write (no Svade), so a clean writable
    /// pte is writable in hardware.
    fn pte_hw_writable(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_WRITE != 0
    }
    fn pmd_hw_writable(&self, pmd: Pmd) -> bool {
        pmd.0 & e::_PAGE_WRITE != 0
    }

    // ---- swap ptes (pgtable.h, v6.3+ format) ----------------------------

    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry {
        SwpEntry(e::swp_entry(ty, offset))
    }
    fn __swp_type(&self, s: SwpEntry) -> u64 {
        e::swp_type(s.0)
    }
    fn __swp_offset(&self, s: SwpEntry) -> u64 {
        e::swp_offset(s.0)
    }
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry {
        SwpEntry(pte.0)
    }
    fn __swp_entry_to_pte(&self, s: SwpEntry) -> Pte {
        Pte(s.0)
    }
    // max_swapfile_offset() (the trait's probe) is 2^52 - 1: offset bits 12-63.
    /// `pte_swp_exclusive()` (pgtable.h): `_PAGE_SWP_EXCLUSIVE`, bit 6.
    fn pte_swp_exclusive(&self, pte: Pte) -> bool {
        pte.0 & e::_PAGE_SWP_EXCLUSIVE != 0
    }
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 | e::_PAGE_SWP_EXCLUSIVE)
    }
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !e::_PAGE_SWP_EXCLUSIVE)
    }

    // ---- pmd (pgtable.h: the pte helpers through pmd_pte()) -------------

    /// `pfn_pmd()` (pgtable-64.h): `(pfn << _PAGE_PFN_SHIFT) | prot`.
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd {
        Pmd(e::pfn_entry(pfn, prot.0))
    }
    /// `pmd_pfn()` (pgtable.h): rounded down to `PMD_MASK`.
    fn pmd_pfn(&self, pmd: Pmd) -> u64 {
        e::pmd_pfn(pmd.0)
    }
    /// `pmd_modify()` (pgtable.h): `pte_modify()` on the pmd.
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd {
        Pmd(e::pte_modify(pmd.0, prot.0))
    }
    fn pmd_none(&self, pmd: Pmd) -> bool {
        pmd.0 == 0
    }
    /// `pmd_present()` (pgtable.h, THP): PRESENT, PROT_NONE or a leaf bit.
    fn pmd_present(&self, pmd: Pmd) -> bool {
        e::pmd_present(pmd.0)
    }
    /// `pmd_bad()` (pgtable.h): not present, or a leaf.
    fn pmd_bad(&self, pmd: Pmd) -> bool {
        e::pmd_bad(pmd.0)
    }
    /// `pmd_leaf()` (pgtable.h): present and R/W/X.
    fn pmd_leaf(&self, pmd: Pmd) -> bool {
        e::pmd_leaf(pmd.0)
    }
    /// `pmd_trans_huge()` (pgtable.h): `pmd_leaf()`.
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool {
        e::pmd_leaf(pmd.0)
    }
    /// `pmd_protnone()` (pgtable.h): `pte_protnone(pmd_pte(pmd))`.
    fn pmd_protnone(&self, pmd: Pmd) -> bool {
        e::pte_protnone(pmd.0)
    }
    fn pmd_young(&self, pmd: Pmd) -> bool {
        pmd.0 & e::_PAGE_ACCESSED != 0
    }
    fn pmd_dirty(&self, pmd: Pmd) -> bool {
        pmd.0 & e::_PAGE_DIRTY != 0
    }
    fn pmd_write(&self, pmd: Pmd) -> bool {
        pmd.0 & e::_PAGE_WRITE != 0
    }
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | e::_PAGE_ACCESSED)
    }
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !e::_PAGE_ACCESSED)
    }
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | e::_PAGE_DIRTY)
    }
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !e::_PAGE_DIRTY)
    }
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | e::_PAGE_WRITE)
    }
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !e::_PAGE_WRITE)
    }
    /// `pmd_mkhuge()` (pgtable.h): the identity (a leaf is any R/W/X).
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    /// `pmd_mkinvalid()` (pgtable.h): clear PRESENT and PROT_NONE.
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd {
        Pmd(e::pmd_mkinvalid(pmd.0))
    }
    /// `pmd_populate()` (pgalloc.h): `(pfn << _PAGE_PFN_SHIFT) | _PAGE_TABLE`.
    fn pmd_populate(&self, table_pa: u64) -> Pmd {
        Pmd(e::table_entry(table_pa))
    }
    /// `pmd_page_vaddr()` (pgtable.h) as a physical address.
    fn pmd_table_pa(&self, pmd: Pmd) -> u64 {
        e::table_pa(pmd.0)
    }

    /// `ARCH_ENABLE_THP_MIGRATION` (riscv Kconfig, `if
    /// TRANSPARENT_HUGEPAGE`): pmd migration entries exist.
    fn has_pmd_swap(&self) -> bool {
        true
    }
    /// `__pmd_to_swp_entry()` (pgtable.h): `{ pmd_val(pmd) }`.
    fn __pmd_to_swp_entry(&self, pmd: Pmd) -> SwpEntry {
        SwpEntry(pmd.0)
    }
    /// `__swp_entry_to_pmd()` (pgtable.h): `__pmd(swp.val)`.
    fn __swp_entry_to_pmd(&self, s: SwpEntry) -> Pmd {
        Pmd(s.0)
    }

    // ---- upper levels --------------------------------------------------

    /// `pud_none()` (pgtable-64.h).
    fn pud_none(&self, pud: Pud) -> bool {
        pud.0 == 0
    }
    /// `pud_present()` (pgtable-64.h): `_PAGE_PRESENT`.
    fn pud_present(&self, pud: Pud) -> bool {
        pud.0 & e::_PAGE_PRESENT != 0
    }
    /// `pud_bad()` (pgtable-64.h): `!pud_present()`.
    fn pud_bad(&self, pud: Pud) -> bool {
        pud.0 & e::_PAGE_PRESENT == 0
    }
    /// `pud_leaf()` (pgtable-64.h): present and R/W/X.
    fn pud_leaf(&self, pud: Pud) -> bool {
        pud.0 & e::_PAGE_PRESENT != 0 && pud.0 & e::_PAGE_LEAF != 0
    }
    /// `pud_populate()` (pgalloc.h): `(pfn << _PAGE_PFN_SHIFT) | _PAGE_TABLE`.
    fn pud_populate(&self, table_pa: u64) -> Pud {
        Pud(e::table_entry(table_pa))
    }
    /// `pud_pgtable()` (pgtable-64.h) as a physical address.
    fn pud_table_pa(&self, pud: Pud) -> u64 {
        e::table_pa(pud.0)
    }
    /// Folded at run time on Sv39 (`pgtable_l4_enabled` false: `p4d_none()`
    /// is 0, `p4d_present()` 1, `p4d_bad()` 0, pgtable-64.h).
    fn p4d_none(&self, _p4d: P4d) -> bool {
        false
    }
    fn p4d_present(&self, _p4d: P4d) -> bool {
        true
    }
    fn p4d_bad(&self, _p4d: P4d) -> bool {
        false
    }
    fn p4d_populate(&self, table_pa: u64) -> P4d {
        P4d(e::table_entry(table_pa))
    }
    fn p4d_table_pa(&self, p4d: P4d) -> u64 {
        e::table_pa(p4d.0)
    }
    /// Folded (`pgtable_l5_enabled` false, pgtable-64.h / pgtable-nop4d).
    fn pgd_none(&self, _pgd: Pgd) -> bool {
        false
    }
    fn pgd_present(&self, _pgd: Pgd) -> bool {
        true
    }
    fn pgd_bad(&self, _pgd: Pgd) -> bool {
        false
    }
    fn pgd_populate(&self, table_pa: u64) -> Pgd {
        Pgd(e::table_entry(table_pa))
    }
    fn pgd_table_pa(&self, pgd: Pgd) -> u64 {
        e::table_pa(pgd.0)
    }

    /// The guest riscv64 MMU under Unicorn ([`emulate::RiscvWalker`]).
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        Ok(Box::new(emulate::RiscvWalker::new(machine)?))
    }
}
