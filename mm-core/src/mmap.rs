//! mmap and munmap: creating vmas, zapping what they map, and freeing the
//! page tables under them.
//!
//! munmap frees page tables the way `free_pgtables()` does under
//! `CONFIG_MMU_GATHER_RCU_TABLE_FREE`: the file vma is unlinked from its
//! `i_mmap` first (so `retract_page_tables()` cannot find the tables), the
//! pmd entries are cleared, and the tables are batched and freed after an
//! RCU grace period (`tlb_remove_table()`), because lockless walkers
//! (GUP-fast, `pte_offset_map()` users) may still be inside them.

use std::sync::Arc;

use crate::arch::{Arch, Level, Pmd, Pte};
use crate::file::{folio_put, AddressSpace, Folio, MmapRef};
use crate::mm::{Mm, Rss};
use crate::vma::Vma;
use crate::walk::EntryPtr;
use crate::MmError;

/// `mmap()` of `len` bytes at `addr` (`MAP_FIXED`): a file mapping at file
/// page offset `pgoff` when `file` is given, else anonymous.  `flags` are
/// [`crate::vma::vm`] bits (`VM_SHARED` for `MAP_SHARED`).  Takes `mmap_lock` for
/// write.  A range ending above the mm's current limit but within
/// `TASK_SIZE_MAX` grows the mm first ([`Mm::upgrade`]), as s390's
/// `arch_get_unmapped_area()` does through `check_asce_limit()` ->
/// `crst_table_upgrade(mm, addr + len)`.
///
/// # Errors
/// [`MmError::BadVa`] outside the user range, [`MmError::Unaligned`] for a
/// range not page aligned, [`MmError::AlreadyMapped`] over an existing vma,
/// [`MmError::OutOfMemory`] when an upgrade cannot allocate its table.
pub fn mmap<A: Arch>(
    mm: &Arc<Mm<A>>,
    addr: u64,
    len: u64,
    file: Option<Arc<AddressSpace<A>>>,
    pgoff: u64,
    flags: u64,
) -> Result<Arc<Vma<A>>, MmError> {
    let g = mm.arch().geometry();
    let page = g.page_size();
    if !addr.is_multiple_of(page) || !len.is_multiple_of(page) || len == 0 {
        return Err(MmError::Unaligned {
            va: addr,
            pfn: len,
            size: page,
        });
    }
    let max = mm.task_size_max();
    let end = addr.checked_add(len).ok_or(MmError::BadVa {
        va: addr,
        limit: max,
    })?;
    if end > max {
        return Err(MmError::BadVa {
            va: end - 1,
            limit: max,
        });
    }
    let _w = mm.mmap_lock.write()?;
    // check_asce_limit(): grow the address space if the range needs it.
    mm.upgrade(end)?;
    let vma = Arc::new(Vma::new(mm.id(), addr, end, pgoff, file.clone(), flags));
    mm.vma_insert(vma.clone())?;
    if let Some(f) = file {
        f.i_mmap_insert(MmapRef {
            mm: Arc::downgrade(mm),
            vma: vma.clone(),
        })?;
    }
    Ok(vma)
}

/// `munmap()` of whole vmas in `[addr, addr + len)`: zap, unlink from
/// `i_mmap`, free the page tables no longer used (after a grace period).
/// Takes `mmap_lock` for write.  A range that cuts a vma is refused (vma
/// splitting is not modelled).
///
/// # Errors
/// [`MmError::Unsupported`] for a partial vma; memory errors.
pub fn munmap<A: Arch>(mm: &Arc<Mm<A>>, addr: u64, len: u64) -> Result<(), MmError> {
    let end = addr.saturating_add(len);
    let _w = mm.mmap_lock.write()?;
    let vmas: Vec<Arc<Vma<A>>> = mm
        .vmas()
        .into_iter()
        .filter(|v| v.start < end && v.end > addr)
        .collect();
    if let Some(v) = vmas.iter().find(|v| v.start < addr || v.end > end) {
        return Err(MmError::Unsupported(format!(
            "munmap of [{addr:#x}, {end:#x}) cuts the vma [{:#x}, {:#x}): vma splitting is not modelled",
            v.start, v.end
        )));
    }
    for vma in &vmas {
        zap_vma(mm, vma)?;
        unlink_vma(mm, vma)?;
        mm.vma_remove(vma.start);
        free_pte_tables(mm, vma.start, vma.end)?;
    }
    Ok(())
}

/// Unlink `vma` from its file's `i_mmap` (`unlink_file_vma()`).
///
/// # Errors
/// [`MmError::Lock`] on a self-deadlock.
pub fn unlink_vma<A: Arch>(_mm: &Mm<A>, vma: &Arc<Vma<A>>) -> Result<(), MmError> {
    if let Some(f) = &vma.file {
        f.i_mmap_remove(vma)?;
    }
    Ok(())
}

/// The folio a present pte of `vma` at `addr` maps: the file's folio when the
/// pte maps its page, else an anonymous (COW or anonymous-vma) page.
pub fn pte_folio<A: Arch>(vma: &Vma<A>, addr: u64, pfn: u64, page_shift: u32) -> (Folio, Rss) {
    if let Some(f) = &vma.file {
        let index = vma.linear_page_index(addr, page_shift);
        if let Some(folio) = f.find_folio(index) {
            if folio.page_pfn(index) == pfn {
                let kind = if f.shmem { Rss::Shmem } else { Rss::File };
                return (folio, kind);
            }
        }
    }
    (
        Folio {
            pfn,
            order: 0,
            index: 0,
        },
        Rss::Anon,
    )
}

/// `zap_page_range_single()` over the whole vma: clear every pte and huge
/// pmd, dropping the folio references and rss they held.
///
/// # Errors
/// Memory errors; a folio put that fails its checks.
pub fn zap_vma<A: Arch>(mm: &Mm<A>, vma: &Vma<A>) -> Result<(), MmError> {
    zap_range(mm, vma, vma.start, vma.end)
}

/// `madvise(MADV_DONTNEED)` of `[start, start + len)` inside one vma: zap
/// it under `mmap_read_lock` (the page tables stay).
///
/// # Errors
/// [`MmError::Unsupported`] when the range is not inside one vma; as
/// [`zap_vma`].
pub fn madvise_dontneed<A: Arch>(mm: &Mm<A>, start: u64, len: u64) -> Result<(), MmError> {
    let _r = mm.mmap_lock.read()?;
    let vma = mm
        .vma_lookup(start)
        .filter(|v| start + len <= v.end)
        .ok_or(MmError::Unsupported(format!(
            "MADV_DONTNEED of [{start:#x}, +{len:#x}) outside one vma"
        )))?;
    zap_range(mm, &vma, start, start + len)
}

/// Zap `[start, end)` of `vma` (huge pmds only when the range covers them
/// whole; a partial huge pmd is left, as splitting is not modelled).
///
/// # Errors
/// As [`zap_vma`].
pub fn zap_range<A: Arch>(mm: &Mm<A>, vma: &Vma<A>, start: u64, end: u64) -> Result<(), MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let pmd_size = g.pmd_size();
    let machine = mm.machine().clone();
    // The folios are put only after the TLB flush (tlb_finish_mmu()): a
    // CPU still storing through an old translation must not hit a freed
    // page.
    let mut to_put = Vec::new();
    let mut addr = start;
    while addr < end {
        // Saturating: on s390 a vma may end in the last segment below 2^64.
        let next = ((addr / pmd_size) + 1).saturating_mul(pmd_size);
        let stop = next.min(end);
        if let Some(pmdp) = mm.find_pmd(addr)? {
            let pmd = mm.pmdp_get(pmdp)?;
            if a.pmd_trans_huge(pmd) {
                if !addr.is_multiple_of(pmd_size) || stop != next {
                    addr = stop;
                    continue;
                }
                let _l = mm.pmd_lock(pmdp)?;
                let pmd = mm.pmdp_get(pmdp)?;
                if a.pmd_trans_huge(pmd) {
                    mm.set_entry(pmdp, a.pmd_clear_val().0)?;
                    let (folio, kind) =
                        pte_folio(vma, addr & !(pmd_size - 1), a.pmd_pfn(pmd), g.page_shift);
                    mm.add_rss(kind, -(folio.nr_pages() as i64));
                    to_put.push(folio);
                }
            } else if let Some(locked) = mm.pte_offset_map_lock(pmdp, addr)? {
                let map = locked.map();
                let first = g.level(Level::Pte).index(addr);
                let n = (stop - addr) >> g.page_shift;
                for i in first..first + n {
                    let pte = map.get_at(i)?;
                    if a.pte_none(pte) {
                        continue;
                    }
                    map.set_at(i, a.pte_clear_val())?;
                    if a.pte_present(pte) {
                        let va = (addr & !(pmd_size - 1)) + (i << g.page_shift);
                        let (folio, kind) = pte_folio(vma, va, a.pte_pfn(pte), g.page_shift);
                        mm.add_rss(kind, -1);
                        to_put.push(folio);
                    }
                }
            }
        }
        addr = stop;
    }
    if !to_put.is_empty() {
        mm.flush_tlb()?;
        for f in &to_put {
            folio_put(&machine, f)?;
        }
    }
    Ok(())
}

/// `free_pgd_range()` for `[start, end)`: free the pte tables whose whole
/// pmd range lies inside, clearing their pmds under the pmd lock, and free
/// them after a grace period (`tlb_remove_table()` batching them into one
/// RCU callback).
///
/// # Errors
/// Memory or lock errors.
pub fn free_pte_tables<A: Arch>(mm: &Arc<Mm<A>>, start: u64, end: u64) -> Result<(), MmError> {
    let a = mm.arch();
    let pmd_size = a.geometry().pmd_size();
    let mut batch = Vec::new();
    // Checked: on s390 the address space reaches the last segment below
    // 2^64, which no whole-pmd range above `start` may fit.
    let mut next = start
        .checked_next_multiple_of(pmd_size)
        .and_then(|a| Some((a, a.checked_add(pmd_size)?)));
    while let Some((addr, pmd_end)) = next.filter(|&(_, e)| e <= end) {
        next =
            Some((pmd_end, pmd_end.saturating_add(pmd_size))).filter(|&(a, e)| e - a == pmd_size);
        let covered_elsewhere = mm.vmas().iter().any(|v| v.start < pmd_end && v.end > addr);
        if !covered_elsewhere {
            if let Some(pmdp) = mm.find_pmd(addr)? {
                let _l = mm.pmd_lock(pmdp)?;
                let pmd = mm.pmdp_get(pmdp)?;
                if !a.pmd_none(pmd) && a.pmd_present(pmd) && !a.pmd_leaf(pmd) && !a.pmd_bad(pmd) {
                    mm.set_entry(pmdp, a.pmd_clear_val().0)?;
                    mm.dec_nr_tables(Level::Pte);
                    batch.push(a.pmd_table_pa(pmd));
                }
            }
        }
    }
    if !batch.is_empty() {
        tlb_remove_tables(mm, batch);
    }
    Ok(())
}

/// `tlb_remove_table()` + `tlb_table_flush()`: free a batch of pte tables
/// with the arch's `pte_free()` after one grace period.  The callback holds
/// a reference to the mm structure (as the mmu_gather batch holds the
/// tables, not the mm): `pte_free()` of fragmenting arches needs it.
pub fn tlb_remove_tables<A: Arch>(mm: &Arc<Mm<A>>, tables: Vec<u64>) {
    let mm2 = mm.clone();
    mm.machine().rcu.call_rcu(Box::new(move || {
        for t in tables {
            mm2.machine()
                .events()
                .push(|| crate::event::Event::TableFree {
                    pa: t,
                    how: "tlb_remove_table batch, after a grace period".into(),
                });
            // Failures are reported by the free-page checks.
            let _ = mm2.arch().pte_free(&mm2, t);
        }
    }));
}

/// Whether `pte` maps page `pfn` (helper for tests and collapse checks).
pub fn pte_maps<A: Arch>(a: &A, pte: Pte, pfn: u64) -> bool {
    a.pte_present(pte) && a.pte_pfn(pte) == pfn
}

/// The pmd pointer for `addr`, if the upper levels exist.
///
/// # Errors
/// Memory errors.
pub fn pmd_of<A: Arch>(mm: &Mm<A>, addr: u64) -> Result<Option<(EntryPtr, Pmd)>, MmError> {
    Ok(match mm.find_pmd(addr)? {
        Some(p) => Some((p, mm.pmdp_get(p)?)),
        None => None,
    })
}
