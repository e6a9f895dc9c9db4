/* Finished threads that nobody has joined yet.
 *
 * glibc keeps a finished joinable thread's whole stack until the join,
 * because its struct pthread lives there. Ours need not: all a join wants
 * is the return value. So a thread that finishes before its join leaves a
 * 16-byte record here and its stack goes back to the pool at once, hot and
 * ready for the next thread. A program that creates threads faster than it
 * joins them (the talk's Prog 1) then reuses a few thousand stacks instead of
 * faulting in a fresh page for every one of a million threads. */
#ifndef GR_ZOMBIE_H
#define GR_ZOMBIE_H

#include <stdint.h>

/* Records handle's return value. 0, or -ENOMEM (the caller then keeps the
 * thread's stack as glibc would). */
int gr_zombie_add(uint64_t handle, void *retval);
/* Removes handle's record. Returns 1 and its return value, or 0 if none. */
int gr_zombie_take(uint64_t handle, void **retval);
/* Whether handle has a record. */
int gr_zombie_has(uint64_t handle);

#endif
