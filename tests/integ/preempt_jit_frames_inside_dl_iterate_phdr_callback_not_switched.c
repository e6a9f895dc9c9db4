#define _GNU_SOURCE
/* expect-stderr-preload-not: another thread ran inside the callback */
/* Hazard: preemption follows the frame records of code without unwind
 * information (V8-style: push rbp; mov rsp,rbp) up to a frame with unwind
 * tables, and lets the unwinder go on from there. Code like that which a
 * dl_iterate_phdr callback runs, or that is the callback itself, computes
 * under the loader's lock, which a second green thread that calls
 * dl_iterate_phdr would wait for in the kernel, on the one OS thread, for
 * ever: the walk must find the libc frame above the records and never
 * switch there. A green thread, then main, computes about 50 ms in
 * generated code inside dl_iterate_phdr (called from a C callback, then
 * as the callback itself, with a frame record and as a leaf; and from a C
 * callback of a dl_iterate_phdr that generated code called), while
 * another wakes every millisecond to call dl_iterate_phdr; both finish,
 * as natively. Under the preload no other thread may run while
 * the generated code runs there (glibc's loader lock, recursive by thread
 * id, lets the second walk in rather than hang): the C callback looks
 * whether the other thread woke meanwhile, and the other thread whether
 * the generated code, called by libc itself, was running when it woke;
 * either says so on stderr (which natively, on another CPU, it may well
 * do). */
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

/* What the generated code counts: turns down to 0, with inside 1 while
 * it runs, so that another thread can tell it ran meanwhile. */
struct spin {
	long turns;
	int inside;
};

/* As a dl_iterate_phdr callback: counts ((struct spin *)data)->turns
 * down, returns 0. */
typedef int (*count_fn)(struct dl_phdr_info *info, size_t size, void *data);

static count_fn gen_count, gen_leaf;
/* Calls fn(a, b) from a frame with a record: generated code that calls
 * into libc, as JIT code calls C. */
typedef int (*call_fn)(int (*fn)(count_fn, void *), count_fn a, void *b);
static call_fn gen_call;
static atomic_int stop, started, lookups, wakes;

#if defined(__x86_64__)
/* push %rbp; mov %rsp,%rbp; movl $1,8(%rdx); mov (%rdx),%rcx;
 * 1: dec %rcx; jnz 1b; movl $0,8(%rdx); xor %eax,%eax; pop %rbp; ret */
static const unsigned char count_code[] = {
	0x55, 0x48, 0x89, 0xe5, 0xc7, 0x42, 0x08, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x0a, 0x48,
	0xff, 0xc9, 0x75, 0xfb, 0xc7, 0x42, 0x08, 0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x5d, 0xc3};
/* The same as a leaf, with no record. */
static const unsigned char leaf_code[] = {0xc7, 0x42, 0x08, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8b,
					  0x0a, 0x48, 0xff, 0xc9, 0x75, 0xfb, 0xc7, 0x42, 0x08,
					  0x00, 0x00, 0x00, 0x00, 0x31, 0xc0, 0xc3};
/* push %rbp; mov %rsp,%rbp; mov %rdi,%rax; mov %rsi,%rdi; mov %rdx,%rsi;
 * call *%rax; pop %rbp; ret */
static const unsigned char call_code[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf8, 0x48,
					  0x89, 0xf7, 0x48, 0x89, 0xd6, 0xff, 0xd0, 0x5d, 0xc3};
#elif defined(__aarch64__)
/* stp x29,x30,[sp,#-16]!; mov x29,sp; mov x3,x0; mov x0,x1; mov x1,x2;
 * blr x3; ldp x29,x30,[sp],#16; ret */
static const uint32_t call_code[] = {0xa9bf7bfdu, 0x910003fdu, 0xaa0003e3u, 0xaa0103e0u,
				     0xaa0203e1u, 0xd63f0060u, 0xa8c17bfdu, 0xd65f03c0u};
/* stp x29,x30,[sp,#-16]!; mov x29,sp; mov w4,#1; str w4,[x2,#8];
 * ldr x3,[x2]; 1: subs x3,x3,#1; b.ne 1b; str wzr,[x2,#8]; mov w0,#0;
 * ldp x29,x30,[sp],#16; ret */
static const uint32_t count_code[] = {0xa9bf7bfdu, 0x910003fdu, 0x52800024u, 0xb9000844u,
				      0xf9400043u, 0xf1000463u, 0x54ffffe1u, 0xb900085fu,
				      0x52800000u, 0xa8c17bfdu, 0xd65f03c0u};
/* The same as a leaf, whose return address stays in x30 alone. */
static const uint32_t leaf_code[] = {0x52800024u, 0xb9000844u, 0xf9400043u,
				     0xf1000463u, 0x54ffffe1u, 0xb900085fu,
				     0x52800000u, 0xd65f03c0u};
#else
#error "no generated code for this architecture"
#endif

static int make_code(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	memcpy(p, count_code, sizeof(count_code));
	memcpy((char *)p + 64, leaf_code, sizeof(leaf_code));
	memcpy((char *)p + 128, call_code, sizeof(call_code));
	__builtin___clear_cache((char *)p, (char *)p + 192);
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0)
		return -1;
	gen_count = (count_fn)p;
	gen_leaf = (count_fn)(void *)((char *)p + 64);
	gen_call = (call_fn)(void *)((char *)p + 128);
	return 0;
}

struct job {
	struct spin spin; /* one run of the generated code */
	int runs;	  /* how many times the C callback ran */
};

/* The C callback: the generated code runs once, for the first object. */
static int through_c(struct dl_phdr_info *info, size_t size, void *data)
{
	struct job *j = data;
	int before = atomic_load(&wakes);

	if (j->runs++ == 0)
		gen_count(info, size, &j->spin);
	if (atomic_load(&wakes) != before)
		fprintf(stderr, "another thread ran inside the callback\n");
	return 1;
}

static int count_objects(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	++*(int *)data;
	return 0;
}

static struct spin direct; /* the generated code's, as the callback itself */

/* Wakes every millisecond to walk the loaded objects, as a thread that
 * dlopens or unwinds would. */
static void *walker(void *arg)
{
	(void)arg;
	atomic_store(&started, 1);
	while (!atomic_load(&stop)) {
		int n = 0;
		sleep_ms(1);
		atomic_fetch_add(&wakes, 1);
		if (((volatile struct spin *)&direct)->inside)
			fprintf(stderr, "another thread ran inside the callback\n");
		dl_iterate_phdr(count_objects, &n);
		if (n > 0)
			atomic_fetch_add(&lookups, 1);
	}
	return NULL;
}

/* Calls the generated code inside dl_iterate_phdr, three times each way
 * (the leaf too: on aarch64 nothing on the stack says libc called it). */
static void *computer(void *arg)
{
	struct job *j = arg;

	for (int round = 0; round < 3; round++) {
		j->runs = 0;
		dl_iterate_phdr(through_c, j);
		/* Generated code calls dl_iterate_phdr, whose C callback
		 * runs generated code. */
		j->runs = 0;
		gen_call((int (*)(count_fn, void *))dl_iterate_phdr, through_c, j);
		/* Once per object, a quarter as long. */
		direct.turns = j->spin.turns / 4;
		dl_iterate_phdr(gen_count, &direct);
		dl_iterate_phdr(gen_leaf, &direct);
	}
	return NULL;
}

int main(void)
{
	struct job j = {.spin = {.turns = 1000000}};
	pthread_t w, c;
	int64_t t0, took;

	alarm(60);
	if (!CHECK(make_code() == 0, "an executable mapping with the generated code"))
		return check_done();
	/* About 50 ms of counting, whatever the CPU (or emulator). */
	t0 = mono_ns();
	gen_count(NULL, 0, &j.spin);
	took = mono_ns() - t0;
	j.spin.turns = took > 0 ? (long)(1000000 * (MS(50) / (double)took)) : 100000000;
	if (j.spin.turns < 1000)
		j.spin.turns = 1000;
	MUST(pthread_create(&w, NULL, walker, NULL));
	wait_above(&started, 0);
	MUST(pthread_create(&c, NULL, computer, &j));
	MUST(pthread_join(c, NULL));
	computer(&j); /* main too, whose walk ends in libc's startup frames */
	wait_above(&lookups, 0);
	atomic_store(&stop, 1);
	MUST(pthread_join(w, NULL));
	CHECK(j.runs == 1, "the C callback ran the generated code inside dl_iterate_phdr");
	CHECK(atomic_load(&lookups) > 0, "the other thread walked the objects too");
	return check_done();
}
