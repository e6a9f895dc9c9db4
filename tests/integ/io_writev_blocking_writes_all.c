/* Hazard: a blocking write of 1 MB, far more than a pipe or a socket
 * buffer takes, must write everything before it returns, however it is
 * spread over iovecs (up to IOV_MAX of them, some empty, some cut across
 * buffer sizes), through writev, sendmsg, write and send, to a pipe and
 * to a socket, while the reader is a thread of the same process that
 * reads slowly and another thread keeps running; and the reader gets the
 * bytes in order. It ends early only as the kernel ends it: a signal
 * (no SA_RESTART) after a part gives that part, a pipe of known size
 * being full when it comes; cancellation cancels it. More than IOV_MAX
 * iovecs: EINVAL (readv, writev), EMSGSIZE (recvmsg, sendmsg); a negative
 * count: EINVAL. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define TOTAL (1 << 20)

static char src[TOTAL], dst[TOTAL];
static struct iovec iov[IOV_MAX + 1];
static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

struct drain {
	int fd;
	size_t got;
	int eof;
	int t0; /* ticks when the write began */
};

/* Reads everything in 64 KiB gulps with a nap between them. The first
 * gulp waits (up to 10 s) until the ticker has ticked since the write
 * began: the write (1 MB, more than the pipe or socket holds) cannot end
 * before, so another thread surely ran while it was blocked, however late
 * a loaded machine schedules the ticker natively. */
static void *drainer(void *arg)
{
	struct drain *d = arg;
	ssize_t r;

	d->got = 0;
	while (d->got < TOTAL) {
		size_t want = TOTAL - d->got < 65536 ? TOTAL - d->got : 65536;
		for (int i = 0; d->got == 0 && atomic_load(&ticks) <= d->t0 && i < 10000; i++)
			sleep_ms(1);
		r = read(d->fd, dst + d->got, want);
		if (r <= 0)
			break;
		d->got += (size_t)r;
		sleep_ms(1);
	}
	return NULL;
}

/* 1024 iovecs over src: sizes 0, 1, 2, ... and one big one to make 1 MB. */
static int make_iov(void)
{
	size_t at = 0;
	int n = IOV_MAX;

	for (int i = 0; i < n - 1; i++) {
		iov[i].iov_base = src + at;
		iov[i].iov_len = (size_t)(i % 97) * 7;
		at += iov[i].iov_len;
	}
	iov[n - 1].iov_base = src + at;
	iov[n - 1].iov_len = TOTAL - at;
	return n;
}

enum how { WRITEV, SENDMSG, WRITE, SEND };
static const char *names[] = {"writev", "sendmsg", "write", "send"};

static ssize_t put(enum how how, int fd, int n)
{
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};

	switch (how) {
	case WRITEV: return writev(fd, iov, n);
	case SENDMSG: return sendmsg(fd, &m, 0);
	case WRITE: return write(fd, src, TOTAL);
	default: return send(fd, src, TOTAL, 0);
	}
}

static void one(enum how how, int sock)
{
	int fds[2], t0;
	struct drain d;
	pthread_t t;
	ssize_t r;

	if (sock)
		MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
	else
		MUST(pipe(fds));
	d.fd = fds[0];
	memset(dst, 0, sizeof(dst));
	t0 = d.t0 = atomic_load(&ticks);
	MUST(pthread_create(&t, NULL, drainer, &d));
	r = put(how, fds[1], make_iov());
	MUST(pthread_join(t, NULL));
	CHECK(r == TOTAL && d.got == TOTAL && memcmp(src, dst, TOTAL) == 0,
	      "blocking %s of 1 MB to a %s writes it all, in order", names[how],
	      sock ? "socket" : "pipe");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	close(fds[0]);
	close(fds[1]);
}

static int wfd;
static ssize_t wrote;

static void *write_it(void *arg)
{
	(void)arg;
	wrote = writev(wfd, iov, make_iov());
	return NULL;
}

/* A count the compiler cannot see is negative. */
static volatile int minus_one = -1;

static void on_usr1(int sig)
{
	(void)sig;
}

int main(void)
{
	pthread_t tick, t;
	int p[2], s[2];
	void *ret;

	alarm(60);
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (char)(i * 7 + i / 251);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	for (int how = WRITEV; how <= SEND; how++) {
		if (how == WRITEV || how == WRITE)
			one(how, 0);
		one(how, 1);
	}

	/* A signal (no SA_RESTART) while a writev waits on a full 64 KiB
	 * pipe that nobody reads: the part that went in. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pipe(p));
	MUST(fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536);
	wfd = p[1];
	MUST(pthread_create(&t, NULL, write_it, NULL));
	sleep_ms(50);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(wrote == 65536, "a signal after the pipe filled: writev gives the 65536 written");

	/* Cancelled while it waits for room. */
	MUST(pthread_create(&t, NULL, write_it, NULL));
	sleep_ms(30);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "a thread waiting in a blocking writev is cancelled");
	close(p[0]);
	close(p[1]);

	/* Counts the kernel refuses. */
	char c = 'x';
	for (int i = 0; i <= IOV_MAX; i++)
		iov[i] = (struct iovec){&c, 1};
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = IOV_MAX + 1};
	errno = 0;
	CHECK_ERR(writev(s[1], iov, IOV_MAX + 1) < 0 ? errno : 0, EINVAL, "writev of IOV_MAX+1");
	CHECK_ERR(sendmsg(s[1], &m, 0) < 0 ? errno : 0, EMSGSIZE, "sendmsg of IOV_MAX+1");
	CHECK_ERR(writev(s[1], iov, minus_one) < 0 ? errno : 0, EINVAL, "writev of -1 iovecs");
	CHECK(writev(s[1], iov, 0) == 0, "writev of 0 iovecs gives 0");
	CHECK(write(s[1], "y", 1) == 1, "the socket still works");
	CHECK_ERR(readv(s[0], iov, IOV_MAX + 1) < 0 ? errno : 0, EINVAL, "readv of IOV_MAX+1");
	CHECK_ERR(recvmsg(s[0], &m, 0) < 0 ? errno : 0, EMSGSIZE, "recvmsg of IOV_MAX+1");
	CHECK(readv(s[0], iov, 1) == 1 && c == 'y', "and the byte is still there to read");
	close(s[0]);
	close(s[1]);

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
