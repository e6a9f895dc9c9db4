/* Hazard: a blocking sendmsg with SCM_RIGHTS and a payload larger than
 * the socket buffer goes out in parts; the control data belongs to the
 * first part only. The peer, a thread of the same process reading in
 * small gulps, must get exactly one fd (the one sent: reading it gives
 * what was written into it), with the first bytes, and all the payload.
 * A sendmsg with an address on a connected unix stream socket fails as
 * the kernel says (EISCONN), and one on a bad fd with EBADF. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

#define TOTAL (512 * 1024)

static int sv[2], passed[2];
static char payload[TOTAL];
static ssize_t sent;

static void *sender(void *arg)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov[2] = {{payload, TOTAL / 2}, {payload + TOTAL / 2, TOTAL / 2}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = cm.b,
			   .msg_controllen = sizeof(cm.b)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	(void)arg;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passed[0], sizeof(int));
	sent = sendmsg(sv[1], &m, 0);
	return NULL;
}

int main(void)
{
	char buf[4096], ctl[CMSG_SPACE(8 * sizeof(int))];
	size_t got = 0;
	int nfds = 0, fd_with_first = 0, same = 1, rcvbuf = 16384;
	int received[8];
	pthread_t t;

	alarm(30);
	for (size_t i = 0; i < TOTAL; i++)
		payload[i] = (char)(i % 253);
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	MUST(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf)));
	MUST(pipe(passed));
	MUST(write(passed[1], "through", 7) != 7);
	MUST(pthread_create(&t, NULL, sender, NULL));
	while (got < TOTAL) {
		struct iovec v = {buf, sizeof(buf)};
		struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl,
				   .msg_controllen = sizeof(ctl)};
		ssize_t r = recvmsg(sv[0], &m, 0);
		if (r <= 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < k && nfds < 8; i++)
				memcpy(&received[nfds++], CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
			if (got == 0)
				fd_with_first = 1;
		}
		if (memcmp(buf, payload + got, (size_t)r) != 0)
			same = 0;
		got += (size_t)r;
		sleep_ms(1);
	}
	MUST(pthread_join(t, NULL));
	CHECK(sent == TOTAL, "sendmsg of %d B with SCM_RIGHTS sends it all", TOTAL);
	CHECK(got == TOTAL && same, "the peer reads all %d B, in order", TOTAL);
	CHECK(nfds == 1, "the peer gets exactly one fd");
	CHECK(fd_with_first, "and it comes with the first bytes");
	char seen[8] = {0};
	CHECK(nfds >= 1 && read(received[0], seen, 7) == 7 && memcmp(seen, "through", 7) == 0,
	      "the fd received is the pipe that was sent");
	for (int i = 0; i < nfds; i++)
		close(received[i]);

	struct sockaddr_un to = {.sun_family = AF_UNIX, .sun_path = "\0greenify-sendmsg"};
	struct iovec v = {buf, 10};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_name = &to,
			   .msg_namelen = sizeof(to)};
	errno = 0;
	CHECK_ERR(sendmsg(sv[1], &m, 0) < 0 ? errno : 0, EISCONN,
		  "sendmsg with an address on a connected stream");
	m.msg_name = NULL;
	m.msg_namelen = 0;
	CHECK_ERR(sendmsg(-1, &m, 0) < 0 ? errno : 0, EBADF, "sendmsg on fd -1");
	return check_done();
}
