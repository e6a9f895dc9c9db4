/* Hazard: a signal the process's CPU time raises (ITIMER_PROF's SIGPROF,
 * ITIMER_VIRTUAL's SIGVTALRM) is the process's, but the kernel offers it
 * first to the thread whose tick used the time up, the one computing, not
 * to main; only when that thread blocks it does another (main) take it.
 * Main waits in pthread_join while a worker computes until its handler
 * says the timer fired: the handler runs in the worker. Handed to main
 * instead, a parked main must first be scheduled, and with SCHED_FIFO
 * workers that keep the CPU (LTP's Open POSIX pthread_create 1-6) it waits
 * for the real-time throttle, a second each time. Then the worker blocks
 * SIGPROF: main runs the handler, inside its join, which goes on. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/time.h>

#include "check.h"

static volatile sig_atomic_t fired;
static pthread_t in_handler;

static void on_timer(int sig)
{
	(void)sig;
	in_handler = pthread_self();
	fired = 1;
}

static void *compute(void *arg)
{
	if (arg) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGPROF);
		MUST(pthread_sigmask(SIG_BLOCK, &s, NULL));
	}
	while (!fired) {
		for (int i = 0; i < 10000 && !fired; i++)
			spin_sink++;
		sched_yield();
	}
	return NULL;
}

static void run(const char *what, int which, int sig, int worker_blocks)
{
	struct itimerval it = {.it_value = {.tv_sec = 0, .tv_usec = 50000}};
	struct sigaction sa = {.sa_handler = on_timer};
	pthread_t w;

	MUST(sigaction(sig, &sa, NULL));
	fired = 0;
	MUST(setitimer(which, &it, NULL));
	MUST(pthread_create(&w, NULL, compute, worker_blocks ? (void *)1 : NULL));
	MUST(pthread_join(w, NULL));
	printf("%s: handler ran in %s\n", what,
	       pthread_equal(in_handler, w)		  ? "the computing thread"
	       : pthread_equal(in_handler, pthread_self()) ? "main"
							   : "another thread");
	CHECK(pthread_equal(in_handler, worker_blocks ? pthread_self() : w), "%s: as the kernel chooses",
	      what);
}

int main(void)
{
	run("ITIMER_PROF", ITIMER_PROF, SIGPROF, 0);
	run("ITIMER_VIRTUAL", ITIMER_VIRTUAL, SIGVTALRM, 0);
	run("ITIMER_PROF, worker blocks SIGPROF", ITIMER_PROF, SIGPROF, 1);
	return check_done();
}
