/* Hazard: rwlock error numbers and time-outs, with the owner known per thread
 * (glibc records the writer's kernel tid, which all green threads share).
 * glibc 2.36 checks, in this order:
 *   timed/clock variants: a clock other than REALTIME/MONOTONIC or tv_nsec
 *     outside [0, 1e9) -> EINVAL, even when the lock is free (and then it is
 *     not taken; unlike mutexes, whose bad tv_nsec only counts if they
 *     would block);
 *   the caller holds the write lock: wrlock, rdlock and their timed/clock
 *     variants -> EDEADLK; trywrlock/tryrdlock -> EBUSY;
 *   another thread holds the write lock: tryrdlock/trywrlock -> EBUSY,
 *     timed/clock rd/wr -> ETIMEDOUT no earlier than the deadline, on
 *     REALTIME and MONOTONIC; a past deadline (tv_sec < 0 too) -> ETIMEDOUT;
 *   readers hold it: trywrlock -> EBUSY, timedwrlock -> ETIMEDOUT,
 *     tryrdlock -> 0 (and the same thread may read-lock twice);
 *   released before the deadline -> 0;
 *   kinds: with PREFER_WRITER_NONRECURSIVE a waiting writer blocks new
 *     readers (tryrdlock EBUSY, timedrdlock ETIMEDOUT); with PREFER_READER
 *     (the default) and PREFER_WRITER (which glibc treats as PREFER_READER)
 *     a new reader still gets in;
 *   rwlockattr_setkind_np 3 or -1 -> EINVAL, setpshared 2 -> EINVAL,
 *     getkind_np returns what was set (default PREFER_READER). */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

/* ---- another thread holds the lock (write or read) until released ---- */
static atomic_int held, release;
static int64_t released_at;
static int hold_write;
static int64_t hold_extra_ms;

static void *holder(void *arg)
{
	(void)arg;
	MUST(hold_write ? pthread_rwlock_wrlock(&rw) : pthread_rwlock_rdlock(&rw));
	atomic_store(&held, 1);
	while (!atomic_load(&release))
		sleep_ms(1);
	sleep_ms(hold_extra_ms);
	released_at = mono_ns();
	MUST(pthread_rwlock_unlock(&rw));
	return NULL;
}

static pthread_t start_holder(int write, int64_t extra_ms)
{
	pthread_t t;

	atomic_store(&held, 0);
	atomic_store(&release, 0);
	hold_write = write;
	hold_extra_ms = extra_ms;
	MUST(pthread_create(&t, NULL, holder, NULL));
	while (!atomic_load(&held))
		sleep_ms(1);
	return t;
}

enum op { RD_TIMED, WR_TIMED, RD_CLOCK, WR_CLOCK };
static const char *const op_name[] = { "timedrdlock", "timedwrlock", "clockrdlock", "clockwrlock" };

static int timed(enum op op, clockid_t clk, const struct timespec *dl)
{
	switch (op) {
	case RD_TIMED:
		return pthread_rwlock_timedrdlock(&rw, dl);
	case WR_TIMED:
		return pthread_rwlock_timedwrlock(&rw, dl);
	case RD_CLOCK:
		return pthread_rwlock_clockrdlock(&rw, clk, dl);
	default:
		return pthread_rwlock_clockwrlock(&rw, clk, dl);
	}
}

static void times_out(const char *who, enum op op, clockid_t clk)
{
	struct timespec dl = deadline_in(clk, MS(50));
	int64_t t0 = mono_ns();
	const char *cn = clk == CLOCK_MONOTONIC ? "MONOTONIC" : "REALTIME";

	CHECK_ERR(timed(op, clk, &dl), ETIMEDOUT, "%s: %s on %s, 50 ms", who, op_name[op], cn);
	CHECK(clock_ns(clk) >= ts_ns(&dl) && mono_ns() - t0 < MS(2000),
	      "%s: %s on %s: not before the deadline, within 2 s", who, op_name[op], cn);
}

static void released_in_time(enum op op, clockid_t clk)
{
	pthread_t t = start_holder(1, 60);
	struct timespec dl = deadline_in(clk, MS(5000));
	int64_t t0 = mono_ns();
	int rc;

	atomic_store(&release, 1);
	rc = timed(op, clk, &dl);
	CHECK_ERR(rc, 0, "%s, 5 s, writer unlocks after 60 ms", op_name[op]);
	CHECK(mono_ns() >= released_at && mono_ns() - t0 < MS(4000),
	      "%s: got it at the writer's unlock", op_name[op]);
	MUST(pthread_rwlock_unlock(&rw));
	MUST(pthread_join(t, NULL));
}

/* ---- kinds: does a waiting writer block new readers? ---- */
struct kind_probe {
	pthread_rwlock_t *l;
	atomic_int reading, release;
};

static void *hold_read(void *arg)
{
	struct kind_probe *k = arg;

	MUST(pthread_rwlock_rdlock(k->l));
	atomic_store(&k->reading, 1);
	while (!atomic_load(&k->release))
		sleep_ms(1);
	MUST(pthread_rwlock_unlock(k->l));
	return NULL;
}

static void *want_write(void *arg)
{
	struct kind_probe *k = arg;

	MUST(pthread_rwlock_wrlock(k->l));
	MUST(pthread_rwlock_unlock(k->l));
	return NULL;
}

static void kind(int kind_np, const char *name, int writer_blocks_readers)
{
	pthread_rwlockattr_t a;
	pthread_rwlock_t l;
	struct kind_probe k = { .l = &l };
	pthread_t r, w;
	int rc = 0;

	MUST(pthread_rwlockattr_init(&a));
	MUST(pthread_rwlockattr_setkind_np(&a, kind_np));
	MUST(pthread_rwlock_init(&l, &a));
	MUST(pthread_rwlockattr_destroy(&a));

	MUST(pthread_create(&r, NULL, hold_read, &k));
	while (!atomic_load(&k.reading))
		sleep_ms(1);
	MUST(pthread_create(&w, NULL, want_write, &k));
	if (writer_blocks_readers) {
		/* Once the writer waits, new readers are turned away. */
		for (int64_t t0 = mono_ns(); mono_ns() - t0 < MS(3000); sleep_ms(1)) {
			rc = pthread_rwlock_tryrdlock(&l);
			if (rc != 0)
				break;
			MUST(pthread_rwlock_unlock(&l));
		}
		CHECK_ERR(rc, EBUSY, "%s: tryrdlock while a writer waits", name);
		struct timespec dl = deadline_in(CLOCK_MONOTONIC, MS(30));
		CHECK_ERR(pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &dl), ETIMEDOUT,
			  "%s: clockrdlock while a writer waits", name);
	} else {
		sleep_ms(100); /* the writer is waiting by now */
		CHECK_ERR(pthread_rwlock_tryrdlock(&l), 0, "%s: tryrdlock while a writer waits", name);
		MUST(pthread_rwlock_unlock(&l));
		struct timespec dl = deadline_in(CLOCK_MONOTONIC, MS(30));
		CHECK_ERR(pthread_rwlock_clockrdlock(&l, CLOCK_MONOTONIC, &dl), 0,
			  "%s: clockrdlock while a writer waits", name);
		MUST(pthread_rwlock_unlock(&l));
	}
	atomic_store(&k.release, 1);
	MUST(pthread_join(r, NULL));
	MUST(pthread_join(w, NULL));
	CHECK_ERR(pthread_rwlock_trywrlock(&l), 0, "%s: the writer got it and let go", name);
	MUST(pthread_rwlock_unlock(&l));
	MUST(pthread_rwlock_destroy(&l));
}

int main(void)
{
	struct timespec bad_nsec = { 0, 1000000000 }, neg_nsec = { 0, -1 };
	struct timespec zero = { 0, 0 }, neg_sec = { -1, 0 };
	struct timespec far = deadline_in(CLOCK_MONOTONIC, MS(5000));
	pthread_rwlockattr_t a;
	pthread_t t;
	int v = -1;
	int64_t t0;

	alarm(20);

	/* Free lock: argument checks come first and take nothing. */
	CHECK_ERR(pthread_rwlock_timedrdlock(&rw, &bad_nsec), EINVAL, "free: timedrdlock tv_nsec 1e9");
	CHECK_ERR(pthread_rwlock_timedwrlock(&rw, &neg_nsec), EINVAL, "free: timedwrlock tv_nsec -1");
	CHECK_ERR(pthread_rwlock_clockrdlock(&rw, CLOCK_PROCESS_CPUTIME_ID, &far), EINVAL,
		  "free: clockrdlock on CPUTIME");
	CHECK_ERR(pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC_RAW, &far), EINVAL,
		  "free: clockwrlock on MONOTONIC_RAW");
	CHECK_ERR(pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &bad_nsec), EINVAL,
		  "free: clockwrlock tv_nsec 1e9");
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), 0, "free: none of those took it");
	MUST(pthread_rwlock_unlock(&rw));
	CHECK_ERR(pthread_rwlock_timedwrlock(&rw, &neg_sec), 0, "free: timedwrlock, past deadline");
	MUST(pthread_rwlock_unlock(&rw));

	/* main writes. */
	MUST(pthread_rwlock_wrlock(&rw));
	t0 = mono_ns();
	CHECK_ERR(pthread_rwlock_wrlock(&rw), EDEADLK, "writer: wrlock again");
	CHECK_ERR(pthread_rwlock_rdlock(&rw), EDEADLK, "writer: rdlock");
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), EBUSY, "writer: trywrlock");
	CHECK_ERR(pthread_rwlock_tryrdlock(&rw), EBUSY, "writer: tryrdlock");
	CHECK_ERR(pthread_rwlock_timedwrlock(&rw, &zero), EDEADLK, "writer: timedwrlock {0, 0}");
	CHECK_ERR(pthread_rwlock_timedrdlock(&rw, &neg_sec), EDEADLK, "writer: timedrdlock {-1, 0}");
	CHECK_ERR(pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &far), EDEADLK,
		  "writer: clockwrlock");
	CHECK_ERR(pthread_rwlock_timedrdlock(&rw, &bad_nsec), EINVAL,
		  "writer: timedrdlock tv_nsec 1e9 (checked before EDEADLK)");
	CHECK(mono_ns() - t0 < MS(1000), "writer: all returned at once");
	MUST(pthread_rwlock_unlock(&rw));

	/* main reads, twice. */
	CHECK_ERR(pthread_rwlock_rdlock(&rw), 0, "reader: rdlock");
	CHECK_ERR(pthread_rwlock_tryrdlock(&rw), 0, "reader: tryrdlock, read-locked twice");
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), EBUSY, "reader: trywrlock");
	times_out("reader", WR_TIMED, CLOCK_REALTIME);
	times_out("reader", WR_CLOCK, CLOCK_MONOTONIC);
	CHECK_ERR(pthread_rwlock_unlock(&rw), 0, "reader: unlock once");
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), EBUSY, "reader: still read-locked once");
	CHECK_ERR(pthread_rwlock_unlock(&rw), 0, "reader: unlock twice");

	/* Another thread writes. */
	t = start_holder(1, 0);
	CHECK_ERR(pthread_rwlock_tryrdlock(&rw), EBUSY, "other writer: tryrdlock");
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), EBUSY, "other writer: trywrlock");
	CHECK_ERR(pthread_rwlock_timedrdlock(&rw, &zero), ETIMEDOUT, "other writer: timedrdlock {0, 0}");
	CHECK_ERR(pthread_rwlock_timedwrlock(&rw, &neg_sec), ETIMEDOUT,
		  "other writer: timedwrlock {-1, 0}");
	times_out("other writer", RD_TIMED, CLOCK_REALTIME);
	times_out("other writer", WR_TIMED, CLOCK_REALTIME);
	times_out("other writer", RD_CLOCK, CLOCK_MONOTONIC);
	times_out("other writer", WR_CLOCK, CLOCK_MONOTONIC);
	times_out("other writer", RD_CLOCK, CLOCK_REALTIME);
	times_out("other writer", WR_CLOCK, CLOCK_REALTIME);
	atomic_store(&release, 1);
	MUST(pthread_join(t, NULL));

	/* Another thread reads. */
	t = start_holder(0, 0);
	CHECK_ERR(pthread_rwlock_trywrlock(&rw), EBUSY, "other reader: trywrlock");
	times_out("other reader", WR_CLOCK, CLOCK_MONOTONIC);
	CHECK_ERR(pthread_rwlock_tryrdlock(&rw), 0, "other reader: tryrdlock");
	MUST(pthread_rwlock_unlock(&rw));
	atomic_store(&release, 1);
	MUST(pthread_join(t, NULL));

	released_in_time(RD_TIMED, CLOCK_REALTIME);
	released_in_time(WR_TIMED, CLOCK_REALTIME);
	released_in_time(RD_CLOCK, CLOCK_MONOTONIC);
	released_in_time(WR_CLOCK, CLOCK_MONOTONIC);

	/* Attributes and kinds. */
	MUST(pthread_rwlockattr_init(&a));
	CHECK(pthread_rwlockattr_getkind_np(&a, &v) == 0 && v == PTHREAD_RWLOCK_PREFER_READER_NP,
	      "rwlockattr: default kind PREFER_READER");
	CHECK_ERR(pthread_rwlockattr_setkind_np(&a, 3), EINVAL, "rwlockattr: setkind 3");
	CHECK_ERR(pthread_rwlockattr_setkind_np(&a, -1), EINVAL, "rwlockattr: setkind -1");
	CHECK_ERR(pthread_rwlockattr_setpshared(&a, 2), EINVAL, "rwlockattr: setpshared 2");
	CHECK_ERR(pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), 0,
		  "rwlockattr: setkind PREFER_WRITER_NONRECURSIVE");
	CHECK(pthread_rwlockattr_getkind_np(&a, &v) == 0 &&
		      v == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP,
	      "rwlockattr: getkind gives it");
	MUST(pthread_rwlockattr_destroy(&a));
	kind(PTHREAD_RWLOCK_PREFER_READER_NP, "PREFER_READER", 0);
	kind(PTHREAD_RWLOCK_PREFER_WRITER_NP, "PREFER_WRITER", 0);
	kind(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, "PREFER_WRITER_NONRECURSIVE", 1);
	return check_done();
}
