/* Hazard: a TCP socket that a blocking connect connected is marked
 * connected by that call, so a second connect fails with EISCONN. The
 * preload's connect is made non-blocking and waits for writability; the
 * kernel marks the socket only in a connect call that sees the connection
 * made, so the program's second connect answered 0 (LTP connect01). In a
 * thread, over loopback; the connection still carries data. */
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
	int l, c, a, r;
	char b = 0;

	(void)arg;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	MUST(l < 0 || c < 0 ? -1 : 0);
	MUST(bind(l, (struct sockaddr *)&sin, sizeof(sin)));
	MUST(listen(l, 4));
	MUST(getsockname(l, (struct sockaddr *)&sin, &len));
	r = connect(c, (struct sockaddr *)&sin, sizeof(sin));
	CHECK(r == 0, "first connect succeeds");
	errno = 0;
	r = connect(c, (struct sockaddr *)&sin, sizeof(sin));
	CHECK_ERR(r < 0 ? errno : 0, EISCONN, "second connect");
	a = accept(l, NULL, NULL);
	MUST(a < 0 ? -1 : 0);
	MUST(write(c, "z", 1) == 1 ? 0 : -1);
	CHECK(read(a, &b, 1) == 1 && b == 'z', "the connection carries data");
	close(a);
	close(c);
	close(l);
	return NULL;
}

int main(void)
{
	run_thread(in_thread, NULL);
	return check_done();
}
