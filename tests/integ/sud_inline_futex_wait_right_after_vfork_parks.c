/* Hazard: a system call made outside libc that must run where it is (the
 * vfork hook's own, a program's clone) is let through with dispatch off
 * until the next switch; a libgomp futex wait made right after, before any
 * switch (a thread that vforks a child inside a parallel region, then
 * meets the barrier with OMP_WAIT_POLICY=passive), would block the one OS
 * thread for good. A thread waits on an inline FUTEX_WAIT right after
 * vfork returns in the parent, and again right after posix_spawn and
 * system(); another thread wakes it each time. Elsewhere than x86_64 the
 * calls go through libc's syscall(), as libgomp's do there. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "inline_syscall.h"


extern char **environ;

enum { ROUNDS = 3 };

static atomic_int turn;	    /* the round the waker may wake */
static atomic_int word;	    /* the round woken */

static void *waker(void *arg)
{
	(void)arg;
	for (int r = 1; r <= ROUNDS; r++) {
		while (atomic_load(&turn) < r)
			sleep_ms(1);
		sleep_ms(5);
		atomic_store(&word, r);
		futex_wake(&word, 1);
	}
	return NULL;
}

/* Lets the waker go, then waits for round r with no call in between. */
static void wait_round(int r)
{
	atomic_store(&turn, r);
	while (atomic_load(&word) < r)
		futex_wait(&word, r - 1, NULL);
}

int main(void)
{
	pthread_t w;
	int status = -1;
	pid_t pid;
	char *argv[] = {"true", NULL};

	alarm(20);
	MUST(pthread_create(&w, NULL, waker, NULL));
	sleep_ms(1);

	pid = vfork();
	if (pid == 0)
		_exit(3);
	wait_round(1);
	CHECK(atomic_load(&word) == 1, "an inline futex wait right after vfork ends by a wake");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 3,
	      "the vfork child exited 3");

	MUST(posix_spawnp(&pid, "true", NULL, NULL, argv, environ));
	wait_round(2);
	CHECK(atomic_load(&word) == 2, "an inline futex wait right after posix_spawn ends by a wake");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the spawned true exited 0");

	status = system("exit 4");
	wait_round(3);
	CHECK(atomic_load(&word) == 3, "an inline futex wait right after system() ends by a wake");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4, "system(\"exit 4\") gave 4");

	MUST(pthread_join(w, NULL));
	return check_done();
}
