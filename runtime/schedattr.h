/* Scheduling attributes of green threads (schedattr.c): each green thread
 * has its own policy and priority, which pthread_create (inherited from
 * the creator, or the attr's with PTHREAD_EXPLICIT_SCHED), the
 * pthread_*sched* calls and sched_setscheduler and friends on its id set
 * and report, with the kernel's answers (EINVAL, EPERM). The scheduler
 * (sched.c) runs a runnable real-time thread (SCHED_FIFO, SCHED_RR) before
 * any other, the highest priority first; SCHED_OTHER, SCHED_BATCH and
 * SCHED_IDLE threads share the plain FIFO run queue. The OS thread keeps
 * its own policy: the kernel sees one thread. */
#ifndef GR_SCHEDATTR_H
#define GR_SCHEDATTR_H

#include "thread.h"

#define GR_RT_PRIOS 100 /* real-time priorities 1..99 */

/* At start-up: main takes the OS thread's policy and priority. */
void gr_schedattr_init(struct gr_thread *main_thread);
/* Whether a thread whose policy and priority are cur_policy, cur_prio may
 * be given policy and prio, as the kernel's sched_setscheduler decides for
 * an unprivileged caller (CAP_SYS_NICE, RLIMIT_RTPRIO): 0, -EINVAL or
 * -EPERM. policy may carry SCHED_RESET_ON_FORK. */
int gr_schedattr_check(int cur_policy, int cur_prio, int policy, int prio);
/* Checks and sets t's policy and priority; a runnable t moves to its new
 * place in the run queue. 0, -EINVAL or -EPERM. */
int gr_schedattr_set(struct gr_thread *t, int policy, int prio);
/* t's policy and priority. */
void gr_schedattr_get(const struct gr_thread *t, int *policy, int *prio);
/* The round-robin time slice (sched_rr_get_interval), in ns. */
int64_t gr_schedattr_rr_slice(void);

#endif
