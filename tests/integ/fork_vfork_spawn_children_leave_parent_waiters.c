/* Hazard: vfork and posix_spawn children borrow the parent's memory until
 * they exec or exit. A parent thread waits in read() on a pipe while other
 * threads start children that close that pipe's read end first, as
 * children do before exec: a vfork child calling close() and dup2(), a
 * posix_spawn with close and dup2 file actions, system(). None of it may
 * reach the parent's runtime: the reader must still get the byte the
 * parent writes once all children are done, and a ticker keeps counting
 * meanwhile. The vfork child also resets the parent's SIGUSR1 handler to
 * the default, as children do before exec: the parent's handler must still
 * run for a SIGUSR1 afterwards. A vfork child's _exit status, a failed
 * exec's 127, and posix_spawn of a missing program (ENOENT) come back as
 * natively. */
/* run-also: disable */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static int watched[2];
static atomic_int ticks, stop, usr1;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&usr1, 1);
}

static void *reader(void *arg)
{
	char c = 0;
	ssize_t n = read(watched[0], &c, 1);

	(void)arg;
	CHECK(n == 1 && c == 'p', "the parent's reader got its byte after all the children");
	return NULL;
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

static int wait_status(pid_t pid)
{
	int status = -1;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void *spawner(void *arg)
{
	char *true_argv[] = {"true", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int fd = watched[0];

	(void)arg;
	pid = vfork();
	if (pid == 0) {
		signal(SIGUSR1, SIG_DFL);
		close(fd);
		dup2(STDERR_FILENO, fd);
		close(fd);
		execl("/bin/sh", "sh", "-c", "sleep 0.05", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0 && wait_status(pid) == 0, "vfork child closed the fd, ran sh: exit 0");

	pid = vfork();
	if (pid == 0)
		_exit(7);
	CHECK(pid > 0 && wait_status(pid) == 7, "vfork child _exit(7)");

	pid = vfork();
	if (pid == 0) {
		close(fd);
		execl("/nonexistent/program", "program", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0 && wait_status(pid) == 127, "vfork child whose exec failed: 127");

	MUST(posix_spawn_file_actions_init(&fa));
	MUST(posix_spawn_file_actions_addclose(&fa, fd));
	MUST(posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, fd));
	CHECK(posix_spawn(&pid, "/bin/true", &fa, NULL, true_argv, environ) == 0 &&
		      wait_status(pid) == 0,
	      "posix_spawn closing the fd: exit 0");
	CHECK_ERR(posix_spawn(&pid, "/nonexistent/program", &fa, NULL, true_argv, environ), ENOENT,
		  "posix_spawn of a missing program");
	MUST(posix_spawn_file_actions_destroy(&fa));

	int st = system("exec 3<&-; exit 3");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "system(): the shell's exit 3");
	return NULL;
}

int main(void)
{
	pthread_t r, t, s;

	alarm(30);
	signal(SIGUSR1, on_usr1);
	MUST(pipe2(watched, O_CLOEXEC));
	MUST(pthread_create(&r, NULL, reader, NULL));
	MUST(pthread_create(&t, NULL, ticker, NULL));
	sleep_ms(20); /* the reader waits now */
	int before = atomic_load(&ticks);
	MUST(pthread_create(&s, NULL, spawner, NULL));
	MUST(pthread_join(s, NULL));
	CHECK(atomic_load(&ticks) - before >= 5, "the ticker ran while children came and went");
	MUST(kill(getpid(), SIGUSR1));
	sleep_ms(20);
	CHECK(atomic_load(&usr1), "the parent's SIGUSR1 handler survived the child's reset");
	ssize_t wrote = write(watched[1], "p", 1);
	MUST(pthread_join(r, NULL)); /* it prints first */
	CHECK(wrote == 1, "parent wrote the byte");
	atomic_store(&stop, 1);
	MUST(pthread_join(t, NULL));
	return check_done();
}
