/* stdio on streams that can block (libio.c).
 *
 * glibc's stdio reads and writes through its own internal calls, which no
 * preloaded symbol sees. But every FILE that reads or writes an fd does so
 * through the read, write and close entries of its jump table (the
 * "vtable" of glibc's libio), and the tables are data: gr_stdio_patch puts
 * functions of ours into those three entries, for every FILE of the
 * process at once (fopen, fdopen, popen, the standard streams, dprintf's
 * temporary one). Those functions call glibc's own when the caller is not
 * green, and otherwise make the system call green (preload/stdio_file.c):
 * the whole stdio call, with its buffering, flags and locking, stays
 * glibc's, and only its system calls park. No code is patched and nothing
 * is trapped; the cost on a regular file is one test.
 *
 * The FILE lock: glibc's is a recursive lock owned by a thread control
 * block. A green thread that parks inside a stdio call holds it, and
 * another green thread's call on that FILE would wait for it in glibc's
 * futex, out of every hook's sight: the one OS thread would hang. With
 * TLS shared by all green threads, the other call would instead walk in
 * (the same owner) and share the FILE's state mid-operation. So every
 * hooked call on a FILE first takes a green hold on it (gr_file_enter,
 * recursive per green thread), waiting in a green queue while another
 * green thread holds it; flockfile takes one that lasts until funlockfile.
 * glibc's lock is then only ever taken uncontended. */
#ifndef GR_LIBIO_H
#define GR_LIBIO_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "sched.h"

/* What a green thread holds of a FILE, in a call or with flockfile. A FILE's
 * record lives in the slot its address hashes to, where it stays when
 * nobody holds it (the next call on the FILE finds it there) until another
 * FILE needs the slot; a FILE whose slot another holds when it is taken
 * gets a record on an overflow list, dropped when it is let go. */
struct gr_file_hold {
	const void *fp;		   /* the FILE */
	uint64_t owner;		   /* handle of the holder; 0: nobody */
	unsigned calls;		   /* the holder's hooked calls on fp under way */
	unsigned locks;		   /* its flockfile depth */
	struct gr_file_hold *next; /* overflow list, or free list */
	int notry_fd;		   /* the fd notry is about, or -1 */
	unsigned char notry;	   /* 1 << GR_FD_READ, 1 << GR_FD_WRITE: that
				      fd has no attempt without blocking
				      (stdio_file.c), a hint only */
};

#define GR_FILE_SLOTS 256

extern struct gr_file_hold gr_file_slots[GR_FILE_SLOTS];
extern unsigned gr_file_held;	 /* records with an owner */
extern unsigned gr_file_waiting; /* threads parked for a FILE */

static inline struct gr_file_hold *gr_file_slot(const void *fp)
{
	uintptr_t a = (uintptr_t)fp;

	return &gr_file_slots[(a >> 4 ^ a >> 12) & (GR_FILE_SLOTS - 1)];
}

struct gr_file_hold *gr_file_enter_slow(const void *fp);
void gr_file_leave_slow(struct gr_file_hold *h);

/* Takes the current green thread's hold on fp for one call, waiting (not a
 * cancellation point; signal handlers run meanwhile) while another green
 * thread holds it. NULL when no memory for the record was found (the call
 * then goes on without). Inline for the common case, every stdio call: the
 * FILE's record is in its slot, and nobody else holds it. */
static inline struct gr_file_hold *gr_file_enter(const void *fp)
{
	struct gr_file_hold *h = gr_file_slot(fp);
	uint64_t self = gr_rt.cur->handle;

	if (__builtin_expect(h->fp != fp || (h->owner && h->owner != self), 0))
		return gr_file_enter_slow(fp);
	if (!h->owner) {
		h->owner = self;
		gr_file_held++;
	}
	h->calls++;
	return h;
}

/* Ends the hold gr_file_enter took (NULL: nothing). */
static inline void gr_file_leave(struct gr_file_hold *h)
{
	if (!h)
		return;
	if (__builtin_expect(h->calls > 1 || h->locks || gr_file_waiting, 0)) {
		gr_file_leave_slow(h);
		return;
	}
	if (__builtin_expect(h != gr_file_slot(h->fp) || h->calls == 0, 0)) {
		gr_file_leave_slow(h);
		return;
	}
	h->calls = 0;
	h->owner = 0;
	gr_file_held--;
}

/* flockfile, ftrylockfile, funlockfile for the thread whose handle is
 * owner (a green thread's, or before the runtime starts, the one OS
 * thread's, which becomes main's). gr_file_lock waits as gr_file_enter
 * does; gr_file_trylock returns 0 or -EBUSY. */
void gr_file_lock(const void *fp, uint64_t owner);
int gr_file_trylock(const void *fp, uint64_t owner);
void gr_file_unlock(const void *fp, uint64_t owner);

/* The handle of the thread that holds fp, or 0 (the deadlock report). */
uint64_t gr_file_owner(const void *fp);

/* A green thread ends. With TLS of its own it unwound its calls (their
 * holds went with the frames) and what it still holds stays held, as
 * glibc's lock stays with a thread that exits holding it. With shared TLS
 * nothing unwinds: glibc's lock, owned by the one shared control block,
 * lets the others in, and so do the calls' holds, now ended. */
void gr_file_thread_exit(struct gr_thread *t);

/* The three entries of glibc's jump tables that reach the kernel. */
struct gr_file_ops {
	ssize_t (*read)(FILE *fp, void *buf, ssize_t n);
	ssize_t (*write)(FILE *fp, const void *buf, ssize_t n);
	int (*close)(FILE *fp);
};

/* Puts ours into every jump table of libc whose read and write entries are
 * glibc's _IO_file_read and _IO_file_write: file is for those whose close
 * is _IO_file_close (fopen, fdopen, the standard streams, wide streams),
 * proc for popen's (_IO_proc_close). glibc's functions are returned in
 * *file_orig and *proc_orig. Returns the number of tables changed, or
 * -errno (nothing changed: the tables are not laid out as checked). */
int gr_stdio_patch(const struct gr_file_ops *file, const struct gr_file_ops *proc,
		   struct gr_file_ops *file_orig, struct gr_file_ops *proc_orig);

/* The FILEs of the process that may have output to flush (fflush(NULL)):
 * a malloc'd array in *out, its length returned (or -ENOMEM). */
long gr_stdio_pending(FILE ***out);
/* Whether fp is still one of the process's open FILEs. */
int gr_stdio_open(const FILE *fp);

/* pclose's wait, made green: fd is the popen FILE's pipe, pid its child.
 * Closes the pipe (fd is left naming a descriptor of the child's exit, for
 * glibc's close to close) and parks until the child has exited, without
 * reaping it: glibc's own waitpid then returns at once with its status.
 * Returns 0, or -errno when pid is not a child of ours still to be reaped
 * (nothing was done: glibc's close answers as natively). */
int gr_stdio_child_exit(int fd, pid_t pid);

/* The fallback when the tables could not be changed: parks until fd, a
 * pipe, socket, FIFO or tty that the program did not make non-blocking,
 * is ready for what (GR_FD_READ or GR_FD_WRITE). 0, or -EINTR when a
 * signal handler ran meanwhile, or -errno. */
int gr_stdio_wait_ready(int fd, int what);

#endif
