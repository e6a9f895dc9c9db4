/* Hazard: sigsuspend, pause and sigwait block in the kernel until a
 * signal comes; called from a green thread they must park only that
 * thread, or every other thread stops with it (and the thread meant to
 * send the signal never runs). Main blocks SIGUSR1 (with a counting
 * handler, no SA_RESTART) and SIGUSR2 (no handler: its default action
 * would kill the process); threads inherit that. A ticker thread counts
 * milliseconds to show the others kept running.
 *   - sigsuspend(empty mask), SIGUSR1 sent by another thread 30 ms later
 *     -> -1 EINTR after the handler ran in the waiter; the ticker ran
 *     meanwhile; afterwards SIGUSR1 is blocked again;
 *   - sigsuspend with SIGUSR1 already pending -> EINTR at once;
 *   - pause() in a thread that takes SIGUSR1 -> -1 EINTR at the signal;
 *   - sigwait({SIGUSR2}) while kill() sends SIGUSR2 to the process 30 ms
 *     later: the waiter takes it (the process lives), the ticker ran;
 *   - sigwaitinfo after pthread_sigqueue(waiter, SIGUSR2, 42): SI_QUEUE
 *     and the value 42; sigwait takes a raise()d SIGUSR2 (SI_USER);
 *   - sigtimedwait: zero timeout with nothing pending -> EAGAIN at once;
 *     30 ms -> EAGAIN after 30 ms; a bad tv_nsec -> EINVAL; interrupted
 *     by the handler of SIGUSR1 (which the waiter takes) -> EINTR;
 *   - sigpending shows a blocked SIGUSR2 sent to the process, and
 *     sigwait then takes it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t handled;
static pthread_t handled_by;
static atomic_int ticks, stop;
static sem_t ready;

static void on_usr1(int sig)
{
	(void)sig;
	handled_by = pthread_self();
	handled++;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static int blocks(int sig)
{
	sigset_t cur;

	sigemptyset(&cur);
	MUST(pthread_sigmask(SIG_BLOCK, NULL, &cur));
	return sigismember(&cur, sig);
}

struct result {
	int r, err, ran_here, ticks_during, blocked_after, info_code, info_value;
	int64_t took;
};

static void start(struct result *res, int64_t *t0, int *k0)
{
	(void)res;
	*k0 = atomic_load(&ticks);
	sem_post(&ready);
	*t0 = mono_ns();
}

static void finish(struct result *res, int64_t t0, int k0, int before)
{
	res->err = res->r < 0 ? errno : 0;
	res->took = mono_ns() - t0;
	res->ticks_during = atomic_load(&ticks) - k0;
	res->ran_here = handled == before + 1 && pthread_equal(handled_by, pthread_self());
	res->blocked_after = blocks(SIGUSR1);
}

static void *suspend_empty(void *arg)
{
	struct result *res = arg;
	sigset_t none;
	int64_t t0;
	int k0, before = handled;

	sigemptyset(&none);
	start(res, &t0, &k0);
	res->r = sigsuspend(&none);
	finish(res, t0, k0, before);
	return NULL;
}

static void *suspend_pending(void *arg)
{
	struct result *res = arg;
	sigset_t none;
	int64_t t0;
	int k0, before = handled;

	MUST(pthread_kill(pthread_self(), SIGUSR1));
	sigemptyset(&none);
	start(res, &t0, &k0);
	res->r = sigsuspend(&none);
	finish(res, t0, k0, before);
	return NULL;
}

static void *pause_unblocked(void *arg)
{
	struct result *res = arg;
	sigset_t usr1;
	int64_t t0;
	int k0, before = handled;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	MUST(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
	start(res, &t0, &k0);
	res->r = pause();
	finish(res, t0, k0, before);
	return NULL;
}

static void *wait_usr2(void *arg)
{
	struct result *res = arg;
	sigset_t usr2;
	int64_t t0;
	int k0, sig = 0;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	start(res, &t0, &k0);
	res->r = sigwait(&usr2, &sig) == 0 ? sig : -1;
	res->took = mono_ns() - t0;
	res->ticks_during = atomic_load(&ticks) - k0;
	return NULL;
}

static void *waitinfo_usr2(void *arg)
{
	struct result *res = arg;
	sigset_t usr2;
	siginfo_t info;
	int64_t t0;
	int k0;

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	start(res, &t0, &k0);
	res->r = sigwaitinfo(&usr2, &info);
	res->info_code = info.si_code;
	res->info_value = info.si_value.sival_int;
	return NULL;
}

static void *timedwait_interrupted(void *arg)
{
	struct result *res = arg;
	sigset_t usr1, usr2;
	struct timespec five = {5, 0};
	int64_t t0;
	int k0, before = handled;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	MUST(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	start(res, &t0, &k0);
	res->r = sigtimedwait(&usr2, NULL, &five);
	finish(res, t0, k0, before);
	return NULL;
}

/* Runs fn in a thread; when sig is not 0, sends it 30 ms after the thread
 * is ready (and once the ticker has ticked since): to the thread (pthread_kill) or, when to_process, with kill. */
static void run(void *(*fn)(void *), struct result *res, int sig, int to_process)
{
	pthread_t t;

	memset(res, 0, sizeof(*res));
	MUST(pthread_create(&t, NULL, fn, res));
	MUST(sem_wait(&ready));
	if (sig) {
		int k = atomic_load(&ticks);

		sleep_ms(30);
		/* The ticker runs once more before the signal: natively a
		 * crowded CPU may not have run it in 30 ms; under the preload
		 * it cannot run unless the wait parked only its thread. */
		wait_above(&ticks, k);
		if (to_process)
			MUST(kill(getpid(), sig));
		else
			MUST(pthread_kill(t, sig));
	}
	MUST(pthread_join(t, NULL));
}

int main(void)
{
	struct sigaction sa = {0};
	sigset_t both, usr2, pend;
	struct timespec zero = {0, 0}, ms30 = {0, 30000000}, bad = {0, 1000000000};
	struct result res;
	pthread_t tick, t;
	int64_t t0;
	int sig = 0;

	alarm(30);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &both, NULL));
	MUST(sem_init(&ready, 0, 0));
	MUST(pthread_create(&tick, NULL, ticker, NULL));

	run(suspend_empty, &res, SIGUSR1, 0);
	CHECK(res.r == -1 && res.err == EINTR && res.ran_here,
	      "sigsuspend -> EINTR after the handler ran in the waiter");
	CHECK(res.took >= MS(25) && res.ticks_during > 0,
	      "sigsuspend waited for the signal while another thread ran");
	CHECK(res.blocked_after == 1, "sigsuspend put the mask back");

	run(suspend_pending, &res, 0, 0);
	CHECK(res.r == -1 && res.err == EINTR && res.ran_here && res.took < MS(2000),
	      "sigsuspend with the signal pending -> EINTR at once");

	run(pause_unblocked, &res, SIGUSR1, 0);
	CHECK(res.r == -1 && res.err == EINTR && res.ran_here && res.ticks_during > 0,
	      "pause -> EINTR at the signal, other threads ran meanwhile");

	run(wait_usr2, &res, SIGUSR2, 1);
	CHECK(res.r == SIGUSR2 && res.took >= MS(25) && res.ticks_during > 0,
	      "sigwait takes SIGUSR2 sent to the process 30 ms later; others ran meanwhile");

	memset(&res, 0, sizeof(res));
	MUST(pthread_create(&t, NULL, waitinfo_usr2, &res));
	MUST(sem_wait(&ready));
	MUST(pthread_sigqueue(t, SIGUSR2, (union sigval){.sival_int = 42}));
	MUST(pthread_join(t, NULL));
	CHECK(res.r == SIGUSR2 && res.info_code == SI_QUEUE && res.info_value == 42,
	      "sigwaitinfo after pthread_sigqueue: SI_QUEUE, value 42");

	siginfo_t info;
	MUST(raise(SIGUSR2));
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	CHECK(sigwaitinfo(&usr2, &info) == SIGUSR2 && info.si_code == SI_USER,
	      "sigwaitinfo takes a raise()d SIGUSR2 (SI_USER)");

	t0 = mono_ns();
	errno = 0;
	CHECK(sigtimedwait(&usr2, NULL, &zero) == -1 && errno == EAGAIN && mono_ns() - t0 < MS(20),
	      "sigtimedwait, zero timeout, nothing pending -> EAGAIN at once");
	t0 = mono_ns();
	errno = 0;
	CHECK(sigtimedwait(&usr2, NULL, &ms30) == -1 && errno == EAGAIN && mono_ns() - t0 >= MS(29),
	      "sigtimedwait 30 ms -> EAGAIN after 30 ms");
	errno = 0;
	CHECK(sigtimedwait(&usr2, NULL, &bad) == -1 && errno == EINVAL,
	      "sigtimedwait, tv_nsec 1e9 -> EINVAL");

	run(timedwait_interrupted, &res, SIGUSR1, 0);
	CHECK(res.r == -1 && res.err == EINTR && res.ran_here && res.took < MS(2000),
	      "sigtimedwait interrupted by another signal's handler -> EINTR");

	MUST(kill(getpid(), SIGUSR2));
	sigemptyset(&pend);
	MUST(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR2) && !sigismember(&pend, SIGUSR1),
	      "sigpending shows the blocked SIGUSR2 sent to the process");
	CHECK(sigwait(&usr2, &sig) == 0 && sig == SIGUSR2, "sigwait takes it");
	sigemptyset(&pend);
	MUST(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR2), "then nothing is pending");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
