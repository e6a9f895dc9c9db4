/* The real stdio functions the hooks of preload/stdio_*.c call, for
 * real.h's table, and the declarations glibc exports but keeps out of its
 * public headers: the fortified _chk forms (declared only to a program
 * built with _FORTIFY_SOURCE), the underflow and overflow entries its
 * inline getc_unlocked and putc_unlocked call, the ISO C99 scanf names
 * (the headers reach them only through asm labels) and gets (no longer
 * declared for C11). Their prototypes are glibc's (debug/, libio/). */
#ifndef GR_LIBIO_DECL_H
#define GR_LIBIO_DECL_H

#include <err.h>
#include <error.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <wchar.h>

extern char *__fgets_chk(char *buf, size_t size, int n, FILE *fp);
extern char *__fgets_unlocked_chk(char *buf, size_t size, int n, FILE *fp);
extern char *__gets_chk(char *buf, size_t size);
extern char *gets(char *buf);
extern size_t __fread_chk(void *restrict ptr, size_t ptrlen, size_t size, size_t n,
			  FILE *restrict fp);
extern size_t __fread_unlocked_chk(void *restrict ptr, size_t ptrlen, size_t size, size_t n,
				   FILE *restrict fp);
extern wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *fp);
extern wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n, FILE *fp);
extern int __printf_chk(int flag, const char *fmt, ...);
extern int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...);
extern int __vprintf_chk(int flag, const char *fmt, va_list ap);
extern int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);
extern int __wprintf_chk(int flag, const wchar_t *fmt, ...);
extern int __fwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, ...);
extern int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap);
extern int __vfwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, va_list ap);
extern int __underflow(FILE *fp);
extern wint_t __wunderflow(FILE *fp);
extern wint_t __wuflow(FILE *fp);
extern wint_t __woverflow(FILE *fp, wint_t c);
extern int _IO_peekc_locked(FILE *fp);
extern int __isoc99_fscanf(FILE *restrict fp, const char *restrict fmt, ...);
extern int __isoc99_scanf(const char *restrict fmt, ...);
extern int __isoc99_vfscanf(FILE *restrict fp, const char *restrict fmt, va_list ap);
extern int __isoc99_vscanf(const char *restrict fmt, va_list ap);
extern int __isoc99_fwscanf(FILE *restrict fp, const wchar_t *restrict fmt, ...);
extern int __isoc99_wscanf(const wchar_t *restrict fmt, ...);
extern int __isoc99_vfwscanf(FILE *restrict fp, const wchar_t *restrict fmt, va_list ap);
extern int __isoc99_vwscanf(const wchar_t *restrict fmt, va_list ap);

#define GR_REAL_STDIO_FUNCS(X)                                                                     \
	X(fgetc)                                                                                   \
	X(getc)                                                                                    \
	X(getchar)                                                                                 \
	X(fgetc_unlocked)                                                                          \
	X(getc_unlocked)                                                                           \
	X(getchar_unlocked)                                                                        \
	X(fgets)                                                                                   \
	X(fgets_unlocked)                                                                          \
	X(__fgets_chk)                                                                             \
	X(__fgets_unlocked_chk)                                                                    \
	X(gets)                                                                                    \
	X(__gets_chk)                                                                              \
	X(fread)                                                                                   \
	X(fread_unlocked)                                                                          \
	X(__fread_chk)                                                                             \
	X(__fread_unlocked_chk)                                                                    \
	X(getline)                                                                                 \
	X(getdelim)                                                                                \
	X(__getdelim)                                                                              \
	X(getw)                                                                                    \
	X(ungetc)                                                                                  \
	X(__uflow)                                                                                 \
	X(__underflow)                                                                             \
	X(_IO_peekc_locked)                                                                        \
	X(vfscanf)                                                                                 \
	X(vscanf)                                                                                  \
	X(__isoc99_vfscanf)                                                                        \
	X(__isoc99_vscanf)                                                                         \
	X(fgetwc)                                                                                  \
	X(getwc)                                                                                   \
	X(getwchar)                                                                                \
	X(fgetwc_unlocked)                                                                         \
	X(getwc_unlocked)                                                                          \
	X(getwchar_unlocked)                                                                       \
	X(fgetws)                                                                                  \
	X(fgetws_unlocked)                                                                         \
	X(__fgetws_chk)                                                                            \
	X(__fgetws_unlocked_chk)                                                                   \
	X(ungetwc)                                                                                 \
	X(__wuflow)                                                                                \
	X(__wunderflow)                                                                            \
	X(vfwscanf)                                                                                \
	X(vwscanf)                                                                                 \
	X(__isoc99_vfwscanf)                                                                       \
	X(__isoc99_vwscanf)                                                                        \
	X(fputc)                                                                                   \
	X(putc)                                                                                    \
	X(putchar)                                                                                 \
	X(fputc_unlocked)                                                                          \
	X(putc_unlocked)                                                                           \
	X(putchar_unlocked)                                                                        \
	X(fputs)                                                                                   \
	X(fputs_unlocked)                                                                          \
	X(puts)                                                                                    \
	X(fwrite)                                                                                  \
	X(fwrite_unlocked)                                                                         \
	X(putw)                                                                                    \
	X(__overflow)                                                                              \
	X(vprintf)                                                                                 \
	X(vfprintf)                                                                                \
	X(__vprintf_chk)                                                                           \
	X(__vfprintf_chk)                                                                          \
	X(fputwc)                                                                                  \
	X(putwc)                                                                                   \
	X(putwchar)                                                                                \
	X(fputwc_unlocked)                                                                         \
	X(putwc_unlocked)                                                                          \
	X(putwchar_unlocked)                                                                       \
	X(fputws)                                                                                  \
	X(fputws_unlocked)                                                                         \
	X(__woverflow)                                                                             \
	X(vwprintf)                                                                                \
	X(vfwprintf)                                                                               \
	X(__vwprintf_chk)                                                                          \
	X(__vfwprintf_chk)                                                                         \
	X(perror)                                                                                  \
	X(psignal)                                                                                 \
	X(psiginfo)                                                                                \
	X(vwarn)                                                                                   \
	X(vwarnx)                                                                                  \
	X(error)                                                                                   \
	X(error_at_line)                                                                           \
	X(fflush)                                                                                  \
	X(fflush_unlocked)                                                                         \
	X(fclose)                                                                                  \
	X(fcloseall)                                                                               \
	X(_flushlbf)                                                                               \
	X(freopen)                                                                                 \
	X(freopen64)                                                                               \
	X(fseek)                                                                                   \
	X(fseeko)                                                                                  \
	X(fseeko64)                                                                                \
	X(ftell)                                                                                   \
	X(ftello)                                                                                  \
	X(ftello64)                                                                                \
	X(fgetpos)                                                                                 \
	X(fgetpos64)                                                                               \
	X(fsetpos)                                                                                 \
	X(fsetpos64)                                                                               \
	X(rewind)                                                                                  \
	X(setbuf)                                                                                  \
	X(setbuffer)                                                                               \
	X(setlinebuf)                                                                              \
	X(setvbuf)                                                                                 \
	X(fwide)                                                                                   \
	X(feof)                                                                                    \
	X(ferror)                                                                                  \
	X(clearerr)                                                                                \
	X(flockfile)                                                                               \
	X(funlockfile)                                                                             \
	X(ftrylockfile)

#endif
