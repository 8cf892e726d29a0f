//! A small mapping API, so the walk, the emulators and the runner have real
//! tables to work on: populate upper levels on demand (`__pud_alloc()`,
//! `__pmd_alloc()`, `__pte_alloc()` + `pmd_install()`), map a page, map a
//! huge pmd, install any raw entry (swap and migration entries, protnone),
//! unmap, and tear everything down (`free_pgtables()`).
//!
//! Populating follows Linux's pattern: allocate the new table with no lock
//! held, then take the lock, and install it only if the entry is still none
//! (otherwise someone else won the race and the new table is freed).

use crate::arch::{Arch, Level, P4d, Pgd, Pgprot, Pmd, Pte, Pud};
use crate::mm::Mm;
use crate::walk::EntryPtr;
use crate::MmError;

/// Check that `va` is a user address of the mm in its current shape
/// ([`Mm::task_size`]: on s390 below `asce_limit`; mapping above it needs
/// an upgrade first, which the mmap path does).
///
/// # Errors
/// [`MmError::BadVa`].
pub fn check_va<A: Arch>(mm: &Mm<A>, va: u64) -> Result<(), MmError> {
    let limit = mm.task_size();
    if va >= limit {
        return Err(MmError::BadVa { va, limit });
    }
    Ok(())
}

/// Check that `pfn` fits the configuration's physical address width.
///
/// # Errors
/// [`MmError::BadPfn`].
pub fn check_pfn<A: Arch>(mm: &Mm<A>, pfn: u64) -> Result<(), MmError> {
    let g = mm.arch().geometry();
    let bits = g.phys_bits.saturating_sub(g.page_shift);
    if bits < 64 && pfn >> bits != 0 {
        return Err(MmError::BadPfn {
            pfn,
            phys_bits: g.phys_bits,
        });
    }
    Ok(())
}

/// The entry value that points a `level` entry at a table at `table_pa`.
fn populate_value<A: Arch>(a: &A, level: Level, table_pa: u64) -> u64 {
    match level {
        Level::Pgd => a.pgd_populate(table_pa).0,
        Level::P4d => a.p4d_populate(table_pa).0,
        Level::Pud => a.pud_populate(table_pa).0,
        Level::Pmd => a.pmd_populate(table_pa).0,
        Level::Pte => table_pa,
    }
}

/// Make sure the entry at `p` (an interpreting level above the pmd) points
/// at a table, allocating one for the next level if it is none.
fn ensure_table<A: Arch>(mm: &Mm<A>, p: EntryPtr, va: u64) -> Result<(), MmError> {
    let level = mm.interp_level_in(p.shape as usize, p.level);
    let v = mm.load_entry(p)?;
    if !mm.level_none(level, v) {
        if mm.level_leaf(level, v) {
            return Err(MmError::AlreadyMapped {
                va,
                what: format!("a {} leaf {v:#x}", level.name()),
            });
        }
        return Ok(());
    }
    let child = Level::ALL[level.index() + 1];
    let new = if child == Level::Pte {
        mm.arch().pte_alloc_one(mm)?
    } else {
        mm.arch().table_alloc(mm, child)?
    };
    let installed = {
        // Upper levels are populated under mm->page_table_lock; a pte table
        // under the pmd lock (pmd_install()).
        let _g = if child == Level::Pte {
            mm.pmd_lock(p)?
        } else {
            mm.page_table_lock.lock()?
        };
        if mm.level_none(level, mm.load_entry(p)?) {
            mm.inc_nr_tables(child);
            mm.set_entry(p, populate_value(mm.arch(), level, new))?;
            true
        } else {
            false
        }
    };
    if !installed {
        free_table(mm, child, new)?;
    }
    Ok(())
}

fn free_table<A: Arch>(mm: &Mm<A>, level: Level, table_pa: u64) -> Result<(), MmError> {
    if level == Level::Pte {
        mm.arch().pte_free(mm, table_pa)
    } else {
        mm.arch().table_free(mm, level, table_pa)
    }
}

/// Walk to the pmd entry for `va`, allocating upper tables on the way
/// (`pgd_offset` -> `p4d_alloc` -> `pud_alloc` -> `pmd_alloc`).
///
/// # Errors
/// [`MmError::BadVa`], [`MmError::OutOfMemory`], [`MmError::AlreadyMapped`]
/// when a leaf above the pmd covers `va`.
pub fn pmd_alloc<A: Arch>(mm: &Mm<A>, va: u64) -> Result<EntryPtr, MmError> {
    check_va(mm, va)?;
    let mut p = mm.pgd_offset(va);
    for level in [Level::P4d, Level::Pud, Level::Pmd] {
        if mm.level_is_real_in(p.shape as usize, level) {
            ensure_table(mm, p, va)?;
        }
        p = match level {
            Level::P4d => mm.p4d_offset(p, va)?,
            Level::Pud => mm.pud_offset(p, va)?,
            _ => mm.pmd_offset(p, va)?,
        };
    }
    Ok(p)
}

/// `pte_alloc(mm, pmd)`: give the pmd a pte table if it is none.
///
/// # Errors
/// [`MmError::OutOfMemory`]; [`MmError::AlreadyMapped`] when the pmd is a
/// huge leaf.
pub fn pte_alloc<A: Arch>(mm: &Mm<A>, pmdp: EntryPtr, va: u64) -> Result<(), MmError> {
    ensure_table(mm, EntryPtr::new(pmdp.pa, Level::Pmd), va)
}

/// Map the page `pfn` at `va` with protection `prot`
/// (`set_pte_at(mm, va, ptep, pfn_pte(pfn, prot))` under the pte lock).
///
/// # Errors
/// [`MmError::BadVa`], [`MmError::BadPfn`], [`MmError::AlreadyMapped`],
/// [`MmError::OutOfMemory`].
pub fn map_page<A: Arch>(mm: &Mm<A>, va: u64, pfn: u64, prot: Pgprot) -> Result<(), MmError> {
    check_pfn(mm, pfn)?;
    let pte = mm.arch().pfn_pte(pfn, prot);
    set_pte(mm, va, pte, false)
}

/// Install `pte` at `va` (any value: a present page, a swap or migration
/// entry, a protnone entry).  With `replace` false an existing non-none pte
/// is an error.
///
/// # Errors
/// As [`map_page`].
pub fn set_pte<A: Arch>(mm: &Mm<A>, va: u64, pte: Pte, replace: bool) -> Result<(), MmError> {
    let pmdp = pmd_alloc(mm, va)?;
    loop {
        pte_alloc(mm, pmdp, va)?;
        let Some(locked) = mm.pte_offset_map_lock(pmdp, va)? else {
            // The pmd was retracted (none again: allocate again), or holds
            // something that is not a table (a migration entry; a huge pmd
            // already failed in pte_alloc).
            let pmd = mm.pmdp_get(pmdp)?;
            if mm.arch().pmd_none(pmd) {
                continue;
            }
            return Err(MmError::AlreadyMapped {
                va,
                what: format!("pmd {:#x}", pmd.0),
            });
        };
        let old = locked.get()?;
        if !replace && !mm.arch().pte_none(old) {
            return Err(MmError::AlreadyMapped {
                va,
                what: format!("pte {:#x}", old.0),
            });
        }
        let idx = locked.map().index();
        locked.map().set_at(idx, pte)?;
        return Ok(());
    }
}

/// Map a PMD-sized huge page (`set_pmd_at(mm, va, pmdp,
/// pmd_mkhuge(pfn_pmd(pfn, prot)))`, as `do_set_pmd()` does).
///
/// # Errors
/// [`MmError::Unsupported`] without THP, [`MmError::Unaligned`],
/// [`MmError::AlreadyMapped`] when the pmd is not none, and as [`map_page`].
pub fn map_huge_pmd<A: Arch>(mm: &Mm<A>, va: u64, pfn: u64, prot: Pgprot) -> Result<(), MmError> {
    let a = mm.arch();
    let g = a.geometry();
    if !g.has_thp {
        return Err(MmError::Unsupported(format!(
            "{} has no transparent huge pages",
            g.name
        )));
    }
    check_pfn(mm, pfn)?;
    let size = g.pmd_size();
    if !va.is_multiple_of(size) || !(pfn << g.page_shift).is_multiple_of(size) {
        return Err(MmError::Unaligned { va, pfn, size });
    }
    set_pmd(mm, va, a.pmd_mkhuge(a.pfn_pmd(pfn, prot)), false)
}

/// Install any pmd value at `va` under the pmd lock (a huge pmd, a pmd
/// migration entry, or a deliberately bad value for tests).  With `replace`
/// false a non-none pmd is an error.  Replacing a table pmd detaches the
/// table without freeing it (the caller owns it then).
/// The value stored is what the arch's `set_pmd_at()` stores
/// ([`Arch::set_pmd_at_val`]).
///
/// # Errors
/// As [`map_huge_pmd`].
pub fn set_pmd<A: Arch>(mm: &Mm<A>, va: u64, pmd: Pmd, replace: bool) -> Result<(), MmError> {
    let pmdp = pmd_alloc(mm, va)?;
    let _g = mm.pmd_lock(pmdp)?;
    let old = mm.pmdp_get(pmdp)?;
    if !replace && !mm.arch().pmd_none(old) {
        return Err(MmError::AlreadyMapped {
            va,
            what: format!("pmd {:#x}", old.0),
        });
    }
    mm.set_entry(pmdp, mm.arch().set_pmd_at_val(pmd).0)
}

/// Clear the pte mapping `va` (`ptep_get_and_clear()` under the pte lock);
/// returns the old pte, or `None` when no pte table covers `va`.
///
/// # Errors
/// [`MmError::BadVa`] and memory errors.
pub fn unmap_page<A: Arch>(mm: &Mm<A>, va: u64) -> Result<Option<Pte>, MmError> {
    check_va(mm, va)?;
    let Some(pmdp) = mm.find_pmd(va)? else {
        return Ok(None);
    };
    let Some(locked) = mm.pte_offset_map_lock(pmdp, va)? else {
        return Ok(None);
    };
    let old = locked.get()?;
    let idx = locked.map().index();
    let none = mm.arch().pte_clear_val();
    locked.map().set_at(idx, none)?;
    Ok(Some(old))
}

/// `free_pgtables()` over the whole address space: free every table below
/// the pgd, children first, clearing the entries that pointed at them
/// with the level's `pXd_clear()` value (not 0: s390's empty entries carry
/// their table type) and undoing their accounting.  Leaves are cleared,
/// not followed.  Walks the mm in its current shape (on s390 an upgraded
/// mm's old top tables are freed as the lower-level tables they became).
///
/// # Errors
/// The first error freeing a table; teardown continues past it.
pub fn free_pgtables<A: Arch>(mm: &Mm<A>) -> Result<(), MmError> {
    let mut first = Ok(());
    let top = mm.top();
    free_level(mm, top.pa, Level::Pgd, top.shape, &mut first);
    first
}

fn free_level<A: Arch>(
    mm: &Mm<A>,
    table_pa: u64,
    level: Level,
    shape: usize,
    first: &mut Result<(), MmError>,
) {
    let interp = mm.interp_level_in(shape, level);
    if interp == Level::Pte {
        return;
    }
    let g = &mm.arch().shapes()[shape];
    let width = mm.entry_width(level) as u64;
    for i in 0..g.level(level).ptrs.max(1) as u64 {
        let pa = table_pa + i * width;
        let p = EntryPtr {
            pa,
            level,
            shape: if level.index() >= Level::Pmd.index() {
                0
            } else {
                shape as u8
            },
        };
        let v = match mm.load_entry(p) {
            Ok(v) => v,
            Err(e) => {
                keep_first(first, Err(e));
                continue;
            }
        };
        if mm.level_none(interp, v) {
            continue;
        }
        if !mm.level_leaf(interp, v) && !mm.level_bad(interp, v) && present(mm, interp, v) {
            let child = Level::ALL[interp.index() + 1];
            let child_pa = match interp {
                Level::Pgd => mm.arch().pgd_table_pa(Pgd(v)),
                Level::P4d => mm.arch().p4d_table_pa(P4d(v)),
                Level::Pud => mm.arch().pud_table_pa(Pud(v)),
                _ => mm.arch().pmd_table_pa(Pmd(v)),
            };
            free_level(mm, child_pa, child, shape, first);
            mm.dec_nr_tables(child);
            keep_first(first, free_table(mm, child, child_pa));
        }
        keep_first(first, mm.set_entry(p, clear_val(mm.arch(), interp)));
    }
}

fn present<A: Arch>(mm: &Mm<A>, level: Level, v: u64) -> bool {
    let a = mm.arch();
    match level {
        Level::Pgd => a.pgd_present(Pgd(v)),
        Level::P4d => a.p4d_present(P4d(v)),
        Level::Pud => a.pud_present(Pud(v)),
        Level::Pmd => a.pmd_present(Pmd(v)),
        Level::Pte => a.pte_present(Pte(v)),
    }
}

fn keep_first(first: &mut Result<(), MmError>, r: Result<(), MmError>) {
    if first.is_ok() {
        *first = r;
    }
}

/// What `pXd_clear()` stores in an entry interpreted at `level`
/// ([`Arch::pgd_clear_val`] .. [`Arch::pte_clear_val`]).
pub fn clear_val<A: Arch>(a: &A, level: Level) -> u64 {
    match level {
        Level::Pgd => a.pgd_clear_val().0,
        Level::P4d => a.p4d_clear_val().0,
        Level::Pud => a.pud_clear_val().0,
        Level::Pmd => a.pmd_clear_val().0,
        Level::Pte => a.pte_clear_val().0,
    }
}
