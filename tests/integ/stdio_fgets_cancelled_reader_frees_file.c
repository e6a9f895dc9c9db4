/* Hazard: pthread_cancel of a thread blocked in fgets on a pipe (a
 * cancellation point, since the read it makes is one) while a second
 * thread waits for the same FILE. The cancelled thread ends with
 * PTHREAD_CANCELED and lets go of the FILE as it unwinds, so the second
 * thread gets the next line, and main can read the FILE afterwards. A
 * thread blocked in fflush on a full pipe is cancelled the same way. A
 * ticker thread must keep running throughout. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static int p[2], q[2];
static FILE *in, *out;
static atomic_int ticks, stop, started;
static char second_got[32];

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void *first(void *arg)
{
	char buf[32];

	(void)arg;
	atomic_fetch_add(&started, 1);
	fgets(buf, sizeof(buf), in);
	return (void *)"not cancelled";
}

static void *second(void *arg)
{
	(void)arg;
	atomic_fetch_add(&started, 1);
	if (!fgets(second_got, sizeof(second_got), in))
		strcpy(second_got, "(nothing)");
	return NULL;
}

static void *flusher(void *arg)
{
	static char big[256 * 1024];

	(void)arg;
	memset(big, 'x', sizeof(big));
	fwrite(big, 1, sizeof(big), out); /* more than the pipe holds */
	fflush(out);
	return (void *)"not cancelled";
}

int main(void)
{
	pthread_t tk, t1, t2, t3;
	void *ret;
	char buf[32];
	int t;

	MUST(pipe(p));
	MUST(pipe(q));
	in = fdopen(p[0], "r");
	out = fdopen(q[1], "w");
	if (!in || !out)
		return 2;
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&t1, NULL, first, NULL));
	/* The first reader holds the FILE (it is in fgets) once ftrylockfile
	 * fails; then the second one comes and waits for it. */
	while (ftrylockfile(in) == 0) {
		funlockfile(in);
		sleep_ms(1);
	}
	MUST(pthread_create(&t2, NULL, second, NULL));
	while (atomic_load(&started) < 2)
		sleep_ms(1);
	t = atomic_load(&ticks);
	while (atomic_load(&ticks) < t + 3)
		sleep_ms(1);
	MUST(pthread_cancel(t1));
	MUST(pthread_join(t1, &ret));
	CHECK(ret == PTHREAD_CANCELED, "the reader blocked in fgets was cancelled");
	if (write(p[1], "for the second\n", 15) != 15)
		return 2;
	MUST(pthread_join(t2, NULL));
	CHECK(!strcmp(second_got, "for the second\n"), "the other reader got the next line");
	if (write(p[1], "for main\n", 9) != 9)
		return 2;
	CHECK(fgets(buf, sizeof(buf), in) && !strcmp(buf, "for main\n"),
	      "main reads the FILE afterwards");
	CHECK(!ferror(in) && !feof(in), "no flag set on it");

	MUST(pthread_create(&t3, NULL, flusher, NULL));
	t = atomic_load(&ticks);
	while (atomic_load(&ticks) < t + 3)
		sleep_ms(1);
	MUST(pthread_cancel(t3));
	MUST(pthread_join(t3, &ret));
	CHECK(ret == PTHREAD_CANCELED, "the writer blocked in fflush was cancelled");

	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(in);
	close(p[1]);
	__fpurge(out); /* what the cancelled writer left: exit would flush it */
	fclose(out);
	close(q[0]);
	return check_done();
}
