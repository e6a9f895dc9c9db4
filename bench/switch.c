/*
 * switch — what one sched_yield() costs when two threads take turns.
 *
 *   switch [iters=1000000] [same|mixed]
 *
 * Two threads each call sched_yield() iters times. Prints
 *   switch iters=N ns_per_yield=X.X os_threads=T [fpflags=mixed]
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
 *
 * The players do no floating-point arithmetic: the clock is read into a
 * timespec and converted by main. A division in one player sets the sticky
 * inexact flag in that thread's MXCSR only, and a switch between threads
 * whose MXCSR differ reloads it (ldmxcsr); until 2026-11-25 the timing code
 * did that by accident and every figure included the reload. "mixed" does
 * it on purpose (player 1 sets the flag before its loop) to measure it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static long iters = 1000000;
static int mixed;			       /* player 1 sets the inexact flag first */
static atomic_int arrived;		       /* threads at the starting gate */
static atomic_int started;		       /* the gate is open */
static atomic_int finished;		       /* threads done with their loop */
static struct timespec cpu0, cpu1;	       /* process CPU time at gate and at last finish */
static pid_t tid[2];			       /* kernel thread of each player */
static volatile double fp_a = 1.0, fp_b = 3.0; /* 1/3 is inexact */

/* The kernel thread the caller runs on. Not gettid(): under greenify each
 * green thread has an id of its own; /proc/thread-self names the task. */
static pid_t kernel_tid(void)
{
	char link[64] = {0};
	const char *slash;

	if (readlink("/proc/thread-self", link, sizeof(link) - 1) <= 0)
		return -1;
	slash = strrchr(link, '/');
	return slash ? (pid_t)atoi(slash + 1) : -1;
}

static void *player(void *arg)
{
	long i;

	tid[(long)arg] = kernel_tid();
	if (mixed && (long)arg == 1)
		fp_a = fp_a / fp_b;
	/* Yield rather than spin at the gate: on one OS thread a spinning
	 * player would never let the other one arrive. */
	if (atomic_fetch_add(&arrived, 1) == 1) {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
		atomic_store(&started, 1);
	} else {
		while (!atomic_load(&started))
			sched_yield();
	}
	for (i = 0; i < iters; i++)
		sched_yield();
	if (atomic_fetch_add(&finished, 1) == 1)
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	double ns;
	long i;

	if (argc > 3 || (argc >= 2 && bench_parse_count(argv[1], 1, 1000000000L, &iters) != 0) ||
	    (argc == 3 && strcmp(argv[2], "same") != 0 && strcmp(argv[2], "mixed") != 0)) {
		fprintf(stderr, "usage: switch [iters=1000000] [same|mixed]\n");
		return 2;
	}
	mixed = argc == 3 && strcmp(argv[2], "mixed") == 0;
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
	ns = (double)(cpu1.tv_sec - cpu0.tv_sec) * 1e9 + (double)(cpu1.tv_nsec - cpu0.tv_nsec);
	printf("switch iters=%ld ns_per_yield=%.1f os_threads=%d%s\n", iters,
	       ns / (2.0 * (double)iters), tid[0] == tid[1] ? 1 : 2, mixed ? " fpflags=mixed" : "");
	return 0;
}
