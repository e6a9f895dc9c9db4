/* Hazard: clock_nanosleep on a CPU-time clock that other threads advance:
 * the process's (CLOCK_PROCESS_CPUTIME_ID, relative and TIMER_ABSTIME) and
 * another thread's (pthread_getcpuclockid) returns 0 once that clock has
 * gained the time, while a thread computes (glibc's rt/tst-cpuclock2). The
 * call went to the kernel and blocked the one OS thread, so the computing
 * thread never ran and the clock never moved: a hang (here the alarm's
 * SIGALRM). The caller's own thread clock stays EINVAL, as the kernel says,
 * and so does a bad tv_nsec. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static atomic_int stop, started;

static void *chew(void *arg)
{
	static volatile unsigned long sink;

	(void)arg;
	atomic_store(&started, 1);
	while (!atomic_load(&stop)) {
		for (int i = 0; i < 100000; i++)
			sink += (unsigned long)i;
		sched_yield();
	}
	return NULL;
}

static int64_t clock_now(clockid_t clk)
{
	struct timespec ts;

	MUST(clock_gettime(clk, &ts));
	return ts_ns(&ts);
}

int main(void)
{
	const struct timespec d100 = {0, 100000000}, d50 = {0, 50000000}, bad = {0, 1000000000};
	clockid_t chewer_clk, own_clk;
	struct timespec abs;
	pthread_t t;
	int64_t before;

	alarm(20); /* hang guard */
	MUST(pthread_create(&t, NULL, chew, NULL));
	wait_above(&started, 0);
	MUST(pthread_getcpuclockid(t, &chewer_clk));
	MUST(pthread_getcpuclockid(pthread_self(), &own_clk));

	before = clock_now(CLOCK_PROCESS_CPUTIME_ID);
	CHECK_ERR(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &d100, NULL), 0,
		  "100 ms on the process's CPU clock");
	CHECK(clock_now(CLOCK_PROCESS_CPUTIME_ID) - before >= MS(100),
	      "the process's CPU clock gained 100 ms");

	before = clock_now(CLOCK_PROCESS_CPUTIME_ID);
	abs.tv_sec = (before + MS(100)) / 1000000000;
	abs.tv_nsec = (before + MS(100)) % 1000000000;
	CHECK_ERR(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &abs, NULL), 0,
		  "TIMER_ABSTIME 100 ms ahead on the process's CPU clock");
	CHECK(clock_now(CLOCK_PROCESS_CPUTIME_ID) >= before + MS(100), "that time reached");

	before = clock_now(chewer_clk);
	CHECK_ERR(clock_nanosleep(chewer_clk, 0, &d50, NULL), 0,
		  "50 ms on the computing thread's CPU clock");
	CHECK(clock_now(chewer_clk) - before >= MS(50), "its clock gained 50 ms");

	CHECK_ERR(clock_nanosleep(own_clk, 0, &d50, NULL), EINVAL, "on the caller's own clock id");
	CHECK_ERR(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &d50, NULL), EINVAL,
		  "on CLOCK_THREAD_CPUTIME_ID");
	CHECK_ERR(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &bad, NULL), EINVAL,
		  "tv_nsec 1e9 on the process's CPU clock");

	atomic_store(&stop, 1);
	MUST(pthread_join(t, NULL));
	return check_done();
}
