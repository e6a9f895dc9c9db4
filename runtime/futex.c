/* Raw futexes (syscall(SYS_futex, ...)), as Rust's std and other runtimes
 * use them, on the same wait queues as everything else; private and shared
 * futexes queue apart, as in the kernel. Supported: WAIT, WAKE,
 * WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP;
 * FUTEX_CLOCK_REALTIME. Other operations (PI futexes) answer ENOSYS rather
 * than block the OS thread.
 *
 * A shared futex may be another process's too: its green waiters also wait
 * in the kernel (kwait.h), and a green wake that finds fewer green waiters
 * than it may wake passes the rest on to the kernel. So does a private one
 * once foreign OS threads may use it (foreign.h). A requeue of such a futex
 * wakes the green waiters it would move (a spurious wake-up, which every
 * futex user allows): their kernel wait is on the first word. A WAKE_OP
 * changes the second word atomically whenever another thread may. */
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>

#include "foreign.h"
#include "kwait.h"
#include "lock.h"
#include "wait.h"

/* One wait of the green thread: in the kernel too when another process
 * or an OS thread of ours that is not green may wake the word (a foreign
 * thread's wake may well be a system call of its own, which no hook sees). */
static int wait_once(uint32_t *uaddr, const void *q, uint32_t val, uint32_t bitset, int shared,
		     int64_t deadline)
{
	if (shared || gr_foreign)
		return gr_kwait(uaddr, val, shared, q, bitset, GR_WAIT_FUTEX, uaddr, deadline);
	return gr_wait_addr(q, bitset, GR_WAIT_FUTEX, uaddr, deadline);
}

static long futex_wait(uint32_t *uaddr, const void *q, uint32_t val, const struct timespec *ts,
		       int absolute, clockid_t clk, uint32_t bitset, int shared)
{
	int64_t deadline = 0;
	int r;

	if (bitset == 0)
		return -EINVAL;
	if (ts && (ts->tv_nsec < 0 || ts->tv_nsec >= GR_NSEC || ts->tv_sec < 0))
		return -EINVAL;
	if (*(volatile uint32_t *)uaddr != val)
		return -EAGAIN;
	if (ts) {
		if (absolute) {
			struct gr_timeout to = {ts, clk, 0};
			r = gr_timeout_deadline(&to, &deadline);
			if (r < 0)
				return r;
		} else {
			deadline = gr_deadline_in(gr_ts_ns(ts));
		}
	}
	for (;;) {
		r = wait_once(uaddr, q, val, bitset, shared, deadline);
		if (r == GR_RECHECK)
			return 0; /* woken from elsewhere, or spuriously */
		/* A handler ran: the kernel restarts an untimed wait when every
		 * handler had SA_RESTART, and the restarted wait checks the
		 * word again. Timed waits fail with EINTR whatever the flags. */
		if (r != -EINTR || ts || !gr_rt.cur->sig_restart)
			break;
		if (*(volatile uint32_t *)uaddr != val)
			return -EAGAIN;
	}
	return r;
}

/* FUTEX_WAKE_OP: *uaddr2 = *uaddr2 OP oparg; wake val on uaddr; if the old
 * value CMP cmparg, wake val2 on uaddr2. */
/* Wakes up to n green waiters on q, then, when another thread or process
 * may wait on the word in the kernel, up to the rest there. */
static long wake(uint32_t *uaddr, const void *q, int n, uint32_t bitset, int atomic, int shared)
{
	long woken = gr_wake_addr(q, n, bitset);

	if (atomic && woken < n) {
		gr_kwait_forget(uaddr);
		long k = gr_futex_sys(uaddr,
				      bitset == GR_BITSET_ANY ? FUTEX_WAKE : FUTEX_WAKE_BITSET,
				      shared, (uint32_t)(n - woken), NULL, NULL, bitset);
		if (k > 0)
			woken += k;
	}
	return woken;
}

static long futex_wake_op(uint32_t *uaddr, const void *q, uint32_t val, uint32_t val2,
			  uint32_t *uaddr2, const void *q2, uint32_t val3, int atomic, int shared)
{
	unsigned op = (val3 >> 28) & 7, cmp = (val3 >> 24) & 15;
	uint32_t oparg = (val3 >> 12) & 0xfff, cmparg = val3 & 0xfff;
	uint32_t old = __atomic_load_n(uaddr2, __ATOMIC_RELAXED), now;
	long woken;
	int hit;

	if ((val3 >> 28) & FUTEX_OP_OPARG_SHIFT)
		oparg = 1u << (oparg & 31);
	do {
		switch (op) {
		case FUTEX_OP_SET: now = oparg; break;
		case FUTEX_OP_ADD: now = old + oparg; break;
		case FUTEX_OP_OR: now = old | oparg; break;
		case FUTEX_OP_ANDN: now = old & ~oparg; break;
		case FUTEX_OP_XOR: now = old ^ oparg; break;
		default: return -ENOSYS;
		}
		if (!atomic) {
			*uaddr2 = now;
			break;
		}
	} while (!__atomic_compare_exchange_n(uaddr2, &old, now, 1, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: hit = old == cmparg; break;
	case FUTEX_OP_CMP_NE: hit = old != cmparg; break;
	case FUTEX_OP_CMP_LT: hit = (int32_t)old < (int32_t)cmparg; break;
	case FUTEX_OP_CMP_LE: hit = (int32_t)old <= (int32_t)cmparg; break;
	case FUTEX_OP_CMP_GT: hit = (int32_t)old > (int32_t)cmparg; break;
	case FUTEX_OP_CMP_GE: hit = (int32_t)old >= (int32_t)cmparg; break;
	default: return -ENOSYS;
	}
	woken = wake(uaddr, q, (int)(val > INT_MAX ? INT_MAX : val), GR_BITSET_ANY, atomic, shared);
	if (hit)
		woken += wake(uaddr2, q2, (int)(val2 > INT_MAX ? INT_MAX : val2), GR_BITSET_ANY,
			      atomic, shared);
	return woken;
}

/* The queue a futex word waits in. */
static uint32_t *key(uint32_t *uaddr, int op)
{
	return (op & FUTEX_PRIVATE_FLAG) ? uaddr : (uint32_t *)((char *)uaddr + 1);
}

long gr_futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout,
	      uint32_t *uaddr2, uint32_t val3)
{
	int cmd = op & FUTEX_CMD_MASK;
	clockid_t clk = (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	int n = (int)(val > INT_MAX ? INT_MAX : val);
	/* REQUEUE and WAKE_OP pass a count, not a timeout, in this slot. */
	uint32_t val2 = (uint32_t)(uintptr_t)timeout;
	const void *q = key(uaddr, op);
	int shared = !(op & FUTEX_PRIVATE_FLAG);
	int atomic = shared || gr_foreign;
	long r;

	/* The kernel's answers: the clock flag only with WAIT_BITSET (and not
	 * with plain WAIT, whatever futex(2) says), an aligned word. */
	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	if (!uaddr)
		return -EFAULT;
	if ((uintptr_t)uaddr & 3)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAIT: return futex_wait(uaddr, q, val, timeout, 0, clk, GR_BITSET_ANY, shared);
	case FUTEX_WAIT_BITSET: return futex_wait(uaddr, q, val, timeout, 1, clk, val3, shared);
	case FUTEX_WAKE: return wake(uaddr, q, n, GR_BITSET_ANY, atomic, shared);
	case FUTEX_WAKE_BITSET:
		if (val3 == 0)
			return -EINVAL;
		return wake(uaddr, q, n, val3, atomic, shared);
	case FUTEX_CMP_REQUEUE:
		if (*(volatile uint32_t *)uaddr != val3)
			return -EAGAIN;
		/* fall through */
	case FUTEX_REQUEUE: {
		int nmove = (int)(val2 > INT_MAX ? INT_MAX : val2);
		int local = n > INT_MAX - nmove ? INT_MAX : n + nmove;
		if (atomic)
			r = gr_wake_addr(q, local, GR_BITSET_ANY);
		else
			r = gr_requeue_addr(q, key(uaddr2, op), n, nmove);
		if (atomic && r < local) {
			/* The kernel's waiters: what is left of both counts. */
			int kw = r < n ? n - (int)r : 0, km = local - (int)r - kw;
			gr_kwait_forget(uaddr);
			long k = gr_futex_sys(uaddr, cmd, shared, (uint32_t)kw,
					      (const void *)(uintptr_t)km, uaddr2, val3);
			if (k > 0)
				r += k;
		}
		return r;
	}
	case FUTEX_WAKE_OP:
		return futex_wake_op(uaddr, q, val, val2, uaddr2, key(uaddr2, op), val3, atomic,
				     shared);
	default: return -ENOSYS;
	}
}

void gr_futex_foreign_woke(uint32_t *uaddr, int op, uint32_t val, uint32_t *uaddr2)
{
	int n = (int)(val > INT_MAX ? INT_MAX : val);

	/* Green waiters of a shared futex wait in the kernel too. */
	if (!(op & FUTEX_PRIVATE_FLAG))
		return;
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET: gr_foreign_woke(key(uaddr, op), n); break;
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: gr_foreign_woke(key(uaddr, op), INT_MAX); break;
	case FUTEX_WAKE_OP:
		gr_foreign_woke(key(uaddr, op), n);
		gr_foreign_woke(key(uaddr2, op), INT_MAX);
		break;
	default: break;
	}
}
