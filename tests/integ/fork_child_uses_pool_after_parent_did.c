/* Hazard: name lookups in a fork child after the parent used them. Under
 * the preload getaddrinfo runs on libuv's thread pool, whose threads do not
 * survive a fork. A parent thread looks up "localhost", then forks; in the
 * child, 10 threads look it up at once (the pool must start again there,
 * and its answers reach the child's loop), and the child ends by returning
 * from main, which runs the library's exit path too. A second child makes
 * no lookup and returns from main: exit must not wait for the parent's pool
 * threads. Both exit 0. */
/* run-also: disable */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NLOOKUPS 10

static atomic_int resolved;

static void *lookup(void *arg)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;

	if (getaddrinfo("localhost", "80", &hints, &res) == 0 && res) {
		atomic_fetch_add(&resolved, 1);
		freeaddrinfo(res);
	}
	return arg;
}

static int wait_status(pid_t pid)
{
	int status = -1;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int main(void)
{
	pthread_t t[NLOOKUPS];
	pid_t pid;

	alarm(30);
	MUST(pthread_create(&t[0], NULL, lookup, NULL));
	MUST(pthread_join(t[0], NULL));
	CHECK(atomic_load(&resolved) == 1, "parent: localhost resolved");

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		atomic_store(&resolved, 0);
		for (int i = 0; i < NLOOKUPS; i++)
			MUST(pthread_create(&t[i], NULL, lookup, NULL));
		for (int i = 0; i < NLOOKUPS; i++)
			MUST(pthread_join(t[i], NULL));
		CHECK(atomic_load(&resolved) == NLOOKUPS, "child: %d threads resolved localhost",
		      NLOOKUPS);
		return 0;
	}
	CHECK(wait_status(pid) == 0, "parent: the child that looked up names exited 0");

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		return 0;
	CHECK(wait_status(pid) == 0, "parent: the child that did not exited 0");
	return check_done();
}
