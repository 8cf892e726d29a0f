//! Exact v6.6 encodings of s390x entries, and the `mm/debug_vm_pgtable.c`
//! families on every configuration (s390 selects
//! `ARCH_HAS_DEBUG_VM_PGTABLE`, so upstream runs them too).

use arch_s390::entry::*;
use arch_s390::S390;
use mm_core::arch::{Level, P4d, Pgd, Pgprot, Pmd, Pte, Pud};
use mm_core::debug_vm_pgtable::{run_all, Params};
use mm_core::family::FamilyStatus;
use mm_core::Arch;

fn s390x() -> S390 {
    S390::from_name("s390x").unwrap()
}

#[test]
fn protection_map_and_pfn_pte_exact_values() {
    let a = s390x();
    assert_eq!(PAGE_NONE, 0x601);
    assert_eq!(PAGE_RO, 0x711);
    assert_eq!(PAGE_RX, 0x611);
    assert_eq!(PAGE_RW, 0x731);
    assert_eq!(PAGE_RWX, 0x631);
    // Private writable mappings are read-only (COW); shared get RW/RWX.
    let want = [
        0x601, 0x711, 0x711, 0x711, 0x611, 0x611, 0x611, 0x611, 0x601, 0x711, 0x731, 0x731, 0x611,
        0x611, 0x631, 0x631,
    ];
    for (i, w) in want.iter().enumerate() {
        assert_eq!(a.vm_get_page_prot(i as u8), Pgprot(*w), "prot[{i:#x}]");
    }
    // pfn_pte ends in pte_mkyoung: I cleared for readable protections.
    assert_eq!(a.pfn_pte(0x1234, Pgprot(PAGE_RW)), Pte(0x123_4335));
    assert_eq!(a.pfn_pte(0x1234, Pgprot(PAGE_RO)), Pte(0x123_4315));
    assert_eq!(a.pfn_pte(0x1234, Pgprot(PAGE_NONE)), Pte(0x123_4605));
    let rw = a.pfn_pte(0x1234, Pgprot(PAGE_RW));
    assert!(
        a.pte_write(rw) && !a.pte_hw_writable(rw),
        "clean writable pte stays protected"
    );
    let dirty = a.pte_mkdirty(rw);
    assert_eq!(dirty, Pte(0x123_413f));
    assert!(a.pte_hw_writable(dirty) && a.pte_hw_valid(dirty));
    assert_eq!(a.pte_mkold(dirty), Pte(0x123_453b));
    assert!(!a.pte_hw_valid(a.pte_mkold(dirty)));
    assert!(a.pte_protnone(a.pfn_pte(1, a.page_none())));
    assert!(!a.pte_hw_valid(a.pfn_pte(1, a.page_none())));
    assert_eq!(a.pte_modify(dirty, Pgprot(PAGE_RO)), Pte(0x123_431f));
    assert_eq!(a.pte_wrprotect(dirty), Pte(0x123_431f));
    // Empty and cleared entries are not zero.
    assert!(a.pte_none(Pte(0x400)) && !a.pte_none(Pte(0)));
    assert_eq!(a.pte_clear_val(), Pte(0x400));
    assert_eq!(a.pmd_clear_val(), Pmd(0x20));
}

#[test]
fn swap_entries_exact_values() {
    let a = s390x();
    let e = a.__swp_entry(3, 0x1234);
    assert_eq!(e.0, 0x123_460c);
    let pte = a.__swp_entry_to_pte(e);
    assert!(pte_swap(pte.0) && !a.pte_present(pte) && !a.pte_none(pte));
    assert_eq!((a.__swp_type(e), a.__swp_offset(e)), (3, 0x1234));
    assert_eq!(a.pte_swp_mkexclusive(pte), Pte(0x123_4e0c));
    assert_eq!(a.pte_swp_mksoft_dirty(pte), Pte(0x123_460e));
    assert_eq!(a.max_swapfile_offset(), (1 << 52) - 1);
    assert_eq!(a.__swp_entry(0x1f, u64::MAX).0, 0xffff_ffff_ffff_f67c);
}

#[test]
fn segment_entries_exact_values() {
    let a = s390x();
    assert_eq!(a.pmd_populate(0x12_3800), Pmd(0x12_3800));
    assert_eq!(a.pmd_table_pa(Pmd(0x12_3800)), 0x12_3800);
    assert!(!a.pmd_bad(Pmd(0x12_3800)) && a.pmd_present(Pmd(0x12_3800)));
    assert!(a.pmd_none(Pmd(0x20)) && !a.pmd_present(Pmd(0x20)) && !a.pmd_none(Pmd(0)));
    assert!(a.pmd_bad(Pmd(0x12_3804)), "TT bits set");
    assert!(
        a.pmd_bad(Pmd(0x12_3840)),
        "a bit outside _SEGMENT_ENTRY_BITS"
    );
    // Large segments: massage_pgprot_pmd + pmd_mkhuge.
    assert_eq!(a.pfn_pmd(0x100, Pgprot(PAGE_RW)), Pmd(0x10_0103));
    let huge = a.pmd_mkhuge(a.pfn_pmd(0x100, Pgprot(PAGE_RW)));
    assert_eq!(huge, Pmd(0x10_1703));
    assert!(a.pmd_trans_huge(huge) && a.pmd_leaf(huge) && a.pmd_bad(huge));
    assert_eq!(a.pmd_pfn(huge), 0x100);
    assert!(a.pmd_hw_valid(huge) && !a.pmd_hw_writable(huge) && a.pmd_write(huge));
    assert_eq!(a.pmd_mkdirty(huge), Pmd(0x10_7503));
    assert_eq!(a.pmd_mkold(huge), Pmd(0x10_0723));
    let none = a.pmd_mkhuge(a.pfn_pmd(0x100, a.page_none()));
    assert_eq!(none, Pmd(0x10_1620));
    assert!(a.pmd_protnone(none) && a.pmd_present(none) && !a.pmd_hw_valid(none));
    let inval = a.pmd_mkinvalid(huge);
    assert!(a.pmd_present(inval) && a.pmd_trans_huge(inval) && !a.pmd_hw_valid(inval));
    assert_eq!(a.pmd_modify(huge, Pgprot(PAGE_RO)), Pmd(0x10_1701));
}

#[test]
fn region_entries_and_asce_exact_values() {
    let a = s390x();
    assert_eq!(a.pud_populate(0x8000), Pud(0x8007));
    assert_eq!(a.p4d_populate(0x8000), P4d(0x800b));
    assert_eq!(a.pgd_populate(0x8000), Pgd(0x800f));
    assert!(a.pud_none(Pud(0x24)) && a.p4d_none(P4d(0x28)) && a.pgd_none(Pgd(0x2c)));
    // Entries of a lower type are folded levels: never none, always present.
    assert!(!a.pgd_none(Pgd(0x24)) && a.pgd_present(Pgd(0x24)) && !a.pgd_bad(Pgd(0x24)));
    assert!(!a.p4d_none(P4d(0x24)) && !a.pud_none(Pud(0x20)));
    assert!(
        a.pud_bad(Pud(0x800b)),
        "an R2 entry where an R3 is expected"
    );
    assert!(a.pud_bad(Pud(0x8047)), "a bit outside _REGION_ENTRY_BITS");
    assert!(a.pud_leaf(Pud(0x8000_0407)) && a.pud_bad(Pud(0x8000_0407)));
    assert_eq!(a.pud_pfn(Pud(0x8000_0407)), 0x8_0000);
    assert_eq!(a.asce(0x4000), 0x41c7);
    assert_eq!(
        S390::from_name("s390x-4level").unwrap().asce(0x4000),
        0x41cb
    );
    assert_eq!(
        S390::from_name("s390x-5level").unwrap().asce(0x4000),
        0x41cf
    );
    let g = a.geometry();
    assert_eq!(g.level(Level::Pgd).table_bytes, 16384);
    assert_eq!(g.level(Level::Pte).table_bytes, 2048);
    assert_eq!(
        (g.task_size(), g.pmd_size(), g.nr_levels()),
        (1 << 42, 1 << 20, 3)
    );
    assert_eq!(
        S390::from_name("s390x-5level")
            .unwrap()
            .geometry()
            .nr_levels(),
        5
    );
}

#[test]
fn families_pass_or_skip_with_a_reason_on_every_configuration() {
    for name in S390::configurations() {
        for variant in ["merged", "v1"] {
            let a = S390::with_variant(name, variant).unwrap();
            let res = run_all(
                &a,
                Params {
                    pfns_per_prot: 96,
                    seed: 0x5390,
                },
            )
            .unwrap();
            let mut passed = 0;
            for f in &res {
                match &f.status {
                    FamilyStatus::Pass => {
                        assert!(f.checks > 0, "{name} {}", f.name);
                        passed += 1;
                    }
                    FamilyStatus::Skip(why) => assert!(
                        why.contains("CONFIG_") || why.contains("__PAGETABLE_"),
                        "{name} {}: {why}",
                        f.name
                    ),
                    s => panic!("{name}/{variant} {}: {s:?} {:?}", f.name, f.failures),
                }
            }
            assert!(passed >= 19, "{name}: {passed} passed");
        }
    }
}
