/*
 * switch — what one sched_yield() costs when two threads take turns.
 *
 *   switch [iters=1000000]
 *
 * Two threads each call sched_yield() iters times. Prints
 *   switch iters=N ns_per_yield=X.X os_threads=T
 * where ns_per_yield is process CPU time divided by the 2*iters calls, and
 * os_threads is how many distinct kernel threads the two threads ran on.
 *
 * CPU time rather than wall time, because the two cases differ in kind: with
 * two kernel threads on two idle cores each sched_yield() is a syscall that
 * returns at once, both running in parallel (os_threads=2: the figure is a
 * syscall). On one OS thread, as under greenify, each call switches to the
 * other thread (os_threads=1: the figure is one green switch plus the hook).
 * Wall time would halve the first and not the second; CPU time per call means
 * the same thing in both.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bench.h"

static long iters = 1000000;
static atomic_int arrived;  /* threads at the starting gate */
static atomic_int started;  /* the gate is open */
static atomic_int finished; /* threads done with their loop */
static double cpu0, cpu1;   /* process CPU time at gate and at last finish */
static pid_t tid[2];	    /* kernel thread of each player */

static void *player(void *arg)
{
	long i;

	tid[(long)arg] = gettid();
	/* Yield rather than spin at the gate: on one OS thread a spinning
	 * player would never let the other one arrive. */
	if (atomic_fetch_add(&arrived, 1) == 1) {
		cpu0 = bench_now_ms(CLOCK_PROCESS_CPUTIME_ID);
		atomic_store(&started, 1);
	} else {
		while (!atomic_load(&started))
			sched_yield();
	}
	for (i = 0; i < iters; i++)
		sched_yield();
	if (atomic_fetch_add(&finished, 1) == 1)
		cpu1 = bench_now_ms(CLOCK_PROCESS_CPUTIME_ID);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	long i;

	if (argc > 2 || (argc == 2 && bench_parse_count(argv[1], 1, 1000000000L, &iters) != 0)) {
		fprintf(stderr, "usage: switch [iters=1000000]\n");
		return 2;
	}
	for (i = 0; i < 2; i++) {
		int err = pthread_create(&t[i], NULL, player, (void *)i);

		if (err != 0) {
			char ebuf[16];

			printf("switch iters=%ld fail errno=%s\n", iters,
			       bench_errno_name(err, ebuf, sizeof ebuf));
			return 1;
		}
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("switch iters=%ld ns_per_yield=%.1f os_threads=%d\n", iters,
	       (cpu1 - cpu0) * 1e6 / (2.0 * (double)iters), tid[0] == tid[1] ? 1 : 2);
	return 0;
}
