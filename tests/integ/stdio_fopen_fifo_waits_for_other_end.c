/* Hazard: fopen of a FIFO opens the path inside libc, where the open waits
 * in the kernel until the other end is opened; when another thread of the
 * process opens that end, an fopen that blocks the OS thread never lets it
 * run (a hang). A ticker thread counts milliseconds meanwhile.
 *   - fopen("r") waits for a writer's open 30 ms later; a line that comes
 *     in two writes is read whole by fgets, then EOF once the writer
 *     closes (feof set);
 *   - freopen(fifo, "r", fp) of an open stream waits the same way;
 *   - fopen("w") waits for a reader's fopen("r") 30 ms later (both ends
 *     are fopen), and fopen("a") for a reader's open; the data goes
 *     through;
 *   - a handler without SA_RESTART ends the wait: NULL and EINTR;
 *   - pthread_cancel of a thread waiting in fopen cancels it;
 *   - "r+" opens at once; errors as libc's (ENOENT, EISDIR);
 *   - no fd is left open behind the program's back. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char fifo[64];
static atomic_int ticks, stop, handled;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* The writer end by open(), 30 ms later: a line in two pieces, then
 * another, then close. */
static void *plain_writer(void *arg)
{
	int fd;

	(void)arg;
	sleep_ms(30);
	fd = open(fifo, O_WRONLY);
	if (fd < 0)
		return NULL;
	if (write(fd, "hel", 3) != 3)
		exit(2);
	sleep_ms(20);
	if (write(fd, "lo\nworld\n", 9) != 9)
		exit(2);
	close(fd);
	return NULL;
}

static void reader_waits(void)
{
	pthread_t t;
	int t0 = atomic_load(&ticks);
	char line[32];

	MUST(pthread_create(&t, NULL, plain_writer, NULL));
	FILE *f = fopen(fifo, "r");
	CHECK(f != NULL, "fopen(\"r\") of a FIFO: opens once the writer comes");
	CHECK(atomic_load(&ticks) > t0, "fopen(\"r\"): the ticker ran while it waited");
	if (f) {
		CHECK(fgets(line, sizeof(line), f) && !strcmp(line, "hello\n"),
		      "fgets: the line in two pieces, whole");
		CHECK(fgets(line, sizeof(line), f) && !strcmp(line, "world\n"), "fgets: the next line");
		CHECK(!fgets(line, sizeof(line), f) && feof(f) && !ferror(f),
		      "fgets: EOF once the writer closed");
		fclose(f);
	}
	MUST(pthread_join(t, NULL));
}

static void reopen_waits(void)
{
	pthread_t t;
	int t0 = atomic_load(&ticks);
	char line[32];
	FILE *f = fopen("/dev/null", "r");

	CHECK(f != NULL, "fopen of /dev/null");
	if (!f)
		return;
	MUST(pthread_create(&t, NULL, plain_writer, NULL));
	f = freopen(fifo, "r", f);
	CHECK(f != NULL, "freopen(\"r\") onto a FIFO: opens once the writer comes");
	CHECK(atomic_load(&ticks) > t0, "freopen: the ticker ran while it waited");
	if (f) {
		CHECK(fgets(line, sizeof(line), f) && !strcmp(line, "hello\n"),
		      "freopen: fgets the line in two pieces, whole");
		CHECK(fgets(line, sizeof(line), f) && !strcmp(line, "world\n"),
		      "freopen: the next line");
		CHECK(!fgets(line, sizeof(line), f) && feof(f), "freopen: then EOF");
		fclose(f);
	}
	MUST(pthread_join(t, NULL));
}

struct reader {
	int by_fopen; /* fopen("r"), else open(O_RDONLY) */
	char got[32];
};

static void *late_reader(void *arg)
{
	struct reader *r = arg;

	sleep_ms(30);
	if (r->by_fopen) {
		FILE *f = fopen(fifo, "r");
		if (f) {
			if (!fgets(r->got, sizeof(r->got), f))
				r->got[0] = 0;
			fclose(f);
		}
	} else {
		int fd = open(fifo, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, r->got, sizeof(r->got) - 1);
			r->got[n > 0 ? n : 0] = 0;
			close(fd);
		}
	}
	return NULL;
}

static void writer_waits(const char *mode, int by_fopen)
{
	struct reader r = {.by_fopen = by_fopen};
	pthread_t t;
	int t0 = atomic_load(&ticks);

	MUST(pthread_create(&t, NULL, late_reader, &r));
	FILE *f = fopen(fifo, mode);
	CHECK(f != NULL, "fopen(\"%s\") of a FIFO: opens once the reader comes (%s)", mode,
	      by_fopen ? "fopen" : "open");
	CHECK(atomic_load(&ticks) > t0, "fopen(\"%s\"): the ticker ran while it waited", mode);
	if (f) {
		CHECK(fputs("line\n", f) >= 0 && fclose(f) == 0, "fopen(\"%s\"): fputs, fclose", mode);
	}
	MUST(pthread_join(t, NULL));
	CHECK(!strcmp(r.got, "line\n"), "fopen(\"%s\"): the reader got the line", mode);
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

struct waiter {
	FILE *f;
	int err;
};

static void *fopen_reader(void *arg)
{
	struct waiter *w = arg;

	w->f = fopen(fifo, "r");
	w->err = errno;
	return NULL;
}

static void interrupted(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	struct waiter w = {0};
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&t, NULL, fopen_reader, &w));
	sleep_ms(40);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(atomic_load(&handled) == 1, "fopen, handler: the handler ran");
	CHECK_ERR(w.f == NULL ? w.err : 0, EINTR, "fopen, handler");
	if (w.f)
		fclose(w.f);
	signal(SIGUSR1, SIG_DFL);
}

static void cancelled(void)
{
	struct waiter w = {.f = (FILE *)1};
	pthread_t t;
	void *ret;

	MUST(pthread_create(&t, NULL, fopen_reader, &w));
	sleep_ms(40);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED && w.f == (FILE *)1,
	      "cancel in fopen: cancelled before it returned");
}

static void others(void)
{
	FILE *f = fopen(fifo, "r+");

	CHECK(f != NULL, "fopen(\"r+\") of a FIFO opens at once");
	if (f)
		fclose(f);
	errno = 0;
	CHECK_ERR(fopen("/nonexistent/greenify", "r") == NULL ? errno : 0, ENOENT,
		  "fopen of a missing path");
	errno = 0;
	CHECK_ERR(fopen("/tmp", "w") == NULL ? errno : 0, EISDIR, "fopen of a directory to write");
}

int main(void)
{
	pthread_t tick;
	int fds;

	snprintf(fifo, sizeof(fifo), "/tmp/greenify-fopen-fifo-%d", (int)getpid());
	MUST(mkfifo(fifo, 0600));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fds = count_dir_entries("/proc/self/fd");
	reader_waits();
	reopen_waits();
	writer_waits("w", 1);
	writer_waits("a", 0);
	interrupted();
	cancelled();
	others();
	CHECK(count_dir_entries("/proc/self/fd") == fds, "no fd left open");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	unlink(fifo);
	return check_done();
}
