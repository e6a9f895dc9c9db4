/* Hazard: the check of a fortified call. __fgets_chk asked to read more
 * than the buffer holds must abort before it reads, as glibc's does
 * ("buffer overflow detected"), also when it is the green hook that
 * calls it, in a thread, on a pipe another thread writes to. */
/* expect: signal SIGABRT */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL < 2
#error "built without _FORTIFY_SOURCE=2: the _chk forms would not be called"
#endif

static int p[2];
static volatile int too_long = 64; /* unknown to the compiler */

static void *reader(void *arg)
{
	char small[8];
	FILE *f = fdopen(p[0], "r");

	(void)arg;
	printf("reading at most %d into 8 bytes\n", too_long);
	fflush(stdout);
	if (f && fgets(small, too_long, f))
		printf("read %s: NOT aborted\n", small);
	return NULL;
}

int main(void)
{
	pthread_t t;

	MUST(pipe(p));
	MUST(pthread_create(&t, NULL, reader, NULL));
	if (write(p[1], "a line longer than eight bytes\n", 31) != 31)
		return 2;
	pthread_join(t, NULL);
	printf("NOT aborted\n");
	return 1;
}
