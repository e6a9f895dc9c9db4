/* The unit test suites; each file under tests/unit/ contributes one. */
#ifndef GR_TEST_SUITES_H
#define GR_TEST_SUITES_H

#include <check.h>

Suite *switch_suite(void);
Suite *stack_suite(void);
Suite *timer_suite(void);
Suite *zombie_suite(void);
Suite *dump_suite(void);
Suite *backtrace_suite(void);
Suite *sched_suite(void);
Suite *config_suite(void);
Suite *lock_suite(void);
Suite *kwait_suite(void);
Suite *fdwait_suite(void);
Suite *sigmask_suite(void);
Suite *fork_suite(void);
Suite *tls_suite(void);
Suite *thread_attr_suite(void);
Suite *libio_suite(void);

#endif
