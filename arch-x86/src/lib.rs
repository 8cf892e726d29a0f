//! ptlab's x86 page tables with Linux v6.6's real entry encodings.
//!
//! Three configurations, chosen at run time ([`X86Mode`]):
//!
//! | name | levels | entry | notes |
//! |---|---|---|---|
//! | `x86_64` | 4 (p4d folded at run time, LA57 off) | 8 B | 48-bit VA |
//! | `x86-pae` | 3 (4-entry PDPT) | 8 B, read as two halves | `CONFIG_X86_PAE` |
//! | `x86-32` | 2 (pmd folded into the pgd) | 4 B | 4M PSE pmd leaves |
//!
//! Following mm-core's convention, each physical table's entries go through
//! the helpers of the lowest level folded into it: the x86_64 top table
//! through `p4d_*`, the PAE PDPT through `pud_*`, the 2-level page
//! directory through `pmd_*`.  The folded levels' own helpers behave as
//! `include/asm-generic/pgtable-nop{4d,ud,md}.h` make them (`*_none` false,
//! `*_present` true, `*_bad` false); their `*_populate` returns the value
//! the real level stores in the same slot, and `*_table_pa` reads it back
//! the same way.
//!
//! The bit-level facts and the helper bodies live in [`entry`]; every
//! Kconfig and boot-time assumption is listed in its module documentation
//! (NX present, no shadow stacks, pkey 0, no SME/TDX, and on x86_64 only:
//! `CONFIG_MEM_SOFT_DIRTY=y`, `CONFIG_HAVE_ARCH_USERFAULTFD_WP=y`,
//! `CONFIG_ARCH_HAS_PTE_DEVMAP`, `CONFIG_NUMA_BALANCING=y`, THP migration).

pub mod alloc;
#[cfg(feature = "emulate")]
pub mod emulate;
pub mod entry;
pub mod geometry;

#[cfg(feature = "emulate")]
use std::sync::Arc;

use mm_core::arch::{
    ArchFeatures, FlagBit, FlagKind, Geometry, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry,
};
#[cfg(feature = "emulate")]
use mm_core::emulate::{EmuError, HwWalker};
use mm_core::Arch;
#[cfg(feature = "emulate")]
use mm_core::Machine;

use entry::*;

/// Which x86 paging configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum X86Mode {
    /// x86_64 with 4-level paging (`CONFIG_X86_5LEVEL=y`, LA57 off at boot).
    X86_64,
    /// 32-bit PAE (`CONFIG_X86_PAE`, `CONFIG_PGTABLE_LEVELS=3`).
    Pae,
    /// 32-bit 2-level (`CONFIG_PGTABLE_LEVELS=2`, no PAE).
    X86_32,
}

impl X86Mode {
    /// All three, in the order [`X86::configurations`] lists them.
    pub const ALL: [X86Mode; 3] = [X86Mode::X86_64, X86Mode::Pae, X86Mode::X86_32];
}

/// One x86 configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X86 {
    mode: X86Mode,
    /// The mode's constants, resolved once: the helpers run on every
    /// entry of every walk, and reading them through this reference keeps
    /// the mode dispatch out of the hot path.
    layout: &'static Layout,
    geometry: Geometry,
}

impl X86 {
    /// The configuration `mode`.
    #[inline]
    pub fn new(mode: X86Mode) -> X86 {
        X86 {
            mode,
            layout: Layout::of(mode),
            geometry: geometry::geometry(mode),
        }
    }

    /// The configuration names, as the CLI spells them.
    #[inline]
    pub fn configurations() -> &'static [&'static str] {
        &["x86_64", "x86-pae", "x86-32"]
    }

    /// The configuration called `name` (see [`X86::configurations`]).
    #[inline]
    pub fn from_name(name: &str) -> Option<X86> {
        X86Mode::ALL
            .into_iter()
            .map(X86::new)
            .find(|x| x.geometry.name == name)
    }

    /// The mode.
    #[inline]
    pub fn mode(&self) -> X86Mode {
        self.mode
    }

    /// The mode's constants and raw helper bodies.
    #[inline]
    pub fn layout(&self) -> &'static Layout {
        self.layout
    }

    /// `pte_mkwrite(pte, vma)` (`arch/x86/mm/pgtable.c`, v6.6) for a VMA
    /// without `VM_SHADOW_STACK`: `pte_mkwrite_novma()` then
    /// `pte_clear_saveddirty()`.
    #[inline]
    pub fn pte_mkwrite(&self, pte: Pte) -> Pte {
        Pte(self.layout().pte_mkwrite(pte.0))
    }

    /// `pmd_mkwrite(pmd, vma)` (`arch/x86/mm/pgtable.c`, v6.6) for a VMA
    /// without `VM_SHADOW_STACK`.
    #[inline]
    pub fn pmd_mkwrite(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().pte_mkwrite(pmd.0))
    }

    /// `pte_swp_mkuffd_wp()` (pgtable.h; identity without
    /// `CONFIG_HAVE_ARCH_USERFAULTFD_WP`).
    #[inline]
    pub fn pte_swp_mkuffd_wp(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.set_flags(pte.0, l.swp_uffd_wp))
    }

    /// `pte_swp_clear_uffd_wp()` (pgtable.h).
    #[inline]
    pub fn pte_swp_clear_uffd_wp(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.clear_flags(pte.0, l.swp_uffd_wp))
    }

    /// `pte_swp_clear_flags()` (`include/linux/swapops.h`): what
    /// `pte_to_swp_entry()` strips before `__pte_to_swp_entry()`:
    /// exclusive, soft-dirty and uffd-wp.
    #[inline]
    pub fn pte_swp_clear_flags(&self, pte: Pte) -> Pte {
        let pte = self.pte_swp_clear_exclusive(pte);
        let pte = self.pte_swp_clear_soft_dirty(pte);
        self.pte_swp_clear_uffd_wp(pte)
    }

    // ---- pud leaves (x86_64: HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD) -------

    /// `pfn_pud()` (pgtable.h).
    #[inline]
    pub fn pfn_pud(&self, pfn: u64, prot: Pgprot) -> Pud {
        Pud(self.layout().pfn_pud(pfn, prot.0))
    }

    /// `pud_young()` (pgtable.h).
    #[inline]
    pub fn pud_young(&self, pud: Pud) -> bool {
        self.layout().pud_flags(pud.0) & _PAGE_ACCESSED != 0
    }

    /// `pud_dirty()` (pgtable.h, v6.6): `_PAGE_DIRTY_BITS`.
    #[inline]
    pub fn pud_dirty(&self, pud: Pud) -> bool {
        let l = self.layout();
        l.pud_flags(pud.0) & l.dirty_bits() != 0
    }

    /// `pud_mkyoung()` (pgtable.h).
    #[inline]
    pub fn pud_mkyoung(&self, pud: Pud) -> Pud {
        Pud(self.layout().pud_set_flags(pud.0, _PAGE_ACCESSED))
    }

    /// `pud_mkold()` (pgtable.h).
    #[inline]
    pub fn pud_mkold(&self, pud: Pud) -> Pud {
        Pud(self.layout().pud_clear_flags(pud.0, _PAGE_ACCESSED))
    }

    /// `pud_mkdirty()` (pgtable.h, v6.6): DIRTY|SOFT_DIRTY, then
    /// `pud_mksaveddirty()`.
    #[inline]
    pub fn pud_mkdirty(&self, pud: Pud) -> Pud {
        let l = self.layout();
        let v = l.pud_set_flags(pud.0, _PAGE_DIRTY | l.soft_dirty);
        Pud(l.native_pud_val(l.mksaveddirty_shift(v)))
    }

    /// `pud_mkclean()` (pgtable.h, v6.6).
    #[inline]
    pub fn pud_mkclean(&self, pud: Pud) -> Pud {
        let l = self.layout();
        Pud(l.pud_clear_flags(pud.0, l.dirty_bits()))
    }

    /// `pud_mkwrite()` (pgtable.h, v6.6): RW, then `pud_clear_saveddirty()`.
    #[inline]
    pub fn pud_mkwrite(&self, pud: Pud) -> Pud {
        let l = self.layout();
        let v = l.pud_set_flags(pud.0, _PAGE_RW);
        Pud(l.native_pud_val(l.clear_saveddirty_shift(v)))
    }

    /// `pud_wrprotect()` (pgtable.h, v6.6): clear RW, then
    /// `pud_mksaveddirty()`.
    #[inline]
    pub fn pud_wrprotect(&self, pud: Pud) -> Pud {
        let l = self.layout();
        let v = l.pud_clear_flags(pud.0, _PAGE_RW);
        Pud(l.native_pud_val(l.mksaveddirty_shift(v)))
    }

    /// `pud_mkhuge()` (pgtable.h).
    #[inline]
    pub fn pud_mkhuge(&self, pud: Pud) -> Pud {
        Pud(self.layout().pud_set_flags(pud.0, _PAGE_PSE))
    }

    /// `pud_trans_huge()` (pgtable.h).
    #[inline]
    pub fn pud_trans_huge(&self, pud: Pud) -> bool {
        self.layout().pud_trans_huge(pud.0)
    }

    /// `pud_mkdevmap()` (pgtable.h).
    #[inline]
    pub fn pud_mkdevmap(&self, pud: Pud) -> Pud {
        let l = self.layout();
        Pud(l.pud_set_flags(pud.0, l.devmap))
    }

    /// `pud_devmap()` (pgtable.h with `ARCH_HAS_PTE_DEVMAP` and
    /// `HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`, else 0).
    #[inline]
    pub fn pud_devmap(&self, pud: Pud) -> bool {
        let l = self.layout();
        l.has_devmap && l.native_pud_val(pud.0) & l.devmap != 0
    }
}

/// `flag_bits()` of x86_64.
static FLAGS_X86_64: &[FlagBit] = &[
    FlagBit { name: "PRESENT", mask: _PAGE_PRESENT, doc: "bit 0, P: present (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "RW", mask: _PAGE_RW, doc: "bit 1, R/W: writeable (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "USER", mask: _PAGE_USER, doc: "bit 2, U/S: user accessible (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PWT", mask: _PAGE_PWT, doc: "bit 3: page write-through (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PCD", mask: _PAGE_PCD, doc: "bit 4: page cache disabled (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "ACCESSED", mask: _PAGE_ACCESSED, doc: "bit 5, A: set by the CPU (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "DIRTY", mask: _PAGE_DIRTY, doc: "bit 6, D: set by the CPU on write (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PSE", mask: _PAGE_PSE, doc: "bit 7: 2M/1G leaf in a pmd/pud (pgtable_types.h)", kind: FlagKind::Leaf },
    FlagBit { name: "PAT", mask: _PAGE_PAT, doc: "bit 7: PAT index bit of a 4K pte, same bit as PSE (pgtable_types.h)", kind: FlagKind::Pte },
    FlagBit { name: "GLOBAL", mask: _PAGE_GLOBAL, doc: "bit 8, G: global TLB entry, when P=1 (pgtable_types.h)", kind: FlagKind::Valid },
    FlagBit { name: "PROTNONE", mask: _PAGE_PROTNONE, doc: "bit 8 when P=0: PROT_NONE/NUMA-hinting entry, pte_present() (pgtable_types.h)", kind: FlagKind::Invalid },
    FlagBit { name: "SPECIAL", mask: _PAGE_SPECIAL, doc: "bit 9, SOFTW1: pte_special(), also _PAGE_CPA_TEST (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "UFFD_WP", mask: 1 << _PAGE_BIT_UFFD_WP, doc: "bit 10, SOFTW2: userfaultfd write-protect, CONFIG_HAVE_ARCH_USERFAULTFD_WP (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "SOFT_DIRTY", mask: 1 << _PAGE_BIT_SOFT_DIRTY, doc: "bit 11, SOFTW3: soft-dirty tracking, CONFIG_MEM_SOFT_DIRTY (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PAT_LARGE", mask: _PAGE_PAT_LARGE, doc: "bit 12: PAT index bit of a 2M/1G leaf (pgtable_types.h)", kind: FlagKind::Leaf },
    FlagBit { name: "DEVMAP", mask: 1 << _PAGE_BIT_DEVMAP, doc: "bit 57, SOFTW4 (58 before v6.6): ZONE_DEVICE mapping (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "SAVED_DIRTY", mask: 1 << _PAGE_BIT_SAVED_DIRTY_64, doc: "bit 58, SOFTW5 (v6.6): Dirty of a Write=0 entry, moved off D so it is not a shadow-stack pte (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PKEY_BIT0", mask: 1 << _PAGE_BIT_PKEY_BIT0, doc: "bit 59: protection key bit 0, CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS; 0 for pkey 0 (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PKEY_BIT1", mask: 1 << (_PAGE_BIT_PKEY_BIT0 + 1), doc: "bit 60: protection key bit 1 (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PKEY_BIT2", mask: 1 << (_PAGE_BIT_PKEY_BIT0 + 2), doc: "bit 61: protection key bit 2 (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PKEY_BIT3", mask: 1 << (_PAGE_BIT_PKEY_BIT0 + 3), doc: "bit 62: protection key bit 3 (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "NX", mask: 1 << _PAGE_BIT_NX, doc: "bit 63, XD: no execute (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "SWP_SOFT_DIRTY", mask: _PAGE_RW, doc: "bit 1 when P=0: soft-dirty of a swap entry (pgtable_types.h)", kind: FlagKind::Swap },
    FlagBit { name: "SWP_UFFD_WP", mask: _PAGE_USER, doc: "bit 2 when P=0: uffd-wp of a swap entry (pgtable_types.h)", kind: FlagKind::Swap },
    FlagBit { name: "SWP_EXCLUSIVE", mask: _PAGE_PWT, doc: "bit 3 when P=0: PG_anon_exclusive of a swap entry (pgtable_64.h)", kind: FlagKind::Swap },
];

/// `flag_bits()` of PAE.
static FLAGS_PAE: &[FlagBit] = &[
    FlagBit { name: "PRESENT", mask: _PAGE_PRESENT, doc: "bit 0, P: present (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "RW", mask: _PAGE_RW, doc: "bit 1, R/W: writeable; reserved in PDPT entries (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "USER", mask: _PAGE_USER, doc: "bit 2, U/S: user accessible; reserved in PDPT entries (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PWT", mask: _PAGE_PWT, doc: "bit 3: page write-through (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PCD", mask: _PAGE_PCD, doc: "bit 4: page cache disabled (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "ACCESSED", mask: _PAGE_ACCESSED, doc: "bit 5, A: set by the CPU (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "DIRTY", mask: _PAGE_DIRTY, doc: "bit 6, D: set by the CPU on write (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PSE", mask: _PAGE_PSE, doc: "bit 7: 2M leaf in a pmd (pgtable_types.h)", kind: FlagKind::Leaf },
    FlagBit { name: "PAT", mask: _PAGE_PAT, doc: "bit 7: PAT index bit of a 4K pte, same bit as PSE (pgtable_types.h)", kind: FlagKind::Pte },
    FlagBit { name: "GLOBAL", mask: _PAGE_GLOBAL, doc: "bit 8, G: global TLB entry, when P=1 (pgtable_types.h)", kind: FlagKind::Valid },
    FlagBit { name: "PROTNONE", mask: _PAGE_PROTNONE, doc: "bit 8 when P=0: PROT_NONE entry, pte_present() (pgtable_types.h)", kind: FlagKind::Invalid },
    FlagBit { name: "SPECIAL", mask: _PAGE_SPECIAL, doc: "bit 9, SOFTW1: pte_special(), also _PAGE_CPA_TEST (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "SAVED_DIRTY", mask: 1 << _PAGE_BIT_SAVED_DIRTY_32, doc: "bit 10, SOFTW2 (v6.6, 32-bit): Dirty of a Write=0 entry (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "SOFTW3", mask: _PAGE_SOFTW3, doc: "bit 11: unused (_PAGE_SOFT_DIRTY is 0 without HAVE_ARCH_SOFT_DIRTY) (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "PAT_LARGE", mask: _PAGE_PAT_LARGE, doc: "bit 12: PAT index bit of a 2M leaf (pgtable_types.h)", kind: FlagKind::Leaf },
    FlagBit { name: "DEVMAP", mask: 1 << _PAGE_BIT_DEVMAP, doc: "bit 57, SOFTW4: defined for PAE but unused (ARCH_HAS_PTE_DEVMAP is x86_64-only) (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "NX", mask: 1 << _PAGE_BIT_NX, doc: "bit 63, XD: no execute (pgtable_types.h)", kind: FlagKind::Entry },
    FlagBit { name: "SWP_EXCLUSIVE", mask: _PAGE_PSE, doc: "bit 7 when P=0: PG_anon_exclusive of a swap entry (pgtable-3level.h)", kind: FlagKind::Swap },
];

/// `flag_bits()` of 2-level.
static FLAGS_X86_32: &[FlagBit] = &[
    FlagBit {
        name: "PRESENT",
        mask: _PAGE_PRESENT,
        doc: "bit 0, P: present (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "RW",
        mask: _PAGE_RW,
        doc: "bit 1, R/W: writeable (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "USER",
        mask: _PAGE_USER,
        doc: "bit 2, U/S: user accessible (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "PWT",
        mask: _PAGE_PWT,
        doc: "bit 3: page write-through (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "PCD",
        mask: _PAGE_PCD,
        doc: "bit 4: page cache disabled (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "ACCESSED",
        mask: _PAGE_ACCESSED,
        doc: "bit 5, A: set by the CPU (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "DIRTY",
        mask: _PAGE_DIRTY,
        doc: "bit 6, D: set by the CPU on write (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "PSE",
        mask: _PAGE_PSE,
        doc: "bit 7: 4M leaf in a page-directory entry (pgtable_types.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "PAT",
        mask: _PAGE_PAT,
        doc: "bit 7: PAT index bit of a 4K pte, same bit as PSE (pgtable_types.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "GLOBAL",
        mask: _PAGE_GLOBAL,
        doc: "bit 8, G: global TLB entry, when P=1 (pgtable_types.h)",
        kind: FlagKind::Valid,
    },
    FlagBit {
        name: "PROTNONE",
        mask: _PAGE_PROTNONE,
        doc: "bit 8 when P=0: PROT_NONE entry, pte_present() (pgtable_types.h)",
        kind: FlagKind::Invalid,
    },
    FlagBit {
        name: "SPECIAL",
        mask: _PAGE_SPECIAL,
        doc: "bit 9, SOFTW1: pte_special(), also _PAGE_CPA_TEST (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "SAVED_DIRTY",
        mask: 1 << _PAGE_BIT_SAVED_DIRTY_32,
        doc: "bit 10, SOFTW2 (v6.6, 32-bit): Dirty of a Write=0 entry (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "SOFTW3",
        mask: _PAGE_SOFTW3,
        doc:
            "bit 11: unused (_PAGE_SOFT_DIRTY is 0 without HAVE_ARCH_SOFT_DIRTY) (pgtable_types.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "PAT_LARGE",
        mask: _PAGE_PAT_LARGE,
        doc: "bit 12: PAT index bit of a 4M leaf (pgtable_types.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SWP_EXCLUSIVE",
        mask: _PAGE_PSE,
        doc: "bit 7 when P=0: PG_anon_exclusive of a swap entry (pgtable-2level.h)",
        kind: FlagKind::Swap,
    },
];

impl Arch for X86 {
    type MmContext = ();

    #[inline]
    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// PAE's `__pte_to_swp_entry()`/`__swp_entry_to_pte()` re-encode
    /// through a 32-bit `swp_entry_t` with the offset complemented
    /// (`pgtable-3level.h`), so `debug_vm_pgtable`'s `pte_swap_tests`
    /// (present pte -> swap entry -> pte keeps the pfn) does not hold there:
    /// the pfn comes back complemented, and above 2^26 truncated.  Linux
    /// never sees this because x86 selects `ARCH_HAS_DEBUG_VM_PGTABLE` only
    /// `if !X86_PAE`.
    #[inline]
    fn pfn_pud(&self, pfn: u64, prot: Pgprot) -> Pud {
        X86::pfn_pud(self, pfn, prot)
    }
    #[inline]
    fn pud_mkhuge(&self, pud: Pud) -> Pud {
        X86::pud_mkhuge(self, pud)
    }
    #[inline]
    fn pud_trans_huge(&self, pud: Pud) -> bool {
        X86::pud_trans_huge(self, pud)
    }
    #[inline]
    fn pud_young(&self, pud: Pud) -> bool {
        X86::pud_young(self, pud)
    }
    #[inline]
    fn pud_dirty(&self, pud: Pud) -> bool {
        X86::pud_dirty(self, pud)
    }
    #[inline]
    fn pud_mkyoung(&self, pud: Pud) -> Pud {
        X86::pud_mkyoung(self, pud)
    }
    #[inline]
    fn pud_mkold(&self, pud: Pud) -> Pud {
        X86::pud_mkold(self, pud)
    }
    #[inline]
    fn pud_mkdirty(&self, pud: Pud) -> Pud {
        X86::pud_mkdirty(self, pud)
    }
    #[inline]
    fn pud_mkclean(&self, pud: Pud) -> Pud {
        X86::pud_mkclean(self, pud)
    }
    #[inline]
    fn pud_mkwrite(&self, pud: Pud) -> Pud {
        X86::pud_mkwrite(self, pud)
    }
    #[inline]
    fn pud_wrprotect(&self, pud: Pud) -> Pud {
        X86::pud_wrprotect(self, pud)
    }
    #[inline]
    fn pud_mkdevmap(&self, pud: Pud) -> Pud {
        X86::pud_mkdevmap(self, pud)
    }
    #[inline]
    fn pud_devmap(&self, pud: Pud) -> bool {
        X86::pud_devmap(self, pud)
    }

    #[inline]
    fn expected_failures(&self) -> &'static [(&'static str, &'static str)] {
        match self.mode() {
            X86Mode::Pae => &[(
                "pte_swap_tests",
                "PAE converts swap entries through a 32-bit swp_entry_t with the offset \
                 complemented (pgtable-3level.h), so a present pte's pfn does not survive \
                 __pte_to_swp_entry/__swp_entry_to_pte; Linux never runs this check on PAE \
                 (ARCH_HAS_DEBUG_VM_PGTABLE if !X86_PAE)",
            )],
            _ => &[],
        }
    }

    #[inline]
    /// 32-bit x86 has no `CONFIG_DEVICE_PRIVATE` (ZONE_DEVICE needs 64BIT)
    /// and no `CONFIG_MEMORY_FAILURE` (ARCH_SUPPORTS_MEMORY_FAILURE is
    /// x86_64 only), so its `MAX_SWAPFILES` is 28 and migration types start
    /// at 28 (confirmed by the kernel oracle).
    fn swap_types(&self) -> mm_core::swapops::SwapTypes {
        match self.mode() {
            X86Mode::X86_64 => mm_core::swapops::SwapTypes::ALL,
            X86Mode::Pae | X86Mode::X86_32 => mm_core::swapops::SwapTypes {
                device: 0,
                hwpoison: 0,
                ..mm_core::swapops::SwapTypes::ALL
            },
        }
    }

    fn features(&self) -> ArchFeatures {
        let l = self.layout();
        ArchFeatures {
            soft_dirty: l.has_soft_dirty,
            // ARCH_HAS_PTE_SPECIAL is selected unconditionally (arch/x86/Kconfig).
            pte_special: true,
            pte_devmap: l.has_devmap,
            numa_balancing: l.numa_balancing,
            uffd_wp: l.has_uffd_wp,
            // x86 defines __HAVE_ARCH_PMDP_INVALIDATE_AD, not
            // __HAVE_ARCH_PMDP_INVALIDATE.
            arch_pmdp_invalidate: false,
            // HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD: `select ... if X86_64`
            // (arch/x86/Kconfig).
            thp_pud: self.mode() == X86Mode::X86_64,
        }
    }

    #[inline]
    fn flag_bits(&self) -> &'static [FlagBit] {
        match self.mode {
            X86Mode::X86_64 => FLAGS_X86_64,
            X86Mode::Pae => FLAGS_PAE,
            X86Mode::X86_32 => FLAGS_X86_32,
        }
    }

    #[inline]
    fn vm_get_page_prot(&self, flags: u8) -> Pgprot {
        Pgprot(self.layout().vm_get_page_prot(flags))
    }

    // ---- pte -----------------------------------------------------------

    #[inline]
    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte {
        Pte(self.layout().pfn_pte(pfn, prot.0))
    }
    #[inline(always)]
    fn pte_pfn(&self, pte: Pte) -> u64 {
        self.layout().pte_pfn(pte.0)
    }
    #[inline]
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte {
        Pte(self.layout().pte_modify(pte.0, prot.0))
    }
    #[inline]
    fn pte_none(&self, pte: Pte) -> bool {
        self.layout().pte_none(pte.0)
    }
    #[inline]
    fn pte_present(&self, pte: Pte) -> bool {
        self.layout().pte_present(pte.0)
    }
    #[inline]
    fn pte_young(&self, pte: Pte) -> bool {
        self.layout().pte_young(pte.0)
    }
    #[inline]
    fn pte_dirty(&self, pte: Pte) -> bool {
        self.layout().pte_dirty(pte.0)
    }
    #[inline(always)]
    fn pte_write(&self, pte: Pte) -> bool {
        self.layout().pte_write(pte.0)
    }
    #[inline]
    fn pte_exec(&self, pte: Pte) -> bool {
        self.layout().pte_exec(pte.0)
    }
    #[inline]
    fn pte_special(&self, pte: Pte) -> bool {
        self.layout().pte_special(pte.0)
    }
    #[inline]
    fn pte_protnone(&self, pte: Pte) -> bool {
        self.layout().pte_protnone(pte.0)
    }
    #[inline]
    fn pte_devmap(&self, pte: Pte) -> bool {
        self.layout().pte_devmap(pte.0)
    }
    #[inline]
    fn pte_soft_dirty(&self, pte: Pte) -> bool {
        self.layout().pte_soft_dirty(pte.0)
    }
    #[inline]
    fn pte_uffd_wp(&self, pte: Pte) -> bool {
        self.layout().pte_uffd_wp(pte.0)
    }
    #[inline]
    fn pte_mkyoung(&self, pte: Pte) -> Pte {
        Pte(self.layout().set_flags(pte.0, _PAGE_ACCESSED))
    }
    #[inline]
    fn pte_mkold(&self, pte: Pte) -> Pte {
        Pte(self.layout().clear_flags(pte.0, _PAGE_ACCESSED))
    }
    #[inline]
    fn pte_mkdirty(&self, pte: Pte) -> Pte {
        Pte(self.layout().pte_mkdirty(pte.0))
    }
    #[inline]
    fn pte_mkclean(&self, pte: Pte) -> Pte {
        Pte(self.layout().pte_mkclean(pte.0))
    }
    /// `pte_mkwrite_novma()` (pgtable.h, v6.6): sets RW only (the
    /// SavedDirty→Dirty move is in `pte_mkwrite()`, [`X86::pte_mkwrite`]).
    #[inline]
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte {
        Pte(self.layout().set_flags(pte.0, _PAGE_RW))
    }
    #[inline]
    fn pte_wrprotect(&self, pte: Pte) -> Pte {
        Pte(self.layout().pte_wrprotect(pte.0))
    }
    #[inline]
    fn pte_mkexec(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.clear_flags(pte.0, l.nx))
    }
    #[inline]
    fn pte_mkspecial(&self, pte: Pte) -> Pte {
        Pte(self.layout().set_flags(pte.0, _PAGE_SPECIAL))
    }
    /// `pte_mkdevmap()` (pgtable.h): sets SPECIAL and DEVMAP (DEVMAP is 0
    /// on 2-level).
    #[inline]
    fn pte_mkdevmap(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.set_flags(pte.0, _PAGE_SPECIAL | l.devmap))
    }
    #[inline]
    fn pte_mksoft_dirty(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.set_flags(pte.0, l.soft_dirty))
    }
    #[inline]
    fn pte_clear_soft_dirty(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.clear_flags(pte.0, l.soft_dirty))
    }
    #[inline]
    fn pte_mkuffd_wp(&self, pte: Pte) -> Pte {
        Pte(self.layout().pte_mkuffd_wp(pte.0))
    }
    #[inline]
    fn pte_clear_uffd_wp(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.clear_flags(pte.0, l.uffd_wp))
    }
    /// The MMU uses a pte only with `_PAGE_PRESENT` (PROT_NONE entries are
    /// `pte_present()` through PROTNONE, and on 32-bit `pte_protnone()` is 0).
    #[inline(always)]
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        self.layout().v(pte.0) & _PAGE_PRESENT != 0
    }
    /// The MMU uses a pmd leaf only with `_PAGE_PRESENT`: a
    /// `pmd_mkinvalid()`-ed THP stays `pmd_present()` through PSE.
    #[inline(always)]
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        self.layout().v(pmd.0) & _PAGE_PRESENT != 0
    }
    #[inline]
    fn pud_pfn(&self, pud: Pud) -> u64 {
        self.layout().pud_pfn(pud.0)
    }
    /// `pud_write()` (pgtable.h): `pud_flags() & _PAGE_RW`.
    #[inline]
    fn pud_write(&self, pud: Pud) -> bool {
        self.layout().pud_flags(pud.0) & _PAGE_RW != 0
    }

    // ---- swap ptes -----------------------------------------------------

    #[inline]
    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry {
        SwpEntry(self.layout().swp_entry(ty, offset))
    }
    #[inline]
    fn __swp_type(&self, e: SwpEntry) -> u64 {
        self.layout().swp_type(e.0)
    }
    #[inline]
    fn __swp_offset(&self, e: SwpEntry) -> u64 {
        self.layout().swp_offset(e.0)
    }
    #[inline]
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry {
        SwpEntry(self.layout().pte_to_swp_entry(pte.0))
    }
    #[inline]
    fn __swp_entry_to_pte(&self, e: SwpEntry) -> Pte {
        Pte(self.layout().swp_entry_to_pte(e.0))
    }
    /// `__swp_offset(__swp_entry(0, ~0UL))`: 2^50-1 on x86_64, 2^27-1 on
    /// PAE (the 32-bit `swp_entry_t` holds 27 offset bits), 2^23-1 on
    /// 2-level.  The generic probe through `swp_entry()` (swapops.h) is
    /// further limited to `BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT` = 26
    /// bits on 32-bit, i.e. 2^26-1 on PAE.
    #[inline]
    fn max_swapfile_offset(&self) -> u64 {
        let l = self.layout();
        l.swp_offset(l.swp_entry(0, u64::MAX))
    }
    #[inline]
    fn pte_swp_soft_dirty(&self, pte: Pte) -> bool {
        let l = self.layout();
        l.pte_flags(pte.0) & l.swp_soft_dirty != 0
    }
    #[inline]
    fn pte_swp_mksoft_dirty(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.set_flags(pte.0, l.swp_soft_dirty))
    }
    #[inline]
    fn pte_swp_clear_soft_dirty(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.clear_flags(pte.0, l.swp_soft_dirty))
    }
    #[inline]
    fn pte_swp_exclusive(&self, pte: Pte) -> bool {
        let l = self.layout();
        l.pte_flags(pte.0) & l.swp_exclusive != 0
    }
    #[inline]
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.set_flags(pte.0, l.swp_exclusive))
    }
    #[inline]
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte {
        let l = self.layout();
        Pte(l.clear_flags(pte.0, l.swp_exclusive))
    }
    #[inline]
    fn pte_swp_uffd_wp(&self, pte: Pte) -> bool {
        let l = self.layout();
        l.pte_flags(pte.0) & l.swp_uffd_wp != 0
    }

    // ---- pmd -----------------------------------------------------------

    #[inline]
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd {
        Pmd(self.layout().pfn_pmd(pfn, prot.0))
    }
    #[inline]
    fn pmd_pfn(&self, pmd: Pmd) -> u64 {
        self.layout().pmd_pfn(pmd.0)
    }
    #[inline]
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd {
        Pmd(self.layout().pmd_modify(pmd.0, prot.0))
    }
    #[inline(always)]
    fn pmd_none(&self, pmd: Pmd) -> bool {
        self.layout().pmd_none(pmd.0)
    }
    #[inline(always)]
    fn pmd_present(&self, pmd: Pmd) -> bool {
        self.layout().pmd_present(pmd.0)
    }
    #[inline(always)]
    fn pmd_bad(&self, pmd: Pmd) -> bool {
        self.layout().pmd_bad(pmd.0)
    }
    #[inline(always)]
    fn pmd_leaf(&self, pmd: Pmd) -> bool {
        self.layout().pmd_leaf(pmd.0)
    }
    #[inline]
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool {
        self.layout().pmd_trans_huge(pmd.0)
    }
    #[inline]
    fn pmd_devmap(&self, pmd: Pmd) -> bool {
        self.layout().pmd_devmap(pmd.0)
    }
    #[inline]
    fn pmd_protnone(&self, pmd: Pmd) -> bool {
        self.layout().pmd_protnone(pmd.0)
    }
    #[inline]
    fn pmd_young(&self, pmd: Pmd) -> bool {
        self.layout().pmd_flags(pmd.0) & _PAGE_ACCESSED != 0
    }
    #[inline]
    fn pmd_dirty(&self, pmd: Pmd) -> bool {
        let l = self.layout();
        l.pmd_flags(pmd.0) & l.dirty_bits() != 0
    }
    /// `pmd_write()` (pgtable.h, v6.6): RW (`pmd_shstk()` is false).
    #[inline]
    fn pmd_write(&self, pmd: Pmd) -> bool {
        self.layout().pmd_flags(pmd.0) & _PAGE_RW != 0
    }
    #[inline]
    fn pmd_soft_dirty(&self, pmd: Pmd) -> bool {
        let l = self.layout();
        l.has_soft_dirty && l.pmd_flags(pmd.0) & l.soft_dirty != 0
    }
    #[inline]
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().set_flags(pmd.0, _PAGE_ACCESSED))
    }
    #[inline]
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().clear_flags(pmd.0, _PAGE_ACCESSED))
    }
    #[inline]
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().pte_mkdirty(pmd.0))
    }
    #[inline]
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().pte_mkclean(pmd.0))
    }
    #[inline]
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().set_flags(pmd.0, _PAGE_RW))
    }
    #[inline]
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().pte_wrprotect(pmd.0))
    }
    #[inline]
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().set_flags(pmd.0, _PAGE_PSE))
    }
    /// `pmd_mkdevmap()` (pgtable.h): DEVMAP only (no SPECIAL).
    #[inline]
    fn pmd_mkdevmap(&self, pmd: Pmd) -> Pmd {
        let l = self.layout();
        Pmd(l.set_flags(pmd.0, l.devmap))
    }
    #[inline]
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout().pmd_mkinvalid(pmd.0))
    }
    #[inline]
    fn pmd_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        let l = self.layout();
        Pmd(l.set_flags(pmd.0, l.soft_dirty))
    }
    #[inline]
    fn pmd_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        let l = self.layout();
        Pmd(l.clear_flags(pmd.0, l.soft_dirty))
    }
    #[inline]
    fn pmd_populate(&self, table_pa: u64) -> Pmd {
        Pmd(self.layout().pmd_populate(table_pa))
    }
    #[inline(always)]
    fn pmd_table_pa(&self, pmd: Pmd) -> u64 {
        self.layout().pmd_table_pa(pmd.0)
    }
    /// `CONFIG_ARCH_ENABLE_THP_MIGRATION`: `select ... if X86_64 &&
    /// TRANSPARENT_HUGEPAGE` (arch/x86/Kconfig).
    #[inline]
    fn has_pmd_swap(&self) -> bool {
        self.mode == X86Mode::X86_64
    }
    /// `__pmd_to_swp_entry()` (pgtable_64.h): the raw value.  Without THP
    /// migration (32-bit) there is no arch form; this returns the
    /// `swp_entry(0, 0)` that the `include/linux/swapops.h` stub gives.
    #[inline]
    fn __pmd_to_swp_entry(&self, pmd: Pmd) -> SwpEntry {
        match self.mode {
            X86Mode::X86_64 => SwpEntry(pmd.0),
            X86Mode::Pae | X86Mode::X86_32 => SwpEntry(0),
        }
    }
    /// `__swp_entry_to_pmd()` (pgtable_64.h): the raw value; `__pmd(0)` (the
    /// swapops.h stub) without THP migration.
    #[inline]
    fn __swp_entry_to_pmd(&self, e: SwpEntry) -> Pmd {
        match self.mode {
            X86Mode::X86_64 => Pmd(e.0),
            X86Mode::Pae | X86Mode::X86_32 => Pmd(0),
        }
    }
    #[inline]
    fn pmd_swp_soft_dirty(&self, pmd: Pmd) -> bool {
        let l = self.layout();
        l.pmd_flags(pmd.0) & l.swp_soft_dirty != 0
    }
    #[inline]
    fn pmd_swp_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        let l = self.layout();
        Pmd(l.set_flags(pmd.0, l.swp_soft_dirty))
    }
    #[inline]
    fn pmd_swp_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        let l = self.layout();
        Pmd(l.clear_flags(pmd.0, l.swp_soft_dirty))
    }

    // ---- upper levels --------------------------------------------------

    /// x86_64 and PAE: `pud_none()` of pgtable.h (on PAE the PDPT entry,
    /// masked with `PGD_ALLOWED_BITS`); 2-level: folded, false.
    #[inline(always)]
    fn pud_none(&self, pud: Pud) -> bool {
        match self.mode {
            X86Mode::X86_32 => false,
            _ => self.layout().pud_none(pud.0),
        }
    }
    /// x86_64 and PAE: `pud_present()` (pgtable.h); 2-level: folded, true.
    #[inline]
    fn pud_present(&self, pud: Pud) -> bool {
        match self.mode {
            X86Mode::X86_32 => true,
            _ => self.layout().pud_present(pud.0),
        }
    }
    /// x86_64 and PAE: `pud_bad()` (pgtable.h); 2-level: folded, false.
    #[inline(always)]
    fn pud_bad(&self, pud: Pud) -> bool {
        match self.mode {
            X86Mode::X86_32 => false,
            _ => self.layout().pud_bad(pud.0),
        }
    }
    /// `pud_leaf()` = `pud_large()` (pgtable.h): PSE|PRESENT with
    /// `CONFIG_PGTABLE_LEVELS > 2` (never on PAE, where `PGD_ALLOWED_BITS`
    /// drops PSE), 0 on 2-level.
    #[inline(always)]
    fn pud_leaf(&self, pud: Pud) -> bool {
        match self.mode {
            X86Mode::X86_32 => false,
            _ => self.layout().pud_leaf(pud.0),
        }
    }
    /// x86_64: `_PAGE_TABLE | __pa(pmd)` (`asm/pgalloc.h`); PAE:
    /// `__pa(pmd) | _PAGE_PRESENT` (`arch/x86/mm/pgtable.c`: "almost
    /// everything apart from _PAGE_PRESENT is reserved at the pmd (PDPT)
    /// level"); 2-level: a no-op (`pgtable-nopmd.h`), the slot holds
    /// [`Arch::pmd_populate`]'s value.
    #[inline]
    fn pud_populate(&self, table_pa: u64) -> Pud {
        let l = self.layout();
        match self.mode {
            X86Mode::X86_64 => Pud(table_pa | _PAGE_TABLE),
            X86Mode::Pae => Pud(l.native_pud_val(table_pa | _PAGE_PRESENT)),
            X86Mode::X86_32 => Pud(l.pmd_populate(table_pa)),
        }
    }
    /// `pud_pgtable()` as a physical address (pgtable.h): `pud_val &
    /// pud_pfn_mask(pud)`; 2-level reads the slot as a pmd.
    #[inline(always)]
    fn pud_table_pa(&self, pud: Pud) -> u64 {
        let l = self.layout();
        match self.mode {
            X86Mode::X86_32 => l.pmd_table_pa(pud.0),
            _ => l.native_pud_val(pud.0) & l.pud_pfn_mask(pud.0),
        }
    }
    /// x86_64: `p4d_none()` (pgtable.h); 32-bit: folded, false.
    #[inline(always)]
    fn p4d_none(&self, p4d: P4d) -> bool {
        match self.mode {
            X86Mode::X86_64 => self.layout().p4d_none(p4d.0),
            _ => false,
        }
    }
    /// x86_64: `p4d_present()` (pgtable.h); 32-bit: folded, true.
    #[inline]
    fn p4d_present(&self, p4d: P4d) -> bool {
        match self.mode {
            X86Mode::X86_64 => self.layout().p4d_present(p4d.0),
            _ => true,
        }
    }
    /// x86_64: `p4d_bad()` (pgtable.h, NX ignored with
    /// `CONFIG_PAGE_TABLE_ISOLATION`); 32-bit: folded, false.
    #[inline(always)]
    fn p4d_bad(&self, p4d: P4d) -> bool {
        match self.mode {
            X86Mode::X86_64 => self.layout().p4d_bad(p4d.0),
            _ => false,
        }
    }
    /// x86_64: `_PAGE_TABLE | __pa(pud)` (`asm/pgalloc.h`); 32-bit: a no-op,
    /// the slot holds the real level's populate value.
    #[inline]
    fn p4d_populate(&self, table_pa: u64) -> P4d {
        match self.mode {
            X86Mode::X86_64 => P4d(table_pa | _PAGE_TABLE),
            X86Mode::Pae => P4d(self.pud_populate(table_pa).0),
            X86Mode::X86_32 => P4d(self.layout().pmd_populate(table_pa)),
        }
    }
    /// x86_64: `p4d_pgtable()` (`p4d_val & PTE_PFN_MASK`); 32-bit: as the
    /// real level below.
    #[inline(always)]
    fn p4d_table_pa(&self, p4d: P4d) -> u64 {
        let l = self.layout();
        match self.mode {
            X86Mode::X86_64 => l.native_pud_val(p4d.0) & l.pte_pfn_mask,
            X86Mode::Pae => self.pud_table_pa(Pud(p4d.0)),
            X86Mode::X86_32 => l.pmd_table_pa(p4d.0),
        }
    }
    /// Folded in all three (x86_64: `pgd_none()` returns 0 when
    /// `!pgtable_l5_enabled()`; 32-bit: `pgtable-nopud.h`).
    #[inline(always)]
    fn pgd_none(&self, _pgd: Pgd) -> bool {
        false
    }
    /// Folded in all three: true.
    #[inline]
    fn pgd_present(&self, _pgd: Pgd) -> bool {
        true
    }
    /// Folded in all three: false.
    #[inline(always)]
    fn pgd_bad(&self, _pgd: Pgd) -> bool {
        false
    }
    /// `pgd_populate()` is a no-op in all three (x86_64 returns early
    /// without LA57); the slot holds the populate value of the real level
    /// folded into it (p4d, PAE pud, 2-level pmd).
    #[inline]
    fn pgd_populate(&self, table_pa: u64) -> Pgd {
        Pgd(self.p4d_populate(table_pa).0)
    }
    /// `pgd_page_vaddr()` as a physical address (`pgd_val & PTE_PFN_MASK`),
    /// read as the real level folded into the slot.
    #[inline]
    fn pgd_table_pa(&self, pgd: Pgd) -> u64 {
        self.p4d_table_pa(P4d(pgd.0))
    }

    /// The guest x86 MMU under Unicorn ([`emulate::X86Walker`]).
    #[cfg(feature = "emulate")]
    #[inline]
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        Ok(Box::new(emulate::X86Walker::new_for(
            self.geometry.name,
            machine,
        )?))
    }
}
