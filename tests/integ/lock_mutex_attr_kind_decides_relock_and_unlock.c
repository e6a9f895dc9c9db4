/* Hazard: the kind that pthread_mutex_init copies from the attribute into
 * the mutex (glibc's __kind field, which also carries flag bits: 512 "no
 * elision" for an explicitly NORMAL type, 128 process-shared, 16 robust) must
 * decide how relocking and unlocking behave, for every combination, and the
 * attribute calls must keep libc's answers:
 *   settype 0..3 -> 0, gettype returns it (default 0); settype 4 or -1 ->
 *     EINVAL; setrobust 2, setpshared 2, setprotocol 3 -> EINVAL; getters
 *     return what was set (default STALLED, PRIVATE, PRIO_NONE);
 *   owner's trylock: NORMAL EBUSY, RECURSIVE 0, ERRORCHECK EBUSY, ADAPTIVE
 *     EBUSY; owner's 20 ms timedlock: ETIMEDOUT, 0, EDEADLK, ETIMEDOUT;
 *   unlock of an unlocked mutex: 0, EPERM, EPERM, 0;
 *   each kind, private or process-shared, excludes 3 threads that yield
 *     inside the critical section. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

static const char *const type_name[] = { "NORMAL", "RECURSIVE", "ERRORCHECK", "ADAPTIVE" };
static const int want_trylock[] = { EBUSY, 0, EBUSY, EBUSY };
static const int want_timedlock[] = { ETIMEDOUT, 0, EDEADLK, ETIMEDOUT };
static const int want_extra_unlock[] = { 0, EPERM, EPERM, 0 };

#define WORKERS 3
#define ROUNDS 200

struct shared {
	pthread_mutex_t m;
	long counter;
	atomic_int inside, overlap;
};

static void *increment(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&s->m);
		if (atomic_fetch_add(&s->inside, 1) != 0)
			atomic_fetch_add(&s->overlap, 1);
		long v = s->counter;
		sched_yield();
		s->counter = v + 1;
		atomic_fetch_sub(&s->inside, 1);
		pthread_mutex_unlock(&s->m);
	}
	return NULL;
}

static void attr_calls(void)
{
	pthread_mutexattr_t a;
	int v = -1;

	MUST(pthread_mutexattr_init(&a));
	CHECK(pthread_mutexattr_gettype(&a, &v) == 0 && v == PTHREAD_MUTEX_DEFAULT,
	      "default type is PTHREAD_MUTEX_DEFAULT");
	CHECK(pthread_mutexattr_getrobust(&a, &v) == 0 && v == PTHREAD_MUTEX_STALLED,
	      "default robust is STALLED");
	CHECK(pthread_mutexattr_getpshared(&a, &v) == 0 && v == PTHREAD_PROCESS_PRIVATE,
	      "default pshared is PRIVATE");
	CHECK(pthread_mutexattr_getprotocol(&a, &v) == 0 && v == PTHREAD_PRIO_NONE,
	      "default protocol is PRIO_NONE");
	for (int type = 0; type < 4; type++) {
		CHECK_ERR(pthread_mutexattr_settype(&a, type), 0, "settype %s", type_name[type]);
		CHECK(pthread_mutexattr_gettype(&a, &v) == 0 && v == type, "gettype gives %s",
		      type_name[type]);
	}
	CHECK_ERR(pthread_mutexattr_settype(&a, 4), EINVAL, "settype 4");
	CHECK_ERR(pthread_mutexattr_settype(&a, -1), EINVAL, "settype -1");
	CHECK(pthread_mutexattr_gettype(&a, &v) == 0 && v == 3, "a bad settype changed nothing");
	CHECK_ERR(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0, "setrobust ROBUST");
	CHECK(pthread_mutexattr_getrobust(&a, &v) == 0 && v == PTHREAD_MUTEX_ROBUST,
	      "getrobust gives ROBUST");
	CHECK_ERR(pthread_mutexattr_setrobust(&a, 2), EINVAL, "setrobust 2");
	CHECK_ERR(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0, "setpshared SHARED");
	CHECK(pthread_mutexattr_getpshared(&a, &v) == 0 && v == PTHREAD_PROCESS_SHARED,
	      "getpshared gives SHARED");
	CHECK_ERR(pthread_mutexattr_setpshared(&a, 2), EINVAL, "setpshared 2");
	CHECK_ERR(pthread_mutexattr_setprotocol(&a, 3), EINVAL, "setprotocol 3");
	CHECK_ERR(pthread_mutexattr_destroy(&a), 0, "mutexattr_destroy");
}

static void kind(int type, int pshared)
{
	const char *name = type_name[type];
	const char *sh = pshared ? "shared" : "private";
	pthread_mutexattr_t a;
	struct shared s = { .counter = 0 };
	pthread_t t[WORKERS];
	struct timespec dl;

	MUST(pthread_mutexattr_init(&a));
	MUST(pthread_mutexattr_settype(&a, type));
	MUST(pthread_mutexattr_setpshared(&a, pshared ? PTHREAD_PROCESS_SHARED
						      : PTHREAD_PROCESS_PRIVATE));
	CHECK_ERR(pthread_mutex_init(&s.m, &a), 0, "%s %s: init", name, sh);
	MUST(pthread_mutexattr_destroy(&a));

	CHECK_ERR(pthread_mutex_lock(&s.m), 0, "%s %s: lock", name, sh);
	CHECK_ERR(pthread_mutex_trylock(&s.m), want_trylock[type], "%s %s: owner trylocks", name, sh);
	dl = deadline_in(CLOCK_REALTIME, MS(20));
	CHECK_ERR(pthread_mutex_timedlock(&s.m, &dl), want_timedlock[type],
		  "%s %s: owner timedlocks, 20 ms", name, sh);
	/* Balance the recursive kind's two extra locks. */
	if (type == PTHREAD_MUTEX_RECURSIVE) {
		MUST(pthread_mutex_unlock(&s.m));
		MUST(pthread_mutex_unlock(&s.m));
	}
	CHECK_ERR(pthread_mutex_unlock(&s.m), 0, "%s %s: unlock", name, sh);

	for (int i = 0; i < WORKERS; i++)
		MUST(pthread_create(&t[i], NULL, increment, &s));
	for (int i = 0; i < WORKERS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(s.counter == WORKERS * ROUNDS && atomic_load(&s.overlap) == 0,
	      "%s %s: %ld increments, never two threads inside", name, sh, s.counter);

	CHECK_ERR(pthread_mutex_unlock(&s.m), want_extra_unlock[type], "%s %s: unlock while unlocked",
		  name, sh);
	CHECK_ERR(pthread_mutex_trylock(&s.m), 0, "%s %s: trylock afterwards", name, sh);
	CHECK_ERR(pthread_mutex_unlock(&s.m), 0, "%s %s: unlock", name, sh);
}

int main(void)
{
	alarm(20);
	attr_calls();
	for (int type = 0; type < 4; type++) {
		kind(type, 0);
		kind(type, 1);
	}
	return check_done();
}
