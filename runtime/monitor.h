/* GREENIFY_MONITOR=MS: a watchdog that names what blocked every thread
 * (monitor.c).
 *
 * A watchdog OS thread of the runtime's own (every signal blocked, no
 * program code on it, no hooked call) looks at the switch counter every
 * eighth of MS. When one green thread has run MS without a switch while
 * other green threads exist, every other thread, timer and socket of the
 * process is waiting for it: a stall. The watchdog reads what the runtime
 * thread is doing from the kernel (/proc/self/task/TID/syscall: the system
 * call, its stack pointer and program counter; or "running") and keeps a
 * copy of the top of its stack: for a thread blocked in a system call it
 * copies it itself (process_vm_readv), for one that computes it asks the
 * runtime thread, with GR_SIG_OWN, to copy its own registers and stack in
 * the handler. When the stall ends the hub unwinds the copy (libdw, as for
 * a dump), names the frames and prints one line per stall site on stderr;
 * a site seen before is counted, not printed again, and GREENIFY_STATS
 * adds a summary of every site at exit. A stall that lasts ten times MS is
 * told once while it lasts, from the watchdog (a hang may never end). */
#ifndef GR_MONITOR_H
#define GR_MONITOR_H

#include <uv.h>

/* The hub's loop set-up, after the foreign threads' (the watchdog is the
 * runtime's own thread, not a foreign one): starts the watchdog when
 * GREENIFY_MONITOR is set. */
void gr_monitor_init(uv_loop_t *loop);

/* Called from the trampoline for GR_SIG_OWN sent with SI_QUEUE by this
 * process: 1 when mark is the monitor's (then consumed here), else 0. */
int gr_monitor_landed(const void *mark, void *uc);

/* At exit (stats.c's destructor, before the stats line): a stall still
 * going on ends here and is printed; with GREENIFY_STATS, the summary. */
void gr_monitor_exit(void);

/* In a fork child: the parent's watchdog is not here; the child gets its
 * own. */
void gr_monitor_fork_child(void);

#endif
