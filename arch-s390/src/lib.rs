//! ptlab's s390x page tables with Linux v6.6's real entry encodings.
//!
//! | name | ASCE type of a new mm | levels, growing to | `asce_limit` of a new mm | page tables |
//! |---|---|---|---|---|
//! | `s390x` | region-third | 3 -> 4 -> 5 | 4 TiB (`_REGION2_SIZE`) | 2K, two per 4K page |
//! | `s390x-4level` | region-second | 4 -> 5 | 8 PiB (`_REGION1_SIZE`) | 2K, two per page |
//! | `s390x-5level` | region-first | 5 | `TASK_SIZE_MAX` | 2K, two per page |
//! | `s390x-pgste` | region-third | 3 -> 4 -> 5 | 4 TiB | 4K: 256 ptes + 256 PGSTEs |
//!
//! The levels of an mm grow on demand ([`Arch::shapes`],
//! [`mm_core::Mm::upgrade`] = `crst_table_upgrade()`, called by the mmap
//! path); [`S390::context_asce`] is the ASCE of the mm's current shape.
//!
//! Entries are big-endian 64-bit words.  Region and segment tables are 16K
//! (2048 entries, order-2 allocations); page tables hold 256 entries.  An
//! empty pte is `_PAGE_INVALID` (0x400) and an empty segment entry
//! `_SEGMENT_ENTRY_EMPTY` (0x20), not zero, and empty region entries keep
//! their table type (`_REGION3_ENTRY_EMPTY` 0x24 ...): [`Arch::pte_clear_val`]
//! .. [`Arch::pgd_clear_val`] and every table allocation fill them in.  See
//! [`geometry`] for why the number of levels is a configuration here and
//! per mm in Linux, [`entry`] for every bit and the Kconfig/machine
//! assumptions, [`alloc`] for the 2K-half allocator and both forms of
//! `pte_free_defer()`, [`emulate`] for the Unicorn DAT walker.
//!
//! Run-time variants ([`Arch::variants`]): `merged` (v6.6, the default),
//! `v1` (as posted on 2023-05-28), `v1-mmdrop` (v1 with the plain `mmdrop()`
//! its changelog rejects).

pub mod alloc;
#[cfg(feature = "emulate")]
pub mod emulate;
pub mod entry;
pub mod geometry;

#[cfg(feature = "emulate")]
use std::sync::Arc;

use mm_core::arch::{
    ArchFeatures, FlagBit, FlagKind, Geometry, Level, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry,
};
#[cfg(feature = "emulate")]
use mm_core::emulate::{EmuError, HwWalker};
use mm_core::mm::Top;
#[cfg(feature = "emulate")]
use mm_core::Machine;
use mm_core::{Arch, Mm, MmError};

use entry::*;

/// Which form of `pte_free_defer()` (and of the `page_table_free()` it was
/// written against) runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// v6.6: `SetPageActive()` + `page_table_free()`; one RCU callback for
    /// the page once both halves are free.
    Merged,
    /// v1 as posted: `mmgrab()`, `mm | half` in the page, `call_rcu()` on
    /// the page's rcu_head; `page_table_free()` + `mmdrop_async()` in the
    /// callback.
    V1,
    /// v1 with a plain `mmdrop()` in the callback (the rejected form).
    V1Mmdrop,
}

/// The variants, as [`Arch::variants`] lists them.
const VARIANTS: &[(&str, &str)] = &[
    (
        "merged",
        "v6.6: SetPageActive + page_table_free; a PageActive page never goes back on \
         pgtable_list; one call_rcu once both halves are free",
    ),
    (
        "v1",
        "as posted 2023-05-28: mmgrab, mm|half in the page, call_rcu on the page's rcu_head, \
         page_table_free + mmdrop_async in the callback",
    ),
    (
        "v1-mmdrop",
        "v1 with a plain mmdrop() in the RCU callback (rejected in v1's changelog)",
    ),
];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Merged => "merged",
            Variant::V1 => "v1",
            Variant::V1Mmdrop => "v1-mmdrop",
        }
    }
}

/// One s390x configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S390 {
    levels: u32,
    pgste: bool,
    variant: Variant,
    geometry: Geometry,
    shapes: Vec<Geometry>,
}

/// (name, levels, pgste) of each configuration.
const CONFIGS: [(&str, u32, bool); 4] = [
    ("s390x", 3, false),
    ("s390x-4level", 4, false),
    ("s390x-5level", 5, false),
    ("s390x-pgste", 3, true),
];

impl S390 {
    /// The configuration names, as the CLI spells them.
    pub fn configurations() -> &'static [&'static str] {
        &["s390x", "s390x-4level", "s390x-5level", "s390x-pgste"]
    }

    /// The configuration called `name` (see [`S390::configurations`]), with
    /// the default (`merged`) variant.
    pub fn from_name(name: &str) -> Option<S390> {
        CONFIGS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|&(n, levels, pgste)| S390 {
                levels,
                pgste,
                variant: Variant::Merged,
                geometry: geometry::geometry(n, levels, pgste),
                shapes: geometry::shapes(n, levels, pgste),
            })
    }

    /// The configuration `name` with `variant` selected.
    ///
    /// # Errors
    /// [`MmError::Unsupported`] for an unknown name or variant.
    pub fn with_variant(name: &str, variant: &str) -> Result<S390, MmError> {
        let mut a = S390::from_name(name)
            .ok_or_else(|| MmError::Unsupported(format!("configuration '{name}'")))?;
        a.select_variant(variant)?;
        Ok(a)
    }

    /// Number of levels of a new mm of the configuration (3, 4 or 5): its
    /// shape 0.
    pub fn levels(&self) -> u32 {
        self.levels
    }

    /// Number of levels of shape `shape` ([`Arch::shapes`]).
    pub fn shape_levels(&self, shape: usize) -> u32 {
        self.levels + shape as u32
    }

    /// `mm_alloc_pgste()`: page tables carry PGSTEs.
    pub fn pgste(&self) -> bool {
        self.pgste
    }

    /// The selected `pte_free_defer()` form.
    pub fn variant_kind(&self) -> Variant {
        self.variant
    }

    #[cfg_attr(not(feature = "emulate"), allow(dead_code))]
    pub(crate) fn geometry_name(&self) -> &'static str {
        self.geometry.name
    }

    /// The ASCE `init_new_context()` builds for a new mm whose top table
    /// is at `pgd_pa`: `__pa(pgd) | _ASCE_TABLE_LENGTH | _ASCE_USER_BITS |
    /// type`.
    pub fn asce(&self, pgd_pa: u64) -> u64 {
        self.asce_of(Top {
            pa: pgd_pa,
            shape: 0,
        })
    }

    /// The ASCE of an mm whose top table and shape are `top`: the type of
    /// the shape's top table (`crst_table_upgrade()` sets
    /// `_ASCE_TYPE_REGION2` / `_ASCE_TYPE_REGION1` with the new table).
    pub fn asce_of(&self, top: Top) -> u64 {
        let ty = match self.shape_levels(top.shape) {
            5 => _ASCE_TYPE_REGION1,
            4 => _ASCE_TYPE_REGION2,
            _ => _ASCE_TYPE_REGION3,
        };
        (top.pa & _ASCE_ORIGIN) | _ASCE_TABLE_LENGTH | _ASCE_USER_BITS | ty
    }

    /// `mm->context.asce`: the ASCE of `mm`'s current top table and shape,
    /// from one read of the word they are published in together.
    pub fn context_asce(&self, mm: &Mm<S390>) -> u64 {
        self.asce_of(mm.top())
    }

    /// `mm->context.asce_limit` of shape `shape`: 4 TiB, 8 PiB or
    /// `TASK_SIZE_MAX`.
    pub fn asce_limit(&self, shape: usize) -> u64 {
        self.shapes[shape].task_size
    }

    /// `pgd_offset_raw(pgd, address)` (pgtable.h, v6.6): the entry of the
    /// top table at `top_pa` for `addr`, with the index shift taken from
    /// the table type of the table's *first* entry
    /// (`((rste & _REGION_ENTRY_TYPE_MASK) >> 2) * 11 + 20`) — the walk
    /// describes itself, which is why empty region entries must keep their
    /// type bits.
    ///
    /// # Errors
    /// Memory errors reading the first entry.
    pub fn pgd_offset_raw(&self, mm: &Mm<S390>, top_pa: u64, addr: u64) -> Result<u64, MmError> {
        let rste = mm.phys().load(top_pa, 8)?;
        let shift = ((rste & _REGION_ENTRY_TYPE_MASK) >> 2) * 11 + 20;
        Ok(top_pa + ((addr >> shift) & 2047) * 8)
    }

    /// The pmd (segment-table entry) for `addr` found the way s390's walk
    /// finds it, from nothing but the top table at `top_pa`:
    /// [`S390::pgd_offset_raw`], then `p4d_offset()` / `pud_offset()` /
    /// `pmd_offset()` (pgtable.h, v6.6), each of which descends only when
    /// the entry's type says it is of that level (`pgd` of type R1, `p4d`
    /// of type R2, `pud` of type R3) and otherwise returns the pointer it
    /// was given (a folded level).  `None` where an entry on the way is
    /// none (its I bit) or a large region-third entry, as the generic walk
    /// stops there.  Lets tests check that the model's shape-carrying walk
    /// and the self-describing one agree.
    ///
    /// # Errors
    /// Memory errors.
    pub fn pmd_offset_raw(
        &self,
        mm: &Mm<S390>,
        top_pa: u64,
        addr: u64,
    ) -> Result<Option<u64>, MmError> {
        let mut p = self.pgd_offset_raw(mm, top_pa, addr)?;
        for (ty, next_shift) in [
            (_REGION_ENTRY_TYPE_R1, 42),
            (_REGION_ENTRY_TYPE_R2, 31),
            (_REGION_ENTRY_TYPE_R3, 20),
        ] {
            let e = mm.phys().load(p, 8)?;
            if e & _REGION_ENTRY_TYPE_MASK != ty {
                continue;
            }
            if e & _REGION_ENTRY_INVALID != 0
                || (ty == _REGION_ENTRY_TYPE_R3 && e & _REGION3_ENTRY_LARGE != 0)
            {
                return Ok(None);
            }
            p = (e & _REGION_ENTRY_ORIGIN) + ((addr >> next_shift) & 2047) * 8;
        }
        Ok(Some(p))
    }

    /// The PGSTE of the pte at `ptep_pa` in a pgste page table
    /// (`pgste_get()`: the word `PTRS_PER_PTE` entries further on).
    ///
    /// # Errors
    /// [`MmError::Unsupported`] without PGSTEs; memory errors.
    pub fn pgste_get(&self, mm: &Mm<S390>, ptep_pa: u64) -> Result<u64, MmError> {
        if !self.pgste {
            return Err(MmError::Unsupported(format!(
                "{} page tables have no PGSTEs",
                self.geometry.name
            )));
        }
        mm.phys().load(ptep_pa + 256 * 8, 8)
    }

    /// `pgste_set()`.
    ///
    /// # Errors
    /// As [`S390::pgste_get`].
    pub fn pgste_set(&self, mm: &Mm<S390>, ptep_pa: u64, pgste: u64) -> Result<(), MmError> {
        self.pgste_get(mm, ptep_pa)?;
        mm.phys().store(ptep_pa + 256 * 8, 8, pgste)
    }

    /// `page_table_free_rcu()` (see [`alloc::page_table_free_rcu`]).
    ///
    /// # Errors
    /// As [`alloc::page_table_free`].
    pub fn page_table_free_rcu(&self, mm: &Mm<S390>, table_pa: u64) -> Result<u64, MmError> {
        alloc::page_table_free_rcu(self, mm, table_pa)
    }

    /// `pmdp_invalidate()` (s390 defines `__HAVE_ARCH_PMDP_INVALIDATE`): the
    /// value it stores, the pmd with `_SEGMENT_ENTRY_INVALID` set.
    pub fn pmdp_invalidate_val(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _SEGMENT_ENTRY_INVALID)
    }
}

/// `flag_bits()` of s390x: pte bits (kind `Pte`), segment-entry bits (kind
/// `Leaf` for large-segment software bits, `Entry` where the meaning is the
/// same in every entry), swap bits.
static FLAGS: &[FlagBit] = &[
    FlagBit {
        name: "PRESENT",
        mask: _PAGE_PRESENT,
        doc: "0x001, IBM bit 63: software present (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "SOFT_DIRTY",
        mask: _PAGE_SOFT_DIRTY,
        doc: "0x002, IBM bit 62: software soft-dirty, CONFIG_MEM_SOFT_DIRTY (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "YOUNG",
        mask: _PAGE_YOUNG,
        doc:
            "0x004, IBM bit 61: software young; I is kept set unless young and readable (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "DIRTY",
        mask: _PAGE_DIRTY,
        doc:
            "0x008, IBM bit 60: software dirty; P is kept set unless dirty and writable (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "READ",
        mask: _PAGE_READ,
        doc: "0x010, IBM bit 59: software read permission (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "WRITE",
        mask: _PAGE_WRITE,
        doc: "0x020, IBM bit 58: software write permission (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "SPECIAL",
        mask: _PAGE_SPECIAL,
        doc: "0x040, IBM bit 57: software, pte_special() (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "UNUSED",
        mask: _PAGE_UNUSED,
        doc: "0x080, IBM bit 56: software, pgste usage state (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "NOEXEC",
        mask: _PAGE_NOEXEC,
        doc: "0x100, IBM bit 55, IEP: instruction-execution protection (pgtable.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "PROTECT",
        mask: _PAGE_PROTECT,
        doc: "0x200, IBM bit 54, P: write protection, in every entry type (pgtable.h)",
        kind: FlagKind::Entry,
    },
    FlagBit {
        name: "INVALID",
        mask: _PAGE_INVALID,
        doc: "0x400, IBM bit 53, I: invalid page (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "LARGE",
        mask: _PAGE_LARGE,
        doc: "0x800, IBM bit 52: must be 0 in a valid pte; software _PAGE_LARGE (pgtable.h)",
        kind: FlagKind::Pte,
    },
    FlagBit {
        name: "SEG_READ",
        mask: _SEGMENT_ENTRY_READ,
        doc: "0x001: software read of a large segment (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SEG_WRITE",
        mask: _SEGMENT_ENTRY_WRITE,
        doc: "0x002: software write of a large segment (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "TT_R1",
        mask: _SEGMENT_ENTRY_TYPE_MASK,
        doc: "0x00c, IBM bits 60-61, TT = 11: a region-first entry (10 R2, 01 R3, 00 segment; only 11 decodes as a name) (pgtable.h)",
        kind: FlagKind::Table,
    },
    FlagBit {
        name: "TABLE_INVALID",
        mask: _SEGMENT_ENTRY_INVALID,
        doc: "0x020, IBM bit 58, I: invalid segment/region entry (pgtable.h)",
        kind: FlagKind::Table,
    },
    FlagBit {
        name: "SEG_INVALID",
        mask: _SEGMENT_ENTRY_INVALID,
        doc: "0x020, IBM bit 58, I: invalid large segment (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SEG_LARGE",
        mask: _SEGMENT_ENTRY_LARGE,
        doc: "0x400, IBM bit 53, FC: 1M large segment, EDAT-1 (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SEG_YOUNG",
        mask: _SEGMENT_ENTRY_YOUNG,
        doc: "0x1000: software young of a large segment, in the ACC field (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SEG_DIRTY",
        mask: _SEGMENT_ENTRY_DIRTY,
        doc: "0x2000: software dirty of a large segment (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SEG_SOFT_DIRTY",
        mask: _SEGMENT_ENTRY_SOFT_DIRTY,
        doc: "0x4000: software soft-dirty of a large segment (pgtable.h)",
        kind: FlagKind::Leaf,
    },
    FlagBit {
        name: "SWP_SOFT_DIRTY",
        mask: _PAGE_SOFT_DIRTY,
        doc: "0x002 in a swap pte: soft-dirty (pgtable.h)",
        kind: FlagKind::Swap,
    },
    FlagBit {
        name: "SWP_PROTECT",
        mask: _PAGE_PROTECT,
        doc: "0x200 in a swap pte: always set (pgtable.h)",
        kind: FlagKind::Swap,
    },
    FlagBit {
        name: "SWP_INVALID",
        mask: _PAGE_INVALID,
        doc: "0x400 in a swap pte: always set (pgtable.h)",
        kind: FlagKind::Swap,
    },
    FlagBit {
        name: "SWP_EXCLUSIVE",
        mask: _PAGE_SWP_EXCLUSIVE,
        doc: "0x800 in a swap pte: PG_anon_exclusive, = _PAGE_LARGE (pgtable.h)",
        kind: FlagKind::Swap,
    },
];

impl Arch for S390 {
    /// No device-private or hwpoison swap types here
    /// ([`entry::SWAP_TYPES`]): `MAX_SWAPFILES` is 28.
    fn swap_types(&self) -> mm_core::swapops::SwapTypes {
        entry::SWAP_TYPES
    }
    type MmContext = alloc::S390Context;

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The 3-, 4- and 5-level shapes from the configuration's starting
    /// shape up ([`geometry::shapes`]).
    fn shapes(&self) -> &[Geometry] {
        &self.shapes
    }

    /// `crst_table_alloc()` + `crst_table_init()` of the new top table of
    /// an upgrade: `_REGION2_ENTRY_EMPTY` for a region-second top,
    /// `_REGION1_ENTRY_EMPTY` for a region-first one.
    fn upgrade_table_alloc(&self, mm: &Mm<Self>, shape: usize) -> Result<u64, MmError> {
        let levels = self.shape_levels(shape);
        alloc::crst_table_alloc(mm, alloc::crst_init_entry(levels, Level::Pgd))
    }

    fn features(&self) -> ArchFeatures {
        ArchFeatures {
            // HAVE_ARCH_SOFT_DIRTY, CONFIG_MEM_SOFT_DIRTY=y assumed.
            soft_dirty: true,
            // ARCH_HAS_PTE_SPECIAL is selected (arch/s390/Kconfig).
            pte_special: true,
            // No ARCH_HAS_PTE_DEVMAP on s390.
            pte_devmap: false,
            // ARCH_SUPPORTS_NUMA_BALANCING is selected; NUMA_BALANCING=y.
            numa_balancing: true,
            // No HAVE_ARCH_USERFAULTFD_WP on s390.
            uffd_wp: false,
            // No HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD (2G region-third leaves
            // exist only for hugetlbfs).
            thp_pud: false,
            // __HAVE_ARCH_PMDP_INVALIDATE (pgtable.h): pmdp_invalidate()
            // sets _SEGMENT_ENTRY_INVALID itself.
            arch_pmdp_invalidate: true,
        }
    }

    fn variants(&self) -> &'static [(&'static str, &'static str)] {
        VARIANTS
    }

    fn variant(&self) -> &'static str {
        self.variant.name()
    }

    fn select_variant(&mut self, name: &str) -> Result<(), MmError> {
        self.variant = match name {
            "merged" => Variant::Merged,
            "v1" => Variant::V1,
            "v1-mmdrop" => Variant::V1Mmdrop,
            _ => {
                return Err(MmError::Unsupported(format!(
                    "variant '{name}' of {} (known: merged, v1, v1-mmdrop)",
                    self.geometry.name
                )))
            }
        };
        Ok(())
    }

    fn expected_failures(&self) -> &'static [(&'static str, &'static str)] {
        match self.variant {
            Variant::Merged => &[(
                "rcu_head_reuse",
                "s390 v6.6 never queues a page's rcu_head per table: pte_free_defer() frees the \
                 half at once (PageActive keeps it from reuse) and queues the page once both \
                 halves are free, so a second pte_free_defer() of one table is a double \
                 page_table_free(), which the model reports as such, not an rcu_head reuse",
            )],
            Variant::V1 | Variant::V1Mmdrop if self.pgste => &[(
                "rcu_head_reuse",
                "v1 reports the second call_rcu() on the page's queued rcu_head (rcu_head_reuse) \
                 but, like Linux's void call_rcu(), returns no error to the caller",
            )],
            Variant::V1 | Variant::V1Mmdrop => &[
                (
                    "rcu_head_reuse",
                    "v1 call_rcu()s the page's rcu_head while the half-free page is on \
                     mm->context.pgtable_list, whose link the rcu_head overlays: the family sees \
                     rcu_head_overlays_list besides the reuse it expects (and v1, like Linux's \
                     void call_rcu(), returns no error for the reuse)",
                ),
                (
                    "pte_free_defer_grace",
                    "v1 call_rcu()s the page's rcu_head while the half-free page is on \
                     mm->context.pgtable_list (rcu_head_overlays_list): the flaw Gerald \
                     Schaefer found in v1",
                ),
            ],
        }
    }

    fn pte_clear_val(&self) -> Pte {
        Pte(_PAGE_INVALID)
    }

    fn pmd_clear_val(&self) -> Pmd {
        Pmd(_SEGMENT_ENTRY_EMPTY)
    }

    /// `pud_clear()`: `_REGION3_ENTRY_EMPTY` in a region-third entry.
    fn pud_clear_val(&self) -> Pud {
        Pud(_REGION3_ENTRY_EMPTY)
    }

    /// `p4d_clear()`: `_REGION2_ENTRY_EMPTY` in a region-second entry.
    fn p4d_clear_val(&self) -> P4d {
        P4d(_REGION2_ENTRY_EMPTY)
    }

    /// `pgd_clear()`: `_REGION1_ENTRY_EMPTY` in a region-first entry.
    fn pgd_clear_val(&self) -> Pgd {
        Pgd(_REGION1_ENTRY_EMPTY)
    }

    fn flag_bits(&self) -> &'static [FlagBit] {
        FLAGS
    }

    fn vm_get_page_prot(&self, flags: u8) -> Pgprot {
        Pgprot(PROTECTION_MAP[(flags & 0xf) as usize])
    }

    // ---- pte -----------------------------------------------------------

    /// `pfn_pte()` = `mk_pte_phys(pfn << PAGE_SHIFT, prot)`, which ends in
    /// `pte_mkyoung()`.
    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte {
        Pte(mk_pte_phys(pfn << PAGE_SHIFT, prot.0))
    }
    /// `pte_pfn()`: `pte_val >> PAGE_SHIFT`.
    fn pte_pfn(&self, pte: Pte) -> u64 {
        pte.0 >> PAGE_SHIFT
    }
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte {
        Pte(pte_modify(pte.0, prot.0))
    }
    fn pte_none(&self, pte: Pte) -> bool {
        pte_none(pte.0)
    }
    fn pte_present(&self, pte: Pte) -> bool {
        pte_present(pte.0)
    }
    fn pte_young(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_YOUNG != 0
    }
    fn pte_dirty(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_DIRTY != 0
    }
    fn pte_write(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_WRITE != 0
    }
    /// s390 v6.6 defines no `pte_exec()`; modelled as `_PAGE_NOEXEC` clear.
    fn pte_exec(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_NOEXEC == 0
    }
    fn pte_special(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SPECIAL != 0
    }
    fn pte_protnone(&self, pte: Pte) -> bool {
        pte_protnone(pte.0)
    }
    fn pte_soft_dirty(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SOFT_DIRTY != 0
    }
    fn pte_mkyoung(&self, pte: Pte) -> Pte {
        Pte(pte_mkyoung(pte.0))
    }
    fn pte_mkold(&self, pte: Pte) -> Pte {
        Pte(pte_mkold(pte.0))
    }
    fn pte_mkdirty(&self, pte: Pte) -> Pte {
        Pte(pte_mkdirty(pte.0))
    }
    fn pte_mkclean(&self, pte: Pte) -> Pte {
        Pte(pte_mkclean(pte.0))
    }
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte {
        Pte(pte_mkwrite_novma(pte.0))
    }
    fn pte_wrprotect(&self, pte: Pte) -> Pte {
        Pte(pte_wrprotect(pte.0))
    }
    /// s390 v6.6 defines no `pte_mkexec()`; modelled as clearing
    /// `_PAGE_NOEXEC`.
    fn pte_mkexec(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_NOEXEC)
    }
    fn pte_mkspecial(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SPECIAL)
    }
    fn pte_mksoft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SOFT_DIRTY)
    }
    fn pte_clear_soft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SOFT_DIRTY)
    }

    /// The DAT view: I clear (and the must-be-zero bit 0x800 clear).  For
    /// every pte Linux builds this is `pte_present() && !pte_protnone()`
    /// *and young*: an old pte has I set until the fault handler makes it
    /// young.
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        pte_hw_valid(pte.0)
    }
    /// The DAT view: P clear (a writable pte stays protected until dirty).
    fn pte_hw_writable(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_PROTECT == 0
    }
    /// A large segment the DAT accepts: FC set, I clear.
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        pmd_large(pmd.0) && pmd.0 & _SEGMENT_ENTRY_INVALID == 0
    }
    /// The DAT view of a large segment: P clear.
    fn pmd_hw_writable(&self, pmd: Pmd) -> bool {
        pmd.0 & _SEGMENT_ENTRY_PROTECT == 0
    }
    /// `pud_pfn()`: the large origin mask for a large region-third entry.
    fn pud_pfn(&self, pud: Pud) -> u64 {
        pud_pfn(pud.0)
    }
    /// `pud_write()`: `_REGION3_ENTRY_WRITE`.
    fn pud_write(&self, pud: Pud) -> bool {
        pud.0 & _REGION3_ENTRY_WRITE != 0
    }

    // ---- swap ----------------------------------------------------------

    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry {
        SwpEntry(mk_swap_pte(ty, offset))
    }
    fn __swp_type(&self, e: SwpEntry) -> u64 {
        swp_type(e.0)
    }
    fn __swp_offset(&self, e: SwpEntry) -> u64 {
        swp_offset(e.0)
    }
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry {
        SwpEntry(pte.0)
    }
    fn __swp_entry_to_pte(&self, e: SwpEntry) -> Pte {
        Pte(e.0)
    }
    fn max_swapfile_offset(&self) -> u64 {
        __SWP_OFFSET_MASK
    }
    fn pte_swp_soft_dirty(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SOFT_DIRTY != 0
    }
    fn pte_swp_mksoft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SOFT_DIRTY)
    }
    fn pte_swp_clear_soft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SOFT_DIRTY)
    }
    fn pte_swp_exclusive(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SWP_EXCLUSIVE != 0
    }
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SWP_EXCLUSIVE)
    }
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SWP_EXCLUSIVE)
    }

    // ---- pmd (segment entries) ----------------------------------------

    /// `pfn_pmd()` = `mk_pmd_phys()`: the address plus
    /// `massage_pgprot_pmd(prot)` (`_SEGMENT_ENTRY_NOEXEC` kept:
    /// `MACHINE_HAS_NX`).
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd {
        Pmd((pfn << PAGE_SHIFT) + massage_pgprot_pmd(prot.0))
    }
    fn pmd_pfn(&self, pmd: Pmd) -> u64 {
        pmd_pfn(pmd.0)
    }
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd {
        Pmd(pmd_modify(pmd.0, prot.0))
    }
    /// `pmd_none()`: exactly `_SEGMENT_ENTRY_EMPTY`.
    fn pmd_none(&self, pmd: Pmd) -> bool {
        pmd.0 == _SEGMENT_ENTRY_EMPTY
    }
    /// `pmd_present()`: anything but `_SEGMENT_ENTRY_EMPTY`.
    fn pmd_present(&self, pmd: Pmd) -> bool {
        pmd.0 != _SEGMENT_ENTRY_EMPTY
    }
    fn pmd_bad(&self, pmd: Pmd) -> bool {
        pmd_bad(pmd.0)
    }
    fn pmd_leaf(&self, pmd: Pmd) -> bool {
        pmd_large(pmd.0)
    }
    /// `pmd_trans_huge()`: `_SEGMENT_ENTRY_LARGE`.
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool {
        pmd_large(pmd.0)
    }
    /// `pmd_protnone()`: large and not readable.
    fn pmd_protnone(&self, pmd: Pmd) -> bool {
        pmd_large(pmd.0) && pmd.0 & _SEGMENT_ENTRY_READ == 0
    }
    fn pmd_young(&self, pmd: Pmd) -> bool {
        pmd.0 & _SEGMENT_ENTRY_YOUNG != 0
    }
    fn pmd_dirty(&self, pmd: Pmd) -> bool {
        pmd.0 & _SEGMENT_ENTRY_DIRTY != 0
    }
    fn pmd_write(&self, pmd: Pmd) -> bool {
        pmd.0 & _SEGMENT_ENTRY_WRITE != 0
    }
    fn pmd_soft_dirty(&self, pmd: Pmd) -> bool {
        pmd.0 & _SEGMENT_ENTRY_SOFT_DIRTY != 0
    }
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_mkyoung(pmd.0))
    }
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_mkold(pmd.0))
    }
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_mkdirty(pmd.0))
    }
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_mkclean(pmd.0))
    }
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_mkwrite_novma(pmd.0))
    }
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_wrprotect(pmd.0))
    }
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd_mkhuge(pmd.0))
    }
    /// s390 has no `pmd_mkinvalid()`: its own `pmdp_invalidate()` stores
    /// the pmd with `_SEGMENT_ENTRY_INVALID` set, which this returns.
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd {
        self.pmdp_invalidate_val(pmd)
    }
    fn pmd_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _SEGMENT_ENTRY_SOFT_DIRTY)
    }
    fn pmd_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !_SEGMENT_ENTRY_SOFT_DIRTY)
    }
    /// `pmd_populate()`: `_SEGMENT_ENTRY | __pa(pte)`.
    fn pmd_populate(&self, table_pa: u64) -> Pmd {
        Pmd(_SEGMENT_ENTRY | table_pa)
    }
    /// `pmd_pgtable()`: `pmd_val & -(sizeof(pte_t) * PTRS_PER_PTE)`.
    fn pmd_table_pa(&self, pmd: Pmd) -> u64 {
        pmd.0 & !(8 * 256 - 1)
    }
    // No `ARCH_ENABLE_THP_MIGRATION` on s390: `has_pmd_swap()` and the pmd swap
    // helpers not overridden here are the trait's swapops.h stubs.
    fn __pmd_to_swp_entry(&self, pmd: Pmd) -> SwpEntry {
        SwpEntry(pmd.0)
    }
    fn __swp_entry_to_pmd(&self, e: SwpEntry) -> Pmd {
        Pmd(e.0)
    }

    // ---- region entries ------------------------------------------------

    /// `pud_none()`: folded (type below R3) is 0, else `_REGION3_ENTRY_EMPTY`.
    fn pud_none(&self, pud: Pud) -> bool {
        region_type(pud.0) >= _REGION_ENTRY_TYPE_R3 && pud.0 == _REGION3_ENTRY_EMPTY
    }
    /// `pud_present()`: folded is 1, else a non-zero origin.
    fn pud_present(&self, pud: Pud) -> bool {
        region_type(pud.0) < _REGION_ENTRY_TYPE_R3 || pud.0 & _REGION_ENTRY_ORIGIN != 0
    }
    fn pud_bad(&self, pud: Pud) -> bool {
        pud_bad(pud.0)
    }
    /// `pud_leaf()` = `pud_large()` in v6.6.
    fn pud_leaf(&self, pud: Pud) -> bool {
        pud_large(pud.0)
    }
    /// `pud_populate()`: `_REGION3_ENTRY | __pa(pmd)`.
    fn pud_populate(&self, table_pa: u64) -> Pud {
        Pud(_REGION3_ENTRY | table_pa)
    }
    /// `pud_pgtable()`: `pud_val & _REGION_ENTRY_ORIGIN`.
    fn pud_table_pa(&self, pud: Pud) -> u64 {
        pud.0 & _REGION_ENTRY_ORIGIN
    }
    /// `p4d_none()`: folded (type below R2) is 0, else `_REGION2_ENTRY_EMPTY`.
    fn p4d_none(&self, p4d: P4d) -> bool {
        region_type(p4d.0) >= _REGION_ENTRY_TYPE_R2 && p4d.0 == _REGION2_ENTRY_EMPTY
    }
    /// `p4d_present()`.
    fn p4d_present(&self, p4d: P4d) -> bool {
        region_type(p4d.0) < _REGION_ENTRY_TYPE_R2 || p4d.0 & _REGION_ENTRY_ORIGIN != 0
    }
    fn p4d_bad(&self, p4d: P4d) -> bool {
        p4d_bad(p4d.0)
    }
    /// `p4d_populate()`: `_REGION2_ENTRY | __pa(pud)`.
    fn p4d_populate(&self, table_pa: u64) -> P4d {
        P4d(_REGION2_ENTRY | table_pa)
    }
    /// `p4d_pgtable()`.
    fn p4d_table_pa(&self, p4d: P4d) -> u64 {
        p4d.0 & _REGION_ENTRY_ORIGIN
    }
    /// `pgd_none()`: folded (type below R1) is 0, else the I bit.
    fn pgd_none(&self, pgd: Pgd) -> bool {
        region_type(pgd.0) >= _REGION_ENTRY_TYPE_R1 && pgd.0 & _REGION_ENTRY_INVALID != 0
    }
    /// `pgd_present()`.
    fn pgd_present(&self, pgd: Pgd) -> bool {
        region_type(pgd.0) < _REGION_ENTRY_TYPE_R1 || pgd.0 & _REGION_ENTRY_ORIGIN != 0
    }
    fn pgd_bad(&self, pgd: Pgd) -> bool {
        pgd_bad(pgd.0)
    }
    /// `pgd_populate()`: `_REGION1_ENTRY | __pa(p4d)`.
    fn pgd_populate(&self, table_pa: u64) -> Pgd {
        Pgd(_REGION1_ENTRY | table_pa)
    }
    /// `pgd_pgtable()`.
    fn pgd_table_pa(&self, pgd: Pgd) -> u64 {
        pgd.0 & _REGION_ENTRY_ORIGIN
    }

    // ---- allocation ------------------------------------------------------

    /// `pte_alloc_one()` = `page_table_alloc()`.
    fn pte_alloc_one(&self, mm: &Mm<Self>) -> Result<u64, MmError> {
        alloc::page_table_alloc(self, mm)
    }
    /// `pte_free()` = `page_table_free()`.
    fn pte_free(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        alloc::page_table_free(self, mm, table_pa)
    }
    /// `pte_free_defer()` in the selected variant (see [`alloc`]).
    fn pte_free_defer(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        alloc::pte_free_defer(self, mm, table_pa)
    }
    /// `pgd_alloc()` / `p4d_alloc_one()` / `pud_alloc_one()` /
    /// `pmd_alloc_one()`: a 16K CRST table filled with the level's empty
    /// entry (`pmd_alloc_one()` also runs `pagetable_pmd_ctor()`).
    fn table_alloc(&self, mm: &Mm<Self>, level: Level) -> Result<u64, MmError> {
        let pa = alloc::crst_table_alloc(mm, alloc::crst_init_entry(self.levels, level))?;
        if level == Level::Pmd {
            mm.phys().page_of(pa)?.set(mm_core::page::pg::TABLE);
        }
        mm.machine()
            .events()
            .push(|| mm_core::event::Event::TableAlloc {
                level: level.name(),
                pa,
                fragment: None,
            });
        Ok(pa)
    }
    /// `crst_table_free()`.
    fn table_free(&self, mm: &Mm<Self>, _level: Level, table_pa: u64) -> Result<(), MmError> {
        alloc::crst_free_pages(mm.machine(), table_pa)
    }

    /// Unicorn's s390x DAT ([`emulate::S390Walker`]).
    #[cfg(feature = "emulate")]
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        Ok(Box::new(emulate::S390Walker::new(self.clone(), machine)?))
    }
}
