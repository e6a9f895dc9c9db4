/* Hazard: recv and recvmsg with MSG_WAITALL on a stream socket return only
 * when the whole buffer is filled, however many pieces the peer sends it
 * in, while other threads keep running; they end early only as the kernel
 * ends them: at EOF (what came), after a signal once something came (what
 * came; a signal before anything with SA_RESTART restarts), at
 * SO_RCVTIMEO (what came, or EAGAIN), after control data (SCM_RIGHTS
 * stops the read), and on a datagram socket, where MSG_WAITALL means
 * nothing (one datagram). MSG_PEEK | MSG_WAITALL waits until all can be
 * peeked at once on TCP, and peeks at what is there on a unix socket. A thread cancelled while waiting for the rest is
 * cancelled. Bad arguments give the kernel's errors. The peer is a thread
 * of the same process, which sends each piece only after the reader is
 * waiting for it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define TOTAL 1000
#define PIECE 100

static int sv[2];
static atomic_int ticks, stop;
static pthread_t reader_thread;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* After delay ms, sends n pieces of PIECE bytes (byte i of the stream is
 * i % 251), one every 5 ms, then, if then says so, shuts down or signals
 * the reader. */
struct feed {
	int fd;
	int pieces;
	int then; /* 0 nothing, 1 shutdown(SHUT_WR), 2 SIGUSR1 to the reader */
	int delay;
};

static void *feeder(void *arg)
{
	struct feed *f = arg;
	char buf[PIECE];

	sleep_ms(f->delay);
	for (int p = 0; p < f->pieces; p++) {
		sleep_ms(5);
		for (int i = 0; i < PIECE; i++)
			buf[i] = (char)((p * PIECE + i) % 251);
		if (send(f->fd, buf, PIECE, 0) != PIECE)
			abort();
	}
	sleep_ms(20);
	if (f->then == 1)
		shutdown(f->fd, SHUT_WR);
	else if (f->then == 2)
		pthread_kill(reader_thread, SIGUSR1);
	return NULL;
}

static int stream_ok(const char *buf, int n)
{
	for (int i = 0; i < n; i++)
		if (buf[i] != (char)(i % 251))
			return 0;
	return 1;
}

static pthread_t start_feed(struct feed *f, int fd, int pieces, int then)
{
	pthread_t t;

	*f = (struct feed){fd, pieces, then, 0};
	reader_thread = pthread_self();
	MUST(pthread_create(&t, NULL, feeder, f));
	return t;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void handle_usr1(int flags)
{
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = flags};

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
}

static void fresh_pair(int type)
{
	if (sv[0] > 0) {
		close(sv[0]);
		close(sv[1]);
	}
	MUST(socketpair(AF_UNIX, type, 0, sv));
}

/* A connected TCP pair on 127.0.0.1. */
static void tcp_pair(int tc[2])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	MUST(bind(l, (struct sockaddr *)&a, sizeof(a)));
	MUST(listen(l, 1));
	MUST(getsockname(l, (struct sockaddr *)&a, &len));
	tc[1] = socket(AF_INET, SOCK_STREAM, 0);
	MUST(connect(tc[1], (struct sockaddr *)&a, sizeof(a)));
	tc[0] = accept(l, NULL, NULL);
	MUST(tc[0] < 0);
	close(l);
}

static void *cancel_me(void *arg)
{
	char buf[TOTAL];

	(void)arg;
	recv(sv[0], buf, sizeof(buf), MSG_WAITALL);
	return NULL; /* not reached when cancelled */
}

int main(void)
{
	char buf[TOTAL + 1];
	struct feed f;
	pthread_t tick, t;
	ssize_t r;
	int t0;

	alarm(30);
	MUST(pthread_create(&tick, NULL, ticker, NULL));

	fresh_pair(SOCK_STREAM);
	t = start_feed(&f, sv[1], TOTAL / PIECE, 0);
	t0 = atomic_load(&ticks);
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == TOTAL && stream_ok(buf, TOTAL), "recv MSG_WAITALL of %d B in %d pieces gets %d",
	      TOTAL, TOTAL / PIECE, TOTAL);
	CHECK(atomic_load(&ticks) > t0, "another thread ran while recv waited");
	MUST(pthread_join(t, NULL));

	/* recvmsg into four iovecs, the second and third cut across pieces. */
	struct iovec iov[4] = {{buf, 150}, {buf + 150, 250}, {buf + 400, 350}, {buf + 750, 250}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 4};
	t = start_feed(&f, sv[1], TOTAL / PIECE, 0);
	r = recvmsg(sv[0], &m, MSG_WAITALL);
	CHECK(r == TOTAL && stream_ok(buf, TOTAL) && m.msg_flags == 0,
	      "recvmsg MSG_WAITALL into 4 iovecs gets %d, msg_flags 0", TOTAL);
	MUST(pthread_join(t, NULL));

	/* EOF after 3 pieces: what came. */
	t = start_feed(&f, sv[1], 3, 1);
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == 3 * PIECE && stream_ok(buf, 3 * PIECE), "EOF after 3 pieces: recv gives %d",
	      3 * PIECE);
	MUST(pthread_join(t, NULL));

	/* A signal after 2 pieces, no SA_RESTART: what came. */
	fresh_pair(SOCK_STREAM);
	handle_usr1(0);
	t = start_feed(&f, sv[1], 2, 2);
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == 2 * PIECE && stream_ok(buf, 2 * PIECE),
	      "a signal after 2 pieces: recv gives %d, not EINTR", 2 * PIECE);
	MUST(pthread_join(t, NULL));

	/* A signal before anything came, SA_RESTART: restarted, all comes. */
	handle_usr1(SA_RESTART);
	struct feed f2 = {sv[1], TOTAL / PIECE, 0, 80};
	pthread_t t2;
	MUST(pthread_create(&t2, NULL, feeder, &f2));
	t = start_feed(&f, sv[1], 0, 2); /* signals 20 ms from now */
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == TOTAL && stream_ok(buf, TOTAL),
	      "with SA_RESTART a signal before anything came does not end it: %d", TOTAL);
	MUST(pthread_join(t, NULL));
	MUST(pthread_join(t2, NULL));

	/* SO_RCVTIMEO: what came by then, or EAGAIN when nothing did. */
	struct timeval tv = {0, 100 * 1000};
	MUST(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t = start_feed(&f, sv[1], 2, 0);
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == 2 * PIECE, "SO_RCVTIMEO after 2 pieces: recv gives %d", 2 * PIECE);
	MUST(pthread_join(t, NULL));
	errno = 0;
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == -1 && errno == EAGAIN, "SO_RCVTIMEO with nothing: -1 EAGAIN");

	/* Datagrams: one datagram, MSG_WAITALL or not. */
	fresh_pair(SOCK_DGRAM);
	MUST(send(sv[1], "datagram", 8, 0) != 8);
	MUST(send(sv[1], "second", 6, 0) != 6);
	r = recv(sv[0], buf, TOTAL, MSG_WAITALL);
	CHECK(r == 8 && memcmp(buf, "datagram", 8) == 0, "a datagram socket: one datagram (8)");

	/* Peek: a unix socket peeks at what is there (the kernel does not
	 * wait for more), TCP waits until all can be peeked, or the peer
	 * shuts down; the data is still there afterwards. */
	fresh_pair(SOCK_STREAM);
	t = start_feed(&f, sv[1], 5, 0);
	r = recv(sv[0], buf, 5 * PIECE, MSG_WAITALL | MSG_PEEK);
	CHECK(r == PIECE && stream_ok(buf, PIECE), "unix MSG_PEEK|MSG_WAITALL peeks the first %d",
	      PIECE);
	MUST(pthread_join(t, NULL));
	r = recv(sv[0], buf, 5 * PIECE, MSG_WAITALL);
	CHECK(r == 5 * PIECE && stream_ok(buf, 5 * PIECE), "and all %d are read after it",
	      5 * PIECE);
	int tc[2];
	tcp_pair(tc);
	t = start_feed(&f, tc[1], 5, 0);
	r = recv(tc[0], buf, 5 * PIECE, MSG_WAITALL | MSG_PEEK);
	CHECK(r == 5 * PIECE && stream_ok(buf, 5 * PIECE), "TCP MSG_PEEK|MSG_WAITALL waits for %d",
	      5 * PIECE);
	MUST(pthread_join(t, NULL));
	memset(buf, 0, sizeof(buf));
	r = recv(tc[0], buf, 5 * PIECE, MSG_DONTWAIT);
	CHECK(r == 5 * PIECE && stream_ok(buf, 5 * PIECE), "and the data is still there");
	t = start_feed(&f, tc[1], 2, 1);
	r = recv(tc[0], buf, 5 * PIECE, MSG_WAITALL | MSG_PEEK);
	CHECK(r == 2 * PIECE, "TCP peek until the peer shuts down after 2 pieces: %d", 2 * PIECE);
	MUST(pthread_join(t, NULL));
	close(tc[0]);
	close(tc[1]);

	/* SCM_RIGHTS in a later piece: the read stops after it. */
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	char ctl[CMSG_SPACE(sizeof(int)) * 2];
	int passfd = dup(0);
	MUST(send(sv[1], buf, PIECE, 0) != PIECE);
	struct iovec one = {buf, PIECE};
	struct msghdr sm = {.msg_iov = &one, .msg_iovlen = 1, .msg_control = cm.b,
			    .msg_controllen = sizeof(cm.b)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&sm);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	MUST(sendmsg(sv[1], &sm, 0) != PIECE);
	struct iovec all = {buf, TOTAL};
	struct msghdr rm = {.msg_iov = &all, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};
	r = recvmsg(sv[0], &rm, MSG_WAITALL);
	c = CMSG_FIRSTHDR(&rm);
	CHECK(r == 2 * PIECE && c && c->cmsg_type == SCM_RIGHTS,
	      "SCM_RIGHTS in the second piece: recvmsg stops after it (%d) with the fd",
	      2 * PIECE);
	if (c && c->cmsg_type == SCM_RIGHTS) {
		int got;
		memcpy(&got, CMSG_DATA(c), sizeof(int));
		close(got);
	}
	close(passfd);

	/* Cancelled while waiting for the rest. */
	fresh_pair(SOCK_STREAM);
	MUST(send(sv[1], buf, PIECE, 0) != PIECE);
	void *ret = NULL;
	MUST(pthread_create(&t, NULL, cancel_me, NULL));
	sleep_ms(30);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "a thread waiting in recv MSG_WAITALL is cancelled");

	/* Bad arguments. */
	errno = 0;
	CHECK_ERR(recv(-1, buf, 10, MSG_WAITALL) == -1 ? errno : 0, EBADF, "recv on fd -1");
	int p[2];
	MUST(pipe(p));
	errno = 0;
	CHECK_ERR(recv(p[0], buf, 10, MSG_WAITALL) == -1 ? errno : 0, ENOTSOCK,
		  "recv on a pipe");
	MUST(send(sv[1], buf, PIECE, 0) != PIECE);
	errno = 0;
	CHECK_ERR(recv(sv[0], NULL, PIECE, MSG_WAITALL) == -1 ? errno : 0, EFAULT,
		  "recv into NULL with data there");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
