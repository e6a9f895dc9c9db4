#define _GNU_SOURCE
/* Hazard: library code that calls back into the program. A qsort
 * comparator and a dl_iterate_phdr callback (which runs under the loader's
 * lock, a lock no green thread can wait for greenly) each compute for
 * about 100 ms while other threads want the CPU: one calls dlopen and
 * dl_iterate_phdr itself, one ticks. Preemption must not switch inside the
 * callback of dl_iterate_phdr (the other thread would take the loader's
 * lock on the same OS thread); everything ends, with the same results as
 * natively. */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

static atomic_int stop, ticks, objects_seen;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* About ms of computing, with no call but the clock at the start. */
static void compute_for(int ms)
{
	int64_t until = now_ns() + (int64_t)ms * 1000000;
	volatile unsigned long n = 0;

	while (now_ns() < until)
		for (int i = 0; i < 100000; i++)
			n++;
}

static int slow_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	volatile unsigned long n = 0;

	for (int i = 0; i < 20000; i++)
		n++;
	return (x > y) - (x < y);
}

static int slow_callback(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	if (*(int *)arg == 0)
		compute_for(100);
	(*(int *)arg)++;
	return 0;
}

static int count_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *loader(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		void *h = dlopen("libm.so.6", RTLD_NOW);
		int n = 0;
		dl_iterate_phdr(count_cb, &n);
		if (h && n > 0)
			atomic_fetch_add(&objects_seen, 1);
		if (h)
			dlclose(h);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t tk, ld;
	enum { N = 2000 };
	int *v = malloc(N * sizeof(int)), sorted = 1, calls = 0;

	for (int i = 0; i < N; i++)
		v[i] = (i * 7919) % N;
	pthread_create(&tk, NULL, ticker, NULL);
	pthread_create(&ld, NULL, loader, NULL);
	qsort(v, N, sizeof(int), slow_cmp);
	for (int i = 0; i < N; i++)
		sorted &= v[i] == i;
	CHECK(sorted, "qsort with a comparator that computes sorted");
	dl_iterate_phdr(slow_callback, &calls);
	CHECK(calls > 1, "dl_iterate_phdr with a callback that computes 100 ms went through the objects");
	pthread_join(ld, NULL);
	CHECK(atomic_load(&objects_seen) == 20, "a thread's dlopen and dl_iterate_phdr meanwhile all worked");
	atomic_store(&stop, 1);
	pthread_join(tk, NULL);
	CHECK(atomic_load(&ticks) > 0, "the ticker ran");
	free(v);
	return check_done();
}
