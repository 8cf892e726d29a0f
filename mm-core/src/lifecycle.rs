//! Lifecycle checks: the semantics the v6.6 series relies on, run on any
//! [`Arch`] in a deterministic machine (conformance family 3).
//!
//! * `pte_offset_map()` fails, holding nothing, for every pmd state that is
//!   not a page table (none, trans-huge, devmap, migration, bad — the last
//!   also cleared and reported), and hands back its snapshot even then.
//! * `pte_offset_map_lock()` retries when the pmd changes between the map
//!   and the lock, and ends up on the table the pmd now points at; the
//!   unchecked form would have locked the detached table.
//! * `pte_free_defer()` does not free before a grace period that waits for
//!   the reader that mapped the table, and frees after it.
//! * An immediate `pte_free()` under such a reader is caught as a
//!   use-after-free when the reader next reads.
//! * A second use of a page's rcu_head while it is queued is caught.
//! * Teardown returns `pgtables_bytes` to zero and every frame to the
//!   allocator.
//! * Where 64-bit entries are two halves (x86 PAE), `pmdp_get_lockless()`
//!   retries a read whose low half changed, and the naive read returns a
//!   torn value under the same interleaving.

use std::sync::Arc;

use crate::arch::{Arch, Pmd, Pte};
use crate::family::{skip, Checker, FamilyResult, Rng};
use crate::machine::{Machine, Mode};
use crate::map;
use crate::mm::Mm;
use crate::rcu::RcuError;
use crate::report::Report;
use crate::swapops;
use crate::walk::EntryPtr;
use crate::MmError;

/// Frames of the scratch machines.
const SCRATCH_FRAMES: u64 = 256;

fn scratch<A: Arch + Clone>(a: &A) -> Result<(Arc<Machine>, Arc<Mm<A>>), MmError> {
    let g = a.geometry();
    // Room for `teardown_accounting`'s 48 scattered mappings even when each
    // needs a new table at every level, and tables span several frames
    // (s390's 16K region and segment tables: 13 frames per mapping with
    // five levels).
    let per_mapping: u64 = crate::arch::Level::ALL[1..]
        .iter()
        .map(|l| g.level(*l))
        .filter(|l| !l.is_folded())
        .map(|l| l.table_bytes.div_ceil(g.page_size()).max(1))
        .sum();
    let frames = SCRATCH_FRAMES.max(64 * per_mapping + 16);
    let m = Machine::new(g, frames * g.page_size(), Mode::Deterministic)?;
    let mm = Mm::new(Arc::new(a.clone()), m.clone())?;
    Ok((m, mm))
}

/// A user address in the middle of the range, pmd-aligned.
fn test_va<A: Arch>(a: &A) -> u64 {
    let g = a.geometry();
    (g.task_size() / 2) & !(g.pmd_size() - 1)
}

/// Every lifecycle family.
///
/// # Errors
/// [`MmError`] when a scratch machine cannot be built or an operation the
/// checks rely on fails unexpectedly.
pub fn run_all<A: Arch + Clone>(a: &A) -> Result<Vec<FamilyResult>, MmError> {
    let mut out = vec![
        pte_offset_map_failure(a)?,
        pte_offset_map_lock_retry(a)?,
        pte_free_defer_grace(a)?,
        pte_free_immediate_stale(a)?,
        rcu_head_reuse(a)?,
        teardown_accounting(a)?,
        pmdp_get_lockless_halves(a)?,
    ];
    crate::family::apply_expected(&mut out, a.expected_failures());
    Ok(out)
}

/// A pmd value that `pmd_bad()` reports and that no earlier test in
/// `__pte_offset_map()` catches: a table pmd with one bit flipped.  Where no
/// such value exists (arm LPAE: every bad pmd is trans-huge) the family
/// fails, and the configuration lists that as an expected failure.
fn bad_pmd<A: Arch>(a: &A, table_pa: u64) -> Option<Pmd> {
    let g = a.geometry();
    let bits = g
        .level(crate::arch::Level::Pmd)
        .entry_bytes
        .max(g.entry_bytes)
        * 8;
    // Corrupt table pmds for a few table addresses: whether a flipped bit
    // reads as something earlier in __pte_offset_map() (a migration entry,
    // say) can depend on the address bits (riscv's swap type overlaps the
    // pfn).
    (0..16u64)
        .map(|k| a.pmd_populate(table_pa + (k << g.page_shift)))
        .flat_map(|good| (0..bits).map(move |b| Pmd(good.0 ^ (1u64 << b))))
        .find(|&v| {
            a.pmd_bad(v)
                && !a.pmd_none(v)
                && !a.pmd_trans_huge(v)
                && !a.pmd_devmap(v)
                && !swapops::is_pmd_migration_entry(a, v)
        })
}

/// `pte_offset_map()` failure semantics for each pmd state.
///
/// # Errors
/// As [`run_all`].
pub fn pte_offset_map_failure<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let va = test_va(a);
    let g = a.geometry();
    let pmdp = map::pmd_alloc(&mm, va)?;
    let rcu = &m.rcu;

    // A table pmd maps, and holds RCU until unmapped.
    map::map_page(&mm, va, 0x1234, a.vm_get_page_prot(3))?;
    let table = mm.pmdp_get(pmdp)?;
    {
        let mut snap = Pmd(0);
        let mp = mm.__pte_offset_map(pmdp, va, Some(&mut snap))?;
        c.check(mp.is_some(), || "a table pmd failed to map".into());
        c.check(rcu.read_depth() == 1, || {
            format!("rcu depth {} while mapped", rcu.read_depth())
        });
        c.check(snap == table, || {
            format!("snapshot {snap:?} != pmd {table:?}")
        });
        if let Some(mp) = mp {
            let pte = mp.get()?;
            c.check(a.pte_pfn(pte) == 0x1234, || format!("mapped pte {pte:?}"));
        }
        c.check(rcu.read_depth() == 0, || {
            "pte_unmap did not drop RCU".into()
        });
    }

    // Each state that is not a page table: fail with nothing held, and
    // hand back the snapshot.
    let mut states: Vec<(&str, Pmd, Option<&str>)> = vec![("none", a.pmd_clear_val(), None)];
    if g.has_thp {
        states.push((
            "trans_huge",
            a.pmd_mkhuge(a.pfn_pmd(0x200, a.vm_get_page_prot(3))),
            None,
        ));
        if a.features().pte_devmap {
            states.push((
                "devmap",
                a.pmd_mkdevmap(a.pmd_mkhuge(a.pfn_pmd(0x200, a.vm_get_page_prot(3)))),
                None,
            ));
        }
    }
    if a.has_pmd_swap() {
        let e = swapops::make_readable_migration_entry(a, 0x200);
        states.push(("migration", a.__swp_entry_to_pmd(e), None));
    }
    let bad = bad_pmd(a, a.pmd_table_pa(table));
    if let Some(b) = bad {
        states.push(("bad", b, Some("bad_pmd")));
    } else {
        c.check(false, || {
            "no single-bit corruption of a table pmd is pmd_bad()".into()
        });
    }
    for (name, val, report) in states {
        mm.set_entry(pmdp, val.0)?;
        let before = m.reports().count("bad_pmd");
        let mut snap = Pmd(!0);
        let r = mm.__pte_offset_map(pmdp, va, Some(&mut snap))?;
        c.check(r.is_none(), || {
            format!("pte_offset_map succeeded on a {name} pmd {val:?}")
        });
        drop(r);
        c.check(rcu.read_depth() == 0, || {
            format!("RCU held after failing on a {name} pmd")
        });
        c.check(snap == val, || {
            format!("{name}: snapshot {snap:?} != {val:?}")
        });
        if let Some(kind) = report {
            c.check(m.reports().count(kind) == before + 1, || {
                format!("{name} pmd not reported")
            });
            let now = mm.pmdp_get(pmdp)?;
            c.check(a.pmd_none(now), || {
                format!("{name} pmd not cleared by pmd_clear_bad: {now:?}")
            });
        }
        c.check(mm.pte_offset_map_nolock(pmdp, va)?.is_none(), || {
            format!("pte_offset_map_nolock succeeded on a {name} pmd")
        });
        c.check(mm.pte_offset_map_lock(pmdp, va)?.is_none(), || {
            format!("pte_offset_map_lock succeeded on a {name} pmd")
        });
        c.check(rcu.read_depth() == 0, || {
            format!("RCU held after the {name} variants")
        });
    }
    // Put the table back so teardown frees it.
    mm.set_entry(pmdp, table.0)?;
    mm.mmput()?;
    expect_no_reports_but(&m, &mut c, &["bad_pmd"]);
    Ok(c.finish("pte_offset_map_failure"))
}

fn expect_no_reports_but(m: &Machine, c: &mut Checker, allowed: &[&str]) {
    let unexpected: Vec<Report> = m
        .reports()
        .all()
        .into_iter()
        .filter(|r| !allowed.contains(&r.kind()))
        .collect();
    c.check(unexpected.is_empty(), || {
        format!("unexpected reports: {unexpected:?}")
    });
}

/// Move the pte table under `pmdp` to a fresh page: the pmd changes while
/// the old table stays allocated (as after a racing retract + refault).
fn replace_table<A: Arch>(mm: &Mm<A>, pmdp: EntryPtr) -> Result<(u64, u64), MmError> {
    let a = mm.arch();
    let old = a.pmd_table_pa(mm.pmdp_get(pmdp)?);
    let new = a.pte_alloc_one(mm)?;
    let ptrs = a.geometry().level(crate::arch::Level::Pte).ptrs as u64;
    let w = mm.entry_width(crate::arch::Level::Pte) as u64;
    for i in 0..ptrs {
        let v = mm.load_entry(EntryPtr::new(old + i * w, crate::arch::Level::Pte))?;
        mm.set_pte_raw(new + i * w, Pte(v))?;
    }
    mm.set_entry(pmdp, a.pmd_populate(new).0)?;
    Ok((old, new))
}

/// `pte_offset_map_lock()` re-checks the pmd under the lock and retries.
///
/// # Errors
/// As [`run_all`].
pub fn pte_offset_map_lock_retry<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let va = test_va(a);
    map::map_page(&mm, va, 0x77, a.vm_get_page_prot(3))?;
    let pmdp = mm.find_pmd(va)?.ok_or(MmError::Config("no pmd".into()))?;

    // The pmd moves to another table between the map and the lock.
    let mut moved = None;
    let (locked, retries) = mm.pte_offset_map_lock_counted(pmdp, va, |attempt| {
        if attempt == 0 {
            moved = replace_table(&mm, pmdp).ok();
        }
    })?;
    c.check(retries == 1, || format!("{retries} retries, want 1"));
    match (locked, moved) {
        (Some(l), Some((old, new))) => {
            c.check(l.map().table_pa() == new, || {
                format!(
                    "locked table {:#x}, want the new {new:#x} (old {old:#x})",
                    l.map().table_pa()
                )
            });
            let want = mm.pte_lockptr(mm.pmdp_get(pmdp)?)?;
            c.check(std::ptr::eq(l.ptl(), want), || {
                "holds a lock other than the new table's".into()
            });
            drop(l);
            a.pte_free(&mm, old)?;
        }
        _ => c.check(false, || "the retried pte_offset_map_lock failed".into()),
    }

    // The pmd is cleared between the map and the lock: the retry fails.
    let mut cleared_table = None;
    let (locked, retries) = mm.pte_offset_map_lock_counted(pmdp, va, |attempt| {
        if attempt == 0 {
            if let Ok(p) = mm.pmdp_get(pmdp) {
                cleared_table = Some(a.pmd_table_pa(p));
                let _ = mm.set_entry(pmdp, a.pmd_clear_val().0);
            }
        }
    })?;
    c.check(locked.is_none() && retries == 1, || {
        format!(
            "after the pmd was cleared: locked={} retries={retries}",
            locked.is_some()
        )
    });
    drop(locked);
    c.check(m.rcu.read_depth() == 0, || {
        "RCU held after the failed retry".into()
    });
    if let Some(t) = cleared_table {
        mm.dec_nr_tables(crate::arch::Level::Pte);
        a.pte_free(&mm, t)?;
    }

    // The flawed form locks whatever table the snapshot named.
    map::map_page(&mm, va, 0x78, a.vm_get_page_prot(3))?;
    let mut stale = None;
    {
        let mut pmdval = Pmd(0);
        let mp = mm.__pte_offset_map(pmdp, va, Some(&mut pmdval))?;
        let moved = replace_table(&mm, pmdp)?;
        if let Some(mp) = mp {
            stale = Some((mp.table_pa(), moved));
        }
    }
    if let Some((mapped, (old, new))) = stale {
        c.check(mapped == old && mapped != new, || {
            "the snapshot did not name the detached table".into()
        });
        a.pte_free(&mm, old)?;
    }
    mm.mmput()?;
    expect_no_reports_but(&m, &mut c, &[]);
    Ok(c.finish("pte_offset_map_lock_retry"))
}

/// Retract the pte table under `pmdp` the way `retract_page_tables()` does
/// (pmd lock, pte lock, clear the pmd, account), returning the table.
///
/// # Errors
/// Lock misuse or memory errors.
pub fn detach_table<A: Arch>(mm: &Mm<A>, pmdp: EntryPtr) -> Result<u64, MmError> {
    let pml = mm.pmd_lock(pmdp)?;
    let ptl = mm.pte_lockptr(mm.pmdp_get(pmdp)?)?;
    let _ptl = if std::ptr::eq(ptl, pml.lock()) {
        None
    } else {
        Some(ptl.lock_nested()?)
    };
    crate::khugepaged::collapse_flush(mm, pmdp)
}

/// `pte_free_defer()` waits for the reader.
///
/// # Errors
/// As [`run_all`].
pub fn pte_free_defer_grace<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let va = test_va(a);
    map::map_page(&mm, va, 0x99, a.vm_get_page_prot(3))?;
    let pmdp = mm.find_pmd(va)?.ok_or(MmError::Config("no pmd".into()))?;
    let reader = mm
        .pte_offset_map(pmdp, va)?
        .ok_or(MmError::Config("no map".into()))?;
    let table = detach_table(&mm, pmdp)?;
    a.pte_free_defer(&mm, table)?;
    let pfn = table >> a.geometry().page_shift;
    let r = m.rcu.end_grace_period();
    c.check(matches!(r, Err(RcuError::ReadersActive { .. })), || {
        format!("grace period ended under a reader: {r:?}")
    });
    c.check(m.phys.is_allocated(pfn), || {
        "table freed before the grace period".into()
    });
    match reader.get() {
        Ok(p) => c.check(a.pte_pfn(p) == 0x99, || {
            format!("detached table reads {p:?}")
        }),
        Err(e) => c.check(false, || {
            format!("reader of the detached table failed: {e}")
        }),
    }
    drop(reader);
    let ran = m.rcu.end_grace_period();
    c.check(ran == Ok(1), || {
        format!("grace period after the reader left ran {ran:?}")
    });
    c.check(!m.phys.is_allocated(pfn), || {
        "table not freed after the grace period".into()
    });
    mm.mmput()?;
    c.check(mm.pgtables_bytes() == 0, || {
        format!("pgtables_bytes {}", mm.pgtables_bytes())
    });
    expect_no_reports_but(&m, &mut c, &[]);
    Ok(c.finish("pte_free_defer_grace"))
}

/// An immediate free under a reader is caught at the reader's next read.
///
/// # Errors
/// As [`run_all`].
pub fn pte_free_immediate_stale<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let va = test_va(a);
    map::map_page(&mm, va, 0x99, a.vm_get_page_prot(3))?;
    let pmdp = mm.find_pmd(va)?.ok_or(MmError::Config("no pmd".into()))?;
    let reader = mm
        .pte_offset_map(pmdp, va)?
        .ok_or(MmError::Config("no map".into()))?;
    let table = detach_table(&mm, pmdp)?;
    a.pte_free(&mm, table)?;
    let r = reader.get();
    c.check(matches!(r, Err(MmError::StaleRead { .. })), || {
        format!("read after free returned {r:?}")
    });
    c.check(m.reports().count("stale_read") == 1, || {
        format!("reports: {:?}", m.reports().all())
    });
    // Reallocated in between: still caught (the generation moved on).
    let again = a.pte_alloc_one(&mm)?;
    let r2 = reader.get();
    c.check(
        again == table && matches!(r2, Err(MmError::StaleRead { .. })),
        || format!("read after reuse returned {r2:?}"),
    );
    drop(reader);
    a.pte_free(&mm, again)?;
    mm.mmput()?;
    expect_no_reports_but(&m, &mut c, &["stale_read"]);
    Ok(c.finish("pte_free_immediate_stale"))
}

/// The rcu_head cannot be queued twice.
///
/// # Errors
/// As [`run_all`].
pub fn rcu_head_reuse<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let table = a.pte_alloc_one(&mm)?;
    a.pte_free_defer(&mm, table)?;
    let r = a.pte_free_defer(&mm, table);
    c.check(matches!(r, Err(MmError::RcuHeadInUse { .. })), || {
        format!("second pte_free_defer returned {r:?}")
    });
    c.check(m.reports().count("rcu_head_reuse") == 1, || {
        format!("reports: {:?}", m.reports().all())
    });
    m.rcu.rcu_barrier()?;
    c.check(
        !m.phys.is_allocated(table >> a.geometry().page_shift),
        || "table not freed once".into(),
    );
    mm.mmput()?;
    expect_no_reports_but(&m, &mut c, &["rcu_head_reuse"]);
    Ok(c.finish("rcu_head_reuse"))
}

/// Teardown frees every table and zeroes the accounting.
///
/// # Errors
/// As [`run_all`].
pub fn teardown_accounting<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let g = a.geometry();
    let free0 = m.phys.nr_free();
    let mut rng = Rng::new(0x7ea5);
    let pmd = g.pmd_size();
    let slots = (g.task_size() / pmd).max(1);
    let mut mapped = 0;
    for _ in 0..48 {
        let base = rng.below(slots) * pmd;
        let r = if g.has_thp && rng.below(3) == 0 {
            map::map_huge_pmd(&mm, base, 0, a.vm_get_page_prot(3))
        } else {
            let off = rng.below(pmd >> g.page_shift) << g.page_shift;
            map::map_page(
                &mm,
                base + off,
                rng.below(0x1000),
                a.vm_get_page_prot(rng.below(16) as u8),
            )
        };
        match r {
            Ok(()) => mapped += 1,
            Err(MmError::AlreadyMapped { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    c.check(mapped > 0 && mm.pgtables_bytes() > 0, || {
        format!("{mapped} mappings, pgtables_bytes {}", mm.pgtables_bytes())
    });
    mm.mmput()?;
    c.check(mm.pgtables_bytes() == 0, || {
        format!("pgtables_bytes {} after teardown", mm.pgtables_bytes())
    });
    c.check(mm.is_freed(), || "mm not freed".into());
    // The pgd may span several frames (s390's 16K region tables, arm's
    // 16K classic pgd).
    let pgd_frames = g
        .level(crate::arch::Level::Pgd)
        .table_bytes
        .div_ceil(g.page_size())
        .max(1) as usize;
    c.check(m.phys.nr_free() == free0 + pgd_frames, || {
        format!(
            "{} frames free after teardown, {} before (plus the pgd's {pgd_frames})",
            m.phys.nr_free(),
            free0
        )
    });
    expect_no_reports_but(&m, &mut c, &[]);
    Ok(c.finish("teardown_accounting"))
}

/// Torn reads of two-halves entries, and `pmdp_get_lockless()`'s retry.
///
/// # Errors
/// As [`run_all`].
pub fn pmdp_get_lockless_halves<A: Arch + Clone>(a: &A) -> Result<FamilyResult, MmError> {
    if !a.geometry().split_halves {
        return Ok(skip(
            "pmdp_get_lockless_halves",
            "entries are read atomically (no CONFIG_GUP_GET_PXX_LOW_HIGH)",
        ));
    }
    let (m, mm) = scratch(a)?;
    let mut c = Checker::new();
    let va = test_va(a);
    let pmdp = map::pmd_alloc(&mm, va)?;
    let prot = a.vm_get_page_prot(3);
    // Two huge pmds whose halves both differ.
    let x = a.pmd_mkhuge(a.pfn_pmd(0x200, prot));
    let y = a.pmd_mkhuge(a.pfn_pmd(
        (1u64 << (a.geometry().phys_bits - a.geometry().page_shift)) - 0x200,
        prot,
    ));
    c.check(
        x.0 as u32 != y.0 as u32 && (x.0 >> 32) != (y.0 >> 32),
        || format!("{x:?} and {y:?} share a half"),
    );
    mm.set_entry(pmdp, x.0)?;
    // Naive: low of x, then the writer, then high of y.
    let lo = m.phys.load_half(pmdp.pa, false)? as u64;
    mm.set_entry(pmdp, y.0)?;
    let hi = m.phys.load_half(pmdp.pa, true)? as u64;
    let torn = lo | hi << 32;
    c.check(torn != x.0 && torn != y.0, || {
        "the naive interleaving did not tear".into()
    });
    // pmdp_get_lockless under the same interleaving retries and returns y.
    mm.set_entry(pmdp, x.0)?;
    let mut writes = 0;
    let (v, retries) = mm.pmdp_get_lockless_counted(pmdp, |_| {
        if writes == 0 {
            writes += 1;
            let _ = mm.set_entry(pmdp, y.0);
        }
    })?;
    c.check(retries == 1 && v == y, || {
        format!("pmdp_get_lockless returned {v:?} after {retries} retries")
    });
    mm.set_entry(pmdp, a.pmd_clear_val().0)?;
    mm.mmput()?;
    expect_no_reports_but(&m, &mut c, &[]);
    Ok(c.finish("pmdp_get_lockless_halves"))
}
