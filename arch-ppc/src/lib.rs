//! ptlab's powerpc book3s64 page tables with Linux v6.6's real encodings.
//!
//! Four configurations, chosen at run time:
//!
//! | name | MMU | page | levels | pte table | tables per page |
//! |---|---|---|---|---|---|
//! | `ppc64-radix-64k` | radix | 64K | 4 (p4d folded) | 32 ptes, 256 B | 256 pte, 16 pmd |
//! | `ppc64-hash-64k` | hash | 64K | 4 | 256 ptes + hidx, 4 KiB | 16 pte, 4 pmd |
//! | `ppc64-radix-4k` | radix | 4K | 4 | 512 ptes, 4 KiB | 1 |
//! | `ppc64-hash-4k` | hash | 4K | 4 | 512 ptes, 4 KiB | 1 pte, 4 pmd |
//!
//! Entries are stored big-endian ([`mm_core::ByteOrder::Big`]).  With the
//! p4d folded (`pgtable-nop4d.h`) the pgd table's entries go through the
//! `p4d_*` helpers and the `pgd_*` helpers are the trivial ones.
//!
//! [`entry`] holds the bits and helper bodies, [`geometry`] the sizes,
//! [`alloc`] the pte/pmd fragment allocator and the three forms of
//! `pte_free_defer()` ([`Variant`], chosen with
//! [`mm_core::Arch::select_variant`]), [`emulate`] the guest-code walker,
//! [`Ppc::assert_pte_locked`] the `CONFIG_DEBUG_VM` check of patch 04.

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
use mm_core::report::Report;
#[cfg(feature = "emulate")]
use mm_core::Machine;
use mm_core::{Arch, Level, Mm, MmError};

pub use alloc::{PpcMmContext, Variant};
use entry::*;

/// One book3s64 configuration, with its `pte_free_defer()` variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ppc {
    layout: &'static Layout,
    geometry: Geometry,
    variant: Variant,
}

/// How [`Ppc::assert_pte_locked`] is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertForm {
    /// As merged in v6.6 (v3 04/13 plus its fix): return early when the
    /// pmd is none (khugepaged clears the pmd before `pte_clear()`s on the
    /// detached table), else `pte_offset_map_nolock()`, `BUG_ON(!pte)`,
    /// `assert_spin_locked(ptl)`, `pte_unmap()`.
    Merged,
    /// v1 04/12: the `pmd_none()` early return dropped, so a none pmd
    /// reaches `BUG_ON(!pte)` (the crash in khugepaged that the fix undid).
    V1,
}

/// What [`Ppc::assert_pte_locked`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssertOutcome {
    /// Returned early: init_mm, or (merged form) a none pmd.
    EarlyReturn(&'static str),
    /// The pte's lock is held: the assertion passed.
    Locked,
    /// A `BUG_ON()` fired (also reported as [`Report::Invariant`]).
    Bug(String),
}

impl Ppc {
    /// The configuration names, as the CLI spells them.
    pub fn configurations() -> &'static [&'static str] {
        &[
            "ppc64-radix-64k",
            "ppc64-hash-64k",
            "ppc64-radix-4k",
            "ppc64-hash-4k",
        ]
    }

    /// The configuration called `name` (see [`Ppc::configurations`]), with
    /// the default variant.
    pub fn from_name(name: &str) -> Option<Ppc> {
        [
            &geometry::RADIX_64K,
            &geometry::HASH_64K,
            &geometry::RADIX_4K,
            &geometry::HASH_4K,
        ]
        .into_iter()
        .find(|l| l.name == name)
        .map(|layout| Ppc {
            layout,
            geometry: geometry::geometry(layout),
            variant: Variant::Merged,
        })
    }

    /// The configuration's constants.
    #[inline(always)]
    pub fn layout(&self) -> &'static Layout {
        self.layout
    }

    /// The selected `pte_free_defer()` variant.
    pub fn pte_free_defer_variant(&self) -> Variant {
        self.variant
    }

    /// This configuration with variant `v`.
    pub fn with_variant(mut self, v: Variant) -> Ppc {
        self.variant = v;
        self
    }

    /// `PTE_FRAG_NR`.
    pub fn pte_frag_nr(&self) -> u64 {
        self.layout.pte_frag_nr()
    }

    /// `PMD_FRAG_NR`.
    pub fn pmd_frag_nr(&self) -> u64 {
        self.layout.pmd_frag_nr()
    }

    /// `(page pfn, index within the page)` of the pte table at `pa`.
    pub fn pte_fragment_of(&self, pa: u64) -> (u64, u64) {
        alloc::fragment_of(self, pa, true)
    }

    /// `(page pfn, index within the page)` of the pmd table at `pa`.
    pub fn pmd_fragment_of(&self, pa: u64) -> (u64, u64) {
        alloc::fragment_of(self, pa, false)
    }

    /// The kernel's own `pte_hw_valid()` (pgtable.h): PRESENT and PTE set.
    /// ([`Arch::pte_hw_valid`] adds the user-read permission the model's
    /// translation needs.)
    pub fn kernel_pte_hw_valid(&self, pte: Pte) -> bool {
        Layout::pte_hw_valid(pte.0)
    }

    /// `pmd_is_serializing()` (pgtable.h): INVALID without PRESENT, a THP
    /// split in progress.
    pub fn pmd_is_serializing(&self, pmd: Pmd) -> bool {
        pmd.0 & (_PAGE_PRESENT | _PAGE_INVALID) == _PAGE_INVALID
    }

    /// Whether `pmd_clear()` of `pmd` WARNs under `CONFIG_DEBUG_VM` on hash
    /// (pgtable.h: a pmd with both `H_PAGE_HASHPTE` and `_PAGE_PTE` may
    /// still have a hash-table entry).  This is why `debug_vm_pgtable`'s
    /// `RANDOM_ORVALUE` leaves out bit 62 (`_PAGE_PTE`) on ppc64
    /// (`PPC64_SKIP_MASK`).  Never on radix.
    pub fn pmd_clear_warns(&self, pmd: Pmd) -> bool {
        let l = self.layout;
        !l.radix && l.hashpte != 0 && pmd.0 & (l.hashpte | _PAGE_PTE) == l.hashpte | _PAGE_PTE
    }

    /// `assert_pte_locked(mm, addr)` (`arch/powerpc/mm/pgtable.c`,
    /// `CONFIG_DEBUG_VM`), called from `pte_update()` for non-huge ptes:
    /// the caller must hold the pte's lock.  `BUG_ON(pgd/p4d/pud_none)`; the
    /// [`AssertForm::Merged`] form returns when the pmd is none; then
    /// `pte_offset_map_nolock()` (which fails on a none, huge or migration
    /// pmd), `BUG_ON(!pte)`, `assert_spin_locked(ptl)` (locked by anyone,
    /// as `spin_is_locked()`), `pte_unmap()`.
    ///
    /// # Errors
    /// Memory errors of the walk.
    pub fn assert_pte_locked(
        &self,
        mm: &Mm<Ppc>,
        addr: u64,
        form: AssertForm,
    ) -> Result<AssertOutcome, MmError> {
        let bug = |what: String| {
            mm.machine().reports().push(Report::Invariant(format!(
                "assert_pte_locked({addr:#x}): {what}"
            )));
            Ok(AssertOutcome::Bug(what))
        };
        let pgdp = mm.pgd_offset(addr);
        let p4dp = mm.p4d_offset(pgdp, addr)?;
        if self.p4d_none(P4d(mm.load_entry(p4dp)?)) {
            return bug("BUG_ON(p4d_none(*p4d))".into());
        }
        let pudp = mm.pud_offset(p4dp, addr)?;
        if self.pud_none(mm.pudp_get(pudp)?) {
            return bug("BUG_ON(pud_none(*pud))".into());
        }
        let pmdp = mm.pmd_offset(pudp, addr)?;
        if form == AssertForm::Merged && self.pmd_none(mm.pmdp_get(pmdp)?) {
            return Ok(AssertOutcome::EarlyReturn("pmd_none(*pmd)"));
        }
        let Some((map, ptl)) = mm.pte_offset_map_nolock(pmdp, addr)? else {
            return bug(format!(
                "BUG_ON(!pte): pte_offset_map_nolock() failed on pmd {:#x}",
                mm.pmdp_get(pmdp)?.0
            ));
        };
        let locked = ptl.is_locked();
        drop(map);
        if !locked {
            return bug("assert_spin_locked(ptl): the pte lock is not held".into());
        }
        Ok(AssertOutcome::Locked)
    }

    #[inline(always)]
    fn user_readable(v: u64) -> bool {
        Layout::pte_hw_valid(v) && v & _PAGE_PRIVILEGED == 0 && v & _PAGE_READ != 0
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

macro_rules! common_flags {
    ($($extra:expr),* $(,)?) => {
        &[
            flag!("EXEC", _PAGE_EXEC, "bit 0 (IBM 63): EAA execute (book3s/64/pgtable.h)", Entry),
            flag!("WRITE", _PAGE_WRITE, "bit 1 (IBM 62): EAA read/write (book3s/64/pgtable.h)", Entry),
            flag!("READ", _PAGE_READ, "bit 2 (IBM 61): EAA read (book3s/64/pgtable.h)", Entry),
            flag!("PRIVILEGED", _PAGE_PRIVILEGED, "bit 3 (IBM 60): kernel access only; PAGE_NONE (book3s/64/pgtable.h)", Entry),
            flag!("TOLERANT", _PAGE_TOLERANT, "bits 4-5 = 11: ATT tolerant I/O, _PAGE_NO_CACHE (book3s/64/pgtable.h)", Entry),
            flag!("SAO", _PAGE_SAO, "bit 4: ATT strong access ordering (book3s/64/pgtable.h)", Entry),
            flag!("NON_IDEMPOTENT", _PAGE_NON_IDEMPOTENT, "bit 5: ATT non-idempotent I/O (book3s/64/pgtable.h)", Entry),
            flag!("DIRTY", _PAGE_DIRTY, "bit 7 (IBM 56): C, changed (book3s/64/pgtable.h)", Entry),
            flag!("ACCESSED", _PAGE_ACCESSED, "bit 8 (IBM 55): R, referenced (book3s/64/pgtable.h)", Entry),
            flag!("SOFT_DIRTY", _PAGE_SOFT_DIRTY, "bit 9, _RPAGE_SW3: soft-dirty tracking (book3s/64/pgtable.h)", Entry),
            flag!("SPECIAL", _PAGE_SPECIAL, "bit 10, _RPAGE_SW2: pte_special() (book3s/64/pgtable.h)", Entry),
            flag!("DEVMAP", _PAGE_DEVMAP, "bit 11, _RPAGE_SW1: ZONE_DEVICE mapping (book3s/64/pgtable.h)", Entry),
            flag!("INVALID", _PAGE_INVALID, "bit 61, _RPAGE_SW0: present but invalidated (pmdp_invalidate) (book3s/64/pgtable.h)", Entry),
            flag!("PTE", _PAGE_PTE, "bit 62 (IBM 1): L, leaf: every pte, huge pmd/pud and swap entry (book3s/64/pgtable.h)", Entry),
            flag!("PRESENT", _PAGE_PRESENT, "bit 63 (IBM 0): V, valid (book3s/64/pgtable.h)", Entry),
            flag!("SWP_EXCLUSIVE", _PAGE_SWP_EXCLUSIVE, "bit 5 of a swap entry: PG_anon_exclusive (book3s/64/pgtable.h)", Swap),
            flag!("SWP_SOFT_DIRTY", _PAGE_SWP_SOFT_DIRTY, "bit 9 of a swap entry: soft-dirty (book3s/64/pgtable.h)", Swap),
            $($extra),*
        ]
    };
}

/// `flag_bits()` of the radix configurations.
static FLAGS_RADIX: &[FlagBit] = common_flags!(
    flag!(
        "RSV1",
        _RPAGE_RSV1,
        "bit 6, _RPAGE_RSV1: reserved on radix (book3s/64/pgtable.h)",
        Entry
    ),
    flag!(
        "PKEY_BIT0",
        _RPAGE_PKEY_BIT0,
        "bit 56: pkey bit 0 (hash pkeys; 0 on radix) (book3s/64/pgtable.h)",
        Entry
    ),
);

/// `flag_bits()` of hash-64k.
static FLAGS_HASH_64K: &[FlagBit] = common_flags!(
    flag!(
        "BUSY",
        _RPAGE_RSV1,
        "bit 6, H_PAGE_BUSY = _RPAGE_RSV1: pte and HPTE being updated (hash-64k.h)",
        Entry
    ),
    flag!(
        "COMBO",
        _RPAGE_RPN0,
        "bit 12, H_PAGE_COMBO = _RPAGE_RPN0: 64K pte backed by 4K HPTEs (hash-64k.h)",
        Pte
    ),
    flag!(
        "4K_PFN",
        _RPAGE_RPN1,
        "bit 13, H_PAGE_4K_PFN = _RPAGE_RPN1: the pfn is a 4K page (hash-64k.h)",
        Pte
    ),
    flag!(
        "THP_HUGE",
        _RPAGE_RPN1,
        "bit 13, H_PAGE_THP_HUGE = H_PAGE_4K_PFN: a THP, not a hugetlb page (hash-64k.h)",
        Leaf
    ),
    flag!(
        "HASHPTE",
        _RPAGE_RPN43,
        "bit 55, H_PAGE_HASHPTE = _RPAGE_RPN43: an HPTE exists (hash-64k.h)",
        Entry
    ),
);

/// `flag_bits()` of hash-4k.
static FLAGS_HASH_4K: &[FlagBit] = common_flags!(
    flag!(
        "BUSY",
        _RPAGE_RSV1,
        "bit 6, H_PAGE_BUSY = _RPAGE_RSV1 (hash-4k.h)",
        Entry
    ),
    flag!(
        "F_GIX",
        _RPAGE_RPN43 | _RPAGE_RPN42 | _RPAGE_RPN41,
        "bits 53-55, H_PAGE_F_GIX: HPTE slot in its group (hash-4k.h)",
        Entry
    ),
    flag!(
        "F_SECOND",
        _RPAGE_PKEY_BIT0,
        "bit 56, H_PAGE_F_SECOND: HPTE in the secondary group (hash-4k.h)",
        Entry
    ),
    flag!(
        "HASHPTE",
        _RPAGE_PKEY_BIT4,
        "bit 60, H_PAGE_HASHPTE = _RPAGE_PKEY_BIT4 (hash-4k.h)",
        Entry
    ),
);

/// Families that fail for reasons of the kernel's own design.
mod expected {
    /// The exit path of merged-before-fix frees an Active page.
    pub const EXIT_ACTIVE: (&str, &str) = (
        "lifecycle_variant",
        "merged as released in v6.6: pte_frag_destroy() at exit frees a fragment page still \
         marked PG_active by pte_free_defer(), which the free-page checks reject (BUG: Bad page \
         state, PAGE_FLAGS_CHECK_AT_FREE; fixed by fda4d71651f7); the generic lifecycle run \
         stops at that report",
    );
    /// The deferred table's page is shared.
    pub const GRACE: (&str, &str) = (
        "pte_free_defer_grace",
        "PTE_FRAG_NR > 1: the deferred table is one fragment of a page whose other, unused \
         fragments still belong to the mm's cursor (counted in pt_frag_refcount), so the page \
         is freed at exit (pte_frag_destroy), not after the grace period; the arch-ppc \
         fragment tests check the real lifecycle",
    );
    /// A freed fragment stays readable.
    pub const STALE: (&str, &str) = (
        "pte_free_immediate_stale",
        "PTE_FRAG_NR > 1: pte_free() of one fragment only drops a reference; the page (and \
         the freed table's bytes) stay until its last fragment goes, and powerpc never hands \
         a freed fragment out again, so no stale read can be observed",
    );
    /// khugepaged v6.4's immediate pte_free() under a reader.
    pub const COLLAPSE_STALE: (&str, &str) = (
        "collapse_reader_vs_free",
        "PTE_FRAG_NR > 1: v6.4 khugepaged's immediate pte_free() of a retracted table only \
         drops one fragment reference; the page stays allocated while its other fragments \
         are held, so the reader's use-after-free is real but not observable as a stale read \
         (the table bytes are never reused for another table)",
    );
    /// The rcu_head family on fragment pages.
    pub const REUSE_FRAG: (&str, &str) = (
        "rcu_head_reuse",
        "PTE_FRAG_NR > 1: deferring the same fragment twice only drops two of the page's \
         references (merged) or queues one callback that frees one fragment (v1); the page is \
         not freed while its other fragments are held.  The real powerpc v1 bug (two \
         fragments of one page) is arch-ppc's tests/fragments.rs",
    );
    /// The rcu_head family with merged and one table per page.
    pub const REUSE_MERGED: (&str, &str) = (
        "rcu_head_reuse",
        "merged pte_free_defer never reuses the rcu_head: a second defer of the same table \
         hits BUG_ON(pt_frag_refcount <= 0) in pte_fragment_free (reported as an invariant) \
         and leaves PG_active on a page already queued, whose RCU free then fails the \
         free-page checks: a caller bug caught differently",
    );
}

impl Arch for Ppc {
    type MmContext = PpcMmContext;

    #[inline]
    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// `CONFIG_MEM_SOFT_DIRTY` (HAVE_ARCH_SOFT_DIRTY for PPC_BOOK3S_64),
    /// `ARCH_HAS_PTE_SPECIAL`, `ARCH_HAS_PTE_DEVMAP` (PPC_BOOK3S_64),
    /// `CONFIG_NUMA_BALANCING`; no `HAVE_ARCH_USERFAULTFD_WP`; pud leaves
    /// (`HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`, `has_transparent_pud_hugepage()`
    /// true only on radix; the Kconfig select arrived with the ppc64 DAX
    /// vmemmap work, believed to be v6.6 — UNVERIFIED against the v6.6
    /// tag); `__HAVE_ARCH_PMDP_INVALIDATE`.
    fn features(&self) -> ArchFeatures {
        ArchFeatures {
            soft_dirty: true,
            pte_special: true,
            pte_devmap: true,
            numa_balancing: true,
            uffd_wp: false,
            thp_pud: self.layout.radix && self.layout.has_thp,
            arch_pmdp_invalidate: true,
        }
    }

    fn variants(&self) -> &'static [(&'static str, &'static str)] {
        Variant::TABLE
    }

    fn variant(&self) -> &'static str {
        self.variant.name()
    }

    fn select_variant(&mut self, name: &str) -> Result<(), MmError> {
        match Variant::from_name(name) {
            Some(v) => {
                self.variant = v;
                Ok(())
            }
            None => Err(MmError::Unsupported(format!(
                "variant '{name}' of {} (known: {})",
                self.layout.name,
                Variant::TABLE
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn expected_failures(&self) -> &'static [(&'static str, &'static str)] {
        use expected::*;
        let frag = self.layout.pte_frag_nr() > 1;
        match (frag, self.variant) {
            (true, Variant::MergedBeforeFix) => {
                &[GRACE, STALE, REUSE_FRAG, COLLAPSE_STALE, EXIT_ACTIVE]
            }
            (true, _) => &[GRACE, STALE, REUSE_FRAG, COLLAPSE_STALE],
            (false, Variant::V1) => &[],
            (false, _) => &[REUSE_MERGED],
        }
    }

    fn flag_bits(&self) -> &'static [FlagBit] {
        match (self.layout.radix, self.layout.page_shift) {
            (true, _) => FLAGS_RADIX,
            (false, 16) => FLAGS_HASH_64K,
            (false, _) => FLAGS_HASH_4K,
        }
    }

    fn vm_get_page_prot(&self, flags: u8) -> Pgprot {
        Pgprot(entry::vm_get_page_prot(self.layout.radix, flags))
    }

    // ---- pte -----------------------------------------------------------

    #[inline]
    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte {
        Pte(self.layout.pfn_pte(pfn, prot.0))
    }
    #[inline(always)]
    fn pte_pfn(&self, pte: Pte) -> u64 {
        self.layout.pte_pfn(pte.0)
    }
    #[inline]
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte {
        Pte(self.layout.pte_modify(pte.0, prot.0))
    }
    #[inline(always)]
    fn pte_none(&self, pte: Pte) -> bool {
        self.layout.pte_none(pte.0)
    }
    #[inline(always)]
    fn pte_present(&self, pte: Pte) -> bool {
        Layout::pte_present(pte.0)
    }
    #[inline]
    fn pte_young(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_ACCESSED != 0
    }
    #[inline]
    fn pte_dirty(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_DIRTY != 0
    }
    /// `pte_write()` (v6.6, after the savedwrite removal): `_PAGE_WRITE`.
    #[inline(always)]
    fn pte_write(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_WRITE != 0
    }
    #[inline]
    fn pte_exec(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_EXEC != 0
    }
    #[inline]
    fn pte_special(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SPECIAL != 0
    }
    #[inline]
    fn pte_protnone(&self, pte: Pte) -> bool {
        Layout::pte_protnone(pte.0)
    }
    #[inline]
    fn pte_devmap(&self, pte: Pte) -> bool {
        Layout::pte_devmap(pte.0)
    }
    #[inline]
    fn pte_soft_dirty(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SOFT_DIRTY != 0
    }
    #[inline]
    fn pte_mkyoung(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_ACCESSED)
    }
    #[inline]
    fn pte_mkold(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_ACCESSED)
    }
    /// `pte_mkdirty()` (pgtable.h): DIRTY and SOFT_DIRTY.
    #[inline]
    fn pte_mkdirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_DIRTY | _PAGE_SOFT_DIRTY)
    }
    #[inline]
    fn pte_mkclean(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_DIRTY)
    }
    /// `pte_mkwrite_novma()` (pgtable.h): `_PAGE_RW` (write implies read).
    #[inline]
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_RW)
    }
    #[inline]
    fn pte_wrprotect(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_WRITE)
    }
    #[inline]
    fn pte_mkexec(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_EXEC)
    }
    #[inline]
    fn pte_mkspecial(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SPECIAL)
    }
    /// `pte_mkdevmap()` (pgtable.h): SPECIAL and DEVMAP.
    #[inline]
    fn pte_mkdevmap(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SPECIAL | _PAGE_DEVMAP)
    }
    #[inline]
    fn pte_mksoft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SOFT_DIRTY)
    }
    #[inline]
    fn pte_clear_soft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SOFT_DIRTY)
    }
    /// The kernel's `pte_hw_valid()` (PRESENT and PTE), narrowed to what a
    /// user-mode data load may use: PRIVILEGED clear and `_PAGE_READ` set.
    /// Radix would also accept a load through RW alone, and hash's
    /// `check_pte_access()` wants READ; every `vm_get_page_prot()` value with
    /// WRITE has READ, so the two agree on Linux's ptes.  This excludes
    /// PAGE_NONE (protnone) and radix's execute-only ptes.
    #[inline(always)]
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        Self::user_readable(pte.0)
    }
    /// As [`Arch::pte_hw_valid`] for a pmd leaf: an invalidated THP
    /// (INVALID without PRESENT) is `pmd_present()` but not valid.
    #[inline(always)]
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        Self::user_readable(pmd.0)
    }
    /// `pud_pfn()` = `pte_pfn(pud_pte(pud))`.
    #[inline]
    fn pud_pfn(&self, pud: Pud) -> u64 {
        self.layout.pte_pfn(pud.0)
    }
    /// `pud_write()` = `pte_write(pud_pte(pud))`.
    #[inline]
    fn pud_write(&self, pud: Pud) -> bool {
        pud.0 & _PAGE_WRITE != 0
    }

    // ---- pud leaves (radix) ---------------------------------------------

    /// `pfn_pud()` (mm/book3s64/pgtable.c): as `pfn_pmd()`, with
    /// `__pud_mkhuge()` (radix: `_PAGE_PTE`).
    #[inline]
    fn pfn_pud(&self, pfn: u64, prot: Pgprot) -> Pud {
        let l = self.layout;
        Pud(((pfn << l.page_shift) & l.rpn_mask()) | prot.0 | _PAGE_PTE)
    }
    /// `pud_mkhuge()`: only a DEBUG_VM check; `pfn_pud()` set the bit.
    #[inline]
    fn pud_mkhuge(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_trans_huge()`: present and `(pud & (PTE|DEVMAP)) == PTE` on radix.
    #[inline]
    fn pud_trans_huge(&self, pud: Pud) -> bool {
        self.layout.radix
            && pud.0 & _PAGE_PRESENT != 0
            && pud.0 & (_PAGE_PTE | _PAGE_DEVMAP) == _PAGE_PTE
    }
    #[inline]
    fn pud_young(&self, pud: Pud) -> bool {
        pud.0 & _PAGE_ACCESSED != 0
    }
    #[inline]
    fn pud_dirty(&self, pud: Pud) -> bool {
        pud.0 & _PAGE_DIRTY != 0
    }
    #[inline]
    fn pud_mkyoung(&self, pud: Pud) -> Pud {
        Pud(pud.0 | _PAGE_ACCESSED)
    }
    #[inline]
    fn pud_mkold(&self, pud: Pud) -> Pud {
        Pud(pud.0 & !_PAGE_ACCESSED)
    }
    #[inline]
    fn pud_mkdirty(&self, pud: Pud) -> Pud {
        Pud(pud.0 | _PAGE_DIRTY | _PAGE_SOFT_DIRTY)
    }
    #[inline]
    fn pud_mkclean(&self, pud: Pud) -> Pud {
        Pud(pud.0 & !_PAGE_DIRTY)
    }
    #[inline]
    fn pud_mkwrite(&self, pud: Pud) -> Pud {
        Pud(pud.0 | _PAGE_RW)
    }
    #[inline]
    fn pud_wrprotect(&self, pud: Pud) -> Pud {
        Pud(pud.0 & !_PAGE_WRITE)
    }
    /// `pud_mkdevmap()` (radix): `| PTE | DEVMAP`.
    #[inline]
    fn pud_mkdevmap(&self, pud: Pud) -> Pud {
        Pud(pud.0 | _PAGE_PTE | _PAGE_DEVMAP)
    }
    #[inline]
    fn pud_devmap(&self, pud: Pud) -> bool {
        Layout::pte_devmap(pud.0)
    }

    // ---- swap ----------------------------------------------------------

    #[inline]
    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry {
        SwpEntry(self.layout.swp_entry(ty, offset))
    }
    #[inline]
    fn __swp_type(&self, e: SwpEntry) -> u64 {
        Layout::swp_type(e.0)
    }
    #[inline]
    fn __swp_offset(&self, e: SwpEntry) -> u64 {
        self.layout.swp_offset(e.0)
    }
    /// `__pte_to_swp_entry()`: `pte_val(pte) & ~_PAGE_PTE`.
    #[inline]
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry {
        SwpEntry(pte.0 & !_PAGE_PTE)
    }
    /// `__swp_entry_to_pte()`: `val | _PAGE_PTE`.
    #[inline]
    fn __swp_entry_to_pte(&self, e: SwpEntry) -> Pte {
        Pte(e.0 | _PAGE_PTE)
    }
    /// `PTE_RPN_MASK >> PAGE_SHIFT`: 2^37-1 with 64K pages, 2^41-1 with 4K.
    #[inline]
    fn max_swapfile_offset(&self) -> u64 {
        self.layout.rpn_mask() >> self.layout.page_shift
    }
    #[inline]
    fn pte_swp_soft_dirty(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SWP_SOFT_DIRTY != 0
    }
    #[inline]
    fn pte_swp_mksoft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SWP_SOFT_DIRTY)
    }
    #[inline]
    fn pte_swp_clear_soft_dirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SWP_SOFT_DIRTY)
    }
    #[inline]
    fn pte_swp_exclusive(&self, pte: Pte) -> bool {
        pte.0 & _PAGE_SWP_EXCLUSIVE != 0
    }
    #[inline]
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 | _PAGE_SWP_EXCLUSIVE)
    }
    #[inline]
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !_PAGE_SWP_EXCLUSIVE)
    }

    // ---- pmd -----------------------------------------------------------

    #[inline]
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd {
        Pmd(self.layout.pfn_pmd(pfn, prot.0))
    }
    /// `pmd_pfn()` = `pte_pfn(pmd_pte(pmd))`.
    #[inline(always)]
    fn pmd_pfn(&self, pmd: Pmd) -> u64 {
        self.layout.pte_pfn(pmd.0)
    }
    #[inline]
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd {
        Pmd(self.layout.pmd_modify(pmd.0, prot.0))
    }
    /// `pmd_none()`: the raw value is zero.
    #[inline(always)]
    fn pmd_none(&self, pmd: Pmd) -> bool {
        pmd.0 == 0
    }
    #[inline(always)]
    fn pmd_present(&self, pmd: Pmd) -> bool {
        Layout::pmd_present(pmd.0)
    }
    #[inline(always)]
    fn pmd_bad(&self, pmd: Pmd) -> bool {
        self.layout.pmd_bad(pmd.0)
    }
    /// `pmd_leaf()` (pgtable.h): `_PAGE_PTE`.
    #[inline(always)]
    fn pmd_leaf(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_PTE != 0
    }
    #[inline]
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool {
        self.layout.pmd_trans_huge(pmd.0)
    }
    #[inline]
    fn pmd_devmap(&self, pmd: Pmd) -> bool {
        Layout::pte_devmap(pmd.0)
    }
    #[inline]
    fn pmd_protnone(&self, pmd: Pmd) -> bool {
        Layout::pte_protnone(pmd.0)
    }
    #[inline]
    fn pmd_young(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_ACCESSED != 0
    }
    #[inline]
    fn pmd_dirty(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_DIRTY != 0
    }
    #[inline]
    fn pmd_write(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_WRITE != 0
    }
    #[inline]
    fn pmd_soft_dirty(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_SOFT_DIRTY != 0
    }
    #[inline]
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _PAGE_ACCESSED)
    }
    #[inline]
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !_PAGE_ACCESSED)
    }
    #[inline]
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _PAGE_DIRTY | _PAGE_SOFT_DIRTY)
    }
    #[inline]
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !_PAGE_DIRTY)
    }
    #[inline]
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _PAGE_RW)
    }
    #[inline]
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !_PAGE_WRITE)
    }
    /// `pmd_mkhuge()` (pgtable.h): only WARNs (DEBUG_VM) unless the huge
    /// bits are already there; `pfn_pmd()` set them.
    #[inline]
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    #[inline]
    fn pmd_mkdevmap(&self, pmd: Pmd) -> Pmd {
        Pmd(self.layout.pmd_mkdevmap(pmd.0))
    }
    /// What `pmdp_invalidate()` stores: PRESENT cleared, INVALID set.
    #[inline]
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd {
        Pmd(Layout::pmd_mkinvalid(pmd.0))
    }
    #[inline]
    fn pmd_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _PAGE_SOFT_DIRTY)
    }
    #[inline]
    fn pmd_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !_PAGE_SOFT_DIRTY)
    }
    /// `pmd_populate()` (book3s/64/pgalloc.h): `__pa(table) | PMD_VAL_BITS`.
    #[inline]
    fn pmd_populate(&self, table_pa: u64) -> Pmd {
        Pmd(table_pa | self.layout.pmd_val_bits())
    }
    /// `pmd_page_vaddr()`: `pmd & ~PMD_MASKED_BITS`.
    #[inline(always)]
    fn pmd_table_pa(&self, pmd: Pmd) -> u64 {
        pmd.0 & !MASKED_BITS
    }
    /// `ARCH_ENABLE_THP_MIGRATION if TRANSPARENT_HUGEPAGE` (PPC_BOOK3S_64);
    /// hash-4k never has a THP to migrate.
    #[inline]
    fn has_pmd_swap(&self) -> bool {
        self.layout.has_thp
    }
    /// `__pmd_to_swp_entry()` = `__pte_to_swp_entry(pmd_pte(pmd))`.
    #[inline]
    fn __pmd_to_swp_entry(&self, pmd: Pmd) -> SwpEntry {
        SwpEntry(pmd.0 & !_PAGE_PTE)
    }
    /// `__swp_entry_to_pmd()` = `pte_pmd(__swp_entry_to_pte(x))`.
    #[inline]
    fn __swp_entry_to_pmd(&self, e: SwpEntry) -> Pmd {
        Pmd(e.0 | _PAGE_PTE)
    }
    #[inline]
    fn pmd_swp_soft_dirty(&self, pmd: Pmd) -> bool {
        pmd.0 & _PAGE_SWP_SOFT_DIRTY != 0
    }
    #[inline]
    fn pmd_swp_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 | _PAGE_SWP_SOFT_DIRTY)
    }
    #[inline]
    fn pmd_swp_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        Pmd(pmd.0 & !_PAGE_SWP_SOFT_DIRTY)
    }

    // ---- upper levels --------------------------------------------------

    /// `pud_none()`: raw value zero.
    #[inline(always)]
    fn pud_none(&self, pud: Pud) -> bool {
        pud.0 == 0
    }
    /// `pud_present()`: `_PAGE_PRESENT`.
    #[inline]
    fn pud_present(&self, pud: Pud) -> bool {
        pud.0 & _PAGE_PRESENT != 0
    }
    #[inline(always)]
    fn pud_bad(&self, pud: Pud) -> bool {
        self.layout.pud_bad(pud.0)
    }
    /// `pud_leaf()` (pgtable.h): `_PAGE_PTE`.
    #[inline(always)]
    fn pud_leaf(&self, pud: Pud) -> bool {
        pud.0 & _PAGE_PTE != 0
    }
    /// `pud_populate()`: `__pa(pmd) | PUD_VAL_BITS`.
    #[inline]
    fn pud_populate(&self, table_pa: u64) -> Pud {
        Pud(table_pa | self.layout.pud_val_bits())
    }
    /// `pud_pgtable()`: `pud & ~PUD_MASKED_BITS`.
    #[inline(always)]
    fn pud_table_pa(&self, pud: Pud) -> u64 {
        pud.0 & !MASKED_BITS
    }
    /// `p4d_none()`: raw value zero.
    #[inline(always)]
    fn p4d_none(&self, p4d: P4d) -> bool {
        p4d.0 == 0
    }
    /// `p4d_present()`: `_PAGE_PRESENT`.
    #[inline]
    fn p4d_present(&self, p4d: P4d) -> bool {
        p4d.0 & _PAGE_PRESENT != 0
    }
    #[inline(always)]
    fn p4d_bad(&self, p4d: P4d) -> bool {
        self.layout.p4d_bad(p4d.0)
    }
    /// `p4d_populate()`: `__pa(pud) | PGD_VAL_BITS`.
    #[inline]
    fn p4d_populate(&self, table_pa: u64) -> P4d {
        P4d(table_pa | self.layout.pgd_val_bits())
    }
    /// `p4d_pgtable()`: `p4d & ~P4D_MASKED_BITS`.
    #[inline(always)]
    fn p4d_table_pa(&self, p4d: P4d) -> u64 {
        p4d.0 & !MASKED_BITS
    }
    /// Folded (`pgtable-nop4d.h`): 0.
    #[inline(always)]
    fn pgd_none(&self, _pgd: Pgd) -> bool {
        false
    }
    /// Folded: 1.
    #[inline]
    fn pgd_present(&self, _pgd: Pgd) -> bool {
        true
    }
    /// Folded: 0.
    #[inline(always)]
    fn pgd_bad(&self, _pgd: Pgd) -> bool {
        false
    }
    /// Folded: the slot holds `p4d_populate()`'s value.
    #[inline]
    fn pgd_populate(&self, table_pa: u64) -> Pgd {
        Pgd(self.p4d_populate(table_pa).0)
    }
    /// Folded: read as a p4d.
    #[inline]
    fn pgd_table_pa(&self, pgd: Pgd) -> u64 {
        pgd.0 & !MASKED_BITS
    }

    // ---- allocation ----------------------------------------------------

    /// `pte_alloc_one()` = `pte_fragment_alloc(mm, 0)`.
    fn pte_alloc_one(&self, mm: &Mm<Self>) -> Result<u64, MmError> {
        alloc::fragment_alloc(mm, alloc::Kind::Pte)
    }
    /// `pte_free()` = `pte_fragment_free(table, 0)`.
    fn pte_free(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        alloc::pte_fragment_free(mm.machine(), self.variant, table_pa, "pte_free")
    }
    /// `pte_free_defer()` of the selected [`Variant`].
    fn pte_free_defer(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        alloc::pte_free_defer(mm, self.variant, table_pa)
    }
    /// `pmd_alloc_one()` = `pmd_fragment_alloc()`; pgd and pud tables as
    /// whole pages ([`alloc`]).
    fn table_alloc(&self, mm: &Mm<Self>, level: Level) -> Result<u64, MmError> {
        match level {
            Level::Pmd => alloc::fragment_alloc(mm, alloc::Kind::Pmd),
            _ => alloc::upper_alloc(mm, level),
        }
    }
    /// `pmd_free()` = `pmd_fragment_free()`; `pud_free()`, `pgd_free()`.
    fn table_free(&self, mm: &Mm<Self>, level: Level, table_pa: u64) -> Result<(), MmError> {
        match level {
            Level::Pmd => alloc::pmd_fragment_free(mm.machine(), table_pa),
            _ => alloc::upper_free(mm, level, table_pa),
        }
    }
    /// `pte_frag_destroy()` and `pmd_frag_destroy()` of the mm's leftover
    /// fragment pages (`destroy_pagetable_cache()`).
    fn exit_mmap(&self, mm: &Mm<Self>) -> Result<(), MmError> {
        let r = alloc::frag_destroy(mm, alloc::Kind::Pte, self.variant);
        let r2 = alloc::frag_destroy(mm, alloc::Kind::Pmd, self.variant);
        r.and(r2)
    }

    /// The guest-code walker ([`emulate::PpcGuestWalker`]).
    #[cfg(feature = "emulate")]
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        Ok(Box::new(emulate::PpcGuestWalker::new(
            self.layout,
            machine,
        )?))
    }
}
