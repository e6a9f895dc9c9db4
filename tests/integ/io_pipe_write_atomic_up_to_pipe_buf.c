/* Hazard: POSIX makes a blocking write of at most PIPE_BUF bytes to a pipe
 * atomic: it never interleaves with another writer's. Four threads each
 * write 64 records of PIPE_BUF bytes (and then 64 of 100 bytes) of their
 * own letter into one pipe that is mostly full, while the reader, another
 * thread, reads in odd small gulps; every record must come out whole.
 * Records longer than PIPE_BUF (which may interleave) all arrive too. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define WRITERS 4
#define RECORDS 64

static int p[2];
static size_t rec_len;
static char *got;
static size_t total;

static void *writer(void *arg)
{
	char rec[3 * PIPE_BUF];

	memset(rec, 'a' + (int)(intptr_t)arg, rec_len);
	for (int i = 0; i < RECORDS; i++)
		if (write(p[1], rec, rec_len) != (ssize_t)rec_len)
			abort();
	return NULL;
}

static void *reader(void *arg)
{
	size_t at = 0;

	(void)arg;
	while (at < total) {
		ssize_t n = read(p[0], got + at, total - at < 777 ? total - at : 777);
		if (n <= 0)
			abort();
		at += (size_t)n;
		if (at % 7 == 0)
			sleep_ms(1);
	}
	return NULL;
}

/* Whether every rec_len-long record of got is one letter. */
static int whole(void)
{
	for (size_t r = 0; r < total; r += rec_len)
		for (size_t i = 1; i < rec_len; i++)
			if (got[r + i] != got[r])
				return 0;
	return 1;
}

static int counts_ok(void)
{
	size_t n[WRITERS] = {0};

	for (size_t i = 0; i < total; i++) {
		int w = got[i] - 'a';
		if (w < 0 || w >= WRITERS)
			return 0;
		n[w]++;
	}
	for (int w = 0; w < WRITERS; w++)
		if (n[w] != RECORDS * rec_len)
			return 0;
	return 1;
}

static void run(size_t len)
{
	pthread_t w[WRITERS], r;

	rec_len = len;
	total = WRITERS * RECORDS * len;
	got = calloc(1, total);
	MUST(got == NULL);
	MUST(pthread_create(&r, NULL, reader, NULL));
	for (int i = 0; i < WRITERS; i++)
		MUST(pthread_create(&w[i], NULL, writer, (void *)(intptr_t)i));
	for (int i = 0; i < WRITERS; i++)
		MUST(pthread_join(w[i], NULL));
	MUST(pthread_join(r, NULL));
}

int main(void)
{
	alarm(60);
	MUST(pipe(p));
	MUST(fcntl(p[1], F_SETPIPE_SZ, 16384) < 0);
	run(PIPE_BUF);
	CHECK(whole() && counts_ok(), "%d writers of %d records of PIPE_BUF bytes: every record whole",
	      WRITERS, RECORDS);
	free(got);
	run(100);
	CHECK(whole() && counts_ok(), "records of 100 bytes: every record whole");
	free(got);
	run(3 * PIPE_BUF);
	CHECK(counts_ok(), "records of 3 * PIPE_BUF bytes: all the bytes arrive");
	free(got);
	return check_done();
}
