/* Hazard: splice from an empty pipe into an fd the kernel cannot splice
 * into fails at once natively, before any wait for data: one not open for
 * writing (/dev/zero read-only: EBADF), an epoll fd or an eventfd
 * (EINVAL); the preload first waited, parked, for the pipe to be readable,
 * so the call into /dev/zero never returned (LTP splice07). A splice from the
 * empty pipe into a blocking socket still waits for data and moves it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "check.h"

static int p[2];

static void *writer(void *arg)
{
	(void)arg;
	sleep_ms(20);
	MUST(write(p[1], "x", 1) == 1 ? 0 : -1);
	return NULL;
}

static void *in_thread(void *arg)
{
	int ep, ev, zero, sv[2];
	ssize_t r;
	char c;
	pthread_t t;

	(void)arg;
	MUST(pipe(p));
	ep = epoll_create1(0);
	ev = eventfd(0, 0);
	zero = open("/dev/zero", O_RDONLY);
	MUST(ep < 0 || ev < 0 || zero < 0 ? -1 : 0);
	errno = 0;
	r = splice(p[0], NULL, zero, NULL, 1, 0);
	CHECK_ERR(r < 0 ? errno : 0, EBADF, "splice empty pipe -> read-only /dev/zero");
	errno = 0;
	r = splice(p[0], NULL, ep, NULL, 1, 0);
	CHECK_ERR(r < 0 ? errno : 0, EINVAL, "splice empty pipe -> epoll fd");
	errno = 0;
	r = splice(p[0], NULL, ev, NULL, 1, 0);
	CHECK_ERR(r < 0 ? errno : 0, EINVAL, "splice empty pipe -> eventfd");

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	MUST(pthread_create(&t, NULL, writer, NULL));
	r = splice(p[0], NULL, sv[0], NULL, 1, 0);
	CHECK(r == 1, "splice empty pipe -> socket waits for the byte and moves it");
	CHECK(read(sv[1], &c, 1) == 1 && c == 'x', "the socket's peer reads it");
	MUST(pthread_join(t, NULL));
	close(ep);
	close(ev);
	close(zero);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	return NULL;
}

int main(void)
{
	run_thread(in_thread, NULL);
	return check_done();
}
