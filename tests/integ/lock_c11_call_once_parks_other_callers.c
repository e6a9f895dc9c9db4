/* Hazard: call_once is glibc's pthread_once reached inside libc, where no
 * hook sees it: the callers that find the routine running must park until
 * it ends, not block the OS thread, while the routine's own thread (another
 * green thread) sleeps inside it (else a hang, which the alarm turns into a
 * failure):
 *   6 threads call call_once on one flag, the routine sleeping 50 ms: it
 *     runs once, and no call returns before it has ended; a ticker thread
 *     ticks meanwhile (only the waiters parked);
 *   a flag main has already been through: every thread's call returns at
 *     once without running the routine;
 *   a routine whose thread leaves it with thrd_exit: the flag is left as
 *     never run, so a caller that was waiting runs the routine itself, and
 *     the next flag user finds it done. */
#define _GNU_SOURCE
#include <unistd.h>

#include "c11.h"

#define CALLERS 6

static once_flag slow_flag = ONCE_FLAG_INIT, done_flag = ONCE_FLAG_INIT;
static atomic_int slow_runs, slow_done, done_runs;
static int returned_after_done[CALLERS];

static void slow_init(void)
{
	atomic_fetch_add(&slow_runs, 1);
	sleep_ms(50);
	atomic_store(&slow_done, 1);
}

static void done_init(void)
{
	atomic_fetch_add(&done_runs, 1);
}

static int caller(void *arg)
{
	int i = (int)(intptr_t)arg;

	call_once(&slow_flag, slow_init);
	returned_after_done[i] = atomic_load(&slow_done);
	call_once(&done_flag, done_init);
	return 0;
}

/* The flag whose first routine ends with thrd_exit. */
static once_flag exit_flag = ONCE_FLAG_INIT;
static atomic_int exit_runs, exit_inside, exit_done;

static void exit_init(void)
{
	if (atomic_fetch_add(&exit_runs, 1) == 0) {
		atomic_store(&exit_inside, 1);
		sleep_ms(50);
		thrd_exit(7);
	}
	atomic_store(&exit_done, 1);
}

static int exit_caller(void *arg)
{
	(void)arg;
	call_once(&exit_flag, exit_init);
	return 1; /* not reached by the first caller */
}

int main(void)
{
	thrd_t tick, t[CALLERS], first, second;
	int res;

	alarm(20);
	call_once(&done_flag, done_init);
	MUST(thrd_create(&tick, ticker, NULL));
	int t0 = atomic_load(&ticks);
	for (int i = 0; i < CALLERS; i++)
		MUST(thrd_create(&t[i], caller, (void *)(intptr_t)i));
	for (int i = 0; i < CALLERS; i++)
		MUST(thrd_join(t[i], NULL));
	int all = 1;
	for (int i = 0; i < CALLERS; i++)
		all &= returned_after_done[i];
	CHECK(atomic_load(&slow_runs) == 1, "%d callers, one flag: the routine ran once", CALLERS);
	CHECK(all, "no call_once returned before the routine had ended");
	CHECK(atomic_load(&ticks) > t0, "the ticker ran while they waited");
	CHECK(atomic_load(&done_runs) == 1,
	      "a flag main had been through: no thread's call ran its routine");

	MUST(thrd_create(&first, exit_caller, NULL));
	while (!atomic_load(&exit_inside))
		sleep_ms(1);
	MUST(thrd_create(&second, exit_caller, NULL));
	MUST(thrd_join(first, &res));
	CHECK(res == 7, "the first routine left by thrd_exit(7): its thread's value is 7");
	MUST(thrd_join(second, &res));
	CHECK(res == 1 && atomic_load(&exit_runs) == 2 && atomic_load(&exit_done),
	      "the waiting caller then ran the routine itself, to its end");
	call_once(&exit_flag, exit_init);
	CHECK(atomic_load(&exit_runs) == 2, "and the flag is done for the next caller");

	atomic_store(&ticker_stop, 1);
	MUST(thrd_join(tick, NULL));
	return check_done();
}
