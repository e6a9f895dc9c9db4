/* Private TLS per green thread, the builder: each green thread's block,
 * made and freed, its DTV, and its place in glibc's thread list. tls.h
 * says what and why; tls_probe.c finds out, on the runtime thread, where
 * glibc keeps what this sets (struct gr_tls_layout).
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
#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>

#include "../arch/ctx.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "stack.h"
#include "tls_int.h"

int gr_tls_private;
size_t gr_tls_gap;
size_t gr_tls_align = 64;
size_t gr_tls_below;
size_t gr_tls_cold;
struct gr_tls_layout gr_tls_layout;
/* Where this file reads it (the compiler folds the pointer away). */
static struct gr_tls_layout *const layout = &gr_tls_layout;

/* glibc's list of threads whose stacks the application gave
 * (GL(dl_stack_user)), and the lock over it. The dynamic linker walks it,
 * and the list of its own stacks, when a library loaded later gets static
 * TLS (initial-exec TLS; on aarch64 any TLS accessed through descriptors
 * while the surplus lasts): it copies the library's initial TLS into every
 * listed thread. So every green block is listed. A listed block's
 * cancelhandling says "exiting", which makes glibc's set*id() skip it (it
 * signals every listed thread and waits for each, and a green thread is
 * none) and gdb's thread list ignore it, as the OS thread is the one
 * there (the OS thread's own block says so too: tls_probe.c).
 * layout->stack_user is NULL when glibc's layout is not as checked:
 * then a library loaded later with static TLS has zeros in green threads
 * made before it.
 *
 * In every block: whether it is listed, as the epoch it was listed in. A
 * fork child starts a new epoch: glibc's child empties the lists, so a
 * block of the parent's is in none. */
__thread unsigned gr_tls_listed __attribute__((tls_model("initial-exec")));
static unsigned listed_epoch = 1;

/* Entries of the vector a block carries in its own slot: what glibc gives
 * a new thread (the modules with TLS so far, plus DTV_SURPLUS), and no
 * malloc per thread. glibc grows a thread's vector with realloc when the thread first
 * reaches the TLS of a module past its end; a vector in a slot must never
 * get there. So once the dynamic linker's module count
 * (GL(dl_tls_max_dtv_idx)) passes gr_tls_slot_modules, a thread's vector
 * moves to the heap before the thread runs again (gr_tls_before_run), and
 * new threads get theirs from glibc; a thread about to call dlopen moves
 * its own first (gr_tls_before_dlopen), since it runs on after the modules
 * arrive. DTV_SPARE entries stay for what the running thread may reach
 * before it next switches: modules loaded meanwhile by another OS thread
 * or by glibc itself (NSS, iconv). 0 when the count was not found: then
 * every vector is glibc's own (malloc'd by _dl_allocate_tls). The count
 * is layout->dtv_slots; gr_tls_modules points at the dynamic linker's
 * module count once the probe found it. */
const size_t gr_tls_no_modules;
const volatile size_t *gr_tls_modules = &gr_tls_no_modules;
size_t gr_tls_slot_modules = SIZE_MAX;
size_t gr_tls_in_slot;

void *gr_tls_base(void)
{
	return layout->base_tp;
}

size_t gr_tls_room(void)
{
	return gr_tls_gap + gr_tls_align + gr_tls_below;
}

/* Bytes of the DTV a block carries in its slot, alignment included. */
size_t gr_tls_dtv_bytes(void)
{
	return layout->dtv_slots ? (layout->dtv_slots + DTV_HEADER) * sizeof(dtv_t) + 15 : 0;
}

/* The vector of the block at tp, when it lives in the slot: below the
 * static TLS on x86_64, below struct pthread on aarch64; 16-byte aligned
 * (its entries' alignment), so that no cache line of the page is lost. */
static dtv_t *slot_dtv(char *tp)
{
	size_t n = (layout->dtv_slots + DTV_HEADER) * sizeof(dtv_t);

	if (TLS_VARIANT_II)
		return (dtv_t *)(((uintptr_t)tp - layout->static_bytes - n) & ~(uintptr_t)15);
	return (dtv_t *)(((uintptr_t)gr_tls_pd_of(tp) - n) & ~(uintptr_t)15);
}

/* The end of the part of the struct pthread at pd that lies in pages
 * every thread touches: its hot start, up to the page's end. */
static char *pd_hot_end(char *pd)
{
	char *end = (char *)(((uintptr_t)pd + layout->pd_hot + layout->page - 1) &
			     ~(uintptr_t)(layout->page - 1));

	return end < pd + layout->tcb_size ? end : pd + layout->tcb_size;
}

/* glibc's lll_lock and lll_unlock, on GL(dl_stack_cache_lock): 0 free, 1
 * taken, 2 taken with waiters. Whoever else takes it is another OS thread
 * (a dlopen in libuv's pool, say), for microseconds. Only while there is
 * one can the lock be contended: every OS thread but the runtime's has a
 * stack glibc made (the program's threads are green), listed in
 * GL(dl_stack_used) until it is joined or, detached, until it gave its
 * stack back, after which it takes the lock no more; and a new one could
 * only come from this thread or a listed one. The runtime's quiet threads
 * (gr_tls_quiet_thread_create: the stack preparer, the monitor's watchdog)
 * are listed but never take the lock: they make no thread, load nothing
 * and never end. */
__attribute__((noinline)) static void stack_list_take(void)
{
	int c = 0;

	if (__atomic_compare_exchange_n(layout->stack_lock, &c, 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(layout->stack_lock, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		gr_real.syscall(SYS_futex, layout->stack_lock, FUTEX_WAIT_PRIVATE, 2, NULL, NULL,
				0);
		c = __atomic_exchange_n(layout->stack_lock, 2, __ATOMIC_ACQUIRE);
	}
}

__attribute__((noinline)) static void stack_list_give(void)
{
	if (__atomic_exchange_n(layout->stack_lock, 0, __ATOMIC_RELEASE) > 1)
		gr_real.syscall(SYS_futex, layout->stack_lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
				0);
}

/* glibc's struct pthread of each quiet thread (they never end). */
#define QUIET 4
static uintptr_t quiet[QUIET];
static int nquiet;

static inline int is_quiet(const struct dl_list *n)
{
	for (int k = 0; k < nquiet; k++)
		if ((uintptr_t)n == quiet[k] + layout->off_list)
			return 1;
	return 0;
}

/* Returns whether it locked, for the unlock: a thread may leave the list
 * in between. */
static inline int stack_list_lock(void)
{
	struct dl_list *n = __atomic_load_n(&layout->stack_used->next, __ATOMIC_RELAXED);

	/* Quiet threads alone: glibc lists a new thread first, so another
	 * one listed is met before them, or after them if it was made
	 * earlier; while only quiet ones are listed nobody else can change
	 * the list. */
	for (int i = 0; n != layout->stack_used; i++) {
		if (i == QUIET || !is_quiet(n)) {
			stack_list_take();
			return 1;
		}
		n = __atomic_load_n(&n->next, __ATOMIC_RELAXED);
	}
	return 0;
}

static inline void stack_list_unlock(int locked)
{
	if (locked)
		stack_list_give();
}

/* As glibc's list_add and list_del: forward links stay walkable. */
static void list_link(struct dl_list *n)
{
	n->next = layout->stack_user->next;
	n->prev = layout->stack_user;
	layout->stack_user->next->prev = n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	layout->stack_user->next = n;
}

static void list_unlink(struct dl_list *n)
{
	n->next->prev = n->prev;
	n->prev->next = n->next;
}

/* Takes the block whose struct pthread is at pd off glibc's list. */
static inline void unlist(char *pd)
{
	int locked = stack_list_lock();
	list_unlink((struct dl_list *)(void *)(pd + layout->off_list));
	stack_list_unlock(locked);
}

/* The vector of the block at tp, when it is the one in the block's slot. */
static dtv_t *in_slot_dtv(char *tp)
{
	dtv_t *d = layout->dtv_slots ? slot_dtv(tp) : NULL;

	return d && ((void **)tp)[TCB_DTV] == &d[1] ? d : NULL;
}

void gr_tls_dtv_to_heap(void *tp)
{
	dtv_t *d = tp == layout->base_tp ? NULL : in_slot_dtv(tp), *n;
	size_t len;

	if (!d)
		return;
	/* As glibc's _dl_resize_dtv, for a vector it did not malloc. */
	len = *gr_tls_modules + DTV_SURPLUS;
	if (len < layout->dtv_slots)
		len = layout->dtv_slots;
	n = calloc(len + DTV_HEADER, sizeof(*n));
	if (!n) {
		/* Tried again before the thread next runs. Until then glibc
		 * finds the vector in the slot, which is enough unless the
		 * thread reaches the TLS of a module past it, where glibc,
		 * short of memory, would fail natively too. */
		gr_log(GR_LOG_WARN, "no memory to move a TLS vector (%zu modules)", len);
		return;
	}
	memcpy(n, d, (layout->dtv_slots + DTV_HEADER) * sizeof(*n));
	n[0].counter = len;
	((void **)tp)[TCB_DTV] = &n[1];
	gr_tls_in_slot--;
}

void gr_tls_before_dlopen(void)
{
	gr_tls_dtv_to_heap(gr_ctx_get_tp());
}

/* In every block: the stamp of the template it was made from (0: none),
 * with DTV_CLEAN once its vector is the template's again. */
__thread size_t gr_tls_made_gen __attribute__((tls_model("initial-exec")));

/* A new block as glibc's _dl_allocate_tls leaves it, for one
 * generation of the dynamic linker's modules (GL(dl_tls_generation),
 * which every dlopen and dlclose of a module with TLS moves on): the
 * static TLS the modules use (their initial images, their .tbss zeros)
 * and the vector, whose entries for modules in static TLS are rebased
 * on each block's thread pointer. A block of that generation is then a
 * copy of each, without the dynamic linker's lock and its walk over every
 * module; the first block of a generation is glibc's own, and the
 * template is taken from it. Only for vectors in the slots, and only
 * where glibc's thread list was found: the copy is made under its lock
 * when another OS thread may be loading a module (stack_list_lock), and
 * a dlopen there moves the generation on before it copies a new module's
 * image into every listed block under that same lock, so a block copied
 * from the template of the generation just ended is listed already and
 * gets the image. The generation alone is not enough: a library loaded
 * without TLS of its own that reaches an older one's TLS with the
 * initial-exec model gives that one static TLS then (glibc's
 * _dl_try_allocate_static_tls, during the relocation), in the same
 * generation; it grows GL(dl_tls_static_used) first, under no lock of
 * ours, and then copies the image into every listed block under the
 * list's lock. So the template is of a generation and of the static TLS
 * used, and both are compared under the lock. */
static struct {
	bool valid;
	size_t stamp;	      /* this template's number, never 0 or reused */
	size_t gen;	      /* the generation it is of */
	size_t used;	      /* and GL(dl_tls_static_used) then */
	ptrdiff_t lo;	      /* the image's start, from the thread pointer */
	size_t len, cap;      /* the image's bytes, and the room for them */
	unsigned char *image; /* the static TLS the modules use */
	dtv_t *dtv;	      /* layout->dtv_slots + DTV_HEADER entries */
	uint16_t *statics;    /* entries of modules in static TLS */
	ptrdiff_t *offsets;   /* their blocks, from the thread pointer */
	uint16_t *dynamics;   /* entries glibc fills at a first access */
	size_t n_static, n_dynamic;
} tmpl;

/* In a block's gr_tls_made_gen beside the template's stamp: its vector is
 * the template's (free_dynamic). */
#define DTV_CLEAN ((size_t)1 << (sizeof(size_t) * 8 - 1))

static size_t dtv_entries(void)
{
	return layout->dtv_slots + DTV_HEADER;
}

/* The static TLS the modules use, in the block at tp, when they use
 * used bytes of it. */
static char *used_lo(char *tp, size_t used)
{
	return TLS_VARIANT_II ? tp - used : tp + TCB_HEAD_BYTES;
}

static size_t used_len(size_t used)
{
	return TLS_VARIANT_II ? used : used - TCB_HEAD_BYTES;
}

/* Takes the template from the block at tp that glibc just made for
 * generation gen, whose modules use used bytes of static TLS. */
static void take_template(char *tp, const dtv_t *d, size_t gen, size_t used)
{
	char *lo = used_lo(tp, used), *hi = lo + used_len(used);
	size_t n = dtv_entries();

	tmpl.valid = false;
	if (!tmpl.dtv) {
		tmpl.dtv = malloc(n * sizeof(*tmpl.dtv));
		tmpl.statics = malloc(n * sizeof(*tmpl.statics));
		tmpl.offsets = malloc(n * sizeof(*tmpl.offsets));
		tmpl.dynamics = malloc(n * sizeof(*tmpl.dynamics));
		if (!tmpl.dtv || !tmpl.statics || !tmpl.offsets || !tmpl.dynamics) {
			free(tmpl.dtv);
			free(tmpl.statics);
			free(tmpl.offsets);
			free(tmpl.dynamics);
			tmpl.dtv = NULL;
			return;
		}
	}
	if (used_len(used) > tmpl.cap) {
		unsigned char *p = realloc(tmpl.image, used_len(used));
		if (!p)
			return;
		tmpl.image = p;
		tmpl.cap = used_len(used);
	}
	memcpy(tmpl.dtv, d, n * sizeof(*d));
	tmpl.n_static = tmpl.n_dynamic = 0;
	for (size_t i = DTV_HEADER; i < n; i++) {
		char *v = d[i].pointer.val;
		if (d[i].pointer.to_free)
			return; /* not a new block's */
		if (v == TLS_DTV_UNALLOCATED) {
			tmpl.dynamics[tmpl.n_dynamic++] = (uint16_t)i;
		} else if (v >= lo && v <= hi) {
			tmpl.offsets[tmpl.n_static] = v - tp;
			tmpl.statics[tmpl.n_static++] = (uint16_t)i;
		} else if (v) {
			return; /* a block glibc put elsewhere: not ours to copy */
		}
	}
	memcpy(tmpl.image, lo, used_len(used));
	tmpl.lo = lo - tp;
	tmpl.len = used_len(used);
	tmpl.gen = gen;
	tmpl.used = used;
	tmpl.stamp = (tmpl.stamp + 1) & ~DTV_CLEAN;
	if (!tmpl.stamp)
		tmpl.stamp = 1;
	tmpl.valid = true;
	gr_log(GR_LOG_DEBUG,
	       "private TLS: new blocks copied from generation %zu's (%zu bytes, %zu modules "
	       "in static TLS, %zu dynamic)",
	       gen, tmpl.len, tmpl.n_static, tmpl.n_dynamic);
}

/* Makes the block at tp, vector d, from the template when it is of the
 * modules' generation and static TLS now; false when not. */
static inline bool from_template(char *tp, dtv_t *d)
{
	size_t *made = (size_t *)(tp + layout->off_made_gen);

	if (!tmpl.valid || *layout->dl_generation != tmpl.gen || *layout->static_used != tmpl.used)
		return false;
	/* Read before the image overwrites it: the slot's last thread left
	 * a vector that is this template's again (free_dynamic). */
	bool clean = *made == (tmpl.stamp | DTV_CLEAN);
	memcpy(tp + tmpl.lo, tmpl.image, tmpl.len);
	if (!clean) {
		memcpy(d, tmpl.dtv, dtv_entries() * sizeof(*d));
		/* Stores only: reading back what the copy just stored stalls. */
		for (size_t k = 0; k < tmpl.n_static; k++)
			d[tmpl.statics[k]].pointer.val = tp + tmpl.offsets[k];
	}
	*made = tmpl.stamp;
	return true;
}

/* Makes the block at tp with glibc's _dl_allocate_tls (which takes the
 * dynamic linker's TLS lock), on zeros (the slot's last thread left its
 * static TLS), then moves the vector glibc malloc'd for it into the slot,
 * at d, when it fits; and takes the template from it when no module came
 * or went meanwhile and none took static TLS. _dl_allocate_tls, not its
 * second half _dl_allocate_tls_init on a vector of ours: the latter's
 * second argument, which says whether the block is the process's first
 * (whose images of other namespaces' modules, dlmopen's and LD_AUDIT's,
 * are in place already), is glibc 2.35 to 2.40's init_tls (true for a
 * new thread) and 2.41's main_thread (false for one), and 2.39 and 2.40
 * took the latter in their release branches; glibc's own call passes what
 * its version means. Once per template: the malloc and free do not count.
 * 1: the vector is in the slot; 0: it stays glibc's (a module came
 * meanwhile that the slot's vector has no entry for); -1: no memory. */
static int by_glibc(char *tp, dtv_t *d)
{
	size_t gen = layout->dl_generation ? *layout->dl_generation : 0;
	size_t used = layout->static_used ? *layout->static_used : 0;
	dtv_t *h;

	if (used >= TCB_HEAD_BYTES)
		memset(used_lo(tp, used), 0, used_len(used));
	if (!layout->allocate(tp))
		return -1;
	h = ((dtv_t **)tp)[TCB_DTV] - 1; /* glibc's calloc'd vector */
	for (size_t i = layout->dtv_slots; i < h[0].counter; i++)
		if (h[DTV_HEADER + i].pointer.val)
			return 0;
	memcpy(d, h, dtv_entries() * sizeof(*d));
	d[0].counter = layout->dtv_slots;
	((void **)tp)[TCB_DTV] = &d[1];
	free(h);
	*(size_t *)(tp + layout->off_made_gen) = 0;
	if (!layout->dl_generation)
		return 1;
	if (layout->stack_user && used >= TCB_HEAD_BYTES && gen == *layout->dl_generation &&
	    used == *layout->static_used) {
		take_template(tp, d, gen, used);
		if (tmpl.valid && tmpl.gen == gen && tmpl.used == used)
			*(size_t *)(tp + layout->off_made_gen) = tmpl.stamp;
	}
	return 1;
}

/* Frees the TLS of modules glibc allocated on first access (dlopen'd
 * ones) in the vector d of the block at tp: where the block is the
 * template's and its vector was never brought up to a later generation,
 * only the template's such entries can hold any; put back as the template
 * has them, the vector is the template's again, and the slot's next
 * gr_tls_make need not copy it (the mark stays in the slot's static TLS).
 * Otherwise every entry is looked at, and the next block copies all. */
static void free_dynamic(char *tp, dtv_t *d)
{
	size_t *made = (size_t *)(tp + layout->off_made_gen);

	if (tmpl.valid && *made == tmpl.stamp && d[1].counter == tmpl.dtv[1].counter) {
		for (size_t k = 0; k < tmpl.n_dynamic; k++) {
			dtv_t *e = &d[tmpl.dynamics[k]];
			free(e->pointer.to_free);
			e->pointer.val = TLS_DTV_UNALLOCATED;
			e->pointer.to_free = NULL;
		}
		*made = tmpl.stamp | DTV_CLEAN;
		return;
	}
	for (size_t i = 0; i < layout->dtv_slots; i++)
		if (d[DTV_HEADER + i].pointer.to_free)
			free(d[DTV_HEADER + i].pointer.to_free);
	*made = 0;
}

/* Builds a block whose struct pthread is all zeros (fresh, or cleared by
 * gr_tls_free) below hi, the vector in the slot when it is big enough. */
void *gr_tls_make(char *hi, char **lo)
{
	char *tp = gr_tls_tp_for(hi), *pd = gr_tls_pd_of(tp);

#if TLS_VARIANT_II
	memcpy(tp, layout->base_tp, HEADER_COPY);
	((void **)tp)[TCB_TCB] = tp;
	((void **)tp)[TCB_SELF] = tp; /* pd */
#endif
	((int *)pd)[PD_MULTIPLE_THREADS] = 1; /* see gr_tls_init */
	((int *)pd)[PD_GSCOPE_FLAG] = 0;      /* not in a dl scope */
	((void **)tp)[TCB_DTV] = NULL;	      /* set below */
	*(int *)(pd + layout->off_tid) = gr_rt.os_tid;
	/* An empty list node, linked to itself: glibc's fork child unlinks
	 * the calling thread's node from its thread list. */
	((void **)(pd + layout->off_list))[0] = pd + layout->off_list;
	((void **)(pd + layout->off_list))[1] = pd + layout->off_list;
	/* The kernel updates only the OS thread's rseq area: -1 sends
	 * glibc's sched_getcpu to the system call. Where the area lies in the
	 * cold end of struct pthread, it stays 0 and unbacked, and the hook
	 * (gr_tls_cpu) answers instead. */
	if (layout->have_rseq &&
	    tp + layout->off_rseq + (RSEQ_CPU_ID + 1) * sizeof(int32_t) <= pd_hot_end(pd))
		((int32_t *)(tp + layout->off_rseq))[RSEQ_CPU_ID] = -1;
	/* Listed first, as glibc lists a new thread before it builds its TLS:
	 * a library that takes static TLS meanwhile (in another OS thread) is
	 * either in the image or copied in. */
	dtv_t *d =
		layout->dtv_slots && *gr_tls_modules <= gr_tls_slot_modules ? slot_dtv(tp) : NULL;
	bool copied = false;
	if (layout->stack_user) {
		*(int *)(pd + layout->off_cancel) = EXITING_BITMASK;
		int locked = stack_list_lock();
		list_link((struct dl_list *)(void *)(pd + layout->off_list));
		copied = d && from_template(tp, d); /* under the lock: tmpl says why */
		stack_list_unlock(locked);
	}
	int made;
	if (copied) {
		((void **)tp)[TCB_DTV] = &d[1];
		made = 1;
	} else if (d) {
		made = by_glibc(tp, d);
	} else {
		made = layout->allocate(tp) ? 0 : -1;
	}
	gr_tls_in_slot += made > 0;
	if (made < 0) {
		if (layout->stack_user)
			unlist(pd);
		return NULL;
	}
	if (layout->stack_user)
		*(unsigned *)(tp + layout->off_listed) = listed_epoch;
	*(int *)(tp + layout->off_runtime_flag) = 1;
	for (int i = 0; i < layout->n_shared; i++)
		*(void **)(tp + layout->off_shared[i]) =
			*(void **)((char *)layout->base_tp + layout->off_shared[i]);
	*lo = tp - gr_tls_below;
	GR_ASSERT(!layout->dtv_slots || (char *)slot_dtv(tp) >= *lo);
	return tp;
}

void gr_tls_free(void *tp, int cold_dirty)
{
	dtv_t *d = in_slot_dtv(tp);
	char *pd = gr_tls_pd_of(tp);

	if (layout->stack_user && *(unsigned *)((char *)tp + layout->off_listed) == listed_epoch)
		unlist(pd);
	if (d) {
		/* What _dl_deallocate_tls does, but the vector is ours; the
		 * next gr_tls_make writes all of it. */
		gr_tls_in_slot--;
		free_dynamic(tp, d);
	} else {
		layout->deallocate(tp, false);
	}
	/* The next thread of this slot starts from zeros, as glibc's do;
	 * clearing here spares a fresh slot's pages the work. Only what this
	 * thread wrote: struct pthread's hot start (to its page's end), and
	 * its cold rest after a forced unwind wrote the exception there (the
	 * string buffers glibc may have hung there stay, for the next thread
	 * to reuse or free); on x86_64 not the header either, which the next
	 * gr_tls_make copies whole, nor glibc's unused rest of it
	 * (layout->pd_written: 9 cache lines a thread never touched). The
	 * static TLS is the initial image again at the next gr_tls_make. */
	memset(pd + layout->pd_written, 0,
	       (size_t)((cold_dirty ? pd + layout->tcb_size : pd_hot_end(pd)) - pd) -
		       layout->pd_written);
	if (!TLS_VARIANT_II)
		memset(tp, 0, TCB_HEAD_BYTES);
}

int gr_tls_cpu(void)
{
	int32_t cpu = layout->have_rseq ? ((volatile int32_t *)((char *)layout->base_tp +
								layout->off_rseq))[RSEQ_CPU_ID]
					: -1;

	/* The OS thread's area, which the kernel keeps up to date. */
	return cpu >= 0 ? cpu : -ENOSYS;
}

int gr_tls_os_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			    void *arg)
{
	char *tp = gr_tls_private && layout->have_rseq && gr_tls_runtime ? gr_ctx_get_tp() : NULL;
	volatile int32_t *cpu = NULL;
	int32_t was = 0;
	int err;

	/* Only the runtime thread's own blocks: a foreign OS thread's area
	 * is its own, which the kernel keeps. */
	if (tp && tp != (char *)layout->base_tp) {
		cpu = &((volatile int32_t *)(tp + layout->off_rseq))[RSEQ_CPU_ID];
		was = *cpu;
		*cpu = ((volatile int32_t *)((char *)layout->base_tp +
					     layout->off_rseq))[RSEQ_CPU_ID];
	}
	err = gr_real.pthread_create(th, attr, start, arg);
	if (cpu)
		*cpu = was; /* 0 again in the cold end, as gr_tls_free expects */
	return -err;
}

int gr_tls_quiet_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*start)(void *),
			       void *arg)
{
	/* glibc's own flag (its malloc and its first-thread set-up read it)
	 * and the one every other module sees, this library's
	 * (preload/thread.c). */
	char *own = dlsym(RTLD_NEXT, "__libc_single_threaded");
	char own_was = own ? *own : 0, ours_was = __libc_single_threaded;
	int err = gr_tls_os_thread_create(th, attr, start, arg);

	if (err == 0 && nquiet < QUIET)
		quiet[nquiet++] = (uintptr_t)*th;
	if (own && own_was) {
		*own = 1;
		__libc_single_threaded = ours_was;
	}
	return err;
}

int gr_tls_own_thread_start(void *(*start)(void *), void *arg, size_t stack, const char *name,
			    int is_quiet)
{
	pthread_attr_t attr;
	sigset_t all;
	pthread_t th;
	int err;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, stack);
	pthread_attr_setsigmask_np(&attr, &all);
	err = is_quiet ? gr_tls_quiet_thread_create(&th, &attr, start, arg)
		       : gr_tls_os_thread_create(&th, &attr, start, arg);
	pthread_attr_destroy(&attr);
	if (err == 0 && name)
		gr_real.pthread_setname_np(th, name);
	return err;
}

void gr_tls_thread_start(void)
{
	/* glibc's start_thread does this: the <ctype.h> tables (isdigit and
	 * friends read them through TLS pointers) for the thread's locale. */
	if (layout->ctype_init)
		layout->ctype_init();
}

void gr_tls_thread_exit(void)
{
	if (layout->call_dtors)
		layout->call_dtors();
}

void gr_tls_fork_child(void)
{
	char *tp = gr_ctx_get_tp();
	struct dl_list *n;

	if (!gr_tls_private || !layout->stack_user)
		return;
	/* glibc's child emptied its lists but for the running block, which it
	 * put in the list of glibc's own stacks (the OS thread's block: back
	 * in this one): the parent's other blocks are in no list any more,
	 * and the running one goes back to this list. Only this thread runs
	 * here: no lock (another thread of the parent may have left it
	 * taken, and it is the child's own memory). */
	listed_epoch++;
	if (tp == layout->base_tp)
		return;
	n = (struct dl_list *)(void *)(gr_tls_pd_of(tp) + layout->off_list);
	list_unlink(n);
	list_link(n);
	*(unsigned *)(tp + layout->off_listed) = listed_epoch;
}

void gr_tls_after_fork(void)
{
	nquiet = 0; /* the parent's are not here, and glibc may reuse their stacks */
	if (gr_tls_private)
		*(int *)(gr_tls_pd_of(layout->base_tp) + layout->off_tid) = gr_rt.os_tid;
}
