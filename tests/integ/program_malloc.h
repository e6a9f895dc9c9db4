/* A program's own malloc, calloc, realloc and free, as an allocator with
 * locks of its own (jemalloc's) is one: each calls the program's
 * heap_enter() and heap_leave(), which it defines before including this,
 * around glibc's allocator (__libc_malloc and its kin, exported). What
 * the two do (a mutex, a condition wait, an rwlock's read lock) is the
 * program's hazard. */
#ifndef INTEG_PROGRAM_MALLOC_H
#define INTEG_PROGRAM_MALLOC_H

#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n)
{
	heap_enter();
	void *p = __libc_malloc(n);
	heap_leave();
	return p;
}

void *calloc(size_t k, size_t n)
{
	heap_enter();
	void *p = __libc_calloc(k, n);
	heap_leave();
	return p;
}

void *realloc(void *old, size_t n)
{
	heap_enter();
	void *p = __libc_realloc(old, n);
	heap_leave();
	return p;
}

void free(void *p)
{
	heap_enter();
	__libc_free(p);
	heap_leave();
}

#endif
