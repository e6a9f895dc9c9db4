#define _GNU_SOURCE
/* cflags: -Wl,-z,now */
/* Hazard: code without unwind information (a JVM's JIT code; here a loop
 * written into an anonymous executable mapping) waits for another thread
 * in a pure loop. Preemption cannot unwind through it and scans the
 * thread's stack words instead, for a return address into a library whose
 * frame could still be live. A hook the thread called earlier
 * (pthread_setname_np, as every JVM thread does at its start) leaves
 * return addresses of its own internal calls in slots below its caller's
 * frame; a frame the program makes later over them without writing them
 * (an uninitialised buffer) keeps those stale copies for good. Read as
 * live frames, they make the thread unpreemptible for the rest of its
 * life: the loop never lets the thread it waits for run, and the program
 * hangs. Natively the loop ends as soon as main sets the flag.
 *
 * Each round: the thread names itself, then from a frame with a big
 * uninitialised buffer calls the generated loop, which spins until main,
 * after a 20 ms sleep, sets the flag. Bound at load (-z now, as libjvm
 * is): a lazy binding of pthread_setname_np would leave stale return
 * addresses into ld.so there too, which the scan must count (ld.so and
 * libc do call program code as tail calls, with locks held below). */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

typedef void (*spin_fn)(volatile int *flag);

static spin_fn spin;
static volatile int flag;
static atomic_int started;

/* Writes "loop until *flag != 0, then return" into a fresh mapping. */
static spin_fn make_spin(void)
{
#if defined(__x86_64__)
	/* 1: mov (%rdi),%eax; test %eax,%eax; jz 1b; ret */
	static const unsigned char code[] = {0x8b, 0x07, 0x85, 0xc0, 0x74, 0xfa, 0xc3};
#elif defined(__aarch64__)
	/* 1: ldr w1,[x0]; cbz w1,1b; ret */
	static const uint32_t code[] = {0xb9400001u, 0x34ffffe1u, 0xd65f03c0u};
#else
#error "no generated loop for this architecture"
#endif
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, code, sizeof(code));
	__builtin___clear_cache((char *)p, (char *)p + sizeof(code));
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		return NULL;
	return (spin_fn)p;
}

/* A frame over the slots the hook used, most of them never written. */
static __attribute__((noinline)) void spin_in_big_frame(void)
{
	volatile char buf[4096];

	buf[0] = 0;
	atomic_store(&started, 1);
	spin(&flag);
	buf[1] = buf[0];
}

static void *spinner(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "spinner");
	spin_in_big_frame();
	return NULL;
}

int main(void)
{
	alarm(60);
	spin = make_spin();
	if (!CHECK(spin != NULL, "an executable mapping with the loop"))
		return check_done();
	int ended = 0;
	for (int round = 0; round < 3; round++) {
		pthread_t t;
		flag = 0;
		atomic_store(&started, 0);
		MUST(pthread_create(&t, NULL, spinner, NULL));
		wait_above(&started, 0);
		sleep_ms(20); /* the spinner is in the loop now */
		flag = 1;
		MUST(pthread_join(t, NULL));
		ended++;
	}
	CHECK(ended == 3, "a loop without unwind information lets main run, every round");
	return check_done();
}
