#include "real.h"

#include <dlfcn.h>

#include "log.h"

struct gr_real_table gr_real;

static int real_ready;

void gr_real_init(void)
{
	if (__atomic_load_n(&real_ready, __ATOMIC_ACQUIRE))
		return;
	/* write first: the messages below need it. */
	gr_real.write = (__typeof__(write) *)dlsym(RTLD_NEXT, "write");
#define GR_REAL_LOOKUP(name)                                                                       \
	gr_real.name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                                \
	if (!gr_real.name)                                                                         \
		gr_die("cannot find the real %s: %s", #name, dlerror());
	GR_REAL_FUNCS(GR_REAL_LOOKUP)
	GR_REAL_STDIO_FUNCS(GR_REAL_LOOKUP)
#undef GR_REAL_LOOKUP
	__atomic_store_n(&real_ready, 1, __ATOMIC_RELEASE);
}
