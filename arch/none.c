/* Architectures without an assembly switch: only ucontext is available, and
 * gr_ctx_select() refuses the assembly one, so these are never called. */
#include <errno.h>
#include <stdlib.h>

#include "ctx.h"

const int gr_ctx_have_asm = 0;

/* Nothing known of the signal frame: GR_SIG_OWN keeps no SA_RESTART. */
const int gr_ctx_can_fail_syscall = 0;

int gr_ctx_fail_syscall(void *uc, int (*may_fail)(long nr))
{
	(void)uc;
	(void)may_fail;
	return 0;
}

void *gr_ctx_make_asm(void *stack_top, void (*fn)(void *), void *arg)
{
	(void)stack_top;
	(void)fn;
	(void)arg;
	abort();
}

void gr_switch_asm(void **save_sp, void *new_sp)
{
	(void)save_sp;
	(void)new_sp;
	abort();
}

/* swapcontext saves the whole floating-point environment. */
void gr_ctx_fpu_changing(void)
{
}

/* No known way to move the thread pointer here: TLS stays shared. */
int gr_ctx_tp_fast;

int gr_ctx_tp_init(void)
{
	return -ENOTSUP;
}

void *gr_ctx_get_tp(void)
{
	return NULL;
}

void gr_ctx_set_tp_slow(void *tp)
{
	(void)tp;
	abort();
}
