//! The v6.6 freeing semantics on sparc64: mm-core's lifecycle families, and
//! sparc64's own `pte_free_defer()` (patch 06: `call_rcu()` on the table
//! page's rcu_head, `pte_free_now()` freeing by address), as the event log
//! shows it.

use std::sync::Arc;

use arch_sparc::Sparc64;
use mm_core::event::Event;
use mm_core::family::FamilyStatus;
use mm_core::machine::Mode;
use mm_core::{lifecycle, map, scenario, Arch, Machine, Mm, MmError};

const CONFIGS: [&str; 2] = ["sparc64", "sparc64-sun4u"];

#[test]
fn lifecycle_families_pass_on_both_layouts() {
    for name in CONFIGS {
        let a = Sparc64::from_name(name).expect("config");
        for f in lifecycle::run_all(&a).expect("lifecycle runs") {
            match (&f.status, f.name) {
                (FamilyStatus::Pass, _) => {
                    assert!(f.checks > 0, "{name} {} checked nothing", f.name)
                }
                // Entries are single 64-bit loads on sparc64.
                (FamilyStatus::Skip(why), "pmdp_get_lockless_halves") => {
                    assert!(why.contains("CONFIG_GUP_GET_PXX_LOW_HIGH"), "{why}")
                }
                _ => panic!("{name} {}: {:?} {:?}", f.name, f.status, f.failures),
            }
        }
    }
}

#[test]
fn pte_free_defer_frees_by_address_after_a_grace_period() {
    let a = Sparc64::from_name("sparc64").expect("config");
    let machine = Machine::new(a.geometry(), 2 << 20, Mode::Deterministic).expect("machine");
    machine.events().enable(true);
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let va = 0x1_0000_0000u64;
    map::map_page(&mm, va, 0x42, a.vm_get_page_prot(3)).expect("map");
    let pmdp = mm.find_pmd(va).expect("walk").expect("pmd");
    let table = a.pmd_table_pa(mm.pmdp_get(pmdp).expect("pmd"));
    let pfn = table >> 13;
    let free_before = machine.phys.nr_free();
    // Detach the table, then defer its free.
    mm.set_entry(pmdp, 0).expect("clear pmd");
    a.pte_free_defer(&mm, table).expect("defer");
    // The page's single rcu_head is now queued: a second defer is refused
    // and reported (never two tables in one page on sparc64, but the rule
    // is the same).
    assert!(matches!(
        a.pte_free_defer(&mm, table),
        Err(MmError::RcuHeadInUse { .. })
    ));
    assert!(
        machine.phys.is_allocated(pfn),
        "freed before the grace period"
    );
    machine.rcu.synchronize_rcu().expect("grace period");
    assert!(
        !machine.phys.is_allocated(pfn),
        "not freed after the grace period"
    );
    assert_eq!(machine.phys.nr_free(), free_before + 1);
    let ev = machine.events().all();
    let deferred = ev.iter().find_map(|e| match e {
        Event::Deferred { pa, how } if *pa == table => Some(how.clone()),
        _ => None,
    });
    let how = deferred.expect("a Deferred event");
    assert!(how.contains("pte_t *") && how.contains("rcu_head"), "{how}");
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::CallbackRan { what } if what.contains("page_address"))));
    assert!(ev.iter().any(
        |e| matches!(e, Event::TableFree { pa, how } if *pa == table && how.contains("__pte_free"))
    ));
    drop(mm);
}

#[test]
fn lifecycle_scenario_runs_and_reports_no_bug() {
    for name in CONFIGS {
        let a = Sparc64::from_name(name).expect("config");
        let log = scenario::pte_free_defer_scenario(&a).expect("scenario");
        let text = format!("{log:?}");
        assert!(
            text.contains("call_rcu(&virt_to_page(pgtable)->rcu_head"),
            "{text}"
        );
        assert!(text.contains("__pte_free"), "{text}");
    }
}
