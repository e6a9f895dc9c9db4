/* Hazard: waiting for child processes on one OS thread. A thread waits
 * with waitpid for a child that sleeps 100 ms and exits 7, another with
 * wait(), another runs system("exit 3"), while a fourth thread counts
 * 10 ms sleeps: it must keep counting while the others wait. A thread
 * forks and the child execs /bin/true; waitpid sees status 0. waitid on a
 * P_PID child gives CLD_EXITED and the code. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks, waiting = 4;
static int st_waitpid, st_wait, st_system, st_exec;
static siginfo_t info;

static pid_t child_exiting(int code, int ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		usleep((useconds_t)ms * 1000);
		_exit(code);
	}
	return pid;
}

static void *do_waitpid(void *arg)
{
	pid_t pid = child_exiting(7, 100);

	(void)arg;
	if (waitpid(pid, &st_waitpid, 0) != pid)
		st_waitpid = -1;
	atomic_fetch_sub(&waiting, 1);
	return NULL;
}

static void *do_system(void *arg)
{
	(void)arg;
	st_system = system("sleep 0.1; exit 3");
	atomic_fetch_sub(&waiting, 1);
	return NULL;
}

static void *do_exec(void *arg)
{
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st_exec, 0) != pid)
		st_exec = -1;
	atomic_fetch_sub(&waiting, 1);
	return NULL;
}

static void *do_waitid(void *arg)
{
	pid_t pid = child_exiting(5, 50);

	(void)arg;
	if (waitid(P_PID, (id_t)pid, &info, WEXITED) != 0)
		info.si_code = -1;
	atomic_fetch_sub(&waiting, 1);
	return NULL;
}

static void *counter(void *arg)
{
	(void)arg;
	while (atomic_load(&waiting) > 0) {
		sleep_ms(10);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[5];
	pid_t pid;

	alarm(30);
	MUST(pthread_create(&t[0], NULL, counter, NULL));
	MUST(pthread_create(&t[1], NULL, do_waitpid, NULL));
	MUST(pthread_create(&t[2], NULL, do_system, NULL));
	MUST(pthread_create(&t[3], NULL, do_exec, NULL));
	MUST(pthread_create(&t[4], NULL, do_waitid, NULL));
	for (int i = 0; i < 5; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(WIFEXITED(st_waitpid) && WEXITSTATUS(st_waitpid) == 7, "waitpid: exit 7");
	CHECK(WIFEXITED(st_system) && WEXITSTATUS(st_system) == 3, "system: the shell's exit 3");
	CHECK(WIFEXITED(st_exec) && WEXITSTATUS(st_exec) == 0, "fork + exec /bin/true: exit 0");
	CHECK(info.si_code == CLD_EXITED && info.si_status == 5, "waitid P_PID: CLD_EXITED, 5");
	CHECK(atomic_load(&ticks) >= 5, "another thread kept running meanwhile");

	pid = child_exiting(9, 20);
	CHECK(wait(&st_wait) == pid && WIFEXITED(st_wait) && WEXITSTATUS(st_wait) == 9,
	      "wait() for any child: exit 9");
	CHECK(wait(&st_wait) == -1 && errno == ECHILD, "no child left: ECHILD");
	return check_done();
}
