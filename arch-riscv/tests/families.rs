//! mm-core's generic families on riscv64-sv39: `mm/debug_vm_pgtable.c`
//! (v6.6), the lifecycle and collapse families, and the walk agreement
//! with Unicorn's riscv64 MMU.

use arch_riscv::Riscv;
use mm_core::debug_vm_pgtable::{self, Params};
use mm_core::family::{FamilyResult, FamilyStatus};
use mm_core::walkcheck::{self, Kind, WalkParams};
use mm_core::{collapse_check, lifecycle};

fn a() -> Riscv {
    Riscv::from_name("riscv64-sv39").expect("config")
}

fn check_all(out: &[FamilyResult], expected: &[&str]) {
    for f in out {
        match &f.status {
            FamilyStatus::Pass => assert!(f.checks > 0, "{} checked nothing", f.name),
            FamilyStatus::Skip(why) => assert!(!why.is_empty(), "{}: empty reason", f.name),
            FamilyStatus::ExpectedFail(_) => assert!(expected.contains(&f.name), "{}", f.name),
            s => panic!("{}: {s:?} {:?}", f.name, f.failures),
        }
    }
}

#[test]
fn debug_vm_pgtable_families() {
    let a = a();
    let out = debug_vm_pgtable::run_all(
        &a,
        Params {
            pfns_per_prot: 128,
            seed: 0x5eed,
        },
    )
    .expect("families run");
    check_all(&out, &[]);
    let status = |n: &str| &out.iter().find(|f| f.name == n).expect(n).status;
    for must in [
        "pte_basic_tests",
        "pte_special_tests",
        "pte_protnone_tests",
        "pmd_protnone_tests",
        "pte_swap_exclusive_tests",
        "pte_swap_tests",
        "pmd_swap_tests",
        "swap_migration_tests",
        "pmd_thp_tests",
        "pmd_populate_tests",
        "pud_populate_tests",
    ] {
        assert_eq!(status(must), &FamilyStatus::Pass, "{must}");
    }
    for skipped in ["pte_soft_dirty_tests", "pte_devmap_tests", "pud_thp_tests"] {
        match status(skipped) {
            FamilyStatus::Skip(why) => assert!(why.contains("CONFIG_"), "{skipped}: {why}"),
            s => panic!("{skipped}: {s:?}"),
        }
    }
}

#[test]
fn lifecycle_families() {
    let a = a();
    let out = lifecycle::run_all(&a).expect("lifecycle runs");
    check_all(&out, &[]);
    // The bad-pmd state is reachable (clearing V of a table pmd whose swap
    // type does not land on a migration type) and exercised.
    let f = out
        .iter()
        .find(|f| f.name == "pte_offset_map_failure")
        .expect("family");
    assert_eq!(f.status, FamilyStatus::Pass, "{:?}", f.failures);
}

#[test]
fn collapse_families() {
    let a = a();
    let out = collapse_check::run_all(&a).expect("collapse runs");
    assert!(!out.is_empty());
    check_all(&out, &[]);
}

#[test]
fn walk_family_agrees_with_unicorn() {
    let a = a();
    let rep = walkcheck::walk_family(
        &a,
        WalkParams {
            mappings: 3000,
            seed: 0x515,
        },
    )
    .expect("walk family");
    match &rep.family.status {
        FamilyStatus::Pass => {}
        FamilyStatus::Skip(why) => panic!("walk skipped: {why}"),
        s => panic!("{s:?} {:?}", rep.family.failures),
    }
    let mapped = rep.probes.iter().filter(|p| p.model.pa().is_some()).count();
    let unmapped = rep.probes.len() - mapped;
    eprintln!(
        "riscv64-sv39: {} probes agree ({mapped} mapped, {unmapped} not)",
        rep.probes.len()
    );
    assert!(rep.probes.len() >= 1000, "{} probes", rep.probes.len());
    assert!(mapped > 300 && unmapped > 100, "{mapped}/{unmapped}");
    for kind in [
        Kind::Page,
        Kind::Swap,
        Kind::Unmapped,
        Kind::Huge,
        Kind::Invalidated,
    ] {
        assert!(
            rep.probes.iter().any(|p| p.kind == kind),
            "no {kind:?} probe"
        );
    }
    assert!(rep.walker.contains("unicorn"), "{}", rep.walker);
}

/// The emulated MMU sets A and D in the pte it walks; the walker puts the
/// old-and-clean pte back, so the model's bytes are unchanged.
#[test]
fn walker_restores_hardware_accessed_and_dirty_bits() {
    use std::sync::Arc;

    use mm_core::emulate::{Access, HwOutcome};
    use mm_core::machine::Mode;
    use mm_core::{map, Arch, Machine, Mm};

    let a = a();
    let machine = Machine::new(a.geometry(), 16 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let mut hw = a.hw_walker(machine.clone()).expect("walker");
    let va = 0x1000_0000u64;
    let pte = a.pte_mkold(a.pfn_pte(0x100, a.vm_get_page_prot(0xb)));
    map::set_pte(&mm, va, pte, false).expect("map");
    let pmdp = mm.find_pmd(va).expect("walk").expect("pmd");
    let table = a.pmd_table_pa(mm.pmdp_get(pmdp).expect("pmd"));
    let ptep = table + ((va >> 12) & 511) * 8;
    assert_eq!(machine.phys.load(ptep, 8).expect("load"), pte.0);
    let out = hw
        .translate(mm.pgd_pa(), va, Access::Write)
        .expect("translate");
    assert_eq!(out, HwOutcome::Translated { pa: 0x100 << 12 });
    assert_eq!(machine.phys.load(ptep, 8).expect("load"), pte.0);
}
