/* Hazard: a program's own malloc that waits on a condition variable for a
 * thread of the program, and signals one (a budget a reclaimer thread
 * refills; jemalloc's malloc and free wake its background thread with
 * pthread_cond_signal), called by a name lookup on libuv's pool while
 * green threads use the same mutex and conditions. The pool thread's
 * calls went to glibc as the runtime's own, outside the foreign-thread
 * protocol: the green refiller's broadcast of 'refilled', made the plain
 * way, issued no FUTEX_WAKE for the pool thread waiting in the kernel,
 * and the lookup never came back (3 runs of 3). And a thread that ended
 * before its join filed its record for the join with the program's
 * calloc and free (runtime/zombie.c), once marked ended: a wait in that
 * free died of "assertion 'self->state == GR_RUNNING' failed".
 *
 * Once armed, every malloc, calloc, realloc and free takes one unit of a
 * budget under heap_lock; with none left it signals 'low' and waits on
 * 'refilled' until the refiller thread has given a new one (the
 * refiller's own calls refill at once). The budget is small, so every
 * lookup's allocations (on the pool under the preload) make round trips
 * to the refiller, while two threads allocate and free beside main's
 * lookups. Every lookup is answered, every allocation succeeds, and the
 * refiller refilled as often as the threads' rounds need. */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"


enum { BUDGET = 2, CHURNERS = 2, ROUNDS = 3000, LOOKUPS = 100 };

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t low = PTHREAD_COND_INITIALIZER;	   /* the budget is out */
static pthread_cond_t refilled = PTHREAD_COND_INITIALIZER; /* a new budget */
static int armed;					   /* under heap_lock */
static int stop;					   /* under heap_lock */
static int budget;					   /* under heap_lock */
static long refills;					   /* under heap_lock */
static pthread_t refiller_th;				   /* under heap_lock, once armed */

static void refill(void)
{
	budget = BUDGET;
	refills++;
	pthread_cond_broadcast(&refilled);
}

/* One unit of the budget, waiting for the refiller when there is none
 * (the refiller's own calls refill at once). */
static void take_unit(void)
{
	if (pthread_mutex_trylock(&heap_lock) != 0)
		pthread_mutex_lock(&heap_lock);
	while (armed && budget == 0) {
		if (pthread_equal(pthread_self(), refiller_th)) {
			refill();
			break;
		}
		pthread_cond_signal(&low);
		pthread_cond_wait(&refilled, &heap_lock);
	}
	if (armed)
		budget--;
	pthread_mutex_unlock(&heap_lock);
}

static void heap_enter(void)
{
	take_unit();
}

static void heap_leave(void)
{
}

#include "program_malloc.h"

static void *refiller(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&heap_lock);
	for (;;) {
		while (!stop && (!armed || budget > 0))
			pthread_cond_wait(&low, &heap_lock);
		if (stop)
			break;
		refill();
	}
	pthread_mutex_unlock(&heap_lock);
	return NULL;
}

static void *churn(void *arg)
{
	long done = 0;

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		void *p = malloc(16 + (size_t)(i % 300));

		done += p != NULL;
		free(p);
	}
	return (void *)(intptr_t)done;
}

static int look_up(void)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_flags = AI_NUMERICHOST}, *ai = NULL;
	int ok = getaddrinfo("127.0.0.1", NULL, &hints, &ai) == 0 && ai;

	if (ai)
		freeaddrinfo(ai);
	return ok;
}

int main(void)
{
	pthread_t refill_th, th[CHURNERS];
	long done = 0, seen_refills;
	int answered = 0;

	alarm(20);
	MUST(pthread_create(&refill_th, NULL, refiller, NULL));
	/* Unarmed: the first lookup starts libuv's pool under the preload,
	 * whose threads' start allocates on the runtime thread, which must
	 * not wait for a thread of the program (README, Limitations). */
	answered += look_up();
	pthread_mutex_lock(&heap_lock);
	refiller_th = refill_th;
	armed = 1;
	budget = BUDGET;
	pthread_mutex_unlock(&heap_lock);
	for (int i = 0; i < CHURNERS; i++)
		MUST(pthread_create(&th[i], NULL, churn, NULL));
	for (int i = 1; i < LOOKUPS; i++)
		answered += look_up();
	for (int i = 0; i < CHURNERS; i++) {
		void *r;

		MUST(pthread_join(th[i], &r));
		done += (long)(intptr_t)r;
	}
	pthread_mutex_lock(&heap_lock);
	armed = 0;
	stop = 1;
	seen_refills = refills;
	pthread_cond_broadcast(&low);
	pthread_cond_broadcast(&refilled);
	pthread_mutex_unlock(&heap_lock);
	MUST(pthread_join(refill_th, NULL));
	CHECK(answered == LOOKUPS, "every lookup answered while its mallocs wait for a thread (%d)",
	      LOOKUPS);
	CHECK(done == (long)CHURNERS * ROUNDS, "every thread's mallocs succeeded");
	/* Each round takes two units of a budget of two. */
	CHECK(seen_refills >= (long)CHURNERS * ROUNDS - 1, "the budget was refilled for them");
	return check_done();
}
