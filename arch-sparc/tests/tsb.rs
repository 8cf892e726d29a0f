//! The TSB: the model's TSB and refill path ([`arch_sparc::tsb`]) against
//! what the guest refill code (`guest/tsb_refill.c`, under Unicorn) leaves in
//! memory, over a long sequence of misses with hits, collisions, huge pages
//! and faults; plus the model's own TSB rules.

use std::sync::Arc;

use arch_sparc::emulate::{guest_available, SparcWalker, GUEST_STATUS, TSB_BASE_PA, TSB_HUGE_PA};
use arch_sparc::entry::{_PAGE_VALID, PAGE_SHIFT};
use arch_sparc::tsb::{
    tsb_tag, MissOutcome, MmTsb, Tsb, MM_TSB_BASE, MM_TSB_HUGE, TSB_TAG_INVALID,
};
use arch_sparc::Sparc64;
use mm_core::machine::Mode;
use mm_core::vtop::vtop;
use mm_core::{map, Arch, Machine, Mm, Pte};

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn tsb_entry_rules() {
    let mut t = Tsb::new(512, PAGE_SHIFT).expect("tsb");
    assert!(Tsb::new(256, PAGE_SHIFT).is_err() && Tsb::new(1000, PAGE_SHIFT).is_err());
    assert!(t
        .entries()
        .iter()
        .all(|e| e.tag == TSB_TAG_INVALID && e.tag == 1 << 46));
    let va = 0x1234_5678_a000u64;
    assert_eq!(t.index(va), ((va >> 13) & 511) as usize);
    assert_eq!(tsb_tag(va), va >> 22);
    assert_eq!(t.probe(va), None);
    t.insert(va, 0x8000_0000_0000_2000);
    assert_eq!(t.probe(va), Some(0x8000_0000_0000_2000));
    // Same index, different tag (4M further): a conflict miss, then an
    // overwrite (the TSB is direct-mapped).
    let other = va + (4 << 20);
    assert_eq!(t.index(other), t.index(va));
    assert_eq!(t.probe(other), None);
    t.insert(other, 7);
    assert_eq!(t.probe(va), None);
    // The memory image: tag then TTE, big-endian, 16 bytes per entry.
    let img = t.to_be_bytes();
    let i = t.index(other) * 16;
    assert_eq!(&img[i..i + 8], &tsb_tag(other).to_be_bytes());
    assert_eq!(&img[i + 8..i + 16], &7u64.to_be_bytes());
    assert_eq!(Tsb::from_be_bytes(&img, PAGE_SHIFT).expect("image"), t);
    t.flush(other);
    assert_eq!(t.probe(other), None);
}

#[test]
fn update_mmu_cache_rules() {
    for a in [
        Sparc64::from_name("sparc64").unwrap(),
        Sparc64::from_name("sparc64-sun4u").unwrap(),
    ] {
        let l = a.layout();
        let mut m = MmTsb::new(512, 512).expect("tsbs");
        let va = 0x4000_2000;
        // Not pte_accessible (PROT_NONE: no V): not inserted.
        m.update_mmu_cache(l, va, a.pfn_pte(9, a.page_none()).0);
        assert_eq!(m.base.probe(va), None);
        let pte = a.pfn_pte(9, a.vm_get_page_prot(1)).0;
        m.update_mmu_cache(l, va, pte);
        assert_eq!(m.base.probe(va), Some(pte));
        // A young huge pmd goes to the huge TSB with VA bit 22.
        let h = a.pmd_mkhuge(a.pfn_pmd(0x400, a.vm_get_page_prot(3)));
        let hva = 0x8040_0000u64; // bit 22 set
        m.update_mmu_cache_pmd(l, hva, h.0);
        assert_eq!(m.huge.as_ref().unwrap().probe(hva), Some(h.0 | 1 << 22));
        // An old one (V and ACCESSED clear) is not.
        let mut m2 = MmTsb::new(512, 512).expect("tsbs");
        m2.update_mmu_cache_pmd(l, hva, a.pmd_mkold(h).0);
        assert_eq!(m2.huge.as_ref().unwrap().probe(hva), None);
    }
}

fn build(a: &Sparc64, seed: u64) -> (Arc<Mm<Sparc64>>, Vec<u64>) {
    let machine = Machine::new(a.geometry(), 32 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine).expect("mm");
    let mut rng = Rng(seed);
    let mut vas = Vec::new();
    // Three 8M regions of 8K pages with all 16 protections, young/old,
    // dirty/clean; region bases 4M apart modulo the TSB so that their pages
    // collide in the 8K TSB (index bits 13..21, tags differ).
    for region in [0x1_0000_0000u64, 0x1_0040_0000 + (64 << 20), 0x7_0000_0000] {
        for _ in 0..300 {
            let va = region + rng.below(1024) * 8192;
            let mut pte = a.pfn_pte(rng.below(1 << 20), a.vm_get_page_prot(rng.below(16) as u8));
            if rng.below(2) == 0 {
                pte = a.pte_mkdirty(pte);
            }
            if rng.below(5) == 0 {
                pte = a.pte_mkold(pte);
            }
            if rng.below(10) == 0 {
                pte = a.__swp_entry_to_pte(a.__swp_entry(rng.below(20), rng.below(1 << 20)));
            }
            if map::set_pte(&mm, va, pte, false).is_ok() {
                vas.push(va + (rng.below(8192) & !7));
            }
        }
    }
    // Huge pmds (some invalidated), 8M apart: both 4M halves are probed.
    for i in 0..40u64 {
        let va = 0x3_0000_0000 + i * (8 << 20);
        let mut h = a.pmd_mkhuge(a.pfn_pmd(
            rng.below(1 << 10) << 10,
            a.vm_get_page_prot(rng.below(16) as u8),
        ));
        if rng.below(4) == 0 {
            h = a.pmd_mkinvalid(h);
        }
        map::set_pmd(&mm, va, h, false).expect("huge");
        vas.push(va + rng.below(4 << 20));
        vas.push(va + (4 << 20) + rng.below(4 << 20));
    }
    // Unmapped addresses: no pud, and holes in populated tables.
    vas.push(0x5_0000_0000);
    vas.push(0x1_0000_0000 + 1023 * 8192 + 8);
    (mm, vas)
}

/// The guest's TSBs after thousands of misses equal the model's, entry for
/// entry, and every miss resolves the same way with the same TTE.
#[test]
fn guest_tsb_agrees_with_model_tsb() {
    if !guest_available() {
        eprintln!("SKIPPED guest_tsb_agrees_with_model_tsb: {GUEST_STATUS}");
        return;
    }
    for name in ["sparc64", "sparc64-sun4u"] {
        let a = Sparc64::from_name(name).expect("config");
        let l = a.layout();
        let (mm, vas) = build(&a, 0xdead_beef ^ name.len() as u64);
        let mut w = SparcWalker::new(a.tte_layout(), mm.machine().clone()).expect("walker");
        let mut model = MmTsb::new(512, 512).expect("tsbs");
        let mut rng = Rng(77);
        let mut counts = std::collections::BTreeMap::new();
        for step in 0..4000 {
            // Revisit earlier addresses often, so that TSB hits happen.
            let va = vas[rng.below(vas.len() as u64) as usize] ^ (rng.below(2) * 8 * (step & 1));
            let write = rng.below(3) == 0;
            let g = w.miss(mm.pgd_pa(), va, write).expect("guest");
            let m = model.tlb_miss(&mm, va).expect("model");
            assert_eq!(
                (g.outcome, g.tte),
                (m.outcome, m.tte),
                "{name} step {step} va {va:#x}"
            );
            *counts.entry(format!("{:?}", g.outcome)).or_insert(0u32) += 1;
            if g.outcome != MissOutcome::WalkFault {
                assert_eq!(g.tte & _PAGE_VALID, _PAGE_VALID);
                assert_eq!(g.pa, l.tte_pa(g.tte, va), "{name} va {va:#x}");
                // The TLB's answer is the model walk's.
                let v = vtop(&mm, va).expect("vtop");
                assert_eq!(Some(g.pa), v.pa(), "{name} va {va:#x}");
                let want_fault = write && g.tte & l.hw_w == 0;
                assert_eq!(
                    g.fault.is_some(),
                    want_fault,
                    "{name} va {va:#x} {:?}",
                    g.fault
                );
                let slot_base =
                    if matches!(g.outcome, MissOutcome::HitBase | MissOutcome::RefillBase) {
                        TSB_BASE_PA + ((va >> 13) & 511) * 16
                    } else {
                        TSB_HUGE_PA + ((va >> 22) & 511) * 16
                    };
                assert_eq!(g.slot, slot_base);
            } else {
                assert_eq!(vtop(&mm, va).expect("vtop").pa(), None, "{name} va {va:#x}");
            }
        }
        let gb = w.tsb(MM_TSB_BASE).expect("read").expect("base");
        let gh = w.tsb(MM_TSB_HUGE).expect("read").expect("huge");
        assert_eq!(gb, model.base, "{name}: 8K TSBs differ");
        assert_eq!(Some(&gh), model.huge.as_ref(), "{name}: huge TSBs differ");
        let valid = |t: &Tsb| {
            t.entries()
                .iter()
                .filter(|e| e.tag != TSB_TAG_INVALID)
                .count()
        };
        println!(
            "{name}: {counts:?}; 8K TSB {} valid entries, huge TSB {}",
            valid(&gb),
            valid(&gh)
        );
        for k in [
            "HitBase",
            "HitHuge",
            "RefillBase",
            "RefillHuge",
            "WalkFault",
        ] {
            assert!(
                counts.get(k).copied().unwrap_or(0) > 10,
                "{name}: too few {k}: {counts:?}"
            );
        }
        assert!(valid(&gb) > 300 && valid(&gh) > 20);
        // After the model's own flush and a refill both sides still agree.
        w.flush_tsbs().expect("flush");
        model = MmTsb::new(512, 512).expect("tsbs");
        for &va in vas.iter().take(200) {
            let g = w.miss(mm.pgd_pa(), va, false).expect("guest");
            let m = model.tlb_miss(&mm, va).expect("model");
            assert_eq!((g.outcome, g.tte), (m.outcome, m.tte));
        }
        assert_eq!(w.tsb(MM_TSB_BASE).unwrap().unwrap(), model.base);
    }
}

/// A stale TSB entry wins over the tables until it is flushed: the reason
/// the kernel flushes the TSB (`flush_tsb_user()`) when it changes a pte, and
/// the reason `translate()` starts from empty TSBs.
#[test]
fn stale_tsb_entry_until_flushed() {
    if !guest_available() {
        eprintln!("SKIPPED stale_tsb_entry_until_flushed: {GUEST_STATUS}");
        return;
    }
    let a = Sparc64::from_name("sparc64").unwrap();
    let machine = Machine::new(a.geometry(), 4 << 20, Mode::Deterministic).expect("machine");
    let mm = Mm::new(Arc::new(a.clone()), machine.clone()).expect("mm");
    let va = 0x2_0000_4000u64;
    map::map_page(&mm, va, 0x55, a.vm_get_page_prot(1)).expect("map");
    let mut w = SparcWalker::new(a.tte_layout(), machine).expect("walker");
    let first = w.miss(mm.pgd_pa(), va, false).expect("miss");
    assert_eq!(first.outcome, MissOutcome::RefillBase);
    assert_eq!(first.pa, 0x55 << 13);
    map::set_pte(&mm, va, Pte(0), true).expect("clear");
    let stale = w.miss(mm.pgd_pa(), va, false).expect("miss");
    assert_eq!(
        (stale.outcome, stale.pa),
        (MissOutcome::HitBase, 0x55 << 13)
    );
    w.flush_tsbs().expect("flush");
    let after = w.miss(mm.pgd_pa(), va, false).expect("miss");
    assert_eq!(after.outcome, MissOutcome::WalkFault);
}
