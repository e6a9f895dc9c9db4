/* Backtraces of suspended green threads (backtrace.h). Runs on the hub
 * (gr_rt.inside): the calls libdw makes (open, read, mmap) reach libc
 * through our hooks' "not green" path.
 *
 * libdw (elfutils) does it all: the modules are the objects
 * dl_iterate_phdr lists, its unwinder walks a suspended thread's stack
 * from the registers its saved context holds (with .eh_frame, reading
 * memory through a callback that refuses anything outside that thread's
 * stack), and its line tables give file:line. It is loaded with
 * RTLD_LOCAL by the first dump (a process never dumped never loads it),
 * and the session ends with each dump, which closes every file it opened:
 * nothing of it outlives the dump. (libunwind was the first choice: it
 * keeps a pipe, at the lowest free fd numbers, that it reads and writes
 * to check memory, so a program that closes and reuses those numbers
 * would have bytes read from and written to its own files.) */
#include "backtrace.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

/* The libdw session of one dump. Separate debug files come only from the
 * local build-id tree (/usr/lib/debug/.build-id): never debuginfod, whose
 * network fetches a dump must not wait for. The modules are the objects
 * dl_iterate_phdr lists, not /proc/self/maps, whose lines a process of
 * 100,000 threads counts by the hundred thousand. */
#if __has_include(<elfutils/libdwfl.h>)
#include <elfutils/libdwfl.h>

static struct {
	int tried;    /* libdw.so.1 was looked for */
	int loaded;   /* and every function below found */
	Dwfl *dwfl;   /* this dump's session, or NULL */
	int attached; /* its unwinder is set up (dwfl_attach_state) */
	Dwfl_Callbacks cb;
	__typeof__(dwfl_begin) *begin;
	__typeof__(dwfl_end) *end;
	__typeof__(dwfl_report_elf) *report_elf;
	__typeof__(dwfl_report_end) *report_end;
	__typeof__(dwfl_addrmodule) *addrmodule;
	__typeof__(dwfl_module_getsrc) *getsrc;
	__typeof__(dwfl_lineinfo) *lineinfo;
	__typeof__(dwfl_module_addrinfo) *addrinfo;
	__typeof__(dwfl_attach_state) *attach_state;
	__typeof__(dwfl_getthread_frames) *getthread_frames;
	__typeof__(dwfl_thread_state_registers) *state_registers;
	__typeof__(dwfl_frame_pc) *frame_pc;
	__typeof__(dwfl_frame_reg) *frame_reg;
} dw;

static int dw_load(void)
{
	void *h;

	if (dw.tried)
		return dw.loaded;
	dw.tried = 1;
	h = gr_real.dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (!h)
		return 0;
#define DW(field, name) dw.field = (__typeof__(dw.field))dlsym(h, name)
	DW(begin, "dwfl_begin");
	DW(end, "dwfl_end");
	DW(report_elf, "dwfl_report_elf");
	DW(report_end, "dwfl_report_end");
	DW(addrmodule, "dwfl_addrmodule");
	DW(getsrc, "dwfl_module_getsrc");
	DW(lineinfo, "dwfl_lineinfo");
	DW(addrinfo, "dwfl_module_addrinfo");
	DW(attach_state, "dwfl_attach_state");
	DW(getthread_frames, "dwfl_getthread_frames");
	DW(state_registers, "dwfl_thread_state_registers");
	DW(frame_pc, "dwfl_frame_pc");
	DW(frame_reg, "dwfl_frame_reg");
	dw.cb.find_debuginfo =
		(__typeof__(dw.cb.find_debuginfo))dlsym(h, "dwfl_build_id_find_debuginfo");
#undef DW
	dw.loaded = dw.begin && dw.end && dw.report_elf && dw.report_end && dw.addrmodule &&
		    dw.getsrc && dw.lineinfo && dw.addrinfo && dw.attach_state &&
		    dw.getthread_frames && dw.state_registers && dw.frame_pc && dw.frame_reg &&
		    dw.cb.find_debuginfo;
	return dw.loaded;
}

/* One loaded object as a module: its file at its load bias (the vDSO,
 * which has no file, is left out). */
static int report_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *path = info->dlpi_name;

	(void)size;
	(void)arg;
	if (!path || !path[0])
		path = "/proc/self/exe"; /* the program itself */
	else if (path[0] != '/')
		return 0;
	dw.report_elf(dw.dwfl, path, path, -1, info->dlpi_addr, false);
	return 0;
}

static int attach(void);

static Dwfl *dw_session(void)
{
	if (dw.dwfl || !dw_load())
		return dw.dwfl;
	dw.dwfl = dw.begin(&dw.cb);
	if (!dw.dwfl)
		return NULL;
	dl_iterate_phdr(report_object, NULL);
	if (dw.report_end(dw.dwfl, NULL, NULL) != 0) {
		dw.end(dw.dwfl);
		dw.dwfl = NULL;
		return NULL;
	}
	dw.attached = attach();
	return dw.dwfl;
}

/* " at file:line" for the address a, or "". */
static void line_of(uintptr_t a, char *buf, size_t cap)
{
	Dwfl *d = dw_session();
	Dwfl_Module *m = d ? dw.addrmodule(d, a) : NULL;
	Dwfl_Line *l = m ? dw.getsrc(m, a) : NULL;
	Dwarf_Addr at;
	int line = 0;
	const char *file = l ? dw.lineinfo(l, &at, &line, NULL, NULL, NULL) : NULL;

	buf[0] = '\0';
	if (file && line > 0)
		snprintf(buf, cap, " at %s:%d", file, line);
}

/* The name of the function at a from the file's separate debug
 * information (a local function of a stripped library), or NULL. */
static const char *debug_name(uintptr_t a, unsigned long *off)
{
	Dwfl *d = dw_session();
	Dwfl_Module *m = d ? dw.addrmodule(d, a) : NULL;
	GElf_Off o = 0;
	GElf_Sym sym;
	const char *name = m ? dw.addrinfo(m, a, &o, &sym, NULL, NULL, NULL) : NULL;

	*off = (unsigned long)o;
	return name;
}

static void dw_done(void)
{
	if (dw.dwfl)
		dw.end(dw.dwfl); /* closes every file the session opened */
	dw.dwfl = NULL;
	dw.attached = 0;
}
#else
static Dwfl *dw_session(void)
{
	return NULL;
}

static void line_of(uintptr_t a, char *buf, size_t cap)
{
	(void)a;
	if (cap)
		buf[0] = '\0';
}

static const char *debug_name(uintptr_t a, unsigned long *off)
{
	(void)a;
	*off = 0;
	return NULL;
}

static void dw_done(void)
{
}
#endif

#if defined(__x86_64__) && __has_include(<elfutils/libdwfl.h>)
const int gr_bt_available = 1;

/* The main thread's stack has no bounds of ours: it ends in the page of
 * the loader's __libc_stack_end (argc, argv). */
extern void *__libc_stack_end;

/* The thread being unwound: its registers in DWARF's x86_64 numbering
 * (0 rax, 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8-15 r8-r15,
 * 16 the return address), the stack memory unwinding may read, and
 * the frames found. */
static struct {
	Dwarf_Word r[17];
	uintptr_t lo, hi;
	struct gr_bt *bt;
	const unsigned char *copy; /* the stack's words [lo, hi) copied here, or NULL */
	uint32_t known;		   /* registers known, bit i for register i */
} cur;

static pid_t no_next_thread(Dwfl *d, void *arg, void **thread_arg)
{
	(void)d;
	(void)arg;
	(void)thread_arg;
	return 0;
}

static bool one_thread(Dwfl *d, pid_t tid, void *arg, void **thread_arg)
{
	(void)d;
	(void)tid;
	(void)arg;
	*thread_arg = NULL;
	return true;
}

/* Only the suspended thread's own stack: a bad rule or a corrupt stack
 * stops the walk instead of faulting in the hub. */
static bool read_stack(Dwfl *d, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)d;
	(void)arg;
	if (addr < cur.lo || addr > cur.hi - sizeof(Dwarf_Word) || addr % sizeof(Dwarf_Word))
		return false;
	if (cur.copy)
		memcpy(result, cur.copy + (addr - cur.lo), sizeof(*result));
	else
		*result = *(const Dwarf_Word *)(uintptr_t)addr;
	return true;
}

static bool initial_registers(Dwfl_Thread *thread, void *arg)
{
	(void)arg;
	if (cur.known != 0x1ffff) { /* the others undefined: a rule needing one ends the walk */
		for (int i = 0; i < 17; i++)
			if ((cur.known >> i & 1) && !dw.state_registers(thread, i, 1, &cur.r[i]))
				return false;
		return true;
	}
	return dw.state_registers(thread, 0, 17, cur.r);
}

static const Dwfl_Thread_Callbacks thread_cb = {
	.next_thread = no_next_thread,
	.get_thread = one_thread,
	.memory_read = read_stack,
	.set_initial_registers = initial_registers,
};

static int attach(void)
{
	return dw.attach_state(dw.dwfl, NULL, (pid_t)gr_real.syscall(SYS_getpid), &thread_cb, NULL);
}

int gr_bt_ready(void)
{
	return dw_session() && dw.attached;
}

/* The registers t resumes with, into cur; its stack pointer into *sp0.
 * The assembly switch left (arch/x86_64.S), from its saved stack pointer
 * up: MXCSR and x87 word, r15, r14, r13, r12, rbx, rbp, the resume
 * address; the ucontext switch saved a ucontext_t. */
static int regs_of(const struct gr_thread *t, uintptr_t *sp0)
{
	Dwarf_Word *r = cur.r;

	memset(r, 0, sizeof(cur.r));
	if (gr_ctx_ucontext) {
		const greg_t *g;
		if (!t->ctx.uc)
			return -EINVAL;
		g = t->ctx.uc->uc_mcontext.gregs;
		r[3] = (Dwarf_Word)g[REG_RBX];
		r[6] = (Dwarf_Word)g[REG_RBP];
		r[7] = (Dwarf_Word)g[REG_RSP];
		r[12] = (Dwarf_Word)g[REG_R12];
		r[13] = (Dwarf_Word)g[REG_R13];
		r[14] = (Dwarf_Word)g[REG_R14];
		r[15] = (Dwarf_Word)g[REG_R15];
		r[16] = (Dwarf_Word)g[REG_RIP];
	} else {
		const uintptr_t *f = t->ctx.sp;
		if (!f)
			return -EINVAL;
		r[15] = f[1];
		r[14] = f[2];
		r[13] = f[3];
		r[12] = f[4];
		r[3] = f[5];
		r[6] = f[6];
		r[16] = f[7];
		r[7] = (uintptr_t)(f + 8);
	}
	*sp0 = r[7];
	return 0;
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct gr_bt *bt = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0;
	bool activation;

	if (!dw.frame_pc(state, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	if (bt->n > 0) {
		/* A caller's return address is the word below its frame's
		 * stack pointer after the return (x86_64's call). */
		if (dw.frame_reg(state, 7, &sp) != 0 || sp < cur.lo + 8 ||
		    sp - 8 - cur.lo > UINT32_MAX)
			return DWARF_CB_ABORT;
	}
	bt->ip[bt->n] = pc;
	bt->at[bt->n] = bt->n ? (uint32_t)(sp - 8 - cur.lo) : 0;
	return ++bt->n < GR_BT_MAX ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int gr_bt_unwind(const struct gr_thread *t, struct gr_bt *bt)
{
	uintptr_t sp0;

	bt->n = 0;
	cur.known = 0x1ffff;
	if (!gr_bt_ready() || regs_of(t, &sp0) < 0)
		return -EINVAL;
	cur.lo = sp0;
	cur.hi = t->stack.lo ? (uintptr_t)t->stack.lo + t->stack.size
			     : ((uintptr_t)__libc_stack_end | 4095) + 1;
	if (cur.hi <= cur.lo)
		return -EINVAL;
	/* Ends in an error once the walk stops (the thread's entry leaves
	 * its return address undefined): the frames found are the answer. */
	dw.getthread_frames(dw.dwfl, 1, on_frame, bt);
	return 0;
}
int gr_bt_unwind_copy(const uintptr_t *regs, uint32_t known, uintptr_t lo, const void *copy,
		      size_t len, struct gr_bt *bt)
{
	bt->n = 0;
	if (!gr_bt_ready() || len < sizeof(Dwarf_Word) || lo % sizeof(Dwarf_Word))
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		cur.r[i] = regs[i];
	cur.lo = lo;
	cur.hi = lo + len;
	cur.copy = copy;
	cur.known = known & 0x1ffff;
	dw.getthread_frames(dw.dwfl, 1, on_frame, bt);
	cur.copy = NULL;
	cur.known = 0x1ffff;
	return 0;
}

uintptr_t gr_bt_resume_ip(const struct gr_thread *t)
{
	if (gr_ctx_ucontext)
		return t->ctx.uc ? (uintptr_t)t->ctx.uc->uc_mcontext.gregs[REG_RIP] : 0;
	return t->ctx.sp ? ((const uintptr_t *)t->ctx.sp)[7] : 0;
}

static uintptr_t resume_sp(const struct gr_thread *t)
{
	if (gr_ctx_ucontext)
		return t->ctx.uc ? (uintptr_t)t->ctx.uc->uc_mcontext.gregs[REG_RSP] : 0;
	return t->ctx.sp ? (uintptr_t)t->ctx.sp + 64 : 0; /* above regs_of's frame */
}

uintptr_t gr_bt_key(const struct gr_thread *t)
{
	/* Depth from its control block, which sits at the top of its stack
	 * (below its TLS, at a slot's colour offset): the same for equal
	 * stacks. */
	uintptr_t depth = (uintptr_t)t - resume_sp(t);

	return gr_bt_resume_ip(t) ^ (depth * 0x9e3779b97f4a7c15u);
}

/* Called for every thread of a dump: reads the two words it needs. */
int gr_bt_same(const struct gr_thread *t, const struct gr_bt *bt)
{
	uintptr_t sp0 = resume_sp(t), top = (uintptr_t)t->stack.lo + t->stack.size;

	if (!t->stack.lo || bt->n == 0 || gr_bt_resume_ip(t) != bt->ip[0])
		return 0;
	if (sp0 < (uintptr_t)t->stack.lo || sp0 >= top)
		return 0;
	for (int i = 1; i < bt->n; i++) {
		uintptr_t a = sp0 + bt->at[i];
		if (a + 8 > top || *(const uintptr_t *)a != bt->ip[i])
			return 0;
	}
	return 1;
}
#else
const int gr_bt_available = 0;

#if __has_include(<elfutils/libdwfl.h>)
static int attach(void)
{
	return 0;
}
#endif

int gr_bt_ready(void)
{
	return 0;
}

int gr_bt_unwind(const struct gr_thread *t, struct gr_bt *bt)
{
	(void)t;
	bt->n = 0;
	return -EINVAL;
}

int gr_bt_unwind_copy(const uintptr_t *regs, uint32_t known, uintptr_t lo, const void *copy,
		      size_t len, struct gr_bt *bt)
{
	(void)regs;
	(void)known;
	(void)lo;
	(void)copy;
	(void)len;
	bt->n = 0;
	return -EINVAL;
}

uintptr_t gr_bt_resume_ip(const struct gr_thread *t)
{
	(void)t;
	return 0;
}

uintptr_t gr_bt_key(const struct gr_thread *t)
{
	(void)t;
	return 0;
}

int gr_bt_same(const struct gr_thread *t, const struct gr_bt *bt)
{
	(void)t;
	(void)bt;
	return 0;
}
#endif

/* Names: the ELF file of each object, mapped read-only while one dump
 * runs (the fd closed at once). Its .symtab when it has one (the static
 * functions of a non-stripped program), else its .dynsym. */
#define FILES 32

struct elf_file {
	uintptr_t bias; /* dlpi_addr: symbol values + bias = addresses */
	const char *map;
	size_t size;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strs;
	size_t strs_size;
	char name[64]; /* basename, for the frame's "(file)" */
};

static struct elf_file files[FILES];
static int nfiles;

/* Which object holds an address: its bias and path (dl_iterate_phdr). */
struct find {
	uintptr_t addr;
	uintptr_t bias;
	const char *path;
	int found;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find *f = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && f->addr >= lo && f->addr < lo + p->p_memsz) {
			f->bias = info->dlpi_addr;
			f->path = info->dlpi_name;
			f->found = 1;
			return 1;
		}
	}
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Maps path's symbol table into e; 0 or -1 (e still names the file). */
static int map_elf(struct elf_file *e, const char *path)
{
	struct stat st;
	const Elf64_Ehdr *h;
	const Elf64_Shdr *sh, *sym = NULL;
	int fd = (int)gr_real.syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (gr_real.syscall(SYS_fstat, fd, &st) < 0 || st.st_size < (off_t)sizeof(*h)) {
		gr_real.syscall(SYS_close, fd);
		return -1;
	}
	e->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	gr_real.syscall(SYS_close, fd);
	if (e->map == MAP_FAILED) {
		e->map = NULL;
		return -1;
	}
	e->size = (size_t)st.st_size;
	h = (const Elf64_Ehdr *)e->map;
	if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 || h->e_ident[EI_CLASS] != ELFCLASS64 ||
	    h->e_shentsize != sizeof(Elf64_Shdr) || h->e_shoff > e->size ||
	    (size_t)h->e_shnum * sizeof(Elf64_Shdr) > e->size - h->e_shoff)
		return -1;
	sh = (const Elf64_Shdr *)(e->map + h->e_shoff);
	for (int i = 0; i < h->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB || (sh[i].sh_type == SHT_DYNSYM && !sym))
			sym = &sh[i];
	if (!sym || sym->sh_link >= h->e_shnum || sym->sh_offset > e->size ||
	    sym->sh_size > e->size - sym->sh_offset || sh[sym->sh_link].sh_offset > e->size ||
	    sh[sym->sh_link].sh_size > e->size - sh[sym->sh_link].sh_offset)
		return -1;
	e->syms = (const Elf64_Sym *)(e->map + sym->sh_offset);
	e->nsyms = sym->sh_size / sizeof(Elf64_Sym);
	e->strs = e->map + sh[sym->sh_link].sh_offset;
	e->strs_size = sh[sym->sh_link].sh_size;
	return 0;
}

static struct elf_file *file_of(uintptr_t addr)
{
	struct find f = {.addr = addr};
	char exe[256];

	dl_iterate_phdr(find_object, &f);
	if (!f.found)
		return NULL;
	for (int i = 0; i < nfiles; i++)
		if (files[i].bias == f.bias)
			return &files[i];
	if (nfiles == FILES)
		return NULL;
	struct elf_file *e = &files[nfiles++];
	memset(e, 0, sizeof(*e));
	e->bias = f.bias;
	if (!f.path || !f.path[0]) { /* the program itself */
		long n = gr_real.syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe,
					 sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(e->name, sizeof(e->name), "%.63s", base_name(exe));
		map_elf(e, "/proc/self/exe");
	} else {
		snprintf(e->name, sizeof(e->name), "%.63s", base_name(f.path));
		map_elf(e, f.path);
	}
	return e;
}

/* The function symbol of e that holds the file address a, or NULL. */
static const Elf64_Sym *sym_at(const struct elf_file *e, uintptr_t a)
{
	const Elf64_Sym *best = NULL;

	for (size_t i = 0; i < e->nsyms; i++) {
		const Elf64_Sym *s = &e->syms[i];
		int type = ELF64_ST_TYPE(s->st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF ||
		    s->st_name >= e->strs_size || a < s->st_value ||
		    a >= s->st_value + (s->st_size ? s->st_size : 1))
			continue;
		/* A global name beats a local alias at the same address. */
		if (!best || s->st_value > best->st_value ||
		    (s->st_value == best->st_value && ELF64_ST_BIND(s->st_info) != STB_LOCAL))
			best = s;
	}
	return best;
}

void gr_bt_name(uintptr_t ip, char *buf, size_t cap)
{
	/* A return address: the call is the instruction before it, and may
	 * be a function's last (a noreturn callee). */
	uintptr_t a = ip - 1;
	const struct elf_file *e = file_of(a);
	const Elf64_Sym *s = e && e->syms ? sym_at(e, a - e->bias) : NULL;
	Dl_info di;
	char line[160];
	const char *dn;
	unsigned long off;

	/* Not for the library's own frames, nor libc's: the function's name
	 * is what a reader needs there, and their line tables (libuv's, and
	 * libc6-dbg's compressed ones) were most of a first dump's time. */
	if (gr_bt_in_runtime(ip) || (e && strncmp(e->name, "libc.so", 7) == 0))
		line[0] = '\0';
	else
		line_of(a, line, sizeof(line));
	if (s) {
		snprintf(buf, cap, "%s+0x%lx (%s)%s", e->strs + s->st_name,
			 (unsigned long)(a - e->bias - s->st_value + 1), e->name, line);
		return;
	}
	if (dladdr((void *)a, &di) && di.dli_sname) {
		snprintf(buf, cap, "%s+0x%lx (%s)%s", di.dli_sname,
			 (unsigned long)(ip - (uintptr_t)di.dli_saddr),
			 di.dli_fname ? base_name(di.dli_fname) : "?", line);
		return;
	}
	if (e && (dn = debug_name(a, &off)) != NULL) {
		snprintf(buf, cap, "%s+0x%lx (%s)%s", dn, off + 1, e->name, line);
		return;
	}
	if (e)
		snprintf(buf, cap, "0x%lx (%s+0x%lx)", (unsigned long)ip, e->name,
			 (unsigned long)(ip - e->bias));
	else
		snprintf(buf, cap, "0x%lx", (unsigned long)ip);
}

void gr_bt_names_done(void)
{
	for (int i = 0; i < nfiles; i++)
		if (files[i].map)
			munmap((void *)files[i].map, files[i].size);
	nfiles = 0;
	dw_done();
}

int gr_bt_in_runtime(uintptr_t ip)
{
	static void *ours;
	Dl_info d;

	if (!ours && dladdr((void *)gr_bt_in_runtime, &d))
		ours = d.dli_fbase;
	return dladdr((void *)(ip - 1), &d) && d.dli_fbase == ours;
}
