//! khugepaged and `MADV_COLLAPSE` for files and shmem (`mm/khugepaged.c`),
//! in both versions, selectable at run time:
//!
//! * **v6.6** (the series): `retract_page_tables()` walks `i_mmap` under
//!   `i_mmap_lock_read()` only — no `mmap_lock`, no vma lock — takes the pmd
//!   lock and the pte lock, re-checks `anon_vma` and uffd-wp under them,
//!   clears the pmd (`pmdp_collapse_flush()`), waits out lockless PAE pmd
//!   readers (`pmdp_get_lockless_sync()`), and frees the table with the
//!   arch's `pte_free_defer()`.  `collapse_pte_mapped_thp()` runs under
//!   `mmap_read_lock()`.
//! * **v6.4** (before it): retract takes `i_mmap_lock_write()` and, per mm,
//!   `mmap_write_trylock()`; when that fails the address goes on the mm's
//!   deferred list (`khugepaged_add_pte_mapped_thp()`, at most
//!   `MAX_PTE_MAPPED_THP` = 8) for khugepaged to collapse later under
//!   `mmap_write_lock`; tables are freed at once after
//!   `tlb_remove_table_sync_one()` (`collapse_and_free_pmd()`), and
//!   `collapse_pte_mapped_thp()` needs `mmap_write_lock`.
//!
//! What the model leaves out, and says so: mmu_notifiers (no secondary
//! MMUs), the LRU and memcg charging, swap-backed shmem (no swap entries in
//! the page cache), `page_table_check`, and the sysfs `enabled` setting
//! beyond per-vma `VM_HUGEPAGE`/`VM_NOHUGEPAGE`.

use std::sync::{Arc, Mutex, Weak};

use crate::arch::{Arch, Level, Pte};
use crate::fault::do_set_pmd;
use crate::file::{
    folio_lock, folio_put, folio_ref_count, folio_trylock, folio_unlock, AddressSpace, Folio,
};
use crate::mm::{Mm, Rss};
use crate::vma::{vm, Vma};
use crate::walk::EntryPtr;
use crate::MmError;

/// The `SCAN_*` result codes, in the 6.6 enum order.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScanResult {
    Fail,
    Succeed,
    PmdNull,
    PmdNone,
    PmdMapped,
    ExceedNonePte,
    ExceedSwapPte,
    ExceedSharedPte,
    PteNonPresent,
    PteUffdWp,
    PteMappedHugepage,
    PageRo,
    LackReferencedPage,
    PageNull,
    ScanAbort,
    PageCount,
    PageLru,
    PageLock,
    PageAnon,
    PageCompound,
    AnyProcess,
    VmaNull,
    VmaCheck,
    AddressRange,
    DelPageLru,
    AllocHugePageFail,
    CgroupChargeFail,
    Truncated,
    PageHasPrivate,
    StoreFailed,
    CopyMc,
    PageFilled,
}

impl ScanResult {
    /// The kernel's name (`SCAN_PMD_NONE`, ...).
    pub fn name(self) -> &'static str {
        use ScanResult::*;
        match self {
            Fail => "SCAN_FAIL",
            Succeed => "SCAN_SUCCEED",
            PmdNull => "SCAN_PMD_NULL",
            PmdNone => "SCAN_PMD_NONE",
            PmdMapped => "SCAN_PMD_MAPPED",
            ExceedNonePte => "SCAN_EXCEED_NONE_PTE",
            ExceedSwapPte => "SCAN_EXCEED_SWAP_PTE",
            ExceedSharedPte => "SCAN_EXCEED_SHARED_PTE",
            PteNonPresent => "SCAN_PTE_NON_PRESENT",
            PteUffdWp => "SCAN_PTE_UFFD_WP",
            PteMappedHugepage => "SCAN_PTE_MAPPED_HUGEPAGE",
            PageRo => "SCAN_PAGE_RO",
            LackReferencedPage => "SCAN_LACK_REFERENCED_PAGE",
            PageNull => "SCAN_PAGE_NULL",
            ScanAbort => "SCAN_SCAN_ABORT",
            PageCount => "SCAN_PAGE_COUNT",
            PageLru => "SCAN_PAGE_LRU",
            PageLock => "SCAN_PAGE_LOCK",
            PageAnon => "SCAN_PAGE_ANON",
            PageCompound => "SCAN_PAGE_COMPOUND",
            AnyProcess => "SCAN_ANY_PROCESS",
            VmaNull => "SCAN_VMA_NULL",
            VmaCheck => "SCAN_VMA_CHECK",
            AddressRange => "SCAN_ADDRESS_RANGE",
            DelPageLru => "SCAN_DEL_PAGE_LRU",
            AllocHugePageFail => "SCAN_ALLOC_HUGE_PAGE_FAIL",
            CgroupChargeFail => "SCAN_CGROUP_CHARGE_FAIL",
            Truncated => "SCAN_TRUNCATED",
            PageHasPrivate => "SCAN_PAGE_HAS_PRIVATE",
            StoreFailed => "SCAN_STORE_FAILED",
            CopyMc => "SCAN_COPY_MC",
            PageFilled => "SCAN_PAGE_FILLED",
        }
    }
}

/// Which kernel's khugepaged runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// Before the series: `mmap_write_trylock` per mm, deferred list.
    V6_4,
    /// The series as merged: no `mmap_lock` in retract, `pte_free_defer`.
    V6_6,
}

/// `struct collapse_control` plus the sysfs knobs it consults.
#[derive(Clone, Copy, Debug)]
pub struct CollapseControl {
    /// khugepaged (true) or `MADV_COLLAPSE` (false): only khugepaged
    /// enforces the `max_ptes_*` limits.
    pub is_khugepaged: bool,
    /// `khugepaged/max_ptes_none` (default `HPAGE_PMD_NR - 1`).
    pub max_ptes_none: u64,
    /// `khugepaged/max_ptes_swap` (default `HPAGE_PMD_NR / 8`).
    pub max_ptes_swap: u64,
    /// `khugepaged/max_ptes_shared` (default `HPAGE_PMD_NR / 2`).
    pub max_ptes_shared: u64,
}

impl CollapseControl {
    /// khugepaged's control with the default limits for `nr` =
    /// `HPAGE_PMD_NR`.
    pub fn khugepaged(nr: u64) -> Self {
        CollapseControl {
            is_khugepaged: true,
            max_ptes_none: nr - 1,
            max_ptes_swap: nr / 8,
            max_ptes_shared: nr / 2,
        }
    }

    /// `MADV_COLLAPSE`'s control (limits ignored).
    pub fn madvise(nr: u64) -> Self {
        CollapseControl {
            is_khugepaged: false,
            max_ptes_none: nr,
            max_ptes_swap: nr,
            max_ptes_shared: nr,
        }
    }
}

/// v6.4 retract's leftovers: `(mm, addr)` pairs whose `mmap_write_trylock`
/// failed, for the mm's deferred list.
pub type Deferred<A> = Vec<(Weak<Mm<A>>, u64)>;

/// `MAX_PTE_MAPPED_THP`: the v6.4 per-mm deferred list length.
pub const MAX_PTE_MAPPED_THP: usize = 8;

/// `struct khugepaged_mm_slot`: an mm khugepaged scans, and (v6.4) its
/// deferred collapse list.
pub struct MmSlot<A: Arch> {
    /// The mm.
    pub mm: Weak<Mm<A>>,
    /// v6.4: `pte_mapped_thp[]`, addresses whose retract failed to get the
    /// mmap_lock.
    pub pte_mapped_thp: Vec<u64>,
}

/// The khugepaged state: version, limits, the mm slots.
pub struct Khugepaged<A: Arch> {
    /// Which kernel.
    pub version: Version,
    /// `khugepaged/pages_to_scan`.
    pub pages_to_scan: u64,
    /// Limits used by the khugepaged context.
    pub cc: CollapseControl,
    slots: Mutex<Vec<MmSlot<A>>>,
}

/// Geometry shortcuts: `HPAGE_PMD_NR`, `HPAGE_PMD_ORDER`, `HPAGE_PMD_SIZE`.
fn hpage<A: Arch>(a: &A) -> (u64, u32, u64) {
    let g = a.geometry();
    let order = g.level(Level::Pmd).shift - g.page_shift;
    (1u64 << order, order, g.pmd_size())
}

/// `hpage_collapse_test_exit()`: the mm is exiting.
pub fn test_exit<A: Arch>(mm: &Mm<A>) -> bool {
    mm.mm_users() == 0
}

/// `find_pmd_or_thp_or_none()`: classify the pmd for `addr` without locks.
///
/// # Errors
/// Memory errors.
pub fn find_pmd_or_thp_or_none<A: Arch>(
    mm: &Mm<A>,
    addr: u64,
) -> Result<(ScanResult, Option<EntryPtr>), MmError> {
    let a = mm.arch();
    let Some(pmdp) = mm.find_pmd(addr)? else {
        return Ok((ScanResult::PmdNull, None));
    };
    let pmde = mm.pmdp_get_lockless(pmdp)?;
    let r = if a.pmd_none(pmde) {
        ScanResult::PmdNone
    } else if !a.pmd_present(pmde) {
        ScanResult::PmdNull
    } else if a.pmd_trans_huge(pmde) {
        ScanResult::PmdMapped
    } else if a.pmd_devmap(pmde) || a.pmd_bad(pmde) {
        ScanResult::PmdNull
    } else {
        ScanResult::Succeed
    };
    Ok((r, Some(pmdp)))
}

/// The address at which `vma` maps file page `pgoff`, if it maps a whole
/// aligned PMD range starting there.
fn vma_addr_for<A: Arch>(vma: &Vma<A>, pgoff: u64, a: &A) -> Option<u64> {
    let (_, _, size) = hpage(a);
    if pgoff < vma.pgoff {
        return None;
    }
    let addr = vma.start + ((pgoff - vma.pgoff) << a.geometry().page_shift);
    (addr.is_multiple_of(size) && addr >= vma.start && addr + size <= vma.end).then_some(addr)
}

/// `pmdp_collapse_flush()` + `mm_dec_nr_ptes()`, called with the pmd lock
/// and the (nested) pte lock held: returns the detached table.  The caller
/// then drops the locks and calls `pmdp_get_lockless_sync()`, so no PAE
/// reader can still be assembling the old pmd from halves.
pub(crate) fn collapse_flush<A: Arch>(mm: &Mm<A>, pmdp: EntryPtr) -> Result<u64, MmError> {
    // detach_table() takes the two locks itself: they are held here already,
    // so clear directly.
    let a = mm.arch();
    let pmd = mm.pmdp_get(pmdp)?;
    mm.set_entry(pmdp, a.pmd_clear_val().0)?;
    mm.dec_nr_tables(Level::Pte);
    let pa = a.pmd_table_pa(pmd);
    mm.machine()
        .events()
        .push(|| crate::event::Event::Retracted { pa });
    Ok(pa)
}

/// `retract_page_tables()` for the PMD range at file page `pgoff`.
///
/// v6.6: returns nothing to do later.  v6.4: returns the `(mm, addr)`
/// pairs whose `mmap_write_trylock` failed, which the caller puts on the
/// mm's deferred list.
///
/// # Errors
/// Lock misuse and memory errors.
pub fn retract_page_tables<A: Arch>(
    mapping: &AddressSpace<A>,
    pgoff: u64,
    version: Version,
) -> Result<Deferred<A>, MmError> {
    let mut deferred = Vec::new();
    let _i = match version {
        Version::V6_6 => Lock::Read(mapping.i_mmap_rwsem.read()?),
        Version::V6_4 => Lock::Write(mapping.i_mmap_rwsem.write()?),
    };
    for r in mapping.i_mmap() {
        let vma = r.vma;
        if vma.anon_vma() {
            continue;
        }
        let Some(mm) = r.mm.upgrade() else { continue };
        let a = mm.arch();
        let Some(addr) = vma_addr_for(&vma, pgoff, a) else {
            continue;
        };
        let (res, pmdp) = find_pmd_or_thp_or_none(&mm, addr)?;
        let (ScanResult::Succeed, Some(pmdp)) = (res, pmdp) else {
            continue;
        };
        if test_exit(&mm) {
            continue;
        }
        match version {
            Version::V6_6 => {
                if vma.userfaultfd_wp() {
                    continue;
                }
                let table = {
                    let pml = mm.pmd_lock(pmdp)?;
                    let pmd = mm.pmdp_get(pmdp)?;
                    if a.pmd_none(pmd) || a.pmd_trans_huge(pmd) || !a.pmd_present(pmd) {
                        None
                    } else {
                        let ptl = mm.pte_lockptr(pmd)?;
                        let _ptl = if std::ptr::eq(ptl, pml.lock()) {
                            None
                        } else {
                            Some(ptl.lock_nested()?)
                        };
                        // The recheck under the locks (v2 of the series).
                        if vma.anon_vma() || vma.userfaultfd_wp() {
                            None
                        } else {
                            Some(collapse_flush(&mm, pmdp)?)
                        }
                    }
                };
                if let Some(t) = table {
                    mm.pmdp_get_lockless_sync()?;
                    a.pte_free_defer(&mm, t)?;
                }
            }
            Version::V6_4 => {
                let Some(_w) = mm.mmap_lock.try_write() else {
                    deferred.push((Arc::downgrade(&mm), addr));
                    continue;
                };
                if vma.userfaultfd_wp() {
                    continue;
                }
                let table = {
                    let pml = mm.pmd_lock(pmdp)?;
                    let pmd = mm.pmdp_get(pmdp)?;
                    if a.pmd_none(pmd) || a.pmd_trans_huge(pmd) {
                        None
                    } else {
                        let ptl = mm.pte_lockptr(pmd)?;
                        let _ptl = if std::ptr::eq(ptl, pml.lock()) {
                            None
                        } else {
                            Some(ptl.lock_nested()?)
                        };
                        Some(collapse_flush(&mm, pmdp)?)
                    }
                };
                if let Some(t) = table {
                    // collapse_and_free_pmd(): tlb_remove_table_sync_one()
                    // then an immediate pte_free().
                    mm.pmdp_get_lockless_sync()?;
                    a.pte_free(&mm, t)?;
                }
            }
        }
    }
    Ok(deferred)
}

/// `i_mmap_lock_read()` (v6.6) or `i_mmap_lock_write()` (v6.4), held for
/// its drop.
enum Lock<'a> {
    Read(#[allow(dead_code)] crate::lock::RwSemReadGuard<'a>),
    Write(#[allow(dead_code)] crate::lock::RwSemWriteGuard<'a>),
}

/// `collapse_pte_mapped_thp(mm, addr, install_pmd)`: with a PMD-order
/// folio in the page cache, remove the pte table that maps (some of) its
/// pages and, if asked, map it by pmd.  v6.6 expects `mmap_lock` held for
/// read, v6.4 for write — the caller takes it.
///
/// # Errors
/// Lock misuse and memory errors; collapse outcomes are [`ScanResult`]s.
pub fn collapse_pte_mapped_thp<A: Arch>(
    mm: &Arc<Mm<A>>,
    addr: u64,
    install_pmd: bool,
    version: Version,
) -> Result<ScanResult, MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let (nr, order, size) = hpage(a);
    let haddr = addr & !(size - 1);
    // Step 1 (v2, per Jann Horn): the vma first.
    let Some(vma) = mm.vma_lookup(haddr) else {
        return Ok(ScanResult::VmaCheck);
    };
    let Some(file) = vma.file.clone() else {
        return Ok(ScanResult::VmaCheck);
    };
    if haddr < vma.start || haddr + size > vma.end {
        return Ok(ScanResult::VmaCheck);
    }
    let (res, _) = find_pmd_or_thp_or_none(mm, haddr)?;
    if res == ScanResult::PmdMapped {
        return Ok(res);
    }
    if vma.vm_flags() & vm::NOHUGEPAGE != 0 || !g.has_thp {
        return Ok(ScanResult::VmaCheck);
    }
    if vma.userfaultfd_wp() {
        return Ok(ScanResult::PteUffdWp);
    }
    let index = vma.linear_page_index(haddr, g.page_shift);
    let Some(hpage_folio) = file.find_folio(index) else {
        return Ok(ScanResult::PageNull);
    };
    let machine = mm.machine().clone();
    folio_lock(&machine, &hpage_folio)?;
    let result = (|| -> Result<ScanResult, MmError> {
        if hpage_folio.index != index {
            return Ok(ScanResult::Fail);
        }
        if hpage_folio.order != order {
            return Ok(ScanResult::PageCompound);
        }
        let (res, pmdp) = find_pmd_or_thp_or_none(mm, haddr)?;
        let pmdp = match (res, pmdp) {
            (ScanResult::Succeed, Some(p)) => p,
            (ScanResult::PmdNone, Some(p)) => {
                // Already retracted: maybe install the huge pmd.
                return maybe_install(mm, &vma, p, &hpage_folio, install_pmd);
            }
            (r, _) => return Ok(r),
        };
        // Step 1: check, under the pte lock, that every present pte maps the
        // right subpage.
        {
            let Some(locked) = mm.pte_offset_map_lock(pmdp, haddr)? else {
                return Ok(ScanResult::Fail);
            };
            for i in 0..nr {
                let pte = locked.map().get_at(i)?;
                if let Some(r) = pte_check(a, pte, &hpage_folio, i) {
                    return Ok(r);
                }
            }
        }
        // Steps 2-4: clear the ptes and remove the table.  v6.6 drops the
        // pte lock between the check and the clear (and re-checks), taking
        // the pmd lock first in the uffd-armed private case; v6.4 holds
        // mmap_lock for write, so nothing can change in between.
        let pml = mm.pmd_lock(pmdp)?;
        let pmd = mm.pmdp_get(pmdp)?;
        if a.pmd_none(pmd) || a.pmd_trans_huge(pmd) || !a.pmd_present(pmd) {
            drop(pml);
            return Ok(ScanResult::Fail);
        }
        let ptl = mm.pte_lockptr(pmd)?;
        let _ptl = if std::ptr::eq(ptl, pml.lock()) {
            None
        } else {
            Some(ptl.lock_nested()?)
        };
        let Some(map) = mm.pte_offset_map(pmdp, haddr)? else {
            return Ok(ScanResult::Fail);
        };
        let mut nr_ptes = 0i64;
        for i in 0..nr {
            let pte = map.get_at(i)?;
            if let Some(r) = pte_check(a, pte, &hpage_folio, i) {
                // abort: the table stays, partially cleared.
                drop(map);
                fix_counts(mm, &file, &hpage_folio, nr_ptes)?;
                return Ok(r);
            }
            if !a.pte_none(pte) {
                map.set_at(i, a.pte_clear_val())?;
                nr_ptes += 1;
            }
        }
        drop(map);
        fix_counts(mm, &file, &hpage_folio, nr_ptes)?;
        let table = collapse_flush(mm, pmdp)?;
        drop(_ptl);
        drop(pml);
        mm.pmdp_get_lockless_sync()?;
        match version {
            Version::V6_6 => a.pte_free_defer(mm, table)?,
            Version::V6_4 => a.pte_free(mm, table)?,
        }
        maybe_install(mm, &vma, pmdp, &hpage_folio, install_pmd)
    })();
    folio_unlock(&machine, &hpage_folio)?;
    result
}

/// Step 1/2's per-pte test: `None` to go on, or the abort result.
fn pte_check<A: Arch>(a: &A, pte: Pte, folio: &Folio, i: u64) -> Option<ScanResult> {
    if a.pte_none(pte) {
        return None;
    }
    if !a.pte_present(pte) {
        return Some(ScanResult::PteNonPresent);
    }
    (a.pte_pfn(pte) != folio.pfn + i).then_some(ScanResult::Fail)
}

/// Step 3: the references and rss the cleared ptes held.
fn fix_counts<A: Arch>(
    mm: &Mm<A>,
    file: &AddressSpace<A>,
    folio: &Folio,
    nr_ptes: i64,
) -> Result<(), MmError> {
    if nr_ptes == 0 {
        return Ok(());
    }
    let page = mm.machine().phys.page(folio.pfn)?;
    for _ in 0..nr_ptes {
        page.put_testzero();
    }
    mm.add_rss(if file.shmem { Rss::Shmem } else { Rss::File }, -nr_ptes);
    Ok(())
}

fn maybe_install<A: Arch>(
    mm: &Mm<A>,
    vma: &Vma<A>,
    pmdp: EntryPtr,
    folio: &Folio,
    install_pmd: bool,
) -> Result<ScanResult, MmError> {
    if !install_pmd {
        return Ok(ScanResult::Succeed);
    }
    Ok(if do_set_pmd(mm, vma, pmdp, folio, false)? {
        ScanResult::Succeed
    } else {
        ScanResult::Fail
    })
}

/// `hpage_collapse_scan_file()` + `collapse_file()`: build a PMD-order
/// folio for file pages `[start, start + HPAGE_PMD_NR)`, copy the contents,
/// swap it into the page cache, unmap the old pages everywhere, and retract
/// the page tables that mapped them.
///
/// # Errors
/// Lock misuse and memory errors; collapse outcomes are [`ScanResult`]s.
pub fn collapse_file<A: Arch>(
    mapping: &Arc<AddressSpace<A>>,
    a: &A,
    start: u64,
    cc: &CollapseControl,
    version: Version,
) -> Result<(ScanResult, Deferred<A>), MmError> {
    let (nr, order, _) = hpage(a);
    let machine = mapping.machine().clone();
    if start + nr > mapping.size_pages() {
        return Ok((ScanResult::Truncated, vec![]));
    }
    // hpage_collapse_scan_file(): what the cache holds.
    let folios = mapping.folios_in(start, start + nr);
    if let Some(f) = folios.iter().find(|f| f.order > 0) {
        let r = if f.order == order && f.index == start {
            ScanResult::PteMappedHugepage
        } else {
            ScanResult::PageCompound
        };
        return Ok((r, vec![]));
    }
    let present = folios.len() as u64;
    let none = nr - present;
    if cc.is_khugepaged && none > cc.max_ptes_none {
        return Ok((ScanResult::ExceedNonePte, vec![]));
    }
    if present == 0 {
        // Nothing to collapse (collapse_empty must not collapse).
        return Ok((ScanResult::Fail, vec![]));
    }
    // collapse_file(): allocate and lock the new folio.
    let pfn = match machine.phys.alloc_pages(order) {
        Ok(p) => p,
        Err(MmError::OutOfMemory) => return Ok((ScanResult::AllocHugePageFail, vec![])),
        Err(e) => return Err(e),
    };
    let new = Folio {
        pfn,
        order,
        index: start,
    };
    folio_lock(&machine, &new)?;
    // Freeze the range first (xas_create_range + storing the locked new
    // folio in the holes): no page can appear in a hole behind our back.
    mapping.freeze(start, start + nr);
    let r = collapse_file_frozen(mapping, start, nr, new, cc, version);
    mapping.thaw(start, start + nr);
    r
}

/// The part of [`collapse_file`] that runs with the range frozen.
fn collapse_file_frozen<A: Arch>(
    mapping: &Arc<AddressSpace<A>>,
    start: u64,
    nr: u64,
    new: Folio,
    cc: &CollapseControl,
    version: Version,
) -> Result<(ScanResult, Deferred<A>), MmError> {
    let machine = mapping.machine().clone();
    // Lock the old pages; a regular file's holes are read in (readahead),
    // shmem's stay holes and become zeroes.
    let mut old = Vec::new();
    let mut result = ScanResult::Succeed;
    for index in start..start + nr {
        let f = if mapping.shmem {
            mapping.find_folio(index)
        } else {
            Some(mapping.get_or_read_frozen(index)?)
        };
        if let Some(f) = f {
            if !folio_trylock(&machine, &f)? {
                result = ScanResult::PageLock;
                break;
            }
            old.push(f);
        }
    }
    if result == ScanResult::Succeed {
        // try_to_unmap() every old page from every mm.
        unmap_file_range(mapping, start, nr)?;
        for f in &old {
            // Only the page cache's reference may remain.
            if folio_ref_count(&machine, f)? != 1 {
                result = ScanResult::PageCount;
                break;
            }
        }
    }
    if result != ScanResult::Succeed {
        for f in &old {
            folio_unlock(&machine, f)?;
        }
        folio_unlock(&machine, &new)?;
        folio_put(&machine, &new)?;
        return Ok((result, vec![]));
    }
    for f in &old {
        machine.phys.copy_page(new.page_pfn(f.index), f.pfn)?;
    }
    let replaced = mapping.replace_range(new);
    // retract_page_tables(), with the new folio locked: no pte of the range
    // can be faulted in meanwhile.
    let deferred = retract_page_tables(mapping, start, version)?;
    let result = if cc.is_khugepaged {
        ScanResult::Succeed
    } else {
        ScanResult::PteMappedHugepage
    };
    folio_unlock(&machine, &new)?;
    for f in replaced {
        folio_unlock(&machine, &f)?;
        folio_put(&machine, &f)?;
    }
    Ok((result, deferred))
}

/// `try_to_unmap()` of file pages `[start, start + nr)` in every mm: clear
/// the ptes mapping them (under the pte lock) and drop the references.
fn unmap_file_range<A: Arch>(
    mapping: &AddressSpace<A>,
    start: u64,
    nr: u64,
) -> Result<(), MmError> {
    let _i = mapping.i_mmap_rwsem.read()?;
    for r in mapping.i_mmap() {
        let Some(mm) = r.mm.upgrade() else { continue };
        let vma = &r.vma;
        let a = mm.arch();
        let shift = a.geometry().page_shift;
        for index in start..start + nr {
            if index < vma.pgoff {
                continue;
            }
            let addr = vma.start + ((index - vma.pgoff) << shift);
            if !vma.contains(addr) {
                continue;
            }
            let Some(folio) = mapping.find_folio(index) else {
                continue;
            };
            let Some(pmdp) = mm.find_pmd(addr)? else {
                continue;
            };
            let Some(locked) = mm.pte_offset_map_lock(pmdp, addr)? else {
                continue;
            };
            let pte = locked.get()?;
            if a.pte_present(pte) && a.pte_pfn(pte) == folio.page_pfn(index) {
                locked
                    .map()
                    .set_at(locked.map().index(), a.pte_clear_val())?;
                mm.add_rss(if mapping.shmem { Rss::Shmem } else { Rss::File }, -1);
                drop(locked);
                // try_to_unmap_one() flushes the TLB before the page is
                // copied: a store through the old mapping lands before it.
                mm.flush_tlb()?;
                folio_put(mm.machine(), &folio)?;
            }
        }
    }
    Ok(())
}

impl<A: Arch> Khugepaged<A> {
    /// khugepaged of `version` with default limits for the arch.
    pub fn new(a: &A, version: Version) -> Self {
        let (nr, _, _) = hpage(a);
        Khugepaged {
            version,
            pages_to_scan: nr * 8,
            cc: CollapseControl::khugepaged(nr),
            slots: Mutex::new(Vec::new()),
        }
    }

    /// `khugepaged_enter_vma()`: register the mm for scanning.
    pub fn enter(&self, mm: &Arc<Mm<A>>) {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if !s
            .iter()
            .any(|x| x.mm.upgrade().is_some_and(|m| Arc::ptr_eq(&m, mm)))
        {
            s.push(MmSlot {
                mm: Arc::downgrade(mm),
                pte_mapped_thp: Vec::new(),
            });
        }
    }

    /// v6.4's `khugepaged_add_pte_mapped_thp()`: queue `addr` on the mm's
    /// deferred list; false when the list is full or the mm has no slot.
    pub fn add_pte_mapped_thp(&self, mm: &Weak<Mm<A>>, addr: u64) -> bool {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        match s.iter_mut().find(|x| Weak::ptr_eq(&x.mm, mm)) {
            Some(slot) if slot.pte_mapped_thp.len() < MAX_PTE_MAPPED_THP => {
                slot.pte_mapped_thp.push(addr);
                true
            }
            _ => false,
        }
    }

    /// Addresses queued on `mm`'s deferred list (v6.4).
    pub fn deferred(&self, mm: &Arc<Mm<A>>) -> Vec<u64> {
        let s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        s.iter()
            .find(|x| x.mm.upgrade().is_some_and(|m| Arc::ptr_eq(&m, mm)))
            .map(|x| x.pte_mapped_thp.clone())
            .unwrap_or_default()
    }

    /// One pass of `khugepaged_do_scan()` over every registered mm, up to
    /// `pages_to_scan` pages: returns the result of each PMD range tried.
    ///
    /// # Errors
    /// Lock misuse and memory errors.
    pub fn scan(&self) -> Result<Vec<(u64, ScanResult)>, MmError> {
        let slots: Vec<Weak<Mm<A>>> = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|s| s.mm.clone())
            .collect();
        let mut out = Vec::new();
        let mut budget = self.pages_to_scan;
        for w in slots {
            let Some(mm) = w.upgrade() else { continue };
            if test_exit(&mm) {
                continue;
            }
            if self.version == Version::V6_4 {
                self.collapse_deferred(&mm, &w)?;
            }
            let a = mm.arch();
            let (nr, _, size) = hpage(a);
            for vma in mm.vmas() {
                let Some(file) = vma.file.clone() else {
                    continue;
                };
                if vma.vm_flags() & vm::HUGEPAGE == 0 {
                    continue;
                }
                let mut haddr = vma.start.next_multiple_of(size);
                while haddr + size <= vma.end && budget >= nr {
                    budget -= nr;
                    let start = vma.linear_page_index(haddr, a.geometry().page_shift);
                    let (mut r, deferred) = collapse_file(&file, a, start, &self.cc, self.version)?;
                    for (m, addr) in deferred {
                        self.add_pte_mapped_thp(&m, addr);
                    }
                    if r == ScanResult::PteMappedHugepage {
                        r = match self.version {
                            Version::V6_6 => {
                                let _r = mm.mmap_lock.read()?;
                                match collapse_pte_mapped_thp(&mm, haddr, false, self.version)? {
                                    ScanResult::PmdMapped => ScanResult::Succeed,
                                    x => x,
                                }
                            }
                            Version::V6_4 => {
                                self.add_pte_mapped_thp(&w, haddr);
                                ScanResult::Succeed
                            }
                        };
                    }
                    out.push((haddr, r));
                    haddr += size;
                }
            }
        }
        Ok(out)
    }

    /// v6.4's `khugepaged_collapse_pte_mapped_thps()`: under
    /// `mmap_write_trylock`, collapse every queued address.
    fn collapse_deferred(&self, mm: &Arc<Mm<A>>, w: &Weak<Mm<A>>) -> Result<(), MmError> {
        let addrs = {
            let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match s.iter_mut().find(|x| Weak::ptr_eq(&x.mm, w)) {
                Some(slot) if !slot.pte_mapped_thp.is_empty() => slot.pte_mapped_thp.clone(),
                _ => return Ok(()),
            }
        };
        let Some(_w) = mm.mmap_lock.try_write() else {
            return Ok(());
        };
        if !test_exit(mm) {
            for addr in &addrs {
                collapse_pte_mapped_thp(mm, *addr, false, Version::V6_4)?;
            }
        }
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = s.iter_mut().find(|x| Weak::ptr_eq(&x.mm, w)) {
            slot.pte_mapped_thp.clear();
        }
        Ok(())
    }
}

/// A running khugepaged thread (`khugepaged()` / `khugepaged_do_scan()`):
/// a pass every `sleep` (`scan_sleep_millisecs`) until stopped.
pub struct KhugepagedThread {
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Result<u64, MmError>>>,
}

impl<A: Arch> Khugepaged<A> {
    /// Start the thread.
    pub fn start(self: &Arc<Self>, sleep: std::time::Duration) -> KhugepagedThread {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (k, s) = (self.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name("khugepaged".into())
            .spawn(move || {
                let mut passes = 0;
                while !s.load(std::sync::atomic::Ordering::Relaxed) {
                    k.scan()?;
                    passes += 1;
                    std::thread::sleep(sleep);
                }
                Ok(passes)
            })
            .ok();
        KhugepagedThread { stop, handle }
    }
}

impl KhugepagedThread {
    /// Stop the thread and wait for it; returns the passes it made.
    ///
    /// # Errors
    /// The error a pass hit, or [`MmError::Config`] if the thread could not
    /// be started or panicked.
    pub fn stop(mut self) -> Result<u64, MmError> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        match self.handle.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(MmError::Config("khugepaged panicked".into()))),
            None => Err(MmError::Config("khugepaged could not be started".into())),
        }
    }
}

/// `madvise(MADV_COLLAPSE)` over `[start, end)` of `mm`: collapse each
/// PMD range of a file vma; returns each range's result.  Success for a
/// range is `SCAN_SUCCEED` or `SCAN_PMD_MAPPED`.
///
/// # Errors
/// Lock misuse and memory errors.
pub fn madvise_collapse<A: Arch>(
    mm: &Arc<Mm<A>>,
    start: u64,
    end: u64,
    version: Version,
) -> Result<Vec<(u64, ScanResult)>, MmError> {
    let a = mm.arch();
    let (nr, _, size) = hpage(a);
    let cc = CollapseControl::madvise(nr);
    let mut out = Vec::new();
    let mut haddr = start.next_multiple_of(size);
    while haddr + size <= end {
        let vma = {
            let _r = mm.mmap_lock.read()?;
            mm.vma_lookup(haddr)
        };
        let r = match vma {
            None => ScanResult::VmaNull,
            Some(vma) if vma.file.is_none() || haddr + size > vma.end => ScanResult::VmaCheck,
            Some(vma) => {
                let file = vma.file.clone().ok_or(MmError::Config("no file".into()))?;
                let pgoff = vma.linear_page_index(haddr, a.geometry().page_shift);
                let (mut r, _deferred) = collapse_file(&file, a, pgoff, &cc, version)?;
                // v6.4 retract cannot defer for MADV_COLLAPSE's own mm in a
                // way that matters here: the caller collapses it below.
                if r == ScanResult::PteMappedHugepage {
                    r = match version {
                        Version::V6_6 => {
                            let _r = mm.mmap_lock.read()?;
                            collapse_pte_mapped_thp(mm, haddr, true, version)?
                        }
                        Version::V6_4 => {
                            let _w = mm.mmap_lock.write()?;
                            collapse_pte_mapped_thp(mm, haddr, true, version)?
                        }
                    };
                }
                r
            }
        };
        out.push((haddr, r));
        haddr += size;
    }
    Ok(out)
}
