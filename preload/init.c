/* Library constructor: find the real functions and read the configuration
 * before main. The runtime itself starts lazily, at the first
 * pthread_create: a program that never creates a thread runs as without us. */
#include "hook.h"

__attribute__((constructor)) static void greenify_init(void)
{
	gr_real_init();
	gr_config_load();
}
