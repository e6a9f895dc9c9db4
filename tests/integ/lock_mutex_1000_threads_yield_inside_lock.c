/* Hazard: heavy contention on one mutex.  1000 threads each take it 100
 * times and yield while holding it, so nearly every lock finds it held and
 * must park (a green lock that spun or blocked the OS thread would hang, one
 * that let two in would lose increments: the increment is a read, a yield,
 * then a write).  All threads are released together by a condition broadcast
 * so they really overlap.  The total must be exactly 100000. */
/* run-alone: natively, its 1,000 OS threads yielding inside the lock take half its alarm under qemu */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

#define THREADS 1000
#define ROUNDS 100

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_int inside, overlap;

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&start_mu);
	while (!go)
		pthread_cond_wait(&start_cv, &start_mu);
	pthread_mutex_unlock(&start_mu);

	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		if (atomic_fetch_add(&inside, 1) != 0)
			atomic_fetch_add(&overlap, 1);
		long v = counter;
		sched_yield();
		counter = v + 1;
		atomic_fetch_sub(&inside, 1);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(void)
{
	static pthread_t t[THREADS];
	pthread_attr_t attr;
	int created = 0;

	alarm(20);
	MUST(pthread_attr_init(&attr));
	/* 64 KiB, or the platform's minimum where that is more (aarch64: 128 KiB). */
	MUST(pthread_attr_setstacksize(&attr, 64 * 1024 < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN
								       : 64 * 1024));
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], &attr, worker, NULL) == 0)
			created++;
	MUST(pthread_attr_destroy(&attr));
	CHECK(created == THREADS, "created %d threads", THREADS);

	pthread_mutex_lock(&start_mu);
	go = 1;
	pthread_cond_broadcast(&start_cv);
	pthread_mutex_unlock(&start_mu);

	for (int i = 0; i < created; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(counter == (long)THREADS * ROUNDS, "counter is %ld", counter);
	CHECK(atomic_load(&overlap) == 0, "never two threads inside");
	CHECK_ERR(pthread_mutex_trylock(&lock), 0, "the mutex is free at the end");
	return check_done();
}
