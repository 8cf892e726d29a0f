//! The model's translation against Unicorn's x86 MMU on the very same bytes:
//! random mappings (4K and huge, present and not), on all three
//! configurations, as a property test and as the conformance family.

use std::sync::Arc;

use arch_x86::X86;
use mm_core::emulate::HwWalker;
use mm_core::family::FamilyStatus;
use mm_core::machine::Mode;
use mm_core::walkcheck::{self, probe, Kind, WalkParams};
use mm_core::{map, Arch, Machine, Mm};
use proptest::prelude::*;

const CONFIGS: [&str; 3] = ["x86_64", "x86-pae", "x86-32"];

#[test]
fn walk_family_agrees_on_every_configuration() {
    for name in CONFIGS {
        let a = X86::from_name(name).expect("config");
        let rep = walkcheck::walk_family(
            &a,
            WalkParams {
                mappings: 1500,
                seed: 0xabc,
            },
        )
        .expect("walk family");
        assert_eq!(
            rep.family.status,
            FamilyStatus::Pass,
            "{name}: {:?}",
            rep.family.failures
        );
        // The random mix really covered each kind of entry.
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
        assert!(
            mapped > 300 && unmapped > 100,
            "{name}: {mapped} mapped, {unmapped} unmapped"
        );
        // Read-only and writable leaves were both seen.
        assert!(
            rep.probes
                .iter()
                .any(|p| p.model.pa().is_some() && p.write.pa().is_none()),
            "{name}: no read-only leaf"
        );
        assert!(
            rep.probes.iter().any(|p| p.write.pa().is_some()),
            "{name}: no writable leaf"
        );
    }
}

fn setup(name: &str) -> (X86, Arc<Machine>, Arc<Mm<X86>>, Box<dyn HwWalker>) {
    let a = X86::from_name(name).expect("config");
    let machine = Machine::new(a.geometry(), 8 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let hw = a.hw_walker(machine.clone()).expect("walker");
    (a, machine, mm, hw)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any set of 4K mappings with any of the 16 protections, and any huge
    /// pmds, translate the same in the model and the emulated MMU, at the
    /// mapped addresses and at their neighbours.
    #[test]
    fn random_mappings_agree(
        cfg in 0usize..3,
        smalls in prop::collection::vec((0u64..1 << 20, 0u64..1 << 20, 0u8..16), 1..24),
        huges in prop::collection::vec((0u64..1 << 10, 0u64..1 << 8, 0u8..16), 0..6),
        offs in 0u64..4096,
    ) {
        let (a, _m, mm, mut hw) = setup(CONFIGS[cfg]);
        let g = a.geometry().clone();
        let pmd = g.pmd_size();
        let mut probes = Vec::new();
        for (vpn, pfn, prot) in smalls {
            let va = (vpn << 12) % g.task_size();
            if map::map_page(&mm, va, pfn, a.vm_get_page_prot(prot)).is_ok() {
                probes.push(va | (offs & !7));
                probes.push((va + 4096) % g.task_size());
            }
        }
        for (slot, hpfn, prot) in huges {
            let va = (0x8000_0000u64 + slot * pmd) % g.task_size() / pmd * pmd;
            let pfn = hpfn * (pmd >> 12);
            if map::map_huge_pmd(&mm, va, pfn, a.vm_get_page_prot(prot)).is_ok() {
                probes.push(va + (offs << 9) % pmd);
            }
        }
        for va in probes {
            let p = probe(&mm, hw.as_mut(), va, Kind::Page).expect("probe");
            prop_assert!(p.agree, "{}: va {:#x}: model {:?} read {:?} write {:?}", g.name, va, p.model.outcome, p.read, p.write);
        }
    }
}
