//! ptlab's arm (32-bit) page tables with Linux v6.6's real entry encodings.
//!
//! Two configurations, chosen at run time ([`ArmMode`]):
//!
//! | name | levels | entry | notes |
//! |---|---|---|---|
//! | `arm` | 2 (pmd folded into the pgd) | pgd: pairs of 32-bit descriptors; pte 4 B plus a hardware twin | ARMv7, `CONFIG_ARM_LPAE=n`, no THP |
//! | `arm-lpae` | 3 (pud folded) | 8 B | `CONFIG_ARM_LPAE=y`, THP with 2M blocks |
//!
//! Following mm-core's folding rule, each physical table's entries go
//! through the helpers of the lowest level folded into it: the classic pgd
//! through `pmd_*` (the pmd is folded into the pgd), the LPAE first-level
//! table through `pud_*` (the pud is folded into it).  The folded levels'
//! own helpers are the trivial ones of `include/asm-generic/pgtable-nop*.h`;
//! their `*_populate` return the value the real level stores in the slot.
//!
//! The classic configuration keeps two copies of every pte: the Linux pte,
//! which the helpers see, and its hardware twin 2048 bytes further on in the
//! same page, which is all the MMU ever reads.  [`Arm`]'s
//! [`Arch::pte_hw_twin`] computes the twin exactly as
//! `cpu_v7_set_pte_ext()` (arch/arm/mm/proc-v7-2level.S) does; on LPAE the
//! MMU reads the Linux table and `cpu_v7_set_pte_ext()` adjusts the value on
//! its way in ([`Arch::set_pte_at_val`]).
//!
//! Neither configuration has hardware young or dirty bits: Linux emulates
//! both.  A pte that is not young is a fault entry in hardware (classic:
//! the twin is 0; LPAE: the access flag `L_PTE_YOUNG` is the hardware AF,
//! and Unicorn, like the Cortex-A15, does not set it in hardware, so an
//! access faults), and a pte that is writable but clean is read-only in
//! hardware (APX / AP2).  So the model's "the MMU accepts it"
//! ([`Arch::pte_hw_valid`]) is present && young && !PROT_NONE, and "the MMU
//! lets a write through" ([`Arch::pte_hw_writable`]) is writable && dirty.
//!
//! [`adjust`] holds `adjust_pte()` (arch/arm/mm/fault-armv.c); [`emulate`]
//! the Unicorn walkers; [`entry`] the bits and helper bodies, with every
//! Kconfig and boot-time assumption.

pub mod adjust;
pub mod alloc;
pub mod emulate;
pub mod entry;
pub mod geometry;

use std::sync::Arc;

use mm_core::arch::{
    ArchFeatures, FlagBit, FlagKind, Geometry, Level, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry,
};
use mm_core::emulate::{EmuError, HwWalker};
use mm_core::{Arch, Machine, Mm, MmError};

use entry::{classic as c, lpae as l};

/// Which arm page-table format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArmMode {
    /// Classic 2-level short descriptors (`CONFIG_ARM_LPAE=n`).
    Classic,
    /// LPAE 3-level long descriptors (`CONFIG_ARM_LPAE=y`).
    Lpae,
}

impl ArmMode {
    /// Both, in the order [`Arm::configurations`] lists them.
    pub const ALL: [ArmMode; 2] = [ArmMode::Classic, ArmMode::Lpae];
}

/// One arm configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    mode: ArmMode,
    geometry: Geometry,
}

impl Arm {
    /// The configuration `mode`.
    pub fn new(mode: ArmMode) -> Arm {
        Arm {
            mode,
            geometry: geometry::geometry(mode),
        }
    }

    /// The configuration names, as the CLI spells them.
    pub fn configurations() -> &'static [&'static str] {
        &["arm", "arm-lpae"]
    }

    /// The configuration called `name` (see [`Arm::configurations`]).
    pub fn from_name(name: &str) -> Option<Arm> {
        ArmMode::ALL
            .into_iter()
            .map(Arm::new)
            .find(|a| a.geometry.name == name)
    }

    /// The mode.
    pub fn mode(&self) -> ArmMode {
        self.mode
    }

    /// The same configuration with `USE_SPLIT_PTE_PTLOCKS` forced to `on`.
    ///
    /// For the classic configuration this is a kernel built with
    /// `CPU_CACHE_VIPT` (so `SPLIT_PTLOCK_CPUS` is 4 and `NR_CPUS >= 4`
    /// gives split locks) running on a CPU whose cache is VIVT: the
    /// multi-platform case in which `cache_is_vivt()` (a run-time test) is
    /// true and `adjust_pte()` runs with split pte locks.  Used to show the
    /// v6.6 `adjust_pte()` self-deadlock when the alias shares the faulting
    /// address's pte table.  The configuration name is unchanged.
    pub fn with_split_pte_ptlocks(mut self, on: bool) -> Arm {
        self.geometry.split_pte_ptlocks = on;
        self
    }

    fn classic(&self) -> bool {
        self.mode == ArmMode::Classic
    }

    /// `cpu_v7_set_pte_ext()` for a pte at a user address: the classic
    /// hardware twin ([`entry::classic::cpu_v7_set_pte_ext`] with
    /// `set_ptes()`'s ext), or the value LPAE stores
    /// ([`entry::lpae::set_pte_ext`]).
    pub fn set_pte_ext(&self, pte: Pte) -> u64 {
        match self.mode {
            ArmMode::Classic => c::cpu_v7_set_pte_ext(pte.0, c::user_ext(pte.0)),
            ArmMode::Lpae => l::set_pte_ext(pte.0, l::user_ext(pte.0)),
        }
    }

    /// `pte_mknexec()` (pgtable.h): set `L_PTE_XN`.
    pub fn pte_mknexec(&self, pte: Pte) -> Pte {
        Pte(pte.0 | self.xn())
    }

    /// `pte_valid()` (pgtable.h): `L_PTE_VALID`.
    pub fn pte_valid(&self, pte: Pte) -> bool {
        pte.0 & 1 != 0
    }

    /// `L_PTE_MT_MASK` of the mode.
    pub fn mt_mask(&self) -> u64 {
        if self.classic() {
            c::L_PTE_MT_MASK
        } else {
            l::L_PTE_MT_MASK
        }
    }

    fn young(&self) -> u64 {
        if self.classic() {
            c::L_PTE_YOUNG
        } else {
            l::L_PTE_YOUNG
        }
    }
    fn dirty(&self) -> u64 {
        if self.classic() {
            c::L_PTE_DIRTY
        } else {
            l::L_PTE_DIRTY
        }
    }
    fn rdonly(&self) -> u64 {
        if self.classic() {
            c::L_PTE_RDONLY
        } else {
            l::L_PTE_RDONLY
        }
    }
    fn xn(&self) -> u64 {
        if self.classic() {
            c::L_PTE_XN
        } else {
            l::L_PTE_XN
        }
    }
    fn user(&self) -> u64 {
        if self.classic() {
            c::L_PTE_USER
        } else {
            l::L_PTE_USER
        }
    }
    fn none_bit(&self) -> u64 {
        if self.classic() {
            c::L_PTE_NONE
        } else {
            l::L_PTE_NONE
        }
    }
    fn phys_mask(&self) -> u64 {
        if self.classic() {
            c::PHYS_MASK
        } else {
            l::PHYS_MASK
        }
    }
    /// The width of the value the helpers work on: `pteval_t` is 32 bits on
    /// classic tables.
    fn width_mask(&self) -> u64 {
        if self.classic() {
            0xffff_ffff
        } else {
            u64::MAX
        }
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

/// `flag_bits()` of the classic configuration: the Linux pte bits, the swap
/// exclusive bit, and the first-level descriptor bits of a pgd pair's first
/// word.  The hardware twin's bits are [`CLASSIC_HW_PTE_BITS`].
pub static CLASSIC_FLAGS: &[FlagBit] = &[
    fb!("PRESENT", c::L_PTE_PRESENT, Pte, "bit 0, L_PTE_PRESENT = L_PTE_VALID (pgtable-2level.h)"),
    fb!("YOUNG", c::L_PTE_YOUNG, Pte, "bit 1, L_PTE_YOUNG: emulated access flag; the hardware twin is a fault entry unless set (pgtable-2level.h)"),
    fb!("MT_B", 1 << 2, Pte, "bit 2, L_PTE_MT bit 0 (XXCB's B): memory type field bits 2-5, e.g. WRITEALLOC 0x1c, BUFFERABLE 0x04 (pgtable-2level.h)"),
    fb!("MT_C", 1 << 3, Pte, "bit 3, L_PTE_MT bit 1 (XXCB's C) (pgtable-2level.h)"),
    fb!("MT_X0", 1 << 4, Pte, "bit 4, L_PTE_MT bit 2: becomes TEX[0] in the hardware twin (pgtable-2level.h, proc-v7-2level.S)"),
    fb!("MT_X1", 1 << 5, Pte, "bit 5, L_PTE_MT bit 3 (DEV_NONSHARED, DEV_WC, DEV_CACHED, VECTORS) (pgtable-2level.h)"),
    fb!("DIRTY", c::L_PTE_DIRTY, Pte, "bit 6, L_PTE_DIRTY: emulated dirty bit; the twin is read-only (APX) unless set (pgtable-2level.h)"),
    fb!("RDONLY", c::L_PTE_RDONLY, Pte, "bit 7, L_PTE_RDONLY (pgtable-2level.h)"),
    fb!("USER", c::L_PTE_USER, Pte, "bit 8, L_PTE_USER (pgtable-2level.h)"),
    fb!("XN", c::L_PTE_XN, Pte, "bit 9, L_PTE_XN: execute never (pgtable-2level.h)"),
    fb!("SHARED", c::L_PTE_SHARED, Pte, "bit 10, L_PTE_SHARED: shared (v6), coherent (xsc3) (pgtable-2level.h)"),
    fb!("NONE", c::L_PTE_NONE, Pte, "bit 11, L_PTE_NONE: PROT_NONE, present to Linux, a fault entry in hardware (pgtable-2level.h)"),
    fb!("SWP_EXCLUSIVE", c::L_PTE_SWP_EXCLUSIVE, Swap, "bit 7 of a swap pte: L_PTE_SWP_EXCLUSIVE = L_PTE_RDONLY, v6.3+ (pgtable-2level.h)"),
    fb!("TYPE_TABLE", c::PMD_TYPE_TABLE, Table, "bit 0 of the first word: PMD_TYPE_TABLE, a coarse page table (pgtable-2level-hwdef.h)"),
    fb!("PXNTABLE", c::PMD_PXNTABLE, Table, "bit 2: PMD_PXNTABLE, in user_pmd_table on v7 with VMSA >= 4 (pgtable-2level-hwdef.h, mm/mmu.c)"),
    fb!("BIT4", c::PMD_BIT4, Table, "bit 4: PMD_BIT4, set in _PAGE_USER_TABLE (pgtable-2level-hwdef.h, pgalloc.h)"),
    fb!("DOMAIN_USER", c::DOMAIN_USER << 5, Table, "bits 5-8 = 1: PMD_DOMAIN(DOMAIN_USER) (pgtable-2level-hwdef.h, domain.h)"),
    fb!("TYPE_SECT", c::PMD_TYPE_SECT, Leaf, "bit 1 of the first word: PMD_TYPE_SECT, a 1M section; pmd_bad() to Linux in a user pgd (pgtable-2level-hwdef.h)"),
];

/// The bits of a classic hardware (twin) pte, `PTE_EXT_*` and friends
/// (pgtable-2level-hwdef.h), for decoding twins.
pub static CLASSIC_HW_PTE_BITS: &[FlagBit] = &[
    fb!(
        "EXT_XN",
        c::PTE_EXT_XN,
        Pte,
        "bit 0, PTE_EXT_XN (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "TYPE_SMALL",
        c::PTE_TYPE_SMALL,
        Pte,
        "bit 1, PTE_TYPE_SMALL: a 4K small page (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "BUFFERABLE",
        c::PTE_BUFFERABLE,
        Pte,
        "bit 2, PTE_BUFFERABLE, B (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "CACHEABLE",
        c::PTE_CACHEABLE,
        Pte,
        "bit 3, PTE_CACHEABLE, C (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "EXT_AP0",
        c::PTE_EXT_AP0,
        Pte,
        "bit 4, PTE_EXT_AP0: always set by cpu_v7_set_pte_ext (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "EXT_AP1",
        c::PTE_EXT_AP1,
        Pte,
        "bit 5, PTE_EXT_AP1: user access (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "EXT_TEX0",
        c::PTE_EXT_TEX1,
        Pte,
        "bit 6, PTE_EXT_TEX(1): TEX[0] (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "EXT_APX",
        c::PTE_EXT_APX,
        Pte,
        "bit 9, PTE_EXT_APX: AP[2], read-only (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "EXT_SHARED",
        c::PTE_EXT_SHARED,
        Pte,
        "bit 10, PTE_EXT_SHARED, S (pgtable-2level-hwdef.h)"
    ),
    fb!(
        "EXT_NG",
        c::PTE_EXT_NG,
        Pte,
        "bit 11, PTE_EXT_NG: not global (pgtable-2level-hwdef.h)"
    ),
];

/// `flag_bits()` of LPAE: Linux pte bits, which are also the hardware
/// bits (and the block bits of a huge pmd), and the table bits.
pub static LPAE_FLAGS: &[FlagBit] = &[
    fb!("VALID", l::L_PTE_VALID, Entry, "bit 0, L_PTE_VALID / L_PMD_SECT_VALID: the descriptor's valid bit (pgtable-3level.h)"),
    fb!("TABLE_BIT", l::PTE_TABLE_BIT, Entry, "bit 1: PTE_TABLE_BIT / PMD_TABLE_BIT; page or table descriptor, clear in a block (L_PTE_PRESENT is bits 0-1) (pgtable-3level-hwdef.h)"),
    fb!("MT0", 1 << 2, Entry, "bit 2, AttrIndx[0] (L_PTE_MT_*, e.g. WRITEALLOC = 7 << 2) (pgtable-3level.h)"),
    fb!("MT1", 1 << 3, Entry, "bit 3, AttrIndx[1] (pgtable-3level.h)"),
    fb!("MT2", 1 << 4, Entry, "bit 4, AttrIndx[2] (pgtable-3level.h)"),
    fb!("USER", l::L_PTE_USER, Entry, "bit 6, L_PTE_USER / PMD_SECT_USER: AP[1] (pgtable-3level.h)"),
    fb!("AP2", l::PTE_AP2, Entry, "bit 7, PTE_AP2 / PMD_SECT_AP2: read-only, set by cpu_v7_set_pte_ext / set_pmd_at unless writable and dirty (pgtable-3level-hwdef.h)"),
    fb!("SWP_EXCLUSIVE", l::L_PTE_SWP_EXCLUSIVE, Swap, "bit 7 of a swap pte: L_PTE_SWP_EXCLUSIVE (pgtable-3level.h)"),
    fb!("SHARED", l::L_PTE_SHARED, Entry, "bits 8-9, L_PTE_SHARED: SH = inner shareable (pgtable-3level.h)"),
    fb!("YOUNG", l::L_PTE_YOUNG, Entry, "bit 10, L_PTE_YOUNG / PMD_SECT_AF: the hardware access flag (pgtable-3level.h)"),
    fb!("NG", l::PTE_EXT_NG, Entry, "bit 11, PTE_EXT_NG / PMD_SECT_nG: not global (pgtable-3level-hwdef.h)"),
    fb!("PXN", l::PTE_EXT_PXN, Entry, "bit 53, PTE_EXT_PXN / PMD_SECT_PXN (pgtable-3level-hwdef.h)"),
    fb!("XN", l::L_PTE_XN, Entry, "bit 54, L_PTE_XN / PMD_SECT_XN (pgtable-3level.h)"),
    fb!("DIRTY", l::L_PTE_DIRTY, Entry, "bit 55, L_PTE_DIRTY / L_PMD_SECT_DIRTY (software) (pgtable-3level.h)"),
    fb!("SPECIAL", l::L_PTE_SPECIAL, Pte, "bit 56, L_PTE_SPECIAL (software) (pgtable-3level.h)"),
    fb!("NONE", l::L_PTE_NONE, Entry, "bit 57, L_PTE_NONE / L_PMD_SECT_NONE: PROT_NONE (software) (pgtable-3level.h)"),
    fb!("RDONLY", l::L_PTE_RDONLY, Entry, "bit 58, L_PTE_RDONLY / L_PMD_SECT_RDONLY (software) (pgtable-3level.h)"),
    fb!("PXNTABLE", l::PMD_PXNTABLE, Table, "bit 59, PMD_PXNTABLE (pgtable-3level-hwdef.h)"),
];

impl Arch for Arm {
    /// No device-private or hwpoison swap types here
    /// ([`entry::SWAP_TYPES`]): `MAX_SWAPFILES` is 28.
    fn swap_types(&self) -> mm_core::swapops::SwapTypes {
        entry::SWAP_TYPES
    }
    type MmContext = ();

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// `ARCH_HAS_PTE_SPECIAL` only with LPAE; nothing else (see
    /// [`entry`]).  arm defines neither `__HAVE_ARCH_PMDP_INVALIDATE` nor
    /// pud leaves.
    fn features(&self) -> ArchFeatures {
        ArchFeatures {
            pte_special: !self.classic(),
            ..ArchFeatures::default()
        }
    }

    /// arm does not select `ARCH_HAS_DEBUG_VM_PGTABLE`, so Linux never runs
    /// these checks on it; on LPAE two of them fail as the kernel is
    /// written.
    fn expected_failures(&self) -> &'static [(&'static str, &'static str)] {
        match self.mode {
            ArmMode::Classic => &[],
            ArmMode::Lpae => &[
                (
                    "pmd_thp_tests",
                    "pmd_mkinvalid() clears L_PMD_SECT_VALID and pmd_present() tests exactly \
                     that bit (pgtable-3level.h), so an invalidated THP is not pmd_present(); \
                     Linux never runs debug_vm_pgtable on arm (no ARCH_HAS_DEBUG_VM_PGTABLE)",
                ),
                (
                    "pte_offset_map_failure",
                    "no 'bad' pmd state exists on LPAE: pmd_bad() is !(pmd & 2) and \
                     pmd_trans_huge() is pmd && !pmd_table(pmd) (pgtable-3level.h), so every \
                     non-none bad pmd is trans-huge and __pte_offset_map() fails it as such before \
                     pmd_bad()/pmd_clear_bad() is reached; the family's other states pass",
                ),
                (
                    "pte_swap_tests",
                    "swp_entry_t is a 32-bit unsigned long: __pte_to_swp_entry() keeps only the \
                     low 32 bits of a 64-bit LPAE pte (pgtable.h), so a present pte's pfn above \
                     2^20 does not survive the round trip; Linux never runs debug_vm_pgtable on \
                     arm",
                ),
            ],
        }
    }

    fn flag_bits(&self) -> &'static [FlagBit] {
        if self.classic() {
            CLASSIC_FLAGS
        } else {
            LPAE_FLAGS
        }
    }

    fn vm_get_page_prot(&self, flags: u8) -> Pgprot {
        Pgprot(if self.classic() {
            c::vm_get_page_prot(flags)
        } else {
            l::vm_get_page_prot(flags)
        })
    }

    // ---- pte -----------------------------------------------------------

    /// `pfn_pte()` (pgtable.h): `__pte(__pfn_to_phys(pfn) |
    /// pgprot_val(prot))`, in a 32-bit `phys_addr_t` on classic tables.
    fn pfn_pte(&self, pfn: u64, prot: Pgprot) -> Pte {
        Pte(((pfn << 12) | prot.0) & self.width_mask())
    }
    /// `pte_pfn()` (pgtable.h): `(pte_val(pte) & PHYS_MASK) >> PAGE_SHIFT`.
    fn pte_pfn(&self, pte: Pte) -> u64 {
        (pte.0 & self.phys_mask()) >> 12
    }
    /// `pte_modify()` (pgtable.h): replace XN, RDONLY, USER, NONE and VALID.
    fn pte_modify(&self, pte: Pte, prot: Pgprot) -> Pte {
        let mask = self.xn() | self.rdonly() | self.user() | self.none_bit() | 1;
        Pte((pte.0 & !mask) | (prot.0 & mask))
    }
    /// `pte_none()` (pgtable.h): `!pte_val(pte)`.
    fn pte_none(&self, pte: Pte) -> bool {
        pte.0 == 0
    }
    /// `pte_present()` (pgtable.h): `L_PTE_PRESENT` (bit 0 classic, bits
    /// 0-1 LPAE).
    fn pte_present(&self, pte: Pte) -> bool {
        let p = if self.classic() {
            c::L_PTE_PRESENT
        } else {
            l::L_PTE_PRESENT
        };
        pte.0 & p != 0
    }
    fn pte_young(&self, pte: Pte) -> bool {
        pte.0 & self.young() != 0
    }
    fn pte_dirty(&self, pte: Pte) -> bool {
        pte.0 & self.dirty() != 0
    }
    /// `pte_write()` (pgtable.h): `!L_PTE_RDONLY`.
    fn pte_write(&self, pte: Pte) -> bool {
        pte.0 & self.rdonly() == 0
    }
    /// `pte_exec()` (pgtable.h): `!L_PTE_XN`.
    fn pte_exec(&self, pte: Pte) -> bool {
        pte.0 & self.xn() == 0
    }
    /// LPAE: `L_PTE_SPECIAL`; classic: 0 (no `ARCH_HAS_PTE_SPECIAL`).
    fn pte_special(&self, pte: Pte) -> bool {
        !self.classic() && pte.0 & l::L_PTE_SPECIAL != 0
    }
    /// 0: no `CONFIG_NUMA_BALANCING` on arm.
    fn pte_protnone(&self, _pte: Pte) -> bool {
        false
    }
    fn pte_mkyoung(&self, pte: Pte) -> Pte {
        Pte(pte.0 | self.young())
    }
    fn pte_mkold(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !self.young())
    }
    fn pte_mkdirty(&self, pte: Pte) -> Pte {
        Pte(pte.0 | self.dirty())
    }
    fn pte_mkclean(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !self.dirty())
    }
    /// `pte_mkwrite_novma()` (pgtable.h, v6.6): clear `L_PTE_RDONLY`.
    fn pte_mkwrite_novma(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !self.rdonly())
    }
    /// `pte_wrprotect()` (pgtable.h): set `L_PTE_RDONLY`.
    fn pte_wrprotect(&self, pte: Pte) -> Pte {
        Pte(pte.0 | self.rdonly())
    }
    fn pte_mkexec(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !self.xn())
    }
    /// LPAE: set `L_PTE_SPECIAL`; classic: the identity.
    fn pte_mkspecial(&self, pte: Pte) -> Pte {
        if self.classic() {
            pte
        } else {
            Pte(pte.0 | l::L_PTE_SPECIAL)
        }
    }

    /// Classic: the hardware pte `cpu_v7_set_pte_ext()` stores at `ptep +
    /// 2048` (`PTE_HWTABLE_OFF`), with `set_ptes()`'s ext for a user
    /// address.  LPAE: none (the MMU reads the Linux pte).
    fn pte_hw_twin(&self, ptep_pa: u64, pte: Pte) -> Option<(u64, u64)> {
        self.classic().then(|| {
            (
                ptep_pa + c::PTE_HWTABLE_OFF,
                c::cpu_v7_set_pte_ext(pte.0, c::user_ext(pte.0)),
            )
        })
    }
    /// LPAE: what `cpu_v7_set_pte_ext()` (proc-v7-3level.S) stores; classic:
    /// the Linux pte unchanged (its hardware form is the twin).
    fn set_pte_at_val(&self, pte: Pte) -> Pte {
        match self.mode {
            ArmMode::Classic => pte,
            ArmMode::Lpae => Pte(l::set_pte_ext(pte.0, l::user_ext(pte.0))),
        }
    }
    /// LPAE: what `set_pmd_at()` (pgtable-3level.h) stores.
    fn set_pmd_at_val(&self, pmd: Pmd) -> Pmd {
        match self.mode {
            ArmMode::Classic => pmd,
            ArmMode::Lpae => Pmd(l::set_pmd_at(pmd.0)),
        }
    }
    /// The MMU uses the pte only when it is valid, young (classic: the twin
    /// is 0 otherwise; LPAE: the AF is clear and Unicorn, like the
    /// Cortex-A15, has no hardware AF update, so the access faults) and not
    /// PROT_NONE (classic: twin 0; LPAE: `set_pte_ext` cleared the valid
    /// bit).
    fn pte_hw_valid(&self, pte: Pte) -> bool {
        pte.0 & 1 != 0 && pte.0 & self.young() != 0 && pte.0 & self.none_bit() == 0
    }
    /// Dirty-bit emulation: writable in hardware only when `pte_write()`
    /// *and* `pte_dirty()` (classic: APX clear in the twin; LPAE: AP2 clear).
    fn pte_hw_writable(&self, pte: Pte) -> bool {
        self.pte_write(pte) && self.pte_dirty(pte)
    }
    /// Classic: never (Linux puts no section in a user pgd; the model does
    /// not translate through one).  LPAE: a block (`(pmd & 3) == 1`) with
    /// the AF set and not PROT_NONE.
    fn pmd_hw_valid(&self, pmd: Pmd) -> bool {
        !self.classic()
            && pmd.0 & l::PMD_TYPE_MASK == l::PMD_TYPE_SECT
            && pmd.0 & l::PMD_SECT_AF != 0
            && pmd.0 & l::L_PMD_SECT_NONE == 0
    }
    /// As [`Arch::pte_hw_writable`] for an LPAE block: writable and dirty.
    fn pmd_hw_writable(&self, pmd: Pmd) -> bool {
        self.pmd_write(pmd) && self.pmd_dirty(pmd)
    }

    // ---- swap ptes (pgtable.h: the same 32-bit format for both) --------

    /// `__swp_entry()` (pgtable.h), in a 32-bit `swp_entry_t`.
    fn __swp_entry(&self, ty: u64, offset: u64) -> SwpEntry {
        SwpEntry(
            (((ty & c::__SWP_TYPE_MASK) << c::__SWP_TYPE_SHIFT)
                | (offset << c::__SWP_OFFSET_SHIFT))
                & 0xffff_ffff,
        )
    }
    fn __swp_type(&self, e: SwpEntry) -> u64 {
        (e.0 >> c::__SWP_TYPE_SHIFT) & c::__SWP_TYPE_MASK
    }
    fn __swp_offset(&self, e: SwpEntry) -> u64 {
        (e.0 & 0xffff_ffff) >> c::__SWP_OFFSET_SHIFT
    }
    /// `__pte_to_swp_entry()` (pgtable.h): `{ pte_val(pte) }`, truncated to
    /// the 32-bit `swp_entry_t`.
    fn __pte_to_swp_entry(&self, pte: Pte) -> SwpEntry {
        SwpEntry(pte.0 & 0xffff_ffff)
    }
    fn __swp_entry_to_pte(&self, e: SwpEntry) -> Pte {
        Pte(e.0 & 0xffff_ffff)
    }
    // max_swapfile_offset() (the trait's probe) is 2^24 - 1: offset bits 8-31.
    /// `pte_swp_exclusive()` (pgtable.h): `L_PTE_SWP_EXCLUSIVE`, bit 7.
    fn pte_swp_exclusive(&self, pte: Pte) -> bool {
        pte.0 & c::L_PTE_SWP_EXCLUSIVE != 0
    }
    fn pte_swp_mkexclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 | c::L_PTE_SWP_EXCLUSIVE)
    }
    fn pte_swp_clear_exclusive(&self, pte: Pte) -> Pte {
        Pte(pte.0 & !c::L_PTE_SWP_EXCLUSIVE)
    }

    // ---- pmd -----------------------------------------------------------

    /// LPAE: `pfn_pmd()` (pgtable-3level.h).  Classic: no THP; the same
    /// formula on the first word, for completeness.
    fn pfn_pmd(&self, pfn: u64, prot: Pgprot) -> Pmd {
        Pmd(((pfn << 12) | prot.0) & self.width_mask())
    }
    /// LPAE: `pmd_pfn()` (pgtable-3level.h).  Classic: the first word's
    /// address bits.
    fn pmd_pfn(&self, pmd: Pmd) -> u64 {
        match self.mode {
            ArmMode::Classic => (c::w0(pmd.0) & c::PAGE_MASK) >> 12,
            ArmMode::Lpae => l::pmd_pfn(pmd.0),
        }
    }
    /// LPAE: `pmd_modify()` (pgtable-3level.h): replace USER, XN, RDONLY,
    /// VALID and NONE.  Classic: unchanged (no THP).
    fn pmd_modify(&self, pmd: Pmd, prot: Pgprot) -> Pmd {
        match self.mode {
            ArmMode::Classic => pmd,
            ArmMode::Lpae => {
                let mask = l::PMD_SECT_USER
                    | l::PMD_SECT_XN
                    | l::L_PMD_SECT_RDONLY
                    | l::L_PMD_SECT_VALID
                    | l::L_PMD_SECT_NONE;
                Pmd((pmd.0 & !mask) | (prot.0 & mask))
            }
        }
    }
    /// `pmd_none()` (pgtable.h): `!pmd_val(pmd)` (classic: the first word).
    fn pmd_none(&self, pmd: Pmd) -> bool {
        match self.mode {
            ArmMode::Classic => c::w0(pmd.0) == 0,
            ArmMode::Lpae => pmd.0 == 0,
        }
    }
    /// Classic: `pmd_val(pmd)` (pgtable-2level.h); LPAE:
    /// `L_PMD_SECT_VALID` (pgtable-3level.h).
    fn pmd_present(&self, pmd: Pmd) -> bool {
        match self.mode {
            ArmMode::Classic => c::w0(pmd.0) != 0,
            ArmMode::Lpae => pmd.0 & l::L_PMD_SECT_VALID != 0,
        }
    }
    /// Classic: `pmd_val(pmd) & 2`, a section (pgtable-2level.h); LPAE:
    /// `!(pmd_val(pmd) & 2)`, not a table (pgtable-3level.h).
    fn pmd_bad(&self, pmd: Pmd) -> bool {
        match self.mode {
            ArmMode::Classic => pmd.0 & 2 != 0,
            ArmMode::Lpae => pmd.0 & 2 == 0,
        }
    }
    /// Classic: `pmd_val(pmd) & 2`; LPAE: `pmd_sect()`, type bits == 1.
    fn pmd_leaf(&self, pmd: Pmd) -> bool {
        match self.mode {
            ArmMode::Classic => pmd.0 & 2 != 0,
            ArmMode::Lpae => pmd.0 & l::PMD_TYPE_MASK == l::PMD_TYPE_SECT,
        }
    }
    /// Classic: 0 (no THP); LPAE: `pmd_val(pmd) && !pmd_table(pmd)`.
    fn pmd_trans_huge(&self, pmd: Pmd) -> bool {
        match self.mode {
            ArmMode::Classic => false,
            ArmMode::Lpae => pmd.0 != 0 && pmd.0 & l::PMD_TYPE_MASK != l::PMD_TYPE_TABLE,
        }
    }
    fn pmd_protnone(&self, _pmd: Pmd) -> bool {
        false
    }
    /// LPAE: `PMD_SECT_AF`.
    fn pmd_young(&self, pmd: Pmd) -> bool {
        !self.classic() && pmd.0 & l::PMD_SECT_AF != 0
    }
    /// LPAE: `L_PMD_SECT_DIRTY`.
    fn pmd_dirty(&self, pmd: Pmd) -> bool {
        !self.classic() && pmd.0 & l::L_PMD_SECT_DIRTY != 0
    }
    /// LPAE: `!L_PMD_SECT_RDONLY`.
    fn pmd_write(&self, pmd: Pmd) -> bool {
        !self.classic() && pmd.0 & l::L_PMD_SECT_RDONLY == 0
    }
    fn pmd_mkyoung(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v | l::PMD_SECT_AF)
    }
    fn pmd_mkold(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v & !l::PMD_SECT_AF)
    }
    fn pmd_mkdirty(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v | l::L_PMD_SECT_DIRTY)
    }
    fn pmd_mkclean(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v & !l::L_PMD_SECT_DIRTY)
    }
    fn pmd_mkwrite_novma(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v & !l::L_PMD_SECT_RDONLY)
    }
    fn pmd_wrprotect(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v | l::L_PMD_SECT_RDONLY)
    }
    /// LPAE: clear `PMD_TABLE_BIT` (pgtable-3level.h).
    fn pmd_mkhuge(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v & !l::PMD_TABLE_BIT)
    }
    /// LPAE: clear `L_PMD_SECT_VALID` (pgtable-3level.h).
    fn pmd_mkinvalid(&self, pmd: Pmd) -> Pmd {
        self.lpae_pmd(pmd, |v| v & !l::L_PMD_SECT_VALID)
    }
    /// Classic: both first-level words of `__pmd_populate(pmdp, pte,
    /// user_pmd_table)` (pgalloc.h), `w0 = (pte + 2048) | 0x35` and `w1 =
    /// w0 + 1024`; LPAE: `pte | PMD_TYPE_TABLE` (`_PAGE_USER_TABLE` is just
    /// the type with LPAE, whose `PMD_BIT4` and `PMD_DOMAIN()` are 0).
    fn pmd_populate(&self, table_pa: u64) -> Pmd {
        match self.mode {
            ArmMode::Classic => Pmd(c::pmd_populate(table_pa)),
            ArmMode::Lpae => Pmd(table_pa | l::PMD_TYPE_TABLE),
        }
    }
    /// `pmd_page_vaddr()` (pgtable.h, pgtable-3level.h) as a physical
    /// address; classic: the page start (Linux pt 0), not the hardware
    /// table the descriptor points at.
    fn pmd_table_pa(&self, pmd: Pmd) -> u64 {
        match self.mode {
            ArmMode::Classic => c::pmd_table_pa(pmd.0),
            ArmMode::Lpae => l::table_pa(pmd.0),
        }
    }
    // No `ARCH_ENABLE_THP_MIGRATION` on arm: `has_pmd_swap()` and the pmd swap
    // helpers not overridden here are the trait's swapops.h stubs.

    // ---- upper levels --------------------------------------------------

    /// LPAE: `!pud_val(pud)` (pgtable-3level.h); classic: folded, 0.
    fn pud_none(&self, pud: Pud) -> bool {
        !self.classic() && pud.0 == 0
    }
    /// LPAE: `pud_val(pud)`; classic: folded, 1.
    fn pud_present(&self, pud: Pud) -> bool {
        self.classic() || pud.0 != 0
    }
    /// LPAE: `!(pud_val(pud) & 2)`; classic: folded, 0.
    fn pud_bad(&self, pud: Pud) -> bool {
        !self.classic() && pud.0 & 2 == 0
    }
    /// arm defines no `pud_leaf()`: the generic 0.
    fn pud_leaf(&self, _pud: Pud) -> bool {
        false
    }
    /// LPAE: `__pa(pmd) | PMD_TYPE_TABLE` (pgalloc.h `pud_populate()`);
    /// classic: a no-op, the slot holds `pmd_populate()`'s value.
    fn pud_populate(&self, table_pa: u64) -> Pud {
        match self.mode {
            ArmMode::Classic => Pud(c::pmd_populate(table_pa)),
            ArmMode::Lpae => Pud(table_pa | l::PMD_TYPE_TABLE),
        }
    }
    /// LPAE: `pud_pgtable()` (pgtable-3level.h); classic: as a pmd.
    fn pud_table_pa(&self, pud: Pud) -> u64 {
        match self.mode {
            ArmMode::Classic => c::pmd_table_pa(pud.0),
            ArmMode::Lpae => l::table_pa(pud.0),
        }
    }
    /// Folded (`pgtable-nop4d.h`).
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
        P4d(self.pud_populate(table_pa).0)
    }
    fn p4d_table_pa(&self, p4d: P4d) -> u64 {
        self.pud_table_pa(Pud(p4d.0))
    }
    /// Folded (`pgtable-nop4d.h`).
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
        Pgd(self.pud_populate(table_pa).0)
    }
    fn pgd_table_pa(&self, pgd: Pgd) -> u64 {
        self.pud_table_pa(Pud(pgd.0))
    }

    // ---- allocation ----------------------------------------------------

    /// Classic `pgd_alloc()`: an order-2, 16K-aligned block
    /// ([`alloc::pgd_alloc_classic`]); everything else generic.
    fn table_alloc(&self, mm: &Mm<Self>, level: Level) -> Result<u64, MmError> {
        if self.classic() && level == Level::Pgd {
            alloc::pgd_alloc_classic(mm)
        } else {
            mm_core::pgalloc::generic_table_alloc(mm, level)
        }
    }
    /// Classic `pgd_free()`: [`alloc::pgd_free_classic`]; else generic.
    fn table_free(&self, mm: &Mm<Self>, level: Level, table_pa: u64) -> Result<(), MmError> {
        if self.classic() && level == Level::Pgd {
            alloc::pgd_free_classic(mm, table_pa)
        } else {
            mm_core::pgalloc::generic_table_free(mm, level, table_pa)
        }
    }

    /// The guest arm MMU under Unicorn ([`emulate::ArmWalker`]).
    fn hw_walker(&self, machine: Arc<Machine>) -> Result<Box<dyn HwWalker>, EmuError> {
        Ok(Box::new(emulate::ArmWalker::new(self.mode, machine)?))
    }
}

impl Arm {
    /// Apply `f` to an LPAE pmd; identity on classic tables (no THP).
    fn lpae_pmd(&self, pmd: Pmd, f: impl Fn(u64) -> u64) -> Pmd {
        if self.classic() {
            pmd
        } else {
            Pmd(f(pmd.0))
        }
    }
}
