/* Hazard: pthread_clockjoin_np takes its deadline on CLOCK_MONOTONIC or
 * CLOCK_REALTIME only.  Any other clock is EINVAL at once, checked before
 * anything else: a running thread is not waited for and an ended one is not
 * reaped (it is still joinable after).  Deadlines time out with ETIMEDOUT no
 * earlier than the deadline on the given clock; a negative one at once.
 *
 * A tv_nsec outside [0, 1e9) is where glibc surprises: 2.36 does not reject
 * it but waits until the thread ends (spinning on the kernel's EINVAL) and
 * then joins it.  The program accepts either that or EINVAL with the thread
 * left joinable, and prints which: the harness makes the preload agree with
 * the native run on the same machine. */
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

static atomic_int returned;

static void *return_at_once(void *arg)
{
	atomic_fetch_add(&returned, 1);
	return arg;
}

static void *sleep_100ms(void *arg)
{
	sleep_ms(100);
	return arg;
}

static void timeout_on(clockid_t clk, const char *name, pthread_t t)
{
	struct timespec dl = deadline_in(clk, MS(50));
	void *rv = (void *)-1;
	int64_t t0 = mono_ns();

	CHECK_ERR(pthread_clockjoin_np(t, &rv, clk, &dl), ETIMEDOUT, "clockjoin %s, +50 ms", name);
	CHECK(clock_ns(clk) >= ts_ns(&dl), "%s: returned no earlier than the deadline", name);
	CHECK(mono_ns() - t0 < MS(1000) && rv == (void *)-1,
	      "%s: returned within a second, value left alone", name);
}

static const struct {
	clockid_t clk;
	const char *name;
} bad_clocks[] = {
	{ CLOCK_BOOTTIME, "CLOCK_BOOTTIME" },
	{ CLOCK_TAI, "CLOCK_TAI" },
	{ CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW" },
	{ CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE" },
	{ CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID" },
	{ CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID" },
	{ (clockid_t)12345, "clock 12345" },
	{ (clockid_t)-1, "clock -1" },
};

static void bad_clocks_einval(const char *state, pthread_t t)
{
	struct timespec dl = deadline_in(CLOCK_MONOTONIC, MS(2000));
	void *rv = (void *)-1;
	int64_t t0 = mono_ns();

	for (size_t i = 0; i < sizeof bad_clocks / sizeof bad_clocks[0]; i++)
		CHECK_ERR(pthread_clockjoin_np(t, &rv, bad_clocks[i].clk, &dl), EINVAL,
			  "clockjoin %s, %s", bad_clocks[i].name, state);
	CHECK(mono_ns() - t0 < MS(1500) && rv == (void *)-1,
	      "bad clocks, %s: at once, value left alone", state);
}

/* tv_nsec out of range: print what happens, check it is one of the two
 * consistent outcomes. */
static void bad_nsec(const char *state, pthread_t t, long nsec, void *want)
{
	struct timespec dl = deadline_in(CLOCK_MONOTONIC, MS(2000));
	void *rv = (void *)-1;
	int rc;

	dl.tv_nsec = nsec;
	rc = pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &dl);
	printf("clockjoin tv_nsec=%ld, %s -> %s\n", nsec, state, errname(rc));
	if (rc == 0) {
		CHECK(rv == want, "joined it with its value");
	} else {
		CHECK_ERR(rc, EINVAL, "or refused");
		CHECK_ERR(pthread_join(t, &rv), 0, "and it is still joinable");
	}
}

int main(void)
{
	pthread_t t;
	void *rv = NULL;
	struct timespec dl;

	MUST(pthread_create(&t, NULL, wait_for_release, (void *)5));
	timeout_on(CLOCK_MONOTONIC, "CLOCK_MONOTONIC", t);
	timeout_on(CLOCK_REALTIME, "CLOCK_REALTIME", t);
	bad_clocks_einval("thread running", t);
	dl = (struct timespec){ -1, 0 };
	CHECK_ERR(pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &dl), ETIMEDOUT,
		  "clockjoin CLOCK_MONOTONIC, deadline {-1, 0}");
	atomic_store(&release, 1);
	dl = deadline_in(CLOCK_MONOTONIC, MS(5000));
	CHECK_ERR(pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, &dl), 0,
		  "clockjoin CLOCK_MONOTONIC, +5 s, thread ends");
	CHECK(rv == (void *)5, "got its value");

	/* An ended thread: a bad clock must not reap it. */
	MUST(pthread_create(&t, NULL, return_at_once, (void *)6));
	while (atomic_load(&returned) < 1)
		sleep_ms(1);
	sleep_ms(50);
	bad_clocks_einval("thread ended", t);
	dl = deadline_in(CLOCK_REALTIME, MS(5000));
	CHECK_ERR(pthread_clockjoin_np(t, &rv, CLOCK_REALTIME, &dl), 0,
		  "then clockjoin CLOCK_REALTIME joins it");
	CHECK(rv == (void *)6, "got its value");

	/* A NULL deadline waits like pthread_join. */
	MUST(pthread_create(&t, NULL, sleep_100ms, (void *)7));
	CHECK_ERR(pthread_clockjoin_np(t, &rv, CLOCK_MONOTONIC, NULL), 0,
		  "clockjoin CLOCK_MONOTONIC with a NULL deadline");
	CHECK(rv == (void *)7, "got its value");

	MUST(pthread_create(&t, NULL, return_at_once, (void *)8));
	while (atomic_load(&returned) < 2)
		sleep_ms(1);
	sleep_ms(50);
	bad_nsec("thread ended", t, 1000000000, (void *)8);
	MUST(pthread_create(&t, NULL, sleep_100ms, (void *)9));
	bad_nsec("thread running", t, 1000000000, (void *)9);
	MUST(pthread_create(&t, NULL, sleep_100ms, (void *)10));
	bad_nsec("thread running", t, -1, (void *)10);
	return check_done();
}
