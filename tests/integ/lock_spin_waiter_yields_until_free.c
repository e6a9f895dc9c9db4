/* Hazard: pthread_spin_lock busy-waits in glibc.  On one OS thread a green
 * thread spinning on a lock held by another green thread would spin forever
 * (the holder never runs again), so a green thread that finds the lock held
 * must yield until it is free.  Checked with:
 *   a holder that sleeps 80 ms holding the lock while another thread calls
 *     pthread_spin_lock: it gets the lock only after the holder's unlock;
 *   trylock on a held lock -> EBUSY, from the owner and from another thread;
 *     trylock on a free one -> 0;
 *   3 threads x 100 increments with a yield (and every 25th time a 1 ms
 *     sleep) inside the critical section: the count is exact;
 *   init with PTHREAD_PROCESS_SHARED works the same. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

static pthread_spinlock_t sl;

static atomic_int holding;
static int64_t holder_unlocked_at, waiter_locked_at;
static int other_trylock;

static void *hold_80ms(void *arg)
{
	(void)arg;
	MUST(pthread_spin_lock(&sl));
	atomic_store(&holding, 1);
	sleep_ms(80);
	holder_unlocked_at = mono_ns();
	MUST(pthread_spin_unlock(&sl));
	return NULL;
}

static void *spin_for_it(void *arg)
{
	(void)arg;
	other_trylock = pthread_spin_trylock(&sl);
	MUST(pthread_spin_lock(&sl));
	waiter_locked_at = mono_ns();
	MUST(pthread_spin_unlock(&sl));
	return NULL;
}

#define WORKERS 3
#define ROUNDS 100

static long counter;
static atomic_int inside, overlap;

static void *increment(void *arg)
{
	pthread_spinlock_t *l = arg;

	for (int i = 0; i < ROUNDS; i++) {
		pthread_spin_lock(l);
		if (atomic_fetch_add(&inside, 1) != 0)
			atomic_fetch_add(&overlap, 1);
		long v = counter;
		if (i % 25 == 0)
			sleep_ms(1);
		else
			sched_yield();
		counter = v + 1;
		atomic_fetch_sub(&inside, 1);
		pthread_spin_unlock(l);
	}
	return NULL;
}

static void contend(const char *name, pthread_spinlock_t *l)
{
	pthread_t t[WORKERS];

	counter = 0;
	for (int i = 0; i < WORKERS; i++)
		MUST(pthread_create(&t[i], NULL, increment, (void *)l));
	for (int i = 0; i < WORKERS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(counter == WORKERS * ROUNDS, "%s: %ld increments", name, counter);
	CHECK(atomic_load(&overlap) == 0, "%s: never two threads inside", name);
}

int main(void)
{
	pthread_spinlock_t shared;
	pthread_t h, w;

	alarm(20);
	CHECK_ERR(pthread_spin_init(&sl, PTHREAD_PROCESS_PRIVATE), 0, "spin_init private");
	CHECK_ERR(pthread_spin_trylock(&sl), 0, "trylock a free lock");
	CHECK_ERR(pthread_spin_trylock(&sl), EBUSY, "owner trylocks again");
	CHECK_ERR(pthread_spin_unlock(&sl), 0, "unlock");

	MUST(pthread_create(&h, NULL, hold_80ms, NULL));
	while (!atomic_load(&holding))
		sleep_ms(1);
	MUST(pthread_create(&w, NULL, spin_for_it, NULL));
	MUST(pthread_join(w, NULL));
	MUST(pthread_join(h, NULL));
	CHECK_ERR(other_trylock, EBUSY, "another thread trylocks the held lock");
	CHECK(waiter_locked_at >= holder_unlocked_at, "the spinning thread got it after the unlock");

	contend("private", &sl);
	CHECK_ERR(pthread_spin_destroy(&sl), 0, "spin_destroy");

	CHECK_ERR(pthread_spin_init(&shared, PTHREAD_PROCESS_SHARED), 0, "spin_init shared");
	contend("shared", &shared);
	CHECK_ERR(pthread_spin_trylock(&shared), 0, "free at the end");
	CHECK_ERR(pthread_spin_unlock(&shared), 0, "unlock");
	CHECK_ERR(pthread_spin_destroy(&shared), 0, "spin_destroy");
	return check_done();
}
