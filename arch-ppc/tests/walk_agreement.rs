//! The model's translation against the guest-code walker (guest/walk.c
//! under Unicorn PPC32) over at least 1000 random mappings on every
//! configuration, plus targeted walks that show what the guest checks.

use std::sync::Arc;

use arch_ppc::emulate::{guest_available, PpcGuestWalker, INSTALL_HINT};
use arch_ppc::Ppc;
use mm_core::emulate::{Access, HwOutcome, HwWalker};
use mm_core::machine::{Machine, Mode};
use mm_core::walkcheck::{walk_family, WalkParams};
use mm_core::{map, Arch, Mm};

fn require_guest() -> bool {
    match guest_available() {
        Ok(()) => true,
        Err(why) => {
            // The build must not fail without the cross compiler, but the
            // test says loudly what it could not check.
            assert!(why.contains(INSTALL_HINT), "{why}");
            eprintln!("SKIPPED (no guest walker): {why}");
            false
        }
    }
}

#[test]
fn at_least_1000_random_mappings_agree_on_every_configuration() {
    if !require_guest() {
        return;
    }
    for name in Ppc::configurations() {
        let a = Ppc::from_name(name).unwrap();
        let mut total = 0;
        for seed in [0x77a1_c0de_u64, 0x5eed_0001, 0x5eed_0002, 0x5eed_0003] {
            let r = walk_family(
                &a,
                WalkParams {
                    mappings: 700,
                    seed,
                },
            )
            .unwrap();
            assert_eq!(
                r.family.status,
                mm_core::family::FamilyStatus::Pass,
                "{name}: {:?}",
                r.family.failures
            );
            assert!(r.walker.contains("guest-code walker"));
            // Both outcomes occur: translations and faults.
            assert!(r.probes.iter().any(|p| p.read.pa().is_some()), "{name}");
            assert!(r.probes.iter().any(|p| p.read.pa().is_none()), "{name}");
            total += r.probes.len();
        }
        assert!(total >= 1000, "{name}: only {total} probes");
    }
}

fn setup(name: &str) -> (Arc<Machine>, Arc<Mm<Ppc>>, Ppc) {
    let a = Ppc::from_name(name).unwrap();
    let g = a.geometry().clone();
    let m = Machine::new(&g, 128 * g.page_size(), Mode::Deterministic).unwrap();
    let mm = Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
    (m, mm, a)
}

#[test]
fn radix_walker_follows_nls_and_rejects_a_wrong_size() {
    if !require_guest() {
        return;
    }
    for name in ["ppc64-radix-64k", "ppc64-radix-4k"] {
        let (m, mm, a) = setup(name);
        let va = 0x1234_5678_0000u64 & !(a.geometry().page_size() - 1);
        map::map_page(&mm, va, 0x4321, a.vm_get_page_prot(0xb)).unwrap();
        let mut hw = PpcGuestWalker::new(a.layout(), m.clone()).unwrap();
        let pa = 0x4321u64 << a.layout().page_shift;
        assert_eq!(
            hw.translate(mm.pgd_pa(), va + 0x18, Access::Write).unwrap(),
            HwOutcome::Translated { pa: pa + 0x18 }
        );
        let w = hw.walk(mm.pgd_pa(), va, false).unwrap();
        assert_eq!(w.trace.len(), 4, "{name}: pgd, pud, pmd, pte");
        // Corrupt the pmd's NLS (RADIX_PTE_INDEX_SIZE) by one: the hardware
        // walk indexes a different-sized table and must not agree.
        let pmdp = mm.find_pmd(va).unwrap().unwrap();
        let good = mm.pmdp_get(pmdp).unwrap().0;
        mm.set_entry(pmdp, good + 1).unwrap();
        let bad = hw.walk(mm.pgd_pa(), va, false).unwrap();
        assert!(bad.status & 0xff != 0 || bad.pa != pa, "{name}: {bad:?}");
        mm.set_entry(pmdp, good).unwrap();
        // A reserved directory bit faults.
        mm.set_entry(pmdp, good | 0x20).unwrap();
        let r = hw.walk(mm.pgd_pa(), va, false).unwrap();
        assert_eq!((r.status & 0xff, r.level()), (2, 2), "{name}: {r:?}");
        mm.set_entry(pmdp, good).unwrap();
        drop(hw);
        mm.mmput().unwrap();
    }
}

#[test]
fn permissions_at_the_leaf() {
    if !require_guest() {
        return;
    }
    for name in Ppc::configurations() {
        let (m, mm, a) = setup(name);
        let page = a.geometry().page_size();
        let mut hw = PpcGuestWalker::new(a.layout(), m.clone()).unwrap();
        // prot index -> (read ok, write ok)
        for (i, (flags, r, w)) in [
            (0u8, false, false),             // PAGE_NONE
            (0x1, true, false),              // read
            (0x3, true, false),              // private write: COW, read-only
            (0xb, true, true),               // shared write
            (0x4, !a.layout().radix, false), // exec-only on radix
        ]
        .into_iter()
        .enumerate()
        {
            let va = 0x10_0000_0000 + i as u64 * page;
            map::map_page(&mm, va, 0x100 + i as u64, a.vm_get_page_prot(flags)).unwrap();
            let rd = hw
                .translate(mm.pgd_pa(), va, Access::Read)
                .unwrap()
                .pa()
                .is_some();
            let wr = hw
                .translate(mm.pgd_pa(), va, Access::Write)
                .unwrap()
                .pa()
                .is_some();
            assert_eq!((rd, wr), (r, w), "{name}: vm_flags {flags:#x}");
            let model = mm_core::vtop::vtop(&mm, va).unwrap();
            assert_eq!(
                model.pa().is_some(),
                r,
                "{name}: model, vm_flags {flags:#x}"
            );
        }
        drop(hw);
        mm.mmput().unwrap();
    }
}
