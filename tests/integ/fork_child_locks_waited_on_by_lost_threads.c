/* Hazard: locks and semaphores that threads lost in the fork were waiting
 * on. When main forks, one thread waits to lock a mutex main holds,
 * another waits on a condition, a third in sem_wait, a fourth in a raw
 * futex wait. In the child those waiters do not exist: main's unlock must
 * leave the mutex free (not hand it to a lost thread), a post must raise
 * the semaphore's value, and broadcasts and futex wakes find nobody. Then
 * the child's own threads use the same objects. In the parent everything
 * carries on: each waiter gets what it waited for. */
/* run-also: disable */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t s;
static atomic_int word, ready, cond_go;

static long futex(atomic_int *addr, int op, int val)
{
	return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void *locker(void *arg)
{
	(void)arg;
	MUST(pthread_mutex_lock(&m));
	MUST(pthread_mutex_unlock(&m));
	return NULL;
}

static void *cond_waiter(void *arg)
{
	(void)arg;
	MUST(pthread_mutex_lock(&cm));
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&cond_go))
		MUST(pthread_cond_wait(&c, &cm));
	MUST(pthread_mutex_unlock(&cm));
	return NULL;
}

static void *sem_waiter(void *arg)
{
	(void)arg;
	while (sem_wait(&s) != 0)
		;
	return NULL;
}

static void *futex_waiter(void *arg)
{
	(void)arg;
	while (atomic_load(&word) == 0)
		futex(&word, FUTEX_WAIT, 0);
	return NULL;
}

static void *child_locker(void *arg)
{
	(void)arg;
	MUST(pthread_mutex_lock(&m));
	MUST(pthread_mutex_unlock(&m));
	while (sem_wait(&s) != 0)
		;
	return NULL;
}

static void in_child(void)
{
	pthread_t t;
	int v = -1;

	MUST(pthread_mutex_unlock(&m));
	CHECK_ERR(pthread_mutex_trylock(&m), 0, "child: the mutex main unlocked is free");
	MUST(pthread_mutex_unlock(&m));
	MUST(pthread_cond_broadcast(&c));
	CHECK(futex(&word, FUTEX_WAKE, 10) == 0, "child: a futex wake finds no waiter");
	MUST(sem_post(&s));
	sem_getvalue(&s, &v);
	CHECK(v == 1, "child: a post raises the semaphore to 1");
	CHECK(sem_trywait(&s) == 0, "child: and trywait takes it");
	MUST(pthread_mutex_lock(&m));
	MUST(pthread_create(&t, NULL, child_locker, NULL));
	sleep_ms(20);
	MUST(pthread_mutex_unlock(&m));
	MUST(sem_post(&s));
	MUST(pthread_join(t, NULL));
	CHECK(1, "child: its own thread locked the mutex and took the semaphore");
	fflush(stdout);
	_exit(0);
}

int main(void)
{
	pthread_t t[4];
	pid_t pid;
	int status = -1;

	alarm(30);
	MUST(sem_init(&s, 0, 0));
	MUST(pthread_mutex_lock(&m));
	MUST(pthread_create(&t[0], NULL, locker, NULL));
	MUST(pthread_create(&t[1], NULL, cond_waiter, NULL));
	MUST(pthread_create(&t[2], NULL, sem_waiter, NULL));
	MUST(pthread_create(&t[3], NULL, futex_waiter, NULL));
	while (atomic_load(&ready) == 0)
		sleep_ms(5);
	sleep_ms(30); /* all four wait now */
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		in_child();
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "parent: the child exited 0");
	MUST(pthread_mutex_unlock(&m));
	MUST(pthread_mutex_lock(&cm));
	atomic_store(&cond_go, 1);
	MUST(pthread_cond_broadcast(&c));
	MUST(pthread_mutex_unlock(&cm));
	MUST(sem_post(&s));
	atomic_store(&word, 1);
	futex(&word, FUTEX_WAKE, 1);
	for (int i = 0; i < 4; i++)
		MUST(pthread_join(t[i], NULL));
	CHECK(1, "parent: its four waiters got what they waited for");
	return check_done();
}
