/* The one place that reads GREENIFY_* variables. Documented in README.md. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"

#define GR_STACK_MIN (16 * 1024) /* PTHREAD_STACK_MIN on x86_64 */

struct gr_config gr_config = {
	.slice_ns = 10 * GR_MSEC,
	.prefault = 1,
	.syscall_dispatch = 1,
	.workers = 128,
};

int gr_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || v > (~0ULL >> shift))
		return -EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

static int parse_bool(const char *name, const char *v, int def)
{
	if (!v || !*v)
		return def;
	if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") ||
	    !strcasecmp(v, "true"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off") ||
	    !strcasecmp(v, "false"))
		return 0;
	gr_log(GR_LOG_WARN, "%s=%s is not a boolean; using %d", name, v, def);
	return def;
}

static void load_log_level(void)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	const char *v = secure_getenv("GREENIFY_LOG");

	if (!v || !*v)
		return;
	for (int i = 0; i < 4; i++)
		if (!strcasecmp(v, names[i])) {
			gr_log_level = i;
			return;
		}
	gr_log(GR_LOG_WARN, "GREENIFY_LOG=%s: expected error, warn, info or debug", v);
}

static void load_stack_size(void)
{
	const char *v = secure_getenv("GREENIFY_STACK_SIZE");
	size_t size;

	if (!v || !*v)
		return;
	if (gr_parse_size(v, &size) < 0 || size < GR_STACK_MIN || size > (size_t)1 << 32) {
		gr_log(GR_LOG_WARN,
		       "GREENIFY_STACK_SIZE=%s: expected 16k to 4g (k/m/g suffix); using glibc's "
		       "default",
		       v);
		return;
	}
	gr_config.stack_size = size;
}

/* The integer in variable name, within [lo, hi]: 1 and *out, or 0 when
 * unset or bad (bad is reported with what would do). */
static int load_long(const char *name, long lo, long hi, const char *unit, long *out)
{
	const char *v = secure_getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < lo || n > hi) {
		gr_log(GR_LOG_WARN, "%s=%s: expected %ld to %ld%s", name, v, lo, hi, unit);
		return 0;
	}
	*out = n;
	return 1;
}

static void load_numbers(void)
{
	long n;

	if (load_long("GREENIFY_SLICE_MS", 1, 60000, "", &n))
		gr_config.slice_ns = n * GR_MSEC;
	if (load_long("GREENIFY_MONITOR", 0, 3600000, " ms (0: off)", &n))
		gr_config.monitor_ns = n * GR_MSEC;
	if (load_long("GREENIFY_WORKERS", 1, 4096, "", &n))
		gr_config.workers = (unsigned)n;
}

static void load_choice(const char *name, const char *a, const char *b, int *out)
{
	const char *v = secure_getenv(name);

	if (!v || !*v)
		return;
	if (!strcasecmp(v, a))
		*out = 0;
	else if (!strcasecmp(v, b))
		*out = 1;
	else
		gr_log(GR_LOG_WARN, "%s=%s: expected %s or %s", name, v, a, b);
}

void gr_config_load(void)
{
	static int loaded;

	if (loaded)
		return;
	loaded = 1;
	load_log_level();
	gr_config.disable = parse_bool("GREENIFY_DISABLE", secure_getenv("GREENIFY_DISABLE"), 0);
	gr_config.stats = parse_bool("GREENIFY_STATS", secure_getenv("GREENIFY_STATS"), 0);
	gr_config.prefault = parse_bool("GREENIFY_PREFAULT", secure_getenv("GREENIFY_PREFAULT"), 1);
	gr_config.syscall_dispatch = parse_bool("GREENIFY_SYSCALL_DISPATCH",
						secure_getenv("GREENIFY_SYSCALL_DISPATCH"), 1);
	gr_config.dump = parse_bool("GREENIFY_DUMP", secure_getenv("GREENIFY_DUMP"), 0);
	gr_config.preempt = parse_bool("GREENIFY_PREEMPT", secure_getenv("GREENIFY_PREEMPT"), 1);
	load_choice("GREENIFY_DEADLOCK", "wait", "abort", &gr_config.deadlock_abort);
	load_choice("GREENIFY_FILE_IO", "direct", "pool", &gr_config.file_io_pool);
	load_choice("GREENIFY_STDIO", "green", "ready", &gr_config.stdio_ready);
	load_stack_size();
	load_numbers();
	load_choice("GREENIFY_SWITCH", "asm", "ucontext", &gr_config.ucontext);
	load_choice("GREENIFY_TLS", "private", "shared", &gr_config.tls_shared);
}
