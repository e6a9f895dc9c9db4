/* Hazard: every blocking I/O call is a cancellation point (pthreads(7)):
 * a thread blocked in any of them is cancelled by pthread_cancel (join
 * gives PTHREAD_CANCELED): read, readv, recv, recvfrom, recvmsg on empty
 * files, write, writev, send, sendto, sendmsg on full ones, accept,
 * connect to a full backlog, poll, ppoll, select, pselect, epoll_wait,
 * epoll_pwait. With a cancel already pending, one that would not block
 * acts before doing anything, as glibc's: read leaves the data, write
 * writes nothing, close leaves the fd open. Calls that are not
 * cancellation points (dup, fcntl F_GETFL, socket) return as usual with a
 * cancel pending. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

enum call {
	READ, READV, RECV, RECVFROM, RECVMSG, WRITE, WRITEV, SEND, SENDTO, SENDMSG, ACCEPT,
	CONNECT, POLL, PPOLL, SELECT, PSELECT, EPOLL_WAIT, EPOLL_PWAIT, NCALLS
};
static const char *names[] = {"read",    "readv",  "recv",    "recvfrom", "recvmsg",
			      "write",   "writev", "send",    "sendto",   "sendmsg",
			      "accept",  "connect", "poll",   "ppoll",    "select",
			      "pselect", "epoll_wait", "epoll_pwait"};

static int empty[2], full[2], sempty[2], sfull[2], lst, ep;
/* A listener nobody connects to (accept waits), and one whose backlog is
 * full (connect waits). */
static struct sockaddr_un quiet = {.sun_family = AF_UNIX, .sun_path = "\0greenify-cancel-quiet"};
static struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "\0greenify-cancelpts"};
static char buf[256 * 1024];
static atomic_int returned;

static void *blocked(void *arg)
{
	enum call c = (enum call)(intptr_t)arg;
	struct iovec v = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
	struct pollfd pf = {.fd = empty[0], .events = POLLIN};
	struct epoll_event ev;
	fd_set rd;
	sigset_t none;
	int fd;

	FD_ZERO(&rd);
	FD_SET(empty[0], &rd);
	sigemptyset(&none);
	switch (c) {
	case READ: read(empty[0], buf, 1); break;
	case READV: readv(empty[0], &v, 1); break;
	case RECV: recv(sempty[0], buf, 1, 0); break;
	case RECVFROM: recvfrom(sempty[0], buf, 1, 0, NULL, NULL); break;
	case RECVMSG: recvmsg(sempty[0], &m, 0); break;
	case WRITE: write(full[1], buf, sizeof(buf)); break;
	case WRITEV: writev(full[1], &v, 1); break;
	case SEND: send(sfull[1], buf, sizeof(buf), 0); break;
	case SENDTO: sendto(sfull[1], buf, sizeof(buf), 0, NULL, 0); break;
	case SENDMSG: sendmsg(sfull[1], &m, 0); break;
	case ACCEPT: accept(lst, NULL, NULL); break;
	case CONNECT:
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		connect(fd, (struct sockaddr *)&addr, sizeof(addr));
		break;
	case POLL: poll(&pf, 1, -1); break;
	case PPOLL: ppoll(&pf, 1, NULL, &none); break;
	case SELECT: select(empty[0] + 1, &rd, NULL, NULL, NULL); break;
	case PSELECT: pselect(empty[0] + 1, &rd, NULL, NULL, NULL, &none); break;
	case EPOLL_WAIT: epoll_wait(ep, &ev, 1, -1); break;
	case EPOLL_PWAIT: epoll_pwait(ep, &ev, 1, -1, &none); break;
	default: break;
	}
	atomic_fetch_add(&returned, 1);
	return NULL;
}

/* A thread with a cancel pending (set while it had cancellation
 * disabled) makes a call that would not block. */
static atomic_int disabled, cancelled;
static int what, passed;

static void *pending(void *arg)
{
	int fd;

	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	atomic_store(&disabled, 1);
	while (!atomic_load(&cancelled))
		sleep_ms(1);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	switch (what) {
	case 0: read(empty[0], buf, 1); break;
	case 1: write(empty[1], "w", 1); break;
	case 2: close(sempty[0]); break;
	default:
		fd = dup(0);
		close(fd); /* (close acts, but only after dup and fcntl ran) */
		break;
	}
	passed = 1;
	return NULL;
}

static void *not_points(void *arg)
{
	(void)arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	atomic_store(&disabled, 1);
	while (!atomic_load(&cancelled))
		sleep_ms(1);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	int d = dup(0), fl = fcntl(0, F_GETFL), s = socket(AF_UNIX, SOCK_STREAM, 0);
	passed = d >= 0 && fl >= 0 && s >= 0;
	pthread_testcancel();
	passed = 2;
	return NULL;
}

static void *run_pending(void *(*fn)(void *), int w)
{
	pthread_t t;
	void *ret;

	what = w;
	passed = 0;
	atomic_store(&disabled, 0);
	atomic_store(&cancelled, 0);
	MUST(pthread_create(&t, NULL, fn, NULL));
	while (!atomic_load(&disabled))
		sleep_ms(1);
	MUST(pthread_cancel(t));
	atomic_store(&cancelled, 1);
	MUST(pthread_join(t, &ret));
	return ret;
}

int main(void)
{
	void *ret;
	pthread_t t;

	alarm(60);
	MUST(pipe(empty));
	MUST(pipe(full));
	MUST(fcntl(full[1], F_SETFL, O_NONBLOCK));
	while (write(full[1], buf, sizeof(buf)) > 0)
		;
	MUST(fcntl(full[1], F_SETFL, 0));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sempty));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sfull));
	MUST(fcntl(sfull[1], F_SETFL, O_NONBLOCK));
	while (write(sfull[1], buf, sizeof(buf)) > 0)
		;
	MUST(fcntl(sfull[1], F_SETFL, 0));
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(bind(lst, (struct sockaddr *)&quiet, sizeof(quiet)));
	MUST(listen(lst, 4));
	int busy = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(bind(busy, (struct sockaddr *)&addr, sizeof(addr)));
	MUST(listen(busy, 0));
	int q = socket(AF_UNIX, SOCK_STREAM, 0); /* the backlog of 0 is full with it */
	MUST(connect(q, (struct sockaddr *)&addr, sizeof(addr)));
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, empty[0], &ev));

	for (int c = 0; c < NCALLS; c++) {
		MUST(pthread_create(&t, NULL, blocked, (void *)(intptr_t)c));
		sleep_ms(20);
		MUST(pthread_cancel(t));
		MUST(pthread_join(t, &ret));
		CHECK(ret == PTHREAD_CANCELED, "a thread blocked in %s is cancelled", names[c]);
	}
	CHECK(atomic_load(&returned) == 0, "none of them returned");

	MUST(write(empty[1], "d", 1) != 1);
	ret = run_pending(pending, 0);
	char c = 0;
	CHECK(ret == PTHREAD_CANCELED && !passed && read(empty[0], &c, 1) == 1 && c == 'd',
	      "a pending cancel acts at a read with data there, which is left");
	ret = run_pending(pending, 1);
	struct pollfd pf = {.fd = empty[0], .events = POLLIN};
	CHECK(ret == PTHREAD_CANCELED && !passed && poll(&pf, 1, 0) == 0,
	      "and at a write with room, which writes nothing");
	ret = run_pending(pending, 2);
	CHECK(ret == PTHREAD_CANCELED && !passed && fcntl(sempty[0], F_GETFD) >= 0,
	      "and at close, which leaves the fd open");
	ret = run_pending(not_points, 0);
	CHECK(ret == PTHREAD_CANCELED && passed == 1,
	      "dup, fcntl and socket are no cancellation points; pthread_testcancel is");
	return check_done();
}
