/* Logging: one formatted line per call, written with a single real write()
 * so lines from a process and its children do not interleave mid-line. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "real.h"
#include "sched.h"

int gr_log_level = GR_LOG_WARN;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void gr_write_stderr(const char *buf, size_t len)
{
	int saved = errno;

	if (!gr_real.write)
		gr_real_init();
	while (len > 0) {
		ssize_t n = gr_real.write(2, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf += n;
		len -= (size_t)n;
	}
	errno = saved;
}

void gr_buf_str(char *buf, size_t cap, size_t *len, const char *s)
{
	while (*s && *len + 1 < cap)
		buf[(*len)++] = *s++;
	buf[*len] = '\0';
}

void gr_buf_num(char *buf, size_t cap, size_t *len, unsigned long long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0 && *len + 1 < cap)
		buf[(*len)++] = digits[--n];
	buf[*len] = '\0';
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "greenify: %s", prefix);
	int m;

	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	gr_write_stderr(line, (size_t)n);
}

void gr_log_write(int level, const char *fmt, ...)
{
	char prefix[16];
	va_list ap;

	if (level == GR_LOG_WARN || level == GR_LOG_INFO)
		prefix[0] = '\0'; /* the common case reads best unlabelled */
	else
		snprintf(prefix, sizeof(prefix), "%s: ", level_names[level]);
	va_start(ap, fmt);
	vlog(prefix, fmt, ap);
	va_end(ap);
}

void gr_die(const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "fatal (green thread %llu): ",
		 gr_rt.cur ? (unsigned long long)gr_rt.cur->id : 0ULL);
	va_start(ap, fmt);
	vlog(prefix, fmt, ap);
	va_end(ap);
	abort();
}
