/* Hazard: in a fork child, libuv's own fork handler closes its signal lock
 * pipe (a pipe of the process, not of a loop) and makes another, on the
 * lowest free numbers. The old numbers are free in the child, and the
 * program's next files land on them; greenify's list of the runtime's own
 * fds (which a close of the program's must leave alone) must follow the
 * move, or the close of a file of the child's own gives EBADF. CPython's
 * multiprocessing pool worker, forked from a forked process, died so at the
 * close of its queue's pipe (test_multiprocessing_fork's
 * TestStdinBadfiledescriptor), and the pool made new workers without end.
 *
 * A number is left free below the runtime's fds before the fork (the
 * child's new lock pipe takes it); the child and a grandchild each open 64
 * files, close every one (each close must succeed, and the number be free
 * after), and their threads still sleep and hand bytes over a pipe. */
/* run-also: disable */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { NFILES = 64, ROUNDS = 20 };

static int ping[2], pong[2];

/* Answers each byte on ping with one on pong, until ping ends. */
static void *echo(void *arg)
{
	char c;

	(void)arg;
	while (read(ping[0], &c, 1) == 1)
		if (write(pong[1], &c, 1) != 1)
			break;
	return NULL;
}

static void *nap(void *arg)
{
	(void)arg;
	sleep_ms(2);
	return NULL;
}

/* Threads sleep and hand bytes back and forth: the runtime works. */
static int threads_work(void)
{
	pthread_t e, n;
	int ok = pipe(ping) == 0 && pipe(pong) == 0;
	char c = 'x';

	if (!ok || pthread_create(&e, NULL, echo, NULL) != 0)
		return 0;
	ok &= pthread_create(&n, NULL, nap, NULL) == 0;
	for (int i = 0; i < ROUNDS && ok; i++)
		ok = write(ping[1], &c, 1) == 1 && read(pong[0], &c, 1) == 1;
	ok &= pthread_join(n, NULL) == 0;
	close(ping[1]);
	ok &= pthread_join(e, NULL) == 0;
	ok &= close(ping[0]) == 0 && close(pong[0]) == 0 && close(pong[1]) == 0;
	return ok;
}

/* Opens NFILES files (pipes and dups) and closes each: how many closes
 * failed or left the number open. */
static int open_close_files(void)
{
	int fds[NFILES], n = 0, bad = 0;

	while (n + 2 <= NFILES) {
		if (pipe(&fds[n]) != 0)
			break;
		n += 2;
		fds[n] = dup(1);
		if (fds[n] < 0)
			break;
		n++;
	}
	if (n < NFILES - 2)
		return -1;
	for (int i = 0; i < n; i++) {
		if (close(fds[i]) != 0) {
			fprintf(stderr, "close(%d): %s\n", fds[i], errname(errno));
			bad++;
		} else if (fcntl(fds[i], F_GETFD) != -1 || errno != EBADF) {
			fprintf(stderr, "fd %d still open after its close\n", fds[i]);
			bad++;
		}
	}
	return bad;
}

static int wait_status(pid_t pid)
{
	int status = -1;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* One generation: its files and threads, then (depth > 0) a child's. */
static int generation(const char *who, int depth)
{
	pid_t pid;

	CHECK(open_close_files() == 0, "%s: %d files of its own opened and each closed", who,
	      NFILES);
	CHECK(threads_work(), "%s: threads sleep and hand bytes over", who);
	if (depth == 0)
		return check_done();
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		exit(generation("grandchild", depth - 1));
	CHECK(pid > 0 && wait_status(pid) == 0, "%s: its child exits 0", who);
	return check_done();
}

int main(void)
{
	int hole;
	pid_t pid;

	alarm(30);
	hole = dup(2); /* below every fd the runtime makes at its start */
	MUST(hole < 0 ? -1 : 0);
	CHECK(threads_work(), "parent: threads sleep and hand bytes over");
	MUST(close(hole));

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		exit(generation("child", 1));
	CHECK(pid > 0 && wait_status(pid) == 0, "parent: the child exits 0");
	CHECK(open_close_files() == 0, "parent: %d files of its own opened and each closed",
	      NFILES);
	return check_done();
}
