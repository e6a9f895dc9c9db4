/* Hazard: kill() given a thread's id (gettid() of a thread other than
 * main) signals that thread's process, as if kill(getpid()): a thread
 * that does not block the signal takes it, not necessarily the one named
 * (glibc's sysdeps/unix/sysv/linux/tst-gettid-kill). A green thread's id
 * went to the kernel, which does not know it: ESRCH, and the signal was
 * lost (the test then waited for good).
 *
 * Every thread blocks SIGUSR1 but the reader; kill() names the pauser,
 * which blocks it; the reader's handler must run, in the reader. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

static pthread_barrier_t barrier;
static pid_t pauser_tid;
static pthread_t reader_thread;
static int pipe_fd[2];
static atomic_int handled_in_reader, handled_elsewhere;

static void on_usr1(int sig)
{
	char c = 'X';

	(void)sig;
	if (pthread_equal(pthread_self(), reader_thread))
		atomic_fetch_add(&handled_in_reader, 1);
	else
		atomic_fetch_add(&handled_elsewhere, 1);
	if (write(pipe_fd[1], &c, 1) != 1)
		abort();
}

static void *pauser(void *arg)
{
	(void)arg;
	pauser_tid = gettid();
	pthread_barrier_wait(&barrier);
	pause(); /* until cancelled */
	return NULL;
}

static void *reader(void *arg)
{
	sigset_t s;
	char c;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	MUST(pthread_sigmask(SIG_UNBLOCK, &s, NULL));
	pthread_barrier_wait(&barrier);
	/* The handler's byte, whether the signal came before or during. */
	while (read(pipe_fd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

int main(void)
{
	pthread_t p;
	sigset_t s;

	alarm(20); /* hang guard */
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &s, NULL));
	signal(SIGUSR1, on_usr1);
	MUST(pipe(pipe_fd));
	MUST(pthread_barrier_init(&barrier, NULL, 3));
	MUST(pthread_create(&p, NULL, pauser, NULL));
	MUST(pthread_create(&reader_thread, NULL, reader, NULL));
	pthread_barrier_wait(&barrier);

	CHECK(pauser_tid != getpid(), "the pauser's id is not the process's");
	CHECK_ERR(kill(pauser_tid, SIGUSR1) < 0 ? errno : 0, 0, "kill(pauser's id, SIGUSR1)");
	MUST(pthread_join(reader_thread, NULL));
	CHECK(atomic_load(&handled_in_reader) == 1, "the handler ran once, in the reader");
	CHECK(atomic_load(&handled_elsewhere) == 0, "and in no other thread");
	CHECK_ERR(kill(pauser_tid, 0) < 0 ? errno : 0, 0, "kill(pauser's id, 0)");

	MUST(pthread_cancel(p));
	MUST(pthread_join(p, NULL));
	return check_done();
}
