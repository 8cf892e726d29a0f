//! mm-core's lifecycle families on every s390x configuration and variant,
//! and the printable `pte_free_defer()` scenario.

use arch_s390::S390;
use mm_core::family::FamilyStatus;
use mm_core::scenario::pte_free_defer_scenario;
use mm_core::{lifecycle, Arch};

#[test]
fn lifecycle_families_on_every_configuration_and_variant() {
    for name in S390::configurations() {
        for variant in ["merged", "v1", "v1-mmdrop"] {
            let a = S390::with_variant(name, variant).unwrap();
            let expected: Vec<&str> = a.expected_failures().iter().map(|(n, _)| *n).collect();
            for f in lifecycle::run_all(&a).expect("lifecycle runs") {
                match (&f.status, f.name) {
                    (FamilyStatus::Pass, _) => assert!(f.checks > 0),
                    (FamilyStatus::Skip(_), "pmdp_get_lockless_halves") => {}
                    (FamilyStatus::ExpectedFail(_), n) if expected.contains(&n) => {}
                    _ => panic!(
                        "{name}/{variant} {}: {:?} {:?}",
                        f.name, f.status, f.failures
                    ),
                }
            }
        }
    }
}

#[test]
fn scenario_merged_is_clean_and_v1_reports_the_reuse() {
    let merged = pte_free_defer_scenario(&S390::from_name("s390x").unwrap()).unwrap();
    assert!(merged.reports.is_empty(), "{:?}", merged.reports);
    assert_eq!(merged.variant, "merged");
    let kinds: Vec<&str> = merged.events.iter().map(|e| e.kind()).collect();
    // One callback for the page both retracted tables shared.
    assert_eq!(kinds.iter().filter(|k| **k == "callback_ran").count(), 1);
    let v1 = pte_free_defer_scenario(&S390::with_variant("s390x", "v1").unwrap()).unwrap();
    assert_eq!(v1.variant, "v1");
    assert!(
        v1.reports.iter().any(|r| r.contains("queued twice")),
        "{:?}",
        v1.reports
    );
}
