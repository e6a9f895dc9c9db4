/* stdio input: the getc, fgets, fread, getline and scanf families, in bytes
 * and wide characters, their _unlocked and fortified (_chk) forms, ungetc,
 * and __uflow and __underflow, which the getc_unlocked a program inlines
 * calls when its buffer runs dry. Each is glibc's own call under a green
 * hold on the FILE (stdio_hook.h); a read it makes of a pipe, socket, FIFO
 * or tty parks only its thread (stdio_file.c), so a line that arrives in
 * pieces, end-of-file, the error and EOF flags, ungetc and buffering are
 * glibc's. fgetc and its kin are cancellation points where the read they
 * make is one, as in glibc.
 *
 * Left to libc: sscanf and the other string forms (no FILE), and getc_unlocked
 * and its kin where a program inlines them: they reach __uflow, hooked here,
 * only when the buffer is empty. */
#include "stdio_hook.h"

#include <stdarg.h>
#include <wchar.h>

GR_EXPORT int fgetc(FILE *fp)
{
	GR_STDIO_CALL(int, fgetc, GR_IN, fp, (fp));
}

GR_EXPORT int getc(FILE *fp)
{
	GR_STDIO_CALL(int, getc, GR_IN, fp, (fp));
}

/* The name getc had before glibc 2.28's headers: what older binaries call. */
GR_EXPORT __typeof__(getc) _IO_getc __attribute__((alias("getc")));

GR_EXPORT int getchar(void)
{
	GR_STDIO_CALL(int, getchar, GR_IN, stdin, ());
}

GR_EXPORT int fgetc_unlocked(FILE *fp)
{
	GR_STDIO_CALL(int, fgetc_unlocked, GR_IN, fp, (fp));
}

GR_EXPORT int getc_unlocked(FILE *fp)
{
	GR_STDIO_CALL(int, getc_unlocked, GR_IN, fp, (fp));
}

GR_EXPORT int getchar_unlocked(void)
{
	GR_STDIO_CALL(int, getchar_unlocked, GR_IN, stdin, ());
}

GR_EXPORT int __uflow(FILE *fp)
{
	GR_STDIO_CALL(int, __uflow, GR_IN, fp, (fp));
}

GR_EXPORT int __underflow(FILE *fp)
{
	GR_STDIO_CALL(int, __underflow, GR_IN, fp, (fp));
}

GR_EXPORT int _IO_peekc_locked(FILE *fp)
{
	GR_STDIO_CALL(int, _IO_peekc_locked, GR_IN, fp, (fp));
}

GR_EXPORT int ungetc(int c, FILE *fp)
{
	GR_STDIO_CALL(int, ungetc, GR_IN, fp, (c, fp));
}

GR_EXPORT __typeof__(ungetc) _IO_ungetc __attribute__((alias("ungetc")));

GR_EXPORT int getw(FILE *fp)
{
	GR_STDIO_CALL(int, getw, GR_IN, fp, (fp));
}

GR_EXPORT char *fgets(char *restrict s, int n, FILE *restrict fp)
{
	GR_STDIO_CALL(char *, fgets, GR_IN, fp, (s, n, fp));
}

GR_EXPORT __typeof__(fgets) _IO_fgets __attribute__((alias("fgets")));

GR_EXPORT char *fgets_unlocked(char *restrict s, int n, FILE *restrict fp)
{
	GR_STDIO_CALL(char *, fgets_unlocked, GR_IN, fp, (s, n, fp));
}

GR_EXPORT char *__fgets_chk(char *s, size_t size, int n, FILE *fp)
{
	GR_STDIO_CALL(char *, __fgets_chk, GR_IN, fp, (s, size, n, fp));
}

GR_EXPORT char *__fgets_unlocked_chk(char *s, size_t size, int n, FILE *fp)
{
	GR_STDIO_CALL(char *, __fgets_unlocked_chk, GR_IN, fp, (s, size, n, fp));
}

GR_EXPORT char *gets(char *s)
{
	GR_STDIO_CALL(char *, gets, GR_IN, stdin, (s));
}

GR_EXPORT __typeof__(gets) _IO_gets __attribute__((alias("gets")));

GR_EXPORT char *__gets_chk(char *s, size_t size)
{
	GR_STDIO_CALL(char *, __gets_chk, GR_IN, stdin, (s, size));
}

GR_EXPORT size_t fread(void *restrict p, size_t size, size_t n, FILE *restrict fp)
{
	GR_STDIO_CALL(size_t, fread, GR_IN, fp, (p, size, n, fp));
}

GR_EXPORT __typeof__(fread) _IO_fread __attribute__((alias("fread")));

GR_EXPORT size_t fread_unlocked(void *restrict p, size_t size, size_t n, FILE *restrict fp)
{
	GR_STDIO_CALL(size_t, fread_unlocked, GR_IN, fp, (p, size, n, fp));
}

GR_EXPORT size_t __fread_chk(void *restrict p, size_t plen, size_t size, size_t n,
			     FILE *restrict fp)
{
	GR_STDIO_CALL(size_t, __fread_chk, GR_IN, fp, (p, plen, size, n, fp));
}

GR_EXPORT size_t __fread_unlocked_chk(void *restrict p, size_t plen, size_t size, size_t n,
				      FILE *restrict fp)
{
	GR_STDIO_CALL(size_t, __fread_unlocked_chk, GR_IN, fp, (p, plen, size, n, fp));
}

GR_EXPORT ssize_t getline(char **restrict line, size_t *restrict n, FILE *restrict fp)
{
	GR_STDIO_CALL(ssize_t, getline, GR_IN, fp, (line, n, fp));
}

GR_EXPORT ssize_t getdelim(char **restrict line, size_t *restrict n, int delim, FILE *restrict fp)
{
	GR_STDIO_CALL(ssize_t, getdelim, GR_IN, fp, (line, n, delim, fp));
}

/* What the getline a program inlines calls. */
GR_EXPORT ssize_t __getdelim(char **restrict line, size_t *restrict n, int delim, FILE *restrict fp)
{
	GR_STDIO_CALL(ssize_t, __getdelim, GR_IN, fp, (line, n, delim, fp));
}

/* The scanf family. glibc has two: the GNU one (fscanf, whose %as
 * allocates) and ISO C99's (__isoc99_fscanf, whose %a is a float), which
 * the headers name fscanf for programs in C99 or later; each hook calls its
 * own kind's v-form. The GNU names are defined under asm labels because
 * the headers redirect the plain names to the C99 ones. */
GR_EXPORT int gr_fscanf(FILE *restrict fp, const char *restrict fmt, ...) __asm__("fscanf");
GR_EXPORT int gr_fscanf(FILE *restrict fp, const char *restrict fmt, ...)
{
	GR_STDIO_VCALL(vfscanf, GR_IN, fp, fmt, (fp, fmt, ap));
}

GR_EXPORT int gr_scanf(const char *restrict fmt, ...) __asm__("scanf");
GR_EXPORT int gr_scanf(const char *restrict fmt, ...)
{
	GR_STDIO_VCALL(vfscanf, GR_IN, stdin, fmt, (stdin, fmt, ap));
}

GR_EXPORT int gr_vfscanf(FILE *restrict fp, const char *restrict fmt,
			 va_list ap) __asm__("vfscanf");
GR_EXPORT int gr_vfscanf(FILE *restrict fp, const char *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vfscanf, GR_IN, fp, (fp, fmt, ap));
}

GR_EXPORT int gr_vscanf(const char *restrict fmt, va_list ap) __asm__("vscanf");
GR_EXPORT int gr_vscanf(const char *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vscanf, GR_IN, stdin, (fmt, ap));
}

GR_EXPORT int __isoc99_fscanf(FILE *restrict fp, const char *restrict fmt, ...)
{
	GR_STDIO_VCALL(__isoc99_vfscanf, GR_IN, fp, fmt, (fp, fmt, ap));
}

GR_EXPORT int __isoc99_scanf(const char *restrict fmt, ...)
{
	GR_STDIO_VCALL(__isoc99_vfscanf, GR_IN, stdin, fmt, (stdin, fmt, ap));
}

GR_EXPORT int __isoc99_vfscanf(FILE *restrict fp, const char *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, __isoc99_vfscanf, GR_IN, fp, (fp, fmt, ap));
}

GR_EXPORT int __isoc99_vscanf(const char *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, __isoc99_vscanf, GR_IN, stdin, (fmt, ap));
}

/* Wide characters. */
GR_EXPORT wint_t fgetwc(FILE *fp)
{
	GR_STDIO_CALL(wint_t, fgetwc, GR_IN, fp, (fp));
}

GR_EXPORT wint_t getwc(FILE *fp)
{
	GR_STDIO_CALL(wint_t, getwc, GR_IN, fp, (fp));
}

GR_EXPORT wint_t getwchar(void)
{
	GR_STDIO_CALL(wint_t, getwchar, GR_IN, stdin, ());
}

GR_EXPORT wint_t fgetwc_unlocked(FILE *fp)
{
	GR_STDIO_CALL(wint_t, fgetwc_unlocked, GR_IN, fp, (fp));
}

GR_EXPORT wint_t getwc_unlocked(FILE *fp)
{
	GR_STDIO_CALL(wint_t, getwc_unlocked, GR_IN, fp, (fp));
}

GR_EXPORT wint_t getwchar_unlocked(void)
{
	GR_STDIO_CALL(wint_t, getwchar_unlocked, GR_IN, stdin, ());
}

GR_EXPORT wint_t __wuflow(FILE *fp)
{
	GR_STDIO_CALL(wint_t, __wuflow, GR_IN, fp, (fp));
}

GR_EXPORT wint_t __wunderflow(FILE *fp)
{
	GR_STDIO_CALL(wint_t, __wunderflow, GR_IN, fp, (fp));
}

GR_EXPORT wint_t ungetwc(wint_t c, FILE *fp)
{
	GR_STDIO_CALL(wint_t, ungetwc, GR_IN, fp, (c, fp));
}

GR_EXPORT wchar_t *fgetws(wchar_t *restrict s, int n, FILE *restrict fp)
{
	GR_STDIO_CALL(wchar_t *, fgetws, GR_IN, fp, (s, n, fp));
}

GR_EXPORT wchar_t *fgetws_unlocked(wchar_t *restrict s, int n, FILE *restrict fp)
{
	GR_STDIO_CALL(wchar_t *, fgetws_unlocked, GR_IN, fp, (s, n, fp));
}

GR_EXPORT wchar_t *__fgetws_chk(wchar_t *s, size_t size, int n, FILE *fp)
{
	GR_STDIO_CALL(wchar_t *, __fgetws_chk, GR_IN, fp, (s, size, n, fp));
}

GR_EXPORT wchar_t *__fgetws_unlocked_chk(wchar_t *s, size_t size, int n, FILE *fp)
{
	GR_STDIO_CALL(wchar_t *, __fgetws_unlocked_chk, GR_IN, fp, (s, size, n, fp));
}

GR_EXPORT int gr_fwscanf(FILE *restrict fp, const wchar_t *restrict fmt, ...) __asm__("fwscanf");
GR_EXPORT int gr_fwscanf(FILE *restrict fp, const wchar_t *restrict fmt, ...)
{
	GR_STDIO_VCALL(vfwscanf, GR_IN, fp, fmt, (fp, fmt, ap));
}

GR_EXPORT int gr_wscanf(const wchar_t *restrict fmt, ...) __asm__("wscanf");
GR_EXPORT int gr_wscanf(const wchar_t *restrict fmt, ...)
{
	GR_STDIO_VCALL(vfwscanf, GR_IN, stdin, fmt, (stdin, fmt, ap));
}

GR_EXPORT int gr_vfwscanf(FILE *restrict fp, const wchar_t *restrict fmt,
			  va_list ap) __asm__("vfwscanf");
GR_EXPORT int gr_vfwscanf(FILE *restrict fp, const wchar_t *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vfwscanf, GR_IN, fp, (fp, fmt, ap));
}

GR_EXPORT int gr_vwscanf(const wchar_t *restrict fmt, va_list ap) __asm__("vwscanf");
GR_EXPORT int gr_vwscanf(const wchar_t *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, vwscanf, GR_IN, stdin, (fmt, ap));
}

GR_EXPORT int __isoc99_fwscanf(FILE *restrict fp, const wchar_t *restrict fmt, ...)
{
	GR_STDIO_VCALL(__isoc99_vfwscanf, GR_IN, fp, fmt, (fp, fmt, ap));
}

GR_EXPORT int __isoc99_wscanf(const wchar_t *restrict fmt, ...)
{
	GR_STDIO_VCALL(__isoc99_vfwscanf, GR_IN, stdin, fmt, (stdin, fmt, ap));
}

GR_EXPORT int __isoc99_vfwscanf(FILE *restrict fp, const wchar_t *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, __isoc99_vfwscanf, GR_IN, fp, (fp, fmt, ap));
}

GR_EXPORT int __isoc99_vwscanf(const wchar_t *restrict fmt, va_list ap)
{
	GR_STDIO_CALL(int, __isoc99_vwscanf, GR_IN, stdin, (fmt, ap));
}
