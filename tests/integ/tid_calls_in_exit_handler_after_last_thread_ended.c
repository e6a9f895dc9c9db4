/* Hazard: an atexit handler that runs because the last thread ended
 * (main and then the other thread called pthread_exit) may still call
 * gettid, tgkill and kill: tgkill(getpid(), gettid(), 0) answers 0 and
 * kill(getpid(), SIGUSR1) ends the process by that signal (glibc's
 * sysdeps/pthread/tst-basic3). With no unfinished thread left, the id
 * lookup indexed an empty table and the process died of SIGSEGV. */
/* expect: signal SIGUSR1 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static void at_exit(void)
{
	CHECK_ERR(syscall(SYS_tgkill, getpid(), gettid(), 0) < 0 ? errno : 0, 0,
		  "tgkill(getpid(), gettid(), 0) at exit");
	CHECK_ERR(tgkill(getpid(), gettid(), 0) < 0 ? errno : 0, 0, "tgkill() at exit");
	printf("kill(getpid(), SIGUSR1) at exit: the process ends by it\n");
	fflush(stdout);
	kill(getpid(), SIGUSR1);
	printf("kill returned NO\n");
}

static void *last(void *arg)
{
	(void)arg;
	sleep_ms(20); /* main has called pthread_exit */
	pthread_exit(NULL);
}

int main(void)
{
	pthread_t t;

	atexit(at_exit);
	MUST(pthread_create(&t, NULL, last, NULL));
	pthread_exit(NULL);
}
