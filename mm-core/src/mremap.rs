//! mremap's whole-table move, `move_normal_pmd()` (mm/mremap.c), with and
//! without the 2024 re-check under the locks.
//!
//! mremap decides to move a whole pte table from the pmd value it read
//! (`get_old_pmd()`) before taking the rmap and pmd locks.  Since v6.6,
//! `retract_page_tables()` can clear that pmd in between without
//! `mmap_lock`; the unfixed `move_normal_pmd()` then `pmd_populate()`s the
//! new pmd from the none value it finds — on x86, a pmd pointing at physical
//! page 0 as a page table (Jann Horn, Project Zero 371047675; "Fixes:
//! 1d65b771bc08").  The fix: under the pmd locks, give up on the fast path
//! if the old pmd is `!pmd_present() || pmd_leaf()`, and move the ptes
//! instead.  The model reports a pmd populated from something that is not a
//! page table.

use std::sync::Arc;

use crate::arch::{Arch, Level};
use crate::file::MmapRef;
use crate::mm::Mm;
use crate::page::pg;
use crate::report::Report;
use crate::vma::Vma;
use crate::walk::EntryPtr;
use crate::MmError;

/// Which `move_normal_pmd()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MovePmd {
    /// v6.6 as released: no re-check under the locks (the flaw).
    Unchecked,
    /// With the 2024 fix: re-check `pmd_present() && !pmd_leaf()`.
    Rechecked,
}

/// How each PMD range moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moved {
    /// The whole table moved (`move_normal_pmd()` succeeded).
    Table,
    /// Fell back to moving ptes one by one (`move_ptes()`), or found none.
    Ptes,
}

/// `move_normal_pmd()`: move the table under `old_pmdp` to `new_pmdp`
/// (which must be none).  Returns false to make the caller fall back.
///
/// # Errors
/// Lock misuse and memory errors.
pub fn move_normal_pmd<A: Arch>(
    mm: &Mm<A>,
    old_pmdp: EntryPtr,
    new_pmdp: EntryPtr,
    form: MovePmd,
) -> Result<bool, MmError> {
    let a = mm.arch();
    if !a.pmd_none(mm.pmdp_get(new_pmdp)?) {
        return Ok(false);
    }
    let old_ptl = mm.pmd_lock(old_pmdp)?;
    let new_ptl = mm.pmd_lockptr(new_pmdp)?;
    let _new = if std::ptr::eq(new_ptl, old_ptl.lock()) {
        None
    } else {
        Some(new_ptl.lock_nested()?)
    };
    let pmd = mm.pmdp_get(old_pmdp)?;
    if form == MovePmd::Rechecked && (!a.pmd_present(pmd) || a.pmd_leaf(pmd)) {
        // Racing with collapse: the table is gone; move ptes instead.
        return Ok(false);
    }
    mm.set_entry(old_pmdp, a.pmd_clear_val().0)?;
    let table = a.pmd_table_pa(pmd);
    mm.set_entry(new_pmdp, a.pmd_populate(table).0)?;
    let is_table = mm
        .phys()
        .page_of(table)
        .map(|p| p.test(pg::TABLE))
        .unwrap_or(false);
    if !is_table {
        mm.machine().reports().push(Report::Invariant(format!(
            "move_normal_pmd populated pmd at pa {:#x} from old pmd {:#x}: the new pmd \
             points at pa {table:#x}, which is not a page table",
            new_pmdp.pa, pmd.0
        )));
    }
    Ok(true)
}

/// `mremap(old_addr, len, new_addr, MREMAP_FIXED | MREMAP_MAYMOVE)` of a
/// whole vma whose range and destination are PMD-aligned, under
/// `mmap_write_lock`.  `between(addr)` runs after `get_old_pmd()` read a
/// table pmd and before `move_normal_pmd()` takes the locks: the window the
/// 2024 bug lived in (a test puts `retract_page_tables()` there).
///
/// # Errors
/// [`MmError::Unsupported`] for a range that is not one whole aligned
/// vma; [`MmError::AlreadyMapped`] over an existing vma; memory errors.
pub fn mremap<A: Arch>(
    mm: &Arc<Mm<A>>,
    old_addr: u64,
    len: u64,
    new_addr: u64,
    form: MovePmd,
    mut between: impl FnMut(u64),
) -> Result<Vec<(u64, Moved)>, MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let size = g.pmd_size();
    let _w = mm.mmap_lock.write()?;
    let vma = mm.vma_lookup(old_addr).ok_or(MmError::Unsupported(format!(
        "mremap of {old_addr:#x}: no vma"
    )))?;
    if vma.start != old_addr
        || vma.end != old_addr + len
        || !old_addr.is_multiple_of(size)
        || !new_addr.is_multiple_of(size)
        || !len.is_multiple_of(size)
    {
        return Err(MmError::Unsupported(format!(
            "mremap of [{old_addr:#x}, +{len:#x}) to {new_addr:#x}: only whole, PMD-aligned vmas are modelled"
        )));
    }
    let last = new_addr.checked_add(len - 1).ok_or(MmError::BadVa {
        va: new_addr,
        limit: mm.task_size(),
    })?;
    crate::map::check_va(mm, last)?;
    let new_vma = Arc::new(Vma::new(
        mm.id(),
        new_addr,
        new_addr + len,
        vma.pgoff,
        vma.file.clone(),
        vma.vm_flags(),
    ));
    if vma.anon_vma() {
        new_vma.anon_vma_prepare();
    }
    mm.vma_insert(new_vma.clone())?;
    if let Some(f) = &new_vma.file {
        f.i_mmap_insert(MmapRef {
            mm: Arc::downgrade(mm),
            vma: new_vma.clone(),
        })?;
    }
    let mut out = Vec::new();
    let mut off = 0;
    while off < len {
        let (old, new) = (old_addr + off, new_addr + off);
        let moved = match mm.find_pmd(old)? {
            Some(old_pmdp) if !a.pmd_none(mm.pmdp_get(old_pmdp)?) => {
                let pmd = mm.pmdp_get(old_pmdp)?;
                let new_pmdp = crate::map::pmd_alloc(mm, new)?;
                if a.pmd_trans_huge(pmd) {
                    move_huge_pmd(mm, old_pmdp, new_pmdp)?;
                    Moved::Table
                } else {
                    between(old);
                    if move_normal_pmd(mm, old_pmdp, new_pmdp, form)? {
                        Moved::Table
                    } else {
                        move_ptes(mm, old, new)?;
                        Moved::Ptes
                    }
                }
            }
            _ => Moved::Ptes,
        };
        out.push((old, moved));
        off += size;
    }
    if let Some(f) = &vma.file {
        f.i_mmap_remove(&vma)?;
    }
    mm.vma_remove(vma.start);
    Ok(out)
}

/// `move_huge_pmd()`: move a huge pmd as it is.
fn move_huge_pmd<A: Arch>(mm: &Mm<A>, old: EntryPtr, new: EntryPtr) -> Result<(), MmError> {
    let l = mm.pmd_lock(old)?;
    let nl = mm.pmd_lockptr(new)?;
    let _n = if std::ptr::eq(nl, l.lock()) {
        None
    } else {
        Some(nl.lock_nested()?)
    };
    let pmd = mm.pmdp_get(old)?;
    mm.set_entry(old, mm.arch().pmd_clear_val().0)?;
    mm.set_entry(new, pmd.0)
}

/// `move_ptes()`: move every pte of the PMD range at `old` to `new`, under
/// both pte locks.
fn move_ptes<A: Arch>(mm: &Mm<A>, old: u64, new: u64) -> Result<(), MmError> {
    let a = mm.arch();
    let g = a.geometry();
    let Some(old_pmdp) = mm.find_pmd(old)? else {
        return Ok(());
    };
    let new_pmdp = crate::map::pmd_alloc(mm, new)?;
    crate::map::pte_alloc(mm, new_pmdp, new)?;
    let Some(src) = mm.pte_offset_map_lock(old_pmdp, old)? else {
        return Ok(());
    };
    let Some((dst, dptl)) = mm.pte_offset_map_nolock(new_pmdp, new)? else {
        return Ok(());
    };
    let _d = if std::ptr::eq(dptl, src.ptl()) {
        None
    } else {
        Some(dptl.lock_nested()?)
    };
    for i in 0..g.level(Level::Pte).ptrs as u64 {
        let pte = src.map().get_at(i)?;
        if !a.pte_none(pte) {
            src.map().set_at(i, a.pte_clear_val())?;
            dst.set_at(i, pte)?;
        }
    }
    Ok(())
}
