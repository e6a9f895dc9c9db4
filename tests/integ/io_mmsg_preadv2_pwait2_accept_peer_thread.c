/* Hazard: recvmmsg, sendmmsg, preadv2/pwritev2 on pipes, epoll_pwait2 and
 * accept wait in the kernel for another party; when it is another thread
 * of the process, a wait that blocks the OS thread never lets it run (a
 * hang). A ticker thread counts milliseconds meanwhile.
 *   - recvmmsg(vlen 3) on a UDP socket gets three datagrams another thread
 *     sends 20 ms apart; MSG_WAITFORONE returns after the first; with a
 *     timeout, it returns what came once the timeout passed after a
 *     datagram, and writes back the time left; SO_RCVTIMEO with nothing
 *     sent gives EAGAIN;
 *   - sendmmsg of three 1 MiB messages on a stream socketpair another
 *     thread drains: each message goes whole;
 *   - preadv2 at offset -1 on a pipe waits for another thread's write;
 *     pwritev2 of 1 MiB into a pipe another thread drains writes it all;
 *     RWF_NOWAIT on an empty pipe gives EAGAIN; preadv on a pipe ESPIPE;
 *   - epoll_pwait2 waits for a pipe another thread writes; times out after
 *     its nanosecond timeout; EINTR from a handler; EINVAL for a bad
 *     timeout;
 *   - accept on AF_UNIX and AF_INET6 (::1) listeners waits for another
 *     thread's connect. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop, handled;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

struct dgrams {
	int fd;
	struct sockaddr_in to;
	int n, gap_ms;
};

static void *send_dgrams(void *arg)
{
	struct dgrams *d = arg;

	for (int i = 0; i < d->n; i++) {
		sleep_ms(d->gap_ms);
		char c = (char)('a' + i);
		MUST(sendto(d->fd, &c, 1, 0, (struct sockaddr *)&d->to, sizeof(d->to)) == 1 ? 0 : -1);
	}
	return NULL;
}

static void mmsg_udp(void)
{
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	char bufs[3][8];
	struct iovec iov[3];
	struct mmsghdr vec[3];
	struct dgrams d;
	pthread_t t;
	int t0;

	MUST(bind(r, (struct sockaddr *)&a, sizeof(a)));
	MUST(getsockname(r, (struct sockaddr *)&a, &len));
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
		vec[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	d = (struct dgrams){s, a, 3, 20};
	t0 = atomic_load(&ticks);
	MUST(pthread_create(&t, NULL, send_dgrams, &d));
	int n = recvmmsg(r, vec, 3, 0, NULL);
	MUST(pthread_join(t, NULL));
	CHECK(n == 3 && bufs[0][0] == 'a' && bufs[1][0] == 'b' && bufs[2][0] == 'c',
	      "recvmmsg(3) gets three datagrams sent 20 ms apart");
	CHECK(atomic_load(&ticks) - t0 >= 10, "the ticker ran while recvmmsg waited");

	MUST(pthread_create(&t, NULL, send_dgrams, &d));
	n = recvmmsg(r, vec, 3, MSG_WAITFORONE, NULL);
	CHECK(n == 1 && bufs[0][0] == 'a', "MSG_WAITFORONE: back after the first");
	MUST(pthread_join(t, NULL));
	while (recv(r, bufs[0], 8, MSG_DONTWAIT) > 0)
		;

	/* Two datagrams 20 ms apart, then none: a 30 ms timeout ends it with
	 * what came, after the second. */
	struct timespec tmo = {0, 30 * 1000000};
	d.n = 2;
	MUST(pthread_create(&t, NULL, send_dgrams, &d));
	n = recvmmsg(r, vec, 3, 0, &tmo);
	MUST(pthread_join(t, NULL));
	CHECK(n == 2, "recvmmsg with a 30 ms timeout: the two datagrams that came");
	CHECK(tmo.tv_sec == 0 && tmo.tv_nsec < 30 * 1000000, "it wrote back the time left");

	struct timeval rcv = {0, 30000};
	MUST(setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)));
	CHECK_ERR(recvmmsg(r, vec, 3, 0, NULL) == -1 ? errno : 0, EAGAIN,
		  "recvmmsg with SO_RCVTIMEO and nothing sent");
	close(r);
	close(s);
}

struct drain {
	int fd;
	size_t n, got;
};

static void *drain(void *arg)
{
	struct drain *d = arg;
	static char buf[65536];

	while (d->got < d->n) {
		ssize_t r = read(d->fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		d->got += (size_t)r;
	}
	return NULL;
}

static void mmsg_stream(void)
{
	int s[2];
	static char big[3][1 << 20];
	struct iovec iov[3];
	struct mmsghdr vec[3];
	struct drain d;
	pthread_t t;

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){big[i], sizeof(big[i])};
		vec[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	d = (struct drain){s[1], 3u << 20, 0};
	MUST(pthread_create(&t, NULL, drain, &d));
	int n = sendmmsg(s[0], vec, 3, 0);
	MUST(pthread_join(t, NULL));
	CHECK(n == 3 && vec[0].msg_len == 1u << 20 && vec[1].msg_len == 1u << 20 &&
		      vec[2].msg_len == 1u << 20 && d.got == 3u << 20,
	      "sendmmsg of three 1 MiB messages: each whole");
	close(s[0]);
	close(s[1]);
}

struct later {
	int fd;
	int ms;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	MUST(write(l->fd, "0123456789", 10) == 10 ? 0 : -1);
	return NULL;
}

static void vectored(void)
{
	int p[2];
	char buf[16] = {0};
	static char big[1 << 20];
	struct iovec v = {buf, 10}, bv = {big, sizeof(big)};
	struct later l;
	struct drain d;
	pthread_t t;

	MUST(pipe(p));
	l = (struct later){p[1], 30};
	MUST(pthread_create(&t, NULL, write_later, &l));
	CHECK(preadv2(p[0], &v, 1, -1, 0) == 10 && !memcmp(buf, "0123456789", 10),
	      "preadv2 at -1 on a pipe waits for the write");
	MUST(pthread_join(t, NULL));
	d = (struct drain){p[0], sizeof(big), 0};
	MUST(pthread_create(&t, NULL, drain, &d));
	CHECK(pwritev2(p[1], &bv, 1, -1, RWF_DSYNC) == (ssize_t)sizeof(big),
	      "pwritev2 of 1 MiB into a pipe another thread drains: all of it");
	MUST(pthread_join(t, NULL));
	CHECK_ERR(preadv2(p[0], &v, 1, -1, RWF_NOWAIT) == -1 ? errno : 0, EAGAIN,
		  "preadv2 RWF_NOWAIT on an empty pipe");
	CHECK_ERR(preadv(p[0], &v, 1, 0) == -1 ? errno : 0, ESPIPE, "preadv on a pipe");
	close(p[0]);
	close(p[1]);
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void *kick_later(void *arg)
{
	sleep_ms(30);
	MUST(pthread_kill(*(pthread_t *)arg, SIGUSR1));
	return NULL;
}

static void pwait2(void)
{
	int p[2], ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct timespec forever = {60, 0}, ms30 = {0, 30 * 1000000}, bad = {0, -1};
	struct sigaction sa = {.sa_handler = on_usr1};
	struct later l;
	pthread_t t, self = pthread_self();
	int64_t t0;

	MUST(pipe(p));
	ev.data.fd = p[0];
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	l = (struct later){p[1], 30};
	MUST(pthread_create(&t, NULL, write_later, &l));
	CHECK(epoll_pwait2(ep, &out, 1, &forever, NULL) == 1 && out.data.fd == p[0],
	      "epoll_pwait2 waits for the other thread's write");
	MUST(pthread_join(t, NULL));
	char buf[16];
	MUST(read(p[0], buf, 10) == 10 ? 0 : -1);
	t0 = mono_ns();
	CHECK(epoll_pwait2(ep, &out, 1, &ms30, NULL) == 0, "epoll_pwait2 times out: 0");
	CHECK(mono_ns() - t0 >= MS(25), "after about its 30 ms");
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&t, NULL, kick_later, &self));
	CHECK_ERR(epoll_pwait2(ep, &out, 1, NULL, NULL) == -1 ? errno : 0, EINTR,
		  "epoll_pwait2 and a handler");
	MUST(pthread_join(t, NULL));
	CHECK_ERR(epoll_pwait2(ep, &out, 1, &bad, NULL) == -1 ? errno : 0, EINVAL,
		  "epoll_pwait2 with tv_nsec -1");
	CHECK_ERR(epoll_pwait2(ep, &out, 0, &ms30, NULL) == -1 ? errno : 0, EINVAL,
		  "epoll_pwait2 with maxevents 0");
	close(ep);
	close(p[0]);
	close(p[1]);
}

struct conn {
	int family;
	struct sockaddr_storage addr;
	socklen_t len;
};

static void *connect_later(void *arg)
{
	struct conn *c = arg;
	int fd = socket(c->family, SOCK_STREAM, 0);

	sleep_ms(30);
	MUST(connect(fd, (struct sockaddr *)&c->addr, c->len));
	MUST(write(fd, "hi", 2) == 2 ? 0 : -1);
	close(fd);
	return NULL;
}

static void accepts(int family)
{
	int l = socket(family, SOCK_STREAM, 0), a;
	struct conn c = {.family = family};
	char buf[4] = {0};
	pthread_t t;
	const char *what = family == AF_UNIX ? "AF_UNIX" : "AF_INET6";

	if (family == AF_UNIX) {
		struct sockaddr_un *u = (struct sockaddr_un *)&c.addr;
		u->sun_family = AF_UNIX;
		snprintf(u->sun_path, sizeof(u->sun_path), "/tmp/greenify-acc-%d", (int)getpid());
		unlink(u->sun_path);
		c.len = sizeof(*u);
	} else {
		struct sockaddr_in6 *i6 = (struct sockaddr_in6 *)&c.addr;
		i6->sin6_family = AF_INET6;
		i6->sin6_addr = in6addr_loopback;
		c.len = sizeof(*i6);
	}
	if (!CHECK(l >= 0 && bind(l, (struct sockaddr *)&c.addr, c.len) == 0,
		   "%s: a listener binds", what))
		return;
	MUST(getsockname(l, (struct sockaddr *)&c.addr, &c.len));
	MUST(listen(l, 4));
	MUST(pthread_create(&t, NULL, connect_later, &c));
	a = accept(l, NULL, NULL);
	CHECK(a >= 0 && read(a, buf, 2) == 2 && !strcmp(buf, "hi"),
	      "accept on %s waits for the other thread's connect", what);
	MUST(pthread_join(t, NULL));
	close(a);
	close(l);
	if (family == AF_UNIX)
		unlink(((struct sockaddr_un *)&c.addr)->sun_path);
}

int main(void)
{
	pthread_t tick;

	MUST(pthread_create(&tick, NULL, ticker, NULL));
	mmsg_udp();
	mmsg_stream();
	vectored();
	pwait2();
	accepts(AF_UNIX);
	accepts(AF_INET6);
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
