/* Hazard: a receive with MSG_ERRQUEUE never waits in the kernel: an empty
 * error queue is EAGAIN at once, even while data waits in the socket. The
 * preload took that EAGAIN for "would block", waited for the socket to be
 * readable (it was: the data), tried again, and so on for ever (LTP
 * recvfrom01). recv, recvfrom, recvmsg and recvmmsg, in a thread, on a UDP
 * socket with a datagram queued; the datagram is still there after. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "check.h"

static void *in_thread(void *arg)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	char buf[16], ctl[64];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct mmsghdr mm = {.msg_hdr = m};
	int s;
	long r;

	(void)arg;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	MUST(s < 0 ? -1 : 0);
	MUST(bind(s, (struct sockaddr *)&sin, sizeof(sin)));
	MUST(getsockname(s, (struct sockaddr *)&sin, &len));
	MUST(sendto(s, "hi", 2, 0, (struct sockaddr *)&sin, sizeof(sin)) == 2 ? 0 : -1);

	errno = 0;
	r = recv(s, buf, sizeof(buf), MSG_ERRQUEUE);
	CHECK_ERR(r < 0 ? errno : 0, EAGAIN, "recv(MSG_ERRQUEUE), data queued");
	errno = 0;
	r = recvfrom(s, buf, sizeof(buf), MSG_ERRQUEUE, NULL, NULL);
	CHECK_ERR(r < 0 ? errno : 0, EAGAIN, "recvfrom(MSG_ERRQUEUE)");
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	errno = 0;
	r = recvmsg(s, &m, MSG_ERRQUEUE);
	CHECK_ERR(r < 0 ? errno : 0, EAGAIN, "recvmsg(MSG_ERRQUEUE)");
	errno = 0;
	r = recvmmsg(s, &mm, 1, MSG_ERRQUEUE, NULL);
	CHECK_ERR(r < 0 ? errno : 0, EAGAIN, "recvmmsg(MSG_ERRQUEUE)");
	r = recv(s, buf, sizeof(buf), 0);
	CHECK(r == 2 && memcmp(buf, "hi", 2) == 0, "the datagram is still there");
	close(s);
	return NULL;
}

int main(void)
{
	alarm(20); /* hang guard: the default action ends the program */
	run_thread(in_thread, NULL);
	return check_done();
}
