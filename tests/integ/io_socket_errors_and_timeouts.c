/* Hazard: libc's answers from green socket calls. connect to a closed
 * port on 127.0.0.1 -> ECONNREFUSED; recv with SO_RCVTIMEO 50 ms -> -1
 * EAGAIN after at least 50 ms; a socket the program made non-blocking gets
 * EAGAIN at once and still reports O_NONBLOCK, a blocking one still reports
 * no O_NONBLOCK after a thread blocked on it; accept then connect in two
 * threads works. Each check runs in a thread, with another thread alive. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int refused_errno, timeout_errno, nb_errno, nb_flag_kept, block_flag_kept;
static int64_t timeout_took;
static int sp[2];

static void *try_refused(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int probe = socket(AF_INET, SOCK_STREAM, 0), fd;

	(void)arg;
	/* a port that was free a moment ago: bind, note it, close */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(probe, (struct sockaddr *)&a, sizeof(a));
	getsockname(probe, (struct sockaddr *)&a, &len);
	close(probe);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		refused_errno = errno;
	close(fd);
	return NULL;
}

static void *try_timeout(void *arg)
{
	struct timeval tv = { 0, 50 * 1000 };
	char c;
	int64_t t0;

	(void)arg;
	setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = mono_ns();
	if (recv(sp[0], &c, 1, 0) < 0)
		timeout_errno = errno;
	timeout_took = mono_ns() - t0;
	return NULL;
}

static void *try_nonblock(void *arg)
{
	int p[2];
	char c;

	(void)arg;
	socketpair(AF_UNIX, SOCK_STREAM, 0, p);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	if (read(p[0], &c, 1) < 0)
		nb_errno = errno;
	nb_flag_kept = (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0;
	close(p[0]);
	close(p[1]);
	return NULL;
}

static void *late_writer(void *arg)
{
	(void)arg;
	sleep_ms(20);
	if (write(sp[1], "z", 1) != 1)
		return NULL;
	return NULL;
}

int main(void)
{
	pthread_t t, w;
	char c = 0;

	alarm(20);
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sp));
	MUST(pthread_create(&t, NULL, try_refused, NULL));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(refused_errno, ECONNREFUSED, "connect to a closed port");

	MUST(pthread_create(&t, NULL, try_timeout, NULL));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(timeout_errno, EAGAIN, "recv past SO_RCVTIMEO");
	CHECK(timeout_took >= MS(50) && timeout_took < MS(2000), "it waited the 50 ms");

	MUST(pthread_create(&t, NULL, try_nonblock, NULL));
	MUST(pthread_join(t, NULL));
	CHECK_ERR(nb_errno, EAGAIN, "read on a socket the program made non-blocking");
	CHECK(nb_flag_kept, "it still reports O_NONBLOCK");

	struct timeval none = { 0, 0 };
	setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	MUST(pthread_create(&w, NULL, late_writer, NULL));
	CHECK(read(sp[0], &c, 1) == 1 && c == 'z', "a blocking read waited for the late byte");
	block_flag_kept = (fcntl(sp[0], F_GETFL) & O_NONBLOCK) == 0;
	CHECK(block_flag_kept, "the blocking socket still reports no O_NONBLOCK");
	MUST(pthread_join(w, NULL));

	/* Flags and timeouts changed after the socket was already used:
	 * the runtime must not answer from what it knew before. */
	int on = 1;
	fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) | O_NONBLOCK);
	CHECK(read(sp[0], &c, 1) == -1 && errno == EAGAIN, "O_NONBLOCK set later: EAGAIN");
	fcntl(sp[0], F_SETFL, fcntl(sp[0], F_GETFL) & ~O_NONBLOCK);
	MUST(pthread_create(&w, NULL, late_writer, NULL));
	CHECK(read(sp[0], &c, 1) == 1, "cleared again: the read waits for the byte");
	MUST(pthread_join(w, NULL));
	ioctl(sp[0], FIONBIO, &on);
	CHECK(read(sp[0], &c, 1) == -1 && errno == EAGAIN, "FIONBIO on: EAGAIN");
	on = 0;
	ioctl(sp[0], FIONBIO, &on);
	struct timeval tv = { 0, 30 * 1000 };
	setsockopt(sp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int64_t t0 = mono_ns();
	CHECK(recv(sp[0], &c, 1, 0) == -1 && errno == EAGAIN && mono_ns() - t0 >= MS(30),
	      "SO_RCVTIMEO set after use: EAGAIN after 30 ms");
	return check_done();
}
