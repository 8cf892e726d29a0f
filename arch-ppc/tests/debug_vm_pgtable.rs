//! Exact entry values for radix and hash (worked out by hand from the v6.6
//! headers), and the `debug_vm_pgtable` families on all four configurations.

use arch_ppc::Ppc;
use mm_core::arch::{decode_flags, vm_flags::*};
use mm_core::debug_vm_pgtable::{run_all, Params};
use mm_core::family::FamilyStatus;
use mm_core::{Arch, Level, Pgprot, Pmd, Pte, Pud};

fn cfg(name: &str) -> Ppc {
    Ppc::from_name(name).unwrap()
}

#[test]
fn protection_map_values() {
    for name in Ppc::configurations() {
        let a = cfg(name);
        let radix = name.contains("radix");
        let p = |f: u8| a.vm_get_page_prot(f).0;
        assert_eq!(p(0), 0x8000_0000_0000_0108, "PAGE_NONE");
        assert_eq!(p(VM_SHARED), 0x8000_0000_0000_0108);
        assert_eq!(p(VM_READ), 0x8000_0000_0000_0104, "PAGE_READONLY");
        assert_eq!(p(VM_WRITE), 0x8000_0000_0000_0104, "PAGE_COPY");
        assert_eq!(p(VM_READ | VM_WRITE), 0x8000_0000_0000_0104);
        assert_eq!(
            p(VM_SHARED | VM_WRITE),
            0x8000_0000_0000_0106,
            "PAGE_SHARED"
        );
        assert_eq!(
            p(VM_SHARED | VM_WRITE | VM_READ | VM_EXEC),
            0x8000_0000_0000_0107
        );
        assert_eq!(
            p(VM_READ | VM_EXEC),
            0x8000_0000_0000_0105,
            "PAGE_READONLY_X"
        );
        let xo = if radix {
            0x8000_0000_0000_0101
        } else {
            0x8000_0000_0000_0105
        };
        assert_eq!(p(VM_EXEC), xo, "{name}: execute-only");
        assert_eq!(p(VM_EXEC | VM_SHARED), xo, "{name}: shared execute-only");
    }
}

#[test]
fn pte_values() {
    let shared = Pgprot(0x8000_0000_0000_0106);
    let r64 = cfg("ppc64-radix-64k");
    let pte = r64.pfn_pte(0x1234, shared);
    assert_eq!(pte, Pte(0xc000_0000_1234_0106));
    assert!(r64.pte_present(pte) && r64.pte_write(pte) && r64.pte_young(pte));
    assert_eq!(r64.pte_pfn(pte), 0x1234);
    assert_eq!(
        r64.pte_mkdirty(pte),
        Pte(0xc000_0000_1234_0386),
        "DIRTY|SOFT_DIRTY"
    );
    assert_eq!(r64.pte_wrprotect(pte), Pte(0xc000_0000_1234_0104));
    assert_eq!(r64.pte_mkdevmap(pte), Pte(0xc000_0000_1234_0d06));
    let r4 = cfg("ppc64-radix-4k");
    assert_eq!(r4.pfn_pte(0x1234, shared), Pte(0xc000_0000_0123_4106));
    // pte_none: radix ignores R and C; hash ignores _PAGE_HPTEFLAGS.
    assert!(r64.pte_none(Pte(0x180)) && !r64.pte_none(Pte(0x40)));
    let h64 = cfg("ppc64-hash-64k");
    assert!(h64.pte_none(Pte(0x0080_0000_0000_1040)) && !h64.pte_none(Pte(0x80)));
    let h4 = cfg("ppc64-hash-4k");
    assert!(h4.pte_none(Pte(0x11e0_0000_0000_0040)) && !h4.pte_none(Pte(0x80)));
    // PAGE_NONE is protnone, present, and not usable by the MMU.
    let none = r64.pfn_pte(5, r64.page_none());
    assert!(r64.pte_protnone(none) && r64.pte_present(none) && !r64.pte_hw_valid(none));
    assert!(r64.kernel_pte_hw_valid(none));
    // Radix execute-only: present, not readable by a user load.
    let xo = r64.pfn_pte(5, r64.vm_get_page_prot(VM_EXEC));
    assert!(r64.pte_present(xo) && !r64.pte_protnone(xo) && !r64.pte_hw_valid(xo));
    // pte_modify keeps the pfn, R/C, special, soft-dirty, devmap, PTE.
    let m = r64.pte_modify(
        r64.pte_mkspecial(r64.pte_mkdirty(pte)),
        Pgprot(0x8000_0000_0000_0104),
    );
    assert_eq!(m, Pte(0xc000_0000_1234_0784));
}

#[test]
fn directory_values() {
    let r64 = cfg("ppc64-radix-64k");
    assert_eq!(
        r64.pmd_populate(0x50300),
        Pmd(0x8000_0000_0005_0305),
        "NLS 5"
    );
    assert_eq!(r64.pud_populate(0x31000).0, 0x8000_0000_0003_1009, "NLS 9");
    assert_eq!(r64.p4d_populate(0x30000).0, 0x8000_0000_0003_0009, "NLS 9");
    assert_eq!(r64.pmd_table_pa(Pmd(0x8000_0000_0005_0305)), 0x50300);
    assert!(!r64.pmd_bad(Pmd(0x8000_0000_0005_0305)));
    assert!(r64.pmd_bad(Pmd(0x8000_0000_0005_0325)), "reserved bit 5");
    assert!(r64.pmd_bad(Pmd(0xa000_0000_0005_0305)), "SW0");
    let r4 = cfg("ppc64-radix-4k");
    assert_eq!(r4.pmd_populate(0x5000), Pmd(0x8000_0000_0000_5009));
    let h64 = cfg("ppc64-hash-64k");
    assert_eq!(h64.pmd_populate(0x53000), Pmd(0x8000_0000_0005_3000));
    assert!(!h64.pmd_bad(Pmd(0x8000_0000_0005_3000)));
    assert!(
        h64.pmd_bad(Pmd(0x8000_0000_0005_3800)),
        "H_PMD_BAD_BITS = 4K - 1"
    );
    assert!(!h64.pud_bad(Pud(0x8000_0000_0003_4000)));
    assert!(
        h64.pud_bad(Pud(0x8000_0000_0003_2000)),
        "H_PUD_BAD_BITS = 16K - 1"
    );
    let h4 = cfg("ppc64-hash-4k");
    assert!(!h4.pud_bad(Pud(0x8000_0000_0000_3400)) && h4.pud_bad(Pud(0x8000_0000_0000_3200)));
    // hash p4d_bad() is "value == 0".
    assert!(!h64.p4d_bad(mm_core::P4d(0x8000_0000_0000_00ff)));
}

#[test]
fn thp_values_and_the_hash_thp_marker() {
    let shared = Pgprot(0x8000_0000_0000_0106);
    let r64 = cfg("ppc64-radix-64k");
    let h64 = cfg("ppc64-hash-64k");
    let rp = r64.pmd_mkhuge(r64.pfn_pmd(0x100, shared));
    assert_eq!(rp, Pmd(0xc000_0000_0100_0106));
    let hp = h64.pmd_mkhuge(h64.pfn_pmd(0x100, shared));
    assert_eq!(hp, Pmd(0xc000_0000_0100_2106), "H_PAGE_THP_HUGE = 0x2000");
    assert!(r64.pmd_trans_huge(rp) && h64.pmd_trans_huge(hp));
    // A hash pmd leaf without the marker is a hugetlb page, not a THP.
    assert!(!h64.pmd_trans_huge(Pmd(hp.0 & !0x2000)) && h64.pmd_leaf(Pmd(hp.0 & !0x2000)));
    assert!(decode_flags(&h64, Level::Pmd, hp.0).contains(&"THP_HUGE"));
    // devmap is not trans_huge.
    let dv = r64.pmd_mkdevmap(rp);
    assert!(r64.pmd_devmap(dv) && !r64.pmd_trans_huge(dv));
    // pmdp_invalidate(): PRESENT off, INVALID on: still present to Linux.
    let inv = r64.pmd_mkinvalid(rp);
    assert_eq!(inv, Pmd(0x6000_0000_0100_0106));
    assert!(r64.pmd_present(inv) && r64.pmd_trans_huge(inv) && !r64.pmd_hw_valid(inv));
    assert!(r64.pmd_is_serializing(inv));
    // pmd_modify keeps the hash THP marker.
    assert_eq!(
        h64.pmd_modify(hp, Pgprot(0x8000_0000_0000_0104)).0,
        0xc000_0000_0100_2104
    );
    // Radix pud leaves.
    let pud = r64.pfn_pud(0x4000, shared);
    assert_eq!(pud, Pud(0xc000_0000_4000_0106));
    assert!(r64.pud_trans_huge(pud) && r64.pud_leaf(pud) && r64.pud_pfn(pud) == 0x4000);
    // hash-4k: no THP.
    let h4 = cfg("ppc64-hash-4k");
    assert!(!h4.geometry().has_thp && !h4.pmd_trans_huge(h4.pfn_pmd(0x200, shared)));
    // pmd_clear() WARNs on hash for HASHPTE|PTE (why RANDOM_ORVALUE skips bit 62).
    assert!(h64.pmd_clear_warns(Pmd(0x4080_0000_0000_0000)));
    assert!(!h64.pmd_clear_warns(Pmd(0x0080_0000_0000_0000)));
    assert!(!r64.pmd_clear_warns(Pmd(0x4080_0000_0000_0000)));
}

#[test]
fn swap_and_migration_values() {
    for (name, shift) in [("ppc64-radix-64k", 16), ("ppc64-hash-4k", 12)] {
        let a = cfg(name);
        let e = a.__swp_entry(3, 0x55);
        let pte = a.__swp_entry_to_pte(e);
        assert_eq!(pte.0, 0x4000_0000_0000_0003 | 0x55 << shift, "{name}");
        assert!(!a.pte_present(pte) && !a.pte_none(pte));
        assert_eq!(a.pte_swp_mkexclusive(pte).0, pte.0 | 0x20);
        assert_eq!(a.pte_swp_mksoft_dirty(pte).0, pte.0 | 0x200);
        assert_eq!(a.__pte_to_swp_entry(pte), e);
        assert_eq!(a.max_swapfile_offset(), (1u64 << (53 - shift)) - 1);
        let flags = decode_flags(&a, Level::Pte, a.pte_swp_mkexclusive(pte).0);
        assert!(flags.contains(&"SWP_EXCLUSIVE") && !flags.contains(&"NON_IDEMPOTENT"));
    }
    // A pmd migration entry.
    let a = cfg("ppc64-hash-64k");
    let m = mm_core::swapops::make_writable_migration_entry(&a, 0x100);
    let pmd = a.__swp_entry_to_pmd(m);
    assert!(mm_core::swapops::is_pmd_migration_entry(&a, pmd));
    assert!(!a.pmd_present(pmd) && a.pmd_leaf(pmd));
}

#[test]
fn big_endian_storage() {
    use std::sync::Arc;
    let a = cfg("ppc64-radix-64k");
    let m = mm_core::Machine::new(
        a.geometry(),
        64 << 16,
        mm_core::machine::Mode::Deterministic,
    )
    .unwrap();
    let mm = mm_core::Mm::new(Arc::new(a.clone()), m.clone()).unwrap();
    mm_core::map::map_page(&mm, 0x10000, 0x1234, Pgprot(0x8000_0000_0000_0106)).unwrap();
    let pmdp = mm.find_pmd(0x10000).unwrap().unwrap();
    let t = a.pmd_table_pa(mm.pmdp_get(pmdp).unwrap());
    let bytes = m.phys.read_bytes(t + 8, 8).unwrap();
    assert_eq!(bytes, 0xc000_0000_1234_0106u64.to_be_bytes());
    mm.mmput().unwrap();
}

#[test]
fn families_pass_or_skip_with_a_reason_on_all_configs() {
    for name in Ppc::configurations() {
        let a = cfg(name);
        let res = run_all(&a, Params::default()).unwrap();
        assert!(res.len() >= 30);
        for r in &res {
            match &r.status {
                FamilyStatus::Pass => assert!(r.checks > 0, "{name} {}", r.name),
                FamilyStatus::Skip(why) => assert!(
                    why.contains("CONFIG_") || why.contains("FOLDED"),
                    "{name} {}: skip without a Kconfig reason: {why}",
                    r.name
                ),
                other => panic!("{name} {}: {other:?} {:?}", r.name, r.failures),
            }
        }
        let passed = res
            .iter()
            .filter(|r| r.status == FamilyStatus::Pass)
            .count();
        // Includes pud_clear_tests and p4d_clear_tests.
        let want = match *name {
            "ppc64-hash-4k" => 17,
            "ppc64-hash-64k" => 26,
            _ => 30,
        };
        assert_eq!(passed, want, "{name}");
    }
}
