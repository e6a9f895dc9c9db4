#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fdwait.h"
#include "real.h"
#include "sched.h"

int gr_ready_wait(int *fd, int what, int64_t deadline, int restart)
{
	int w = gr_fd_wait_hold(fd, what, deadline);

	switch (w) {
	case -EPERM: return 0; /* not pollable: the call does not wait on it */
	case -EINTR:
		/* signal(7): restarted under SA_RESTART; a cancellation
		 * clears sig_restart. */
		return restart && gr_rt.cur->sig_restart ? 0 : -EINTR;
	default: return w;
	}
}

enum gr_file_type gr_file_type(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return GR_KIND_BAD;
	if (S_ISFIFO(st.st_mode))
		return GR_KIND_PIPE;
	if (S_ISSOCK(st.st_mode))
		return GR_KIND_SOCK;
	if (S_ISCHR(st.st_mode))
		return GR_KIND_OTHER;
	return GR_KIND_FILE;
}

int gr_fd_nonblocking(int fd)
{
	int fl = gr_real.fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : !!(fl & O_NONBLOCK);
}
