/*
 * file_read_loop — regular-file reads from the page cache, in a thread.
 *
 *   file_read_loop FILE [passes=1000]
 *
 * A second thread reads FILE 4 KiB at a time from the start, passes times,
 * and prints "file_read_loop bytes=N reads=R". Meant for counting system
 * calls (strace -f -c): natively each read is one read(2); the question is
 * how many a green read of a cached file makes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fd;
static long passes = 1000, bytes, reads;

static void *run(void *arg)
{
	char buf[4096];
	ssize_t r;

	(void)arg;
	for (long i = 0; i < passes; i++) {
		if (lseek(fd, 0, SEEK_SET) != 0)
			return NULL;
		do {
			r = read(fd, buf, sizeof(buf));
			reads++;
			if (r > 0)
				bytes += r;
		} while (r > 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2) {
		fprintf(stderr, "usage: file_read_loop FILE [passes]\n");
		return 2;
	}
	if (argc > 2)
		passes = atol(argv[2]);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (pthread_create(&t, NULL, run, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 1;
	printf("file_read_loop bytes=%ld reads=%ld\n", bytes, reads);
	return 0;
}
