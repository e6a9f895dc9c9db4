/* Private TLS per green thread: see tls.h for what and why.
 *
 * Where glibc keeps what we must set in a control block comes from glibc
 * itself, not from a copy of its headers: the dynamic linker exports its TLS
 * allocator to libc (GLIBC_PRIVATE), libc exports the struct pthread layout
 * for libthread_db (_thread_db_* descriptors: {bits, count, offset}) and
 * the rseq area's offset (__rseq_offset, glibc 2.35). Anything missing or
 * not as checked on the runtime thread turns private TLS off with a message,
 * never a guess.
 *
 * Two layouts, as the ABIs define them:
 * - x86_64 (TLS variant II): the thread pointer is the start of struct
 *   pthread, whose first 128 bytes are tcbhead_t's fixed part (thread
 *   pointer, DTV, self, the multiple-threads flag, the stack and pointer
 *   guards at fs:0x28 and fs:0x30, CET features); the static TLS lies below
 *   the thread pointer.
 * - aarch64 (variant I): the thread pointer points at a 16-byte tcbhead_t
 *   (DTV, private) with the static TLS above it and struct pthread just
 *   below; the guards are globals there, not per thread. */
#include "tls.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../arch/ctx.h"
#include "log.h"
#include "real.h"
#include "sched.h"

int gr_tls_private;
size_t gr_tls_gap;
size_t gr_tls_align = 64;
size_t gr_tls_below;

#if defined(__x86_64__)
#define TLS_VARIANT_II 1
#define HEADER_COPY    0x80 /* tcbhead_t up to __glibc_unused2 (x86_64 ABI) */
#define TCB_DTV	       1    /* word of the thread pointer's block holding the DTV */
#else
#define TLS_VARIANT_II 0
#define HEADER_COPY    8 /* struct pthread's header: multiple_threads, gscope_flag */
#define TCB_DTV	       0
#endif
#define MAX_SHARED 4 /* malloc words shared with the OS thread */

static void *(*dl_allocate_tls)(void *mem);
/* glibc 2.39 added a second parameter (main_thread, false for us); an
 * older one ignores it. */
static void *(*dl_allocate_tls_init)(void *tcb, bool main_thread);
static void (*dl_deallocate_tls)(void *tcb, bool dealloc_tcb);
static void (*call_tls_dtors)(void);
static void (*ctype_init)(void);

static size_t static_size; /* glibc's static size: see static_bytes */
static size_t static_align;
static size_t tcb_size;	    /* sizeof(struct pthread) */
static size_t static_bytes; /* static TLS (with the surplus), not struct pthread */
static size_t off_tid;	    /* struct pthread fields, from its start */
static size_t off_list;
static ptrdiff_t off_rseq; /* rseq area from the thread pointer */
static bool have_rseq;
static ptrdiff_t off_runtime_flag;	 /* gr_tls_runtime */
static ptrdiff_t off_shared[MAX_SHARED]; /* malloc's tcache and arena */
static int n_shared;
static void *base_tp; /* the runtime thread's block */

/* glibc's list of threads whose stacks the application gave
 * (GL(dl_stack_user)), and the lock over it. The dynamic linker walks it,
 * and the list of its own stacks, when a library loaded later gets static
 * TLS (initial-exec TLS; on aarch64 any TLS accessed through descriptors
 * while the surplus lasts): it copies the library's initial TLS into every
 * listed thread. So every green block is listed. A listed block's
 * cancelhandling says "exiting", which makes glibc's set*id() skip it (it
 * signals every listed thread and waits for each, and a green thread is
 * none) and gdb's thread list ignore it, as the OS thread is the one
 * there (the OS thread's own block says so too: see find_stack_list).
 * NULL when glibc's layout is not as checked: then a library loaded
 * later with static TLS has zeros in green threads made before it. */
struct dl_list {
	struct dl_list *next, *prev;
};
static struct dl_list *stack_user;
static int *stack_lock;
static size_t off_cancel;
#define EXITING_BITMASK 0x10
/* In every block: whether it is listed, as the epoch it was listed in. A
 * fork child starts a new epoch: glibc's child empties the lists, so a
 * block of the parent's is in none. */
static __thread unsigned gr_tls_listed __attribute__((tls_model("initial-exec")));
static ptrdiff_t off_listed;
static unsigned listed_epoch = 1;

/* The dynamic thread vector: glibc's dtv_t, one per module with TLS, after
 * a counter of entries (dtv[-1]) and the generation (dtv[0]). */
typedef union {
	size_t counter;
	struct {
		void *val;     /* the module's block, or TLS_DTV_UNALLOCATED */
		void *to_free; /* malloc'd dynamic TLS to free, or NULL */
	} pointer;
} dtv_t;

/* Entries of the vector a block carries in its own slot: what glibc gives
 * a new thread (the modules with TLS so far, plus 14), and no malloc per
 * thread. glibc grows a thread's vector with realloc when the thread first
 * reaches the TLS of a module past its end; a vector in a slot must never
 * get there. So once the dynamic linker's module count
 * (GL(dl_tls_max_dtv_idx)) passes gr_tls_slot_modules, a thread's vector
 * moves to the heap before the thread runs again (gr_tls_before_run), and
 * new threads get theirs from glibc; a thread about to call dlopen moves
 * its own first (gr_tls_before_dlopen), since it runs on after the modules
 * arrive. DTV_SPARE entries stay for what the running thread may reach
 * before it next switches: modules loaded meanwhile by another OS thread
 * or by glibc itself (NSS, iconv). 0 when the count was not found: then
 * every vector is glibc's own (malloc'd by _dl_allocate_tls). */
static size_t dtv_slots;
#define DTV_SPARE   8
#define DTV_SURPLUS 14 /* glibc's entries past the modules in a new vector */
static const size_t no_modules;
const volatile size_t *gr_tls_modules = &no_modules;
size_t gr_tls_slot_modules = SIZE_MAX;
size_t gr_tls_in_slot;

void *gr_tls_base(void)
{
	return base_tp;
}

size_t gr_tls_room(void)
{
	return gr_tls_gap + gr_tls_align + gr_tls_below;
}

/* A libthread_db field descriptor's offset, or 0 when absent or odd. */
static size_t field_offset(const char *name, unsigned bits)
{
	const uint32_t *d = dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE");

	if (!d || d[0] != bits || d[1] != 1)
		return 0;
	return d[2];
}

/* struct pthread of the block whose thread pointer is tp. */
static char *pd_of(char *tp)
{
	return TLS_VARIANT_II ? tp : tp - tcb_size;
}

/* The static TLS of the block at tp. */
static char *static_lo(char *tp)
{
	return TLS_VARIANT_II ? tp - static_bytes : tp;
}

/* Whether the n bytes at p lie in the runtime thread's static TLS: where
 * our own __thread words must be, to be found at one offset in every block. */
static bool in_static_tls(const void *p, size_t n)
{
	const char *lo = static_lo(base_tp);

	return (const char *)p >= lo && (const char *)p + n <= lo + static_bytes;
}

/* Bytes of the DTV a block carries in its slot, alignment included. */
static size_t dtv_bytes(void)
{
	return dtv_slots ? (dtv_slots + 2) * sizeof(dtv_t) + 63 : 0;
}

/* The vector of the block at tp, when it lives in the slot: below the
 * static TLS on x86_64, below struct pthread on aarch64. */
static dtv_t *slot_dtv(char *tp)
{
	size_t n = (dtv_slots + 2) * sizeof(dtv_t);

	if (TLS_VARIANT_II)
		return (dtv_t *)(((uintptr_t)tp - static_bytes - n) & ~(uintptr_t)63);
	return (dtv_t *)(((uintptr_t)pd_of(tp) - n) & ~(uintptr_t)63);
}

/* The layout (tls.h). x86_64: struct pthread at the top, then the static
 * TLS and the DTV. aarch64: the static TLS at the top, then struct pthread
 * and the DTV. */
static void set_layout(void)
{
	gr_tls_align = static_align > 64 ? static_align : 64;
	if (TLS_VARIANT_II) {
		gr_tls_gap = tcb_size;
		gr_tls_below = static_bytes + dtv_bytes();
	} else {
		gr_tls_gap = static_bytes;
		gr_tls_below = tcb_size + dtv_bytes();
	}
}

/* glibc's lll_lock and lll_unlock, on GL(dl_stack_cache_lock): 0 free, 1
 * taken, 2 taken with waiters. Whoever else takes it is another OS thread
 * (a dlopen in libuv's pool, say), for microseconds. A lock and its unlock
 * both see the same __libc_single_threaded: it turns false only when this
 * thread creates another. */
static void stack_list_lock(void)
{
	int c = 0;

	/* No other OS thread, no other walker (a new one could only come
	 * from this thread). */
	if (__libc_single_threaded)
		return;
	if (__atomic_compare_exchange_n(stack_lock, &c, 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(stack_lock, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		gr_real.syscall(SYS_futex, stack_lock, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
		c = __atomic_exchange_n(stack_lock, 2, __ATOMIC_ACQUIRE);
	}
}

static void stack_list_unlock(void)
{
	if (__libc_single_threaded)
		return;
	if (__atomic_exchange_n(stack_lock, 0, __ATOMIC_RELEASE) > 1)
		gr_real.syscall(SYS_futex, stack_lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* As glibc's list_add and list_del: forward links stay walkable. */
static void list_link(struct dl_list *n)
{
	n->next = stack_user->next;
	n->prev = stack_user;
	stack_user->next->prev = n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	stack_user->next = n;
}

static void list_unlink(struct dl_list *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
}

/* Takes the block whose struct pthread is at pd off glibc's list. */
static void unlist(char *pd)
{
	stack_list_lock();
	list_unlink((struct dl_list *)(void *)(pd + off_list));
	stack_list_unlock();
}

/* The vector of the block at tp, when it is the one in the block's slot. */
static dtv_t *in_slot_dtv(char *tp)
{
	dtv_t *d = dtv_slots ? slot_dtv(tp) : NULL;

	return d && ((void **)tp)[TCB_DTV] == &d[1] ? d : NULL;
}

void gr_tls_dtv_to_heap(void *tp)
{
	dtv_t *d = tp == base_tp ? NULL : in_slot_dtv(tp), *n;
	size_t len;

	if (!d)
		return;
	/* As glibc's _dl_resize_dtv, for a vector it did not malloc. */
	len = *gr_tls_modules + DTV_SURPLUS;
	if (len < dtv_slots)
		len = dtv_slots;
	n = calloc(len + 2, sizeof(*n));
	if (!n) {
		/* Tried again before the thread next runs. Until then glibc
		 * finds the vector in the slot, which is enough unless the
		 * thread reaches the TLS of a module past it, where glibc,
		 * short of memory, would fail natively too. */
		gr_log(GR_LOG_WARN, "no memory to move a TLS vector (%zu modules)", len);
		return;
	}
	memcpy(n, d, (dtv_slots + 2) * sizeof(*n));
	n[0].counter = len;
	((void **)tp)[TCB_DTV] = &n[1];
	gr_tls_in_slot--;
}

void gr_tls_before_dlopen(void)
{
	gr_tls_dtv_to_heap(gr_ctx_get_tp());
}

/* Builds a block whose memory is all zeros (fresh, or cleared by
 * gr_tls_free) below hi, the vector in the slot when it is big enough. */
void *gr_tls_make(char *hi, char **lo)
{
	char *tp = gr_tls_tp_for(hi), *pd = pd_of(tp);

#if TLS_VARIANT_II
	memcpy(tp, base_tp, HEADER_COPY);
	((void **)tp)[0] = tp; /* header.tcb: the thread pointer */
	((void **)tp)[2] = tp; /* header.self: THREAD_SELF */
	((int *)tp)[6] = 1;    /* header.multiple_threads: see gr_tls_init */
	((int *)tp)[7] = 0;    /* header.gscope_flag: not in a dl scope */
#else
	((int *)pd)[0] = 1; /* header.multiple_threads */
	((int *)pd)[1] = 0; /* header.gscope_flag */
#endif
	((void **)tp)[TCB_DTV] = NULL; /* set below */
	*(int *)(pd + off_tid) = gr_rt.os_tid;
	/* An empty list node, linked to itself: glibc's fork child unlinks
	 * the calling thread's node from its thread list. */
	((void **)(pd + off_list))[0] = pd + off_list;
	((void **)(pd + off_list))[1] = pd + off_list;
	/* The kernel updates only the OS thread's rseq area: -1 sends
	 * sched_getcpu to the system call. */
	if (have_rseq)
		((int32_t *)(tp + off_rseq))[1] = -1;
	/* Listed first, as glibc lists a new thread before it builds its TLS:
	 * a library that takes static TLS meanwhile (in another OS thread) is
	 * either in the image or copied in. */
	if (stack_user) {
		*(int *)(pd + off_cancel) = EXITING_BITMASK;
		stack_list_lock();
		list_link((struct dl_list *)(void *)(pd + off_list));
		stack_list_unlock();
	}
	if (dtv_slots && *gr_tls_modules <= gr_tls_slot_modules) {
		dtv_t *d = slot_dtv(tp);
		d[0].counter = dtv_slots;
		((void **)tp)[TCB_DTV] = &d[1];
		gr_tls_in_slot++;
		dl_allocate_tls_init(tp, false);
	} else if (!dl_allocate_tls(tp)) {
		if (stack_user)
			unlist(pd);
		return NULL;
	}
	if (stack_user)
		*(unsigned *)(tp + off_listed) = listed_epoch;
	*(int *)(tp + off_runtime_flag) = 1;
	for (int i = 0; i < n_shared; i++)
		*(void **)(tp + off_shared[i]) = *(void **)((char *)base_tp + off_shared[i]);
	*lo = tp - gr_tls_below;
	GR_ASSERT(!dtv_slots || (char *)slot_dtv(tp) >= *lo);
	return tp;
}

void gr_tls_free(void *tp)
{
	dtv_t *d = in_slot_dtv(tp);

	if (stack_user && *(unsigned *)((char *)tp + off_listed) == listed_epoch)
		unlist(pd_of(tp));
	if (d) {
		gr_tls_in_slot--;
		/* What _dl_deallocate_tls does, but the vector is ours. */
		for (size_t i = 0; i < dtv_slots; i++)
			if (d[2 + i].pointer.to_free)
				free(d[2 + i].pointer.to_free);
		memset(d, 0, (dtv_slots + 2) * sizeof(dtv_t));
	} else {
		dl_deallocate_tls(tp, false);
	}
	/* The next thread of this slot starts from zeros, as glibc's do;
	 * clearing here spares a fresh slot's pages the work. */
	memset(pd_of(tp), 0, tcb_size);
	if (!TLS_VARIANT_II)
		memset(tp, 0, 2 * sizeof(void *)); /* tcbhead_t */
}

void gr_tls_thread_start(void)
{
	/* glibc's start_thread does this: the <ctype.h> tables (isdigit and
	 * friends read them through TLS pointers) for the thread's locale. */
	if (ctype_init)
		ctype_init();
}

void gr_tls_thread_exit(void)
{
	if (call_tls_dtors)
		call_tls_dtors();
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
	size_t room = gr_tls_room(), words = static_bytes / sizeof(uint64_t);
	char *mem, *lo, *tp;
	uint64_t *before, *area;
	sigset_t all, old;
	/* Through a volatile pointer: the compiler drops a malloc + free pair. */
	void *(*volatile do_malloc)(size_t) = malloc;
	void *p;

	free(do_malloc(1)); /* the runtime thread's own cache exists */
	mem = mmap(NULL, room, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	before = malloc(words * sizeof(uint64_t));
	if (mem == MAP_FAILED || !before)
		goto out;
	tp = gr_tls_make(mem + room, &lo);
	if (!tp)
		goto out;
	/* glibc's vector for a new thread: its length tells how many modules
	 * have TLS, plus 14; ours is as long, when the count can be watched. */
	if (dl_allocate_tls_init && gr_tls_modules != &no_modules) {
		dtv_slots = ((dtv_t **)(void *)tp)[TCB_DTV][-1].counter;
		if (dtv_slots > *gr_tls_modules + DTV_SPARE)
			gr_tls_slot_modules = dtv_slots - DTV_SPARE;
		else
			dtv_slots = 0;
		gr_log(GR_LOG_DEBUG,
		       "private TLS: %zu modules with TLS, vectors of %zu in the slots",
		       *gr_tls_modules, dtv_slots);
	}
	area = (uint64_t *)(void *)static_lo(tp);
	memcpy(before, area, words * sizeof(uint64_t));
	/* No handler may run on the scratch block. */
	sigfillset(&all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, _NSIG / 8);
	gr_ctx_set_tp(tp);
	p = do_malloc(64);
	free(p);
	gr_ctx_set_tp(base_tp);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
	for (size_t i = 0; i < words; i++)
		if (!before[i] && area[i]) {
			if (n_shared == MAX_SHARED) {
				n_shared = 0;
				break;
			}
			off_shared[n_shared++] = (char *)&area[i] - tp;
		}
	if (n_shared != 2) {
		gr_log(GR_LOG_WARN,
		       "private TLS: malloc's per-thread cache not found (%d words changed); "
		       "each green thread that mallocs keeps a cache of its own",
		       n_shared);
		n_shared = 0;
	}
	gr_tls_free(tp);
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

	off_cancel = field_offset("_thread_db_pthread_cancelhandling", 32);
	off_listed = (char *)&gr_tls_listed - (char *)base_tp;
	if (!rg || !used || user != used + sizeof(struct dl_list) || !off_cancel ||
	    off_cancel + 4 > tcb_size || !in_static_tls(&gr_tls_listed, sizeof(gr_tls_listed)))
		goto no;
	head = (struct dl_list *)(void *)(rg + user);
	cache = head + 1;
	base_node = (struct dl_list *)(void *)(pd_of(base_tp) + off_list);
	after = (uintptr_t *)(void *)(cache + 1);
	if (cache->next->prev != cache || cache->prev->next != cache || after[1] != 0)
		goto no;
	stack_lock = (int *)(void *)&after[2];
	if (*stack_lock != 0)
		goto no;
	for (p = head->next; p != head && p != base_node && n < 100000; p = p->next)
		n++;
	if (p != base_node)
		goto no;
	stack_user = head;
	/* The OS thread's block says "exiting" too: a set*id() called by a
	 * green thread would signal it, and the OS thread's answer (the
	 * handler clears the flag of the running block, the caller's) would
	 * never clear it. The calling thread changes the OS thread's ids
	 * itself, as it does its own. */
	__atomic_or_fetch((int *)(pd_of(base_tp) + off_cancel), EXITING_BITMASK, __ATOMIC_RELAXED);
	return;
no:
	gr_log(GR_LOG_WARN,
	       "private TLS: glibc's thread list not found; a library loaded "
	       "later with static TLS starts from zeros in green threads made before it");
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
	return;
no:
	gr_log(GR_LOG_INFO, "private TLS: the dynamic linker's module count not found; "
			    "green threads' TLS vectors are malloc'd");
}

static int no(const char *why)
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
	return no("no TLS layout for this architecture");
#endif
	if (gr_ctx_tp_init() < 0)
		return no("no way to set the thread pointer on this architecture");
	dl_allocate_tls = dlvsym(RTLD_DEFAULT, "_dl_allocate_tls", "GLIBC_PRIVATE");
	dl_deallocate_tls = dlvsym(RTLD_DEFAULT, "_dl_deallocate_tls", "GLIBC_PRIVATE");
	dl_allocate_tls_init = dlvsym(RTLD_DEFAULT, "_dl_allocate_tls_init", "GLIBC_PRIVATE");
	static_info = dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info", "GLIBC_PRIVATE");
	call_tls_dtors = dlvsym(RTLD_DEFAULT, "__call_tls_dtors", "GLIBC_PRIVATE");
	ctype_init = dlvsym(RTLD_DEFAULT, "__ctype_init", "GLIBC_PRIVATE");
	sz = dlvsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread", "GLIBC_PRIVATE");
	if (!dl_allocate_tls || !dl_deallocate_tls || !static_info || !sz || !ctype_init)
		return no("the dynamic linker's TLS allocator is not exported");
	static_info(&static_size, &static_align);
	tcb_size = *sz;
	/* x86_64's static size counts struct pthread, aarch64's does not. */
	static_bytes = TLS_VARIANT_II ? static_size - tcb_size : static_size;
	off_tid = field_offset("_thread_db_pthread_tid", 32);
	off_list = field_offset("_thread_db_pthread_list", 128);
	base_tp = gr_ctx_get_tp();
	if (tcb_size < HEADER_COPY || (TLS_VARIANT_II && static_size <= tcb_size) ||
	    tcb_size % 64 || static_align < 16 || (static_align & (static_align - 1)) || !off_tid ||
	    off_tid + 4 > tcb_size || !off_list || off_list + 16 > tcb_size)
		return no("unexpected struct pthread layout");
	if (*(int *)(pd_of(base_tp) + off_tid) != gr_rt.os_tid)
		return no("the tid is not where libthread_db says");
	rseq_off = dlsym(RTLD_DEFAULT, "__rseq_offset");
	rseq_size = dlsym(RTLD_DEFAULT, "__rseq_size");
	if (rseq_off && rseq_size) {
		/* In struct pthread: above the thread pointer on x86_64, below it
		 * on aarch64. */
		ptrdiff_t lo = pd_of(base_tp) - (char *)base_tp;
		if (*rseq_off >= lo && *rseq_off + 8 <= lo + (ptrdiff_t)tcb_size) {
			off_rseq = *rseq_off;
			have_rseq = true;
		}
	}
	off_runtime_flag = (char *)&gr_tls_runtime - (char *)base_tp;
	/* glibc sets header.multiple_threads only in the block of the thread
	 * that creates the first OS thread, and malloc takes no locks in a
	 * block without it (x86_64; aarch64's malloc reads a global). OS
	 * threads (libuv's pool) may come from any green thread later, and
	 * they free into main's arena: every block says "multiple threads",
	 * main's too. */
	((int *)pd_of(base_tp))[TLS_VARIANT_II ? 6 : 0] = 1;
	if (!in_static_tls(&gr_tls_runtime, sizeof(gr_tls_runtime)))
		return no("the runtime's TLS flag is not in static TLS");
	set_layout();
	find_module_count();
	find_malloc_words();
	set_layout(); /* now with the DTV's size */
	find_stack_list();
	gr_tls_private = 1;
	return 0;
}

void gr_tls_fork_child(void)
{
	char *tp = gr_ctx_get_tp();
	struct dl_list *n;

	if (!gr_tls_private || !stack_user)
		return;
	/* glibc's child emptied its lists but for the running block, which it
	 * put in the list of glibc's own stacks (the OS thread's block: back
	 * in this one): the parent's other blocks are in no list any more,
	 * and the running one goes back to this list. Only this thread runs
	 * here: no lock (another thread of the parent may have left it
	 * taken, and it is the child's own memory). */
	listed_epoch++;
	if (tp == base_tp)
		return;
	n = (struct dl_list *)(void *)(pd_of(tp) + off_list);
	list_unlink(n);
	list_link(n);
	*(unsigned *)(tp + off_listed) = listed_epoch;
}

void gr_tls_after_fork(void)
{
	if (gr_tls_private)
		*(int *)(pd_of(base_tp) + off_tid) = gr_rt.os_tid;
}
