/* A program's own SIGURG handler without SA_RESTART, and a child process
 * that sends SIGURG every 20 µs while a thread makes 20 million getppid
 * calls through syscall(): natively none fails (getppid cannot end with
 * EINTR). greenify's action for SIGURG has SA_RESTART and, for the
 * program's handler, makes an interrupted call fail with EINTR as the
 * program's action asks; a signal landing right at the system call
 * instruction looks like a restart, and must not make a call fail that
 * natively never can. */
/* run-alone: 20 million system calls under a flood of signals take 8 s natively and 12-14 s preloaded of its 30 on two quiet CPUs; beside other programs they took longer than 30 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int handled;
static pid_t parent;

static void on_urg(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void *caller(void *arg)
{
	unsigned long failed = 0;
	int first = 0;

	(void)arg;
	for (long i = 0; i < 20 * 1000 * 1000; i++)
		if (syscall(SYS_getppid) != (long)getppid() && !failed++)
			first = errno;
	CHECK(failed == 0, "no getppid failed (%lu did, first errno %s)", failed,
	      failed ? errname(first) : "-");
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	pid_t kid;
	int status;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_urg; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGURG, &sa, NULL));
	parent = getpid();
	kid = fork();
	MUST(kid < 0);
	if (kid == 0) {
		while (kill(parent, SIGURG) == 0)
			usleep(20);
		_exit(0);
	}
	run_thread(caller, NULL);
	MUST(kill(kid, SIGKILL));
	MUST(waitpid(kid, &status, 0) != kid);
	printf("the handler ran: %s\n", atomic_load(&handled) > 0 ? "yes" : "no");
	return check_done();
}
