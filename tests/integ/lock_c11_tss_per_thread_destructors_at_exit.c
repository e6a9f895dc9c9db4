/* Hazard: tss_* are glibc's pthread keys reached inside libc, where no hook
 * sees them: glibc keeps the values in the OS thread's descriptor, which
 * green threads share, and its key destructors never hear of a green
 * thread's exit. So:
 *   values are per thread: 4 threads set their own value in one key and,
 *     after each of 20 sleeps (switches), tss_get gives each its own; a new
 *     thread's tss_get gives NULL;
 *   at exit (by return and by thrd_exit alike) each non-NULL value's
 *     destructor runs once, with that value, on the exiting thread
 *     (thrd_current inside it is that thread), its slot already NULL;
 *   a destructor that sets its key again runs again, TSS_DTOR_ITERATIONS
 *     rounds in all;
 *   a NULL value gets no destructor call; nor does a value of a key
 *     tss_delete deleted before the thread ended;
 *   tss_create and tss_set -> thrd_success; once every key is taken,
 *     tss_create -> thrd_error (glibc's EAGAIN). */
#define _GNU_SOURCE
#include <limits.h>
#include <unistd.h>

#include "c11.h"

#define THREADS 4

static tss_t k_plain, k_again, k_null, k_deleted;

struct record {
	thrd_t self;
	int own_values, plain_calls, plain_value_ok, plain_slot_null, plain_on_self;
	int again_calls, deleted_calls, set_results;
};

static struct record rec[THREADS];
static atomic_int null_calls, deleted_ready, deleted_gone;

static void d_plain(void *v)
{
	struct record *r = v;

	r->plain_calls++;
	r->plain_value_ok = r >= rec && r < rec + THREADS;
	r->plain_slot_null = tss_get(k_plain) == NULL;
	r->plain_on_self = thrd_equal(thrd_current(), r->self);
}

static void d_again(void *v)
{
	struct record *r = v;

	r->again_calls++;
	tss_set(k_again, r); /* again and again: glibc stops after its rounds */
}

static void d_null(void *v)
{
	(void)v;
	atomic_fetch_add(&null_calls, 1);
}

static void d_deleted(void *v)
{
	((struct record *)v)->deleted_calls++;
}

static int worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct record *r = &rec[i];

	r->self = thrd_current();
	r->own_values = tss_get(k_plain) == NULL && tss_get(k_again) == NULL;
	r->set_results = tss_set(k_plain, r) == thrd_success;
	r->set_results &= tss_set(k_again, r) == thrd_success;
	r->set_results &= tss_set(k_null, NULL) == thrd_success;
	r->set_results &= tss_set(k_deleted, r) == thrd_success;
	atomic_fetch_add(&deleted_ready, 1);
	for (int k = 0; k < 20; k++) {
		sleep_ms(1 + (i + k) % 3);
		r->own_values &= tss_get(k_plain) == r && tss_get(k_again) == r;
	}
	while (!atomic_load(&deleted_gone))
		sleep_ms(1);
	if (i % 2)
		thrd_exit(0);
	return 0;
}

int main(void)
{
	thrd_t t[THREADS];

	alarm(20);
	CHECK_C11(tss_create(&k_plain, d_plain), thrd_success, "tss_create -> thrd_success");
	MUST(tss_create(&k_again, d_again));
	MUST(tss_create(&k_null, d_null));
	MUST(tss_create(&k_deleted, d_deleted));
	for (int i = 0; i < THREADS; i++)
		MUST(thrd_create(&t[i], worker, (void *)(intptr_t)i));
	while (atomic_load(&deleted_ready) < THREADS)
		sleep_ms(1);
	tss_delete(k_deleted);
	atomic_store(&deleted_gone, 1);
	for (int i = 0; i < THREADS; i++)
		MUST(thrd_join(t[i], NULL));

	for (int i = 0; i < THREADS; i++) {
		struct record *r = &rec[i];
		const char *how = i % 2 ? "thrd_exit" : "return";
		CHECK(r->set_results, "thread %d: tss_set -> thrd_success", i);
		CHECK(r->own_values, "thread %d: NULL at first, then its own value after every switch",
		      i);
		CHECK(r->plain_calls == 1 && r->plain_value_ok,
		      "thread %d (%s): the destructor ran once with its value", i, how);
		CHECK(r->plain_slot_null, "thread %d: the slot was NULL inside the destructor", i);
		CHECK(r->plain_on_self, "thread %d: the destructor ran on that thread", i);
		CHECK(r->again_calls == TSS_DTOR_ITERATIONS,
		      "thread %d: a destructor that sets again ran %d rounds", i, TSS_DTOR_ITERATIONS);
		CHECK(r->deleted_calls == 0, "thread %d: no destructor call for a deleted key", i);
	}
	CHECK(atomic_load(&null_calls) == 0, "no destructor call for NULL values");

	/* Exhaustion: glibc's EAGAIN is C11's thrd_error. */
	static tss_t many[PTHREAD_KEYS_MAX + 1];
	int n = 0, r = thrd_success;
	while (n < PTHREAD_KEYS_MAX + 1 && (r = tss_create(&many[n], NULL)) == thrd_success)
		n++;
	CHECK_C11(r, thrd_error, "every key taken: tss_create -> thrd_error");
	fprintf(stderr, "%d more keys before that\n", n);
	for (int i = 0; i < n; i++)
		tss_delete(many[i]);
	CHECK_C11(tss_create(&many[0], NULL), thrd_success, "after tss_delete: a key again");
	return check_done();
}
