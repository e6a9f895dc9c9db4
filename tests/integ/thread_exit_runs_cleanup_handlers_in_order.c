/* needs: private-tls */
/* Hazard: pthread_exit is an unwind, not a jump.  Called from a nested
 * function it must run the thread's pending pthread_cleanup_push handlers,
 * innermost first, then its key destructors, and join must return its
 * value.  glibc keeps the chain of handlers in the thread's descriptor
 * (TLS), which green threads must not share:
 *   8 threads each push 3 handlers in 3 nested frames, sleeping between
 *     pushes (so their pushes interleave), and call pthread_exit from the
 *     innermost: each thread's 3 handlers run, innermost first, with their
 *     own arguments, on that thread, then its key destructor; join returns
 *     the value it passed;
 *   a handler popped with pthread_cleanup_pop(0) does not run at exit, one
 *     popped with pthread_cleanup_pop(1) runs at once;
 *   8 more threads do the same but return instead of calling pthread_exit:
 *     only the pop(1) handler and the key destructor run, and join returns
 *     the start routine's value;
 *   a handler may sleep (it runs on a live thread).
 * Results are printed by main after the joins, in a fixed order. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { NTHREADS = 16, MAXLOG = 16 };

/* What happened in each thread, in order: 'a'..'c' handlers, 'p' a handler
 * popped with pop(1), 'k' the key destructor. */
struct trace {
	char log[MAXLOG];
	int n;
	int foreign; /* a handler or destructor ran on another thread */
	pthread_t self;
};

static struct trace tr[NTHREADS];
static pthread_key_t key;
static pthread_barrier_t selves_known; /* main has stored every handle */
static int after_exit_reached;	       /* code after pthread_exit ran (must not) */

static void note(struct trace *t, char what)
{
	if (!pthread_equal(pthread_self(), t->self))
		t->foreign = 1;
	if (t->n < MAXLOG - 1)
		t->log[t->n++] = what;
}

static void handler_a(void *arg)
{
	note(arg, 'a');
}

static void handler_b(void *arg)
{
	struct trace *t = arg;

	sleep_ms(1 + (t - tr) % 3); /* handlers run on a live thread */
	note(t, 'b');
}

static void handler_c(void *arg)
{
	note(arg, 'c');
}

static void handler_p(void *arg)
{
	note(arg, 'p');
}

static void handler_never(void *arg)
{
	note(arg, '!');
}

static void key_dtor(void *arg)
{
	note(arg, 'k');
}

static void innermost(struct trace *t, long i)
{
	pthread_cleanup_push(handler_c, t);
	sleep_ms(1 + i % 3);
	if (i % 2 == 0) /* the odd ones return instead */
		pthread_exit((void *)(intptr_t)(100 + i));
	pthread_cleanup_pop(0);
}

static void middle(struct trace *t, long i)
{
	pthread_cleanup_push(handler_b, t);
	sleep_ms(1 + (i + 1) % 3);
	/* A handler popped with pop(0) is gone... */
	pthread_cleanup_push(handler_never, t);
	sleep_ms(1);
	pthread_cleanup_pop(0);
	innermost(t, i);
	pthread_cleanup_pop(0);
}

static void *body(void *arg)
{
	long i = (long)(intptr_t)arg;
	struct trace *t = &tr[i];

	pthread_barrier_wait(&selves_known);
	MUST(pthread_setspecific(key, t));
	/* ...and one popped with pop(1) runs at once. */
	pthread_cleanup_push(handler_p, t);
	sleep_ms(1);
	pthread_cleanup_pop(1);
	pthread_cleanup_push(handler_a, t);
	sleep_ms(1 + i % 3);
	middle(t, i);
	pthread_cleanup_pop(0);
	if (i % 2 == 0)
		after_exit_reached = 1;
	return (void *)(intptr_t)(200 + i);
}

int main(void)
{
	pthread_t th[NTHREADS];
	int exit_value = 0, exit_order = 0, return_value = 0, return_order = 0, own_thread = 0;

	alarm(20);
	MUST(pthread_key_create(&key, key_dtor));
	MUST(pthread_barrier_init(&selves_known, NULL, NTHREADS + 1));
	for (long i = 0; i < NTHREADS; i++) {
		MUST(pthread_create(&th[i], NULL, body, (void *)(intptr_t)i));
		tr[i].self = th[i];
	}
	pthread_barrier_wait(&selves_known);
	for (int i = 0; i < NTHREADS; i++) {
		void *ret = NULL;
		int exited = i % 2 == 0;

		MUST(pthread_join(th[i], &ret));
		tr[i].log[tr[i].n] = '\0';
		if (exited) {
			exit_value += (intptr_t)ret == 100 + i;
			exit_order += strcmp(tr[i].log, "pcbak") == 0;
		} else {
			return_value += (intptr_t)ret == 200 + i;
			return_order += strcmp(tr[i].log, "pk") == 0;
		}
		own_thread += !tr[i].foreign;
		fprintf(stderr, "thread %d (%s): ran %s\n", i, exited ? "pthread_exit" : "return",
			tr[i].log);
	}
	CHECK(exit_value == NTHREADS / 2,
	      "%d threads ending in pthread_exit: join returns its value", NTHREADS / 2);
	CHECK(exit_order == NTHREADS / 2,
	      "%d threads ending in pthread_exit: pop(1) ran at once; at exit c, b, a (not the "
	      "popped one), then the key destructor",
	      NTHREADS / 2);
	CHECK(return_value == NTHREADS / 2,
	      "%d threads returning: join returns the start routine's value", NTHREADS / 2);
	CHECK(return_order == NTHREADS / 2,
	      "%d threads returning: only pop(1) and the key destructor ran", NTHREADS / 2);
	CHECK(own_thread == NTHREADS, "every handler and destructor ran on its own thread");
	CHECK(!after_exit_reached, "no code after pthread_exit ran");
	return check_done();
}
