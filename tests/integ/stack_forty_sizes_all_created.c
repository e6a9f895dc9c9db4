/* Hazard: every stack size a program asks for must work, not only the
 * first few kinds: 40 threads, each with a stack size of its own, all
 * alive at once, each given at least what it asked for and able to use
 * most of it. */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

#define N 40

static pthread_barrier_t all;

static void *use(void *arg)
{
	size_t want = (size_t)arg, size = 0;
	pthread_attr_t a;
	char *p = __builtin_alloca(want / 2); /* half of it, at once */

	memset(p, 1, want / 2);
	MUST(pthread_getattr_np(pthread_self(), &a));
	MUST(pthread_attr_getstacksize(&a, &size));
	pthread_attr_destroy(&a);
	pthread_barrier_wait(&all);
	return (void *)(uintptr_t)(size >= want && p[want / 4] == 1);
}

int main(void)
{
	pthread_t t[N];
	pthread_attr_t a;
	int created = 0, good = 0;

	MUST(pthread_barrier_init(&all, NULL, N));
	for (int i = 0; i < N; i++) {
		MUST(pthread_attr_init(&a));
		size_t size = 64 * 1024 + (size_t)i * 12 * 1024;
		MUST(pthread_attr_setstacksize(&a, size));
		int err = pthread_create(&t[i], &a, use, (void *)size);
		if (err)
			fprintf(stderr, "thread %d (%zu bytes): %s\n", i, size, errname(err));
		created += err == 0;
		pthread_attr_destroy(&a);
		if (err)
			return 1; /* the barrier would never open */
	}
	for (int i = 0; i < N; i++) {
		void *r;
		MUST(pthread_join(t[i], &r));
		good += r != NULL;
	}
	CHECK(created == N, "all 40 threads created");
	CHECK(good == N, "each has at least the stack it asked for");
	return check_done();
}
