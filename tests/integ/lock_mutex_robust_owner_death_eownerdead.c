/* Hazard: a robust mutex whose owner thread ends while holding it must be
 * handed to the next locker with EOWNERDEAD.  Natively the kernel does this
 * from the thread's robust list when the OS thread exits; a green thread's
 * end is no OS thread exit, so the runtime must do it.  glibc 2.36:
 *   the next lock / trylock / timedlock returns EOWNERDEAD and the caller
 *     owns the mutex; a thread already blocked in lock gets EOWNERDEAD too;
 *     the owner ending by return or by pthread_exit are the same;
 *   pthread_mutex_consistent -> 0, then unlock/lock work normally;
 *     consistent again (or on a non-robust mutex) -> EINVAL;
 *   unlock without consistent -> 0, and from then on lock and trylock
 *     return ENOTRECOVERABLE;
 *   a robust recursive mutex held 3 deep by the dead owner is handed over
 *     with count 1: one unlock frees it;
 *   unlike the non-robust normal kind, a robust normal mutex checks the
 *     owner: unlock by a non-owner or of an unlocked mutex -> EPERM;
 *   a robust errorcheck mutex relocked by its owner -> EDEADLK. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static void robust_init(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t attr;

	MUST(pthread_mutexattr_init(&attr));
	MUST(pthread_mutexattr_settype(&attr, type));
	MUST(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST));
	MUST(pthread_mutex_init(m, &attr));
	MUST(pthread_mutexattr_destroy(&attr));
}

struct dier {
	pthread_mutex_t *m;
	int depth;        /* how many times to lock */
	int use_exit;     /* end by pthread_exit instead of return */
	int64_t linger_ms; /* hold it this long before ending */
	int rc;           /* result of the last lock */
	atomic_int holding;
};

static void *lock_and_die(void *arg)
{
	struct dier *d = arg;

	for (int i = 0; i < d->depth; i++)
		d->rc = pthread_mutex_lock(d->m);
	atomic_store(&d->holding, 1);
	sleep_ms(d->linger_ms);
	if (d->use_exit)
		pthread_exit(NULL);
	return NULL;
}

/* Runs a thread that locks m depth times and ends holding it. */
static void die_holding(pthread_mutex_t *m, int depth, int use_exit)
{
	struct dier d = { .m = m, .depth = depth, .use_exit = use_exit };
	pthread_t t;

	MUST(pthread_create(&t, NULL, lock_and_die, &d));
	MUST(pthread_join(t, NULL));
	MUST(d.rc);
}

struct blocked {
	pthread_mutex_t *m;
	int lock, consistent, unlock;
	int64_t waited_ns;
};

static void *lock_while_owner_lives(void *arg)
{
	struct blocked *b = arg;
	int64_t t0 = mono_ns();

	b->lock = pthread_mutex_lock(b->m);
	b->waited_ns = mono_ns() - t0;
	if (b->lock == EOWNERDEAD)
		b->consistent = pthread_mutex_consistent(b->m);
	b->unlock = pthread_mutex_unlock(b->m);
	return NULL;
}

static int unlock_result;

static void *unlock_not_mine(void *arg)
{
	unlock_result = pthread_mutex_unlock(arg);
	return NULL;
}

int main(void)
{
	pthread_mutex_t m, plain = PTHREAD_MUTEX_INITIALIZER;
	struct timespec dl;
	pthread_t t;

	alarm(20);

	/* Owner returns holding it; trylock inherits it. */
	robust_init(&m, PTHREAD_MUTEX_NORMAL);
	die_holding(&m, 1, 0);
	CHECK_ERR(pthread_mutex_trylock(&m), EOWNERDEAD, "owner returned: trylock");
	CHECK_ERR(pthread_mutex_consistent(&m), 0, "consistent");
	CHECK_ERR(pthread_mutex_consistent(&m), EINVAL, "consistent again");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock");
	CHECK_ERR(pthread_mutex_lock(&m), 0, "lock works normally after consistent");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock");

	/* Owner calls pthread_exit holding it; lock inherits it; no consistent. */
	die_holding(&m, 1, 1);
	CHECK_ERR(pthread_mutex_lock(&m), EOWNERDEAD, "owner called pthread_exit: lock");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock without consistent");
	CHECK_ERR(pthread_mutex_lock(&m), ENOTRECOVERABLE, "lock after that");
	CHECK_ERR(pthread_mutex_trylock(&m), ENOTRECOVERABLE, "trylock after that");
	MUST(pthread_mutex_destroy(&m));

	/* timedlock inherits it at once. */
	robust_init(&m, PTHREAD_MUTEX_NORMAL);
	die_holding(&m, 1, 0);
	dl = deadline_in(CLOCK_REALTIME, MS(5000));
	int64_t t0 = mono_ns();
	CHECK_ERR(pthread_mutex_timedlock(&m, &dl), EOWNERDEAD, "owner returned: timedlock");
	CHECK(mono_ns() - t0 < MS(2000), "timedlock returned at once");
	CHECK_ERR(pthread_mutex_consistent(&m), 0, "consistent");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock");

	/* A thread already blocked in lock when the owner ends. */
	{
		struct dier d = { .m = &m, .depth = 1, .linger_ms = 100 };
		struct blocked b = { .m = &m };
		pthread_t owner;

		MUST(pthread_create(&owner, NULL, lock_and_die, &d));
		while (!atomic_load(&d.holding))
			sleep_ms(1);
		MUST(pthread_create(&t, NULL, lock_while_owner_lives, &b));
		MUST(pthread_join(owner, NULL));
		MUST(pthread_join(t, NULL));
		CHECK_ERR(b.lock, EOWNERDEAD, "waiter blocked while the owner lived: lock");
		CHECK(b.waited_ns >= MS(20), "it waited for the owner to end");
		CHECK_ERR(b.consistent, 0, "waiter: consistent");
		CHECK_ERR(b.unlock, 0, "waiter: unlock");
		CHECK_ERR(pthread_mutex_trylock(&m), 0, "main: trylock afterwards");
		CHECK_ERR(pthread_mutex_unlock(&m), 0, "main: unlock");
	}

	/* Robust normal checks the owner. */
	CHECK_ERR(pthread_mutex_unlock(&m), EPERM, "robust normal: unlock while unlocked");
	CHECK_ERR(pthread_mutex_lock(&m), 0, "robust normal: lock");
	MUST(pthread_create(&t, NULL, unlock_not_mine, &m));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(unlock_result, EPERM, "robust normal: unlock by another thread");
	CHECK_ERR(pthread_mutex_trylock(&m), EBUSY, "robust normal: owner trylocks");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "robust normal: owner unlocks");
	MUST(pthread_mutex_destroy(&m));

	/* Robust recursive, held 3 deep by the dead owner. */
	robust_init(&m, PTHREAD_MUTEX_RECURSIVE);
	die_holding(&m, 3, 0);
	CHECK_ERR(pthread_mutex_lock(&m), EOWNERDEAD, "robust recursive, dead owner 3 deep: lock");
	CHECK_ERR(pthread_mutex_consistent(&m), 0, "consistent");
	CHECK_ERR(pthread_mutex_lock(&m), 0, "relock (count 2)");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock (count 1)");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock (count 0)");
	CHECK_ERR(pthread_mutex_unlock(&m), EPERM, "one unlock too many");
	CHECK_ERR(pthread_mutex_lock(&m), 0, "lock again");
	MUST(pthread_create(&t, NULL, unlock_not_mine, &m));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(unlock_result, EPERM, "robust recursive: unlock by another thread");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock");
	MUST(pthread_mutex_destroy(&m));

	/* Robust errorcheck. */
	robust_init(&m, PTHREAD_MUTEX_ERRORCHECK);
	die_holding(&m, 1, 1);
	CHECK_ERR(pthread_mutex_lock(&m), EOWNERDEAD, "robust errorcheck, dead owner: lock");
	CHECK_ERR(pthread_mutex_lock(&m), EDEADLK, "relock by the new owner");
	CHECK_ERR(pthread_mutex_consistent(&m), 0, "consistent");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "unlock");
	CHECK_ERR(pthread_mutex_unlock(&m), EPERM, "unlock while unlocked");
	MUST(pthread_mutex_destroy(&m));

	CHECK_ERR(pthread_mutex_consistent(&plain), EINVAL, "consistent on a non-robust mutex");
	return check_done();
}
