/*
 * prog1 — the talk's "Prog 1": N threads that each sleep, then join them all.
 *
 *   prog1 N [sleep_ms=200]
 *
 * Prints one line:
 *   prog1 n=N created=K wall_ms=X.X ok
 *   prog1 n=N created=K wall_ms=X.X fail errno=EAGAIN   (exit status 1)
 *
 * Natively this is bounded by the kernel (pid_max, vm.max_map_count: each
 * default thread stack is a mapping plus a guard mapping) and costs a kernel
 * thread per sleeper; under greenify each sleeper is a timer on one OS thread.
 * Threads use default attributes on purpose: the point is an unmodified
 * program, 8 MiB stacks and all.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "bench.h"

/* Set once before any thread starts; read-only afterwards. */
static long sleep_ms = 200;

static void *sleeper(void *arg)
{
	(void)arg;
	bench_sleep_ms(sleep_ms);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t *tids;
	double t0, t1;
	long n, k, i;
	int err = 0;

	if (argc < 2 || argc > 3 || bench_parse_count(argv[1], 1, 100000000L, &n) != 0 ||
	    (argc == 3 && bench_parse_count(argv[2], 0, 3600000L, &sleep_ms) != 0)) {
		fprintf(stderr, "usage: prog1 N [sleep_ms=200]\n");
		return 2;
	}

	tids = malloc((size_t)n * sizeof *tids);
	if (tids == NULL) {
		printf("prog1 n=%ld created=0 wall_ms=0.0 fail errno=ENOMEM\n", n);
		return 1;
	}

	t0 = bench_now_ms(CLOCK_MONOTONIC);
	for (k = 0; k < n; k++) {
		err = pthread_create(&tids[k], NULL, sleeper, NULL);
		if (err != 0)
			break;
	}
	/* Join what exists even after a failure, so the wall time still means
	 * "until every created thread finished" and the process exits cleanly. */
	for (i = 0; i < k; i++)
		pthread_join(tids[i], NULL);
	t1 = bench_now_ms(CLOCK_MONOTONIC);

	if (err != 0) {
		char ebuf[16];

		printf("prog1 n=%ld created=%ld wall_ms=%.1f fail errno=%s\n", n, k, t1 - t0,
		       bench_errno_name(err, ebuf, sizeof ebuf));
		free(tids);
		return 1;
	}
	printf("prog1 n=%ld created=%ld wall_ms=%.1f ok\n", n, k, t1 - t0);
	free(tids);
	return 0;
}
