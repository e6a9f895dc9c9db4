/* The deadlock report (deadlock.c), asked by the hub each time nothing is
 * runnable. */
#ifndef GR_DEADLOCK_H
#define GR_DEADLOCK_H

#include <stddef.h>

/* Nothing is runnable: if nothing pending (a deadline, an fd, a pool job, a
 * signal that a handler or a sigwait would take) can make a thread runnable
 * either, logs who waits for what, once per stall, and aborts with
 * GREENIFY_DEADLOCK=abort. */
void gr_deadlock_check(void);
/* A thread ran: the next stall is a new one. */
void gr_deadlock_reset(void);

struct gr_thread;
/* What holds the mutex, rwlock or FILE lock t waits for, as the report says
 * it (" held by thread 3 "name"", " held by 2 readers", " held by a thread
 * that has finished"), into buf; "" for another wait or no holder. The
 * dump (dump.c) says the same. */
void gr_deadlock_holder(const struct gr_thread *t, char *buf, size_t cap);

#endif
