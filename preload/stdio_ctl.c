/* stdio calls that lock a FILE without being reads or writes of it, and
 * the locks themselves: fflush, fclose, freopen, the seeks and tells,
 * setvbuf and its kin, fwide, feof, ferror, clearerr; flockfile,
 * ftrylockfile, funlockfile. Each takes the green hold first (stdio_hook.h)
 * so that it waits, parked, while another green thread holds the FILE,
 * where glibc's own lock wait would stop the OS thread; the flushes and
 * closes among them write and close green (stdio_file.c).
 *
 * fflush(NULL), fcloseall and _flushlbf flush every stream while glibc
 * holds the lock of its list of streams: a write that parked there would
 * leave every green thread's fopen or fclose waiting for that lock, out of
 * our sight. So a green thread's flushes every stream with output pending
 * one at a time, each with fflush, as glibc would; a stream opened while
 * they run is not flushed (glibc's would wait to be opened), one closed is
 * skipped.
 *
 * Left to libc: the _unlocked forms of feof, ferror, clearerr and fileno
 * (no lock, no system call), __fsetlocking and the other <stdio_ext.h>
 * queries, and pclose (proc.c). */
#include "stdio_hook.h"
#include "procpath.h"
#include "work.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio_ext.h>

/* fflush(NULL) (lbf: _flushlbf, line-buffered streams only). */
static int flush_all(int lbf)
{
	FILE **v;
	long n = gr_stdio_pending(&v);
	int r = 0;

	if (n < 0) {
		errno = ENOMEM;
		return EOF;
	}
	for (long i = 0; i < n; i++) {
		FILE *fp = v[i];
		if (!gr_stdio_open(fp))
			continue; /* closed meanwhile */
		GR_FILE_HOLD(fp);
		if (lbf && !__flbf(fp))
			continue;
		if (gr_real.fflush(fp) == EOF)
			r = EOF;
	}
	free(v);
	gr_maybe_yield();
	return r;
}

GR_EXPORT int fflush(FILE *fp)
{
	if (!fp && gr_green())
		return flush_all(0);
	GR_STDIO_CALL(int, fflush, GR_OUT, fp, (fp));
}

GR_EXPORT __typeof__(fflush) _IO_fflush __attribute__((alias("fflush")));

GR_EXPORT int fflush_unlocked(FILE *fp)
{
	if (!fp && gr_green())
		return flush_all(0);
	GR_STDIO_CALL(int, fflush_unlocked, GR_OUT, fp, (fp));
}

/* glibc's fflush(NULL), exported but in no header. */
GR_EXPORT int _IO_flush_all(void);
GR_EXPORT int _IO_flush_all(void)
{
	return fflush(NULL);
}

GR_EXPORT void _flushlbf(void)
{
	if (!gr_green()) {
		GR_REAL(_flushlbf)();
		return;
	}
	flush_all(1);
}

GR_EXPORT __typeof__(_flushlbf) _IO_flush_all_linebuffered __attribute__((alias("_flushlbf")));

GR_EXPORT int fcloseall(void)
{
	int r;

	if (!gr_green())
		return GR_REAL(fcloseall)();
	/* glibc's flushes (nothing is left to) and unbuffers every stream. */
	r = flush_all(0);
	if (gr_config.stdio_ready)
		gr_fd_forget_all(); /* glibc closes each fd unseen */
	return gr_real.fcloseall() == EOF ? EOF : r;
}

GR_EXPORT int fclose(FILE *fp)
{
	int r;

	if (!gr_green())
		return GR_REAL(fclose)(fp);
	{
		GR_CALL_HOLDS(fp, GR_OUT);
		gr_stdio_before(fp, GR_OUT);
		/* With GREENIFY_STDIO=ready glibc closes the fd where no hook
		 * sees it (else the close entry of its tables tells). */
		if (gr_config.stdio_ready)
			gr_fd_closing(fp->_fileno);
		r = gr_real.fclose(fp);
	}
	gr_maybe_yield();
	return r;
}

GR_EXPORT __typeof__(fclose) _IO_fclose __attribute__((alias("fclose")));

static void let_go(int (*held)[2])
{
	gr_fifo_behind(*held);
}

/* glibc opens the path inside, where a FIFO's open would wait unseen: it
 * is made green first (open.c), before fp is held; what that holds is let
 * go also when a cancellation in the flush of fp unwinds. */
static FILE *reopen(FILE *(*real)(const char *, const char *, FILE *), const char *path,
		    const char *mode, FILE *fp)
{
	int held[2] __attribute__((cleanup(let_go))) = {-1, -1};
	char buf[PATH_MAX];
	FILE *r;

	path = GR_PROC_PATH(path, buf); /* a green thread's /proc entry */
	if (path && mode && gr_fifo_ahead(path, mode, held) < 0)
		return NULL;
	{
		GR_CALL_HOLDS(fp, GR_OUT);
		gr_stdio_before(fp, GR_OUT);
		if (gr_config.stdio_ready && path)
			gr_fd_closing(fp->_fileno); /* closed unseen, as by fclose */
		r = real(path, mode, fp);
	}
	gr_maybe_yield();
	return r;
}

GR_EXPORT FILE *freopen(const char *restrict path, const char *restrict mode, FILE *restrict fp)
{
	if (!gr_green())
		return GR_REAL(freopen)(path, mode, fp);
	return reopen(gr_real.freopen, path, mode, fp);
}

GR_EXPORT FILE *freopen64(const char *restrict path, const char *restrict mode, FILE *restrict fp)
{
	if (!gr_green())
		return GR_REAL(freopen64)(path, mode, fp);
	return reopen(gr_real.freopen64, path, mode, fp);
}

/* A seek writes what is pending first. */
GR_EXPORT int fseek(FILE *fp, long off, int whence)
{
	GR_STDIO_CALL(int, fseek, GR_OUT, fp, (fp, off, whence));
}

GR_EXPORT int fseeko(FILE *fp, off_t off, int whence)
{
	GR_STDIO_CALL(int, fseeko, GR_OUT, fp, (fp, off, whence));
}

GR_EXPORT int fseeko64(FILE *fp, off64_t off, int whence)
{
	GR_STDIO_CALL(int, fseeko64, GR_OUT, fp, (fp, off, whence));
}

GR_EXPORT int fsetpos(FILE *fp, const fpos_t *pos)
{
	GR_STDIO_CALL(int, fsetpos, GR_OUT, fp, (fp, pos));
}

GR_EXPORT __typeof__(fsetpos) _IO_fsetpos __attribute__((alias("fsetpos")));

GR_EXPORT int fsetpos64(FILE *fp, const fpos64_t *pos)
{
	GR_STDIO_CALL(int, fsetpos64, GR_OUT, fp, (fp, pos));
}

GR_EXPORT __typeof__(fsetpos64) _IO_fsetpos64 __attribute__((alias("fsetpos64")));

GR_EXPORT void rewind(FILE *fp)
{
	GR_STDIO_VOID(rewind, GR_OUT, fp, (fp));
}

GR_EXPORT long ftell(FILE *fp)
{
	GR_STDIO_CALL(long, ftell, 0, fp, (fp));
}

GR_EXPORT __typeof__(ftell) _IO_ftell __attribute__((alias("ftell")));

GR_EXPORT off_t ftello(FILE *fp)
{
	GR_STDIO_CALL(off_t, ftello, 0, fp, (fp));
}

GR_EXPORT off64_t ftello64(FILE *fp)
{
	GR_STDIO_CALL(off64_t, ftello64, 0, fp, (fp));
}

GR_EXPORT int fgetpos(FILE *restrict fp, fpos_t *restrict pos)
{
	GR_STDIO_CALL(int, fgetpos, 0, fp, (fp, pos));
}

GR_EXPORT __typeof__(fgetpos) _IO_fgetpos __attribute__((alias("fgetpos")));

GR_EXPORT int fgetpos64(FILE *restrict fp, fpos64_t *restrict pos)
{
	GR_STDIO_CALL(int, fgetpos64, 0, fp, (fp, pos));
}

GR_EXPORT __typeof__(fgetpos64) _IO_fgetpos64 __attribute__((alias("fgetpos64")));

/* Changing the buffer writes what is pending. */
GR_EXPORT int setvbuf(FILE *restrict fp, char *restrict buf, int mode, size_t size)
{
	GR_STDIO_CALL(int, setvbuf, GR_OUT, fp, (fp, buf, mode, size));
}

GR_EXPORT __typeof__(setvbuf) _IO_setvbuf __THROW __attribute__((alias("setvbuf")));

GR_EXPORT void setbuf(FILE *restrict fp, char *restrict buf)
{
	GR_STDIO_VOID(setbuf, GR_OUT, fp, (fp, buf));
}

GR_EXPORT void setbuffer(FILE *restrict fp, char *restrict buf, size_t size)
{
	GR_STDIO_VOID(setbuffer, GR_OUT, fp, (fp, buf, size));
}

GR_EXPORT __typeof__(setbuffer) _IO_setbuffer __THROW __attribute__((alias("setbuffer")));

GR_EXPORT void setlinebuf(FILE *fp)
{
	GR_STDIO_VOID(setlinebuf, GR_OUT, fp, (fp));
}

GR_EXPORT int fwide(FILE *fp, int mode)
{
	GR_STDIO_CALL(int, fwide, 0, fp, (fp, mode));
}

GR_EXPORT int feof(FILE *fp)
{
	GR_STDIO_CALL(int, feof, 0, fp, (fp));
}

GR_EXPORT __typeof__(feof) _IO_feof __THROW __attribute__((alias("feof")));

GR_EXPORT int ferror(FILE *fp)
{
	GR_STDIO_CALL(int, ferror, 0, fp, (fp));
}

GR_EXPORT __typeof__(ferror) _IO_ferror __THROW __attribute__((alias("ferror")));

GR_EXPORT void clearerr(FILE *fp)
{
	GR_STDIO_VOID(clearerr, 0, fp, (fp));
}

/* Who takes a FILE's lock: a green thread, or before the runtime starts,
 * the one OS thread, which is main's handle once it does (a lock taken
 * then is still held by main afterwards). 0: neither (an OS thread of the
 * runtime's own, or greenify disabled). */
static uint64_t locker(void)
{
	if (gr_green())
		return gr_rt.cur->handle;
	if (!gr_rt.started && !gr_tls_runtime && !gr_config.disable)
		return (uint64_t)GR_REAL(pthread_self)();
	return 0;
}

GR_EXPORT void flockfile(FILE *fp)
{
	uint64_t self = locker();

	if (self)
		gr_file_lock(fp, self);
	GR_REAL(flockfile)(fp);
}

GR_EXPORT __typeof__(flockfile) _IO_flockfile __THROW __attribute__((alias("flockfile")));

GR_EXPORT int ftrylockfile(FILE *fp)
{
	uint64_t self = locker();
	int r;

	if (self && gr_file_trylock(fp, self) < 0)
		return EBUSY;
	r = GR_REAL(ftrylockfile)(fp);
	if (r != 0 && self)
		gr_file_unlock(fp, self); /* an OS thread of its own holds it */
	return r;
}

GR_EXPORT __typeof__(ftrylockfile) _IO_ftrylockfile __THROW __attribute__((alias("ftrylockfile")));

GR_EXPORT void funlockfile(FILE *fp)
{
	uint64_t self = locker();

	GR_REAL(funlockfile)(fp);
	if (self)
		gr_file_unlock(fp, self);
}

GR_EXPORT __typeof__(funlockfile) _IO_funlockfile __THROW __attribute__((alias("funlockfile")));
