/* Records of finished, unjoined threads: every record is found until taken,
 * exactly once, through growth and backward-shift deletions. */
#include <stdint.h>

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

Suite *zombie_suite(void)
{
	Suite *s = suite_create("zombie");
	TCase *tc = tcase_create("zombie");

	tcase_add_test(tc, zombie_add_take_once);
	tcase_add_test(tc, zombie_many_with_interleaved_deletes);
	suite_add_tcase(s, tc);
	return s;
}
