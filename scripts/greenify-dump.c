/* greenify-dump PID [TIMEOUT]: the client of `greenify dump PID`, which
 * execs it. Connects to the abstract unix socket "greenify.PID" of a
 * process run with GREENIFY_DUMP=1 and copies the dump the process writes
 * to stdout. A program of its own, not a python3 -c: the interpreter's
 * start-up alone took longer than the dump of 100,000 threads.
 *
 * The process answers from its one OS thread, between two green threads:
 * one that computes or blocks in the kernel delays the answer, so each
 * read waits TIMEOUT seconds (default 10) at most. Exit status 1, with a
 * message on stderr, when nothing listens, nothing comes in time or the
 * process refuses (another user's request). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* What the process answers a peer it refuses (runtime/dump.c). */
#define REFUSED "greenify: dump refused"

static int put_all(const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(1, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *pid = argc > 1 ? argv[1] : "";
	double timeout = argc > 2 ? strtod(argv[2], NULL) : 10;
	char buf[65536];
	int fd, n, seen = 0, refused = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: greenify-dump PID [TIMEOUT]\n");
		return 2;
	}
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "greenify.%s", pid);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		fprintf(stderr,
			"greenify: dump: no greenified process %s listens (run it with "
			"GREENIFY_DUMP=1): %s\n",
			pid, strerror(errno));
		return 1;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, timeout > 0 ? (int)(timeout * 1000) : -1);
		ssize_t got;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			fprintf(stderr,
				"greenify: dump: process %s did not answer within %s s: its OS "
				"thread is busy or blocked in the kernel\n",
				pid, argc > 2 ? argv[2] : "10");
			return 1;
		}
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 || refused;
		if (!seen && (size_t)got >= sizeof(REFUSED) - 1 &&
		    memcmp(buf, REFUSED, sizeof(REFUSED) - 1) == 0)
			refused = 1;
		seen = 1;
		if (refused) { /* an error, not a dump: stderr, status 1 */
			fwrite(buf, 1, (size_t)got, stderr);
			continue;
		}
		if (put_all(buf, (size_t)got) < 0)
			return 1;
	}
}
