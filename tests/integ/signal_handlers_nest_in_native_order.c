/* Hazard: the order in which handlers run when several signals are due at
 * once, and handlers that make another signal due. Linux takes the lowest
 * pending signal first and sets up its frame, then, before returning to
 * user code, sets up a frame on top for every signal the new mask still
 * lets through: so signals unblocked together run highest first, each
 * nested at the very start of the one below. A handler that raises, or
 * unblocks, a signal its mask lets through runs that handler nested,
 * before raise or pthread_sigmask returns; one its sa_mask blocks runs
 * after it returns; SA_NODEFER lets a handler nest in itself. Each trace
 * ("[n" on entry, "n]" on exit) is printed and compared with the native
 * run. The thread does it while main runs beside it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static char trace[512];
static volatile int len;
static volatile int depth;

static void put(const char *s)
{
	size_t l = strlen(s);

	if (len + l < sizeof(trace)) {
		memcpy(trace + len, s, l);
		len += (int)l;
		trace[len] = 0;
	}
}

static void mark(const char *fmt, int sig)
{
	char b[16];

	snprintf(b, sizeof b, fmt, sig);
	put(b);
}

static void block(int how, int a, int b)
{
	sigset_t m;

	sigemptyset(&m);
	sigaddset(&m, a);
	if (b)
		sigaddset(&m, b);
	pthread_sigmask(how, &m, NULL);
}

static void on_sig(int sig)
{
	mark("[%d", sig);
	if (sig == SIGUSR1)
		raise(SIGUSR2); /* nests */
	if (sig == SIGUSR2 && depth == 0)
		block(SIG_UNBLOCK, SIGTERM, 0); /* a pending SIGTERM nests */
	if (sig == SIGHUP)
		raise(SIGQUIT); /* SIGHUP's sa_mask blocks it: after */
	if (sig == SIGALRM && ++depth < 3)
		raise(SIGALRM); /* SA_NODEFER: nests in itself */
	mark("%d]", sig);
}

static void show(const char *what)
{
	printf("%s: %s\n", what, trace);
	len = 0;
	trace[0] = 0;
}

static void *thread_main(void *arg)
{
	sigset_t all;

	(void)arg;
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	raise(SIGTERM);
	raise(SIGUSR2);
	raise(SIGUSR1);
	raise(SIGRTMIN);
	depth = 1; /* SIGUSR2 does not unblock SIGTERM here */
	pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	show("four unblocked at once");
	depth = 0;

	raise(SIGUSR1);
	show("a handler raises another");

	block(SIG_BLOCK, SIGTERM, 0);
	raise(SIGTERM);
	raise(SIGUSR2);
	show("a handler unblocks a pending one");

	raise(SIGHUP);
	show("one its sa_mask blocks");

	depth = 0;
	raise(SIGALRM);
	show("SA_NODEFER");
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_sig};
	pthread_t t;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(sigaction(SIGUSR2, &sa, NULL));
	MUST(sigaction(SIGTERM, &sa, NULL));
	MUST(sigaction(SIGRTMIN, &sa, NULL));
	MUST(sigaction(SIGQUIT, &sa, NULL));
	sigaddset(&sa.sa_mask, SIGQUIT);
	MUST(sigaction(SIGHUP, &sa, NULL));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	MUST(sigaction(SIGALRM, &sa, NULL));
	MUST(pthread_create(&t, NULL, thread_main, NULL));
	for (int i = 0; i < 5; i++)
		sleep_ms(2);
	MUST(pthread_join(t, NULL));
	return 0;
}
