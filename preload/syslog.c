/* syslog, vsyslog and their fortified forms, and fmtmsg: on a worker
 * thread while the green thread parks.
 *
 * Each holds a lock of glibc's own (syslog's syslog_lock, fmtmsg's static
 * lock) across its writes, and those writes go through libc's stdio jump
 * tables, which are green (stdio_file.c): syslog falls back to a
 * dprintf to /dev/console when no log daemon listens (LOG_CONS) and copies
 * the line to stderr (LOG_PERROR); fmtmsg writes to stderr and calls
 * syslog. A write that would block parked the caller with the lock held,
 * and the next green thread's call waited for that lock in the kernel,
 * stopping the one OS thread for good (stunnel logging every connection,
 * with no syslog daemon: tests/integ/syslog_fmtmsg_blocked_write_keeps_other_threads.c).
 * On a worker the lock is only ever held by a worker's OS thread, whose
 * writes block as natively, and green threads that do not log go on. The
 * send to the log daemon, which may block too when its queue is full,
 * runs there as well. errno goes with the call (syslog's %m), the caller's
 * is left as it was; the va_list points into the parked caller's frame,
 * which the worker reads. The call runs to its end (natively a handler
 * does not end it either; its handlers run after).
 *
 * Left to libc: openlog, closelog and setlogmask, which take syslog's lock
 * only for a moment, never writing through stdio under it (they may wait,
 * blocking the OS thread, for a worker's syslog call in flight); and
 * calls of threads that are not green. */
#include <fmtmsg.h>
#include <stdarg.h>
#include <syslog.h>

#include "work.h"

/* syslog with _FORTIFY_SOURCE's check, declared only for such builds. */
void __syslog_chk(int pri, int flag, const char *fmt, ...);

struct sjob {
	int pri, flag;	 /* flag: __vsyslog_chk's; -1 for vsyslog */
	const char *fmt; /* syslog's; NULL for fmtmsg */
	va_list ap;
	long cls; /* fmtmsg's arguments */
	const char *label, *text, *action, *tag;
	int severity;
	int r;	 /* fmtmsg's result */
	int err; /* errno, there and back */
};

static long run(void *p)
{
	struct sjob *j = p;
	va_list ap;

	errno = j->err;
	if (!j->fmt) {
		j->r = GR_REAL(fmtmsg)(j->cls, j->label, j->severity, j->text, j->action, j->tag);
		return 0;
	}
	va_copy(ap, j->ap); /* a restart would need it whole again */
	if (j->flag < 0)
		GR_REAL(vsyslog)(j->pri, j->fmt, ap);
	else
		GR_REAL(__vsyslog_chk)(j->pri, j->flag, j->fmt, ap);
	va_end(ap);
	return 0;
}

/* 0 once the worker made the call, -1 when none can be had (the caller
 * then makes it itself). */
static int on_worker(struct sjob *j)
{
	int saved = errno;
	long r;

	j->err = saved;
	if (gr_work(run, j, 0, &r) < 0)
		return -1;
	errno = saved;
	gr_maybe_yield();
	return 0;
}

static void log_va(int pri, int flag, const char *fmt, va_list ap)
{
	struct sjob j = {.pri = pri, .flag = flag, .fmt = fmt};

	if (gr_green()) {
		va_copy(j.ap, ap);
		int done = on_worker(&j) == 0;
		va_end(j.ap);
		if (done)
			return;
	}
	if (flag < 0)
		GR_REAL(vsyslog)(pri, fmt, ap);
	else
		GR_REAL(__vsyslog_chk)(pri, flag, fmt, ap);
}

GR_EXPORT void vsyslog(int pri, const char *fmt, va_list ap)
{
	log_va(pri, -1, fmt, ap);
}

GR_EXPORT void syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(pri, -1, fmt, ap);
	va_end(ap);
}

GR_EXPORT void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	log_va(pri, flag < 0 ? 0 : flag, fmt, ap);
}

GR_EXPORT void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(pri, flag < 0 ? 0 : flag, fmt, ap);
	va_end(ap);
}

GR_EXPORT int fmtmsg(long cls, const char *label, int severity, const char *text,
		     const char *action, const char *tag)
{
	struct sjob j = {.cls = cls,
			 .label = label,
			 .severity = severity,
			 .text = text,
			 .action = action,
			 .tag = tag};

	if (gr_green() && on_worker(&j) == 0)
		return j.r;
	return GR_REAL(fmtmsg)(cls, label, severity, text, action, tag);
}
