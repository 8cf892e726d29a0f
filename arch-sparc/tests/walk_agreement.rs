//! The model's translation against Linux's sparc64 TLB-miss refill path run
//! as guest code under Unicorn (`guest/tsb_refill.c`), on the very same
//! bytes: random mappings on both layouts, through mm-core's walk family and
//! a property test.
//!
//! When the crate was built without `sparc64-linux-gnu-gcc` these tests say
//! so and check that the walker reports itself unsupported with the install
//! command; when the compiler is on this machine, the guest must be built.

use std::sync::Arc;

use arch_sparc::emulate::{guest_available, GUEST_STATUS};
use arch_sparc::Sparc64;
use mm_core::emulate::{EmuError, HwWalker};
use mm_core::family::FamilyStatus;
use mm_core::machine::Mode;
use mm_core::walkcheck::{self, probe, Kind, WalkParams};
use mm_core::{map, Arch, Machine, Mm};
use proptest::prelude::*;

const CONFIGS: [&str; 2] = ["sparc64", "sparc64-sun4u"];

fn compiler_present() -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| d.join("sparc64-linux-gnu-gcc").is_file())
    })
}

/// True when the guest can run; otherwise prints why and checks the
/// walker's refusal.
fn guest_or_skip(test: &str) -> bool {
    if guest_available() {
        return true;
    }
    assert!(
        !compiler_present(),
        "sparc64-linux-gnu-gcc is installed but the guest was not built: {GUEST_STATUS}"
    );
    eprintln!("SKIPPED {test}: {GUEST_STATUS}");
    let a = Sparc64::from_name("sparc64").expect("config");
    let m = Machine::new(a.geometry(), 1 << 20, Mode::Deterministic).expect("machine");
    match a.hw_walker(m) {
        Err(EmuError::Unsupported(why)) => {
            assert!(
                why.contains("apt-get install -y gcc-sparc64-linux-gnu"),
                "{why}"
            )
        }
        other => panic!(
            "expected Unsupported, got {:?}",
            other.map(|w| w.describe())
        ),
    }
    false
}

#[test]
fn walk_family_agrees_on_both_layouts() {
    if !guest_or_skip("walk_family_agrees_on_both_layouts") {
        return;
    }
    for name in CONFIGS {
        let a = Sparc64::from_name(name).expect("config");
        let rep = walkcheck::walk_family(
            &a,
            WalkParams {
                mappings: 3000,
                seed: 0x5a5c,
            },
        )
        .expect("walk family");
        assert_eq!(
            rep.family.status,
            FamilyStatus::Pass,
            "{name}: {:?}",
            rep.family.failures
        );
        for kind in [
            Kind::Page,
            Kind::Huge,
            Kind::Swap,
            Kind::Unmapped,
            Kind::Invalidated,
        ] {
            assert!(
                rep.probes.iter().any(|p| p.kind == kind),
                "{name}: no {kind:?} probe"
            );
        }
        let mapped = rep.probes.iter().filter(|p| p.model.pa().is_some()).count();
        let unmapped = rep.probes.len() - mapped;
        println!(
            "{name}: {} probes agree ({mapped} translated, {unmapped} faulting)",
            rep.probes.len()
        );
        assert!(
            rep.probes.len() >= 1000,
            "{name}: {} probes",
            rep.probes.len()
        );
        assert!(
            mapped > 300 && unmapped > 100,
            "{name}: {mapped}/{unmapped}"
        );
        // Clean writable leaves: readable, but a store faults (no W).
        assert!(rep
            .probes
            .iter()
            .any(|p| p.model.pa().is_some() && p.write.pa().is_none()));
        // PROT_NONE leaves: present to Linux, refused by the walk.
        assert!(rep
            .probes
            .iter()
            .any(|p| p.kind == Kind::Page && p.model.pa().is_none()));
        assert!(rep.walker.contains("tsb_refill.c"));
    }
}

fn setup(name: &str) -> (Sparc64, Arc<Mm<Sparc64>>, Box<dyn HwWalker>) {
    let a = Sparc64::from_name(name).expect("config");
    let machine = Machine::new(a.geometry(), 16 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let hw = a.hw_walker(machine).expect("walker");
    (a, mm, hw)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any 8K mappings with any of the 16 protections, made young/old and
    /// dirty/clean, and any huge pmds, translate the same in the model and
    /// in the guest refill path, at the mapped addresses and their
    /// neighbours.
    #[test]
    fn random_mappings_agree(
        cfg in 0usize..2,
        smalls in prop::collection::vec((0u64..1 << 24, 0u64..1 << 28, 0u8..16, 0u8..4), 1..24),
        huges in prop::collection::vec((0u64..1 << 10, 0u64..1 << 12, 0u8..16, any::<bool>()), 0..6),
        offs in 0u64..8192,
    ) {
        if !guest_available() {
            return Ok(());
        }
        let (a, mm, mut hw) = setup(CONFIGS[cfg]);
        let g = a.geometry().clone();
        let pmd = g.pmd_size();
        let mut probes = Vec::new();
        for (vpn, pfn, prot, state) in smalls {
            let va = (vpn << 13) % g.task_size();
            let mut pte = a.pfn_pte(pfn, a.vm_get_page_prot(prot));
            if state & 1 != 0 { pte = a.pte_mkdirty(pte); }
            if state & 2 != 0 { pte = a.pte_mkold(pte); }
            if map::set_pte(&mm, va, pte, false).is_ok() {
                probes.push(va | (offs & !7));
                probes.push((va + 8192) % g.task_size());
            }
        }
        for (slot, hpfn, prot, dirty) in huges {
            let va = (0x4000_0000u64 + slot * pmd) % g.task_size() / pmd * pmd;
            let mut h = a.pmd_mkhuge(a.pfn_pmd(hpfn * (pmd >> 13), a.vm_get_page_prot(prot)));
            if dirty { h = a.pmd_mkdirty(h); }
            if map::set_pmd(&mm, va, h, false).is_ok() {
                probes.push(va + (offs << 10) % pmd);
            }
        }
        for va in probes {
            let p = probe(&mm, hw.as_mut(), va, Kind::Page).expect("probe");
            prop_assert!(p.agree, "{}: va {:#x}: model {:?} read {:?} write {:?}", g.name, va, p.model.outcome, p.read, p.write);
        }
    }
}
