/* Time-sliced preemption (preempt.h): the timer, the safe-point proof and
 * the handler that yields.
 *
 * Why a safe point must be proved. The green thread interrupted here may be
 * inside code that holds a lock no other green thread can wait for greenly:
 * glibc's internal locks (malloc's arenas, stdio's, the loader's lock that
 * dl_iterate_phdr callbacks and the C++ unwinder run under, the locale's,
 * the resolver's), libgcc's and libstdc++'s, libuv's, or greenify's own
 * queues half updated. Such a lock is a futex word taken with an inline
 * system call, not through a hook: a second green thread that wants it
 * would block the one OS thread in the kernel, forever, since the holder
 * can only run on that same OS thread. Every such lock is taken and
 * released by code of those libraries, so while one is held a frame of
 * that library is on the thread's stack (the function that took it has not
 * returned), or the library called back into the program (a qsort
 * comparator, a dl_iterate_phdr callback, a destructor the unwinder runs),
 * which leaves the library's frame below the program's. So: the point is
 * safe when the interrupted program counter and every return address from
 * there to the thread's entry (thread_entry's frame, or for main the
 * startup frames of libc below main that end at the executable's _start)
 * lie in program code, none in libc, ld.so, libgcc_s, libstdc++, glibc's
 * other libraries, the sanitizer runtimes or libgreenify (which holds
 * libuv). The return addresses come from an exact unwind (libgcc's
 * _Unwind_Backtrace over the .eh_frame tables, which crosses the signal
 * frame); a frame the unwinder cannot step over (no unwind information:
 * JIT code, hand-written assembly) ends the walk before the entry is
 * reached, and the point is unsafe. libgcc finds unwind tables with
 * glibc's _dl_find_object, which takes no lock, so unwinding from the
 * handler cannot block on one of the locks above; its only lock (frames
 * registered with __register_frame_info) is held only in libgcc's own
 * frames, and a point with the program counter there is refused before
 * any unwinding.
 *
 * An unsafe point costs nothing but the check: the thread runs on and the
 * next tick tries again. A thread that is never at a safe point is
 * no worse off than without preemption. */
#include "preempt.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

#include "cancel.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "signal.h"
#include "tls.h"

struct gr_preempt_stats gr_preempt_stats;

/* The mark our preemption signals carry (signal.h). */
static const char preempt_mark = 'p';

#if defined(__x86_64__) || defined(__aarch64__)

/* ---- What is program code ----
 * The executable mappings of every loaded object, sorted, each with what
 * it is. Built on the runtime thread outside the handler, published
 * whole with one pointer store, never changed after: the handler reads
 * whichever table is current. An address in no span belongs to an object
 * loaded since (or to JIT code): the handler asks for a new table. */
enum span_kind {
	SPAN_PROGRAM, /* the program's code: preemptible */
	SPAN_EXE,     /* the main executable (program code, and _start) */
	SPAN_LIBC,    /* libc.so.6: unsafe, but main's startup frames are here */
	SPAN_UNSAFE,  /* every other library whose locks are not green */
	SPAN_SELF,    /* libgreenify (libuv inside): unsafe too */
};

struct span {
	uintptr_t lo, hi;
	unsigned kind;
};

struct spans {
	unsigned long long adds, subs; /* the loader's counts it was made at */
	size_t n, cap;
	struct span s[];
};

static struct spans *_Atomic spans_now;
int gr_preempt_stale; /* an address in no span was seen, or a dlopen came */
static uintptr_t exe_entry;

/* Libraries whose locks are not green: glibc's (every one of its shared
 * objects, NSS and gconv modules included), the compiler's runtimes, the
 * sanitizers', libunwind. Matched on the file name. A shared libuv is the
 * program's: its locks are pthread calls that bind to our hooks, as any
 * library's (Debian's Node.js runs its event loops in libuv.so.1, below
 * every JavaScript frame: listed, no JS thread could ever be preempted). */
static const char *const unsafe_names[] = {
	"ld-linux",    "ld64.so",	  "libc.so",	 "libpthread.so", "libdl.so",
	"librt.so",    "libm.so",	  "libmvec.so",	 "libresolv.so",  "libanl.so",
	"libutil.so",  "libnss_",	  "libnsl.so",	 "libthread_db",  "libc_malloc_debug",
	"libmemusage", "libBrokenLocale", "libgcc_s.so", "libstdc++.so",  "libasan.so",
	"libtsan.so",  "liblsan.so",	  "libubsan.so", "libhwasan.so",  "libunwind",
};

static unsigned kind_of(const char *path, int first, uintptr_t lo, uintptr_t hi)
{
	const char *base = strrchr(path, '/');
	uintptr_t self = (uintptr_t)&gr_preempt_safe;

	if (self >= lo && self < hi)
		return SPAN_SELF;
	if (first && !*path)
		return SPAN_EXE;
	base = base ? base + 1 : path;
	if (strstr(path, "/gconv/"))
		return SPAN_UNSAFE;
	if (!strncmp(base, "libc.so", 7))
		return SPAN_LIBC;
	for (size_t i = 0; i < sizeof(unsafe_names) / sizeof(unsafe_names[0]); i++)
		if (!strncmp(base, unsafe_names[i], strlen(unsafe_names[i])))
			return SPAN_UNSAFE;
	return SPAN_PROGRAM;
}

struct build {
	struct spans *t;
	int first;
	int failed;
};

static int add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build *b = arg;
	int first = b->first;

	(void)size;
	b->first = 0;
	if (first) {
		b->t->adds = info->dlpi_adds;
		b->t->subs = info->dlpi_subs;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (b->t->n == b->t->cap) {
			b->failed = 1;
			return 1;
		}
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		struct span *s = &b->t->s[b->t->n++];
		s->lo = lo;
		s->hi = lo + ph->p_memsz;
		s->kind = kind_of(info->dlpi_name ? info->dlpi_name : "", first, s->lo, s->hi);
	}
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int counts(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *c = arg;

	(void)size;
	c[0] = info->dlpi_adds;
	c[1] = info->dlpi_subs;
	return 1;
}

/* Builds and publishes a new table, if objects were loaded or unloaded
 * since the last. On the runtime thread, never from the handler
 * (dl_iterate_phdr takes the loader's lock), so the old table can go at
 * once: a handler that read it has returned (one that yields does so after
 * its last look at the table). */
static void spans_build(void)
{
	struct spans *old = atomic_load(&spans_now);
	size_t cap = old ? old->cap : 64;
	unsigned long long c[2] = {0, 0};

	dl_iterate_phdr(counts, c);
	if (old && old->adds == c[0] && old->subs == c[1])
		return;
	for (;;) {
		struct build b = {.first = 1};
		b.t = malloc(sizeof(*b.t) + cap * sizeof(b.t->s[0]));
		if (!b.t)
			return;
		b.t->n = 0;
		b.t->cap = cap;
		dl_iterate_phdr(add_object, &b);
		if (!b.failed) {
			qsort(b.t->s, b.t->n, sizeof(b.t->s[0]), span_cmp);
			atomic_store(&spans_now, b.t);
			free(old);
			return;
		}
		free(b.t);
		cap *= 2;
	}
}

static const struct span *span_at(const struct spans *t, uintptr_t a)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a < t->s[mid].lo)
			hi = mid;
		else if (a >= t->s[mid].hi)
			lo = mid + 1;
		else
			return &t->s[mid];
	}
	return NULL;
}

/* ---- The walk ---- */

/* thread_entry (thread.c) is alone in this section: the frame that calls a
 * green thread's start routine, where its stack ends for the walk. */
extern const char __start_gr_entry_text[], __stop_gr_entry_text[];

#define WALK_MAX 4096 /* frames; deeper is refused */

struct walk {
	const struct spans *t;
	uintptr_t pc; /* the interrupted program counter */
	int found;    /* the interrupted frame was reached */
	int skipped;  /* frames of the handler before it */
	int depth;
	int main;      /* walking main's stack */
	int libc_tail; /* main: libc frames seen after the program's */
	int verdict;   /* 1 safe, 0 unsafe, -1 not decided */
	/* The last frame reached: its code address, stack pointer and frame
	 * pointer, where a walk of frame records may go on (frames_safe). */
	uintptr_t ip, sp, fp;
	/* Resumed from a frame record (frames_safe): each frame's stack
	 * pointer lies between the last one's and top. 0: not resumed. */
	uintptr_t top;
};

/* The frame pointer's DWARF register number. */
#if defined(__x86_64__)
#define FP_DWARF 6 /* rbp */
#else
#define FP_DWARF 29 /* x29 */
#endif

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	int before = 0;
	uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
	uintptr_t at, sp;
	const struct span *s;

	if (!w->found) {
		/* The handler's frames and the kernel's signal frame, up to
		 * the frame the signal interrupted, whose address is exact. */
		if (before && ip == w->pc) {
			w->found = 1;
		} else {
			if (++w->skipped > 32)
				goto unsafe;
			return _URC_NO_REASON;
		}
	}
	if (++w->depth > WALK_MAX)
		goto unsafe;
	/* A return address is just past its call: the call is the byte before. */
	at = before ? ip : ip - 1;
	/* The stack pointer at the call: where the callee's frame ends. */
	sp = _Unwind_GetCFA(ctx);
	if (w->top && (sp < w->sp || sp > w->top))
		goto unsafe; /* not frames of this stack, one above the other */
	w->sp = sp;
	w->ip = at;
	w->fp = _Unwind_GetGR(ctx, FP_DWARF);
	if (!w->main && at >= (uintptr_t)__start_gr_entry_text &&
	    at < (uintptr_t)__stop_gr_entry_text) {
		w->verdict = 1;
		return _URC_NORMAL_STOP;
	}
	s = span_at(w->t, at);
	if (!s) {
		/* JIT code the unwinder stepped into: the scan decides. */
		w->verdict = -1;
		return _URC_NORMAL_STOP;
	}
	switch (s->kind) {
	case SPAN_LIBC:
		/* Main's stack ends in libc's startup frames
		 * (__libc_start_call_main, __libc_start_main), then _start. */
		if (!w->main || ++w->libc_tail > 3)
			goto unsafe;
		return _URC_NO_REASON;
	case SPAN_UNSAFE:
	case SPAN_SELF: goto unsafe;
	case SPAN_EXE:
		if (w->libc_tail) {
			/* Past libc: only _start may follow, the end. */
			if (at - exe_entry < 256) {
				w->verdict = 1;
				return _URC_NORMAL_STOP;
			}
			goto unsafe;
		}
		return _URC_NO_REASON;
	default:
		if (w->libc_tail)
			goto unsafe; /* libc called back into the program */
		return _URC_NO_REASON;
	}
unsafe:
	w->verdict = 0;
	return _URC_NORMAL_STOP;
}

/* ---- Code without unwind information ----
 * JIT code (a JVM's interpreter and compiled methods live in anonymous
 * memory) and hand-written assembly cannot be unwound. For a green
 * thread there, the proof is a scan instead: every word from the
 * interrupted stack pointer up to thread_entry's frame. A library frame
 * that is still running (its lock possibly held) has called the code
 * above it, so its return address is on the stack in that range: a word
 * that points into an unsafe library just past a call instruction. No
 * such word: safe. A stale copy of one (a slot not overwritten since an
 * earlier call) only makes the point unsafe. thread_entry's frame lies
 * the same distance below every thread's control block: gr_entry_depth,
 * recorded by the first thread that starts. */
uintptr_t gr_entry_depth;

/* What the instruction just before a is: an indirect call (x86_64: ff /2
 * in any of its addressing forms; aarch64: blr), or a direct one (e8
 * rel32; bl), whose target *to gets, or no call. Where both readings fit,
 * the indirect one, which is the one that counts. */
enum { NOT_CALL, CALL_DIRECT, CALL_INDIRECT };

static int call_before_in(uintptr_t lo, uintptr_t a, uintptr_t *to)
{
#if defined(__x86_64__)
	const unsigned char *p = (const unsigned char *)a;
	int direct;

	if (a - lo < 8)
		return CALL_INDIRECT; /* cannot look: assume it is */
	direct = p[-5] == 0xe8;
	if (direct) {
		int32_t rel;
		memcpy(&rel, p - 4, sizeof(rel));
		*to = a + (uintptr_t)(intptr_t)rel;
	}
	for (int k = 2; k <= 7; k++) {
		unsigned modrm = p[-k + 1], mod = modrm >> 6, rm = modrm & 7;
		int len = 2;
		if (p[-k] != 0xff || ((modrm >> 3) & 7) != 2)
			continue;
		if (mod != 3 && rm == 4) {
			len++; /* SIB */
			if (mod == 0 && (p[-k + 2] & 7) == 5)
				len += 4;
		}
		if (mod == 0 && rm == 5)
			len += 4; /* rip-relative */
		else if (mod == 1)
			len += 1;
		else if (mod == 2)
			len += 4;
		if (len == k)
			return CALL_INDIRECT;
	}
	return direct ? CALL_DIRECT : NOT_CALL;
#else
	uint32_t insn;

	if (a - lo < 4)
		return CALL_INDIRECT;
	insn = *(const uint32_t *)(a - 4);
	if ((insn & 0xfffffc1fu) == 0xd63f0000u)
		return CALL_INDIRECT;
	if ((insn & 0xfc000000u) != 0x94000000u)
		return NOT_CALL;
	/* imm26, in instructions, signed */
	*to = a - 4 + (uintptr_t)((intptr_t)((int32_t)(insn << 6) >> 6) * 4);
	return CALL_DIRECT;
#endif
}

static int call_before(const struct span *s, uintptr_t a, uintptr_t *to)
{
	return call_before_in(s->lo, a, to);
}

int gr_code_after_call(uintptr_t lo, uintptr_t a)
{
	uintptr_t to;

	return call_before_in(lo, a, &to) != NOT_CALL;
}

static int after_call(const struct span *s, uintptr_t a)
{
	return gr_code_after_call(s->lo, a);
}

/* libc functions we call that call nothing back on this stack (no
 * callback, no lock held on return): a live frame of ours past a call of
 * one of them would need it to be running, and it is never the code the
 * scan runs over. Their addresses as our GOT holds them (IFUNCs
 * resolved), filled once. */
static uintptr_t leaf_fns[16];
static size_t leaf_n;

static void leaf_fill(void)
{
	/* The last, the ucontext switch: a frame past it is a parked
	 * thread's, never the running one's. */
	const void *const fns[] = {
		(const void *)__errno_location, (const void *)strlen,	 (const void *)strnlen,
		(const void *)memcpy,		(const void *)memmove,	 (const void *)memset,
		(const void *)memcmp,		(const void *)strcmp,	 (const void *)strncmp,
		(const void *)strchr,		(const void *)strrchr,	 (const void *)sigemptyset,
		(const void *)sigfillset,	(const void *)sigaddset, (const void *)sigdelset,
		(const void *)swapcontext,
	};

	for (size_t i = 0;
	     i < sizeof(fns) / sizeof(fns[0]) && leaf_n < sizeof(leaf_fns) / sizeof(leaf_fns[0]);
	     i++)
		leaf_fns[leaf_n++] = (uintptr_t)fns[i];
}

/* Whether code at a (in our span s) is a PLT stub, and where its GOT slot
 * leads (*to; 0 if unknown): x86_64 jmp *rel(%rip), after endbr64 and bnd
 * where present; on aarch64 (adrp x16 first) the slot is not read. */
static int plt_stub(const struct span *s, uintptr_t a, uintptr_t *to)
{
	*to = 0;
#if defined(__x86_64__)
	const unsigned char *t = (const unsigned char *)a;
	int32_t rel;

	if (t[0] == 0xf3 && t[1] == 0x0f && t[2] == 0x1e && t[3] == 0xfa)
		t += 4;
	if (t[0] == 0xf2)
		t++;
	if (t[0] != 0xff || t[1] != 0x25)
		return 0;
	memcpy(&rel, t + 2, sizeof(rel));
	*to = *(const uintptr_t *)((uintptr_t)t + 6 + (uintptr_t)(intptr_t)rel);
	(void)s;
	return 1;
#else
	(void)s;
	return (*(const uint32_t *)a & 0x9f00001fu) == 0x90000010u;
#endif
}

static int leaf_fn(uintptr_t a)
{
	for (size_t i = 0; i < leaf_n; i++)
		if (leaf_fns[i] == a)
			return 1;
	return 0;
}

/* Whether a word into libgreenify found by the scan may be a live frame's
 * return address. Our frames lie below program code only where we called
 * the program (a start routine, a signal handler, a once routine, a
 * destructor), always through a function pointer and never as a tail call
 * (call_handler makes sure): a live chain of our frames ends in a word just
 * past an indirect call, or past a call of a PLT stub into another library
 * (unless to one of libc's leaf functions above, which call nothing). A
 * word past a direct call of one of our own functions, or of such a leaf,
 * proves nothing by itself: most often it is a
 * stale copy that a hook the program called (pthread_setname_np at a JVM
 * thread's start, a park) left in a slot its caller's later frames never
 * wrote, which without this would keep the thread unpreemptible for the
 * rest of its life. Inside a handler or a once routine, every word counts,
 * as before. */
static int self_live(const struct span *s, const struct gr_thread *self, uintptr_t a)
{
	uintptr_t to = 0, got;
	int call = call_before(s, a, &to);

	if (call == NOT_CALL)
		return 0;
	if (call == CALL_INDIRECT || self->in_handler || self->onces)
		return 1;
	if (to < s->lo || to + 8 > s->hi)
		return 1;
	if (!plt_stub(s, to, &got))
		return 0;
	return !got || !leaf_fn(got);
}

/* Whether no word in [lo, hi) of the thread's stack is a return address
 * into a library that may be a live frame's. */
static int scan_range(const struct spans *t, const struct gr_thread *self, uintptr_t lo,
		      uintptr_t hi)
{
	for (const uintptr_t *p = (const uintptr_t *)(lo & ~(uintptr_t)7); (uintptr_t)p < hi; p++) {
		const struct span *s = span_at(t, *p);
		/* The return into thread_entry from the start routine (or a
		 * stale copy): our entry, which holds nothing. */
		if (*p >= (uintptr_t)__start_gr_entry_text && *p < (uintptr_t)__stop_gr_entry_text)
			continue;
		if (s && (s->kind == SPAN_LIBC || s->kind == SPAN_UNSAFE) && after_call(s, *p))
			return 0;
		if (s && s->kind == SPAN_SELF && self_live(s, self, *p))
			return 0;
	}
	return 1;
}

static uintptr_t sp_of(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#else
	return (uintptr_t)uc->uc_mcontext.sp;
#endif
}

static uintptr_t pc_of(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#else
	return (uintptr_t)uc->uc_mcontext.pc;
#endif
}

/* Where thread_entry's frame lies on the stack of self, whose stack
 * pointer is sp, or 0 if not known. */
static uintptr_t entry_frame(const struct gr_thread *self, uintptr_t sp)
{
	uintptr_t top;

	if (self == &gr_main_thread || !gr_entry_depth)
		return 0;
	top = (uintptr_t)self - gr_entry_depth;
	if (top <= sp || top - sp > self->stack.size)
		return 0;
	return top;
}

/* uc interrupted code without tables: the scan from its stack pointer.
 * On aarch64 a leaf's return address is in the link register alone (a
 * library that called it with blr may be running): that counts too. */
static int scan_safe(const struct spans *t, const struct gr_thread *self, const ucontext_t *uc)
{
	uintptr_t sp = sp_of(uc), top = entry_frame(self, sp);

#if defined(__aarch64__)
	uintptr_t lr = (uintptr_t)uc->uc_mcontext.regs[30];
	const struct span *s = span_at(t, lr);

	if (s && s->kind != SPAN_PROGRAM && s->kind != SPAN_EXE && after_call(s, lr))
		return 0;
#endif
	return top && scan_range(t, self, sp, top);
}

/* ---- Frame records through code without unwind information ----
 * The scan counts every stale copy as live, and one is enough to keep a
 * thread unpreemptible for good: a Node.js worker's JS loop has one 23
 * KiB above it, a return into malloc's _int_free that a 1.4 KiB frame of
 * V8's EvalMachine left unwritten. But V8's code (its JIT code and its
 * builtins, which have no unwind tables either) keeps a frame record at
 * its frame pointer in every frame, as C and C++ built with frame pointers
 * do: the saved frame pointer of the caller and the return address into
 * it. So, before the scan: from the frame without tables, follow the
 * records up to the first return address into code that has tables; scan
 * only the words below that frame, and from it on let the unwinder
 * (exact) say which return addresses are live; where it stops again at
 * code without tables, follow records from there; and so on up to
 * thread_entry. The unwinder starts from the signal frame, so the
 * kernel's saved program counter, stack pointer and frame pointer are set
 * to the resumed frame's for that walk, and put back after it.
 *
 * A library frame L live above the interrupted point left the return
 * address into L at the start of its callee's frame. Where the records
 * led past that slot, it was scanned; where the unwinder walked over it,
 * it was reached, since a walk started from a frame's own state is exact.
 * A frame without tables that keeps no record (a leaf, a prologue) makes
 * the chain skip it, but its return address lies below the next record,
 * in the words that are scanned. What this trusts is the frame pointer:
 * that code without tables below L either keeps records at it or leaves
 * it as it found it (V8 does both, and so does the scan's JVM case for its
 * interpreter and stubs); a value that is neither but happens to point to
 * stack words that look like a record whose return address is just past a
 * call into code with tables, from where the unwinder walks over L's
 * slot, each frame's stack pointer above the last's, to thread_entry, is
 * the case left. Every record is checked: aligned, above the last, below
 * thread_entry's frame, and a return address into no object, into code of
 * the program's just past a call, or to thread_entry; one into a library
 * ends it as unsafe. Nothing here proves safe what the scan alone would
 * have (gr_preempt_safe asks the scan too). x86_64 only: aarch64 code
 * (GCC's) keeps its record at the bottom of its frame, so a record does
 * not tell where the caller's stack pointer was. */
#if defined(__x86_64__)

/* libgcc's (unwind-dw2-fde.h, which no package installs). */
struct dwarf_eh_bases {
	void *tbase, *dbase, *func;
};
const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

/* The end of main's stack (the loader's __libc_stack_end is in its top
 * page), when main runs there and sp is on it, else 0. The walk of main
 * ends at _start, below libc's startup frames (step). */
extern void *__libc_stack_end;

static uintptr_t main_stack_top(uintptr_t sp)
{
	uintptr_t top = ((uintptr_t)__libc_stack_end | 4095) + 1;

	if (gr_main_thread.stack.lo || top <= sp || top - sp > (64u << 20))
		return 0;
	return top;
}

/* Whether the unwinder has a table for the code at a. */
static int has_fde(uintptr_t a)
{
	struct dwarf_eh_bases bases;

	return _Unwind_Find_FDE((void *)a, &bases) != NULL;
}

struct resume {
	uintptr_t pc, sp, fp; /* a frame with tables: where the unwinder goes on */
};

/* Follows the records from the frame pointer fp of code without tables
 * whose frame starts at sp. 1: a record returns to thread_entry; 2: to
 * code with tables, whose frame r is; 0: to a library, unsafe; -1: no
 * chain of records. r->sp is where the records end. */
static int chain(const struct spans *t, uintptr_t sp, uintptr_t fp, uintptr_t top, struct resume *r)
{
	uintptr_t lo = sp;

	for (int n = 0; n < WALK_MAX; n++) {
		const uintptr_t *rec = (const uintptr_t *)fp;
		const struct span *s;
		uintptr_t ra;

		if ((fp & 7) || fp < lo || fp > top - 2 * sizeof(uintptr_t))
			return -1;
		ra = rec[1];
		r->sp = fp + 2 * sizeof(uintptr_t);
		if (ra >= (uintptr_t)__start_gr_entry_text && ra < (uintptr_t)__stop_gr_entry_text)
			return 1;
		s = span_at(t, ra - 1);
		if (s) {
			if (s->kind != SPAN_PROGRAM && s->kind != SPAN_EXE)
				return 0;
			if (!after_call(s, ra))
				return -1;
			if (has_fde(ra - 1)) {
				/* The call itself: the unwinder looks up the
				 * frame after a signal frame at its exact pc. */
				r->pc = ra - 1;
				r->fp = rec[0];
				return 2;
			}
		}
		lo = r->sp;
		fp = rec[0];
	}
	return -1;
}

/* Whether the green thread self, in code without tables at ip (0: the
 * interrupted point, in no object) whose frame starts at sp with frame
 * pointer fp, is at a safe point, by records and the unwinder (above); uc
 * is the interrupted point's, changed and put back. Main too, whose walk
 * the unwinder ends at _start; the scan never serves it (libc's startup
 * frames are on its stack). */
static int frames_safe(const struct spans *t, struct gr_thread *self, ucontext_t *uc, uintptr_t ip,
		       uintptr_t sp, uintptr_t fp)
{
	greg_t *g = uc->uc_mcontext.gregs;
	greg_t saved[3] = {g[REG_RIP], g[REG_RSP], g[REG_RBP]};
	uintptr_t top = self == &gr_main_thread ? main_stack_top(sp) : entry_frame(self, sp);
	int verdict = 0;

	if (!top)
		return 0;
	for (int round = 0; round < 16; round++) {
		struct resume r;
		struct walk w = {
			.t = t, .verdict = -1, .top = top, .main = self == &gr_main_thread};
		int c;

		if (ip && has_fde(ip))
			break; /* the unwinder stopped for another reason */
		c = chain(t, sp, fp, top, &r);
		if (c <= 0 || !scan_range(t, self, sp, r.sp))
			break;
		if (c == 1) {
			verdict = 1;
			break;
		}
		w.pc = r.pc;
		w.sp = r.sp;
		g[REG_RIP] = (greg_t)r.pc;
		g[REG_RSP] = (greg_t)r.sp;
		g[REG_RBP] = (greg_t)r.fp;
		_Unwind_Backtrace(step, &w);
		g[REG_RIP] = saved[0];
		g[REG_RSP] = saved[1];
		g[REG_RBP] = saved[2];
		if (w.verdict >= 0 || !w.found || w.libc_tail) {
			verdict = w.verdict == 1;
			break;
		}
		/* Stopped at code without tables: records again (main: not
		 * after libc's frames, which called it then, not the startup
		 * ones, which end at _start). */
		ip = w.ip;
		sp = w.sp;
		fp = w.fp;
	}
	return verdict;
}

static uintptr_t fp_of(const ucontext_t *uc)
{
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
}

#else

static int frames_safe(const struct spans *t, struct gr_thread *self, ucontext_t *uc, uintptr_t ip,
		       uintptr_t sp, uintptr_t fp)
{
	(void)t, (void)self, (void)uc, (void)ip, (void)sp, (void)fp;
	return 0;
}

static uintptr_t fp_of(const ucontext_t *uc)
{
	return (uintptr_t)uc->uc_mcontext.regs[29];
}

#endif

/* Room the handler, the unwinder and a switch need on the thread's stack,
 * beyond the kernel's signal frame (already there). */
#define STACK_ROOM (24 << 10)

int gr_preempt_safe(ucontext_t *uc)
{
	struct gr_thread *self = gr_rt.cur;
	const struct spans *t = atomic_load(&spans_now);
	struct walk w = {.t = t, .pc = pc_of(uc), .verdict = -1};
	const struct span *s;
	int saved_inside, safe;

	if (!t || !gr_tls_runtime || !gr_rt.started || gr_rt.inside || self == &gr_hub ||
	    self->magic != GR_MAGIC || self->state != GR_RUNNING)
		return 0;
	w.main = self == &gr_main_thread;
	if (!w.main && (uintptr_t)gr_sp() - (uintptr_t)self->stack.lo < STACK_ROOM)
		return 0;
	s = span_at(t, w.pc);
	if (s && (s->kind == SPAN_LIBC || s->kind == SPAN_UNSAFE || s->kind == SPAN_SELF))
		return 0;
	/* Hooks the unwinder might reach (libgcc locks a mutex when frames
	 * were registered) take libc's path. */
	saved_inside = gr_rt.inside;
	gr_rt.inside = 1;
	if (!s) {
		/* In no object: JIT code, most likely. */
		safe = frames_safe(t, self, uc, 0, sp_of(uc), fp_of(uc)) || scan_safe(t, self, uc);
	} else {
		_Unwind_Backtrace(step, &w);
		/* The unwinder stopped at a frame it cannot step over:
		 * records from there, or the scan. */
		if (w.verdict < 0 && w.found && !w.libc_tail)
			safe = frames_safe(t, self, uc, w.ip, w.sp, w.fp) || scan_safe(t, self, uc);
		else
			safe = w.verdict == 1;
	}
	gr_rt.inside = saved_inside;
	return safe;
}

/* ---- The handler ---- */

/* The thread yields from inside the handler; the kernel's frame below
 * keeps every register of the interrupted point until it returns. */
static void preempt_here(ucontext_t *uc)
{
	struct gr_thread *self = gr_rt.cur;

	gr_preempt_stats.preempted++;
	gr_sched_preempted();
	/* The OS thread's mask is the runtime's to set (sigmask.c), and
	 * may have changed while others ran: sigreturn installs this. */
	gr_sigmask_to_frame(uc);
	if (self->cancel_async && gr_cancel_due())
		gr_cancel_test(); /* unwinds through the signal frame, as glibc's does */
}

/* ---- The timer ----
 * A POSIX timer on the runtime thread's own CPU clock, delivered to that
 * thread (SIGEV_THREAD_ID) as GR_SIG_OWN with the mark: it runs down only
 * while the thread runs, so it costs nothing while the process is idle or
 * blocked in the kernel, and when it fires the thread was running (a
 * thread blocked in a system call accrues no CPU time). Every LOOK of CPU
 * time it fires; the handler compares the switch counter with what it saw
 * last (a few ns), and only a thread that kept the CPU for a whole slice,
 * or one running while a sleeper's deadline passed (the kernel too lets a
 * woken thread preempt one that computed), is a candidate: then the point
 * is checked, and if unsafe checked again at later ticks, less and less
 * often. The kernel runs CPU-time timers at its scheduler tick (4 ms at
 * HZ=250), too coarse for a sleeper's deadline: a tick that finds a thread
 * computing while a sleeper waits arms a second, one-shot timer on the
 * monotonic clock for that deadline, which comes with the same mark. */
static int timer_on;	       /* created in this process */
static int timer_off;	       /* GREENIFY_PREEMPT=off, or it could not be made */
static int masked;	       /* the runtime thread blocks GR_SIG_OWN (stopped) */
static int timer_id;	       /* the kernel's id */
static int wake_id = -1;       /* the one-shot for a sleeper's deadline */
static int64_t wake_armed;     /* the deadline it is set to, or 0 */
static uint64_t seen_switches; /* the counter at the last tick */
static const void *seen_cur;
static uint64_t seen_wakes;    /* gr_rt.wakes when the thread started running */
static int64_t seen_at;	       /* when the handler first saw it */
static unsigned skip, backoff; /* ticks to let pass after an unsafe point */

static int64_t look_ns(void)
{
	int64_t look = gr_config.slice_ns / 8;

	return look > 500 * GR_USEC ? look : 500 * GR_USEC;
}

/* A thread's sleep (or timed wait) ended: the top of the deadline heap is
 * due. Read only, from the handler: a stale entry only makes a check. */
static int sleeper_due(int64_t now)
{
	const struct gr_tentry *e = gr_timers_top(&gr_rt.timers);

	return e && e->deadline <= now;
}

/* While a thread computes, the one-shot timer is kept armed for the first
 * moment it may have to give way: a sleeper's deadline (the top of the
 * heap), or soon (not 0): when a woken thread's wait reaches the wakeup
 * granularity, or the next look at a spin-wait. */
static void arm_wake(int64_t now, int64_t soon)
{
	const struct gr_tentry *e = gr_timers_top(&gr_rt.timers);
	struct itimerspec its = {{0, 0}, {0, 0}};
	int64_t want = e ? e->deadline : 0;

	if (soon && (!want || soon < want))
		want = soon;
	if (wake_id < 0 || !want || masked || (wake_armed > now && wake_armed <= want))
		return;
	wake_armed = want;
	its.it_value.tv_sec = want / GR_NSEC;
	its.it_value.tv_nsec = want % GR_NSEC;
	gr_real.syscall(SYS_timer_settime, wake_id, TIMER_ABSTIME, &its, NULL);
}

/* Whether the interrupted program counter is program code: in our own
 * code (or libc's, called by it) the scheduler's state may be half
 * updated, and the handler reads none of it. */
static int pc_in_program(const ucontext_t *uc)
{
	const struct spans *t = atomic_load(&spans_now);
	const struct span *s;

	if (!t || gr_rt.inside)
		return 0;
	s = span_at(t, pc_of(uc));
	if (!s) {
		/* JIT code, or an object loaded since the table was made:
		 * the next thread creation makes a new one. */
		gr_preempt_stale = 1;
		return 1;
	}
	return s->kind == SPAN_PROGRAM || s->kind == SPAN_EXE;
}

/* Whether the thread is in a spin-wait: the interrupted instruction is,
 * or just follows, the CPU's spin-loop hint (x86_64 pause; aarch64 yield
 * or isb, which JVMs use). A thread there waits for another: with others
 * runnable it gives way at once rather than at the end of its slice. */
static int spinning(const ucontext_t *uc)
{
	const struct spans *t = atomic_load(&spans_now);
	uintptr_t pc = pc_of(uc);
	const struct span *s = span_at(t, pc);

	/* Code in no object is readable where it runs, but not always just
	 * before: look only inside a mapping we know, or at pc itself. */
#if defined(__x86_64__)
	const unsigned char *p = (const unsigned char *)pc;
	/* The instruction at pc is mapped; its second byte too unless pc
	 * ends a page. */
	if ((pc & 4095) != 4095 && p[0] == 0xf3 && p[1] == 0x90)
		return 1;
	return s && pc - s->lo >= 2 && p[-2] == 0xf3 && p[-1] == 0x90;
#else
	const uint32_t *p = (const uint32_t *)pc;
	uint32_t yield = 0xd503203fu, isb = 0xd5033fdfu;
	if (p[0] == yield || p[0] == isb)
		return 1;
	return s && pc - s->lo >= 4 && (p[-1] == yield || p[-1] == isb);
#endif
}

/* The kernel lets a thread that was woken preempt one that has been
 * computing for its minimum granularity (about a millisecond): so here,
 * once a thread woken since this one started (a lock, a condition, I/O)
 * waits in the run queue. Threads the slice preempted wait their turn. */
#define WAKE_GRANULARITY (1 * GR_MSEC)

static int woken_waits(int64_t now)
{
	return gr_rt.wakes != seen_wakes && (gr_rt.runq_head || gr_rt.fresh) &&
	       now - seen_at >= WAKE_GRANULARITY;
}

/* A spin-wait was preempted lately, and none of the ticks since found a
 * thread computing elsewhere: threads are passing work back and forth in
 * spin loops, and are looked at every SPIN_LOOK instead of every tick. */
static int spin_regime;
#define SPIN_LOOK (1 * GR_MSEC)

/* The earliest moment the thread should be looked at again, besides the
 * ticks and sleepers' deadlines, or 0. */
static int64_t look_soon(int64_t now)
{
	if (!gr_sched_others_runnable())
		return 0;
	if (spin_regime)
		return now + SPIN_LOOK;
	if (gr_rt.wakes != seen_wakes)
		return seen_at + WAKE_GRANULARITY > now ? seen_at + WAKE_GRANULARITY
							: now + SPIN_LOOK;
	return 0;
}

static void tick(ucontext_t *uc)
{
	struct gr_thread *cur = gr_rt.cur;
	uint64_t sw = gr_rt.switches;
	int64_t now = gr_now();
	int fresh = sw != seen_switches || cur != seen_cur;

	if (fresh) {
		seen_switches = sw;
		seen_cur = cur;
		seen_at = now;
		seen_wakes = gr_rt.wakes;
		skip = backoff = 0;
	}
	if (cur == &gr_hub || !gr_tls_runtime || (gr_rt.live <= 1 && !gr_rt.sig_pending))
		return;
	if (!pc_in_program(uc)) {
		if (now - seen_at >= gr_config.slice_ns)
			gr_preempt_stats.unsafe++;
		return;
	}
	if (fresh || (now - seen_at < gr_config.slice_ns && !sleeper_due(now) &&
		      !woken_waits(now) && !gr_rt.rt_preempt)) {
		int spin = gr_sched_others_runnable() && spinning(uc);
		if (!spin) {
			if (!fresh)
				spin_regime = 0;
			arm_wake(now, look_soon(now));
			return;
		}
		spin_regime = 1;
	}
	if (skip) {
		skip--;
		return;
	}
	gr_preempt_stats.signals++;
	if (gr_preempt_safe(uc)) {
		if (spin_regime)
			arm_wake(now, now + SPIN_LOOK); /* the next may spin too */
		preempt_here(uc);
		return;
	}
	gr_preempt_stats.unsafe++;
	skip = backoff;
	backoff = backoff ? (backoff * 2 < 8 ? backoff * 2 : 8) : 1;
}

int gr_preempt_landed(const void *mark, void *uc)
{
	int saved = errno;

	if (mark != &preempt_mark)
		return 0;
	tick(uc);
	errno = saved;
	return 1;
}

/* Arms the CPU-time timer every look (on) or stops both. 0 or -1. */
static int set_timers(int on)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	int64_t look = look_ns();
	long r;

	if (on) {
		its.it_value.tv_sec = its.it_interval.tv_sec = look / GR_NSEC;
		its.it_value.tv_nsec = its.it_interval.tv_nsec = look % GR_NSEC;
	}
	r = gr_real.syscall(SYS_timer_settime, timer_id, 0, &its, NULL);
	if (!on && wake_id >= 0) {
		struct itimerspec zero = {{0, 0}, {0, 0}};
		gr_real.syscall(SYS_timer_settime, wake_id, 0, &zero, NULL);
	}
	wake_armed = 0;
	return r < 0 ? -1 : 0;
}

void gr_preempt_need(void)
{
	struct sigevent sev;
	int inside;

	if (__builtin_expect(timer_on || timer_off, 1))
		return;
	if (!gr_config.preempt || gr_signal_take_own() < 0) {
		timer_off = 1;
		return;
	}
	inside = gr_rt.inside;
	gr_rt.inside = 1; /* what the calls below reach takes libc's path */
	exe_entry = (uintptr_t)getauxval(AT_ENTRY);
	if (!leaf_n)
		leaf_fill();
	if (!atomic_load(&spans_now))
		spans_build();
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = GR_SIG_OWN;
	sev.sigev_value.sival_ptr = (void *)&preempt_mark;
	sev._sigev_un._tid = gr_rt.os_tid;
	masked = (gr_sigmask_os() & GR_SIGBIT(GR_SIG_OWN)) != 0; /* blocked before we started */
	/* The calling thread is the runtime thread: its CPU clock; and
	 * gr_now's clock, which the deadlines are on, for the one-shot. */
	if (gr_real.syscall(SYS_timer_create, CLOCK_THREAD_CPUTIME_ID, &sev, &timer_id) < 0) {
		gr_log(GR_LOG_WARN, "preemption off: no CPU-time timer (%s)", strerror(errno));
		timer_off = 1;
	} else {
		if (gr_real.syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &wake_id) < 0)
			wake_id = -1;
		if (set_timers(!masked) < 0) {
			gr_log(GR_LOG_WARN, "preemption off: no CPU-time timer (%s)",
			       strerror(errno));
			timer_off = 1;
		} else {
			timer_on = 1;
		}
	}
	gr_rt.inside = inside;
}

void gr_preempt_refresh(void)
{
	int inside = gr_rt.inside;

	gr_preempt_stale = 0;
	if (!timer_on)
		return;
	gr_rt.inside = 1;
	spans_build();
	gr_rt.inside = inside;
}

void gr_preempt_masked(int blocked)
{
	masked = blocked;
	if (timer_on)
		set_timers(!blocked);
}

void gr_preempt_after_fork(void)
{
	/* A fork child has no timers: the next thread created makes one. */
	timer_on = 0;
	wake_id = -1;
	seen_cur = NULL;
}

#else /* no preemption on this architecture */

int gr_preempt_safe(ucontext_t *uc)
{
	(void)uc;
	return 0;
}

int gr_preempt_landed(const void *mark, void *uc)
{
	(void)uc;
	return mark == &preempt_mark;
}

void gr_preempt_need(void)
{
}

void gr_preempt_masked(int blocked)
{
	(void)blocked;
}

int gr_preempt_stale;

void gr_preempt_refresh(void)
{
	gr_preempt_stale = 0;
}

void gr_preempt_after_fork(void)
{
}

#endif
