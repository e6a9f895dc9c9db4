/* run-also: disable */
/* Hazard: C11 mutexes are glibc's pthread mutexes, but glibc's mtx_*
 * functions call its pthread functions inside libc, where no pthread hook
 * sees them: a green thread in mtx_lock or mtx_timedlock must park, not
 * block the OS thread, while the holder is another green thread (else the
 * holder never runs again: a hang, which the alarm turns into a failure);
 * and the results are C11's, as glibc maps them:
 *   mtx_init of mtx_plain, mtx_timed, mtx_plain | mtx_recursive and
 *     mtx_timed | mtx_recursive -> thrd_success;
 *   a holder in another thread keeps a plain mutex for 100 ms: mtx_lock
 *     waits for it (thrd_success), and a ticker thread keeps ticking
 *     meanwhile (only the waiter parked);
 *   mtx_trylock of a mutex another thread holds -> thrd_busy, as is a plain
 *     mutex's trylock by its own holder (not recursive);
 *   mtx_timedlock with the peer holding it: 60 ms -> thrd_timedout, no
 *     earlier than the TIME_UTC deadline, the ticker ticking meanwhile; a
 *     deadline in the past -> thrd_timedout; a bad tv_nsec -> thrd_error
 *     when it must wait, thrd_success on a free mutex (as glibc looks at the
 *     time only when it waits); released before the deadline ->
 *     thrd_success;
 *   a recursive mutex: its owner locks it three times and trylocks it a
 *     fourth (thrd_success each); another thread's trylock -> thrd_busy
 *     until the fourth unlock, then thrd_success;
 *   mtx_unlock -> thrd_success. */
#define _GNU_SOURCE
#include <unistd.h>

#include "c11.h"

/* The holder: locks m, says so, keeps it until told, then unlocks after
 * delay_ms and reports its unlock's result. */
static mtx_t *held;
static atomic_int locked, release;
static int64_t hold_ms;

static int holder(void *arg)
{
	(void)arg;
	if (mtx_lock(held) != thrd_success)
		return -1;
	atomic_store(&locked, 1);
	while (!atomic_load(&release))
		sleep_ms(1);
	sleep_ms(hold_ms);
	return mtx_unlock(held);
}

static thrd_t start_holder(mtx_t *m, int64_t delay_ms)
{
	thrd_t t;

	held = m;
	hold_ms = delay_ms;
	atomic_store(&locked, 0);
	atomic_store(&release, 0);
	MUST(thrd_create(&t, holder, NULL));
	while (!atomic_load(&locked))
		sleep_ms(1);
	return t;
}

static void end_holder(thrd_t t, const char *what)
{
	int res = -2;

	atomic_store(&release, 1);
	MUST(thrd_join(t, &res));
	CHECK_C11(res, thrd_success, "%s: the holder's mtx_unlock -> thrd_success", what);
}

int main(void)
{
	static const struct {
		int type;
		const char *name;
	} types[] = {
		{ mtx_plain, "mtx_plain" },
		{ mtx_timed, "mtx_timed" },
		{ mtx_plain | mtx_recursive, "mtx_plain | mtx_recursive" },
		{ mtx_timed | mtx_recursive, "mtx_timed | mtx_recursive" },
	};
	mtx_t m[4], plain;
	thrd_t tick, h;

	alarm(20);
	for (int i = 0; i < 4; i++)
		CHECK_C11(mtx_init(&m[i], types[i].type), thrd_success, "mtx_init(%s) -> thrd_success",
			  types[i].name);
	MUST(thrd_create(&tick, ticker, NULL));

	/* mtx_lock waits for the peer, the ticker ticks meanwhile. */
	for (int i = 0; i < 2; i++) {
		h = start_holder(&m[i], 100);
		CHECK_C11(mtx_trylock(&m[i]), thrd_busy, "%s held by another thread: trylock -> thrd_busy",
			  types[i].name);
		int t0 = atomic_load(&ticks);
		int64_t w0 = mono_ns();
		atomic_store(&release, 1);
		CHECK_C11(mtx_lock(&m[i]), thrd_success, "%s: mtx_lock waits for the holder",
			  types[i].name);
		int64_t waited = mono_ns() - w0;
		CHECK(waited >= MS(90), "%s: it waited the holder's 100 ms", types[i].name);
		CHECK(atomic_load(&ticks) > t0, "%s: the ticker ran while mtx_lock waited",
		      types[i].name);
		fprintf(stderr, "%s: waited %lld ms, %d ticks\n", types[i].name,
			(long long)(waited / 1000000), atomic_load(&ticks) - t0);
		CHECK_C11(mtx_trylock(&m[i]), thrd_busy, "%s: its own holder's trylock -> thrd_busy",
			  types[i].name);
		CHECK_C11(trylock_elsewhere(&m[i]), thrd_busy,
			  "%s: another thread's trylock -> thrd_busy", types[i].name);
		CHECK_C11(mtx_unlock(&m[i]), thrd_success, "%s: mtx_unlock -> thrd_success",
			  types[i].name);
		int res = -2;
		MUST(thrd_join(h, &res));
		CHECK_C11(res, thrd_success, "%s: the holder's mtx_unlock -> thrd_success",
			  types[i].name);
		CHECK_C11(trylock_elsewhere(&m[i]), thrd_success,
			  "%s: free again: another thread's trylock -> thrd_success", types[i].name);
	}

	/* mtx_timedlock against a holder that does not let go. */
	MUST(mtx_init(&plain, mtx_timed));
	h = start_holder(&plain, 0);
	struct timespec dl = utc_in(MS(60));
	int t0 = atomic_load(&ticks);
	CHECK_C11(mtx_timedlock(&plain, &dl), thrd_timedout,
		  "timedlock, peer holds it, 60 ms -> thrd_timedout");
	CHECK(utc_ns() >= ts_ns(&dl), "timedlock: returned no earlier than the deadline");
	CHECK(atomic_load(&ticks) > t0, "timedlock: the ticker ran while it waited");
	dl = utc_in(-MS(10));
	CHECK_C11(mtx_timedlock(&plain, &dl), thrd_timedout,
		  "timedlock, deadline past -> thrd_timedout");
	dl = (struct timespec){ .tv_sec = -1, .tv_nsec = 0 };
	CHECK_C11(mtx_timedlock(&plain, &dl), thrd_timedout,
		  "timedlock, tv_sec -1 -> thrd_timedout");
	dl = utc_in(MS(60));
	dl.tv_nsec = 1000000000;
	CHECK_C11(mtx_timedlock(&plain, &dl), thrd_error,
		  "timedlock, must wait, tv_nsec 1e9 -> thrd_error");
	end_holder(h, "timedlock");
	CHECK_C11(mtx_timedlock(&plain, &dl), thrd_success,
		  "timedlock, free, tv_nsec 1e9 -> thrd_success (not looked at)");
	CHECK_C11(mtx_unlock(&plain), thrd_success, "timedlock: mtx_unlock -> thrd_success");

	h = start_holder(&plain, 30);
	atomic_store(&release, 1);
	dl = utc_in(MS(5000));
	CHECK_C11(mtx_timedlock(&plain, &dl), thrd_success,
		  "timedlock, released after 30 ms of 5 s -> thrd_success");
	CHECK_C11(mtx_unlock(&plain), thrd_success, "and mtx_unlock -> thrd_success");
	int res = -2;
	MUST(thrd_join(h, &res));
	mtx_destroy(&plain);

	/* Recursive: counted per owner, busy for others until the last unlock. */
	for (int i = 2; i < 4; i++) {
		int ok = 1;
		for (int k = 0; k < 3; k++)
			ok &= mtx_lock(&m[i]) == thrd_success;
		CHECK(ok, "%s: its owner locks it three times", types[i].name);
		CHECK_C11(mtx_trylock(&m[i]), thrd_success, "%s: and trylocks it a fourth time",
			  types[i].name);
		for (int k = 0; k < 4; k++) {
			CHECK_C11(trylock_elsewhere(&m[i]), thrd_busy,
				  "%s: %d deep: another thread's trylock -> thrd_busy", types[i].name,
				  4 - k);
			CHECK_C11(mtx_unlock(&m[i]), thrd_success, "%s: unlock -> thrd_success",
				  types[i].name);
		}
		CHECK_C11(trylock_elsewhere(&m[i]), thrd_success,
			  "%s: all unlocked: another thread's trylock -> thrd_success", types[i].name);
	}
	/* A recursive mutex held by a peer: mtx_lock waits for it too. */
	h = start_holder(&m[3], 50);
	atomic_store(&release, 1);
	t0 = atomic_load(&ticks);
	CHECK_C11(mtx_lock(&m[3]), thrd_success, "recursive, peer holds it: mtx_lock waits");
	CHECK(atomic_load(&ticks) > t0, "recursive: the ticker ran while it waited");
	CHECK_C11(mtx_unlock(&m[3]), thrd_success, "recursive: mtx_unlock -> thrd_success");
	MUST(thrd_join(h, &res));

	for (int i = 0; i < 4; i++)
		mtx_destroy(&m[i]);
	atomic_store(&ticker_stop, 1);
	MUST(thrd_join(tick, NULL));
	return check_done();
}
