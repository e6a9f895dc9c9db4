/* The /proc path rewrite every hook that takes a path makes first
 * (procpath.c, and the opens, which are open.c's): a path that names a
 * green thread by its id becomes the OS thread's (runtime/tid.h). */
#ifndef GR_PRELOAD_PROCPATH_H
#define GR_PRELOAD_PROCPATH_H

#include <limits.h>
#include <stddef.h>

#include "hook.h"

#include "../runtime/tid.h"

/* The path to use: path, or its rewrite in buf. glibc declares the path
 * nonnull, yet a program may pass NULL (and get EFAULT): the barrier keeps
 * the compiler from dropping the test. */
static inline const char *gr_proc_path(const char *path, char *buf, size_t cap)
{
	const char *p = path;

	__asm__("" : "+r"(p));
	if (__builtin_expect(p != NULL && p[0] == '/' && p[1] == 'p', 0) && gr_green())
		return gr_tid_map_path(p, buf, cap);
	return path;
}
#define GR_PROC_PATH(path, buf) gr_proc_path((path), (buf), sizeof(buf))

#endif
