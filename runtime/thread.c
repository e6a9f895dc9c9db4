/* Green thread lifecycle: create, join, detach, exit, and finding a thread
 * from the pthread_t the program holds. */
#include "preempt.h"
#include "thread.h"

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "real.h"
#include "sched.h"
#include "key.h"
#include "libio.h"
#include "lock.h"
#include "signal.h"
#include "tls.h"
#include "attr.h"
#include "schedattr.h"
#include "tid.h"
#include "zombie.h"

/* A pthread_t is the control block's address with a generation in the
 * bits an address leaves free: the 6 low ones (blocks are 64-byte aligned)
 * and the 16 above the 48-bit user address space. The generation is the
 * low 22 bits of the thread's number, so the next thread of a slot never
 * has the handle of the one before, which may not be joined yet; and
 * threads made one after the other have consecutive generations, which
 * the records of finished threads are filed by (zombie.c): a program that
 * joins its threads in the order it made them reads the records in order,
 * not one cache and TLB miss each. Only once 2^22 threads were made can a
 * new handle equal an unjoined thread's of the same slot (a live thread
 * owns its slot): from then on a new handle is checked against those
 * records and the generation moves on while one has it; only then can a
 * handle kept after its join name a later thread of its slot (glibc's
 * reused blocks do at once). */
#define HANDLE_ADDR_MASK (((uint64_t)1 << 48) - 64)
#define GEN_BITS	 22
#define GEN_WRAPPED	 ((uint32_t)1 << GEN_BITS) /* numbers from here on came round */

static uint64_t handle_of(const struct gr_thread *t, uint32_t gen)
{
	uint64_t g = gen & (GEN_WRAPPED - 1);

	return (uint64_t)(uintptr_t)t | (g & 63) | (g >> 6) << 48;
}

/* t's handle, from its number; and the slot's use count after gen (what
 * its trim counts, stack.c). */
static uint32_t next_handle(struct gr_thread *t, uint32_t gen)
{
	uint32_t g = (uint32_t)t->id & (GEN_WRAPPED - 1);

	if (__builtin_expect(t->id >= GEN_WRAPPED, 0))
		while (gr_zombie_has(handle_of(t, g)))
			g = (g + 1) & (GEN_WRAPPED - 1);
	t->handle = handle_of(t, g);
	return gen + 1;
}

/* The thread in a slot a handle named last (made or found): a program
 * joins the thread it just made, and pthread_join asks twice (whether the
 * handle is ours, then the join itself), each a slot lookup. Only a
 * slot's: slots stay mapped, so a stale one is safe to read, and its magic
 * and handle say whether it is still that thread; a program's own stack
 * may be gone after its join. */
static struct gr_thread *last_named;

static struct gr_thread *named_last(uint64_t handle)
{
	struct gr_thread *t = last_named;

	return t && t->handle == handle && t->magic == GR_MAGIC ? t : NULL;
}

/* Threads on the program's own memory (pthread_attr_setstack), which no
 * slot lookup finds: few, so a list. */
static struct gr_thread *user_stacks;
static uint32_t user_gen; /* their generations: user memory keeps none */

/* Where pthread_exit's unwinding ends: the cleanup routine of the buffer
 * thread_entry registered, run in thread_entry's frame once every frame
 * above it ran its cleanups and destructors. */
static void unwound(void *arg)
{
	struct gr_thread *t = arg;

	gr_thread_exit(t->retval);
}

/* Alone in its section: a preemption's walk up the stack ends at this
 * frame (preempt.c). */
__attribute__((section("gr_entry_text"), noinline)) static void thread_entry(void *arg)
{
	struct gr_thread *t = arg;
	__pthread_unwind_buf_t ub;

	gr_rt.green_stack = t->green_stack;
	gr_preempt_entry_frame(t, __builtin_frame_address(0));
	gr_sched_entered();
	if (gr_config.stats && (int)gr_real.gettid() != gr_rt.os_tid)
		gr_rt.foreign_runs++;
	errno = 0;
	if (t->ctx.tp) {
		gr_tls_thread_start();
		/* As glibc's start_thread: the outermost cancellation buffer
		 * of the thread's own control block, where the forced unwind
		 * of pthread_exit (gr_thread_unwind) lands. The same thing the
		 * pthread_cleanup_push macro does, spelled out so that it does
		 * not depend on -fexceptions; with _setjmp, not the macro's
		 * __sigsetjmp, which preload/jmp.c hooks (without a mask the
		 * two store the same: the registers and __mask_was_saved, all
		 * the buffer holds). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
		if (__builtin_expect(_setjmp((struct __jmp_buf_tag *)(void *)ub.__cancel_jmp_buf),
				     0))
			unwound(t);
#pragma GCC diagnostic pop
		__pthread_register_cancel(&ub);
	}
	gr_thread_exit(t->start(t->arg));
}

void gr_thread_unwind(void *retval)
{
	struct gr_thread *self = gr_rt.cur;
	__pthread_unwind_buf_t head;

	if (!self->ctx.tp || self == &gr_main_thread)
		gr_thread_exit(retval);
	self->retval = retval;
	self->unwound = 1;
	/* Registering one more buffer finds the innermost one (glibc keeps
	 * the chain in the control block); unwinding "from" it unwinds from
	 * here through every frame up to thread_entry's buffer, running
	 * cleanup handlers and C++ destructors on the way. */
	__pthread_register_cancel(&head);
	__pthread_unwind_next(&head);
}

static void list_add(struct gr_thread *t)
{
	t->all_prev = NULL;
	t->all_next = gr_rt.all;
	if (gr_rt.all)
		gr_rt.all->all_prev = t;
	gr_rt.all = t;
	gr_tid_thread_added(t);
}

static void list_del(struct gr_thread *t)
{
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		gr_rt.all = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
	t->all_prev = t->all_next = NULL;
	gr_tid_thread_removed(t);
}

int gr_owner_id_for(uint64_t id)
{
	/* Above any kernel tid (pid_max is at most 2^22), below the values
	 * glibc reserves for robust mutexes (FUTEX_OWNER_DIED is 2^30). */
	return (int)(((id - 2) % ((1u << 29) - 1)) + (1u << 23));
}

uintptr_t gr_green_stack_of(const struct gr_thread *t)
{
	uintptr_t hi = ((uintptr_t)t + GR_STACK_BLOCK_MASK) & ~GR_STACK_BLOCK_MASK;
	uintptr_t blocks = (hi - (uintptr_t)t->stack.lo) >> GR_STACK_BLOCK_SHIFT;

	/* A slot's top is page-aligned, so hi is still in the slot. */
	return hi | (blocks < GR_STACK_BLOCK_MASK ? blocks : GR_STACK_BLOCK_MASK);
}

/* The stack a new thread runs on: a slot of the pool, or the program's own
 * memory, with the control block (below the TLS, with TLS of its own) at
 * its top. */
static int get_stack(const struct gr_create *c, struct gr_stack *st, struct gr_thread **tp)
{
	size_t size = c->stack_size ? c->stack_size : gr_thread_defaults.stack_size;
	int err;

	if (c->stack_addr) {
		/* As glibc: the memory, not a byte more, and no guard. */
		err = gr_attr_check_user_stack(c->stack_size);
		if (err < 0)
			return err;
		st->lo = c->stack_addr;
		st->size = c->stack_size;
		st->guard = GR_GUARD_NONE;
		st->cls = NULL;
		st->gen = user_gen;
		char *hi = (char *)(((uintptr_t)st->lo + st->size) & ~(uintptr_t)63);
		if (gr_tls_private) {
			/* The block is built on zeros, as in a fresh slot; never
			 * below the memory given (glibc's attr setters ask for
			 * at least PTHREAD_STACK_MIN, which holds it). */
			if ((size_t)(hi - st->lo) < gr_tls_room() + sizeof(struct gr_thread))
				return -EINVAL;
			memset(hi - gr_tls_room(), 0, gr_tls_room());
			hi = gr_tls_stack_top(hi);
		}
		*tp = (struct gr_thread *)(((uintptr_t)hi - sizeof(struct gr_thread)) &
					   ~(uintptr_t)63);
		if ((char *)*tp < st->lo + GR_ATTR_REST_STACK / 2)
			return -EINVAL;
		return 0;
	}
	err = gr_attr_check_stack(size, c->guard_size);
	if (err < 0)
		return err;
	size = gr_attr_slot_size(size);
	err = gr_stack_alloc_guarded(size, c->guard_size, st);
	if (err < 0)
		return err;
	*tp = gr_thread_at(st);
	return 0;
}

int gr_thread_create(const struct gr_create *c, struct gr_thread **out)
{
	struct gr_thread *self = gr_rt.cur;
	struct gr_stack st;
	struct gr_thread *t;
	int policy = self->policy, prio = self->rt_prio, reset = 0;
	char *hi;
	int err;

	if (gr_timers_room(gr_rt.live + 1) < 0)
		return -EAGAIN; /* as glibc when memory for a thread is short */
	/* As clone and glibc: the creator's policy (SCHED_OTHER when it has
	 * SCHED_RESET_ON_FORK), or the attr's, which the kernel may refuse
	 * for the new thread, which has the creator's until then. */
	if (self->reset_on_fork && !c->explicit_sched) {
		policy = SCHED_OTHER;
		prio = 0;
	} else if (c->explicit_sched) {
		err = gr_schedattr_check(policy, prio, c->policy, c->priority);
		if (err < 0)
			return err;
		reset = (c->policy & SCHED_RESET_ON_FORK) != 0;
		policy = c->policy & ~SCHED_RESET_ON_FORK;
		prio = c->priority;
	}
	err = get_stack(c, &st, &t);
	if (err < 0)
		return err;
	memset(t, 0, sizeof(*t));
	t->state = GR_NEW;
	t->stack = st;
	t->canary = st.guard == GR_GUARD_CANARY;
	t->guard_asked = c->guard_size;
	t->start = c->start;
	t->arg = c->arg;
	t->detached = (unsigned char)c->detached;
	t->id = gr_rt.next_id++;
	t->owner_id = gr_owner_id_for(t->id);
	t->policy = (unsigned char)policy;
	t->realtime = policy == SCHED_FIFO || policy == SCHED_RR;
	t->rt_prio = t->realtime ? (unsigned char)prio : 0;
	t->reset_on_fork = (unsigned char)reset;
	t->stack.gen = next_handle(t, st.gen);
	t->magic = GR_MAGIC;
	/* A new thread is named like its creator, as clone() copies comm. */
	memcpy(t->name, gr_rt.cur->name, sizeof(t->name));
	hi = (char *)t;
	if (gr_tls_private) {
		char *lo, *top = st.cls ? gr_slot_top(&st)
					: (char *)(((uintptr_t)st.lo + st.size) & ~(uintptr_t)63);
		t->ctx.tp = gr_tls_make(top, &lo);
		if (!t->ctx.tp) {
			if (st.cls)
				gr_stack_free(&st);
			return -EAGAIN;
		}
		GR_ASSERT(lo >= hi + sizeof(*t));
	}
	if (!st.cls) {
		user_gen = t->stack.gen;
		t->user_next = user_stacks;
		if (user_stacks)
			user_stacks->user_prev = t;
		user_stacks = t;
	}
	if (st.cls)
		last_named = t;
	t->green_stack = gr_green_stack_of(t);
	gr_ctx_make(&t->ctx, st.lo, (size_t)(hi - st.lo), thread_entry, t);
	list_add(t);
	gr_rt.created++;
	if (++gr_rt.live > gr_rt.peak_live)
		gr_rt.peak_live = gr_rt.live;
	gr_signal_thread_created(t);
	if (!c->unstarted)
		gr_runq_push(t);
	*out = t;
	gr_preempt_need();
	return 0;
}

/* The thread whose block handle's address names, live or not (its magic
 * and handle say), or NULL when the address is in no stack of ours. */
static struct gr_thread *block_of(uint64_t handle)
{
	struct gr_thread *t = (struct gr_thread *)(uintptr_t)(handle & HANDLE_ADDR_MASK);
	struct gr_stack st;
	int in_guard;

	if (gr_stack_find(t, &st, &in_guard) && !in_guard && gr_thread_at(&st) == t)
		return t;
	for (struct gr_thread *u = user_stacks; u; u = u->user_next)
		if (u == t)
			return t;
	return NULL;
}

int gr_thread_is_green_handle(uint64_t handle)
{
	struct gr_stack st;
	int in_guard;

	if (handle == gr_main_thread.handle || named_last(handle))
		return 1;
	/* A stale handle of a slot still counts as ours (ESRCH, not glibc's
	 * crash); so does a record of a thread on the program's memory. */
	return gr_stack_find((void *)(uintptr_t)(handle & HANDLE_ADDR_MASK), &st, &in_guard) ||
	       block_of(handle) || gr_zombie_has(handle);
}

struct gr_thread *gr_thread_find(uint64_t handle)
{
	struct gr_thread *t;

	if (handle == gr_main_thread.handle)
		return gr_main_thread.magic == GR_MAGIC ? &gr_main_thread : NULL;
	t = named_last(handle);
	if (t)
		return t;
	t = block_of(handle);
	if (!t || t->magic != GR_MAGIC || t->handle != handle)
		return NULL;
	if (t->stack.cls)
		last_named = t;
	return t;
}

void gr_thread_set_name(struct gr_thread *t, const char *name)
{
	size_t len = strnlen(name, sizeof(t->name) - 1);

	memcpy(t->name, name, len);
	t->name[len] = '\0';
}

void gr_thread_release(struct gr_thread *t)
{
	struct gr_stack st = t->stack;

	t->magic = 0;
	t->handle = 0;
	if (t == &gr_main_thread)
		return;
	if (t->ctx.tp)
		gr_tls_free(t->ctx.tp, t->unwound);
	if (st.cls) {
		gr_stack_free(&st);
		return;
	}
	/* The program's memory is its own again: forget it. */
	if (t->user_prev)
		t->user_prev->user_next = t->user_next;
	else
		user_stacks = t->user_next;
	if (t->user_next)
		t->user_next->user_prev = t->user_prev;
}

int gr_thread_done(uint64_t handle)
{
	struct gr_thread *t = gr_thread_find(handle);

	if (t)
		return t->state == GR_DONE;
	return gr_zombie_has(handle) ? 1 : -ESRCH;
}

int gr_thread_join(uint64_t handle, int64_t deadline, void **retval)
{
	struct gr_thread *self = gr_rt.cur;
	struct gr_thread *t;

	/* Finished already: its record, first. Its slot is another thread's
	 * or free, and with many threads a cold page (the join of each of
	 * Prog 1's sleepers missed in the TLB there). A record's handle is
	 * no live thread's (thread.c's generations). */
	if (gr_zombie_take(handle, retval))
		return 0;
	t = gr_thread_find(handle);
	if (!t) /* never was, or joined already */
		return -ESRCH;
	if (t->detached)
		return -EINVAL;
	/* glibc's "may" error: a thread that joins the caller is a deadlock
	 * unless it has been asked to cancel (then it will end). */
	if (t == self || (self->joiner == t && !t->cancel_pending))
		return -EDEADLK;
	if (t->joiner)
		return -EINVAL;
	if (t->state == GR_DONE) { /* main after pthread_exit, or no memory
				      for a zombie record */
		if (retval)
			*retval = t->retval;
		gr_thread_release(t);
		return 0;
	}
	if (deadline < 0)
		return -EBUSY;
	if (deadline > 0 && gr_now() >= deadline)
		return -ETIMEDOUT;
	t->joiner = self;
	self->join_done = 0;
	for (;;) {
		int r = gr_park(GR_WAIT_JOIN, t, deadline);
		if (r == 0 || self->join_done)
			break;
		if (self->cancel_kicked) { /* pthread_cancel: the caller acts */
			t->joiner = NULL;
			return -EINTR;
		}
		/* A signal handler ran (-EINTR): a join goes on waiting. */
		if (r == -ETIMEDOUT || (deadline && gr_now() >= deadline)) {
			t->joiner = NULL;
			return -ETIMEDOUT;
		}
	}
	/* t handed its return value over and is gone: do not touch it. */
	if (retval)
		*retval = self->join_ret;
	return 0;
}

int gr_thread_detach(uint64_t handle)
{
	struct gr_thread *t = gr_thread_find(handle);

	if (!t)
		return gr_zombie_take(handle, NULL) ? 0 : -ESRCH;
	if (t->detached)
		return -EINVAL;
	if (t->joiner)
		return 0; /* glibc: a join in progress wins; detach does nothing */
	if (t->state == GR_DONE) {
		gr_thread_release(t);
		return 0;
	}
	t->detached = 1;
	return 0;
}

void gr_thread_exit(void *retval)
{
	struct gr_thread *self = gr_rt.cur;

	/* As glibc: C++ thread_local destructors, then key destructors
	 * (both may still lock and wait), then robust mutexes pass on. */
	gr_once_thread_exit(self);
	if (self->ctx.tp && self != &gr_main_thread)
		gr_tls_thread_exit();
	gr_key_thread_exit(self);
	gr_mutex_owner_exit(self);
	gr_file_thread_exit(self);
	self->state = GR_DONE;
	list_del(self);
	/* glibc: the last thread to finish ends the process with status 0,
	 * whether or not main returned. */
	if (--gr_rt.live == 0)
		exit(0);
	gr_signal_thread_exited(self);
	if (self->joiner) {
		struct gr_thread *j = self->joiner;
		j->join_ret = retval;
		j->join_done = 1;
		/* A joiner running a signal handler may be parked in the
		 * handler's own wait: it sees join_done when it returns. */
		if (!j->in_handler)
			gr_wake(j, 0);
		gr_rt.zombie = self;
	} else if (self->detached) {
		gr_rt.zombie = self;
	} else if (self != &gr_main_thread && gr_zombie_add(self->handle, retval) == 0) {
		gr_rt.zombie = self;
	} else {
		self->retval = retval; /* kept, with its stack, until joined */
	}
	gr_schedule();
	gr_die("finished thread %llu was resumed", (unsigned long long)self->id);
}
