/* Hazard: a fork while the runtime's stack preparer (an OS thread of its
 * own, started past a few hundred threads) exists, in a process glibc
 * still counts as single-threaded: the child must still get working
 * thread stacks, malloc, stdio and name lookups (its pool starts anew).
 *   600 threads alive at once; one of them forks. The child creates 300
 *   threads, each mallocs and frees, 100 of them look "localhost" up, and
 *   it exits 0 after joining them; meanwhile the parent's threads go on
 *   sleeping and all are joined; the parent sees the child's status 0. */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 600, CHILD_THREADS = 300 };

static pthread_barrier_t all_alive;
static atomic_int child_bad;
static int child_status = -1;

static void *child_worker(void *arg)
{
	long i = (long)(intptr_t)arg;
	char *p = malloc(100 + (size_t)i);

	if (!p) {
		child_bad++;
		return NULL;
	}
	memset(p, 1, 100 + (size_t)i);
	if (i % 3 == 0) {
		struct addrinfo *res = NULL;
		if (getaddrinfo("localhost", "80", NULL, &res) != 0 || !res)
			child_bad++;
		if (res)
			freeaddrinfo(res);
	}
	sleep_ms(1);
	free(p);
	return NULL;
}

static int child(void)
{
	static pthread_t t[CHILD_THREADS];

	for (long i = 0; i < CHILD_THREADS; i++)
		if (pthread_create(&t[i], NULL, child_worker, (void *)(intptr_t)i) != 0)
			return 3;
	for (int i = 0; i < CHILD_THREADS; i++)
		if (pthread_join(t[i], NULL) != 0)
			return 4;
	fflush(stdout);
	return child_bad ? 5 : 0;
}

static void *worker(void *arg)
{
	long i = (long)(intptr_t)arg;

	pthread_barrier_wait(&all_alive);
	if (i == 0) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(child());
		if (pid > 0 && waitpid(pid, &child_status, 0) != pid)
			child_status = -1;
	}
	for (int r = 0; r < 5; r++)
		sleep_ms(2);
	return NULL;
}

int main(void)
{
	static pthread_t t[THREADS];

	alarm(60);
	MUST(pthread_barrier_init(&all_alive, NULL, THREADS));
	for (long i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i));
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0,
	      "the child ran its 300 threads, mallocs and lookups and exited 0 (status %#x)",
	      child_status);
	return check_done();
}
