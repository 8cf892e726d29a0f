//! Conformance family 4, "collapse": khugepaged's file/shmem scenarios on
//! one configuration, through the generic code and the arch's own
//! `pte_free_defer()` (and, for fragmenting arches, its fragment
//! bookkeeping).  Each family runs v6.4 and v6.6 and checks the data read
//! back, the huge mapping, the accounting, and that no report was made —
//! except where v6.4's immediate free is *expected* to be caught under a
//! lockless reader.

use std::sync::Arc;

use crate::arch::{Arch, Level};
use crate::family::{skip, Checker, FamilyResult};
use crate::fault::{read_user, write_user};
use crate::file::{folio_put, AddressSpace};
use crate::khugepaged::{
    collapse_pte_mapped_thp, madvise_collapse, Khugepaged, ScanResult, Version,
};
use crate::machine::{Machine, Mode};
use crate::mm::Mm;
use crate::mmap::mmap;
use crate::vma::vm;
use crate::MmError;

struct Env<A: Arch> {
    m: Arc<Machine>,
    mm: Arc<Mm<A>>,
    file: Arc<AddressSpace<A>>,
    base: u64,
    nr: u64,
    page: u64,
}

fn env<A: Arch + Clone>(a: &A) -> Result<Env<A>, MmError> {
    let g = a.geometry();
    let hsize = g.pmd_size();
    let nr = hsize >> g.page_shift;
    let m = Machine::new(g, 3 * hsize + 2048 * g.page_size(), Mode::Deterministic)?;
    let mm = Mm::new(Arc::new(a.clone()), m.clone())?;
    let file = AddressSpace::new(m.clone(), "shm", true, nr);
    let base = (g.task_size() / 4) / hsize * hsize;
    mmap(
        &mm,
        base,
        hsize,
        Some(file.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED | vm::HUGEPAGE,
    )?;
    Ok(Env {
        m,
        mm,
        file,
        base,
        nr,
        page: g.page_size(),
    })
}

fn pattern(i: u64) -> [u8; 8] {
    (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).to_le_bytes()
}

fn pages(nr: u64) -> impl Iterator<Item = u64> {
    let step = (nr / 16).max(1);
    (0..nr).step_by(step as usize)
}

fn fill<A: Arch>(e: &Env<A>) -> Result<(), MmError> {
    for i in pages(e.nr) {
        write_user(&e.mm, e.base + i * e.page, &pattern(i))?;
    }
    Ok(())
}

fn intact<A: Arch>(e: &Env<A>, c: &mut Checker) -> Result<(), MmError> {
    for i in pages(e.nr) {
        let got = read_user(&e.mm, e.base + i * e.page, 8)?;
        c.check(got == pattern(i), || {
            format!("page {i}: read {got:x?}, wrote {:x?}", pattern(i))
        });
    }
    Ok(())
}

fn huge<A: Arch>(e: &Env<A>) -> Result<bool, MmError> {
    Ok(match e.mm.find_pmd(e.base)? {
        Some(p) => e.mm.arch().pmd_trans_huge(e.mm.pmdp_get(p)?),
        None => false,
    })
}

fn finish<A: Arch>(e: Env<A>, c: &mut Checker, allowed: &[&str]) -> Result<(), MmError> {
    let Env { m, mm, file, .. } = e;
    mm.mmput()?;
    m.rcu.rcu_barrier()?;
    m.wq.flush_work();
    c.check(mm.pgtables_bytes() == 0, || {
        format!("pgtables_bytes {} after teardown", mm.pgtables_bytes())
    });
    for f in file.drain() {
        folio_put(&m, &f)?;
    }
    let bad: Vec<String> = m
        .reports()
        .all()
        .into_iter()
        .filter(|r| !allowed.contains(&r.kind()))
        .map(|r| r.to_string())
        .collect();
    c.check(bad.is_empty(), || format!("reports: {bad:?}"));
    let free = m.phys.nr_free() as u64;
    c.check(free == m.phys.nr_frames() - 1, || {
        format!("{} frames leaked", m.phys.nr_frames() - 1 - free)
    });
    Ok(())
}

/// Every collapse family.
///
/// # Errors
/// [`MmError`] when a scenario cannot be set up.
pub fn run_all<A: Arch + Clone>(a: &A) -> Result<Vec<FamilyResult>, MmError> {
    let g = a.geometry();
    let names = [
        "collapse_full",
        "collapse_empty",
        "collapse_khugepaged_then_fault",
        "collapse_retracted_install",
        "collapse_reader_vs_free",
    ];
    if !g.has_thp {
        return Ok(names
            .iter()
            .map(|n| skip(n, "no transparent huge pages: CONFIG_TRANSPARENT_HUGEPAGE"))
            .collect());
    }
    if g.level(Level::Pmd).is_folded() && g.nr_levels() < 2 {
        return Ok(names.iter().map(|n| skip(n, "no pmd level")).collect());
    }
    let mut out = Vec::new();
    for (name, f) in [
        (
            names[0],
            full as fn(&A, Version, &mut Checker) -> Result<(), MmError>,
        ),
        (names[1], empty),
        (names[2], khugepaged_then_fault),
        (names[3], retracted_install),
        (names[4], reader_vs_free),
    ] {
        let mut c = Checker::new();
        for v in [Version::V6_4, Version::V6_6] {
            if let Err(e) = f(a, v, &mut c) {
                c.check(false, || format!("{v:?}: {e}"));
            }
        }
        out.push(c.finish(name));
    }
    crate::family::apply_expected(&mut out, a.expected_failures());
    Ok(out)
}

fn full<A: Arch + Clone>(a: &A, v: Version, c: &mut Checker) -> Result<(), MmError> {
    let e = env(a)?;
    fill(&e)?;
    let r = madvise_collapse(&e.mm, e.base, e.base + a.geometry().pmd_size(), v)?;
    c.check(r.first().map(|x| x.1) == Some(ScanResult::Succeed), || {
        format!("{v:?}: MADV_COLLAPSE gave {r:?}")
    });
    c.check(huge(&e)?, || {
        format!("{v:?}: not PMD-mapped after MADV_COLLAPSE")
    });
    intact(&e, c)?;
    finish(e, c, &[])
}

fn empty<A: Arch + Clone>(a: &A, v: Version, c: &mut Checker) -> Result<(), MmError> {
    let e = env(a)?;
    let r = madvise_collapse(&e.mm, e.base, e.base + a.geometry().pmd_size(), v)?;
    c.check(r.first().map(|x| x.1) == Some(ScanResult::Fail), || {
        format!("{v:?}: empty range gave {r:?}")
    });
    c.check(!huge(&e)?, || {
        format!("{v:?}: an empty range was collapsed")
    });
    finish(e, c, &[])
}

fn khugepaged_then_fault<A: Arch + Clone>(
    a: &A,
    v: Version,
    c: &mut Checker,
) -> Result<(), MmError> {
    let e = env(a)?;
    fill(&e)?;
    let k = Khugepaged::new(a, v);
    k.enter(&e.mm);
    let r = k.scan()?;
    c.check(r.first().map(|x| x.1) == Some(ScanResult::Succeed), || {
        format!("{v:?}: khugepaged gave {r:?}")
    });
    intact(&e, c)?;
    c.check(huge(&e)?, || {
        format!("{v:?}: the fault after khugepaged did not map the huge folio")
    });
    finish(e, c, &[])
}

fn retracted_install<A: Arch + Clone>(a: &A, v: Version, c: &mut Checker) -> Result<(), MmError> {
    let e = env(a)?;
    fill(&e)?;
    let k = Khugepaged::new(a, Version::V6_6);
    k.enter(&e.mm);
    k.scan()?;
    let r = {
        let _l = e.mm.mmap_lock.read()?;
        collapse_pte_mapped_thp(&e.mm, e.base, true, v)?
    };
    c.check(r == ScanResult::Succeed, || {
        format!("{v:?}: collapse after retract gave {r:?}")
    });
    c.check(huge(&e)?, || format!("{v:?}: not PMD-mapped"));
    intact(&e, c)?;
    finish(e, c, &[])
}

fn reader_vs_free<A: Arch + Clone>(a: &A, v: Version, c: &mut Checker) -> Result<(), MmError> {
    let e = env(a)?;
    fill(&e)?;
    let pmdp =
        e.mm.find_pmd(e.base)?
            .ok_or(MmError::Config("no pmd".into()))?;
    let reader =
        e.mm.pte_offset_map(pmdp, e.base)?
            .ok_or(MmError::Config("no table".into()))?;
    madvise_collapse(&e.mm, e.base, e.base + a.geometry().pmd_size(), v)?;
    let read = reader.get();
    match v {
        Version::V6_6 => c.check(
            matches!(&read, Ok(p) if a.pte_none(*p)),
            || format!("v6.6: the reader of the retracted table read {read:?}, want an empty but valid table"),
        ),
        Version::V6_4 => c.check(
            matches!(read, Err(MmError::StaleRead { .. })),
            || format!("v6.4: the immediate free under a reader was not caught: {read:?}"),
        ),
    }
    drop(reader);
    let allowed: &[&str] = match v {
        Version::V6_4 => &["stale_read"],
        Version::V6_6 => &[],
    };
    finish(e, c, allowed)
}
