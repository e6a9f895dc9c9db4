/* Hazard: semaphores report errors as -1 + errno (not a returned number) and
 * glibc 2.36 checks in a fixed order:
 *   sem_init with a value above SEM_VALUE_MAX -> EINVAL;
 *   sem_post at SEM_VALUE_MAX -> EOVERFLOW, value unchanged;
 *   sem_trywait at 0 -> EAGAIN;
 *   sem_timedwait with tv_nsec outside [0, 1e9) -> EINVAL even when the
 *     value is positive (checked before trying; nothing is taken);
 *   sem_clockwait: a clock other than REALTIME/MONOTONIC -> EINVAL first,
 *     then the tv_nsec check; nothing is taken;
 *   a past deadline (tv_sec < 0 too) with value 0 -> ETIMEDOUT at once,
 *     with value > 0 -> 0 (it takes one);
 *   a future deadline -> ETIMEDOUT no earlier than the deadline: sem_timedwait
 *     on REALTIME, sem_clockwait on the clock given;
 *   a post before the deadline wakes the waiter with 0, on both clocks;
 *   sem_getvalue with a thread blocked in sem_wait -> 0 (never negative);
 *   errno is left alone on success. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include "check.h"

static sem_t s;

/* errno of a call that should fail, or 0 when it returned 0. */
#define ERRNO_OF(call) ((call) == 0 ? 0 : errno)

static int value(void)
{
	int v = -100;

	MUST(sem_getvalue(&s, &v));
	return v;
}

static void times_out(const char *what, int use_clockwait, clockid_t clk)
{
	struct timespec dl = deadline_in(clk, MS(50));
	int64_t t0 = mono_ns();
	int e = ERRNO_OF(use_clockwait ? sem_clockwait(&s, clk, &dl) : sem_timedwait(&s, &dl));

	CHECK_ERR(e, ETIMEDOUT, "%s, value 0, 50 ms", what);
	CHECK(clock_ns(clk) >= ts_ns(&dl), "%s: not before the deadline", what);
	CHECK(mono_ns() - t0 < MS(2000), "%s: within 2 s", what);
}

static void *post_after_50ms(void *arg)
{
	(void)arg;
	sleep_ms(50);
	MUST(sem_post(&s));
	return NULL;
}

static void posted_in_time(const char *what, int use_clockwait, clockid_t clk)
{
	struct timespec dl = deadline_in(clk, MS(5000));
	int64_t t0 = mono_ns();
	pthread_t t;
	int e;

	MUST(pthread_create(&t, NULL, post_after_50ms, NULL));
	e = ERRNO_OF(use_clockwait ? sem_clockwait(&s, clk, &dl) : sem_timedwait(&s, &dl));
	CHECK_ERR(e, 0, "%s, 5 s, posted after 50 ms", what);
	CHECK(mono_ns() - t0 >= MS(50) && mono_ns() - t0 < MS(4000), "%s: woke at the post", what);
	MUST(pthread_join(t, NULL));
	CHECK(value() == 0, "%s: value back to 0", what);
}

static atomic_int waiting;

static void *wait_once(void *arg)
{
	(void)arg;
	atomic_store(&waiting, 1);
	while (sem_wait(&s) != 0)
		;
	return NULL;
}

int main(void)
{
	struct timespec bad_nsec = { 0, 1000000000 }, neg_nsec = { 0, -1 };
	struct timespec zero = { 0, 0 }, neg_sec = { -1, 0 };
	struct timespec far = deadline_in(CLOCK_MONOTONIC, MS(5000));
	pthread_t t;
	int64_t t0;

	alarm(20);
	CHECK_ERR(ERRNO_OF(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1)), EINVAL,
		  "sem_init SEM_VALUE_MAX + 1");
	CHECK_ERR(ERRNO_OF(sem_init(&s, 0, SEM_VALUE_MAX)), 0, "sem_init SEM_VALUE_MAX");
	CHECK_ERR(ERRNO_OF(sem_post(&s)), EOVERFLOW, "sem_post at SEM_VALUE_MAX");
	CHECK(value() == SEM_VALUE_MAX, "value still SEM_VALUE_MAX");
	CHECK_ERR(ERRNO_OF(sem_trywait(&s)), 0, "sem_trywait at SEM_VALUE_MAX");
	CHECK_ERR(ERRNO_OF(sem_post(&s)), 0, "sem_post back to SEM_VALUE_MAX");
	MUST(sem_destroy(&s));

	MUST(sem_init(&s, 0, 1));
	CHECK_ERR(ERRNO_OF(sem_timedwait(&s, &bad_nsec)), EINVAL, "value 1: sem_timedwait tv_nsec 1e9");
	CHECK_ERR(ERRNO_OF(sem_timedwait(&s, &neg_nsec)), EINVAL, "value 1: sem_timedwait tv_nsec -1");
	CHECK_ERR(ERRNO_OF(sem_clockwait(&s, CLOCK_MONOTONIC, &bad_nsec)), EINVAL,
		  "value 1: sem_clockwait tv_nsec 1e9");
	CHECK_ERR(ERRNO_OF(sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &far)), EINVAL,
		  "value 1: sem_clockwait on CPUTIME");
	CHECK_ERR(ERRNO_OF(sem_clockwait(&s, CLOCK_BOOTTIME, &far)), EINVAL,
		  "value 1: sem_clockwait on BOOTTIME");
	CHECK(value() == 1, "value 1: none of those took it");
	errno = 1234;
	int rc = sem_timedwait(&s, &neg_sec);
	int saved_errno = errno;
	CHECK_ERR(rc == 0 ? 0 : saved_errno, 0, "value 1: sem_timedwait {-1, 0} takes it");
	CHECK(saved_errno == 1234, "errno left alone on success");
	CHECK(value() == 0, "value 0");

	t0 = mono_ns();
	CHECK_ERR(ERRNO_OF(sem_trywait(&s)), EAGAIN, "value 0: sem_trywait");
	CHECK_ERR(ERRNO_OF(sem_timedwait(&s, &bad_nsec)), EINVAL, "value 0: sem_timedwait tv_nsec 1e9");
	CHECK_ERR(ERRNO_OF(sem_timedwait(&s, &zero)), ETIMEDOUT, "value 0: sem_timedwait {0, 0}");
	CHECK_ERR(ERRNO_OF(sem_timedwait(&s, &neg_sec)), ETIMEDOUT, "value 0: sem_timedwait {-1, 0}");
	CHECK_ERR(ERRNO_OF(sem_clockwait(&s, CLOCK_MONOTONIC, &zero)), ETIMEDOUT,
		  "value 0: sem_clockwait MONOTONIC {0, 0}");
	CHECK_ERR(ERRNO_OF(sem_clockwait(&s, (clockid_t)99, &bad_nsec)), EINVAL,
		  "value 0: sem_clockwait bad clock and tv_nsec 1e9");
	CHECK(mono_ns() - t0 < MS(1000), "value 0: all returned at once");

	times_out("sem_timedwait (REALTIME)", 0, CLOCK_REALTIME);
	times_out("sem_clockwait MONOTONIC", 1, CLOCK_MONOTONIC);
	times_out("sem_clockwait REALTIME", 1, CLOCK_REALTIME);
	posted_in_time("sem_timedwait (REALTIME)", 0, CLOCK_REALTIME);
	posted_in_time("sem_clockwait MONOTONIC", 1, CLOCK_MONOTONIC);
	posted_in_time("sem_clockwait REALTIME", 1, CLOCK_REALTIME);

	MUST(pthread_create(&t, NULL, wait_once, NULL));
	while (!atomic_load(&waiting))
		sleep_ms(1);
	sleep_ms(30);
	CHECK(value() == 0, "sem_getvalue with a thread blocked in sem_wait is 0");
	MUST(sem_post(&s));
	MUST(pthread_join(t, NULL));
	CHECK(value() == 0, "the post went to the waiter");

	CHECK_ERR(ERRNO_OF(sem_destroy(&s)), 0, "sem_destroy");
	CHECK_ERR(ERRNO_OF(sem_init(&s, 1, 2)), 0, "sem_init pshared 1, value 2");
	CHECK(sem_wait(&s) == 0 && sem_wait(&s) == 0 && value() == 0, "two waits take both");
	CHECK_ERR(ERRNO_OF(sem_trywait(&s)), EAGAIN, "then sem_trywait");
	MUST(sem_destroy(&s));
	return check_done();
}
