/* OS threads greenify did not make green (foreign.c): glibc's timer
 * helper of timer_create(SIGEV_THREAD), mq_notify's thread, a thread of a
 * library's own made with clone, a thread a foreign thread created. Their
 * hooks call glibc, which keeps its own protocol on the object's words, and
 * green threads must interoperate with them on private objects too.
 *
 * Private objects (the default) have two ways of working:
 *   fast    while no foreign thread ever touched a lock, condition,
 *           semaphore, barrier or futex: plain loads and stores, hand-over
 *           to the first green waiter, as one OS thread allows;
 *   atomic  once one may have (gr_foreign): every change of a word another
 *           OS thread may change too is atomic and in glibc's protocol, a
 *           green waker issues a real FUTEX_WAKE where glibc's protocol
 *           says a kernel waiter may sleep, and green waiters learn of
 *           foreign wakes one of two ways: those of semaphores,
 *           conditions and mutexes a green thread holds stay on the green
 *           queue, and a foreign waker's hook tells the loop which object
 *           it woke (gr_foreign_woke); those of mutexes a foreign thread
 *           holds, of rwlocks and of raw futexes also wait in the kernel
 *           (kwait.h), where glibc's own wakes, or a system call no hook
 *           sees, reach them.
 * Process-shared objects always work the atomic way, with green waiters
 * also waiting in the kernel (kwait.h).
 *
 * Why the switch is safe (the rule: a private object is touched only by
 * green threads until the switch, and by anyone after). It happens on the
 * runtime thread, at one of two moments. Before the foreign thread exists:
 * the program calls clone() (or the clone system calls through syscall()),
 * or the runtime starts in a process that already has other OS threads
 * (glibc's timer thread of a timer made before the first pthread_create).
 * Or, for a foreign thread not seen being made (the thread glibc starts
 * for a SIGEV_THREAD timer or mq_notify after the start, one made with an
 * inline clone system call), at its first hooked lock call, which waits in
 * gr_foreign_enter until the hub has switched: in the hub every green
 * thread is switched out, and no plain update of a word is ever half done
 * across a switch. From then on every green operation, which reads
 * gr_foreign as it starts, is atomic, and every waiter that parked the
 * plain way is woken to look again (GR_RECHECK), the atomic way; the
 * foreign thread touches the object only after it has seen the switch. A
 * foreign thread that wakes a raw futex with its own system call before
 * any hooked call, having been made by an inline clone, is the one case
 * this does not cover. The runtime's own OS threads (libuv's pool, the
 * helpers) touch only objects green threads never touch, and do not count;
 * they are marked as they start (gr_foreign_own_start). But for one
 * thing: a pool thread running a job runs the program's code (a name
 * lookup calls the program's malloc, whose mutex green threads take too),
 * and counts as foreign for the job's length (pool.c); the worker threads
 * (worker.c), which only run such calls, are never marked. Private barriers
 * stay the plain way: foreign threads must not wait at one with green
 * threads (process-shared barriers work, barrier_shared.c).
 */
#ifndef GR_FOREIGN_H
#define GR_FOREIGN_H

#include <limits.h>

#include <uv.h>

/* 1 once a foreign OS thread may touch private objects (set once, never
 * cleared: a fork child keeps it, harmlessly). */
extern int gr_foreign __attribute__((visibility("hidden"))); /* no GOT load on the fast paths */

/* Green threads now parked on private objects in the atomic way: a foreign
 * waker tells the loop only while there are some. Changed with sequentially
 * consistent atomics, as a waiter re-checks its object after counting
 * itself (and a waker counts after changing the object). */
extern int gr_foreign_parked __attribute__((visibility("hidden")));

/* The calling OS thread is one the runtime made for itself (libuv's pool,
 * the futex helpers), running none of the program's code (a pool thread
 * clears it while it runs a job). */
extern __thread int gr_tls_own_thread __attribute__((tls_model("initial-exec")));

/* For a hook running on a thread that is not green: whether it is a
 * foreign thread of a started runtime, which must use gr_foreign_enter
 * and gr_foreign_woke around its call of glibc. */
static inline int gr_foreign_thread(void)
{
	extern int gr_foreign_live;
	extern __thread int gr_tls_runtime __attribute__((tls_model("initial-exec")));
	/* The runtime thread's hooks pass to glibc only while the runtime
	 * itself runs (or the process exits): objects of its own. */
	return __builtin_expect(gr_foreign_live, 0) && !gr_tls_runtime && !gr_tls_own_thread;
}

/* On the runtime thread: from now on private objects work the atomic way. */
void gr_foreign_on(void);

/* On a foreign thread, before it touches a private object: makes sure the
 * process works the atomic way (the first time, waits until the runtime has
 * switched). */
void gr_foreign_enter(void);

/* On a foreign thread, after a call of glibc that may have woken green
 * waiters of the object whose wait queue is key (a mutex's lock word, a
 * condition, a semaphore...): wakes up to n of them (INT_MAX: all) with
 * GR_RECHECK, through the loop. */
void gr_foreign_woke(const void *key, int n);

/* Runtime start (sched.c), on the runtime thread: the loop's wake-up for
 * foreign threads; the process may already have other OS threads. 0 or
 * -errno. */
int gr_foreign_init(uv_loop_t *loop);

/* Runtime start, last, together with marking the thread as the runtime's:
 * from now on a hook on an OS thread that is neither the runtime's nor
 * one of its own is a foreign thread's. Not before: the start itself
 * calls malloc, and a program's malloc may take a pthread mutex (jemalloc),
 * which must not wait for a hub that cannot run yet. */
void gr_foreign_go_live(void);

/* For an OS thread the runtime (libuv) starts: *start and *arg become a
 * trampoline that marks the thread as the runtime's own first. 0, or
 * -ENOMEM (then they are left as they were). */
int gr_foreign_own_start(void *(**start)(void *), void **arg);
void gr_foreign_after_fork(void);

#endif
