/* Hazard: a green futex table must answer raw futex calls as the kernel does
 * (Linux; results as -1 + errno through syscall()), and syscall() with any
 * other number must pass through untouched:
 *   FUTEX_WAIT when *uaddr != val -> EAGAIN at once (private and shared);
 *   FUTEX_WAIT's timeout is relative (MONOTONIC): 50 ms -> ETIMEDOUT after
 *     >= 50 ms; {0, 0} -> ETIMEDOUT at once; tv_nsec >= 1e9 or tv_sec < 0 ->
 *     EINVAL (even when the value differs: the timeout is checked first);
 *   FUTEX_WAIT_BITSET's timeout is an absolute deadline, on MONOTONIC, or
 *     REALTIME with FUTEX_CLOCK_REALTIME: ETIMEDOUT no earlier than it; a
 *     deadline in the past -> ETIMEDOUT at once; tv_sec < 0 -> EINVAL;
 *   bitset 0 -> EINVAL for WAIT_BITSET and WAKE_BITSET;
 *   a misaligned address -> EINVAL; NULL -> EFAULT; an unknown op -> ENOSYS;
 *   FUTEX_WAKE with nobody waiting -> 0, errno untouched;
 *   a woken waiter returns 0, and the wakes that woke someone add up to
 *     exactly the number of waiters, at most n per FUTEX_WAKE(n);
 *   FUTEX_WAKE_BITSET wakes only waiters whose bitset shares a bit: a waiter
 *     on bitset 1 sleeps through wakes on bitset 2 until its own deadline;
 *     plain FUTEX_WAKE wakes a bitset waiter;
 *   a private wake does not wake a shared (non-private) waiter on the same
 *     word: the kernel keys the two kinds apart;
 *   syscall(SYS_getpid) == getpid(); SYS_close(-1) -> EBADF; number 100000
 *     -> ENOSYS. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static long futex(void *addr, int op, unsigned val, const struct timespec *ts, unsigned bits)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, bits);
}

/* errno of a call that should fail, or its value when it did not. */
static int err_of(long rc)
{
	return rc == -1 ? errno : (int)rc;
}

/* ---- waiters woken by main ---- */
struct waiter {
	unsigned *word;
	int op;            /* FUTEX_WAIT... */
	unsigned bits;     /* for WAIT_BITSET */
	int64_t deadline_ms;
	atomic_int started, done;
	int result;        /* 0 or errno */
	int64_t waited_ns;
};

static void *wait_on(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts;
	int64_t t0 = mono_ns();
	long rc;

	atomic_store(&w->started, 1);
	if ((w->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) {
		ts = deadline_in(CLOCK_MONOTONIC, MS(w->deadline_ms));
		rc = futex(w->word, w->op, 0, &ts, w->bits);
	} else {
		ts = (struct timespec){ w->deadline_ms / 1000, (w->deadline_ms % 1000) * 1000000 };
		rc = futex(w->word, w->op, 0, &ts, 0);
	}
	w->result = err_of(rc);
	w->waited_ns = mono_ns() - t0;
	atomic_store(&w->done, 1);
	return NULL;
}

static void start(pthread_t *t, struct waiter *w)
{
	MUST(pthread_create(t, NULL, wait_on, w));
	while (!atomic_load(&w->started))
		sleep_ms(1);
	sleep_ms(20); /* let it get into the wait */
}

/* Repeat a wake every 5 ms until all the given waiters are done (or 3 s);
 * returns the sum of the wake results, and the largest single one. */
static long wake_until_done(unsigned *word, int op, unsigned n, unsigned bits, struct waiter **ws,
			    int count, long *max_one)
{
	long sum = 0;

	*max_one = 0;
	for (int64_t t0 = mono_ns(); mono_ns() - t0 < MS(3000); sleep_ms(5)) {
		int all = 1;
		long rc = futex(word, op, n, NULL, bits);

		if (rc > 0)
			sum += rc;
		if (rc > *max_one)
			*max_one = rc;
		for (int i = 0; i < count; i++)
			all &= atomic_load(&ws[i]->done);
		if (all)
			break;
	}
	return sum;
}

int main(void)
{
	unsigned word = 5;
	unsigned words[2] = { 0, 0 };
	struct timespec rel50 = { 0, 50 * 1000000 }, zero = { 0, 0 };
	struct timespec bad_nsec = { 0, 1000000000 }, neg_sec = { -1, 0 };
	struct timespec dl;
	int64_t t0;
	int saved_errno;
	long rc, max_one;

	alarm(20);

	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL, 0)), EAGAIN,
		  "FUTEX_WAIT_PRIVATE, value differs");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT, 4, NULL, 0)), EAGAIN, "FUTEX_WAIT, value differs");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 4, NULL, FUTEX_BITSET_MATCH_ANY)),
		  EAGAIN, "FUTEX_WAIT_BITSET_PRIVATE, value differs");

	t0 = mono_ns();
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_PRIVATE, 5, &rel50, 0)), ETIMEDOUT,
		  "FUTEX_WAIT_PRIVATE, relative 50 ms");
	CHECK(mono_ns() - t0 >= MS(50) && mono_ns() - t0 < MS(2000), "it waited >= 50 ms, < 2 s");
	t0 = mono_ns();
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT, 5, &rel50, 0)), ETIMEDOUT,
		  "FUTEX_WAIT (shared), relative 50 ms");
	CHECK(mono_ns() - t0 >= MS(50) && mono_ns() - t0 < MS(2000), "it waited >= 50 ms, < 2 s");
	t0 = mono_ns();
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_PRIVATE, 5, &zero, 0)), ETIMEDOUT,
		  "FUTEX_WAIT_PRIVATE, relative {0, 0}");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_PRIVATE, 5, &bad_nsec, 0)), EINVAL,
		  "FUTEX_WAIT_PRIVATE, tv_nsec 1e9");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_PRIVATE, 4, &bad_nsec, 0)), EINVAL,
		  "FUTEX_WAIT_PRIVATE, tv_nsec 1e9 and the value differs");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_PRIVATE, 5, &neg_sec, 0)), EINVAL,
		  "FUTEX_WAIT_PRIVATE, tv_sec -1");
	CHECK(mono_ns() - t0 < MS(1000), "those returned at once");

	dl = deadline_in(CLOCK_MONOTONIC, MS(50));
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &dl, FUTEX_BITSET_MATCH_ANY)),
		  ETIMEDOUT, "FUTEX_WAIT_BITSET_PRIVATE, MONOTONIC deadline in 50 ms");
	CHECK(clock_ns(CLOCK_MONOTONIC) >= ts_ns(&dl), "not before the deadline");
	dl = deadline_in(CLOCK_REALTIME, MS(50));
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 5, &dl, 1)), ETIMEDOUT,
		  "FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME (shared), REALTIME deadline in 50 ms");
	CHECK(clock_ns(CLOCK_REALTIME) >= ts_ns(&dl), "not before the deadline");
	t0 = mono_ns();
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &zero, 1)), ETIMEDOUT,
		  "FUTEX_WAIT_BITSET_PRIVATE, deadline {0, 0}");
	dl = deadline_in(CLOCK_MONOTONIC, -MS(1000));
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &dl, 1)), ETIMEDOUT,
		  "FUTEX_WAIT_BITSET_PRIVATE, deadline 1 s ago");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &neg_sec, 1)), EINVAL,
		  "FUTEX_WAIT_BITSET_PRIVATE, tv_sec -1");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, NULL, 0)), EINVAL,
		  "FUTEX_WAIT_BITSET_PRIVATE, bitset 0");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, 0)), EINVAL,
		  "FUTEX_WAKE_BITSET_PRIVATE, bitset 0");
	CHECK_ERR(err_of(futex((char *)&word + 1, FUTEX_WAIT_PRIVATE, 5, NULL, 0)), EINVAL,
		  "FUTEX_WAIT_PRIVATE, misaligned address");
	CHECK_ERR(err_of(futex((char *)&word + 2, FUTEX_WAKE_PRIVATE, 1, NULL, 0)), EINVAL,
		  "FUTEX_WAKE_PRIVATE, misaligned address");
	CHECK_ERR(err_of(futex(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, 0)), EFAULT,
		  "FUTEX_WAIT_PRIVATE, NULL address");
	CHECK_ERR(err_of(futex(&word, 99, 0, NULL, 0)), ENOSYS, "futex op 99");
	CHECK(mono_ns() - t0 < MS(1000), "those returned at once");

	errno = 4321;
	rc = futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
	saved_errno = errno;
	CHECK_ERR(err_of(rc), 0, "FUTEX_WAKE_PRIVATE, nobody waiting");
	CHECK(saved_errno == 4321, "errno untouched by a successful futex call");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAKE, INT_MAX, NULL, 0)), 0, "FUTEX_WAKE, nobody waiting");
	CHECK_ERR(err_of(futex(&word, FUTEX_WAKE_BITSET, 1, NULL, 3)), 0,
		  "FUTEX_WAKE_BITSET, nobody waiting");

	/* Three waiters, woken one FUTEX_WAKE(1) at a time. */
	{
		struct waiter w[3];
		struct waiter *ws[3] = { &w[0], &w[1], &w[2] };
		pthread_t t[3];
		int all_zero = 1;

		for (int i = 0; i < 3; i++) {
			w[i] = (struct waiter){ .word = &words[0], .op = FUTEX_WAIT_PRIVATE,
						.deadline_ms = 5000 };
			start(&t[i], &w[i]);
		}
		long sum = wake_until_done(&words[0], FUTEX_WAKE_PRIVATE, 1, 0, ws, 3, &max_one);
		for (int i = 0; i < 3; i++) {
			MUST(pthread_join(t[i], NULL));
			all_zero &= w[i].result == 0;
		}
		CHECK(all_zero, "3 waiters: each FUTEX_WAIT returned 0 when woken");
		CHECK(sum == 3, "the wakes woke exactly 3 (%ld)", sum);
		CHECK(max_one == 1, "FUTEX_WAKE(1) never woke more than 1");
	}

	/* Bitsets: 1 sleeps through wakes on 2; plain FUTEX_WAKE wakes 4. */
	{
		struct waiter a = { .word = &words[1], .op = FUTEX_WAIT_BITSET_PRIVATE, .bits = 1,
				    .deadline_ms = 400 };
		struct waiter b = { .word = &words[1], .op = FUTEX_WAIT_BITSET_PRIVATE, .bits = 2,
				    .deadline_ms = 5000 };
		struct waiter c = { .word = &words[1], .op = FUTEX_WAIT_BITSET_PRIVATE, .bits = 4,
				    .deadline_ms = 5000 };
		struct waiter *wb[1] = { &b }, *wc[1] = { &c };
		pthread_t ta, tb, tc;

		start(&ta, &a);
		start(&tb, &b);
		long sum = wake_until_done(&words[1], FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 2, wb, 1,
					   &max_one);
		MUST(pthread_join(tb, NULL));
		CHECK_ERR(b.result, 0, "bitset 2 waiter woken by WAKE_BITSET 2");
		CHECK(sum == 1, "WAKE_BITSET 2 woke exactly one waiter (%ld)", sum);
		MUST(pthread_join(ta, NULL));
		CHECK_ERR(a.result, ETIMEDOUT, "bitset 1 waiter slept through the wakes on bitset 2");
		CHECK(a.waited_ns >= MS(400), "until its own 400 ms deadline");
		start(&tc, &c);
		sum = wake_until_done(&words[1], FUTEX_WAKE_PRIVATE, 1, 0, wc, 1, &max_one);
		MUST(pthread_join(tc, NULL));
		CHECK_ERR(c.result, 0, "bitset 4 waiter woken by a plain FUTEX_WAKE");
		CHECK(sum == 1, "which woke exactly one (%ld)", sum);
	}

	/* A shared waiter is not woken by a private wake on the same word. */
	{
		struct waiter s = { .word = &words[0], .op = FUTEX_WAIT, .deadline_ms = 300 };
		pthread_t ts;
		long woken = 0;

		start(&ts, &s);
		for (int i = 0; i < 10 && !atomic_load(&s.done); i++, sleep_ms(5))
			woken += futex(&words[0], FUTEX_WAKE_PRIVATE, INT_MAX, NULL, 0);
		MUST(pthread_join(ts, NULL));
		CHECK(woken == 0, "FUTEX_WAKE_PRIVATE found no private waiter");
		CHECK_ERR(s.result, ETIMEDOUT, "the shared waiter slept on to its deadline");
	}

	CHECK(syscall(SYS_getpid) == getpid(), "syscall(SYS_getpid) passes through");
	CHECK_ERR(err_of(syscall(SYS_close, -1)), EBADF, "syscall(SYS_close, -1)");
	CHECK_ERR(err_of(syscall(100000)), ENOSYS, "syscall(100000)");
	return check_done();
}
