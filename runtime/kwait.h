/* Kernel-visible waits (kwait.c): a green thread that waits for a futex
 * word another process, or an OS thread greenify did not make green, may
 * change and wake with FUTEX_WAKE. The thread parks on its wait queue as
 * every green waiter does (so a green waker of its own process wakes it
 * directly), and a helper OS thread of the runtime waits in the kernel on
 * its behalf, with futex_waitv on the words of up to 127 such waiters at a
 * time, and wakes the loop when one may have changed. Only the waiting
 * green thread parks; the others go on running. */
#ifndef GR_KWAIT_H
#define GR_KWAIT_H

#include <stdint.h>

#include "sched.h"

/* Parks the current thread until one of: a FUTEX_WAKE on uaddr (shared: a
 * shared futex, else a private one) from any thread or process, or a
 * change of *uaddr away from val (GR_RECHECK: the caller looks at its
 * object again; this may also happen for no reason, as futex waits may),
 * a green wake-up on key (gr_wake_addr and the others of wait.h, which pass
 * their own result), its deadline (-ETIMEDOUT; 0 waits forever) or a signal
 * handler that ran in it (-EINTR). -EAGAIN at once when *uaddr is not val. */
int gr_kwait(uint32_t *uaddr, uint32_t val, int shared, const void *key, uint32_t bitset,
	     enum gr_wait why, void *obj, int64_t deadline);

/* FUTEX_WAKE of up to n kernel waiters on uaddr (an OS thread of this or
 * another process, or a helper waiting for a green thread). Returns how
 * many woke, or -errno. */
long gr_futex_wake(uint32_t *uaddr, int n, int shared);

/* A system call of the futex family on a shared or private word, with the
 * flag set as the caller says: for FUTEX_WAIT (which blocks the OS thread,
 * only when the word is held by another OS thread for an instant), REQUEUE
 * and WAKE_OP. Returns what the system call does, or -errno. */
long gr_futex_sys(uint32_t *uaddr, int op, int shared, uint32_t val, const void *timeout,
		  uint32_t *uaddr2, uint32_t val3);

/* Before a wake of uaddr whose count the caller reports (a raw futex's):
 * the helpers stop waiting on it for green threads already woken, so that
 * the kernel counts only the waiters it really wakes. Waits a moment for
 * the helpers to look again, if one of them waits on the word. */
void gr_kwait_forget(const uint32_t *uaddr);

/* The hub, with nothing runnable: when the loop has nothing to watch but
 * the timers (no fd, no pool job, no sigwait), it waits on the words of the
 * kernel-visible waiters itself, until deadline (0: none), a signal, or a
 * report of the helpers' or foreign threads' (gr_hub_poke). Saves the
 * helper's hop and the loop's wake-up on every wait for another process.
 * 0 if it did not wait (then the caller calls gr_kwait_before_loop and
 * blocks in the loop); 1 if it waited and the loop may have news (run it
 * without blocking); 2 if only green waiters were woken. */
int gr_kwait_idle(int64_t deadline);
/* Before the loop blocks: helpers told of the waiters taken since. */
void gr_kwait_before_loop(void);
/* A visit of the hub between threads: waiters whose word changed wake. */
void gr_kwait_check(void);
/* Ends the hub's own wait of gr_kwait_idle (any thread, after it has
 * queued its news for the loop). */
void gr_hub_poke(void);

/* Green threads in gr_kwait now: another process or OS thread may wake
 * them, so their waits are no deadlock (sched.c). */
extern unsigned gr_kwaiters;

/* Kernel waits on the waiters' words (GREENIFY_STATS kwaits=HUB/HELPER):
 * futex_waitv calls the hub made itself (gr_kwait_idle), and those the
 * helpers made with a waiter's word in the vector (each costs a wake-up of
 * the helper and of the loop when it fires). */
struct gr_kwait_stats {
	uint64_t hub;	 /* runtime thread only */
	uint64_t helper; /* helpers, atomically */
};
extern struct gr_kwait_stats gr_kwait_stats;

/* Fork child (fork.c): the helpers are gone, and so are the waiters. */
void gr_kwait_after_fork(void);

#endif
