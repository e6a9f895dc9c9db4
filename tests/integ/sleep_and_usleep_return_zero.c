/* Hazard: glibc's sleep and usleep do not go through the exported nanosleep,
 * so each needs its own hook, with its own contract: sleep returns 0 (the
 * unslept seconds) when it completes, usleep returns 0; both last at least
 * what was asked, leave errno alone, accept 0, and usleep accepts a full
 * second (glibc does not enforce POSIX's usec < 1000000).  Two threads doing
 * sleep(1) at the same time finish together, not one after the other. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

struct result {
	unsigned sleep1, sleep0;
	int usleep50ms, usleep0, usleep1s;
	int64_t sleep1_ns, usleep50ms_ns, usleep1s_ns;
	int errno_kept;
};

static void sleeps(struct result *r)
{
	int64_t t0;

	errno = EDOM;
	t0 = mono_ns();
	r->sleep1 = sleep(1);
	r->sleep1_ns = mono_ns() - t0;
	r->sleep0 = sleep(0);
	t0 = mono_ns();
	r->usleep50ms = usleep(50000);
	r->usleep50ms_ns = mono_ns() - t0;
	r->usleep0 = usleep(0);
	t0 = mono_ns();
	r->usleep1s = usleep(1000000);
	r->usleep1s_ns = mono_ns() - t0;
	r->errno_kept = errno == EDOM;
}

static void *thread(void *arg)
{
	sleeps(arg);
	return NULL;
}

static void report(const char *who, const struct result *r)
{
	CHECK(r->sleep1 == 0, "%s: sleep(1) returns 0", who);
	CHECK(r->sleep1_ns >= MS(1000), "%s: elapsed >= 1 s", who);
	CHECK(r->sleep0 == 0, "%s: sleep(0) returns 0", who);
	CHECK(r->usleep50ms == 0, "%s: usleep(50000) returns 0", who);
	CHECK(r->usleep50ms_ns >= MS(50), "%s: elapsed >= 50 ms", who);
	CHECK(r->usleep0 == 0, "%s: usleep(0) returns 0", who);
	CHECK(r->usleep1s == 0, "%s: usleep(1000000) returns 0", who);
	CHECK(r->usleep1s_ns >= MS(1000), "%s: elapsed >= 1 s", who);
	CHECK(r->errno_kept, "%s: errno untouched", who);
}

int main(void)
{
	struct result in_main, in_thread;
	pthread_t t;
	int64_t t0 = mono_ns();

	MUST(pthread_create(&t, NULL, thread, &in_thread));
	sleeps(&in_main);
	MUST(pthread_join(t, NULL));
	/* Each does 2.05 s of sleeping; one after the other would take 4.1 s. */
	CHECK(mono_ns() - t0 < MS(3500), "main and the thread slept at the same time");
	report("main", &in_main);
	report("thread", &in_thread);
	return check_done();
}
