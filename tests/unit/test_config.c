/* Configuration parsing: sizes with suffixes, and bad values rejected. */
#include <errno.h>
#include <stdlib.h>

#include "../../runtime/config.h"
#include "suites.h"

START_TEST(config_parse_sizes)
{
	size_t v;

	ck_assert_int_eq(gr_parse_size("65536", &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(gr_parse_size("64k", &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(gr_parse_size("1M", &v), 0);
	ck_assert_uint_eq(v, 1 << 20);
	ck_assert_int_eq(gr_parse_size("2g", &v), 0);
	ck_assert_uint_eq(v, (size_t)2 << 30);
	ck_assert_int_eq(gr_parse_size("256kb", &v), 0);
	ck_assert_uint_eq(v, 256 << 10);
	ck_assert_int_eq(gr_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(gr_parse_size("-4k", &v), -EINVAL);
	ck_assert_int_eq(gr_parse_size("12q", &v), -EINVAL);
	ck_assert_int_eq(gr_parse_size("k", &v), -EINVAL);
	ck_assert_int_eq(gr_parse_size("99999999999999999999", &v), -EINVAL);
}
END_TEST

START_TEST(config_env_read_once_bad_values_default)
{
	setenv("GREENIFY_STACK_SIZE", "1k", 1); /* below the minimum */
	setenv("GREENIFY_SLICE_MS", "5", 1);
	setenv("GREENIFY_SWITCH", "ucontext", 1);
	setenv("GREENIFY_STATS", "yes", 1);
	gr_config_load();
	ck_assert_uint_eq(gr_config.stack_size, 0); /* 0: glibc's default */
	ck_assert_int_eq(gr_config.slice_ns, 5000000);
	ck_assert_int_eq(gr_config.ucontext, 1);
	ck_assert_int_eq(gr_config.stats, 1);
	setenv("GREENIFY_SLICE_MS", "50", 1);
	gr_config_load(); /* read once: no change */
	ck_assert_int_eq(gr_config.slice_ns, 5000000);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, config_parse_sizes);
	tcase_add_test(tc, config_env_read_once_bad_values_default);
	suite_add_tcase(s, tc);
	return s;
}
