/* Wait queues keyed by address: the one place where green threads wait for
 * each other. Every lock, condition, semaphore, barrier, once and raw futex
 * parks here, with its state kept in the caller's object (glibc's own
 * layout where a static initializer or an object used before the runtime
 * started must keep working). Like the kernel's futex table, but a waiter
 * is its thread control block: no allocation to wait or to wake.
 *
 * The scheduler is cooperative and this runs on one OS thread, so "check
 * the value, then wait" needs no atomics: nothing runs in between. */
#ifndef GR_WAIT_H
#define GR_WAIT_H

#include <stdint.h>

#include "sched.h"

#define GR_BITSET_ANY 0xffffffffu
/* gr_wake_addr's n for "every waiter" (FUTEX_WAKE's INT_MAX). */
#define GR_WAKE_ALL 0x7fffffff

/* A wake-up result: nothing was handed over, look at the object again (a
 * foreign OS thread or another process changed it, see foreign.h and
 * kwait.h). Above every -errno and 0, which mean what each wait says. */
#define GR_RECHECK 1

/* Queues the current thread on addr and parks it until gr_wake_addr() (0),
 * its deadline (-ETIMEDOUT; 0 waits forever), another wake-up result, or
 * a signal handler ran in it (-EINTR): then nothing was handed to it, and
 * the caller re-checks its object and waits again, or fails with EINTR,
 * as the call does natively. */
int gr_wait_addr(const void *addr, uint32_t bitset, enum gr_wait why, void *obj, int64_t deadline);
/* Wakes up to n threads waiting on addr whose bitset meets bitset, in
 * queue order (the highest real-time priority first, then the oldest),
 * with result 0. Returns how many woke. */
int gr_wake_addr(const void *addr, int n, uint32_t bitset);
/* The same, with result as their wake-up result. */
int gr_wake_addr_result(const void *addr, int n, uint32_t bitset, int result);
/* Moves up to n waiters from addr to to, after waking up to nwake
 * (FUTEX_CMP_REQUEUE without the compare). Returns woken + moved. */
int gr_requeue_addr(const void *addr, const void *to, int nwake, int nmove);
/* Takes a parked thread off the wait queue it is on, if any. */
void gr_wait_cancel(struct gr_thread *t);
/* Takes t, which waits on some address, off its queue and wakes it with
 * result. */
void gr_wake_waiter(struct gr_thread *t, int result);
/* Wakes the first waiter on addr (highest priority, then oldest) with result and returns it (NULL
 * if none); *more says whether others still wait on addr. */
struct gr_thread *gr_wake_first(const void *addr, int result, int *more);
/* The first waiter on addr (as gr_wake_first's), or NULL. */
struct gr_thread *gr_first_waiter(const void *addr);

#endif
