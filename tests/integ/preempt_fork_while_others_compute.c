#define _GNU_SOURCE
/* Hazard: fork from a thread while other threads compute and are being
 * preempted. The child has only the forking thread (as natively); there the
 * runtime must start preempting again: two new threads in the child, one
 * spinning in a pure loop until the other has ticked 10 times, end. The
 * parent's computing threads go on and end too. */
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static atomic_int stop, ticks;

static void *spin_until_stop(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
	}
	return (void *)1L;
}

static void *ticker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10; i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *spin_until_ticks(void *arg)
{
	(void)arg;
	while (atomic_load(&ticks) < 10) {
	}
	return NULL;
}

static void *forker(void *arg)
{
	int status = -1;
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid == 0) {
		pthread_t a, b;
		atomic_store(&ticks, 0);
		pthread_create(&a, NULL, spin_until_ticks, NULL);
		pthread_create(&b, NULL, ticker, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		_exit(atomic_load(&ticks) == 10 ? 0 : 3);
	}
	waitpid(pid, &status, 0);
	return (void *)(long)status;
}

int main(void)
{
	pthread_t s[2], f;
	void *st, *r[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&s[i], NULL, spin_until_stop, NULL);
	pthread_create(&f, NULL, forker, NULL);
	pthread_join(f, &st);
	CHECK(WIFEXITED((int)(long)st) && WEXITSTATUS((int)(long)st) == 0,
	      "the child's spinner and ticker ended");
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(s[i], &r[i]);
	CHECK(r[0] == (void *)1L && r[1] == (void *)1L, "the parent's spinners ended");
	return check_done();
}
