/* A flood of SIGURG: a child process sends it in a tight loop while a
 * thread of the parent makes 20,000 system calls. The program's handler
 * runs with SIGURG blocked, as the kernel blocks the signal it handles, so
 * the instances that come meanwhile merge into one pending; natively the
 * program goes on at once. Under the preload SIGURG is greenify's own
 * signal too: its action once let it nest (SA_NODEFER), and the kernel set
 * up frame after frame on one green stack, before a single instruction of
 * the handler ran, until the stack overflowed (SIGSEGV). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static atomic_int handled;

static void on_urg(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void *caller(void *arg)
{
	long ok = 0;

	(void)arg;
	for (int i = 0; i < 20000; i++)
		ok += syscall(SYS_getppid) > 0;
	CHECK(ok == 20000, "every getppid answered (%ld)", ok);
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	pid_t parent = getpid(), kid;
	int status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_urg;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGURG, &sa, NULL));
	kid = fork();
	MUST(kid < 0);
	if (kid == 0) {
		while (kill(parent, SIGURG) == 0) {
		}
		_exit(0);
	}
	while (atomic_load(&handled) == 0) { /* the flood has begun */
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL); /* EINTR is the flood's */
	}
	run_thread(caller, NULL);
	MUST(kill(kid, SIGKILL));
	MUST(waitpid(kid, &status, 0) != kid);
	printf("the handler ran: %s\n", atomic_load(&handled) > 0 ? "yes" : "no");
	return check_done();
}
