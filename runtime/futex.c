/* Raw futexes (syscall(SYS_futex, ...)), as Rust's std and other runtimes
 * use them, on the same wait queues as everything else. Private and shared
 * futexes are the same here: every green thread is in this process (a
 * futex shared with another process cannot be woken from there; README).
 * Supported: WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE,
 * WAKE_OP; FUTEX_CLOCK_REALTIME. Other operations (PI futexes) answer
 * ENOSYS rather than block the OS thread. */
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>

#include "lock.h"
#include "wait.h"

static long futex_wait(uint32_t *uaddr, const void *q, uint32_t val, const struct timespec *ts,
		       int absolute, clockid_t clk, uint32_t bitset)
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
		r = gr_wait_addr(q, bitset, GR_WAIT_FUTEX, uaddr, deadline);
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
static long futex_wake_op(const void *q, uint32_t val, uint32_t val2, uint32_t *uaddr2,
			  const void *q2, uint32_t val3)
{
	unsigned op = (val3 >> 28) & 7, cmp = (val3 >> 24) & 15;
	uint32_t oparg = (val3 >> 12) & 0xfff, cmparg = val3 & 0xfff;
	uint32_t old = *uaddr2;
	long woken;
	int hit;

	if ((val3 >> 28) & FUTEX_OP_OPARG_SHIFT)
		oparg = 1u << (oparg & 31);
	switch (op) {
	case FUTEX_OP_SET: *uaddr2 = oparg; break;
	case FUTEX_OP_ADD: *uaddr2 = old + oparg; break;
	case FUTEX_OP_OR: *uaddr2 = old | oparg; break;
	case FUTEX_OP_ANDN: *uaddr2 = old & ~oparg; break;
	case FUTEX_OP_XOR: *uaddr2 = old ^ oparg; break;
	default: return -ENOSYS;
	}
	switch (cmp) {
	case FUTEX_OP_CMP_EQ: hit = old == cmparg; break;
	case FUTEX_OP_CMP_NE: hit = old != cmparg; break;
	case FUTEX_OP_CMP_LT: hit = (int32_t)old < (int32_t)cmparg; break;
	case FUTEX_OP_CMP_LE: hit = (int32_t)old <= (int32_t)cmparg; break;
	case FUTEX_OP_CMP_GT: hit = (int32_t)old > (int32_t)cmparg; break;
	case FUTEX_OP_CMP_GE: hit = (int32_t)old >= (int32_t)cmparg; break;
	default: return -ENOSYS;
	}
	woken = gr_wake_addr(q, (int)(val > INT_MAX ? INT_MAX : val), GR_BITSET_ANY);
	if (hit)
		woken += gr_wake_addr(q2, (int)(val2 > INT_MAX ? INT_MAX : val2), GR_BITSET_ANY);
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

	/* The kernel's answers: the clock flag only with WAIT_BITSET (and not
	 * with plain WAIT, whatever futex(2) says), an aligned word. */
	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_WAIT_BITSET)
		return -ENOSYS;
	if (!uaddr)
		return -EFAULT;
	if ((uintptr_t)uaddr & 3)
		return -EINVAL;
	switch (cmd) {
	case FUTEX_WAIT: return futex_wait(uaddr, q, val, timeout, 0, clk, GR_BITSET_ANY);
	case FUTEX_WAIT_BITSET: return futex_wait(uaddr, q, val, timeout, 1, clk, val3);
	case FUTEX_WAKE: return gr_wake_addr(q, n, GR_BITSET_ANY);
	case FUTEX_WAKE_BITSET:
		if (val3 == 0)
			return -EINVAL;
		return gr_wake_addr(q, n, val3);
	case FUTEX_CMP_REQUEUE:
		if (*(volatile uint32_t *)uaddr != val3)
			return -EAGAIN;
		/* fall through */
	case FUTEX_REQUEUE:
		return gr_requeue_addr(q, key(uaddr2, op), n,
				       (int)(val2 > INT_MAX ? INT_MAX : val2));
	case FUTEX_WAKE_OP: return futex_wake_op(q, val, val2, uaddr2, key(uaddr2, op), val3);
	default: return -ENOSYS;
	}
}
