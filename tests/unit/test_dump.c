/* The dump's credential check (dump.c): the process's own user or root. */
#include <check.h>

#include "../../runtime/dump.h"
#include "suites.h"

START_TEST(dump_peer_same_uid_or_root_only)
{
	ck_assert_int_eq(gr_dump_peer_allowed(1000, 1000), 1);
	ck_assert_int_eq(gr_dump_peer_allowed(0, 1000), 1);
	ck_assert_int_eq(gr_dump_peer_allowed(1001, 1000), 0);
	ck_assert_int_eq(gr_dump_peer_allowed(1000, 0), 0);
}
END_TEST

Suite *dump_suite(void)
{
	Suite *s = suite_create("dump");
	TCase *tc = tcase_create("dump");

	tcase_add_test(tc, dump_peer_same_uid_or_root_only);
	suite_add_tcase(s, tc);
	return s;
}
