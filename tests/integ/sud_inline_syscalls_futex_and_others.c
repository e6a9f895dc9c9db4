/* Hazard: a library makes system calls with its own instruction, not
 * through libc, where no hook sees them: GNU libgomp's futex waits and
 * wakes on x86_64 (every OpenMP barrier, lock and idle worker) are such
 * calls. A futex wait for a thread of the same process must park only the
 * caller; every other call must give what the kernel gives.
 *   a lock in libgomp's style (0 free, 1 taken, 2 waited for) on inline
 *     FUTEX_WAIT and FUTEX_WAKE: 10 threads take it 100 times each, the
 *     holder sleeping 1 ms in it now and then, while a ticker ticks;
 *   a barrier of 5 threads on an inline futex, 20 rounds;
 *   an inline FUTEX_WAIT with a 20 ms timeout gives -ETIMEDOUT, one whose
 *     word differs -EAGAIN, and errno is untouched by either;
 *   inline close(-1) is -EBADF, inline getpid is getpid(), inline gettid
 *     is gettid() in every thread, inline write and read on a pipe move
 *     the bytes;
 *   a SIGSYS of the program's own (raise) still reaches its handler, and
 *     sigaction reports that handler;
 *   in a fork child, a thread waits on an inline futex that another wakes
 *     with an inline call (the child must turn dispatch on again).
 * Elsewhere than x86_64 the calls go through libc's syscall(), as
 * libgomp's do there. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "inline_syscall.h"

static atomic_int lock_word;
static long counter;

enum { LOCKERS = 10, ROUNDS = 100, PARTIES = 5, BROUNDS = 20 };

static void *locker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		gomp_style_lock(&lock_word);
		long v = counter;
		if (i % 50 == 0)
			sleep_ms(1);
		counter = v + 1;
		gomp_style_unlock(&lock_word);
	}
	return NULL;
}

/* A barrier as libgomp's: the last to arrive moves the generation and
 * wakes everyone waiting on it. */
static atomic_int arrived, generation;
static atomic_int barrier_bad;

static void barrier(void)
{
	int gen = atomic_load(&generation);

	if (atomic_fetch_add(&arrived, 1) == PARTIES - 1) {
		atomic_store(&arrived, 0);
		atomic_fetch_add(&generation, 1);
		futex_wake(&generation, INT_MAX);
		return;
	}
	while (atomic_load(&generation) == gen)
		futex_wait(&generation, gen, NULL);
}

static atomic_int phase[BROUNDS];

static void *party(void *arg)
{
	(void)arg;
	for (int r = 0; r < BROUNDS; r++) {
		atomic_fetch_add(&phase[r], 1);
		barrier();
		if (atomic_load(&phase[r]) != PARTIES)
			atomic_fetch_add(&barrier_bad, 1);
	}
	return NULL;
}

static atomic_int tid_bad;

static void *tid_check(void *arg)
{
	(void)arg;
	if (raw6(SYS_gettid, 0, 0, 0, 0, 0, 0) != gettid())
		atomic_fetch_add(&tid_bad, 1);
	return NULL;
}

static volatile sig_atomic_t got_sys;

static void on_sys(int sig)
{
	(void)sig;
	got_sys++;
}

int main(void)
{
	pthread_t t[LOCKERS];
	struct ticker k;
	atomic_int word = 7;
	struct timespec to = {0, 20 * 1000 * 1000};
	struct sigaction sa, old;
	int fds[2];
	char buf[8];
	int64_t t0;
	long r;

	alarm(60);
	tick_start(&k, 2);
	for (int i = 0; i < LOCKERS; i++)
		MUST(pthread_create(&t[i], NULL, locker, NULL));
	fprintf(stderr, "probe: os_tasks=%d program_threads=%d\n", count_tasks(), LOCKERS + 1);
	for (int i = 0; i < LOCKERS; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(counter == LOCKERS * ROUNDS, "a lock on inline futex calls counts every round (%ld)",
	      counter);
	for (int i = 0; i < PARTIES; i++)
		MUST(pthread_create(&t[i], NULL, party, NULL));
	for (int i = 0; i < PARTIES; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(atomic_load(&barrier_bad) == 0, "a barrier on inline futex calls holds every round");
	int ticks = atomic_load(&k.ticks);
	errno = 1234;
	t0 = mono_ns();
	r = futex_wait(&word, 7, &to);
	CHECK(r == -ETIMEDOUT && mono_ns() - t0 >= 19 * 1000 * 1000,
	      "an inline futex wait with a timeout times out (%ld)", r);
	CHECK(errno == 1234, "errno untouched by an inline call");
	wait_above(&k.ticks, ticks);
	CHECK(atomic_load(&k.ticks) > ticks, "the ticker ran while threads waited");
	CHECK(futex_wait(&word, 8, NULL) == -EAGAIN, "an inline futex wait on a changed word: EAGAIN");
	CHECK(raw6(SYS_close, -1, 0, 0, 0, 0, 0) == -EBADF, "inline close(-1): -EBADF");
	CHECK(raw6(SYS_getpid, 0, 0, 0, 0, 0, 0) == getpid(), "inline getpid is getpid()");
	for (int i = 0; i < 3; i++)
		MUST(pthread_create(&t[i], NULL, tid_check, NULL));
	for (int i = 0; i < 3; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(atomic_load(&tid_bad) == 0 && raw6(SYS_gettid, 0, 0, 0, 0, 0, 0) == gettid(),
	      "inline gettid is gettid() in every thread");
	MUST(pipe(fds));
	CHECK(raw6(SYS_write, fds[1], (long)"inline", 6, 0, 0, 0) == 6 &&
		      raw6(SYS_read, fds[0], (long)buf, sizeof buf, 0, 0, 0) == 6 &&
		      memcmp(buf, "inline", 6) == 0,
	      "inline write and read on a pipe move the bytes");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sys;
	MUST(sigaction(SIGSYS, &sa, NULL));
	MUST(sigaction(SIGSYS, NULL, &old));
	CHECK(old.sa_handler == on_sys, "sigaction reports the program's SIGSYS handler");
	raise(SIGSYS);
	CHECK(got_sys == 1, "the program's own SIGSYS reaches its handler");
	pid_t pid = fork();
	if (pid == 0)
		_exit(inline_fork_child_main());
	int status = -1;
	MUST(waitpid(pid, &status, 0) == pid ? 0 : -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a fork child's inline futex wait ends by another thread's inline wake");
	tick_stop(&k);
	return check_done();
}
