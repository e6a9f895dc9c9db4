/* Hazard: glibc's set*id() functions (setuid, setgid, setresuid, ...) make
 * every thread of the process change its ids: they signal each thread glibc
 * lists and wait until every one has answered. Green threads are not OS
 * threads and can never answer, so a set*id() that counted them would wait
 * for ever:
 *   with 50 threads parked in a condition wait and 50 in a sleep, main and
 *     then one of the threads call setuid(getuid()), setgid(getgid()),
 *     setresuid and setresgid with their own ids (allowed to anyone): each
 *     returns 0 and every thread then sees the same ids;
 *   a thread created afterwards, and a fork child, run as usual.
 * glibc takes this path only once the process has more than one OS thread:
 * a file read first starts libuv's pool under the preload (the tag below). */
/* env-preload: GREENIFY_FILE_IO=pool */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { N = 50 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static atomic_int same_ids;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	same_ids += getuid() == geteuid() && getgid() == getegid();
	return NULL;
}

static void *sleeper(void *arg)
{
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	(void)arg;
	/* glibc's set*id signal interrupts a native sleep (EINTR): go on. */
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	same_ids += getuid() == geteuid() && getgid() == getegid();
	return NULL;
}

static int set_ids(void)
{
	uid_t u = getuid();
	gid_t g = getgid();

	return setuid(u) == 0 && setgid(g) == 0 && setresuid(u, u, u) == 0 &&
	       setresgid(g, g, g) == 0;
}

static void *setter(void *arg)
{
	*(int *)arg = set_ids();
	return NULL;
}

int main(void)
{
	pthread_t w[N], s[N], t;
	int in_thread = 0, status = 0;
	pid_t pid;
	char head[4] = { 0 };
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	alarm(20);
	for (int i = 0; i < N; i++) {
		MUST(pthread_create(&w[i], NULL, waiter, NULL));
		MUST(pthread_create(&s[i], NULL, sleeper, NULL));
	}
	CHECK(fd >= 0 && read(fd, head, 4) == 4 && memcmp(head, "\177ELF", 4) == 0,
	      "a file read works");
	close(fd);
	sleep_ms(20);
	CHECK(set_ids(), "main: setuid, setgid, setresuid, setresgid with parked threads return 0");
	MUST(pthread_create(&t, NULL, setter, &in_thread));
	MUST(pthread_join(t, NULL));
	CHECK(in_thread, "a thread: the same calls return 0");
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < N; i++) {
		MUST(pthread_join(w[i], NULL));
		MUST(pthread_join(s[i], NULL));
	}
	CHECK(same_ids == 2 * N, "every thread then sees the same ids");
	pid = fork();
	if (pid == 0) {
		int ok = 0;
		MUST(pthread_create(&t, NULL, setter, &ok));
		MUST(pthread_join(t, NULL));
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "a fork child's thread: the same calls return 0");
	return check_done();
}
