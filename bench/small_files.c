/*
 * small_files — what a grep over a tree does to each file: open, read to
 * the end, close (ripgrep's pattern, without its search).
 *
 *   small_files DIR [threads=4] [passes=1]
 *
 * threads threads take the regular files of DIR (not recursive) in turn,
 * each file read with read(2) into a 64 KiB buffer until it returns 0, the
 * whole list passes times; prints "small_files files=N bytes=B ms=T".
 * scripts/bench-pipe.sh makes DIR (20,000 files of 0.5-8 KiB); natively
 * each file costs openat, its reads (one short one and the 0) and close.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bench.h"

static char **names;
static long count, passes = 1;
static int dirfd_;
static atomic_long next, bytes;

static void *run(void *arg)
{
	static char bufs[64][65536];
	char *buf = bufs[(long)arg % 64];
	long i;

	while ((i = atomic_fetch_add(&next, 1)) < count * passes) {
		int fd = openat(dirfd_, names[i % count], O_RDONLY | O_CLOEXEC);
		ssize_t r;
		if (fd < 0)
			continue;
		while ((r = read(fd, buf, 65536)) > 0)
			atomic_fetch_add(&bytes, r);
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = 4, cap = 1024;
	pthread_t t[64];
	struct dirent *e;
	DIR *d;

	if (argc < 2 || !(d = opendir(argv[1]))) {
		fprintf(stderr, "usage: small_files DIR [threads] [passes]\n");
		return 2;
	}
	if (argc > 2)
		threads = atol(argv[2]);
	if (argc > 3)
		passes = atol(argv[3]);
	if (threads < 1 || threads > 64 || passes < 1)
		return 2;
	names = malloc((size_t)cap * sizeof(*names));
	while ((e = readdir(d))) {
		if (e->d_type != DT_REG)
			continue;
		if (count == cap)
			names = realloc(names, (size_t)(cap *= 2) * sizeof(*names));
		names[count++] = strdup(e->d_name);
	}
	dirfd_ = dirfd(d);
	double t0 = bench_now_ms(CLOCK_MONOTONIC);
	for (long i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (long i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("small_files files=%ld bytes=%ld ms=%.1f\n", count * passes, (long)bytes,
	       bench_now_ms(CLOCK_MONOTONIC) - t0);
	return 0;
}
