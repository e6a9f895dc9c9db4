/* The parts of the context interface shared by every architecture: choosing
 * the implementation and the ucontext fallback. */
#include <errno.h>
#include <stdint.h>

#include "ctx.h"

/* ucontext until gr_ctx_select() says otherwise: it works everywhere. */
int gr_ctx_ucontext = 1;

int gr_ctx_select(int use_ucontext)
{
	if (!use_ucontext && !gr_ctx_have_asm)
		return -ENOTSUP;
	gr_ctx_ucontext = use_ucontext;
	return 0;
}

/* makecontext passes int arguments only, so the function and its argument
 * travel as two pairs of 32-bit halves. */
static void uc_entry(unsigned fn_hi, unsigned fn_lo, unsigned arg_hi, unsigned arg_lo)
{
	void (*fn)(void *) = (void (*)(void *))(uintptr_t)((uint64_t)fn_hi << 32 | fn_lo);
	void *arg = (void *)(uintptr_t)((uint64_t)arg_hi << 32 | arg_lo);

	fn(arg);
	__builtin_trap();
}

void gr_ctx_make(struct gr_ctx *ctx, void *stack_lo, size_t size, void (*fn)(void *), void *arg)
{
	char *top = (char *)stack_lo + size;

	if (!gr_ctx_ucontext) {
		ctx->sp = gr_ctx_make_asm(top, fn, arg);
		return;
	}
	top -= sizeof(ucontext_t);
	top = (char *)((uintptr_t)top & ~(uintptr_t)63);
	ctx->uc = (ucontext_t *)top;
	getcontext(ctx->uc);
	ctx->uc->uc_link = NULL;
	ctx->uc->uc_stack.ss_sp = stack_lo;
	ctx->uc->uc_stack.ss_size = (size_t)(top - (char *)stack_lo);
	uint64_t f = (uint64_t)(uintptr_t)fn, a = (uint64_t)(uintptr_t)arg;
	makecontext(ctx->uc, (void (*)(void))uc_entry, 4, (unsigned)(f >> 32), (unsigned)f,
		    (unsigned)(a >> 32), (unsigned)a);
}

void gr_ctx_init_current(struct gr_ctx *ctx, ucontext_t *storage)
{
	ctx->uc = gr_ctx_ucontext ? storage : NULL;
}
