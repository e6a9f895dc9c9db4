/* Hazard: threads other than main create and join threads of their own.  A
 * tree of threads, three children per node and five levels deep, where every
 * node sleeps a little, joins its children and returns the size of its subtree:
 * creation and joining must work from any green thread, not only from main. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

enum { FANOUT = 3, DEPTH = 5 };

static atomic_int failures;

static void *node(void *arg)
{
	intptr_t depth = (intptr_t)arg;
	pthread_t kids[FANOUT];
	intptr_t size = 1;
	int n = 0;

	if (depth < DEPTH) {
		for (; n < FANOUT; n++)
			if (pthread_create(&kids[n], NULL, node, (void *)(depth + 1)) != 0) {
				atomic_fetch_add(&failures, 1);
				break;
			}
	}
	sleep_ms(1 + depth);
	for (int i = n - 1; i >= 0; i--) {
		void *rv;

		if (pthread_join(kids[i], &rv) != 0)
			atomic_fetch_add(&failures, 1);
		else
			size += (intptr_t)rv;
	}
	return (void *)size;
}

int main(void)
{
	pthread_t root;
	void *rv = NULL;
	intptr_t want = 0;

	for (int d = 0, level = 1; d <= DEPTH; d++, level *= FANOUT)
		want += level;
	MUST(pthread_create(&root, NULL, node, (void *)0));
	MUST(pthread_join(root, &rv));
	CHECK(atomic_load(&failures) == 0, "every create and join in the tree returned 0");
	CHECK((intptr_t)rv == want, "root counted %ld threads in its tree", (long)want);
	return check_done();
}
