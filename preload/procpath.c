/* /proc paths that name a green thread by its id: /proc/self/task/TID,
 * /proc/PID/task/TID and /proc/TID (TID from gettid()) name no task the
 * kernel knows, so the calls that take a path rewrite them to the OS
 * thread's entries, which every green thread shares (runtime/tid.h):
 * opendir, stat, stat64, lstat, lstat64, fstatat, fstatat64, statx,
 * access, readlink here; the opens (open, openat, creat, their 64-bit and
 * fortified names, fopen, fopen64) in open.c's hooks, freopen in
 * stdio_ctl.c's, which make the same rewrite (procpath.h) before their
 * green open. Anything else, and every call of a thread that is not green,
 * is passed on as it is. /proc/thread-self is the OS thread already. What
 * such an entry shows is the OS thread's: its comm is the process's name,
 * its stat and schedstat the sum of every green thread (README). */
#include "hook.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procpath.h"

#define MAP(path, buf) GR_PROC_PATH(path, buf)

GR_EXPORT DIR *opendir(const char *path)
{
	char buf[PATH_MAX];

	return GR_REAL(opendir)(MAP(path, buf));
}

GR_EXPORT int stat(const char *restrict path, struct stat *restrict st)
{
	char buf[PATH_MAX];

	return GR_REAL(stat)(MAP(path, buf), st);
}

GR_EXPORT int stat64(const char *restrict path, struct stat64 *restrict st)
{
	char buf[PATH_MAX];

	return GR_REAL(stat64)(MAP(path, buf), st);
}

GR_EXPORT int lstat(const char *restrict path, struct stat *restrict st)
{
	char buf[PATH_MAX];

	return GR_REAL(lstat)(MAP(path, buf), st);
}

GR_EXPORT int lstat64(const char *restrict path, struct stat64 *restrict st)
{
	char buf[PATH_MAX];

	return GR_REAL(lstat64)(MAP(path, buf), st);
}

GR_EXPORT int fstatat(int dirfd, const char *restrict path, struct stat *restrict st, int flags)
{
	char buf[PATH_MAX];

	return GR_REAL(fstatat)(dirfd, MAP(path, buf), st, flags);
}

GR_EXPORT int fstatat64(int dirfd, const char *restrict path, struct stat64 *restrict st, int flags)
{
	char buf[PATH_MAX];

	return GR_REAL(fstatat64)(dirfd, MAP(path, buf), st, flags);
}

GR_EXPORT int statx(int dirfd, const char *restrict path, int flags, unsigned int mask,
		    struct statx *restrict st)
{
	char buf[PATH_MAX];

	return GR_REAL(statx)(dirfd, MAP(path, buf), flags, mask, st);
}

GR_EXPORT int access(const char *path, int mode)
{
	char buf[PATH_MAX];

	return GR_REAL(access)(MAP(path, buf), mode);
}

GR_EXPORT ssize_t readlink(const char *restrict path, char *restrict out, size_t len)
{
	char buf[PATH_MAX];

	return GR_REAL(readlink)(MAP(path, buf), out, len);
}
