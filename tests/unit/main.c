/* Runs every unit suite; Check forks each test, so a test that crashes or
 * starts the runtime leaves the others untouched. */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(switch_suite());
	int failed;

	srunner_add_suite(sr, stack_suite());
	srunner_add_suite(sr, timer_suite());
	srunner_add_suite(sr, zombie_suite());
	srunner_add_suite(sr, dump_suite());
	srunner_add_suite(sr, backtrace_suite());
	srunner_add_suite(sr, sched_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, lock_suite());
	srunner_add_suite(sr, kwait_suite());
	srunner_add_suite(sr, fdwait_suite());
	srunner_add_suite(sr, sigmask_suite());
	srunner_add_suite(sr, fork_suite());
	srunner_add_suite(sr, tls_suite());
	srunner_add_suite(sr, thread_attr_suite());
	srunner_add_suite(sr, libio_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
