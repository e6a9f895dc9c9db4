/* Logging and assertions. Messages go to fd 2 through the real write(),
 * never through stdio: the runtime may be in the middle of a switch, inside
 * a program's stdio call, or in a signal handler. */
#ifndef GR_LOG_H
#define GR_LOG_H

#include <stddef.h>

enum gr_log_level { GR_LOG_ERROR, GR_LOG_WARN, GR_LOG_INFO, GR_LOG_DEBUG };

/* Messages above this level are dropped; set once by gr_config_load(). */
extern int gr_log_level;

void gr_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define gr_log(level, ...)                                                                         \
	do {                                                                                       \
		if ((level) <= gr_log_level)                                                       \
			gr_log_write(level, __VA_ARGS__);                                          \
	} while (0)

/* Prints "greenify: fatal: ..." with the green thread's id, then aborts. */
void gr_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Asserts stay on in release builds: a corrupted scheduler must die loudly. */
#define GR_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0))                                                  \
			gr_die("assertion '%s' failed at %s:%d", #cond, __FILE__, __LINE__);       \
	} while (0)

/* Async-signal-safe pieces for messages built in a signal handler:
 * append a string or an unsigned number to buf at *len (bounded by cap). */
void gr_buf_str(char *buf, size_t cap, size_t *len, const char *s);
void gr_buf_num(char *buf, size_t cap, size_t *len, unsigned long long v);
/* Writes all of buf to fd 2 with the real write(); async-signal-safe. */
void gr_write_stderr(const char *buf, size_t len);

#endif
