/* Hazard: libuv's pool threads, started by the first name lookup, are OS
 * threads of the process: one that did not block a signal every program
 * thread blocks would be where the kernel sends it (a process-directed
 * signal goes to a thread that does not block it), and its default action
 * would kill the process, or its handler run outside every green thread.
 * The pool's threads take none of the program's signals, whatever the
 * mask of the thread whose lookup starts them.
 *   main starts a thread and joins it, makes the first lookup (of
 *   127.0.0.1) with no signal blocked, then blocks SIGUSR1 (no handler:
 *   its default action ends the process); 100 times it sends the process
 *   SIGUSR1, finds it pending and takes it with sigwait. */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

enum { SIGNALS = 100 };

static void *nothing(void *arg)
{
	return arg;
}

int main(void)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
	int pending = 0, taken = 0, sig;
	sigset_t set, now;

	alarm(20);
	run_thread(nothing, NULL);
	MUST(pthread_sigmask(SIG_SETMASK, NULL, &set));
	CHECK(!sigismember(&set, SIGUSR1), "main blocks no SIGUSR1 at its first lookup");
	CHECK(getaddrinfo("127.0.0.1", NULL, &hints, &ai) == 0 && ai, "the first lookup is answered");
	if (ai)
		freeaddrinfo(ai);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &set, NULL));
	for (int i = 0; i < SIGNALS; i++) {
		MUST(kill(getpid(), SIGUSR1));
		pending += sigpending(&now) == 0 && sigismember(&now, SIGUSR1);
		taken += sigwait(&set, &sig) == 0 && sig == SIGUSR1;
	}
	CHECK(pending == SIGNALS, "every SIGUSR1 sent was pending (%d)", SIGNALS);
	CHECK(taken == SIGNALS, "sigwait took every one");
	return check_done();
}
