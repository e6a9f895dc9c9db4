/* Hazard: a fork made with every signal blocked, while another thread
 * that blocks none lives on, the way Ruby's fork does it (it blocks all
 * signals around fork() and restores the old mask in both processes). The
 * parent's OS thread then blocks only what every thread blocks (little),
 * the forking thread much more. In the child the forking thread is the
 * only one and the OS thread blocks what it blocks; when the child then
 * restores its empty mask, the kernel must stop blocking too: a SIGUSR1
 * from the parent reaches the child's handler (found under Ruby 3.1: its
 * test_process.rb's test_signals_work_after_exec_fail hung, its forked
 * child deaf to every signal, SIGTERM included). The child also blocks
 * SIGUSR2 on its own, gets it from the parent while blocked (pending, no
 * handler run) and unblocks it (handled before sigprocmask returns). */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int wake[2];	  /* the lingering thread waits on it */
static int ready[2];	  /* child -> parent: "send the next signal" */
static int handled[2];	  /* handler -> child's main: the signal number */
static volatile sig_atomic_t usr2_runs;

static void *linger(void *arg)
{
	char c;

	/* Blocks no signal: the parent's threads disagree on every one. */
	if (read(wake[0], &c, 1) != 1)
		return NULL;
	return arg;
}

static void on_sig(int sig)
{
	unsigned char c = (unsigned char)sig;

	if (sig == SIGUSR2)
		usr2_runs++;
	if (write(handled[1], &c, 1) != 1)
		_exit(3);
}

/* SigBlk of /proc/self/status, the kernel's mask of the calling task. */
static unsigned long long kernel_blocked(void)
{
	char line[256];
	unsigned long long m = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return m;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &m) == 1)
			break;
	fclose(f);
	return m;
}

/* The signal the handler reported, or -1 after 10 s (a hang guard). */
static int handled_signal(void)
{
	struct pollfd p = {handled[0], POLLIN, 0};
	unsigned char c;
	int r;

	do
		r = poll(&p, 1, 10000);
	while (r < 0 && errno == EINTR);
	if (r != 1 || read(handled[0], &c, 1) != 1)
		return -1;
	return c;
}

static void tell_parent(void)
{
	if (write(ready[1], "r", 1) != 1)
		_exit(4);
}

static int child(const sigset_t *old)
{
	struct sigaction sa;
	sigset_t cur, usr2, pend;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(sigaction(SIGUSR2, &sa, NULL));

	MUST(pthread_sigmask(SIG_SETMASK, old, NULL));
	MUST(pthread_sigmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigisemptyset(&cur), "child: the restored mask is empty");
	/* SIGSYS aside: greenify may keep it open for its own use. */
	CHECK((kernel_blocked() & ~(1ULL << (SIGSYS - 1))) == 0,
	      "child: the kernel blocks nothing either");

	tell_parent();
	CHECK(handled_signal() == SIGUSR1, "child: the parent's SIGUSR1 ran the handler");

	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &usr2, NULL));
	tell_parent();
	/* Sent to the process: pending once the kill returned in the parent,
	 * which answers on the pipe only then. */
	{
		char c;
		CHECK(read(ready[0], &c, 1) == 1, "child: the parent sent SIGUSR2");
	}
	sigemptyset(&pend);
	MUST(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR2) && usr2_runs == 0,
	      "child: SIGUSR2 pending while blocked, no handler run");
	MUST(pthread_sigmask(SIG_UNBLOCK, &usr2, NULL));
	CHECK(usr2_runs == 1, "child: unblocking SIGUSR2 ran its handler at once");
	CHECK(handled_signal() == SIGUSR2, "child: the handler reported SIGUSR2");
	fflush(stdout);
	return check_failures ? 1 : 0;
}

int main(void)
{
	pthread_t t;
	sigset_t all, old;
	int st = 0, to_child[2];
	char c;
	pid_t pid;

	MUST(pipe(wake));
	MUST(pipe(ready));
	MUST(pipe(handled));
	MUST(pipe(to_child));
	MUST(pthread_create(&t, NULL, linger, NULL));
	/* The other thread is parked in its read before the fork. */
	sleep_ms(20);

	sigfillset(&all);
	MUST(pthread_sigmask(SIG_SETMASK, &all, &old));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		ready[0] = to_child[0];
		_exit(child(&old));
	}
	MUST(pthread_sigmask(SIG_SETMASK, &old, NULL));
	CHECK(pid > 0, "fork");
	close(ready[1]);
	close(to_child[0]);

	CHECK(read(ready[0], &c, 1) == 1, "parent: the child restored its mask");
	MUST(kill(pid, SIGUSR1));
	CHECK(read(ready[0], &c, 1) == 1, "parent: the child blocked SIGUSR2");
	MUST(kill(pid, SIGUSR2));
	CHECK(write(to_child[1], "s", 1) == 1, "parent: told the child");

	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's checks passed");

	CHECK(write(wake[1], "w", 1) == 1, "wake the lingering thread");
	MUST(pthread_join(t, NULL));
	return check_done();
}
