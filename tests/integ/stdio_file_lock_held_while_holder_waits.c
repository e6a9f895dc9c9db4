/* Hazard: a FILE's lock held by a thread that waits. glibc's lock is a
 * recursive lock owned by a thread; a green thread that holds it and parks
 * (in a sleep after flockfile, or inside fgets on an empty socket) must
 * make another thread's call on that FILE wait, parked, until it lets go:
 * not stop the OS thread in glibc's lock (every thread would hang), and
 * not walk in beside it (with TLS shared by all green threads the lock's
 * owner looks the same).
 *
 * 1. flockfile(stdout), print, wait on a semaphore and sleep, print,
 *    funlockfile: another thread's ftrylockfile fails meanwhile and its
 *    printf comes after both lines (stdout is the runner's file).
 * 2. Two threads in fgets on one socket FILE, a third asking ferror and
 *    fileno: one reader takes the first line, the other the second, each
 *    whole, once the peer sends them together.
 * 3. A thread writes to a line-buffered stdout (made a full pipe for a
 *    while) more than the pipe holds, and waits in that write; another
 *    reads an unbuffered stream, which glibc does only after flushing
 *    stdout under stdout's lock: it waits for the writer, which waits for
 *    a drainer thread, which starts once a ticker has moved on.
 * 4. A thread in fgets on an unbuffered stream gets one byte; meanwhile a
 *    writer took stdout and waits in its write: the next byte's read too
 *    waits for stdout first (glibc flushes it before every read of such a
 *    stream), then fgets gets the rest of the line.
 * A ticker thread must keep running throughout. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static sem_t locked, tried;
static int try_result = -1;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void *holder(void *arg)
{
	(void)arg;
	flockfile(stdout);
	printf("holder: first line\n");
	MUST(sem_post(&locked));
	MUST(sem_wait(&tried)); /* parked, holding stdout */
	sleep_ms(10);
	printf("holder: second line\n");
	funlockfile(stdout);
	return NULL;
}

static void *other(void *arg)
{
	(void)arg;
	MUST(sem_wait(&locked));
	try_result = ftrylockfile(stdout);
	if (try_result == 0)
		funlockfile(stdout);
	MUST(sem_post(&tried));
	printf("other: after the holder\n");
	return NULL;
}

static int sv[2];
static FILE *shared;
static char got[2][32];
static atomic_int readers_in;

static void *reader(void *arg)
{
	char *dst = got[(intptr_t)arg];

	atomic_fetch_add(&readers_in, 1);
	if (!fgets(dst, sizeof(got[0]), shared))
		strcpy(dst, "(nothing)");
	return NULL;
}

static int err_seen = -1, fd_seen = -1;

static void *asker(void *arg)
{
	(void)arg;
	err_seen = ferror(shared);
	fd_seen = fileno(shared);
	return NULL;
}

static int outp[2], inp[2];
static FILE *unbuf;
static long drained_bytes;
static int read_char = -1;
static char bigline[256 * 1024];

static void *big_printer(void *arg)
{
	(void)arg;
	printf("%s\n", bigline);
	return NULL;
}

static void *drainer(void *arg)
{
	char buf[4096];
	ssize_t n;
	int t = atomic_load(&ticks);

	(void)arg;
	while (atomic_load(&ticks) < t + 30)
		sleep_ms(1);
	/* The big line, and no more: stdout stays this pipe a while. */
	while (drained_bytes < (long)sizeof(bigline) &&
	       (n = read(outp[0], buf, sizeof(buf))) > 0)
		drained_bytes += n;
	return NULL;
}

static void *unbuffered_reader(void *arg)
{
	(void)arg;
	read_char = getc(unbuf);
	return NULL;
}

static char unbuf_line[16];

static void *unbuffered_line_reader(void *arg)
{
	(void)arg;
	if (!fgets(unbuf_line, sizeof(unbuf_line), unbuf))
		strcpy(unbuf_line, "(nothing)");
	return NULL;
}

int main(void)
{
	pthread_t tk, h, o, r[2], a, pr, dr, ur;
	int t, saved_out;
	long drained;

	MUST(sem_init(&locked, 0, 0));
	MUST(sem_init(&tried, 0, 0));
	MUST(pthread_create(&tk, NULL, ticker, NULL));

	MUST(pthread_create(&h, NULL, holder, NULL));
	MUST(pthread_create(&o, NULL, other, NULL));
	MUST(pthread_join(h, NULL));
	MUST(pthread_join(o, NULL));
	CHECK(try_result != 0, "ftrylockfile failed while the holder slept");

	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	shared = fdopen(sv[0], "r");
	if (!shared)
		return 2;
	MUST(pthread_create(&r[0], NULL, reader, (void *)0));
	MUST(pthread_create(&r[1], NULL, reader, (void *)1));
	while (atomic_load(&readers_in) < 2)
		sleep_ms(1);
	MUST(pthread_create(&a, NULL, asker, NULL));
	/* Both lines in one write, once the ticker has moved on. */
	t = atomic_load(&ticks);
	while (atomic_load(&ticks) < t + 5)
		sleep_ms(1);
	if (write(sv[1], "first line\nsecond line\n", 23) != 23)
		return 2;
	MUST(pthread_join(r[0], NULL));
	MUST(pthread_join(r[1], NULL));
	MUST(pthread_join(a, NULL));
	/* Which reader got which line is the scheduler's choice. */
	if (strcmp(got[0], got[1]) > 0) {
		char tmp[32];
		strcpy(tmp, got[0]);
		strcpy(got[0], got[1]);
		strcpy(got[1], tmp);
	}
	CHECK(!strcmp(got[0], "first line\n") && !strcmp(got[1], "second line\n"),
	      "each reader got one whole line");
	CHECK(err_seen == 0 && fd_seen == sv[0], "ferror and fileno answered meanwhile");

	/* 3: stdout a pipe for a while; results are printed once it is back. */
	memset(bigline, 'w', sizeof(bigline) - 1);
	MUST(pipe(outp));
	MUST(pipe(inp));
	unbuf = fdopen(inp[0], "r");
	if (!unbuf)
		return 2;
	MUST(setvbuf(unbuf, NULL, _IONBF, 0));
	fflush(stdout);
	saved_out = dup(1);
	MUST(setvbuf(stdout, NULL, _IOLBF, 0));
	MUST(dup2(outp[1], 1) < 0);
	MUST(pthread_create(&pr, NULL, big_printer, NULL));
	MUST(pthread_create(&ur, NULL, unbuffered_reader, NULL));
	MUST(pthread_create(&dr, NULL, drainer, NULL));
	MUST(pthread_join(pr, NULL));
	if (write(inp[1], "x", 1) != 1)
		return 2;
	MUST(pthread_join(ur, NULL));
	MUST(pthread_join(dr, NULL));
	drained = drained_bytes;

	/* 4: the reader first, then the writer, then the first byte. */
	drained_bytes = 0;
	MUST(pthread_create(&ur, NULL, unbuffered_line_reader, NULL));
	t = atomic_load(&ticks);
	while (atomic_load(&ticks) < t + 3)
		sleep_ms(1);
	MUST(pthread_create(&pr, NULL, big_printer, NULL));
	MUST(pthread_create(&dr, NULL, drainer, NULL));
	t = atomic_load(&ticks);
	while (atomic_load(&ticks) < t + 5)
		sleep_ms(1);
	if (write(inp[1], "a", 1) != 1)
		return 2;
	MUST(pthread_join(pr, NULL));
	if (write(inp[1], "b\n", 2) != 2)
		return 2;
	MUST(pthread_join(ur, NULL));
	fflush(stdout);
	MUST(dup2(saved_out, 1) < 0);
	close(saved_out);
	close(outp[1]);
	MUST(pthread_join(dr, NULL));
	CHECK(drained == (long)sizeof(bigline), "the drainer got the big line");
	CHECK(read_char == 'x', "the unbuffered read waited for stdout's writer, then read");
	CHECK(drained_bytes == (long)sizeof(bigline), "the drainer got the big line again");
	CHECK(!strcmp(unbuf_line, "ab\n"), "fgets on the unbuffered stream got its line");

	CHECK(atomic_load(&ticks) >= 5, "the ticker ran throughout");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(shared);
	close(sv[1]);
	fclose(unbuf);
	close(inp[1]);
	close(outp[0]);
	return check_done();
}
