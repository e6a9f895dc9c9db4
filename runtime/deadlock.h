/* The deadlock report (deadlock.c), asked by the hub each time nothing is
 * runnable. */
#ifndef GR_DEADLOCK_H
#define GR_DEADLOCK_H

/* Nothing is runnable: if nothing pending (a deadline, an fd, a pool job, a
 * signal that a handler or a sigwait would take) can make a thread runnable
 * either, logs who waits for what, once per stall, and aborts with
 * GREENIFY_DEADLOCK=abort. */
void gr_deadlock_check(void);
/* A thread ran: the next stall is a new one. */
void gr_deadlock_reset(void);

#endif
