//! The `Arch` trait: what an architecture must tell mm-core.
//!
//! Linux keeps the generic memory-management code ignorant of how an
//! architecture lays out its page tables: the generic code only ever calls
//! the helpers listed in `Documentation/mm/arch_pgtable_helpers.rst`
//! (`pte_mkyoung`, `pmd_trans_huge`, `pfn_pte`, ...) and the allocators in
//! `asm/pgalloc.h`.  This trait is that boundary.  Every method keeps its
//! kernel name so that `grep pte_mkyoung` finds the trait, each arch's
//! implementation, and the conformance family that checks it.
//!
//! Entries are passed around as integers *as the kernel sees them* (after any
//! byte swap): [`Pte`], [`Pmd`], [`Pud`], [`P4d`], [`Pgd`].  How those integers
//! sit in memory (width, byte order, two halves on x86 PAE) is described by
//! [`Geometry`] and handled once, in [`crate::phys`].
//!
//! Levels that an architecture folds (`__PAGETABLE_PMD_FOLDED` and friends)
//! behave as in `include/asm-generic/pgtable-nopmd.h`: the folded level's
//! "table" is the entry of the level above, its `*_none` is false, its
//! `*_bad` false, its `*_present` true, and `*_offset` returns the pointer it
//! was given.  mm-core implements the folding; an arch only says which levels
//! exist.
//!
//! Table allocation goes through the trait too (`pte_alloc_one`,
//! `pte_free`, `pte_free_defer`, ...), because on powerpc and s390 several
//! page tables share one page and the per-mm bookkeeping of those fragments
//! is the architecture's business ([`Arch::MmContext`]).

use std::sync::Arc;

use crate::emulate::{EmuError, HwWalker};
use crate::machine::Machine;
use crate::mm::Mm;
use crate::MmError;

/// Which way round an entry's bytes sit in physical memory.
///
/// x86 and arm entries are little-endian; powerpc book3s64 stores its
/// entries big-endian even on little-endian kernels (`__be64` in
/// `arch/powerpc/include/asm/book3s/64/pgtable.h`); s390 and sparc64 are
/// big-endian machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first (x86, arm).
    Little,
    /// Most significant byte first (powerpc, s390, sparc).
    Big,
}

/// One level of the page-table hierarchy, named as in Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The top level, `pgd_t`.
    Pgd,
    /// `p4d_t`; folded unless 5-level paging.
    P4d,
    /// `pud_t`.
    Pud,
    /// `pmd_t`; the level whose entry points at a pte table or maps a THP.
    Pmd,
    /// `pte_t`, the leaf level.
    Pte,
}

impl Level {
    /// All five levels, top first.
    pub const ALL: [Level; 5] = [Level::Pgd, Level::P4d, Level::Pud, Level::Pmd, Level::Pte];

    /// The kernel's name for the level ("pgd", "p4d", ...).
    pub fn name(self) -> &'static str {
        match self {
            Level::Pgd => "pgd",
            Level::P4d => "p4d",
            Level::Pud => "pud",
            Level::Pmd => "pmd",
            Level::Pte => "pte",
        }
    }

    /// Position in [`Level::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Shape of one level: how many entries its tables hold and which virtual
/// address bits index it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelGeometry {
    /// `PGDIR_SHIFT`, `P4D_SHIFT`, `PUD_SHIFT`, `PMD_SHIFT` or `PAGE_SHIFT`:
    /// the lowest virtual-address bit that indexes this level.
    pub shift: u32,
    /// `PTRS_PER_*`.  1 means the level is folded into the one above.
    pub ptrs: u32,
    /// Bytes of one table at this level (`PTRS_PER_* * entry size` unless the
    /// arch pads or shares pages; s390 region tables are 16K, its pte tables
    /// 2K).
    pub table_bytes: u64,
    /// Bytes of one entry of this level's table in memory (0 when folded:
    /// the entry is the word of the table it is folded into).  Levels may
    /// differ: arm's classic pgd entries are pairs of 32-bit words, its ptes
    /// single words.
    pub entry_bytes: u32,
}

impl LevelGeometry {
    /// A level that does not exist in this configuration.
    pub const fn folded(shift: u32) -> Self {
        LevelGeometry {
            shift,
            ptrs: 1,
            table_bytes: 0,
            entry_bytes: 0,
        }
    }

    /// True when the level is folded into the one above it.
    #[inline]
    pub fn is_folded(&self) -> bool {
        self.ptrs <= 1
    }

    /// Index into this level's table for `addr` (`pmd_index()` and friends).
    #[inline]
    pub fn index(&self, addr: u64) -> u64 {
        if self.is_folded() {
            0
        } else {
            (addr >> self.shift) & (self.ptrs as u64 - 1)
        }
    }
}

/// The geometry of one configuration: everything about sizes, nothing about
/// bits within an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Configuration name as the CLI spells it (`x86_64`, `x86-pae`, ...).
    pub name: &'static str,
    /// `PAGE_SHIFT`.
    pub page_shift: u32,
    /// Size of one pte in memory: 4 or 8 bytes (other levels may differ:
    /// see [`LevelGeometry::entry_bytes`]).
    pub entry_bytes: u32,
    /// Byte order of entries in memory.
    pub byte_order: ByteOrder,
    /// True when a 64-bit entry is read and written as two 32-bit halves
    /// (x86 PAE: `CONFIG_GUP_GET_PXX_LOW_HIGH`), so that a lockless reader
    /// can see a torn value and must use `pmdp_get_lockless()`.
    pub split_halves: bool,
    /// Per level, top first (indexed by [`Level::index`]).
    pub levels: [LevelGeometry; 5],
    /// `TASK_SIZE`: the end of the user address range.  A VA at or above it
    /// is outside the configuration's user range.
    pub task_size: u64,
    /// Physical address bits a pfn may use: `__PHYSICAL_MASK_SHIFT`, or
    /// `MAX_POSSIBLE_PHYSMEM_BITS` where that is smaller and the helpers
    /// take a narrower pfn (x86 PAE: 36, as its `unsigned long` pfns are
    /// 32 bits).
    pub phys_bits: u32,
    /// Whether `CONFIG_TRANSPARENT_HUGEPAGE` can be on (`pmd_trans_huge`
    /// can ever be true).
    pub has_thp: bool,
    /// Whether the pmd lock is the split per-table lock
    /// (`USE_SPLIT_PMD_PTLOCKS`) rather than `mm->page_table_lock`.
    pub split_pmd_ptlocks: bool,
    /// Whether pte tables carry their own lock (`USE_SPLIT_PTE_PTLOCKS`).
    pub split_pte_ptlocks: bool,
}

impl Geometry {
    /// `PAGE_SIZE`.
    pub fn page_size(&self) -> u64 {
        1u64 << self.page_shift
    }

    /// The geometry of `level`.
    #[inline]
    pub fn level(&self, level: Level) -> &LevelGeometry {
        &self.levels[level.index()]
    }

    /// Size a pmd leaf maps (`HPAGE_PMD_SIZE`, or `PMD_SIZE` when the pmd
    /// is folded into the pgd as on x86 2-level, where it is 4M).
    pub fn pmd_size(&self) -> u64 {
        1u64 << self.level(Level::Pmd).shift
    }

    /// Highest user address plus one (`TASK_SIZE`).
    pub fn task_size(&self) -> u64 {
        self.task_size
    }

    /// Number of real (unfolded) levels, `CONFIG_PGTABLE_LEVELS`.
    pub fn nr_levels(&self) -> usize {
        Level::ALL
            .iter()
            .filter(|l| **l == Level::Pgd || !self.level(**l).is_folded())
            .count()
    }
}

macro_rules! entry_newtype {
    ($(#[$m:meta])* $name:ident, $val:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw value (`pte_val()` and friends).
            pub fn $val(self) -> u64 {
                self.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({:#x})"), self.0)
            }
        }

        impl core::fmt::LowerHex for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}

entry_newtype!(
    /// A pte value (`pte_t`).
    Pte,
    pte_val
);
entry_newtype!(
    /// A pmd value (`pmd_t`).
    Pmd,
    pmd_val
);
entry_newtype!(
    /// A pud value (`pud_t`).
    Pud,
    pud_val
);
entry_newtype!(
    /// A p4d value (`p4d_t`).
    P4d,
    p4d_val
);
entry_newtype!(
    /// A pgd value (`pgd_t`).
    Pgd,
    pgd_val
);
entry_newtype!(
    /// A protection value (`pgprot_t`), in the arch's entry-bit layout.
    Pgprot,
    pgprot_val
);
entry_newtype!(
    /// An arch-format swap entry (`swp_entry_t` as the arch's `__swp_entry`
    /// builds it, before `__swp_entry_to_pte`).
    SwpEntry,
    swp_val
);

/// `vm_flags` bits that select one of the 16 protection values
/// (`include/linux/mm.h`: VM_READ 0x1, VM_WRITE 0x2, VM_EXEC 0x4, VM_SHARED 0x8).
pub mod vm_flags {
    /// `VM_READ`.
    pub const VM_READ: u8 = 0x1;
    /// `VM_WRITE`.
    pub const VM_WRITE: u8 = 0x2;
    /// `VM_EXEC`.
    pub const VM_EXEC: u8 = 0x4;
    /// `VM_SHARED`.
    pub const VM_SHARED: u8 = 0x8;
}

/// A named bit or field of an entry, for decoding (`ptlab pte decode`) and
/// encoding (`--prot FLAGS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagBit {
    /// The kernel's name without its prefix (`PRESENT`, `RW`, `NX`, ...).
    pub name: &'static str,
    /// The mask.
    pub mask: u64,
    /// One line on what it means, with the header it comes from.
    pub doc: &'static str,
    /// Which entries the bit has this meaning in (several names share a
    /// bit: x86's bit 7 is PSE in a pmd, PAT in a pte; bit 1 is RW in a
    /// present entry and soft-dirty in a swap entry).
    pub kind: FlagKind,
}

/// Which entries a [`FlagBit`] applies to when decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagKind {
    /// Any entry that is not a swap entry (present, protnone, table).
    Entry,
    /// Only entries the MMU accepts (x86's GLOBAL, whose bit means
    /// PROTNONE otherwise).
    Valid,
    /// Only non-swap entries the MMU does not accept (x86's PROTNONE).
    Invalid,
    /// Only base-page ptes (x86's PAT in bit 7).
    Pte,
    /// Only pmd/pud leaves (x86's PSE and PAT_LARGE).
    Leaf,
    /// Only swap and migration entries (`_PAGE_SWP_*`).
    Swap,
    /// Only upper-level entries that point at a next-level table (arm's
    /// first-level descriptor bits: `PMD_TYPE_TABLE`, `PMD_PXNTABLE`, the
    /// domain field).
    Table,
}

/// The names of the bits set in `raw`, an entry at `level` (the
/// interpreting level), keeping only the names that apply to that kind of
/// entry (see [`FlagKind`]).
pub fn decode_flags<A: Arch>(a: &A, level: Level, raw: u64) -> Vec<&'static str> {
    let (swap, valid, leaf) = match level {
        Level::Pte => {
            let p = Pte(raw);
            (!a.pte_none(p) && !a.pte_present(p), a.pte_hw_valid(p), true)
        }
        Level::Pmd => {
            let p = Pmd(raw);
            let leaf = a.pmd_leaf(p);
            (
                !a.pmd_none(p) && !a.pmd_present(p),
                if leaf {
                    a.pmd_hw_valid(p)
                } else {
                    a.pmd_present(p)
                },
                leaf,
            )
        }
        Level::Pud => (false, a.pud_present(Pud(raw)), a.pud_leaf(Pud(raw))),
        Level::P4d => (false, a.p4d_present(P4d(raw)), false),
        Level::Pgd => (false, a.pgd_present(Pgd(raw)), false),
    };
    a.flag_bits()
        .iter()
        .filter(|f| f.mask != 0 && raw & f.mask == f.mask)
        .filter(|f| match f.kind {
            FlagKind::Entry => !swap,
            FlagKind::Valid => !swap && valid,
            FlagKind::Invalid => !swap && !valid,
            FlagKind::Pte => !swap && level == Level::Pte,
            FlagKind::Leaf => !swap && leaf && level != Level::Pte,
            FlagKind::Swap => swap,
            FlagKind::Table => !swap && !leaf && level != Level::Pte,
        })
        .map(|f| f.name)
        .collect()
}

/// Kconfig-level facts that decide which helper families apply, named after
/// the options that gate them in `mm/debug_vm_pgtable.c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchFeatures {
    /// `CONFIG_MEM_SOFT_DIRTY` (needs `HAVE_ARCH_SOFT_DIRTY`).
    pub soft_dirty: bool,
    /// `CONFIG_ARCH_HAS_PTE_SPECIAL`.
    pub pte_special: bool,
    /// `CONFIG_ARCH_HAS_PTE_DEVMAP`.
    pub pte_devmap: bool,
    /// `CONFIG_NUMA_BALANCING` (needs `ARCH_SUPPORTS_NUMA_BALANCING`).
    pub numa_balancing: bool,
    /// `CONFIG_HAVE_ARCH_USERFAULTFD_WP`.
    pub uffd_wp: bool,
    /// `CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD`: pud leaves and their
    /// helpers (`pfn_pud`, `pud_mkhuge`, ...) exist.
    pub thp_pud: bool,
    /// `__HAVE_ARCH_PMDP_INVALIDATE`: the arch overrides `pmdp_invalidate()`,
    /// so the generic `pmd_mkinvalid()` expectations do not apply.
    pub arch_pmdp_invalidate: bool,
}

/// What an architecture provides.  See the module documentation.
///
/// Implementations are a value per configuration (`X86::new(X86Mode::Pae)`),
/// so one binary runs every configuration side by side.
///
/// # Errors
///
/// Allocation methods return [`MmError`] when simulated memory is exhausted
/// ([`MmError::OutOfMemory`]) or a page fails its checks; helper methods are
/// total functions on raw values, as in Linux.
pub trait Arch: Send + Sync + Sized + 'static {
    /// Per-mm architecture state (`mm->context`): powerpc's current
    /// fragment page, s390's list of half-free pages.  `()` where there is
    /// none.
    type MmContext: Default + Send + Sync;

    /// The configuration's geometry.
    fn geometry(&self) -> &Geometry;

    /// Which optional helper families the configuration has.  The default
    /// claims none, so that a new port's families are skipped (with their
    /// Kconfig reason) until it says otherwise.
    fn features(&self) -> ArchFeatures {
        ArchFeatures::default()
    }

    /// The run-time variants of this configuration's deferred-free code
    /// (`pte_free_defer()` as posted in v1, as merged in v6.6, ...), each
    /// `(name, what it is)`; the first is the default.  Variants are values,
    /// not cargo features, so one binary runs them side by side.
    fn variants(&self) -> &'static [(&'static str, &'static str)] {
        &[("merged", "as merged in v6.6")]
    }

    /// The selected variant's name.
    fn variant(&self) -> &'static str {
        self.variants()[0].0
    }

    /// Select a variant by name.
    ///
    /// # Errors
    /// [`MmError::Unsupported`] naming the value and the known variants.
    fn select_variant(&mut self, name: &str) -> Result<(), MmError> {
        if self.variants().iter().any(|(n, _)| *n == name) && name == self.variant() {
            return Ok(());
        }
        Err(MmError::Unsupported(format!(
            "variant '{name}' of {} (known: {})",
            self.geometry().name,
            self.variants()
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// Check families that fail on this configuration because the kernel
    /// itself behaves that way, each with the explanation: `(family name,
    /// why)`.  Reported as expected failures, never hidden.
    fn expected_failures(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// Which special swap types the configuration has (`SWP_DEVICE_NUM`
    /// and friends): they decide `MAX_SWAPFILES` and the migration types.
    fn swap_types(&self) -> crate::swapops::SwapTypes {
        crate::swapops::SwapTypes::ALL
    }

    /// The value `pte_clear()` stores: 0 on most arches (s390 stores
    /// `_PAGE_INVALID`).
    fn pte_clear_val(&self) -> Pte {
        Pte(0)
    }

    /// The value `pmd_clear()` stores: 0 on most arches (s390 stores
    /// `_SEGMENT_ENTRY_EMPTY`).
    fn pmd_clear_val(&self) -> Pmd {
        Pmd(0)
    }

    /// The value `pud_clear()` stores in an entry interpreted at the pud
    /// level: 0 on most arches.  s390 stores `_REGION3_ENTRY_EMPTY` (its
    /// `pud_clear()` only writes a region-third entry; mm-core calls this
    /// only where the pud helpers interpret the table, so the type matches).
    fn pud_clear_val(&self) -> Pud {
        Pud(0)
    }

    /// The value `p4d_clear()` stores: 0 on most arches (s390:
    /// `_REGION2_ENTRY_EMPTY`).
    fn p4d_clear_val(&self) -> P4d {
        P4d(0)
    }

    /// The value `pgd_clear()` stores: 0 on most arches (s390:
    /// `_REGION1_ENTRY_EMPTY`).
    fn pgd_clear_val(&self) -> Pgd {
        Pgd(0)
    }

    /// The walk shapes an mm of this configuration can have, the shape it
    /// starts with first (index 0, which must be [`Arch::geometry`]).
    ///
    /// Every other arch has one shape, fixed at build time.  s390 chooses
    /// the number of levels per mm by its address-space limit
    /// (`mm->context.asce_limit`): a new mm starts with a region-third top
    /// table (3 levels) and `crst_table_upgrade()` puts a region-second
    /// and then a region-first table on top when something is mapped
    /// above the limit.  Shapes must be listed in growing order of
    /// [`Geometry::task_size`], must agree on the pmd and pte levels, and
    /// each shape's top table must cover the whole previous shape with its
    /// first entry (the upgrade links the old top there).  At most 8.
    fn shapes(&self) -> &[Geometry] {
        std::slice::from_ref(self.geometry())
    }

    /// Allocate and initialise the top table of shape `shape` for an
    /// upgrade ([`Mm::upgrade`]): on s390 `crst_table_alloc()` +
    /// `crst_table_init()` with the empty entry of the new top level.  The
    /// default is `pgd_alloc()` ([`Arch::table_alloc`] of the pgd level),
    /// for arches with one shape, where it is never called.
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`].
    fn upgrade_table_alloc(&self, mm: &Mm<Self>, shape: usize) -> Result<u64, MmError> {
        let _ = shape;
        self.table_alloc(mm, Level::Pgd)
    }

    /// Named entry bits, for decoding and for parsing `--prot` lists.
    fn flag_bits(&self) -> &'static [FlagBit];

    // ---- protections -------------------------------------------------

    /// `protection_map[vm_flags & (VM_READ|VM_WRITE|VM_EXEC|VM_SHARED)]`
    /// (`vm_get_page_prot`), `flags` in 0..16.
    fn vm_get_page_prot(&self, flags: u8) -> Pgprot;
    /// `PAGE_NONE`.
    fn page_none(&self) -> Pgprot {
        self.vm_get_page_prot(0)
    }

    // ---- pte ---------------------------------------------------------

    /// `pfn_pte(pfn, prot)`.
    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte;
    /// `pte_pfn(pte)`.
    fn pte_pfn(&self, pte: Pte) -> u64;
    /// `pte_modify(pte, newprot)`.
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte;
    /// `pte_none(pte)`.
    fn pte_none(&self, pte: Pte) -> bool;
    /// `pte_present(pte)`.
    fn pte_present(&self, pte: Pte) -> bool;
    /// `pte_young(pte)`.
    fn pte_young(&self, pte: Pte) -> bool;
    /// `pte_dirty(pte)`.
    fn pte_dirty(&self, pte: Pte) -> bool;
    /// `pte_write(pte)`.
    fn pte_write(&self, pte: Pte) -> bool;
    /// `pte_exec(pte)` (true for every pte where the arch has no no-exec
    /// bit, as on x86 2-level).
    fn pte_exec(&self, pte: Pte) -> bool;
    /// `pte_special(pte)`.
    fn pte_special(&self, pte: Pte) -> bool;
    /// `pte_protnone(pte)` (NUMA balancing).
    fn pte_protnone(&self, pte: Pte) -> bool;
    /// `pte_devmap(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// 0 (see [`Arch::features`]).
    fn pte_devmap(&self, _pte: Pte) -> bool {
        false
    }
    /// `pte_soft_dirty(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// 0 (see [`Arch::features`]).
    fn pte_soft_dirty(&self, _pte: Pte) -> bool {
        false
    }
    /// `pte_uffd_wp(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// 0 (see [`Arch::features`]).
    fn pte_uffd_wp(&self, _pte: Pte) -> bool {
        false
    }
    /// `pte_mkyoung(pte)`.
    fn pte_mkyoung(&self, pte: Pte) -> Pte;
    /// `pte_mkold(pte)`.
    fn pte_mkold(&self, pte: Pte) -> Pte;
    /// `pte_mkdirty(pte)`.
    fn pte_mkdirty(&self, pte: Pte) -> Pte;
    /// `pte_mkclean(pte)`.
    fn pte_mkclean(&self, pte: Pte) -> Pte;
    /// `pte_mkwrite_novma(pte)` (v6.6 name of the old `pte_mkwrite`).
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte;
    /// `pte_wrprotect(pte)`.
    fn pte_wrprotect(&self, pte: Pte) -> Pte;
    /// `pte_mkexec(pte)`.
    fn pte_mkexec(&self, pte: Pte) -> Pte;
    /// `pte_mkspecial(pte)`.
    fn pte_mkspecial(&self, pte: Pte) -> Pte;
    /// `pte_mkdevmap(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pte_mkdevmap(&self, pte: Pte) -> Pte {
        pte
    }
    /// `pte_mksoft_dirty(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pte_mksoft_dirty(&self, pte: Pte) -> Pte {
        pte
    }
    /// `pte_clear_soft_dirty(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pte_clear_soft_dirty(&self, pte: Pte) -> Pte {
        pte
    }
    /// `pte_mkuffd_wp(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pte_mkuffd_wp(&self, pte: Pte) -> Pte {
        pte
    }
    /// `pte_clear_uffd_wp(pte)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pte_clear_uffd_wp(&self, pte: Pte) -> Pte {
        pte
    }

    /// Where a hardware twin of the pte at `ptep_pa` lives and what it holds,
    /// when the architecture keeps one beside the Linux pte (arm's classic
    /// 2-level tables: `set_pte_ext()` writes the hardware pte 2K further
    /// on).  mm-core stores it right after the Linux pte.  Default: none.
    fn pte_hw_twin(&self, _ptep_pa: u64, _pte: Pte) -> Option<(u64, u64)> {
        None
    }

    /// Whether the MMU accepts `pte` as a valid translation (Linux's view:
    /// present and not a NUMA-hinting protnone entry).  Used to compare the
    /// model's translation with an emulator's.
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        self.pte_present(pte) && !self.pte_protnone(pte)
    }
    /// As [`Arch::pte_hw_valid`] for a pmd leaf.  Arches whose
    /// `pmd_present()` stays true for an invalidated THP (x86: PSE alone)
    /// override it.
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        self.pmd_present(pmd) && !self.pmd_protnone(pmd)
    }
    /// Whether the MMU lets a write through `pte`, a leaf it accepts (see
    /// [`Arch::pte_hw_valid`]).  Default: `pte_write()`.  Arches that
    /// emulate the dirty bit by mapping clean ptes read-only in hardware
    /// override it (s390: the protect bit stays until dirty; arm: `cpu_v7_set_pte_ext()` sets APX/AP2 unless the pte
    /// is writable *and* dirty), so that the model and an emulated MMU agree
    /// that a write to a clean pte faults.
    fn pte_hw_writable(&self, pte: Pte) -> bool {
        self.pte_write(pte)
    }
    /// As [`Arch::pte_hw_writable`] for a pmd leaf.  Default: `pmd_write()`.
    fn pmd_hw_writable(&self, pmd: Pmd) -> bool {
        self.pmd_write(pmd)
    }
    /// The value `set_pte()`/`set_ptes()` stores in the pte itself, where the
    /// arch adjusts it on the way (arm LPAE: `cpu_v7_set_pte_ext()` ORs in
    /// nG for a valid user pte, clears the valid bit of a PROT_NONE pte and
    /// sets AP2 unless writable and dirty).  Default: `pte`.  A hardware
    /// twin ([`Arch::pte_hw_twin`]) is computed from the original `pte`.
    fn set_pte_at_val(&self, pte: Pte) -> Pte {
        pte
    }
    /// The value `set_pmd_at(mm, addr, pmdp, pmd)` stores, where the arch
    /// adjusts it on the way (arm LPAE: clears the valid bit of a PROT_NONE
    /// pmd, sets AP2 unless writable and dirty, sets nG).  Default: `pmd`.
    fn set_pmd_at_val(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    /// `pud_pfn(pud)` of a pud leaf.  The default reads it with the pmd
    /// layout, which is right where pud and pmd leaves share their format
    /// (x86); override it otherwise.
    fn pud_pfn(&self, pud: Pud) -> u64 {
        self.pmd_pfn(Pmd(pud.0))
    }
    /// `pud_write(pud)` of a pud leaf; false where there are none.
    fn pud_write(&self, _pud: Pud) -> bool {
        false
    }

    // ---- pud leaves (only called when `features().thp_pud`) ------------

    /// `pfn_pud(pfn, prot)`.  The default (no pud leaves) is the empty pud.
    fn pfn_pud(&self, _pfn: u64, _prot: Pgprot) -> Pud {
        Pud(0)
    }
    /// `pud_mkhuge(pud)`.
    fn pud_mkhuge(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_trans_huge(pud)`.
    fn pud_trans_huge(&self, _pud: Pud) -> bool {
        false
    }
    /// `pud_young(pud)`.
    fn pud_young(&self, _pud: Pud) -> bool {
        false
    }
    /// `pud_dirty(pud)`.
    fn pud_dirty(&self, _pud: Pud) -> bool {
        false
    }
    /// `pud_mkyoung(pud)`.
    fn pud_mkyoung(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_mkold(pud)`.
    fn pud_mkold(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_mkdirty(pud)`.
    fn pud_mkdirty(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_mkclean(pud)`.
    fn pud_mkclean(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_mkwrite(pud)`.
    fn pud_mkwrite(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_wrprotect(pud)`.
    fn pud_wrprotect(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_mkdevmap(pud)`.
    fn pud_mkdevmap(&self, pud: Pud) -> Pud {
        pud
    }
    /// `pud_devmap(pud)`.
    fn pud_devmap(&self, _pud: Pud) -> bool {
        false
    }

    // ---- swap ptes ---------------------------------------------------

    /// `__swp_entry(type, offset)`.
    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry;
    /// `__swp_type(entry)`.
    fn __swp_type(&self, e: SwpEntry) -> u64;
    /// `__swp_offset(entry)`.
    fn __swp_offset(&self, e: SwpEntry) -> u64;
    /// `__pte_to_swp_entry(pte)`.
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry;
    /// `__swp_entry_to_pte(entry)`.
    fn __swp_entry_to_pte(&self, e: SwpEntry) -> Pte;
    /// Largest swap offset the arch format holds (`swp_offset` of
    /// `__swp_entry(0, ~0)`): used by the swap-exclusive family.  Default:
    /// exactly that probe.
    fn max_swapfile_offset(&self) -> u64 {
        self.__swp_offset(self.__swp_entry(0, u64::MAX))
    }
    /// `pte_swp_soft_dirty(pte)`.  Default: the `include/linux/pgtable.h`
    /// stub without `CONFIG_HAVE_ARCH_SOFT_DIRTY`, 0.
    fn pte_swp_soft_dirty(&self, _pte: Pte) -> bool {
        false
    }
    /// `pte_swp_mksoft_dirty(pte)`.  Default: the stub, the identity.
    fn pte_swp_mksoft_dirty(&self, pte: Pte) -> Pte {
        pte
    }
    /// `pte_swp_clear_soft_dirty(pte)`.  Default: the stub, the identity.
    fn pte_swp_clear_soft_dirty(&self, pte: Pte) -> Pte {
        pte
    }
    /// `pte_swp_exclusive(pte)`.
    fn pte_swp_exclusive(&self, pte: Pte) -> bool;
    /// `pte_swp_mkexclusive(pte)`.
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte;
    /// `pte_swp_clear_exclusive(pte)`.
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte;
    /// `pte_swp_uffd_wp(pte)`.  Default: the `asm-generic/pgtable_uffd.h`
    /// stub without `CONFIG_HAVE_ARCH_USERFAULTFD_WP`, 0.
    fn pte_swp_uffd_wp(&self, _pte: Pte) -> bool {
        false
    }

    // ---- pmd ---------------------------------------------------------

    /// `pfn_pmd(pfn, prot)`.
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd;
    /// `pmd_pfn(pmd)`.
    fn pmd_pfn(&self, pmd: Pmd) -> u64;
    /// `pmd_modify(pmd, newprot)`.
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd;
    /// `pmd_none(pmd)`.
    fn pmd_none(&self, pmd: Pmd) -> bool;
    /// `pmd_present(pmd)`.
    fn pmd_present(&self, pmd: Pmd) -> bool;
    /// `pmd_bad(pmd)`: a non-leaf entry that does not look like a pointer
    /// to a page table.
    fn pmd_bad(&self, pmd: Pmd) -> bool;
    /// `pmd_leaf(pmd)` (`pmd_large` on older kernels).
    fn pmd_leaf(&self, pmd: Pmd) -> bool;
    /// `pmd_trans_huge(pmd)`.
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool;
    /// `pmd_devmap(pmd)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// 0 (see [`Arch::features`]).
    fn pmd_devmap(&self, _pmd: Pmd) -> bool {
        false
    }
    /// `pmd_protnone(pmd)`.
    fn pmd_protnone(&self, pmd: Pmd) -> bool;
    /// `pmd_young(pmd)`.
    fn pmd_young(&self, pmd: Pmd) -> bool;
    /// `pmd_dirty(pmd)`.
    fn pmd_dirty(&self, pmd: Pmd) -> bool;
    /// `pmd_write(pmd)`.
    fn pmd_write(&self, pmd: Pmd) -> bool;
    /// `pmd_soft_dirty(pmd)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// 0 (see [`Arch::features`]).
    fn pmd_soft_dirty(&self, _pmd: Pmd) -> bool {
        false
    }
    /// `pmd_mkyoung(pmd)`.
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mkold(pmd)`.
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mkdirty(pmd)`.
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mkclean(pmd)`.
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mkwrite_novma(pmd)`.
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd;
    /// `pmd_wrprotect(pmd)`.
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mkhuge(pmd)`.
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mkdevmap(pmd)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pmd_mkdevmap(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    /// `pmd_mkinvalid(pmd)` (what `pmdp_invalidate` stores).
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd;
    /// `pmd_mksoft_dirty(pmd)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pmd_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    /// `pmd_clear_soft_dirty(pmd)`.
    ///
    /// Default: the generic stub for a configuration without the feature,
    /// the identity.
    fn pmd_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    /// The pmd that `pmd_populate(mm, pmdp, table)` stores for a pte table
    /// at physical address `table_pa`.
    fn pmd_populate(&self, table_pa: u64) -> Pmd;
    /// Physical address of the pte table a table pmd points at
    /// (`pmd_page_vaddr` / `pmd_page` as an address).
    fn pmd_table_pa(&self, pmd: Pmd) -> u64;
    // The pmd swap helpers default to the `include/linux/swapops.h` and
    // `include/linux/pgtable.h` stubs used without
    // `CONFIG_ARCH_ENABLE_THP_MIGRATION` / `CONFIG_MEM_SOFT_DIRTY`: an arch
    // with pmd migration entries overrides all of them.

    /// Whether THP migration entries exist at pmd level
    /// (`CONFIG_ARCH_ENABLE_THP_MIGRATION`).  Default: no.
    fn has_pmd_swap(&self) -> bool {
        false
    }
    /// `__pmd_to_swp_entry(pmd)`.  Default: the stub, `swp_entry(0, 0)`.
    fn __pmd_to_swp_entry(&self, _pmd: Pmd) -> SwpEntry {
        SwpEntry(0)
    }
    /// `__swp_entry_to_pmd(entry)`.  Default: the stub, `__pmd(0)`.
    fn __swp_entry_to_pmd(&self, _e: SwpEntry) -> Pmd {
        Pmd(0)
    }
    /// `pmd_swp_soft_dirty(pmd)`.  Default: the stub, 0.
    fn pmd_swp_soft_dirty(&self, _pmd: Pmd) -> bool {
        false
    }
    /// `pmd_swp_mksoft_dirty(pmd)`.  Default: the stub, the identity.
    fn pmd_swp_mksoft_dirty(&self, pmd: Pmd) -> Pmd {
        pmd
    }
    /// `pmd_swp_clear_soft_dirty(pmd)`.  Default: the stub, the identity.
    fn pmd_swp_clear_soft_dirty(&self, pmd: Pmd) -> Pmd {
        pmd
    }

    // ---- upper levels (only called for levels that are not folded) ----

    /// `pud_none(pud)`.
    fn pud_none(&self, pud: Pud) -> bool;
    /// `pud_present(pud)`.
    fn pud_present(&self, pud: Pud) -> bool;
    /// `pud_bad(pud)`.
    fn pud_bad(&self, pud: Pud) -> bool;
    /// `pud_leaf(pud)`.
    fn pud_leaf(&self, pud: Pud) -> bool;
    /// The pud that `pud_populate` stores for a pmd table at `table_pa`.
    fn pud_populate(&self, table_pa: u64) -> Pud;
    /// Physical address of the pmd table a pud points at.
    fn pud_table_pa(&self, pud: Pud) -> u64;
    /// `p4d_none(p4d)`.
    fn p4d_none(&self, p4d: P4d) -> bool;
    /// `p4d_present(p4d)`.
    fn p4d_present(&self, p4d: P4d) -> bool;
    /// `p4d_bad(p4d)`.
    fn p4d_bad(&self, p4d: P4d) -> bool;
    /// The p4d that `p4d_populate` stores for a pud table at `table_pa`.
    fn p4d_populate(&self, table_pa: u64) -> P4d;
    /// Physical address of the pud table a p4d points at.
    fn p4d_table_pa(&self, p4d: P4d) -> u64;
    /// `pgd_none(pgd)`.
    fn pgd_none(&self, pgd: Pgd) -> bool;
    /// `pgd_present(pgd)`.
    fn pgd_present(&self, pgd: Pgd) -> bool;
    /// `pgd_bad(pgd)`.
    fn pgd_bad(&self, pgd: Pgd) -> bool;
    /// The pgd that `pgd_populate` stores for a next-level table at
    /// `table_pa`.
    fn pgd_populate(&self, table_pa: u64) -> Pgd;
    /// Physical address of the table a pgd entry points at.
    fn pgd_table_pa(&self, pgd: Pgd) -> u64;

    // ---- table allocation (asm/pgalloc.h) ----------------------------

    /// `pte_alloc_one(mm)`: a zeroed (`pte_none`-filled) pte table; returns
    /// its physical address (the model's `pgtable_t`).  Runs the page-table
    /// constructor (`pgtable_pte_page_ctor`: PG_table, ptl) and accounts
    /// the bytes in `mm->pgtables_bytes`.
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`] when no frame is free.
    fn pte_alloc_one(&self, mm: &Mm<Self>) -> Result<u64, MmError> {
        crate::pgalloc::generic_pte_alloc_one(mm)
    }
    /// `pte_free(mm, pgtable)`: free a pte table now.
    ///
    /// # Errors
    /// [`MmError::BadPage`] when the page fails Linux's free-page checks.
    fn pte_free(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        crate::pgalloc::generic_pte_free(mm, table_pa)
    }
    /// `pte_free_defer(mm, pgtable)`: free a pte table that lockless
    /// `pte_offset_map()` readers may still be walking, after an RCU grace
    /// period (`mm/pgtable-generic.c`, the v6.6 series' patch 08).
    ///
    /// # Errors
    /// [`MmError::RcuHeadInUse`] when the page's single rcu_head is already
    /// queued (the bug the multi-table arches must avoid).
    fn pte_free_defer(&self, mm: &Mm<Self>, table_pa: u64) -> Result<(), MmError> {
        crate::pgalloc::generic_pte_free_defer(mm, table_pa)
    }
    /// Allocate a zeroed table for a non-pte level (`pmd_alloc_one`,
    /// `pud_alloc_one`, `p4d_alloc_one`, and `pgd_alloc` for
    /// [`Level::Pgd`]).
    ///
    /// # Errors
    /// [`MmError::OutOfMemory`] when no frame is free.
    fn table_alloc(&self, mm: &Mm<Self>, level: Level) -> Result<u64, MmError> {
        crate::pgalloc::generic_table_alloc(mm, level)
    }
    /// Free a table allocated by [`Arch::table_alloc`].
    ///
    /// # Errors
    /// [`MmError::BadPage`] when the page fails the free-page checks.
    fn table_free(&self, mm: &Mm<Self>, level: Level, table_pa: u64) -> Result<(), MmError> {
        crate::pgalloc::generic_table_free(mm, level, table_pa)
    }
    /// Called at the end of mm teardown (`arch_exit_mmap`, powerpc's
    /// `pte_frag_destroy`).
    ///
    /// # Errors
    /// As [`Arch::pte_free`].
    fn exit_mmap(&self, _mm: &Mm<Self>) -> Result<(), MmError> {
        Ok(())
    }

    // ---- emulation ---------------------------------------------------

    /// An emulated translator for this configuration over `machine`'s
    /// physical memory (the guest CPU's MMU, or a guest-code walker).
    ///
    /// # Errors
    /// [`EmuError::Unsupported`] where the configuration has none;
    /// [`EmuError::Emulator`] when the emulator cannot be set up.
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        let _ = machine;
        Err(EmuError::Unsupported(self.geometry().name.to_string()))
    }
}

/// A configuration-independent view of one arch configuration, for the
/// parts of the runner that only list and decode.
pub fn describe_level(g: &Geometry, level: Level) -> String {
    let l = g.level(level);
    if l.is_folded() {
        format!("{}: folded", level.name())
    } else {
        format!(
            "{}: {} entries, shift {}, table {} bytes",
            level.name(),
            l.ptrs,
            l.shift,
            l.table_bytes
        )
    }
}
