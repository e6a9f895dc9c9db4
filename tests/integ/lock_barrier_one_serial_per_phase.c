/* Hazard: a barrier must hold every thread until the last one arrives,
 * and must return PTHREAD_BARRIER_SERIAL_THREAD to exactly one thread per
 * round (0 to the others), round after round, without a fast thread
 * slipping into the next round early.  6 threads run 40 phases with two
 * waits each: before the first wait a thread writes its phase into its slot,
 * after it every thread must see every slot at this phase; the second wait
 * keeps anyone from writing the next phase while others still read.  A
 * thread sleeps 1 ms at its turn in some phases, so the others really wait.
 * Also glibc 2.36's answers: init with count 0 or >= INT_MAX -> EINVAL
 * (INT_MAX - 1 is fine); barrierattr_setpshared 2 -> EINVAL; a barrier of
 * count 1 returns SERIAL to every wait; destroy then init again reuses it. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define THREADS 6
#define PHASES 40

static pthread_barrier_t bar;
static atomic_int slot[THREADS];
static atomic_int serial[PHASES][2];
static atomic_int other_value; /* a wait returned neither 0 nor SERIAL */
static atomic_int stale;       /* a slot was not at this phase after the wait */

static void count_result(int rc, int phase, int which)
{
	if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
		atomic_fetch_add(&serial[phase][which], 1);
	else if (rc != 0)
		atomic_fetch_add(&other_value, 1);
}

static void *phases(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int p = 0; p < PHASES; p++) {
		if (p % THREADS == me)
			sleep_ms(1);
		atomic_store(&slot[me], p);
		count_result(pthread_barrier_wait(&bar), p, 0);
		for (int i = 0; i < THREADS; i++)
			if (atomic_load(&slot[i]) != p)
				atomic_fetch_add(&stale, 1);
		count_result(pthread_barrier_wait(&bar), p, 1);
	}
	return NULL;
}

int main(void)
{
	pthread_barrierattr_t ba;
	pthread_barrier_t one;
	pthread_t t[THREADS];
	int serial_ok = 1;

	alarm(20);
	CHECK_ERR(pthread_barrier_init(&one, NULL, 0), EINVAL, "barrier_init count 0");
	CHECK_ERR(pthread_barrier_init(&one, NULL, INT_MAX), EINVAL, "barrier_init count INT_MAX");
	CHECK_ERR(pthread_barrier_init(&one, NULL, UINT_MAX), EINVAL, "barrier_init count UINT_MAX");
	CHECK_ERR(pthread_barrier_init(&one, NULL, INT_MAX - 1), 0, "barrier_init count INT_MAX - 1");
	MUST(pthread_barrier_destroy(&one));
	MUST(pthread_barrierattr_init(&ba));
	CHECK_ERR(pthread_barrierattr_setpshared(&ba, 2), EINVAL, "barrierattr_setpshared 2");
	CHECK_ERR(pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED), 0,
		  "barrierattr_setpshared SHARED");
	CHECK_ERR(pthread_barrier_init(&one, &ba, 1), 0, "barrier_init count 1, shared");
	MUST(pthread_barrierattr_destroy(&ba));
	CHECK(pthread_barrier_wait(&one) == PTHREAD_BARRIER_SERIAL_THREAD &&
		      pthread_barrier_wait(&one) == PTHREAD_BARRIER_SERIAL_THREAD,
	      "count 1: every wait is the serial thread");
	CHECK_ERR(pthread_barrier_destroy(&one), 0, "barrier_destroy");

	for (int round = 0; round < 2; round++) {
		CHECK_ERR(pthread_barrier_init(&bar, NULL, THREADS), 0, "round %d: barrier_init %d",
			  round, THREADS);
		memset(serial, 0, sizeof serial);
		for (int i = 0; i < THREADS; i++)
			MUST(pthread_create(&t[i], NULL, phases, (void *)(intptr_t)i));
		for (int i = 0; i < THREADS; i++)
			MUST(pthread_join(t[i], NULL));
		for (int p = 0; p < PHASES; p++)
			serial_ok &= atomic_load(&serial[p][0]) == 1 && atomic_load(&serial[p][1]) == 1;
		CHECK(serial_ok, "round %d: exactly one SERIAL_THREAD per wait in all %d phases", round,
		      PHASES);
		CHECK(atomic_load(&other_value) == 0, "round %d: every other wait returned 0", round);
		CHECK(atomic_load(&stale) == 0, "round %d: nobody passed before all arrived", round);
		CHECK_ERR(pthread_barrier_destroy(&bar), 0, "round %d: barrier_destroy", round);
	}
	return check_done();
}
