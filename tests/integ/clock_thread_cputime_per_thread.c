/* Hazard: a thread's CPU clock is its own. One thread computes for at
 * least 200 ms of its own CPU time while another sleeps 100 ms: the
 * computing one's clock (CLOCK_THREAD_CPUTIME_ID, and the id
 * pthread_getcpuclockid gives, read by main while it runs) shows at least
 * 200 ms, the sleeper's under 30 ms, and main's clock did not take the
 * computing thread's time (under 100 ms: main's own work is 21 ms natively
 * and up to 48 ms preloaded under qemu-aarch64, which charges its code
 * translation to the thread that runs the code first). clock_getres of both clocks is glibc's (1 ns).
 * Once the thread has ended, pthread_getcpuclockid of it says ESRCH and
 * its old clock id EINVAL. */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "check.h"

static pthread_barrier_t go;
static int64_t busy_own, sleeper_own;
static atomic_int done_busy;

static void *busy(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&go);
	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < MS(200))
		;
	busy_own = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	atomic_store(&done_busy, 1);
	pthread_barrier_wait(&go); /* main reads our clock */
	pthread_barrier_wait(&go);
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	sleep_ms(100);
	sleeper_own = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

int main(void)
{
	pthread_t b, s;
	clockid_t bclk;
	struct timespec ts, res;

	int64_t main_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	MUST(pthread_barrier_init(&go, NULL, 2));
	MUST(pthread_create(&b, NULL, busy, NULL));
	MUST(pthread_create(&s, NULL, sleeper, NULL));
	MUST(pthread_getcpuclockid(b, &bclk));
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&go);
	MUST(clock_gettime(bclk, &ts));
	CHECK(ts_ns(&ts) >= MS(200), "the computing thread's clock id shows its 200 ms");
	CHECK(busy_own >= MS(200), "its own CLOCK_THREAD_CPUTIME_ID too");
	CHECK_ERR(clock_getres(bclk, &res), 0, "clock_getres of its clock id");
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1, "resolution 1 ns");
	CHECK_ERR(clock_getres(CLOCK_THREAD_CPUTIME_ID, &res), 0, "clock_getres of CLOCK_THREAD_CPUTIME_ID");
	CHECK(res.tv_sec == 0 && res.tv_nsec == 1, "resolution 1 ns");
	pthread_barrier_wait(&go);
	MUST(pthread_join(s, NULL));
	CHECK(sleeper_own < MS(30), "the sleeper's clock shows little");
	CHECK(clock_ns(CLOCK_THREAD_CPUTIME_ID) - main_start < MS(100),
	      "main's clock did not take the computing thread's time");
	fprintf(stderr, "busy %lld ns, sleeper %lld ns\n", (long long)busy_own,
		(long long)sleeper_own);
	/* b has ended (it is joined below, after the checks). */
	sleep_ms(20);
	clockid_t again;
	CHECK_ERR(pthread_getcpuclockid(b, &again), ESRCH, "getcpuclockid of an ended thread");
	CHECK_ERR(clock_gettime(bclk, &ts) < 0 ? errno : 0, EINVAL, "its old clock id");
	MUST(pthread_join(b, NULL));
	return check_done();
}
