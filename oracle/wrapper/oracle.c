// SPDX-License-Identifier: GPL-2.0
/*
 * ptlab kernel oracle: every page-table helper the model implements, wrapped
 * as a non-inline function `oracle_<kernel name>` around the kernel's own
 * (inline) definition, so that `ptlab oracle test` can call it under
 * emulation and compare it with the model helper of the same name
 * (mm-core/src/helpers.rs).
 *
 * Calling convention of every wrapper (the loader ABI relies on it):
 *   - entries and protections travel as pteval_t (`pv`), everything else as
 *     unsigned long (`ul`); predicates return 0 or 1 as unsigned long;
 *   - `asmlinkage` (on x86-32: all arguments on the stack, a u64 returned in
 *     edx:eax; empty elsewhere).
 * Helpers a configuration does not have are compiled out; the runner lists
 * them as "not in this kernel configuration".
 *
 * Constants come as `oracle_const_<NAME>` (no arguments, unsigned long).
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/huge_mm.h>

typedef unsigned long ul;
typedef pteval_t pv;

#define W noinline __used asmlinkage

#define UN(T, fn)   W pv oracle_##fn(pv v) { return T##_val(fn(__##T(v))); }
#define PRED(T, fn) W ul oracle_##fn(pv v) { return !!fn(__##T(v)); }
#define CONST(n, e) W ul oracle_const_##n(void) { return (ul)(e); }

/* ---- pte predicates */
PRED(pte, pte_none)
PRED(pte, pte_present)
PRED(pte, pte_young)
PRED(pte, pte_dirty)
PRED(pte, pte_write)
PRED(pte, pte_exec)
PRED(pte, pte_special)
PRED(pte, pte_protnone)
PRED(pte, pte_devmap)
PRED(pte, pte_soft_dirty)
PRED(pte, pte_uffd_wp)
/* ---- pte transforms */
UN(pte, pte_mkyoung)
UN(pte, pte_mkold)
UN(pte, pte_mkdirty)
UN(pte, pte_mkclean)
UN(pte, pte_mkwrite_novma)
UN(pte, pte_wrprotect)
UN(pte, pte_mkexec)
UN(pte, pte_mkspecial)
UN(pte, pte_mkdevmap)
UN(pte, pte_mksoft_dirty)
UN(pte, pte_clear_soft_dirty)
UN(pte, pte_mkuffd_wp)
UN(pte, pte_clear_uffd_wp)
W pv oracle_pfn_pte(ul pfn, pv prot) { return pte_val(pfn_pte(pfn, __pgprot(prot))); }
W ul oracle_pte_pfn(pv v) { return pte_pfn(__pte(v)); }
W pv oracle_pte_modify(pv v, pv prot) { return pte_val(pte_modify(__pte(v), __pgprot(prot))); }

/* ---- swap: the arch encoding */
W ul oracle___swp_entry(ul type, ul off) { return __swp_entry(type, off).val; }
W ul oracle___swp_type(ul e) { swp_entry_t s = { .val = e }; return __swp_type(s); }
W ul oracle___swp_offset(ul e) { swp_entry_t s = { .val = e }; return __swp_offset(s); }
W ul oracle___pte_to_swp_entry(pv v) { return __pte_to_swp_entry(__pte(v)).val; }
W pv oracle___swp_entry_to_pte(ul e) { swp_entry_t s = { .val = e }; return pte_val(__swp_entry_to_pte(s)); }
PRED(pte, pte_swp_soft_dirty)
UN(pte, pte_swp_mksoft_dirty)
UN(pte, pte_swp_clear_soft_dirty)
PRED(pte, pte_swp_exclusive)
UN(pte, pte_swp_mkexclusive)
UN(pte, pte_swp_clear_exclusive)
PRED(pte, pte_swp_uffd_wp)
/* ---- swap: the generic layer (include/linux/swapops.h) */
W ul oracle_swp_entry(ul type, ul off) { return swp_entry(type, off).val; }
W ul oracle_swp_type(ul e) { swp_entry_t s = { .val = e }; return swp_type(s); }
W ul oracle_swp_offset(ul e) { swp_entry_t s = { .val = e }; return swp_offset(s); }
W pv oracle_swp_entry_to_pte(ul e) { swp_entry_t s = { .val = e }; return pte_val(swp_entry_to_pte(s)); }
W ul oracle_is_swap_pte(pv v) { return !!is_swap_pte(__pte(v)); }

/* ---- pmd */
PRED(pmd, pmd_none)
PRED(pmd, pmd_present)
PRED(pmd, pmd_bad)
PRED(pmd, pmd_leaf)
W ul oracle_pmd_pfn(pv v) { return pmd_pfn(__pmd(v)); }
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
PRED(pmd, pmd_trans_huge)
PRED(pmd, pmd_devmap)
PRED(pmd, pmd_protnone)
PRED(pmd, pmd_young)
PRED(pmd, pmd_dirty)
PRED(pmd, pmd_write)
PRED(pmd, pmd_soft_dirty)
UN(pmd, pmd_mkyoung)
UN(pmd, pmd_mkold)
UN(pmd, pmd_mkdirty)
UN(pmd, pmd_mkclean)
UN(pmd, pmd_mkwrite_novma)
UN(pmd, pmd_wrprotect)
UN(pmd, pmd_mkhuge)
UN(pmd, pmd_mkdevmap)
UN(pmd, pmd_mkinvalid)
UN(pmd, pmd_mksoft_dirty)
UN(pmd, pmd_clear_soft_dirty)
W pv oracle_pfn_pmd(ul pfn, pv prot) { return pmd_val(pfn_pmd(pfn, __pgprot(prot))); }
W pv oracle_pmd_modify(pv v, pv prot) { return pmd_val(pmd_modify(__pmd(v), __pgprot(prot))); }
W ul oracle_is_swap_pmd(pv v) { return !!is_swap_pmd(__pmd(v)); }
#endif
#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION
W ul oracle___pmd_to_swp_entry(pv v) { return __pmd_to_swp_entry(__pmd(v)).val; }
W pv oracle___swp_entry_to_pmd(ul e) { swp_entry_t s = { .val = e }; return pmd_val(__swp_entry_to_pmd(s)); }
PRED(pmd, pmd_swp_soft_dirty)
UN(pmd, pmd_swp_mksoft_dirty)
UN(pmd, pmd_swp_clear_soft_dirty)
#endif

/* ---- pud */
#if CONFIG_PGTABLE_LEVELS > 2
PRED(pud, pud_none)
PRED(pud, pud_present)
PRED(pud, pud_bad)
PRED(pud, pud_leaf)
#endif
#ifdef CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD
PRED(pud, pud_trans_huge)
PRED(pud, pud_devmap)
PRED(pud, pud_young)
PRED(pud, pud_dirty)
PRED(pud, pud_write)
UN(pud, pud_mkyoung)
UN(pud, pud_mkold)
UN(pud, pud_mkdirty)
UN(pud, pud_mkclean)
UN(pud, pud_mkwrite)
UN(pud, pud_wrprotect)
UN(pud, pud_mkhuge)
UN(pud, pud_mkdevmap)
W pv oracle_pfn_pud(ul pfn, pv prot) { return pud_val(pfn_pud(pfn, __pgprot(prot))); }
W ul oracle_pud_pfn(pv v) { return pud_pfn(__pud(v)); }
#endif

/* ---- p4d, pgd (x86_64 with CONFIG_X86_5LEVEL: the run-time LA57 check) */
#if CONFIG_PGTABLE_LEVELS > 3
PRED(p4d, p4d_none)
PRED(p4d, p4d_present)
PRED(p4d, p4d_bad)
#endif
#if CONFIG_PGTABLE_LEVELS > 4
PRED(pgd, pgd_none)
PRED(pgd, pgd_present)
PRED(pgd, pgd_bad)
#endif

/* ---- protections: the kernel's own out-of-line vm_get_page_prot(),
 * linked in from the in-tree object named in the fragment header. */
W pv oracle_vm_get_page_prot(ul vm_flags) { return pgprot_val(vm_get_page_prot(vm_flags)); }

/* ---- constants */
CONST(sizeof_pteval, sizeof(pteval_t))
CONST(sizeof_long, sizeof(long))
CONST(PAGE_SHIFT, PAGE_SHIFT)
CONST(PMD_SHIFT, PMD_SHIFT)
CONST(PUD_SHIFT, PUD_SHIFT)
CONST(PGDIR_SHIFT, PGDIR_SHIFT)
CONST(PTRS_PER_PTE, PTRS_PER_PTE)
CONST(PTRS_PER_PMD, PTRS_PER_PMD)
CONST(PTRS_PER_PUD, PTRS_PER_PUD)
CONST(PTRS_PER_PGD, PTRS_PER_PGD)
CONST(TASK_SIZE_MAX, TASK_SIZE_MAX)
CONST(MAX_SWAPFILES_SHIFT, MAX_SWAPFILES_SHIFT)
CONST(MAX_SWAPFILES, MAX_SWAPFILES)
CONST(SWP_MIGRATION_READ, SWP_MIGRATION_READ)
CONST(SWP_MIGRATION_WRITE, SWP_MIGRATION_WRITE)
CONST(SWP_PTE_MARKER, SWP_PTE_MARKER)
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
CONST(HPAGE_PMD_SHIFT, HPAGE_PMD_SHIFT)
#endif

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ptlab kernel oracle: page-table helpers as callable functions");
