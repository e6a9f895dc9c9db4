/* Time-sliced preemption (preempt.h): the watchdog, the safe-point proof
 * and the handler that yields.
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
 * watchdog tries again later. A thread that is never at a safe point is
 * no worse off than without preemption. */
#include "preempt.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
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
int gr_preempt_dozing;
uint64_t gr_preempt_hub_visits;

/* The mark our preemption signals carry (signal.h). */
static const char preempt_mark = 'p';

#if defined(__x86_64__) || defined(__aarch64__)

/* ---- What is program code ----
 * The executable mappings of every loaded object, sorted, each with what
 * it is. Built by the watchdog (or the runtime thread at start), published
 * whole with one pointer store, never changed after: the handler reads
 * whichever table is current. An address in no span belongs to an object
 * loaded since (or to JIT code): the handler asks for a new table. */
enum span_kind {
	SPAN_PROGRAM, /* the program's code: preemptible */
	SPAN_EXE,     /* the main executable (program code, and _start) */
	SPAN_LIBC,    /* libc.so.6: unsafe, but main's startup frames are here */
	SPAN_UNSAFE,  /* every other library whose locks are not green */
};

struct span {
	uintptr_t lo, hi;
	unsigned kind;
};

struct spans {
	struct spans *older; /* kept: a handler may still read one */
	size_t n, cap;
	struct span s[];
};

static struct spans *_Atomic spans_now;
static int spans_stale; /* the handler saw an address in no span */
static uintptr_t exe_entry;

/* Libraries whose locks are not green: glibc's (every one of its shared
 * objects, NSS and gconv modules included), the compiler's runtimes, the
 * sanitizers', libunwind, a shared libuv. Matched on the file name. */
static const char *const unsafe_names[] = {
	"ld-linux",  "ld64.so",	      "libc.so",       "libpthread.so",	  "libdl.so",
	"librt.so",  "libm.so",	      "libmvec.so",    "libresolv.so",	  "libanl.so",
	"libutil.so", "libnss_",      "libnsl.so",     "libthread_db",	  "libc_malloc_debug",
	"libmemusage", "libBrokenLocale", "libgcc_s.so", "libstdc++.so",  "libasan.so",
	"libtsan.so", "liblsan.so",   "libubsan.so",   "libhwasan.so",	  "libunwind",
	"libuv.so",
};

static unsigned kind_of(const char *path, int first, uintptr_t lo, uintptr_t hi)
{
	const char *base = strrchr(path, '/');
	uintptr_t self = (uintptr_t)&gr_preempt_safe;

	if (self >= lo && self < hi)
		return SPAN_UNSAFE; /* libgreenify, with libuv inside */
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

/* Builds and publishes a new table. Not from the handler: dl_iterate_phdr
 * takes the loader's lock. */
static void spans_build(void)
{
	struct spans *old = atomic_load(&spans_now);
	size_t cap = old ? old->cap : 64;

	for (;;) {
		struct build b = {.first = 1};
		b.t = malloc(sizeof(*b.t) + cap * sizeof(b.t->s[0]));
		if (!b.t)
			return;
		b.t->n = 0;
		b.t->cap = cap;
		b.t->older = old;
		dl_iterate_phdr(add_object, &b);
		if (!b.failed) {
			qsort(b.t->s, b.t->n, sizeof(b.t->s[0]), span_cmp);
			atomic_store(&spans_now, b.t);
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
	uintptr_t pc;	  /* the interrupted program counter */
	int found;	  /* the interrupted frame was reached */
	int skipped;	  /* frames of the handler before it */
	int depth;
	int main;	  /* walking main's stack */
	int libc_tail;	  /* main: libc frames seen after the program's */
	int verdict;	  /* 1 safe, 0 unsafe, -1 not decided */
};

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	int before = 0;
	uintptr_t ip = _Unwind_GetIPInfo(ctx, &before);
	uintptr_t at;
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
	if (!w->main && at >= (uintptr_t)__start_gr_entry_text && at < (uintptr_t)__stop_gr_entry_text) {
		w->verdict = 1;
		return _URC_NORMAL_STOP;
	}
	s = span_at(w->t, at);
	if (!s) {
		spans_stale = 1;
		goto unsafe;
	}
	switch (s->kind) {
	case SPAN_LIBC:
		/* Main's stack ends in libc's startup frames
		 * (__libc_start_call_main, __libc_start_main), then _start. */
		if (!w->main || ++w->libc_tail > 3)
			goto unsafe;
		return _URC_NO_REASON;
	case SPAN_UNSAFE: goto unsafe;
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

static uintptr_t pc_of(const ucontext_t *uc)
{
#if defined(__x86_64__)
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#else
	return (uintptr_t)uc->uc_mcontext.pc;
#endif
}

/* Room the handler, the unwinder and a switch need on the thread's stack,
 * beyond the kernel's signal frame (already there). */
#define STACK_ROOM (24 << 10)

int gr_preempt_safe(const ucontext_t *uc)
{
	struct gr_thread *self = gr_rt.cur;
	const struct spans *t = atomic_load(&spans_now);
	struct walk w = {.t = t, .pc = pc_of(uc), .verdict = -1};
	const struct span *s;
	int saved_inside;

	if (!t || !gr_tls_runtime || !gr_rt.started || gr_rt.inside || self == &gr_hub ||
	    self->magic != GR_MAGIC || self->state != GR_RUNNING)
		return 0;
	w.main = self == &gr_main_thread;
	if (!w.main && (uintptr_t)gr_sp() - (uintptr_t)self->stack.lo < STACK_ROOM)
		return 0;
	s = span_at(t, w.pc);
	if (!s) {
		spans_stale = 1;
		return 0;
	}
	if (s->kind == SPAN_LIBC || s->kind == SPAN_UNSAFE)
		return 0;
	/* Hooks the unwinder might reach (libgcc locks a mutex when frames
	 * were registered) take libc's path. */
	saved_inside = gr_rt.inside;
	gr_rt.inside = 1;
	_Unwind_Backtrace(step, &w);
	gr_rt.inside = saved_inside;
	return w.verdict == 1;
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

int gr_preempt_landed(const void *mark, void *uc)
{
	int saved = errno;

	if (mark != &preempt_mark)
		return 0;
	gr_preempt_stats.signals++;
	if (gr_preempt_safe(uc))
		preempt_here(uc);
	else
		gr_preempt_stats.unsafe++;
	errno = saved;
	return 1;
}

/* ---- The watchdog ---- */

static int wd_running; /* started in this process */
static int wd_disabled;

static int64_t mono_now(void)
{
	struct timespec ts;

	gr_real.syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * GR_NSEC + ts.tv_nsec;
}

/* The runtime thread's CPU time (user and system), read from outside. */
static int64_t runtime_cpu(void)
{
	/* The kernel's per-thread CPU clock id (MAKE_THREAD_CPUCLOCK with
	 * CPUCLOCK_SCHED), what pthread_getcpuclockid gives. */
	clockid_t id = (clockid_t)((~(unsigned)gr_rt.os_tid << 3) | 6);
	struct timespec ts;

	if (gr_real.syscall(SYS_clock_gettime, id, &ts) < 0)
		return -1;
	return (int64_t)ts.tv_sec * GR_NSEC + ts.tv_nsec;
}

static void nap(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / GR_NSEC, .tv_nsec = ns % GR_NSEC};

	gr_real.syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
}

#define RETRY_NS    GR_MSEC	   /* first retry of an unsafe point */
#define CONFIRM_NS  (100 * GR_USEC) /* on the CPU now? sampled this long */
#define DOZE_AFTER  (200 * GR_MSEC) /* hub idle this long: sleep until woken */

/* Whether the runtime thread is computing now rather than blocked in the
 * kernel: a signal must not end a blocking call of the program's (ours
 * ends it with EINTR). */
static int on_cpu(void)
{
	int64_t c0 = runtime_cpu(), t0 = mono_now(), c1, t1;

	nap(CONFIRM_NS);
	c1 = runtime_cpu();
	t1 = mono_now();
	return c0 >= 0 && c1 >= 0 && (c1 - c0) * 2 >= t1 - t0;
}

/* The hub has been idle a while: sleep until it runs again. Either this
 * sees a visit the hub made after the flag was set, or the hub, whose
 * visit comes before its look at the flag, sees the flag and wakes us
 * (both sides sequentially consistent). */
static void doze(void)
{
	uint64_t visits = __atomic_load_n(&gr_preempt_hub_visits, __ATOMIC_SEQ_CST);

	__atomic_store_n(&gr_preempt_dozing, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&gr_preempt_hub_visits, __ATOMIC_SEQ_CST) == visits)
		gr_real.syscall(SYS_futex, &gr_preempt_dozing, FUTEX_WAIT_PRIVATE, 1, NULL);
	__atomic_store_n(&gr_preempt_dozing, 0, __ATOMIC_SEQ_CST);
}

static void *watchdog(void *arg)
{
	uint64_t last_sw = 0;
	const void *last_cur = NULL;
	int64_t since = mono_now(), slice = gr_config.slice_ns, retry = RETRY_NS;
	/* How often the counter is looked at: a quarter of the slice, so a
	 * slice ends at most that much late. */
	int64_t look = slice / 4 > GR_MSEC ? slice / 4 : GR_MSEC, wait = look;

	(void)arg;
	for (;;) {
		nap(wait);
		wait = look;
		if (__atomic_load_n(&spans_stale, __ATOMIC_RELAXED)) {
			__atomic_store_n(&spans_stale, 0, __ATOMIC_RELAXED);
			spans_build();
		}
		int64_t now = mono_now();
		uint64_t sw = __atomic_load_n(&gr_rt.switches, __ATOMIC_RELAXED);
		const void *cur = __atomic_load_n(&gr_rt.cur, __ATOMIC_RELAXED);
		if (sw != last_sw || cur != last_cur) {
			last_sw = sw;
			last_cur = cur;
			since = now;
			retry = RETRY_NS;
			continue;
		}
		if (cur == &gr_hub) {
			/* Idle: the hub wakes us when it runs threads again. */
			if (now - since >= DOZE_AFTER)
				doze();
			continue;
		}
		/* Nobody else to run, no signal to deliver: nothing to gain. */
		if (__atomic_load_n(&gr_rt.live, __ATOMIC_RELAXED) <= 1 &&
		    !__atomic_load_n(&gr_rt.sig_pending, __ATOMIC_RELAXED))
			continue;
		if (now - since < slice) {
			if (since + slice - now < wait)
				wait = since + slice - now;
			continue;
		}
		if (!on_cpu()) {
			wait = RETRY_NS;
			continue;
		}
		if (__atomic_load_n(&gr_rt.switches, __ATOMIC_RELAXED) != sw)
			continue;
		gr_signal_send_own(gr_rt.os_tid, &preempt_mark);
		/* If it was unsafe, again soon, then less and less often. */
		wait = retry;
		if (retry < slice)
			retry *= 2;
	}
	return NULL;
}

void gr_preempt_wake(void)
{
	__atomic_store_n(&gr_preempt_dozing, 0, __ATOMIC_SEQ_CST);
	gr_real.syscall(SYS_futex, &gr_preempt_dozing, FUTEX_WAKE_PRIVATE, 1);
}

void gr_preempt_need(void)
{
	pthread_attr_t attr;
	pthread_t th;
	sigset_t all, old;
	int err, inside;

	if (__builtin_expect(wd_running || wd_disabled, 1))
		return;
	if (!gr_config.preempt || gr_signal_take_own() < 0) {
		wd_disabled = 1;
		return;
	}
	wd_running = 1;
	inside = gr_rt.inside;
	gr_rt.inside = 1; /* what the calls below reach takes libc's path */
	exe_entry = (uintptr_t)getauxval(AT_ENTRY);
	if (!atomic_load(&spans_now))
		spans_build();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Every signal blocked: the program's go to its own threads. */
	sigfillset(&all);
	gr_real.pthread_sigmask(SIG_SETMASK, &all, &old);
	err = gr_tls_os_thread_create(&th, &attr, watchdog, NULL);
	gr_real.pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	gr_rt.inside = inside;
	if (err < 0) {
		gr_log(GR_LOG_WARN, "preemption off: no watchdog thread (%s)", strerror(-err));
		wd_disabled = 1;
	}
}

void gr_preempt_after_fork(void)
{
	wd_running = 0;
	gr_preempt_dozing = 0;
}

#else /* no preemption on this architecture */

int gr_preempt_safe(const ucontext_t *uc)
{
	(void)uc;
	return 0;
}

int gr_preempt_landed(const void *mark, void *uc)
{
	(void)uc;
	return mark == &preempt_mark;
}

void gr_preempt_wake(void)
{
}

void gr_preempt_need(void)
{
}

void gr_preempt_after_fork(void)
{
}

#endif
