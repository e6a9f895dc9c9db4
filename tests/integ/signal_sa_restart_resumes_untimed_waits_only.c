/* Hazard: SA_RESTART.  When a handler installed with SA_RESTART interrupts
 * a futex wait, Linux restarts an untimed wait (it re-checks the futex word
 * and waits again) but never a timed one (a timed futex wait returns EINTR
 * whatever the flags).  glibc passes that on, so natively:
 *   sem_wait on 0, handler posts -> 0 (the restarted wait sees the post),
 *     value 0 afterwards;
 *   sem_timedwait / sem_clockwait (2 s), handler only counts -> -1 EINTR;
 *   raw FUTEX_WAIT without timeout, handler changes the word -> -1 EAGAIN
 *     (the restarted wait finds a new value);
 *   raw FUTEX_WAIT with a 2 s timeout, handler only counts -> -1 EINTR.
 * A one-shot POSIX timer sends SIGUSR1 100 ms after each wait starts; only
 * main exists, so natively the signal hits the blocked thread. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t handled;
static sem_t sem;
static unsigned word;
static timer_t timer;

static void count_signal(int sig)
{
	(void)sig;
	handled++;
}

static void count_and_post(int sig)
{
	(void)sig;
	handled++;
	sem_post(&sem);
}

static void count_and_change_word(int sig)
{
	(void)sig;
	handled++;
	__atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
}

static void on_sigusr1(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	MUST(sigaction(SIGUSR1, &sa, NULL));
}

static int64_t arm(void)
{
	struct itimerspec it = { .it_value = { 0, 100 * 1000000 } };

	handled = 0;
	MUST(timer_settime(timer, 0, &it, NULL));
	return mono_ns();
}

static void result(const char *what, long rc, int err, int want, int64_t t0)
{
	int64_t dt = mono_ns() - t0;

	CHECK_ERR(rc == -1 ? err : (int)rc, want, "%s", what);
	CHECK(handled == 1, "%s: the handler ran once", what);
	CHECK(dt >= MS(90) && dt < MS(1500), "%s: returned at the signal", what);
}

int main(void)
{
	struct sigevent ev;
	struct timespec dl, rel = { 2, 0 };
	int64_t t0;
	long rc;
	int v = -1;

	alarm(20);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	MUST(timer_create(CLOCK_MONOTONIC, &ev, &timer));
	MUST(sem_init(&sem, 0, 0));

	on_sigusr1(count_and_post);
	t0 = arm();
	rc = sem_wait(&sem);
	result("SA_RESTART, sem_wait, the handler posts", rc, errno, 0, t0);
	MUST(sem_getvalue(&sem, &v));
	CHECK(v == 0, "the restarted wait took the handler's post");

	on_sigusr1(count_signal);
	dl = deadline_in(CLOCK_REALTIME, MS(2000));
	t0 = arm();
	rc = sem_timedwait(&sem, &dl);
	result("SA_RESTART, sem_timedwait 2 s", rc, errno, EINTR, t0);
	dl = deadline_in(CLOCK_MONOTONIC, MS(2000));
	t0 = arm();
	rc = sem_clockwait(&sem, CLOCK_MONOTONIC, &dl);
	result("SA_RESTART, sem_clockwait MONOTONIC 2 s", rc, errno, EINTR, t0);

	on_sigusr1(count_and_change_word);
	t0 = arm();
	rc = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	result("SA_RESTART, FUTEX_WAIT no timeout, the handler changes the word", rc, errno, EAGAIN,
	       t0);

	on_sigusr1(count_signal);
	word = 0;
	t0 = arm();
	rc = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
	result("SA_RESTART, FUTEX_WAIT 2 s", rc, errno, EINTR, t0);

	MUST(timer_delete(timer));
	return check_done();
}
