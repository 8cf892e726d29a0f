//! mm-core's lifecycle families and the generic `pte_free_defer()` on both
//! arm configurations.

use std::sync::Arc;

use arch_arm::Arm;
use mm_core::event::Event;
use mm_core::family::FamilyStatus;
use mm_core::machine::Mode;
use mm_core::{lifecycle, map, Arch, Machine, Mm};

#[test]
fn lifecycle_families_pass() {
    for name in ["arm", "arm-lpae"] {
        let a = Arm::from_name(name).expect("config");
        for f in lifecycle::run_all(&a).expect("lifecycle runs") {
            match (&f.status, f.name, name) {
                (FamilyStatus::Pass, _, _) => assert!(f.checks > 0, "{name} {}", f.name),
                // Entries are read atomically on arm (no GUP_GET_PXX_LOW_HIGH).
                (FamilyStatus::Skip(_), "pmdp_get_lockless_halves", _) => {}
                // LPAE has no pmd that is bad but not trans-huge: the one
                // failing check is the search for such a value.
                (FamilyStatus::ExpectedFail(_), "pte_offset_map_failure", "arm-lpae") => {
                    assert_eq!(
                        f.failures,
                        vec!["no single-bit corruption of a table pmd is pmd_bad()".to_string()]
                    );
                    assert!(f.checks > 10);
                }
                _ => panic!("{name} {}: {:?} {:?}", f.name, f.status, f.failures),
            }
        }
    }
}

/// `pte_free_defer()` is the generic one: `call_rcu()` on the pte page,
/// freed by the callback after a grace period; on classic tables the
/// freed page is the whole Linux+hardware page.
#[test]
fn generic_pte_free_defer_frees_after_grace_period() {
    for name in ["arm", "arm-lpae"] {
        let a = Arm::from_name(name).expect("config");
        let m = Machine::new(a.geometry(), 256 * 4096, Mode::Deterministic).expect("machine");
        m.events().enable(true);
        let mm = Mm::new(Arc::new(a.clone()), m.clone()).expect("mm");
        let va = 0x4000_0000;
        map::map_page(&mm, va, 0x77, a.vm_get_page_prot(3)).expect("map");
        let pmdp = mm.find_pmd(va).expect("walk").expect("pmd");
        let table = lifecycle::detach_table(&mm, pmdp).expect("detach");
        let reader = mm.pte_offset_map(pmdp, va).expect("map");
        assert!(reader.is_none(), "{name}: pmd is none after detach");
        a.pte_free_defer(&mm, table).expect("defer");
        assert!(
            m.phys.is_allocated(table >> 12),
            "{name}: freed before the grace period"
        );
        m.rcu.synchronize_rcu().expect("grace period");
        assert!(
            !m.phys.is_allocated(table >> 12),
            "{name}: not freed after it"
        );
        let ev = m.events().all();
        assert!(ev
            .iter()
            .any(|e| matches!(e, Event::Deferred { pa, .. } if *pa == table)));
        assert!(ev
            .iter()
            .any(|e| matches!(e, Event::TableFree { pa, .. } if *pa == table)));
        if name == "arm" {
            assert!(ev
                .iter()
                .any(|e| matches!(e, Event::TableAlloc { level: "pgd", .. })));
        }
        mm.mmput().expect("mmput");
        assert!(
            m.reports().all().is_empty(),
            "{name}: {:?}",
            m.reports().all()
        );
    }
}
