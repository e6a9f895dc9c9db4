/* Hazard: a signal mask put in glibc's default attr
 * (pthread_attr_setsigmask_np, then pthread_setattr_default_np) is the
 * starting mask of every thread made without an attr, pthread_create(NULL)
 * and thrd_create alike, instead of the creator's; an explicit attr with no
 * mask still inherits the creator's, and resetting the default brings
 * inheritance back (glibc's nptl/tst-pthread-attr-sigmask). The default's
 * mask was ignored: attr-less threads inherited the creator's.
 *
 * main blocks SIGUSR1; the default attr says SIGHUP. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <threads.h>

#include "check.h"

/* Which of SIGHUP, SIGUSR1, SIGUSR2 the thread starts with blocked. */
static const char *mask_name(void)
{
	static __thread char buf[32];
	sigset_t m;

	MUST(pthread_sigmask(SIG_SETMASK, NULL, &m));
	snprintf(buf, sizeof buf, "%s%s%s", sigismember(&m, SIGHUP) ? "HUP " : "",
		 sigismember(&m, SIGUSR1) ? "USR1 " : "", sigismember(&m, SIGUSR2) ? "USR2 " : "");
	return buf;
}

static char seen[32];

static void *posix_main(void *arg)
{
	(void)arg;
	snprintf(seen, sizeof seen, "%s", mask_name());
	return NULL;
}

static int c11_main(void *arg)
{
	(void)arg;
	snprintf(seen, sizeof seen, "%s", mask_name());
	return 0;
}

static const char *posix_thread(const pthread_attr_t *attr)
{
	pthread_t t;

	seen[0] = '?';
	MUST(pthread_create(&t, attr, posix_main, NULL));
	MUST(pthread_join(t, NULL));
	return seen;
}

static const char *c11_thread(void)
{
	thrd_t t;

	seen[0] = '?';
	if (thrd_create(&t, c11_main, NULL) != thrd_success || thrd_join(t, NULL) != thrd_success)
		exit(2);
	return seen;
}

int main(void)
{
	pthread_attr_t a;
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	MUST(pthread_sigmask(SIG_SETMASK, &s, NULL));

	MUST(pthread_attr_init(&a));
	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	MUST(pthread_attr_setsigmask_np(&a, &s));
	CHECK_ERR(pthread_setattr_default_np(&a), 0, "setattr_default_np with SIGHUP's mask");
	MUST(pthread_attr_destroy(&a));

	CHECK(!strcmp(posix_thread(NULL), "HUP "), "pthread_create(NULL) starts with the default's mask");
	CHECK(!strcmp(c11_thread(), "HUP "), "thrd_create starts with the default's mask");
	MUST(pthread_attr_init(&a));
	CHECK(!strcmp(posix_thread(&a), "USR1 "), "an attr without a mask inherits the creator's");
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	MUST(pthread_attr_setsigmask_np(&a, &s));
	CHECK(!strcmp(posix_thread(&a), "USR2 "), "an attr's own mask wins over the default's");
	MUST(pthread_attr_destroy(&a));
	CHECK(!strcmp(mask_name(), "USR1 "), "main's mask unchanged");

	MUST(pthread_attr_init(&a));
	CHECK_ERR(pthread_setattr_default_np(&a), 0, "setattr_default_np with no mask");
	MUST(pthread_attr_destroy(&a));
	CHECK(!strcmp(posix_thread(NULL), "USR1 "), "pthread_create(NULL) inherits again");
	CHECK(!strcmp(c11_thread(), "USR1 "), "thrd_create inherits again");
	return check_done();
}
