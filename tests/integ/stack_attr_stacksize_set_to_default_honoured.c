/* Hazard: an attr whose stack size was set explicitly must be honoured even
 * when the size equals glibc's default (RLIMIT_STACK, 8 MiB on most
 * systems): a library that takes "size == default" to mean "never set" and
 * gives such a thread its smaller green default breaks a program that asked
 * for its 8 MiB on purpose.  The thread uses half of it in locals. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static size_t want;

__attribute__((noinline)) static long use_stack(size_t bytes)
{
	volatile char buf[bytes];
	long sum = 0;

	/* Top down, page by page, as the stack grows: running out hits the
	 * guard page rather than jumping over it. */
	for (size_t i = bytes; i >= 4096; i -= 4096) {
		buf[i - 4096] = 1;
		sum += buf[i - 4096];
	}
	return sum;
}

static void *probe(void *arg)
{
	pthread_attr_t attr;
	size_t size = 0;

	(void)arg;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		MUST(pthread_attr_getstacksize(&attr, &size));
		MUST(pthread_attr_destroy(&attr));
	}
	long touched = use_stack(want / 2);
	return (void *)(intptr_t)(size >= want && touched == (long)(want / 2 / 4096));
}

int main(void)
{
	pthread_attr_t def, attr;
	pthread_t t;
	void *ok = NULL;

	MUST(pthread_getattr_default_np(&def));
	MUST(pthread_attr_getstacksize(&def, &want));
	MUST(pthread_attr_destroy(&def));
	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setstacksize(&attr, want));
	MUST(pthread_create(&t, &attr, probe, NULL));
	MUST(pthread_attr_destroy(&attr));
	MUST(pthread_join(t, &ok));
	CHECK(ok == (void *)1,
	      "a thread given glibc's default stack size explicitly has it, and uses half");
	return check_done();
}
