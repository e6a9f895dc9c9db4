/* FILE holds and libc's stdio jump tables, driven directly (no preload):
 * holds are recursive per thread and make others wait in arrival order;
 * two FILEs whose records share a slot are held at once by different
 * threads; flockfile depth outlives the calls; ftrylockfile answers EBUSY;
 * and the jump tables really carry the functions given (a FILE write
 * reaches ours, which hands it to glibc's). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/libio.h"
#include "../../runtime/sched.h"
#include "suites.h"

static uint64_t spawn(void *(*fn)(void *), void *arg)
{
	struct gr_create c = {.start = fn, .arg = arg};
	struct gr_thread *t;

	ck_assert_int_eq(gr_thread_create(&c, &t), 0);
	return t->handle;
}

/* Stand-ins for FILEs: holds only compare and hash the addresses. */
static char files[4096];
static int order[8], norder;

static void *enter_and_log(void *arg)
{
	struct gr_file_hold *h = gr_file_enter(arg);

	order[norder++] = 1;
	gr_yield();
	gr_file_leave(h);
	return NULL;
}

START_TEST(libio_holds_are_recursive_and_make_others_wait)
{
	struct gr_file_hold *a, *b;
	uint64_t h[3];

	ck_assert_int_eq(gr_start(), 0);
	a = gr_file_enter(files);
	b = gr_file_enter(files); /* recursive */
	ck_assert_ptr_eq(a, b);
	for (int i = 0; i < 3; i++)
		h[i] = spawn(enter_and_log, files);
	gr_yield();
	ck_assert_int_eq(norder, 0); /* all three wait */
	ck_assert_int_eq(gr_file_trylock(files, h[0]), -EBUSY);
	gr_file_leave(b);
	gr_yield();
	ck_assert_int_eq(norder, 0); /* still held once */
	gr_file_leave(a);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(gr_thread_join(h[i], 0, NULL), 0);
	ck_assert_int_eq(norder, 3);
	ck_assert_uint_eq(gr_file_owner(files), 0);
}
END_TEST

static void *hold_other(void *arg)
{
	struct gr_file_hold *h = gr_file_enter(arg);

	order[norder++] = 1;
	gr_yield();
	gr_yield();
	gr_file_leave(h);
	return NULL;
}

START_TEST(libio_two_files_in_one_slot_held_at_once)
{
	char *x = files, *y = NULL;
	struct gr_file_hold *hx;
	uint64_t t;

	/* Another address with x's slot (never dereferenced). */
	for (uintptr_t a = (uintptr_t)x + 16; a < (uintptr_t)x + (16u << 20); a += 16)
		if (gr_file_slot((void *)a) == gr_file_slot(x)) {
			y = (char *)a;
			break;
		}
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(gr_start(), 0);
	hx = gr_file_enter(x);
	t = spawn(hold_other, y); /* y's slot is x's: an overflow record */
	gr_yield();
	ck_assert_int_eq(norder, 1);
	ck_assert_uint_eq(gr_file_owner(y), t);
	ck_assert_uint_eq(gr_file_owner(x), gr_rt.cur->handle);
	gr_file_leave(hx);
	ck_assert_uint_eq(gr_file_owner(x), 0);
	ck_assert_uint_eq(gr_file_owner(y), t);
	ck_assert_int_eq(gr_thread_join(t, 0, NULL), 0);
	ck_assert_uint_eq(gr_file_owner(y), 0);
	/* And again, now that both are free. */
	hx = gr_file_enter(y);
	ck_assert_uint_eq(gr_file_owner(y), gr_rt.cur->handle);
	gr_file_leave(hx);
}
END_TEST

static void *try_then_lock(void *arg)
{
	uint64_t self = gr_rt.cur->handle;

	order[norder++] = gr_file_trylock(arg, self);
	gr_file_lock(arg, self); /* waits */
	order[norder++] = 1;
	gr_file_unlock(arg, self);
	return NULL;
}

START_TEST(libio_flockfile_outlives_calls)
{
	uint64_t me, t;
	struct gr_file_hold *h;

	ck_assert_int_eq(gr_start(), 0);
	me = gr_rt.cur->handle;
	gr_file_lock(files, me);
	h = gr_file_enter(files);
	gr_file_leave(h); /* the call ends, the lock stays */
	t = spawn(try_then_lock, files);
	gr_yield();
	ck_assert_int_eq(norder, 1);
	ck_assert_int_eq(order[0], -EBUSY);
	gr_file_unlock(files, t); /* not the holder's: ignored */
	gr_yield();
	ck_assert_int_eq(norder, 1);
	gr_file_unlock(files, me);
	ck_assert_int_eq(gr_thread_join(t, 0, NULL), 0);
	ck_assert_int_eq(norder, 2);
	ck_assert_uint_eq(gr_file_owner(files), 0);
}
END_TEST

static struct gr_file_ops glibc_file, glibc_proc;
static FILE *counted;
static int our_writes;

static ssize_t counting_write(FILE *fp, const void *buf, ssize_t n)
{
	our_writes += fp == counted;
	return glibc_file.write(fp, buf, n);
}

static ssize_t plain_read(FILE *fp, void *buf, ssize_t n)
{
	return glibc_file.read(fp, buf, n);
}

static int plain_close(FILE *fp)
{
	return glibc_file.close(fp);
}

static int plain_proc_close(FILE *fp)
{
	return glibc_proc.close(fp);
}

START_TEST(libio_jump_tables_carry_our_functions)
{
	static const struct gr_file_ops file = {plain_read, counting_write, plain_close};
	static const struct gr_file_ops proc = {plain_read, counting_write, plain_proc_close};
	int p[2];
	char buf[8] = "";
	FILE *w;

	/* The file tables, popen's, and the wide ones at least. */
	ck_assert_int_ge(gr_stdio_patch(&file, &proc, &glibc_file, &glibc_proc), 3);
	ck_assert_int_eq(pipe(p), 0);
	w = fdopen(p[1], "w");
	ck_assert_ptr_nonnull(w);
	counted = w;
	ck_assert_int_ge(fputs("hello", w), 0);
	ck_assert_int_eq(our_writes, 0); /* buffered */
	ck_assert_int_eq(fflush(w), 0);
	ck_assert_int_eq(our_writes, 1);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf) - 1), 5);
	ck_assert_str_eq(buf, "hello");
	ck_assert_int_eq(fclose(w), 0);
	/* Already changed: the tables no longer hold glibc's functions. */
	ck_assert_int_eq(gr_stdio_patch(&file, &proc, &glibc_file, &glibc_proc), -ENOENT);
}
END_TEST

Suite *libio_suite(void)
{
	Suite *s = suite_create("libio");
	TCase *tc = tcase_create("libio");

	tcase_add_test(tc, libio_holds_are_recursive_and_make_others_wait);
	tcase_add_test(tc, libio_two_files_in_one_slot_held_at_once);
	tcase_add_test(tc, libio_flockfile_outlives_calls);
	tcase_add_test(tc, libio_jump_tables_carry_our_functions);
	suite_add_tcase(s, tc);
	return s;
}
