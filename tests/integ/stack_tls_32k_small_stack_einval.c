/* needs: private-tls */
/* Hazard: glibc puts a thread's static TLS at the top of its stack and
 * refuses a stack too small to hold it: with 32 KiB of __thread data, a
 * 16 KiB stack gives EINVAL from pthread_create (for a size set with
 * pthread_attr_setstacksize, and for memory given with
 * pthread_attr_setstack), a 1 MiB one works and the thread's TLS is its
 * own and starts from its initial value. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

static __thread char tls[32 * 1024] = {7};

static void *touch(void *arg)
{
	long sum = tls[0]; /* the initial image, not main's writes */

	memset(tls, 3, sizeof(tls));
	return (void *)(sum + (long)arg + tls[sizeof(tls) - 1]);
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t;
	void *r;

	tls[0] = 99;
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setstacksize(&a, 16 * 1024));
	CHECK_ERR(pthread_create(&t, &a, touch, NULL), EINVAL, "16 KiB stack, 32 KiB TLS");
	void *mem = aligned_alloc(4096, 16 * 1024);
	MUST(pthread_attr_setstack(&a, mem, 16 * 1024));
	CHECK_ERR(pthread_create(&t, &a, touch, NULL), EINVAL, "16 KiB of own memory, 32 KiB TLS");
	pthread_attr_destroy(&a);
	free(mem);
	MUST(pthread_attr_init(&a));
	MUST(pthread_attr_setstacksize(&a, 1024 * 1024));
	CHECK_ERR(pthread_create(&t, &a, touch, (void *)100), 0, "1 MiB stack, 32 KiB TLS");
	MUST(pthread_join(t, &r));
	CHECK((long)r == 7 + 100 + 3, "the thread's TLS starts from the image and is its own");
	CHECK(tls[0] == 99, "main's TLS untouched");
	pthread_attr_destroy(&a);
	return check_done();
}
