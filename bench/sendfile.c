/*
 * sendfile of a file into a socket that another thread drains, against a
 * read/write loop of 64 KiB doing the same: MiB/s for each. A plain
 * pthread program, run natively and under greenify by
 * scripts/bench-sendfile.sh.
 *
 * Usage: sendfile FILE MODE      MODE: sendfile | readwrite
 * Prints one line: "<mode> <MiB> MiB <seconds> s <MiB/s> MiB/s".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

static int rx;
static off_t total;

static void *drain(void *arg)
{
	static char buf[1 << 16];
	off_t got = 0;

	(void)arg;
	while (got < total) {
		ssize_t r = read(rx, buf, sizeof(buf));
		if (r <= 0)
			break;
		got += r;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	struct stat st;
	pthread_t t;
	int s[2], fd;
	off_t sent = 0;
	double t0, dt;

	if (argc != 3 || (strcmp(argv[2], "sendfile") && strcmp(argv[2], "readwrite"))) {
		fprintf(stderr, "usage: %s FILE sendfile|readwrite\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0) {
		perror(argv[1]);
		return 1;
	}
	total = st.st_size;
	rx = s[1];
	t0 = bench_now_ms(CLOCK_MONOTONIC);
	if (pthread_create(&t, NULL, drain, NULL) != 0)
		return 1;
	while (sent < total) {
		ssize_t r;
		if (argv[2][0] == 's') {
			r = sendfile(s[0], fd, NULL, (size_t)(total - sent));
		} else {
			r = read(fd, buf, sizeof(buf));
			if (r > 0 && write(s[0], buf, (size_t)r) != r)
				r = -1;
		}
		if (r <= 0) {
			perror(argv[2]);
			return 1;
		}
		sent += r;
	}
	pthread_join(t, NULL);
	dt = (bench_now_ms(CLOCK_MONOTONIC) - t0) / 1e3;
	printf("%s %.0f MiB %.3f s %.0f MiB/s\n", argv[2], (double)total / 1048576, dt,
	       (double)total / 1048576 / dt);
	return 0;
}
