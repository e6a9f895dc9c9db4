/* Hazard: a program closes numbers it never opened, as daemons and
 * spawners do, once threads exist: a loop of close() over every number
 * from 3, closefrom(3), close_range(3, ~0U, 0). Natively only the
 * program's own files (and what it inherited) are there to close; the
 * numbers greenify's runtime holds (its epoll sets, eventfds, timerfd,
 * libuv's pipes) are not the program's and must stay open, or the next
 * sleep or wait aborts the process. After each way of closing, threads
 * still sleep, hand a byte back and forth through a pipe, and start and
 * end; a close of a number nobody holds is EBADF, and close_range's bad
 * arguments are EINVAL, as natively. */
/* run-also: disable */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { MAX_FD = 1024, ROUNDS = 50 };

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

/* Threads sleep, hand bytes back and forth and start and end: the runtime
 * still works. */
static int threads_work(void)
{
	pthread_t e, n[4];
	int ok = pipe(ping) == 0 && pipe(pong) == 0;
	char c = 'x';

	if (!ok || pthread_create(&e, NULL, echo, NULL) != 0)
		return 0;
	for (int i = 0; i < 4; i++)
		ok &= pthread_create(&n[i], NULL, nap, NULL) == 0;
	for (int i = 0; i < ROUNDS && ok; i++)
		ok = write(ping[1], &c, 1) == 1 && read(pong[0], &c, 1) == 1;
	for (int i = 0; i < 4; i++)
		ok &= pthread_join(n[i], NULL) == 0;
	close(ping[1]);
	ok &= pthread_join(e, NULL) == 0;
	close(ping[0]);
	close(pong[0]);
	close(pong[1]);
	sleep_ms(5);
	return ok;
}

/* Files of the program's own, to be closed by the sweep. */
static int open_some(int fds[4])
{
	int p[2];

	if (pipe(p) != 0)
		return 0;
	fds[0] = p[0];
	fds[1] = p[1];
	fds[2] = open("/dev/null", O_RDONLY);
	fds[3] = dup(fds[2]);
	return fds[2] >= 0 && fds[3] >= 0;
}

static int all_closed(const int fds[4])
{
	for (int i = 0; i < 4; i++)
		if (fcntl(fds[i], F_GETFD) != -1 || errno != EBADF)
			return 0;
	return 1;
}

int main(void)
{
	int fds[4], bad = 0, closed = 0;

	CHECK(threads_work(), "threads sleep, hand bytes over and end");

	MUST(open_some(fds) ? 0 : -1);
	for (int fd = 3; fd < MAX_FD; fd++) {
		if (close(fd) == 0)
			closed++;
		else if (errno != EBADF)
			bad++;
	}
	fprintf(stderr, "close() of 3..%d: %d closed\n", MAX_FD - 1, closed);
	CHECK(bad == 0, "close() of every number from 3: each closes or gives EBADF");
	CHECK(all_closed(fds), "  the program's files are closed");
	CHECK(close(MAX_FD + 7) == -1 && errno == EBADF, "  a free number gives EBADF");
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");

	MUST(open_some(fds) ? 0 : -1);
	closefrom(3);
	CHECK(all_closed(fds), "closefrom(3): the program's files are closed");
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");

	MUST(open_some(fds) ? 0 : -1);
	CHECK(close_range(3, ~0U, 0) == 0, "close_range(3, ~0U, 0) succeeds");
	CHECK(all_closed(fds), "  the program's files are closed");
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");

	MUST(open_some(fds) ? 0 : -1);
	CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0 &&
		      (fcntl(fds[2], F_GETFD) & FD_CLOEXEC) != 0,
	      "close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) marks the files close-on-exec");
	CHECK(close_range(fds[0], fds[3] > fds[0] ? fds[3] : fds[0], 0) == 0 && all_closed(fds),
	      "close_range over the program's own files closes them");
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");

	errno = 0;
	CHECK(close_range(9, 3, 0) == -1 && errno == EINVAL, "close_range(9, 3): EINVAL");
	errno = 0;
	CHECK(close_range(3, 9, 0x40000000) == -1 && errno == EINVAL,
	      "close_range with an unknown flag: EINVAL");
	return check_done();
}
