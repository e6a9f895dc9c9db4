/* Hazard: a thread made with default attributes must get glibc's default
 * stack: RLIMIT_STACK (8 MiB here), or the architecture's 2 MiB when the
 * limit is "unlimited" (glibc's rule, read at start-up: the program runs
 * itself again under that limit). Two threads with 2 MiB of locals each are
 * alive at once, and pthread_getattr_np reports the default size for both,
 * as glibc does; pthread_getattr_default_np says the same. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

#define MIB ((size_t)1 << 20)

static pthread_barrier_t both;

static size_t default_size(void)
{
	pthread_attr_t a;
	size_t size = 0;

	MUST(pthread_getattr_default_np(&a));
	MUST(pthread_attr_getstacksize(&a, &size));
	pthread_attr_destroy(&a);
	return size;
}

static void *deep(void *arg)
{
	volatile char locals[2 * MIB];
	pthread_attr_t a;
	size_t size = 0;

	(void)arg;
	memset((char *)locals, 0x5a, sizeof(locals));
	pthread_barrier_wait(&both); /* the other one's locals are in use too */
	MUST(pthread_getattr_np(pthread_self(), &a));
	MUST(pthread_attr_getstacksize(&a, &size));
	pthread_attr_destroy(&a);
	pthread_barrier_wait(&both);
	return (void *)(size + locals[12345] - 0x5a);
}

static void *sizer(void *arg)
{
	pthread_attr_t a;
	size_t size = 0;

	(void)arg;
	MUST(pthread_getattr_np(pthread_self(), &a));
	MUST(pthread_attr_getstacksize(&a, &size));
	pthread_attr_destroy(&a);
	return (void *)size;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	pthread_t t[2];
	void *r[2];

	MUST(getrlimit(RLIMIT_STACK, &rl));
	if (argc > 1) { /* again, with RLIMIT_STACK unlimited */
		size_t want = 2 * MIB; /* glibc's ARCH_STACK_DEFAULT_SIZE */
		CHECK(default_size() == want, "unlimited RLIMIT_STACK: default is 2 MiB");
		MUST(pthread_create(&t[0], NULL, sizer, NULL));
		MUST(pthread_join(t[0], &r[0]));
		CHECK((size_t)r[0] == want, "unlimited RLIMIT_STACK: a thread's stack is 2 MiB");
		return check_done();
	}
	fprintf(stderr, "RLIMIT_STACK %llu, default %zu\n", (unsigned long long)rl.rlim_cur,
		default_size());
	size_t want = rl.rlim_cur == RLIM_INFINITY ? 2 * MIB : (size_t)rl.rlim_cur;
	CHECK(default_size() == ((want + 4095) & ~(size_t)4095), "default stack size follows RLIMIT_STACK");
	MUST(pthread_barrier_init(&both, NULL, 2));
	for (int i = 0; i < 2; i++)
		MUST(pthread_create(&t[i], NULL, deep, NULL));
	for (int i = 0; i < 2; i++)
		MUST(pthread_join(t[i], &r[i]));
	CHECK((size_t)r[0] == default_size() && (size_t)r[1] == default_size(),
	      "two threads with 2 MiB of locals, each on a default-sized stack");
	fflush(stdout);
	if (rl.rlim_max == RLIM_INFINITY) {
		rl.rlim_cur = RLIM_INFINITY;
		MUST(setrlimit(RLIMIT_STACK, &rl));
		execl("/proc/self/exe", argv[0], "unlimited", (char *)NULL);
		perror("execl");
		return 2;
	}
	printf("unlimited RLIMIT_STACK: default is 2 MiB yes\n");
	printf("unlimited RLIMIT_STACK: a thread's stack is 2 MiB yes\n");
	return check_done();
}
