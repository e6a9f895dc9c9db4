/* Hazard: readiness calls on one OS thread. 1,000 threads block in poll,
 * 500 in select (their pipes are made first, so that every fd fits an
 * fd_set) and 1,000 in epoll_wait, each on a pipe of its own
 * (infinite, long and no timeouts mixed); main writes a byte to every pipe
 * in reverse order; every thread must wake and read exactly its byte.
 * Also: poll with a 30 ms timeout on an idle pipe returns 0 after >= 30 ms
 * with revents cleared; select reports the time left; a negative fd is
 * ignored by poll; select with nfds < 0 is EINVAL. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include "check.h"

#define N 1000
#define NS 500

static int pipes[3][N][2];
static atomic_int woke[3];

static void *in_poll(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct pollfd p[2] = { { -1, POLLIN, 0 }, { pipes[0][i][0], POLLIN, 0 } };
	char c;

	if (poll(p, 2, i % 2 ? -1 : 60000) == 1 && (p[1].revents & POLLIN) && p[0].revents == 0 &&
	    read(pipes[0][i][0], &c, 1) == 1 && c == (char)i)
		atomic_fetch_add(&woke[0], 1);
	return NULL;
}

static void *in_select(void *arg)
{
	int i = (int)(intptr_t)arg, fd = pipes[1][i][0];
	fd_set rd;
	struct timeval tv = { 60, 0 };
	char c;

	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	if (select(fd + 1, &rd, NULL, NULL, i % 2 ? NULL : &tv) == 1 && FD_ISSET(fd, &rd) &&
	    read(fd, &c, 1) == 1 && c == (char)i)
		atomic_fetch_add(&woke[1], 1);
	return NULL;
}

static void *in_epoll(void *arg)
{
	int i = (int)(intptr_t)arg, ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i }, out;
	char c;

	epoll_ctl(ep, EPOLL_CTL_ADD, pipes[2][i][0], &ev);
	if (epoll_wait(ep, &out, 1, i % 2 ? -1 : 60000) == 1 && out.data.u32 == (uint32_t)i &&
	    read(pipes[2][i][0], &c, 1) == 1 && c == (char)i)
		atomic_fetch_add(&woke[2], 1);
	close(ep);
	return NULL;
}

int main(void)
{
	static pthread_t t[3][N];
	void *(*fn[3])(void *) = { in_poll, in_select, in_epoll };
	int idle[2];

	alarm(60);
	int count[3] = { N, NS, N };
	for (int i = 0; i < NS; i++) /* first: fds below FD_SETSIZE */
		MUST(pipe(pipes[1][i]));
	MUST(pipes[1][NS - 1][0] >= FD_SETSIZE);
	for (int i = 0; i < N; i++) {
		MUST(pipe(pipes[0][i]));
		MUST(pipe(pipes[2][i]));
	}
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < count[k]; i++)
			MUST(pthread_create(&t[k][i], NULL, fn[k], (void *)(intptr_t)i));
	sleep_ms(100); /* let them all block */
	for (int i = N - 1; i >= 0; i--)
		for (int k = 0; k < 3; k++) {
			char c = (char)i;
			if (i < count[k])
				MUST(write(pipes[k][i][1], &c, 1) != 1);
		}
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < count[k]; i++)
			MUST(pthread_join(t[k][i], NULL));
	CHECK(atomic_load(&woke[0]) == N, "all %d threads in poll woke with their byte", N);
	CHECK(atomic_load(&woke[1]) == NS, "all %d threads in select woke with their byte", NS);
	CHECK(atomic_load(&woke[2]) == N, "all %d threads in epoll_wait woke with their byte", N);

	for (int k = 0; k < 3; k++)
		for (int i = 0; i < count[k]; i++) {
			close(pipes[k][i][0]);
			close(pipes[k][i][1]);
		}
	MUST(pipe(idle)); /* low numbers again: select can take them */
	struct pollfd p = { idle[0], POLLIN, 12345 };
	int64_t t0 = mono_ns();
	int r = poll(&p, 1, 30);
	int64_t took = mono_ns() - t0;
	CHECK(r == 0 && p.revents == 0, "poll on an idle pipe times out with revents cleared");
	CHECK(took >= MS(30) && took < MS(2000), "after its 30 ms");
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(idle[0], &rd);
	struct timeval tv = { 0, 20000 };
	r = select(idle[0] + 1, &rd, NULL, NULL, &tv);
	CHECK(r == 0 && tv.tv_sec == 0 && tv.tv_usec == 0 && !FD_ISSET(idle[0], &rd),
	      "select times out, clears the set and leaves no time");
	CHECK(select(-1, NULL, NULL, NULL, &tv) == -1 && errno == EINVAL, "select nfds -1: EINVAL");
	return check_done();
}
