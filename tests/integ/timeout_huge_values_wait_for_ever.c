/* Hazard: a timeout glibc accepts but that does not fit in 64-bit
 * nanoseconds (tv_sec near LONG_MAX, INT_MAX ms, a sleep(UINT_MAX)) must
 * wait as natively: for ever (the kernel's clock saturates), until the
 * thing waited for comes. It must neither wrap into a time long past
 * (returning at once, ETIMEDOUT) nor abort the process (the deadline it
 * arms). One thread per kind of wait: sleeps, the timed and clock variants
 * of condition, semaphore, mutex, rwlock and join waits, raw futex waits,
 * poll, ppoll, select, pselect, epoll_wait, epoll_pwait and sigtimedwait.
 * After 300 ms every one still waits; then each is given what it waits for
 * (a signal for sleeps, a post, an unlock, a write...) and must end with
 * the native result (EINTR with the huge rest in rem for sleeps). Main
 * keeps running meanwhile (the huge select has microseconds that carry
 * past LONG_MAX seconds: glibc saturates them). Huge values that are
 * invalid still fail at once with EINVAL. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

#include "check.h"

enum kind {
	K_NANOSLEEP,
	K_CLOCK_NANOSLEEP_REL,
	K_CLOCK_NANOSLEEP_ABS_RT,
	K_CLOCK_NANOSLEEP_ABS_MONO,
	K_SLEEP,
	K_THRD_SLEEP,
	K_COND_TIMEDWAIT,
	K_COND_CLOCKWAIT,
	K_SEM_TIMEDWAIT,
	K_SEM_CLOCKWAIT,
	K_MUTEX_TIMEDLOCK,
	K_MUTEX_CLOCKLOCK,
	K_RWLOCK_TIMEDWRLOCK,
	K_RWLOCK_CLOCKRDLOCK,
	K_TIMEDJOIN,
	K_CLOCKJOIN,
	K_FUTEX_WAIT,
	K_FUTEX_WAIT_BITSET,
	K_POLL,
	K_PPOLL,
	K_SELECT,
	K_PSELECT,
	K_EPOLL_WAIT,
	K_EPOLL_PWAIT,
	K_SIGTIMEDWAIT,
	K_COUNT
};

static const char *const names[K_COUNT] = {
	"nanosleep",	      "clock_nanosleep relative", "clock_nanosleep abs REALTIME",
	"clock_nanosleep abs MONOTONIC", "sleep(UINT_MAX)", "thrd_sleep",
	"pthread_cond_timedwait", "pthread_cond_clockwait", "sem_timedwait",
	"sem_clockwait",      "pthread_mutex_timedlock", "pthread_mutex_clocklock",
	"pthread_rwlock_timedwrlock", "pthread_rwlock_clockrdlock", "pthread_timedjoin_np",
	"pthread_clockjoin_np", "FUTEX_WAIT",		"FUTEX_WAIT_BITSET abs",
	"poll INT_MAX ms",    "ppoll",			"select",
	"pselect",	      "epoll_wait INT_MAX ms",	"epoll_pwait INT_MAX ms",
	"sigtimedwait",
};

static const struct timespec huge = {LONG_MAX, 999999999};

static pthread_t threads[K_COUNT];
static atomic_int done[K_COUNT];
static long result[K_COUNT];
static int err[K_COUNT];
static struct timespec rem[K_COUNT];

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cond_go;
static sem_t sem;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t joinee_go;
static pthread_t joinee[2];
static _Atomic uint32_t fword;
static int pipefd[2];
static int ep;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *joinee_main(void *arg)
{
	while (sem_wait(&joinee_go) != 0)
		;
	return arg;
}

static void *waiter(void *arg)
{
	enum kind k = (enum kind)(intptr_t)arg;
	struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
	struct epoll_event ev;
	fd_set rd;
	struct timeval tv = {LONG_MAX, 1999999};
	sigset_t set;
	long r = 0;

	errno = 0;
	switch (k) {
	case K_NANOSLEEP: r = nanosleep(&huge, &rem[k]); break;
	case K_CLOCK_NANOSLEEP_REL: r = clock_nanosleep(CLOCK_MONOTONIC, 0, &huge, &rem[k]); break;
	case K_CLOCK_NANOSLEEP_ABS_RT:
		r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &huge, NULL);
		break;
	case K_CLOCK_NANOSLEEP_ABS_MONO:
		r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &huge, NULL);
		break;
	case K_SLEEP: r = (long)(sleep(UINT_MAX) > UINT_MAX - 1000); break;
	case K_THRD_SLEEP: r = thrd_sleep(&huge, &rem[k]); break;
	case K_COND_TIMEDWAIT:
	case K_COND_CLOCKWAIT:
		pthread_mutex_lock(&cm);
		while (!cond_go && r == 0)
			r = k == K_COND_TIMEDWAIT
				    ? pthread_cond_timedwait(&cv, &cm, &huge)
				    : pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, &huge);
		pthread_mutex_unlock(&cm);
		break;
	case K_SEM_TIMEDWAIT: r = sem_timedwait(&sem, &huge); break;
	case K_SEM_CLOCKWAIT: r = sem_clockwait(&sem, CLOCK_MONOTONIC, &huge); break;
	case K_MUTEX_TIMEDLOCK:
	case K_MUTEX_CLOCKLOCK:
		r = k == K_MUTEX_TIMEDLOCK ? pthread_mutex_timedlock(&held, &huge)
					   : pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &huge);
		if (r == 0)
			pthread_mutex_unlock(&held);
		break;
	case K_RWLOCK_TIMEDWRLOCK:
	case K_RWLOCK_CLOCKRDLOCK:
		r = k == K_RWLOCK_TIMEDWRLOCK
			    ? pthread_rwlock_timedwrlock(&rw, &huge)
			    : pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &huge);
		if (r == 0)
			pthread_rwlock_unlock(&rw);
		break;
	case K_TIMEDJOIN: r = pthread_timedjoin_np(joinee[0], NULL, &huge); break;
	case K_CLOCKJOIN: r = pthread_clockjoin_np(joinee[1], NULL, CLOCK_MONOTONIC, &huge); break;
	case K_FUTEX_WAIT:
		r = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, &huge, NULL, 0);
		break;
	case K_FUTEX_WAIT_BITSET:
		r = syscall(SYS_futex, &fword, FUTEX_WAIT_BITSET_PRIVATE, 0, &huge, NULL,
			    FUTEX_BITSET_MATCH_ANY);
		break;
	case K_POLL: r = poll(&pfd, 1, INT_MAX); break;
	case K_PPOLL: r = ppoll(&pfd, 1, &huge, NULL); break;
	case K_SELECT:
		FD_ZERO(&rd);
		FD_SET(pipefd[0], &rd);
		r = select(pipefd[0] + 1, &rd, NULL, NULL, &tv);
		break;
	case K_PSELECT:
		FD_ZERO(&rd);
		FD_SET(pipefd[0], &rd);
		r = pselect(pipefd[0] + 1, &rd, NULL, NULL, &huge, NULL);
		break;
	case K_EPOLL_WAIT: r = epoll_wait(ep, &ev, 1, INT_MAX); break;
	case K_EPOLL_PWAIT:
		sigemptyset(&set);
		r = epoll_pwait(ep, &ev, 1, INT_MAX, &set);
		break;
	case K_SIGTIMEDWAIT:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		r = sigtimedwait(&set, NULL, &huge);
		break;
	case K_COUNT: break;
	}
	result[k] = r;
	err[k] = errno;
	atomic_store(&done[k], 1);
	return NULL;
}

static int count_done(void)
{
	int n = 0;

	for (int k = 0; k < K_COUNT; k++)
		n += atomic_load(&done[k]);
	return n;
}

/* Waits (up to 10 s) for thread k to end, then joins it. */
static void finish(enum kind k)
{
	for (int i = 0; i < 1000 && !atomic_load(&done[k]); i++)
		sleep_ms(10);
	CHECK(atomic_load(&done[k]), "%s ended once given what it waits for", names[k]);
	if (atomic_load(&done[k]))
		pthread_join(threads[k], NULL);
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	sigset_t usr2;
	char c;

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL)); /* no SA_RESTART: sleeps end with EINTR */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &usr2, NULL)); /* for sigtimedwait */
	MUST(sem_init(&sem, 0, 0));
	MUST(sem_init(&joinee_go, 0, 0));
	MUST(pipe(pipefd));
	ep = epoll_create1(0);
	struct epoll_event pev = {.events = EPOLLIN, .data.fd = pipefd[0]};
	MUST(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &pev));
	MUST(pthread_mutex_lock(&held));
	MUST(pthread_rwlock_wrlock(&rw));
	MUST(pthread_create(&joinee[0], NULL, joinee_main, NULL));
	MUST(pthread_create(&joinee[1], NULL, joinee_main, NULL));

	for (int k = 0; k < K_COUNT; k++)
		MUST(pthread_create(&threads[k], NULL, waiter, (void *)(intptr_t)k));

	/* Main runs meanwhile: its own short sleeps end on time. */
	int64_t t0 = mono_ns();
	for (int i = 0; i < 30; i++)
		sleep_ms(10);
	CHECK(mono_ns() - t0 >= MS(300), "main slept 30 x 10 ms beside the waiters");
	int n = count_done();
	CHECK(n == 0, "every huge wait still waits after 300 ms");
	for (int k = 0; k < K_COUNT; k++)
		if (atomic_load(&done[k]))
			fprintf(stderr, "%s ended early: %ld, %s\n", names[k], result[k],
				errname(err[k]));

	/* Give each what it waits for. */
	for (int k = K_NANOSLEEP; k <= K_THRD_SLEEP; k++)
		pthread_kill(threads[k], SIGUSR1);
	pthread_mutex_lock(&cm);
	cond_go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&cm);
	sem_post(&sem);
	sem_post(&sem);
	pthread_mutex_unlock(&held);
	pthread_rwlock_unlock(&rw);
	sem_post(&joinee_go);
	sem_post(&joinee_go);
	atomic_store(&fword, 1);
	syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	MUST(write(pipefd[1], "x", 1) == 1 ? 0 : -1);
	pthread_kill(threads[K_SIGTIMEDWAIT], SIGUSR2);

	for (int k = 0; k < K_COUNT; k++)
		finish((enum kind)k);

	CHECK_ERR(result[K_NANOSLEEP] == -1 ? err[K_NANOSLEEP] : 0, EINTR, "nanosleep");
	CHECK(rem[K_NANOSLEEP].tv_sec > 1000000000, "nanosleep's rem is still huge");
	CHECK_ERR((int)result[K_CLOCK_NANOSLEEP_REL], EINTR, "clock_nanosleep relative");
	CHECK(rem[K_CLOCK_NANOSLEEP_REL].tv_sec > 1000000000, "clock_nanosleep's rem is still huge");
	CHECK_ERR((int)result[K_CLOCK_NANOSLEEP_ABS_RT], EINTR, "clock_nanosleep abs REALTIME");
	CHECK_ERR((int)result[K_CLOCK_NANOSLEEP_ABS_MONO], EINTR, "clock_nanosleep abs MONOTONIC");
	CHECK(result[K_SLEEP] == 1, "sleep(UINT_MAX) interrupted returns nearly all of it");
	CHECK(result[K_THRD_SLEEP] == -1, "thrd_sleep interrupted returns -1");
	CHECK(rem[K_THRD_SLEEP].tv_sec > 1000000000, "thrd_sleep's rem is still huge");
	for (int k = K_COND_TIMEDWAIT; k <= K_CLOCKJOIN; k++)
		CHECK_ERR((int)result[k], 0, "%s", names[k]);
	for (int k = K_FUTEX_WAIT; k <= K_FUTEX_WAIT_BITSET; k++)
		CHECK(result[k] == 0, "%s woken returns 0", names[k]);
	for (int k = K_POLL; k <= K_EPOLL_PWAIT; k++)
		CHECK(result[k] == 1, "%s returns 1 once the pipe has data", names[k]);
	CHECK(result[K_SIGTIMEDWAIT] == SIGUSR2, "sigtimedwait takes SIGUSR2");
	MUST(read(pipefd[0], &c, 1) == 1 ? 0 : -1);

	/* glibc reads tv_usec as 32 bits: a negative one is EINVAL. */
	struct timeval neg = {LONG_MAX, 0x80000000L};
	errno = 0;
	CHECK(select(0, NULL, NULL, NULL, &neg) == -1 && errno == EINVAL,
	      "select whose tv_usec is negative as 32 bits -> EINVAL");
	struct timespec bad = {LONG_MAX, 1000000000};
	errno = 0;
	CHECK(nanosleep(&bad, NULL) == -1 && errno == EINVAL, "nanosleep tv_nsec 1e9 -> EINVAL");
	CHECK_ERR(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &bad, NULL), EINVAL,
		  "clock_nanosleep abs tv_nsec 1e9");
	CHECK_ERR(pthread_mutex_timedlock(&held, &bad), 0,
		  "timedlock of a free mutex ignores a bad time");
	pthread_mutex_unlock(&held);
	return check_done();
}
