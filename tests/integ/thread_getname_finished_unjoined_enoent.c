/* Hazard: glibc names another thread through /proc/self/task/TID/comm, so
 * once that thread has finished (and is not yet joined) pthread_getname_np
 * and pthread_setname_np fail with ENOENT; while it runs they work, and
 * the join afterwards still gets its value. */
#define _GNU_SOURCE
#include <pthread.h>

#include "check.h"

static void *quick(void *arg)
{
	return arg;
}

static void *slow(void *arg)
{
	sleep_ms(50);
	return arg;
}

int main(void)
{
	pthread_t t;
	char buf[16];
	void *r;

	MUST(pthread_create(&t, NULL, slow, (void *)1));
	CHECK_ERR(pthread_setname_np(t, "runner"), 0, "setname of a running thread");
	CHECK_ERR(pthread_getname_np(t, buf, sizeof(buf)), 0, "getname of a running thread");
	CHECK(strcmp(buf, "runner") == 0, "its name");
	MUST(pthread_join(t, &r));

	MUST(pthread_create(&t, NULL, quick, (void *)2));
	sleep_ms(50); /* it has finished */
	CHECK_ERR(pthread_getname_np(t, buf, sizeof(buf)), ENOENT, "getname of a finished thread");
	CHECK_ERR(pthread_setname_np(t, "late"), ENOENT, "setname of a finished thread");
	MUST(pthread_join(t, &r));
	CHECK(r == (void *)2, "the join still gets its value");
	return check_done();
}
