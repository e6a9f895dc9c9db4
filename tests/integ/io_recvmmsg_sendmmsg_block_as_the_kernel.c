/* Hazard: recvmmsg and sendmmsg are blocking vector calls too. A blocking
 * recvmmsg waits until all vlen messages came (from another thread, one
 * at a time, while a ticker thread runs); with MSG_WAITFORONE it returns
 * what is there after the first; its timeout is looked at only after each
 * message (so it returns at the first message after it expired); a
 * cancelled thread waiting in it is cancelled. A blocking sendmmsg of
 * three 200 KB messages on a stream socket sends all of each (msg_len)
 * to a slow reader; on a datagram socket all go at once. Bad arguments:
 * a pipe (ENOTSOCK), a bad timeout (EINVAL). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static int sv[2];
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

struct plan {
	int first_gap, n, gap; /* n datagrams, the first after first_gap ms */
};

static void *sender(void *arg)
{
	struct plan *p = arg;

	sleep_ms(p->first_gap);
	for (int i = 0; i < p->n; i++) {
		if (i)
			sleep_ms(p->gap);
		char c = (char)('0' + i);
		if (send(sv[1], &c, 1, 0) != 1)
			abort();
	}
	return NULL;
}

static struct mmsghdr vec[4];
static struct iovec iov[4];
static char bufs[4][16];

static void reset(void)
{
	for (int i = 0; i < 4; i++) {
		iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
		vec[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
}

static int recv_plan(struct plan p, int flags, struct timespec *tmo)
{
	pthread_t t;
	int r;

	reset();
	MUST(pthread_create(&t, NULL, sender, &p));
	r = recvmmsg(sv[0], vec, 4, flags, tmo);
	MUST(pthread_join(t, NULL));
	return r;
}

static void *cancel_me(void *arg)
{
	(void)arg;
	reset();
	recvmmsg(sv[0], vec, 4, 0, NULL);
	return NULL;
}

#define BIG (200 * 1000)
static char big[3][BIG];
static int ss[2];
static size_t drained;

static void *drainer(void *arg)
{
	char buf[4096];

	(void)arg;
	while (drained < 3 * BIG) {
		ssize_t n = read(ss[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		drained += (size_t)n;
		sleep_ms(1);
	}
	return NULL;
}

int main(void)
{
	pthread_t tick, t;
	int r, t0;
	void *ret;

	alarm(30);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));

	t0 = atomic_load(&ticks);
	r = recv_plan((struct plan){10, 4, 5}, 0, NULL);
	CHECK(r == 4 && vec[3].msg_len == 1 && bufs[3][0] == '3',
	      "recvmmsg waits for all 4 messages, sent one at a time");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	r = recv_plan((struct plan){10, 1, 0}, MSG_WAITFORONE, NULL);
	CHECK(r == 1, "MSG_WAITFORONE: what is there after the first (1)");
	struct plan three = {10, 3, 0};
	reset();
	MUST(pthread_create(&t, NULL, sender, &three));
	sleep_ms(40);
	r = recvmmsg(sv[0], vec, 4, MSG_WAITFORONE, NULL);
	MUST(pthread_join(t, NULL));
	CHECK(r == 3, "MSG_WAITFORONE with 3 there: 3");
	/* Timeout 50 ms: messages at 10, 15, then 100 and 150 ms. The wait
	 * after the second goes on past the timeout (it is looked at after a
	 * message), the third ends the call. */
	struct timespec tmo = {0, 50 * 1000 * 1000};
	struct plan late = {10, 2, 5}, later_two = {100, 2, 50};
	reset();
	MUST(pthread_create(&t, NULL, sender, &late));
	pthread_t t2;
	MUST(pthread_create(&t2, NULL, sender, &later_two));
	r = recvmmsg(sv[0], vec, 4, 0, &tmo);
	MUST(pthread_join(t, NULL));
	MUST(pthread_join(t2, NULL));
	CHECK(r == 3, "timeout 50 ms, messages at 10, 15, 100, 150 ms: the call ends at the third");
	CHECK(tmo.tv_sec == 0 && tmo.tv_nsec == 0, "and the time left written back is 0");
	char c;
	while (recv(sv[0], &c, 1, MSG_DONTWAIT) == 1)
		;

	MUST(pthread_create(&t, NULL, cancel_me, NULL));
	sleep_ms(30);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "a thread waiting in recvmmsg is cancelled");

	/* sendmmsg */
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, ss));
	struct iovec biov[3];
	struct mmsghdr bv[3];
	for (int i = 0; i < 3; i++) {
		memset(big[i], 'a' + i, BIG);
		biov[i] = (struct iovec){big[i], BIG};
		bv[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &biov[i], .msg_iovlen = 1}};
	}
	MUST(pthread_create(&t, NULL, drainer, NULL));
	r = sendmmsg(ss[1], bv, 3, 0);
	MUST(pthread_join(t, NULL));
	CHECK(r == 3 && bv[0].msg_len == BIG && bv[2].msg_len == BIG && drained == 3 * BIG,
	      "sendmmsg of three 200 KB messages on a stream to a slow reader: all of each");
	reset();
	for (int i = 0; i < 4; i++)
		bufs[i][0] = (char)('w' + i), iov[i].iov_len = 1;
	r = sendmmsg(sv[1], vec, 4, 0);
	CHECK(r == 4, "sendmmsg of 4 datagrams: 4");
	reset();
	CHECK(recvmmsg(sv[0], vec, 4, 0, NULL) == 4 && bufs[3][0] == 'z', "and all 4 arrive");

	int p[2];
	MUST(pipe(p));
	errno = 0;
	CHECK_ERR(recvmmsg(p[0], vec, 4, 0, NULL) < 0 ? errno : 0, ENOTSOCK, "recvmmsg on a pipe");
	errno = 0;
	CHECK_ERR(sendmmsg(p[1], vec, 4, 0) < 0 ? errno : 0, ENOTSOCK, "sendmmsg on a pipe");
	CHECK_ERR(recvmmsg(sv[0], vec, 4, 0, &(struct timespec){0, -1}) < 0 ? errno : 0, EINVAL,
		  "recvmmsg with tv_nsec -1");

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
