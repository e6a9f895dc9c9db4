/* Hazard: a fork child waiting on pipes it inherited, while the event
 * loop's epoll set and fd watchers came from the parent too.
 *  1. The child's main reads a pipe the parent made; 10 threads of the
 *     child write it 50 ms later. The read must park only its own thread:
 *     on one OS thread a read that blocked would never let the writers run
 *     (and under the preload they are green: the probe line).
 *  2. When the parent forks, a thread of the parent's waits in read() on a
 *     second pipe. The child polls that pipe for 100 ms (nothing comes: it
 *     times out), closes its read end and exits. Then the parent writes a
 *     byte: its reader must get it (the child's poll and close must change
 *     nothing in the parent's epoll set, nor wake the parent's reader with
 *     EBADF).
 *  3. A write bigger than the pipe parks the child's writer until the
 *     child's main has read it all. */
/* run-also: disable */
#define _GNU_SOURCE
#include <dirent.h>
#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define BIG	 (256 * 1024) /* more than a pipe holds */
#define NWRITERS 10

static int inherited[2], watched[2];
static char big[BIG], got[BIG];

static void *parent_reader(void *arg)
{
	char c = 0;
	ssize_t n = read(watched[0], &c, 1);

	(void)arg;
	CHECK(n == 1 && c == 'p', "parent: its reader got the byte written after the child left");
	return NULL;
}

static void *child_writer(void *arg)
{
	sleep_ms(50);
	if (arg) /* the others just sleep with it */
		return NULL;
	if (write(inherited[1], "hello", 5) != 5)
		return (void *)1;
	memset(big, 'b', sizeof(big));
	if (write(inherited[1], big, sizeof(big)) != (ssize_t)sizeof(big))
		return (void *)2;
	return NULL;
}

static void in_child(void)
{
	struct pollfd p = {.fd = watched[0], .events = POLLIN};
	pthread_t w[NWRITERS];
	char buf[8] = {0};
	void *r;
	size_t have = 0;
	int ok = 1;

	int64_t t0 = mono_ns();
	for (intptr_t i = 0; i < NWRITERS; i++)
		MUST(pthread_create(&w[i], NULL, child_writer, (void *)i));
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), NWRITERS);
	CHECK(read(inherited[0], buf, 5) == 5 && !memcmp(buf, "hello", 5),
	      "child: read of an inherited pipe got what a child thread wrote");
	CHECK(mono_ns() - t0 >= MS(50), "child: ... after the writer's sleep");
	while (have < sizeof(got)) {
		ssize_t n = read(inherited[0], got + have, sizeof(got) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	for (int i = 0; i < NWRITERS; i++) {
		MUST(pthread_join(w[i], &r));
		ok &= r == NULL;
	}
	CHECK(ok && have == sizeof(got) && got[0] == 'b' && got[BIG - 1] == 'b',
	      "child: a write bigger than the pipe parked its writer until read");

	CHECK(poll(&p, 1, 100) == 0, "child: poll of the pipe the parent's reader waits on times out");
	CHECK(close(watched[0]) == 0, "child: closes that pipe's read end");
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	pthread_t reader;
	pid_t pid;
	int status = -1;

	alarm(30);
	MUST(pipe(inherited));
	MUST(pipe(watched));
	MUST(pthread_create(&reader, NULL, parent_reader, NULL));
	sleep_ms(20); /* the reader waits now */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		in_child();
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "parent: the child exited 0");
	ssize_t wrote = write(watched[1], "p", 1);
	MUST(pthread_join(reader, NULL)); /* it prints first */
	CHECK(wrote == 1, "parent: wrote the byte");
	return check_done();
}
