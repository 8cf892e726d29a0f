/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ptlab guest-code walker for Linux's powerpc book3s64 page tables.
 *
 * Built as a freestanding 32-bit big-endian PowerPC ELF (build.rs) and run
 * under Unicorn's PPC32 CPU over the very bytes the Rust model wrote: the
 * model's physical memory is mapped at req->mem_base.  Unicorn 2.1.5 cannot
 * execute 64-bit PowerPC code, so every 64-bit entry is read with two
 * 32-bit big-endian loads (high word first), and results go back through
 * memory (a 32-bit guest returns 32 bits in r3).
 *
 * Two walks, selected by req->mode:
 *
 *  - RADIX: the ISA 3.0 radix tree walk as the MMU does it, driven by the
 *    entries themselves: V (bit 63) valid, L (bit 62) leaf; a directory
 *    entry's next-level base NLB (bits 8..59) and size NLS (bits 0..4, log2
 *    of the entry count) say where and how big the next table is.  The root
 *    covers 52 effective-address bits with req->idx[0] index bits (RPDS).
 *    Leaf real page number: bits 12..56.  Reserved directory bits
 *    (0x60000000000000e0, RADIX_PMD_BAD_BITS) fault.  A data access by user
 *    code needs PRIVILEGED clear and EAA read (R or RW) or, for a store,
 *    RW (_PAGE_WRITE).  Reference/change bits are not checked or updated.
 *
 *  - HASH: with the hash MMU the hardware searches the hashed page table,
 *    not these tables; this walks Linux's tables the way the hash fault path
 *    (find_linux_pte + check_pte_access) reads them: fixed index sizes,
 *    PMD_MASKED_BITS (0xc0000000000000ff) stripped from directory entries,
 *    a leaf is any entry with _PAGE_PTE, and the access needs _PAGE_PRESENT
 *    and _PAGE_READ (plus _PAGE_WRITE for a store), PRIVILEGED clear.
 *
 * The code is written from the ISA and the kernel's definitions, not copied.
 */

typedef unsigned int u32;
typedef unsigned long long u64;

#define PRESENT 0x8000000000000000ULL
#define LEAF 0x4000000000000000ULL
#define PAGE_READ 0x4ULL
#define PAGE_WRITE 0x2ULL
#define PAGE_PRIVILEGED 0x8ULL
#define RADIX_DIR_RESERVED 0x20000000000000e0ULL
#define RADIX_NLB 0x0fffffffffffff00ULL
#define RADIX_RPN 0x01fffffffffff000ULL
#define MASKED_BITS 0xc0000000000000ffULL
#define LINUX_PA_MASK ((1ULL << 53) - 1)

/* Status codes (low byte); the level (0 = top) is in bits 8..15. */
#define ST_OK 0
#define ST_INVALID 1     /* entry not valid / none */
#define ST_RESERVED 2    /* reserved or "bad" directory bits */
#define ST_BEYOND 3      /* table outside physical memory */
#define ST_NO_READ 4     /* leaf without read permission */
#define ST_NO_WRITE 5    /* store to a leaf without write permission */
#define ST_PRIVILEGED 6  /* user access to a privileged leaf */
#define ST_MISALIGNED 7  /* leaf or table not aligned to its size */
#define ST_NO_LEAF 8     /* ran out of levels without a leaf */
#define ST_BAD_SIZE 9    /* NLS out of range */
#define ST_BAD_EA 10     /* effective address outside the tree */

struct req {
	u64 mem_base;       /* guest address of physical address 0 */
	u64 mem_size;       /* bytes of physical memory */
	u64 root;           /* physical address of the pgd */
	u64 va;             /* effective address */
	u64 write;          /* nonzero for a store */
	u64 mode;           /* 0 radix, 1 hash */
	u64 page_shift;
	u64 idx[4];         /* index bits: pgd, pud, pmd, pte (radix: idx[0] only) */
	u64 pte_table_size; /* hash: pmd_bad() alignment */
	u64 pmd_table_size; /* hash: pud_bad() alignment */
	u64 pa;             /* out: physical address */
	u64 status;         /* out: ST_* | level << 8 */
	u64 nr;             /* out: entries read */
	u64 trace[6];       /* out: the entries read, top first */
};

static int load(struct req *r, u64 pa, u64 *v)
{
	const volatile u32 *p;

	if (pa & 7 || pa >= r->mem_size || r->mem_size - pa < 8)
		return 0;
	p = (const volatile u32 *)(u32)(r->mem_base + pa);
	*v = ((u64)p[0] << 32) | p[1];
	if (r->nr < 6)
		r->trace[r->nr] = *v;
	r->nr++;
	return 1;
}

static void done(struct req *r, u64 level, u64 status, u64 pa)
{
	r->status = status | level << 8;
	r->pa = pa;
}

/* Permission check of a leaf for a user data access. */
static u64 check_leaf(struct req *r, u64 e)
{
	if (e & PAGE_PRIVILEGED)
		return ST_PRIVILEGED;
	if (r->mode == 0) {
		if (!(e & (PAGE_READ | PAGE_WRITE)))
			return ST_NO_READ;
	} else {
		if (!(e & PRESENT))
			return ST_INVALID;
		if (!(e & PAGE_READ))
			return ST_NO_READ;
	}
	if (r->write && !(e & PAGE_WRITE))
		return ST_NO_WRITE;
	return ST_OK;
}

static void walk_radix(struct req *r)
{
	u64 table = r->root, e, level, st;
	u32 bits = (u32)r->idx[0];
	u32 shift = 52 - bits;
	u32 ps = (u32)r->page_shift;

	if (r->va >> 52) {
		done(r, 0, ST_BAD_EA, 0);
		return;
	}
	for (level = 0; level < 6; level++) {
		u64 index = (r->va >> shift) & ((1ULL << bits) - 1);

		if (!load(r, table + index * 8, &e)) {
			done(r, level, ST_BEYOND, 0);
			return;
		}
		if (!(e & PRESENT)) {
			done(r, level, ST_INVALID, 0);
			return;
		}
		if (e & LEAF) {
			u64 size = 1ULL << shift, rpn = e & RADIX_RPN;

			if (level == 0) {
				done(r, level, ST_RESERVED, 0);
				return;
			}
			if (rpn & (size - 1)) {
				done(r, level, ST_MISALIGNED, 0);
				return;
			}
			st = check_leaf(r, e);
			done(r, level, st, st == ST_OK ? rpn | (r->va & (size - 1)) : 0);
			return;
		}
		if (shift == ps) {
			done(r, level, ST_NO_LEAF, 0);
			return;
		}
		if (e & RADIX_DIR_RESERVED) {
			done(r, level, ST_RESERVED, 0);
			return;
		}
		bits = (u32)(e & 0x1f);
		if (bits < 5 || bits + ps > shift) {
			done(r, level, ST_BAD_SIZE, 0);
			return;
		}
		shift -= bits;
		table = e & RADIX_NLB;
		if (table & ((8ULL << bits) - 1)) {
			done(r, level, ST_MISALIGNED, 0);
			return;
		}
	}
	done(r, level, ST_NO_LEAF, 0);
}

static void walk_hash(struct req *r)
{
	u64 table = r->root, e, level, st;
	u32 ps = (u32)r->page_shift;
	u32 shifts[4];

	shifts[3] = ps;
	shifts[2] = ps + (u32)r->idx[3];
	shifts[1] = shifts[2] + (u32)r->idx[2];
	shifts[0] = shifts[1] + (u32)r->idx[1];
	if (r->va >> (shifts[0] + (u32)r->idx[0])) {
		done(r, 0, ST_BAD_EA, 0);
		return;
	}
	for (level = 0; level < 4; level++) {
		u32 shift = shifts[level];
		u64 index = (r->va >> shift) & ((1ULL << r->idx[level]) - 1);

		if (!load(r, table + index * 8, &e)) {
			done(r, level, ST_BEYOND, 0);
			return;
		}
		if (e == 0 || (level == 3 && !(e & LEAF))) {
			done(r, level, ST_INVALID, 0);
			return;
		}
		if (e & LEAF) {
			u64 size = 1ULL << shift;
			u64 base = e & LINUX_PA_MASK & ~((1ULL << ps) - 1);

			if (level == 0) {
				done(r, level, ST_RESERVED, 0);
				return;
			}
			st = check_leaf(r, e);
			done(r, level, st, st == ST_OK ? base + (r->va & (size - 1)) : 0);
			return;
		}
		if (!(e & PRESENT)) {
			done(r, level, ST_INVALID, 0);
			return;
		}
		/* pud_bad(): PMD_TABLE_SIZE alignment; pmd_bad(): PTE_TABLE_SIZE. */
		if ((level == 1 && (e & (r->pmd_table_size - 1))) ||
		    (level == 2 && (e & (r->pte_table_size - 1)))) {
			done(r, level, ST_RESERVED, 0);
			return;
		}
		table = e & ~MASKED_BITS;
	}
	done(r, level, ST_NO_LEAF, 0);
}

void walk(struct req *r)
{
	r->nr = 0;
	r->pa = 0;
	if (r->mode == 0)
		walk_radix(r);
	else
		walk_hash(r);
}
