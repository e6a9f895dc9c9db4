/* Non-local jumps out of signal handlers (sigjmp.c).
 *
 * A handler that ran in a green thread may leave with longjmp or
 * siglongjmp instead of returning. The waits it interrupted are then
 * abandoned (signal.c, gr_signal_escape) and, for a jmp_buf that saved
 * the signal mask, the green thread's mask at sigsetjmp comes back, as
 * glibc's siglongjmp restores a thread's mask natively. glibc saves and
 * restores the OS thread's mask with its internal sigprocmask, out of
 * reach; so sigsetjmp records the green mask too, in words of the saved
 * sigset_t the kernel's 64 signals leave alone, and longjmp writes the OS
 * thread's mask as kept here over glibc's copy before glibc restores it.
 * To know which handlers a jump leaves, the target's stack pointer is read
 * from the jmp_buf: glibc keeps it mangled with the pointer guard, which
 * is found once by mangling known stack pointers with the real _setjmp. */
#ifndef GR_SIGJMP_H
#define GR_SIGJMP_H

#include <setjmp.h>

/* Before glibc's __sigsetjmp(env, savemask) in a green thread. */
void gr_sigjmp_note(struct __jmp_buf_tag *env, int savemask);

/* Before glibc's longjmp or siglongjmp to env, in a green thread: leaves
 * the handler levels below the target and, if env saved a mask, makes it
 * the thread's (running the handlers of pending signals it unblocks, as
 * the kernel does on the way out of glibc's sigprocmask). */
void gr_sigjmp_leave(struct __jmp_buf_tag *env);

#endif
