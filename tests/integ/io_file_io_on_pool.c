/* env-preload: GREENIFY_FILE_IO=pool */
/* Hazard: regular-file I/O, which has no readiness to wait for. With
 * GREENIFY_FILE_IO=pool it runs on a thread pool while the green thread
 * parks: 20 threads each write a 256 KiB file with pwrite and write, fsync
 * and fdatasync it, read it back with pread and read, and compare; errors
 * keep libc's answers (EBADF on a closed fd, ESPIPE for pread on a pipe). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define N 20
#define SIZE (256 * 1024)

static atomic_int good;

static void *file_round_trip(void *arg)
{
	int i = (int)(intptr_t)arg, fd, ok = 1;
	char path[64];
	char *out = malloc(SIZE), *in = malloc(SIZE);

	snprintf(path, sizeof(path), "/tmp/gr-fileio-%d-%d", (int)getpid(), i);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || !out || !in)
		return NULL;
	unlink(path);
	for (int k = 0; k < SIZE; k++)
		out[k] = (char)(k * 13 + i);
	ok &= pwrite(fd, out, SIZE / 2, 0) == SIZE / 2;
	ok &= lseek(fd, SIZE / 2, SEEK_SET) == SIZE / 2;
	ok &= write(fd, out + SIZE / 2, SIZE / 2) == SIZE / 2;
	ok &= fsync(fd) == 0 && fdatasync(fd) == 0;
	ok &= pread(fd, in, SIZE / 2, SIZE / 2) == SIZE / 2;
	ok &= lseek(fd, 0, SEEK_SET) == 0 && read(fd, in + SIZE / 2, SIZE / 2) == SIZE / 2;
	ok &= memcmp(in, out + SIZE / 2, SIZE / 2) == 0 && memcmp(in + SIZE / 2, out, SIZE / 2) == 0;
	close(fd);
	free(out);
	free(in);
	if (ok)
		atomic_fetch_add(&good, 1);
	return NULL;
}

int main(void)
{
	pthread_t t[N];
	int p[2];
	char c;

	alarm(30);
	for (int i = 0; i < N; i++)
		MUST(pthread_create(&t[i], NULL, file_round_trip, (void *)(intptr_t)i));
	for (int i = 0; i < N; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(atomic_load(&good) == N, "%d threads wrote, synced and read back their files", N);
	MUST(pipe(p));
	CHECK(pread(p[0], &c, 1, 0) == -1 && errno == ESPIPE, "pread on a pipe: ESPIPE");
	close(p[0]);
	CHECK(pread(p[0], &c, 1, 0) == -1 && errno == EBADF, "pread on a closed fd: EBADF");
	CHECK(fsync(p[0]) == -1 && errno == EBADF, "fsync on a closed fd: EBADF");
	return check_done();
}
