/* Hazard: fflush(NULL) writes every stream while glibc holds the lock of
 * its list of streams; fopen and fclose take that lock too. When one
 * stream is a full pipe whose reader is another thread, the flush waits
 * for that reader, and a third thread that opens and closes files
 * meanwhile must wait (natively, in glibc's lock) or go on, but never stop
 * the OS thread: the reader would never run. Every byte reaches the
 * reader; _flushlbf sends a line-buffered stream's pending bytes; fcloseall
 * writes what is left. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define BIG (512 * 1024)

static int q[2], l[2];
static atomic_int ticks, stop, opened;
static long drained;
static char lbf_got[16];

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void *drainer(void *arg)
{
	char buf[4096];
	ssize_t n;
	int t = atomic_load(&ticks);

	(void)arg;
	while (atomic_load(&ticks) < t + 20)
		sleep_ms(1);
	while ((n = read(q[0], buf, sizeof(buf))) > 0)
		drained += n;
	return NULL;
}

static void *opener(void *arg)
{
	char path[64];

	(void)arg;
	snprintf(path, sizeof(path), "/tmp/greenify-stdio-%d", (int)getpid());
	while (!atomic_load(&stop)) {
		FILE *f = fopen(path, "w+");
		if (!f)
			abort();
		fprintf(f, "%d\n", atomic_load(&opened));
		fclose(f);
		atomic_fetch_add(&opened, 1);
		sleep_ms(1);
	}
	unlink(path);
	return NULL;
}

int main(void)
{
	static char big[BIG], obuf[2 * BIG];
	pthread_t tk, dr, op;
	FILE *out, *lbf;
	ssize_t n;
	int rc;

	MUST(pipe(q));
	MUST(pipe(l));
	out = fdopen(q[1], "w");
	lbf = fdopen(l[1], "w");
	if (!out || !lbf)
		return 2;
	MUST(setvbuf(out, obuf, _IOFBF, sizeof(obuf)));
	MUST(setvbuf(lbf, NULL, _IOLBF, 64));
	memset(big, 'z', sizeof(big));
	CHECK(fwrite(big, 1, BIG, out) == BIG, "512 KiB into a 1 MiB buffer: all buffered");
	CHECK(fputs("no newline", lbf) >= 0, "a line-buffered stream keeps a partial line");

	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&op, NULL, opener, NULL));
	MUST(pthread_create(&dr, NULL, drainer, NULL));
	CHECK(fflush(NULL) == 0, "fflush(NULL) writes everything");
	n = read(l[0], lbf_got, sizeof(lbf_got) - 1);
	CHECK(n == 10 && !memcmp(lbf_got, "no newline", 10), "the partial line went too");

	CHECK(fputs("lbf again", lbf) >= 0, "another partial line");
	_flushlbf();
	n = read(l[0], lbf_got, sizeof(lbf_got) - 1);
	CHECK(n == 9 && !memcmp(lbf_got, "lbf again", 9), "_flushlbf sent it");

	CHECK(fwrite(big, 1, BIG, out) == BIG, "another 512 KiB buffered");
	atomic_store(&stop, 1);
	MUST(pthread_join(op, NULL));
	MUST(pthread_join(tk, NULL));
	atomic_store(&stop, 0);
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	CHECK(atomic_load(&opened) > 0, "the opener opened and closed files meanwhile");
	rc = check_done();
	/* fcloseall writes the rest (glibc's leaves the fds open, and stdio
	 * unusable: nothing can print after it, the exit status tells); the
	 * drainer sees end-of-file once out's pipe is closed. */
	if (fcloseall() != 0)
		return 3;
	close(q[1]);
	MUST(pthread_join(dr, NULL));
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	return drained == 2 * BIG ? rc : 4;
}
