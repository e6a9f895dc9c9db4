/* Hazard: a recursive mutex must count its owner's locks and stay held until
 * the count drops to zero, with the owner known per thread (under the preload
 * all green threads share one kernel tid, which glibc uses as the owner).
 * glibc 2.36, for PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP (which sets only the
 * kind field) and for one made with an attribute:
 *   the owner's lock, trylock, timedlock and clocklock all succeed and count,
 *     even with tv_nsec 1e9 (no deadline is looked at when the owner
 *     relocks), but clocklock with a bad clock is EINVAL;
 *   another thread: trylock EBUSY, timedlock ETIMEDOUT, unlock EPERM, until
 *     the owner's last unlock;
 *   one unlock too many -> EPERM; destroy while locked -> EBUSY;
 *   the count overflows after UINT_MAX (2^32 - 1) locks: the next lock,
 *     trylock or timedlock is EAGAIN.  That takes 5.4 s natively (longer
 *     under the preload), so it only runs with INTEG_SLOW=1.
 * Then 4 threads each take the mutex 3 deep, with sched_yield inside, 300
 * times: the count is the total. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t static_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* What another thread sees, probed in a fresh thread each time. */
struct probe {
	pthread_mutex_t *m;
	int trylock, timedlock, unlock;
	int unlock_again; /* when the trylock got it: the second unlock */
};

static void *probe_other(void *arg)
{
	struct probe *p = arg;
	struct timespec dl = deadline_in(CLOCK_REALTIME, MS(20));

	p->trylock = pthread_mutex_trylock(p->m);
	if (p->trylock == 0) {
		p->unlock = pthread_mutex_unlock(p->m);
		p->unlock_again = pthread_mutex_unlock(p->m);
		return NULL;
	}
	p->timedlock = pthread_mutex_timedlock(p->m, &dl);
	p->unlock = pthread_mutex_unlock(p->m);
	return NULL;
}

static struct probe probe(pthread_mutex_t *m)
{
	struct probe p = { .m = m };
	pthread_t t;

	MUST(pthread_create(&t, NULL, probe_other, &p));
	MUST(pthread_join(t, NULL));
	return p;
}

static void exercise(const char *name, pthread_mutex_t *m)
{
	struct timespec bad_nsec = { 0, 1000000000 };
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(1000));
	struct probe p;

	CHECK_ERR(pthread_mutex_unlock(m), EPERM, "%s: unlock while unlocked", name);
	CHECK_ERR(pthread_mutex_lock(m), 0, "%s: lock (count 1)", name);
	CHECK_ERR(pthread_mutex_lock(m), 0, "%s: lock again (count 2)", name);
	CHECK_ERR(pthread_mutex_trylock(m), 0, "%s: trylock by the owner (count 3)", name);
	CHECK_ERR(pthread_mutex_timedlock(m, &bad_nsec), 0,
		  "%s: timedlock by the owner with tv_nsec 1e9 (count 4)", name);
	CHECK_ERR(pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &mono), 0,
		  "%s: clocklock by the owner (count 5)", name);
	CHECK_ERR(pthread_mutex_clocklock(m, (clockid_t)12345, &mono), EINVAL,
		  "%s: clocklock on a bad clock (count stays 5)", name);
	CHECK_ERR(pthread_mutex_destroy(m), EBUSY, "%s: destroy while locked", name);

	for (int held = 5; held > 0; held--) {
		p = probe(m);
		CHECK_ERR(p.trylock, EBUSY, "%s: count %d, other thread trylocks", name, held);
		CHECK_ERR(p.timedlock, ETIMEDOUT, "%s: count %d, other thread timedlocks", name,
			  held);
		CHECK_ERR(p.unlock, EPERM, "%s: count %d, other thread unlocks", name, held);
		CHECK_ERR(pthread_mutex_unlock(m), 0, "%s: owner unlocks (count %d)", name,
			  held - 1);
	}
	p = probe(m);
	CHECK_ERR(p.trylock, 0, "%s: count 0, other thread trylocks", name);
	CHECK_ERR(p.unlock, 0, "%s: and unlocks", name);
	CHECK_ERR(p.unlock_again, EPERM, "%s: and one unlock too many", name);
	CHECK_ERR(pthread_mutex_unlock(m), EPERM, "%s: owner's unlock too many", name);
}

/* 2^32 - 1 locks, then EAGAIN from every way of locking. */
static void overflow(void)
{
	pthread_mutex_t m = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	struct timespec dl = deadline_in(CLOCK_REALTIME, MS(1000));
	unsigned long n = 0;
	int rc;

	while ((rc = pthread_mutex_lock(&m)) == 0)
		n++;
	CHECK_ERR(rc, EAGAIN, "lock number 2^32");
	CHECK(n == 4294967295UL, "after exactly 2^32 - 1 locks");
	CHECK_ERR(pthread_mutex_trylock(&m), EAGAIN, "trylock at the limit");
	CHECK_ERR(pthread_mutex_timedlock(&m, &dl), EAGAIN, "timedlock at the limit");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock at the limit");
	CHECK_ERR(pthread_mutex_lock(&m), 0, "lock again below the limit");
}

#define WORKERS 4
#define ROUNDS 300

static pthread_mutex_t shared = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static long counter;
static atomic_int inside, overlap;

static void *nest_three_deep(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&shared);
		pthread_mutex_lock(&shared);
		if (atomic_fetch_add(&inside, 1) != 0)
			atomic_fetch_add(&overlap, 1);
		pthread_mutex_lock(&shared);
		long v = counter;
		sched_yield();
		counter = v + 1;
		pthread_mutex_unlock(&shared);
		sched_yield();
		atomic_fetch_sub(&inside, 1);
		pthread_mutex_unlock(&shared);
		pthread_mutex_unlock(&shared);
	}
	return NULL;
}

int main(void)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t made;
	pthread_t t[WORKERS];
	const char *slow = getenv("INTEG_SLOW");

	alarm(slow != NULL && strcmp(slow, "1") == 0 ? 120 : 20);
	MUST(pthread_mutexattr_init(&attr));
	MUST(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE));
	MUST(pthread_mutex_init(&made, &attr));
	MUST(pthread_mutexattr_destroy(&attr));

	exercise("static initializer", &static_rec);
	exercise("attr RECURSIVE", &made);
	CHECK_ERR(pthread_mutex_destroy(&made), 0, "destroy when unlocked");

	for (int i = 0; i < WORKERS; i++)
		MUST(pthread_create(&t[i], NULL, nest_three_deep, NULL));
	for (int i = 0; i < WORKERS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(counter == WORKERS * ROUNDS, "nested increments: %ld", counter);
	CHECK(atomic_load(&overlap) == 0, "never two threads inside");

	if (slow != NULL && strcmp(slow, "1") == 0)
		overflow();
	else
		fprintf(stderr, "recursion overflow (2^32 locks) skipped: set INTEG_SLOW=1\n");
	return check_done();
}
