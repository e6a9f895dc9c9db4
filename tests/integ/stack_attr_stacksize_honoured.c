/* Hazard: a green thread must get the stack its attr asked for, and
 * pthread_getattr_np must describe the stack the thread really runs on.
 * A 64 KiB request gives at least 64 KiB (and well under the default), a 4 MiB
 * request gives a stack that holds 3 MiB of locals; the running thread's own
 * locals lie inside the reported range, whether the thread asks about itself
 * or main asks about it; two live threads' stacks do not overlap; the
 * reported detach state follows pthread_detach. */
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>

#include "check.h"

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

struct probe {
	size_t request;	 /* what the attr asked for, 0 for none */
	size_t use;	 /* bytes of locals to touch */
	int detach_self; /* call pthread_detach(pthread_self()) first */
	/* results */
	int getattr_rc;
	uintptr_t lo, hi; /* reported stack range */
	uintptr_t local;  /* address of a local */
	int local_inside;
	int detachstate;
	long touched; /* sum of bytes written, proves the locals were used */
	atomic_int ready;
};

static atomic_int release;

__attribute__((noinline)) static long use_stack(size_t bytes)
{
	/* A VLA, so the frame is exactly as big as asked. */
	volatile char buf[bytes];
	long sum = 0;

	/* Top down, page by page, as the stack grows: running out hits the
	 * guard page rather than jumping over it. */
	buf[bytes - 1] = 1;
	for (size_t i = bytes; i >= 4096; i -= 4096)
		buf[i - 4096] = 1;
	for (size_t i = 0; i < bytes; i += 4096)
		sum += buf[i];
	return sum + buf[bytes - 1];
}

static void *probe_stack(void *arg)
{
	struct probe *p = arg;
	pthread_attr_t attr;
	void *addr;
	size_t size;
	char local;

	if (p->detach_self)
		MUST(pthread_detach(pthread_self()));
	p->getattr_rc = pthread_getattr_np(pthread_self(), &attr);
	if (p->getattr_rc == 0) {
		MUST(pthread_attr_getstack(&attr, &addr, &size));
		MUST(pthread_attr_getdetachstate(&attr, &p->detachstate));
		MUST(pthread_attr_destroy(&attr));
		p->lo = (uintptr_t)addr;
		p->hi = (uintptr_t)addr + size;
		p->local = (uintptr_t)&local;
		p->local_inside = p->local >= p->lo && p->local < p->hi;
	}
	if (p->use)
		p->touched = use_stack(p->use);
	atomic_store(&p->ready, 1);
	while (!atomic_load(&release))
		sleep_ms(1);
	return NULL;
}

static pthread_t start(struct probe *p, int detached)
{
	pthread_attr_t attr;
	pthread_t t;

	MUST(pthread_attr_init(&attr));
	if (p->request)
		MUST(pthread_attr_setstacksize(&attr, p->request));
	if (detached)
		MUST(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
	MUST(pthread_create(&t, &attr, probe_stack, p));
	MUST(pthread_attr_destroy(&attr));
	while (!atomic_load(&p->ready))
		sleep_ms(1);
	return t;
}

int main(void)
{
	struct probe small = { .request = 64 * KIB, .use = 40 * KIB };
	struct probe big = { .request = 4 * MIB, .use = 3 * MIB };
	struct probe dflt = { 0 }, created_detached = { 0 }, self_detached = { .detach_self = 1 };
	pthread_t t_small, t_big;
	pthread_attr_t attr;
	void *addr;
	size_t size;

	t_small = start(&small, 0);
	t_big = start(&big, 0);
	start(&dflt, 0);
	start(&created_detached, 1);
	start(&self_detached, 0);

	CHECK_ERR(small.getattr_rc, 0, "64 KiB thread: pthread_getattr_np(self)");
	CHECK(small.hi - small.lo >= 64 * KIB, "64 KiB thread: reported stack >= 64 KiB");
	CHECK(small.hi - small.lo < 256 * KIB, "64 KiB thread: reported stack < 256 KiB");
	CHECK(small.local_inside, "64 KiB thread: its locals lie in the reported stack");
	CHECK(small.touched == 40 * 1024 / 4096 + 1, "64 KiB thread: used 40 KiB of locals");
	CHECK(small.detachstate == PTHREAD_CREATE_JOINABLE, "64 KiB thread: reported joinable");

	CHECK_ERR(big.getattr_rc, 0, "4 MiB thread: pthread_getattr_np(self)");
	CHECK(big.hi - big.lo >= 4 * MIB, "4 MiB thread: reported stack >= 4 MiB");
	CHECK(big.local_inside, "4 MiB thread: its locals lie in the reported stack");
	CHECK(big.touched == 3 * 1024 * 1024 / 4096 + 1, "4 MiB thread: used 3 MiB of locals");

	/* Main asks about a thread that is asleep. */
	CHECK_ERR(pthread_getattr_np(t_big, &attr), 0, "main: pthread_getattr_np(4 MiB thread)");
	MUST(pthread_attr_getstack(&attr, &addr, &size));
	MUST(pthread_attr_destroy(&attr));
	CHECK((uintptr_t)addr == big.lo && (uintptr_t)addr + size == big.hi,
	      "main sees the same stack range the thread saw");

	CHECK(small.hi <= big.lo || big.hi <= small.lo, "the two live stacks do not overlap");
	CHECK(dflt.local_inside, "default thread: its locals lie in the reported stack");
	CHECK(created_detached.detachstate == PTHREAD_CREATE_DETACHED,
	      "thread created detached: reported detached");
	CHECK(self_detached.detachstate == PTHREAD_CREATE_DETACHED,
	      "thread that detached itself: reported detached");

	atomic_store(&release, 1);
	MUST(pthread_join(t_small, NULL));
	MUST(pthread_join(t_big, NULL));
	return check_done();
}
