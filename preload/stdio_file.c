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
 *   write made as the read is;
 * close: the fd's waiters are woken first, as the close hook does; for
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
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "../runtime/cancel.h"
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

/* One read or write of fd, as gr_io tries it. */
struct rw {
	int fd;
	void *buf;
	size_t n;
	int out; /* a write */
};

static ssize_t op_rw(void *ctx, enum gr_io_mode mode)
{
	struct rw *a = ctx;
	size_t n = a->n;

	if (mode == GR_IO_DONTWAIT)
		return neg_errno(
			a->out ? GR_REAL(sendto)(a->fd, a->buf, n, MSG_DONTWAIT, NULL, 0)
			       : GR_REAL(recvfrom)(a->fd, a->buf, n, MSG_DONTWAIT, NULL, NULL));
	if (a->out && mode == GR_IO_READY && n > PIPE_BUF)
		n = PIPE_BUF; /* what a ready pipe or tty takes without blocking */
	return neg_errno(a->out ? GR_REAL(write)(a->fd, a->buf, n)
				: GR_REAL(read)(a->fd, a->buf, n));
}

/* An attempt that cannot block, at the file position as read and write. */
static ssize_t try_nowait(const struct rw *a)
{
	struct iovec v = {a->buf, a->n};

	return neg_errno(GR_REAL(syscall)(a->out ? SYS_pwritev2 : SYS_preadv2, a->fd, &v, 1, -1L,
					  0L, RWF_NOWAIT));
}

static int plain_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
	       S_ISDIR(st.st_mode);
}

/* One read or write of fp's fd, green: what the call returns, or -errno. */
static ssize_t rw_once(FILE *fp, struct rw *a)
{
	struct gr_file_hold *rec = gr_file_slot(fp);
	int what = a->out ? GR_FD_WRITE : GR_FD_READ;
	int cancel = !(fp->_flags2 & notcancel_flag), state;
	ssize_t r = -EOPNOTSUPP;

	if (cancel)
		gr_cancel_begin(); /* a pending cancel acts before the call */
	/* A file that answered EOPNOTSUPP (ext4's buffered writes, tmpfs, a
	 * tty) is not tried again; a hint only, for this FILE and fd. */
	if (rec->fp != fp || rec->notry_fd != a->fd || !(rec->notry & (1 << what)))
		r = try_nowait(a);
	if (cancel)
		gr_cancel_end(0);
	/* EAGAIN: nothing there (or a regular file's page not cached);
	 * EOPNOTSUPP: no such attempt; EINVAL, ENOSYS: an older kernel. The
	 * call itself answers. */
	if (r >= 0 || (r != -EAGAIN && r != -EOPNOTSUPP && r != -EINVAL && r != -ENOSYS))
		return r;
	if (r != -EAGAIN && rec->fp == fp) {
		if (rec->notry_fd != a->fd)
			rec->notry = 0;
		rec->notry_fd = a->fd;
		rec->notry |= (unsigned char)(1 << what);
	}
	/* From here the thread may park: another green thread's call on fp
	 * waits for it, glibc's lock being this thread's. */
	GR_FILE_HOLD(fp);
	/* EAGAIN is a socket or a pipe, or an uncached page of a regular
	 * file, which gr_io finds to be one. */
	if (r != -EAGAIN && plain_file(a->fd))
		return gr_io_file(op_rw, a);
	if (cancel)
		return gr_io(a->fd, what, op_rw, a);
	gr_cancel_setstate(PTHREAD_CANCEL_DISABLE, &state);
	r = gr_io(a->fd, what, op_rw, a);
	gr_cancel_setstate(state, NULL);
	return r;
}

/* glibc's _IO_file_read. */
static ssize_t slot_read(FILE *fp, void *buf, ssize_t n)
{
	struct rw a = {fp->_fileno, buf, (size_t)n, 0};
	uint64_t switches;
	int saved;
	ssize_t r;

	if (!gr_green())
		return orig_file.read(fp, buf, n);
	saved = errno;
	switches = gr_rt.switches;
	r = rw_once(fp, &a);
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
		struct rw a = {fp->_fileno, (void *)buf, (size_t)left, 1};
		ssize_t r = rw_once(fp, &a);
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
