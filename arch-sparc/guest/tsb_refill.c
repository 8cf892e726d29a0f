/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ptlab: the sparc64 user TLB-miss refill path of Linux v6.6, as guest code.
 *
 * sparc64 has no hardware page-table walker.  A data-TLB miss traps; the
 * trap handler probes the 8K TSB (translation storage buffer) with the
 * pointer and tag target the MMU precomputed, then the huge (4M) TSB, and on
 * a miss in both walks the Linux page tables with physical loads
 * (USER_PGTABLE_WALK_TL1 in arch/sparc/include/asm/tsb.h, called from
 * tsb_miss_page_table_walk in arch/sparc/kernel/tsb.S), writes the TTE it
 * found into the right TSB (TSB_LOCK_TAG + TSB_WRITE) and loads the TLB; if
 * the walk fails it goes to do_sparc64_fault.  This file does the same steps
 * in C, written from those semantics (not copied), and then plays the D-MMU:
 * it decodes the TTE (page size, physical address, W and P bits) for the
 * access, as the TLB would.
 *
 * It runs under Unicorn's sparc64 CPU with the MMU off (VA == PA), over the
 * very bytes of ptlab's simulated physical memory, so every load below is a
 * physical load, as the kernel's ldxa [..] ASI_PHYS_USE_EC.
 *
 * Build constraints (Unicorn 2.1.5 sparc64 defects, see arch-sparc/build.rs):
 * one function, everything inlined, no switch tables, no calls, no register
 * windows (-mflat), no delay-slot scheduling (-fno-delayed-branch); the host
 * stops the CPU *at* the final retl with a code hook.
 */

typedef unsigned long u64;
typedef unsigned int u32;

/* arch/sparc/include/asm/page_64.h, pgtable_64.h */
#define PAGE_SHIFT 13
#define PMD_SHIFT 23
#define PUD_SHIFT 33
#define PGDIR_SHIFT 43
#define LEVEL_BITS 10 /* PMD_BITS = PUD_BITS = PGDIR_BITS = PAGE_SHIFT - 3 */
#define REAL_HPAGE_SHIFT 22

#define _PAGE_VALID 0x8000000000000000UL
#define _PAGE_PMD_HUGE 0x0100000000000000UL /* = _PAGE_PUD_HUGE */

#define _PAGE_PADDR_4U 0x000007FFFFFFE000UL
#define _PAGE_NFO_4U 0x1000000000000000UL
#define _PAGE_SZ32MB_4U 0x0001000000000000UL
#define _PAGE_P_4U 0x0000000000000004UL
#define _PAGE_W_4U 0x0000000000000002UL

#define _PAGE_PADDR_4V 0x00FFFFFFFFFFE000UL
#define _PAGE_NFO_4V 0x4000000000000000UL
#define _PAGE_P_4V 0x0000000000000100UL
#define _PAGE_W_4V 0x0000000000000040UL
#define _PAGE_SZALL_4V 0x0000000000000007UL

/* arch/sparc/include/asm/tsb.h */
#define TSB_TAG_LOCK_BIT 47
#define TSB_TAG_LOCK_HIGH (1U << (TSB_TAG_LOCK_BIT - 32))

/* Outcomes (miss_args.how). */
#define HOW_HIT_BASE 1     /* tag matched in the 8K TSB */
#define HOW_HIT_HUGE 2     /* tag matched in the huge TSB */
#define HOW_REFILL_BASE 3  /* walked, TTE written to the 8K TSB */
#define HOW_REFILL_HUGE 4  /* walked a huge pmd/pud, TTE written to the huge TSB */
#define HOW_REFILL_NONE 5  /* walked a huge entry, but there is no huge TSB */
#define HOW_WALK_FAULT 8   /* walk failed: tsb_do_fault -> do_sparc64_fault */

/* Faults of the access once the TLB holds the TTE (miss_args.fault). */
#define FAULT_NONE 0
#define FAULT_PROT 1       /* store to a TTE without W: fast_data_access_protection */
#define FAULT_PRIV 2       /* user access to a TTE with P: data_access_exception */
#define FAULT_NFO 3        /* normal access to a no-fault-only page */

/* The parameter block the host fills (all big-endian u64). */
struct miss_args {
	u64 pgd_pa;         /* mm->pgd, physical (TRAP_PER_CPU_PGD_PADDR) */
	u64 va;             /* the missing virtual address */
	u64 write;          /* 1 for a store */
	u64 sun4v;          /* 1: sun4v TTE layout (the boot-time patches applied) */
	u64 tsb_base_pa;    /* mm->context.tsb_block[MM_TSB_BASE] */
	u64 tsb_base_nentries;
	u64 tsb_huge_pa;    /* mm->context.tsb_block[MM_TSB_HUGE], 0 if none */
	u64 tsb_huge_nentries;
	u64 pud_huge_patch; /* 1: .pud_huge_patch applied (16G hugetlb set up) */
	/* results */
	u64 how;
	u64 tte;
	u64 slot;           /* TSB entry address probed or written */
	u64 pa;
	u64 page_shift;
	u64 fault;
};

static inline __attribute__((always_inline)) u64 ld_phys(u64 pa)
{
	return *(volatile u64 *)pa;
}

static inline __attribute__((always_inline)) void st_phys(u64 pa, u64 v)
{
	*(volatile u64 *)pa = v;
}

/* The byte offset of va's entry in a table of level `shift`: the tsb.h
 * "sllx VADDR, 64 - (SHIFT + BITS); srlx 64 - PAGE_SHIFT; andn 0x7" idiom,
 * which drops every VA bit at or above SHIFT + BITS. */
static inline __attribute__((always_inline)) u64 tbl_off(u64 va, unsigned int shift)
{
	return ((va << (64 - (shift + LEVEL_BITS))) >> (64 - PAGE_SHIFT)) & ~7UL;
}

/* USER_PGTABLE_WALK_TL1: 1 with the TTE in *tte, or 0 (FAIL_LABEL). */
static inline __attribute__((always_inline)) int
user_pgtable_walk(volatile struct miss_args *a, u64 va, u64 *tte)
{
	u64 e;

	e = ld_phys(a->pgd_pa + tbl_off(va, PGDIR_SHIFT));
	if (e == 0)
		return 0;
	e = ld_phys(e + tbl_off(va, PUD_SHIFT));
	/* USER_PGTABLE_CHECK_PUD_HUGE: a patch site, "ba 700f" until 16G
	 * hugetlb pages are set up.  Then VA bits 32:22 are propagated. */
	if (a->pud_huge_patch) {
		if (e == 0)
			return 0;
		if (e & _PAGE_PMD_HUGE) {
			u64 m = 0xffe00000UL << 1;
			if ((long)e >= 0)
				return 0;
			*tte = (e & ~m) | (va & m);
			return 1;
		}
	}
	if (e == 0)
		return 0;
	e = ld_phys(e + tbl_off(va, PMD_SHIFT));
	/* USER_PGTABLE_CHECK_PMD_HUGE (CONFIG_TRANSPARENT_HUGEPAGE): an 8M
	 * page is made of two 4M TTEs, so VA bit 22 goes into the TTE. */
	if (e == 0)
		return 0;
	if (e & _PAGE_PMD_HUGE) {
		u64 m = 1UL << REAL_HPAGE_SHIFT;
		if ((long)e >= 0)
			return 0;
		*tte = (e & ~m) | (va & m);
		return 1;
	}
	e = ld_phys(e + tbl_off(va, PAGE_SHIFT));
	/* brgez: only a TTE with _PAGE_VALID (bit 63) is loaded. */
	if ((long)e >= 0)
		return 0;
	*tte = e;
	return 1;
}

/* Page size the D-MMU uses for a TTE (sun4u: bits 62:61 and Panther's 48;
 * sun4v: bits 2:0; 8K << 3n). */
static inline __attribute__((always_inline)) u64 tte_page_shift(u64 sun4v, u64 tte)
{
	u64 sz;

	if (sun4v)
		return PAGE_SHIFT + 3 * (tte & _PAGE_SZALL_4V);
	sz = (tte >> 61) & 3;
	if (tte & _PAGE_SZ32MB_4U)
		return 25 + 3 * sz;
	return PAGE_SHIFT + 3 * sz;
}

void tlb_miss(volatile struct miss_args *a)
{
	u64 va = a->va;
	u64 tag = va >> 22; /* tag target with the context field zeroed */
	u64 sun4v = a->sun4v;
	u64 base_slot, huge_slot = 0, tte = 0, how, slot;
	u64 shift, paddr, w, p, nfo, fault;

	/* The 8K TSB pointer (ASI_DMMU_TSB_8KB_PTR) and the quad load. */
	base_slot = a->tsb_base_pa + (((va >> PAGE_SHIFT) & (a->tsb_base_nentries - 1)) << 4);
	if (a->tsb_huge_pa)
		huge_slot = a->tsb_huge_pa +
			    (((va >> REAL_HPAGE_SHIFT) & (a->tsb_huge_nentries - 1)) << 4);
	if (ld_phys(base_slot) == tag) {
		tte = ld_phys(base_slot + 8);
		how = HOW_HIT_BASE;
		slot = base_slot;
	} else if (huge_slot && ld_phys(huge_slot) == tag) {
		tte = ld_phys(huge_slot + 8);
		how = HOW_HIT_HUGE;
		slot = huge_slot;
	} else if (!user_pgtable_walk(a, va, &tte)) {
		a->how = HOW_WALK_FAULT;
		a->tte = 0;
		a->slot = 0;
		a->pa = 0;
		a->page_shift = 0;
		a->fault = FAULT_NONE;
		return;
	} else {
		if (tte & _PAGE_PMD_HUGE) {
			slot = huge_slot;
			how = huge_slot ? HOW_REFILL_HUGE : HOW_REFILL_NONE;
		} else {
			slot = base_slot;
			how = HOW_REFILL_BASE;
		}
		if (slot) {
			/* TSB_LOCK_TAG: the tag's high word becomes the lock
			 * bit alone; TSB_WRITE: the TTE, then the tag. */
			*(volatile u32 *)slot = TSB_TAG_LOCK_HIGH;
			st_phys(slot + 8, tte);
			st_phys(slot, tag);
		}
	}

	/* What the D-MMU does with the TTE it now holds. */
	shift = tte_page_shift(sun4v, tte);
	paddr = tte & (sun4v ? _PAGE_PADDR_4V : _PAGE_PADDR_4U);
	w = tte & (sun4v ? _PAGE_W_4V : _PAGE_W_4U);
	p = tte & (sun4v ? _PAGE_P_4V : _PAGE_P_4U);
	nfo = tte & (sun4v ? _PAGE_NFO_4V : _PAGE_NFO_4U);
	fault = FAULT_NONE;
	if (nfo)
		fault = FAULT_NFO;
	else if (p)
		fault = FAULT_PRIV;
	else if (a->write && !w)
		fault = FAULT_PROT;
	a->how = how;
	a->tte = tte;
	a->slot = slot;
	a->page_shift = shift;
	a->pa = ((paddr >> shift) << shift) | (va & ((1UL << shift) - 1));
	a->fault = fault;
}
