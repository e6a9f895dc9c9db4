/* greenify dump PID on a process whose threads stand in every kind of wait:
 * the dump (run by the program itself on itself, its output sent to
 * stderr) names each state, the holder of a lock, what an fd wait is for,
 * and the program's functions, a static one too, in the backtraces. The
 * program itself goes on unchanged: every thread is released and joined,
 * and stdout is the same natively, where the dump finds no greenified
 * process and says so on stderr. The dump leaves no fd behind. */
/* expect-stderr-preload: greenify dump of pid */
/* expect-stderr-preload: thread: parked on semaphore */
/* expect-stderr-preload: thread: parked on mutex */
/* expect-stderr-preload: "locker" for */
/* expect-stderr-preload: held by thread 2 "holder" */
/* expect-stderr-preload: thread: parked on rwlock */
/* expect-stderr-preload: thread: parked on condition */
/* expect-stderr-preload: thread: parked at barrier */
/* expect-stderr-preload: thread: parked in join */
/* expect-stderr-preload: "joiner" for */
/* expect-stderr-preload: for reading */
/* expect-stderr-preload: for writing */
/* expect-stderr-preload: thread: sleeping */
/* expect-stderr-preload: , wakes in */
/* expect-stderr-preload: thread: parked on futex */
/* expect-stderr-preload: thread: parked in a signal wait */
/* expect-stderr-preload: "sigwaiter" for */
/* expect-stderr-preload: : SIGUSR1 */
/* expect-stderr-preload: napping_static+0x */
/* expect-stderr-preload: holder_main+0x */
/* expect-stderr-preload: sem_wait+0x */
/* expect-stderr-preload: (dump_names_every_state) at tests/integ/dump_names_every_state.c: */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static sem_t ready, release;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t bar;
static int go, pipefd[2], sv[2];
static long filled;
static unsigned fword;
static pthread_t holder;
/* The threads' results, checked by main once all are joined (stdout in
 * one order, whatever order the threads ran in). */
static int ok_join, ok_read, ok_send, ok_sig;

static void named(const char *name)
{
	pthread_setname_np(pthread_self(), name);
}

/* Holds the mutex and the rwlock while parked on a semaphore. */
void *holder_main(void *a);
void *holder_main(void *a)
{
	(void)a;
	named("holder");
	pthread_mutex_lock(&m);
	pthread_rwlock_wrlock(&rw);
	sem_post(&ready);
	sem_wait(&release);
	pthread_rwlock_unlock(&rw);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *locker(void *a)
{
	(void)a;
	named("locker");
	sem_post(&ready);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *rdlocker(void *a)
{
	(void)a;
	named("rdlocker");
	sem_post(&ready);
	pthread_rwlock_rdlock(&rw);
	pthread_rwlock_unlock(&rw);
	return NULL;
}

static void *condwaiter(void *a)
{
	(void)a;
	named("condwaiter");
	pthread_mutex_lock(&cm);
	sem_post(&ready);
	while (!go)
		pthread_cond_wait(&cv, &cm);
	pthread_mutex_unlock(&cm);
	return NULL;
}

static void *barrierer(void *a)
{
	(void)a;
	named("barrier");
	sem_post(&ready);
	pthread_barrier_wait(&bar);
	return NULL;
}

static void *joiner(void *a)
{
	(void)a;
	named("joiner");
	sem_post(&ready);
	ok_join = pthread_join(holder, NULL) == 0;
	return NULL;
}

static void *fdreader(void *a)
{
	char c;

	(void)a;
	named("fdreader");
	sem_post(&ready);
	ok_read = read(pipefd[0], &c, 1) == 1;
	return NULL;
}

static void *fdwriter(void *a)
{
	char buf[4096] = {0};
	ssize_t n;

	(void)a;
	named("fdwriter");
	while ((n = send(sv[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		filled += n;
	sem_post(&ready);
	ok_send = send(sv[0], buf, 1, 0) == 1;
	return NULL;
}

/* A static function: named from the program's .symtab, not its .dynsym. */
static __attribute__((noinline)) int napping_static(void)
{
	int r = sleep(100);
	__asm__ volatile("" ::: "memory"); /* no tail call: its frame stays */
	return r;
}

static void *sleeper(void *a)
{
	(void)a;
	named("sleeper");
	sem_post(&ready);
	napping_static();
	return NULL;
}

static void *futexer(void *a)
{
	(void)a;
	named("futexer");
	sem_post(&ready);
	while (!__atomic_load_n(&fword, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static void *sigwaiter(void *a)
{
	sigset_t set;
	int sig = 0;

	(void)a;
	named("sigwaiter");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sem_post(&ready);
	ok_sig = sigwait(&set, &sig) == 0 && sig == SIGUSR1;
	return NULL;
}

/* Runs greenify dump on this process, its output onto stderr. */
static void dump_self(const char *greenify)
{
	char pid[32];
	pid_t c;
	int st;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	c = fork();
	if (c == 0) {
		dup2(2, 1);
		unsetenv("LD_PRELOAD");
		execl(greenify, "greenify", "dump", pid, (char *)NULL);
		_exit(127);
	}
	CHECK(c > 0 && waitpid(c, &st, 0) == c, "the dump ran");
}

int main(int argc, char **argv)
{
	void *(*fns[])(void *) = {locker,   rdlocker, condwaiter, barrierer, joiner, fdreader,
				  fdwriter, sleeper,  futexer,    sigwaiter};
	enum { N = sizeof(fns) / sizeof(fns[0]) };
	pthread_t t[N];
	char self[PATH_MAX], greenify[PATH_MAX + 32], buf[65536];
	sigset_t set;
	ssize_t n;
	long drained = 0;
	int fds;

	(void)argc;
	if (!getenv("GREENIFY_DUMP")) { /* dumps are on from the start */
		setenv("GREENIFY_DUMP", "1", 1);
		execv("/proc/self/exe", argv);
		return 1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(greenify, sizeof(greenify), "%s/../../greenify", self);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sem_init(&ready, 0, 0);
	sem_init(&release, 0, 0);
	pthread_barrier_init(&bar, NULL, 2);
	CHECK(pipe(pipefd) == 0, "pipe");
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");

	pthread_create(&holder, NULL, holder_main, NULL);
	sem_wait(&ready);
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, fns[i], NULL);
	for (int i = 0; i < N; i++)
		sem_wait(&ready);

	fds = count_dir_entries("/proc/self/fd");
	dump_self(greenify);
	/* The dump's unwinder and line tables keep no file open. */
	CHECK(count_dir_entries("/proc/self/fd") == fds, "as many fds after the dump as before");

	sem_post(&release);
	pthread_mutex_lock(&cm);
	go = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&cm);
	pthread_barrier_wait(&bar);
	n = write(pipefd[1], "x", 1);
	CHECK(n == 1, "wrote the reader's byte");
	while (drained < filled + 1 && (n = read(sv[1], buf, sizeof(buf))) > 0)
		drained += n;
	pthread_cancel(t[7]); /* the sleeper */
	__atomic_store_n(&fword, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_kill(t[9], SIGUSR1);
	for (int i = 0; i < N; i++)
		CHECK(pthread_join(t[i], NULL) == 0, "joined thread %d", i);
	CHECK(ok_join, "the joiner joined the holder");
	CHECK(ok_read, "the reader read its byte");
	CHECK(ok_send, "the writer sent once there was room");
	CHECK(ok_sig, "the signal waiter got SIGUSR1");
	printf("%d threads stood in their waits and all finished\n", N + 1);
	return check_done();
}
