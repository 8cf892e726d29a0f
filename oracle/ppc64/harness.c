// SPDX-License-Identifier: GPL-2.0
/*
 * ptlab kernel oracle, powerpc64 harness.
 *
 * Unicorn 2.1.5 cannot execute 64-bit PowerPC, so the kernel's objects
 * (the wrapper module oracle.o and the in-tree objects the fragment names,
 * unmodified) are linked with this file, start.S and a generated table of
 * the wrappers (fns.c, written by runner/src/oracle/qemu.rs from oracle.o's
 * symbols) into a freestanding big-endian ELFv2 program, run under
 * qemu-ppc64-static as one long-lived process.
 *
 * No libc: Debian's ppc64 glibc is ELFv1 while the kernel objects are
 * ELFv2, so the harness makes its own system calls.
 *
 * Protocol (native byte order, i.e. big-endian, on stdin/stdout):
 *   request  = { u64 fn; u64 a0; u64 a1; }              (24 bytes)
 *   reply    = { u64 value; u64 status; }               (16 bytes)
 * fn < ptlab_nfns calls wrapper fn(a0, a1) (a wrapper with fewer parameters
 * ignores the rest, as the ELFv2 ABI allows).  status: bits 0-7 the kind
 * (PTLAB_OK, PTLAB_WARN, PTLAB_BUG, PTLAB_TRAP, PTLAB_CRASH, PTLAB_BADFN),
 * bits 8-15 the number of traps taken (saturated), bits 16-23 the signal
 * of a crash (whose value is then the faulting address).
 * Special requests (fn >= PTLAB_OP_INIT):
 *   PTLAB_OP_INIT(radix, mmu_features): ptlab_ppc64_early_init_mmu(radix)
 *     and the mmu_feature_keys jump labels; value = patched | other << 32;
 *   PTLAB_OP_GEOM(i): ptlab_ppc64_geometry(i);
 *   PTLAB_OP_COUNT: value = the number of wrappers.
 * Replies are written when the input runs dry (or the reply buffer is
 * full), so a client sending a batch of at most 4096 requests reads exactly
 * its replies.  End of input ends the process.
 *
 * WARN_ON(), BUG() and VM_BUG_ON() (CONFIG_DEBUG_VM) are trap
 * instructions: a SIGTRAP handler looks the address up in __bug_table
 * (BUGFLAG_WARNING tells a WARN from a BUG) and records it.  After a WARN
 * the call resumes after the trap, as the kernel does; a BUG oopses in the
 * kernel, so the call ends there with value 0 and PTLAB_BUG (so does a
 * trap no entry names, PTLAB_TRAP).  A fault (SIGSEGV/SIGBUS/SIGILL)
 * becomes a PTLAB_CRASH reply.  Either way the loop goes on with the next
 * request.
 */

typedef unsigned long ul;
typedef unsigned int u32;

#define PTLAB_OK 0
#define PTLAB_WARN 1
#define PTLAB_BUG 2
#define PTLAB_TRAP 3	/* a trap no __bug_table entry names */
#define PTLAB_CRASH 4
#define PTLAB_BADFN 5

#define PTLAB_OP_INIT 0xffffffffffff0001UL
#define PTLAB_OP_GEOM 0xffffffffffff0002UL
#define PTLAB_OP_COUNT 0xffffffffffff0003UL

#define BUGFLAG_WARNING 1	/* include/asm-generic/bug.h */

/* fns.c (generated): the wrappers, in the order the client numbers them. */
extern ul (*const ptlab_fns[])(ul, ul);
extern const ul ptlab_nfns;

/* oracle.o's powerpc section (oracle/wrapper/oracle.c). */
void ptlab_ppc64_early_init_mmu(ul radix);
ul ptlab_ppc64_geometry(ul i);
ul ptlab_ppc64_jump_label_init(ul mmu_features, void (*poke)(ul code, ul insn));
ul ptlab_ppc64_bug_flags(ul nip);

/* ---- system calls (arch/powerpc: number in r0, args r3-r8, CR0.SO on error) */
static long sys(long n, long a, long b, long c, long d)
{
	register long r0 asm("r0") = n;
	register long r3 asm("r3") = a;
	register long r4 asm("r4") = b;
	register long r5 asm("r5") = c;
	register long r6 asm("r6") = d;

	asm volatile("sc; bns+ 1f; neg 3,3; 1:"
		     : "+r"(r0), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6)
		     :
		     : "r7", "r8", "r9", "r10", "r11", "r12", "cr0", "ctr", "memory");
	return r3;
}
#define SYS_read 3
#define SYS_write 4
#define SYS_mprotect 125
#define SYS_rt_sigaction 173
#define SYS_exit_group 234

static void __attribute__((noreturn)) die(long code)
{
	for (;;)
		sys(SYS_exit_group, code, 0, 0, 0);
}

/* gcc may emit calls to these for block moves. */
void *memset(void *d, int c, ul n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, ul n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

/* ---- patching the kernel's text (jump labels) */
static void poke(ul code, ul insn)
{
	/* qemu-user may use 64K target pages: cover both neighbours. */
	sys(SYS_mprotect, (long)(code & ~0xffffUL), 0x20000, 7 /* RWX */, 0);
	*(volatile u32 *)code = (u32)insn;
	asm volatile("dcbst 0,%0; sync; icbi 0,%0; sync; isync" : : "r"(code) : "memory");
}

/* ---- signals */
struct ksigaction {
	void *handler;
	ul flags;
	void *restorer;
	ul mask;
};
#define SA_SIGINFO 4
#define SA_NODEFER 0x40000000UL
#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGSEGV 11

/* ucontext_t on ppc64: uc_mcontext.regs (a pointer to pt_regs) is at 224;
 * regs[1] is the stack pointer, regs[12] the entry register, regs[32] NIP. */
static ul *uc_regs(void *uc)
{
	return *(ul **)((char *)uc + 224);
}

static volatile ul trap_kind, traps;
static ul stack_top;
static volatile ul crash_nip, crash_sig;

static void __attribute__((noreturn)) crash_resume(void);
static void __attribute__((noreturn)) oops_resume(void);

/* Leave the call: resume in fn on a fresh frame at the initial stack. */
static void leave_call(ul *regs, void (*fn)(void))
{
	regs[1] = stack_top - 1024;
	regs[12] = (ul)fn;
	regs[32] = (ul)fn;
}

static void on_trap(int sig, void *info, void *uc)
{
	ul *regs = uc_regs(uc);
	ul nip = regs[32];
	ul f = ptlab_ppc64_bug_flags(nip);
	ul kind = !f ? PTLAB_TRAP : (f & BUGFLAG_WARNING) ? PTLAB_WARN : PTLAB_BUG;

	(void)sig;
	(void)info;
	if (kind > trap_kind)
		trap_kind = kind;
	traps++;
	if (kind == PTLAB_WARN)
		regs[32] = nip + 4;	/* report_bug() returns BUG_TRAP_TYPE_WARN */
	else
		leave_call(regs, oops_resume);	/* a BUG oopses: no value */
}

static void on_crash(int sig, void *info, void *uc)
{
	ul *regs = uc_regs(uc);

	(void)info;
	crash_nip = regs[32];
	crash_sig = (ul)sig;
	leave_call(regs, crash_resume);
}

static void handle(int sig, void (*h)(int, void *, void *))
{
	struct ksigaction sa = { (void *)h, SA_SIGINFO | SA_NODEFER, 0, 0 };

	if (sys(SYS_rt_sigaction, sig, (long)&sa, 0, 8) < 0)
		die(100 + sig);
}

/* ---- the request loop */
#define REQ 24
#define REP 16
#define MAXREQ 4096
static ul inbuf[MAXREQ * REQ / 8];
static ul in_len, in_pos;	/* bytes */
static ul outbuf[MAXREQ * REP / 8];
static ul out_n;		/* replies */

static void flush(void)
{
	ul done = 0, len = out_n * REP;

	while (done < len) {
		long n = sys(SYS_write, 1, (long)((char *)outbuf + done), (long)(len - done), 0);

		if (n <= 0)
			die(2);
		done += (ul)n;
	}
	out_n = 0;
}

static void reply(ul value, ul status)
{
	if (out_n == MAXREQ)
		flush();
	outbuf[2 * out_n] = value;
	outbuf[2 * out_n + 1] = status;
	out_n++;
}

static void call(ul fn, ul a0, ul a1)
{
	if (fn < ptlab_nfns) {
		ul v, n;

		trap_kind = 0;
		traps = 0;
		v = ptlab_fns[fn](a0, a1);
		n = traps > 255 ? 255 : traps;
		reply(v, trap_kind | n << 8);
	} else if (fn == PTLAB_OP_INIT) {
		ptlab_ppc64_early_init_mmu(a0);
		reply(ptlab_ppc64_jump_label_init(a1, poke), PTLAB_OK);
	} else if (fn == PTLAB_OP_GEOM) {
		reply(ptlab_ppc64_geometry(a0), PTLAB_OK);
	} else if (fn == PTLAB_OP_COUNT) {
		reply(ptlab_nfns, PTLAB_OK);
	} else {
		reply(fn, PTLAB_BADFN);
	}
}

static void __attribute__((noreturn)) serve(void)
{
	for (;;) {
		long n;

		while (in_len - in_pos >= REQ) {
			ul *r = (ul *)((char *)inbuf + in_pos);

			in_pos += REQ;	/* consumed before the call: a crash skips it */
			call(r[0], r[1], r[2]);
		}
		flush();
		/* Keep a partial request, then read more. */
		memcpy(inbuf, (char *)inbuf + in_pos, in_len - in_pos);
		in_len -= in_pos;
		in_pos = 0;
		n = sys(SYS_read, 0, (long)((char *)inbuf + in_len), (long)(sizeof(inbuf) - in_len), 0);
		if (n == 0)
			die(0);
		if (n < 0)
			die(1);
		in_len += (ul)n;
	}
}

static void __attribute__((noreturn)) oops_resume(void)
{
	ul n = traps > 255 ? 255 : traps;

	reply(0, trap_kind | n << 8);
	serve();
}

static void __attribute__((noreturn)) crash_resume(void)
{
	reply(crash_nip, PTLAB_CRASH | crash_sig << 16);
	serve();
}

void __attribute__((noreturn)) ptlab_main(ul sp)
{
	stack_top = sp & ~15UL;
	handle(SIGTRAP, on_trap);
	handle(SIGSEGV, on_crash);
	handle(SIGBUS, on_crash);
	handle(SIGILL, on_crash);
	serve();
}
