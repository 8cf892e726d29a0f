//! The page fault path, under `mmap_read_lock`, and user-memory access
//! through it.
//!
//! * A none pmd gets a pte table (`__pte_alloc()`), unless a PMD-order folio
//!   sits in the page cache at a pmd-aligned offset that the vma maps whole,
//!   in which case the folio is mapped by a huge pmd (`do_set_pmd()`).
//! * A none pte gets the file's page (`filemap_fault()` / `do_read_fault()`),
//!   a private write gets a copy (`do_cow_fault()`, which gives the vma its
//!   anon_vma), an anonymous vma gets a zeroed page.
//! * Every step that finds the page tables changed under it (the pmd became
//!   huge, a table was retracted by khugepaged) returns and lets the fault
//!   retry, as Linux's fault path does since `pte_offset_map_lock()` may
//!   fail.

use std::sync::Arc;

use crate::arch::{Arch, Pmd};
use crate::file::{folio_get, folio_lock, folio_put, folio_unlock, AddressSpace, Folio};
use crate::map;
use crate::mm::{Mm, Rss};
use crate::vma::Vma;
use crate::walk::EntryPtr;
use crate::MmError;

/// What a fault did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A pte now maps the address (or already did).
    Pte,
    /// A huge pmd now maps the address (or already did).
    Pmd,
    /// No vma: `SIGSEGV`.
    SegvMaperr,
    /// A write to a vma without `VM_WRITE`: `SIGSEGV`.
    SegvAccerr,
    /// Beyond the end of the file: `SIGBUS`.
    Sigbus,
}

/// `handle_mm_fault()` for `va`, taking `mmap_read_lock` around it as the
/// arch fault handler does (`lock_mm_and_find_vma()`).
///
/// # Errors
/// [`MmError::OutOfMemory`] and memory errors; access errors are
/// [`Fault`] values, not errors.
pub fn handle_fault<A: Arch>(mm: &Arc<Mm<A>>, va: u64, write: bool) -> Result<Fault, MmError> {
    let _r = mm.mmap_lock.read()?;
    handle_mm_fault(mm, va, write)
}

/// `handle_mm_fault()` with `mmap_lock` already held for read.
///
/// # Errors
/// As [`handle_fault`].
pub fn handle_mm_fault<A: Arch>(mm: &Arc<Mm<A>>, va: u64, write: bool) -> Result<Fault, MmError> {
    let Some(vma) = mm.vma_lookup(va) else {
        return Ok(Fault::SegvMaperr);
    };
    if write && vma.vm_flags() & crate::vma::vm::WRITE == 0 {
        return Ok(Fault::SegvAccerr);
    }
    loop {
        if let Some(f) = fault_once(mm, &vma, va, write)? {
            return Ok(f);
        }
        // The tables changed under us: retry, as the kernel does.
    }
}

/// `do_set_pmd()`: map a PMD-order folio by a huge pmd if the pmd is none.
/// Returns false when the pmd is no longer none (the caller falls back to
/// ptes or retries).
///
/// # Errors
/// Memory or lock errors.
pub fn do_set_pmd<A: Arch>(
    mm: &Mm<A>,
    vma: &Vma<A>,
    pmdp: EntryPtr,
    folio: &Folio,
    write: bool,
) -> Result<bool, MmError> {
    let a = mm.arch();
    let _l = mm.pmd_lock(pmdp)?;
    if !a.pmd_none(mm.pmdp_get(pmdp)?) {
        return Ok(false);
    }
    let mut pmd = a.pmd_mkhuge(a.pfn_pmd(folio.pfn, vma.page_prot(a)));
    if write && vma.shared() {
        pmd = a.pmd_mkdirty(a.pmd_mkwrite_novma(pmd));
    }
    folio_get(mm.machine(), folio)?;
    let kind = match &vma.file {
        Some(f) if f.shmem => Rss::Shmem,
        Some(_) => Rss::File,
        None => Rss::Anon,
    };
    mm.add_rss(kind, folio.nr_pages() as i64);
    mm.set_entry(pmdp, a.set_pmd_at_val(pmd).0)?;
    Ok(true)
}

/// One attempt; `None` means retry.
fn fault_once<A: Arch>(
    mm: &Arc<Mm<A>>,
    vma: &Vma<A>,
    va: u64,
    write: bool,
) -> Result<Option<Fault>, MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let pmdp = map::pmd_alloc(mm, va)?;
    let pmd: Pmd = mm.pmdp_get(pmdp)?;
    if a.pmd_trans_huge(pmd) {
        if write && !a.pmd_write(pmd) {
            if !vma.shared() {
                return Err(MmError::Unsupported(format!(
                    "write fault at {va:#x} on a private huge pmd: splitting a THP for COW is not modelled"
                )));
            }
            // wp_huge_pmd() on a shared mapping: make it writable.
            let _l = mm.pmd_lock(pmdp)?;
            let cur = mm.pmdp_get(pmdp)?;
            if cur != pmd {
                return Ok(None);
            }
            let new = a.pmd_mkdirty(a.pmd_mkwrite_novma(pmd));
            mm.set_entry(pmdp, a.set_pmd_at_val(new).0)?;
        } else {
            // huge_pmd_set_accessed(): young, and dirty on a write.
            let mut new = a.pmd_mkyoung(pmd);
            if write {
                new = a.pmd_mkdirty(new);
            }
            if new != pmd {
                let _l = mm.pmd_lock(pmdp)?;
                if mm.pmdp_get(pmdp)? != pmd {
                    return Ok(None);
                }
                mm.set_entry(pmdp, a.set_pmd_at_val(new).0)?;
            }
        }
        return Ok(Some(Fault::Pmd));
    }
    // filemap_fault(): take a reference and the folio lock, then check the
    // folio is still the one the cache holds (a collapse replaces folios
    // while holding their locks, so it cannot happen under ours).
    let file_folio = match &vma.file {
        Some(f) => {
            let index = vma.linear_page_index(va, g.page_shift);
            let folio = match f.get_folio_ref(index) {
                Ok(folio) => folio,
                Err(MmError::Unsupported(_)) => return Ok(Some(Fault::Sigbus)),
                Err(MmError::Retry) => {
                    // A hole of a range being collapsed: wait for it.
                    crate::sync::cpu_relax();
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            folio_lock(mm.machine(), &folio)?;
            if f.find_folio(index) != Some(folio) {
                folio_unlock(mm.machine(), &folio)?;
                folio_put(mm.machine(), &folio)?;
                return Ok(None);
            }
            Some((f.clone(), folio, index))
        }
        None => None,
    };
    let r = fault_locked(mm, vma, va, write, pmdp, pmd, &file_folio);
    if let Some((_, folio, _)) = &file_folio {
        folio_unlock(mm.machine(), folio)?;
        folio_put(mm.machine(), folio)?;
    }
    r
}

/// The rest of a fault, with the file folio (if any) referenced and locked.
fn fault_locked<A: Arch>(
    mm: &Arc<Mm<A>>,
    vma: &Vma<A>,
    va: u64,
    write: bool,
    pmdp: EntryPtr,
    pmd: Pmd,
    file_folio: &Option<(Arc<AddressSpace<A>>, Folio, u64)>,
) -> Result<Option<Fault>, MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let page = g.page_size();
    // A PMD-order folio, aligned, that the vma maps whole: map it by pmd
    // (unless a private write needs a copy of one page).
    if let Some((_, folio, _)) = file_folio {
        let haddr = va & !(g.pmd_size() - 1);
        let order = g.level(crate::arch::Level::Pmd).shift - g.page_shift;
        let fits = folio.order == order
            && folio.index == vma.linear_page_index(haddr, g.page_shift)
            && haddr >= vma.start
            && haddr + g.pmd_size() <= vma.end
            && g.has_thp;
        if fits && a.pmd_none(pmd) && (!write || vma.shared()) {
            if do_set_pmd(mm, vma, pmdp, folio, write)? {
                return Ok(Some(Fault::Pmd));
            }
            return Ok(None);
        }
    }
    match map::pte_alloc(mm, pmdp, va) {
        // The pmd became huge meanwhile (do_set_pmd by another fault, or
        // MADV_COLLAPSE installing it): retry, which sees the huge pmd.
        Err(MmError::AlreadyMapped { .. }) => return Ok(None),
        r => r?,
    }
    let Some(locked) = mm.pte_offset_map_lock(pmdp, va)? else {
        return Ok(None);
    };
    let map = locked.map();
    let old = locked.get()?;
    if !a.pte_none(old) {
        if !a.pte_present(old) {
            return Ok(Some(Fault::Pte));
        }
        if !write || a.pte_write(old) {
            // handle_pte_fault()'s tail: the pte is fine but the MMU faulted
            // on an access flag (young, or dirty for a write on arches that
            // track dirty by write-protecting clean ptes):
            // ptep_set_access_flags() with pte_mkyoung (+ pte_mkdirty).
            let mut new = a.pte_mkyoung(old);
            if write {
                new = a.pte_mkdirty(new);
            }
            if new != old {
                map.set_at(map.index(), new)?;
            }
            return Ok(Some(Fault::Pte));
        }
        if vma.shared() {
            // do_wp_page() -> wp_page_shared(): make it writable and dirty.
            map.set_at(map.index(), a.pte_mkdirty(a.pte_mkwrite_novma(old)))?;
            return Ok(Some(Fault::Pte));
        }
        // A write to a read-only private page: COW below, replacing it.
    }
    let prot = vma.page_prot(a);
    let machine = mm.machine();
    let pte = match (file_folio, write && !vma.shared()) {
        (Some((f, folio, index)), false) => {
            folio_get(machine, folio)?;
            mm.add_rss(if f.shmem { Rss::Shmem } else { Rss::File }, 1);
            let mut pte = a.pfn_pte(folio.page_pfn(*index), prot);
            if write {
                pte = a.pte_mkdirty(a.pte_mkwrite_novma(pte));
            }
            pte
        }
        (src, _) => {
            // do_cow_fault() / do_anonymous_page(): a private page.
            let new = machine.phys.alloc_page()?;
            if let Some((_, folio, index)) = src {
                machine.phys.copy_page(new, folio.page_pfn(*index))?;
            }
            if a.pte_present(old) {
                // Replacing a read-only mapping of the file page.
                let (f, kind) =
                    crate::mmap::pte_folio(vma, va & !(page - 1), a.pte_pfn(old), g.page_shift);
                mm.add_rss(kind, -1);
                crate::file::folio_put(machine, &f)?;
            }
            vma.anon_vma_prepare();
            mm.add_rss(Rss::Anon, 1);
            let mut pte = a.pfn_pte(new, prot);
            if write {
                pte = a.pte_mkdirty(a.pte_mkwrite_novma(pte));
            }
            pte
        }
    };
    map.set_at(map.index(), a.pte_mkyoung(pte))?;
    Ok(Some(Fault::Pte))
}

/// Write `data` to user memory at `va` as a user store would: fault each
/// page in for writing, then store through the translation.
///
/// # Errors
/// [`MmError::BadVa`] when a page cannot be made writable (no vma, no
/// write permission, beyond the file); memory errors.
pub fn write_user<A: Arch>(mm: &Arc<Mm<A>>, va: u64, data: &[u8]) -> Result<(), MmError> {
    access_user(mm, va, data.len(), true, |pa, off, n| {
        mm.phys().write_bytes(pa, &data[off..off + n])
    })
}

/// Read `len` bytes of user memory at `va` through the page tables,
/// faulting pages in for reading.
///
/// # Errors
/// As [`write_user`].
pub fn read_user<A: Arch>(mm: &Arc<Mm<A>>, va: u64, len: usize) -> Result<Vec<u8>, MmError> {
    let mut out = vec![0u8; len];
    access_user(mm, va, len, false, |pa, off, n| {
        out[off..off + n].copy_from_slice(&mm.phys().read_bytes(pa, n)?);
        Ok(())
    })?;
    Ok(out)
}

fn access_user<A: Arch>(
    mm: &Arc<Mm<A>>,
    va: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(u64, usize, usize) -> Result<(), MmError>,
) -> Result<(), MmError> {
    let page = mm.arch().geometry().page_size();
    let mut off = 0usize;
    while off < len {
        let a = va + off as u64;
        let n = ((page - a % page) as usize).min(len - off);
        loop {
            let _r = mm.mmap_lock.read()?;
            // The access is one CPU's load or store through its TLB: it is
            // atomic with respect to TLB-shootdown IPIs, which is what
            // `flush_tlb()` after unmapping waits for (see
            // [`crate::mm::Mm::flush_tlb`]).
            let done = {
                let _irq = mm.machine().irq.read_lock();
                match mm.translate(a)? {
                    Some((pa, w)) if w || !write => {
                        f(pa, off, n)?;
                        true
                    }
                    _ => false,
                }
            };
            if done {
                break;
            }
            match handle_mm_fault(mm, a, write)? {
                Fault::Pte | Fault::Pmd => {}
                _ => {
                    return Err(MmError::BadVa {
                        va: a,
                        limit: mm.task_size(),
                    })
                }
            }
        }
        off += n;
    }
    Ok(())
}
