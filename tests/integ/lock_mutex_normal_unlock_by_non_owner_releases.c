/* Hazard: glibc's normal (and adaptive) mutexes do not check the owner.
 * POSIX calls it undefined, but programs do it (a mutex used as a binary
 * semaphore), and glibc 2.36 answers 0 every time:
 *   unlock by a thread that does not own it -> 0, and it is really released:
 *     a thread blocked in lock gets it;
 *   unlock of an unlocked one -> 0, and the mutex still works afterwards;
 *   the owner's trylock -> EBUSY; the owner's timedlock is a self-deadlock
 *     that ends in ETIMEDOUT at the deadline (never EDEADLK);
 *   destroy while locked -> EBUSY (glibc decides "locked" from its count of
 *     lock minus unlock calls, which an extra unlock skews: checked first).
 * Checked for PTHREAD_MUTEX_INITIALIZER, PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
 * and attr NORMAL (glibc stores that kind as 512, "normal, no elision"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t static_normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t static_adaptive = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

struct handoff {
	pthread_mutex_t *m;
	int lock, unlock_by_stranger;
	int64_t lock_done_ns, unlock_at_ns;
};

/* Blocks in lock until a stranger releases main's lock. */
static void *locker(void *arg)
{
	struct handoff *h = arg;

	h->lock = pthread_mutex_lock(h->m);
	h->lock_done_ns = mono_ns();
	return NULL;
}

/* Unlocks a mutex it never locked. */
static void *stranger(void *arg)
{
	struct handoff *h = arg;

	sleep_ms(50);
	h->unlock_at_ns = mono_ns();
	h->unlock_by_stranger = pthread_mutex_unlock(h->m);
	return NULL;
}

static void exercise(const char *name, pthread_mutex_t *m)
{
	struct handoff h = { .m = m };
	struct timespec dl;
	pthread_t a, b;
	int64_t t0;

	CHECK_ERR(pthread_mutex_trylock(m), 0, "%s: trylock", name);
	CHECK_ERR(pthread_mutex_trylock(m), EBUSY, "%s: owner trylocks again", name);
	dl = deadline_in(CLOCK_REALTIME, MS(50));
	t0 = mono_ns();
	CHECK_ERR(pthread_mutex_timedlock(m, &dl), ETIMEDOUT, "%s: owner timedlocks, 50 ms", name);
	CHECK(clock_ns(CLOCK_REALTIME) >= ts_ns(&dl), "%s: not before the deadline", name);
	CHECK(mono_ns() - t0 < MS(2000), "%s: and within 2 s", name);
	dl = deadline_in(CLOCK_MONOTONIC, MS(30));
	CHECK_ERR(pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &dl), ETIMEDOUT,
		  "%s: owner clocklocks on MONOTONIC, 30 ms", name);
	CHECK(clock_ns(CLOCK_MONOTONIC) >= ts_ns(&dl), "%s: not before the deadline", name);
	CHECK_ERR(pthread_mutex_destroy(m), EBUSY, "%s: destroy while locked", name);

	/* main holds it; the locker blocks; a stranger unlocks main's lock. */
	MUST(pthread_create(&a, NULL, locker, &h));
	MUST(pthread_create(&b, NULL, stranger, &h));
	MUST(pthread_join(b, NULL));
	MUST(pthread_join(a, NULL));
	CHECK_ERR(h.unlock_by_stranger, 0, "%s: a thread that never locked it unlocks", name);
	CHECK_ERR(h.lock, 0, "%s: the blocked locker then gets it", name);
	CHECK(h.lock_done_ns >= h.unlock_at_ns, "%s: only after the stranger's unlock", name);
	/* The locker ended holding it: main cannot get it, but can release it. */
	CHECK_ERR(pthread_mutex_trylock(m), EBUSY, "%s: still held by the ended locker", name);
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: main unlocks the locker's lock", name);
	CHECK_ERR(pthread_mutex_trylock(m), 0, "%s: trylock", name);
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: unlock", name);
	CHECK_ERR(pthread_mutex_lock(m), 0, "%s: lock", name);
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: unlock", name);
	/* Last, because it leaves glibc's user count (__nusers) one too low,
	 * after which destroy no longer sees a locked mutex as busy. */
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: unlock while unlocked", name);
	CHECK_ERR(pthread_mutex_trylock(m), 0, "%s: trylock afterwards", name);
	CHECK_ERR(pthread_mutex_trylock(m), EBUSY, "%s: and again", name);
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: unlock", name);
}

int main(void)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t made;

	alarm(20);
	MUST(pthread_mutexattr_init(&attr));
	MUST(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL));
	MUST(pthread_mutex_init(&made, &attr));
	MUST(pthread_mutexattr_destroy(&attr));

	exercise("PTHREAD_MUTEX_INITIALIZER", &static_normal);
	exercise("PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP", &static_adaptive);
	exercise("attr NORMAL", &made);
	return check_done();
}
