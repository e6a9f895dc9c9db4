/* Signal handlers of the program, delivered to green threads (signal.c).
 *
 * A handler cannot run whenever the kernel interrupts the runtime thread:
 * it could land in the middle of a queue update, or in the event loop, and
 * the green thread it is meant for may be parked. So the program's handlers
 * are installed behind a trampoline: once the runtime runs, the trampoline
 * only notes the signal and wakes the loop; the handler runs at the next
 * safe point, in the target green thread: the thread pthread_kill named, or
 * for a signal sent to the process, main (the kernel's choice for a
 * process-directed signal when main does not block it), else the oldest
 * thread. A parked target is woken: a semaphore wait, a futex wait without
 * SA_RESTART and a sleep then fail with EINTR as they do natively; mutex,
 * condition, rwlock, barrier and join waits go back to waiting. */
#ifndef GR_SIGNAL_H
#define GR_SIGNAL_H

#include <signal.h>

#include "sched.h"

/* The program's view of sigaction(): installs act behind the trampoline
 * (or as is, for SIG_DFL, SIG_IGN and synchronous fault signals). Returns
 * 0 or -errno. */
int gr_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* Whether sig has a handler of the program's behind the trampoline, and
 * whether any signal has. */
int gr_signal_has_handler(int sig);
int gr_signal_any_handler(void);

/* Directs sig at green thread t (pthread_kill): t runs the handler at its
 * next safe point, at once if t is the caller. */
void gr_signal_thread(struct gr_thread *t, int sig);

/* Hands signals that arrived to their threads; the scheduler calls it at
 * safe points when gr_rt.sig_pending is set. */
void gr_signal_dispatch(void);

/* Runs the current thread's pending handlers (it must be at a safe point). */
void gr_signal_run(void);

/* Sets up the eventfd the trampoline wakes the loop with. */
int gr_signal_init(uv_loop_t *loop);

#endif
