//! Exact values of riscv64 Sv39 entries, against Linux v6.6's headers
//! (`arch/riscv/include/asm/pgtable-bits.h`, `pgtable.h`, `pgtable-64.h`,
//! `arch/riscv/mm/init.c`), computed by hand here.

use arch_riscv::Riscv;
use mm_core::arch::{Level, Pgprot, Pmd, Pte, Pud};
use mm_core::Arch;

fn a() -> Riscv {
    Riscv::from_name("riscv64-sv39").expect("config")
}

#[test]
fn geometry_is_sv39() {
    let a = a();
    let g = a.geometry();
    assert_eq!(g.nr_levels(), 3);
    assert_eq!(g.level(Level::Pgd).shift, 30);
    assert_eq!(g.level(Level::Pgd).ptrs, 512);
    assert!(g.level(Level::P4d).is_folded());
    assert!(g.level(Level::Pud).is_folded());
    assert_eq!(g.level(Level::Pmd).shift, 21);
    assert_eq!(g.level(Level::Pte).ptrs, 512);
    assert_eq!(g.task_size(), 0x40_0000_0000);
    assert_eq!(g.pmd_size(), 2 << 20);
    assert!(g.has_thp);
}

#[test]
fn protection_map_values() {
    let a = a();
    // PAGE_NONE = _PAGE_PROT_NONE | _PAGE_READ; _PAGE_BASE = V | A | U = 0x51.
    let want: [u64; 16] = [
        0x22, 0x53, 0x53, 0x53, 0x59, 0x5b, 0x5b, 0x5b, 0x22, 0x53, 0x57, 0x57, 0x59, 0x5b, 0x5f,
        0x5f,
    ];
    for (f, w) in want.iter().enumerate() {
        assert_eq!(a.vm_get_page_prot(f as u8), Pgprot(*w), "flags {f:#x}");
    }
}

#[test]
fn pte_values() {
    let a = a();
    let p = a.pfn_pte(0x1234, a.vm_get_page_prot(0xb));
    assert_eq!(p, Pte(0x48_d057));
    assert_eq!(a.pte_pfn(p), 0x1234);
    assert!(a.pte_present(p) && a.pte_write(p) && a.pte_young(p) && !a.pte_dirty(p));
    assert_eq!(a.pte_mkdirty(p), Pte(0x48_d0d7));
    assert_eq!(a.pte_mkspecial(p), Pte(0x48_d157));
    assert_eq!(a.pte_wrprotect(p), Pte(0x48_d053));
    // PROT_NONE: V clear, G set: present to Linux, protnone, invalid to the MMU.
    let n = a.pfn_pte(0x1234, a.page_none());
    assert_eq!(n, Pte(0x48_d022));
    assert!(a.pte_present(n) && a.pte_protnone(n) && !a.pte_hw_valid(n));
    // pte_modify keeps A, D, soft bits and the pfn, replaces V R W X U G.
    let d = a.pte_mkdirty(a.pte_mkspecial(p));
    assert_eq!(a.pte_modify(d, a.page_none()), Pte(0x48_d1e2));
    // The pfn field is bits 10-53.
    assert_eq!(a.pte_pfn(Pte(u64::MAX)), (1 << 44) - 1);
}

#[test]
fn swap_values() {
    let a = a();
    let e = a.__swp_entry(3, 0x1000);
    // type at bit 7, offset at bit 12.
    assert_eq!(e.0, (3 << 7) | (0x1000 << 12));
    assert_eq!(a.__swp_type(e), 3);
    assert_eq!(a.__swp_offset(e), 0x1000);
    let p = a.__swp_entry_to_pte(e);
    assert!(!a.pte_present(p) && !a.pte_none(p));
    assert_eq!(a.pte_swp_mkexclusive(p), Pte(p.0 | 0x40));
    assert!(a.pte_swp_exclusive(a.pte_swp_mkexclusive(p)));
    assert_eq!(a.max_swapfile_offset(), (1 << 52) - 1);
}

#[test]
fn pmd_and_pud_values() {
    let a = a();
    let t = a.pmd_populate(0x3000);
    assert_eq!(t, Pmd(0xc01));
    assert!(a.pmd_present(t) && !a.pmd_bad(t) && !a.pmd_leaf(t));
    assert_eq!(a.pmd_table_pa(t), 0x3000);
    let h = a.pmd_mkhuge(a.pfn_pmd(0x200, a.vm_get_page_prot(0xb)));
    assert_eq!(h, Pmd(0x8_0057));
    assert!(a.pmd_leaf(h) && a.pmd_trans_huge(h) && a.pmd_bad(h));
    assert_eq!(a.pmd_pfn(Pmd(h.0 | (0x1ff << 10))), 0x200);
    // pmdp_invalidate: V and PROT_NONE cleared, still present and huge.
    let inv = a.pmd_mkinvalid(h);
    assert_eq!(inv, Pmd(0x8_0056));
    assert!(a.pmd_present(inv) && a.pmd_trans_huge(inv) && !a.pmd_hw_valid(inv));
    // A misaligned 2M leaf faults in hardware.
    assert!(!a.pmd_hw_valid(a.pfn_pmd(0x201, a.vm_get_page_prot(0xb))));
    let u = a.pud_populate(0x2000);
    assert_eq!(u, Pud(0x801));
    assert!(a.pud_present(u) && !a.pud_bad(u) && !a.pud_leaf(u));
    assert!(a.pud_bad(Pud(0x800)));
}
