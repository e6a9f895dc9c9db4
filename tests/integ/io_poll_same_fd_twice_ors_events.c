/* Hazard: one fd in several entries of a poll set. poll must wait for the
 * union of their events and report each entry on its own: the write end
 * of a full pipe as {POLLIN} then {POLLOUT} wakes when another thread
 * drains the pipe (the second entry says POLLOUT, the first nothing); the
 * read end twice, as {POLLIN} and {POLLIN | POLLPRI}, wakes when data
 * comes and both entries say POLLIN; an entry with no events next to
 * them is left out, and one alone waits for the other end to hang up. select with the fd in the read and write sets is the
 * same case. A ticker thread runs during each wait. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/select.h>
#include <unistd.h>

#include "check.h"

static int p[2];
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

static void *drain_later(void *arg)
{
	static char buf[65536];

	(void)arg;
	sleep_ms(30);
	if (read(p[0], buf, sizeof(buf)) != sizeof(buf)) /* all of the full pipe */
		abort();
	return NULL;
}

static void *write_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	if (write(p[1], "d", 1) != 1)
		abort();
	return NULL;
}

static int hq[2];

static void *hang_up_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	close(hq[1]);
	return NULL;
}

static void fill(void)
{
	static char buf[4096];
	int fl = fcntl(p[1], F_GETFL);

	MUST(fcntl(p[1], F_SETFL, fl | O_NONBLOCK));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	MUST(fcntl(p[1], F_SETFL, fl));
}

int main(void)
{
	pthread_t tick, t;
	int t0, r;

	alarm(30);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pipe(p));
	MUST(fcntl(p[1], F_SETPIPE_SZ, 65536) != 65536);
	fill();

	struct pollfd w[3] = {{.fd = p[1], .events = POLLIN},
			      {.fd = p[1], .events = POLLOUT},
			      {.fd = p[0], .events = 0}};
	MUST(pthread_create(&t, NULL, drain_later, NULL));
	t0 = atomic_load(&ticks);
	r = poll(w, 3, -1);
	CHECK(r == 1 && w[0].revents == 0 && w[1].revents == POLLOUT && w[2].revents == 0,
	      "full pipe's write end as {POLLIN},{POLLOUT}: wakes when drained, POLLOUT in the second");
	CHECK(atomic_load(&ticks) > t0, "another thread ran while poll waited");
	MUST(pthread_join(t, NULL));

	struct pollfd rd[2] = {{.fd = p[0], .events = POLLIN},
			       {.fd = p[0], .events = POLLIN | POLLPRI}};
	MUST(pthread_create(&t, NULL, write_later, NULL));
	r = poll(rd, 2, -1);
	CHECK(r == 2 && rd[0].revents == POLLIN && rd[1].revents == POLLIN,
	      "read end as {POLLIN},{POLLIN|POLLPRI}: both say POLLIN when data comes");
	MUST(pthread_join(t, NULL));
	char c;
	MUST(read(p[0], &c, 1) != 1);

	fill();
	fd_set rs, ws;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(p[1], &rs);
	FD_SET(p[1], &ws);
	MUST(pthread_create(&t, NULL, drain_later, NULL));
	r = select(p[1] + 1, &rs, &ws, NULL, NULL);
	CHECK(r == 1 && !FD_ISSET(p[1], &rs) && FD_ISSET(p[1], &ws),
	      "select with the write end in both sets: wakes when drained, writable only");
	MUST(pthread_join(t, NULL));

	/* An entry without events still waits for a hang-up. */
	MUST(pipe(hq));
	struct pollfd h = {.fd = hq[0], .events = 0};
	MUST(pthread_create(&t, NULL, hang_up_later, NULL));
	r = poll(&h, 1, -1);
	CHECK(r == 1 && h.revents == POLLHUP, "an entry with no events wakes at the hang-up");
	MUST(pthread_join(t, NULL));

	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
