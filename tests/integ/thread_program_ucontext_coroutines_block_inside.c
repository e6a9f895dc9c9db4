/* Hazard: a program with coroutines of its own (makecontext/swapcontext,
 * as QEMU's coroutine backend, libtask or a game server's scripting
 * layer) runs them inside its threads, on stacks it allocated, and blocks
 * there: the calls that park a green thread are made with the stack
 * pointer outside the thread's own stack, and glibc's swapcontext sets the
 * OS thread's signal mask with a system call no hook sees (the mask each
 * context was saved with).
 *   8 threads each run a coroutine on a 256 KiB malloc'd stack, 40 rounds
 *   of: sleep 1 ms, take a shared mutex and sleep 200 us holding it (the
 *   others wait for it on their coroutine stacks), swap back to the
 *   thread's own stack. Thread 0's coroutine writes a byte each round
 *   into a pipe that thread 1's coroutine reads (a read that waits on a
 *   coroutine stack for a peer on another). Main blocks SIGUSR1 and saves
 *   its own coroutine's context with it blocked; a thread unblocks it;
 *   main swaps into that context (the kernel's mask: SIGUSR1 blocked
 *   again) and a child process sends SIGUSR1 to the process: the thread
 *   that takes it runs the handler, natively and preloaded.
 * Every count is exact; the process ends. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 40, STACK = 256 * 1024 };

struct co {
	ucontext_t thread_ctx, co_ctx;
	int id;
	long sum, bytes;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long in_lock_total;
static int pipe_fd[2];

static void body(unsigned lo, unsigned hi)
{
	struct co *c = (struct co *)(uintptr_t)((uint64_t)hi << 32 | lo);

	for (int r = 0; r < ROUNDS; r++) {
		usleep(1000);
		MUST(pthread_mutex_lock(&mu));
		in_lock_total++;
		usleep(200);
		MUST(pthread_mutex_unlock(&mu));
		if (c->id == 0 && write(pipe_fd[1], "x", 1) == 1)
			c->bytes++;
		if (c->id == 1) {
			char b;
			if (read(pipe_fd[0], &b, 1) == 1)
				c->bytes++;
		}
		c->sum += r;
		if (swapcontext(&c->co_ctx, &c->thread_ctx) != 0)
			abort();
	}
}

static void *worker(void *arg)
{
	struct co *c = calloc(1, sizeof(*c));
	char *stack = malloc(STACK);
	uint64_t p = (uint64_t)(uintptr_t)c;

	if (!c || !stack)
		abort();
	c->id = (int)(intptr_t)arg;
	MUST(getcontext(&c->co_ctx));
	c->co_ctx.uc_stack.ss_sp = stack;
	c->co_ctx.uc_stack.ss_size = STACK;
	c->co_ctx.uc_link = &c->thread_ctx;
	makecontext(&c->co_ctx, (void (*)(void))body, 2, (unsigned)p, (unsigned)(p >> 32));
	for (int r = 0; r < ROUNDS; r++)
		if (swapcontext(&c->thread_ctx, &c->co_ctx) != 0)
			abort();
	long result = c->sum * 10 + c->bytes;
	free(stack);
	free(c);
	return (void *)(intptr_t)result;
}

static ucontext_t main_ctx, main_co_ctx;
static char main_co_stack[64 * 1024];
static atomic_int unblocked, handled;

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void main_co(void)
{
	/* Back at once: the swap in set the saved mask. */
	swapcontext(&main_co_ctx, &main_ctx);
}

static void *taker(void *arg)
{
	sigset_t s;

	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	MUST(pthread_sigmask(SIG_UNBLOCK, &s, NULL));
	atomic_fetch_add(&unblocked, 1);
	for (int i = 0; i < 1000 && !atomic_load(&handled); i++)
		usleep(5000);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS], tk;
	struct sigaction sa;
	sigset_t s;
	long total = 0;
	int expect_ok = 1;

	MUST(pipe(pipe_fd));
	for (intptr_t i = 0; i < THREADS; i++)
		MUST(pthread_create(&t[i], NULL, worker, (void *)i));
	for (int i = 0; i < THREADS; i++) {
		void *v;
		MUST(pthread_join(t[i], &v));
		long want = (long)ROUNDS * (ROUNDS - 1) / 2 * 10 + (i < 2 ? ROUNDS : 0);
		expect_ok &= (long)(intptr_t)v == want;
		total += (long)(intptr_t)v;
	}
	CHECK(expect_ok, "every thread's coroutine ran its %d rounds, the pipe's bytes both ways",
	      ROUNDS);
	CHECK(in_lock_total == (long)THREADS * ROUNDS, "the mutex was taken %d times",
	      THREADS * ROUNDS);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	MUST(sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	MUST(pthread_sigmask(SIG_BLOCK, &s, NULL));
	MUST(getcontext(&main_co_ctx));
	main_co_ctx.uc_stack.ss_sp = main_co_stack;
	main_co_ctx.uc_stack.ss_size = sizeof(main_co_stack);
	main_co_ctx.uc_link = &main_ctx;
	makecontext(&main_co_ctx, main_co, 0);
	MUST(pthread_create(&tk, NULL, taker, NULL));
	wait_above(&unblocked, 0);
	MUST(swapcontext(&main_ctx, &main_co_ctx));
	pid_t child = fork();
	if (child == 0) {
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	MUST(child < 0 ? -1 : 0);
	int st;
	MUST(waitpid(child, &st, 0) == child ? 0 : -1);
	MUST(pthread_join(tk, NULL));
	CHECK(atomic_load(&handled) == 1,
	      "a signal from another process reached the thread that takes it");
	return check_done();
}
