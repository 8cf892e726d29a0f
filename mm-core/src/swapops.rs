//! Generic swap-entry types (`include/linux/swap.h`, `include/linux/swapops.h`).
//!
//! The arch encodes a (type, offset) pair into a non-present entry with
//! `__swp_entry()`; which *types* mean "migration" is generic.  With
//! `MAX_SWAPFILES_SHIFT` = 5 and device-private (4 types), migration (3),
//! hwpoison (1) and pte-marker (1) entries all configured, the special types
//! sit at the top of the 32-type space and `MAX_SWAPFILES` is 23.

use crate::arch::{Arch, Pmd, Pte, SwpEntry};

/// `MAX_SWAPFILES_SHIFT`.
pub const MAX_SWAPFILES_SHIFT: u32 = 5;
/// `SWP_DEVICE_NUM` (`CONFIG_DEVICE_PRIVATE`).
pub const SWP_DEVICE_NUM: u64 = 4;
/// `SWP_MIGRATION_NUM` (`CONFIG_MIGRATION`).
pub const SWP_MIGRATION_NUM: u64 = 3;
/// `SWP_HWPOISON_NUM` (`CONFIG_MEMORY_FAILURE`).
pub const SWP_HWPOISON_NUM: u64 = 1;
/// `SWP_PTE_MARKER_NUM` (`CONFIG_PTE_MARKER`).
pub const SWP_PTE_MARKER_NUM: u64 = 1;
/// `MAX_SWAPFILES`.
pub const MAX_SWAPFILES: u64 = (1 << MAX_SWAPFILES_SHIFT)
    - SWP_DEVICE_NUM
    - SWP_MIGRATION_NUM
    - SWP_HWPOISON_NUM
    - SWP_PTE_MARKER_NUM;
/// `SWP_HWPOISON`.
pub const SWP_HWPOISON: u64 = MAX_SWAPFILES;
/// `SWP_MIGRATION_READ`.
pub const SWP_MIGRATION_READ: u64 = MAX_SWAPFILES + SWP_HWPOISON_NUM;
/// `SWP_MIGRATION_READ_EXCLUSIVE`.
pub const SWP_MIGRATION_READ_EXCLUSIVE: u64 = MAX_SWAPFILES + SWP_HWPOISON_NUM + 1;
/// `SWP_MIGRATION_WRITE`.
pub const SWP_MIGRATION_WRITE: u64 = MAX_SWAPFILES + SWP_HWPOISON_NUM + 2;
/// `SWP_PTE_MARKER`.
pub const SWP_PTE_MARKER: u64 =
    MAX_SWAPFILES + SWP_HWPOISON_NUM + SWP_MIGRATION_NUM + SWP_DEVICE_NUM;

/// `is_migration_entry()` on an arch-format entry.
pub fn is_migration_entry<A: Arch>(a: &A, e: SwpEntry) -> bool {
    matches!(
        a.__swp_type(e),
        SWP_MIGRATION_READ | SWP_MIGRATION_READ_EXCLUSIVE | SWP_MIGRATION_WRITE
    )
}

/// `is_writable_migration_entry()`.
pub fn is_writable_migration_entry<A: Arch>(a: &A, e: SwpEntry) -> bool {
    a.__swp_type(e) == SWP_MIGRATION_WRITE
}

/// `make_readable_migration_entry(pfn)`.
pub fn make_readable_migration_entry<A: Arch>(a: &A, pfn: u64) -> SwpEntry {
    a.__swp_entry(SWP_MIGRATION_READ, pfn)
}

/// `make_writable_migration_entry(pfn)`.
pub fn make_writable_migration_entry<A: Arch>(a: &A, pfn: u64) -> SwpEntry {
    a.__swp_entry(SWP_MIGRATION_WRITE, pfn)
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
