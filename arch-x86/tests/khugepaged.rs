//! khugepaged and MADV_COLLAPSE on shmem and files, in both versions (v6.4
//! and v6.6) and both contexts (khugepaged and madvise): Linux's selftest
//! scenarios that apply to file and shmem, plus the protocol differences.

use std::sync::Arc;
use std::time::Duration;

use arch_x86::X86;
use mm_core::file::AddressSpace;
use mm_core::khugepaged::{
    collapse_pte_mapped_thp, madvise_collapse, Khugepaged, ScanResult, Version,
};
use mm_core::machine::Mode;
use mm_core::mm::Rss;
use mm_core::vma::vm;
use mm_core::{fault, mmap, Arch, Machine, Mm, MmError};

const NR: u64 = 512;
const HSIZE: u64 = 2 << 20;
const BASE: u64 = 0x4000_0000;

struct Env {
    m: Arc<Machine>,
    mm: Arc<Mm<X86>>,
    file: Arc<AddressSpace<X86>>,
}

fn env(cfg: &str, shmem: bool) -> Env {
    let a = X86::from_name(cfg).unwrap();
    let m = Machine::new(a.geometry(), 48 << 20, Mode::Deterministic).unwrap();
    let mm = Mm::new(Arc::new(a), m.clone()).unwrap();
    let file = AddressSpace::new(m.clone(), "f", shmem, 4 * NR);
    mmap::mmap(
        &mm,
        BASE,
        4 * HSIZE,
        Some(file.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED | vm::HUGEPAGE,
    )
    .unwrap();
    Env { m, mm, file }
}

fn pattern(page: u64) -> Vec<u8> {
    (0..16)
        .map(|i| (page as u8).wrapping_mul(31).wrapping_add(i))
        .collect()
}

/// Write a pattern into `pages` of the first PMD range.
fn fill(e: &Env, pages: impl Iterator<Item = u64>) {
    for p in pages {
        fault::write_user(&e.mm, BASE + p * 4096 + 8, &pattern(p)).unwrap();
    }
}

fn check(e: &Env, pages: impl Iterator<Item = u64>) {
    for p in pages {
        let got = fault::read_user(&e.mm, BASE + p * 4096 + 8, 16).unwrap();
        assert_eq!(got, pattern(p), "page {p}");
    }
}

fn pmd_huge(e: &Env, mm: &Mm<X86>, addr: u64) -> bool {
    let _ = e;
    match mm.find_pmd(addr).unwrap() {
        Some(p) => mm.arch().pmd_trans_huge(mm.pmdp_get(p).unwrap()),
        None => false,
    }
}

fn teardown(e: Env) {
    let Env { m, mm, file } = e;
    mm.mmput().unwrap();
    m.rcu.rcu_barrier().unwrap();
    assert_eq!(mm.pgtables_bytes(), 0, "page tables leaked");
    for f in file.drain() {
        mm_core::file::folio_put(&m, &f).unwrap();
    }
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
    // Every frame back but frame 0 (reserved).
    assert_eq!(
        m.phys.nr_free() as u64,
        m.phys.nr_frames() - 1,
        "frames leaked"
    );
}

#[test]
fn madvise_collapse_full_range_maps_a_huge_pmd_and_keeps_the_data() {
    for cfg in ["x86_64", "x86-pae"] {
        for version in [Version::V6_4, Version::V6_6] {
            for shmem in [true, false] {
                let e = env(cfg, shmem);
                fill(&e, 0..NR);
                let tables = e.mm.pgtables_bytes();
                let r = madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
                assert_eq!(r, vec![(BASE, ScanResult::Succeed)], "{cfg} {version:?}");
                assert!(pmd_huge(&e, &e.mm, BASE));
                assert!(
                    e.mm.pgtables_bytes() < tables,
                    "the pte table was not retracted"
                );
                let kind = if shmem { Rss::Shmem } else { Rss::File };
                assert_eq!(e.mm.rss(kind), NR as i64);
                check(&e, 0..NR);
                e.m.rcu.rcu_barrier().unwrap();
                teardown(e);
            }
        }
    }
}

#[test]
fn collapse_empty_range_does_not_collapse() {
    for version in [Version::V6_4, Version::V6_6] {
        let e = env("x86_64", true);
        let r = madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
        assert_eq!(r[0].1, ScanResult::Fail);
        assert!(!pmd_huge(&e, &e.mm, BASE));
        assert!(e.file.find_folio(0).is_none());
        teardown(e);
    }
}

#[test]
fn single_pte_collapses_in_both_contexts() {
    for version in [Version::V6_4, Version::V6_6] {
        // madvise ignores max_ptes_none.
        let e = env("x86_64", true);
        fill(&e, 5..6);
        let r = madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
        assert_eq!(r[0].1, ScanResult::Succeed);
        check(&e, 5..6);
        // The holes read as zeroes.
        assert_eq!(
            fault::read_user(&e.mm, BASE + 7 * 4096, 8).unwrap(),
            vec![0; 8]
        );
        teardown(e);
        // khugepaged: 511 none ptes is within the default max_ptes_none.
        let e = env("x86_64", true);
        fill(&e, 5..6);
        let k = Khugepaged::new(e.mm.arch(), version);
        k.enter(&e.mm);
        let r = k.scan().unwrap();
        assert_eq!(r[0], (BASE, ScanResult::Succeed), "{version:?}");
        // khugepaged does not install the pmd: the next fault maps it.
        check(&e, 5..6);
        assert!(pmd_huge(&e, &e.mm, BASE), "{version:?}");
        e.m.rcu.rcu_barrier().unwrap();
        teardown(e);
    }
}

#[test]
fn max_ptes_none_is_enforced_by_khugepaged_only() {
    for version in [Version::V6_4, Version::V6_6] {
        let e = env("x86_64", true);
        let mut k = Khugepaged::new(e.mm.arch(), version);
        k.cc.max_ptes_none = NR / 2;
        k.enter(&e.mm);
        fill(&e, 0..NR / 2 - 1); // NR/2 + 1 none: one too many
        assert_eq!(k.scan().unwrap()[0].1, ScanResult::ExceedNonePte);
        assert!(!pmd_huge(&e, &e.mm, BASE));
        fill(&e, NR / 2 - 1..NR / 2); // exactly NR/2 none: allowed
        assert_eq!(k.scan().unwrap()[0].1, ScanResult::Succeed);
        check(&e, 0..NR / 2);
        teardown(e);
    }
}

#[test]
fn recollapsing_an_existing_huge_pmd_is_pmd_mapped() {
    for version in [Version::V6_4, Version::V6_6] {
        let e = env("x86_64", true);
        fill(&e, 0..NR);
        madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
        assert!(pmd_huge(&e, &e.mm, BASE));
        let r = madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
        assert_eq!(r[0].1, ScanResult::PmdMapped, "{version:?}");
        check(&e, 0..NR);
        teardown(e);
    }
}

#[test]
fn collapse_after_the_tables_were_retracted_installs_the_pmd() {
    // madvise_retracted_page_tables: khugepaged collapsed the file and
    // retracted the table; MADV_COLLAPSE then finds SCAN_PMD_NONE and
    // installs the huge pmd.
    let e = env("x86_64", true);
    fill(&e, 0..NR);
    let k = Khugepaged::new(e.mm.arch(), Version::V6_6);
    k.enter(&e.mm);
    assert_eq!(k.scan().unwrap()[0].1, ScanResult::Succeed);
    let pmdp = e.mm.find_pmd(BASE).unwrap().unwrap();
    assert!(
        e.mm.arch().pmd_none(e.mm.pmdp_get(pmdp).unwrap()),
        "table not retracted"
    );
    let r = {
        let _r = e.mm.mmap_lock.read().unwrap();
        collapse_pte_mapped_thp(&e.mm, BASE, true, Version::V6_6).unwrap()
    };
    assert_eq!(r, ScanResult::Succeed);
    assert!(pmd_huge(&e, &e.mm, BASE));
    check(&e, 0..NR);
    e.m.rcu.rcu_barrier().unwrap();
    teardown(e);
}

#[test]
fn retract_reaches_every_mm_that_maps_the_file() {
    // collapse_fork-like: a second mm maps the same shmem; collapsing in the
    // first retracts the second's table too (v6.6: no mmap_lock needed).
    let e = env("x86_64", true);
    let mm2 = Mm::new(Arc::new(e.mm.arch().clone()), e.m.clone()).unwrap();
    mmap::mmap(
        &mm2,
        BASE,
        HSIZE,
        Some(e.file.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED,
    )
    .unwrap();
    fill(&e, 0..NR);
    for p in 0..4 {
        assert_eq!(
            fault::read_user(&mm2, BASE + p * 4096 + 8, 16).unwrap(),
            pattern(p)
        );
    }
    let before = mm2.pgtables_bytes();
    madvise_collapse(&e.mm, BASE, BASE + HSIZE, Version::V6_6).unwrap();
    assert!(
        mm2.pgtables_bytes() < before,
        "mm2's table was not retracted"
    );
    assert_eq!(mm2.rss(Rss::Shmem), 0);
    // mm2's next fault maps the huge folio by pmd.
    assert_eq!(
        fault::read_user(&mm2, BASE + 9 * 4096 + 8, 16).unwrap(),
        pattern(9)
    );
    assert!(mm2
        .arch()
        .pmd_trans_huge(mm2.pmdp_get(mm2.find_pmd(BASE).unwrap().unwrap()).unwrap()));
    mm2.mmput().unwrap();
    teardown(e);
}

#[test]
fn v6_4_defers_when_another_mm_holds_its_mmap_lock_and_v6_6_does_not() {
    for version in [Version::V6_4, Version::V6_6] {
        let e = env("x86_64", true);
        let mm2 = Mm::new(Arc::new(e.mm.arch().clone()), e.m.clone()).unwrap();
        mmap::mmap(
            &mm2,
            BASE,
            HSIZE,
            Some(e.file.clone()),
            0,
            vm::READ | vm::WRITE | vm::SHARED | vm::HUGEPAGE,
        )
        .unwrap();
        fill(&e, 0..NR);
        fault::read_user(&mm2, BASE, 8).unwrap();
        let k = Khugepaged::new(e.mm.arch(), version);
        k.enter(&e.mm);
        k.enter(&mm2);
        let before = mm2.pgtables_bytes();
        {
            // Another thread of mm2 is in a page fault: mmap_lock held for read.
            let held = mm2.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let t = std::thread::spawn(move || {
                let _r = held.mmap_lock.read().unwrap();
                tx.send(()).unwrap();
                done_rx.recv().unwrap();
            });
            rx.recv().unwrap();
            let r = madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
            assert_eq!(r[0].1, ScanResult::Succeed);
            match version {
                Version::V6_4 => assert_eq!(
                    mm2.pgtables_bytes(),
                    before,
                    "v6.4 retracted without mmap_lock"
                ),
                Version::V6_6 => assert!(mm2.pgtables_bytes() < before, "v6.6 needed mmap_lock"),
            }
            done_tx.send(()).unwrap();
            t.join().unwrap();
        }
        mm2.mmput().unwrap();
        e.m.rcu.rcu_barrier().unwrap();
        teardown(e);
    }
}

#[test]
fn a_lockless_reader_keeps_the_retracted_table_alive_only_in_v6_6() {
    for version in [Version::V6_4, Version::V6_6] {
        let e = env("x86_64", true);
        fill(&e, 0..NR);
        let pmdp = e.mm.find_pmd(BASE).unwrap().unwrap();
        let reader = e.mm.pte_offset_map(pmdp, BASE).unwrap().unwrap();
        let r = madvise_collapse(&e.mm, BASE, BASE + HSIZE, version).unwrap();
        assert_eq!(r[0].1, ScanResult::Succeed);
        let read = reader.get();
        match version {
            // pte_free_defer: still a valid (empty, detached) table.
            Version::V6_6 => {
                let pte = read.unwrap();
                assert!(
                    e.mm.arch().pte_none(pte),
                    "the retracted table is not empty: {pte:?}"
                );
                assert!(e.m.reports().is_empty());
            }
            // v6.4 freed it at once (it relied on mmap_lock write and the
            // IPI, which an RCU reader does not wait for): use-after-free.
            Version::V6_4 => {
                assert!(matches!(read, Err(MmError::StaleRead { .. })), "{read:?}");
                assert_eq!(e.m.reports().count("stale_read"), 1);
                e.m.reports().take();
            }
        }
        drop(reader);
        e.m.rcu.rcu_barrier().unwrap();
        teardown(e);
    }
}

#[test]
fn private_written_and_uffd_wp_vmas_keep_their_tables() {
    let e = env("x86_64", true);
    // A private mapping that was written (has an anon_vma) and a uffd-wp one.
    let mm2 = Mm::new(Arc::new(e.mm.arch().clone()), e.m.clone()).unwrap();
    let private = mmap::mmap(
        &mm2,
        BASE,
        HSIZE,
        Some(e.file.clone()),
        0,
        vm::READ | vm::WRITE,
    )
    .unwrap();
    let mm3 = Mm::new(Arc::new(e.mm.arch().clone()), e.m.clone()).unwrap();
    let wp = mmap::mmap(
        &mm3,
        BASE,
        HSIZE,
        Some(e.file.clone()),
        0,
        vm::READ | vm::WRITE | vm::SHARED,
    )
    .unwrap();
    wp.set_flags(vm::UFFD_WP, 0);
    fill(&e, 0..NR);
    fault::write_user(&mm2, BASE + 3 * 4096, b"cow").unwrap();
    assert!(private.anon_vma());
    fault::read_user(&mm3, BASE, 8).unwrap();
    let (b2, b3) = (mm2.pgtables_bytes(), mm3.pgtables_bytes());
    madvise_collapse(&e.mm, BASE, BASE + HSIZE, Version::V6_6).unwrap();
    assert_eq!(
        mm2.pgtables_bytes(),
        b2,
        "retracted an anon_vma vma's table"
    );
    assert_eq!(mm3.pgtables_bytes(), b3, "retracted a uffd-wp vma's table");
    assert_eq!(fault::read_user(&mm2, BASE + 3 * 4096, 3).unwrap(), b"cow");
    {
        let _r = mm3.mmap_lock.read().unwrap();
        assert_eq!(
            collapse_pte_mapped_thp(&mm3, BASE, true, Version::V6_6).unwrap(),
            ScanResult::PteUffdWp
        );
    }
    mm2.mmput().unwrap();
    mm3.mmput().unwrap();
    teardown(e);
}

#[test]
fn mremap_racing_retract_makes_a_bogus_pmd_only_without_the_recheck() {
    use mm_core::khugepaged::{collapse_file, CollapseControl};
    use mm_core::mremap::{mremap, MovePmd, Moved};
    const NEW: u64 = 0x8000_0000;
    for form in [MovePmd::Unchecked, MovePmd::Rechecked] {
        let a = X86::from_name("x86_64").unwrap();
        let m = Machine::new(a.geometry(), 48 << 20, Mode::Deterministic).unwrap();
        let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
        let file = AddressSpace::new(m.clone(), "shm", true, NR);
        mmap::mmap(
            &mm,
            BASE,
            HSIZE,
            Some(file.clone()),
            0,
            vm::READ | vm::WRITE | vm::SHARED,
        )
        .unwrap();
        for p in [0, 1, 100] {
            fault::write_user(&mm, BASE + p * 4096, &pattern(p)).unwrap();
        }
        let file2 = file.clone();
        let moved = mremap(&mm, BASE, HSIZE, NEW, form, |_| {
            // khugepaged collapses the file meanwhile: v6.6 retract needs
            // no mmap_lock, so it runs although mremap holds it for write.
            let cc = CollapseControl::khugepaged(NR);
            let (r, _) = collapse_file(&file2, &a, 0, &cc, Version::V6_6).unwrap();
            assert_eq!(r, ScanResult::Succeed);
        })
        .unwrap();
        let bogus = m.reports().all();
        match form {
            MovePmd::Unchecked => {
                assert_eq!(moved[0].1, Moved::Table);
                assert_eq!(bogus.len(), 1, "{bogus:?}");
                assert!(
                    bogus[0].to_string().contains("not a page table"),
                    "{bogus:?}"
                );
                // The new pmd points at physical page 0.
                let p = mm.find_pmd(NEW).unwrap().unwrap();
                assert_eq!(a.pmd_table_pa(mm.pmdp_get(p).unwrap()), 0);
                // Clear the bogus pmd by hand so that teardown does not free
                // frame 0 (the kernel would have used it as a page table).
                mm.set_entry(p, 0).unwrap();
                mm.inc_nr_tables(mm_core::Level::Pte);
                mm.dec_nr_tables(mm_core::Level::Pte);
                m.reports().take();
            }
            MovePmd::Rechecked => {
                assert_eq!(moved[0].1, Moved::Ptes);
                assert!(bogus.is_empty(), "{bogus:?}");
                for p in [0, 1, 100] {
                    assert_eq!(
                        fault::read_user(&mm, NEW + p * 4096, 16).unwrap(),
                        pattern(p)
                    );
                }
            }
        }
        mm.mmput().unwrap();
        m.rcu.rcu_barrier().unwrap();
        assert_eq!(mm.pgtables_bytes(), 0);
        for f in file.drain() {
            mm_core::file::folio_put(&m, &f).unwrap();
        }
        assert!(m.reports().is_empty(), "{form:?}: {:?}", m.reports().all());
    }
}

#[test]
fn latency_scenario_collapses_every_range_in_both_versions() {
    use mm_core::collapse_latency::{run, LatencyParams};
    let a = X86::from_name("x86_64").unwrap();
    let p = LatencyParams {
        ranges: 4,
        faulters: 2,
        pages_per_faulter: 16,
    };
    for v in [Version::V6_4, Version::V6_6] {
        let r = run(&a, v, p).unwrap();
        // Counts only: timings belong to `ptlab bench latency`.
        assert_eq!(r.collapses, 4, "{v:?}");
        assert_eq!(r.pmd_mapped, 4, "{v:?}");
        assert!(r.faults > 0, "{v:?}: the faulting threads never ran");
        assert!(r.p50_ns <= r.p99_ns && r.p99_ns <= r.p999_ns && r.p999_ns <= r.max_ns);
    }
}

#[test]
fn the_khugepaged_thread_collapses_full_and_forked_ranges_and_leaves_empty_ones() {
    // collapse_full, collapse_empty and collapse_fork in the khugepaged
    // context, with the real thread running while the tests fault.
    for version in [Version::V6_4, Version::V6_6] {
        let e = env("x86_64", true);
        let mm2 = Mm::new(Arc::new(e.mm.arch().clone()), e.m.clone()).unwrap();
        mmap::mmap(
            &mm2,
            BASE,
            2 * HSIZE,
            Some(e.file.clone()),
            0,
            vm::READ | vm::WRITE | vm::SHARED | vm::HUGEPAGE,
        )
        .unwrap();
        fill(&e, 0..NR); // range 0 full; range 1 stays empty
        fault::read_user(&mm2, BASE + 8, 16).unwrap();
        let k = Arc::new(Khugepaged::new(e.mm.arch(), version));
        k.enter(&e.mm);
        k.enter(&mm2);
        let t = k.start(Duration::from_millis(1));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let collapsed = |mm: &Mm<X86>| {
            pmd_huge(&e, mm, BASE)
                || mm
                    .find_pmd(BASE)
                    .unwrap()
                    .is_some_and(|p| mm.arch().pmd_none(mm.pmdp_get(p).unwrap()))
        };
        while !(collapsed(&e.mm) && collapsed(&mm2)) {
            assert!(
                std::time::Instant::now() < deadline,
                "{version:?}: khugepaged did not collapse"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(t.stop().unwrap() > 0);
        assert_eq!(e.file.find_folio(0).unwrap().order, 9, "{version:?}");
        assert!(
            e.file.find_folio(NR).is_none(),
            "{version:?}: the empty range was collapsed"
        );
        check(&e, 0..NR);
        assert_eq!(fault::read_user(&mm2, BASE + 8, 16).unwrap(), pattern(0));
        mm2.mmput().unwrap();
        e.m.rcu.rcu_barrier().unwrap();
        teardown(e);
    }
}
