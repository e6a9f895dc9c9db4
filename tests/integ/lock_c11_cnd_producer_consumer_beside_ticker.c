/* run-also: disable */
/* Hazard: C11 conditions are glibc's pthread conditions, but glibc's cnd_*
 * functions call its pthread functions inside libc, where no pthread hook
 * sees them: a green thread in cnd_wait or cnd_timedwait must park (and
 * give the mutex back), not block the OS thread, while the thread that will
 * signal it is another green thread (else a hang, which the alarm turns
 * into a failure); the results are C11's:
 *   a bounded buffer of 4 slots between 2 producers and 2 consumers, 400
 *     items each, the producers pausing every 50 items: every item
 *     consumed once (count and checksum), and a ticker thread kept ticking
 *     while consumers waited in cnd_wait (only the waiter parked);
 *   5 waiters released by one cnd_broadcast once all are known to wait;
 *   cnd_signal and cnd_broadcast with nobody waiting -> thrd_success;
 *   cnd_timedwait, nobody signals, 300 ms -> thrd_timedout, no earlier than
 *     the TIME_UTC deadline, the ticker ticking meanwhile, and the mutex
 *     held again when it returns (another thread's trylock -> thrd_busy);
 *     a deadline in the past -> thrd_timedout; a bad tv_nsec ->
 *     thrd_error, the mutex still held;
 *   cnd_timedwait signalled by another thread after 30 ms of 5 s ->
 *     thrd_success, the mutex held;
 *   cnd_init -> thrd_success; cnd_destroy after the waits. */
#define _GNU_SOURCE
#include <unistd.h>

#include "c11.h"

#define SLOTS 4
#define PRODUCERS 2
#define CONSUMERS 2
#define ITEMS 400

static mtx_t mu;
static cnd_t not_full, not_empty;
static long buf[SLOTS];
static int head, count, producers_left = PRODUCERS;
static atomic_int ticking_waits; /* cnd_waits the ticker ticked during */

struct total {
	long items, sum;
};

static void wait_counting_ticks(cnd_t *c)
{
	int t0 = atomic_load(&ticks);

	if (cnd_wait(c, &mu) != thrd_success)
		abort();
	if (atomic_load(&ticks) != t0)
		atomic_fetch_add(&ticking_waits, 1);
}

static int produce(void *arg)
{
	long base = (long)(intptr_t)arg * ITEMS;

	for (long i = 1; i <= ITEMS; i++) {
		if (i % 50 == 0)
			sleep_ms(5);
		mtx_lock(&mu);
		while (count == SLOTS)
			wait_counting_ticks(&not_full);
		buf[(head + count) % SLOTS] = base + i;
		count++;
		int r = cnd_signal(&not_empty);
		mtx_unlock(&mu);
		if (r != thrd_success)
			return r;
	}
	mtx_lock(&mu);
	if (--producers_left == 0)
		cnd_broadcast(&not_empty);
	mtx_unlock(&mu);
	return thrd_success;
}

static int consume(void *arg)
{
	struct total *tot = arg;

	for (;;) {
		mtx_lock(&mu);
		while (count == 0 && producers_left > 0)
			wait_counting_ticks(&not_empty);
		if (count == 0) {
			mtx_unlock(&mu);
			return thrd_success;
		}
		long v = buf[head];
		head = (head + 1) % SLOTS;
		count--;
		cnd_signal(&not_full);
		mtx_unlock(&mu);
		tot->items++;
		tot->sum += v;
	}
}

#define WAITERS 5

static cnd_t flag_cv;
static int waiting, flag, released;

static int wait_for_flag(void *arg)
{
	(void)arg;
	mtx_lock(&mu);
	waiting++;
	int r = thrd_success;
	while (!flag && r == thrd_success)
		r = cnd_wait(&flag_cv, &mu);
	released++;
	mtx_unlock(&mu);
	return r;
}

/* Signals flag_cv after 30 ms, under the mutex. */
static int signal_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	mtx_lock(&mu);
	flag = 1;
	int r = cnd_signal(&flag_cv);
	mtx_unlock(&mu);
	return r;
}

int main(void)
{
	thrd_t tick, prod[PRODUCERS], cons[CONSUMERS], w[WAITERS];
	struct total tot[CONSUMERS] = { { 0, 0 } };
	int res;

	alarm(20);
	MUST(mtx_init(&mu, mtx_timed));
	CHECK_C11(cnd_init(&not_full), thrd_success, "cnd_init -> thrd_success");
	MUST(cnd_init(&not_empty));
	MUST(cnd_init(&flag_cv));
	MUST(thrd_create(&tick, ticker, NULL));

	for (int i = 0; i < CONSUMERS; i++)
		MUST(thrd_create(&cons[i], consume, &tot[i]));
	for (int i = 0; i < PRODUCERS; i++)
		MUST(thrd_create(&prod[i], produce, (void *)(intptr_t)i));
	int all_ok = 1;
	for (int i = 0; i < PRODUCERS; i++) {
		MUST(thrd_join(prod[i], &res));
		all_ok &= res == thrd_success;
	}
	for (int i = 0; i < CONSUMERS; i++) {
		MUST(thrd_join(cons[i], &res));
		all_ok &= res == thrd_success;
	}
	long items = 0, sum = 0, want = 0;
	for (int i = 0; i < CONSUMERS; i++) {
		items += tot[i].items;
		sum += tot[i].sum;
	}
	for (long v = 1; v <= PRODUCERS * ITEMS; v++)
		want += v;
	CHECK(all_ok, "bounded buffer: every cnd_signal -> thrd_success");
	CHECK(items == PRODUCERS * ITEMS && sum == want, "bounded buffer: %d items, checksum right",
	      PRODUCERS * ITEMS);
	CHECK(atomic_load(&ticking_waits) > 0, "bounded buffer: the ticker ran during cnd_waits");
	fprintf(stderr, "%d cnd_waits saw the ticker tick\n", atomic_load(&ticking_waits));

	/* One broadcast for all. */
	for (int i = 0; i < WAITERS; i++)
		MUST(thrd_create(&w[i], wait_for_flag, NULL));
	int all_waiting = 0;
	for (int64_t t0 = mono_ns(); !all_waiting && mono_ns() - t0 < MS(5000); sleep_ms(1)) {
		mtx_lock(&mu);
		/* Each counted itself under the mutex, then waited. */
		all_waiting = waiting == WAITERS;
		if (all_waiting) {
			flag = 1;
			CHECK_C11(cnd_broadcast(&flag_cv), thrd_success, "cnd_broadcast -> thrd_success");
		}
		mtx_unlock(&mu);
	}
	all_ok = 1;
	for (int i = 0; i < WAITERS; i++) {
		MUST(thrd_join(w[i], &res));
		all_ok &= res == thrd_success;
	}
	CHECK(all_waiting && released == WAITERS && all_ok,
	      "cnd_broadcast released all %d waiters, each cnd_wait -> thrd_success", WAITERS);
	CHECK_C11(cnd_signal(&flag_cv), thrd_success, "cnd_signal, nobody waits -> thrd_success");
	CHECK_C11(cnd_broadcast(&flag_cv), thrd_success,
		  "cnd_broadcast, nobody waits -> thrd_success");

	/* Timed waits nobody signals. */
	flag = 0;
	mtx_lock(&mu);
	/* 300 ms: long enough for the ticker to get a CPU natively under
	 * qemu on a crowded machine (60 ms once was not) */
	struct timespec dl = utc_in(MS(300));
	int t0 = atomic_load(&ticks);
	CHECK_C11(cnd_timedwait(&flag_cv, &mu, &dl), thrd_timedout,
		  "cnd_timedwait, nobody signals, 300 ms -> thrd_timedout");
	CHECK(utc_ns() >= ts_ns(&dl), "cnd_timedwait: returned no earlier than the deadline");
	CHECK(atomic_load(&ticks) > t0, "cnd_timedwait: the ticker ran while it waited");
	CHECK_C11(trylock_elsewhere(&mu), thrd_busy,
		  "cnd_timedwait timed out: the mutex is held again");
	dl = utc_in(-MS(10));
	CHECK_C11(cnd_timedwait(&flag_cv, &mu, &dl), thrd_timedout,
		  "cnd_timedwait, deadline past -> thrd_timedout");
	dl = utc_in(MS(60));
	dl.tv_nsec = 1000000000;
	CHECK_C11(cnd_timedwait(&flag_cv, &mu, &dl), thrd_error,
		  "cnd_timedwait, tv_nsec 1e9 -> thrd_error");
	CHECK_C11(trylock_elsewhere(&mu), thrd_busy, "and the mutex is still held");

	/* A timed wait another thread ends. */
	thrd_t s;
	MUST(thrd_create(&s, signal_later, NULL));
	dl = utc_in(MS(5000));
	int r = thrd_success;
	while (!flag && r == thrd_success)
		r = cnd_timedwait(&flag_cv, &mu, &dl);
	CHECK_C11(r, thrd_success, "cnd_timedwait, signalled after 30 ms of 5 s -> thrd_success");
	CHECK(flag, "and it saw the flag set under the mutex");
	CHECK_C11(trylock_elsewhere(&mu), thrd_busy, "and the mutex is held again");
	mtx_unlock(&mu);
	MUST(thrd_join(s, &res));
	CHECK_C11(res, thrd_success, "the signaller's cnd_signal -> thrd_success");

	cnd_destroy(&not_full);
	cnd_destroy(&not_empty);
	cnd_destroy(&flag_cv);
	mtx_destroy(&mu);
	atomic_store(&ticker_stop, 1);
	MUST(thrd_join(tick, NULL));
	return check_done();
}
