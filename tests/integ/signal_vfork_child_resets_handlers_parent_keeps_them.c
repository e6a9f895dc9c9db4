/* Hazard: a vfork child borrows its parent's memory until it execs, and
 * the child resets its signal handlers to SIG_DFL before exec (CPython's
 * subprocess does, for every signal with a handler). That reset is the
 * child's own: the parent keeps its handlers. A child then sends the
 * parent SIGHUP and SIGUSR1 while the parent waits for it in waitpid:
 * natively the handler has run by the time waitpid returns the child's
 * status, so the parent's "until it came, pause()" loop never pauses (a
 * lost signal would hang there until the alarm). Before any thread is
 * created (the runtime is not started yet), then again with a second
 * thread alive, parked in a read. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t got[NSIG];

static void on_sig(int sig)
{
	got[sig]++;
}

/* What CPython's child does between vfork and exec. */
static void reset_handlers(void)
{
	static const struct sigaction dfl = {.sa_handler = SIG_DFL};

	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction cur;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &cur) < 0)
			continue;
		if (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN)
			sigaction(sig, &dfl, NULL);
	}
}

/* Runs this program again as "send SIG", which kills its parent with SIG,
 * and waits for it as subprocess.Popen.wait() does; then CPython's
 * wait_signal loop. */
static void round_trip(const char *when, int sig)
{
	char arg[16];
	int status;
	pid_t pid, r;
	int before = got[sig]; /* the child may send it before vfork returns */

	snprintf(arg, sizeof(arg), "%d", sig);
	pid = vfork();
	if (pid == 0) {
		reset_handlers();
		execl("/proc/self/exe", "sender", "send", arg, (char *)NULL);
		_exit(127);
	}
	MUST(pid < 0 ? -1 : 0);
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	CHECK(r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s: the child that sends %s exited", when, strsignal(sig));
	CHECK(got[sig] == before + 1, "%s: its handler had run when waitpid returned", when);
	while (got[sig] == before)
		pause();
}

static int block_pipe[2];

static void *reader(void *arg)
{
	char c;

	(void)arg;
	while (read(block_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_sig};
	pthread_t t;

	if (argc == 3 && strcmp(argv[1], "send") == 0)
		return kill(getppid(), atoi(argv[2])) == 0 ? 0 : 1;

	/* A lost signal would leave the pause loop waiting: die then. */
	alarm(20);
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGHUP, &sa, NULL));
	MUST(sigaction(SIGUSR1, &sa, NULL));
	round_trip("single-threaded", SIGHUP);
	round_trip("single-threaded", SIGUSR1);

	MUST(pthread_create(&t, NULL, nothing, NULL));
	MUST(pthread_join(t, NULL));
	round_trip("after a thread ended", SIGHUP);

	MUST(pipe(block_pipe));
	MUST(pthread_create(&t, NULL, reader, NULL));
	round_trip("with a thread in a read", SIGHUP);
	round_trip("with a thread in a read", SIGUSR1);
	MUST(write(block_pipe[1], "x", 1) == 1 ? 0 : -1);
	MUST(pthread_join(t, NULL));

	struct sigaction now;
	MUST(sigaction(SIGHUP, NULL, &now));
	CHECK(now.sa_handler == on_sig, "the parent's SIGHUP handler is still its own");
	alarm(0);
	return check_done();
}
