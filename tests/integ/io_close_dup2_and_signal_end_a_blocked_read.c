/* Hazard: a thread blocked reading a pipe must not hang forever when the
 * fd goes away or a signal comes. Natively Linux lets a read that is
 * already blocked go on after close(fd) or dup2(other, fd) (it holds the
 * file) and it returns the byte written next; greenify wakes it with EBADF
 * instead, before the number can be reused (DESIGN.md). Either way the
 * reader finishes, which is what this prints. A signal whose handler has no
 * SA_RESTART ends the blocked read with EINTR in both. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static int p[2];
static ssize_t got;
static int err;

static void *reader(void *arg)
{
	char c;

	(void)arg;
	got = read(p[0], &c, 1);
	err = got < 0 ? errno : 0;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int ended_ok(void)
{
	return got == 1 || (got == -1 && err == EBADF);
}

int main(void)
{
	pthread_t t;
	int keep, other[2];
	struct sigaction sa = { 0 };

	alarm(20);
	/* Under the preload the reader is gone when the byte is written: the
	 * pipe then has no reader, and the write fails with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	MUST(pipe(p));
	keep = dup(p[1]);
	MUST(pthread_create(&t, NULL, reader, NULL));
	sleep_ms(30);
	MUST(close(p[0]));
	(void)!write(keep, "a", 1);
	MUST(pthread_join(t, NULL));
	CHECK(ended_ok(), "a read blocked when its fd was closed finished");

	MUST(pipe(p));
	MUST(pipe(other));
	keep = dup(p[1]);
	MUST(pthread_create(&t, NULL, reader, NULL));
	sleep_ms(30);
	MUST(dup2(other[0], p[0]) < 0);
	(void)!write(keep, "b", 1);
	MUST(pthread_join(t, NULL));
	CHECK(ended_ok(), "a read blocked when its fd was replaced by dup2 finished");

	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pipe(p));
	MUST(pthread_create(&t, NULL, reader, NULL));
	sleep_ms(30);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(got == -1 && err == EINTR, "a signal without SA_RESTART ended the read with EINTR");
	return check_done();
}
