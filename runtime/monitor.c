/* The monitor (monitor.h): the watchdog thread, the capture of a stalled
 * thread's stack, and the hub's report of each stall site.
 *
 * Who touches what. The watchdog alone begins and ends stalls and fills
 * the slot of the stall under way; the runtime thread's handler writes
 * only the request it answers (req); the hub takes finished slots, one
 * producer and one consumer around a ring of published indices; the exit
 * path takes the watchdog's lock (mon_lock) to end a stall itself. The
 * symbol tables and the unwinder (backtrace.c) are used on the runtime
 * thread only, by the hub or at exit, as the dump uses them: never by the
 * watchdog, whose file opens would take fd numbers the program is about to
 * get (a hang's line, printed by the watchdog, places its pc in a table of
 * the loaded objects the runtime thread keeps: it opens and locks nothing). */
#include "ownfd.h"
#include "monitor.h"

#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "backtrace.h"
#include "clock.h"
#include "config.h"
#include "foreign.h"
#include "log.h"
#include "preempt.h"
#include "real.h"
#include "sched.h"
#include "signal.h"
#include "tls.h"

/* Names of system calls by number, from this target's <sys/syscall.h>
 * (the Makefile writes the table). */
static const struct {
	long nr;
	const char *name;
} sys_names[] = {
#include "sysnames.h"
};

#define COPY	     (16 * 1024) /* bytes of stack kept from the stack pointer up */
#define SLOTS	     8		 /* finished stalls the hub has yet to report */
#define SITES	     64		 /* distinct sites counted; more are "elsewhere" */
#define FRAMES_SHOWN 8

enum what { COMPUTING, SYSCALL, UNKNOWN };

/* One stall: what the watchdog saw and kept. */
struct slot {
	uint64_t id;	   /* the thread's */
	char name[16];	   /* and its name */
	int64_t start, ns; /* when it began (the watchdog's first sight of
			      the last switch) and how long it lasted */
	enum what what;
	long nr;	    /* the system call (SYSCALL) */
	uint32_t known;	    /* the registers regs holds, bit i for [i] */
	uintptr_t regs[17]; /* DWARF numbering on x86_64; [7] sp, [16] pc anywhere */
	uintptr_t lo;	    /* the copy's first address */
	size_t len;	    /* bytes copied */
	int told;	    /* the hang's line was printed while it lasted */
	_Alignas(16) unsigned char stack[COPY];
};

static struct slot slots[SLOTS];
static unsigned ring[SLOTS];	      /* published slot indices, hub's to take */
static unsigned ring_head, ring_tail; /* written by the watchdog / the hub */
static unsigned long dropped;	      /* stalls the ring had no room for */

static int on;		 /* GREENIFY_MONITOR is set and the watchdog runs */
static int64_t limit;	 /* MS in ns */
static int proc_fd = -1; /* /proc/self/task/TID/syscall of the runtime thread */
static dev_t proc_dev;	 /* and what it is: a program that closes every fd */
static ino_t proc_ino;	 /* (daemons do) may give the number to a file of its own */

/* Whether proc_fd is still the file we opened; forgets it when not. */
static int proc_ours(void)
{
	struct stat st;

	if (proc_fd < 0)
		return 0;
	if (gr_real.syscall(SYS_fstat, proc_fd, &st) < 0 || st.st_dev != proc_dev ||
	    st.st_ino != proc_ino) {
		proc_fd = -1;
		return 0;
	}
	return 1;
}

/* The kernel's line about the runtime thread into buf: its length, or -1
 * (no fd, or the number is no longer ours: then never read again). */
static long read_proc(char *buf, size_t cap)
{
	return proc_ours() ? gr_real.syscall(SYS_pread64, proc_fd, buf, cap, 0L) : -1;
}

static uv_async_t mon_async;
static int mon_lock; /* the watchdog's, and the exit path's */
static int finished; /* the exit path ran: the watchdog looks no more */

/* The stall under way (the watchdog's): its slot, or -1. */
static int stalled = -1;
static uint64_t seen_switches;
static const struct gr_thread *seen_cur;
static int64_t seen_at, seen_cpu; /* when, and the runtime thread's CPU time then */

/* The request to the runtime thread's handler for a copy of its own
 * registers and stack. state: 0 none, 1 asked, 2 answered; seq pairs the
 * answer with its question (a late signal answers nothing). */
static struct {
	int state;
	unsigned seq;
	uint64_t switches; /* the counter the stall is at: else the thread moved on */
	struct slot *into;
} req;
static int monitor_mark;

/* ---- The sites, on the runtime thread ---- */
struct site {
	char *text; /* "in nanosleep (raw syscall) ← stall_here ← worker" */
	unsigned long count;
	int64_t total, longest;
};
static struct site sites[SITES];
static int nsites;
static unsigned long elsewhere, stalls;

static void lock(void)
{
	while (__atomic_exchange_n(&mon_lock, 1, __ATOMIC_ACQUIRE))
		gr_real.syscall(SYS_futex, &mon_lock, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
}

static void unlock(void)
{
	__atomic_store_n(&mon_lock, 0, __ATOMIC_RELEASE);
	gr_real.syscall(SYS_futex, &mon_lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static const char *sys_name(long nr)
{
	for (size_t i = 0; i < sizeof(sys_names) / sizeof(sys_names[0]); i++)
		if (sys_names[i].nr == nr)
			return sys_names[i].name;
	return NULL;
}

/* n bytes at src of this process into dst, without faulting on memory
 * that went away (a finished thread's stack): the bytes read. */
static size_t peek(void *dst, uintptr_t src, size_t n)
{
	struct iovec local = {dst, n}, remote = {(void *)src, n};
	long r = gr_real.syscall(SYS_process_vm_readv, (pid_t)gr_real.syscall(SYS_getpid), &local,
				 1UL, &remote, 1UL, 0UL);

	return r > 0 ? (size_t)r : 0;
}

/* The top of the stack the running thread t runs on (main: the page of
 * the loader's __libc_stack_end). */
extern void *__libc_stack_end;
static uintptr_t stack_top(const struct gr_stack *s)
{
	return s->lo ? (uintptr_t)s->lo + s->size : ((uintptr_t)__libc_stack_end | 4095) + 1;
}

/* ---- The handler: the runtime thread copies its own stack ---- */
int gr_monitor_landed(const void *mark, void *uc)
{
	unsigned seq = __atomic_load_n(&req.seq, __ATOMIC_ACQUIRE);
	struct slot *s = req.into;
	const struct gr_thread *t = gr_rt.cur;
	const ucontext_t *u = uc;
	uintptr_t sp, top;

	if (mark != &monitor_mark)
		return 0;
	if (__atomic_load_n(&req.state, __ATOMIC_ACQUIRE) != 1 || !s)
		return 1; /* a late one: its question was given up */
	if (gr_rt.switches == req.switches && t != &gr_hub && gr_tls_runtime) {
#if defined(__x86_64__)
		const greg_t *g = u->uc_mcontext.gregs;
		static const int map[17] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI,
					    REG_RBP, REG_RSP, REG_R8,  REG_R9,	REG_R10, REG_R11,
					    REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP};
		for (int i = 0; i < 17; i++)
			s->regs[i] = (uintptr_t)g[map[i]];
		s->known = 0x1ffff;
#elif defined(__aarch64__)
		s->regs[7] = (uintptr_t)u->uc_mcontext.sp;
		s->regs[16] = (uintptr_t)u->uc_mcontext.pc;
		s->known = 1u << 7 | 1u << 16;
#else
		(void)u;
#endif
		sp = s->regs[7];
		top = stack_top(&t->stack);
		/* On its own stack (a coroutine's or sigaltstack's is not:
		 * nothing of it is copied), and never with a load that could
		 * fault: process_vm_readv stops where the memory does. */
		if (sp && sp < top && (sp & 7) == 0 &&
		    (!t->stack.lo || sp >= (uintptr_t)t->stack.lo)) {
			s->lo = sp;
			s->len = peek(s->stack, sp, top - sp < COPY ? top - sp : COPY);
		}
	}
	if (__atomic_load_n(&req.seq, __ATOMIC_RELAXED) == seq) {
		__atomic_store_n(&req.state, 2, __ATOMIC_RELEASE);
		gr_real.syscall(SYS_futex, &req.state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return 1;
}

/* ---- The watchdog ---- */

/* What the runtime thread does, from the kernel: into s. */
static void read_kernel(struct slot *s, const struct gr_thread *t)
{
	char buf[256];
	long n = read_proc(buf, sizeof(buf) - 1);
	unsigned long long v[9];
	struct gr_stack st;
	uintptr_t sp, top;

	s->what = UNKNOWN;
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (strncmp(buf, "running", 7) == 0) {
		s->what = COMPUTING;
		return;
	}
	/* "NR ARG1 ... ARG6 SP PC", or "-1 SP PC" when blocked outside a
	 * system call (a fault) */
	if (sscanf(buf, "%lld %llx %llx %llx %llx %llx %llx %llx %llx", (long long *)&v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
		s->what = SYSCALL;
		s->nr = (long)v[0];
		sp = v[7];
		s->regs[16] = v[8];
	} else if (sscanf(buf, "%lld %llx %llx", (long long *)&v[0], &v[1], &v[2]) == 3) {
		sp = v[1];
		s->regs[16] = v[2];
	} else {
		return;
	}
	s->regs[7] = sp;
	s->known = 1u << 7 | 1u << 16;
	top = peek(&st, (uintptr_t)&t->stack, sizeof(st)) == sizeof(st) ? stack_top(&st) : 0;
	if (sp && sp < top && (sp & 7) == 0 && (!st.lo || sp >= (uintptr_t)st.lo)) {
		s->lo = sp;
		s->len = peek(s->stack, sp, top - sp < COPY ? top - sp : COPY);
	}
}

/* Asks the runtime thread for its own registers and stack (it computes:
 * it is in no system call a signal would end), and waits a little. */
static void ask_handler(struct slot *s)
{
	struct timespec wait = {0, 200 * GR_MSEC};

	if (gr_sigmask_os() & GR_SIGBIT(GR_SIG_OWN))
		return; /* the program blocks SIGURG on it: no copy */
	req.into = s;
	req.switches = seen_switches;
	__atomic_store_n(&req.state, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&req.seq, 1, __ATOMIC_ACQ_REL);
	if (gr_signal_send_own(gr_rt.os_tid, &monitor_mark) == 0)
		while (__atomic_load_n(&req.state, __ATOMIC_ACQUIRE) == 1 &&
		       gr_real.syscall(SYS_futex, &req.state, FUTEX_WAIT_PRIVATE, 1, &wait, NULL,
				       0) == 0) {
		}
	__atomic_store_n(&req.state, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&req.seq, 1, __ATOMIC_ACQ_REL); /* a late answer answers nothing */
	req.into = NULL;
}

static void begin(const struct gr_thread *t, int64_t since)
{
	unsigned head = ring_head, tail = __atomic_load_n(&ring_tail, __ATOMIC_ACQUIRE);
	struct slot *s;

	if (head - tail >= SLOTS) {
		dropped++;
		return;
	}
	stalled = (int)(head % SLOTS);
	s = &slots[stalled];
	memset(s, 0, offsetof(struct slot, stack));
	s->start = since;
	peek(&s->id, (uintptr_t)&t->id, sizeof(s->id));
	peek(s->name, (uintptr_t)t->name, sizeof(s->name) - 1);
	read_kernel(s, t);
	if (s->what == COMPUTING)
		ask_handler(s);
}

/* The stall is over at now: its slot goes to the hub. */
static void end(int64_t now)
{
	struct slot *s = &slots[stalled];
	unsigned head = ring_head;

	s->ns = now - s->start;
	ring[head % SLOTS] = (unsigned)stalled;
	__atomic_store_n(&ring_head, head + 1, __ATOMIC_RELEASE);
	stalled = -1;
	uv_async_send(&mon_async);
}

static int from_libc_syscall(const char *name)
{
	return strcmp(name, "syscall") == 0;
}

/* The loaded objects' code, for the watchdog to say where a pc is without
 * a call into glibc (dladdr takes the loader's lock, a mutex that glibc's
 * single-threaded fast path neither waits for nor wakes from properly
 * while the process counts as single-threaded: a quiet thread must take
 * no lock of glibc's). Built on the runtime thread (at the start and at
 * each report), read by the watchdog under a sequence count. */
#define OBJS 256 /* executable segments: one or two per object */
static struct obj {
	uintptr_t lo, hi, bias;
	char name[40];
} objs[OBJS];
static int nobjs;
static unsigned objs_seq; /* odd while the runtime thread rewrites objs */

static int add_obj(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "(program)";
	const char *base = strrchr(path, '/');

	(void)size;
	(void)arg;
	for (int i = 0; i < info->dlpi_phnum && nobjs < OBJS; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		objs[nobjs].lo = info->dlpi_addr + p->p_vaddr;
		objs[nobjs].hi = objs[nobjs].lo + p->p_memsz;
		objs[nobjs].bias = info->dlpi_addr;
		snprintf(objs[nobjs].name, sizeof(objs[nobjs].name), "%s", base ? base + 1 : path);
		nobjs++;
	}
	return 0;
}

static void objs_build(void)
{
	__atomic_store_n(&objs_seq, objs_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	nobjs = 0;
	dl_iterate_phdr(add_obj, NULL);
	__atomic_store_n(&objs_seq, objs_seq + 1, __ATOMIC_RELEASE);
}

/* "file+0xoffset" of pc into buf, from the watchdog; "?" when unknown. */
static void where(uintptr_t pc, char *buf, size_t cap)
{
	unsigned seq = __atomic_load_n(&objs_seq, __ATOMIC_ACQUIRE);
	struct obj o = {0};
	int found = 0;

	snprintf(buf, cap, "0x%lx", (unsigned long)pc);
	if (seq & 1)
		return;
	for (int i = 0; i < __atomic_load_n(&nobjs, __ATOMIC_RELAXED) && i < OBJS; i++)
		if (pc >= objs[i].lo && pc < objs[i].hi) {
			o = objs[i];
			found = 1;
			break;
		}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (found && __atomic_load_n(&objs_seq, __ATOMIC_RELAXED) == seq) {
		o.name[sizeof(o.name) - 1] = '\0';
		snprintf(buf, cap, "%s+0x%lx", o.name, (unsigned long)(pc - o.bias));
	}
}

/* A stall that lasts: told once while it lasts, from here, where nothing
 * may be named by a call that locks (where() reads the objects' table). */
static void tell_hang(struct slot *s, int64_t now)
{
	char line[512], fn[128] = "?";
	int n;

	if (s->regs[16])
		where(s->regs[16], fn, sizeof(fn));
	if (s->what == SYSCALL) {
		const char *sn = sys_name(s->nr);
		char call[64];
		if (sn)
			snprintf(call, sizeof(call), "%s", sn);
		else
			snprintf(call, sizeof(call), "system call %ld", s->nr);
		n = snprintf(line, sizeof(line),
			     "greenify: monitor: thread %llu \"%s\" has blocked every thread for "
			     "%lld ms so far, in %s at %s\n",
			     (unsigned long long)s->id, s->name,
			     (long long)((now - s->start) / GR_MSEC), call, fn);
	} else {
		n = snprintf(line, sizeof(line),
			     "greenify: monitor: thread %llu \"%s\" has blocked every thread for "
			     "%lld ms so far, %s at %s\n",
			     (unsigned long long)s->id, s->name,
			     (long long)((now - s->start) / GR_MSEC),
			     s->what == COMPUTING ? "computing" : "stopped", fn);
	}
	if (n > 0)
		gr_write_stderr(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	s->told = 1;
}

/* The runtime thread's CPU time (its thread CPU clock, as glibc's
 * pthread_getcpuclockid makes it from the tid), or -1. */
static int64_t cpu_now(void)
{
	struct timespec ts;
	clockid_t id = (clockid_t)((~(unsigned)gr_rt.os_tid) << 3) | 6;

	if (gr_real.syscall(SYS_clock_gettime, id, &ts) < 0)
		return -1;
	return gr_ts_ns(&ts);
}

/* Whether the thread that has run since seen_at without a switch blocks
 * the others: blocked in the kernel all that time, or computing for MS of
 * CPU time. A runtime thread the kernel left waiting for a CPU (a loaded
 * machine) has not computed that long: no stall of its making. */
static int stalls_now(void)
{
	char buf[16];
	long n = read_proc(buf, sizeof(buf) - 1);
	int64_t cpu;

	if (n <= 0 || strncmp(buf, "running", 7) != 0)
		return 1;
	cpu = cpu_now();
	if (cpu < 0)
		return 1; /* no CPU clock: wall time says it */
	if (seen_cpu < 0) {
		seen_cpu = cpu; /* counted from now */
		return 0;
	}
	return cpu - seen_cpu >= limit;
}

static void look(void)
{
	uint64_t sw = __atomic_load_n(&gr_rt.switches, __ATOMIC_RELAXED);
	const struct gr_thread *cur = __atomic_load_n(&gr_rt.cur, __ATOMIC_RELAXED);
	int64_t now = gr_now();

	if (finished)
		return;
	if (sw != seen_switches || cur != seen_cur) {
		if (stalled >= 0)
			end(now);
		seen_switches = sw;
		seen_cur = cur;
		seen_at = now;
		seen_cpu = cpu_now();
		return;
	}
	if (stalled < 0) {
		if (cur != &gr_hub && now - seen_at >= limit &&
		    __atomic_load_n(&gr_rt.live, __ATOMIC_RELAXED) > 1 && stalls_now())
			begin(cur, seen_at);
	} else if (!slots[stalled].told && now - slots[stalled].start >= 10 * limit) {
		tell_hang(&slots[stalled], now);
	}
}

static void *watchdog(void *arg)
{
	int64_t period = limit / 8;
	struct timespec ts;

	(void)arg;
	gr_tls_own_thread = 1;
	if (period < GR_MSEC)
		period = GR_MSEC;
	if (period > 50 * GR_MSEC)
		period = 50 * GR_MSEC;
	ts.tv_sec = period / GR_NSEC;
	ts.tv_nsec = period % GR_NSEC;
	for (;;) {
		gr_real.syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
		lock();
		look();
		unlock();
	}
	return NULL;
}

/* ---- The report, on the runtime thread ---- */

/* "name" of the frame at ip (a return address unless first). */
static void frame_name(uintptr_t ip, int first, char *buf, size_t cap)
{
	char full[512];
	char *plus;

	gr_bt_name(first ? ip + 1 : ip, full, sizeof(full));
	plus = full[0] != '0' ? strstr(full, "+0x") : NULL;
	if (plus)
		*plus = '\0';
	if (cap) {
		size_t n = strnlen(full, cap - 1);
		memcpy(buf, full, n);
		buf[n] = '\0';
	}
}

#if defined(__x86_64__)
/* Whether a is a return address in loaded code (the objects' table, which
 * drain() has just rebuilt), past the bytes the call would take. */
static int after_call(uintptr_t a)
{
	for (int i = 0; i < nobjs; i++)
		if (a >= objs[i].lo + 8 && a <= objs[i].hi)
			return gr_code_after_call(objs[i].lo, a);
	return 0;
}
#endif

/* The stack of slot s, innermost first. From the kernel's line only the
 * stack and program counters are known, and a frame whose call frame
 * information needs the frame pointer (greenify's own hooks keep one)
 * ends libdw's walk there: the frame pointer is then found as that
 * frame's saved one, the first word of its frame followed by a return
 * address into code and preceded by nothing below the stack pointer, and
 * the walk goes on from the caller with it. */
static void unwind(struct slot *s, struct gr_bt *bt)
{
	uintptr_t regs[17];
	uint32_t known = s->known;

	bt->n = 0;
	if (!s->len)
		return;
	memcpy(regs, s->regs, sizeof(regs));
	for (int round = 0; round < 4 && bt->n < GR_BT_MAX; round++) {
		struct gr_bt more = {.n = 0};
		uintptr_t sp, x, end = s->lo + s->len - 16;
		if (gr_bt_unwind_copy(regs, known, s->lo, s->stack, s->len, &more) < 0)
			return;
		for (int i = 0; i < more.n && bt->n < GR_BT_MAX; i++) {
			bt->ip[bt->n] = more.ip[i];
			/* offsets from lo, as more's; a later round's first
			 * return address was read below its stack pointer */
			bt->at[bt->n++] = i > 0	  ? more.at[i]
					  : round ? (uint32_t)(regs[7] - 8 - s->lo)
						  : 0;
		}
		if (known == 0x1ffff || more.n == 0 || bt->n >= GR_BT_MAX)
			return;
#if defined(__x86_64__)
		/* the last frame's stack pointer: above the word its return
		 * address was read from, or the one we started with */
		sp = more.n > 1 ? s->lo + more.at[more.n - 1] + 8 : regs[7];
		for (x = sp; x <= end && x < sp + 2048; x += 8) {
			uintptr_t fp, ra;
			memcpy(&fp, s->stack + (x - s->lo), 8);
			memcpy(&ra, s->stack + (x + 8 - s->lo), 8);
			if ((fp == 0 || (fp > x && fp < s->lo + (1u << 26))) && after_call(ra))
				break;
		}
		if (x > end || x >= sp + 2048)
			return;
		memcpy(&regs[6], s->stack + (x - s->lo), 8);
		memcpy(&regs[16], s->stack + (x + 8 - s->lo), 8);
		regs[7] = x + 16;
		known = 1u << 6 | 1u << 7 | 1u << 16;
#else
		(void)sp;
		(void)x;
		(void)end;
		return;
#endif
	}
}

/* The site's text of slot s: what, then the frames above it. */
static void site_text(struct slot *s, char *buf, size_t cap)
{
	struct gr_bt bt = {.n = 0};
	char fn[160], last[160] = "";
	size_t at = 0;
	int i = 0, shown = 0, same = 0;

	unwind(s, &bt);
	if (bt.n == 0 && s->regs[16]) { /* no unwinder: the one frame known */
		bt.ip[0] = s->regs[16];
		bt.n = 1;
	}
	if (s->what == SYSCALL) {
		const char *sn = sys_name(s->nr);
		int raw = 0;
		if (bt.n > 0) {
			/* libc's syscall(), called by the program, or by our
			 * hook of it on the program's behalf */
			frame_name(bt.ip[0], 1, fn, sizeof(fn));
			raw = from_libc_syscall(fn);
			if (raw && bt.n > 1 && gr_bt_in_runtime(bt.ip[1])) {
				frame_name(bt.ip[1], 0, fn, sizeof(fn));
				raw = from_libc_syscall(fn);
			}
		}
		if (sn)
			at += (size_t)snprintf(buf + at, cap - at, "in %s (%s)", sn,
					       raw ? "raw syscall" : "system call");
		else
			at += (size_t)snprintf(buf + at, cap - at, "in system call %ld", s->nr);
		i = raw; /* libc's syscall() is the call named above */
	} else if (s->what == COMPUTING) {
		at += (size_t)snprintf(buf + at, cap - at, "computing");
	} else {
		at += (size_t)snprintf(buf + at, cap - at, "stopped");
	}
	for (int program = 0; i < bt.n && shown < FRAMES_SHOWN && at < cap; i++) {
		if (gr_bt_in_runtime(bt.ip[i]) && i > 0) {
			if (program)
				break; /* the thread's entry: nothing of the program above */
			continue;      /* a hook the program called */
		}
		program = 1;
		frame_name(bt.ip[i], i == 0, fn, sizeof(fn));
		if (shown && strcmp(fn, last) == 0) { /* recursion: one frame, counted */
			same++;
			continue;
		}
		if (same)
			at += (size_t)snprintf(buf + at, cap - at, " (×%d)", same + 1);
		same = 0;
		if (at >= cap)
			break;
		at += (size_t)snprintf(buf + at, cap - at, "%s %s",
				       shown || s->what == SYSCALL ? " ←" : " in", fn);
		memcpy(last, fn, sizeof(last));
		shown++;
	}
	if (same && at < cap)
		at += (size_t)snprintf(buf + at, cap - at, " (×%d)", same + 1);
	if (bt.n == 0 && s->what == COMPUTING)
		snprintf(buf + at, cap - at, " (no stack: the thread blocks SIGURG)");
}

static struct site *count(const char *text, int64_t ns, int *fresh)
{
	*fresh = 0;
	stalls++;
	for (int i = 0; i < nsites; i++)
		if (strcmp(sites[i].text, text) == 0) {
			sites[i].count++;
			sites[i].total += ns;
			if (ns > sites[i].longest)
				sites[i].longest = ns;
			return &sites[i];
		}
	if (nsites == SITES || !(sites[nsites].text = strdup(text))) {
		elsewhere++;
		return NULL;
	}
	*fresh = 1;
	sites[nsites].count = 1;
	sites[nsites].total = sites[nsites].longest = ns;
	return &sites[nsites++];
}

static void report(struct slot *s)
{
	char text[1024], line[1200];
	int fresh, n;

	site_text(s, text, sizeof(text));
	count(text, s->ns, &fresh);
	if (!fresh)
		return;
	n = snprintf(line, sizeof(line),
		     "greenify: monitor: thread %llu \"%s\" blocked every thread for %lld ms %s\n",
		     (unsigned long long)s->id, s->name, (long long)(s->ns / GR_MSEC), text);
	if (n > 0)
		gr_write_stderr(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Every finished stall, reported: on the runtime thread. */
static void drain(void)
{
	unsigned tail = ring_tail, head = __atomic_load_n(&ring_head, __ATOMIC_ACQUIRE);
	int inside = gr_rt.inside;

	if (tail == head)
		return;
	gr_rt.inside = 1; /* libdw's and the symbol tables' calls take libc's path */
	objs_build();	  /* for the next hang's line */
	for (; tail != head; tail++) {
		report(&slots[ring[tail % SLOTS]]);
		__atomic_store_n(&ring_tail, tail + 1, __ATOMIC_RELEASE);
	}
	gr_bt_names_done();
	gr_rt.inside = inside;
}

static void on_async(uv_async_t *a)
{
	(void)a;
	drain();
}

/* ownfd.h: a mover. The watchdog reads the number as it runs and checks
 * the file (proc_ours). */
static void moved_proc_fd(int from, int to)
{
	(void)from;
	__atomic_store_n(&proc_fd, to, __ATOMIC_SEQ_CST);
}

static int start_watchdog(void)
{
	char path[64];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", gr_rt.os_tid);
	fd = (int)gr_real.syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) { /* out of the program's numbering */
		struct stat st;
		proc_fd = gr_own_fd_high(fd);
		gr_own_fd_add(proc_fd);
		gr_own_fd_mover(proc_fd, moved_proc_fd);
		if (gr_real.syscall(SYS_fstat, proc_fd, &st) == 0) {
			proc_dev = st.st_dev;
			proc_ino = st.st_ino;
		}
	}
	if (proc_fd < 0)
		gr_log(GR_LOG_WARN, "monitor: cannot read %s: stalls named without their call",
		       path);
	/* It calls nothing of glibc's but system calls and formatting: quiet */
	err = gr_tls_own_thread_start(watchdog, NULL, 64 * 1024, "greenify-mon", 1);
	if (err != 0) {
		gr_log(GR_LOG_WARN, "monitor off: no watchdog thread (%s)", strerror(-err));
		return -1;
	}
	return 0;
}

void gr_monitor_init(uv_loop_t *loop)
{
	if (!gr_config.monitor_ns || on)
		return;
	limit = gr_config.monitor_ns;
	if (gr_signal_take_own() < 0) {
		gr_log(GR_LOG_WARN, "monitor: SIGURG not ours: computing stalls named without "
				    "their stack");
	}
	if (uv_async_init(loop, &mon_async, on_async) < 0)
		return;
	uv_unref((uv_handle_t *)&mon_async);
	objs_build();
	seen_at = gr_now();
	seen_cpu = -1;
	if (start_watchdog() == 0)
		on = 1;
}

void gr_monitor_fork_child(void)
{
	if (!on)
		return;
	/* The child's one thread: whatever the parent's watchdog held is
	 * the parent's. */
	mon_lock = 0;
	req.state = 0;
	req.into = NULL;
	stalled = -1;
	ring_head = ring_tail = 0;
	nsites = 0;
	stalls = elsewhere = dropped = 0;
	if (proc_ours()) { /* the parent's thread's file */
		gr_own_fd_del(proc_fd);
		gr_real.syscall(SYS_close, proc_fd);
	}
	proc_fd = -1;
	seen_switches = gr_rt.switches;
	seen_cur = gr_rt.cur;
	seen_at = gr_now();
	seen_cpu = -1;
	on = start_watchdog() == 0;
}

void gr_monitor_exit(void)
{
	char line[1200];
	int n;

	if (!on)
		return;
	lock();
	if (!finished && stalled >= 0)
		end(gr_now()); /* the stalled thread itself exits */
	finished = 1;
	unlock();
	if (!gr_tls_runtime)
		return; /* the hub may run on the runtime thread: it reports */
	drain();
	if (!gr_config.stats)
		return;
	n = snprintf(line, sizeof(line),
		     "greenify: monitor: %lu stall%s of %lld ms or more at %d site%s%s\n", stalls,
		     stalls == 1 ? "" : "s", (long long)(limit / GR_MSEC), nsites + (elsewhere > 0),
		     nsites + (elsewhere > 0) == 1 ? "" : "s",
		     dropped ? " (and more the monitor had no room for)" : "");
	gr_write_stderr(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	for (int i = 0; i < nsites; i++) {
		n = snprintf(line, sizeof(line),
			     "greenify: monitor:   %lu× %lld ms in all, longest %lld ms: %s\n",
			     sites[i].count, (long long)(sites[i].total / GR_MSEC),
			     (long long)(sites[i].longest / GR_MSEC), sites[i].text);
		if (n > 0)
			gr_write_stderr(line,
					(size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	if (elsewhere) {
		n = snprintf(line, sizeof(line), "greenify: monitor:   %lu× at other sites\n",
			     elsewhere);
		gr_write_stderr(line, (size_t)n);
	}
}
