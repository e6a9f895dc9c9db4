/* Hazard: nanosleep's contract to the letter, in a green thread and in main.
 * tv_nsec outside [0, 1e9) or a negative tv_sec is -1 with errno EINVAL, at
 * once; a completed sleep returns 0, lasts at least what was asked, leaves
 * errno and *rem untouched (rem is written only on EINTR); rem may be NULL;
 * a zero sleep returns 0. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static void check_nanosleep(const char *who)
{
	static const struct timespec bad[] = {
		{ 0, 1000000000 }, { 0, -1 }, { -1, 0 }, { -1, 500 }
	};
	struct timespec rem;
	int64_t t0;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rem = (struct timespec){ 77, 77 };
		errno = 0;
		t0 = mono_ns();
		int rc = nanosleep(&bad[i], &rem);
		int err = errno;

		CHECK(rc == -1, "%s: nanosleep({%ld, %ld}) returns -1", who, (long)bad[i].tv_sec,
		      (long)bad[i].tv_nsec);
		CHECK_ERR(err, EINVAL, "%s: errno", who);
		CHECK(rem.tv_sec == 77 && rem.tv_nsec == 77 && mono_ns() - t0 < MS(500),
		      "%s: at once, rem untouched", who);
	}

	struct timespec req = { 0, 50 * 1000000 };
	rem = (struct timespec){ 77, 77 };
	errno = EDOM;
	t0 = mono_ns();
	CHECK(nanosleep(&req, &rem) == 0, "%s: nanosleep 50 ms returns 0", who);
	CHECK(mono_ns() - t0 >= MS(50), "%s: elapsed >= 50 ms", who);
	CHECK_ERR(errno, EDOM, "%s: errno untouched", who);
	CHECK(rem.tv_sec == 77 && rem.tv_nsec == 77, "%s: rem untouched", who);
	CHECK(req.tv_sec == 0 && req.tv_nsec == 50 * 1000000, "%s: req untouched", who);

	/* The largest tv_nsec: rounding it to milliseconds would end early. */
	req = (struct timespec){ 0, 999999999 };
	t0 = mono_ns();
	CHECK(nanosleep(&req, NULL) == 0, "%s: nanosleep {0, 999999999}, NULL rem, returns 0", who);
	CHECK(mono_ns() - t0 >= 999999999, "%s: elapsed >= 999999999 ns", who);

	req = (struct timespec){ 0, 0 };
	rem = (struct timespec){ 77, 77 };
	CHECK(nanosleep(&req, &rem) == 0 && rem.tv_sec == 77, "%s: nanosleep 0 returns 0", who);
}

static void *thread(void *arg)
{
	(void)arg;
	check_nanosleep("thread");
	return NULL;
}

int main(void)
{
	pthread_t t;

	MUST(pthread_create(&t, NULL, thread, NULL));
	MUST(pthread_join(t, NULL));
	/* Again in main, now that there are threads (and, green, a runtime). */
	check_nanosleep("main");
	return check_done();
}
