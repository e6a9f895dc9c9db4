/*
 * contended: N threads (default 1,000) each take one mutex K times (default
 * 100) and add to a shared counter.
 *
 *   contended plain [threads] [k]   lock; counter++; unlock
 *   contended yield [threads] [k]   lock; counter++; sched_yield(); unlock
 *   contended tls [threads] [k]     the same, and the thread writes errno (its
 *                                   own TLS) after every switch
 *
 * "yield" holds the mutex across a reschedule, so every other thread piles
 * up on it: the worst case for a lock. The threads are created first and
 * wait at a gate, so thread creation is not timed. Prints ns per lock/unlock
 * pair (wall time from opening the gate to the last join / (threads * k))
 * and checks the counter.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static long nthreads = 1000, k = 100;
static int yield_inside, touch_tls;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&gate_mu);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	for (long i = 0; i < k; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		if (yield_inside)
			sched_yield();
		if (touch_tls)
			errno = (int)i;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t *t;
	double t0, t1;
	long created = 0;

	if (argc < 2 || argc > 4 ||
	    (strcmp(argv[1], "plain") && strcmp(argv[1], "yield") && strcmp(argv[1], "tls")) ||
	    (argc > 2 && bench_parse_count(argv[2], 1, 1000000L, &nthreads) != 0) ||
	    (argc > 3 && bench_parse_count(argv[3], 1, 100000000L, &k) != 0)) {
		fprintf(stderr, "usage: contended plain|yield|tls [threads=1000] [k=100]\n");
		return 2;
	}
	touch_tls = !strcmp(argv[1], "tls");
	yield_inside = touch_tls || !strcmp(argv[1], "yield");
	t = calloc((size_t)nthreads, sizeof(*t));
	if (!t)
		return 1;
	for (; created < nthreads; created++)
		if (pthread_create(&t[created], NULL, worker, NULL) != 0)
			break;
	pthread_mutex_lock(&gate_mu);
	t0 = bench_now_ms(CLOCK_MONOTONIC);
	gate_open = 1;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
	for (long i = 0; i < created; i++)
		pthread_join(t[i], NULL);
	t1 = bench_now_ms(CLOCK_MONOTONIC);
	printf("contended %s threads=%ld k=%ld ns_per_lock=%.1f counter=%s\n", argv[1], created, k,
	       (t1 - t0) * 1e6 / (double)(created * k), counter == created * k ? "ok" : "WRONG");
	return counter == created * k ? 0 : 1;
}
