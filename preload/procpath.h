/* The /proc path rewrite every hook that takes a path makes first
 * (procpath.c, and the opens, which are open.c's): a path that names a
 * green thread by its id becomes the OS thread's (runtime/tid.h). */
#ifndef GR_PRELOAD_PROCPATH_H
#define GR_PRELOAD_PROCPATH_H

#include <limits.h>
#include <stddef.h>

#include "hook.h"

#include "../runtime/tid.h"
#include "../runtime/uaccess.h"

/* The path to use: path, or its rewrite in buf. glibc declares the path
 * nonnull, yet a program may pass NULL or an address it cannot read, and
 * get the kernel's EFAULT: the first byte is looked at through a copy that
 * cannot fault (one system call), and the barrier keeps the compiler from
 * dropping the NULL test. A readable '/' that is not the string's end
 * makes the next byte readable too. */
static inline const char *gr_proc_path(const char *path, char *buf, size_t cap)
{
	const char *p = path;
	char c;

	__asm__("" : "+r"(p));
	if (p == NULL || !gr_green() || gr_copy_in(&c, p, 1) < 0)
		return path;
	if (__builtin_expect(c == '/' && p[1] == 'p', 0))
		return gr_tid_map_path(p, buf, cap);
	return path;
}
#define GR_PROC_PATH(path, buf) gr_proc_path((path), (buf), sizeof(buf))

#endif
