/* What a new thread gets when its attr leaves a choice open, and glibc's
 * rules for the stack sizes it accepts (attr.c).
 *
 * glibc sizes a thread's stack from its default attr: RLIMIT_STACK at
 * start-up ("unlimited" means the architecture's default, 2 MiB on x86_64
 * and aarch64; at least PTHREAD_STACK_MIN, and room for the static TLS and
 * 2 KiB more), rounded up to pages, with a guard of one page; the program
 * may change both with pthread_setattr_default_np. Rather than redo those
 * rules, greenify asks glibc for its default attr (and again after each
 * pthread_setattr_default_np), so the two cannot disagree; a
 * GREENIFY_STACK_SIZE is written into glibc's default at start-up, so the
 * program sees the size its threads get. */
#ifndef GR_ATTR_H
#define GR_ATTR_H

#include <signal.h>
#include <stddef.h>

/* glibc's MINIMAL_REST_STACK: what a stack must hold besides the TLS. */
#define GR_ATTR_REST_STACK 2048

/* What glibc's default attr says (pthread_getattr_default_np). */
struct gr_thread_defaults {
	size_t stack_size;  /* bytes */
	size_t guard_size;  /* bytes */
	int detached;	    /* PTHREAD_CREATE_DETACHED */
	int explicit_sched; /* PTHREAD_EXPLICIT_SCHED */
	int policy;	    /* its policy and priority, when explicit */
	int priority;
	int has_sigmask;  /* pthread_attr_setsigmask_np named one: */
	sigset_t sigmask; /* a thread made without an attr starts with it */
};

extern struct gr_thread_defaults gr_thread_defaults;

/* At start-up: GREENIFY_STACK_SIZE into glibc's default, then the
 * defaults read. */
void gr_attr_start(void);
/* Reads glibc's default attr again (after pthread_setattr_default_np). */
void gr_attr_refresh(void);

/* glibc's room for static TLS on a stack: its static TLS size (struct
 * pthread included on x86_64) rounded to its alignment. */
size_t gr_attr_tls_static(void);
/* 0, or -EINVAL where glibc's allocate_stack says the stack (with guard)
 * cannot hold the TLS and its minimum. */
int gr_attr_check_stack(size_t size, size_t guard);
/* The same for the program's own memory (pthread_attr_setstack). */
int gr_attr_check_user_stack(size_t size);
/* The slot size for a stack of size bytes: size, or more when greenify's
 * own block and TLS vector would leave less room than glibc leaves. */
size_t gr_attr_slot_size(size_t size);

#endif
