/* Hazard: an fd in a select (or pselect, poll) closed by another thread
 * while the call waits. Linux keeps the wait on the old file: when it has
 * an event (data written through another fd of it, or room made), or the
 * timeout comes, the call looks at the numbers again, and a number with
 * no file is ready to read and to write for select (the kernel's default
 * mask) and POLLNVAL for poll; an fd that is bad when the call starts is
 * EBADF for select. A ticker thread runs during every wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static int fd, for_write, kind, timeout_ms, got, err, isset;
static short revents;

enum { SELECT, PSELECT, POLL };
static const char *names[] = {"select", "pselect", "poll"};

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

/* The waiter is about to make its call: then it has 100 ms to be blocked
 * in it (its start, the slow part on a loaded machine, is not counted). */
static atomic_int entering;

static void about_to_call(void)
{
	atomic_store(&entering, 1);
}

static void wait_until_blocked(void)
{
	while (!atomic_load(&entering))
		sleep_ms(1);
	atomic_store(&entering, 0);
	sleep_ms(100);
}

static void *waiter(void *arg)
{
	fd_set s;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
	struct pollfd p = {.fd = fd, .events = for_write ? POLLOUT : POLLIN};
	sigset_t none;

	(void)arg;
	FD_ZERO(&s);
	FD_SET(fd, &s);
	sigemptyset(&none);
	about_to_call();
	switch (kind) {
	case SELECT:
		got = for_write ? select(fd + 1, NULL, &s, NULL, &tv)
				: select(fd + 1, &s, NULL, NULL, &tv);
		break;
	case PSELECT:
		got = for_write ? pselect(fd + 1, NULL, &s, NULL, &ts, &none)
				: pselect(fd + 1, &s, NULL, NULL, &ts, &none);
		break;
	default: got = poll(&p, 1, timeout_ms); break;
	}
	err = got < 0 ? errno : 0;
	isset = FD_ISSET(fd, &s);
	revents = p.revents;
	return NULL;
}

/* What the call answered, as one line. */
static void report(const char *how)
{
	if (got < 0)
		printf("%s %s: -1 %s\n", names[kind], how, errname(err));
	else if (kind == POLL)
		printf("%s %s: %d revents %#x\n", names[kind], how, got, (unsigned)revents);
	else
		printf("%s %s: %d set %d\n", names[kind], how, got, isset);
}

/* The waiter waits to read a pipe (or to write a full one: write), whose
 * fd another thread closes; then the old file gets an event (event), or
 * nothing comes and the timeout ends the call. */
static void closed_in_wait(int k, int write_side, int event)
{
	static char fill[4096];
	int p[2], keep, t0;
	pthread_t t;
	char c;

	MUST(pipe(p));
	if (write_side) {
		MUST(fcntl(p[1], F_SETPIPE_SZ, 4096) < 0);
		MUST(write(p[1], fill, sizeof(fill)) != (ssize_t)sizeof(fill));
		keep = dup(p[1]);
		fd = p[1];
	} else {
		keep = dup(p[0]);
		fd = p[0];
	}
	MUST(keep < 0);
	kind = k;
	for_write = write_side;
	timeout_ms = event ? 10000 : 1000;
	MUST(pthread_create(&t, NULL, waiter, NULL));
	wait_until_blocked();
	t0 = atomic_load(&ticks);
	MUST(close(fd));
	sleep_ms(20);
	if (event && write_side)
		MUST(read(p[0], fill, sizeof(fill)) != (ssize_t)sizeof(fill));
	else if (event)
		MUST(write(p[1], "x", 1) != 1);
	MUST(pthread_join(t, NULL));
	report(event ? (write_side ? "closed, then room" : "closed, then data")
		     : (write_side ? "closed, full, timeout" : "closed, empty, timeout"));
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	if (event && !write_side)
		MUST(read(keep, &c, 1) != 1);
	close(keep);
	close(write_side ? p[0] : p[1]);
}

int main(void)
{
	pthread_t tick;
	int fds, bad;
	fd_set s;
	struct timeval tv = {0, 0};

	alarm(30);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fds = count_dir_entries("/proc/self/fd");
	for (int k = 0; k < 3; k++)
		for (int w = 0; w < 2; w++)
			for (int e = 1; e >= 0; e--)
				closed_in_wait(k, w, e);
	bad = dup(0);
	MUST(bad < 0);
	close(bad);
	FD_ZERO(&s);
	FD_SET(bad, &s);
	CHECK(select(bad + 1, &s, NULL, NULL, &tv) == -1 && errno == EBADF,
	      "an fd bad when select starts: EBADF");
	CHECK(count_dir_entries("/proc/self/fd") == fds, "no fd is left over");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
