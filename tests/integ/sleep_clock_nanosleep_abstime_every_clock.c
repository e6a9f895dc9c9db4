/* Hazard: a TIMER_ABSTIME deadline is a time on the named clock, not a
 * delay, and each clock keeps its own time (CLOCK_REALTIME can be set,
 * CLOCK_BOOTTIME counts suspend, CLOCK_TAI is offset by leap seconds).  On
 * every sleepable clock a deadline 50 ms ahead must return 0 once that clock
 * has reached it, and not much later; a deadline in the past, even {0, 0},
 * returns 0 at once; *rem is never written.  Four threads, one per clock,
 * sleep at the same time. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

struct clock_case {
	clockid_t clk;
	const char *name;
	struct result { /* printed by main */
		int future_rc, reached, prompt;
		int past_rc, epoch_rc, past_at_once;
		int rem_untouched;
	} r;
};

static struct clock_case cases[] = {
	{ .clk = CLOCK_REALTIME, .name = "CLOCK_REALTIME" },
	{ .clk = CLOCK_MONOTONIC, .name = "CLOCK_MONOTONIC" },
	{ .clk = CLOCK_BOOTTIME, .name = "CLOCK_BOOTTIME" },
	{ .clk = CLOCK_TAI, .name = "CLOCK_TAI" },
};

static void *sleep_until(void *arg)
{
	struct clock_case *c = arg;
	struct timespec rem = { 77, 77 }, dl;
	int64_t t0;

	dl = deadline_in(c->clk, MS(50));
	t0 = mono_ns();
	c->r.future_rc = clock_nanosleep(c->clk, TIMER_ABSTIME, &dl, &rem);
	c->r.reached = clock_ns(c->clk) >= ts_ns(&dl);
	c->r.prompt = mono_ns() - t0 < MS(1000);

	dl = deadline_in(c->clk, -MS(10000));
	t0 = mono_ns();
	c->r.past_rc = clock_nanosleep(c->clk, TIMER_ABSTIME, &dl, &rem);
	dl = (struct timespec){ 0, 0 };
	c->r.epoch_rc = clock_nanosleep(c->clk, TIMER_ABSTIME, &dl, &rem);
	c->r.past_at_once = mono_ns() - t0 < MS(500);
	c->r.rem_untouched = rem.tv_sec == 77 && rem.tv_nsec == 77;
	return NULL;
}

static void report(const char *who)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct clock_case *c = &cases[i];

		CHECK_ERR(c->r.future_rc, 0, "%s: %s, deadline 50 ms ahead", who, c->name);
		CHECK(c->r.reached, "%s: %s: the clock had reached the deadline", who, c->name);
		CHECK(c->r.prompt, "%s: %s: returned within a second", who, c->name);
		CHECK_ERR(c->r.past_rc, 0, "%s: %s, deadline 10 s ago", who, c->name);
		CHECK_ERR(c->r.epoch_rc, 0, "%s: %s, deadline {0, 0}", who, c->name);
		CHECK(c->r.past_at_once, "%s: %s: past deadlines returned at once", who, c->name);
		CHECK(c->r.rem_untouched, "%s: %s: rem untouched", who, c->name);
		c->r = (struct result){ .future_rc = -1, .past_rc = -1, .epoch_rc = -1 };
	}
}

int main(void)
{
	pthread_t t[sizeof cases / sizeof cases[0]];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		MUST(pthread_create(&t[i], NULL, sleep_until, &cases[i]));
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		MUST(pthread_join(t[i], NULL));
	report("threads");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		sleep_until(&cases[i]);
	report("main");
	return check_done();
}
