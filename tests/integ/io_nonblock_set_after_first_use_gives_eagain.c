/* Hazard: a pipe or a socket read and written while blocking (so that its
 * kind is known, and its calls take the one-system-call path), then made
 * non-blocking by fcntl(F_SETFL) or ioctl(FIONBIO) on the same fd: an
 * empty read and a full write now answer EAGAIN at once, as the kernel's
 * do, and data there is still read; made blocking again, the read waits
 * for another thread's late write (the OS thread is not blocked: the
 * writer runs), and a write to a full pipe waits for a reader. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

struct late {
	int fd;
	int drain; /* read this fd instead, until a 'd' comes */
};

static void *late_io(void *arg)
{
	struct late *l = arg;
	char buf[4096];

	sleep_ms(20);
	if (l->drain) { /* room for the writer, until its byte came */
		ssize_t r;
		do
			r = read(l->fd, buf, sizeof(buf));
		while (r > 0 && buf[r - 1] != 'd');
		if (r <= 0)
			abort();
		return NULL;
	}
	if (write(l->fd, "L", 1) != 1)
		abort();
	return NULL;
}

static void set_nonblock(int fd, int on, int by_ioctl)
{
	if (by_ioctl) {
		if (ioctl(fd, FIONBIO, &on) != 0)
			abort();
		return;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) != 0)
		abort();
}

/* A full pipe or socket buffer. */
static void fill(int fd)
{
	char buf[4096] = {0};
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

static void one(const char *kind, int r, int w, int by_ioctl)
{
	const char *how = by_ioctl ? "FIONBIO" : "F_SETFL";
	char c = 0, buf[8];
	pthread_t t;

	/* Used blocking first: data there, one call each. */
	CHECK(write(w, "a", 1) == 1 && read(r, &c, 1) == 1 && c == 'a', "%s %s: blocking use",
	      kind, how);
	set_nonblock(r, 1, by_ioctl);
	set_nonblock(w, 1, by_ioctl);
	errno = 0;
	CHECK(read(r, buf, sizeof(buf)) < 0 && errno == EAGAIN, "%s %s: empty read -> EAGAIN",
	      kind, how);
	CHECK(write(w, "b", 1) == 1 && read(r, &c, 1) == 1 && c == 'b',
	      "%s %s: non-blocking, data there is read", kind, how);
	fill(w);
	errno = 0;
	CHECK(write(w, "c", 1) < 0 && errno == EAGAIN, "%s %s: full write -> EAGAIN", kind, how);
	/* Drained, and blocking again. */
	while (read(r, buf, sizeof(buf)) > 0)
		;
	set_nonblock(r, 0, by_ioctl);
	set_nonblock(w, 0, by_ioctl);
	struct late l = {w, 0};
	pthread_create(&t, NULL, late_io, &l);
	CHECK(read(r, &c, 1) == 1 && c == 'L', "%s %s: blocking again, read waits for the writer",
	      kind, how);
	pthread_join(t, NULL);
	fill(w);
	struct late d = {r, 1};
	pthread_create(&t, NULL, late_io, &d);
	CHECK(write(w, "d", 1) == 1, "%s %s: blocking again, full write waits for the reader", kind,
	      how);
	pthread_join(t, NULL);
}

static void *body(void *arg)
{
	int p[2];

	(void)arg;
	for (int by_ioctl = 0; by_ioctl < 2; by_ioctl++) {
		if (pipe(p) != 0)
			abort();
		one("pipe", p[0], p[1], by_ioctl);
		close(p[0]);
		close(p[1]);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0)
			abort();
		one("socket", p[0], p[1], by_ioctl);
		close(p[0]);
		close(p[1]);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;

	pthread_create(&t, NULL, body, NULL);
	pthread_join(t, NULL);
	return check_done();
}
