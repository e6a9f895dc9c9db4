/* Private TLS per green thread: see tls.h for what and why.
 *
 * Where glibc keeps what we must set in a control block comes from glibc
 * itself, not from a copy of its headers: the dynamic linker exports its TLS
 * allocator to libc (GLIBC_PRIVATE), libc exports the struct pthread layout
 * for libthread_db (_thread_db_* descriptors: {bits, count, offset}) and
 * the rseq area's offset (__rseq_offset, glibc 2.35). Anything missing or
 * not as checked on the runtime thread turns private TLS off with a message,
 * never a guess. The first 128 bytes of the block, tcbhead_t's fixed part
 * (thread pointer, DTV, self, the multiple-threads flag, the stack and
 * pointer guards at fs:0x28 and fs:0x30, CET features), are x86_64 ABI. */
#include "tls.h"

#include <dlfcn.h>
#include <errno.h>
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
#include "sched.h"

int gr_tls_private;
size_t gr_tls_delta;
ptrdiff_t gr_tls_hot;
size_t gr_tls_gap;
size_t gr_tls_align = 64;
size_t gr_tls_below;

#define HEADER_COPY 0x80 /* tcbhead_t up to __glibc_unused2 (x86_64 ABI) */
#define MAX_SHARED  4	 /* malloc words shared with the OS thread */

static void *(*dl_allocate_tls)(void *mem);
/* glibc 2.39 added a second parameter (main_thread, false for us); an
 * older one ignores it. */
static void *(*dl_allocate_tls_init)(void *tcb, bool main_thread);
static void (*dl_deallocate_tls)(void *tcb, bool dealloc_tcb);
static void (*call_tls_dtors)(void);
static void (*ctype_init)(void);

static size_t static_size; /* control block + static TLS + surplus */
static size_t static_align;
static size_t tcb_size; /* sizeof(struct pthread) */
static size_t off_tid;	/* struct pthread fields, from the thread pointer */
static size_t off_list;
static ptrdiff_t off_rseq = -1;		 /* rseq area, or -1 */
static ptrdiff_t off_runtime_flag;	 /* gr_tls_runtime */
static ptrdiff_t off_shared[MAX_SHARED]; /* malloc's tcache and arena */
static int n_shared;
static void *base_tp; /* the runtime thread's block */

/* The dynamic thread vector: glibc's dtv_t, one per module with TLS, after
 * a counter of entries (dtv[-1]) and the generation (dtv[0]). */
typedef union {
	size_t counter;
	struct {
		void *val;     /* the module's block, or TLS_DTV_UNALLOCATED */
		void *to_free; /* malloc'd dynamic TLS to free, or NULL */
	} pointer;
} dtv_t;

/* Entries of the vector a block carries in its own slot. glibc sizes a
 * thread's vector for the modules loaded so far plus 14 and grows it (with
 * realloc) past that; ours has room for 64 more modules with TLS loaded by
 * dlopen, so that glibc never needs to, and costs no malloc per thread. 0
 * when the vector is glibc's own (malloc'd by _dl_allocate_tls). */
static size_t dtv_slots;
#define DTV_HEADROOM 64

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

/* The vector of the block at tp, when it lives in the slot. */
static dtv_t *slot_dtv(char *tp)
{
	return (dtv_t *)(((uintptr_t)tp + tcb_size + 63) & ~(uintptr_t)63);
}

/* The layout (tls.h): the thread pointer 64 bytes below the top page,
 * unless the control block and the DTV need more room above it. */
static void set_layout(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t dtv_bytes = dtv_slots ? (dtv_slots + 2) * sizeof(dtv_t) + 63 : 0;
	size_t above = tcb_size + dtv_bytes;

	gr_tls_gap = page + 64 > above ? page + 64 : above;
	gr_tls_align = static_align;
	gr_tls_below = static_size - tcb_size;
}

/* Builds a block whose memory is all zeros (fresh, or cleared by
 * gr_tls_free) below hi, the vector above it. */
void *gr_tls_make(char *hi, char **lo)
{
	char *tp = gr_tls_tp_for(hi);

#ifdef __x86_64__
	memcpy(tp, base_tp, HEADER_COPY);
#endif
	((void **)tp)[0] = tp;	 /* header.tcb: the thread pointer */
	((void **)tp)[1] = NULL; /* header.dtv: set below */
	((void **)tp)[2] = tp;	 /* header.self: THREAD_SELF */
	((int *)tp)[6] = 1;	 /* header.multiple_threads: see gr_tls_init */
	((int *)tp)[7] = 0;	 /* header.gscope_flag: not in a dl scope */
	*(int *)(tp + off_tid) = gr_rt.os_tid;
	/* An empty list node, linked to itself: glibc's fork child unlinks
	 * the calling thread's node from its thread list. */
	((void **)(tp + off_list))[0] = tp + off_list;
	((void **)(tp + off_list))[1] = tp + off_list;
	/* The kernel updates only the OS thread's rseq area: -1 sends
	 * sched_getcpu to the system call. */
	if (off_rseq >= 0)
		((int32_t *)(tp + off_rseq))[1] = -1;
	if (dtv_slots) {
		dtv_t *d = slot_dtv(tp);
		d[0].counter = dtv_slots;
		((void **)tp)[1] = &d[1];
		dl_allocate_tls_init(tp, false);
	} else if (!dl_allocate_tls(tp)) {
		return NULL;
	}
	*(int *)(tp + off_runtime_flag) = 1;
	for (int i = 0; i < n_shared; i++)
		*(void **)(tp + off_shared[i]) = *(void **)((char *)base_tp + off_shared[i]);
	*lo = tp - gr_tls_below;
	return tp;
}

void gr_tls_free(void *tp)
{
	dtv_t *d = dtv_slots ? slot_dtv(tp) : NULL;

	if (d && ((void **)tp)[1] == &d[1]) {
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
	memset(tp, 0, tcb_size);
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
	size_t room = gr_tls_room(), words = (static_size - tcb_size) / sizeof(uint64_t);
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
	 * have TLS; ours adds headroom. */
	if (dl_allocate_tls_init)
		dtv_slots = ((dtv_t **)(void *)tp)[1][-1].counter + DTV_HEADROOM;
	area = (uint64_t *)(void *)(tp - words * sizeof(uint64_t));
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

#if !defined(__x86_64__)
	/* aarch64 keeps the block above the thread pointer (TLS variant I);
	 * only the x86_64 layout is built so far. */
	return no("only x86_64 is supported so far");
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
	off_tid = field_offset("_thread_db_pthread_tid", 32);
	off_list = field_offset("_thread_db_pthread_list", 128);
	base_tp = gr_ctx_get_tp();
	if (tcb_size < HEADER_COPY || static_size <= tcb_size || static_align < 16 ||
	    (static_align & (static_align - 1)) || !off_tid || off_tid + 4 > tcb_size ||
	    !off_list || off_list + 16 > tcb_size)
		return no("unexpected struct pthread layout");
	if (*(int *)((char *)base_tp + off_tid) != gr_rt.os_tid)
		return no("the tid is not where libthread_db says");
	rseq_off = dlsym(RTLD_DEFAULT, "__rseq_offset");
	rseq_size = dlsym(RTLD_DEFAULT, "__rseq_size");
	if (rseq_off && rseq_size && *rseq_off > 0 && (size_t)*rseq_off + 8 <= tcb_size)
		off_rseq = *rseq_off;
	off_runtime_flag = (char *)&gr_tls_runtime - (char *)base_tp;
	/* glibc sets header.multiple_threads only in the block of the thread
	 * that creates the first OS thread, and malloc takes no locks in a
	 * block without it. OS threads (libuv's pool) may come from any green
	 * thread later, and they free into main's arena: every block says
	 * "multiple threads", main's too. */
	((int *)base_tp)[6] = 1;
	if (off_runtime_flag >= 0 || (size_t)-off_runtime_flag > static_size - tcb_size)
		return no("the runtime's TLS flag is not in static TLS");
	set_layout();
	find_malloc_words();
	set_layout(); /* now with the DTV's size */
	/* For a top aligned to 64 bytes (slot tops are, colour included), the
	 * thread pointer is this far above our block. */
	{
		char *hi = (char *)(uintptr_t)0x100000000;
		char *tp = gr_tls_tp_for(hi);
		uintptr_t t = ((uintptr_t)gr_tls_stack_top(hi) - sizeof(struct gr_thread)) &
			      ~(uintptr_t)63;
		gr_tls_delta = (size_t)((uintptr_t)tp - t);
	}
	/* Every hook reads our flag first; the stack guard (fs:0x28) and
	 * errno only some calls: fetching them too cost more than it saved
	 * with 10,000 threads. */
	gr_tls_hot = off_runtime_flag;
	if (static_align > 64)
		gr_tls_delta = 0; /* not a constant then: no prefetch */
	gr_tls_private = 1;
	return 0;
}

void gr_tls_after_fork(void)
{
	if (gr_tls_private)
		*(int *)((char *)base_tp + off_tid) = gr_rt.os_tid;
}
