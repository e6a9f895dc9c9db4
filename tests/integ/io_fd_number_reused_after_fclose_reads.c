/* Hazard: glibc closes fds where no hook sees it (fclose, closedir...),
 * and the number comes back at once for the next open. A thread waits
 * on a pipe (the wait times out, or gets its byte), the pipe's read end
 * is closed by fclose, and a new pipe gets the same number: a read of the
 * new pipe must wait for its writer (another thread) and get its data,
 * not hang and not wake for the old pipe, also when the old pipe's file
 * lives on in a dup and its writer writes to it meanwhile; poll and
 * epoll_wait on the new one likewise. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "check.h"

struct late {
	int fd;
	char byte;
	int delay;
};

static void *late_write(void *arg)
{
	struct late *l = arg;

	sleep_ms(l->delay);
	if (write(l->fd, &l->byte, 1) != 1)
		abort();
	return NULL;
}

static pthread_t later(struct late *l, int fd, char byte, int delay)
{
	pthread_t t;

	*l = (struct late){fd, byte, delay};
	MUST(pthread_create(&t, NULL, late_write, l));
	return t;
}

/* A pipe whose read end has been waited on, then closed inside glibc;
 * old[1] is its write end, *kept a dup of its read end (or -1). */
static int used_and_fclosed(int old[2], int keep, int timed_out)
{
	struct late l;
	pthread_t t;
	char c;

	MUST(pipe(old));
	if (timed_out) {
		struct pollfd p = {.fd = old[0], .events = POLLIN};
		MUST(poll(&p, 1, 10) != 0);
	} else {
		t = later(&l, old[1], 'o', 10);
		MUST(read(old[0], &c, 1) != 1);
		MUST(pthread_join(t, NULL));
	}
	int kept = keep ? dup(old[0]) : -1;
	FILE *f = fdopen(old[0], "r");
	MUST(f == NULL);
	MUST(fclose(f));
	return kept;
}

static void one(const char *how, int keep, int timed_out, int call)
{
	int old[2], q[2], number, kept;
	struct late l, lo;
	pthread_t t, to = 0;
	char c = 0;
	int ok;

	kept = used_and_fclosed(old, keep, timed_out);
	number = old[0];
	MUST(pipe(q));
	MUST(q[0] != number);
	t = later(&l, q[1], 'n', 40);
	if (keep)
		to = later(&lo, old[1], 'x', 10); /* the old file becomes readable first */
	if (call == 0) {
		ok = read(q[0], &c, 1) == 1 && c == 'n';
	} else if (call == 1) {
		struct pollfd p = {.fd = q[0], .events = POLLIN};
		ok = poll(&p, 1, -1) == 1 && p.revents == POLLIN && read(q[0], &c, 1) == 1 &&
		     c == 'n';
	} else {
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN}, out;
		MUST(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
		ok = epoll_wait(ep, &out, 1, -1) == 1 && read(q[0], &c, 1) == 1 && c == 'n';
		close(ep);
	}
	CHECK(ok, "%s on a number reused after fclose (%s%s): the new pipe's byte",
	      call == 0 ? "read" : call == 1 ? "poll" : "epoll_wait",
	      timed_out ? "its wait had timed out" : "it had been read", how);
	MUST(pthread_join(t, NULL));
	if (to)
		MUST(pthread_join(to, NULL));
	if (kept >= 0) {
		CHECK(read(kept, &c, 1) == 1 && c == 'x', "the old pipe's byte is in the old pipe");
		close(kept);
	}
	close(old[1]);
	close(q[0]);
	close(q[1]);
}

int main(void)
{
	alarm(30);
	for (int call = 0; call < 3; call++)
		for (int timed_out = 0; timed_out < 2; timed_out++)
			for (int keep = 0; keep < 2; keep++)
				one(keep ? ", the old file still open and written" : "", keep,
				    timed_out, call);
	return check_done();
}
