/* Hazard: a write made with syscall(SYS_write) (no write hook sees it) on
 * a pipe with no reader: the kernel raises SIGPIPE for the calling thread
 * and delivers it on the way out of that system call, so its handler has
 * run, in that thread, before syscall() returns -1 with EPIPE. In main,
 * then in a second thread while main waits in a join. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static atomic_int hits;
static volatile pthread_t hit_by;
static int wfd;

static void on_pipe(int sig)
{
	(void)sig;
	hit_by = pthread_self();
	atomic_fetch_add(&hits, 1);
}

static void raw_write(const char *who)
{
	int n = atomic_load(&hits);
	long r = syscall(SYS_write, wfd, "x", 1);
	int e = errno, after = atomic_load(&hits);

	CHECK(r == -1 && e == EPIPE, "%s: the raw write fails with EPIPE", who);
	CHECK(after == n + 1 && pthread_equal(hit_by, pthread_self()),
	      "%s: SIGPIPE's handler ran in this thread before it returned", who);
}

static void *second(void *arg)
{
	raw_write("a second thread");
	return arg;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_pipe};
	int p[2];
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGPIPE, &sa, NULL));
	MUST(pipe(p));
	close(p[0]);
	wfd = p[1];
	MUST(pthread_create(&t, NULL, second, NULL));
	MUST(pthread_join(t, NULL));
	raw_write("main");
	return check_done();
}
