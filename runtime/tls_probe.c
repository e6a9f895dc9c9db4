/* Private TLS per green thread, the probe: run once on the runtime thread
 * (gr_tls_init), it finds out where glibc keeps what the builder (tls.c)
 * must set in a block, and fills struct gr_tls_layout.
 *
 * Where glibc keeps it comes from glibc itself, not from a copy of its
 * headers: the dynamic linker exports its TLS allocator to libc
 * (GLIBC_PRIVATE), libc exports the struct pthread layout for
 * libthread_db (_thread_db_* descriptors: {bits, count, offset}) and the
 * rseq area's offset (__rseq_offset, glibc 2.35). Anything missing or not
 * as checked on the runtime thread turns private TLS off with a message,
 * never a guess. */
#include "tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../arch/ctx.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "tls_int.h"

/* A walk of glibc's thread list longer than this is not of a list. */
#define MAX_LISTED 100000

/* What this file fills (the compiler folds the pointer away). */
static struct gr_tls_layout *const layout = &gr_tls_layout;

/* A libthread_db field descriptor's offset, or 0 when absent or odd. */
static size_t field_offset(const char *name, unsigned bits)
{
	const uint32_t *d = dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE");

	if (!d || d[0] != bits || d[1] != 1)
		return 0;
	return d[2];
}

/* Whether the n bytes at p lie in the runtime thread's static TLS: where
 * our own __thread words must be, to be found at one offset in every block. */
static bool in_static_tls(const void *p, size_t n)
{
	const char *lo = gr_tls_static_lo(layout->base_tp);

	return (const char *)p >= lo && (const char *)p + n <= lo + layout->static_bytes;
}

/* The layout (tls.h). x86_64: struct pthread's hot start just below the
 * slot's top page, which holds its cold rest, then the static TLS, the DTV
 * and our block in the same page. aarch64: the static TLS at the top, then
 * struct pthread and the DTV. */
static void set_layout(void)
{
	gr_tls_align = layout->static_align > 64 ? layout->static_align : 64;
	if (TLS_VARIANT_II) {
		gr_tls_gap = layout->page + layout->pd_hot;
		gr_tls_cold = layout->page;
		if (layout->pd_hot == layout->tcb_size || gr_tls_gap < layout->tcb_size) {
			gr_tls_gap = layout->tcb_size;
			gr_tls_cold = 0;
		}
		gr_tls_below = layout->static_bytes + gr_tls_dtv_bytes();
	} else {
		gr_tls_gap = layout->static_bytes;
		gr_tls_below = layout->tcb_size + gr_tls_dtv_bytes();
	}
}

/* x86_64: tcbhead_t ends, after the fixed part gr_tls_make copies
 * (HEADER_COPY bytes), with words glibc no longer uses but keeps for the
 * header's size (the old SSE save area, padding: glibc 2.26 on), up to
 * struct pthread's list node, the first field of its own. A green thread
 * writes none of them; gr_tls_free clears from the list node on. Checked
 * as far as it can be: all zeros in the runtime thread's block, which has
 * run the program's start-up. */
static void set_pd_written(void)
{
	const unsigned char *pd = (const unsigned char *)gr_tls_pd_of(layout->base_tp);

	layout->pd_written = 0;
	if (!TLS_VARIANT_II || layout->off_list < HEADER_COPY)
		return;
	for (size_t i = HEADER_COPY; i < layout->off_list; i++)
		if (pd[i])
			return;
	layout->pd_written = layout->off_list;
}

/* The hot start of struct pthread (x86_64): every field a green thread's
 * life writes lies below the first cancellation word's end (glibc 2.34's
 * order: the header, the list node, the tid, the robust list, the cleanup
 * chain, cancelhandling and flags); the rest (key data, the
 * pthread_create and join words, the unwinder's exception, the resolver
 * state, the rseq area) is written only by calls greenify answers
 * itself, by a forced unwind (tls.c clears it after one) or by glibc's
 * per-thread string buffers, which a slot's next thread may keep. */
static void set_pd_hot(void)
{
	size_t end = layout->off_cancel + 2 * sizeof(int); /* cancelhandling, flags */
	size_t align = layout->static_align > 64 ? layout->static_align : 64;

	layout->pd_hot = layout->tcb_size;
	if (!TLS_VARIANT_II || !layout->off_cancel)
		return;
	if (end < layout->off_list + sizeof(struct dl_list))
		end = layout->off_list + sizeof(struct dl_list);
	if (end < layout->off_tid + sizeof(int))
		end = layout->off_tid + sizeof(int);
	end = (end + align - 1) & ~(align - 1);
	if (end < layout->tcb_size)
		layout->pd_hot = end;
}

/* glibc's malloc keeps a cache (tcache) and an arena pointer in TLS and
 * sets them at a thread's first malloc. Which words those are is found by
 * doing a first malloc in a scratch block and seeing which words of its
 * static TLS went from zero to set; a green thread then starts with the
 * runtime thread's values. One OS thread runs every green thread and no
 * switch happens inside malloc, so sharing the cache is what a single
 * thread does. */
static void find_malloc_words(void)
{
	size_t room = gr_tls_room(), words = layout->static_bytes / sizeof(uint64_t);
	char *mem, *lo, *tp;
	uint64_t *before, *area;
	sigset_t all, old;
	/* Through a volatile pointer: the compiler drops a malloc + free pair. */
	void *(*volatile do_malloc)(size_t) = malloc;
	void *p;

	/* Only glibc's malloc is probed (its malloc is __libc_malloc): another
	 * allocator may link a record it keeps in the scratch block's TLS into
	 * lists of its own (jemalloc's thread states), left there dangling
	 * once the block is unmapped. Its per-thread state is then each green
	 * thread's own, as natively. */
	if (do_malloc != gr_real.__libc_malloc) {
		gr_log(GR_LOG_DEBUG, "private TLS: malloc is not glibc's: not probed");
		return;
	}
	free(do_malloc(1)); /* the runtime thread's own cache exists */
	mem = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	before = malloc(words * sizeof(uint64_t));
	if (mem == MAP_FAILED || !before)
		goto out;
	tp = gr_tls_make(mem + room, &lo);
	if (!tp)
		goto out;
	/* glibc's vector for a new thread: its length tells how many modules
	 * have TLS, plus DTV_SURPLUS; ours is as long, when the count can be watched. */
	if (gr_tls_modules != &gr_tls_no_modules) {
		layout->dtv_slots = ((dtv_t **)(void *)tp)[TCB_DTV][-1].counter;
		/* Longer only takes room from the frames in the block's
		 * page: a sleeping thread's resumption (which frees the
		 * thread that ran before) reaches 584 bytes below our block. */
		if (layout->dtv_slots > *gr_tls_modules + DTV_SPARE + DTV_ROOM)
			layout->dtv_slots = *gr_tls_modules + DTV_SPARE + DTV_ROOM;
		if (layout->dtv_slots > *gr_tls_modules + DTV_SPARE)
			gr_tls_slot_modules = layout->dtv_slots - DTV_SPARE;
		else
			layout->dtv_slots = 0;
		gr_log(GR_LOG_DEBUG,
		       "private TLS: %zu modules with TLS, vectors of %zu in the slots",
		       *gr_tls_modules, layout->dtv_slots);
	}
	area = (uint64_t *)(void *)gr_tls_static_lo(tp);
	memcpy(before, area, words * sizeof(uint64_t));
	/* No handler may run on the scratch block. */
	sigfillset(&all);
	gr_real.syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, _NSIG / 8);
	gr_ctx_set_tp(tp);
	p = do_malloc(64);
	free(p);
	gr_ctx_set_tp(layout->base_tp);
	gr_real.syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
	for (size_t i = 0; i < words; i++)
		if (!before[i] && area[i]) {
			if (layout->n_shared == MAX_SHARED) {
				layout->n_shared = 0;
				break;
			}
			layout->off_shared[layout->n_shared++] = (char *)&area[i] - tp;
		}
	if (layout->n_shared != MALLOC_WORDS) {
		gr_log(GR_LOG_WARN,
		       "private TLS: malloc's per-thread cache not found (%d words changed); "
		       "each green thread that mallocs keeps a cache of its own",
		       layout->n_shared);
		layout->n_shared = 0;
	}
	gr_tls_free(tp, 1);
out:
	free(before);
	if (mem != MAP_FAILED)
		munmap(mem, room);
}

/* Finds GL(dl_stack_user) and its lock in the dynamic linker's globals:
 * libthread_db's descriptors give where the two lists are; the lock comes
 * after them, the stack cache's list, its size and the in-flight word
 * (glibc 2.34's struct rtld_global). Each is checked as far as it can be:
 * the cache a well-formed list, nothing in flight, the lock free, and the
 * runtime thread's own block in the list, as glibc lists the main thread. */
static void find_stack_list(void)
{
	char *rg = dlvsym(RTLD_DEFAULT, "_rtld_global", "GLIBC_PRIVATE");
	size_t used = field_offset("_thread_db_rtld_global__dl_stack_used", 128);
	size_t user = field_offset("_thread_db_rtld_global__dl_stack_user", 128);
	struct dl_list *head, *cache, *p, *base_node;
	uintptr_t *after; /* the cache's size, the in-flight word, the lock */
	int n = 0;

	layout->off_listed = (char *)&gr_tls_listed - (char *)layout->base_tp;
	if (!rg || !used || user != used + sizeof(struct dl_list) || !layout->off_cancel ||
	    layout->off_cancel + sizeof(int) > layout->tcb_size ||
	    !in_static_tls(&gr_tls_listed, sizeof(gr_tls_listed)))
		goto no;
	head = (struct dl_list *)(void *)(rg + user);
	cache = head + 1;
	base_node = (struct dl_list *)(void *)(gr_tls_pd_of(layout->base_tp) + layout->off_list);
	after = (uintptr_t *)(void *)(cache + 1);
	if (cache->next->prev != cache || cache->prev->next != cache || after[1] != 0)
		goto no;
	layout->stack_lock = (int *)(void *)&after[2];
	if (*layout->stack_lock != 0)
		goto no;
	for (p = head->next; p != head && p != base_node && n < MAX_LISTED; p = p->next)
		n++;
	if (p != base_node)
		goto no;
	layout->stack_user = head;
	layout->stack_used = (struct dl_list *)(void *)(rg + used);
	/* The OS thread's block says "exiting" too: a set*id() called by a
	 * green thread would signal it, and the OS thread's answer (the
	 * handler clears the flag of the running block, the caller's) would
	 * never clear it. The calling thread changes the OS thread's ids
	 * itself, as it does its own. */
	__atomic_or_fetch((int *)(gr_tls_pd_of(layout->base_tp) + layout->off_cancel),
			  EXITING_BITMASK, __ATOMIC_RELAXED);
	return;
no:
	gr_log(GR_LOG_WARN,
	       "private TLS: glibc's thread list not found; a library loaded "
	       "later with static TLS starts from zeros in green threads made before it");
}

/* GL(dl_tls_generation), which every dlopen and dlclose that adds or
 * removes a module with TLS moves on, and GL(dl_tls_static_used), the
 * static TLS the modules take (tls.c's template of a new block holds for
 * one generation). In glibc 2.34's struct rtld_global they follow the
 * slot list, which libthread_db locates (off): the count of static
 * modules, the static bytes used, the optional rest, the initial vector,
 * the generation; then the scope free list and GL(dl_stack_used), which
 * libthread_db locates too: the generation is where both say. Checked:
 * the runtime thread's vector is of a generation no later, the bytes used
 * fit in static TLS. Not found: no template, every block from glibc's
 * _dl_allocate_tls. */
static void find_generation(char *rg, size_t off)
{
	size_t used = field_offset("_thread_db_rtld_global__dl_stack_used", 128);
	const size_t *w = (const size_t *)(void *)(rg + off);
	size_t base_gen = ((dtv_t **)layout->base_tp)[TCB_DTV][0].counter;

	if (!used || used != off + 7 * sizeof(size_t) || w[5] < base_gen || w[5] == 0 ||
	    w[2] > layout->static_size || w[4] == 0 ||
	    !in_static_tls(&gr_tls_made_gen, sizeof(gr_tls_made_gen)))
		return;
	layout->off_made_gen = (char *)&gr_tls_made_gen - (char *)layout->base_tp;
	layout->dl_generation = &w[5];
	layout->static_used = &w[2];
}

static int max_modid(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_tls_modid > *(size_t *)data)
		*(size_t *)data = info->dlpi_tls_modid;
	return 0;
}

/* GL(dl_tls_max_dtv_idx), the highest module id with TLS: in the dynamic
 * linker's globals just before the list libthread_db's descriptor points
 * at (glibc 2.34's struct rtld_global), and checked against the ids
 * dl_iterate_phdr reports. Not found: vectors come from glibc. */
static void find_module_count(void)
{
	char *rg = dlvsym(RTLD_DEFAULT, "_rtld_global", "GLIBC_PRIVATE");
	size_t off = field_offset("_thread_db_rtld_global__dl_tls_dtv_slotinfo_list", 64);
	size_t max = 0;
	const size_t *p;

	dl_iterate_phdr(max_modid, &max);
	if (!rg || off < sizeof(size_t) || off % sizeof(size_t))
		goto no;
	p = (const size_t *)(void *)(rg + off) - 1;
	if (*p != max || max == 0)
		goto no;
	gr_tls_modules = p;
	find_generation(rg, off);
	return;
no:
	gr_log(GR_LOG_INFO, "private TLS: the dynamic linker's module count not found; "
			    "green threads' TLS vectors are malloc'd");
}

static int unavailable(const char *why)
{
	gr_log(GR_LOG_WARN, "private TLS unavailable (%s); TLS is shared (GREENIFY_TLS=shared)",
	       why);
	return -ENOTSUP;
}

int gr_tls_init(void)
{
	void (*static_info)(size_t *, size_t *);
	const uint32_t *sz;
	const ptrdiff_t *rseq_off;
	const unsigned *rseq_size;

#if !defined(__x86_64__) && !defined(__aarch64__)
	return unavailable("no TLS layout for this architecture");
#endif
	if (gr_ctx_tp_init() < 0)
		return unavailable("no way to set the thread pointer on this architecture");
	layout->allocate = dlvsym(RTLD_DEFAULT, "_dl_allocate_tls", "GLIBC_PRIVATE");
	layout->deallocate = dlvsym(RTLD_DEFAULT, "_dl_deallocate_tls", "GLIBC_PRIVATE");
	static_info = dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info", "GLIBC_PRIVATE");
	layout->call_dtors = dlvsym(RTLD_DEFAULT, "__call_tls_dtors", "GLIBC_PRIVATE");
	layout->ctype_init = dlvsym(RTLD_DEFAULT, "__ctype_init", "GLIBC_PRIVATE");
	sz = dlvsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread", "GLIBC_PRIVATE");
	if (!layout->allocate || !layout->deallocate || !static_info || !sz || !layout->ctype_init)
		return unavailable("the dynamic linker's TLS allocator is not exported");
	static_info(&layout->static_size, &layout->static_align);
	layout->tcb_size = *sz;
	/* x86_64's static size counts struct pthread, aarch64's does not. */
	layout->static_bytes =
		TLS_VARIANT_II ? layout->static_size - layout->tcb_size : layout->static_size;
	layout->off_tid = field_offset("_thread_db_pthread_tid", 32);
	layout->off_list = field_offset("_thread_db_pthread_list", 128);
	layout->base_tp = gr_ctx_get_tp();
	if (layout->tcb_size < HEADER_COPY ||
	    (TLS_VARIANT_II && layout->static_size <= layout->tcb_size) || layout->tcb_size % 64 ||
	    layout->static_align < 16 || (layout->static_align & (layout->static_align - 1)) ||
	    !layout->off_tid || layout->off_tid + sizeof(int) > layout->tcb_size ||
	    !layout->off_list || layout->off_list + sizeof(struct dl_list) > layout->tcb_size)
		return unavailable("unexpected struct pthread layout");
	if (*(int *)(gr_tls_pd_of(layout->base_tp) + layout->off_tid) != gr_rt.os_tid)
		return unavailable("the tid is not where libthread_db says");
	rseq_off = dlsym(RTLD_DEFAULT, "__rseq_offset");
	rseq_size = dlsym(RTLD_DEFAULT, "__rseq_size");
	if (rseq_off && rseq_size) {
		/* In struct pthread: above the thread pointer on x86_64, below it
		 * on aarch64. */
		ptrdiff_t lo = gr_tls_pd_of(layout->base_tp) - (char *)layout->base_tp;
		if (*rseq_off >= lo && *rseq_off + (RSEQ_CPU_ID + 1) * (ptrdiff_t)sizeof(int32_t) <=
					       lo + (ptrdiff_t)layout->tcb_size) {
			layout->off_rseq = *rseq_off;
			layout->have_rseq = true;
		}
	}
	layout->off_runtime_flag = (char *)&gr_tls_runtime - (char *)layout->base_tp;
	layout->off_cancel = field_offset("_thread_db_pthread_cancelhandling", 32);
	if (layout->off_cancel + 2 * sizeof(int) > layout->tcb_size)
		layout->off_cancel = 0;
	layout->page = (size_t)sysconf(_SC_PAGESIZE);
	/* glibc sets header.multiple_threads only in the block of the thread
	 * that creates the first OS thread, and malloc takes no locks in a
	 * block without it (x86_64; aarch64's malloc reads a global). OS
	 * threads (libuv's pool) may come from any green thread later, and
	 * they free into main's arena: every block says "multiple threads",
	 * main's too. */
	((int *)gr_tls_pd_of(layout->base_tp))[PD_MULTIPLE_THREADS] = 1;
	if (!in_static_tls(&gr_tls_runtime, sizeof(gr_tls_runtime)))
		return unavailable("the runtime's TLS flag is not in static TLS");
	set_pd_hot();
	set_pd_written();
	set_layout();
	find_module_count();
	find_malloc_words();
	set_layout(); /* now with the DTV's size */
	find_stack_list();
	gr_tls_private = 1;
	return 0;
}
