/* Hazard: fork while another thread runs a pthread_once init routine.  In
 * the child that thread is gone and its routine never finishes; glibc
 * keeps a fork generation in the control ("in progress, generation g"),
 * and the child, a generation later, takes such a control over and runs
 * the routine itself.  Kept waiting, the child deadlocks.
 *   1. Thread A's routine waits until main lets it go; main forks while it
 *      waits.  The child: pthread_once on that control runs the child's
 *      routine, in a thread of its own too; a control done before the fork
 *      stays done.  The parent: thread C's pthread_once on the control
 *      waits until A's routine finishes and runs nothing; the child exits
 *      0.
 *   2. A routine that forks itself: in the child the routine goes on (the
 *      forking thread survives), finishes, and the control is done there;
 *      in the parent likewise. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_once_t done_before = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inside, released;
static atomic_int a_runs, c_runs, child_runs, early_runs;
static atomic_int c_returned_early;

static void early(void)
{
	atomic_fetch_add(&early_runs, 1);
}

static void a_init(void)
{
	atomic_fetch_add(&a_runs, 1);
	pthread_mutex_lock(&mu);
	inside = 1;
	pthread_cond_broadcast(&cv);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void c_init(void)
{
	atomic_fetch_add(&c_runs, 1);
}

static void child_init(void)
{
	atomic_fetch_add(&child_runs, 1);
}

static void *thread_a(void *arg)
{
	(void)arg;
	pthread_once(&once, a_init);
	return NULL;
}

static void *thread_c(void *arg)
{
	(void)arg;
	pthread_once(&once, c_init);
	/* A's routine must have finished: released is set before it can. */
	pthread_mutex_lock(&mu);
	if (!released)
		atomic_store(&c_returned_early, 1);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static pthread_once_t child_thread_once = PTHREAD_ONCE_INIT;

static void *child_thread(void *arg)
{
	(void)arg;
	pthread_once(&child_thread_once, child_init);
	return NULL;
}

static void child(void)
{
	pthread_t t;

	CHECK_ERR(pthread_once(&once, child_init), 0, "child: pthread_once on the control A runs");
	CHECK(atomic_load(&child_runs) == 1, "child: it ran the child's routine");
	CHECK(atomic_load(&a_runs) == 1, "child: A's routine did not run again");
	MUST(pthread_once(&done_before, early));
	CHECK(atomic_load(&early_runs) == 1, "child: a control done before the fork stays done");
	MUST(pthread_create(&t, NULL, child_thread, NULL));
	MUST(pthread_join(t, NULL));
	CHECK(atomic_load(&child_runs) == 2, "child: a thread of the child runs a routine too");
	/* glibc's child does not go back to "single-threaded". */
	CHECK(!__libc_single_threaded, "child: __libc_single_threaded stays false");
	exit(check_done());
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pthread_once_t forking_once = PTHREAD_ONCE_INIT;
static atomic_int forking_runs;
static pid_t forked;

static void forking_init(void)
{
	atomic_fetch_add(&forking_runs, 1);
	fflush(stdout);
	forked = fork();
	if (forked < 0) {
		perror("fork");
		exit(2);
	}
}

static void *forking_thread(void *arg)
{
	(void)arg;
	pthread_once(&forking_once, forking_init);
	if (forked == 0) {
		CHECK_ERR(pthread_once(&forking_once, c_init), 0,
			  "child of a routine: pthread_once again");
		CHECK(atomic_load(&forking_runs) == 1 && atomic_load(&c_runs) == 0,
		      "child of a routine: the routine finished there, nothing ran again");
		exit(check_done());
	}
	return NULL;
}

int main(void)
{
	pthread_t a, c, f;
	pid_t pid;

	alarm(20);
	MUST(pthread_once(&done_before, early));
	MUST(pthread_create(&a, NULL, thread_a, NULL));
	pthread_mutex_lock(&mu);
	while (!inside)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0)
		child();
	CHECK(wait_child(pid) == 0, "the child ended with status 0");

	MUST(pthread_create(&c, NULL, thread_c, NULL));
	sleep_ms(50); /* C waits in pthread_once */
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	MUST(pthread_join(a, NULL));
	MUST(pthread_join(c, NULL));
	CHECK(atomic_load(&a_runs) == 1 && atomic_load(&c_runs) == 0,
	      "parent: A's routine ran once, C's not at all");
	CHECK(!atomic_load(&c_returned_early), "parent: C returned only after A's routine");

	MUST(pthread_create(&f, NULL, forking_thread, NULL));
	MUST(pthread_join(f, NULL));
	CHECK(wait_child(forked) == 0, "the routine's child ended with status 0");
	CHECK_ERR(pthread_once(&forking_once, c_init), 0, "parent: pthread_once on the forking control");
	CHECK(atomic_load(&forking_runs) == 1 && atomic_load(&c_runs) == 0,
	      "parent: the forking routine ran once");
	return check_done();
}
