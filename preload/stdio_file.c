/* The system calls of stdio, made green: the read, write and close
 * entries of libc's stdio jump tables (runtime/libio.h), which every FILE
 * that reads or writes an fd goes through, whichever stdio function, hooked
 * or not, got it there (getc_unlocked inlined in the program, dprintf's
 * temporary FILE, the flush before a read of a line-buffered stream).
 *
 * Each entry is glibc's own function (_IO_file_read, _IO_file_write,
 * _IO_file_close, _IO_proc_close) when the caller is not green. Else:
 * read: one read of the fd as glibc's makes it, tried first without
 *   blocking (preadv2 with RWF_NOWAIT at the file position: one system
 *   call when data is there, or the file is a regular one in the page
 *   cache); on a pipe, socket, FIFO or tty that has nothing, the thread
 *   parks on the fd's readiness (runtime/io.c) holding the FILE; a regular
 *   file is read with the plain call (on the pool with GREENIFY_FILE_IO=
 *   pool). A cancellation point, unless the FILE was opened with glibc's
 *   "c" flag, as glibc's read;
 * write: glibc's loop (everything, or the error flag and what went), each
 *   write tried as the read is, then made as the write hook makes a
 *   blocking write (everything, in as many parts as the file takes);
 * close: the fd's waiters move to a private dup of the file first, as the
 *   close hook does (they go on with the file); for
 *   popen's FILEs the wait for the child parks only the caller.
 *
 * If the tables are not laid out as checked, or with GREENIFY_STDIO=ready,
 * they stay glibc's and each hook waits, before calling glibc, until the fd
 * is ready (gr_stdio_ready): the first read of a call then cannot block,
 * but a line that arrives in pieces, or a write larger than a pipe takes,
 * blocks the OS thread until the rest comes. */
#include "stdio_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "../runtime/cancel.h"
#include "../runtime/fdwait.h"
#include "../runtime/io.h"

int gr_stdio_readiness;

static struct gr_file_ops orig_file, orig_proc;

/* glibc's _IO_FLAGS2_NOTCANCEL in FILE._flags2 (fopen's "c"), checked at
 * start-up; 0 if it could not be: every read is then a cancellation point. */
static int notcancel_flag = 2;

static ssize_t neg_errno(ssize_t r)
{
	return r < 0 ? -errno : r;
}

/* One read or write of fp's fd, as runtime/io.c makes it. */
struct rw {
	struct gr_io io;
	char *buf;
	ssize_t first; /* the answer of the attempt made before the FILE was
			  held, for gr_io_run's first one; 0 once taken */
};

#define RW_OF(p) ((struct rw *)((char *)(p)-offsetof(struct rw, io)))

/* An attempt that cannot block, at the file position as read and write. */
static ssize_t try_nowait(int fd, int out, void *buf, size_t n)
{
	struct iovec v = {buf, n};

	return neg_errno(
		GR_REAL(syscall)(out ? SYS_pwritev2 : SYS_preadv2, fd, &v, 1, -1L, 0L, RWF_NOWAIT));
}

/* EOPNOTSUPP: the file has no such attempt; EINVAL, ENOSYS: an older
 * kernel. The call itself answers (once polled, or the plain call). */
static int no_try(ssize_t r)
{
	return r == -EOPNOTSUPP || r == -EINVAL || r == -ENOSYS;
}

static ssize_t call_rw(struct gr_io *io, int fd, enum gr_io_mode mode)
{
	struct rw *a = RW_OF(io);
	int out = io->what == GR_FD_WRITE;
	size_t n = io->left;
	ssize_t r;

	switch (mode) {
	case GR_IO_TRY:
		if ((r = a->first) != 0) {
			a->first = 0; /* made already: no second system call */
			return r;
		}
		r = try_nowait(fd, out, a->buf, n);
		return no_try(r) ? GR_IO_NOTRY : r;
	case GR_IO_TRY_SOCKET:
		return neg_errno(out ? GR_REAL(sendto)(fd, a->buf, n, MSG_DONTWAIT, NULL, 0)
				     : GR_REAL(recvfrom)(fd, a->buf, n, MSG_DONTWAIT, NULL, NULL));
	case GR_IO_READY:
		if (out && n > io->ready_max)
			n = io->ready_max; /* what the ready file takes without blocking */
		break;
	default: break;
	}
	return neg_errno(out ? GR_REAL(write)(fd, a->buf, n) : GR_REAL(read)(fd, a->buf, n));
}

static void advance_rw(struct gr_io *io, size_t n)
{
	struct rw *a = RW_OF(io);

	a->buf += n;
	io->left -= n;
	io->ask = io->left;
}

/* One read (what is there) or write (everything, as a blocking write
 * does) of fp's fd, green: what the call returns, or -errno. */
static ssize_t rw_once(FILE *fp, void *buf, size_t n, int what)
{
	struct gr_file_hold *rec = gr_file_slot(fp);
	int cancel = !(fp->_flags2 & notcancel_flag), state = 0;
	struct rw a = {.buf = buf};
	ssize_t r = -EOPNOTSUPP;

	if (cancel)
		gr_cancel_begin(); /* a pending cancel acts before the call */
	/* A file that answered EOPNOTSUPP (ext4's buffered writes, tmpfs, a
	 * tty) is not tried again; a hint only, for this FILE and fd. */
	if (rec->fp != fp || rec->notry_fd != fp->_fileno || !(rec->notry & (1 << what)))
		r = try_nowait(fp->_fileno, what == GR_FD_WRITE, buf, n);
	if (cancel)
		gr_cancel_end(0);
	/* EAGAIN: nothing there (or a regular file's page not cached). */
	if (r >= 0 || (r != -EAGAIN && !no_try(r)))
		return r;
	if (r != -EAGAIN && rec->fp == fp) {
		if (rec->notry_fd != fp->_fileno)
			rec->notry = 0;
		rec->notry_fd = fp->_fileno;
		rec->notry |= (unsigned char)(1 << what);
	}
	/* From here the thread may park: another green thread's call on fp
	 * waits for it, glibc's lock being this thread's. */
	GR_FILE_HOLD(fp);
	a.io.fd = fp->_fileno;
	a.io.what = (unsigned char)what;
	a.io.kind = GR_IO_ANY;
	a.io.all = what == GR_FD_WRITE ? GR_IO_WRITE : GR_IO_PART;
	a.io.left = a.io.ask = n;
	a.io.call = call_rw;
	a.io.advance = advance_rw;
	a.first = r == -EAGAIN ? -EAGAIN : GR_IO_NOTRY;
	if (!cancel)
		gr_cancel_setstate(PTHREAD_CANCEL_DISABLE, &state);
	gr_cancel_begin();
	r = gr_io_run(&a.io);
	gr_cancel_end(r == -EINTR);
	if (!cancel)
		gr_cancel_setstate(state, NULL);
	return r;
}

/* glibc's _IO_file_read. */
static ssize_t slot_read(FILE *fp, void *buf, ssize_t n)
{
	uint64_t switches;
	int saved;
	ssize_t r;

	if (!gr_green())
		return orig_file.read(fp, buf, n);
	saved = errno;
	switches = gr_rt.switches;
	r = rw_once(fp, buf, (size_t)n, GR_FD_READ);
	/* Others ran meanwhile: glibc's next refill of a line-buffered or
	 * unbuffered fp locks stdout first, which must then be free. */
	if (gr_rt.switches != switches && fp != stdout && gr_reads_flush_stdout(fp))
		gr_file_leave(gr_file_enter(stdout));
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	errno = saved; /* a failed attempt is not the caller's business */
	return r;
}

/* glibc's _IO_new_file_write: everything, or the error flag and what went
 * before the error; the file offset glibc keeps advances by what went. */
static ssize_t slot_write(FILE *fp, const void *buf, ssize_t n)
{
	ssize_t left = n;
	int saved;

	if (!gr_green())
		return orig_file.write(fp, buf, n);
	saved = errno;
	while (left > 0) {
		ssize_t r = rw_once(fp, (void *)buf, (size_t)left, GR_FD_WRITE);
		if (r < 0) {
			saved = (int)-r;
			fp->_flags |= _IO_ERR_SEEN;
			break;
		}
		left -= r;
		buf = (const char *)buf + r;
	}
	errno = saved;
	n -= left;
	if (fp->_offset >= 0)
		fp->_offset += n;
	return n;
}

/* glibc's _IO_file_close: the green threads waiting on the fd learn of it
 * as from close(). */
static int slot_close(FILE *fp)
{
	if (gr_green())
		gr_fd_closing(fp->_fileno);
	return orig_file.close(fp);
}

/* glibc's _IO_proc_close (pclose, or fclose of a popen stream) closes the
 * pipe, then waits for the child: that wait parks only the caller. popen
 * keeps the child's pid right after the FILE and its jump table pointer
 * (struct _IO_proc_file). */
static int slot_proc_close(FILE *fp)
{
	if (gr_green()) {
		pid_t pid = *(const pid_t *)((const char *)fp + sizeof(FILE) + sizeof(void *));
		int saved = errno;
		gr_stdio_child_exit(fp->_fileno, pid);
		errno = saved;
	}
	return orig_proc.close(fp);
}

void gr_stdio_ready(FILE *fp, int what)
{
	int saved = errno;

	if (!fp || fp->_fileno < 0 || (what == GR_IN && fp->_IO_read_ptr < fp->_IO_read_end))
		return;
	gr_stdio_wait_ready(fp->_fileno, what);
	errno = saved;
}

/* Whether glibc marks a FILE opened with "c", and only such a FILE, as
 * expected. */
static void check_notcancel(void)
{
	FILE *c = fopen("/dev/null", "rce"), *p = fopen("/dev/null", "re");

	if (c && p && (!(c->_flags2 & notcancel_flag) || (p->_flags2 & notcancel_flag)))
		notcancel_flag = 0;
	if (c)
		fclose(c);
	if (p)
		fclose(p);
}

__attribute__((constructor)) static void stdio_init(void)
{
	static const struct gr_file_ops file = {slot_read, slot_write, slot_close};
	static const struct gr_file_ops proc = {slot_read, slot_write, slot_proc_close};
	int n;

	gr_real_init();
	gr_config_load();
	if (gr_config.disable)
		return;
	if (!gr_config.stdio_ready) {
		n = gr_stdio_patch(&file, &proc, &orig_file, &orig_proc);
		if (n > 0) {
			check_notcancel();
			gr_log(GR_LOG_DEBUG, "stdio: green read, write and close in %d tables", n);
			return;
		}
		gr_log(GR_LOG_WARN,
		       "stdio: libc's jump tables are not as expected (%s): a stdio call on a "
		       "pipe, socket or tty waits for readiness first, then may block",
		       strerror(-n));
	}
	gr_stdio_readiness = 1;
}
