/* Hazard: thread names follow the kernel's 16-byte comm limit.  A name of
 * 15 characters is accepted, 16 or more is ERANGE and leaves the old name; a
 * buffer shorter than 16 bytes is ERANGE even for a short name.  Each green
 * thread has its own name, readable from itself and from other threads; an
 * unnamed thread is called what its creator was called when it created it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static atomic_int step;
static char default_name[32], own_name[32];
static int own_get_rc = -1;

static void wait_step(int n)
{
	while (atomic_load(&step) < n)
		sleep_ms(1);
}

static void *named_thread(void *arg)
{
	(void)arg;
	MUST(pthread_getname_np(pthread_self(), default_name, sizeof default_name));
	atomic_store(&step, 1);
	wait_step(2); /* main has named us */
	own_get_rc = pthread_getname_np(pthread_self(), own_name, sizeof own_name);
	MUST(pthread_setname_np(pthread_self(), "worker-renamed"));
	atomic_store(&step, 3);
	wait_step(4); /* main has read our new name */
	return NULL;
}

static void *record_default_name(void *arg)
{
	MUST(pthread_getname_np(pthread_self(), arg, 32));
	return NULL;
}

int main(void)
{
	char main_name[32], buf[32], inherited[32];
	pthread_t t;

	MUST(pthread_getname_np(pthread_self(), main_name, sizeof main_name));
	MUST(pthread_create(&t, NULL, named_thread, NULL));
	wait_step(1);
	CHECK(strcmp(default_name, main_name) == 0, "an unnamed thread has its creator's name");

	CHECK_ERR(pthread_setname_np(t, "123456789012345"), 0, "setname, 15 characters");
	CHECK_ERR(pthread_setname_np(t, "1234567890123456"), ERANGE, "setname, 16 characters");
	CHECK_ERR(pthread_setname_np(t, "a name much longer than sixteen"), ERANGE,
		  "setname, 31 characters");
	CHECK_ERR(pthread_getname_np(t, buf, 15), ERANGE, "getname into 15 bytes");
	CHECK_ERR(pthread_getname_np(t, buf, 16), 0, "getname into 16 bytes");
	CHECK(strcmp(buf, "123456789012345") == 0, "a failed setname kept the 15-character name");
	atomic_store(&step, 2);

	wait_step(3);
	CHECK_ERR(own_get_rc, 0, "the thread reads its own name");
	CHECK(strcmp(own_name, "123456789012345") == 0, "and sees the name main gave it");
	CHECK_ERR(pthread_getname_np(t, buf, sizeof buf), 0, "main reads the thread's new name");
	CHECK(strcmp(buf, "worker-renamed") == 0, "and sees the name it gave itself");
	CHECK_ERR(pthread_getname_np(pthread_self(), buf, sizeof buf), 0,
		  "main reads its own name");
	CHECK(strcmp(buf, main_name) == 0, "main's name did not change");
	atomic_store(&step, 4);
	MUST(pthread_join(t, NULL));

	CHECK_ERR(pthread_setname_np(pthread_self(), "main-renamed"), 0, "main renames itself");
	CHECK_ERR(pthread_setname_np(pthread_self(), ""), 0, "an empty name is accepted");
	CHECK_ERR(pthread_getname_np(pthread_self(), buf, sizeof buf), 0, "getname");
	CHECK(buf[0] == '\0', "and reads back empty");
	MUST(pthread_setname_np(pthread_self(), "main-renamed"));
	MUST(pthread_create(&t, NULL, record_default_name, inherited));
	MUST(pthread_join(t, NULL));
	CHECK(strcmp(inherited, "main-renamed") == 0,
	      "a thread created after main renamed itself has main's new name");
	return check_done();
}
