/* Hazard: a call that takes a path, given an address the program cannot
 * read, fails with EFAULT natively (the kernel checks the copy); the
 * preload's /proc rewrite (a path naming a green thread's id) read the
 * path's first bytes itself and the process died of SIGSEGV (LTP
 * creat06). Checked in a thread: the opens, the stats, access, readlink;
 * and a NULL path (glibc's opendir reads the path itself, natively too). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "check.h"

static void *in_thread(void *arg)
{
	const char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct stat st;
	char link[16];
	int r;

	(void)arg;
	MUST(bad == MAP_FAILED ? -1 : 0);
#define EXPECT_EFAULT(call, what)                                                          \
	do {                                                                               \
		errno = 0;                                                                 \
		r = (call);                                                                \
		CHECK_ERR(r < 0 ? errno : 0, EFAULT, what);                                \
	} while (0)
	EXPECT_EFAULT(open(bad, O_RDONLY), "open(unreadable path)");
	EXPECT_EFAULT(open(bad, O_WRONLY | O_CREAT, 0600), "open(unreadable path, O_CREAT)");
	EXPECT_EFAULT(openat(AT_FDCWD, bad, O_RDONLY), "openat(unreadable path)");
	EXPECT_EFAULT(creat(bad, 0600), "creat(unreadable path)");
	EXPECT_EFAULT(stat(bad, &st), "stat(unreadable path)");
	EXPECT_EFAULT(lstat(bad, &st), "lstat(unreadable path)");
	EXPECT_EFAULT(fstatat(AT_FDCWD, bad, &st, 0), "fstatat(unreadable path)");
	EXPECT_EFAULT(access(bad, F_OK), "access(unreadable path)");
	EXPECT_EFAULT((int)readlink(bad, link, sizeof(link)), "readlink(unreadable path)");
	{
		const char *volatile null_path = NULL;
		EXPECT_EFAULT(open(null_path, O_RDONLY), "open(NULL)");
	}
	munmap((void *)bad, 4096);
	return NULL;
}

int main(void)
{
	run_thread(in_thread, NULL);
	return check_done();
}
