/* Helpers for the C11 <threads.h> programs (*_c11_*.c): C11 results by
 * name, a ticker thread that must keep running while another thread waits,
 * TIME_UTC deadlines, and a trylock made by another thread. */
#ifndef INTEG_C11_H
#define INTEG_C11_H

#include <threads.h>

#include "check.h"

static inline const char *c11_name(int r)
{
	switch (r) {
	case thrd_success:
		return "thrd_success";
	case thrd_busy:
		return "thrd_busy";
	case thrd_error:
		return "thrd_error";
	case thrd_nomem:
		return "thrd_nomem";
	case thrd_timedout:
		return "thrd_timedout";
	}
	return "unknown";
}

/* Check a C11 result; prints "<what> yes", the names to stderr if not. */
#define CHECK_C11(got, want, ...)                                                                  \
	do {                                                                                       \
		int got_ = (got);                                                                  \
		if (!CHECK(got_ == (want), __VA_ARGS__))                                           \
			fprintf(stderr, "  got %s, want %s\n", c11_name(got_), c11_name(want));    \
	} while (0)

/* The ticker: counts milliseconds until told to stop. A wait that blocked
 * the OS thread instead of parking its own green thread stops it. */
static atomic_int ticks, ticker_stop;

static inline int ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&ticker_stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return 0;
}

/* A TIME_UTC (CLOCK_REALTIME) deadline delta_ns from now. */
static inline struct timespec utc_in(int64_t delta_ns)
{
	struct timespec ts;

	timespec_get(&ts, TIME_UTC);
	int64_t t = ts_ns(&ts) + delta_ns;
	ts.tv_sec = t / 1000000000;
	ts.tv_nsec = t % 1000000000;
	return ts;
}

static inline int64_t utc_ns(void)
{
	struct timespec ts;

	timespec_get(&ts, TIME_UTC);
	return ts_ns(&ts);
}

/* mtx_trylock of m by another thread (which unlocks what it got): its
 * result, passed back as that thread's value. */
static inline int c11_try_there(void *m)
{
	int r = mtx_trylock(m);

	if (r == thrd_success)
		mtx_unlock(m);
	return r;
}

static inline int trylock_elsewhere(mtx_t *m)
{
	thrd_t t;
	int res = -2;

	MUST(thrd_create(&t, c11_try_there, m));
	MUST(thrd_join(t, &res));
	return res;
}

#endif
