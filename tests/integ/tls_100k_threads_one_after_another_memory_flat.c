/* needs: private-tls */
/* Hazard: every green thread gets a control block, static TLS, a DTV, a
 * malloc cache and arena pointer, C++-style thread_local destructors and
 * key values; if any of it outlives the thread, memory grows with every
 * thread created, and a long-running server that starts a thread per
 * request runs out. 100,000 threads are created and joined one after
 * another; each uses __thread variables, errno, malloc and free, a pthread
 * key with a destructor, and a thread-exit destructor registered with
 * __cxa_thread_atexit_impl (what C++ thread_local uses). The resident
 * size after the last one must be within 4 MiB of the size after the
 * first 5,000, natively (glibc reuses stacks) and under the preload. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define THREADS 100000
#define WARMUP 5000

extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern void *__dso_handle;

static __thread char scratch[256] = "initial";
static __thread long counter;
static pthread_key_t key;
static long dtors_run, key_dtors_run;

static void tls_dtor(void *p)
{
	free(p);
	dtors_run++;
}

static void key_dtor(void *p)
{
	free(p);
	key_dtors_run++;
}

static void *worker(void *arg)
{
	long i = (long)arg;
	char *p = malloc(64 + (size_t)(i % 512));

	counter += i;
	snprintf(scratch, sizeof(scratch), "thread %ld", i);
	errno = (int)(i % 100);
	__cxa_thread_atexit_impl(tls_dtor, malloc(48), &__dso_handle);
	pthread_setspecific(key, malloc(32));
	free(p);
	return (void *)(long)(counter == i && errno == (int)(i % 100) ? 0 : 1);
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

int main(void)
{
	long bad = 0, base = 0, end;

	pthread_key_create(&key, key_dtor);
	for (long i = 0; i < THREADS; i++) {
		pthread_t t;
		void *r;
		if (pthread_create(&t, NULL, worker, (void *)i) != 0 || pthread_join(t, &r) != 0) {
			bad++;
			break;
		}
		bad += r != NULL;
		if (i + 1 == WARMUP)
			base = rss_kib();
	}
	end = rss_kib();
	fprintf(stderr, "rss after %d threads %ld KiB, after %d %ld KiB\n", WARMUP, base, THREADS,
		end);
	CHECK(bad == 0, "100000 threads each saw their own __thread values and errno");
	CHECK(dtors_run == THREADS, "every thread-exit destructor ran once");
	CHECK(key_dtors_run == THREADS, "every key destructor ran once");
	CHECK(strcmp(scratch, "initial") == 0 && counter == 0, "main's __thread values untouched");
	CHECK(base > 0 && end - base < 4096, "resident size grew less than 4 MiB over 95,000 threads");
	return check_done();
}
