/* Hazard: with green threads all on one OS thread, the signal mask must
 * still be each thread's own, or one thread blocking a signal blocks it
 * for all, and a signal meant for a thread that blocks it runs in another.
 *   - pthread_create: the new thread inherits its creator's mask; one
 *     made with pthread_attr_setsigmask_np starts with that mask;
 *   - main and A block SIGUSR1, B does not: kill() to the process is
 *     handled by B (the only thread that takes it), while B sleeps;
 *   - pthread_kill(A) stays pending on A while A blocks it: A's
 *     sigpending shows it, main's does not, B (which takes SIGUSR1) does
 *     not get it; when A unblocks it the handler runs in A before
 *     pthread_sigmask returns;
 *   - pthread_sigmask with a bad `how` -> EINVAL and *old untouched (with
 *     no new set, `how` is not looked at); sigprocmask -> -1 EINVAL;
 *     SIGKILL, SIGSTOP and glibc's internal 32 and 33 are silently not
 *     blocked, even by SIG_SETMASK of a full set;
 *   - fork in a thread that blocks SIGUSR2 while main does not: the child
 *     blocks it, as the thread that forked it did. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pthread_barrier_t bar;
static pthread_t a, b;
static volatile sig_atomic_t handled;
static pthread_t handled_by;
static int a_inherited, b_inherited, a_pending_before, a_count_before, a_ran_inside;

static void on_usr1(int sig)
{
	(void)sig;
	handled_by = pthread_self();
	handled++;
}

static int blocks(int sig)
{
	sigset_t cur;

	sigemptyset(&cur);
	MUST(pthread_sigmask(SIG_BLOCK, NULL, &cur));
	return sigismember(&cur, sig);
}

static void *thread_a(void *arg)
{
	sigset_t usr1, pend;

	(void)arg;
	a_inherited = blocks(SIGUSR1);
	pthread_barrier_wait(&bar); /* 1: masks set */
	pthread_barrier_wait(&bar); /* 2: B handled the process's signal */
	pthread_barrier_wait(&bar); /* 3: main sent SIGUSR1 to A */
	sigemptyset(&pend);
	MUST(sigpending(&pend));
	a_pending_before = sigismember(&pend, SIGUSR1);
	a_count_before = handled;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	MUST(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
	a_ran_inside = handled == a_count_before + 1 && pthread_equal(handled_by, pthread_self());
	pthread_barrier_wait(&bar); /* 4 */
	return NULL;
}

static void *thread_b(void *arg)
{
	sigset_t usr1;
	struct timespec ms = {0, 1000000};

	(void)arg;
	b_inherited = blocks(SIGUSR1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	MUST(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
	pthread_barrier_wait(&bar); /* 1 */
	for (int i = 0; i < 5000 && !handled; i++)
		nanosleep(&ms, NULL); /* EINTR natively only if it was asleep */
	pthread_barrier_wait(&bar); /* 2 */
	pthread_barrier_wait(&bar); /* 3 */
	pthread_barrier_wait(&bar); /* 4 */
	return NULL;
}

static void *report_mask(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)(blocks(SIGUSR2) * 2 + blocks(SIGUSR1));
}

static void *fork_blocking_usr2(void *arg)
{
	sigset_t usr2;
	int status = -1;
	pid_t pid;

	(void)arg;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &usr2, NULL));
	pid = fork();
	if (pid == 0)
		_exit(blocks(SIGUSR2) ? 7 : 8);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return NULL;
	return (void *)(intptr_t)WEXITSTATUS(status);
}

int main(void)
{
	struct sigaction sa = {0};
	sigset_t usr1, pend, all, cur, before, after;
	pthread_attr_t attr;
	pthread_t t;
	void *r;

	alarm(20);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
	MUST(pthread_barrier_init(&bar, NULL, 3));
	MUST(pthread_create(&a, NULL, thread_a, NULL));
	MUST(pthread_create(&b, NULL, thread_b, NULL));
	pthread_barrier_wait(&bar); /* 1 */
	CHECK(a_inherited == 1 && b_inherited == 1, "new threads inherit main's blocked SIGUSR1");

	MUST(kill(getpid(), SIGUSR1));
	pthread_barrier_wait(&bar); /* 2 */
	CHECK(handled == 1 && pthread_equal(handled_by, b),
	      "kill() to the process is handled by B, the thread that does not block it");

	MUST(pthread_kill(a, SIGUSR1));
	sigemptyset(&pend);
	MUST(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR1), "main's sigpending does not show A's signal");
	pthread_barrier_wait(&bar); /* 3 */
	pthread_barrier_wait(&bar); /* 4 */
	CHECK(a_pending_before == 1 && a_count_before == 1,
	      "pthread_kill to A stays pending on A while A blocks it (B does not take it)");
	CHECK(a_ran_inside, "unblocking runs the handler in A before pthread_sigmask returns");
	MUST(pthread_join(a, NULL));
	MUST(pthread_join(b, NULL));

	sigemptyset(&cur);
	MUST(pthread_attr_init(&attr));
	sigemptyset(&all);
	sigaddset(&all, SIGUSR2);
	MUST(pthread_attr_setsigmask_np(&attr, &all));
	MUST(pthread_create(&t, &attr, report_mask, NULL));
	MUST(pthread_join(t, &r));
	CHECK(r == (void *)2, "pthread_attr_setsigmask_np: the thread starts with that mask");
	MUST(pthread_attr_destroy(&attr));

	memset(&before, 0x5a, sizeof(before));
	after = before;
	CHECK_ERR(pthread_sigmask(12345, &usr1, &after), EINVAL, "pthread_sigmask(bad how)");
	CHECK(memcmp(&before, &after, sizeof(before)) == 0, "*old untouched on EINVAL");
	CHECK_ERR(pthread_sigmask(12345, NULL, &after), 0, "pthread_sigmask(bad how, no set)");
	CHECK(sigismember(&after, SIGUSR1) == 1, "that still reports the mask");
	errno = 0;
	CHECK(sigprocmask(-1, &usr1, NULL) == -1 && errno == EINVAL, "sigprocmask(bad how) -> -1 EINVAL");

	memset(&all, 0xff, sizeof(all));
	MUST(pthread_sigmask(SIG_SETMASK, &all, &before));
	sigemptyset(&cur);
	MUST(pthread_sigmask(SIG_BLOCK, NULL, &cur));
	CHECK(!sigismember(&cur, SIGKILL) && !sigismember(&cur, SIGSTOP),
	      "SIGKILL and SIGSTOP are silently not blocked");
	CHECK(!sigismember(&cur, 32) && !sigismember(&cur, 33),
	      "glibc's internal signals 32 and 33 are silently not blocked");
	CHECK(sigismember(&cur, SIGUSR2) && sigismember(&cur, SIGRTMAX), "the rest is blocked");
	MUST(pthread_sigmask(SIG_SETMASK, &before, NULL));

	MUST(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL));
	MUST(pthread_create(&t, NULL, fork_blocking_usr2, NULL));
	MUST(pthread_join(t, &r));
	CHECK(r == (void *)7, "a child forked by a thread that blocks SIGUSR2 blocks it");
	CHECK(blocks(SIGUSR2) == 0, "main still does not block SIGUSR2");
	return check_done();
}
