//! The `mm/debug_vm_pgtable.c` (v6.6) identities on both sparc64 layouts
//! (Linux never runs them on sparc: no `ARCH_HAS_DEBUG_VM_PGTABLE`), plus
//! exact values of the helpers and of the 16 protections as
//! `sun4u_pgprot_init()`/`sun4v_pgprot_init()` build them.

use arch_sparc::entry::*;
use arch_sparc::{Sparc64, TteLayout};
use mm_core::arch::{P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry};
use mm_core::debug_vm_pgtable::{self, Params};
use mm_core::family::FamilyStatus;
use mm_core::Arch;

fn v() -> Sparc64 {
    Sparc64::from_name("sparc64").expect("sparc64")
}
fn u() -> Sparc64 {
    Sparc64::from_name("sparc64-sun4u").expect("sparc64-sun4u")
}

#[test]
fn configurations_and_geometry() {
    assert_eq!(Sparc64::configurations(), &["sparc64", "sparc64-sun4u"]);
    assert_eq!(v().tte_layout(), TteLayout::Sun4v);
    assert_eq!(u().tte_layout(), TteLayout::Sun4u);
    assert!(Sparc64::from_name("sparc32").is_none());
    for a in [v(), u()] {
        let g = a.geometry();
        assert_eq!(g.page_shift, 13);
        assert_eq!(g.nr_levels(), 4);
        assert_eq!(g.pmd_size(), 8 << 20);
        assert_eq!(g.byte_order, mm_core::ByteOrder::Big);
        for (l, shift) in [
            (mm_core::Level::Pgd, 43),
            (mm_core::Level::Pud, 33),
            (mm_core::Level::Pmd, 23),
            (mm_core::Level::Pte, 13),
        ] {
            let lg = g.level(l);
            assert_eq!(
                (lg.shift, lg.ptrs, lg.table_bytes, lg.entry_bytes),
                (shift, 1024, 8192, 8)
            );
        }
        assert!(g.level(mm_core::Level::P4d).is_folded());
        // PGDIR_SHIFT + PGDIR_BITS == 53 (the header's #error).
        assert_eq!(PGDIR_SHIFT + LEVEL_BITS, 53);
    }
}

/// The values the kernel oracle measured on a 6.12 sparc64 build (reference
/// kernel-oracle.md §5), unchanged since v6.6.
#[test]
fn kernel_oracle_values() {
    let (u, v) = (u(), v());
    assert_eq!(u.pte_mkyoung(Pte(0)).0, 0x8000_0000_0000_0400);
    assert_eq!(u.pte_mkdirty(Pte(0)).0, 0x800);
    assert_eq!(u.pmd_mkhuge(Pmd(0)).0, 0x6100_0000_0000_0000);
    assert_eq!(v.pte_mkyoung(Pte(0)).0, 0x9000_0000_0000_0000);
    assert_eq!(v.pte_mkdirty(Pte(0)).0, 0x2000_0000_0000_0000);
    assert_eq!(v.pmd_mkhuge(Pmd(0)).0, 0x0100_0000_0000_0003);
}

#[test]
fn protection_map_exact_values() {
    // sun4u: cache CP|CV = 0x30; ACCESS = 0x400|0x200|V; EXEC 0x1000.
    let none_u = 0x4b0;
    let ro_u = 0x8000_0000_0000_16b0;
    let sh_u = 0x8000_0000_0000_17b0;
    let want_u: [u64; 16] = [
        none_u,
        ro_u & !0x1000,
        ro_u & !0x1000,
        ro_u & !0x1000,
        ro_u,
        ro_u,
        ro_u,
        ro_u,
        none_u,
        ro_u & !0x1000,
        sh_u & !0x1000,
        sh_u & !0x1000,
        ro_u,
        ro_u,
        sh_u,
        sh_u,
    ];
    // sun4v: cache CP|CV = 0x600; ACCESS = 1<<60|1<<59|V; EXEC 0x80.
    let none_v = 0x1000_0000_0000_0610;
    let ro_v = 0x9800_0000_0000_0690;
    let sh_v = 0x9c00_0000_0000_0690;
    let want_v: [u64; 16] = [
        none_v,
        ro_v & !0x80,
        ro_v & !0x80,
        ro_v & !0x80,
        ro_v,
        ro_v,
        ro_v,
        ro_v,
        none_v,
        ro_v & !0x80,
        sh_v & !0x80,
        sh_v & !0x80,
        ro_v,
        ro_v,
        sh_v,
        sh_v,
    ];
    for (a, want) in [(u(), want_u), (v(), want_v)] {
        let got: Vec<u64> = debug_vm_pgtable::protection_map(&a)
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(got, want, "{}", a.geometry().name);
        // PAGE_NONE has no V: present to Linux, refused by the TLB-miss walk.
        let none = a.pfn_pte(0x42, a.page_none());
        assert!(a.pte_present(none) && !a.pte_hw_valid(none));
        // Private writable mappings are read-only until COW (no WRITE bit).
        assert!(!a.pte_write(a.pfn_pte(1, a.vm_get_page_prot(3))));
        assert!(a.pte_write(a.pfn_pte(1, a.vm_get_page_prot(0xb))));
    }
    assert_eq!(u().page_kernel().0, 0x8000_0000_0000_1fb6);
    assert_eq!(v().page_kernel().0, 0xbc00_0000_0000_07d0);
}

#[test]
fn pte_bits_exact() {
    let (u, v) = (u(), v());
    // pfn_pte, pte_pfn with the layout's shifts.
    assert_eq!(u.pfn_pte(0x123, Pgprot(0x80)).0, 0x24_6080);
    assert_eq!(u.pte_pfn(Pte(0xffff_ffff_ffff_ffff)), (1 << 30) - 1); // PA[42:13]
    assert_eq!(v.pte_pfn(Pte(0xffff_ffff_ffff_ffff)), (1 << 43) - 1); // PA[55:13]
                                                                      // Hardware W only with WRITE and MODIFIED (v6.6 __pte_mkhwwrite).
    let p = u.pfn_pte(5, u.vm_get_page_prot(0xb)); // shared rw, clean
    assert!(u.pte_write(p) && !u.pte_hw_writable(p));
    let d = u.pte_mkdirty(p);
    assert_eq!(
        d.0 & (_PAGE_MODIFIED_4U | _PAGE_W_4U),
        _PAGE_MODIFIED_4U | _PAGE_W_4U
    );
    assert!(u.pte_hw_writable(d));
    assert_eq!(u.pte_mkclean(d).0 & (_PAGE_MODIFIED_4U | _PAGE_W_4U), 0);
    assert_eq!(u.pte_wrprotect(d).0 & (_PAGE_WRITE_4U | _PAGE_W_4U), 0);
    let dirty_ro = u.pte_mkdirty(u.pte_wrprotect(p));
    assert_eq!(
        dirty_ro.0 & _PAGE_W_4U,
        0,
        "mkdirty on a read-only pte sets no W"
    );
    assert_ne!(u.pte_mkwrite_novma(dirty_ro).0 & _PAGE_W_4U, 0);
    let pv = v.pfn_pte(5, v.vm_get_page_prot(0xb));
    assert_eq!(
        v.pte_mkdirty(pv).0 & (_PAGE_MODIFIED_4V | _PAGE_W_4V),
        _PAGE_MODIFIED_4V | _PAGE_W_4V
    );
    // Young/old move V (= _PAGE_R) with ACCESSED.
    assert_eq!(
        u.pte_mkold(Pte(u64::MAX)).0,
        !(_PAGE_VALID | _PAGE_ACCESSED_4U)
    );
    assert_eq!(
        v.pte_mkold(Pte(u64::MAX)).0,
        !(_PAGE_VALID | _PAGE_ACCESSED_4V)
    );
    assert!(!u.pte_hw_valid(u.pte_mkold(p)) && u.pte_present(u.pte_mkold(p)));
    // pte_modify keeps PADDR, MODIFIED, ACCESSED, CP, CV, E, SPECIAL,
    // PMD_HUGE, sizes (the masks in the header's comment).
    assert_eq!(u.layout().modify_keep(), 0x6301_07ff_ffff_ec38);
    assert_eq!(v.layout().modify_keep(), 0x33ff_ffff_ffff_ee07);
    // present/exec/special per layout.
    assert!(u.pte_present(Pte(0x80)) && !u.pte_present(Pte(0x10)));
    assert!(v.pte_present(Pte(0x10)) && !v.pte_present(Pte(0x80)));
    assert!(u.pte_exec(Pte(0x1000)) && v.pte_exec(Pte(0x80)));
    assert_eq!(u.pte_mkspecial(Pte(0)).0, 1 << 57);
    assert!(v.pte_special(Pte(1 << 57)));
    assert!(u.pte_none(Pte(0)) && !u.pte_none(Pte(1)));
    // pte_access_permitted: PRESENT|P (+WRITE), not SPECIAL.
    assert!(u.pte_access_permitted(Pte(0x84), false));
    assert!(!u.pte_access_permitted(Pte(0x84), true));
    assert!(u.pte_access_permitted(Pte(0x184), true));
    assert!(!u.pte_access_permitted(Pte(0x84 | _PAGE_SPECIAL), false));
}

#[test]
fn pmd_and_upper_levels_exact() {
    for a in [u(), v()] {
        let l = a.layout();
        // Directory entries are bare physical addresses.
        assert_eq!(a.pmd_populate(0x6000).0, 0x6000);
        assert_eq!(a.pud_populate(0x6000).0, 0x6000);
        assert_eq!(a.p4d_populate(0x6000).0, 0x6000);
        assert_eq!(a.pgd_populate(0x6000).0, 0x6000);
        assert_eq!(a.pmd_table_pa(Pmd(0x6000)), 0x6000);
        assert_eq!(a.pud_table_pa(Pud(0x6000)), 0x6000);
        assert_eq!(a.p4d_table_pa(P4d(0x6000)), 0x6000);
        assert_eq!(a.pgd_table_pa(Pgd(0x6000)), 0x6000);
        assert!(a.pmd_bad(Pmd(0x6001)) && a.pmd_bad(Pmd(0x1fff)) && !a.pmd_bad(Pmd(0x2000)));
        assert!(a.pud_bad(Pud(0x10)) && a.p4d_bad(P4d(0x10)));
        assert!(a.pmd_none(Pmd(0)) && !a.pmd_present(Pmd(0)) && a.pmd_present(Pmd(1)));
        assert!(!a.pgd_none(Pgd(0)) && a.pgd_present(Pgd(0)) && !a.pgd_bad(Pgd(7)));
        // Huge pmd: 4M size + PMD_HUGE; invalidate clears V only.
        let h = a.pmd_mkhuge(a.pfn_pmd(0x400, a.vm_get_page_prot(7)));
        assert!(a.pmd_trans_huge(h) && a.pmd_leaf(h) && l.is_hugetlb_pte(h.0));
        assert_eq!(a.pmd_pfn(h), 0x400);
        let inv = a.pmd_mkinvalid(h);
        assert_eq!(inv.0, h.0 & !_PAGE_VALID);
        assert!(a.pmd_present(inv) && a.pmd_trans_huge(inv) && !a.pmd_hw_valid(inv));
        assert!(a.pud_leaf(Pud(_PAGE_PUD_HUGE)));
        // The TTE size decoding of the MMU.
        assert_eq!(l.tte_page_shift(h.0), 22);
        assert_eq!(l.tte_page_shift(a.pfn_pte(1, a.vm_get_page_prot(1)).0), 13);
        assert_eq!(l.tte_pa(h.0, 0x12_3456), (0x400 << 13) | 0x12_3456);
        assert!(!a.has_pmd_swap());
    }
    let l = u().layout();
    assert_eq!(l.tte_page_shift(_PAGE_SZ64K_4U), 16);
    assert_eq!(l.tte_page_shift(_PAGE_SZ512K_4U), 19);
    assert_eq!(l.tte_page_shift(_PAGE_SZ32MB_4U), 25);
    assert_eq!(l.tte_page_shift(_PAGE_SZ256MB_4U), 28);
    let l = v().layout();
    assert_eq!(l.tte_page_shift(7), 34);
    assert_eq!(l.tte_page_shift(5), 28);
}

#[test]
fn swap_layout_exact() {
    for a in [u(), v()] {
        let e = a.__swp_entry(0x7f, 0x1234);
        assert_eq!(e.0, (0x7f << 13) | (0x1234 << 21));
        assert_eq!(a.__swp_type(e), 0x7f);
        assert_eq!(a.__swp_offset(e), 0x1234);
        // v6.3+: 7 type bits; bit 20 is the exclusive marker.
        assert_eq!(a.__swp_entry(0xff, 0).0, 0x7f << 13);
        let p = a.__swp_entry_to_pte(e);
        assert_eq!(a.pte_swp_mkexclusive(p).0, p.0 | 0x10_0000);
        assert!(a.pte_swp_exclusive(a.pte_swp_mkexclusive(p)));
        assert_eq!(a.pte_swp_clear_exclusive(a.pte_swp_mkexclusive(p)), p);
        assert!(!a.pte_present(p) && !a.pte_none(p));
        assert_eq!(a.__pte_to_swp_entry(p), SwpEntry(e.0));
        assert_eq!(a.max_swapfile_offset(), (1 << 43) - 1);
        // A swap pte is present to neither layout.
        assert_eq!(p.0 & 0x1fff, 0);
    }
}

#[test]
fn flag_tables_cover_every_tte_bit() {
    for a in [u(), v()] {
        let mut covered = 0u64;
        for f in a.flag_bits() {
            if f.kind != mm_core::arch::FlagKind::Swap {
                covered |= f.mask;
            }
        }
        assert_eq!(
            covered,
            u64::MAX,
            "{}: bits without a name: {:#x}",
            a.geometry().name,
            !covered
        );
    }
}

/// Every family passes or is skipped with the Kconfig option named.
#[test]
fn debug_vm_pgtable_families() {
    for a in [v(), u()] {
        let fams = debug_vm_pgtable::run_all(&a, Params::default()).expect("runs");
        let mut passed = 0;
        for f in &fams {
            match &f.status {
                FamilyStatus::Pass => {
                    assert!(f.checks > 0, "{} checked nothing", f.name);
                    passed += 1;
                }
                FamilyStatus::Skip(why) => assert!(
                    why.contains("CONFIG_") || why.contains("__PAGETABLE_"),
                    "{}: skip without a Kconfig reason: {why}",
                    f.name
                ),
                other => panic!(
                    "{} {}: {other:?} {:?}",
                    a.geometry().name,
                    f.name,
                    f.failures
                ),
            }
        }
        assert!(passed >= 15, "only {passed} families passed");
        for must in [
            "pte_basic_tests",
            "pmd_basic_tests",
            "pmd_leaf_tests",
            "pte_special_tests",
            "pte_swap_exclusive_tests",
            "pte_swap_tests",
            "pmd_thp_tests",
            "pte_advanced_tests",
            "pmd_advanced_tests",
            "pud_populate_tests",
            "p4d_populate_tests",
        ] {
            let f = fams.iter().find(|f| f.name == must).expect(must);
            assert_eq!(f.status, FamilyStatus::Pass, "{must}");
        }
    }
}
