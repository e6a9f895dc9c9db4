/* Green pthread_once: glibc's pthread_once_t, bit 0 "in progress", bit 1
 * "done". An initialiser that blocks makes the other callers wait for it. */
#include "lock.h"
#include "wait.h"

#define ONCE_IN_PROGRESS 1
#define ONCE_DONE	 2

int gr_once(pthread_once_t *once, void (*init)(void))
{
	while (*once & ONCE_IN_PROGRESS)
		gr_wait_addr(once, GR_BITSET_ANY, GR_WAIT_ONCE, once, 0);
	if (*once & ONCE_DONE)
		return 0;
	*once = ONCE_IN_PROGRESS;
	init();
	*once = ONCE_DONE;
	gr_wake_addr(once, 0x7fffffff, GR_BITSET_ANY);
	return 0;
}
