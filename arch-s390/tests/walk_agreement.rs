//! The model's translation against Unicorn's s390x DAT on the very same
//! bytes: random mappings on every configuration (region-third, -second
//! and -first ASCEs), and directed walks through both 2K halves of a page.

use std::sync::Arc;

use arch_s390::emulate::S390Walker;
use arch_s390::S390;
use mm_core::emulate::{Access, HwOutcome, HwWalker};
use mm_core::family::FamilyStatus;
use mm_core::machine::Mode;
use mm_core::walkcheck::{self, probe, Kind, WalkParams};
use mm_core::{map, Arch, Machine, Mm, Pmd};

/// Four seeds of 1200 random mappings per configuration (one machine of
/// 32 MiB holds the scattered 16K tables of about 1200): at least 1000
/// agreeing probes per configuration, every kind of entry seen.
#[test]
fn walk_family_agrees_on_every_configuration_over_1000_probes() {
    for name in S390::configurations() {
        let a = S390::from_name(name).unwrap();
        let (mut checks, mut mapped, mut unmapped, mut ro) = (0, 0, 0, 0);
        let mut kinds = Vec::new();
        for seed in 0..4u64 {
            let rep = walkcheck::walk_family(
                &a,
                WalkParams {
                    mappings: 1200,
                    seed: 0x5390 + seed,
                },
            )
            .expect("walk family");
            assert_eq!(
                rep.family.status,
                FamilyStatus::Pass,
                "{name}: {:?}",
                rep.family.failures
            );
            checks += rep.family.checks;
            for p in &rep.probes {
                match p.model.pa() {
                    Some(_) => {
                        mapped += 1;
                        ro += usize::from(p.write.pa().is_none());
                    }
                    None => unmapped += 1,
                }
                kinds.push(p.kind);
                // Valid large segments cannot be judged by Unicorn (no
                // EDAT-1): they are left out.
                assert!(!(p.kind == Kind::Huge && p.model.pa().is_some()));
            }
            assert!(rep.walker.contains("EDAT-1"), "{name}: {}", rep.walker);
        }
        assert!(checks >= 1000, "{name}: {checks} probes");
        assert!(
            mapped > 300 && unmapped > 100 && ro > 50,
            "{name}: {mapped}/{unmapped}/{ro}"
        );
        for kind in [Kind::Page, Kind::Swap, Kind::Unmapped, Kind::Invalidated] {
            assert!(kinds.contains(&kind), "{name}: no {kind:?} probe");
        }
    }
}

fn setup(name: &str) -> (S390, Arc<Machine>, Arc<Mm<S390>>, S390Walker) {
    let a = S390::from_name(name).unwrap();
    let m = Machine::new(a.geometry(), 8 << 20, Mode::Deterministic).unwrap();
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
    let hw = S390Walker::new(a.clone(), m.clone()).unwrap();
    (a, m, mm, hw)
}

#[test]
fn both_halves_of_a_page_translate_and_protection_holds() {
    let (a, _m, mm, mut hw) = setup("s390x");
    let (va0, va1) = (0x4000_0000u64, 0x4010_0000u64);
    // Shared writable (PAGE_RW), then dirty: writable in hardware.
    map::map_page(&mm, va0 + 0x5000, 0x300, a.vm_get_page_prot(0xb)).unwrap();
    map::map_page(&mm, va1 + 0x7000, 0x301, a.vm_get_page_prot(0x1)).unwrap();
    let t0 = a.pmd_table_pa(mm.pmdp_get(mm.find_pmd(va0).unwrap().unwrap()).unwrap());
    let t1 = a.pmd_table_pa(mm.pmdp_get(mm.find_pmd(va1).unwrap().unwrap()).unwrap());
    assert_eq!(
        t1,
        t0 + 2048,
        "the second table is the upper half of the same page"
    );
    let root = mm.pgd_pa();
    assert_eq!(
        hw.translate(root, va0 + 0x5008, Access::Read).unwrap(),
        HwOutcome::Translated { pa: 0x30_0008 }
    );
    assert!(
        hw.translate(root, va0 + 0x5008, Access::Write)
            .unwrap()
            .pa()
            .is_none(),
        "clean: P set"
    );
    assert_eq!(
        hw.translate(root, va1 + 0x7010, Access::Read).unwrap(),
        HwOutcome::Translated { pa: 0x30_1010 }
    );
    assert!(hw
        .translate(root, va1 + 0x7010, Access::Write)
        .unwrap()
        .pa()
        .is_none());
    // Dirty it: P cleared, the write goes through.
    let pte = a.pte_mkdirty(a.pfn_pte(0x300, a.vm_get_page_prot(0xb)));
    map::set_pte(&mm, va0 + 0x5000, pte, true).unwrap();
    assert_eq!(
        hw.translate(root, va0 + 0x5008, Access::Write).unwrap(),
        HwOutcome::Translated { pa: 0x30_0008 }
    );
    // Old: I set, both fault; none/unmapped neighbours fault.
    map::set_pte(&mm, va0 + 0x5000, a.pte_mkold(pte), true).unwrap();
    assert!(hw
        .translate(root, va0 + 0x5008, Access::Read)
        .unwrap()
        .pa()
        .is_none());
    assert!(hw
        .translate(root, va0 + 0x6000, Access::Read)
        .unwrap()
        .pa()
        .is_none());
    assert!(hw
        .translate(root, 0x8000_0000, Access::Read)
        .unwrap()
        .pa()
        .is_none());
    // Every probe agrees with the model.
    for va in [va0 + 0x5008, va0 + 0x6000, va1 + 0x7010, 0x8000_0000] {
        let p = probe(&mm, &mut hw, va, Kind::Page).unwrap();
        assert!(
            p.agree,
            "{va:#x}: {:?} {:?} {:?}",
            p.model.outcome, p.read, p.write
        );
    }
}

#[test]
fn region_second_and_first_tables_translate_high_addresses() {
    for (name, va) in [
        ("s390x-4level", 0x400_1234_5000u64),
        ("s390x-5level", 0x20_0000_1234_5000u64),
    ] {
        let (a, _m, mm, mut hw) = setup(name);
        map::map_page(&mm, va, 0x2ab, a.vm_get_page_prot(3)).unwrap();
        let p = probe(&mm, &mut hw, va + 0x10, Kind::Page).unwrap();
        assert!(p.agree, "{name}: {:?} {:?}", p.model.outcome, p.read);
        assert_eq!(p.read.pa(), Some(0x2a_b010), "{name}");
        assert_eq!(
            p.model.steps.len(),
            a.geometry().nr_levels(),
            "{name}: {:?}",
            p.model.steps
        );
    }
}

#[test]
fn valid_large_segments_are_left_out_invalid_ones_are_checked() {
    let (a, _m, mm, mut hw) = setup("s390x");
    let va = 0x1_0000_0000u64;
    map::map_huge_pmd(&mm, va, 0x200, a.vm_get_page_prot(3)).unwrap();
    let why = hw.unchecked(mm.pgd_pa(), va + 0x1234).unwrap();
    assert!(why.is_some_and(|w| w.contains("EDAT-1")));
    // Invalidated (pmdp_invalidate): I set, the DAT faults before FC.
    let pmdp = mm.find_pmd(va).unwrap().unwrap();
    let v = mm.pmdp_get(pmdp).unwrap();
    mm.set_entry(pmdp, a.pmd_mkinvalid(Pmd(v.0)).0).unwrap();
    assert!(hw.unchecked(mm.pgd_pa(), va + 0x1234).unwrap().is_none());
    let p = probe(&mm, &mut hw, va + 0x1234, Kind::Invalidated).unwrap();
    assert!(p.agree && p.read.pa().is_none(), "{:?}", p.read);
    assert!(hw.describe().contains("NOT checked"));
    assert_eq!(hw.phys_bits(), 23);
}
