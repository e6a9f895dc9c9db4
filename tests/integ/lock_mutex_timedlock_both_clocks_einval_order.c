/* Hazard: a contended timedlock/clocklock must park until its deadline on
 * the right clock, and must validate its arguments in glibc's order:
 *   clocklock: a clock other than REALTIME/MONOTONIC -> EINVAL first, even on
 *     a free mutex (which is then not taken);
 *   a bad tv_nsec (>= 1e9 or < 0) -> EINVAL only when the call would block:
 *     on a free mutex timedlock/clocklock just take it and return 0;
 *   a deadline already past (tv_sec < 0 included) -> ETIMEDOUT at once;
 *   a deadline in the future -> ETIMEDOUT no earlier than the deadline on
 *     the clock asked for (timedlock: REALTIME);
 *   released before the deadline -> 0 when the holder unlocks.
 * Another thread holds the mutex throughout; the time-outs must leave it
 * alone (the holder still unlocks it fine). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

/* Holds m from "locked" until "release", then unlocks after delay_ms. */
static atomic_int locked, release;
static int holder_unlock;
static int64_t holder_unlock_at;
static int64_t holder_delay_ms;

static void *holder(void *arg)
{
	(void)arg;
	MUST(pthread_mutex_lock(&m));
	atomic_store(&locked, 1);
	while (!atomic_load(&release))
		sleep_ms(1);
	sleep_ms(holder_delay_ms);
	holder_unlock_at = mono_ns();
	holder_unlock = pthread_mutex_unlock(&m);
	return NULL;
}

static pthread_t start_holder(int64_t delay_ms)
{
	pthread_t t;

	atomic_store(&locked, 0);
	atomic_store(&release, 0);
	holder_delay_ms = delay_ms;
	MUST(pthread_create(&t, NULL, holder, NULL));
	while (!atomic_load(&locked))
		sleep_ms(1);
	return t;
}

static void timeout_on(const char *what, clockid_t clk, int use_clocklock)
{
	struct timespec dl = deadline_in(clk, MS(60));
	int64_t t0 = mono_ns();
	int rc = use_clocklock ? pthread_mutex_clocklock(&m, clk, &dl) : pthread_mutex_timedlock(&m, &dl);

	CHECK_ERR(rc, ETIMEDOUT, "%s, 60 ms", what);
	CHECK(clock_ns(clk) >= ts_ns(&dl), "%s: returned no earlier than the deadline", what);
	CHECK(mono_ns() - t0 < MS(2000), "%s: returned within 2 s", what);
}

static void released_on(const char *what, clockid_t clk, int use_clocklock)
{
	pthread_t t = start_holder(80);
	struct timespec dl = deadline_in(clk, MS(5000));
	int64_t t0 = mono_ns();
	int rc;

	atomic_store(&release, 1);
	rc = use_clocklock ? pthread_mutex_clocklock(&m, clk, &dl) : pthread_mutex_timedlock(&m, &dl);
	CHECK_ERR(rc, 0, "%s, 5 s, holder unlocks after 80 ms", what);
	CHECK(mono_ns() >= holder_unlock_at && mono_ns() - t0 >= MS(80),
	      "%s: got it when the holder unlocked", what);
	CHECK(mono_ns() - t0 < MS(4000), "%s: well before the deadline", what);
	MUST(pthread_join(t, NULL));
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "%s: unlock", what);
}

int main(void)
{
	struct timespec bad_nsec = { 0, 1000000000 }, neg_nsec = { 0, -1 };
	struct timespec zero = { 0, 0 }, neg_sec = { -1, 0 };
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(1000));
	pthread_t t;
	int64_t t0;

	alarm(20);

	/* Free mutex. */
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &mono), EINVAL,
		  "free: clocklock on CLOCK_PROCESS_CPUTIME_ID");
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC_RAW, &mono), EINVAL,
		  "free: clocklock on CLOCK_MONOTONIC_RAW");
	CHECK_ERR(pthread_mutex_clocklock(&m, (clockid_t)-7, &bad_nsec), EINVAL,
		  "free: clocklock on a bad clock with tv_nsec 1e9");
	CHECK_ERR(pthread_mutex_trylock(&m), 0, "free: none of those took it");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "free: unlock");
	CHECK_ERR(pthread_mutex_timedlock(&m, &bad_nsec), 0, "free: timedlock with tv_nsec 1e9 takes it");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "free: unlock");
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &neg_nsec), 0,
		  "free: clocklock with tv_nsec -1 takes it");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "free: unlock");
	CHECK_ERR(pthread_mutex_timedlock(&m, &neg_sec), 0, "free: timedlock with a past deadline takes it");
	CHECK_ERR(pthread_mutex_unlock(&m), 0, "free: unlock");

	/* Held by another thread. */
	t = start_holder(0);
	t0 = mono_ns();
	CHECK_ERR(pthread_mutex_timedlock(&m, &bad_nsec), EINVAL, "held: timedlock with tv_nsec 1e9");
	CHECK_ERR(pthread_mutex_timedlock(&m, &neg_nsec), EINVAL, "held: timedlock with tv_nsec -1");
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_REALTIME, &bad_nsec), EINVAL,
		  "held: clocklock REALTIME with tv_nsec 1e9");
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_BOOTTIME, &mono), EINVAL,
		  "held: clocklock on CLOCK_BOOTTIME");
	CHECK_ERR(pthread_mutex_timedlock(&m, &zero), ETIMEDOUT, "held: timedlock {0, 0}");
	CHECK_ERR(pthread_mutex_timedlock(&m, &neg_sec), ETIMEDOUT, "held: timedlock {-1, 0}");
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &zero), ETIMEDOUT,
		  "held: clocklock MONOTONIC {0, 0}");
	CHECK_ERR(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &neg_sec), ETIMEDOUT,
		  "held: clocklock MONOTONIC {-1, 0}");
	CHECK(mono_ns() - t0 < MS(1000), "held: all of those returned at once");
	timeout_on("held: timedlock (REALTIME)", CLOCK_REALTIME, 0);
	timeout_on("held: clocklock MONOTONIC", CLOCK_MONOTONIC, 1);
	timeout_on("held: clocklock REALTIME", CLOCK_REALTIME, 1);
	CHECK_ERR(pthread_mutex_trylock(&m), EBUSY, "held: still held after the time-outs");
	atomic_store(&release, 1);
	MUST(pthread_join(t, NULL));
	CHECK_ERR(holder_unlock, 0, "the holder's unlock after the time-outs");

	released_on("timedlock (REALTIME)", CLOCK_REALTIME, 0);
	released_on("clocklock MONOTONIC", CLOCK_MONOTONIC, 1);
	released_on("clocklock REALTIME", CLOCK_REALTIME, 1);
	return check_done();
}
