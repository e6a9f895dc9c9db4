/* Hazard: with green threads, the kernel delivers every signal to the one
 * OS thread, wherever it happens to be (often the event loop), while the
 * thread the signal is for sits parked. pthread_kill must run the handler
 * in the target thread and end its wait as natively:
 *   - sem_wait, handler without SA_RESTART -> -1 EINTR, handler ran in the
 *     target (pthread_self() there is the target);
 *   - nanosleep(2 s) -> -1 EINTR well before 2 s, rem between 0 and 2 s;
 *   - sem_wait with an SA_RESTART handler -> restarted: returns 0 only when
 *     main posts;
 *   - pthread_mutex_lock on a mutex main holds -> not interrupted: returns
 *     0 after main unlocks, the handler having run meanwhile;
 *   - a handler that posts a semaphore wakes a thread parked in sem_wait
 *     on it (the waiter is another thread);
 *   - a handler that sleeps (sleep is async-signal-safe) while its thread
 *     waits for a mutex, a join and a barrier: the mutex, unlocked while
 *     the handler sleeps, is still taken; the join still gets its value;
 *   - the same with a signal sent to the process by a timer while every
 *     thread is parked (under the preload the OS thread then sleeps in the
 *     event loop): with SA_RESTART, whichever thread the kernel picks, the
 *     waiter gets the post and returns 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static sem_t sem, posted_by_handler;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t handled;
static pthread_t handler_self;
static int rc1, err1, rc2, err2, rc3, rc4;
static struct timespec rem;
static int64_t slept;

static void count(int sig)
{
	(void)sig;
	handled++;
	handler_self = pthread_self();
}

static void nap(int sig)
{
	(void)sig;
	handled++;
	usleep(30 * 1000);
}

static void *return_7_later(void *arg)
{
	(void)arg;
	sleep_ms(10);
	return (void *)7;
}

static void *join_it(void *arg)
{
	void *v = NULL;

	if (pthread_join(*(pthread_t *)arg, &v) != 0)
		return NULL;
	return v;
}

static void post(int sig)
{
	(void)sig;
	handled++;
	sem_post(&posted_by_handler);
}

static void install(void (*fn)(int), int flags)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
}

static void *wait_sem(void *arg)
{
	(void)arg;
	rc1 = sem_wait(&sem);
	err1 = errno;
	return NULL;
}

static void *sleep_2s(void *arg)
{
	struct timespec two = { 2, 0 };
	int64_t t0 = mono_ns();

	(void)arg;
	rc2 = nanosleep(&two, &rem);
	err2 = errno;
	slept = mono_ns() - t0;
	return NULL;
}

static void *wait_sem_restart(void *arg)
{
	(void)arg;
	rc3 = sem_wait(&sem);
	return NULL;
}

static void *lock_mu(void *arg)
{
	(void)arg;
	rc4 = pthread_mutex_lock(&mu);
	if (rc4 == 0)
		pthread_mutex_unlock(&mu);
	return NULL;
}

static void *wait_posted(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)sem_wait(&posted_by_handler);
}

int main(void)
{
	pthread_t t, u;
	void *r;

	alarm(20);
	MUST(sem_init(&sem, 0, 0));
	MUST(sem_init(&posted_by_handler, 0, 0));

	install(count, 0);
	MUST(pthread_create(&t, NULL, wait_sem, NULL));
	sleep_ms(50);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(rc1 == -1 && err1 == EINTR, "sem_wait without SA_RESTART -> EINTR");
	CHECK(handled == 1 && pthread_equal(handler_self, t), "the handler ran once, in the target");

	MUST(pthread_create(&t, NULL, sleep_2s, NULL));
	sleep_ms(50);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(t, NULL));
	CHECK(rc2 == -1 && err2 == EINTR, "nanosleep -> EINTR");
	CHECK(slept < MS(1500), "the sleep ended at the signal, not after 2 s");
	CHECK(rem.tv_sec >= 0 && rem.tv_sec < 2 && (rem.tv_sec > 0 || rem.tv_nsec > 0),
	      "rem holds what was left of the 2 s");

	install(count, SA_RESTART);
	MUST(pthread_create(&t, NULL, wait_sem_restart, NULL));
	sleep_ms(50);
	MUST(pthread_kill(t, SIGUSR1));
	sleep_ms(50);
	MUST(sem_post(&sem));
	MUST(pthread_join(t, NULL));
	CHECK(rc3 == 0 && handled == 3, "sem_wait with SA_RESTART restarts, then gets the post");

	install(count, 0);
	MUST(pthread_mutex_lock(&mu));
	MUST(pthread_create(&t, NULL, lock_mu, NULL));
	sleep_ms(50);
	MUST(pthread_kill(t, SIGUSR1));
	sleep_ms(50);
	MUST(pthread_mutex_unlock(&mu));
	MUST(pthread_join(t, NULL));
	CHECK(rc4 == 0 && handled == 4, "a mutex wait is not interrupted; the handler ran");

	install(nap, 0);
	MUST(pthread_mutex_lock(&mu));
	MUST(pthread_create(&t, NULL, lock_mu, NULL));
	sleep_ms(20);
	MUST(pthread_kill(t, SIGUSR1));
	sleep_ms(5); /* the handler naps 30 ms; unlock in the middle of it */
	MUST(pthread_mutex_unlock(&mu));
	MUST(pthread_join(t, NULL));
	CHECK(rc4 == 0 && handled == 5, "a mutex freed while the waiter's handler slept is taken");

	pthread_t late, joiner;
	MUST(pthread_create(&late, NULL, return_7_later, NULL));
	MUST(pthread_create(&joiner, NULL, join_it, &late));
	sleep_ms(2);
	MUST(pthread_kill(joiner, SIGUSR1)); /* its handler naps past late's end */
	MUST(pthread_join(joiner, &r));
	CHECK(r == (void *)7 && handled == 6, "a join whose thread ended during a handler gets its value");

	install(post, 0);
	MUST(pthread_create(&u, NULL, wait_posted, NULL));
	MUST(pthread_create(&t, NULL, sleep_2s, NULL));
	sleep_ms(50);
	MUST(pthread_kill(t, SIGUSR1));
	MUST(pthread_join(u, &r));
	MUST(pthread_join(t, NULL));
	CHECK(r == NULL, "a handler's sem_post woke another thread's sem_wait");

	struct sigevent ev = { 0 };
	struct itimerspec its = { 0 };
	timer_t timer;
	install(post, SA_RESTART);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	MUST(timer_create(CLOCK_MONOTONIC, &ev, &timer));
	MUST(pthread_create(&u, NULL, wait_posted, NULL));
	its.it_value.tv_nsec = 100 * 1000 * 1000;
	MUST(timer_settime(timer, 0, &its, NULL));
	MUST(pthread_join(u, &r));
	CHECK(r == NULL && handled == 8, "a timer's signal to the process posted; the waiter woke");
	MUST(timer_delete(timer));
	return check_done();
}
