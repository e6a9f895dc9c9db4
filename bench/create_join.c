/*
 * create_join — the cost of a short-lived thread.
 *
 *   create_join [iters=20000] [attr]
 *
 * Creates a thread whose function returns at once and joins it, iters times in
 * a row (with "attr": each from a default pthread_attr_t, as servers pass
 * one), and prints
 *   create_join iters=N ns_per_pair=X.X
 * Natively one pair is a clone, a stack (usually from glibc's cache), the
 * scheduler waking two threads and a futex wake on exit; a green thread should
 * cost a stack reuse and two switches.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "bench.h"

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long iters = 20000, i;
	double t0, t1;
	pthread_attr_t attr;
	pthread_t t;
	int with_attr = argc == 3 && strcmp(argv[2], "attr") == 0;

	if (argc > 3 || (argc == 3 && !with_attr) ||
	    (argc >= 2 && bench_parse_count(argv[1], 1, 1000000000L, &iters) != 0)) {
		fprintf(stderr, "usage: create_join [iters=20000] [attr]\n");
		return 2;
	}
	pthread_attr_init(&attr);
	t0 = bench_now_ms(CLOCK_MONOTONIC);
	for (i = 0; i < iters; i++) {
		int err = pthread_create(&t, with_attr ? &attr : NULL, nothing, NULL);
		if (err != 0) {
			char ebuf[16];

			printf("create_join iters=%ld fail errno=%s at=%ld\n", iters,
			       bench_errno_name(err, ebuf, sizeof ebuf), i);
			return 1;
		}
		pthread_join(t, NULL);
	}
	t1 = bench_now_ms(CLOCK_MONOTONIC);
	printf("create_join iters=%ld%s ns_per_pair=%.1f\n", iters, with_attr ? " attr" : "",
	       (t1 - t0) * 1e6 / (double)iters);
	return 0;
}
