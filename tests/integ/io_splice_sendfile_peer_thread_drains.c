/* Hazard: splice, tee, vmsplice and sendfile wait in the kernel for a pipe
 * or socket end; when another thread of the process fills or drains it,
 * a call that blocks the OS thread never lets that thread run (a hang).
 * A ticker thread counts milliseconds meanwhile.
 *   - sendfile of 8 MiB from a file into a socketpair another thread
 *     drains: all of it arrives, in order (as fast as it goes: the ticker
 *     is not asked to have run);
 *   - sendfile from a file into a pipe another thread drains;
 *   - splice pipe -> socket (4 MiB) while the other thread reads the
 *     socket, and socket -> pipe waiting for data another thread sends;
 *   - tee from a pipe that another thread fills 30 ms later;
 *   - vmsplice into a full pipe that another thread drains;
 *   - a handler (no SA_RESTART) ends a splice waiting on an empty socket
 *     with EINTR, and a sendfile into a full socket with EINTR;
 *   - pthread_cancel of a thread waiting in splice cancels it;
 *   - the program's O_NONBLOCK and SPLICE_F_NONBLOCK give EAGAIN;
 *   - copy_file_range between files; EINVAL with a pipe end, between two
 *     sockets for splice; EBADF; ESPIPE for an offset on a pipe. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

#define BIG (8 << 20)

static atomic_int ticks, stop, handled;
static char path[64];
static unsigned char *pattern;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* Reads n bytes from fd and checks them against the pattern from off. */
struct drain {
	int fd;
	size_t n, off;
	int ok;
};

static void *drain(void *arg)
{
	struct drain *d = arg;
	static unsigned char buf[65536];
	size_t got = 0;

	d->ok = 1;
	while (got < d->n) {
		ssize_t r = read(d->fd, buf, sizeof(buf));
		if (r <= 0) {
			d->ok = 0;
			break;
		}
		if (memcmp(buf, pattern + d->off + got, (size_t)r))
			d->ok = 0;
		got += (size_t)r;
	}
	return NULL;
}

static void sendfile_into(int kind)
{
	int fd = open(path, O_RDONLY), p[2];
	struct drain d;
	pthread_t t;
	size_t sent = 0;
	int t0 = atomic_load(&ticks);
	const char *what = kind ? "sendfile into a pipe" : "sendfile into a socket";

	if (kind)
		MUST(pipe(p));
	else
		MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, p));
	d = (struct drain){.fd = p[1 - kind], .n = BIG};
	if (kind)
		d.fd = p[0];
	MUST(pthread_create(&t, NULL, drain, &d));
	int out = kind ? p[1] : p[0];
	while (sent < BIG) {
		ssize_t r = sendfile(out, fd, NULL, BIG - sent);
		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	MUST(pthread_join(t, NULL));
	CHECK(sent == BIG && d.ok, "%s: 8 MiB arrive whole and in order", what);
	fprintf(stderr, "%s: %d ticks\n", what, atomic_load(&ticks) - t0);
	close(p[0]);
	close(p[1]);
	close(fd);
}

static void splice_pipe_to_socket(void)
{
	int fd = open(path, O_RDONLY), p[2], s[2];
	struct drain d;
	pthread_t t;
	size_t moved = 0, total = 4 << 20;

	MUST(pipe(p));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	d = (struct drain){.fd = s[1], .n = total};
	MUST(pthread_create(&t, NULL, drain, &d));
	while (moved < total) {
		loff_t off = (loff_t)moved;
		ssize_t in = splice(fd, &off, p[1], NULL, total - moved, 0);
		if (in <= 0)
			break;
		while (in > 0) {
			ssize_t r = splice(p[0], NULL, s[0], NULL, (size_t)in, 0);
			if (r <= 0) {
				in = -1;
				break;
			}
			in -= r;
			moved += (size_t)r;
		}
		if (in < 0)
			break;
	}
	MUST(pthread_join(t, NULL));
	CHECK(moved == total && d.ok, "splice file -> pipe -> socket: 4 MiB arrive in order");
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	close(fd);
}

struct later {
	int fd;
	int ms;
	int sock;
};

static void *write_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	MUST(write(l->fd, "0123456789", 10) == 10 ? 0 : -1);
	return NULL;
}

static void waits_for_data(void)
{
	int p[2], q[2], s[2];
	pthread_t t;
	char buf[16] = {0};
	struct later l;
	int t0 = atomic_load(&ticks);

	MUST(pipe(p));
	MUST(pipe(q));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	l = (struct later){s[1], 30, 1};
	MUST(pthread_create(&t, NULL, write_later, &l));
	CHECK(splice(s[0], NULL, p[1], NULL, 100, 0) == 10, "splice socket -> pipe waits for data");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while splice waited");
	MUST(pthread_join(t, NULL));
	CHECK(read(p[0], buf, 10) == 10 && !memcmp(buf, "0123456789", 10), "the data is in the pipe");

	l = (struct later){p[1], 30, 0};
	MUST(pthread_create(&t, NULL, write_later, &l));
	CHECK(tee(p[0], q[1], 100, 0) == 10, "tee waits for data in its input");
	MUST(pthread_join(t, NULL));
	CHECK(read(q[0], buf, 10) == 10 && read(p[0], buf, 10) == 10, "tee copied, the input kept it");

	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(s[0]);
	close(s[1]);
}

/* Takes a full pipe's filler, then 8 more bytes, 30 ms from now. */
struct taker {
	int fd, sz;
	char tail[9];
};

static void *take_later(void *arg)
{
	struct taker *t = arg;
	char *buf = malloc((size_t)t->sz);
	int got = 0;

	sleep_ms(30);
	while (got < t->sz) {
		ssize_t r = read(t->fd, buf, (size_t)(t->sz - got));
		if (r <= 0)
			break;
		got += (int)r;
	}
	MUST(read(t->fd, t->tail, 8) == 8 ? 0 : -1);
	free(buf);
	return NULL;
}

static void vmsplice_full_pipe(void)
{
	int p[2], sz;
	char *fill;
	struct iovec v = {(void *)"abcdefgh", 8};
	struct taker tk = {0};
	pthread_t t;

	MUST(pipe(p));
	sz = fcntl(p[1], F_GETPIPE_SZ);
	fill = calloc(1, (size_t)sz);
	MUST(write(p[1], fill, (size_t)sz) == sz ? 0 : -1);
	tk.fd = p[0];
	tk.sz = sz;
	MUST(pthread_create(&t, NULL, take_later, &tk));
	CHECK(vmsplice(p[1], &v, 1, 0) == 8, "vmsplice into a full pipe waits for room");
	MUST(pthread_join(t, NULL));
	CHECK(!strcmp(tk.tail, "abcdefgh"), "the reader gets the vmspliced bytes");
	free(fill);
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

static void *splice_waiting(void *arg)
{
	int *fds = arg;

	splice(fds[0], NULL, fds[1], NULL, 100, 0);
	return NULL;
}

static void interrupted(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t self = pthread_self(), k, w;
	int p[2], s[2], fd = open(path, O_RDONLY), fds[2];
	char buf[4096];
	void *ret;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pipe(p));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	MUST(pthread_create(&k, NULL, kick_later, &self));
	CHECK_ERR(splice(s[0], NULL, p[1], NULL, 100, 0) == -1 ? errno : 0, EINTR,
		  "splice waiting on an empty socket, a handler");
	MUST(pthread_join(k, NULL));
	/* Fill the socket, then sendfile into it. */
	memset(buf, 'x', sizeof(buf));
	while (send(s[0], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	MUST(pthread_create(&k, NULL, kick_later, &self));
	CHECK_ERR(sendfile(s[0], fd, NULL, 65536) == -1 ? errno : 0, EINTR,
		  "sendfile into a full socket, a handler");
	MUST(pthread_join(k, NULL));
	CHECK(atomic_load(&handled) == 2, "the handler ran twice");
	close(s[0]);
	close(s[1]);
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	fds[0] = s[0];
	fds[1] = p[1];
	MUST(pthread_create(&w, NULL, splice_waiting, fds));
	sleep_ms(30);
	MUST(pthread_cancel(w));
	MUST(pthread_join(w, &ret));
	CHECK(ret == PTHREAD_CANCELED, "cancel in splice: the thread is cancelled");
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	close(fd);
}

static void errors(void)
{
	int p[2], s[2], t[2], fd = open(path, O_RDONLY);
	char out[96];
	int o;
	loff_t off = 0;

	MUST(pipe(p));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, t));
	MUST(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK_ERR(splice(p[0], NULL, s[0], NULL, 100, 0) == -1 ? errno : 0, EAGAIN,
		  "splice from an empty O_NONBLOCK pipe");
	MUST(fcntl(p[0], F_SETFL, 0));
	CHECK_ERR(splice(p[0], NULL, s[0], NULL, 100, SPLICE_F_NONBLOCK) == -1 ? errno : 0, EAGAIN,
		  "splice with SPLICE_F_NONBLOCK from an empty pipe");
	CHECK_ERR(splice(s[0], NULL, t[0], NULL, 100, 0) == -1 ? errno : 0, EINVAL,
		  "splice between two sockets");
	CHECK_ERR(splice(-1, NULL, p[1], NULL, 100, 0) == -1 ? errno : 0, EBADF, "splice from -1");
	CHECK_ERR(splice(p[0], &off, s[0], NULL, 100, 0) == -1 ? errno : 0, ESPIPE,
		  "splice with an offset on a pipe");
	snprintf(out, sizeof(out), "%s.copy", path);
	o = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(copy_file_range(fd, NULL, o, NULL, 1000, 0) == 1000, "copy_file_range between files");
	CHECK_ERR(copy_file_range(fd, NULL, p[1], NULL, 10, 0) == -1 ? errno : 0, EINVAL,
		  "copy_file_range into a pipe");
	close(o);
	unlink(out);
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	close(t[0]);
	close(t[1]);
	close(fd);
}

int main(void)
{
	pthread_t tick;
	int fd;

	pattern = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		pattern[i] = (unsigned char)(i * 131 + (i >> 13));
	snprintf(path, sizeof(path), "/tmp/greenify-splice-%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	MUST(fd < 0 || write(fd, pattern, BIG) != BIG ? -1 : 0);
	close(fd);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	sendfile_into(0);
	sendfile_into(1);
	splice_pipe_to_socket();
	waits_for_data();
	vmsplice_full_pipe();
	interrupted();
	errors();
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	unlink(path);
	free(pattern);
	return check_done();
}
