/* Hazard: a signal handler that runs in a thread waiting for a child. The
 * kernel restarts wait4 and waitid when the handler has SA_RESTART (the
 * wait goes on and returns the child), and fails them with EINTR when it
 * has not. Checked for waitpid of one child, waitpid of any child, and
 * waitid(P_PID), each with and without SA_RESTART; the handler runs in the
 * waiting thread. The child lives until the handler has run. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pthread_t waiter_thread;
static atomic_int handled_in_waiter;
static atomic_int waiting;

static void on_usr1(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), waiter_thread))
		atomic_fetch_add(&handled_in_waiter, 1);
}

enum how { ONE, ANY, WAITID };

struct job {
	enum how how;
	pid_t pid;
	pid_t r;
	int err;
};

static void *waiter(void *arg)
{
	struct job *j = arg;
	siginfo_t si;
	int st;

	atomic_store(&waiting, 1);
	errno = 0;
	if (j->how == WAITID)
		j->r = waitid(P_PID, (id_t)j->pid, &si, WEXITED) == 0 ? si.si_pid : -1;
	else
		j->r = waitpid(j->how == ONE ? j->pid : -1, &st, 0);
	j->err = errno;
	return NULL;
}

static void one(enum how how, int restart)
{
	static const char *const names[] = {"waitpid(pid)", "waitpid(-1)", "waitid(P_PID)"};
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0};
	struct job j = {how, 0, 0, 0};
	pid_t pid, left;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	int go[2];

	MUST(pipe(go));
	pid = fork();
	if (pid == 0) {
		char c;

		/* lives until main has seen the handler run in the waiter */
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? 0 : 1);
	}
	close(go[0]);
	j.pid = pid;
	atomic_store(&waiting, 0);
	atomic_store(&handled_in_waiter, 0);
	MUST(pthread_create(&waiter_thread, NULL, waiter, &j));
	while (!atomic_load(&waiting))
		sleep_ms(1);
	sleep_ms(100);
	MUST(pthread_kill(waiter_thread, SIGUSR1));
	wait_above(&handled_in_waiter, 0);
	sleep_ms(20); /* the handler returns and the wait restarts or fails */
	MUST(write(go[1], "x", 1) != 1);
	close(go[1]);
	MUST(pthread_join(waiter_thread, NULL));
	CHECK(atomic_load(&handled_in_waiter) == 1, "%s%s: the handler ran in the waiter",
	      names[how], restart ? " SA_RESTART" : "");
	if (restart) {
		CHECK(j.r == pid, "%s SA_RESTART: restarted, returns the child", names[how]);
		left = 0;
	} else {
		CHECK(j.r == -1 && j.err == EINTR, "%s: EINTR", names[how]);
		left = waitpid(pid, NULL, 0);
	}
	CHECK(left == (restart ? 0 : pid), "%s%s: the child is reaped once", names[how],
	      restart ? " SA_RESTART" : "");
}

int main(void)
{
	for (int restart = 0; restart <= 1; restart++) {
		one(ONE, restart);
		one(ANY, restart);
		one(WAITID, restart);
	}
	return check_done();
}
