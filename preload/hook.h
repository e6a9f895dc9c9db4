/* What every hook file shares: the export marker and the two questions each
 * hook asks first, "am I green?" and "may I become green?". */
#ifndef GR_HOOK_H
#define GR_HOOK_H

#include <errno.h>

#include "../runtime/config.h"
#include "../runtime/log.h"
#include "../runtime/real.h"
#include "../runtime/sched.h"

/* The library is built with -fvisibility=hidden; only hooks are exported. */
#define GR_EXPORT __attribute__((visibility("default")))

/* The real function, also when a hook runs before our constructor (another
 * library's constructor may create a thread or sleep). */
#define GR_REAL(name)                                                                              \
	(__builtin_expect(gr_real.name != NULL, 1) ? gr_real.name : (gr_real_init(), gr_real.name))

/* libc's convention for a runtime result (0 or more, or -errno): the
 * value, or -1 with errno set. pthread_* hooks return the error number
 * instead, as they must. */
static inline long gr_ret(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* For hooks that may start the runtime (pthread_create): true when the
 * caller is, or has just become, a green thread. */
static inline int gr_green_or_start(void)
{
	if (gr_green())
		return 1;
	if (gr_rt.started || gr_tls_runtime)
		return 0; /* a foreign OS thread, or the runtime itself */
	gr_real_init();
	gr_config_load();
	if (gr_config.disable)
		return 0;
	int saved = errno; /* pthread_* calls leave errno alone */
	int ok = gr_start() == 0;
	errno = saved;
	return ok;
}

/* The real pthread_t of the OS thread green thread th runs on, for the
 * calls that act on the OS thread; 0 when th names no green thread (one that
 * finished but was not joined still counts, as in glibc). */
static inline pthread_t gr_os_thread(pthread_t th)
{
	return gr_thread_done((uint64_t)th) >= 0 ? (pthread_t)gr_main_thread.handle : 0;
}

#endif
