/* Hazard: an errorcheck mutex must know its owner per thread.  Under the
 * preload every green thread has the same kernel tid, so an owner check that
 * compares glibc's tid would hand EDEADLK to a different thread, or EPERM to
 * the owner.  glibc 2.36 answers, for the static
 * PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP and for one made with an attribute:
 *   owner relocks: lock, timedlock, clocklock -> EDEADLK, even with a bad
 *     tv_nsec (the owner check comes before the deadline check) but not with
 *     a bad clock (clocklock checks the clock first: EINVAL); trylock -> EBUSY
 *   another thread: trylock -> EBUSY, timedlock/clocklock -> ETIMEDOUT,
 *     unlock -> EPERM
 *   unlock of an unlocked one -> EPERM; destroy of a locked one -> EBUSY
 *   a thread blocked in lock gets it when the owner unlocks, and then owns it
 *     (its unlock works, main's fails). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t static_ec = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;

/* What a second thread saw while main owned the mutex. */
struct other_view {
	pthread_mutex_t *m;
	int trylock, timedlock, clocklock_mono, clocklock_real, unlock;
	int64_t timed_waited_ns; /* how long the timedlock waited */
};

static void *poke_from_other_thread(void *arg)
{
	struct other_view *v = arg;
	struct timespec real = deadline_in(CLOCK_REALTIME, MS(50));
	int64_t t0 = mono_ns();

	v->trylock = pthread_mutex_trylock(v->m);
	v->timedlock = pthread_mutex_timedlock(v->m, &real);
	v->timed_waited_ns = mono_ns() - t0;
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(20));
	v->clocklock_mono = pthread_mutex_clocklock(v->m, CLOCK_MONOTONIC, &mono);
	real = deadline_in(CLOCK_REALTIME, MS(20));
	v->clocklock_real = pthread_mutex_clocklock(v->m, CLOCK_REALTIME, &real);
	v->unlock = pthread_mutex_unlock(v->m);
	return NULL;
}

/* Blocks in lock until main unlocks, then holds the mutex until told. */
struct waiter {
	pthread_mutex_t *m;
	int lock, unlock;
	atomic_int got_it, may_unlock;
};

static void *wait_for_mutex(void *arg)
{
	struct waiter *w = arg;

	w->lock = pthread_mutex_lock(w->m);
	atomic_store(&w->got_it, 1);
	while (!atomic_load(&w->may_unlock))
		sleep_ms(1);
	w->unlock = pthread_mutex_unlock(w->m);
	return NULL;
}

static void exercise(const char *name, pthread_mutex_t *m)
{
	struct timespec bad_nsec = { 0, 1000000000 };
	struct timespec real = deadline_in(CLOCK_REALTIME, MS(2000));
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(2000));
	struct other_view v = { .m = m };
	struct waiter w = { .m = m };
	pthread_t t;
	int64_t t0;

	CHECK_ERR(pthread_mutex_unlock(m), EPERM, "%s: unlock while unlocked", name);
	CHECK_ERR(pthread_mutex_lock(m), 0, "%s: lock", name);
	t0 = mono_ns();
	CHECK_ERR(pthread_mutex_lock(m), EDEADLK, "%s: owner locks again", name);
	CHECK_ERR(pthread_mutex_trylock(m), EBUSY, "%s: owner trylocks", name);
	CHECK_ERR(pthread_mutex_timedlock(m, &real), EDEADLK, "%s: owner timedlocks", name);
	CHECK_ERR(pthread_mutex_timedlock(m, &bad_nsec), EDEADLK,
		  "%s: owner timedlocks with tv_nsec 1e9", name);
	CHECK_ERR(pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &mono), EDEADLK,
		  "%s: owner clocklocks on MONOTONIC", name);
	CHECK_ERR(pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &bad_nsec), EDEADLK,
		  "%s: owner clocklocks with tv_nsec 1e9", name);
	CHECK_ERR(pthread_mutex_clocklock(m, CLOCK_PROCESS_CPUTIME_ID, &mono), EINVAL,
		  "%s: owner clocklocks on a bad clock", name);
	CHECK(mono_ns() - t0 < MS(1000), "%s: the owner's relocks returned at once", name);
	CHECK_ERR(pthread_mutex_destroy(m), EBUSY, "%s: destroy while locked", name);

	MUST(pthread_create(&t, NULL, poke_from_other_thread, &v));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(v.trylock, EBUSY, "%s: other thread trylocks", name);
	CHECK_ERR(v.timedlock, ETIMEDOUT, "%s: other thread timedlocks, 50 ms", name);
	CHECK(v.timed_waited_ns >= MS(50), "%s: it waited >= 50 ms", name);
	CHECK(v.timed_waited_ns < MS(2000), "%s: and < 2 s", name);
	CHECK_ERR(v.clocklock_mono, ETIMEDOUT, "%s: other thread clocklocks on MONOTONIC", name);
	CHECK_ERR(v.clocklock_real, ETIMEDOUT, "%s: other thread clocklocks on REALTIME", name);
	CHECK_ERR(v.unlock, EPERM, "%s: other thread unlocks", name);

	/* Hand-off: the waiter becomes the owner. */
	MUST(pthread_create(&t, NULL, wait_for_mutex, &w));
	sleep_ms(30);
	CHECK(!atomic_load(&w.got_it), "%s: the waiter is still blocked while main owns it", name);
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: owner unlocks", name);
	t0 = mono_ns();
	while (!atomic_load(&w.got_it) && mono_ns() - t0 < MS(2000))
		sleep_ms(1);
	CHECK(atomic_load(&w.got_it), "%s: the waiter got the mutex", name);
	CHECK_ERR(pthread_mutex_unlock(m), EPERM, "%s: main unlocks the waiter's mutex", name);
	CHECK_ERR(pthread_mutex_trylock(m), EBUSY, "%s: main trylocks the waiter's mutex", name);
	atomic_store(&w.may_unlock, 1);
	MUST(pthread_join(t, NULL));
	CHECK_ERR(w.lock, 0, "%s: the waiter's lock", name);
	CHECK_ERR(w.unlock, 0, "%s: the waiter's unlock", name);
	CHECK_ERR(pthread_mutex_unlock(m), EPERM, "%s: unlock after the waiter released", name);
	CHECK_ERR(pthread_mutex_trylock(m), 0, "%s: trylock once free", name);
	CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: unlock", name);
}

int main(void)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t made;

	alarm(20);
	MUST(pthread_mutexattr_init(&attr));
	MUST(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK));
	MUST(pthread_mutex_init(&made, &attr));
	MUST(pthread_mutexattr_destroy(&attr));

	exercise("static initializer", &static_ec);
	exercise("attr ERRORCHECK", &made);
	CHECK_ERR(pthread_mutex_destroy(&made), 0, "destroy when unlocked");
	return check_done();
}
