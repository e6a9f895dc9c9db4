/* Hazard: a signal handler that leaves with siglongjmp or longjmp instead
 * of returning, out of whatever the thread was doing: pause, sigsuspend,
 * a sleep, a read of an empty pipe, sem_wait, poll of two fds, waitpid,
 * sigwait, plain computation, and out of two nested handlers at once. The
 * jump must work each time (a handler left "running" would never run
 * again), leave nothing of the abandoned wait behind (the pipe, the
 * semaphore, the child and sigwait work afterwards, for this thread and
 * another), and restore the mask as natively: siglongjmp to a sigsetjmp
 * that saved it gives back the mask of that moment (SIGUSR1 unblocked
 * again, SIGUSR2 still blocked), longjmp leaves the handler's (SIGUSR1
 * still blocked). A second thread keeps running meanwhile. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static sigjmp_buf env;
static jmp_buf plain_env;
static volatile int use_plain;
static atomic_int handled;
static pthread_t victim;
static int pipefd[2], pipe2fd[2];
static sem_t sem;
static atomic_int ticks, stop;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
	if (use_plain)
		longjmp(plain_env, 1);
	siglongjmp(env, 1);
}

/* SIGHUP's handler raises SIGUSR1, whose handler jumps out of both. */
static void on_hup(int sig)
{
	(void)sig;
	raise(SIGUSR1);
}

static int blocked(int sig)
{
	sigset_t m;

	pthread_sigmask(SIG_BLOCK, NULL, &m);
	return sigismember(&m, sig);
}

enum what { PAUSE, SIGSUSPEND, SLEEP, READ, SEM, POLL2, WAITPID, SIGWAIT, SPIN, NESTED, COUNT };
static const char *const names[COUNT] = {"pause",   "sigsuspend", "nanosleep", "read",
					 "sem_wait", "poll of two", "waitpid", "sigwait",
					 "computing", "two nested handlers"};
static atomic_int in_wait;
static atomic_int checked; /* rounds the victim has checked */

static void do_wait(enum what w)
{
	struct pollfd p[2] = {{pipefd[0], POLLIN, 0}, {pipe2fd[0], POLLIN, 0}};
	sigset_t none, usr2;
	char c;
	int sig;

	sigemptyset(&none);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	atomic_store(&in_wait, 1);
	switch (w) {
	case PAUSE: pause(); break;
	case SIGSUSPEND: sigsuspend(&usr2); break;
	case SLEEP: nanosleep(&(struct timespec){30, 0}, NULL); break;
	case READ: (void)!read(pipefd[0], &c, 1); break;
	case SEM: sem_wait(&sem); break;
	case POLL2: poll(p, 2, 30000); break;
	case WAITPID: {
		pid_t pid = fork();
		if (pid == 0) {
			usleep(500000);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		break;
	}
	case SIGWAIT: sigwait(&usr2, &sig); break;
	case SPIN:
		for (;;)
			sched_yield();
	case NESTED: pause(); break;
	case COUNT: break;
	}
	fprintf(stderr, "%s returned without the jump\n", names[w]);
}

static void *ticker(void *arg)
{
	while (!atomic_load(&stop)) {
		sleep_ms(2);
		atomic_fetch_add(&ticks, 1);
	}
	return arg;
}

static void *victim_main(void *arg)
{
	sigset_t usr2;

	(void)arg;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	for (int w = 0; w < COUNT; w++) {
		if (sigsetjmp(env, 1) == 0) {
			do_wait((enum what)w);
			continue;
		}
		CHECK(!blocked(SIGUSR1) && blocked(SIGUSR2),
		      "siglongjmp out of %s: the mask of sigsetjmp is back", names[w]);
		atomic_fetch_add(&checked, 1);
	}
	/* longjmp (no mask saved): the handler's mask stays, SIGUSR1 blocked. */
	use_plain = 1;
	if (setjmp(plain_env) == 0)
		do_wait(PAUSE);
	else
		CHECK(blocked(SIGUSR1), "longjmp out of pause: SIGUSR1 stays blocked, as natively");
	atomic_fetch_add(&checked, 1);
	return NULL;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	pthread_t tk;
	char c = 'x';

	sigemptyset(&sa.sa_mask);
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sa.sa_handler = on_hup;
	MUST(sigaction(SIGHUP, &sa, NULL));
	MUST(pipe(pipefd));
	MUST(pipe(pipe2fd));
	MUST(sem_init(&sem, 0, 0));
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&victim, NULL, victim_main, NULL));
	for (int w = 0; w <= COUNT; w++) {
		int before = atomic_load(&handled);
		while (!atomic_load(&in_wait))
			sleep_ms(1);
		atomic_store(&in_wait, 0);
		sleep_ms(50); /* it waits now */
		if (w == NESTED)
			MUST(pthread_kill(victim, SIGHUP));
		else
			MUST(pthread_kill(victim, SIGUSR1));
		for (int i = 0; i < 2000 && atomic_load(&handled) == before; i++)
			sleep_ms(1);
		for (int i = 0; i < 2000 && atomic_load(&checked) == w; i++)
			sleep_ms(1);
		CHECK(atomic_load(&handled) == before + 1, "%s: the handler ran (jump %d)",
		      w < COUNT ? names[w] : "longjmp", w + 1);
	}
	MUST(pthread_join(victim, NULL));

	/* Nothing of the abandoned waits is left. */
	MUST(write(pipefd[1], &c, 1) == 1 ? 0 : -1);
	struct pollfd p = {pipefd[0], POLLIN, 0};
	CHECK(poll(&p, 1, 5000) == 1 && read(pipefd[0], &c, 1) == 1, "the pipe reads afterwards");
	sem_post(&sem);
	CHECK(sem_wait(&sem) == 0, "the semaphore works afterwards");
	int st = 0;
	pid_t left = wait(&st);
	CHECK(left > 0, "the abandoned waitpid's child is still ours to reap");
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	MUST(pthread_sigmask(SIG_BLOCK, &usr2, NULL));
	raise(SIGUSR2);
	int sig = 0;
	CHECK(sigwait(&usr2, &sig) == 0 && sig == SIGUSR2, "sigwait works afterwards");
	CHECK(atomic_load(&ticks) > 20, "another thread kept running meanwhile");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	return check_done();
}
