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
#ifdef CONFIG_PPC
/* powerpc spells pteval_t pte_basic_t (asm/pgtable-types.h). */
typedef pte_basic_t pteval_t;
#endif
#if defined(CONFIG_S390) || defined(CONFIG_SPARC64)
/* s390 and sparc64 have no pteval_t: pte_t wraps an unsigned long
 * (asm/page.h, asm/page_64.h). */
typedef unsigned long pteval_t;
#endif
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
#ifndef CONFIG_S390	/* s390 has no pte_exec()/pte_mkexec() */
PRED(pte, pte_exec)
#endif
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
#if !defined(CONFIG_S390) && !defined(CONFIG_SPARC64)	/* nor has sparc64 pte_mkexec() */
UN(pte, pte_mkexec)
#endif
UN(pte, pte_mkspecial)
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP	/* no generic pte_mkdevmap()/pmd_mkdevmap() */
UN(pte, pte_mkdevmap)
#endif
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
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP
UN(pmd, pmd_mkdevmap)
#endif
/* book3s64 has no pmd_mkinvalid(): its pmdp_invalidate() is out of line
 * (pmd_hugepage_update() on the table in memory, then a TLB flush). */
/* Nor have s390 and sparc64 (__HAVE_ARCH_PMDP_INVALIDATE, out of line). */
#if !defined(CONFIG_PPC_BOOK3S_64) && !defined(CONFIG_S390) && !defined(CONFIG_SPARC64)
UN(pmd, pmd_mkinvalid)
#endif
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
/* sparc64 computes every protection_map[] entry at boot
 * (sun4u/sun4v_pgprot_init() in init_64.c, from run-time variables), so no
 * object holds a table the model could be compared with: compiled out there,
 * and `ptlab oracle test` lists vm_get_page_prot as not covered.  (arm's
 * build_mem_type_table() only ORs user_pgprot into the static table of
 * mm/mmu.c: the arm loader does that.) */
#ifndef CONFIG_SPARC64
W pv oracle_vm_get_page_prot(ul vm_flags) { return pgprot_val(vm_get_page_prot(vm_flags)); }
#endif

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

#ifdef CONFIG_PPC_BOOK3S_64
/*
 * ---- powerpc book3s64: boot-time set-up for the qemu-user harness
 * (oracle/ppc64/).  Not wrappers (no oracle_ prefix): the harness calls them
 * once, before any wrapper, with the knob it was started with.
 */
#include <linux/jump_label.h>
#include <asm/mmu.h>
#include <asm/ppc-opcode.h>
#include <asm/bug.h>

/* The default mmap window (task_size_64.h): the model's address range;
 * TASK_SIZE_MAX is the whole TASK_SIZE_USER64. */
CONST(DEFAULT_MAP_WINDOW_USER64, DEFAULT_MAP_WINDOW_USER64)

/* The table-populate helpers (book3s/64/pgalloc.h) for a table at physical
 * address pa: __pa(table) | PMD/PUD/PGD_VAL_BITS, run-time values (radix adds
 * the next level's index size, NLS).  They do not use the mm. */
#include <asm/pgalloc.h>
W pv oracle_pmd_populate(ul pa) { pmd_t p; pmd_populate(NULL, &p, (pgtable_t)__va(pa)); return pmd_val(p); }
W pv oracle_pud_populate(ul pa) { pud_t p; pud_populate(NULL, &p, (pmd_t *)__va(pa)); return pud_val(p); }
W pv oracle_p4d_populate(ul pa) { p4d_t p; p4d_populate(NULL, &p, (pud_t *)__va(pa)); return p4d_val(p); }

/* The folded pgd level (asm-generic/pgtable-nop4d.h: the pgd table's
 * entries are p4d entries, so pgd_none() is 0, pgd_present() 1). */
PRED(pgd, pgd_none)
PRED(pgd, pgd_present)
PRED(pgd, pgd_bad)

/* What radix__early_init_mmu() (mm/book3s64/radix_pgtable.c) or
 * hash__early_init_mmu() (mm/book3s64/hash_utils.c) assigns to the
 * run-time geometry variables, from the kernel's own macros.  The variables
 * themselves (arch/powerpc/mm/pgtable_64.c) are provided by the harness. */
void ptlab_ppc64_early_init_mmu(ul radix)
{
	if (radix) {
		__pte_index_size = RADIX_PTE_INDEX_SIZE;
		__pmd_index_size = RADIX_PMD_INDEX_SIZE;
		__pud_index_size = RADIX_PUD_INDEX_SIZE;
		__pgd_index_size = RADIX_PGD_INDEX_SIZE;
		__pud_cache_index = RADIX_PUD_INDEX_SIZE;
		__pte_table_size = RADIX_PTE_TABLE_SIZE;
		__pmd_table_size = RADIX_PMD_TABLE_SIZE;
		__pud_table_size = RADIX_PUD_TABLE_SIZE;
		__pgd_table_size = RADIX_PGD_TABLE_SIZE;
		__pmd_val_bits = RADIX_PMD_VAL_BITS;
		__pud_val_bits = RADIX_PUD_VAL_BITS;
		__pgd_val_bits = RADIX_PGD_VAL_BITS;
		__pte_frag_nr = RADIX_PTE_FRAG_NR;
		__pte_frag_size_shift = RADIX_PTE_FRAG_SIZE_SHIFT;
		__pmd_frag_nr = RADIX_PMD_FRAG_NR;
		__pmd_frag_size_shift = RADIX_PMD_FRAG_SIZE_SHIFT;
	} else {
		__pte_frag_nr = H_PTE_FRAG_NR;
		__pte_frag_size_shift = H_PTE_FRAG_SIZE_SHIFT;
		__pmd_frag_nr = H_PMD_FRAG_NR;
		__pmd_frag_size_shift = H_PMD_FRAG_SIZE_SHIFT;
		__pte_index_size = H_PTE_INDEX_SIZE;
		__pmd_index_size = H_PMD_INDEX_SIZE;
		__pud_index_size = H_PUD_INDEX_SIZE;
		__pgd_index_size = H_PGD_INDEX_SIZE;
		__pud_cache_index = H_PUD_CACHE_INDEX;
		__pte_table_size = H_PTE_TABLE_SIZE;
		__pmd_table_size = H_PMD_TABLE_SIZE;
		__pud_table_size = H_PUD_TABLE_SIZE;
		__pgd_table_size = H_PGD_TABLE_SIZE;
		__pmd_val_bits = HASH_PMD_VAL_BITS;
		__pud_val_bits = HASH_PUD_VAL_BITS;
		__pgd_val_bits = HASH_PGD_VAL_BITS;
	}
}

/* The run-time geometry, for the report: index sizes pte/pmd/pud/pgd, then
 * table sizes pte/pmd/pud/pgd, then PTE/PMD fragment counts. */
ul ptlab_ppc64_geometry(ul i)
{
	switch (i) {	/* no local array: it would need the r13 stack canary */
	case 0: return __pte_index_size;
	case 1: return __pmd_index_size;
	case 2: return __pud_index_size;
	case 3: return __pgd_index_size;
	case 4: return __pte_table_size;
	case 5: return __pmd_table_size;
	case 6: return __pud_table_size;
	case 7: return __pgd_table_size;
	case 8: return __pte_frag_nr;
	case 9: return __pmd_frag_nr;
	}
	return ~0UL;
}

extern struct jump_entry __start___jump_table[], __stop___jump_table[];

/* jump_label_init() for the mmu_feature_keys only: every __jump_table
 * entry keyed on mmu_feature_keys[i] is set as static_key_enabled() would
 * have it with cur_cpu_spec->mmu_features == mmu_features
 * (mmu_feature_keys_init(), arch/powerpc/lib/feature-fixups.c), through
 * poke(code, insn) with the instruction arch_jump_label_transform() writes
 * (a branch to the target, or a nop).  Entries of other keys stay as
 * compiled.  Returns (mmu entries patched) | (other entries) << 32. */
ul ptlab_ppc64_jump_label_init(ul mmu_features, void (*poke)(ul code, ul insn))
{
	struct jump_entry *e;
	ul mmu = 0, other = 0;

	for (e = __start___jump_table; e < __stop___jump_table; e++) {
		ul key = (ul)jump_entry_key(e), base = (ul)mmu_feature_keys;
		ul i = (key - base) / sizeof(mmu_feature_keys[0]);
		bool enabled;
		ul code = jump_entry_code(e), insn;

		if (key < base || i >= NUM_MMU_FTR_KEYS) {
			other++;
			continue;
		}
		enabled = (mmu_features >> i) & 1;
		if (enabled ^ jump_entry_is_branch(e))	/* JUMP_LABEL_JMP */
			insn = PPC_RAW_BRANCH(jump_entry_target(e) - code);
		else
			insn = PPC_RAW_NOP();
		poke(code, insn);
		mmu++;
	}
	return mmu | other << 32;
}

/* The trap at nip: (BUGFLAG_* of its __bug_table entry) | 1 << 16, or 0
 * when no entry names it (an unexpected trap). */
extern const struct bug_entry __start___bug_table[], __stop___bug_table[];
ul ptlab_ppc64_bug_flags(ul nip)
{
	const struct bug_entry *b;

	for (b = __start___bug_table; b < __stop___bug_table; b++) {
#ifdef CONFIG_GENERIC_BUG_RELATIVE_POINTERS
		ul addr = (ul)&b->bug_addr_disp + b->bug_addr_disp;
#else
		ul addr = b->bug_addr;
#endif
		if (addr == nip)
			return b->flags | 1UL << 16;
	}
	return 0;
}
#endif /* CONFIG_PPC_BOOK3S_64 */

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ptlab kernel oracle: page-table helpers as callable functions");
