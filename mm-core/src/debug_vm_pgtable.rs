//! The helper identities of Linux's `mm/debug_vm_pgtable.c` (v6.6), run on
//! any [`Arch`] through the trait alone.
//!
//! Linux runs these once at boot, and only on the architectures that opt in
//! (`ARCH_HAS_DEBUG_VM_PGTABLE`: not arm32, not sparc, and x86 only without
//! PAE).  Here every family runs on every configuration, over all 16
//! `vm_get_page_prot()` values and many random pfns; a family that does not
//! apply is a [`crate::family::FamilyStatus::Skip`] carrying the Kconfig option that gates it
//! in Linux, never a silent pass.
//!
//! The "advanced" and "clear"/"populate" families operate on entries in real
//! tables: they build an mm on a small machine and use the model's own
//! pointer operations, as the kernel's versions use `set_pte_at()` and
//! friends on a live table.

use std::sync::Arc;

use crate::arch::{Arch, Level, Pgprot, Pmd, Pte, SwpEntry};
use crate::family::{skip, Checker, FamilyResult, Rng};
use crate::machine::{Machine, Mode};
use crate::mm::Mm;
use crate::swapops::{self, MAX_SWAPFILES_SHIFT};
use crate::MmError;

/// Parameters of a run.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Random pfns tried per protection value.
    pub pfns_per_prot: u32,
    /// Seed of the pfn generator.
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            pfns_per_prot: 64,
            seed: 0x5eed_cafe_f00d,
        }
    }
}

/// Random pfns for one protection value: pte pfns anywhere in the physical
/// range, pmd pfns aligned to the pmd size (the kernel's `fixed_pte_pfn` and
/// `fixed_pmd_pfn`).
fn pfns<A: Arch>(a: &A, rng: &mut Rng, n: u32, pmd_aligned: bool) -> Vec<u64> {
    let g = a.geometry();
    let bits = g.phys_bits - g.page_shift;
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let align = if pmd_aligned {
        (g.pmd_size() >> g.page_shift).max(1)
    } else {
        1
    };
    let mut v: Vec<u64> = (0..n)
        .map(|_| (rng.next_u64() & mask) / align * align)
        .collect();
    v.push(0);
    v.push(mask / align * align);
    v
}

/// `args->page_prot`: `vm_get_page_prot(VM_ACCESS_FLAGS)`, the protection
/// the kernel's single-value families use (only the *basic* families run
/// over all 16 `protection_map` values).
const VM_ACCESS_FLAGS: u8 = crate::arch::vm_flags::VM_READ
    | crate::arch::vm_flags::VM_WRITE
    | crate::arch::vm_flags::VM_EXEC;

/// Every family, in the kernel's order.
///
/// # Errors
/// [`MmError`] when the scratch machine for the table-based families cannot
/// be built (out of memory).
pub fn run_all<A: Arch + Clone>(a: &A, p: Params) -> Result<Vec<FamilyResult>, MmError> {
    let mut out = vec![
        pte_basic_tests(a, p),
        pmd_basic_tests(a, p),
        pud_basic_tests(a, p),
        pud_leaf_tests(a, p),
        pmd_leaf_tests(a, p),
        pte_special_tests(a, p),
        pte_protnone_tests(a, p),
        pmd_protnone_tests(a, p),
        pte_devmap_tests(a, p),
        pmd_devmap_tests(a, p),
        pte_soft_dirty_tests(a, p),
        pmd_soft_dirty_tests(a, p),
        pte_swap_soft_dirty_tests(a, p),
        pmd_swap_soft_dirty_tests(a, p),
        pte_swap_exclusive_tests(a, p),
        pte_swap_tests(a, p),
        pmd_swap_tests(a, p),
        swap_migration_tests(a, p),
        pmd_thp_tests(a, p),
        pud_thp_tests(a, p),
        pud_devmap_tests(a, p),
    ];
    out.extend(table_families(a, p)?);
    out.push(skip(
        "hugetlb_basic_tests",
        "hugetlbfs is not modelled (CONFIG_HUGETLB_PAGE)",
    ));
    out.push(skip(
        "pmd_huge_tests",
        "huge kernel vmap is not modelled (CONFIG_HAVE_ARCH_HUGE_VMAP)",
    ));
    crate::family::apply_expected(&mut out, a.expected_failures());
    Ok(out)
}

/// `pte_basic_tests()`, for each of the 16 protection values.
pub fn pte_basic_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed);
    for idx in 0..16u8 {
        let prot = a.vm_get_page_prot(idx);
        for pfn in pfns(a, &mut rng, p.pfns_per_prot, false) {
            let pte = a.pfn_pte(pfn, prot);
            let w = |s: &str| {
                format!(
                    "{s}: prot[{idx:#x}]={:#x} pfn {pfn:#x} pte {:#x}",
                    prot.0, pte.0
                )
            };
            let x = a;
            c.check(!x.pte_dirty(x.pte_wrprotect(pte)), || {
                w("pte_dirty(pte_wrprotect(pte))")
            });
            c.check(x.pte_pfn(pte) == pfn, || w("pte_pfn(pfn_pte(pfn)) != pfn"));
            c.check(x.pte_young(x.pte_mkyoung(x.pte_mkold(pte))), || {
                w("!pte_young(pte_mkyoung(pte_mkold))")
            });
            c.check(x.pte_dirty(x.pte_mkdirty(x.pte_mkclean(pte))), || {
                w("!pte_dirty(pte_mkdirty(pte_mkclean))")
            });
            c.check(
                x.pte_write(x.pte_mkwrite_novma(x.pte_wrprotect(pte))),
                || w("!pte_write(pte_mkwrite(pte_wrprotect))"),
            );
            c.check(!x.pte_young(x.pte_mkold(x.pte_mkyoung(pte))), || {
                w("pte_young(pte_mkold(pte_mkyoung))")
            });
            c.check(!x.pte_dirty(x.pte_mkclean(x.pte_mkdirty(pte))), || {
                w("pte_dirty(pte_mkclean(pte_mkdirty))")
            });
            c.check(
                !x.pte_write(x.pte_wrprotect(x.pte_mkwrite_novma(pte))),
                || w("pte_write(pte_wrprotect(pte_mkwrite))"),
            );
            c.check(!x.pte_dirty(x.pte_wrprotect(x.pte_mkclean(pte))), || {
                w("pte_dirty(pte_wrprotect(pte_mkclean))")
            });
            c.check(x.pte_dirty(x.pte_wrprotect(x.pte_mkdirty(pte))), || {
                w("!pte_dirty(pte_wrprotect(pte_mkdirty))")
            });
        }
    }
    c.finish("pte_basic_tests")
}

fn thp_skip<A: Arch>(a: &A, name: &'static str) -> Option<FamilyResult> {
    (!a.geometry().has_thp).then(|| {
        skip(
            name,
            "no transparent huge pages: CONFIG_TRANSPARENT_HUGEPAGE (has_transparent_hugepage())",
        )
    })
}

/// `pmd_basic_tests()`.
pub fn pmd_basic_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = thp_skip(a, "pmd_basic_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 1);
    for idx in 0..16u8 {
        let prot = a.vm_get_page_prot(idx);
        for pfn in pfns(a, &mut rng, p.pfns_per_prot, true) {
            let pmd = a.pfn_pmd(pfn, prot);
            let x = a;
            let w = |s: &str| {
                format!(
                    "{s}: prot[{idx:#x}]={:#x} pfn {pfn:#x} pmd {:#x}",
                    prot.0, pmd.0
                )
            };
            c.check(!x.pmd_dirty(x.pmd_wrprotect(pmd)), || {
                w("pmd_dirty(pmd_wrprotect(pmd))")
            });
            c.check(x.pmd_young(x.pmd_mkyoung(x.pmd_mkold(pmd))), || {
                w("!pmd_young(pmd_mkyoung(pmd_mkold))")
            });
            c.check(x.pmd_dirty(x.pmd_mkdirty(x.pmd_mkclean(pmd))), || {
                w("!pmd_dirty(pmd_mkdirty(pmd_mkclean))")
            });
            c.check(
                x.pmd_write(x.pmd_mkwrite_novma(x.pmd_wrprotect(pmd))),
                || w("!pmd_write(pmd_mkwrite(pmd_wrprotect))"),
            );
            c.check(!x.pmd_young(x.pmd_mkold(x.pmd_mkyoung(pmd))), || {
                w("pmd_young(pmd_mkold(pmd_mkyoung))")
            });
            c.check(!x.pmd_dirty(x.pmd_mkclean(x.pmd_mkdirty(pmd))), || {
                w("pmd_dirty(pmd_mkclean(pmd_mkdirty))")
            });
            c.check(
                !x.pmd_write(x.pmd_wrprotect(x.pmd_mkwrite_novma(pmd))),
                || w("pmd_write(pmd_wrprotect(pmd_mkwrite))"),
            );
            c.check(!x.pmd_dirty(x.pmd_wrprotect(x.pmd_mkclean(pmd))), || {
                w("pmd_dirty(pmd_wrprotect(pmd_mkclean))")
            });
            c.check(x.pmd_dirty(x.pmd_wrprotect(x.pmd_mkdirty(pmd))), || {
                w("!pmd_dirty(pmd_wrprotect(pmd_mkdirty))")
            });
            // A huge pmd can never be a table pmd: pmd_bad() must see it.
            c.check(x.pmd_bad(x.pmd_mkhuge(pmd)), || {
                w("!pmd_bad(pmd_mkhuge(pmd))")
            });
            c.check(x.pmd_pfn(x.pmd_mkhuge(pmd)) == pfn, || {
                w("pmd_pfn(pmd_mkhuge(pfn_pmd(pfn))) != pfn")
            });
        }
    }
    c.finish("pmd_basic_tests")
}

fn pud_skip<A: Arch>(a: &A, name: &'static str) -> Option<FamilyResult> {
    (!a.features().thp_pud).then(|| {
        skip(
            name,
            "no pud leaves: CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD is not set",
        )
    })
}

/// Random pfns aligned to the pud leaf size.
fn pud_pfns<A: Arch>(a: &A, rng: &mut Rng, n: u32) -> Vec<u64> {
    let g = a.geometry();
    let align = 1u64 << (g.level(Level::Pud).shift - g.page_shift);
    pfns(a, rng, n, false)
        .into_iter()
        .map(|p| p / align * align)
        .collect()
}

/// `pud_basic_tests()`.
pub fn pud_basic_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = pud_skip(a, "pud_basic_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 17);
    for idx in 0..16u8 {
        let prot = a.vm_get_page_prot(idx);
        for pfn in pud_pfns(a, &mut rng, p.pfns_per_prot) {
            let pud = a.pfn_pud(pfn, prot);
            let x = a;
            let w = |s: &str| {
                format!(
                    "{s}: prot[{idx:#x}]={:#x} pfn {pfn:#x} pud {:#x}",
                    prot.0, pud.0
                )
            };
            c.check(!x.pud_dirty(x.pud_wrprotect(pud)), || {
                w("pud_dirty(pud_wrprotect(pud))")
            });
            c.check(x.pud_young(x.pud_mkyoung(x.pud_mkold(pud))), || {
                w("!pud_young(pud_mkyoung(pud_mkold))")
            });
            c.check(x.pud_dirty(x.pud_mkdirty(x.pud_mkclean(pud))), || {
                w("!pud_dirty(pud_mkdirty(pud_mkclean))")
            });
            c.check(!x.pud_dirty(x.pud_mkclean(x.pud_mkdirty(pud))), || {
                w("pud_dirty(pud_mkclean(pud_mkdirty))")
            });
            c.check(x.pud_write(x.pud_mkwrite(x.pud_wrprotect(pud))), || {
                w("!pud_write(pud_mkwrite(pud_wrprotect))")
            });
            c.check(!x.pud_write(x.pud_wrprotect(x.pud_mkwrite(pud))), || {
                w("pud_write(pud_wrprotect(pud_mkwrite))")
            });
            c.check(!x.pud_young(x.pud_mkold(x.pud_mkyoung(pud))), || {
                w("pud_young(pud_mkold(pud_mkyoung))")
            });
            c.check(!x.pud_dirty(x.pud_wrprotect(x.pud_mkclean(pud))), || {
                w("pud_dirty(pud_wrprotect(pud_mkclean))")
            });
            c.check(x.pud_dirty(x.pud_wrprotect(x.pud_mkdirty(pud))), || {
                w("!pud_dirty(pud_wrprotect(pud_mkdirty))")
            });
            if a.geometry().level(Level::Pmd).is_folded() {
                continue;
            }
            // A huge pud does not point at a pmd table: pud_bad() must say so.
            c.check(x.pud_bad(x.pud_mkhuge(pud)), || {
                w("!pud_bad(pud_mkhuge(pud))")
            });
            c.check(x.pud_pfn(x.pud_mkhuge(pud)) == pfn, || {
                w("pud_pfn(pud_mkhuge(pfn_pud(pfn))) != pfn")
            });
        }
    }
    c.finish("pud_basic_tests")
}

/// `pud_leaf_tests()`.
pub fn pud_leaf_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = pud_skip(a, "pud_leaf_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 18);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pud_pfns(a, &mut rng, p.pfns_per_prot * 16) {
            let pud = a.pud_mkhuge(a.pfn_pud(pfn, a.vm_get_page_prot(idx)));
            c.check(a.pud_leaf(pud), || {
                format!("!pud_leaf(pud_mkhuge(pfn_pud({pfn:#x}))) = {:#x}", pud.0)
            });
        }
    }
    c.finish("pud_leaf_tests")
}

/// `pud_thp_tests()`.
pub fn pud_thp_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = pud_skip(a, "pud_thp_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 19);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pud_pfns(a, &mut rng, p.pfns_per_prot * 16) {
            let pud = a.pfn_pud(pfn, a.vm_get_page_prot(idx));
            c.check(a.pud_trans_huge(a.pud_mkhuge(pud)), || {
                format!("!pud_trans_huge(pud_mkhuge({:#x}))", pud.0)
            });
        }
    }
    c.finish("pud_thp_tests")
}

/// `pud_devmap_tests()`.
pub fn pud_devmap_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = pud_skip(a, "pud_devmap_tests") {
        return s;
    }
    if !a.features().pte_devmap {
        return skip("pud_devmap_tests", "CONFIG_ARCH_HAS_PTE_DEVMAP is not set");
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 20);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pud_pfns(a, &mut rng, p.pfns_per_prot * 16) {
            let pud = a.pfn_pud(pfn, a.vm_get_page_prot(idx));
            c.check(a.pud_devmap(a.pud_mkdevmap(pud)), || {
                format!("!pud_devmap(pud_mkdevmap({:#x}))", pud.0)
            });
        }
    }
    c.finish("pud_devmap_tests")
}

/// `pmd_leaf_tests()`.
pub fn pmd_leaf_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = thp_skip(a, "pmd_leaf_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 2);
    for idx in [VM_ACCESS_FLAGS] {
        let prot = a.vm_get_page_prot(idx);
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, true) {
            let pmd = a.pmd_mkhuge(a.pfn_pmd(pfn, prot));
            c.check(a.pmd_leaf(pmd), || {
                format!(
                    "!pmd_leaf(pmd_mkhuge(pfn_pmd({pfn:#x}, prot[{idx:#x}]))) = {:#x}",
                    pmd.0
                )
            });
        }
    }
    c.finish("pmd_leaf_tests")
}

/// `pte_special_tests()`.
pub fn pte_special_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().pte_special {
        return skip(
            "pte_special_tests",
            "CONFIG_ARCH_HAS_PTE_SPECIAL is not set",
        );
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 3);
    for idx in [VM_ACCESS_FLAGS] {
        let prot = a.vm_get_page_prot(idx);
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, false) {
            let pte = a.pfn_pte(pfn, prot);
            c.check(a.pte_special(a.pte_mkspecial(pte)), || {
                format!("!pte_special(pte_mkspecial({:#x}))", pte.0)
            });
            c.check(a.pte_pfn(a.pte_mkspecial(pte)) == pfn, || {
                format!("pte_mkspecial changed the pfn of {:#x}", pte.0)
            });
        }
    }
    c.finish("pte_special_tests")
}

/// `pte_protnone_tests()`.
pub fn pte_protnone_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().numa_balancing {
        return skip(
            "pte_protnone_tests",
            "CONFIG_NUMA_BALANCING is not set (no ARCH_SUPPORTS_NUMA_BALANCING)",
        );
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 4);
    let none = a.page_none();
    for pfn in pfns(a, &mut rng, p.pfns_per_prot * 4, false) {
        let pte = a.pte_mkyoung(a.pfn_pte(pfn, none));
        c.check(a.pte_protnone(pte), || {
            format!("!pte_protnone(pfn_pte({pfn:#x}, PAGE_NONE)) = {:#x}", pte.0)
        });
        c.check(a.pte_present(pte), || {
            format!("!pte_present(pfn_pte({pfn:#x}, PAGE_NONE)) = {:#x}", pte.0)
        });
        c.check(a.pte_pfn(pte) == pfn, || {
            format!("pte_pfn of a PAGE_NONE pte {:#x} != {pfn:#x}", pte.0)
        });
    }
    c.finish("pte_protnone_tests")
}

/// `pmd_protnone_tests()`.
pub fn pmd_protnone_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().numa_balancing {
        return skip(
            "pmd_protnone_tests",
            "CONFIG_NUMA_BALANCING is not set (no ARCH_SUPPORTS_NUMA_BALANCING)",
        );
    }
    if let Some(s) = thp_skip(a, "pmd_protnone_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 5);
    let none = a.page_none();
    for pfn in pfns(a, &mut rng, p.pfns_per_prot * 4, true) {
        let pmd = a.pmd_mkhuge(a.pfn_pmd(pfn, none));
        c.check(a.pmd_protnone(pmd), || {
            format!(
                "!pmd_protnone(pmd_mkhuge(pfn_pmd({pfn:#x}, PAGE_NONE))) = {:#x}",
                pmd.0
            )
        });
        c.check(a.pmd_present(pmd), || {
            format!(
                "!pmd_present(pmd_mkhuge(pfn_pmd({pfn:#x}, PAGE_NONE))) = {:#x}",
                pmd.0
            )
        });
    }
    c.finish("pmd_protnone_tests")
}

/// `pte_devmap_tests()`.
pub fn pte_devmap_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().pte_devmap {
        return skip("pte_devmap_tests", "CONFIG_ARCH_HAS_PTE_DEVMAP is not set");
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 6);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, false) {
            let pte = a.pfn_pte(pfn, a.vm_get_page_prot(idx));
            c.check(a.pte_devmap(a.pte_mkdevmap(pte)), || {
                format!("!pte_devmap(pte_mkdevmap({:#x}))", pte.0)
            });
        }
    }
    c.finish("pte_devmap_tests")
}

/// `pmd_devmap_tests()`.
pub fn pmd_devmap_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().pte_devmap {
        return skip("pmd_devmap_tests", "CONFIG_ARCH_HAS_PTE_DEVMAP is not set");
    }
    if let Some(s) = thp_skip(a, "pmd_devmap_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 7);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, true) {
            let pmd = a.pfn_pmd(pfn, a.vm_get_page_prot(idx));
            c.check(a.pmd_devmap(a.pmd_mkdevmap(pmd)), || {
                format!("!pmd_devmap(pmd_mkdevmap({:#x}))", pmd.0)
            });
            // A devmap huge pmd is not trans-huge: __pte_offset_map() must
            // test pmd_devmap() separately.
            let huge = a.pmd_mkdevmap(a.pmd_mkhuge(pmd));
            c.check(!a.pmd_trans_huge(huge), || {
                format!("pmd_trans_huge(pmd_mkdevmap(pmd_mkhuge({:#x})))", pmd.0)
            });
        }
    }
    c.finish("pmd_devmap_tests")
}

/// `pte_soft_dirty_tests()`.
pub fn pte_soft_dirty_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().soft_dirty {
        return skip(
            "pte_soft_dirty_tests",
            "CONFIG_MEM_SOFT_DIRTY is not set (no HAVE_ARCH_SOFT_DIRTY)",
        );
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 8);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, false) {
            let pte = a.pfn_pte(pfn, a.vm_get_page_prot(idx));
            c.check(a.pte_soft_dirty(a.pte_mksoft_dirty(pte)), || {
                format!("!pte_soft_dirty(pte_mksoft_dirty({:#x}))", pte.0)
            });
            c.check(!a.pte_soft_dirty(a.pte_clear_soft_dirty(pte)), || {
                format!("pte_soft_dirty(pte_clear_soft_dirty({:#x}))", pte.0)
            });
        }
    }
    c.finish("pte_soft_dirty_tests")
}

/// `pmd_soft_dirty_tests()`.
pub fn pmd_soft_dirty_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().soft_dirty {
        return skip(
            "pmd_soft_dirty_tests",
            "CONFIG_MEM_SOFT_DIRTY is not set (no HAVE_ARCH_SOFT_DIRTY)",
        );
    }
    if let Some(s) = thp_skip(a, "pmd_soft_dirty_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 9);
    for idx in [VM_ACCESS_FLAGS] {
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, true) {
            let pmd = a.pfn_pmd(pfn, a.vm_get_page_prot(idx));
            c.check(a.pmd_soft_dirty(a.pmd_mksoft_dirty(pmd)), || {
                format!("!pmd_soft_dirty(pmd_mksoft_dirty({:#x}))", pmd.0)
            });
            c.check(!a.pmd_soft_dirty(a.pmd_clear_soft_dirty(pmd)), || {
                format!("pmd_soft_dirty(pmd_clear_soft_dirty({:#x}))", pmd.0)
            });
        }
    }
    c.finish("pmd_soft_dirty_tests")
}

/// Random arch swap entries with types below `MAX_SWAPFILES` and offsets
/// the format holds.
fn swap_entries<A: Arch>(a: &A, rng: &mut Rng, n: u32) -> Vec<SwpEntry> {
    let max = a.max_swapfile_offset();
    let mut v: Vec<SwpEntry> = (0..n)
        .map(|_| {
            a.__swp_entry(
                rng.below(a.swap_types().max_swapfiles()),
                rng.below(max.saturating_add(1).max(1)),
            )
        })
        .collect();
    // Type 0 with the largest offset is the all-zero pte on x86-64 (the
    // offset is stored complemented): not a swap pte, so use type 1.
    v.push(a.__swp_entry(1, max));
    v.push(a.__swp_entry(a.swap_types().max_swapfiles() - 1, 0));
    v
}

/// `pte_swap_soft_dirty_tests()`.
pub fn pte_swap_soft_dirty_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().soft_dirty {
        return skip(
            "pte_swap_soft_dirty_tests",
            "CONFIG_MEM_SOFT_DIRTY is not set (no HAVE_ARCH_SOFT_DIRTY)",
        );
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 10);
    for e in swap_entries(a, &mut rng, p.pfns_per_prot * 16) {
        let pte = a.__swp_entry_to_pte(e);
        c.check(swapops::is_swap_pte(a, pte), || {
            format!("!is_swap_pte({:#x})", pte.0)
        });
        c.check(a.pte_swp_soft_dirty(a.pte_swp_mksoft_dirty(pte)), || {
            format!("!pte_swp_soft_dirty(pte_swp_mksoft_dirty({:#x}))", pte.0)
        });
        c.check(
            !a.pte_swp_soft_dirty(a.pte_swp_clear_soft_dirty(pte)),
            || format!("pte_swp_soft_dirty(pte_swp_clear_soft_dirty({:#x}))", pte.0),
        );
    }
    c.finish("pte_swap_soft_dirty_tests")
}

fn thp_migration_skip<A: Arch>(a: &A, name: &'static str) -> Option<FamilyResult> {
    if let Some(s) = thp_skip(a, name) {
        return Some(s);
    }
    (!a.has_pmd_swap()).then(|| skip(name, "CONFIG_ARCH_ENABLE_THP_MIGRATION is not set"))
}

/// `pmd_swap_soft_dirty_tests()`.
pub fn pmd_swap_soft_dirty_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if !a.features().soft_dirty {
        return skip(
            "pmd_swap_soft_dirty_tests",
            "CONFIG_MEM_SOFT_DIRTY is not set (no HAVE_ARCH_SOFT_DIRTY)",
        );
    }
    if let Some(s) = thp_migration_skip(a, "pmd_swap_soft_dirty_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 11);
    for e in swap_entries(a, &mut rng, p.pfns_per_prot * 16) {
        let pmd = a.__swp_entry_to_pmd(e);
        c.check(a.pmd_swp_soft_dirty(a.pmd_swp_mksoft_dirty(pmd)), || {
            format!("!pmd_swp_soft_dirty(pmd_swp_mksoft_dirty({:#x}))", pmd.0)
        });
        c.check(
            !a.pmd_swp_soft_dirty(a.pmd_swp_clear_soft_dirty(pmd)),
            || format!("pmd_swp_soft_dirty(pmd_swp_clear_soft_dirty({:#x}))", pmd.0),
        );
    }
    c.finish("pmd_swap_soft_dirty_tests")
}

/// Generic `pte_to_swp_entry()` reduced to (type, offset): strips the
/// soft-dirty, exclusive and uffd-wp bits first, as `swapops.h` does.
fn pte_to_swp<A: Arch>(a: &A, mut pte: Pte) -> (u64, u64) {
    if a.pte_swp_soft_dirty(pte) {
        pte = a.pte_swp_clear_soft_dirty(pte);
    }
    if a.pte_swp_exclusive(pte) {
        pte = a.pte_swp_clear_exclusive(pte);
    }
    let e = a.__pte_to_swp_entry(pte);
    (a.__swp_type(e), a.__swp_offset(e))
}

/// `pte_swap_exclusive_tests()` (the 2023 form with the maximum offset).
pub fn pte_swap_exclusive_tests<A: Arch>(a: &A, _p: Params) -> FamilyResult {
    let mut c = Checker::new();
    // generic_max_swapfile_size(): probe the largest offset the format keeps.
    let max = pte_to_swp(a, a.__swp_entry_to_pte(a.__swp_entry(0, u64::MAX))).1;
    c.check(max == a.max_swapfile_offset(), || {
        format!(
            "probed max swap offset {max:#x} != max_swapfile_offset() {:#x}",
            a.max_swapfile_offset()
        )
    });
    let ty = (1u64 << MAX_SWAPFILES_SHIFT) - 1;
    let want = (ty, max);
    let pte = a.__swp_entry_to_pte(a.__swp_entry(ty, max));
    c.check(!a.pte_swp_exclusive(pte), || {
        format!("pte_swp_exclusive of a fresh swap pte {:#x}", pte.0)
    });
    c.check(swapops::is_swap_pte(a, pte), || {
        format!("!is_swap_pte({:#x})", pte.0)
    });
    c.check(pte_to_swp(a, pte) == want, || {
        format!(
            "swap entry ({ty}, {max:#x}) did not survive the pte {:#x}: {:?}",
            pte.0,
            pte_to_swp(a, pte)
        )
    });
    let ex = a.pte_swp_mkexclusive(pte);
    c.check(a.pte_swp_exclusive(ex), || {
        format!("!pte_swp_exclusive(pte_swp_mkexclusive({:#x}))", pte.0)
    });
    c.check(swapops::is_swap_pte(a, ex), || {
        format!("!is_swap_pte({:#x}) after mkexclusive", ex.0)
    });
    c.check(!a.pte_swp_soft_dirty(ex), || {
        format!("exclusive bit reads as soft-dirty in {:#x}", ex.0)
    });
    c.check(pte_to_swp(a, ex) == want, || {
        format!("mkexclusive changed the entry: {:?}", pte_to_swp(a, ex))
    });
    let cl = a.pte_swp_clear_exclusive(ex);
    c.check(!a.pte_swp_exclusive(cl), || {
        format!("pte_swp_exclusive(pte_swp_clear_exclusive({:#x}))", ex.0)
    });
    c.check(swapops::is_swap_pte(a, cl), || {
        format!("!is_swap_pte({:#x}) after clear", cl.0)
    });
    c.check(pte_to_swp(a, cl) == want, || {
        format!("clear_exclusive changed the entry: {:?}", pte_to_swp(a, cl))
    });
    c.finish("pte_swap_exclusive_tests")
}

/// `pte_swap_tests()`: the arch's swap conversion keeps the pfn bits, plus
/// (type, offset) round trips over random entries.
pub fn pte_swap_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 12);
    let prot = a.vm_get_page_prot(
        crate::arch::vm_flags::VM_READ
            | crate::arch::vm_flags::VM_WRITE
            | crate::arch::vm_flags::VM_EXEC,
    );
    for pfn in pfns(a, &mut rng, p.pfns_per_prot * 4, false) {
        let pte = a.pfn_pte(pfn, prot);
        let back = a.__swp_entry_to_pte(a.__pte_to_swp_entry(pte));
        c.check(a.pte_pfn(back) == pfn, || {
            format!(
                "pte_pfn(__swp_entry_to_pte(__pte_to_swp_entry(pfn_pte({pfn:#x})))) = {:#x}",
                a.pte_pfn(back)
            )
        });
    }
    let max = a.max_swapfile_offset();
    for _ in 0..p.pfns_per_prot * 16 {
        let (ty, off) = (
            rng.below(a.swap_types().max_swapfiles()),
            rng.below(max.saturating_add(1).max(1)),
        );
        let e = a.__swp_entry(ty, off);
        let pte = a.__swp_entry_to_pte(e);
        c.check(!a.pte_present(pte) && !a.pte_none(pte), || {
            format!(
                "swap pte ({ty}, {off:#x}) = {:#x} is present or none",
                pte.0
            )
        });
        c.check(pte_to_swp(a, pte) == (ty, off), || {
            format!(
                "swap entry ({ty}, {off:#x}) -> pte {:#x} -> {:?}",
                pte.0,
                pte_to_swp(a, pte)
            )
        });
    }
    c.finish("pte_swap_tests")
}

/// `pmd_swap_tests()`.
pub fn pmd_swap_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = thp_migration_skip(a, "pmd_swap_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 13);
    let prot = a.vm_get_page_prot(
        crate::arch::vm_flags::VM_READ
            | crate::arch::vm_flags::VM_WRITE
            | crate::arch::vm_flags::VM_EXEC,
    );
    for pfn in pfns(a, &mut rng, p.pfns_per_prot * 4, true) {
        let pmd = a.pfn_pmd(pfn, prot);
        let back = a.__swp_entry_to_pmd(a.__pmd_to_swp_entry(pmd));
        c.check(a.pmd_pfn(back) == pfn, || {
            format!(
                "pmd_pfn(__swp_entry_to_pmd(__pmd_to_swp_entry(pfn_pmd({pfn:#x})))) = {:#x}",
                a.pmd_pfn(back)
            )
        });
    }
    c.finish("pmd_swap_tests")
}

/// `swap_migration_tests()`.
pub fn swap_migration_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 14);
    for pfn in pfns(a, &mut rng, p.pfns_per_prot * 4, false) {
        if pfn > a.max_swapfile_offset() {
            continue;
        }
        let w = swapops::make_writable_migration_entry(a, pfn);
        c.check(swapops::is_migration_entry(a, w), || {
            format!("!is_migration_entry(make_writable_migration_entry({pfn:#x}))")
        });
        c.check(swapops::is_writable_migration_entry(a, w), || {
            format!("!is_writable_migration_entry(make_writable_migration_entry({pfn:#x}))")
        });
        let r = swapops::make_readable_migration_entry(a, a.__swp_offset(w));
        c.check(swapops::is_migration_entry(a, r), || {
            format!("!is_migration_entry(make_readable_migration_entry({pfn:#x}))")
        });
        c.check(!swapops::is_writable_migration_entry(a, r), || {
            format!("is_writable_migration_entry(make_readable_migration_entry({pfn:#x}))")
        });
        let pte = a.__swp_entry_to_pte(w);
        c.check(swapops::is_swap_pte(a, pte), || {
            format!("migration pte {:#x} is not a swap pte", pte.0)
        });
        let back = a.__pte_to_swp_entry(pte);
        c.check(
            a.__swp_offset(back) == pfn && swapops::is_writable_migration_entry(a, back),
            || {
                format!(
                    "migration entry for {pfn:#x} did not survive the pte {:#x}",
                    pte.0
                )
            },
        );
    }
    c.finish("swap_migration_tests")
}

/// `pmd_thp_tests()`.
pub fn pmd_thp_tests<A: Arch>(a: &A, p: Params) -> FamilyResult {
    if let Some(s) = thp_skip(a, "pmd_thp_tests") {
        return s;
    }
    let mut c = Checker::new();
    let mut rng = Rng::new(p.seed ^ 15);
    let inval = !a.features().arch_pmdp_invalidate;
    for idx in [VM_ACCESS_FLAGS] {
        let prot = a.vm_get_page_prot(idx);
        for pfn in pfns(a, &mut rng, p.pfns_per_prot * 16, true) {
            let pmd = a.pfn_pmd(pfn, prot);
            let huge = a.pmd_mkhuge(pmd);
            c.check(a.pmd_trans_huge(huge), || {
                format!("!pmd_trans_huge(pmd_mkhuge({:#x}))", pmd.0)
            });
            if inval && a.pmd_present(huge) {
                let inv = a.pmd_mkinvalid(huge);
                c.check(a.pmd_trans_huge(inv), || {
                    format!(
                        "!pmd_trans_huge(pmd_mkinvalid(pmd_mkhuge({:#x}))) = {:#x}",
                        pmd.0, inv.0
                    )
                });
                c.check(a.pmd_present(inv), || {
                    format!(
                        "!pmd_present(pmd_mkinvalid(pmd_mkhuge({:#x}))) = {:#x}",
                        pmd.0, inv.0
                    )
                });
                c.check(!a.pmd_hw_valid(inv), || {
                    format!(
                        "the MMU would still accept pmd_mkinvalid(pmd_mkhuge({:#x})) = {:#x}",
                        pmd.0, inv.0
                    )
                });
            }
        }
    }
    c.finish("pmd_thp_tests")
}

/// The families that need real tables: `pte_advanced_tests`,
/// `pmd_advanced_tests`, `pte_clear_tests`, `pmd_clear_tests`,
/// `pmd_populate_tests` and the upper-level populate and clear tests.
///
/// # Errors
/// [`MmError`] when the scratch machine cannot be built.
pub fn table_families<A: Arch + Clone>(a: &A, p: Params) -> Result<Vec<FamilyResult>, MmError> {
    let g = a.geometry();
    let machine: Arc<Machine> = Machine::new(g, 64 * g.page_size(), Mode::Deterministic)?;
    let mm = Mm::new(Arc::new(a.clone()), machine.clone())?;
    let mut rng = Rng::new(p.seed ^ 16);
    // A random user address, as the kernel picks one (get_random_vaddr()).
    let vaddr = (rng.below(g.task_size() >> g.page_shift) << g.page_shift) & !(g.pmd_size() - 1);
    let pmdp = crate::map::pmd_alloc(&mm, vaddr)?;
    crate::map::pte_alloc(&mm, pmdp, vaddr)?;
    let mut out = Vec::new();

    // pte_advanced_tests + pte_clear_tests: on a live pte under its lock.
    {
        let mut adv = Checker::new();
        let mut clr = Checker::new();
        let locked = mm
            .pte_offset_map_lock(pmdp, vaddr)?
            .ok_or_else(|| MmError::Config("scratch pte table vanished".into()))?;
        let map = locked.map();
        let i = map.index();
        for idx in 0..16u8 {
            let prot = a.vm_get_page_prot(idx);
            for pfn in pfns(a, &mut rng, p.pfns_per_prot / 4 + 1, false) {
                let pte = a.pfn_pte(pfn, prot);
                // ptep_set_wrprotect()
                map.set_at(i, a.pte_mkwrite_novma(pte))?;
                map.set_at(i, a.pte_wrprotect(map.get_at(i)?))?;
                adv.check(!a.pte_write(map.get_at(i)?), || {
                    format!("pte_write after ptep_set_wrprotect ({:#x})", pte.0)
                });
                // ptep_get_and_clear()
                map.set_at(i, a.pte_clear_val())?;
                adv.check(a.pte_none(map.get_at(i)?), || {
                    format!("!pte_none after ptep_get_and_clear ({:#x})", pte.0)
                });
                // ptep_set_access_flags(write|dirty)
                let want = a.pte_mkdirty(a.pte_mkwrite_novma(a.pte_wrprotect(pte)));
                map.set_at(i, want)?;
                let got = map.get_at(i)?;
                adv.check(a.pte_write(got) && a.pte_dirty(got), || {
                    format!("ptep_set_access_flags lost write/dirty: {:#x}", got.0)
                });
                // ptep_test_and_clear_young()
                map.set_at(i, a.pte_mkyoung(pte))?;
                map.set_at(i, a.pte_mkold(map.get_at(i)?))?;
                adv.check(!a.pte_young(map.get_at(i)?), || {
                    format!("pte_young after ptep_test_and_clear_young ({:#x})", pte.0)
                });
                // pte_clear_tests: garbage ORed in, then pte_clear -> none.
                let garbage = Pte(pte.0 | (rng.next_u64() & entry_mask(a)));
                map.set_at(i, garbage)?;
                map.set_at(i, a.pte_clear_val())?;
                clr.check(a.pte_none(map.get_at(i)?), || {
                    format!("!pte_none after pte_clear of {:#x}", garbage.0)
                });
            }
        }
        out.push(adv.finish("pte_advanced_tests"));
        out.push(clr.finish("pte_clear_tests"));
    }

    // pmd_clear_tests / pmd_populate_tests / pmd_advanced_tests at the
    // scratch pmd: detach the table first and put it back afterwards.
    {
        let table = mm.pmdp_get(pmdp)?;
        let table_pa = a.pmd_table_pa(table);
        let mut clr = Checker::new();
        let mut pop = Checker::new();
        let mut adv = Checker::new();
        let _g = mm.pmd_lock(pmdp)?;
        for _ in 0..p.pfns_per_prot {
            let garbage = Pmd(table.0 | (rng.next_u64() & entry_mask(a)));
            mm.set_entry(pmdp, garbage.0)?;
            mm.set_entry(pmdp, a.pmd_clear_val().0)?;
            clr.check(a.pmd_none(mm.pmdp_get(pmdp)?), || {
                format!("!pmd_none after pmd_clear of {:#x}", garbage.0)
            });
            mm.set_entry(pmdp, a.pmd_populate(table_pa).0)?;
            let got = mm.pmdp_get(pmdp)?;
            pop.check(!a.pmd_bad(got), || {
                format!("pmd_bad(pmd_populate({table_pa:#x})) = {:#x}", got.0)
            });
            pop.check(
                a.pmd_present(got) && !a.pmd_leaf(got) && a.pmd_table_pa(got) == table_pa,
                || {
                    format!(
                        "pmd_populate({table_pa:#x}) = {:#x} does not point at the table",
                        got.0
                    )
                },
            );
        }
        if g.has_thp {
            for idx in 0..16u8 {
                for pfn in pfns(a, &mut rng, p.pfns_per_prot / 4 + 1, true) {
                    let pmd = a.pmd_mkhuge(a.pfn_pmd(pfn, a.vm_get_page_prot(idx)));
                    mm.set_entry(pmdp, a.pmd_mkwrite_novma(pmd).0)?;
                    mm.set_entry(pmdp, a.pmd_wrprotect(mm.pmdp_get(pmdp)?).0)?;
                    adv.check(!a.pmd_write(mm.pmdp_get(pmdp)?), || {
                        format!("pmd_write after pmdp_set_wrprotect ({:#x})", pmd.0)
                    });
                    mm.set_entry(pmdp, a.pmd_mkyoung(pmd).0)?;
                    mm.set_entry(pmdp, a.pmd_mkold(mm.pmdp_get(pmdp)?).0)?;
                    adv.check(!a.pmd_young(mm.pmdp_get(pmdp)?), || {
                        format!("pmd_young after pmdp_test_and_clear_young ({:#x})", pmd.0)
                    });
                    mm.set_entry(pmdp, a.pmd_clear_val().0)?;
                    adv.check(a.pmd_none(mm.pmdp_get(pmdp)?), || {
                        format!("!pmd_none after pmdp_huge_get_and_clear ({:#x})", pmd.0)
                    });
                }
            }
        }
        mm.set_entry(pmdp, a.pmd_populate(table_pa).0)?;
        out.push(if g.has_thp {
            adv.finish("pmd_advanced_tests")
        } else {
            skip(
                "pmd_advanced_tests",
                "no transparent huge pages: CONFIG_TRANSPARENT_HUGEPAGE",
            )
        });
        out.push(clr.finish("pmd_clear_tests"));
        out.push(pop.finish("pmd_populate_tests"));
    }

    // Upper-level populate tests, where the level has its own entries.
    for (level, name) in [
        (Level::Pud, "pud_populate_tests"),
        (Level::P4d, "p4d_populate_tests"),
        (Level::Pgd, "pgd_populate_tests"),
    ] {
        let clear_name = match level {
            Level::Pud => "pud_clear_tests",
            Level::P4d => "p4d_clear_tests",
            _ => "pgd_clear_tests",
        };
        if mm.interp_level(level) != level {
            // Linux: `if (mm_pXd_folded(mm)) return;` for the level below.
            let below = Level::ALL[level.index() + 1];
            let why = format!(
                "the {} level is folded, so {} entries are {} entries here (__PAGETABLE_{}_FOLDED)",
                below.name(),
                level.name(),
                mm.interp_level(level).name(),
                below.name().to_uppercase()
            );
            out.push(skip(name, &why));
            out.push(skip(clear_name, &why));
            continue;
        }
        let mut c = Checker::new();
        for _ in 0..p.pfns_per_prot {
            let table_pa = (1 + rng.below(machine.phys.nr_frames() - 1)) << g.page_shift;
            let (bad, present) = match level {
                Level::Pud => {
                    let v = a.pud_populate(table_pa);
                    (
                        a.pud_bad(v),
                        a.pud_present(v) && a.pud_table_pa(v) == table_pa,
                    )
                }
                Level::P4d => {
                    let v = a.p4d_populate(table_pa);
                    (
                        a.p4d_bad(v),
                        a.p4d_present(v) && a.p4d_table_pa(v) == table_pa,
                    )
                }
                _ => {
                    let v = a.pgd_populate(table_pa);
                    (
                        a.pgd_bad(v),
                        a.pgd_present(v) && a.pgd_table_pa(v) == table_pa,
                    )
                }
            };
            c.check(!bad, || {
                format!(
                    "{}_bad({}_populate({table_pa:#x}))",
                    level.name(),
                    level.name()
                )
            });
            c.check(present, || {
                format!(
                    "{}_populate({table_pa:#x}) does not point at the table",
                    level.name()
                )
            });
        }
        out.push(c.finish(name));
        // pud_clear_tests / p4d_clear_tests / pgd_clear_tests: on the live
        // entry above the scratch pmd, pXd_clear() must leave pXd_none()
        // (the arch's empty value: not 0 on s390, whose empty region
        // entries keep their table type).  Restored afterwards.
        let mut c = Checker::new();
        let mut ptr = mm.pgd_offset(vaddr);
        if level != Level::Pgd {
            ptr = mm.p4d_offset(ptr, vaddr)?;
        }
        if level == Level::Pud {
            ptr = mm.pud_offset(ptr, vaddr)?;
        }
        let live = mm.load_entry(ptr)?;
        c.check(!mm.level_none(level, live), || {
            format!("{} {live:#x} above a populated pmd is none", level.name())
        });
        {
            let _ptl = mm.page_table_lock.lock()?;
            let cleared = crate::map::clear_val(a, level);
            mm.set_entry(ptr, cleared)?;
            let v = mm.load_entry(ptr)?;
            c.check(mm.level_none(level, v), || {
                format!(
                    "{}_none({}_clear()) is false: it stored {v:#x}",
                    level.name(),
                    level.name()
                )
            });
            mm.set_entry(ptr, live)?;
        }
        out.push(c.finish(clear_name));
    }
    mm.mmput()?;
    Ok(out)
}

/// Bits a random "garbage" value may use: the entry width.
fn entry_mask<A: Arch>(a: &A) -> u64 {
    if a.geometry().entry_bytes == 8 {
        u64::MAX
    } else {
        0xffff_ffff
    }
}

/// Protection values as the kernel builds `protection_map[]`.
pub fn protection_map<A: Arch>(a: &A) -> [Pgprot; 16] {
    std::array::from_fn(|i| a.vm_get_page_prot(i as u8))
}
