//! `mm/debug_vm_pgtable.c` (v6.6) on both arm configurations through
//! mm-core's generic families: Linux itself never runs these on arm (no
//! `ARCH_HAS_DEBUG_VM_PGTABLE`).  Every family passes, is skipped with its
//! Kconfig reason, or fails exactly as the configuration documents.

use arch_arm::Arm;
use mm_core::debug_vm_pgtable::{self, Params};
use mm_core::family::FamilyStatus;
use mm_core::Arch;

fn run(name: &str) -> Vec<mm_core::family::FamilyResult> {
    let a = Arm::from_name(name).expect("config");
    debug_vm_pgtable::run_all(
        &a,
        Params {
            pfns_per_prot: 128,
            seed: 0xd0d0,
        },
    )
    .expect("families run")
}

#[test]
fn classic_families_pass_or_skip_with_reason() {
    let out = run("arm");
    let mut passed = Vec::new();
    for f in &out {
        match &f.status {
            FamilyStatus::Pass => {
                assert!(f.checks > 0, "{} checked nothing", f.name);
                passed.push(f.name);
            }
            FamilyStatus::Skip(why) => assert!(
                why.contains("CONFIG_") || why.contains("__PAGETABLE_"),
                "{}: skip reason names no option: {why}",
                f.name
            ),
            s => panic!("arm {}: {s:?} {:?}", f.name, f.failures),
        }
    }
    for must in [
        "pte_basic_tests",
        "pte_swap_exclusive_tests",
        "pte_swap_tests",
        "swap_migration_tests",
        "pte_advanced_tests",
        "pte_clear_tests",
        "pmd_clear_tests",
        "pmd_populate_tests",
    ] {
        assert!(passed.contains(&must), "arm: {must} did not run and pass");
    }
    // No THP and no pte_special on classic tables, as in Linux.
    for skipped in ["pmd_basic_tests", "pmd_thp_tests", "pte_special_tests"] {
        let f = out.iter().find(|f| f.name == skipped).expect("family");
        assert!(matches!(f.status, FamilyStatus::Skip(_)), "{skipped}");
    }
}

#[test]
fn lpae_families_pass_skip_or_fail_as_documented() {
    let a = Arm::from_name("arm-lpae").expect("config");
    let expected: Vec<&str> = a.expected_failures().iter().map(|(n, _)| *n).collect();
    let out = run("arm-lpae");
    for f in &out {
        match &f.status {
            FamilyStatus::Pass => assert!(f.checks > 0, "{} checked nothing", f.name),
            FamilyStatus::Skip(why) => assert!(
                why.contains("CONFIG_") || why.contains("__PAGETABLE_"),
                "{}: {why}",
                f.name
            ),
            FamilyStatus::ExpectedFail(_) => {
                assert!(expected.contains(&f.name), "{}", f.name)
            }
            s => panic!("arm-lpae {}: {s:?} {:?}", f.name, f.failures),
        }
    }
    let status = |n: &str| {
        out.iter()
            .find(|f| f.name == n)
            .map(|f| f.status.clone())
            .expect("family")
    };
    for n in [
        "pmd_basic_tests",
        "pmd_leaf_tests",
        "pte_special_tests",
        "pmd_advanced_tests",
        "pud_populate_tests",
    ] {
        assert_eq!(status(n), FamilyStatus::Pass, "{n}");
    }
    // The two documented kernel behaviours, and only those.
    let thp = out.iter().find(|f| f.name == "pmd_thp_tests").expect("thp");
    assert!(matches!(thp.status, FamilyStatus::ExpectedFail(_)));
    assert!(thp
        .failures
        .iter()
        .all(|m| m.starts_with("!pmd_present(pmd_mkinvalid")));
    let swap = out
        .iter()
        .find(|f| f.name == "pte_swap_tests")
        .expect("swap");
    assert!(matches!(swap.status, FamilyStatus::ExpectedFail(_)));
    assert!(swap.failures.iter().all(|m| m.starts_with("pte_pfn(")));
}

/// The protection values the families iterate over are all 16 distinct
/// `protection_map[]` entries Linux builds (5 distinct values: none, read-only,
/// read-only exec, shared, shared exec).
#[test]
fn sixteen_protections_cover_every_kind() {
    for name in ["arm", "arm-lpae"] {
        let a = Arm::from_name(name).expect("config");
        let map = debug_vm_pgtable::protection_map(&a);
        let mut distinct: Vec<u64> = map.iter().map(|p| p.0).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 5, "{name}: {distinct:x?}");
        for p in map {
            let pte = a.pfn_pte(0x1234, p);
            assert!(a.pte_present(pte) && a.pte_young(pte) && !a.pte_dirty(pte));
        }
    }
}
