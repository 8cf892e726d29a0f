//! Levels per mm (v6.6 `crst_table_upgrade()`), empty upper entries, and
//! the pmd lock of a 16K segment table.
//!
//! * An `s390x` mm starts with a region-third ASCE (3 levels, 4 TiB); an
//!   `mmap()` above the limit upgrades it to a region-second (8 PiB) and
//!   then a region-first top (`TASK_SIZE_MAX`).  At every step the model
//!   and Unicorn's DAT (CR1 = the mm's current ASCE) agree, old mappings
//!   still translate, the new top's first entry points at the old top with
//!   the right table type and length, and `pgd_offset_raw()`'s
//!   self-describing shift finds the same entries as the model's walk.
//! * Lockless walkers on real threads racing the upgrades never see a
//!   torn shape; a torn root (new table, old type) is shown to fault.
//! * After munmap and teardown every cleared entry holds s390's empty value
//!   (`_SEGMENT_ENTRY_EMPTY`, `_REGION{3,2,1}_ENTRY_EMPTY`), and a zero
//!   there is caught.
//! * `pmd_lockptr()`: pmds in different 4K quarters of one segment table
//!   share the lock of the table's first page.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arch_s390::emulate::S390Walker;
use arch_s390::entry::{
    _ASCE_ORIGIN, _REGION1_ENTRY, _REGION1_ENTRY_EMPTY, _REGION2_ENTRY, _REGION2_ENTRY_EMPTY,
    _REGION3_ENTRY_EMPTY, _SEGMENT_ENTRY_EMPTY,
};
use arch_s390::S390;
use mm_core::emulate::{Access, HwOutcome, HwWalker};
use mm_core::machine::Mode;
use mm_core::mm::Top;
use mm_core::vma::vm;
use mm_core::walkcheck::{probe, Kind};
use mm_core::{map, mmap, Arch, Machine, Mm, MmError, P4d, Pgd, Pmd, Pud};

const TIB4: u64 = 1 << 42; // _REGION2_SIZE
const PIB8: u64 = 1 << 53; // _REGION1_SIZE

fn setup(name: &str, mib: u64) -> (S390, Arc<Machine>, Arc<Mm<S390>>, S390Walker) {
    let a = S390::from_name(name).unwrap();
    let m = Machine::new(a.geometry(), mib << 20, Mode::Deterministic).unwrap();
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
    let hw = S390Walker::new(a.clone(), m.clone()).unwrap();
    (a, m, mm, hw)
}

/// mmap one page at `va` (the mmap path upgrades when needed) and map a
/// newly allocated frame there (the mapping owns its reference, which
/// munmap and exit put), shared read-write; returns the frame's address.
fn mmap_and_map(a: &S390, mm: &Arc<Mm<S390>>, va: u64) -> u64 {
    mmap::mmap(mm, va, 4096, None, 0, vm::READ | vm::WRITE | vm::SHARED).unwrap();
    let pfn = mm.phys().alloc_page().unwrap();
    map::map_page(mm, va, pfn, a.vm_get_page_prot(0xb)).unwrap();
    pfn << 12
}

/// Every `(va, pa)` translates to `pa` in the model (fast path and vtop)
/// and under Unicorn's DAT with the mm's current root; an unmapped
/// neighbour faults in both.
fn check_all(mm: &Mm<S390>, hw: &mut S390Walker, expect: &[(u64, u64)], step: &str) {
    for &(va, pa) in expect {
        assert_eq!(
            mm.translate(va + 0x18).unwrap().map(|t| t.0),
            Some(pa + 0x18),
            "{step}: model translate of {va:#x}"
        );
        assert_eq!(
            hw.translate(mm.hw_root(), va + 0x18, Access::Read).unwrap(),
            HwOutcome::Translated { pa: pa + 0x18 },
            "{step}: DAT of {va:#x} with ASCE {:#x}",
            hw.asce(mm.hw_root())
        );
        for (v, kind) in [(va + 0x18, Kind::Page), (va - 0x1000, Kind::Unmapped)] {
            let p = probe(mm, hw, v, kind).unwrap();
            assert!(p.agree, "{step}: {v:#x}: {p:?}");
        }
    }
}

/// `pgd_offset_raw()` (shift from the first top entry's type) and the
/// model's `pgd_offset()` pick the same entry, and the type-folding walk
/// down to the pmd (`pmd_offset_raw()`) finds the model's pmd.
fn check_self_describing(a: &S390, mm: &Mm<S390>, vas: &[u64]) {
    let top = mm.top();
    for &va in vas {
        assert_eq!(
            a.pgd_offset_raw(mm, top.pa, va).unwrap(),
            mm.pgd_offset_in(top, va).pa,
            "shape {}: {va:#x}",
            top.shape
        );
        assert_eq!(
            a.pmd_offset_raw(mm, top.pa, va).unwrap(),
            mm.find_pmd(va).unwrap().map(|p| p.pa),
            "shape {}: pmd of {va:#x}",
            top.shape
        );
    }
}

#[test]
fn upgrade_3_to_4_to_5_levels_agrees_with_dat_at_every_step() {
    let (a, m, mm, mut hw) = setup("s390x", 16);
    assert_eq!(a.shapes().len(), 3);
    let t0 = mm.top();
    assert_eq!(t0.shape, 0);
    assert_eq!(mm.task_size(), TIB4);
    assert_eq!(a.context_asce(&mm) & 0x0c, 0x04, "region-third ASCE");
    let vas = [
        0x1000_0000u64,
        TIB4 + 0x5000,
        PIB8 + 0x7000,
        u64::MAX - 0x1fff,
    ];

    // Below 4 TiB: no upgrade.
    let mut expect = vec![];
    for va in [0x1000_0000u64, 0x80_0000_0000, TIB4 - 0x1000] {
        expect.push((va, mmap_and_map(&a, &mm, va)));
    }
    assert_eq!(mm.top(), t0, "no upgrade below the limit");
    // Above the limit the map API refuses (no vma, no upgrade).
    assert!(matches!(
        map::map_page(&mm, TIB4, 0x300, a.vm_get_page_prot(0xb)),
        Err(MmError::BadVa { limit, .. }) if limit == TIB4
    ));
    check_all(&mm, &mut hw, &expect, "3 levels");
    check_self_describing(&a, &mm, &vas[..1]);
    let mapped: Vec<u64> = expect.iter().map(|e| e.0).collect();
    check_self_describing(&a, &mm, &mapped);

    // Above 4 TiB: region-second top.
    let bytes = mm.pgtables_bytes();
    for va in [TIB4, 0x1234_5678_9000, PIB8 - 0x1000] {
        expect.push((va, mmap_and_map(&a, &mm, va)));
    }
    let t1 = mm.top();
    assert_eq!(t1.shape, 1);
    assert_ne!(t1.pa, t0.pa);
    assert_eq!(mm.task_size(), PIB8);
    assert_eq!(
        m.phys.load(t1.pa, 8).unwrap(),
        t0.pa | _REGION2_ENTRY,
        "first R2 entry -> old R3 top"
    );
    let asce = a.context_asce(&mm);
    assert_eq!((asce & 0x0c, asce & _ASCE_ORIGIN), (0x08, t1.pa));
    // The old top is now a pud table: mm_inc_nr_puds(), plus the new
    // tables of the three mappings (one pud, and per mapping a pmd and a
    // pte table).
    assert!(mm.pgtables_bytes() > bytes + 16384);
    check_all(&mm, &mut hw, &expect, "4 levels");
    check_self_describing(&a, &mm, &vas[..3]);
    let mapped: Vec<u64> = expect.iter().map(|e| e.0).collect();
    check_self_describing(&a, &mm, &mapped);

    // A torn root (the new table with the old type, or the old table with
    // the new type) does not walk: the DAT checks every entry's type.
    let old_va = expect[0].0 + 0x18;
    for torn in [
        Top {
            pa: t1.pa,
            shape: 0,
        },
        Top {
            pa: t0.pa,
            shape: 1,
        },
    ] {
        let r = hw.translate(torn.word(), old_va, Access::Read).unwrap();
        assert!(r.pa().is_none(), "torn root {torn:?}: {r:?}");
    }

    // Above 8 PiB: region-first top.
    for va in [PIB8, 0x8000_0000_0000_0000, u64::MAX - 0x1fff] {
        expect.push((va, mmap_and_map(&a, &mm, va)));
    }
    let t2 = mm.top();
    assert_eq!(t2.shape, 2);
    assert_eq!(mm.task_size(), u64::MAX - 0xfff, "TASK_SIZE_MAX");
    assert_eq!(m.phys.load(t2.pa, 8).unwrap(), t1.pa | _REGION1_ENTRY);
    assert_eq!(a.context_asce(&mm) & 0x0f, 0x0c | 0x03);
    check_all(&mm, &mut hw, &expect, "5 levels");
    check_self_describing(&a, &mm, &vas);
    let mapped: Vec<u64> = expect.iter().map(|e| e.0).collect();
    check_self_describing(&a, &mm, &mapped);

    // Beyond TASK_SIZE_MAX: refused.
    assert!(matches!(
        mmap::mmap(&mm, u64::MAX - 0xfff, 4096, None, 0, vm::READ),
        Err(MmError::BadVa { .. })
    ));
    mm.mmput().unwrap();
    m.rcu.rcu_barrier().unwrap();
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

#[test]
fn upgrade_needs_mmap_lock_for_write_and_a_created_4level_mm_grows_to_5() {
    let (a, m, mm, mut hw) = setup("s390x-4level", 16);
    assert!(matches!(mm.upgrade(PIB8 + 1), Err(MmError::Lock(_))));
    {
        let _r = mm.mmap_lock.read().unwrap();
        assert!(matches!(mm.upgrade(PIB8 + 1), Err(MmError::Lock(_))));
    }
    {
        let _w = mm.mmap_lock.write().unwrap();
        assert!(!mm.upgrade(PIB8).unwrap(), "8 PiB fits 4 levels");
    }
    let t0 = mm.top();
    assert_eq!((t0.shape, mm.task_size()), (0, PIB8));
    let mut expect = vec![];
    for va in [TIB4 * 3, PIB8 * 5] {
        expect.push((va, mmap_and_map(&a, &mm, va)));
    }
    let t1 = mm.top();
    assert_eq!(t1.shape, 1);
    assert_eq!(m.phys.load(t1.pa, 8).unwrap(), t0.pa | _REGION1_ENTRY);
    check_all(&mm, &mut hw, &expect, "4 -> 5 levels");
    mm.mmput().unwrap();
    m.rcu.rcu_barrier().unwrap();
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

/// Lockless walkers (`Mm::translate`, as GUP-fast or the MMU walks) on two
/// real threads, while the main thread upgrades the mm 3 -> 4 -> 5 levels
/// through mmap: every walk of an old mapping finds it, and the top word a
/// walker reads always describes its own table (the first entry's type
/// matches the shape), as `pgd_offset_raw()` relies on.
#[test]
fn lockless_walkers_racing_upgrades_never_see_a_torn_shape() {
    let a = S390::from_name("s390x").unwrap();
    let mut seen = [0u64; 3];
    for round in 0..12u64 {
        let m = Machine::new(a.geometry(), 16 << 20, Mode::Deterministic).unwrap();
        let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
        let prot = a.vm_get_page_prot(0xb);
        // 48 pages over several region-third entries and segments.
        let expect: Vec<(u64, u64)> = (0..48u64)
            .map(|i| {
                let va = (i % 6) << 33 | (i % 5) << 24 | i << 12;
                let pfn = 0x300 + i;
                map::map_page(&mm, va, pfn, prot).unwrap();
                (va, pfn << 12)
            })
            .collect();
        let stop = AtomicBool::new(false);
        let walks: [AtomicU64; 3] = Default::default();
        std::thread::scope(|s| {
            for t in 0..2 {
                let (mm, m, a, expect, stop, walks) = (&mm, &m, &a, &expect, &stop, &walks);
                s.spawn(move || {
                    let mut i = t;
                    while !stop.load(Ordering::Acquire) {
                        let (va, pa) = expect[i % expect.len()];
                        i += 1;
                        let got = mm.translate(va + 8).unwrap().map(|x| x.0);
                        assert_eq!(got, Some(pa + 8), "round {round}: {va:#x}");
                        let top = mm.top();
                        let rste = m.phys.load(top.pa, 8).unwrap();
                        let levels = ((rste & 0x0c) >> 2) as u32 + 2;
                        assert_eq!(
                            levels,
                            a.shape_levels(top.shape),
                            "round {round}: top {top:?} first entry {rste:#x}"
                        );
                        assert_eq!(
                            a.pgd_offset_raw(mm, top.pa, va).unwrap(),
                            mm.pgd_offset_in(top, va).pa
                        );
                        assert!(a.pmd_offset_raw(mm, top.pa, va).unwrap().is_some());
                        walks[top.shape].fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            let wait = |shape: usize| {
                let deadline = Instant::now() + Duration::from_secs(30);
                while walks[shape].load(Ordering::Relaxed) < 500 {
                    assert!(
                        Instant::now() < deadline,
                        "walkers stalled in shape {shape}"
                    );
                    std::thread::yield_now();
                }
            };
            wait(0);
            mmap::mmap(&mm, TIB4 + (round << 30), 4096, None, 0, vm::READ).unwrap();
            wait(1);
            mmap::mmap(&mm, PIB8 + (round << 40), 4096, None, 0, vm::READ).unwrap();
            wait(2);
            stop.store(true, Ordering::Release);
        });
        assert_eq!(mm.top().shape, 2);
        for (s, w) in walks.iter().enumerate() {
            seen[s] += w.load(Ordering::Relaxed);
        }
        mm.mmput().unwrap();
        m.rcu.rcu_barrier().unwrap();
        assert!(m.reports().is_empty(), "{:?}", m.reports().all());
    }
    assert!(
        seen.iter().all(|&n| n >= 12 * 500),
        "walks per shape {seen:?}"
    );
}

/// The 2048 entries of the table at `pa`.
fn entries(m: &Machine, pa: u64) -> Vec<u64> {
    (0..2048)
        .map(|i| m.phys.load(pa + i * 8, 8).unwrap())
        .collect()
}

#[test]
fn cleared_entries_hold_the_empty_values_after_munmap_and_teardown() {
    for (name, upgrade_to, top_empty) in [
        ("s390x", None, _REGION3_ENTRY_EMPTY),
        ("s390x", Some(TIB4), _REGION2_ENTRY_EMPTY),
        ("s390x", Some(PIB8), _REGION1_ENTRY_EMPTY),
        ("s390x-pgste", Some(PIB8), _REGION1_ENTRY_EMPTY),
        ("s390x-5level", None, _REGION1_ENTRY_EMPTY),
    ] {
        let (a, m, mm, _hw) = setup(name, 16);
        let seg = 1u64 << 20;
        // A 1M vma over one segment, with pages in it: munmap frees its
        // page table and clears the segment entry.
        mmap::mmap(&mm, 5 * seg, seg, None, 0, vm::READ | vm::WRITE).unwrap();
        for i in 0..4 {
            let pfn = m.phys.alloc_page().unwrap();
            map::map_page(&mm, 5 * seg + i * 0x3000, pfn, a.vm_get_page_prot(3)).unwrap();
        }
        mmap_and_map(&a, &mm, 9 * seg);
        if let Some(va) = upgrade_to {
            mmap_and_map(&a, &mm, va + 7 * seg);
        }
        let pmdp = mm.find_pmd(5 * seg).unwrap().unwrap();
        let st = mm.pmd_table_base(pmdp.pa);
        mmap::munmap(&mm, 5 * seg, seg).unwrap();
        m.rcu.rcu_barrier().unwrap();
        let e = entries(&m, st);
        assert_eq!(
            e[5], _SEGMENT_ENTRY_EMPTY,
            "{name}: the cleared segment entry"
        );
        assert_eq!(
            e[9] & _SEGMENT_ENTRY_EMPTY,
            0,
            "{name}: the other one stays"
        );
        assert!(
            e.iter()
                .enumerate()
                .all(|(i, &v)| i == 9 || v == _SEGMENT_ENTRY_EMPTY),
            "{name}: segment table {:x?}",
            &e[..12]
        );
        // Teardown: keep the structure (and its top table) to look at it.
        let top = mm.top();
        mm.mmgrab();
        mm.mmput().unwrap();
        m.rcu.rcu_barrier().unwrap();
        let e = entries(&m, top.pa);
        assert!(
            e.iter().all(|&v| v == top_empty),
            "{name} {upgrade_to:?}: top table after teardown {:x?}",
            e.iter()
                .filter(|&&v| v != top_empty)
                .take(4)
                .collect::<Vec<_>>()
        );
        mm.mmdrop().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
    }
}

/// Why the empty values matter: a zero where an empty entry belongs is
/// not none to Linux's helpers, changes `pgd_offset_raw()`'s shift, and
/// makes the model and the DAT disagree.
#[test]
fn a_zero_where_an_empty_entry_belongs_is_caught() {
    let a = S390::from_name("s390x").unwrap();
    assert!(a.pmd_none(a.pmd_clear_val()) && !a.pmd_none(Pmd(0)));
    assert!(a.pud_none(a.pud_clear_val()) && !a.pud_none(Pud(0)));
    assert!(a.p4d_none(a.p4d_clear_val()) && !a.p4d_none(P4d(0)));
    assert!(a.pgd_none(a.pgd_clear_val()) && !a.pgd_none(Pgd(0)));
    assert_eq!(
        (
            a.pud_clear_val().0,
            a.p4d_clear_val().0,
            a.pgd_clear_val().0
        ),
        (
            _REGION3_ENTRY_EMPTY,
            _REGION2_ENTRY_EMPTY,
            _REGION1_ENTRY_EMPTY
        )
    );

    let (a, m, mm, mut hw) = setup("s390x", 16);
    map::map_page(&mm, 0x1000_0000, 0x500, a.vm_get_page_prot(3)).unwrap();
    let top = mm.top();
    // Region-third entry 1 (2 GiB .. 4 GiB) is empty: both fault.
    let va = (1u64 << 31) + 0x4000;
    let p = probe(&mm, &mut hw, va, Kind::Unmapped).unwrap();
    assert!(p.agree && p.read.pa().is_none(), "{p:?}");
    // The same entry cleared with 0, as a generic teardown would.
    m.phys.store(top.pa + 8, 8, 0).unwrap();
    let p = probe(&mm, &mut hw, va, Kind::Unmapped).unwrap();
    assert!(!p.agree, "a zero region-third entry must be caught: {p:?}");
    // A zero first entry makes pgd_offset_raw() index with the segment
    // shift (20) instead of the region-third one (31).
    let first = m.phys.load(top.pa, 8).unwrap();
    m.phys.store(top.pa, 8, 0).unwrap();
    let far = (5u64 << 31) + (3 << 20);
    assert_ne!(
        a.pgd_offset_raw(&mm, top.pa, far).unwrap(),
        mm.pgd_offset_in(top, far).pa
    );
    // Put things back: the teardown is then clean.
    m.phys.store(top.pa, 8, first).unwrap();
    m.phys.store(top.pa + 8, 8, _REGION3_ENTRY_EMPTY).unwrap();
    mm.mmput().unwrap();
    m.rcu.rcu_barrier().unwrap();
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

/// `pmd_lockptr()` = the lock of `pmd_ptdesc(pmd)`: the page of the pmd
/// *table* (`pmd_pgtable_page()` aligns the entry pointer down to
/// `PTRS_PER_PMD * sizeof(pmd_t)` = 16K), so pmds in different 4K quarters
/// of one segment table take one lock; another segment table has its own.
#[test]
fn pmds_in_different_quarters_of_a_segment_table_share_one_lock() {
    let (a, m, mm, _hw) = setup("s390x", 16);
    let prot = a.vm_get_page_prot(3);
    // Segment indexes 1, 600, 1100, 2000 of region-third entry 0: byte
    // offsets 8, 4800, 8800, 16000 in the 16K table, one per 4K frame.
    let vas: Vec<u64> = [1u64, 600, 1100, 2000].iter().map(|s| s << 20).collect();
    for (i, &va) in vas.iter().enumerate() {
        map::map_page(&mm, va, 0x600 + i as u64, prot).unwrap();
    }
    let pmds: Vec<_> = vas
        .iter()
        .map(|&va| mm.find_pmd(va).unwrap().unwrap())
        .collect();
    let base = mm.pmd_table_base(pmds[0].pa);
    assert_eq!(base % 16384, 0);
    let frames: Vec<u64> = pmds.iter().map(|p| p.pa >> 12).collect();
    assert_eq!(
        frames,
        (0..4).map(|q| (base >> 12) + q).collect::<Vec<_>>(),
        "one pmd per 4K quarter"
    );
    let head = &m.phys.page_of(base).unwrap().ptl;
    for p in &pmds {
        assert_eq!(mm.pmd_table_base(p.pa), base);
        assert!(std::ptr::eq(mm.pmd_lockptr(*p).unwrap(), head), "{p:?}");
    }
    // The rule the kernel does not use (the frame of the entry) would give
    // four different locks.
    let frame_lock = |pa: u64| &m.phys.page_of(pa).unwrap().ptl as *const _;
    assert_ne!(frame_lock(pmds[0].pa), frame_lock(pmds[1].pa));
    // Holding the lock of one quarter, locking another is a self-deadlock.
    let g = mm.pmd_lock(pmds[0]).unwrap();
    assert!(matches!(mm.pmd_lock(pmds[3]), Err(MmError::Lock(_))));
    drop(g);
    // A pmd of another segment table (region-third entry 1) has its own.
    map::map_page(&mm, 3 << 30, 0x610, prot).unwrap();
    let other = mm.find_pmd(3 << 30).unwrap().unwrap();
    assert_ne!(mm.pmd_table_base(other.pa), base);
    let l = mm.pmd_lockptr(other).unwrap();
    assert!(!std::ptr::eq(l, head));
    let _g0 = mm.pmd_lock(pmds[0]).unwrap();
    let _g1 = mm.pmd_lock(other).unwrap();
}
