/* Hazard: a regular file is read and written with the plain call once its
 * kind is known: what the kernel answers must come back as it is. A read
 * larger than the rest gives the rest, then 0 at the end; readv fills its
 * iovecs in order; a write at the position, then read back; O_APPEND
 * writes at the end; a read past a hole gives zeros; pread leaves the
 * position alone; a write to a file opened read-only is EBADF, a read of
 * one opened write-only EBADF, of a closed fd EBADF; errno is left alone
 * on success. Each of these also after the same fd was used many times,
 * and while another thread sleeps and wakes (both run). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *body(void *arg)
{
	char path[] = "/tmp/greenify-regular-XXXXXX", buf[64];
	int fd = mkstemp(path), ro, wo;

	(void)arg;
	if (fd < 0)
		abort();
	for (int i = 0; i < 100; i++)
		if (pwrite(fd, "0123456789", 10, 0) != 10)
			abort();
	CHECK(write(fd, "0123456789", 10) == 10, "write at the position");
	CHECK(lseek(fd, 0, SEEK_CUR) == 10, "position after it: 10");
	lseek(fd, 0, SEEK_SET);
	int ok = 1;
	for (int i = 0; i < 100; i++) {
		lseek(fd, 0, SEEK_SET);
		ok &= read(fd, buf, sizeof(buf)) == 10 && read(fd, buf, sizeof(buf)) == 0;
	}
	CHECK(ok, "read larger than the file: its 10 bytes, then 0, 100 times");
	lseek(fd, 2, SEEK_SET);
	errno = 1234;
	CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "234", 3) == 0 && errno == 1234,
	      "read of 3 at 2: 234, errno untouched");
	char a[4] = {0}, b[4] = {0};
	struct iovec v[2] = {{a, 3}, {b, 3}};
	lseek(fd, 0, SEEK_SET);
	CHECK(readv(fd, v, 2) == 6 && memcmp(a, "012", 3) == 0 && memcmp(b, "345", 3) == 0,
	      "readv fills its iovecs in order");
	CHECK(pread(fd, buf, 2, 8) == 2 && memcmp(buf, "89", 2) == 0 &&
		      lseek(fd, 0, SEEK_CUR) == 6,
	      "pread leaves the position");
	/* A hole, then the read past it. */
	CHECK(pwrite(fd, "E", 1, 40) == 1, "write past the end");
	lseek(fd, 10, SEEK_SET);
	memset(buf, 'x', sizeof(buf));
	CHECK(read(fd, buf, sizeof(buf)) == 31 && buf[0] == 0 && buf[29] == 0 && buf[30] == 'E',
	      "read across the hole: zeros, then the byte");
	/* O_APPEND. */
	wo = open(path, O_WRONLY | O_APPEND);
	CHECK(write(wo, "AP", 2) == 2 && pread(fd, buf, 2, 41) == 2 && memcmp(buf, "AP", 2) == 0,
	      "O_APPEND writes at the end");
	errno = 0;
	CHECK(read(wo, buf, 1) < 0 && errno == EBADF, "read of a write-only file -> EBADF");
	ro = open(path, O_RDONLY);
	errno = 0;
	CHECK(write(ro, "x", 1) < 0 && errno == EBADF, "write to a read-only file -> EBADF");
	CHECK(read(ro, buf, 4) == 4 && memcmp(buf, "0123", 4) == 0, "read-only file reads");
	close(ro);
	errno = 0;
	CHECK(read(ro, buf, 1) < 0 && errno == EBADF, "read of a closed fd -> EBADF");
	close(wo);
	close(fd);
	unlink(path);
	return NULL;
}

int main(void)
{
	pthread_t t, tick;

	pthread_create(&tick, NULL, ticker, NULL);
	pthread_create(&t, NULL, body, NULL);
	pthread_join(t, NULL);
	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	return check_done();
}
