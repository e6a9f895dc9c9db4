/* Hazard: an epoll set's fd closed or replaced (dup2) by another thread
 * while a thread is blocked in epoll_wait (or epoll_pwait) on it. Linux
 * keeps the blocked call on the set it started with: it goes on and
 * reports the event of a pipe in that set when data comes. Meanwhile the
 * number is free (a new pipe gets it at once), a number that dup2
 * replaced names the new file, and afterwards the process holds no more
 * fds than before. A ticker thread runs during every wait. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, stop;
static int ep, pwait;
static int got, err;
static struct epoll_event ev;

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
	sigset_t none;

	(void)arg;
	sigemptyset(&none);
	ev = (struct epoll_event){0};
	about_to_call();
	got = pwait ? epoll_pwait(ep, &ev, 1, 10000, &none) : epoll_wait(ep, &ev, 1, -1);
	err = got < 0 ? errno : 0;
	return NULL;
}

static void set_goes_away(int how, int use_pwait)
{
	static const char *names[] = {"close", "dup2"};
	struct epoll_event add = {.events = EPOLLIN, .data.u64 = 42};
	int p[2], other[2], number, t0;
	pthread_t t;
	char c = 0;

	MUST(pipe(p));
	ep = epoll_create1(0);
	MUST(ep < 0);
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &add));
	number = ep;
	pwait = use_pwait;
	MUST(pthread_create(&t, NULL, waiter, NULL));
	wait_until_blocked();
	t0 = atomic_load(&ticks);
	if (how) {
		MUST(pipe(other));
		MUST(dup2(other[0], number) < 0);
		MUST(write(other[1], "o", 1) != 1); /* into the file the number names now */
	} else {
		int q[2];
		MUST(close(number));
		MUST(pipe(q));
		CHECK(q[0] == number || q[1] == number, "the number is free: a new pipe gets it");
		close(q[0]);
		close(q[1]);
	}
	sleep_ms(20);
	MUST(write(p[1], "x", 1) != 1);
	MUST(pthread_join(t, NULL));
	CHECK(got == 1 && ev.data.u64 == 42 && (ev.events & EPOLLIN),
	      "%s blocked when %s took its set reports the set's event: %d (%s)",
	      use_pwait ? "epoll_pwait" : "epoll_wait", names[how], got,
	      got < 0 ? errname(err) : "-");
	CHECK(atomic_load(&ticks) > t0, "another thread ran meanwhile");
	if (how) {
		CHECK(read(number, &c, 1) == 1 && c == 'o', "the number reads the new file");
		close(number);
		close(other[0]);
		close(other[1]);
	}
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	pthread_t tick;
	int fds;

	alarm(20);
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	fds = count_dir_entries("/proc/self/fd");
	for (int how = 0; how < 2; how++)
		for (int pw = 0; pw < 2; pw++)
			set_goes_away(how, pw);
	CHECK(count_dir_entries("/proc/self/fd") == fds, "no fd is left over");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
