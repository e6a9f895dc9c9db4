/* Thread-specific data per green thread.
 *
 * Keys come from glibc (pthread_key_create is called for real, so key
 * numbers never clash with glibc's own or a foreign thread's); we note each
 * key's destructor and a generation that pthread_key_delete bumps. Values
 * of green threads live in a two-level table hung off the thread (blocks of
 * 32, allocated when first set, from glibc's own heap: a program's malloc
 * may set a value inside itself, under its lock). main's values stay in glibc, where any it
 * set before the runtime started already are. Destructors run at green
 * thread exit, for PTHREAD_DESTRUCTOR_ITERATIONS rounds, as glibc does. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include "key.h"
#include "real.h"
#include "sched.h"

#define BLOCK	32
#define NBLOCKS (PTHREAD_KEYS_MAX / BLOCK)

struct key_info {
	void (*dtor)(void *); /* destructor, or NULL */
	unsigned gen;	      /* bumped by create and delete */
	int used;	      /* created and not deleted */
};

struct slot {
	void *value;
	unsigned gen; /* the key's gen when value was set */
};

struct specific {
	struct slot *blocks[NBLOCKS];
};

static struct key_info keys[PTHREAD_KEYS_MAX];
static unsigned nkeys; /* 1 + the highest key ever created */

void gr_key_created(pthread_key_t key, void (*dtor)(void *))
{
	if (key >= PTHREAD_KEYS_MAX)
		return;
	keys[key].dtor = dtor;
	keys[key].gen++;
	keys[key].used = 1;
	if (key >= nkeys)
		nkeys = key + 1;
}

void gr_key_deleted(pthread_key_t key)
{
	if (key >= PTHREAD_KEYS_MAX)
		return;
	keys[key].used = 0;
	keys[key].gen++;
}

static struct slot *slot_of(struct gr_thread *t, pthread_key_t key, int create)
{
	struct specific *sp = t->specific;
	struct slot *b;

	if (!sp) {
		if (!create)
			return NULL;
		sp = t->specific = gr_real.__libc_calloc(1, sizeof(*sp));
		if (!sp)
			return NULL;
	}
	b = sp->blocks[key / BLOCK];
	if (!b) {
		if (!create)
			return NULL;
		b = sp->blocks[key / BLOCK] = gr_real.__libc_calloc(BLOCK, sizeof(*b));
		if (!b)
			return NULL;
	}
	return &b[key % BLOCK];
}

void *gr_getspecific(pthread_key_t key)
{
	struct slot *s;

	if (key >= PTHREAD_KEYS_MAX)
		return NULL;
	s = slot_of(gr_rt.cur, key, 0);
	return s && s->gen == keys[key].gen ? s->value : NULL;
}

int gr_setspecific(pthread_key_t key, void *value)
{
	struct slot *s;

	if (key >= PTHREAD_KEYS_MAX || !keys[key].used)
		return -EINVAL;
	s = slot_of(gr_rt.cur, key, value != NULL);
	if (!s)
		return value ? -ENOMEM : 0;
	s->value = value;
	s->gen = keys[key].gen;
	return 0;
}

void gr_key_thread_exit(struct gr_thread *t)
{
	int main_thread = t == &gr_main_thread;

	/* Most threads never set a value: nothing to do (main's values are
	 * glibc's, so main always looks). */
	if (!t->specific && !main_thread)
		return;
	for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
		int called = 0;
		for (pthread_key_t k = 0; k < nkeys; k++) {
			void *v;
			if (!keys[k].used || !keys[k].dtor)
				continue;
			if (main_thread) {
				v = gr_real.pthread_getspecific(k);
				if (v)
					gr_real.pthread_setspecific(k, NULL);
			} else {
				struct slot *s = slot_of(t, k, 0);
				if (!s || s->gen != keys[k].gen || !s->value)
					continue;
				v = s->value;
				s->value = NULL;
			}
			if (v) {
				keys[k].dtor(v);
				called = 1;
			}
		}
		if (!called)
			break;
	}
	struct specific *sp = t->specific;
	if (sp) {
		for (int i = 0; i < NBLOCKS; i++)
			gr_real.__libc_free(sp->blocks[i]);
		gr_real.__libc_free(sp);
		t->specific = NULL;
	}
}
