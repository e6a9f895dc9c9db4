/* Hazard: syscall(SYS_rt_sigqueueinfo) given another thread's id (its
 * gettid) signals that thread's process, as the kernel finds a process by
 * any of its threads' ids; under the preload a green thread's id reached
 * the kernel, which does not know it: ESRCH (LTP rt_sigqueueinfo01). The
 * kernel's rule for who may pose as the kernel or as kill (si_code >= 0,
 * or SI_TKILL) is kept: only a caller naming its own id. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>

#include "check.h"

static atomic_int got;
static atomic_int value;
static sem_t ready, done; /* the thread has its id; main is done */
static pid_t thread_tid;

static void on_usr1(int sig, siginfo_t *info, void *uc)
{
	(void)sig;
	(void)uc;
	atomic_store(&value, info->si_value.sival_int);
	atomic_fetch_add(&got, 1);
}

static long queue(pid_t to, int code, int data)
{
	siginfo_t info;

	memset(&info, 0, sizeof(info));
	info.si_code = code;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = data;
	return syscall(SYS_rt_sigqueueinfo, to, SIGUSR1, &info);
}

/* A handler may run in the waiter: EINTR. */
static void sem_wait_all(sem_t *s)
{
	while (sem_wait(s) != 0)
		;
}

static void *thread_main(void *arg)
{
	long r;

	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	sem_post(&ready);
	sem_wait_all(&done); /* main's checks first */
	/* Its own id may pose as kill. */
	atomic_store(&got, 0);
	r = queue(thread_tid, SI_USER, 9);
	CHECK(r == 0, "thread: to its own id with SI_USER succeeds");
	wait_above(&got, 0);
	CHECK(atomic_load(&value) == 9, "thread: its handler gets the value");
	return NULL;
}

int main(void)
{
	struct sigaction a;
	pthread_t t;
	long r;

	memset(&a, 0, sizeof(a));
	a.sa_sigaction = on_usr1;
	a.sa_flags = SA_SIGINFO;
	sigemptyset(&a.sa_mask);
	MUST(sigaction(SIGUSR1, &a, NULL));
	MUST(sem_init(&ready, 0, 0));
	MUST(sem_init(&done, 0, 0));
	MUST(pthread_create(&t, NULL, thread_main, NULL));
	sem_wait_all(&ready);

	r = queue(thread_tid, SI_QUEUE, 777);
	CHECK_ERR(r == 0 ? 0 : errno, 0, "main: SI_QUEUE to the thread's id");
	wait_above(&got, 0);
	CHECK(atomic_load(&value) == 777, "main: a handler gets the value");

	errno = 0;
	r = queue(thread_tid, SI_USER, 1);
	CHECK_ERR(r == 0 ? 0 : errno, EPERM, "main: SI_USER to the thread's id");
	errno = 0;
	r = queue(thread_tid, SI_TKILL, 1);
	CHECK_ERR(r == 0 ? 0 : errno, EPERM, "main: SI_TKILL to the thread's id");

	sem_post(&done);
	MUST(pthread_join(t, NULL));
	return check_done();
}
