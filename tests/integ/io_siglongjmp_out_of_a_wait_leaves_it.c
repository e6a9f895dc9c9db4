/* Hazard: a signal handler that siglongjmps out of a blocked read or poll
 * (the old way to put a timeout on a call) abandons the call's frame for
 * good. The call must be over: data written later into that pipe stays
 * there for whoever reads it next, and the thread's later waits, on other
 * fds and on the same one, work as usual; another thread keeps running. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static sigjmp_buf jb;
static int p[2], q[2];
static int jumped[2], second_ok[2], same_ok[2];
static atomic_int ticks, stop, waiting;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

static void *victim(void *arg)
{
	int use_poll = (int)(intptr_t)arg;
	char c = 0;

	if (sigsetjmp(jb, 1) == 0) {
		atomic_store(&waiting, 1);
		if (use_poll) {
			struct pollfd pf = {.fd = p[0], .events = POLLIN};
			poll(&pf, 1, -1);
		} else {
			(void)!read(p[0], &c, 1);
		}
		return NULL; /* not reached: nothing is written before the jump */
	}
	jumped[use_poll] = 1;
	/* Other waits of this thread, on the stack the call had used. */
	second_ok[use_poll] = read(q[0], &c, 1) == 1 && c == 'q';
	same_ok[use_poll] = read(p[0], &c, 1) == 1 && c == 'p';
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t tick, t;
	char c;

	alarm(20);
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pipe(p));
	MUST(pipe(q));
	for (int use_poll = 0; use_poll < 2; use_poll++) {
		atomic_store(&waiting, 0);
		MUST(pthread_create(&t, NULL, victim, (void *)(intptr_t)use_poll));
		while (!atomic_load(&waiting))
			sleep_ms(1);
		sleep_ms(20);
		MUST(pthread_kill(t, SIGUSR1));
		sleep_ms(20);
		MUST(write(p[1], "x", 1) != 1); /* for nobody: the read was left */
		sleep_ms(20);
		CHECK(read(p[0], &c, 1) == 1 && c == 'x',
		      "%s left by siglongjmp: the byte written after it is still in the pipe",
		      use_poll ? "a poll" : "a read");
		MUST(write(q[1], "q", 1) != 1);
		MUST(write(p[1], "p", 1) != 1);
		MUST(pthread_join(t, NULL));
		CHECK(jumped[use_poll] && second_ok[use_poll] && same_ok[use_poll],
		      "the thread's later reads of another pipe and of that one work");
	}
	CHECK(atomic_load(&ticks) > 0, "another thread ran");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
