/* greenify dump PID: the per-process socket and the dump (dump.c). */
#ifndef GR_DUMP_H
#define GR_DUMP_H

#include <uv.h>

/* With GREENIFY_DUMP=1, listens on the abstract socket "greenify.PID";
 * always 0 (a dump that cannot start leaves the program alone). */
int gr_dump_init(uv_loop_t *loop);

/* In a fork child, after the loop is rebuilt: its own socket and listener. */
void gr_dump_fork_child(void);
/* Whether a peer of uid peer_uid may ask a process of uid our_uid. */
int gr_dump_peer_allowed(unsigned peer_uid, unsigned our_uid);

#endif
