/* Hazard: pthread_timedjoin_np's deadline is absolute on CLOCK_REALTIME.  It
 * must time out with ETIMEDOUT no earlier than the deadline and without
 * spoiling the thread, which a later timedjoin still joins; a deadline in the
 * past (even a negative one) times out at once; a NULL deadline waits like
 * pthread_join. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static atomic_int release;

static void *wait_for_release(void *arg)
{
	while (!atomic_load(&release))
		sleep_ms(1);
	return arg;
}

static void *sleep_100ms(void *arg)
{
	sleep_ms(100);
	return arg;
}

int main(void)
{
	pthread_t t;
	void *rv = (void *)-1;
	struct timespec dl;
	int64_t t0;

	MUST(pthread_create(&t, NULL, wait_for_release, (void *)9));

	dl = deadline_in(CLOCK_REALTIME, MS(50));
	t0 = mono_ns();
	CHECK_ERR(pthread_timedjoin_np(t, &rv, &dl), ETIMEDOUT, "timedjoin, deadline in 50 ms");
	CHECK(clock_ns(CLOCK_REALTIME) >= ts_ns(&dl), "returned no earlier than the deadline");
	CHECK(mono_ns() - t0 < MS(1000), "returned within a second");
	CHECK(rv == (void *)-1, "left the value alone");

	dl = deadline_in(CLOCK_REALTIME, -MS(1000));
	t0 = mono_ns();
	CHECK_ERR(pthread_timedjoin_np(t, &rv, &dl), ETIMEDOUT, "timedjoin, deadline 1 s ago");
	dl = (struct timespec){ 0, 0 };
	CHECK_ERR(pthread_timedjoin_np(t, &rv, &dl), ETIMEDOUT, "timedjoin, deadline {0, 0}");
	dl = (struct timespec){ -1, 0 };
	CHECK_ERR(pthread_timedjoin_np(t, &rv, &dl), ETIMEDOUT, "timedjoin, deadline {-1, 0}");
	CHECK(mono_ns() - t0 < MS(500), "past deadlines returned at once");
	CHECK_ERR(pthread_tryjoin_np(t, &rv), EBUSY, "the thread still runs after the time-outs");

	atomic_store(&release, 1);
	dl = deadline_in(CLOCK_REALTIME, MS(5000));
	t0 = mono_ns();
	CHECK_ERR(pthread_timedjoin_np(t, &rv, &dl), 0, "timedjoin, deadline in 5 s, thread ends");
	CHECK(mono_ns() - t0 < MS(4000), "returned when the thread ended, not at the deadline");
	CHECK(rv == (void *)9, "got the thread's value");

	t0 = mono_ns();
	MUST(pthread_create(&t, NULL, sleep_100ms, (void *)11));
	CHECK_ERR(pthread_timedjoin_np(t, &rv, NULL), 0, "timedjoin with a NULL deadline");
	CHECK(mono_ns() - t0 >= MS(100), "it waited for the thread's 100 ms sleep");
	CHECK(rv == (void *)11, "got the thread's value");
	return check_done();
}
