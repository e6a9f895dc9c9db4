/* Hazard: waits on objects another process holds end as natively when no
 * wake-up comes. A plain-glibc process holds a process-shared mutex and
 * write-holds a rwlock; meanwhile our threads get ETIMEDOUT from
 * sem_timedwait (both clocks), pthread_mutex_timedlock, pthread_cond_timedwait
 * (with the mutex held again on return), pthread_rwlock_timedwrlock and a
 * shared raw futex wait with a timeout; each waited at least its timeout,
 * and a ticker thread kept counting. Then the other process sends SIGUSR1
 * again and again to our main thread, blocked in sem_wait on a shared
 * semaphore nobody posts: the handler (no SA_RESTART) ends it with EINTR.
 * Last, a thread blocked in sem_wait on the shared semaphore is cancelled:
 * join says PTHREAD_CANCELED (how it unwinds is the cancellation tests'). */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>

#include "pshared.h"

struct shm {
	pthread_mutex_t m, cm; /* m: held by the other side; cm: the cond's */
	pthread_cond_t c;
	pthread_rwlock_t rw;
	sem_t never;	  /* nobody posts it */
	sem_t held, done; /* the other side holds; we are done */
	uint32_t word;	  /* a raw shared futex */
	int main_tid;	  /* where the signals go */
	int stop_signals;
};

static int child(const char *fdarg, const char *role)
{
	struct shm *s = ps_attach(fdarg, sizeof(struct shm));

	if (strcmp(role, "hold") == 0) {
		pthread_mutex_lock(&s->m);
		pthread_rwlock_wrlock(&s->rw);
		sem_post(&s->held);
		sem_wait(&s->done);
		pthread_rwlock_unlock(&s->rw);
		pthread_mutex_unlock(&s->m);
		return 0;
	}
	/* "signal": SIGUSR1 to our main thread until it says stop. */
	while (!__atomic_load_n(&s->stop_signals, __ATOMIC_SEQ_CST)) {
		syscall(SYS_tgkill, getppid(), s->main_tid, SIGUSR1);
		sleep_ms(5);
	}
	return 0;
}

static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(1);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static struct shm *s;

static int64_t waited_ms(int64_t t0)
{
	return (mono_ns() - t0) / 1000000;
}

static void *timeouts(void *arg)
{
	struct timespec ts;
	int64_t t0;
	int r;

	(void)arg;
	t0 = mono_ns();
	ts = deadline_in(CLOCK_REALTIME, MS(30));
	r = sem_timedwait(&s->never, &ts) == 0 ? 0 : errno;
	CHECK_ERR(r, ETIMEDOUT, "sem_timedwait");
	CHECK(waited_ms(t0) >= 29, "sem_timedwait waited its 30 ms");
	t0 = mono_ns();
	ts = deadline_in(CLOCK_MONOTONIC, MS(30));
	r = sem_clockwait(&s->never, CLOCK_MONOTONIC, &ts) == 0 ? 0 : errno;
	CHECK_ERR(r, ETIMEDOUT, "sem_clockwait (monotonic)");
	CHECK(waited_ms(t0) >= 29, "sem_clockwait waited its 30 ms");
	t0 = mono_ns();
	ts = deadline_in(CLOCK_REALTIME, MS(30));
	CHECK_ERR(pthread_mutex_timedlock(&s->m, &ts), ETIMEDOUT,
		  "pthread_mutex_timedlock of the other's mutex");
	CHECK(waited_ms(t0) >= 29, "pthread_mutex_timedlock waited its 30 ms");
	t0 = mono_ns();
	pthread_mutex_lock(&s->cm);
	ts = deadline_in(CLOCK_REALTIME, MS(30));
	CHECK_ERR(pthread_cond_timedwait(&s->c, &s->cm, &ts), ETIMEDOUT, "pthread_cond_timedwait");
	CHECK_ERR(pthread_mutex_trylock(&s->cm), EBUSY,
		  "pthread_cond_timedwait: the mutex is held again");
	pthread_mutex_unlock(&s->cm);
	CHECK(waited_ms(t0) >= 29, "pthread_cond_timedwait waited its 30 ms");
	t0 = mono_ns();
	ts = deadline_in(CLOCK_REALTIME, MS(30));
	CHECK_ERR(pthread_rwlock_timedwrlock(&s->rw, &ts), ETIMEDOUT,
		  "pthread_rwlock_timedwrlock of the other's rwlock");
	ts = deadline_in(CLOCK_REALTIME, MS(30));
	CHECK_ERR(pthread_rwlock_timedrdlock(&s->rw, &ts), ETIMEDOUT,
		  "pthread_rwlock_timedrdlock of the other's rwlock");
	CHECK(waited_ms(t0) >= 59, "both rwlock waits waited their 30 ms");
	t0 = mono_ns();
	struct timespec rel = {0, MS(30)};
	r = syscall(SYS_futex, &s->word, FUTEX_WAIT, 0, &rel, NULL, 0) == 0 ? 0 : errno;
	CHECK_ERR(r, ETIMEDOUT, "shared FUTEX_WAIT with a timeout");
	CHECK(waited_ms(t0) >= 29, "FUTEX_WAIT waited its 30 ms");
	r = syscall(SYS_futex, &s->word, FUTEX_WAIT, 1, &rel, NULL, 0) == 0 ? 0 : errno;
	CHECK_ERR(r, EAGAIN, "shared FUTEX_WAIT on a word that differs");
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void *cancel_me(void *arg)
{
	(void)arg;
	sem_wait(&s->never);
	return NULL;
}

int main(int argc, char **argv)
{
	int fd;
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_rwlockattr_t ra;
	pthread_t t, tick;
	sigset_t usr1;
	void *ret;

	if (argc > 3)
		return child(argv[2], argv[3]);
	s = ps_map(sizeof(*s), &fd);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	MUST(pthread_mutex_init(&s->m, &ma));
	MUST(pthread_mutex_init(&s->cm, &ma));
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	MUST(pthread_cond_init(&s->c, &ca));
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	MUST(pthread_rwlock_init(&s->rw, &ra));
	MUST(sem_init(&s->never, 1, 0));
	MUST(sem_init(&s->held, 1, 0));
	MUST(sem_init(&s->done, 1, 0));
	s->main_tid = gettid();

	/* Only main takes SIGUSR1. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	MUST(pthread_create(&tick, NULL, ticker, NULL));

	pid_t holder = ps_spawn(PS_NATIVE, "child", fd, "hold", child);
	sem_wait(&s->held);
	MUST(pthread_create(&t, NULL, timeouts, NULL));
	pthread_join(t, NULL);
	CHECK(atomic_load(&ticks) > 0, "the ticker ran during the timed waits");
	sem_post(&s->done);
	CHECK(ps_reap(holder), "the holder ended");

	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	pid_t sender = ps_spawn(PS_NATIVE, "child", fd, "signal", child);
	int r = sem_wait(&s->never) == 0 ? 0 : errno;
	CHECK_ERR(r, EINTR, "a signal from the other process ends sem_wait on a shared semaphore");
	__atomic_store_n(&s->stop_signals, 1, __ATOMIC_SEQ_CST);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	CHECK(ps_reap(sender), "the signal sender ended");

	MUST(pthread_create(&t, NULL, cancel_me, NULL));
	sleep_ms(20);
	pthread_cancel(t);
	pthread_join(t, &ret);
	CHECK(ret == PTHREAD_CANCELED, "a cross-process sem_wait is a cancellation point");
	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	return check_done();
}
