/* Kernel-visible waits for green threads (kwait.h).
 *
 * Each waiter takes a slot in a helper's table: the word, the value it
 * expects, private or shared. A helper is an OS thread of the runtime's
 * own that sits in futex_waitv on the words of its (up to 127) slots and a
 * control word of its own; a new slot bumps the control word to make it
 * look again. When futex_waitv returns, the helper marks every slot whose
 * word was woken or changed as fired and wakes the loop, whose callback
 * wakes those green threads; they re-check their objects and wait again if
 * they must, as a woken futex waiter does.
 *
 * A wake-up the kernel gives to a helper is taken away from the other
 * waiters of the word, so none may be lost: a slot whose green thread has
 * already left (woken by a green thread of its own process, timed out,
 * interrupted) but that the helper was still waiting on, and a fired slot
 * whose thread did not use the wake-up, pass one FUTEX_WAKE on, as glibc's
 * own waiters do when they leave with a wake-up they did not use. A spare
 * wake-up only makes a waiter look again. futex_waitv reports one woken
 * word (the last one in the vector); the others it woke are found by their
 * changed value, which every glibc protocol (mutex, condition, semaphore,
 * rwlock, barrier) changes before it wakes: a word woken and changed back
 * has someone else's wake-up coming.
 *
 * Without futex_waitv (Linux < 5.16), or without a helper thread, a waiter
 * looks at its word again every millisecond: slower, still correct. */
#include "kwait.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "foreign.h"
#include "log.h"
#include "real.h"
#include "tls.h"
#include "wait.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
struct futex_waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t __reserved;
};
#endif

#define PER_HELPER 127 /* futex_waitv takes 128 words: the slots' and ours */
#define POLL_NS	   GR_MSEC

/* The waiting thread's half, on its stack. */
struct rec {
	struct gr_thread *t; /* the waiter */
	int kwoke;	     /* woken by the helper's report, not by another */
	int dropped;	     /* its slot was given up for it (gr_kwait_forget) */
};

struct slot {
	uint32_t *uaddr; /* the word; NULL: free */
	uint32_t val;	 /* what the waiter saw in it */
	uint32_t flags;	 /* FUTEX_32, with FUTEX_PRIVATE_FLAG for a private word */
	uint32_t gen;	 /* bumped at each use: an old entry of the helper's
			    vector is not the slot's new one */
	int fired;	 /* the helper saw the word woken or changed */
	struct rec *rec; /* the waiter's half (runtime side only) */
};

struct helper {
	int lock;	 /* spin lock over the slots, ctl, nused */
	uint32_t ctl;	 /* control futex: bumped when a slot is taken */
	unsigned nused;	 /* slots taken */
	int fired;	 /* a slot fired since the loop looked (atomic) */
	int state;	 /* 0 not started, 2 starting, 1 running, -1 could not start */
	int dirty;	 /* slots taken since it was last told to look */
	uint32_t built;	 /* ctl as of the vector it waits on now (futex) */
	int want_built;	 /* the runtime waits for built to move */
	unsigned nwatch; /* the words of that vector */
	uint32_t *watch[PER_HELPER];
	struct helper *next; /* the next helper's table */
	struct slot slot[PER_HELPER];
};

unsigned gr_kwaiters;
struct gr_kwait_stats gr_kwait_stats;
uint32_t gr_hub_word;	 /* bumped to end the hub's own wait (futex) */
static int hub_sleeping; /* the hub waits on the words itself */

static struct helper first;  /* more are allocated, once, past 127 waiters */
static uv_async_t loop_wake; /* the helpers' report to the loop */
static int loop_wake_ready;  /* loop_wake is initialised */
static int no_waitv;	     /* the kernel has no futex_waitv: poll */

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Held for a few loads and stores, by the runtime thread or a helper. */
static void lock(struct helper *h)
{
	while (__atomic_exchange_n(&h->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&h->lock, __ATOMIC_RELAXED))
			cpu_relax();
}

static void unlock(struct helper *h)
{
	__atomic_store_n(&h->lock, 0, __ATOMIC_RELEASE);
}

long gr_futex_sys(uint32_t *uaddr, int op, int shared, uint32_t val, const void *timeout,
		  uint32_t *uaddr2, uint32_t val3)
{
	int saved = errno;
	long r = gr_real.syscall(SYS_futex, uaddr, op | (shared ? 0 : FUTEX_PRIVATE_FLAG), val,
				 timeout, uaddr2, val3);

	if (r < 0)
		r = -errno;
	errno = saved; /* the runtime leaves errno alone */
	return r;
}

long gr_futex_wake(uint32_t *uaddr, int n, int shared)
{
	return gr_futex_sys(uaddr, FUTEX_WAKE, shared, (uint32_t)n, NULL, NULL, 0);
}

/* The word at a slot the waiter has left, whose memory may be gone: 1 if
 * it is not val (or cannot be read: then a spare wake-up is the safe side). */
static int left_word_changed(const uint32_t *uaddr, uint32_t val)
{
	uint32_t now;
	struct iovec local = {&now, sizeof(now)}, remote = {(void *)uaddr, sizeof(now)};

	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != sizeof(now))
		return 1;
	return now != val;
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct futex_waitv v[PER_HELPER + 1];
	unsigned idx[PER_HELPER + 1] = {0};
	uint32_t gen[PER_HELPER + 1] = {0};
	struct slot fwd[PER_HELPER];

	gr_tls_own_thread = 1;
	for (;;) {
		unsigned n = 1, nfwd = 0;
		int any = 0;
		long r;

		lock(h);
		v[0] = (struct futex_waitv){h->ctl, (uintptr_t)&h->ctl,
					    FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
		/* While the hub waits on the words itself, the helper
		 * keeps out of the way: a wake-up the kernel gave to it
		 * would take the long way round. */
		int hub = __atomic_load_n(&hub_sleeping, __ATOMIC_ACQUIRE);
		for (unsigned i = 0; i < PER_HELPER && !hub; i++) {
			struct slot *s = &h->slot[i];
			if (!s->uaddr || s->fired)
				continue;
			v[n] = (struct futex_waitv){s->val, (uintptr_t)s->uaddr, s->flags, 0};
			idx[n] = i;
			gen[n] = s->gen;
			h->watch[n - 1] = s->uaddr;
			n++;
		}
		h->nwatch = n - 1;
		__atomic_store_n(&h->built, (uint32_t)v[0].val, __ATOMIC_RELEASE);
		int tell = h->want_built;
		h->want_built = 0;
		unlock(h);
		if (tell)
			gr_real.syscall(SYS_futex, &h->built, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
					NULL, 0);
		if (n > 1)
			__atomic_fetch_add(&gr_kwait_stats.helper, 1, __ATOMIC_RELAXED);
		r = gr_real.syscall(SYS_futex_waitv, v, n, 0, NULL, 0);
		if (r < 0)
			r = -errno;
		lock(h);
		for (unsigned k = 1; k < n; k++) {
			struct slot *s = &h->slot[idx[k]];
			const uint32_t *w = (const uint32_t *)(uintptr_t)v[k].uaddr;
			uint32_t want = (uint32_t)v[k].val;
			int live = s->uaddr == w && s->gen == gen[k];
			int hit;
			/* futex_waitv reports the last word it woke: later ones
			 * were not woken, earlier ones may have been. EAGAIN and
			 * the others: none was. A live slot whose word changed
			 * fires anyway: its waiter has something to look at. */
			if (r == (long)k || r == -EFAULT)
				hit = 1;
			else if (live)
				hit = __atomic_load_n(w, __ATOMIC_RELAXED) != want;
			else
				hit = r > (long)k && left_word_changed(w, want);
			if (!hit)
				continue;
			if (live) {
				s->fired = 1;
				any = 1;
			} else {
				fwd[nfwd].uaddr = (uint32_t *)w;
				fwd[nfwd++].flags = v[k].flags;
			}
		}
		unlock(h);
		for (unsigned i = 0; i < nfwd; i++)
			gr_real.syscall(SYS_futex, fwd[i].uaddr,
					FUTEX_WAKE | (fwd[i].flags & FUTEX_PRIVATE_FLAG), 1, NULL,
					NULL, 0);
		if (any) {
			__atomic_store_n(&h->fired, 1, __ATOMIC_RELEASE);
			uv_async_send(&loop_wake);
			gr_hub_poke();
		}
	}
	return NULL;
}

/* In the loop (hub): wake the green threads of fired slots. */
static void on_loop_wake(uv_async_t *a)
{
	(void)a;
	for (struct helper *h = &first; h; h = h->next) {
		if (!__atomic_exchange_n(&h->fired, 0, __ATOMIC_ACQUIRE))
			continue;
		lock(h);
		for (unsigned i = 0; i < PER_HELPER; i++) {
			struct slot *s = &h->slot[i];
			if (!s->uaddr || !s->fired || s->rec->kwoke)
				continue;
			/* Still on its queue: parked, or interrupted by a signal
			 * and not yet run (a real wake-up then still counts). */
			if (s->rec->t->q_addr) {
				s->rec->kwoke = 1;
				gr_wake_waiter(s->rec->t, GR_RECHECK);
			}
		}
		unlock(h);
	}
}

static int start_helper(struct helper *h)
{
	int err;

	if (!loop_wake_ready) {
		int was = gr_rt.inside;
		gr_rt.inside = 1;
		err = uv_async_init(&gr_rt.loop, &loop_wake, on_loop_wake);
		gr_rt.inside = was;
		if (err < 0)
			return err;
		/* The loop must not stay up for it alone. */
		uv_unref((uv_handle_t *)&loop_wake);
		loop_wake_ready = 1;
	}
	/* The helper takes no signals: they are the program's. */
	return gr_tls_own_thread_start(helper_main, h, 64 * 1024, "greenify-futex", 0);
}

/* A helper with a free slot, started if need be; NULL if none can be had. */
static struct helper *helper_with_room(void)
{
	struct helper *h = &first, **link;

	for (;;) {
		if (h->state >= 0 && h->nused < PER_HELPER) {
			/* A wait its start makes polls (state 2): glibc's
			 * pthread_create calls the program's calloc, whose
			 * lock (jemalloc's) a foreign thread may hold, and
			 * a wait for that lock comes back here. */
			if (h->state == 0) {
				h->state = 2;
				h->state = start_helper(h) == 0 ? 1 : -1;
			}
			if (h->state == 1)
				return h;
			if (h->state == 2)
				return NULL;
		}
		link = &h->next;
		if (!*link) {
			/* Once per 127 waiters at the same time, never freed:
			 * a helper may still look at its table. From glibc's
			 * heap, as above. */
			struct helper *n = gr_real.__libc_calloc(1, sizeof(*n));
			if (!n)
				return NULL;
			__atomic_store_n(link, n, __ATOMIC_RELEASE);
		}
		h = *link;
	}
}

static int probe_waitv(void)
{
	static int known;
	struct futex_waitv v = {1, 0, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
	uint32_t word = 0;

	if (!known) {
		/* An expected value the word does not have: answers at once. */
		v.uaddr = (uintptr_t)&word;
		no_waitv =
			gr_real.syscall(SYS_futex_waitv, &v, 1, 0, NULL, 0) < 0 && errno == ENOSYS;
		known = 1;
		if (no_waitv)
			gr_log(GR_LOG_WARN, "no futex_waitv (Linux < 5.16): waits for other "
					    "processes poll every millisecond");
	}
	return !no_waitv;
}

/* Without a helper: look at the word every millisecond. A wake-up that
 * leaves it as it was goes unseen; every glibc protocol changes it. */
static int poll_wait(const uint32_t *uaddr, uint32_t val, const void *key, uint32_t bitset,
		     enum gr_wait why, void *obj, int64_t deadline)
{
	for (;;) {
		int64_t soon = gr_now() + POLL_NS;
		int last = deadline && deadline <= soon;
		int r = gr_wait_addr(key, bitset, why, obj, last ? deadline : soon);
		if (r != -ETIMEDOUT || last)
			return r;
		if (__atomic_load_n(uaddr, __ATOMIC_ACQUIRE) != val)
			return GR_RECHECK;
	}
}

int gr_kwait(uint32_t *uaddr, uint32_t val, int shared, const void *key, uint32_t bitset,
	     enum gr_wait why, void *obj, int64_t deadline)
{
	struct rec rec = {gr_rt.cur, 0, 0};
	struct helper *h;
	struct slot *s = NULL;
	int saved = errno, r, fired;

	if (__atomic_load_n(uaddr, __ATOMIC_ACQUIRE) != val)
		return -EAGAIN;
	h = probe_waitv() ? helper_with_room() : NULL;
	errno = saved;
	if (!h)
		return poll_wait(uaddr, val, key, bitset, why, obj, deadline);
	lock(h);
	for (unsigned i = 0; i < PER_HELPER; i++)
		if (!h->slot[i].uaddr) {
			s = &h->slot[i];
			break;
		}
	GR_ASSERT(s);
	s->val = val;
	s->flags = FUTEX_32 | (shared ? 0 : FUTEX_PRIVATE_FLAG);
	s->gen++;
	s->fired = 0;
	s->rec = &rec;
	__atomic_store_n(&s->uaddr, uaddr, __ATOMIC_RELEASE);
	h->nused++;
	h->dirty = 1; /* told when the hub runs the loop (gr_kwait_before_loop) */
	unlock(h);
	gr_kwaiters++;
	r = gr_wait_addr(key, bitset, why, obj, deadline);
	gr_kwaiters--;
	lock(h);
	fired = s->fired;
	if (!rec.dropped) {
		s->uaddr = NULL;
		h->nused--;
	}
	unlock(h);
	/* The helper took a wake-up for us that we leave unused. */
	if (fired && !rec.kwoke)
		gr_futex_wake(uaddr, 1, shared);
	return r;
}

void gr_hub_poke(void)
{
	__atomic_fetch_add(&gr_hub_word, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&hub_sleeping, __ATOMIC_SEQ_CST))
		gr_real.syscall(SYS_futex, &gr_hub_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Tells a helper to build its vector again. */
static void poke(struct helper *h)
{
	lock(h);
	h->ctl++;
	h->dirty = 0;
	unlock(h);
	gr_futex_wake(&h->ctl, 1, 0);
}

void gr_kwait_before_loop(void)
{
	for (struct helper *h = &first; h; h = h->next)
		if (h->state == 1 && __atomic_load_n(&h->dirty, __ATOMIC_RELAXED))
			poke(h);
}

int gr_kwait_idle(int64_t deadline)
{
	struct futex_waitv v[PER_HELPER + 2];
	struct slot *slot[PER_HELPER + 2];
	struct timespec ts;
	unsigned n = 2;
	long r;
	int saved = errno;

	if (gr_kwaiters == 0 || gr_kwaiters > PER_HELPER)
		return 0;
	__atomic_store_n(&hub_sleeping, 1, __ATOMIC_SEQ_CST);
	v[0] = (struct futex_waitv){__atomic_load_n(&gr_hub_word, __ATOMIC_SEQ_CST),
				    (uintptr_t)&gr_hub_word, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0};
	/* A signal handler's trampoline sets it, and the restarted wait
	 * then finds it changed. */
	v[1] = (struct futex_waitv){0, (uintptr_t)&gr_rt.sig_pending, FUTEX_32 | FUTEX_PRIVATE_FLAG,
				    0};
	for (struct helper *h = &first; h; h = h->next) {
		if (h->state != 1)
			continue;
		int busy = 0;
		lock(h);
		/* The taken slots are few and first, mostly: stop at the last. */
		for (unsigned i = 0, seen = 0; i < PER_HELPER && seen < h->nused; i++) {
			struct slot *s = &h->slot[i];
			if (!s->uaddr)
				continue;
			seen++;
			if (s->fired || s->rec->kwoke || !s->rec->t->q_addr)
				continue;
			if (n == PER_HELPER + 2) {
				busy = 1;
				break;
			}
			v[n] = (struct futex_waitv){s->val, (uintptr_t)s->uaddr, s->flags, 0};
			slot[n++] = s;
		}
		int watching = h->nwatch > 0;
		unlock(h);
		if (busy || __atomic_load_n(&h->fired, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&gr_rt.sig_pending, __ATOMIC_RELAXED)) {
			__atomic_store_n(&hub_sleeping, 0, __ATOMIC_SEQ_CST);
			errno = saved;
			return 0;
		}
		if (watching)
			poke(h); /* out of the way, and dirty again below */
	}
	if (deadline) {
		ts.tv_sec = deadline / GR_NSEC;
		ts.tv_nsec = deadline % GR_NSEC;
	}
	gr_kwait_stats.hub++;
	r = gr_real.syscall(SYS_futex_waitv, v, n, 0, deadline ? &ts : NULL, CLOCK_MONOTONIC);
	if (r < 0)
		r = -errno;
	__atomic_store_n(&hub_sleeping, 0, __ATOMIC_SEQ_CST);
	/* News for the loop, or only for green waiters? */
	int loop_news = r == 0 || r == 1 || r == -EINTR ||
			__atomic_load_n(&gr_hub_word, __ATOMIC_SEQ_CST) != (uint32_t)v[0].val ||
			__atomic_load_n(&gr_rt.sig_pending, __ATOMIC_RELAXED);
	/* As the helper does: the reported word and every changed one. */
	for (unsigned k = 2; k < n; k++) {
		struct slot *s = slot[k];
		const uint32_t *w = (const uint32_t *)(uintptr_t)v[k].uaddr;
		if (r == (long)k || r == -EFAULT ||
		    __atomic_load_n(w, __ATOMIC_RELAXED) != (uint32_t)v[k].val) {
			s->rec->kwoke = 1;
			gr_wake_waiter(s->rec->t, GR_RECHECK);
		}
	}
	for (struct helper *h = &first; h; h = h->next)
		if (h->state == 1)
			h->dirty = 1;
	errno = saved;
	return loop_news ? 1 : 2;
}

void gr_kwait_check(void)
{
	for (struct helper *h = &first; h; h = h->next) {
		if (h->state != 1 || !h->nused)
			continue;
		lock(h);
		for (unsigned i = 0, seen = 0; i < PER_HELPER && seen < h->nused; i++) {
			struct slot *s = &h->slot[i];
			if (!s->uaddr)
				continue;
			seen++;
			if (s->rec->kwoke || !s->rec->t->q_addr)
				continue;
			if (s->fired || __atomic_load_n(s->uaddr, __ATOMIC_RELAXED) != s->val) {
				s->rec->kwoke = 1;
				gr_wake_waiter(s->rec->t, GR_RECHECK);
			}
		}
		unlock(h);
	}
}

void gr_kwait_forget(const uint32_t *uaddr)
{
	int saved = errno;

	for (struct helper *h = &first; h; h = h->next) {
		uint32_t target = 0;
		int need = 0;
		if (h->state != 1)
			continue;
		lock(h);
		for (unsigned i = 0; i < PER_HELPER; i++) {
			struct slot *s = &h->slot[i];
			/* Its thread was woken already and will not wait here
			 * again: the slot goes now, not when the thread runs. */
			if (s->uaddr == uaddr && !s->rec->t->q_addr) {
				if (s->fired && !s->rec->kwoke)
					gr_futex_wake((uint32_t *)uaddr, 1,
						      !(s->flags & FUTEX_PRIVATE_FLAG));
				s->rec->dropped = 1;
				s->uaddr = NULL;
				h->nused--;
			}
		}
		for (unsigned i = 0; i < h->nwatch && !need; i++)
			need = h->watch[i] == uaddr;
		if (need) {
			target = ++h->ctl;
			h->want_built = 1;
		}
		unlock(h);
		if (!need)
			continue;
		gr_futex_wake(&h->ctl, 1, 0);
		for (;;) {
			uint32_t b = __atomic_load_n(&h->built, __ATOMIC_ACQUIRE);
			if ((int32_t)(b - target) >= 0)
				break;
			gr_real.syscall(SYS_futex, &h->built, FUTEX_WAIT_PRIVATE, b, NULL, NULL, 0);
		}
	}
	errno = saved;
}

void gr_kwait_after_fork(void)
{
	/* The helpers did not survive the fork, nor did any waiter but the
	 * thread that forked, which waits for nothing. */
	for (struct helper *h = &first; h; h = h->next) {
		h->lock = 0;
		h->state = 0;
		h->nused = 0;
		h->fired = 0;
		h->nwatch = 0;
		h->want_built = 0;
		for (unsigned i = 0; i < PER_HELPER; i++)
			h->slot[i].uaddr = NULL;
	}
	gr_kwaiters = 0;
	/* The child's figures are its own. */
	memset(&gr_kwait_stats, 0, sizeof(gr_kwait_stats));
	loop_wake.pending = 0; /* a report of the parent's helpers */
}
