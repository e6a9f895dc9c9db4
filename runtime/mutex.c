/* Green mutexes, in glibc's pthread_mutex_t layout:
 *   __lock   0 free; 1 held; 2 held and maybe waited for. Robust mutexes
 *            hold the owner's id there, as glibc does, FUTEX_OWNER_DIED
 *            once it died without unlocking.
 *   __owner  the holder's id: the kernel tid for main (so a lock main took
 *            before the runtime started is still main's), a value above
 *            any tid for other green threads; PTHREAD_MUTEX_INCONSISTENT /
 *            NOTRECOVERABLE for robust mutexes as in glibc.
 *   __count  recursion depth of a recursive mutex.
 *   __nusers holders, which glibc's pthread_mutex_destroy checks.
 *   __kind   the type (glibc's initialisers and pthread_mutex_init set it).
 *   __list   links the robust mutexes a thread holds.
 * Unlocking hands the mutex straight to the first waiter (wait.c's order:
 * the highest real-time priority, then first come, first served), and no
 * thread wakes only to find the mutex taken again.
 * Until that waiter has run, though, it has done nothing with the mutex,
 * and a thread that locks it meanwhile (most often the one that just
 * unlocked it, going round its loop) takes it back, as a glibc mutex,
 * free once unlocked, would be taken: the waiter looks again when it
 * runs. Without that, two threads that keep locking one mutex pass it to
 * each other with a switch at every lock, for good, once a preemption
 * caught one of them holding it (a lock convoy).
 *
 * This is the way of private mutexes only green threads touch: plain loads
 * and stores. Process-shared ones, and every one once foreign OS threads
 * may touch it, take mutex_shared.c's way (foreign.h).
 *
 * Spin locks: glibc's own trylock and unlock do the work, since the int
 * means different things on different architectures (on x86_64 1 is free).
 * A green thread that finds one held yields until it is free: spinning
 * would never let the holder run. */
#include <limits.h>
#include <linux/futex.h>
#include <string.h>

#include "foreign.h"
#include "kwait.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "wait.h"

#define PSHARED 128 /* glibc's PTHREAD_MUTEX_PSHARED_BIT */

static inline int atomic_way(const struct __pthread_mutex_s *d)
{
	return __builtin_expect((d->__kind & PSHARED) | gr_foreign, 0);
}

#define KIND_MASK      3
#define ROBUST	       16
#define INCONSISTENT   INT_MAX
#define NOTRECOVERABLE (INT_MAX - 1)
#define OWNER_DIED     0x40000000
#define WAITERS_BIT    0x80000000u
#define TID_MASK       0x3fffffff

static int holder(const struct __pthread_mutex_s *d)
{
	if (d->__kind & ROBUST)
		return d->__lock & TID_MASK;
	return d->__lock ? d->__owner : 0;
}

int gr_mutex_holder(const pthread_mutex_t *m)
{
	return holder(&m->__data);
}

/* Robust list, through the mutex's __list.__next / __prev. */
void gr_mutex_robust_add(struct gr_thread *t, pthread_mutex_t *m)
{
	pthread_mutex_t *head = t->robust;

	m->__data.__list.__prev = NULL;
	m->__data.__list.__next = (struct __pthread_internal_list *)head;
	if (head)
		head->__data.__list.__prev = (struct __pthread_internal_list *)m;
	t->robust = m;
}

void gr_mutex_robust_del(struct gr_thread *t, pthread_mutex_t *m)
{
	pthread_mutex_t *prev = (pthread_mutex_t *)m->__data.__list.__prev;
	pthread_mutex_t *next = (pthread_mutex_t *)m->__data.__list.__next;

	if (prev)
		prev->__data.__list.__next = (struct __pthread_internal_list *)next;
	else if (t->robust == m)
		t->robust = next;
	if (next)
		next->__data.__list.__prev = (struct __pthread_internal_list *)prev;
	m->__data.__list.__prev = m->__data.__list.__next = NULL;
}

/* Makes t the holder of m (t runs now, or is about to be woken); waiters:
 * whether others still wait for m. */
static void take(pthread_mutex_t *m, struct gr_thread *t, int waiters)
{
	struct __pthread_mutex_s *d = &m->__data;

	d->__owner = t->owner_id;
	if (d->__kind & ROBUST) {
		d->__lock = t->owner_id | (int)(waiters ? WAITERS_BIT : 0);
		gr_mutex_robust_add(t, m);
	} else {
		d->__lock = waiters ? 2 : 1;
	}
	if ((d->__kind & KIND_MASK) == PTHREAD_MUTEX_RECURSIVE_NP)
		d->__count = 1;
	d->__nusers++;
}

/* Mutexes handed to a waiter that has not run since: release() notes
 * them, the waiter forgets its note when it runs (or ends), a locker that
 * finds the mutex held by such a waiter takes it back. A few are enough:
 * a note pushed out only means that hand-over is not taken back. Every
 * note names a live thread that is runnable and has not run since. */
#define HANDED_MAX 8
static struct handed {
	const pthread_mutex_t *m; /* the mutex handed over */
	struct gr_thread *w;	  /* to whom */
} handed[HANDED_MAX];
static unsigned handed_next; /* the slot the next note takes */
static unsigned handed_n;    /* notes in handed[] */

static void handed_drop(int i)
{
	handed[i].m = NULL;
	handed[i].w = NULL;
	handed_n--;
}

static void handed_forget(const struct gr_thread *w)
{
	if (!handed_n)
		return; /* every thread's exit, and most locks after a wait */
	for (int i = 0; i < HANDED_MAX; i++)
		if (handed[i].w == w)
			handed_drop(i);
}

/* Whether self took m back from the waiter it was handed to. */
static int take_back(pthread_mutex_t *m, struct gr_thread *self);

/* Whether anyone may wait for m: only then are the queues worth a look. */
static int maybe_waiters(const struct __pthread_mutex_s *d)
{
	if (d->__kind & ROBUST)
		return ((unsigned)d->__lock & WAITERS_BIT) != 0;
	return d->__lock == 2;
}

static void mark_waiters(struct __pthread_mutex_s *d)
{
	if (d->__kind & ROBUST)
		d->__lock = (int)((unsigned)d->__lock | WAITERS_BIT);
	else
		d->__lock = 2;
}

int gr_mutex_lock(pthread_mutex_t *m, const struct gr_timeout *to)
{
	struct __pthread_mutex_s *d = &m->__data;
	struct gr_thread *self = gr_rt.cur;
	int kind = d->__kind & KIND_MASK;
	int robust = d->__kind & ROBUST;
	int64_t deadline;
	int r;

again:
	if (atomic_way(d))
		return gr_mutex_lock_atomic(m, to);
	if (robust && d->__owner == NOTRECOVERABLE)
		return -ENOTRECOVERABLE;
	int h = holder(d);
	if (h == 0) {
		int died = robust && (d->__lock & OWNER_DIED);
		take(m, self, 0); /* free means nobody waits: a wake-up hands over */
		if (died) {
			d->__owner = INCONSISTENT;
			return -EOWNERDEAD;
		}
		return 0;
	}
	if (h == self->owner_id) {
		if (kind == PTHREAD_MUTEX_RECURSIVE_NP) {
			if (d->__count + 1 == 0)
				return -EAGAIN;
			d->__count++;
			return 0;
		}
		/* glibc: trylock says EBUSY, except for a robust mutex. */
		if (kind == PTHREAD_MUTEX_ERRORCHECK_NP)
			return to->try_only && !robust ? -EBUSY : -EDEADLK;
		/* A normal mutex relocked by its holder deadlocks, as in glibc
		 * (trylock says EBUSY, a timed lock times out). */
	}
	if (h != self->owner_id && !robust && take_back(m, self))
		return 0;
	r = gr_timeout_deadline(to, &deadline);
	if (r < 0)
		return r;
	mark_waiters(d);
	r = gr_wait_addr(&d->__lock, GR_BITSET_ANY, GR_WAIT_MUTEX, m, deadline);
	if (r == 0 && !robust)
		handed_forget(self); /* running now: its hand-over stands */
	if (r == -EINTR || r == GR_RECHECK)
		goto again; /* a signal handler ran: a mutex wait carries on */
	/* The last waiter gave up: unlock need not look for more. Not once
	 * the atomic way is on (foreign.h), which this wait may have slept
	 * through: a word another thread may change is left as it is, and a
	 * waiter mark too many costs only a wake-up. */
	if (r == -ETIMEDOUT && !gr_foreign && !gr_first_waiter(&d->__lock) && holder(d)) {
		if (robust)
			d->__lock = (int)((unsigned)d->__lock & ~WAITERS_BIT);
		else
			d->__lock = 1;
	}
	return r; /* 0: handed over; or -EOWNERDEAD, -ENOTRECOVERABLE, -ETIMEDOUT */
}

/* Passes m on to its first waiter, or frees it. */
static void release(pthread_mutex_t *m)
{
	struct __pthread_mutex_s *d = &m->__data;
	struct gr_thread *w = NULL;
	int more = 0;

	d->__nusers--;
	if (maybe_waiters(d))
		w = gr_wake_first(&d->__lock, 0, &more);
	if (w) {
		take(m, w, more);
		if (!(d->__kind & ROBUST)) {
			handed_n += !handed[handed_next].w;
			handed[handed_next].m = m;
			handed[handed_next].w = w;
			handed_next = (handed_next + 1) % HANDED_MAX;
		}
	} else {
		d->__lock = 0;
		d->__owner = 0;
	}
}

static int take_back(pthread_mutex_t *m, struct gr_thread *self)
{
	struct __pthread_mutex_s *d = &m->__data;

	for (int i = 0; handed_n && i < HANDED_MAX; i++) {
		struct gr_thread *w = handed[i].w;
		if (handed[i].m != m)
			continue;
		handed_drop(i);
		/* Still as release() left it: runnable, its wait not yet
		 * returned, m its own. (Robust mutexes are never noted: their
		 * owner's list would need undoing too.) */
		if (w->state != GR_RUNNABLE || w->wait_obj != m || w->wake_result != 0 ||
		    holder(d) != w->owner_id)
			return 0;
		w->wake_result = GR_RECHECK; /* its lock goes round again */
		d->__nusers--;
		take(m, self, gr_first_waiter(&d->__lock) != NULL);
		return 1;
	}
	return 0;
}

int gr_mutex_unlock(pthread_mutex_t *m)
{
	struct __pthread_mutex_s *d = &m->__data;
	struct gr_thread *self = gr_rt.cur;
	int kind = d->__kind & KIND_MASK;
	int robust = d->__kind & ROBUST;

	if (atomic_way(d))
		return gr_mutex_unlock_atomic(m);
	if (kind != PTHREAD_MUTEX_TIMED_NP && kind != PTHREAD_MUTEX_ADAPTIVE_NP) {
		if (holder(d) != self->owner_id)
			return -EPERM;
	} else if (robust && holder(d) != self->owner_id) {
		return -EPERM;
	}
	if (kind == PTHREAD_MUTEX_RECURSIVE_NP && --d->__count != 0)
		return 0;
	if (robust) {
		gr_mutex_robust_del(self, m);
		if (d->__owner == INCONSISTENT) {
			/* Unlocked without pthread_mutex_consistent(): nobody
			 * may use it again, waiters included. */
			struct gr_thread *w;
			d->__owner = NOTRECOVERABLE;
			d->__lock = 0;
			d->__nusers--;
			while ((w = gr_first_waiter(&d->__lock)))
				gr_wake_waiter(w, -ENOTRECOVERABLE);
			return 0;
		}
	}
	if (!holder(d)) /* glibc lets a free normal mutex be "unlocked" */
		return 0;
	release(m);
	return 0;
}

int gr_mutex_consistent(pthread_mutex_t *m)
{
	struct __pthread_mutex_s *d = &m->__data;

	if (atomic_way(d))
		return gr_mutex_consistent_atomic(m);
	if (!(d->__kind & ROBUST) || d->__owner != INCONSISTENT)
		return -EINVAL;
	d->__owner = gr_rt.cur->owner_id;
	return 0;
}

void gr_mutex_owner_exit(struct gr_thread *t)
{
	pthread_mutex_t *m;

	gr_mutex_shared_owner_exit(t);
	handed_forget(t);
	while ((m = t->robust)) {
		struct __pthread_mutex_s *d = &m->__data;
		struct gr_thread *w = gr_first_waiter(&d->__lock);
		gr_mutex_robust_del(t, m);
		d->__nusers--;
		if (gr_foreign) {
			/* Another OS thread may change the word meanwhile. */
			if (w) {
				d->__nusers++;
				gr_mutex_hand_over(m, w, -EOWNERDEAD);
				continue;
			}
			uint32_t *word = (uint32_t *)&d->__lock;
			uint32_t old = __atomic_load_n(word, __ATOMIC_RELAXED);
			d->__owner = 0;
			while (!__atomic_compare_exchange_n(
				word, &old, (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED, 0,
				__ATOMIC_RELEASE, __ATOMIC_RELAXED))
				;
			if (old & FUTEX_WAITERS)
				gr_futex_wake(word, 1, 1);
			continue;
		}
		if (w) {
			gr_wake_waiter(w, -EOWNERDEAD);
			take(m, w, gr_first_waiter(&d->__lock) != NULL);
			d->__owner = INCONSISTENT;
		} else {
			d->__lock = OWNER_DIED;
			d->__owner = 0;
		}
	}
}

void gr_mutex_after_fork(void)
{
	/* The threads the notes name did not survive the fork. */
	memset(handed, 0, sizeof(handed));
	handed_n = 0;
}

int gr_spin_lock(pthread_spinlock_t *l, int try_only)
{
	while (gr_real.pthread_spin_trylock(l) != 0) {
		if (try_only)
			return -EBUSY;
		gr_yield();
	}
	return 0;
}
