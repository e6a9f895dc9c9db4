/* Backtraces of suspended green threads (backtrace.h). Runs on the hub
 * (gr_rt.inside): libunwind's own calls of open, read or sigprocmask reach
 * libc through our hooks' "not green" path.
 *
 * libunwind is loaded at the first dump, RTLD_LOCAL, not linked: Debian's
 * libunwind.a is not position-independent, and libunwind.so exports
 * _Unwind_*, which in the global scope would take C++ exceptions and
 * cancellation over from libgcc's unwinder. A process never dumped never
 * loads it. */
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

#if defined(__x86_64__) && __has_include(<libunwind.h>)
#define UNW_LOCAL_ONLY
#include <libunwind.h>

const int gr_bt_available = 1;

/* libunwind's local unwinder, from libunwind.so.8 (libunwind8, which
 * libunwind-dev brings); all NULL when it cannot be loaded. */
static struct {
	int tried;
	__typeof__(unw_init_local) *init_local;
	__typeof__(unw_step) *step;
	__typeof__(unw_get_reg) *get_reg;
} unw;

static int unw_load(void)
{
	void *h;

	if (unw.tried)
		return unw.step ? 0 : -ENOENT;
	unw.tried = 1;
	h = gr_real.dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL);
	if (!h)
		return -ENOENT;
	/* The names behind the macros of UNW_LOCAL_ONLY. */
	unw.init_local = (__typeof__(unw.init_local))dlsym(h, "_ULx86_64_init_local");
	unw.get_reg = (__typeof__(unw.get_reg))dlsym(h, "_ULx86_64_get_reg");
	unw.step = (__typeof__(unw.step))dlsym(h, "_ULx86_64_step");
	if (!unw.init_local || !unw.get_reg || !unw.step) {
		unw.step = NULL;
		return -ENOENT;
	}
	return 0;
}

int gr_bt_ready(void)
{
	return unw_load() == 0;
}

/* The registers t resumes with, as a ucontext for unw_init_local; the
 * stack pointer into *sp0. The assembly switch left (arch/x86_64.S), from
 * its saved stack pointer up: MXCSR and x87 word, r15, r14, r13, r12, rbx,
 * rbp, the resume address; the ucontext switch saved a ucontext_t. */
static int regs_of(const struct gr_thread *t, ucontext_t *uc, uintptr_t *sp0)
{
	greg_t *g = uc->uc_mcontext.gregs;

	memset(uc, 0, sizeof(*uc));
	if (gr_ctx_ucontext) {
		if (!t->ctx.uc)
			return -EINVAL;
		memcpy(g, t->ctx.uc->uc_mcontext.gregs, sizeof(gregset_t));
	} else {
		const uintptr_t *f = t->ctx.sp;
		if (!f)
			return -EINVAL;
		g[REG_R15] = (greg_t)f[1];
		g[REG_R14] = (greg_t)f[2];
		g[REG_R13] = (greg_t)f[3];
		g[REG_R12] = (greg_t)f[4];
		g[REG_RBX] = (greg_t)f[5];
		g[REG_RBP] = (greg_t)f[6];
		g[REG_RIP] = (greg_t)f[7];
		g[REG_RSP] = (greg_t)(f + 8);
	}
	*sp0 = (uintptr_t)g[REG_RSP];
	return 0;
}

int gr_bt_unwind(const struct gr_thread *t, struct gr_bt *bt)
{
	ucontext_t uc;
	unw_cursor_t c;
	uintptr_t sp0;

	bt->n = 0;
	if (!gr_bt_ready() || regs_of(t, &uc, &sp0) < 0 || unw.init_local(&c, &uc) < 0)
		return -EINVAL;
	do {
		unw_word_t ip = 0, sp = 0;
		unw.get_reg(&c, UNW_REG_IP, &ip);
		unw.get_reg(&c, UNW_REG_SP, &sp);
		if (!ip)
			break;
		/* A caller's return address is the word below its frame's
		 * stack pointer after the return (x86_64's call). */
		if (bt->n > 0 && (sp < sp0 + 8 || sp - 8 - sp0 > UINT32_MAX))
			break;
		bt->ip[bt->n] = ip;
		bt->at[bt->n] = bt->n ? (uint32_t)(sp - 8 - sp0) : 0;
		bt->n++;
	} while (bt->n < GR_BT_MAX && unw.step(&c) > 0);
	return 0;
}

uintptr_t gr_bt_resume_ip(const struct gr_thread *t)
{
	if (gr_ctx_ucontext)
		return t->ctx.uc ? (uintptr_t)t->ctx.uc->uc_mcontext.gregs[REG_RIP] : 0;
	return t->ctx.sp ? ((const uintptr_t *)t->ctx.sp)[7] : 0;
}

uintptr_t gr_bt_key(const struct gr_thread *t)
{
	uintptr_t sp = gr_ctx_ucontext
			       ? (t->ctx.uc ? (uintptr_t)t->ctx.uc->uc_mcontext.gregs[REG_RSP] : 0)
			       : (uintptr_t)t->ctx.sp;
	/* From its control block, which sits at the top of its stack (below
	 * its TLS, at a slot's colour offset): the same for equal stacks. */
	uintptr_t depth = (uintptr_t)t - sp;

	return gr_bt_resume_ip(t) ^ (depth * 0x9e3779b97f4a7c15u);
}

/* Called for every thread of a dump: reads the two words it needs, no
 * whole ucontext. */
int gr_bt_same(const struct gr_thread *t, const struct gr_bt *bt)
{
	uintptr_t sp0, top = (uintptr_t)t->stack.lo + t->stack.size;

	if (!t->stack.lo || bt->n == 0 || gr_bt_resume_ip(t) != bt->ip[0])
		return 0;
	if (gr_ctx_ucontext)
		sp0 = (uintptr_t)t->ctx.uc->uc_mcontext.gregs[REG_RSP];
	else
		sp0 = (uintptr_t)t->ctx.sp + 64; /* above the frame regs_of reads */
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

uintptr_t gr_bt_key(const struct gr_thread *t)
{
	(void)t;
	return 0;
}

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

uintptr_t gr_bt_resume_ip(const struct gr_thread *t)
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

/* file:line where a file has DWARF line tables: libdw's dwfl, from
 * libdw.so.1 (libdw1), loaded RTLD_LOCAL at the first dump too, over the
 * modules /proc/self/maps lists. Separate debug files only from the local
 * build-id tree (/usr/lib/debug/.build-id): never debuginfod, whose
 * network fetches a dump must not wait for. The modules are the objects
 * dl_iterate_phdr lists, not /proc/self/maps, whose lines a process of
 * 100,000 threads counts by the hundred thousand. The session is kept
 * from one dump to the next (reading line tables is most of a dump's
 * time) until an object is loaded or unloaded. */
#if __has_include(<elfutils/libdwfl.h>)
#include <elfutils/libdwfl.h>
#define LINES 1

static struct {
	int tried;
	Dwfl *dwfl;		/* the modules of the objects loaded at gen */
	unsigned long long gen; /* dlpi_adds + dlpi_subs of then */
	Dwfl_Callbacks cb;
	__typeof__(dwfl_begin) *begin;
	__typeof__(dwfl_end) *end;
	__typeof__(dwfl_report_elf) *report_elf;
	__typeof__(dwfl_report_end) *report_end;
	__typeof__(dwfl_addrmodule) *addrmodule;
	__typeof__(dwfl_module_getsrc) *getsrc;
	__typeof__(dwfl_lineinfo) *lineinfo;
	__typeof__(dwfl_module_addrinfo) *addrinfo;
} dw;

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

static int objects_gen(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds + info->dlpi_subs;
	return 1;
}

static Dwfl *dw_session(void)
{
	unsigned long long gen = 0;
	void *h;

	dl_iterate_phdr(objects_gen, &gen);
	if (dw.dwfl && gen != dw.gen) {
		dw.end(dw.dwfl);
		dw.dwfl = NULL;
	}
	if (dw.dwfl)
		return dw.dwfl;
	dw.gen = gen;
	if (dw.begin)
		goto session;
	if (dw.tried)
		return NULL;
	dw.tried = 1;
	h = gr_real.dlopen("libdw.so.1", RTLD_LAZY | RTLD_LOCAL);
	if (!h)
		return NULL;
#define DW(field, name) dw.field = (__typeof__(dw.field))dlsym(h, name)
	DW(begin, "dwfl_begin");
	DW(end, "dwfl_end");
	DW(report_elf, "dwfl_report_elf");
	DW(report_end, "dwfl_report_end");
	DW(addrmodule, "dwfl_addrmodule");
	DW(getsrc, "dwfl_module_getsrc");
	DW(lineinfo, "dwfl_lineinfo");
	DW(addrinfo, "dwfl_module_addrinfo");
	dw.cb.find_debuginfo =
		(__typeof__(dw.cb.find_debuginfo))dlsym(h, "dwfl_build_id_find_debuginfo");
#undef DW
	if (!dw.begin || !dw.end || !dw.report_elf || !dw.report_end || !dw.addrmodule ||
	    !dw.getsrc || !dw.lineinfo || !dw.addrinfo || !dw.cb.find_debuginfo) {
		dw.begin = NULL; /* no lines, for good */
		return NULL;
	}
session:
	dw.dwfl = dw.begin(&dw.cb);
	if (!dw.dwfl)
		return NULL;
	dl_iterate_phdr(report_object, NULL);
	if (dw.report_end(dw.dwfl, NULL, NULL) != 0) {
		dw.end(dw.dwfl);
		dw.dwfl = NULL;
	}
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
#else
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
}

int gr_bt_in_runtime(uintptr_t ip)
{
	static void *ours;
	Dl_info d;

	if (!ours && dladdr((void *)gr_bt_in_runtime, &d))
		ours = d.dli_fbase;
	return dladdr((void *)(ip - 1), &d) && d.dli_fbase == ours;
}
