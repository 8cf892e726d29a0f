//! The `mm/debug_vm_pgtable.c` (v6.6) identities that apply to x86, for all
//! three configurations, all 16 `vm_get_page_prot()` values and many pfns,
//! plus exact values the kernel produces.
//!
//! Where a family does not apply to a configuration the test asserts the
//! reason (the Kconfig option is off, so the helper is the generic stub).
//! Note that x86 selects `ARCH_HAS_DEBUG_VM_PGTABLE` only `if !X86_PAE`, so
//! upstream never runs these checks on PAE; `pte_swap_tests` shows why.

use arch_x86::entry::*;
use arch_x86::{X86Mode, X86};
use mm_core::arch::{Level, P4d, Pgd, Pgprot, Pmd, Pte, Pud, SwpEntry};
use mm_core::Arch;

/// pfns per (configuration, protection) pair.
const N: usize = 200;

fn configs() -> Vec<X86> {
    X86Mode::ALL.into_iter().map(X86::new).collect()
}

/// xorshift64*, seeded: reproducible "random" pfns.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Number of pfn bits a configuration can address: 40 (52-bit physical) on
/// x86_64, 24 (`MAX_POSSIBLE_PHYSMEM_BITS` 36) on PAE, 20 on 2-level.
fn pfn_bits(x: &X86) -> u32 {
    match x.mode() {
        X86Mode::X86_64 => 40,
        X86Mode::Pae => 24,
        X86Mode::X86_32 => 20,
    }
}

/// `n` pfns aligned to `align` pages, including 0 and the largest.
fn pfns(x: &X86, align: u64, seed: u64) -> Vec<u64> {
    let max = (1u64 << pfn_bits(x)) - 1;
    let mut rng = Rng(seed | 1);
    let mut v = vec![0, max & !(align - 1)];
    v.extend((0..N).map(|_| rng.next() & max & !(align - 1)));
    v
}

fn pmd_align(x: &X86) -> u64 {
    x.geometry().pmd_size() >> x.geometry().page_shift
}

fn prots(x: &X86) -> impl Iterator<Item = (u8, Pgprot)> + '_ {
    (0u8..16).map(move |i| (i, x.vm_get_page_prot(i)))
}

fn is_present_prot(p: Pgprot) -> bool {
    p.0 & _PAGE_PRESENT != 0
}

#[test]
fn pte_basic_tests() {
    for x in configs() {
        for (idx, prot) in prots(&x) {
            for pfn in pfns(&x, 1, 0x1000 + idx as u64) {
                let pte = x.pfn_pte(pfn, prot);
                let ctx = format!(
                    "{} prot {idx:#x} pfn {pfn:#x} pte {pte:?}",
                    x.geometry().name
                );
                assert_eq!(x.pte_pfn(pte), pfn, "{ctx}");
                assert!(!x.pte_dirty(x.pte_wrprotect(pte)), "{ctx}");
                assert!(x.pte_young(x.pte_mkyoung(x.pte_mkold(pte))), "{ctx}");
                assert!(x.pte_dirty(x.pte_mkdirty(x.pte_mkclean(pte))), "{ctx}");
                assert!(x.pte_write(x.pte_mkwrite(x.pte_wrprotect(pte))), "{ctx}");
                assert!(
                    x.pte_write(x.pte_mkwrite_novma(x.pte_wrprotect(pte))),
                    "{ctx}"
                );
                assert!(!x.pte_young(x.pte_mkold(x.pte_mkyoung(pte))), "{ctx}");
                assert!(!x.pte_dirty(x.pte_mkclean(x.pte_mkdirty(pte))), "{ctx}");
                assert!(!x.pte_write(x.pte_wrprotect(x.pte_mkwrite(pte))), "{ctx}");
                assert!(!x.pte_dirty(x.pte_wrprotect(x.pte_mkclean(pte))), "{ctx}");
                let wd = x.pte_wrprotect(x.pte_mkdirty(pte));
                assert!(x.pte_dirty(wd), "{ctx}");
                // v6.6: never a Write=0,Dirty=1 (shadow-stack) pte.
                assert_eq!(wd.0 & (_PAGE_RW | _PAGE_DIRTY), 0, "{ctx}");
                assert_ne!(wd.0 & x.layout().saved_dirty(), 0, "{ctx}");
                // ... and pte_mkwrite() moves SavedDirty back to Dirty.
                let w = x.pte_mkwrite(wd);
                assert_eq!(
                    w.0 & (_PAGE_DIRTY | x.layout().saved_dirty()),
                    _PAGE_DIRTY,
                    "{ctx}"
                );
            }
        }
    }
}

#[test]
fn pmd_basic_tests() {
    for x in configs() {
        let align = pmd_align(&x);
        for (idx, prot) in prots(&x) {
            for pfn in pfns(&x, align, 0x2000 + idx as u64) {
                let pmd = x.pfn_pmd(pfn, prot);
                let ctx = format!(
                    "{} prot {idx:#x} pfn {pfn:#x} pmd {pmd:?}",
                    x.geometry().name
                );
                // pfn_pmd() inverts with PHYSICAL_PMD_PAGE_MASK but, without
                // PSE, pmd_pfn() un-inverts with PTE_PFN_MASK: the low pfn
                // bits of a PROT_NONE pmd read back as ones until
                // pmd_mkhuge() (which is how the kernel builds them).
                let low = if x.layout().pte_needs_invert(pmd.0) {
                    align - 1
                } else {
                    0
                };
                assert_eq!(x.pmd_pfn(pmd), pfn | low, "{ctx}");
                assert_eq!(x.pmd_pfn(x.pmd_mkhuge(pmd)), pfn, "{ctx}");
                assert!(!x.pmd_dirty(x.pmd_wrprotect(pmd)), "{ctx}");
                assert!(x.pmd_young(x.pmd_mkyoung(x.pmd_mkold(pmd))), "{ctx}");
                assert!(x.pmd_dirty(x.pmd_mkdirty(x.pmd_mkclean(pmd))), "{ctx}");
                assert!(x.pmd_write(x.pmd_mkwrite(x.pmd_wrprotect(pmd))), "{ctx}");
                assert!(
                    x.pmd_write(x.pmd_mkwrite_novma(x.pmd_wrprotect(pmd))),
                    "{ctx}"
                );
                assert!(!x.pmd_young(x.pmd_mkold(x.pmd_mkyoung(pmd))), "{ctx}");
                assert!(!x.pmd_dirty(x.pmd_mkclean(x.pmd_mkdirty(pmd))), "{ctx}");
                assert!(!x.pmd_write(x.pmd_wrprotect(x.pmd_mkwrite(pmd))), "{ctx}");
                assert!(!x.pmd_dirty(x.pmd_wrprotect(x.pmd_mkclean(pmd))), "{ctx}");
                assert!(x.pmd_dirty(x.pmd_wrprotect(x.pmd_mkdirty(pmd))), "{ctx}");
                // A huge page does not point to a page table.
                assert!(x.pmd_bad(x.pmd_mkhuge(pmd)), "{ctx}");
            }
        }
    }
}

#[test]
fn pud_basic_tests() {
    for x in configs() {
        for (idx, prot) in prots(&x) {
            for pfn in pfns(&x, 1 << 18, 0x3000 + idx as u64) {
                let pud = x.pfn_pud(pfn, prot);
                let ctx = format!(
                    "{} prot {idx:#x} pfn {pfn:#x} pud {pud:?}",
                    x.geometry().name
                );
                if x.mode() != X86Mode::X86_64 {
                    // HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD is x86_64-only: on
                    // PAE the "pud" is a PDPT entry whose PGD_ALLOWED_BITS
                    // drop PSE/RW/A/D, and 2-level has no pud leaves at all.
                    assert!(!x.pud_leaf(x.pud_mkhuge(pud)), "{ctx}");
                    if x.mode() == X86Mode::Pae {
                        assert!(!x.pud_write(x.pud_mkwrite(pud)), "{ctx}");
                        assert!(!x.pud_young(x.pud_mkyoung(pud)), "{ctx}");
                    }
                    continue;
                }
                assert_eq!(x.pud_pfn(x.pud_mkhuge(pud)), pfn, "{ctx}");
                let low = if x.layout().pte_needs_invert(pud.0) {
                    (1 << 18) - 1
                } else {
                    0
                };
                assert_eq!(x.pud_pfn(pud), pfn | low, "{ctx}");
                assert!(!x.pud_dirty(x.pud_wrprotect(pud)), "{ctx}");
                assert!(x.pud_young(x.pud_mkyoung(x.pud_mkold(pud))), "{ctx}");
                assert!(x.pud_dirty(x.pud_mkdirty(x.pud_mkclean(pud))), "{ctx}");
                assert!(x.pud_write(x.pud_mkwrite(x.pud_wrprotect(pud))), "{ctx}");
                assert!(!x.pud_write(x.pud_wrprotect(x.pud_mkwrite(pud))), "{ctx}");
                assert!(!x.pud_young(x.pud_mkold(x.pud_mkyoung(pud))), "{ctx}");
                assert!(!x.pud_dirty(x.pud_mkclean(x.pud_mkdirty(pud))), "{ctx}");
                assert!(x.pud_dirty(x.pud_wrprotect(x.pud_mkdirty(pud))), "{ctx}");
                assert!(x.pud_bad(x.pud_mkhuge(pud)), "{ctx}");
                assert!(x.pud_trans_huge(x.pud_mkhuge(pud)), "{ctx}");
            }
        }
    }
}

#[test]
fn pmd_leaf_and_pud_leaf_tests() {
    for x in configs() {
        for (idx, prot) in prots(&x) {
            for pfn in pfns(&x, 1 << 18, 0x4000 + idx as u64) {
                assert!(x.pmd_leaf(x.pmd_mkhuge(x.pfn_pmd(pfn, prot))));
                assert!(!x.pmd_leaf(x.pfn_pmd(pfn, prot)));
                // pud_large() wants PSE *and* PRESENT (x86_64 only).
                let leaf = x.pud_leaf(x.pud_mkhuge(x.pfn_pud(pfn, prot)));
                let want = x.mode() == X86Mode::X86_64 && is_present_prot(prot);
                assert_eq!(leaf, want, "{} prot {idx:#x}", x.geometry().name);
            }
        }
    }
}

#[test]
fn soft_dirty_tests() {
    for x in configs() {
        let on = x.mode() == X86Mode::X86_64;
        assert_eq!(x.features().soft_dirty, on);
        let align = pmd_align(&x);
        for (_, prot) in prots(&x) {
            for pfn in pfns(&x, align, 0x5000) {
                let pte = x.pfn_pte(pfn, prot);
                let pmd = x.pfn_pmd(pfn, prot);
                let swp = x.__swp_entry_to_pte(x.__swp_entry(pfn & 0x1f, pfn));
                let swpmd = Pmd(swp.0);
                if on {
                    assert!(x.pte_soft_dirty(x.pte_mksoft_dirty(pte)));
                    assert!(!x.pte_soft_dirty(x.pte_clear_soft_dirty(x.pte_mksoft_dirty(pte))));
                    assert!(x.pmd_soft_dirty(x.pmd_mksoft_dirty(pmd)));
                    assert!(!x.pmd_soft_dirty(x.pmd_clear_soft_dirty(x.pmd_mksoft_dirty(pmd))));
                    assert!(x.pte_swp_soft_dirty(x.pte_swp_mksoft_dirty(swp)));
                    assert!(!x.pte_swp_soft_dirty(x.pte_swp_clear_soft_dirty(swp)));
                    assert!(x.pmd_swp_soft_dirty(x.pmd_swp_mksoft_dirty(swpmd)));
                    assert!(!x.pmd_swp_soft_dirty(x.pmd_swp_clear_soft_dirty(swpmd)));
                    // pte_mkdirty() also sets soft-dirty.
                    assert!(x.pte_soft_dirty(x.pte_mkdirty(pte)));
                } else {
                    // No HAVE_ARCH_SOFT_DIRTY on 32-bit: the generic stubs.
                    assert_eq!(x.pte_mksoft_dirty(pte), pte);
                    assert!(!x.pte_soft_dirty(x.pte_mksoft_dirty(pte)));
                    assert_eq!(x.pmd_mksoft_dirty(pmd), pmd);
                    assert_eq!(x.pte_swp_mksoft_dirty(swp), swp);
                    assert!(!x.pte_swp_soft_dirty(x.pte_swp_mksoft_dirty(swp)));
                    assert_eq!(x.pmd_swp_mksoft_dirty(swpmd), swpmd);
                }
            }
        }
    }
}

#[test]
fn pte_special_tests() {
    for x in configs() {
        assert!(x.features().pte_special);
        for (_, prot) in prots(&x) {
            for pfn in pfns(&x, 1, 0x6000) {
                let pte = x.pfn_pte(pfn, prot);
                assert!(!x.pte_special(pte));
                assert!(x.pte_special(x.pte_mkspecial(pte)));
            }
        }
    }
}

#[test]
fn protnone_tests() {
    for x in configs() {
        let none = x.page_none();
        let numa = x.mode() == X86Mode::X86_64;
        assert_eq!(x.features().numa_balancing, numa);
        for pfn in pfns(&x, pmd_align(&x), 0x7000) {
            let pte = x.pfn_pte(pfn, none);
            let pmd = x.pmd_mkhuge(x.pfn_pmd(pfn, none));
            assert!(x.pte_present(pte));
            assert!(x.pmd_present(pmd));
            // ARCH_SUPPORTS_NUMA_BALANCING is x86_64-only; without
            // NUMA_BALANCING pte_protnone()/pmd_protnone() are the generic 0.
            assert_eq!(x.pte_protnone(pte), numa);
            assert_eq!(x.pmd_protnone(pmd), numa);
            // Either way the MMU faults on them.
            assert!(!x.pte_hw_valid(pte));
            assert!(!x.pmd_hw_valid(pmd));
            assert_eq!(x.pte_pfn(pte), pfn);
            assert_eq!(x.pmd_pfn(pmd), pfn);
        }
        for (_, prot) in prots(&x).filter(|(_, p)| is_present_prot(*p)) {
            let pte = x.pfn_pte(1, prot);
            assert!(!x.pte_protnone(pte));
            assert!(x.pte_hw_valid(pte));
        }
    }
}

#[test]
fn devmap_tests() {
    for x in configs() {
        let on = x.mode() == X86Mode::X86_64;
        assert_eq!(x.features().pte_devmap, on);
        for (_, prot) in prots(&x) {
            for pfn in pfns(&x, 1 << 18, 0x8000) {
                let pte = x.pfn_pte(pfn, prot);
                let pmd = x.pfn_pmd(pfn, prot);
                let pud = x.pfn_pud(pfn, prot);
                assert_eq!(x.pte_devmap(x.pte_mkdevmap(pte)), on);
                assert_eq!(x.pmd_devmap(x.pmd_mkdevmap(pmd)), on);
                assert_eq!(x.pud_devmap(x.pud_mkdevmap(pud)), on);
                // pte_mkdevmap() also sets SPECIAL; _PAGE_DEVMAP is bit 57 on
                // x86_64 and PAE (where nothing reads it) and 0 on 2-level.
                let devmap = if x.mode() == X86Mode::X86_32 {
                    0
                } else {
                    1 << 57
                };
                assert_eq!(x.pte_mkdevmap(pte).0, pte.0 | _PAGE_SPECIAL | devmap);
                // A devmap pmd is not trans_huge (where DEVMAP exists).
                let huge = x.pmd_mkhuge(pmd);
                assert_eq!(x.pmd_trans_huge(x.pmd_mkdevmap(huge)), devmap == 0);
            }
        }
    }
}

// ---- generic swap layer (include/linux/swapops.h) -----------------------

/// `SWP_TYPE_SHIFT` = `BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT`.
fn swp_type_shift(x: &X86) -> u32 {
    let bits_per_long = if x.mode() == X86Mode::X86_64 { 64 } else { 32 };
    bits_per_long - 1 - 5
}

/// Generic `swp_entry(type, offset)`.
fn swp_entry(x: &X86, ty: u64, offset: u64) -> u64 {
    let s = swp_type_shift(x);
    (ty << s) | (offset & ((1 << s) - 1))
}

fn swp_type(x: &X86, e: u64) -> u64 {
    e >> swp_type_shift(x)
}

fn swp_offset(x: &X86, e: u64) -> u64 {
    e & ((1 << swp_type_shift(x)) - 1)
}

/// Generic `pte_to_swp_entry()`.
fn pte_to_swp_entry(x: &X86, pte: Pte) -> u64 {
    let arch = x.__pte_to_swp_entry(x.pte_swp_clear_flags(pte));
    swp_entry(x, x.__swp_type(arch), x.__swp_offset(arch))
}

/// Generic `swp_entry_to_pte()`.
fn swp_entry_to_pte(x: &X86, e: u64) -> Pte {
    x.__swp_entry_to_pte(x.__swp_entry(swp_type(x, e), swp_offset(x, e)))
}

fn is_swap_pte(x: &X86, pte: Pte) -> bool {
    !x.pte_none(pte) && !x.pte_present(pte)
}

#[test]
fn pte_swap_exclusive_tests() {
    for x in configs() {
        // The probe of generic_max_swapfile_size().
        let max = swp_offset(
            &x,
            pte_to_swp_entry(&x, swp_entry_to_pte(&x, swp_entry(&x, 0, !0))),
        );
        let want = match x.mode() {
            X86Mode::X86_64 => (1 << 50) - 1,
            X86Mode::Pae => (1 << 26) - 1,
            X86Mode::X86_32 => (1 << 23) - 1,
        };
        assert_eq!(max, want, "{}", x.geometry().name);
        assert!(max <= x.max_swapfile_offset());
        let entry = swp_entry(&x, 31, max);
        let pte = swp_entry_to_pte(&x, entry);
        assert!(!x.pte_swp_exclusive(pte));
        assert!(is_swap_pte(&x, pte));
        assert_eq!(pte_to_swp_entry(&x, pte), entry);
        let pte = x.pte_swp_mkexclusive(pte);
        assert!(x.pte_swp_exclusive(pte));
        assert!(is_swap_pte(&x, pte));
        assert!(!x.pte_swp_soft_dirty(pte));
        assert_eq!(pte_to_swp_entry(&x, pte), entry);
        let pte = x.pte_swp_clear_exclusive(pte);
        assert!(!x.pte_swp_exclusive(pte));
        assert!(is_swap_pte(&x, pte));
        assert_eq!(pte_to_swp_entry(&x, pte), entry);
    }
}

#[test]
fn pte_swap_tests() {
    for x in configs() {
        for (idx, prot) in prots(&x) {
            for pfn in pfns(&x, 1, 0x9000 + idx as u64) {
                let pte = x.pfn_pte(pfn, prot);
                let back = x.__swp_entry_to_pte(x.__pte_to_swp_entry(pte));
                if x.mode() == X86Mode::Pae {
                    // PAE re-encodes through a 32-bit swp_entry_t with the
                    // offset inverted, so a *present* pte's pfn comes back
                    // complemented; an inverted (PROT_NONE) one survives.
                    // This is why x86 selects ARCH_HAS_DEBUG_VM_PGTABLE only
                    // if !X86_PAE.
                    let want = if is_present_prot(prot) {
                        !pfn & 0xff_ffff
                    } else {
                        pfn
                    };
                    assert_eq!(x.pte_pfn(back), want, "prot {idx:#x} pfn {pfn:#x}");
                } else {
                    assert_eq!(back, pte);
                    assert_eq!(x.pte_pfn(back), pfn);
                }
            }
        }
    }
}

#[test]
fn swap_encode_round_trips() {
    for x in configs() {
        let max = x.max_swapfile_offset();
        let mut rng = Rng(0xabcd);
        for ty in 0..32 {
            for _ in 0..N {
                let off = rng.next() % max;
                let e = x.__swp_entry(ty, off);
                assert_eq!(x.__swp_type(e), ty);
                assert_eq!(x.__swp_offset(e), off);
                let pte = x.__swp_entry_to_pte(e);
                assert!(is_swap_pte(&x, pte), "{} {ty} {off:#x}", x.geometry().name);
                assert!(!x.pte_swp_exclusive(pte));
                assert!(!x.pte_swp_soft_dirty(pte));
                assert!(!x.pte_swp_uffd_wp(pte));
                let back = x.__pte_to_swp_entry(pte);
                assert_eq!(x.__swp_type(back), ty);
                assert_eq!(x.__swp_offset(back), off);
                if x.has_pmd_swap() {
                    let pmd = x.__swp_entry_to_pmd(e);
                    assert!(!x.pmd_none(pmd) && !x.pmd_present(pmd));
                    assert_eq!(x.__pmd_to_swp_entry(pmd), e);
                }
            }
        }
    }
}

#[test]
fn pmd_swap_tests() {
    for x in configs() {
        // THP migration (ARCH_ENABLE_THP_MIGRATION) is x86_64-only.
        assert_eq!(x.has_pmd_swap(), x.mode() == X86Mode::X86_64);
        for (_, prot) in prots(&x) {
            for pfn in pfns(&x, pmd_align(&x), 0xa000) {
                let pmd1 = x.pfn_pmd(pfn, prot);
                let pmd2 = x.__swp_entry_to_pmd(x.__pmd_to_swp_entry(pmd1));
                if x.has_pmd_swap() {
                    assert_eq!(pmd1, pmd2);
                } else {
                    // The swapops.h stubs.
                    assert_eq!(pmd2, Pmd(0));
                    assert_eq!(x.__pmd_to_swp_entry(pmd1), SwpEntry(0));
                }
            }
        }
    }
}

#[test]
fn pmd_thp_tests() {
    for x in configs() {
        assert!(x.geometry().has_thp);
        assert!(!x.features().arch_pmdp_invalidate);
        for (idx, prot) in prots(&x) {
            for pfn in pfns(&x, pmd_align(&x), 0xb000 + idx as u64) {
                let huge = x.pmd_mkhuge(x.pfn_pmd(pfn, prot));
                assert!(x.pmd_trans_huge(huge));
                let inv = x.pmd_mkinvalid(huge);
                let ctx = format!("{} prot {idx:#x} {huge:?} -> {inv:?}", x.geometry().name);
                assert!(x.pmd_trans_huge(inv), "{ctx}");
                assert!(x.pmd_present(inv), "{ctx}");
                assert!(!x.pmd_hw_valid(inv), "{ctx}");
                assert_eq!(inv.0 & (_PAGE_PRESENT | _PAGE_PROTNONE), 0, "{ctx}");
                assert_eq!(x.pmd_pfn(inv), pfn, "{ctx}");
                assert!(
                    !x.pmd_none(inv) || pfn == 0 && x.mode() == X86Mode::X86_32,
                    "{ctx}"
                );
            }
        }
    }
}

#[test]
fn populate_tests() {
    for x in configs() {
        let phys_mask = if x.mode() == X86Mode::X86_32 {
            0xffff_f000
        } else {
            0xf_ffff_f000
        };
        let mut rng = Rng(0xc0ffee);
        for _ in 0..N * 4 {
            let pa = rng.next() & phys_mask;
            let pmd = x.pmd_populate(pa);
            assert_eq!(pmd.0, pa | 0x67);
            assert!(!x.pmd_bad(pmd) && !x.pmd_none(pmd) && x.pmd_present(pmd));
            assert!(!x.pmd_leaf(pmd) && !x.pmd_trans_huge(pmd));
            assert_eq!(x.pmd_table_pa(pmd), pa);
            let pud = x.pud_populate(pa);
            assert!(!x.pud_bad(pud) && !x.pud_none(pud) && x.pud_present(pud));
            assert!(!x.pud_leaf(pud));
            assert_eq!(x.pud_table_pa(pud), pa);
            let p4d = x.p4d_populate(pa);
            assert!(!x.p4d_bad(p4d) && !x.p4d_none(p4d) && x.p4d_present(p4d));
            assert_eq!(x.p4d_table_pa(p4d), pa);
            let pgd = x.pgd_populate(pa);
            assert!(!x.pgd_bad(pgd) && !x.pgd_none(pgd) && x.pgd_present(pgd));
            assert_eq!(x.pgd_table_pa(pgd), pa);
            match x.mode() {
                X86Mode::X86_64 => {
                    assert_eq!(pud.0, pa | 0x67);
                    assert_eq!(p4d.0, pa | 0x67);
                }
                // PAE PDPT entries: P only.
                X86Mode::Pae => assert_eq!(pud.0, pa | 1),
                // Folded into the pgd: the pmd's value.
                X86Mode::X86_32 => assert_eq!(pud.0, pa | 0x67),
            }
        }
        // The folded levels' none/bad/present ignore the value.
        assert!(!x.pgd_none(Pgd(0)) && x.pgd_present(Pgd(0)) && !x.pgd_bad(Pgd(!0)));
        if x.mode() != X86Mode::X86_64 {
            assert!(!x.p4d_none(P4d(0)) && x.p4d_present(P4d(0)) && !x.p4d_bad(P4d(!0)));
        } else {
            assert!(x.p4d_none(P4d(0)) && !x.p4d_present(P4d(0)) && x.p4d_bad(P4d(0x1067 | 0x200)));
        }
        if x.mode() == X86Mode::X86_32 {
            assert!(!x.pud_none(Pud(0)) && x.pud_present(Pud(0)) && !x.pud_bad(Pud(!0)));
        }
    }
}

#[test]
fn clear_tests() {
    for x in configs() {
        assert!(x.pte_none(x.pte_clear_val()));
        assert!(x.pmd_none(x.pmd_clear_val()));
        // _PAGE_KNL_ERRATUM_MASK: stray A/D on a cleared entry is still none
        // with 64-bit entries, not on 2-level.
        let knl = x.mode() != X86Mode::X86_32;
        assert_eq!(x.pte_none(Pte(0x60)), knl);
        assert_eq!(x.pmd_none(Pmd(0x60)), knl);
        assert!(!x.pte_none(Pte(0x1)));
        assert!(!x.pmd_none(Pmd(0x2)));
    }
}

// ---- exact values -------------------------------------------------------

const X86_64: X86Mode = X86Mode::X86_64;

#[test]
fn oracle_findings() {
    let x = X86::new(X86_64);
    // pte_mkdirty(0): Dirty moves to SAVED_DIRTY (bit 58) because RW is clear.
    // The oracle (x86_64_defconfig, no CONFIG_MEM_SOFT_DIRTY) saw 1<<58; with
    // CONFIG_MEM_SOFT_DIRTY=y pte_mkdirty also sets _PAGE_SOFT_DIRTY (0x800).
    assert_eq!(x.pte_mkdirty(Pte(0)).0 & !0x800, 1 << 58);
    assert_eq!(x.pte_mkdirty(Pte(0)).0, (1 << 58) | 0x800);
    assert_eq!(x.pte_wrprotect(Pte(0x67)).0, 0x25 | (1 << 58));
    let pae = X86::new(X86Mode::Pae);
    assert_eq!(pae.pte_mkdirty(Pte(0)).0, 0x400);
    assert_eq!(pae.pte_wrprotect(Pte(0x67)).0, 0x425);
    let two = X86::new(X86Mode::X86_32);
    assert_eq!(two.pte_mkdirty(Pte(0)).0, 0x400);
    // With RW set Dirty stays in bit 6.
    assert_eq!(x.pte_mkdirty(Pte(0x2)).0, 0x842);
    assert_eq!(pae.pte_mkdirty(Pte(0x2)).0, 0x42);
}

#[test]
fn protection_map_values() {
    let nx = 1u64 << 63;
    let none = 0x120;
    let ro = 0x25 | nx;
    let rox = 0x25;
    let sh = 0x27 | nx;
    let shx = 0x27;
    let table64 = [
        none, ro, ro, ro, rox, rox, rox, rox, none, ro, sh, sh, rox, rox, shx, shx,
    ];
    for x in configs() {
        // 2-level has no NX bit; PAE has one, but arch/x86/mm/pgprot.c
        // computes vm_get_page_prot() in an `unsigned long` (32 bits), which
        // drops it (the kernel oracle's finding).
        let mask = if x.mode() == X86Mode::X86_64 { !0 } else { !nx };
        for (i, want) in table64.iter().enumerate() {
            assert_eq!(
                x.vm_get_page_prot(i as u8).0,
                want & mask,
                "{} {i}",
                x.geometry().name
            );
        }
        assert_eq!(x.page_none().0, 0x120);
    }
    assert_eq!(
        X86::new(X86_64).vm_get_page_prot(0xa).0,
        0x8000_0000_0000_0027
    );
    assert_eq!(X86::new(X86Mode::X86_32).vm_get_page_prot(0xa).0, 0x27);
}

#[test]
fn x86_64_swap_layout() {
    let x = X86::new(X86_64);
    let mut rng = Rng(77);
    for _ in 0..1000 {
        let t = rng.next() & 0x1f;
        let o = rng.next() & ((1 << 50) - 1);
        // bits 9..58 hold ~offset, 59..63 the type.
        let want = ((!o & ((1 << 50) - 1)) << 9) | (t << 59);
        assert_eq!(x.__swp_entry(t, o).0, want);
        assert_eq!(x.__swp_entry(t, o).0, (!o << 14 >> 5) | (t << 59));
    }
    assert_eq!(x.__swp_entry(1, 0).0, 0x0fff_ffff_ffff_fe00);
    assert_eq!(
        x.__swp_entry_to_pte(SwpEntry(0x0fff_ffff_ffff_fe00)).0,
        0x0fff_ffff_ffff_fe00
    );
    // Type 0 with the largest offset is the all-zero, pte_none() entry.
    assert_eq!(x.__swp_entry(0, (1 << 50) - 1).0, 0);
    assert_eq!(x.max_swapfile_offset(), (1 << 50) - 1);
    // PAE: same 64-bit pte form, through a 32-bit swp_entry_t.
    let pae = X86::new(X86Mode::Pae);
    assert_eq!(pae.__swp_entry(1, 0).0, 1);
    assert_eq!(pae.__swp_entry(3, 0x10).0, 0x203);
    assert_eq!(pae.__swp_entry_to_pte(SwpEntry(1)).0, 0x0fff_ffff_ffff_fe00);
    assert_eq!(pae.max_swapfile_offset(), (1 << 27) - 1);
    // 2-level: type in bits 1..5, offset from bit 9, not inverted.
    let two = X86::new(X86Mode::X86_32);
    assert_eq!(two.__swp_entry(3, 5).0, 0xa06);
    assert_eq!(two.__swp_entry_to_pte(SwpEntry(0xa06)).0, 0xa06);
    assert_eq!(two.max_swapfile_offset(), (1 << 23) - 1);
}

#[test]
fn l1tf_inversion() {
    let x = X86::new(X86_64);
    let none = x.page_none();
    let pfn = 0x12345;
    let pte = x.pfn_pte(pfn, none);
    assert_eq!(pte.0, (!(pfn << 12) & 0x000f_ffff_ffff_f000) | 0x120);
    assert_eq!(pte.0, 0x000f_ffff_edcb_a120);
    assert_eq!(x.pte_pfn(pte), pfn);
    let pmd = x.pfn_pmd(0x200, none);
    assert_eq!(pmd.0, (!(0x200u64 << 12) & 0x000f_ffff_ffe0_0000) | 0x120);
    assert_eq!(x.pmd_pfn(x.pmd_mkhuge(pmd)), 0x200);
    // Without PSE the pfn is read through PTE_PFN_MASK.
    assert_eq!(x.pmd_pfn(pmd), 0x3ff);
    // PAE inverts too; 2-level does not.
    assert_eq!(
        X86::new(X86Mode::Pae).pfn_pte(pfn, none).0,
        0x000f_ffff_edcb_a120
    );
    assert_eq!(X86::new(X86Mode::X86_32).pfn_pte(pfn, none).0, 0x1234_5120);
}

#[test]
fn pte_modify_flips_inverted_pfn() {
    for x in configs() {
        let ro = x.vm_get_page_prot(1);
        let none = x.page_none();
        for pfn in pfns(&x, 1, 0xd000) {
            let pte = x.pfn_pte(pfn, ro);
            let pn = x.pte_modify(pte, none);
            assert_eq!(pn, x.pfn_pte(pfn, none), "{}", x.geometry().name);
            assert!(x.pte_present(pn) && !x.pte_hw_valid(pn));
            assert_eq!(x.pte_pfn(pn), pfn);
            assert_eq!(x.pte_modify(pn, ro), pte);
            let pmd = x.pmd_mkhuge(x.pfn_pmd(pfn & !(pmd_align(&x) - 1), ro));
            let pmdn = x.pmd_modify(pmd, none);
            assert_eq!(x.pmd_pfn(pmdn), pfn & !(pmd_align(&x) - 1));
            assert_eq!(x.pmd_modify(pmdn, ro), pmd);
        }
    }
    let x = X86::new(X86_64);
    assert_eq!(
        x.pte_modify(x.pfn_pte(0x12345, x.vm_get_page_prot(1)), x.page_none())
            .0,
        0x000f_ffff_edcb_a120
    );
}

#[test]
fn modify_dirty_and_saved_dirty() {
    let x = X86::new(X86_64);
    let rw = x.vm_get_page_prot(0xb);
    let ro = x.vm_get_page_prot(0x1);
    let pte = x.pte_mkdirty(x.pfn_pte(7, rw));
    // pte_modify RW -> RO: Dirty becomes SavedDirty.
    let p = x.pte_modify(pte, ro);
    assert_eq!(p.0 & (_PAGE_DIRTY | (1 << 58)), 1 << 58);
    assert!(x.pte_dirty(p));
    // RO -> RW: SavedDirty back to Dirty.
    let q = x.pte_modify(p, rw);
    assert_eq!(q.0 & (_PAGE_DIRTY | (1 << 58)), _PAGE_DIRTY);
    // v6.6 pmd_modify() masks with _HPAGE_CHG_MASK & ~_PAGE_DIRTY: a dirty
    // writable THP made read-only loses its dirty bit (fixed upstream much
    // later by "x86/mm: Fix user-space data loss with MADV_FREE and THP").
    let pmd = x.pmd_mkdirty(x.pmd_mkhuge(x.pfn_pmd(0x200, rw)));
    assert!(x.pmd_dirty(pmd));
    assert!(!x.pmd_dirty(x.pmd_modify(pmd, ro)));
    assert!(!x.pmd_dirty(x.pmd_modify(pmd, rw)));
    // A SavedDirty pmd keeps it, and gets Dirty back when made writable.
    let sd = x.pmd_wrprotect(pmd);
    assert!(x.pmd_dirty(x.pmd_modify(sd, ro)));
    assert_eq!(
        x.pmd_modify(sd, rw).0 & (_PAGE_DIRTY | (1 << 58)),
        _PAGE_DIRTY
    );
}

#[test]
fn pmd_bad_values() {
    for x in configs() {
        let table = x.pmd_populate(0x1000);
        assert!(!x.pmd_bad(table));
        assert!(!x.pmd_bad(Pmd(0x1000 | 0x43)));
        assert!(x.pmd_bad(Pmd(0x1000 | 0x41)));
        assert!(x.pmd_bad(Pmd(table.0 | _PAGE_SPECIAL)));
        // NX makes a table pmd bad; 2-level entries have no bit 63.
        assert_eq!(
            x.pmd_bad(Pmd(table.0 | (1 << 63))),
            x.mode() != X86Mode::X86_32
        );
    }
    // PAE PDPT: PGD_ALLOWED_BITS hide RW/USER/A/D, so 0x67 reads as P only.
    let pae = X86::new(X86Mode::Pae);
    assert!(!pae.pud_bad(Pud(0x0123_4067)));
    assert_eq!(pae.pud_table_pa(Pud(0x0123_4067)), 0x0123_4000);
    assert!(pae.pud_bad(Pud(0x0123_4201)));
    // p4d_bad ignores NX with CONFIG_PAGE_TABLE_ISOLATION.
    let x = X86::new(X86_64);
    assert!(!x.p4d_bad(P4d(0x1067 | (1 << 63))));
    assert!(x.pud_bad(Pud(0x1067 | (1 << 63))));
}

#[test]
fn low_word_and_width() {
    let pae = X86::new(X86Mode::Pae);
    // pmd_none() checks only the low word on 32-bit.
    assert!(pae.pmd_none(Pmd(1 << 63)));
    assert!(!X86::new(X86_64).pmd_none(Pmd(1 << 63)));
    assert!(!pae.pte_none(Pte(1 << 63)));
    // pte_pfn() returns an unsigned long.
    assert_eq!(pae.pte_pfn(Pte(0x000f_ffff_ffff_f001)), 0xffff_ffff);
    assert_eq!(
        X86::new(X86_64).pte_pfn(Pte(0x000f_ffff_ffff_f001)),
        0xff_ffff_ffff
    );
    let two = X86::new(X86Mode::X86_32);
    assert_eq!(two.pfn_pte(0x0010_0000, Pgprot(0x25)).0, 0x25);
    assert_eq!(two.pte_mkexec(Pte(0x25)), Pte(0x25));
    assert!(two.pte_exec(Pte(0x25)));
    assert!(!X86::new(X86_64).pte_exec(Pte(0x25 | (1 << 63))));
}

#[test]
fn uffd_wp_values() {
    let x = X86::new(X86_64);
    let pte = x.pfn_pte(1, x.vm_get_page_prot(0xb));
    let w = x.pte_mkuffd_wp(x.pte_mkdirty(pte));
    assert!(x.pte_uffd_wp(w) && !x.pte_write(w) && x.pte_dirty(w));
    assert_eq!(w.0 & 0x440, 0x400);
    assert!(!x.pte_uffd_wp(x.pte_clear_uffd_wp(w)));
    for m in [X86Mode::Pae, X86Mode::X86_32] {
        let y = X86::new(m);
        let pte = y.pfn_pte(1, y.vm_get_page_prot(0xb));
        // No HAVE_ARCH_USERFAULTFD_WP: the pgtable_uffd.h identity stub, and
        // bit 10 is SAVED_DIRTY there.
        assert_eq!(y.pte_mkuffd_wp(pte), pte);
        assert!(!y.pte_uffd_wp(Pte(0x400)));
    }
}

#[test]
fn geometry_values() {
    let g = X86::new(X86_64);
    let g = g.geometry();
    assert_eq!(g.nr_levels(), 4);
    assert_eq!(g.level(Level::Pgd).shift, 39);
    assert!(g.level(Level::P4d).is_folded());
    assert_eq!(g.pmd_size(), 2 << 20);
    assert_eq!(g.task_size(), (1 << 47) - 4096);
    assert_eq!(X86::new(X86_64).geometry().task_size(), 0x7fff_ffff_f000);
    let p = X86::new(X86Mode::Pae);
    assert_eq!(p.geometry().nr_levels(), 3);
    assert_eq!(p.geometry().level(Level::Pgd).ptrs, 4);
    assert_eq!(p.geometry().level(Level::Pgd).table_bytes, 32);
    assert!(p.geometry().split_halves);
    assert_eq!(p.geometry().task_size(), 0xc000_0000);
    let t = X86::new(X86Mode::X86_32);
    assert_eq!(t.geometry().nr_levels(), 2);
    assert_eq!(t.geometry().pmd_size(), 4 << 20);
    assert_eq!(t.geometry().entry_bytes, 4);
    assert!(!t.geometry().split_pmd_ptlocks);
    assert_eq!(X86::configurations(), ["x86_64", "x86-pae", "x86-32"]);
    for name in X86::configurations() {
        assert_eq!(X86::from_name(name).unwrap().geometry().name, *name);
    }
    assert!(X86::from_name("x86").is_none());
}

#[test]
fn flag_bits_values() {
    for x in configs() {
        let flags = x.flag_bits();
        let width = if x.mode() == X86Mode::X86_32 {
            0xffff_ffff
        } else {
            !0
        };
        for (i, f) in flags.iter().enumerate() {
            assert_eq!(f.mask.count_ones(), 1, "{}", f.name);
            assert_eq!(f.mask & !width, 0, "{}", f.name);
            assert!(f.doc.contains(".h"), "{}", f.name);
            assert!(flags[..i].iter().all(|g| g.name != f.name), "{}", f.name);
        }
        let get = |n: &str| flags.iter().find(|f| f.name == n).map(|f| f.mask);
        assert_eq!(get("PRESENT"), Some(1));
        assert_eq!(get("SAVED_DIRTY"), Some(x.layout().saved_dirty()));
        assert_eq!(get("NX"), (x.mode() != X86Mode::X86_32).then_some(1 << 63));
        assert_eq!(
            get("DEVMAP"),
            (x.mode() != X86Mode::X86_32).then_some(1 << 57)
        );
        assert_eq!(get("SOFT_DIRTY"), (x.mode() == X86_64).then_some(0x800));
        assert_eq!(get("SWP_EXCLUSIVE"), Some(x.layout().swp_exclusive));
    }
}
