/* Compute + ticker (issue 14): COMPUTERS threads each compute for SECONDS
 * (a pure loop: no call but reading the clock every few million steps)
 * while one thread sleeps TICK_MS and counts. Prints how many ticks it got
 * and the wall time: natively the kernel preempts the computers; under
 * greenify the runtime must.
 *
 *   preempt_ticker [COMPUTERS [SECONDS [TICK_MS]]]   (defaults 1 1 10) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_int stop, ticks;
static double seconds = 1.0;
static int tick_ms = 10;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *ticker(void *arg)
{
	struct timespec ts = {tick_ms / 1000, (tick_ms % 1000) * 1000000L};

	(void)arg;
	while (!atomic_load(&stop)) {
		nanosleep(&ts, NULL);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *computer(void *arg)
{
	double until = now_s() + seconds;
	volatile unsigned long n = 0;

	(void)arg;
	do {
		for (int i = 0; i < 4000000; i++)
			n++;
	} while (now_s() < until);
	return NULL;
}

int main(int argc, char **argv)
{
	int k = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t tk, c[64];
	double t0;

	if (argc > 2)
		seconds = atof(argv[2]);
	if (argc > 3)
		tick_ms = atoi(argv[3]);
	if (k < 1 || k > 64)
		k = 1;
	pthread_create(&tk, NULL, ticker, NULL);
	t0 = now_s();
	for (int i = 0; i < k; i++)
		pthread_create(&c[i], NULL, computer, NULL);
	for (int i = 0; i < k; i++)
		pthread_join(c[i], NULL);
	int got = atomic_load(&ticks);
	double wall = now_s() - t0;
	atomic_store(&stop, 1);
	pthread_join(tk, NULL);
	printf("computers=%d seconds=%.2f tick_ms=%d ticks=%d wall_s=%.3f\n", k, seconds, tick_ms,
	       got, wall);
	return 0;
}
