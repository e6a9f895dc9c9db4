/* Private to the TLS emulation: what the probe (tls_probe.c) finds out about
 * glibc on the runtime thread, and what the builder (tls.c) reads to make
 * and free each green thread's block. The unit tests check the probe's
 * findings against glibc's own answers. */
#ifndef GR_TLS_INT_H
#define GR_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Words of the block at the thread pointer that glibc's ABI fixes.
 * x86_64 (TLS variant II): tcbhead_t starts at the thread pointer, and it
 * is the start of struct pthread. aarch64 (variant I): a 16-byte tcbhead_t
 * (DTV, private) at the thread pointer, struct pthread just below, whose
 * header holds the two flags. */
#if defined(__x86_64__)
#define TLS_VARIANT_II	    1
#define HEADER_COPY	    0x80 /* tcbhead_t up to __glibc_unused2 (x86_64 ABI) */
#define TCB_DTV		    1	 /* void * index at the thread pointer: header.dtv */
#define TCB_TCB		    0	 /* header.tcb: the thread pointer itself */
#define TCB_SELF	    2	 /* header.self: THREAD_SELF, struct pthread */
#define PD_MULTIPLE_THREADS 6	 /* int index in struct pthread: header.multiple_threads */
#define PD_GSCOPE_FLAG	    7	 /* header.gscope_flag */
#else
#define TLS_VARIANT_II	    0
#define HEADER_COPY	    8 /* struct pthread's header: multiple_threads, gscope_flag */
#define TCB_DTV		    0
#define PD_MULTIPLE_THREADS 0
#define PD_GSCOPE_FLAG	    1
#endif
#define TCB_HEAD_BYTES (2 * sizeof(void *)) /* aarch64's tcbhead_t */
#define RSEQ_CPU_ID    1		    /* int32 index in struct rseq: cpu_id */

#define MAX_SHARED   4 /* malloc words shared with the OS thread, at most */
#define MALLOC_WORDS 2 /* what glibc's malloc keeps per thread: tcache, arena */

/* glibc's doubly linked list node (list_t). */
struct dl_list {
	struct dl_list *next, *prev;
};

/* The dynamic thread vector: glibc's dtv_t, one per module with TLS, after
 * a header of DTV_HEADER entries: the counter of entries (dtv[-1]) and the
 * generation (dtv[0]). The thread pointer's block points at dtv[0]. */
typedef union {
	size_t counter;
	struct {
		void *val;     /* the module's block, or TLS_DTV_UNALLOCATED */
		void *to_free; /* malloc'd dynamic TLS to free, or NULL */
	} pointer;
} dtv_t;
#define DTV_HEADER	    2
#define TLS_DTV_UNALLOCATED ((void *)-1L) /* glibc's: not allocated yet */

/* What the probe found; set once by gr_tls_init, read-only afterwards. */
struct gr_tls_layout {
	/* The dynamic linker's own TLS code (GLIBC_PRIVATE). _dl_allocate_tls:
	 * a vector for the block at mem, and its TLS; not its second half,
	 * _dl_allocate_tls_init, whose second argument changed meaning in
	 * glibc 2.41 (tls.c's by_glibc says how). */
	void *(*allocate)(void *mem);
	void (*deallocate)(void *tcb, bool dealloc_tcb);
	void (*call_dtors)(void); /* C++ thread_local destructors, or NULL */
	void (*ctype_init)(void); /* a new thread's <ctype.h> pointers */

	size_t static_size;  /* _dl_get_tls_static_info's size: see static_bytes */
	size_t static_align; /* and its alignment */
	size_t tcb_size;     /* sizeof(struct pthread) */
	size_t static_bytes; /* static TLS (with the surplus), not struct pthread */
	size_t off_tid;	     /* struct pthread fields, from its start */
	size_t off_list;     /* its list node (struct dl_list) */
	size_t off_cancel;   /* cancelhandling; 0 when not found */
	/* The start of struct pthread that every green thread writes (the
	 * header, the list node, the tid, the cancellation words): tls.h
	 * says why the rest lies in a page no sleeping thread touches. All
	 * of it on aarch64. */
	size_t pd_hot;
	/* Where what a green thread's life writes in struct pthread starts,
	 * past the fixed header gr_tls_make copies (tls_probe.c); 0 when
	 * not known. */
	size_t pd_written;
	size_t page;	    /* the page size */
	ptrdiff_t off_rseq; /* rseq area from the thread pointer */
	bool have_rseq;	    /* off_rseq was found (glibc 2.35) */
	/* Our own __thread words, from the thread pointer: the same in every
	 * block since they are in static TLS. */
	ptrdiff_t off_runtime_flag;	  /* gr_tls_runtime */
	ptrdiff_t off_listed;		  /* the epoch a block was listed in */
	ptrdiff_t off_shared[MAX_SHARED]; /* malloc's tcache and arena */
	int n_shared;			  /* entries of off_shared */
	void *base_tp;			  /* the runtime thread's block */
	/* glibc's list of threads whose stacks the application gave
	 * (GL(dl_stack_user)), and the lock over it (tls.c says why every
	 * green block is listed); NULL when not as checked. */
	struct dl_list *stack_user;
	struct dl_list *stack_used; /* GL(dl_stack_used): glibc's own stacks */
	int *stack_lock;
	/* Entries of the vector a block carries in its slot (tls.c); 0 when
	 * the module count was not found: every vector is glibc's own. */
	size_t dtv_slots;
	/* GL(dl_tls_generation) and GL(dl_tls_static_used) (tls_probe.c's
	 * find_generation); NULL when not found. */
	const volatile size_t *dl_generation;
	const volatile size_t *static_used;
	ptrdiff_t off_made_gen; /* gr_tls_made_gen */
};

extern struct gr_tls_layout gr_tls_layout;

/* cancelhandling's "exiting" bit (tls.c says why every green block has it). */
#define EXITING_BITMASK 0x10
/* Entries of a slot's vector kept for what the running thread may reach
 * before it next switches (tls.c), and glibc's entries past the modules in
 * a new vector. */
#define DTV_SPARE 8
/* Modules with TLS that dlopen may bring before the vectors in the slots
 * move to the heap (tls.c). */
#define DTV_ROOM    2
#define DTV_SURPLUS 14

/* struct pthread of the block whose thread pointer is tp. */
static inline char *gr_tls_pd_of(char *tp)
{
	return TLS_VARIANT_II ? tp : tp - gr_tls_layout.tcb_size;
}

/* The static TLS of the block at tp. */
static inline char *gr_tls_static_lo(char *tp)
{
	return TLS_VARIANT_II ? tp - gr_tls_layout.static_bytes : tp;
}

/* The builder (tls.c), for the probe. */
/* In every block: the epoch it was listed in (tls.c). */
extern __thread unsigned gr_tls_listed __attribute__((tls_model("initial-exec")));
/* In every block: the modules' generation it was made in (tls.c). */
extern __thread size_t gr_tls_made_gen __attribute__((tls_model("initial-exec")));
extern const size_t gr_tls_no_modules; /* gr_tls_modules until it is found */
/* Bytes of the DTV a block carries in its slot, alignment included. */
size_t gr_tls_dtv_bytes(void);

#endif
