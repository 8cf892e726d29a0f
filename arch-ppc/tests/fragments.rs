//! powerpc pte fragments and the three forms of `pte_free_defer()`:
//! allocation order, frees and deferred frees in one and in different grace
//! periods, exit while frees are pending, accounting back to zero, and no
//! page freed while a fragment or a callback still refers to it.  The flawed
//! forms are run and their bugs detected (v1: a reused rcu_head;
//! merged-before-fix: a Bad page at exit); the fixed forms run clean.

use std::sync::Arc;

use arch_ppc::{Ppc, Variant};
use mm_core::event::Event;
use mm_core::lifecycle::detach_table;
use mm_core::machine::{Machine, Mode};
use mm_core::page::pg;
use mm_core::{map, Arch, Mm, MmError};

const FRAGMENTED: [&str; 2] = ["ppc64-radix-64k", "ppc64-hash-64k"];

fn setup(name: &str, v: Variant) -> (Arc<Machine>, Arc<Mm<Ppc>>, Ppc) {
    let a = Ppc::from_name(name).unwrap().with_variant(v);
    let g = a.geometry().clone();
    let m = Machine::new(&g, 256 * g.page_size(), Mode::Deterministic).unwrap();
    m.events().enable(true);
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
    (m, mm, a)
}

fn page_of(a: &Ppc, pa: u64) -> u64 {
    pa >> a.layout().page_shift
}

fn refcount(m: &Machine, pa: u64) -> u32 {
    m.phys
        .page_of(pa)
        .unwrap()
        .pt_frag_refcount
        .load(std::sync::atomic::Ordering::Acquire)
}

/// Hand out a whole page of fragments.
fn alloc_page_of_fragments(mm: &Mm<Ppc>, a: &Ppc) -> Vec<u64> {
    (0..a.pte_frag_nr())
        .map(|_| a.pte_alloc_one(mm).unwrap())
        .collect()
}

#[test]
fn fragment_geometry_matches_the_headers() {
    let r64 = Ppc::from_name("ppc64-radix-64k").unwrap();
    assert_eq!((r64.pte_frag_nr(), r64.pmd_frag_nr()), (256, 16));
    let h64 = Ppc::from_name("ppc64-hash-64k").unwrap();
    assert_eq!((h64.pte_frag_nr(), h64.pmd_frag_nr()), (16, 4));
    let r4 = Ppc::from_name("ppc64-radix-4k").unwrap();
    assert_eq!((r4.pte_frag_nr(), r4.pmd_frag_nr()), (1, 1));
    let h4 = Ppc::from_name("ppc64-hash-4k").unwrap();
    assert_eq!((h4.pte_frag_nr(), h4.pmd_frag_nr()), (1, 4));
}

#[test]
fn allocation_order_and_cursor() {
    for name in FRAGMENTED {
        let (m, mm, a) = setup(name, Variant::Merged);
        let size = 1u64 << a.layout().pte_frag_size_shift;
        let nr = a.pte_frag_nr();
        let t = alloc_page_of_fragments(&mm, &a);
        for (i, pa) in t.iter().enumerate() {
            assert_eq!(
                *pa,
                t[0] + i as u64 * size,
                "{name}: fragment {i} out of order"
            );
            assert_eq!(a.pte_fragment_of(*pa), (page_of(&a, t[0]), i as u64));
        }
        assert_eq!(t[0] & ((1 << a.layout().page_shift) - 1), 0);
        // All NR counted up front; the page is used up, so no cursor.
        assert_eq!(refcount(&m, t[0]), nr as u32);
        assert_eq!(mm.context.pte_frag(), None);
        // The next one starts a new page, whose cursor is its second fragment.
        let next = a.pte_alloc_one(&mm).unwrap();
        assert_ne!(page_of(&a, next), page_of(&a, t[0]));
        assert_eq!(mm.context.pte_frag(), Some(next + size));
        // Events carry (page, index).
        let frags: Vec<_> = m
            .events()
            .all()
            .into_iter()
            .filter_map(|e| match e {
                Event::TableAlloc {
                    level: "pte",
                    fragment,
                    ..
                } => fragment,
                _ => None,
            })
            .collect();
        assert_eq!(frags.len() as u64, nr + 1);
        assert_eq!(frags[1], (page_of(&a, t[0]), 1));
        assert_eq!(frags[nr as usize], (page_of(&a, next), 0));
        for pa in t.into_iter().chain([next]) {
            a.pte_free(&mm, pa).unwrap();
        }
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
    }
}

#[test]
fn plain_frees_free_the_page_with_the_last_fragment_only() {
    for name in FRAGMENTED {
        let (m, mm, a) = setup(name, Variant::Merged);
        let t = alloc_page_of_fragments(&mm, &a);
        let pfn = page_of(&a, t[0]);
        for (i, pa) in t.iter().enumerate().rev() {
            assert!(
                m.phys.is_allocated(pfn),
                "{name}: page gone with {} left",
                i + 1
            );
            a.pte_free(&mm, *pa).unwrap();
        }
        assert!(
            !m.phys.is_allocated(pfn),
            "{name}: page kept after its last fragment"
        );
        // A freed fragment is never handed out again.
        let again = a.pte_alloc_one(&mm).unwrap();
        a.pte_free(&mm, again).unwrap();
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
    }
}

#[test]
fn merged_two_deferred_fragments_in_one_grace_period_cost_one_callback() {
    for name in FRAGMENTED {
        let (m, mm, a) = setup(name, Variant::Merged);
        let t = alloc_page_of_fragments(&mm, &a);
        let pfn = page_of(&a, t[0]);
        a.pte_free_defer(&mm, t[0]).unwrap();
        a.pte_free_defer(&mm, t[1]).unwrap();
        assert!(m.phys.page(pfn).unwrap().test(pg::ACTIVE));
        assert_eq!(
            m.rcu.pending_callbacks(),
            0,
            "{name}: no callback until the last fragment"
        );
        for pa in &t[2..] {
            a.pte_free(&mm, *pa).unwrap();
        }
        // The last fragment's plain free saw PageActive: one callback.
        assert_eq!(m.rcu.pending_callbacks(), 1);
        assert!(
            m.phys.is_allocated(pfn),
            "{name}: freed before the grace period"
        );
        assert!(!m.phys.page(pfn).unwrap().test(pg::ACTIVE));
        assert_eq!(m.rcu.end_grace_period(), Ok(1));
        assert!(
            !m.phys.is_allocated(pfn),
            "{name}: not freed after the grace period"
        );
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
    }
}

#[test]
fn merged_deferrals_in_different_grace_periods() {
    for name in FRAGMENTED {
        let (m, mm, a) = setup(name, Variant::Merged);
        let t = alloc_page_of_fragments(&mm, &a);
        let pfn = page_of(&a, t[0]);
        let last = t.len() - 1;
        for (i, pa) in t.iter().enumerate() {
            a.pte_free_defer(&mm, *pa).unwrap();
            // One grace period per deferral: nothing runs until the last.
            let ran = m.rcu.end_grace_period().unwrap();
            assert_eq!(ran, usize::from(i == last), "{name}: deferral {i}");
            assert_eq!(m.phys.is_allocated(pfn), i != last, "{name}: deferral {i}");
        }
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
    }
}

#[test]
fn v1_two_fragments_of_one_page_in_one_grace_period_reuse_the_rcu_head() {
    for name in FRAGMENTED {
        // Flawed form: detected.
        let (m, mm, a) = setup(name, Variant::V1);
        let t = alloc_page_of_fragments(&mm, &a);
        a.pte_free_defer(&mm, t[0]).unwrap();
        let r = a.pte_free_defer(&mm, t[1]);
        assert!(
            matches!(r, Err(MmError::RcuHeadInUse { .. })),
            "{name}: {r:?}"
        );
        assert_eq!(
            m.reports().count("rcu_head_reuse"),
            1,
            "{:?}",
            m.reports().all()
        );

        // The same two deferrals in different grace periods are fine in v1.
        let (m, mm, a) = setup(name, Variant::V1);
        let t = alloc_page_of_fragments(&mm, &a);
        let pfn = page_of(&a, t[0]);
        a.pte_free_defer(&mm, t[0]).unwrap();
        assert_eq!(m.rcu.end_grace_period(), Ok(1));
        a.pte_free_defer(&mm, t[1]).unwrap();
        assert_eq!(m.rcu.end_grace_period(), Ok(1));
        for pa in &t[2..] {
            a.pte_free(&mm, *pa).unwrap();
        }
        assert!(!m.phys.is_allocated(pfn));
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());

        // Fixed form (merged), same grace period: clean.
        let (m, mm, a) = setup(name, Variant::Merged);
        let t = alloc_page_of_fragments(&mm, &a);
        a.pte_free_defer(&mm, t[0]).unwrap();
        a.pte_free_defer(&mm, t[1]).unwrap();
        for pa in &t[2..] {
            a.pte_free(&mm, *pa).unwrap();
        }
        m.rcu.rcu_barrier().unwrap();
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
    }
}

/// Two pte tables in the mm's current fragment page; one retracted and
/// deferred, the other live; then the mm exits: `pte_frag_destroy()` drops
/// the last references of a page still marked Active.
fn exit_with_an_active_fragment_page(
    name: &str,
    v: Variant,
) -> (Arc<Machine>, Arc<Mm<Ppc>>, Result<(), MmError>) {
    let (m, mm, a) = setup(name, v);
    let pmd = a.geometry().pmd_size();
    let base = 0x4000_0000u64;
    map::map_page(&mm, base, 0x10, a.vm_get_page_prot(3)).unwrap();
    map::map_page(&mm, base + pmd, 0x11, a.vm_get_page_prot(3)).unwrap();
    let pmdp = mm.find_pmd(base).unwrap().unwrap();
    let t = detach_table(&mm, pmdp).unwrap();
    a.pte_free_defer(&mm, t).unwrap();
    m.rcu.rcu_barrier().unwrap();
    let r = mm.mmput();
    m.rcu.rcu_barrier().unwrap();
    (m, mm, r)
}

#[test]
fn merged_before_fix_exit_frees_an_active_page_and_the_fix_does_not() {
    for name in FRAGMENTED {
        let (m, mm, r) = exit_with_an_active_fragment_page(name, Variant::MergedBeforeFix);
        assert!(matches!(r, Err(MmError::BadPage { .. })), "{name}: {r:?}");
        let bad: Vec<_> = m
            .reports()
            .all()
            .into_iter()
            .filter(|r| r.kind() == "bad_page")
            .collect();
        assert_eq!(bad.len(), 1, "{name}: {:?}", m.reports().all());
        assert!(format!("{:?}", bad[0]).contains("active"), "{bad:?}");
        assert_eq!(mm.pgtables_bytes(), 0);

        let (m, mm, r) = exit_with_an_active_fragment_page(name, Variant::Merged);
        assert_eq!(r, Ok(()));
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
        assert_eq!(mm.pgtables_bytes(), 0);
        assert_eq!(m.phys.nr_free() as u64, m.phys.nr_frames() - 1);
    }
}

#[test]
fn exit_while_frees_are_pending_keeps_the_page_for_the_reader() {
    for name in FRAGMENTED {
        for v in [Variant::Merged, Variant::V1] {
            let (m, mm, a) = setup(name, v);
            let pmd = a.geometry().pmd_size();
            let base = 0x4000_0000u64;
            map::map_page(&mm, base, 0x10, a.vm_get_page_prot(3)).unwrap();
            map::map_page(&mm, base + pmd, 0x11, a.vm_get_page_prot(3)).unwrap();
            let pmdp = mm.find_pmd(base).unwrap().unwrap();
            let reader = mm.pte_offset_map(pmdp, base).unwrap().unwrap();
            let t = detach_table(&mm, pmdp).unwrap();
            let pfn = page_of(&a, t);
            a.pte_free_defer(&mm, t).unwrap();
            // Use up the rest of the page so that the exit frees its last
            // reference while the reader is still inside.
            let rest: Vec<u64> = (2..a.pte_frag_nr())
                .map(|_| a.pte_alloc_one(&mm).unwrap())
                .collect();
            for r in rest {
                a.pte_free(&mm, r).unwrap();
            }
            mm.mmput().unwrap();
            assert!(
                m.phys.is_allocated(pfn),
                "{name} {v:?}: page freed under the reader"
            );
            assert_eq!(a.pte_pfn(reader.get().unwrap()), 0x10, "{name} {v:?}");
            assert!(
                m.rcu.end_grace_period().is_err(),
                "grace period ended under a reader"
            );
            drop(reader);
            m.rcu.rcu_barrier().unwrap();
            assert!(!m.phys.is_allocated(pfn), "{name} {v:?}: page leaked");
            assert_eq!(mm.pgtables_bytes(), 0);
            assert_eq!(
                m.phys.nr_free() as u64,
                m.phys.nr_frames() - 1,
                "{name} {v:?}"
            );
            assert!(
                m.reports().is_empty(),
                "{name} {v:?}: {:?}",
                m.reports().all()
            );
            assert!(m
                .events()
                .all()
                .iter()
                .any(|e| matches!(e, Event::CallbackRan { .. })));
        }
    }
}

#[test]
fn teardown_returns_every_frame_on_all_configs_and_variants() {
    for name in Ppc::configurations() {
        // (merged-before-fix is not clean here by design: see above.)
        for v in [Variant::Merged, Variant::V1] {
            let a = Ppc::from_name(name).unwrap().with_variant(v);
            let g = a.geometry().clone();
            let m = Machine::new(&g, 512 * g.page_size(), Mode::Deterministic).unwrap();
            let free0 = m.phys.nr_free();
            let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
            let pmd = g.pmd_size();
            for i in 0..40u64 {
                let va = (i * 7919 % 97) * pmd + (i % 5) * g.page_size();
                map::map_page(&mm, va, 0x100 + i, a.vm_get_page_prot((i % 16) as u8)).unwrap();
            }
            if g.has_thp {
                map::map_huge_pmd(&mm, 200 * pmd, 0, a.vm_get_page_prot(3)).unwrap();
            }
            // Retract and defer a few tables, one grace period apart.
            for i in [3u64, 10, 17] {
                let va = (i * 7919 % 97) * pmd;
                if let Some(pmdp) = mm.find_pmd(va).unwrap() {
                    let t = detach_table(&mm, pmdp).unwrap();
                    a.pte_free_defer(&mm, t).unwrap();
                    m.rcu.end_grace_period().unwrap();
                }
            }
            assert!(mm.pgtables_bytes() > 0);
            mm.mmput().unwrap();
            m.rcu.rcu_barrier().unwrap();
            assert_eq!(mm.pgtables_bytes(), 0, "{name} {v:?}");
            assert_eq!(m.phys.nr_free(), free0, "{name} {v:?}: frames leaked");
            assert!(
                m.reports().is_empty(),
                "{name} {v:?}: {:?}",
                m.reports().all()
            );
        }
    }
}

#[test]
fn pmd_fragments_share_pages() {
    for (name, nr) in [
        ("ppc64-radix-64k", 16u64),
        ("ppc64-hash-64k", 4),
        ("ppc64-hash-4k", 4),
    ] {
        let (m, mm, a) = setup(name, Variant::Merged);
        let pud = 1u64 << a.geometry().level(mm_core::Level::Pud).shift;
        let pmds: Vec<u64> = (0..nr)
            .map(|i| {
                map::map_page(&mm, i * pud, 1, a.vm_get_page_prot(3)).unwrap();
                let pmdp = mm.find_pmd(i * pud).unwrap().unwrap();
                pmdp.pa & !((1u64 << a.layout().pmd_frag_size_shift) - 1)
            })
            .collect();
        let pages: std::collections::BTreeSet<u64> = pmds.iter().map(|p| page_of(&a, *p)).collect();
        // The first pmd table may share its page with nothing else only if
        // another level took the page; all nr must fit in at most two pages.
        assert!(pages.len() <= 2, "{name}: {pmds:x?}");
        for p in &pmds {
            assert_eq!(
                a.pmd_fragment_of(*p).1,
                (p & ((1 << a.layout().page_shift) - 1)) >> a.layout().pmd_frag_size_shift
            );
        }
        mm.mmput().unwrap();
        assert!(m.reports().is_empty(), "{name}: {:?}", m.reports().all());
        assert_eq!(m.phys.nr_free() as u64, m.phys.nr_frames() - 1);
    }
}
