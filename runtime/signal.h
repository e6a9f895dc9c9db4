/* Signals of the program, delivered to green threads.
 *
 * signal.c: handlers. A handler cannot run whenever the kernel interrupts
 * the runtime thread: it could land in the middle of a queue update, or in
 * the event loop, and the green thread it is meant for may be parked. So
 * the program's handlers are installed behind a trampoline: once the
 * runtime runs, the trampoline only notes the signal and wakes the loop;
 * the handler runs at the next safe point, in the target green thread: the
 * thread pthread_kill named, the thread whose write raised a SIGPIPE or
 * SIGXFSZ, or for a signal sent to the process, main if it does not block
 * it (the kernel's first choice too), else the oldest thread that does
 * not. A parked target is woken: a semaphore wait, a futex wait without
 * SA_RESTART and a sleep then fail with EINTR as they do natively; mutex,
 * condition, rwlock, barrier and join waits go back to waiting; a call on
 * a worker thread (worker.h) is interrupted there first, and its handlers
 * run once it is back. A fault
 * (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS raised by an
 * instruction) runs its handler at once, on the faulting stack, and so
 * does a signal the thread sends itself with tgkill inside libc (abort),
 * or sends its process with kill, pidfd_send_signal or sigqueue when the
 * kernel would give it to that thread (sigcall.c tells such a frame).
 *
 * Delivery (gr_signal_deliver) is the kernel's: the lowest pending signal
 * first (faults before the rest), its handler's mask applied, then every
 * signal that mask still lets through gets its frame on top and runs
 * first; a handler that raises or unblocks another signal runs it nested.
 * Each handler gets a siginfo and a ucontext (the interrupted point's when
 * the kernel's frame is at hand, else this point's registers), whose
 * uc_sigmask is the thread's mask before the handler and gives the mask
 * after it (sigreturn). A handler may leave with longjmp or siglongjmp
 * (gr_signal_escape): the waits it interrupted are abandoned cleanly.
 *
 * sigmask.c: every green thread has its own signal mask. The OS thread's
 * real mask is their intersection, so a signal that some green thread
 * accepts still reaches the trampoline, and one that every thread blocks
 * stays pending in the kernel until a thread unblocks it.
 *
 * sigwait.c: sigsuspend, and sigwait and its variants, park only the
 * calling green thread.
 *
 * Signal sets are uint64_t: signal sig is bit sig - 1, as in the first word
 * of the kernel's sigset (Linux has 64 signals on x86_64 and aarch64). */
#ifndef GR_SIGNAL_H
#define GR_SIGNAL_H

#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "sched.h"

#define GR_NSIG 65 /* signals are 1 .. GR_NSIG - 1 */

#define GR_SIGBIT(sig) ((uint64_t)1 << ((sig)-1))

/* What no mask can block: the kernel drops SIGKILL and SIGSTOP from every
 * mask, glibc drops its own SIGCANCEL and SIGSETXID (32, 33). */
#define GR_SIG_UNBLOCKABLE (GR_SIGBIT(SIGKILL) | GR_SIGBIT(SIGSTOP) | GR_SIGBIT(32) | GR_SIGBIT(33))

/* The signals of a sigset_t: its first word, all the kernel reads. */
static inline uint64_t gr_sigset_bits(const sigset_t *s)
{
	uint64_t b;

	memcpy(&b, s, sizeof(b));
	return b;
}

/* Writes a set into a sigset_t the way the kernel does: its first word
 * only, leaving the rest of the caller's object as it was. */
static inline void gr_sigset_put(sigset_t *s, uint64_t b)
{
	memcpy(s, &b, sizeof(b));
}

/* ---- Handlers and delivery (signal.c) ---- */

/* The program's view of sigaction(): installs act behind the trampoline
 * (or as is, for SIG_DFL, SIG_IGN and synchronous fault signals). Setting
 * a signal to be ignored discards its pending instances, as the kernel
 * does. Returns 0 or -errno. */
int gr_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* Whether sig has a handler of the program's behind the trampoline. */
int gr_signal_has_handler(int sig);

/* Whether a signal could still make a parked thread runnable: a handler
 * is installed, or a thread waits in sigwait (for the deadlock report). */
int gr_signal_can_wake(void);

/* Directs sig (1 .. GR_NSIG - 1) at green thread t, as pthread_kill,
 * raise and pthread_sigqueue do, with the siginfo the handler or sigwait
 * will see. Returns 1 when the runtime took it: t blocks it (it stays
 * pending on t until t unblocks it or waits for it), or it has a handler
 * behind the trampoline (t runs it at its next safe point, at once if t is
 * the caller). Returns 0 when the caller must send it to the OS thread: no
 * handler of ours, and t accepts it, so the kernel's action (default or
 * ignore) applies at once, as natively. */
int gr_signal_send(struct gr_thread *t, int sig, const siginfo_t *info);

/* Hands signals that arrived to their threads; the scheduler calls it at
 * safe points when gr_rt.sig_pending is set. */
void gr_signal_dispatch(void);

/* One level of delivery (gr_signal_deliver), in its frame on the thread's
 * stack: the wait the signals interrupted, put aside while the handlers
 * run (the thread then looks as if it ran program code, and may wait
 * itself), and given back when they return. */
struct gr_sig_level {
	struct gr_sig_level *prev; /* the level whose handler this one runs in */
	void *wait_obj;		   /* the interrupted wait's wait_obj */
	uint64_t sigwait_set;	   /* the signals that wait takes (a sigwait) */
	int wake_result;	   /* its result so far */
	int ran;		   /* handlers run at this level */
	unsigned char wait;	   /* its enum gr_wait */
	unsigned char interrupted; /* and the thread's flags then */
	unsigned char cancel_point;
	unsigned char restart; /* every handler run had SA_RESTART */
};

/* Runs the current thread's pending handlers that its mask lets through,
 * as the kernel delivers them on the way back to user code (signal.c's
 * header says in which order), at a safe point of that thread: a hooked
 * call, a switch back to it, or (uc not NULL) a kernel signal frame whose
 * interrupted context uc is, which the handlers then see and may change.
 * uc's uc_sigmask holds the OS thread's mask again when this returns.
 * Afterwards gr_rt.cur->sig_restart says whether every handler had
 * SA_RESTART (an interrupted call restarts) and its wake_result is the
 * interrupted wait's. Returns how many handlers ran. Runs none in a
 * thread parked for a call on a worker (GR_WAIT_WORK): they wait until
 * the call is back (worker.c runs them then). */
int gr_signal_deliver(void *uc);

/* gr_signal_deliver(NULL). */
int gr_signal_run(void);

/* A handler of the current thread leaves by longjmp for the frame whose
 * stack pointer is sp: the levels below it are left, and the waits they
 * interrupted abandoned (their queues, fds and counts let go). */
void gr_signal_escape(uintptr_t sp);

/* Dispatches what arrived, then runs the current thread's deliverable
 * handlers; returns how many ran. A wait with a signal mask of its own
 * (ppoll, pselect, epoll_pwait) ends with EINTR when this is not 0. */
int gr_signal_interrupted(void);

/* Sets up the eventfd the trampoline wakes the loop with, and the main
 * thread's mask. */
int gr_signal_init(uv_loop_t *loop);

/* ---- The runtime's own signal (signal.c) ----
 *
 * The runtime signals OS threads of its own with GR_SIG_OWN, SIGURG: a
 * worker whose call a handler or a cancellation must end (worker.c).
 * SIGURG's default action is to ignore it, so the runtime can stand in for
 * the kernel whatever the program does with it, and the real-time signals
 * stay the program's (SIGRTMIN and SIGRTMAX as glibc gives them). Ours are
 * sent with gr_signal_send_own: si_code SI_QUEUE, this process's pid, and
 * as si_value a mark, the address of a constant of the module that sends
 * it; the trampoline hands each to its module (own_signal in signal.c asks
 * each in turn), which consumes it. Any other SIGURG is the program's: its
 * handler runs in a green thread like any other's (also when the kernel
 * gave the signal to a worker, the one thread of ours that takes SIGURG,
 * while in its call), and without one it is ignored, or stays pending while
 * every thread blocks it, as natively. */
#define GR_SIG_OWN SIGURG

/* Makes the kernel's action for GR_SIG_OWN the trampoline for good (later
 * calls do nothing): SA_SIGINFO and SA_NODEFER with an empty mask, and no
 * SA_RESTART whatever the program sets, so that a call one of ours
 * interrupts ends with EINTR. What the program set (found in the kernel
 * the first time, if set behind our back) is kept here: sigaction reports
 * it, and its handler's SA_RESTART decides, as any handler's, whether a
 * green call restarts. 0 or -errno. */
int gr_signal_take_own(void);

/* 1 while the kernel blocks GR_SIG_OWN for a handler of it that the
 * runtime thread runs (the mask before it did not): a switch to another
 * green thread first lifts it (gr_signal_own_release), so that thread can
 * be preempted and take the program's SIGURG. */
extern int gr_own_held;
void gr_signal_own_release(void);

/* Whether system call nr can end with EINTR natively (signal.c). */
int gr_signal_may_fail(long nr);

/* Sends GR_SIG_OWN marked with mark to OS thread tid of this process
 * (rt_tgsigqueueinfo). 0 or -errno. */
int gr_signal_send_own(pid_t tid, const void *mark);

/* Internal to signal*.c: process-directed signals that every thread
 * blocked when they were dispatched (taken by the first thread to unblock
 * or wait for one), and the siginfo of a signal delivered by the runtime. */
uint64_t gr_signal_process_pending(void);
void gr_signal_take_process(uint64_t bits);
void gr_signal_info(int sig, siginfo_t *info);
/* A signal the kernel queued for the OS thread that sigmask.c took back,
 * or for a worker making t's call (worker.c): pending on t
 * (thread-directed; NULL: t is gone, it ends with it), or noted for the
 * process as if it had just arrived. */
void gr_signal_requeue(struct gr_thread *t, const siginfo_t *info, int thread_directed);
/* Whether a SIGPIPE/SIGXFSZ with this siginfo was raised by the kernel
 * for a call of the running thread (not sent by kill and its kin). */
int gr_signal_is_own_kernel(const siginfo_t *info);
/* Whether the signal frame's context uc stopped at the return of a system
 * call that sent sig to the process and succeeded: kill,
 * pidfd_send_signal or rt_sigqueueinfo with sig as its signal argument
 * (sigcall.c). */
int gr_sigcall_sent(const void *uc, int sig);
/* The context that the code a signal frame interrupted returns to: uc's,
 * or, where uc stopped at entry, the first instruction of a handler whose
 * frame the kernel had just set up beneath it, that frame's, and so on
 * down (sigcall.c). */
const void *gr_sigcall_below(const void *uc, const void *entry);
/* kill(), killpg() and sigqueue() of the process's own are in flight:
 * what arrives meanwhile is the process's. */
void gr_signal_sending(int on);

/* Whether t takes sig's bit now: it does not block it, or it is parked in
 * sigwait for it (which takes it without running the handler). */
static inline int gr_signal_accepts(const struct gr_thread *t, uint64_t bit)
{
	return !(t->sig_mask & bit) ||
	       (t->wait == GR_WAIT_SIGNAL && t->wait_obj && (*(const uint64_t *)t->wait_obj & bit));
}

/* ---- Masks (sigmask.c) ---- */

/* pthread_sigmask for the current thread: how is SIG_BLOCK, SIG_UNBLOCK or
 * SIG_SETMASK (checked only when set is given, as the kernel does); *old
 * gets the mask before. Pending signals it unblocks run their handlers
 * before it returns. Returns 0 or -EINVAL. */
int gr_sigmask(int how, const uint64_t *set, uint64_t *old);

/* Sets t's mask (t is the current thread or one just created): keeps the
 * OS thread's mask the intersection of all, with a system call only when
 * that changes, and hands t the process-pending signals it unblocks. Runs
 * nothing. */
void gr_sigmask_set(struct gr_thread *t, uint64_t mask);

/* The mask of a wait (ppoll, pselect, epoll_pwait, sigsuspend): applied
 * for its duration and returned with what it replaced, which
 * gr_sigmask_leave puts back before running what that mask lets through. */
uint64_t gr_sigmask_enter(uint64_t mask);
void gr_sigmask_leave(uint64_t old);

/* sigpending for the current thread: its pending signals and the
 * process's (runtime's and kernel's), those its mask blocks. */
uint64_t gr_sigpending(void);

/* Thread lifecycle: a new thread inherits its creator's mask (gr_rt.cur),
 * an exiting one stops counting (call both after gr_rt.live changed). */
void gr_signal_thread_created(struct gr_thread *t);
void gr_signal_thread_exited(struct gr_thread *t);

/* In the child of fork: the OS thread takes the forking thread's mask, as
 * a native child takes its one thread's, and the per-thread masks'
 * bookkeeping starts again from that thread alone. */
void gr_signal_forked(void);

/* For the ucontext switch, which loads the mask saved in the context it
 * resumes: makes that the OS thread's mask as it is now. */
void gr_signal_carry_mask(ucontext_t *uc);

/* Writes the OS thread's mask as kept here into a signal frame's context
 * (a ucontext_t), which sigreturn restores. */
void gr_sigmask_to_frame(void *uc);

/* Sets the OS thread's mask to what is kept here again, after code that
 * set it behind our back (setcontext from a handler). */
void gr_sigmask_resync(void);

/* Sets the OS thread's mask again after what it may block changed
 * (sud.c turning dispatch on or off: SIGSYS). */
void gr_sigmask_reapply(void);

/* The OS thread's mask as kept here. */
uint64_t gr_sigmask_os(void);

/* SIGSYS while sud.c dispatches system calls: the program's action for it
 * is kept from cur on (the kernel's action stays sud.c's), and a SIGSYS
 * that is no dispatched call goes where that action says. */
void gr_signal_take_sys(const struct sigaction *cur);
void gr_signal_sys_other(siginfo_t *info, void *uc);

/* The signals whose kernel instances are thread-directed: a write's
 * SIGPIPE, a file size limit's SIGXFSZ. The kernel queues them for the OS
 * thread that made the call, so while the green threads' masks differ on
 * them the OS thread blocks them exactly when the running green thread
 * does, and a switch away from one that blocked them takes what the kernel
 * queued meanwhile for that thread (gr_sigmask_switch). */
#define GR_SIG_THREAD_DIRECTED (GR_SIGBIT(SIGPIPE) | GR_SIGBIT(SIGXFSZ))
extern int gr_sigmask_split; /* the live threads' masks differ on those */
void gr_sigmask_switch(struct gr_thread *next);

int gr_sigmask_init(void);

/* ---- Waiting for signals (sigwait.c) ---- */

/* sigsuspend: parks with mask until a handler has run. Returns -EINTR. */
int gr_sigsuspend(uint64_t mask);

/* sigtimedwait: takes a pending signal of set (the thread's, the
 * process's, then the kernel's), parking until one comes or deadline
 * (monotonic ns; 0: none; -1: do not wait). Returns the signal number with
 * *info filled (may be NULL), -EAGAIN when the deadline passed, or -EINTR
 * when a handler of another signal ran. */
int gr_sigwait(uint64_t set, int64_t deadline, siginfo_t *info);

/* Whether a thread is parked in sigwait. */
int gr_sigwait_parked(void);

/* A sigwait for set was left by a handler's longjmp: it waits no more. */
void gr_sigwait_abandoned(uint64_t set);

/* sigqueue.c: the instances of a real-time signal sent to the process
 * that wait for their turn (one pending per thread at a time). push: 0,
 * -1 for a standard signal, -2 when full (dropped); pop: 1 and *info, or
 * 0. */
int gr_sigqueue_push(int sig, const siginfo_t *info);
int gr_sigqueue_pop(int sig, siginfo_t *info);
int gr_sigqueue_has(int sig);
void gr_sigqueue_flush(int sig);
void gr_sigqueue_reset(void);
/* A thread took sig (its handler, a sigwait): the next queued instance,
 * if any, is dispatched. */
void gr_signal_consumed(int sig);

#endif
