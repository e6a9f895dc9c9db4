/* Foreign OS threads and private objects (foreign.h). */
#include "foreign.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>

#include "kwait.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "wait.h"

#define RING 256 /* wake-ups waiting for the loop; past that, everyone looks */

int gr_foreign;
int gr_foreign_parked;
int gr_foreign_live; /* the runtime runs: foreign threads are possible */
__thread int gr_tls_own_thread __attribute__((tls_model("initial-exec")));

static struct {
	const void *key;
	int n;
} ring[RING];		     /* wake-ups from foreign threads, for the loop */
static unsigned ring_n;	     /* entries in ring */
static int ring_full;	     /* some did not fit: wake every waiter */
static int ring_lock;	     /* spin lock over ring, ring_n, ring_full, want_on */
static int want_on;	     /* a foreign thread waits for the switch */
static uv_async_t loop_wake; /* wakes the hub for them */

static void lock(void)
{
	while (__atomic_exchange_n(&ring_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&ring_lock, __ATOMIC_RELAXED))
			gr_real.sched_yield(); /* held by a thread that may be off-CPU */
}

static void unlock(void)
{
	__atomic_store_n(&ring_lock, 0, __ATOMIC_RELEASE);
}

static int waits_on_sync(const struct gr_thread *t);

void gr_foreign_on(void)
{
	if (gr_foreign)
		return;
	gr_log(GR_LOG_DEBUG, "a foreign OS thread may touch private locks: they go atomic");
	__atomic_store_n(&gr_foreign, 1, __ATOMIC_SEQ_CST);
	/* Waiters that parked the plain way wait for a hand-over that the
	 * atomic way does not make: they look again, now the atomic way. */
	for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
		if (t->state == GR_PARKED && t->q_addr && waits_on_sync(t))
			gr_wake_waiter(t, GR_RECHECK);
	gr_real.syscall(SYS_futex, &gr_foreign, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void gr_foreign_enter(void)
{
	if (__builtin_expect(__atomic_load_n(&gr_foreign, __ATOMIC_ACQUIRE), 1))
		return;
	int saved = errno;
	lock();
	want_on = 1;
	unlock();
	uv_async_send(&loop_wake);
	gr_hub_poke();
	while (!__atomic_load_n(&gr_foreign, __ATOMIC_ACQUIRE))
		gr_real.syscall(SYS_futex, &gr_foreign, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	errno = saved;
}

void gr_foreign_woke(const void *key, int n)
{
	/* Pairs with the waiter's count-then-look: either it sees what
	 * glibc just changed, or we see it counted. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&gr_foreign_parked, __ATOMIC_RELAXED))
		return;
	int saved = errno;
	lock();
	if (ring_n < RING) {
		ring[ring_n].key = key;
		ring[ring_n++].n = n;
	} else {
		ring_full = 1;
	}
	unlock();
	uv_async_send(&loop_wake);
	gr_hub_poke();
	errno = saved;
}

static int waits_on_sync(const struct gr_thread *t)
{
	switch (t->wait) {
	case GR_WAIT_MUTEX:
	case GR_WAIT_COND:
	case GR_WAIT_RWLOCK:
	case GR_WAIT_SEM:
	case GR_WAIT_BARRIER:
	case GR_WAIT_ONCE:
	case GR_WAIT_FUTEX: return 1;
	default: return 0;
	}
}

/* In the hub: every green thread is switched out. */
static void on_loop_wake(uv_async_t *a)
{
	struct {
		const void *key;
		int n;
	} got[RING];
	unsigned n;
	int full, on;

	(void)a;
	lock();
	n = ring_n;
	memcpy(got, ring, n * sizeof(got[0]));
	ring_n = 0;
	full = ring_full;
	ring_full = 0;
	on = want_on;
	want_on = 0;
	unlock();
	if (on)
		gr_foreign_on();
	for (unsigned i = 0; i < n; i++)
		gr_wake_addr_result(got[i].key, got[i].n, GR_BITSET_ANY, GR_RECHECK);
	if (full)
		for (struct gr_thread *t = gr_rt.all; t; t = t->all_next)
			if (t->state == GR_PARKED && t->q_addr && waits_on_sync(t))
				gr_wake_waiter(t, GR_RECHECK);
}

/* Whether the process has an OS thread besides the calling one. */
static int other_threads(void)
{
	DIR *d = gr_real.opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 1; /* cannot tell: the safe side */
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	gr_real.closedir(d);
	return n > 1;
}

struct own_start {
	void *(*start)(void *);
	void *arg;
};

static void *own_trampoline(void *p)
{
	struct own_start o = *(struct own_start *)p;

	gr_tls_own_thread = 1;
	gr_real.__libc_free(p);
	return o.start(o.arg);
}

int gr_foreign_own_start(void *(**start)(void *), void **arg)
{
	/* From glibc's heap: the program's malloc (jemalloc) may take a
	 * pthread mutex, which the thread must take as the runtime's own. */
	struct own_start *o = gr_real.__libc_malloc(sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->start = *start;
	o->arg = *arg;
	*start = own_trampoline;
	*arg = o;
	return 0;
}

int gr_foreign_init(uv_loop_t *loop)
{
	int err = uv_async_init(loop, &loop_wake, on_loop_wake);

	if (err < 0)
		return err;
	uv_unref((uv_handle_t *)&loop_wake);
	if (other_threads())
		gr_foreign_on();
	return 0;
}

void gr_foreign_go_live(void)
{
	__atomic_store_n(&gr_foreign_live, 1, __ATOMIC_RELEASE);
}

void gr_foreign_after_fork(void)
{
	/* One OS thread left; a request of a thread that is gone is void,
	 * and so are wake-ups for waiters that are gone. A wake-up of the
	 * loop the parent had pending is not the child's (sched.c). */
	ring_lock = 0;
	ring_n = 0;
	ring_full = 0;
	want_on = 0;
	gr_foreign_parked = 0;
	loop_wake.pending = 0;
}

/* At exit every hook calls libc and the hub runs no more: a foreign thread
 * must not wait for it. */
__attribute__((destructor)) static void foreign_at_exit(void)
{
	if (gr_foreign_live)
		gr_foreign_on();
}
