/* Hazard: OS threads greenify did not make green touch the locks green
 * threads wait on (and the other way round). glibc runs the function of a
 * timer_create(SIGEV_THREAD) timer and of an mq_notify(SIGEV_THREAD)
 * registration on threads of its own; a thread such a thread creates is
 * a plain OS thread too; a thread made with clone() is one as well. A
 * ticker thread counts all along; every wait below would hang if a
 * foreign wake did not reach the green waiter (or a green wake the
 * foreign one).
 *
 *   timer: the timer's function posts a private semaphore 5 times, which
 *          a thread waits on;
 *   mq:    the notification's function locks a mutex, sets a flag and
 *          signals a condition a thread waits on;
 *   made by the timer's thread: a thread that holds a mutex a thread waits
 *          for, then unlocks it; signals a condition; sets a futex word and
 *          wakes it; write-holds a rwlock a thread wants to read; and waits
 *          itself (in glibc, in the kernel) for a semaphore, a condition
 *          and a mutex that our threads post, signal and unlock;
 *   clone: a thread with no TLS of its own sets a futex word and wakes it
 *          with the raw system call. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

static sem_t timer_sem;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, m2 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m3 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER, c2 = PTHREAD_COND_INITIALIZER;
static pthread_cond_t c3 = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t step, back, s3;
static int mq_flag, c2_flag, c3_flag;
static uint32_t word, clone_word;
static int m3_got, s3_got, c3_got;
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

static void on_timer(union sigval v)
{
	(void)v;
	sem_post(&timer_sem);
}

static void on_message(union sigval v)
{
	(void)v;
	pthread_mutex_lock(&m);
	mq_flag = 1;
	pthread_cond_signal(&c);
	pthread_mutex_unlock(&m);
}

/* The plain OS thread made by a foreign one. Each step waits for ours. */
static void *made_by_foreign(void *arg)
{
	(void)arg;
	/* 1: hold m2 while a green thread waits for it. */
	pthread_mutex_lock(&m2);
	sem_post(&back);
	sem_wait(&step);
	sleep_ms(10);
	pthread_mutex_unlock(&m2);
	/* 2: signal c2. */
	sem_wait(&step);
	sleep_ms(5);
	pthread_mutex_lock(&m2);
	c2_flag = 1;
	pthread_cond_signal(&c2);
	pthread_mutex_unlock(&m2);
	/* 3: a futex word. */
	sem_wait(&step);
	sleep_ms(5);
	__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	/* 4: write-hold rw while a green thread wants to read. */
	pthread_rwlock_wrlock(&rw);
	sem_post(&back);
	sem_wait(&step);
	sleep_ms(10);
	pthread_rwlock_unlock(&rw);
	/* 5: wait ourselves, in glibc, for green threads. */
	s3_got = sem_wait(&s3) == 0;
	pthread_mutex_lock(&m3);
	while (!c3_flag)
		pthread_cond_wait(&c3, &m3);
	c3_got = 1;
	pthread_mutex_unlock(&m3);
	sem_post(&back);
	m3_got = pthread_mutex_lock(&m3) == 0; /* held by a green thread */
	pthread_mutex_unlock(&m3);
	sem_post(&back);
	return NULL;
}

static pthread_t made;

static void on_timer_make(union sigval v)
{
	(void)v;
	pthread_create(&made, NULL, made_by_foreign, NULL);
	sem_post(&timer_sem);
}

static void *green_timer_waiter(void *arg)
{
	timer_t tm;
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_timer};
	struct itimerspec its = {{0, MS(5)}, {0, MS(5)}};
	int got = 0;

	(void)arg;
	MUST(timer_create(CLOCK_MONOTONIC, &ev, &tm));
	MUST(timer_settime(tm, 0, &its, NULL));
	for (int i = 0; i < 5; i++)
		got += sem_wait(&timer_sem) == 0;
	timer_delete(tm);
	CHECK(got == 5, "timer (SIGEV_THREAD): its function's posts woke a green waiter 5 times");
	return NULL;
}

static void *green_mq_waiter(void *arg)
{
	char name[64];
	struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 16};
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_message};
	mqd_t q;

	(void)arg;
	snprintf(name, sizeof name, "/greenify-foreign-%d", (int)getpid());
	mq_unlink(name);
	q = mq_open(name, O_CREAT | O_RDWR | O_EXCL, 0600, &attr);
	MUST(q == (mqd_t)-1);
	MUST(mq_notify(q, &ev));
	MUST(mq_send(q, "hi", 2, 0));
	pthread_mutex_lock(&m);
	while (!mq_flag)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	CHECK(mq_flag, "mq_notify (SIGEV_THREAD): its function's signal woke a green waiter");
	mq_close(q);
	mq_unlink(name);
	return NULL;
}

static void *green_side(void *arg)
{
	timer_t tm;
	struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_timer_make};
	struct itimerspec its = {{0, 0}, {0, MS(2)}};

	(void)arg;
	MUST(timer_create(CLOCK_MONOTONIC, &ev, &tm));
	MUST(timer_settime(tm, 0, &its, NULL));
	sem_wait(&timer_sem);
	sem_wait(&back); /* it holds m2 */
	sem_post(&step);
	CHECK_ERR(pthread_mutex_lock(&m2), 0, "a mutex a foreign thread held and unlocked");
	pthread_mutex_unlock(&m2);
	sem_post(&step);
	pthread_mutex_lock(&m2);
	while (!c2_flag)
		pthread_cond_wait(&c2, &m2);
	pthread_mutex_unlock(&m2);
	CHECK(c2_flag, "a condition a foreign thread signalled");
	sem_post(&step);
	while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
		syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	CHECK(word == 1, "a futex a foreign thread woke");
	sem_wait(&back); /* it write-holds rw */
	sem_post(&step);
	CHECK_ERR(pthread_rwlock_rdlock(&rw), 0, "a rwlock a foreign thread write-held and unlocked");
	pthread_rwlock_unlock(&rw);
	sleep_ms(5);
	sem_post(&s3);
	sleep_ms(5);
	pthread_mutex_lock(&m3);
	c3_flag = 1;
	pthread_cond_signal(&c3);
	pthread_mutex_unlock(&m3);
	sem_wait(&back);
	pthread_mutex_lock(&m3);
	sleep_ms(10); /* it waits for m3 in glibc meanwhile */
	pthread_mutex_unlock(&m3);
	sem_wait(&back);
	pthread_join(made, NULL);
	timer_delete(tm);
	CHECK(s3_got && c3_got && m3_got,
	      "a foreign thread waiting in glibc woke for our post, signal and unlock");
	return NULL;
}

/* The clone()d thread: no TLS of its own, so only raw system calls. */
static long raw_syscall3(long n, long a, long b, long c_)
{
	long ret;
#if defined(__x86_64__)
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c_)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b,
		      x2 __asm__("x2") = c_;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	ret = x0;
#else
	ret = syscall(n, a, b, c_);
#endif
	return ret;
}

static int cloned(void *arg)
{
	(void)arg;
	struct timespec ts = {0, MS(10)};
	raw_syscall3(SYS_nanosleep, (long)&ts, 0, 0);
	__atomic_store_n(&clone_word, 1, __ATOMIC_RELEASE);
	raw_syscall3(SYS_futex, (long)&clone_word, FUTEX_WAKE_PRIVATE, 1);
	return 0;
}

static void *green_clone_waiter(void *arg)
{
	size_t sz = 64 * 1024;
	char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		    CLONE_SYSVSEM;

	(void)arg;
	MUST(clone(cloned, stack + sz, flags, NULL) < 0);
	while (__atomic_load_n(&clone_word, __ATOMIC_ACQUIRE) == 0)
		syscall(SYS_futex, &clone_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	CHECK(clone_word == 1, "clone(): a raw FUTEX_WAKE of a thread with no TLS woke a green waiter");
	/* Its stack stays: the thread may still be on its way out. */
	return NULL;
}

int main(void)
{
	pthread_t tick, t;

	MUST(sem_init(&timer_sem, 0, 0));
	MUST(sem_init(&step, 0, 0));
	MUST(sem_init(&back, 0, 0));
	MUST(sem_init(&s3, 0, 0));
	MUST(pthread_create(&tick, NULL, ticker, NULL));
	MUST(pthread_create(&t, NULL, green_timer_waiter, NULL));
	pthread_join(t, NULL);
	MUST(pthread_create(&t, NULL, green_mq_waiter, NULL));
	pthread_join(t, NULL);
	MUST(pthread_create(&t, NULL, green_side, NULL));
	pthread_join(t, NULL);
	MUST(pthread_create(&t, NULL, green_clone_waiter, NULL));
	pthread_join(t, NULL);
	atomic_store(&stop, 1);
	pthread_join(tick, NULL);
	CHECK(atomic_load(&ticks) > 0, "the ticker ran all along");
	return check_done();
}
