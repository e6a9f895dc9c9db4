/* Records of finished, unjoined threads: every record is found until taken,
 * exactly once, through growth, tombstones and rebuilds. */
#include <stdint.h>

#include "../../runtime/real.h"
#include "../../runtime/zombie.h"
#include "suites.h"

static uint64_t handle(uint64_t i)
{
	/* Like real handles: 64-byte aligned addresses with a generation. */
	return 0x7f0000000000ULL + i * 64 + ((i & 0xffff) << 48);
}

START_TEST(zombie_add_take_once)
{
	void *r = NULL;

	ck_assert_int_eq(gr_zombie_add(handle(1), (void *)11), 0);
	ck_assert_int_eq(gr_zombie_has(handle(1)), 1);
	ck_assert_int_eq(gr_zombie_has(handle(2)), 0);
	ck_assert_int_eq(gr_zombie_take(handle(1), &r), 1);
	ck_assert_ptr_eq(r, (void *)11);
	ck_assert_int_eq(gr_zombie_take(handle(1), &r), 0);
}
END_TEST

START_TEST(zombie_many_with_interleaved_deletes)
{
	const uint64_t n = 50000;
	void *r;

	for (uint64_t i = 1; i <= n; i++)
		ck_assert_int_eq(gr_zombie_add(handle(i), (void *)(uintptr_t)i), 0);
	for (uint64_t i = 1; i <= n; i += 3)
		ck_assert_int_eq(gr_zombie_take(handle(i), &r), 1);
	for (uint64_t i = 1; i <= n; i++) {
		int present = (i - 1) % 3 != 0;
		ck_assert_int_eq(gr_zombie_has(handle(i)), present);
		if (present) {
			ck_assert_int_eq(gr_zombie_take(handle(i), &r), 1);
			ck_assert_ptr_eq(r, (void *)(uintptr_t)i);
		}
	}
	for (uint64_t i = 1; i <= n; i++)
		ck_assert_int_eq(gr_zombie_has(handle(i)), 0);
}
END_TEST

/* Handles whose thread numbers are equal (2^22 apart) share a home slot:
 * a chain. Taking one in the middle leaves a tombstone that later lookups
 * pass over and a later add reuses. */
static uint64_t same_number(uint64_t i)
{
	return 0x7f0000000000ULL + i * 4096 + 5 + ((uint64_t)3 << 48);
}

START_TEST(zombie_chain_survives_taking_its_middle)
{
	void *r;

	for (uint64_t i = 0; i < 40; i++)
		ck_assert_int_eq(gr_zombie_add(same_number(i), (void *)(uintptr_t)(i + 1)), 0);
	for (uint64_t i = 10; i < 30; i++)
		ck_assert_int_eq(gr_zombie_take(same_number(i), &r), 1);
	for (uint64_t i = 0; i < 40; i++)
		ck_assert_int_eq(gr_zombie_has(same_number(i)), i < 10 || i >= 30);
	/* Added again: into the tombstones, and found. */
	for (uint64_t i = 10; i < 20; i++)
		ck_assert_int_eq(gr_zombie_add(same_number(i), (void *)(uintptr_t)(i + 100)), 0);
	for (uint64_t i = 0; i < 40; i++) {
		int present = i < 20 || i >= 30;
		ck_assert_int_eq(gr_zombie_has(same_number(i)), present);
		if (present) {
			ck_assert_int_eq(gr_zombie_take(same_number(i), &r), 1);
			ck_assert_ptr_eq(r,
					 (void *)(uintptr_t)(i >= 10 && i < 20 ? i + 100 : i + 1));
		}
	}
}
END_TEST

/* A few records at a time, taken and added for far more than the table
 * holds: tombstones fill it and it is rebuilt (at its size: records are
 * few), never losing one. */
START_TEST(zombie_churn_rebuilds_without_loss)
{
	void *r;

	for (uint64_t i = 1; i <= 200000; i++) {
		ck_assert_int_eq(gr_zombie_add(handle(i), (void *)(uintptr_t)i), 0);
		if (i > 7) {
			ck_assert_int_eq(gr_zombie_take(handle(i - 7), &r), 1);
			ck_assert_ptr_eq(r, (void *)(uintptr_t)(i - 7));
		}
	}
	for (uint64_t i = 200000 - 6; i <= 200000; i++)
		ck_assert_int_eq(gr_zombie_take(handle(i), &r), 1);
	ck_assert_int_eq(gr_zombie_has(handle(200000 - 7)), 0);
}
END_TEST

Suite *zombie_suite(void)
{
	Suite *s = suite_create("zombie");
	TCase *tc = tcase_create("zombie");

	/* The table comes from glibc's heap, through gr_real. */
	tcase_add_unchecked_fixture(tc, gr_real_init, NULL);
	tcase_add_test(tc, zombie_add_take_once);
	tcase_add_test(tc, zombie_many_with_interleaved_deletes);
	tcase_add_test(tc, zombie_chain_survives_taking_its_middle);
	tcase_add_test(tc, zombie_churn_rebuilds_without_loss);
	suite_add_tcase(s, tc);
	return s;
}
