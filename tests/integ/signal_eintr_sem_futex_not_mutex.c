/* Hazard: a signal handler runs while the only thread is blocked.  Natively
 * the kernel interrupts the futex wait; glibc then reports EINTR from
 * semaphore waits but quietly goes on waiting in mutex, rwlock and
 * condition waits.  Under the preload the thread is parked and the OS thread
 * sits in the event loop when the signal comes, so the runtime must make the
 * same choice.  The handler (installed without SA_RESTART) only counts; a
 * one-shot POSIX timer sends SIGUSR1 100 ms after each wait starts.
 *   sem_wait, sem_timedwait (2 s), sem_clockwait MONOTONIC (2 s) -> -1 EINTR
 *     at the signal, not before it and long before the deadline;
 *   a handler that posts: sem_wait still -> -1 EINTR, and the value is 1;
 *   raw futex FUTEX_WAIT (no timeout, and 2 s) and FUTEX_WAIT_BITSET
 *     (absolute 2 s) -> -1 EINTR;
 *   pthread_mutex_timedlock on a normal mutex main already holds, 400 ms;
 *     pthread_rwlock_timedwrlock while main holds a read lock, 400 ms;
 *     pthread_cond_timedwait, 400 ms: all ETIMEDOUT at the deadline, the
 *     signal in the middle changed nothing.
 * Only main exists, so natively the process-directed signal must hit the
 * blocked thread. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t handled;
static sem_t sem;
static timer_t timer;

static void count_signal(int sig)
{
	(void)sig;
	handled++;
}

static void count_and_post(int sig)
{
	(void)sig;
	handled++;
	sem_post(&sem);
}

static void on_sigusr1(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART */
	MUST(sigaction(SIGUSR1, &sa, NULL));
}

/* Arm the one-shot timer: SIGUSR1 in 100 ms. */
static int64_t arm(void)
{
	struct itimerspec it = { .it_value = { 0, 100 * 1000000 } };
	int64_t t0;

	handled = 0;
	t0 = mono_ns(); /* before the timer starts: it fires >= 100 ms after t0 */
	MUST(timer_settime(timer, 0, &it, NULL));
	return t0;
}

/* The call returned -1/EINTR at the signal (>= 100 ms, < 1.5 s). */
static void interrupted(const char *what, long rc, int err, int64_t t0)
{
	int64_t dt = mono_ns() - t0;

	CHECK_ERR(rc == -1 ? err : 0, EINTR, "%s", what);
	CHECK(handled == 1, "%s: the handler ran once", what);
	CHECK(dt >= MS(90) && dt < MS(1500), "%s: returned at the signal", what);
}

/* The timed call ignored the signal and timed out at 400 ms: at its
 * deadline, taken 400 ms after t0 (read just before the deadline was set:
 * on a loaded machine arming the timer may take a while). */
static void not_interrupted(const char *what, int rc, int64_t t0)
{
	int64_t waited = mono_ns() - t0;

	CHECK_ERR(rc, ETIMEDOUT, "%s", what);
	CHECK(handled == 1, "%s: the handler ran once", what);
	if (!CHECK(waited >= MS(400), "%s: waited the full 400 ms", what))
		fprintf(stderr, "%s: returned %lld us after the deadline was set\n", what,
			(long long)(waited / 1000));
}

static long futex(unsigned *addr, int op, unsigned val, const struct timespec *ts, unsigned bits)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, bits);
}

int main(void)
{
	struct sigevent ev;
	struct timespec dl, rel = { 2, 0 };
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	unsigned word = 0;
	int64_t t0;
	long rc;
	int v = -1;

	alarm(20);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	MUST(timer_create(CLOCK_MONOTONIC, &ev, &timer));
	on_sigusr1(count_signal);
	MUST(sem_init(&sem, 0, 0));

	t0 = arm();
	rc = sem_wait(&sem);
	interrupted("sem_wait", rc, errno, t0);

	dl = deadline_in(CLOCK_REALTIME, MS(2000));
	t0 = arm();
	rc = sem_timedwait(&sem, &dl);
	interrupted("sem_timedwait, 2 s", rc, errno, t0);

	dl = deadline_in(CLOCK_MONOTONIC, MS(2000));
	t0 = arm();
	rc = sem_clockwait(&sem, CLOCK_MONOTONIC, &dl);
	interrupted("sem_clockwait MONOTONIC, 2 s", rc, errno, t0);

	on_sigusr1(count_and_post);
	t0 = arm();
	rc = sem_wait(&sem);
	interrupted("sem_wait, the handler posts", rc, errno, t0);
	MUST(sem_getvalue(&sem, &v));
	CHECK(v == 1, "the handler's post is still there");
	CHECK(sem_trywait(&sem) == 0, "and can be taken");
	on_sigusr1(count_signal);

	t0 = arm();
	rc = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
	interrupted("FUTEX_WAIT_PRIVATE, no timeout", rc, errno, t0);
	t0 = arm();
	rc = futex(&word, FUTEX_WAIT, 0, &rel, 0);
	interrupted("FUTEX_WAIT, 2 s", rc, errno, t0);
	dl = deadline_in(CLOCK_MONOTONIC, MS(2000));
	t0 = arm();
	rc = futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &dl, FUTEX_BITSET_MATCH_ANY);
	interrupted("FUTEX_WAIT_BITSET_PRIVATE, absolute 2 s", rc, errno, t0);

	MUST(pthread_mutex_lock(&mu));
	t0 = mono_ns();
	dl = deadline_in(CLOCK_REALTIME, MS(400));
	arm();
	not_interrupted("pthread_mutex_timedlock on a mutex main holds, 400 ms",
			pthread_mutex_timedlock(&mu, &dl), t0);

	t0 = mono_ns();
	dl = deadline_in(CLOCK_REALTIME, MS(400));
	arm();
	not_interrupted("pthread_cond_timedwait, 400 ms", pthread_cond_timedwait(&cv, &mu, &dl), t0);
	MUST(pthread_mutex_unlock(&mu));

	MUST(pthread_rwlock_rdlock(&rw));
	t0 = mono_ns();
	dl = deadline_in(CLOCK_MONOTONIC, MS(400));
	arm();
	not_interrupted("pthread_rwlock_clockwrlock while main reads, 400 ms",
			pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &dl), t0);
	MUST(pthread_rwlock_unlock(&rw));

	MUST(timer_delete(timer));
	return check_done();
}
