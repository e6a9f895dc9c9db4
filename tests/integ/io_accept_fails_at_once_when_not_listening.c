/* Hazard: accept on what is not a listening socket fails at once with the
 * kernel's error, it never waits: an unconnected TCP socket and a unix
 * stream socket that never listened (EINVAL), a UDP socket (EOPNOTSUPP),
 * a pipe and a regular file (ENOTSOCK), fd -1 and a closed fd (EBADF);
 * accept4 with unknown flags on a listener (EINVAL). On a listener:
 * O_NONBLOCK gives EAGAIN at once, SO_RCVTIMEO EAGAIN after it, a signal
 * without SA_RESTART EINTR, one with SA_RESTART lets the wait go on, and
 * a connection from another thread is taken, with its peer address,
 * while a ticker thread runs; a thread waiting in accept is cancelled. */
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

static atomic_int ticks, stop;
static struct sockaddr_in addr;
static int lst;
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

static void *connect_later(void *arg)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sleep_ms((int)(intptr_t)arg);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		abort();
	return (void *)(intptr_t)fd;
}

static void *signal_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static void *accept_forever(void *arg)
{
	(void)arg;
	accept(lst, NULL, NULL);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* accept's errno on fd, and whether it came without waiting (a wait
 * would end only at the alarm). */
static int accept_err(int fd)
{
	errno = 0;
	return accept(fd, NULL, NULL) < 0 ? errno : 0;
}

int main(void)
{
	char path[] = "/tmp/greenify-accept-XXXXXX";
	pthread_t tick, t, s;
	int p[2], f, fd, t0;
	void *ret;

	alarm(30);
	main_thread = pthread_self();
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_ERR(accept_err(fd), EINVAL, "accept on a TCP socket that is not listening");
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(accept_err(fd), EINVAL, "accept on a unix socket that never listened");
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK_ERR(accept_err(fd), EOPNOTSUPP, "accept on a UDP socket");
	close(fd);
	MUST(pipe(p));
	CHECK_ERR(accept_err(p[0]), ENOTSOCK, "accept on a pipe");
	f = mkstemp(path);
	unlink(path);
	CHECK_ERR(accept_err(f), ENOTSOCK, "accept on a regular file");
	CHECK_ERR(accept_err(-1), EBADF, "accept on fd -1");
	close(f);
	CHECK_ERR(accept_err(f), EBADF, "accept on a closed fd");

	lst = socket(AF_INET, SOCK_STREAM, 0);
	addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	MUST(bind(lst, (struct sockaddr *)&addr, sizeof(addr)));
	MUST(listen(lst, 8));
	MUST(getsockname(lst, (struct sockaddr *)&addr, &len));
	errno = 0;
	CHECK_ERR(accept4(lst, NULL, NULL, 0x4000000) < 0 ? errno : 0, EINVAL,
		  "accept4 with unknown flags");

	MUST(pthread_create(&t, NULL, connect_later, (void *)30));
	struct sockaddr_in peer;
	len = sizeof(peer);
	t0 = atomic_load(&ticks);
	int a = accept(lst, (struct sockaddr *)&peer, &len);
	CHECK(a >= 0 && len == sizeof(peer) && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	      "accept waits for the connection and gives the peer's address");
	CHECK(atomic_load(&ticks) > t0, "another thread ran while accept waited");
	MUST(pthread_join(t, &ret));
	CHECK(write((int)(intptr_t)ret, "h", 1) == 1 && read(a, &peer, 1) == 1,
	      "the accepted socket works");
	close(a);
	close((int)(intptr_t)ret);

	int d = dup(lst);
	MUST(fcntl(d, F_SETFL, O_NONBLOCK));
	CHECK_ERR(accept_err(lst), EAGAIN, "accept on a non-blocking listener");
	MUST(fcntl(d, F_SETFL, 0));
	close(d);

	struct timeval tv = {0, 30 * 1000};
	MUST(setsockopt(lst, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	int64_t start = mono_ns();
	CHECK_ERR(accept_err(lst), EAGAIN, "accept with SO_RCVTIMEO 30 ms and no connection");
	CHECK(mono_ns() - start >= MS(30), "after the timeout");
	tv = (struct timeval){0, 0};
	MUST(setsockopt(lst, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));

	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&s, NULL, signal_later, NULL));
	CHECK_ERR(accept_err(lst), EINTR, "a signal without SA_RESTART");
	MUST(pthread_join(s, NULL));
	sa.sa_flags = SA_RESTART;
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&s, NULL, signal_later, NULL));
	MUST(pthread_create(&t, NULL, connect_later, (void *)80));
	a = accept(lst, NULL, NULL);
	CHECK(a >= 0, "with SA_RESTART the wait goes on to the connection");
	MUST(pthread_join(s, NULL));
	MUST(pthread_join(t, &ret));
	close(a);
	close((int)(intptr_t)ret);

	MUST(pthread_create(&t, NULL, accept_forever, NULL));
	sleep_ms(30);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "a thread waiting in accept is cancelled");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
