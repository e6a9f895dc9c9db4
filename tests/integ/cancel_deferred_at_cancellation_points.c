/* needs: private-tls */
/* Hazard: deferred cancellation of a green thread.  pthread_cancel must wake
 * a thread parked in a cancellation point and unwind it there, running its
 * cleanup handlers (innermost first), and join must give PTHREAD_CANCELED.
 * glibc keeps the cancel state and the handler chain in the thread's
 * descriptor (TLS), which green threads must not share.  One thread per
 * case, each blocked when it is cancelled:
 *   in sleep(1): both handlers run, c then a; sleep never returns; join
 *     comes back long before the second is over;
 *   in pthread_cond_wait: the handler finds the mutex (errorcheck) locked
 *     by its own thread, as POSIX says the wait re-acquires it first, and
 *     unlocks it; main can lock it afterwards;
 *   in read() on an empty pipe: read never returns;
 *   in a loop calling pthread_testcancel and sched_yield (not a
 *     cancellation point): the loop ends at pthread_testcancel;
 *   with PTHREAD_CANCEL_DISABLE: the cancel waits; a 100 ms sleep completes
 *     and returns 0; setcancelstate(ENABLE) gives back DISABLE and does not
 *     act itself; the next pthread_testcancel does.
 * If a cancel is refused or never acts, main wakes the thread another way
 * (the pipe gets a byte, the condition a signal, the loop a flag) so the
 * program still ends and reports.  Printed by main, in a fixed order. */
/* run-also: disable */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "check.h"

/* One case's shared state. */
struct cancel_case {
	const char *name;
	atomic_int ready; /* the thread is about to block */
	atomic_int stop;  /* fallback: end without being cancelled */
	int passed_point; /* the thread got past the cancellation point */
	char log[8];	  /* cleanup handlers run, in order */
	int n;
	int unlock_rc;	  /* cond case: the handler's unlock of the mutex */
	int slept_rc;	  /* disable case: sleep's result */
	int64_t slept_ns; /* disable case: how long it slept */
	int old_state;	  /* disable case: setcancelstate(ENABLE)'s old state */
	int after_enable; /* disable case: ran on after setcancelstate(ENABLE) */
};

static void note(struct cancel_case *c, char what)
{
	if (c->n < (int)sizeof c->log - 1)
		c->log[c->n++] = what;
}

static void handler_a(void *arg)
{
	note(arg, 'a');
}

static void handler_c(void *arg)
{
	note(arg, 'c');
}

static void wait_ready(struct cancel_case *c)
{
	while (!atomic_load(&c->ready))
		sleep_ms(1);
	sleep_ms(20); /* it is blocked by now */
}

/* ---- sleep() ---- */

static void *in_sleep(void *arg)
{
	struct cancel_case *c = arg;

	pthread_cleanup_push(handler_a, c);
	pthread_cleanup_push(handler_c, c);
	atomic_store(&c->ready, 1);
	sleep(1);
	c->passed_point = 1;
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return NULL;
}

/* ---- pthread_cond_wait ---- */

static pthread_mutex_t cm;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void unlock_cm(void *arg)
{
	struct cancel_case *c = arg;

	note(c, 'u');
	c->unlock_rc = pthread_mutex_unlock(&cm);
}

static void *in_cond_wait(void *arg)
{
	struct cancel_case *c = arg;

	MUST(pthread_mutex_lock(&cm));
	pthread_cleanup_push(unlock_cm, c);
	atomic_store(&c->ready, 1);
	while (!atomic_load(&c->stop))
		pthread_cond_wait(&cv, &cm);
	c->passed_point = 1;
	pthread_cleanup_pop(0);
	MUST(pthread_mutex_unlock(&cm));
	return NULL;
}

static void nudge_cond(struct cancel_case *c)
{
	MUST(pthread_mutex_lock(&cm));
	atomic_store(&c->stop, 1);
	MUST(pthread_cond_broadcast(&cv));
	MUST(pthread_mutex_unlock(&cm));
}

/* ---- read() on a pipe ---- */

static int pfd[2];

static void *in_read(void *arg)
{
	struct cancel_case *c = arg;
	char b;

	pthread_cleanup_push(handler_a, c);
	atomic_store(&c->ready, 1);
	if (read(pfd[0], &b, 1) >= 0)
		c->passed_point = 1;
	pthread_cleanup_pop(0);
	return NULL;
}

/* ---- pthread_testcancel ---- */

static void *in_testcancel_loop(void *arg)
{
	struct cancel_case *c = arg;

	pthread_cleanup_push(handler_a, c);
	atomic_store(&c->ready, 1);
	while (!atomic_load(&c->stop)) {
		pthread_testcancel();
		sched_yield();
	}
	c->passed_point = 1;
	pthread_cleanup_pop(0);
	return NULL;
}

/* ---- PTHREAD_CANCEL_DISABLE ---- */

static void *with_cancel_disabled(void *arg)
{
	struct cancel_case *c = arg;
	int64_t t0;

	MUST(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL));
	pthread_cleanup_push(handler_a, c);
	atomic_store(&c->ready, 1);
	/* main cancels during this sleep */
	t0 = mono_ns();
	c->slept_rc = usleep(100 * 1000);
	c->slept_ns = mono_ns() - t0;
	MUST(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &c->old_state));
	c->after_enable = 1;
	pthread_testcancel();
	c->passed_point = 1;
	pthread_cleanup_pop(0);
	return NULL;
}

/* Cancel the blocked thread of case c and join it.  Should the cancel be
 * refused or never act, wake the thread with nudge and join it anyway. */
static void cancel_and_join(struct cancel_case *c, void *(*body)(void *),
			    void (*nudge)(struct cancel_case *), const char *want_log)
{
	pthread_t th;
	void *ret = NULL;
	int rc, joined = 0;
	int64_t t0;

	MUST(pthread_create(&th, NULL, body, c));
	wait_ready(c);
	t0 = mono_ns();
	rc = pthread_cancel(th);
	CHECK_ERR(rc, 0, "%s: pthread_cancel", c->name);
	if (rc == 0) {
		struct timespec limit = deadline_in(CLOCK_REALTIME, MS(3000));

		joined = pthread_timedjoin_np(th, &ret, &limit) == 0;
		if (!joined)
			fprintf(stderr, "%s: still running 3 s after pthread_cancel\n", c->name);
	}
	if (!joined) {
		nudge(c);
		MUST(pthread_join(th, &ret));
	}
	c->log[c->n] = '\0';
	fprintf(stderr, "%s: join after %lld ms, handlers '%s'\n", c->name,
		(long long)((mono_ns() - t0) / 1000000), c->log);
	CHECK(ret == PTHREAD_CANCELED, "%s: join gives PTHREAD_CANCELED", c->name);
	CHECK(!c->passed_point, "%s: the thread never got past the cancellation point", c->name);
	CHECK(strcmp(c->log, want_log) == 0, "%s: cleanup handlers ran: %s", c->name, want_log);
}

static void nudge_stop(struct cancel_case *c)
{
	atomic_store(&c->stop, 1);
}

static void nudge_pipe(struct cancel_case *c)
{
	(void)c;
	if (write(pfd[1], "x", 1) != 1)
		perror("write");
}

static void nudge_none(struct cancel_case *c)
{
	(void)c; /* the thread's sleep ends by itself */
}

int main(void)
{
	static struct cancel_case sleeping = {.name = "blocked in sleep(1)"};
	static struct cancel_case cond = {.name = "blocked in pthread_cond_wait", .unlock_rc = -1};
	static struct cancel_case reading = {.name = "blocked in read() on a pipe"};
	static struct cancel_case looping = {.name = "looping on pthread_testcancel"};
	static struct cancel_case disabled = {.name = "with PTHREAD_CANCEL_DISABLE"};
	pthread_mutexattr_t ma;
	int64_t t0;

	alarm(20);

	t0 = mono_ns();
	cancel_and_join(&sleeping, in_sleep, nudge_none, "ca");
	CHECK(mono_ns() - t0 < MS(900), "%s: join came back before the 1 s sleep was over",
	      sleeping.name);

	MUST(pthread_mutexattr_init(&ma));
	MUST(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK));
	MUST(pthread_mutex_init(&cm, &ma));
	cancel_and_join(&cond, in_cond_wait, nudge_cond, "u");
	CHECK_ERR(cond.unlock_rc, 0,
		  "%s: the handler owned the mutex (re-acquired before it ran), unlock", cond.name);
	CHECK_ERR(pthread_mutex_trylock(&cm), 0, "%s: main locks the mutex afterwards", cond.name);
	MUST(pthread_mutex_unlock(&cm));

	MUST(pipe(pfd));
	cancel_and_join(&reading, in_read, nudge_pipe, "a");

	cancel_and_join(&looping, in_testcancel_loop, nudge_stop, "a");

	cancel_and_join(&disabled, with_cancel_disabled, nudge_none, "a");
	CHECK(disabled.slept_rc == 0 && disabled.slept_ns >= MS(100),
	      "%s: a 100 ms sleep during which it was cancelled completes", disabled.name);
	CHECK(disabled.old_state == PTHREAD_CANCEL_DISABLE,
	      "%s: setcancelstate(ENABLE) gives back DISABLE", disabled.name);
	CHECK(disabled.after_enable, "%s: setcancelstate(ENABLE) itself does not act",
	      disabled.name);
	return check_done();
}
