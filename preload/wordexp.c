/* wordexp runs a shell for the command substitutions and arithmetic in its
 * words, reading its output and waiting for it through glibc's internal
 * calls, for as long as the commands take: on a worker thread while the
 * green thread parks, to its end (a handler does not end it natively
 * either). wordfree does no I/O. */
#include <wordexp.h>

#include "work.h"

struct wjob {
	const char *words;
	wordexp_t *we;
	int flags;
	int r, err;
};

static long run(void *p)
{
	struct wjob *j = p;

	errno = j->err;
	j->r = GR_REAL(wordexp)(j->words, j->we, j->flags);
	j->err = errno;
	return 0;
}

GR_EXPORT int wordexp(const char *restrict words, wordexp_t *restrict we, int flags)
{
	struct wjob j = {words, we, flags, 0, errno};
	long r;

	if (!gr_green() || gr_work(run, &j, 0, &r) < 0)
		return GR_REAL(wordexp)(words, we, flags);
	errno = j.err;
	gr_maybe_yield();
	return j.r;
}
