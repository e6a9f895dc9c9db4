/* Hazard: fork from a thread that is not main, while main and three other
 * threads sleep. The child must go on as the forking thread alone:
 * pthread_self() is still its handle; the sleepers' code never runs in the
 * child (they wake in the parent after 100 ms and note it if their pid is
 * not the parent's); a join of a thread that did not survive answers as in
 * glibc's child (0 at once with a NULL value, then ESRCH; tryjoin 0).
 * (glibc's child hangs in a join of main, whose descriptor it never marks
 * as gone; greenify's answers 0.) The child then creates 100 threads that sleep 100 ms
 * together and joins them: they must be threads of the child that really
 * run concurrently (and, under the preload, green: the probe line counts
 * the child's kernel tasks). When the forking thread returns from its start
 * function the child has no thread left and exits with status 0, running
 * its atexit handlers, as glibc's child does. The parent's threads all
 * finish as if nothing happened. */
/* run-also: disable */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NSLEEPERS 3
#define NCHILD	  100

static pid_t parent_pid;
static pthread_t sleepers[NSLEEPERS], forker_th;
static atomic_int ghost_ran; /* a sleeper ran in the child */
static int child_status = -1;

static void *sleeper(void *arg)
{
	sleep_ms(100);
	if (getpid() != parent_pid)
		atomic_store(&ghost_ran, 1);
	return arg;
}

static void *child_sleeper(void *arg)
{
	sleep_ms(100);
	return arg;
}

static void child_atexit(void)
{
	printf("child: atexit handler ran at the last thread's end\n");
}

/* The child's life, in the forking thread; returning ends the child. */
static void *in_child(void)
{
	pthread_t t[NCHILD];
	void *r = (void *)1;
	int ok = 1;

	CHECK(pthread_equal(pthread_self(), forker_th), "child: pthread_self() is the forking thread");
	sleep_ms(200);
	CHECK(atomic_load(&ghost_ran) == 0, "child: no other thread of the parent's ran in it");

	CHECK_ERR(pthread_join(sleepers[0], &r), 0, "child: join a thread that did not survive");
	CHECK(r == NULL, "child: ... its value is NULL");
	CHECK_ERR(pthread_join(sleepers[0], NULL), ESRCH, "child: join it again");
	CHECK_ERR(pthread_tryjoin_np(sleepers[1], NULL), 0, "child: tryjoin another one");

	int64_t t0 = mono_ns();
	for (intptr_t i = 0; i < NCHILD; i++)
		MUST(pthread_create(&t[i], NULL, child_sleeper, (void *)i));
	sleep_ms(20);
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), NCHILD);
	for (intptr_t i = 0; i < NCHILD; i++) {
		MUST(pthread_join(t[i], &r));
		ok &= r == (void *)i;
	}
	int64_t took = mono_ns() - t0;
	CHECK(ok, "child: %d threads joined with their values", NCHILD);
	CHECK(took >= MS(100) && took < MS(1000), "child: they slept at the same time");
	atexit(child_atexit);
	return NULL;
}

static void *forker(void *arg)
{
	pid_t pid;

	(void)arg;
	sleep_ms(20);
	fflush(stdout); /* the child must not print the parent's buffer again */
	pid = fork();
	if (pid == 0)
		return in_child();
	if (waitpid(pid, &child_status, 0) != pid)
		child_status = -1;
	return NULL;
}

int main(void)
{
	void *r;
	int ok = 1;

	alarm(30);
	parent_pid = getpid();
	for (intptr_t i = 0; i < NSLEEPERS; i++)
		MUST(pthread_create(&sleepers[i], NULL, sleeper, (void *)i));
	MUST(pthread_create(&forker_th, NULL, forker, NULL));
	sleep_ms(100);
	for (intptr_t i = 0; i < NSLEEPERS; i++) {
		MUST(pthread_join(sleepers[i], &r));
		ok &= r == (void *)i;
	}
	MUST(pthread_join(forker_th, NULL));
	CHECK(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0,
	      "parent: the child exited 0 when its last thread returned");
	CHECK(ok && atomic_load(&ghost_ran) == 0, "parent: its sleepers finished in the parent");
	return check_done();
}
