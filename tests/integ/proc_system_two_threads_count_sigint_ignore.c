/* Hazard: system() from two threads at once. glibc counts the callers:
 * the first sets SIGINT and SIGQUIT to be ignored, the last puts back the
 * dispositions the first found (saving and restoring per call leaves
 * SIG_IGN behind when the calls overlap); each caller blocks SIGCHLD in
 * its own mask meanwhile and has its mask back when it returns (Debian's
 * glibc 2.36 has the fix that restores every caller's). While the commands
 * run, only the callers wait: a ticker thread keeps ticking. The shell gets
 * SIGINT and SIGQUIT at their default unless they were ignored (a shell
 * that kills itself with SIGINT dies of it; an ignored SIGQUIT stays
 * ignored), the command's exit status comes back, and system(NULL) says a
 * shell exists. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static atomic_int long_started, short_done;
static int long_status, short_status;
static int short_sigint_ignored, short_chld_blocked;
static int long_chld_blocked;
static int during_sigint_ignored, during_sigquit_ignored;

static void on_int(int sig)
{
	(void)sig;
}

static int disposition_ignored(int sig)
{
	struct sigaction cur;

	sigaction(sig, NULL, &cur);
	return cur.sa_handler == SIG_IGN;
}

static int chld_blocked(void)
{
	sigset_t m;

	pthread_sigmask(SIG_BLOCK, NULL, &m);
	return sigismember(&m, SIGCHLD);
}

static void *ticker(void *arg)
{
	while (!atomic_load(&stop)) {
		sleep_ms(5);
		atomic_fetch_add(&ticks, 1);
	}
	return arg;
}

static void *long_caller(void *arg)
{
	atomic_store(&long_started, 1);
	long_status = system("sleep 0.6; exit 3");
	long_chld_blocked = chld_blocked();
	return arg;
}

static void *short_caller(void *arg)
{
	short_status = system("sleep 0.1");
	short_sigint_ignored = disposition_ignored(SIGINT);
	short_chld_blocked = chld_blocked();
	atomic_store(&short_done, 1);
	return arg;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_int};
	pthread_t tk, lc, sc;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGINT, &sa, NULL));
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&lc, NULL, long_caller, NULL));
	while (!atomic_load(&long_started))
		sleep_ms(1);
	sleep_ms(150); /* the long command runs */
	MUST(pthread_create(&sc, NULL, short_caller, NULL));
	sleep_ms(50);
	during_sigint_ignored = disposition_ignored(SIGINT);
	during_sigquit_ignored = disposition_ignored(SIGQUIT);
	int t0 = atomic_load(&ticks);
	MUST(pthread_join(sc, NULL));
	MUST(pthread_join(lc, NULL));
	int ticked = atomic_load(&ticks) - t0;

	CHECK(during_sigint_ignored && during_sigquit_ignored,
	      "SIGINT and SIGQUIT ignored while the commands run");
	CHECK(WIFEXITED(short_status) && WEXITSTATUS(short_status) == 0, "short command: status 0");
	CHECK(short_sigint_ignored, "after the first return, SIGINT still ignored (the other runs)");
	CHECK(!short_chld_blocked, "the first to return has its mask back");
	CHECK(WIFEXITED(long_status) && WEXITSTATUS(long_status) == 3, "long command: status 3");
	CHECK(!long_chld_blocked, "the last to return has its mask back");
	struct sigaction now;
	sigaction(SIGINT, NULL, &now);
	CHECK(now.sa_handler == on_int, "after the last return, SIGINT's handler is back");
	CHECK(!disposition_ignored(SIGQUIT), "and SIGQUIT's default");
	CHECK(ticked >= 10, "a ticker thread kept ticking while both waited");
	fprintf(stderr, "ticks while the two waited: %d\n", ticked);

	int st = system("kill -INT $$; exit 9");
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "the shell gets SIGINT at its default");
	signal(SIGQUIT, SIG_IGN);
	st = system("kill -QUIT $$; exit 5");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5, "an ignored SIGQUIT stays ignored in the shell");
	CHECK(disposition_ignored(SIGQUIT), "and in the caller afterwards");
	CHECK(system(NULL) != 0, "system(NULL): there is a shell");
	st = system("exit 7");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "system(\"exit 7\") -> status 7");

	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	return check_done();
}
