/* OpenMP's wait policy, passive under greenify unless the program says.
 *
 * libgomp's threads, when OMP_WAIT_POLICY is unset, spin about 300,000
 * turns (its "3 ms") on a barrier or a team's start before they sleep in
 * a futex. Natively the thread they wait for runs meanwhile on another CPU;
 * here it runs only when the spinner gives the one OS thread up, which
 * preemption makes it do at a spin-wait hint after up to a tick (4 ms), at
 * every wait: a loop of 2,000 parallel regions takes seconds where it
 * takes milliseconds natively. The passive policy (libgomp's spin count 0)
 * is what its own documentation advises when threads outnumber CPUs, and
 * is what the kernel's scheduler makes of spinning on one CPU anyway.
 *
 * libgomp reads the variable with getenv in its constructor, which runs
 * before ours (it is a dependency of the program, we are only preloaded),
 * so the answer is given there: a getenv of OMP_WAIT_POLICY from libgomp's
 * code, when the variable is unset and so is GOMP_SPINCOUNT (the other
 * setting that decides its spinning), answers "PASSIVE". Everyone else,
 * the program's own getenv among them, reads the environment as it is;
 * GREENIFY_DISABLE=1 leaves libgomp's answer alone too. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"

static int from_libgomp(const void *caller)
{
	Dl_info info;
	const char *base;

	if (!dladdr(caller, &info) || !info.dli_fname)
		return 0;
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	return strncmp(base, "libgomp.so", 10) == 0;
}

GR_EXPORT char *getenv(const char *name)
{
	char *v = GR_REAL(getenv)(name);

	if (__builtin_expect(v != NULL || name[0] != 'O', 1) ||
	    strcmp(name, "OMP_WAIT_POLICY") != 0)
		return v;
	if (GR_REAL(getenv)("GOMP_SPINCOUNT") || !from_libgomp(__builtin_return_address(0)))
		return v;
	gr_config_load();
	return gr_config.disable ? v : (char *)"PASSIVE";
}
