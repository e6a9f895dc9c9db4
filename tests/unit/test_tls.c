/* The TLS probe (runtime/tls_probe.c) run on the test process itself, its
 * findings checked against what glibc answers by other means: the thread
 * pointer, pthread_self() (glibc's pthread_t is its struct pthread), the
 * tid, where errno lives, the rseq area, the module ids dl_iterate_phdr
 * reports, and the thread list the runtime thread is on. Then a block the
 * builder (runtime/tls.c) makes from that layout: a thread pointer glibc's
 * TLS ABI accepts, its own copy of a __thread variable, listed in glibc's
 * thread list until it is freed. */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <unistd.h>

#include "../../arch/ctx.h"
#include "../../runtime/real.h"
#include "../../runtime/sched.h"
#include "../../runtime/tls.h"
#include "../../runtime/tls_int.h"
#include "suites.h"

/* Under memcheck, malloc is valgrind's: glibc's per-thread words do not
 * exist, and the probe must find none rather than guess. */
#if defined(GR_VALGRIND) && __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define FOREIGN_MALLOC RUNNING_ON_VALGRIND
#else
#define FOREIGN_MALLOC 0
#endif

static __thread int tv = 42; /* in the test program's static TLS */

static void probe(void)
{
	gr_real_init();
	gr_rt.os_tid = (int)gettid();
	ck_assert_int_eq(gr_tls_init(), 0);
	ck_assert_int_eq(gr_tls_private, 1);
}

static int in_static_tls(const char *tp, const void *p, size_t n)
{
	const char *lo = gr_tls_static_lo((char *)tp);

	return (const char *)p >= lo && (const char *)p + n <= lo + gr_tls_layout.static_bytes;
}

static int listed(const struct dl_list *node)
{
	const struct dl_list *head = gr_tls_layout.stack_user;
	int n = 0;

	for (const struct dl_list *p = head->next; p != head && n < 100000; p = p->next, n++)
		if (p == node)
			return 1;
	return 0;
}

static int max_modid(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_tls_modid > *(size_t *)data)
		*(size_t *)data = info->dlpi_tls_modid;
	return 0;
}

START_TEST(tls_probe_matches_glibc)
{
	const struct gr_tls_layout *l = &gr_tls_layout;
	char *tp, *pd;
	size_t max = 0;

	probe();
	tp = l->base_tp;
	pd = gr_tls_pd_of(tp);
	ck_assert_ptr_eq(tp, gr_ctx_get_tp());
	ck_assert_ptr_eq(pd, (char *)pthread_self());
	ck_assert_int_eq(*(int *)(pd + l->off_tid), (int)gettid());
#if TLS_VARIANT_II
	ck_assert_ptr_eq(((void **)tp)[TCB_TCB], tp);
	ck_assert_ptr_eq(((void **)tp)[TCB_SELF], pd);
#endif
	ck_assert_uint_eq(l->tcb_size % 64, 0);
	ck_assert(in_static_tls(tp, &errno, sizeof(errno)));
	ck_assert(in_static_tls(tp, &tv, sizeof(tv)));
	ck_assert_int_eq((char *)&gr_tls_runtime - tp, l->off_runtime_flag);
	/* The vector: as long as the module count (the highest module id
	 * with TLS) and glibc's surplus, at least. */
	dl_iterate_phdr(max_modid, &max);
	ck_assert(gr_tls_modules != &gr_tls_no_modules); /* the count was found */
	ck_assert_uint_eq(*gr_tls_modules, max);
	ck_assert_uint_ge(((dtv_t **)(void *)tp)[TCB_DTV][-1].counter, max);
	/* The runtime thread's node is on glibc's list, its links sound. */
	ck_assert_ptr_nonnull(l->stack_user);
	{
		const struct dl_list *node = (const struct dl_list *)(void *)(pd + l->off_list);
		ck_assert_ptr_eq(node->next->prev, node);
		ck_assert_ptr_eq(node->prev->next, node);
		ck_assert(listed(node));
	}
	/* malloc's two per-thread words, set on the runtime thread. */
	ck_assert_int_eq(l->n_shared, FOREIGN_MALLOC ? 0 : MALLOC_WORDS);
	for (int i = 0; i < l->n_shared; i++) {
		ck_assert(in_static_tls(tp, tp + l->off_shared[i], sizeof(void *)));
		ck_assert_ptr_nonnull(*(void **)(tp + l->off_shared[i]));
	}
	/* rseq, when glibc registered it (not under valgrind, say): the kernel
	 * keeps this thread's cpu_id there. The thread may move between the
	 * reads: take a round in which it did not. */
	if (l->have_rseq && __rseq_size > 0) {
		const volatile int32_t *cpu = (const int32_t *)(void *)(tp + l->off_rseq);
		int agreed = 0;
		for (int i = 0; i < 100 && !agreed; i++) {
			int32_t a = cpu[RSEQ_CPU_ID];
			int c = sched_getcpu();
			agreed = a == c && cpu[RSEQ_CPU_ID] == a;
		}
		ck_assert(agreed);
	}
}
END_TEST

/* Not inlined nor taken for a constant function, so that each call reads
 * the thread pointer anew. */
__attribute__((noipa)) static int *tv_address(void)
{
	return &tv;
}

START_TEST(tls_block_is_a_thread_of_glibcs)
{
	const struct gr_tls_layout *l = &gr_tls_layout;
	size_t room;
	char *mem, *tp, *pd, *lo;
	int *mine, *theirs, theirs_value;
	sigset_t all, old;

	probe();
	room = gr_tls_room();
	mem = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	tp = gr_tls_make(mem + room, &lo);
	ck_assert_ptr_nonnull(tp);
	ck_assert(lo >= mem && lo < tp);
	pd = gr_tls_pd_of(tp);
#if TLS_VARIANT_II
	ck_assert_ptr_eq(((void **)tp)[TCB_TCB], tp);
	ck_assert_ptr_eq(((void **)tp)[TCB_SELF], pd);
#endif
	ck_assert_int_eq(*(int *)(pd + l->off_tid), (int)gettid());
	ck_assert_int_eq(*(int *)(tp + l->off_runtime_flag), 1);
	for (int i = 0; i < l->n_shared; i++)
		ck_assert_ptr_eq(*(void **)(tp + l->off_shared[i]),
				 *(void **)((char *)l->base_tp + l->off_shared[i]));
	ck_assert(listed((const struct dl_list *)(void *)(pd + l->off_list)));

	/* On the block, a __thread variable is the block's own, with its
	 * initial value; no handler may run meanwhile. */
	tv = 7;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	gr_ctx_set_tp(tp);
	theirs = tv_address();
	theirs_value = *theirs;
	*theirs = 9;
	gr_ctx_set_tp(l->base_tp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	mine = tv_address();
	ck_assert_ptr_ne(theirs, mine);
	ck_assert(in_static_tls(tp, theirs, sizeof(*theirs)));
	ck_assert_int_eq(theirs_value, 42);
	ck_assert_int_eq(tv, 7);

	gr_tls_free(tp, 1);
	ck_assert(!listed((const struct dl_list *)(void *)(pd + l->off_list)));
	ck_assert_int_eq(*(int *)(pd + l->off_tid), 0); /* cleared for the next */
	munmap(mem, room);
}
END_TEST

#if TLS_VARIANT_II
/* A sleeping thread's private TLS costs one page: struct pthread's hot
 * start, the static TLS, the DTV, our block and the frames of a thread
 * parked in a sleep and resumed (bench/prog2's sleeper reaches 584 bytes
 * below the block when its resumption frees the thread before it) lie in
 * the page below the slot's top one, for every colour; the top page
 * holds only struct pthread's cold end and stays untouched when a block
 * is made and freed (mincore). */
#ifdef GR_UBSAN
/* make sanitize: the UBSan runtime's own static TLS (96 B more here) lies
 * in the same page and comes out of the frames' room. */
#define FRAMES_ROOM (600 - 128)
#else
#define FRAMES_ROOM 600
#endif
START_TEST(tls_block_fits_the_page_below_the_top)
{
	const struct gr_tls_layout *l = &gr_tls_layout;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = 16 * page;
	unsigned char vec[16];
	char *mem, *top, *b, *tp, *lo;

	probe();
	ck_assert_uint_eq(gr_tls_cold, page);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	top = mem + len;
	b = top - page;
	for (unsigned c = 0; c < 4; c++) {
		char *hi = top - c * 64, *t;
		tp = gr_tls_tp_for(hi);
		t = (char *)(((uintptr_t)gr_tls_stack_top(hi) - sizeof(struct gr_thread)) &
			     ~(uintptr_t)63);
		ck_assert(tp + l->tcb_size <= top);
		ck_assert(tp + l->pd_hot <= b);
		ck_assert(t >= b - page + FRAMES_ROOM);
		tp = gr_tls_make(hi, &lo);
		ck_assert_ptr_nonnull(tp);
		ck_assert(lo >= t + sizeof(struct gr_thread));
		gr_tls_free(tp, 0);
		ck_assert_int_eq(mincore(b - page, 2 * page, vec), 0);
		ck_assert_int_eq(vec[0] & 1, 1); /* the hot page */
		ck_assert_int_eq(vec[1] & 1, 0); /* the top page: never backed */
	}
	munmap(mem, len);
}
END_TEST
#endif

Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");

	tcase_add_test(tc, tls_probe_matches_glibc);
	tcase_add_test(tc, tls_block_is_a_thread_of_glibcs);
#if TLS_VARIANT_II
	tcase_add_test(tc, tls_block_fits_the_page_below_the_top);
#endif
	suite_add_tcase(s, tc);
	return s;
}
