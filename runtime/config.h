/* Configuration, read once from the environment (secure_getenv, so setuid
 * programs ignore it) before anything else in the runtime runs. */
#ifndef GR_CONFIG_H
#define GR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct gr_config {
	size_t stack_size;    /* default stack, bytes (GREENIFY_STACK_SIZE); 0: glibc's */
	int stats;	      /* print a summary at exit (GREENIFY_STATS) */
	int64_t slice_ns;     /* busy thread yields after this (GREENIFY_SLICE_MS) */
	int tls_shared;	      /* 1: TLS shared by all green threads (GREENIFY_TLS) */
	int ucontext;	      /* 1: portable ucontext switch (GREENIFY_SWITCH) */
	int disable;	      /* 1: every hook calls libc (GREENIFY_DISABLE) */
	int prefault;	      /* 1: a helper thread prepares stacks (GREENIFY_PREFAULT) */
	int syscall_dispatch; /* 1: calls outside libc dispatched (GREENIFY_SYSCALL_DISPATCH) */
	int deadlock_abort;   /* 1: abort after a deadlock report (GREENIFY_DEADLOCK) */
	int file_io_pool;     /* 1: regular-file I/O on the pool (GREENIFY_FILE_IO) */
	unsigned workers;     /* most worker threads for blocking calls
				 (GREENIFY_WORKERS) */
	int stdio_ready;      /* 1: stdio waits for readiness before a call, libc's
				 tables left alone (GREENIFY_STDIO) */
	int dump;	      /* 1: listen for greenify dump PID (GREENIFY_DUMP) */
	int preempt;	      /* 1: busy threads are preempted (GREENIFY_PREEMPT) */
	int64_t monitor_ns;   /* report stalls this long, 0: off (GREENIFY_MONITOR) */
};

extern struct gr_config gr_config;

/* Fills gr_config from the environment; idempotent. Bad values are reported
 * with a warning and replaced by the default, never silently accepted. */
void gr_config_load(void);

/* Parses a size with an optional k/m/g suffix (powers of 1024). Returns 0 or
 * -EINVAL. Exposed for the unit tests. */
int gr_parse_size(const char *s, size_t *out);

#endif
