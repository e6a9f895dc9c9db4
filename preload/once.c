/* pthread_once. The work is in runtime/once.c. */
#include "hook.h"

#include "../runtime/lock.h"

GR_EXPORT int pthread_once(pthread_once_t *once, void (*init)(void))
{
	if (!gr_green())
		return GR_REAL(pthread_once)(once, init);
	return -gr_once(once, init);
}
