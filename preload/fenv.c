/* Floating-point environment: fesetround, fesetenv, feupdateenv,
 * feholdexcept, feenableexcept, fedisableexcept.
 *
 * Each green thread keeps its own floating-point control state across
 * switches. On x86_64 the switch always carries MXCSR but carries the x87
 * control word only once told it may change (reading it costs more than the
 * rest of the switch); these hooks tell it, then call libm. A program that
 * writes the x87 control word with inline fldcw (_FPU_SETCW) bypasses them:
 * that word is then shared by its green threads (README, limitations).
 * libm may not be loaded when we start, so the real functions are looked up
 * on first use rather than in the real-function table. */
#include "hook.h"

#include <dlfcn.h>
#include <fenv.h>

#include "../arch/ctx.h"

#define FENV_HOOK(ret, name, params, args)                                                         \
	GR_EXPORT ret name params                                                                  \
	{                                                                                          \
		static __typeof__(name) *real;                                                     \
		if (!real)                                                                         \
			real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                        \
		if (!real)                                                                         \
			gr_die("cannot find the real " #name);                                     \
		gr_ctx_fpu_changing();                                                             \
		return real args;                                                                  \
	}

FENV_HOOK(int, fesetround, (int mode), (mode))
FENV_HOOK(int, fesetenv, (const fenv_t *env), (env))
FENV_HOOK(int, feupdateenv, (const fenv_t *env), (env))
FENV_HOOK(int, feholdexcept, (fenv_t * env), (env))
FENV_HOOK(int, feenableexcept, (int excepts), (excepts))
FENV_HOOK(int, fedisableexcept, (int excepts), (excepts))
