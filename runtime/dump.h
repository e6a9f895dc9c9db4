/* greenify dump PID: the per-process socket and the dump (dump.c). */
#ifndef GR_DUMP_H
#define GR_DUMP_H

#include <stdint.h>
#include <uv.h>

#include "../arch/ctx.h"
#include "clock.h"

/* GREENIFY_DUMP is on: parks and wake-ups stamp their time (since), for
 * the dump's "for how long". */
extern int gr_dump_on;

/* A cheap clock for those stamps: the CPU's counter where there is one
 * (a few ns; the dump finds its rate), else the monotonic clock in ns. */
static inline uint64_t gr_dump_clock(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
	return gr_ctx_ticks();
#else
	return (uint64_t)gr_now();
#endif
}

/* The stamp: the clock in units of 2^GR_DUMP_SHIFT, in 32 bits, which
 * wrap after days (x86_64's TSC: about 0.3 ms units, 2 weeks; aarch64's
 * counter, tens of MHz: about 0.1 ms, 5 days); never 0, which is "not
 * stamped". */
#if defined(__aarch64__)
#define GR_DUMP_SHIFT 12
#else
#define GR_DUMP_SHIFT 20
#endif
static inline uint32_t gr_dump_stamp(void)
{
	return (uint32_t)(gr_dump_clock() >> GR_DUMP_SHIFT) | 1;
}

/* With GREENIFY_DUMP=1, listens on the abstract socket "greenify.PID";
 * always 0 (a dump that cannot start leaves the program alone). */
int gr_dump_init(uv_loop_t *loop);

/* In a fork child, after the loop is rebuilt: its own socket and listener. */
void gr_dump_fork_child(void);
/* Whether a peer of uid peer_uid may ask a process of uid our_uid. */
int gr_dump_peer_allowed(unsigned peer_uid, unsigned our_uid);

#endif
