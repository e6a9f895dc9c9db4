/* Hazard: a timed condition wait must give the mutex back before it returns,
 * even on a time-out and even if another thread holds the mutex then (it
 * waits for that thread's unlock), and it must read its deadline on the right
 * clock.  glibc 2.36:
 *   timedwait reads the deadline on the cond's clock: REALTIME by default,
 *     MONOTONIC after pthread_condattr_setclock(MONOTONIC);
 *   clockwait uses the clock it is given (either cond);
 *   the argument checks come first and leave the mutex locked: tv_nsec
 *     outside [0, 1e9) -> EINVAL, then a clock other than REALTIME or
 *     MONOTONIC -> EINVAL; a deadline already past (tv_sec < 0 too) ->
 *     ETIMEDOUT after unlocking and relocking;
 *   waiting with an errorcheck mutex the caller does not own -> EPERM;
 *   condattr_setclock accepts only REALTIME and MONOTONIC (EINVAL for
 *     CPUTIME, MONOTONIC_RAW, BOOTTIME); getclock returns what was set;
 *   a signal before the deadline -> 0, on both clocks.
 * The mutex is an errorcheck one, so "owned after return" is checked by a
 * relock that must say EDEADLK. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_cond_t cv_real = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_mono;

static int owned(void)
{
	return pthread_mutex_lock(&mu) == EDEADLK;
}

/* A timed wait that must time out no earlier than dl on clk. */
static void times_out(const char *what, pthread_cond_t *cv, clockid_t wait_clk, int clockwait,
		      clockid_t deadline_clk)
{
	struct timespec dl = deadline_in(deadline_clk, MS(60));
	int64_t t0 = mono_ns();
	int rc;

	MUST(pthread_mutex_lock(&mu));
	rc = clockwait ? pthread_cond_clockwait(cv, &mu, wait_clk, &dl)
		       : pthread_cond_timedwait(cv, &mu, &dl);
	CHECK_ERR(rc, ETIMEDOUT, "%s, 60 ms", what);
	CHECK(clock_ns(deadline_clk) >= ts_ns(&dl), "%s: not before the deadline", what);
	CHECK(mono_ns() - t0 < MS(2000), "%s: within 2 s", what);
	CHECK(owned(), "%s: mutex owned after the time-out", what);
	MUST(pthread_mutex_unlock(&mu));
}

/* ---- the mutex is held by another thread when the deadline passes ---- */
static atomic_int main_waiting;
static int64_t holder_unlocked_at;

static void *grab_and_hold(void *arg)
{
	(void)arg;
	while (!atomic_load(&main_waiting))
		sleep_ms(1);
	/* Succeeds only once main is inside the wait (it holds mu until then). */
	MUST(pthread_mutex_lock(&mu));
	sleep_ms(250);
	holder_unlocked_at = mono_ns();
	MUST(pthread_mutex_unlock(&mu));
	return NULL;
}

/* ---- signalled before the deadline ---- */
static int ready;

static void *signal_after_50ms(void *arg)
{
	sleep_ms(50);
	MUST(pthread_mutex_lock(&mu));
	ready = 1;
	MUST(pthread_cond_signal(arg));
	MUST(pthread_mutex_unlock(&mu));
	return NULL;
}

static void signalled(const char *what, pthread_cond_t *cv, clockid_t clk, int clockwait)
{
	struct timespec dl = deadline_in(clk, MS(5000));
	int64_t t0 = mono_ns();
	pthread_t t;
	int rc = 0;

	ready = 0;
	MUST(pthread_mutex_lock(&mu));
	MUST(pthread_create(&t, NULL, signal_after_50ms, cv));
	while (!ready && rc == 0)
		rc = clockwait ? pthread_cond_clockwait(cv, &mu, clk, &dl)
			       : pthread_cond_timedwait(cv, &mu, &dl);
	CHECK_ERR(rc, 0, "%s, signalled after 50 ms", what);
	CHECK(ready && mono_ns() - t0 >= MS(50) && mono_ns() - t0 < MS(4000),
	      "%s: woke on the signal, not the deadline", what);
	CHECK(owned(), "%s: mutex owned", what);
	MUST(pthread_mutex_unlock(&mu));
	MUST(pthread_join(t, NULL));
}

static int eperm_result;

static void *wait_on_mutex_not_mine(void *arg)
{
	struct timespec dl = deadline_in(CLOCK_REALTIME, MS(1000));

	(void)arg;
	eperm_result = pthread_cond_timedwait(&cv_real, &mu, &dl);
	return NULL;
}

int main(void)
{
	struct timespec bad_nsec = { 0, 1000000000 }, neg_nsec = { 0, -1 };
	struct timespec zero = { 0, 0 }, neg_sec = { -1, 0 };
	pthread_condattr_t ca;
	clockid_t clk = -1;
	pthread_t t;
	int64_t t0;

	alarm(20);
	MUST(pthread_condattr_init(&ca));
	CHECK(pthread_condattr_getclock(&ca, &clk) == 0 && clk == CLOCK_REALTIME,
	      "condattr: default clock REALTIME");
	CHECK_ERR(pthread_condattr_setclock(&ca, CLOCK_PROCESS_CPUTIME_ID), EINVAL,
		  "condattr: setclock CPUTIME");
	CHECK_ERR(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC_RAW), EINVAL,
		  "condattr: setclock MONOTONIC_RAW");
	CHECK_ERR(pthread_condattr_setclock(&ca, CLOCK_BOOTTIME), EINVAL, "condattr: setclock BOOTTIME");
	CHECK_ERR(pthread_condattr_setclock(&ca, CLOCK_REALTIME), 0, "condattr: setclock REALTIME");
	CHECK_ERR(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0, "condattr: setclock MONOTONIC");
	CHECK(pthread_condattr_getclock(&ca, &clk) == 0 && clk == CLOCK_MONOTONIC,
	      "condattr: getclock MONOTONIC");
	MUST(pthread_cond_init(&cv_mono, &ca));
	MUST(pthread_condattr_destroy(&ca));

	/* Argument checks, with the mutex held. */
	MUST(pthread_mutex_lock(&mu));
	t0 = mono_ns();
	CHECK_ERR(pthread_cond_timedwait(&cv_real, &mu, &bad_nsec), EINVAL, "timedwait tv_nsec 1e9");
	CHECK_ERR(pthread_cond_timedwait(&cv_mono, &mu, &neg_nsec), EINVAL,
		  "timedwait (MONOTONIC cond) tv_nsec -1");
	CHECK_ERR(pthread_cond_clockwait(&cv_real, &mu, CLOCK_PROCESS_CPUTIME_ID, &zero), EINVAL,
		  "clockwait on CPUTIME");
	CHECK_ERR(pthread_cond_clockwait(&cv_real, &mu, (clockid_t)77, &bad_nsec), EINVAL,
		  "clockwait on a bad clock with tv_nsec 1e9");
	CHECK_ERR(pthread_cond_timedwait(&cv_real, &mu, &zero), ETIMEDOUT, "timedwait {0, 0}");
	CHECK_ERR(pthread_cond_timedwait(&cv_real, &mu, &neg_sec), ETIMEDOUT, "timedwait {-1, 0}");
	CHECK_ERR(pthread_cond_timedwait(&cv_mono, &mu, &neg_sec), ETIMEDOUT,
		  "timedwait (MONOTONIC cond) {-1, 0}");
	CHECK_ERR(pthread_cond_clockwait(&cv_real, &mu, CLOCK_MONOTONIC, &zero), ETIMEDOUT,
		  "clockwait MONOTONIC {0, 0}");
	CHECK(mono_ns() - t0 < MS(1000), "all of those returned at once");
	CHECK(owned(), "mutex still owned after them");
	MUST(pthread_mutex_unlock(&mu));

	MUST(pthread_mutex_lock(&mu));
	MUST(pthread_create(&t, NULL, wait_on_mutex_not_mine, NULL));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(eperm_result, EPERM, "timedwait with an errorcheck mutex owned by another thread");
	MUST(pthread_mutex_unlock(&mu));

	times_out("timedwait, default cond (REALTIME)", &cv_real, 0, 0, CLOCK_REALTIME);
	times_out("timedwait, MONOTONIC cond", &cv_mono, 0, 0, CLOCK_MONOTONIC);
	times_out("clockwait MONOTONIC, default cond", &cv_real, CLOCK_MONOTONIC, 1, CLOCK_MONOTONIC);
	times_out("clockwait REALTIME, default cond", &cv_real, CLOCK_REALTIME, 1, CLOCK_REALTIME);
	times_out("clockwait REALTIME, MONOTONIC cond", &cv_mono, CLOCK_REALTIME, 1, CLOCK_REALTIME);
	times_out("clockwait MONOTONIC, MONOTONIC cond", &cv_mono, CLOCK_MONOTONIC, 1, CLOCK_MONOTONIC);

	/* The deadline passes while another thread holds the mutex for 250 ms. */
	{
		struct timespec dl;
		int rc;

		MUST(pthread_mutex_lock(&mu));
		MUST(pthread_create(&t, NULL, grab_and_hold, NULL));
		atomic_store(&main_waiting, 1);
		dl = deadline_in(CLOCK_REALTIME, MS(30));
		rc = pthread_cond_timedwait(&cv_real, &mu, &dl);
		int64_t returned_at = mono_ns();
		CHECK_ERR(rc, ETIMEDOUT, "timedwait 30 ms while another thread holds the mutex 250 ms");
		CHECK(owned(), "mutex owned on return");
		MUST(pthread_mutex_unlock(&mu));
		MUST(pthread_join(t, NULL));
		CHECK(returned_at >= holder_unlocked_at, "returned only after the holder's unlock");
	}

	signalled("timedwait, default cond", &cv_real, CLOCK_REALTIME, 0);
	signalled("timedwait, MONOTONIC cond", &cv_mono, CLOCK_MONOTONIC, 0);
	signalled("clockwait MONOTONIC", &cv_real, CLOCK_MONOTONIC, 1);
	signalled("clockwait REALTIME", &cv_mono, CLOCK_REALTIME, 1);
	CHECK_ERR(pthread_cond_destroy(&cv_mono), 0, "destroy the MONOTONIC cond");
	return check_done();
}
