/* Hazard: pthread_atfork handlers around a fork of a program with green
 * threads. They run in POSIX order: prepare handlers last registered
 * first, in the parent before the fork; parent and child handlers first
 * registered first, after it. One set is registered before the first
 * thread (before the runtime starts), the other after. The prepare handler
 * locks a mutex and sleeps 50 ms: the parent's other thread keeps counting
 * meanwhile; the parent and child handlers unlock it. In the child, a child
 * handler sleeps 30 ms and creates 20 threads that sleep 50 ms together,
 * and joins them: the handlers run once the child's runtime works again,
 * so they are green threads there (the probe line counts the child's
 * kernel tasks while they sleep). */
/* run-also: disable */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NCHILD 20

static char trace[64]; /* handler names in the order they ran */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int ticks, stop;
static int ticks_during_prepare = -1;
static int child_handler_ok;

static void note(const char *what)
{
	strcat(trace, what);
}

static void *napper(void *arg)
{
	sleep_ms(50);
	return arg;
}

static void prepare1(void)
{
	note("prepare1 ");
}

static void parent1(void)
{
	note("parent1 ");
}

static void child1(void)
{
	note("child1 ");
	int64_t t0 = mono_ns();
	sleep_ms(30);
	child_handler_ok = mono_ns() - t0 >= MS(30);
}

static void prepare2(void)
{
	note("prepare2 ");
	MUST(pthread_mutex_lock(&lock));
	int before = atomic_load(&ticks);
	sleep_ms(50);
	ticks_during_prepare = atomic_load(&ticks) - before;
}

static void parent2(void)
{
	note("parent2 ");
	MUST(pthread_mutex_unlock(&lock));
}

static void child2(void)
{
	pthread_t t[NCHILD];
	void *r;
	int ok = 1;

	note("child2 ");
	MUST(pthread_mutex_unlock(&lock));
	for (intptr_t i = 0; i < NCHILD; i++)
		MUST(pthread_create(&t[i], NULL, napper, (void *)i));
	sleep_ms(20);
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), NCHILD);
	for (intptr_t i = 0; i < NCHILD; i++) {
		MUST(pthread_join(t[i], &r));
		ok &= r == (void *)i;
	}
	child_handler_ok &= ok;
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(5);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

int main(void)
{
	pthread_t tick;
	pid_t pid;
	int status = -1;

	alarm(30);
	MUST(pthread_atfork(prepare1, parent1, child1)); /* before any thread */
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pthread_atfork(prepare2, parent2, child2));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		CHECK(!strcmp(trace, "prepare2 prepare1 child1 child2 "), "child: handlers ran: %s",
		      trace);
		CHECK(child_handler_ok, "child: a child handler slept and ran %d threads", NCHILD);
		CHECK(pthread_mutex_trylock(&lock) == 0, "child: the mutex is free");
		fflush(stdout);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "parent: the child exited 0");
	CHECK(!strcmp(trace, "prepare2 prepare1 parent1 parent2 "), "parent: handlers ran: %s",
	      trace);
	CHECK(ticks_during_prepare >= 3, "parent: another thread ran while prepare slept");
	CHECK(pthread_mutex_trylock(&lock) == 0, "parent: the mutex is free");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	return check_done();
}
