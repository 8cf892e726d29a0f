//! `adjust_pte()` (arch/arm/mm/fault-armv.c, v6.6) through
//! `pte_offset_map_nolock()`.
//!
//! On a VIVT cache, `update_mmu_cache()` — called with the faulting pte's
//! lock held — runs `make_coherent()`, which for every other shared mapping
//! of the page in the same mm calls `adjust_pte(vma, address, pfn)`: walk to
//! the alias's pte, map it with `pte_offset_map_nolock()` (patch 03 of the
//! retracted-page-table series), lock it, and if it is present and not yet
//! of the shared memory type, rewrite it as `shared_pte_mask`
//! (`L_PTE_MT_BUFFERABLE`) with `set_pte_at()`.
//!
//! The subtlety is the lock.  The caller already holds the faulting pte's
//! lock.  Without split pte locks (the `arm` configuration: `ARM &&
//! !CPU_CACHE_VIPT`), every pte lock is `mm->page_table_lock`, already
//! held, and v6.6's `do_pte_lock()` takes nothing.  With split pte locks it
//! takes the alias table's ptl with `spin_lock_nested()` — which is the
//! lock the caller holds when the alias lies in the same pte table as the
//! faulting address: a self-deadlock, fixed in 2025 ("arm: pgtable: fix
//! NULL pointer dereference issue", after the 2024 rework) by not taking the
//! lock in that case.  [`AdjustForm`] runs each way; the model's locks know
//! their holder, so the deadlock is reported as
//! [`LockError::SelfDeadlock`](mm_core::lock::LockError::SelfDeadlock)
//! instead of hanging.
//!
//! Not modelled: the cache and TLB flushes (`flush_cache_page()`, the outer
//! cache, `flush_tlb_page()`), and the `i_mmap` walk of `make_coherent()`
//! (the caller names the alias).

use mm_core::arch::{Arch, Pte};
use mm_core::lock::SpinLock;
use mm_core::{Mm, MmError};

use crate::entry::{classic as c, lpae as l};
use crate::{Arm, ArmMode};

/// Which way `adjust_pte()` treats the alias table's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustForm {
    /// As merged in v6.6: `do_pte_lock()` is `spin_lock_nested(ptl)` with
    /// split pte locks and nothing without them.
    V66,
    /// Always take the ptl `pte_offset_map_nolock()` returned, ignoring
    /// that the caller holds one: self-deadlocks whenever that is the same
    /// lock (always, without split pte locks).
    Naive,
    /// The correct form: take the ptl only when it is not the lock the
    /// caller holds (`ptl != vmf->ptl`, as the 2024/2025 fixes arrange).
    Fixed,
}

/// `shared_pte_mask` (fault-armv.c): `L_PTE_MT_BUFFERABLE` (it becomes
/// `L_PTE_MT_UNCACHED` only on CPUs with a buggy write buffer,
/// `check_writebuffer_bugs()`).
pub fn shared_pte_mask(a: &Arm) -> u64 {
    match a.mode() {
        ArmMode::Classic => c::L_PTE_MT_BUFFERABLE,
        ArmMode::Lpae => l::L_PTE_MT_BUFFERABLE,
    }
}

/// `adjust_pte(vma, address, pfn)` in `mm`, called while the caller holds
/// `vmf_ptl` (the faulting pte's lock, `None` if it holds none).  Returns
/// `do_adjust_pte()`'s value: whether the alias pte was present.
///
/// The walk is `pgd_offset()` .. `pmd_offset()` with the
/// `*_none_or_clear_bad()` checks (a none or bad pmd returns 0; a bad one is
/// cleared and reported), then `pte_offset_map_nolock()` (0 if it fails),
/// the lock per `form`, `do_adjust_pte()`, unlock and `pte_unmap()`.  `pfn`
/// only feeds the cache flush, which is not modelled.
///
/// # Errors
/// [`MmError::Lock`] with a self-deadlock when `form` takes a lock the
/// caller already holds; memory errors.
pub fn adjust_pte(
    mm: &Mm<Arm>,
    address: u64,
    pfn: u64,
    vmf_ptl: Option<&SpinLock>,
    form: AdjustForm,
) -> Result<bool, MmError> {
    let _ = pfn;
    let a = mm.arch();
    // pgd/p4d/pud: folded on classic; on LPAE find_pmd stops at a none or
    // bad first-level entry (returning 0, as *_none_or_clear_bad does).
    let Some(pmdp) = mm.find_pmd(address)? else {
        return Ok(false);
    };
    let pmd = mm.pmdp_get(pmdp)?;
    if a.pmd_none(pmd) {
        return Ok(false);
    }
    if a.pmd_bad(pmd) {
        mm.pmd_clear_bad(pmdp, pmd)?;
        return Ok(false);
    }
    let Some((map, ptl)) = mm.pte_offset_map_nolock(pmdp, address)? else {
        return Ok(false);
    };
    let take = match form {
        AdjustForm::V66 => a.geometry().split_pte_ptlocks,
        AdjustForm::Naive => true,
        AdjustForm::Fixed => !vmf_ptl.is_some_and(|held| std::ptr::eq(held, ptl)),
    };
    // spin_lock_nested(ptl, SINGLE_DEPTH_NESTING)
    let guard = if take { Some(ptl.lock_nested()?) } else { None };
    let ret = do_adjust_pte(mm, &map)?;
    drop(guard);
    map.pte_unmap();
    Ok(ret)
}

/// `do_adjust_pte()` (fault-armv.c): if the pte is present and its memory
/// type is not `shared_pte_mask`, rewrite it with that type
/// (`set_pte_at()`, which on classic tables also rewrites the hardware
/// twin).  Returns whether it was present.
fn do_adjust_pte(mm: &Mm<Arm>, map: &mm_core::walk::PteMap<'_, Arm>) -> Result<bool, MmError> {
    let a = mm.arch();
    let entry = map.get()?;
    let ret = a.pte_present(entry);
    let shared = shared_pte_mask(a);
    if ret && entry.0 & a.mt_mask() != shared {
        let new = Pte((entry.0 & !a.mt_mask()) | shared);
        map.set_at(map.index(), new)?;
    }
    Ok(ret)
}
