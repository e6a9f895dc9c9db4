/* Hazard: once threads run, greenify's runtime holds file descriptors of
 * its own (libuv's epoll set, eventfd and pipes, its timerfd, signal fds,
 * the pidfd of a waitpid in progress). Natively those numbers are free,
 * and programs count on the kernel's numbering: the next open is the
 * lowest free number (LTP's tests compare it with 3, servers pass it to
 * children as a known number), dups until EMFILE come to the soft limit
 * less what the program holds, dup2 onto any number below the limit
 * succeeds (a daemon's dup2 onto a fixed number, a test that fills the
 * table), and syscall(SYS_close) over every number leaves the process
 * working. Each is checked here, with the threads sleeping, handing bytes
 * over a pipe and waiting for a child in between, and the counts printed
 * so that the preloaded run must print the native one's. */
/* run-also: disable */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { LIMIT = 64, ROUNDS = 20, TOP = 32, NAPS = 10 };

static int ping[2], pong[2];

static void *echo(void *arg)
{
	char c;

	(void)arg;
	while (read(ping[0], &c, 1) == 1)
		if (write(pong[1], &c, 1) != 1)
			break;
	return NULL;
}

static int probed;
static atomic_int counted; /* the first time, naps wait to be counted */

static void *nap(void *arg)
{
	(void)arg;
	while (!atomic_load(&counted))
		sleep_ms(1);
	sleep_ms(2);
	return NULL;
}

/* Threads sleep, hand bytes back and forth and start and end: the runtime
 * still works. */
static int threads_work(void)
{
	pthread_t e, n[NAPS];
	int ok = pipe(ping) == 0 && pipe(pong) == 0;
	char c = 'x';

	if (!ok || pthread_create(&e, NULL, echo, NULL) != 0)
		return 0;
	for (int i = 0; i < NAPS; i++)
		ok &= pthread_create(&n[i], NULL, nap, NULL) == 0;
	if (!probed++)
		fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), NAPS + 2);
	atomic_store(&counted, 1);
	for (int i = 0; i < ROUNDS && ok; i++)
		ok = write(ping[1], &c, 1) == 1 && read(pong[0], &c, 1) == 1;
	for (int i = 0; i < NAPS; i++)
		ok &= pthread_join(n[i], NULL) == 0;
	close(ping[1]);
	ok &= pthread_join(e, NULL) == 0;
	close(ping[0]);
	close(pong[0]);
	close(pong[1]);
	return ok;
}

/* Threads that only sleep and end: no fd of the program's is needed. */
static int naps_work(void)
{
	pthread_t n[NAPS];
	int ok = 1;

	for (int i = 0; i < NAPS; i++)
		ok &= pthread_create(&n[i], NULL, nap, NULL) == 0;
	for (int i = 0; i < NAPS; i++)
		ok &= pthread_join(n[i], NULL) == 0;
	return ok;
}

static pid_t child;
static int child_status = -1;

static void *reap(void *arg)
{
	(void)arg;
	if (waitpid(child, &child_status, 0) != child)
		child_status = -2;
	return NULL;
}

static int lowest_free(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

int main(void)
{
	struct rlimit rl, low;
	int first, n, last, bad, top;
	pthread_t r;

	MUST(getrlimit(RLIMIT_NOFILE, &rl));
	first = lowest_free();
	MUST(first >= 0 ? 0 : -1);

	CHECK(threads_work(), "threads sleep, hand bytes over and end");
	CHECK(lowest_free() == first, "after threads ran, the next number is the one before them");

	/* A thread waits for a child (a pidfd is the runtime's while it
	 * waits): the next number is still the program's lowest free one. */
	child = fork();
	if (child == 0) {
		usleep(100 * 1000);
		_exit(7);
	}
	MUST(child > 0 ? 0 : -1);
	MUST(pthread_create(&r, NULL, reap, NULL));
	sleep_ms(20);
	CHECK(lowest_free() == first, "while a thread waits for a child: the same next number");
	MUST(pthread_join(r, NULL));
	CHECK(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 7, "  the child is reaped");

	/* Dups until the table is full, under a soft limit of LIMIT. */
	low = rl;
	low.rlim_cur = LIMIT;
	MUST(setrlimit(RLIMIT_NOFILE, &low));
	n = 0;
	last = -1;
	errno = 0;
	for (int fd; (fd = dup(0)) >= 0; n++)
		last = fd;
	CHECK(errno == EMFILE, "dup until it fails: EMFILE (%s)", errname(errno));
	printf("dups until EMFILE under a soft limit of %d: %d, the last %d\n", LIMIT, n, last);
	CHECK(last == LIMIT - 1, "  the last number is the limit's last");
	CHECK(naps_work(), "  with the table full, threads sleep and end");
	for (int fd = first; fd < LIMIT; fd++)
		close(fd);

	/* dup2 onto every number below the limit, then the closes. */
	bad = 0;
	for (int fd = 3; fd < LIMIT; fd++)
		bad += dup2(0, fd) != fd;
	printf("dup2 onto 3..%d: %d failed\n", LIMIT - 1, bad);
	CHECK(naps_work(), "  with every number taken by dup2, threads sleep and end");
	bad = 0;
	for (int fd = 3; fd < LIMIT; fd++)
		bad += close(fd) != 0;
	printf("close of 3..%d: %d failed\n", LIMIT - 1, bad);
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");

	/* Back to the first limit; the highest numbers below it taken by
	 * dup2 (where a runtime that cannot go above the limit keeps its
	 * own), then every number below it closed by the raw system call. */
	MUST(setrlimit(RLIMIT_NOFILE, &rl));
	top = rl.rlim_cur > (1 << 16) ? 1 << 16 : (int)rl.rlim_cur;
	bad = 0;
	for (int fd = top - TOP; fd < top; fd++)
		bad += dup2(0, fd) != fd;
	printf("dup2 onto the %d highest numbers below the limit: %d failed\n", TOP, bad);
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");
	bad = 0;
	for (int fd = top - TOP; fd < top; fd++)
		bad += fcntl(fd, F_GETFD) < 0;
	printf("  of them open after: all but %d\n", bad);
	n = 0;
	for (int fd = 3; fd < top; fd++)
		n += syscall(SYS_close, fd) == 0;
	printf("syscall(SYS_close) of every number from 3: %d closed\n", n);
	CHECK(lowest_free() == 3, "  the next number is 3");
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");

	/* Bad arguments, as the kernel answers them. */
	errno = 0;
	CHECK(dup3(0, 0, 0) == -1 && errno == EINVAL, "dup3 of a number onto itself: EINVAL");
	errno = 0;
	CHECK(dup2(top - 1, 4) == -1 && errno == EBADF,
	      "dup2 of a free number (the limit's last): EBADF");
	errno = 0;
	CHECK(dup2(top - 1, top - 1) == -1 && errno == EBADF,
	      "dup2 of a free number onto itself: EBADF");
	if (rl.rlim_cur < (1U << 30)) {
		errno = 0;
		CHECK(dup2(0, (int)rl.rlim_cur) == -1 && errno == EBADF,
		      "dup2 onto the soft limit: EBADF");
	}
	errno = 0;
	CHECK(dup2(0, -1) == -1 && errno == EBADF, "dup2 onto -1: EBADF");
	CHECK(threads_work(), "  threads still sleep, hand bytes over and end");
	return check_done();
}
