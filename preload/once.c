/* pthread_once. The work is in runtime/once.c; a caller that is not green
 * gets glibc's, through the runtime, which must wake green waiters if the
 * routine started the runtime. */
#include "hook.h"

#include "../runtime/lock.h"

GR_EXPORT int pthread_once(pthread_once_t *once, void (*init)(void))
{
	if (!gr_green())
		return gr_once_libc(once, init);
	return -gr_once(once, init);
}
