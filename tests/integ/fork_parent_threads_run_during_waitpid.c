/* Hazard: parent and fork child each keep their own timers. The loop's
 * timerfd and eventfds reach the child through fork: if the child used
 * them, it would re-arm the parent's deadline and read away its
 * expirations. A ticker thread of the parent counts 10 ms sleeps while main
 * forks a child and waits for it with waitpid; the child's 10 threads each
 * sleep 20 ms ten times (green ones under the preload: the probe line), and
 * the child exits 3. The ticker must keep
 * counting meanwhile, and every sleep in both must last as long as asked.
 * Then main forks again, and that child returns from main: exit status 0.
 * Before any of that, main forks once before it has created any thread (the
 * runtime has not started): that child creates 20 threads that sleep 50 ms
 * together (green ones under the preload: the probe line) and exits 4. */
/* run-also: disable */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NSLEEPY 10
#define NEARLY	20

static atomic_int ticks, stop, short_sleeps;

static void timed_sleep(int ms)
{
	int64_t t0 = mono_ns();

	sleep_ms(ms);
	if (mono_ns() - t0 < MS(ms))
		atomic_fetch_add(&short_sleeps, 1);
}

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		timed_sleep(10);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void *sleepy(void *arg)
{
	for (int i = 0; i < 10; i++)
		timed_sleep(20);
	return arg;
}

static void *napper(void *arg)
{
	timed_sleep(50);
	return arg;
}

static int wait_status(pid_t pid)
{
	int status = -1;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* A child forked before the runtime started. */
static void early_child(void)
{
	pthread_t t[NEARLY];
	int64_t t0 = mono_ns();

	for (intptr_t i = 0; i < NEARLY; i++)
		MUST(pthread_create(&t[i], NULL, napper, (void *)i));
	sleep_ms(20);
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), NEARLY);
	for (int i = 0; i < NEARLY; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(mono_ns() - t0 < MS(500) && atomic_load(&short_sleeps) == 0,
	      "early child: %d threads slept 50 ms together", NEARLY);
	fflush(stdout);
	_exit(4);
}

static void sleepy_child(void)
{
	pthread_t t[NSLEEPY];
	int64_t t0 = mono_ns();

	for (intptr_t i = 0; i < NSLEEPY; i++)
		MUST(pthread_create(&t[i], NULL, sleepy, (void *)i));
	sleep_ms(10);
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), NSLEEPY);
	for (int i = 0; i < NSLEEPY; i++)
		MUST(pthread_join(t[i], NULL));
	int64_t took = mono_ns() - t0;
	CHECK(took >= MS(200) && took < MS(2000) && atomic_load(&short_sleeps) == 0,
	      "child: %d threads slept 20 ms ten times, none short", NSLEEPY);
	fflush(stdout);
	_exit(3);
}

int main(void)
{
	pthread_t tick;
	pid_t pid;

	alarm(30);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		early_child();
	CHECK(wait_status(pid) == 4, "the child forked before any thread exited 4");

	MUST(pthread_create(&tick, NULL, ticker, NULL));
	sleep_ms(20);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		sleepy_child();
	int before = atomic_load(&ticks);
	int64_t t0 = mono_ns();
	CHECK(wait_status(pid) == 3, "parent: waitpid got the child's exit 3");
	int64_t took = mono_ns() - t0;
	int n = atomic_load(&ticks) - before;
	fprintf(stderr, "ticks while waiting: %d in %lld ms\n", n, (long long)(took / 1000000));
	CHECK(n >= 10 && n * 10 <= took / 1000000 + 20,
	      "parent: the ticker kept counting 10 ms sleeps while main waited");

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		return check_done(); /* returning from main in the child */
	CHECK(wait_status(pid) == 0, "a child that returned from main exited 0");
	atomic_store(&stop, 1);
	MUST(pthread_join(tick, NULL));
	CHECK(atomic_load(&short_sleeps) == 0, "parent: no sleep ended early");
	return check_done();
}
