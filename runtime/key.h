/* Thread-specific data of green threads (key.c). */
#ifndef GR_KEY_H
#define GR_KEY_H

#include <pthread.h>

#include "sched.h"

void gr_key_created(pthread_key_t key, void (*dtor)(void *));
void gr_key_deleted(pthread_key_t key);
/* The current (non-main) green thread's value for key. */
void *gr_getspecific(pthread_key_t key);
int gr_setspecific(pthread_key_t key, void *value);
/* Runs t's destructors (t is finishing, and running) and frees its table. */
void gr_key_thread_exit(struct gr_thread *t);

#endif
