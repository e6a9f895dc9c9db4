/* What the stdio hooks share (stdio_in.c, stdio_out.c, stdio_file.c).
 *
 * Every hooked stdio call of a green thread holds its FILE greenly for the
 * length of glibc's call (runtime/libio.h says why), and hands the hold
 * back as the call returns or as a cancellation unwinds through it (these
 * files are built with -fexceptions for the cleanup). Its system calls are
 * made green underneath, in libc's jump tables (stdio_file.c). Where the
 * tables could not be changed, or with GREENIFY_STDIO=ready, the hook
 * instead waits before the call until the fd is ready (gr_stdio_ready). */
#ifndef GR_STDIO_HOOK_H
#define GR_STDIO_HOOK_H

#include "hook.h"

#include <stdio.h>

#include "../runtime/fdwait.h"

#include "../runtime/libio.h"

/* Macros of <bits/stdio.h> in an optimised build: the functions are hooked. */
#undef fread_unlocked
#undef fwrite_unlocked

#define GR_IN  GR_FD_READ
#define GR_OUT GR_FD_WRITE

/* The jump tables do not carry our functions: wait before each call. */
extern int gr_stdio_readiness;

/* Waits until fp's fd is ready for what (GR_IN: only if fp has nothing
 * buffered), when it is a pipe, socket, FIFO or tty. */
void gr_stdio_ready(FILE *fp, int what);

/* what: GR_IN, GR_OUT, or 0 for a call that makes no system call. */
static inline void gr_stdio_before(FILE *fp, int what)
{
	if (__builtin_expect(gr_stdio_readiness, 0) && what)
		gr_stdio_ready(fp, what);
}

static inline void gr_hold_end(struct gr_file_hold **h)
{
	gr_file_leave(*h);
}

/* Holds fp until the end of the enclosing block. */
#define GR_FILE_HOLD(fp)                                                                           \
	struct gr_file_hold *gr_hold_ __attribute__((cleanup(gr_hold_end))) = gr_file_enter(fp)

/* glibc's _IO_UNBUFFERED and _IO_LINE_BUF flags (libio.h, not in the
 * public header). */
#define GR_IO_UNBUFFERED 0x0002
#define GR_IO_LINE_BUF	 0x0200

/* Before each read of a line-buffered or unbuffered stream (a tty's),
 * glibc flushes stdout under stdout's lock, then lets it go and reads: that
 * lock must not be another green thread's, parked in a write, or glibc
 * waits for it in its futex. So such a read first waits, parked, until no
 * other thread holds stdout (gr_stdout_free), as does the first read of a
 * stream, before glibc has chosen its buffering; and after a read that
 * parked, stdio_file.c waits again before glibc's next refill. Holding
 * stdout for the whole call would make every printf wait for the input. */
static inline int gr_reads_flush_stdout(const FILE *fp)
{
	return (fp->_flags & (GR_IO_UNBUFFERED | GR_IO_LINE_BUF)) || !fp->_IO_buf_base;
}

static inline void gr_stdout_free(FILE *fp, int what)
{
	if (what == GR_IN && fp && fp != stdout && gr_reads_flush_stdout(fp))
		gr_file_leave(gr_file_enter(stdout));
}

/* GR_FILE_HOLD for a call on fp, after which stdout is free if the call
 * reads fp and glibc flushes stdout first. */
#define GR_CALL_HOLDS(fp, what)                                                                    \
	GR_FILE_HOLD(fp);                                                                          \
	gr_stdout_free(fp, what)

/* A hook of a call on one FILE: real call when not green; else the call
 * under a hold on fp (with, in the fallback, a wait for readiness first),
 * then a safe point. */
#define GR_STDIO_CALL(ret, name, what, fp, args)                                                   \
	do {                                                                                       \
		ret r_;                                                                            \
		if (!gr_green())                                                                   \
			return GR_REAL(name) args;                                                 \
		{                                                                                  \
			GR_CALL_HOLDS(fp, what);                                                   \
			gr_stdio_before(fp, what);                                                 \
			r_ = gr_real.name args;                                                    \
		}                                                                                  \
		gr_maybe_yield();                                                                  \
		return r_;                                                                         \
	} while (0)

#define GR_STDIO_VOID(name, what, fp, args)                                                        \
	do {                                                                                       \
		if (!gr_green()) {                                                                 \
			GR_REAL(name) args;                                                        \
			return;                                                                    \
		}                                                                                  \
		{                                                                                  \
			GR_CALL_HOLDS(fp, what);                                                   \
			gr_stdio_before(fp, what);                                                 \
			gr_real.name args;                                                         \
		}                                                                                  \
		gr_maybe_yield();                                                                  \
	} while (0)

/* Variadic calls: the hook passes its va_list to the v-form (vname), which
 * is what glibc's own variadic form does too. */
#define GR_STDIO_VCALL(vname, what, fp, last, args)                                                \
	do {                                                                                       \
		va_list ap;                                                                        \
		int r_;                                                                            \
		va_start(ap, last);                                                                \
		if (!gr_green()) {                                                                 \
			r_ = GR_REAL(vname) args;                                                  \
			va_end(ap);                                                                \
			return r_;                                                                 \
		}                                                                                  \
		{                                                                                  \
			GR_CALL_HOLDS(fp, what);                                                   \
			gr_stdio_before(fp, what);                                                 \
			r_ = gr_real.vname args;                                                   \
		}                                                                                  \
		va_end(ap);                                                                        \
		gr_maybe_yield();                                                                  \
		return r_;                                                                         \
	} while (0)

#endif
