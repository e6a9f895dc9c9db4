/* Thread-local storage of a green thread's own (GREENIFY_TLS=private).
 *
 * Each green thread gets what glibc gives a new thread: a thread control
 * block (glibc's struct pthread) with the static TLS of every module below
 * it, allocated and initialised by the dynamic linker's own TLS code
 * (_dl_allocate_tls), placed at the top of the thread's stack slot as glibc
 * places it at the top of a thread stack. The context switch loads the
 * block's address as the thread pointer, so __thread variables, errno,
 * C++ thread_local, the C++ exception stack and glibc's per-thread state
 * (locale, resolver, dlerror, thread_local destructor list) are per green
 * thread. What must match the one OS thread is copied into each block from
 * the runtime thread's: the stack-protector and pointer guards, the tid
 * (raise, abort and recursive locks use it), and glibc's malloc cache and
 * arena pointers, so that all green threads share the OS thread's malloc
 * cache instead of each leaving one behind (glibc frees a thread's cache
 * only when a real thread exits, which a green thread never is). */
#ifndef GR_TLS_H
#define GR_TLS_H

#include <stddef.h>

/* Whether green threads get TLS of their own (set by gr_tls_init). */
extern int gr_tls_private;

/* Finds what private TLS needs in the C library and checks it on the
 * calling (runtime) thread. 0, or -ENOTSUP (then TLS stays shared; the
 * reason is logged). */
int gr_tls_init(void);

/* Bytes a stack slot gives up at its top for a control block and TLS. */
size_t gr_tls_room(void);

/* Builds a control block and static TLS just below hi. Returns the thread
 * pointer and sets *lo to the lowest byte used (the stack goes below), or
 * NULL when the dynamic linker has no memory for the block's DTV. */
void *gr_tls_make(char *hi, char **lo);

/* Frees what gr_tls_make allocated besides the block itself: the DTV and
 * the TLS of modules loaded later (dlopen). */
void gr_tls_free(void *tp);

/* Sets up what glibc sets up in a new thread before its function runs
 * (the <ctype.h> table pointers); called first thing in a green thread. */
void gr_tls_thread_start(void);

/* Runs the calling green thread's C++ thread_local destructors
 * (__cxa_thread_atexit_impl), as glibc does first when a thread exits. */
void gr_tls_thread_exit(void);

/* Where a green thread's TLS lies relative to its control block (every
 * block is built the same way below it), and the lines of it a thread
 * reads as soon as it runs: set by gr_tls_init. */
extern size_t gr_tls_delta;
extern ptrdiff_t gr_tls_hot[3];

static inline void gr_tls_prefetch(const void *thread)
{
	const char *tp = (const char *)thread - gr_tls_delta;

	__builtin_prefetch(tp + gr_tls_hot[0]);
	__builtin_prefetch(tp + gr_tls_hot[1]);
	__builtin_prefetch(tp + gr_tls_hot[2]);
}

/* In a fork child: the OS thread's block gets the child's tid. */
void gr_tls_after_fork(void);

/* The runtime thread's own thread pointer (main's and the hub's). */
void *gr_tls_base(void);

#endif
