/* Hazard: descriptors that waiting threads hold only for their wait. Under
 * the preload a thread in poll() on several fds waits on an epoll set made
 * for the call, and a thread in waitpid() on a pidfd; each closes its fd
 * when its wait ends. When main forks while such threads wait, they do not
 * survive, so the child must not keep those fds: it has exactly the fds
 * the parent had before the waits began, as natively. And the child's own
 * poll() of several fds and its waitpid() work and leave no fd behind. */
/* run-also: disable */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int a[2], b[2], s[2];
static pid_t sleeper_pid;
static atomic_int waiting;

static int count_fds(void)
{
	int n = count_dir_entries("/proc/self/fd");

	return n < 0 ? n : n - 1; /* the directory's own fd */
}

static int poll_two(int ms)
{
	struct pollfd p[2] = {{.fd = a[0], .events = POLLIN}, {.fd = b[0], .events = POLLIN}};

	return poll(p, 2, ms);
}

static void *poller(void *arg)
{
	(void)arg;
	atomic_fetch_add(&waiting, 1);
	CHECK(poll_two(-1) == 1, "parent: the poller saw one fd ready");
	return NULL;
}

static void *reaper(void *arg)
{
	int status = -1;

	(void)arg;
	atomic_fetch_add(&waiting, 1);
	CHECK(waitpid(sleeper_pid, &status, 0) == sleeper_pid && WIFEXITED(status),
	      "parent: the reaper got its child");
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t[2];
	pid_t pid;
	int status = -1;

	alarm(30);
	MUST(pthread_create(&t[0], NULL, nothing, NULL)); /* the runtime is running now */
	MUST(pthread_join(t[0], NULL));
	MUST(pipe(a));
	MUST(pipe(b));
	MUST(pipe(s));
	sleeper_pid = fork();
	if (sleeper_pid == 0) {
		/* Lives until main lets it go, after the poller's report (the
		 * reports' order is then the same however slow the machine). */
		char c;
		alarm(30);
		_exit(read(s[0], &c, 1) == 1 ? 0 : 1);
	}
	int before = count_fds();
	MUST(pthread_create(&t[0], NULL, poller, NULL));
	MUST(pthread_create(&t[1], NULL, reaper, NULL));
	while (atomic_load(&waiting) < 2)
		sleep_ms(5);
	sleep_ms(20); /* both wait now */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		CHECK(count_fds() == before, "child: no fd of the lost threads' waits");
		pid_t quick = fork();
		if (quick == 0)
			_exit(5);
		CHECK(poll_two(50) == 0, "child: its own poll of two pipes times out");
		CHECK(waitpid(quick, &status, 0) == quick && WEXITSTATUS(status) == 5,
		      "child: its own waitpid got exit 5");
		CHECK(count_fds() == before, "child: its own waits left no fd");
		fflush(stdout);
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "parent: the child exited 0");
	ssize_t wrote = write(b[1], "x", 1);
	MUST(pthread_join(t[0], NULL));
	MUST(write(s[1], "x", 1) == 1 ? 0 : -1); /* the reaper's child ends */
	MUST(pthread_join(t[1], NULL));
	CHECK(wrote == 1, "parent: wrote to wake the poller");
	return check_done();
}
