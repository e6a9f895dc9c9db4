#define _GNU_SOURCE
/* Hazard: code without unwind information that keeps frame records (V8's
 * JIT code and builtins: a Node.js worker's `for(;;){}`) spins below C
 * frames whose locals hold a stale return address into libc (V8's
 * EvalMachine keeps one of malloc's _int_free in a 1.4 KiB frame above the
 * JS loop). Preemption cannot unwind through the generated code; a scan
 * of the stack's words counts the stale copy as a live libc frame, every
 * tick says unsafe, and the thread keeps the OS thread for good: main,
 * which sleeps before it lets the loop end, never runs again, and the
 * program hangs. Natively the loop ends as soon as main sets the flag.
 *
 * The spinner's stack, from its start routine up: a C frame with a libc
 * return address (one qsort called a comparator from) copied into its
 * locals; a generated frame (push rbp; mov rsp,rbp, as V8's) that calls
 * back into C; a second C frame with the same stale word; the generated
 * loop, with a frame record too. So a walk has to go from records to
 * unwind tables and back again twice. Three rounds; then main itself
 * spins there, below its own frames and libc's startup ones, while a
 * thread sleeps before it sets the flag. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

typedef void (*loop_fn)(volatile int *flag);
typedef void (*call_fn)(volatile int *flag, void (*fn)(volatile int *));

static loop_fn gen_loop;
static call_fn gen_call;
static volatile int flag;
static atomic_int started;
static uintptr_t libc_ra; /* a return address into libc, from qsort's call */

#if defined(__x86_64__)
/* push %rbp; mov %rsp,%rbp; 1: mov (%rdi),%eax; test %eax,%eax; jz 1b;
 * pop %rbp; ret */
static const unsigned char loop_code[] = {0x55, 0x48, 0x89, 0xe5, 0x8b, 0x07,
					  0x85, 0xc0, 0x74, 0xfa, 0x5d, 0xc3};
/* push %rbp; mov %rsp,%rbp; call *%rsi; pop %rbp; ret */
static const unsigned char call_code[] = {0x55, 0x48, 0x89, 0xe5, 0xff, 0xd6, 0x5d, 0xc3};
#elif defined(__aarch64__)
/* stp x29,x30,[sp,#-16]!; mov x29,sp; 1: ldr w1,[x0]; cbz w1,1b;
 * ldp x29,x30,[sp],#16; ret */
static const uint32_t loop_code[] = {0xa9bf7bfdu, 0x910003fdu, 0xb9400001u,
				     0x34ffffe1u, 0xa8c17bfdu, 0xd65f03c0u};
/* stp x29,x30,[sp,#-16]!; mov x29,sp; blr x1; ldp x29,x30,[sp],#16; ret */
static const uint32_t call_code[] = {0xa9bf7bfdu, 0x910003fdu, 0xd63f0020u, 0xa8c17bfdu,
				     0xd65f03c0u};
#else
#error "no generated code for this architecture"
#endif

/* Both pieces of code in one fresh mapping, as a JIT's. */
static int make_code(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	memcpy(p, loop_code, sizeof(loop_code));
	memcpy(p + 64, call_code, sizeof(call_code));
	__builtin___clear_cache(p, p + 128);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		return -1;
	gen_loop = (loop_fn)(void *)p;
	gen_call = (call_fn)(void *)(p + 64);
	return 0;
}

static __attribute__((noinline)) int by_value(const void *a, const void *b)
{
	if (!libc_ra)
		libc_ra = (uintptr_t)__builtin_return_address(0);
	return *(const int *)a - *(const int *)b;
}

/* Called back from the generated frame: the loop, below a frame with the
 * stale word. */
static __attribute__((noinline)) void inner(volatile int *f)
{
	volatile uintptr_t words[64];

	words[7] = libc_ra;
	words[40] = libc_ra;
	atomic_store(&started, 1);
	gen_loop(f);
	words[0] = words[7];
}

/* The start routine's callee: the stale word in a big frame, as
 * EvalMachine's. */
static __attribute__((noinline)) void outer(void)
{
	volatile uintptr_t words[192];

	words[3] = libc_ra;
	words[150] = libc_ra;
	gen_call(&flag, inner);
	words[0] = words[3];
}

static void *spinner(void *arg)
{
	(void)arg;
	outer();
	return NULL;
}

/* For main as the spinner: lets the loop end, 20 ms after it started. */
static void *setter(void *arg)
{
	(void)arg;
	wait_above(&started, 0);
	sleep_ms(20);
	flag = 1;
	return NULL;
}

int main(void)
{
	int v[4] = {3, 1, 2, 0};
	Dl_info info;
	int ended = 0;

	alarm(60);
	qsort(v, 4, sizeof(v[0]), by_value);
	if (!CHECK(libc_ra && dladdr((void *)libc_ra, &info) && info.dli_fname &&
			   strstr(info.dli_fname, "libc.so"),
		   "qsort called the comparator from libc") ||
	    !CHECK(make_code() == 0, "an executable mapping with the generated code"))
		return check_done();
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
	CHECK(ended == 3, "generated code below frames with a stale libc return address lets "
			  "main run, every round");
	/* Main spins, below the same frames, down to libc's startup. */
	pthread_t s;
	flag = 0;
	atomic_store(&started, 0);
	MUST(pthread_create(&s, NULL, setter, NULL));
	outer();
	MUST(pthread_join(s, NULL));
	CHECK(flag == 1, "main in the generated code lets the thread that ends its loop run");
	return check_done();
}
