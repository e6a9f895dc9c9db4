/* Hazard: connect to a unix listener whose backlog is full blocks until
 * the listener accepts (natively 6 of 6 connect to a backlog of 1 that
 * another thread accepts from slowly, while a ticker thread runs), and
 * ends only as the kernel ends it: SO_SNDTIMEO gives EAGAIN after the
 * timeout, a signal without SA_RESTART EINTR, one with SA_RESTART lets it
 * go on; a cancelled thread waiting in connect is cancelled. The socket
 * is still a blocking one afterwards. Bad arguments and refusals give the
 * kernel's errors: a bad fd, a non-socket, a bad address length, a path
 * nobody listens on, an abstract name nobody listens on, a socket already
 * connected; TCP: a port nobody listens on, a listener that takes it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

#define N 6

static struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "\0greenify-backlog"};
static int lst;
static atomic_int ticks, stop, connected;
static pthread_t main_thread;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static int dial(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	return connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? fd : -1;
}

static void *connector(void *arg)
{
	int fd = dial();

	(void)arg;
	if (fd >= 0) {
		atomic_fetch_add(&connected, 1);
		close(fd);
	}
	return NULL;
}

static void *slow_acceptor(void *arg)
{
	int n = 0;

	(void)arg;
	sleep_ms(50);
	for (int i = 0; i < N; i++) {
		int a = accept(lst, NULL, NULL);
		if (a < 0)
			break;
		n++;
		close(a);
		sleep_ms(10);
	}
	return (void *)(intptr_t)n;
}

static void *signal_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static void *accept_later(void *arg)
{
	(void)arg;
	sleep_ms(80);
	for (int i = 0; i < 3; i++) {
		int a = accept(lst, NULL, NULL);
		if (a < 0)
			abort();
		close(a);
	}
	return NULL;
}

static void *connect_forever(void *arg)
{
	(void)arg;
	dial();
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int connect_err(int fd, const void *a, socklen_t len)
{
	errno = 0;
	return connect(fd, a, len) < 0 ? errno : 0;
}

int main(void)
{
	pthread_t tick, c[N], acc, s;
	int t0, q[2], fd;
	void *ret;

	alarm(30);
	main_thread = pthread_self();
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(bind(lst, (struct sockaddr *)&addr, sizeof(addr)));
	MUST(listen(lst, 1));

	t0 = atomic_load(&ticks);
	MUST(pthread_create(&acc, NULL, slow_acceptor, NULL));
	for (int i = 0; i < N; i++)
		MUST(pthread_create(&c[i], NULL, connector, NULL));
	for (int i = 0; i < N; i++)
		MUST(pthread_join(c[i], NULL));
	MUST(pthread_join(acc, &ret));
	CHECK(atomic_load(&connected) == N && (intptr_t)ret == N,
	      "%d threads connect to a backlog of 1 that another thread accepts slowly: all %d", N,
	      N);
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");

	/* Fill the backlog: 2 connections wait in a backlog of 1. */
	q[0] = dial();
	q[1] = dial();
	MUST(q[0] < 0 || q[1] < 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = {0, 30 * 1000};
	MUST(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	int64_t start = mono_ns();
	CHECK_ERR(connect_err(fd, &addr, sizeof(addr)), EAGAIN,
		  "connect to a full backlog with SO_SNDTIMEO 30 ms");
	CHECK(mono_ns() - start >= MS(30), "after the timeout");
	close(fd);

	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(pthread_create(&s, NULL, signal_later, NULL));
	CHECK_ERR(connect_err(fd, &addr, sizeof(addr)), EINTR,
		  "a signal without SA_RESTART while connect waits for room");
	MUST(pthread_join(s, NULL));
	close(fd);

	sa.sa_flags = SA_RESTART;
	MUST(sigaction(SIGUSR1, &sa, NULL));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(pthread_create(&s, NULL, signal_later, NULL));
	MUST(pthread_create(&acc, NULL, accept_later, NULL));
	CHECK_ERR(connect_err(fd, &addr, sizeof(addr)), 0,
		  "with SA_RESTART connect goes on until accepted");
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "and the socket is still blocking");
	MUST(pthread_join(s, NULL));
	MUST(pthread_join(acc, NULL));
	close(fd);
	close(q[0]);
	close(q[1]);

	q[0] = dial();
	q[1] = dial();
	MUST(pthread_create(&s, NULL, connect_forever, NULL));
	sleep_ms(30);
	MUST(pthread_cancel(s));
	MUST(pthread_join(s, &ret));
	CHECK(ret == PTHREAD_CANCELED, "a thread waiting in connect is cancelled");
	close(q[0]);
	close(q[1]);

	/* Errors. */
	CHECK_ERR(connect_err(-1, &addr, sizeof(addr)), EBADF, "connect on fd -1");
	int p[2];
	MUST(pipe(p));
	CHECK_ERR(connect_err(p[0], &addr, sizeof(addr)), ENOTSOCK, "connect on a pipe");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(connect_err(fd, &addr, 1), EINVAL, "connect with an address length of 1");
	struct sockaddr_un none = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/greenify"};
	CHECK_ERR(connect_err(fd, &none, sizeof(none)), ENOENT, "connect to a missing path");
	struct sockaddr_un nobody = {.sun_family = AF_UNIX, .sun_path = "\0greenify-nobody"};
	CHECK_ERR(connect_err(fd, &nobody, sizeof(nobody)), ECONNREFUSED,
		  "connect to an abstract name nobody listens on");
	int a = -1;
	MUST(pthread_create(&acc, NULL, accept_later, NULL));
	CHECK_ERR(connect_err(fd, &addr, sizeof(addr)), 0, "connect to the listener");
	CHECK_ERR(connect_err(fd, &addr, sizeof(addr)), EISCONN, "connect again");
	int q2 = dial(), q3 = dial();
	MUST(pthread_join(acc, NULL));
	close(q2);
	close(q3);
	close(fd);

	struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(in);
	int tl = socket(AF_INET, SOCK_STREAM, 0);
	MUST(bind(tl, (struct sockaddr *)&in, sizeof(in)));
	MUST(getsockname(tl, (struct sockaddr *)&in, &len));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(connect_err(fd, &in, sizeof(in)), ECONNREFUSED,
		  "TCP connect to a port nobody listens on");
	close(fd);
	MUST(listen(tl, 4));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(connect_err(fd, &in, sizeof(in)), 0, "TCP connect to a listener");
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "and the socket is still blocking");
	a = accept(tl, NULL, NULL);
	CHECK(a >= 0 && write(fd, "t", 1) == 1 && read(a, &in, 1) == 1, "the connection works");
	close(a);
	close(fd);
	close(tl);

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
