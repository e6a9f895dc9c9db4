/* needs: private-tls */
/* Hazard: a thread parked in a readiness wait, pause, sigwait or a join
 * must be woken by pthread_cancel, leave that wait cleanly (its fd watch,
 * its wait queue, its signal mask) and unwind through its cleanup
 * handler; the canceller's join then gets PTHREAD_CANCELED. A cancelled
 * joiner must not leave the joined thread unjoinable. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "check.h"

static int pfd[2];
static char ran[8][16];
static int nran;

static void cleanup(void *what)
{
	snprintf(ran[nran++], sizeof(ran[0]), "%s", (const char *)what);
}

static void *in_poll(void *a)
{
	struct pollfd p = {pfd[0], POLLIN, 0};

	(void)a;
	pthread_cleanup_push(cleanup, "poll");
	poll(&p, 1, -1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_epoll(void *a)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event e = {.events = EPOLLIN};

	(void)a;
	epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &e);
	pthread_cleanup_push(cleanup, "epoll");
	epoll_wait(ep, &e, 1, -1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_pause(void *a)
{
	(void)a;
	pthread_cleanup_push(cleanup, "pause");
	pause();
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_sigwait(void *a)
{
	sigset_t s;
	int sig;

	(void)a;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	pthread_cleanup_push(cleanup, "sigwait");
	sigwait(&s, &sig);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_join(void *a)
{
	pthread_cleanup_push(cleanup, "join");
	pthread_join(*(pthread_t *)a, NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

static int cancel_after_a_while(pthread_t t)
{
	void *r = NULL;

	usleep(20000);
	if (pthread_cancel(t) != 0 || pthread_join(t, &r) != 0)
		return 0;
	return r == PTHREAD_CANCELED;
}

int main(void)
{
	void *(*fn[])(void *) = {in_poll, in_epoll, in_pause, in_sigwait};
	const char *name[] = {"poll", "epoll_wait", "pause", "sigwait"};
	pthread_t t, s, j;
	char c = 'x';

	if (pipe(pfd) != 0)
		return 2;
	for (int i = 0; i < 4; i++) {
		pthread_create(&t, NULL, fn[i], NULL);
		CHECK(cancel_after_a_while(t), "thread cancelled in %s: join gives PTHREAD_CANCELED",
		      name[i]);
		CHECK(nran == i + 1 && strcmp(ran[i], i == 1 ? "epoll" : i == 0 ? "poll" : name[i]) == 0,
		      "its cleanup handler ran");
	}
	/* The pipe is still usable: no stale watch of a cancelled thread. */
	CHECK(write(pfd[1], &c, 1) == 1 && read(pfd[0], &c, 1) == 1, "the pipe still works after");

	pthread_create(&s, NULL, in_pause, NULL);
	pthread_create(&j, NULL, in_join, &s);
	CHECK(cancel_after_a_while(j), "a joiner cancelled while joining gives PTHREAD_CANCELED");
	CHECK(nran == 5 && strcmp(ran[4], "join") == 0, "the joiner's cleanup handler ran");
	CHECK(cancel_after_a_while(s), "the thread it joined can still be cancelled and joined");
	return check_done();
}
