//! The v6.6 2K-half allocator (`arch/s390/mm/pgalloc.c`) and both forms of
//! `pte_free_defer()`: allocation order, frees and deferred frees in the
//! same and in different grace periods, exit with frees pending, the
//! accounting back to zero, no page freed while a half or a callback still
//! refers to it, and the v1 flaws the model must report.

use std::sync::Arc;

use arch_s390::alloc::{half_mask, page_table_free_rcu, PTE_TABLE_BYTES};
use arch_s390::entry::_PAGE_INVALID;
use arch_s390::S390;
use mm_core::event::Event;
use mm_core::machine::Mode;
use mm_core::page::pg;
use mm_core::{map, Arch, Machine, Mm};

fn setup(name: &str, variant: &str) -> (S390, Arc<Machine>, Arc<Mm<S390>>) {
    let a = S390::with_variant(name, variant).expect("configuration");
    let m = Machine::new(a.geometry(), 1024 * 4096, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).expect("mm");
    (a, m, mm)
}

fn mask(m: &Machine, table: u64) -> u32 {
    half_mask(m.phys.page(table >> 12).expect("page"))
}

fn kinds(m: &Machine) -> Vec<&'static str> {
    m.reports().all().iter().map(|r| r.kind()).collect()
}

#[test]
fn allocation_order_and_the_half_free_list() {
    let (a, m, mm) = setup("s390x", "merged");
    let free0 = m.phys.nr_free();
    let t0 = a.pte_alloc_one(&mm).unwrap();
    // A fresh page: half 0 returned, the page on pgtable_list, AA = 0x01,
    // and both halves filled with _PAGE_INVALID.
    assert_eq!(t0 & 0xfff, 0);
    assert_eq!(mask(&m, t0), 0x01);
    assert_eq!(m.phys.page(t0 >> 12).unwrap().ref_count(), 1 | 0x01 << 24);
    assert_eq!(mm.context.pgtable_list(), vec![t0 >> 12]);
    for i in 0..512 {
        assert_eq!(m.phys.load(t0 + i * 8, 8).unwrap(), _PAGE_INVALID);
    }
    // The second table is the other half of the same page, which leaves
    // the list.
    let t1 = a.pte_alloc_one(&mm).unwrap();
    assert_eq!(t1, t0 + PTE_TABLE_BYTES);
    assert_eq!(mask(&m, t0), 0x03);
    assert!(mm.context.pgtable_list().is_empty());
    assert!(!m
        .phys
        .page(t0 >> 12)
        .unwrap()
        .on_list
        .load(std::sync::atomic::Ordering::Acquire));
    // The third needs a new page.
    let t2 = a.pte_alloc_one(&mm).unwrap();
    assert_eq!(t2 & 0xfff, 0);
    assert_ne!(t2 >> 12, t0 >> 12);
    assert_eq!(m.phys.nr_free(), free0 - 2);

    // Freeing half 0 while half 1 is allocated: the page goes to the head
    // of the list (AA 0x02, PP cleared again), and is reused first.
    a.pte_free(&mm, t0).unwrap();
    assert_eq!(mask(&m, t0), 0x02);
    assert_eq!(mm.context.pgtable_list(), vec![t0 >> 12, t2 >> 12]);
    assert_eq!(a.pte_alloc_one(&mm).unwrap(), t0);
    // Free everything: pages go back only when both halves are free.
    a.pte_free(&mm, t0).unwrap();
    assert!(m.phys.is_allocated(t0 >> 12));
    a.pte_free(&mm, t1).unwrap();
    assert!(!m.phys.is_allocated(t0 >> 12));
    a.pte_free(&mm, t2).unwrap();
    assert_eq!(m.phys.nr_free(), free0);
    assert!(mm.context.pgtable_list().is_empty());
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

#[test]
fn double_free_of_a_half_is_reported_not_corrupting() {
    let (a, m, mm) = setup("s390x", "merged");
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    a.pte_free(&mm, t1).unwrap();
    assert!(a.pte_free(&mm, t1).is_err());
    assert_eq!(kinds(&m), vec!["invariant"]);
    assert_eq!(mask(&m, t0), 0x01);
    a.pte_free(&mm, t0).unwrap();
    assert!(!m.phys.is_allocated(t0 >> 12));
}

#[test]
fn merged_both_halves_deferred_in_one_grace_period() {
    let (a, m, mm) = setup("s390x", "merged");
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    let pfn = t0 >> 12;
    let page = m.phys.page(pfn).unwrap();
    a.pte_free_defer(&mm, t0).unwrap();
    // Half 0 is free at once but the page is Active and off the list: no
    // reuse of half 0 before the grace period.
    assert_eq!(mask(&m, t0), 0x02);
    assert!(page.test(pg::ACTIVE));
    assert!(mm.context.pgtable_list().is_empty());
    let t2 = a.pte_alloc_one(&mm).unwrap();
    assert_ne!(t2 >> 12, pfn, "half 0 of an Active page was reused");
    a.pte_free_defer(&mm, t1).unwrap();
    // Both halves free: one call_rcu, Active cleared, page still there.
    assert_eq!(mask(&m, t0), 0);
    assert!(!page.test(pg::ACTIVE));
    assert!(page.rcu_queued.load(std::sync::atomic::Ordering::Acquire));
    assert!(m.phys.is_allocated(pfn));
    assert_eq!(m.rcu.end_grace_period(), Ok(1));
    assert!(!m.phys.is_allocated(pfn));
    a.pte_free(&mm, t2).unwrap();
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

#[test]
fn merged_halves_deferred_in_different_grace_periods() {
    let (a, m, mm) = setup("s390x", "merged");
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    let pfn = t0 >> 12;
    a.pte_free_defer(&mm, t0).unwrap();
    // Nothing is queued while half 1 is in use: a grace period runs no
    // callback, and the page stays (half 1 lives on it).
    assert_eq!(m.rcu.end_grace_period(), Ok(0));
    assert!(m.phys.is_allocated(pfn));
    assert_eq!(m.phys.load(t1, 8).unwrap(), _PAGE_INVALID);
    // The second half is deferred in a later grace period.
    a.pte_free_defer(&mm, t1).unwrap();
    assert!(m.phys.is_allocated(pfn));
    assert_eq!(m.rcu.end_grace_period(), Ok(1));
    assert!(!m.phys.is_allocated(pfn));
    // One half deferred, the other freed immediately: still via RCU.
    let u0 = a.pte_alloc_one(&mm).unwrap();
    let u1 = a.pte_alloc_one(&mm).unwrap();
    a.pte_free_defer(&mm, u1).unwrap();
    a.pte_free(&mm, u0).unwrap();
    assert!(
        m.phys.is_allocated(u0 >> 12),
        "freed before the grace period"
    );
    assert_eq!(m.rcu.end_grace_period(), Ok(1));
    assert!(!m.phys.is_allocated(u0 >> 12));
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

#[test]
fn exit_with_deferred_frees_pending_frees_everything_after_the_grace_period() {
    for variant in ["merged", "v1"] {
        let (a, m, mm) = setup("s390x", variant);
        let free0 = m.phys.nr_free();
        let g = a.geometry().clone();
        let prot = a.vm_get_page_prot(3);
        // Two tables on one page (adjacent 1M segments), a third on another.
        for i in 0..3u64 {
            map::map_page(&mm, 0x4000_0000 + i * g.pmd_size(), 0x100 + i, prot).unwrap();
        }
        assert_eq!(mm.pgtables_bytes(), 3 * 2048 + 16384);
        let pmdp = mm.find_pmd(0x4000_0000).unwrap().unwrap();
        let t = mm_core::lifecycle::detach_table(&mm, pmdp).unwrap();
        a.pte_free_defer(&mm, t).unwrap();
        mm.mmput().unwrap();
        assert_eq!(mm.pgtables_bytes(), 0, "{variant}");
        // The page of the deferred half is still allocated: its callback
        // (merged: queued at exit when the other half went) is pending.
        assert!(m.phys.is_allocated(t >> 12), "{variant}: freed before RCU");
        m.rcu.rcu_barrier().unwrap();
        m.wq.flush_work();
        assert!(mm.is_freed(), "{variant}: mm not freed");
        assert_eq!(
            m.phys.nr_free(),
            free0 + 4,
            "{variant}: frames leaked (the pgd's 4 come back too)"
        );
        // v1's callback ran after the exit freed the other half: the page was
        // put on pgtable_list by that free while its rcu_head was queued.
        if variant == "v1" {
            assert!(
                kinds(&m).contains(&"rcu_head_overlays_list"),
                "{:?}",
                kinds(&m)
            );
        } else {
            assert!(m.reports().is_empty(), "{:?}", m.reports().all());
        }
    }
}

#[test]
fn page_table_free_rcu_encodes_the_half_and_frees_after_the_gather() {
    let (a, m, mm) = setup("s390x", "merged");
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    let e1 = page_table_free_rcu(&a, &mm, t1).unwrap();
    assert_eq!(e1, t1 | 0x02, "half 1 is kind 2");
    // AA cleared, PP set until __tlb_remove_table; the page went to the
    // list *tail* (other half allocated) -- but half 1 is pending, so it
    // cannot be handed out.
    assert_eq!(mask(&m, t0), 0x21);
    let t2 = a.pte_alloc_one(&mm).unwrap();
    assert_ne!(t2 >> 12, t0 >> 12, "a pending half was reused");
    let e0 = page_table_free_rcu(&a, &mm, t0).unwrap();
    assert_eq!(e0, t0 | 0x01, "half 0 is kind 1");
    assert_eq!(mask(&m, t0), 0x30);
    assert!(m.phys.is_allocated(t0 >> 12));
    assert_eq!(m.rcu.end_grace_period(), Ok(2));
    assert!(!m.phys.is_allocated(t0 >> 12));
    a.pte_free(&mm, t2).unwrap();
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());

    // pgste tables: kind 3, both AA bits at once.
    let (a, m, mm) = setup("s390x-pgste", "merged");
    let t = a.pte_alloc_one(&mm).unwrap();
    assert_eq!(mask(&m, t), 0x03);
    assert!(mm.context.pgtable_list().is_empty());
    assert_eq!(page_table_free_rcu(&a, &mm, t).unwrap(), t | 0x03);
    assert_eq!(m.rcu.end_grace_period(), Ok(1));
    assert!(!m.phys.is_allocated(t >> 12));
}

#[test]
fn pgste_tables_take_a_whole_page() {
    let (a, m, mm) = setup("s390x-pgste", "merged");
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    assert_ne!(t0 >> 12, t1 >> 12);
    for i in 0..256 {
        assert_eq!(m.phys.load(t0 + i * 8, 8).unwrap(), _PAGE_INVALID);
        assert_eq!(a.pgste_get(&mm, t0 + i * 8).unwrap(), 0);
    }
    a.pgste_set(&mm, t0 + 8, arch_s390::entry::PGSTE_GR_BIT)
        .unwrap();
    assert_eq!(
        m.phys.load(t0 + 8 + 2048, 8).unwrap(),
        arch_s390::entry::PGSTE_GR_BIT
    );
    a.pte_free(&mm, t0).unwrap();
    assert!(!m.phys.is_allocated(t0 >> 12));
    a.pte_free_defer(&mm, t1).unwrap();
    assert!(m.phys.is_allocated(t1 >> 12));
    assert_eq!(m.rcu.end_grace_period(), Ok(1));
    assert!(!m.phys.is_allocated(t1 >> 12));
    let (s, _, smm) = setup("s390x", "merged");
    assert!(s.pgste_get(&smm, 0x1000).is_err());
    assert!(m.reports().is_empty(), "{:?}", m.reports().all());
}

/// v1: both halves deferred reuse the page's one rcu_head.  Merged: clean.
#[test]
fn v1_both_halves_deferred_reuse_the_rcu_head_merged_does_not() {
    for variant in ["v1", "merged"] {
        let (a, m, mm) = setup("s390x", variant);
        let t0 = a.pte_alloc_one(&mm).unwrap();
        let t1 = a.pte_alloc_one(&mm).unwrap();
        a.pte_free_defer(&mm, t0).unwrap();
        a.pte_free_defer(&mm, t1).unwrap();
        m.rcu.rcu_barrier().unwrap();
        m.wq.flush_work();
        if variant == "v1" {
            assert_eq!(kinds(&m), vec!["rcu_head_reuse"]);
            // The one callback freed the half the page word named last
            // (half 1); half 0 and the page leak.
            assert_eq!(mask(&m, t0), 0x01);
            assert!(m.phys.is_allocated(t0 >> 12));
        } else {
            assert!(m.reports().is_empty(), "{:?}", m.reports().all());
            assert!(!m.phys.is_allocated(t0 >> 12));
        }
    }
}

/// v1: the rcu_head overlays the list link of a half-free page on
/// `pgtable_list`.  Merged: the page never goes on the list.
#[test]
fn v1_rcu_head_overlays_the_pgtable_list_link_merged_does_not() {
    for variant in ["v1", "merged"] {
        let (a, m, mm) = setup("s390x", variant);
        let t0 = a.pte_alloc_one(&mm).unwrap(); // page on the list, half 1 free
        a.pte_free_defer(&mm, t0).unwrap();
        m.rcu.rcu_barrier().unwrap();
        m.wq.flush_work();
        if variant == "v1" {
            assert_eq!(kinds(&m), vec!["rcu_head_overlays_list"]);
        } else {
            assert!(m.reports().is_empty(), "{:?}", m.reports().all());
        }
        assert!(!m.phys.is_allocated(t0 >> 12), "{variant}");
        assert!(mm.context.pgtable_list().is_empty(), "{variant}");
    }
}

/// v1 must drop its mm reference with `mmdrop_async()`: a plain `mmdrop()`
/// of the last reference in the RCU callback runs `__mmdrop()` in softirq
/// context.  v1 proper runs the same sequence clean.
#[test]
fn v1_mmdrop_in_the_callback_is_reported_mmdrop_async_is_not() {
    for variant in ["v1-mmdrop", "v1"] {
        let (a, m, mm) = setup("s390x", variant);
        m.events().enable(true);
        let t0 = a.pte_alloc_one(&mm).unwrap();
        let _t1 = a.pte_alloc_one(&mm).unwrap(); // page off the list
        a.pte_free_defer(&mm, t0).unwrap();
        assert_eq!(mm.mm_count(), 2, "mmgrab");
        // The mm exits before the grace period: the callback holds the
        // last reference.
        mm.mmput().unwrap();
        assert!(
            !mm.is_freed(),
            "{variant}: the mm must outlive the callback"
        );
        m.rcu.rcu_barrier().unwrap();
        if variant == "v1-mmdrop" {
            assert_eq!(kinds(&m), vec!["mmdrop_in_rcu_callback"]);
            assert!(mm.is_freed());
        } else {
            assert!(
                !mm.is_freed(),
                "mmdrop_async defers __mmdrop to the workqueue"
            );
            m.wq.flush_work();
            assert!(mm.is_freed());
            assert!(m.reports().is_empty(), "{:?}", m.reports().all());
            assert!(m.events().all().iter().any(|e| matches!(
                e,
                Event::MmDropped { how, .. } if how.contains("workqueue")
            )));
        }
        // The callback freed half 0; half 1 (never mapped) is still held.
        assert_eq!(mask(&m, t0), 0x02, "{variant}");
    }
}

#[test]
fn events_name_the_fragment_and_the_deferral() {
    let (a, m, mm) = setup("s390x", "merged");
    m.events().enable(true);
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    a.pte_free_defer(&mm, t0).unwrap();
    a.pte_free_defer(&mm, t1).unwrap();
    m.rcu.rcu_barrier().unwrap();
    let ev = m.events().all();
    let pfn = t0 >> 12;
    assert!(ev.contains(&Event::TableAlloc {
        level: "pte",
        pa: t0,
        fragment: Some((pfn, 0))
    }));
    assert!(ev.contains(&Event::TableAlloc {
        level: "pte",
        pa: t1,
        fragment: Some((pfn, 1))
    }));
    let order: Vec<&str> = ev.iter().map(|e| e.kind()).collect();
    let first_cb = order.iter().position(|k| *k == "callback_ran").unwrap();
    let freed = order.iter().position(|k| *k == "page_freed").unwrap();
    assert!(order[..first_cb].contains(&"deferred"));
    assert!(
        freed > first_cb,
        "page freed before its callback: {order:?}"
    );
}

/// A freed half goes back on the list while its page lives on: a reader
/// still holding a pointer into it must be caught (the per-page generation
/// cannot see it), the other half's reader must not, and the half handed
/// out again is a new table to the old pointer.  The deferred free keeps
/// the half's pointer valid until its grace period ends.
#[test]
fn a_reader_left_in_a_freed_half_is_caught() {
    let (a, m, mm) = setup("s390x", "merged");
    let t0 = a.pte_alloc_one(&mm).unwrap();
    let t1 = a.pte_alloc_one(&mm).unwrap();
    let (g0, g1) = (m.phys.table_gen(t0).unwrap(), m.phys.table_gen(t1).unwrap());
    a.pte_free(&mm, t0).unwrap();
    let e = m.phys.check_table(t0 + 8, g0).unwrap_err();
    assert!(e.to_string().contains("fragment freed"), "{e}");
    m.phys.check_table(t1 + 8, g1).unwrap();
    // page_table_alloc() hands the same half out again: still stale.
    let again = a.pte_alloc_one(&mm).unwrap();
    assert_eq!(again, t0);
    assert!(m.phys.check_table(t0, g0).is_err());
    m.phys
        .check_table(t0, m.phys.table_gen(t0).unwrap())
        .unwrap();
    // Through the mmu_gather (RCU) path the pointer stays valid until the
    // callback has run.
    let g = m.phys.table_gen(t1).unwrap();
    let encoded = page_table_free_rcu(&a, &mm, t1).unwrap();
    assert_eq!(encoded & !3, t1);
    m.phys.check_table(t1, g).unwrap();
    m.rcu.synchronize_rcu().unwrap();
    m.rcu.rcu_barrier().unwrap();
    let e = m.phys.check_table(t1, g).unwrap_err();
    assert!(e.to_string().contains("fragment freed"), "{e}");
}
