/* Thread-specific data hooks. The work is in runtime/key.c.
 * pthread_key_create and pthread_key_delete go to glibc for the key number
 * and are noted for green threads' destructors; main's values stay in
 * glibc. */
#include "hook.h"

#include <stdint.h>

#include "../runtime/key.h"

GR_EXPORT int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	int err = GR_REAL(pthread_key_create)(key, dtor);

	if (err == 0)
		gr_key_created(*key, dtor);
	return err;
}

GR_EXPORT int pthread_key_delete(pthread_key_t key)
{
	int err = GR_REAL(pthread_key_delete)(key);

	if (err == 0)
		gr_key_deleted(key);
	return err;
}

GR_EXPORT void *pthread_getspecific(pthread_key_t key)
{
	if (!gr_green() || gr_rt.cur == &gr_main_thread)
		return GR_REAL(pthread_getspecific)(key);
	return gr_getspecific(key);
}

GR_EXPORT int pthread_setspecific(pthread_key_t key, const void *value)
{
	if (!gr_green() || gr_rt.cur == &gr_main_thread)
		return GR_REAL(pthread_setspecific)(key, value);
	return -gr_setspecific(key, (void *)(uintptr_t)value);
}
