/* Hazard: stdio output to pipes that another thread of the process drains,
 * in each buffering mode, with writes larger than a pipe holds (so the
 * writer must wait for the drainer): an unbuffered stream writes at once, a
 * line-buffered one at each newline, a fully buffered one when full or
 * flushed; dprintf writes through a FILE of glibc's own; stderr (made a
 * pipe here, drained once a ticker has moved on) gets perror's message,
 * larger than the pipe, while another thread's error() and
 * error_at_line() wait for stderr's lock, then warnx's. What the drainer
 * has seen at each step is what it sees natively. */
#define _GNU_SOURCE
#include <err.h>
#include <error.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define BIG (200 * 1024)

struct drain {
	int fd;
	pthread_t t;
	atomic_long got;  /* bytes read so far */
	atomic_int sum;	  /* of their values, mod 2^31 */
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[4096];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0) {
		int s = 0;
		for (ssize_t i = 0; i < n; i++)
			s += buf[i];
		atomic_fetch_add(&d->sum, s);
		atomic_fetch_add(&d->got, n);
	}
	return NULL;
}

/* A pipe with a drainer thread; returns the write end. */
static int drained_pipe(struct drain *d)
{
	int p[2];

	MUST(pipe(p));
	d->fd = p[0];
	MUST(pthread_create(&d->t, NULL, drain_main, d));
	return p[1];
}

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

/* Drains only once the ticker has moved on: writers wait meanwhile. */
static void *late_drain_main(void *arg)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 10)
		sleep_ms(1);
	return drain_main(arg);
}

static char big[BIG + 1];

static void *perror_big(void *arg)
{
	(void)arg;
	errno = ENOENT;
	perror(big);
	return NULL;
}

static void *errors(void *arg)
{
	(void)arg;
	error(0, ENOENT, "%s %d", "code", 7);
	error_at_line(0, 0, "file.c", 12, "bad %s", "x");
	return NULL;
}

/* Waits until the drainer has count bytes (they were written). */
static void wait_for(struct drain *d, long count)
{
	while (atomic_load(&d->got) < count)
		sleep_ms(1);
}

/* Whether anything was written to the pipe whose read end is rfd. */
static int pending_in(int rfd)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

int main(void)
{
	struct drain u = {0}, d = {0}, e = {0};
	pthread_t tk, pe, er;
	int lp[2], fp[2], save, wfd, ep[2];
	FILE *un, *lb, *fb;
	char buf[64];

	memset(big, 'b', BIG);
	big[BIG] = '\0';

	/* Unbuffered: at once, even more than the pipe holds. */
	un = fdopen(drained_pipe(&u), "w");
	MUST(setvbuf(un, NULL, _IONBF, 0));
	CHECK(fputs("abc", un) >= 0, "unbuffered fputs");
	wait_for(&u, 3);
	CHECK(fwrite(big, 1, BIG, un) == BIG, "unbuffered fwrite larger than the pipe");
	wait_for(&u, 3 + BIG);
	CHECK(atomic_load(&u.sum) == 'a' + 'b' + 'c' + BIG * 'b', "the drainer got it all");
	fclose(un);
	MUST(pthread_join(u.t, NULL));

	/* Line-buffered and fully buffered, on pipes only this thread reads. */
	MUST(pipe(lp));
	MUST(pipe(fp));
	lb = fdopen(lp[1], "w");
	fb = fdopen(fp[1], "w");
	MUST(setvbuf(lb, NULL, _IOLBF, 0));
	CHECK(fputs("partial", lb) >= 0 && !pending_in(lp[0]), "line-buffered: no newline, kept");
	CHECK(fputs(" line\n", lb) >= 0 && pending_in(lp[0]), "line-buffered: the newline sends");
	CHECK(read(lp[0], buf, sizeof(buf)) == 13, "13 bytes went");
	CHECK(fputs("full\n", fb) >= 0 && !pending_in(fp[0]), "fully buffered: kept");
	CHECK(fflush(fb) == 0 && pending_in(fp[0]), "fully buffered: fflush sends");
	fclose(lb);
	fclose(fb);
	close(lp[0]);
	close(fp[0]);

	/* dprintf: glibc's own FILE on the fd, more than the pipe holds. */
	wfd = drained_pipe(&d);
	CHECK(dprintf(wfd, "%s!", big) == BIG + 1, "dprintf larger than the pipe");
	wait_for(&d, BIG + 1);
	CHECK(atomic_load(&d.sum) == BIG * 'b' + '!', "the drainer got it all");
	close(wfd);
	MUST(pthread_join(d.t, NULL));

	/* stderr on a pipe for a while (the library's exit line needs it
	 * back): perror with a message longer than the pipe, from a thread
	 * that waits in the write for the late drainer, while another's
	 * error() and error_at_line() wait for stderr; then warnx. */
	fflush(stderr);
	save = dup(2);
	MUST(pipe(ep));
	e.fd = ep[0];
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&e.t, NULL, late_drain_main, &e));
	MUST(dup2(ep[1], 2) < 0);
	close(ep[1]);
	big[BIG - 1] = '\0';
	MUST(pthread_create(&pe, NULL, perror_big, NULL));
	MUST(pthread_create(&er, NULL, errors, NULL));
	MUST(pthread_join(pe, NULL));
	MUST(pthread_join(er, NULL));
	warnx("%s", "warned");
	fflush(stderr);
	MUST(dup2(save, 2) < 0);
	close(save);
	{
		long name = (long)strlen(program_invocation_name);
		long want = (BIG - 1) + (long)strlen(": No such file or directory\n") +
			    (long)strlen(program_invocation_short_name) + (long)strlen(": warned\n") +
			    name + (long)strlen(": code 7: No such file or directory\n") + name +
			    (long)strlen(":file.c:12: bad x\n");
		wait_for(&e, want);
		CHECK(atomic_load(&e.got) == want,
		      "stderr got perror's, error's, error_at_line's and warnx's lines");
	}
	MUST(pthread_join(e.t, NULL));
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	return check_done();
}
