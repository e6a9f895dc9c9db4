/* Hazard: pthread keys must hold one value per thread (glibc keeps them in
 * the kernel thread's descriptor, which green threads share) and their
 * destructors must run when each thread ends, on that thread, as glibc does:
 *   values are per thread: two threads interleave set/get on one key;
 *   at exit each non-NULL value's destructor runs once with that value, the
 *     slot already NULL (getspecific inside the destructor gives NULL), on
 *     the exiting thread (pthread_self inside it is that thread); ending by
 *     return and by pthread_exit are the same;
 *   a destructor that sets its key again is run again, for at most
 *     PTHREAD_DESTRUCTOR_ITERATIONS (4) rounds in all;
 *   NULL values get no destructor call;
 *   a key deleted while a thread still has a value: no destructor call;
 *   a key created after another was deleted reads NULL everywhere, even in
 *     a thread that had a value in the old key;
 *   key_delete of a deleted key and setspecific on it -> EINVAL (until the
 *     number is handed out again by key_create);
 *   key_create fails with EAGAIN after PTHREAD_KEYS_MAX (1024) keys in all. */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define THREADS 4

static pthread_key_t k_plain, k_again, k_forever, k_null, k_deleted;

/* Destructor calls, per thread. */
struct record {
	pthread_t self;                    /* the thread, as pthread_create saw it */
	int plain_calls, plain_value_ok, plain_slot_null, plain_on_self;
	int again_calls, forever_calls, deleted_calls;
	int own_values_ok;                 /* interleaved set/get saw its own */
	int end_by_exit;
};

static struct record rec[THREADS];
static pthread_barrier_t bar;
static atomic_int null_calls; /* destructor calls for NULL values (must stay 0) */

static struct record *mine(void *value)
{
	return (struct record *)value;
}

static void d_plain(void *v)
{
	struct record *r = mine(v);

	r->plain_calls++;
	r->plain_value_ok = r >= rec && r < rec + THREADS;
	r->plain_slot_null = pthread_getspecific(k_plain) == NULL;
	r->plain_on_self = pthread_equal(pthread_self(), r->self);
}

static void d_again(void *v)
{
	struct record *r = mine(v);

	/* Ask for 3 rounds in all. */
	if (++r->again_calls < 3)
		pthread_setspecific(k_again, r);
}

static void d_forever(void *v)
{
	struct record *r = mine(v);

	r->forever_calls++;
	pthread_setspecific(k_forever, r);
}

static void d_null(void *v)
{
	(void)v;
	atomic_fetch_add(&null_calls, 1);
}

static void d_deleted(void *v)
{
	mine(v)->deleted_calls++;
}

static void *use_keys(void *arg)
{
	struct record *r = arg;
	int ok = 1;

	MUST(pthread_setspecific(k_null, NULL));
	MUST(pthread_setspecific(k_deleted, r));
	for (int i = 0; i < 20; i++) {
		MUST(pthread_setspecific(k_plain, (char *)r + (i % 2)));
		sleep_ms(1); /* let the others set theirs */
		ok &= pthread_getspecific(k_plain) == (char *)r + (i % 2);
	}
	r->own_values_ok = ok;
	MUST(pthread_setspecific(k_plain, r));
	MUST(pthread_setspecific(k_again, r));
	MUST(pthread_setspecific(k_forever, r));
	/* Wait until main has deleted k_deleted. */
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	if (r->end_by_exit)
		pthread_exit(NULL);
	return NULL;
}

/* ---- a recreated key reads NULL in a thread that set the old one ---- */
static pthread_key_t k_old, k_new;
static void *old_value_seen_in_new_key;
static pthread_barrier_t bar2;

static void *set_old_then_read_new(void *arg)
{
	(void)arg;
	MUST(pthread_setspecific(k_old, &k_old));
	pthread_barrier_wait(&bar2); /* main deletes k_old, creates k_new */
	pthread_barrier_wait(&bar2);
	old_value_seen_in_new_key = pthread_getspecific(k_new);
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	pthread_key_t extra[PTHREAD_KEYS_MAX + 1];
	int live, created = 0, rc = 0;
	int n_ok = 1;

	alarm(20);
	MUST(pthread_key_create(&k_plain, d_plain));
	MUST(pthread_key_create(&k_again, d_again));
	MUST(pthread_key_create(&k_forever, d_forever));
	MUST(pthread_key_create(&k_null, d_null));
	MUST(pthread_key_create(&k_deleted, d_deleted));
	MUST(pthread_barrier_init(&bar, NULL, THREADS + 1));
	MUST(pthread_setspecific(k_plain, &bar));

	for (int i = 0; i < THREADS; i++) {
		rec[i].end_by_exit = i % 2;
		MUST(pthread_create(&t[i], NULL, use_keys, &rec[i]));
		rec[i].self = t[i];
	}
	pthread_barrier_wait(&bar);
	CHECK_ERR(pthread_key_delete(k_deleted), 0, "key_delete while threads hold values");
	pthread_barrier_wait(&bar);
	for (int i = 0; i < THREADS; i++)
		MUST(pthread_join(t[i], NULL));

	CHECK(pthread_getspecific(k_plain) == &bar, "main's own value is untouched");
	for (int i = 0; i < THREADS; i++) {
		struct record *r = &rec[i];
		const char *how = r->end_by_exit ? "pthread_exit" : "return";

		CHECK(r->own_values_ok, "thread %d: always read its own value", i);
		CHECK(r->plain_calls == 1, "thread %d (%s): destructor ran once", i, how);
		CHECK(r->plain_value_ok && r->plain_slot_null,
		      "thread %d: with its value, slot already NULL", i);
		CHECK(r->plain_on_self, "thread %d: on the exiting thread", i);
		CHECK(r->again_calls == 3, "thread %d: re-set twice -> 3 rounds (%d)", i, r->again_calls);
		CHECK(r->forever_calls == PTHREAD_DESTRUCTOR_ITERATIONS,
		      "thread %d: always re-set -> PTHREAD_DESTRUCTOR_ITERATIONS rounds (%d)", i,
		      r->forever_calls);
		CHECK(r->deleted_calls == 0, "thread %d: deleted key's destructor not run", i);
	}
	CHECK(atomic_load(&null_calls) == 0, "NULL values get no destructor call");
	/* Before any key_create: glibc hands deleted key numbers out again. */
	CHECK_ERR(pthread_key_delete(k_deleted), EINVAL, "key_delete of a deleted key");
	CHECK_ERR(pthread_setspecific(k_deleted, &bar), EINVAL, "setspecific on a deleted key");
	CHECK(pthread_getspecific(k_deleted) == NULL, "getspecific on a deleted key gives NULL");

	/* Recreated key. */
	MUST(pthread_key_create(&k_old, NULL));
	MUST(pthread_setspecific(k_old, &k_old));
	MUST(pthread_barrier_init(&bar2, NULL, 2));
	MUST(pthread_create(&t[0], NULL, set_old_then_read_new, NULL));
	pthread_barrier_wait(&bar2);
	MUST(pthread_key_delete(k_old));
	MUST(pthread_key_create(&k_new, NULL));
	pthread_barrier_wait(&bar2);
	MUST(pthread_join(t[0], NULL));
	CHECK(pthread_getspecific(k_new) == NULL, "new key after a delete: NULL in main");
	CHECK(old_value_seen_in_new_key == NULL, "new key after a delete: NULL in a thread");

	/* Keys alive now: k_plain, k_again, k_forever, k_null, k_new. */
	live = 5;
	while (created <= PTHREAD_KEYS_MAX && (rc = pthread_key_create(&extra[created], NULL)) == 0)
		created++;
	CHECK_ERR(rc, EAGAIN, "key_create past the limit");
	CHECK(live + created == PTHREAD_KEYS_MAX, "after PTHREAD_KEYS_MAX keys in all (%d)",
	      live + created);
	for (int i = 0; i < created; i++)
		n_ok &= pthread_key_delete(extra[i]) == 0;
	CHECK(n_ok, "all of them deleted");
	CHECK_ERR(pthread_key_create(&extra[0], NULL), 0, "key_create works again");
	return check_done();
}
