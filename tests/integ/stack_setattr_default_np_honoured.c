/* Hazard: pthread_setattr_default_np changes the stack of every thread made
 * without an attr, and of an attr that sets no size: after setting 8 MiB, a
 * thread with 6 MiB of locals runs; after 4 MiB, a fresh attr reports it
 * and a new thread gets at least that (glibc may hand out a bigger stack
 * from its cache);
 * pthread_getattr_default_np reports what was set. A size below
 * PTHREAD_STACK_MIN is refused with EINVAL, as glibc does. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>

#include "check.h"

#define MIB ((size_t)1 << 20)

static void *deep(void *arg)
{
	volatile char locals[6 * MIB];

	(void)arg;
	memset((char *)locals, 2, sizeof(locals));
	return (void *)(long)locals[4 * MIB];
}

static size_t own_size(void)
{
	pthread_attr_t a;
	size_t size = 0;

	MUST(pthread_getattr_np(pthread_self(), &a));
	MUST(pthread_attr_getstacksize(&a, &size));
	pthread_attr_destroy(&a);
	return size;
}

static void *sizer(void *arg)
{
	(void)arg;
	return (void *)own_size();
}

static void set_default(size_t size)
{
	pthread_attr_t a;

	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setstacksize(&a, size));
	MUST(pthread_setattr_default_np(&a));
	pthread_attr_destroy(&a);
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t;
	size_t size;
	void *r;

	set_default(8 * MIB);
	MUST(pthread_create(&t, NULL, deep, NULL));
	MUST(pthread_join(t, &r));
	CHECK((long)r == 2, "default 8 MiB: a thread with 6 MiB of locals runs");

	set_default(4 * MIB);
	MUST(pthread_getattr_default_np(&a));
	MUST(pthread_attr_getstacksize(&a, &size));
	pthread_attr_destroy(&a);
	CHECK(size == 4 * MIB, "getattr_default_np reports 4 MiB");
	MUST(pthread_create(&t, NULL, sizer, NULL));
	MUST(pthread_join(t, &r));
	CHECK((size_t)r >= 4 * MIB, "a thread without attr gets 4 MiB (glibc may reuse a bigger cached stack)");
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_getstacksize(&a, &size));
	CHECK(size == 4 * MIB, "a fresh attr reports 4 MiB");
	MUST(pthread_create(&t, &a, sizer, NULL));
	MUST(pthread_join(t, &r));
	CHECK((size_t)r >= 4 * MIB, "a thread with an attr that sets no size gets 4 MiB or more");
	pthread_attr_destroy(&a);

	MUST(pthread_attr_init(&a));
	int err = pthread_attr_setstacksize(&a, PTHREAD_STACK_MIN - 1);
	CHECK_ERR(err, EINVAL, "setstacksize below PTHREAD_STACK_MIN");
	pthread_attr_destroy(&a);
	return check_done();
}
