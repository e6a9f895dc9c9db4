/* Hazard: thrd_sleep's contract is C11's, as glibc keeps it on top of
 * clock_nanosleep (CLOCK_REALTIME, relative): 0 when the time has passed,
 * -1 when a signal handler interrupted it, another negative value (glibc:
 * -2) on an error; errno is never touched; rem is written on -1 only. And
 * a thread in thrd_sleep parks only itself:
 *   50 ms in a thread -> 0, no earlier than asked, rem and errno untouched,
 *     a ticker thread ticking meanwhile; a zero sleep -> 0;
 *   2 s in a thread that another thread's pthread_kill interrupts after
 *     50 ms (a handler without SA_RESTART, then with it: a sleep is never
 *     restarted) -> -1, the handler ran in the sleeper, rem holds what was
 *     left (more than 1 s, at most 2 s), errno untouched; with rem NULL -> -1;
 *   tv_nsec 1e9, tv_nsec -1, tv_sec -1 -> -2 at once, rem untouched. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "c11.h"

static atomic_int handled;
static volatile pthread_t handled_in;

static void on_usr1(int sig)
{
	(void)sig;
	handled_in = pthread_self();
	atomic_fetch_add(&handled, 1);
}

struct sleep_case {
	struct timespec req;
	struct timespec rem;
	int use_rem;
	int rc, err_after;
	atomic_int asleep;
};

static int sleeper(void *arg)
{
	struct sleep_case *c = arg;

	errno = EDOM;
	atomic_store(&c->asleep, 1);
	c->rc = thrd_sleep(&c->req, c->use_rem ? &c->rem : NULL);
	c->err_after = errno;
	return 0;
}

static void interrupted(const char *how, int use_rem)
{
	struct sleep_case c = { .req = { 2, 0 }, .rem = { 77, 77 }, .use_rem = use_rem };
	thrd_t t;

	atomic_store(&handled, 0);
	MUST(thrd_create(&t, sleeper, &c));
	while (!atomic_load(&c.asleep))
		sleep_ms(1);
	sleep_ms(50);
	MUST(pthread_kill((pthread_t)t, SIGUSR1));
	MUST(thrd_join(t, NULL));
	CHECK(c.rc == -1, "%s: thrd_sleep 2 s interrupted by a handler -> -1", how);
	CHECK(atomic_load(&handled) == 1 && pthread_equal(handled_in, (pthread_t)t),
	      "%s: the handler ran in the sleeper", how);
	CHECK_ERR(c.err_after, EDOM, "%s: errno untouched", how);
	if (use_rem) {
		int64_t left = ts_ns(&c.rem);
		CHECK(left > MS(1000) && left <= MS(2000) && c.rem.tv_nsec >= 0 &&
			      c.rem.tv_nsec < 1000000000,
		      "%s: rem holds what was left", how);
		fprintf(stderr, "%s: %lld ms left\n", how, (long long)(left / 1000000));
	}
}

int main(void)
{
	static const struct timespec bad[] = { { 0, 1000000000 }, { 0, -1 }, { -1, 0 } };
	struct sigaction sa = { .sa_handler = on_usr1 };
	thrd_t tick, t;

	alarm(20);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(thrd_create(&tick, ticker, NULL));

	struct sleep_case c = { .req = { 0, 50 * 1000000 }, .rem = { 77, 77 }, .use_rem = 1 };
	int t0 = atomic_load(&ticks);
	int64_t s0 = mono_ns();
	MUST(thrd_create(&t, sleeper, &c));
	MUST(thrd_join(t, NULL));
	CHECK(c.rc == 0, "thrd_sleep 50 ms -> 0");
	CHECK(mono_ns() - s0 >= MS(50), "no earlier than asked");
	CHECK(c.rem.tv_sec == 77 && c.rem.tv_nsec == 77, "rem untouched");
	CHECK_ERR(c.err_after, EDOM, "errno untouched");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while it slept");
	struct timespec zero = { 0, 0 };
	CHECK(thrd_sleep(&zero, NULL) == 0, "a zero thrd_sleep -> 0");

	interrupted("no SA_RESTART", 1);
	interrupted("rem NULL", 0);
	sa.sa_flags = SA_RESTART;
	MUST(sigaction(SIGUSR1, &sa, NULL));
	interrupted("SA_RESTART", 1);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct timespec rem = { 77, 77 };
		int64_t b0 = mono_ns();
		errno = EDOM;
		int rc = thrd_sleep(&bad[i], &rem);
		CHECK(rc == -2, "thrd_sleep({%ld, %ld}) -> -2", (long)bad[i].tv_sec,
		      (long)bad[i].tv_nsec);
		CHECK(errno == EDOM && rem.tv_sec == 77 && rem.tv_nsec == 77 &&
			      mono_ns() - b0 < MS(500),
		      "at once, errno and rem untouched");
	}

	atomic_store(&ticker_stop, 1);
	MUST(thrd_join(tick, NULL));
	return check_done();
}
