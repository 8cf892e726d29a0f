/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptlab kernel oracle, powerpc64 harness: process entry and the kernel's
 * profiling hook, for a freestanding big-endian ELFv2 program run under
 * qemu-ppc64-static (see harness.c).
 */
	.abiversion 2
	.text
	.globl _start
_start:
	/* The TOC pointer (r2), from our own address. */
	bcl	20,31,1f
1:	mflr	12
	addis	2,12,(.TOC.-1b)@ha
	addi	2,2,(.TOC.-1b)@l
	/* r13 is the kernel's paca pointer (-mstack-protector-guard=tls/r13):
	 * give it a zeroed area, so a stray paca read sees 0, not a fault. */
	addis	13,2,ptlab_paca@toc@ha
	addi	13,13,ptlab_paca@toc@l
	/* A 16-byte aligned stack with an empty back chain. */
	clrrdi	1,1,4
	li	0,0
	stdu	0,-256(1)
	/* ptlab_main(stack pointer): it keeps it to restart from a crash. */
	mr	3,1
	bl	ptlab_main
	nop
	li	3,0
	li	0,234		/* exit_group */
	sc

	/* -mprofile-kernel: every kernel function starts with
	 * "mflr r0; bl _mcount"; return to it with its LR restored from r0. */
	.globl _mcount
_mcount:
	mflr	12
	mtctr	12
	mtlr	0
	bctr

	.bss
	.balign	64
	.globl ptlab_paca
ptlab_paca:
	.space	16384
