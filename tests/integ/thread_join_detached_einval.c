/* Hazard: joining a detached thread must fail with EINVAL, not wait for it or
 * reap it, whether it was detached by pthread_detach or created detached.
 * pthread_tryjoin_np answers EBUSY instead (glibc asks "has it ended?" first),
 * and the detached threads still run to completion afterwards. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

/* The detached threads wait for this, so they are surely alive (and their
 * handles valid) while main tries to join them. */
static atomic_int release;
static atomic_int finished;

static void *wait_for_release(void *arg)
{
	(void)arg;
	while (!atomic_load(&release))
		sleep_ms(1);
	atomic_fetch_add(&finished, 1);
	return NULL;
}

static void try_joins(const char *how, pthread_t t)
{
	struct timespec real = deadline_in(CLOCK_REALTIME, MS(2000));
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(2000));
	void *rv = (void *)-1;
	int64_t t0 = mono_ns();

	CHECK_ERR(pthread_join(t, &rv), EINVAL, "%s: pthread_join", how);
	CHECK_ERR(pthread_timedjoin_np(t, &rv, &real), EINVAL, "%s: pthread_timedjoin_np", how);
	CHECK_ERR(pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &mono), EINVAL,
		  "%s: pthread_clockjoin_np", how);
	CHECK_ERR(pthread_tryjoin_np(t, &rv), EBUSY, "%s: pthread_tryjoin_np", how);
	CHECK(mono_ns() - t0 < MS(1500) && rv == (void *)-1, "%s: none waited or touched the value",
	      how);
}

int main(void)
{
	pthread_t by_call, by_attr;
	pthread_attr_t attr;
	int state = -1;

	MUST(pthread_create(&by_call, NULL, wait_for_release, NULL));
	CHECK_ERR(pthread_detach(by_call), 0, "pthread_detach of a running thread");
	try_joins("detached by pthread_detach", by_call);

	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
	MUST(pthread_attr_getdetachstate(&attr, &state));
	CHECK(state == PTHREAD_CREATE_DETACHED, "attr says PTHREAD_CREATE_DETACHED");
	MUST(pthread_create(&by_attr, &attr, wait_for_release, NULL));
	MUST(pthread_attr_destroy(&attr));
	try_joins("created detached", by_attr);

	atomic_store(&release, 1);
	for (int i = 0; i < 5000 && atomic_load(&finished) < 2; i++)
		sleep_ms(1);
	CHECK(atomic_load(&finished) == 2, "both detached threads ran to the end");
	return check_done();
}
