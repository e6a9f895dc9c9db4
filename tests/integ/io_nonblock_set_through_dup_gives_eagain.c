/* Hazard: O_NONBLOCK belongs to the open file description, not to an fd
 * number. Set through a dup (fcntl F_SETFL or ioctl FIONBIO), or by
 * another process sharing the description (a fork child), it makes the
 * other fd's blocking calls answer EAGAIN at once: read of a pipe, recv
 * of a socket, accept of a listener, a writev larger than a pipe (the part
 * that fits, then EAGAIN); cleared the same way, the calls block again
 * (and are woken by another thread's write) while a ticker thread runs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static int late_fd;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *late_byte(void *arg)
{
	(void)arg;
	sleep_ms(20);
	if (write(late_fd, "L", 1) != 1)
		abort();
	return NULL;
}

static void set_nb(int fd, int on, int use_ioctl)
{
	if (use_ioctl) {
		MUST(ioctl(fd, FIONBIO, &on));
		return;
	}
	int fl = fcntl(fd, F_GETFL);
	MUST(fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK));
}

static int eagain(ssize_t r)
{
	return r == -1 && errno == EAGAIN;
}

/* read/recv on fd with O_NONBLOCK set through its dup, then cleared. */
static void case_read(const char *what, int fd, int wfd, int sock, int use_ioctl)
{
	int d = dup(fd), t0;
	char c;
	pthread_t t;

	set_nb(d, 1, use_ioctl);
	errno = 0;
	CHECK(eagain(sock ? recv(fd, &c, 1, 0) : read(fd, &c, 1)),
	      "%s: O_NONBLOCK set through a dup%s: EAGAIN at once", what,
	      use_ioctl ? " (FIONBIO)" : "");
	set_nb(d, 0, use_ioctl);
	late_fd = wfd;
	MUST(pthread_create(&t, NULL, late_byte, NULL));
	t0 = atomic_load(&ticks);
	CHECK((sock ? recv(fd, &c, 1, 0) : read(fd, &c, 1)) == 1 && c == 'L',
	      "%s: cleared through the dup: blocks until another thread writes", what);
	CHECK(atomic_load(&ticks) > t0, "%s: another thread ran meanwhile", what);
	MUST(pthread_join(t, NULL));
	close(d);
}

int main(void)
{
	pthread_t tick;
	int p[2], s[2], d;
	char c;

	alarm(30);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pipe(p));
	case_read("pipe read", p[0], p[1], 0, 0);
	case_read("pipe read", p[0], p[1], 0, 1);
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	case_read("socket recv", s[0], s[1], 1, 0);
	case_read("socket recv", s[0], s[1], 1, 1);
	case_read("socket read", s[0], s[1], 0, 1);

	/* A writev bigger than the pipe, the pipe non-blocking through a dup:
	 * the 64 KiB that fit. */
	static char big[256 * 1024];
	struct iovec v[4] = {{big, 65536}, {big, 65536}, {big, 65536}, {big, 65536}};
	MUST(fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536);
	d = dup(p[1]);
	set_nb(d, 1, 0);
	CHECK(writev(p[1], v, 4) == 65536, "writev of 256 KiB, pipe non-blocking via a dup: 65536");
	errno = 0;
	CHECK(eagain(write(p[1], big, 10)), "then a write: EAGAIN");
	close(d);

	/* accept. */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int l = socket(AF_INET, SOCK_STREAM, 0);
	MUST(bind(l, (struct sockaddr *)&a, sizeof(a)));
	MUST(listen(l, 4));
	d = dup(l);
	set_nb(d, 1, 1);
	errno = 0;
	CHECK(eagain(accept(l, NULL, NULL)), "accept, listener non-blocking via a dup: EAGAIN");
	close(d);
	close(l);

	/* Another process sets it on the description they share. */
	int q[2];
	MUST(pipe(q));
	pid_t pid = fork();
	if (pid == 0) {
		set_nb(q[0], 1, 0);
		_exit(0);
	}
	int st;
	MUST(waitpid(pid, &st, 0) != pid);
	errno = 0;
	CHECK(eagain(read(q[0], &c, 1)), "O_NONBLOCK set by a child process: EAGAIN");
	set_nb(q[0], 0, 0);
	case_read("pipe read after the child", q[0], q[1], 0, 0);

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
