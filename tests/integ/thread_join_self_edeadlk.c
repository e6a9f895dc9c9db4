/* Hazard: a thread that joins itself would wait forever.  glibc answers
 * EDEADLK at once from pthread_join, pthread_timedjoin_np and
 * pthread_clockjoin_np (before looking at the deadline), EINVAL from
 * pthread_clockjoin_np when the clock is bad (the clock is checked first), and
 * EBUSY from pthread_tryjoin_np (it only asks "has it ended?").  None of these
 * may detach or otherwise spoil the thread: it is still joinable afterwards. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

/* Results of the self-joins, one row per caller, printed by main in order. */
struct self_joins {
	int join, timedjoin, clockjoin_mono, clockjoin_real, clockjoin_badclock, tryjoin;
	int quick; /* all returned without waiting for the 2 s deadline */
};

static void join_self(struct self_joins *r)
{
	pthread_t self = pthread_self();
	struct timespec mono = deadline_in(CLOCK_MONOTONIC, MS(2000));
	struct timespec real = deadline_in(CLOCK_REALTIME, MS(2000));
	int64_t t0 = mono_ns();
	void *rv = (void *)-1;

	r->join = pthread_join(self, &rv);
	r->timedjoin = pthread_timedjoin_np(self, &rv, &real);
	r->clockjoin_mono = pthread_clockjoin_np(self, &rv, CLOCK_MONOTONIC, &mono);
	r->clockjoin_real = pthread_clockjoin_np(self, &rv, CLOCK_REALTIME, &real);
	r->clockjoin_badclock = pthread_clockjoin_np(self, &rv, (clockid_t)12345, &mono);
	r->tryjoin = pthread_tryjoin_np(self, &rv);
	r->quick = mono_ns() - t0 < MS(1500) && rv == (void *)-1;
}

static void report(const char *who, const struct self_joins *r)
{
	CHECK_ERR(r->join, EDEADLK, "%s: pthread_join(self)", who);
	CHECK_ERR(r->timedjoin, EDEADLK, "%s: pthread_timedjoin_np(self, +2s)", who);
	CHECK_ERR(r->clockjoin_mono, EDEADLK, "%s: pthread_clockjoin_np(self, MONOTONIC)", who);
	CHECK_ERR(r->clockjoin_real, EDEADLK, "%s: pthread_clockjoin_np(self, REALTIME)", who);
	CHECK_ERR(r->clockjoin_badclock, EINVAL, "%s: pthread_clockjoin_np(self, bad clock)", who);
	CHECK_ERR(r->tryjoin, EBUSY, "%s: pthread_tryjoin_np(self)", who);
	CHECK(r->quick, "%s: all returned at once and left the value alone", who);
}

static void *thread_joins_itself(void *arg)
{
	join_self(arg);
	sleep_ms(10);
	return (void *)42;
}

int main(void)
{
	struct self_joins in_main, in_thread;
	pthread_t t;
	void *rv = NULL;

	MUST(pthread_create(&t, NULL, thread_joins_itself, &in_thread));
	join_self(&in_main);
	CHECK_ERR(pthread_join(t, &rv), 0, "main joins the thread that tried to join itself");
	CHECK(rv == (void *)42, "and gets its value");
	report("main", &in_main);
	report("thread", &in_thread);
	return check_done();
}
