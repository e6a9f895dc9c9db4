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

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

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
 * the TLS of modules loaded later (dlopen), and clears what the thread
 * wrote for the slot's next one: cold_dirty when a forced unwind
 * (pthread_exit, cancellation) wrote struct pthread's cold end. */
void gr_tls_free(void *tp, int cold_dirty);

/* The CPU the OS thread runs on, from its rseq area (sched_getcpu with TLS
 * of its own), or -ENOSYS when only the kernel can tell. */
int gr_tls_cpu(void);

/* glibc's pthread_create, for an OS thread of the runtime's own (or one
 * the runtime thread makes for the program): 0 or -errno. glibc gives the
 * new thread an rseq registration when its creator's rseq area says it
 * has one, and aborts when that registration then fails; a green block's
 * area says what the block holds (-1, or 0 where it lies in struct
 * pthread's untouched cold end), so the OS thread's state is lent to it
 * for the call. */
int gr_tls_os_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			    void *arg);

/* The same, for an OS thread of the runtime's own that runs none of the
 * program's code and of glibc's only system calls and formatting (never
 * malloc, nor a lock: glibc's mutexes skip the lock while it counts the
 * process as single-threaded): the process stays single-threaded for glibc (malloc
 * takes no arena locks; the next OS thread runs glibc's first-thread
 * set-up) and, if no green thread was made yet, for every other module.
 * The first OS thread that may run more (libuv's pool, a glibc helper
 * thread) makes it multi-threaded again in glibc's pthread_create. */
int gr_tls_quiet_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			       void *arg);

/* Starts a detached OS thread of the runtime's own with a stack of stack
 * bytes, every signal blocked (they are the program's), named name (or
 * not, NULL), through gr_tls_quiet_thread_create when is_quiet, else
 * gr_tls_os_thread_create. 0 or -errno. */
int gr_tls_own_thread_start(void *(*start)(void *), void *arg, size_t stack, const char *name,
			    int is_quiet);

/* Sets up what glibc sets up in a new thread before its function runs
 * (the <ctype.h> table pointers); called first thing in a green thread. */
void gr_tls_thread_start(void);

/* Runs the calling green thread's C++ thread_local destructors
 * (__cxa_thread_atexit_impl), as glibc does first when a thread exits. */
void gr_tls_thread_exit(void);

/* A slot with TLS of its own, on x86_64: its top page holds only the cold
 * end of glibc's struct pthread (what greenify answers itself, a forced
 * unwind, glibc's string buffers: tls_probe.c's set_pd_hot), never
 * touched by a sleeping thread and so never backed. The page below holds,
 * from its (coloured) top down, struct pthread's hot start (the thread
 * pointer is its start), the static TLS with glibc's surplus, the DTV, our
 * control block and the stack: all a sleeping thread touches, and all a
 * switch to a cold thread touches (the hooks read no TLS: gr_green), in
 * one page, which also holds the TLS a program's own reads reach (errno,
 * the stack guard at fs:0x28). aarch64: the static TLS at the top, then
 * struct pthread and the DTV. Set by gr_tls_init. */
extern size_t gr_tls_gap;   /* top of slot to thread pointer, before alignment */
extern size_t gr_tls_align; /* the thread pointer's alignment */
extern size_t gr_tls_below; /* what lies below the thread pointer */
extern size_t gr_tls_cold;  /* bytes at the slot's top no thread touches */

static inline char *gr_tls_tp_for(char *hi)
{
	return (char *)(((uintptr_t)hi - gr_tls_gap) & ~(uintptr_t)(gr_tls_align - 1));
}

/* Where the rest of the slot (our block, then the stack) ends. */
static inline char *gr_tls_stack_top(char *hi)
{
	return gr_tls_tp_for(hi) - gr_tls_below;
}

/* The dynamic linker's count of modules with TLS (the highest id), and the
 * most a vector in a slot takes (SIZE_MAX when vectors are not in slots).
 * Past it, a thread's vector moves to the heap before the thread runs
 * again: glibc may then grow it. */
extern const volatile size_t *gr_tls_modules;
extern size_t gr_tls_slot_modules;
extern size_t gr_tls_in_slot; /* blocks whose vector is in their slot */

/* Moves the vector of the block at tp to the heap if it is in the slot. */
void gr_tls_dtv_to_heap(void *tp);

/* Before the thread whose block is at tp runs (tp may be the runtime
 * thread's own, whose vector is glibc's). */
static inline void gr_tls_before_run(void *tp)
{
	if (__builtin_expect(*gr_tls_modules > gr_tls_slot_modules, 0) && gr_tls_in_slot)
		gr_tls_dtv_to_heap(tp);
}

/* Before the calling green thread calls dlopen: it may reach the TLS of
 * any number of new modules before it next switches. */
void gr_tls_before_dlopen(void);

/* In a fork child, first: the blocks of threads that did not survive are in
 * no glibc list any more (gr_tls_free then leaves the lists alone); the
 * running thread's block is listed again. */
void gr_tls_fork_child(void);

/* In a fork child: the OS thread's block gets the child's tid. */
void gr_tls_after_fork(void);

/* The runtime thread's own thread pointer (main's and the hub's). */
void *gr_tls_base(void);

#endif
