/* Hazard: a signal a thread sends itself from inside libc, where no hook
 * sees it: abort() (and assert) raise SIGABRT with glibc's internal raise,
 * a raw tgkill is one system call. The kernel runs the handler on that
 * call's way out, before it returns: abort's handler must run before abort
 * goes on to reset SIGABRT and kill the process (a handler that leaves with
 * siglongjmp recovers, the classic use), and a tgkill's handler before
 * syscall() returns. In a thread that blocks the signal, a tgkill stays
 * pending for that thread until it unblocks it. A second thread keeps
 * running meanwhile. */
#define _GNU_SOURCE
#include <assert.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static sigjmp_buf env;
static atomic_int aborts, usr1;
static volatile pthread_t usr1_by;

static void on_abrt(int sig)
{
	(void)sig;
	atomic_fetch_add(&aborts, 1);
	siglongjmp(env, 1);
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1_by = pthread_self();
	atomic_fetch_add(&usr1, 1);
}

static void tgkill_self(int sig)
{
	syscall(SYS_tgkill, getpid(), gettid(), sig);
}

static void *worker(void *arg)
{
	sigset_t m;

	(void)arg;
	if (sigsetjmp(env, 1) == 0)
		abort();
	CHECK(atomic_load(&aborts) == 1, "abort ran the SIGABRT handler, which left by siglongjmp");
	if (sigsetjmp(env, 1) == 0)
		assert(!"a failing assert");
	CHECK(atomic_load(&aborts) == 2, "so did a failing assert");

	tgkill_self(SIGUSR1);
	CHECK(atomic_load(&usr1) == 1 && pthread_equal(usr1_by, pthread_self()),
	      "a raw tgkill runs the handler in this thread before it returns");

	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &m, NULL);
	tgkill_self(SIGUSR1);
	sigset_t p;
	sigpending(&p);
	CHECK(atomic_load(&usr1) == 1 && sigismember(&p, SIGUSR1),
	      "blocked here: the tgkill is pending for this thread");
	pthread_sigmask(SIG_UNBLOCK, &m, NULL);
	CHECK(atomic_load(&usr1) == 2 && pthread_equal(usr1_by, pthread_self()),
	      "and runs in it once unblocked");
	return NULL;
}

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return arg;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_abrt};
	pthread_t w, tk;
	sigset_t m;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGABRT, &sa, NULL));
	sa.sa_handler = on_usr1;
	MUST(sigaction(SIGUSR1, &sa, NULL));
	/* Main and the ticker leave SIGUSR1 to the worker. */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &m, NULL));
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	sigemptyset(&m);
	pthread_attr_t attr;
	MUST(pthread_attr_init(&attr));
	MUST(pthread_attr_setsigmask_np(&attr, &m));
	MUST(pthread_create(&w, &attr, worker, NULL));
	MUST(pthread_join(w, NULL));
	/* The worker may finish within the ticker's first millisecond:
	 * give it up to 5 s to tick once, parked in a sleep of main's. */
	for (int i = 0; i < 5000 && atomic_load(&ticks) == 0; i++)
		sleep_ms(1);
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	CHECK(atomic_load(&ticks) > 0, "the ticker ran");
	return check_done();
}
