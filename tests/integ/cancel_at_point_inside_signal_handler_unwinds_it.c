/* Hazard: a cancellation point inside a signal handler (a read the handler
 * makes while it interrupted another read) acts on a pending cancel as
 * glibc's does: the thread unwinds from the handler's read through the
 * handler's own cleanup handlers, then the interrupted code's, and the join
 * gets PTHREAD_CANCELED (glibc's sysdeps/pthread/tst-cancel20). The
 * handler's read failed with EINTR instead, the handler returned, and only
 * the outer frames' cleanup handlers ran (order 3 4 for 1 2 3 4).
 *
 * Twice: once with the handler on the thread's stack, once on an
 * alternate stack of the thread's (SA_ONSTACK). */
/* needs: private-tls */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static int fd[4];
static atomic_int in_handler_read, thread_started;
static unsigned long cleanups;

static void cl(void *arg)
{
	cleanups = (cleanups << 4) | (unsigned long)arg;
}

static __attribute__((noinline)) void handler_body(void)
{
	char c;

	pthread_cleanup_push(cl, (void *)1L);
	atomic_store(&in_handler_read, 1);
	if (read(fd[2], &c, 1) == 1)
		printf("handler's read got a byte NO\n");
	pthread_cleanup_pop(0);
}

static void on_hup(int sig)
{
	(void)sig;
	pthread_cleanup_push(cl, (void *)2L);
	handler_body();
	atomic_store(&in_handler_read, 0);
	pthread_cleanup_pop(0);
}

static __attribute__((noinline)) void thread_body(void)
{
	char c;

	pthread_cleanup_push(cl, (void *)3L);
	atomic_store(&thread_started, 1);
	if (read(fd[0], &c, 1) == 1)
		printf("thread's read got a byte NO\n");
	pthread_cleanup_pop(0);
}

static void *thread_main(void *arg)
{
	static char altstack[1 << 16];

	if (arg) { /* an alternate stack is the thread's own */
		stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
		MUST(sigaltstack(&ss, NULL));
	}
	pthread_cleanup_push(cl, (void *)4L);
	thread_body();
	pthread_cleanup_pop(0);
	return NULL;
}

static void one(const char *how, int flags)
{
	struct sigaction sa = {.sa_handler = on_hup, .sa_flags = flags};
	pthread_t t;
	void *ret = NULL;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGHUP, &sa, NULL));
	MUST(pipe(fd));
	MUST(pipe(fd + 2));
	cleanups = 0;
	atomic_store(&thread_started, 0);
	atomic_store(&in_handler_read, 0);
	MUST(pthread_create(&t, NULL, thread_main, (void *)(long)(flags & SA_ONSTACK)));
	wait_above(&thread_started, 0);
	sleep_ms(50); /* into its read, or the signal comes first: same result */
	MUST(pthread_kill(t, SIGHUP));
	wait_above(&in_handler_read, 0);
	sleep_ms(50);
	MUST(pthread_cancel(t));
	MUST(pthread_join(t, &ret));
	CHECK(ret == PTHREAD_CANCELED, "%s: join gives PTHREAD_CANCELED", how);
	CHECK(cleanups == 0x1234, "%s: cleanup handlers ran 1 2 3 4", how);
	if (cleanups != 0x1234)
		fprintf(stderr, "%s: cleanups %lx\n", how, cleanups);
	for (int i = 0; i < 4; i++)
		close(fd[i]);
}

int main(void)
{
	one("handler on the thread's stack", 0);
	one("handler on an alternate stack", SA_ONSTACK);
	return check_done();
}
