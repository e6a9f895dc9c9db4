/* The monitor where a program's own machinery meets it:
 *   - a thread that computes (preemption off) on a coroutine's stack of
 *     its own (makecontext on an mmap'd 64 KiB stack with a PROT_NONE
 *     page above it, far below the thread's stack): the handler that
 *     copies a computing thread's stack must not read past the
 *     coroutine's (it crashed, copying 16 KiB from there);
 *   - a dlopen whose library constructor computes 800 ms, which glibc
 *     runs holding the loader's lock: the watchdog tells the hang while it
 *     lasts (ten times GREENIFY_MONITOR=30) without waiting for that lock
 *     (it waited for ever, dladdr, and the exit waited for it).
 * Natively nothing is reported and the output is the same.
 * The library is this file built with -DINTEG_SHARED (the build-also tag). */
/* build-also: shared */
/* env-preload: GREENIFY_MONITOR=30 */
/* env-preload: GREENIFY_PREEMPT=off */
/* expect-stderr-preload: has blocked every thread for */
/* expect-stderr-preload: ms computing */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

#ifdef INTEG_SHARED

int plug_answer(void);

int plug_answer(void)
{
	return 42;
}

/* 800 ms of CPU time in a loop that calls nothing, under the loader's
 * lock: well past the 300 ms at which the hang is told, however far the
 * loop's rate measured on a crowded machine is off */
__attribute__((constructor)) static void plug_init(void)
{
	spin_turns(800 * spin_turns_per_ms());
}

#else

static struct ticker tick;
static unsigned long per_ms;
static ucontext_t back, co;

static void coroutine(void)
{
	spin_turns(200 * per_ms);
}

static void *coroutine_worker(void *arg)
{
	size_t size = 64 * 1024, page = 4096;
	char *want = (char *)(((uintptr_t)&size - (1UL << 30)) & ~(uintptr_t)4095);
	char *m = mmap(want, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)arg;
	MUST(m == MAP_FAILED);
	MUST(mprotect(m + size, page, PROT_NONE)); /* what lies above the coroutine's stack */
	MUST(getcontext(&co));
	co.uc_stack.ss_sp = m;
	co.uc_stack.ss_size = size;
	co.uc_link = &back;
	makecontext(&co, coroutine, 0);
	MUST(swapcontext(&back, &co));
	munmap(m, size + page);
	return NULL;
}

int main(void)
{
	char self[PATH_MAX], path[PATH_MAX + 4];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	void *h;
	int (*answer)(void);

	MUST(n < 0);
	self[n] = '\0';
	snprintf(path, sizeof path, "%s.so", self);
	per_ms = spin_turns_per_ms();
	tick_start(&tick, 5);
	run_thread(coroutine_worker, NULL);
	printf("the coroutine computed and came back\n");
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CHECK(h != NULL, "dlopen of the library whose constructor computes");
	answer = h ? (int (*)(void))dlsym(h, "plug_answer") : NULL;
	CHECK(answer && answer() == 42, "its function answers");
	tick_stop(&tick);
	return check_done(); /* the exit must not wait for the watchdog */
}
#endif
