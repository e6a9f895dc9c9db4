/* The child of fork() keeps a green runtime (fork.c).
 *
 * The child has one OS thread, running the green thread that called fork,
 * on its green stack. Every other green thread is gone: it is dropped from
 * every queue without running again, and a join or detach of it gets what
 * glibc's child gets for a thread that did not survive (0, return value
 * NULL). The event loop's kernel objects (epoll instance, timerfd, eventfds)
 * are shared with the parent through fork, so the child makes its own. This
 * runs as the first pthread_atfork child handler: after glibc's own reset,
 * before every handler of the program's, which thus find green threads,
 * sleeps and locks working. */
#ifndef GR_FORK_H
#define GR_FORK_H

#include <pthread.h>

/* Registers the child handler with glibc, once; the first registration of
 * all (the runtime's start, or the preloaded __register_atfork on the first
 * pthread_atfork of anyone) so that it comes first among child handlers. */
void gr_fork_init(void);

/* For _Fork, which runs no fork handlers: the child's runtime stands down
 * (every hook calls libc), and the runtime's OS threads are gone. */
void gr_fork_child_stands_down(void);

/* vfork: the child borrows the parent's memory, runtime included, until it
 * execs or exits, so the runtime is "inside" meanwhile and every hook in the
 * child calls libc (preload/proc.c). gr_vfork_enter, before the system
 * call, returns what gr_vfork_leave, in the parent after it, restores. */
int gr_vfork_enter(void);
void gr_vfork_leave(int was);

/* Whether this is a vfork child still borrowing its parent's memory, with
 * or without a runtime (before it starts, or on a foreign OS thread, the
 * hooks pass to libc anyway, but sigaction's table of handlers is the
 * parent's: a child resetting its handlers before exec, as CPython's
 * subprocess does, would drop the parent's). */
int gr_vfork_child(void);

/* What each part of the runtime forgets or remakes in the child; called in
 * this order by the child handler, with gr_rt.inside set. 0 or -errno. */
int gr_rt_after_fork_child(void); /* hub.c: loop, timerfd, queues, counters */
int gr_signal_after_fork(void);	  /* signal.c: the wake-up eventfd */
void gr_fd_after_fork(void);	  /* fdwait.c: per-fd polls, fds of the dead */
void gr_wait_after_fork(void);	  /* wait.c: every wait queue */
void gr_pool_after_fork(void);	  /* pool.c: jobs of the parent's */
void gr_stack_after_fork(void);	  /* stack.c: the preparer thread is gone */
void gr_once_after_fork(void);	  /* once.c: glibc's fork generation moved on */

#endif
