/* Stack overflow reports (guard.c): a SIGSEGV handler on an alternate
 * stack that names the green thread whose guard page was hit. */
#ifndef GR_GUARD_H
#define GR_GUARD_H

#include "thread.h"

/* Installs the handler and its alternate stack, on the runtime thread. */
void gr_guard_init(void);
/* The canary of t's stack was overwritten: says so and aborts. */
void gr_report_overflow(const struct gr_thread *t) __attribute__((noreturn));

#endif
