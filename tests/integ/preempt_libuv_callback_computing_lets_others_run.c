/* Hazard: a thread runs an event loop of the system's libuv.so.1 (Debian's
 * Node.js runs every JavaScript thread so: V8's frames lie below uv_run,
 * uv__run_timers and the timer's callback), and the callback computes
 * without calling anything. Preemption must prove the point safe through
 * libuv's frames: libuv's locks are pthread calls, green under the preload
 * like any library's. When a shared libuv counted as a library whose locks
 * are not green, every tick found its frames and said unsafe: the
 * computing thread kept the OS thread, and Debian's node with a worker in
 * `for(;;){}` hung.
 *   A ticker thread counts 5 ms sleeps. A loop thread's timer callback
 *   computes (a loop of plain arithmetic, no call) until the ticker has
 *   counted 5 more ticks than when it began, or 20 s of its clock passed
 *   (the hang guard: then it reports failure). Natively the ticker runs
 *   on the other CPU; preloaded only preemption lets it run.
 * The library is the system's libuv (libuv1-dev, scripts/deps.sh test). */
/* link: -luv */
#define _GNU_SOURCE
#include <pthread.h>
#include <uv.h>

#include "check.h"

static atomic_int ticks, stop;
static int caught_up;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		sleep_ms(5);
		atomic_fetch_add(&ticks, 1);
	}
	return NULL;
}

static void on_timer(uv_timer_t *t)
{
	int from = atomic_load(&ticks);
	int64_t until = mono_ns() + MS(20000);
	volatile unsigned long x = 0;

	/* mono_ns is a vDSO read every 100,000 turns, not a hooked call. */
	for (;;) {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		if (atomic_load(&ticks) >= from + 5) {
			caught_up = 1;
			break;
		}
		if (mono_ns() > until)
			break;
	}
	uv_timer_stop(t);
}

static void *loop_thread(void *arg)
{
	uv_loop_t loop;
	uv_timer_t timer;

	(void)arg;
	MUST(uv_loop_init(&loop));
	MUST(uv_timer_init(&loop, &timer));
	MUST(uv_timer_start(&timer, on_timer, 1, 0));
	MUST(uv_run(&loop, UV_RUN_DEFAULT));
	uv_close((uv_handle_t *)&timer, NULL);
	MUST(uv_run(&loop, UV_RUN_DEFAULT));
	MUST(uv_loop_close(&loop));
	return NULL;
}

int main(void)
{
	pthread_t tk, lp;

	MUST(pthread_create(&tk, NULL, ticker, NULL));
	wait_above(&ticks, 0);
	MUST(pthread_create(&lp, NULL, loop_thread, NULL));
	MUST(pthread_join(lp, NULL));
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	CHECK(caught_up, "the ticker ran while a libuv timer callback computed");
	return check_done();
}
