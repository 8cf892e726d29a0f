//! Generic swap-entry types (`include/linux/swap.h`, `include/linux/swapops.h`).
//!
//! The arch encodes a (type, offset) pair into a non-present entry with
//! `__swp_entry()`; which *types* mean "migration" is generic.  With
//! `MAX_SWAPFILES_SHIFT` = 5 and device-private (4 types), migration (3),
//! hwpoison (1) and pte-marker (1) entries all configured, the special types
//! sit at the top of the 32-type space and `MAX_SWAPFILES` is 23; which
//! kinds exist is per configuration ([`Arch::swap_types`]).

use crate::arch::{Arch, Pmd, Pte, SwpEntry};

/// `MAX_SWAPFILES_SHIFT`.
pub const MAX_SWAPFILES_SHIFT: u32 = 5;

/// How many of the 32 swap types each kind of special entry takes
/// (`include/linux/swap.h`); they depend on the configuration:
/// `CONFIG_DEVICE_PRIVATE` (4), `CONFIG_MIGRATION` (3),
/// `CONFIG_MEMORY_FAILURE` (1), and PTE markers (1: always compiled in since
/// v6.2, "mm: Always compile in pte markers").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapTypes {
    /// `SWP_DEVICE_NUM`.
    pub device: u64,
    /// `SWP_MIGRATION_NUM`.
    pub migration: u64,
    /// `SWP_HWPOISON_NUM`.
    pub hwpoison: u64,
    /// `SWP_PTE_MARKER_NUM`.
    pub pte_marker: u64,
}

impl SwapTypes {
    /// Everything configured (64-bit distribution kernels).
    pub const ALL: SwapTypes = SwapTypes {
        device: 4,
        migration: 3,
        hwpoison: 1,
        pte_marker: 1,
    };

    /// Migration and PTE markers only: no `SWP_DEVICE_*` (`ZONE_DEVICE`
    /// depends on `ARCH_HAS_PTE_DEVMAP`, mm/Kconfig) and no `SWP_HWPOISON`
    /// (`MEMORY_FAILURE` depends on `ARCH_SUPPORTS_MEMORY_FAILURE`): arm,
    /// s390 and sparc64 in v6.6, whose `MAX_SWAPFILES` is then
    /// 32 - 3 - 1 = 28, as the kernel oracle reports.
    pub const MIGRATION_AND_MARKERS: SwapTypes = SwapTypes {
        device: 0,
        hwpoison: 0,
        ..SwapTypes::ALL
    };

    /// `MAX_SWAPFILES`.
    pub const fn max_swapfiles(&self) -> u64 {
        (1 << MAX_SWAPFILES_SHIFT) - self.device - self.migration - self.hwpoison - self.pte_marker
    }

    /// `SWP_HWPOISON`.
    pub const fn hwpoison_type(&self) -> u64 {
        self.max_swapfiles()
    }

    /// `SWP_MIGRATION_READ`.
    pub const fn migration_read(&self) -> u64 {
        self.max_swapfiles() + self.hwpoison
    }

    /// `SWP_MIGRATION_READ_EXCLUSIVE`.
    pub const fn migration_read_exclusive(&self) -> u64 {
        self.migration_read() + 1
    }

    /// `SWP_MIGRATION_WRITE`.
    pub const fn migration_write(&self) -> u64 {
        self.migration_read() + 2
    }

    /// `SWP_PTE_MARKER`.
    pub const fn pte_marker_type(&self) -> u64 {
        self.max_swapfiles() + self.hwpoison + self.migration + self.device
    }
}

/// `MAX_SWAPFILES` with every kind configured (see [`SwapTypes::ALL`]).
pub const MAX_SWAPFILES: u64 = SwapTypes::ALL.max_swapfiles();
/// `SWP_MIGRATION_READ` with every kind configured.
pub const SWP_MIGRATION_READ: u64 = SwapTypes::ALL.migration_read();
/// `SWP_MIGRATION_WRITE` with every kind configured.
pub const SWP_MIGRATION_WRITE: u64 = SwapTypes::ALL.migration_write();
/// `SWP_PTE_MARKER` with every kind configured.
pub const SWP_PTE_MARKER: u64 = SwapTypes::ALL.pte_marker_type();

/// `is_migration_entry()` on an arch-format entry.
pub fn is_migration_entry<A: Arch>(a: &A, e: SwpEntry) -> bool {
    let t = a.swap_types();
    let ty = a.__swp_type(e);
    ty >= t.migration_read() && ty <= t.migration_write()
}

/// `is_writable_migration_entry()`.
pub fn is_writable_migration_entry<A: Arch>(a: &A, e: SwpEntry) -> bool {
    a.__swp_type(e) == a.swap_types().migration_write()
}

/// `make_readable_migration_entry(pfn)`.
pub fn make_readable_migration_entry<A: Arch>(a: &A, pfn: u64) -> SwpEntry {
    a.__swp_entry(a.swap_types().migration_read(), pfn)
}

/// `make_writable_migration_entry(pfn)`.
pub fn make_writable_migration_entry<A: Arch>(a: &A, pfn: u64) -> SwpEntry {
    a.__swp_entry(a.swap_types().migration_write(), pfn)
}

/// `is_swap_pte()`: neither none nor present.
pub fn is_swap_pte<A: Arch>(a: &A, pte: Pte) -> bool {
    !a.pte_none(pte) && !a.pte_present(pte)
}

/// `is_swap_pmd()`.
pub fn is_swap_pmd<A: Arch>(a: &A, pmd: Pmd) -> bool {
    !a.pmd_none(pmd) && !a.pmd_present(pmd)
}

/// `is_pmd_migration_entry()`: only with `CONFIG_ARCH_ENABLE_THP_MIGRATION`
/// ([`Arch::has_pmd_swap`]); always false without it.
pub fn is_pmd_migration_entry<A: Arch>(a: &A, pmd: Pmd) -> bool {
    a.has_pmd_swap() && is_swap_pmd(a, pmd) && is_migration_entry(a, a.__pmd_to_swp_entry(pmd))
}
