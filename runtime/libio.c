#include "libio.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#include "fdwait.h"
#include "io.h"
#include "log.h"
#include "ownfd.h"
#include "real.h"
#include "sched.h"
#include "tls.h"
#include "wait.h"

/* ---- Holds: the green FILE lock ---- */

#define CHUNK 32 /* overflow records come from malloc this many at a time */

struct gr_file_hold gr_file_slots[GR_FILE_SLOTS];
unsigned gr_file_held, gr_file_waiting;
static struct gr_file_hold *overflow, *spare;

/* The wait-queue key of fp: odd, so no futex or lock word shares it. */
static const void *key(const void *fp)
{
	return (const char *)fp + 1;
}

static struct gr_file_hold *find(const void *fp)
{
	struct gr_file_hold *h = gr_file_slot(fp);

	if (h->fp == fp)
		return h;
	for (h = overflow; h; h = h->next)
		if (h->fp == fp)
			return h;
	return NULL;
}

/* A record for fp, which has none: its slot if nobody holds that, else a
 * new one on the overflow list (NULL when there is no memory for it). */
static struct gr_file_hold *add(const void *fp)
{
	struct gr_file_hold *h = gr_file_slot(fp);

	if (h->owner) {
		if (!spare) {
			struct gr_file_hold *chunk = malloc(CHUNK * sizeof(*chunk));
			if (!chunk) {
				gr_log(GR_LOG_WARN, "no memory to hold a FILE: its call goes on");
				return NULL;
			}
			for (int i = 0; i < CHUNK; i++)
				chunk[i].next = i + 1 < CHUNK ? &chunk[i + 1] : NULL;
			spare = chunk;
		}
		h = spare;
		spare = h->next;
		h->next = overflow;
		overflow = h;
	}
	h->fp = fp;
	h->owner = 0;
	h->calls = h->locks = 0;
	h->notry_fd = -1;
	h->notry = 0;
	return h;
}

static void take(struct gr_file_hold *h, uint64_t owner)
{
	if (!h->owner) {
		h->owner = owner;
		gr_file_held++;
	}
}

/* Lets go of h if nothing holds it any more, and wakes fp's waiters. */
static void release(struct gr_file_hold *h)
{
	const void *fp = h->fp;

	if (h->calls || h->locks)
		return;
	h->owner = 0;
	gr_file_held--;
	if (h != gr_file_slot(fp)) {
		struct gr_file_hold **p = &overflow;
		while (*p != h)
			p = &(*p)->next;
		*p = h->next;
		h->fp = NULL;
		h->next = spare;
		spare = h;
	}
	if (gr_file_waiting)
		gr_wake_addr(key(fp), INT_MAX, GR_BITSET_ANY);
}

/* fp's record, held by owner, after waiting while another thread holds it. */
static struct gr_file_hold *acquire(const void *fp, uint64_t owner)
{
	for (;;) {
		struct gr_file_hold *h = find(fp);
		if (!h)
			h = add(fp);
		if (!h)
			return NULL;
		if (!h->owner || h->owner == owner) {
			take(h, owner);
			return h;
		}
		/* Woken when the holder lets go; a signal handler that ran
		 * meanwhile (-EINTR) changes nothing: glibc's lock wait is
		 * not interrupted either. */
		gr_file_waiting++;
		gr_wait_addr(key(fp), GR_BITSET_ANY, GR_WAIT_FILE, (void *)fp, 0);
		gr_file_waiting--;
	}
}

struct gr_file_hold *gr_file_enter_slow(const void *fp)
{
	struct gr_file_hold *h = acquire(fp, gr_rt.cur->handle);

	if (h)
		h->calls++;
	return h;
}

void gr_file_leave_slow(struct gr_file_hold *h)
{
	GR_ASSERT(h->calls > 0);
	h->calls--;
	release(h);
}

void gr_file_lock(const void *fp, uint64_t owner)
{
	struct gr_file_hold *h = acquire(fp, owner);

	if (h)
		h->locks++;
}

int gr_file_trylock(const void *fp, uint64_t owner)
{
	struct gr_file_hold *h = find(fp);

	if (h && h->owner && h->owner != owner)
		return -EBUSY;
	if (!h)
		h = add(fp);
	if (h) {
		take(h, owner);
		h->locks++;
	}
	return 0;
}

void gr_file_unlock(const void *fp, uint64_t owner)
{
	struct gr_file_hold *h = find(fp);

	/* glibc's funlockfile of a FILE one does not hold is undefined; here
	 * it leaves the holder alone. */
	if (!h || h->owner != owner || h->locks == 0)
		return;
	h->locks--;
	release(h);
}

uint64_t gr_file_owner(const void *fp)
{
	const struct gr_file_hold *h = find(fp);

	return h ? h->owner : 0;
}

static void end_calls(struct gr_file_hold *h, uint64_t owner)
{
	if (h->owner == owner && h->calls) {
		h->calls = 0;
		release(h);
	}
}

void gr_file_thread_exit(struct gr_thread *t)
{
	struct gr_file_hold *h, *next;

	/* With private TLS, main too: it does not unwind, and its control
	 * block, the OS thread's, is no other thread's, so glibc's lock stays
	 * with it as the hold does. */
	if (gr_tls_private || !gr_file_held)
		return;
	for (int i = 0; i < GR_FILE_SLOTS; i++)
		end_calls(&gr_file_slots[i], t->handle);
	for (h = overflow; h; h = next) {
		next = h->next;
		end_calls(h, t->handle);
	}
}

/* ---- The jump tables ---- */

/* glibc's struct _IO_jump_t: two words of padding, then 19 function
 * pointers; read, write and close are entries 14, 15 and 17. Where the
 * entries are is checked, not assumed: a table must hold glibc's own
 * _IO_file_read and _IO_file_write there. */
#define JUMP_WORDS 21
#define JUMP_READ  14
#define JUMP_WRITE 15
#define JUMP_CLOSE 17

struct relro {
	uintptr_t addr; /* an address inside libc's RELRO segment */
	uintptr_t lo, hi;
};

/* glibc's jump tables are in its RELRO segment: read-only once relocated. */
static int find_relro(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct relro *r = arg;
	uintptr_t lo = 0, hi = 0;
	int mine = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && r->addr >= a && r->addr < a + ph->p_memsz)
			mine = 1;
		if (ph->p_type == PT_GNU_RELRO) {
			lo = a;
			hi = a + ph->p_memsz;
		}
	}
	if (!mine || r->addr < lo || r->addr >= hi)
		return 0;
	r->lo = lo;
	r->hi = hi;
	return 1;
}

/* Makes the pages of [lo, hi) that ld.so made read-only (the RELRO
 * segment up to its last whole page, ro_end) writable, or read-only again. */
static int protect(uintptr_t lo, uintptr_t hi, uintptr_t ro_end, int writable)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = lo & ~(page - 1), b = (hi + page - 1) & ~(page - 1);

	ro_end &= ~(page - 1);
	if (b > ro_end)
		b = ro_end;
	if (a >= b)
		return 0;
	if (mprotect((void *)a, b - a, writable ? PROT_READ | PROT_WRITE : PROT_READ) < 0)
		return -errno;
	return 0;
}

int gr_stdio_patch(const struct gr_file_ops *file, const struct gr_file_ops *proc,
		   struct gr_file_ops *file_orig, struct gr_file_ops *proc_orig)
{
	void *rd = dlsym(RTLD_NEXT, "_IO_file_read");
	void *wr = dlsym(RTLD_NEXT, "_IO_file_write");
	void *cl = dlsym(RTLD_NEXT, "_IO_file_close");
	void *pcl = dlsym(RTLD_NEXT, "_IO_proc_close");
	void **jumps = dlsym(RTLD_NEXT, "_IO_file_jumps");
	struct relro r = {.addr = (uintptr_t)jumps};
	void **tables[32];
	uintptr_t lo, hi;
	int n = 0, err, seen_file = 0;

	if (!rd || !wr || !cl || !pcl || !jumps || !dl_iterate_phdr(find_relro, &r))
		return -ENOENT;
	for (uintptr_t a = r.lo & ~(uintptr_t)7; a + JUMP_WORDS * sizeof(void *) <= r.hi;
	     a += sizeof(void *)) {
		void **t = (void **)a;
		if (t[0] || t[1] || t[JUMP_READ] != rd || t[JUMP_WRITE] != wr ||
		    (t[JUMP_CLOSE] != cl && t[JUMP_CLOSE] != pcl))
			continue;
		if (n == (int)(sizeof(tables) / sizeof(tables[0])))
			return -E2BIG;
		seen_file |= t == jumps;
		tables[n++] = t;
	}
	if (!seen_file)
		return -ENOENT;
	lo = (uintptr_t)tables[0];
	hi = (uintptr_t)(tables[n - 1] + JUMP_WORDS);
	file_orig->read = proc_orig->read = (__typeof__(file_orig->read))rd;
	file_orig->write = proc_orig->write = (__typeof__(file_orig->write))wr;
	file_orig->close = (__typeof__(file_orig->close))cl;
	proc_orig->close = (__typeof__(proc_orig->close))pcl;
	err = protect(lo, hi, r.hi, 1);
	if (err < 0)
		return err;
	for (int i = 0; i < n; i++) {
		void **t = tables[i];
		const struct gr_file_ops *ours = t[JUMP_CLOSE] == cl ? file : proc;
		t[JUMP_READ] = (void *)ours->read;
		t[JUMP_WRITE] = (void *)ours->write;
		t[JUMP_CLOSE] = (void *)ours->close;
	}
	err = protect(lo, hi, r.hi, 0);
	if (err < 0)
		gr_log(GR_LOG_WARN, "libc's stdio tables stay writable: %s", strerror(-err));
	return n;
}

/* ---- The list of open FILEs ---- */

/* glibc's list of every FILE, and the lock that guards it; exported since
 * glibc 2.2, not declared in any header. */
extern FILE *_IO_list_all;
extern void _IO_list_lock(void);
extern void _IO_list_unlock(void);

/* The head of glibc's struct _IO_wide_data: a wide stream's own buffer
 * pointers, in the order of the FILE's. */
struct wide_head {
	wchar_t *read_ptr, *read_end, *read_base, *write_base, *write_ptr;
};

static int wide_pending(const FILE *fp)
{
	const struct wide_head *w = (const void *)fp->_wide_data;

	return w && w->write_ptr > w->write_base;
}

long gr_stdio_pending(FILE ***out)
{
	FILE **v = NULL, *fp;
	long n = 0, cap = 0;

	_IO_list_lock();
	for (fp = _IO_list_all; fp; fp = fp->_chain) {
		/* As glibc's _IO_flush_all: output pending in the byte buffer,
		 * or for a wide stream in its wide one. */
		if (fp->_mode <= 0 ? fp->_IO_write_ptr <= fp->_IO_write_base : !wide_pending(fp))
			continue;
		if (n == cap) {
			FILE **w = realloc(v, (size_t)(cap = cap ? 2 * cap : 16) * sizeof(*v));
			if (!w) {
				_IO_list_unlock();
				free(v);
				return -ENOMEM;
			}
			v = w;
		}
		v[n++] = fp;
	}
	_IO_list_unlock();
	*out = v;
	return n;
}

int gr_stdio_open(const FILE *fp)
{
	const FILE *f;

	_IO_list_lock();
	for (f = _IO_list_all; f && f != fp; f = f->_chain)
		;
	_IO_list_unlock();
	return f != NULL;
}

/* ---- popen's child ---- */

int gr_stdio_child_exit(int fd, pid_t pid)
{
	siginfo_t si;
	int pidfd, r;

	if (pid <= 0)
		return -ECHILD;
	pidfd = (int)gr_real.syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	pidfd = gr_own_fd_high(pidfd); /* out of the program's numbering */
	gr_own_fd_add(pidfd);
	/* Ours to reap, and not yet reaped: else glibc's waitpid answers
	 * (ECHILD) at once, as natively. */
	si.si_pid = 0;
	if (gr_real.waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		r = -errno;
		gr_own_fd_del(pidfd);
		gr_real.close(pidfd);
		return r;
	}
	/* glibc closes the pipe before it waits (a child reading it waits for
	 * that end-of-file): dup3 closes it and leaves the number naming the
	 * pidfd in one step, so no other descriptor takes the number before
	 * glibc's close. */
	gr_fd_closing(fd);
	if (gr_real.dup3(pidfd, fd, O_CLOEXEC) < 0) {
		r = -errno;
		gr_own_fd_del(pidfd);
		gr_real.close(pidfd);
		return r;
	}
	while (si.si_pid == 0) {
		/* A signal handler does not end pclose's wait: glibc's loops on
		 * EINTR, with cancellation disabled. */
		r = gr_fd_wait(pidfd, GR_FD_READ, 0);
		if (r < 0 && r != -EINTR)
			break;
		si.si_pid = 0;
		if (gr_real.waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			break;
	}
	gr_fd_closing(pidfd);
	gr_own_fd_del(pidfd);
	gr_real.close(pidfd);
	return 0;
}

/* ---- The fallback: waiting before the call ---- */

int gr_stdio_wait_ready(int fd, int what)
{
	struct stat st;
	int fl, r;

	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode))
		return 0;
	fl = gr_real.fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return 0; /* the call answers EAGAIN as the program expects */
	while (!gr_io_ready(fd, what)) {
		r = gr_fd_wait(fd, what, 0);
		if (r < 0)
			return r == -EPERM ? 0 : r; /* -EINTR: a handler ran; the call goes on */
	}
	return 0;
}
