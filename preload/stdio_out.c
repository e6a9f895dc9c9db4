/* stdio output: the putc, fputs, fwrite and printf families, in bytes and
 * wide characters, their _unlocked and fortified (_chk) forms, __overflow
 * (what the putc_unlocked a program inlines calls when its buffer is full),
 * and the calls that print to stderr under its lock: perror, psignal,
 * psiginfo and the warn/err family. Each is glibc's own call under a green
 * hold on the FILE (stdio_hook.h); the writes it makes to a pipe, socket,
 * FIFO or tty park only its thread (stdio_file.c), whatever the buffering
 * mode (an unbuffered stderr writes at once, a line-buffered stream at each
 * newline, a full one when full).
 *
 * error() and error_at_line() have no v-form to hand their varargs on to:
 * the hook formats the message itself (vasprintf, with the caller's errno
 * for %m) and gives it to glibc's as "%s", which prints exactly the same,
 * under holds on stdout (which glibc flushes first) and stderr, with
 * cancellation disabled as glibc's does.
 *
 * Left to libc: dprintf and vdprintf (they write through a FILE of their
 * own, with no lock, whose writes are green all the same) and the string
 * forms (sprintf, asprintf...). */
#include "stdio_hook.h"

#include <err.h>
#include <error.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdarg.h>
#include <wchar.h>

#include "../runtime/cancel.h"

GR_EXPORT int fputc(int c, FILE *fp)
{
	GR_STDIO_CALL(int, fputc, GR_OUT, fp, (c, fp));
}

GR_EXPORT int putc(int c, FILE *fp)
{
	GR_STDIO_CALL(int, putc, GR_OUT, fp, (c, fp));
}

/* The name putc had before glibc 2.28's headers. */
GR_EXPORT __typeof__(putc) _IO_putc __attribute__((alias("putc")));

GR_EXPORT int putchar(int c)
{
	GR_STDIO_CALL(int, putchar, GR_OUT, stdout, (c));
}

GR_EXPORT int fputc_unlocked(int c, FILE *fp)
{
	GR_STDIO_CALL(int, fputc_unlocked, GR_OUT, fp, (c, fp));
}

GR_EXPORT int putc_unlocked(int c, FILE *fp)
{
	GR_STDIO_CALL(int, putc_unlocked, GR_OUT, fp, (c, fp));
}

GR_EXPORT int putchar_unlocked(int c)
{
	GR_STDIO_CALL(int, putchar_unlocked, GR_OUT, stdout, (c));
}

GR_EXPORT int __overflow(FILE *fp, int c)
{
	GR_STDIO_CALL(int, __overflow, GR_OUT, fp, (fp, c));
}

GR_EXPORT int putw(int w, FILE *fp)
{
	GR_STDIO_CALL(int, putw, GR_OUT, fp, (w, fp));
}

GR_EXPORT int fputs(const char *restrict s, FILE *restrict fp)
{
	GR_STDIO_CALL(int, fputs, GR_OUT, fp, (s, fp));
}

GR_EXPORT __typeof__(fputs) _IO_fputs __attribute__((alias("fputs")));

GR_EXPORT int fputs_unlocked(const char *restrict s, FILE *restrict fp)
{
	GR_STDIO_CALL(int, fputs_unlocked, GR_OUT, fp, (s, fp));
}

GR_EXPORT int puts(const char *s)
{
	GR_STDIO_CALL(int, puts, GR_OUT, stdout, (s));
}

GR_EXPORT __typeof__(puts) _IO_puts __attribute__((alias("puts")));

GR_EXPORT size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict fp)
{
	GR_STDIO_CALL(size_t, fwrite, GR_OUT, fp, (p, size, n, fp));
}

GR_EXPORT __typeof__(fwrite) _IO_fwrite __attribute__((alias("fwrite")));

GR_EXPORT size_t fwrite_unlocked(const void *restrict p, size_t size, size_t n, FILE *restrict fp)
{
	GR_STDIO_CALL(size_t, fwrite_unlocked, GR_OUT, fp, (p, size, n, fp));
}

/* The printf family: each variadic form hands its va_list to the v-form,
 * as glibc's own do. */
GR_EXPORT int printf(const char *restrict fmt, ...)
{
	GR_STDIO_VCALL(vprintf, GR_OUT, stdout, fmt, (fmt, ap));
}

GR_EXPORT __typeof__(printf) _IO_printf __attribute__((alias("printf")));

GR_EXPORT int fprintf(FILE *restrict fp, const char *restrict fmt, ...)
{
	GR_STDIO_VCALL(vfprintf, GR_OUT, fp, fmt, (fp, fmt, ap));
}

GR_EXPORT __typeof__(fprintf) _IO_fprintf __attribute__((alias("fprintf")));

GR_EXPORT int vprintf(const char *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vprintf, GR_OUT, stdout, (fmt, ap));
}

GR_EXPORT int vfprintf(FILE *restrict fp, const char *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vfprintf, GR_OUT, fp, (fp, fmt, ap));
}

GR_EXPORT __typeof__(vfprintf) _IO_vfprintf __attribute__((alias("vfprintf")));

GR_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	GR_STDIO_VCALL(__vprintf_chk, GR_OUT, stdout, fmt, (flag, fmt, ap));
}

GR_EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	GR_STDIO_VCALL(__vfprintf_chk, GR_OUT, fp, fmt, (fp, flag, fmt, ap));
}

GR_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	GR_STDIO_CALL(int, __vprintf_chk, GR_OUT, stdout, (flag, fmt, ap));
}

GR_EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	GR_STDIO_CALL(int, __vfprintf_chk, GR_OUT, fp, (fp, flag, fmt, ap));
}

/* Wide characters. */
GR_EXPORT wint_t fputwc(wchar_t c, FILE *fp)
{
	GR_STDIO_CALL(wint_t, fputwc, GR_OUT, fp, (c, fp));
}

GR_EXPORT wint_t putwc(wchar_t c, FILE *fp)
{
	GR_STDIO_CALL(wint_t, putwc, GR_OUT, fp, (c, fp));
}

GR_EXPORT wint_t putwchar(wchar_t c)
{
	GR_STDIO_CALL(wint_t, putwchar, GR_OUT, stdout, (c));
}

GR_EXPORT wint_t fputwc_unlocked(wchar_t c, FILE *fp)
{
	GR_STDIO_CALL(wint_t, fputwc_unlocked, GR_OUT, fp, (c, fp));
}

GR_EXPORT wint_t putwc_unlocked(wchar_t c, FILE *fp)
{
	GR_STDIO_CALL(wint_t, putwc_unlocked, GR_OUT, fp, (c, fp));
}

GR_EXPORT wint_t putwchar_unlocked(wchar_t c)
{
	GR_STDIO_CALL(wint_t, putwchar_unlocked, GR_OUT, stdout, (c));
}

GR_EXPORT wint_t __woverflow(FILE *fp, wint_t c)
{
	GR_STDIO_CALL(wint_t, __woverflow, GR_OUT, fp, (fp, c));
}

GR_EXPORT int fputws(const wchar_t *restrict s, FILE *restrict fp)
{
	GR_STDIO_CALL(int, fputws, GR_OUT, fp, (s, fp));
}

GR_EXPORT int fputws_unlocked(const wchar_t *restrict s, FILE *restrict fp)
{
	GR_STDIO_CALL(int, fputws_unlocked, GR_OUT, fp, (s, fp));
}

GR_EXPORT int wprintf(const wchar_t *restrict fmt, ...)
{
	GR_STDIO_VCALL(vwprintf, GR_OUT, stdout, fmt, (fmt, ap));
}

GR_EXPORT int fwprintf(FILE *restrict fp, const wchar_t *restrict fmt, ...)
{
	GR_STDIO_VCALL(vfwprintf, GR_OUT, fp, fmt, (fp, fmt, ap));
}

GR_EXPORT int vwprintf(const wchar_t *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vwprintf, GR_OUT, stdout, (fmt, ap));
}

GR_EXPORT int vfwprintf(FILE *restrict fp, const wchar_t *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vfwprintf, GR_OUT, fp, (fp, fmt, ap));
}

GR_EXPORT int __wprintf_chk(int flag, const wchar_t *fmt, ...)
{
	GR_STDIO_VCALL(__vwprintf_chk, GR_OUT, stdout, fmt, (flag, fmt, ap));
}

GR_EXPORT int __fwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, ...)
{
	GR_STDIO_VCALL(__vfwprintf_chk, GR_OUT, fp, fmt, (fp, flag, fmt, ap));
}

GR_EXPORT int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
	GR_STDIO_CALL(int, __vwprintf_chk, GR_OUT, stdout, (flag, fmt, ap));
}

GR_EXPORT int __vfwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, va_list ap)
{
	GR_STDIO_CALL(int, __vfwprintf_chk, GR_OUT, fp, (fp, flag, fmt, ap));
}

/* What prints to stderr under its lock. errno is the message of perror
 * and warn: nothing before the real call touches it. */
GR_EXPORT void perror(const char *s)
{
	GR_STDIO_VOID(perror, GR_OUT, stderr, (s));
}

GR_EXPORT void psignal(int sig, const char *s)
{
	GR_STDIO_VOID(psignal, GR_OUT, stderr, (sig, s));
}

GR_EXPORT void psiginfo(const siginfo_t *info, const char *s)
{
	GR_STDIO_VOID(psiginfo, GR_OUT, stderr, (info, s));
}

GR_EXPORT void vwarn(const char *fmt, va_list ap)
{
	GR_STDIO_VOID(vwarn, GR_OUT, stderr, (fmt, ap));
}

GR_EXPORT void vwarnx(const char *fmt, va_list ap)
{
	GR_STDIO_VOID(vwarnx, GR_OUT, stderr, (fmt, ap));
}

GR_EXPORT void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

GR_EXPORT void warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

/* err and errx print as warn and warnx, then exit: the hold is given back
 * before exit runs (it flushes every stream, and other threads go on
 * until it ends the process). */
GR_EXPORT void verr(int status, const char *fmt, va_list ap)
{
	vwarn(fmt, ap);
	exit(status);
}

GR_EXPORT void verrx(int status, const char *fmt, va_list ap)
{
	vwarnx(fmt, ap);
	exit(status);
}

GR_EXPORT void err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(status);
}

GR_EXPORT void errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(status);
}

/* Formats an error() message; NULL when there is no memory for it (the
 * format is then printed as it is). */
static char *error_message(const char *fmt, va_list ap)
{
	char *msg;

	return vasprintf(&msg, fmt, ap) < 0 ? NULL : msg;
}

/* glibc's error() or error_at_line() (file: non-NULL for the latter) with
 * the message msg, under holds on stdout and stderr when green. */
static void error_call(int status, int errnum, int at_line, const char *file, unsigned line,
		       const char *msg, const char *fmt)
{
	int state;

	if (!gr_green()) {
		if (at_line)
			GR_REAL(error_at_line)(status, errnum, file, line, "%s", msg ? msg : fmt);
		else
			GR_REAL(error)(status, errnum, "%s", msg ? msg : fmt);
		return;
	}
	gr_cancel_setstate(PTHREAD_CANCEL_DISABLE, &state);
	{
		GR_FILE_HOLD(stdout);
		struct gr_file_hold *err_hold __attribute__((cleanup(gr_hold_end))) =
			gr_file_enter(stderr);
		gr_stdio_before(stderr, GR_OUT);
		/* With a nonzero status glibc's exits from here: the holds stay
		 * with this thread, which exit's flush then passes. */
		if (at_line)
			gr_real.error_at_line(status, errnum, file, line, "%s", msg ? msg : fmt);
		else
			gr_real.error(status, errnum, "%s", msg ? msg : fmt);
	}
	gr_cancel_setstate(state, NULL);
	gr_maybe_yield();
}

GR_EXPORT void error(int status, int errnum, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = error_message(fmt, ap);
	va_end(ap);
	errno = saved;
	error_call(status, errnum, 0, NULL, 0, msg, fmt);
	free(msg);
}

GR_EXPORT void error_at_line(int status, int errnum, const char *file, unsigned line,
			     const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = error_message(fmt, ap);
	va_end(ap);
	errno = saved;
	error_call(status, errnum, 1, file, line, msg, fmt);
	free(msg);
}
