/* Hazard: clock_nanosleep returns an error number and never touches errno
 * (unlike nanosleep's -1 + errno), and which number depends on the order of
 * checks: an unknown clock or CLOCK_THREAD_CPUTIME_ID is EINVAL, a clock that
 * exists but cannot be slept on (CLOCK_MONOTONIC_RAW, the COARSE ones) is
 * EOPNOTSUPP even when the timespec is bad too (the clock is checked first),
 * a bad tv_nsec or a negative tv_sec is EINVAL, relative or absolute.  Errors
 * leave *rem alone and return at once.  Relative sleeps on every sleepable
 * clock last at least what was asked; flag bits other than TIMER_ABSTIME are
 * ignored. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define C(clk) clk, #clk

static const struct {
	clockid_t clk;
	const char *name;
	int flags;
	struct timespec req;
	int want;
} errors[] = {
	{ C(CLOCK_REALTIME), 0, { 0, 1000000000 }, EINVAL },
	{ C(CLOCK_MONOTONIC), 0, { 0, -1 }, EINVAL },
	{ C(CLOCK_MONOTONIC), 0, { -1, 0 }, EINVAL },
	{ C(CLOCK_MONOTONIC), TIMER_ABSTIME, { -1, 0 }, EINVAL },
	{ C(CLOCK_REALTIME), TIMER_ABSTIME, { 0, 1000000000 }, EINVAL },
	{ C(CLOCK_BOOTTIME), 0, { 0, 1000000000 }, EINVAL },
	{ C(CLOCK_TAI), TIMER_ABSTIME, { 0, -1 }, EINVAL },
	{ C(CLOCK_THREAD_CPUTIME_ID), 0, { 0, 1000 }, EINVAL },
	{ C(CLOCK_THREAD_CPUTIME_ID), TIMER_ABSTIME, { 0, 0 }, EINVAL },
	{ (clockid_t)12345, "clock 12345", 0, { 0, 1000 }, EINVAL },
	{ (clockid_t)-1, "clock -1", 0, { 0, 1000 }, EINVAL },
	{ C(CLOCK_MONOTONIC_RAW), 0, { 0, 1000 }, EOPNOTSUPP },
	{ C(CLOCK_MONOTONIC_RAW), 0, { 0, 1000000000 }, EOPNOTSUPP },
	{ C(CLOCK_MONOTONIC_RAW), TIMER_ABSTIME, { 0, 0 }, EOPNOTSUPP },
	{ C(CLOCK_REALTIME_COARSE), 0, { 0, 1000 }, EOPNOTSUPP },
	{ C(CLOCK_MONOTONIC_COARSE), 0, { 0, 1000 }, EOPNOTSUPP },
};

static const struct {
	clockid_t clk;
	const char *name;
} sleepable[] = {
	{ C(CLOCK_REALTIME) }, { C(CLOCK_MONOTONIC) }, { C(CLOCK_BOOTTIME) }, { C(CLOCK_TAI) }
};

static void *checks(void *arg)
{
	struct timespec rem;
	int64_t t0;

	(void)arg;
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
		rem = (struct timespec){ 77, 77 };
		errno = EDOM;
		t0 = mono_ns();
		CHECK_ERR(clock_nanosleep(errors[i].clk, errors[i].flags, &errors[i].req, &rem),
			  errors[i].want, "clock_nanosleep(%s, %s, {%ld, %ld})", errors[i].name,
			  errors[i].flags ? "TIMER_ABSTIME" : "0", (long)errors[i].req.tv_sec,
			  (long)errors[i].req.tv_nsec);
		CHECK(errno == EDOM && rem.tv_sec == 77 && rem.tv_nsec == 77 &&
			      mono_ns() - t0 < MS(500),
		      "  at once, errno and rem untouched");
	}

	for (size_t i = 0; i < sizeof sleepable / sizeof sleepable[0]; i++) {
		struct timespec req = { 0, 30 * 1000000 };

		rem = (struct timespec){ 77, 77 };
		errno = EDOM;
		t0 = mono_ns();
		CHECK_ERR(clock_nanosleep(sleepable[i].clk, 0, &req, &rem), 0,
			  "clock_nanosleep(%s, 0, 30 ms)", sleepable[i].name);
		CHECK(mono_ns() - t0 >= MS(30), "  elapsed >= 30 ms");
		CHECK(errno == EDOM && rem.tv_sec == 77 && rem.tv_nsec == 77,
		      "  errno and rem untouched");
	}

	/* Only TIMER_ABSTIME (bit 0) means anything; the kernel ignores the rest. */
	struct timespec req = { 0, 30 * 1000000 };
	t0 = mono_ns();
	CHECK_ERR(clock_nanosleep(CLOCK_MONOTONIC, 2, &req, NULL), 0,
		  "clock_nanosleep(CLOCK_MONOTONIC, flags 2, 30 ms)");
	CHECK(mono_ns() - t0 >= MS(30), "  slept relative: elapsed >= 30 ms");
	req = deadline_in(CLOCK_MONOTONIC, -MS(10));
	t0 = mono_ns();
	CHECK_ERR(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME | 2, &req, NULL), 0,
		  "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME|2, 10 ms ago)");
	CHECK(mono_ns() - t0 < MS(500), "  slept absolute: returned at once");
	return NULL;
}

int main(void)
{
	pthread_t t;

	MUST(pthread_create(&t, NULL, checks, NULL));
	MUST(pthread_join(t, NULL));
	return check_done();
}
