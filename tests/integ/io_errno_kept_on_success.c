/* Hazard: a call that succeeds leaves errno as it was, also when it had to
 * wait first and when the file is of a kind the call does not start with
 * (a regular file, a socket read with read()). Each call below runs with
 * errno set to EDOM before it, and must succeed with errno still EDOM:
 * reads and writes of a regular file (also one the program opened with
 * O_NONBLOCK, which a regular file ignores), of a pipe with data there and
 * after waiting for it, of a socket with read/write and recv/send and
 * their msg forms, readv/writev, accept and connect (unix and TCP), poll,
 * select and epoll_wait that find something at once or after a wait or
 * time out, close, dup, dup2, dup3 and fcntl. The waits' data comes from
 * another thread. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static int late_fd;

/* Writes one byte to late_fd 20 ms from now, from another thread. */
static void *late_byte(void *arg)
{
	(void)arg;
	sleep_ms(20);
	if (write(late_fd, "L", 1) != 1)
		abort();
	return NULL;
}

static pthread_t later(int fd)
{
	pthread_t t;

	late_fd = fd;
	MUST(pthread_create(&t, NULL, late_byte, NULL));
	return t;
}

/* Runs call with errno EDOM; prints whether it succeeded, errno kept. */
#define KEPT(what, call)                                                                         \
	do {                                                                                     \
		errno = EDOM;                                                                    \
		long r_ = (long)(call);                                                          \
		int e_ = errno;                                                                  \
		CHECK(r_ >= 0 && e_ == EDOM, "%s succeeds, errno kept", what);                   \
		if (e_ != EDOM)                                                                  \
			fprintf(stderr, "  %s: r=%ld errno=%s\n", what, r_, errname(e_));        \
	} while (0)

static void *nothing(void *arg)
{
	return arg;
}

static int lst, conn_fd;
static struct sockaddr_in tcp_addr;

static void *connector(void *arg)
{
	(void)arg;
	sleep_ms(20);
	conn_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(conn_fd, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)) < 0)
		abort();
	return NULL;
}

int main(void)
{
	char path[] = "/tmp/greenify-errno-XXXXXX", buf[64];
	int f, p[2], s[2], ep, d;
	pthread_t t;

	alarm(30);
	/* Regular file. */
	f = mkstemp(path);
	MUST(f < 0);
	unlink(path);
	MUST(pthread_create(&t, NULL, nothing, NULL)); /* the runtime starts */
	pthread_join(t, NULL);
	KEPT("write to a regular file", write(f, "hello", 5));
	KEPT("pread of a regular file", pread(f, buf, 5, 0));
	MUST(lseek(f, 0, SEEK_SET) != 0);
	KEPT("read of a regular file", read(f, buf, 5));
	MUST(fcntl(f, F_SETFL, O_NONBLOCK));
	MUST(lseek(f, 0, SEEK_SET) != 0);
	KEPT("read of a regular file with O_NONBLOCK", read(f, buf, sizeof(buf)));
	struct iovec v[2] = {{buf, 2}, {buf + 2, 3}};
	KEPT("writev to a regular file", writev(f, v, 2));
	MUST(lseek(f, 0, SEEK_SET) != 0);
	KEPT("readv of a regular file", readv(f, v, 2));
	KEPT("fcntl F_GETFL", fcntl(f, F_GETFL));
	KEPT("dup", d = dup(f));
	KEPT("dup2", dup2(f, d));
	KEPT("dup3", dup3(f, d, O_CLOEXEC));
	KEPT("close", close(d));
	KEPT("close of the regular file", close(f));

	/* Pipe. */
	MUST(pipe(p));
	KEPT("write to a pipe", write(p[1], "x", 1));
	KEPT("read of a pipe with data", read(p[0], buf, sizeof(buf)));
	t = later(p[1]);
	KEPT("read of a pipe after waiting", read(p[0], buf, sizeof(buf)));
	pthread_join(t, NULL);
	t = later(p[1]);
	KEPT("readv of a pipe after waiting", readv(p[0], v, 2));
	pthread_join(t, NULL);
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	KEPT("poll timing out", poll(&pf, 1, 10));
	t = later(p[1]);
	KEPT("poll after waiting", poll(&pf, 1, 5000));
	pthread_join(t, NULL);
	KEPT("poll finding data at once", poll(&pf, 1, 0));
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {5, 0};
	KEPT("select finding data at once", select(p[0] + 1, &rd, NULL, NULL, &tv));
	KEPT("read the byte", read(p[0], buf, sizeof(buf)));
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	t = later(p[1]);
	KEPT("epoll_wait after waiting", epoll_wait(ep, &out, 1, 5000));
	pthread_join(t, NULL);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	KEPT("select with data", select(p[0] + 1, &rd, NULL, NULL, &tv));
	KEPT("read the byte", read(p[0], buf, sizeof(buf)));
	tv = (struct timeval){0, 10000};
	KEPT("select timing out", select(p[0] + 1, &rd, NULL, NULL, &tv));
	KEPT("epoll_wait timing out", epoll_wait(ep, &out, 1, 10));
	close(ep);

	/* Socket. */
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	KEPT("write to a socket", write(s[1], "abc", 3));
	KEPT("read of a socket", read(s[0], buf, sizeof(buf)));
	t = later(s[1]);
	KEPT("read of a socket after waiting", read(s[0], buf, sizeof(buf)));
	pthread_join(t, NULL);
	KEPT("send", send(s[1], "abc", 3, 0));
	KEPT("recv", recv(s[0], buf, sizeof(buf), 0));
	t = later(s[1]);
	KEPT("recv after waiting", recv(s[0], buf, sizeof(buf), 0));
	pthread_join(t, NULL);
	struct msghdr m = {.msg_iov = v, .msg_iovlen = 2};
	KEPT("sendmsg", sendmsg(s[1], &m, 0));
	KEPT("recvmsg", recvmsg(s[0], &m, 0));
	t = later(s[1]);
	KEPT("recvmsg after waiting", recvmsg(s[0], &m, 0));
	pthread_join(t, NULL);
	KEPT("sendto", sendto(s[1], "q", 1, 0, NULL, 0));
	KEPT("recvfrom", recvfrom(s[0], buf, sizeof(buf), 0, NULL, NULL));

	/* accept and connect. */
	lst = socket(AF_INET, SOCK_STREAM, 0);
	tcp_addr = (struct sockaddr_in){.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(tcp_addr);
	MUST(bind(lst, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)));
	MUST(listen(lst, 8));
	MUST(getsockname(lst, (struct sockaddr *)&tcp_addr, &len));
	MUST(pthread_create(&t, NULL, connector, NULL));
	KEPT("accept after waiting", d = accept(lst, NULL, NULL));
	pthread_join(t, NULL);
	close(d);
	close(conn_fd);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	KEPT("connect over TCP", connect(c, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)));
	KEPT("accept at once", d = accept(lst, NULL, NULL));
	close(d);
	close(c);
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "\0greenify-errno-kept"};
	int ul = socket(AF_UNIX, SOCK_STREAM, 0);
	MUST(bind(ul, (struct sockaddr *)&un, sizeof(un)));
	MUST(listen(ul, 8));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	KEPT("connect over a unix socket", connect(c, (struct sockaddr *)&un, sizeof(un)));
	close(c);
	close(ul);
	close(lst);
	return check_done();
}
