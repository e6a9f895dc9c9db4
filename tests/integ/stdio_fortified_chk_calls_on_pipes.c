/* Hazard: a program built with -D_FORTIFY_SOURCE=2, as Debian builds its
 * packages, calls the _chk forms of stdio (__fgets_chk, __fread_chk,
 * __printf_chk, __fprintf_chk, __vfprintf_chk, __dprintf_chk...), not the
 * plain names. Those too must park only their thread: a line arrives in
 * pieces from another thread, paced by a ticker, and what is written to a
 * pipe is drained by another thread. The program checks in its own dynamic
 * symbol table that it really imports the _chk names. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#if !defined(__USE_FORTIFY_LEVEL) || __USE_FORTIFY_LEVEL < 2
#error "built without _FORTIFY_SOURCE=2: the _chk forms would not be called"
#endif

static int in[2], out[2];
static atomic_int ticks, stop;

static void *ticker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		atomic_fetch_add(&ticks, 1);
		sleep_ms(1);
	}
	return NULL;
}

static void piece(const char *s)
{
	int t = atomic_load(&ticks);

	while (atomic_load(&ticks) < t + 2)
		sleep_ms(1);
	if (write(in[1], s, strlen(s)) != (ssize_t)strlen(s))
		abort();
}

static void *feeder(void *arg)
{
	(void)arg;
	piece("fort");
	piece("ified\nREC");
	piece("ORD!unlo");
	piece("cked\n");
	close(in[1]);
	return NULL;
}

static char drained[256];

static void *drainer(void *arg)
{
	size_t got = 0;
	ssize_t n;

	(void)arg;
	while (got < sizeof(drained) - 1 &&
	       (n = read(out[0], drained + got, sizeof(drained) - 1 - got)) > 0)
		got += (size_t)n;
	return NULL;
}

static int vf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

/* Whether this program's dynamic symbol table names sym (its .dynsym
 * comes right before its .dynstr, as ld lays them out). */
static int imports(const char *sym)
{
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;

	for (const ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			symtab = (const ElfW(Sym) *)d->d_un.d_ptr;
		if (d->d_tag == DT_STRTAB)
			strtab = (const char *)d->d_un.d_ptr;
	}
	if (!symtab || !strtab || (const char *)symtab > strtab)
		return 0;
	for (const ElfW(Sym) *s = symtab; (const char *)(s + 1) <= strtab; s++)
		if (!strcmp(strtab + s->st_name, sym))
			return 1;
	return 0;
}

int main(void)
{
	static const char *const chk[] = {"__fgets_chk",    "__fread_chk",	     "__printf_chk",
					  "__fprintf_chk",  "__vfprintf_chk",	     "__dprintf_chk",
					  "__fgets_unlocked_chk"};
	pthread_t tk, fe, dr;
	char line[16], rec[8];
	/* Sizes the compiler cannot see: the checks are left to the _chk
	 * forms at run time (with constants that fit it calls the plain ones). */
	volatile int linelen = sizeof(line);
	volatile size_t reclen = sizeof(rec);
	FILE *r, *w;

	for (size_t i = 0; i < sizeof(chk) / sizeof(chk[0]); i++)
		CHECK(imports(chk[i]), "the program imports %s", chk[i]);
	MUST(pipe(in));
	MUST(pipe(out));
	r = fdopen(in[0], "r");
	w = fdopen(out[1], "w");
	if (!r || !w)
		return 2;
	MUST(pthread_create(&tk, NULL, ticker, NULL));
	MUST(pthread_create(&fe, NULL, feeder, NULL));
	MUST(pthread_create(&dr, NULL, drainer, NULL));

	CHECK(fgets(line, linelen, r) && !strcmp(line, "fortified\n"),
	      "__fgets_chk gets a line from two pieces");
	CHECK(fread(rec, 1, reclen, r) == 8 && !memcmp(rec, "RECORD!u", 8),
	      "__fread_chk gets a record from two pieces");
	flockfile(r);
	CHECK(fgets_unlocked(line, linelen, r) && !strcmp(line, "nlocked\n"),
	      "__fgets_unlocked_chk gets the rest");
	funlockfile(r);
	CHECK(fgets(line, linelen, r) == NULL && feof(r), "then EOF");
	MUST(pthread_join(fe, NULL));

	CHECK(fprintf(w, "%s %d\n", "fprintf", 1) == 10, "__fprintf_chk");
	CHECK(vf(w, "%s %d\n", "vfprintf", 2) == 11, "__vfprintf_chk");
	CHECK(fflush(w) == 0, "fflush");
	CHECK(dprintf(out[1], "%s %d\n", "dprintf", 3) == 10, "__dprintf_chk");
	fclose(w); /* closes out[1]: the drainer sees EOF */
	MUST(pthread_join(dr, NULL));
	CHECK(!strcmp(drained, "fprintf 1\nvfprintf 2\ndprintf 3\n"), "the drainer got all three");
	printf("__printf_chk prints %s\n", "this");
	CHECK(atomic_load(&ticks) >= 8, "the ticker ran meanwhile");
	atomic_store(&stop, 1);
	MUST(pthread_join(tk, NULL));
	fclose(r);
	close(out[0]);
	return check_done();
}
