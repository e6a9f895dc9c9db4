/* Hazard: a process whose fd table is full (every number up to
 * RLIMIT_NOFILE taken) can still wait: natively poll, select, epoll_wait,
 * read and accept need no fd of their own, so they must not fail with
 * EMFILE. Each waits for another thread's write (or connect); a ticker
 * runs meanwhile; opening one more fd still fails with EMFILE. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static int p[2], ep, lst, conn;
static atomic_int ticks, stop;
static struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "\0greenify-full-table"};

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *write_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	if (write(p[1], "f", 1) != 1)
		abort();
	return NULL;
}

static void *connect_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	if (connect(conn, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		abort();
	return NULL;
}

static pthread_t later(void *(*fn)(void *))
{
	pthread_t t;

	MUST(pthread_create(&t, NULL, fn, NULL));
	return t;
}

int main(void)
{
	struct rlimit rl, old;
	pthread_t tick, t;
	int t0, n = 0, a, last = -1;
	char c;

	alarm(30);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pipe(p));
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(bind(lst, (struct sockaddr *)&addr, sizeof(addr)));
	MUST(listen(lst, 4));
	conn = socket(AF_UNIX, SOCK_STREAM, 0);
	/* Fill the table up to a limit of 256. */
	MUST(getrlimit(RLIMIT_NOFILE, &old));
	rl = old;
	rl.rlim_cur = 256;
	MUST(setrlimit(RLIMIT_NOFILE, &rl));
	for (int d; (d = dup(0)) >= 0; n++)
		last = d;
	CHECK(errno == EMFILE, "the fd table is full (EMFILE)");
	fprintf(stderr, "filled %d fds\n", n);

	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	t = later(write_later);
	t0 = atomic_load(&ticks);
	CHECK(poll(&pf, 1, -1) == 1 && pf.revents == POLLIN, "poll waits and wakes");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	MUST(pthread_join(t, NULL));
	MUST(read(p[0], &c, 1) != 1);

	struct pollfd two[2] = {{.fd = p[0], .events = POLLIN}, {.fd = p[1], .events = POLLIN}};
	t = later(write_later);
	CHECK(poll(two, 2, -1) == 1 && two[0].revents == POLLIN, "poll of two fds waits and wakes");
	MUST(pthread_join(t, NULL));
	MUST(read(p[0], &c, 1) != 1);

	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &rd);
	t = later(write_later);
	CHECK(select(p[1] + 1, &rd, NULL, NULL, NULL) == 1 && FD_ISSET(p[0], &rd),
	      "select waits and wakes");
	MUST(pthread_join(t, NULL));
	MUST(read(p[0], &c, 1) != 1);

	t = later(write_later);
	CHECK(epoll_wait(ep, &out, 1, -1) == 1, "epoll_wait waits and wakes");
	MUST(pthread_join(t, NULL));

	CHECK(read(p[0], &c, 1) == 1, "read finds the byte");
	t = later(write_later);
	CHECK(read(p[0], &c, 1) == 1 && c == 'f', "read waits and gets the next");
	MUST(pthread_join(t, NULL));

	t = later(connect_later);
	MUST(close(last)); /* accept needs one number for the new socket */
	errno = 0;
	a = accept(lst, NULL, NULL);
	CHECK(a >= 0, "accept waits and takes the connection");
	MUST(pthread_join(t, NULL));
	errno = 0;
	CHECK(dup(0) == -1 && errno == EMFILE, "the table is still full");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
