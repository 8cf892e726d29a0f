//! The model's translation against Unicorn's arm MMU on the very same
//! bytes, on both configurations, and on `arm` the hardware twin of every
//! Linux pte checked bit by bit against `cpu_v7_set_pte_ext` recomputed
//! here, independently, from the assembly's rules.

use std::sync::Arc;

use arch_arm::Arm;
use mm_core::family::{FamilyStatus, Rng};
use mm_core::machine::Mode;
use mm_core::walkcheck::{self, probe, Kind, WalkParams};
use mm_core::{map, Arch, Machine, Mm};

#[test]
fn walk_family_agrees_over_1000_probes() {
    // LPAE's huge pmds swallow many random mappings (collisions are
    // skipped), so it gets more attempts to reach 1000 probes.
    for (name, mappings) in [("arm", 1500), ("arm-lpae", 3000)] {
        let a = Arm::from_name(name).expect("config");
        let rep = walkcheck::walk_family(
            &a,
            WalkParams {
                mappings,
                seed: 0xa53,
            },
        )
        .expect("walk family");
        assert_eq!(
            rep.family.status,
            FamilyStatus::Pass,
            "{name}: {:?}",
            rep.family.failures
        );
        let mapped = rep.probes.iter().filter(|p| p.model.pa().is_some()).count();
        let unmapped = rep.probes.len() - mapped;
        eprintln!(
            "{name}: {} probes agree ({mapped} mapped, {unmapped} not)",
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
        let mut kinds = vec![Kind::Page, Kind::Swap, Kind::Unmapped];
        if name == "arm-lpae" {
            kinds.extend([Kind::Huge, Kind::Invalidated]);
        }
        for kind in kinds {
            assert!(
                rep.probes.iter().any(|p| p.kind == kind),
                "{name}: no {kind:?} probe"
            );
        }
        // PROT_NONE ptes (present to Linux) fault in hardware too.
        assert!(rep
            .probes
            .iter()
            .any(|p| p.kind == Kind::Page && p.model.pa().is_none()));
        assert!(rep.walker.contains("unicorn"), "{}", rep.walker);
    }
}

/// `cpu_v7_set_pte_ext(ptep, pte, ext)`, transcribed instruction by
/// instruction from arch/arm/mm/proc-v7-2level.S (v6.6) as register
/// operations, independently of arch-arm's implementation.
fn ref_set_pte_ext(r1: u32, r2: u32) -> u32 {
    const L_PTE_VALID: u32 = 1;
    const L_PTE_YOUNG: u32 = 1 << 1;
    const L_PTE_DIRTY: u32 = 1 << 6;
    const L_PTE_RDONLY: u32 = 1 << 7;
    const L_PTE_USER: u32 = 1 << 8;
    const L_PTE_XN: u32 = 1 << 9;
    const L_PTE_NONE: u32 = 1 << 11;
    let mut r1 = r1;
    let mut r3 = r1 & !0x0000_03f0; // bic r3, r1, #0x3f0
    r3 &= !3; // bic r3, r3, #PTE_TYPE_MASK
    r3 |= r2; // orr r3, r3, r2
    r3 |= (1 << 4) | 2; // orr r3, r3, #PTE_EXT_AP0 | 2
    if r1 & (1 << 4) != 0 {
        r3 |= 1 << 6; // orrne r3, r3, #PTE_EXT_TEX(1)
    }
    r1 ^= L_PTE_DIRTY; // eor r1, r1, #L_PTE_DIRTY
    if r1 & (L_PTE_RDONLY | L_PTE_DIRTY) != 0 {
        r3 |= 1 << 9; // orrne r3, r3, #PTE_EXT_APX
    }
    if r1 & L_PTE_USER != 0 {
        r3 |= 1 << 5; // orrne r3, r3, #PTE_EXT_AP1
    }
    if r1 & L_PTE_XN != 0 {
        r3 |= 1; // orrne r3, r3, #PTE_EXT_XN
    }
    // tst r1, #L_PTE_YOUNG; tstne r1, #L_PTE_VALID; eorne r1, r1,
    // #L_PTE_NONE; tstne r1, #L_PTE_NONE; moveq r3, #0
    let mut z = r1 & L_PTE_YOUNG == 0;
    if !z {
        z = r1 & L_PTE_VALID == 0;
    }
    if !z {
        r1 ^= L_PTE_NONE;
        z = r1 & L_PTE_NONE == 0;
    }
    if z {
        r3 = 0;
    }
    r3
}

/// `set_ptes()`'s ext for a user address: nG iff `pte_valid_user()`.
fn ref_ext(pte: u32) -> u32 {
    if pte & 1 != 0 && pte & (1 << 8) != 0 && pte & 2 != 0 {
        1 << 11
    } else {
        0
    }
}

const HW_BIT_NAMES: [&str; 12] = [
    "XN",
    "TYPE_SMALL",
    "B",
    "C",
    "AP0",
    "AP1",
    "TEX0",
    "TEX1",
    "TEX2",
    "APX",
    "S",
    "nG",
];

/// Every pte page reachable from the pgd: check the first-level pair and,
/// for each of the 512 Linux ptes, its twin bit by bit.  Returns (tables,
/// ptes, non-zero ptes) checked.
fn check_all_twins(mm: &Mm<Arm>) -> (usize, usize, usize) {
    let phys = mm.phys();
    let pgd = mm.pgd_pa();
    let (mut tables, mut ptes, mut live) = (0, 0, 0);
    for i in 0..2048u64 {
        let w0 = phys.load(pgd + 8 * i, 4).expect("w0");
        let w1 = phys.load(pgd + 8 * i + 4, 4).expect("w1");
        if w0 == 0 {
            assert_eq!(w1, 0, "pgd[{i}]: second word without a first");
            continue;
        }
        // pmd_populate: (page + 2048) | 0x35, and + 1024.
        let page = w0 & 0xffff_f000;
        assert_eq!(w0, page + 2048 + 0x35, "pgd[{i}] first word {w0:#x}");
        assert_eq!(w1, w0 + 1024, "pgd[{i}] second word {w1:#x}");
        tables += 1;
        for j in 0..512u64 {
            let linux = phys.load(page + 4 * j, 4).expect("linux") as u32;
            let twin = phys.load(page + 2048 + 4 * j, 4).expect("twin") as u32;
            let want = ref_set_pte_ext(linux, ref_ext(linux));
            for bit in 0..32 {
                let (g, w) = ((twin >> bit) & 1, (want >> bit) & 1);
                assert_eq!(
                    g,
                    w,
                    "pgd[{i}] pte[{j}] linux {linux:#010x}: twin {twin:#010x} bit {bit} ({}) is {g}, \
                     cpu_v7_set_pte_ext gives {want:#010x}",
                    HW_BIT_NAMES.get(bit).copied().unwrap_or("page base")
                );
            }
            ptes += 1;
            live += usize::from(linux != 0);
        }
    }
    (tables, ptes, live)
}

/// Random mappings of every kind the model makes (16 protections, dirty,
/// old, wrprotected, swap, PROT_NONE, cleared), every twin checked, and
/// every mapping translated by the emulator (which reads only the twins).
#[test]
fn every_twin_matches_cpu_v7_set_pte_ext_bit_by_bit() {
    let a = Arm::from_name("arm").expect("arm");
    let machine = Machine::new(a.geometry(), 32 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let mut hw = a.hw_walker(machine.clone()).expect("walker");
    let mut rng = Rng::new(0x7a1e);
    let task = a.geometry().task_size();
    let regions: Vec<u64> = (0..6).map(|_| rng.below(task >> 21) << 21).collect();
    let mut vas = Vec::new();
    for n in 0..3000u64 {
        let va = regions[rng.below(6) as usize] + (rng.below(512) << 12);
        let pfn = rng.below(1 << 20);
        let mut pte = a.pfn_pte(pfn, a.vm_get_page_prot(rng.below(16) as u8));
        match n % 6 {
            1 => pte = a.pte_mkdirty(pte),
            2 => pte = a.pte_mkold(a.pte_mkdirty(pte)),
            3 => pte = a.pte_wrprotect(a.pte_mkdirty(pte)),
            4 => {
                let e = a.__swp_entry(rng.below(23), rng.below(1 << 24));
                pte = a.__swp_entry_to_pte(e);
                if rng.below(2) == 0 {
                    pte = a.pte_swp_mkexclusive(pte);
                }
            }
            5 => pte = mm_core::Pte(pte.0 ^ (rng.next_u64() & 0xfff)),
            _ => {}
        }
        map::set_pte(&mm, va, pte, true).expect("set_pte");
        vas.push(va);
        if n % 10 == 9 {
            let _ = map::unmap_page(&mm, vas[rng.below(vas.len() as u64) as usize]);
        }
    }
    let (tables, ptes, live) = check_all_twins(&mm);
    eprintln!("arm: {tables} pte pages, {ptes} twins checked bit by bit, {live} non-zero");
    assert!(tables >= 6 && ptes == tables * 512 && live > 1500);
    let mut writable = 0;
    for va in &vas {
        let p = probe(&mm, hw.as_mut(), *va | 0x18, Kind::Page).expect("probe");
        assert!(
            p.agree,
            "va {va:#x}: model {:?} read {:?} write {:?}",
            p.model.outcome, p.read, p.write
        );
        writable += usize::from(p.write.pa().is_some());
    }
    assert!(writable > 50, "only {writable} hardware-writable leaves");
    drop(hw);
    mm.mmput().expect("mmput");
}

/// After the generic walk family's mappings too, every twin is right.
#[test]
fn twins_after_walk_family_style_mappings() {
    let a = Arm::from_name("arm").expect("arm");
    let machine = Machine::new(a.geometry(), 32 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let mut rng = Rng::new(0xbeef);
    let targets = walkcheck::random_mappings(&mm, &mut rng, 1200, 32).expect("mappings");
    assert!(targets.len() > 900);
    let (tables, _, live) = check_all_twins(&mm);
    assert!(tables > 0 && live > 500, "{tables} tables, {live} ptes");
    mm.mmput().expect("mmput");
}

/// Dirty, writable LPAE mappings are writable in the emulator; clean or
/// old ones are not (AP2 / AF), huge ones likewise.
#[test]
fn lpae_dirty_young_semantics_under_emulation() {
    let a = Arm::from_name("arm-lpae").expect("lpae");
    let machine = Machine::new(a.geometry(), 16 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let mut hw = a.hw_walker(machine.clone()).expect("walker");
    let rw = a.vm_get_page_prot(0xb);
    let cases = [
        (0x1000_0000u64, a.pfn_pte(0x100, rw), true, false),
        (0x1000_1000, a.pte_mkdirty(a.pfn_pte(0x101, rw)), true, true),
        (
            0x1000_2000,
            a.pte_mkold(a.pte_mkdirty(a.pfn_pte(0x102, rw))),
            false,
            false,
        ),
        (
            0x1000_3000,
            a.pte_wrprotect(a.pte_mkdirty(a.pfn_pte(0x103, rw))),
            true,
            false,
        ),
        (
            0x1000_4000,
            a.pfn_pte(0x104, a.vm_get_page_prot(0)),
            false,
            false,
        ),
    ];
    for (va, pte, read, write) in cases {
        map::set_pte(&mm, va, pte, false).expect("map");
        let p = probe(&mm, hw.as_mut(), va + 8, Kind::Page).expect("probe");
        assert!(
            p.agree,
            "{va:#x}: {:?} {:?} {:?}",
            p.model.outcome, p.read, p.write
        );
        assert_eq!(p.read.pa().is_some(), read, "{va:#x} read {:?}", p.read);
        assert_eq!(p.write.pa().is_some(), write, "{va:#x} write {:?}", p.write);
    }
    let huge = a.pmd_mkdirty(a.pmd_mkhuge(a.pfn_pmd(0x400, rw)));
    map::set_pmd(&mm, 0x2000_0000, huge, false).expect("huge");
    let p = probe(&mm, hw.as_mut(), 0x2012_3458, Kind::Huge).expect("probe");
    assert!(p.agree && p.write.pa() == Some(0x52_3458), "{p:?}");
    drop(hw);
    mm.mmput().expect("mmput");
}

/// The walker refuses a misaligned root rather than walking garbage.
#[test]
fn classic_walker_requires_a_16k_aligned_root() {
    let a = Arm::from_name("arm").expect("arm");
    let machine = Machine::new(a.geometry(), 1 << 20, Mode::Deterministic).expect("machine");
    let mut hw = a.hw_walker(machine).expect("walker");
    assert!(hw
        .translate(0x5000, 0x1000, mm_core::emulate::Access::Read)
        .is_err());
    assert_eq!(hw.phys_bits(), 32);
}
